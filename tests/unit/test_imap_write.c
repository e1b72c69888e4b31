/* Table-driven tests of the response writers and the dates
 * (lib/imap/imap_write.h, imap_date.h). What is written is read back with
 * the command reader where it is a string. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "imap_date.h"
#include "imap_reader.h"
#include "imap_write.h"

enum { W_ASTRING, W_STRING, W_NSTRING };

typedef struct {
    int kind;
    const char *in; /* NULL: nstring NIL */
    size_t len;     /* 0: strlen */
    unsigned flags;
    const char *want;
} write_row;

#define U8 IMAP_WRITE_UTF8

static const write_row write_rows[] = {
    {W_ASTRING, "INBOX", 0, 0, "INBOX"},
    {W_ASTRING, "a]b", 0, 0, "a]b"},
    {W_ASTRING, "$Junk", 0, 0, "$Junk"},
    {W_ASTRING, "", 0, 0, "\"\""},
    {W_ASTRING, "NIL", 0, 0, "\"NIL\""},
    {W_ASTRING, "nil", 0, 0, "\"nil\""},
    {W_ASTRING, "NILS", 0, 0, "NILS"},
    {W_ASTRING, "a b", 0, 0, "\"a b\""},
    {W_ASTRING, "a%", 0, 0, "\"a%\""},
    {W_ASTRING, "a*", 0, 0, "\"a*\""},
    {W_ASTRING, "(x)", 0, 0, "\"(x)\""},
    {W_ASTRING, "{3}", 0, 0, "\"{3}\""},
    {W_ASTRING, "a\"b", 0, 0, "\"a\\\"b\""},
    {W_ASTRING, "a\\b", 0, 0, "\"a\\\\b\""},
    {W_ASTRING, "\\Seen", 0, 0, "\"\\\\Seen\""},
    {W_ASTRING, "caf\xc3\xa9", 0, 0, "{5}\r\ncaf\xc3\xa9"},
    {W_ASTRING, "caf\xc3\xa9", 0, U8, "\"caf\xc3\xa9\""},
    {W_ASTRING, "caf\xc3", 0, U8, "{4}\r\ncaf\xc3"},
    {W_ASTRING, "a\r\nb", 0, 0, "{4}\r\na\r\nb"},
    {W_ASTRING, "a\tb", 0, 0, "\"a\tb\""},
    {W_STRING, "INBOX", 0, 0, "\"INBOX\""},
    {W_STRING, "", 0, 0, "\"\""},
    {W_STRING, "\"\\", 0, 0, "\"\\\"\\\\\""},
    {W_STRING, "line\n", 0, 0, "{5}\r\nline\n"},
    {W_NSTRING, NULL, 0, 0, "NIL"},
    {W_NSTRING, "NIL", 0, 0, "\"NIL\""},
    {W_NSTRING, "", 0, 0, "\"\""},
};

