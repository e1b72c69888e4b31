/* keys: the one module that derives, wraps and unwraps keys.
 *
 * Everything that touches key material goes through here: the api (wrapping
 * a store key per credential, DKIM keys, key files), the encrypted store
 * (store keys) and the workers (unwrapping at login, opening the X25519
 * secret key, opening DKIM keys). See DESIGN.md "Storage and keys".
 *
 * Primitives (libsodium): Argon2id13 (crypto_pwhash) for key derivation,
 * XChaCha20-Poly1305-IETF (crypto_aead_xchacha20poly1305_ietf) with random
 * 192-bit nonces for every encryption, X25519 (crypto_box_keypair).
 *
 * Secrets live in sodium_malloc'd memory (guard pages, mlock'd where the
 * system allows), read-only once filled, and zeroed by keys_secret_free().
 * Every function calls keys_init() itself; calling it first is optional.
 * Functions are thread-safe (no shared state beyond libsodium's own).
 */
#ifndef OWNMAIL_KEYS_H
#define OWNMAIL_KEYS_H

#include <stdbool.h>
#include <stddef.h>

typedef enum {
    KEYS_OK = 0,
    /* Authentication failed: a wrong credential or key, a wrong context, or
     * altered data (the AEAD tag cannot tell these apart). */
    KEYS_ERR_WRONG_CREDENTIAL,
    /* Input is not a blob of ours: bad length, unknown version, parameters
     * out of bounds, bad base64. */
    KEYS_ERR_MALFORMED,
    /* A caller error: NULL pointer, length over a limit, wrong key size,
     * KDF parameters out of bounds. */
    KEYS_ERR_INVALID,
    KEYS_ERR_NOMEM,
    /* A key file is unusable (missing for keys_file_load, wrong mode, wrong
     * size, not a regular file, I/O error); the error text says which. */
    KEYS_ERR_FILE,
    /* libsodium could not be initialised, or a self-check failed. */
    KEYS_ERR_INTERNAL,
} keys_result;

/* A static English description of r ("wrong credential", ...). */
const char *keys_strerror(keys_result r);

/* sodium_init() once; safe to call from any thread, any number of times.
 * Returns KEYS_OK or KEYS_ERR_INTERNAL. */
keys_result keys_init(void);

/* ---- Secrets -------------------------------------------------------- */

#define KEYS_KEY_LEN 32             /* store keys, server keys, KEKs */
#define KEYS_SECRET_MAX (64 * 1024) /* largest secret (an RSA-4096 PEM is ~3.3 KiB) */

typedef struct keys_secret keys_secret;

/* Copies len (1..KEYS_SECRET_MAX) bytes into a new secret. */
keys_result keys_secret_from_bytes(const unsigned char *bytes, size_t len, keys_secret **r);
/* A new secret of len (1..KEYS_SECRET_MAX) random bytes. */
keys_result keys_secret_random(size_t len, keys_secret **r);
/* The bytes of s (not NULL), in read-only memory: writing to them faults.
 * A NUL byte follows them, not counted in the length, so a text secret (a
 * PEM) is a C string. */
const unsigned char *keys_secret_bytes(const keys_secret *s);
size_t keys_secret_len(const keys_secret *s);
/* Zeroes and releases *s, sets *s = NULL. NULL and *s == NULL are no-ops. */
void keys_secret_free(keys_secret **s);

/* A random 256-bit store key. */
keys_result keys_store_key_new(keys_secret **r);

/* ---- Base64 (RFC 4648 section 4, standard alphabet, padded) ---------- */

/* Encodes len bytes; *b64_r is a malloc'd NUL-terminated string. */
keys_result keys_b64_encode(const unsigned char *bin, size_t len, char **b64_r);
/* Decodes a whole string strictly (no whitespace, padding required) into a
 * malloc'd buffer of at most max_len bytes. KEYS_ERR_MALFORMED when it is
 * not base64 or decodes to more than max_len bytes. */
keys_result keys_b64_decode(const char *b64, size_t max_len, unsigned char **bin_r, size_t *len_r);

/* ---- Credential wraps (Argon2id + XChaCha20-Poly1305) ---------------- */

typedef struct {
    unsigned long long opslimit; /* Argon2id passes */
    size_t memlimit;             /* bytes; a multiple of 1024 */
} keys_kdf_params;

/* Bounds enforced on wrap and on unwrap: a hostile blob cannot make us
 * allocate more than KEYS_KDF_MEMLIMIT_MAX or run more passes than
 * KEYS_KDF_OPSLIMIT_MAX. The minimums are libsodium's Argon2id minimums. */
#define KEYS_KDF_OPSLIMIT_MIN 1ULL /* crypto_pwhash_argon2id_OPSLIMIT_MIN */
#define KEYS_KDF_OPSLIMIT_MAX 10ULL
#define KEYS_KDF_MEMLIMIT_MIN ((size_t)8192)    /* crypto_pwhash_argon2id_MEMLIMIT_MIN */
#define KEYS_KDF_MEMLIMIT_MAX ((size_t)1 << 30) /* 1 GiB */

