/* Unit tests for lib/vfs: the WAL - damaged and replayed frames, torn
 * tails, padded commits, and checkpoints that copy sealed pages. */
#include "vfs_fixture.h"

static void test_flip_wal(void **state)
{
    (void)state;
    char path[512], wal[600], shm[600];
    path_of(path, sizeof path, "flipwal.db");
    snprintf(wal, sizeof wal, "%s-wal", path);
    snprintf(shm, sizeof shm, "%s-shm", path);
    make_wal_store(path, 5);
    size_t n = 0, dn = 0;
    unsigned char *orig = read_file(wal, &n), *dorig = read_file(path, &dn);
    assert_non_null(orig);
    const long frame = PGSZ + 24;
    assert_true((long)n > 32 + 4 * frame);
    /* a page body, a nonce, a frame header's page number, in early frames */
    const long offs[] = {32 + 24 + 100, 32 + frame + 24 + PGSZ - 30, 32 + 2 * frame + 2};
    for (size_t i = 0; i < sizeof offs / sizeof offs[0]; i++) {
        write_file(path, dorig, dn);
        write_file(wal, orig, n);
        unlink(shm);
        flip_byte(wal, offs[i]);
        assert_store_fails(path, STORE_A, key1);
    }
    write_file(path, dorig, dn);
    write_file(wal, orig, n);
    unlink(shm);
    sqlite3 *db = open_ok(path, STORE_A, key1); /* recovery of the intact WAL */
    assert_int_equal(query_int(db, "SELECT count(*) FROM t"), 100);
    assert_true(integrity_ok(db));
    vfs_close_store(&db);
    free(orig);
    free(dorig);
    remove_store(path);
}

