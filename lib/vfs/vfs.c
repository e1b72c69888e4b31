/* vfs: registration of the "ownmail-enc" SQLite VFS, key slots, opening a
 * store. The page formats are in vfs.h, the page code in vfs_page.c. */
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "vfs_int.h"

#define VFS_SLOT_PARAM "ownmail_slot"
#define VFS_KCV_CONTEXT "ownmail-vfs-kcv-v1"
#define VFS_URI_MAX 4096 /* longest URI built for a store path */

static pthread_mutex_t vfs_slots_lock = PTHREAD_MUTEX_INITIALIZER;
static vfs_slot *vfs_slots;
static pthread_once_t vfs_once = PTHREAD_ONCE_INIT;
static int vfs_registered;
static sqlite3_vfs vfs_enc;

const char *vfs_strerror(vfs_result r)
{
    switch (r) {
    case VFS_OK:
        return "ok";
    case VFS_ERR_WRONG_KEY:
        return "wrong credential";
    case VFS_ERR_CORRUPT:
        return "store is corrupt or has been altered";
    case VFS_ERR_IO:
        return "store I/O error";
    case VFS_ERR_INVALID:
        return "invalid argument";
    case VFS_ERR_NOMEM:
        return "out of memory";
    }
    return "unknown error";
}

static void vfs_err(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void vfs_err(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    if (err == NULL || errlen == 0)
        return;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

/* ---- Slots -------------------------------------------------------------- */

static vfs_slot *vfs_slot_new(const keys_secret *key, const char *store_id)
{
    vfs_slot *s = calloc(1, sizeof *s);
    if (s == NULL)
        return NULL;
    if (keys_secret_from_bytes(keys_secret_bytes(key), keys_secret_len(key), &s->key) != KEYS_OK) {
        free(s);
        return NULL;
    }
    s->store_id_len = strlen(store_id);
    memcpy(s->store_id, store_id, s->store_id_len + 1);
    unsigned char in[sizeof VFS_KCV_CONTEXT + VFS_STORE_ID_MAX];
    memcpy(in, VFS_KCV_CONTEXT, sizeof VFS_KCV_CONTEXT);
    memcpy(in + sizeof VFS_KCV_CONTEXT, store_id, s->store_id_len);
    crypto_generichash(s->kcv, VFS_KCV_LEN, in, sizeof VFS_KCV_CONTEXT + s->store_id_len,
                       keys_secret_bytes(s->key), keys_secret_len(s->key));
    s->refs = 1;
    pthread_mutex_lock(&vfs_slots_lock);
    do { /* a random handle, unique among live slots */
        randombytes_buf(&s->id, sizeof s->id);
        for (vfs_slot *o = vfs_slots; o != NULL; o = o->next)
            if (o->id == s->id)
                s->id = 0;
    } while (s->id == 0);
    s->next = vfs_slots;
    vfs_slots = s;
    pthread_mutex_unlock(&vfs_slots_lock);
    return s;
}

/* The slot named by a file name's URI parameter, with a new reference. */
static vfs_slot *vfs_slot_find(sqlite3_filename name)
{
    const char *v = name != NULL ? sqlite3_uri_parameter(name, VFS_SLOT_PARAM) : NULL;
    if (v == NULL || strlen(v) != 16)
        return NULL;
    char *end = NULL;
    unsigned long long id = strtoull(v, &end, 16);
    if (end == NULL || *end != '\0' || id == 0)
        return NULL;
    vfs_slot *s;
    pthread_mutex_lock(&vfs_slots_lock);
    for (s = vfs_slots; s != NULL && s->id != id; s = s->next)
        ;
    if (s != NULL)
        s->refs++;
    pthread_mutex_unlock(&vfs_slots_lock);
    return s;
}

static void vfs_slot_ref(vfs_slot *s)
{
    pthread_mutex_lock(&vfs_slots_lock);
    s->refs++;
    pthread_mutex_unlock(&vfs_slots_lock);
}

static void vfs_slot_unref(void *p)
{
    vfs_slot *s = p;
    if (s == NULL)
        return;
    pthread_mutex_lock(&vfs_slots_lock);
    int last = --s->refs == 0;
    if (last) {
        vfs_slot **pp = &vfs_slots;
        while (*pp != s)
            pp = &(*pp)->next;
        *pp = s->next;
    }
    pthread_mutex_unlock(&vfs_slots_lock);
    if (last) {
        keys_secret_free(&s->key);
        sodium_memzero(s, sizeof *s);
        free(s);
    }
}

/* ---- I/O methods -------------------------------------------------------- */

#define VFS_REAL(file) (((vfs_file *)(file))->real)

static int vfs_x_close(sqlite3_file *file)
{
    vfs_file *f = (vfs_file *)file;
    int rc = f->real->pMethods != NULL ? f->real->pMethods->xClose(f->real) : SQLITE_OK;
    vfs_page_release(f);
    vfs_slot_unref(f->slot);
    f->slot = NULL;
    return rc;
}

static int vfs_x_read(sqlite3_file *file, void *buf, int amt, sqlite3_int64 off)
{
    return vfs_page_read((vfs_file *)file, buf, amt, off);
}

static int vfs_x_write(sqlite3_file *file, const void *buf, int amt, sqlite3_int64 off)
{
    return vfs_page_write((vfs_file *)file, buf, amt, off);
}

static int vfs_x_truncate(sqlite3_file *file, sqlite3_int64 size)
{
    return VFS_REAL(file)->pMethods->xTruncate(VFS_REAL(file), size);
}

static int vfs_x_sync(sqlite3_file *file, int flags)
{
    return VFS_REAL(file)->pMethods->xSync(VFS_REAL(file), flags);
}

static int vfs_x_file_size(sqlite3_file *file, sqlite3_int64 *size_r)
{
    return VFS_REAL(file)->pMethods->xFileSize(VFS_REAL(file), size_r);
}

static int vfs_x_lock(sqlite3_file *file, int lock)
{
    return VFS_REAL(file)->pMethods->xLock(VFS_REAL(file), lock);
}

static int vfs_x_unlock(sqlite3_file *file, int lock)
{
    return VFS_REAL(file)->pMethods->xUnlock(VFS_REAL(file), lock);
}

static int vfs_x_check_reserved_lock(sqlite3_file *file, int *r)
{
    return VFS_REAL(file)->pMethods->xCheckReservedLock(VFS_REAL(file), r);
}

static int vfs_x_file_control(sqlite3_file *file, int op, void *arg)
{
    vfs_file *f = (vfs_file *)file;
    if ((op == SQLITE_FCNTL_CKPT_START || op == SQLITE_FCNTL_CKPT_DONE) &&
        f->kind == VFS_KIND_MAIN) {
        f->ckpt = op == SQLITE_FCNTL_CKPT_START;
        f->ckpt_have = 0;
    }
    if (op == SQLITE_FCNTL_VFSNAME) { /* "ownmail-enc/unix" */
        int rc = VFS_REAL(file)->pMethods->xFileControl(VFS_REAL(file), op, arg);
        if (rc == SQLITE_OK)
            *(char **)arg = sqlite3_mprintf(VFS_NAME "/%z", *(char **)arg);
        return rc;
    }
    return VFS_REAL(file)->pMethods->xFileControl(VFS_REAL(file), op, arg);
}

static int vfs_x_sector_size(sqlite3_file *file)
{
    return VFS_REAL(file)->pMethods->xSectorSize(VFS_REAL(file));
}

static int vfs_x_device_characteristics(sqlite3_file *file)
{
    return VFS_REAL(file)->pMethods->xDeviceCharacteristics(VFS_REAL(file));
}

static int vfs_x_shm_map(sqlite3_file *file, int pg, int pgsz, int extend, void volatile **pp)
{
    sqlite3_file *r = VFS_REAL(file);
    if (r->pMethods->iVersion < 2)
        return SQLITE_IOERR_SHMMAP;
    return r->pMethods->xShmMap(r, pg, pgsz, extend, pp);
}

static int vfs_x_shm_lock(sqlite3_file *file, int offset, int n, int flags)
{
    return VFS_REAL(file)->pMethods->xShmLock(VFS_REAL(file), offset, n, flags);
}

static void vfs_x_shm_barrier(sqlite3_file *file)
{
    VFS_REAL(file)->pMethods->xShmBarrier(VFS_REAL(file));
}

static int vfs_x_shm_unmap(sqlite3_file *file, int delete_flag)
{
    return VFS_REAL(file)->pMethods->xShmUnmap(VFS_REAL(file), delete_flag);
}

/* Memory mapping would hand SQLite the sealed bytes: always decline. */
static int vfs_x_fetch(sqlite3_file *file, sqlite3_int64 off, int amt, void **pp)
{
    (void)file;
    (void)off;
    (void)amt;
    *pp = NULL;
    return SQLITE_OK;
}

static int vfs_x_unfetch(sqlite3_file *file, sqlite3_int64 off, void *p)
{
    (void)file;
    (void)off;
    (void)p;
    return SQLITE_OK;
}

static const sqlite3_io_methods vfs_io = {
    .iVersion = 3,
    .xClose = vfs_x_close,
    .xRead = vfs_x_read,
    .xWrite = vfs_x_write,
    .xTruncate = vfs_x_truncate,
    .xSync = vfs_x_sync,
    .xFileSize = vfs_x_file_size,
    .xLock = vfs_x_lock,
    .xUnlock = vfs_x_unlock,
    .xCheckReservedLock = vfs_x_check_reserved_lock,
    .xFileControl = vfs_x_file_control,
    .xSectorSize = vfs_x_sector_size,
    .xDeviceCharacteristics = vfs_x_device_characteristics,
    .xShmMap = vfs_x_shm_map,
    .xShmLock = vfs_x_shm_lock,
    .xShmBarrier = vfs_x_shm_barrier,
    .xShmUnmap = vfs_x_shm_unmap,
    .xFetch = vfs_x_fetch,
    .xUnfetch = vfs_x_unfetch,
};

/* ---- VFS methods -------------------------------------------------------- */

#define VFS_BASE ((sqlite3_vfs *)vfs_enc.pAppData)

static int vfs_kind(int flags)
{
    if (flags & SQLITE_OPEN_MAIN_DB)
        return VFS_KIND_MAIN;
    if (flags & SQLITE_OPEN_WAL)
        return VFS_KIND_WAL;
    if (flags & SQLITE_OPEN_MAIN_JOURNAL)
        return VFS_KIND_JOURNAL;
    if (flags & SQLITE_OPEN_SUPER_JOURNAL)
        return VFS_KIND_PLAIN; /* file names only */
    return VFS_KIND_TEMP;
}

static int vfs_x_open(sqlite3_vfs *vfs, sqlite3_filename name, sqlite3_file *file, int flags,
                      int *out_flags)
{
    (void)vfs;
    vfs_file *f = (vfs_file *)file;
    memset(f, 0, sizeof *f);
    f->real = (sqlite3_file *)(f + 1);
    f->kind = vfs_kind(flags);
    if (f->kind == VFS_KIND_MAIN || f->kind == VFS_KIND_WAL || f->kind == VFS_KIND_JOURNAL) {
        /* Never open a store file without its key (no plain fallback). */
        if ((f->slot = vfs_slot_find(name)) == NULL)
            return SQLITE_CANTOPEN;
        randombytes_buf(f->nonce_base, sizeof f->nonce_base);
        if (f->kind == VFS_KIND_WAL) { /* its database file, for checkpoints */
            sqlite3_file *m = sqlite3_database_file_object(name);
            if (m != NULL && m->pMethods == &vfs_io && ((vfs_file *)m)->slot == f->slot)
                f->main = (vfs_file *)m;
        }
    } else if (f->kind == VFS_KIND_TEMP) {
        randombytes_buf(f->tkey, sizeof f->tkey);
        randombytes_buf(f->tnonce, sizeof f->tnonce);
    }
    int rc = VFS_BASE->xOpen(VFS_BASE, name, f->real, flags, out_flags);
    if (rc != SQLITE_OK) {
        if (f->real->pMethods != NULL)
            f->real->pMethods->xClose(f->real);
        vfs_page_release(f);
        vfs_slot_unref(f->slot);
        f->slot = NULL;
        f->base.pMethods = NULL;
        return rc;
    }
    f->base.pMethods = &vfs_io;
    return SQLITE_OK;
}

static int vfs_x_delete(sqlite3_vfs *vfs, const char *name, int sync_dir)
{
    (void)vfs;
    return VFS_BASE->xDelete(VFS_BASE, name, sync_dir);
}

static int vfs_x_access(sqlite3_vfs *vfs, const char *name, int flags, int *r)
{
    (void)vfs;
    return VFS_BASE->xAccess(VFS_BASE, name, flags, r);
}

static int vfs_x_full_pathname(sqlite3_vfs *vfs, const char *name, int n, char *out)
{
    (void)vfs;
    return VFS_BASE->xFullPathname(VFS_BASE, name, n, out);
}

static int vfs_x_randomness(sqlite3_vfs *vfs, int n, char *out)
{
    (void)vfs;
    return VFS_BASE->xRandomness(VFS_BASE, n, out);
}

static int vfs_x_sleep(sqlite3_vfs *vfs, int us)
{
    (void)vfs;
    return VFS_BASE->xSleep(VFS_BASE, us);
}

static int vfs_x_current_time(sqlite3_vfs *vfs, double *t)
{
    (void)vfs;
    return VFS_BASE->xCurrentTime(VFS_BASE, t);
}

static int vfs_x_get_last_error(sqlite3_vfs *vfs, int n, char *out)
{
    (void)vfs;
    return VFS_BASE->xGetLastError(VFS_BASE, n, out);
}

static int vfs_x_current_time_int64(sqlite3_vfs *vfs, sqlite3_int64 *t)
{
    (void)vfs;
    return VFS_BASE->xCurrentTimeInt64(VFS_BASE, t);
}

static void vfs_register_once(void)
{
    sqlite3_vfs *base = sqlite3_vfs_find(NULL);
    if (base == NULL || base->iVersion < 2 || sodium_init() < 0)
        return;
    vfs_enc = (sqlite3_vfs){
        .iVersion = 2,
        /* Rounded so that the unix file after ours stays aligned. */
        .szOsFile = (int)((sizeof(vfs_file) + 15) / 16 * 16) + base->szOsFile,
        .mxPathname = base->mxPathname,
        .zName = VFS_NAME,
        .pAppData = base,
        .xOpen = vfs_x_open,
        .xDelete = vfs_x_delete,
        .xAccess = vfs_x_access,
        .xFullPathname = vfs_x_full_pathname,
        .xRandomness = vfs_x_randomness,
        .xSleep = vfs_x_sleep,
        .xCurrentTime = vfs_x_current_time,
        .xGetLastError = vfs_x_get_last_error,
        .xCurrentTimeInt64 = vfs_x_current_time_int64,
    };
    vfs_registered = sqlite3_vfs_register(&vfs_enc, 0) == SQLITE_OK;
}

vfs_result vfs_register(void)
{
    pthread_once(&vfs_once, vfs_register_once);
    return vfs_registered ? VFS_OK : VFS_ERR_IO;
}

/* ---- Opening a store ---------------------------------------------------- */

static int vfs_store_id_valid(const char *id)
{
    size_t n = id != NULL ? strlen(id) : 0;
    if (n < 1 || n > VFS_STORE_ID_MAX)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!((id[i] >= '0' && id[i] <= '9') || (id[i] >= 'a' && id[i] <= 'f') ||
              (id[i] >= 'A' && id[i] <= 'F')))
            return 0;
    return 1;
}

/* "file:<path, percent-escaped>?ownmail_slot=<16 hex>" (RFC 3986 section
 * 2.1); an absolute path gets an empty authority ("file:///..."), so that a
 * path starting with "//" is not read as a host. */
static char *vfs_uri(const char *path, unsigned long long slot_id)
{
    size_t n = strlen(path);
    if (n == 0 || n > VFS_URI_MAX / 3)
        return NULL;
    char *u = malloc(n * 3 + 64), *p = u;
    if (u == NULL)
        return NULL;
    p += sprintf(p, path[0] == '/' ? "file://" : "file:");
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)path[i];
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
            strchr("/._-~", c) != NULL)
            *p++ = (char)c;
        else
            p += sprintf(p, "%%%02X", c);
    }
    sprintf(p, "?" VFS_SLOT_PARAM "=%016llx", slot_id);
    return u;
}

