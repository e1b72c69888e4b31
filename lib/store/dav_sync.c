/* Calendars and address books: sync tokens and the change log (RFC 6578). */
#include "dav_int.h"
#include "store_int.h"
#include "store_maintain.h"
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

int store_dav_prune_tx(sqlite3 *db, int64_t id, uint64_t keep_after, uint64_t *n_r)
{
    *n_r = 0;
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
        *n_r = (uint64_t)sqlite3_changes64(db);
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
    uint64_t n = 0;
    int rc = store_tx_begin(db, &tx);
    if (rc == STORE_OK)
        rc = store_tx_end(db, &tx, store_dav_prune_tx(db, collection_id, keep_after, &n));
    return rc;
}

/* The revision of the newest tombstone that changed before older_than (0
 * when none did). */
static int dav_prune_age_point(sqlite3 *db, int64_t id, int64_t older_than, uint64_t *rev_r)
{
    sqlite3_stmt *st = dav_prepare(db,
                                   "SELECT coalesce(max(revision), 0) FROM dav_changes "
                                   "WHERE collection_id = ? AND deleted = 1 AND changed_at < ?",
                                   id, NULL);
    if (st == NULL)
        return STORE_ERR_DB;
    sqlite3_bind_int64(st, 2, older_than);
    int found = 0;
    int rc = dav_step_row(st, &found);
    *rev_r = rc == STORE_OK && found ? (uint64_t)sqlite3_column_int64(st, 0) : 0;
    sqlite3_finalize(st);
    return rc;
}

/* One collection, in its own transaction. */
static int dav_prune_age_one(sqlite3 *db, int64_t id, int64_t older_than, uint64_t *n_r)
{
    store_tx tx;
    uint64_t point = 0, n = 0, rev = 0, min = 0;
    int rc = store_tx_begin(db, &tx);
    if (rc != STORE_OK)
        return rc;
    rc = dav_sync_state(db, id, &rev, &min); /* STORE_ERR_NOMAILBOX when it is gone */
    if (rc == STORE_OK)
        rc = dav_prune_age_point(db, id, older_than, &point);
    if (rc == STORE_OK && point > 0)
        rc = store_dav_prune_tx(db, id, point, &n);
    rc = store_tx_end(db, &tx, rc);
    if (rc == STORE_OK)
        *n_r += n;
    return rc;
}

int store_dav_changes_prune_age(sqlite3 *db, int64_t collection_id, int64_t older_than,
                                uint64_t *pruned_r)
{
    uint64_t n = 0;
    int rc = STORE_OK;
    if (collection_id != 0) {
        rc = dav_prune_age_one(db, collection_id, older_than, &n);
    } else {
        /* One short transaction per collection; ids read first (at most
         * STORE_DAV_COLLECTIONS_MAX). */
        int64_t *ids = NULL;
        size_t nids = 0;
        rc = store_ids_read(db, "SELECT id FROM dav_collections ORDER BY id", &ids, &nids);
        for (size_t i = 0; rc == STORE_OK && i < nids; i++) {
            rc = dav_prune_age_one(db, ids[i], older_than, &n);
            if (rc == STORE_ERR_NOMAILBOX) /* deleted meanwhile */
                rc = STORE_OK;
        }
        free(ids);
    }
    if (pruned_r != NULL)
        *pruned_r = n;
    return rc;
}
