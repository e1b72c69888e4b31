/* Unit tests for lib/store: killed writers and concurrent appenders. */
#include "store_fixture.h"

/* ---- Processes ---------------------------------------------------------------- */

#define CRASH_COMMITTED 5


static void crash_child(int fd, int one_tx)
{
    sqlite3 *db = open_raw();
    char err[256];
    if (db == NULL || store_attach(db, err, sizeof(err)) != STORE_OK)
        _exit(2);
    static char raw[65536];
    memset(raw, 'b', sizeof(raw));
    for (int i = 0;; i++) {
        int n = snprintf(raw, 64, "Subject: %08d\r\n\r\n", i);
        raw[n] = 'b';
        if (i == CRASH_COMMITTED) {
            if (one_tx && store_begin(db) != STORE_OK)
                _exit(3);
            if (write(fd, "x", 1) != 1)
                _exit(4);
        }
        if (store_append(db, "INBOX", raw, sizeof(raw), 0, 0, NULL, NULL, NULL, NULL) != STORE_OK)
            _exit(5);
    }
}

static void crash_run(int one_tx)
{
    sqlite3 *db = open_store();
    sqlite3_close(db);
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(fds[0]);
        crash_child(fds[1], one_tx);
    }
    close(fds[1]);
    char c;
    assert_int_equal(read(fds[0], &c, 1), 1);
    close(fds[0]);
    usleep(150 * 1000); /* in the middle of appending */
    kill(pid, SIGKILL);
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFSIGNALED(status));

    db = open_store();
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_string_equal((const char *)sqlite3_column_text(st, 0), "ok");
    sqlite3_finalize(st);
    int64_t n = sql_int(db, "SELECT count(*) FROM messages");
    if (getenv("TEST_STORE_VERBOSE"))
        print_message("crash(one_tx=%d): %lld messages committed\n", one_tx, (long long)n);
    if (one_tx)
        assert_int_equal(n, CRASH_COMMITTED);
    else
        assert_true(n >= CRASH_COMMITTED);
    /* Nothing half-appended: UIDs without gaps, every body whole, quota exact. */
    assert_int_equal(mbox(db, "INBOX").uidnext, n + 1);
    assert_int_equal(sql_int(db, "SELECT count(*) FROM bodies"), n);
    assert_int_equal(sql_int(db, "SELECT count(*) FROM body_raw"), n);
    assert_int_equal(sql_int(db, "SELECT count(*) FROM body_raw WHERE length(raw) != 65536"), 0);
    uint64_t used, limit;
    assert_int_equal(store_quota_get(db, &used, &limit), STORE_OK);
    assert_int_equal(used, (uint64_t)n * 65536);
    /* The store keeps working. */
    assert_int_equal(put(db, "INBOX", "after", 0, NULL), n + 1);
    sqlite3_close(db);
}

static void test_crash_in_transaction(void **state)
{
    (void)state;
    crash_run(1);
}

static void test_crash_between_appends(void **state)
{
    (void)state;
    crash_run(0);
}

#define RACE_EACH 200

static void test_two_appenders(void **state)
{
    (void)state;
    /* No store yet: both processes also race to create and migrate it. */
    sqlite3 *db;
    pid_t pids[2];
    for (int p = 0; p < 2; p++) {
        pids[p] = fork();
        assert_true(pids[p] >= 0);
        if (pids[p] == 0) {
            sqlite3 *c = open_raw();
            char err[256];
            if (c == NULL || store_attach(c, err, sizeof(err)) != STORE_OK ||
                store_ensure_defaults(c) != STORE_OK)
                _exit(2);
            char raw[128];
            for (int i = 0; i < RACE_EACH; i++) {
                int n = snprintf(raw, sizeof(raw), "Subject: p%d m%d\r\n\r\nhi\r\n", p, i);
                if (store_append(c, "INBOX", raw, (size_t)n, 0, 0, NULL, NULL, NULL, NULL) !=
                    STORE_OK)
                    _exit(3);
            }
            sqlite3_close(c);
            _exit(0);
        }
    }
    for (int p = 0; p < 2; p++) {
        int status;
        assert_int_equal(waitpid(pids[p], &status, 0), pids[p]);
        assert_true(WIFEXITED(status));
        assert_int_equal(WEXITSTATUS(status), 0);
    }
    db = open_store();
    assert_int_equal(sql_int(db, "SELECT count(*) FROM messages"), 2 * RACE_EACH);
    assert_int_equal(sql_int(db, "SELECT count(DISTINCT uid) FROM messages"), 2 * RACE_EACH);
    assert_int_equal(sql_int(db, "SELECT max(uid) FROM messages"), 2 * RACE_EACH);
    assert_int_equal(mbox(db, "INBOX").uidnext, 2 * RACE_EACH + 1);
    assert_int_equal(sql_int(db, "SELECT count(*) FROM mailboxes"), 6);
    sqlite3_close(db);
}


int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_crash_in_transaction, setup, teardown),
        cmocka_unit_test_setup_teardown(test_crash_between_appends, setup, teardown),
        cmocka_unit_test_setup_teardown(test_two_appenders, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
