/* net_internal: the structures shared by the files of lib/net. Not for
 * protocol code: it includes net.h only. */
#ifndef OWNMAIL_NET_INTERNAL_H
#define OWNMAIL_NET_INTERNAL_H

#include "net.h"

#include <openssl/ssl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <zlib.h>

#define NET_TIMER_UNARMED ((size_t)-1)

/* What an epoll event's data.ptr points at: every such struct starts with one. */
typedef enum {
    NET_H_LISTENER,
    NET_H_CONN,
    NET_H_WATCH,
    NET_H_SIGNAL,
    NET_H_POOL,
} net_handle_kind;

typedef struct net_handle {
    net_handle_kind kind;
} net_handle;

struct net_timer {
    uint64_t due; /* net_loop_now() at which it fires */
    size_t idx;   /* position in the heap, NET_TIMER_UNARMED when not there */
    net_timer_fn fn;
    void *arg;
    bool owned; /* made by net_timer_add: freed once fired or cancelled */
    net_loop *loop;
};

struct net_watch {
    net_handle h;
    net_loop *loop;
    int fd;
    unsigned events;
    net_watch_fn fn;
    void *arg;
    bool dead; /* removed: freed at the end of the iteration */
    net_watch *next;
};

struct net_listener {
    net_handle h;
    net_loop *loop;
    int fd;
    unsigned port;
    char addr[NET_ADDR_TEXT_MAX];
    net_listen_opts opts;
    bool metrics;    /* the /metrics listener: own connection budget */
    bool paused;     /* out of descriptors: off epoll for a while */
    net_timer retry; /* re-arms after NET_ACCEPT_BACKOFF_MS */
    net_listener *next;
};

struct net_tls_ctx {
    SSL_CTX *ctx; /* replaced by a reload; SSL objects hold their own reference */
    char *cert_file;
    char *key_file;
};

typedef enum {
    NET_TLS_NONE,     /* plain */
    NET_TLS_STARTING, /* plaintext output still to send, then the handshake */
    NET_TLS_HANDSHAKE,
    NET_TLS_ON,
} net_tls_state;

/* RFC 4978 DEFLATE between a conn's plaintext buffers (in, out) and the
 * socket or TLS (net_conn_compress). Both fixed buffers are bounded: the
 * loop reads from the socket only when zin is empty and inflates only into
 * the free space of c->in; it deflates only when zout is empty. */
typedef struct net_z {
    z_stream def;   /* c->out -> zout */
    z_stream inf;   /* zin -> c->in */
    size_t mem;     /* bytes zlib holds for both streams (net_z_alloc) */
    size_t out_raw; /* bytes of c->out to send uncompressed first (the tagged OK) */
    bool def_more;  /* deflate filled zout: it may hold more output */
    bool inf_more;  /* inflate filled its output: it may hold more */
    bool inf_end;   /* the client ended its stream with a final block */
    size_t zout_pos, zout_len;
    unsigned char zout[NET_READ_CHUNK]; /* compressed output, sent up to zout_pos */
    size_t zin_pos, zin_len, zin_cap;
    unsigned char zin[]; /* compressed input (zin_cap bytes), inflated up to zin_pos */
} net_z;

struct net_conn {
    net_handle h;
    net_loop *loop;
    const net_handler *handler;
    void *ctx;
    void *data;
    net_tls_ctx *tls;
    bool metrics_conn; /* of the /metrics listener: no counters, no per-IP */
    int fd;
    char session[NET_SESSION_ID_LEN + 1];
    char peer[NET_ADDR_TEXT_MAX];
    unsigned peer_port;
    bool peer_loopback; /* 127.0.0.0/8, ::1, ::ffff:127.0.0.0/104 */
    unsigned char ip_key[16]; /* per-IP limit key: IPv4-mapped, IPv6 /64 */
    bool counted;             /* holds a max_conns slot and a per-IP count */

    buf in; /* input; consumed up to in_pos */
    size_t in_pos;
    buf out; /* output; sent up to out_pos */
    size_t out_pos;
    size_t out_plain; /* bytes to send in plaintext before STARTTLS begins */
    net_z *z;         /* net_conn_compress: NULL while uncompressed */

    SSL *ssl;
    net_tls_state tls_state;
    bool hs_want_write;        /* the handshake waits for EPOLLOUT */
    bool ssl_read_wants_write; /* SSL_read must be retried on EPOLLOUT */
    bool ssl_write_wants_read; /* SSL_write must be retried on EPOLLIN */

    bool opened;     /* on_open or on_refuse was called */
    bool refused;    /* on_refuse instead of on_open */
    bool want_data;  /* on_data is due */
    bool read_again; /* TLS bytes may be left inside the SSL object */
    bool paused;     /* net_conn_pause */
    bool throttled;  /* output over the high-water mark */
    bool skipping;   /* net_conn_skip_line across reads */
    bool eof;
    bool closing; /* net_conn_close: flush, then close */
    bool aborted; /* close without flushing */
    bool shutdown_told;
    net_refusal refuse_why;
    net_close_reason reason;
    bool reason_set;  /* the first cause wins */
    unsigned jobs;    /* pool jobs in flight: the conn is not freed before 0 */
    uint32_t ev_mask; /* current epoll interest; 0 = not registered */

