/* loop: the epoll loop, its signals, foreign-fd watches and the shutdown.
 *
 * One iteration: wait (not at all when conns are pending), handle the ready
 * fds, run the due timers, then process the pending conns - the only place
 * where on_data is called and where conns are freed, so no callback ever
 * runs inside another one and no event of this batch can name a freed conn.
 */
#include "net_internal.h"

#include "log.h"

#include <errno.h>
#include <signal.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

uint64_t net_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

void net_limits_default(net_limits *l)
{
    l->max_conns = NET_MAX_CONNS_DEFAULT;
    l->max_conns_per_ip = NET_MAX_CONNS_PER_IP_DEFAULT;
    l->in_max = NET_IN_MAX_DEFAULT;
    l->out_max = NET_OUT_MAX_DEFAULT;
    l->out_high_water = NET_OUT_HIGH_WATER_DEFAULT;
    l->idle_timeout_ms = NET_IDLE_TIMEOUT_MS_DEFAULT;
    l->session_timeout_ms = NET_SESSION_TIMEOUT_MS_DEFAULT;
    l->grace_ms = NET_GRACE_MS_DEFAULT;
    l->pool_threads = NET_POOL_THREADS_DEFAULT;
}

static void take_unsigned(unsigned *dst, unsigned src)
{
    if (src != 0)
        *dst = src;
}

static void take_size(size_t *dst, size_t src)
{
    if (src != 0)
        *dst = src;
}

/* A zero field of the caller's limits keeps the default. */
static void limits_merge(net_limits *dst, const net_limits *src)
{
    take_unsigned(&dst->max_conns, src->max_conns);
    take_unsigned(&dst->max_conns_per_ip, src->max_conns_per_ip);
    take_size(&dst->in_max, src->in_max);
    take_size(&dst->out_max, src->out_max);
    take_size(&dst->out_high_water, src->out_high_water);
    take_unsigned(&dst->idle_timeout_ms, src->idle_timeout_ms);
    take_unsigned(&dst->session_timeout_ms, src->session_timeout_ms);
    take_unsigned(&dst->grace_ms, src->grace_ms);
    take_unsigned(&dst->pool_threads, src->pool_threads);
}

/* Each connection is a descriptor: raise the soft limit (1024 by default)
 * towards what max_conns needs, as far as the hard limit allows. */
static void raise_fd_limit(const net_limits *m)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
        return;
    rlim_t want = (rlim_t)m->max_conns + NET_REFUSE_SLOTS + NET_METRICS_CONNS_MAX + NET_FD_RESERVE;
    if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < want) {
        rl.rlim_cur = rl.rlim_max != RLIM_INFINITY && rl.rlim_max < want ? rl.rlim_max : want;
        setrlimit(RLIMIT_NOFILE, &rl);
        if (rl.rlim_cur < want)
            log_warn(NULL,
                     "net: only %llu file descriptors (hard limit): max_conns %u will not fit",
                     (unsigned long long)rl.rlim_cur, m->max_conns);
    }
}

int net_loop_new(const net_limits *limits, net_loop **loop_r)
{
    *loop_r = NULL;
    if (sodium_init() < 0) {
        log_error(NULL, "net: sodium_init failed");
        return -1;
    }
    net_loop *l = calloc(1, sizeof(*l));
    if (l == NULL)
        return -1;
    net_limits_default(&l->limits);
    if (limits != NULL)
        limits_merge(&l->limits, limits);
    const net_limits *m = &l->limits;
    if (m->out_high_water >= m->out_max || m->pool_threads > NET_POOL_THREADS_MAX ||
        m->in_max < 2) {
        log_error(NULL, "net: inconsistent limits (high water %zu, out max %zu, threads %u)",
                  m->out_high_water, m->out_max, m->pool_threads);
        free(l);
        return -1;
    }
    raise_fd_limit(m);
    l->sigfd = -1;
    l->now = net_now_ms();
    randombytes_buf(l->ip_hash_key, sizeof(l->ip_hash_key));
    net_timer_init(&l->grace, l, NULL, NULL);
    net_metrics_init(l);
    l->epfd = epoll_create1(EPOLL_CLOEXEC);
    if (l->epfd < 0) {
        log_error(NULL, "net: epoll_create1 failed: %s", strerror(errno));
        free(l);
        return -1;
    }
    /* OpenSSL writes with write(2): a reset peer must be an error, not a kill. */
    signal(SIGPIPE, SIG_IGN);
    if (net_pool_start(l, l->limits.pool_threads) < 0) {
        close(l->epfd);
        free(l);
        return -1;
    }
    *loop_r = l;
    return 0;
}

