/* RFC 2045-2049 structure: the part tree, multipart boundaries, encapsulated
 * messages, IMAP section numbers; plus the arena every parse allocates in. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mime_int.h"

#define MIME_CHUNK_SIZE 8192
#define MIME_DEPTH_HARD_MAX 256 /* the recursion never goes deeper, whatever the limits say */

void mime_limits_default(mime_limits *limits_r)
{
    limits_r->max_depth = MIME_DEFAULT_MAX_DEPTH;
    limits_r->max_parts = MIME_DEFAULT_MAX_PARTS;
    limits_r->max_header_bytes = MIME_DEFAULT_MAX_HEADER_BYTES;
    limits_r->max_header_fields = MIME_DEFAULT_MAX_HEADER_FIELDS;
    limits_r->max_line = MIME_DEFAULT_MAX_LINE;
    limits_r->max_params = MIME_DEFAULT_MAX_PARAMS;
    limits_r->max_value = MIME_DEFAULT_MAX_VALUE;
    limits_r->max_output = MIME_DEFAULT_MAX_OUTPUT;
}

void *mime_alloc(mime_message *m, size_t size)
{
    size = (size + 15) & ~(size_t)15;
    if (size == 0)
        size = 16;
    mime_chunk *c = m->chunks;
    if (c == NULL || c->cap - c->used < size) {
        size_t cap = size > MIME_CHUNK_SIZE ? size : MIME_CHUNK_SIZE;
        c = malloc(sizeof(*c) + cap);
        if (c == NULL) {
            m->oom = true;
            return NULL;
        }
        c->cap = cap;
        c->used = 0;
        /* a big one-off allocation goes behind the current chunk so the
         * current one keeps serving small requests */
        if (cap > MIME_CHUNK_SIZE && m->chunks != NULL) {
            c->next = m->chunks->next;
            m->chunks->next = c;
        } else {
            c->next = m->chunks;
            m->chunks = c;
        }
    }
    void *p = c->data + c->used;
    c->used += size;
    memset(p, 0, size);
    return p;
}

char *mime_strndup(mime_message *m, const char *s, size_t len)
{
    if (len == SIZE_MAX)
        return NULL;
    char *p = mime_alloc(m, len + 1);
    if (p != NULL && len > 0)
        memcpy(p, s, len);
    return p;
}

