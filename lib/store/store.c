/* lib/store: attaching a connection, migrations, transactions, counters. */
#include "store_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define STORE_BUSY_RETRY_MS 10 /* between tries of a statement that stayed busy */

const char *store_strerror(int rc)
{
    switch (rc) {
    case STORE_OK:
        return "ok";
    case STORE_ERR_DB:
        return "database error";
    case STORE_ERR_BUSY:
        return "store is busy";
    case STORE_ERR_NOMEM:
        return "out of memory";
    case STORE_ERR_INVALID:
        return "invalid argument";
    case STORE_ERR_NOMAILBOX:
        return "no such mailbox";
    case STORE_ERR_EXISTS:
        return "mailbox already exists";
    case STORE_ERR_NOSELECT:
        return "mailbox cannot be selected";
    case STORE_ERR_INBOX:
        return "not allowed on INBOX";
    case STORE_ERR_HASCHILDREN:
        return "mailbox has inferior mailboxes";
    case STORE_ERR_NOTFOUND:
        return "no such message";
    case STORE_ERR_QUOTA:
        return "over quota";
    case STORE_ERR_UIDS:
        return "no UIDs left in this mailbox";
    case STORE_ERR_SCHEMA:
        return "store schema not supported by this binary";
    case STORE_ERR_LIMIT:
        return "limit exceeded";
    case STORE_ERR_PRECONDITION:
        return "precondition failed";
    case STORE_ERR_SYNC_TOKEN:
        return "sync token no longer valid";
    case STORE_ERR_SORT_KEYS:
        return "sort keys not computed yet";
    case STORE_ERR_EXPUNGE_LOG:
        return "expunge log pruned past that modseq";
    default:
        return "unknown store error";
    }
}

int store_rc_sqlite(int sqlite_rc)
{
    switch (sqlite_rc & 0xff) {
    case SQLITE_OK:
    case SQLITE_DONE:
    case SQLITE_ROW:
        return STORE_OK;
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
        return STORE_ERR_BUSY;
    case SQLITE_NOMEM:
        return STORE_ERR_NOMEM;
    case SQLITE_TOOBIG:
        return STORE_ERR_LIMIT;
    default:
        return STORE_ERR_DB;
    }
}

sqlite3_stmt *store_prepare(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
        sqlite3_finalize(st);
        return NULL;
    }
    return st;
}

int store_step_done(sqlite3_stmt *st)
{
    if (st == NULL)
        return STORE_ERR_DB;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW)
        ;
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? STORE_OK : store_rc_sqlite(rc);
}

/* Runs one fixed statement (pragma or transaction control). */
static int store_exec(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *st = store_prepare(db, sql);
    if (st == NULL)
        return store_rc_sqlite(sqlite3_errcode(db));
    return store_step_done(st);
}

/* store_exec, retried while the store is busy. Two connections that turn
 * a new file to WAL at once: the loser's "PRAGMA journal_mode=WAL" fails
 * with SQLITE_BUSY at once, without the busy handler (which SQLite skips
 * where waiting could deadlock), so wait here, up to the busy timeout. */
static int store_exec_busy(sqlite3 *db, const char *sql)
{
    int rc;
    for (int waited = 0; (rc = store_exec(db, sql)) == STORE_ERR_BUSY &&
                         waited < STORE_BUSY_TIMEOUT_MS;
         waited += STORE_BUSY_RETRY_MS)
        sqlite3_sleep(STORE_BUSY_RETRY_MS);
    return rc;
}

/* ---- Connection and migrations ----------------------------------------- */

int store_schema_version(void)
{
    return store_migration_count;
}

static int store_user_version(sqlite3 *db, int *v_r)
{
    sqlite3_stmt *st = store_prepare(db, "PRAGMA user_version");
    if (st == NULL)
        return STORE_ERR_DB;
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        *v_r = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    return rc == SQLITE_ROW ? STORE_OK : store_rc_sqlite(rc);
}

