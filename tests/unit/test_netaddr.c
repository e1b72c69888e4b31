#include "netaddr.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

static void test_prefixes(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        int ok;
    } rows[] = {
        {"192.0.2.1", 1},       {"192.0.2.0/24", 1},  {"0.0.0.0/0", 1},     {"::1", 1},
        {"2001:db8::/32", 1},   {"::/0", 1},          {"192.0.2.0/33", 0},  {"::/129", 0},
        {"192.0.2.0/", 0},      {"192.0.2.0/-1", 0},  {"192.0.2.0/1a", 0},  {"300.0.0.1", 0},
        {"192.0.2", 0},         {"example.com", 0},   {"", 0},              {"1.2.3.4/0024", 0},
    };
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        netaddr_prefix p;
        int rc = netaddr_prefix_parse(rows[i].text, strlen(rows[i].text), &p);
        if ((rc == 0) != rows[i].ok)
            fail_msg("%s: got %d", rows[i].text, rc);
    }
}

static void test_match(void **state)
{
    (void)state;
    netaddr_prefix list[NETADDR_LIST_MAX];
    int n = netaddr_list_parse("127.0.0.1, 172.30.0.0/24 2001:db8::/32", list, NETADDR_LIST_MAX);
    assert_int_equal(n, 3);
    assert_true(netaddr_list_match(list, n, "127.0.0.1"));
    assert_false(netaddr_list_match(list, n, "127.0.0.2"));
    assert_true(netaddr_list_match(list, n, "172.30.0.77"));
    assert_false(netaddr_list_match(list, n, "172.30.1.1"));
    assert_true(netaddr_list_match(list, n, "2001:db8:1::5"));
    assert_false(netaddr_list_match(list, n, "2001:db9::5"));
    assert_false(netaddr_list_match(list, n, "::ffff:127.0.0.1"));
    assert_false(netaddr_list_match(list, n, "garbage"));
    assert_int_equal(netaddr_list_parse("", list, NETADDR_LIST_MAX), 0);
    assert_int_equal(netaddr_list_parse("1.2.3.4, nope", list, NETADDR_LIST_MAX), -1);
    assert_int_equal(netaddr_list_parse("1.1.1.1 2.2.2.2 3.3.3.3", list, 2), -1);
}

static void test_forwarded(void **state)
{
    (void)state;
    netaddr_prefix list[4];
    int n = netaddr_list_parse("172.30.0.0/24", list, 4);
    char out[NETADDR_TEXT_MAX + 1];
    assert_true(netaddr_forwarded_client("198.51.100.7", list, n, out, sizeof(out)));
    assert_string_equal(out, "198.51.100.7");
    /* the client wrote the first entry itself: only the rightmost counts */
    assert_true(netaddr_forwarded_client("1.1.1.1, 198.51.100.7", list, n, out, sizeof(out)));
    assert_string_equal(out, "198.51.100.7");
    /* a chain of trusted proxies is skipped */
    assert_true(
        netaddr_forwarded_client("198.51.100.7 , 172.30.0.9", list, n, out, sizeof(out)));
    assert_string_equal(out, "198.51.100.7");
    assert_false(netaddr_forwarded_client("", list, n, out, sizeof(out)));
    assert_false(netaddr_forwarded_client("not-an-ip", list, n, out, sizeof(out)));
    assert_false(netaddr_forwarded_client("172.30.0.9", list, n, out, sizeof(out)));
    assert_false(netaddr_forwarded_client("1.1.1.1,", list, n, out, sizeof(out)));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_prefixes),
        cmocka_unit_test(test_match),
        cmocka_unit_test(test_forwarded),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
