/* The queue directory: sealed entries, atomic durable writes, listing,
 * locking and removal (queue.h describes the layout). */
#include "fileio.h"
#include "queue.h"
#include "queue_int.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define QUEUE_CONTEXT_FULL_MAX 96 /* context ":" id */

const char *queue_strerror(queue_result r)
{
    switch (r) {
    case QUEUE_OK:
        return "ok";
    case QUEUE_ERR_TOO_BIG:
        return "message or envelope too big";
    case QUEUE_ERR_IO:
        return "queue I/O error";
    case QUEUE_ERR_CORRUPT:
        return "queue entry does not open";
    case QUEUE_ERR_INVALID:
        return "invalid queue argument";
    case QUEUE_ERR_NOT_FOUND:
        return "no such queue entry";
    case QUEUE_ERR_BUSY:
        return "queue entry busy";
    }
    return "unknown";
}

void queue_err(char *err, size_t errlen, const char *fmt, ...)
{
    if (err == NULL || errlen == 0)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

int queue_path(char out[QUEUE_PATH_MAX], const char *dir, const char *id, const char *suffix)
{
    int n = snprintf(out, QUEUE_PATH_MAX, "%s/%s%s", dir, id, suffix);
    return n < 0 || n >= QUEUE_PATH_MAX ? -1 : 0;
}

static int queue_context(char out[QUEUE_CONTEXT_FULL_MAX], const char *context, const char *id)
{
    int n = snprintf(out, QUEUE_CONTEXT_FULL_MAX, "%s:%s", context, id);
    return n < 0 || n >= QUEUE_CONTEXT_FULL_MAX ? -1 : 0;
}

queue_result queue_write_sealed(const char *dir, const keys_secret *key, const char *context,
                                const char *id, const char *suffix, const unsigned char *data,
                                size_t len, char *err, size_t errlen)
{
    char ctx[QUEUE_CONTEXT_FULL_MAX], rnd[17], tmpname[QUEUE_ID_LEN + 48];
    char tmp[QUEUE_PATH_MAX], path[QUEUE_PATH_MAX];
    if (queue_context(ctx, context, id) < 0 || keys_random_hex(rnd, 8) != KEYS_OK) {
        queue_err(err, errlen, "bad context or no randomness");
        return QUEUE_ERR_INVALID;
    }
    snprintf(tmpname, sizeof(tmpname), "tmp-%s%s-%s", id, suffix, rnd);
    if (queue_path(tmp, dir, tmpname, "") < 0 || queue_path(path, dir, id, suffix) < 0) {
        queue_err(err, errlen, "queue path too long");
        return QUEUE_ERR_INVALID;
    }
    unsigned char *sealed = NULL;
    size_t sealed_len = 0;
    keys_result kr = keys_seal(key, ctx, data, len, &sealed, &sealed_len);
    if (kr != KEYS_OK) {
        queue_err(err, errlen, "sealing failed: %s", keys_strerror(kr));
        return kr == KEYS_ERR_NOMEM ? QUEUE_ERR_IO : QUEUE_ERR_INVALID;
    }
    queue_result res = QUEUE_ERR_IO;
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) {
        queue_err(err, errlen, "open(%s) failed: %s", tmp, strerror(errno));
        goto out;
    }
    if (fileio_write_all(fd, sealed, sealed_len) < 0 || fsync(fd) < 0) {
        queue_err(err, errlen, "write(%s) failed: %s", tmp, strerror(errno));
        close(fd);
        unlink(tmp);
        goto out;
    }
    close(fd);
    if (rename(tmp, path) < 0) {
        queue_err(err, errlen, "rename(%s) failed: %s", tmp, strerror(errno));
        unlink(tmp);
        goto out;
    }
    /* The rename is durable only once the directory is: before returning. */
    if (fileio_fsync_dir(dir) < 0) {
        queue_err(err, errlen, "fsync(%s) failed: %s", dir, strerror(errno));
        goto out;
    }
    res = QUEUE_OK;
out:
    free(sealed);
    return res;
}

queue_result queue_read_sealed(const char *dir, const keys_secret *key, const char *context,
                               const char *id, const char *suffix, size_t max,
                               unsigned char **out_r, size_t *out_len_r, char *err, size_t errlen)
{
    char ctx[QUEUE_CONTEXT_FULL_MAX], path[QUEUE_PATH_MAX];
    *out_r = NULL;
    if (!queue_id_valid(id) || queue_context(ctx, context, id) < 0 ||
        queue_path(path, dir, id, suffix) < 0) {
        queue_err(err, errlen, "bad queue id");
        return QUEUE_ERR_INVALID;
    }
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        queue_err(err, errlen, "open(%s) failed: %s", path, strerror(errno));
        return errno == ENOENT ? QUEUE_ERR_NOT_FOUND : QUEUE_ERR_IO;
    }
    struct stat st;
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || (uint64_t)st.st_size > max) {
        queue_err(err, errlen, "%s is not a queue file of a possible size", path);
        close(fd);
        return QUEUE_ERR_CORRUPT;
    }
    size_t len = (size_t)st.st_size, got = 0;
    unsigned char *data = malloc(len > 0 ? len : 1);
    if (data == NULL) {
        close(fd);
        queue_err(err, errlen, "out of memory");
        return QUEUE_ERR_IO;
    }
    while (got < len) {
        ssize_t n = read(fd, data + got, len - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        got += (size_t)n;
    }
    close(fd);
    if (got != len) {
        free(data);
        queue_err(err, errlen, "read(%s) failed", path);
        return QUEUE_ERR_IO;
    }
    keys_result kr = keys_open(key, ctx, data, len, out_r, out_len_r);
    free(data);
    if (kr != KEYS_OK) {
        queue_err(err, errlen, "%s does not open: %s", path, keys_strerror(kr));
        return kr == KEYS_ERR_NOMEM ? QUEUE_ERR_IO : QUEUE_ERR_CORRUPT;
    }
    return QUEUE_OK;
}

