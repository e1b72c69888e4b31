/* Table-driven tests of mailbox names (lib/imap/imap_mailbox.h): modified
 * UTF-7 both ways, UTF-8 mode, the INBOX rule and LIST patterns. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "imap_mailbox.h"

typedef struct {
    const char *utf7;
    const char *utf8; /* NULL: utf7 is refused */
} utf7_row;

static const utf7_row utf7_rows[] = {
    /* RFC 3501 5.1.3's example */
    {"~peter/mail/&U,BTFw-/&ZeVnLIqe-",
     "~peter/mail/\xe5\x8f\xb0\xe5\x8c\x97/\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e"},
    {"", ""},
    {"INBOX", "INBOX"},
    {"a b", "a b"},
    {"~!\"#$%'()*+,-./:;<=>?@[\\]^_`{|}", "~!\"#$%'()*+,-./:;<=>?@[\\]^_`{|}"},
    {"&-", "&"},
    {"a&-b", "a&b"},
    {"&-&-", "&&"},
    {"Entw&APw-rfe", "Entw\xc3\xbcrfe"},
    {"&AOk-", "\xc3\xa9"},
    {"&AOkA6Q-", "\xc3\xa9\xc3\xa9"},
    {"&AOk-&-", "\xc3\xa9&"},
    {"&-&AOk-", "&\xc3\xa9"},
    {"&AOk-a&AOk-", "\xc3\xa9\x61\xc3\xa9"},
    {"&2D3eAA-", "\xf0\x9f\x98\x80"},
    {"&AAE-", "\x01"},
    {"&AH8-", "\x7f"},
    {"Hi Mom -&Jjo--!", "Hi Mom -\xe2\x98\xba-!"},
    {"&Ti1lhw-", "\xe4\xb8\xad\xe6\x96\x87"},
    {"a&AAE-b&2D3eAA-c", "a\x01\x62\xf0\x9f\x98\x80\x63"},
    {"&,,8-", "\xef\xbf\xbf"}, /* U+FFFF */
    /* refused */
    {"&", NULL},
    {"a&", NULL},
    {"&AOk", NULL},
    {"&AGE-", NULL},      /* "a" must be written as itself */
    {"&ACY-", NULL},      /* "&" must be "&-" */
    {"&ACA-", NULL},      /* " " */
    {"&AH4-", NULL},      /* "~" */
    {"&AGEAYgBj-", NULL}, /* "abc" */
    {"&AOkAYQ-", NULL},   /* "ea" with the "a" encoded */
    {"&AAA-", NULL},      /* U+0000 */
    {"&A-", NULL},        /* 6 bits: no character */
    {"&AO-", NULL},       /* 12 bits */
    {"&AOkA-", NULL},     /* 8 bits left over */
    {"&AOl-", NULL},      /* leftover bits not zero */
    {"&AOkAAA-", NULL},   /* whole extra BASE64 characters */
    {"&AOk-&AOk-", NULL}, /* two runs back to back */
    {"&2D0-", NULL},      /* lone high surrogate */
    {"&3gA-", NULL},      /* lone low surrogate */
    {"&3gDYPQ-", NULL},   /* reversed pair */
    {"&2D3YPQ-", NULL},   /* two high surrogates */
    {"&AOk/-", NULL},     /* "/" is "," in modified BASE64 */
    {"&AOk=-", NULL},     /* no padding */
    {"&AO k-", NULL},
    {"a\x80", NULL},
    {"caf\xc3\xa9", NULL},
    {"a\tb", NULL},
    {"a\x7f", NULL},
    {"a\rb", NULL},
};

