/* Table-driven tests of the IMAP command reader (lib/imap/imap_reader.h).
 * Every row is fed whole, cut in two at every position, and one octet at a
 * time: the events must be the same each time. */
#include <setjmp.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "imap_reader.h"

static void put(char *out, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void put(char *out, size_t size, const char *fmt, ...)
{
    size_t n = strlen(out);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(out + n, size - n, fmt, ap);
    va_end(ap);
}

static void put_bytes(char *out, size_t size, const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20 || c >= 0x7f)
            put(out, size, "\\x%02x", c);
        else
            put(out, size, "%c", c);
    }
}

/* ATOM as is ("S:" before one with a section), NIL as "N:text", quoted
 * strings in quotes, literals as {n}octets, lists in parentheses. */
static void describe_arg(const imap_arg *a, char *out, size_t size)
{
    switch (a->type) {
    case IMAP_ARG_ATOM:
        put(out, size, "%s%s", (a->flags & IMAP_ARG_F_SECTION) ? "S:" : "", a->str);
        assert_int_equal(strlen(a->str), a->len);
        break;
    case IMAP_ARG_NIL:
        put(out, size, "N:%s", a->str);
        break;
    case IMAP_ARG_QUOTED:
        put(out, size, "\"");
        put_bytes(out, size, a->str, a->len);
        put(out, size, "\"");
        {
            bool eight = false;
            for (size_t i = 0; i < a->len; i++)
                eight |= (unsigned char)a->str[i] >= 0x80;
            assert_int_equal(eight, (a->flags & IMAP_ARG_F_8BIT) != 0);
        }
        break;
    case IMAP_ARG_LITERAL:
    case IMAP_ARG_LITERAL8:
        put(out, size, "%s{%zu%s}", a->type == IMAP_ARG_LITERAL8 ? "~" : "", a->len,
            (a->flags & IMAP_ARG_F_NONSYNC) ? "+" : "");
        put_bytes(out, size, a->str, a->len);
        assert_int_equal(a->str[a->len], '\0');
        break;
    case IMAP_ARG_LIST:
        put(out, size, "(");
        for (size_t i = 0; i < a->n; i++) {
            if (i > 0)
                put(out, size, " ");
            describe_arg(&a->list[i], out, size);
        }
        put(out, size, ")");
        break;
    }
}

static void describe(const imap_command *c, char *out, size_t size)
{
    put(out, size, "C[%s %s%s", c->tag, c->uid ? "UID " : "", c->name);
    assert_int_equal(strlen(c->tag), c->tag_len);
    for (size_t i = 0; i < c->nargs; i++) {
        put(out, size, " ");
        describe_arg(&c->args[i], out, size);
    }
    if (c->lenient)
        put(out, size, " ~lenient");
    if (c->bare_lf)
        put(out, size, " ~lf");
    put(out, size, "]|");
}

static const char *resp_name(imap_resp r)
{
    return r == IMAP_RESP_BAD ? "BAD" : r == IMAP_RESP_NO ? "NO" : "BYE";
}

enum { L_DEF, L_SMALL, L_MINUS, L_CMD };

static void limits_for(int which, imap_reader_limits *l)
{
    imap_reader_limits_default(l);
    if (which == L_SMALL) {
        l->line_max = 64;
        l->literal_max = 16;
        l->append_literal_max = 32;
        l->literals_max = 2;
        l->command_max = 100;
        l->depth_max = 3;
        l->args_max = 10;
        l->skip_max = 50;
    } else if (which == L_MINUS) {
        l->literal_plus = false;
    } else if (which == L_CMD) {
        l->command_max = 60;
    }
}

/* Feeds in (len octets) cut at cuts[] (ascending, 0 ends the list) and
 * writes the events: "C[...]|" a command, "+|" a continuation request,
 * "E[tag resp code]|" an error. Stops after a BYE. */
