/* lib/store: exactly-once delivery records (spool drain). */
#include "store_int.h"

#include <string.h>
#include <time.h>

int store_delivery_record(sqlite3 *db, const char *key)
{
    size_t len = key ? strnlen(key, STORE_DELIVERY_KEY_MAX + 1) : 0;
    if (len == 0 || len > STORE_DELIVERY_KEY_MAX)
        return STORE_ERR_INVALID;
    store_tx tx;
    int rc = store_tx_begin(db, &tx);
    if (rc != STORE_OK)
        return rc;
    sqlite3_stmt *st = store_prepare(
        db, "INSERT INTO deliveries (key, created_at) VALUES (?, ?) ON CONFLICT DO NOTHING");
    if (st != NULL) {
        sqlite3_bind_text(st, 1, key, (int)len, SQLITE_STATIC);
        sqlite3_bind_int64(st, 2, (int64_t)time(NULL));
    }
    sqlite3_int64 before = sqlite3_total_changes64(db);
    rc = store_step_done(st);
    if (rc == STORE_OK && sqlite3_total_changes64(db) == before)
        rc = STORE_ERR_EXISTS;
    return store_tx_end(db, &tx, rc);
}

int store_delivery_prune_n(sqlite3 *db, int64_t older_than, uint64_t *n_r)
{
    *n_r = 0;
    store_tx tx;
    int rc = store_tx_begin(db, &tx);
    if (rc != STORE_OK)
        return rc;
    sqlite3_stmt *st = store_prepare(db, "DELETE FROM deliveries WHERE created_at < ?");
    if (st != NULL)
        sqlite3_bind_int64(st, 1, older_than);
    rc = store_step_done(st);
    if (rc == STORE_OK)
        *n_r = (uint64_t)sqlite3_changes64(db);
    return store_tx_end(db, &tx, rc);
}

int store_delivery_prune(sqlite3 *db, int64_t older_than)
{
    uint64_t n = 0;
    return store_delivery_prune_n(db, older_than, &n);
}
