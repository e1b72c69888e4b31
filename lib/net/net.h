/* net: the network core of the worker processes (SMTP, IMAP, POP3).
 *
 * One net_loop per process, driven by epoll on one thread; every callback
 * below runs on that thread, never inside another callback's stack (closes,
 * frees and input dispatch are deferred to the loop), so a callback may
 * close its own connection and return safely. Blocking work goes to a small
 * thread pool whose completions come back to the loop thread.
 *
 *   net_loop_new -> net_listen (bind, as root if needed) -> net_drop_privileges
 *   -> net_loop_handle_signals -> net_loop_run (returns after a graceful
 *   shutdown) -> net_loop_free -> net_tls_ctx_free
 *
 * A protocol is a net_handler: it is told when a connection opens, when
 * input is buffered, when a limit refuses a client, when a timer or the
 * shutdown needs a last line, and when the connection is gone. It reads
 * bounded lines or bytes, writes into a bounded output buffer, and may switch
 * a plain connection to TLS (STARTTLS) on the same code path that serves
 * implicit TLS.
 *
 * Threads: call everything here on the loop's thread. The one exception is
 * net_metric_add/_sub/_set/_get, which are atomic and may also be called by
 * pool work functions; those must call nothing else of lib/net.
 *
 * Process-wide effects: net_loop_new sets SIGPIPE to SIG_IGN (OpenSSL writes
 * to sockets with write(2)); net_loop_handle_signals blocks SIGTERM, SIGINT
 * and SIGHUP in the calling thread and reads them through a signalfd (call it
 * before starting any thread of your own). Pool threads block every signal.
 *
 * Metrics: each loop keeps a registry of named counters and gauges, and can
 * answer "GET /metrics" in the Prometheus text format on a listener of its
 * own. That listener binds only to a loopback address (127.0.0.0/8 or ::1):
 * it has no authentication and no TLS, and the counters tell who uses the
 * server and how much, so a remote scraper must come through a local agent
 * or an authenticated reverse proxy. A non-loopback address is refused.
 */
#ifndef OWNMAIL_NET_H
#define OWNMAIL_NET_H

#include "buf.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#define NET_SESSION_ID_LEN 12      /* base32 characters (60 random bits) */
#define NET_ADDR_TEXT_MAX 64       /* "[v6 address]:port" with its NUL */
#define NET_LISTEN_BACKLOG 511     /* listen(2) backlog */
#define NET_EPOLL_BATCH 256        /* events taken per epoll_wait */
#define NET_ACCEPT_BATCH 64        /* accepts per readiness event (fairness) */
#define NET_ACCEPT_BACKOFF_MS 100  /* pause accepting after EMFILE/ENFILE */
#define NET_READ_CHUNK 16384       /* bytes per read(2) or SSL_read */
#define NET_READ_ROUNDS 4          /* reads per readiness event (fairness) */
#define NET_CLOSE_LINGER_MS 5000   /* a closing conn may flush its output this long */
#define NET_REFUSE_SLOTS 64        /* refused conns held open to say why; beyond: closed mute */
#define NET_FD_RESERVE 64          /* descriptors kept for files, Redis, the log */
#define NET_POOL_THREADS_MAX 64    /* pool threads */
#define NET_POOL_QUEUE_MAX 4096    /* jobs waiting for a pool thread */
#define NET_PER_IP_BUCKETS 1024    /* hash buckets of the per-IP counts */
#define NET_METRICS_MAX 64         /* counters and gauges per loop */
#define NET_METRIC_NAME_MAX 64     /* bytes of a metric name, with its NUL */
#define NET_METRIC_HELP_MAX 128    /* bytes of a metric help text, with its NUL */
#define NET_METRICS_CONNS_MAX 8    /* concurrent /metrics clients (not in max_conns) */
#define NET_METRICS_LINE_MAX 1024  /* one HTTP request or header line */
#define NET_METRICS_HEADERS_MAX 32 /* header lines of one request */
#define NET_METRICS_TIMEOUT_MS 10000
#define NET_METRICS_OUT_MAX (256 * 1024) /* the rendered response */
#define NET_TLS_ERROR_MAX 256            /* bytes of a TLS error message, with its NUL */
#define NET_DEFLATE_LEVEL 1 /* net_conn_compress: fastest; most of the size gain of 6 on mail text */
/* deflateInit2 memLevel: 166 KiB of deflate state at 6 against 262 KiB at 8
 * (zlib's default), for the same ratio on IMAP responses. */
