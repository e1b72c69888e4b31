/* IMAP sessions: reading commands, the command table, jobs and responses
 * (RFC 9051 2.2, 5.5, 7). See imapd.h. */
#include "imapd.h"

#include "log.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- responses ------------------------------------------------------------ */

void imapd_printf(imapd_session *s, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    buf_vprintf(&s->out, fmt, ap);
    va_end(ap);
}

void imapd_result_set(imapd_session *s, const char *resp, const char *code, const char *fmt, ...)
{
    va_list ap;
    s->result.resp = resp;
    free(s->result.code);
    s->result.code = code != NULL && code[0] != '\0' ? strndup(code, IMAPD_CODE_MAX) : NULL;
    va_start(ap, fmt);
    vsnprintf(s->result.text, sizeof s->result.text, fmt, ap);
    va_end(ap);
}

void imapd_result_error(imapd_session *s, const imap_error *e)
{
    const char *text = e->text != NULL ? e->text : "error";
    switch (e->resp) {
    case IMAP_RESP_BAD:
        imapd_result_set(s, "BAD", e->code, "%s", text);
        break;
    case IMAP_RESP_NO:
        imapd_result_set(s, "NO", e->code, "%s", text);
        break;
    case IMAP_RESP_BYE:
        imapd_printf(s, "* BYE %s\r\n", text);
        s->state = IMAPD_LOGOUT;
        break;
    }
}

void imapd_result_store(imapd_session *s, int rc, const char *what)
{
    switch (rc) {
    case STORE_ERR_NOMAILBOX:
        imapd_no(s, "NONEXISTENT", "%s: no such mailbox", what);
        break;
    case STORE_ERR_EXISTS:
        imapd_no(s, "ALREADYEXISTS", "%s: already exists", what);
        break;
    case STORE_ERR_NOSELECT:
        imapd_no(s, "CANNOT", "%s: the mailbox cannot hold messages", what);
        break;
    case STORE_ERR_INBOX:
        imapd_no(s, "CANNOT", "%s: not allowed on INBOX", what);
        break;
    case STORE_ERR_HASCHILDREN:
        imapd_no(s, "HASCHILDREN", "%s: the mailbox has children", what);
        break;
    case STORE_ERR_QUOTA:
        imapd_no(s, "OVERQUOTA", "%s: over quota", what);
        break;
    case STORE_ERR_LIMIT:
        imapd_no(s, "LIMIT", "%s: over a limit of the server", what);
        break;
    case STORE_ERR_INVALID:
        imapd_no(s, "CANNOT", "%s: not a valid name or value", what);
        break;
    case STORE_ERR_BUSY:
        imapd_no(s, "INUSE", "%s: the mailbox is busy, try again", what);
        break;
    default:
        log_error(s->id, "%s: %s", what, store_strerror(rc));
        imapd_no(s, "SERVERBUG", "%s: the server failed", what);
        break;
    }
}

bool imapd_utf8_names(const imapd_session *s)
{
    return s->utf8 || s->rev2;
}

void imapd_write_mailbox(imapd_session *s, const char *name)
{
    size_t len = strlen(name), n = 0;
    char *enc = malloc(5 * len + 1);
    imap_error e;
    if (enc != NULL &&
        imap_mailbox_encode(name, len, imapd_utf8_names(s), enc, 5 * len + 1, &n, &e) == 0)
        imap_write_astring(&s->out, enc, n, imapd_utf8_names(s) ? IMAP_WRITE_UTF8 : 0);
    else
        buf_append_str(&s->out, "\"\"");
    free(enc);
}

void imapd_write_flags(imapd_session *s, unsigned flags, const char *keywords, bool recent)
{
    const char *sep = "";
    buf_append_char(&s->out, '(');
    for (unsigned bit = 1; bit <= STORE_FLAG_DRAFT; bit <<= 1) {
        if ((flags & bit) != 0) {
            buf_printf(&s->out, "%s%s", sep, imap_flag_name(bit));
            sep = " ";
        }
    }
    if (recent) {
        buf_printf(&s->out, "%s\\Recent", sep);
        sep = " ";
    }
    if (keywords != NULL && keywords[0] != '\0')
        buf_printf(&s->out, "%s%s", sep, keywords);
    buf_append_char(&s->out, ')');
}

bool imapd_arg_mailbox(imapd_session *s, const imap_arg *a, char out[STORE_NAME_MAX + 1])
{
    const char *str;
    size_t len, n;
    imap_error e;
    if (!imap_arg_astring(a, &str, &len)) {
        imapd_bad(s, NULL, "a mailbox name is an astring");
        return false;
    }
    if (imap_mailbox_decode(str, len, imapd_utf8_names(s), out, &n, &e) < 0) {
        imapd_result_error(s, &e);
        return false;
    }
    return true;
}

