/* Table-driven tests of lib/names. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "names.h"

/* A row: in/len (len 0 = strlen(in)), want = normalized output or NULL when
 * the input must be refused, err = a substring of the expected message. */
typedef struct {
    const char *in;
    size_t len;
    const char *want;
    const char *err;
} name_row;

static size_t row_len(const name_row *r)
{
    return r->len != 0 ? r->len : strlen(r->in);
}

static void check_error(const char *what, const char *in, const char *err, const char *want_err)
{
    if (err == NULL || err[0] == '\0')
        fail_msg("%s(\"%s\"): no error message", what, in);
    if (want_err != NULL && strstr(err, want_err) == NULL)
        fail_msg("%s(\"%s\"): error \"%s\", wanted \"%s\"", what, in, err, want_err);
}

static const name_row domain_rows[] = {
    /* valid */
    {"example.com", 0, "example.com", NULL},
    {"EXAMPLE.com", 0, "example.com", NULL},
    {"Mail.Example.COM", 0, "mail.example.com", NULL},
    {"bücher.example", 0, "xn--bcher-kva.example", NULL},
    {"BÜCHER.example", 0, "xn--bcher-kva.example", NULL},
    {"xn--bcher-kva.example", 0, "xn--bcher-kva.example", NULL},
    {"XN--BCHER-KVA.EXAMPLE", 0, "xn--bcher-kva.example", NULL},
    {"пример.рф", 0, "xn--e1afmkfd.xn--p1ai", NULL},
    {"example.xn--p1ai", 0, "example.xn--p1ai", NULL},
    {"straße.de", 0, "xn--strae-oqa.de", NULL}, /* non-transitional: ß kept */
    {"example.com.", 0, "example.com", NULL},   /* one trailing dot dropped */
    {"a-b.example", 0, "a-b.example", NULL},
    {"a.b.c.d.example", 0, "a.b.c.d.example", NULL},
    {"123.example", 0, "123.example", NULL},
    {"1.2.3.a", 0, "1.2.3.a", NULL},
    {"x1.com", 0, "x1.com", NULL},
    {"a\343\200\202b.com", 0, "a.b.com", NULL},          /* U+3002 maps to '.' (UTS #46) */
    {"\xef\xbc\xa5\xef\xbc\xb8.com", 0, "ex.com", NULL}, /* fullwidth "EX" */
    /* invalid */
    {"", 0, NULL, "empty"},
    {".", 0, NULL, "empty label"},
    {"..", 0, NULL, "empty label"},
    {"a..b", 0, NULL, "empty label"},
    {"a..b.com", 0, NULL, "empty label"},
    {".example.com", 0, NULL, "empty label"},
    {"example.com..", 0, NULL, "empty label"},
    {"-a.com", 0, NULL, "'-'"},
    {"a-.com", 0, NULL, "'-'"},
    {"example.-com", 0, NULL, "'-'"},
    {"a", 0, NULL, "single-label"},
    {"localhost", 0, NULL, "single-label"},
    {"com.", 0, NULL, "single-label"},
    {"1.2.3.4", 0, NULL, "all-numeric"},
    {"1.2.3.4.", 0, NULL, "all-numeric"},
    {"example.123", 0, NULL, "all-numeric"},
    {"exa mple.com", 0, NULL, "not allowed"},
    {"ex\tample.com", 0, NULL, "not allowed"},
    {"a_b.com", 0, NULL, "not allowed"},
    {"*.example.com", 0, NULL, "not allowed"},
    {"user@example.com", 0, NULL, "not allowed"},
    {"example.com/x", 0, NULL, "not allowed"},
    {"[192.0.2.1]", 0, NULL, "not allowed"},
    {"ab--cd.com", 0, NULL, "--"},
    {"xn--abc-.com", 0, NULL, "A-label"},
    {"xn--zz.com", 0, NULL, "A-label"},
    {"xn--.com", 0, NULL, "A-label"},
    {"xn--a.com", 0, NULL, NULL},             /* decodes to U+0080 */
    {"xn--fmkfd.bh", 0, NULL, "A-label"},     /* decodes to U+3206 U+3207 U+3203 */
    {"a.XN--FMKFD.bh", 0, NULL, "A-label"},   /* the same, not first */
    {"xn--example-.com", 0, NULL, "A-label"}, /* an all-ASCII "U-label" */
    {"\xff.com", 0, NULL, "UTF-8"},
    {"b\xc3.com", 0, NULL, "UTF-8"},            /* truncated sequence */
    {"\xc0\xaf.com", 0, NULL, "UTF-8"},         /* overlong '/' */
    {"\xed\xa0\x80.com", 0, NULL, "UTF-8"},     /* surrogate */
    {"\xf4\x90\x80\x80.com", 0, NULL, "UTF-8"}, /* above U+10FFFF */
    {"exa\0mple.com", 12, NULL, "NUL"},
    {"example.com\0", 12, NULL, "NUL"},
    {"a\342\200\256b.com", 0, NULL, NULL}, /* U+202E RIGHT-TO-LEFT OVERRIDE */
    {"a\342\200\214b.com", 0, NULL, NULL}, /* U+200C ZWNJ out of context */
    {"\xe2\x92\x88.com", 0, NULL, NULL},   /* U+2488 DIGIT ONE FULL STOP */
};

