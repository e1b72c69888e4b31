#include "buf.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

static void test_append_and_cap(void **state)
{
    (void)state;
    buf b;
    buf_init(&b, 8);
    assert_int_equal(buf_append_str(&b, "abcd"), 0);
    assert_int_equal(buf_printf(&b, "%d", 123), 0);
    assert_string_equal(b.data, "abcd123");
    assert_int_equal(b.len, 7);
    /* The cap is a hard limit: going over fails and keeps the old contents. */
    assert_int_equal(buf_append_str(&b, "xy"), -1);
    assert_true(b.failed);
    assert_string_equal(b.data, "abcd123");
    /* ... and every later append fails too, until a reset. */
    assert_int_equal(buf_append_char(&b, 'z'), -1);
    buf_reset(&b);
    assert_int_equal(buf_append_str(&b, "12345678"), 0);
    assert_int_equal(buf_append_char(&b, '9'), -1);
    buf_free(&b);
}

static void test_growth_and_steal(void **state)
{
    (void)state;
    buf b;
    buf_init(&b, 1 << 20);
    for (int i = 0; i < 10000; i++)
        assert_int_equal(buf_append(&b, "0123456789", 10), 0);
    assert_int_equal(b.len, 100000);
    assert_int_equal(b.data[b.len], '\0');
    char *s = buf_steal(&b);
    assert_int_equal(strlen(s), 100000);
    assert_null(b.data);
    assert_int_equal(b.len, 0);
    free(s);
    s = buf_steal(&b); /* an empty buffer gives an empty string, not NULL */
    assert_string_equal(s, "");
    free(s);
}

static void test_overflow_sizes(void **state)
{
    (void)state;
    buf b;
    buf_init(&b, 16);
    assert_int_equal(buf_append(&b, "x", SIZE_MAX), -1);
    buf_reset(&b);
    assert_int_equal(buf_append(&b, "", 0), 0);
    assert_string_equal(b.data, "");
    buf_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_append_and_cap),
        cmocka_unit_test(test_growth_and_steal),
        cmocka_unit_test(test_overflow_sizes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
