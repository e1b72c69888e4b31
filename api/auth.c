#include "auth.h"
#include "throttle.h"

#include "db.h"
#include "log.h"
#include "rds.h"
#include "token.h"

#include <sodium.h>
#include <string.h>
#include <strings.h>

#define APIKEY_PREFIX "omk_"
#define APIKEY_ID_HEX 16
#define APIKEY_TOUCH_INTERVAL 60 /* seconds between last_used_at writes */

/* A hash of a password nobody has, checked when the username is unknown so
 * that the reply takes as long as for a known one. */
static char auth_dummy_hash[crypto_pwhash_STRBYTES];

static int auth_load_admin(req *r, const char *username, int64_t version, bool check_version)
{
    sqlite3_stmt *st = db_prepare(r->db, "SELECT id, role, enabled, token_version FROM admins "
                                         "WHERE username = ?1");
    if (st == NULL)
        return -1;
    sqlite3_bind_text(st, 1, username, -1, SQLITE_STATIC);
    int ok = -1;
    if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_int(st, 2) == 1 &&
        (!check_version || sqlite3_column_int64(st, 3) == version)) {
        r->who.admin_id = sqlite3_column_int64(st, 0);
        r->who.global = strcmp(db_text(st, 1), "global") == 0;
        snprintf(r->who.username, sizeof(r->who.username), "%s", username);
        r->who.authenticated = true;
        ok = 0;
    }
    db_finish(st);
    return ok;
}

static int auth_jwt(req *r, const char *token)
{
    token_claims c;
    token_result tr = token_verify(token, strlen(token), keys_secret_bytes(r->app->jwt_key),
                                   keys_secret_len(r->app->jwt_key), db_now(), &c);
    if (tr != TOKEN_OK) {
        reply_problem(r, PROBLEM_UNAUTHORIZED, "%s", token_strerror(tr));
        return -1;
    }
    if (auth_load_admin(r, c.sub, c.version, true) < 0) {
        reply_problem(r, PROBLEM_UNAUTHORIZED, "the token has been revoked");
        return -1;
    }
    r->who.auth_time = c.auth_time;
    return 0;
}

static void auth_apikey_touch(req *r, const char *id, int64_t last_used)
{
    int64_t now = db_now();
    if (last_used != 0 && now - last_used < APIKEY_TOUCH_INTERVAL)
        return;
    sqlite3_stmt *st = db_prepare(r->db, "UPDATE api_keys SET last_used_at = ?1 WHERE id = ?2");
    if (st == NULL)
        return;
    sqlite3_bind_int64(st, 1, now);
    sqlite3_bind_text(st, 2, id, -1, SQLITE_STATIC);
    sqlite3_step(st);
    db_finish(st);
}

/* "omk_<16 hex id>_<secret>": the id finds the row, the secret's hash must match. */
static int auth_apikey(req *r, const char *key)
{
    const char *p = key + strlen(APIKEY_PREFIX);
    char id[APIKEY_ID_HEX + 1];
    if (strlen(p) < APIKEY_ID_HEX + 2 || p[APIKEY_ID_HEX] != '_')
        goto bad;
    memcpy(id, p, APIKEY_ID_HEX);
    id[APIKEY_ID_HEX] = '\0';
    const char *secret = p + APIKEY_ID_HEX + 1;
    unsigned char hash[32];
    crypto_generichash(hash, sizeof(hash), (const unsigned char *)secret, strlen(secret), NULL, 0);

    sqlite3_stmt *st = db_prepare(r->db, "SELECT k.secret_hash, k.expires_at, k.last_used_at, "
                                         "a.username FROM api_keys k JOIN admins a "
                                         "ON a.id = k.admin_id WHERE k.id = ?1");
    if (st == NULL)
        goto bad;
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    bool ok = false;
    int64_t last_used = 0;
    char username[65] = "";
    if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_bytes(st, 0) == (int)sizeof(hash) &&
        sodium_memcmp(sqlite3_column_blob(st, 0), hash, sizeof(hash)) == 0) {
        int64_t exp = sqlite3_column_int64(st, 1);
        ok = exp == 0 || exp > db_now();
        last_used = sqlite3_column_int64(st, 2);
        snprintf(username, sizeof(username), "%s", db_text(st, 3));
    }
    db_finish(st);
    if (!ok || auth_load_admin(r, username, 0, false) < 0)
        goto bad;
    r->who.via_api_key = true;
    auth_apikey_touch(r, id, last_used);
    return 0;
bad:
    reply_problem(r, PROBLEM_UNAUTHORIZED, "the API key is unknown, expired or revoked");
    return -1;
}

int auth_request(req *r, auth_mode mode)
{
    if (mode == AUTH_NONE)
        return 0;
    const char *h = req_header(r, "Authorization");
    if (h == NULL) {
        reply_problem(r, PROBLEM_UNAUTHORIZED, "send Authorization: Bearer <token or API key>");
        return -1;
    }
    if (strncasecmp(h, "Bearer ", 7) != 0) {
        reply_problem(r, PROBLEM_UNAUTHORIZED, "only the Bearer scheme is accepted");
        return -1;
    }
    const char *cred = h + 7;
    while (*cred == ' ')
        cred++;
    if (strncmp(cred, APIKEY_PREFIX, strlen(APIKEY_PREFIX)) == 0)
        return auth_apikey(r, cred);
    return auth_jwt(r, cred);
}

