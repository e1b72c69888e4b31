#include "fileio.h"
#include "spool.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#define SPOOL_MAGIC "OMSPOOL1"
#define SPOOL_MAGIC_LEN 8
#define SPOOL_SEALED_LEN (crypto_box_SEALBYTES + crypto_secretstream_xchacha20poly1305_KEYBYTES)
#define SPOOL_HEADER_LEN                                                                           \
    (SPOOL_MAGIC_LEN + SPOOL_SEALED_LEN + crypto_secretstream_xchacha20poly1305_HEADERBYTES)
#define SPOOL_CT_CHUNK (SPOOL_CHUNK + crypto_secretstream_xchacha20poly1305_ABYTES)
#define SPOOL_PATH_MAX 4096
#define SPOOL_AD_MAX (SPOOL_STORE_ID_MAX + 1 + SPOOL_ID_LEN)

const char *spool_strerror(spool_result r)
{
    switch (r) {
    case SPOOL_OK:
        return "ok";
    case SPOOL_ERR_TOO_BIG:
        return "message too big";
    case SPOOL_ERR_IO:
        return "spool I/O error";
    case SPOOL_ERR_READ:
        return "reading the message failed";
    case SPOOL_ERR_CORRUPT:
        return "spooled message does not open";
    case SPOOL_ERR_INVALID:
        return "invalid spool argument";
    }
    return "unknown";
}

static bool spool_hex(const char *s, size_t min, size_t max)
{
    size_t n = strlen(s);
    return n >= min && n <= max && strspn(s, "0123456789abcdef") == n;
}

/* Joins "dir/store[/name]"; -1 when it does not fit. */
static int spool_path(char out[SPOOL_PATH_MAX], const char *dir, const char *store,
                      const char *name)
{
    int n = name != NULL ? snprintf(out, SPOOL_PATH_MAX, "%s/%s/%s", dir, store, name)
                         : snprintf(out, SPOOL_PATH_MAX, "%s/%s", dir, store);
    return n < 0 || n >= SPOOL_PATH_MAX ? -1 : 0;
}

static void spool_err(char *err, size_t errlen, const char *what, const char *path)
{
    if (err != NULL && errlen > 0)
        snprintf(err, errlen, "%s(%s) failed: %s", what, path, strerror(errno));
}

/* Fills buf from rd up to len bytes; the count, or -1. Short only at the end. */
static ssize_t spool_fill(spool_read_fn rd, void *ctx, unsigned char *out, size_t len)
{
    size_t got = 0;
    while (got < len) {
        ssize_t n = rd(ctx, out + got, len - got);
        if (n < 0)
            return -1;
        if (n == 0)
            break;
        got += (size_t)n;
    }
    return (ssize_t)got;
}

/* Time-ordered id: microseconds since the epoch, then random bits. */
static void spool_new_id(char id[SPOOL_ID_LEN + 1])
{
    struct timeval tv;
    gettimeofday(&tv, NULL);
    unsigned long long us = (unsigned long long)tv.tv_sec * 1000000ULL + (unsigned)tv.tv_usec;
    unsigned char rnd[8];
    randombytes_buf(rnd, sizeof(rnd));
    snprintf(id, 17, "%016llx", us);
    sodium_bin2hex(id + 16, 17, rnd, sizeof(rnd));
}

static void spool_ad(const char *store_id, const char *id, char ad[SPOOL_AD_MAX + 1])
{
    snprintf(ad, SPOOL_AD_MAX + 1, "%s/%s", store_id, id);
}

/* Encrypts rd into fd. */
static spool_result spool_seal(int fd, const unsigned char pk[32], const char *ad, spool_read_fn rd,
                               void *ctx, size_t max)
{
    unsigned char *key = sodium_malloc(crypto_secretstream_xchacha20poly1305_KEYBYTES);
    unsigned char *plain = sodium_malloc(SPOOL_CHUNK);
    unsigned char *ct = malloc(SPOOL_CT_CHUNK);
    unsigned char head[SPOOL_HEADER_LEN];
    crypto_secretstream_xchacha20poly1305_state st;
    spool_result res = SPOOL_ERR_IO;
    if (key == NULL || plain == NULL || ct == NULL)
        goto out;
    crypto_secretstream_xchacha20poly1305_keygen(key);
    memcpy(head, SPOOL_MAGIC, SPOOL_MAGIC_LEN);
    if (crypto_box_seal(head + SPOOL_MAGIC_LEN, key, crypto_secretstream_xchacha20poly1305_KEYBYTES,
                        pk) != 0 ||
        crypto_secretstream_xchacha20poly1305_init_push(
            &st, head + SPOOL_MAGIC_LEN + SPOOL_SEALED_LEN, key) != 0 ||
        fileio_write_all(fd, head, sizeof(head)) < 0)
        goto out;
    size_t total = 0;
    for (;;) {
        ssize_t n = spool_fill(rd, ctx, plain, SPOOL_CHUNK);
        if (n < 0) {
            res = SPOOL_ERR_READ;
            goto out;
        }
        total += (size_t)n;
        if (total > max) {
            res = SPOOL_ERR_TOO_BIG;
            goto out;
        }
        bool last = n < SPOOL_CHUNK;
        unsigned long long ct_len;
        crypto_secretstream_xchacha20poly1305_push(
            &st, ct, &ct_len, plain, (unsigned long long)n, (const unsigned char *)ad, strlen(ad),
            last ? crypto_secretstream_xchacha20poly1305_TAG_FINAL : 0);
        if (fileio_write_all(fd, ct, (size_t)ct_len) < 0)
            goto out;
        if (last)
            break;
    }
    res = SPOOL_OK;
out:
    sodium_memzero(&st, sizeof(st));
    sodium_free(key);
    sodium_free(plain);
    free(ct);
    return res;
}

