/* /domains/{domain}/users[/{local}]: mailboxes and their key material. */
#include "auth.h"
#include "db.h"
#include "feed.h"
#include "handlers.h"
#include "log.h"
#include "names.h"
#include "users.h"

#include <dirent.h>
#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define USER_DISPLAY_NAME_MAX 256
#define USER_QUOTA_MAX (1LL << 50)

#define USER_COLUMNS                                                                               \
    "SELECT u.id, u.local, d.name, u.display_name, u.enabled, u.quota_bytes, u.store_id, "         \
    "u.public_key, (SELECT COUNT(*) FROM credentials c WHERE c.user_id = u.id AND c.kind = "       \
    "'app'), u.created_at, u.updated_at FROM users u JOIN domains d ON d.id = u.domain_id"

static cJSON *user_json(sqlite3 *db, sqlite3_stmt *st, const void *ctx)
{
    (void)db;
    (void)ctx;
    cJSON *o = cJSON_CreateObject();
    char address[ADDRESS_BUF];
    snprintf(address, sizeof(address), "%s@%s", db_text(st, 1), db_text(st, 2));
    cJSON_AddStringToObject(o, "address", address);
    cJSON_AddStringToObject(o, "local", db_text(st, 1));
    cJSON_AddStringToObject(o, "domain", db_text(st, 2));
    cJSON_AddStringToObject(o, "display_name", db_text(st, 3));
    cJSON_AddBoolToObject(o, "enabled", sqlite3_column_int(st, 4));
    json_add_int(o, "quota_bytes", sqlite3_column_int64(st, 5));
    cJSON_AddStringToObject(o, "store_id", db_text(st, 6));
    cJSON_AddItemToObject(
        o, "public_key", feed_b64(sqlite3_column_blob(st, 7), (size_t)sqlite3_column_bytes(st, 7)));
    json_add_int(o, "app_password_count", sqlite3_column_int64(st, 8));
    json_add_time(o, "created_at", sqlite3_column_int64(st, 9), false);
    json_add_time(o, "updated_at", sqlite3_column_int64(st, 10), false);
    return o;
}

static cJSON *user_load_json(req *r, int64_t id)
{
    sqlite3_stmt *st = db_prepare(r->db, USER_COLUMNS " WHERE u.id = ?1");
    if (st == NULL)
        return NULL;
    sqlite3_bind_int64(st, 1, id);
    cJSON *o = sqlite3_step(st) == SQLITE_ROW ? user_json(r->db, st, NULL) : NULL;
    db_finish(st);
    return o;
}

int user_lookup(req *r, int64_t domain_id, const char *param, int64_t *id_r)
{
    char local[NAMES_LOCAL_MAX + 1];
    const char *err = NULL;
    if (names_local_normalize(param, strlen(param), local, &err) == 0) {
        sqlite3_stmt *st = db_prepare(r->db, "SELECT id FROM users WHERE domain_id = ?1 AND "
                                             "local = ?2");
        if (st != NULL) {
            sqlite3_bind_int64(st, 1, domain_id);
            sqlite3_bind_text(st, 2, local, -1, SQLITE_STATIC);
            int found = sqlite3_step(st) == SQLITE_ROW;
            if (found)
                *id_r = sqlite3_column_int64(st, 0);
            db_finish(st);
            if (found)
                return 0;
        }
    }
    return -1;
}

/* Resolves {domain} and {local}; replies 404 and returns -1 on failure. */
static int user_resolve(req *r, int64_t *domain_id_r, int64_t *user_id_r)
{
    char name[NAMES_DOMAIN_MAX + 1];
    if (domain_lookup(r, r->params[0], domain_id_r, name) < 0)
        return -1;
    if (user_lookup(r, *domain_id_r, r->params[1], user_id_r) < 0) {
        reply_problem(r, PROBLEM_NOT_FOUND, "no such user");
        return -1;
    }
    return 0;
}

void h_users_list(req *r)
{
    int64_t domain_id;
    char name[NAMES_DOMAIN_MAX + 1];
    if (domain_lookup(r, r->params[0], &domain_id, name) == 0)
        reply_page(r,
                   USER_COLUMNS " WHERE u.domain_id = ?1 AND u.local > ?2 ORDER BY u.local "
                                "LIMIT ?3",
                   domain_id, 1, user_json, NULL);
}

