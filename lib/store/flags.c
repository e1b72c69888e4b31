/* lib/store: flags and keywords (RFC 9051 2.3.2, 6.4.6), MODSEQ and
 * UNCHANGEDSINCE (RFC 7162 3.1.3). */
#include "store_int.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Longest stored keyword list: every keyword plus its separator. */
#define FLAGS_LIST_MAX (STORE_KEYWORDS_MAX * (STORE_KEYWORD_MAX + 1))

int store_keyword_valid(const char *kw)
{
    size_t n = kw ? strnlen(kw, STORE_KEYWORD_MAX + 1) : 0;
    if (n == 0 || n > STORE_KEYWORD_MAX)
        return 0;
    /* atom (RFC 9051 9): no atom-specials; a leading '\' is a system flag. */
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)kw[i];
        if (c <= 0x20 || c >= 0x7f || strchr("(){%*\"\\]", c) != NULL)
            return 0;
    }
    return 1;
}

/* 1 when the space-separated list holds kw (len bytes), case-insensitively. */
static int flags_list_has(const char *list, const char *kw, size_t len)
{
    for (const char *p = list; *p != '\0';) {
        size_t n = strcspn(p, " ");
        if (n == len && strncasecmp(p, kw, len) == 0)
            return 1;
        p += n;
        p += *p == ' ';
    }
    return 0;
}

/* Appends kw to the list in out (cap bytes) unless it is there already. */
static int flags_list_add(char *out, size_t cap, size_t *count, const char *kw, size_t len)
{
    if (flags_list_has(out, kw, len))
        return STORE_OK;
    size_t used = strlen(out);
    if (*count >= STORE_KEYWORDS_MAX || used + len + 2 > cap)
        return STORE_ERR_LIMIT;
    if (used > 0)
        out[used++] = ' ';
    memcpy(out + used, kw, len);
    out[used + len] = '\0';
    (*count)++;
    return STORE_OK;
}

int store_keywords_join(const char *const *keywords, char **list_r)
{
    char *out = calloc(1, FLAGS_LIST_MAX + 1);
    if (out == NULL)
        return STORE_ERR_NOMEM;
    size_t count = 0;
    int rc = STORE_OK;
    for (size_t i = 0; rc == STORE_OK && keywords != NULL && keywords[i] != NULL; i++) {
        if (!store_keyword_valid(keywords[i]))
            rc = STORE_ERR_INVALID;
        else
            rc = flags_list_add(out, FLAGS_LIST_MAX + 1, &count, keywords[i], strlen(keywords[i]));
    }
    if (rc != STORE_OK) {
        free(out);
        return rc;
    }
    *list_r = out;
    return STORE_OK;
}

/* The new keyword list of a message: cur changed by op with the given list. */
static int flags_apply_keywords(store_flag_op op, const char *cur, const char *given, char *out)
{
    size_t count = 0;
    int rc = STORE_OK;
    out[0] = '\0';
    const char *base = op == STORE_FLAGS_REPLACE ? given : cur;
    for (const char *p = base; rc == STORE_OK && *p != '\0';) {
        size_t n = strcspn(p, " ");
        if (op != STORE_FLAGS_REMOVE || !flags_list_has(given, p, n))
            rc = flags_list_add(out, FLAGS_LIST_MAX + 1, &count, p, n);
        p += n;
        p += *p == ' ';
    }
    for (const char *p = given; rc == STORE_OK && op == STORE_FLAGS_ADD && *p != '\0';) {
        size_t n = strcspn(p, " ");
        rc = flags_list_add(out, FLAGS_LIST_MAX + 1, &count, p, n);
        p += n;
        p += *p == ' ';
    }
    return rc;
}

static unsigned flags_apply(store_flag_op op, unsigned cur, unsigned given)
{
    switch (op) {
    case STORE_FLAGS_ADD:
        return cur | given;
    case STORE_FLAGS_REMOVE:
        return cur & ~given;
    default:
        return given;
    }
}

/* ---- Store -------------------------------------------------------------------- */

typedef struct {
    store_flag_op op;
    unsigned flags;
    const char *keywords; /* joined list */
    uint64_t unchangedsince;
    char *newkw; /* FLAGS_LIST_MAX + 1 bytes of scratch */
} flags_req;

static int flags_update(sqlite3 *db, int64_t mailbox_id, uint32_t uid, unsigned flags,
                        const char *kw, uint64_t modseq)
{
    sqlite3_stmt *st = store_prepare(db, "UPDATE messages SET flags = ?, keywords = ?, modseq = ? "
                                         "WHERE mailbox_id = ? AND uid = ?");
    if (st == NULL)
        return STORE_ERR_DB;
    sqlite3_bind_int(st, 1, (int)flags);
    sqlite3_bind_text(st, 2, kw, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, (int64_t)modseq);
    sqlite3_bind_int64(st, 4, mailbox_id);
    sqlite3_bind_int64(st, 5, uid);
    return store_step_done(st);
}

