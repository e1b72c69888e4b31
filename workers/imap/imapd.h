/* ownmail-imap: the IMAP worker, IMAP4rev2 (RFC 9051) and IMAP4rev1 (RFC
 * 3501) on one server.
 *
 * One process, one lib/net loop. The loop thread reads commands
 * (lib/imap's imap_reader) and parses their arguments (lib/imap, pure);
 * every command that touches a store runs as a pool job (imapd_run) with the
 * connection paused, so pipelined commands wait their turn and the loop
 * never blocks on SQLite or Argon2id.
 *
 * Stores: the sessions of one user in this process share one open mailbox
 * (lib/mailbox: the encrypted store and the user's secret key), kept in a
 * registry by store id and closed with its last session; a job holds the
 * user's lock while it uses the store, so the connection is used by one
 * thread at a time. Sessions of the same user in other processes have their
 * own connection: SQLite's locking serialises them.
 *
 * Changes: a job that changed a store publishes the store id on Redis
 * (WORKER_NEW_MAIL_CHANNEL, as SMTP does after a delivery). Every IMAP
 * process subscribes (notify.c); the sessions of that store that sit in IDLE
 * drain the spool and look for changes at once; the others look at their
 * next command (imapd_sync at the end of every command).
 *
 *   main.c       start-up: configuration, directory follower, listeners
 *   config.c     the imap.* configuration keys
 *   session.c    the connection: reading commands, the command table, jobs,
 *                responses, CAPABILITY, NOOP, LOGOUT, STARTTLS, ENABLE, ID
 *   auth.c       LOGIN and AUTHENTICATE PLAIN; opening the user's store
 *   user.c       the registry of open stores (one per user per process)
 *   uidmap.c     message sequence numbers <-> UIDs of a view (pure)
 *   select.c     SELECT, EXAMINE, UNSELECT, CLOSE; imapd_sync
 *   mailboxes.c  CREATE, DELETE, RENAME, SUBSCRIBE, UNSUBSCRIBE, STATUS,
 *                NAMESPACE, GETQUOTA, GETQUOTAROOT
 *   list.c       LIST (LIST-EXTENDED, LIST-STATUS, SPECIAL-USE), LSUB
 *   fetch.c      FETCH
 *   messages.c   STORE, COPY, MOVE, EXPUNGE
 *   search.c     SEARCH, SORT, THREAD
 *   append.c     APPEND (MULTIAPPEND)
 *   idle.c       IDLE
 *   notify.c     the Redis subscriber that wakes IDLE sessions
 */
#ifndef OWNMAIL_IMAPD_H
#define OWNMAIL_IMAPD_H

#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "follower.h"
#include "imap_arg.h"
#include "imap_common.h"
#include "imap_flags.h"
#include "imap_mailbox.h"
#include "imap_reader.h"
#include "imap_seqset.h"
#include "imap_write.h"
#include "mailbox.h"
#include "net.h"
#include "store.h"
#include "throttle.h"
#include "worker.h"

#define IMAPD_PROGRAM "ownmail-imap"
#define IMAPD_PATH_MAX 4096
#define IMAPD_TAG_MAX IMAP_TAG_MAX
#define IMAPD_SASL_LINE_MAX 8192  /* an AUTHENTICATE response line (base64 of user + password) */
#define IMAPD_TEXT_MAX 256        /* the human text of a tagged response */
#define IMAPD_CODE_MAX 16384      /* a response code with its data (COPYUID sets), without brackets */
#define IMAPD_CHUNK (256u * 1024) /* a job that streams (FETCH) yields after this much output */
#define IMAPD_ID_FIELDS_MAX 30    /* RFC 2971 3.3: at most 30 field-value pairs */
#define IMAPD_IDLE_DONE_MAX 64    /* octets of the line that ends IDLE ("DONE") */
#define IMAPD_OUT_KEEP 4096       /* a response buffer bigger than this is freed once sent */
#define IMAPD_OUT_KEEP_BUSY (1u << 20) /* ... unless more commands wait, up to this */
#define IMAPD_TRIM_MS 15000       /* a store unused this long gives its page cache back */

/* ---- configuration (config.c) ------------------------------------------ */

