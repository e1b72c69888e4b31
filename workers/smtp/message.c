/* The message text: DATA (RFC 5321 4.1.1.4, dot-stuffed, ended by
 * CRLF.CRLF, smuggling refused by lib/smtp's reader) and BDAT (RFC 3030,
 * counted chunks). Either way the text lands in s->msg behind our Received
 * header, bounded by smtp.message_max, and goes to the delivery job. */
#include "session.h"

#include "log.h"

#include <string.h>
#include <time.h>

#define MESSAGE_READ_MAX (64 * 1024) /* octets handed to the reader at once */

/* Starts s->msg with our Received header. */
static int message_begin(smtpd_session *s)
{
    buf_free(&s->msg);
    buf_init_secret(&s->msg, (size_t)s->srv->cfg.message_max + SMTPD_RECEIVED_MAX);
    smtpd_received_info info = {
        .helo = s->helo,
        .peer_ip = net_conn_peer(s->c),
        .hostname = s->srv->cfg.hostname,
        .session = s->txid,
        .esmtp = s->esmtp,
        .tls = s->tls,
        .auth = s->authed,
        .utf8 = s->mail.smtputf8,
        .tls_version = net_conn_tls_version(s->c),
        .tls_cipher = net_conn_tls_cipher(s->c),
        .tls_bits = net_conn_tls_bits(s->c),
        .for_rcpt = s->nrcpt == 1 ? s->rcpts[0].path + 1 : NULL,
        .now = (int64_t)time(NULL),
    };
    char for_rcpt[SMTP_PATH_MAX + 1];
    if (info.for_rcpt != NULL) { /* without the angle brackets */
        size_t n = strlen(info.for_rcpt);
        snprintf(for_rcpt, sizeof for_rcpt, "%.*s", (int)(n > 0 ? n - 1 : 0), info.for_rcpt);
        info.for_rcpt = for_rcpt;
    }
    if (smtpd_received_format(&s->msg, &info) < 0)
        return -1;
    s->msg_start = s->msg.len;
    s->msg_open = true;
    return 0;
}

static void message_out(void *ctx, const char *data, size_t len)
{
    smtpd_session *s = ctx;
    buf_append(&s->msg, data, len); /* a failure is seen at the end */
}

/* The transaction may take message text: a MAIL and at least one RCPT. */
static int message_ready(smtpd_session *s, smtp_error *e)
{
    if (s->state != SMTPD_MAIL) {
        *e = (smtp_error){503, {5, 5, 1}, "need MAIL and RCPT first"};
        return -1;
    }
    if (s->nrcpt == 0) {
        *e = (smtp_error){554, {5, 5, 1}, "no valid recipients"};
        return -1;
    }
    return 0;
}

void smtpd_cmd_data(smtpd_session *s, const smtp_command *cmd)
{
    (void)cmd;
    smtp_error e;
    if (message_ready(s, &e) < 0) {
        smtpd_reply_error(s, &e);
        smtpd_count_error(s);
        return;
    }
    if (s->msg_open) { /* RFC 3030 2: no DATA after BDAT in one transaction */
        smtpd_reply(s, 503, "5.5.1", "DATA after BDAT");
        smtpd_count_error(s);
        return;
    }
    if (s->mail.body == SMTP_BODY_BINARYMIME) { /* RFC 3030 3 */
        smtpd_reply(s, 503, "5.5.1", "BINARYMIME needs BDAT");
        return;
    }
    if (message_begin(s) < 0) {
        smtpd_reply(s, 451, "4.3.0", "cannot start the message");
        return;
    }
    smtp_data_options opts;
    smtp_data_options_default(&opts);
    opts.max_size = s->srv->cfg.message_max;
    /* RFC 5321 4.5.3.1.6: 1000 octets a line; smtp.line_max 0 passes longer
     * lines on as they came. Bare CR or LF is refused (SMTP smuggling). */
    if (s->srv->cfg.line_max == 0)
        opts.long_lines_ok = true;
    else
        opts.max_line = s->srv->cfg.line_max;
    smtp_data_reader_init(&s->reader, &opts, message_out, s);
    s->state = SMTPD_DATA;
    net_conn_printf(s->c, "354 End data with <CR><LF>.<CR><LF>\r\n");
}

