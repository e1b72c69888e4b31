/* queue: the durable outbound mail queue (data/queue/) and its delivery
 * engine, linked by the SMTP worker (submission, and alias targets outside
 * the server) and by the ownmail-queue command.
 *
 * DESIGN.md "Storage and keys": the queue must be readable by the server to
 * deliver mail, so it is sealed under the server key (data/keys/server.key)
 * with keys_seal (XChaCha20-Poly1305). Nothing of a message or its envelope
 * is ever written in the clear, not even to a temporary file.
 *
 * On disk, per entry (id = 16 hex digits of the time in microseconds, then
 * 16 random hex digits, so that ids sort by arrival):
 *
 *   <id>.msg    the entry: envelope + message, sealed once by queue_put and
 *               never rewritten (context QUEUE_CONTEXT_ENTRY ":" id, so an
 *               entry renamed to another id does not open)
 *   <id>.state  per-recipient delivery state, sealed (QUEUE_CONTEXT_STATE
 *               ":" id) and replaced atomically (temporary file, fsync,
 *               rename, fsync of the directory) after every transaction.
 *               Absent = every recipient pending, nothing attempted.
 *   tmp-*       an unfinished write: never read, removed by queue_list
 *               when older than QUEUE_TMP_STALE seconds.
 *
 * Crash guarantees. queue_put returns success only once <id>.msg and the
 * directory are fsynced (the SMTP worker answers 250 after it). A recipient
 * is recorded as delivered, durably, right after the remote 250 to the end
 * of DATA, before anything else is sent: a crash can then at worst repeat
 * the one transaction whose 250 was not yet recorded (RFC 5321 6.1 prefers
 * a duplicate to a loss), never one that was recorded. Removal unlinks
 * <id>.msg before <id>.state: a crash in between leaves a state file
 * without an entry (ignored and cleaned), never an entry without its
 * state (which would deliver again).
 *
 * Concurrency: an entry is claimed with flock() on its .msg file, so the
 * runner's threads, several runners and the command line can work on one
 * queue directory without delivering an entry twice at the same time.
 */
#ifndef OWNMAIL_QUEUE_H
#define OWNMAIL_QUEUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "keys.h"
#include "smtp_command.h"
#include "smtp_common.h"

/* keys_seal contexts (keys.h: a context names what is sealed). The entry id
 * is appended after a ':'. */
#define QUEUE_CONTEXT_ENTRY "ownmail-queue-v1"
#define QUEUE_CONTEXT_STATE "ownmail-queue-state-v1"

/* ---- limits ------------------------------------------------------------- */

#define QUEUE_ID_LEN 32 /* 16 hex digits of time + 16 random hex digits */
/* An address as stored, "local@domain" without brackets: a 64-octet local
 * part (RFC 5321 4.5.3.1.1, RFC 6531 counts octets), '@', a 255-octet domain
 * (4.5.3.1.2). "" is the null reverse-path "<>". */
#define QUEUE_ADDR_MAX (SMTP_LOCAL_MAX + 1 + SMTP_DOMAIN_MAX)
#define QUEUE_ENVID_MAX SMTP_ENVID_MAX /* RFC 3461 4.4, decoded */
#define QUEUE_ORCPT_MAX SMTP_ORCPT_MAX /* RFC 3461 4.2, decoded */
#define QUEUE_ORCPT_TYPE_MAX SMTP_ORCPT_TYPE_MAX
#define QUEUE_RCPTS_MAX 1000 /* recipients of one entry */
/* Recipients in one SMTP transaction: RFC 5321 4.5.3.1.8 says a server
 * must take at least 100; more go in further transactions. */
#define QUEUE_TXN_RCPTS_MAX 100
#define QUEUE_REPLY_MAX 512 /* the last reply / diagnostic kept per recipient */
#define QUEUE_MTA_MAX 255   /* the remote MTA's name kept per recipient */
#define QUEUE_MESSAGE_MAX_DEFAULT ((size_t)50 * 1024 * 1024)
/* Hard cap on the message of an entry, whatever the configuration says:
 * the sealed entry must stay within KEYS_SEAL_MAX. */
