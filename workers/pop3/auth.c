/* USER / PASS (RFC 1939 7) and AUTH PLAIN (RFC 5034, RFC 4616), only over
 * TLS unless pop3.plaintext_loopback allows loopback clients. The check
 * unwraps the user's store key (lib/worker, on a pool thread, throttled in
 * Redis); the same job then takes the maildrop (maildrop.c). Response
 * codes: RFC 3206 ([AUTH], [SYS/TEMP], [SYS/PERM]) and RFC 2449 ([IN-USE]). */
#include "pop3d.h"

#include "log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct auth_job {
    pop3d_session *s;
    char ip[NET_ADDR_TEXT_MAX];
    char *user, *pass; /* sodium_malloc'd */
    worker_login login;
    pop3d_drop_result drop_result;
    pop3d_maildrop *drop;
    char err[MAILBOX_ERR_LEN];
} auth_job;

void pop3d_auth_forget(pop3d_session *s)
{
    worker_secret_free(&s->user);
}

static void auth_job_free(auth_job *j)
{
    worker_login_clear(&j->login);
    worker_secret_free(&j->user);
    worker_secret_free(&j->pass);
    free(j);
}

static void auth_work(void *arg)
{
    auth_job *j = arg;
    worker_login_run(&j->login);
    if (j->login.outcome == WORKER_LOGIN_OK) {
        j->drop_result = pop3d_maildrop_open(j->s->srv, &j->login, &j->drop, j->err, sizeof j->err);
        if (j->drop_result == POP3D_DROP_FAILED)
            log_error(j->s->id, "%s: maildrop: %s", j->login.account, j->err);
    }
    worker_login_clear(&j->login); /* the open store holds what it needs */
}

static void auth_failed(pop3d_session *s, auth_job *j, const char *why)
{
    net_metric_add(s->srv->m.logins_failed, 1);
    log_warn(s->id, "%s login for %s from %s", why, j->login.account, j->ip);
}

static void auth_done(net_conn *c, void *arg)
{
    auth_job *j = arg;
    pop3d_session *s = j->s;
    pop3d_server *srv = s->srv;
    (void)c;
    if (net_conn_closing(s->c)) {
        pop3d_maildrop_release(srv, &j->drop);
        auth_job_free(j);
        s->busy = false;
        return;
    }
    switch (j->login.outcome) {
    case WORKER_LOGIN_OK:
        if (j->drop_result == POP3D_DROP_IN_USE) {
            log_info(s->id, "%s: maildrop already locked", j->login.account);
            pop3d_printf(s, "-ERR [IN-USE] maildrop already locked\r\n");
            break;
        }
        if (j->drop == NULL) {
            pop3d_printf(s, "-ERR [SYS/TEMP] your maildrop cannot be opened now\r\n");
            break;
        }
        s->drop = j->drop;
        j->drop = NULL;
        snprintf(s->account, sizeof s->account, "%s", j->login.account);
        s->state = POP3D_TRANSACTION;
        net_metric_add(srv->m.logins_ok, 1);
        log_info(s->id, "logged in as %s (%u messages)", s->account, s->drop->n);
        pop3d_printf(s, "+OK maildrop locked and ready\r\n");
        break;
    case WORKER_LOGIN_WRONG:
    case WORKER_LOGIN_BROKEN:
        auth_failed(s, j, "failed");
        pop3d_printf(s, "-ERR [AUTH] authentication failed\r\n");
        pop3d_count_error(s);
        break;
    case WORKER_LOGIN_THROTTLED:
        auth_failed(s, j, "throttled");
        pop3d_printf(s, "-ERR [SYS/TEMP] too many failed attempts, try again in %ld s\r\n",
                     j->login.retry_after);
        pop3d_count_error(s);
        break;
    case WORKER_LOGIN_TEMPFAIL:
        pop3d_printf(s, "-ERR [SYS/TEMP] temporary authentication failure\r\n");
        break;
    }
    auth_job_free(j);
    pop3d_resume(s);
}

/* Starts the check of user / pass (taken over: freed by the job). */
static void auth_check(pop3d_session *s, char *user, char *pass, size_t pass_len)
{
    auth_job *j = user != NULL && pass != NULL ? calloc(1, sizeof *j) : NULL;
    if (j == NULL) {
        worker_secret_free(&user);
        worker_secret_free(&pass);
        pop3d_printf(s, "-ERR [SYS/TEMP] temporary authentication failure\r\n");
        return;
    }
    j->s = s;
    j->user = user;
    j->pass = pass;
    snprintf(j->ip, sizeof j->ip, "%s", net_conn_peer(s->c));
    j->login = (worker_login){.dir = s->srv->dir,
                              .throttle = &s->srv->cfg.throttle,
                              .dummy_wrap = s->srv->dummy_wrap,
                              .ip = j->ip,
                              .user = user,
                              .pass = pass,
                              .pass_len = pass_len,
                              .want_key = true};
    if (net_conn_submit(s->c, auth_work, auth_done, j) < 0) {
        auth_job_free(j);
        pop3d_printf(s, "-ERR [SYS/TEMP] the server is busy, try again later\r\n");
        return;
    }
    s->busy = true;
    net_conn_pause(s->c);
}

