/* A user's credentials: password change (with the old password), reset (with
 * the recovery key) and app passwords. Each credential is one wrap of the
 * store key; proving one means unwrapping it, which also yields the store
 * key needed to make another. The server never holds a way in of its own. */
#include "auth.h"
#include "db.h"
#include "feed.h"
#include "handlers.h"
#include "log.h"
#include "names.h"
#include "users.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define APPPW_NAME_MAX 64
#define APPPW_PER_USER_MAX 50

/* The user named by the path, for endpoints a user calls with a credential
 * instead of an admin token (routes.c: AUTH_NONE). The attempt is counted
 * (throttle) before anything is looked up. An unknown user is not an error
 * here: *user_id_r is -1 and cred_unwrap answers exactly as for a wrong
 * credential, after the same Argon2id work, so these endpoints tell neither
 * by answer nor by time which addresses exist. */
static int cred_resolve(req *r, int64_t *user_id_r, char address_r[ADDRESS_BUF])
{
    char dname[NAMES_DOMAIN_MAX + 1], local[NAMES_LOCAL_MAX + 1];
    const char *err = NULL;
    if (names_domain_normalize(r->params[0], strlen(r->params[0]), dname, &err) < 0 ||
        names_local_normalize(r->params[1], strlen(r->params[1]), local, &err) < 0) {
        reply_problem(r, PROBLEM_INVALID_CREDENTIALS, "wrong address or credential");
        return -1;
    }
    snprintf(address_r, ADDRESS_BUF, "%s@%s", local, dname);
    if (throttle_attempt(r, "user", address_r) < 0)
        return -1;
    /* No admin token is consulted here: the credential is the proof. */
    sqlite3_stmt *st = db_prepare(r->db, "SELECT id FROM domains WHERE name = ?1");
    if (st == NULL) {
        reply_internal(r, "prepare failed");
        return -1;
    }
    sqlite3_bind_text(st, 1, dname, -1, SQLITE_STATIC);
    int64_t domain_id = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : -1;
    db_finish(st);
    if (user_lookup(r, domain_id, local, user_id_r) < 0)
        *user_id_r = -1;
    return 0;
}

/* Unwraps the user's store key with a credential of the given kind. Replies
 * 401 when it does not open (an unknown user, user_id -1, unwraps the dummy
 * wrap made at start-up, which never opens). */
static int cred_unwrap(req *r, int64_t user_id, const char *address, const char *kind,
                       const char *credential, keys_secret **key_r)
{
    size_t len = strlen(credential);
    keys_result kr = KEYS_ERR_WRONG_CREDENTIAL;
    if (len > 0 && len <= KEYS_CREDENTIAL_MAX) {
        sqlite3_stmt *st = db_prepare(r->db, "SELECT wrap FROM credentials WHERE user_id = ?1 "
                                             "AND kind = ?2");
        if (st == NULL) {
            reply_internal(r, "prepare failed");
            return -1;
        }
        sqlite3_bind_int64(st, 1, user_id);
        sqlite3_bind_text(st, 2, kind, -1, SQLITE_STATIC);
        if (sqlite3_step(st) == SQLITE_ROW)
            kr = keys_unwrap(sqlite3_column_blob(st, 0), (size_t)sqlite3_column_bytes(st, 0),
                             credential, len, key_r);
        else
            kr = keys_unwrap(r->app->dummy_wrap, r->app->dummy_wrap_len, credential, len, key_r);
        db_finish(st);
    }
    if (kr == KEYS_OK) {
        throttle_success(r, "user", address);
        return 0;
    }
    if (kr == KEYS_ERR_WRONG_CREDENTIAL) {
        throttle_failed(r, "user", address);
        reply_problem(r, PROBLEM_INVALID_CREDENTIALS, "wrong address or credential");
    } else {
        reply_internal(r, keys_strerror(kr));
    }
    return -1;
}

/* Replaces the password wrap with one under new_password, in one
 * transaction: the old password stops working exactly when the new one
 * starts. The store itself is never re-encrypted. */
