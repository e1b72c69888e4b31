/* lib/store: COPY, MOVE (RFC 6851), EXPUNGE and the expunge log (RFC 7162). */
#include "store_int.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

static int range_cmp(const void *a, const void *b)
{
    const store_range *x = a, *y = b;
    return x->first < y->first ? -1 : x->first > y->first;
}

int store_uidset_merge(const store_uidset *set, store_range **merged_r, size_t *n_r)
{
    *merged_r = NULL;
    *n_r = 0;
    if (set == NULL || set->n == 0)
        return STORE_OK;
    if (set->ranges == NULL || set->n > SIZE_MAX / sizeof(store_range))
        return STORE_ERR_INVALID;
    for (size_t i = 0; i < set->n; i++)
        if (set->ranges[i].first == 0 || set->ranges[i].first > set->ranges[i].last)
            return STORE_ERR_INVALID;
    store_range *r = malloc(set->n * sizeof(*r));
    if (r == NULL)
        return STORE_ERR_NOMEM;
    memcpy(r, set->ranges, set->n * sizeof(*r));
    qsort(r, set->n, sizeof(*r), range_cmp);
    size_t n = 0;
    for (size_t i = 0; i < set->n; i++) {
        if (n > 0 && (uint64_t)r[i].first <= (uint64_t)r[n - 1].last + 1) {
            if (r[i].last > r[n - 1].last)
                r[n - 1].last = r[i].last;
        } else {
            r[n++] = r[i];
        }
    }
    *merged_r = r;
    *n_r = n;
    return STORE_OK;
}

/* ---- Source rows ------------------------------------------------------------- */

typedef struct {
    uint32_t uid;
    unsigned flags;
    char *keywords;
    int64_t internal_date;
    uint64_t size;
    int64_t body_id;
} copy_row;

typedef struct {
    copy_row *v;
    size_t n, cap;
    uint64_t bytes;
} copy_rows;

static void copy_rows_free(copy_rows *rows)
{
    for (size_t i = 0; i < rows->n; i++)
        free(rows->v[i].keywords);
    free(rows->v);
    memset(rows, 0, sizeof(*rows));
}

static int copy_rows_push(copy_rows *rows, sqlite3_stmt *st)
{
    if (rows->n == rows->cap) {
        size_t cap = rows->cap ? rows->cap * 2 : 16;
        copy_row *p = realloc(rows->v, cap * sizeof(*p));
        if (p == NULL)
            return STORE_ERR_NOMEM;
        rows->v = p;
        rows->cap = cap;
    }
    const unsigned char *kw = sqlite3_column_text(st, 2);
    copy_row *r = &rows->v[rows->n];
    r->uid = (uint32_t)sqlite3_column_int64(st, 0);
    r->flags = (unsigned)sqlite3_column_int(st, 1);
    r->keywords = strdup(kw ? (const char *)kw : "");
    r->internal_date = sqlite3_column_int64(st, 3);
    r->size = (uint64_t)sqlite3_column_int64(st, 4);
    r->body_id = sqlite3_column_int64(st, 5);
    if (r->keywords == NULL)
        return STORE_ERR_NOMEM;
    rows->n++;
    rows->bytes += r->size;
    return STORE_OK;
}

/* The messages of set in UID order; read fully before anything is written. */
static int copy_rows_read(sqlite3 *db, int64_t mailbox_id, const store_range *r, size_t nr,
                          copy_rows *rows)
{
    sqlite3_stmt *st =
        store_prepare(db, "SELECT uid, flags, keywords, internal_date, size, body_id FROM messages "
                          "WHERE mailbox_id = ? AND uid BETWEEN ? AND ? ORDER BY uid");
    if (st == NULL)
        return STORE_ERR_DB;
    int rc = STORE_OK;
    for (size_t i = 0; rc == STORE_OK && i < nr; i++) {
        sqlite3_bind_int64(st, 1, mailbox_id);
        sqlite3_bind_int64(st, 2, r[i].first);
        sqlite3_bind_int64(st, 3, r[i].last);
        int src = SQLITE_DONE;
        while (rc == STORE_OK && (src = sqlite3_step(st)) == SQLITE_ROW)
            rc = copy_rows_push(rows, st);
        if (rc == STORE_OK && src != SQLITE_DONE)
            rc = store_rc_sqlite(src);
        sqlite3_reset(st);
    }
    sqlite3_finalize(st);
    return rc;
}

