/* lib/mailbox: opening a user's store and the secret key kept inside it. */
#include "mailbox.h"

#include <errno.h>
#include <stdbool.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "log.h"
#include "vfs.h"

struct mailbox {
    sqlite3 *db;
    keys_secret *sk;
    unsigned char pk[KEYS_X25519_PK_LEN];
    char store_id[VFS_STORE_ID_MAX + 1];
};

/* The key pair, one row, inside the encrypted store. Not part of the
 * store schema (schema/store/): this library owns it. */
static const char mailbox_keys_sql[] = "CREATE TABLE IF NOT EXISTS mailbox_keys ("
                                       " id         INTEGER PRIMARY KEY CHECK (id = 1),"
                                       " public_key BLOB NOT NULL CHECK (length(public_key) = 32),"
                                       " secret_key BLOB NOT NULL CHECK (length(secret_key) = 32),"
                                       " created_at INTEGER NOT NULL)";

const char *mailbox_strerror(mailbox_result r)
{
    switch (r) {
    case MAILBOX_OK:
        return "ok";
    case MAILBOX_ERR_WRONG_KEY:
        return "wrong credential";
    case MAILBOX_ERR_KEY_MISMATCH:
        return "key pair does not match the store";
    case MAILBOX_ERR_NO_SECRET:
        return "no secret key for a new store";
    case MAILBOX_ERR_CORRUPT:
        return "store is corrupt";
    case MAILBOX_ERR_IO:
        return "I/O error";
    case MAILBOX_ERR_STORE:
        return "store error";
    case MAILBOX_ERR_QUOTA:
        return "over quota";
    case MAILBOX_ERR_SPOOL:
        return "spooled message cannot be delivered";
    case MAILBOX_ERR_INVALID:
        return "invalid argument";
    case MAILBOX_ERR_NOMEM:
        return "out of memory";
    }
    return "unknown mailbox error";
}

static void mailbox_err(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void mailbox_err(char *err, size_t errlen, const char *fmt, ...)
{
    if (err == NULL || errlen == 0)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

static bool mailbox_id_valid(const char *id)
{
    size_t n = strnlen(id, VFS_STORE_ID_MAX + 1);
    return n >= 1 && n <= VFS_STORE_ID_MAX && strspn(id, "0123456789abcdef") == n;
}

static mailbox_result mailbox_vfs_result(vfs_result r)
{
    switch (r) {
    case VFS_OK:
        return MAILBOX_OK;
    case VFS_ERR_WRONG_KEY:
        return MAILBOX_ERR_WRONG_KEY;
    case VFS_ERR_CORRUPT:
        return MAILBOX_ERR_CORRUPT;
    case VFS_ERR_INVALID:
        return MAILBOX_ERR_INVALID;
    case VFS_ERR_NOMEM:
        return MAILBOX_ERR_NOMEM;
    case VFS_ERR_IO:
        break;
    }
    return MAILBOX_ERR_IO;
}

/* <data_dir>/stores, created 0700 when missing; the store path in path_r. */
static mailbox_result mailbox_path(const char *data_dir, const char *store_id,
                                   char path_r[MAILBOX_PATH_MAX], char *err, size_t errlen)
{
    int n = snprintf(path_r, MAILBOX_PATH_MAX, "%s/stores", data_dir);
    if (n < 0 || n >= MAILBOX_PATH_MAX) {
        mailbox_err(err, errlen, "data directory path too long");
        return MAILBOX_ERR_INVALID;
    }
    if (mkdir(path_r, 0700) < 0 && errno != EEXIST) {
        mailbox_err(err, errlen, "mkdir(%s) failed: %s", path_r, strerror(errno));
        return MAILBOX_ERR_IO;
    }
    n = snprintf(path_r, MAILBOX_PATH_MAX, "%s/stores/%s.db", data_dir, store_id);
    if (n < 0 || n >= MAILBOX_PATH_MAX) {
        mailbox_err(err, errlen, "data directory path too long");
        return MAILBOX_ERR_INVALID;
    }
    return MAILBOX_OK;
}

static mailbox_result mailbox_store_fail(sqlite3 *db, int rc, const char *what, char *err,
                                         size_t errlen)
{
    mailbox_err(err, errlen, "%s: %s (%s)", what, store_strerror(rc), sqlite3_errmsg(db));
    return rc == STORE_ERR_NOMEM ? MAILBOX_ERR_NOMEM : MAILBOX_ERR_STORE;
}

/* Checks that sk is the secret key of pk (pk = X25519(sk, basepoint)). */
static bool mailbox_pair_ok(const unsigned char *sk, const unsigned char pk[KEYS_X25519_PK_LEN])
{
    unsigned char derived[crypto_scalarmult_BYTES];
    bool ok = crypto_scalarmult_base(derived, sk) == 0 &&
              sodium_memcmp(derived, pk, sizeof(derived)) == 0;
    sodium_memzero(derived, sizeof(derived));
    return ok;
}

/* Reads the stored pair: MAILBOX_OK with *sk_r (NULL when there is no row
 * yet), MAILBOX_ERR_KEY_MISMATCH when the stored pair is not pk's. */
static mailbox_result mailbox_keys_load(mailbox *m, keys_secret **sk_r, char *err, size_t errlen)
{
    *sk_r = NULL;
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(m->db, "SELECT public_key, secret_key FROM mailbox_keys WHERE id = 1",
                           -1, &st, NULL) != SQLITE_OK) {
        mailbox_err(err, errlen, "reading the key pair: %s", sqlite3_errmsg(m->db));
        return MAILBOX_ERR_STORE;
    }
    mailbox_result res = MAILBOX_OK;
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        const unsigned char *pk = sqlite3_column_blob(st, 0);
        const unsigned char *sk = sqlite3_column_blob(st, 1);
        if (pk == NULL || sk == NULL || sqlite3_column_bytes(st, 0) != KEYS_X25519_PK_LEN ||
            sqlite3_column_bytes(st, 1) != KEYS_X25519_SK_LEN ||
            sodium_memcmp(pk, m->pk, KEYS_X25519_PK_LEN) != 0 || !mailbox_pair_ok(sk, m->pk)) {
            mailbox_err(err, errlen, "store %s: the public key does not match the store's key pair",
                        m->store_id);
            res = MAILBOX_ERR_KEY_MISMATCH;
        } else if (keys_secret_from_bytes(sk, KEYS_X25519_SK_LEN, sk_r) != KEYS_OK) {
            mailbox_err(err, errlen, "out of memory");
            res = MAILBOX_ERR_NOMEM;
        }
    } else if (rc != SQLITE_DONE) {
        mailbox_err(err, errlen, "reading the key pair: %s", sqlite3_errmsg(m->db));
        res = MAILBOX_ERR_STORE;
    }
    sqlite3_finalize(st);
    return res;
}

