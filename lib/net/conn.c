/* conn: a connection's life (accept, open, dispatch, timeouts, close, free)
 * and the calls the protocol makes on it. The socket I/O is in conn_io.c.
 *
 * The conn's single timer is re-armed lazily: I/O only moves last_io
 * forward, and when the timer fires it checks the real deadlines and either
 * acts or re-arms, so a busy conn never touches the timer heap. */
#include "net_internal.h"

#include "log.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>

static void conn_timer_fired(net_loop *l, void *arg);

void net_session_id(char out[NET_SESSION_ID_LEN + 1])
{
    /* RFC 4648 section 6 alphabet, lower case: 5 bits per character. */
    static const char alphabet[] = "abcdefghijklmnopqrstuvwxyz234567";
    uint64_t bits;
    randombytes_buf(&bits, sizeof(bits));
    for (int i = 0; i < NET_SESSION_ID_LEN; i++) {
        out[i] = alphabet[bits & 31u];
        bits >>= 5;
    }
    out[NET_SESSION_ID_LEN] = '\0';
}

static void conn_set_reason(net_conn *c, net_close_reason why)
{
    if (!c->reason_set) {
        c->reason = why;
        c->reason_set = true;
    }
}

static uint64_t conn_deadline(const net_conn *c)
{
    if (c->closing)
        return c->close_deadline;
    uint64_t idle = c->last_io + c->idle_ms;
    return idle < c->session_deadline ? idle : c->session_deadline;
}

/* For a deadline that moved earlier; later ones are found when it fires. */
static void conn_rearm(net_conn *c)
{
    if (c->fd < 0)
        return;
    uint64_t due = conn_deadline(c);
    if (c->timer.idx == NET_TIMER_UNARMED || due < c->timer.due)
        net_timer_arm(&c->timer, due);
}

net_conn *net_conn_new(net_loop *l, int fd, net_listener *ls, const struct sockaddr_storage *ss)
{
    net_conn *c = calloc(1, sizeof(*c));
    if (c == NULL)
        return NULL;
    c->h.kind = NET_H_CONN;
    c->loop = l;
    c->handler = ls->opts.handler;
    c->ctx = ls->opts.ctx;
    c->tls = ls->opts.tls;
    c->metrics_conn = ls->metrics;
    c->fd = fd;
    net_session_id(c->session);
    if (ss->ss_family == AF_INET6) {
        const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)ss;
        inet_ntop(AF_INET6, &s6->sin6_addr, c->peer, sizeof(c->peer));
        c->peer_port = ntohs(s6->sin6_port);
    } else {
        const struct sockaddr_in *s4 = (const struct sockaddr_in *)ss;
        inet_ntop(AF_INET, &s4->sin_addr, c->peer, sizeof(c->peer));
        c->peer_port = ntohs(s4->sin_port);
    }
    net_limits_key(ss, c->ip_key);
    c->peer_loopback = net_addr_is_loopback(ss);
    /* Credentials (AUTH, LOGIN) and mail pass through both: wiped when
     * the buffers grow or are freed. */
    buf_init_secret(&c->in, c->metrics_conn ? NET_METRICS_LINE_MAX * 2 : l->limits.in_max);
    buf_init_secret(&c->out, c->metrics_conn ? NET_METRICS_OUT_MAX : l->limits.out_max);
    c->started = c->last_io = l->now;
    c->idle_ms = l->limits.idle_timeout_ms;
    c->session_deadline = l->now + l->limits.session_timeout_ms;
    if (ls->opts.implicit_tls)
        c->tls_state = NET_TLS_STARTING; /* nothing to send first: handshake now */
    struct epoll_event ev = {.events = 0, .data.ptr = c};
    if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
        free(c);
        return NULL;
    }
    net_timer_init(&c->timer, l, conn_timer_fired, c);
    net_timer_arm(&c->timer, conn_deadline(c));
    c->next = l->conns;
    if (l->conns != NULL)
        l->conns->prev = c;
    l->conns = c;
    l->nconns++;
    if (c->metrics_conn)
        l->nmetrics_conns++;
    net_conn_schedule(c);
    return c;
}

static void pending_unlink(net_conn *c)
{
    if (!c->in_pending)
        return;
    for (net_conn **pp = &c->loop->pending; *pp != NULL; pp = &(*pp)->pending_next) {
        if (*pp == c) {
            *pp = c->pending_next;
            break;
        }
    }
    c->in_pending = false;
}

