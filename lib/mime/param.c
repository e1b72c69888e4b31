/* Content-Type / Content-Disposition values: "token *(; attribute=value)"
 * (RFC 2045 5.1, RFC 2183) with RFC 822 comments, and RFC 2231 parameter
 * value continuations, charsets and languages. Lenient: unquoted values may
 * hold tspecials up to the next ';', unterminated quotes run to the end. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "mime_int.h"

#define PARAM_SECTION_MAX 999 /* RFC 2231 section numbers above this are ignored */

typedef struct raw_param {
    const char *attr;
    size_t attr_len;
    char *value; /* unquoted */
    size_t value_len;
    const char *base; /* attr without the RFC 2231 suffix */
    size_t base_len;
    int section;   /* -1 = none */
    bool extended; /* trailing '*' */
} raw_param;

static const char *skip_cfws(const char *s)
{
    for (;;) {
        while (MIME_IS_WSP(*s) || *s == '\r' || *s == '\n')
            s++;
        if (*s != '(')
            return s;
        int depth = 0; /* RFC 5322 3.2.2: comments nest, "\" quotes */
        while (*s != '\0') {
            if (*s == '\\' && s[1] != '\0')
                s++;
            else if (*s == '(')
                depth++;
            else if (*s == ')' && --depth == 0) {
                s++;
                break;
            }
            s++;
        }
    }
}

/* The leading token (type/subtype or disposition type): everything up to
 * the first ';' with white space and comments left out. */
static const char *read_token(mime_message *m, const char *s, char **token_r)
{
    size_t cap = strcspn(s, ";");
    char *t = mime_alloc(m, cap + 1);
    size_t n = 0;
    while (*s != '\0' && *s != ';') {
        const char *q = skip_cfws(s);
        if (q != s) {
            s = q;
            continue;
        }
        if (t != NULL && n < cap)
            t[n++] = *s;
        s++;
    }
    *token_r = t;
    return s;
}

static const char *read_value(mime_message *m, const char *s, char **v_r, size_t *len_r)
{
    if (*s == '"') {
        s++;
        size_t cap = 0; /* the exact size: an allocation per value of the
                         * rest of the header would grow quadratically */
        for (const char *q = s; *q != '\0' && *q != '"'; q++, cap++)
            if (*q == '\\' && q[1] != '\0')
                q++;
        char *v = mime_alloc(m, cap + 1);
        size_t n = 0;
        while (*s != '\0' && *s != '"') {
            if (*s == '\\' && s[1] != '\0')
                s++;
            if (v != NULL)
                v[n++] = *s;
            s++;
        }
        if (*s == '"')
            s++;
        *v_r = v;
        *len_r = n;
        return s;
    }
    const char *e = s;
    while (*e != '\0' && *e != ';' && *e != '(')
        e++;
    const char *t = e;
    while (t > s && MIME_IS_WSP(t[-1]))
        t--;
    *v_r = mime_strndup(m, s, (size_t)(t - s));
    *len_r = (size_t)(t - s);
    return e;
}

/* RFC 2231 3: attr "*" N ["*"] or attr "*". */
static void split_attr(raw_param *r)
{
    r->base = r->attr;
    r->base_len = r->attr_len;
    r->section = -1;
    r->extended = false;
    const char *star = memchr(r->attr, '*', r->attr_len);
    if (star == NULL)
        return;
    const char *e = r->attr + r->attr_len, *p = star + 1;
    int sec = -1;
    if (p < e && *p >= '0' && *p <= '9') {
        sec = 0;
        while (p < e && *p >= '0' && *p <= '9' && sec <= PARAM_SECTION_MAX)
            sec = sec * 10 + (*p++ - '0');
    }
    bool ext = p < e && *p == '*';
    if (ext)
        p++;
    if (p != e || sec > PARAM_SECTION_MAX || (sec < 0 && !ext))
        return; /* not RFC 2231: the whole attribute is the name */
    r->base_len = (size_t)(star - r->attr);
    r->section = sec;
    r->extended = ext;
}