#define NET_DEFLATE_MEMLEVEL 6

/* Defaults of net_limits (net_limits_default). */
#define NET_MAX_CONNS_DEFAULT 4096
#define NET_MAX_CONNS_PER_IP_DEFAULT 20
#define NET_IN_MAX_DEFAULT (64 * 1024)          /* covers an IMAP command line */
#define NET_OUT_MAX_DEFAULT (4 * 1024 * 1024)   /* unsent bytes per connection */
#define NET_OUT_HIGH_WATER_DEFAULT (256 * 1024) /* stop reading above this */
/* RFC 5321 section 4.5.3.2.7: a server should wait at least 5 minutes for a
 * command; RFC 9051 section 5.4 wants at least 30 minutes for an idle IMAP
 * client; the IMAP worker sets its own with net_conn_set_timeouts. */
#define NET_IDLE_TIMEOUT_MS_DEFAULT (5 * 60 * 1000)
#define NET_SESSION_TIMEOUT_MS_DEFAULT (24 * 60 * 60 * 1000)
#define NET_GRACE_MS_DEFAULT 10000
#define NET_POOL_THREADS_DEFAULT 4

typedef struct net_loop net_loop;
typedef struct net_conn net_conn;
typedef struct net_listener net_listener;
typedef struct net_timer net_timer;
typedef struct net_watch net_watch;
typedef struct net_tls_ctx net_tls_ctx;
typedef struct net_metric net_metric;

typedef struct net_limits {
    unsigned max_conns;          /* connections of the whole loop */
    unsigned max_conns_per_ip;   /* per IPv4 address, per IPv6 /64 */
    size_t in_max;               /* buffered input per connection */
    size_t out_max;              /* unsent output per connection */
    size_t out_high_water;       /* no reading while more output than this waits */
    unsigned idle_timeout_ms;    /* no byte read or written for this long */
    unsigned session_timeout_ms; /* whole connection, handshake included */
    unsigned grace_ms;           /* shutdown: connections may finish this long */
    unsigned pool_threads;       /* threads of the blocking-work pool */
} net_limits;

/* Fills l with the NET_*_DEFAULT values above. */
void net_limits_default(net_limits *l);

/* ---- the loop ----------------------------------------------------------- */

/* Creates a loop with its epoll instance and its thread pool. limits NULL
 * means the defaults; a zero field also means its default; out_high_water
 * must be below out_max. Raises the soft RLIMIT_NOFILE towards max_conns +
 * NET_REFUSE_SLOTS + NET_METRICS_CONNS_MAX + NET_FD_RESERVE (up to the hard
 * limit; logged if short). Returns 0, or -1 (logged) when the kernel refuses
 * a resource or a limit is inconsistent. */
int net_loop_new(const net_limits *limits, net_loop **loop_r);

/* Closes every connection (on_close with NET_CLOSE_SHUTDOWN), runs the work
 * still queued in the pool and its done functions (on the calling thread),
 * joins the pool threads, frees listeners, timers and watches (a watch's fd
 * is not closed) and restores the signal mask. Sets *loop to NULL. */
void net_loop_free(net_loop **loop);

/* Reads SIGTERM and SIGINT (graceful shutdown) and SIGHUP (net_loop_reload)
 * from a signalfd; see the top of this file. 0 or -1. */
int net_loop_handle_signals(net_loop *l);

/* Runs until a shutdown has finished: every connection is closed, or the
 * grace period ran out and the rest were cut. Returns 0, or -1 if epoll
 * failed (logged). */
int net_loop_run(net_loop *l);

/* Starts a graceful shutdown (what SIGTERM does): closes every listener,
 * calls on_shutdown of every open connection (default: net_conn_close),
 * and arms the grace timer; new connections are not accepted. Idempotent. */
void net_loop_shutdown(net_loop *l);
bool net_loop_shutting_down(const net_loop *l);

/* What SIGHUP does: reloads the certificate and key of every net_tls_ctx used
 * by a listener of this loop (a failure keeps the old one and is logged),
 * then calls the hook set here. New TLS sessions use the new context;
 * sessions already open keep theirs (an SSL holds a reference to its
 * SSL_CTX). fn NULL removes the hook. */
