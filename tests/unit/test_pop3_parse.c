/* Unit tests for workers/pop3/pop3_parse.c: a table of command lines and
 * what each one parses to (RFC 1939 3, 7; RFC 2449 4; RFC 5034 4). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "pop3_parse.h"

typedef struct parse_case {
    const char *line;
    pop3_parse_result rc;
    pop3_verb verb;
    bool has_msg;
    uint32_t msg;
    uint32_t lines;
    const char *arg; /* NULL: none */
    const char *ir;  /* NULL: none */
} parse_case;

static const parse_case cases[] = {
    /* no arguments, any case */
    {"STAT", POP3_PARSE_OK, POP3_CMD_STAT, false, 0, 0, NULL, NULL},
    {"stat", POP3_PARSE_OK, POP3_CMD_STAT, false, 0, 0, NULL, NULL},
    {"NoOp", POP3_PARSE_OK, POP3_CMD_NOOP, false, 0, 0, NULL, NULL},
    {"RSET", POP3_PARSE_OK, POP3_CMD_RSET, false, 0, 0, NULL, NULL},
    {"QUIT", POP3_PARSE_OK, POP3_CMD_QUIT, false, 0, 0, NULL, NULL},
    {"CAPA", POP3_PARSE_OK, POP3_CMD_CAPA, false, 0, 0, NULL, NULL},
    {"STLS", POP3_PARSE_OK, POP3_CMD_STLS, false, 0, 0, NULL, NULL},
    {"QUIT ", POP3_PARSE_OK, POP3_CMD_QUIT, false, 0, 0, NULL, NULL}, /* a trailing space */
    {"STAT 1", POP3_PARSE_ARGS, POP3_CMD_STAT, false, 0, 0, NULL, NULL},
    {"QUIT now", POP3_PARSE_ARGS, POP3_CMD_QUIT, false, 0, 0, NULL, NULL},
    /* LIST / UIDL: an optional message number */
    {"LIST", POP3_PARSE_OK, POP3_CMD_LIST, false, 0, 0, NULL, NULL},
    {"LIST 1", POP3_PARSE_OK, POP3_CMD_LIST, true, 1, 0, NULL, NULL},
    {"list  2 ", POP3_PARSE_OK, POP3_CMD_LIST, true, 2, 0, NULL, NULL},
    {"UIDL 4294967295", POP3_PARSE_OK, POP3_CMD_UIDL, true, UINT32_MAX, 0, NULL, NULL},
    {"UIDL 0", POP3_PARSE_OK, POP3_CMD_UIDL, true, 0, 0, NULL, NULL}, /* "no such message" later */
    {"LIST 0001", POP3_PARSE_OK, POP3_CMD_LIST, true, 1, 0, NULL, NULL},
    {"LIST 1 2", POP3_PARSE_ARGS, POP3_CMD_LIST, false, 0, 0, NULL, NULL},
    /* bad numbers */
    {"LIST 4294967296", POP3_PARSE_NUMBER, POP3_CMD_LIST, false, 0, 0, NULL, NULL},
    {"LIST 99999999999999999999", POP3_PARSE_NUMBER, POP3_CMD_LIST, false, 0, 0, NULL, NULL},
    {"LIST 00000000000000000001", POP3_PARSE_OK, POP3_CMD_LIST, true, 1, 0, NULL, NULL},
    {"RETR -1", POP3_PARSE_NUMBER, POP3_CMD_RETR, false, 0, 0, NULL, NULL},
    {"RETR +1", POP3_PARSE_NUMBER, POP3_CMD_RETR, false, 0, 0, NULL, NULL},
    {"RETR 1a", POP3_PARSE_NUMBER, POP3_CMD_RETR, false, 0, 0, NULL, NULL},
    {"RETR 0x10", POP3_PARSE_NUMBER, POP3_CMD_RETR, false, 0, 0, NULL, NULL},
    {"DELE one", POP3_PARSE_NUMBER, POP3_CMD_DELE, false, 0, 0, NULL, NULL},
    {"RETR 1.5", POP3_PARSE_NUMBER, POP3_CMD_RETR, false, 0, 0, NULL, NULL},
    /* RETR / DELE: a message number is required */
    {"RETR 3", POP3_PARSE_OK, POP3_CMD_RETR, true, 3, 0, NULL, NULL},
    {"DELE 7", POP3_PARSE_OK, POP3_CMD_DELE, true, 7, 0, NULL, NULL},
    {"RETR", POP3_PARSE_ARGS, POP3_CMD_RETR, false, 0, 0, NULL, NULL},
    {"DELE ", POP3_PARSE_ARGS, POP3_CMD_DELE, false, 0, 0, NULL, NULL},
    {"DELE 1 2", POP3_PARSE_ARGS, POP3_CMD_DELE, false, 0, 0, NULL, NULL},
    /* TOP msg n */
    {"TOP 1 0", POP3_PARSE_OK, POP3_CMD_TOP, true, 1, 0, NULL, NULL},
    {"top 2 10", POP3_PARSE_OK, POP3_CMD_TOP, true, 2, 10, NULL, NULL},
    {"TOP 1 99999999999999999999", POP3_PARSE_OK, POP3_CMD_TOP, true, 1, UINT32_MAX, NULL, NULL},
    {"TOP 1", POP3_PARSE_ARGS, POP3_CMD_TOP, false, 0, 0, NULL, NULL},
    {"TOP", POP3_PARSE_ARGS, POP3_CMD_TOP, false, 0, 0, NULL, NULL},
    {"TOP 1 2 3", POP3_PARSE_ARGS, POP3_CMD_TOP, false, 0, 0, NULL, NULL},
    {"TOP 1 -1", POP3_PARSE_NUMBER, POP3_CMD_TOP, false, 0, 0, NULL, NULL},
    {"TOP x 1", POP3_PARSE_NUMBER, POP3_CMD_TOP, false, 0, 0, NULL, NULL},
    /* USER: one name */
    {"USER alice@example.test", POP3_PARSE_OK, POP3_CMD_USER, false, 0, 0, "alice@example.test",
     NULL},
    {"user bob", POP3_PARSE_OK, POP3_CMD_USER, false, 0, 0, "bob", NULL},
    {"USER", POP3_PARSE_ARGS, POP3_CMD_USER, false, 0, 0, NULL, NULL},
    {"USER a b", POP3_PARSE_ARGS, POP3_CMD_USER, false, 0, 0, NULL, NULL},
    {"USER \xc3\xa9l\xc3\xa8ve@example.test", POP3_PARSE_OK, POP3_CMD_USER, false, 0, 0,
     "\xc3\xa9l\xc3\xa8ve@example.test", NULL},
    {"USER a\tb", POP3_PARSE_BAD_CHAR, POP3_CMD_USER, false, 0, 0, NULL, NULL},
    /* PASS: the rest of the line, spaces kept (RFC 1939 7) */
    {"PASS secret", POP3_PARSE_OK, POP3_CMD_PASS, false, 0, 0, "secret", NULL},
    {"PASS two words ", POP3_PARSE_OK, POP3_CMD_PASS, false, 0, 0, "two words ", NULL},
    {"PASS  lead", POP3_PARSE_OK, POP3_CMD_PASS, false, 0, 0, " lead", NULL},
    {"PASS p\tw", POP3_PARSE_OK, POP3_CMD_PASS, false, 0, 0, "p\tw", NULL},
    {"PASS", POP3_PARSE_ARGS, POP3_CMD_PASS, false, 0, 0, NULL, NULL},
    {"PASS ", POP3_PARSE_ARGS, POP3_CMD_PASS, false, 0, 0, NULL, NULL},
    /* AUTH [mechanism [initial-response]] */
    {"AUTH", POP3_PARSE_OK, POP3_CMD_AUTH, false, 0, 0, NULL, NULL},
    {"AUTH PLAIN", POP3_PARSE_OK, POP3_CMD_AUTH, false, 0, 0, "PLAIN", NULL},
    {"AUTH plain AGFAYg==", POP3_PARSE_OK, POP3_CMD_AUTH, false, 0, 0, "plain", "AGFAYg=="},
    {"AUTH PLAIN =", POP3_PARSE_OK, POP3_CMD_AUTH, false, 0, 0, "PLAIN", "="},
    {"AUTH PLAIN a b", POP3_PARSE_ARGS, POP3_CMD_AUTH, false, 0, 0, NULL, NULL},
    /* unknown, empty, control characters */
    {"", POP3_PARSE_EMPTY, POP3_CMD_UNKNOWN, false, 0, 0, NULL, NULL},
    {"   ", POP3_PARSE_EMPTY, POP3_CMD_UNKNOWN, false, 0, 0, NULL, NULL},
    {"APOP mrose c4c9334bac560ecc979e58001b3e22fb", POP3_PARSE_UNKNOWN, POP3_CMD_UNKNOWN, false, 0,
     0, NULL, NULL},
    {"HELO", POP3_PARSE_UNKNOWN, POP3_CMD_UNKNOWN, false, 0, 0, NULL, NULL},
    {"STATS", POP3_PARSE_UNKNOWN, POP3_CMD_UNKNOWN, false, 0, 0, NULL, NULL},
    {"ST", POP3_PARSE_UNKNOWN, POP3_CMD_UNKNOWN, false, 0, 0, NULL, NULL},
    {"STAT\t", POP3_PARSE_UNKNOWN, POP3_CMD_UNKNOWN, false, 0, 0, NULL, NULL},
    {"GET / HTTP/1.1", POP3_PARSE_UNKNOWN, POP3_CMD_UNKNOWN, false, 0, 0, NULL, NULL},
    {"LIST \x7f", POP3_PARSE_BAD_CHAR, POP3_CMD_LIST, false, 0, 0, NULL, NULL},
    {"  NOOP", POP3_PARSE_OK, POP3_CMD_NOOP, false, 0, 0, NULL, NULL}, /* leading spaces */
};