void imapd_count_error(imapd_session *s)
{
    net_metric_add(s->srv->m.bad_commands, 1);
    if (++s->errors < s->srv->cfg.errors_max)
        return;
    imapd_printf(s, "* BYE too many errors\r\n");
    s->state = IMAPD_LOGOUT;
}

bool imapd_credentials_allowed(const imapd_session *s)
{
    return s->tls || (s->srv->cfg.plaintext_loopback && net_conn_peer_is_loopback(s->c));
}

/* ---- sending ---------------------------------------------------------------- */

static void session_flush(imapd_session *s)
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
    /* An idle session keeps no big buffer: thousands of them wait in IDLE.
     * One with commands already waiting (a pipelining client) keeps it. */
    if (s->out.cap > IMAPD_OUT_KEEP &&
        (net_conn_in_pending(s->c) == 0 || s->out.cap > IMAPD_OUT_KEEP_BUSY)) {
        size_t max = s->out.max;
        buf_free(&s->out);
        buf_init(&s->out, max);
    } else {
        buf_reset(&s->out);
    }
}

/* The tagged response of the finished command, then what comes after it. */
static void session_finish(imapd_session *s)
{
    if (s->result.resp != NULL && s->state != IMAPD_LOGOUT) {
        if (s->result.code != NULL)
            imapd_printf(s, "%s %s [%s] %s\r\n", s->tag, s->result.resp, s->result.code,
                         s->result.text);
        else
            imapd_printf(s, "%s %s %s\r\n", s->tag, s->result.resp, s->result.text);
        if (strcmp(s->result.resp, "BAD") == 0)
            imapd_count_error(s);
    }
    s->result.resp = NULL;
    free(s->result.code);
    s->result.code = NULL;
    s->cmd = NULL;
    if (s->cmd_state_free != NULL)
        s->cmd_state_free(s->cmd_state);
    s->cmd_state = NULL;
    s->cmd_state_free = NULL;
    session_flush(s);
    if (s->state == IMAPD_LOGOUT) {
        net_conn_close(s->c);
        return;
    }
    if (s->compress_next) { /* RFC 4978 3: after the tagged OK */
        s->compress_next = false;
        if (net_conn_compress(s->c) < 0)
            net_conn_abort(s->c);
    }
}

/* After a job: the goodbye that on_shutdown held back, else more input. */
static void session_go_on(imapd_session *s)
{
    if (net_conn_closing(s->c))
        return;
    if (net_loop_shutting_down(net_conn_loop(s->c))) {
        net_conn_printf(s->c, "* BYE the server is shutting down\r\n");
        net_conn_close(s->c);
        return;
    }
    net_conn_resume(s->c);
    imapd_idle_again(s);
}

void imapd_session_resume(imapd_session *s)
{
    session_finish(s);
    session_go_on(s);
}

/* ---- jobs --------------------------------------------------------------------- */

static void job_work(void *arg)
{
    imapd_session *s = arg;
    imapd_user *u = s->user;
    if (u != NULL)
        pthread_mutex_lock(&u->lock);
    if ((s->sync & IMAPD_DRAIN) != 0 && u != NULL) {
        s->sync &= ~IMAPD_DRAIN; /* once per command */
        imapd_drain(s);
    }
    imapd_step step = s->work(s);
    unsigned sync = s->sync & IMAPD_SYNC_MASK;
    if (step == IMAPD_DONE && sync != IMAPD_SYNC_NONE && s->view != NULL &&
        imapd_sync(s, sync == IMAPD_SYNC_FULL) < 0) {
        imapd_printf(s, "* BYE the selected mailbox is gone\r\n");
        s->state = IMAPD_LOGOUT;
    }
    if (u != NULL) {
        /* A session about to wait in IDLE gives the cache back now; others
         * keep it for their next command (imapd_users_trim takes it later). */
        imapd_user_used(u, step == IMAPD_DONE && s->mode == IMAPD_MODE_IDLE);
        pthread_mutex_unlock(&u->lock);
    }
    if (step == IMAPD_DONE && s->changed && u != NULL)
        worker_publish_new_mail(u->store_id);
    s->step = step;
}

static void job_submit(imapd_session *s);

