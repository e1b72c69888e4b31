/* keys: secrets, base64, credential wraps, X25519 key pairs and sealing.
 * Key files and human-facing secrets are in keys_gen.c. */
#include "keys.h"

#include <sodium.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define KEYS_AEAD_NONCE_LEN crypto_aead_xchacha20poly1305_ietf_NPUBBYTES /* 24 */
#define KEYS_AEAD_TAG_LEN crypto_aead_xchacha20poly1305_ietf_ABYTES      /* 16 */
#define KEYS_SALT_LEN crypto_pwhash_SALTBYTES                            /* 16 */

/* Wrap blob layout (see keys.h). */
#define WRAP_OFF_OPS 1
#define WRAP_OFF_MEM 5
#define WRAP_OFF_SALT 9
#define WRAP_OFF_NONCE (WRAP_OFF_SALT + KEYS_SALT_LEN)
#define WRAP_OFF_CT (WRAP_OFF_NONCE + KEYS_AEAD_NONCE_LEN)

#define X25519_VERSION 1
#define X25519_AD_PREFIX_LEN (sizeof(KEYS_X25519_AD_PREFIX) - 1)

_Static_assert(KEYS_KEY_LEN == crypto_aead_xchacha20poly1305_ietf_KEYBYTES, "key size");
_Static_assert(KEYS_SALT_LEN == 16, "salt size");
_Static_assert(KEYS_AEAD_NONCE_LEN == 24 && KEYS_AEAD_TAG_LEN == 16, "aead sizes");
_Static_assert(WRAP_OFF_NONCE == KEYS_WRAP_HEADER_LEN, "wrap header");
_Static_assert(WRAP_OFF_CT + KEYS_KEY_LEN + KEYS_AEAD_TAG_LEN == KEYS_WRAP_BLOB_LEN, "wrap len");
_Static_assert(sodium_base64_ENCODED_LEN(KEYS_WRAP_BLOB_LEN, sodium_base64_VARIANT_ORIGINAL) ==
                   KEYS_WRAP_B64_LEN + 1,
               "wrap b64 len");
_Static_assert(1 + KEYS_AEAD_NONCE_LEN + KEYS_AEAD_TAG_LEN == KEYS_SEAL_OVERHEAD, "seal overhead");
_Static_assert(1 + KEYS_AEAD_NONCE_LEN + KEYS_X25519_SK_LEN + KEYS_AEAD_TAG_LEN ==
                   KEYS_X25519_SEALED_LEN,
               "x25519 sealed len");
_Static_assert(KEYS_X25519_PK_LEN == crypto_box_PUBLICKEYBYTES &&
                   KEYS_X25519_SK_LEN == crypto_box_SECRETKEYBYTES &&
                   crypto_scalarmult_BYTES == KEYS_X25519_PK_LEN,
               "x25519 sizes");
_Static_assert(KEYS_KDF_OPSLIMIT_MIN == crypto_pwhash_argon2id_OPSLIMIT_MIN, "opslimit min");
_Static_assert(KEYS_KDF_MEMLIMIT_MIN == crypto_pwhash_argon2id_MEMLIMIT_MIN, "memlimit min");
_Static_assert(KEYS_KDF_OPSLIMIT_MAX <= UINT32_MAX, "opslimit fits u32");
_Static_assert(KEYS_KDF_MEMLIMIT_MAX / 1024 <= UINT32_MAX, "memlimit fits u32 KiB");

struct keys_secret {
    unsigned char *data; /* sodium_malloc'd, len + 1 bytes, data[len] == 0 */
    size_t len;
};

static atomic_int keys_ready;

keys_result keys_init(void)
{
    if (atomic_load(&keys_ready))
        return KEYS_OK;
    /* sodium_init() takes its own lock; 1 means "already done". */
    if (sodium_init() < 0)
        return KEYS_ERR_INTERNAL;
    atomic_store(&keys_ready, 1);
    return KEYS_OK;
}