bool mime_strnieq(const char *a, size_t alen, const char *b)
{
    size_t blen = strlen(b);
    if (alen != blen)
        return false;
    for (size_t i = 0; i < alen; i++) {
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

bool mime_strieq(const char *a, const char *b)
{
    return a != NULL && b != NULL && mime_strnieq(a, strlen(a), b);
}

/* body-fld-lines: the LFs of the body, as Dovecot counts them (a last line
 * without a line break does not count). */
static size_t count_lines(const char *d, size_t off, size_t len)
{
    size_t n = 0;
    const char *p = d + off, *e = d + off + len;
    while (p < e && (p = memchr(p, '\n', (size_t)(e - p))) != NULL) {
        n++;
        p++;
    }
    return n;
}

static const mime_param *find_param(const mime_param *ps, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (mime_strieq(ps[i].name, name))
            return &ps[i];
    return NULL;
}

/* Content-Type (RFC 2045 5.1): "type/subtype" of tokens, or the default. */
static void parse_content_type(mime_message *m, mime_part *p, bool digest_child)
{
    char *ct = mime_field_value(m, p, "content-type");
    if (ct != NULL) {
        char *token = NULL;
        mime_param *params = NULL;
        size_t n = 0;
        mime_params_parse(m, ct, &token, &params, &n);
        char *slash = token != NULL ? strchr(token, '/') : NULL;
        if (slash != NULL && slash != token && slash[1] != '\0' && strchr(slash + 1, '/') == NULL) {
            *slash = '\0';
            p->type = token;
            p->subtype = slash + 1;
            p->params = params;
            p->nparams = n;
            return;
        }
    }
    /* RFC 2045 5.2: absent or invalid = text/plain; charset=us-ascii, and
     * RFC 2046 5.1.5: message/rfc822 inside multipart/digest. */
    if (digest_child && ct == NULL) {
        p->type = "message";
        p->subtype = "rfc822";
        return;
    }
    p->type = "text";
    p->subtype = "plain";
    p->type_defaulted = true;
    mime_param *cs = mime_alloc(m, sizeof(*cs));
    if (cs == NULL)
        return;
    cs->name = cs->imap_name = "charset";
    cs->value = cs->imap_value = "us-ascii";
    p->params = cs;
    p->nparams = 1;
}

static void parse_encoding(mime_message *m, mime_part *p)
{
    char *cte = mime_field_value(m, p, "content-transfer-encoding");
    p->encoding_raw = cte;
    if (cte == NULL)
        p->encoding = MIME_ENC_7BIT;
    else if (mime_strieq(cte, "7bit"))
        p->encoding = MIME_ENC_7BIT;
    else if (mime_strieq(cte, "8bit"))
        p->encoding = MIME_ENC_8BIT;
    else if (mime_strieq(cte, "binary"))
        p->encoding = MIME_ENC_BINARY;
    else if (mime_strieq(cte, "base64"))
        p->encoding = MIME_ENC_BASE64;
    else if (mime_strieq(cte, "quoted-printable"))
        p->encoding = MIME_ENC_QP;
    else
        p->encoding = MIME_ENC_OTHER;
}

/* Content-Language (RFC 3282): a comma-separated list of tags. */
static void parse_languages(mime_message *m, mime_part *p)
{
    char *v = mime_field_value(m, p, "content-language");
    if (v == NULL)
        return;
    size_t max = 1;
    for (const char *s = v; *s != '\0'; s++)
        max += *s == ',';
    if (max > m->limits.max_params)
        max = m->limits.max_params;
    const char **langs = mime_alloc(m, sizeof(*langs) * (max + 1));
    if (langs == NULL)
        return;
    size_t n = 0;
    for (char *s = v; *s != '\0' && n < max;) {
        while (*s == ',' || MIME_IS_WSP(*s))
            s++;
        char *e = s;
        while (*e != '\0' && *e != ',' && !MIME_IS_WSP(*e) && *e != '(')
            e++;
        if (e > s)
            langs[n++] = mime_strndup(m, s, (size_t)(e - s));
        while (*e != '\0' && *e != ',')
            e++;
        s = e;
    }
    p->languages = langs;
    p->nlanguages = n;
}

static void parse_headers(mime_message *m, mime_part *p, bool digest_child)
{
    mime_header_fields(m, p);
    parse_content_type(m, p, digest_child);
    parse_encoding(m, p);
    p->id = mime_field_value(m, p, "content-id");
    p->description = mime_field_value(m, p, "content-description");
    p->md5 = mime_field_value(m, p, "content-md5");
    p->location = mime_field_value(m, p, "content-location");
    char *cd = mime_field_value(m, p, "content-disposition");
    if (cd != NULL) {
        char *token = NULL;
        mime_param *params = NULL;
        size_t n = 0;
        mime_params_parse(m, cd, &token, &params, &n);
        if (token != NULL && token[0] != '\0') {
            p->disposition = token;
            p->disp_params = params;
            p->ndisp_params = n;
        }
    }
    parse_languages(m, p);
}

static mime_part *parse_entity(mime_message *m, const mime_part *parent, size_t start, size_t end,
                               unsigned depth, const char *section, bool message_level,
                               bool digest_child);

/* RFC 2046 5.1.1: a delimiter line is "--" boundary, then "--" for the close
 * delimiter, then optional linear white space up to the line break. */
static bool is_delimiter(const char *d, size_t pos, size_t end, const char *b, size_t blen,
                         bool *close_r)
{
    if (end - pos < blen + 2 || d[pos] != '-' || d[pos + 1] != '-' ||
        memcmp(d + pos + 2, b, blen) != 0)
        return false;
    size_t q = pos + 2 + blen;
    *close_r = false;
    if (end - q >= 2 && d[q] == '-' && d[q + 1] == '-') {
        *close_r = true;
        return true;
    }
    while (q < end && MIME_IS_WSP(d[q]))
        q++;
    return q == end || d[q] == '\r' || d[q] == '\n';
}

static char *child_section(mime_message *m, const char *parent_section, size_t index)
{
    char num[24];
    snprintf(num, sizeof(num), "%zu", index);
    size_t plen = strlen(parent_section);
    char *s = mime_alloc(m, plen + strlen(num) + 2);
    if (s == NULL)
        return NULL;
    if (plen > 0)
        snprintf(s, plen + strlen(num) + 2, "%s.%s", parent_section, num);
    else
        memcpy(s, num, strlen(num) + 1);
    return s;
}

static void add_child(mime_message *m, mime_part *p, size_t *cap, size_t start, size_t end,
                      unsigned depth)
{
    if (m->nparts >= m->limits.max_parts)
        return;
    if (p->nchildren == *cap) {
        size_t ncap = *cap == 0 ? 4 : *cap * 2;
        mime_part **a = mime_alloc(m, ncap * sizeof(*a));
        if (a == NULL)
            return;
        if (p->nchildren > 0)
            memcpy(a, p->children, p->nchildren * sizeof(*a));
        p->children = a;
        *cap = ncap;
    }
    char *sec = child_section(m, p->section, p->nchildren + 1);
    if (sec == NULL)
        return;
    bool digest = mime_strieq(p->subtype, "digest");
    mime_part *c = parse_entity(m, p, start, end, depth + 1, sec, false, digest);
    if (c != NULL)
        p->children[p->nchildren++] = c;
}

/* The CRLF (or LF) before a delimiter belongs to the delimiter (RFC 2046 5.1.1). */
static size_t part_end_before(const char *d, size_t line, size_t start)
{
    size_t e = line;
    if (e > start && d[e - 1] == '\n') {
        e--;
        if (e > start && d[e - 1] == '\r')
            e--;
    }
    return e;
}

/* Splits a multipart body into its parts. A missing close delimiter ends the
 * last part at the end of the body; text before the first delimiter is the
 * preamble, after the close delimiter the epilogue (both ignored). */
static void split_multipart(mime_message *m, mime_part *p, unsigned depth)
{
    /* the boundary as written: decoding could change its bytes */
    const char *b = NULL;
    for (size_t i = 0; i < p->nparams && b == NULL; i++)
        if (mime_strieq(p->params[i].name, "boundary"))
            b = mime_strieq(p->params[i].imap_name, "boundary") ? p->params[i].imap_value
                                                                : p->params[i].value;
    if (b == NULL || b[0] == '\0')
        return;
    size_t blen = strlen(b);
    const char *d = m->data;
    size_t pos = p->body_off, end = p->body_off + p->body_len, cap = 0;
    bool in_part = false;
    size_t part_start = 0;
    while (pos < end) {
        bool close = false;
        if (is_delimiter(d, pos, end, b, blen, &close)) {
            if (in_part)
                add_child(m, p, &cap, part_start, part_end_before(d, pos, part_start), depth);
            if (close || m->nparts >= m->limits.max_parts || m->oom)
                return;
            const char *nl = memchr(d + pos, '\n', end - pos);
            part_start = nl != NULL ? (size_t)(nl - d) + 1 : end;
            in_part = true;
            pos = part_start;
            continue;
        }
        const char *nl = memchr(d + pos, '\n', end - pos);
        if (nl == NULL)
            break;
        pos = (size_t)(nl - d) + 1;
    }
    if (in_part)
        add_child(m, p, &cap, part_start, end, depth);
}

static void parse_children(mime_message *m, mime_part *p, unsigned depth, bool message_level)
{
    unsigned max_depth =
        m->limits.max_depth < MIME_DEPTH_HARD_MAX ? m->limits.max_depth : MIME_DEPTH_HARD_MAX;
    bool multi = mime_strieq(p->type, "multipart");
    bool msg = mime_part_is(p, "message", "rfc822") || mime_part_is(p, "message", "global");
    /* A message/rfc822 in base64 or QP is not parsed as a message. */
    if (msg && (p->encoding == MIME_ENC_BASE64 || p->encoding == MIME_ENC_QP ||
                p->encoding == MIME_ENC_OTHER)) {
        p->opaque = true; /* body-type-msg would need its envelope */
        return;
    }
    if (!multi && !msg)
        return;
    if (depth >= max_depth || m->nparts >= m->limits.max_parts) {
        p->opaque = true;
        return;
    }
    if (multi) {
        p->is_multipart = true;
        split_multipart(m, p, depth);
        return;
    }
    /* The encapsulated message's section: the same number as its
     * message/rfc822 part, unless that part is itself the body of a message
     * (then it is that message's part 1). */
    const char *sec = p->section;
    if (message_level)
        sec = p->section[0] == '\0' ? "1" : child_section(m, p->section, 1);
    if (sec == NULL)
        return;
    mime_part *c =
        parse_entity(m, p, p->body_off, p->body_off + p->body_len, depth + 1, sec, true, false);
    if (c == NULL)
        return;
    mime_part **a = mime_alloc(m, sizeof(*a));
    if (a == NULL)
        return;
    a[0] = c;
    p->children = a;
    p->nchildren = 1;
    p->is_message = true;
}

static mime_part *parse_entity(mime_message *m, const mime_part *parent, size_t start, size_t end,
                               unsigned depth, const char *section, bool message_level,
                               bool digest_child)
{
    mime_part *p = mime_alloc(m, sizeof(*p));
    if (p == NULL)
        return NULL;
    m->nparts++;
    p->parent = parent;
    p->section = section;
    p->header_off = start;
    p->body_off = mime_header_end(m->data, start, end, &p->header_len);
    p->body_len = end - p->body_off;
    p->body_lines = count_lines(m->data, p->body_off, p->body_len);
    parse_headers(m, p, digest_child);
    parse_children(m, p, depth, message_level);
    return p;
}

mime_message *mime_parse(const char *data, size_t len, const mime_limits *limits)
{
    mime_message *m = calloc(1, sizeof(*m));
    if (m == NULL)
        return NULL;
    if (limits != NULL)
        m->limits = *limits;
    else
        mime_limits_default(&m->limits);
    if (m->limits.max_parts == 0)
        m->limits.max_parts = 1; /* the message itself is always a part */
    m->data = data != NULL ? data : "";
    m->len = data != NULL ? len : 0;
    m->root = parse_entity(m, NULL, 0, m->len, 0, "", true, false);
    if (m->oom || m->root == NULL) {
        mime_free(&m);
        return NULL;
    }
    return m;
}

void mime_free(mime_message **msg)
{
    if (msg == NULL || *msg == NULL)
        return;
    mime_chunk *c = (*msg)->chunks;
    while (c != NULL) {
        mime_chunk *next = c->next;
        free(c);
        c = next;
    }
    free(*msg);
    *msg = NULL;
}

const mime_part *mime_root(const mime_message *msg)
{
    return msg->root;
}

size_t mime_part_count(const mime_message *msg)
{
    return msg->nparts;
}

const mime_part *mime_part_message(const mime_part *part)
{
    return part != NULL && part->is_message && part->nchildren == 1 ? part->children[0] : NULL;
}

const char *mime_part_param(const mime_part *part, const char *name)
{
    const mime_param *p = find_param(part->params, part->nparams, name);
    return p != NULL ? p->value : NULL;
}

const char *mime_part_disp_param(const mime_part *part, const char *name)
{
    const mime_param *p = find_param(part->disp_params, part->ndisp_params, name);
    return p != NULL ? p->value : NULL;
}

bool mime_part_is(const mime_part *part, const char *type, const char *subtype)
{
    return mime_strieq(part->type, type) &&
           (subtype == NULL || mime_strieq(part->subtype, subtype));
}

/* One step down the IMAP section path from a part (RFC 9051 6.4.5). */
static const mime_part *section_step(const mime_part *cur, unsigned long n)
{
    const mime_part *base = cur;
    if (cur->is_message) {
        base = cur->children[0];
        if (!base->is_multipart)
            return n == 1 ? base : NULL;
    }
    if (!base->is_multipart || n == 0 || n > base->nchildren)
        return NULL;
    return base->children[n - 1];
}

const mime_part *mime_section(const mime_message *msg, const char *section)
{
    const mime_part *cur = msg->root;
    bool first = true;
    const char *s = section;
    if (*s == '\0')
        return cur;
    while (*s != '\0') {
        if (*s < '1' || *s > '9')
            return NULL;
        unsigned long n = 0;
        while (*s >= '0' && *s <= '9') {
            if (n > 100000)
                return NULL;
            n = n * 10 + (unsigned long)(*s - '0');
            s++;
        }
        if (*s == '.' && s[1] != '\0')
            s++;
        else if (*s != '\0')
            return NULL;
        if (first && !cur->is_multipart) {
            if (n != 1)
                return NULL;
        } else {
            cur = section_step(cur, n);
            if (cur == NULL)
                return NULL;
        }
        first = false;
    }
    return cur;
}
