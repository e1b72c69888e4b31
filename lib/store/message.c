/* lib/store: appending, fetching and listing messages. */
#include "store_int.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Bytes of the header including the empty line that ends it (CRLF or bare
 * LF); the whole message when there is no empty line. */
static size_t msg_header_len(const unsigned char *raw, size_t len)
{
    if (len >= 1 && raw[0] == '\n')
        return 1;
    if (len >= 2 && raw[0] == '\r' && raw[1] == '\n')
        return 2;
    for (size_t i = 0; i + 1 < len; i++) {
        if (raw[i] != '\n')
            continue;
        if (raw[i + 1] == '\n')
            return i + 2;
        if (i + 2 < len && raw[i + 1] == '\r' && raw[i + 2] == '\n')
            return i + 3;
    }
    return len;
}

static int msg_meta_valid(const store_msg_meta *m)
{
    if (m == NULL)
        return STORE_OK;
    const char *const s[] = {m->envelope,
                             m->bodystructure,
                             m->bodystructure_ext,
                             m->from,
                             m->to,
                             m->cc,
                             m->subject,
                             m->date,
                             m->message_id,
                             m->in_reply_to,
                             m->references,
                             m->preview,
                             m->index_text,
                             m->sort_subject,
                             m->sort_from,
                             m->sort_to,
                             m->sort_cc,
                             m->display_from,
                             m->display_to};
    for (size_t i = 0; i < sizeof(s) / sizeof(s[0]); i++)
        if (s[i] != NULL && strnlen(s[i], STORE_META_MAX + 1) > STORE_META_MAX)
            return STORE_ERR_LIMIT;
    return STORE_OK;
}

/* STORE_ERR_QUOTA when adding bytes would exceed the limit (RFC 9208 5.1). */
int store_quota_check(sqlite3 *db, uint64_t bytes)
{
    uint64_t used = 0, limit = 0;
    int rc = store_quota_get(db, &used, &limit);
    if (rc != STORE_OK)
        return rc;
    return limit != 0 && (bytes > limit || used > limit - bytes) ? STORE_ERR_QUOTA : STORE_OK;
}

