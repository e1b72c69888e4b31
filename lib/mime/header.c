/* RFC 5322 header fields: the header block, field splitting, unfolding,
 * obsolete syntax (RFC 5322 4.5: white space before the colon), all bounded. */
#include <string.h>

#include "mime_int.h"

/* A field name: printable US-ASCII except ':' (RFC 5322 2.2, 3.6.8), then
 * optional WSP (obs-optional), then ':'. Returns the name length or 0. */
static size_t field_name_len(const char *d, size_t pos, size_t end, size_t *colon_r)
{
    size_t q = pos;
    while (q < end && (unsigned char)d[q] > 32 && (unsigned char)d[q] < 127 && d[q] != ':')
        q++;
    size_t name_end = q;
    while (q < end && MIME_IS_WSP(d[q]))
        q++;
    if (name_end == pos || q >= end || d[q] != ':')
        return 0;
    *colon_r = q;
    return name_end - pos;
}

static size_t line_next(const char *d, size_t pos, size_t end)
{
    const char *nl = memchr(d + pos, '\n', end - pos);
    return nl != NULL ? (size_t)(nl - d) + 1 : end;
}

static bool line_is_blank(const char *d, size_t pos, size_t end)
{
    return pos < end && (d[pos] == '\n' || (d[pos] == '\r' && pos + 1 < end && d[pos + 1] == '\n'));
}

size_t mime_header_end(const char *d, size_t start, size_t end, size_t *header_len_r)
{
    size_t pos = start;
    while (pos < end) {
        if (line_is_blank(d, pos, end)) {
            size_t body = line_next(d, pos, end);
            *header_len_r = body - start;
            return body;
        }
        size_t colon;
        bool cont = MIME_IS_WSP(d[pos]) && pos > start;
        if (!cont && pos == start && field_name_len(d, pos, end, &colon) == 0) {
            /* The first line is not a header field: the part has no header
             * (a common breakage), its body starts here. A malformed line
             * after a real field is skipped instead, as Dovecot does. */
            *header_len_r = 0;
            return pos;
        }
        pos = line_next(d, pos, end);
    }
    *header_len_r = end - start;
    return end;
}

/* Removes the line break at the end of a field's last line. */
static size_t trim_eol(const char *d, size_t start, size_t e)
{
    if (e > start && d[e - 1] == '\n')
        e--;
    if (e > start && d[e - 1] == '\r')
        e--;
    return e;
}

void mime_header_fields(mime_message *m, mime_part *part)
{
    const char *d = m->data;
    size_t end = part->header_off + part->header_len;
    size_t limit = part->header_off + (part->header_len < m->limits.max_header_bytes
                                           ? part->header_len
                                           : m->limits.max_header_bytes);
    size_t max = m->limits.max_header_fields, n = 0;
    /* count the fields first, so one array holds them */
    size_t count = 0;
    for (size_t pos = part->header_off; pos < limit && count < max; pos = line_next(d, pos, end))
        if (!MIME_IS_WSP(d[pos]) && !line_is_blank(d, pos, end))
            count++;
    if (count == 0)
        return;
    mime_field *f = mime_alloc(m, count * sizeof(*f));
    if (f == NULL)
        return;
    size_t pos = part->header_off;
    while (pos < limit && n < count) {
        size_t colon, fstart = pos;
        size_t nlen = field_name_len(d, pos, end, &colon);
        pos = line_next(d, pos, end);
        while (pos < end && MIME_IS_WSP(d[pos])) /* continuation lines (RFC 5322 2.2.3) */
            pos = line_next(d, pos, end);
        if (nlen == 0 || pos - fstart > m->limits.max_line || pos > limit)
            continue; /* malformed, over-long or past the limit: skipped */
        f[n].name_off = fstart;
        f[n].name_len = nlen;
        f[n].value_off = colon + 1;
        f[n].value_len = trim_eol(d, colon + 1, pos) - (colon + 1);
        n++;
    }
    part->fields = f;
    part->nfields = n;
}

const mime_field *mime_field_find(const char *d, const mime_part *part, const char *name)
{
    for (size_t i = 0; i < part->nfields; i++)
        if (mime_strnieq(d + part->fields[i].name_off, part->fields[i].name_len, name))
            return &part->fields[i];
    return NULL;
}

int mime_field_unfold(buf *out, const char *d, const mime_field *f)
{
    const char *s = d + f->value_off, *e = s + f->value_len;
    while (s < e && (MIME_IS_WSP(*s) || *s == '\r' || *s == '\n'))
        s++;
    while (e > s && (MIME_IS_WSP(e[-1]) || e[-1] == '\r' || e[-1] == '\n'))
        e--;
    /* RFC 5322 2.2.3: unfolding removes the CRLF before WSP; stray CR, LF
     * and NUL are dropped too so the value is one clean line. */
    while (s < e) {
        const char *run = s;
        while (s < e && *s != '\r' && *s != '\n' && *s != '\0')
            s++;
        if (s > run && buf_append(out, run, (size_t)(s - run)) < 0)
            return -1;
        while (s < e && (*s == '\r' || *s == '\n' || *s == '\0'))
            s++;
    }
    return 0;
}

char *mime_field_value(mime_message *m, const mime_part *part, const char *name)
{
    const mime_field *f = mime_field_find(m->data, part, name);
    if (f == NULL)
        return NULL;
    /* unfolding only shrinks: cut the input so the cap is never hit and a
     * failure can only mean out of memory */
    mime_field cut = *f;
    if (cut.value_len > m->limits.max_value)
        cut.value_len = m->limits.max_value;
    buf b;
    buf_init(&b, m->limits.max_value + 1);
    if (mime_field_unfold(&b, m->data, &cut) < 0) {
        buf_free(&b);
        m->oom = true;
        return NULL;
    }
    char *v = mime_strndup(m, b.data != NULL ? b.data : "", b.len);
    buf_free(&b);
    return v;
}