static void run(const char *in, size_t len, int lim, const size_t *cuts, char *ev, size_t size)
{
    imap_reader_limits l;
    imap_reader r;
    char *pending = malloc(len + 1);
    size_t plen = 0, fed = 0;
    int loops = 0;

    assert_non_null(pending);
    limits_for(lim, &l);
    imap_reader_init(&r, &l);
    ev[0] = '\0';
    for (size_t c = 0;; c++) {
        size_t upto = cuts[c] != 0 && cuts[c] < len ? cuts[c] : len;
        memcpy(pending + plen, in + fed, upto - fed);
        plen += upto - fed;
        fed = upto;
        for (;;) {
            imap_command cmd;
            imap_error err;
            size_t consumed;
            assert_true(++loops < 100000);
            int rc = imap_reader_next(&r, pending, plen, &consumed, &cmd, &err);
            assert_true(consumed <= plen);
            memmove(pending, pending + consumed, plen - consumed);
            plen -= consumed;
            if (rc == IMAP_READ_COMMAND) {
                describe(&cmd, ev, size);
            } else if (rc == IMAP_READ_CONTINUE) {
                put(ev, size, "+|");
            } else if (rc == IMAP_READ_ERROR) {
                assert_non_null(err.text);
                put(ev, size, "E[%s %s %s]|", cmd.tag, resp_name(err.resp),
                    err.code != NULL ? err.code : "-");
                if (err.resp == IMAP_RESP_BYE)
                    goto out;
            } else {
                assert_int_equal(rc, IMAP_READ_MORE);
                assert_int_equal(plen, 0);
                break;
            }
        }
        if (fed == len)
            break;
    }
out:
    imap_reader_free(&r);
    free(pending);
}

typedef struct {
    const char *in;
    size_t len; /* 0: strlen */
    int lim;
    const char *want;
} reader_row;

#define X10 "xxxxxxxxxx"
#define X70 X10 X10 X10 X10 X10 X10 X10

