#include "feed.h"

#include "db.h"
#include "http.h"
#include "log.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FEED_B64_MAX (64 * 1024)

cJSON *feed_b64(const void *data, size_t len)
{
    if (len > FEED_B64_MAX)
        return cJSON_CreateNull();
    size_t n = sodium_base64_encoded_len(len, sodium_base64_VARIANT_ORIGINAL);
    char *s = malloc(n);
    if (s == NULL)
        return NULL;
    sodium_bin2base64(s, n, data, len, sodium_base64_VARIANT_ORIGINAL);
    cJSON *j = cJSON_CreateString(s);
    free(s);
    return j;
}

static int feed_append(sqlite3 *db, const char *type, const char *key, cJSON *data)
{
    char *text = cJSON_PrintUnformatted(data);
    cJSON_Delete(data);
    if (text == NULL)
        return -1;
    sqlite3_stmt *st = db_prepare(db, "INSERT INTO events (type, key, data, created_at) VALUES "
                                      "(?1, ?2, ?3, ?4)");
    int rc = -1;
    if (st != NULL) {
        sqlite3_bind_text(st, 1, type, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, key, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 3, text, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 4, db_now());
        rc = sqlite3_step(st) == SQLITE_DONE ? 0 : -1;
        if (rc < 0)
            log_error(NULL, "events insert failed: %s", sqlite3_errmsg(db));
        db_finish(st);
    }
    cJSON_free(text);
    return rc;
}

/* Each kind: the SELECT (a WHERE clause is appended), the row-to-JSON function
 * and the event key. Snapshot and events share them. */

#define DOMAIN_SELECT "SELECT id, name, enabled, max_users, default_quota_bytes FROM domains"

static cJSON *feed_domain_row(sqlite3 *db, sqlite3_stmt *st)
{
    (void)db;
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "name", db_text(st, 1));
    cJSON_AddBoolToObject(o, "enabled", sqlite3_column_int(st, 2));
    json_add_int(o, "max_users", sqlite3_column_int64(st, 3));
    json_add_int(o, "default_quota_bytes", sqlite3_column_int64(st, 4));
    return o;
}

#define USER_SELECT                                                                                \
    "SELECT u.id, d.name, u.local, u.enabled, u.quota_bytes, u.store_id, u.public_key, "           \
    "u.display_name, u.x25519_sealed_sk FROM users u JOIN domains d ON d.id = u.domain_id"

static cJSON *feed_user_credentials(sqlite3 *db, int64_t user_id)
{
    cJSON *arr = cJSON_CreateArray();
    sqlite3_stmt *st = db_prepare(db, "SELECT kind, id, wrap FROM credentials WHERE user_id = ?1 "
                                      "ORDER BY id");
    if (st == NULL)
        return arr;
    sqlite3_bind_int64(st, 1, user_id);
    while (sqlite3_step(st) == SQLITE_ROW) {
        cJSON *c = cJSON_CreateObject();
        cJSON_AddStringToObject(c, "kind", db_text(st, 0));
        cJSON_AddStringToObject(c, "id", db_text(st, 1));
        cJSON_AddItemToObject(
            c, "wrap", feed_b64(sqlite3_column_blob(st, 2), (size_t)sqlite3_column_bytes(st, 2)));
        cJSON_AddItemToArray(arr, c);
    }
    db_finish(st);
    return arr;
}

static cJSON *feed_user_row(sqlite3 *db, sqlite3_stmt *st)
{
    cJSON *o = cJSON_CreateObject();
    char address[400];
    snprintf(address, sizeof(address), "%s@%s", db_text(st, 2), db_text(st, 1));
    cJSON_AddStringToObject(o, "address", address);
    cJSON_AddStringToObject(o, "domain", db_text(st, 1));
    cJSON_AddStringToObject(o, "local", db_text(st, 2));
    cJSON_AddBoolToObject(o, "enabled", sqlite3_column_int(st, 3));
    json_add_int(o, "quota_bytes", sqlite3_column_int64(st, 4));
    cJSON_AddStringToObject(o, "store_id", db_text(st, 5));
    cJSON_AddItemToObject(
        o, "public_key", feed_b64(sqlite3_column_blob(st, 6), (size_t)sqlite3_column_bytes(st, 6)));
    cJSON_AddStringToObject(o, "display_name", db_text(st, 7));
    cJSON_AddItemToObject(o, "credentials", feed_user_credentials(db, sqlite3_column_int64(st, 0)));
    cJSON_AddItemToObject(
        o, "x25519_sealed_sk",
        feed_b64(sqlite3_column_blob(st, 8), (size_t)sqlite3_column_bytes(st, 8)));
    return o;
}

#define ALIAS_SELECT                                                                               \
    "SELECT a.id, d.name, a.local, a.targets, a.enabled FROM aliases a JOIN domains d "            \
    "ON d.id = a.domain_id"

static cJSON *feed_alias_row(sqlite3 *db, sqlite3_stmt *st)
{
    (void)db;
    cJSON *o = cJSON_CreateObject();
    char address[400];
    snprintf(address, sizeof(address), "%s@%s", db_text(st, 2), db_text(st, 1));
    cJSON_AddStringToObject(o, "address", address);
    cJSON_AddStringToObject(o, "domain", db_text(st, 1));
    cJSON_AddStringToObject(o, "local", db_text(st, 2));
    cJSON *targets = cJSON_Parse(db_text(st, 3));
    cJSON_AddItemToObject(o, "targets", targets != NULL ? targets : cJSON_CreateArray());
    cJSON_AddBoolToObject(o, "enabled", sqlite3_column_int(st, 4));
    return o;
}

