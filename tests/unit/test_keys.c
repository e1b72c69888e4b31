/* Unit tests for lib/keys. Wraps use KEYS_KDF_FAST (1 pass, 8 KiB) so the
 * whole run stays fast; one test times the default parameters. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <dirent.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "keys.h"

static const char cred[] = "correct horse battery staple";
#define CRED_LEN (sizeof(cred) - 1)

static keys_secret *new_store_key(void)
{
    keys_secret *k = NULL;
    assert_int_equal(keys_store_key_new(&k), KEYS_OK);
    assert_non_null(k);
    assert_int_equal(keys_secret_len(k), KEYS_KEY_LEN);
    return k;
}

static void wrap_fast(const keys_secret *k, unsigned char **blob, size_t *len)
{
    keys_kdf_params p = KEYS_KDF_FAST;
    assert_int_equal(keys_wrap(k, cred, CRED_LEN, &p, blob, len), KEYS_OK);
    assert_int_equal(*len, KEYS_WRAP_BLOB_LEN);
}

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- secrets ---- */

static void test_secret_basics(void **state)
{
    (void)state;
    assert_int_equal(keys_init(), KEYS_OK);
    assert_int_equal(keys_init(), KEYS_OK);
    const unsigned char bytes[5] = {1, 2, 3, 4, 5};
    keys_secret *s = NULL;
    assert_int_equal(keys_secret_from_bytes(bytes, sizeof(bytes), &s), KEYS_OK);
    assert_int_equal(keys_secret_len(s), 5);
    assert_memory_equal(keys_secret_bytes(s), bytes, 5);
    assert_int_equal(keys_secret_bytes(s)[5], 0); /* trailing NUL */
    keys_secret_free(&s);
    assert_null(s);
    keys_secret_free(&s); /* no-op */
    keys_secret_free(NULL);

    assert_int_equal(keys_secret_from_bytes(bytes, 0, &s), KEYS_ERR_INVALID);
    assert_null(s);
    assert_int_equal(keys_secret_random(KEYS_SECRET_MAX + 1, &s), KEYS_ERR_INVALID);
    assert_null(s);
    assert_int_equal(keys_secret_from_bytes(NULL, 3, &s), KEYS_ERR_INVALID);

    keys_secret *a = new_store_key();
    keys_secret *b = new_store_key();
    assert_memory_not_equal(keys_secret_bytes(a), keys_secret_bytes(b), KEYS_KEY_LEN);
    keys_secret_free(&a);
    keys_secret_free(&b);
    assert_null(a);
    assert_null(b);
}

static void test_strerror(void **state)
{
    (void)state;
    for (int r = KEYS_OK; r <= KEYS_ERR_INTERNAL; r++)
        assert_true(strlen(keys_strerror((keys_result)r)) > 0);
    assert_string_equal(keys_strerror((keys_result)99), "unknown error");
}

/* ---- wraps ---- */

static void test_wrap_roundtrip(void **state)
{
    (void)state;
    keys_secret *k = new_store_key();
    unsigned char *blob = NULL;
    size_t len = 0;
    wrap_fast(k, &blob, &len);
    /* Header: version 1, opslimit 1, memlimit 8 KiB, all big-endian. */
    const unsigned char header[9] = {1, 0, 0, 0, 1, 0, 0, 0, 8};
    assert_memory_equal(blob, header, sizeof(header));

    keys_secret *out = NULL;
    assert_int_equal(keys_unwrap(blob, len, cred, CRED_LEN, &out), KEYS_OK);
    assert_memory_equal(keys_secret_bytes(out), keys_secret_bytes(k), KEYS_KEY_LEN);
    keys_secret_free(&out);

    /* Two wraps of the same key differ (random salt and nonce). */
    unsigned char *blob2 = NULL;
    size_t len2 = 0;
    wrap_fast(k, &blob2, &len2);
    assert_memory_not_equal(blob + 9, blob2 + 9, KEYS_WRAP_BLOB_LEN - 9);

    free(blob);
    free(blob2);
    keys_secret_free(&k);
}

