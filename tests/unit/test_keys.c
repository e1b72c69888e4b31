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

static void assert_recovery_format(const char *r)
{
    assert_int_equal(strlen(r), KEYS_RECOVERY_STRLEN);
    for (size_t i = 0; i < KEYS_RECOVERY_STRLEN; i++) {
        if (i % 5 == 4)
            assert_int_equal(r[i], '-');
        else
            assert_non_null(strchr("0123456789ABCDEFGHJKMNPQRSTVWXYZ", r[i]));
    }
}

static void test_recovery_new(void **state)
{
    (void)state;
    char a[KEYS_RECOVERY_STRLEN + 1], b[KEYS_RECOVERY_STRLEN + 1];
    char norm[KEYS_RECOVERY_STRLEN + 1];
    assert_int_equal(keys_recovery_new(a), KEYS_OK);
    assert_int_equal(keys_recovery_new(b), KEYS_OK);
    assert_recovery_format(a);
    assert_recovery_format(b);
    assert_string_not_equal(a, b);
    assert_int_equal(keys_recovery_normalize(a, norm), 0);
    assert_string_equal(norm, a);
    /* Every symbol shows up over enough keys (the 5-bit split is right). */
    int seen[256] = {0};
    for (int n = 0; n < 200; n++) {
        assert_int_equal(keys_recovery_new(a), KEYS_OK);
        for (const char *p = a; *p; p++)
            seen[(unsigned char)*p] = 1;
    }
    for (const char *p = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"; *p; p++)
        assert_true(seen[(unsigned char)*p]);
}

static void test_recovery_normalize(void **state)
{
    (void)state;
    static const char canon[] = "7KQ2-M9XD-0000-1111-ABCD-EFGH-JKMN-PQRS";
    static const struct {
        const char *in;
        const char *out; /* NULL: rejected */
    } cases[] = {
        {"7KQ2-M9XD-0000-1111-ABCD-EFGH-JKMN-PQRS", canon},
        {"7kq2-m9xd-0000-1111-abcd-efgh-jkmn-pqrs", canon},
        {"7KQ2M9XD00001111ABCDEFGHJKMNPQRS", canon},
        {"7KQ2 M9XD 0000 1111 ABCD EFGH JKMN PQRS", canon},
        {"  7kq2 - m9xd0000-1111abcd efgh-jkmn-pqrs  ", canon},
        {"7KQ2-M9XD-OOOO-IIII-ABCD-EFGH-JKMN-PQRS", canon},
        {"7KQ2-M9XD-oOo0-iLl1-ABCD-EFGH-JKMN-PQRS", canon},
        {"7KQ2\tM9XD-0000-1111-ABCD-EFGH-JKMN-PQRS", canon},
        {"7KQ2-M9XD-0000-1111-ABCD-EFGH-JKMN-PQR", NULL},   /* 31 symbols */
        {"7KQ2-M9XD-0000-1111-ABCD-EFGH-JKMN-PQRST", NULL}, /* 33 symbols */
        {"7KQ2-M9XD-0000-1111-ABCD-EFGH-JKMN-PQRU", NULL},  /* U is not Crockford */
        {"7KQ2-M9XD-0000-1111-ABCD-EFGH-JKMN-PQR!", NULL},
        {"7KQ2-M9XD-0000-1111-ABCD-EFGH-JKMN-PQR\xc3\xa9", NULL},
        {"7KQ2_M9XD-0000-1111-ABCD-EFGH-JKMN-PQRS", NULL},
        {"", NULL},
        {"----", NULL},
        {NULL, NULL},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char out[KEYS_RECOVERY_STRLEN + 1];
        int rc = keys_recovery_normalize(cases[i].in, out);
        if (cases[i].out == NULL) {
            if (rc != -1)
                fail_msg("case %zu accepted: %s", i, out);
            assert_string_equal(out, "");
        } else {
            if (rc != 0)
                fail_msg("case %zu rejected", i);
            assert_string_equal(out, cases[i].out);
        }
    }
    /* Over the input limit, even if it is only spaces around a valid key. */
    char big[KEYS_RECOVERY_INPUT_MAX + 64];
    memset(big, ' ', sizeof(big));
    memcpy(big, canon, strlen(canon));
    big[sizeof(big) - 1] = '\0';
    char out[KEYS_RECOVERY_STRLEN + 1];
    assert_int_equal(keys_recovery_normalize(big, out), -1);
    big[KEYS_RECOVERY_INPUT_MAX] = '\0';
    assert_int_equal(keys_recovery_normalize(big, out), 0);
    assert_string_equal(out, canon);
}

/* ---- app passwords, passwords, hex ---- */

static void test_app_password(void **state)
{
    (void)state;
    char pw[KEYS_APP_PASSWORD_STRLEN + 1], norm[KEYS_APP_PASSWORD_LEN + 1];
    assert_int_equal(keys_app_password_new(pw), KEYS_OK);
    assert_int_equal(strlen(pw), KEYS_APP_PASSWORD_STRLEN);
    for (size_t i = 0; i < KEYS_APP_PASSWORD_STRLEN; i++) {
        if (i % 5 == 4)
            assert_int_equal(pw[i], ' ');
        else
            assert_true(pw[i] >= 'a' && pw[i] <= 'z');
    }
    assert_int_equal(keys_app_password_normalize(pw, norm), 0);
    assert_int_equal(strlen(norm), KEYS_APP_PASSWORD_LEN);

    static const struct {
        const char *in;
        const char *out;
    } cases[] = {
        {"abcd efgh ijkl mnop", "abcdefghijklmnop"},
        {"abcdefghijklmnop", "abcdefghijklmnop"},
        {"ABCD EFGH ijkl Mnop", "abcdefghijklmnop"},
        {"  abcdefgh  ijklmnop ", "abcdefghijklmnop"},
        {"abcd efgh ijkl mno", NULL},
        {"abcd efgh ijkl mnopq", NULL},
        {"abcd-efgh-ijkl-mnop", NULL},
        {"abcd efgh ijkl mn0p", NULL},
        {"", NULL},
        {NULL, NULL},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        int rc = keys_app_password_normalize(cases[i].in, norm);
        if (cases[i].out == NULL) {
            assert_int_equal(rc, -1);
            assert_string_equal(norm, "");
        } else {
            assert_int_equal(rc, 0);
            assert_string_equal(norm, cases[i].out);
        }
    }
}

static void test_password_and_hex(void **state)
{
    (void)state;
    char pw[KEYS_PASSWORD_MAX_LEN + 1];
    assert_int_equal(keys_password_generate(pw, KEYS_PASSWORD_DEFAULT_LEN), KEYS_OK);
    assert_int_equal(strlen(pw), KEYS_PASSWORD_DEFAULT_LEN);
    for (const char *p = pw; *p; p++)
        assert_null(strchr("0Oo1lI", *p));
    assert_int_equal(keys_password_generate(pw, KEYS_PASSWORD_MAX_LEN), KEYS_OK);
    assert_int_equal(strlen(pw), KEYS_PASSWORD_MAX_LEN);
    assert_int_equal(keys_password_generate(pw, KEYS_PASSWORD_MIN_LEN - 1), KEYS_ERR_INVALID);
    assert_int_equal(keys_password_generate(pw, KEYS_PASSWORD_MAX_LEN + 1), KEYS_ERR_INVALID);

    char hex[2 * KEYS_RANDOM_HEX_MAX + 1], hex2[33];
    assert_int_equal(keys_random_hex(hex, 16), KEYS_OK);
    assert_int_equal(strlen(hex), 32);
    assert_int_equal(strspn(hex, "0123456789abcdef"), 32);
    assert_int_equal(keys_random_hex(hex2, 16), KEYS_OK);
    assert_string_not_equal(hex, hex2);
    assert_int_equal(keys_random_hex(hex, KEYS_RANDOM_HEX_MAX), KEYS_OK);
    assert_int_equal(strlen(hex), 2 * KEYS_RANDOM_HEX_MAX);
    assert_int_equal(keys_random_hex(hex, 0), KEYS_ERR_INVALID);
    assert_int_equal(keys_random_hex(hex, KEYS_RANDOM_HEX_MAX + 1), KEYS_ERR_INVALID);
}

/* ---- key files ---- */

static int count_entries(const char *dir)
{
    DIR *d = opendir(dir);
    assert_non_null(d);
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
            n++;
    closedir(d);
    return n;
}

static void write_file(const char *path, const void *data, size_t len, mode_t mode)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, data, len), (ssize_t)len);
    assert_int_equal(fchmod(fd, mode), 0);
    close(fd);
}

