/* follower: snapshot over HTTP + Redis stream, one thread. See follower.h. */

/* For pthread_rwlockattr_setkind_np: without writer preference a steady
 * stream of readers (worker threads) could starve the follower forever. */
#define _GNU_SOURCE

#include "follower.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <civetweb.h>
#include <hiredis/hiredis.h>
#include <sodium.h>

#include "buf.h"
#include "log.h"

#define FOLLOWER_LOG "directory"
#define FOLLOWER_READ_CHUNK (64 * 1024)
#define FOLLOWER_REDIS_CONNECT_MS 2000
/* A reply to XREAD ... BLOCK n arrives within n ms; past this much more the
 * connection is taken as dead. */
#define FOLLOWER_REDIS_SLACK_MS 5000
#define FOLLOWER_STREAM_MAX 256

struct directory_follower {
    /* Configuration, fixed after start. */
    char *api_host;
    int api_port;
    char *secret; /* sodium_malloc'd, NUL-terminated */
    size_t secret_len;
    char *redis_host;
    int redis_port;
    char *stream;
    int block_ms;
    directory_follower_change_fn *on_change;
    void *on_change_ctx;

    pthread_t thread;
    pthread_rwlock_t lock; /* guards dir */
    directory *dir;

    pthread_mutex_t mu; /* guards stop and loaded; cond signals both */
    pthread_cond_t cond;
    bool stop;
    bool loaded;

    /* Owned by the follower thread. */
    redisContext *redis;
    bool need_snapshot;
    int redis_backoff_ms;
    int snapshot_backoff_ms;
    bool redis_down_logged;
};

/* ---- Configuration -------------------------------------------------- */

static bool token_char_ok(unsigned char c)
{
    return c >= 0x21 && c <= 0x7e;
}

int directory_follower_secret_from_file(const unsigned char *bytes, size_t len, char **token_r,
                                        size_t *token_len_r)
{
    *token_r = NULL;
    if (bytes == NULL || len == 0 || len > DIRECTORY_FOLLOWER_SECRET_MAX / 2 || sodium_init() < 0)
        return -1;
    char *t = sodium_malloc(len * 2 + 1);
    if (t == NULL)
        return -1;
    sodium_bin2hex(t, len * 2 + 1, bytes, len);
    *token_r = t;
    *token_len_r = len * 2;
    return 0;
}

static bool host_ok(const char *host)
{
    size_t n = host != NULL ? strnlen(host, DIRECTORY_FOLLOWER_HOST_MAX + 1) : 0;
    if (n == 0 || n > DIRECTORY_FOLLOWER_HOST_MAX)
        return false;
    for (size_t i = 0; i < n; i++) {
        if (!token_char_ok((unsigned char)host[i]))
            return false;
    }
    return true;
}

static const char *config_check_api(const directory_follower_config *cfg)
{
    if (!host_ok(cfg->api_host) || cfg->api_port <= 0 || cfg->api_port > 65535)
        return "invalid api host or port";
    if (cfg->worker_secret == NULL || cfg->worker_secret_len == 0 ||
        cfg->worker_secret_len > DIRECTORY_FOLLOWER_SECRET_MAX)
        return "worker secret missing or too long";
    for (size_t i = 0; i < cfg->worker_secret_len; i++) {
        if (!token_char_ok(cfg->worker_secret[i]))
            return "worker secret is not printable ASCII";
    }
    return NULL;
}

static const char *config_check(const directory_follower_config *cfg)
{
    const char *why = config_check_api(cfg);
    if (why != NULL)
        return why;
    if (!host_ok(cfg->redis_host) || cfg->redis_port <= 0 || cfg->redis_port > 65535)
        return "invalid redis host or port";
    if (cfg->stream != NULL &&
        (cfg->stream[0] == '\0' ||
         strnlen(cfg->stream, FOLLOWER_STREAM_MAX + 1) > FOLLOWER_STREAM_MAX))
        return "invalid stream name";
    if (cfg->block_ms < 0 || cfg->block_ms > DIRECTORY_FOLLOWER_BLOCK_MS_MAX)
        return "block_ms out of range";
    return NULL;
}

/* ---- Snapshot over HTTP --------------------------------------------- */