void h_users_get(req *r)
{
    int64_t domain_id, user_id;
    if (user_resolve(r, &domain_id, &user_id) < 0)
        return;
    cJSON *o = user_load_json(r, user_id);
    if (o == NULL)
        reply_problem(r, PROBLEM_NOT_FOUND, "no such user");
    else
        reply_json(r, 200, o);
}

static void user_check_common(const cJSON *body, cJSON **errors)
{
    const cJSON *v = cJSON_GetObjectItem(body, "display_name");
    if (v != NULL && strlen(v->valuestring) > USER_DISPLAY_NAME_MAX)
        errors_add(errors, "display_name", "longer than 256 bytes");
    v = cJSON_GetObjectItem(body, "quota_bytes");
    if (v != NULL && (v->valuedouble < 0 || v->valuedouble > (double)USER_QUOTA_MAX))
        errors_add(errors, "quota_bytes", "must be from 0 to 2^50");
}

void user_check_password(const cJSON *body, const char *field, cJSON **errors)
{
    const cJSON *v = cJSON_GetObjectItem(body, field);
    if (v == NULL)
        return;
    size_t n = strlen(v->valuestring);
    if (n < USER_PASSWORD_MIN || n > USER_PASSWORD_MAX)
        errors_add(errors, field, "must be 10 to 1024 bytes long");
}

/* Checks that local is free in the domain (no user, no alias) and that the
 * domain has room. Replies and returns -1 otherwise. Inside the transaction. */
static int user_check_free(req *r, int64_t domain_id, const char *local)
{
    sqlite3_stmt *st = db_prepare(
        r->db, "SELECT (SELECT COUNT(*) FROM users WHERE domain_id = ?1 AND local = ?2) + "
               "(SELECT COUNT(*) FROM aliases WHERE domain_id = ?1 AND local = ?2), "
               "(SELECT COUNT(*) FROM users WHERE domain_id = ?1), "
               "(SELECT max_users FROM domains WHERE id = ?1)");
    if (st == NULL) {
        reply_internal(r, "prepare failed");
        return -1;
    }
    sqlite3_bind_int64(st, 1, domain_id);
    sqlite3_bind_text(st, 2, local, -1, SQLITE_STATIC);
    int rc = -1;
    if (sqlite3_step(st) != SQLITE_ROW) {
        reply_internal(r, "user check failed");
    } else if (sqlite3_column_int64(st, 0) > 0) {
        reply_problem(r, PROBLEM_ALREADY_EXISTS, "%s is already a user or an alias", local);
    } else if (sqlite3_column_int64(st, 2) > 0 &&
               sqlite3_column_int64(st, 1) >= sqlite3_column_int64(st, 2)) {
        cJSON *errors = NULL;
        errors_add(&errors, "local", "the domain has reached its max_users");
        reply_invalid(r, errors);
    } else {
        rc = 0;
    }
    db_finish(st);
    return rc;
}

int user_insert_credential(req *r, int64_t user_id, const char *kind, const char *name,
                           const user_wrap *w, char id_r[17])
{
    char id[17];
    if (keys_random_hex(id, 8) != KEYS_OK)
        return -1;
    sqlite3_stmt *st = db_prepare(r->db, "INSERT INTO credentials (id, user_id, kind, name, wrap, "
                                         "created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)");
    if (st == NULL)
        return -1;
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, user_id);
    sqlite3_bind_text(st, 3, kind, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, name, -1, SQLITE_STATIC);
    sqlite3_bind_blob(st, 5, w->blob, (int)w->len, SQLITE_STATIC);
    sqlite3_bind_int64(st, 6, db_now());
    int rc = sqlite3_step(st) == SQLITE_DONE ? 0 : -1;
    db_finish(st);
    if (rc == 0 && id_r != NULL)
        memcpy(id_r, id, sizeof(id));
    return rc;
}

/* Everything a new user needs, made before the write transaction so the
 * Argon2id work does not hold the database lock. */
