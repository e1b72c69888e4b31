/* /domains and /domains/{domain} */
#include "auth.h"
#include "db.h"
#include "feed.h"
#include "handlers.h"
#include "log.h"
#include "names.h"

#include <stdio.h>
#include <string.h>

#define DOMAIN_DESCRIPTION_MAX 256
#define DOMAIN_QUOTA_MAX (1LL << 50) /* 1 PiB: anything above is a typo */

#define DOMAIN_COLUMNS                                                                             \
    "SELECT d.id, d.name, d.description, d.enabled, d.default_quota_bytes, d.max_users, "          \
    "(SELECT COUNT(*) FROM users u WHERE u.domain_id = d.id), "                                    \
    "(SELECT COUNT(*) FROM aliases a WHERE a.domain_id = d.id), d.created_at, d.updated_at "       \
    "FROM domains d"

static cJSON *domain_json(sqlite3 *db, sqlite3_stmt *st, const void *ctx)
{
    (void)db;
    (void)ctx;
    char unicode[NAMES_DOMAIN_UNICODE_MAX + 1];
    const char *name = db_text(st, 1);
    names_domain_to_unicode(name, unicode, sizeof(unicode));
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "name", name);
    cJSON_AddStringToObject(o, "name_unicode", unicode);
    cJSON_AddStringToObject(o, "description", db_text(st, 2));
    cJSON_AddBoolToObject(o, "enabled", sqlite3_column_int(st, 3));
    json_add_int(o, "default_quota_bytes", sqlite3_column_int64(st, 4));
    json_add_int(o, "max_users", sqlite3_column_int64(st, 5));
    json_add_int(o, "user_count", sqlite3_column_int64(st, 6));
    json_add_int(o, "alias_count", sqlite3_column_int64(st, 7));
    json_add_time(o, "created_at", sqlite3_column_int64(st, 8), false);
    json_add_time(o, "updated_at", sqlite3_column_int64(st, 9), false);
    return o;
}

static void domain_reply_one(req *r, int64_t id, int status)
{
    sqlite3_stmt *st = db_prepare(r->db, DOMAIN_COLUMNS " WHERE d.id = ?1");
    if (st == NULL) {
        reply_internal(r, "prepare failed");
        return;
    }
    sqlite3_bind_int64(st, 1, id);
    if (sqlite3_step(st) != SQLITE_ROW) {
        db_finish(st);
        reply_problem(r, PROBLEM_NOT_FOUND, "no such domain");
        return;
    }
    cJSON *o = domain_json(r->db, st, NULL);
    if (status == 201)
        reply_json_created(r, o, "/api/v1/domains/%s", db_text(st, 1));
    else
        reply_json(r, status, o);
    db_finish(st);
}

int begin_checked(req *r, const char *table, int64_t id)
{
    static const struct {
        const char *table, *sql, *what;
    } checks[] = {
        {"domains", "SELECT 1 FROM domains WHERE id = ?1", "no such domain"},
        {"users", "SELECT 1 FROM users WHERE id = ?1", "no such user"},
        {"aliases", "SELECT 1 FROM aliases WHERE id = ?1", "no such alias"},
    };
    size_t n = sizeof(checks) / sizeof(checks[0]), i = 0;
    while (i < n && strcmp(checks[i].table, table) != 0)
        i++;
    if (i == n)
        log_panic("begin_checked: no check for table %s", table);
    if (db_begin(r->db) < 0) {
        reply_internal(r, "begin failed");
        return -1;
    }
    sqlite3_stmt *st = db_prepare(r->db, checks[i].sql);
    int found = 0;
    if (st != NULL) {
        sqlite3_bind_int64(st, 1, id);
        found = sqlite3_step(st) == SQLITE_ROW;
        db_finish(st);
    }
    if (found)
        return 0;
    db_rollback(r->db);
    reply_problem(r, PROBLEM_NOT_FOUND, "%s", checks[i].what);
    return -1;
}

int domain_lookup(req *r, const char *param, int64_t *id_r, char name_r[254])
{
    const char *err = NULL;
    if (names_domain_normalize(param, strlen(param), name_r, &err) == 0) {
        sqlite3_stmt *st = db_prepare(r->db, "SELECT id FROM domains WHERE name = ?1");
        if (st == NULL) {
            reply_internal(r, "prepare failed");
            return -1;
        }
        sqlite3_bind_text(st, 1, name_r, -1, SQLITE_STATIC);
        int found = sqlite3_step(st) == SQLITE_ROW;
        if (found)
            *id_r = sqlite3_column_int64(st, 0);
        db_finish(st);
        /* A domain admin gets the same 404 for a foreign domain as for a
         * missing one, so it cannot even learn which domains exist. */
        if (found && auth_domain_allowed(r, *id_r))
            return 0;
    }
    reply_problem(r, PROBLEM_NOT_FOUND, "no such domain");
    return -1;
}