static void test_domain_rows(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(domain_rows) / sizeof(domain_rows[0]); i++) {
        const name_row *r = &domain_rows[i];
        char out[NAMES_DOMAIN_MAX + 1];
        const char *err = NULL;
        int rc = names_domain_normalize(r->in, row_len(r), out, &err);
        if (r->want != NULL) {
            if (rc != 0)
                fail_msg("domain row %zu \"%s\": refused: %s", i, r->in, err);
            assert_string_equal(out, r->want);
            /* normalized output normalizes to itself */
            char again[NAMES_DOMAIN_MAX + 1];
            assert_int_equal(names_domain_normalize(out, strlen(out), again, &err), 0);
            assert_string_equal(again, out);
        } else {
            if (rc != -1)
                fail_msg("domain row %zu \"%s\": accepted as \"%s\"", i, r->in, out);
            assert_string_equal(out, "");
            check_error("domain", r->in, err, r->err);
        }
    }
}

static void fill(char *p, char c, size_t n)
{
    memset(p, c, n);
}

static void test_domain_lengths(void **state)
{
    (void)state;
    char in[512], out[NAMES_DOMAIN_MAX + 1];
    const char *err = NULL;

    /* 63-octet label ok, 64 refused */
    fill(in, 'a', 63);
    memcpy(in + 63, ".com", 5);
    assert_int_equal(names_domain_normalize(in, strlen(in), out, &err), 0);
    fill(in, 'a', 64);
    memcpy(in + 64, ".com", 5);
    assert_int_equal(names_domain_normalize(in, strlen(in), out, &err), -1);
    check_error("domain", in, err, "label longer than 63");

    /* 253 octets ok (+ trailing dot ok), 254 refused */
    size_t n = 0;
    for (int l = 0; l < 3; l++) {
        fill(in + n, (char)('a' + l), 63);
        n += 63;
        in[n++] = '.';
    }
    fill(in + n, 'd', 61);
    n += 61;
    in[n] = '\0';
    assert_int_equal(n, 253);
    assert_int_equal(names_domain_normalize(in, n, out, &err), 0);
    assert_string_equal(out, in);
    in[n] = '.'; /* 253 octets plus the root dot */
    assert_int_equal(names_domain_normalize(in, n + 1, out, &err), 0);
    assert_int_equal(strlen(out), 253);
    assert_memory_equal(out, in, 253);
    in[n] = 'd';
    in[n + 1] = '\0';
    assert_int_equal(names_domain_normalize(in, n + 1, out, &err), -1);
    check_error("domain", in, err, "longer than 253");

    /* U-labels that fit before conversion but not after: 57 ASCII + "ü" is a
     * 59-octet label whose A-label needs 4 + 57 + 1 + 3 = 65 */
    n = 0;
    fill(in, 'a', 57), n += 57;
    memcpy(in + n, "\xc3\xbc.com", 7), n += 6;
    assert_int_equal(names_domain_normalize(in, n, out, &err), -1);
    check_error("domain", in, err, "label longer than 63");
    /* five 51-octet U-labels: 58-octet A-labels, 5 * 59 + 3 > 253 */
    n = 0;
    for (int l = 0; l < 5; l++) {
        fill(in + n, (char)('a' + l), 49), n += 49;
        memcpy(in + n, "\xc3\xbc.", 3), n += 3;
    }
    memcpy(in + n, "com", 3), n += 3;
    assert_int_equal(names_domain_normalize(in, n, out, &err), -1);
    check_error("domain", in, err, "longer than 253");

    /* input far over any limit */
    char big[2048];
    fill(big, 'a', sizeof(big));
    assert_int_equal(names_domain_normalize(big, sizeof(big), out, &err), -1);
}