typedef struct imapd_config {
    char data_dir[IMAPD_PATH_MAX];
    char hostname[WORKER_HOST_MAX + 1];
    char listen[NET_ADDR_TEXT_MAX];          /* port 143, STARTTLS; "" = none */
    char tls_listen[NET_ADDR_TEXT_MAX];      /* port 993, implicit TLS; "" = none */
    char metrics_listen[NET_ADDR_TEXT_MAX];  /* loopback only; "" = none */
    char tls_cert[IMAPD_PATH_MAX], tls_key[IMAPD_PATH_MAX];
    char user[64]; /* run as this user when started as root; "" = stay */
    char api_host[WORKER_HOST_MAX + 1];
    int api_port;
    char redis_host[WORKER_HOST_MAX + 1];
    int redis_port;
    bool plaintext_loopback;  /* LOGIN without TLS from 127.0.0.0/8 and ::1 */
    uint64_t message_max;     /* APPENDLIMIT (RFC 7889) */
    unsigned errors_max;      /* BAD commands before the session ends */
    unsigned idle_timeout_ms; /* between commands (RFC 9051 5.4: at least 30 minutes) */
    unsigned idle_max_ms;     /* one IDLE command may last this long */
    unsigned session_timeout_ms;
    unsigned conns_max, conns_per_ip_max, sessions_per_user;
    unsigned pool_threads;
    throttle_policy throttle;
    keys_kdf_params kdf; /* kdf.user_*: for the wrap unknown users are checked against */
} imapd_config;

/* Reads the configuration file (NULL: every default). 0, or -1 with a
 * sentence in err. */
int imapd_config_load(const char *path, imapd_config *cfg, char *err, size_t errlen);

/* ---- the server ----------------------------------------------------------- */

typedef struct imapd_metrics {
    net_metric *logins_ok, *logins_failed, *commands, *bad_commands, *sessions_idle, *stores_open;
} imapd_metrics;

typedef struct imapd_user imapd_user;
typedef struct imapd_session imapd_session;
typedef struct imapd_notify imapd_notify;

typedef struct imapd_server {
    imapd_config cfg;
    imap_reader_limits limits; /* of every session's command reader */
    size_t out_max;            /* unsent output per connection (net_limits.out_max) */
    net_loop *loop;
    directory_follower *dir;
    char spool_dir[IMAPD_PATH_MAX + 16];
    char *dummy_wrap;
    imapd_metrics m;
    /* the registry of open stores (user.c) */
    pthread_mutex_t users_lock;
    imapd_user *users; /* a list: few users per process */
    imapd_notify *notify;
} imapd_server;

typedef struct imapd_port {
    imapd_server *srv;
    bool implicit_tls;
    bool tls_available; /* a certificate is loaded: STARTTLS works */
} imapd_port;

/* ---- the open stores (user.c) ------------------------------------------ */

/* One user's open store, shared by the user's sessions in this process. */
struct imapd_user {
    imapd_user *next;
    imapd_server *srv;
    char store_id[SPOOL_STORE_ID_MAX + 1];
    char account[WORKER_ADDRESS_MAX + 1];
    unsigned refs;     /* sessions holding it (users_lock) */
    pthread_mutex_t lock; /* held by a job while it uses mbx */
    mailbox *mbx;      /* NULL until the first login opened it */
    uint64_t last_used; /* monotonic ms of the last job (under lock) */
    bool cached;       /* the store connection may hold cached pages (under lock) */
    imapd_session *sessions; /* the user's sessions (loop thread only) */
};

/* From a pool thread, after a successful login: the user's entry (created
 * when missing) with its store open (opened with l's key material when it is
 * not) and the spool drained. The entry's lock is NOT held on return. Returns
 * the entry with a reference, or NULL with err (the store did not open: the
 * key does not match, a disk error). */
imapd_user *imapd_user_acquire(imapd_server *srv, const worker_login *l, char *err, size_t errlen);
/* Drops a reference; the last one closes the store. Any thread. */
void imapd_user_release(imapd_server *srv, imapd_user **u);
/* Attaches / detaches a session to its user's list (loop thread). */
void imapd_user_attach(imapd_user *u, imapd_session *s);
void imapd_user_detach(imapd_user *u, imapd_session *s);
/* Wakes the sessions of store_id in this process (imapd_idle_wake; loop
 * thread): the notifier heard that the store changed. NULL: every
 * session (notices may have been lost). */
void imapd_user_wake(imapd_server *srv, const char *store_id);
/* Gives back the page cache of stores unused for IMAPD_TRIM_MS (a pool job,
 * every IMAPD_TRIM_MS): a user's next command reads its pages again, an
 * idle user costs no cache. */
void imapd_users_trim(imapd_server *srv);
/* Marks u used now; with release, its cache is given back at once (an IDLE
 * session's look: it is about to wait). Jobs only, u->lock held. */
void imapd_user_used(imapd_user *u, bool release);
/* Sessions of the user in this process (loop thread). */
unsigned imapd_user_sessions(const imapd_user *u);

/* ---- message numbers and UIDs (uidmap.c, pure) ---------------------------- */