void h_domains_list(req *r)
{
    reply_page(r,
               DOMAIN_COLUMNS " WHERE d.name > ?2 AND (?5 OR d.id IN (SELECT domain_id FROM "
                              "admin_domains WHERE admin_id = ?4)) ORDER BY d.name LIMIT ?3",
               0, 1, domain_json, NULL);
}

/* Checks the optional fields shared by create and update. */
static void domain_check_fields(const cJSON *body, cJSON **errors)
{
    const cJSON *v = cJSON_GetObjectItem(body, "description");
    if (v != NULL && strlen(v->valuestring) > DOMAIN_DESCRIPTION_MAX)
        errors_add(errors, "description", "longer than 256 bytes");
    v = cJSON_GetObjectItem(body, "default_quota_bytes");
    if (v != NULL && (v->valuedouble < 0 || v->valuedouble > (double)DOMAIN_QUOTA_MAX))
        errors_add(errors, "default_quota_bytes", "must be from 0 to 2^50");
    v = cJSON_GetObjectItem(body, "max_users");
    if (v != NULL && (v->valuedouble < 0 || v->valuedouble > 1e9))
        errors_add(errors, "max_users", "must be from 0 (unlimited) to 10^9");
}

static const jfield domain_fields[] = {
    {"name", JF_STRING, true},    {"description", JF_STRING, false},
    {"enabled", JF_BOOL, false},  {"default_quota_bytes", JF_INT, false},
    {"max_users", JF_INT, false},
};

void h_domains_create(req *r)
{
    if (!auth_require_global(r))
        return;
    cJSON *body = req_json_body(r);
    if (body == NULL)
        return;
    if (body_check(r, body, domain_fields, 5) < 0)
        goto out;
    cJSON *errors = NULL;
    char name[NAMES_DOMAIN_MAX + 1];
    const char *err = NULL;
    const char *given = cJSON_GetObjectItem(body, "name")->valuestring;
    if (names_domain_normalize(given, strlen(given), name, &err) < 0)
        errors_add(&errors, "name", err);
    domain_check_fields(body, &errors);
    if (errors != NULL) {
        reply_invalid(r, errors);
        goto out;
    }
    if (db_begin(r->db) < 0) {
        reply_internal(r, "begin failed");
        goto out;
    }
    sqlite3_stmt *st = db_prepare(r->db, "INSERT INTO domains (name, description, enabled, "
                                         "default_quota_bytes, max_users, created_at, updated_at) "
                                         "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6)");
    if (st == NULL)
        goto fail;
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, json_str(body, "description", ""), -1, SQLITE_STATIC);
    const cJSON *en = cJSON_GetObjectItem(body, "enabled");
    sqlite3_bind_int(st, 3, en == NULL || cJSON_IsTrue(en));
    sqlite3_bind_int64(st, 4, json_int(body, "default_quota_bytes", r->app->cfg.default_quota));
    sqlite3_bind_int64(st, 5, json_int(body, "max_users", 0));
    sqlite3_bind_int64(st, 6, db_now());
    int rc = sqlite3_step(st);
    db_finish(st);
    if (rc == SQLITE_CONSTRAINT_UNIQUE) {
        db_rollback(r->db);
        reply_problem(r, PROBLEM_ALREADY_EXISTS, "domain %s already exists", name);
        goto out;
    }
    int64_t id = sqlite3_last_insert_rowid(r->db);
    if (rc != SQLITE_DONE || feed_domain_upsert(r->db, id) < 0 || db_commit(r->db) < 0)
        goto fail;
    domain_reply_one(r, id, 201);
    goto out;
fail:
    db_rollback(r->db);
    reply_internal(r, "domain insert failed");
out:
    body_free(body);
}

void h_domains_get(req *r)
{
    int64_t id;
    char name[NAMES_DOMAIN_MAX + 1];
    if (domain_lookup(r, r->params[0], &id, name) == 0)
        domain_reply_one(r, id, 200);
}