/* RFC 2595 2, RFC 8314: credentials only over TLS (or from loopback when
 * pop3.plaintext_loopback allows it). */
static bool auth_allowed(pop3d_session *s)
{
    if (pop3d_credentials_allowed(s))
        return true;
    pop3d_error(s, "[SYS/PERM] use STLS or port 995 first");
    return false;
}

void pop3d_cmd_user(pop3d_session *s, const pop3_command *cmd)
{
    if (!auth_allowed(s))
        return;
    if (cmd->arg_len > WORKER_ADDRESS_MAX) {
        pop3d_error(s, "[AUTH] authentication failed");
        return;
    }
    s->user = worker_secret_dup(cmd->arg, cmd->arg_len);
    if (s->user == NULL) {
        pop3d_printf(s, "-ERR [SYS/TEMP] out of memory\r\n");
        return;
    }
    /* RFC 1939 7: the same answer whether or not the mailbox exists */
    pop3d_printf(s, "+OK send PASS\r\n");
}

void pop3d_cmd_pass(pop3d_session *s, const pop3_command *cmd)
{
    if (!auth_allowed(s))
        return;
    if (s->user == NULL) {
        pop3d_error(s, "give USER first");
        return;
    }
    char *user = s->user;
    s->user = NULL;
    if (cmd->arg_len > KEYS_CREDENTIAL_MAX) {
        worker_secret_free(&user);
        net_metric_add(s->srv->m.logins_failed, 1);
        pop3d_error(s, "[AUTH] authentication failed");
        return;
    }
    auth_check(s, user, worker_secret_dup(cmd->arg, cmd->arg_len), cmd->arg_len);
}

/* The PLAIN response, from the initial response or a continuation line. */
static void auth_plain(pop3d_session *s, const char *b64, size_t len)
{
    char *user = NULL, *pass = NULL;
    size_t pass_len = 0;
    switch (worker_sasl_plain(b64, len, &user, &pass, &pass_len)) {
    case WORKER_SASL_OK:
        auth_check(s, user, pass, pass_len);
        return;
    case WORKER_SASL_MALFORMED: /* RFC 5034 4: a response that is not base64 */
        pop3d_error(s, "malformed PLAIN response");
        return;
    case WORKER_SASL_REFUSED:
        net_metric_add(s->srv->m.logins_failed, 1);
        pop3d_error(s, "[AUTH] authentication failed");
        return;
    }
}

static bool auth_mech_plain(const char *m, size_t len)
{
    static const char plain[] = "PLAIN";
    if (len != sizeof plain - 1)
        return false;
    for (size_t i = 0; i < len; i++)
        if ((m[i] >= 'a' && m[i] <= 'z' ? m[i] - 'a' + 'A' : m[i]) != plain[i])
            return false;
    return true;
}

void pop3d_cmd_auth(pop3d_session *s, const pop3_command *cmd)
{
    if (cmd->arg == NULL) {
        /* No mechanism: the list (as RFC 1734 servers answer; clients probe
         * with it), but only where credentials may be given. */
        if (!auth_allowed(s))
            return;
        pop3d_printf(s, "+OK\r\nPLAIN\r\n.\r\n");
        return;
    }
    if (!auth_mech_plain(cmd->arg, cmd->arg_len)) {
        pop3d_error(s, "PLAIN is the only mechanism");
        return;
    }
    if (!auth_allowed(s))
        return;
    if (cmd->ir != NULL) { /* RFC 5034 4: "=" is an empty response */
        auth_plain(s, cmd->ir, cmd->ir_len);
        return;
    }
    s->mode = POP3D_MODE_SASL;
    pop3d_printf(s, "+ \r\n");
}

void pop3d_sasl_line(pop3d_session *s, const char *line, size_t len)
{
    s->mode = POP3D_MODE_COMMAND;
    if (len == 1 && line[0] == '*') { /* RFC 5034 4: the client cancels */
        pop3d_error(s, "authentication cancelled");
        return;
    }
    auth_plain(s, line, len);
}