typedef void (*net_reload_fn)(net_loop *l, void *arg);
void net_loop_set_reload_hook(net_loop *l, net_reload_fn fn, void *arg);
void net_loop_reload(net_loop *l);

const net_limits *net_loop_limits(const net_loop *l);
/* Monotonic milliseconds, as of the current loop iteration. */
uint64_t net_loop_now(const net_loop *l);

/* ---- listeners ---------------------------------------------------------- */

/* "192.0.2.1:25", "[2001:db8::1]:993", "*:25" (any IPv4) or "[::]:25" (any
 * IPv6, IPV6_V6ONLY). No host names: the loop never resolves. Port 0 asks the
 * kernel for one (tests). Returns 0 or -1. Pure. */
int net_addr_parse(const char *text, struct sockaddr_storage *ss_r, socklen_t *len_r);
/* 127.0.0.0/8, ::1 or ::ffff:127.0.0.0/104. */
bool net_addr_is_loopback(const struct sockaddr_storage *ss);

typedef enum {
    NET_REFUSE_MAX_CONNS, /* the loop has limits.max_conns connections */
    NET_REFUSE_PER_IP,    /* this client address has limits.max_conns_per_ip */
} net_refusal;

typedef enum {
    NET_TIMEOUT_IDLE,    /* limits.idle_timeout_ms without I/O */
    NET_TIMEOUT_SESSION, /* limits.session_timeout_ms since accept */
} net_timeout_kind;

typedef enum {
    NET_CLOSE_LOCAL,           /* the protocol called net_conn_close or _abort */
    NET_CLOSE_PEER,            /* the client closed (end of input) */
    NET_CLOSE_ERROR,           /* a socket or TLS error */
    NET_CLOSE_TIMEOUT_IDLE,    /* after on_timeout(NET_TIMEOUT_IDLE) */
    NET_CLOSE_TIMEOUT_SESSION, /* after on_timeout(NET_TIMEOUT_SESSION) */
    NET_CLOSE_TLS_FAILED,      /* the TLS handshake failed */
    NET_CLOSE_REFUSED,         /* after on_refuse */
    NET_CLOSE_SHUTDOWN,        /* the grace period ran out, or net_loop_free */
} net_close_reason;

const char *net_close_reason_name(net_close_reason why);

/* The protocol. on_open and on_data are required, the rest optional. No
 * callback is ever made for a conn after on_close. */
typedef struct net_handler {
    /* The connection is ready (for implicit TLS: after the handshake): write
     * the greeting. */
    void (*on_open)(net_conn *c);
    /* Input is buffered: take lines (net_conn_read_line) or bytes
     * (net_conn_read) until 0, or net_conn_pause and come back later with
     * net_conn_resume. Not called while paused, while the output is over the
     * high-water mark, during a TLS handshake, or once closing. */
    void (*on_data)(net_conn *c);
    /* A limit refused this client: write one line (e.g. RFC 5321 section
     * 3.8's "421 4.7.0 too many connections"); the conn is then closed with
     * NET_CLOSE_REFUSED. on_open is never called for it. On an implicit-TLS
     * listener this comes after the handshake, so the line can be read. */
    void (*on_refuse)(net_conn *c, net_refusal why);
    /* A timeout fired: write a last line if the protocol has one; the conn
     * is then closed (flush first) with NET_CLOSE_TIMEOUT_*. The idle timeout
     * does not run while a pool job of the conn is in flight (the session
     * timeout does). */
    void (*on_timeout)(net_conn *c, net_timeout_kind kind);
    /* The server is shutting down: finish the transaction in flight and
     * close, or say goodbye and close now. NULL: net_conn_close. */
    void (*on_shutdown)(net_conn *c);
    /* The output fell back under half the high-water mark after being over
     * it (a net_conn_write that took it over counts, even if one send then
     * drained it all): write more of a long response. */
    void (*on_writable)(net_conn *c);
    /* Last call, for every conn that got on_open or on_refuse (a conn whose
     * TLS handshake failed never did): free what net_conn_set_data holds.
     * Comes after the done function of every job of the conn. */
    void (*on_close)(net_conn *c, net_close_reason why);
} net_handler;

typedef struct net_listen_opts {
    const char *addr;           /* see net_addr_parse */
    const net_handler *handler; /* must outlive the loop */
    void *ctx;                  /* net_conn_ctx of its conns */
    net_tls_ctx *tls;           /* NULL: no TLS; must outlive the loop */
    bool implicit_tls;          /* handshake right after accept (needs tls) */
} net_listen_opts;

