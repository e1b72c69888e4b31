/* ownmail-smtp: the SMTP worker (MX and submission), RFC 5321.
 *
 * One process, one lib/net loop. The loop thread parses commands (lib/smtp)
 * and answers them; anything that blocks (Argon2id for AUTH, sealing and
 * fsyncing spool files, Redis) runs as a pool job, with the connection
 * paused until the job's answer is written, so pipelined commands wait.
 *
 *   main.c      start-up: configuration, keys, directory follower, listeners
 *   config.c    the smtp.* configuration keys
 *   session.c   the command table, the session state, replies
 *   message.c   DATA and BDAT: receiving the message text
 *   deliver.c   the delivery job: local copies into spools, the rest queued
 *   dsn.c       the "delivered" DSN of a delivery (RFC 3461 NOTIFY=SUCCESS)
 *   auth.c      AUTH PLAIN and LOGIN (submission, over TLS only)
 *   rcpt.c      recipients against the directory (pure)
 *   received.c  the Received header (pure)
 */
#ifndef OWNMAIL_SMTPD_H
#define OWNMAIL_SMTPD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "directory.h"
#include "follower.h"
#include "keys.h"
#include "names.h"
#include "net.h"
#include "queue.h"
#include "smtp_command.h"
#include "smtp_data.h"
#include "spool.h"
#include "throttle.h"
#include "worker.h"

#define SMTPD_PROGRAM "ownmail-smtp"
#define SMTPD_PATH_MAX 4096
#define SMTPD_HOST_MAX 255
#define SMTPD_ADDRESS_MAX (NAMES_LOCAL_MAX + 1 + NAMES_DOMAIN_MAX) /* local@a-label */
#define SMTPD_HELO_MAX SMTP_DOMAIN_MAX
#define SMTPD_SASL_LINE_MAX SMTP_AUTH_LINE_MAX /* a SASL response line */
#define SMTPD_CREDENTIAL_MAX KEYS_CREDENTIAL_MAX
#define SMTPD_EXPAND_DEPTH 8    /* aliases of aliases followed */
#define SMTPD_EXPAND_MAX 1000   /* mailboxes one transaction may reach */
#define SMTPD_RECEIVED_MAX 2048 /* bytes of our Received header */

/* ---- configuration (config.c) ------------------------------------------ */

typedef enum {
    SMTPD_DISABLED_REJECT, /* 550 5.2.1: the mailbox is disabled */
    SMTPD_DISABLED_DEFER,  /* 450 4.2.1: try later (the account may come back) */
} smtpd_disabled_policy;

typedef struct smtpd_config {
    char data_dir[SMTPD_PATH_MAX];
    char hostname[SMTPD_HOST_MAX + 1];
    char postmaster[SMTPD_ADDRESS_MAX + 1];     /* where <Postmaster> goes (smtp.postmaster) */
    char mx_listen[NET_ADDR_TEXT_MAX];          /* "" = no MX listener */
    char submission_listen[NET_ADDR_TEXT_MAX];  /* STARTTLS; "" = none */
    char submissions_listen[NET_ADDR_TEXT_MAX]; /* implicit TLS; "" = none */
    char metrics_listen[NET_ADDR_TEXT_MAX];     /* loopback only; "" = none */
    char tls_cert[SMTPD_PATH_MAX], tls_key[SMTPD_PATH_MAX];
    char user[64]; /* run as this user when started as root */
    char api_host[WORKER_HOST_MAX + 1];
    int api_port;
    char redis_host[SMTPD_HOST_MAX + 1];
    int redis_port;
    uint64_t message_max;     /* bytes (SIZE) */
    unsigned recipients_max;  /* RCPTs per transaction */
    size_t line_max;          /* octets of a line of message text, CRLF included; 0 = any */
    unsigned errors_max;      /* bad commands before the session ends */
    unsigned idle_timeout_ms; /* between commands, and during DATA */
    unsigned session_timeout_ms;
    unsigned conns_max, conns_per_ip_max;
    unsigned pool_threads;
    smtpd_disabled_policy disabled;
    throttle_policy throttle;
    keys_kdf_params kdf; /* kdf.user_*: for the wrap unknown users are checked against */
    queue_config queue;  /* queue.* (lib/queue): outside delivery */
} smtpd_config;

/* Reads the configuration file (NULL: every default). Unknown keys of the
 * worker's own sections are refused with a suggestion. 0, or -1 with a
 * sentence in err. */
int smtpd_config_load(const char *path, smtpd_config *cfg, char *err, size_t errlen);

/* ---- the server: what every session shares ------------------------------ */

typedef struct smtpd_metrics {
    net_metric *messages, *recipients, *rejected_rcpt, *auth_ok, *auth_failed, *spool_failed;
} smtpd_metrics;

typedef struct smtpd_server {
    smtpd_config cfg;
    net_loop *loop;
    directory_follower *dir;
    char spool_dir[SMTPD_PATH_MAX + 16];
    char stores_dir[SMTPD_PATH_MAX + 16];
    smtpd_metrics m;
    bool outbound;           /* the outbound queue runs: outside recipients are accepted */
    keys_secret *server_key; /* seals the outbound queue (keys/server.key) */
    queue_runner *runner;
    char *dummy_wrap; /* a wrap that never opens (base64), for unknown users */
    struct smtpd_quota *quota;
} smtpd_server;