/* Creates dir (one level) if missing; a new directory is made durable by
 * an fsync of its parent. */
static int queue_mkdir(const char *dir)
{
    if (mkdir(dir, 0700) < 0)
        return errno == EEXIST ? 0 : -1;
    char parent[QUEUE_PATH_MAX];
    snprintf(parent, sizeof(parent), "%s", dir);
    char *slash = strrchr(parent, '/');
    if (slash == parent)
        slash[1] = '\0';
    else if (slash != NULL)
        *slash = '\0';
    else
        snprintf(parent, sizeof(parent), ".");
    return fileio_fsync_dir(parent);
}

/* A new id: microseconds since the epoch as 16 hex digits, 8 random bytes. */
static int queue_new_id(char id_r[QUEUE_ID_LEN + 1])
{
    struct timespec ts;
    char rnd[17];
    clock_gettime(CLOCK_REALTIME, &ts);
    if (keys_random_hex(rnd, 8) != KEYS_OK)
        return -1;
    uint64_t us = (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
    snprintf(id_r, QUEUE_ID_LEN + 1, "%016" PRIx64 "%s", us, rnd);
    return 0;
}

queue_result queue_put(const char *dir, const keys_secret *server_key, const queue_envelope *env,
                       const void *msg, size_t len, size_t max_len, char id_r[QUEUE_ID_LEN + 1],
                       char *err, size_t errlen)
{
    const char *why = NULL;
    id_r[0] = '\0';
    if (dir == NULL || server_key == NULL || env == NULL) {
        queue_err(err, errlen, "NULL argument");
        return QUEUE_ERR_INVALID;
    }
    if (max_len == 0 || max_len > QUEUE_MESSAGE_MAX)
        max_len = max_len == 0 ? QUEUE_MESSAGE_MAX_DEFAULT : QUEUE_MESSAGE_MAX;
    if (len > max_len || env->nrcpt > QUEUE_RCPTS_MAX) {
        queue_err(err, errlen, "message of %zu bytes or %zu recipients over the limit", len,
                  env->nrcpt);
        return QUEUE_ERR_TOO_BIG;
    }
    queue_envelope copy = *env;
    if (copy.queued_at == 0)
        copy.queued_at = (int64_t)time(NULL);
    char id[QUEUE_ID_LEN + 1];
    if (queue_new_id(id) < 0) {
        queue_err(err, errlen, "no randomness");
        return QUEUE_ERR_IO;
    }
    unsigned char *plain = NULL;
    size_t plain_len = 0;
    if (queue_envelope_encode(id, &copy, msg, len, &plain, &plain_len, &why) < 0) {
        queue_err(err, errlen, "invalid envelope: %s", why);
        return QUEUE_ERR_INVALID;
    }
    queue_result r = QUEUE_ERR_IO;
    if (queue_mkdir(dir) < 0)
        queue_err(err, errlen, "mkdir(%s) failed: %s", dir, strerror(errno));
    else
        r = queue_write_sealed(dir, server_key, QUEUE_CONTEXT_ENTRY, id, ".msg", plain, plain_len,
                               err, errlen);
    sodium_memzero(plain, plain_len);
    free(plain);
    if (r == QUEUE_OK)
        memcpy(id_r, id, QUEUE_ID_LEN + 1);
    return r;
}

queue_result queue_open(const char *dir, const keys_secret *server_key, const char *id,
                        queue_entry **entry_r, char *err, size_t errlen)
{
    unsigned char *plain = NULL;
    size_t plain_len = 0;
    const char *why = NULL;
    *entry_r = NULL;
    queue_result r = queue_read_sealed(dir, server_key, QUEUE_CONTEXT_ENTRY, id, ".msg",
                                       QUEUE_MESSAGE_MAX + (size_t)1024 * 1024 + KEYS_SEAL_OVERHEAD,
                                       &plain, &plain_len, err, errlen);
    if (r != QUEUE_OK)
        return r;
    if (queue_envelope_decode(plain, plain_len, id, entry_r, &why) < 0) {
        queue_err(err, errlen, "entry %s: %s", id, why);
        r = QUEUE_ERR_CORRUPT;
    }
    sodium_memzero(plain, plain_len);
    free(plain);
    return r;
}

static int queue_id_cmp(const void *a, const void *b)
{
    return strcmp(a, b);
}

/* Cleans a directory entry that is not an entry: stale tmp files, state
 * files whose entry is gone. */
static void queue_list_clean(int dfd, const char *name, const char *dir)
{
    struct stat st;
    size_t len = strlen(name);
    if (strncmp(name, "tmp-", 4) == 0) {
        if (fstatat(dfd, name, &st, 0) == 0 && st.st_mtime + QUEUE_TMP_STALE < time(NULL))
            unlinkat(dfd, name, 0);
        return;
    }
    if (len == QUEUE_ID_LEN + 6 && strcmp(name + QUEUE_ID_LEN, ".state") == 0) {
        char msg[QUEUE_ID_LEN + 5];
        memcpy(msg, name, QUEUE_ID_LEN);
        memcpy(msg + QUEUE_ID_LEN, ".msg", 5);
        if (fstatat(dfd, msg, &st, 0) < 0 && errno == ENOENT && unlinkat(dfd, name, 0) == 0)
            fileio_fsync_dir(dir);
    }
}

queue_result queue_list(const char *dir, char (**ids_r)[QUEUE_ID_LEN + 1], size_t *n_r, char *err,
                        size_t errlen)
{
    *ids_r = NULL;
    *n_r = 0;
    DIR *d = opendir(dir);
    if (d == NULL) {
        if (errno == ENOENT)
            return QUEUE_OK;
        queue_err(err, errlen, "opendir(%s) failed: %s", dir, strerror(errno));
        return QUEUE_ERR_IO;
    }
    char(*ids)[QUEUE_ID_LEN + 1] = NULL;
    size_t n = 0, cap = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        size_t len = strlen(de->d_name);
        if (len != QUEUE_ID_LEN + 4 || strcmp(de->d_name + QUEUE_ID_LEN, ".msg") != 0) {
            queue_list_clean(dirfd(d), de->d_name, dir);
            continue;
        }
        char id[QUEUE_ID_LEN + 1];
        memcpy(id, de->d_name, QUEUE_ID_LEN);
        id[QUEUE_ID_LEN] = '\0';
        if (!queue_id_valid(id) || n >= QUEUE_LIST_MAX)
            continue;
        if (n == cap) {
            size_t ncap = cap == 0 ? 64 : cap * 2;
            void *p = realloc(ids, ncap * sizeof(*ids));
            if (p == NULL) {
                free(ids);
                closedir(d);
                queue_err(err, errlen, "out of memory");
                return QUEUE_ERR_IO;
            }
            ids = p;
            cap = ncap;
        }
        memcpy(ids[n++], id, QUEUE_ID_LEN + 1);
    }
    closedir(d);
    if (n > 0)
        qsort(ids, n, sizeof(*ids), queue_id_cmp);
    *ids_r = ids;
    *n_r = n;
    return QUEUE_OK;
}

