/* Table-driven tests of lib/smtp DATA: the reader (unstuffing, the end,
 * size and line limits, bare CR / LF and the SMTP smuggling variants) and
 * the writer. Every row is fed whole, cut in two at every position, and one
 * octet at a time: all must give the same result. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "smtp_data.h"

enum {
    O_STRICT,    /* defaults */
    O_LAX,       /* bare line ends and long lines only flagged */
    O_SMALL,     /* max_size 10 */
    O_SHORT,     /* max_line 10 */
    O_SHORT_OK,  /* max_line 10, long lines only flagged */
    O_SMALL_LAX, /* max_size 10, bare line ends ok */
};

#define F_BIG SMTP_DATA_TOO_BIG
#define F_LONG SMTP_DATA_LONG_LINE
#define F_CR SMTP_DATA_BARE_CR
#define F_LF SMTP_DATA_BARE_LF
#define F_NUL SMTP_DATA_NUL
#define F_8 SMTP_DATA_8BIT

typedef struct {
    const char *in;
    size_t len; /* 0 = strlen */
    int opts;
    int rc;          /* 1, 0 (no end yet) or -1 */
    const char *out; /* what the output callback must have received */
    size_t out_len;  /* 0 = strlen */
    size_t consumed; /* octets used up, for rc != 0 (rc 0: all) */
    unsigned flags;
    unsigned code; /* reply for rc -1 */
} data_row;

