/* /admins and /admins/{username}: global admins manage admins; any admin may
 * read itself and change its own password (with the old one). */
#include "auth.h"
#include "db.h"
#include "handlers.h"
#include "names.h"

#include <stdio.h>
#include <string.h>

#define ADMIN_PASSWORD_MIN 10
#define ADMIN_PASSWORD_MAX 1024
#define ADMIN_DOMAINS_MAX 1000

cJSON *admin_domains_json(sqlite3 *db, int64_t admin_id)
{
    cJSON *arr = cJSON_CreateArray();
    sqlite3_stmt *st = db_prepare(db, "SELECT d.name FROM admin_domains ad JOIN domains d ON "
                                      "d.id = ad.domain_id WHERE ad.admin_id = ?1 ORDER BY d.name");
    if (st == NULL)
        return arr;
    sqlite3_bind_int64(st, 1, admin_id);
    while (sqlite3_step(st) == SQLITE_ROW)
        cJSON_AddItemToArray(arr, cJSON_CreateString(db_text(st, 0)));
    db_finish(st);
    return arr;
}

#define ADMIN_COLUMNS "SELECT id, username, role, enabled, created_at, updated_at FROM admins"

static cJSON *admin_json(sqlite3 *db, sqlite3_stmt *st, const void *ctx)
{
    (void)ctx;
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "username", db_text(st, 1));
    cJSON_AddStringToObject(o, "role", db_text(st, 2));
    cJSON_AddItemToObject(o, "domains", admin_domains_json(db, sqlite3_column_int64(st, 0)));
    cJSON_AddBoolToObject(o, "enabled", sqlite3_column_int(st, 3));
    json_add_time(o, "created_at", sqlite3_column_int64(st, 4), false);
    json_add_time(o, "updated_at", sqlite3_column_int64(st, 5), false);
    return o;
}

/* Finds an admin by username; 0 with id and role, or replies 404 and -1. */
static int admin_find(req *r, const char *username, int64_t *id_r, bool *global_r, bool *enabled_r)
{
    sqlite3_stmt *st =
        db_prepare(r->db, "SELECT id, role, enabled FROM admins WHERE username = ?1");
    if (st == NULL) {
        reply_internal(r, "prepare failed");
        return -1;
    }
    sqlite3_bind_text(st, 1, username, -1, SQLITE_STATIC);
    int rc = -1;
    if (sqlite3_step(st) == SQLITE_ROW) {
        *id_r = sqlite3_column_int64(st, 0);
        *global_r = strcmp(db_text(st, 1), "global") == 0;
        *enabled_r = sqlite3_column_int(st, 2) == 1;
        rc = 0;
    }
    db_finish(st);
    if (rc < 0)
        reply_problem(r, PROBLEM_NOT_FOUND, "no such admin");
    return rc;
}

static void admin_reply_one(req *r, int64_t id, int status)
{
    sqlite3_stmt *st = db_prepare(r->db, ADMIN_COLUMNS " WHERE id = ?1");
    if (st == NULL) {
        reply_internal(r, "prepare failed");
        return;
    }
    sqlite3_bind_int64(st, 1, id);
    if (sqlite3_step(st) != SQLITE_ROW) {
        reply_problem(r, PROBLEM_NOT_FOUND, "no such admin");
    } else {
        cJSON *o = admin_json(r->db, st, NULL);
        if (status == 201)
            reply_json_created(r, o, "/api/v1/admins/%s", db_text(st, 1));
        else
            reply_json(r, status, o);
    }
    db_finish(st);
}

void h_admins_list(req *r)
{
    if (auth_require_global(r))
        reply_page(r, ADMIN_COLUMNS " WHERE username > ?2 ORDER BY username LIMIT ?3", 0, 1,
                   admin_json, NULL);
}

static void admin_check_password(const cJSON *body, const char *field, cJSON **errors)
{
    const cJSON *v = cJSON_GetObjectItem(body, field);
    if (v == NULL)
        return;
    size_t n = strlen(v->valuestring);
    if (n < ADMIN_PASSWORD_MIN || n > ADMIN_PASSWORD_MAX)
        errors_add(errors, field, "must be 10 to 1024 bytes long");
}

static bool admin_domain_exists(sqlite3 *db, const char *name)
{
    sqlite3_stmt *st = db_prepare(db, "SELECT 1 FROM domains WHERE name = ?1");
    if (st == NULL)
        return false;
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    bool found = sqlite3_step(st) == SQLITE_ROW;
    db_finish(st);
    return found;
}