typedef struct {
    const char *alabel;
    size_t outsz;
    int rc;
    const char *want;
} unicode_row;

static const unicode_row unicode_rows[] = {
    {"xn--bcher-kva.example", 64, 0, "bücher.example"},
    {"example.com", 64, 0, "example.com"},
    {"xn--e1afmkfd.xn--p1ai", 64, 0, "пример.рф"},
    {"xn--bcher-kva.example", 16, 0, "bücher.example"},
    {"xn--4caaaaaaaaaa.example", 25, 1, "xn--4caaaaaaaaaa.example"}, /* U-form needs 29 */
    {"xn--zz.com", 64, 1, "xn--zz.com"},
    {"example.com", 11, -1, ""},
    {"example.com", 12, 0, "example.com"},
};

static void test_domain_to_unicode(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(unicode_rows) / sizeof(unicode_rows[0]); i++) {
        const unicode_row *r = &unicode_rows[i];
        char out[128];
        memset(out, 'X', sizeof(out));
        int rc = names_domain_to_unicode(r->alabel, out, r->outsz);
        if (rc != r->rc)
            fail_msg("unicode row %zu \"%s\": rc %d, wanted %d", i, r->alabel, rc, r->rc);
        assert_string_equal(out, r->want);
    }
    char one[1] = {'X'};
    assert_int_equal(names_domain_to_unicode("example.com", one, 0), -1);
    assert_int_equal(one[0], 'X');
}

static const name_row local_rows[] = {
    {"john", 0, "john", NULL},
    {"John.Doe", 0, "john.doe", NULL},
    {"JOHN", 0, "john", NULL},
    {"a+tag", 0, "a+tag", NULL},
    {"o'brien", 0, "o'brien", NULL},
    {"x_y-z", 0, "x_y-z", NULL},
    {"a*b", 0, "a*b", NULL},
    {"**", 0, "**", NULL},
    {"{x}", 0, "{x}", NULL},
    {"~", 0, "~", NULL},
    {"#", 0, "#", NULL},
    {"a=b?c^d`e|f&g$h", 0, "a=b?c^d`e|f&g$h", NULL},
    {"a/b", 0, NULL, "'/'"},
    {"1", 0, "1", NULL},
    {"", 0, NULL, "empty"},
    {".a", 0, NULL, "'.'"},
    {"a.", 0, NULL, "'.'"},
    {".", 0, NULL, "'.'"},
    {"a..b", 0, NULL, ".."},
    {"*", 0, NULL, "catch-all"},
    {"a%b", 0, NULL, "'%'"},
    {"a%b%c", 0, NULL, "'%'"},
    {"a!b", 0, NULL, "'!'"},
    {"\"a\"", 0, NULL, "quoted"},
    {"a\\b", 0, NULL, "quoted"},
    {"a@b", 0, NULL, "'@'"},
    {"@a:b", 0, NULL, "'@'"},
    {"a b", 0, NULL, "not allowed"},
    {"a(b)", 0, NULL, "not allowed"},
    {"a,b", 0, NULL, "not allowed"},
    {"a:b", 0, NULL, "not allowed"},
    {"a;b", 0, NULL, "not allowed"},
    {"a<b>", 0, NULL, "not allowed"},
    {"a[b]", 0, NULL, "not allowed"},
    {"a\r\nb", 0, NULL, "not allowed"},
    {"a\0b", 3, NULL, "NUL"},
    {"j\xc3\xbcrgen", 0, NULL, "non-ASCII"},
    {"\xff", 0, NULL, "non-ASCII"},
};

