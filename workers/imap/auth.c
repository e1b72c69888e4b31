/* LOGIN and AUTHENTICATE PLAIN (RFC 9051 6.2.2, 6.2.3; RFC 4959 SASL-IR),
 * only over TLS unless imap.plaintext_loopback allows loopback clients.
 * The check unwraps the user's store key (lib/worker, on a pool thread,
 * throttled in Redis); the key then opens the user's store, shared with
 * the user's other sessions in this process (user.c), and the spool is
 * drained into INBOX. */
#include "imapd.h"

#include "log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct auth_job {
    imapd_session *s;
    char ip[NET_ADDR_TEXT_MAX];
    char *user, *pass; /* sodium_malloc'd */
    worker_login login;
    imapd_user *u;
    char err[MAILBOX_ERR_LEN];
} auth_job;

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
        j->u = imapd_user_acquire(j->s->srv, &j->login, j->err, sizeof j->err);
        if (j->u == NULL)
            log_error(j->s->id, "%s: store: %s", j->login.account, j->err);
    }
    worker_login_clear(&j->login); /* the open store holds what it needs */
}

static void auth_release_work(void *arg)
{
    imapd_user *u = arg;
    imapd_user_release(u->srv, &u);
}

static void auth_release_done(net_loop *l, void *arg)
{
    (void)l;
    (void)arg;
}

/* Gives the session's reference back; the last one closes the store on a
 * pool thread (a close may checkpoint the WAL). */
static void auth_release(imapd_server *srv, imapd_user *u)
{
    if (u == NULL)
        return;
    if (net_pool_submit(srv->loop, auth_release_work, auth_release_done, u) < 0)
        imapd_user_release(srv, &u);
}

static void auth_done(net_conn *c, void *arg)
{
    auth_job *j = arg;
    imapd_session *s = j->s;
    imapd_server *srv = s->srv;
    (void)c;
    s->busy = false;
    if (net_conn_closing(s->c)) {
        auth_release(srv, j->u);
        auth_job_free(j);
        return;
    }
    switch (j->login.outcome) {
    case WORKER_LOGIN_OK:
        if (j->u == NULL) {
            imapd_no(s, "SERVERBUG", "your mailbox cannot be opened now");
            break;
        }
        if (imapd_user_sessions(j->u) >= srv->cfg.sessions_per_user) {
            auth_release(srv, j->u);
            imapd_no(s, "LIMIT", "too many sessions for this account");
            break;
        }
        s->user = j->u;
        imapd_user_attach(j->u, s);
        snprintf(s->account, sizeof s->account, "%s", j->login.account);
        s->state = IMAPD_AUTHENTICATED;
        net_metric_add(srv->m.logins_ok, 1);
        log_info(s->id, "logged in as %s", s->account);
        imapd_printf(s, "%s OK [CAPABILITY ", s->tag);
        imapd_capability(s);
        imapd_printf(s, "] logged in\r\n");
        s->result.resp = NULL;
        break;
    case WORKER_LOGIN_WRONG:
    case WORKER_LOGIN_BROKEN:
        net_metric_add(srv->m.logins_failed, 1);
        log_warn(s->id, "failed login for %s from %s", j->login.account, j->ip);
        imapd_no(s, "AUTHENTICATIONFAILED", "authentication failed");
        imapd_count_error(s);
        break;
    case WORKER_LOGIN_THROTTLED:
        net_metric_add(srv->m.logins_failed, 1);
        log_warn(s->id, "throttled login for %s from %s", j->login.account, j->ip);
        imapd_no(s, "UNAVAILABLE", "too many failed attempts, try again in %ld s",
                 j->login.retry_after);
        imapd_count_error(s);
        break;
    case WORKER_LOGIN_TEMPFAIL:
        imapd_no(s, "UNAVAILABLE", "temporary authentication failure");
        break;
    }
    auth_job_free(j);
    imapd_session_resume(s);
}

