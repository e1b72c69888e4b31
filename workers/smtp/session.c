/* SMTP sessions: the command table, the session state and the replies
 * (RFC 5321 4.1, 4.3.2; ENHANCEDSTATUSCODES RFC 2034 on every reply but
 * the greeting and the EHLO response). */
#include "session.h"

#include "log.h"
#include "smtp_reply.h"

#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void smtpd_reply(smtpd_session *s, unsigned code, const char *enhanced, const char *fmt, ...)
{
    char text[SMTP_REPLY_LINE_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    if (enhanced != NULL)
        net_conn_printf(s->c, "%u %s %s\r\n", code, enhanced, text);
    else
        net_conn_printf(s->c, "%u %s\r\n", code, text);
    if (code >= 400)
        log_info(s->id, "-> %u %s %s", code, enhanced != NULL ? enhanced : "", text);
}

void smtpd_reply_error(smtpd_session *s, const smtp_error *e)
{
    char enh[SMTP_ENHANCED_TEXT_MAX + 1] = "5.0.0";
    if (smtp_enhanced_format(&e->enhanced, enh) < 0)
        enh[0] = e->code < 500 ? '4' : '5';
    smtpd_reply(s, e->code, enh, "%s", e->text != NULL ? e->text : "error");
}

void smtpd_count_error(smtpd_session *s)
{
    if (++s->errors < s->srv->cfg.errors_max)
        return;
    /* RFC 5321 4.3.2 lets a server end a session that misbehaves with 421. */
    smtpd_reply(s, 421, "4.7.0", "%s too many errors, closing connection", s->srv->cfg.hostname);
    net_conn_close(s->c);
}

void smtpd_tx_reset(smtpd_session *s)
{
    s->mail_from[0] = '\0';
    memset(&s->mail, 0, sizeof s->mail);
    free(s->rcpts);
    s->rcpts = NULL;
    s->nrcpt = 0;
    smtpd_targets_free(&s->targets);
    buf_free(&s->msg);
    s->msg_open = false;
    s->msg_start = 0;
    s->bdat_left = 0;
    s->bdat_last = false;
    memset(&s->bdat_error, 0, sizeof s->bdat_error);
    if (s->state != SMTPD_FRESH)
        s->state = SMTPD_READY;
}

void smtpd_resume(smtpd_session *s)
{
    s->busy = false;
    if (net_loop_shutting_down(net_conn_loop(s->c)) &&
        (s->state == SMTPD_READY || s->state == SMTPD_FRESH)) {
        /* The answer in flight is written: now the goodbye on_shutdown held. */
        smtpd_reply(s, 421, "4.3.2", "%s shutting down", s->srv->cfg.hostname);
        net_conn_close(s->c);
        return;
    }
    net_conn_resume(s->c);
}

/* ---- commands ------------------------------------------------------------ */

static void cmd_ehlo(smtpd_session *s, const smtp_command *cmd)
{
    smtpd_tx_reset(s); /* RFC 5321 4.1.4: EHLO resets like RSET */
    snprintf(s->helo, sizeof s->helo, "%s", cmd->helo.name);
    s->esmtp = cmd->verb == SMTP_VERB_EHLO;
    s->state = SMTPD_READY;
    const smtpd_config *cfg = &s->srv->cfg;
    if (!s->esmtp) {
        net_conn_printf(s->c, "250 %s\r\n", cfg->hostname);
        return;
    }
    bool starttls = !s->tls && s->port->tls != NULL;
    bool auth = s->port->submission && s->tls && !s->authed;
    /* DSN (RFC 3461) on every port: NOTIFY/ORCPT/ENVID/RET are kept and
     * passed on, "failed" and "relayed" DSNs come from the queue, and
     * "delivered" ones from local delivery (dsn.c). */
    net_conn_printf(s->c,
                    "250-%s\r\n250-PIPELINING\r\n250-SIZE %llu\r\n250-8BITMIME\r\n"
                    "250-ENHANCEDSTATUSCODES\r\n250-SMTPUTF8\r\n250-CHUNKING\r\n250-DSN\r\n",
                    cfg->hostname, (unsigned long long)cfg->message_max);
    if (starttls)
        net_conn_printf(s->c, "250-STARTTLS\r\n");
    if (auth)
        net_conn_printf(s->c, "250-AUTH PLAIN LOGIN\r\n");
    net_conn_printf(s->c, "250 HELP\r\n");
}

static void cmd_starttls(smtpd_session *s, const smtp_command *cmd)
{
    (void)cmd;
    if (s->tls || s->port->tls == NULL) {
        smtpd_reply(s, 502, "5.5.1", "STARTTLS not available");
        smtpd_count_error(s);
        return;
    }
    if (s->state == SMTPD_MAIL) {
        smtpd_reply(s, 503, "5.5.1", "STARTTLS inside a transaction");
        return;
    }
    smtpd_reply(s, 220, "2.0.0", "Ready to start TLS");
    if (net_conn_starttls(s->c) < 0) {
        net_conn_close(s->c);
        return;
    }
    /* RFC 3207 4.2: forget everything learnt before TLS. */
    smtpd_tx_reset(s);
    s->state = SMTPD_FRESH;
    s->helo[0] = '\0';
    s->esmtp = false;
    s->tls = true;
}

/* The address of a path for directory lookups: the local part as given and
 * the domain as a lowercase A-label. *literal_r when it is an address
 * literal (never hosted here). */
static int session_address(smtpd_session *s, const smtp_path *p, char out[SMTPD_ADDRESS_MAX + 1],
                           bool *literal_r)
{
    char domain[NAMES_DOMAIN_MAX + 1];
    const char *err = NULL;
    *literal_r = p->domain.literal != SMTP_LITERAL_NONE;
    if (p->postmaster) { /* RFC 5321 4.5.1: <Postmaster> must be accepted */
        snprintf(out, SMTPD_ADDRESS_MAX + 1, "%s", s->srv->cfg.postmaster);
        return 0;
    }
    if (*literal_r) {
        int n = snprintf(out, SMTPD_ADDRESS_MAX + 1, "%.64s@%.190s", p->local, p->domain.name);
        return n > 0 && n <= SMTPD_ADDRESS_MAX ? 0 : -1;
    }
    if (names_domain_normalize(p->domain.name, strlen(p->domain.name), domain, &err) < 0)
        return -1;
    if ((size_t)snprintf(out, SMTPD_ADDRESS_MAX + 1, "%s@%s", p->local, domain) > SMTPD_ADDRESS_MAX)
        return -1;
    return 0;
}

static void cmd_mail(smtpd_session *s, const smtp_command *cmd)
{
    if (s->state == SMTPD_FRESH) {
        smtpd_reply(s, 503, "5.5.1", "say EHLO first");
        smtpd_count_error(s);
        return;
    }
    if (s->state != SMTPD_READY) {
        smtpd_reply(s, 503, "5.5.1", "nested MAIL command");
        smtpd_count_error(s);
        return;
    }
    if (s->port->submission && !s->authed) {
        smtpd_reply(s, 530, "5.7.0", "authentication required");
        return;
    }
    if (!s->esmtp && (cmd->mail.has_size || cmd->mail.body != SMTP_BODY_NONE ||
                      cmd->mail.smtputf8 || cmd->mail.ret || cmd->mail.has_envid)) {
        smtpd_reply(s, 555, "5.5.4", "parameters need EHLO");
        return;
    }
    if (cmd->mail.has_size && cmd->mail.size > s->srv->cfg.message_max) {
        smtpd_reply(s, 552, "5.3.4", "message size exceeds fixed maximum message size");
        return;
    }
    if (s->port->submission) {
        char addr[SMTPD_ADDRESS_MAX + 1];
        bool literal = false;
        int owned = 0;
        if (!cmd->path.null && session_address(s, &cmd->path, addr, &literal) == 0 && !literal) {
            const directory *d = directory_follower_read_lock(s->srv->dir);
            owned = smtpd_rcpt_owns(d, s->user, addr);
            directory_follower_read_unlock(s->srv->dir);
        }
        if (!owned) {
            smtpd_reply(s, 553, "5.7.1", "sender address not owned by %s", s->user);
            return;
        }
    }
    if (smtp_path_format(&cmd->path, s->mail_from, sizeof s->mail_from) < 0) {
        smtpd_reply(s, 553, "5.1.7", "bad sender address");
        return;
    }
    s->mail = cmd->mail;
    s->state = SMTPD_MAIL;
    snprintf(s->txid, sizeof s->txid, "%s%u", s->id, ++s->ntx);
    smtpd_reply(s, 250, "2.1.0", "sender ok");
}

static void session_rcpt_refused(smtpd_session *s, smtpd_rcpt_status st, const char *path)
{
    net_metric_add(s->srv->m.rejected_rcpt, 1);
    switch (st) {
    case SMTPD_RCPT_NOT_HOSTED:
        smtpd_reply(s, 550, "5.7.1", "%s: relay access denied", path);
        break;
    case SMTPD_RCPT_UNKNOWN:
        smtpd_reply(s, 550, "5.1.1", "%s: no such user here", path);
        break;
    case SMTPD_RCPT_DISABLED:
        if (s->srv->cfg.disabled == SMTPD_DISABLED_DEFER)
            smtpd_reply(s, 450, "4.2.1", "%s: mailbox disabled, try again later", path);
        else
            smtpd_reply(s, 550, "5.2.1", "%s: mailbox disabled", path);
        break;
    case SMTPD_RCPT_TOO_MANY:
        smtpd_reply(s, 550, "5.4.6", "%s: alias expansion too large", path);
        break;
    case SMTPD_RCPT_BROKEN:
    case SMTPD_RCPT_OK:
        smtpd_reply(s, 451, "4.3.0", "%s: temporary directory problem", path);
        break;
    }
    smtpd_count_error(s);
}

static void cmd_rcpt(smtpd_session *s, const smtp_command *cmd)
{
    if (s->state != SMTPD_MAIL) {
        smtpd_reply(s, 503, "5.5.1", "need MAIL before RCPT");
        smtpd_count_error(s);
        return;
    }
    if (s->nrcpt >= s->srv->cfg.recipients_max) {
        /* RFC 5321 4.5.3.1.10; a client that keeps going is counted out. */
        smtpd_reply(s, 452, "4.5.3", "too many recipients");
        smtpd_count_error(s);
        return;
    }
    char path[SMTP_PATH_MAX + 1], addr[SMTPD_ADDRESS_MAX + 1];
    bool literal = false;
    if (smtp_path_format(&cmd->path, path, sizeof path) < 0 ||
        session_address(s, &cmd->path, addr, &literal) < 0) {
        smtpd_reply(s, 553, "5.1.3", "bad recipient address");
        smtpd_count_error(s);
        return;
    }
    if (!directory_follower_loaded(s->srv->dir)) { /* never a 5xx for want of data */
        smtpd_reply(s, 451, "4.3.0", "%s: directory not loaded yet, try again later", path);
        return;
    }
    size_t first_local = s->targets.nlocal, first_remote = s->targets.nremote;
    size_t reached_local = s->targets.reached_local, reached_remote = s->targets.reached_remote;
    smtpd_rcpt_status st = SMTPD_RCPT_NOT_HOSTED;
    if (!literal) {
        const directory *d = directory_follower_read_lock(s->srv->dir);
        st = smtpd_rcpt_expand(d, addr, &s->targets);
        directory_follower_read_unlock(s->srv->dir);
    }
    /* Not ours: only an authenticated submission client may send there. */
    if (st == SMTPD_RCPT_NOT_HOSTED && s->port->submission && s->authed && !literal)
        st = smtpd_targets_add_remote(&s->targets, addr) == 0 ? SMTPD_RCPT_OK : SMTPD_RCPT_BROKEN;
    if (st != SMTPD_RCPT_OK) {
        session_rcpt_refused(s, st, path);
        return;
    }
    if (s->targets.nremote > first_remote) {
        /* Outside delivery needs the outbound queue, and addresses the queue
         * can carry: refused now rather than a 451 at every DATA. */
        const char *why = NULL;
        char from[SMTP_PATH_MAX + 1];
        size_t fl = strlen(s->mail_from); /* "<>" or "<a@b>" */
        snprintf(from, sizeof from, "%.*s", (int)(fl > 2 ? fl - 2 : 0), s->mail_from + 1);
        if (!s->srv->outbound)
            why = "delivery outside this server is not available";
        else if (s->targets.nremote > QUEUE_RCPTS_MAX)
            why = "too many outside recipients";
        for (size_t i = first_remote; why == NULL && i < s->targets.nremote; i++)
            if (queue_addr_check(s->targets.remote[i].address, &why) < 0)
                why = "this address cannot be delivered outside";
        if (why == NULL && from[0] != '\0' && queue_addr_check(from, &why) < 0)
            why = "the sender address cannot be used outside";
        if (why != NULL) {
            s->targets.nremote = first_remote;
            s->targets.nlocal = first_local;
            s->targets.reached_local = reached_local;
            s->targets.reached_remote = reached_remote;
            smtpd_reply(s, 550, "5.7.1", "%s: %s", path, why);
            smtpd_count_error(s);
            return;
        }
    }
    smtpd_rcpt *r = realloc(s->rcpts, (s->nrcpt + 1) * sizeof *r);
    if (r == NULL) {
        smtpd_reply(s, 452, "4.3.1", "out of memory");
        return;
    }
    s->rcpts = r;
    smtpd_rcpt *e = &s->rcpts[s->nrcpt++];
    memset(e, 0, sizeof *e);
    snprintf(e->path, sizeof e->path, "%s", path);
    e->notify = cmd->rcpt.notify;
    e->nlocal = s->targets.reached_local - reached_local;
    e->nremote = s->targets.reached_remote - reached_remote;
    if (cmd->rcpt.has_orcpt) {
        snprintf(e->orcpt_type, sizeof e->orcpt_type, "%s", cmd->rcpt.orcpt_type);
        snprintf(e->orcpt, sizeof e->orcpt, "%s", cmd->rcpt.orcpt);
    }
    for (size_t i = first_remote; i < s->targets.nremote; i++)
        s->targets.remote[i].rcpt = s->nrcpt - 1;
    net_metric_add(s->srv->m.recipients, 1);
    if (s->targets.nlocal > first_local) {
        smtpd_rcpt_check_quota(s, first_local, first_remote, path); /* answers 250 or 452 */
        return;
    }
    smtpd_reply(s, 250, "2.1.5", "recipient ok");
}

static void cmd_rset(smtpd_session *s, const smtp_command *cmd)
{
    (void)cmd;
    smtpd_tx_reset(s);
    smtpd_reply(s, 250, "2.0.0", "reset");
}

static void cmd_noop(smtpd_session *s, const smtp_command *cmd)
{
    (void)cmd;
    smtpd_reply(s, 250, "2.0.0", "OK");
}

static void cmd_quit(smtpd_session *s, const smtp_command *cmd)
{
    (void)cmd;
    smtpd_reply(s, 221, "2.0.0", "%s closing connection", s->srv->cfg.hostname);
    net_conn_close(s->c);
}

static void cmd_vrfy(smtpd_session *s, const smtp_command *cmd)
{
    (void)cmd; /* RFC 5321 3.5.3: 252 when the server will not say */
    smtpd_reply(s, 252, "2.5.2", "cannot VRFY user, but will accept message and attempt delivery");
}

static void cmd_expn(smtpd_session *s, const smtp_command *cmd)
{
    (void)cmd;
    smtpd_reply(s, 502, "5.5.1", "EXPN not available");
}

static void cmd_help(smtpd_session *s, const smtp_command *cmd)
{
    (void)cmd;
    smtpd_reply(s, 214, "2.0.0",
                "see RFC 5321; commands: EHLO HELO MAIL RCPT DATA BDAT RSET "
                "NOOP QUIT VRFY HELP STARTTLS%s",
                s->port->submission ? " AUTH" : "");
}

typedef void session_cmd_fn(smtpd_session *s, const smtp_command *cmd);

/* Dispatch by verb (STYLE.md "Dispatch by table"). */
static const struct {
    smtp_verb verb;
    session_cmd_fn *fn;
} session_cmds[] = {
    {SMTP_VERB_EHLO, cmd_ehlo},         {SMTP_VERB_HELO, cmd_ehlo},
    {SMTP_VERB_MAIL, cmd_mail},         {SMTP_VERB_RCPT, cmd_rcpt},
    {SMTP_VERB_DATA, smtpd_cmd_data},   {SMTP_VERB_BDAT, smtpd_cmd_bdat},
    {SMTP_VERB_RSET, cmd_rset},         {SMTP_VERB_NOOP, cmd_noop},
    {SMTP_VERB_QUIT, cmd_quit},         {SMTP_VERB_VRFY, cmd_vrfy},
    {SMTP_VERB_EXPN, cmd_expn},         {SMTP_VERB_HELP, cmd_help},
    {SMTP_VERB_STARTTLS, cmd_starttls}, {SMTP_VERB_AUTH, smtpd_cmd_auth},
};

static void session_command(smtpd_session *s, const net_line *line)
{
    smtp_command cmd;
    smtp_error err;
    smtp_parse_flags flags = SMTP_PARSE_LAX_HELO;
    if (s->state == SMTPD_MAIL && s->mail.smtputf8)
        flags |= SMTP_PARSE_SMTPUTF8;
    if (smtp_command_parse(line->data, line->len, flags, &cmd, &err) < 0) {
        smtpd_reply_error(s, &err);
        smtpd_count_error(s);
        /* RFC 3030 2: after a bad BDAT the octets that follow cannot be
         * told from commands. */
        if (line->len >= 4 && strncasecmp(line->data, "BDAT", 4) == 0)
            net_conn_close(s->c);
        return;
    }
    for (size_t i = 0; i < sizeof session_cmds / sizeof session_cmds[0]; i++) {
        if (session_cmds[i].verb == cmd.verb) {
            if (cmd.verb != SMTP_VERB_AUTH) /* never log credentials */
                log_debug(s->id, "<- %.*s", (int)(line->len < 200 ? line->len : 200), line->data);
            session_cmds[i].fn(s, &cmd);
            return;
        }
    }
    smtpd_reply(s, 500, "5.5.2", "command not recognized");
    smtpd_count_error(s);
}

/* ---- net_handler ----------------------------------------------------------- */

static void on_open(net_conn *c)
{
    const smtpd_port *port = net_conn_ctx(c);
    smtpd_session *s = calloc(1, sizeof *s);
    if (s == NULL) {
        net_conn_printf(c, "421 4.3.0 out of memory\r\n");
        net_conn_close(c);
        return;
    }
    s->c = c;
    s->srv = port->srv;
    s->port = port;
    s->id = net_conn_session(c);
    s->tls = net_conn_is_tls(c);
    net_conn_set_data(c, s);
    net_conn_set_timeouts(c, s->srv->cfg.idle_timeout_ms, s->srv->cfg.session_timeout_ms);
    log_info(s->id, "connect from %s port %u%s", net_conn_peer(c), net_conn_peer_port(c),
             s->tls ? " (TLS)" : "");
    net_conn_printf(c, "220 %s ESMTP ownmail\r\n", s->srv->cfg.hostname);
}

static void on_data(net_conn *c)
{
    smtpd_session *s = net_conn_data(c);
    if (s == NULL)
        return;
    while (!s->busy && !net_conn_closing(c)) {
        if (net_loop_shutting_down(net_conn_loop(c)) &&
            (s->state == SMTPD_READY || s->state == SMTPD_FRESH)) {
            smtpd_reply(s, 421, "4.3.2", "%s shutting down", s->srv->cfg.hostname);
            net_conn_close(c);
            return;
        }
        if (s->state == SMTPD_DATA || s->state == SMTPD_BDAT) {
            if (smtpd_message_input(s) == 0)
                return;
            continue;
        }
        net_line line;
        int r = net_conn_read_line(c, SMTP_COMMAND_READ_MAX, &line);
        if (r == 0)
            return;
        if (r < 0) { /* RFC 5321 4.5.3.1.10 */
            smtpd_reply(s, 500, "5.5.2", "line too long");
            net_conn_skip_line(c);
            smtpd_count_error(s);
            continue;
        }
        if (s->state == SMTPD_SASL)
            smtpd_sasl_line(s, &line);
        else
            session_command(s, &line);
    }
}

static void on_refuse(net_conn *c, net_refusal why)
{
    const smtpd_port *port = net_conn_ctx(c);
    /* RFC 5321 3.8: a server that cannot serve now answers 421. */
    net_conn_printf(c, "421 4.7.0 %s too many connections%s, try again later\r\n",
                    port->srv->cfg.hostname, why == NET_REFUSE_PER_IP ? " from your address" : "");
}

static void on_timeout(net_conn *c, net_timeout_kind kind)
{
    const smtpd_port *port = net_conn_ctx(c);
    net_conn_printf(c, "421 4.4.2 %s %s, closing connection\r\n", port->srv->cfg.hostname,
                    kind == NET_TIMEOUT_IDLE ? "timeout" : "session too long");
}

static void on_shutdown(net_conn *c)
{
    smtpd_session *s = net_conn_data(c);
    /* A transaction in flight may finish (within the grace period): the
     * goodbye comes after its answer (smtpd_resume, on_data). */
    if (s != NULL && (s->busy || s->state == SMTPD_MAIL || s->state == SMTPD_DATA ||
                      s->state == SMTPD_BDAT || s->state == SMTPD_SASL))
        return;
    const smtpd_port *port = net_conn_ctx(c);
    net_conn_printf(c, "421 4.3.2 %s shutting down\r\n", port->srv->cfg.hostname);
    net_conn_close(c);
}

static void on_close(net_conn *c, net_close_reason why)
{
    smtpd_session *s = net_conn_data(c);
    if (s == NULL)
        return;
    log_info(s->id, "disconnect (%s), %u transaction(s)", net_close_reason_name(why), s->ntx);
    smtpd_tx_reset(s);
    smtpd_auth_clear(s);
    free(s);
    net_conn_set_data(c, NULL);
}

const net_handler smtpd_handler = {
    .on_open = on_open,
    .on_data = on_data,
    .on_refuse = on_refuse,
    .on_timeout = on_timeout,
    .on_shutdown = on_shutdown,
    .on_close = on_close,
};
