/* lib/store: pruning the expunge log (RFC 7162) and the periodic
 * maintenance that prunes every log (store_maintain.h). */
#include "store_int.h"
#include "store_maintain.h"

#include <stdlib.h>
#include <string.h>

int store_ids_read(sqlite3 *db, const char *sql, int64_t **ids_r, size_t *n_r)
{
    *ids_r = NULL;
    *n_r = 0;
    sqlite3_stmt *st = store_prepare(db, sql);
    if (st == NULL)
        return STORE_ERR_DB;
    int64_t *v = NULL;
    size_t n = 0, cap = 0;
    int rc = STORE_OK, src;
    while (rc == STORE_OK && (src = sqlite3_step(st)) == SQLITE_ROW) {
        if (n == cap) {
            size_t c = cap ? cap * 2 : 16;
            int64_t *p = realloc(v, c * sizeof(*p));
            if (p == NULL) {
                rc = STORE_ERR_NOMEM;
                break;
            }
            v = p;
            cap = c;
        }
        v[n++] = sqlite3_column_int64(st, 0);
    }
    if (rc == STORE_OK && src != SQLITE_DONE)
        rc = store_rc_sqlite(src);
    sqlite3_finalize(st);
    if (rc != STORE_OK) {
        free(v);
        return rc;
    }
    *ids_r = v;
    *n_r = n;
    return STORE_OK;
}

/* ---- Expunge log ------------------------------------------------------------ */

/* Runs a query with ?1 = mailbox id and ?2 = v2 returning one integer
 * (*v_r = 0 when it returns no row or NULL). */
static int mt_query_u64(sqlite3 *db, const char *sql, int64_t mbx, int64_t v2, uint64_t *v_r)
{
    sqlite3_stmt *st = store_prepare(db, sql);
    if (st == NULL)
        return STORE_ERR_DB;
    sqlite3_bind_int64(st, 1, mbx);
    sqlite3_bind_int64(st, 2, v2);
    int src = sqlite3_step(st);
    *v_r = src == SQLITE_ROW ? (uint64_t)sqlite3_column_int64(st, 0) : 0;
    sqlite3_finalize(st);
    return src == SQLITE_ROW || src == SQLITE_DONE ? STORE_OK : store_rc_sqlite(src);
}

int store_vanished_floor(sqlite3 *db, int64_t mailbox_id, uint64_t *floor_r)
{
    *floor_r = 0;
    sqlite3_stmt *st = store_prepare(db, "SELECT vanished_floor FROM mailboxes WHERE id = ?");
    if (st == NULL)
        return STORE_ERR_DB;
    sqlite3_bind_int64(st, 1, mailbox_id);
    int src = sqlite3_step(st);
    if (src == SQLITE_ROW)
        *floor_r = (uint64_t)sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return src == SQLITE_ROW    ? STORE_OK
           : src == SQLITE_DONE ? STORE_ERR_NOMAILBOX
                                : store_rc_sqlite(src);
}

/* The MODSEQ up to which the log of mbx goes: the (keep+1)-th newest
 * entry's, the newest older than older_than, the current floor: the
 * highest of them (0: nothing to do). */
static int mt_expunged_point(sqlite3 *db, int64_t mbx, size_t keep, int64_t older_than,
                             uint64_t *point_r)
{
    uint64_t by_count = 0, by_age = 0;
    int rc = store_vanished_floor(db, mbx, point_r);
    if (rc == STORE_OK && keep > 0 && keep <= INT64_MAX)
        rc = mt_query_u64(db,
                          "SELECT modseq FROM expunged WHERE mailbox_id = ?1 "
                          "ORDER BY modseq DESC LIMIT 1 OFFSET ?2",
                          mbx, (int64_t)keep, &by_count);
    if (rc == STORE_OK && older_than != 0)
        rc = mt_query_u64(db,
                          "SELECT max(modseq) FROM expunged WHERE mailbox_id = ?1 "
                          "AND expunged_at < ?2",
                          mbx, older_than, &by_age);
    if (by_count > *point_r)
        *point_r = by_count;
    if (by_age > *point_r)
        *point_r = by_age;
    return rc;
}

/* Removes up to STORE_PRUNE_BATCH entries of mbx at or below point. */
static int mt_expunged_batch(sqlite3 *db, int64_t mbx, uint64_t point, uint64_t *n_r)
{
    sqlite3_stmt *st = store_prepare(
        db, "DELETE FROM expunged WHERE mailbox_id = ?1 AND uid IN (SELECT uid FROM expunged "
            "WHERE mailbox_id = ?1 AND modseq <= ?2 LIMIT ?3)");
    if (st == NULL)
        return STORE_ERR_DB;
    sqlite3_bind_int64(st, 1, mbx);
    sqlite3_bind_int64(st, 2, (int64_t)point);
    sqlite3_bind_int(st, 3, STORE_PRUNE_BATCH);
    int rc = store_step_done(st);
    *n_r = rc == STORE_OK ? (uint64_t)sqlite3_changes64(db) : 0;
    return rc;
}

