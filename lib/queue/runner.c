/* The delivery runner: a few threads sharing an in-memory schedule of the
 * queue directory (rebuilt by a scan when kicked and every scan_interval),
 * each taking the earliest due entry, delivering it, and putting it back
 * with its next time. The file lock of queue_deliver_entry keeps other
 * processes (the command line, a second runner) from delivering the same
 * entry at the same time. */
#include "queue_int.h"

#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define QUEUE_RUNNER_BUSY_RETRY 10 /* seconds before looking again at a locked entry */

typedef struct runner_item {
    char id[QUEUE_ID_LEN + 1];
    int64_t next; /* 0 = due now */
    bool busy;    /* a thread delivers it */
} runner_item;

struct queue_runner {
    queue_config cfg;
    queue_local_fn *deliver_local;
    void *local_ctx;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    runner_item *items;
    size_t n;
    bool rescan, scanning, stopping;
    int64_t last_scan;
    int stop_pipe[2];
    pthread_t *threads;
    unsigned nthreads;
    queue_counters counters;
};

static runner_item *runner_find(queue_runner *r, const char *id)
{
    for (size_t i = 0; i < r->n; i++)
        if (strcmp(r->items[i].id, id) == 0)
            return &r->items[i];
    return NULL;
}

/* Rebuilds the schedule from the directory (called with mu held, drops it
 * while reading). New entries are due now; known ones keep their time. */
static void runner_scan(queue_runner *r)
{
    char err[QUEUE_ERR_MAX];
    char(*ids)[QUEUE_ID_LEN + 1] = NULL;
    size_t n = 0;
    r->scanning = true;
    r->rescan = false;
    r->last_scan = (int64_t)time(NULL);
    pthread_mutex_unlock(&r->mu);
    queue_result qr = queue_list(r->cfg.queue_dir, &ids, &n, err, sizeof(err));
    if (qr != QUEUE_OK)
        log_error(NULL, "queue scan failed: %s", err);
    runner_item *items = qr == QUEUE_OK && n > 0 ? calloc(n, sizeof(*items)) : NULL;
    pthread_mutex_lock(&r->mu);
    r->scanning = false;
    if (qr != QUEUE_OK || (n > 0 && items == NULL)) {
        free(ids);
        return;
    }
    for (size_t i = 0; i < n; i++) {
        runner_item *old = runner_find(r, ids[i]);
        if (old != NULL)
            items[i] = *old;
        else
            memcpy(items[i].id, ids[i], QUEUE_ID_LEN + 1);
    }
    /* An entry being delivered stays listed even if the scan missed it. */
    free(ids);
    size_t kept = n;
    for (size_t i = 0; i < r->n; i++) {
        if (!r->items[i].busy)
            continue;
        bool listed = false;
        for (size_t k = 0; k < n && !listed; k++)
            listed = strcmp(items[k].id, r->items[i].id) == 0;
        if (!listed) {
            runner_item *grown = realloc(items, (kept + 1) * sizeof(*items));
            if (grown == NULL)
                continue;
            items = grown;
            items[kept++] = r->items[i];
        }
    }
    free(r->items);
    r->items = items;
    r->n = kept;
    atomic_store(&r->counters.queued, kept);
    pthread_cond_broadcast(&r->cv);
}

static void runner_done(queue_runner *r, const char *id, int rc, int64_t next)
{
    runner_item *it = runner_find(r, id);
    if (it == NULL)
        return;
    it->busy = false;
    if (rc == 1) {
        *it = r->items[--r->n];
        atomic_store(&r->counters.queued, r->n);
        return;
    }
    int64_t now = (int64_t)time(NULL);
    it->next = rc == -2 ? now + QUEUE_RUNNER_BUSY_RETRY : rc < 0 ? now + r->cfg.retry_min : next;
}

static void *runner_thread(void *arg)
{
    queue_runner *r = arg;
    queue_worker w;
    char err[QUEUE_ERR_MAX];
    if (queue_worker_init(&w, &r->cfg, r->deliver_local, r->local_ctx, &r->counters,
                          r->stop_pipe[0], err, sizeof(err)) < 0) {
        log_error(NULL, "queue runner thread cannot start: %s", err);
        return NULL;
    }
    pthread_mutex_lock(&r->mu);
    while (!r->stopping) {
        int64_t now = (int64_t)time(NULL);
        if (!r->scanning && (r->rescan || now >= r->last_scan + r->cfg.scan_interval)) {
            runner_scan(r);
            continue;
        }
        runner_item *pick = NULL;
        int64_t wake = r->last_scan + r->cfg.scan_interval;
        for (size_t i = 0; i < r->n; i++) {
            runner_item *it = &r->items[i];
            if (it->busy)
                continue;
            if (it->next <= now && (pick == NULL || it->next < pick->next))
                pick = it;
            if (it->next < wake)
                wake = it->next;
        }
        if (pick != NULL) {
            char id[QUEUE_ID_LEN + 1];
            int64_t next = INT64_MAX;
            pick->busy = true;
            memcpy(id, pick->id, sizeof(id));
            pthread_mutex_unlock(&r->mu);
            int rc = queue_deliver_entry(&w, id, false, &next);
            pthread_mutex_lock(&r->mu);
            runner_done(r, id, rc, next);
            continue;
        }
        struct timespec ts = {.tv_sec = (time_t)(wake > now ? wake : now + 1)};
        pthread_cond_timedwait(&r->cv, &r->mu, &ts);
    }
    pthread_mutex_unlock(&r->mu);
    queue_worker_free(&w);
    return NULL;
}