#define QUEUE_MESSAGE_MAX ((size_t)100 * 1024 * 1024)
#define QUEUE_LIST_MAX 100000 /* entries listed at once */
#define QUEUE_TMP_STALE 3600  /* seconds before a tmp-* file is garbage */
#define QUEUE_ERR_MAX 256     /* a good size for error buffers */
#define QUEUE_PATH_MAX 4096

typedef enum {
    QUEUE_OK = 0,
    QUEUE_ERR_TOO_BIG,   /* message or envelope over a limit: nothing kept */
    QUEUE_ERR_IO,        /* the file system failed */
    QUEUE_ERR_CORRUPT,   /* does not open: wrong key, altered, truncated, renamed */
    QUEUE_ERR_INVALID,   /* a caller error: bad address, bad id, NULL */
    QUEUE_ERR_NOT_FOUND, /* no such entry */
    QUEUE_ERR_BUSY,      /* the entry is locked by another delivery */
} queue_result;

/* A static English description of r. */
const char *queue_strerror(queue_result r);

/* ---- envelope ------------------------------------------------------------ */

typedef struct queue_rcpt {
    char addr[QUEUE_ADDR_MAX + 1]; /* "local@domain", the local part decoded */
    unsigned notify;               /* SMTP_NOTIFY_* (RFC 3461 4.1); 0 = not given */
    /* ORCPT (RFC 3461 4.2), decoded from xtext: type "" = none. */
    char orcpt_type[QUEUE_ORCPT_TYPE_MAX + 1];
    char orcpt[QUEUE_ORCPT_MAX + 1];
} queue_rcpt;

typedef struct queue_envelope {
    char from[QUEUE_ADDR_MAX + 1];   /* "" = the null reverse-path "<>" */
    char envid[QUEUE_ENVID_MAX + 1]; /* ENVID (RFC 3461 4.4); "" = none */
    smtp_ret ret;                    /* RET (RFC 3461 4.3) */
    bool smtputf8;                   /* the submission asked for SMTPUTF8 (RFC 6531) */
    int64_t queued_at;               /* Unix time; queue_put sets it when 0 */
    size_t nrcpt;                    /* 1..QUEUE_RCPTS_MAX */
    queue_rcpt *rcpts;
} queue_envelope;

/* An opened entry: envelope and message (plaintext, in memory wiped when
 * freed). */
typedef struct queue_entry {
    char id[QUEUE_ID_LEN + 1];
    queue_envelope env; /* rcpts owned by the entry */
    unsigned char *msg;
    size_t msg_len;
    bool eightbit; /* the message has octets over 127 (BODY=8BITMIME, RFC 6152) */
} queue_entry;

/* ---- storage (store.c) ----------------------------------------------------- */

/* Seals env and msg (len bytes, at most max_len; 0 = QUEUE_MESSAGE_MAX_DEFAULT;
 * never over QUEUE_MESSAGE_MAX) into dir (created 0700 if missing) and
 * returns the new id in id_r once the entry and the directory are fsynced.
 * Addresses must be "local@domain" (or "" for from), without CR, LF or
 * controls; ORCPT and ENVID likewise. Returns QUEUE_OK, QUEUE_ERR_TOO_BIG,
 * QUEUE_ERR_INVALID or QUEUE_ERR_IO with a message in err (errlen bytes,
 * err may be NULL). */
queue_result queue_put(const char *dir, const keys_secret *server_key, const queue_envelope *env,
                       const void *msg, size_t len, size_t max_len, char id_r[QUEUE_ID_LEN + 1],
                       char *err, size_t errlen);

/* Opens entry id into a new *entry_r (free with queue_entry_free).
 * QUEUE_ERR_NOT_FOUND, QUEUE_ERR_CORRUPT (a wrong key, altered or renamed
 * file, a malformed envelope), QUEUE_ERR_IO. */
queue_result queue_open(const char *dir, const keys_secret *server_key, const char *id,
                        queue_entry **entry_r, char *err, size_t errlen);

/* Wipes and frees *e; sets *e = NULL. NULL and *e == NULL are no-ops. */
void queue_entry_free(queue_entry **e);

/* The ids of the entries of dir, oldest first, in one malloc'd block
 * (*ids_r, free() it; NULL when *n_r is 0). A missing directory is an
 * empty queue. Also removes tmp-* files older than QUEUE_TMP_STALE and
 * state files whose entry is gone. */
