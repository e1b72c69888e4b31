/* The command reader's API beyond the byte stream (lib/imap/imap_reader.h):
 * big literals, imap_reader_line, fatal errors, what is consumed, the
 * arguments at a continuation request and imap_reader_abort, and the
 * argument accessors (imap_arg.h). The table of streams is in
 * test_imap_reader.c. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "imap_reader.h"

/* A big APPEND within APPENDLIMIT, and the command's counters. */
static void test_append_big(void **state)
{
    (void)state;
    size_t n = 3u << 20;
    char *in = malloc(n + 128);
    imap_reader r;
    imap_command cmd;
    imap_error err;
    size_t consumed, off = 0;

    assert_non_null(in);
    int k = snprintf(in, 128, "a APPEND INBOX (\\Seen) {%zu+}\r\n", n);
    memset(in + k, 'm', n);
    memcpy(in + k + n, " {1+}\r\nz\r\nb NOOP\r\n", 18);
    size_t len = (size_t)k + n + 18;
    imap_reader_init(&r, NULL);
    /* in pieces of 64 KiB */
    int rc = IMAP_READ_MORE;
    while (rc == IMAP_READ_MORE) {
        size_t piece = len - off < 65536 ? len - off : 65536;
        rc = imap_reader_next(&r, in + off, piece, &consumed, &cmd, &err);
        off += consumed;
    }
    assert_int_equal(rc, IMAP_READ_COMMAND);
    assert_string_equal(cmd.name, "APPEND");
    assert_int_equal(cmd.nargs, 4);
    assert_int_equal(cmd.args[2].type, IMAP_ARG_LITERAL);
    assert_int_equal(cmd.args[2].len, n);
    assert_int_equal(cmd.args[2].str[n - 1], 'm');
    assert_int_equal(cmd.args[3].len, 1);
    assert_int_equal(cmd.nliterals, 2);
    assert_int_equal(cmd.size, len - 8);
    rc = imap_reader_next(&r, in + off, len - off, &consumed, &cmd, &err);
    assert_int_equal(rc, IMAP_READ_COMMAND);
    assert_string_equal(cmd.name, "NOOP");
    assert_int_equal(off + consumed, len);
    imap_reader_free(&r);
    free(in);
}

/* imap_reader_line: AUTHENTICATE responses and IDLE's DONE. */
static void test_reader_line(void **state)
{
    (void)state;
    imap_reader r;
    imap_command cmd;
    imap_error err;
    const char *line;
    size_t consumed, line_len;
    const char *in = "a AUTHENTICATE PLAIN\r\nAGJvYgBwYXNz\r\nb IDLE\r\nDO";
    size_t len = strlen(in), off = 0;

    imap_reader_init(&r, NULL);
    assert_int_equal(imap_reader_next(&r, in, len, &consumed, &cmd, &err), IMAP_READ_COMMAND);
    assert_string_equal(cmd.name, "AUTHENTICATE");
    off += consumed;
    assert_int_equal(
        imap_reader_line(&r, in + off, len - off, 100, &consumed, &line, &line_len, &err), 1);
    assert_int_equal(line_len, 12);
    assert_memory_equal(line, "AGJvYgBwYXNz", 12);
    off += consumed;
    assert_int_equal(imap_reader_next(&r, in + off, len - off, &consumed, &cmd, &err),
                     IMAP_READ_COMMAND);
    assert_string_equal(cmd.name, "IDLE");
    off += consumed;
    assert_int_equal(
        imap_reader_line(&r, in + off, len - off, 100, &consumed, &line, &line_len, &err), 0);
    assert_int_equal(consumed, 2);
    assert_int_equal(imap_reader_line(&r, "NE\n", 3, 100, &consumed, &line, &line_len, &err), 1);
    assert_int_equal(line_len, 4);
    assert_memory_equal(line, "DONE", 4);

    /* too long: refused, the rest of that line dropped */
    const char *longer = "0123456789abcdef\r\nc NOOP\r\n";
    assert_int_equal(imap_reader_line(&r, longer, 8, 10, &consumed, &line, &line_len, &err), 0);
    assert_int_equal(
        imap_reader_line(&r, longer + 8, strlen(longer) - 8, 10, &consumed, &line, &line_len, &err),
        -1);
    assert_string_equal(err.code, "TOOBIG");
    off = 8 + consumed;
    assert_int_equal(
        imap_reader_next(&r, longer + off, strlen(longer) - off, &consumed, &cmd, &err),
        IMAP_READ_COMMAND);
    assert_string_equal(cmd.tag, "c");

    /* not in the middle of a command */
    assert_int_equal(imap_reader_next(&r, "d LOGIN {1}\r\n", 13, &consumed, &cmd, &err),
                     IMAP_READ_CONTINUE);
    assert_int_equal(imap_reader_line(&r, "x\r\n", 3, 100, &consumed, &line, &line_len, &err), -1);
    imap_reader_free(&r);
}

