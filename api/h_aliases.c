/* /domains/{domain}/aliases[/{local}]: forwarding addresses; "*" is the
 * catch-all of its domain. */
#include "auth.h"
#include "db.h"
#include "feed.h"
#include "handlers.h"
#include "names.h"

#include <stdio.h>
#include <string.h>

#define ALIAS_TARGETS_MAX 100

#define ALIAS_COLUMNS                                                                              \
    "SELECT a.id, a.local, d.name, a.targets, a.enabled, a.created_at, a.updated_at FROM "         \
    "aliases a JOIN domains d ON d.id = a.domain_id"

static cJSON *alias_json(sqlite3 *db, sqlite3_stmt *st, const void *ctx)
{
    (void)db;
    (void)ctx;
    cJSON *o = cJSON_CreateObject();
    char address[ADDRESS_BUF];
    snprintf(address, sizeof(address), "%s@%s", db_text(st, 1), db_text(st, 2));
    cJSON_AddStringToObject(o, "address", address);
    cJSON_AddStringToObject(o, "local", db_text(st, 1));
    cJSON_AddStringToObject(o, "domain", db_text(st, 2));
    cJSON *targets = cJSON_Parse(db_text(st, 3));
    cJSON_AddItemToObject(o, "targets", targets != NULL ? targets : cJSON_CreateArray());
    cJSON_AddBoolToObject(o, "enabled", sqlite3_column_int(st, 4));
    json_add_time(o, "created_at", sqlite3_column_int64(st, 5), false);
    json_add_time(o, "updated_at", sqlite3_column_int64(st, 6), false);
    return o;
}

static void alias_reply_one(req *r, int64_t id, int status)
{
    sqlite3_stmt *st = db_prepare(r->db, ALIAS_COLUMNS " WHERE a.id = ?1");
    if (st == NULL) {
        reply_internal(r, "prepare failed");
        return;
    }
    sqlite3_bind_int64(st, 1, id);
    if (sqlite3_step(st) != SQLITE_ROW) {
        reply_problem(r, PROBLEM_NOT_FOUND, "no such alias");
    } else if (status == 201) {
        reply_json_created(r, alias_json(r->db, st, NULL), "/api/v1/domains/%s/aliases/%s",
                           db_text(st, 2), db_text(st, 1));
    } else {
        reply_json(r, status, alias_json(r->db, st, NULL));
    }
    db_finish(st);
}

static int alias_local(const char *given, char out[NAMES_LOCAL_MAX + 1], const char **err)
{
    if (strcmp(given, NAMES_CATCHALL) == 0) {
        strcpy(out, NAMES_CATCHALL);
        return 0;
    }
    return names_local_normalize(given, strlen(given), out, err);
}

/* Resolves {domain} and {local} to an alias id; replies 404 on failure. */
static int alias_resolve(req *r, int64_t *domain_id_r, int64_t *id_r)
{
    char dname[NAMES_DOMAIN_MAX + 1], local[NAMES_LOCAL_MAX + 1];
    const char *err = NULL;
    if (domain_lookup(r, r->params[0], domain_id_r, dname) < 0)
        return -1;
    if (alias_local(r->params[1], local, &err) == 0) {
        sqlite3_stmt *st = db_prepare(r->db, "SELECT id FROM aliases WHERE domain_id = ?1 AND "
                                             "local = ?2");
        if (st != NULL) {
            sqlite3_bind_int64(st, 1, *domain_id_r);
            sqlite3_bind_text(st, 2, local, -1, SQLITE_STATIC);
            int found = sqlite3_step(st) == SQLITE_ROW;
            if (found)
                *id_r = sqlite3_column_int64(st, 0);
            db_finish(st);
            if (found)
                return 0;
        }
    }
    reply_problem(r, PROBLEM_NOT_FOUND, "no such alias");
    return -1;
}

/* Is the domain of a hosted, and one the caller may see? If so, does
 * a->local exist there as a user or an alias? A domain a domain admin may not
 * see is treated as an outside domain, so that aliases cannot be used to
 * probe which addresses exist in it. */
static bool alias_hosted_exists(req *r, const names_address *a, bool *hosted_r)
{
    sqlite3_stmt *st = db_prepare(
        r->db, "SELECT d.id, (SELECT COUNT(*) FROM users u WHERE u.domain_id = d.id AND u.local = "
               "?2) + (SELECT COUNT(*) FROM aliases x WHERE x.domain_id = d.id AND x.local = ?2) "
               "FROM domains d WHERE d.name = ?1");
    *hosted_r = false;
    if (st == NULL)
        return false;
    sqlite3_bind_text(st, 1, a->domain, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, a->local, -1, SQLITE_STATIC);
    bool exists = false;
    int64_t domain_id = 0;
    if (sqlite3_step(st) == SQLITE_ROW) {
        domain_id = sqlite3_column_int64(st, 0);
        *hosted_r = true;
        exists = sqlite3_column_int64(st, 1) > 0;
    }
    db_finish(st);
    if (*hosted_r && !auth_domain_allowed(r, domain_id)) {
        *hosted_r = false;
        exists = false;
    }
    return exists;
}

