/* Unit tests for lib/vfs: the encrypted SQLite file layer (the WAL and
 * checkpoint cases are in test_vfs_wal.c). */
#include "vfs_fixture.h"

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
        cmocka_unit_test(test_page_moved_between_stores),
        cmocka_unit_test(test_page_swapped_within_file),
        cmocka_unit_test(test_killed_writer_wal),
        cmocka_unit_test(test_killed_writer_journal),
        cmocka_unit_test(test_two_writers),
        cmocka_unit_test(test_vacuum),
        cmocka_unit_test(test_rollback_journal),
        cmocka_unit_test(test_sorter_spill),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
