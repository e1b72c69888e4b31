/* token: issue and verify the api's JSON Web Tokens (RFC 7519), HS256 only.
 *
 * libjwt 1.10 (which signs the tokens) takes the algorithm from the token
 * itself, verifies nothing when given no key and checks no registered claim,
 * so verification does not use it. Verification here is:
 * the header must say exactly {"alg":"HS256"} (typ JWT or absent, no crit),
 * the signature must verify under our key, and iss, aud, exp, nbf, iat, sub
 * must all be present and right. Pure: no I/O; the time is passed in.
 */
#ifndef OWNMAIL_TOKEN_H
#define OWNMAIL_TOKEN_H

#include <stddef.h>
#include <stdint.h>

#define TOKEN_MAX 4096        /* longest token accepted */
#define TOKEN_SUB_MAX 64
#define TOKEN_SKEW 30         /* seconds of clock skew allowed on nbf and iat */
#define TOKEN_ISSUER "ownmail"
#define TOKEN_AUDIENCE "ownmail-api"

typedef struct token_claims {
    char sub[TOKEN_SUB_MAX + 1]; /* admin username */
    int64_t iat, nbf, exp;
    int64_t auth_time;           /* when the password was checked */
    int64_t version;             /* the admin's token version at issue */
    char jti[33];
} token_claims;

typedef enum {
    TOKEN_OK = 0,
    TOKEN_MALFORMED,     /* not three base64url parts, bad JSON, too long */
    TOKEN_BAD_ALG,       /* anything but HS256 (none, RS256, HS512, ...) */
    TOKEN_BAD_SIGNATURE,
    TOKEN_BAD_CLAIMS,    /* wrong or missing iss, aud, sub, iat, tv, auth_time */
    TOKEN_EXPIRED,
    TOKEN_NOT_YET_VALID,
} token_result;

const char *token_strerror(token_result r);

/* Signs a token for sub valid from now for ttl seconds. role is informative
 * for clients (the server reads the admin's role from its database on every
 * request). Returns a malloc'd string (free() it) or NULL. */
char *token_issue(const unsigned char *key, size_t keylen, const char *sub, const char *role,
                  int64_t version, int64_t auth_time, int64_t now, int64_t ttl);

token_result token_verify(const char *token, size_t len, const unsigned char *key, size_t keylen,
                          int64_t now, token_claims *claims_r);

#endif
