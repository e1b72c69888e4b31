/* Delivery: every local mailbox's copy sealed into its spool (lib/spool:
 * encrypted to the user's public key, fsynced, renamed, directory fsynced)
 * before the 250 (DESIGN.md "Mail flow"), then the "delivered" DSNs asked
 * for (dsn.c), then "new mail" published. All of it on a pool thread; the
 * session waits, paused. Also the RCPT quota check, which reads file
 * sizes. */
#include "session.h"

#include "log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct deliver_job {
    smtpd_session *s; /* touched only by deliver_done, on the loop thread */
    smtpd_server *srv;
    const char *msg;
    size_t len, pos;
    const smtpd_mailbox *local;
    size_t nlocal;
    queue_envelope env; /* outside recipients (env.nrcpt 0: none) */
    char queue_id[QUEUE_ID_LEN + 1];
    int failed; /* 0, or the index + 1 of the mailbox that failed (nlocal + 1: the queue) */
    spool_result why;
    char err[256];
    smtpd_dsn_tx dsn_tx; /* for the "delivered" DSN */
    int dsn;             /* smtpd_dsn_delivered's answer */
    char dsn_err[256];
} deliver_job;

static ssize_t deliver_read(void *ctx, void *out, size_t len)
{
    deliver_job *j = ctx;
    size_t n = j->len - j->pos < len ? j->len - j->pos : len;
    memcpy(out, j->msg + j->pos, n);
    j->pos += n;
    return (ssize_t)n;
}

static void deliver_work(void *arg)
{
    deliver_job *j = arg;
    char(*ids)[SPOOL_ID_LEN + 1] = calloc(j->nlocal ? j->nlocal : 1, sizeof *ids);
    if (ids == NULL) {
        j->failed = 1;
        j->why = SPOOL_ERR_IO;
        snprintf(j->err, sizeof j->err, "out of memory");
        return;
    }
    size_t done = 0;
    for (; done < j->nlocal; done++) {
        j->pos = 0;
        j->why = spool_put(j->srv->spool_dir, j->local[done].store_id, j->local[done].pk,
                           deliver_read, j, (size_t)j->len, ids[done], j->err, sizeof j->err);
        if (j->why != SPOOL_OK) {
            j->failed = (int)done + 1;
            break;
        }
    }
    if (!j->failed && j->env.nrcpt > 0) {
        queue_result qr =
            queue_put(j->srv->cfg.queue.queue_dir, j->srv->server_key, &j->env, j->msg, j->len,
                      j->srv->cfg.queue.message_max, j->queue_id, j->err, sizeof j->err);
        if (qr != QUEUE_OK)
            j->failed = (int)j->nlocal + 1;
    }
    if (j->failed) { /* all or nothing: the client will send it again */
        /* The copy that failed too: spool_put can fail after its rename
         * (the directory fsync). A session draining meanwhile may have
         * taken a copy already; the client's retry then duplicates it. */
        for (size_t i = 0; i <= done && i < j->nlocal; i++)
            if (ids[i][0] != '\0')
                spool_remove(j->srv->spool_dir, j->local[i].store_id, ids[i]);
    } else {
        /* Every copy is durable: now the DSNs of NOTIFY=SUCCESS, before
         * the 250. A DSN that cannot be made is logged (deliver_done) and
         * the transaction still succeeds: the message itself is safe in
         * every mailbox, RFC 3461 5.2.3 says a "delivered" DSN "should" be
         * issued, not must, and a 4xx now would make the client send the
         * message again, a second copy in every mailbox. */
        j->dsn = smtpd_dsn_delivered(j->srv, &j->dsn_tx, (int64_t)time(NULL), j->dsn_err,
                                     sizeof j->dsn_err);
        for (size_t i = 0; i < j->nlocal; i++) {
            smtpd_quota_spooled(j->srv->quota, j->local[i].store_id, j->len);
            if (worker_publish_new_mail(j->local[i].store_id) < 0)
                log_warn(NULL, "new-mail notice for store %s not published (Redis)",
                         j->local[i].store_id);
        }
    }
    free(ids);
}

