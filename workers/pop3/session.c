/* POP3 sessions: reading command lines, the command table, jobs and
 * responses (RFC 1939 3-6, RFC 2449 CAPA, RFC 2595 STLS). See pop3d.h. */
#include "pop3d.h"

#include "log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- responses ------------------------------------------------------------ */

void pop3d_printf(pop3d_session *s, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    buf_vprintf(&s->out, fmt, ap);
    va_end(ap);
}

void pop3d_close(pop3d_session *s)
{
    s->state = POP3D_CLOSING;
}

void pop3d_count_error(pop3d_session *s)
{
    net_metric_add(s->srv->m.bad_commands, 1);
    if (++s->errors < s->srv->cfg.errors_max)
        return;
    /* POP3 has no unsolicited response: the -ERR just written is the last
     * line the client gets. */
    log_info(s->id, "too many errors: closing");
    pop3d_close(s);
}

void pop3d_error(pop3d_session *s, const char *fmt, ...)
{
    va_list ap;
    buf_append_str(&s->out, "-ERR ");
    va_start(ap, fmt);
    buf_vprintf(&s->out, fmt, ap);
    va_end(ap);
    buf_append_str(&s->out, "\r\n");
    pop3d_count_error(s);
}

bool pop3d_credentials_allowed(const pop3d_session *s)
{
    return s->tls || (s->srv->cfg.plaintext_loopback && net_conn_peer_is_loopback(s->c));
}

/* ---- sending ---------------------------------------------------------------- */

static void session_flush(pop3d_session *s)
{
    if (s->out.failed) {
        log_error(s->id, "response over the output limit: closing");
        buf_reset(&s->out);
        net_conn_abort(s->c);
        return;
    }
    if (s->out.len > 0 && net_conn_write(s->c, s->out.data, s->out.len) < 0) {
        log_error(s->id, "output over the limit: closing");
        net_conn_abort(s->c);
    }
    buf_reset(&s->out);
}

/* After a command was answered: close when the session ends, say goodbye
 * when the server is shutting down, else read on. */
static void session_go_on(pop3d_session *s)
{
    session_flush(s);
    if (net_conn_closing(s->c))
        return;
    if (s->state == POP3D_CLOSING) {
        net_conn_close(s->c);
        return;
    }
    if (net_loop_shutting_down(net_conn_loop(s->c))) {
        net_conn_printf(s->c, "-ERR [SYS/TEMP] the server is shutting down\r\n");
        net_conn_close(s->c);
        return;
    }
    net_conn_resume(s->c);
}

void pop3d_resume(pop3d_session *s)
{
    s->busy = false;
    session_go_on(s);
}

/* ---- jobs in steps ------------------------------------------------------------ */

static void step_next(pop3d_session *s);

/* After a step: true when the next one should run at once. */
static bool step_after(pop3d_session *s)
{
    if (net_conn_closing(s->c) || s->abort) {
        buf_reset(&s->out);
        s->busy = false;
        net_conn_abort(s->c);
        return false;
    }
    if (s->step == POP3D_MORE) {
        session_flush(s);
        if (net_conn_closing(s->c)) {
            s->busy = false;
            return false;
        }
        if (net_conn_out_pending(s->c) <= net_loop_limits(net_conn_loop(s->c))->out_high_water)
            return true;
        s->waiting_writable = true; /* on_writable runs the next step */
        return false;
    }
    pop3d_resume(s);
    return false;
}

static void step_work(void *arg)
{
    pop3d_session *s = arg;
    s->step = s->work(s);
}

static void step_done(net_conn *c, void *arg)
{
    pop3d_session *s = arg;
    (void)c;
    if (step_after(s))
        step_next(s);
}

static void step_next(pop3d_session *s)
{
    for (;;) {
        if (s->on_pool) {
            if (net_conn_submit(s->c, step_work, step_done, s) == 0)
                return;
            if (s->started) { /* in the middle of a response: nothing can be said */
                log_error(s->id, "the pool is full in the middle of a response: closing");
                s->busy = false;
                net_conn_abort(s->c);
                return;
            }
            pop3d_printf(s, "-ERR [SYS/TEMP] the server is busy, try again later\r\n");
            s->step = POP3D_DONE;
        } else {
            s->step = s->work(s);
        }
        if (!step_after(s))
            return;
    }
}

void pop3d_run(pop3d_session *s, pop3d_work_fn work, bool pool)
{
    session_flush(s); /* what the handler wrote: s->out is the steps' now */
    s->busy = true;
    s->work = work;
    s->on_pool = pool;
    s->started = false;
    s->step = POP3D_DONE;
    net_conn_pause(s->c);
    step_next(s);
}

/* ---- commands without the store ------------------------------------------------ */