static void test_utf7_rows(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(utf7_rows) / sizeof(utf7_rows[0]); i++) {
        const utf7_row *r = &utf7_rows[i];
        char out[256];
        size_t out_len = 12345;
        imap_error err = {0};
        int rc = imap_utf7_decode(r->utf7, strlen(r->utf7), out, sizeof(out), &out_len, &err);
        if (r->utf8 == NULL) {
            if (rc != -1)
                fail_msg("row %zu \"%s\" decoded to \"%s\"", i, r->utf7, out);
            assert_int_equal(err.resp, IMAP_RESP_BAD);
            assert_string_equal(out, "");
            continue;
        }
        if (rc != 0)
            fail_msg("row %zu \"%s\": %s", i, r->utf7, err.text);
        assert_int_equal(out_len, strlen(r->utf8));
        assert_string_equal(out, r->utf8);
        /* and back */
        char back[256];
        size_t back_len;
        assert_int_equal(imap_utf7_encode(out, out_len, back, sizeof(back), &back_len, &err), 0);
        assert_string_equal(back, r->utf7);
        assert_int_equal(back_len, strlen(r->utf7));
    }
}

static void test_utf7_encode(void **state)
{
    (void)state;
    static const struct {
        const char *in;
        size_t len;
        const char *want; /* NULL: refused */
    } rows[] = {
        {"a&b", 0, "a&-b"},
        {"&&", 0, "&-&-"},
        {"\xc3\xa9\x26", 0, "&AOk-&-"},
        {"\x01\x02", 0, "&AAEAAg-"},
        {"Sent/\xc3\xa9t\xc3\xa9", 0, "Sent/&AOk-t&AOk-"},
        {"\xc3", 0, NULL},
        {"\xed\xa0\x80", 0, NULL},     /* a surrogate in UTF-8 */
        {"\xc0\xaf", 0, NULL},         /* overlong "/" */
        {"\xf4\x90\x80\x80", 0, NULL}, /* over U+10FFFF */
        {"\xe0\x80\xaf", 0, NULL},
        {"\xf0\x80\x80\xaf", 0, NULL},
        {"a\0b", 3, NULL},
        {"\xff", 0, NULL},
    };
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        char out[64];
        size_t out_len;
        imap_error err;
        size_t len = rows[i].len != 0 ? rows[i].len : strlen(rows[i].in);
        int rc = imap_utf7_encode(rows[i].in, len, out, sizeof(out), &out_len, &err);
        if (rows[i].want == NULL) {
            assert_int_equal(rc, -1);
            assert_string_equal(out, "");
        } else {
            if (rc != 0)
                fail_msg("encode row %zu: %s", i, err.text);
            assert_string_equal(out, rows[i].want);
        }
    }
    /* the output size: a NUL always fits, one octet short is refused */
    char out[16];
    size_t out_len;
    imap_error err;
    assert_int_equal(imap_utf7_encode("\xc3\xa9", 2, out, 6, &out_len, &err), 0);
    assert_string_equal(out, "&AOk-");
    assert_int_equal(imap_utf7_encode("\xc3\xa9", 2, out, 5, &out_len, &err), -1);
    assert_string_equal(out, "");
    assert_int_equal(imap_utf7_decode("&AOk-", 5, out, 3, &out_len, &err), 0);
    assert_int_equal(imap_utf7_decode("&AOk-", 5, out, 2, &out_len, &err), -1);
    /* 5 * len + 1 is enough for anything */
    char worst[8] = "\x01\x61\x01\x62";
    char big[5 * 4 + 1];
    assert_int_equal(imap_utf7_encode(worst, 4, big, sizeof(big), &out_len, &err), 0);
    assert_string_equal(big, "&AAE-a&AAE-b");
    assert_int_equal(imap_utf7_encode("\x01", 1, big, 6, &out_len, &err), 0);
    assert_string_equal(big, "&AAE-");
}