/* Removes one message and logs its UID for VANISHED (RFC 7162 3.2.10). */
static int copy_expunge_one(sqlite3 *db, int64_t mailbox_id, uint32_t uid, uint64_t modseq)
{
    sqlite3_stmt *st = store_prepare(db, "DELETE FROM messages WHERE mailbox_id = ? AND uid = ?");
    if (st != NULL) {
        sqlite3_bind_int64(st, 1, mailbox_id);
        sqlite3_bind_int64(st, 2, uid);
    }
    int rc = store_step_done(st);
    if (rc != STORE_OK)
        return rc;
    st = store_prepare(db, "INSERT OR REPLACE INTO expunged (mailbox_id, uid, modseq, "
                           "expunged_at) VALUES (?, ?, ?, ?)");
    if (st != NULL) {
        sqlite3_bind_int64(st, 1, mailbox_id);
        sqlite3_bind_int64(st, 2, uid);
        sqlite3_bind_int64(st, 3, (int64_t)modseq);
        sqlite3_bind_int64(st, 4, (int64_t)time(NULL));
    }
    return store_step_done(st);
}

/* ---- Copy and move ------------------------------------------------------------ */

static int copy_insert_all(sqlite3 *db, int64_t dst, const copy_rows *rows, store_copy_result *res)
{
    int rc = STORE_OK;
    for (size_t i = 0; rc == STORE_OK && i < rows->n; i++) {
        const copy_row *r = &rows->v[i];
        uint32_t uid = 0;
        rc = store_uid_next(db, dst, &uid);
        if (rc == STORE_OK)
            rc = store_msg_insert(db, dst, uid, res->modseq, r->flags, r->keywords,
                                  r->internal_date, r->size, r->body_id);
        if (rc == STORE_OK)
            rc = store_keywords_register(db, dst, r->keywords);
        if (rc == STORE_OK)
            rc = store_uids_push(&res->src, r->uid);
        if (rc == STORE_OK)
            rc = store_uids_push(&res->dst, uid);
    }
    return rc == STORE_OK ? store_mailbox_touch(db, dst, res->modseq) : rc;
}

static int copy_tx(sqlite3 *db, int64_t src, const store_range *r, size_t nr, const char *target,
                   bool move, store_copy_result *res)
{
    int64_t dst = 0;
    store_mailbox mb = {0};
    copy_rows rows = {0};
    int rc = store_mailbox_check_id(db, src);
    if (rc == STORE_OK)
        rc = store_mailbox_lookup(db, target, &dst);
    if (rc == STORE_OK)
        rc = store_mailbox_get_by_id(db, dst, &mb);
    if (rc == STORE_OK)
        rc = copy_rows_read(db, src, r, nr, &rows);
    if (rc == STORE_OK && !move) /* a move frees what it takes */
        rc = store_quota_check(db, rows.bytes);
    if (rc == STORE_OK) {
        res->uidvalidity = mb.uidvalidity;
        if (rows.n == 0) {
            copy_rows_free(&rows);
            return STORE_OK;
        }
        rc = store_modseq_next(db, &res->modseq);
    }
    if (rc == STORE_OK)
        rc = copy_insert_all(db, dst, &rows, res);
    for (size_t i = 0; rc == STORE_OK && move && i < rows.n; i++)
        rc = copy_expunge_one(db, src, rows.v[i].uid, res->modseq);
    if (rc == STORE_OK && move)
        rc = store_mailbox_touch(db, src, res->modseq);
    copy_rows_free(&rows);
    return rc;
}

void store_copy_result_free(store_copy_result *res)
{
    if (res == NULL)
        return;
    store_uids_free(&res->src);
    store_uids_free(&res->dst);
}

static int copy_or_move(sqlite3 *db, int64_t mailbox_id, const store_uidset *set,
                        const char *target, bool move, store_copy_result *res_r)
{
    memset(res_r, 0, sizeof(*res_r));
    store_range *r = NULL;
    size_t nr = 0;
    int rc = store_uidset_merge(set, &r, &nr);
    if (rc != STORE_OK)
        return rc;
    store_tx tx;
    if ((rc = store_tx_begin(db, &tx)) == STORE_OK)
        rc = store_tx_end(db, &tx, copy_tx(db, mailbox_id, r, nr, target, move, res_r));
    free(r);
    if (rc != STORE_OK)
        store_copy_result_free(res_r);
    return rc;
}

int store_copy(sqlite3 *db, int64_t mailbox_id, const store_uidset *set, const char *target,
               store_copy_result *res_r)
{
    return copy_or_move(db, mailbox_id, set, target, false, res_r);
}

int store_move(sqlite3 *db, int64_t mailbox_id, const store_uidset *set, const char *target,
               store_copy_result *res_r)
{
    return copy_or_move(db, mailbox_id, set, target, true, res_r);
}

/* ---- Expunge ------------------------------------------------------------------ */

/* UIDs of the \Deleted messages (in the ranges, or all when nr is 0). */
static int expunge_collect(sqlite3 *db, int64_t mailbox_id, const store_range *r, size_t nr,
                           store_uids *uids)
{
    sqlite3_stmt *st =
        store_prepare(db, "SELECT uid FROM messages WHERE mailbox_id = ? AND uid BETWEEN ? AND ? "
                          "AND (flags & 8) != 0 ORDER BY uid");
    if (st == NULL)
        return STORE_ERR_DB;
    static const store_range all = {1, UINT32_MAX};
    if (nr == 0) {
        r = &all;
        nr = 1;
    }
    int rc = STORE_OK;
    for (size_t i = 0; rc == STORE_OK && i < nr; i++) {
        sqlite3_bind_int64(st, 1, mailbox_id);
        sqlite3_bind_int64(st, 2, r[i].first);
        sqlite3_bind_int64(st, 3, r[i].last);
        rc = store_uids_collect(st, uids);
        sqlite3_reset(st);
    }
    sqlite3_finalize(st);
    return rc;
}

