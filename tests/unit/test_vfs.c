/* Unit tests for lib/vfs: the encrypted SQLite file layer. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "keys.h"
#include "vfs.h"

#define MARKER "OWNMAIL-PLAINTEXT-MARKER"
#define PGSZ 4096
#define STORE_A "00112233445566778899aabbccddeeff"
#define STORE_B "ffeeddccbbaa99887766554433221100"

static char tmpdir[256];
static keys_secret *key1, *key2;

static int setup(void **state)
{
    (void)state;
    snprintf(tmpdir, sizeof tmpdir, "/tmp/test_vfs.XXXXXX");
    if (mkdtemp(tmpdir) == NULL)
        return -1;
    if (keys_store_key_new(&key1) != KEYS_OK || keys_store_key_new(&key2) != KEYS_OK)
        return -1;
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    DIR *d = opendir(tmpdir);
    struct dirent *e;
    char p[512];
    while (d != NULL && (e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        snprintf(p, sizeof p, "%s/%s", tmpdir, e->d_name);
        unlink(p);
    }
    if (d != NULL)
        closedir(d);
    rmdir(tmpdir);
    keys_secret_free(&key1);
    keys_secret_free(&key2);
    return 0;
}

static void path_of(char *out, size_t n, const char *name)
{
    snprintf(out, n, "%s/%s", tmpdir, name);
}

static sqlite3 *open_ok(const char *path, const char *id, const keys_secret *key)
{
    sqlite3 *db = NULL;
    char err[VFS_ERR_LEN];
    vfs_result r = vfs_open_store(path, id, key, &db, err, sizeof err);
    if (r != VFS_OK)
        fprintf(stderr, "vfs_open_store: %s (%s)\n", vfs_strerror(r), err);
    assert_int_equal(r, VFS_OK);
    assert_non_null(db);
    return db;
}

static void exec_ok(sqlite3 *db, const char *sql)
{
    char *msg = NULL;
    int rc = sqlite3_exec(db, sql, NULL, NULL, &msg);
    if (rc != SQLITE_OK)
        fprintf(stderr, "%s: %s\n", sql, msg != NULL ? msg : "?");
    sqlite3_free(msg);
    assert_int_equal(rc, SQLITE_OK);
}

/* The single integer result of sql, or -1 on any error. */
static long long query_int(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *st = NULL;
    long long v = -1;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
        v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return v;
}

static int integrity_ok(sqlite3 *db)
{
    sqlite3_stmt *st = NULL;
    int ok = 0;
    if (sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &st, NULL) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW)
        ok = strcmp((const char *)sqlite3_column_text(st, 0), "ok") == 0;
    if (!ok)
        fprintf(stderr, "integrity_check: %s\n",
                st != NULL && sqlite3_column_text(st, 0) != NULL
                    ? (const char *)sqlite3_column_text(st, 0)
                    : sqlite3_errmsg(db));
    sqlite3_finalize(st);
    return ok;
}

static const char *schema =
    "CREATE TABLE IF NOT EXISTS t(id INTEGER PRIMARY KEY, tag TEXT, body TEXT)";

/* n rows of tag with a body holding the marker, in one transaction. */
static int insert_rows(sqlite3 *db, const char *tag, int n, int body_len)
{
    sqlite3_stmt *st = NULL;
    char *body = malloc((size_t)body_len + 1);
    if (body == NULL)
        return -1;
    for (int i = 0; i < body_len; i++)
        body[i] = (char)('a' + i % 26);
    memcpy(body, MARKER, strlen(MARKER) < (size_t)body_len ? strlen(MARKER) : (size_t)body_len);
    body[body_len] = '\0';
    int rc = sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_prepare_v2(db, "INSERT INTO t(tag, body) VALUES (?, ?)", -1, &st, NULL);
    for (int i = 0; rc == SQLITE_OK && i < n; i++) {
        sqlite3_bind_text(st, 1, tag, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, body, -1, SQLITE_STATIC);
        rc = sqlite3_step(st) == SQLITE_DONE ? SQLITE_OK : SQLITE_ERROR;
        sqlite3_reset(st);
    }
    sqlite3_finalize(st);
    if (rc == SQLITE_OK)
        rc = sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
    else
        sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
    free(body);
    return rc == SQLITE_OK ? 0 : -1;
}

