/* lib/mailbox: the spool drain, exactly once.
 *
 * Why exactly once holds:
 * - a spool file is removed only after the transaction that recorded its
 *   id as a delivery (and appended it) committed: a crash before the commit
 *   loses the transaction, not the file; a crash after it leaves the file
 *   and a record, and the next drain finds the record and only removes it;
 * - the record and the append are one transaction under the store's write
 *   lock (BEGIN IMMEDIATE): of two drainers the second sees the first's
 *   record (STORE_ERR_EXISTS) and appends nothing.
 */
#include "mailbox.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "spool.h"

typedef enum {
    ENT_READY,       /* opened, normalised, metadata computed */
    ENT_GONE,        /* the file vanished: another drainer removed it */
    ENT_FAILED,      /* stays in the spool (does not open, too big, over quota) */
    ENT_MOVED,       /* appended in this transaction */
    ENT_DONE_BEFORE, /* its delivery was recorded before: only remove the file */
} ent_state;

typedef struct {
    const char *id;
    buf raw; /* plaintext: a secret buffer */
    store_msg_meta meta;
    ent_state state;
} drain_ent;

typedef struct {
    mailbox *m;
    const char *dir;
    const mailbox_drain_options *o;
    size_t appended, moved, removed;
    mailbox_result first; /* first per-message error: MAILBOX_OK when none */
} drain_ctx;

