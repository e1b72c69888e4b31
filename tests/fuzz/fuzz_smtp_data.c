/* libFuzzer harness for the DATA reader and writer of lib/smtp.
 *
 * The first octet chooses where the rest is cut in two; the reader must
 * give the same result (return code, octets consumed, flags, size, output)
 * for the whole input, the two pieces, and (for small inputs) one octet at
 * a time. With bare line ends and long lines allowed and no size limit, the
 * reader must also agree exactly with a reference model written from RFC
 * 5321 4.5.2 (lines end at CRLF only; "." alone ends; a leading "." goes),
 * which is what makes SMTP smuggling impossible: only a real CRLF.CRLF
 * ends the data. The writer's output must read back as its normalized
 * input, with no bare line end and the end exactly at its last octet. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "smtp_data.h"

#define FUZZ_CHECK(cond)                                                                           \
    do {                                                                                           \
        if (!(cond))                                                                               \
            abort();                                                                               \
    } while (0)

#define FUZZ_MAX_INPUT 65536
#define FUZZ_BYTEWISE_MAX 2048

typedef struct {
    char *data;
    size_t len, cap;
} fuzz_sink;

static void fuzz_sink_output(void *context, const char *data, size_t len)
{
    fuzz_sink *s = context;
    FUZZ_CHECK(len > 0 && s->len + len <= s->cap);
    memcpy(s->data + s->len, data, len);
    s->len += len;
}

typedef struct {
    int rc;
    size_t consumed;
    unsigned flags;
    uint64_t size;
    unsigned code;
} fuzz_result;

/* Feeds in[0..len) in pieces of at most step octets, with one cut at `cut`
 * (0 = none), stopping at the end as a server would. */
static fuzz_result fuzz_read(const smtp_data_options *o, const char *in, size_t len, size_t cut,
                             size_t step, fuzz_sink *out)
{
    smtp_data_reader r;
    fuzz_result res = {0, 0, 0, 0, 0};
    size_t fed = 0;

    out->len = 0;
    smtp_data_reader_init(&r, o, fuzz_sink_output, out);
    while (fed < len) {
        size_t n = len - fed;
        if (step > 0 && n > step)
            n = step;
        if (cut > fed && cut < fed + n)
            n = cut - fed;
        size_t consumed;
        smtp_error err = {0, {0, 0, 0}, NULL};
        int rc = smtp_data_reader_feed(&r, in + fed, n, &consumed, &err);
        FUZZ_CHECK(consumed <= n);
        if (rc != 0) {
            FUZZ_CHECK(rc == 1 || rc == -1);
            FUZZ_CHECK(rc == 1 || (err.text != NULL && (err.code == 552 || err.code == 550)));
            res.rc = rc;
            res.code = rc < 0 ? err.code : 0;
            res.consumed = fed + consumed;
            break;
        }
        FUZZ_CHECK(consumed == n);
        fed += n;
        res.consumed = fed;
    }
    res.flags = r.flags;
    res.size = r.size;
    return res;
}

static void fuzz_same(const fuzz_result *a, const fuzz_sink *ao, const fuzz_result *b,
                      const fuzz_sink *bo)
{
    FUZZ_CHECK(a->rc == b->rc && a->consumed == b->consumed && a->flags == b->flags &&
               a->size == b->size && a->code == b->code);
    FUZZ_CHECK(ao->len == bo->len && memcmp(ao->data, bo->data, ao->len) == 0);
}

/* The reference: RFC 5321 4.5.2 on the whole buffer. Returns 1 with the
 * end found (*consumed_r), 0 without; out gets the unstuffed text (of the
 * complete lines only, when there is no end). */
