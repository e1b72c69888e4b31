/* The state of one SMTP session, shared by session.c (commands), message.c
 * (DATA, BDAT), auth.c (AUTH) and deliver.c (the delivery job). */
#ifndef OWNMAIL_SMTPD_SESSION_H
#define OWNMAIL_SMTPD_SESSION_H

#include "smtpd.h"

#define SMTPD_TXID_MAX 32

typedef enum {
    SMTPD_FRESH, /* no EHLO / HELO yet (also after STARTTLS) */
    SMTPD_READY, /* greeted, no transaction */
    SMTPD_MAIL,  /* MAIL accepted: RCPT, DATA, BDAT */
    SMTPD_DATA,  /* reading the text of DATA */
    SMTPD_BDAT,  /* reading the octets of a BDAT chunk */
    SMTPD_SASL,  /* AUTH: waiting for a SASL response line */
} smtpd_state;

typedef enum { SMTPD_SASL_PLAIN, SMTPD_SASL_LOGIN } smtpd_sasl_mech;

/* One accepted RCPT, as the client gave it (for DSNs and the log). */
typedef struct smtpd_rcpt {
    char path[SMTP_PATH_MAX + 1];             /* "<local@domain>" */
    unsigned notify;                          /* SMTP_NOTIFY_* (RFC 3461) */
    char orcpt_type[SMTP_ORCPT_TYPE_MAX + 1]; /* "" = none given */
    char orcpt[SMTP_ORCPT_MAX + 1];
    /* What it reached (smtpd_targets.reached_*): mailboxes here, shared
     * with an earlier RCPT or not, and outside addresses. */
    size_t nlocal, nremote;
} smtpd_rcpt;

typedef struct smtpd_session {
    net_conn *c;
    smtpd_server *srv;
    const smtpd_port *port;
    const char *id; /* net_conn_session */
    smtpd_state state;
    bool busy; /* a pool job answers the current command */
    bool esmtp, tls;
    char helo[SMTPD_HELO_MAX + 1];
    unsigned errors;
    /* AUTH */
    bool authed;
    char user[SMTPD_ADDRESS_MAX + 1];
    smtpd_sasl_mech sasl_mech;
    int sasl_step;
    char *sasl_login; /* LOGIN: the user name given (sodium_malloc'd) */
    /* The transaction */
    unsigned ntx;
    char txid[SMTPD_TXID_MAX];
    char mail_from[SMTP_PATH_MAX + 1]; /* "<>" or "<local@domain>" */
    smtp_mail_params mail;
    smtpd_rcpt *rcpts;
    size_t nrcpt;
    smtpd_targets targets;
    buf msg; /* the message text, Received header first (buf_init_secret) */
    bool msg_open;
    size_t msg_start;
    smtp_data_reader reader;
    uint64_t bdat_left; /* octets of the current chunk still to read */
    bool bdat_last;
    smtpd_state bdat_return; /* the state to go back to after a refused chunk */
    smtp_error bdat_error;   /* the first refusal of a BDAT transaction */
} smtpd_session;

/* Writes "code x.y.z text" CRLF. */
void smtpd_reply(smtpd_session *s, unsigned code, const char *enhanced, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
void smtpd_reply_error(smtpd_session *s, const smtp_error *e);
/* Counts a refused command; past errors_max ends the session with 421. */
void smtpd_count_error(smtpd_session *s);
/* Forgets the transaction (RSET, after delivery, after STARTTLS). */
void smtpd_tx_reset(smtpd_session *s);
/* A pool job answered: go on with pipelined input. */
void smtpd_resume(smtpd_session *s);

/* message.c */
void smtpd_cmd_data(smtpd_session *s, const smtp_command *cmd);
void smtpd_cmd_bdat(smtpd_session *s, const smtp_command *cmd);
/* Reads message octets in state DATA / BDAT: 1 when the state changed or
 * more input may be processed, 0 when it waits for input. */
int smtpd_message_input(smtpd_session *s);

/* deliver.c: hands the finished message to the delivery job. */
void smtpd_deliver(smtpd_session *s);
/* The RCPT quota check job for the mailboxes added since first_new (and
 * the outside targets since first_remote, taken back with them). */
void smtpd_rcpt_check_quota(smtpd_session *s, size_t first_new, size_t first_remote,
                            const char *path);
/* Submission: every address of the From header is one the user owns. */
bool smtpd_from_owned(smtpd_session *s);

/* dsn.c: what the "delivered" DSN needs of a transaction; pointers into
 * the paused session, valid while its delivery job runs. */
typedef struct smtpd_dsn_tx {
    const char *txid;
    const char *mail_from;        /* "<>" or "<local@domain>" */
    const smtp_mail_params *mail; /* ENVID, RET, SMTPUTF8 */
    const smtpd_rcpt *rcpts;
    size_t nrcpt;
    const char *msg; /* the message as delivered, Received header first */
    size_t len;
} smtpd_dsn_tx;

/* Once every local copy of tx is durable: a "delivered" DSN (RFC 3461
 * 5.2.3, RFC 3464 2.3.3) to the envelope sender, never to "<>", naming
 * each RCPT whose NOTIFY has SUCCESS and that reached mailboxes here and
 * nothing outside, handed to smtpd_queue_local. Pool threads. Returns 1
 * when one was handed over, 0 when none was due, -1 when one was due but
 * could not be built or delivered (err says why). */
int smtpd_dsn_delivered(smtpd_server *srv, const smtpd_dsn_tx *tx, int64_t now, char *err,
                        size_t errlen);

/* auth.c */
void smtpd_cmd_auth(smtpd_session *s, const smtp_command *cmd);
void smtpd_sasl_line(smtpd_session *s, const net_line *line);
void smtpd_auth_clear(smtpd_session *s);

#endif