/* Normalizes one target into norm, or adds an error. A target in a hosted
 * domain must exist and is lowercased; an outside one keeps its local part
 * as given (its case belongs to the remote system, RFC 5321 2.4). */
static int alias_target(req *r, const char *s, char norm[ADDRESS_BUF], cJSON **errors)
{
    names_address a;
    const char *err = NULL;
    bool hosted;
    if (names_address_parse(s, strlen(s), NAMES_LOCAL_UTF8_KEEP, &a, &err) < 0) {
        errors_add(errors, "targets", err);
        return -1;
    }
    alias_hosted_exists(r, &a, &hosted);
    if (hosted) {
        if (names_address_parse(s, strlen(s), NAMES_LOCAL_ASCII_LOWER, &a, &err) < 0 ||
            !alias_hosted_exists(r, &a, &hosted)) {
            errors_add(errors, "targets", "no such user or alias in a hosted domain");
            return -1;
        }
    }
    snprintf(norm, ADDRESS_BUF, "%s@%s", a.local, a.domain);
    return 0;
}

/* Validates targets into a JSON array text (malloc'd), without repeats. */
static char *alias_targets(req *r, const cJSON *arr, const char *self, cJSON **errors)
{
    int n = cJSON_GetArraySize(arr);
    if (n < 1 || n > ALIAS_TARGETS_MAX) {
        errors_add(errors, "targets", "must list 1 to 100 addresses");
        return NULL;
    }
    cJSON *out = cJSON_CreateArray();
    const cJSON *e;
    cJSON_ArrayForEach(e, arr)
    {
        char norm[ADDRESS_BUF];
        if (alias_target(r, e->valuestring, norm, errors) < 0)
            continue;
        if (strcmp(norm, self) == 0) {
            errors_add(errors, "targets", "an alias cannot target itself");
            continue;
        }
        bool dup = false;
        const cJSON *x;
        cJSON_ArrayForEach(x, out) dup = dup || strcmp(x->valuestring, norm) == 0;
        if (!dup)
            cJSON_AddItemToArray(out, cJSON_CreateString(norm));
    }
    char *text = *errors == NULL ? cJSON_PrintUnformatted(out) : NULL;
    cJSON_Delete(out);
    return text;
}

void h_aliases_list(req *r)
{
    int64_t domain_id;
    char dname[NAMES_DOMAIN_MAX + 1];
    if (domain_lookup(r, r->params[0], &domain_id, dname) == 0)
        reply_page(r,
                   ALIAS_COLUMNS " WHERE a.domain_id = ?1 AND a.local > ?2 ORDER BY a.local "
                                 "LIMIT ?3",
                   domain_id, 1, alias_json, NULL);
}

void h_aliases_get(req *r)
{
    int64_t domain_id, id;
    if (alias_resolve(r, &domain_id, &id) == 0)
        alias_reply_one(r, id, 200);
}

static bool alias_is_user(req *r, int64_t domain_id, const char *local)
{
    sqlite3_stmt *st = db_prepare(r->db, "SELECT 1 FROM users WHERE domain_id = ?1 AND local = ?2");
    if (st == NULL)
        return true;
    sqlite3_bind_int64(st, 1, domain_id);
    sqlite3_bind_text(st, 2, local, -1, SQLITE_STATIC);
    bool found = sqlite3_step(st) == SQLITE_ROW;
    db_finish(st);
    return found;
}

void h_aliases_create(req *r)
{
    static const jfield fields[] = {{"local", JF_STRING, true},
                                    {"targets", JF_STRING_ARRAY, true},
                                    {"enabled", JF_BOOL, false}};
    int64_t domain_id;
    char dname[NAMES_DOMAIN_MAX + 1], local[NAMES_LOCAL_MAX + 1], self[ADDRESS_BUF];
    if (domain_lookup(r, r->params[0], &domain_id, dname) < 0)
        return;
    cJSON *body = req_json_body(r);
    if (body == NULL)
        return;
    char *targets = NULL;
    if (body_check(r, body, fields, 3) < 0)
        goto out;
    cJSON *errors = NULL;
    const char *err = NULL;
    if (alias_local(json_str(body, "local", ""), local, &err) < 0)
        errors_add(&errors, "local", err);
    else if (strlen(local) + 1 + strlen(dname) > NAMES_ADDRESS_MAX)
        errors_add(&errors, "local", "the address would be longer than 254 octets");
    snprintf(self, sizeof(self), "%s@%s", local, dname);
    if (begin_checked(r, "domains", domain_id) < 0) {
        cJSON_Delete(errors);
        goto out;
    }
    targets = alias_targets(r, cJSON_GetObjectItem(body, "targets"), self, &errors);
    if (errors != NULL) {
        db_rollback(r->db);
        reply_invalid(r, errors);
        goto out;
    }
    if (alias_is_user(r, domain_id, local)) {
        db_rollback(r->db);
        reply_problem(r, PROBLEM_ALREADY_EXISTS, "%s is a user", self);
        goto out;
    }
    sqlite3_stmt *st = db_prepare(r->db, "INSERT INTO aliases (domain_id, local, targets, enabled, "
                                         "created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?5)");
    if (st == NULL)
        goto fail;
    sqlite3_bind_int64(st, 1, domain_id);
    sqlite3_bind_text(st, 2, local, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, targets, -1, SQLITE_STATIC);
    const cJSON *en = cJSON_GetObjectItem(body, "enabled");
    sqlite3_bind_int(st, 4, en == NULL || cJSON_IsTrue(en));
    sqlite3_bind_int64(st, 5, db_now());
    int rc = sqlite3_step(st);
    db_finish(st);
    if (rc == SQLITE_CONSTRAINT_UNIQUE) {
        db_rollback(r->db);
        reply_problem(r, PROBLEM_ALREADY_EXISTS, "alias %s already exists", self);
        goto out;
    }
    int64_t id = sqlite3_last_insert_rowid(r->db);
    if (rc != SQLITE_DONE || feed_alias_upsert(r->db, id) < 0 || db_commit(r->db) < 0)
        goto fail;
    alias_reply_one(r, id, 201);
    goto out;
fail:
    db_rollback(r->db);
    reply_internal(r, "alias insert failed");
out:
    cJSON_free(targets);
    body_free(body);
}