static void cred_set_password(req *r, int64_t user_id, const keys_secret *store_key,
                              const char *new_password)
{
    user_wrap w = {NULL, 0};
    if (keys_wrap(store_key, new_password, strlen(new_password), &r->app->cfg.kdf_user, &w.blob,
                  &w.len) != KEYS_OK) {
        reply_internal(r, "wrap failed");
        return;
    }
    sqlite3_stmt *st = NULL;
    if (begin_checked(r, "users", user_id) < 0) {
        free(w.blob);
        return;
    }
    st = db_prepare(r->db, "DELETE FROM credentials WHERE user_id = ?1 AND kind = 'password'");
    if (st == NULL)
        goto fail;
    sqlite3_bind_int64(st, 1, user_id);
    int rc = sqlite3_step(st);
    db_finish(st);
    if (rc != SQLITE_DONE || user_insert_credential(r, user_id, "password", "", &w, NULL) < 0 ||
        feed_user_upsert(r->db, user_id) < 0 || db_commit(r->db) < 0)
        goto fail;
    free(w.blob);
    reply_empty(r, 204);
    return;
fail:
    db_rollback(r->db);
    free(w.blob);
    reply_internal(r, "password change failed");
}

static void cred_change(req *r, const char *proof_field, const char *proof_kind)
{
    jfield fields[] = {{proof_field, JF_STRING, true}, {"new_password", JF_STRING, true}};
    cJSON *body = req_json_body(r);
    if (body == NULL)
        return;
    keys_secret *store_key = NULL;
    cJSON *errors = NULL;
    char recovery[KEYS_RECOVERY_STRLEN + 1] = "";
    if (body_check(r, body, fields, 2) < 0)
        goto out;
    user_check_password(body, "new_password", &errors);
    if (errors != NULL) {
        reply_invalid(r, errors);
        goto out;
    }
    const char *proof = json_str(body, proof_field, "");
    if (strcmp(proof_kind, "recovery") == 0) {
        /* A sloppily copied recovery key still opens: wrap and check the
         * canonical form. A malformed one cannot match anything. */
        if (keys_recovery_normalize(proof, recovery) < 0)
            recovery[0] = '\0';
        proof = recovery;
    }
    int64_t user_id;
    char address[ADDRESS_BUF];
    if (cred_resolve(r, &user_id, address) < 0)
        goto out;
    if (cred_unwrap(r, user_id, address, proof_kind, proof, &store_key) < 0)
        goto out;
    cred_set_password(r, user_id, store_key, json_str(body, "new_password", ""));
    log_info(r->id, "password of %s changed with its %s", address, proof_kind);
out:
    sodium_memzero(recovery, sizeof(recovery));
    keys_secret_free(&store_key);
    body_free(body);
}

void h_users_password(req *r)
{
    cred_change(r, "old_password", "password");
}

void h_users_password_reset(req *r)
{
    cred_change(r, "recovery_key", "recovery");
}

static int apppw_resolve(req *r, int64_t *user_id_r)
{
    int64_t domain_id;
    char dname[NAMES_DOMAIN_MAX + 1];
    if (domain_lookup(r, r->params[0], &domain_id, dname) < 0)
        return -1;
    if (user_lookup(r, domain_id, r->params[1], user_id_r) < 0) {
        reply_problem(r, PROBLEM_NOT_FOUND, "no such user");
        return -1;
    }
    return 0;
}

static cJSON *apppw_json(sqlite3 *db, sqlite3_stmt *st, const void *ctx)
{
    (void)db;
    (void)ctx;
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "id", db_text(st, 0));
    cJSON_AddStringToObject(o, "name", db_text(st, 1));
    json_add_time(o, "created_at", sqlite3_column_int64(st, 2), false);
    return o;
}

void h_apppw_list(req *r)
{
    int64_t user_id;
    if (apppw_resolve(r, &user_id) == 0)
        reply_page(r,
                   "SELECT id, name, created_at FROM credentials WHERE user_id = ?1 AND kind = "
                   "'app' AND id > ?2 ORDER BY id LIMIT ?3",
                   user_id, 0, apppw_json, NULL);
}

