/* FETCH body sections of a stored message (see imap_body.h). */
#include "imap_body.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Part 1 of a multipart without any part (mime.h: BODYSTRUCTURE shows one
 * empty text/plain part): no header, no body. */
static const mime_part body_empty_part = {
    .section = "",
    .type = "text",
    .subtype = "plain",
    .type_defaulted = true,
};

/* What a section resolves to: octets, or NIL. */
typedef struct body_slice {
    const char *data;
    size_t len;
    bool nil;
} body_slice;

static int body_fail(imap_error *e, imap_resp resp, const char *code, const char *text)
{
    if (e != NULL) {
        e->resp = resp;
        e->code = code;
        e->text = text;
    }
    return -1;
}

static int body_full(imap_error *e)
{
    return body_fail(e, IMAP_RESP_NO, IMAP_CODE_LIMIT, "FETCH section too large for memory");
}

/* raw[off..off+n) as the slice; the tree's offsets are into raw, so this
 * only fails when the caller passed another message than the parsed one. */
static int body_run(const char *raw, size_t len, size_t off, size_t n, body_slice *s, imap_error *e)
{
    if (off > len || n > len - off)
        return body_fail(e, IMAP_RESP_NO, NULL, "message does not match its structure");
    s->data = raw + off;
    s->len = n;
    s->nil = false;
    return 0;
}

static bool body_ascii_eq(const char *a, const char *b, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char x = (unsigned char)a[i], y = (unsigned char)b[i];
        if (x >= 'A' && x <= 'Z')
            x = (unsigned char)(x + 32);
        if (y >= 'A' && y <= 'Z')
            y = (unsigned char)(y + 32);
        if (x != y)
            return false;
    }
    return true;
}

/* ---- part numbers ---------------------------------------------------- */

/* The part a section's numbers name (RFC 9051 6.4.5, the rules of
 * mime_section), or NULL when there is none. */
static const mime_part *body_resolve(const mime_message *msg, const imap_section *sec)
{
    const mime_part *cur = mime_root(msg);
    for (size_t i = 0; i < sec->nparts; i++) {
        uint32_t n = sec->part[i];
        if (n == 0)
            return NULL;
        if (i == 0 && !cur->is_multipart) { /* a non-multipart message: its body is 1 */
            if (n != 1)
                return NULL;
            continue;
        }
        const mime_part *base = cur;
        if (cur->is_message) { /* the parts of the encapsulated message */
            base = mime_part_message(cur);
            if (base == NULL)
                return NULL;
            if (!base->is_multipart) {
                if (n != 1)
                    return NULL;
                cur = base;
                continue;
            }
        }
        if (!base->is_multipart)
            return NULL;
        if (base->nchildren == 0) { /* BODYSTRUCTURE's one empty part */
            if (n != 1)
                return NULL;
            cur = &body_empty_part;
            continue;
        }
        if (n > base->nchildren)
            return NULL;
        cur = base->children[n - 1];
    }
    return cur;
}

/* ---- HEADER.FIELDS ---------------------------------------------------- */

typedef struct body_name {
    const char *s;
    size_t len;
} body_name;

/* By length, then ASCII case-insensitively. */
static int body_name_cmp(const void *a, const void *b)
{
    const body_name *x = a, *y = b;
    if (x->len != y->len)
        return x->len < y->len ? -1 : 1;
    for (size_t i = 0; i < x->len; i++) {
        unsigned char c = (unsigned char)x->s[i], d = (unsigned char)y->s[i];
        if (c >= 'A' && c <= 'Z')
            c = (unsigned char)(c + 32);
        if (d >= 'A' && d <= 'Z')
            d = (unsigned char)(d + 32);
        if (c != d)
            return c < d ? -1 : 1;
    }
    return 0;
}

/* The name of the field starting at h[pos] (RFC 5322 3.6.8 ftext, then
 * optional WSP as in obs-optional, then ':'), or length 0. */
static size_t body_field_name(const char *h, size_t pos, size_t end)
{
    size_t q = pos;
    while (q < end && (unsigned char)h[q] > 32 && (unsigned char)h[q] < 127 && h[q] != ':')
        q++;
    size_t name_end = q;
    while (q < end && (h[q] == ' ' || h[q] == '\t'))
        q++;
    return q < end && h[q] == ':' ? name_end - pos : 0;
}

