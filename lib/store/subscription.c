/* lib/store: subscriptions (RFC 9051 6.3.7, 6.3.8): names, not mailboxes. */
#include "store_int.h"

#include <stdlib.h>
#include <string.h>

static char *sub_strdup(const unsigned char *s)
{
    return strdup(s ? (const char *)s : "");
}

int store_subscribe_norm(sqlite3 *db, const char *norm)
{
    sqlite3_stmt *st = store_prepare(db, "INSERT OR IGNORE INTO subscriptions (name) VALUES (?)");
    if (st == NULL)
        return STORE_ERR_DB;
    sqlite3_bind_text(st, 1, norm, -1, SQLITE_STATIC);
    return store_step_done(st);
}

/* ---- Subscriptions ---------------------------------------------------------------- */

int store_subscribe(sqlite3 *db, const char *name)
{
    char norm[STORE_NAME_MAX + 1];
    int rc = store_name_normalize(name, norm);
    if (rc != STORE_OK)
        return rc;
    store_tx tx;
    if ((rc = store_tx_begin(db, &tx)) != STORE_OK)
        return rc;
    return store_tx_end(db, &tx, store_subscribe_norm(db, norm));
}

int store_unsubscribe(sqlite3 *db, const char *name)
{
    char norm[STORE_NAME_MAX + 1];
    int rc = store_name_normalize(name, norm);
    if (rc != STORE_OK)
        return rc;
    store_tx tx;
    if ((rc = store_tx_begin(db, &tx)) != STORE_OK)
        return rc;
    sqlite3_stmt *st = store_prepare(db, "DELETE FROM subscriptions WHERE name = ?");
    if (st != NULL)
        sqlite3_bind_text(st, 1, norm, -1, SQLITE_STATIC);
    return store_tx_end(db, &tx, store_step_done(st));
}

void store_names_free(char ***names, size_t n)
{
    if (names == NULL || *names == NULL)
        return;
    for (size_t i = 0; i < n; i++)
        free((*names)[i]);
    free(*names);
    *names = NULL;
}

int store_subscriptions(sqlite3 *db, char ***names_r, size_t *n_r)
{
    *names_r = NULL;
    *n_r = 0;
    sqlite3_stmt *st = store_prepare(db, "SELECT name FROM subscriptions ORDER BY name");
    if (st == NULL)
        return STORE_ERR_DB;
    char **names = NULL;
    size_t n = 0, cap = 0;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (n == cap) {
            cap = cap ? cap * 2 : 16;
            char **p = realloc(names, cap * sizeof(*p));
            if (p == NULL) {
                rc = SQLITE_NOMEM;
                break;
            }
            names = p;
        }
        if ((names[n] = sub_strdup(sqlite3_column_text(st, 0))) == NULL) {
            rc = SQLITE_NOMEM;
            break;
        }
        n++;
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) {
        store_names_free(&names, n);
        return store_rc_sqlite(rc);
    }
    *names_r = names;
    *n_r = n;
    return STORE_OK;
}
