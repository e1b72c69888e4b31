/* The line-echo protocol, the client thread and certificates for the lib/net
 * tests (see test_net_support.h). */
#include "test_net_support.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

/* ---- the echo protocol -----------------------------------------------------
 * Greets "+OK ready <session>". Each line is recorded and answered:
 *   QUIT        "+OK bye", close
 *   STARTTLS    "220 go ahead", then TLS ("-ERR tls" if it cannot)
 *   JOB         pause, pool job; its done says "+OK job", resume
 *   GATEDJOB    session timeout GATED_IDLE_MS after accept, "+OK queued"; a
 *               pool job that waits for s->job_gate (posted by on_timeout)
 *   SLOWJOB     idle timeout GATED_IDLE_MS, pause, a pool job that sleeps
 *               3 * GATED_IDLE_MS; its done says "+OK slow", resume (the
 *               idle timeout does not run while a job is in flight)
 *   FLOOD n     n bytes of output at once, then CRLF
 *   RAW n       the next n bytes taken raw: "+OK raw <sum of bytes>"
 *   UPTO c      bytes up to and including the first c, found with
 *               net_conn_peek and taken with net_conn_consume: "+OK upto <n>"
 *   BEGIN, END  a transaction: a shutdown waits for END
 *   other       "> line" (or "LF> line" after a bare LF)
 * A line over ECHO_LINE_MAX is answered "-ERR line too long" and skipped. */

typedef struct echo_conn {
    echo_server *srv;
    bool in_tx;
    size_t raw_left;
    unsigned long raw_sum;
    char upto; /* UPTO c: bytes are peeked and consumed through c */
    unsigned long upto_n;
} echo_conn;

static void record(echo_server *s, const char *event)
{
    if (s->nevents < ECHO_RECORDS)
        snprintf(s->events[s->nevents++], sizeof(s->events[0]), "%s", event);
}

bool echo_has_event(const echo_server *s, const char *event)
{
    return echo_event_index(s, event) >= 0;
}

int echo_event_index(const echo_server *s, const char *event)
{
    for (int i = 0; i < s->nevents; i++) {
        if (strcmp(s->events[i], event) == 0)
            return i;
    }
    return -1;
}

bool echo_has_command(const echo_server *s, const char *needle)
{
    for (int i = 0; i < s->ncommands; i++) {
        if (strstr(s->commands[i], needle) != NULL)
            return true;
    }
    return false;
}