void net_conn_free_now(net_conn *c, net_close_reason why)
{
    net_loop *l = c->loop;
    conn_set_reason(c, why);
    net_conn_close_fd(c);
    if (c->opened && c->handler->on_close != NULL)
        c->handler->on_close(c, c->reason);
    pending_unlink(c); /* after on_close: whatever it called cannot leave c behind */
    if (c->metrics_conn)
        log_debug(c->session, "net: metrics connection closed");
    else
        log_info(c->session, "net: closed (%s)", net_close_reason_name(c->reason));
    if (c->prev != NULL)
        c->prev->next = c->next;
    else
        l->conns = c->next;
    if (c->next != NULL)
        c->next->prev = c->prev;
    l->nconns--;
    if (c->metrics_conn)
        l->nmetrics_conns--;
    buf_free(&c->in);
    buf_free(&c->out);
    free(c);
}

static bool conn_tls_ready(const net_conn *c)
{
    return c->tls_state == NET_TLS_NONE || c->tls_state == NET_TLS_ON;
}

static bool conn_may_dispatch(const net_conn *c)
{
    return c->fd >= 0 && c->opened && !c->refused && !c->closing && !c->paused && !c->throttled &&
           conn_tls_ready(c);
}

static void conn_open(net_conn *c)
{
    c->opened = true;
    if (c->refused) {
        net_metric_add(c->loop->m_refused, 1);
        if (c->handler->on_refuse != NULL)
            c->handler->on_refuse(c, c->refuse_why);
        conn_set_reason(c, NET_CLOSE_REFUSED);
        net_conn_close(c);
        return;
    }
    c->handler->on_open(c);
    if (c->in.len > c->in_pos)
        c->want_data = true; /* an early talker: its input waited for the greeting */
}

static size_t conn_high_water(const net_conn *c)
{
    return c->metrics_conn ? NET_METRICS_OUT_MAX : c->loop->limits.out_high_water;
}

/* Output over the high-water mark stops reading and dispatch until it
 * drains to half of it (hysteresis, so a conn does not flap). */
static void conn_throttle(net_conn *c)
{
    size_t pending = c->out.len - c->out_pos;
    size_t high = conn_high_water(c);
    if (!c->throttled && pending > high) {
        c->throttled = true;
    } else if (c->throttled && pending <= high / 2) {
        c->throttled = false;
        if (c->in.len > c->in_pos)
            c->want_data = true;
        if (c->handler->on_writable != NULL && !c->closing) {
            c->handler->on_writable(c);
            net_conn_schedule(c);
        }
    }
}

void net_conn_process(net_conn *c)
{
    if (c->fd >= 0 && !c->aborted) {
        if (c->tls_state == NET_TLS_STARTING && c->out_plain == 0 && !c->closing)
            net_conn_tls_step(c);
        if (!c->opened && !c->aborted && conn_tls_ready(c))
            conn_open(c);
        if (c->read_again && net_conn_may_read(c)) {
            c->read_again = false;
            net_conn_do_read(c);
        }
        if (c->want_data && conn_may_dispatch(c)) {
            c->want_data = false;
            c->handler->on_data(c);
            if (c->read_again && net_conn_may_read(c))
                net_conn_schedule(c);
        }
        if (c->fd >= 0 && !c->aborted)
            net_conn_do_flush(c);
        if (c->fd >= 0 && !c->aborted)
            conn_throttle(c);
        if (c->want_data && conn_may_dispatch(c))
            net_conn_schedule(c); /* input left behind by the high-water mark */
        bool inflating = c->z != NULL && net_z_in_pending(c->z);
        if (inflating && c->read_again && net_conn_may_read(c))
            net_conn_schedule(c); /* the inflater holds input: no epoll event will come */
        if (c->eof && !c->closing && !c->paused && !c->want_data && !inflating) {
            conn_set_reason(c, NET_CLOSE_PEER);
            net_conn_close(c);
        }
        /* Closing: once the output is sent, or at once if what is left can
         * only go through a TLS session that does not exist yet. */
        if (c->closing && (!net_conn_has_output(c) || c->tls_state == NET_TLS_HANDSHAKE ||
                           (c->tls_state == NET_TLS_STARTING && c->out_plain == 0)))
            net_conn_close_fd(c);
    }
    if (c->aborted)
        net_conn_close_fd(c);
    if (c->fd < 0) {
        if (c->jobs == 0 && !c->in_pending)
            net_conn_free_now(c, NET_CLOSE_LOCAL);
        return;
    }
    uint32_t ev = net_conn_interest(c);
    if (ev != c->ev_mask) {
        struct epoll_event e = {.events = ev, .data.ptr = c};
        if (epoll_ctl(c->loop->epfd, EPOLL_CTL_MOD, c->fd, &e) == 0)
            c->ev_mask = ev;
    }
}

