/* The credential check of a login: see worker.h. */
#include "worker.h"

#include "log.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* What a login needs of the user, copied out of the directory under its
 * read lock. */
typedef struct login_user {
    char **pw, **app; /* wraps (base64), NULL-terminated; NULL for an unknown user */
    char *store_id, *pk64, *sealed64;
    uint64_t quota;
} login_user;

static char **login_wraps(const cJSON *u, const char *kind_wanted)
{
    char **w = calloc(WORKER_WRAPS_MAX + 1, sizeof *w);
    size_t n = 0;
    const cJSON *c;
    if (w == NULL)
        return NULL;
    cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(u, "credentials"))
    {
        const cJSON *kind = cJSON_GetObjectItemCaseSensitive(c, "kind");
        const cJSON *wrap = cJSON_GetObjectItemCaseSensitive(c, "wrap");
        if (!cJSON_IsString(kind) || !cJSON_IsString(wrap) || n == WORKER_WRAPS_MAX ||
            strcmp(kind->valuestring, kind_wanted) != 0)
            continue;
        w[n] = strdup(wrap->valuestring);
        if (w[n] != NULL)
            n++;
    }
    return w;
}

static char *login_str(const cJSON *u, const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(u, name);
    return cJSON_IsString(v) ? strdup(v->valuestring) : NULL;
}

static void login_user_load(directory_follower *dir, const char *account, login_user *lu)
{
    memset(lu, 0, sizeof *lu);
    const directory *d = directory_follower_read_lock(dir);
    const cJSON *u = directory_find_user(d, account);
    const char *at = strchr(account, '@');
    const cJSON *domain = at != NULL ? directory_find_domain(d, at + 1) : NULL;
    if (u != NULL && directory_entity_enabled(u) && domain != NULL &&
        directory_entity_enabled(domain)) {
        lu->pw = login_wraps(u, "password");
        lu->app = login_wraps(u, "app");
        lu->store_id = login_str(u, "store_id");
        lu->pk64 = login_str(u, "public_key");
        lu->sealed64 = login_str(u, "x25519_sealed_sk");
        const cJSON *q = cJSON_GetObjectItemCaseSensitive(u, "quota_bytes");
        lu->quota = cJSON_IsNumber(q) && q->valuedouble > 0 ? (uint64_t)q->valuedouble : 0;
    }
    directory_follower_read_unlock(dir);
}

static void login_wraps_free(char **w)
{
    for (size_t i = 0; w != NULL && w[i] != NULL; i++)
        free(w[i]);
    free(w);
}

static void login_user_free(login_user *lu)
{
    login_wraps_free(lu->pw);
    login_wraps_free(lu->app);
    free(lu->store_id);
    free(lu->pk64);
    free(lu->sealed64);
}

/* Tries each wrap; the first that opens leaves its key in *key_r. */
static bool login_try(char **wraps, const char *cred, size_t len, keys_secret **key_r, bool *tried)
{
    for (size_t i = 0; wraps != NULL && wraps[i] != NULL; i++) {
        *tried = true;
        if (keys_unwrap_b64(wraps[i], cred, len, key_r) == KEYS_OK)
            return true;
    }
    return false;
}

/* The key material a worker needs to open the mailbox. */
static bool login_material(worker_login *l, const login_user *lu)
{
    unsigned char *pk = NULL, *sealed = NULL;
    size_t pk_len = 0, sealed_len = 0;
    bool ok = lu->store_id != NULL && strlen(lu->store_id) <= SPOOL_STORE_ID_MAX &&
              lu->pk64 != NULL && lu->sealed64 != NULL &&
              keys_b64_decode(lu->pk64, 64, &pk, &pk_len) == KEYS_OK &&
              pk_len == KEYS_X25519_PK_LEN &&
              keys_b64_decode(lu->sealed64, WORKER_SEALED_SK_MAX, &sealed, &sealed_len) ==
                  KEYS_OK &&
              sealed_len <= WORKER_SEALED_SK_MAX;
    if (ok) {
        snprintf(l->store_id, sizeof l->store_id, "%s", lu->store_id);
        memcpy(l->pk, pk, KEYS_X25519_PK_LEN);
        memcpy(l->sealed_sk, sealed, sealed_len);
        l->sealed_len = sealed_len;
        l->quota = lu->quota;
    }
    free(pk);
    free(sealed);
    return ok;
}

void worker_login_run(worker_login *l)
{
    names_address a;
    const char *err = NULL;
    l->store_key = NULL;
    if (names_address_parse(l->user, strlen(l->user), NAMES_LOCAL_ASCII_LOWER, &a, &err) == 0)
        snprintf(l->account, sizeof l->account, "%s@%s", a.local, a.domain);
    else
        snprintf(l->account, sizeof l->account, "%.*s", WORKER_ADDRESS_MAX, l->user);
    switch (throttle_count(worker_rds_command, NULL, l->throttle, WORKER_THROTTLE_SCOPE, l->ip,
                           l->account, &l->retry_after)) {
    case THROTTLE_OK:
        break;
    case THROTTLE_OVER:
        l->outcome = WORKER_LOGIN_THROTTLED;
        return;
    case THROTTLE_UNAVAILABLE:
        l->outcome = WORKER_LOGIN_TEMPFAIL; /* fail closed: no limit without Redis */
        return;
    }
    /* Time must not tell which accounts exist. A credential in the app
     * password form ("abcd efgh ijkl mnop") is tried against the app
     * passwords (then the password, in case it has that form too); any
     * other against the password only: one Argon2id, as for an unknown or
     * disabled user (the dummy wrap). Only a guess in the app-password form
     * on an account with several app passwords costs more. */
    char app[KEYS_APP_PASSWORD_LEN + 1];
    bool is_app = keys_app_password_normalize(l->pass, app) == 0;
    login_user lu;
    login_user_load(l->dir, l->account, &lu);
    keys_secret *key = NULL;
    bool tried = false;
    bool ok = (is_app && login_try(lu.app, app, strlen(app), &key, &tried)) ||
              login_try(lu.pw, l->pass, l->pass_len, &key, &tried);
    if (!tried) {
        keys_unwrap_b64(l->dummy_wrap, l->pass, l->pass_len, &key);
        keys_secret_free(&key);
    }
    sodium_memzero(app, sizeof app);
    l->outcome = ok ? WORKER_LOGIN_OK : WORKER_LOGIN_WRONG;
    if (ok && l->want_key && !login_material(l, &lu)) {
        log_error(NULL, "%s: directory entry without usable key material", l->account);
        l->outcome = WORKER_LOGIN_BROKEN;
        ok = false;
    }
    login_user_free(&lu);
    if (ok && l->want_key)
        l->store_key = key;
    else
        keys_secret_free(&key);
    if (ok)
        throttle_forgive(worker_rds_command, NULL, WORKER_THROTTLE_SCOPE, l->ip, l->account);
}

void worker_login_clear(worker_login *l)
{
    keys_secret_free(&l->store_key);
    sodium_memzero(l->sealed_sk, sizeof l->sealed_sk);
}