queue_result queue_list(const char *dir, char (**ids_r)[QUEUE_ID_LEN + 1], size_t *n_r, char *err,
                        size_t errlen);

/* Claims entry id for delivery (flock, non-blocking) and returns the lock
 * in *lock_fd_r: QUEUE_OK, QUEUE_ERR_BUSY when someone else holds it,
 * QUEUE_ERR_NOT_FOUND. Release with queue_unlock. */
queue_result queue_lock(const char *dir, const char *id, int *lock_fd_r);
void queue_unlock(int *lock_fd);

/* Removes entry id: <id>.msg, then <id>.state, fsyncing the directory after
 * each. A missing entry is QUEUE_OK. */
queue_result queue_remove(const char *dir, const char *id, char *err, size_t errlen);

/* True when id is QUEUE_ID_LEN lowercase hex digits. */
bool queue_id_valid(const char *id);

/* ---- envelope encoding (envelope.c), pure ---------------------------------- */

/* The plaintext of an entry (version 1; integers big-endian):
 *   "OMQE" | u8 version = 1 | u8 ret | u8 flags (1 = SMTPUTF8)
 *   | i64 queued_at | str id | str from | str envid | u32 nrcpt
 *   | nrcpt * (str addr | u8 notify | str orcpt_type | str orcpt)
 *   | u32 message length | message
 * where str = u16 length | octets. The decoder checks every length against
 * the limits above and every string for controls (CR, LF, NUL...), and that
 * nothing trails. */
#define QUEUE_ENVELOPE_MAGIC "OMQE"
#define QUEUE_ENVELOPE_VERSION 1

/* Checks an envelope: addresses, ENVID, ORCPT, NOTIFY, counts. Returns 0 or
 * -1 with *error_r (a static message). */
int queue_envelope_check(const queue_envelope *env, const char **error_r);
/* Checks one "local@domain" as queue_put wants it (printable, not too long):
 * 0, or -1 with *error_r. The SMTP worker asks at RCPT time. */
int queue_addr_check(const char *addr, const char **error_r);

/* Encodes id, env and msg into a malloc'd *out_r (to seal). Returns 0, or
 * -1 (envelope invalid, or no memory) with *error_r. */
int queue_envelope_encode(const char *id, const queue_envelope *env, const void *msg, size_t len,
                          unsigned char **out_r, size_t *out_len_r, const char **error_r);

/* Decodes a plaintext of len octets into *entry_r (a new entry; its msg is
 * a copy). expect_id (NULL = any) must equal the embedded id. Returns 0 or
 * -1 with *error_r. */
int queue_envelope_decode(const unsigned char *in, size_t len, const char *expect_id,
                          queue_entry **entry_r, const char **error_r);

/* ---- per-recipient state (state.c) ----------------------------------------- */

typedef enum {
    QUEUE_RCPT_PENDING = 0,
    QUEUE_RCPT_DELIVERED,
    QUEUE_RCPT_FAILED,
} queue_rcpt_status;

typedef struct queue_rcpt_state {
    queue_rcpt_status status;
    /* The DSN this outcome calls for was handed over, or none was due:
     * "failed" for FAILED, "relayed" for DELIVERED with relayed set. */
    bool reported;
    /* DELIVERED to a server that did not offer DSN, so NOTIFY could not be
     * passed on: with NOTIFY=SUCCESS we owe a "relayed" DSN (RFC 3461 5.2.2). */
    bool relayed;
    uint32_t attempts;                  /* attempts that ended in a temporary failure */
    int64_t next_attempt;               /* Unix time; PENDING only */
    int64_t last_attempt;               /* Unix time; 0 = never */
    unsigned code;                      /* the last reply's code; 0 = a local reason */
    smtp_enhanced enhanced;             /* status for the DSN (RFC 3463) */
    char reply[QUEUE_REPLY_MAX + 1];    /* the last reply or local diagnostic */
    char remote_mta[QUEUE_MTA_MAX + 1]; /* the host that gave it; "" = none */
} queue_rcpt_state;

typedef struct queue_state {
    uint64_t generation; /* bumped by every save */
    size_t nrcpt;
    queue_rcpt_state *rcpts;
} queue_state;