void net_conn_event(net_conn *c, uint32_t events)
{
    if (c->fd < 0 || c->aborted)
        return;
    if (events & (EPOLLERR | EPOLLHUP)) {
        /* A reset or a full close: nothing can reach the client any more. */
        net_conn_abort_why(c, c->eof ? NET_CLOSE_PEER : NET_CLOSE_ERROR);
        return;
    }
    if (c->tls_state == NET_TLS_HANDSHAKE) {
        net_conn_tls_step(c);
    } else {
        if (net_conn_has_output(c))
            net_conn_do_flush(c);
        if (net_conn_may_read(c))
            net_conn_do_read(c);
    }
    net_conn_schedule(c);
}

static void conn_timer_fired(net_loop *l, void *arg)
{
    net_conn *c = arg;
    uint64_t now = l->now;
    if (c->closing) {
        if (now < c->close_deadline) {
            net_timer_arm(&c->timer, c->close_deadline);
            return;
        }
        log_info(c->session, "net: output not flushed in time, closing");
        net_conn_abort(c);
        return;
    }
    net_timeout_kind kind;
    if (now >= c->session_deadline)
        kind = NET_TIMEOUT_SESSION;
    else if (now >= c->last_io + c->idle_ms && c->jobs == 0)
        kind = NET_TIMEOUT_IDLE;
    else if (now >= c->last_io + c->idle_ms) {
        /* Not idle: the server is working for it (a pool job). Timing it
         * out would answer "timeout" for work that then completes. */
        c->last_io = now;
        net_timer_arm(&c->timer, conn_deadline(c));
        return;
    } else {
        net_timer_arm(&c->timer, conn_deadline(c));
        return;
    }
    net_metric_add(l->m_timed_out, 1);
    log_info(c->session, "net: %s timeout", kind == NET_TIMEOUT_IDLE ? "idle" : "session");
    conn_set_reason(c,
                    kind == NET_TIMEOUT_IDLE ? NET_CLOSE_TIMEOUT_IDLE : NET_CLOSE_TIMEOUT_SESSION);
    if (c->opened && !c->refused && conn_tls_ready(c) && c->handler->on_timeout != NULL)
        c->handler->on_timeout(c, kind);
    net_conn_close(c);
}

void net_conn_notify_shutdown(net_conn *c)
{
    if (c->shutdown_told || c->closing)
        return;
    c->shutdown_told = true;
    if (!c->opened || c->refused || c->handler->on_shutdown == NULL) {
        net_conn_close(c);
        return;
    }
    c->handler->on_shutdown(c);
    net_conn_schedule(c);
}

/* ---- the protocol's calls ------------------------------------------------- */

/* Backpressure inside one on_data: no more input while the output is over
 * the high-water mark; on_data comes again once the loop has sent enough. */
static bool conn_over_high_water(net_conn *c)
{
    if (c->out.len - c->out_pos <= conn_high_water(c))
        return false;
    c->want_data = true;
    return true;
}

int net_conn_read_line(net_conn *c, size_t max, net_line *line_r)
{
    size_t avail = c->in.len - c->in_pos;
    if (c->closing || c->paused || avail == 0 || conn_over_high_water(c))
        return 0;
    if (max > c->in.max)
        max = c->in.max;
    char *start = c->in.data + c->in_pos;
    char *lf = memchr(start, '\n', avail < max ? avail : max);
    if (lf == NULL)
        return avail >= max ? -1 : 0;
    size_t n = (size_t)(lf - start) + 1;
    c->in_pos += n;
    bool cr = n >= 2 && lf[-1] == '\r';
    size_t len = n - 1 - (cr ? 1 : 0);
    start[len] = '\0';
    line_r->data = start;
    line_r->len = len;
    line_r->bare_lf = !cr;
    return 1;
}

void net_conn_skip_line(net_conn *c)
{
    size_t avail = c->in.len - c->in_pos;
    char *lf = avail > 0 ? memchr(c->in.data + c->in_pos, '\n', avail) : NULL;
    if (lf != NULL) {
        c->in_pos += (size_t)(lf - (c->in.data + c->in_pos)) + 1;
    } else {
        c->in_pos = c->in.len;
        c->skipping = true;
    }
}

size_t net_conn_read(net_conn *c, size_t max, const char **data_r)
{
    size_t avail = c->in.len - c->in_pos;
    if (c->closing || c->paused || avail == 0 || conn_over_high_water(c))
        return 0;
    size_t n = avail < max ? avail : max;
    *data_r = c->in.data + c->in_pos;
    c->in_pos += n;
    return n;
}

size_t net_conn_peek(net_conn *c, const char **data_r)
{
    size_t avail = c->in.len - c->in_pos;
    if (c->closing || c->paused || avail == 0 || conn_over_high_water(c))
        return 0;
    *data_r = c->in.data + c->in_pos;
    return avail;
}