static void cmd_capa(pop3d_session *s, const pop3_command *cmd)
{
    (void)cmd;
    bool authz = s->state == POP3D_AUTHORIZATION;
    bool creds = authz && pop3d_credentials_allowed(s);
    pop3d_printf(s, "+OK capability list follows\r\nTOP\r\nUIDL\r\n");
    if (creds) /* RFC 2595 4: no mechanism that needs TLS before TLS */
        pop3d_printf(s, "USER\r\nSASL PLAIN\r\n");
    pop3d_printf(s, "RESP-CODES\r\nAUTH-RESP-CODE\r\nPIPELINING\r\n");
    /* RFC 2449 6.7: the server never deletes messages on its own; Trash
     * mode moves what the client deletes, which IMAP then sees. */
    pop3d_printf(s, "EXPIRE NEVER\r\nIMPLEMENTATION ownmail\r\n");
    if (authz && !s->tls && s->port->tls_available)
        pop3d_printf(s, "STLS\r\n");
    pop3d_printf(s, ".\r\n");
}

static void cmd_stls(pop3d_session *s, const pop3_command *cmd)
{
    (void)cmd;
    if (s->tls) { /* RFC 2595 4 */
        pop3d_error(s, "command not permitted when TLS active");
        return;
    }
    if (!s->port->tls_available) {
        pop3d_error(s, "STLS is not available");
        return;
    }
    pop3d_printf(s, "+OK begin TLS negotiation\r\n");
    session_flush(s);
    if (net_conn_starttls(s->c) < 0) {
        net_conn_abort(s->c);
        return;
    }
    /* RFC 2595 4: forget what was learnt before (a USER name); plaintext
     * buffered after the command is dropped by lib/net. */
    pop3d_auth_forget(s);
    s->tls = true;
}

static void cmd_noop(pop3d_session *s, const pop3_command *cmd)
{
    (void)cmd;
    pop3d_printf(s, "+OK\r\n");
}

/* RFC 1939 4: QUIT in AUTHORIZATION ends the session without UPDATE. */
static void cmd_quit(pop3d_session *s, const pop3_command *cmd)
{
    if (s->state == POP3D_TRANSACTION) {
        pop3d_cmd_quit_update(s, cmd);
        return;
    }
    pop3d_printf(s, "+OK ownmail POP3 server signing off\r\n");
    pop3d_close(s);
}

/* ---- the command table ------------------------------------------------------------ */

#define IN_AUTHZ (1u << POP3D_AUTHORIZATION)
#define IN_TRANS (1u << POP3D_TRANSACTION)

static const struct {
    pop3_verb verb;
    unsigned states;
    pop3d_cmd_fn *fn;
} session_commands[] = {
    {POP3_CMD_USER, IN_AUTHZ, pop3d_cmd_user},      {POP3_CMD_PASS, IN_AUTHZ, pop3d_cmd_pass},
    {POP3_CMD_AUTH, IN_AUTHZ, pop3d_cmd_auth},      {POP3_CMD_STLS, IN_AUTHZ, cmd_stls},
    {POP3_CMD_CAPA, IN_AUTHZ | IN_TRANS, cmd_capa}, {POP3_CMD_QUIT, IN_AUTHZ | IN_TRANS, cmd_quit},
    {POP3_CMD_STAT, IN_TRANS, pop3d_cmd_stat},      {POP3_CMD_LIST, IN_TRANS, pop3d_cmd_list},
    {POP3_CMD_RETR, IN_TRANS, pop3d_cmd_retr},      {POP3_CMD_TOP, IN_TRANS, pop3d_cmd_retr},
    {POP3_CMD_DELE, IN_TRANS, pop3d_cmd_dele},      {POP3_CMD_NOOP, IN_TRANS, cmd_noop},
    {POP3_CMD_RSET, IN_TRANS, pop3d_cmd_rset},      {POP3_CMD_UIDL, IN_TRANS, pop3d_cmd_uidl},
};

static void session_dispatch(pop3d_session *s, const pop3_command *cmd)
{
    if (cmd->verb != POP3_CMD_PASS) /* RFC 1939 7: PASS must follow USER at once */
        pop3d_auth_forget(s);
    for (size_t i = 0; i < sizeof session_commands / sizeof session_commands[0]; i++) {
        if (session_commands[i].verb != cmd->verb)
            continue;
        if ((session_commands[i].states & (1u << s->state)) != 0)
            session_commands[i].fn(s, cmd);
        else if (s->state == POP3D_AUTHORIZATION)
            pop3d_error(s, "log in first");
        else
            pop3d_error(s, "%s is not valid after login", pop3_verb_name(cmd->verb));
        return;
    }
    pop3d_error(s, "unknown command");
}