static void vfs_slot_fn(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    (void)argc;
    (void)argv;
    sqlite3_result_null(ctx);
}

static vfs_result vfs_classify(sqlite3 *db, const vfs_slot *s, int rc)
{
    if (s->wrong_key)
        return VFS_ERR_WRONG_KEY;
    if (db != NULL)
        rc = sqlite3_extended_errcode(db);
    if (rc == SQLITE_IOERR_DATA || (rc & 0xff) == SQLITE_CORRUPT || rc == SQLITE_NOTADB)
        return VFS_ERR_CORRUPT;
    if (rc == SQLITE_NOMEM)
        return VFS_ERR_NOMEM;
    return VFS_ERR_IO;
}

/* Settings and the key check, on a freshly opened connection. */
static int vfs_store_setup(sqlite3 *db)
{
    int rc = sqlite3_busy_timeout(db, VFS_BUSY_TIMEOUT_MS);
    if (rc == SQLITE_OK)
        rc = sqlite3_exec(db, "PRAGMA temp_store=MEMORY; PRAGMA mmap_size=0;", NULL, NULL, NULL);
    if (rc != SQLITE_OK)
        return rc;
    /* Takes effect on a new database (before its first write) and as the
     * minimum for VACUUM; an existing database keeps its header's count. */
    int reserve = VFS_RESERVE_BYTES;
    sqlite3_file_control(db, "main", SQLITE_FCNTL_RESERVE_BYTES, &reserve);
    rc = sqlite3_exec(db, "SELECT count(*) FROM sqlite_schema", NULL, NULL, NULL);
    if (rc != SQLITE_OK)
        return rc;
    sqlite3_stmt *st = NULL;
    rc = sqlite3_prepare_v2(db, "PRAGMA journal_mode=WAL", -1, &st, NULL);
    if (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *mode = (const char *)sqlite3_column_text(st, 0);
        rc = mode != NULL && strcmp(mode, "wal") == 0 ? SQLITE_OK : SQLITE_ERROR;
    }
    sqlite3_finalize(st);
    return rc;
}