/* Binds (SO_REUSEADDR, non-blocking, close-on-exec) and listens. The
 * listener belongs to the loop: it is closed by the shutdown and freed by
 * net_loop_free. Returns 0, or -1 (logged: bad address, bind refused). */
int net_listen(net_loop *l, const net_listen_opts *o, net_listener **r);
/* The bound port (useful after port 0). */
unsigned net_listener_port(const net_listener *ls);

/* ---- connections -------------------------------------------------------- */

/* One line of input. data is NUL-terminated in place and valid until the
 * callback that read it returns; len excludes the line end. */
typedef struct net_line {
    const char *data;
    size_t len;
    bool bare_lf; /* ended in LF without CR: RFC 5321 section 2.3.8 forbids it */
} net_line;

/* Takes the next line ending in LF (CRLF or bare LF). max counts the line end
 * too (RFC 5321 section 4.5.3.1.4: 512 octets "including the <CRLF>") and is
 * capped to limits.in_max. Returns 1 with *line_r; 0 when no full line is
 * buffered yet, the conn is paused, closing or switching to TLS, or its
 * unsent output is over limits.out_high_water (backpressure: on_data is
 * called again once it drains, so pipelined commands wait); -1 when max bytes
 * are buffered without a line end: nothing is consumed; answer as the
 * protocol wants, then usually net_conn_skip_line. */
int net_conn_read_line(net_conn *c, size_t max, net_line *line_r);

/* Discards input up to and including the next LF, also input not yet
 * received (after a line over the cap). */
void net_conn_skip_line(net_conn *c);

/* Takes up to max buffered bytes (IMAP literals, SMTP BDAT chunks): returns
 * how many; 0 as for net_conn_read_line. *data_r is valid as a line's data
 * (not NUL-terminated). */
size_t net_conn_read(net_conn *c, size_t max, const char **data_r);

/* The buffered input without taking it: *data_r and the count (0 when none,
 * or when net_conn_read would give nothing: paused, closing, over the
 * high-water mark). For a parser that learns only while reading where its
 * input ends (SMTP DATA): it takes what it used with net_conn_consume, and
 * the rest stays for the next command. */
size_t net_conn_peek(net_conn *c, const char **data_r);
/* Takes n octets of what net_conn_peek showed (n no more than it said). */
void net_conn_consume(net_conn *c, size_t n);

size_t net_conn_in_pending(const net_conn *c);
/* True once the client closed its side; buffered input is still readable. */
bool net_conn_eof(const net_conn *c);

/* Appends to the output buffer; the loop sends it. Returns 0, or -1 when
 * the unsent output would pass limits.out_max (nothing is appended: close,
 * or wait for on_writable) or the conn is closing. */