static void deliver_done(net_conn *c, void *arg)
{
    deliver_job *j = arg;
    smtpd_session *s = j->s;
    (void)c;
    if (j->failed) {
        net_metric_add(s->srv->m.spool_failed, 1);
        if ((size_t)j->failed > j->nlocal)
            log_error(s->id, "%s: not queued: %s", s->txid, j->err);
        else
            log_error(s->id, "%s: not delivered to %s: %s: %s", s->txid,
                      j->local[j->failed - 1].address, spool_strerror(j->why), j->err);
        if (!net_conn_closing(s->c))
            smtpd_reply(s, 451, "4.3.0", "local delivery failed, try again later");
    } else {
        net_metric_add(s->srv->m.messages, 1);
        log_info(s->id,
                 "%s: from %s, %zu recipient(s), %zu mailbox(es), %zu outside%s%s, %zu octets",
                 s->txid, s->mail_from, s->nrcpt, j->nlocal, j->env.nrcpt,
                 j->env.nrcpt ? " queued as " : "", j->env.nrcpt ? j->queue_id : "", j->len);
        if (j->dsn < 0)
            log_warn(s->id, "%s: \"delivered\" DSN to %s not sent: %s", s->txid, s->mail_from,
                     j->dsn_err);
        else if (j->dsn > 0)
            log_info(s->id, "%s: \"delivered\" DSN to %s", s->txid, s->mail_from);
        /* A DSN to a sender outside went to the queue. */
        if ((j->env.nrcpt > 0 || j->dsn > 0) && s->srv->runner != NULL)
            queue_runner_kick(s->srv->runner);
        if (!net_conn_closing(s->c))
            smtpd_reply(s, 250, "2.0.0", "OK queued as %s", s->txid);
    }
    free(j->env.rcpts);
    free(j);
    smtpd_tx_reset(s);
    smtpd_resume(s);
}

/* The queue's envelope for the outside recipients: RFC 3461 parameters of
 * the RCPT each came from; one an alias forwarded gets that alias as its
 * ORCPT when the client gave none. */
static int deliver_envelope(smtpd_session *s, queue_envelope *env)
{
    memset(env, 0, sizeof *env);
    if (s->targets.nremote == 0)
        return 0;
    env->rcpts = calloc(s->targets.nremote, sizeof *env->rcpts);
    if (env->rcpts == NULL)
        return -1;
    size_t n = strlen(s->mail_from); /* "<>" or "<a@b>" */
    snprintf(env->from, sizeof env->from, "%.*s", (int)(n > 2 ? n - 2 : 0), s->mail_from + 1);
    if (s->mail.has_envid)
        snprintf(env->envid, sizeof env->envid, "%s", s->mail.envid);
    env->ret = s->mail.ret;
    env->smtputf8 = s->mail.smtputf8;
    for (size_t i = 0; i < s->targets.nremote; i++) {
        const smtpd_remote *r = &s->targets.remote[i];
        const smtpd_rcpt *from = &s->rcpts[r->rcpt < s->nrcpt ? r->rcpt : 0];
        queue_rcpt *q = &env->rcpts[env->nrcpt++];
        snprintf(q->addr, sizeof q->addr, "%s", r->address);
        q->notify = from->notify;
        if (from->orcpt_type[0] != '\0') {
            snprintf(q->orcpt_type, sizeof q->orcpt_type, "%s", from->orcpt_type);
            snprintf(q->orcpt, sizeof q->orcpt, "%s", from->orcpt);
        } else {
            size_t pl = strlen(from->path);
            snprintf(q->orcpt_type, sizeof q->orcpt_type, "%s",
                     s->mail.smtputf8 ? "utf-8" : "rfc822");
            snprintf(q->orcpt, sizeof q->orcpt, "%.*s", (int)(pl > 2 ? pl - 2 : 0), from->path + 1);
        }
    }
    return 0;
}

void smtpd_deliver(smtpd_session *s)
{
    if (s->port->submission && !smtpd_from_owned(s)) {
        smtpd_reply(s, 550, "5.7.1", "From: header not an address of %s", s->user);
        smtpd_tx_reset(s);
        return;
    }
    deliver_job *j = calloc(1, sizeof *j);
    if (j == NULL) {
        smtpd_reply(s, 451, "4.3.0", "out of memory");
        smtpd_tx_reset(s);
        return;
    }
    j->s = s;
    j->srv = s->srv;
    j->msg = s->msg.data;
    j->len = s->msg.len;
    j->local = s->targets.local;
    j->nlocal = s->targets.nlocal;
    j->dsn_tx = (smtpd_dsn_tx){.txid = s->txid,
                               .mail_from = s->mail_from,
                               .mail = &s->mail,
                               .rcpts = s->rcpts,
                               .nrcpt = s->nrcpt,
                               .msg = s->msg.data,
                               .len = s->msg.len};
    if (deliver_envelope(s, &j->env) < 0 ||
        net_conn_submit(s->c, deliver_work, deliver_done, j) < 0) {
        free(j->env.rcpts);
        free(j);
        smtpd_reply(s, 451, "4.3.0", "server busy, try again later");
        smtpd_tx_reset(s);
        return;
    }
    s->busy = true;
    net_conn_pause(s->c);
}

