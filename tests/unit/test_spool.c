#define _GNU_SOURCE /* memmem */
/* Unit tests for lib/spool: sealed, durable, never plaintext on disk. */
#include "spool.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <dirent.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define STORE "0123456789abcdef0123456789abcdef"
#define OTHER "fedcba9876543210fedcba9876543210"
#define MARKER "SECRET-MARKER-4c1b"

typedef struct {
    const unsigned char *data;
    size_t len, pos, step; /* step: the most bytes one read returns */
    int fail_at;           /* fail once pos reaches this (-1: never) */
} source;

static ssize_t source_read(void *ctx, void *out, size_t len)
{
    source *s = ctx;
    if (s->fail_at >= 0 && s->pos >= (size_t)s->fail_at)
        return -1;
    size_t n = s->len - s->pos;
    if (n > len)
        n = len;
    if (n > s->step)
        n = s->step;
    memcpy(out, s->data + s->pos, n);
    s->pos += n;
    return (ssize_t)n;
}

static char tmpdir[64];
static unsigned char pk[32];
static keys_secret *sk;

static int setup(void **state)
{
    (void)state;
    strcpy(tmpdir, "/tmp/test_spool.XXXXXX");
    if (mkdtemp(tmpdir) == NULL || sodium_init() < 0)
        return -1;
    unsigned char skb[32];
    crypto_box_keypair(pk, skb);
    int rc = keys_secret_from_bytes(skb, sizeof(skb), &sk) == KEYS_OK ? 0 : -1;
    sodium_memzero(skb, sizeof(skb));
    return rc;
}

static int teardown(void **state)
{
    (void)state;
    keys_secret_free(&sk);
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
    return system(cmd) == 0 ? 0 : -1;
}

static unsigned char *message(size_t len)
{
    unsigned char *m = malloc(len + 1);
    for (size_t i = 0; i < len; i++)
        m[i] = (unsigned char)('a' + i % 26);
    if (len >= 2 * sizeof(MARKER))
        memcpy(m + len / 2, MARKER, sizeof(MARKER) - 1);
    return m;
}

static spool_result put(const char *store, const unsigned char *m, size_t len, size_t step,
                        size_t max, char id[SPOOL_ID_LEN + 1])
{
    source s = {m, len, 0, step, -1};
    char err[256];
    return spool_put(tmpdir, store, pk, source_read, &s, max, id, err, sizeof(err));
}

static spool_result open_msg(const char *store, const char *id, buf *out)
{
    buf_init_secret(out, SPOOL_MAX_DEFAULT);
    return spool_open(tmpdir, store, id, pk, sk, out);
}

static void test_round_trip_sizes(void **state)
{
    (void)state;
    static const size_t sizes[] = {0, 1, SPOOL_CHUNK - 1, SPOOL_CHUNK, SPOOL_CHUNK + 1,
                                   3 * SPOOL_CHUNK, 200000};
    for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
        unsigned char *m = message(sizes[i]);
        char id[SPOOL_ID_LEN + 1];
        assert_int_equal(put(STORE, m, sizes[i], 1000 + i * 7919, 0, id), SPOOL_OK);
        buf out;
        assert_int_equal(open_msg(STORE, id, &out), SPOOL_OK);
        assert_int_equal(out.len, sizes[i]);
        if (sizes[i] > 0)
            assert_memory_equal(out.data, m, sizes[i]);
        buf_free(&out);
        assert_int_equal(spool_remove(tmpdir, STORE, id), SPOOL_OK);
        free(m);
    }
}

static void test_wrong_key_and_tampering(void **state)
{
    (void)state;
    unsigned char *m = message(100000);
    char id[SPOOL_ID_LEN + 1], path[256];
    assert_int_equal(put(STORE, m, 100000, 4096, 0, id), SPOOL_OK);
    snprintf(path, sizeof(path), "%s/%s/%s.msg", tmpdir, STORE, id);

    /* another user's secret key */
    unsigned char pk2[32], sk2b[32];
    keys_secret *sk2 = NULL;
    crypto_box_keypair(pk2, sk2b);
    assert_int_equal(keys_secret_from_bytes(sk2b, 32, &sk2), KEYS_OK);
    buf out;
    buf_init_secret(&out, SPOOL_MAX_DEFAULT);
    assert_int_equal(spool_open(tmpdir, STORE, id, pk2, sk2, &out), SPOOL_ERR_CORRUPT);
    buf_free(&out);
    keys_secret_free(&sk2);

    /* a flipped byte anywhere: header, sealed key, first chunk, last byte */
    struct stat sb;
    assert_int_equal(stat(path, &sb), 0);
    const off_t at[] = {0, 9, 100, 200, sb.st_size / 2, sb.st_size - 1};
    for (size_t i = 0; i < sizeof(at) / sizeof(at[0]); i++) {
        int fd = open(path, O_RDWR);
        unsigned char c;
        assert_int_equal(pread(fd, &c, 1, at[i]), 1);
        c ^= 0x01;
        assert_int_equal(pwrite(fd, &c, 1, at[i]), 1);
        assert_int_equal(open_msg(STORE, id, &out), SPOOL_ERR_CORRUPT);
        buf_free(&out);
        c ^= 0x01;
        assert_int_equal(pwrite(fd, &c, 1, at[i]), 1);
        close(fd);
    }
    assert_int_equal(open_msg(STORE, id, &out), SPOOL_OK);
    buf_free(&out);

    /* truncated: the final chunk is missing */
    assert_int_equal(truncate(path, sb.st_size - 20), 0);
    assert_int_equal(open_msg(STORE, id, &out), SPOOL_ERR_CORRUPT);
    buf_free(&out);
    free(m);
}

