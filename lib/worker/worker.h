/* worker: what the mail workers (SMTP, IMAP, POP3) share around a login.
 *
 *  - start-up: the worker secret (the api's bearer token for the directory
 *    snapshot), a dummy wrap for unknown users, api.listen as host and port;
 *  - the credential check of a login (worker_login_run, on a pool thread):
 *    the attempt is counted in Redis first (lib/throttle, scope "user",
 *    shared with the api's user endpoints), then the user's store key is
 *    unwrapped with the password or an app password (Argon2id). Time does
 *    not tell which accounts exist: an unknown or disabled user costs one
 *    Argon2id too (the dummy wrap). A worker that serves the mailbox (IMAP,
 *    POP3) keeps the unwrapped store key and the user's key material; SMTP
 *    needs only the proof;
 *  - SASL PLAIN (RFC 4616) responses into sodium_malloc'd memory.
 *
 * Secrets (passwords, store keys) live in sodium_malloc'd memory and are
 * wiped when freed.
 */
#ifndef OWNMAIL_WORKER_H
#define OWNMAIL_WORKER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "conf.h"
#include "follower.h"
#include "keys.h"
#include "names.h"
#include "net.h"
#include "spool.h"
#include "throttle.h"

#define WORKER_ADDRESS_MAX (NAMES_LOCAL_MAX + 1 + NAMES_DOMAIN_MAX) /* local@a-label */
#define WORKER_HOST_MAX 255
#define WORKER_SECRET_FILE_MAX 4096
#define WORKER_WRAPS_MAX 64     /* credentials of one user tried (password + app passwords) */
#define WORKER_SEALED_SK_MAX 1024 /* bytes of a sealed X25519 secret key */
#define WORKER_THROTTLE_SCOPE "user"

/* ---- start-up (start.c) -------------------------------------------------- */

#define WORKER_DIRECTORY_WAIT_MS 30000 /* for the first snapshot before serving */

/* "PROGRAM [--config FILE] [check-config]": anything else prints the usage
 * and exits 2. */
void worker_parse_args(int argc, char **argv, const char *program, const char **config_r,
                       bool *check_r);

/* The listeners' certificate when needed (a TLS port is configured) or
 * when the certificate file is readable (STARTTLS): *tls_r, or NULL when
 * neither. 0, or -1 (logged) when it does not load. */
int worker_tls_load(bool needed, const char *cert, const char *key, net_tls_ctx **tls_r);

typedef struct worker_start_opts {
    const char *user;     /* run as this user ("" = stay) */
    const char *user_key; /* its configuration key, for the warning as root */
    const char *redis_host;
    int redis_port;
    const char *api_host;
    int api_port;
    const char *secret; /* the api's bearer token (worker_secret_load) */
    size_t secret_len;
    const char *waiting; /* what fails until the first snapshot: "logins fail" */
} worker_start_opts;

/* After the ports are bound and the keys read: drops privileges, takes the
 * signals (net_loop_handle_signals), points lib/rds at Redis and starts the
 * directory follower, waiting up to WORKER_DIRECTORY_WAIT_MS for its first
 * snapshot (then serving anyway, with a warning). 0, or -1 (logged). */
int worker_start(net_loop *loop, const worker_start_opts *o, directory_follower **dir_r);

/* ---- secrets and addresses (worker.c) ------------------------------------ */

/* <data_dir>/keys/worker.secret, the api's bearer token for the directory
 * snapshot, into sodium_malloc'd memory. 0, or -1 (logged). */
int worker_secret_load(const char *data_dir, char **secret_r, size_t *len_r);

/* A wrap (base64) that never opens, unwrapped for unknown users with the
 * users' KDF parameters. 0 or -1. Free with free(). */
int worker_dummy_wrap(const keys_kdf_params *kdf, char **wrap_r);

/* api.listen ("HOST:PORT", "[v6]:PORT"; "*" and "0.0.0.0" mean this host)
 * as the host and port a worker fetches its snapshot from. 0, or -1 with
 * err. */
