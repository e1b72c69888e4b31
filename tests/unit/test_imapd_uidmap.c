/* Unit tests for workers/imap/uidmap.c: message sequence numbers <-> UIDs as
 * runs, checked against a plain array model after every operation. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "imapd.h"

#define MODEL_MAX 4096

typedef struct model {
    uint32_t uids[MODEL_MAX];
    uint32_t n;
} model;

/* Every number and UID of the map agrees with the model. */
static void check(const imapd_uidmap *m, const model *d)
{
    assert_int_equal(m->count, d->n);
    assert_int_equal(imapd_uidmap_last(m), d->n ? d->uids[d->n - 1] : 0);
    for (uint32_t i = 0; i < d->n; i++) {
        assert_int_equal(imapd_uidmap_uid(m, i + 1), d->uids[i]);
        assert_int_equal(imapd_uidmap_msn(m, d->uids[i]), i + 1);
    }
    assert_int_equal(imapd_uidmap_uid(m, 0), 0);
    assert_int_equal(imapd_uidmap_uid(m, d->n + 1), 0);
    /* UIDs not present map to 0 */
    uint32_t top = d->n ? d->uids[d->n - 1] + 2 : 3;
    for (uint32_t u = 1, j = 0; u <= top; u++) {
        while (j < d->n && d->uids[j] < u)
            j++;
        if (j == d->n || d->uids[j] != u)
            assert_int_equal(imapd_uidmap_msn(m, u), 0);
    }
}

static void model_remove(model *d, uint32_t uid, uint32_t expect_msn, uint32_t got)
{
    assert_int_equal(got, expect_msn);
    if (expect_msn != 0) {
        memmove(d->uids + expect_msn - 1, d->uids + expect_msn,
                (d->n - expect_msn) * sizeof d->uids[0]);
        d->n--;
    }
    (void)uid;
}

static uint32_t model_msn(const model *d, uint32_t uid)
{
    for (uint32_t i = 0; i < d->n; i++)
        if (d->uids[i] == uid)
            return i + 1;
    return 0;
}

static void test_append_runs(void **state)
{
    (void)state;
    imapd_uidmap m = {0};
    model d = {.n = 0};
    check(&m, &d);
    const uint32_t add[] = {1, 2, 3, 7, 8, 20, 21, 22, 23, 100};
    for (size_t i = 0; i < sizeof add / sizeof add[0]; i++) {
        assert_int_equal(imapd_uidmap_append(&m, add[i]), 0);
        d.uids[d.n++] = add[i];
        check(&m, &d);
    }
    assert_int_equal(m.n, 4); /* 1-3, 7-8, 20-23, 100 */
    assert_int_equal(imapd_uidmap_append(&m, 100), -1); /* not greater */
    assert_int_equal(imapd_uidmap_append(&m, 50), -1);
    assert_int_equal(imapd_uidmap_append(&m, 0), -1);
    imapd_uidmap_free(&m);
}

static void test_remove_cases(void **state)
{
    (void)state;
    imapd_uidmap m = {0};
    model d = {.n = 0};
    for (uint32_t u = 1; u <= 10; u++) {
        imapd_uidmap_append(&m, u);
        d.uids[d.n++] = u;
    }
    /* middle (split), first of a run, last of a run, a single, absent */
    const uint32_t rm[] = {5, 6, 4, 1, 10, 99, 5, 2, 3, 7, 8, 9};
    for (size_t i = 0; i < sizeof rm / sizeof rm[0]; i++) {
        uint32_t want = model_msn(&d, rm[i]);
        model_remove(&d, rm[i], want, imapd_uidmap_remove(&m, rm[i]));
        check(&m, &d);
    }
    assert_int_equal(m.count, 0);
    assert_int_equal(m.n, 0);
    assert_int_equal(imapd_uidmap_append(&m, 11), 0); /* after everything went */
    d.uids[d.n++] = 11;
    check(&m, &d);
    imapd_uidmap_free(&m);
}

/* Random appends and removals against the model. */
static void test_random(void **state)
{
    (void)state;
    imapd_uidmap m = {0};
    model d = {.n = 0};
    uint32_t next = 1;
    srand(12345);
    for (int round = 0; round < 3000; round++) {
        if (d.n < MODEL_MAX && rand() % 3 != 0) {
            next += (uint32_t)(rand() % 3 == 0 ? rand() % 5 : 0);
            assert_int_equal(imapd_uidmap_append(&m, next), 0);
            d.uids[d.n++] = next++;
        } else if (d.n > 0) {
            uint32_t uid = d.uids[(uint32_t)rand() % d.n];
            model_remove(&d, uid, model_msn(&d, uid), imapd_uidmap_remove(&m, uid));
        }
        if (round % 97 == 0)
            check(&m, &d);
    }
    check(&m, &d);
    imapd_uidmap_free(&m);
}

static void test_high_uids(void **state)
{
    (void)state;
    imapd_uidmap m = {0};
    assert_int_equal(imapd_uidmap_append(&m, UINT32_MAX - 1), 0);
    assert_int_equal(imapd_uidmap_append(&m, UINT32_MAX), 0);
    assert_int_equal(imapd_uidmap_msn(&m, UINT32_MAX), 2);
    assert_int_equal(imapd_uidmap_uid(&m, 2), UINT32_MAX);
    assert_int_equal(imapd_uidmap_remove(&m, UINT32_MAX - 1), 1);
    assert_int_equal(imapd_uidmap_msn(&m, UINT32_MAX), 1);
    imapd_uidmap_free(&m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_append_runs),
        cmocka_unit_test(test_remove_cases),
        cmocka_unit_test(test_random),
        cmocka_unit_test(test_high_uids),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