/* The first transaction: the point, the floor raised, the first batch. */
static int mt_expunged_first(sqlite3 *db, int64_t mbx, size_t keep, int64_t older_than,
                             uint64_t *point_r, uint64_t *n_r)
{
    *n_r = 0;
    int rc = mt_expunged_point(db, mbx, keep, older_than, point_r);
    if (rc != STORE_OK || *point_r == 0)
        return rc;
    sqlite3_stmt *st = store_prepare(
        db, "UPDATE mailboxes SET vanished_floor = ? WHERE id = ? AND vanished_floor < ?");
    if (st != NULL) {
        sqlite3_bind_int64(st, 1, (int64_t)*point_r);
        sqlite3_bind_int64(st, 2, mbx);
        sqlite3_bind_int64(st, 3, (int64_t)*point_r);
    }
    rc = store_step_done(st);
    return rc == STORE_OK ? mt_expunged_batch(db, mbx, *point_r, n_r) : rc;
}

static int mt_expunged_one(sqlite3 *db, int64_t mbx, size_t keep, int64_t older_than,
                           uint64_t *total)
{
    uint64_t point = 0, n = 0;
    store_tx tx;
    int rc = store_tx_begin(db, &tx);
    if (rc != STORE_OK)
        return rc;
    rc = store_tx_end(db, &tx, mt_expunged_first(db, mbx, keep, older_than, &point, &n));
    while (rc == STORE_OK) {
        *total += n;
        if (n < STORE_PRUNE_BATCH)
            break;
        if ((rc = store_tx_begin(db, &tx)) == STORE_OK)
            rc = store_tx_end(db, &tx, mt_expunged_batch(db, mbx, point, &n));
    }
    return rc;
}

int store_expunged_prune(sqlite3 *db, int64_t mailbox_id, size_t keep, int64_t older_than,
                         uint64_t *pruned_r)
{
    uint64_t total = 0;
    int rc = STORE_OK;
    if (mailbox_id != 0) {
        rc = mt_expunged_one(db, mailbox_id, keep, older_than, &total);
    } else {
        int64_t *ids = NULL;
        size_t n = 0;
        rc = store_ids_read(db, "SELECT id FROM mailboxes ORDER BY id", &ids, &n);
        for (size_t i = 0; rc == STORE_OK && i < n; i++) {
            rc = mt_expunged_one(db, ids[i], keep, older_than, &total);
            if (rc == STORE_ERR_NOMAILBOX) /* deleted meanwhile */
                rc = STORE_OK;
        }
        free(ids);
    }
    if (pruned_r != NULL)
        *pruned_r = total;
    return rc;
}

/* ---- Periodic maintenance ------------------------------------------------------ */

void store_maintain_policy_default(store_maintain_policy *policy_r)
{
    *policy_r = (store_maintain_policy){
        .delivery_age = STORE_MAINTAIN_DELIVERY_AGE,
        .expunged_keep = STORE_MAINTAIN_EXPUNGED_KEEP,
        .expunged_age = STORE_MAINTAIN_EXPUNGED_AGE,
        .dav_age = STORE_MAINTAIN_DAV_AGE,
    };
}

/* now - age, or 0 (no limit) when age is 0 or the result would not fit. */
static int64_t mt_before(int64_t now, int64_t age)
{
    if (age <= 0 || now < INT64_MIN + age)
        return 0;
    int64_t t = now - age;
    return t == 0 ? 1 : t;
}

int store_maintain(sqlite3 *db, int64_t now, const store_maintain_policy *policy,
                   store_maintain_stats *stats_r)
{
    store_maintain_policy def;
    if (policy == NULL) {
        store_maintain_policy_default(&def);
        policy = &def;
    }
    if (policy->delivery_age < 0 || policy->expunged_age < 0 || policy->dav_age < 0)
        return STORE_ERR_INVALID;
    store_maintain_stats st = {0};
    int rc = STORE_OK;
    if (policy->delivery_age > 0)
        rc = store_delivery_prune_n(db, mt_before(now, policy->delivery_age), &st.deliveries);
    if (rc == STORE_OK && (policy->expunged_keep > 0 || policy->expunged_age > 0))
        rc = store_expunged_prune(db, 0, policy->expunged_keep,
                                  mt_before(now, policy->expunged_age), &st.expunged);
    if (rc == STORE_OK && policy->dav_age > 0)
        rc =
            store_dav_changes_prune_age(db, 0, mt_before(now, policy->dav_age), &st.dav_tombstones);
    if (stats_r != NULL)
        *stats_r = st;
    return rc;
}
