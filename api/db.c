#include "db.h"

#include "cache.h"
#include "log.h"
#include "relay.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#define DB_BUSY_TIMEOUT_MS 5000
#define DB_PATH_MAX 4096

#define DB_STMT_CACHE 128 /* prepared statements kept per thread */

typedef struct db_cached {
    uint64_t hash;
    char *sql;
    sqlite3_stmt *st;
    bool in_use;
} db_cached;

static char db_path[DB_PATH_MAX];
static _Thread_local sqlite3 *db_conn;
static _Thread_local db_cached db_cache[DB_STMT_CACHE];
static _Thread_local int db_ncached;

int64_t db_now(void)
{
    return (int64_t)time(NULL);
}

static sqlite3 *db_open(const char *path, char *err, size_t errlen)
{
    sqlite3 *db = NULL;
    int rc = sqlite3_open_v2(
        path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
    if (rc != SQLITE_OK) {
        snprintf(err, errlen, "open(%s) failed: %s", path, db ? sqlite3_errmsg(db) : "no memory");
        sqlite3_close(db);
        return NULL;
    }
    sqlite3_busy_timeout(db, DB_BUSY_TIMEOUT_MS);
    sqlite3_extended_result_codes(db, 1);
    const char *pragmas = "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"
                          "PRAGMA foreign_keys=ON; PRAGMA temp_store=MEMORY;";
    char *msg = NULL;
    if (sqlite3_exec(db, pragmas, NULL, NULL, &msg) != SQLITE_OK) {
        snprintf(err, errlen, "%s: %s", path, msg ? msg : "pragma failed");
        sqlite3_free(msg);
        sqlite3_close(db);
        return NULL;
    }
    return db;
}

static int db_user_version(sqlite3 *db)
{
    sqlite3_stmt *st = NULL;
    int v = -1;
    if (sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW)
        v = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    return v;
}

int db_migrate(const char *path, char *err, size_t errlen)
{
    sqlite3 *db = db_open(path, err, errlen);
    if (db == NULL)
        return -1;
    chmod(path, 0600);
    int have = db_user_version(db);
    if (have < 0) {
        snprintf(err, errlen, "%s: cannot read schema version: %s", path, sqlite3_errmsg(db));
        sqlite3_close(db);
        return -1;
    }
    if (have > db_migration_count) {
        snprintf(err, errlen,
                 "%s has schema version %d but this binary knows only up to %d: "
                 "refusing to run an older binary on a newer database",
                 path, have, db_migration_count);
        sqlite3_close(db);
        return -1;
    }
    for (int v = have; v < db_migration_count; v++) {
        char *msg = NULL;
        char setv[64];
        snprintf(setv, sizeof(setv), "PRAGMA user_version=%d;", v + 1);
        if (sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, &msg) != SQLITE_OK ||
            sqlite3_exec(db, db_migrations[v].sql, NULL, NULL, &msg) != SQLITE_OK ||
            sqlite3_exec(db, setv, NULL, NULL, &msg) != SQLITE_OK ||
            sqlite3_exec(db, "COMMIT", NULL, NULL, &msg) != SQLITE_OK) {
            snprintf(err, errlen, "migration %s failed: %s", db_migrations[v].name,
                     msg ? msg : sqlite3_errmsg(db));
            sqlite3_free(msg);
            sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
            sqlite3_close(db);
            return -1;
        }
        log_info(NULL, "control.db: applied migration %s", db_migrations[v].name);
    }
    sqlite3_close(db);
    return 0;
}

void db_configure(const char *path)
{
    snprintf(db_path, sizeof(db_path), "%s", path);
}

sqlite3 *db_thread(void)
{
    if (db_conn != NULL)
        return db_conn;
    char err[DB_PATH_MAX + 256];
    db_conn = db_open(db_path, err, sizeof(err));
    if (db_conn == NULL)
        log_error(NULL, "%s", err);
    return db_conn;
}

void db_thread_close(void)
{
    for (int i = 0; i < db_ncached; i++) {
        sqlite3_finalize(db_cache[i].st);
        free(db_cache[i].sql);
    }
    db_ncached = 0;
    if (db_conn != NULL) {
        sqlite3_close_v2(db_conn);
        db_conn = NULL;
    }
}

int db_exec_simple(sqlite3 *db, const char *sql)
{
    char *msg = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) {
        log_error(NULL, "sql(%s) failed: %s", sql, msg ? msg : sqlite3_errmsg(db));
        sqlite3_free(msg);
        return -1;
    }
    return 0;
}

int db_begin(sqlite3 *db)
{
    return db_exec_simple(db, "BEGIN IMMEDIATE");
}

int db_commit(sqlite3 *db)
{
    if (db_exec_simple(db, "COMMIT") < 0) {
        db_rollback(db);
        return -1;
    }
    cache_bump(); /* before the handler replies: the next read sees the change */
    relay_wake(); /* the transaction may have appended events */
    return 0;
}

void db_rollback(sqlite3 *db)
{
    if (!sqlite3_get_autocommit(db))
        sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
}

static uint64_t db_hash(const char *s)
{
    uint64_t h = 1469598103934665603ULL; /* FNV-1a */
    for (; *s != '\0'; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return h;
}

/* Statements on this thread's connection are prepared once and kept: the
 * api runs the same few dozen statements over and over. A statement already
 * in use (a nested use of the same SQL) gets a fresh one of its own. */
sqlite3_stmt *db_prepare(sqlite3 *db, const char *sql)
{
    bool cacheable = db == db_conn;
    uint64_t h = cacheable ? db_hash(sql) : 0;
    for (int i = 0; cacheable && i < db_ncached; i++) {
        db_cached *c = &db_cache[i];
        if (c->hash == h && !c->in_use && strcmp(c->sql, sql) == 0) {
            c->in_use = true;
            return c->st;
        }
    }
    sqlite3_stmt *st = NULL;
    unsigned flags = cacheable ? SQLITE_PREPARE_PERSISTENT : 0;
    if (sqlite3_prepare_v3(db, sql, -1, flags, &st, NULL) != SQLITE_OK) {
        log_error(NULL, "prepare(%s) failed: %s", sql, sqlite3_errmsg(db));
        return NULL;
    }
    if (cacheable && db_ncached < DB_STMT_CACHE) {
        char *copy = strdup(sql);
        if (copy != NULL)
            db_cache[db_ncached++] = (db_cached){h, copy, st, true};
    }
    return st;
}

void db_finish(sqlite3_stmt *st)
{
    if (st == NULL)
        return;
    for (int i = 0; i < db_ncached; i++) {
        if (db_cache[i].st == st) {
            sqlite3_reset(st);
            sqlite3_clear_bindings(st);
            db_cache[i].in_use = false;
            return;
        }
    }
    sqlite3_finalize(st);
}

int db_release_all(void)
{
    int n = 0;
    for (int i = 0; i < db_ncached; i++) {
        if (db_cache[i].in_use) {
            db_finish(db_cache[i].st);
            n++;
        }
    }
    return n;
}

const char *db_text(sqlite3_stmt *st, int col)
{
    const unsigned char *t = sqlite3_column_text(st, col);
    return t != NULL ? (const char *)t : "";
}
