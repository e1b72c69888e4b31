#include "relay.h"

#include "db.h"
#include "log.h"
#include "rds.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#define RELAY_BATCH 256
#define RELAY_POLL_MS 1000 /* also picks up events a crashed writer left */
#define RELAY_BACKOFF_MAX_MS 2000

static pthread_t relay_thread;
static pthread_mutex_t relay_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t relay_cond;
static bool relay_woken, relay_running;
static atomic_bool relay_stopping;
static relay_status relay_st;

void relay_wake(void)
{
    pthread_mutex_lock(&relay_lock);
    relay_woken = true;
    pthread_cond_signal(&relay_cond);
    pthread_mutex_unlock(&relay_lock);
}

void relay_get_status(relay_status *st)
{
    pthread_mutex_lock(&relay_lock);
    *st = relay_st;
    pthread_mutex_unlock(&relay_lock);
}

static int64_t relay_meta_seq(sqlite3 *db)
{
    sqlite3_stmt *st = db_prepare(db, "SELECT value FROM meta WHERE key = 'relay_seq'");
    int64_t v = 0;
    if (st != NULL && sqlite3_step(st) == SQLITE_ROW)
        v = sqlite3_column_int64(st, 0);
    db_finish(st);
    return v;
}

static void relay_save_seq(sqlite3 *db, int64_t seq)
{
    sqlite3_stmt *st = db_prepare(db, "INSERT INTO meta (key, value) VALUES ('relay_seq', ?1) "
                                      "ON CONFLICT (key) DO UPDATE SET value = excluded.value");
    if (st == NULL)
        return;
    sqlite3_bind_int64(st, 1, seq);
    if (sqlite3_step(st) != SQLITE_DONE)
        log_warn("relay", "saving relay position failed: %s", sqlite3_errmsg(db));
    db_finish(st);
}

/* Publishes one event. 1 = published or already there, 0 = Redis unreachable. */
static int relay_publish(int64_t seq, const char *type, const char *key, const char *data)
{
    char id[32], maxlen[32];
    snprintf(id, sizeof(id), "%lld-0", (long long)seq);
    snprintf(maxlen, sizeof(maxlen), "%d", RELAY_STREAM_MAXLEN);
    const char *argv[] = {"XADD", RELAY_STREAM, "MAXLEN", "~", maxlen, id,
                          "type", type,         "key",    key, "data", data};
    size_t lens[12];
    for (int i = 0; i < 12; i++)
        lens[i] = strlen(argv[i]);
    redisReply *rep = rds_command_argv(12, argv, lens);
    if (rep == NULL)
        return 0;
    int ok = 1;
    if (rep->type == REDIS_REPLY_ERROR && strstr(rep->str, "equal or smaller") == NULL) {
        log_error("relay", "XADD %s failed: %s", id, rep->str);
        ok = 0;
    }
    freeReplyObject(rep);
    return ok;
}

/* Publishes the next batch. Returns the number published, -1 on a Redis failure. */
static int relay_batch(sqlite3 *db, int64_t *published)
{
    sqlite3_stmt *st = db_prepare(db, "SELECT seq, type, key, data FROM events WHERE seq > ?1 "
                                      "ORDER BY seq LIMIT ?2");
    if (st == NULL)
        return -1;
    sqlite3_bind_int64(st, 1, *published);
    sqlite3_bind_int(st, 2, RELAY_BATCH);
    int n = 0;
    while (sqlite3_step(st) == SQLITE_ROW) {
        int64_t seq = sqlite3_column_int64(st, 0);
        if (!relay_publish(seq, db_text(st, 1), db_text(st, 2), db_text(st, 3))) {
            n = -1;
            break;
        }
        *published = seq;
        n++;
    }
    db_finish(st);
    return n;
}

static void relay_update_status(sqlite3 *db, int64_t published, bool redis_ok)
{
    sqlite3_stmt *st = db_prepare(db, "SELECT COALESCE(MAX(seq), 0), (SELECT created_at FROM "
                                      "events WHERE seq > ?1 ORDER BY seq LIMIT 1) FROM events");
    int64_t last = published, oldest = 0;
    if (st != NULL) {
        sqlite3_bind_int64(st, 1, published);
        if (sqlite3_step(st) == SQLITE_ROW) {
            last = sqlite3_column_int64(st, 0);
            oldest = sqlite3_column_int64(st, 1);
        }
        db_finish(st);
    }
    pthread_mutex_lock(&relay_lock);
    relay_st.last_seq = last;
    relay_st.published_seq = published;
    relay_st.lag_seconds = oldest != 0 ? db_now() - oldest : 0;
    relay_st.redis_ok = redis_ok;
    pthread_mutex_unlock(&relay_lock);
}

static void relay_prune(sqlite3 *db, int64_t published)
{
    sqlite3_stmt *st = db_prepare(db, "DELETE FROM events WHERE seq <= ?1");
    if (st == NULL)
        return;
    sqlite3_bind_int64(st, 1, published - RELAY_EVENTS_KEEP);
    sqlite3_step(st);
    db_finish(st);
}

static void relay_wait(int ms)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    ts.tv_sec += ms / 1000;
    ts.tv_nsec += (long)(ms % 1000) * 1000000L;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&relay_lock);
    while (!relay_woken && !relay_stopping)
        if (pthread_cond_timedwait(&relay_cond, &relay_lock, &ts) != 0)
            break;
    relay_woken = false;
    pthread_mutex_unlock(&relay_lock);
}

static void *relay_main(void *arg)
{
    (void)arg;
    sqlite3 *db = db_thread();
    if (db == NULL)
        log_fatal("relay: cannot open control.db");
    int64_t published = relay_meta_seq(db);
    int backoff = 100;
    unsigned rounds = 0;
    while (!atomic_load(&relay_stopping)) {
        int64_t before = published;
        int n;
        while ((n = relay_batch(db, &published)) == RELAY_BATCH)
            ;
        if (published != before) {
            relay_save_seq(db, published);
            if (++rounds % 1000 == 0)
                relay_prune(db, published);
        }
        relay_update_status(db, published, n >= 0);
        if (n < 0) {
            relay_wait(backoff);
            backoff = backoff * 2 > RELAY_BACKOFF_MAX_MS ? RELAY_BACKOFF_MAX_MS : backoff * 2;
        } else {
            backoff = 100;
            relay_wait(RELAY_POLL_MS);
        }
    }
    db_thread_close();
    rds_thread_close();
    return NULL;
}

int relay_start(void)
{
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&relay_cond, &ca);
    pthread_condattr_destroy(&ca);
    if (pthread_create(&relay_thread, NULL, relay_main, NULL) != 0)
        return -1;
    relay_running = true;
    return 0;
}

void relay_stop(void)
{
    if (!relay_running)
        return;
    pthread_mutex_lock(&relay_lock);
    relay_stopping = true;
    pthread_cond_signal(&relay_cond);
    pthread_mutex_unlock(&relay_lock);
    pthread_join(relay_thread, NULL);
    relay_running = false;
}