static void make_store(const char *path, const char *id, const keys_secret *key, int rows)
{
    sqlite3 *db = open_ok(path, id, key);
    exec_ok(db, schema);
    assert_int_equal(insert_rows(db, "r", rows, 300), 0);
    vfs_close_store(&db);
}

static unsigned char *read_file(const char *path, size_t *len_r)
{
    FILE *fp = fopen(path, "rb");
    if (fp == NULL)
        return NULL;
    fseek(fp, 0, SEEK_END);
    long n = ftell(fp);
    fseek(fp, 0, SEEK_SET);
    unsigned char *b = malloc((size_t)n + 1);
    if (b != NULL && fread(b, 1, (size_t)n, fp) != (size_t)n) {
        free(b);
        b = NULL;
    }
    fclose(fp);
    *len_r = (size_t)n;
    return b;
}

static void write_file(const char *path, const unsigned char *b, size_t n)
{
    FILE *fp = fopen(path, "wb");
    assert_non_null(fp);
    assert_int_equal(fwrite(b, 1, n, fp), n);
    fclose(fp);
}

static void flip_byte(const char *path, long off)
{
    int fd = open(path, O_RDWR);
    assert_true(fd >= 0);
    unsigned char c;
    assert_int_equal(pread(fd, &c, 1, off), 1);
    c ^= 0x01;
    assert_int_equal(pwrite(fd, &c, 1, off), 1);
    close(fd);
}

static int memmem_found(const unsigned char *h, size_t hn, const char *needle)
{
    size_t nn = strlen(needle);
    for (size_t i = 0; i + nn <= hn; i++)
        if (h[i] == (unsigned char)needle[0] && memcmp(h + i, needle, nn) == 0)
            return 1;
    return 0;
}

/* No file in the temp dir holds the marker or the SQLite magic. */
static void assert_no_plaintext(void)
{
    DIR *d = opendir(tmpdir);
    struct dirent *e;
    int files = 0;
    assert_non_null(d);
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        char p[512];
        size_t n = 0;
        path_of(p, sizeof p, e->d_name);
        unsigned char *b = read_file(p, &n);
        assert_non_null(b);
        if (memmem_found(b, n, MARKER) || memmem_found(b, n, "SQLite format 3"))
            fail_msg("plaintext found in %s", p);
        free(b);
        files++;
    }
    closedir(d);
    assert_true(files > 0);
}

/* Every access to a tampered store fails; it never returns rows. */
static void assert_store_fails(const char *path, const char *id, const keys_secret *key)
{
    sqlite3 *db = NULL;
    char err[VFS_ERR_LEN];
    vfs_result r = vfs_open_store(path, id, key, &db, err, sizeof err);
    if (r != VFS_OK) {
        assert_null(db);
        return;
    }
    long long n = query_int(db, "SELECT count(*) FROM t WHERE body LIKE '" MARKER "%'");
    long long len = query_int(db, "SELECT sum(length(body)) FROM t");
    int ok = integrity_ok(db);
    vfs_close_store(&db);
    if (n >= 0 && len >= 0 && ok)
        fail_msg("tampered store read without error (%lld rows)", n);
}

static void remove_store(const char *path)
{
    char p[512];
    unlink(path);
    snprintf(p, sizeof p, "%s-wal", path);
    unlink(p);
    snprintf(p, sizeof p, "%s-shm", path);
    unlink(p);
    snprintf(p, sizeof p, "%s-journal", path);
    unlink(p);
}

/* ---- Tests ------------------------------------------------------------ */

