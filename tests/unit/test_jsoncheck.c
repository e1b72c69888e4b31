#include "jsoncheck.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

static const struct {
    const char *body;
    size_t len; /* 0: strlen */
    int ok;
} cases[] = {
    {"{}", 0, 1},
    {"{\"name\":\"b\xc3\xbc" "cher.example\"}", 0, 1},
    {"{\"a\":[[[[1]]]]}", 0, 1},
    {"{\"a\":\"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[\"}", 0, 1}, /* brackets inside a string */
    {"{\"a\":\"\\\"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[\"}", 0, 1}, /* after an escaped quote */
    {"{\"a\":\"x\\u0041\"}", 0, 1},
    {"{\"a\":\"x\\\\u0000\"}", 0, 1}, /* an escaped backslash, then text */
    {"{\"a\":\"x\\u0000y\"}", 0, 0},
    {"{\"a\":\"k\xff\"}", 0, 0},
    {"{\"a\":\"\xc0\xaf\"}", 0, 0},                 /* overlong '/' */
    {"{\"a\":\"\xed\xa0\x80\"}", 0, 0},             /* UTF-8 encoded surrogate */
    {"{\"a\":\"\xf4\x90\x80\x80\"}", 0, 0},         /* above U+10FFFF */
    {"{\"a\":\"\xe2\x82\"}", 0, 0},                 /* truncated sequence */
    {"{\"a\":\"\xf0\x9f\x93\xa7\"}", 0, 1},         /* U+1F4E7 */
    {"{\"a\":\"x\0y\"}", 10, 1},                    /* a raw NUL is the parser's to refuse */
};

static void test_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const char *err = NULL;
        size_t len = cases[i].len ? cases[i].len : strlen(cases[i].body);
        int rc = jsoncheck_body(cases[i].body, len, 8, &err);
        if ((rc == 0) != cases[i].ok)
            fail_msg("case %zu: got %d (%s)", i, rc, err ? err : "");
    }
}

static void test_depth(void **state)
{
    (void)state;
    char body[2048];
    const char *err = NULL;
    for (unsigned d = 1; d < 40; d++) {
        size_t n = 0;
        for (unsigned i = 0; i < d; i++)
            body[n++] = '[';
        for (unsigned i = 0; i < d; i++)
            body[n++] = ']';
        assert_int_equal(jsoncheck_body(body, n, JSONCHECK_DEPTH_DEFAULT, &err) == 0,
                         d <= JSONCHECK_DEPTH_DEFAULT);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table),
        cmocka_unit_test(test_depth),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
