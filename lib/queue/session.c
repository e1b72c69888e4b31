/* The SMTP client side of one connection (RFC 5321 3, 4): greeting, EHLO
 * (HELO as fallback), opportunistic STARTTLS (RFC 3207), AUTH PLAIN to a
 * smarthost (RFC 4954, RFC 4616), then transactions of at most
 * QUEUE_TXN_RCPTS_MAX recipients of one domain: MAIL with SIZE (RFC 1870),
 * BODY=8BITMIME (RFC 6152), SMTPUTF8 (RFC 6531), RET/ENVID (RFC 3461);
 * RCPT with NOTIFY/ORCPT; DATA with dot-stuffing (smtp_data_writer). No
 * PIPELINING: one command, one reply. The DSN parameters go only to a
 * server that offers DSN; a recipient another server took is marked
 * no_dsn, for the "relayed" DSN (RFC 3461 5.2.2, deliver.c).
 *
 * TLS to MX hosts is opportunistic (RFC 7435): without DANE or MTA-STS
 * there is no name to check a certificate against that an attacker could
 * not also change, so the certificate is not required to verify; the
 * verification result is logged. A failed handshake is retried once in
 * plain text on the same address (as Postfix's "may" level does). The
 * smarthost is different: its name is configured, credentials are sent,
 * so TLS is required and verified (unless queue.relay_verify = no). */
#include "queue_int.h"

#include "log.h"
#include "names.h"
#include "smtp_data.h"

#include <sodium.h>
#include <stdio.h>
#include <string.h>

#define QUEUE_CMD_MAX (SMTP_MAIL_LINE_MAX + 64) /* a MAIL or RCPT line we send */
#define QUEUE_SEND_PATH_MAX (2 * QUEUE_ADDR_MAX + 8)
#define QUEUE_DATA_CHUNK (32 * 1024)
#define QUEUE_DATA_BUF_MAX (4 * QUEUE_DATA_CHUNK)
#define QUEUE_QUIT_TIMEOUT 5
#define QUEUE_AUTH_MAX (2 * QUEUE_SECRET_MAX + 2)

typedef struct session {
    queue_worker *w;
    const queue_entry *e;
    const queue_target *t;
    queue_conn *c;
    smtp_ehlo_caps caps;
    bool utf8; /* the transaction needs SMTPUTF8 */
    char err[QUEUE_ERR_MAX];
} session;

/* ---- outcomes ---------------------------------------------------------- */

void queue_outcome_local(queue_outcome *o, queue_out_kind kind, unsigned cls, unsigned subject,
                         unsigned detail, const char *mta, const char *text)
{
    memset(o, 0, sizeof(*o));
    o->kind = kind;
    o->enhanced =
        (smtp_enhanced){(unsigned char)cls, (unsigned short)subject, (unsigned short)detail};
    snprintf(o->mta, sizeof(o->mta), "%s", mta != NULL ? mta : "");
    snprintf(o->text, sizeof(o->text), "%s", text);
    for (char *p = o->text; *p != '\0'; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7f)
            *p = ' ';
}

void queue_outcome_reply(queue_outcome *o, const smtp_reply *reply, const char *mta)
{
    unsigned cls = reply->code / 100;
    queue_out_kind kind = cls == 2 ? QUEUE_OUT_OK : cls == 5 ? QUEUE_OUT_PERM : QUEUE_OUT_TEMP;
    smtp_enhanced enh = reply->enhanced;
    if (enh.cls == 0) /* RFC 3463 3.1: x.0.0 when nothing more is known */
        enh = (smtp_enhanced){(unsigned char)(cls == 2 ? 2 : cls == 5 ? 5 : 4), 0, 0};
    char code[SMTP_ENHANCED_TEXT_MAX + 1] = "";
    if (reply->enhanced.cls != 0)
        smtp_enhanced_format(&reply->enhanced, code);
    char text[QUEUE_REPLY_MAX + 1];
    snprintf(text, sizeof(text), "%u%s%s %.*s", reply->code, code[0] ? " " : "", code,
             (int)(reply->text_len < QUEUE_REPLY_MAX ? reply->text_len : QUEUE_REPLY_MAX),
             reply->text);
    queue_outcome_local(o, kind, enh.cls, enh.subject, enh.detail, mta, text);
    o->code = reply->code;
}