static void test_round_trip(void **state)
{
    (void)state;
    char path[512];
    path_of(path, sizeof path, "rt.db");
    sqlite3 *db = open_ok(path, STORE_A, key1);
    exec_ok(db, schema);
    for (int i = 0; i < 10; i++)
        assert_int_equal(insert_rows(db, "r", 100, 200 + i * 97), 0);
    vfs_close_store(&db);

    db = open_ok(path, STORE_A, key1);
    assert_int_equal(query_int(db, "SELECT count(*) FROM t"), 1000);
    assert_int_equal(query_int(db, "SELECT count(*) FROM t WHERE body LIKE '" MARKER "%'"), 1000);
    assert_int_equal(query_int(db, "SELECT length(body) FROM t WHERE id = 1000"), 200 + 9 * 97);
    assert_int_equal(query_int(db, "PRAGMA page_size"), PGSZ);
    assert_true(integrity_ok(db));
    vfs_close_store(&db);
    assert_no_plaintext();
    remove_store(path);
}

/* File names with URI-special characters, relative or with "//". */
static void test_odd_paths(void **state)
{
    (void)state;
    char path[512], cwd[512];
    path_of(path, sizeof path, "we ird?#%&=.db");
    make_store(path, STORE_A, key1, 5);
    sqlite3 *db = open_ok(path, STORE_A, key1);
    assert_int_equal(query_int(db, "SELECT count(*) FROM t"), 5);
    vfs_close_store(&db);
    assert_int_equal(access(path, F_OK), 0);
    remove_store(path);
    snprintf(path, sizeof path, "/%s/dbl.db", tmpdir); /* "//tmp/..." */
    make_store(path, STORE_A, key1, 3);
    remove_store(path);
    assert_non_null(getcwd(cwd, sizeof cwd));
    assert_int_equal(chdir(tmpdir), 0);
    make_store("rel.db", STORE_A, key1, 2);
    db = open_ok("rel.db", STORE_A, key1);
    assert_int_equal(query_int(db, "SELECT count(*) FROM t"), 2);
    vfs_close_store(&db);
    remove_store("rel.db");
    assert_int_equal(chdir(cwd), 0);
}

static void test_wrong_key(void **state)
{
    (void)state;
    char path[512], err[VFS_ERR_LEN];
    path_of(path, sizeof path, "wk.db");
    make_store(path, STORE_A, key1, 10);
    sqlite3 *db = (sqlite3 *)1;
    assert_int_equal(vfs_open_store(path, STORE_A, key2, &db, err, sizeof err), VFS_ERR_WRONG_KEY);
    assert_null(db);
    assert_non_null(strstr(err, "wrong credential"));
    assert_int_equal(vfs_open_store(path, STORE_B, key1, &db, err, sizeof err), VFS_ERR_WRONG_KEY);
    assert_int_equal(vfs_open_store(path, "xyz", key1, &db, err, sizeof err), VFS_ERR_INVALID);
    db = open_ok(path, STORE_A, key1); /* still opens with the right key */
    assert_int_equal(query_int(db, "SELECT count(*) FROM t"), 10);
    vfs_close_store(&db);
    remove_store(path);
}

static void test_no_plaintext_live(void **state)
{
    (void)state;
    char path[512], p[600];
    path_of(path, sizeof path, "live.db");
    sqlite3 *db = open_ok(path, STORE_A, key1);
    exec_ok(db, "PRAGMA wal_autocheckpoint=0");
    exec_ok(db, schema);
    assert_int_equal(insert_rows(db, "r", 500, 1000), 0);
    snprintf(p, sizeof p, "%s-wal", path);
    assert_int_equal(access(p, F_OK), 0);
    snprintf(p, sizeof p, "%s-shm", path);
    assert_int_equal(access(p, F_OK), 0);
    assert_no_plaintext(); /* with -wal and -shm present */
    exec_ok(db, "PRAGMA wal_checkpoint(TRUNCATE)");
    assert_no_plaintext();
    vfs_close_store(&db);
    assert_no_plaintext();
    remove_store(path);
}

