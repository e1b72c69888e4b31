/* db: control.db, its migrations, and one connection per thread. */
#ifndef OWNMAIL_API_DB_H
#define OWNMAIL_API_DB_H

#include <sqlite3.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct db_migration {
    const char *name; /* NNN_name.sql, applied in order; version = index + 1 */
    const char *sql;
} db_migration;

extern const db_migration db_migrations[];
extern const int db_migration_count;

/* Opens (creating if needed) and migrates the database at path. Refuses a
 * database whose schema version is newer than this binary knows.
 * Returns 0, or -1 with a message in err. */
int db_migrate(const char *path, char *err, size_t errlen);

/* Sets the path used by db_thread(). */
void db_configure(const char *path);
/* This thread's connection (WAL, foreign keys, busy timeout), opened on first
 * use; NULL if it cannot be opened. */
sqlite3 *db_thread(void);
/* Closes this thread's connection, if any. */
void db_thread_close(void);

/* BEGIN IMMEDIATE / COMMIT / ROLLBACK; 0 or -1. */
int db_begin(sqlite3 *db);
int db_commit(sqlite3 *db);
void db_rollback(sqlite3 *db);

/* Prepares a statement, or takes it from this thread's cache; logs and
 * returns NULL on failure (a bug). Release it with db_finish, never
 * sqlite3_finalize. */
sqlite3_stmt *db_prepare(sqlite3 *db, const char *sql);
/* Resets a statement back into the cache (or finalizes an uncached one). */
void db_finish(sqlite3_stmt *st);
/* Resets every cached statement still in use on this thread (each one is a
 * missing db_finish: a bug) so none keeps a read transaction open. Returns
 * how many there were. */
int db_release_all(void);
/* Runs a statement that returns no rows with the given text parameters. */
int db_exec_simple(sqlite3 *db, const char *sql);

/* Column helpers that never return NULL for text. */
const char *db_text(sqlite3_stmt *st, int col);

int64_t db_now(void);

#endif