static void test_mailbox_names(void **state)
{
    (void)state;
    static const struct {
        const char *in;
        bool utf8;
        const char *want; /* NULL: refused */
    } rows[] = {
        {"inbox", false, "INBOX"},
        {"InBoX/Sub", false, "INBOX/Sub"},
        {"INBOXes", false, "INBOXes"},
        {"Inbox2/x", false, "Inbox2/x"},
        {"inbox/&AOk-", false, "INBOX/\xc3\xa9"},
        {"Entw&APw-rfe", false, "Entw\xc3\xbcrfe"},
        {"Entw&APw-rfe", true, "Entw&APw-rfe"},
        {"caf\xc3\xa9", true, "caf\xc3\xa9"},
        {"inbox/caf\xc3\xa9", true, "INBOX/caf\xc3\xa9"},
        {"a&b", true, "a&b"},
        {"a&b", false, NULL},
        {"caf\xc3\xa9", false, NULL},
        {"caf\xc3", true, NULL},
        {"\xed\xa0\x80", true, NULL},
    };
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        char out[IMAP_MAILBOX_MAX + 1];
        size_t out_len;
        imap_error err;
        int rc =
            imap_mailbox_decode(rows[i].in, strlen(rows[i].in), rows[i].utf8, out, &out_len, &err);
        if (rows[i].want == NULL) {
            assert_int_equal(rc, -1);
            continue;
        }
        if (rc != 0)
            fail_msg("mailbox row %zu: %s", i, err.text);
        assert_string_equal(out, rows[i].want);
        assert_int_equal(out_len, strlen(rows[i].want));
    }
    /* IMAP_MAILBOX_MAX octets, then one more */
    static char name[IMAP_MAILBOX_MAX + 2], out[IMAP_MAILBOX_MAX + 1];
    size_t out_len;
    imap_error err;
    memset(name, 'n', sizeof(name));
    for (int utf8 = 0; utf8 <= 1; utf8++) {
        assert_int_equal(imap_mailbox_decode(name, IMAP_MAILBOX_MAX, utf8, out, &out_len, &err), 0);
        assert_int_equal(out_len, IMAP_MAILBOX_MAX);
        assert_int_equal(imap_mailbox_decode(name, IMAP_MAILBOX_MAX + 1, utf8, out, &out_len, &err),
                         -1);
    }
    /* and out */
    char enc[64];
    assert_int_equal(
        imap_mailbox_encode("INBOX/Entw\xc3\xbcrfe", 15, false, enc, sizeof(enc), &out_len, &err),
        0);
    assert_string_equal(enc, "INBOX/Entw&APw-rfe");
    assert_int_equal(
        imap_mailbox_encode("INBOX/Entw\xc3\xbcrfe", 15, true, enc, sizeof(enc), &out_len, &err),
        0);
    assert_string_equal(enc, "INBOX/Entw\xc3\xbcrfe");
    assert_int_equal(imap_mailbox_encode("a", 1, true, enc, 1, &out_len, &err), -1);
    assert_int_equal(imap_mailbox_encode("\xff", 1, true, enc, sizeof(enc), &out_len, &err), -1);

    char inbox[] = "iNbOx/iNbOx";
    imap_mailbox_inbox(inbox, strlen(inbox));
    assert_string_equal(inbox, "INBOX/iNbOx");
}

typedef struct {
    const char *pattern;
    const char *name;
    unsigned want; /* IMAP_LIST_MATCH | IMAP_LIST_CHILDREN */
} list_row;

#define M IMAP_LIST_MATCH
#define C IMAP_LIST_CHILDREN

