/* Unit tests for workers/pop3/pop3_dot.c: byte-stuffing, line ends and TOP
 * (RFC 1939 3, 7), as a table; each case is also fed cut at every offset
 * and one octet at a time, which must give the same output. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "pop3_dot.h"

#define ALL POP3_DOT_ALL

typedef struct dot_case {
    const char *in;
    uint64_t lines; /* TOP's count, or ALL (RETR) */
    const char *out;
} dot_case;

static const dot_case cases[] = {
    /* RETR */
    {"Subject: a\r\n\r\nbody\r\n", ALL, "Subject: a\r\n\r\nbody\r\n.\r\n"},
    {"", ALL, ".\r\n"},
    {"A: b\r\n\r\n.\r\n", ALL, "A: b\r\n\r\n..\r\n.\r\n"}, /* a lone dot */
    {"A: b\r\n\r\n..x\r\n.y\r\n", ALL, "A: b\r\n\r\n...x\r\n..y\r\n.\r\n"},
    {".\r\n", ALL, "..\r\n.\r\n"},                                      /* first line */
    {"A: b\r\n\r\nx.\r\n .\r\n", ALL, "A: b\r\n\r\nx.\r\n .\r\n.\r\n"}, /* not at line start */
    {"A: b\r\n\r\nno end", ALL, "A: b\r\n\r\nno end\r\n.\r\n"},         /* last line unterminated */
    {"A: b\n\nbare\n.lf\n", ALL, "A: b\r\n\r\nbare\r\n..lf\r\n.\r\n"},  /* bare LF -> CRLF */
    {"A: b\r\n\r\nx\ry\r\n", ALL, "A: b\r\n\r\nx\ry\r\n.\r\n"},         /* bare CR kept */
    {"A: b\r\n\r\nend\r", ALL, "A: b\r\n\r\nend\r\n.\r\n"},             /* a CR at the very end */
    {"A: b\r\n\r\n\r\n\r\n", ALL, "A: b\r\n\r\n\r\n\r\n.\r\n"},
    /* TOP */
    {"A: b\r\nC: d\r\n\r\nl1\r\nl2\r\nl3\r\n", 0, "A: b\r\nC: d\r\n\r\n.\r\n"},
    {"A: b\r\nC: d\r\n\r\nl1\r\nl2\r\nl3\r\n", 1, "A: b\r\nC: d\r\n\r\nl1\r\n.\r\n"},
    {"A: b\r\nC: d\r\n\r\nl1\r\nl2\r\nl3\r\n", 2, "A: b\r\nC: d\r\n\r\nl1\r\nl2\r\n.\r\n"},
    {"A: b\r\nC: d\r\n\r\nl1\r\nl2\r\nl3\r\n", 3, "A: b\r\nC: d\r\n\r\nl1\r\nl2\r\nl3\r\n.\r\n"},
    {"A: b\r\nC: d\r\n\r\nl1\r\nl2\r\nl3\r\n", 4, "A: b\r\nC: d\r\n\r\nl1\r\nl2\r\nl3\r\n.\r\n"},
    {"A: b\r\n\r\nl1\r\nl2", 5, "A: b\r\n\r\nl1\r\nl2\r\n.\r\n"}, /* unterminated last line */
    {"A: b\r\n\r\nl1\r\nl2", 2, "A: b\r\n\r\nl1\r\nl2\r\n.\r\n"},
    {"A: b\r\n\r\n.l1\r\n..l2\r\n", 1, "A: b\r\n\r\n..l1\r\n.\r\n"},
    {"A: b\r\n\r\n\r\nl2\r\n", 1, "A: b\r\n\r\n\r\n.\r\n"}, /* an empty body line counts */
    {"A: b\r\nC: d\r\n", 0, "A: b\r\nC: d\r\n.\r\n"},       /* no body at all */
    {"A: b\r\nC: d", 0, "A: b\r\nC: d\r\n.\r\n"},
    {"\r\nbody\r\n", 0, "\r\n.\r\n"}, /* empty header */
    {"A: b\n\nl1\nl2\n", 1, "A: b\r\n\r\nl1\r\n.\r\n"},
    {"A: b\r\n\r\nl1\r\n", UINT32_MAX, "A: b\r\n\r\nl1\r\n.\r\n"},
};