/* ---- commands ------------------------------------------------------------ */

/* Sends one command line (CRLF added) and reads its reply. */
static int session_cmd(session *s, const char *line, long long timeout, smtp_reply *reply_r)
{
    char buf_line[QUEUE_CMD_MAX + 3];
    int n = snprintf(buf_line, sizeof(buf_line), "%s\r\n", line);
    if (n < 0 || (size_t)n >= sizeof(buf_line)) {
        snprintf(s->err, sizeof(s->err), "command too long");
        return QUEUE_IO_FAIL;
    }
    int rc = queue_conn_send(s->c, buf_line, (size_t)n, s->w->cfg->command_timeout, false, s->err,
                             sizeof(s->err));
    if (rc != QUEUE_IO_OK)
        return rc;
    return queue_conn_reply(s->c, timeout, false, reply_r, s->err, sizeof(s->err));
}

/* "<local@domain>" for MAIL / RCPT: the local part quoted when it is not a
 * Dot-string (smtp_path_format), a U-label domain as A-labels unless the
 * transaction is SMTPUTF8 (RFC 6531 3.2 allows the conversion). */
static int session_path(const session *s, const char *addr, char out[QUEUE_SEND_PATH_MAX])
{
    smtp_path p;
    memset(&p, 0, sizeof(p));
    if (addr[0] == '\0') {
        p.null = true;
        return smtp_path_format(&p, out, QUEUE_SEND_PATH_MAX) < 0 ? -1 : 0;
    }
    const char *domain = queue_addr_domain(addr);
    size_t local_len = (size_t)(domain - addr - 1);
    if (local_len > SMTP_LOCAL_MAX)
        return -1;
    memcpy(p.local, addr, local_len);
    p.local_len = local_len;
    const char *why = NULL;
    if (s->utf8 || names_domain_normalize(domain, strlen(domain), p.domain.name, &why) < 0)
        snprintf(p.domain.name, sizeof(p.domain.name), "%s", domain);
    return smtp_path_format(&p, out, QUEUE_SEND_PATH_MAX) < 0 ? -1 : 0;
}

/* Appends " KEY=xtext(value)". */
static void session_xtext_param(char *line, size_t size, const char *key, const char *type,
                                const char *value)
{
    char x[3 * QUEUE_ORCPT_MAX + 1];
    size_t xl = 0;
    if (smtp_xtext_encode(value, strlen(value), x, sizeof(x), &xl) < 0)
        return;
    size_t used = strlen(line);
    int n = snprintf(line + used, size - used, " %s=%s%s%s", key, type, type[0] ? ";" : "", x);
    if (n < 0 || (size_t)n >= size - used)
        line[used] = '\0'; /* never a cut parameter: leave it out whole */
}

/* Appends " NOTIFY=..." (RFC 3461 4.1) when the submission gave one. */
static void session_notify(char *line, size_t size, unsigned notify)
{
    static const struct {
        unsigned bit;
        const char *name;
    } names[] = {{SMTP_NOTIFY_NEVER, "NEVER"},
                 {SMTP_NOTIFY_SUCCESS, "SUCCESS"},
                 {SMTP_NOTIFY_FAILURE, "FAILURE"},
                 {SMTP_NOTIFY_DELAY, "DELAY"}};
    const char *sep = " NOTIFY=";
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        if (!(notify & names[i].bit))
            continue;
        size_t used = strlen(line);
        snprintf(line + used, size - used, "%s%s", sep, names[i].name);
        sep = ",";
    }
}

/* ---- session set-up ----------------------------------------------------------- */

static int session_ehlo(session *s, smtp_reply *reply)
{
    char line[QUEUE_HOSTNAME_MAX + 8];
    const char *why = NULL;
    snprintf(line, sizeof(line), "EHLO %s", s->w->cfg->hostname);
    int rc = session_cmd(s, line, s->w->cfg->command_timeout, reply);
    if (rc != QUEUE_IO_OK)
        return rc;
    memset(&s->caps, 0, sizeof(s->caps));
    if (reply->code == 250)
        return smtp_ehlo_caps_parse(reply, &s->caps, &why) == 0 ? QUEUE_IO_OK : QUEUE_IO_FAIL;
    if (reply->code / 100 != 5)
        return QUEUE_IO_FAIL;
    /* RFC 5321 3.2: a server that does not know EHLO gets HELO. */
    snprintf(line, sizeof(line), "HELO %s", s->w->cfg->hostname);
    rc = session_cmd(s, line, s->w->cfg->command_timeout, reply);
    if (rc != QUEUE_IO_OK)
        return rc;
    return reply->code == 250 ? QUEUE_IO_OK : QUEUE_IO_FAIL;
}

