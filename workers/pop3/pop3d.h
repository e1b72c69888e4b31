/* ownmail-pop3: the POP3 worker (RFC 1939, with RFC 2449 CAPA and response
 * codes, RFC 2595 STLS, RFC 5034 AUTH PLAIN, RFC 3206 codes).
 *
 * One process, one lib/net loop. The loop thread reads command lines
 * (at most 255 octets, RFC 2449 4) and parses them (pop3_parse.c, pure);
 * whatever touches a store runs as a pool job with the connection paused,
 * so pipelined commands (RFC 2449 6.6) wait their turn and the loop never
 * blocks on SQLite or Argon2id.
 *
 * The maildrop: a login (USER/PASS or AUTH PLAIN) unwraps the user's store
 * key (lib/worker, throttled in Redis), then takes the maildrop lock, an
 * flock on <data_dir>/stores/<store_id>.pop3.lock held by the session, so
 * that one POP3 session per user exists across every worker process (RFC
 * 1939 8 wants an exclusive-access lock); opens the store, moves the spool
 * into INBOX and takes the snapshot: INBOX's messages in UID order, numbered
 * 1..n. Messages that arrive later are not seen by the session. Each session
 * has its own store connection (no sharing: the lock makes it the user's
 * only POP3 session; IMAP sessions in other processes have theirs, and
 * SQLite serialises them).
 *
 * DELE only marks; QUIT applies the marks in one store transaction (the
 * UPDATE state, RFC 1939 6): pop3.dele = delete expunges exactly the marked
 * UIDs, trash moves them to the Trash mailbox. A session that ends without
 * QUIT changes nothing.
 *
 *   main.c       start-up: configuration, directory follower, listeners
 *   config.c     the pop3.* configuration keys
 *   session.c    the connection: reading lines, the command table, jobs,
 *                CAPA, STLS, NOOP, QUIT in AUTHORIZATION
 *   auth.c       USER, PASS, AUTH PLAIN; the login job
 *   maildrop.c   the lock, the store and the snapshot; STAT, LIST, UIDL,
 *                RETR, TOP, DELE, RSET and QUIT's UPDATE
 *   pop3_parse.c the command line parser (pure)
 *   pop3_dot.c   byte-stuffing and TOP (pure)
 */
#ifndef OWNMAIL_POP3D_H
#define OWNMAIL_POP3D_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "follower.h"
#include "mailbox.h"
#include "net.h"
#include "pop3_dot.h"
#include "pop3_parse.h"
#include "store.h"
#include "throttle.h"
#include "worker.h"

#define POP3D_PROGRAM "ownmail-pop3"
#define POP3D_PATH_MAX 4096
/* An AUTH continuation line: RFC 5034 4 exempts it from the 255-octet
 * limit; base64 of an address and a password fits many times over. */
#define POP3D_SASL_LINE_MAX 8192
#define POP3D_CHUNK (256u * 1024) /* RETR / TOP read the message in pieces of this */
/* s->out holds one chunk stuffed (at most twice its size) and its status line. */
#define POP3D_OUT_MAX (2 * POP3D_CHUNK + 4096)
#define POP3D_LIST_STEP 4096 /* lines of LIST / UIDL written per step */
#define POP3D_TRASH "Trash"  /* pop3.dele = trash when no mailbox has \Trash */

/* ---- configuration (config.c) ------------------------------------------ */

typedef enum {
    POP3D_DELE_DELETE, /* QUIT expunges the messages marked */
    POP3D_DELE_TRASH,  /* QUIT moves them to the Trash mailbox */
} pop3d_dele_mode;

typedef struct pop3d_config {
    char data_dir[POP3D_PATH_MAX];
    char hostname[WORKER_HOST_MAX + 1];
    char listen[NET_ADDR_TEXT_MAX];         /* port 110, STLS; "" = none */
    char tls_listen[NET_ADDR_TEXT_MAX];     /* port 995, implicit TLS; "" = none */
    char metrics_listen[NET_ADDR_TEXT_MAX]; /* loopback only; "" = none */
    char tls_cert[POP3D_PATH_MAX], tls_key[POP3D_PATH_MAX];
    char user[64]; /* run as this user when started as root; "" = stay */
    char api_host[WORKER_HOST_MAX + 1];
    int api_port;
    char redis_host[WORKER_HOST_MAX + 1];
    int redis_port;
    bool plaintext_loopback; /* USER/PASS, AUTH without TLS from 127.0.0.0/8 and ::1 */
    pop3d_dele_mode dele;
    unsigned errors_max;      /* bad commands and failed logins before the session ends */
    unsigned idle_timeout_ms; /* RFC 1939 3: the autologout timer, at least 10 minutes */
    unsigned session_timeout_ms;
    unsigned conns_max, conns_per_ip_max;
    unsigned pool_threads;
    throttle_policy throttle;
    keys_kdf_params kdf; /* kdf.user_*: for the wrap unknown users are checked against */
} pop3d_config;

/* Reads the configuration file (NULL: every default). 0, or -1 with a
 * sentence in err. */
int pop3d_config_load(const char *path, pop3d_config *cfg, char *err, size_t errlen);

/* ---- the server ----------------------------------------------------------- */

typedef struct pop3d_metrics {
    net_metric *logins_ok, *logins_failed, *commands, *bad_commands, *retrieved, *deleted,
        *maildrops_open;
} pop3d_metrics;

typedef struct pop3d_server {
    pop3d_config cfg;
    net_loop *loop;
    directory_follower *dir;
    char spool_dir[POP3D_PATH_MAX + 16];
    char *dummy_wrap;
    pop3d_metrics m;
} pop3d_server;