static void check_case(const parse_case *c, size_t len)
{
    pop3_command cmd;
    const char *err = NULL;
    pop3_parse_result rc = pop3_parse(c->line, len, &cmd, &err);
    if (rc != c->rc || cmd.verb != c->verb)
        fail_msg("\"%s\": rc %d verb %d, want rc %d verb %d", c->line, rc, cmd.verb, c->rc,
                 c->verb);
    if (rc != POP3_PARSE_OK) {
        assert_non_null(err);
        assert_true(err[0] != '\0');
        assert_null(strpbrk(err, "\r\n"));
        return;
    }
    assert_int_equal(cmd.has_msg, c->has_msg);
    assert_int_equal(cmd.msg, c->msg);
    assert_int_equal(cmd.lines, c->lines);
    if (c->arg == NULL) {
        assert_null(cmd.arg);
    } else {
        assert_int_equal(cmd.arg_len, strlen(c->arg));
        assert_memory_equal(cmd.arg, c->arg, cmd.arg_len);
    }
    if (c->ir == NULL) {
        assert_null(cmd.ir);
    } else {
        assert_int_equal(cmd.ir_len, strlen(c->ir));
        assert_memory_equal(cmd.ir, c->ir, cmd.ir_len);
    }
}

static void test_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        check_case(&cases[i], strlen(cases[i].line));
}

