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

#define AUTH_WRAPS_MAX 64 /* credentials of one user tried (password + app passwords) */

/* Secret strings live in sodium_malloc'd memory, wiped when freed. */
static char *auth_secret_dup(const char *s, size_t len)
{
    char *p = sodium_malloc(len + 1);
    if (p != NULL) {
        memcpy(p, s, len);
        p[len] = '\0';
    }
    return p;
}

static void auth_secret_free(char **p)
{
    if (*p != NULL) {
        sodium_free(*p);
        *p = NULL;
    }
}

void smtpd_auth_clear(smtpd_session *s)
{
    auth_secret_free(&s->sasl_login);
    s->sasl_step = 0;
}

typedef enum { AUTH_OK, AUTH_WRONG, AUTH_THROTTLED, AUTH_TEMPFAIL } auth_outcome;

typedef struct auth_job {
    smtpd_session *s;
    smtpd_server *srv;
    char ip[NET_ADDR_TEXT_MAX];
    char *user, *pass; /* sodium_malloc'd */
    char account[SMTPD_ADDRESS_MAX + 1];
    auth_outcome outcome;
    long retry_after;
} auth_job;

/* The wraps of the user's credentials of one kind ("password" or "app"),
 * copied out of the directory (NULL-terminated, malloc'd), or NULL for an
 * unknown or disabled user. */
static char **auth_wraps(smtpd_server *srv, const char *account, const char *kind_wanted)
{
    char **w = NULL;
    size_t n = 0;
    const directory *d = directory_follower_read_lock(srv->dir);
    const cJSON *u = directory_find_user(d, account), *c;
    const char *dom = strchr(account, '@');
    const cJSON *domain = dom != NULL ? directory_find_domain(d, dom + 1) : NULL;
    if (u != NULL && directory_entity_enabled(u) && domain != NULL &&
        directory_entity_enabled(domain) && (w = calloc(AUTH_WRAPS_MAX + 1, sizeof *w)) != NULL) {
        cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(u, "credentials"))
        {
            const cJSON *kind = cJSON_GetObjectItemCaseSensitive(c, "kind");
            const cJSON *wrap = cJSON_GetObjectItemCaseSensitive(c, "wrap");
            if (!cJSON_IsString(kind) || !cJSON_IsString(wrap) || n == AUTH_WRAPS_MAX ||
                strcmp(kind->valuestring, kind_wanted) != 0)
                continue;
            w[n] = strdup(wrap->valuestring);
            if (w[n] != NULL)
                n++;
        }
    }
    directory_follower_read_unlock(srv->dir);
    return w;
}

static void auth_wraps_free(char **w)
{
    for (size_t i = 0; w != NULL && w[i] != NULL; i++)
        free(w[i]);
    free(w);
}

static bool auth_unwraps(const char *wrap, const char *cred, size_t len)
{
    keys_secret *key = NULL;
    keys_result r = keys_unwrap_b64(wrap, cred, len, &key);
    keys_secret_free(&key); /* SMTP needs only the proof, not the key */
    return r == KEYS_OK;
}

static void auth_work(void *arg)
{
    auth_job *j = arg;
    names_address a;
    const char *err = NULL;
    if (names_address_parse(j->user, strlen(j->user), NAMES_LOCAL_ASCII_LOWER, &a, &err) == 0)
        snprintf(j->account, sizeof j->account, "%s@%s", a.local, a.domain);
    else
        snprintf(j->account, sizeof j->account, "%.*s", SMTPD_ADDRESS_MAX, j->user);
    switch (throttle_count(smtpd_rds_command, NULL, &j->srv->cfg.throttle, "user", j->ip,
                           j->account, &j->retry_after)) {
    case THROTTLE_OK:
        break;
    case THROTTLE_OVER:
        j->outcome = AUTH_THROTTLED;
        return;
    case THROTTLE_UNAVAILABLE:
        j->outcome = AUTH_TEMPFAIL; /* fail closed: no limit without Redis */
        return;
    }
    /* Time must not tell which accounts exist. A credential in the app
     * password form ("abcd efgh ijkl mnop") is tried against the app
     * passwords (then the password, in case it has that form too); any
     * other against the password only: one Argon2id, as for an unknown or
     * disabled user (the dummy wrap). Only a guess in the app-password form
     * on an account with several app passwords costs more. */
    size_t len = strlen(j->pass);
    char app[KEYS_APP_PASSWORD_LEN + 1];
    bool is_app = keys_app_password_normalize(j->pass, app) == 0;
    char **apps = is_app ? auth_wraps(j->srv, j->account, "app") : NULL;
    char **pw = auth_wraps(j->srv, j->account, "password");
    bool ok = false, tried = false;
    for (size_t i = 0; apps != NULL && apps[i] != NULL && !ok; i++, tried = true)
        ok = auth_unwraps(apps[i], app, strlen(app));
    for (size_t i = 0; pw != NULL && pw[i] != NULL && !ok; i++, tried = true)
        ok = auth_unwraps(pw[i], j->pass, len);
    if (!tried)
        auth_unwraps(j->srv->dummy_wrap, j->pass, len);
    sodium_memzero(app, sizeof app);
    auth_wraps_free(apps);
    auth_wraps_free(pw);
    j->outcome = ok ? AUTH_OK : AUTH_WRONG;
    if (ok)
        throttle_forgive(smtpd_rds_command, NULL, "user", j->ip, j->account);
}