static void test_flip_main(void **state)
{
    (void)state;
    char path[512];
    path_of(path, sizeof path, "flip.db");
    make_store(path, STORE_A, key1, 200);
    size_t n = 0;
    unsigned char *orig = read_file(path, &n);
    assert_non_null(orig);
    assert_true(n >= 4 * PGSZ);
    /* page 1 encrypted, page 1 plain header field, page 1 key check value,
     * a page body, a nonce, a tag, the last byte of the file */
    const long offs[] = {5, 17, 75, 2 * PGSZ + 100, 3 * PGSZ - 30, 2 * PGSZ - 1, (long)n - 1};
    for (size_t i = 0; i < sizeof offs / sizeof offs[0]; i++) {
        write_file(path, orig, n);
        flip_byte(path, offs[i]);
        assert_store_fails(path, STORE_A, key1);
    }
    write_file(path, orig, n); /* and untouched it opens */
    sqlite3 *db = open_ok(path, STORE_A, key1);
    assert_int_equal(query_int(db, "SELECT count(*) FROM t"), 200);
    vfs_close_store(&db);
    free(orig);
    remove_store(path);
}

/* A store whose last transactions are still in the WAL (no checkpoint). */
static void make_wal_store(const char *path, int txns)
{
    sqlite3 *db = open_ok(path, STORE_A, key1);
    assert_int_equal(sqlite3_db_config(db, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, NULL), SQLITE_OK);
    exec_ok(db, "PRAGMA wal_autocheckpoint=0");
    exec_ok(db, schema);
    exec_ok(db, "PRAGMA wal_checkpoint(TRUNCATE)");
    for (int i = 0; i < txns; i++)
        assert_int_equal(insert_rows(db, "w", 20, 500), 0);
    vfs_close_store(&db);
}

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

static void copy_page(const char *from, const char *to, long from_pg, long to_pg)
{
    unsigned char page[PGSZ];
    int a = open(from, O_RDONLY), b = open(to, O_RDWR);
    assert_true(a >= 0 && b >= 0);
    assert_int_equal(pread(a, page, PGSZ, (from_pg - 1) * PGSZ), PGSZ);
    assert_int_equal(pwrite(b, page, PGSZ, (to_pg - 1) * PGSZ), PGSZ);
    close(a);
    close(b);
}

static void test_page_moved_between_stores(void **state)
{
    (void)state;
    char a[512], b[512];
    path_of(a, sizeof a, "move_a.db");
    path_of(b, sizeof b, "move_b.db");
    make_store(a, STORE_A, key1, 50);
    make_store(b, STORE_B, key1, 50); /* same key, another store id */
    copy_page(a, b, 2, 2);
    assert_store_fails(b, STORE_B, key1);
    sqlite3 *db = open_ok(a, STORE_A, key1);
    assert_int_equal(query_int(db, "SELECT count(*) FROM t"), 50);
    vfs_close_store(&db);
    remove_store(a);
    remove_store(b);
}

static void test_page_swapped_within_file(void **state)
{
    (void)state;
    char a[512], b[512];
    path_of(a, sizeof a, "swap.db");
    path_of(b, sizeof b, "swap_copy.db");
    make_store(a, STORE_A, key1, 100);
    size_t n = 0;
    unsigned char *orig = read_file(a, &n);
    write_file(b, orig, n);
    copy_page(b, a, 2, 3); /* a: page 3 := old page 2, page 2 := old page 3 */
    copy_page(b, a, 3, 2);
    assert_store_fails(a, STORE_A, key1);
    free(orig);
    remove_store(a);
    remove_store(b);
}

/* Child: commits 100 "committed" rows, tells the parent, then writes
 * "uncommitted" rows in one big transaction until it is killed. */
static void child_writer(const char *path, int fd, int rollback_journal)
{
    sqlite3 *db = NULL;
    char err[VFS_ERR_LEN];
    if (vfs_open_store(path, STORE_A, key1, &db, err, sizeof err) != VFS_OK)
        _exit(2);
    if (rollback_journal)
        sqlite3_exec(db, "PRAGMA journal_mode=DELETE", NULL, NULL, NULL);
    sqlite3_exec(db, "PRAGMA cache_size=8", NULL, NULL, NULL); /* spill mid-transaction */
    if (sqlite3_exec(db, schema, NULL, NULL, NULL) != SQLITE_OK || insert_rows(db, "c", 100, 700))
        _exit(3);
    sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
    sqlite3_exec(db, "UPDATE t SET body = body || 'ZZ'", NULL, NULL, NULL);
    for (int i = 0;; i++) {
        if (sqlite3_exec(db, "INSERT INTO t(tag, body) VALUES ('u', printf('%.*c', 3000, 'u'))",
                         NULL, NULL, NULL) != SQLITE_OK)
            _exit(4);
        if (i == 300 && write(fd, "k", 1) != 1)
            _exit(5);
    }
}

