/* AUTH PLAIN (RFC 4616) and LOGIN on the submission ports (RFC 4954), only
 * over TLS. The check is the unwrapping of the user's store key with the
 * password or an app password (DESIGN.md "Storage and keys"): Argon2id, so
 * it runs on a pool thread. Attempts are counted in Redis before the check
 * (lib/throttle, scope "user", shared with the api's user endpoints). */
#include "session.h"

#include "log.h"

#include <ctype.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void smtpd_auth_clear(smtpd_session *s)
{
    worker_secret_free(&s->sasl_login);
    s->sasl_step = 0;
}

typedef struct auth_job {
    smtpd_session *s;
    char ip[NET_ADDR_TEXT_MAX];
    char *user, *pass; /* sodium_malloc'd */
    worker_login login;
} auth_job;

static void auth_work(void *arg)
{
    worker_login_run(&((auth_job *)arg)->login);
}

static void auth_done(net_conn *c, void *arg)
{
    auth_job *j = arg;
    smtpd_session *s = j->s;
    (void)c;
    if (!net_conn_closing(s->c)) {
        switch (j->login.outcome) {
        case WORKER_LOGIN_OK:
            s->authed = true;
            snprintf(s->user, sizeof s->user, "%s", j->login.account);
            net_metric_add(s->srv->m.auth_ok, 1);
            log_info(s->id, "authenticated as %s", s->user);
            smtpd_reply(s, 235, "2.7.0", "authentication successful");
            break;
        case WORKER_LOGIN_WRONG:
        case WORKER_LOGIN_BROKEN:
            net_metric_add(s->srv->m.auth_failed, 1);
            log_warn(s->id, "failed login for %s from %s", j->login.account, j->ip);
            smtpd_reply(s, 535, "5.7.8", "authentication credentials invalid");
            smtpd_count_error(s);
            break;
        case WORKER_LOGIN_THROTTLED:
            net_metric_add(s->srv->m.auth_failed, 1);
            log_warn(s->id, "throttled login for %s from %s", j->login.account, j->ip);
            smtpd_reply(s, 454, "4.7.0", "too many failed attempts, try again in %ld s",
                        j->login.retry_after);
            smtpd_count_error(s);
            break;
        case WORKER_LOGIN_TEMPFAIL:
            smtpd_reply(s, 454, "4.7.0", "temporary authentication failure");
            break;
        }
    }
    worker_login_clear(&j->login);
    worker_secret_free(&j->user);
    worker_secret_free(&j->pass);
    free(j);
    smtpd_resume(s);
}

/* Starts the check of user / pass (taken over: freed by the job). */
static void auth_check(smtpd_session *s, char *user, char *pass)
{
    auth_job *j = calloc(1, sizeof *j);
    if (j == NULL) {
        worker_secret_free(&user);
        worker_secret_free(&pass);
        smtpd_reply(s, 454, "4.7.0", "temporary authentication failure");
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
                              .pass_len = strlen(pass)};
    if (net_conn_submit(s->c, auth_work, auth_done, j) < 0) {
        worker_secret_free(&j->user);
        worker_secret_free(&j->pass);
        free(j);
        smtpd_reply(s, 454, "4.7.0", "server busy, try again later");
        return;
    }
    s->busy = true;
    net_conn_pause(s->c);
}

/* RFC 4616 2 (worker_sasl_plain). */
static void auth_plain(smtpd_session *s, const char *b64, size_t len)
{
    char *user = NULL, *pass = NULL;
    size_t pass_len = 0;
    switch (worker_sasl_plain(b64, len, &user, &pass, &pass_len)) {
    case WORKER_SASL_OK:
        auth_check(s, user, pass);
        return;
    case WORKER_SASL_MALFORMED:
        smtpd_reply(s, 501, "5.5.2", "malformed PLAIN response");
        break;
    case WORKER_SASL_REFUSED:
        smtpd_reply(s, 535, "5.7.8", "authentication credentials invalid");
        break;
    }
    smtpd_count_error(s);
}

void smtpd_cmd_auth(smtpd_session *s, const smtp_command *cmd)
{
    if (!s->port->submission) {
        smtpd_reply(s, 502, "5.5.1", "AUTH not available on this port");
        return;
    }
    if (!s->tls) { /* RFC 4954 4: a mechanism needing encryption */
        smtpd_reply(s, 538, "5.7.11", "encryption required for requested authentication mechanism");
        smtpd_count_error(s);
        return;
    }
    if (s->state == SMTPD_FRESH) {
        smtpd_reply(s, 503, "5.5.1", "say EHLO first");
        return;
    }
    if (s->authed || s->state != SMTPD_READY) {
        smtpd_reply(s, 503, "5.5.1",
                    s->authed ? "already authenticated" : "not during a transaction");
        return;
    }
    if (strcmp(cmd->auth_mech, "PLAIN") == 0) {
        s->sasl_mech = SMTPD_SASL_PLAIN;
    } else if (strcmp(cmd->auth_mech, "LOGIN") == 0) {
        s->sasl_mech = SMTPD_SASL_LOGIN;
    } else {
        smtpd_reply(s, 504, "5.5.4", "unrecognized authentication type");
        return;
    }
    s->sasl_step = 0;
    if (cmd->auth_has_initial) {
        net_line l = {cmd->auth_initial, cmd->auth_initial_len, false};
        s->state = SMTPD_SASL;
        smtpd_sasl_line(s, &l);
        return;
    }
    s->state = SMTPD_SASL;
    /* "Username:" for LOGIN; an empty challenge for PLAIN (RFC 4954 4). */
    net_conn_printf(s->c, s->sasl_mech == SMTPD_SASL_LOGIN ? "334 VXNlcm5hbWU6\r\n" : "334 \r\n");
}

void smtpd_sasl_line(smtpd_session *s, const net_line *line)
{
    s->state = SMTPD_READY;
    if (line->len == 1 && line->data[0] == '*') { /* RFC 4954 4: the client gives up */
        smtpd_auth_clear(s);
        smtpd_reply(s, 501, "5.0.0", "authentication cancelled");
        return;
    }
    if (s->sasl_mech == SMTPD_SASL_PLAIN) {
        auth_plain(s, line->data, line->len);
        return;
    }
    size_t n = 0;
    char *v = worker_sasl_b64(line->data, line->len, &n);
    if (v == NULL || n == 0 || n > (s->sasl_step == 0 ? SMTPD_ADDRESS_MAX : SMTPD_CREDENTIAL_MAX) ||
        memchr(v, '\0', n) != NULL) {
        worker_secret_free(&v);
        smtpd_auth_clear(s);
        smtpd_reply(s, 501, "5.5.2", "malformed LOGIN response");
        smtpd_count_error(s);
        return;
    }
    if (s->sasl_step == 0) {
        s->sasl_login = v;
        s->sasl_step = 1;
        s->state = SMTPD_SASL;
        net_conn_printf(s->c, "334 UGFzc3dvcmQ6\r\n"); /* "Password:" */
        return;
    }
    char *user = s->sasl_login;
    s->sasl_login = NULL;
    s->sasl_step = 0;
    auth_check(s, user, v);
}