/* Saves sk (the first opener wins a race: ON CONFLICT DO NOTHING, then the
 * caller reads the row back). */
static mailbox_result mailbox_keys_save(mailbox *m, const keys_secret *sk, char *err, size_t errlen)
{
    sqlite3_stmt *st = NULL;
    int rc = store_begin(m->db);
    if (rc != STORE_OK)
        return mailbox_store_fail(m->db, rc, "saving the key pair", err, errlen);
    if (sqlite3_prepare_v2(m->db,
                           "INSERT INTO mailbox_keys (id, public_key, secret_key, created_at) "
                           "VALUES (1, ?, ?, ?) ON CONFLICT DO NOTHING",
                           -1, &st, NULL) == SQLITE_OK) {
        sqlite3_bind_blob(st, 1, m->pk, KEYS_X25519_PK_LEN, SQLITE_STATIC);
        sqlite3_bind_blob(st, 2, keys_secret_bytes(sk), (int)keys_secret_len(sk), SQLITE_STATIC);
        sqlite3_bind_int64(st, 3, (sqlite3_int64)time(NULL));
        rc = sqlite3_step(st) == SQLITE_DONE ? STORE_OK : STORE_ERR_DB;
    } else {
        rc = STORE_ERR_DB;
    }
    if (rc != STORE_OK)
        mailbox_err(err, errlen, "saving the key pair: %s", sqlite3_errmsg(m->db));
    sqlite3_finalize(st);
    if (rc == STORE_OK)
        rc = store_commit(m->db);
    if (rc != STORE_OK) {
        store_rollback(m->db);
        return mailbox_store_fail(m->db, rc, "saving the key pair", err, errlen);
    }
    return MAILBOX_OK;
}

