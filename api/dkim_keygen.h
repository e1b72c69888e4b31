/* dkim_keygen: DKIM key pairs and selectors for the api (RFC 6376, RFC 8463).
 *
 * A new key's private half exists only in memory, as PKCS#8 PEM, long enough
 * to be sealed under the server key (keys_seal, context DKIM_SEAL_CONTEXT);
 * the PEM buffer is wiped before it is released. The workers open the sealed
 * blob with keys_open_secret and the same context. */
#ifndef OWNMAIL_API_DKIM_KEYGEN_H
#define OWNMAIL_API_DKIM_KEYGEN_H

#include "keys.h"

#include <stddef.h>
#include <stdint.h>

/* keys_seal context of a DKIM private key. */
#define DKIM_SEAL_CONTEXT KEYS_CONTEXT_DKIM
/* A selector is one DNS label here (RFC 1035 2.3.4: at most 63 octets). */
#define DKIM_SELECTOR_MAX 63
/* The TXT record text; an RSA-2048 one is about 410 bytes. */
#define DKIM_TXT_MAX 512
/* "._domainkey." between the selector and the domain (RFC 6376 3.6.2.1). */
#define DKIM_DOMAINKEY "._domainkey."

typedef enum {
    DKIM_ALG_ED25519,  /* "ed25519", RFC 8463 */
    DKIM_ALG_RSA_2048, /* "rsa-2048", RFC 6376 3.3.1 / RFC 8301 */
} dkim_alg;

typedef struct dkim_key {
    char txt[DKIM_TXT_MAX]; /* "v=DKIM1; k=...; p=..." */
    unsigned char *sealed;  /* the PKCS#8 PEM sealed under the server key; malloc'd */
    size_t sealed_len;
} dkim_key;

/* "ed25519" or "rsa-2048" to an algorithm: 0, or -1 for anything else. */
int dkim_alg_parse(const char *name, dkim_alg *alg_r);
/* The API name of an algorithm ("ed25519", "rsa-2048"). */
const char *dkim_alg_name(dkim_alg alg);

/* Checks and lowercases a selector: 1..63 of [A-Za-z0-9-], not beginning or
 * ending with '-'. Returns 0 with out set, or -1 with *error_r set (a static
 * English message) and out = "". Pure. */
int dkim_selector_normalize(const char *in, size_t len, char out[DKIM_SELECTOR_MAX + 1],
                            const char **error_r);

/* A fresh selector "om" YYYYMMDD ("e" | "r") + 4 random hex digits, such as
 * "om20261125e3f0a", from the UTC date of now. 0, or -1 on failure. */
#define DKIM_SELECTOR_GENERATED_LEN 15
int dkim_selector_generate(dkim_alg alg, int64_t now, char out[DKIM_SELECTOR_MAX + 1]);

/* Generates a key pair (OpenSSL 3 EVP), formats its TXT record and seals its
 * private key under server_key. 0, or -1 (logged; *key_r cleared). */
int dkim_key_generate(dkim_alg alg, const keys_secret *server_key, dkim_key *key_r);
/* Frees the sealed blob and clears the struct. */
void dkim_key_clear(dkim_key *key);

#endif