static void drain_note(drain_ctx *c, mailbox_result r, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void drain_note(drain_ctx *c, mailbox_result r, const char *fmt, ...)
{
    char msg[MAILBOX_ERR_LEN];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    log_warn(NULL, "drain of store %s: %s", mailbox_store_id(c->m), msg);
    if (c->first != MAILBOX_OK)
        return;
    c->first = r;
    if (c->o->err != NULL && c->o->errlen > 0)
        snprintf(c->o->err, c->o->errlen, "%s", msg);
}

static void drain_hook(drain_ctx *c, mailbox_drain_point at, size_t n)
{
    if (c->o->hook != NULL)
        c->o->hook(c->o->hook_ctx, at, n);
}

/* When the message was spooled: the id starts with 16 hex digits of
 * microseconds since the epoch (spool.h: "ids start with the time").
 * 0 (the store then uses now) when that does not look like a time. */
static int64_t drain_spooled_at(const char *id)
{
    char hex[17];
    memcpy(hex, id, 16);
    hex[16] = '\0';
    char *end = NULL;
    unsigned long long us = strtoull(hex, &end, 16);
    int64_t secs = (int64_t)(us / 1000000u);
    int64_t now = (int64_t)time(NULL);
    return end == hex + 16 && secs > 0 && secs <= now + 86400 ? secs : 0;
}

static bool drain_has_bare_lf(const char *s, size_t len)
{
    for (const char *p = s; (p = memchr(p, '\n', len - (size_t)(p - s))) != NULL; p++)
        if (p == s || p[-1] != '\r')
            return true;
    return false;
}

/* Opens one spooled message and computes what the append needs. Only out
 * of memory for the metadata stops the drain (returned). */
static mailbox_result drain_load(drain_ctx *c, drain_ent *e)
{
    buf spooled;
    buf_init_secret(&spooled, MAILBOX_MSG_MAX);
    buf_init_secret(&e->raw, STORE_MSG_MAX);
    errno = 0;
    spool_result r = spool_open(c->dir, mailbox_store_id(c->m), e->id, mailbox_pk(c->m),
                                mailbox_sk(c->m), &spooled);
    if (r == SPOOL_ERR_IO && errno == ENOENT) {
        e->state = ENT_GONE;
    } else if (r != SPOOL_OK) {
        e->state = ENT_FAILED;
        drain_note(c, MAILBOX_ERR_SPOOL, "spool message %s: %s", e->id, spool_strerror(r));
    } else if (!drain_has_bare_lf(spooled.data ? spooled.data : "", spooled.len)) {
        e->raw = spooled; /* already CRLF: keep it as is */
        buf_init_secret(&spooled, MAILBOX_MSG_MAX);
        e->state = ENT_READY;
    } else if (mailbox_normalize_crlf(spooled.data, spooled.len, &e->raw) < 0) {
        e->state = ENT_FAILED;
        drain_note(c, MAILBOX_ERR_SPOOL, "spool message %s: too big once CRLF-normalised", e->id);
    } else {
        e->state = ENT_READY;
    }
    buf_free(&spooled);
    if (e->state != ENT_READY)
        return MAILBOX_OK;
    mailbox_result res =
        mailbox_meta_from_mime(e->raw.data ? e->raw.data : "", e->raw.len, &e->meta);
    if (res != MAILBOX_OK)
        drain_note(c, res, "spool message %s: no memory for its metadata", e->id);
    return res;
}

static void drain_ent_free(drain_ent *e)
{
    buf_free(&e->raw);
    mailbox_meta_free(&e->meta);
    memset(e, 0, sizeof(*e));
}

static int drain_exec(sqlite3 *db, const char *sql)
{
    return sqlite3_exec(db, sql, NULL, NULL, NULL) == SQLITE_OK ? STORE_OK : STORE_ERR_DB;
}

/* Records and appends one message inside the batch transaction, in a
 * savepoint so that a message refused (quota) leaves no record behind.
 * Returns STORE_OK, or an error that stops the drain. */
static int drain_one(drain_ctx *c, sqlite3 *db, drain_ent *e)
{
    int rc = drain_exec(db, "SAVEPOINT mailbox_drain");
    if (rc != STORE_OK)
        return rc;
    rc = store_delivery_record(db, e->id);
    if (rc == STORE_ERR_EXISTS) {
        e->state = ENT_DONE_BEFORE;
        return drain_exec(db, "RELEASE mailbox_drain");
    }
    if (rc == STORE_OK)
        rc = store_append(db, "INBOX", e->raw.data ? e->raw.data : "", e->raw.len,
                          drain_spooled_at(e->id), 0, NULL, &e->meta, NULL, NULL);
    if (rc == STORE_OK) {
        e->state = ENT_MOVED;
        rc = drain_exec(db, "RELEASE mailbox_drain");
        if (rc == STORE_OK)
            drain_hook(c, MAILBOX_DRAIN_APPENDED, ++c->appended);
        return rc;
    }
    drain_exec(db, "ROLLBACK TO mailbox_drain");
    drain_exec(db, "RELEASE mailbox_drain");
    if (rc != STORE_ERR_QUOTA && rc != STORE_ERR_LIMIT && rc != STORE_ERR_INVALID)
        return rc;
    e->state = ENT_FAILED;
    drain_note(c, rc == STORE_ERR_QUOTA ? MAILBOX_ERR_QUOTA : MAILBOX_ERR_SPOOL,
               "spool message %s: %s: left in the spool", e->id, store_strerror(rc));
    return STORE_OK;
}

/* One transaction for the batch's ready messages. */
static mailbox_result drain_store(drain_ctx *c, drain_ent *ents, size_t n)
{
    sqlite3 *db = mailbox_db(c->m);
    size_t ready = 0;
    for (size_t i = 0; i < n; i++)
        ready += ents[i].state == ENT_READY;
    if (ready == 0)
        return MAILBOX_OK;
    int rc = store_begin(db);
    for (size_t i = 0; i < n && rc == STORE_OK; i++)
        if (ents[i].state == ENT_READY)
            rc = drain_one(c, db, &ents[i]);
    if (rc == STORE_OK)
        rc = store_commit(db);
    if (rc != STORE_OK) {
        char what[MAILBOX_ERR_LEN];
        snprintf(what, sizeof(what), "%s (%s)", store_strerror(rc), sqlite3_errmsg(db));
        store_rollback(db);
        for (size_t i = 0; i < n; i++) /* nothing of this batch is stored: keep the files */
            if (ents[i].state == ENT_MOVED || ents[i].state == ENT_DONE_BEFORE)
                ents[i].state = ENT_FAILED;
        c->first = MAILBOX_OK; /* this error is the one to report */
        drain_note(c, rc == STORE_ERR_NOMEM ? MAILBOX_ERR_NOMEM : MAILBOX_ERR_STORE,
                   "store transaction failed: %s", what);
        return c->first;
    }
    for (size_t i = 0; i < n; i++)
        c->moved += ents[i].state == ENT_MOVED;
    drain_hook(c, MAILBOX_DRAIN_COMMITTED, c->moved);
    return MAILBOX_OK;
}

/* After the commit: the stored messages leave the spool. A file that
 * cannot be removed now is removed by the next drain (its record exists). */
static void drain_remove(drain_ctx *c, drain_ent *ents, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (ents[i].state != ENT_MOVED && ents[i].state != ENT_DONE_BEFORE)
            continue;
        spool_result r = spool_remove(c->dir, mailbox_store_id(c->m), ents[i].id);
        if (r != SPOOL_OK)
            drain_note(c, MAILBOX_ERR_IO, "removing spool message %s: %s", ents[i].id,
                       spool_strerror(r));
        else
            drain_hook(c, MAILBOX_DRAIN_REMOVED, ++c->removed);
    }
}