const char *keys_strerror(keys_result r)
{
    switch (r) {
    case KEYS_OK:
        return "success";
    case KEYS_ERR_WRONG_CREDENTIAL:
        return "wrong credential or key, or altered data";
    case KEYS_ERR_MALFORMED:
        return "malformed key material";
    case KEYS_ERR_INVALID:
        return "invalid argument";
    case KEYS_ERR_NOMEM:
        return "out of memory";
    case KEYS_ERR_FILE:
        return "unusable key file";
    case KEYS_ERR_INTERNAL:
        return "internal error in the crypto library";
    }
    return "unknown error";
}

/* ---- Secrets -------------------------------------------------------- */

/* A writable secret of len bytes; secret_lock() it once filled. */
static keys_result secret_alloc(size_t len, keys_secret **r)
{
    *r = NULL;
    if (len == 0 || len > KEYS_SECRET_MAX)
        return KEYS_ERR_INVALID;
    keys_result rc = keys_init();
    if (rc != KEYS_OK)
        return rc;
    keys_secret *s = calloc(1, sizeof(*s));
    if (s == NULL)
        return KEYS_ERR_NOMEM;
    s->data = sodium_malloc(len + 1);
    if (s->data == NULL) {
        free(s);
        return KEYS_ERR_NOMEM;
    }
    s->data[len] = 0;
    s->len = len;
    *r = s;
    return KEYS_OK;
}

/* Best effort: a system refusing mprotect still gets a working secret. */
static void secret_lock(keys_secret *s)
{
    (void)sodium_mprotect_readonly(s->data);
}

void keys_secret_free(keys_secret **s)
{
    if (s == NULL || *s == NULL)
        return;
    sodium_free((*s)->data); /* makes it writable again, zeroes, unmaps */
    free(*s);
    *s = NULL;
}

keys_result keys_secret_from_bytes(const unsigned char *bytes, size_t len, keys_secret **r)
{
    if (r == NULL)
        return KEYS_ERR_INVALID;
    *r = NULL;
    if (bytes == NULL)
        return KEYS_ERR_INVALID;
    keys_result rc = secret_alloc(len, r);
    if (rc != KEYS_OK)
        return rc;
    memcpy((*r)->data, bytes, len);
    secret_lock(*r);
    return KEYS_OK;
}

keys_result keys_secret_random(size_t len, keys_secret **r)
{
    if (r == NULL)
        return KEYS_ERR_INVALID;
    keys_result rc = secret_alloc(len, r);
    if (rc != KEYS_OK)
        return rc;
    randombytes_buf((*r)->data, len);
    secret_lock(*r);
    return KEYS_OK;
}

const unsigned char *keys_secret_bytes(const keys_secret *s)
{
    return s->data;
}

size_t keys_secret_len(const keys_secret *s)
{
    return s->len;
}

keys_result keys_store_key_new(keys_secret **r)
{
    return keys_secret_random(KEYS_KEY_LEN, r);
}

static bool is_key(const keys_secret *k)
{
    return k != NULL && k->len == KEYS_KEY_LEN;
}

/* ---- Base64 ----------------------------------------------------------- */

#define B64_VARIANT sodium_base64_VARIANT_ORIGINAL

keys_result keys_b64_encode(const unsigned char *bin, size_t len, char **b64_r)
{
    if (b64_r == NULL)
        return KEYS_ERR_INVALID;
    *b64_r = NULL;
    if ((bin == NULL && len > 0) || len > SIZE_MAX / 2)
        return KEYS_ERR_INVALID;
    keys_result rc = keys_init();
    if (rc != KEYS_OK)
        return rc;
    size_t cap = sodium_base64_ENCODED_LEN(len, B64_VARIANT);
    char *out = malloc(cap);
    if (out == NULL)
        return KEYS_ERR_NOMEM;
    sodium_bin2base64(out, cap, bin, len, B64_VARIANT);
    *b64_r = out;
    return KEYS_OK;
}