static const list_row list_rows[] = {
    {"*", "INBOX", M | C},
    {"*", "a/b/c", M | C},
    {"*", "", M | C},
    {"%", "INBOX", M},
    {"%", "a/b", 0},
    {"%/%", "a/b", M},
    {"%/%", "a", C},
    {"%/%", "a/b/c", 0},
    {"a/*", "a/b/c", M | C},
    {"a/*", "a", C},
    {"a/*", "ab", 0},
    {"a/%", "a/b", M},
    {"a*", "a", M | C},
    {"a*", "abc/d", M | C},
    {"a%", "abc", M},
    {"a%", "abc/d", 0},
    {"a%", "b", 0},
    {"*x*", "axb", M | C},
    {"*x", "axb", C},
    {"*/x", "a/b", C},
    {"a", "a", M},
    {"a", "a/b", 0},
    {"a", "A", 0},
    {"a", "ab", 0},
    {"ab", "a", 0},
    {"a/b", "a", C},
    {"a/b/", "a/b", C},
    {"", "", M},
    {"", "a", 0},
    {"Archive/%", "Archive/2023", M},
    {"Archive/%", "Archive/2023/Q1", 0},
    {"Archive/%", "Archive", C},
    {"Archive/*", "Archived", 0},
    /* INBOX: case-insensitive in the name's INBOX only */
    {"inbox", "INBOX", M},
    {"InBox/*", "INBOX/Sub", M | C},
    {"inbox/sub", "INBOX/Sub", 0},
    {"inbox/Sub", "INBOX/Sub", M},
    {"in*", "INBOX", M | C},
    {"i%x", "INBOX", M},
    {"inbox", "INBOXES", 0},
    {"inboxes", "INBOXES", 0},
    {"INBOXES", "INBOXES", M},
    {"inbox*", "INBOXES", 0},
    /* UTF-8 names */
    {"caf*", "caf\xc3\xa9", M | C},
    {"caf%", "caf\xc3\xa9/x", 0},
    {"*\xc3\xa9", "caf\xc3\xa9", M | C},
    /* no exponential blow-up */
    {"%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%b", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", 0},
    {"*a*a*a*a*a*a*a*a*a*a*a*a*b", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", C},
};

static void test_list_rows(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(list_rows) / sizeof(list_rows[0]); i++) {
        const list_row *r = &list_rows[i];
        unsigned got = imap_list_match(r->pattern, strlen(r->pattern), r->name, strlen(r->name));
        if (got != r->want)
            fail_msg("list row %zu \"%s\" ~ \"%s\": got %u, wanted %u", i, r->pattern, r->name, got,
                     r->want);
    }
    /* a pattern over the limit matches nothing; at the limit it works */
    static char pat[IMAP_LIST_PATTERN_MAX + 2], name[IMAP_MAILBOX_MAX + 1];
    memset(pat, '%', sizeof(pat));
    memset(name, 'n', IMAP_MAILBOX_MAX);
    assert_int_equal(imap_list_match(pat, IMAP_LIST_PATTERN_MAX, name, IMAP_MAILBOX_MAX), M);
    assert_int_equal(imap_list_match(pat, IMAP_LIST_PATTERN_MAX + 1, name, IMAP_MAILBOX_MAX), 0);
    pat[0] = '*';
    assert_int_equal(imap_list_match(pat, 1, name, IMAP_MAILBOX_MAX), M | C);
}

/* UTF-8 validation (RFC 3629) used for UTF8=ACCEPT. */
static void test_utf8_valid(void **state)
{
    (void)state;
    static const struct {
        const char *s;
        size_t len;
        bool ok;
    } rows[] = {
        {"", 0, true},
        {"abc", 3, true},
        {"\xc2\x80", 2, true},
        {"\xdf\xbf", 2, true},
        {"\xe0\xa0\x80", 3, true},
        {"\xef\xbf\xbf", 3, true},
        {"\xf0\x90\x80\x80", 4, true},
        {"\xf4\x8f\xbf\xbf", 4, true},
        {"\x80", 1, false},
        {"\xc0\x80", 2, false},
        {"\xc1\xbf", 2, false},
        {"\xe0\x9f\xbf", 3, false},
        {"\xed\xa0\x80", 3, false},
        {"\xed\xbf\xbf", 3, false},
        {"\xf0\x8f\xbf\xbf", 4, false},
        {"\xf4\x90\x80\x80", 4, false},
        {"\xf5\x80\x80\x80", 4, false},
        {"\xc3", 1, false},
        {"\xe2\x82", 2, false},
        {"\xc3\x28", 2, false},
        {"a\0b", 3, false},
        {"\xfe", 1, false},
    };
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        if (imap_utf8_valid(rows[i].s, rows[i].len) != rows[i].ok)
            fail_msg("utf8 row %zu", i);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_utf7_rows),     cmocka_unit_test(test_utf7_encode),
        cmocka_unit_test(test_mailbox_names), cmocka_unit_test(test_list_rows),
        cmocka_unit_test(test_utf8_valid),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