static pthread_once_t follower_mg_once = PTHREAD_ONCE_INIT;

static void follower_mg_init(void)
{
    mg_init_library(0);
}

/* Reads the whole body into b (capped at DIRECTORY_SNAPSHOT_MAX). */
static int http_read_body(struct mg_connection *c, long long content_length, buf *b, char *err,
                          size_t err_size)
{
    if (content_length > (long long)DIRECTORY_SNAPSHOT_MAX) {
        snprintf(err, err_size, "snapshot of %lld bytes is over the limit", content_length);
        return -1;
    }
    char *chunk = malloc(FOLLOWER_READ_CHUNK);
    if (chunk == NULL) {
        snprintf(err, err_size, "out of memory");
        return -1;
    }
    int rc = 0;
    for (;;) {
        int n = mg_read(c, chunk, FOLLOWER_READ_CHUNK);
        if (n == 0)
            break;
        if (n < 0 || buf_append(b, chunk, (size_t)n) != 0) {
            snprintf(err, err_size,
                     n < 0 ? "reading the snapshot failed"
                           : "snapshot over the limit or out of memory");
            rc = -1;
            break;
        }
    }
    free(chunk);
    if (rc == 0 && content_length >= 0 && (long long)b->len != content_length) {
        snprintf(err, err_size, "snapshot truncated (%zu of %lld bytes)", b->len, content_length);
        rc = -1;
    }
    return rc;
}

/* GET /internal/v1/directory into b. */
static int http_get_snapshot(const char *host, int port, const char *token, buf *b, char *err,
                             size_t err_size)
{
    pthread_once(&follower_mg_once, follower_mg_init);
    char ebuf[256] = "";
    struct mg_connection *c = mg_connect_client(host, port, 0, ebuf, sizeof(ebuf));
    if (c == NULL) {
        snprintf(err, err_size, "connecting to the api at %s:%d: %s", host, port, ebuf);
        return -1;
    }
    int rc = -1;
    if (mg_printf(c,
                  "GET /internal/v1/directory HTTP/1.1\r\nHost: %s:%d\r\n"
                  "Authorization: Bearer %s\r\nAccept: application/json\r\n"
                  "Connection: close\r\n\r\n",
                  host, port, token) <= 0) {
        snprintf(err, err_size, "sending the snapshot request failed");
    } else if (mg_get_response(c, ebuf, sizeof(ebuf), DIRECTORY_FOLLOWER_HTTP_TIMEOUT_MS) < 0) {
        snprintf(err, err_size, "no response from the api: %s", ebuf);
    } else {
        const struct mg_response_info *ri = mg_get_response_info(c);
        if (ri == NULL || ri->status_code != 200)
            snprintf(err, err_size, "api answered HTTP %d", ri != NULL ? ri->status_code : 0);
        else
            rc = http_read_body(c, ri->content_length, b, err, err_size);
    }
    mg_close_connection(c);
    return rc;
}

static int snapshot_fetch(const char *host, int port, const char *token, directory **dir_r,
                          char *err, size_t err_size)
{
    *dir_r = NULL;
    buf b;
    buf_init(&b, DIRECTORY_SNAPSHOT_MAX);
    int rc = http_get_snapshot(host, port, token, &b, err, err_size);
    directory *d = rc == 0 ? directory_new() : NULL;
    if (rc == 0 && d == NULL) {
        snprintf(err, err_size, "out of memory");
        rc = -1;
    }
    const char *why = NULL;
    if (rc == 0 && directory_load_snapshot(d, b.data, b.len, &why) != 0) {
        snprintf(err, err_size, "invalid snapshot: %s", why);
        rc = -1;
    }
    buf_free(&b);
    if (rc != 0)
        directory_free(&d);
    *dir_r = d;
    return rc;
}

int directory_follower_fetch_snapshot(const directory_follower_config *cfg, directory **dir_r,
                                      char *err, size_t err_size)
{
    *dir_r = NULL;
    const char *why = config_check_api(cfg);
    if (why != NULL) {
        snprintf(err, err_size, "%s", why);
        return -1;
    }
    char *token = sodium_malloc(cfg->worker_secret_len + 1);
    if (token == NULL) {
        snprintf(err, err_size, "out of memory");
        return -1;
    }
    memcpy(token, cfg->worker_secret, cfg->worker_secret_len);
    token[cfg->worker_secret_len] = '\0';
    int rc = snapshot_fetch(cfg->api_host, cfg->api_port, token, dir_r, err, err_size);
    sodium_free(token);
    return rc;
}