static size_t body_line_next(const char *h, size_t pos, size_t end)
{
    const char *nl = memchr(h + pos, '\n', end - pos);
    return nl != NULL ? (size_t)(nl - h) + 1 : end;
}

static bool body_line_blank(const char *h, size_t pos, size_t end)
{
    return h[pos] == '\n' || (h[pos] == '\r' && pos + 1 < end && h[pos + 1] == '\n');
}

/* Appends the lines of the header block h[start..end) that HEADER.FIELDS
 * (exclude false) or HEADER.FIELDS.NOT (exclude true) of names keeps: whole fields
 * with their continuation lines, in order, then the blank line if the
 * block has one. */
static int body_filter(buf *out, const char *h, size_t start, size_t end, const body_name *names,
                       size_t n, bool exclude)
{
    size_t pos = start, run = start, run_end = start;
    while (pos < end && !body_line_blank(h, pos, end)) {
        size_t field = pos;
        size_t nlen = body_field_name(h, pos, end);
        pos = body_line_next(h, pos, end);
        while (pos < end && (h[pos] == ' ' || h[pos] == '\t')) /* RFC 5322 2.2.3 folding */
            pos = body_line_next(h, pos, end);
        bool match = false;
        if (nlen > 0 && n > 0) {
            body_name key = {h + field, nlen};
            match = bsearch(&key, names, n, sizeof(*names), body_name_cmp) != NULL;
        }
        if (match != exclude) { /* kept: extend the run of kept octets */
            if (run_end != field) {
                if (run_end > run && buf_append(out, h + run, run_end - run) < 0)
                    return -1;
                run = field;
            }
            run_end = pos;
        }
    }
    if (run_end > run && buf_append(out, h + run, run_end - run) < 0)
        return -1;
    /* a last field cut off without its line break (only possible at the
     * end of the block) */
    if (run_end > run && run_end == pos && h[pos - 1] != '\n' && buf_append(out, "\r\n", 2) < 0)
        return -1;
    if (pos < end && buf_append(out, h + pos, end - pos) < 0) /* the blank line */
        return -1;
    return 0;
}

/* HEADER.FIELDS[.NOT] of the header block of p, built in out. */
static int body_fields(const char *raw, size_t len, const mime_part *p, const imap_section *sec,
                       buf *out, body_slice *s, imap_error *e)
{
    body_slice h;
    if (body_run(raw, len, p->header_off, p->header_len, &h, e) < 0)
        return -1;
    body_name *names = NULL;
    size_t n = sec->fields != NULL ? sec->nfields : 0;
    if (n > 0) {
        names = malloc(n * sizeof(*names));
        if (names == NULL)
            return body_full(e);
        for (size_t i = 0; i < n; i++) {
            names[i].s = sec->fields[i];
            names[i].len = strlen(sec->fields[i]);
        }
        qsort(names, n, sizeof(*names), body_name_cmp);
    }
    int rc =
        body_filter(out, h.data, 0, h.len, names, n, sec->text == IMAP_SECTION_HEADER_FIELDS_NOT);
    free(names);
    if (rc < 0)
        return body_full(e);
    s->data = out->data != NULL ? out->data : "";
    s->len = out->len;
    s->nil = false;
    return 0;
}

/* ---- BODY[...] --------------------------------------------------------- */

/* HEADER, HEADER.FIELDS[.NOT] or TEXT of the message m. */
static int body_message_text(const char *raw, size_t len, const mime_part *m,
                             const imap_section *sec, buf *out, body_slice *s, imap_error *e)
{
    switch (sec->text) {
    case IMAP_SECTION_HEADER:
        return body_run(raw, len, m->header_off, m->header_len, s, e);
    case IMAP_SECTION_TEXT:
        return body_run(raw, len, m->body_off, m->body_len, s, e);
    case IMAP_SECTION_HEADER_FIELDS:
    case IMAP_SECTION_HEADER_FIELDS_NOT:
        return body_fields(raw, len, m, sec, out, s, e);
    default:
        return body_fail(e, IMAP_RESP_BAD, NULL, "invalid section");
    }
}