static void test_local_rows(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(local_rows) / sizeof(local_rows[0]); i++) {
        const name_row *r = &local_rows[i];
        char out[NAMES_LOCAL_MAX + 1];
        const char *err = NULL;
        int rc = names_local_normalize(r->in, row_len(r), out, &err);
        if (r->want != NULL) {
            if (rc != 0)
                fail_msg("local row %zu \"%s\": refused: %s", i, r->in, err);
            assert_string_equal(out, r->want);
        } else {
            if (rc != -1)
                fail_msg("local row %zu \"%s\": accepted as \"%s\"", i, r->in, out);
            check_error("local", r->in, err, r->err);
        }
    }
}

static void test_local_lengths(void **state)
{
    (void)state;
    char in[80], out[NAMES_LOCAL_MAX + 1];
    const char *err = NULL;

    fill(in, 'A', 64);
    assert_int_equal(names_local_normalize(in, 64, out, &err), 0);
    assert_int_equal(strlen(out), 64);
    assert_int_equal(out[0], 'a');
    fill(in, 'a', 65);
    assert_int_equal(names_local_normalize(in, 65, out, &err), -1);
    check_error("local", "65 x a", err, "longer than 64");
}

static void test_catchall(void **state)
{
    (void)state;
    assert_true(names_local_is_catchall("*"));
    assert_false(names_local_is_catchall("**"));
    assert_false(names_local_is_catchall(""));
    assert_false(names_local_is_catchall("a"));
    assert_false(names_local_is_catchall(NULL));
}

typedef struct {
    const char *in;
    size_t len;
    names_flags flags;
    const char *local; /* NULL: refused */
    const char *domain;
    const char *err;
} address_row;

#define HOSTED NAMES_LOCAL_ASCII_LOWER
#define KEEP NAMES_LOCAL_UTF8_KEEP
#define CATCH (NAMES_LOCAL_ASCII_LOWER | NAMES_LOCAL_CATCHALL_OK)