/* Replaces an admin's domain list with the names in arr (all must exist). */
static int admin_set_domains(req *r, int64_t admin_id, const cJSON *arr, cJSON **errors)
{
    sqlite3_stmt *del = db_prepare(r->db, "DELETE FROM admin_domains WHERE admin_id = ?1");
    if (del == NULL)
        return -1;
    sqlite3_bind_int64(del, 1, admin_id);
    int rc = sqlite3_step(del);
    db_finish(del);
    if (rc != SQLITE_DONE || arr == NULL)
        return rc == SQLITE_DONE ? 0 : -1;
    sqlite3_stmt *ins = db_prepare(r->db, "INSERT OR IGNORE INTO admin_domains (admin_id, "
                                          "domain_id) SELECT ?1, id FROM domains WHERE name = ?2");
    if (ins == NULL)
        return -1;
    const cJSON *e;
    cJSON_ArrayForEach(e, arr)
    {
        char name[NAMES_DOMAIN_MAX + 1];
        const char *err = NULL;
        if (names_domain_normalize(e->valuestring, strlen(e->valuestring), name, &err) < 0) {
            errors_add(errors, "domains", err);
            continue;
        }
        sqlite3_reset(ins);
        sqlite3_bind_int64(ins, 1, admin_id);
        sqlite3_bind_text(ins, 2, name, -1, SQLITE_TRANSIENT);
        if (sqlite3_step(ins) != SQLITE_DONE) {
            db_finish(ins);
            return -1;
        }
        if (sqlite3_changes(r->db) == 0 && !admin_domain_exists(r->db, name))
            errors_add(errors, "domains", "no such domain"); /* (a repeat is harmless) */
    }
    db_finish(ins);
    return 0;
}

static bool admin_role_valid(const char *role)
{
    return strcmp(role, "global") == 0 || strcmp(role, "domain") == 0;
}

void h_admins_create(req *r)
{
    static const jfield fields[] = {{"username", JF_STRING, true},
                                    {"password", JF_STRING, true},
                                    {"role", JF_STRING, true},
                                    {"domains", JF_STRING_ARRAY, false},
                                    {"enabled", JF_BOOL, false}};
    if (!auth_require_global(r))
        return;
    cJSON *body = req_json_body(r);
    if (body == NULL)
        return;
    if (body_check(r, body, fields, 5) < 0)
        goto out;
    cJSON *errors = NULL;
    const char *username = json_str(body, "username", "");
    const char *role = json_str(body, "role", "");
    const cJSON *domains = cJSON_GetObjectItem(body, "domains");
    if (!names_username_valid(username, strlen(username)))
        errors_add(&errors, "username", "1 to 64 of A-Z a-z 0-9 . _ @ + -");
    admin_check_password(body, "password", &errors);
    if (!admin_role_valid(role))
        errors_add(&errors, "role", "must be global or domain");
    else if (strcmp(role, "global") == 0 && cJSON_GetArraySize(domains) > 0)
        errors_add(&errors, "domains", "only a domain admin is limited to domains");
    else if (strcmp(role, "domain") == 0 && cJSON_GetArraySize(domains) == 0)
        errors_add(&errors, "domains", "a domain admin needs at least one domain");
    if (cJSON_GetArraySize(domains) > ADMIN_DOMAINS_MAX)
        errors_add(&errors, "domains", "at most 1000 domains");
    if (errors != NULL) {
        reply_invalid(r, errors);
        goto out;
    }
    char hash[128];
    if (auth_hash_password(r, json_str(body, "password", ""), hash) < 0) {
        reply_internal(r, "password hashing failed");
        goto out;
    }
    if (db_begin(r->db) < 0) {
        reply_internal(r, "begin failed");
        goto out;
    }
    sqlite3_stmt *st = db_prepare(r->db, "INSERT INTO admins (username, password_hash, role, "
                                         "enabled, created_at, updated_at, token_version) VALUES "
                                         "(?1, ?2, ?3, ?4, ?5, ?5, ?6)");
    if (st == NULL)
        goto fail;
    sqlite3_bind_text(st, 1, username, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, hash, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, role, -1, SQLITE_STATIC);
    const cJSON *en = cJSON_GetObjectItem(body, "enabled");
    sqlite3_bind_int(st, 4, en == NULL || cJSON_IsTrue(en));
    sqlite3_bind_int64(st, 5, db_now());
    sqlite3_bind_int64(st, 6, auth_new_token_version());
    int rc = sqlite3_step(st);
    db_finish(st);
    if (rc == SQLITE_CONSTRAINT_UNIQUE) {
        db_rollback(r->db);
        reply_problem(r, PROBLEM_ALREADY_EXISTS, "admin %s already exists", username);
        goto out;
    }
    int64_t id = sqlite3_last_insert_rowid(r->db);
    if (rc != SQLITE_DONE || admin_set_domains(r, id, domains, &errors) < 0)
        goto fail;
    if (errors != NULL) {
        db_rollback(r->db);
        reply_invalid(r, errors);
        goto out;
    }
    if (db_commit(r->db) < 0)
        goto fail;
    admin_reply_one(r, id, 201);
    goto out;
fail:
    cJSON_Delete(errors); /* every jump here comes after errors was set */
    db_rollback(r->db);
    reply_internal(r, "admin insert failed");
out:
    body_free(body);
}