static int session_auth(session *s, smtp_reply *reply)
{
    const queue_config *cfg = s->w->cfg;
    unsigned char raw[QUEUE_AUTH_MAX];
    char b64[sodium_base64_ENCODED_LEN(QUEUE_AUTH_MAX, sodium_base64_VARIANT_ORIGINAL)];
    char line[sizeof(b64) + 16];
    size_t ul = strlen(cfg->relay_user), pl = strlen(cfg->relay_password);
    if (!(s->caps.mechs & SMTP_MECH_PLAIN)) {
        snprintf(s->err, sizeof(s->err), "relay %s does not offer AUTH PLAIN", s->t->host);
        return QUEUE_IO_FAIL;
    }
    /* RFC 4616 2: [authzid] NUL authcid NUL passwd. */
    raw[0] = '\0';
    memcpy(raw + 1, cfg->relay_user, ul);
    raw[1 + ul] = '\0';
    memcpy(raw + 2 + ul, cfg->relay_password, pl);
    sodium_bin2base64(b64, sizeof(b64), raw, ul + pl + 2, sodium_base64_VARIANT_ORIGINAL);
    snprintf(line, sizeof(line), "AUTH PLAIN %s", b64);
    int rc = session_cmd(s, line, cfg->command_timeout, reply);
    sodium_memzero(raw, sizeof(raw));
    sodium_memzero(b64, sizeof(b64));
    sodium_memzero(line, sizeof(line));
    if (rc == QUEUE_IO_OK && reply->code != 235) {
        snprintf(s->err, sizeof(s->err), "relay %s refused AUTH: %u %.*s", s->t->host, reply->code,
                 (int)(reply->text_len > 200 ? 200 : reply->text_len), reply->text);
        return QUEUE_IO_FAIL;
    }
    return rc;
}

/* Greeting, EHLO, STARTTLS, AUTH. QUEUE_IO_OK, or a failure with s->err /
 * *why set; *retry_plain when only the TLS handshake failed. */
static int session_open(session *s, queue_outcome *why, bool *retry_plain)
{
    const queue_config *cfg = s->w->cfg;
    smtp_reply reply;
    int rc = queue_conn_open(s->t->addr, cfg->connect_timeout, s->w->stop_fd, &s->c, s->err,
                             sizeof(s->err));
    if (rc != QUEUE_IO_OK) {
        queue_outcome_local(why, QUEUE_OUT_TEMP, 4, 4, 1, s->t->host, s->err);
        return rc;
    }
    rc = queue_conn_reply(s->c, cfg->command_timeout, false, &reply, s->err, sizeof(s->err));
    if (rc == QUEUE_IO_OK && reply.code != 220) {
        queue_outcome_reply(why, &reply, s->t->host);
        why->kind = QUEUE_OUT_TEMP; /* another MX, or later, may take it */
        return QUEUE_IO_FAIL;
    }
    if (rc == QUEUE_IO_OK)
        rc = session_ehlo(s, &reply);
    if (rc == QUEUE_IO_OK && s->t->use_tls && (s->caps.caps & SMTP_CAP_STARTTLS)) {
        rc = session_cmd(s, "STARTTLS", cfg->command_timeout, &reply);
        if (rc == QUEUE_IO_OK && reply.code == 220) {
            bool verify = s->t->relay && cfg->relay_verify;
            rc = queue_conn_starttls(s->c, s->t->relay ? s->w->tls_relay : s->w->tls_mx, s->t->host,
                                     verify, cfg->command_timeout, s->err, sizeof(s->err));
            if (rc == QUEUE_IO_FAIL && !s->t->relay)
                *retry_plain = true;
            /* RFC 3207 4.2: forget what was learnt, EHLO again. */
            if (rc == QUEUE_IO_OK)
                rc = session_ehlo(s, &reply);
        } else if (rc == QUEUE_IO_OK) {
            log_info(s->e->id, "STARTTLS refused by %s (%u): going on without TLS", s->t->host,
                     reply.code);
        }
    }
    if (rc == QUEUE_IO_OK && s->t->relay) {
        if (!queue_conn_is_tls(s->c)) {
            snprintf(s->err, sizeof(s->err), "relay %s offers no STARTTLS", s->t->host);
            rc = QUEUE_IO_FAIL;
        } else if (cfg->relay_user[0] != '\0') {
            rc = session_auth(s, &reply);
        }
    }
    if (rc != QUEUE_IO_OK && why->kind == QUEUE_OUT_NONE) {
        if (s->err[0] == '\0')
            snprintf(s->err, sizeof(s->err), "%s answered %u to EHLO/HELO", s->t->host, reply.code);
        queue_outcome_local(why, QUEUE_OUT_TEMP, 4, 4, 2, s->t->host, s->err);
    }
    return rc;
}