#define DKIM_SELECT                                                                                \
    "SELECT k.id, d.name, k.selector, k.algorithm, k.status, k.private_key_sealed FROM "           \
    "dkim_keys k JOIN domains d ON d.id = k.domain_id"

static cJSON *feed_dkim_row(sqlite3 *db, sqlite3_stmt *st)
{
    (void)db;
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "domain", db_text(st, 1));
    cJSON_AddStringToObject(o, "selector", db_text(st, 2));
    cJSON_AddStringToObject(o, "algorithm", db_text(st, 3));
    cJSON_AddStringToObject(o, "status", db_text(st, 4));
    cJSON_AddItemToObject(
        o, "private_key_sealed",
        feed_b64(sqlite3_column_blob(st, 5), (size_t)sqlite3_column_bytes(st, 5)));
    return o;
}

typedef cJSON *(*feed_row_fn)(sqlite3 *db, sqlite3_stmt *st);

typedef struct {
    const char *kind;
    const char *select;
    const char *id_column;
    const char *order;
    feed_row_fn row;
} feed_kind;

static const feed_kind feed_kinds[] = {
    {"domain", DOMAIN_SELECT, "id", "name", feed_domain_row},
    {"user", USER_SELECT, "u.id", "d.name, u.local", feed_user_row},
    {"alias", ALIAS_SELECT, "a.id", "d.name, a.local", feed_alias_row},
    {"dkim", DKIM_SELECT, "k.id", "d.name, k.selector", feed_dkim_row},
};

/* The event key: a domain's name, an address, or "domain/selector". */
static void feed_key(const char *kind, const cJSON *o, char *key, size_t keylen)
{
    if (strcmp(kind, "domain") == 0)
        snprintf(key, keylen, "%s", cJSON_GetObjectItem(o, "name")->valuestring);
    else if (strcmp(kind, "dkim") == 0)
        snprintf(key, keylen, "%s/%s", cJSON_GetObjectItem(o, "domain")->valuestring,
                 cJSON_GetObjectItem(o, "selector")->valuestring);
    else
        snprintf(key, keylen, "%s", cJSON_GetObjectItem(o, "address")->valuestring);
}

static int feed_upsert(sqlite3 *db, const feed_kind *k, int64_t id)
{
    char sql[512];
    snprintf(sql, sizeof(sql), "%s WHERE %s = ?1", k->select, k->id_column);
    sqlite3_stmt *st = db_prepare(db, sql);
    if (st == NULL)
        return -1;
    sqlite3_bind_int64(st, 1, id);
    int rc = -1;
    if (sqlite3_step(st) == SQLITE_ROW) {
        cJSON *o = k->row(db, st);
        char key[400];
        char type[32];
        feed_key(k->kind, o, key, sizeof(key));
        snprintf(type, sizeof(type), "%s.upsert", k->kind);
        rc = feed_append(db, type, key, o);
    }
    db_finish(st);
    return rc;
}

int feed_domain_upsert(sqlite3 *db, int64_t id)
{
    return feed_upsert(db, &feed_kinds[0], id);
}

int feed_user_upsert(sqlite3 *db, int64_t id)
{
    return feed_upsert(db, &feed_kinds[1], id);
}

int feed_alias_upsert(sqlite3 *db, int64_t id)
{
    return feed_upsert(db, &feed_kinds[2], id);
}

int feed_dkim_upsert(sqlite3 *db, int64_t id)
{
    return feed_upsert(db, &feed_kinds[3], id);
}

int feed_delete(sqlite3 *db, const char *kind, const char *key)
{
    char type[32];
    snprintf(type, sizeof(type), "%s.delete", kind);
    return feed_append(db, type, key, cJSON_CreateObject());
}

cJSON *feed_snapshot(sqlite3 *db)
{
    static const char *arrays[] = {"domains", "users", "aliases", "dkim_keys"};
    if (db_exec_simple(db, "BEGIN") < 0) /* one read transaction: seq and rows agree */
        return NULL;
    cJSON *snap = cJSON_CreateObject();
    sqlite3_stmt *st = db_prepare(db, "SELECT COALESCE(MAX(seq), 0) FROM events");
    if (st == NULL || sqlite3_step(st) != SQLITE_ROW) {
        db_finish(st);
        goto fail;
    }
    json_add_int(snap, "seq", sqlite3_column_int64(st, 0));
    db_finish(st);
    for (size_t i = 0; i < sizeof(feed_kinds) / sizeof(feed_kinds[0]); i++) {
        char sql[512];
        snprintf(sql, sizeof(sql), "%s ORDER BY %s", feed_kinds[i].select, feed_kinds[i].order);
        st = db_prepare(db, sql);
        if (st == NULL)
            goto fail;
        cJSON *arr = cJSON_AddArrayToObject(snap, arrays[i]);
        int rc;
        while ((rc = sqlite3_step(st)) == SQLITE_ROW)
            cJSON_AddItemToArray(arr, feed_kinds[i].row(db, st));
        db_finish(st);
        if (rc != SQLITE_DONE)
            goto fail;
    }
    db_exec_simple(db, "COMMIT");
    return snap;
fail:
    db_rollback(db);
    cJSON_Delete(snap);
    return NULL;
}