/* ---- Thread helpers ------------------------------------------------- */

static bool follower_stopping(directory_follower *f)
{
    pthread_mutex_lock(&f->mu);
    bool stop = f->stop;
    pthread_mutex_unlock(&f->mu);
    return stop;
}

/* CLOCK_MONOTONIC now + ms, for pthread_cond_timedwait on f->cond. */
static struct timespec deadline_after(int ms)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    t.tv_sec += ms / 1000;
    t.tv_nsec += (long)(ms % 1000) * 1000000L;
    if (t.tv_nsec >= 1000000000L) {
        t.tv_sec++;
        t.tv_nsec -= 1000000000L;
    }
    return t;
}

/* Sleeps ms, or less when asked to stop. */
static void follower_sleep(directory_follower *f, int ms)
{
    struct timespec until = deadline_after(ms);
    pthread_mutex_lock(&f->mu);
    while (!f->stop && pthread_cond_timedwait(&f->cond, &f->mu, &until) != ETIMEDOUT)
        ;
    pthread_mutex_unlock(&f->mu);
}

static int backoff_next(int ms)
{
    return ms * 2 > DIRECTORY_FOLLOWER_BACKOFF_MAX_MS ? DIRECTORY_FOLLOWER_BACKOFF_MAX_MS : ms * 2;
}

static void follower_changed(directory_follower *f, uint64_t seq)
{
    if (f->on_change != NULL)
        f->on_change(f->on_change_ctx, f, seq);
}

/* Loads a snapshot and swaps it in. */
static int follower_snapshot(directory_follower *f)
{
    char err[512];
    directory *fresh = NULL;
    if (snapshot_fetch(f->api_host, f->api_port, f->secret, &fresh, err, sizeof(err)) != 0) {
        log_warn(FOLLOWER_LOG, "snapshot failed, retrying in %d ms: %s", f->snapshot_backoff_ms,
                 err);
        return -1;
    }
    uint64_t seq = directory_seq(fresh);
    log_info(FOLLOWER_LOG,
             "snapshot loaded: seq %" PRIu64 ", %zu domains, %zu users, "
             "%zu aliases, %zu dkim keys",
             seq, directory_count(fresh, DIRECTORY_DOMAIN), directory_count(fresh, DIRECTORY_USER),
             directory_count(fresh, DIRECTORY_ALIAS), directory_count(fresh, DIRECTORY_DKIM));
    pthread_rwlock_wrlock(&f->lock);
    directory *old = f->dir;
    f->dir = fresh;
    pthread_rwlock_unlock(&f->lock);
    directory_free(&old);
    pthread_mutex_lock(&f->mu);
    f->loaded = true;
    pthread_cond_broadcast(&f->cond);
    pthread_mutex_unlock(&f->mu);
    follower_changed(f, seq);
    return 0;
}

/* ---- Redis stream ----------------------------------------------------- */

static redisContext *redis_connect(directory_follower *f)
{
    struct timeval ct = {FOLLOWER_REDIS_CONNECT_MS / 1000, 0};
    redisContext *c = redisConnectWithTimeout(f->redis_host, f->redis_port, ct);
    if (c == NULL || c->err != 0) {
        if (!f->redis_down_logged)
            log_warn(FOLLOWER_LOG, "redis %s:%d: %s; retrying", f->redis_host, f->redis_port,
                     c != NULL ? c->errstr : "out of memory");
        f->redis_down_logged = true;
        if (c != NULL)
            redisFree(c);
        return NULL;
    }
    int ms = f->block_ms + FOLLOWER_REDIS_SLACK_MS;
    struct timeval rt = {ms / 1000, (ms % 1000) * 1000};
    redisSetTimeout(c, rt);
    redisEnableKeepAlive(c);
    log_info(FOLLOWER_LOG, "connected to redis %s:%d", f->redis_host, f->redis_port);
    f->redis_down_logged = false;
    return c;
}