static void test_key_file(void **state)
{
    (void)state;
    char dir[] = "/tmp/test_keys.XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[256], err[KEYS_FILE_ERR_LEN];
    snprintf(path, sizeof(path), "%s/server.key", dir);

    keys_secret *a = NULL, *b = NULL;
    assert_int_equal(keys_file_load(path, 32, &a, err, sizeof(err)), KEYS_ERR_FILE);
    assert_non_null(strstr(err, "server.key"));
    assert_null(a);

    mode_t old = umask(0); /* the file is 0600 whatever the umask */
    assert_int_equal(keys_file_load_or_create(path, 32, &a, err, sizeof(err)), KEYS_OK);
    umask(old);
    assert_string_equal(err, "");
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 07777, 0600);
    assert_int_equal(st.st_size, 32);
    assert_int_equal(count_entries(dir), 1); /* no temporary file left */

    assert_int_equal(keys_file_load_or_create(path, 32, &b, err, sizeof(err)), KEYS_OK);
    assert_memory_equal(keys_secret_bytes(a), keys_secret_bytes(b), 32);
    keys_secret_free(&b);
    assert_int_equal(keys_file_load(path, 32, &b, NULL, 0), KEYS_OK);
    assert_memory_equal(keys_secret_bytes(a), keys_secret_bytes(b), 32);
    keys_secret_free(&b);

    /* Wrong size, in both directions. */
    assert_int_equal(keys_file_load_or_create(path, 64, &b, err, sizeof(err)), KEYS_ERR_FILE);
    assert_non_null(strstr(err, "expected 64"));
    assert_int_equal(keys_file_load(path, 16, &b, err, sizeof(err)), KEYS_ERR_FILE);
    assert_null(b);

    /* Group or world access refused. */
    static const mode_t bad_modes[] = {0644, 0640, 0604, 0620, 0602};
    for (size_t i = 0; i < sizeof(bad_modes) / sizeof(bad_modes[0]); i++) {
        assert_int_equal(chmod(path, bad_modes[i]), 0);
        assert_int_equal(keys_file_load_or_create(path, 32, &b, err, sizeof(err)), KEYS_ERR_FILE);
        assert_non_null(strstr(err, "mode"));
        assert_null(b);
    }
    assert_int_equal(chmod(path, 0400), 0); /* read-only for the owner is fine */
    assert_int_equal(keys_file_load(path, 32, &b, err, sizeof(err)), KEYS_OK);
    keys_secret_free(&b);

    /* A short file someone else wrote. */
    char path2[300];
    snprintf(path2, sizeof(path2), "%s/worker.secret", dir);
    write_file(path2, "short", 5, 0600);
    assert_int_equal(keys_file_load_or_create(path2, 32, &b, err, sizeof(err)), KEYS_ERR_FILE);
    assert_non_null(strstr(err, "is 5 bytes"));
    assert_null(b);

    /* A FIFO is refused without blocking. */
    snprintf(path2, sizeof(path2), "%s/fifo.key", dir);
    assert_int_equal(mkfifo(path2, 0600), 0);
    assert_int_equal(keys_file_load_or_create(path2, 32, &b, err, sizeof(err)), KEYS_ERR_FILE);
    assert_non_null(strstr(err, "not a regular file"));
    unlink(path2);

    /* A directory is not a key file; a missing directory is an error. */
    assert_int_equal(keys_file_load_or_create(dir, 32, &b, err, sizeof(err)), KEYS_ERR_FILE);
    snprintf(path2, sizeof(path2), "%s/nodir/jwt.key", dir);
    assert_int_equal(keys_file_load_or_create(path2, 32, &b, err, sizeof(err)), KEYS_ERR_FILE);
    assert_null(b);
    assert_int_equal(keys_file_load_or_create(path, 0, &b, err, sizeof(err)), KEYS_ERR_INVALID);

    keys_secret_free(&a);
    assert_null(a);
    unlink(path);
    snprintf(path2, sizeof(path2), "%s/worker.secret", dir);
    unlink(path2);
    assert_int_equal(rmdir(dir), 0);
}

