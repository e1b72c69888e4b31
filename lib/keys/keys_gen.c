/* keys: key files and generated human-facing secrets (recovery keys, app
 * passwords, passwords, random hex ids). Uses only the public keys.h API
 * for secrets. */
#include "keys.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- Key files ------------------------------------------------------- */

#define KEYS_FILE_TMP_RANDOM 8 /* random bytes in a temporary file's name */
/* O_NONBLOCK: a FIFO planted at the path must not hang us before fstat()
 * refuses it; it changes nothing for a regular file. */
#define KEYS_FILE_OPEN_FLAGS (O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK)

__attribute__((format(printf, 3, 4))) static keys_result file_err(char *err_r, size_t err_size,
                                                                  const char *fmt, ...)
{
    if (err_r != NULL && err_size > 0) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err_r, err_size, fmt, ap);
        va_end(ap);
    }
    return KEYS_ERR_FILE;
}

static void file_err_clear(char *err_r, size_t err_size)
{
    if (err_r != NULL && err_size > 0)
        err_r[0] = '\0';
}

/* Reads exactly len bytes (and checks for EOF after them) into secure
 * memory, then into a new secret. */
static keys_result file_read_secret(int fd, const char *path, size_t len, keys_secret **r,
                                    char *err_r, size_t err_size)
{
    unsigned char *buf = sodium_malloc(len + 1); /* + 1 notices a file that grew */
    if (buf == NULL)
        return KEYS_ERR_NOMEM;
    size_t got = 0;
    while (got < len + 1) {
        ssize_t n = read(fd, buf + got, len + 1 - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            sodium_free(buf);
            return file_err(err_r, err_size, "read(%s) failed: %s", path, strerror(errno));
        }
        if (n == 0)
            break;
        got += (size_t)n;
    }
    keys_result rc = KEYS_OK;
    if (got != len)
        rc = file_err(err_r, err_size, "%s changed size while being read", path);
    else
        rc = keys_secret_from_bytes(buf, len, r);
    sodium_free(buf);
    return rc;
}

static keys_result file_load_fd(int fd, const char *path, size_t len, keys_secret **r, char *err_r,
                                size_t err_size)
{
    struct stat st;
    if (fstat(fd, &st) != 0)
        return file_err(err_r, err_size, "fstat(%s) failed: %s", path, strerror(errno));
    if (!S_ISREG(st.st_mode))
        return file_err(err_r, err_size, "%s is not a regular file", path);
    if ((st.st_mode & 077) != 0)
        return file_err(err_r, err_size,
                        "%s has mode %04o: group or others may access it (chmod 600 it)", path,
                        (unsigned)(st.st_mode & 07777));
    if (st.st_size < 0 || (uintmax_t)st.st_size != len)
        return file_err(err_r, err_size, "%s is %jd bytes, expected %zu", path,
                        (intmax_t)st.st_size, len);
    return file_read_secret(fd, path, len, r, err_r, err_size);
}

keys_result keys_file_load(const char *path, size_t len, keys_secret **r, char *err_r,
                           size_t err_size)
{
    file_err_clear(err_r, err_size);
    if (r == NULL)
        return KEYS_ERR_INVALID;
    *r = NULL;
    if (path == NULL || len == 0 || len > KEYS_SECRET_MAX)
        return KEYS_ERR_INVALID;
    keys_result rc = keys_init();
    if (rc != KEYS_OK)
        return rc;
    int fd = open(path, KEYS_FILE_OPEN_FLAGS);
    if (fd < 0)
        return file_err(err_r, err_size, "open(%s) failed: %s", path, strerror(errno));
    rc = file_load_fd(fd, path, len, r, err_r, err_size);
    close(fd);
    return rc;
}

