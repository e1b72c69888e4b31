/* Decoded header values, and the text to index: decoded Subject, From, To,
 * Cc, then every text/plain part and every text/html part with its tags
 * stripped, converted to UTF-8 and cut at a bound. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "mime_int.h"

/* The output of mime_index_text: full stops further appends. */
typedef struct index_out {
    buf b;
    size_t max;
    bool full;
} index_out;

static size_t utf8_cut(const char *s, size_t len, size_t room)
{
    if (len <= room)
        return len;
    size_t n = room;
    while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
        n--;
    return n;
}

static int out_append(index_out *o, const char *s, size_t len)
{
    if (o->full)
        return 0;
    size_t n = utf8_cut(s, len, o->max - o->b.len);
    if (n < len)
        o->full = true;
    return buf_append(&o->b, s, n);
}

static int unfold_field(const mime_message *m, const mime_field *f, buf *v)
{
    mime_field cut = *f;
    if (cut.value_len > m->limits.max_value)
        cut.value_len = m->limits.max_value;
    buf_init(v, SIZE_MAX - 1);
    if (mime_field_unfold(v, m->data, &cut) < 0 || buf_append(v, "", 0) < 0) {
        buf_free(v);
        return -1;
    }
    return 0;
}

static int header_value(const mime_message *m, const mime_part *part, const char *name,
                        char **value_r, bool decode)
{
    *value_r = NULL;
    if (part == NULL)
        part = m->root;
    const mime_field *f = mime_field_find(m->data, part, name);
    if (f == NULL)
        return 0;
    buf v;
    if (unfold_field(m, f, &v) < 0)
        return -1;
    if (!decode) {
        *value_r = buf_steal(&v);
        return *value_r != NULL ? 1 : -1;
    }
    *value_r = mime_decode_header(v.data, v.len, m->limits.max_value);
    buf_free(&v);
    return *value_r != NULL ? 1 : -1;
}

int mime_header_get(const mime_message *msg, const mime_part *part, const char *name,
                    char **value_r)
{
    return header_value(msg, part, name, value_r, true);
}

int mime_header_get_raw(const mime_message *msg, const mime_part *part, const char *name,
                        char **value_r)
{
    return header_value(msg, part, name, value_r, false);
}

static int index_header(index_out *o, const mime_message *m, const char *name, bool address)
{
    const mime_field *f = mime_field_find(m->data, m->root, name);
    if (f == NULL)
        return 0;
    buf v, d;
    if (unfold_field(m, f, &v) < 0)
        return -1;
    buf_init(&d, SIZE_MAX - 1);
    int r =
        address ? mime_address_list_text(&d, v.data, v.len) : mime_2047_append(&d, v.data, v.len);
    if (r == 0 && d.len > 0)
        r = out_append(o, d.data, d.len) | out_append(o, "\n", 1);
    buf_free(&v);
    buf_free(&d);
    return r;
}

static int entity_char(buf *out, const char *s, size_t len, size_t *used_r)
{
    static const struct {
        const char *name;
        const char *utf8;
    } ents[] = {{"amp;", "&"},   {"lt;", "<"},   {"gt;", ">"},
                {"quot;", "\""}, {"apos;", "'"}, {"nbsp;", " "}};
    for (size_t i = 0; i < sizeof(ents) / sizeof(ents[0]); i++) {
        size_t n = strlen(ents[i].name);
        if (len >= n && strncmp(s, ents[i].name, n) == 0) {
            *used_r = n;
            return buf_append_str(out, ents[i].utf8);
        }
    }
    if (len >= 3 && s[0] == '#') { /* &#NNN; and &#xHH; */
        size_t i = 1;
        unsigned long cp = 0;
        bool hex = s[1] == 'x' || s[1] == 'X';
        i += hex;
        size_t digits = 0;
        for (; i < len && digits < 7; i++, digits++) {
            char c = s[i];
            int v = c >= '0' && c <= '9'                          ? c - '0'
                    : hex && ((c | 32) >= 'a' && (c | 32) <= 'f') ? (c | 32) - 'a' + 10
                                                                  : -1;
            if (v < 0)
                break;
            cp = cp * (hex ? 16 : 10) + (unsigned long)v;
        }
        if (digits > 0 && i < len && s[i] == ';' && cp > 0 && cp <= 0x10ffff &&
            !(cp >= 0xd800 && cp <= 0xdfff)) {
            char u[4];
            size_t n;
            if (cp < 0x80)
                u[0] = (char)cp, n = 1;
            else if (cp < 0x800)
                u[0] = (char)(0xc0 | (cp >> 6)), u[1] = (char)(0x80 | (cp & 0x3f)), n = 2;
            else if (cp < 0x10000)
                u[0] = (char)(0xe0 | (cp >> 12)), u[1] = (char)(0x80 | ((cp >> 6) & 0x3f)),
                u[2] = (char)(0x80 | (cp & 0x3f)), n = 3;
            else
                u[0] = (char)(0xf0 | (cp >> 18)), u[1] = (char)(0x80 | ((cp >> 12) & 0x3f)),
                u[2] = (char)(0x80 | ((cp >> 6) & 0x3f)), u[3] = (char)(0x80 | (cp & 0x3f)), n = 4;
            *used_r = i + 1;
            return buf_append(out, u, n);
        }
    }
    *used_r = 0;
    return buf_append_char(out, '&');
}

