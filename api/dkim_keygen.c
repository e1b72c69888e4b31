#include "dkim_keygen.h"

#include "log.h"

#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define DKIM_RSA_BITS 2048
#define DKIM_ED25519_PUB_LEN 32
/* An RSA-2048 SubjectPublicKeyInfo is 294 bytes of DER. */
#define DKIM_PUB_DER_MAX 1024

static const struct {
    const char *name;  /* in the API and the database */
    const char *k;     /* the TXT record's k= tag */
    char selector_tag; /* in generated selectors */
} dkim_algs[] = {
    [DKIM_ALG_ED25519] = {"ed25519", "ed25519", 'e'},
    [DKIM_ALG_RSA_2048] = {"rsa-2048", "rsa", 'r'},
};

int dkim_alg_parse(const char *name, dkim_alg *alg_r)
{
    for (size_t i = 0; i < sizeof(dkim_algs) / sizeof(dkim_algs[0]); i++) {
        if (strcmp(name, dkim_algs[i].name) == 0) {
            *alg_r = (dkim_alg)i;
            return 0;
        }
    }
    return -1;
}

const char *dkim_alg_name(dkim_alg alg)
{
    return dkim_algs[alg].name;
}

int dkim_selector_normalize(const char *in, size_t len, char out[DKIM_SELECTOR_MAX + 1],
                            const char **error_r)
{
    out[0] = '\0';
    if (len == 0 || len > DKIM_SELECTOR_MAX) {
        *error_r = "must be 1 to 63 characters";
        return -1;
    }
    for (size_t i = 0; i < len; i++) {
        char c = in[i];
        if (c >= 'A' && c <= 'Z')
            c = (char)(c - 'A' + 'a');
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) {
            out[0] = '\0';
            *error_r = "may contain only letters, digits and '-'";
            return -1;
        }
        out[i] = c;
    }
    out[len] = '\0';
    if (out[0] == '-' || out[len - 1] == '-') {
        out[0] = '\0';
        *error_r = "must not begin or end with '-'";
        return -1;
    }
    return 0;
}

int dkim_selector_generate(dkim_alg alg, int64_t now, char out[DKIM_SELECTOR_MAX + 1])
{
    time_t t = (time_t)now;
    struct tm tm;
    char rnd[5];
    if (gmtime_r(&t, &tm) == NULL || keys_random_hex(rnd, 2) != KEYS_OK)
        return -1;
    int n = snprintf(out, DKIM_SELECTOR_MAX + 1, "om%04d%02d%02d%c%s", tm.tm_year + 1900,
                     tm.tm_mon + 1, tm.tm_mday, dkim_algs[alg].selector_tag, rnd);
    return n == DKIM_SELECTOR_GENERATED_LEN ? 0 : -1;
}

static void dkim_ssl_error(const char *what)
{
    char msg[256];
    ERR_error_string_n(ERR_get_error(), msg, sizeof(msg));
    ERR_clear_error();
    log_error(NULL, "dkim: %s failed: %s", what, msg);
}

static EVP_PKEY *dkim_pkey_new(dkim_alg alg)
{
    EVP_PKEY *pk = alg == DKIM_ALG_RSA_2048
                       ? EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)DKIM_RSA_BITS)
                       : EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
    if (pk == NULL)
        dkim_ssl_error("key generation");
    return pk;
}

/* The p= tag's base64: RSA takes the DER SubjectPublicKeyInfo (RFC 6376
 * 3.6.1), Ed25519 the bare 32-byte public key (RFC 8463 section 4.2). */
static int dkim_public_b64(dkim_alg alg, EVP_PKEY *pk, char **b64_r)
{
    unsigned char der[DKIM_PUB_DER_MAX];
    size_t len = sizeof(der);
    if (alg == DKIM_ALG_ED25519) {
        if (EVP_PKEY_get_raw_public_key(pk, der, &len) != 1 || len != DKIM_ED25519_PUB_LEN) {
            dkim_ssl_error("EVP_PKEY_get_raw_public_key");
            return -1;
        }
    } else {
        int n = i2d_PUBKEY(pk, NULL);
        unsigned char *p = der;
        if (n <= 0 || (size_t)n > sizeof(der) || i2d_PUBKEY(pk, &p) != n) {
            dkim_ssl_error("i2d_PUBKEY");
            return -1;
        }
        len = (size_t)n;
    }
    return keys_b64_encode(der, len, b64_r) == KEYS_OK ? 0 : -1;
}

/* Writes the private key as unencrypted PKCS#8 PEM into a memory BIO (which
 * grows with BUF_MEM_grow_clean, so no stale copy is left behind) and seals
 * it; the PEM is wiped before the BIO is freed. */
static int dkim_private_seal(EVP_PKEY *pk, const keys_secret *server_key, unsigned char **sealed_r,
                             size_t *len_r)
{
    BIO *bio = BIO_new(BIO_s_secmem());
    if (bio == NULL) {
        dkim_ssl_error("BIO_new");
        return -1;
    }
    int rc = -1;
    if (PEM_write_bio_PKCS8PrivateKey(bio, pk, NULL, NULL, 0, NULL, NULL) != 1) {
        dkim_ssl_error("PEM_write_bio_PKCS8PrivateKey");
    } else {
        char *pem = NULL;
        long n = BIO_get_mem_data(bio, &pem);
        if (n > 0 && pem != NULL) {
            keys_result kr = keys_seal(server_key, DKIM_SEAL_CONTEXT, (const unsigned char *)pem,
                                       (size_t)n, sealed_r, len_r);
            if (kr == KEYS_OK)
                rc = 0;
            else
                log_error(NULL, "dkim: keys_seal failed: %s", keys_strerror(kr));
            OPENSSL_cleanse(pem, (size_t)n);
        }
    }
    BIO_free(bio);
    return rc;
}

int dkim_key_generate(dkim_alg alg, const keys_secret *server_key, dkim_key *key_r)
{
    memset(key_r, 0, sizeof(*key_r));
    EVP_PKEY *pk = dkim_pkey_new(alg);
    if (pk == NULL)
        return -1;
    char *p64 = NULL;
    int rc = -1;
    if (dkim_public_b64(alg, pk, &p64) == 0) {
        /* RFC 6376 3.6.1: v= first; k= names the key type. */
        int n =
            snprintf(key_r->txt, sizeof(key_r->txt), "v=DKIM1; k=%s; p=%s", dkim_algs[alg].k, p64);
        if (n > 0 && (size_t)n < sizeof(key_r->txt) &&
            dkim_private_seal(pk, server_key, &key_r->sealed, &key_r->sealed_len) == 0)
            rc = 0;
    }
    free(p64);
    EVP_PKEY_free(pk); /* clears the private key material */
    if (rc < 0)
        dkim_key_clear(key_r);
    return rc;
}

void dkim_key_clear(dkim_key *key)
{
    free(key->sealed);
    memset(key, 0, sizeof(*key));
}