static keys_result file_write_all(int fd, const char *path, const unsigned char *p, size_t len,
                                  char *err_r, size_t err_size)
{
    while (len > 0) {
        ssize_t n = write(fd, p, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return file_err(err_r, err_size, "write(%s) failed: %s", path, strerror(errno));
        p += n;
        len -= (size_t)n;
    }
    return KEYS_OK;
}

/* fsync the directory holding path, so a rename or link survives a crash. */
static keys_result file_sync_dir(const char *path, char *err_r, size_t err_size)
{
    char dir[PATH_MAX];
    const char *slash = strrchr(path, '/');
    if (slash == NULL)
        snprintf(dir, sizeof(dir), ".");
    else if (slash == path)
        snprintf(dir, sizeof(dir), "/");
    else
        snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path), path);
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return file_err(err_r, err_size, "open(%s) failed: %s", dir, strerror(errno));
    int ret = fsync(fd);
    int e = errno;
    close(fd);
    if (ret != 0)
        return file_err(err_r, err_size, "fsync(%s) failed: %s", dir, strerror(e));
    return KEYS_OK;
}

/* Writes s to a new temporary file beside path and fsyncs it. */
static keys_result file_write_tmp(const char *tmp, const keys_secret *s, char *err_r,
                                  size_t err_size)
{
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0)
        return file_err(err_r, err_size, "open(%s) failed: %s", tmp, strerror(errno));
    keys_result rc = KEYS_OK;
    if (fchmod(fd, 0600) != 0) /* whatever the umask */
        rc = file_err(err_r, err_size, "fchmod(%s) failed: %s", tmp, strerror(errno));
    if (rc == KEYS_OK)
        rc = file_write_all(fd, tmp, keys_secret_bytes(s), keys_secret_len(s), err_r, err_size);
    if (rc == KEYS_OK && fsync(fd) != 0)
        rc = file_err(err_r, err_size, "fsync(%s) failed: %s", tmp, strerror(errno));
    if (close(fd) != 0 && rc == KEYS_OK)
        rc = file_err(err_r, err_size, "close(%s) failed: %s", tmp, strerror(errno));
    if (rc != KEYS_OK)
        unlink(tmp);
    return rc;
}

/* Publishes tmp as path without ever replacing an existing path: link()
 * fails with EEXIST when another process won the race (*exists_r = true).
 * A file system without hard links falls back to rename(). */
static keys_result file_publish(const char *tmp, const char *path, bool *exists_r, char *err_r,
                                size_t err_size)
{
    *exists_r = false;
    if (link(tmp, path) == 0) {
        unlink(tmp);
        return KEYS_OK;
    }
    int e = errno;
    if (e == EPERM || e == EOPNOTSUPP || e == ENOSYS) {
        if (rename(tmp, path) == 0)
            return KEYS_OK;
        e = errno;
    }
    unlink(tmp);
    if (e == EEXIST) {
        *exists_r = true;
        return KEYS_OK;
    }
    return file_err(err_r, err_size, "link(%s, %s) failed: %s", tmp, path, strerror(e));
}

/* Creates path with len random bytes; *exists_r when someone else did first. */
static keys_result file_create(const char *path, size_t len, keys_secret **r, bool *exists_r,
                               char *err_r, size_t err_size)
{
    char rnd[2 * KEYS_FILE_TMP_RANDOM + 1];
    keys_result rc = keys_random_hex(rnd, KEYS_FILE_TMP_RANDOM);
    if (rc != KEYS_OK)
        return rc;
    char tmp[PATH_MAX];
    int n = snprintf(tmp, sizeof(tmp), "%s.tmp-%s", path, rnd);
    if (n < 0 || (size_t)n >= sizeof(tmp))
        return file_err(err_r, err_size, "%s: path too long", path);
    keys_secret *s = NULL;
    rc = keys_secret_random(len, &s);
    if (rc != KEYS_OK)
        return rc;
    rc = file_write_tmp(tmp, s, err_r, err_size);
    if (rc == KEYS_OK)
        rc = file_publish(tmp, path, exists_r, err_r, err_size);
    if (rc == KEYS_OK && !*exists_r)
        rc = file_sync_dir(path, err_r, err_size);
    if (rc != KEYS_OK || *exists_r)
        keys_secret_free(&s);
    *r = s;
    return rc;
}