void net_conn_consume(net_conn *c, size_t n)
{
    size_t avail = c->in.len - c->in_pos;
    c->in_pos += n < avail ? n : avail;
}

size_t net_conn_in_pending(const net_conn *c)
{
    return c->in.len - c->in_pos;
}

bool net_conn_eof(const net_conn *c)
{
    return c->eof;
}

int net_conn_write(net_conn *c, const void *data, size_t len)
{
    if (c->closing || c->fd < 0)
        return -1;
    size_t pending = c->out.len - c->out_pos;
    if (len > c->out.max - pending)
        return -1;
    if (c->out.len + len > c->out.max) { /* make room: move the unsent part to the front */
        memmove(c->out.data, c->out.data + c->out_pos, pending);
        c->out.len = pending;
        c->out_pos = 0;
    }
    if (buf_append(&c->out, data, len) < 0) {
        c->out.failed = false; /* out of memory: this write fails, later ones may not */
        return -1;
    }
    /* Over the mark now: on_writable is owed once it drains, even when the
     * next flush sends most of it at once (a fast reader, or deflate). */
    if (c->out.len - c->out_pos > conn_high_water(c))
        c->throttled = true;
    net_conn_schedule(c);
    return 0;
}

int net_conn_printf(net_conn *c, const char *fmt, ...)
{
    buf b;
    buf_init(&b, c->out.max);
    va_list ap;
    va_start(ap, fmt);
    int r = buf_vprintf(&b, fmt, ap);
    va_end(ap);
    if (r == 0)
        r = net_conn_write(c, b.data, b.len);
    buf_free(&b);
    return r;
}

size_t net_conn_out_pending(const net_conn *c)
{
    size_t n = c->out.len - c->out_pos;
    if (c->z != NULL)
        n += c->z->zout_len - c->z->zout_pos;
    return n;
}

void net_conn_pause(net_conn *c)
{
    c->paused = true;
}

void net_conn_resume(net_conn *c)
{
    if (!c->paused)
        return;
    c->paused = false;
    if (c->in.len > c->in_pos)
        c->want_data = true;
    net_conn_schedule(c);
}

void net_conn_close(net_conn *c)
{
    conn_set_reason(c, NET_CLOSE_LOCAL);
    if (c->closing)
        return;
    c->closing = true;
    c->close_deadline = c->loop->now + NET_CLOSE_LINGER_MS;
    conn_rearm(c);
    net_conn_schedule(c);
}

void net_conn_abort_why(net_conn *c, net_close_reason why)
{
    conn_set_reason(c, why);
    net_conn_abort(c);
}

void net_conn_abort(net_conn *c)
{
    conn_set_reason(c, NET_CLOSE_LOCAL);
    c->closing = true;
    c->aborted = true;
    net_conn_schedule(c);
}

bool net_conn_closing(const net_conn *c)
{
    return c->closing;
}

void net_conn_set_timeouts(net_conn *c, unsigned idle_ms, unsigned session_ms)
{
    if (idle_ms != 0) {
        c->idle_ms = idle_ms;
        c->last_io = c->loop->now;
    }
    if (session_ms != 0)
        c->session_deadline = c->started + session_ms;
    if (c->fd >= 0 && !c->closing) {
        net_timer_disarm(&c->timer);
        net_timer_arm(&c->timer, conn_deadline(c));
    }
}

const char *net_conn_session(const net_conn *c)
{
    return c->session;
}

const char *net_conn_peer(const net_conn *c)
{
    return c->peer;
}

bool net_conn_peer_is_loopback(const net_conn *c)
{
    return c->peer_loopback;
}

unsigned net_conn_peer_port(const net_conn *c)
{
    return c->peer_port;
}

net_loop *net_conn_loop(const net_conn *c)
{
    return c->loop;
}

void *net_conn_ctx(const net_conn *c)
{
    return c->ctx;
}

void net_conn_set_data(net_conn *c, void *data)
{
    c->data = data;
}

void *net_conn_data(const net_conn *c)
{
    return c->data;
}

int net_conn_fd(const net_conn *c)
{
    return c->fd;
}

const char *net_close_reason_name(net_close_reason why)
{
    switch (why) {
    case NET_CLOSE_LOCAL:
        return "closed by the server";
    case NET_CLOSE_PEER:
        return "closed by the client";
    case NET_CLOSE_ERROR:
        return "I/O error";
    case NET_CLOSE_TIMEOUT_IDLE:
        return "idle timeout";
    case NET_CLOSE_TIMEOUT_SESSION:
        return "session timeout";
    case NET_CLOSE_TLS_FAILED:
        return "TLS handshake failed";
    case NET_CLOSE_REFUSED:
        return "refused by a limit";
    case NET_CLOSE_SHUTDOWN:
        return "shutdown";
    }
    return "unknown";
}