void h_domains_update(req *r)
{
    int64_t id;
    char name[NAMES_DOMAIN_MAX + 1];
    if (domain_lookup(r, r->params[0], &id, name) < 0 || !auth_require_global(r))
        return;
    cJSON *body = req_json_body(r);
    if (body == NULL)
        return;
    cJSON *errors = NULL;
    if (body_check(r, body, domain_fields + 1, 4) < 0)
        goto out;
    domain_check_fields(body, &errors);
    if (errors != NULL) {
        reply_invalid(r, errors);
        goto out;
    }
    if (begin_checked(r, "domains", id) < 0)
        goto out;
    /* COALESCE keeps a column whose field was not sent. */
    sqlite3_stmt *st = db_prepare(
        r->db, "UPDATE domains SET description = COALESCE(?2, description), "
               "enabled = COALESCE(?3, enabled), default_quota_bytes = COALESCE(?4, "
               "default_quota_bytes), max_users = COALESCE(?5, max_users), updated_at = ?6 "
               "WHERE id = ?1");
    if (st == NULL)
        goto fail;
    sqlite3_bind_int64(st, 1, id);
    const cJSON *v;
    if ((v = cJSON_GetObjectItem(body, "description")) != NULL)
        sqlite3_bind_text(st, 2, v->valuestring, -1, SQLITE_STATIC);
    if ((v = cJSON_GetObjectItem(body, "enabled")) != NULL)
        sqlite3_bind_int(st, 3, cJSON_IsTrue(v));
    if ((v = cJSON_GetObjectItem(body, "default_quota_bytes")) != NULL)
        sqlite3_bind_int64(st, 4, (int64_t)v->valuedouble);
    if ((v = cJSON_GetObjectItem(body, "max_users")) != NULL)
        sqlite3_bind_int64(st, 5, (int64_t)v->valuedouble);
    sqlite3_bind_int64(st, 6, db_now());
    int rc = sqlite3_step(st);
    db_finish(st);
    if (rc != SQLITE_DONE || feed_domain_upsert(r->db, id) < 0 || db_commit(r->db) < 0)
        goto fail;
    domain_reply_one(r, id, 200);
    goto out;
fail:
    db_rollback(r->db);
    reply_internal(r, "domain update failed");
out:
    body_free(body);
}

/* Appends delete events for every child of a domain that is going away, so
 * followers drop them too (the rows go by ON DELETE CASCADE). */
static int domain_feed_children(req *r, int64_t id, const char *name, char ***stores_r,
                                int *nstores_r);

void h_domains_delete(req *r)
{
    int64_t id;
    char name[NAMES_DOMAIN_MAX + 1];
    if (domain_lookup(r, r->params[0], &id, name) < 0 || !auth_require_global(r))
        return;
    char force[8] = "";
    if (req_query(r, "force", force, sizeof(force)) < 0 ||
        (force[0] != '\0' && strcmp(force, "true") != 0 && strcmp(force, "false") != 0)) {
        reply_problem(r, PROBLEM_BAD_REQUEST, "force must be true or false");
        return;
    }
    if (begin_checked(r, "domains", id) < 0)
        return;
    sqlite3_stmt *st =
        db_prepare(r->db, "SELECT (SELECT COUNT(*) FROM users WHERE domain_id = "
                          "?1) + (SELECT COUNT(*) FROM aliases WHERE domain_id = ?1)");
    if (st == NULL)
        goto fail;
    sqlite3_bind_int64(st, 1, id);
    int64_t children = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : -1;
    db_finish(st);
    if (children > 0 && strcmp(force, "true") != 0) {
        db_rollback(r->db);
        reply_problem(r, PROBLEM_DOMAIN_NOT_EMPTY,
                      "%s still has %lld users and aliases; use ?force=true", name,
                      (long long)children);
        return;
    }
    char **stores = NULL;
    int nstores = 0;
    if (children < 0 || domain_feed_children(r, id, name, &stores, &nstores) < 0)
        goto fail;
    st = db_prepare(r->db, "DELETE FROM domains WHERE id = ?1");
    if (st == NULL)
        goto fail_stores;
    sqlite3_bind_int64(st, 1, id);
    int rc = sqlite3_step(st);
    db_finish(st);
    if (rc != SQLITE_DONE || feed_delete(r->db, "domain", name) < 0 || db_commit(r->db) < 0)
        goto fail_stores;
    for (int i = 0; i < nstores; i++)
        user_store_remove(r, stores[i]);
    store_list_free(stores, nstores);
    reply_empty(r, 204);
    return;
fail_stores:
    store_list_free(stores, nstores);
fail:
    db_rollback(r->db);
    reply_internal(r, "domain delete failed");
}

static int domain_feed_children(req *r, int64_t id, const char *name, char ***stores_r,
                                int *nstores_r)
{
    static const struct {
        const char *kind;
        const char *sql;
    } children[] = {
        {"user", "SELECT local || '@' || ?2, store_id FROM users WHERE domain_id = ?1"},
        {"alias", "SELECT local || '@' || ?2, NULL FROM aliases WHERE domain_id = ?1"},
        {"dkim", "SELECT ?2 || '/' || selector, NULL FROM dkim_keys WHERE domain_id = ?1"},
    };
    for (size_t i = 0; i < sizeof(children) / sizeof(children[0]); i++) {
        sqlite3_stmt *st = db_prepare(r->db, children[i].sql);
        if (st == NULL)
            return -1;
        sqlite3_bind_int64(st, 1, id);
        sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
        while (sqlite3_step(st) == SQLITE_ROW) {
            if (feed_delete(r->db, children[i].kind, db_text(st, 0)) < 0 ||
                (sqlite3_column_type(st, 1) == SQLITE_TEXT &&
                 store_list_add(stores_r, nstores_r, db_text(st, 1)) < 0)) {
                db_finish(st);
                return -1;
            }
        }
        db_finish(st);
    }
    return 0;
}