static const reader_row reader_rows[] = {
    /* commands, pipelining, line ends (RFC 9051 2.2) */
    {"a1 NOOP\r\n", 0, L_DEF, "C[a1 NOOP]|"},
    {"a1 noop\r\na2 CAPABILITY\r\na3 LOGOUT\r\n", 0, L_DEF,
     "C[a1 NOOP]|C[a2 CAPABILITY]|C[a3 LOGOUT]|"},
    {"a1 NOOP", 0, L_DEF, ""},
    {"a1 NOOP\r", 0, L_DEF, ""},
    {"a1 NOOP\n", 0, L_DEF, "C[a1 NOOP ~lf]|"},
    {"\r\n\r\na1 NOOP\r\n", 0, L_DEF, "C[a1 NOOP]|"},
    {"\n", 0, L_DEF, ""},
    {"a1 UID fetch 1:* (FLAGS)\r\n", 0, L_DEF, "C[a1 UID FETCH 1:* (FLAGS)]|"},
    {"a1 uid  Store 1 +FLAGS (\\Seen)\r\n", 0, L_DEF,
     "C[a1 UID STORE 1 +FLAGS (\\Seen) ~lenient]|"},
    {"a1 UID\r\nb NOOP\r\n", 0, L_DEF, "E[a1 BAD -]|C[b NOOP]|"},
    {"a X\r\n", 0, L_DEF, "C[a X]|"},
    {"a] NOOP\r\n", 0, L_DEF, "C[a] NOOP]|"},
    /* tags and names */
    {"+ NOOP\r\nb NOOP\r\n", 0, L_DEF, "E[ BAD -]|C[b NOOP]|"},
    {"* NOOP\r\n", 0, L_DEF, "E[ BAD -]|"},
    {"a\r\nb NOOP\r\n", 0, L_DEF, "E[a BAD -]|C[b NOOP]|"},
    {"a \r\n", 0, L_DEF, "E[a BAD -]|"},
    {"(a NOOP\r\n", 0, L_DEF, "E[ BAD -]|"},
    {"a( NOOP\r\n", 0, L_DEF, "E[ BAD -]|"},
    {" a NOOP\r\n", 0, L_DEF, "E[ BAD -]|"},
    {"a NOOP(\r\n", 0, L_DEF, "E[a BAD -]|"},
    {"a N\\OOP\r\n", 0, L_DEF, "E[a BAD -]|"},
    {X10 X10 X10 X10 X10 X10 "xxxx NOOP\r\n", 0, L_DEF, "C[" X10 X10 X10 X10 X10 X10 "xxxx NOOP]|"},
    {X10 X10 X10 X10 X10 X10 "xxxxx NOOP\r\nb NOOP\r\n", 0, L_DEF, "E[ BAD -]|C[b NOOP]|"},
    {"a ABCDEFGHIJKLMNOPQRSTUVWXYZ123456 x\r\n", 0, L_DEF,
     "C[a ABCDEFGHIJKLMNOPQRSTUVWXYZ123456 x]|"},
    {"a ABCDEFGHIJKLMNOPQRSTUVWXYZ1234567 x\r\n", 0, L_DEF, "E[a BAD -]|"},
    /* quoted strings (RFC 9051 4.3) */
    {"A.1 LOGIN \"us\\\"er\" \"p\\\\w\"\r\n", 0, L_DEF, "C[A.1 LOGIN \"us\"er\" \"p\\w\"]|"},
    {"a LOGIN \"a\\b\"\r\nb NOOP\r\n", 0, L_DEF, "E[a BAD -]|C[b NOOP]|"},
    {"a LOGIN \"abc\r\nb NOOP\r\n", 0, L_DEF, "E[a BAD -]|C[b NOOP]|"},
    {"a X \"\"\r\n", 0, L_DEF, "C[a X \"\"]|"},
    {"a X \"a\x01\"\r\n", 0, L_DEF, "C[a X \"a\\x01\"]|"},
    {"a X \"caf\xc3\xa9\"\r\n", 0, L_DEF, "C[a X \"caf\\xc3\\xa9\"]|"},
    {"a X \"\xc3\"\r\n", 0, L_DEF, "E[a BAD -]|"},
    {"a X \"\xed\xa0\x80\"\r\n", 0, L_DEF, "E[a BAD -]|"},
    {"a X \"a\rb\"\r\n", 0, L_DEF, "E[a BAD -]|"},
    {"a X \"a\\\"\r\n", 0, L_DEF, "E[a BAD -]|"},
    {"a X \"a\" \"b\"\r\n", 0, L_DEF, "C[a X \"a\" \"b\"]|"},
    {"a X \"a\"\"b\"\r\n", 0, L_DEF, "E[a BAD -]|"},
    /* atoms and NIL */
    {"a X NIL nil Nil NILS \\Seen $Junk 1:*,3 % * ]\r\n", 0, L_DEF,
     "C[a X N:NIL N:nil N:Nil NILS \\Seen $Junk 1:*,3 % * ]]|"},
    {"a X caf\xc3\xa9\r\n", 0, L_DEF, "E[a BAD -]|"},
    {"a X a\x01\r\n", 0, L_DEF, "E[a BAD -]|"},
    {"a X a\x7f\r\n", 0, L_DEF, "E[a BAD -]|"},
    {"a X a\rb\r\n", 0, L_DEF, "E[a BAD -]|"},
    {"a X a\0b\r\n", 9, L_DEF, "E[a BAD -]|"},
    {"a X a\"b\"\r\n", 0, L_DEF, "E[a BAD -]|"},
    {"a X ~a ~\r\n", 0, L_DEF, "C[a X ~a ~]|"},
    {"a X [a b]\r\n", 0, L_DEF, "C[a X [a b]]|"},
    {"a SELECT [Gmail]/Sent\r\n", 0, L_DEF, "C[a SELECT [Gmail]/Sent]|"},
    /* spaces (leniency) */
    {"a  NOOP\r\n", 0, L_DEF, "C[a NOOP ~lenient]|"},
    {"a NOOP \r\n", 0, L_DEF, "C[a NOOP ~lenient]|"},
    {"a X ( a  b )\r\n", 0, L_DEF, "C[a X (a b) ~lenient]|"},
    {"a X a  b\r\n", 0, L_DEF, "C[a X a b ~lenient]|"},
    /* lists */
    {"a X (a (b c) () d)\r\n", 0, L_DEF, "C[a X (a (b c) () d)]|"},
    {"a X ((a) (b (c)) d) (e)\r\n", 0, L_DEF, "C[a X ((a) (b (c)) d) (e)]|"},
    {"a X ()\r\n", 0, L_DEF, "C[a X ()]|"},
    {"a X (a\r\nb NOOP\r\n", 0, L_DEF, "E[a BAD -]|C[b NOOP]|"},
    {"a X a)\r\n", 0, L_DEF, "E[a BAD -]|"},
    {"a X (a)(b)\r\n", 0, L_DEF, "E[a BAD -]|"},
    {"a X (\"a\"b)\r\n", 0, L_DEF, "E[a BAD -]|"},
    {"a X (((a)))\r\n", 0, L_SMALL, "C[a X (((a)))]|"},
    {"a X ((((a))))\r\nb NOOP\r\n", 0, L_SMALL, "E[a BAD LIMIT]|C[b NOOP]|"},
    {"a X 1 2 3 4 5 6 7 8 9 10\r\n", 0, L_SMALL, "C[a X 1 2 3 4 5 6 7 8 9 10]|"},
    {"a X 1 2 3 4 5 6 7 8 9 10 11\r\nb NOOP\r\n", 0, L_SMALL, "E[a BAD LIMIT]|C[b NOOP]|"},
    {"a X (1 2 3 4) (5 6 7)\r\n", 0, L_SMALL, "C[a X (1 2 3 4) (5 6 7)]|"},
    {"a X (1 2 3 4) (5 6 7 8)\r\n", 0, L_SMALL, "C[a X (1 2 3 4) (5 6 7 8)]|"},
    {"a X (1 2 3 4) (5 6 7 8 9)\r\n", 0, L_SMALL, "E[a BAD LIMIT]|"},
    /* synchronizing literals (RFC 9051 4.3, 7.5) */
    {"a LOGIN {3}\r\nbob {4}\r\npass\r\n", 0, L_DEF, "+|+|C[a LOGIN {3}bob {4}pass]|"},
    {"a X (a {1}\r\nb c)\r\n", 0, L_DEF, "+|C[a X (a {1}b c)]|"},
    {"a X ({1}\r\nx)) b\r\n", 0, L_DEF, "+|E[a BAD -]|"},
    {"a X {0}\r\n\r\n", 0, L_DEF, "+|C[a X {0}]|"},
    {"a X {3}\r\n\r\n\r\n", 0, L_DEF, "+|C[a X {3}\\x0d\\x0a\\x0d ~lf]|"},
    {"a X {003}\r\nabc\r\n", 0, L_DEF, "+|C[a X {3}abc]|"},
    {"a X {3}\r\nabcd\r\nb NOOP\r\n", 0, L_DEF, "+|E[a BAD -]|C[b NOOP]|"},
    {"a X {3}x\r\nb NOOP\r\n", 0, L_DEF, "E[a BAD -]|C[b NOOP]|"},
    {"a X {3}}\r\nb NOOP\r\n", 0, L_DEF, "E[a BAD -]|C[b NOOP]|"},
    {"a X {+}\r\nb NOOP\r\n", 0, L_DEF, "E[a BAD -]|C[b NOOP]|"},
    {"a X {3\r\nb NOOP\r\n", 0, L_DEF, "E[a BAD -]|C[b NOOP]|"},
    {"a X {-3}\r\nb NOOP\r\n", 0, L_DEF, "E[a BAD -]|C[b NOOP]|"},
    {"a X a{3}\r\nb NOOP\r\n", 0, L_DEF, "E[a BAD -]|C[b NOOP]|"},
    {"a {3}\r\nb NOOP\r\n", 0, L_DEF, "E[a BAD -]|C[b NOOP]|"},
    {"a X {65536}\r\n", 0, L_DEF, "+|"},
    {"a X {65537}\r\nb NOOP\r\n", 0, L_DEF, "E[a BAD TOOBIG]|C[b NOOP]|"},
    {"a X {99999999999999999999}\r\nb NOOP\r\n", 0, L_DEF, "E[a BAD TOOBIG]|C[b NOOP]|"},
    {"a X {17}\r\nb NOOP\r\n", 0, L_SMALL, "E[a BAD TOOBIG]|C[b NOOP]|"},
    {"a X {1}\r\na {1}\r\nb {1}\r\nd NOOP\r\n", 0, L_SMALL, "+|+|E[a BAD LIMIT]|C[d NOOP]|"},
    /* NUL: only in literal8 (RFC 3516 4.5) */
    {"a APPEND box ~{3}\r\na\0b\r\n", 24, L_DEF, "+|C[a APPEND box ~{3}a\\x00b]|"},
    {"a APPEND box {3}\r\na\0b\r\nb NOOP\r\n", 31, L_DEF, "+|E[a BAD -]|C[b NOOP]|"},
    {"a APPEND box {3+}\r\na\0b {2+}\r\nxy\r\nb NOOP\r\n", 41, L_DEF, "E[a BAD -]|C[b NOOP]|"},
    {"a APPEND box ~{2+}\r\n\0\0\r\n", 24, L_DEF, "C[a APPEND box ~{2+}\\x00\\x00]|"},
    {"a X ~{2}x\r\nb NOOP\r\n", 0, L_DEF, "E[a BAD -]|C[b NOOP]|"},
    /* non-synchronizing literals (RFC 7888) */
    {"a LOGIN {3+}\r\nbob {4+}\r\npass\r\nb NOOP\r\n", 0, L_DEF,
     "C[a LOGIN {3+}bob {4+}pass]|C[b NOOP]|"},
    {"a X {0+}\r\n\r\n", 0, L_DEF, "C[a X {0+}]|"},
    {"a LOGIN {1+}\r\nx y\r\nb LOGOUT\r\n", 0, L_DEF, "C[a LOGIN {1+}x y]|C[b LOGOUT]|"},
    {"a X {4+}\r\nabcd\r\n", 0, L_MINUS, "C[a X {4+}abcd]|"},
    {"a X {17+}\r\n0123456789abcdefg more\r\nb NOOP\r\n", 0, L_SMALL, "E[a BAD TOOBIG]|C[b NOOP]|"},
    {"a X {17+}\r\n0123456789abcdefg {3+}\r\nabc\r\nb NOOP\r\n", 0, L_SMALL,
     "E[a BAD TOOBIG]|C[b NOOP]|"},
    {"a X {60+}\r\nb NOOP\r\n", 0, L_SMALL, "E[ BYE TOOBIG]|"},
    {"a X {99999999999999999999+}\r\nb NOOP\r\n", 0, L_DEF, "E[ BYE TOOBIG]|"},
    {"a X {1+}\r\na {1+}\r\nb {1+}\r\nc\r\nd NOOP\r\n", 0, L_SMALL, "E[a BAD LIMIT]|C[d NOOP]|"},
    /* an error: the rest of the command is skipped, literals included */
    {"a X \"unterminated {3+}\r\nabc\r\nb NOOP\r\n", 0, L_DEF, "E[a BAD -]|C[b NOOP]|"},
    {"a X \"x {3+}\r\nabc {2+}\r\nde\r\nb NOOP\r\n", 0, L_DEF, "E[a BAD -]|C[b NOOP]|"},
    {"a X \"x {3}\r\nb NOOP\r\n", 0, L_DEF, "E[a BAD -]|C[b NOOP]|"},
    {"a X ) ~{2+}\r\n\r\n\r\nb NOOP\r\n", 0, L_DEF, "E[a BAD -]|C[b NOOP]|"},
    /* line length (RFC 7162 4), literals not counted */
    {"a X " X70 "\r\nb NOOP\r\n", 0, L_SMALL, "E[a BAD TOOBIG]|C[b NOOP]|"},
    {"a X " X70 " {5+}\r\nhello rest\r\nb NOOP\r\n", 0, L_SMALL, "E[a BAD TOOBIG]|C[b NOOP]|"},
    {"a X " X70 " {5}\r\nb NOOP\r\n", 0, L_SMALL, "E[a BAD TOOBIG]|C[b NOOP]|"},
    /* the literal announcement straddles the point where the line got too long */
    {"a X " X10 X10 X10 X10 X10 "xxxxxx {5+}\r\nhello\r\nb NOOP\r\n", 0, L_SMALL,
     "E[a BAD TOOBIG]|C[b NOOP]|"},
    {X70 "\r\nb NOOP\r\n", 0, L_SMALL, "E[ BAD TOOBIG]|C[b NOOP]|"},
    /* the tag of a line too long is looked for in its first line_max
     * octets only, however the input is cut (a fuzzer finding) */
    {X10 X10 X10 X10 X10 " X " X70 "\r\nb NOOP\r\n", 0, L_SMALL,
     "E[" X10 X10 X10 X10 X10 " BAD TOOBIG]|C[b NOOP]|"},
    {X10 X10 X10 X10 X10 X10 "xxx X " X70 "\r\nb NOOP\r\n", 0, L_SMALL,
     "E[" X10 X10 X10 X10 X10 X10 "xxx BAD TOOBIG]|C[b NOOP]|"},
    {X10 X10 X10 X10 X10 X10 "xxxx X " X70 "\r\nb NOOP\r\n", 0, L_SMALL,
     "E[ BAD TOOBIG]|C[b NOOP]|"},
    {"a X " X10 X10 X10 X10 X10 "xxxxxxxx\r\n", 0, L_SMALL,
     "C[a X " X10 X10 X10 X10 X10 "xxxxxxxx]|"},
    {"a X " X10 X10 X10 X10 X10 "xxxxxxxxx\r\nb NOOP\r\n", 0, L_SMALL,
     "E[a BAD TOOBIG]|C[b NOOP]|"},
    {"a X {16}\r\n0123456789abcdef " X10 X10 X10 X10 "\r\nb NOOP\r\n", 0, L_SMALL,
     "+|C[a X {16}0123456789abcdef " X10 X10 X10 X10 "]|C[b NOOP]|"},
    {"a X {16}\r\n0123456789abcdef " X10 X10 X10 X10 X10 "xxxx\r\nb NOOP\r\n", 0, L_SMALL,
     "+|E[a BAD TOOBIG]|C[b NOOP]|"},
    /* APPEND: its message literal against APPENDLIMIT (RFC 7889) */
    {"a APPEND box {33}\r\nb NOOP\r\n", 0, L_SMALL, "E[a NO TOOBIG]|C[b NOOP]|"},
    {"a APPEND {17}\r\nb NOOP\r\n", 0, L_SMALL, "E[a BAD TOOBIG]|C[b NOOP]|"},
    {"a APPEND box (\\Seen) {20}\r\n0123456789abcdefghij\r\n", 0, L_SMALL,
     "+|C[a APPEND box (\\Seen) {20}0123456789abcdefghij]|"},
    {"a APPEND box ({20}\r\nb NOOP\r\n", 0, L_SMALL, "E[a BAD TOOBIG]|C[b NOOP]|"},
    {"a UID APPEND box {20}\r\nb NOOP\r\n", 0, L_SMALL, "E[a BAD TOOBIG]|C[b NOOP]|"},
    {"a APPEND box {32}\r\n0123456789abcdef0123456789abcdef {32}\r\nb NOOP\r\n", 0, L_CMD,
     "+|E[a NO TOOBIG]|C[b NOOP]|"},
    /* FETCH sections: spaces inside "[...]" */
    {"a FETCH 1 (BODY.PEEK[HEADER.FIELDS (From To)]<0.100> UID)\r\n", 0, L_DEF,
     "C[a FETCH 1 (S:BODY.PEEK[HEADER.FIELDS (From To)]<0.100> UID)]|"},
    {"a UID FETCH 1 BODY[]\r\n", 0, L_DEF, "C[a UID FETCH 1 S:BODY[]]|"},
    {"a FETCH 1 BODY[HEADER.FIELDS (\"X]y\")]\r\n", 0, L_DEF,
     "C[a FETCH 1 S:BODY[HEADER.FIELDS (\"X]y\")]]|"},
    {"a FETCH 1 BODY[TEXT\r\nb NOOP\r\n", 0, L_DEF, "E[a BAD -]|C[b NOOP]|"},
    {"a FETCH 1 BODY[{3}]\r\nb NOOP\r\n", 0, L_DEF, "E[a BAD -]|C[b NOOP]|"},
    {"a FETCH 1 BODY[[1]]\r\n", 0, L_DEF, "E[a BAD -]|"},
    {"a FETCH 1 BODY[\"x]\r\n", 0, L_DEF, "E[a BAD -]|"},
    {"a FETCH 1 BODY[\xc3\xa9]\r\n", 0, L_DEF, "E[a BAD -]|"},
    {"a SEARCH BODY[x y]\r\n", 0, L_DEF, "C[a SEARCH BODY[x y]]|"},
};

