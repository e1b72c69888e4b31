/* One outgoing SMTP connection: a non-blocking socket driven with poll()
 * so every step has a deadline and a stop request (the worker's stop fd)
 * interrupts the wait; OpenSSL on top after STARTTLS. */
#include "queue_int.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define QUEUE_CONN_READ_CHUNK 4096
#define QUEUE_CONN_PEER_MAX (INET6_ADDRSTRLEN + 10)
#define QUEUE_CONN_TLS_DESC_MAX 160

struct queue_conn {
    int fd;
    int stop_fd;
    SSL *ssl;
    smtp_reply_parser parser;
    char in[QUEUE_CONN_READ_CHUNK];
    size_t in_off, in_len; /* unparsed octets in[in_off .. in_len) */
    char peer[QUEUE_CONN_PEER_MAX];
    char tls[QUEUE_CONN_TLS_DESC_MAX];
};

static long long conn_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Waits for events on c->fd until deadline (ms). QUEUE_IO_OK when ready. */
static int conn_wait(int fd, int stop_fd, short events, long long deadline, bool ignore_stop)
{
    for (;;) {
        long long left = deadline - conn_now_ms();
        if (left <= 0) {
            errno = ETIMEDOUT;
            return QUEUE_IO_FAIL;
        }
        struct pollfd p[2] = {{.fd = fd, .events = events}, {.fd = stop_fd, .events = POLLIN}};
        nfds_t np = stop_fd >= 0 && !ignore_stop ? 2 : 1;
        int n = poll(p, np, left > 1000000 ? 1000000 : (int)left);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return QUEUE_IO_FAIL;
        if (np == 2 && (p[1].revents & POLLIN))
            return QUEUE_IO_STOP;
        if (p[0].revents != 0)
            return QUEUE_IO_OK;
    }
}

int queue_conn_open(const struct sockaddr_storage *sa, long long timeout_s, int stop_fd,
                    queue_conn **c_r, char *err, size_t errlen)
{
    *c_r = NULL;
    queue_conn *c = calloc(1, sizeof(*c));
    if (c == NULL) {
        queue_err(err, errlen, "out of memory");
        return QUEUE_IO_FAIL;
    }
    c->stop_fd = stop_fd;
    smtp_reply_parser_init(&c->parser);
    snprintf(c->tls, sizeof(c->tls), "none");
    char ip[INET6_ADDRSTRLEN] = "?";
    socklen_t salen;
    unsigned port;
    if (sa->ss_family == AF_INET6) {
        const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)sa;
        inet_ntop(AF_INET6, &s6->sin6_addr, ip, sizeof(ip));
        port = ntohs(s6->sin6_port);
        salen = sizeof(*s6);
    } else {
        const struct sockaddr_in *s4 = (const struct sockaddr_in *)sa;
        inet_ntop(AF_INET, &s4->sin_addr, ip, sizeof(ip));
        port = ntohs(s4->sin_port);
        salen = sizeof(*s4);
    }
    snprintf(c->peer, sizeof(c->peer), "[%s]:%u", ip, port);
    c->fd = socket(sa->ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (c->fd < 0) {
        queue_err(err, errlen, "socket() failed: %s", strerror(errno));
        free(c);
        return QUEUE_IO_FAIL;
    }
    int rc = QUEUE_IO_OK;
    if (connect(c->fd, (const struct sockaddr *)sa, salen) < 0) {
        if (errno != EINPROGRESS) {
            rc = QUEUE_IO_FAIL;
        } else {
            rc = conn_wait(c->fd, stop_fd, POLLOUT, conn_now_ms() + timeout_s * 1000, false);
            int soerr = 0;
            socklen_t sl = sizeof(soerr);
            if (rc == QUEUE_IO_OK &&
                (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) < 0 || soerr != 0)) {
                errno = soerr;
                rc = QUEUE_IO_FAIL;
            }
        }
    }
    if (rc != QUEUE_IO_OK) {
        queue_err(err, errlen, "connect to %s failed: %s", c->peer,
                  rc == QUEUE_IO_STOP ? "stopping" : strerror(errno));
        close(c->fd);
        free(c);
        return rc;
    }
    *c_r = c;
    return QUEUE_IO_OK;
}

void queue_conn_close(queue_conn **c)
{
    if (c == NULL || *c == NULL)
        return;
    if ((*c)->ssl != NULL) {
        SSL_shutdown((*c)->ssl); /* best effort: non-blocking, no wait */
        SSL_free((*c)->ssl);
    }
    close((*c)->fd);
    free(*c);
    *c = NULL;
}

const char *queue_conn_peer(const queue_conn *c)
{
    return c->peer;
}

const char *queue_conn_tls(const queue_conn *c)
{
    return c->tls;
}

bool queue_conn_is_tls(const queue_conn *c)
{
    return c->ssl != NULL;
}

/* Maps an OpenSSL result to "wait for this" (POLLIN / POLLOUT) or 0 = fail. */
static short conn_ssl_want(SSL *ssl, int ret)
{
    switch (SSL_get_error(ssl, ret)) {
    case SSL_ERROR_WANT_READ:
        return POLLIN;
    case SSL_ERROR_WANT_WRITE:
        return POLLOUT;
    default:
        return 0;
    }
}