/* State plaintext (version 1): "OMQS" | u8 version | u64 generation | u32
 * nrcpt | nrcpt * (u8 status | u8 flags | u32 attempts | i64 next | i64
 * last | u16 code | u8 cls | u16 subject | u16 detail | str reply | str
 * remote_mta), flags = QUEUE_STATE_REPORTED | QUEUE_STATE_RELAYED. The
 * relayed bit came later: a state written before it has 0 there, which
 * reads as "no DSN owed" for a DELIVERED recipient, as it then was; a
 * reader that predates the bit refuses such a state (QUEUE_ERR_CORRUPT)
 * rather than lose the DSN. */
#define QUEUE_STATE_MAGIC "OMQS"
#define QUEUE_STATE_VERSION 1
#define QUEUE_STATE_REPORTED 1u
#define QUEUE_STATE_RELAYED 2u /* DELIVERED only */

/* A fresh state for an entry: every recipient pending, due at queued_at. */
int queue_state_init(const queue_entry *e, queue_state *st_r);
void queue_state_free(queue_state *st);

/* Loads <id>.state of e (a fresh state when there is none). The state must
 * have e's number of recipients. QUEUE_ERR_CORRUPT when it does not open or
 * does not match. */
queue_result queue_state_load(const char *dir, const keys_secret *server_key, const queue_entry *e,
                              queue_state *st_r, char *err, size_t errlen);

/* Reads <id>.state without its entry (to see when it is due, without
 * opening a large message): QUEUE_ERR_NOT_FOUND when there is none yet. */
queue_result queue_state_peek(const char *dir, const keys_secret *server_key, const char *id,
                              queue_state *st_r, char *err, size_t errlen);

/* Bumps st->generation and replaces <id>.state atomically and durably. */
queue_result queue_state_save(const char *dir, const keys_secret *server_key, const char *id,
                              queue_state *st, char *err, size_t errlen);

/* Pure encoding of a state, for tests and the fuzzer: 0 or -1. The
 * decoder wants nrcpt recipients (0 = any number). */
int queue_state_encode(const queue_state *st, unsigned char **out_r, size_t *out_len_r);
int queue_state_decode(const unsigned char *in, size_t len, size_t nrcpt, queue_state *st_r,
                       const char **error_r);

/* The earliest next_attempt of a pending recipient, or INT64_MAX when none
 * is pending. */
int64_t queue_state_next_attempt(const queue_state *st);

/* True when rs owes a DSN that was not handed over yet: FAILED, or
 * DELIVERED with relayed (whether the recipient's NOTIFY wants it is the
 * DSN builder's question, queue_dsn.h). The entry stays until it is not. */
bool queue_rcpt_dsn_due(const queue_rcpt_state *rs);

/* ---- configuration (config.c) ---------------------------------------------- */

#define QUEUE_HOSTNAME_MAX 255
#define QUEUE_HOSTPORT_MAX 300
#define QUEUE_SECRET_MAX 256
#define QUEUE_CONCURRENCY_MAX 64

typedef struct queue_config {
    char queue_dir[QUEUE_PATH_MAX];          /* <data_dir>/queue */
    const keys_secret *server_key;           /* borrowed; 32 bytes */
    char hostname[QUEUE_HOSTNAME_MAX + 1];   /* EHLO name, Reporting-MTA */
    char dns[QUEUE_HOSTPORT_MAX + 1];        /* "ip[:port]"; "" = /etc/resolv.conf */
    unsigned remote_port;                    /* 25 */
    char relay_host[QUEUE_HOSTPORT_MAX + 1]; /* "host[:port]"; "" = MX delivery */
    char relay_user[QUEUE_SECRET_MAX + 1];
    char relay_password[QUEUE_SECRET_MAX + 1];
    bool relay_verify; /* verify the relay's certificate and name */
    bool starttls;     /* opportunistic STARTTLS to MX hosts */
    unsigned concurrency;
    long long retry_min, retry_max, max_age;                  /* seconds */
    long long connect_timeout, command_timeout, data_timeout; /* seconds */
    long long scan_interval;                                  /* seconds */
    size_t message_max;
} queue_config;

/* Defaults (documented in queue_config_load). */
void queue_config_default(queue_config *cfg);