static void session_command(pop3d_session *s, const char *line, size_t len)
{
    pop3_command cmd;
    const char *err = NULL;
    net_metric_add(s->srv->m.commands, 1);
    pop3_parse_result r = pop3_parse(line, len, &cmd, &err);
    if (r != POP3_PARSE_OK) {
        if (cmd.verb != POP3_CMD_PASS)
            pop3d_auth_forget(s);
        pop3d_error(s, "%s", err);
        return;
    }
    session_dispatch(s, &cmd);
}

/* ---- net_handler ------------------------------------------------------------------ */

static void on_open(net_conn *c)
{
    const pop3d_port *port = net_conn_ctx(c);
    pop3d_session *s = calloc(1, sizeof *s);
    if (s == NULL) {
        net_conn_printf(c, "-ERR [SYS/TEMP] out of memory\r\n");
        net_conn_close(c);
        return;
    }
    s->c = c;
    s->srv = port->srv;
    s->port = port;
    s->id = net_conn_session(c);
    s->tls = net_conn_is_tls(c);
    buf_init(&s->out, POP3D_OUT_MAX);
    net_conn_set_data(c, s);
    net_conn_set_timeouts(c, s->srv->cfg.idle_timeout_ms, s->srv->cfg.session_timeout_ms);
    log_info(s->id, "connect from %s port %u%s", net_conn_peer(c), net_conn_peer_port(c),
             s->tls ? " (TLS)" : "");
    pop3d_printf(s, "+OK ownmail POP3 server ready\r\n");
    session_flush(s);
}

static void on_data(net_conn *c)
{
    pop3d_session *s = net_conn_data(c);
    if (s == NULL)
        return;
    for (;;) {
        if (s->busy || net_conn_closing(c))
            return;
        if (net_loop_shutting_down(net_conn_loop(c))) {
            net_conn_printf(c, "-ERR [SYS/TEMP] the server is shutting down\r\n");
            net_conn_close(c);
            return;
        }
        bool sasl = s->mode == POP3D_MODE_SASL;
        net_line line;
        int r = net_conn_read_line(c, sasl ? POP3D_SASL_LINE_MAX : POP3_LINE_MAX, &line);
        if (r == 0)
            return;
        if (r < 0) {
            /* RFC 2449 4: the line is refused and the rest of it discarded */
            net_conn_skip_line(c);
            s->mode = POP3D_MODE_COMMAND;
            pop3d_auth_forget(s);
            pop3d_error(s, "line too long");
        } else if (sasl) {
            pop3d_sasl_line(s, line.data, line.len);
        } else {
            session_command(s, line.data, line.len);
        }
        if (s->busy)
            return;
        session_go_on(s);
    }
}

static void on_writable(net_conn *c)
{
    pop3d_session *s = net_conn_data(c);
    if (s != NULL && s->waiting_writable) {
        s->waiting_writable = false;
        step_next(s);
    }
}

static void on_refuse(net_conn *c, net_refusal why)
{
    net_conn_printf(c, "-ERR [SYS/TEMP] too many connections%s, try again later\r\n",
                    why == NET_REFUSE_PER_IP ? " from your address" : "");
}

static void on_timeout(net_conn *c, net_timeout_kind kind)
{
    /* RFC 1939 3: the autologout timer ends the session without UPDATE */
    net_conn_printf(c, "-ERR %s\r\n",
                    kind == NET_TIMEOUT_IDLE ? "autologout: idle too long"
                                             : "[SYS/TEMP] session time limit reached");
}

static void on_shutdown(net_conn *c)
{
    pop3d_session *s = net_conn_data(c);
    if (s != NULL && s->busy)
        return; /* the command finishes; the goodbye comes after it */
    net_conn_printf(c, "-ERR [SYS/TEMP] the server is shutting down\r\n");
    net_conn_close(c);
}

static void on_close(net_conn *c, net_close_reason why)
{
    pop3d_session *s = net_conn_data(c);
    if (s == NULL)
        return;
    log_info(s->id, "disconnect (%s)%s%s", net_close_reason_name(why), s->account[0] ? " " : "",
             s->account);
    pop3d_auth_forget(s);
    /* without QUIT nothing marked is removed (RFC 1939 6) */
    pop3d_maildrop_release(s->srv, &s->drop);
    buf_free(&s->out);
    free(s);
    net_conn_set_data(c, NULL);
}

const net_handler pop3d_handler = {
    .on_open = on_open,
    .on_data = on_data,
    .on_refuse = on_refuse,
    .on_timeout = on_timeout,
    .on_shutdown = on_shutdown,
    .on_writable = on_writable,
    .on_close = on_close,
};