/* Runs in[0..len) cut into pieces of `piece` octets (0: whole) with the
 * feed stopping once TOP is done, as the worker does. */
static void run(const dot_case *c, size_t piece, buf *out)
{
    pop3_dot d;
    size_t len = strlen(c->in), off = 0;
    pop3_dot_init(&d, c->lines);
    while (off < len && !pop3_dot_done(&d)) {
        size_t n = piece == 0 || piece > len - off ? len - off : piece;
        assert_int_equal(pop3_dot_write(&d, c->in + off, n, out), 0);
        off += n;
    }
    assert_int_equal(pop3_dot_finish(&d, out), 0);
}

static void check(const dot_case *c, size_t piece)
{
    buf out;
    buf_init(&out, 1 << 16);
    run(c, piece, &out);
    if (out.len != strlen(c->out) || memcmp(out.data, c->out, out.len) != 0)
        fail_msg("case \"%s\" lines %llu piece %zu: got \"%.*s\"", c->in,
                 (unsigned long long)c->lines, piece, (int)out.len, out.data);
    buf_free(&out);
}

static void test_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        size_t len = strlen(cases[i].in);
        for (size_t piece = 0; piece <= len; piece++)
            check(&cases[i], piece);
    }
}

/* Cut at every single offset into two pieces. */
static void test_two_pieces(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const dot_case *c = &cases[i];
        size_t len = strlen(c->in);
        for (size_t cut = 0; cut <= len; cut++) {
            buf out;
            pop3_dot d;
            buf_init(&out, 1 << 16);
            pop3_dot_init(&d, c->lines);
            assert_int_equal(pop3_dot_write(&d, c->in, cut, &out), 0);
            assert_int_equal(pop3_dot_write(&d, c->in + cut, len - cut, &out), 0);
            assert_int_equal(pop3_dot_finish(&d, &out), 0);
            assert_int_equal(out.len, strlen(c->out));
            assert_memory_equal(out.data, c->out, out.len);
            buf_free(&out);
        }
    }
}

/* The output is a valid multi-line response: CRLF lines, none of which is
 * a lone "." but the last, and unstuffing gives the input (with CRLF). */
static void test_roundtrip(void **state)
{
    (void)state;
    const char *in = "From: x\r\n\r\n.\r\n..\r\n.a\r\nb.\r\n\r\n.";
    buf out;
    pop3_dot d;
    buf_init(&out, 4096);
    pop3_dot_init(&d, ALL);
    assert_int_equal(pop3_dot_write(&d, in, strlen(in), &out), 0);
    assert_int_equal(pop3_dot_finish(&d, &out), 0);
    char back[256];
    size_t blen = 0;
    const char *p = out.data, *end = out.data + out.len;
    for (;;) {
        const char *eol = strstr(p, "\r\n");
        assert_non_null(eol);
        size_t n = (size_t)(eol - p);
        if (n == 1 && p[0] == '.') {
            assert_ptr_equal(eol + 2, end);
            break;
        }
        if (n > 0 && p[0] == '.') {
            p++;
            n--;
        }
        memcpy(back + blen, p, n);
        blen += n;
        memcpy(back + blen, "\r\n", 2);
        blen += 2;
        p = eol + 2;
    }
    assert_int_equal(blen, strlen(in) + 2); /* the last line got its CRLF */
    assert_memory_equal(back, in, strlen(in));
    buf_free(&out);
}

/* A full output buffer is an error, never a silent cut. */
static void test_cap(void **state)
{
    (void)state;
    buf out;
    pop3_dot d;
    buf_init(&out, 8);
    pop3_dot_init(&d, ALL);
    assert_int_equal(pop3_dot_write(&d, "0123456789\r\n", 12, &out), -1);
    assert_true(out.failed);
    buf_free(&out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table),
        cmocka_unit_test(test_two_pieces),
        cmocka_unit_test(test_roundtrip),
        cmocka_unit_test(test_cap),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
