/* Internal to lib/queue: decoding helpers, file helpers, the connection
 * (conn.c), the SMTP client session (session.c), one entry's delivery
 * (deliver.c) and the per-thread worker context they share. */
#ifndef OWNMAIL_QUEUE_INT_H
#define OWNMAIL_QUEUE_INT_H

#include <openssl/ssl.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "buf.h"
#include "queue.h"
#include "queue_mx.h"
#include "smtp_reply.h"

/* ---- envelope.c: checks and a bounded reader ---------------------------- */

/* True when s (len octets) has no controls (and no non-ASCII unless utf8_ok). */
bool queue_text_ok(const char *s, size_t len, bool utf8_ok);

typedef struct queue_rd {
    const unsigned char *p;
    size_t left;
    bool bad; /* a read ran past the end or a string was refused */
} queue_rd;

void queue_rd_init(queue_rd *r, const unsigned char *in, size_t len);
unsigned queue_rd_u8(queue_rd *r);
unsigned queue_rd_u16(queue_rd *r);
uint32_t queue_rd_u32(queue_rd *r);
uint64_t queue_rd_u64(queue_rd *r);
void queue_rd_str(queue_rd *r, char *out, size_t max, bool utf8_ok);

/* ---- store.c: files ----------------------------------------------------- */

/* "<dir>/<id><suffix>" into out; -1 when it does not fit. */
int queue_path(char out[QUEUE_PATH_MAX], const char *dir, const char *id, const char *suffix);
/* Seals data under context ":" id and writes it atomically to
 * <dir>/<id><suffix>: tmp file (O_EXCL, 0600), fsync, rename, fsync dir. */
queue_result queue_write_sealed(const char *dir, const keys_secret *key, const char *context,
                                const char *id, const char *suffix, const unsigned char *data,
                                size_t len, char *err, size_t errlen);
/* Reads and opens <dir>/<id><suffix> (at most max sealed bytes) into a
 * malloc'd *out_r (wipe it). QUEUE_ERR_NOT_FOUND when absent. */
queue_result queue_read_sealed(const char *dir, const keys_secret *key, const char *context,
                               const char *id, const char *suffix, size_t max,
                               unsigned char **out_r, size_t *out_len_r, char *err, size_t errlen);