/* libsodium's INTERACTIVE values: 2 passes, 64 MiB. */
#define KEYS_KDF_DEFAULT ((keys_kdf_params){2ULL, (size_t)64 * 1024 * 1024})
/* The cheapest allowed parameters: for tests only, never for real wraps. */
#define KEYS_KDF_FAST ((keys_kdf_params){KEYS_KDF_OPSLIMIT_MIN, KEYS_KDF_MEMLIMIT_MIN})

/* True when p is within the bounds above and memlimit is a multiple of 1024. */
bool keys_kdf_params_valid(const keys_kdf_params *p);

#define KEYS_CREDENTIAL_MAX 1024 /* bytes of a password / app password / recovery key */

/* Wrap blob, version 1 (97 bytes; all integers big-endian):
 *
 *   offset len  field
 *        0   1  version = 1
 *        1   4  Argon2id opslimit (u32)
 *        5   4  Argon2id memlimit in KiB (u32)
 *        9  16  salt (random)
 *       25  24  nonce (random)
 *       49  48  XChaCha20-Poly1305-IETF ciphertext of the 32-byte store key
 *               followed by its 16-byte tag
 *
 * KEK = Argon2id13(credential, salt, opslimit, memlimit) -> 32 bytes, held
 * in secure memory and zeroed after use. The associated data is the header
 * (bytes 0..24: version, parameters, salt), so none of them can be changed
 * without the tag failing. */
#define KEYS_WRAP_VERSION 1
#define KEYS_WRAP_HEADER_LEN 25
#define KEYS_WRAP_BLOB_LEN 97
#define KEYS_WRAP_B64_LEN 132 /* strlen of the base64 form */

/* Wraps store_key (KEYS_KEY_LEN bytes) under credential (1..KEYS_CREDENTIAL_MAX
 * bytes). *blob_r is malloc'd, *blob_len_r = KEYS_WRAP_BLOB_LEN.
 * KEYS_ERR_INVALID when the parameters or lengths are out of bounds. */
keys_result keys_wrap(const keys_secret *store_key, const char *credential, size_t cred_len,
                      const keys_kdf_params *p, unsigned char **blob_r, size_t *blob_len_r);
/* Unwraps a blob: KEYS_OK and a new *store_key_r; KEYS_ERR_WRONG_CREDENTIAL
 * when the tag fails; KEYS_ERR_MALFORMED for a bad length, an unknown
 * version or parameters out of bounds (checked before any derivation). */
keys_result keys_unwrap(const unsigned char *blob, size_t blob_len, const char *credential,
                        size_t cred_len, keys_secret **store_key_r);
/* The same with the blob as base64 (*b64_r malloc'd), as it travels in JSON. */
keys_result keys_wrap_b64(const keys_secret *store_key, const char *credential, size_t cred_len,
                          const keys_kdf_params *p, char **b64_r);
keys_result keys_unwrap_b64(const char *b64, const char *credential, size_t cred_len,
                            keys_secret **store_key_r);

/* ---- X25519 key pair kept under the store key ------------------------- */

/* Sealed secret key, version 1 (73 bytes):
 *   version = 1 (1) | nonce (24) | XChaCha20-Poly1305 ciphertext of the
 *   32-byte secret key + tag (48)
 * under the store key, associated data "ownmail-x25519-sk-v1" || public key,
 * so a sealed key only opens with the public key it belongs to. */
#define KEYS_X25519_PK_LEN 32
#define KEYS_X25519_SK_LEN 32
#define KEYS_X25519_SEALED_LEN 73
#define KEYS_X25519_AD_PREFIX "ownmail-x25519-sk-v1"

/* A new key pair: the public key in pk_r, the secret key sealed under
 * store_key in a malloc'd *sk_sealed_r of *len_r bytes. */
keys_result keys_x25519_new(const keys_secret *store_key, unsigned char pk_r[KEYS_X25519_PK_LEN],
                            unsigned char **sk_sealed_r, size_t *len_r);
/* Opens a sealed secret key; checks that it matches pk. */
keys_result keys_x25519_open(const keys_secret *store_key,
                             const unsigned char pk[KEYS_X25519_PK_LEN],
                             const unsigned char *sealed, size_t len, keys_secret **sk_r);

/* ---- Sealing under a 32-byte server key (DKIM keys, outbound queue) ---- */

/* Sealed message, version 1 (len + 41 bytes):
 *   version = 1 (1) | nonce (24) | XChaCha20-Poly1305 ciphertext + tag (len + 16)
 * Associated data: version byte || context (without its NUL). The context
 * names what is sealed (KEYS_CONTEXT_DKIM, ...) so that one
 * kind can never be opened as another. */
/* Contexts in use: sealers and openers (the api, the workers) share them. */
#define KEYS_CONTEXT_DKIM "ownmail-dkim-v1" /* DKIM private keys, PKCS#8 PEM */
#define KEYS_SEAL_VERSION 1
#define KEYS_SEAL_OVERHEAD 41
#define KEYS_SEAL_MAX ((size_t)128 * 1024 * 1024) /* largest message */
#define KEYS_CONTEXT_MAX 128                      /* strlen of a context, >= 1 */