static int body_section_octets(const char *raw, size_t len, const mime_message *msg,
                               const imap_section *sec, buf *out, body_slice *s, imap_error *e)
{
    if (sec->nparts == 0) {
        if (sec->text == IMAP_SECTION_NONE)
            return body_run(raw, len, 0, len, s, e);
        if (sec->text == IMAP_SECTION_MIME)
            return body_fail(e, IMAP_RESP_BAD, NULL, "MIME needs a part number");
        return body_message_text(raw, len, mime_root(msg), sec, out, s, e);
    }
    const mime_part *p = body_resolve(msg, sec);
    if (p == NULL) { /* no such part: NIL (imap_body.h) */
        s->nil = true;
        return 0;
    }
    if (p == &body_empty_part) { /* its offsets (0, 0) are into nothing */
        raw = "";
        len = 0;
    }
    if (sec->text == IMAP_SECTION_NONE)
        return body_run(raw, len, p->body_off, p->body_len, s, e);
    if (sec->text == IMAP_SECTION_MIME)
        return body_run(raw, len, p->header_off, p->header_len, s, e);
    const mime_part *m = mime_part_message(p);
    if (m == NULL) { /* HEADER / TEXT of a part that is no message: NIL */
        s->nil = true;
        return 0;
    }
    return body_message_text(raw, len, m, sec, out, s, e);
}

/* ---- BINARY[...] ------------------------------------------------------- */

/* Whether data has a CR or LF that is not part of a CRLF. */
static bool body_bare_eol(const char *d, size_t n)
{
    for (const char *p = d, *e = d + n; p < e; p++) {
        p = memchr(p, '\n', (size_t)(e - p));
        if (p == NULL)
            break;
        if (p == d || p[-1] != '\r')
            return true;
    }
    for (const char *p = d, *e = d + n; p < e; p++) {
        p = memchr(p, '\r', (size_t)(e - p));
        if (p == NULL)
            break;
        if (p + 1 == e || p[1] != '\n')
            return true;
    }
    return false;
}

/* Appends d[0..n) with every bare CR and bare LF made CRLF. */
static int body_append_crlf(buf *out, const char *d, size_t n)
{
    size_t i = 0;
    while (i < n) {
        size_t run = i;
        while (i < n && d[i] != '\r' && d[i] != '\n')
            i++;
        if (i > run && buf_append(out, d + run, i - run) < 0)
            return -1;
        if (i == n)
            break;
        i += d[i] == '\r' && i + 1 < n && d[i + 1] == '\n' ? 2 : 1;
        if (buf_append(out, "\r\n", 2) < 0)
            return -1;
    }
    return 0;
}

/* Text whose octets are lines (RFC 3516 6): text/ *, not in a 16- or
 * 32-bit charset where a 0x0A octet is half of a character. */
static bool body_is_line_text(const mime_part *p)
{
    static const char *const wide[] = {"utf-16", "utf16", "utf-32", "utf32", "ucs"};
    if (!mime_part_is(p, "text", NULL))
        return false;
    const char *cs = mime_part_param(p, "charset");
    if (cs == NULL)
        return true;
    for (size_t i = 0; i < sizeof(wide) / sizeof(wide[0]); i++)
        if (strlen(cs) >= strlen(wide[i]) && body_ascii_eq(cs, wide[i], strlen(wide[i])))
            return false;
    return true;
}

/* The content of the leaf p with its transfer encoding removed. */
static int body_decode(const char *raw, size_t len, const mime_part *p, buf *out, body_slice *s,
                       imap_error *e)
{
    body_slice enc;
    if (body_run(raw, len, p->body_off, p->body_len, &enc, e) < 0)
        return -1;
    mime_encoding cte = p->encoding;
    if (cte == MIME_ENC_OTHER && (p->encoding_raw == NULL || p->encoding_raw[0] == '\0'))
        cte = MIME_ENC_7BIT; /* an empty field: what BODYSTRUCTURE shows ("7bit") */
    bool crlf = body_is_line_text(p);
    char *dec = NULL;
    size_t dlen = 0;
    int rc = 0;
    switch (cte) {
    case MIME_ENC_7BIT:
    case MIME_ENC_8BIT:
    case MIME_ENC_BINARY:
        if (!crlf || !body_bare_eol(enc.data, enc.len)) {
            *s = enc;
            return 0;
        }
        if (body_append_crlf(out, enc.data, enc.len) < 0)
            return body_full(e);
        break;
    case MIME_ENC_BASE64: /* output is at most 3/4 of the input: never cut */
        rc = mime_base64_decode(enc.data, enc.len, enc.len, &dec, &dlen);
        break;
    case MIME_ENC_QP: /* output is at most twice the input (bare CR, LF -> CRLF) */
        rc = mime_qp_decode(enc.data, enc.len, false, SIZE_MAX, &dec, &dlen);
        break;
    default:
        return body_fail(e, IMAP_RESP_NO, IMAP_CODE_UNKNOWN_CTE,
                         "unknown Content-Transfer-Encoding");
    }
    if (rc < 0)
        return body_full(e);
    if (dec != NULL) {
        if (crlf)
            rc = body_append_crlf(out, dec, dlen);
        else
            rc = buf_append(out, dec, dlen);
        free(dec);
        if (rc < 0)
            return body_full(e);
    }
    s->data = out->data != NULL ? out->data : "";
    s->len = out->len;
    s->nil = false;
    return 0;
}