static int apppw_count(req *r, int64_t user_id)
{
    sqlite3_stmt *st = db_prepare(r->db, "SELECT COUNT(*) FROM credentials WHERE user_id = ?1 AND "
                                         "kind = 'app'");
    int n = APPPW_PER_USER_MAX;
    if (st != NULL) {
        sqlite3_bind_int64(st, 1, user_id);
        if (sqlite3_step(st) == SQLITE_ROW)
            n = sqlite3_column_int(st, 0);
        db_finish(st);
    }
    return n;
}

static void apppw_store(req *r, int64_t user_id, const char *address, const char *name,
                        const keys_secret *store_key)
{
    char shown[KEYS_APP_PASSWORD_STRLEN + 1], plain[KEYS_APP_PASSWORD_LEN + 1], id[17];
    user_wrap w = {NULL, 0};
    if (keys_app_password_new(shown) != KEYS_OK || keys_app_password_normalize(shown, plain) < 0 ||
        keys_wrap(store_key, plain, strlen(plain), &r->app->cfg.kdf_user, &w.blob, &w.len) !=
            KEYS_OK)
        goto fail;
    if (begin_checked(r, "users", user_id) < 0)
        goto out;
    if (apppw_count(r, user_id) >= APPPW_PER_USER_MAX) {
        db_rollback(r->db);
        cJSON *errors = NULL;
        errors_add(&errors, "name", "the user has 50 app passwords already; revoke one first");
        reply_invalid(r, errors);
        goto out;
    }
    if (user_insert_credential(r, user_id, "app", name, &w, id) < 0 ||
        feed_user_upsert(r->db, user_id) < 0 || db_commit(r->db) < 0)
        goto fail;
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "id", id);
    cJSON_AddStringToObject(o, "name", name);
    json_add_time(o, "created_at", db_now(), false);
    cJSON_AddStringToObject(o, "app_password", shown);
    const char *at = strrchr(address, '@');
    reply_json_created(r, o, "/api/v1/domains/%s/users/%.*s/app-passwords/%s", at + 1,
                       (int)(at - address), address, id);
    goto out;
fail:
    db_rollback(r->db);
    reply_internal(r, "app password creation failed");
out:
    free(w.blob);
    sodium_memzero(shown, sizeof(shown));
    sodium_memzero(plain, sizeof(plain));
}

void h_apppw_create(req *r)
{
    static const jfield fields[] = {{"name", JF_STRING, true}, {"password", JF_STRING, true}};
    cJSON *body = req_json_body(r);
    if (body == NULL)
        return;
    keys_secret *store_key = NULL;
    if (body_check(r, body, fields, 2) < 0)
        goto out;
    const char *name = json_str(body, "name", "");
    const char *password = json_str(body, "password", "");
    if (name[0] == '\0' || strlen(name) > APPPW_NAME_MAX) {
        cJSON *errors = NULL;
        errors_add(&errors, "name", "must be 1 to 64 bytes long");
        reply_invalid(r, errors);
        goto out;
    }
    int64_t user_id;
    char address[ADDRESS_BUF];
    if (cred_resolve(r, &user_id, address) < 0 ||
        cred_unwrap(r, user_id, address, "password", password, &store_key) < 0)
        goto out;
    apppw_store(r, user_id, address, name, store_key);
out:
    keys_secret_free(&store_key);
    body_free(body);
}

void h_apppw_delete(req *r)
{
    int64_t user_id;
    if (apppw_resolve(r, &user_id) < 0)
        return;
    if (begin_checked(r, "users", user_id) < 0)
        return;
    sqlite3_stmt *st = db_prepare(r->db, "DELETE FROM credentials WHERE id = ?1 AND user_id = ?2 "
                                         "AND kind = 'app'");
    int rc = SQLITE_ERROR;
    if (st != NULL) {
        sqlite3_bind_text(st, 1, r->params[2], -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 2, user_id);
        rc = sqlite3_step(st);
        db_finish(st);
    }
    if (rc == SQLITE_DONE && sqlite3_changes(r->db) == 0) {
        db_rollback(r->db);
        reply_problem(r, PROBLEM_NOT_FOUND, "no such app password");
        return;
    }
    if (rc != SQLITE_DONE || feed_user_upsert(r->db, user_id) < 0 || db_commit(r->db) < 0) {
        db_rollback(r->db);
        reply_internal(r, "app password delete failed");
        return;
    }
    reply_empty(r, 204);
}
