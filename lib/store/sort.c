/* lib/store: SORT (RFC 5256 3, RFC 5957) over the keys computed at
 * delivery, and the backfill of those keys for older bodies. */
#include "store_int.h"
#include "store_sort.h"

#include "buf.h"

#include <stdlib.h>
#include <string.h>

#define SORT_SQL_MAX 4096 /* bytes of the ORDER BY clause */

/* Must stay identical to the WHERE of the index bodies_sort_missing
 * (schema/store/005_sort_prune.sql) so that the backfill uses it. */
#define SORT_KEYS_MISSING                                                                          \
    "sort_subject IS NULL OR sort_from IS NULL OR sort_to IS NULL OR sort_cc IS NULL OR "          \
    "display_from IS NULL OR display_to IS NULL"

typedef struct {
    const char *expr;   /* what ORDER BY compares */
    const char *column; /* the key column it needs (NULL: always present) */
} sort_def;

/* Indexed by store_sort_kind. DATE: RFC 5256 2.2, the internal date when
 * the Date: header is missing or unparseable (sent_date NULL). */
static const sort_def sort_defs[] = {
    [STORE_SORT_ARRIVAL] = {"m.internal_date", NULL},
    [STORE_SORT_CC] = {"b.sort_cc COLLATE OM_CASEMAP", "b.sort_cc"},
    [STORE_SORT_DATE] = {"coalesce(b.sent_date, m.internal_date)", NULL},
    [STORE_SORT_FROM] = {"b.sort_from COLLATE OM_CASEMAP", "b.sort_from"},
    [STORE_SORT_SIZE] = {"m.size", NULL},
    [STORE_SORT_SUBJECT] = {"b.sort_subject COLLATE OM_CASEMAP", "b.sort_subject"},
    [STORE_SORT_TO] = {"b.sort_to COLLATE OM_CASEMAP", "b.sort_to"},
    [STORE_SORT_DISPLAYFROM] = {"b.display_from COLLATE OM_CASEMAP", "b.display_from"},
    [STORE_SORT_DISPLAYTO] = {"b.display_to COLLATE OM_CASEMAP", "b.display_to"},
};

/* "SELECT m.uid, <a needed key is missing> FROM ..." and " ORDER BY ...". */
static int sort_sql(const store_sort_key *keys, size_t nkeys, buf *head, buf *tail)
{
    buf_append_str(head, "SELECT m.uid, (0");
    buf_append_str(tail, " ORDER BY ");
    for (size_t i = 0; i < nkeys; i++) {
        if ((unsigned)keys[i].kind >= sizeof(sort_defs) / sizeof(sort_defs[0]))
            return STORE_ERR_INVALID;
        const sort_def *d = &sort_defs[keys[i].kind];
        if (d->column != NULL)
            buf_printf(head, " OR %s IS NULL", d->column);
        buf_printf(tail, "%s%s, ", d->expr, keys[i].reverse ? " DESC" : "");
    }
    buf_append_str(head, ") FROM messages m JOIN bodies b ON b.id = m.body_id");
    buf_append_str(tail, "m.uid");
    return head->failed || tail->failed ? STORE_ERR_NOMEM : STORE_OK;
}

int store_sort_uids(sqlite3 *db, int64_t mailbox_id, const store_sort_key *keys, size_t nkeys,
                    const store_search *filter, store_uids *uids_r)
{
    memset(uids_r, 0, sizeof(*uids_r));
    if (keys == NULL || nkeys == 0 || nkeys > STORE_SORT_KEYS_MAX)
        return STORE_ERR_INVALID;
    buf head, tail;
    buf_init(&head, SORT_SQL_MAX);
    buf_init(&tail, SORT_SQL_MAX);
    sqlite3_stmt *st = NULL;
    int rc = sort_sql(keys, nkeys, &head, &tail);
    if (rc == STORE_OK)
        rc = store_search_prepare(db, mailbox_id, head.data, filter, tail.data, &st);
    int src = SQLITE_DONE;
    while (rc == STORE_OK && (src = sqlite3_step(st)) == SQLITE_ROW) {
        if (sqlite3_column_int(st, 1) != 0)
            rc = STORE_ERR_SORT_KEYS;
        else
            rc = store_uids_push(uids_r, (uint32_t)sqlite3_column_int64(st, 0));
    }
    if (rc == STORE_OK && src != SQLITE_DONE)
        rc = store_rc_sqlite(src);
    sqlite3_finalize(st);
    buf_free(&head);
    buf_free(&tail);
    if (rc != STORE_OK)
        store_uids_free(uids_r);
    return rc;
}