const net_limits *net_loop_limits(const net_loop *l)
{
    return &l->limits;
}

uint64_t net_loop_now(const net_loop *l)
{
    return l->now;
}

bool net_loop_shutting_down(const net_loop *l)
{
    return l->shutting_down;
}

void net_conn_schedule(net_conn *c)
{
    if (c->in_pending)
        return;
    c->in_pending = true;
    c->pending_next = c->loop->pending;
    c->loop->pending = c;
}

/* ---- signals -------------------------------------------------------------- */

int net_loop_handle_signals(net_loop *l)
{
    if (l->sigfd >= 0)
        return 0;
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGHUP);
    if (pthread_sigmask(SIG_BLOCK, &set, &l->old_mask) != 0)
        return -1;
    l->sigfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
    if (l->sigfd < 0) {
        log_error(NULL, "net: signalfd failed: %s", strerror(errno));
        pthread_sigmask(SIG_SETMASK, &l->old_mask, NULL);
        return -1;
    }
    l->sig_h.kind = NET_H_SIGNAL;
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = &l->sig_h};
    if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, l->sigfd, &ev) < 0) {
        close(l->sigfd);
        l->sigfd = -1;
        pthread_sigmask(SIG_SETMASK, &l->old_mask, NULL);
        return -1;
    }
    return 0;
}

static void signal_event(net_loop *l)
{
    struct signalfd_siginfo si;
    while (read(l->sigfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
        if (si.ssi_signo == SIGHUP) {
            log_info(NULL, "net: SIGHUP: reloading");
            net_loop_reload(l);
        } else {
            log_info(NULL, "net: signal %u: graceful shutdown", si.ssi_signo);
            net_loop_shutdown(l);
        }
    }
}

void net_loop_set_reload_hook(net_loop *l, net_reload_fn fn, void *arg)
{
    l->reload_fn = fn;
    l->reload_arg = arg;
}

void net_loop_reload(net_loop *l)
{
    for (net_listener *ls = l->listeners; ls != NULL; ls = ls->next) {
        net_tls_ctx *t = ls->opts.tls;
        bool seen = false;
        for (net_listener *o = l->listeners; o != ls && !seen; o = o->next)
            seen = o->opts.tls == t;
        if (t == NULL || seen)
            continue;
        char err[NET_TLS_ERROR_MAX];
        if (net_tls_ctx_reload(t, err, sizeof(err)) < 0)
            log_error(NULL, "net: TLS reload of %s failed, keeping the old one: %s", t->cert_file,
                      err);
        else
            log_info(NULL, "net: TLS certificate %s reloaded", t->cert_file);
    }
    if (l->reload_fn != NULL)
        l->reload_fn(l, l->reload_arg);
}

/* ---- shutdown ------------------------------------------------------------- */

static void grace_over(net_loop *l, void *arg)
{
    (void)arg;
    size_t left = 0;
    for (net_conn *c = l->conns; c != NULL; c = c->next) {
        if (!c->aborted) {
            net_conn_abort_why(c, NET_CLOSE_SHUTDOWN);
            left++;
        }
    }
    if (left > 0)
        log_warn(NULL, "net: grace period over, cut %zu connections", left);
    /* A conn still waiting for a pool job ends in net_loop_free. */
    l->finished = true;
}

static void shutdown_begin(net_loop *l, void *arg)
{
    (void)arg;
    for (net_conn *c = l->conns; c != NULL; c = c->next)
        net_conn_notify_shutdown(c);
    l->grace.fn = grace_over;
    net_timer_arm(&l->grace, net_now_ms() + l->limits.grace_ms);
}

void net_loop_shutdown(net_loop *l)
{
    if (l->shutting_down)
        return;
    l->shutting_down = true;
    log_info(NULL, "net: shutting down: %zu connections, grace %u ms", l->nconns,
             l->limits.grace_ms);
    net_listeners_close(l);
    /* The conns hear it from the loop, not from inside the caller's callback. */
    l->grace.fn = shutdown_begin;
    net_timer_arm(&l->grace, l->now);
}

/* ---- watches -------------------------------------------------------------- */

static uint32_t watch_mask(unsigned events)
{
    return ((events & NET_EV_READ) ? EPOLLIN : 0u) | ((events & NET_EV_WRITE) ? EPOLLOUT : 0u);
}

/* Live and removed watches share one list (it is short); removed ones are
 * freed after the iteration, so an event of the same batch finds them dead. */
net_watch *net_watch_add(net_loop *l, int fd, unsigned events, net_watch_fn fn, void *arg)
{
    net_watch *w = calloc(1, sizeof(*w));
    if (w == NULL)
        return NULL;
    w->h.kind = NET_H_WATCH;
    w->loop = l;
    w->fd = fd;
    w->events = events;
    w->fn = fn;
    w->arg = arg;
    struct epoll_event ev = {.events = watch_mask(events), .data.ptr = w};
    if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
        log_error(NULL, "net: watching fd %d failed: %s", fd, strerror(errno));
        free(w);
        return NULL;
    }
    w->next = l->watches;
    l->watches = w;
    return w;
}