void h_admins_get(req *r)
{
    int64_t id;
    bool global, enabled;
    if (!r->who.global && strcmp(r->params[0], r->who.username) != 0) {
        reply_problem(r, PROBLEM_FORBIDDEN, "a domain admin may read only itself");
        return;
    }
    if (admin_find(r, r->params[0], &id, &global, &enabled) == 0)
        admin_reply_one(r, id, 200);
}

/* Would the change leave no enabled global admin? */
static bool admin_is_last_global(req *r, int64_t id)
{
    sqlite3_stmt *st = db_prepare(r->db, "SELECT COUNT(*) FROM admins WHERE role = 'global' AND "
                                         "enabled = 1 AND id != ?1");
    if (st == NULL)
        return true;
    sqlite3_bind_int64(st, 1, id);
    bool last = sqlite3_step(st) != SQLITE_ROW || sqlite3_column_int64(st, 0) == 0;
    db_finish(st);
    return last;
}

static int admin_domain_count(req *r, int64_t id)
{
    sqlite3_stmt *st = db_prepare(r->db, "SELECT COUNT(*) FROM admin_domains WHERE admin_id = ?1");
    int n = 0;
    if (st != NULL) {
        sqlite3_bind_int64(st, 1, id);
        if (sqlite3_step(st) == SQLITE_ROW)
            n = sqlite3_column_int(st, 0);
        db_finish(st);
    }
    return n;
}

/* Validates a PATCH body against who may change what. Replies and returns -1. */
static int admin_update_check(req *r, const cJSON *body, bool self, bool target_global,
                              bool target_enabled, int64_t id)
{
    cJSON *errors = NULL;
    const cJSON *role = cJSON_GetObjectItem(body, "role");
    const cJSON *enabled = cJSON_GetObjectItem(body, "enabled");
    const cJSON *password = cJSON_GetObjectItem(body, "password");
    if (!r->who.global &&
        (role != NULL || enabled != NULL || cJSON_GetObjectItem(body, "domains") != NULL)) {
        reply_problem(r, PROBLEM_FORBIDDEN, "a domain admin may change only its own password");
        return -1;
    }
    admin_check_password(body, "password", &errors);
    if (role != NULL && !admin_role_valid(role->valuestring))
        errors_add(&errors, "role", "must be global or domain");
    if (password != NULL && self && cJSON_GetObjectItem(body, "old_password") == NULL)
        errors_add(&errors, "old_password", "is required to change your own password");
    if (password == NULL && cJSON_GetObjectItem(body, "old_password") != NULL)
        errors_add(&errors, "old_password", "only with password");
    const cJSON *domains = cJSON_GetObjectItem(body, "domains");
    bool will_be_global = role != NULL ? strcmp(role->valuestring, "global") == 0 : target_global;
    int will_have = domains != NULL ? cJSON_GetArraySize(domains) : admin_domain_count(r, id);
    if (will_be_global && domains != NULL && cJSON_GetArraySize(domains) > 0)
        errors_add(&errors, "domains", "only a domain admin is limited to domains");
    else if (!will_be_global && will_have == 0)
        errors_add(&errors, "domains", "a domain admin needs at least one domain");
    if (errors != NULL) {
        reply_invalid(r, errors);
        return -1;
    }
    bool demote = role != NULL && strcmp(role->valuestring, "domain") == 0;
    bool disable = enabled != NULL && cJSON_IsFalse(enabled);
    if (target_global && target_enabled && (demote || disable) && admin_is_last_global(r, id)) {
        reply_problem(r, PROBLEM_LAST_GLOBAL_ADMIN, "this is the last enabled global admin");
        return -1;
    }
    return 0;
}

