/* Table-driven tests of IMAP sequence sets (lib/imap/imap_seqset.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "imap_seqset.h"
#include "imap_write.h"

static void put(char *out, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void put(char *out, size_t size, const char *fmt, ...)
{
    size_t n = strlen(out);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(out + n, size - n, fmt, ap);
    va_end(ap);
}

/* "1:3,5" then " *" for "*" alone, " *(lo,hi)" with numbers; "$". */
static void describe(const imap_seqset *set, char *out, size_t size)
{
    out[0] = '\0';
    if (set->saved) {
        put(out, size, "$");
        return;
    }
    for (size_t i = 0; i < set->n; i++) {
        const imap_seq_range *r = &set->ranges[i];
        assert_true(r->first >= 1 && r->first <= r->last);
        if (i > 0) /* sorted, disjoint, not adjacent */
            assert_true((uint64_t)set->ranges[i - 1].last + 1 < r->first);
        if (r->first == r->last)
            put(out, size, "%s%u", i > 0 ? "," : "", r->first);
        else
            put(out, size, "%s%u:%u", i > 0 ? "," : "", r->first, r->last);
    }
    if (set->star) {
        put(out, size, "%s*", set->n > 0 ? " " : "");
        if (set->star_hi != 0) /* some "n:*" */
            put(out, size, "(%u,%u)", set->star_lo, set->star_hi);
    }
}

typedef struct {
    const char *in;
    unsigned flags;
    const char *want; /* describe(), or "ERR" / "ERR LIMIT" */
} parse_row;

#define SAVED IMAP_SEQSET_ALLOW_SAVED

static const parse_row parse_rows[] = {
    {"1", 0, "1"},
    {"1:3", 0, "1:3"},
    {"3:1", 0, "1:3"},
    {"1,2,3", 0, "1:3"},
    {"1,3", 0, "1,3"},
    {"5,1:2,4", 0, "1:2,4:5"},
    {"1:5,2:3", 0, "1:5"},
    {"2:4,1:10", 0, "1:10"},
    {"1:4,5:9", 0, "1:9"},
    {"1:4,6:9", 0, "1:4,6:9"},
    {"1,1,1", 0, "1"},
    {"10,9,8,7,6,5,4,3,2,1", 0, "1:10"},
    {"7,3,5,1", 0, "1,3,5,7"},
    {"4294967295", 0, "4294967295"},
    {"4294967294:4294967295,1", 0, "1,4294967294:4294967295"},
    {"1:4294967295", 0, "1:4294967295"},
    {"4294967295:1", 0, "1:4294967295"},
    {"1:4294967295,5", 0, "1:4294967295"},
    {"*", 0, "*"},
    {"*:*", 0, "*"},
    {"1:*", 0, "*(1,1)"},
    {"*:1", 0, "*(1,1)"},
    {"5:*,10:*", 0, "*(5,10)"},
    {"*,3", 0, "3 *"},
    {"2,4:7,9,12:*", 0, "2,4:7,9 *(12,12)"},
    {"*:4,5:7", 0, "5:7 *(4,4)"},
    {"4294967295:*", 0, "*(4294967295,4294967295)"},
    {"$", SAVED, "$"},
    /* refused */
    {"$", 0, "ERR"},
    {"$,1", SAVED, "ERR"},
    {"1,$", SAVED, "ERR"},
    {"1:$", SAVED, "ERR"},
    {"$:*", SAVED, "ERR"},
    {"", 0, "ERR"},
    {"0", 0, "ERR"},
    {"0:5", 0, "ERR"},
    {"1:0", 0, "ERR"},
    {"00", 0, "ERR"},
    {"01", 0, "ERR"},
    {"1:01", 0, "ERR"},
    {"4294967296", 0, "ERR"},
    {"1:4294967296", 0, "ERR"},
    {"99999999999999999999", 0, "ERR"},
    {",", 0, "ERR"},
    {"1,", 0, "ERR"},
    {",1", 0, "ERR"},
    {"1,,2", 0, "ERR"},
    {"1:", 0, "ERR"},
    {":1", 0, "ERR"},
    {":", 0, "ERR"},
    {"1:2:3", 0, "ERR"},
    {"a", 0, "ERR"},
    {"1 2", 0, "ERR"},
    {"-1", 0, "ERR"},
    {"+1", 0, "ERR"},
    {"1-2", 0, "ERR"},
    {"**", 0, "ERR"},
    {"1:**", 0, "ERR"},
    {"*1", 0, "ERR"},
    {"1.5", 0, "ERR"},
    {"１", 0, "ERR"},
};