static int store_apply(sqlite3 *db, int v, char *err, size_t errlen)
{
    char setv[64];
    snprintf(setv, sizeof(setv), "PRAGMA user_version=%d", v + 1);
    char *msg = NULL;
    /* The migration text holds several statements: sqlite3_exec runs them. */
    if (sqlite3_exec(db, store_migrations[v].sql, NULL, NULL, &msg) != SQLITE_OK) {
        snprintf(err, errlen, "store migration %s failed: %s", store_migrations[v].name,
                 msg ? msg : sqlite3_errmsg(db));
        sqlite3_free(msg);
        return STORE_ERR_SCHEMA;
    }
    int rc = store_exec(db, setv);
    if (rc != STORE_OK)
        snprintf(err, errlen, "store migration %s: cannot set version: %s",
                 store_migrations[v].name, sqlite3_errmsg(db));
    return rc;
}

int store_migrate(sqlite3 *db, char *err, size_t errlen)
{
    /* IMMEDIATE first, so two processes opening a new store at once do not
     * both apply version 1: the second waits, then sees it applied. */
    int rc = store_exec(db, "BEGIN IMMEDIATE");
    if (rc != STORE_OK) {
        snprintf(err, errlen, "store: cannot begin migration: %s", sqlite3_errmsg(db));
        return rc;
    }
    int have = 0;
    rc = store_user_version(db, &have);
    if (rc != STORE_OK) {
        snprintf(err, errlen, "store: cannot read schema version: %s", sqlite3_errmsg(db));
    } else if (have > store_migration_count || have < 0) {
        snprintf(err, errlen,
                 "store has schema version %d but this binary knows only up to %d: "
                 "refusing to run an older binary on a newer store",
                 have, store_migration_count);
        rc = STORE_ERR_SCHEMA;
    }
    for (int v = have; rc == STORE_OK && v < store_migration_count; v++)
        rc = store_apply(db, v, err, errlen);
    if (rc == STORE_OK && (rc = store_exec(db, "COMMIT")) != STORE_OK)
        snprintf(err, errlen, "store: migration commit failed: %s", sqlite3_errmsg(db));
    if (rc != STORE_OK)
        store_exec(db, "ROLLBACK");
    return rc;
}

#define OM_STR2(x) #x
#define OM_STR(x) OM_STR2(x)

int store_attach(sqlite3 *db, char *err, size_t errlen)
{
    static const char *const pragmas[] = {
        "PRAGMA journal_mode=WAL", "PRAGMA synchronous=FULL", "PRAGMA temp_store=MEMORY",
        "PRAGMA mmap_size=0",      "PRAGMA foreign_keys=ON",
        ("PRAGMA cache_size=-" OM_STR(STORE_CACHE_KIB)),
    };
    sqlite3_busy_timeout(db, STORE_BUSY_TIMEOUT_MS);
    sqlite3_extended_result_codes(db, 1);
    int frc = store_sql_register(db);
    if (frc != STORE_OK) {
        snprintf(err, errlen, "store: cannot register SQL functions: %s", sqlite3_errmsg(db));
        return frc;
    }
    for (size_t i = 0; i < sizeof(pragmas) / sizeof(pragmas[0]); i++) {
        int rc = store_exec_busy(db, pragmas[i]);
        if (rc != STORE_OK) {
            snprintf(err, errlen, "store: %s failed: %s", pragmas[i], sqlite3_errmsg(db));
            return rc;
        }
    }
    return store_migrate(db, err, errlen);
}

/* ---- Transactions --------------------------------------------------------- */

int store_tx_begin(sqlite3 *db, store_tx *tx)
{
    tx->outer = sqlite3_get_autocommit(db) != 0;
    tx->changes = sqlite3_total_changes64(db);
    return store_exec(db, tx->outer ? "BEGIN IMMEDIATE" : "SAVEPOINT om_store");
}

int store_tx_end(sqlite3 *db, store_tx *tx, int rc)
{
    if (rc == STORE_OK) {
        if (sqlite3_total_changes64(db) != tx->changes)
            rc = store_step_done(store_prepare(
                db, "UPDATE store_meta SET change_counter = change_counter + 1 WHERE id = 1"));
        if (rc == STORE_OK)
            rc = store_exec(db, tx->outer ? "COMMIT" : "RELEASE om_store");
        if (rc == STORE_OK)
            return STORE_OK;
    }
    if (tx->outer) {
        store_exec(db, "ROLLBACK");
    } else {
        store_exec(db, "ROLLBACK TO om_store");
        store_exec(db, "RELEASE om_store");
    }
    return rc;
}