static bool tag_is(const char *s, size_t len, const char *name)
{
    size_t n = strlen(name);
    return len > n && strncasecmp(s, name, n) == 0 &&
           (s[n] == '>' || s[n] == ' ' || s[n] == '\t' || s[n] == '\r' || s[n] == '\n' ||
            s[n] == '/');
}

/* Case-insensitive search of an ASCII needle. */
static const char *find_ci(const char *s, size_t len, const char *needle)
{
    size_t n = strlen(needle);
    for (size_t i = 0; n <= len && i <= len - n; i++)
        if (strncasecmp(s + i, needle, n) == 0)
            return s + i;
    return NULL;
}

/* Tags become a space; script and style contents and comments are dropped. */
static int html_strip(buf *out, const char *s, size_t len)
{
    size_t i = 0;
    while (i < len) {
        size_t run = i;
        while (i < len && s[i] != '<' && s[i] != '&')
            i++;
        if (buf_append(out, s + run, i - run) < 0)
            return -1;
        if (i >= len)
            break;
        if (s[i] == '&') {
            size_t used;
            if (entity_char(out, s + i + 1, len - i - 1, &used) < 0)
                return -1;
            i += 1 + used;
            continue;
        }
        const char *skip_to = ">";
        if (len - i >= 4 && memcmp(s + i, "<!--", 4) == 0)
            skip_to = "-->";
        else if (tag_is(s + i + 1, len - i - 1, "script"))
            skip_to = "</script";
        else if (tag_is(s + i + 1, len - i - 1, "style"))
            skip_to = "</style";
        const char *e = find_ci(s + i + 1, len - i - 1, skip_to);
        if (e == NULL)
            break;
        const char *gt = memchr(e, '>', (size_t)(s + len - e));
        i = gt != NULL ? (size_t)(gt - s) + 1 : len;
        if (out->len > 0 && out->data[out->len - 1] != ' ' && buf_append_char(out, ' ') < 0)
            return -1;
    }
    return 0;
}

static int index_part(index_out *o, const mime_message *m, const mime_part *p)
{
    bool html = mime_part_is(p, "text", "html");
    if (p->opaque || (!html && !mime_part_is(p, "text", "plain")))
        return 0;
    /* decoding more than a few times max input can not add output */
    size_t in_len = p->body_len;
    size_t want = o->max - o->b.len;
    if (in_len / 4 > want + 1024)
        in_len = 4 * (want + 1024);
    const char *in = m->data + p->body_off;
    buf raw, utf8, text;
    buf_init(&raw, SIZE_MAX - 1);
    buf_init(&utf8, SIZE_MAX - 1);
    buf_init(&text, SIZE_MAX - 1);
    int r;
    if (p->encoding == MIME_ENC_BASE64)
        r = mime_base64_append(&raw, in, in_len);
    else if (p->encoding == MIME_ENC_QP)
        r = mime_qp_append(&raw, in, in_len, false);
    else
        r = buf_append(&raw, in, in_len);
    if (r == 0 && raw.len > 0)
        r = mime_charset_append(&utf8, mime_part_param(p, "charset"), raw.data, raw.len);
    if (r == 0 && html && utf8.len > 0)
        r = html_strip(&text, utf8.data, utf8.len);
    buf *res = html ? &text : &utf8;
    if (r == 0 && res->len > 0)
        r = out_append(o, res->data, res->len) | out_append(o, "\n", 1);
    buf_free(&raw);
    buf_free(&utf8);
    buf_free(&text);
    return r;
}

static int index_tree(index_out *o, const mime_message *m, const mime_part *p)
{
    if (o->full)
        return 0;
    if (p->nchildren == 0)
        return index_part(o, m, p);
    for (size_t i = 0; i < p->nchildren; i++)
        if (index_tree(o, m, p->children[i]) < 0)
            return -1;
    return 0;
}

char *mime_index_text(const mime_message *msg, size_t max)
{
    index_out o;
    if (max > SIZE_MAX / 8)
        max = SIZE_MAX / 8; /* keeps the size arithmetic below from overflowing */
    buf_init(&o.b, max + 1);
    o.max = max;
    o.full = false;
    int r = buf_append(&o.b, "", 0);
    static const char *const addrs[] = {"from", "to", "cc"};
    r |= index_header(&o, msg, "subject", false);
    for (size_t i = 0; i < 3 && r == 0; i++)
        r |= index_header(&o, msg, addrs[i], true);
    if (r == 0)
        r = index_tree(&o, msg, msg->root);
    if (r != 0) {
        buf_free(&o.b);
        return NULL;
    }
    return buf_steal(&o.b);
}
