/* lib/store: calendars and address books (CalDAV RFC 4791, CardDAV RFC 6352)
 * with the change log for sync-collection (RFC 6578). Schema:
 * schema/store/003_dav.sql. */
#include "dav_int.h"
#include "store_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* A fresh random tag (ETag, CTag) in SQL: 128 bits as 32 hex digits. */
#define DAV_NEW_TAG "lower(hex(randomblob(16)))"

static const char *dav_kind_name(store_dav_kind kind)
{
    return kind == STORE_DAV_CALENDAR      ? "calendar"
           : kind == STORE_DAV_ADDRESSBOOK ? "addressbook"
                                           : NULL;
}

/* ---- Validation ------------------------------------------------------------ */

/* A URL segment: collection name or href. */
static int dav_name_valid(const char *s)
{
    if (s == NULL)
        return 0;
    size_t n = strnlen(s, STORE_DAV_NAME_MAX + 1);
    if (n == 0 || n > STORE_DAV_NAME_MAX || strcmp(s, ".") == 0 || strcmp(s, "..") == 0)
        return 0;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f || s[i] == '/')
            return 0;
    return 1;
}

static int dav_text_valid(const char *s, size_t max)
{
    return s == NULL || strnlen(s, max + 1) <= max;
}

static int dav_calendar_component(const char *s, size_t n)
{
    static const char *const names[] = {"VEVENT", "VTODO", "VJOURNAL"};
    for (size_t i = 0; i < 3; i++)
        if (strlen(names[i]) == n && memcmp(names[i], s, n) == 0)
            return 1;
    return 0;
}

/* "VEVENT,VTODO": known calendar components, comma-separated. */
static int dav_components_valid(const char *s)
{
    if (s == NULL || *s == '\0')
        return 1;
    if (strnlen(s, STORE_DAV_COMPONENTS_MAX + 1) > STORE_DAV_COMPONENTS_MAX)
        return 0;
    for (const char *p = s;;) {
        const char *comma = strchr(p, ',');
        size_t n = comma ? (size_t)(comma - p) : strlen(p);
        if (!dav_calendar_component(p, n))
            return 0;
        if (comma == NULL)
            return 1;
        p = comma + 1;
    }
}

static int dav_props_valid(store_dav_kind kind, const store_dav_props *p)
{
    if (p == NULL)
        return STORE_OK;
    if (!dav_text_valid(p->display_name, STORE_DAV_PROP_MAX) ||
        !dav_text_valid(p->description, STORE_DAV_PROP_MAX) ||
        !dav_text_valid(p->color, STORE_DAV_PROP_MAX))
        return STORE_ERR_LIMIT;
    if (!dav_components_valid(p->components))
        return STORE_ERR_INVALID;
    if (kind == STORE_DAV_ADDRESSBOOK &&
        ((p->components && *p->components) || (p->color && *p->color)))
        return STORE_ERR_INVALID;
    return STORE_OK;
}

static int dav_meta_valid(store_dav_kind kind, const store_dav_meta *m)
{
    if (m == NULL || m->uid == NULL || *m->uid == '\0' || m->component == NULL)
        return STORE_ERR_INVALID;
    if (strnlen(m->uid, STORE_DAV_UID_MAX + 1) > STORE_DAV_UID_MAX)
        return STORE_ERR_LIMIT;
    int card = strcmp(m->component, "VCARD") == 0;
    if (kind == STORE_DAV_ADDRESSBOOK)
        return card && m->dtstart == STORE_DAV_TIME_NONE && m->dtend == STORE_DAV_TIME_NONE &&
                       !m->unbounded
                   ? STORE_OK
                   : STORE_ERR_INVALID;
    if (!dav_calendar_component(m->component, strlen(m->component)))
        return STORE_ERR_INVALID;
    /* A time range needs its start; an end before the start is a parser bug. */
    if (m->dtstart == STORE_DAV_TIME_NONE && (m->dtend != STORE_DAV_TIME_NONE || m->unbounded))
        return STORE_ERR_INVALID;
    if (m->dtend != STORE_DAV_TIME_NONE && m->dtend < m->dtstart)
        return STORE_ERR_INVALID;
    return STORE_OK;
}