int queue_runner_start(const queue_config *cfg, queue_local_fn *deliver_local, void *ctx,
                       queue_runner **r_out, char *err, size_t errlen)
{
    *r_out = NULL;
    if (cfg == NULL || cfg->server_key == NULL || cfg->queue_dir[0] == '\0') {
        queue_err(err, errlen, "queue runner: no queue directory or server key");
        return -1;
    }
    queue_runner *r = calloc(1, sizeof(*r));
    if (r == NULL) {
        queue_err(err, errlen, "out of memory");
        return -1;
    }
    r->cfg = *cfg;
    r->deliver_local = deliver_local;
    r->local_ctx = ctx;
    r->rescan = true;
    r->nthreads =
        cfg->concurrency >= 1 && cfg->concurrency <= QUEUE_CONCURRENCY_MAX ? cfg->concurrency : 1;
    /* Check the configuration once here, not in every thread. */
    queue_worker probe;
    if (queue_worker_init(&probe, cfg, deliver_local, ctx, &r->counters, -1, err, errlen) < 0) {
        free(r);
        return -1;
    }
    queue_worker_free(&probe);
    if (pipe(r->stop_pipe) < 0) {
        queue_err(err, errlen, "pipe() failed: %s", strerror(errno));
        free(r);
        return -1;
    }
    fcntl(r->stop_pipe[0], F_SETFD, FD_CLOEXEC);
    fcntl(r->stop_pipe[1], F_SETFD, FD_CLOEXEC);
    pthread_mutex_init(&r->mu, NULL);
    pthread_cond_init(&r->cv, NULL);
    r->threads = calloc(r->nthreads, sizeof(*r->threads));
    unsigned started = 0;
    for (; r->threads != NULL && started < r->nthreads; started++)
        if (pthread_create(&r->threads[started], NULL, runner_thread, r) != 0)
            break;
    if (started == 0) {
        queue_err(err, errlen, "cannot start the delivery threads");
        r->nthreads = 0;
        queue_runner_stop(&r);
        return -1;
    }
    r->nthreads = started;
    *r_out = r;
    return 0;
}

void queue_runner_kick(queue_runner *r)
{
    if (r == NULL)
        return;
    pthread_mutex_lock(&r->mu);
    r->rescan = true;
    pthread_cond_broadcast(&r->cv);
    pthread_mutex_unlock(&r->mu);
}

void queue_runner_stats(queue_runner *r, queue_stats *s_r)
{
    queue_counters_read(&r->counters, s_r);
}

void queue_runner_stop(queue_runner **rp)
{
    if (rp == NULL || *rp == NULL)
        return;
    queue_runner *r = *rp;
    pthread_mutex_lock(&r->mu);
    r->stopping = true;
    pthread_cond_broadcast(&r->cv);
    pthread_mutex_unlock(&r->mu);
    /* Wakes every poll() of the in-flight attempts (the pipe stays readable). */
    ssize_t ignored = write(r->stop_pipe[1], "x", 1);
    (void)ignored;
    for (unsigned i = 0; i < r->nthreads; i++)
        pthread_join(r->threads[i], NULL);
    free(r->threads);
    free(r->items);
    close(r->stop_pipe[0]);
    close(r->stop_pipe[1]);
    pthread_cond_destroy(&r->cv);
    pthread_mutex_destroy(&r->mu);
    free(r);
    *rp = NULL;
}

int queue_run_pass(const queue_config *cfg, queue_local_fn *deliver_local, void *ctx, bool force,
                   queue_stats *stats_r, char *err, size_t errlen)
{
    queue_counters counters;
    queue_worker w;
    char(*ids)[QUEUE_ID_LEN + 1] = NULL;
    size_t n = 0;
    memset(&counters, 0, sizeof(counters));
    if (queue_list(cfg->queue_dir, &ids, &n, err, errlen) != QUEUE_OK)
        return -1;
    if (queue_worker_init(&w, cfg, deliver_local, ctx, &counters, -1, err, errlen) < 0) {
        free(ids);
        return -1;
    }
    atomic_store(&counters.queued, n);
    for (size_t i = 0; i < n; i++) {
        int64_t next = 0;
        if (queue_deliver_entry(&w, ids[i], force, &next) == 1)
            atomic_fetch_sub(&counters.queued, 1);
    }
    queue_worker_free(&w);
    free(ids);
    if (stats_r != NULL)
        queue_counters_read(&counters, stats_r);
    return 0;
}