    uint64_t started;
    uint64_t last_io;
    uint64_t session_deadline;
    uint64_t close_deadline; /* closing: cut after the linger */
    unsigned idle_ms;
    net_timer timer;

    net_conn *prev, *next;  /* every conn of the loop */
    net_conn *pending_next; /* loop->pending */
    bool in_pending;
};

typedef enum { NET_METRIC_COUNTER, NET_METRIC_GAUGE } net_metric_type;

struct net_metric {
    char name[NET_METRIC_NAME_MAX];
    char help[NET_METRIC_HELP_MAX];
    net_metric_type type;
    _Atomic uint64_t value;
};

typedef struct net_pool net_pool;
typedef struct net_ip_entry net_ip_entry;

struct net_loop {
    int epfd;
    net_limits limits;
    uint64_t now;

    net_timer **heap;
    size_t heap_len, heap_cap;

    net_conn *conns;
    size_t nconns;         /* all, refused ones included */
    size_t ncounted;       /* holding a max_conns slot */
    size_t nmetrics_conns; /* of the /metrics listener */
    net_conn *pending;     /* conns to process at the end of the iteration */

    net_listener *listeners;
    net_watch *watches;
    net_ip_entry *per_ip[NET_PER_IP_BUCKETS];
    unsigned char ip_hash_key[16];

    net_pool *pool;

    net_handle sig_h;
    int sigfd;
    sigset_t old_mask;

    bool shutting_down;
    bool finished;
    net_timer grace;
    net_reload_fn reload_fn;
    void *reload_arg;

    net_metric metrics[NET_METRICS_MAX];
    size_t nmetrics;
    net_metric *m_conns_total, *m_conns_open, *m_refused, *m_timed_out;
    net_metric *m_tls_total, *m_tls_failed, *m_jobs;
};

/* loop.c */
uint64_t net_now_ms(void);
void net_conn_schedule(net_conn *c); /* process c at the end of the iteration */

/* timer.c */
void net_timer_init(net_timer *t, net_loop *l, net_timer_fn fn, void *arg);
void net_timer_arm(net_timer *t, uint64_t due);
void net_timer_disarm(net_timer *t);
int net_timers_next_ms(net_loop *l); /* epoll_wait timeout: -1 none */
void net_timers_run(net_loop *l);
void net_timers_free(net_loop *l);

/* conn.c */
net_conn *net_conn_new(net_loop *l, int fd, net_listener *ls, const struct sockaddr_storage *ss);
void net_conn_process(net_conn *c);
void net_conn_event(net_conn *c, uint32_t events);
void net_conn_free_now(net_conn *c, net_close_reason why);
void net_conn_abort_why(net_conn *c, net_close_reason why); /* the first reason wins */
void net_conn_notify_shutdown(net_conn *c);
void net_session_id(char out[NET_SESSION_ID_LEN + 1]);

/* conn_io.c */
void net_conn_do_read(net_conn *c);
void net_conn_do_flush(net_conn *c);
void net_conn_tls_step(net_conn *c); /* start or continue a handshake */
void net_conn_close_fd(net_conn *c);
uint32_t net_conn_interest(const net_conn *c);
bool net_conn_may_read(const net_conn *c);   /* may take input (from the socket or the inflater) */
bool net_conn_has_output(const net_conn *c); /* anything left to send, compressed or not */

/* compress.c */
bool net_z_in_pending(const net_z *z); /* compressed input, or inflate output, left */
/* One inflate step from zin into out (want bytes at most): 1 progress (*got_r
 * bytes out), 0 none possible, -1 corrupt input (the conn is aborted). */
int net_z_inflate(net_conn *c, char *out, size_t want, size_t *got_r);
/* One deflate step from c->out into the empty zout (Z_SYNC_FLUSH): 1
 * progress, 0 nothing to do, -1 failed (the conn is aborted). */
int net_z_deflate(net_conn *c);
void net_z_free(net_z **z);          /* wipes; sets *z to NULL */
size_t net_z_memory(const net_z *z); /* bytes the layer holds: for tests and the docs */

/* tls.c */
SSL *net_tls_new_ssl(net_tls_ctx *t, int fd);
void net_tls_log_errors(const char *session, const char *what);

/* limits.c */
int net_limits_admit(net_loop *l, net_conn *c, net_refusal *why_r); /* 0 admitted, -1 refused */
void net_limits_release(net_loop *l, net_conn *c);
void net_limits_key(const struct sockaddr_storage *ss, unsigned char key_r[16]);
void net_limits_free(net_loop *l);

/* listen.c */
void net_listener_event(net_listener *ls);
void net_listeners_close(net_loop *l);
void net_listeners_free(net_loop *l);
int net_listen_internal(net_loop *l, const net_listen_opts *o, bool metrics, net_listener **r);

/* pool.c */
int net_pool_start(net_loop *l, unsigned threads);
void net_pool_event(net_loop *l);
void net_pool_stop(net_loop *l);

/* metrics.c */
void net_metrics_init(net_loop *l);

/* metrics_http.c: the request line of an HTTP/1.x request, pure. Returns
 * 0 and the method and target (pointers into line), or -1. */
int net_http_request_parse(const char *line, size_t len, const char **method_r,
                           size_t *method_len_r, const char **target_r, size_t *target_len_r);

#endif