static void killed_writer(const char *name, int rollback_journal)
{
    char path[512];
    path_of(path, sizeof path, name);
    int p[2];
    assert_int_equal(pipe(p), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(p[0]);
        child_writer(path, p[1], rollback_journal);
    }
    close(p[1]);
    char c;
    assert_int_equal(read(p[0], &c, 1), 1);
    kill(pid, SIGKILL);
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
    close(p[0]);
    sqlite3 *db = open_ok(path, STORE_A, key1);
    assert_true(integrity_ok(db));
    assert_int_equal(query_int(db, "SELECT count(*) FROM t WHERE tag = 'c'"), 100);
    assert_int_equal(query_int(db, "SELECT count(*) FROM t WHERE tag = 'u'"), 0);
    assert_int_equal(query_int(db, "SELECT count(*) FROM t WHERE body LIKE '%ZZ'"), 0);
    vfs_close_store(&db);
    assert_no_plaintext();
    remove_store(path);
}

static void test_killed_writer_wal(void **state)
{
    (void)state;
    killed_writer("kill.db", 0);
}

static void test_killed_writer_journal(void **state)
{
    (void)state;
    killed_writer("killj.db", 1);
}

static void test_two_writers(void **state)
{
    (void)state;
    char path[512];
    path_of(path, sizeof path, "two.db");
    make_store(path, STORE_A, key1, 0);
    pid_t pids[2];
    for (int k = 0; k < 2; k++) {
        pids[k] = fork();
        assert_true(pids[k] >= 0);
        if (pids[k] == 0) {
            sqlite3 *db = NULL;
            if (vfs_open_store(path, STORE_A, key1, &db, NULL, 0) != VFS_OK)
                _exit(2);
            for (int i = 0; i < 50; i++)
                if (insert_rows(db, k == 0 ? "p0" : "p1", 10, 400 + i) != 0)
                    _exit(3);
            vfs_close_store(&db);
            _exit(0);
        }
    }
    for (int k = 0; k < 2; k++) {
        int status = -1;
        assert_int_equal(waitpid(pids[k], &status, 0), pids[k]);
        assert_true(WIFEXITED(status));
        assert_int_equal(WEXITSTATUS(status), 0);
    }
    sqlite3 *db = open_ok(path, STORE_A, key1);
    assert_int_equal(query_int(db, "SELECT count(*) FROM t"), 1000);
    assert_int_equal(query_int(db, "SELECT count(*) FROM t WHERE tag = 'p1'"), 500);
    assert_true(integrity_ok(db));
    vfs_close_store(&db);
    remove_store(path);
}