int net_conn_write(net_conn *c, const void *data, size_t len);
int net_conn_printf(net_conn *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Unsent output; on a compressed conn, output not yet compressed plus the
 * compressed bytes waiting for the socket. */
size_t net_conn_out_pending(const net_conn *c);

/* Stops input to the protocol: no on_data calls, and net_conn_read_line and
 * net_conn_read return 0 (input is still buffered up to in_max), until
 * net_conn_resume, which calls on_data again if input is buffered. For a
 * command whose answer waits for a pool job (pipelined commands must wait). */
void net_conn_pause(net_conn *c);
void net_conn_resume(net_conn *c);

/* Closes after the buffered output is sent (at most NET_CLOSE_LINGER_MS).
 * Nothing more is read or dispatched. Idempotent. */
void net_conn_close(net_conn *c);
/* Closes now, dropping unsent output. */
void net_conn_abort(net_conn *c);
bool net_conn_closing(const net_conn *c);

/* Switches a plain connection to TLS with its listener's net_tls_ctx, after
 * the output already buffered (the "220 Ready to start TLS" reply) is sent in
 * plaintext. Plaintext input buffered after the STARTTLS command is DISCARDED
 * (RFC 3207 section 6, RFC 2595 section 3.1, the CVE-2011-0411 class of
 * command injection) and logged; the protocol must also forget what it learnt
 * before TLS (RFC 3207 section 4.2). on_data is called again only after the
 * handshake; a failed handshake closes with NET_CLOSE_TLS_FAILED. Returns 0,
 * or -1 (nothing changed) when the conn already uses TLS, is compressed or
 * is closing, or its listener has no TLS context. */
int net_conn_starttls(net_conn *c);

/* After the handshake: true, and "TLSv1.3", "TLS_AES_256_GCM_SHA384", 256
 * (for a Received header, RFC 8314 section 4.3). Otherwise false, NULL, 0. */
bool net_conn_is_tls(const net_conn *c);
const char *net_conn_tls_version(const net_conn *c);
const char *net_conn_tls_cipher(const net_conn *c);
int net_conn_tls_bits(const net_conn *c);

/* RFC 4978 COMPRESS=DEFLATE: from now on the conn carries raw DEFLATE (RFC
 * 1951, no zlib header or trailer) both ways, between the protocol and TLS
 * (section 3: compress first, then encrypt). Call it after writing the
 * tagged "OK DEFLATE active" and after taking the COMPRESS line.
 *
 * Output: what is already buffered (that OK) is sent uncompressed; all
 * later output is compressed, with a Z_SYNC_FLUSH each time the loop sends,
 * so every response reaches the client whole and none waits for more.
 * Input: every byte read from now on is inflated before net_conn_read_line
 * and the others see it, within limits.in_max: it is inflated in steps into
 * the free space of the input buffer, and the socket is not read while the
 * buffer is full (a decompression bomb stalls or is refused as an overlong
 * line; it never grows memory). Input already buffered but not taken is
 * inflated too: section 3 has the client compress from the first command
 * after COMPRESS (and wait for the OK before sending it), so bytes it sent
 * early are compressed ones; plaintext pipelined there fails to inflate.
 * Input that fails to inflate closes the conn with NET_CLOSE_ERROR (logged).
 *
 * Returns 0, or -1 (nothing changed) when the conn is already compressed or
 * closing, a TLS handshake is pending (STARTTLS or implicit TLS), or zlib
 * has no memory (logged). Afterwards net_conn_starttls returns -1.
 * Memory: about 240 KiB per conn until it closes (zlib's deflate state at
 * NET_DEFLATE_MEMLEVEL 6 166 KiB, inflate state and window 39 KiB, two
 * NET_READ_CHUNK buffers), then freed and wiped like the conn's buffers. */
int net_conn_compress(net_conn *c);
bool net_conn_is_compressed(const net_conn *c);

/* Replaces this conn's timeouts (0 keeps the current value); counted from
 * now for the idle one, from accept for the session one. */
void net_conn_set_timeouts(net_conn *c, unsigned idle_ms, unsigned session_ms);

/* 12 characters of [a-z2-7] (RFC 4648 base32, lower case), from libsodium's
 * randombytes: pass it to log_msg for every line about this session. */
const char *net_conn_session(const net_conn *c);
const char *net_conn_peer(const net_conn *c); /* "192.0.2.1", "2001:db8::1" */
/* The client connects from a loopback address (net_addr_is_loopback). */
bool net_conn_peer_is_loopback(const net_conn *c);
unsigned net_conn_peer_port(const net_conn *c);
net_loop *net_conn_loop(const net_conn *c);
void *net_conn_ctx(const net_conn *c); /* net_listen_opts.ctx */
void net_conn_set_data(net_conn *c, void *data);
void *net_conn_data(const net_conn *c);
/* The socket, for setsockopt only: never read, write or close it. */
int net_conn_fd(const net_conn *c);

/* ---- timers and foreign fds --------------------------------------------- */

/* A one-shot timer: fn runs on the loop thread after ms. The handle is valid
 * until fn is called or the timer is cancelled. NULL when out of memory. */
typedef void (*net_timer_fn)(net_loop *l, void *arg);
net_timer *net_timer_add(net_loop *l, unsigned ms, net_timer_fn fn, void *arg);
/* Cancels a timer that has not fired (not from inside its own fn); sets *t
 * to NULL. NULL or *t NULL: nothing. */
void net_timer_cancel(net_timer **t);

#define NET_EV_READ 1u
#define NET_EV_WRITE 2u
#define NET_EV_ERROR 4u /* reported only: error or hang-up */

/* Watches a foreign fd (a hiredis async context, an eventfd): fn runs on the
 * loop thread with the ready NET_EV_* bits while events (NET_EV_READ and/or
 * NET_EV_WRITE, possibly 0) are asked for. Level-triggered. The fd stays the
 * caller's; remove the watch before closing it. NULL on error (logged). */
typedef void (*net_watch_fn)(net_watch *w, int fd, unsigned revents, void *arg);
net_watch *net_watch_add(net_loop *l, int fd, unsigned events, net_watch_fn fn, void *arg);
int net_watch_modify(net_watch *w, unsigned events);
/* Safe from inside fn; sets *w to NULL. */
void net_watch_remove(net_watch **w);

/* ---- the thread pool ---------------------------------------------------- */

/* Blocking work (Argon2id, SQLite, fsync, DNS): work(arg) runs on a pool
 * thread and must not touch the loop or any conn; done(loop, arg) then runs
 * on the loop thread. Returns 0, or -1 when NET_POOL_QUEUE_MAX jobs wait
 * (answer "try again later"); on -1 neither function is called. */
typedef void (*net_work_fn)(void *arg);
typedef void (*net_done_fn)(net_loop *l, void *arg);
int net_pool_submit(net_loop *l, net_work_fn work, net_done_fn done, void *arg);

/* The same for work on behalf of a conn. The rule: a conn with a job in
 * flight is never freed; it may be closing (the client left, a timeout,
 * the shutdown), its socket may be closed, but done(c, arg) is always
 * called with a valid c (check net_conn_closing) and on_close comes after
 * the last done. */
typedef void (*net_conn_done_fn)(net_conn *c, void *arg);
int net_conn_submit(net_conn *c, net_work_fn work, net_conn_done_fn done, void *arg);

/* ---- TLS ---------------------------------------------------------------- */

/* A server context from PEM files: the certificate chain (leaf first) and
 * its private key. TLS 1.2 at least (RFC 8996 deprecates 1.0 and 1.1), the
 * ECDHE/DHE AEAD suites of TLS 1.2 in server order, the TLS 1.3 defaults, no
 * compression (CRIME), no renegotiation. Returns 0, or -1 with err. */
int net_tls_ctx_new(const char *cert_file, const char *key_file, net_tls_ctx **r, char *err,
                    size_t errlen);
/* Loads the files again; on failure the old context stays (-1 with err). */
int net_tls_ctx_reload(net_tls_ctx *t, char *err, size_t errlen);
/* Free after the loops that use it. Sets *t to NULL. */
void net_tls_ctx_free(net_tls_ctx **t);

/* ---- metrics ------------------------------------------------------------ */

/* A counter only grows; a gauge goes up and down. name matches
 * [a-zA-Z_:][a-zA-Z0-9_:]* (Prometheus). Asking again for a name returns the
 * same metric; NULL for a bad name, a full registry or a name that exists
 * with the other type. Values are atomic: pool threads may add too. Built
 * in: connections_total, connections_open, connections_refused_total,
 * connections_timed_out_total, tls_handshakes_total,
 * tls_handshakes_failed_total, pool_jobs_total. */
net_metric *net_metric_counter(net_loop *l, const char *name, const char *help);
net_metric *net_metric_gauge(net_loop *l, const char *name, const char *help);
void net_metric_add(net_metric *m, uint64_t n);
void net_metric_sub(net_metric *m, uint64_t n); /* gauges; floors at 0 */
void net_metric_set(net_metric *m, uint64_t v); /* gauges */
uint64_t net_metric_get(const net_metric *m);
/* The value of a metric by name (0 if unknown): for tests and logs. */
uint64_t net_metric_value(net_loop *l, const char *name);

/* Appends the Prometheus text exposition format (version 0.0.4). 0 or -1. */
int net_metrics_render(net_loop *l, buf *out);

/* Answers GET /metrics (200), other paths (404), other methods (405) and
 * malformed requests (400) on addr, which must be a loopback address (see
 * the top of this file): -1 (logged) otherwise. One request per connection
 * (HTTP/1.0 style, "Connection: close"). */
int net_metrics_listen(net_loop *l, const char *addr, net_listener **r);

/* ---- privileges --------------------------------------------------------- */

/* When running as root: setgroups to the user's primary group only, setgid,
 * setuid to user, then checks that neither root uid nor root gid can be
 * regained. Call after binding the ports and before serving. Not root: does
 * nothing and logs it. Returns 0, or -1 (logged: unknown user, user is root,
 * a call failed); the caller should then exit. */
int net_drop_privileges(const char *user);

#endif