/* The UIDs of a view in ascending order, as runs of consecutive UIDs: a
 * mailbox that never lost a message is one run, so a view costs a few
 * bytes whatever the number of messages. Message sequence number n is the
 * n-th UID. */
typedef struct imapd_uidrun {
    uint32_t first, last; /* UIDs first..last, all present */
    uint32_t before;      /* messages in the runs before this one */
} imapd_uidrun;

typedef struct imapd_uidmap {
    imapd_uidrun *runs;
    size_t n, cap;
    uint32_t count; /* messages */
} imapd_uidmap;

void imapd_uidmap_free(imapd_uidmap *m);
/* The UID of message msn (1..count), or 0. O(log runs). */
uint32_t imapd_uidmap_uid(const imapd_uidmap *m, uint32_t msn);
/* The message number of uid, or 0 when it is not in the view. O(log runs). */
uint32_t imapd_uidmap_msn(const imapd_uidmap *m, uint32_t uid);
/* The greatest UID, or 0 when empty. */
uint32_t imapd_uidmap_last(const imapd_uidmap *m);
/* Adds uid, which must be greater than every UID present. 0, or -1 (out of
 * memory, or uid not greater). */
int imapd_uidmap_append(imapd_uidmap *m, uint32_t uid);
/* Removes uid: its former message number, or 0 when it was not there
 * (or memory ran out splitting a run: -1 cannot happen, the map stays
 * valid and 0 is returned). */
uint32_t imapd_uidmap_remove(imapd_uidmap *m, uint32_t uid);

/* ---- the selected mailbox ------------------------------------------------ */

typedef struct imapd_view {
    int64_t id;
    char name[STORE_NAME_MAX + 1];
    bool readonly;        /* EXAMINE */
    uint32_t uidvalidity;
    uint64_t uidnext;     /* as last reported */
    uint64_t modseq;      /* the HIGHESTMODSEQ the session is in step with */
    imapd_uidmap map;     /* the messages the client knows of */
    uint32_t recent_from; /* IMAP4rev1 \Recent: UIDs from this one arrived during the session */
    store_uids saved;     /* "$" (RFC 5182) */
    /* expunges not reported yet (FETCH, STORE and SEARCH forbid EXPUNGE,
     * RFC 9051 7.5.1): UIDs gone from the store, still in map */
    store_uids gone;
} imapd_view;

/* ---- sessions ------------------------------------------------------------ */

typedef enum {
    IMAPD_NOT_AUTHENTICATED,
    IMAPD_AUTHENTICATED,
    IMAPD_SELECTED,
    IMAPD_LOGOUT,
} imapd_state;

/* What a command is allowed in (bits). */
#define IMAPD_IN_NOTAUTH (1u << IMAPD_NOT_AUTHENTICATED)
#define IMAPD_IN_AUTH (1u << IMAPD_AUTHENTICATED)
#define IMAPD_IN_SELECTED (1u << IMAPD_SELECTED)
#define IMAPD_IN_ANY (IMAPD_IN_NOTAUTH | IMAPD_IN_AUTH | IMAPD_IN_SELECTED)
#define IMAPD_IN_LOGGED (IMAPD_IN_AUTH | IMAPD_IN_SELECTED)

typedef enum {
    IMAPD_MODE_COMMAND, /* reading commands */
    IMAPD_MODE_SASL,    /* AUTHENTICATE: waiting for a response line */
    IMAPD_MODE_IDLE,    /* IDLE: waiting for DONE */
} imapd_mode;

typedef enum { IMAPD_DONE, IMAPD_MORE } imapd_step;
typedef imapd_step (*imapd_work_fn)(imapd_session *s);

/* What the tagged response will say. */
typedef struct imapd_result {
    const char *resp; /* "OK", "NO", "BAD" */
    char *code;       /* malloc'd; NULL = none */
    char text[IMAPD_TEXT_MAX];
} imapd_result;

/* How the job runner reports changes of other sessions before the tagged
 * response (RFC 9051 7.5.1). */
#define IMAPD_SYNC_NONE 0u     /* none (LOGIN, SELECT: the command says it all) */
#define IMAPD_SYNC_NOEXPUNGE 1u /* EXISTS and flag changes, expunges held back */
#define IMAPD_SYNC_FULL 2u     /* everything */
#define IMAPD_SYNC_MASK 3u
/* Or'ed in: move the spool into INBOX before the work (NOOP, SELECT,
 * STATUS: what a client polls with). */
#define IMAPD_DRAIN 4u