/* ---- the queue's DSNs --------------------------------------------------- */

int smtpd_queue_local(void *ctx, const char *recipient, const char *msg, size_t len)
{
    smtpd_server *srv = ctx;
    smtpd_targets t = {0};
    const directory *d = directory_follower_read_lock(srv->dir);
    smtpd_rcpt_status st = smtpd_rcpt_expand(d, recipient, &t);
    directory_follower_read_unlock(srv->dir);
    int rc = 0;
    deliver_job j = {.srv = srv, .msg = msg, .len = len};
    char id[SPOOL_ID_LEN + 1];
    for (size_t i = 0; st == SMTPD_RCPT_OK && rc == 0 && i < t.nlocal; i++) {
        j.pos = 0;
        if (spool_put(srv->spool_dir, t.local[i].store_id, t.local[i].pk, deliver_read, &j, len, id,
                      j.err, sizeof j.err) != SPOOL_OK) {
            rc = -1;
            break;
        }
        smtpd_quota_spooled(srv->quota, t.local[i].store_id, len);
        worker_publish_new_mail(t.local[i].store_id); /* best effort: a session drains on open */
    }
    if (st != SMTPD_RCPT_OK || t.nremote > 0) {
        /* A sender outside: the DSN travels like any mail, from the null
         * sender (RFC 3461 6.2), so it never bounces back. */
        queue_rcpt r = {0};
        snprintf(r.addr, sizeof r.addr, "%s", recipient);
        queue_envelope env = {.nrcpt = 1, .rcpts = &r};
        char qid[QUEUE_ID_LEN + 1];
        if (st != SMTPD_RCPT_NOT_HOSTED && st != SMTPD_RCPT_OK)
            log_warn(NULL, "DSN for %s dropped: the address is hosted here but reaches nobody",
                     recipient);
        else if (queue_put(srv->cfg.queue.queue_dir, srv->server_key, &env, msg, len,
                           srv->cfg.queue.message_max, qid, j.err, sizeof j.err) != QUEUE_OK)
            rc = -1;
    }
    if (rc < 0)
        log_warn(NULL, "DSN for %s not delivered yet: %s", recipient, j.err);
    smtpd_targets_free(&t);
    return rc;
}

/* ---- RCPT: the quota ---------------------------------------------------- */

typedef struct quota_job {
    smtpd_session *s;
    const smtpd_server *srv;
    const smtpd_mailbox *local;
    size_t n, first_remote;
    uint64_t size;
    int over; /* index + 1 of a mailbox over quota */
    char path[SMTP_PATH_MAX + 1];
} quota_job;

static void quota_work(void *arg)
{
    quota_job *j = arg;
    for (size_t i = 0; i < j->n && !j->over; i++)
        if (j->local[i].quota > 0 &&
            smtpd_quota_usage(j->srv->quota, j->srv->stores_dir, j->srv->spool_dir,
                              j->local[i].store_id, (int64_t)time(NULL)) +
                    j->size >
                j->local[i].quota)
            j->over = (int)i + 1;
}

static void quota_done(net_conn *c, void *arg)
{
    quota_job *j = arg;
    smtpd_session *s = j->s;
    (void)c;
    if (j->over) {
        log_info(s->id, "%s: %s over quota", j->path, j->local[j->over - 1].address);
        /* Take the recipient back: its mailboxes were the last added. */
        s->targets.nlocal = (size_t)(j->local - s->targets.local);
        s->targets.nremote = j->first_remote;
        s->nrcpt--;
        if (!net_conn_closing(s->c))
            smtpd_reply(s, 452, "4.2.2", "%s: mailbox full", j->path);
    } else if (!net_conn_closing(s->c)) {
        smtpd_reply(s, 250, "2.1.5", "recipient ok");
    }
    free(j);
    smtpd_resume(s);
}

void smtpd_rcpt_check_quota(smtpd_session *s, size_t first_new, size_t first_remote,
                            const char *path)
{
    quota_job *j = calloc(1, sizeof *j);
    if (j != NULL) {
        j->s = s;
        j->srv = s->srv;
        j->local = s->targets.local + first_new;
        j->n = s->targets.nlocal - first_new;
        j->first_remote = first_remote;
        j->size = s->mail.has_size ? s->mail.size : 0;
        snprintf(j->path, sizeof j->path, "%s", path);
    }
    if (j == NULL || net_conn_submit(s->c, quota_work, quota_done, j) < 0) {
        free(j);
        s->targets.nlocal = first_new;
        s->targets.nremote = first_remote;
        s->nrcpt--;
        smtpd_reply(s, 451, "4.3.0", "server busy, try again later");
        return;
    }
    s->busy = true;
    net_conn_pause(s->c);
}