int store_begin(sqlite3 *db)
{
    return store_exec(db, "BEGIN IMMEDIATE");
}

int store_commit(sqlite3 *db)
{
    int rc = store_exec(db, "COMMIT");
    if (rc != STORE_OK)
        store_exec(db, "ROLLBACK");
    return rc;
}

void store_rollback(sqlite3 *db)
{
    if (!sqlite3_get_autocommit(db))
        store_exec(db, "ROLLBACK");
}

/* ---- Counters -------------------------------------------------------------- */

static int store_read_u64(sqlite3 *db, const char *sql, uint64_t *v_r)
{
    sqlite3_stmt *st = store_prepare(db, sql);
    if (st == NULL)
        return STORE_ERR_DB;
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        *v_r = (uint64_t)sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return rc == SQLITE_ROW ? STORE_OK : store_rc_sqlite(rc == SQLITE_DONE ? SQLITE_ERROR : rc);
}

int store_change_counter(sqlite3 *db, uint64_t *counter_r)
{
    return store_read_u64(db, "SELECT change_counter FROM store_meta WHERE id = 1", counter_r);
}

int store_data_version(sqlite3 *db, int64_t *version_r)
{
    uint64_t v = 0;
    int rc = store_read_u64(db, "PRAGMA data_version", &v);
    if (rc == STORE_OK)
        *version_r = (int64_t)v;
    return rc;
}

int store_modseq_next(sqlite3 *db, uint64_t *modseq_r)
{
    return store_read_u64(
        db, "UPDATE store_meta SET modseq = modseq + 1 WHERE id = 1 RETURNING modseq", modseq_r);
}

int store_quota_get(sqlite3 *db, uint64_t *used_r, uint64_t *limit_r)
{
    sqlite3_stmt *st = store_prepare(db, "SELECT quota_used, quota_limit FROM store_meta");
    if (st == NULL)
        return STORE_ERR_DB;
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        *used_r = (uint64_t)sqlite3_column_int64(st, 0);
        *limit_r = (uint64_t)sqlite3_column_int64(st, 1);
    }
    sqlite3_finalize(st);
    return rc == SQLITE_ROW ? STORE_OK : STORE_ERR_DB;
}

int store_quota_set_limit(sqlite3 *db, uint64_t limit)
{
    if (limit > INT64_MAX)
        return STORE_ERR_INVALID;
    store_tx tx;
    int rc = store_tx_begin(db, &tx);
    if (rc != STORE_OK)
        return rc;
    sqlite3_stmt *st = store_prepare(db, "UPDATE store_meta SET quota_limit = ? WHERE id = 1");
    if (st != NULL)
        sqlite3_bind_int64(st, 1, (int64_t)limit);
    return store_tx_end(db, &tx, store_step_done(st));
}

/* ---- UID lists ------------------------------------------------------------- */

int store_uids_collect(sqlite3_stmt *st, store_uids *u)
{
    int rc = STORE_OK, src = SQLITE_DONE;
    while (rc == STORE_OK && (src = sqlite3_step(st)) == SQLITE_ROW)
        rc = store_uids_push(u, (uint32_t)sqlite3_column_int64(st, 0));
    if (rc == STORE_OK && src != SQLITE_DONE)
        rc = store_rc_sqlite(src);
    return rc;
}

int store_uids_push(store_uids *u, uint32_t uid)
{
    if (u->n == u->cap) {
        size_t cap = u->cap ? u->cap * 2 : 16;
        uint32_t *p = realloc(u->uids, cap * sizeof(*p));
        if (p == NULL)
            return STORE_ERR_NOMEM;
        u->uids = p;
        u->cap = cap;
    }
    u->uids[u->n++] = uid;
    return STORE_OK;
}

void store_uids_free(store_uids *u)
{
    if (u == NULL)
        return;
    free(u->uids);
    u->uids = NULL;
    u->n = u->cap = 0;
}
