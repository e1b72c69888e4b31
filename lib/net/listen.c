#define _GNU_SOURCE /* accept4 */
/* listen: "addr:port" parsing, listening sockets and accepting. */
#include "net_internal.h"

#include "log.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

static int parse_port(const char *s, unsigned *port_r)
{
    size_t n = strlen(s);
    if (n == 0 || n > 5)
        return -1;
    unsigned v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (unsigned)(s[i] - '0');
    }
    if (v > 65535)
        return -1;
    *port_r = v;
    return 0;
}

int net_addr_parse(const char *text, struct sockaddr_storage *ss_r, socklen_t *len_r)
{
    if (text == NULL)
        return -1;
    size_t n = strnlen(text, NET_ADDR_TEXT_MAX);
    if (n == 0 || n == NET_ADDR_TEXT_MAX)
        return -1;
    char host[NET_ADDR_TEXT_MAX];
    const char *port_text;
    bool v6;
    if (text[0] == '[') {
        const char *close = strchr(text, ']');
        if (close == NULL || close[1] != ':')
            return -1;
        size_t hl = (size_t)(close - text - 1);
        memcpy(host, text + 1, hl);
        host[hl] = '\0';
        port_text = close + 2;
        v6 = true;
    } else {
        const char *colon = strrchr(text, ':');
        if (colon == NULL)
            return -1;
        size_t hl = (size_t)(colon - text);
        memcpy(host, text, hl);
        host[hl] = '\0';
        if (strchr(host, ':') != NULL) /* an IPv6 address must be bracketed */
            return -1;
        port_text = colon + 1;
        v6 = false;
    }
    unsigned port;
    if (parse_port(port_text, &port) < 0)
        return -1;
    memset(ss_r, 0, sizeof(*ss_r));
    if (v6) {
        struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss_r;
        s6->sin6_family = AF_INET6;
        s6->sin6_port = htons((uint16_t)port);
        if (inet_pton(AF_INET6, host, &s6->sin6_addr) != 1)
            return -1;
        *len_r = sizeof(*s6);
    } else {
        struct sockaddr_in *s4 = (struct sockaddr_in *)ss_r;
        s4->sin_family = AF_INET;
        s4->sin_port = htons((uint16_t)port);
        if (strcmp(host, "*") == 0)
            s4->sin_addr.s_addr = htonl(INADDR_ANY);
        else if (inet_pton(AF_INET, host, &s4->sin_addr) != 1)
            return -1;
        *len_r = sizeof(*s4);
    }
    return 0;
}

bool net_addr_is_loopback(const struct sockaddr_storage *ss)
{
    if (ss->ss_family == AF_INET) {
        const struct sockaddr_in *s4 = (const struct sockaddr_in *)ss;
        return (ntohl(s4->sin_addr.s_addr) >> 24) == 127;
    }
    if (ss->ss_family == AF_INET6) {
        const struct in6_addr *a = &((const struct sockaddr_in6 *)ss)->sin6_addr;
        if (IN6_IS_ADDR_LOOPBACK(a))
            return true;
        return IN6_IS_ADDR_V4MAPPED(a) && a->s6_addr[12] == 127;
    }
    return false;
}

int net_listen_internal(net_loop *l, const net_listen_opts *o, bool metrics, net_listener **r)
{
    if (r != NULL)
        *r = NULL;
    struct sockaddr_storage ss;
    socklen_t sl;
    if (o->handler == NULL || o->handler->on_open == NULL || o->handler->on_data == NULL ||
        (o->implicit_tls && o->tls == NULL) || l->shutting_down) {
        log_error(NULL, "net: listen on %s: bad options", o->addr != NULL ? o->addr : "(null)");
        return -1;
    }
    if (net_addr_parse(o->addr, &ss, &sl) < 0) {
        log_error(NULL, "net: bad listen address '%s' (want addr:port or [v6]:port)",
                  o->addr != NULL ? o->addr : "(null)");
        return -1;
    }
    if (metrics && !net_addr_is_loopback(&ss)) {
        log_error(NULL, "net: refusing to serve /metrics on %s: loopback addresses only", o->addr);
        return -1;
    }
    int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        log_error(NULL, "net: socket() for %s failed: %s", o->addr, strerror(errno));
        return -1;
    }
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (ss.ss_family == AF_INET6) /* "[::]" is IPv6 only: bind "*" as well for IPv4 */
        setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
    if (bind(fd, (struct sockaddr *)&ss, sl) < 0 || listen(fd, NET_LISTEN_BACKLOG) < 0) {
        log_error(NULL, "net: bind/listen on %s failed: %s", o->addr, strerror(errno));
        close(fd);
        return -1;
    }
    struct sockaddr_storage bound;
    socklen_t bl = sizeof(bound);
    getsockname(fd, (struct sockaddr *)&bound, &bl);
    net_listener *ls = calloc(1, sizeof(*ls));
    if (ls == NULL) {
        close(fd);
        return -1;
    }
    ls->h.kind = NET_H_LISTENER;
    ls->loop = l;
    ls->fd = fd;
    ls->port = ntohs(bound.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&bound)->sin6_port
                                                 : ((struct sockaddr_in *)&bound)->sin_port);
    ls->opts = *o;
    ls->opts.addr = NULL; /* the caller's string may not live on */
    ls->metrics = metrics;
    snprintf(ls->addr, sizeof(ls->addr), "%.*s:%u", (int)(strrchr(o->addr, ':') - o->addr), o->addr,
             ls->port);
    net_timer_init(&ls->retry, l, NULL, ls);
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = ls};
    if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
        close(fd);
        free(ls);
        return -1;
    }
    ls->next = l->listeners;
    l->listeners = ls;
    log_info(NULL, "net: listening on %s%s", ls->addr,
             metrics           ? " (metrics)"
             : o->implicit_tls ? " (implicit TLS)"
                               : "");
    if (r != NULL)
        *r = ls;
    return 0;
}