char *auth_issue(req *r, const char *username, bool global, int64_t token_version,
                 int64_t auth_time)
{
    return token_issue(keys_secret_bytes(r->app->jwt_key), keys_secret_len(r->app->jwt_key),
                       username, global ? "global" : "domain", token_version, auth_time, db_now(),
                       r->app->cfg.jwt_ttl);
}

int64_t auth_new_token_version(void)
{
    return (int64_t)(randombytes_random() & 0x1fffff) << 32 | randombytes_random();
}

int auth_init(const keys_kdf_params *admin_kdf)
{
    unsigned char rnd[16];
    randombytes_buf(rnd, sizeof(rnd));
    return crypto_pwhash_str(auth_dummy_hash, (const char *)rnd, sizeof(rnd), admin_kdf->opslimit,
                             admin_kdf->memlimit) == 0
               ? 0
               : -1;
}

int auth_admin_password(sqlite3 *db, const char *username, const char *password, int64_t *id_r,
                        int64_t *version_r, bool *enabled_r, bool *global_r)
{
    sqlite3_stmt *st = db_prepare(db, "SELECT id, password_hash, token_version, enabled, role "
                                      "FROM admins WHERE username = ?1");
    if (st == NULL)
        return 0;
    sqlite3_bind_text(st, 1, username, -1, SQLITE_STATIC);
    int match = 0;
    if (sqlite3_step(st) == SQLITE_ROW) {
        match = crypto_pwhash_str_verify(db_text(st, 1), password, strlen(password)) == 0;
        *id_r = sqlite3_column_int64(st, 0);
        *version_r = sqlite3_column_int64(st, 2);
        *enabled_r = sqlite3_column_int(st, 3) == 1;
        *global_r = strcmp(db_text(st, 4), "global") == 0;
    } else if (auth_dummy_hash[0] != '\0') {
        /* Equal time only: the dummy hash never counts as a match. */
        if (crypto_pwhash_str_verify(auth_dummy_hash, password, strlen(password)) == 0)
            match = 0;
    }
    db_finish(st);
    return match;
}

int auth_hash_password(req *r, const char *password, char out[128])
{
    const keys_kdf_params *p = &r->app->cfg.kdf_admin;
    return crypto_pwhash_str(out, password, strlen(password), p->opslimit, p->memlimit) == 0 ? 0
                                                                                             : -1;
}

bool auth_domain_allowed(req *r, int64_t domain_id)
{
    if (r->who.global)
        return true;
    sqlite3_stmt *st = db_prepare(r->db, "SELECT 1 FROM admin_domains WHERE admin_id = ?1 AND "
                                         "domain_id = ?2");
    if (st == NULL)
        return false;
    sqlite3_bind_int64(st, 1, r->who.admin_id);
    sqlite3_bind_int64(st, 2, domain_id);
    bool ok = sqlite3_step(st) == SQLITE_ROW;
    db_finish(st);
    return ok;
}

bool auth_require_global(req *r)
{
    if (r->who.global)
        return true;
    reply_problem(r, PROBLEM_FORBIDDEN, "only a global admin may do this");
    return false;
}

static redisReply *auth_rds(void *ctx, int argc, const char **argv, const size_t *lens)
{
    (void)ctx;
    return rds_command_argv(argc, argv, lens);
}

static throttle_policy auth_throttle_policy(const req *r)
{
    throttle_policy p = {r->app->cfg.throttle_window, r->app->cfg.throttle_ip_max,
                         r->app->cfg.throttle_account_max};
    return p;
}

int throttle_attempt(req *r, const char *scope, const char *account)
{
    throttle_policy p = auth_throttle_policy(r);
    long ttl = 0;
    switch (throttle_count(auth_rds, NULL, &p, scope, req_ip(r), account, &ttl)) {
    case THROTTLE_OK:
        return 0;
    case THROTTLE_UNAVAILABLE:
        /* Fail closed: without the counters there is no brute-force limit. */
        reply_problem(r, PROBLEM_SERVICE_UNAVAILABLE, "login throttling is unavailable");
        return -1;
    case THROTTLE_OVER:
        break;
    }
    log_warn(r->id, "throttled %s login for %s from %s", scope, account, req_ip(r));
    reply_retry_after(r, ttl);
    reply_problem(r, PROBLEM_TOO_MANY_REQUESTS, "too many failed attempts");
    return -1;
}

void throttle_failed(req *r, const char *scope, const char *account)
{
    log_warn(r->id, "failed %s login for %s from %s", scope, account, req_ip(r));
}

void throttle_success(req *r, const char *scope, const char *account)
{
    throttle_forgive(auth_rds, NULL, scope, req_ip(r), account);
}