/* Processes racing to create the same key file all end up with one key. */
static void test_key_file_race(void **state)
{
    (void)state;
    char dir[] = "/tmp/test_keys.XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[256];
    snprintf(path, sizeof(path), "%s/worker.secret", dir);
    enum { RACERS = 4, ROUNDS = 10 };
    for (int round = 0; round < ROUNDS; round++) {
        int fds[RACERS][2];
        pid_t pids[RACERS];
        for (int i = 0; i < RACERS; i++) {
            assert_int_equal(pipe(fds[i]), 0);
            pids[i] = fork();
            assert_true(pids[i] >= 0);
            if (pids[i] == 0) {
                keys_secret *s = NULL;
                int ok = keys_file_load_or_create(path, 32, &s, NULL, 0) == KEYS_OK &&
                         write(fds[i][1], keys_secret_bytes(s), 32) == 32;
                _exit(ok ? 0 : 1);
            }
            close(fds[i][1]);
        }
        keys_secret *file = NULL;
        for (int i = 0; i < RACERS; i++) {
            int status = 0;
            assert_int_equal(waitpid(pids[i], &status, 0), pids[i]);
            assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
            unsigned char got[32];
            assert_int_equal(read(fds[i][0], got, sizeof(got)), 32);
            close(fds[i][0]);
            if (file == NULL)
                assert_int_equal(keys_file_load(path, 32, &file, NULL, 0), KEYS_OK);
            assert_memory_equal(got, keys_secret_bytes(file), 32);
        }
        keys_secret_free(&file);
        assert_int_equal(count_entries(dir), 1);
        assert_int_equal(unlink(path), 0);
    }
    assert_int_equal(rmdir(dir), 0);
}

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
        cmocka_unit_test(test_recovery_new),
        cmocka_unit_test(test_recovery_normalize),
        cmocka_unit_test(test_app_password),
        cmocka_unit_test(test_password_and_hex),
        cmocka_unit_test(test_key_file),
        cmocka_unit_test(test_key_file_race),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
