/* lib/store: the rows THREAD works on (store_thread_build), read from a
 * mailbox through the search compiler. */
#include "store_int.h"
#include "store_sort.h"

#include "mime.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TR_SQL_MAX 1024

static int tr_dup(sqlite3_stmt *st, int col, const char **out)
{
    *out = NULL;
    if (sqlite3_column_type(st, col) == SQLITE_NULL)
        return STORE_OK;
    const char *s = (const char *)sqlite3_column_text(st, col);
    char *d = s != NULL ? strdup(s) : NULL;
    if (d == NULL)
        return STORE_ERR_NOMEM;
    *out = d;
    return STORE_OK;
}

/* One row from the statement: the header values, the base subject and
 * the reply flag of the decoded Subject (column 4), the sent date. */
static int tr_row(sqlite3_stmt *st, store_thread_row *r)
{
    memset(r, 0, sizeof(*r));
    r->uid = (uint32_t)sqlite3_column_int64(st, 0);
    r->date = sqlite3_column_int64(st, 5);
    int rc = tr_dup(st, 1, &r->message_id);
    if (rc == STORE_OK)
        rc = tr_dup(st, 2, &r->in_reply_to);
    if (rc == STORE_OK)
        rc = tr_dup(st, 3, &r->references);
    if (rc != STORE_OK)
        return rc;
    const char *subject = (const char *)sqlite3_column_text(st, 4);
    r->sort_subject = mime_subject_base_reply(subject != NULL ? subject : "", &r->reply);
    return r->sort_subject != NULL ? STORE_OK : STORE_ERR_NOMEM;
}

static void tr_row_free(store_thread_row *r)
{
    free((char *)r->message_id);
    free((char *)r->in_reply_to);
    free((char *)r->references);
    free((char *)r->sort_subject);
}

static int tr_push(store_thread_row **v, size_t *n, size_t *cap, sqlite3_stmt *st)
{
    if (*n == *cap) {
        size_t c = *cap ? *cap * 2 : 64;
        store_thread_row *p = realloc(*v, c * sizeof(*p));
        if (p == NULL)
            return STORE_ERR_NOMEM;
        *v = p;
        *cap = c;
    }
    int rc = tr_row(st, &(*v)[*n]);
    if (rc != STORE_OK) {
        tr_row_free(&(*v)[*n]);
        return rc;
    }
    (*n)++;
    return STORE_OK;
}

int store_thread_rows(sqlite3 *db, int64_t mailbox_id, const store_search *filter,
                      store_thread_row **rows_r, size_t *n_r)
{
    *rows_r = NULL;
    *n_r = 0;
    /* The limits are numbers of this file, not values from a caller. */
    char head[TR_SQL_MAX];
    snprintf(head, sizeof(head),
             "SELECT m.uid, substr(b.message_id, 1, %d), substr(b.in_reply_to, 1, %d), "
             "substr(b.hdr_references, -%d), substr(b.hdr_subject, 1, %d), "
             "coalesce(b.sent_date, m.internal_date) "
             "FROM messages m JOIN bodies b ON b.id = m.body_id",
             STORE_THREAD_FIELD_MAX, STORE_THREAD_FIELD_MAX, STORE_THREAD_REFS_TEXT,
             STORE_THREAD_SUBJECT_MAX);
    sqlite3_stmt *st = NULL;
    int rc = store_search_prepare(db, mailbox_id, head, filter, " ORDER BY m.uid", &st);
    store_thread_row *v = NULL;
    size_t n = 0, cap = 0;
    int src = SQLITE_DONE;
    while (rc == STORE_OK && (src = sqlite3_step(st)) == SQLITE_ROW)
        rc = tr_push(&v, &n, &cap, st);
    if (rc == STORE_OK && src != SQLITE_DONE)
        rc = store_rc_sqlite(src);
    sqlite3_finalize(st);
    if (rc != STORE_OK) {
        store_thread_rows_free(v, n);
        return rc;
    }
    *rows_r = v;
    *n_r = n;
    return STORE_OK;
}

void store_thread_rows_free(store_thread_row *rows, size_t n)
{
    if (rows == NULL)
        return;
    for (size_t i = 0; i < n; i++)
        tr_row_free(&rows[i]);
    free(rows);
}