static void msg_bind_text(sqlite3_stmt *st, int i, const char *s)
{
    if (s != NULL)
        sqlite3_bind_text(st, i, s, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(st, i);
}

static int msg_insert_body(sqlite3 *db, const void *raw, size_t len, const store_msg_meta *m,
                           int64_t *body_id_r)
{
    static const store_msg_meta none;
    if (m == NULL)
        m = &none;
    sqlite3_stmt *st = store_prepare(
        db, "INSERT INTO bodies (size, header_len, envelope, bodystructure, bodystructure_ext, "
            "hdr_from, hdr_to, hdr_cc, hdr_subject, hdr_date, sent_date, message_id, "
            "in_reply_to, hdr_references, preview, sort_subject, sort_from, sort_to, sort_cc, "
            "display_from, display_to) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
    if (st == NULL)
        return STORE_ERR_DB;
    sqlite3_bind_int64(st, 1, (int64_t)len);
    sqlite3_bind_int64(st, 2, (int64_t)msg_header_len(raw, len));
    const char *const s[] = {
        m->envelope, m->bodystructure, m->bodystructure_ext, m->from, m->to, m->cc,
        m->subject,  m->date};
    for (int i = 0; i < 8; i++)
        msg_bind_text(st, 3 + i, s[i]);
    if (m->sent_date != 0)
        sqlite3_bind_int64(st, 11, m->sent_date);
    msg_bind_text(st, 12, m->message_id);
    msg_bind_text(st, 13, m->in_reply_to);
    msg_bind_text(st, 14, m->references);
    msg_bind_text(st, 15, m->preview);
    const char *const keys[] = {m->sort_subject, m->sort_from,    m->sort_to,
                                m->sort_cc,      m->display_from, m->display_to};
    for (int i = 0; i < 6; i++)
        msg_bind_text(st, 16 + i, keys[i]);
    int rc = store_step_done(st);
    if (rc != STORE_OK)
        return rc;
    int64_t body_id = sqlite3_last_insert_rowid(db);
    st = store_prepare(db, "INSERT INTO body_raw (body_id, raw) VALUES (?, ?)");
    if (st == NULL)
        return STORE_ERR_DB;
    sqlite3_bind_int64(st, 1, body_id);
    sqlite3_bind_blob64(st, 2, len ? raw : "", len, SQLITE_STATIC);
    rc = store_step_done(st);
    if (rc == STORE_OK)
        *body_id_r = body_id;
    return rc;
}

/* Stores the body's index text; the trigger body_index_fts_insert
 * (schema/store/002_fts.sql) adds it and the header fields to body_fts. */
static int msg_insert_index(sqlite3 *db, int64_t body_id, const store_msg_meta *m)
{
    if (m == NULL || m->index_text == NULL)
        return STORE_OK;
    sqlite3_stmt *st = store_prepare(db, "INSERT INTO body_index (body_id, text) VALUES (?, ?)");
    if (st == NULL)
        return STORE_ERR_DB;
    sqlite3_bind_int64(st, 1, body_id);
    sqlite3_bind_text(st, 2, m->index_text, -1, SQLITE_STATIC);
    return store_step_done(st);
}

/* Inserts a message row (used by append and copy). */
int store_msg_insert(sqlite3 *db, int64_t mailbox_id, uint32_t uid, uint64_t modseq, unsigned flags,
                     const char *keywords, int64_t internal_date, uint64_t size, int64_t body_id)
{
    sqlite3_stmt *st = store_prepare(
        db, "INSERT INTO messages (mailbox_id, uid, modseq, flags, keywords, internal_date, "
            "size, body_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?)");
    if (st == NULL)
        return STORE_ERR_DB;
    sqlite3_bind_int64(st, 1, mailbox_id);
    sqlite3_bind_int64(st, 2, uid);
    sqlite3_bind_int64(st, 3, (int64_t)modseq);
    sqlite3_bind_int(st, 4, (int)flags);
    sqlite3_bind_text(st, 5, keywords, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 6, internal_date);
    sqlite3_bind_int64(st, 7, (int64_t)size);
    sqlite3_bind_int64(st, 8, body_id);
    return store_step_done(st);
}

static int msg_append_tx(sqlite3 *db, const char *mailbox, const void *raw, size_t len,
                         int64_t internal_date, unsigned flags, const char *kw,
                         const store_msg_meta *meta, uint32_t *uid_r, uint64_t *modseq_r)
{
    int64_t mbx = 0, body_id = 0;
    int rc = store_mailbox_lookup(db, mailbox, &mbx);
    if (rc == STORE_OK)
        rc = store_quota_check(db, len);
    if (rc == STORE_OK)
        rc = store_uid_next(db, mbx, uid_r);
    if (rc == STORE_OK)
        rc = store_modseq_next(db, modseq_r);
    if (rc == STORE_OK)
        rc = msg_insert_body(db, raw, len, meta, &body_id);
    if (rc == STORE_OK)
        rc = msg_insert_index(db, body_id, meta);
    if (rc == STORE_OK)
        rc = store_msg_insert(db, mbx, *uid_r, *modseq_r, flags, kw,
                              internal_date ? internal_date : (int64_t)time(NULL), len, body_id);
    if (rc == STORE_OK)
        rc = store_keywords_register(db, mbx, kw);
    if (rc == STORE_OK)
        rc = store_mailbox_touch(db, mbx, *modseq_r);
    return rc;
}

int store_append(sqlite3 *db, const char *mailbox, const void *raw, size_t len,
                 int64_t internal_date, unsigned flags, const char *const *keywords,
                 const store_msg_meta *meta, uint32_t *uid_r, uint64_t *modseq_r)
{
    if ((raw == NULL && len != 0) || (flags & ~STORE_FLAG_ALL))
        return STORE_ERR_INVALID;
    if (len > STORE_MSG_MAX)
        return STORE_ERR_LIMIT;
    int rc = msg_meta_valid(meta);
    char *kw = NULL;
    if (rc != STORE_OK || (rc = store_keywords_join(keywords, &kw)) != STORE_OK)
        return rc;
    uint32_t uid = 0;
    uint64_t modseq = 0;
    store_tx tx;
    if ((rc = store_tx_begin(db, &tx)) == STORE_OK)
        rc = store_tx_end(
            db, &tx,
            msg_append_tx(db, mailbox, raw, len, internal_date, flags, kw, meta, &uid, &modseq));
    free(kw);
    if (rc == STORE_OK && uid_r != NULL)
        *uid_r = uid;
    if (rc == STORE_OK && modseq_r != NULL)
        *modseq_r = modseq;
    return rc;
}

/* ---- Fetch ------------------------------------------------------------------ */

static int msg_dup(sqlite3_stmt *st, int col, char **out)
{
    *out = NULL;
    if (sqlite3_column_type(st, col) == SQLITE_NULL)
        return STORE_OK;
    const unsigned char *s = sqlite3_column_text(st, col);
    if (s == NULL || (*out = strdup((const char *)s)) == NULL)
        return STORE_ERR_NOMEM;
    return STORE_OK;
}

void store_msg_info_free(store_msg_info *info)
{
    if (info == NULL)
        return;
    char **s[] = {&info->keywords,
                  &info->envelope,
                  &info->bodystructure,
                  &info->bodystructure_ext,
                  &info->from,
                  &info->to,
                  &info->cc,
                  &info->subject,
                  &info->date,
                  &info->message_id,
                  &info->in_reply_to,
                  &info->references,
                  &info->preview};
    for (size_t i = 0; i < sizeof(s) / sizeof(s[0]); i++) {
        free(*s[i]);
        *s[i] = NULL;
    }
}

static int msg_info_from_row(sqlite3_stmt *st, store_msg_info *in)
{
    in->uid = (uint32_t)sqlite3_column_int64(st, 0);
    in->modseq = (uint64_t)sqlite3_column_int64(st, 1);
    in->flags = (unsigned)sqlite3_column_int(st, 2);
    in->internal_date = sqlite3_column_int64(st, 4);
    in->size = (uint64_t)sqlite3_column_int64(st, 5);
    in->header_len = (uint64_t)sqlite3_column_int64(st, 6);
    in->sent_date = sqlite3_column_int64(st, 7);
    char **s[] = {&in->keywords,
                  &in->envelope,
                  &in->bodystructure,
                  &in->bodystructure_ext,
                  &in->from,
                  &in->to,
                  &in->cc,
                  &in->subject,
                  &in->date,
                  &in->message_id,
                  &in->in_reply_to,
                  &in->references,
                  &in->preview};
    int rc = msg_dup(st, 3, s[0]);
    for (size_t i = 1; rc == STORE_OK && i < sizeof(s) / sizeof(s[0]); i++)
        rc = msg_dup(st, (int)(7 + i), s[i]);
    return rc;
}

int store_fetch_info(sqlite3 *db, int64_t mailbox_id, uint32_t uid, store_msg_info *info_r)
{
    memset(info_r, 0, sizeof(*info_r));
    sqlite3_stmt *st = store_prepare(
        db, "SELECT m.uid, m.modseq, m.flags, m.keywords, m.internal_date, m.size, "
            "b.header_len, b.sent_date, b.envelope, b.bodystructure, b.bodystructure_ext, "
            "b.hdr_from, b.hdr_to, b.hdr_cc, b.hdr_subject, b.hdr_date, b.message_id, "
            "b.in_reply_to, b.hdr_references, b.preview "
            "FROM messages m JOIN bodies b ON b.id = m.body_id "
            "WHERE m.mailbox_id = ? AND m.uid = ?");
    if (st == NULL)
        return STORE_ERR_DB;
    sqlite3_bind_int64(st, 1, mailbox_id);
    sqlite3_bind_int64(st, 2, uid);
    int rc = sqlite3_step(st);
    int ret = rc == SQLITE_ROW    ? msg_info_from_row(st, info_r)
              : rc == SQLITE_DONE ? STORE_ERR_NOTFOUND
                                  : store_rc_sqlite(rc);
    sqlite3_finalize(st);
    if (ret != STORE_OK)
        store_msg_info_free(info_r);
    return ret;
}

static int msg_body_of(sqlite3 *db, int64_t mailbox_id, uint32_t uid, int64_t *body_r,
                       uint64_t *size_r)
{
    sqlite3_stmt *st =
        store_prepare(db, "SELECT body_id, size FROM messages WHERE mailbox_id = ? AND uid = ?");
    if (st == NULL)
        return STORE_ERR_DB;
    sqlite3_bind_int64(st, 1, mailbox_id);
    sqlite3_bind_int64(st, 2, uid);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        *body_r = sqlite3_column_int64(st, 0);
        *size_r = (uint64_t)sqlite3_column_int64(st, 1);
    }
    sqlite3_finalize(st);
    return rc == SQLITE_ROW    ? STORE_OK
           : rc == SQLITE_DONE ? STORE_ERR_NOTFOUND
                               : store_rc_sqlite(rc);
}

int store_fetch_raw(sqlite3 *db, int64_t mailbox_id, uint32_t uid, uint64_t offset, uint64_t maxlen,
                    unsigned char **data_r, size_t *len_r)
{
    *data_r = NULL;
    *len_r = 0;
    int64_t body = 0;
    uint64_t size = 0;
    int rc = msg_body_of(db, mailbox_id, uid, &body, &size);
    if (rc != STORE_OK)
        return rc;
    uint64_t n = offset >= size ? 0 : size - offset;
    if (n > maxlen)
        n = maxlen;
    unsigned char *buf = malloc(n ? (size_t)n : 1);
    if (buf == NULL)
        return STORE_ERR_NOMEM;
    if (n > 0) {
        sqlite3_blob *blob = NULL;
        int src = sqlite3_blob_open(db, "main", "body_raw", "raw", body, 0, &blob);
        if (src == SQLITE_OK)
            src = sqlite3_blob_read(blob, buf, (int)n, (int)offset);
        sqlite3_blob_close(blob);
        if (src != SQLITE_OK) {
            free(buf);
            /* Expunged by another session between the two reads. */
            return src == SQLITE_ERROR ? STORE_ERR_NOTFOUND : store_rc_sqlite(src);
        }
    }
    *data_r = buf;
    *len_r = (size_t)n;
    return STORE_OK;
}

/* ---- Listing ------------------------------------------------------------------ */

int store_msg_foreach(sqlite3 *db, int64_t mailbox_id, uint64_t changedsince, store_msg_cb cb,
                      void *ctx)
{
    return store_msg_foreach_range(db, mailbox_id, changedsince, 1, UINT32_MAX, cb, ctx);
}

int store_msg_foreach_range(sqlite3 *db, int64_t mailbox_id, uint64_t changedsince, uint32_t first,
                            uint32_t last, store_msg_cb cb, void *ctx)
{
    int rc = store_mailbox_check_id(db, mailbox_id);
    if (rc != STORE_OK)
        return rc;
    sqlite3_stmt *st =
        store_prepare(db, "SELECT uid, modseq, flags, keywords, internal_date, size FROM messages "
                          "WHERE mailbox_id = ? AND uid BETWEEN ? AND ? AND modseq > ? "
                          "ORDER BY uid");
    if (st == NULL)
        return STORE_ERR_DB;
    sqlite3_bind_int64(st, 1, mailbox_id);
    sqlite3_bind_int64(st, 2, first);
    sqlite3_bind_int64(st, 3, last);
    sqlite3_bind_int64(st, 4, (int64_t)changedsince);
    int src = SQLITE_DONE;
    int ret = STORE_OK;
    while ((src = sqlite3_step(st)) == SQLITE_ROW) {
        store_msg_row row = {
            .uid = (uint32_t)sqlite3_column_int64(st, 0),
            .modseq = (uint64_t)sqlite3_column_int64(st, 1),
            .flags = (unsigned)sqlite3_column_int(st, 2),
            .keywords = (const char *)sqlite3_column_text(st, 3),
            .internal_date = sqlite3_column_int64(st, 4),
            .size = (uint64_t)sqlite3_column_int64(st, 5),
        };
        if (row.keywords == NULL)
            row.keywords = "";
        if ((ret = cb(ctx, &row)) != 0)
            break;
    }
    sqlite3_finalize(st);
    if (ret != 0)
        return ret;
    return src == SQLITE_DONE ? STORE_OK : store_rc_sqlite(src);
}