typedef struct {
    char store_id[33];
    unsigned char pk[KEYS_X25519_PK_LEN];
    unsigned char *sk_sealed;
    size_t sk_len;
    user_wrap password_wrap, recovery_wrap;
    char recovery[KEYS_RECOVERY_STRLEN + 1];
} user_material;

static void user_material_free(user_material *m)
{
    free(m->sk_sealed);
    free(m->password_wrap.blob);
    free(m->recovery_wrap.blob);
    sodium_memzero(m->recovery, sizeof(m->recovery));
}

static int user_material_make(req *r, const char *password, user_material *m)
{
    keys_secret *store_key = NULL;
    int rc = -1;
    memset(m, 0, sizeof(*m));
    const keys_kdf_params *p = &r->app->cfg.kdf_user;
    if (keys_store_key_new(&store_key) == KEYS_OK && keys_random_hex(m->store_id, 16) == KEYS_OK &&
        keys_x25519_new(store_key, m->pk, &m->sk_sealed, &m->sk_len) == KEYS_OK &&
        keys_wrap(store_key, password, strlen(password), p, &m->password_wrap.blob,
                  &m->password_wrap.len) == KEYS_OK &&
        keys_recovery_new(m->recovery) == KEYS_OK &&
        keys_wrap(store_key, m->recovery, strlen(m->recovery), p, &m->recovery_wrap.blob,
                  &m->recovery_wrap.len) == KEYS_OK)
        rc = 0;
    keys_secret_free(&store_key);
    return rc;
}

static int user_insert(req *r, int64_t domain_id, const char *local, const cJSON *body,
                       const user_material *m, int64_t *id_r)
{
    sqlite3_stmt *st = db_prepare(
        r->db, "INSERT INTO users (domain_id, local, display_name, enabled, quota_bytes, "
               "store_id, public_key, x25519_sealed_sk, created_at, updated_at) VALUES (?1, ?2, "
               "?3, ?4, COALESCE(?5, (SELECT default_quota_bytes FROM domains WHERE id = ?1)), "
               "?6, ?7, ?8, ?9, ?9)");
    if (st == NULL)
        return -1;
    sqlite3_bind_int64(st, 1, domain_id);
    sqlite3_bind_text(st, 2, local, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, json_str(body, "display_name", ""), -1, SQLITE_STATIC);
    const cJSON *en = cJSON_GetObjectItem(body, "enabled");
    sqlite3_bind_int(st, 4, en == NULL || cJSON_IsTrue(en));
    const cJSON *q = cJSON_GetObjectItem(body, "quota_bytes");
    if (q != NULL)
        sqlite3_bind_int64(st, 5, (int64_t)q->valuedouble);
    sqlite3_bind_text(st, 6, m->store_id, -1, SQLITE_STATIC);
    sqlite3_bind_blob(st, 7, m->pk, sizeof(m->pk), SQLITE_STATIC);
    sqlite3_bind_blob(st, 8, m->sk_sealed, (int)m->sk_len, SQLITE_STATIC);
    sqlite3_bind_int64(st, 9, db_now());
    int rc = sqlite3_step(st);
    db_finish(st);
    if (rc != SQLITE_DONE)
        return -1;
    *id_r = sqlite3_last_insert_rowid(r->db);
    if (user_insert_credential(r, *id_r, "password", "", &m->password_wrap, NULL) < 0 ||
        user_insert_credential(r, *id_r, "recovery", "", &m->recovery_wrap, NULL) < 0 ||
        feed_user_upsert(r->db, *id_r) < 0)
        return -1;
    return 0;
}

static void user_reply_created(req *r, int64_t id, const char *recovery, const char *generated)
{
    cJSON *user = user_load_json(r, id);
    if (user == NULL) {
        reply_internal(r, "user readback failed");
        return;
    }
    char location[HTTP_PATH_MAX];
    snprintf(location, sizeof(location), "/api/v1/domains/%s/users/%s",
             cJSON_GetObjectItem(user, "domain")->valuestring,
             cJSON_GetObjectItem(user, "local")->valuestring);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddItemToObject(o, "user", user);
    cJSON_AddStringToObject(o, "recovery_key", recovery);
    if (generated != NULL)
        cJSON_AddStringToObject(o, "password", generated);
    reply_json_created(r, o, "%s", location);
}

