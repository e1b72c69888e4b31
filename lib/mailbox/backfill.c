/* lib/mailbox: the SORT keys of bodies stored without them (store schema
 * version 5 added them), computed from their raw header. */
#include "mailbox.h"

#include <stdio.h>

#include "store_sort.h"

typedef struct {
    sqlite3 *db;
    size_t filled; /* in the batch being written */
    mailbox_result res;
} backfill_ctx;

/* store_sort_backfill_cb: the header through the same code as a delivery. */
static int backfill_one(void *ctx, int64_t body_id, const char *header, size_t len)
{
    backfill_ctx *c = ctx;
    store_msg_meta meta;
    if (mailbox_meta_from_mime(header, len, &meta) != MAILBOX_OK) {
        c->res = MAILBOX_ERR_NOMEM;
        return STORE_ERR_NOMEM;
    }
    int rc = store_sort_keys_set(c->db, body_id, &meta);
    mailbox_meta_free(&meta);
    if (rc == STORE_ERR_NOTFOUND) /* expunged since it was read: nothing to fill */
        rc = STORE_OK;
    if (rc == STORE_OK)
        c->filled++;
    return rc;
}

mailbox_result mailbox_sort_backfill(mailbox *m, size_t *filled_r, char *err, size_t errlen)
{
    sqlite3 *db = mailbox_db(m);
    backfill_ctx c = {.db = db, .res = MAILBOX_OK};
    size_t n = 0, total = 0;
    int rc = STORE_OK;
    do {
        c.filled = 0;
        if ((rc = store_begin(db)) != STORE_OK)
            break;
        rc = store_sort_backfill_next(db, MAILBOX_SORT_BACKFILL_BATCH, backfill_one, &c, &n);
        if (rc == STORE_OK)
            rc = store_commit(db);
        else
            store_rollback(db);
        if (rc == STORE_OK)
            total += c.filled;
    } while (rc == STORE_OK && n > 0);
    if (filled_r != NULL)
        *filled_r = total;
    if (rc == STORE_OK)
        return MAILBOX_OK;
    if (err != NULL && errlen > 0)
        snprintf(err, errlen, "computing the sort keys: %s (%s)", store_strerror(rc),
                 sqlite3_errmsg(db));
    if (c.res != MAILBOX_OK)
        return c.res;
    return rc == STORE_ERR_NOMEM ? MAILBOX_ERR_NOMEM : MAILBOX_ERR_STORE;
}
