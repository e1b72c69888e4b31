/* Shared by the lib/store unit tests (test_store*.c): a temp directory per
 * test, a store over plain SQLite (WAL), small message helpers. */
#ifndef OWNMAIL_TEST_STORE_FIXTURE_H
#define OWNMAIL_TEST_STORE_FIXTURE_H

#include "store.h"
#include "store_int.h" /* store_migrations: a store of an older version */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static char tmpdir[64];
static char dbpath[128];

static inline int setup(void **state)
{
    (void)state;
    strcpy(tmpdir, "/tmp/test_store.XXXXXX");
    if (mkdtemp(tmpdir) == NULL)
        return -1;
    snprintf(dbpath, sizeof(dbpath), "%s/store.db", tmpdir);
    return 0;
}

static inline int teardown(void **state)
{
    (void)state;
    const char *suffix[] = {"", "-wal", "-shm", "-journal"};
    char p[160];
    for (size_t i = 0; i < 4; i++) {
        snprintf(p, sizeof(p), "%s%s", dbpath, suffix[i]);
        unlink(p);
    }
    rmdir(tmpdir);
    return 0;
}

static inline sqlite3 *open_raw(void)
{
    sqlite3 *db = NULL;
    int rc = sqlite3_open_v2(dbpath, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL);
    if (rc != SQLITE_OK) {
        sqlite3_close(db);
        return NULL;
    }
    return db;
}

static inline sqlite3 *open_store(void)
{
    sqlite3 *db = open_raw();
    assert_non_null(db);
    char err[256] = "";
    int rc = store_attach(db, err, sizeof(err));
    if (rc != STORE_OK)
        fail_msg("store_attach: %s (%s)", store_strerror(rc), err);
    assert_int_equal(store_ensure_defaults(db), STORE_OK);
    return db;
}

static inline int64_t sql_int(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    int64_t v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return v;
}

static inline store_mailbox mbox(sqlite3 *db, const char *name)
{
    store_mailbox mb;
    assert_int_equal(store_mailbox_get(db, name, &mb), STORE_OK);
    return mb;
}

/* Appends a small message; returns its UID. */
static inline uint32_t put(sqlite3 *db, const char *mailbox, const char *subject, unsigned flags,
                    const char *const *kw)
{
    char raw[256];
    int n = snprintf(raw, sizeof(raw), "Subject: %s\r\nFrom: a@example.org\r\n\r\nBody of %s\r\n",
                     subject, subject);
    store_msg_meta meta = {.subject = subject, .envelope = "(NIL NIL)", .preview = "Body"};
    uint32_t uid = 0;
    uint64_t modseq = 0;
    int rc = store_append(db, mailbox, raw, (size_t)n, 1700000000, flags, kw, &meta, &uid, &modseq);
    if (rc != STORE_OK)
        fail_msg("append: %s: %s", store_strerror(rc), sqlite3_errmsg(db));
    assert_true(uid > 0);
    assert_true(modseq > 0);
    return uid;
}

static inline store_uidset one(store_range *r, uint32_t first, uint32_t last)
{
    r->first = first;
    r->last = last;
    return (store_uidset){r, 1};
}

/* ---- Mailboxes -------------------------------------------------------------- */

#endif