struct imapd_session {
    net_conn *c;
    imapd_server *srv;
    const imapd_port *port;
    const char *id; /* net_conn_session */
    imapd_session *user_next; /* in user->sessions */
    imapd_state state;
    imapd_mode mode;
    bool tls;
    unsigned errors;
    imap_reader reader;
    /* the command being answered */
    char tag[IMAPD_TAG_MAX + 1];
    const imap_command *cmd; /* &cmd_copy while the command runs (input is paused) */
    imap_command cmd_copy;
    imapd_result result;
    bool busy; /* a job runs for this session */
    imapd_work_fn work;
    imapd_step step;        /* what the last step of the job said */
    bool waiting_writable;  /* a job step waits for the output to drain */
    unsigned sync; /* IMAPD_SYNC_* after the work */
    void *cmd_state;
    void (*cmd_state_free)(void *);
    bool changed; /* the job changed the store: publish it */
    buf out;      /* output gathered by a job (or a handler), flushed on the loop */
    /* enabled (RFC 5161 ENABLE; SELECT (CONDSTORE) and the CONDSTORE
     * commands enable CONDSTORE too, RFC 7162 3.1) */
    bool rev2, utf8, condstore, qresync;
    /* logged in */
    char account[WORKER_ADDRESS_MAX + 1];
    imapd_user *user;
    /* selected */
    imapd_view *view;
    /* AUTHENTICATE PLAIN waiting for its response */
    bool sasl_pending;
    /* IDLE */
    bool idle_wake;     /* a notice came while a job ran: look again afterwards */
    bool compress_next; /* COMPRESS: start deflate after the tagged OK is flushed */
};

/* ---- responses (session.c) ------------------------------------------------
 * Every response goes into s->out (a loop-thread handler or a job alike);
 * the session sends it when the handler or the job returns. */

