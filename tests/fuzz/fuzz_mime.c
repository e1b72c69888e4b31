/* libFuzzer harness for lib/mime: parse, then render ENVELOPE,
 * BODYSTRUCTURE, BODY and the index text, and check invariants:
 * - every part's header and body lie within the input, body after header,
 *   a child within its parent;
 * - every part's section number resolves back to it (or, for an
 *   encapsulated message, to its message/rfc822 part);
 * - the IMAP strings are well formed: quoted strings and literals skipped,
 *   parentheses balance and never go negative; no NUL, CR or LF outside
 *   literals;
 * - the index text is valid UTF-8 within its bound;
 * - a tiny limits struct never breaks any of the above. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mime.h"

#define FUZZ_CHECK(cond)                                                                           \
    do {                                                                                           \
        if (!(cond))                                                                               \
            abort();                                                                               \
    } while (0)

#define FUZZ_INDEX_MAX 4096

static void check_imap(const char *s)
{
    FUZZ_CHECK(s != NULL);
    size_t len = strlen(s);
    long depth = 0;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (c == '"') {
            for (i++; i < len && s[i] != '"'; i++) {
                FUZZ_CHECK(s[i] != '\r' && s[i] != '\n' && (unsigned char)s[i] < 0x80);
                if (s[i] == '\\') {
                    i++;
                    FUZZ_CHECK(i < len && (s[i] == '"' || s[i] == '\\'));
                }
            }
            FUZZ_CHECK(i < len);
        } else if (c == '{') {
            char *end = NULL;
            unsigned long long n = strtoull(s + i + 1, &end, 10);
            FUZZ_CHECK(end != NULL && end[0] == '}' && end[1] == '\r' && end[2] == '\n');
            size_t data = (size_t)(end + 3 - s);
            FUZZ_CHECK(n <= len - data);
            i = data + (size_t)n - 1; /* the loop's i++ lands after the literal */
        } else if (c == '(') {
            depth++;
        } else if (c == ')') {
            FUZZ_CHECK(--depth >= 0);
        } else {
            FUZZ_CHECK(c != '\r' && c != '\n');
        }
    }
    FUZZ_CHECK(depth == 0);
    FUZZ_CHECK(len > 0 && s[0] == '(' && s[len - 1] == ')');
}

static bool utf8_ok(const unsigned char *s, size_t len)
{
    for (size_t i = 0; i < len;) {
        unsigned char c = s[i];
        size_t n = c < 0x80                 ? 1
                   : c >= 0xc2 && c <= 0xdf ? 2
                   : c >= 0xe0 && c <= 0xef ? 3
                   : c >= 0xf0 && c <= 0xf4 ? 4
                                            : 0;
        if (n == 0 || i + n > len)
            return false;
        for (size_t k = 1; k < n; k++)
            if ((s[i + k] & 0xc0) != 0x80)
                return false;
        i += n;
    }
    return true;
}

static void check_part(const mime_message *m, const mime_part *p, size_t start, size_t end)
{
    FUZZ_CHECK(p->header_off >= start && p->header_off <= end);
    FUZZ_CHECK(p->header_len <= end - p->header_off);
    FUZZ_CHECK(p->body_off == p->header_off + p->header_len);
    FUZZ_CHECK(p->body_off + p->body_len == end);
    for (size_t i = 0; i < p->nfields; i++) {
        FUZZ_CHECK(p->fields[i].name_off >= p->header_off);
        FUZZ_CHECK(p->fields[i].value_off + p->fields[i].value_len <= p->body_off);
    }
    const mime_part *back = mime_section(m, p->section);
    FUZZ_CHECK(back == p || (p->parent != NULL && back == p->parent && p->parent->is_message));
    FUZZ_CHECK(p->type != NULL && p->subtype != NULL);
    for (size_t i = 0; i < p->nchildren; i++) {
        const mime_part *c = p->children[i];
        FUZZ_CHECK(c->parent == p);
        size_t cend = c->body_off + c->body_len;
        FUZZ_CHECK(c->header_off >= p->body_off && cend <= p->body_off + p->body_len);
        check_part(m, c, c->header_off, cend);
        if (p->is_message) {
            char *env = mime_part_envelope(m, p);
            check_imap(env);
            free(env);
        }
    }
}

static void run(const char *data, size_t size, const mime_limits *limits)
{
    mime_message *m = mime_parse(data, size, limits);
    if (m == NULL)
        return; /* out of memory only */
    check_part(m, mime_root(m), 0, size);
    char *s = mime_envelope(m);
    check_imap(s);
    free(s);
    s = mime_bodystructure(m, true);
    check_imap(s);
    free(s);
    s = mime_bodystructure(m, false);
    check_imap(s);
    free(s);
    s = mime_index_text(m, FUZZ_INDEX_MAX);
    FUZZ_CHECK(s != NULL && strlen(s) <= FUZZ_INDEX_MAX);
    FUZZ_CHECK(utf8_ok((const unsigned char *)s, strlen(s)));
    free(s);
    char *v = NULL;
    if (mime_header_get(m, NULL, "subject", &v) == 1) {
        FUZZ_CHECK(utf8_ok((const unsigned char *)v, strlen(v)));
        char *base = mime_subject_base(v);
        if (base != NULL) { /* the base of a base is itself */
            FUZZ_CHECK(strlen(base) <= strlen(v));
            char *again = mime_subject_base(base);
            FUZZ_CHECK(again == NULL || strcmp(again, base) == 0);
            free(again);
            free(base);
        }
        free(v);
    }
    mime_free(&m);
    FUZZ_CHECK(m == NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    run((const char *)data, size, NULL);
    mime_limits tiny = {
        .max_depth = 2,
        .max_parts = 4,
        .max_header_bytes = 64,
        .max_header_fields = 3,
        .max_line = 40,
        .max_params = 2,
        .max_value = 16,
        .max_output = 256,
    };
    run((const char *)data, size, &tiny);

    /* the decoders alone */
    char *out;
    size_t len;
    if (mime_base64_decode((const char *)data, size, 1024, &out, &len) == 0) {
        FUZZ_CHECK(len <= 1024 && len <= size);
        free(out);
    }
    if (mime_qp_decode((const char *)data, size, size & 1, 1024, &out, &len) == 0) {
        FUZZ_CHECK(len <= 1024);
        free(out);
    }
    out = mime_decode_header((const char *)data, size, 1024);
    if (out != NULL) {
        FUZZ_CHECK(strlen(out) <= 1024 && utf8_ok((const unsigned char *)out, strlen(out)));
        free(out);
    }
    return 0;
}