/* ---- Small helpers ------------------------------------------------------------ */

static void dav_bind_text(sqlite3_stmt *st, int i, const char *s)
{
    if (s != NULL && *s != '\0')
        sqlite3_bind_text(st, i, s, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(st, i);
}

static void dav_bind_time(sqlite3_stmt *st, int i, int64_t t)
{
    if (t != STORE_DAV_TIME_NONE)
        sqlite3_bind_int64(st, i, t);
    else
        sqlite3_bind_null(st, i);
}

static int64_t dav_column_time(sqlite3_stmt *st, int col)
{
    return sqlite3_column_type(st, col) == SQLITE_NULL ? STORE_DAV_TIME_NONE
                                                       : sqlite3_column_int64(st, col);
}

static int dav_dup(sqlite3_stmt *st, int col, char **out)
{
    *out = NULL;
    if (sqlite3_column_type(st, col) == SQLITE_NULL)
        return STORE_OK;
    const unsigned char *s = sqlite3_column_text(st, col);
    if (s == NULL || (*out = strdup((const char *)s)) == NULL)
        return STORE_ERR_NOMEM;
    return STORE_OK;
}

static void dav_copy(char *dst, size_t size, sqlite3_stmt *st, int col)
{
    const unsigned char *s = sqlite3_column_text(st, col);
    size_t n = s ? strnlen((const char *)s, size - 1) : 0;
    memcpy(dst, s ? (const char *)s : "", n);
    dst[n] = '\0';
}

sqlite3_stmt *dav_prepare(sqlite3 *db, const char *sql, int64_t id, const char *href)
{
    sqlite3_stmt *st = store_prepare(db, sql);
    if (st != NULL) {
        sqlite3_bind_int64(st, 1, id);
        if (href != NULL)
            sqlite3_bind_text(st, 2, href, -1, SQLITE_STATIC);
    }
    return st;
}

int dav_step_row(sqlite3_stmt *st, int *found_r)
{
    int rc = sqlite3_step(st);
    *found_r = rc == SQLITE_ROW;
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? STORE_OK : store_rc_sqlite(rc);
}

/* ---- Collections ---------------------------------------------------------------- */

#define DAV_COLLECTION_COLS                                                                        \
    "SELECT id, kind, name, display_name, description, color, components, sync_revision, ctag, "   \
    "created_at, updated_at FROM dav_collections "

void store_dav_collection_free(store_dav_collection *c)
{
    if (c == NULL)
        return;
    free(c->display_name);
    free(c->description);
    free(c->color);
    free(c->components);
    c->display_name = c->description = c->color = c->components = NULL;
}

void store_dav_collections_free(store_dav_collection **list, size_t n)
{
    if (list == NULL || *list == NULL)
        return;
    for (size_t i = 0; i < n; i++)
        store_dav_collection_free(&(*list)[i]);
    free(*list);
    *list = NULL;
}

static int dav_collection_from_row(sqlite3_stmt *st, store_dav_collection *c)
{
    memset(c, 0, sizeof(*c));
    c->id = sqlite3_column_int64(st, 0);
    const unsigned char *kind = sqlite3_column_text(st, 1);
    c->kind = kind && strcmp((const char *)kind, "calendar") == 0 ? STORE_DAV_CALENDAR
                                                                  : STORE_DAV_ADDRESSBOOK;
    dav_copy(c->name, sizeof(c->name), st, 2);
    c->sync_token = (uint64_t)sqlite3_column_int64(st, 7);
    dav_copy(c->ctag, sizeof(c->ctag), st, 8);
    c->created_at = sqlite3_column_int64(st, 9);
    c->updated_at = sqlite3_column_int64(st, 10);
    int rc = dav_dup(st, 3, &c->display_name);
    if (rc == STORE_OK)
        rc = dav_dup(st, 4, &c->description);
    if (rc == STORE_OK)
        rc = dav_dup(st, 5, &c->color);
    if (rc == STORE_OK)
        rc = dav_dup(st, 6, &c->components);
    if (rc != STORE_OK)
        store_dav_collection_free(c);
    return rc;
}

/* Runs a collection query that returns at most one row (finalizes it). */
static int dav_collection_one(sqlite3_stmt *st, store_dav_collection *c_r)
{
    if (st == NULL)
        return STORE_ERR_DB;
    int found = 0;
    int rc = dav_step_row(st, &found);
    if (rc == STORE_OK)
        rc = found ? dav_collection_from_row(st, c_r) : STORE_ERR_NOMAILBOX;
    sqlite3_finalize(st);
    return rc;
}

int store_dav_collection_get(sqlite3 *db, store_dav_kind kind, const char *name,
                             store_dav_collection *c_r)
{
    memset(c_r, 0, sizeof(*c_r));
    if (dav_kind_name(kind) == NULL || !dav_name_valid(name))
        return STORE_ERR_INVALID;
    sqlite3_stmt *st = store_prepare(db, DAV_COLLECTION_COLS "WHERE kind = ? AND name = ?");
    if (st != NULL) {
        sqlite3_bind_text(st, 1, dav_kind_name(kind), -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
    }
    return dav_collection_one(st, c_r);
}

int store_dav_collection_get_by_id(sqlite3 *db, int64_t id, store_dav_collection *c_r)
{
    memset(c_r, 0, sizeof(*c_r));
    sqlite3_stmt *st = store_prepare(db, DAV_COLLECTION_COLS "WHERE id = ?");
    if (st != NULL)
        sqlite3_bind_int64(st, 1, id);
    return dav_collection_one(st, c_r);
}

int store_dav_collection_list(sqlite3 *db, store_dav_kind kind, store_dav_collection **list_r,
                              size_t *n_r)
{
    *list_r = NULL;
    *n_r = 0;
    if (dav_kind_name(kind) == NULL)
        return STORE_ERR_INVALID;
    sqlite3_stmt *st = store_prepare(db, DAV_COLLECTION_COLS "WHERE kind = ? ORDER BY name");
    if (st == NULL)
        return STORE_ERR_DB;
    sqlite3_bind_text(st, 1, dav_kind_name(kind), -1, SQLITE_STATIC);
    store_dav_collection *list = NULL;
    size_t n = 0, cap = 0;
    int src, rc = STORE_OK;
    while (rc == STORE_OK && (src = sqlite3_step(st)) == SQLITE_ROW) {
        if (n == cap) {
            size_t ncap = cap ? cap * 2 : 8;
            store_dav_collection *p = realloc(list, ncap * sizeof(*p));
            if (p == NULL) {
                rc = STORE_ERR_NOMEM;
                break;
            }
            list = p;
            cap = ncap;
        }
        if ((rc = dav_collection_from_row(st, &list[n])) == STORE_OK)
            n++;
    }
    if (rc == STORE_OK && src != SQLITE_DONE)
        rc = store_rc_sqlite(src);
    sqlite3_finalize(st);
    if (rc != STORE_OK) {
        store_dav_collections_free(&list, n);
        return rc;
    }
    *list_r = list;
    *n_r = n;
    return STORE_OK;
}

static int dav_collection_insert(sqlite3 *db, store_dav_kind kind, const char *name,
                                 const store_dav_props *p, int64_t *id_r)
{
    static const store_dav_props none;
    if (p == NULL)
        p = &none;
    uint64_t count = 0, rev = 0;
    sqlite3_stmt *st = store_prepare(db, "SELECT count(*), (SELECT 1 FROM dav_collections WHERE "
                                         "kind = ? AND name = ?) FROM dav_collections");
    if (st == NULL)
        return STORE_ERR_DB;
    sqlite3_bind_text(st, 1, dav_kind_name(kind), -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
    int found = 0, exists = 0;
    int rc = dav_step_row(st, &found);
    if (found) {
        count = (uint64_t)sqlite3_column_int64(st, 0);
        exists = sqlite3_column_type(st, 1) != SQLITE_NULL;
    }
    sqlite3_finalize(st);
    if (rc != STORE_OK)
        return rc;
    if (exists)
        return STORE_ERR_EXISTS;
    if (count >= STORE_DAV_COLLECTIONS_MAX)
        return STORE_ERR_LIMIT;
    if ((rc = store_modseq_next(db, &rev)) != STORE_OK)
        return rc;
    st = store_prepare(db, "INSERT INTO dav_collections (kind, name, display_name, description, "
                           "color, components, sync_revision, sync_min, ctag, created_at, "
                           "updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?7, " DAV_NEW_TAG
                           ", ?8, ?8)");
    if (st == NULL)
        return STORE_ERR_DB;
    sqlite3_bind_text(st, 1, dav_kind_name(kind), -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
    dav_bind_text(st, 3, p->display_name);
    dav_bind_text(st, 4, p->description);
    dav_bind_text(st, 5, p->color);
    sqlite3_bind_text(st, 6, p->components ? p->components : "", -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 7, (int64_t)rev);
    sqlite3_bind_int64(st, 8, (int64_t)time(NULL));
    rc = store_step_done(st);
    if (rc == STORE_OK)
        *id_r = sqlite3_last_insert_rowid(db);
    return rc;
}

int store_dav_collection_create(sqlite3 *db, store_dav_kind kind, const char *name,
                                const store_dav_props *props, int64_t *id_r)
{
    if (dav_kind_name(kind) == NULL || !dav_name_valid(name))
        return STORE_ERR_INVALID;
    int rc = dav_props_valid(kind, props);
    if (rc != STORE_OK)
        return rc;
    int64_t id = 0;
    store_tx tx;
    if ((rc = store_tx_begin(db, &tx)) == STORE_OK)
        rc = store_tx_end(db, &tx, dav_collection_insert(db, kind, name, props, &id));
    if (rc == STORE_OK && id_r != NULL)
        *id_r = id;
    return rc;
}

/* The kind of a collection; STORE_ERR_NOMAILBOX when it does not exist. */
static int dav_collection_kind(sqlite3 *db, int64_t id, store_dav_kind *kind_r)
{
    sqlite3_stmt *st = dav_prepare(db, "SELECT kind FROM dav_collections WHERE id = ?", id, NULL);
    if (st == NULL)
        return STORE_ERR_DB;
    int found = 0;
    int rc = dav_step_row(st, &found);
    if (rc == STORE_OK && !found)
        rc = STORE_ERR_NOMAILBOX;
    if (rc == STORE_OK)
        *kind_r = strcmp((const char *)sqlite3_column_text(st, 0), "calendar") == 0
                      ? STORE_DAV_CALENDAR
                      : STORE_DAV_ADDRESSBOOK;
    sqlite3_finalize(st);
    return rc;
}

static int dav_collection_set(sqlite3 *db, int64_t id, const store_dav_props *p)
{
    store_dav_kind kind;
    int rc = dav_collection_kind(db, id, &kind);
    if (rc == STORE_OK)
        rc = dav_props_valid(kind, p);
    if (rc != STORE_OK)
        return rc;
    /* ?2 ?4 ?6 ?8: whether to set the column; an "" value binds as NULL (unset). */
    sqlite3_stmt *st = dav_prepare(db,
                                   "UPDATE dav_collections SET "
                                   "display_name = CASE WHEN ?2 THEN ?3 ELSE display_name END, "
                                   "description = CASE WHEN ?4 THEN ?5 ELSE description END, "
                                   "color = CASE WHEN ?6 THEN ?7 ELSE color END, "
                                   "components = CASE WHEN ?8 THEN ?9 ELSE components END, "
                                   "ctag = " DAV_NEW_TAG ", updated_at = ?10 WHERE id = ?1",
                                   id, NULL);
    if (st == NULL)
        return STORE_ERR_DB;
    const char *v[] = {p->display_name, p->description, p->color};
    for (int i = 0; i < 3; i++) {
        sqlite3_bind_int(st, 2 + 2 * i, v[i] != NULL);
        dav_bind_text(st, 3 + 2 * i, v[i]);
    }
    sqlite3_bind_int(st, 8, p->components != NULL);
    sqlite3_bind_text(st, 9, p->components ? p->components : "", -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 10, (int64_t)time(NULL));
    return store_step_done(st);
}

int store_dav_collection_update(sqlite3 *db, int64_t id, const store_dav_props *props)
{
    if (props == NULL)
        return STORE_ERR_INVALID;
    store_tx tx;
    int rc = store_tx_begin(db, &tx);
    if (rc == STORE_OK)
        rc = store_tx_end(db, &tx, dav_collection_set(db, id, props));
    return rc;
}

static int dav_exec_id(sqlite3 *db, const char *sql, int64_t id)
{
    sqlite3_stmt *st = store_prepare(db, sql);
    if (st != NULL)
        sqlite3_bind_int64(st, 1, id);
    return store_step_done(st);
}

static int dav_collection_remove(sqlite3 *db, int64_t id)
{
    store_dav_kind kind;
    int rc = dav_collection_kind(db, id, &kind);
    /* Explicit, not only ON DELETE CASCADE: a connection may run with
     * foreign keys off. */
    if (rc == STORE_OK)
        rc = dav_exec_id(db, "DELETE FROM dav_objects WHERE collection_id = ?", id);
    if (rc == STORE_OK)
        rc = dav_exec_id(db, "DELETE FROM dav_changes WHERE collection_id = ?", id);
    if (rc == STORE_OK)
        rc = dav_exec_id(db, "DELETE FROM dav_collections WHERE id = ?", id);
    return rc;
}

int store_dav_collection_delete(sqlite3 *db, int64_t id)
{
    store_tx tx;
    int rc = store_tx_begin(db, &tx);
    if (rc == STORE_OK)
        rc = store_tx_end(db, &tx, dav_collection_remove(db, id));
    return rc;
}

/* ---- Writing objects ---------------------------------------------------------- */

/* Gives the collection a new sync revision and CTag (a member changes). */
static int dav_collection_touch(sqlite3 *db, int64_t id, uint64_t *rev_r)
{
    int rc = store_modseq_next(db, rev_r);
    if (rc != STORE_OK)
        return rc;
    sqlite3_stmt *st =
        store_prepare(db, "UPDATE dav_collections SET sync_revision = ?, ctag = " DAV_NEW_TAG
                          ", updated_at = ? WHERE id = ?");
    if (st == NULL)
        return STORE_ERR_DB;
    sqlite3_bind_int64(st, 1, (int64_t)*rev_r);
    sqlite3_bind_int64(st, 2, (int64_t)time(NULL));
    sqlite3_bind_int64(st, 3, id);
    return store_step_done(st);
}

static int dav_log_change(sqlite3 *db, int64_t id, const char *href, uint64_t rev, int deleted)
{
    sqlite3_stmt *st = dav_prepare(
        db,
        "INSERT INTO dav_changes (collection_id, href, revision, deleted, changed_at) "
        "VALUES (?, ?, ?, ?, ?) "
        "ON CONFLICT (collection_id, href) DO UPDATE SET revision = excluded.revision, "
        "deleted = excluded.deleted, changed_at = excluded.changed_at",
        id, href);
    if (st == NULL)
        return STORE_ERR_DB;
    sqlite3_bind_int64(st, 3, (int64_t)rev);
    sqlite3_bind_int(st, 4, deleted);
    sqlite3_bind_int64(st, 5, (int64_t)time(NULL));
    return store_step_done(st);
}

/* Checks cond against the object at href (RFC 9110 13.1.1, 13.1.2). */
static int dav_check_cond(sqlite3 *db, int64_t id, const char *href, const store_dav_cond *cond,
                          int *exists_r)
{
    sqlite3_stmt *st = dav_prepare(
        db, "SELECT etag FROM dav_objects WHERE collection_id = ? AND href = ?", id, href);
    if (st == NULL)
        return STORE_ERR_DB;
    int rc = dav_step_row(st, exists_r);
    if (rc == STORE_OK && cond != NULL) {
        const char *etag = *exists_r ? (const char *)sqlite3_column_text(st, 0) : NULL;
        if (cond->if_none_match && *exists_r)
            rc = STORE_ERR_PRECONDITION;
        else if (cond->if_match != NULL && (etag == NULL || (strcmp(cond->if_match, "*") != 0 &&
                                                             strcmp(cond->if_match, etag) != 0)))
            rc = STORE_ERR_PRECONDITION;
    }
    sqlite3_finalize(st);
    return rc;
}

/* STORE_ERR_EXISTS when another href of the collection has this UID. */
static int dav_check_uid(sqlite3 *db, int64_t id, const char *href, const char *uid)
{
    sqlite3_stmt *st = dav_prepare(
        db, "SELECT 1 FROM dav_objects WHERE collection_id = ? AND uid = ? AND href <> ?", id, uid);
    if (st == NULL)
        return STORE_ERR_DB;
    sqlite3_bind_text(st, 3, href, -1, SQLITE_STATIC);
    int found = 0;
    int rc = dav_step_row(st, &found);
    sqlite3_finalize(st);
    return rc == STORE_OK && found ? STORE_ERR_EXISTS : rc;
}

typedef struct {
    int64_t id;
    const char *href;
    const void *data;
    size_t len;
    const store_dav_meta *meta;
} dav_put_args;

static int dav_upsert(sqlite3 *db, const dav_put_args *a, uint64_t rev, char etag_r[])
{
    sqlite3_stmt *st = store_prepare(
        db, "INSERT INTO dav_objects (collection_id, href, etag, uid, component, dtstart, dtend, "
            "unbounded, revision, size, updated_at, data) VALUES (?1, ?2, " DAV_NEW_TAG
            ", ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11) "
            "ON CONFLICT (collection_id, href) DO UPDATE SET etag = " DAV_NEW_TAG ", "
            "uid = excluded.uid, component = excluded.component, dtstart = excluded.dtstart, "
            "dtend = excluded.dtend, unbounded = excluded.unbounded, "
            "revision = excluded.revision, size = excluded.size, "
            "updated_at = excluded.updated_at, data = excluded.data "
            "RETURNING etag");
    if (st == NULL)
        return STORE_ERR_DB;
    const store_dav_meta *m = a->meta;
    sqlite3_bind_int64(st, 1, a->id);
    sqlite3_bind_text(st, 2, a->href, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, m->uid, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, m->component, -1, SQLITE_STATIC);
    dav_bind_time(st, 5, m->dtstart);
    dav_bind_time(st, 6, m->unbounded ? STORE_DAV_TIME_NONE : m->dtend);
    sqlite3_bind_int(st, 7, m->unbounded ? 1 : 0);
    sqlite3_bind_int64(st, 8, (int64_t)rev);
    sqlite3_bind_int64(st, 9, (int64_t)a->len);
    sqlite3_bind_int64(st, 10, (int64_t)time(NULL));
    sqlite3_bind_blob64(st, 11, a->len ? a->data : "", a->len, SQLITE_STATIC);
    int found = 0;
    int rc = dav_step_row(st, &found);
    if (rc == STORE_OK && !found)
        rc = STORE_ERR_DB;
    if (rc == STORE_OK)
        dav_copy(etag_r, STORE_DAV_TAG_LEN + 1, st, 0);
    int frc = sqlite3_finalize(st);
    return rc == STORE_OK ? store_rc_sqlite(frc) : rc;
}

static int dav_put_tx(sqlite3 *db, const dav_put_args *a, const store_dav_cond *cond, char etag_r[],
                      int *created_r)
{
    store_dav_kind kind;
    uint64_t rev = 0;
    int exists = 0;
    int rc = dav_collection_kind(db, a->id, &kind);
    if (rc == STORE_OK)
        rc = dav_meta_valid(kind, a->meta);
    if (rc == STORE_OK)
        rc = dav_check_cond(db, a->id, a->href, cond, &exists);
    if (rc == STORE_OK)
        rc = dav_check_uid(db, a->id, a->href, a->meta->uid);
    if (rc == STORE_OK)
        rc = dav_collection_touch(db, a->id, &rev);
    if (rc == STORE_OK)
        rc = dav_upsert(db, a, rev, etag_r);
    if (rc == STORE_OK)
        rc = dav_log_change(db, a->id, a->href, rev, 0);
    *created_r = !exists;
    return rc;
}

int store_dav_put(sqlite3 *db, int64_t collection_id, const char *href, const void *data,
                  size_t len, const store_dav_meta *meta, const store_dav_cond *cond,
                  char etag_r[STORE_DAV_TAG_LEN + 1], int *created_r)
{
    if (!dav_name_valid(href) || meta == NULL || (data == NULL && len != 0))
        return STORE_ERR_INVALID;
    if (len > STORE_DAV_OBJECT_MAX)
        return STORE_ERR_LIMIT;
    dav_put_args a = {collection_id, href, data, len, meta};
    char etag[STORE_DAV_TAG_LEN + 1] = "";
    int created = 0;
    store_tx tx;
    int rc = store_tx_begin(db, &tx);
    if (rc == STORE_OK)
        rc = store_tx_end(db, &tx, dav_put_tx(db, &a, cond, etag, &created));
    if (rc == STORE_OK && etag_r != NULL)
        memcpy(etag_r, etag, sizeof(etag));
    if (rc == STORE_OK && created_r != NULL)
        *created_r = created;
    return rc;
}

static int dav_delete_tx(sqlite3 *db, int64_t id, const char *href, const store_dav_cond *cond)
{
    store_dav_kind kind;
    uint64_t rev = 0;
    int exists = 0;
    int rc = dav_collection_kind(db, id, &kind);
    if (rc == STORE_OK)
        rc = dav_check_cond(db, id, href, cond, &exists);
    if (rc == STORE_OK && !exists)
        rc = STORE_ERR_NOTFOUND;
    if (rc == STORE_OK)
        rc = dav_collection_touch(db, id, &rev);
    if (rc == STORE_OK) {
        sqlite3_stmt *st = dav_prepare(
            db, "DELETE FROM dav_objects WHERE collection_id = ? AND href = ?", id, href);
        rc = store_step_done(st);
    }
    if (rc == STORE_OK)
        rc = dav_log_change(db, id, href, rev, 1);
    return rc;
}

int store_dav_delete(sqlite3 *db, int64_t collection_id, const char *href,
                     const store_dav_cond *cond)
{
    if (!dav_name_valid(href))
        return STORE_ERR_INVALID;
    store_tx tx;
    int rc = store_tx_begin(db, &tx);
    if (rc == STORE_OK)
        rc = store_tx_end(db, &tx, dav_delete_tx(db, collection_id, href, cond));
    return rc;
}

/* ---- Reading objects ---------------------------------------------------------- */

#define DAV_ROW_COLS "SELECT href, uid, etag, component, dtstart, dtend, unbounded, revision, size "

static store_dav_row dav_row(sqlite3_stmt *st)
{
    store_dav_row r = {
        .href = (const char *)sqlite3_column_text(st, 0),
        .uid = (const char *)sqlite3_column_text(st, 1),
        .etag = (const char *)sqlite3_column_text(st, 2),
        .component = (const char *)sqlite3_column_text(st, 3),
        .dtstart = dav_column_time(st, 4),
        .dtend = dav_column_time(st, 5),
        .unbounded = sqlite3_column_int(st, 6),
        .revision = (uint64_t)sqlite3_column_int64(st, 7),
        .size = (uint64_t)sqlite3_column_int64(st, 8),
    };
    return r;
}

void store_dav_object_free(store_dav_object *obj)
{
    if (obj == NULL)
        return;
    free(obj->href);
    free(obj->uid);
    free(obj->data);
    obj->href = obj->uid = NULL;
    obj->data = NULL;
    obj->len = 0;
}

static int dav_object_from_row(sqlite3_stmt *st, store_dav_object *o)
{
    store_dav_row r = dav_row(st);
    snprintf(o->etag, sizeof(o->etag), "%s", r.etag ? r.etag : "");
    snprintf(o->component, sizeof(o->component), "%s", r.component ? r.component : "");
    o->dtstart = r.dtstart;
    o->dtend = r.dtend;
    o->unbounded = r.unbounded;
    o->revision = r.revision;
    int n = sqlite3_column_bytes(st, 9);
    const void *blob = sqlite3_column_blob(st, 9);
    int rc = dav_dup(st, 0, &o->href);
    if (rc == STORE_OK)
        rc = dav_dup(st, 1, &o->uid);
    if (rc == STORE_OK && (o->data = malloc(n > 0 ? (size_t)n : 1)) == NULL)
        rc = STORE_ERR_NOMEM;
    if (rc == STORE_OK && n > 0)
        memcpy(o->data, blob, (size_t)n);
    o->len = rc == STORE_OK ? (size_t)n : 0;
    return rc;
}

int store_dav_get(sqlite3 *db, int64_t collection_id, const char *href, store_dav_object *obj_r)
{
    memset(obj_r, 0, sizeof(*obj_r));
    if (!dav_name_valid(href))
        return STORE_ERR_INVALID;
    store_dav_kind kind;
    int rc = dav_collection_kind(db, collection_id, &kind);
    if (rc != STORE_OK)
        return rc;
    sqlite3_stmt *st = dav_prepare(db,
                                   DAV_ROW_COLS ", data FROM dav_objects "
                                                "WHERE collection_id = ? AND href = ?",
                                   collection_id, href);
    if (st == NULL)
        return STORE_ERR_DB;
    int found = 0;
    rc = dav_step_row(st, &found);
    if (rc == STORE_OK)
        rc = found ? dav_object_from_row(st, obj_r) : STORE_ERR_NOTFOUND;
    sqlite3_finalize(st);
    if (rc != STORE_OK)
        store_dav_object_free(obj_r);
    return rc;
}

/* Steps st, calling cb per row; finalizes st. */
static int dav_foreach_rows(sqlite3_stmt *st, store_dav_cb cb, void *ctx)
{
    int src, ret = 0;
    while ((src = sqlite3_step(st)) == SQLITE_ROW) {
        store_dav_row r = dav_row(st);
        if ((ret = cb(ctx, &r)) != 0)
            break;
    }
    sqlite3_finalize(st);
    if (ret != 0)
        return ret;
    return src == SQLITE_DONE ? STORE_OK : store_rc_sqlite(src);
}

int store_dav_foreach(sqlite3 *db, int64_t collection_id, store_dav_cb cb, void *ctx)
{
    store_dav_kind kind;
    int rc = dav_collection_kind(db, collection_id, &kind);
    if (rc != STORE_OK)
        return rc;
    sqlite3_stmt *st = dav_prepare(db,
                                   DAV_ROW_COLS "FROM dav_objects WHERE collection_id = ? "
                                                "ORDER BY href",
                                   collection_id, NULL);
    if (st == NULL)
        return STORE_ERR_DB;
    return dav_foreach_rows(st, cb, ctx);
}

int store_dav_range(sqlite3 *db, int64_t collection_id, const char *component, int64_t start,
                    int64_t end, store_dav_cb cb, void *ctx)
{
    if (start >= end)
        return STORE_ERR_INVALID;
    store_dav_kind kind;
    int rc = dav_collection_kind(db, collection_id, &kind);
    if (rc != STORE_OK)
        return rc;
    /* RFC 4791 9.9: with an end after the start, start < DTEND AND end >
     * DTSTART; without (an instant), start <= DTSTART AND end > DTSTART. */
    sqlite3_stmt *st =
        dav_prepare(db,
                    DAV_ROW_COLS "FROM dav_objects WHERE collection_id = ?1 "
                                 "AND (?2 IS NULL OR component = ?2) AND (dtstart IS NULL OR "
                                 "(dtstart < ?4 AND (unbounded = 1 OR CASE WHEN dtend > dtstart "
                                 "THEN dtend > ?3 ELSE dtstart >= ?3 END))) "
                                 "ORDER BY dtstart, href",
                    collection_id, NULL);
    if (st == NULL)
        return STORE_ERR_DB;
    dav_bind_text(st, 2, component);
    sqlite3_bind_int64(st, 3, start);
    sqlite3_bind_int64(st, 4, end);
    return dav_foreach_rows(st, cb, ctx);
}

/* ---- Sync (RFC 6578) ------------------------------------------------------------ */
