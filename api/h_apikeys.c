/* /api-keys: secrets for automation, shown once, stored as a BLAKE2b hash. */
#include "auth.h"
#include "db.h"
#include "handlers.h"
#include "rfc3339.h"

#include <sodium.h>
#include <stdio.h>
#include <string.h>

#define APIKEY_NAME_MAX 64
#define APIKEY_SECRET_BYTES 32

#define APIKEY_COLUMNS                                                                             \
    "SELECT k.id, k.name, a.username, k.created_at, k.expires_at, k.last_used_at FROM "            \
    "api_keys k JOIN admins a ON a.id = k.admin_id"

static cJSON *apikey_json(sqlite3 *db, sqlite3_stmt *st, const void *ctx)
{
    (void)db;
    (void)ctx;
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "id", db_text(st, 0));
    cJSON_AddStringToObject(o, "name", db_text(st, 1));
    cJSON_AddStringToObject(o, "owner", db_text(st, 2));
    json_add_time(o, "created_at", sqlite3_column_int64(st, 3), false);
    json_add_time(o, "expires_at", sqlite3_column_int64(st, 4), true);
    json_add_time(o, "last_used_at", sqlite3_column_int64(st, 5), true);
    return o;
}

void h_apikeys_list(req *r)
{
    reply_page(r,
               APIKEY_COLUMNS " WHERE k.id > ?2 AND (?5 OR k.admin_id = ?4) ORDER BY k.id "
                              "LIMIT ?3",
               0, 0, apikey_json, NULL);
}

void h_apikeys_create(req *r)
{
    static const jfield fields[] = {{"name", JF_STRING, true},
                                    {"expires_at", JF_STRING_OR_NULL, false}};
    cJSON *body = req_json_body(r);
    if (body == NULL)
        return;
    if (body_check(r, body, fields, 2) < 0)
        goto out;
    cJSON *errors = NULL;
    const char *name = json_str(body, "name", "");
    if (name[0] == '\0' || strlen(name) > APIKEY_NAME_MAX)
        errors_add(&errors, "name", "must be 1 to 64 bytes long");
    int64_t expires = 0;
    const cJSON *exp = cJSON_GetObjectItem(body, "expires_at");
    if (cJSON_IsString(exp) &&
        (rfc3339_parse(exp->valuestring, strlen(exp->valuestring), &expires) < 0 ||
         expires <= db_now()))
        errors_add(&errors, "expires_at", "must be a future time like 2030-01-31T00:00:00Z");
    if (errors != NULL) {
        reply_invalid(r, errors);
        goto out;
    }
    unsigned char idb[8], secret[APIKEY_SECRET_BYTES], hash[32];
    char id[17], secret_txt[64], full[96];
    randombytes_buf(idb, sizeof(idb));
    randombytes_buf(secret, sizeof(secret));
    sodium_bin2hex(id, sizeof(id), idb, sizeof(idb));
    sodium_bin2base64(secret_txt, sizeof(secret_txt), secret, sizeof(secret),
                      sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    crypto_generichash(hash, sizeof(hash), (const unsigned char *)secret_txt, strlen(secret_txt),
                       NULL, 0);
    snprintf(full, sizeof(full), "omk_%s_%s", id, secret_txt);
    sqlite3_stmt *st = db_prepare(r->db, "INSERT INTO api_keys (id, admin_id, name, secret_hash, "
                                         "created_at, expires_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)");
    int rc = SQLITE_ERROR;
    if (st != NULL) {
        sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 2, r->who.admin_id);
        sqlite3_bind_text(st, 3, name, -1, SQLITE_STATIC);
        sqlite3_bind_blob(st, 4, hash, sizeof(hash), SQLITE_STATIC);
        sqlite3_bind_int64(st, 5, db_now());
        if (expires != 0)
            sqlite3_bind_int64(st, 6, expires);
        rc = sqlite3_step(st);
        db_finish(st);
    }
    if (rc != SQLITE_DONE) {
        reply_internal(r, "api key insert failed");
        goto out;
    }
    st = db_prepare(r->db, APIKEY_COLUMNS " WHERE k.id = ?1");
    if (st != NULL) {
        sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
        if (sqlite3_step(st) == SQLITE_ROW) {
            cJSON *o = apikey_json(r->db, st, NULL);
            cJSON_AddStringToObject(o, "secret", full);
            reply_json_created(r, o, "/api/v1/api-keys/%s", id);
        }
        db_finish(st);
    }
    if (r->status == 0)
        reply_internal(r, "api key readback failed");
    sodium_memzero(secret, sizeof(secret));
    sodium_memzero(secret_txt, sizeof(secret_txt));
    sodium_memzero(full, sizeof(full));
out:
    body_free(body);
}

void h_apikeys_delete(req *r)
{
    sqlite3_stmt *st = db_prepare(r->db, "DELETE FROM api_keys WHERE id = ?1 AND (?2 OR admin_id "
                                         "= ?3)");
    if (st == NULL) {
        reply_internal(r, "prepare failed");
        return;
    }
    sqlite3_bind_text(st, 1, r->params[0], -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 2, r->who.global);
    sqlite3_bind_int64(st, 3, r->who.admin_id);
    int rc = sqlite3_step(st);
    db_finish(st);
    if (rc != SQLITE_DONE)
        reply_internal(r, "api key delete failed");
    else if (sqlite3_changes(r->db) == 0)
        reply_problem(r, PROBLEM_NOT_FOUND, "no such API key");
    else
        reply_empty(r, 204);
}