static void test_parse_rows(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(parse_rows) / sizeof(parse_rows[0]); i++) {
        const parse_row *r = &parse_rows[i];
        imap_seqset set;
        imap_error err = {0};
        char got[256];
        if (imap_seqset_parse(r->in, strlen(r->in), r->flags, &set, &err) == 0) {
            describe(&set, got, sizeof(got));
        } else {
            snprintf(got, sizeof(got), "ERR%s%s", err.code != NULL ? " " : "",
                     err.code != NULL ? err.code : "");
            assert_int_equal(err.resp, IMAP_RESP_BAD);
            assert_non_null(err.text);
            assert_int_equal(set.n, 0);
            assert_null(set.ranges);
        }
        if (strcmp(got, r->want) != 0)
            fail_msg("row %zu \"%s\": got \"%s\", wanted \"%s\"", i, r->in, got, r->want);
        imap_seqset_free(&set);
    }
}

/* Over the limits: 1024 ranges left after merging, 8192 elements read. */
static void test_limits(void **state)
{
    (void)state;
    char *s = malloc(64 * 1024);
    imap_seqset set;
    imap_error err;
    assert_non_null(s);
    for (size_t count = IMAP_SEQSET_RANGES_MAX; count <= IMAP_SEQSET_RANGES_MAX + 1; count++) {
        s[0] = '\0';
        for (size_t i = 0; i < count; i++)
            put(s, 64 * 1024, "%s%zu", i > 0 ? "," : "", 2 * i + 1);
        int rc = imap_seqset_parse(s, strlen(s), 0, &set, &err);
        if (count <= IMAP_SEQSET_RANGES_MAX) {
            assert_int_equal(rc, 0);
            assert_int_equal(set.n, count);
        } else {
            assert_int_equal(rc, -1);
            assert_string_equal(err.code, "LIMIT");
        }
        imap_seqset_free(&set);
    }
    /* 8192 elements that merge into one range are fine, 8193 are not */
    for (size_t count = IMAP_SEQSET_ELEMS_MAX; count <= IMAP_SEQSET_ELEMS_MAX + 1; count++) {
        s[0] = '\0';
        for (size_t i = 0; i < count; i++)
            strcat(s, i > 0 ? ",7" : "7");
        int rc = imap_seqset_parse(s, strlen(s), 0, &set, &err);
        assert_int_equal(rc, count <= IMAP_SEQSET_ELEMS_MAX ? 0 : -1);
        if (rc == 0)
            assert_int_equal(set.n, 1);
        imap_seqset_free(&set);
    }
    free(s);
}

typedef struct {
    const char *in;
    uint32_t star;
    bool msn;
    const char *want; /* resolved, or "ERR" */
} resolve_row;

static const resolve_row resolve_rows[] = {
    /* RFC 9051 9's examples */
    {"2,4:7,9,12:*", 15, true, "2,4:7,9,12:15"},
    {"*:4,5:7", 10, true, "4:10"},
    {"1:*", 10, true, "1:10"},
    {"*", 10, true, "10"},
    {"*", 1, true, "1"},
    {"1:*", 0, true, "ERR"},
    {"*", 0, true, "ERR"},
    {"5", 4, true, "ERR"},
    {"3:5", 4, true, "ERR"},
    {"5:*", 4, true, "ERR"},
    {"4:*", 4, true, "4"},
    {"1,3", 3, true, "1,3"},
    {"1", 0, true, "ERR"},
    /* UIDs: no range check, "*" may be below the numbers */
    {"5:*", 3, false, "3:5"},
    {"1:*", 4294967295u, false, "1:4294967295"},
    {"*", 0, false, ""},
    {"7:*", 0, false, "1:7"},
    {"100", 5, false, "100"},
    {"1:2,*", 9, false, "1:2,9"},
    {"1:2,*", 3, false, "1:3"},
    {"4:*,1", 3, false, "1,3:4"},
};