static void check_row(size_t i, const reader_row *r)
{
    size_t len = r->len != 0 ? r->len : strlen(r->in);
    size_t cuts[4096];
    char ev[4096];

    cuts[0] = 0;
    run(r->in, len, r->lim, cuts, ev, sizeof(ev));
    if (strcmp(ev, r->want) != 0)
        fail_msg("row %zu: got \"%s\", wanted \"%s\"", i, ev, r->want);
    for (size_t at = 1; at < len; at++) {
        cuts[0] = at;
        cuts[1] = 0;
        run(r->in, len, r->lim, cuts, ev, sizeof(ev));
        if (strcmp(ev, r->want) != 0)
            fail_msg("row %zu split at %zu: got \"%s\", wanted \"%s\"", i, at, ev, r->want);
    }
    assert_true(len < sizeof(cuts) / sizeof(cuts[0]));
    for (size_t k = 0; k < len; k++)
        cuts[k] = k + 1;
    cuts[len] = 0;
    run(r->in, len, r->lim, cuts, ev, sizeof(ev));
    if (strcmp(ev, r->want) != 0)
        fail_msg("row %zu bytewise: got \"%s\", wanted \"%s\"", i, ev, r->want);
}

static void test_reader_rows(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(reader_rows) / sizeof(reader_rows[0]); i++)
        check_row(i, &reader_rows[i]);
}