/* ---- one transaction --------------------------------------------------------- */

typedef enum { TXN_DONE, TXN_NEXT, TXN_STOP } txn_result;

static void txn_all(queue_outcome *outs, const bool *mask, size_t n, const queue_outcome *o)
{
    for (size_t i = 0; i < n; i++)
        if (mask == NULL || mask[i])
            outs[i] = *o;
}

static void session_data_out(void *ctx, const char *data, size_t len)
{
    buf_append(ctx, data, len); /* cannot overflow: flushed after every chunk */
}

/* Sends the message with dot-stuffing and the final ".". */
static int session_send_data(session *s)
{
    smtp_data_writer wr;
    buf out;
    buf_init(&out, QUEUE_DATA_BUF_MAX);
    smtp_data_writer_init(&wr);
    int rc = QUEUE_IO_OK;
    for (size_t off = 0; rc == QUEUE_IO_OK && off < s->e->msg_len; off += QUEUE_DATA_CHUNK) {
        size_t n = s->e->msg_len - off < QUEUE_DATA_CHUNK ? s->e->msg_len - off : QUEUE_DATA_CHUNK;
        smtp_data_writer_feed(&wr, (const char *)s->e->msg + off, n, session_data_out, &out);
        rc = queue_conn_send(s->c, out.data, out.len, s->w->cfg->command_timeout, false, s->err,
                             sizeof(s->err));
        buf_reset(&out);
    }
    if (rc == QUEUE_IO_OK) {
        smtp_data_writer_end(&wr, session_data_out, &out);
        rc = queue_conn_send(s->c, out.data, out.len, s->w->cfg->command_timeout, false, s->err,
                             sizeof(s->err));
    }
    buf_free(&out);
    return rc;
}