static void test_moved_file_does_not_open(void **state)
{
    (void)state;
    unsigned char *m = message(5000);
    char id[SPOOL_ID_LEN + 1], id2[SPOOL_ID_LEN + 1], from[512], to[512];
    assert_int_equal(put(STORE, m, 5000, 5000, 0, id), SPOOL_OK);
    assert_int_equal(put(STORE, m, 10, 10, 0, id2), SPOOL_OK);
    /* renamed over another message of the same spool */
    snprintf(from, sizeof(from), "%s/%s/%s.msg", tmpdir, STORE, id);
    snprintf(to, sizeof(to), "%s/%s/%s.msg", tmpdir, STORE, id2);
    assert_int_equal(link(from, to) == 0 || (unlink(to) == 0 && link(from, to) == 0), 1);
    buf out;
    assert_int_equal(open_msg(STORE, id2, &out), SPOOL_ERR_CORRUPT);
    buf_free(&out);
    /* moved to another store's spool (same key pair, other store id) */
    char odir[256];
    snprintf(odir, sizeof(odir), "%s/%s", tmpdir, OTHER);
    mkdir(odir, 0700);
    snprintf(to, sizeof(to), "%s/%s/%s.msg", tmpdir, OTHER, id);
    assert_int_equal(link(from, to), 0);
    assert_int_equal(open_msg(OTHER, id, &out), SPOOL_ERR_CORRUPT);
    buf_free(&out);
    free(m);
}

static int count_files(const char *dir, const char *prefix)
{
    DIR *d = opendir(dir);
    int n = 0;
    struct dirent *e;
    while (d != NULL && (e = readdir(d)) != NULL)
        n += strncmp(e->d_name, prefix, strlen(prefix)) == 0;
    if (d != NULL)
        closedir(d);
    return n;
}

static void test_too_big_and_failing_source_leave_nothing(void **state)
{
    (void)state;
    char sdir[256], id[SPOOL_ID_LEN + 1];
    snprintf(sdir, sizeof(sdir), "%s/%s", tmpdir, STORE);
    unsigned char *m = message(300000);
    assert_int_equal(put(STORE, m, 300000, 65536, 200000, id), SPOOL_ERR_TOO_BIG);
    source s = {m, 300000, 0, 1000, 150000};
    assert_int_equal(spool_put(tmpdir, STORE, pk, source_read, &s, 0, id, NULL, 0),
                     SPOOL_ERR_READ);
    assert_int_equal(count_files(sdir, "tmp-"), 0);
    free(m);
}

static void test_list_order_and_invalid_ids(void **state)
{
    (void)state;
    const char *store = "aaaa";
    char ids[3][SPOOL_ID_LEN + 1];
    unsigned char *m = message(10);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(put(store, m, 10, 10, 0, ids[i]), SPOOL_OK);
        usleep(2000);
    }
    char(*list)[SPOOL_ID_LEN + 1] = NULL;
    size_t n = 0;
    assert_int_equal(spool_list(tmpdir, store, &list, &n), SPOOL_OK);
    assert_int_equal(n, 3);
    for (int i = 0; i < 3; i++)
        assert_string_equal(list[i], ids[i]);
    free(list);
    assert_int_equal(spool_list(tmpdir, "bbbb", &list, &n), SPOOL_OK); /* no spool yet */
    assert_int_equal(n, 0);
    buf out;
    buf_init_secret(&out, 100);
    assert_int_equal(spool_open(tmpdir, store, "../../etc/passwd", pk, sk, &out),
                     SPOOL_ERR_INVALID);
    assert_int_equal(spool_open(tmpdir, "../x", ids[0], pk, sk, &out), SPOOL_ERR_INVALID);
    buf_free(&out);
    char id[SPOOL_ID_LEN + 1];
    assert_int_equal(spool_put(tmpdir, "UPPER", pk, source_read, NULL, 0, id, NULL, 0),
                     SPOOL_ERR_INVALID);
    free(m);
}

/* Every file under the spool is searched for the marker every message holds. */
static void test_no_plaintext_on_disk(void **state)
{
    (void)state;
    unsigned char *m = message(150000);
    assert_non_null(memmem(m, 150000, MARKER, strlen(MARKER))); /* the check can fail */
    char id[SPOOL_ID_LEN + 1], cmd[256], control[256];
    assert_int_equal(put(STORE, m, 150000, 777, 0, id), SPOOL_OK);
    snprintf(cmd, sizeof(cmd), "grep -rqa '%s' %s", MARKER, tmpdir);
    assert_int_not_equal(system(cmd), 0); /* grep found nothing */
    /* ...and grep does find it when it is there */
    snprintf(control, sizeof(control), "%s/control", tmpdir);
    FILE *f = fopen(control, "w");
    fputs(MARKER, f);
    fclose(f);
    assert_int_equal(system(cmd), 0);
    unlink(control);
    free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip_sizes),
        cmocka_unit_test(test_wrong_key_and_tampering),
        cmocka_unit_test(test_moved_file_does_not_open),
        cmocka_unit_test(test_too_big_and_failing_source_leave_nothing),
        cmocka_unit_test(test_list_order_and_invalid_ids),
        cmocka_unit_test(test_no_plaintext_on_disk),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