/* Seals len (0..KEYS_SEAL_MAX) bytes; *out_r malloc'd, *out_len_r = len + 41. */
keys_result keys_seal(const keys_secret *key, const char *context, const unsigned char *msg,
                      size_t len, unsigned char **out_r, size_t *out_len_r);
/* Opens into a malloc'd *out_r (NUL-terminated, the NUL not counted in
 * *out_len_r). KEYS_ERR_WRONG_CREDENTIAL for a wrong key/context or altered
 * data, KEYS_ERR_MALFORMED for a short input or unknown version. */
keys_result keys_open(const keys_secret *key, const char *context, const unsigned char *in,
                      size_t in_len, unsigned char **out_r, size_t *out_len_r);
/* Opens into secure memory (for DKIM private keys); the plaintext must be
 * 1..KEYS_SECRET_MAX bytes (KEYS_ERR_MALFORMED otherwise). */
keys_result keys_open_secret(const keys_secret *key, const char *context, const unsigned char *in,
                             size_t in_len, keys_secret **r);
/* Base64 forms of keys_seal / keys_open_secret. */
keys_result keys_seal_b64(const keys_secret *key, const char *context, const unsigned char *msg,
                          size_t len, char **b64_r);
keys_result keys_open_secret_b64(const keys_secret *key, const char *context, const char *b64,
                                 keys_secret **r);

/* ---- Key files (data/keys/{jwt.key,worker.secret,server.key}) --------- */

#define KEYS_FILE_ERR_LEN 256 /* a good size for the error buffer */

/* Loads a raw key file of exactly len (1..KEYS_SECRET_MAX) bytes. Refuses
 * (KEYS_ERR_FILE, reason in err_r) a missing file, a file that is not a
 * regular file, has any group or other permission bit, or has another size.
 * err_r (err_size bytes, may be NULL) receives a message naming the path. */
keys_result keys_file_load(const char *path, size_t len, keys_secret **r, char *err_r,
                           size_t err_size);
/* As keys_file_load; when the file does not exist, creates it atomically
 * with len random bytes: a temporary file in the same directory (O_EXCL,
 * mode 0600), fsync, link() to the final name, fsync of the directory. When
 * two processes race, one file wins and both load it. The directory must
 * exist. */
keys_result keys_file_load_or_create(const char *path, size_t len, keys_secret **r, char *err_r,
                                     size_t err_size);

/* ---- Human-facing secrets ------------------------------------------- */

/* Recovery key: 160 random bits as Crockford base32 (alphabet
 * 0123456789ABCDEFGHJKMNPQRSTVWXYZ), 8 groups of 4 joined by '-':
 * "7KQ2-M9XD-...". The canonical form is what gets wrapped. */
#define KEYS_RECOVERY_STRLEN 39
#define KEYS_RECOVERY_INPUT_MAX 256 /* longest sloppy input accepted */
keys_result keys_recovery_new(char out_r[KEYS_RECOVERY_STRLEN + 1]);
/* Canonicalises a recovery key as a person may type it: any case, spaces
 * or dashes anywhere or missing, O for 0, I or L for 1. Returns 0 and the
 * canonical form in out_r, or -1 (out_r set to "") when it is not 32
 * Crockford symbols. */
int keys_recovery_normalize(const char *in, char out_r[KEYS_RECOVERY_STRLEN + 1]);

/* App password: 16 random lowercase letters (75 bits), shown as
 * "abcd efgh ijkl mnop". What gets wrapped is the normalised form, the 16
 * letters without spaces. */
#define KEYS_APP_PASSWORD_LEN 16    /* normalised */
#define KEYS_APP_PASSWORD_STRLEN 19 /* displayed, with spaces */
#define KEYS_APP_PASSWORD_INPUT_MAX 256
keys_result keys_app_password_new(char out_r[KEYS_APP_PASSWORD_STRLEN + 1]);
/* Strips spaces and lowercases: 0 and the 16 letters in out_r, or -1 (out_r
 * set to "") when anything else is left. */
int keys_app_password_normalize(const char *in, char out_r[KEYS_APP_PASSWORD_LEN + 1]);

/* Generated password: nchars (KEYS_PASSWORD_MIN_LEN..KEYS_PASSWORD_MAX_LEN)
 * symbols from an alphabet without look-alikes (no 0 O o 1 l I), 5.8 bits
 * each; out_r holds nchars + 1 bytes. */
#define KEYS_PASSWORD_MIN_LEN 12
#define KEYS_PASSWORD_DEFAULT_LEN 20
#define KEYS_PASSWORD_MAX_LEN 128
keys_result keys_password_generate(char *out_r, size_t nchars);

/* nbytes (1..KEYS_RANDOM_HEX_MAX) random bytes as lowercase hex in out_r,
 * which holds 2 * nbytes + 1 bytes: store ids, opaque ids. */
#define KEYS_RANDOM_HEX_MAX 64
keys_result keys_random_hex(char *out_r, size_t nbytes);

#endif