/* Copies a formatted message to err (errlen bytes; err may be NULL). */
void queue_err(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* ---- counters and the worker context -------------------------------------- */

typedef struct queue_counters {
    _Atomic uint64_t queued, attempts, delivered, deferred, bounced, dsns;
} queue_counters;

void queue_counters_read(queue_counters *c, queue_stats *s_r);

/* What one delivery thread holds. */
typedef struct queue_worker {
    const queue_config *cfg;
    queue_dns *dns;
    SSL_CTX *tls_mx;    /* opportunistic: no verification enforced */
    SSL_CTX *tls_relay; /* verifies when cfg->relay_verify */
    int stop_fd;        /* readable once a stop is requested; -1 = never */
    queue_local_fn *deliver_local;
    void *local_ctx;
    queue_counters *counters;
} queue_worker;

/* Sets up w (dns, TLS contexts). 0 or -1 with err. */
int queue_worker_init(queue_worker *w, const queue_config *cfg, queue_local_fn *deliver_local,
                      void *local_ctx, queue_counters *counters, int stop_fd, char *err,
                      size_t errlen);
void queue_worker_free(queue_worker *w);

/* True once w's stop fd is readable. */
bool queue_worker_stopping(const queue_worker *w);

/* ---- outcomes ---------------------------------------------------------------- */

typedef enum {
    QUEUE_OUT_NONE = 0, /* not attempted (abandoned): nothing to record */
    QUEUE_OUT_OK,
    QUEUE_OUT_TEMP,
    QUEUE_OUT_PERM,
} queue_out_kind;

typedef struct queue_outcome {
    queue_out_kind kind;
    unsigned code;                  /* reply code; 0 = a local reason */
    smtp_enhanced enhanced;         /* for the DSN's Status */
    char text[QUEUE_REPLY_MAX + 1]; /* the reply ("550 5.1.1 ...") or the local reason */
    char mta[QUEUE_MTA_MAX + 1];    /* remote host, "" = none */
    /* OK from a server that did not offer DSN in EHLO: NOTIFY, ORCPT,
     * ENVID and RET stayed here (RFC 3461 5.2.2). */
    bool no_dsn;
} queue_outcome;

/* Sets o to a local (no reply) outcome, enhanced "c.s.d" from the numbers. */
void queue_outcome_local(queue_outcome *o, queue_out_kind kind, unsigned cls, unsigned subject,
                         unsigned detail, const char *mta, const char *text);
/* Sets o from a reply of host mta (kind from its first digit). */
void queue_outcome_reply(queue_outcome *o, const smtp_reply *reply, const char *mta);

/* ---- conn.c: one SMTP connection, blocking semantics over poll() ----------- */

#define QUEUE_IO_OK 0
#define QUEUE_IO_FAIL (-1)
#define QUEUE_IO_STOP (-2) /* a stop was requested */

typedef struct queue_conn queue_conn;

/* Connects to sa within timeout_s seconds. err gets the reason. */
int queue_conn_open(const struct sockaddr_storage *sa, long long timeout_s, int stop_fd,
                    queue_conn **c_r, char *err, size_t errlen);
void queue_conn_close(queue_conn **c);
/* "[addr]:port" of the peer. */
const char *queue_conn_peer(const queue_conn *c);
/* Sends len octets within timeout_s (ignore_stop: finish even if stopping). */
int queue_conn_send(queue_conn *c, const void *data, size_t len, long long timeout_s,
                    bool ignore_stop, char *err, size_t errlen);
/* Reads one reply within timeout_s into *reply_r (valid until the next
 * call). */
int queue_conn_reply(queue_conn *c, long long timeout_s, bool ignore_stop, smtp_reply *reply_r,
                     char *err, size_t errlen);
/* TLS handshake as a client (after 220 to STARTTLS). sni/host may be NULL.
 * When verify, a failed verification fails the handshake; either way the
 * result is kept for queue_conn_tls. */
int queue_conn_starttls(queue_conn *c, SSL_CTX *ctx, const char *host, bool verify,
                        long long timeout_s, char *err, size_t errlen);
/* "TLSv1.3 verify=ok" style description, or "none". */
const char *queue_conn_tls(const queue_conn *c);
bool queue_conn_is_tls(const queue_conn *c);

/* ---- session.c: an SMTP client transaction set to one address -------------- */

typedef enum {
    QUEUE_SESSION_DONE = 0,    /* every recipient has an outcome */
    QUEUE_SESSION_NEXT,        /* try the next address (reason in *why) */
    QUEUE_SESSION_RETRY_PLAIN, /* STARTTLS failed: retry this address without it */
    QUEUE_SESSION_STOP,        /* stopping: outcomes left NONE */
} queue_session_result;

typedef struct queue_target {
    const struct sockaddr_storage *addr;
    const char *host; /* the exchanger's name: log, Remote-MTA, SNI */
    bool relay;       /* the smarthost: TLS and AUTH required */
    bool use_tls;     /* try STARTTLS when offered */
} queue_target;

/* Delivers recipients idx[0..n) of e to target t, in transactions of at
 * most QUEUE_TXN_RCPTS_MAX. Each finished transaction's outcomes are
 * passed to record (which makes them durable) before the next command.
 * On NEXT, *why holds the reason for the recipients still open. */
typedef void queue_record_fn(void *ctx, const size_t *idx, size_t n, queue_outcome *outs);

queue_session_result queue_session_run(queue_worker *w, const queue_entry *e, const queue_target *t,
                                       const size_t *idx, size_t n, queue_outcome *outs,
                                       queue_record_fn *record, void *record_ctx,
                                       queue_outcome *why);

/* ---- deliver.c -------------------------------------------------------------- */

/* One delivery attempt of entry id (force: every pending recipient, not
 * only those due). Returns 1 when the entry is finished and removed, 0
 * when it stays (*next_r = when it is next due, INT64_MAX for "never by
 * itself"), QUEUE_ERR_BUSY as -2 when another delivery holds it, -1 on an
 * error (logged). */
int queue_deliver_entry(queue_worker *w, const char *id, bool force, int64_t *next_r);

/* Domain of "local@domain" (after the last '@'). */
const char *queue_addr_domain(const char *addr);

#endif