vfs_result vfs_open_store(const char *path, const char *store_id, const keys_secret *store_key,
                          sqlite3 **db_r, char *err, size_t errlen)
{
    if (db_r != NULL)
        *db_r = NULL;
    if (path == NULL || db_r == NULL || store_key == NULL || !vfs_store_id_valid(store_id) ||
        keys_secret_len(store_key) != KEYS_KEY_LEN) {
        vfs_err(err, errlen, "invalid path, store id or key");
        return VFS_ERR_INVALID;
    }
    if (vfs_register() != VFS_OK) {
        vfs_err(err, errlen, "cannot register the %s VFS", VFS_NAME);
        return VFS_ERR_IO;
    }
    vfs_slot *s = vfs_slot_new(store_key, store_id);
    char *uri = s != NULL ? vfs_uri(path, s->id) : NULL;
    if (uri == NULL) {
        vfs_slot_unref(s);
        vfs_err(err, errlen, "out of memory or path too long");
        return s == NULL ? VFS_ERR_NOMEM : VFS_ERR_INVALID;
    }
    sqlite3 *db = NULL;
    int rc = sqlite3_open_v2(uri, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_URI,
                             VFS_NAME);
    free(uri);
    if (rc == SQLITE_OK) {
        /* The connection's reference, dropped by sqlite3_close(). */
        vfs_slot_ref(s);
        rc = sqlite3_create_function_v2(db, "ownmail_vfs_slot", 0, SQLITE_UTF8, s, vfs_slot_fn,
                                        NULL, NULL, vfs_slot_unref);
    }
    if (rc == SQLITE_OK)
        rc = vfs_store_setup(db);
    if (rc != SQLITE_OK) {
        vfs_result r = vfs_classify(db, s, rc);
        if (r == VFS_ERR_WRONG_KEY)
            vfs_err(err, errlen, "%s: wrong credential", path);
        else if (err != NULL && errlen > 0)
            snprintf(err, errlen, "%s: %s", path, db != NULL ? sqlite3_errmsg(db) : "cannot open");
        sqlite3_close_v2(db);
        vfs_slot_unref(s);
        return r;
    }
    vfs_slot_unref(s);
    *db_r = db;
    return VFS_OK;
}