queue_result queue_lock(const char *dir, const char *id, int *lock_fd_r)
{
    char path[QUEUE_PATH_MAX];
    *lock_fd_r = -1;
    if (!queue_id_valid(id) || queue_path(path, dir, id, ".msg") < 0)
        return QUEUE_ERR_INVALID;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return errno == ENOENT ? QUEUE_ERR_NOT_FOUND : QUEUE_ERR_IO;
    if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
        int e = errno;
        close(fd);
        return e == EWOULDBLOCK ? QUEUE_ERR_BUSY : QUEUE_ERR_IO;
    }
    /* Removed between open and flock by the delivery that held it. */
    struct stat st;
    if (fstat(fd, &st) < 0 || st.st_nlink == 0) {
        close(fd);
        return QUEUE_ERR_NOT_FOUND;
    }
    *lock_fd_r = fd;
    return QUEUE_OK;
}

void queue_unlock(int *lock_fd)
{
    if (lock_fd != NULL && *lock_fd >= 0) {
        close(*lock_fd); /* releases the flock */
        *lock_fd = -1;
    }
}

queue_result queue_remove(const char *dir, const char *id, char *err, size_t errlen)
{
    char msg[QUEUE_PATH_MAX], state[QUEUE_PATH_MAX];
    if (!queue_id_valid(id) || queue_path(msg, dir, id, ".msg") < 0 ||
        queue_path(state, dir, id, ".state") < 0)
        return QUEUE_ERR_INVALID;
    /* The entry first: a state without its entry is garbage, an entry
     * without its state would be delivered again. */
    if (unlink(msg) < 0 && errno != ENOENT) {
        queue_err(err, errlen, "unlink(%s) failed: %s", msg, strerror(errno));
        return QUEUE_ERR_IO;
    }
    if (fileio_fsync_dir(dir) < 0) {
        queue_err(err, errlen, "fsync(%s) failed: %s", dir, strerror(errno));
        return QUEUE_ERR_IO;
    }
    if (unlink(state) < 0 && errno != ENOENT) {
        queue_err(err, errlen, "unlink(%s) failed: %s", state, strerror(errno));
        return QUEUE_ERR_IO;
    }
    fileio_fsync_dir(dir);
    return QUEUE_OK;
}