static void job_done(net_conn *c, void *arg)
{
    imapd_session *s = arg;
    (void)c;
    if (net_conn_closing(s->c)) {
        buf_reset(&s->out);
        s->busy = false;
        return;
    }
    if (s->step == IMAPD_MORE) {
        session_flush(s);
        if (net_conn_closing(s->c))
            s->busy = false;
        else if (net_conn_out_pending(s->c) <= net_loop_limits(net_conn_loop(s->c))->out_high_water)
            job_submit(s);
        else
            s->waiting_writable = true; /* on_writable submits the next step */
        return;
    }
    s->busy = false;
    s->changed = false;
    session_finish(s);
    session_go_on(s);
}

static void job_submit(imapd_session *s)
{
    if (net_conn_submit(s->c, job_work, job_done, s) < 0) {
        imapd_printf(s, "* BYE the server is overloaded, try again later\r\n");
        s->busy = false;
        s->state = IMAPD_LOGOUT;
        session_finish(s);
    }
}

void imapd_run(imapd_session *s, imapd_work_fn work, unsigned sync, void *state,
               void (*state_free)(void *))
{
    s->busy = true;
    s->work = work;
    s->sync = sync;
    s->cmd_state = state;
    s->cmd_state_free = state_free;
    s->step = IMAPD_DONE;
    session_flush(s); /* what the handler wrote ("+ idling"): s->out is the job's now */
    net_conn_pause(s->c);
    job_submit(s);
}

sqlite3 *imapd_db(imapd_session *s)
{
    return mailbox_db(s->user->mbx);
}

void imapd_changed(imapd_session *s)
{
    s->changed = true;
}

/* ---- commands without the store ------------------------------------------------ */

void imapd_cmd_capability(imapd_session *s, const imap_command *cmd)
{
    (void)cmd;
    imapd_printf(s, "* CAPABILITY ");
    imapd_capability(s);
    imapd_printf(s, "\r\n");
    imapd_ok(s, NULL, "CAPABILITY completed");
}

static imapd_step work_noop(imapd_session *s)
{
    imapd_ok(s, NULL, "%s completed", s->cmd->name);
    return IMAPD_DONE;
}

void imapd_cmd_noop(imapd_session *s, const imap_command *cmd)
{
    if (cmd->nargs != 0) {
        imapd_bad(s, NULL, "%s takes no arguments", cmd->name);
        return;
    }
    if (s->state == IMAPD_SELECTED) /* RFC 9051 6.1.2: the way to poll */
        imapd_run(s, work_noop, IMAPD_SYNC_FULL | IMAPD_DRAIN, NULL, NULL);
    else
        imapd_ok(s, NULL, "%s completed", cmd->name);
}

void imapd_cmd_logout(imapd_session *s, const imap_command *cmd)
{
    (void)cmd;
    imapd_printf(s, "* BYE logging out\r\n%s OK LOGOUT completed\r\n", s->tag);
    s->state = IMAPD_LOGOUT;
}

void imapd_cmd_starttls(imapd_session *s, const imap_command *cmd)
{
    (void)cmd;
    if (s->tls || !s->port->tls_available) {
        imapd_bad(s, NULL, s->tls ? "TLS is already active" : "STARTTLS is not available");
        return;
    }
    imapd_printf(s, "%s OK begin TLS negotiation now\r\n", s->tag);
    session_flush(s);
    if (net_conn_starttls(s->c) < 0) {
        net_conn_abort(s->c);
        return;
    }
    /* RFC 9051 6.2.1: forget what was learnt before (nothing but
     * capabilities here); plaintext buffered after the command is dropped
     * by lib/net. */
    imap_reader_free(&s->reader);
    imap_reader_init(&s->reader, &s->srv->limits);
    s->tls = true;
}

void imapd_cmd_enable(imapd_session *s, const imap_command *cmd)
{
    char enabled[128] = "";
    if (cmd->nargs == 0) {
        imapd_bad(s, NULL, "ENABLE needs a capability");
        return;
    }
    for (size_t i = 0; i < cmd->nargs; i++) {
        const imap_arg *a = &cmd->args[i];
        if (a->type != IMAP_ARG_ATOM) {
            imapd_bad(s, NULL, "ENABLE takes capability names");
            return;
        }
        bool *flag = NULL;
        const char *name = NULL;
        if (imap_arg_atom_eq(a, "CONDSTORE")) {
            flag = &s->condstore, name = "CONDSTORE";
        } else if (imap_arg_atom_eq(a, "QRESYNC")) {
            flag = &s->qresync, name = "QRESYNC";
            s->condstore = true; /* RFC 7162 3.2.3 */
        } else if (imap_arg_atom_eq(a, "IMAP4rev2")) {
            flag = &s->rev2, name = "IMAP4rev2";
        } else if (imap_arg_atom_eq(a, "UTF8=ACCEPT")) {
            flag = &s->utf8, name = "UTF8=ACCEPT";
        }
        if (flag != NULL && !*flag) { /* RFC 5161 3.1: only those newly enabled */
            *flag = true;
            size_t n = strlen(enabled);
            snprintf(enabled + n, sizeof enabled - n, " %s", name);
        }
    }
    imapd_printf(s, "* ENABLED%s\r\n", enabled);
    imapd_ok(s, NULL, "ENABLE completed");
}