static void test_vacuum(void **state)
{
    (void)state;
    char path[512], out[512], err[VFS_ERR_LEN];
    path_of(path, sizeof path, "vac.db");
    path_of(out, sizeof out, "vac_into.db");
    sqlite3 *db = open_ok(path, STORE_A, key1);
    exec_ok(db, schema);
    assert_int_equal(insert_rows(db, "r", 400, 800), 0);
    exec_ok(db, "DELETE FROM t WHERE id % 2 = 0");
    exec_ok(db, "VACUUM");
    assert_int_equal(query_int(db, "SELECT count(*) FROM t"), 200);
    assert_int_equal(vfs_vacuum_into(db, out, err, sizeof err), VFS_OK);
    assert_int_equal(vfs_vacuum_into(db, out, err, sizeof err), VFS_ERR_IO); /* exists */
    vfs_close_store(&db);
    db = open_ok(path, STORE_A, key1);
    assert_int_equal(query_int(db, "SELECT count(*) FROM t"), 200);
    assert_true(integrity_ok(db));
    vfs_close_store(&db);
    db = open_ok(out, STORE_A, key1);
    assert_int_equal(query_int(db, "SELECT count(*) FROM t"), 200);
    assert_int_equal(query_int(db, "SELECT count(*) FROM t WHERE body LIKE '" MARKER "%'"), 200);
    assert_true(integrity_ok(db));
    vfs_close_store(&db);
    assert_int_equal(vfs_open_store(out, STORE_A, key2, &db, err, sizeof err), VFS_ERR_WRONG_KEY);
    assert_no_plaintext();
    remove_store(path);
    remove_store(out);
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

static void test_rollback_journal(void **state)
{
    (void)state;
    char path[512];
    path_of(path, sizeof path, "jrnl.db");
    sqlite3 *db = open_ok(path, STORE_A, key1);
    exec_ok(db, "PRAGMA journal_mode=DELETE");
    exec_ok(db, schema);
    assert_int_equal(insert_rows(db, "r", 200, 600), 0);
    exec_ok(db, "PRAGMA cache_size=4");
    exec_ok(db, "BEGIN");
    exec_ok(db, "UPDATE t SET body = 'changed'");
    assert_no_plaintext(); /* the journal holds the old page images */
    exec_ok(db, "ROLLBACK");
    assert_int_equal(query_int(db, "SELECT count(*) FROM t WHERE body LIKE '" MARKER "%'"), 200);
    assert_true(integrity_ok(db));
    vfs_close_store(&db);
    remove_store(path);
}

static void test_sorter_spill(void **state)
{
    (void)state;
    char path[512];
    path_of(path, sizeof path, "sort.db");
    sqlite3 *db = open_ok(path, STORE_A, key1);
    exec_ok(db, schema);
    assert_int_equal(insert_rows(db, "r", 2000, 1000), 0);
    exec_ok(db, "PRAGMA cache_size=10");
    /* A big sort spills to temporary files through the VFS. */
    assert_int_equal(
        query_int(db, "SELECT count(*) FROM (SELECT body || id AS b FROM t ORDER BY b)"), 2000);
    exec_ok(db, "CREATE INDEX t_body ON t(body)");
    assert_true(integrity_ok(db));
    /* Temporary files on disk (sealed with a throw-away key) when asked for. */
    exec_ok(db, "PRAGMA temp_store=FILE");
    exec_ok(db, "CREATE TEMP TABLE tt AS SELECT id, body || id AS b FROM t");
    assert_int_equal(query_int(db, "SELECT count(DISTINCT b) FROM (SELECT b FROM tt ORDER BY b)"),
                     2000);
    assert_int_equal(query_int(db, "SELECT sum(length(b)) FROM tt"),
                     query_int(db, "SELECT sum(length(body || id)) FROM t"));
    exec_ok(db, "CREATE INDEX temp.tt_b ON tt(b)");
    assert_int_equal(query_int(db, "SELECT count(*) FROM tt WHERE b > 'a'"), 0);
    assert_int_equal(query_int(db, "SELECT count(*) FROM tt WHERE b LIKE '" MARKER "%'"), 2000);
    vfs_close_store(&db);
    remove_store(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_odd_paths),
        cmocka_unit_test(test_wrong_key),
        cmocka_unit_test(test_no_plaintext_live),
        cmocka_unit_test(test_flip_main),
        cmocka_unit_test(test_flip_wal),
        cmocka_unit_test(test_wal_torn_tail),
        cmocka_unit_test(test_checkpoint_copies_sealed),
        cmocka_unit_test(test_checkpoint_of_altered_frame),
        cmocka_unit_test(test_wal_frame_replayed),
        cmocka_unit_test(test_page_moved_between_stores),
        cmocka_unit_test(test_page_swapped_within_file),
        cmocka_unit_test(test_killed_writer_wal),
        cmocka_unit_test(test_killed_writer_journal),
        cmocka_unit_test(test_two_writers),
        cmocka_unit_test(test_vacuum),
        cmocka_unit_test(test_wal_padded_commits),
        cmocka_unit_test(test_rollback_journal),
        cmocka_unit_test(test_sorter_spill),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
