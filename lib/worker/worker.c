/* Start-up pieces and SASL for the workers: see worker.h. */
#include "worker.h"

#include "log.h"
#include "rds.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int worker_secret_load(const char *data_dir, char **secret_r, size_t *len_r)
{
    char path[4096 + 32];
    unsigned char raw[WORKER_SECRET_FILE_MAX];
    snprintf(path, sizeof path, "%s/keys/worker.secret", data_dir);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        log_error(NULL, "%s: %s (the api creates it on its first start)", path, strerror(errno));
        return -1;
    }
    ssize_t n = read(fd, raw, sizeof raw);
    close(fd);
    int rc = n > 0 ? directory_follower_secret_from_file(raw, (size_t)n, secret_r, len_r) : -1;
    sodium_memzero(raw, sizeof raw);
    if (rc < 0)
        log_error(NULL, "%s: not a usable worker secret", path);
    return rc;
}

int worker_dummy_wrap(const keys_kdf_params *kdf, char **wrap_r)
{
    keys_secret *k = NULL;
    char nobody[33];
    keys_result r = keys_store_key_new(&k);
    if (r == KEYS_OK)
        r = keys_random_hex(nobody, 16);
    if (r == KEYS_OK)
        r = keys_wrap_b64(k, nobody, strlen(nobody), kdf, wrap_r);
    keys_secret_free(&k);
    sodium_memzero(nobody, sizeof nobody);
    return r == KEYS_OK ? 0 : -1;
}

int worker_api_addr(const conf *c, char host[WORKER_HOST_MAX + 1], int *port_r, conf_error *err)
{
    const char *v = conf_get_str(c, "api.listen", "127.0.0.1:8080");
    const char *colon = strrchr(v, ':');
    int port = 0;
    if (colon == NULL || colon == v || (size_t)(colon - v) > WORKER_HOST_MAX ||
        sscanf(colon + 1, "%d", &port) != 1 || port < 1 || port > 65535) {
        snprintf(err->message, sizeof(err->message), "api.listen: give HOST:PORT");
        return -1;
    }
    size_t n = (size_t)(colon - v);
    if (v[0] == '[' && n >= 2 && v[n - 1] == ']') { /* "[::1]:8080" */
        v++;
        n -= 2;
    }
    snprintf(host, WORKER_HOST_MAX + 1, "%.*s", (int)n, v);
    if (strcmp(host, "*") == 0 || strcmp(host, "0.0.0.0") == 0)
        snprintf(host, WORKER_HOST_MAX + 1, "127.0.0.1");
    *port_r = port;
    return 0;
}

redisReply *worker_rds_command(void *ctx, int argc, const char **argv, const size_t *lens)
{
    (void)ctx;
    return rds_command_argv(argc, argv, lens);
}

int worker_publish_new_mail(const char *store_id)
{
    const char *argv[] = {"PUBLISH", WORKER_NEW_MAIL_CHANNEL, store_id};
    size_t lens[] = {7, strlen(WORKER_NEW_MAIL_CHANNEL), strlen(store_id)};
    redisReply *r = rds_command_argv(3, argv, lens);
    int ok = r != NULL && r->type == REDIS_REPLY_INTEGER;
    if (r != NULL)
        freeReplyObject(r);
    return ok ? 0 : -1;
}

char *worker_secret_dup(const char *s, size_t len)
{
    char *p = sodium_malloc(len + 1);
    if (p != NULL) {
        memcpy(p, s, len);
        p[len] = '\0';
    }
    return p;
}

void worker_secret_free(char **p)
{
    if (*p != NULL) {
        sodium_free(*p);
        *p = NULL;
    }
}

char *worker_sasl_b64(const char *in, size_t len, size_t *out_len_r)
{
    if (len == 1 && in[0] == '=')
        len = 0;
    size_t max = len / 4 * 3 + 3;
    char *out = sodium_malloc(max + 1);
    size_t n = 0;
    if (out == NULL)
        return NULL;
    if (len > 0 && sodium_base642bin((unsigned char *)out, max, in, len, NULL, &n, NULL,
                                     sodium_base64_VARIANT_ORIGINAL) != 0) {
        sodium_free(out);
        return NULL;
    }
    out[n] = '\0';
    *out_len_r = n;
    return out;
}

worker_sasl_result worker_sasl_plain(const char *b64, size_t len, char **user_r, char **pass_r,
                                     size_t *pass_len_r)
{
    size_t n = 0;
    char *msg = worker_sasl_b64(b64, len, &n);
    const char *nul1 = msg != NULL ? memchr(msg, '\0', n) : NULL;
    const char *nul2 = nul1 != NULL ? memchr(nul1 + 1, '\0', n - (size_t)(nul1 + 1 - msg)) : NULL;
    *user_r = *pass_r = NULL;
    if (nul2 == NULL) {
        worker_secret_free(&msg);
        return WORKER_SASL_MALFORMED;
    }
    const char *authz = msg, *user = nul1 + 1, *pass = nul2 + 1;
    size_t pass_len = n - (size_t)(pass - msg);
    if ((*authz != '\0' && strcmp(authz, user) != 0) || *user == '\0' ||
        strlen(user) > WORKER_ADDRESS_MAX || pass_len == 0 || pass_len > KEYS_CREDENTIAL_MAX ||
        memchr(pass, '\0', pass_len) != NULL) {
        worker_secret_free(&msg);
        return WORKER_SASL_REFUSED;
    }
    *user_r = worker_secret_dup(user, strlen(user));
    *pass_r = worker_secret_dup(pass, pass_len);
    *pass_len_r = pass_len;
    worker_secret_free(&msg);
    if (*user_r == NULL || *pass_r == NULL) {
        worker_secret_free(user_r);
        worker_secret_free(pass_r);
        return WORKER_SASL_REFUSED;
    }
    return WORKER_SASL_OK;
}