/* "<seq>-<n>" -> seq. */
static bool entry_id_seq(const redisReply *id, uint64_t *seq_r)
{
    if (id->type != REDIS_REPLY_STRING || id->len == 0 || id->len > 41)
        return false;
    char *end;
    errno = 0;
    unsigned long long v = strtoull(id->str, &end, 10);
    if (errno != 0 || end == id->str || *end != '-' || id->str[0] < '0' || id->str[0] > '9')
        return false;
    *seq_r = (uint64_t)v;
    return true;
}

static const redisReply *entry_field(const redisReply *fields, const char *name)
{
    for (size_t i = 0; i + 1 < fields->elements; i += 2) {
        const redisReply *k = fields->element[i], *v = fields->element[i + 1];
        if (k->type == REDIS_REPLY_STRING && strcmp(k->str, name) == 0)
            return v->type == REDIS_REPLY_STRING && strlen(v->str) == v->len ? v : NULL;
    }
    return NULL;
}

/* Applies one stream entry [id, [field, value, ...]] of the given seq. */
static int entry_apply(directory *d, uint64_t seq, const redisReply *e)
{
    const redisReply *fields = e->element[1];
    const redisReply *type = fields->type == REDIS_REPLY_ARRAY ? entry_field(fields, "type") : NULL;
    const redisReply *key = fields->type == REDIS_REPLY_ARRAY ? entry_field(fields, "key") : NULL;
    const redisReply *data = fields->type == REDIS_REPLY_ARRAY ? entry_field(fields, "data") : NULL;
    if (type == NULL || key == NULL) {
        log_warn(FOLLOWER_LOG, "entry %" PRIu64 " lacks type or key; re-snapshot", seq);
        return -1;
    }
    const char *why = NULL;
    if (directory_apply_event(d, seq, type->str, key->str, data != NULL ? data->str : NULL,
                              data != NULL ? data->len : 0, &why) != 0) {
        log_warn(FOLLOWER_LOG, "event %" PRIu64 " %.40s %.320s not applied (%s); re-snapshot", seq,
                 type->str, key->str, why);
        return -1;
    }
    return 0;
}

/* Applies a batch of entries in order under the write lock; a gap or a bad
 * entry stops it and asks for a snapshot. *applied_r counts the applied. */
static void entries_apply(directory_follower *f, const redisReply *entries, size_t *applied_r)
{
    pthread_rwlock_wrlock(&f->lock);
    for (size_t i = 0; i < entries->elements; i++) {
        const redisReply *e = entries->element[i];
        uint64_t last = directory_seq(f->dir), seq;
        if (e->type != REDIS_REPLY_ARRAY || e->elements != 2 ||
            !entry_id_seq(e->element[0], &seq)) {
            log_warn(FOLLOWER_LOG, "malformed stream entry after seq %" PRIu64 "; re-snapshot",
                     last);
            f->need_snapshot = true;
            break;
        }
        if (seq <= last) /* already in our snapshot */
            continue;
        if (seq != last + 1) {
            log_warn(FOLLOWER_LOG,
                     "gap in the feed: seq %" PRIu64 " after %" PRIu64 "; re-snapshot", seq, last);
            f->need_snapshot = true;
            break;
        }
        if (entry_apply(f->dir, seq, e) != 0) {
            f->need_snapshot = true;
            break;
        }
        (*applied_r)++;
    }
    pthread_rwlock_unlock(&f->lock);
}

/* One XREAD. 0 (entries applied or none came), or -1 when the connection
 * is unusable. */