void h_users_create(req *r)
{
    static const jfield fields[] = {{"local", JF_STRING, true},
                                    {"password", JF_STRING, false},
                                    {"display_name", JF_STRING, false},
                                    {"quota_bytes", JF_INT, false},
                                    {"enabled", JF_BOOL, false}};
    int64_t domain_id, user_id;
    char dname[NAMES_DOMAIN_MAX + 1], local[NAMES_LOCAL_MAX + 1];
    char generated[KEYS_PASSWORD_DEFAULT_LEN + 1] = "";
    if (domain_lookup(r, r->params[0], &domain_id, dname) < 0)
        return;
    cJSON *body = req_json_body(r);
    if (body == NULL)
        return;
    user_material m;
    memset(&m, 0, sizeof(m));
    if (body_check(r, body, fields, 5) < 0)
        goto out;
    cJSON *errors = NULL;
    const char *err = NULL;
    const char *given = json_str(body, "local", "");
    if (names_local_normalize(given, strlen(given), local, &err) < 0)
        errors_add(&errors, "local", err);
    else if (strlen(local) + 1 + strlen(dname) > NAMES_ADDRESS_MAX)
        errors_add(&errors, "local", "the address would be longer than 254 octets");
    user_check_password(body, "password", &errors);
    user_check_common(body, &errors);
    if (errors != NULL) {
        reply_invalid(r, errors);
        goto out;
    }
    const char *password = json_str(body, "password", NULL);
    if (password == NULL) {
        if (keys_password_generate(generated, KEYS_PASSWORD_DEFAULT_LEN) != KEYS_OK)
            goto fail;
        password = generated;
    }
    if (user_material_make(r, password, &m) < 0)
        goto fail;
    if (begin_checked(r, "domains", domain_id) < 0)
        goto out;
    if (user_check_free(r, domain_id, local) < 0) {
        db_rollback(r->db);
        goto out;
    }
    if (user_insert(r, domain_id, local, body, &m, &user_id) < 0 || db_commit(r->db) < 0)
        goto fail;
    log_info(r->id, "created user %s@%s (store %s)", local, dname, m.store_id);
    user_reply_created(r, user_id, m.recovery, generated[0] ? generated : NULL);
    goto out;
fail:
    db_rollback(r->db);
    reply_internal(r, "user creation failed");
out:
    user_material_free(&m);
    sodium_memzero(generated, sizeof(generated));
    body_free(body);
}

void h_users_update(req *r)
{
    static const jfield fields[] = {{"display_name", JF_STRING, false},
                                    {"quota_bytes", JF_INT, false},
                                    {"enabled", JF_BOOL, false}};
    int64_t domain_id, user_id;
    if (user_resolve(r, &domain_id, &user_id) < 0)
        return;
    cJSON *body = req_json_body(r);
    if (body == NULL)
        return;
    cJSON *errors = NULL;
    if (body_check(r, body, fields, 3) < 0)
        goto out;
    user_check_common(body, &errors);
    if (errors != NULL) {
        reply_invalid(r, errors);
        goto out;
    }
    if (begin_checked(r, "users", user_id) < 0)
        goto out;
    sqlite3_stmt *st = db_prepare(
        r->db, "UPDATE users SET display_name = COALESCE(?2, display_name), quota_bytes = "
               "COALESCE(?3, quota_bytes), enabled = COALESCE(?4, enabled), updated_at = ?5 "
               "WHERE id = ?1");
    if (st == NULL)
        goto fail;
    sqlite3_bind_int64(st, 1, user_id);
    const cJSON *v;
    if ((v = cJSON_GetObjectItem(body, "display_name")) != NULL)
        sqlite3_bind_text(st, 2, v->valuestring, -1, SQLITE_STATIC);
    if ((v = cJSON_GetObjectItem(body, "quota_bytes")) != NULL)
        sqlite3_bind_int64(st, 3, (int64_t)v->valuedouble);
    if ((v = cJSON_GetObjectItem(body, "enabled")) != NULL)
        sqlite3_bind_int(st, 4, cJSON_IsTrue(v));
    sqlite3_bind_int64(st, 5, db_now());
    int rc = sqlite3_step(st);
    db_finish(st);
    if (rc != SQLITE_DONE || feed_user_upsert(r->db, user_id) < 0 || db_commit(r->db) < 0)
        goto fail;
    cJSON *o = user_load_json(r, user_id);
    if (o == NULL)
        goto fail;
    reply_json(r, 200, o);
    goto out;
fail:
    db_rollback(r->db);
    reply_internal(r, "user update failed");
out:
    body_free(body);
}