static void echo_open(net_conn *c)
{
    echo_server *s = net_conn_ctx(c);
    echo_conn *ec = calloc(1, sizeof(*ec));
    if (ec == NULL) {
        net_conn_abort(c);
        return;
    }
    ec->srv = s;
    net_conn_set_data(c, ec);
    if (s->nsessions < ECHO_RECORDS)
        snprintf(s->sessions[s->nsessions++], NET_SESSION_ID_LEN + 1, "%s", net_conn_session(c));
    snprintf(s->last_peer, sizeof(s->last_peer), "%s", net_conn_peer(c));
    if (s->small_sndbuf) {
        int sz = 4096;
        setsockopt(net_conn_fd(c), SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
    }
    s->tls_open = net_conn_is_tls(c);
    if (s->tls_open) {
        snprintf(s->tls_version, sizeof(s->tls_version), "%s", net_conn_tls_version(c));
        snprintf(s->tls_cipher, sizeof(s->tls_cipher), "%s", net_conn_tls_cipher(c));
        s->tls_bits = net_conn_tls_bits(c);
    }
    net_conn_printf(c, "+OK ready %s\r\n", net_conn_session(c));
}

static void job_work(void *arg)
{
    echo_server *s = arg;
    s->job_work_off_loop = !pthread_equal(pthread_self(), s->loop_thread);
}

static void job_done(net_conn *c, void *arg)
{
    echo_server *s = arg;
    s->job_done_on_loop = pthread_equal(pthread_self(), s->loop_thread);
    record(s, "job done");
    net_conn_printf(c, "+OK job\r\n");
    net_conn_resume(c);
}

static void gated_work(void *arg)
{
    echo_server *s = arg;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += TC_TIMEOUT_S; /* a hang guard only */
    sem_timedwait(&s->job_gate, &ts);
}

static void gated_done(net_conn *c, void *arg)
{
    echo_server *s = arg;
    /* The conn was closed while the job ran, yet it is still here. */
    record(s, net_conn_closing(c) ? "gated done closing" : "gated done open");
    record(s, net_conn_session(c)[0] != '\0' ? "gated conn valid" : "gated conn bad");
}

static void slow_work(void *arg)
{
    (void)arg;
    usleep(3 * GATED_IDLE_MS * 1000);
}

static void slow_done(net_conn *c, void *arg)
{
    (void)arg;
    net_conn_printf(c, "+OK slow\r\n");
    net_conn_resume(c);
}

static void echo_command(net_conn *c, echo_conn *ec, const net_line *line)
{
    echo_server *s = ec->srv;
    const char *l = line->data;
    if (s->ncommands < ECHO_RECORDS)
        snprintf(s->commands[s->ncommands++], sizeof(s->commands[0]), "%s%s",
                 net_conn_is_tls(c) ? "tls:" : "", l);
    if (strcmp(l, "QUIT") == 0) {
        net_conn_printf(c, "+OK bye\r\n");
        net_conn_close(c);
    } else if (strcmp(l, "STARTTLS") == 0) {
        net_conn_printf(c, "220 go ahead\r\n");
        if (net_conn_starttls(c) < 0)
            net_conn_printf(c, "-ERR tls\r\n");
    } else if (strcmp(l, "JOB") == 0) {
        net_conn_pause(c);
        if (net_conn_submit(c, job_work, job_done, s) < 0) {
            net_conn_printf(c, "-ERR busy\r\n");
            net_conn_resume(c);
        }
    } else if (strcmp(l, "GATEDJOB") == 0) {
        /* The session timeout: the idle one does not run during a job. */
        net_conn_set_timeouts(c, 0, GATED_IDLE_MS);
        if (net_conn_submit(c, gated_work, gated_done, s) == 0)
            net_conn_printf(c, "+OK queued\r\n");
    } else if (strcmp(l, "SLOWJOB") == 0) {
        net_conn_set_timeouts(c, GATED_IDLE_MS, 0);
        net_conn_pause(c);
        if (net_conn_submit(c, slow_work, slow_done, s) < 0) {
            net_conn_printf(c, "-ERR busy\r\n");
            net_conn_resume(c);
        }
    } else if (strncmp(l, "FLOOD ", 6) == 0) {
        size_t n = strtoul(l + 6, NULL, 10);
        char chunk[4096];
        for (size_t i = 0; i < sizeof(chunk); i++)
            chunk[i] = (char)('a' + i % 26);
        for (size_t done = 0; done < n;) {
            size_t k = n - done < sizeof(chunk) ? n - done : sizeof(chunk);
            if (net_conn_write(c, chunk, k) < 0) {
                record(s, "flood capped");
                break;
            }
            done += k;
        }
        net_conn_printf(c, "\r\n");
    } else if (strncmp(l, "UPTO ", 5) == 0 && l[5] != '\0') {
        ec->upto = l[5];
        ec->upto_n = 0;
    } else if (strncmp(l, "RAW ", 4) == 0) {
        ec->raw_left = strtoul(l + 4, NULL, 10);
        ec->raw_sum = 0;
    } else if (strcmp(l, "BEGIN") == 0) {
        ec->in_tx = true;
        net_conn_printf(c, "+OK begun\r\n");
    } else if (strcmp(l, "END") == 0) {
        ec->in_tx = false;
        net_conn_printf(c, "+OK done\r\n");
        if (net_loop_shutting_down(net_conn_loop(c)))
            net_conn_close(c);
    } else {
        net_conn_printf(c, "%s %s\r\n", line->bare_lf ? "LF>" : ">", l);
    }
}

static void echo_data(net_conn *c)
{
    echo_conn *ec = net_conn_data(c);
    echo_server *s = ec->srv;
    for (;;) {
        if (ec->upto != 0) {
            const char *p;
            size_t n = net_conn_peek(c, &p);
            if (n == 0)
                return;
            const char *hit = memchr(p, ec->upto, n);
            size_t take = hit != NULL ? (size_t)(hit - p) + 1 : n;
            net_conn_consume(c, take);
            ec->upto_n += take;
            if (hit == NULL)
                return;
            ec->upto = 0;
            net_conn_printf(c, "+OK upto %lu\r\n", ec->upto_n);
            continue;
        }
        if (ec->raw_left > 0) {
            const char *p;
            size_t n = net_conn_read(c, ec->raw_left, &p);
            if (n == 0)
                return;
            for (size_t i = 0; i < n; i++)
                ec->raw_sum += (unsigned char)p[i];
            ec->raw_left -= n;
            if (ec->raw_left == 0)
                net_conn_printf(c, "+OK raw %lu\r\n", ec->raw_sum);
            continue;
        }
        net_line line;
        int r = net_conn_read_line(c, ECHO_LINE_MAX, &line);
        if (r == 0)
            return;
        if (r < 0) {
            s->too_long++;
            net_conn_printf(c, "-ERR line too long\r\n");
            net_conn_skip_line(c);
            continue;
        }
        if (net_conn_out_pending(c) > s->max_out_at_line)
            s->max_out_at_line = net_conn_out_pending(c);
        /* After STARTTLS or a close, the next read returns 0 by itself. */
        echo_command(c, ec, &line);
    }
}

static void echo_refuse(net_conn *c, net_refusal why)
{
    echo_server *s = net_conn_ctx(c);
    if (s->nrefusals < ECHO_RECORDS)
        s->refusals[s->nrefusals++] = why;
    net_conn_printf(c, "421 4.7.0 too many connections\r\n");
}

static void echo_timeout(net_conn *c, net_timeout_kind kind)
{
    echo_conn *ec = net_conn_data(c);
    record(ec->srv, kind == NET_TIMEOUT_IDLE ? "idle timeout" : "session timeout");
    net_conn_printf(c, "421 4.4.2 %s timeout\r\n", kind == NET_TIMEOUT_IDLE ? "idle" : "session");
    sem_post(&ec->srv->job_gate); /* a gated job may now finish */
}

static void echo_shutdown(net_conn *c)
{
    echo_conn *ec = net_conn_data(c);
    if (ec->in_tx) {
        record(ec->srv, "shutdown waits for END");
        return;
    }
    net_conn_printf(c, "421 shutting down\r\n");
    net_conn_close(c);
}

static void echo_writable(net_conn *c)
{
    echo_server *s = net_conn_ctx(c);
    s->writable_calls++;
}

static void echo_close(net_conn *c, net_close_reason why)
{
    echo_server *s = net_conn_ctx(c);
    if (s->nreasons < ECHO_RECORDS)
        s->reasons[s->nreasons++] = why;
    record(s, "close");
    free(net_conn_data(c));
}

static const net_handler echo_handler = {
    .on_open = echo_open,
    .on_data = echo_data,
    .on_refuse = echo_refuse,
    .on_timeout = echo_timeout,
    .on_shutdown = echo_shutdown,
    .on_writable = echo_writable,
    .on_close = echo_close,
};

const net_handler *echo_handler_get(void)
{
    return &echo_handler;
}

int echo_server_start(echo_server *s, const net_limits *limits, const char *cert, const char *key)
{
    memset(s, 0, sizeof(*s));
    s->loop_thread = pthread_self();
    sem_init(&s->job_gate, 0, 0);
    if (net_loop_new(limits, &s->loop) < 0)
        return -1;
    if (cert != NULL) {
        char err[NET_TLS_ERROR_MAX];
        if (net_tls_ctx_new(cert, key, &s->tls, err, sizeof(err)) < 0) {
            fprintf(stderr, "tls: %s\n", err);
            return -1;
        }
    }
    net_listen_opts o = {.addr = "127.0.0.1:0", .handler = &echo_handler, .ctx = s, .tls = s->tls};
    if (net_listen(s->loop, &o, &s->plain) < 0)
        return -1;
    if (s->tls != NULL) {
        o.implicit_tls = true;
        if (net_listen(s->loop, &o, &s->implicit) < 0)
            return -1;
    }
    return 0;
}

void echo_server_free(echo_server *s)
{
    net_loop_free(&s->loop);
    net_tls_ctx_free(&s->tls);
    sem_destroy(&s->job_gate);
}

/* ---- the harness ------------------------------------------------------------ */

void harness_fail(harness *h, int line, const char *what)
{
    if (h->fail_line == 0) {
        h->fail_line = line;
        snprintf(h->fail_msg, sizeof(h->fail_msg), "%s", what);
    }
}

static void *client_main(void *arg)
{
    harness *h = arg;
    h->client(h);
    uint64_t one = 1;
    if (write(h->efd, &one, sizeof(one)) < 0)
        harness_fail(h, __LINE__, "eventfd write");
    return NULL;
}

static void client_finished(net_watch *w, int fd, unsigned revents, void *arg)
{
    (void)revents;
    harness *h = arg;
    uint64_t n;
    if (read(fd, &n, sizeof(n)) < 0)
        return;
    net_watch_remove(&w);
    h->watch = NULL;
    net_loop_shutdown(h->srv->loop);
}

static void safety_fired(net_loop *l, void *arg)
{
    harness *h = arg;
    h->safety_fired = true;
    net_loop_shutdown(l);
}

void harness_run(harness *h, echo_server *s, client_fn fn, void *arg)
{
    h->srv = s;
    h->client = fn;
    h->arg = arg;
    h->port = net_listener_port(s->plain);
    h->tls_port = s->implicit != NULL ? net_listener_port(s->implicit) : 0;
    h->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    h->watch = net_watch_add(s->loop, h->efd, NET_EV_READ, client_finished, h);
    net_timer *safety = net_timer_add(s->loop, HARNESS_SAFETY_MS, safety_fired, h);
    if (pthread_create(&h->thread, NULL, client_main, h) != 0) {
        harness_fail(h, __LINE__, "pthread_create");
        return;
    }
    if (net_loop_run(s->loop) < 0)
        harness_fail(h, __LINE__, "net_loop_run failed");
    pthread_join(h->thread, NULL);
    if (!h->safety_fired)
        net_timer_cancel(&safety);
    net_watch_remove(&h->watch);
    close(h->efd);
}

/* ---- the client ------------------------------------------------------------- */

int tc_connect(tclient *t, unsigned port)
{
    return tc_connect_rcvbuf(t, port, 0);
}

int tc_connect_rcvbuf(tclient *t, unsigned port, int rcvbuf)
{
    memset(t, 0, sizeof(*t));
    t->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (t->fd < 0)
        return -1;
    if (rcvbuf > 0)
        setsockopt(t->fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
    struct timeval tv = {.tv_sec = TC_TIMEOUT_S};
    setsockopt(t->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    setsockopt(t->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(t->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
        int e = errno;
        close(t->fd);
        t->fd = -1;
        errno = e;
        return -1;
    }
    return 0;
}

int tc_connect6(tclient *t, unsigned port)
{
    memset(t, 0, sizeof(*t));
    t->fd = socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (t->fd < 0)
        return -1;
    struct timeval tv = {.tv_sec = TC_TIMEOUT_S};
    setsockopt(t->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    struct sockaddr_in6 sa = {.sin6_family = AF_INET6, .sin6_port = htons((uint16_t)port)};
    sa.sin6_addr = in6addr_loopback;
    if (connect(t->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
        close(t->fd);
        t->fd = -1;
        return -1;
    }
    return 0;
}

int tc_starttls(tclient *t, int min_version, int max_version)
{
    t->ctx = SSL_CTX_new(TLS_client_method());
    if (t->ctx == NULL)
        return -1;
    SSL_CTX_set_verify(t->ctx, SSL_VERIFY_NONE, NULL); /* the tests read the CN instead */
    if (min_version != 0) {
        /* TLS 1.0 and 1.1 need security level 0 in OpenSSL 3 even to be offered. */
        SSL_CTX_set_security_level(t->ctx, 0);
        SSL_CTX_set_cipher_list(t->ctx, "DEFAULT:@SECLEVEL=0");
        SSL_CTX_set_min_proto_version(t->ctx, min_version);
    }
    if (max_version != 0)
        SSL_CTX_set_max_proto_version(t->ctx, max_version);
    t->ssl = SSL_new(t->ctx);
    if (t->ssl == NULL || SSL_set_fd(t->ssl, t->fd) != 1)
        return -1;
    ERR_clear_error();
    if (SSL_connect(t->ssl) != 1) {
        ERR_clear_error();
        return -1;
    }
    return 0;
}

int tc_send_bytes(tclient *t, const void *p, size_t n)
{
    const char *c = p;
    while (n > 0) {
        ssize_t w = t->ssl != NULL ? SSL_write(t->ssl, c, (int)n) : send(t->fd, c, n, MSG_NOSIGNAL);
        if (w <= 0)
            return -1;
        c += w;
        n -= (size_t)w;
    }
    return 0;
}

int tc_send(tclient *t, const char *s)
{
    return tc_send_bytes(t, s, strlen(s));
}

static int tc_fill(tclient *t)
{
    if (t->len == sizeof(t->buf))
        return -1;
    ssize_t n = t->ssl != NULL ? SSL_read(t->ssl, t->buf + t->len, (int)(sizeof(t->buf) - t->len))
                               : recv(t->fd, t->buf + t->len, sizeof(t->buf) - t->len, 0);
    if (n <= 0)
        return -1;
    t->len += (size_t)n;
    return 0;
}

int tc_line(tclient *t, char *out, size_t outlen)
{
    for (;;) {
        char *lf = memchr(t->buf, '\n', t->len);
        if (lf != NULL) {
            size_t n = (size_t)(lf - t->buf) + 1;
            size_t l = n - 1;
            if (l > 0 && t->buf[l - 1] == '\r')
                l--;
            if (l >= outlen)
                l = outlen - 1;
            memcpy(out, t->buf, l);
            out[l] = '\0';
            memmove(t->buf, t->buf + n, t->len - n);
            t->len -= n;
            return (int)l;
        }
        if (tc_fill(t) < 0)
            return -1;
    }
}

int tc_read_exact(tclient *t, char *out, size_t n)
{
    while (n > 0) {
        if (t->len == 0 && tc_fill(t) < 0)
            return -1;
        size_t k = t->len < n ? t->len : n;
        memcpy(out, t->buf, k);
        memmove(t->buf, t->buf + k, t->len - k);
        t->len -= k;
        out += k;
        n -= k;
    }
    return 0;
}

int tc_read_all(tclient *t, char *out, size_t outlen)
{
    while (tc_fill(t) == 0)
        ;
    size_t n = t->len < outlen - 1 ? t->len : outlen - 1;
    memcpy(out, t->buf, n);
    out[n] = '\0';
    t->len = 0;
    return (int)n;
}

bool tc_eof(tclient *t)
{
    if (t->len > 0)
        return false;
    char ch;
    ssize_t n = t->ssl != NULL ? SSL_read(t->ssl, &ch, 1) : recv(t->fd, &ch, 1, 0);
    if (n > 0)
        return false;
    if (t->ssl != NULL) {
        int e = SSL_get_error(t->ssl, (int)n);
        ERR_clear_error();
        return e == SSL_ERROR_ZERO_RETURN || e == SSL_ERROR_SYSCALL || e == SSL_ERROR_SSL;
    }
    return n == 0 || errno == ECONNRESET;
}

int tc_peer_cn(tclient *t, char *out, size_t outlen)
{
    X509 *cert = SSL_get1_peer_certificate(t->ssl);
    if (cert == NULL)
        return -1;
    int n =
        X509_NAME_get_text_by_NID(X509_get_subject_name(cert), NID_commonName, out, (int)outlen);
    X509_free(cert);
    return n < 0 ? -1 : 0;
}

bool line_is(tclient *t, const char *want)
{
    char line[512];
    return tc_line(t, line, sizeof(line)) >= 0 && strcmp(line, want) == 0;
}

bool greeted(tclient *t)
{
    char line[512];
    return tc_line(t, line, sizeof(line)) > 0 && strncmp(line, "+OK ready ", 10) == 0;
}

void tc_close(tclient *t)
{
    if (t->ssl != NULL)
        SSL_free(t->ssl);
    if (t->ctx != NULL)
        SSL_CTX_free(t->ctx);
    if (t->fd >= 0)
        close(t->fd);
    t->ssl = NULL;
    t->ctx = NULL;
    t->fd = -1;
}

/* ---- certificates ------------------------------------------------------------ */

int make_cert(const char *cert_path, const char *key_path, const char *cn)
{
    int rc = -1;
    EVP_PKEY *key = EVP_EC_gen("P-256");
    X509 *x = X509_new();
    FILE *f = NULL;
    if (key == NULL || x == NULL)
        goto out;
    X509_set_version(x, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(x), (long)(getpid() & 0x7fffffff));
    X509_gmtime_adj(X509_getm_notBefore(x), -3600);
    X509_gmtime_adj(X509_getm_notAfter(x), 86400);
    X509_NAME *name = X509_get_subject_name(x);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0);
    X509_set_issuer_name(x, name);
    X509_set_pubkey(x, key);
    if (X509_sign(x, key, EVP_sha256()) == 0)
        goto out;
    f = fopen(cert_path, "w");
    if (f == NULL || PEM_write_X509(f, x) != 1)
        goto out;
    fclose(f);
    f = fopen(key_path, "w");
    if (f == NULL || PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL) != 1)
        goto out;
    rc = 0;
out:
    if (f != NULL)
        fclose(f);
    X509_free(x);
    EVP_PKEY_free(key);
    return rc;
}