/* RFC 2449 4: 255 octets with the CRLF, so 253 before it. */
static void test_line_limit(void **state)
{
    (void)state;
    char line[POP3_LINE_MAX + 8];
    pop3_command cmd;
    const char *err = NULL;
    memcpy(line, "PASS ", 5);
    memset(line + 5, 'x', sizeof line - 5);
    assert_int_equal(pop3_parse(line, POP3_LINE_MAX - 2, &cmd, &err), POP3_PARSE_OK);
    assert_int_equal(cmd.arg_len, POP3_LINE_MAX - 2 - 5);
    assert_int_equal(pop3_parse(line, POP3_LINE_MAX - 1, &cmd, &err), POP3_PARSE_TOO_LONG);
    assert_string_equal(err, "line too long");
    assert_int_equal(cmd.verb, POP3_CMD_UNKNOWN);
    assert_int_equal(pop3_parse(line, POP3_LINE_MAX + 8, &cmd, &err), POP3_PARSE_TOO_LONG);
    /* a long run of leading zeros still fits a number */
    memcpy(line, "LIST ", 5);
    memset(line + 5, '0', POP3_LINE_MAX - 2 - 6);
    line[POP3_LINE_MAX - 3] = '9';
    assert_int_equal(pop3_parse(line, POP3_LINE_MAX - 2, &cmd, &err), POP3_PARSE_OK);
    assert_int_equal(cmd.msg, 9);
}

/* NUL, CR and LF are refused anywhere, PASS included. */
static void test_control_octets(void **state)
{
    (void)state;
    static const char *const lines[] = {"PASS a\0b", "STAT\0", "USER a\rb", "PASS a\nb", "\0"};
    static const size_t lens[] = {8, 5, 8, 8, 1};
    for (size_t i = 0; i < sizeof lines / sizeof lines[0]; i++) {
        pop3_command cmd;
        const char *err = NULL;
        assert_int_equal(pop3_parse(lines[i], lens[i], &cmd, &err), POP3_PARSE_BAD_CHAR);
        assert_non_null(err);
    }
}

static void test_verb_names(void **state)
{
    (void)state;
    assert_string_equal(pop3_verb_name(POP3_CMD_RETR), "RETR");
    assert_string_equal(pop3_verb_name(POP3_CMD_TOP), "TOP");
    assert_string_equal(pop3_verb_name(POP3_CMD_UNKNOWN), "");
    /* every name parses back to its verb */
    for (int v = POP3_CMD_USER; v <= POP3_CMD_UIDL; v++) {
        char line[16];
        pop3_command cmd;
        snprintf(line, sizeof line, "%s", pop3_verb_name((pop3_verb)v));
        pop3_parse(line, strlen(line), &cmd, NULL);
        assert_int_equal(cmd.verb, v);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table),
        cmocka_unit_test(test_line_limit),
        cmocka_unit_test(test_control_octets),
        cmocka_unit_test(test_verb_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