static size_t scan_params(mime_message *m, const char *s, raw_param *raw, size_t max)
{
    size_t n = 0;
    while (*s != '\0' && n < max) {
        s = skip_cfws(s);
        if (*s == ';') {
            s++;
            continue;
        }
        if (*s == '\0')
            break;
        const char *a = s;
        while (*s != '\0' && *s != '=' && *s != ';' && !MIME_IS_WSP(*s) && *s != '(')
            s++;
        size_t alen = (size_t)(s - a);
        s = skip_cfws(s);
        if (*s != '=' || alen == 0) {
            while (*s != '\0' && *s != ';')
                s++;
            continue;
        }
        s = skip_cfws(s + 1);
        raw_param *r = &raw[n];
        memset(r, 0, sizeof(*r));
        r->attr = a;
        r->attr_len = alen;
        s = read_value(m, s, &r->value, &r->value_len);
        if (r->value == NULL)
            return n;
        split_attr(r);
        n++;
        while (*s != '\0' && *s != ';')
            s = *s == '(' ? skip_cfws(s) : s + 1;
    }
    return n;
}

/* The decoded value into the arena, cut to max_value on a character boundary. */
static char *cut_dup(mime_message *m, const buf *b)
{
    size_t n = b->len;
    if (n > m->limits.max_value) {
        n = m->limits.max_value;
        while (n > 0 && ((unsigned char)b->data[n] & 0xc0) == 0x80)
            n--;
    }
    return mime_strndup(m, b->data != NULL ? b->data : "", n);
}

static char *lower_dup(mime_message *m, const char *s, size_t len)
{
    char *d = mime_strndup(m, s, len);
    for (size_t i = 0; d != NULL && i < len; i++)
        if (d[i] >= 'A' && d[i] <= 'Z')
            d[i] = (char)(d[i] + 32);
    return d;
}

/* Joins the segments of one RFC 2231 parameter (sorted by section) into
 * the decoded value and the IMAP form. The IMAP form follows Dovecot's
 * rfc2231_parse: extended segments as they are, plain ones inside an
 * extended value with '%' escaped, "''" first when segment 0 is plain. */
static void join_segments(mime_message *m, raw_param **seg, size_t nseg, mime_param *out)
{
    bool any_ext = false;
    size_t total = 2;
    for (size_t i = 0; i < nseg; i++) {
        any_ext |= seg[i]->extended;
        total += seg[i]->value_len;
    }
    buf bytes, imap, dec;
    buf_init(&bytes, total + 1);
    buf_init(&imap, 3 * total + 1);
    buf_init(&dec, 4 * total + 16); /* UTF-8 of any charset fits; cut to max_value below */
    char charset[64] = "";
    int r = 0;
    if (any_ext && !seg[0]->extended)
        r |= buf_append_str(&imap, "''");
    for (size_t i = 0; i < nseg && r == 0; i++) {
        const char *v = seg[i]->value;
        size_t vlen = seg[i]->value_len;
        if (!seg[i]->extended) {
            r |= buf_append(&bytes, v, vlen);
            for (size_t k = 0; k < vlen; k++)
                r |= any_ext && v[k] == '%' ? buf_append_str(&imap, "%25")
                                            : buf_append_char(&imap, v[k]);
            continue;
        }
        r |= buf_append(&imap, v, vlen);
        if (i == 0) { /* charset'language'text */
            const char *q1 = memchr(v, '\'', vlen);
            const char *q2 = q1 != NULL ? memchr(q1 + 1, '\'', vlen - (size_t)(q1 + 1 - v)) : NULL;
            if (q2 != NULL) {
                size_t cl = (size_t)(q1 - v) < sizeof(charset) ? (size_t)(q1 - v) : 0;
                memcpy(charset, v, cl);
                charset[cl] = '\0';
                vlen -= (size_t)(q2 + 1 - v);
                v = q2 + 1;
            }
        }
        r |= mime_pct_append(&bytes, v, vlen);
    }
    if (r == 0)
        r = mime_charset_append(&dec, charset[0] != '\0' ? charset : NULL,
                                bytes.data != NULL ? bytes.data : "", bytes.len);
    if (r != 0)
        m->oom = true;
    out->value = cut_dup(m, &dec);
    out->imap_value = mime_strndup(m, imap.data != NULL ? imap.data : "", imap.len);
    buf_free(&bytes);
    buf_free(&imap);
    buf_free(&dec);
}

static int section_cmp(const void *a, const void *b)
{
    const raw_param *x = *(raw_param *const *)a, *y = *(raw_param *const *)b;
    size_t n = x->base_len < y->base_len ? x->base_len : y->base_len;
    int c = strncasecmp(x->base, y->base, n);
    if (c != 0)
        return c;
    if (x->base_len != y->base_len)
        return x->base_len < y->base_len ? -1 : 1;
    int xs = x->section < 0 ? 0 : x->section, ys = y->section < 0 ? 0 : y->section;
    if (xs != ys)
        return xs < ys ? -1 : 1;
    return x < y ? -1 : x > y; /* stable */
}

