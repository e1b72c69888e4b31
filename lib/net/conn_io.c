/* conn_io: moving bytes between a conn's buffers and its socket, in plain
 * text or through OpenSSL, through the DEFLATE layer when compressed
 * (compress.c), and the TLS handshake.
 *
 * Non-blocking OpenSSL: an SSL_read may need the socket writable and an
 * SSL_write may need it readable (SSL_ERROR_WANT_WRITE / _WANT_READ); the
 * operation is then retried, with the same or a longer buffer, when that
 * readiness comes (SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER allows the output
 * buffer to move meanwhile). Level-triggered epoll: bytes left in the kernel
 * wake the loop again; bytes left inside the SSL object do not, so
 * read_again asks for another read once there is room. */
#include "net_internal.h"

#include "log.h"

#include <errno.h>
#include <limits.h>
#include <openssl/err.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#define NET_BUF_KEEP (4 * NET_READ_CHUNK) /* an empty buffer bigger than this is freed */

bool net_conn_may_read(const net_conn *c)
{
    if (c->fd < 0 || c->closing || c->throttled ||
        (c->tls_state != NET_TLS_NONE && c->tls_state != NET_TLS_ON) ||
        c->in.len - c->in_pos >= c->in.max)
        return false;
    /* After the end of input the inflater may still hold some. */
    return !c->eof || (c->z != NULL && net_z_in_pending(c->z));
}

bool net_conn_has_output(const net_conn *c)
{
    if (c->out.len > c->out_pos)
        return true;
    return c->z != NULL && (c->z->zout_pos < c->z->zout_len || c->z->def_more);
}

uint32_t net_conn_interest(const net_conn *c)
{
    if (c->tls_state == NET_TLS_HANDSHAKE)
        return c->hs_want_write ? EPOLLOUT : EPOLLIN;
    if (c->tls_state == NET_TLS_STARTING)
        return c->out_plain > 0 ? EPOLLOUT : 0;
    uint32_t ev = 0;
    bool out = net_conn_has_output(c);
    if ((net_conn_may_read(c) && !c->eof) || c->ssl_write_wants_read)
        ev |= EPOLLIN;
    if ((out && !c->ssl_write_wants_read) || c->ssl_read_wants_write)
        ev |= EPOLLOUT;
    return ev;
}

static void in_compact(net_conn *c)
{
    if (c->in_pos == 0)
        return;
    size_t rest = c->in.len - c->in_pos;
    if (rest == 0 && c->in.cap > NET_BUF_KEEP) {
        buf_free(&c->in);
    } else {
        memmove(c->in.data, c->in.data + c->in_pos, rest);
        c->in.len = rest;
        c->in.data[rest] = '\0';
    }
    c->in_pos = 0;
}

static void conn_take_input(net_conn *c, const char *data, size_t n)
{
    if (c->skipping) { /* the rest of a line over the cap */
        const char *lf = memchr(data, '\n', n);
        if (lf == NULL)
            return;
        size_t k = (size_t)(lf - data) + 1;
        data += k;
        n -= k;
        c->skipping = false;
    }
    if (n == 0)
        return;
    if (buf_append(&c->in, data, n) < 0) { /* room was checked: out of memory */
        c->in.failed = false;
        log_error(c->session, "net: out of memory for input");
        net_conn_abort_why(c, NET_CLOSE_ERROR);
        return;
    }
    c->want_data = true;
}

/* One read: > 0 bytes, 0 stop (would block, end of input, or failed). */
static ssize_t conn_read_some(net_conn *c, char *chunk, size_t want)
{
    if (c->ssl == NULL) {
        for (;;) {
            ssize_t n = recv(c->fd, chunk, want, 0);
            if (n > 0)
                return n;
            if (n == 0) {
                c->eof = true;
                return 0;
            }
            if (errno == EINTR)
                continue;
            if (errno != EAGAIN && errno != EWOULDBLOCK) {
                log_info(c->session, "net: read failed: %s", strerror(errno));
                net_conn_abort_why(c, NET_CLOSE_ERROR);
            }
            return 0;
        }
    }
    ERR_clear_error();
    int r = SSL_read(c->ssl, chunk, (int)want);
    c->ssl_read_wants_write = false;
    if (r > 0)
        return r;
    switch (SSL_get_error(c->ssl, r)) {
    case SSL_ERROR_WANT_READ:
        return 0;
    case SSL_ERROR_WANT_WRITE:
        c->ssl_read_wants_write = true;
        return 0;
    case SSL_ERROR_ZERO_RETURN: /* close_notify, or EOF (SSL_OP_IGNORE_UNEXPECTED_EOF) */
        c->eof = true;
        return 0;
    default:
        net_tls_log_errors(c->session, "TLS read");
        net_conn_abort_why(c, NET_CLOSE_ERROR);
        return 0;
    }
}