/* Starts the check of user / pass (taken over: freed by the job). */
static void auth_check(imapd_session *s, char *user, char *pass, size_t pass_len)
{
    auth_job *j = calloc(1, sizeof *j);
    if (j == NULL) {
        worker_secret_free(&user);
        worker_secret_free(&pass);
        imapd_no(s, "UNAVAILABLE", "temporary authentication failure");
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
        imapd_no(s, "UNAVAILABLE", "the server is busy, try again later");
        return;
    }
    s->busy = true;
    net_conn_pause(s->c);
}

static bool auth_allowed(imapd_session *s)
{
    if (imapd_credentials_allowed(s))
        return true;
    /* RFC 9051 6.2.3: LOGINDISABLED is advertised; RFC 5530 PRIVACYREQUIRED */
    imapd_no(s, "PRIVACYREQUIRED", "use STARTTLS or port 993 first");
    return false;
}

void imapd_cmd_login(imapd_session *s, const imap_command *cmd)
{
    const char *user, *pass;
    size_t ulen, plen;
    if (cmd->nargs != 2 || !imap_arg_astring(&cmd->args[0], &user, &ulen) ||
        !imap_arg_astring(&cmd->args[1], &pass, &plen)) {
        imapd_bad(s, NULL, "LOGIN takes a user name and a password");
        return;
    }
    if (!auth_allowed(s))
        return;
    if (ulen == 0 || ulen > WORKER_ADDRESS_MAX || memchr(user, '\0', ulen) != NULL || plen == 0 ||
        plen > KEYS_CREDENTIAL_MAX || memchr(pass, '\0', plen) != NULL) {
        imapd_no(s, "AUTHENTICATIONFAILED", "authentication failed");
        imapd_count_error(s);
        return;
    }
    auth_check(s, worker_secret_dup(user, ulen), worker_secret_dup(pass, plen), plen);
}

/* The PLAIN response, from SASL-IR or a continuation line. */
static void auth_plain(imapd_session *s, const char *b64, size_t len)
{
    char *user = NULL, *pass = NULL;
    size_t pass_len = 0;
    switch (worker_sasl_plain(b64, len, &user, &pass, &pass_len)) {
    case WORKER_SASL_OK:
        auth_check(s, user, pass, pass_len);
        return;
    case WORKER_SASL_MALFORMED:
        imapd_bad(s, NULL, "malformed PLAIN response");
        return;
    case WORKER_SASL_REFUSED:
        imapd_no(s, "AUTHENTICATIONFAILED", "authentication failed");
        imapd_count_error(s);
        return;
    }
}

void imapd_cmd_authenticate(imapd_session *s, const imap_command *cmd)
{
    const char *ir = NULL;
    size_t ir_len = 0;
    if (cmd->nargs < 1 || cmd->nargs > 2 || cmd->args[0].type != IMAP_ARG_ATOM ||
        (cmd->nargs == 2 && cmd->args[1].type != IMAP_ARG_ATOM)) {
        imapd_bad(s, NULL, "AUTHENTICATE takes a mechanism and an optional initial response");
        return;
    }
    if (!imap_arg_atom_eq(&cmd->args[0], "PLAIN")) {
        imapd_no(s, "CANNOT", "PLAIN is the only mechanism");
        return;
    }
    if (!auth_allowed(s))
        return;
    if (cmd->nargs == 2) { /* RFC 4959 */
        ir = cmd->args[1].str;
        ir_len = cmd->args[1].len;
        auth_plain(s, ir, ir_len);
        return;
    }
    s->mode = IMAPD_MODE_SASL;
    imapd_printf(s, "+ \r\n");
}

void imapd_sasl_line(imapd_session *s, const char *line, size_t len)
{
    s->mode = IMAPD_MODE_COMMAND;
    if (len == 1 && line[0] == '*') { /* RFC 9051 6.2.2: the client cancels */
        imapd_bad(s, NULL, "authentication cancelled");
        return;
    }
    auth_plain(s, line, len);
}

void imapd_logout_user(imapd_session *s)
{
    if (s->user == NULL)
        return;
    imapd_user_detach(s->user, s);
    auth_release(s->srv, s->user);
    s->user = NULL;
}