spool_result spool_put(const char *dir, const char *store_id, const unsigned char pk[32],
                       spool_read_fn rd, void *ctx, size_t max, char id_r[SPOOL_ID_LEN + 1],
                       char *err, size_t errlen)
{
    char sdir[SPOOL_PATH_MAX], tmp[SPOOL_PATH_MAX], final[SPOOL_PATH_MAX], ad[SPOOL_AD_MAX + 1];
    if (dir == NULL || store_id == NULL || !spool_hex(store_id, 1, SPOOL_STORE_ID_MAX) ||
        sodium_init() < 0)
        return SPOOL_ERR_INVALID;
    if (max == 0)
        max = SPOOL_MAX_DEFAULT;
    char tmp_name[SPOOL_ID_LEN + 8], final_name[SPOOL_ID_LEN + 8];
    spool_new_id(id_r);
    snprintf(tmp_name, sizeof(tmp_name), "tmp-%s", id_r);
    snprintf(final_name, sizeof(final_name), "%s.msg", id_r);
    if (spool_path(sdir, dir, store_id, NULL) < 0 || spool_path(tmp, dir, store_id, tmp_name) < 0 ||
        spool_path(final, dir, store_id, final_name) < 0)
        return SPOOL_ERR_INVALID;
    if (mkdir(sdir, 0700) < 0 && errno != EEXIST) {
        spool_err(err, errlen, "mkdir", sdir);
        return SPOOL_ERR_IO;
    }
    spool_ad(store_id, id_r, ad);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) {
        spool_err(err, errlen, "open", tmp);
        return SPOOL_ERR_IO;
    }
    spool_result res = spool_seal(fd, pk, ad, rd, ctx, max);
    if (res == SPOOL_ERR_IO)
        spool_err(err, errlen, "write", tmp);
    if (res == SPOOL_OK && fsync(fd) < 0) {
        spool_err(err, errlen, "fsync", tmp);
        res = SPOOL_ERR_IO;
    }
    if (close(fd) < 0 && res == SPOOL_OK) {
        spool_err(err, errlen, "close", tmp);
        res = SPOOL_ERR_IO;
    }
    /* Only a complete, synced file gets its final name; then the name is synced. */
    if (res == SPOOL_OK && rename(tmp, final) < 0) {
        spool_err(err, errlen, "rename", tmp);
        res = SPOOL_ERR_IO;
    }
    if (res != SPOOL_OK) {
        unlink(tmp);
        return res;
    }
    if (fileio_fsync_dir(sdir) < 0) {
        spool_err(err, errlen, "fsync", sdir);
        return SPOOL_ERR_IO;
    }
    return SPOOL_OK;
}

static int spool_cmp(const void *a, const void *b)
{
    return strcmp(a, b);
}

spool_result spool_list(const char *dir, const char *store_id, char (**ids_r)[SPOOL_ID_LEN + 1],
                        size_t *n_r)
{
    char sdir[SPOOL_PATH_MAX];
    *ids_r = NULL;
    *n_r = 0;
    if (!spool_hex(store_id, 1, SPOOL_STORE_ID_MAX))
        return SPOOL_ERR_INVALID;
    if (spool_path(sdir, dir, store_id, NULL) < 0)
        return SPOOL_ERR_INVALID;
    DIR *d = opendir(sdir);
    if (d == NULL)
        return errno == ENOENT ? SPOOL_OK : SPOOL_ERR_IO;
    size_t cap = 0, n = 0;
    char(*ids)[SPOOL_ID_LEN + 1] = NULL;
    struct dirent *e;
    while ((e = readdir(d)) != NULL && n < SPOOL_LIST_MAX) {
        size_t len = strlen(e->d_name);
        if (len != SPOOL_ID_LEN + 4 || strcmp(e->d_name + SPOOL_ID_LEN, ".msg") != 0 ||
            strspn(e->d_name, "0123456789abcdef") != SPOOL_ID_LEN)
            continue;
        if (n == cap) {
            cap = cap == 0 ? 16 : cap * 2;
            void *grown = realloc(ids, cap * sizeof(*ids));
            if (grown == NULL) {
                free(ids);
                closedir(d);
                return SPOOL_ERR_IO;
            }
            ids = grown;
        }
        memcpy(ids[n], e->d_name, SPOOL_ID_LEN);
        ids[n][SPOOL_ID_LEN] = '\0';
        n++;
    }
    closedir(d);
    if (n > 0)
        qsort(ids, n, sizeof(*ids), spool_cmp);
    *ids_r = ids;
    *n_r = n;
    return SPOOL_OK;
}