int net_watch_modify(net_watch *w, unsigned events)
{
    if (w->dead)
        return -1;
    struct epoll_event ev = {.events = watch_mask(events), .data.ptr = w};
    if (epoll_ctl(w->loop->epfd, EPOLL_CTL_MOD, w->fd, &ev) < 0)
        return -1;
    w->events = events;
    return 0;
}

void net_watch_remove(net_watch **wp)
{
    if (wp == NULL || *wp == NULL)
        return;
    net_watch *w = *wp;
    *wp = NULL;
    if (w->dead)
        return;
    w->dead = true;
    epoll_ctl(w->loop->epfd, EPOLL_CTL_DEL, w->fd, NULL);
}

static void watches_reap(net_loop *l, bool all)
{
    net_watch **pp = &l->watches;
    while (*pp != NULL) {
        net_watch *w = *pp;
        if (w->dead || all) {
            if (!w->dead)
                epoll_ctl(l->epfd, EPOLL_CTL_DEL, w->fd, NULL);
            *pp = w->next;
            free(w);
        } else {
            pp = &w->next;
        }
    }
}

static void watch_event(net_watch *w, uint32_t events)
{
    if (w->dead)
        return;
    unsigned rev = 0;
    if (events & EPOLLIN)
        rev |= NET_EV_READ;
    if (events & EPOLLOUT)
        rev |= NET_EV_WRITE;
    if (events & (EPOLLERR | EPOLLHUP))
        rev |= NET_EV_ERROR;
    w->fn(w, w->fd, rev, w->arg);
}

/* ---- running -------------------------------------------------------------- */

static void process_pending(net_loop *l)
{
    /* Conns scheduled while processing wait for the next round (no spinning
     * inside one iteration); the next epoll_wait then does not block. */
    net_conn *list = l->pending;
    l->pending = NULL;
    while (list != NULL) {
        net_conn *c = list;
        list = c->pending_next;
        c->pending_next = NULL;
        c->in_pending = false;
        net_conn_process(c);
    }
}

static void dispatch(net_loop *l, const struct epoll_event *ev)
{
    net_handle *h = ev->data.ptr;
    switch (h->kind) {
    case NET_H_LISTENER:
        net_listener_event((net_listener *)h);
        break;
    case NET_H_CONN:
        net_conn_event((net_conn *)h, ev->events);
        break;
    case NET_H_WATCH:
        watch_event((net_watch *)h, ev->events);
        break;
    case NET_H_SIGNAL:
        signal_event(l);
        break;
    case NET_H_POOL:
        net_pool_event(l);
        break;
    }
}

int net_loop_run(net_loop *l)
{
    struct epoll_event ev[NET_EPOLL_BATCH];
    while (!l->finished) {
        int timeout = l->pending != NULL ? 0 : net_timers_next_ms(l);
        int n = epoll_wait(l->epfd, ev, NET_EPOLL_BATCH, timeout);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            log_error(NULL, "net: epoll_wait failed: %s", strerror(errno));
            return -1;
        }
        l->now = net_now_ms();
        for (int i = 0; i < n; i++)
            dispatch(l, &ev[i]);
        net_timers_run(l);
        process_pending(l);
        watches_reap(l, false);
        if (l->shutting_down && l->nconns == 0)
            l->finished = true;
    }
    log_info(NULL, "net: loop finished");
    return 0;
}

void net_loop_free(net_loop **lp)
{
    if (lp == NULL || *lp == NULL)
        return;
    net_loop *l = *lp;
    *lp = NULL;
    net_pool_stop(l); /* every done function has run: no conn has a job now */
    while (l->conns != NULL)
        net_conn_free_now(l->conns, NET_CLOSE_SHUTDOWN);
    net_listeners_free(l);
    watches_reap(l, true);
    net_timer_disarm(&l->grace);
    net_timers_free(l);
    net_limits_free(l);
    if (l->sigfd >= 0) {
        close(l->sigfd);
        pthread_sigmask(SIG_SETMASK, &l->old_mask, NULL);
    }
    close(l->epfd);
    free(l);
}
