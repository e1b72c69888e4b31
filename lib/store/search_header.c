/* lib/store: the SQL functions store_attach() registers on a connection:
 * om_header_match() for SEARCH HEADER and BCC (RFC 9051 6.4.4), and the
 * collation OM_CASEMAP (i;ascii-casemap, RFC 4790 9.2) for SORT. */
#include "store_int.h"

#include "mime.h"

#include <stdlib.h>
#include <string.h>

#define HM_IS_WSP(c) ((c) == ' ' || (c) == '\t')

static unsigned char hm_upper(unsigned char c)
{
    return c >= 'a' && c <= 'z' ? (unsigned char)(c - ('a' - 'A')) : c;
}

static bool hm_name_eq(const char *a, const char *b, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (hm_upper((unsigned char)a[i]) != hm_upper((unsigned char)b[i]))
            return false;
    return true;
}

/* Whether needle occurs in hay, ASCII case-insensitively. */
static bool hm_contains(const char *hay, size_t hlen, const char *needle, size_t nlen)
{
    if (nlen == 0)
        return true;
    const unsigned char *h = (const unsigned char *)hay, *n = (const unsigned char *)needle;
    unsigned char first = hm_upper(n[0]);
    for (size_t i = 0; i + nlen <= hlen; i++) {
        if (hm_upper(h[i]) != first)
            continue;
        size_t k = 1;
        while (k < nlen && hm_upper(h[i + k]) == hm_upper(n[k]))
            k++;
        if (k == nlen)
            return true;
    }
    return false;
}

/* RFC 5322 2.2.3: unfolding removes the CRLF before the WSP of a
 * continuation line; stray CR, LF and NUL are dropped too, and the outer
 * white space is trimmed. out has room for len bytes. */
static size_t hm_unfold(const char *v, size_t len, char *out)
{
    size_t n = 0;
    for (size_t i = 0; i < len; i++)
        if (v[i] != '\r' && v[i] != '\n' && v[i] != '\0')
            out[n++] = v[i];
    size_t start = 0;
    while (start < n && HM_IS_WSP(out[start]))
        start++;
    while (n > start && HM_IS_WSP(out[n - 1]))
        n--;
    memmove(out, out + start, n - start);
    return n - start;
}

static bool hm_needs_decoding(const char *v, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)v[i] >= 0x80 || (v[i] == '=' && i + 1 < len && v[i + 1] == '?'))
            return true;
    return false;
}

/* Whether one field value (folded, as in the message) contains needle,
 * raw or RFC 2047-decoded. */
static int hm_value_matches(const char *v, size_t len, const char *needle, size_t nlen,
                            bool *match_r)
{
    char small[1024];
    char *u = len <= sizeof(small) ? small : malloc(len);
    if (u == NULL)
        return STORE_ERR_NOMEM;
    size_t ulen = hm_unfold(v, len, u);
    int rc = STORE_OK;
    *match_r = hm_contains(u, ulen, needle, nlen);
    if (!*match_r && hm_needs_decoding(u, ulen)) {
        char *d = mime_decode_header(u, ulen, STORE_SEARCH_HEADER_MAX);
        if (d == NULL)
            rc = STORE_ERR_NOMEM;
        else
            *match_r = hm_contains(d, strlen(d), needle, nlen);
        free(d);
    }
    if (u != small)
        free(u);
    return rc;
}

/* The end of the line starting at pos: the offset after its LF (or len). */
static size_t hm_line_end(const char *h, size_t pos, size_t len)
{
    const char *lf = memchr(h + pos, '\n', len - pos);
    return lf != NULL ? (size_t)(lf - h) + 1 : len;
}

