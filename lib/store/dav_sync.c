/* Calendars and address books: sync tokens and the change log (RFC 6578). */
#include "dav_int.h"
#include "store_int.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static int dav_sync_state(sqlite3 *db, int64_t id, uint64_t *rev_r, uint64_t *min_r)
{
    sqlite3_stmt *st = dav_prepare(
        db, "SELECT sync_revision, sync_min FROM dav_collections WHERE id = ?", id, NULL);
    if (st == NULL)
        return STORE_ERR_DB;
    int found = 0;
    int rc = dav_step_row(st, &found);
    if (rc == STORE_OK && !found)
        rc = STORE_ERR_NOMAILBOX;
    if (rc == STORE_OK) {
        *rev_r = (uint64_t)sqlite3_column_int64(st, 0);
        *min_r = (uint64_t)sqlite3_column_int64(st, 1);
    }
    sqlite3_finalize(st);
    return rc;
}

int store_dav_changes(sqlite3 *db, int64_t collection_id, uint64_t since, store_dav_change_cb cb,
                      void *ctx, uint64_t *token_r)
{
    uint64_t rev = 0, min = 0;
    int rc = dav_sync_state(db, collection_id, &rev, &min);
    if (rc != STORE_OK)
        return rc;
    if (since != 0 && (since < min || since > rev))
        return STORE_ERR_SYNC_TOKEN;
    /* Bounded by the token read above: a change committed meanwhile has a
     * higher revision and is reported by the next sync. A replaced href's
     * row moves above rev and is reported then too. */
    sqlite3_stmt *st = dav_prepare(
        db,
        "SELECT href, deleted FROM dav_changes WHERE collection_id = ? AND revision > ? "
        "AND revision <= ? AND (? OR deleted = 0) ORDER BY revision, href",
        collection_id, NULL);
    if (st == NULL)
        return STORE_ERR_DB;
    sqlite3_bind_int64(st, 2, (int64_t)since);
    sqlite3_bind_int64(st, 3, (int64_t)rev);
    sqlite3_bind_int(st, 4, since != 0); /* initial sync: members only (RFC 6578 3.8) */
    int src, ret = 0;
    while ((src = sqlite3_step(st)) == SQLITE_ROW)
        if ((ret = cb(ctx, (const char *)sqlite3_column_text(st, 0), sqlite3_column_int(st, 1))) !=
            0)
            break;
    sqlite3_finalize(st);
    if (ret != 0)
        return ret;
    if (src != SQLITE_DONE)
        return store_rc_sqlite(src);
    if (token_r != NULL)
        *token_r = rev;
    return STORE_OK;
}

static int dav_prune_tx(sqlite3 *db, int64_t id, uint64_t keep_after)
{
    uint64_t rev = 0, min = 0;
    int rc = dav_sync_state(db, id, &rev, &min);
    if (rc != STORE_OK || keep_after <= min)
        return rc;
    if (keep_after > rev)
        keep_after = rev;
    sqlite3_stmt *st = store_prepare(
        db, "DELETE FROM dav_changes WHERE collection_id = ? AND deleted = 1 AND revision <= ?");
    if (st != NULL) {
        sqlite3_bind_int64(st, 1, id);
        sqlite3_bind_int64(st, 2, (int64_t)keep_after);
    }
    rc = store_step_done(st);
    if (rc == STORE_OK) {
        st = store_prepare(db, "UPDATE dav_collections SET sync_min = ? WHERE id = ?");
        if (st != NULL) {
            sqlite3_bind_int64(st, 1, (int64_t)keep_after);
            sqlite3_bind_int64(st, 2, id);
        }
        rc = store_step_done(st);
    }
    return rc;
}

int store_dav_changes_prune(sqlite3 *db, int64_t collection_id, uint64_t keep_after)
{
    store_tx tx;
    int rc = store_tx_begin(db, &tx);
    if (rc == STORE_OK)
        rc = store_tx_end(db, &tx, dav_prune_tx(db, collection_id, keep_after));
    return rc;
}