/* A plain parameter: the value as written for IMAP, RFC 2047 decoded (not
 * standard, but common in file names) for the API. */
static bool plain_param(mime_message *m, const raw_param *r, mime_param *out)
{
    buf dec;
    buf_init(&dec, 4 * r->value_len + 16);
    if (mime_2047_append(&dec, r->value, r->value_len) < 0)
        m->oom = true;
    out->name = lower_dup(m, r->attr, r->attr_len);
    out->imap_name = mime_strndup(m, r->attr, r->attr_len);
    out->value = cut_dup(m, &dec);
    out->imap_value = r->value;
    buf_free(&dec);
    return out->name != NULL && out->imap_name != NULL && out->value != NULL;
}

/* The RFC 2231 segments sorted, grouped by name: a group with sections
 * 0..n-1 becomes one parameter; a group with gaps or duplicates is shown
 * segment by segment, as written. Returns the parameters added. */
static size_t rfc2231_params(mime_message *m, raw_param **seg, size_t nseg, mime_param *out,
                             size_t room)
{
    qsort(seg, nseg, sizeof(*seg), section_cmp);
    size_t k = 0;
    for (size_t i = 0, next; i < nseg && k < room; i = next) {
        bool ok = true;
        int want = 0;
        for (next = i; next < nseg; next++, want++) {
            if (seg[next]->base_len != seg[i]->base_len ||
                strncasecmp(seg[next]->base, seg[i]->base, seg[i]->base_len) != 0)
                break;
            ok &= (seg[next]->section < 0 ? 0 : seg[next]->section) == want;
        }
        if (ok) {
            mime_param *o = &out[k];
            bool ext = false;
            for (size_t j = i; j < next; j++)
                ext |= seg[j]->extended;
            o->name = lower_dup(m, seg[i]->base, seg[i]->base_len);
            char *nm = mime_alloc(m, seg[i]->base_len + 2);
            if (nm != NULL) {
                memcpy(nm, seg[i]->base, seg[i]->base_len);
                if (ext)
                    nm[seg[i]->base_len] = '*';
            }
            o->imap_name = nm;
            join_segments(m, seg + i, next - i, o);
            if (o->name != NULL && o->imap_name != NULL && o->value != NULL &&
                o->imap_value != NULL)
                k++;
            continue;
        }
        for (size_t j = i; j < next && k < room; j++)
            if (plain_param(m, seg[j], &out[k]))
                k++;
    }
    return k;
}

void mime_params_parse(mime_message *m, const char *value, char **token_r, mime_param **params_r,
                       size_t *n_r)
{
    *params_r = NULL;
    *n_r = 0;
    const char *s = read_token(m, value, token_r);
    size_t max_raw = (size_t)m->limits.max_params * 8 + 8;
    size_t semis = 1;
    for (const char *p = s; *p != '\0'; p++)
        semis += *p == ';';
    if (max_raw > semis)
        max_raw = semis;
    /* the scratch arrays are freed here, only the results stay in the arena */
    raw_param *raw = malloc(max_raw * sizeof(*raw));
    raw_param **seg = malloc(max_raw * sizeof(*seg));
    if (raw == NULL || seg == NULL) {
        m->oom = true;
        free(raw);
        free(seg);
        return;
    }
    size_t n = scan_params(m, s, raw, max_raw), k = 0, nseg = 0;
    size_t nout = n < m->limits.max_params ? n : m->limits.max_params;
    mime_param *out = mime_alloc(m, (nout + 1) * sizeof(*out));
    if (out == NULL) {
        free(raw);
        free(seg);
        return;
    }
    /* as Dovecot: plain parameters first, in order, then the RFC 2231 ones */
    for (size_t i = 0; i < n; i++) {
        if (raw[i].section >= 0 || raw[i].extended)
            seg[nseg++] = &raw[i];
        else if (k < nout && plain_param(m, &raw[i], &out[k]))
            k++;
    }
    if (k < nout)
        k += rfc2231_params(m, seg, nseg, out + k, nout - k);
    free(raw);
    free(seg);
    *params_r = out;
    *n_r = k;
}