void h_aliases_update(req *r)
{
    static const jfield fields[] = {{"targets", JF_STRING_ARRAY, false},
                                    {"enabled", JF_BOOL, false}};
    int64_t domain_id, id;
    if (alias_resolve(r, &domain_id, &id) < 0)
        return;
    cJSON *body = req_json_body(r);
    if (body == NULL)
        return;
    char *targets = NULL;
    if (body_check(r, body, fields, 2) < 0)
        goto out;
    if (begin_checked(r, "aliases", id) < 0)
        goto out;
    const cJSON *t = cJSON_GetObjectItem(body, "targets");
    if (t != NULL) {
        cJSON *errors = NULL;
        char self[ADDRESS_BUF], dname[NAMES_DOMAIN_MAX + 1], local[NAMES_LOCAL_MAX + 1];
        const char *err = NULL;
        names_domain_normalize(r->params[0], strlen(r->params[0]), dname, &err);
        alias_local(r->params[1], local, &err);
        snprintf(self, sizeof(self), "%s@%s", local, dname);
        targets = alias_targets(r, t, self, &errors);
        if (errors != NULL) {
            db_rollback(r->db);
            reply_invalid(r, errors);
            goto out;
        }
    }
    sqlite3_stmt *st = db_prepare(r->db, "UPDATE aliases SET targets = COALESCE(?2, targets), "
                                         "enabled = COALESCE(?3, enabled), updated_at = ?4 WHERE "
                                         "id = ?1");
    if (st == NULL)
        goto fail;
    sqlite3_bind_int64(st, 1, id);
    if (targets != NULL)
        sqlite3_bind_text(st, 2, targets, -1, SQLITE_STATIC);
    const cJSON *en = cJSON_GetObjectItem(body, "enabled");
    if (en != NULL)
        sqlite3_bind_int(st, 3, cJSON_IsTrue(en));
    sqlite3_bind_int64(st, 4, db_now());
    int rc = sqlite3_step(st);
    db_finish(st);
    if (rc != SQLITE_DONE || feed_alias_upsert(r->db, id) < 0 || db_commit(r->db) < 0)
        goto fail;
    alias_reply_one(r, id, 200);
    goto out;
fail:
    db_rollback(r->db);
    reply_internal(r, "alias update failed");
out:
    cJSON_free(targets);
    body_free(body);
}

void h_aliases_delete(req *r)
{
    int64_t domain_id, id;
    if (alias_resolve(r, &domain_id, &id) < 0)
        return;
    if (begin_checked(r, "aliases", id) < 0)
        return;
    sqlite3_stmt *st = db_prepare(r->db, "SELECT a.local || '@' || d.name FROM aliases a JOIN "
                                         "domains d ON d.id = a.domain_id WHERE a.id = ?1");
    char address[ADDRESS_BUF] = "";
    if (st != NULL)
        sqlite3_bind_int64(st, 1, id);
    if (st != NULL && sqlite3_step(st) == SQLITE_ROW)
        snprintf(address, sizeof(address), "%s", db_text(st, 0));
    db_finish(st);
    st = db_prepare(r->db, "DELETE FROM aliases WHERE id = ?1");
    int rc = SQLITE_ERROR;
    if (st != NULL) {
        sqlite3_bind_int64(st, 1, id);
        rc = sqlite3_step(st);
        db_finish(st);
    }
    if (address[0] == '\0' || rc != SQLITE_DONE || feed_delete(r->db, "alias", address) < 0 ||
        db_commit(r->db) < 0) {
        db_rollback(r->db);
        reply_internal(r, "alias delete failed");
        return;
    }
    reply_empty(r, 204);
}