static void test_write_rows(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(write_rows) / sizeof(write_rows[0]); i++) {
        const write_row *r = &write_rows[i];
        size_t len = r->in == NULL ? 0 : r->len != 0 ? r->len : strlen(r->in);
        buf b;
        buf_init(&b, 4096);
        int rc = r->kind == W_ASTRING  ? imap_write_astring(&b, r->in, len, r->flags)
                 : r->kind == W_STRING ? imap_write_string(&b, r->in, len, r->flags)
                                       : imap_write_nstring(&b, r->in, len, r->flags);
        assert_int_equal(rc, 0);
        size_t wlen = strlen(r->want);
        if (b.len != wlen || memcmp(b.data, r->want, wlen) != 0)
            fail_msg("write row %zu: got \"%s\", wanted \"%s\"", i, b.data, r->want);
        /* a client reading it gets the string back */
        if (r->in != NULL) {
            imap_reader rd;
            imap_command cmd;
            imap_error err;
            size_t consumed, off = 0;
            buf line;
            buf_init(&line, 8192);
            buf_append_str(&line, "a X ");
            buf_append(&line, b.data, b.len);
            buf_append_str(&line, "\r\n");
            imap_reader_init(&rd, NULL);
            int got;
            do {
                got = imap_reader_next(&rd, line.data + off, line.len - off, &consumed, &cmd, &err);
                off += consumed;
            } while (got == IMAP_READ_CONTINUE);
            assert_int_equal(got, IMAP_READ_COMMAND);
            const char *s;
            size_t slen;
            assert_true(imap_arg_astring(&cmd.args[0], &s, &slen));
            assert_int_equal(slen, len);
            assert_memory_equal(s, r->in, len);
            imap_reader_free(&rd);
            buf_free(&line);
        }
        buf_free(&b);
    }
    /* long strings go as literals */
    static char big[IMAP_QUOTED_MAX + 1];
    memset(big, 'q', sizeof(big));
    buf b;
    buf_init(&b, 8192);
    assert_int_equal(imap_write_string(&b, big, IMAP_QUOTED_MAX, 0), 0);
    assert_int_equal(b.data[0], '"');
    buf_reset(&b);
    assert_int_equal(imap_write_string(&b, big, IMAP_QUOTED_MAX + 1, 0), 0);
    assert_memory_equal(b.data, "{1025}\r\n", 8);
    /* NUL has no string form (RFC 9051 4.3): written as a literal all the
     * same; callers do not pass it */
    buf_reset(&b);
    assert_int_equal(imap_write_astring(&b, "a\0b", 3, 0), 0);
    assert_int_equal(b.len, 8);
    assert_memory_equal(b.data, "{3}\r\na\0b", 8);
    /* a full buffer is an error */
    buf_free(&b);
    buf_init(&b, 4);
    assert_int_equal(imap_write_string(&b, "abcdef", 6, 0), -1);
    buf_free(&b);
}

static void test_write_binary(void **state)
{
    (void)state;
    buf b;
    buf_init(&b, 64);
    assert_int_equal(imap_write_binary(&b, "ab", 2), 0);
    assert_string_equal(b.data, "{2}\r\nab");
    buf_reset(&b);
    assert_int_equal(imap_write_binary(&b, "a\0b", 3), 0);
    assert_int_equal(b.len, 9);
    assert_memory_equal(b.data, "~{3}\r\na\0b", 9);
    buf_reset(&b);
    assert_int_equal(imap_write_literal(&b, "", 0), 0);
    assert_string_equal(b.data, "{0}\r\n");
    buf_free(&b);
}

typedef struct {
    int64_t t;
    int tz;
    const char *want; /* NULL: refused */
} dt_row;

static const dt_row dt_rows[] = {
    {0, 0, " 1-Jan-1970 00:00:00 +0000"},
    {760125145, -480, " 1-Feb-1994 09:52:25 -0800"}, /* 1994-02-01 17:52:25 UTC */
    {760125145, 0, " 1-Feb-1994 17:52:25 +0000"},
    {760125145, 120, " 1-Feb-1994 19:52:25 +0200"},
    {760125145, 420, " 2-Feb-1994 00:52:25 +0700"},
    {1709164800, 0, "29-Feb-2024 00:00:00 +0000"},
    {-1, 0, "31-Dec-1969 23:59:59 +0000"},
    {1700000000, 330, "15-Nov-2023 03:43:20 +0530"},
    {1700000000, -1439, "13-Nov-2023 22:14:20 -2359"},
    {253402214400 - 86400 - 1, 0, "29-Dec-9999 23:59:59 +0000"},
    {0, 1440, NULL},
    {0, -1440, NULL},
    {253402300800, 0, NULL},
    {INT64_MIN, 0, NULL},
    {INT64_MAX, 0, NULL},
};