void vfs_close_store(sqlite3 **db)
{
    if (db == NULL || *db == NULL)
        return;
    sqlite3_close_v2(*db);
    *db = NULL;
}

vfs_result vfs_vacuum_into(sqlite3 *db, const char *path, char *err, size_t errlen)
{
    const char *main_name = db != NULL ? sqlite3_db_filename(db, "main") : NULL;
    const char *v = main_name != NULL ? sqlite3_uri_parameter(main_name, VFS_SLOT_PARAM) : NULL;
    struct stat st;
    if (v == NULL || path == NULL) {
        vfs_err(err, errlen, "not a store connection");
        return VFS_ERR_INVALID;
    }
    if (stat(path, &st) == 0) {
        vfs_err(err, errlen, "%s: exists", path);
        return VFS_ERR_IO;
    }
    char *uri = vfs_uri(path, strtoull(v, NULL, 16));
    if (uri == NULL) {
        vfs_err(err, errlen, "%s: path too long", path);
        return VFS_ERR_INVALID;
    }
    sqlite3_stmt *q = NULL;
    int rc = sqlite3_prepare_v2(db, "VACUUM INTO ?", -1, &q, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_text(q, 1, uri, -1, SQLITE_TRANSIENT);
    if (rc == SQLITE_OK)
        rc = sqlite3_step(q) == SQLITE_DONE ? SQLITE_OK : SQLITE_ERROR;
    sqlite3_finalize(q);
    free(uri);
    if (rc != SQLITE_OK) {
        vfs_err(err, errlen, "VACUUM INTO failed: %s", sqlite3_errmsg(db));
        return (sqlite3_extended_errcode(db) & 0xff) == SQLITE_CORRUPT ||
                       sqlite3_extended_errcode(db) == SQLITE_IOERR_DATA
                   ? VFS_ERR_CORRUPT
                   : VFS_ERR_IO;
    }
    return VFS_OK;
}