/* One round through the inflater: compressed bytes from the socket when it
 * has none left, then one inflate step of at most want bytes into c->in.
 * False when there was nothing to do (would block, end of input, failed). */
static bool conn_inflate_round(net_conn *c, char *chunk, size_t want)
{
    net_z *z = c->z;
    if (!net_z_in_pending(z)) {
        if (c->eof)
            return false;
        ssize_t n = conn_read_some(c, (char *)z->zin, z->zin_cap);
        if (n <= 0)
            return false;
        c->last_io = c->loop->now;
        z->zin_pos = 0;
        z->zin_len = (size_t)n;
    }
    size_t got;
    int r = net_z_inflate(c, chunk, want, &got);
    if (got > 0)
        conn_take_input(c, chunk, got);
    return r > 0;
}

void net_conn_do_read(net_conn *c)
{
    char chunk[NET_READ_CHUNK];
    for (int round = 0; round < NET_READ_ROUNDS && net_conn_may_read(c); round++) {
        in_compact(c);
        size_t room = c->in.max - c->in.len;
        size_t want = room < sizeof(chunk) ? room : sizeof(chunk);
        if (c->z != NULL) {
            if (!conn_inflate_round(c, chunk, want))
                break;
            continue;
        }
        ssize_t n = conn_read_some(c, chunk, want);
        if (n <= 0)
            break;
        c->last_io = c->loop->now;
        conn_take_input(c, chunk, (size_t)n);
        if (c->ssl == NULL && (size_t)n < want)
            break; /* the socket is drained */
    }
    if (c->eof && c->in.len > c->in_pos)
        c->want_data = true;
    if (c->ssl != NULL && !c->eof && !c->aborted && SSL_has_pending(c->ssl))
        c->read_again = true;
    if (c->z != NULL && !c->aborted && net_z_in_pending(c->z))
        c->read_again = true; /* in no kernel buffer: epoll would not wake us */
}

/* One write: > 0 bytes sent, 0 stop (would block, nothing allowed, failed). */
static ssize_t conn_write_some(net_conn *c, const char *p, size_t pending)
{
    if (c->tls_state == NET_TLS_NONE || c->tls_state == NET_TLS_STARTING) {
        size_t want = c->tls_state == NET_TLS_STARTING ? c->out_plain : pending;
        while (want > 0) {
            ssize_t n = send(c->fd, p, want, MSG_NOSIGNAL);
            if (n >= 0)
                return n;
            if (errno == EINTR)
                continue;
            if (errno != EAGAIN && errno != EWOULDBLOCK) {
                log_info(c->session, "net: write failed: %s", strerror(errno));
                net_conn_abort_why(c, NET_CLOSE_ERROR);
            }
            return 0;
        }
        return 0;
    }
    if (c->tls_state != NET_TLS_ON)
        return 0; /* the handshake owns the socket */
    ERR_clear_error();
    int r = SSL_write(c->ssl, p, pending > INT_MAX ? INT_MAX : (int)pending);
    c->ssl_write_wants_read = false;
    if (r > 0)
        return r;
    switch (SSL_get_error(c->ssl, r)) {
    case SSL_ERROR_WANT_WRITE:
        return 0;
    case SSL_ERROR_WANT_READ:
        c->ssl_write_wants_read = true;
        return 0;
    default:
        net_tls_log_errors(c->session, "TLS write");
        net_conn_abort_why(c, NET_CLOSE_ERROR);
        return 0;
    }
}

/* Compressed: what zout holds, then the raw bytes from before
 * net_conn_compress, then c->out through deflate, one zout at a time. A
 * blocked SSL_write is retried with the same bytes: zout is not refilled
 * before it is sent. */