void h_users_delete(req *r)
{
    int64_t domain_id, user_id;
    if (user_resolve(r, &domain_id, &user_id) < 0)
        return;
    if (begin_checked(r, "users", user_id) < 0)
        return;
    sqlite3_stmt *st = db_prepare(r->db, "SELECT u.local || '@' || d.name, u.store_id FROM users "
                                         "u JOIN domains d ON d.id = u.domain_id WHERE u.id = ?1");
    char address[ADDRESS_BUF] = "", store_id[65] = "";
    if (st != NULL)
        sqlite3_bind_int64(st, 1, user_id);
    if (st != NULL && sqlite3_step(st) == SQLITE_ROW) {
        snprintf(address, sizeof(address), "%s", db_text(st, 0));
        snprintf(store_id, sizeof(store_id), "%s", db_text(st, 1));
    }
    db_finish(st);
    st = db_prepare(r->db, "DELETE FROM users WHERE id = ?1");
    int rc = SQLITE_ERROR;
    if (st != NULL) {
        sqlite3_bind_int64(st, 1, user_id);
        rc = sqlite3_step(st);
        db_finish(st);
    }
    if (address[0] == '\0' || rc != SQLITE_DONE || feed_delete(r->db, "user", address) < 0 ||
        db_commit(r->db) < 0) {
        db_rollback(r->db);
        reply_internal(r, "user delete failed");
        return;
    }
    user_store_remove(r, store_id);
    log_info(r->id, "deleted user %s (store %s)", address, store_id);
    reply_empty(r, 204);
}

/* Removes data/stores/<id>.db (and its -wal, -shm, -journal) and the
 * spool directory. The rows are gone already, so a failure here leaves only
 * unreadable ciphertext behind; it is logged. */
void user_store_remove(req *r, const char *store_id)
{
    static const char *suffixes[] = {".db", ".db-wal", ".db-shm", ".db-journal"};
    if (strlen(store_id) != 32 || strspn(store_id, "0123456789abcdef") != 32)
        return;
    char path[1200];
    for (size_t i = 0; i < sizeof(suffixes) / sizeof(suffixes[0]); i++) {
        snprintf(path, sizeof(path), "%s/stores/%s%s", r->app->cfg.data_dir, store_id, suffixes[i]);
        if (unlink(path) < 0 && errno != ENOENT)
            log_warn(r->id, "unlink(%s) failed: %s", path, strerror(errno));
    }
    snprintf(path, sizeof(path), "%s/spool/%s", r->app->cfg.data_dir, store_id);
    DIR *d = opendir(path);
    if (d != NULL) {
        struct dirent *e;
        while ((e = readdir(d)) != NULL) {
            if (e->d_name[0] == '.')
                continue;
            char file[1500];
            snprintf(file, sizeof(file), "%s/%s", path, e->d_name);
            if (unlink(file) < 0)
                log_warn(r->id, "unlink(%s) failed: %s", file, strerror(errno));
        }
        closedir(d);
        if (rmdir(path) < 0)
            log_warn(r->id, "rmdir(%s) failed: %s", path, strerror(errno));
    }
}

int store_list_add(char ***list, int *n, const char *store_id)
{
    char **grown = realloc(*list, sizeof(char *) * (size_t)(*n + 1));
    if (grown == NULL)
        return -1;
    *list = grown;
    grown[*n] = strdup(store_id);
    if (grown[*n] == NULL)
        return -1;
    (*n)++;
    return 0;
}

void store_list_free(char **list, int n)
{
    for (int i = 0; i < n; i++)
        free(list[i]);
    free(list);
}
