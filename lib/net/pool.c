/* pool: a few threads for blocking work; completions return to the loop
 * thread through an eventfd.
 *
 * Queue and done list are FIFO under one mutex. A pool thread never touches
 * the loop or a conn: it runs work(arg) and hands the job back. The loop
 * reads the eventfd, takes the whole done list and calls the done functions
 * in completion order. A conn job pins its conn (c->jobs): the conn may be
 * closed meanwhile but is freed only after its last done function. */
#include "net_internal.h"

#include "log.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

typedef struct net_job {
    struct net_job *next;
    net_work_fn work;
    net_done_fn done;
    net_conn_done_fn conn_done;
    net_conn *conn;
    void *arg;
} net_job;

struct net_pool {
    net_handle h;
    int efd;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    net_job *q_head, *q_tail;
    size_t q_len;
    net_job *d_head, *d_tail;
    bool stop;
    unsigned nthreads;
    pthread_t threads[NET_POOL_THREADS_MAX];
};

static void *pool_main(void *arg)
{
    net_pool *p = arg;
    pthread_mutex_lock(&p->mu);
    for (;;) {
        while (p->q_head == NULL && !p->stop)
            pthread_cond_wait(&p->cv, &p->mu);
        net_job *j = p->q_head;
        if (j == NULL) /* stopping, and nothing left to run */
            break;
        p->q_head = j->next;
        if (p->q_head == NULL)
            p->q_tail = NULL;
        p->q_len--;
        pthread_mutex_unlock(&p->mu);
        j->work(j->arg);
        pthread_mutex_lock(&p->mu);
        j->next = NULL;
        if (p->d_tail != NULL)
            p->d_tail->next = j;
        else
            p->d_head = j;
        p->d_tail = j;
        uint64_t one = 1;
        if (write(p->efd, &one, sizeof(one)) < 0 && errno != EAGAIN)
            log_error(NULL, "net: pool eventfd write failed: %s", strerror(errno));
    }
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

int net_pool_start(net_loop *l, unsigned threads)
{
    net_pool *p = calloc(1, sizeof(*p));
    if (p == NULL)
        return -1;
    p->h.kind = NET_H_POOL;
    p->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (p->efd < 0) {
        log_error(NULL, "net: eventfd failed: %s", strerror(errno));
        free(p);
        return -1;
    }
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = &p->h};
    if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, p->efd, &ev) < 0) {
        close(p->efd);
        free(p);
        return -1;
    }
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->cv, NULL);
    l->pool = p;
    /* Pool threads take no signal: they start with everything blocked. */
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &old);
    for (unsigned i = 0; i < threads; i++) {
        if (pthread_create(&p->threads[i], NULL, pool_main, p) != 0) {
            log_error(NULL, "net: could not start pool thread %u", i);
            break;
        }
        p->nthreads++;
    }
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (p->nthreads == 0) {
        net_pool_stop(l);
        return -1;
    }
    return 0;
}

static int pool_push(net_loop *l, net_job *j)
{
    net_pool *p = l->pool;
    pthread_mutex_lock(&p->mu);
    if (p->q_len >= NET_POOL_QUEUE_MAX || p->stop) {
        pthread_mutex_unlock(&p->mu);
        return -1;
    }
    j->next = NULL;
    if (p->q_tail != NULL)
        p->q_tail->next = j;
    else
        p->q_head = j;
    p->q_tail = j;
    p->q_len++;
    pthread_cond_signal(&p->cv);
    pthread_mutex_unlock(&p->mu);
    net_metric_add(l->m_jobs, 1);
    return 0;
}

int net_pool_submit(net_loop *l, net_work_fn work, net_done_fn done, void *arg)
{
    net_job *j = calloc(1, sizeof(*j));
    if (j == NULL)
        return -1;
    j->work = work;
    j->done = done;
    j->arg = arg;
    if (pool_push(l, j) < 0) {
        free(j);
        return -1;
    }
    return 0;
}

int net_conn_submit(net_conn *c, net_work_fn work, net_conn_done_fn done, void *arg)
{
    net_job *j = calloc(1, sizeof(*j));
    if (j == NULL)
        return -1;
    j->work = work;
    j->conn_done = done;
    j->conn = c;
    j->arg = arg;
    c->jobs++;
    if (pool_push(c->loop, j) < 0) {
        c->jobs--;
        free(j);
        return -1;
    }
    return 0;
}

static void pool_run_done(net_loop *l, net_job *j)
{
    while (j != NULL) {
        net_job *next = j->next;
        if (j->conn != NULL) {
            net_conn *c = j->conn;
            c->jobs--;
            c->last_io = l->now; /* the idle time starts again from the answer */
            if (j->conn_done != NULL)
                j->conn_done(c, j->arg);
            net_conn_schedule(c); /* to flush, or to be freed if it is closed */
        } else if (j->done != NULL) {
            j->done(l, j->arg);
        }
        free(j);
        j = next;
    }
}

static net_job *pool_take_done(net_pool *p)
{
    pthread_mutex_lock(&p->mu);
    net_job *j = p->d_head;
    p->d_head = p->d_tail = NULL;
    pthread_mutex_unlock(&p->mu);
    return j;
}

void net_pool_event(net_loop *l)
{
    uint64_t n;
    if (read(l->pool->efd, &n, sizeof(n)) < 0 && errno != EAGAIN)
        log_error(NULL, "net: pool eventfd read failed: %s", strerror(errno));
    pool_run_done(l, pool_take_done(l->pool));
}

void net_pool_stop(net_loop *l)
{
    net_pool *p = l->pool;
    if (p == NULL)
        return;
    pthread_mutex_lock(&p->mu);
    p->stop = true;
    pthread_cond_broadcast(&p->cv);
    pthread_mutex_unlock(&p->mu);
    for (unsigned i = 0; i < p->nthreads; i++)
        pthread_join(p->threads[i], NULL);
    /* The threads ran the whole queue before they stopped. */
    pool_run_done(l, pool_take_done(p));
    epoll_ctl(l->epfd, EPOLL_CTL_DEL, p->efd, NULL);
    close(p->efd);
    pthread_mutex_destroy(&p->mu);
    pthread_cond_destroy(&p->cv);
    free(p);
    l->pool = NULL;
}