static int body_binary_octets(const char *raw, size_t len, const mime_message *msg,
                              const imap_section *sec, buf *out, body_slice *s, imap_error *e)
{
    if (sec->text != IMAP_SECTION_NONE)
        return body_fail(e, IMAP_RESP_BAD, NULL, "a BINARY section has part numbers only");
    if (sec->nparts == 0) /* the message: no transfer encoding of its own */
        return body_run(raw, len, 0, len, s, e);
    const mime_part *p = body_resolve(msg, sec);
    if (p == NULL) {
        s->nil = true;
        return 0;
    }
    if (p == &body_empty_part) {
        raw = "";
        len = 0;
    }
    if (p->is_multipart || p->is_message)
        return body_fail(e, IMAP_RESP_NO, IMAP_CODE_CANNOT,
                         "BINARY of a multipart or message part (RFC 9051 6.4.5: leaf parts only)");
    return body_decode(raw, len, p, out, s, e);
}

/* ---- API ------------------------------------------------------------- */

int imap_body_section(const char *raw, size_t len, const mime_message *msg,
                      const imap_fetch_att *att, buf *out, const char **out_r, size_t *out_len_r,
                      bool *nil_r, imap_error *error_r)
{
    body_slice s = {NULL, 0, false};
    imap_section sec;
    int rc;

    *out_r = NULL;
    *out_len_r = 0;
    *nil_r = false;
    if (raw == NULL) {
        raw = "";
        len = 0;
    }
    buf_reset(out);
    switch (att->kind) {
    case IMAP_FETCH_RFC822:
    case IMAP_FETCH_RFC822_HEADER:
    case IMAP_FETCH_RFC822_TEXT:
        memset(&sec, 0, sizeof(sec));
        sec.text = att->kind == IMAP_FETCH_RFC822          ? IMAP_SECTION_NONE
                   : att->kind == IMAP_FETCH_RFC822_HEADER ? IMAP_SECTION_HEADER
                                                           : IMAP_SECTION_TEXT;
        rc = body_section_octets(raw, len, msg, &sec, out, &s, error_r);
        break;
    case IMAP_FETCH_BODY_SECTION:
        rc = body_section_octets(raw, len, msg, &att->section, out, &s, error_r);
        break;
    case IMAP_FETCH_BINARY:
    case IMAP_FETCH_BINARY_SIZE:
        rc = body_binary_octets(raw, len, msg, &att->section, out, &s, error_r);
        break;
    default:
        return body_fail(error_r, IMAP_RESP_BAD, NULL, "not a FETCH body section");
    }
    if (rc < 0)
        return -1;
    if (s.nil) {
        if (att->kind == IMAP_FETCH_BINARY_SIZE) /* a number, never NIL: 0 */
            *out_r = "";
        else
            *nil_r = true;
        return 0;
    }
    /* RFC 9051 6.4.5 partial; RFC 3516 4.2: of the decoded octets */
    if (att->partial && att->kind != IMAP_FETCH_BINARY_SIZE) {
        if (att->origin >= s.len) {
            s.data += s.len;
            s.len = 0;
        } else {
            s.data += att->origin;
            s.len -= (size_t)att->origin;
            if (att->count < s.len)
                s.len = (size_t)att->count;
        }
    }
    *out_r = s.data;
    *out_len_r = s.len;
    return 0;
}

bool imap_body_header_only(const imap_fetch_att *att)
{
    switch (att->kind) {
    case IMAP_FETCH_RFC822_HEADER:
        return true;
    case IMAP_FETCH_BODY_SECTION:
        return att->section.nparts == 0 && (att->section.text == IMAP_SECTION_HEADER ||
                                            att->section.text == IMAP_SECTION_HEADER_FIELDS ||
                                            att->section.text == IMAP_SECTION_HEADER_FIELDS_NOT);
    default:
        return false;
    }
}
