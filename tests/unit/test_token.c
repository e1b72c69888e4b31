/* Table test of token_verify against the JWT attacks the api must refuse. */
#include "token.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#define NOW 1800000000LL

static unsigned char key[32];

static void b64url(const char *in, size_t len, char *out, size_t outlen)
{
    sodium_bin2base64(out, outlen, (const unsigned char *)in, len,
                      sodium_base64_VARIANT_URLSAFE_NO_PADDING);
}

/* Builds header.payload.signature; sig_alg: "HS256", "HS512", "none", "bad". */
static char *forge(const char *header, const char *payload, const char *sig_alg,
                   const unsigned char *k)
{
    char h[1024], p[2048], sig[256] = "";
    b64url(header, strlen(header), h, sizeof(h));
    b64url(payload, strlen(payload), p, sizeof(p));
    char *signing = malloc(strlen(h) + strlen(p) + 2);
    sprintf(signing, "%s.%s", h, p);
    if (strcmp(sig_alg, "HS256") == 0) {
        unsigned char mac[crypto_auth_hmacsha256_BYTES];
        crypto_auth_hmacsha256_state st;
        crypto_auth_hmacsha256_init(&st, k, 32);
        crypto_auth_hmacsha256_update(&st, (unsigned char *)signing, strlen(signing));
        crypto_auth_hmacsha256_final(&st, mac);
        b64url((char *)mac, sizeof(mac), sig, sizeof(sig));
    } else if (strcmp(sig_alg, "HS512") == 0) {
        unsigned char mac[crypto_auth_hmacsha512_BYTES];
        crypto_auth_hmacsha512_state st;
        crypto_auth_hmacsha512_init(&st, k, 32);
        crypto_auth_hmacsha512_update(&st, (unsigned char *)signing, strlen(signing));
        crypto_auth_hmacsha512_final(&st, mac);
        b64url((char *)mac, sizeof(mac), sig, sizeof(sig));
    } else if (strcmp(sig_alg, "bad") == 0) {
        strcpy(sig, "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA");
    }
    char *out = malloc(strlen(signing) + strlen(sig) + 2);
    sprintf(out, "%s.%s", signing, sig);
    free(signing);
    return out;
}

#define GOOD_CLAIMS(iss, aud, exp, nbf)                                                            \
    "{\"iss\":\"" iss "\",\"aud\":\"" aud "\",\"sub\":\"admin\",\"jti\":\"abc\","                \
    "\"iat\":1800000000,\"nbf\":" nbf ",\"exp\":" exp ",\"auth_time\":1800000000,\"tv\":3}"

static const struct {
    const char *name;
    const char *header;
    const char *payload;
    const char *sig;
    int other_key;
    token_result want;
} cases[] = {
    {"valid", "{\"alg\":\"HS256\",\"typ\":\"JWT\"}",
     GOOD_CLAIMS("ownmail", "ownmail-api", "1800000900", "1800000000"), "HS256", 0, TOKEN_OK},
    {"valid without typ", "{\"alg\":\"HS256\"}",
     GOOD_CLAIMS("ownmail", "ownmail-api", "1800000900", "1800000000"), "HS256", 0, TOKEN_OK},
    {"alg none, empty signature", "{\"alg\":\"none\",\"typ\":\"JWT\"}",
     GOOD_CLAIMS("ownmail", "ownmail-api", "1800000900", "1800000000"), "none", 0, TOKEN_MALFORMED},
    {"alg none with a signature", "{\"alg\":\"none\",\"typ\":\"JWT\"}",
     GOOD_CLAIMS("ownmail", "ownmail-api", "1800000900", "1800000000"), "HS256", 0, TOKEN_BAD_ALG},
    {"alg None", "{\"alg\":\"None\"}",
     GOOD_CLAIMS("ownmail", "ownmail-api", "1800000900", "1800000000"), "HS256", 0, TOKEN_BAD_ALG},
    {"HS512 with our key", "{\"alg\":\"HS512\"}",
     GOOD_CLAIMS("ownmail", "ownmail-api", "1800000900", "1800000000"), "HS512", 0, TOKEN_BAD_ALG},
    {"RS256 (key confusion)", "{\"alg\":\"RS256\"}",
     GOOD_CLAIMS("ownmail", "ownmail-api", "1800000900", "1800000000"), "HS256", 0, TOKEN_BAD_ALG},
    {"alg missing", "{\"typ\":\"JWT\"}",
     GOOD_CLAIMS("ownmail", "ownmail-api", "1800000900", "1800000000"), "HS256", 0, TOKEN_BAD_ALG},
    {"alg not a string", "{\"alg\":256}",
     GOOD_CLAIMS("ownmail", "ownmail-api", "1800000900", "1800000000"), "HS256", 0, TOKEN_BAD_ALG},
    {"crit header", "{\"alg\":\"HS256\",\"crit\":[\"x\"]}",
     GOOD_CLAIMS("ownmail", "ownmail-api", "1800000900", "1800000000"), "HS256", 0,
     TOKEN_MALFORMED},
    {"typ not JWT", "{\"alg\":\"HS256\",\"typ\":\"JWE\"}",
     GOOD_CLAIMS("ownmail", "ownmail-api", "1800000900", "1800000000"), "HS256", 0,
     TOKEN_MALFORMED},
    {"signed with another key", "{\"alg\":\"HS256\"}",
     GOOD_CLAIMS("ownmail", "ownmail-api", "1800000900", "1800000000"), "HS256", 1,
     TOKEN_BAD_SIGNATURE},
    {"garbage signature", "{\"alg\":\"HS256\"}",
     GOOD_CLAIMS("ownmail", "ownmail-api", "1800000900", "1800000000"), "bad", 0,
     TOKEN_BAD_SIGNATURE},
    {"expired", "{\"alg\":\"HS256\"}",
     GOOD_CLAIMS("ownmail", "ownmail-api", "1800000000", "1799999000"), "HS256", 0, TOKEN_EXPIRED},
    {"not yet valid", "{\"alg\":\"HS256\"}",
     GOOD_CLAIMS("ownmail", "ownmail-api", "1800009000", "1800001000"), "HS256", 0,
     TOKEN_NOT_YET_VALID},
    {"wrong issuer", "{\"alg\":\"HS256\"}",
     GOOD_CLAIMS("someone", "ownmail-api", "1800000900", "1800000000"), "HS256", 0,
     TOKEN_BAD_CLAIMS},
    {"wrong audience", "{\"alg\":\"HS256\"}",
     GOOD_CLAIMS("ownmail", "ownmail-web", "1800000900", "1800000000"), "HS256", 0,
     TOKEN_BAD_CLAIMS},
    {"no exp", "{\"alg\":\"HS256\"}",
     "{\"iss\":\"ownmail\",\"aud\":\"ownmail-api\",\"sub\":\"admin\",\"jti\":\"a\","
     "\"iat\":1800000000,\"nbf\":1800000000,\"auth_time\":1800000000,\"tv\":1}",
     "HS256", 0, TOKEN_BAD_CLAIMS},
    {"exp as string", "{\"alg\":\"HS256\"}",
     "{\"iss\":\"ownmail\",\"aud\":\"ownmail-api\",\"sub\":\"admin\",\"jti\":\"a\","
     "\"iat\":1800000000,\"nbf\":1800000000,\"exp\":\"1900000000\",\"auth_time\":1800000000,"
     "\"tv\":1}",
     "HS256", 0, TOKEN_BAD_CLAIMS},
    {"no token version", "{\"alg\":\"HS256\"}",
     "{\"iss\":\"ownmail\",\"aud\":\"ownmail-api\",\"sub\":\"admin\",\"jti\":\"a\","
     "\"iat\":1800000000,\"nbf\":1800000000,\"exp\":1800000900,\"auth_time\":1800000000}",
     "HS256", 0, TOKEN_BAD_CLAIMS},
    {"header not JSON", "not json",
     GOOD_CLAIMS("ownmail", "ownmail-api", "1800000900", "1800000000"), "HS256", 0,
     TOKEN_MALFORMED},
};