/* The secret key: from the store, or opened from the seal on first open. */
static mailbox_result mailbox_keys_init(mailbox *m, const keys_secret *store_key,
                                        const unsigned char *sealed, size_t sealed_len, char *err,
                                        size_t errlen)
{
    char *msg = NULL;
    if (sqlite3_exec(m->db, mailbox_keys_sql, NULL, NULL, &msg) != SQLITE_OK) {
        mailbox_err(err, errlen, "creating mailbox_keys: %s", msg ? msg : "failed");
        sqlite3_free(msg);
        return MAILBOX_ERR_STORE;
    }
    mailbox_result res = mailbox_keys_load(m, &m->sk, err, errlen);
    if (res != MAILBOX_OK || m->sk != NULL)
        return res;
    if (sealed == NULL || sealed_len == 0) {
        mailbox_err(err, errlen, "store %s holds no secret key and none was given", m->store_id);
        return MAILBOX_ERR_NO_SECRET;
    }
    keys_secret *sk = NULL;
    keys_result kr = keys_x25519_open(store_key, m->pk, sealed, sealed_len, &sk);
    if (kr != KEYS_OK) {
        mailbox_err(err, errlen, "store %s: the sealed secret key does not open: %s", m->store_id,
                    keys_strerror(kr));
        return kr == KEYS_ERR_NOMEM ? MAILBOX_ERR_NOMEM : MAILBOX_ERR_KEY_MISMATCH;
    }
    res = mailbox_keys_save(m, sk, err, errlen);
    keys_secret_free(&sk);
    if (res == MAILBOX_OK)
        res = mailbox_keys_load(m, &m->sk, err, errlen);
    if (res == MAILBOX_OK && m->sk == NULL) {
        mailbox_err(err, errlen, "store %s: the key pair was not saved", m->store_id);
        res = MAILBOX_ERR_STORE;
    }
    return res;
}

static mailbox_result mailbox_attach(mailbox *m, char *err, size_t errlen)
{
    int rc = store_attach(m->db, err, errlen);
    if (rc != STORE_OK)
        return rc == STORE_ERR_NOMEM ? MAILBOX_ERR_NOMEM : MAILBOX_ERR_STORE;
    rc = store_ensure_defaults(m->db);
    if (rc != STORE_OK)
        return mailbox_store_fail(m->db, rc, "creating the default mailboxes", err, errlen);
    return MAILBOX_OK;
}

/* Schema version 5 added SORT keys; bodies stored before have none. A
 * failure here does not keep the user out: SORT reports the missing keys
 * (STORE_ERR_SORT_KEYS) and the next open tries again. */
static void mailbox_open_backfill(mailbox *m)
{
    char msg[MAILBOX_ERR_LEN] = "";
    size_t filled = 0;
    mailbox_result r = mailbox_sort_backfill(m, &filled, msg, sizeof(msg));
    if (r != MAILBOX_OK)
        log_warn(NULL, "store %s: %s", m->store_id, msg);
    else if (filled > 0)
        log_info(NULL, "store %s: sort keys computed for %zu messages", m->store_id, filled);
}

mailbox_result mailbox_open(const char *data_dir, const char *store_id,
                            const keys_secret *store_key,
                            const unsigned char pk[KEYS_X25519_PK_LEN],
                            const unsigned char *sealed_sk, size_t sealed_len, mailbox **r,
                            char *err, size_t errlen)
{
    if (r != NULL)
        *r = NULL;
    if (data_dir == NULL || store_id == NULL || store_key == NULL || pk == NULL || r == NULL ||
        !mailbox_id_valid(store_id) || keys_secret_len(store_key) != KEYS_KEY_LEN) {
        mailbox_err(err, errlen, "invalid data directory, store id or key");
        return MAILBOX_ERR_INVALID;
    }
    if (keys_init() != KEYS_OK) {
        mailbox_err(err, errlen, "libsodium cannot be initialised");
        return MAILBOX_ERR_IO;
    }
    char path[MAILBOX_PATH_MAX];
    mailbox_result res = mailbox_path(data_dir, store_id, path, err, errlen);
    if (res != MAILBOX_OK)
        return res;
    mailbox *m = calloc(1, sizeof(*m));
    if (m == NULL) {
        mailbox_err(err, errlen, "out of memory");
        return MAILBOX_ERR_NOMEM;
    }
    memcpy(m->pk, pk, KEYS_X25519_PK_LEN);
    memcpy(m->store_id, store_id, strlen(store_id) + 1);
    res = mailbox_vfs_result(vfs_open_store(path, store_id, store_key, &m->db, err, errlen));
    if (res == MAILBOX_OK)
        res = mailbox_attach(m, err, errlen);
    if (res == MAILBOX_OK)
        res = mailbox_keys_init(m, store_key, sealed_sk, sealed_len, err, errlen);
    if (res != MAILBOX_OK) {
        mailbox_close(&m);
        return res;
    }
    mailbox_open_backfill(m);
    *r = m;
    return MAILBOX_OK;
}

void mailbox_close(mailbox **mp)
{
    if (mp == NULL || *mp == NULL)
        return;
    mailbox *m = *mp;
    vfs_close_store(&m->db);
    keys_secret_free(&m->sk);
    sodium_memzero(m, sizeof(*m));
    free(m);
    *mp = NULL;
}

sqlite3 *mailbox_db(mailbox *m)
{
    return m->db;
}

const keys_secret *mailbox_sk(mailbox *m)
{
    return m->sk;
}

const unsigned char *mailbox_pk(mailbox *m)
{
    return m->pk;
}

const char *mailbox_store_id(mailbox *m)
{
    return m->store_id;
}
