/* Shared by test_net.c and test_net_tls.c: a line-echo protocol served by
 * lib/net on 127.0.0.1, a blocking client that runs on a thread of its own,
 * and throwaway certificates.
 *
 * The loop runs on the test's main thread; the client function runs on a
 * second thread and may not use cmocka asserts (they longjmp), so it uses
 * CHECK, which records the first failure; the main thread asserts it after
 * joining. When the client function returns, an eventfd watched by the loop
 * starts net_loop_shutdown. */
#ifndef OWNMAIL_TEST_NET_SUPPORT_H
#define OWNMAIL_TEST_NET_SUPPORT_H

#include "net.h"

#include <openssl/ssl.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdbool.h>
#include <stddef.h>

#define ECHO_LINE_MAX 64        /* the echo protocol's line cap, CRLF included */
#define ECHO_RECORDS 64         /* lines, closes and events remembered */
#define TC_TIMEOUT_S 10         /* a client read or write that hangs this long fails */
#define HARNESS_SAFETY_MS 60000 /* the loop is stopped after this, as a failure */
#define GATED_IDLE_MS 200       /* idle timeout set by the GATEDJOB command */

typedef struct echo_server {
    net_loop *loop;
    net_listener *plain;    /* plaintext, STARTTLS if tls is set */
    net_listener *implicit; /* implicit TLS, if tls is set */
    net_tls_ctx *tls;
    pthread_t loop_thread;
    bool small_sndbuf; /* shrink SO_SNDBUF of each conn (backpressure test) */

    /* Written on the loop thread, read by the main thread after the run. */
    char commands[ECHO_RECORDS][ECHO_LINE_MAX + 8];
    int ncommands;
    char events[ECHO_RECORDS][48];
    int nevents;
    net_close_reason reasons[ECHO_RECORDS];
    int nreasons;
    char sessions[ECHO_RECORDS][NET_SESSION_ID_LEN + 1];
    int nsessions;
    net_refusal refusals[ECHO_RECORDS];
    int nrefusals;
    int too_long;
    int writable_calls;
    size_t max_out_at_line; /* unsent output when a line was handed out */
    bool job_work_off_loop; /* the work ran on another thread */
    bool job_done_on_loop;  /* the done function ran on the loop thread */
    sem_t job_gate;         /* "GATEDJOB" work waits for it */
    char last_peer[NET_ADDR_TEXT_MAX];
    bool tls_open; /* the last on_open saw a TLS conn */
    char tls_version[32];
    char tls_cipher[64];
    int tls_bits;
} echo_server;

/* Makes the loop, a plaintext listener on 127.0.0.1:0 and, when cert is not
 * NULL, a TLS context for STARTTLS and an implicit-TLS listener. 0 or -1. */
int echo_server_start(echo_server *s, const net_limits *limits, const char *cert, const char *key);
void echo_server_free(echo_server *s);
const net_handler *echo_handler_get(void); /* for more listeners; ctx = the server */
bool echo_has_event(const echo_server *s, const char *event);
int echo_event_index(const echo_server *s, const char *event);   /* -1 if absent */
bool echo_has_command(const echo_server *s, const char *needle); /* substring */

typedef struct harness harness;
typedef void (*client_fn)(harness *h);
struct harness {
    echo_server *srv;
    client_fn client;
    void *arg;
    unsigned port;     /* srv->plain's */
    unsigned tls_port; /* srv->implicit's, or 0 */
    int efd;
    net_watch *watch;
    pthread_t thread;
    int fail_line;
    char fail_msg[256];
    bool safety_fired;
};

/* Runs the loop until the client has finished and the shutdown completed. */
void harness_run(harness *h, echo_server *s, client_fn fn, void *arg);
void harness_fail(harness *h, int line, const char *what);

#define CHECK(h, cond)                                                                             \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            harness_fail((h), __LINE__, #cond);                                                    \
            return;                                                                                \
        }                                                                                          \
    } while (0)

/* A blocking client with a read buffer; ssl set after tc_starttls. */
typedef struct tclient {
    int fd;
    SSL_CTX *ctx;
    SSL *ssl;
    char buf[16384];
    size_t len;
} tclient;

int tc_connect(tclient *t, unsigned port); /* 0, or -1 with errno */
/* The same with SO_RCVBUF set to rcvbuf before connecting (0: default). */
int tc_connect_rcvbuf(tclient *t, unsigned port, int rcvbuf);
/* The same to [::1]. */
int tc_connect6(tclient *t, unsigned port);
/* TLS over the connection; max_version 0 = any. 0 or -1 (handshake failed). */
int tc_starttls(tclient *t, int min_version, int max_version);
int tc_send(tclient *t, const char *s);
int tc_send_bytes(tclient *t, const void *p, size_t n);
/* Next line without its CRLF into out; its length, or -1 on EOF, error or
 * timeout. */
int tc_line(tclient *t, char *out, size_t outlen);
/* Exactly n bytes; 0 or -1. */
int tc_read_exact(tclient *t, char *out, size_t n);
/* Everything until the server closes, NUL-terminated; the length or -1. */
int tc_read_all(tclient *t, char *out, size_t outlen);
/* True if the server closed without sending anything more. */
bool tc_eof(tclient *t);
/* The subject CN of the server's certificate into out; 0 or -1. */
int tc_peer_cn(tclient *t, char *out, size_t outlen);
void tc_close(tclient *t);

/* The next line is exactly want / is the echo protocol's greeting. */
bool line_is(tclient *t, const char *want);
bool greeted(tclient *t);

/* In a test, after harness_run (needs cmocka.h): the client's checks passed. */
#define ASSERT_CLIENT_OK(h)                                                                        \
    do {                                                                                           \
        if ((h).fail_line != 0)                                                                    \
            fail_msg("client check failed at line %d: %s", (h).fail_line, (h).fail_msg);           \
        assert_false((h).safety_fired);                                                            \
    } while (0)

/* Writes a self-signed P-256 certificate for cn and its key as PEM. 0 or -1. */
int make_cert(const char *cert_path, const char *key_path, const char *cn);

#endif