/* Appends printf output to s->out. */
void imapd_printf(imapd_session *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The tagged response of the current command: resp "OK" / "NO" / "BAD",
 * code NULL or the text inside [] (e.g. "TRYCREATE", "APPENDUID 7 12").
 * Written after the command's untagged responses and the sync. */
void imapd_result_set(imapd_session *s, const char *resp, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
#define imapd_ok(s, ...) imapd_result_set((s), "OK", __VA_ARGS__)
#define imapd_no(s, ...) imapd_result_set((s), "NO", __VA_ARGS__)
#define imapd_bad(s, ...) imapd_result_set((s), "BAD", __VA_ARGS__)
/* A parser's error as the result (BAD / NO with its code; BYE closes). */
void imapd_result_error(imapd_session *s, const imap_error *e);
/* NO for a store error, with the RFC 5530 code that fits it. */
void imapd_result_store(imapd_session *s, int store_rc, const char *what);
/* A mailbox name as it goes out: astring, mUTF-7 unless UTF-8 is on. */
void imapd_write_mailbox(imapd_session *s, const char *name);
/* The flags of a message as a parenthesized list: "(\Seen $Label)" (with
 * \Recent when recent). */
void imapd_write_flags(imapd_session *s, unsigned flags, const char *keywords, bool recent);
/* Whether names travel as UTF-8 (IMAP4rev2 or UTF8=ACCEPT enabled). */
bool imapd_utf8_names(const imapd_session *s);
/* A mailbox argument into the store's UTF-8 name. false: the result is set
 * (BAD). */
bool imapd_arg_mailbox(imapd_session *s, const imap_arg *a, char out[STORE_NAME_MAX + 1]);

/* ---- jobs (session.c) ------------------------------------------------------ */

/* Runs work on a pool thread with the user's store lock held, then writes
 * s->out, the sync (IMAPD_SYNC_*) and the tagged result, and reads the next
 * command. work may return IMAPD_MORE to be called again once the output
 * has drained (a FETCH of many messages). state / state_free: the command's
 * parsed arguments, freed after the last step. Call from a command handler
 * and return. */
void imapd_run(imapd_session *s, imapd_work_fn work, unsigned sync, void *state,
               void (*state_free)(void *));
/* The store of the session (jobs only). */
sqlite3 *imapd_db(imapd_session *s);
/* The job changed the store: other sessions are told after it. */
void imapd_changed(imapd_session *s);
/* After a job started with net_conn_submit (not imapd_run) answered: writes
 * the tagged result and reads the next command (loop thread). */
void imapd_session_resume(imapd_session *s);
/* Counts a BAD; past errors_max the session ends with BYE. */
void imapd_count_error(imapd_session *s);
/* Whether LOGIN / AUTHENTICATE may be used now: over TLS, or from loopback
 * when imap.plaintext_loopback allows it. */
bool imapd_credentials_allowed(const imapd_session *s);

/* ---- the command table (commands.c) ---------------------------------------- */

/* Appends the capability list (without "* CAPABILITY") to s->out. */
void imapd_capability(imapd_session *s);
/* Runs the command's handler, or sets BAD (unknown, wrong state). */
void imapd_dispatch(imapd_session *s, const imap_command *cmd);

/* ---- the selected mailbox (select.c) ------------------------------------ */

/* Reports what changed in the selected mailbox since the view was last in
 * step (jobs only): EXPUNGE (or VANISHED with QRESYNC) when expunges is
 * true, else they wait in view->gone; EXISTS and RECENT for new messages;
 * FETCH (FLAGS UID [MODSEQ]) for flag changes. 0, or -1 when the store
 * failed (the mailbox was deleted: the session gets BYE). */
int imapd_sync(imapd_session *s, bool expunges);
/* Reports messages expunged (ascending UIDs) and drops them from the view:
 * "* n EXPUNGE" each, numbers shifting as each one goes (RFC 9051 7.5.1),
 * or one VANISHED with QRESYNC (RFC 7162 3.2.10). UIDs not in the view are
 * skipped. */
void imapd_report_expunged(imapd_session *s, const uint32_t *uids, size_t n);
/* Ascending UIDs as a sequence set ("1:3,7"). */
void imapd_write_uid_set(buf *b, const uint32_t *uids, size_t n);
/* Frees the view (UNSELECT, CLOSE, a new SELECT, logout). */
void imapd_view_free(imapd_view **v);

/* A sequence set of the current command as store UIDs (jobs and handlers):
 * message numbers through the view, UIDs as given ("*" the last UID of the
 * view), kept to UIDs the client knows of. Returns 0 with *ranges_r / *n_r
 * (malloc'd; may be empty) or -1 with the result set (BAD). */
int imapd_set_uids(imapd_session *s, const imap_seqset *set, bool uid, store_range **ranges_r,
                   size_t *n_r);

/* ---- command handlers (loop thread) ------------------------------------- */

typedef void imapd_cmd_fn(imapd_session *s, const imap_command *cmd);

imapd_cmd_fn imapd_cmd_capability, imapd_cmd_noop, imapd_cmd_logout, imapd_cmd_starttls,
    imapd_cmd_enable, imapd_cmd_id, imapd_cmd_compress; /* session.c */
imapd_cmd_fn imapd_cmd_login, imapd_cmd_authenticate;                   /* auth.c */
imapd_cmd_fn imapd_cmd_select, imapd_cmd_unselect, imapd_cmd_close;    /* select.c */
imapd_cmd_fn imapd_cmd_create, imapd_cmd_delete, imapd_cmd_rename, imapd_cmd_subscribe,
    imapd_cmd_unsubscribe, imapd_cmd_list, imapd_cmd_lsub, imapd_cmd_status,
    imapd_cmd_namespace, imapd_cmd_getquota, imapd_cmd_getquotaroot;  /* mailboxes.c */
imapd_cmd_fn imapd_cmd_fetch;                                            /* fetch.c */
imapd_cmd_fn imapd_cmd_store, imapd_cmd_copy, imapd_cmd_move, imapd_cmd_expunge; /* messages.c */
imapd_cmd_fn imapd_cmd_search, imapd_cmd_sort, imapd_cmd_thread;       /* search.c */
imapd_cmd_fn imapd_cmd_append;                                           /* append.c */
imapd_cmd_fn imapd_cmd_idle;                                             /* idle.c */

/* AUTHENTICATE's response line (auth.c). */
void imapd_sasl_line(imapd_session *s, const char *line, size_t len);
/* IDLE: the line that ends it, and a notice for the session (idle.c). */
void imapd_idle_line(imapd_session *s, const char *line, size_t len);
void imapd_idle_wake(imapd_session *s);
/* Moves the user's spool into INBOX (jobs only, store lock held). */
void imapd_drain(imapd_session *s);
/* Leaves IDLE (DONE, or a line that cannot be DONE). */
void imapd_idle_end(imapd_session *s);
/* After a job of the session: a wake that came meanwhile looks now. */
void imapd_idle_again(imapd_session *s);
/* Session teardown (auth.c): detaches from the user, releases the store. */
void imapd_logout_user(imapd_session *s);

extern const net_handler imapd_handler;

/* ---- notifications (notify.c) -------------------------------------------- */

/* Subscribes to WORKER_NEW_MAIL_CHANNEL on a thread of its own and wakes the
 * IDLE sessions of each store id it hears of (on the loop thread). 0 or -1. */
int imapd_notify_start(imapd_server *srv);
void imapd_notify_stop(imapd_server *srv);

#endif