static int follower_xread(directory_follower *f)
{
    char id[32], block[16], count[16];
    /* Only this thread writes f->dir, so reading its seq needs no lock. */
    snprintf(id, sizeof(id), "%" PRIu64 "-0", directory_seq(f->dir));
    snprintf(block, sizeof(block), "%d", f->block_ms);
    snprintf(count, sizeof(count), "%d", DIRECTORY_FOLLOWER_XREAD_COUNT);
    const char *argv[] = {"XREAD", "COUNT", count, "BLOCK", block, "STREAMS", f->stream, id};
    redisReply *rep = redisCommandArgv(f->redis, 8, argv, NULL);
    if (rep == NULL) {
        log_warn(FOLLOWER_LOG, "redis connection lost: %s", f->redis->errstr);
        return -1;
    }
    int rc = 0;
    if (rep->type == REDIS_REPLY_ERROR) {
        log_warn(FOLLOWER_LOG, "XREAD failed: %s", rep->str);
        rc = -1;
    } else if (rep->type == REDIS_REPLY_ARRAY && rep->elements > 0) {
        const redisReply *s = rep->element[0];
        size_t applied = 0;
        if (s->type == REDIS_REPLY_ARRAY && s->elements == 2 &&
            s->element[1]->type == REDIS_REPLY_ARRAY) {
            entries_apply(f, s->element[1], &applied);
        } else {
            log_warn(FOLLOWER_LOG, "unexpected XREAD reply; re-snapshot");
            f->need_snapshot = true;
        }
        if (applied > 0)
            follower_changed(f, directory_seq(f->dir));
    }
    freeReplyObject(rep);
    if (rc == 0)
        f->redis_backoff_ms = DIRECTORY_FOLLOWER_BACKOFF_MIN_MS;
    return rc;
}

static void follower_redis_drop(directory_follower *f)
{
    redisFree(f->redis);
    f->redis = NULL;
    follower_sleep(f, f->redis_backoff_ms);
    f->redis_backoff_ms = backoff_next(f->redis_backoff_ms);
}

static void *follower_main(void *arg)
{
    directory_follower *f = arg;
    f->need_snapshot = true;
    while (!follower_stopping(f)) {
        if (f->redis == NULL && (f->redis = redis_connect(f)) != NULL)
            f->need_snapshot = true; /* events may have been missed meanwhile */
        if (f->need_snapshot) {
            if (follower_snapshot(f) != 0) {
                follower_sleep(f, f->snapshot_backoff_ms);
                f->snapshot_backoff_ms = backoff_next(f->snapshot_backoff_ms);
                continue;
            }
            f->snapshot_backoff_ms = DIRECTORY_FOLLOWER_BACKOFF_MIN_MS;
            f->need_snapshot = false;
        }
        if (f->redis == NULL) {
            follower_sleep(f, f->redis_backoff_ms);
            f->redis_backoff_ms = backoff_next(f->redis_backoff_ms);
        } else if (follower_xread(f) != 0) {
            follower_redis_drop(f);
        }
    }
    return NULL;
}

/* ---- Lifetime -------------------------------------------------------- */

static void follower_free(directory_follower *f)
{
    if (f->redis != NULL)
        redisFree(f->redis);
    directory_free(&f->dir);
    if (f->secret != NULL)
        sodium_free(f->secret);
    free(f->api_host);
    free(f->redis_host);
    free(f->stream);
    pthread_rwlock_destroy(&f->lock);
    pthread_cond_destroy(&f->cond);
    pthread_mutex_destroy(&f->mu);
    free(f);
}