static void test_wrap_b64(void **state)
{
    (void)state;
    keys_secret *k = new_store_key();
    keys_kdf_params p = KEYS_KDF_FAST;
    char *b64 = NULL;
    assert_int_equal(keys_wrap_b64(k, cred, CRED_LEN, &p, &b64), KEYS_OK);
    assert_int_equal(strlen(b64), KEYS_WRAP_B64_LEN);
    keys_secret *out = NULL;
    assert_int_equal(keys_unwrap_b64(b64, cred, CRED_LEN, &out), KEYS_OK);
    assert_memory_equal(keys_secret_bytes(out), keys_secret_bytes(k), KEYS_KEY_LEN);
    keys_secret_free(&out);
    assert_int_equal(keys_unwrap_b64(b64, "nope", 4, &out), KEYS_ERR_WRONG_CREDENTIAL);
    assert_null(out);

    /* Not base64 / not strict base64 / too long / empty. */
    char bad[KEYS_WRAP_B64_LEN + 8];
    snprintf(bad, sizeof(bad), "%s", b64);
    bad[10] = '*';
    assert_int_equal(keys_unwrap_b64(bad, cred, CRED_LEN, &out), KEYS_ERR_MALFORMED);
    snprintf(bad, sizeof(bad), " %s", b64);
    assert_int_equal(keys_unwrap_b64(bad, cred, CRED_LEN, &out), KEYS_ERR_MALFORMED);
    snprintf(bad, sizeof(bad), "%sAAAA", b64);
    assert_int_equal(keys_unwrap_b64(bad, cred, CRED_LEN, &out), KEYS_ERR_MALFORMED);
    snprintf(bad, sizeof(bad), "%.*s", KEYS_WRAP_B64_LEN - 4, b64);
    assert_int_equal(keys_unwrap_b64(bad, cred, CRED_LEN, &out), KEYS_ERR_MALFORMED);
    assert_int_equal(keys_unwrap_b64("", cred, CRED_LEN, &out), KEYS_ERR_MALFORMED);
    assert_null(out);
    free(b64);
    keys_secret_free(&k);
}

static void test_wrap_wrong_credential(void **state)
{
    (void)state;
    keys_secret *k = new_store_key();
    unsigned char *blob = NULL;
    size_t len = 0;
    wrap_fast(k, &blob, &len);
    keys_secret *out = NULL;
    assert_int_equal(keys_unwrap(blob, len, "correct horse battery staplf", CRED_LEN, &out),
                     KEYS_ERR_WRONG_CREDENTIAL);
    assert_null(out);
    assert_int_equal(keys_unwrap(blob, len, cred, CRED_LEN - 1, &out), KEYS_ERR_WRONG_CREDENTIAL);
    assert_null(out);
    free(blob);
    keys_secret_free(&k);
}

static void test_wrap_every_byte_flipped(void **state)
{
    (void)state;
    keys_secret *k = new_store_key();
    unsigned char *blob = NULL;
    size_t len = 0;
    wrap_fast(k, &blob, &len);
    static const unsigned char masks[] = {0x01, 0x80, 0xff};
    for (size_t i = 0; i < len; i++) {
        for (size_t m = 0; m < sizeof(masks); m++) {
            blob[i] ^= masks[m];
            keys_secret *out = NULL;
            keys_result rc = keys_unwrap(blob, len, cred, CRED_LEN, &out);
            if (rc != KEYS_ERR_WRONG_CREDENTIAL && rc != KEYS_ERR_MALFORMED)
                fail_msg("byte %zu ^ 0x%02x gave %s", i, masks[m], keys_strerror(rc));
            assert_null(out);
            blob[i] ^= masks[m];
        }
    }
    free(blob);
    keys_secret_free(&k);
}

static void test_wrap_truncated_and_version(void **state)
{
    (void)state;
    keys_secret *k = new_store_key();
    unsigned char *blob = NULL;
    size_t len = 0;
    wrap_fast(k, &blob, &len);
    keys_secret *out = NULL;
    for (size_t n = 0; n < len; n++)
        assert_int_equal(keys_unwrap(blob, n, cred, CRED_LEN, &out), KEYS_ERR_MALFORMED);
    unsigned char longer[KEYS_WRAP_BLOB_LEN + 1];
    memcpy(longer, blob, len);
    longer[len] = 0;
    assert_int_equal(keys_unwrap(longer, sizeof(longer), cred, CRED_LEN, &out), KEYS_ERR_MALFORMED);
    static const unsigned char versions[] = {0, 2, 0x81, 0xff};
    for (size_t i = 0; i < sizeof(versions); i++) {
        blob[0] = versions[i];
        assert_int_equal(keys_unwrap(blob, len, cred, CRED_LEN, &out), KEYS_ERR_MALFORMED);
    }
    assert_null(out);
    free(blob);
    keys_secret_free(&k);
}