keys_result keys_file_load_or_create(const char *path, size_t len, keys_secret **r, char *err_r,
                                     size_t err_size)
{
    file_err_clear(err_r, err_size);
    if (r == NULL)
        return KEYS_ERR_INVALID;
    *r = NULL;
    if (path == NULL || len == 0 || len > KEYS_SECRET_MAX)
        return KEYS_ERR_INVALID;
    keys_result rc = keys_init();
    if (rc != KEYS_OK)
        return rc;
    int fd = open(path, KEYS_FILE_OPEN_FLAGS);
    if (fd >= 0) {
        rc = file_load_fd(fd, path, len, r, err_r, err_size);
        close(fd);
        return rc;
    }
    if (errno != ENOENT)
        return file_err(err_r, err_size, "open(%s) failed: %s", path, strerror(errno));
    bool exists = false;
    rc = file_create(path, len, r, &exists, err_r, err_size);
    if (rc == KEYS_OK && exists)
        return keys_file_load(path, len, r, err_r, err_size);
    return rc;
}

/* ---- Recovery keys (Crockford base32) ---------------------------------- */

#define RECOVERY_BYTES 20   /* 160 bits */
#define RECOVERY_SYMBOLS 32 /* 160 / 5 */
#define RECOVERY_GROUP 4