static int admin_apply_update(req *r, const cJSON *body, int64_t id, const char *hash,
                              cJSON **errors)
{
    const cJSON *role = cJSON_GetObjectItem(body, "role");
    const cJSON *enabled = cJSON_GetObjectItem(body, "enabled");
    const cJSON *domains = cJSON_GetObjectItem(body, "domains");
    /* Any change of password, role, domains or state revokes issued tokens. */
    sqlite3_stmt *st =
        db_prepare(r->db, "UPDATE admins SET password_hash = COALESCE(?2, password_hash), role = "
                          "COALESCE(?3, role), enabled = COALESCE(?4, enabled), token_version = "
                          "token_version + 1, updated_at = ?5 WHERE id = ?1");
    if (st == NULL)
        return -1;
    sqlite3_bind_int64(st, 1, id);
    if (hash != NULL)
        sqlite3_bind_text(st, 2, hash, -1, SQLITE_STATIC);
    if (role != NULL)
        sqlite3_bind_text(st, 3, role->valuestring, -1, SQLITE_STATIC);
    if (enabled != NULL)
        sqlite3_bind_int(st, 4, cJSON_IsTrue(enabled));
    sqlite3_bind_int64(st, 5, db_now());
    int rc = sqlite3_step(st);
    db_finish(st);
    if (rc != SQLITE_DONE)
        return -1;
    bool now_global = role != NULL ? strcmp(role->valuestring, "global") == 0 : false;
    if (now_global)
        return admin_set_domains(r, id, NULL, errors);
    if (domains != NULL)
        return admin_set_domains(r, id, domains, errors);
    return 0;
}

void h_admins_update(req *r)
{
    static const jfield fields[] = {{"password", JF_STRING, false},
                                    {"old_password", JF_STRING, false},
                                    {"role", JF_STRING, false},
                                    {"domains", JF_STRING_ARRAY, false},
                                    {"enabled", JF_BOOL, false}};
    bool self = strcmp(r->params[0], r->who.username) == 0;
    if (!r->who.global && !self) {
        reply_problem(r, PROBLEM_FORBIDDEN, "a domain admin may change only itself");
        return;
    }
    int64_t id;
    bool global, enabled;
    if (admin_find(r, r->params[0], &id, &global, &enabled) < 0)
        return;
    cJSON *body = req_json_body(r);
    if (body == NULL)
        return;
    if (body_check(r, body, fields, 5) < 0 ||
        admin_update_check(r, body, self, global, enabled, id) < 0)
        goto out;
    const cJSON *old = cJSON_GetObjectItem(body, "old_password");
    if (old != NULL) {
        if (throttle_attempt(r, "admin", r->params[0]) < 0)
            goto out;
        int64_t xid, xver;
        bool xen, xglobal;
        if (!auth_admin_password(r->db, r->params[0], old->valuestring, &xid, &xver, &xen,
                                 &xglobal)) {
            throttle_failed(r, "admin", r->params[0]);
            reply_problem(r, PROBLEM_INVALID_CREDENTIALS, "old_password is wrong");
            goto out;
        }
        throttle_success(r, "admin", r->params[0]);
    }
    char hash[128];
    const cJSON *pw = cJSON_GetObjectItem(body, "password");
    if (pw != NULL && auth_hash_password(r, pw->valuestring, hash) < 0) {
        reply_internal(r, "password hashing failed");
        goto out;
    }
    /* The checks again, now under the write lock: two global admins disabling
     * each other at once must not both succeed. */
    if (db_begin(r->db) < 0) {
        reply_internal(r, "begin failed");
        goto out;
    }
    if (admin_find(r, r->params[0], &id, &global, &enabled) < 0 ||
        admin_update_check(r, body, self, global, enabled, id) < 0) {
        db_rollback(r->db);
        goto out;
    }
    cJSON *errors = NULL;
    if (admin_apply_update(r, body, id, pw ? hash : NULL, &errors) < 0) {
        db_rollback(r->db);
        cJSON_Delete(errors);
        reply_internal(r, "admin update failed");
        goto out;
    }
    if (errors != NULL) {
        db_rollback(r->db);
        reply_invalid(r, errors);
        goto out;
    }
    if (db_commit(r->db) < 0)
        reply_internal(r, "commit failed");
    else
        admin_reply_one(r, id, 200);
out:
    body_free(body);
}

void h_admins_delete(req *r)
{
    if (!auth_require_global(r))
        return;
    int64_t id;
    bool global, enabled;
    if (db_begin(r->db) < 0) {
        reply_internal(r, "begin failed");
        return;
    }
    if (admin_find(r, r->params[0], &id, &global, &enabled) < 0) {
        db_rollback(r->db);
        return;
    }
    if (global && enabled && admin_is_last_global(r, id)) {
        db_rollback(r->db);
        reply_problem(r, PROBLEM_LAST_GLOBAL_ADMIN, "this is the last enabled global admin");
        return;
    }
    sqlite3_stmt *st = db_prepare(r->db, "DELETE FROM admins WHERE id = ?1");
    int rc = SQLITE_ERROR;
    if (st != NULL) {
        sqlite3_bind_int64(st, 1, id);
        rc = sqlite3_step(st);
        db_finish(st);
    }
    if (rc != SQLITE_DONE || db_commit(r->db) < 0) {
        db_rollback(r->db);
        reply_internal(r, "admin delete failed");
        return;
    }
    reply_empty(r, 204);
}