static void put_be32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)(v >> 24);
    p[1] = (unsigned char)(v >> 16);
    p[2] = (unsigned char)(v >> 8);
    p[3] = (unsigned char)v;
}

static void test_wrap_hostile_params(void **state)
{
    (void)state;
    keys_secret *k = new_store_key();
    unsigned char *blob = NULL;
    size_t len = 0;
    wrap_fast(k, &blob, &len);
    struct {
        uint32_t ops, mem_kib;
    } cases[] = {
        {1, 0xffffffffu},                                  /* 4 TiB */
        {1, (uint32_t)(KEYS_KDF_MEMLIMIT_MAX / 1024) + 1}, /* just over 1 GiB */
        {1, 7},                                            /* under libsodium's minimum */
        {1, 0},
        {0, 8},
        {(uint32_t)KEYS_KDF_OPSLIMIT_MAX + 1, 8},
        {0xffffffffu, 0xffffffffu},
    };
    double t0 = now_seconds();
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        put_be32(blob + 1, cases[i].ops);
        put_be32(blob + 5, cases[i].mem_kib);
        keys_secret *out = NULL;
        /* MALFORMED, not NOMEM: rejected before Argon2id allocates anything. */
        assert_int_equal(keys_unwrap(blob, len, cred, CRED_LEN, &out), KEYS_ERR_MALFORMED);
        assert_null(out);
    }
    assert_true(now_seconds() - t0 < 1.0);
    free(blob);

    /* The same bounds on wrap, plus a memlimit that is not whole KiB. */
    keys_kdf_params bad[] = {
        {0, KEYS_KDF_MEMLIMIT_MIN},        {KEYS_KDF_OPSLIMIT_MAX + 1, KEYS_KDF_MEMLIMIT_MIN},
        {1, KEYS_KDF_MEMLIMIT_MIN - 1024}, {1, KEYS_KDF_MEMLIMIT_MAX + 1024},
        {1, KEYS_KDF_MEMLIMIT_MIN + 1},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_false(keys_kdf_params_valid(&bad[i]));
        assert_int_equal(keys_wrap(k, cred, CRED_LEN, &bad[i], &blob, &len), KEYS_ERR_INVALID);
        assert_null(blob);
    }
    keys_kdf_params def = KEYS_KDF_DEFAULT, fast = KEYS_KDF_FAST;
    assert_true(keys_kdf_params_valid(&def));
    assert_true(keys_kdf_params_valid(&fast));
    assert_int_equal(def.opslimit, crypto_pwhash_argon2id_OPSLIMIT_INTERACTIVE);
    assert_int_equal(def.memlimit, crypto_pwhash_argon2id_MEMLIMIT_INTERACTIVE);
    assert_false(keys_kdf_params_valid(NULL));
    keys_secret_free(&k);
}

static void test_wrap_invalid_args(void **state)
{
    (void)state;
    keys_secret *k = new_store_key();
    keys_kdf_params p = KEYS_KDF_FAST;
    unsigned char *blob = NULL;
    size_t len = 0;
    assert_int_equal(keys_wrap(k, cred, 0, &p, &blob, &len), KEYS_ERR_INVALID);
    assert_int_equal(keys_wrap(k, NULL, 3, &p, &blob, &len), KEYS_ERR_INVALID);
    assert_int_equal(keys_wrap(k, cred, KEYS_CREDENTIAL_MAX + 1, &p, &blob, &len),
                     KEYS_ERR_INVALID);
    assert_int_equal(keys_wrap(NULL, cred, CRED_LEN, &p, &blob, &len), KEYS_ERR_INVALID);
    keys_secret *short_key = NULL;
    assert_int_equal(keys_secret_random(16, &short_key), KEYS_OK);
    assert_int_equal(keys_wrap(short_key, cred, CRED_LEN, &p, &blob, &len), KEYS_ERR_INVALID);
    assert_null(blob);
    keys_secret_free(&short_key);

    wrap_fast(k, &blob, &len);
    keys_secret *out = NULL;
    assert_int_equal(keys_unwrap(blob, len, cred, 0, &out), KEYS_ERR_INVALID);
    assert_int_equal(keys_unwrap(NULL, len, cred, CRED_LEN, &out), KEYS_ERR_INVALID);
    assert_null(out);
    free(blob);
    keys_secret_free(&k);
}