static void conn_flush_compressed(net_conn *c)
{
    net_z *z = c->z;
    while (c->fd >= 0 && !c->aborted) {
        ssize_t n;
        if (z->zout_pos < z->zout_len) {
            n = conn_write_some(c, (char *)z->zout + z->zout_pos, z->zout_len - z->zout_pos);
            if (n <= 0)
                return;
            z->zout_pos += (size_t)n;
        } else if (z->out_raw > 0) {
            n = conn_write_some(c, c->out.data + c->out_pos, z->out_raw);
            if (n <= 0)
                return;
            c->out_pos += (size_t)n;
            z->out_raw -= (size_t)n;
        } else {
            if (net_z_deflate(c) <= 0)
                return;
            continue;
        }
        c->last_io = c->loop->now;
    }
}

void net_conn_do_flush(net_conn *c)
{
    if (c->z != NULL)
        conn_flush_compressed(c);
    while (c->z == NULL && c->fd >= 0 && !c->aborted && c->out.len > c->out_pos) {
        ssize_t n = conn_write_some(c, c->out.data + c->out_pos, c->out.len - c->out_pos);
        if (n <= 0)
            break;
        c->out_pos += (size_t)n;
        if (c->tls_state == NET_TLS_STARTING)
            c->out_plain -= (size_t)n;
        c->last_io = c->loop->now;
    }
    if (c->out_pos > 0 && c->out_pos == c->out.len) {
        c->out_pos = 0;
        if (c->out.cap > NET_BUF_KEEP)
            buf_free(&c->out);
        else
            buf_reset(&c->out);
    }
}

void net_conn_tls_step(net_conn *c)
{
    net_loop *l = c->loop;
    if (c->tls_state == NET_TLS_STARTING) {
        if (c->out_plain > 0)
            return;
        c->ssl = net_tls_new_ssl(c->tls, c->fd);
        if (c->ssl == NULL) {
            net_metric_add(l->m_tls_failed, 1);
            net_conn_abort_why(c, NET_CLOSE_TLS_FAILED);
            return;
        }
        c->tls_state = NET_TLS_HANDSHAKE;
    }
    if (c->tls_state != NET_TLS_HANDSHAKE)
        return;
    ERR_clear_error();
    int r = SSL_do_handshake(c->ssl);
    c->hs_want_write = false;
    if (r == 1) {
        c->tls_state = NET_TLS_ON;
        c->last_io = l->now;
        c->read_again = true; /* the client may have sent a request with its Finished */
        net_metric_add(l->m_tls_total, 1);
        log_info(c->session, "net: TLS established: %s %s", SSL_get_version(c->ssl),
                 SSL_get_cipher_name(c->ssl));
        return;
    }
    switch (SSL_get_error(c->ssl, r)) {
    case SSL_ERROR_WANT_READ:
        return;
    case SSL_ERROR_WANT_WRITE:
        c->hs_want_write = true;
        return;
    default:
        net_metric_add(l->m_tls_failed, 1);
        net_tls_log_errors(c->session, "TLS handshake");
        net_conn_abort_why(c, NET_CLOSE_TLS_FAILED);
        return;
    }
}

/* Takes what the client sent and we will never read, so that close(2) does
 * not answer it with a reset that could destroy our last line in transit
 * (RFC 9293 section 3.6: a close with unread data may send RST). */
static void drain_unread(int fd)
{
    char sink[4096];
    for (int i = 0; i < 16; i++) {
        if (recv(fd, sink, sizeof(sink), MSG_DONTWAIT) <= 0)
            break;
    }
}

void net_conn_close_fd(net_conn *c)
{
    if (c->fd < 0)
        return;
    net_loop *l = c->loop;
    net_timer_disarm(&c->timer);
    epoll_ctl(l->epfd, EPOLL_CTL_DEL, c->fd, NULL);
    c->ev_mask = 0;
    if (c->ssl != NULL) {
        if (c->tls_state == NET_TLS_ON && c->reason != NET_CLOSE_ERROR) {
            ERR_clear_error();
            SSL_shutdown(c->ssl); /* close_notify, best effort: never wait for the reply */
        }
        SSL_free(c->ssl);
        c->ssl = NULL;
        ERR_clear_error();
    }
    net_z_free(&c->z);
    if (c->reason != NET_CLOSE_ERROR)
        drain_unread(c->fd);
    net_limits_release(l, c);
    close(c->fd);
    c->fd = -1;
    buf_free(&c->in);
    c->in_pos = 0;
    buf_free(&c->out);
    c->out_pos = 0;
}