/* Loads, stores and removes ids[0..n) batch by batch. */
static mailbox_result drain_ids(drain_ctx *c, char (*ids)[SPOOL_ID_LEN + 1], size_t n, size_t batch)
{
    drain_ent *ents = calloc(batch, sizeof(*ents));
    if (ents == NULL)
        return MAILBOX_ERR_NOMEM;
    mailbox_result res = MAILBOX_OK;
    for (size_t i = 0; i < n && res == MAILBOX_OK;) {
        size_t k = 0, bytes = 0;
        while (i + k < n && k < batch && bytes < MAILBOX_DRAIN_BATCH_BYTES && res == MAILBOX_OK) {
            ents[k].id = ids[i + k];
            res = drain_load(c, &ents[k]);
            bytes += ents[k++].raw.len;
        }
        if (res == MAILBOX_OK)
            res = drain_store(c, ents, k);
        if (res == MAILBOX_OK)
            drain_remove(c, ents, k);
        for (size_t j = 0; j < k; j++)
            drain_ent_free(&ents[j]);
        i += k;
    }
    free(ents);
    return res;
}

mailbox_result mailbox_drain_with(mailbox *m, const char *spool_dir, const mailbox_drain_options *o,
                                  size_t *moved_r)
{
    static const mailbox_drain_options defaults;
    if (moved_r != NULL)
        *moved_r = 0;
    if (o == NULL)
        o = &defaults;
    if (o->err != NULL && o->errlen > 0)
        o->err[0] = '\0';
    if (m == NULL || spool_dir == NULL || o->batch > MAILBOX_DRAIN_BATCH_MAX)
        return MAILBOX_ERR_INVALID;
    size_t batch = o->batch ? o->batch : MAILBOX_DRAIN_BATCH_DEFAULT;
    drain_ctx c = {.m = m, .dir = spool_dir, .o = o, .first = MAILBOX_OK};
    char(*ids)[SPOOL_ID_LEN + 1] = NULL;
    size_t n = 0;
    spool_result sr = spool_list(spool_dir, mailbox_store_id(m), &ids, &n);
    if (sr != SPOOL_OK) {
        drain_note(&c, MAILBOX_ERR_IO, "listing the spool: %s", spool_strerror(sr));
        return c.first;
    }
    mailbox_result res = n > 0 ? drain_ids(&c, ids, n, batch) : MAILBOX_OK;
    free(ids);
    if (moved_r != NULL)
        *moved_r = c.moved;
    return res != MAILBOX_OK ? res : c.first;
}

mailbox_result mailbox_drain(mailbox *m, const char *spool_dir, size_t *moved_r)
{
    return mailbox_drain_with(m, spool_dir, NULL, moved_r);
}