/* Times one Argon2id derivation at the default parameters (wrap, then
 * unwrap) so the cost on this machine shows in the test output. */
static void test_wrap_default_cost(void **state)
{
    (void)state;
    keys_secret *k = new_store_key();
    keys_kdf_params p = KEYS_KDF_DEFAULT;
    unsigned char *blob = NULL;
    size_t len = 0;
    double t0 = now_seconds();
    assert_int_equal(keys_wrap(k, cred, CRED_LEN, &p, &blob, &len), KEYS_OK);
    double t1 = now_seconds();
    keys_secret *out = NULL;
    assert_int_equal(keys_unwrap(blob, len, cred, CRED_LEN, &out), KEYS_OK);
    double t2 = now_seconds();
    assert_memory_equal(keys_secret_bytes(out), keys_secret_bytes(k), KEYS_KEY_LEN);
    print_message("Argon2id default (ops %llu, mem %zu MiB): wrap %.0f ms, unwrap %.0f ms\n",
                  p.opslimit, p.memlimit >> 20, (t1 - t0) * 1e3, (t2 - t1) * 1e3);
    keys_secret_free(&out);
    free(blob);
    keys_secret_free(&k);
}

/* ---- base64 ---- */

static void test_b64(void **state)
{
    (void)state;
    const unsigned char in[] = "any carnal pleasure.";
    char *b64 = NULL;
    assert_int_equal(keys_b64_encode(in, 20, &b64), KEYS_OK);
    assert_string_equal(b64, "YW55IGNhcm5hbCBwbGVhc3VyZS4="); /* RFC 4648 style */
    unsigned char *bin = NULL;
    size_t len = 0;
    assert_int_equal(keys_b64_decode(b64, 20, &bin, &len), KEYS_OK);
    assert_int_equal(len, 20);
    assert_memory_equal(bin, in, 20);
    free(bin);
    assert_int_equal(keys_b64_decode(b64, 19, &bin, &len), KEYS_ERR_MALFORMED);
    assert_int_equal(keys_b64_decode("YW55IGNhcm5hbCBwbGVhc3VyZS4", 64, &bin, &len),
                     KEYS_ERR_MALFORMED); /* padding missing */
    assert_int_equal(keys_b64_decode("YW55\nIGNh", 64, &bin, &len), KEYS_ERR_MALFORMED);
    assert_int_equal(keys_b64_decode("YW5-", 64, &bin, &len), KEYS_ERR_MALFORMED); /* url */
    assert_int_equal(keys_b64_decode("YR==", 64, &bin, &len), KEYS_ERR_MALFORMED); /* bits */
    assert_null(bin);
    free(b64);
    assert_int_equal(keys_b64_encode(NULL, 0, &b64), KEYS_OK);
    assert_string_equal(b64, "");
    assert_int_equal(keys_b64_decode(b64, 8, &bin, &len), KEYS_OK);
    assert_int_equal(len, 0);
    free(bin);
    free(b64);
}

/* ---- X25519 ---- */

