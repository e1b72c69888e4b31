/* Unit tests for the pure helpers of workers/imap/search.c (search.h): SORT
 * criteria, sequence sets written a chunk at a time, UIDs as ranges. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "search.h"

static imap_arg atom(const char *s)
{
    return (imap_arg){IMAP_ARG_ATOM, 0, s, strlen(s), NULL, 0};
}

/* A list of the atoms words[0..n). */
static imap_arg list_of(imap_arg *items, const char *const *words, size_t n)
{
    for (size_t i = 0; i < n; i++)
        items[i] = atom(words[i]);
    return (imap_arg){IMAP_ARG_LIST, 0, NULL, 0, items, n};
}

static int criteria(const char *const *words, size_t n, store_sort_key *keys, size_t *nkeys,
                    imap_error *e)
{
    imap_arg items[64];
    assert_true(n <= 64);
    imap_arg l = list_of(items, words, n);
    return imapd_sort_criteria(&l, keys, nkeys, e);
}

static void test_criteria_valid(void **state)
{
    (void)state;
    static const char *const w[] = {"REVERSE", "date",        "SUBJECT", "reverse",
                                    "ARRIVAL", "CC",          "FROM",    "SIZE",
                                    "TO",      "DISPLAYFROM", "REVERSE", "DISPLAYTO"};
    store_sort_key keys[STORE_SORT_KEYS_MAX];
    size_t n = 99;
    imap_error e;
    assert_int_equal(criteria(w, 12, keys, &n, &e), 0);
    assert_int_equal(n, 9);
    static const store_sort_key want[] = {
        {STORE_SORT_DATE, true}, {STORE_SORT_SUBJECT, false},     {STORE_SORT_ARRIVAL, true},
        {STORE_SORT_CC, false},  {STORE_SORT_FROM, false},        {STORE_SORT_SIZE, false},
        {STORE_SORT_TO, false},  {STORE_SORT_DISPLAYFROM, false}, {STORE_SORT_DISPLAYTO, true},
    };
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(keys[i].kind, want[i].kind);
        assert_int_equal(keys[i].reverse, want[i].reverse);
    }
}

static void test_criteria_bad(void **state)
{
    (void)state;
    store_sort_key keys[STORE_SORT_KEYS_MAX];
    size_t n;
    imap_error e;
    static const char *const unknown[] = {"DATE", "MODSEQ"};
    static const char *const trailing[] = {"DATE", "REVERSE"};
    static const char *const twice[] = {"REVERSE", "REVERSE", "DATE"};
    assert_int_equal(criteria(unknown, 2, keys, &n, &e), -1);
    assert_int_equal(e.resp, IMAP_RESP_BAD);
    assert_null(e.code);
    assert_int_equal(n, 0);
    assert_int_equal(criteria(trailing, 2, keys, &n, &e), -1);
    assert_int_equal(criteria(twice, 3, keys, &n, &e), -1);
    assert_int_equal(criteria(NULL, 0, keys, &n, &e), -1); /* () */
    /* not a list */
    imap_arg a = atom("DATE");
    assert_int_equal(imapd_sort_criteria(&a, keys, &n, &e), -1);
    /* a quoted "DATE" is not the atom */
    imap_arg q = {IMAP_ARG_QUOTED, 0, "DATE", 4, NULL, 0};
    imap_arg l = {IMAP_ARG_LIST, 0, NULL, 0, &q, 1};
    assert_int_equal(imapd_sort_criteria(&l, keys, &n, &e), -1);
    /* STORE_SORT_KEYS_MAX keys, then one more */
    const char *many[STORE_SORT_KEYS_MAX + 1];
    for (size_t i = 0; i <= STORE_SORT_KEYS_MAX; i++)
        many[i] = "SIZE";
    assert_int_equal(criteria(many, STORE_SORT_KEYS_MAX, keys, &n, &e), 0);
    assert_int_equal(n, STORE_SORT_KEYS_MAX);
    assert_int_equal(criteria(many, STORE_SORT_KEYS_MAX + 1, keys, &n, &e), -1);
    assert_string_equal(e.code, "LIMIT");
}

static void test_write_set(void **state)
{
    (void)state;
    static const uint32_t nums[] = {1, 2, 3, 5, 7, 8, 10, 4294967294u, 4294967295u};
    buf b;
    size_t i = 0;
    buf_init(&b, 1 << 20);
    imapd_search_write_set(&b, nums, 9, &i, 1 << 20);
    assert_int_equal(i, 9);
    assert_string_equal(b.data, "1:3,5,7:8,10,4294967294:4294967295");
    buf_reset(&b);
    i = 0;
    imapd_search_write_set(&b, nums, 0, &i, 100);
    assert_int_equal(i, 0);
    assert_int_equal(b.len, 0);
    /* a run at a time: the pieces make the same set */
    buf out;
    buf_init(&out, 1 << 20);
    i = 0;
    int calls = 0;
    while (i < 9) {
        buf_reset(&b);
        imapd_search_write_set(&b, nums, 9, &i, 1);
        buf_append(&out, b.data, b.len);
        calls++;
    }
    assert_int_equal(calls, 5);
    assert_string_equal(out.data, "1:3,5,7:8,10,4294967294:4294967295");
    /* nothing written when the buffer is already full */
    buf_reset(&b);
    buf_append_str(&b, "xx");
    i = 0;
    imapd_search_write_set(&b, nums, 9, &i, 2);
    assert_int_equal(i, 0);
    buf_free(&out);
    buf_free(&b);
}

static void test_ranges(void **state)
{
    (void)state;
    static const uint32_t uids[] = {2, 3, 4, 9, 11, 12, 4294967295u};
    store_range *r;
    size_t n;
    assert_int_equal(imapd_search_ranges(uids, 7, &r, &n), 0);
    assert_int_equal(n, 4);
    assert_int_equal(r[0].first, 2);
    assert_int_equal(r[0].last, 4);
    assert_int_equal(r[1].first, 9);
    assert_int_equal(r[1].last, 9);
    assert_int_equal(r[2].first, 11);
    assert_int_equal(r[2].last, 12);
    assert_int_equal(r[3].first, 4294967295u);
    assert_int_equal(r[3].last, 4294967295u);
    free(r);
    assert_int_equal(imapd_search_ranges(uids, 0, &r, &n), 0);
    assert_null(r);
    assert_int_equal(n, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_criteria_valid),
        cmocka_unit_test(test_criteria_bad),
        cmocka_unit_test(test_write_set),
        cmocka_unit_test(test_ranges),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