void smtpd_cmd_bdat(smtpd_session *s, const smtp_command *cmd)
{
    smtp_error e;
    bool first = !s->msg_open;
    s->bdat_return = s->state;
    if (message_ready(s, &e) < 0) {
        /* The chunk's octets follow whatever we say: read and drop them. */
        s->bdat_error = e;
    } else if (first && message_begin(s) < 0) {
        s->bdat_error = (smtp_error){451, {4, 3, 0}, "cannot start the message"};
    }
    uint64_t have = s->msg.len > s->msg_start ? s->msg.len - s->msg_start : 0;
    if (s->bdat_error.code == 0 &&
        (have > s->srv->cfg.message_max || cmd->bdat_size > s->srv->cfg.message_max - have))
        s->bdat_error = (smtp_error){552, {5, 3, 4}, "message size exceeds fixed maximum"};
    if (cmd->bdat_size > s->srv->cfg.message_max) {
        /* Reading and dropping a chunk that can never fit would hold the
         * connection for as long as the client likes: refuse and close. */
        smtpd_reply(s, 552, "5.3.4", "chunk larger than the maximum message size");
        net_conn_close(s->c);
        return;
    }
    s->bdat_left = cmd->bdat_size;
    s->bdat_last = cmd->bdat_last;
    s->state = SMTPD_BDAT;
}

/* The end of the text: refuse it, or hand it to the delivery job. */
static void message_end(smtpd_session *s, const smtp_error *refused)
{
    /* Not a compound literal in the if: its lifetime would end with the
     * if's body (C11 6.8.4), before the reply below reads it. */
    static const smtp_error too_big = {552, {5, 3, 4}, "message size exceeds fixed maximum"};
    if (refused == NULL && s->msg.failed)
        refused = &too_big;
    if (refused != NULL) {
        smtpd_reply_error(s, refused);
        smtpd_tx_reset(s);
        return;
    }
    s->state = SMTPD_READY;
    smtpd_deliver(s);
}

static int message_data(smtpd_session *s, const char *in, size_t n)
{
    size_t used = 0;
    smtp_error e;
    int r = smtp_data_reader_feed(&s->reader, in, n, &used, &e);
    net_conn_consume(s->c, used);
    if (r == 0)
        return 0;
    if (r < 0)
        log_info(s->id, "message refused: %s (%llu octets, flags %#x)", e.text,
                 (unsigned long long)s->reader.size, s->reader.flags);
    message_end(s, r < 0 ? &e : NULL);
    return 1;
}

static int message_bdat(smtpd_session *s, const char *in, size_t n)
{
    size_t take = n < s->bdat_left ? n : (size_t)s->bdat_left;
    if (s->bdat_error.code == 0 && buf_append(&s->msg, in, take) < 0)
        s->bdat_error = (smtp_error){552, {5, 3, 4}, "message size exceeds fixed maximum"};
    net_conn_consume(s->c, take);
    s->bdat_left -= take;
    if (s->bdat_left > 0)
        return 0;
    if (s->bdat_error.code != 0) {
        /* RFC 3030 2: a refused chunk fails the transaction. */
        smtp_error e = s->bdat_error;
        s->state = s->bdat_return;
        message_end(s, &e);
        return 1;
    }
    if (!s->bdat_last) {
        s->state = SMTPD_MAIL;
        smtpd_reply(s, 250, "2.0.0", "%llu octets received",
                    (unsigned long long)(s->msg.len - s->msg_start));
        return 1;
    }
    message_end(s, NULL);
    return 1;
}

int smtpd_message_input(smtpd_session *s)
{
    if (s->state == SMTPD_BDAT && s->bdat_left == 0)
        return message_bdat(s, "", 0); /* BDAT 0 [LAST] */
    const char *in = NULL;
    size_t n = net_conn_peek(s->c, &in);
    if (n == 0)
        return 0;
    if (n > MESSAGE_READ_MAX)
        n = MESSAGE_READ_MAX;
    return s->state == SMTPD_DATA ? message_data(s, in, n) : message_bdat(s, in, n);
}
