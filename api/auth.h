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

/* The first token version of a new admin: random (below 2^53), so that a
 * token of a deleted admin never fits a new admin of the same name. */
int64_t auth_new_token_version(void);

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

/* Failed-login throttling through Redis counters, per client address and per
 * account (scope names the kind: "admin", "user"). Call throttle_attempt
 * before checking a credential: it counts the attempt and, over the limit,
 * replies 429 (or 503 when Redis is unreachable) and returns -1. Then call
 * throttle_success (clears the account's count and takes the attempt back
 * from the address's) or throttle_failed (logs it; it stays counted). */
int throttle_attempt(req *r, const char *scope, const char *account);
void throttle_success(req *r, const char *scope, const char *account);
void throttle_failed(req *r, const char *scope, const char *account);

#endif
