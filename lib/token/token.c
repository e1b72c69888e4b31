#include "token.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <stdint.h>
#include <jwt.h>
#include <sodium.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define TOKEN_HEADER_MAX 512

const char *token_strerror(token_result r)
{
    switch (r) {
    case TOKEN_OK:
        return "ok";
    case TOKEN_MALFORMED:
        return "malformed token";
    case TOKEN_BAD_ALG:
        return "token algorithm is not HS256";
    case TOKEN_BAD_SIGNATURE:
        return "token signature does not verify";
    case TOKEN_BAD_CLAIMS:
        return "token claims are missing or wrong";
    case TOKEN_EXPIRED:
        return "token has expired";
    case TOKEN_NOT_YET_VALID:
        return "token is not valid yet";
    }
    return "unknown";
}

char *token_issue(const unsigned char *key, size_t keylen, const char *sub, const char *role,
                  int64_t version, int64_t auth_time, int64_t now, int64_t ttl)
{
    jwt_t *jwt = NULL;
    char *out = NULL;
    unsigned char jti_bin[16];
    char jti[33];
    randombytes_buf(jti_bin, sizeof(jti_bin));
    sodium_bin2hex(jti, sizeof(jti), jti_bin, sizeof(jti_bin));
    if (strlen(sub) > TOKEN_SUB_MAX || jwt_new(&jwt) != 0)
        return NULL;
    if (jwt_add_grant(jwt, "iss", TOKEN_ISSUER) == 0 &&
        jwt_add_grant(jwt, "aud", TOKEN_AUDIENCE) == 0 && jwt_add_grant(jwt, "sub", sub) == 0 &&
        jwt_add_grant(jwt, "role", role) == 0 &&
        jwt_add_grant(jwt, "jti", jti) == 0 && jwt_add_grant_int(jwt, "iat", (long)now) == 0 &&
        jwt_add_grant_int(jwt, "nbf", (long)now) == 0 &&
        jwt_add_grant_int(jwt, "exp", (long)(now + ttl)) == 0 &&
        jwt_add_grant_int(jwt, "auth_time", (long)auth_time) == 0 &&
        jwt_add_grant_int(jwt, "tv", (long)version) == 0 &&
        jwt_set_alg(jwt, JWT_ALG_HS256, key, (int)keylen) == 0)
        out = jwt_encode_str(jwt);
    jwt_free(jwt);
    return out;
}

static bool token_b64url_char(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
           c == '-' || c == '_';
}

/* Checks the shape: three non-empty base64url parts. Returns the header part length. */
static size_t token_shape(const char *t, size_t len)
{
    size_t dots[2];
    int nd = 0;
    for (size_t i = 0; i < len; i++) {
        if (t[i] == '.') {
            if (nd == 2)
                return 0;
            dots[nd++] = i;
        } else if (!token_b64url_char(t[i])) {
            return 0;
        }
    }
    if (nd != 2 || dots[0] == 0 || dots[1] == dots[0] + 1 || dots[1] + 1 == len)
        return 0;
    return dots[0];
}

/* The header must be a JSON object with alg exactly "HS256", typ "JWT" or
 * absent, and no crit (RFC 7515 4.1.11: we understand no extensions). */