/* Applies the request to one message (its current state given). */
static int flags_one(sqlite3 *db, int64_t mailbox_id, flags_req *q, uint32_t uid, uint64_t modseq,
                     unsigned cur, const char *curkw, store_flags_result *res)
{
    /* RFC 7162 3.1.3: changed since the client's view: refuse this one. */
    if (q->unchangedsince != 0 && modseq > q->unchangedsince)
        return store_uids_push(&res->modified, uid);
    unsigned nf = flags_apply(q->op, cur, q->flags);
    int rc = flags_apply_keywords(q->op, curkw, q->keywords, q->newkw);
    if (rc != STORE_OK || (nf == cur && strcmp(q->newkw, curkw) == 0))
        return rc; /* nothing changes: the MODSEQ stays */
    if (res->modseq == 0 && (rc = store_modseq_next(db, &res->modseq)) != STORE_OK)
        return rc;
    rc = flags_update(db, mailbox_id, uid, nf, q->newkw, res->modseq);
    return rc == STORE_OK ? store_uids_push(&res->changed, uid) : rc;
}

/* The messages of one range, read fully before any is updated. */
typedef struct {
    uint32_t uid;
    uint64_t modseq;
    unsigned flags;
    char *kw;
} flags_row;

static int flags_range(sqlite3 *db, sqlite3_stmt *st, int64_t mailbox_id, const store_range *r,
                       flags_req *q, store_flags_result *res)
{
    flags_row *rows = NULL;
    size_t n = 0, cap = 0;
    int rc = STORE_OK, src = SQLITE_DONE;
    sqlite3_bind_int64(st, 1, mailbox_id);
    sqlite3_bind_int64(st, 2, r->first);
    sqlite3_bind_int64(st, 3, r->last);
    while (rc == STORE_OK && (src = sqlite3_step(st)) == SQLITE_ROW) {
        if (n == cap) {
            cap = cap ? cap * 2 : 64;
            flags_row *p = realloc(rows, cap * sizeof(*p));
            if (p == NULL) {
                rc = STORE_ERR_NOMEM;
                break;
            }
            rows = p;
        }
        const unsigned char *kw = sqlite3_column_text(st, 3);
        rows[n] = (flags_row){
            (uint32_t)sqlite3_column_int64(st, 0), (uint64_t)sqlite3_column_int64(st, 1),
            (unsigned)sqlite3_column_int(st, 2), strdup(kw ? (const char *)kw : "")};
        if (rows[n++].kw == NULL)
            rc = STORE_ERR_NOMEM;
    }
    if (rc == STORE_OK && src != SQLITE_DONE)
        rc = store_rc_sqlite(src);
    sqlite3_reset(st);
    for (size_t i = 0; rc == STORE_OK && i < n; i++)
        rc = flags_one(db, mailbox_id, q, rows[i].uid, rows[i].modseq, rows[i].flags, rows[i].kw,
                       res);
    for (size_t i = 0; i < n; i++)
        free(rows[i].kw);
    free(rows);
    return rc;
}

static int flags_tx(sqlite3 *db, int64_t mailbox_id, const store_range *r, size_t nr, flags_req *q,
                    store_flags_result *res)
{
    int rc = store_mailbox_check_id(db, mailbox_id);
    if (rc != STORE_OK)
        return rc;
    sqlite3_stmt *st =
        store_prepare(db, "SELECT uid, modseq, flags, keywords FROM messages "
                          "WHERE mailbox_id = ? AND uid BETWEEN ? AND ? ORDER BY uid");
    if (st == NULL)
        return STORE_ERR_DB;
    for (size_t i = 0; rc == STORE_OK && i < nr; i++)
        rc = flags_range(db, st, mailbox_id, &r[i], q, res);
    sqlite3_finalize(st);
    if (rc == STORE_OK && res->modseq != 0 && q->op != STORE_FLAGS_REMOVE)
        rc = store_keywords_register(db, mailbox_id, q->keywords);
    if (rc == STORE_OK && res->modseq != 0)
        rc = store_mailbox_touch(db, mailbox_id, res->modseq);
    return rc;
}

void store_flags_result_free(store_flags_result *res)
{
    if (res == NULL)
        return;
    store_uids_free(&res->changed);
    store_uids_free(&res->modified);
    res->modseq = 0;
}

int store_set_flags(sqlite3 *db, int64_t mailbox_id, const store_uidset *set, store_flag_op op,
                    unsigned flags, const char *const *keywords, uint64_t unchangedsince,
                    store_flags_result *res_r)
{
    memset(res_r, 0, sizeof(*res_r));
    if ((flags & ~STORE_FLAG_ALL) || op < STORE_FLAGS_ADD || op > STORE_FLAGS_REPLACE ||
        unchangedsince > INT64_MAX)
        return STORE_ERR_INVALID;
    flags_req q = {.op = op, .flags = flags, .unchangedsince = unchangedsince};
    char *kw = NULL;
    store_range *r = NULL;
    size_t nr = 0;
    int rc = store_keywords_join(keywords, &kw);
    if (rc == STORE_OK)
        rc = store_uidset_merge(set, &r, &nr);
    if (rc == STORE_OK && (q.newkw = malloc(FLAGS_LIST_MAX + 1)) == NULL)
        rc = STORE_ERR_NOMEM;
    q.keywords = kw;
    store_tx tx;
    if (rc == STORE_OK && nr > 0 && (rc = store_tx_begin(db, &tx)) == STORE_OK)
        rc = store_tx_end(db, &tx, flags_tx(db, mailbox_id, r, nr, &q, res_r));
    free(q.newkw);
    free(r);
    free(kw);
    if (rc != STORE_OK)
        store_flags_result_free(res_r);
    return rc;
}