/* ---- Backfill ------------------------------------------------------------------ */

typedef struct {
    int64_t body_id;
    char *header;
    size_t len;
} sort_pending;

/* The first min(header_len, STORE_SORT_HEADER_MAX) bytes of a body. */
static int sort_read_header(sqlite3 *db, int64_t body_id, int64_t header_len, sort_pending *p)
{
    sqlite3_blob *blob = NULL;
    int src = sqlite3_blob_open(db, "main", "body_raw", "raw", body_id, 0, &blob);
    size_t n = 0;
    if (src == SQLITE_OK) {
        n = (size_t)sqlite3_blob_bytes(blob);
        if (header_len >= 0 && (uint64_t)header_len < n)
            n = (size_t)header_len;
        if (n > STORE_SORT_HEADER_MAX)
            n = STORE_SORT_HEADER_MAX;
        p->header = malloc(n + 1);
        if (p->header == NULL)
            src = SQLITE_NOMEM;
        else if ((src = sqlite3_blob_read(blob, p->header, (int)n, 0)) == SQLITE_OK)
            p->header[n] = '\0';
    }
    sqlite3_blob_close(blob);
    p->body_id = body_id;
    p->len = n;
    return store_rc_sqlite(src);
}

static int sort_collect(sqlite3 *db, size_t batch, sort_pending *v, size_t *n_r)
{
    sqlite3_stmt *st = store_prepare(
        db, "SELECT id, header_len FROM bodies WHERE " SORT_KEYS_MISSING " ORDER BY id LIMIT ?");
    if (st == NULL)
        return STORE_ERR_DB;
    sqlite3_bind_int64(st, 1, (int64_t)batch);
    size_t n = 0, bytes = 0;
    int rc = STORE_OK, src = SQLITE_DONE;
    while (rc == STORE_OK && bytes < STORE_SORT_BACKFILL_BYTES &&
           (src = sqlite3_step(st)) == SQLITE_ROW) {
        rc = sort_read_header(db, sqlite3_column_int64(st, 0), sqlite3_column_int64(st, 1), &v[n]);
        if (rc == STORE_OK)
            bytes += v[n++].len;
        else
            free(v[n].header);
    }
    if (rc == STORE_OK && src != SQLITE_DONE && src != SQLITE_ROW)
        rc = store_rc_sqlite(src);
    sqlite3_finalize(st);
    *n_r = n;
    return rc;
}

int store_sort_backfill_next(sqlite3 *db, size_t batch, store_sort_backfill_cb cb, void *ctx,
                             size_t *n_r)
{
    *n_r = 0;
    if (cb == NULL || batch == 0 || batch > STORE_SORT_BACKFILL_BATCH_MAX)
        return STORE_ERR_INVALID;
    sort_pending *v = calloc(batch, sizeof(*v));
    if (v == NULL)
        return STORE_ERR_NOMEM;
    size_t n = 0;
    int rc = sort_collect(db, batch, v, &n);
    for (size_t i = 0; rc == STORE_OK && i < n; i++)
        rc = cb(ctx, v[i].body_id, v[i].header, v[i].len);
    for (size_t i = 0; i < n; i++)
        free(v[i].header);
    free(v);
    if (rc == STORE_OK)
        *n_r = n;
    return rc;
}

int store_sort_keys_set(sqlite3 *db, int64_t body_id, const store_msg_meta *meta)
{
    if (meta == NULL)
        return STORE_ERR_INVALID;
    const char *const keys[] = {meta->sort_subject, meta->sort_from,    meta->sort_to,
                                meta->sort_cc,      meta->display_from, meta->display_to};
    for (size_t i = 0; i < 6; i++)
        if (keys[i] != NULL && strnlen(keys[i], STORE_META_MAX + 1) > STORE_META_MAX)
            return STORE_ERR_LIMIT;
    store_tx tx;
    int rc = store_tx_begin(db, &tx);
    if (rc != STORE_OK)
        return rc;
    sqlite3_stmt *st =
        store_prepare(db, "UPDATE bodies SET sort_subject = ?, sort_from = ?, sort_to = ?, "
                          "sort_cc = ?, display_from = ?, display_to = ? WHERE id = ?");
    if (st != NULL) {
        for (int i = 0; i < 6; i++)
            sqlite3_bind_text(st, i + 1, keys[i] != NULL ? keys[i] : "", -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 7, body_id);
    }
    rc = store_step_done(st);
    if (rc == STORE_OK && sqlite3_changes64(db) == 0)
        rc = STORE_ERR_NOTFOUND;
    return store_tx_end(db, &tx, rc);
}