static token_result token_check_header(const char *part, size_t len)
{
    unsigned char raw[TOKEN_HEADER_MAX];
    size_t raw_len = 0;
    if (len > (TOKEN_HEADER_MAX / 3) * 4 ||
        sodium_base642bin(raw, sizeof(raw) - 1, part, len, NULL, &raw_len, NULL,
                          sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0)
        return TOKEN_MALFORMED;
    cJSON *h = cJSON_ParseWithLength((const char *)raw, raw_len);
    if (h == NULL || !cJSON_IsObject(h)) {
        cJSON_Delete(h);
        return TOKEN_MALFORMED;
    }
    token_result r = TOKEN_OK;
    const cJSON *alg = cJSON_GetObjectItemCaseSensitive(h, "alg");
    const cJSON *typ = cJSON_GetObjectItemCaseSensitive(h, "typ");
    if (!cJSON_IsString(alg) || strcmp(alg->valuestring, "HS256") != 0)
        r = TOKEN_BAD_ALG;
    else if (typ != NULL && (!cJSON_IsString(typ) || strcmp(typ->valuestring, "JWT") != 0))
        r = TOKEN_MALFORMED;
    else if (cJSON_GetObjectItemCaseSensitive(h, "crit") != NULL)
        r = TOKEN_MALFORMED;
    cJSON_Delete(h);
    return r;
}

/* libjwt's grant getters do not tell a missing claim from one of the wrong
 * type, so the payload is read again here, after the signature checked. */
static bool token_int_claim(const cJSON *p, const char *name, int64_t *out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(p, name);
    if (!cJSON_IsNumber(v) || v->valuedouble < 0 || v->valuedouble > 9007199254740991.0 ||
        v->valuedouble != (double)(int64_t)v->valuedouble)
        return false;
    *out = (int64_t)v->valuedouble;
    return true;
}

static const char *token_str_claim(const cJSON *p, const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(p, name);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

static token_result token_check_claims(const cJSON *p, int64_t now, token_claims *c)
{
    const char *iss = token_str_claim(p, "iss");
    const char *aud = token_str_claim(p, "aud");
    const char *sub = token_str_claim(p, "sub");
    const char *jti = token_str_claim(p, "jti");
    if (iss == NULL || strcmp(iss, TOKEN_ISSUER) != 0 || aud == NULL ||
        strcmp(aud, TOKEN_AUDIENCE) != 0 || sub == NULL || sub[0] == '\0' ||
        strlen(sub) > TOKEN_SUB_MAX || jti == NULL || strlen(jti) >= sizeof(c->jti))
        return TOKEN_BAD_CLAIMS;
    if (!token_int_claim(p, "exp", &c->exp) || !token_int_claim(p, "nbf", &c->nbf) ||
        !token_int_claim(p, "iat", &c->iat) || !token_int_claim(p, "tv", &c->version) ||
        !token_int_claim(p, "auth_time", &c->auth_time))
        return TOKEN_BAD_CLAIMS;
    strcpy(c->sub, sub);
    strcpy(c->jti, jti);
    if (now >= c->exp)
        return TOKEN_EXPIRED;
    if (c->nbf > now + TOKEN_SKEW || c->iat > now + TOKEN_SKEW || c->auth_time > c->iat)
        return TOKEN_NOT_YET_VALID;
    return TOKEN_OK;
}

/* Decodes the payload part (between the dots) as a JSON object. */
static cJSON *token_payload(const char *token, size_t hlen, size_t len)
{
    const char *part = token + hlen + 1;
    const char *end = memchr(part, '.', len - hlen - 1);
    size_t plen = (size_t)(end - part);
    unsigned char *raw = malloc(plen);
    size_t raw_len = 0;
    cJSON *p = NULL;
    if (raw != NULL && sodium_base642bin(raw, plen, part, plen, NULL, &raw_len, NULL,
                                         sodium_base64_VARIANT_URLSAFE_NO_PADDING) == 0)
        p = cJSON_ParseWithLength((const char *)raw, raw_len);
    free(raw);
    if (p != NULL && !cJSON_IsObject(p)) {
        cJSON_Delete(p);
        p = NULL;
    }
    return p;
}

/* HMAC-SHA256 (RFC 7518 3.2) over "header.payload", compared in constant
 * time with the decoded third part, which must be exactly 32 bytes. The
 * algorithm is fixed here, never read from the token. */
static bool token_signature_ok(const char *token, size_t len, const unsigned char *key,
                               size_t keylen)
{
    const char *last = token + len;
    while (*--last != '.') /* token_shape found two dots */
        ;
    unsigned char given[crypto_auth_hmacsha256_BYTES + 1], mac[crypto_auth_hmacsha256_BYTES];
    size_t given_len = 0;
    const char *sig = last + 1;
    size_t sig_len = len - (size_t)(sig - token);
    if (sodium_base642bin(given, sizeof(given), sig, sig_len, NULL, &given_len, NULL,
                          sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0 ||
        given_len != sizeof(mac))
        return false;
    crypto_auth_hmacsha256_state st;
    crypto_auth_hmacsha256_init(&st, key, keylen);
    crypto_auth_hmacsha256_update(&st, (const unsigned char *)token, (size_t)(last - token));
    crypto_auth_hmacsha256_final(&st, mac);
    sodium_memzero(&st, sizeof(st));
    return sodium_memcmp(mac, given, sizeof(mac)) == 0;
}

token_result token_verify(const char *token, size_t len, const unsigned char *key, size_t keylen,
                          int64_t now, token_claims *claims_r)
{
    memset(claims_r, 0, sizeof(*claims_r));
    if (len == 0 || len > TOKEN_MAX || memchr(token, '\0', len) != NULL || key == NULL ||
        keylen < 32)
        return TOKEN_MALFORMED;
    size_t hlen = token_shape(token, len);
    if (hlen == 0)
        return TOKEN_MALFORMED;
    token_result r = token_check_header(token, hlen);
    if (r != TOKEN_OK)
        return r;
    if (!token_signature_ok(token, len, key, keylen))
        return TOKEN_BAD_SIGNATURE;
    cJSON *payload = token_payload(token, hlen, len);
    if (payload == NULL)
        return TOKEN_MALFORMED;
    r = token_check_claims(payload, now, claims_r);
    cJSON_Delete(payload);
    return r;
}