/* RFC 2971: the client's identification is logged; ours is sent back. */
void imapd_cmd_id(imapd_session *s, const imap_command *cmd)
{
    const imap_arg *a = cmd->nargs == 1 ? &cmd->args[0] : NULL;
    if (a == NULL || (a->type != IMAP_ARG_LIST && a->type != IMAP_ARG_NIL) ||
        (a->type == IMAP_ARG_LIST && (a->n % 2 != 0 || a->n > 2 * IMAPD_ID_FIELDS_MAX))) {
        imapd_bad(s, NULL, "ID takes NIL or a list of at most 30 field-value pairs");
        return;
    }
    for (size_t i = 0; a->type == IMAP_ARG_LIST && i < a->n; i += 2) {
        const char *k, *v;
        size_t kl, vl;
        if (!imap_arg_string(&a->list[i], &k, &kl) || kl > 30 ||
            !imap_arg_nstring(&a->list[i + 1], &v, &vl) || vl > 1024) {
            imapd_bad(s, NULL, "ID fields are strings of at most 30 octets, values at most 1024");
            return;
        }
        if (v != NULL && (imap_word_eq(k, kl, "name") || imap_word_eq(k, kl, "version")))
            log_info(s->id, "client %.*s: %.*s", (int)kl, k, (int)(vl > 64 ? 64 : vl), v);
    }
    imapd_printf(s, "* ID (\"name\" \"ownmail\" \"vendor\" \"ownmail\")\r\n");
    imapd_ok(s, NULL, "ID completed");
}

void imapd_cmd_compress(imapd_session *s, const imap_command *cmd)
{
    if (cmd->nargs != 1 || !imap_arg_atom_eq(&cmd->args[0], "DEFLATE")) {
        imapd_bad(s, NULL, "COMPRESS DEFLATE is the only mechanism");
        return;
    }
    if (net_conn_is_compressed(s->c)) {
        imapd_no(s, "COMPRESSIONACTIVE", "compression is already active");
        return;
    }
    s->compress_next = true;
    imapd_ok(s, NULL, "DEFLATE active");
}

/* ---- input ------------------------------------------------------------------------ */

/* One step of input in command mode: false when nothing more can be done now. */
static bool session_command_input(imapd_session *s)
{
    const char *data;
    size_t len = net_conn_peek(s->c, &data), used = 0;
    if (len == 0)
        return false;
    imap_command cmd;
    imap_error err;
    int r = imap_reader_next(&s->reader, data, len, &used, &cmd, &err);
    net_conn_consume(s->c, used);
    switch (r) {
    case IMAP_READ_MORE:
        return false;
    case IMAP_READ_CONTINUE:
        imapd_printf(s, "+ Ready for literal data\r\n");
        session_flush(s);
        return true;
    case IMAP_READ_ERROR:
        if (err.resp == IMAP_RESP_BYE) {
            imapd_printf(s, "* BYE %s\r\n", err.text);
            s->state = IMAPD_LOGOUT;
        } else {
            snprintf(s->tag, sizeof s->tag, "%s", cmd.tag[0] != '\0' ? cmd.tag : "*");
            imapd_result_error(s, &err);
        }
        session_finish(s);
        return !net_conn_closing(s->c);
    default:
        imapd_dispatch(s, &cmd);
        if (s->busy) /* s->out belongs to the job now */
            return false;
        if (s->mode == IMAPD_MODE_COMMAND)
            session_finish(s);
        else
            session_flush(s);
        return !net_conn_closing(s->c);
    }
}

