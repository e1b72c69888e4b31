/* Shared by the lib/vfs unit tests (test_vfs.c, test_vfs_wal.c): a temporary
 * directory with two keys, stores made and damaged on purpose, checks. Every
 * helper is static inline so that a test file may leave some unused. */
#ifndef OWNMAIL_VFS_FIXTURE_H
#define OWNMAIL_VFS_FIXTURE_H
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

static inline int setup(void **state)
{
    (void)state;
    snprintf(tmpdir, sizeof tmpdir, "/tmp/test_vfs.XXXXXX");
    if (mkdtemp(tmpdir) == NULL)
        return -1;
    if (keys_store_key_new(&key1) != KEYS_OK || keys_store_key_new(&key2) != KEYS_OK)
        return -1;
    return 0;
}

static inline int teardown(void **state)
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

static inline void path_of(char *out, size_t n, const char *name)
{
    snprintf(out, n, "%s/%s", tmpdir, name);
}

static inline sqlite3 *open_ok(const char *path, const char *id, const keys_secret *key)
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

static inline void exec_ok(sqlite3 *db, const char *sql)
{
    char *msg = NULL;
    int rc = sqlite3_exec(db, sql, NULL, NULL, &msg);
    if (rc != SQLITE_OK)
        fprintf(stderr, "%s: %s\n", sql, msg != NULL ? msg : "?");
    sqlite3_free(msg);
    assert_int_equal(rc, SQLITE_OK);
}

/* The single integer result of sql, or -1 on any error. */
static inline long long query_int(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *st = NULL;
    long long v = -1;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
        v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return v;
}

static inline int integrity_ok(sqlite3 *db)
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
static inline int insert_rows(sqlite3 *db, const char *tag, int n, int body_len)
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

static inline void make_store(const char *path, const char *id, const keys_secret *key, int rows)
{
    sqlite3 *db = open_ok(path, id, key);
    exec_ok(db, schema);
    assert_int_equal(insert_rows(db, "r", rows, 300), 0);
    vfs_close_store(&db);
}

static inline unsigned char *read_file(const char *path, size_t *len_r)
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

static inline void write_file(const char *path, const unsigned char *b, size_t n)
{
    FILE *fp = fopen(path, "wb");
    assert_non_null(fp);
    assert_int_equal(fwrite(b, 1, n, fp), n);
    fclose(fp);
}

static inline void flip_byte(const char *path, long off)
{
    int fd = open(path, O_RDWR);
    assert_true(fd >= 0);
    unsigned char c;
    assert_int_equal(pread(fd, &c, 1, off), 1);
    c ^= 0x01;
    assert_int_equal(pwrite(fd, &c, 1, off), 1);
    close(fd);
}

static inline int memmem_found(const unsigned char *h, size_t hn, const char *needle)
{
    size_t nn = strlen(needle);
    for (size_t i = 0; i + nn <= hn; i++)
        if (h[i] == (unsigned char)needle[0] && memcmp(h + i, needle, nn) == 0)
            return 1;
    return 0;
}

/* No file in the temp dir holds the marker or the SQLite magic. */
static inline void assert_no_plaintext(void)
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
static inline void assert_store_fails(const char *path, const char *id, const keys_secret *key)
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

static inline void remove_store(const char *path)
{
    char p[600]; /* paths are at most 512 bytes, plus a suffix */
    unlink(path);
    snprintf(p, sizeof p, "%s-wal", path);
    unlink(p);
    snprintf(p, sizeof p, "%s-shm", path);
    unlink(p);
    snprintf(p, sizeof p, "%s-journal", path);
    unlink(p);
}

static inline void make_wal_store(const char *path, int txns)
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

#endif
