/* POST /auth/token, POST /auth/refresh, GET /me */
#include "auth.h"
#include "db.h"
#include "handlers.h"
#include "names.h"

#include <stdlib.h>
#include <string.h>

#define AUTH_PASSWORD_MAX 1024

static void reply_token(req *r, char *token)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "access_token", token);
    cJSON_AddStringToObject(o, "token_type", "Bearer");
    cJSON_AddNumberToObject(o, "expires_in", (double)r->app->cfg.jwt_ttl);
    free(token);
    reply_json(r, 200, o);
}

void h_auth_token(req *r)
{
    static const jfield fields[] = {{"username", JF_STRING, true}, {"password", JF_STRING, true}};
    cJSON *body = req_json_body(r);
    if (body == NULL)
        return;
    if (body_check(r, body, fields, 2) < 0)
        goto out;
    const char *user = cJSON_GetObjectItem(body, "username")->valuestring;
    const char *pass = cJSON_GetObjectItem(body, "password")->valuestring;
    if (!names_username_valid(user, strlen(user)) || strlen(pass) > AUTH_PASSWORD_MAX) {
        reply_problem(r, PROBLEM_INVALID_CREDENTIALS, "wrong username or password");
        goto out;
    }
    if (throttle_attempt(r, "admin", user) < 0)
        goto out;
    int64_t id = 0, version = 0;
    bool enabled = false, global = false;
    if (!auth_admin_password(r->db, user, pass, &id, &version, &enabled, &global) || !enabled) {
        throttle_failed(r, "admin", user);
        reply_problem(r, PROBLEM_INVALID_CREDENTIALS, "wrong username or password");
        goto out;
    }
    throttle_success(r, "admin", user);
    char *token = auth_issue(r, user, global, version, db_now());
    if (token == NULL)
        reply_internal(r, "token signing failed");
    else
        reply_token(r, token);
out:
    body_free(body);
}

/* A fresh token for the same login, until the maximum session age. API keys
 * do not need this and cannot use it. */
void h_auth_refresh(req *r)
{
    if (r->who.via_api_key) {
        reply_problem(r, PROBLEM_FORBIDDEN,
                      "API keys do not expire this way; refresh is for "
                      "tokens");
        return;
    }
    if (db_now() - r->who.auth_time > r->app->cfg.jwt_max_session) {
        reply_problem(r, PROBLEM_UNAUTHORIZED, "the session is too old: log in again");
        return;
    }
    sqlite3_stmt *st = db_prepare(r->db, "SELECT token_version FROM admins WHERE id = ?1");
    if (st == NULL) {
        reply_internal(r, "prepare failed");
        return;
    }
    sqlite3_bind_int64(st, 1, r->who.admin_id);
    int64_t version = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
    db_finish(st);
    char *token = auth_issue(r, r->who.username, r->who.global, version, r->who.auth_time);
    if (token == NULL)
        reply_internal(r, "token signing failed");
    else
        reply_token(r, token);
}

void h_me(req *r)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "username", r->who.username);
    cJSON_AddStringToObject(o, "role", r->who.global ? "global" : "domain");
    cJSON_AddItemToObject(o, "domains", admin_domains_json(r->db, r->who.admin_id));
    cJSON_AddStringToObject(o, "auth", r->who.via_api_key ? "api_key" : "jwt");
    reply_json(r, 200, o);
}