static int follower_sync_init(directory_follower *f)
{
    pthread_rwlockattr_t ra;
    pthread_condattr_t ca;
    pthread_rwlockattr_init(&ra);
    pthread_rwlockattr_setkind_np(&ra, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
    int rc = pthread_rwlock_init(&f->lock, &ra);
    pthread_rwlockattr_destroy(&ra);
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    rc |= pthread_cond_init(&f->cond, &ca);
    pthread_condattr_destroy(&ca);
    rc |= pthread_mutex_init(&f->mu, NULL);
    return rc == 0 ? 0 : -1;
}

static directory_follower *follower_new(const directory_follower_config *cfg)
{
    if (sodium_init() < 0)
        return NULL;
    directory_follower *f = calloc(1, sizeof(*f));
    if (f == NULL)
        return NULL;
    if (follower_sync_init(f) != 0) {
        free(f);
        return NULL;
    }
    f->api_host = strdup(cfg->api_host);
    f->api_port = cfg->api_port;
    f->redis_host = strdup(cfg->redis_host);
    f->redis_port = cfg->redis_port;
    f->stream = strdup(cfg->stream != NULL ? cfg->stream : DIRECTORY_FOLLOWER_STREAM);
    f->block_ms = cfg->block_ms > 0 ? cfg->block_ms : DIRECTORY_FOLLOWER_BLOCK_MS;
    f->on_change = cfg->on_change;
    f->on_change_ctx = cfg->on_change_ctx;
    f->secret = sodium_malloc(cfg->worker_secret_len + 1);
    f->secret_len = cfg->worker_secret_len;
    f->dir = directory_new();
    f->redis_backoff_ms = DIRECTORY_FOLLOWER_BACKOFF_MIN_MS;
    f->snapshot_backoff_ms = DIRECTORY_FOLLOWER_BACKOFF_MIN_MS;
    if (f->api_host == NULL || f->redis_host == NULL || f->stream == NULL || f->secret == NULL ||
        f->dir == NULL) {
        follower_free(f);
        return NULL;
    }
    memcpy(f->secret, cfg->worker_secret, cfg->worker_secret_len);
    f->secret[cfg->worker_secret_len] = '\0';
    return f;
}

int directory_follower_start(const directory_follower_config *cfg, directory_follower **r,
                             const char **error_r)
{
    const char *ignored;
    if (error_r == NULL)
        error_r = &ignored;
    *r = NULL;
    if (cfg == NULL || (*error_r = config_check(cfg)) != NULL) {
        if (cfg == NULL)
            *error_r = "no configuration";
        return -1;
    }
    directory_follower *f = follower_new(cfg);
    if (f == NULL) {
        *error_r = "out of memory";
        return -1;
    }
    if (pthread_create(&f->thread, NULL, follower_main, f) != 0) {
        follower_free(f);
        *error_r = "cannot create the follower thread";
        return -1;
    }
    *r = f;
    return 0;
}

void directory_follower_stop(directory_follower **fp)
{
    if (fp == NULL || *fp == NULL)
        return;
    directory_follower *f = *fp;
    pthread_mutex_lock(&f->mu);
    f->stop = true;
    pthread_cond_broadcast(&f->cond);
    pthread_mutex_unlock(&f->mu);
    pthread_join(f->thread, NULL);
    follower_free(f);
    *fp = NULL;
}

/* ---- Readers ------------------------------------------------------------ */

const directory *directory_follower_read_lock(directory_follower *f)
{
    pthread_rwlock_rdlock(&f->lock);
    return f->dir;
}

void directory_follower_read_unlock(directory_follower *f)
{
    pthread_rwlock_unlock(&f->lock);
}

int directory_follower_with(directory_follower *f, directory_follower_with_fn *fn, void *ctx)
{
    const directory *d = directory_follower_read_lock(f);
    int r = fn(ctx, d);
    directory_follower_read_unlock(f);
    return r;
}

uint64_t directory_follower_seq(directory_follower *f)
{
    uint64_t seq = directory_seq(directory_follower_read_lock(f));
    directory_follower_read_unlock(f);
    return seq;
}

int directory_follower_status(directory_follower *f, uint64_t *seq_r,
                              char hex_r[DIRECTORY_DIGEST_HEX_SIZE])
{
    const directory *d = directory_follower_read_lock(f);
    *seq_r = directory_seq(d);
    int rc = directory_digest(d, hex_r);
    directory_follower_read_unlock(f);
    return rc;
}

int directory_follower_digest(directory_follower *f, char hex_r[DIRECTORY_DIGEST_HEX_SIZE])
{
    uint64_t seq;
    return directory_follower_status(f, &seq, hex_r);
}

bool directory_follower_loaded(directory_follower *f)
{
    pthread_mutex_lock(&f->mu);
    bool loaded = f->loaded;
    pthread_mutex_unlock(&f->mu);
    return loaded;
}

bool directory_follower_wait_loaded(directory_follower *f, int timeout_ms)
{
    struct timespec until = deadline_after(timeout_ms > 0 ? timeout_ms : 0);
    pthread_mutex_lock(&f->mu);
    while (!f->loaded && pthread_cond_timedwait(&f->cond, &f->mu, &until) != ETIMEDOUT)
        ;
    bool loaded = f->loaded;
    pthread_mutex_unlock(&f->mu);
    return loaded;
}