static const data_row data_rows[] = {
    /* plain messages and the end (RFC 5321 4.1.4) */
    {".\r\n", 0, O_STRICT, 1, "", 0, 3, 0, 0},
    {"Subject: x\r\n\r\nbody\r\n.\r\n", 0, O_STRICT, 1, "Subject: x\r\n\r\nbody\r\n", 0, 23, 0, 0},
    {"\r\n.\r\n", 0, O_STRICT, 1, "\r\n", 0, 5, 0, 0},
    {"a\r\n.\r\nQUIT\r\n", 0, O_STRICT, 1, "a\r\n", 0, 6, 0, 0},
    {"a\r\n.\r\n.\r\n", 0, O_STRICT, 1, "a\r\n", 0, 6, 0, 0},
    /* dot-stuffing (RFC 5321 4.5.2) */
    {"..a\r\n.\r\n", 0, O_STRICT, 1, ".a\r\n", 0, 8, 0, 0},
    {".a\r\n.\r\n", 0, O_STRICT, 1, "a\r\n", 0, 7, 0, 0},
    {"a\r\n..\r\n.\r\n", 0, O_STRICT, 1, "a\r\n.\r\n", 0, 10, 0, 0},
    {"...\r\n.\r\n", 0, O_STRICT, 1, "..\r\n", 0, 8, 0, 0},
    {"a.b\r\n.\r\n", 0, O_STRICT, 1, "a.b\r\n", 0, 8, 0, 0},
    {"a\r\n. \r\n.\r\n", 0, O_STRICT, 1, "a\r\n \r\n", 0, 10, 0, 0},
    {"a\r\n.\r\n\r\n", 0, O_STRICT, 1, "a\r\n", 0, 6, 0, 0},
    /* no end yet */
    {"abc\r\n", 0, O_STRICT, 0, "abc\r\n", 0, 0, 0, 0},
    {"abc\r\n.", 0, O_STRICT, 0, "abc\r\n", 0, 0, 0, 0},
    {"abc\r\n.\r", 0, O_STRICT, 0, "abc\r\n", 0, 0, 0, 0},
    {".", 0, O_STRICT, 0, "", 0, 0, 0, 0},
    {"", 0, O_STRICT, 0, "", 0, 0, 0, 0},
    /* SMTP smuggling: none of these ends the data; strict refuses at the
     * real end, lax keeps them as content */
    {"a\n.\nb\r\n.\r\n", 0, O_STRICT, -1, "a", 0, 10, F_LF, 550},
    {"a\n.\nb\r\n.\r\n", 0, O_LAX, 1, "a\n.\nb\r\n", 0, 10, F_LF, 0},
    {"a\r\n.\nb\r\n.\r\n", 0, O_STRICT, -1, "a\r\n", 0, 11, F_LF, 550},
    {"a\r\n.\nb\r\n.\r\n", 0, O_LAX, 1, "a\r\n\nb\r\n", 0, 11, F_LF, 0},
    {"a\n.\r\nb\r\n.\r\n", 0, O_STRICT, -1, "a", 0, 11, F_LF, 550},
    {"a\n.\r\nb\r\n.\r\n", 0, O_LAX, 1, "a\n.\r\nb\r\n", 0, 11, F_LF, 0},
    {"a\r.\r\nb\r\n.\r\n", 0, O_STRICT, -1, "a\r", 0, 11, F_CR, 550},
    {"a\r.\r\nb\r\n.\r\n", 0, O_LAX, 1, "a\r.\r\nb\r\n", 0, 11, F_CR, 0},
    {"a\r.\rb\r\n.\r\n", 0, O_LAX, 1, "a\r.\rb\r\n", 0, 10, F_CR, 0},
    {"a\r\n.\r\r\n.\r\n", 0, O_LAX, 1, "a\r\n\r\r\n", 0, 10, F_CR, 0},
    {"a\r\n.\r\r\n.\r\n", 0, O_STRICT, -1, "a\r\n\r", 0, 10, F_CR, 550},
    {"a\r\n.\rx\r\n.\r\n", 0, O_LAX, 1, "a\r\n\rx\r\n", 0, 11, F_CR, 0},
    {"\n.\n", 0, O_LAX, 0, "\n.\n", 0, 0, F_LF, 0},
    {"\n.\r\n", 0, O_LAX, 0, "\n.\r\n", 0, 0, F_LF, 0},
    {"\n.\r\n.\r\n", 0, O_LAX, 1, "\n.\r\n", 0, 7, F_LF, 0},
    {"a\n\n.\n\n", 0, O_LAX, 0, "a\n\n.\n\n", 0, 0, F_LF, 0},
    {"x\r\r\n.\r\n", 0, O_STRICT, -1, "x\r", 0, 7, F_CR, 550},
    {"x\r\r\n.\r\n", 0, O_LAX, 1, "x\r\r\n", 0, 7, F_CR, 0},
    {"a\r\n\r.\r\n.\r\n", 0, O_LAX, 1, "a\r\n\r.\r\n", 0, 10, F_CR, 0},
    {"a\r\n.\n.\r\n", 0, O_LAX, 0, "a\r\n\n.\r\n", 0, 0, F_LF, 0},
    {"a\nb\rc\r\n.\r\n", 0, O_STRICT, -1, "a", 0, 10, F_LF | F_CR, 550},
    /* size (RFC 1870): counted unstuffed, CRLF included; the reader goes on
     * to the end so the session stays in sync */
    {"01234567\r\n.\r\n", 0, O_SMALL, 1, "01234567\r\n", 0, 13, 0, 0},
    {"012345678\r\n.\r\n", 0, O_SMALL, -1, "012345678\r", 0, 14, F_BIG, 552},
    {"0123456789\r\n.\r\nNOOP\r\n", 0, O_SMALL, -1, "0123456789", 0, 15, F_BIG, 552},
    {"..234567\r\n.\r\n", 0, O_SMALL, 1, ".234567\r\n", 0, 13, 0, 0},
    {"0123456789abcdef\r\nmore\r\n.\r\n", 0, O_SMALL, -1, "0123456789", 0, 27, F_BIG, 552},
    {"0123456789a\n.\r\n", 0, O_SMALL_LAX, 0, "0123456789", 0, 0, F_BIG | F_LF, 0},
    {"a\nb\r\n0123456789\r\n.\r\n", 0, O_SMALL_LAX, -1, "a\nb\r\n01234", 0, 20, F_BIG | F_LF, 552},
    /* line length (RFC 5321 4.5.3.1.6), CRLF included, stuffing not */
    {"12345678\r\n.\r\n", 0, O_SHORT, 1, "12345678\r\n", 0, 13, 0, 0},
    {"123456789\r\n.\r\n", 0, O_SHORT, -1, "123456789", 0, 14, F_LONG, 550},
    {"123456789\r\n.\r\n", 0, O_SHORT_OK, 1, "123456789\r\n", 0, 14, F_LONG, 0},
    {"..2345678\r\n.\r\n", 0, O_SHORT, 1, ".2345678\r\n", 0, 14, 0, 0},
    {"123456789\n.\r\n", 0, O_SHORT_OK, 0, "123456789\n.\r\n", 0, 0, F_LF, 0},
    {"ab\r\n12345678\r\nab\r\n.\r\n", 0, O_SHORT, 1, "ab\r\n12345678\r\nab\r\n", 0, 21, 0, 0},
    /* other octets */
    {"a\0b\xff\r\n.\r\n", 9, O_STRICT, 1, "a\0b\xff\r\n", 6, 9, F_NUL | F_8, 0},
    {"\xc3\xa9t\xc3\xa9\r\n.\r\n", 0, O_STRICT, 1, "\xc3\xa9t\xc3\xa9\r\n", 0, 10, F_8, 0},
    /* precedence of the refusals: too big first */
    {"0123456789\nab\r\n.\r\n", 0, O_SMALL, -1, "0123456789", 0, 18, F_BIG | F_LF, 552},
};