static void auth_done(net_conn *c, void *arg)
{
    auth_job *j = arg;
    smtpd_session *s = j->s;
    (void)c;
    if (!net_conn_closing(s->c)) {
        switch (j->outcome) {
        case AUTH_OK:
            s->authed = true;
            snprintf(s->user, sizeof s->user, "%s", j->account);
            net_metric_add(s->srv->m.auth_ok, 1);
            log_info(s->id, "authenticated as %s", s->user);
            smtpd_reply(s, 235, "2.7.0", "authentication successful");
            break;
        case AUTH_WRONG:
            net_metric_add(s->srv->m.auth_failed, 1);
            log_warn(s->id, "failed login for %s from %s", j->account, j->ip);
            smtpd_reply(s, 535, "5.7.8", "authentication credentials invalid");
            smtpd_count_error(s);
            break;
        case AUTH_THROTTLED:
            net_metric_add(s->srv->m.auth_failed, 1);
            log_warn(s->id, "throttled login for %s from %s", j->account, j->ip);
            smtpd_reply(s, 454, "4.7.0", "too many failed attempts, try again in %ld s",
                        j->retry_after);
            smtpd_count_error(s);
            break;
        case AUTH_TEMPFAIL:
            smtpd_reply(s, 454, "4.7.0", "temporary authentication failure");
            break;
        }
    }
    auth_secret_free(&j->user);
    auth_secret_free(&j->pass);
    free(j);
    smtpd_resume(s);
}

/* Starts the check of user / pass (taken over: freed by the job). */
static void auth_check(smtpd_session *s, char *user, char *pass)
{
    auth_job *j = calloc(1, sizeof *j);
    if (j == NULL) {
        auth_secret_free(&user);
        auth_secret_free(&pass);
        smtpd_reply(s, 454, "4.7.0", "temporary authentication failure");
        return;
    }
    j->s = s;
    j->srv = s->srv;
    j->user = user;
    j->pass = pass;
    snprintf(j->ip, sizeof j->ip, "%s", net_conn_peer(s->c));
    if (net_conn_submit(s->c, auth_work, auth_done, j) < 0) {
        auth_secret_free(&j->user);
        auth_secret_free(&j->pass);
        free(j);
        smtpd_reply(s, 454, "4.7.0", "server busy, try again later");
        return;
    }
    s->busy = true;
    net_conn_pause(s->c);
}

/* Decodes a base64 SASL response into sodium_malloc'd memory; "=" is empty. */
static char *auth_b64(const char *in, size_t len, size_t *out_len_r)
{
    if (len == 1 && in[0] == '=')
        len = 0;
    size_t max = len / 4 * 3 + 3;
    char *out = sodium_malloc(max + 1);
    size_t n = 0;
    if (out == NULL)
        return NULL;
    if (len > 0 && sodium_base642bin((unsigned char *)out, max, in, len, NULL, &n, NULL,
                                     sodium_base64_VARIANT_ORIGINAL) != 0) {
        sodium_free(out);
        return NULL;
    }
    out[n] = '\0';
    *out_len_r = n;
    return out;
}

/* RFC 4616 2: [authzid] NUL authcid NUL passwd. An authzid other than the
 * authcid would be acting for someone else: refused. */
static void auth_plain(smtpd_session *s, const char *b64, size_t len)
{
    size_t n = 0;
    char *msg = auth_b64(b64, len, &n);
    const char *nul1 = msg != NULL ? memchr(msg, '\0', n) : NULL;
    const char *nul2 = nul1 != NULL ? memchr(nul1 + 1, '\0', n - (size_t)(nul1 + 1 - msg)) : NULL;
    if (nul2 == NULL) {
        auth_secret_free(&msg);
        smtpd_reply(s, 501, "5.5.2", "malformed PLAIN response");
        smtpd_count_error(s);
        return;
    }
    const char *authz = msg, *user = nul1 + 1, *pass = nul2 + 1;
    size_t pass_len = n - (size_t)(pass - msg);
    if ((*authz != '\0' && strcmp(authz, user) != 0) || *user == '\0' ||
        strlen(user) > SMTPD_ADDRESS_MAX || pass_len == 0 || pass_len > SMTPD_CREDENTIAL_MAX ||
        memchr(pass, '\0', pass_len) != NULL) {
        auth_secret_free(&msg);
        smtpd_reply(s, 535, "5.7.8", "authentication credentials invalid");
        smtpd_count_error(s);
        return;
    }
    char *u = auth_secret_dup(user, strlen(user)), *p = auth_secret_dup(pass, pass_len);
    auth_secret_free(&msg);
    auth_check(s, u, p);
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
    char *v = auth_b64(line->data, line->len, &n);
    if (v == NULL || n == 0 || n > (s->sasl_step == 0 ? SMTPD_ADDRESS_MAX : SMTPD_CREDENTIAL_MAX) ||
        memchr(v, '\0', n) != NULL) {
        auth_secret_free(&v);
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
