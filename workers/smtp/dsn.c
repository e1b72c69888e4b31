/* The "delivered" DSN of a local delivery (RFC 3461 5.2.3, RFC 3464
 * 2.3.3): once a transaction's copies are durable in every spool, one
 * multipart/report to the envelope sender naming each RCPT that asked for
 * NOTIFY=SUCCESS, built by lib/queue's pure builder (queue_dsn.h: headers
 * only, whatever RET says, RFC 3461 4.3) and delivered like the queue's
 * DSNs (smtpd_queue_local: into the sender's mailbox when it is hosted
 * here, else queued from the null sender).
 *
 * Final-Recipient is the RCPT address as the client gave it: an alias is
 * reported as delivered without naming the mailboxes behind it. An RCPT
 * that also reached outside addresses (an alias that forwards) gets no
 * DSN here: "delivered" is a final state (RFC 3464 2.3.3), and its NOTIFY
 * travels with the forwarded copies, which are reported for themselves
 * ("relayed" from the queue, or the next server's own DSN). */
#include "session.h"

#include "queue_dsn.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DSN_BOUNDARY_RANDOM 12 /* random bytes of the MIME boundary */

/* RCPT r asked for SUCCESS and reached mailboxes here only. */
static bool dsn_due(const smtpd_rcpt *r)
{
    return queue_dsn_success_wanted(r->notify) && r->nlocal > 0 && r->nremote == 0;
}

/* "local@domain" of a "<local@domain>" path. */
static void dsn_unbracket(const char *path, char *out, size_t size)
{
    size_t n = strlen(path);
    snprintf(out, size, "%.*s", (int)(n > 2 ? n - 2 : 0), path + 1);
}

static bool dsn_eightbit(const char *msg, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)msg[i] > 0x7f)
            return true;
    return false;
}

/* Builds the DSN of the n due RCPTs into out: 1, 0 (none due) or -1. */
static int dsn_build(const smtpd_server *srv, const smtpd_dsn_tx *tx, size_t n, int64_t now,
                     buf *out, const char **why)
{
    queue_rcpt *rcpts = calloc(n, sizeof *rcpts);
    queue_rcpt_state *rs = calloc(n, sizeof *rs);
    bool *pick = calloc(n, sizeof *pick);
    char rnd[2 * DSN_BOUNDARY_RANDOM + 1], boundary[QUEUE_DSN_BOUNDARY_MAX + 1];
    queue_entry e;
    queue_state st;
    size_t k = 0;
    int rc = -1;
    *why = "out of memory";
    if (rcpts == NULL || rs == NULL || pick == NULL)
        goto out;
    *why = "no randomness for the MIME boundary";
    if (keys_random_hex(rnd, DSN_BOUNDARY_RANDOM) != KEYS_OK)
        goto out;
    snprintf(boundary, sizeof boundary, "=_dsn_%s", rnd);
    memset(&e, 0, sizeof e);
    snprintf(e.id, sizeof e.id, "%s", tx->txid); /* names the DSN's Message-ID */
    dsn_unbracket(tx->mail_from, e.env.from, sizeof e.env.from);
    if (tx->mail->has_envid)
        snprintf(e.env.envid, sizeof e.env.envid, "%s", tx->mail->envid);
    e.env.ret = tx->mail->ret;
    e.env.smtputf8 = tx->mail->smtputf8;
    e.env.queued_at = now; /* Arrival-Date: it arrived just now */
    for (size_t i = 0; i < tx->nrcpt && k < n; i++) {
        const smtpd_rcpt *r = &tx->rcpts[i];
        if (!dsn_due(r))
            continue;
        dsn_unbracket(r->path, rcpts[k].addr, sizeof rcpts[k].addr);
        rcpts[k].notify = r->notify;
        snprintf(rcpts[k].orcpt_type, sizeof rcpts[k].orcpt_type, "%s", r->orcpt_type);
        snprintf(rcpts[k].orcpt, sizeof rcpts[k].orcpt, "%s", r->orcpt);
        /* DELIVERED, not relayed: Action "delivered", Status 2.0.0. */
        rs[k].status = QUEUE_RCPT_DELIVERED;
        rs[k].enhanced = (smtp_enhanced){2, 0, 0};
        rs[k].last_attempt = now;
        pick[k++] = true;
    }
    e.env.rcpts = rcpts;
    e.env.nrcpt = k;
    e.msg = (unsigned char *)tx->msg;
    e.msg_len = tx->len;
    e.eightbit = dsn_eightbit(tx->msg, tx->len);
    st = (queue_state){.nrcpt = k, .rcpts = rs};
    rc = queue_dsn_build(&(queue_dsn_input){.reporting_mta = srv->cfg.hostname,
                                            .boundary = boundary,
                                            .now = now,
                                            .entry = &e,
                                            .state = &st,
                                            .report = pick},
                         out, why);
out:
    free(rcpts);
    free(rs);
    free(pick);
    return rc;
}

int smtpd_dsn_delivered(smtpd_server *srv, const smtpd_dsn_tx *tx, int64_t now, char *err,
                        size_t errlen)
{
    /* RFC 5321 4.5.5, RFC 3461 6.2: never a DSN to the null reverse-path
     * (the builder says so too; this spares the work). */
    if (strcmp(tx->mail_from, "<>") == 0)
        return 0;
    size_t n = 0;
    for (size_t i = 0; i < tx->nrcpt; i++)
        n += dsn_due(&tx->rcpts[i]);
    if (n == 0)
        return 0;
    buf out;
    buf_init_secret(&out, QUEUE_DSN_MAX);
    const char *why = NULL;
    int rc = dsn_build(srv, tx, n, now, &out, &why);
    if (rc < 0)
        snprintf(err, errlen, "%s", why != NULL ? why : "cannot build it");
    if (rc == 1) {
        char sender[QUEUE_ADDR_MAX + 1];
        dsn_unbracket(tx->mail_from, sender, sizeof sender);
        if (smtpd_queue_local(srv, sender, out.data, out.len) < 0) {
            snprintf(err, errlen, "not spooled or queued (logged above)");
            rc = -1;
        }
    }
    buf_free(&out);
    return rc;
}