static int fuzz_reference(const char *in, size_t len, fuzz_sink *out, size_t *consumed_r)
{
    size_t start = 0;

    out->len = 0;
    for (;;) {
        size_t e = start;
        while (e + 1 < len && !(in[e] == '\r' && in[e + 1] == '\n'))
            e++;
        if (e + 1 >= len)
            return 0; /* no CRLF: the line is not complete */
        const char *line = in + start;
        size_t n = e - start;
        if (n == 1 && line[0] == '.') {
            *consumed_r = e + 2;
            return 1;
        }
        if (n > 0 && line[0] == '.')
            line++, n--;
        memcpy(out->data + out->len, line, n);
        out->len += n;
        memcpy(out->data + out->len, "\r\n", 2);
        out->len += 2;
        start = e + 2;
    }
}

/* Flags the reference text itself shows (bare CR, bare LF, long lines). */
static unsigned fuzz_text_flags(const char *s, size_t len, size_t max_line)
{
    unsigned f = 0;
    size_t line = 0;

    for (size_t i = 0; i < len; i++) {
        if (s[i] == '\n') {
            if (i == 0 || s[i - 1] != '\r')
                f |= SMTP_DATA_BARE_LF;
            if (line + 1 > max_line)
                f |= SMTP_DATA_LONG_LINE;
            line = 0;
            continue;
        }
        if (s[i] == '\r' && (i + 1 == len || s[i + 1] != '\n'))
            f |= SMTP_DATA_BARE_CR;
        if (s[i] == '\0')
            f |= SMTP_DATA_NUL;
        if ((unsigned char)s[i] >= 0x80)
            f |= SMTP_DATA_8BIT;
        line++;
    }
    return f;
}