static void options_for(int which, smtp_data_options *o)
{
    smtp_data_options_default(o);
    switch (which) {
    case O_LAX:
        o->bare_line_ends_ok = true;
        o->long_lines_ok = true;
        break;
    case O_SMALL:
        o->max_size = 10;
        break;
    case O_SHORT:
        o->max_line = 10;
        break;
    case O_SHORT_OK:
        o->max_line = 10;
        o->long_lines_ok = true;
        o->bare_line_ends_ok = true;
        break;
    case O_SMALL_LAX:
        o->max_size = 10;
        o->bare_line_ends_ok = true;
        break;
    default:
        break;
    }
}

typedef struct {
    char data[4096];
    size_t len;
} sink;

static void sink_output(void *context, const char *data, size_t len)
{
    sink *s = context;
    assert_true(len > 0);
    assert_true(s->len + len <= sizeof(s->data));
    memcpy(s->data + s->len, data, len);
    s->len += len;
}

typedef struct {
    int rc;
    size_t consumed;
    unsigned flags;
    unsigned code;
    uint64_t size;
} data_result;

/* Feeds in cut at cuts (increasing, 0 ends the list), stopping at the end
 * of the data as a server would. */
static data_result run_data(const data_row *r, size_t len, const size_t *cuts, sink *out)
{
    smtp_data_reader rd;
    smtp_data_options o;
    data_result res = {0, 0, 0, 0, 0};
    size_t fed = 0;

    options_for(r->opts, &o);
    out->len = 0;
    smtp_data_reader_init(&rd, &o, sink_output, out);
    for (size_t c = 0; fed < len; c++) {
        size_t upto = cuts[c] != 0 && cuts[c] < len ? cuts[c] : len;
        size_t consumed;
        smtp_error err = {0, {0, 0, 0}, NULL};
        int rc = smtp_data_reader_feed(&rd, r->in + fed, upto - fed, &consumed, &err);
        assert_true(consumed <= upto - fed);
        if (rc != 0) {
            res.rc = rc;
            res.consumed = fed + consumed;
            res.code = rc < 0 ? err.code : 0;
            if (rc < 0)
                assert_non_null(err.text);
            /* a finished reader says the same again and takes nothing */
            smtp_error again = {0, {0, 0, 0}, NULL};
            assert_int_equal(smtp_data_reader_feed(&rd, "x", 1, &consumed, &again), rc);
            assert_int_equal(consumed, 0);
            assert_int_equal(again.code, res.code);
            break;
        }
        assert_int_equal(consumed, upto - fed);
        fed = upto;
        res.consumed = fed;
    }
    res.flags = rd.flags;
    res.size = rd.size;
    return res;
}