static int spool_read_all(int fd, unsigned char *p, size_t len)
{
    while (len > 0) {
        ssize_t n = read(fd, p, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

/* Decrypts the chunks after the header; size is what is left of the file. */
static spool_result spool_unseal(int fd, off_t size, const unsigned char *key,
                                 const unsigned char *stream_header, const char *ad, buf *out)
{
    crypto_secretstream_xchacha20poly1305_state st;
    unsigned char *ct = malloc(SPOOL_CT_CHUNK);
    unsigned char *plain = sodium_malloc(SPOOL_CHUNK);
    spool_result res = SPOOL_ERR_CORRUPT;
    if (ct == NULL || plain == NULL) {
        res = SPOOL_ERR_IO;
        goto out;
    }
    if (crypto_secretstream_xchacha20poly1305_init_pull(&st, stream_header, key) != 0)
        goto out;
    unsigned char tag = 0;
    while (size > 0 && tag != crypto_secretstream_xchacha20poly1305_TAG_FINAL) {
        size_t n = size > SPOOL_CT_CHUNK ? SPOOL_CT_CHUNK : (size_t)size;
        unsigned long long plen;
        if (n < crypto_secretstream_xchacha20poly1305_ABYTES || spool_read_all(fd, ct, n) < 0 ||
            crypto_secretstream_xchacha20poly1305_pull(&st, plain, &plen, &tag, ct, n,
                                                       (const unsigned char *)ad, strlen(ad)) != 0)
            goto out;
        if (buf_append(out, plain, (size_t)plen) < 0) {
            res = SPOOL_ERR_TOO_BIG;
            goto out;
        }
        size -= (off_t)n;
    }
    /* Truncated (no final chunk) or with bytes after it: not ours. */
    if (tag == crypto_secretstream_xchacha20poly1305_TAG_FINAL && size == 0)
        res = SPOOL_OK;
out:
    sodium_memzero(&st, sizeof(st));
    sodium_free(plain);
    free(ct);
    return res;
}

spool_result spool_open(const char *dir, const char *store_id, const char *id,
                        const unsigned char pk[32], const keys_secret *sk, buf *out)
{
    char path[SPOOL_PATH_MAX], ad[SPOOL_AD_MAX + 1];
    if (!spool_hex(store_id, 1, SPOOL_STORE_ID_MAX) || !spool_hex(id, SPOOL_ID_LEN, SPOOL_ID_LEN) ||
        keys_secret_len(sk) != crypto_box_SECRETKEYBYTES || sodium_init() < 0)
        return SPOOL_ERR_INVALID;
    char name[SPOOL_ID_LEN + 8];
    snprintf(name, sizeof(name), "%s.msg", id);
    if (spool_path(path, dir, store_id, name) < 0)
        return SPOOL_ERR_INVALID;
    spool_ad(store_id, id, ad);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return SPOOL_ERR_IO;
    struct stat sb;
    unsigned char head[SPOOL_HEADER_LEN];
    unsigned char *key = sodium_malloc(crypto_secretstream_xchacha20poly1305_KEYBYTES);
    spool_result res = SPOOL_ERR_CORRUPT;
    if (key == NULL)
        res = SPOOL_ERR_IO;
    else if (fstat(fd, &sb) < 0)
        res = SPOOL_ERR_IO;
    else if (sb.st_size >= (off_t)sizeof(head) && spool_read_all(fd, head, sizeof(head)) == 0 &&
             memcmp(head, SPOOL_MAGIC, SPOOL_MAGIC_LEN) == 0 &&
             crypto_box_seal_open(key, head + SPOOL_MAGIC_LEN, SPOOL_SEALED_LEN, pk,
                                  keys_secret_bytes(sk)) == 0)
        res = spool_unseal(fd, sb.st_size - (off_t)sizeof(head), key,
                           head + SPOOL_MAGIC_LEN + SPOOL_SEALED_LEN, ad, out);
    close(fd);
    sodium_free(key);
    return res;
}

spool_result spool_remove(const char *dir, const char *store_id, const char *id)
{
    char sdir[SPOOL_PATH_MAX], path[SPOOL_PATH_MAX];
    if (!spool_hex(store_id, 1, SPOOL_STORE_ID_MAX) || !spool_hex(id, SPOOL_ID_LEN, SPOOL_ID_LEN))
        return SPOOL_ERR_INVALID;
    char name[SPOOL_ID_LEN + 8];
    snprintf(name, sizeof(name), "%s.msg", id);
    if (spool_path(sdir, dir, store_id, NULL) < 0 || spool_path(path, dir, store_id, name) < 0)
        return SPOOL_ERR_INVALID;
    if (unlink(path) < 0 && errno != ENOENT)
        return SPOOL_ERR_IO;
    return fileio_fsync_dir(sdir) < 0 ? SPOOL_ERR_IO : SPOOL_OK;
}