static txn_result session_txn(session *s, const size_t *idx, size_t n, queue_outcome *outs,
                              bool first)
{
    const queue_config *cfg = s->w->cfg;
    const queue_envelope *env = &s->e->env;
    char line[QUEUE_CMD_MAX], path[QUEUE_SEND_PATH_MAX];
    smtp_reply reply;
    queue_outcome o;
    bool accepted[QUEUE_TXN_RCPTS_MAX] = {false};
    size_t naccepted = 0;
    bool dsn = (s->caps.caps & SMTP_CAP_DSN) != 0;

    if (session_path(s, env->from, path) < 0)
        return TXN_NEXT;
    snprintf(line, sizeof(line), "MAIL FROM:%s", path);
    if (s->caps.caps & SMTP_CAP_SIZE)
        snprintf(line + strlen(line), sizeof(line) - strlen(line), " SIZE=%zu", s->e->msg_len);
    if (s->e->eightbit && (s->caps.caps & SMTP_CAP_8BITMIME))
        snprintf(line + strlen(line), sizeof(line) - strlen(line), " BODY=8BITMIME");
    if (s->utf8)
        snprintf(line + strlen(line), sizeof(line) - strlen(line), " SMTPUTF8");
    if (dsn && env->ret != SMTP_RET_NONE)
        snprintf(line + strlen(line), sizeof(line) - strlen(line), " RET=%s",
                 env->ret == SMTP_RET_HDRS ? "HDRS" : "FULL");
    if (dsn && env->envid[0] != '\0')
        session_xtext_param(line, sizeof(line), "ENVID", "", env->envid);
    int rc = session_cmd(s, line, cfg->command_timeout, &reply);
    if (rc == QUEUE_IO_STOP)
        return TXN_STOP;
    if (rc != QUEUE_IO_OK || reply.code / 100 == 4) {
        if (rc != QUEUE_IO_OK)
            queue_outcome_local(&o, QUEUE_OUT_TEMP, 4, 4, 2, s->t->host, s->err);
        else
            queue_outcome_reply(&o, &reply, s->t->host);
        txn_all(outs, NULL, n, &o);
        return first ? TXN_NEXT : TXN_DONE;
    }
    if (reply.code / 100 != 2) {
        queue_outcome_reply(&o, &reply, s->t->host);
        txn_all(outs, NULL, n, &o);
        return TXN_DONE;
    }
    for (size_t i = 0; i < n; i++) {
        const queue_rcpt *r = &env->rcpts[idx[i]];
        if (session_path(s, r->addr, path) < 0) {
            queue_outcome_local(&outs[i], QUEUE_OUT_PERM, 5, 1, 3, "", "bad recipient address");
            continue;
        }
        snprintf(line, sizeof(line), "RCPT TO:%s", path);
        if (dsn) {
            session_notify(line, sizeof(line), r->notify);
            if (r->orcpt_type[0] != '\0')
                session_xtext_param(line, sizeof(line), "ORCPT", r->orcpt_type, r->orcpt);
        }
        rc = session_cmd(s, line, cfg->command_timeout, &reply);
        if (rc == QUEUE_IO_STOP)
            return TXN_STOP;
        if (rc != QUEUE_IO_OK) {
            queue_outcome_local(&o, QUEUE_OUT_TEMP, 4, 4, 2, s->t->host, s->err);
            txn_all(outs, NULL, n, &o);
            return first ? TXN_NEXT : TXN_DONE;
        }
        queue_outcome_reply(&outs[i], &reply, s->t->host);
        if (reply.code / 100 == 2) {
            accepted[i] = true;
            naccepted++;
        }
    }
    if (naccepted == 0) {
        session_cmd(s, "RSET", cfg->command_timeout, &reply);
        return TXN_DONE;
    }
    rc = session_cmd(s, "DATA", cfg->command_timeout, &reply);
    if (rc == QUEUE_IO_STOP)
        return TXN_STOP;
    if (rc != QUEUE_IO_OK || reply.code != 354) {
        if (rc != QUEUE_IO_OK)
            queue_outcome_local(&o, QUEUE_OUT_TEMP, 4, 4, 2, s->t->host, s->err);
        else
            queue_outcome_reply(&o, &reply, s->t->host);
        if (o.kind == QUEUE_OUT_OK)
            o.kind = QUEUE_OUT_TEMP; /* a 2xx to DATA: a broken server */
        txn_all(outs, accepted, n, &o);
        return TXN_DONE;
    }
    rc = session_send_data(s);
    if (rc == QUEUE_IO_STOP)
        return TXN_STOP;
    /* RFC 5321 4.5.3.2.6: wait long for the reply to the end of data, and
     * wait for it even when stopping: a delivery that happened is recorded. */
    if (rc == QUEUE_IO_OK)
        rc = queue_conn_reply(s->c, cfg->data_timeout, true, &reply, s->err, sizeof(s->err));
    if (rc != QUEUE_IO_OK)
        queue_outcome_local(&o, QUEUE_OUT_TEMP, 4, 4, 2, s->t->host, s->err);
    else
        queue_outcome_reply(&o, &reply, s->t->host);
    o.no_dsn = !dsn; /* deliver.c owes a "relayed" DSN for NOTIFY=SUCCESS */
    txn_all(outs, accepted, n, &o);
    return TXN_DONE;
}

static void session_log(const session *s, const size_t *idx, size_t n, const queue_outcome *outs)
{
    static const char *kinds[] = {"abandoned", "delivered", "deferred", "failed"};
    for (size_t i = 0; i < n; i++)
        log_info(s->e->id, "to=<%s> mx=%s addr=%s tls=\"%s\" status=%s reply=\"%s\"",
                 s->e->env.rcpts[idx[i]].addr, s->t->host, queue_conn_peer(s->c),
                 queue_conn_tls(s->c), kinds[outs[i].kind], outs[i].text);
}