static void test_x25519(void **state)
{
    (void)state;
    keys_secret *k = new_store_key();
    unsigned char pk[KEYS_X25519_PK_LEN];
    unsigned char *sealed = NULL;
    size_t len = 0;
    assert_int_equal(keys_x25519_new(k, pk, &sealed, &len), KEYS_OK);
    assert_int_equal(len, KEYS_X25519_SEALED_LEN);
    keys_secret *sk = NULL;
    assert_int_equal(keys_x25519_open(k, pk, sealed, len, &sk), KEYS_OK);
    assert_int_equal(keys_secret_len(sk), KEYS_X25519_SK_LEN);
    unsigned char derived[crypto_scalarmult_BYTES];
    assert_int_equal(crypto_scalarmult_base(derived, keys_secret_bytes(sk)), 0);
    assert_memory_equal(derived, pk, KEYS_X25519_PK_LEN);

    /* It works as a crypto_box key: seal to pk, open with (pk, sk). */
    const unsigned char msg[] = "new mail";
    unsigned char box[sizeof(msg) + crypto_box_SEALBYTES], plain[sizeof(msg)];
    assert_int_equal(crypto_box_seal(box, msg, sizeof(msg), pk), 0);
    assert_int_equal(crypto_box_seal_open(plain, box, sizeof(box), pk, keys_secret_bytes(sk)), 0);
    assert_memory_equal(plain, msg, sizeof(msg));
    keys_secret_free(&sk);
    assert_null(sk);

    keys_secret *other = new_store_key();
    assert_int_equal(keys_x25519_open(other, pk, sealed, len, &sk), KEYS_ERR_WRONG_CREDENTIAL);
    keys_secret_free(&other);
    unsigned char pk2[KEYS_X25519_PK_LEN];
    memcpy(pk2, pk, sizeof(pk2));
    pk2[0] ^= 1;
    assert_int_equal(keys_x25519_open(k, pk2, sealed, len, &sk), KEYS_ERR_WRONG_CREDENTIAL);
    for (size_t i = 0; i < len; i++) {
        sealed[i] ^= 0x10;
        keys_result rc = keys_x25519_open(k, pk, sealed, len, &sk);
        assert_true(rc == KEYS_ERR_WRONG_CREDENTIAL || rc == KEYS_ERR_MALFORMED);
        sealed[i] ^= 0x10;
    }
    assert_int_equal(keys_x25519_open(k, pk, sealed, len - 1, &sk), KEYS_ERR_MALFORMED);
    assert_null(sk);
    free(sealed);
    keys_secret_free(&k);
}

/* ---- sealing ---- */

static void test_seal_open(void **state)
{
    (void)state;
    keys_secret *k = new_store_key();
    const char pem[] = "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEI...\n";
    unsigned char *sealed = NULL, *plain = NULL;
    size_t len = 0, plain_len = 0;
    assert_int_equal(
        keys_seal(k, "dkim-private-key", (const unsigned char *)pem, strlen(pem), &sealed, &len),
        KEYS_OK);
    assert_int_equal(len, strlen(pem) + KEYS_SEAL_OVERHEAD);
    assert_int_equal(sealed[0], KEYS_SEAL_VERSION);
    assert_int_equal(keys_open(k, "dkim-private-key", sealed, len, &plain, &plain_len), KEYS_OK);
    assert_int_equal(plain_len, strlen(pem));
    assert_string_equal((char *)plain, pem);
    free(plain);

    keys_secret *s = NULL;
    assert_int_equal(keys_open_secret(k, "dkim-private-key", sealed, len, &s), KEYS_OK);
    assert_string_equal((const char *)keys_secret_bytes(s), pem);
    keys_secret_free(&s);

    assert_int_equal(keys_open(k, "queue-message", sealed, len, &plain, &plain_len),
                     KEYS_ERR_WRONG_CREDENTIAL);
    assert_int_equal(keys_open_secret(k, "dkim-private-keY", sealed, len, &s),
                     KEYS_ERR_WRONG_CREDENTIAL);
    keys_secret *other = new_store_key();
    assert_int_equal(keys_open(other, "dkim-private-key", sealed, len, &plain, &plain_len),
                     KEYS_ERR_WRONG_CREDENTIAL);
    keys_secret_free(&other);
    for (size_t i = 0; i < len; i++) {
        sealed[i] ^= 0x01;
        keys_result rc = keys_open(k, "dkim-private-key", sealed, len, &plain, &plain_len);
        assert_true(rc == KEYS_ERR_WRONG_CREDENTIAL || rc == KEYS_ERR_MALFORMED);
        sealed[i] ^= 0x01;
    }
    for (size_t n = 0; n < KEYS_SEAL_OVERHEAD; n++)
        assert_int_equal(keys_open(k, "dkim-private-key", sealed, n, &plain, &plain_len),
                         KEYS_ERR_MALFORMED);
    assert_int_equal(keys_open(k, "dkim-private-key", sealed, len - 1, &plain, &plain_len),
                     KEYS_ERR_WRONG_CREDENTIAL);
    sealed[0] = 2;
    assert_int_equal(keys_open(k, "dkim-private-key", sealed, len, &plain, &plain_len),
                     KEYS_ERR_MALFORMED);
    assert_null(plain);
    assert_null(s);
    free(sealed);
    keys_secret_free(&k);
}