keys_result keys_b64_decode(const char *b64, size_t max_len, unsigned char **bin_r, size_t *len_r)
{
    if (bin_r == NULL || len_r == NULL)
        return KEYS_ERR_INVALID;
    *bin_r = NULL;
    *len_r = 0;
    if (b64 == NULL || max_len > SIZE_MAX / 2)
        return KEYS_ERR_INVALID;
    keys_result rc = keys_init();
    if (rc != KEYS_OK)
        return rc;
    /* Bound the input before looking at all of it. */
    size_t max_chars = sodium_base64_ENCODED_LEN(max_len, B64_VARIANT) - 1;
    size_t slen = strnlen(b64, max_chars + 1);
    if (slen > max_chars)
        return KEYS_ERR_MALFORMED;
    size_t cap = slen / 4 * 3 + 1;
    unsigned char *bin = malloc(cap);
    if (bin == NULL)
        return KEYS_ERR_NOMEM;
    size_t bin_len = 0;
    const char *end = NULL;
    /* No ignore set: whitespace is an error; padding and canonical
     * trailing bits are checked by libsodium. */
    if (sodium_base642bin(bin, cap, b64, slen, NULL, &bin_len, &end, B64_VARIANT) != 0 ||
        end != b64 + slen || bin_len > max_len) {
        free(bin);
        return KEYS_ERR_MALFORMED;
    }
    *bin_r = bin;
    *len_r = bin_len;
    return KEYS_OK;
}

/* ---- AEAD helpers ---------------------------------------------------- */

/* Encrypts msg with a fresh random nonce (written to nonce_r) into ct_r
 * (len + 16 bytes). */
static void aead_seal(const keys_secret *key, const unsigned char *ad, size_t ad_len,
                      const unsigned char *msg, size_t len, unsigned char *nonce_r,
                      unsigned char *ct_r)
{
    randombytes_buf(nonce_r, KEYS_AEAD_NONCE_LEN);
    crypto_aead_xchacha20poly1305_ietf_encrypt(ct_r, NULL, msg, len, ad, ad_len, NULL, nonce_r,
                                               key->data);
}

/* Decrypts ct (ct_len >= 16) into m_r (ct_len - 16 bytes); -1 when the
 * tag does not verify. */
static int aead_open(const keys_secret *key, const unsigned char *ad, size_t ad_len,
                     const unsigned char *nonce, const unsigned char *ct, size_t ct_len,
                     unsigned char *m_r)
{
    return crypto_aead_xchacha20poly1305_ietf_decrypt(m_r, NULL, NULL, ct, ct_len, ad, ad_len,
                                                      nonce, key->data);
}

/* ---- Credential wraps ------------------------------------------------- */

static void be32_put(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)(v >> 24);
    p[1] = (unsigned char)(v >> 16);
    p[2] = (unsigned char)(v >> 8);
    p[3] = (unsigned char)v;
}