int worker_api_addr(const conf *c, char host[WORKER_HOST_MAX + 1], int *port_r, conf_error *err);

/* throttle_cmd_fn over this pool thread's Redis connection (lib/rds). */
redisReply *worker_rds_command(void *ctx, int argc, const char **argv, const size_t *lens);

/* "Something changed in this store": published by SMTP after a delivery into
 * the user's spool, and by IMAP / POP3 after a change to the store, so that
 * every session of the user, in any worker process, looks (IDLE, DESIGN.md
 * "Mail flow"). The message is the store id. */
#define WORKER_NEW_MAIL_CHANNEL "ownmail:newmail"

/* PUBLISH on WORKER_NEW_MAIL_CHANNEL from a pool thread. 0 or -1. */
int worker_publish_new_mail(const char *store_id);

/* ---- a login ------------------------------------------------------------ */

typedef enum {
    WORKER_LOGIN_OK,
    WORKER_LOGIN_WRONG,     /* unknown user, disabled, wrong credential */
    WORKER_LOGIN_THROTTLED, /* too many failures: not checked */
    WORKER_LOGIN_TEMPFAIL,  /* Redis unreachable (fail closed), out of memory */
    WORKER_LOGIN_BROKEN,    /* the user's directory entry lacks usable key material */
} worker_login_outcome;

typedef struct worker_login {
    /* in */
    directory_follower *dir;
    const throttle_policy *throttle;
    const char *dummy_wrap;
    const char *ip;
    const char *user; /* as the client gave it (sodium_malloc'd by the caller) */
    const char *pass;
    size_t pass_len;
    bool want_key; /* keep the store key and the key material below */
    /* out */
    worker_login_outcome outcome;
    long retry_after;                          /* THROTTLED: seconds */
    char account[WORKER_ADDRESS_MAX + 1];      /* normalised: local@a-label */
    keys_secret *store_key;                    /* want_key, OK */
    char store_id[SPOOL_STORE_ID_MAX + 1];     /* want_key, OK */
    unsigned char pk[KEYS_X25519_PK_LEN];      /* want_key, OK */
    unsigned char sealed_sk[WORKER_SEALED_SK_MAX]; /* want_key, OK: x25519_sealed_sk */
    size_t sealed_len;
    uint64_t quota; /* want_key, OK: quota_bytes (0 = none) */
} worker_login;

/* The check (blocking: Argon2id, Redis): run it on a pool thread. Sets
 * outcome and, on OK, account (and with want_key the key material). */
void worker_login_run(worker_login *l);
/* Frees the store key; the inputs stay the caller's. */
void worker_login_clear(worker_login *l);

/* ---- SASL ---------------------------------------------------------------- */

/* Copies s[0..len) into sodium_malloc'd memory with a NUL; NULL when out of
 * memory. */
char *worker_secret_dup(const char *s, size_t len);
/* Wipes and frees; sets *p NULL. */
void worker_secret_free(char **p);

/* A base64 SASL response ("=" is empty) into sodium_malloc'd memory with a
 * NUL; NULL when it is not base64. */
char *worker_sasl_b64(const char *in, size_t len, size_t *out_len_r);

typedef enum {
    WORKER_SASL_OK,
    WORKER_SASL_MALFORMED, /* not base64, not two NULs: a syntax error */
    WORKER_SASL_REFUSED,   /* an authzid for someone else, empty or too long parts */
} worker_sasl_result;

/* RFC 4616 2: base64 of [authzid] NUL authcid NUL passwd. An authzid other
 * than the authcid would act for someone else: refused. On OK *user_r and
 * *pass_r (sodium_malloc'd; free with worker_secret_free) and *pass_len_r. */
worker_sasl_result worker_sasl_plain(const char *b64, size_t len, char **user_r, char **pass_r,
                                     size_t *pass_len_r);

#endif