static void test_date_time(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(dt_rows) / sizeof(dt_rows[0]); i++) {
        const dt_row *r = &dt_rows[i];
        char out[IMAP_DATE_TIME_LEN + 1];
        int rc = imap_date_time_format(r->t, r->tz, out);
        if (r->want == NULL) {
            assert_int_equal(rc, -1);
            assert_string_equal(out, "");
            continue;
        }
        assert_int_equal(rc, 0);
        if (strcmp(out, r->want) != 0)
            fail_msg("date-time row %zu: got \"%s\", wanted \"%s\"", i, out, r->want);
        assert_int_equal(strlen(out), IMAP_DATE_TIME_LEN);
        int64_t back;
        assert_int_equal(imap_date_time_parse(out, strlen(out), &back), 0);
        assert_int_equal(back, r->t);
    }
    buf b;
    buf_init(&b, 64);
    assert_int_equal(imap_write_date_time(&b, 760125145, -480), 0);
    assert_string_equal(b.data, "\" 1-Feb-1994 09:52:25 -0800\"");
    buf_free(&b);
}

typedef struct {
    const char *in;
    int64_t want;
    bool ok;
} parse_row;

static const parse_row date_time_rows[] = {
    {"17-Jul-1996 02:44:25 -0700", 837596665, true},
    {" 7-Jul-1996 02:44:25 -0700", 836732665, true},
    {"07-Jul-1996 02:44:25 -0700", 836732665, true},
    {"7-Jul-1996 02:44:25 -0700", 836732665, true},
    {"07-jul-1996 09:44:25 +0000", 836732665, true},
    {"31-Dec-1999 23:59:60 +0000", 946684800, true},
    {"17-Jul-1996 02:44:25", 0, false},
    {"17-Jul-1996 2:44:25 -0700", 0, false},
    {"17-Jul-1996 24:00:00 -0700", 0, false},
    {"17-Jul-1996 02:60:25 -0700", 0, false},
    {"17-Jul-1996 02:44:61 -0700", 0, false},
    {"17-Jul-1996 02:44:25 -0760", 0, false},
    {"17-Jul-1996 02:44:25 0700", 0, false},
    {"17-Jul-1996 02:44:25 -07000", 0, false},
    {"17-Jul-1996  02:44:25 -0700", 0, false},
    {"32-Jul-1996 02:44:25 -0700", 0, false},
    {"17-Jly-1996 02:44:25 -0700", 0, false},
    {"  7-Jul-1996 02:44:25 -0700", 0, false},
    {"", 0, false},
};

static const parse_row date_rows[] = {
    {"1-Feb-1994", 760060800, true},
    {"01-Feb-1994", 760060800, true},
    {"1-feb-1994", 760060800, true},
    {"29-Feb-2000", 951782400, true},
    {"1-Jan-1970", 0, true},
    {"31-Dec-1969", -86400, true},
    {"1-Jan-0000", -62167219200, true},
    {"29-Feb-2100", 0, false},
    {"1-Feb-1994 ", 0, false},
    {" 1-Feb-1994", 0, false},
    {"1-Feb-194", 0, false},
    {"1-Feb-19940", 0, false},
    {"1/Feb/1994", 0, false},
    {"1-February-1994", 0, false},
    {"-Feb-1994", 0, false},
    {"1--1994", 0, false},
    {"", 0, false},
};

static void test_date_parse(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(date_time_rows) / sizeof(date_time_rows[0]); i++) {
        const parse_row *r = &date_time_rows[i];
        int64_t t = 0;
        int rc = imap_date_time_parse(r->in, strlen(r->in), &t);
        if (rc != (r->ok ? 0 : -1) || (r->ok && t != r->want))
            fail_msg("date-time parse row %zu \"%s\": rc %d t %lld", i, r->in, rc, (long long)t);
    }
    for (size_t i = 0; i < sizeof(date_rows) / sizeof(date_rows[0]); i++) {
        const parse_row *r = &date_rows[i];
        int64_t t = 0;
        int rc = imap_date_parse(r->in, strlen(r->in), &t);
        if (rc != (r->ok ? 0 : -1) || (r->ok && t != r->want))
            fail_msg("date parse row %zu \"%s\": rc %d t %lld", i, r->in, rc, (long long)t);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_write_rows),
        cmocka_unit_test(test_write_binary),
        cmocka_unit_test(test_date_time),
        cmocka_unit_test(test_date_parse),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