static void test_table(void **state)
{
    (void)state;
    unsigned char other[32];
    memset(other, 0x42, sizeof(other));
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char *t = forge(cases[i].header, cases[i].payload, cases[i].sig,
                        cases[i].other_key ? other : key);
        token_claims c;
        token_result got = token_verify(t, strlen(t), key, sizeof(key), NOW, &c);
        if (got != cases[i].want) {
            free(t);
            fail_msg("%s: got %s, want %s", cases[i].name, token_strerror(got),
                     token_strerror(cases[i].want));
        }
        if (got == TOKEN_OK) {
            assert_string_equal(c.sub, "admin");
            assert_int_equal(c.version, 3);
        }
        free(t);
    }
}

static void test_issue_round_trip(void **state)
{
    (void)state;
    char *t = token_issue(key, sizeof(key), "alice", "global", 7, NOW - 10, NOW, 900);
    assert_non_null(t);
    token_claims c;
    assert_int_equal(token_verify(t, strlen(t), key, sizeof(key), NOW + 899, &c), TOKEN_OK);
    assert_string_equal(c.sub, "alice");
    assert_int_equal(c.version, 7);
    assert_int_equal(c.auth_time, NOW - 10);
    assert_int_equal(c.exp, NOW + 900);
    assert_int_equal(token_verify(t, strlen(t), key, sizeof(key), NOW + 900, &c), TOKEN_EXPIRED);
    /* Every single changed character is refused. */
    size_t len = strlen(t);
    for (size_t i = 0; i < len; i++) {
        char saved = t[i];
        t[i] = saved == 'A' ? 'B' : 'A';
        token_result r = token_verify(t, len, key, sizeof(key), NOW, &c);
        if (r == TOKEN_OK && saved != t[i]) {
            /* base64url's last character may carry unused bits: only OK if
             * the decoded bytes are the same, which libsodium rejects. */
            fail_msg("changed char %zu still verifies", i);
        }
        t[i] = saved;
    }
    free(t);
}

static void test_shapes(void **state)
{
    (void)state;
    static const char *bad[] = {"", ".", "..", "a.b", "a.b.c.d", "a..c", ".b.c", "a.b.",
                                "a b.c.d", "a.b.c=", "a.b.c\n"};
    token_claims c;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_not_equal(token_verify(bad[i], strlen(bad[i]), key, sizeof(key), NOW, &c),
                             TOKEN_OK);
    char *huge = malloc(TOKEN_MAX + 2);
    memset(huge, 'a', TOKEN_MAX + 1);
    huge[10] = '.';
    huge[20] = '.';
    huge[TOKEN_MAX + 1] = '\0';
    assert_int_equal(token_verify(huge, TOKEN_MAX + 1, key, sizeof(key), NOW, &c),
                     TOKEN_MALFORMED);
    free(huge);
    /* A short key is refused outright. */
    assert_int_equal(token_verify("a.b.c", 5, key, 16, NOW, &c), TOKEN_MALFORMED);
}

int main(void)
{
    if (sodium_init() < 0)
        return 1;
    randombytes_buf(key, sizeof(key));
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table),
        cmocka_unit_test(test_issue_round_trip),
        cmocka_unit_test(test_shapes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