static void check_data(const data_row *r, size_t i, const char *how, const data_result *res,
                       const sink *out)
{
    size_t len = r->len != 0 ? r->len : strlen(r->in);
    size_t out_len = r->out_len != 0 ? r->out_len : strlen(r->out);
    size_t consumed = r->rc != 0 ? r->consumed : len;

    if (res->rc != r->rc || res->consumed != consumed || res->flags != r->flags ||
        res->code != r->code)
        fail_msg("data row %zu (%s): rc %d consumed %zu flags %#x code %u; wanted rc %d "
                 "consumed %zu flags %#x code %u",
                 i, how, res->rc, res->consumed, res->flags, res->code, r->rc, consumed, r->flags,
                 r->code);
    if (out->len != out_len || memcmp(out->data, r->out, out_len) != 0)
        fail_msg("data row %zu (%s): output \"%.*s\" (%zu), wanted \"%s\" (%zu)", i, how,
                 (int)out->len, out->data, out->len, r->out, out_len);
}

static void test_data_rows(void **state)
{
    (void)state;
    static sink out;
    for (size_t i = 0; i < sizeof(data_rows) / sizeof(data_rows[0]); i++) {
        const data_row *r = &data_rows[i];
        size_t len = r->len != 0 ? r->len : strlen(r->in);
        size_t cuts[256];
        data_result res, whole;
        char how[32];

        cuts[0] = 0;
        whole = run_data(r, len, cuts, &out);
        check_data(r, i, "whole", &whole, &out);
        /* every two-piece cut */
        for (size_t at = 1; at < len; at++) {
            cuts[0] = at;
            cuts[1] = 0;
            res = run_data(r, len, cuts, &out);
            snprintf(how, sizeof(how), "cut at %zu", at);
            check_data(r, i, how, &res, &out);
            assert_int_equal(res.size, whole.size);
        }
        /* one octet at a time */
        for (size_t k = 0; k < len; k++)
            cuts[k] = k + 1;
        cuts[len] = 0;
        res = run_data(r, len, cuts, &out);
        check_data(r, i, "bytewise", &res, &out);
        assert_int_equal(res.size, whole.size);
    }
}

static void test_data_size_and_lines(void **state)
{
    (void)state;
    smtp_data_reader rd;
    size_t consumed;
    smtp_error err;

    /* size is counted on past the limit; lines are counted */
    smtp_data_options o;
    smtp_data_options_default(&o);
    assert_int_equal(o.max_size, SMTP_DATA_SIZE_DEFAULT);
    assert_int_equal(o.max_line, SMTP_TEXT_LINE_MAX);
    o.max_size = 4;
    smtp_data_reader_init(&rd, &o, NULL, NULL);
    const char *in = "abc\r\ndef\r\n..\r\n.\r\n";
    assert_int_equal(smtp_data_reader_feed(&rd, in, strlen(in), &consumed, &err), -1);
    assert_int_equal(rd.size, 13);
    assert_int_equal(rd.lines, 3);
    assert_int_equal(err.code, 552);
    assert_int_equal(err.enhanced.cls, 5);
    assert_int_equal(err.enhanced.subject, 3);
    assert_int_equal(err.enhanced.detail, 4);

    /* NULL options = defaults; max_line 0 = SMTP_TEXT_LINE_MAX */
    static char big[SMTP_TEXT_LINE_MAX + 16];
    memset(big, 'x', sizeof(big));
    memcpy(big + SMTP_TEXT_LINE_MAX - 2, "\r\n.\r\n", 5);
    smtp_data_reader_init(&rd, NULL, NULL, NULL);
    assert_int_equal(smtp_data_reader_feed(&rd, big, SMTP_TEXT_LINE_MAX + 3, &consumed, &err), 1);
    assert_int_equal(rd.flags, 0);
    memset(big, 'x', sizeof(big));
    memcpy(big + SMTP_TEXT_LINE_MAX - 1, "\r\n.\r\n", 5);
    o.max_size = 0;
    o.max_line = 0;
    smtp_data_reader_init(&rd, &o, NULL, NULL);
    assert_int_equal(smtp_data_reader_feed(&rd, big, SMTP_TEXT_LINE_MAX + 4, &consumed, &err), -1);
    assert_int_equal(rd.flags, SMTP_DATA_LONG_LINE);
    assert_int_equal(err.code, 550);
    assert_int_equal(err.enhanced.subject, 6);
}