typedef struct pop3d_port {
    pop3d_server *srv;
    bool implicit_tls;
    bool tls_available; /* a certificate is loaded: STLS works */
} pop3d_port;

/* ---- the maildrop (maildrop.c) ---------------------------------------------- */

typedef struct pop3d_msg {
    uint32_t uid;
    bool deleted;  /* DELE marked it */
    uint64_t size; /* octets as stored (CRLF): what RETR sends before stuffing */
} pop3d_msg;

typedef struct pop3d_maildrop {
    pop3d_server *srv;
    char store_id[SPOOL_STORE_ID_MAX + 1];
    int lock_fd; /* holds the flock; -1 when none */
    mailbox *mbx;
    int64_t inbox_id;
    uint32_t uidvalidity;
    pop3d_msg *msgs; /* the snapshot, UID order: message n is msgs[n - 1] */
    uint32_t n;
} pop3d_maildrop;

typedef enum {
    POP3D_DROP_OK,
    POP3D_DROP_IN_USE, /* another session holds the lock */
    POP3D_DROP_FAILED, /* err says why */
} pop3d_drop_result;

/* From a pool thread, after a successful login: the lock, the store, the
 * drain and the snapshot. On OK *r is the maildrop; else nothing is held. */
pop3d_drop_result pop3d_maildrop_open(pop3d_server *srv, const worker_login *l, pop3d_maildrop **r,
                                      char *err, size_t errlen);
/* Closes the store and releases the lock (blocking: a pool thread). Sets
 * *d NULL; NULL or *d NULL: nothing. */
void pop3d_maildrop_close(pop3d_maildrop **d);
/* The same on a pool thread (a close may checkpoint the WAL), from the
 * loop thread; in place when the pool refuses. */
void pop3d_maildrop_release(pop3d_server *srv, pop3d_maildrop **d);

/* ---- sessions ------------------------------------------------------------ */

typedef enum {
    POP3D_AUTHORIZATION, /* RFC 1939 4 */
    POP3D_TRANSACTION,   /* RFC 1939 5 */
    POP3D_CLOSING,       /* QUIT answered, or the session ends */
} pop3d_state;

typedef enum {
    POP3D_MODE_COMMAND, /* reading commands */
    POP3D_MODE_SASL,    /* AUTH PLAIN: waiting for the response line */
} pop3d_mode;

typedef enum { POP3D_DONE, POP3D_MORE } pop3d_step;
typedef struct pop3d_session pop3d_session;
typedef pop3d_step (*pop3d_work_fn)(pop3d_session *s);

struct pop3d_session {
    net_conn *c;
    pop3d_server *srv;
    const pop3d_port *port;
    const char *id; /* net_conn_session */
    pop3d_state state;
    pop3d_mode mode;
    bool tls;
    unsigned errors;
    char *user; /* USER's name until PASS (sodium_malloc'd) */
    char account[WORKER_ADDRESS_MAX + 1];
    pop3d_maildrop *drop; /* TRANSACTION */
    /* the command being answered in steps (pop3d_run) */
    bool busy;             /* a step runs or waits */
    bool on_pool;          /* its steps run on a pool thread */
    bool waiting_writable; /* the next step waits for the output to drain */
    bool abort;            /* a step failed in the middle of a response: cut the connection */
    pop3d_work_fn work;
    pop3d_step step;
    buf out; /* what a step wrote, sent when it returns */
    /* RETR / TOP, LIST / UIDL in progress */
    uint32_t cur;    /* message index (0-based) */
    uint64_t offset; /* RETR / TOP: octets of the message read so far */
    bool started;    /* the +OK line was written */
    pop3_verb verb;  /* LIST or UIDL; RETR or TOP */
    pop3_dot dot;
};

/* ---- responses and jobs (session.c) ------------------------------------------ */

/* Appends printf output to s->out (sent when the handler or step returns). */
void pop3d_printf(pop3d_session *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* "-ERR" and text, counted as a bad command; past errors_max the session
 * ends. */
void pop3d_error(pop3d_session *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Counts a bad command without a reply of its own (a failed login). */
void pop3d_count_error(pop3d_session *s);
/* Runs work in steps (POP3D_MORE: again once the output has drained), on a
 * pool thread when pool, else on the loop thread; input waits meanwhile.
 * Call from a command handler and return. */
void pop3d_run(pop3d_session *s, pop3d_work_fn work, bool pool);
/* Whether credentials may be given now: over TLS, or from loopback when
 * pop3.plaintext_loopback allows it. */
bool pop3d_credentials_allowed(const pop3d_session *s);
/* The session ends: after the output is sent, the connection closes. */
void pop3d_close(pop3d_session *s);
/* After a job started with net_conn_submit (not pop3d_run) answered into
 * s->out: sends it and reads the next command (loop thread). */
void pop3d_resume(pop3d_session *s);

/* ---- command handlers (loop thread) ------------------------------------- */

typedef void pop3d_cmd_fn(pop3d_session *s, const pop3_command *cmd);

pop3d_cmd_fn pop3d_cmd_user, pop3d_cmd_pass, pop3d_cmd_auth; /* auth.c */
pop3d_cmd_fn pop3d_cmd_stat, pop3d_cmd_list, pop3d_cmd_retr, pop3d_cmd_dele, pop3d_cmd_rset,
    pop3d_cmd_uidl, pop3d_cmd_quit_update; /* maildrop.c */

/* AUTH's response line (auth.c). */
void pop3d_sasl_line(pop3d_session *s, const char *line, size_t len);
/* Forgets USER's name (a command other than PASS came, STLS, the end). */
void pop3d_auth_forget(pop3d_session *s);

extern const net_handler pop3d_handler;

#endif
