/* Unit tests for workers/smtp/quota.c: usage as the server sees it, with the
 * spool total cached between scans. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "smtpd.h"

#define STORE "0123456789abcdef0123456789abcdef"

static char root[64], stores[128], spool[128];

static void put_file(const char *path, size_t size)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    for (size_t i = 0; i < size; i++)
        fputc('x', f);
    fclose(f);
}

static void test_usage_cached(void **state)
{
    (void)state;
    snprintf(root, sizeof root, "/tmp/test_quota.XXXXXX");
    assert_non_null(mkdtemp(root));
    snprintf(stores, sizeof stores, "%s/stores", root);
    snprintf(spool, sizeof spool, "%s/spool", root);
    char dir[256], path[512];
    snprintf(dir, sizeof dir, "%s/%s", spool, STORE);
    assert_int_equal(mkdir(stores, 0700), 0);
    assert_int_equal(mkdir(spool, 0700), 0);
    assert_int_equal(mkdir(dir, 0700), 0);
    snprintf(path, sizeof path, "%s/%s.db", stores, STORE);
    put_file(path, 1000);
    snprintf(path, sizeof path, "%s/a.msg", dir);
    put_file(path, 300);
    smtpd_quota *q = smtpd_quota_new();
    assert_non_null(q);
    assert_int_equal(smtpd_quota_usage(q, stores, spool, STORE, 100), 1300);
    /* A file spooled by someone else is seen at the next scan... */
    snprintf(path, sizeof path, "%s/b.msg", dir);
    put_file(path, 50);
    assert_int_equal(smtpd_quota_usage(q, stores, spool, STORE, 101), 1300);
    /* ...ours at once; the store file is always looked at. */
    smtpd_quota_spooled(q, STORE, 7);
    assert_int_equal(smtpd_quota_usage(q, stores, spool, STORE, 102), 1307);
    assert_int_equal(smtpd_quota_usage(q, stores, spool, STORE, 100 + SMTPD_QUOTA_RESCAN_S), 1350);
    /* A drain (files removed) is seen at the next scan; a clock going back
     * rescans too. */
    unlink(path);
    snprintf(path, sizeof path, "%s/a.msg", dir);
    unlink(path);
    assert_int_equal(smtpd_quota_usage(q, stores, spool, STORE, 99), 1000);
    /* A store without a spool directory. */
    assert_int_equal(smtpd_quota_usage(q, stores, spool, "ffff", 99), 0);
    smtpd_quota_free(&q);
    assert_null(q);
    rmdir(dir);
    snprintf(path, sizeof path, "%s/%s.db", stores, STORE);
    unlink(path);
    rmdir(stores);
    rmdir(spool);
    rmdir(root);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_usage_cached)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