static const address_row address_rows[] = {
    {"john@example.com", 0, HOSTED, "john", "example.com", NULL},
    {"John.Doe@EXAMPLE.com", 0, HOSTED, "john.doe", "example.com", NULL},
    {"John.Doe@EXAMPLE.com", 0, KEEP, "John.Doe", "example.com", NULL},
    {"A@EXAMPLE.COM", 0, KEEP, "A", "example.com", NULL},
    {"John@bücher.example", 0, KEEP, "John", "xn--bcher-kva.example", NULL},
    {"John@bücher.example", 0, HOSTED, "john", "xn--bcher-kva.example", NULL},
    {"J\xc3\xbcrgen@b\303\274cher.example", 0, KEEP, "J\xc3\xbcrgen", "xn--bcher-kva.example",
     NULL},
    {"\xe7\x94\xa8\xe6\x88\xb7@\xe4\xbe\x8b\xe5\xad\x90.\xe5\xb9\xbf\xe5\x91\x8a", 0, KEEP,
     "\xe7\x94\xa8\xe6\x88\xb7", "xn--fsqu00a.xn--4rr70v", NULL}, /* 用户@例子.广告 */
    {"a+b@example.com", 0, HOSTED, "a+b", "example.com", NULL},
    {"*@example.com", 0, CATCH, "*", "example.com", NULL},
    {"*@example.com", 0, KEEP, "*", "example.com", NULL},
    {"a*@example.com", 0, HOSTED, "a*", "example.com", NULL},
    /* refused */
    {"*@example.com", 0, HOSTED, NULL, NULL, "catch-all"},
    {"j\xc3\xbcrgen@example.com", 0, HOSTED, NULL, NULL, "non-ASCII"},
    {"", 0, HOSTED, NULL, NULL, "empty"},
    {"example.com", 0, HOSTED, NULL, NULL, "missing '@'"},
    {"john", 0, KEEP, NULL, NULL, "missing '@'"},
    {"@example.com", 0, HOSTED, NULL, NULL, "empty local"},
    {"a@", 0, HOSTED, NULL, NULL, "empty domain"},
    {"@", 0, KEEP, NULL, NULL, "empty local"},
    {"a@b@example.com", 0, KEEP, NULL, NULL, "'@'"},
    {"a@b@example.com", 0, HOSTED, NULL, NULL, "'@'"},
    /* relay tricks */
    {"@a.example:b@c.example", 0, KEEP, NULL, NULL, "source route"},
    {"@a.example,@b.example:c@d.example", 0, KEEP, NULL, NULL, "source route"},
    {"@a.example:b@c.example", 0, HOSTED, NULL, NULL, "source route"},
    {"a%b.example@c.example", 0, KEEP, NULL, NULL, "'%'"},
    {"a%b.example@c.example", 0, HOSTED, NULL, NULL, "'%'"},
    {"b.example!a@c.example", 0, KEEP, NULL, NULL, "'!'"},
    {"b.example!a@c.example", 0, HOSTED, NULL, NULL, "'!'"},
    {"\"a b\"@example.com", 0, KEEP, NULL, NULL, "quoted"},
    {"\"a@b\"@example.com", 0, KEEP, NULL, NULL, "quoted"},
    {"\"a\"@example.com", 0, HOSTED, NULL, NULL, "quoted"},
    {"a\\@b@example.com", 0, KEEP, NULL, NULL, "quoted"},
    {"a@[192.0.2.1]", 0, KEEP, NULL, NULL, "literal"},
    {"a@[IPv6:2001:db8::1]", 0, KEEP, NULL, NULL, "literal"},
    {"a@1.2.3.4", 0, KEEP, NULL, NULL, "all-numeric"},
    {"a@localhost", 0, KEEP, NULL, NULL, "single-label"},
    {"<a@example.com>", 0, KEEP, NULL, NULL, "angle"},
    {"a@example.com>", 0, KEEP, NULL, NULL, "angle"},
    /* syntax */
    {"a@example.com.", 0, KEEP, NULL, NULL, "trailing dot"},
    {"a.@example.com", 0, KEEP, NULL, NULL, "'.'"},
    {".a@example.com", 0, HOSTED, NULL, NULL, "'.'"},
    {"a..b@example.com", 0, KEEP, NULL, NULL, ".."},
    {"a b@example.com", 0, KEEP, NULL, NULL, "not allowed"},
    {" a@example.com", 0, KEEP, NULL, NULL, "not allowed"},
    {"a@example.com ", 0, KEEP, NULL, NULL, "not allowed"},
    {"a@exa mple.com", 0, KEEP, NULL, NULL, "not allowed"},
    {"a@a..example", 0, KEEP, NULL, NULL, "empty label"},
    {"a\0@example.com", 15, KEEP, NULL, NULL, "NUL"},
    {"a@example.com\0", 14, KEEP, NULL, NULL, "NUL"},
    {"\xc2\x80@example.com", 0, KEEP, NULL, NULL, "control"},
    {"\xff@example.com", 0, KEEP, NULL, NULL, "UTF-8"},
    {"\xc3@example.com", 0, KEEP, NULL, NULL, "UTF-8"},
    {"a@\xff.example", 0, KEEP, NULL, NULL, "UTF-8"},
};