/* ---- writer ------------------------------------------------------------- */

typedef struct {
    const char *in;
    const char *want;
} writer_row;

static const writer_row writer_rows[] = {
    {"", ".\r\n"},
    {"a", "a\r\n.\r\n"},
    {"a\r\n", "a\r\n.\r\n"},
    {"a\n", "a\r\n.\r\n"},
    {"a\r", "a\r\n.\r\n"},
    {".", "..\r\n.\r\n"},
    {".a\n.\n", "..a\r\n..\r\n.\r\n"},
    {"a\rb", "a\r\nb\r\n.\r\n"},
    {"a\r\rb", "a\r\n\r\nb\r\n.\r\n"},
    {"\r\n.\r\n", "\r\n..\r\n.\r\n"},
    {"a\n.\nb", "a\r\n..\r\nb\r\n.\r\n"},
    {"a\r.\r\n", "a\r\n..\r\n.\r\n"},
    {"a\n.\r\nb", "a\r\n..\r\nb\r\n.\r\n"},
    {"x.y\r\n", "x.y\r\n.\r\n"},
    {"\n\n", "\r\n\r\n.\r\n"},
    {"..\r\n", "...\r\n.\r\n"},
};

static void run_writer(const char *in, size_t len, size_t step, sink *out)
{
    smtp_data_writer w;

    out->len = 0;
    smtp_data_writer_init(&w);
    for (size_t k = 0; k < len; k += step) {
        size_t n = len - k < step ? len - k : step;
        size_t before = out->len;
        smtp_data_writer_feed(&w, in + k, n, sink_output, out);
        assert_true(out->len - before <= 2 * n + 1);
    }
    size_t before = out->len;
    smtp_data_writer_end(&w, sink_output, out);
    assert_true(out->len - before <= 5);
}

static void test_writer_rows(void **state)
{
    (void)state;
    static sink out, back;
    for (size_t i = 0; i < sizeof(writer_rows) / sizeof(writer_rows[0]); i++) {
        const writer_row *r = &writer_rows[i];
        size_t len = strlen(r->in);
        for (size_t step = 1; step <= (len > 0 ? len : 1); step++) {
            run_writer(r->in, len, step, &out);
            if (out.len != strlen(r->want) || memcmp(out.data, r->want, out.len) != 0)
                fail_msg("writer row %zu step %zu: \"%.*s\"", i, step, (int)out.len, out.data);
        }
        /* what the writer sends, the reader reads back whole and clean */
        smtp_data_reader rd;
        size_t consumed;
        smtp_error err;
        back.len = 0;
        smtp_data_reader_init(&rd, NULL, sink_output, &back);
        assert_int_equal(smtp_data_reader_feed(&rd, out.data, out.len, &consumed, &err), 1);
        assert_int_equal(consumed, out.len);
        assert_int_equal(rd.flags & (SMTP_DATA_BARE_CR | SMTP_DATA_BARE_LF), 0);
        /* the unstuffed text is the input with every line end made CRLF */
        char norm[128];
        size_t n = 0;
        for (size_t k = 0; k < len; k++) {
            if (r->in[k] == '\r') {
                norm[n++] = '\r';
                norm[n++] = '\n';
                if (k + 1 < len && r->in[k + 1] == '\n')
                    k++;
            } else if (r->in[k] == '\n') {
                norm[n++] = '\r';
                norm[n++] = '\n';
            } else {
                norm[n++] = r->in[k];
            }
        }
        if (n > 0 && norm[n - 1] != '\n') {
            norm[n++] = '\r';
            norm[n++] = '\n';
        }
        if (back.len != n || memcmp(back.data, norm, n) != 0)
            fail_msg("writer row %zu: read back \"%.*s\"", i, (int)back.len, back.data);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_data_rows),
        cmocka_unit_test(test_data_size_and_lines),
        cmocka_unit_test(test_writer_rows),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