int store_header_match(const char *hdr, size_t len, const char *name, const char *needle,
                       bool *match_r)
{
    *match_r = false;
    size_t name_len = strlen(name), nlen = strlen(needle), pos = 0;
    while (pos < len) {
        size_t end = hm_line_end(hdr, pos, len);
        size_t content = end - pos;
        while (content > 0 && (hdr[pos + content - 1] == '\n' || hdr[pos + content - 1] == '\r'))
            content--;
        if (content == 0)
            break; /* the empty line that ends the header */
        /* the field: this line and its continuation lines (starting with WSP) */
        size_t field_end = end;
        while (field_end < len && HM_IS_WSP(hdr[field_end]))
            field_end = hm_line_end(hdr, field_end, len);
        const char *colon = HM_IS_WSP(hdr[pos]) ? NULL : memchr(hdr + pos, ':', content);
        if (colon != NULL) {
            size_t n = (size_t)(colon - (hdr + pos));
            while (n > 0 && HM_IS_WSP(hdr[pos + n - 1])) /* obs "Subject :" (RFC 5322 4.5) */
                n--;
            if (n == name_len && hm_name_eq(hdr + pos, name, n)) {
                size_t voff = (size_t)(colon - hdr) + 1;
                int rc = hm_value_matches(hdr + voff, field_end - voff, needle, nlen, match_r);
                if (rc != STORE_OK || *match_r)
                    return rc;
            }
        }
        pos = field_end;
    }
    return STORE_OK;
}

/* om_header_match(body_id, header_len, name, needle): 1 when the header of
 * the body has a field name containing needle. The header is read with
 * incremental blob I/O (the same bytes as substr(raw, 1, header_len) of
 * body_raw), so a large message's body is never read. */
static void hm_sql(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    (void)argc;
    const char *name = (const char *)sqlite3_value_text(argv[2]);
    const char *needle = (const char *)sqlite3_value_text(argv[3]);
    sqlite3_int64 want = sqlite3_value_int64(argv[1]);
    if (name == NULL || needle == NULL || want < 0) {
        sqlite3_result_int(ctx, 0);
        return;
    }
    sqlite3_blob *blob = NULL;
    int src = sqlite3_blob_open(sqlite3_context_db_handle(ctx), "main", "body_raw", "raw",
                                sqlite3_value_int64(argv[0]), 0, &blob);
    if (src != SQLITE_OK) {
        sqlite3_blob_close(blob);
        sqlite3_result_error_code(ctx, src);
        return;
    }
    int n = sqlite3_blob_bytes(blob);
    if (want < n)
        n = (int)want;
    if (n > (int)STORE_SEARCH_HEADER_MAX)
        n = (int)STORE_SEARCH_HEADER_MAX;
    char *h = malloc(n > 0 ? (size_t)n : 1);
    if (h == NULL) {
        sqlite3_blob_close(blob);
        sqlite3_result_error_nomem(ctx);
        return;
    }
    src = sqlite3_blob_read(blob, h, n, 0);
    sqlite3_blob_close(blob);
    bool match = false;
    int rc = src == SQLITE_OK ? store_header_match(h, (size_t)n, name, needle, &match) : STORE_OK;
    free(h);
    if (src != SQLITE_OK)
        sqlite3_result_error_code(ctx, src);
    else if (rc != STORE_OK)
        sqlite3_result_error_nomem(ctx);
    else
        sqlite3_result_int(ctx, match);
}

/* i;ascii-casemap (RFC 4790 9.2): octets compared after mapping a-z to A-Z
 * (not to lowercase as NOCASE does: "_" sorts after "A" here). */
static int casemap_cmp(void *arg, int n1, const void *a, int n2, const void *b)
{
    (void)arg;
    const unsigned char *x = a, *y = b;
    int n = n1 < n2 ? n1 : n2;
    for (int i = 0; i < n; i++) {
        unsigned char cx = hm_upper(x[i]), cy = hm_upper(y[i]);
        if (cx != cy)
            return cx < cy ? -1 : 1;
    }
    return n1 < n2 ? -1 : n1 > n2 ? 1 : 0;
}

int store_sql_register(sqlite3 *db)
{
    int src = sqlite3_create_function_v2(db, "om_header_match", 4, SQLITE_UTF8 | SQLITE_DIRECTONLY,
                                         NULL, hm_sql, NULL, NULL, NULL);
    if (src == SQLITE_OK)
        src = sqlite3_create_collation_v2(db, "OM_CASEMAP", SQLITE_UTF8, NULL, casemap_cmp, NULL);
    return store_rc_sqlite(src);
}
