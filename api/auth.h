/* auth: who is calling (JWT or API key), what they may see, and the
 * throttling of failed logins. */
#ifndef OWNMAIL_API_AUTH_H
#define OWNMAIL_API_AUTH_H

#include "http.h"

/* Prepares the equal-time dummy hash with the admin password parameters. */
int auth_init(const keys_kdf_params *admin_kdf);

/* Authenticates r according to mode; on failure replies (401/503) and
 * returns -1. */
int auth_request(req *r, auth_mode mode);

/* Issues a JWT for an admin; returns a malloc'd token or NULL. */
char *auth_issue(req *r, const char *username, bool global, int64_t token_version,
                 int64_t auth_time);

/* Checks an admin's password; equal time for unknown users. Returns 1 if it
 * matches, 0 if not. On a match fills id, version and enabled. */
int auth_admin_password(sqlite3 *db, const char *username, const char *password, int64_t *id_r,
                        int64_t *version_r, bool *enabled_r, bool *global_r);

/* Hashes an admin password (crypto_pwhash_str). 0 or -1. */
int auth_hash_password(req *r, const char *password, char out[128]);

/* Is the domain (by id) one the caller may see? Global admins see all. */
bool auth_domain_allowed(req *r, int64_t domain_id);
/* Replies 403 and returns false unless the caller is a global admin. */
bool auth_require_global(req *r);

/* Failed-attempt throttling through Redis counters, per client address and per
 * account (scope names the kind: "admin", "user"). throttle_check replies 429
 * (or 503 when Redis is unreachable) and returns -1 when over the limit. */
int throttle_check(req *r, const char *scope, const char *account);
void throttle_fail(req *r, const char *scope, const char *account);
void throttle_clear(req *r, const char *scope, const char *account);

#endif