static void test_seal_edge_cases(void **state)
{
    (void)state;
    keys_secret *k = new_store_key();
    unsigned char *sealed = NULL, *plain = NULL;
    size_t len = 0, plain_len = 0;
    /* An empty message seals and opens; it is not a valid secret. */
    assert_int_equal(keys_seal(k, "queue-message", NULL, 0, &sealed, &len), KEYS_OK);
    assert_int_equal(len, KEYS_SEAL_OVERHEAD);
    assert_int_equal(keys_open(k, "queue-message", sealed, len, &plain, &plain_len), KEYS_OK);
    assert_int_equal(plain_len, 0);
    assert_int_equal(plain[0], 0);
    free(plain);
    keys_secret *s = NULL;
    assert_int_equal(keys_open_secret(k, "queue-message", sealed, len, &s), KEYS_ERR_MALFORMED);
    free(sealed);

    char long_ctx[KEYS_CONTEXT_MAX + 2];
    memset(long_ctx, 'c', sizeof(long_ctx) - 1);
    long_ctx[sizeof(long_ctx) - 1] = '\0';
    const unsigned char m[1] = {7};
    assert_int_equal(keys_seal(k, "", m, 1, &sealed, &len), KEYS_ERR_INVALID);
    assert_int_equal(keys_seal(k, NULL, m, 1, &sealed, &len), KEYS_ERR_INVALID);
    assert_int_equal(keys_seal(k, long_ctx, m, 1, &sealed, &len), KEYS_ERR_INVALID);
    long_ctx[KEYS_CONTEXT_MAX] = '\0'; /* exactly the maximum is fine */
    assert_int_equal(keys_seal(k, long_ctx, m, 1, &sealed, &len), KEYS_OK);
    free(sealed);
    keys_secret *short_key = NULL;
    assert_int_equal(keys_secret_random(31, &short_key), KEYS_OK);
    assert_int_equal(keys_seal(short_key, "x", m, 1, &sealed, &len), KEYS_ERR_INVALID);
    assert_null(sealed);
    keys_secret_free(&short_key);

    char *b64 = NULL;
    assert_int_equal(keys_seal_b64(k, "dkim-private-key", m, 1, &b64), KEYS_OK);
    assert_int_equal(keys_open_secret_b64(k, "dkim-private-key", b64, &s), KEYS_OK);
    assert_int_equal(keys_secret_len(s), 1);
    assert_int_equal(keys_secret_bytes(s)[0], 7);
    keys_secret_free(&s);
    assert_int_equal(keys_open_secret_b64(k, "other", b64, &s), KEYS_ERR_WRONG_CREDENTIAL);
    assert_int_equal(keys_open_secret_b64(k, "dkim-private-key", "%%%", &s), KEYS_ERR_MALFORMED);
    assert_null(s);
    free(b64);
    keys_secret_free(&k);
}

/* ---- recovery keys ---- */

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_secret_basics),
        cmocka_unit_test(test_strerror),
        cmocka_unit_test(test_wrap_roundtrip),
        cmocka_unit_test(test_wrap_b64),
        cmocka_unit_test(test_wrap_wrong_credential),
        cmocka_unit_test(test_wrap_every_byte_flipped),
        cmocka_unit_test(test_wrap_truncated_and_version),
        cmocka_unit_test(test_wrap_hostile_params),
        cmocka_unit_test(test_wrap_invalid_args),
        cmocka_unit_test(test_wrap_default_cost),
        cmocka_unit_test(test_b64),
        cmocka_unit_test(test_x25519),
        cmocka_unit_test(test_seal_open),
        cmocka_unit_test(test_seal_edge_cases),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