static void test_address_rows(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(address_rows) / sizeof(address_rows[0]); i++) {
        const address_row *r = &address_rows[i];
        size_t len = r->len != 0 ? r->len : strlen(r->in);
        names_address a;
        const char *err = NULL;
        int rc = names_address_parse(r->in, len, r->flags, &a, &err);
        if (r->local != NULL) {
            if (rc != 0)
                fail_msg("address row %zu \"%s\": refused: %s", i, r->in, err);
            assert_string_equal(a.local, r->local);
            assert_string_equal(a.domain, r->domain);
            char buf[NAMES_ADDRESS_MAX + 1];
            assert_int_equal(names_address_format(&a, buf), 0);
            names_address b;
            assert_int_equal(names_address_parse(buf, strlen(buf), r->flags, &b, &err), 0);
            assert_memory_equal(&a, &b, sizeof(a));
        } else {
            if (rc != -1)
                fail_msg("address row %zu \"%s\": accepted as %s@%s", i, r->in, a.local, a.domain);
            assert_string_equal(a.local, "");
            assert_string_equal(a.domain, "");
            check_error("address", r->in, err, r->err);
        }
    }
}

static void test_address_lengths(void **state)
{
    (void)state;
    char in[400];
    names_address a;
    const char *err = NULL;

    /* 64 + 1 + 189 = 254 octets: the longest address */
    fill(in, 'l', 64);
    in[64] = '@';
    size_t n = 65;
    fill(in + n, 'a', 63), n += 63, in[n++] = '.';
    fill(in + n, 'b', 63), n += 63, in[n++] = '.';
    fill(in + n, 'c', 61), n += 61;
    in[n] = '\0';
    assert_int_equal(n, 254);
    assert_int_equal(names_address_parse(in, n, KEEP, &a, &err), 0);
    assert_int_equal(strlen(a.local) + 1 + strlen(a.domain), 254);

    in[n] = 'c', in[n + 1] = '\0';
    assert_int_equal(names_address_parse(in, n + 1, KEEP, &a, &err), -1);
    check_error("address", in, err, "longer than 254");

    /* a 65-octet local part */
    fill(in, 'l', 65);
    memcpy(in + 65, "@example.com", 13);
    assert_int_equal(names_address_parse(in, strlen(in), KEEP, &a, &err), -1);
    check_error("address", in, err, "longer than 64");

    /* far over the input cap */
    char big[4096];
    fill(big, 'a', sizeof(big));
    big[10] = '@';
    assert_int_equal(names_address_parse(big, sizeof(big), KEEP, &a, &err), -1);
    check_error("address", "big", err, "longer than 254");
}

typedef struct {
    const char *in;
    size_t len;
    bool ok;
} username_row;

static const username_row username_rows[] = {
    {"admin", 0, true},
    {"Admin.Root", 0, true},
    {"ops+mail@example.com", 0, true},
    {"a_b-c", 0, true},
    {"0", 0, true},
    {"", 0, false},
    {"a b", 0, false},
    {"a:b", 0, false},
    {"a/b", 0, false},
    {"ad\xc3\xa4min", 0, false},
    {"a\0b", 3, false},
    {"a\n", 0, false},
    {"a*", 0, false},
};

static void test_username(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(username_rows) / sizeof(username_rows[0]); i++) {
        const username_row *r = &username_rows[i];
        size_t len = r->len != 0 ? r->len : strlen(r->in);
        if (names_username_valid(r->in, len) != r->ok)
            fail_msg("username row %zu \"%s\": wanted %d", i, r->in, r->ok);
    }
    char s[65];
    fill(s, 'u', 65);
    assert_true(names_username_valid(s, 64));
    assert_false(names_username_valid(s, 65));
    assert_false(names_username_valid(NULL, 0));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_domain_rows),       cmocka_unit_test(test_domain_lengths),
        cmocka_unit_test(test_domain_to_unicode), cmocka_unit_test(test_local_rows),
        cmocka_unit_test(test_local_lengths),     cmocka_unit_test(test_catchall),
        cmocka_unit_test(test_address_rows),      cmocka_unit_test(test_address_lengths),
        cmocka_unit_test(test_username),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