static int expunge_tx(sqlite3 *db, int64_t mailbox_id, const store_range *r, size_t nr,
                      store_uids *uids, uint64_t *modseq)
{
    int rc = store_mailbox_check_id(db, mailbox_id);
    if (rc == STORE_OK)
        rc = expunge_collect(db, mailbox_id, r, nr, uids);
    if (rc != STORE_OK || uids->n == 0)
        return rc;
    rc = store_modseq_next(db, modseq);
    for (size_t i = 0; rc == STORE_OK && i < uids->n; i++)
        rc = copy_expunge_one(db, mailbox_id, uids->uids[i], *modseq);
    return rc == STORE_OK ? store_mailbox_touch(db, mailbox_id, *modseq) : rc;
}

int store_expunge(sqlite3 *db, int64_t mailbox_id, const store_uidset *set, store_uids *expunged_r,
                  uint64_t *modseq_r)
{
    if (expunged_r != NULL)
        memset(expunged_r, 0, sizeof(*expunged_r));
    if (modseq_r != NULL)
        *modseq_r = 0;
    store_range *r = NULL;
    size_t nr = 0;
    int rc = store_uidset_merge(set, &r, &nr);
    if (rc != STORE_OK)
        return rc;
    if (set != NULL && nr == 0) /* an empty UID set expunges nothing */
        return STORE_OK;
    store_uids uids = {0};
    uint64_t modseq = 0;
    store_tx tx;
    if ((rc = store_tx_begin(db, &tx)) == STORE_OK)
        rc = store_tx_end(db, &tx, expunge_tx(db, mailbox_id, r, nr, &uids, &modseq));
    free(r);
    if (rc == STORE_OK && modseq_r != NULL)
        *modseq_r = modseq;
    if (rc == STORE_OK && expunged_r != NULL)
        *expunged_r = uids;
    else
        store_uids_free(&uids);
    return rc;
}

/* STORE_ERR_EXPUNGE_LOG when the log of the mailbox lacks entries above
 * since (pruned up to its vanished floor: schema/store/005_sort_prune.sql). */
static int copy_log_complete(sqlite3 *db, int64_t mailbox_id, uint64_t since)
{
    sqlite3_stmt *st = store_prepare(db, "SELECT vanished_floor FROM mailboxes WHERE id = ?");
    if (st == NULL)
        return STORE_ERR_DB;
    sqlite3_bind_int64(st, 1, mailbox_id);
    int src = sqlite3_step(st);
    uint64_t floor = src == SQLITE_ROW ? (uint64_t)sqlite3_column_int64(st, 0) : 0;
    sqlite3_finalize(st);
    if (src != SQLITE_ROW && src != SQLITE_DONE)
        return store_rc_sqlite(src);
    return since < floor ? STORE_ERR_EXPUNGE_LOG : STORE_OK;
}

int store_vanished(sqlite3 *db, int64_t mailbox_id, uint64_t since, const store_uidset *set,
                   store_uids *uids_r)
{
    memset(uids_r, 0, sizeof(*uids_r));
    store_range *r = NULL;
    size_t nr = 0;
    int rc = store_uidset_merge(set, &r, &nr);
    if (rc != STORE_OK)
        return rc;

    static const store_range all = {1, UINT32_MAX};
    const store_range *q = nr ? r : &all;
    size_t nq = nr ? nr : (set == NULL);
    sqlite3_stmt *st =
        store_prepare(db, "SELECT uid FROM expunged WHERE mailbox_id = ? AND modseq > ? "
                          "AND uid BETWEEN ? AND ? ORDER BY uid");
    if (st == NULL)
        rc = STORE_ERR_DB;
    for (size_t i = 0; rc == STORE_OK && i < nq; i++) {
        sqlite3_bind_int64(st, 1, mailbox_id);
        sqlite3_bind_int64(st, 2, (int64_t)since);
        sqlite3_bind_int64(st, 3, q[i].first);
        sqlite3_bind_int64(st, 4, q[i].last);
        rc = store_uids_collect(st, uids_r);
        sqlite3_reset(st);
    }
    sqlite3_finalize(st);
    free(r);
    /* The floor is read after the log: a prune raises it in or before the
     * transaction that deletes entries, so a prune that ran meanwhile is
     * seen here and the partial list is not returned. */
    if (rc == STORE_OK)
        rc = copy_log_complete(db, mailbox_id, since);
    if (rc != STORE_OK)
        store_uids_free(uids_r);
    return rc;
}
