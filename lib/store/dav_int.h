/* dav_int: what dav.c shares with dav_sync.c. */
#ifndef OM_STORE_DAV_INT_H
#define OM_STORE_DAV_INT_H

#include <sqlite3.h>
#include <stdint.h>

/* Prepares sql and binds ?1 = id and, when href is not NULL, ?2 = href. */
sqlite3_stmt *dav_prepare(sqlite3 *db, const char *sql, int64_t id, const char *href);
/* Runs a query expected to return one row; *found_r = 0 when none. */
int dav_step_row(sqlite3_stmt *st, int *found_r);

#endif