/* Feeds all of in at once; returns the number of events and writes them. */
static void run_all(const char *in, size_t len, int lim, char *ev, size_t size)
{
    size_t cuts[1] = {0};
    run(in, len, lim, cuts, ev, size);
}

/* LITERAL- (RFC 7888 4): non-synchronizing literals up to 4096 octets. */
static void test_literal_minus(void **state)
{
    (void)state;
    size_t big = 5000;
    char *in = malloc(big + 64);
    char ev[16384];
    assert_non_null(in);
    for (size_t n = 4095; n <= 4097; n++) {
        int k = snprintf(in, 64, "a X {%zu+}\r\n", n);
        memset(in + k, 'q', n);
        memcpy(in + k + n, "\r\nb NOOP\r\n", 10);
        run_all(in, (size_t)k + n + 10, L_MINUS, ev, sizeof(ev));
        if (n <= 4096) {
            assert_non_null(strstr(ev, "C[a X {"));
            assert_non_null(strstr(ev, "C[b NOOP]|"));
        } else {
            assert_string_equal(ev, "E[a BAD TOOBIG]|C[b NOOP]|");
        }
        /* a synchronizing one is fine at any size within literal_max */
        k = snprintf(in, 64, "a X {%zu}\r\n", n);
        memset(in + k, 'q', n);
        memcpy(in + k + n, "\r\nb NOOP\r\n", 10);
        run_all(in, (size_t)k + n + 10, L_MINUS, ev, sizeof(ev));
        assert_true(strncmp(ev, "+|C[a X {", 9) == 0);
    }
    free(in);
}

/* The line limit counts all the lines of a command, CRLF included. */
static void test_line_limit(void **state)
{
    (void)state;
    char in[IMAP_LINE_MAX + 64];
    char ev[IMAP_LINE_MAX * 2];
    for (size_t total = IMAP_LINE_MAX - 1; total <= IMAP_LINE_MAX + 1; total++) {
        memcpy(in, "a X ", 4);
        memset(in + 4, 'y', total - 6);
        memcpy(in + total - 2, "\r\nb NOOP\r\n", 10);
        run_all(in, total + 8, L_DEF, ev, sizeof(ev));
        if (total <= IMAP_LINE_MAX) {
            assert_true(strncmp(ev, "C[a X yyy", 9) == 0);
            assert_non_null(strstr(ev, "]|C[b NOOP]|"));
        } else {
            assert_string_equal(ev, "E[a BAD TOOBIG]|C[b NOOP]|");
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reader_rows),
        cmocka_unit_test(test_literal_minus),
        cmocka_unit_test(test_line_limit),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