struct conf;
struct conf_error;
/* Reads the queue's keys of a configuration file into cfg (which starts
 * from queue_config_default), data_dir and hostname included; the server
 * key is the caller's. Keys read, with defaults:
 *   data_dir              (required)  the queue lives in <data_dir>/queue
 *   hostname              "localhost" EHLO name and Reporting-MTA
 *   queue.dns             ""          resolver "ip[:port]"; "" = /etc/resolv.conf
 *   queue.remote_port     25          port of MX hosts
 *   queue.relay_host      ""          smarthost "host[:port]" (port 587)
 *   queue.relay_user      ""          AUTH PLAIN user (with a password: AUTH)
 *   queue.relay_password  ""
 *   queue.relay_verify    yes         verify the smarthost's certificate
 *   queue.starttls        yes         opportunistic STARTTLS to MX hosts
 *   queue.concurrency     4           delivery threads (1..64)
 *   queue.retry_min       5m          first retry delay, doubled each time
 *   queue.retry_max       4h          longest retry delay
 *   queue.max_age         5d          then pending recipients fail (4.4.7)
 *   queue.connect_timeout 30s
 *   queue.command_timeout 5m          per reply (RFC 5321 4.5.3.2)
 *   queue.data_timeout    10m         the reply to the end of DATA (4.5.3.2.6)
 *   queue.scan_interval   60s         rescan of the directory
 *   queue.message_max     50M         largest message accepted by queue_put
 * Returns 0, or -1 with *err_r. */
int queue_config_load(const struct conf *c, queue_config *cfg, struct conf_error *err_r);

/* For conf_unknown_keys: the keys above ("queue.*" and the two globals). */
extern const char *const queue_config_keys[];

/* Retry delay after the n-th (1-based) temporary failure: retry_min *
 * 2^(n-1), at most retry_max. Pure. */
long long queue_backoff(const queue_config *cfg, uint32_t attempts);

/* ---- delivery -------------------------------------------------------------- */

/* A DSN ("failed" or "relayed", queue_dsn.h), to be delivered locally by
 * the caller: recipient is the original sender (the DSN's envelope
 * recipient), the DSN's own reverse-path is "<>" (RFC 5321 4.5.5, RFC 3461
 * 6.2). Called from delivery threads: must be thread-safe. Returns 0 when
 * handled (delivered, queued, or deliberately dropped), -1 to be called
 * again at the next attempt (the recipients stay unreported until then). */
typedef int queue_local_fn(void *ctx, const char *recipient, const char *msg, size_t len);

typedef struct queue_stats {
    uint64_t queued;    /* entries in the queue at the last scan (a gauge) */
    uint64_t attempts;  /* delivery attempts (recipient x attempt) */
    uint64_t delivered; /* recipients delivered */
    uint64_t deferred;  /* recipient attempts that failed temporarily */
    uint64_t bounced;   /* recipients failed for good */
    uint64_t dsns;      /* DSNs handed to the local-delivery callback */
} queue_stats;

/* One delivery pass over the queue from the calling thread: every entry
 * with a recipient due (all pending recipients when force, as a flush),
 * then DSNs and removals. stats_r (may be NULL) gets this pass's counts.
 * Returns 0, or -1 when the queue cannot be read (err). */
int queue_run_pass(const queue_config *cfg, queue_local_fn *deliver_local, void *ctx, bool force,
                   queue_stats *stats_r, char *err, size_t errlen);

typedef struct queue_runner queue_runner;

/* Starts cfg->concurrency delivery threads over cfg->queue_dir. cfg is
 * copied (its server_key is borrowed and must outlive the runner). Returns
 * 0 or -1 with err. */
int queue_runner_start(const queue_config *cfg, queue_local_fn *deliver_local, void *ctx,
                       queue_runner **r, char *err, size_t errlen);

/* A new entry was queued: rescan and try due entries now. Thread-safe,
 * never blocks. */
void queue_runner_kick(queue_runner *r);

/* The counters since start (queued: at the last scan). Thread-safe. */
void queue_runner_stats(queue_runner *r, queue_stats *s_r);

/* Stops the threads and frees *r (sets it NULL). An attempt in flight is
 * abandoned at its next command boundary (its recipients stay pending and
 * the attempt is not counted), except that the reply to the end of DATA is
 * awaited, so a delivery that happened is recorded. */
void queue_runner_stop(queue_runner **r);

#endif