static uint32_t be32_at(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* A checkpoint copies the sealed pages of the WAL into the database as they
 * are (no decryption, no new seal): after it, each page of the database is
 * byte for byte the last frame that held it, and it reads fine. */
static void test_checkpoint_copies_sealed(void **state)
{
    (void)state;
    char path[512], wal[600];
    path_of(path, sizeof path, "ckpt.db");
    snprintf(wal, sizeof wal, "%s-wal", path);
    make_wal_store(path, 5);
    size_t n = 0;
    unsigned char *w = read_file(wal, &n);
    assert_non_null(w);
    const long frame = PGSZ + 24, frames = ((long)n - 32) / frame;
    sqlite3 *db = open_ok(path, STORE_A, key1);
    exec_ok(db, "PRAGMA wal_checkpoint(TRUNCATE)");
    vfs_close_store(&db);
    size_t dn = 0;
    unsigned char *d = read_file(path, &dn);
    assert_non_null(d);
    int compared = 0;
    for (long i = 0; i < frames; i++) {
        const unsigned char *fh = w + 32 + i * frame;
        uint32_t pgno = be32_at(fh);
        int later = 0; /* a later frame of the same page wins */
        for (long j = i + 1; j < frames; j++)
            later |= be32_at(w + 32 + j * frame) == pgno;
        if (later)
            continue;
        assert_true((size_t)pgno * PGSZ <= dn);
        assert_memory_equal(d + (pgno - 1) * PGSZ, fh + 24, PGSZ);
        compared++;
    }
    assert_true(compared > 10);
    db = open_ok(path, STORE_A, key1);
    assert_int_equal(query_int(db, "SELECT count(*) FROM t"), 100);
    assert_true(integrity_ok(db));
    vfs_close_store(&db);
    assert_no_plaintext();
    free(w);
    free(d);
    remove_store(path);
}

/* A frame altered on disk after the WAL was recovered goes through the
 * checkpoint sealed, and fails when read from the database: an error,
 * never other data. */
static void test_checkpoint_of_altered_frame(void **state)
{
    (void)state;
    char path[512], wal[600];
    path_of(path, sizeof path, "ckptflip.db");
    snprintf(wal, sizeof wal, "%s-wal", path);
    make_wal_store(path, 5);
    sqlite3 *db = open_ok(path, STORE_A, key1);
    assert_int_equal(query_int(db, "SELECT count(*) FROM t"), 100); /* recovered */
    struct stat st;
    assert_int_equal(stat(wal, &st), 0);
    const long frame = PGSZ + 24, frames = ((long)st.st_size - 32) / frame;
    flip_byte(wal, 32 + (frames - 2) * frame + 24 + 200); /* a data page of the last commit */
    sqlite3_exec(db, "PRAGMA wal_checkpoint(TRUNCATE)", NULL, NULL, NULL);
    vfs_close_store(&db);
    assert_store_fails(path, STORE_A, key1);
    remove_store(path);
}

/* An older frame of a page put over a later frame of the same page (a
 * replay inside the WAL) fails: the nonce carries the frame's index. */
static void test_wal_frame_replayed(void **state)
{
    (void)state;
    char path[512], wal[600];
    path_of(path, sizeof path, "replay.db");
    snprintf(wal, sizeof wal, "%s-wal", path);
    make_wal_store(path, 5);
    size_t n = 0;
    unsigned char *w = read_file(wal, &n);
    assert_non_null(w);
    const long frame = PGSZ + 24, frames = ((long)n - 32) / frame;
    long a = -1, b = -1;
    for (long i = 0; i < frames && b < 0; i++)
        for (long j = i + 1; j < frames && b < 0; j++)
            if (be32_at(w + 32 + i * frame) == be32_at(w + 32 + j * frame)) {
                a = i;
                b = j;
            }
    assert_true(b > a && a >= 0);
    memcpy(w + 32 + b * frame + 24, w + 32 + a * frame + 24, PGSZ);
    write_file(wal, w, n);
    assert_store_fails(path, STORE_A, key1);
    free(w);
    remove_store(path);
}

/* A damaged last frame (a write torn by a crash) ends the log there: the
 * last transaction is lost, the store opens with the ones before. */
static void test_wal_torn_tail(void **state)
{
    (void)state;
    char path[512], wal[600], shm[600];
    path_of(path, sizeof path, "torn.db");
    snprintf(wal, sizeof wal, "%s-wal", path);
    snprintf(shm, sizeof shm, "%s-shm", path);
    make_wal_store(path, 5);
    struct stat st;
    assert_int_equal(stat(wal, &st), 0);
    const long frame = PGSZ + 24, frames = ((long)st.st_size - 32) / frame;
    assert_true(frames > 5);
    flip_byte(wal, 32 + (frames - 1) * frame + 24 + 10);
    unlink(shm);
    sqlite3 *db = open_ok(path, STORE_A, key1);
    assert_int_equal(query_int(db, "SELECT count(*) FROM t"), 80);
    assert_true(integrity_ok(db));
    vfs_close_store(&db);
    remove_store(path);
}

/* Without powersafe overwrite SQLite pads each commit to a sector boundary
 * and splits the frame write that crosses it. A second connection opened
 * by URI with psow=0 (sharing the first one's key slot) writes that way. */
static void test_wal_padded_commits(void **state)
{
    (void)state;
    char path[512], shm[600], uri[1024];
    path_of(path, sizeof path, "psow.db");
    snprintf(shm, sizeof shm, "%s-shm", path);
    sqlite3 *db = open_ok(path, STORE_A, key1), *db2 = NULL;
    exec_ok(db, schema);
    const char *slot = sqlite3_uri_parameter(sqlite3_db_filename(db, "main"), "ownmail_slot");
    assert_non_null(slot);
    snprintf(uri, sizeof uri, "file:%s?ownmail_slot=%s&psow=0", path, slot);
    assert_int_equal(sqlite3_open_v2(uri, &db2, SQLITE_OPEN_READWRITE | SQLITE_OPEN_URI, VFS_NAME),
                     SQLITE_OK);
    exec_ok(db2, "PRAGMA synchronous=FULL");
    assert_int_equal(sqlite3_db_config(db2, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_db_config(db, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, NULL), SQLITE_OK);
    exec_ok(db2, "PRAGMA wal_autocheckpoint=0");
    for (int i = 0; i < 20; i++)
        assert_int_equal(insert_rows(db2, "p", 3, 100 + i * 50), 0);
    assert_int_equal(query_int(db2, "SELECT count(*) FROM t"), 60);
    sqlite3_close(db2);
    assert_int_equal(query_int(db, "SELECT count(*) FROM t"), 60);
    vfs_close_store(&db);
    unlink(shm); /* reopen runs WAL recovery over the padded frames */
    db = open_ok(path, STORE_A, key1);
    assert_int_equal(query_int(db, "SELECT count(*) FROM t"), 60);
    assert_true(integrity_ok(db));
    vfs_close_store(&db);
    remove_store(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_flip_wal),
        cmocka_unit_test(test_checkpoint_copies_sealed),
        cmocka_unit_test(test_checkpoint_of_altered_frame),
        cmocka_unit_test(test_wal_frame_replayed),
        cmocka_unit_test(test_wal_torn_tail),
        cmocka_unit_test(test_wal_padded_commits),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