int queue_conn_send(queue_conn *c, const void *data, size_t len, long long timeout_s,
                    bool ignore_stop, char *err, size_t errlen)
{
    const unsigned char *p = data;
    long long deadline = conn_now_ms() + timeout_s * 1000;
    while (len > 0) {
        short want;
        if (c->ssl != NULL) {
            size_t done = 0;
            int ret = SSL_write_ex(c->ssl, p, len, &done);
            if (ret > 0) {
                p += done;
                len -= done;
                continue;
            }
            want = conn_ssl_want(c->ssl, ret);
            ERR_clear_error();
        } else {
            ssize_t n = send(c->fd, p, len, MSG_NOSIGNAL);
            if (n > 0) {
                p += n;
                len -= (size_t)n;
                continue;
            }
            want =
                n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) ? POLLOUT : 0;
        }
        int rc =
            want != 0 ? conn_wait(c->fd, c->stop_fd, want, deadline, ignore_stop) : QUEUE_IO_FAIL;
        if (rc != QUEUE_IO_OK) {
            queue_err(err, errlen, "write to %s failed: %s", c->peer,
                      rc == QUEUE_IO_STOP ? "stopping"
                      : want != 0         ? "timeout"
                                          : "connection lost");
            return rc;
        }
    }
    return QUEUE_IO_OK;
}

/* Reads what is available into c->in (which is empty). */
static int conn_fill(queue_conn *c, long long deadline, bool ignore_stop, char *err, size_t errlen)
{
    c->in_off = c->in_len = 0;
    for (;;) {
        short want;
        if (c->ssl != NULL) {
            size_t got = 0;
            int ret = SSL_read_ex(c->ssl, c->in, sizeof(c->in), &got);
            if (ret > 0) {
                c->in_len = got;
                return QUEUE_IO_OK;
            }
            want = conn_ssl_want(c->ssl, ret);
            ERR_clear_error();
        } else {
            ssize_t n = recv(c->fd, c->in, sizeof(c->in), 0);
            if (n > 0) {
                c->in_len = (size_t)n;
                return QUEUE_IO_OK;
            }
            want =
                n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) ? POLLIN : 0;
        }
        int rc =
            want != 0 ? conn_wait(c->fd, c->stop_fd, want, deadline, ignore_stop) : QUEUE_IO_FAIL;
        if (rc != QUEUE_IO_OK) {
            queue_err(err, errlen, "read from %s failed: %s", c->peer,
                      rc == QUEUE_IO_STOP ? "stopping"
                      : want != 0         ? "timeout"
                                          : "connection closed");
            return rc;
        }
    }
}

int queue_conn_reply(queue_conn *c, long long timeout_s, bool ignore_stop, smtp_reply *reply_r,
                     char *err, size_t errlen)
{
    long long deadline = conn_now_ms() + timeout_s * 1000;
    for (;;) {
        if (c->in_off < c->in_len) {
            size_t used = 0;
            const char *why = NULL;
            int rc = smtp_reply_parse(&c->parser, c->in + c->in_off, c->in_len - c->in_off, &used,
                                      reply_r, &why);
            c->in_off += used;
            if (rc == 1)
                return QUEUE_IO_OK;
            if (rc < 0) {
                queue_err(err, errlen, "bad reply from %s: %s", c->peer, why);
                return QUEUE_IO_FAIL;
            }
            continue;
        }
        int rc = conn_fill(c, deadline, ignore_stop, err, errlen);
        if (rc != QUEUE_IO_OK)
            return rc;
    }
}

int queue_conn_starttls(queue_conn *c, SSL_CTX *ctx, const char *host, bool verify,
                        long long timeout_s, char *err, size_t errlen)
{
    /* RFC 3207 4.2: anything the server sent before the handshake is
     * discarded (and a well-behaved server sent nothing). */
    c->in_off = c->in_len = 0;
    c->ssl = SSL_new(ctx);
    if (c->ssl == NULL || SSL_set_fd(c->ssl, c->fd) != 1) {
        queue_err(err, errlen, "TLS set-up failed");
        return QUEUE_IO_FAIL;
    }
    if (host != NULL && host[0] != '\0') {
        SSL_set_tlsext_host_name(c->ssl, host);
        SSL_set1_host(c->ssl, host); /* checked by the verification */
    }
    SSL_set_verify(c->ssl, verify ? SSL_VERIFY_PEER : SSL_VERIFY_NONE, NULL);
    long long deadline = conn_now_ms() + timeout_s * 1000;
    for (;;) {
        int ret = SSL_connect(c->ssl);
        if (ret == 1)
            break;
        short want = conn_ssl_want(c->ssl, ret);
        unsigned long e = ERR_peek_last_error();
        int rc = want != 0 ? conn_wait(c->fd, c->stop_fd, want, deadline, false) : QUEUE_IO_FAIL;
        if (rc != QUEUE_IO_OK) {
            char reason[120] = "timeout";
            if (want == 0)
                ERR_error_string_n(e, reason, sizeof(reason));
            if (rc == QUEUE_IO_STOP)
                snprintf(reason, sizeof(reason), "stopping");
            long vr = SSL_get_verify_result(c->ssl);
            queue_err(err, errlen, "TLS handshake with %s failed: %s%s%s", c->peer, reason,
                      vr != X509_V_OK ? ", certificate: " : "",
                      vr != X509_V_OK ? X509_verify_cert_error_string(vr) : "");
            ERR_clear_error();
            SSL_free(c->ssl);
            c->ssl = NULL;
            return rc;
        }
    }
    long vr = SSL_get_verify_result(c->ssl);
    snprintf(c->tls, sizeof(c->tls), "%s %s verify=%s", SSL_get_version(c->ssl),
             SSL_get_cipher_name(c->ssl),
             vr == X509_V_OK ? "ok" : X509_verify_cert_error_string(vr));
    return QUEUE_IO_OK;
}
