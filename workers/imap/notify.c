/* The Redis subscriber: a thread of its own reads WORKER_NEW_MAIL_CHANNEL
 * (blocking hiredis) and hands each store id to the loop through an eventfd;
 * the loop wakes the sessions of that store (imapd_user_wake). After a
 * reconnection every session is woken: notices sent meanwhile were lost. */
#include "imapd.h"

#include "log.h"

#include <errno.h>
#include <hiredis/hiredis.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#define NOTIFY_QUEUE_MAX 4096 /* store ids waiting for the loop; more: wake everyone */
#define NOTIFY_RETRY_MS 1000
#define NOTIFY_ALL "*"

struct imapd_notify {
    imapd_server *srv;
    pthread_t thread;
    bool started;
    int efd;
    net_watch *watch;
    pthread_mutex_t lock;
    char (*queue)[SPOOL_STORE_ID_MAX + 1];
    size_t n;
    bool overflow;
    bool stop;
    redisContext *rc; /* the thread's; shut down to stop it */
};

static void notify_push(imapd_notify *n, const char *id, size_t len)
{
    pthread_mutex_lock(&n->lock);
    if (len > SPOOL_STORE_ID_MAX || n->n == NOTIFY_QUEUE_MAX) {
        n->overflow = true;
    } else {
        memcpy(n->queue[n->n], id, len);
        n->queue[n->n][len] = '\0';
        n->n++;
    }
    pthread_mutex_unlock(&n->lock);
    uint64_t one = 1;
    ssize_t w = write(n->efd, &one, sizeof one);
    (void)w;
}

static void notify_sleep(imapd_notify *n)
{
    for (int i = 0; i < NOTIFY_RETRY_MS / 100 && !__atomic_load_n(&n->stop, __ATOMIC_ACQUIRE);
         i++)
        usleep(100 * 1000);
}

static void *notify_main(void *arg)
{
    imapd_notify *n = arg;
    bool warned = false;
    while (!__atomic_load_n(&n->stop, __ATOMIC_ACQUIRE)) {
        struct timeval tv = {2, 0};
        redisContext *rc = redisConnectWithTimeout(n->srv->cfg.redis_host,
                                                   n->srv->cfg.redis_port, tv);
        if (rc == NULL || rc->err) {
            if (!warned)
                log_warn(NULL, "notices: Redis %s:%d: %s (IDLE sessions see changes late)",
                         n->srv->cfg.redis_host, n->srv->cfg.redis_port,
                         rc != NULL ? rc->errstr : "out of memory");
            warned = true;
            if (rc != NULL)
                redisFree(rc);
            notify_sleep(n);
            continue;
        }
        redisReply *r = redisCommand(rc, "SUBSCRIBE %s", WORKER_NEW_MAIL_CHANNEL);
        if (r != NULL)
            freeReplyObject(r);
        pthread_mutex_lock(&n->lock);
        n->rc = rc;
        pthread_mutex_unlock(&n->lock);
        if (warned)
            log_info(NULL, "notices: Redis reachable again");
        warned = false;
        notify_push(n, NOTIFY_ALL, 1);
        while (!__atomic_load_n(&n->stop, __ATOMIC_ACQUIRE)) {
            void *reply = NULL;
            if (redisGetReply(rc, &reply) != REDIS_OK || reply == NULL)
                break;
            r = reply;
            if (r->type == REDIS_REPLY_ARRAY && r->elements == 3 &&
                r->element[2]->type == REDIS_REPLY_STRING)
                notify_push(n, r->element[2]->str, r->element[2]->len);
            freeReplyObject(r);
        }
        pthread_mutex_lock(&n->lock);
        n->rc = NULL;
        pthread_mutex_unlock(&n->lock);
        redisFree(rc);
        if (!__atomic_load_n(&n->stop, __ATOMIC_ACQUIRE)) {
            log_warn(NULL, "notices: lost Redis, reconnecting");
            warned = true;
            notify_sleep(n);
        }
    }
    return NULL;
}

/* Loop thread: wakes the sessions of every store id queued. */
static void notify_ready(net_watch *w, int fd, unsigned revents, void *arg)
{
    imapd_notify *n = arg;
    uint64_t v;
    (void)w;
    (void)revents;
    ssize_t r = read(fd, &v, sizeof v);
    (void)r;
    char(*batch)[SPOOL_STORE_ID_MAX + 1] = NULL;
    pthread_mutex_lock(&n->lock);
    size_t count = n->n;
    bool all = n->overflow;
    if (count > 0 && (batch = malloc(count * sizeof *batch)) != NULL)
        memcpy(batch, n->queue, count * sizeof *batch);
    else if (count > 0)
        all = true;
    n->n = 0;
    n->overflow = false;
    pthread_mutex_unlock(&n->lock);
    for (size_t i = 0; i < count && batch != NULL && !all; i++)
        all = strcmp(batch[i], NOTIFY_ALL) == 0;
    if (all)
        imapd_user_wake(n->srv, NULL);
    else
        for (size_t i = 0; i < count && batch != NULL; i++)
            imapd_user_wake(n->srv, batch[i]);
    free(batch);
}

int imapd_notify_start(imapd_server *srv)
{
    imapd_notify *n = calloc(1, sizeof *n);
    if (n == NULL || (n->queue = calloc(NOTIFY_QUEUE_MAX, sizeof *n->queue)) == NULL) {
        free(n);
        return -1;
    }
    n->srv = srv;
    pthread_mutex_init(&n->lock, NULL);
    n->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (n->efd < 0 ||
        (n->watch = net_watch_add(srv->loop, n->efd, NET_EV_READ, notify_ready, n)) == NULL ||
        pthread_create(&n->thread, NULL, notify_main, n) != 0) {
        log_error(NULL, "notices: cannot start: %s", strerror(errno));
        net_watch_remove(&n->watch);
        if (n->efd >= 0)
            close(n->efd);
        free(n->queue);
        free(n);
        return -1;
    }
    n->started = true;
    srv->notify = n;
    return 0;
}

void imapd_notify_stop(imapd_server *srv)
{
    imapd_notify *n = srv->notify;
    if (n == NULL)
        return;
    __atomic_store_n(&n->stop, true, __ATOMIC_RELEASE);
    pthread_mutex_lock(&n->lock);
    if (n->rc != NULL)
        shutdown(n->rc->fd, SHUT_RDWR); /* ends the blocking read */
    pthread_mutex_unlock(&n->lock);
    if (n->started)
        pthread_join(n->thread, NULL);
    net_watch_remove(&n->watch);
    close(n->efd);
    pthread_mutex_destroy(&n->lock);
    free(n->queue);
    free(n);
    srv->notify = NULL;
}