static void test_resolve(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(resolve_rows) / sizeof(resolve_rows[0]); i++) {
        const resolve_row *r = &resolve_rows[i];
        imap_seqset set;
        imap_error err;
        char got[256];
        assert_int_equal(imap_seqset_parse(r->in, strlen(r->in), 0, &set, &err), 0);
        /* membership agrees before and after resolving */
        bool before[32];
        for (uint32_t n = 1; n < 32; n++)
            before[n] = imap_seqset_contains(&set, r->star, n);
        if (imap_seqset_resolve(&set, r->star, r->msn, &err) == 0) {
            describe(&set, got, sizeof(got));
            assert_false(set.star);
            for (uint32_t n = 1; n < 32; n++)
                assert_int_equal(before[n], imap_seqset_contains(&set, r->star, n));
        } else {
            snprintf(got, sizeof(got), "ERR");
            assert_int_equal(err.resp, IMAP_RESP_BAD);
        }
        if (strcmp(got, r->want) != 0)
            fail_msg("resolve row %zu \"%s\" *=%u: got \"%s\", wanted \"%s\"", i, r->in, r->star,
                     got, r->want);
        imap_seqset_free(&set);
    }
}

static void test_contains_iter(void **state)
{
    (void)state;
    imap_seqset set;
    imap_error err;
    imap_seqset_iter it;
    uint32_t n;

    assert_int_equal(imap_seqset_parse("1:3,7,*", 7, 0, &set, &err), 0);
    assert_true(imap_seqset_contains(&set, 10, 10));
    assert_true(imap_seqset_contains(&set, 10, 2));
    assert_true(imap_seqset_contains(&set, 10, 7));
    assert_false(imap_seqset_contains(&set, 10, 5));
    assert_false(imap_seqset_contains(&set, 10, 9));
    assert_false(imap_seqset_contains(&set, 10, 0));
    assert_int_equal(imap_seqset_resolve(&set, 10, true, &err), 0);
    assert_int_equal(imap_seqset_count(&set), 5);
    char got[64] = "";
    imap_seqset_iter_init(&it, &set);
    while (imap_seqset_iter_next(&it, &n))
        put(got, sizeof(got), "%u ", n);
    assert_string_equal(got, "1 2 3 7 10 ");
    imap_seqset_free(&set);

    /* the top of the UID space: no overflow */
    assert_int_equal(imap_seqset_parse("4294967294:*", 12, 0, &set, &err), 0);
    assert_int_equal(imap_seqset_resolve(&set, 4294967295u, false, &err), 0);
    got[0] = '\0';
    imap_seqset_iter_init(&it, &set);
    while (imap_seqset_iter_next(&it, &n))
        put(got, sizeof(got), "%u ", n);
    assert_string_equal(got, "4294967294 4294967295 ");
    imap_seqset_free(&set);

    assert_int_equal(imap_seqset_parse("1:4294967295", 12, 0, &set, &err), 0);
    assert_int_equal(imap_seqset_count(&set), 4294967295u);
    assert_true(imap_seqset_contains(&set, 0, 4294967295u));
    imap_seqset_free(&set);

    /* an empty set iterates nothing */
    imap_seqset empty = {0};
    imap_seqset_iter_init(&it, &empty);
    assert_false(imap_seqset_iter_next(&it, &n));
    assert_false(imap_seqset_contains(&empty, 5, 5));
}

/* imap_write_ranges gives back the set's text form. */
static void test_write_ranges(void **state)
{
    (void)state;
    const char *sets[] = {"1", "1:3,5", "2,4:7,9", "1:4294967295", "4294967295"};
    for (size_t i = 0; i < sizeof(sets) / sizeof(sets[0]); i++) {
        imap_seqset set;
        imap_error err;
        buf b;
        assert_int_equal(imap_seqset_parse(sets[i], strlen(sets[i]), 0, &set, &err), 0);
        buf_init(&b, 256);
        assert_int_equal(imap_write_ranges(&b, set.ranges, set.n), 0);
        assert_string_equal(b.data, sets[i]);
        buf_free(&b);
        imap_seqset_free(&set);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_rows),   cmocka_unit_test(test_limits),
        cmocka_unit_test(test_resolve),      cmocka_unit_test(test_contains_iter),
        cmocka_unit_test(test_write_ranges),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