/* At a continuation request the server sees the arguments so far, and may
 * refuse the command instead of sending "+". */
static void test_continue_abort(void **state)
{
    (void)state;
    imap_reader r;
    imap_command cmd;
    imap_error err;
    size_t consumed;
    const char *in = "a APPEND nobox (\\Seen) {5}\r\nb NOOP\r\n";

    imap_reader_init(&r, NULL);
    assert_int_equal(imap_reader_next(&r, in, strlen(in), &consumed, &cmd, &err),
                     IMAP_READ_CONTINUE);
    assert_string_equal(cmd.tag, "a");
    assert_string_equal(cmd.name, "APPEND");
    assert_int_equal(cmd.nargs, 3);
    assert_string_equal(cmd.args[0].str, "nobox");
    assert_int_equal(cmd.args[1].type, IMAP_ARG_LIST);
    assert_int_equal(cmd.args[1].n, 1);
    assert_string_equal(cmd.args[1].list[0].str, "\\Seen");
    assert_int_equal(cmd.args[2].type, IMAP_ARG_LITERAL);
    assert_int_equal(cmd.args[2].len, 5);
    assert_null(cmd.args[2].str);
    imap_reader_abort(&r); /* "a NO [TRYCREATE]" instead of "+" */
    in += consumed;
    assert_int_equal(imap_reader_next(&r, in, strlen(in), &consumed, &cmd, &err),
                     IMAP_READ_COMMAND);
    assert_string_equal(cmd.tag, "b");
    imap_reader_abort(&r); /* after a whole command: nothing to drop */
    assert_int_equal(imap_reader_next(&r, "c NOOP\r\n", 8, &consumed, &cmd, &err), 1);
    assert_string_equal(cmd.tag, "c");

    /* the second literal: the first one is there */
    in = "d LOGIN {3}\r\nbob {4}\r\n";
    assert_int_equal(imap_reader_next(&r, in, 13, &consumed, &cmd, &err), IMAP_READ_CONTINUE);
    assert_null(cmd.args[0].str);
    assert_int_equal(imap_reader_next(&r, in + 13, strlen(in) - 13, &consumed, &cmd, &err),
                     IMAP_READ_CONTINUE);
    assert_int_equal(cmd.nargs, 2);
    assert_string_equal(cmd.args[0].str, "bob");
    assert_null(cmd.args[1].str);
    assert_int_equal(cmd.args[1].len, 4);
    imap_reader_abort(&r);

    /* in the middle of a non-synchronizing literal: the rest is skipped */
    in = "e X {5+}\r\nab";
    assert_int_equal(imap_reader_next(&r, in, strlen(in), &consumed, &cmd, &err), 0);
    imap_reader_abort(&r);
    in = "cde rest {2+}\r\nxy\r\nf NOOP\r\n";
    assert_int_equal(imap_reader_next(&r, in, strlen(in), &consumed, &cmd, &err), 1);
    assert_string_equal(cmd.tag, "f");

    /* in the middle of a line: the rest of it is skipped */
    assert_int_equal(imap_reader_next(&r, "g LOGIN x", 9, &consumed, &cmd, &err), 0);
    imap_reader_abort(&r);
    in = " y\r\nh NOOP\r\n";
    assert_int_equal(imap_reader_next(&r, in, strlen(in), &consumed, &cmd, &err), 1);
    assert_string_equal(cmd.tag, "h");
    imap_reader_free(&r);
}

