#include "rfc3339.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

static void test_format(void **state)
{
    (void)state;
    static const struct {
        int64_t t;
        const char *text;
    } rows[] = {
        {0, "1970-01-01T00:00:00Z"},
        {951782400, "2000-02-29T00:00:00Z"},
        {1798761599, "2026-12-31T23:59:59Z"},
        {-1, "1969-12-31T23:59:59Z"},
        {253402300799LL, "9999-12-31T23:59:59Z"},
        {999999999999LL, "9999-12-31T23:59:59Z"}, /* clamped */
    };
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        char out[RFC3339_SIZE];
        rfc3339_format(rows[i].t, out);
        assert_string_equal(out, rows[i].text);
    }
}

static void test_parse(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        int ok;
        int64_t t;
    } rows[] = {
        {"1970-01-01T00:00:00Z", 1, 0},
        {"2026-11-25T16:00:00Z", 1, 1795622400},
        {"2026-11-25T17:00:00+01:00", 1, 1795622400},
        {"2026-11-25T15:30:00-00:30", 1, 1795622400},
        {"2026-11-25t16:00:00.123456z", 1, 1795622400},
        {"2000-02-29T00:00:00Z", 1, 951782400},
        {"2001-02-29T00:00:00Z", 0, 0},
        {"2026-13-01T00:00:00Z", 0, 0},
        {"2026-00-01T00:00:00Z", 0, 0},
        {"2026-11-25T24:00:00Z", 0, 0},
        {"2026-11-25T16:00:00", 0, 0},
        {"2026-11-25T16:00:00.Z", 0, 0},
        {"2026-11-25 16:00:00Z", 0, 0},
        {"2026-11-25T16:00:00+1:00", 0, 0},
        {"2026-11-25T16:00:00+01:60", 0, 0},
        {"2026-11-25T16:00:00Zjunk", 0, 0},
        {"+2026-11-25T16:00:00Z", 0, 0},
        {"", 0, 0},
    };
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        int64_t t = -42;
        int rc = rfc3339_parse(rows[i].text, strlen(rows[i].text), &t);
        if ((rc == 0) != rows[i].ok || (rc == 0 && t != rows[i].t))
            fail_msg("%s: rc %d t %lld", rows[i].text, rc, (long long)t);
    }
}

static void test_round_trip(void **state)
{
    (void)state;
    for (int64_t t = -5000000000LL; t < 5000000000LL; t += 86399 * 37 + 17) {
        char out[RFC3339_SIZE];
        int64_t back;
        rfc3339_format(t, out);
        assert_int_equal(rfc3339_parse(out, strlen(out), &back), 0);
        assert_int_equal(back, t);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_format),
        cmocka_unit_test(test_parse),
        cmocka_unit_test(test_round_trip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