/* True when the envelope needs SMTPUTF8: the submission asked for it, or a
 * local part is not ASCII (a domain can go as A-labels). */
static bool session_needs_utf8(const queue_entry *e, const size_t *idx, size_t n)
{
    const char *from = e->env.from;
    const char *fd = from[0] ? queue_addr_domain(from) : from;
    if (e->env.smtputf8 || !queue_text_ok(from, (size_t)(fd - from), false))
        return true;
    for (size_t i = 0; i < n; i++) {
        const char *a = e->env.rcpts[idx[i]].addr;
        if (!queue_text_ok(a, (size_t)(queue_addr_domain(a) - a), false))
            return true;
    }
    return false;
}

queue_session_result queue_session_run(queue_worker *w, const queue_entry *e, const queue_target *t,
                                       const size_t *idx, size_t n, queue_outcome *outs,
                                       queue_record_fn *record, void *record_ctx,
                                       queue_outcome *why)
{
    session s = {.w = w, .e = e, .t = t};
    bool retry_plain = false;
    smtp_reply reply;
    memset(why, 0, sizeof(*why));
    s.utf8 = session_needs_utf8(e, idx, n);
    int rc = session_open(&s, why, &retry_plain);
    if (rc != QUEUE_IO_OK) {
        log_info(e->id, "mx=%s addr=%s: %s", t->host, s.c != NULL ? queue_conn_peer(s.c) : "-",
                 why->text);
        queue_conn_close(&s.c);
        return rc == QUEUE_IO_STOP ? QUEUE_SESSION_STOP
               : retry_plain       ? QUEUE_SESSION_RETRY_PLAIN
                                   : QUEUE_SESSION_NEXT;
    }
    queue_outcome refuse = {0};
    if (s.utf8 && !(s.caps.caps & SMTP_CAP_SMTPUTF8)) /* RFC 6531 3.2 */
        queue_outcome_local(&refuse, QUEUE_OUT_PERM, 5, 6, 7, t->host,
                            "550 5.6.7 the remote server does not support SMTPUTF8");
    else if (s.caps.size_max != 0 && e->msg_len > s.caps.size_max) /* RFC 1870 6.1 */
        queue_outcome_local(&refuse, QUEUE_OUT_PERM, 5, 3, 4, t->host,
                            "552 5.3.4 message larger than the remote server's SIZE limit");
    queue_session_result result = QUEUE_SESSION_DONE;
    for (size_t off = 0; off < n; off += QUEUE_TXN_RCPTS_MAX) {
        size_t m = n - off < QUEUE_TXN_RCPTS_MAX ? n - off : QUEUE_TXN_RCPTS_MAX;
        txn_result tr = TXN_DONE;
        if (refuse.kind != QUEUE_OUT_NONE)
            txn_all(outs + off, NULL, m, &refuse);
        else if (queue_worker_stopping(w))
            tr = TXN_STOP;
        else
            tr = session_txn(&s, idx + off, m, outs + off, off == 0);
        if (tr == TXN_STOP) {
            result = QUEUE_SESSION_STOP;
            memset(outs + off, 0, m * sizeof(*outs));
            break;
        }
        if (tr == TXN_NEXT) {
            *why = outs[off];
            memset(outs + off, 0, m * sizeof(*outs));
            result = QUEUE_SESSION_NEXT;
            break;
        }
        session_log(&s, idx + off, m, outs + off);
        record(record_ctx, idx + off, m, outs + off);
    }
    if (result != QUEUE_SESSION_STOP) {
        char qline[] = "QUIT\r\n";
        if (queue_conn_send(s.c, qline, sizeof(qline) - 1, QUEUE_QUIT_TIMEOUT, false, s.err,
                            sizeof(s.err)) == QUEUE_IO_OK)
            queue_conn_reply(s.c, QUEUE_QUIT_TIMEOUT, false, &reply, s.err, sizeof(s.err));
    }
    if (result == QUEUE_SESSION_NEXT)
        log_info(e->id, "mx=%s addr=%s: %s", t->host, queue_conn_peer(s.c), why->text);
    queue_conn_close(&s.c);
    return result;
}