static uint32_t be32_get(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

bool keys_kdf_params_valid(const keys_kdf_params *p)
{
    return p != NULL && p->opslimit >= KEYS_KDF_OPSLIMIT_MIN &&
           p->opslimit <= KEYS_KDF_OPSLIMIT_MAX && p->memlimit >= KEYS_KDF_MEMLIMIT_MIN &&
           p->memlimit <= KEYS_KDF_MEMLIMIT_MAX && p->memlimit % 1024 == 0;
}

static bool credential_valid(const char *credential, size_t cred_len)
{
    return credential != NULL && cred_len >= 1 && cred_len <= KEYS_CREDENTIAL_MAX;
}

/* KEK = Argon2id13(credential, salt, p) in secure memory. */
static keys_result kek_derive(const char *credential, size_t cred_len,
                              const unsigned char salt[KEYS_SALT_LEN], const keys_kdf_params *p,
                              keys_secret **kek_r)
{
    keys_result rc = secret_alloc(KEYS_KEY_LEN, kek_r);
    if (rc != KEYS_OK)
        return rc;
    if (crypto_pwhash((*kek_r)->data, KEYS_KEY_LEN, credential, cred_len, salt, p->opslimit,
                      p->memlimit, crypto_pwhash_ALG_ARGON2ID13) != 0) {
        /* Parameters are validated first, so this is a failed allocation. */
        keys_secret_free(kek_r);
        return KEYS_ERR_NOMEM;
    }
    secret_lock(*kek_r);
    return KEYS_OK;
}

keys_result keys_wrap(const keys_secret *store_key, const char *credential, size_t cred_len,
                      const keys_kdf_params *p, unsigned char **blob_r, size_t *blob_len_r)
{
    if (blob_r == NULL || blob_len_r == NULL)
        return KEYS_ERR_INVALID;
    *blob_r = NULL;
    *blob_len_r = 0;
    if (!is_key(store_key) || !credential_valid(credential, cred_len) || !keys_kdf_params_valid(p))
        return KEYS_ERR_INVALID;
    keys_result rc = keys_init();
    if (rc != KEYS_OK)
        return rc;
    unsigned char *blob = malloc(KEYS_WRAP_BLOB_LEN);
    if (blob == NULL)
        return KEYS_ERR_NOMEM;
    blob[0] = KEYS_WRAP_VERSION;
    be32_put(blob + WRAP_OFF_OPS, (uint32_t)p->opslimit);
    be32_put(blob + WRAP_OFF_MEM, (uint32_t)(p->memlimit / 1024));
    randombytes_buf(blob + WRAP_OFF_SALT, KEYS_SALT_LEN);

    keys_secret *kek = NULL;
    rc = kek_derive(credential, cred_len, blob + WRAP_OFF_SALT, p, &kek);
    if (rc != KEYS_OK) {
        free(blob);
        return rc;
    }
    aead_seal(kek, blob, KEYS_WRAP_HEADER_LEN, store_key->data, KEYS_KEY_LEN, blob + WRAP_OFF_NONCE,
              blob + WRAP_OFF_CT);
    keys_secret_free(&kek);
    *blob_r = blob;
    *blob_len_r = KEYS_WRAP_BLOB_LEN;
    return KEYS_OK;
}

/* Reads and bounds-checks the header before any derivation, so a hostile
 * blob cannot make us allocate or compute more than the named limits. */
static keys_result wrap_parse_header(const unsigned char *blob, size_t blob_len,
                                     keys_kdf_params *p_r)
{
    if (blob_len != KEYS_WRAP_BLOB_LEN || blob[0] != KEYS_WRAP_VERSION)
        return KEYS_ERR_MALFORMED;
    uint64_t ops = be32_get(blob + WRAP_OFF_OPS);
    uint64_t mem = (uint64_t)be32_get(blob + WRAP_OFF_MEM) * 1024;
    if (mem > KEYS_KDF_MEMLIMIT_MAX)
        return KEYS_ERR_MALFORMED;
    p_r->opslimit = ops;
    p_r->memlimit = (size_t)mem;
    return keys_kdf_params_valid(p_r) ? KEYS_OK : KEYS_ERR_MALFORMED;
}

keys_result keys_unwrap(const unsigned char *blob, size_t blob_len, const char *credential,
                        size_t cred_len, keys_secret **store_key_r)
{
    if (store_key_r == NULL)
        return KEYS_ERR_INVALID;
    *store_key_r = NULL;
    if (blob == NULL || !credential_valid(credential, cred_len))
        return KEYS_ERR_INVALID;
    keys_kdf_params p;
    keys_result rc = wrap_parse_header(blob, blob_len, &p);
    if (rc != KEYS_OK)
        return rc;

    keys_secret *kek = NULL;
    rc = kek_derive(credential, cred_len, blob + WRAP_OFF_SALT, &p, &kek);
    if (rc != KEYS_OK)
        return rc;
    keys_secret *key = NULL;
    rc = secret_alloc(KEYS_KEY_LEN, &key);
    if (rc == KEYS_OK &&
        aead_open(kek, blob, KEYS_WRAP_HEADER_LEN, blob + WRAP_OFF_NONCE, blob + WRAP_OFF_CT,
                  KEYS_KEY_LEN + KEYS_AEAD_TAG_LEN, key->data) != 0) {
        keys_secret_free(&key);
        rc = KEYS_ERR_WRONG_CREDENTIAL;
    }
    keys_secret_free(&kek);
    if (rc != KEYS_OK)
        return rc;
    secret_lock(key);
    *store_key_r = key;
    return KEYS_OK;
}

keys_result keys_wrap_b64(const keys_secret *store_key, const char *credential, size_t cred_len,
                          const keys_kdf_params *p, char **b64_r)
{
    if (b64_r == NULL)
        return KEYS_ERR_INVALID;
    *b64_r = NULL;
    unsigned char *blob = NULL;
    size_t blob_len = 0;
    keys_result rc = keys_wrap(store_key, credential, cred_len, p, &blob, &blob_len);
    if (rc != KEYS_OK)
        return rc;
    rc = keys_b64_encode(blob, blob_len, b64_r);
    free(blob);
    return rc;
}

keys_result keys_unwrap_b64(const char *b64, const char *credential, size_t cred_len,
                            keys_secret **store_key_r)
{
    if (store_key_r == NULL)
        return KEYS_ERR_INVALID;
    *store_key_r = NULL;
    unsigned char *blob = NULL;
    size_t blob_len = 0;
    keys_result rc = keys_b64_decode(b64, KEYS_WRAP_BLOB_LEN, &blob, &blob_len);
    if (rc != KEYS_OK)
        return rc;
    rc = keys_unwrap(blob, blob_len, credential, cred_len, store_key_r);
    free(blob);
    return rc;
}

/* ---- X25519 ---------------------------------------------------------- */

static void x25519_ad(const unsigned char pk[KEYS_X25519_PK_LEN],
                      unsigned char ad_r[X25519_AD_PREFIX_LEN + KEYS_X25519_PK_LEN])
{
    memcpy(ad_r, KEYS_X25519_AD_PREFIX, X25519_AD_PREFIX_LEN);
    memcpy(ad_r + X25519_AD_PREFIX_LEN, pk, KEYS_X25519_PK_LEN);
}

keys_result keys_x25519_new(const keys_secret *store_key, unsigned char pk_r[KEYS_X25519_PK_LEN],
                            unsigned char **sk_sealed_r, size_t *len_r)
{
    if (sk_sealed_r == NULL || len_r == NULL)
        return KEYS_ERR_INVALID;
    *sk_sealed_r = NULL;
    *len_r = 0;
    if (!is_key(store_key) || pk_r == NULL)
        return KEYS_ERR_INVALID;
    keys_secret *sk = NULL;
    keys_result rc = secret_alloc(KEYS_X25519_SK_LEN, &sk);
    if (rc != KEYS_OK)
        return rc;
    unsigned char *out = malloc(KEYS_X25519_SEALED_LEN);
    if (out == NULL) {
        keys_secret_free(&sk);
        return KEYS_ERR_NOMEM;
    }
    crypto_box_keypair(pk_r, sk->data);
    unsigned char ad[X25519_AD_PREFIX_LEN + KEYS_X25519_PK_LEN];
    x25519_ad(pk_r, ad);
    out[0] = X25519_VERSION;
    aead_seal(store_key, ad, sizeof(ad), sk->data, KEYS_X25519_SK_LEN, out + 1,
              out + 1 + KEYS_AEAD_NONCE_LEN);
    keys_secret_free(&sk);
    *sk_sealed_r = out;
    *len_r = KEYS_X25519_SEALED_LEN;
    return KEYS_OK;
}

keys_result keys_x25519_open(const keys_secret *store_key,
                             const unsigned char pk[KEYS_X25519_PK_LEN],
                             const unsigned char *sealed, size_t len, keys_secret **sk_r)
{
    if (sk_r == NULL)
        return KEYS_ERR_INVALID;
    *sk_r = NULL;
    if (!is_key(store_key) || pk == NULL || sealed == NULL)
        return KEYS_ERR_INVALID;
    if (len != KEYS_X25519_SEALED_LEN || sealed[0] != X25519_VERSION)
        return KEYS_ERR_MALFORMED;
    keys_secret *sk = NULL;
    keys_result rc = secret_alloc(KEYS_X25519_SK_LEN, &sk);
    if (rc != KEYS_OK)
        return rc;
    unsigned char ad[X25519_AD_PREFIX_LEN + KEYS_X25519_PK_LEN];
    x25519_ad(pk, ad);
    if (aead_open(store_key, ad, sizeof(ad), sealed + 1, sealed + 1 + KEYS_AEAD_NONCE_LEN,
                  KEYS_X25519_SK_LEN + KEYS_AEAD_TAG_LEN, sk->data) != 0) {
        keys_secret_free(&sk);
        return KEYS_ERR_WRONG_CREDENTIAL;
    }
    /* The AD already binds pk; recomputing it catches a pair sealed wrongly. */
    unsigned char check[KEYS_X25519_PK_LEN];
    if (crypto_scalarmult_base(check, sk->data) != 0 ||
        sodium_memcmp(check, pk, KEYS_X25519_PK_LEN) != 0) {
        keys_secret_free(&sk);
        return KEYS_ERR_INTERNAL;
    }
    secret_lock(sk);
    *sk_r = sk;
    return KEYS_OK;
}

/* ---- Sealing under a server key ---------------------------------------- */

/* ad_r = version || context; returns its length, or 0 for a bad context. */
static size_t seal_ad(const char *context, unsigned char ad_r[1 + KEYS_CONTEXT_MAX])
{
    if (context == NULL)
        return 0;
    size_t n = strnlen(context, KEYS_CONTEXT_MAX + 1);
    if (n == 0 || n > KEYS_CONTEXT_MAX)
        return 0;
    ad_r[0] = KEYS_SEAL_VERSION;
    memcpy(ad_r + 1, context, n);
    return 1 + n;
}

keys_result keys_seal(const keys_secret *key, const char *context, const unsigned char *msg,
                      size_t len, unsigned char **out_r, size_t *out_len_r)
{
    if (out_r == NULL || out_len_r == NULL)
        return KEYS_ERR_INVALID;
    *out_r = NULL;
    *out_len_r = 0;
    unsigned char ad[1 + KEYS_CONTEXT_MAX];
    size_t ad_len = seal_ad(context, ad);
    if (!is_key(key) || ad_len == 0 || (msg == NULL && len > 0) || len > KEYS_SEAL_MAX)
        return KEYS_ERR_INVALID;
    keys_result rc = keys_init();
    if (rc != KEYS_OK)
        return rc;
    unsigned char *out = malloc(len + KEYS_SEAL_OVERHEAD);
    if (out == NULL)
        return KEYS_ERR_NOMEM;
    out[0] = KEYS_SEAL_VERSION;
    aead_seal(key, ad, ad_len, msg, len, out + 1, out + 1 + KEYS_AEAD_NONCE_LEN);
    *out_r = out;
    *out_len_r = len + KEYS_SEAL_OVERHEAD;
    return KEYS_OK;
}

/* Checks the arguments and the envelope; *plain_len_r is the message size. */
static keys_result open_check(const keys_secret *key, const char *context, const unsigned char *in,
                              size_t in_len, unsigned char ad_r[1 + KEYS_CONTEXT_MAX],
                              size_t *ad_len_r, size_t *plain_len_r)
{
    *ad_len_r = seal_ad(context, ad_r);
    if (!is_key(key) || *ad_len_r == 0 || in == NULL)
        return KEYS_ERR_INVALID;
    if (in_len < KEYS_SEAL_OVERHEAD || in_len - KEYS_SEAL_OVERHEAD > KEYS_SEAL_MAX ||
        in[0] != KEYS_SEAL_VERSION)
        return KEYS_ERR_MALFORMED;
    *plain_len_r = in_len - KEYS_SEAL_OVERHEAD;
    return KEYS_OK;
}

keys_result keys_open(const keys_secret *key, const char *context, const unsigned char *in,
                      size_t in_len, unsigned char **out_r, size_t *out_len_r)
{
    if (out_r == NULL || out_len_r == NULL)
        return KEYS_ERR_INVALID;
    *out_r = NULL;
    *out_len_r = 0;
    unsigned char ad[1 + KEYS_CONTEXT_MAX];
    size_t ad_len = 0, plain_len = 0;
    keys_result rc = open_check(key, context, in, in_len, ad, &ad_len, &plain_len);
    if (rc != KEYS_OK)
        return rc;
    unsigned char *out = malloc(plain_len + 1);
    if (out == NULL)
        return KEYS_ERR_NOMEM;
    if (aead_open(key, ad, ad_len, in + 1, in + 1 + KEYS_AEAD_NONCE_LEN,
                  in_len - 1 - KEYS_AEAD_NONCE_LEN, out) != 0) {
        free(out);
        return KEYS_ERR_WRONG_CREDENTIAL;
    }
    out[plain_len] = 0;
    *out_r = out;
    *out_len_r = plain_len;
    return KEYS_OK;
}

keys_result keys_open_secret(const keys_secret *key, const char *context, const unsigned char *in,
                             size_t in_len, keys_secret **r)
{
    if (r == NULL)
        return KEYS_ERR_INVALID;
    *r = NULL;
    unsigned char ad[1 + KEYS_CONTEXT_MAX];
    size_t ad_len = 0, plain_len = 0;
    keys_result rc = open_check(key, context, in, in_len, ad, &ad_len, &plain_len);
    if (rc != KEYS_OK)
        return rc;
    if (plain_len == 0 || plain_len > KEYS_SECRET_MAX)
        return KEYS_ERR_MALFORMED;
    keys_secret *s = NULL;
    rc = secret_alloc(plain_len, &s);
    if (rc != KEYS_OK)
        return rc;
    if (aead_open(key, ad, ad_len, in + 1, in + 1 + KEYS_AEAD_NONCE_LEN,
                  in_len - 1 - KEYS_AEAD_NONCE_LEN, s->data) != 0) {
        keys_secret_free(&s);
        return KEYS_ERR_WRONG_CREDENTIAL;
    }
    secret_lock(s);
    *r = s;
    return KEYS_OK;
}

keys_result keys_seal_b64(const keys_secret *key, const char *context, const unsigned char *msg,
                          size_t len, char **b64_r)
{
    if (b64_r == NULL)
        return KEYS_ERR_INVALID;
    *b64_r = NULL;
    unsigned char *sealed = NULL;
    size_t sealed_len = 0;
    keys_result rc = keys_seal(key, context, msg, len, &sealed, &sealed_len);
    if (rc != KEYS_OK)
        return rc;
    rc = keys_b64_encode(sealed, sealed_len, b64_r);
    free(sealed);
    return rc;
}

keys_result keys_open_secret_b64(const keys_secret *key, const char *context, const char *b64,
                                 keys_secret **r)
{
    if (r == NULL)
        return KEYS_ERR_INVALID;
    *r = NULL;
    unsigned char *sealed = NULL;
    size_t sealed_len = 0;
    keys_result rc =
        keys_b64_decode(b64, KEYS_SECRET_MAX + KEYS_SEAL_OVERHEAD, &sealed, &sealed_len);
    if (rc != KEYS_OK)
        return rc;
    rc = keys_open_secret(key, context, sealed, sealed_len, r);
    free(sealed);
    return rc;
}