static void fuzz_writer(const char *in, size_t len, size_t cut, fuzz_sink *wire, fuzz_sink *back)
{
    smtp_data_writer w;
    smtp_data_options o;

    wire->len = 0;
    smtp_data_writer_init(&w);
    smtp_data_writer_feed(&w, in, cut, fuzz_sink_output, wire);
    smtp_data_writer_feed(&w, in + cut, len - cut, fuzz_sink_output, wire);
    smtp_data_writer_end(&w, fuzz_sink_output, wire);
    FUZZ_CHECK(wire->len <= 2 * len + 2 + 5);

    smtp_data_options_default(&o);
    o.max_size = 0;
    o.long_lines_ok = true;
    fuzz_result r = fuzz_read(&o, wire->data, wire->len, 0, 0, back);
    FUZZ_CHECK(r.rc == 1 && r.consumed == wire->len);
    FUZZ_CHECK((r.flags & (SMTP_DATA_BARE_CR | SMTP_DATA_BARE_LF)) == 0);
    /* back = in with every CRLF, bare CR and bare LF made CRLF */
    size_t j = 0;
    for (size_t i = 0; i < len; i++) {
        if (in[i] == '\r' || in[i] == '\n') {
            FUZZ_CHECK(j + 1 < back->len && back->data[j] == '\r' && back->data[j + 1] == '\n');
            j += 2;
            if (in[i] == '\r' && i + 1 < len && in[i + 1] == '\n')
                i++;
        } else {
            FUZZ_CHECK(j < back->len && back->data[j] == in[i]);
            j++;
        }
    }
    if (len > 0 && in[len - 1] != '\r' && in[len - 1] != '\n')
        j += 2;
    FUZZ_CHECK(j == back->len);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static char bufs[6][2 * FUZZ_MAX_INPUT + 16];
    fuzz_sink a = {bufs[0], 0, sizeof(bufs[0])}, b = {bufs[1], 0, sizeof(bufs[1])};
    fuzz_sink c = {bufs[2], 0, sizeof(bufs[2])}, ref = {bufs[3], 0, sizeof(bufs[3])};
    smtp_data_options lax, strict, small, shortl;

    if (size == 0 || size > FUZZ_MAX_INPUT)
        return 0;
    const char *in = (const char *)data + 1;
    size_t len = size - 1;
    size_t cut = (size_t)data[0] * len / 255;

    smtp_data_options_default(&lax);
    lax.max_size = 0;
    lax.bare_line_ends_ok = true;
    lax.long_lines_ok = true;
    smtp_data_options_default(&strict);
    smtp_data_options_default(&small);
    small.max_size = data[0] % 64;
    smtp_data_options_default(&shortl);
    shortl.max_line = 2 + data[0] % 16;

    /* lax: the same whatever the cuts, and equal to the reference */
    fuzz_result whole = fuzz_read(&lax, in, len, 0, 0, &a);
    fuzz_result two = fuzz_read(&lax, in, len, cut, 0, &b);
    fuzz_same(&whole, &a, &two, &b);
    if (len <= FUZZ_BYTEWISE_MAX) {
        fuzz_result one = fuzz_read(&lax, in, len, 0, 1, &b);
        fuzz_same(&whole, &a, &one, &b);
    }
    size_t ref_consumed = 0;
    int ref_rc = fuzz_reference(in, len, &ref, &ref_consumed);
    FUZZ_CHECK(whole.rc == ref_rc);
    FUZZ_CHECK(whole.size == a.len);
    if (ref_rc == 1) {
        FUZZ_CHECK(whole.consumed == ref_consumed);
        FUZZ_CHECK(a.len == ref.len && memcmp(a.data, ref.data, a.len) == 0);
        FUZZ_CHECK(whole.flags == fuzz_text_flags(a.data, a.len, SMTP_TEXT_LINE_MAX));
        /* the end is a real CRLF.CRLF (or ".CRLF" at the very start) */
        FUZZ_CHECK(whole.consumed >= 3 && memcmp(in + whole.consumed - 3, ".\r\n", 3) == 0);
        FUZZ_CHECK(whole.consumed == 3 || memcmp(in + whole.consumed - 5, "\r\n", 2) == 0);
    } else {
        FUZZ_CHECK(whole.consumed == len);
        /* the complete lines so far are already out */
        FUZZ_CHECK(a.len >= ref.len && memcmp(a.data, ref.data, ref.len) == 0);
    }

    /* strict, size-limited and short-line readers: cut-independent, and
     * consistent with the lax run */
    const smtp_data_options *others[] = {&strict, &small, &shortl};
    for (size_t k = 0; k < 3; k++) {
        fuzz_result s1 = fuzz_read(others[k], in, len, 0, 0, &b);
        fuzz_result s2 = fuzz_read(others[k], in, len, cut, 0, &c);
        fuzz_same(&s1, &b, &s2, &c);
        FUZZ_CHECK(s1.consumed == whole.consumed && s1.size == whole.size);
        FUZZ_CHECK(b.len <= a.len && memcmp(a.data, b.data, b.len) == 0);
        unsigned common = SMTP_DATA_BARE_CR | SMTP_DATA_BARE_LF | SMTP_DATA_NUL | SMTP_DATA_8BIT;
        FUZZ_CHECK((s1.flags & common) == (whole.flags & common));
        if (whole.rc != 0) {
            bool refused = (s1.flags & SMTP_DATA_TOO_BIG) != 0 ||
                           (!others[k]->bare_line_ends_ok &&
                            (s1.flags & (SMTP_DATA_BARE_CR | SMTP_DATA_BARE_LF)) != 0) ||
                           (!others[k]->long_lines_ok && (s1.flags & SMTP_DATA_LONG_LINE) != 0);
            FUZZ_CHECK(s1.rc == (refused ? -1 : 1));
            if (!refused)
                FUZZ_CHECK(b.len == a.len);
        } else {
            FUZZ_CHECK(s1.rc == 0);
        }
        if (others[k]->max_size > 0)
            FUZZ_CHECK(((s1.flags & SMTP_DATA_TOO_BIG) != 0) == (s1.size > others[k]->max_size));
    }

    /* the writer, on the raw input and on what the reader produced */
    fuzz_writer(in, len, cut, &b, &c);
    if (whole.rc == 1)
        fuzz_writer(a.data, a.len, a.len / 2, &b, &c);
    return 0;
}