/* What a listener serves. */
typedef struct smtpd_port {
    smtpd_server *srv;
    bool submission;  /* AUTH required, recipients anywhere */
    net_tls_ctx *tls; /* STARTTLS / implicit TLS; NULL: none */
} smtpd_port;

/* ---- recipients (rcpt.c, pure over a directory) ------------------------ */

typedef struct smtpd_mailbox {
    char address[SMTPD_ADDRESS_MAX + 1];
    char store_id[SPOOL_STORE_ID_MAX + 1];
    unsigned char pk[32];
    uint64_t quota; /* bytes; 0 = none */
} smtpd_mailbox;

/* An outside address: a submission recipient, or an alias's forward. */
typedef struct smtpd_remote {
    char address[SMTPD_ADDRESS_MAX + 1];
    size_t rcpt; /* the RCPT it came from (set by the session) */
} smtpd_remote;

typedef struct smtpd_targets {
    smtpd_mailbox *local; /* distinct stores */
    size_t nlocal, cap_local;
    smtpd_remote *remote; /* distinct addresses */
    size_t nremote, cap_remote;
    /* Every mailbox / outside address reached, counting again one that was
     * already there: what one RCPT reached is the growth across its
     * expansion, shared targets included (for its DSN, dsn.c). */
    size_t reached_local, reached_remote;
} smtpd_targets;

typedef enum {
    SMTPD_RCPT_OK,
    SMTPD_RCPT_NOT_HOSTED, /* the domain is not ours: relaying */
    SMTPD_RCPT_UNKNOWN,    /* no such user (or an alias that reaches nobody) */
    SMTPD_RCPT_DISABLED,   /* the user, alias or domain is disabled */
    SMTPD_RCPT_TOO_MANY,   /* the expansion passed SMTPD_EXPAND_MAX */
    SMTPD_RCPT_BROKEN,     /* a directory entry without usable key material */
} smtpd_rcpt_status;

/* Resolves address (local part as given, domain an A-label in any case) and
 * adds what it reaches to t: users of hosted domains once per store, the
 * targets of aliases and catch-alls followed to SMTPD_EXPAND_DEPTH, outside
 * targets as remote addresses; reached_local / reached_remote count every
 * one reached. Nothing is added or counted unless it returns OK. */
smtpd_rcpt_status smtpd_rcpt_expand(const directory *d, const char *address, smtpd_targets *t);
/* True when address is an address the user may send as: the user's own, or
 * an enabled alias of a hosted domain that lists the user as a target. */
bool smtpd_rcpt_owns(const directory *d, const char *user, const char *address);
/* Adds an outside address (once; counted in reached_remote each time). 0,
 * or -1 out of memory / too long. */
int smtpd_targets_add_remote(smtpd_targets *t, const char *address);
void smtpd_targets_free(smtpd_targets *t);

/* ---- usage for the quota (quota.c) ---------------------------------------- */

#define SMTPD_QUOTA_SLOTS 4096  /* stores whose spool total is remembered */
#define SMTPD_QUOTA_RESCAN_S 30 /* a spool directory is scanned at most this often */

typedef struct smtpd_quota smtpd_quota;
smtpd_quota *smtpd_quota_new(void);
void smtpd_quota_free(smtpd_quota **q);
/* Bytes of the store file, its WAL and its spool (cached, see quota.c). */
uint64_t smtpd_quota_usage(smtpd_quota *q, const char *stores_dir, const char *spool_dir,
                           const char *store_id, int64_t now);
/* A copy of bytes was spooled for the store. */
void smtpd_quota_spooled(smtpd_quota *q, const char *store_id, uint64_t bytes);

/* ---- Received (received.c, pure) --------------------------------------- */

typedef struct smtpd_received_info {
    const char *helo;     /* as the client gave it */
    const char *peer_ip;  /* "192.0.2.1", "2001:db8::1" */
    const char *hostname; /* ours */
    const char *session;  /* our id for the transaction */
    bool esmtp, tls, auth, utf8;
    const char *tls_version, *tls_cipher;
    int tls_bits;
    const char *for_rcpt; /* one recipient, or NULL when there are several */
    int64_t now;          /* Unix time */
} smtpd_received_info;

/* Appends a Received header field (RFC 5321 4.4, "with" per RFC 3848 and
 * RFC 6531) ending in CRLF to out. 0, or -1 when out is full. */
int smtpd_received_format(buf *out, const smtpd_received_info *info);

/* ---- the outbound queue's local deliveries (deliver.c) ------------------- */

/* queue_local_fn for the runner's DSNs: to the sender's mailboxes when it is
 * hosted here, else queued with the null sender. Runner threads. */
int smtpd_queue_local(void *ctx, const char *recipient, const char *msg, size_t len);


/* ---- sessions (session.c, message.c, auth.c, deliver.c) ----------------- */

extern const net_handler smtpd_handler;

#endif