/* The accessors that apply the grammar of the place an argument is in. */
static void test_arg_accessors(void **state)
{
    (void)state;
    imap_reader r;
    imap_command cmd;
    imap_error err;
    size_t consumed, len;
    const char *s;
    uint32_t n;
    uint64_t n64;
    const char *in = "a X atom NIL \"q\" {1+}\r\nl a%* a] \\Seen 4294967295 4294967296 "
                     "9223372036854775807 9223372036854775808 007 () ~{1+}\r\nb\r\n";

    imap_reader_init(&r, NULL);
    assert_int_equal(imap_reader_next(&r, in, strlen(in), &consumed, &cmd, &err), 1);
    assert_int_equal(cmd.nargs, 14);
    const imap_arg *a = cmd.args;
    assert_true(imap_arg_astring(&a[0], &s, &len) && len == 4);
    assert_true(imap_arg_atom_strict(&a[0]));
    assert_true(imap_arg_atom_eq(&a[0], "ATOM"));
    assert_false(imap_arg_string(&a[0], &s, &len));
    assert_true(imap_arg_nstring(&a[1], &s, &len) && s == NULL);
    assert_true(imap_arg_astring(&a[1], &s, &len) && strcmp(s, "NIL") == 0);
    assert_true(imap_arg_string(&a[2], &s, &len) && strcmp(s, "q") == 0);
    assert_true(imap_arg_nstring(&a[2], &s, &len) && strcmp(s, "q") == 0);
    assert_true(imap_arg_string(&a[3], &s, &len) && strcmp(s, "l") == 0);
    assert_false(imap_arg_astring(&a[4], &s, &len));
    assert_true(imap_arg_list_mailbox(&a[4], &s, &len) && strcmp(s, "a%*") == 0);
    assert_true(imap_arg_astring(&a[5], &s, &len));
    assert_false(imap_arg_atom_strict(&a[5]));
    assert_false(imap_arg_astring(&a[6], &s, &len));
    assert_true(imap_arg_number(&a[7], &n) && n == 4294967295u);
    assert_false(imap_arg_number(&a[8], &n));
    assert_true(imap_arg_number64(&a[8], &n64) && n64 == 4294967296u);
    assert_true(imap_arg_number64(&a[9], &n64) && n64 == 9223372036854775807u);
    assert_false(imap_arg_number64(&a[10], &n64));
    assert_true(imap_arg_number(&a[11], &n) && n == 7);
    assert_false(imap_arg_number(&a[2], &n));
    assert_false(imap_arg_astring(&a[12], &s, &len));
    assert_false(imap_arg_list_mailbox(&a[12], &s, &len));
    assert_int_equal(a[13].type, IMAP_ARG_LITERAL8);
    assert_false(imap_arg_astring(&a[13], &s, &len));
    assert_false(imap_arg_string(&a[13], &s, &len));
    imap_reader_free(&r);
}

/* After a fatal error the reader answers BYE forever. */
static void test_fatal(void **state)
{
    (void)state;
    imap_reader r;
    imap_command cmd;
    imap_error err;
    size_t consumed;
    const char *in = "a X {999999999999+}\r\nb NOOP\r\n";

    imap_reader_init(&r, NULL);
    assert_int_equal(imap_reader_next(&r, in, strlen(in), &consumed, &cmd, &err), -1);
    assert_int_equal(err.resp, IMAP_RESP_BYE);
    assert_int_equal(imap_reader_next(&r, "c NOOP\r\n", 8, &consumed, &cmd, &err), -1);
    assert_int_equal(err.resp, IMAP_RESP_BYE);
    assert_int_equal(consumed, 0);
    size_t line_len;
    const char *line;
    assert_int_equal(imap_reader_line(&r, "x\r\n", 3, 10, &consumed, &line, &line_len, &err), -1);
    imap_reader_free(&r);
}

/* STARTTLS: nothing after its line end is consumed. */
static void test_no_overread(void **state)
{
    (void)state;
    imap_reader r;
    imap_command cmd;
    imap_error err;
    size_t consumed;
    const char *in = "a STARTTLS\r\nb LOGIN x y\r\n";

    imap_reader_init(&r, NULL);
    assert_int_equal(imap_reader_next(&r, in, strlen(in), &consumed, &cmd, &err), 1);
    assert_int_equal(consumed, 12);
    imap_reader_free(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_append_big),     cmocka_unit_test(test_reader_line),
        cmocka_unit_test(test_continue_abort), cmocka_unit_test(test_arg_accessors),
        cmocka_unit_test(test_fatal),          cmocka_unit_test(test_no_overread),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