/* A line outside a command (AUTHENTICATE, IDLE). */
static bool session_line_input(imapd_session *s, size_t max)
{
    const char *data, *line;
    size_t len = net_conn_peek(s->c, &data), used = 0, line_len = 0;
    if (len == 0)
        return false;
    imap_error err;
    int r = imap_reader_line(&s->reader, data, len, max, &used, &line, &line_len, &err);
    net_conn_consume(s->c, used);
    if (r == 0)
        return false;
    if (r < 0) {
        if (s->mode == IMAPD_MODE_IDLE)
            imapd_idle_end(s);
        s->mode = IMAPD_MODE_COMMAND;
        imapd_result_error(s, &err);
        session_finish(s);
        return !net_conn_closing(s->c);
    }
    if (s->mode == IMAPD_MODE_SASL)
        imapd_sasl_line(s, line, line_len);
    else
        imapd_idle_line(s, line, line_len);
    if (s->busy)
        return false;
    if (s->mode == IMAPD_MODE_COMMAND && s->result.resp != NULL)
        session_finish(s);
    else
        session_flush(s);
    return !net_conn_closing(s->c);
}

/* ---- net_handler ------------------------------------------------------------------ */

static void on_open(net_conn *c)
{
    const imapd_port *port = net_conn_ctx(c);
    imapd_session *s = calloc(1, sizeof *s);
    if (s == NULL) {
        net_conn_printf(c, "* BYE out of memory\r\n");
        net_conn_close(c);
        return;
    }
    s->c = c;
    s->srv = port->srv;
    s->port = port;
    s->id = net_conn_session(c);
    s->tls = net_conn_is_tls(c);
    buf_init(&s->out, port->srv->out_max);
    imap_reader_init(&s->reader, &s->srv->limits);
    net_conn_set_data(c, s);
    net_conn_set_timeouts(c, s->srv->cfg.idle_timeout_ms, s->srv->cfg.session_timeout_ms);
    log_info(s->id, "connect from %s port %u%s", net_conn_peer(c), net_conn_peer_port(c),
             s->tls ? " (TLS)" : "");
    imapd_printf(s, "* OK [CAPABILITY ");
    imapd_capability(s);
    imapd_printf(s, "] ownmail ready\r\n");
    session_flush(s);
}

static void on_data(net_conn *c)
{
    imapd_session *s = net_conn_data(c);
    if (s == NULL)
        return;
    for (;;) {
        if (s->busy || net_conn_closing(c))
            return;
        if (net_loop_shutting_down(net_conn_loop(c)) && s->mode == IMAPD_MODE_COMMAND) {
            net_conn_printf(c, "* BYE the server is shutting down\r\n");
            net_conn_close(c);
            return;
        }
        bool go_on = s->mode == IMAPD_MODE_COMMAND ? session_command_input(s)
                     : s->mode == IMAPD_MODE_SASL  ? session_line_input(s, IMAPD_SASL_LINE_MAX)
                                                   : session_line_input(s, IMAPD_IDLE_DONE_MAX);
        if (!go_on)
            return;
    }
}

static void on_writable(net_conn *c)
{
    imapd_session *s = net_conn_data(c);
    if (s != NULL && s->waiting_writable) {
        s->waiting_writable = false;
        job_submit(s);
    }
}

static void on_refuse(net_conn *c, net_refusal why)
{
    net_conn_printf(c, "* BYE [UNAVAILABLE] too many connections%s, try again later\r\n",
                    why == NET_REFUSE_PER_IP ? " from your address" : "");
}

static void on_timeout(net_conn *c, net_timeout_kind kind)
{
    net_conn_printf(c, "* BYE %s\r\n",
                    kind == NET_TIMEOUT_IDLE ? "autologout: idle for too long" : "session too long");
}

static void on_shutdown(net_conn *c)
{
    imapd_session *s = net_conn_data(c);
    if (s != NULL && s->busy)
        return; /* the command finishes; on_data says goodbye after it */
    net_conn_printf(c, "* BYE the server is shutting down\r\n");
    net_conn_close(c);
}

static void on_close(net_conn *c, net_close_reason why)
{
    imapd_session *s = net_conn_data(c);
    if (s == NULL)
        return;
    log_info(s->id, "disconnect (%s)%s%s", net_close_reason_name(why), s->account[0] ? " " : "",
             s->account);
    if (s->cmd_state_free != NULL)
        s->cmd_state_free(s->cmd_state);
    free(s->result.code);
    if (s->mode == IMAPD_MODE_IDLE)
        net_metric_sub(s->srv->m.sessions_idle, 1);
    imapd_view_free(&s->view);
    imapd_logout_user(s);
    imap_reader_free(&s->reader);
    buf_free(&s->out);
    free(s);
    net_conn_set_data(c, NULL);
}

const net_handler imapd_handler = {
    .on_open = on_open,
    .on_data = on_data,
    .on_refuse = on_refuse,
    .on_timeout = on_timeout,
    .on_shutdown = on_shutdown,
    .on_writable = on_writable,
    .on_close = on_close,
};