int net_listen(net_loop *l, const net_listen_opts *o, net_listener **r)
{
    return net_listen_internal(l, o, false, r);
}

unsigned net_listener_port(const net_listener *ls)
{
    return ls->port;
}

static void listener_resume(net_loop *l, void *arg)
{
    net_listener *ls = arg;
    if (ls->fd < 0 || !ls->paused)
        return;
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = ls};
    if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, ls->fd, &ev) == 0)
        ls->paused = false;
    else
        net_timer_arm(&ls->retry, net_now_ms() + NET_ACCEPT_BACKOFF_MS);
}

/* Out of descriptors: a level-triggered listener would wake the loop at once
 * again, so it leaves epoll for a moment. */
static void listener_pause(net_listener *ls)
{
    net_loop *l = ls->loop;
    log_warn(NULL, "net: accept on %s: %s; pausing %d ms", ls->addr, strerror(errno),
             NET_ACCEPT_BACKOFF_MS);
    epoll_ctl(l->epfd, EPOLL_CTL_DEL, ls->fd, NULL);
    ls->paused = true;
    ls->retry.fn = listener_resume;
    net_timer_arm(&ls->retry, net_now_ms() + NET_ACCEPT_BACKOFF_MS);
}

static void accept_one(net_listener *ls, int fd, const struct sockaddr_storage *ss)
{
    net_loop *l = ls->loop;
    if (ls->metrics) {
        if (l->nmetrics_conns >= NET_METRICS_CONNS_MAX) {
            close(fd);
            return;
        }
    } else if (l->nconns - l->nmetrics_conns >= (size_t)l->limits.max_conns + NET_REFUSE_SLOTS) {
        /* Even the refusals are too many: do not spend memory saying why. */
        net_metric_add(l->m_refused, 1);
        close(fd);
        return;
    }
    net_conn *c = net_conn_new(l, fd, ls, ss);
    if (c == NULL) {
        log_error(NULL, "net: no memory for a connection on %s", ls->addr);
        close(fd);
        return;
    }
    if (ls->metrics)
        return;
    net_metric_add(l->m_conns_total, 1);
    net_refusal why;
    if (net_limits_admit(l, c, &why) < 0) {
        c->refused = true;
        c->refuse_why = why;
        log_info(c->session, "net: refused %s port %u on %s: %s", c->peer, c->peer_port, ls->addr,
                 why == NET_REFUSE_PER_IP ? "too many connections from this address"
                                          : "too many connections");
        return;
    }
    log_info(c->session, "net: connection from %s port %u on %s", c->peer, c->peer_port, ls->addr);
}

void net_listener_event(net_listener *ls)
{
    for (int i = 0; i < NET_ACCEPT_BATCH && ls->fd >= 0 && !ls->paused; i++) {
        struct sockaddr_storage ss;
        socklen_t sl = sizeof(ss);
        int fd = accept4(ls->fd, (struct sockaddr *)&ss, &sl, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd >= 0) {
            /* The loop writes a whole response per event; Nagle would only
             * hold its last segment for the client's delayed ACK (40 ms per
             * round trip of an APPEND or a pipelined exchange). */
            int one = 1;
            setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
            accept_one(ls, fd, &ss);
            continue;
        }
        if (errno == EAGAIN || errno == EWOULDBLOCK)
            return;
        if (errno == EINTR || errno == ECONNABORTED || errno == EPROTO)
            continue;
        if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
            listener_pause(ls);
            return;
        }
        log_error(NULL, "net: accept on %s failed: %s", ls->addr, strerror(errno));
        return;
    }
}

void net_listeners_close(net_loop *l)
{
    for (net_listener *ls = l->listeners; ls != NULL; ls = ls->next) {
        if (ls->fd < 0)
            continue;
        net_timer_disarm(&ls->retry);
        if (!ls->paused)
            epoll_ctl(l->epfd, EPOLL_CTL_DEL, ls->fd, NULL);
        close(ls->fd);
        ls->fd = -1;
        log_info(NULL, "net: stopped listening on %s", ls->addr);
    }
}

void net_listeners_free(net_loop *l)
{
    net_listeners_close(l);
    while (l->listeners != NULL) {
        net_listener *ls = l->listeners;
        l->listeners = ls->next;
        free(ls);
    }
}