static const char crockford[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

_Static_assert(sizeof(crockford) - 1 == 32, "crockford alphabet");
_Static_assert(RECOVERY_SYMBOLS + RECOVERY_SYMBOLS / RECOVERY_GROUP - 1 == KEYS_RECOVERY_STRLEN,
               "recovery length");

/* Joins 32 symbols into the canonical "XXXX-XXXX-..." form. */
static void recovery_format(const char sym[RECOVERY_SYMBOLS], char out_r[KEYS_RECOVERY_STRLEN + 1])
{
    size_t o = 0;
    for (size_t i = 0; i < RECOVERY_SYMBOLS; i++) {
        if (i > 0 && i % RECOVERY_GROUP == 0)
            out_r[o++] = '-';
        out_r[o++] = sym[i];
    }
    out_r[o] = '\0';
}

keys_result keys_recovery_new(char out_r[KEYS_RECOVERY_STRLEN + 1])
{
    if (out_r == NULL)
        return KEYS_ERR_INVALID;
    keys_result rc = keys_init();
    if (rc != KEYS_OK)
        return rc;
    unsigned char bytes[RECOVERY_BYTES];
    char sym[RECOVERY_SYMBOLS];
    randombytes_buf(bytes, sizeof(bytes));
    /* 5 bits at a time, most significant first. */
    uint32_t acc = 0;
    unsigned bits = 0;
    size_t o = 0;
    for (size_t i = 0; i < RECOVERY_BYTES; i++) {
        acc = (acc << 8) | bytes[i];
        bits += 8;
        while (bits >= 5) {
            bits -= 5;
            sym[o++] = crockford[(acc >> bits) & 31];
        }
    }
    recovery_format(sym, out_r);
    sodium_memzero(bytes, sizeof(bytes));
    sodium_memzero(sym, sizeof(sym));
    return KEYS_OK;
}

/* The canonical symbol for a typed character, '\0' for a separator to
 * skip, or -1 for anything else. Crockford: O reads as 0, I and L as 1. */
static int recovery_symbol(char c)
{
    if (c == ' ' || c == '-' || c == '\t')
        return '\0';
    if (c >= 'a' && c <= 'z')
        c = (char)(c - 'a' + 'A');
    if (c == 'O')
        return '0';
    if (c == 'I' || c == 'L')
        return '1';
    if (c == '\0' || strchr(crockford, c) == NULL)
        return -1;
    return c;
}

int keys_recovery_normalize(const char *in, char out_r[KEYS_RECOVERY_STRLEN + 1])
{
    if (out_r == NULL)
        return -1;
    out_r[0] = '\0';
    if (in == NULL || strnlen(in, KEYS_RECOVERY_INPUT_MAX + 1) > KEYS_RECOVERY_INPUT_MAX)
        return -1;
    char sym[RECOVERY_SYMBOLS];
    size_t n = 0;
    for (const char *p = in; *p != '\0'; p++) {
        int c = recovery_symbol(*p);
        if (c < 0 || (c > 0 && n == RECOVERY_SYMBOLS)) {
            sodium_memzero(sym, sizeof(sym));
            return -1;
        }
        if (c > 0)
            sym[n++] = (char)c;
    }
    int ret = -1;
    if (n == RECOVERY_SYMBOLS) {
        recovery_format(sym, out_r);
        ret = 0;
    }
    sodium_memzero(sym, sizeof(sym));
    return ret;
}

/* ---- App passwords ----------------------------------------------------- */

#define APP_PASSWORD_GROUP 4

_Static_assert(KEYS_APP_PASSWORD_LEN + KEYS_APP_PASSWORD_LEN / APP_PASSWORD_GROUP - 1 ==
                   KEYS_APP_PASSWORD_STRLEN,
               "app password length");

keys_result keys_app_password_new(char out_r[KEYS_APP_PASSWORD_STRLEN + 1])
{
    if (out_r == NULL)
        return KEYS_ERR_INVALID;
    keys_result rc = keys_init();
    if (rc != KEYS_OK)
        return rc;
    size_t o = 0;
    for (size_t i = 0; i < KEYS_APP_PASSWORD_LEN; i++) {
        if (i > 0 && i % APP_PASSWORD_GROUP == 0)
            out_r[o++] = ' ';
        /* randombytes_uniform() rejects out-of-range draws: no modulo bias. */
        out_r[o++] = (char)('a' + randombytes_uniform(26));
    }
    out_r[o] = '\0';
    return KEYS_OK;
}

int keys_app_password_normalize(const char *in, char out_r[KEYS_APP_PASSWORD_LEN + 1])
{
    if (out_r == NULL)
        return -1;
    out_r[0] = '\0';
    if (in == NULL || strnlen(in, KEYS_APP_PASSWORD_INPUT_MAX + 1) > KEYS_APP_PASSWORD_INPUT_MAX)
        return -1;
    size_t n = 0;
    for (const char *p = in; *p != '\0'; p++) {
        char c = *p;
        if (c == ' ')
            continue;
        if (c >= 'A' && c <= 'Z')
            c = (char)(c - 'A' + 'a');
        if (c < 'a' || c > 'z' || n == KEYS_APP_PASSWORD_LEN) {
            sodium_memzero(out_r, KEYS_APP_PASSWORD_LEN + 1);
            return -1;
        }
        out_r[n++] = c;
    }
    out_r[n] = '\0';
    if (n != KEYS_APP_PASSWORD_LEN) {
        sodium_memzero(out_r, KEYS_APP_PASSWORD_LEN + 1);
        return -1;
    }
    return 0;
}

/* ---- Generated passwords and ids -------------------------------------- */

/* No 0 O o 1 l I: 56 symbols, log2(56) = 5.8 bits each. */
static const char password_alphabet[] = "23456789"
                                        "abcdefghijkmnpqrstuvwxyz"
                                        "ABCDEFGHJKLMNPQRSTUVWXYZ";

keys_result keys_password_generate(char *out_r, size_t nchars)
{
    if (out_r == NULL || nchars < KEYS_PASSWORD_MIN_LEN || nchars > KEYS_PASSWORD_MAX_LEN)
        return KEYS_ERR_INVALID;
    keys_result rc = keys_init();
    if (rc != KEYS_OK)
        return rc;
    const uint32_t n = (uint32_t)(sizeof(password_alphabet) - 1);
    for (size_t i = 0; i < nchars; i++)
        out_r[i] = password_alphabet[randombytes_uniform(n)];
    out_r[nchars] = '\0';
    return KEYS_OK;
}

keys_result keys_random_hex(char *out_r, size_t nbytes)
{
    if (out_r == NULL || nbytes == 0 || nbytes > KEYS_RANDOM_HEX_MAX)
        return KEYS_ERR_INVALID;
    keys_result rc = keys_init();
    if (rc != KEYS_OK)
        return rc;
    unsigned char bytes[KEYS_RANDOM_HEX_MAX];
    randombytes_buf(bytes, nbytes);
    sodium_bin2hex(out_r, 2 * nbytes + 1, bytes, nbytes);
    return KEYS_OK;
}
