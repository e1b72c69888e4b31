/* One delivery attempt of one entry: group the due recipients by domain,
 * find the hosts (MX or smarthost), run sessions, record each outcome
 * durably, schedule retries, expire, hand DSNs over ("failed", and
 * "relayed" for NOTIFY=SUCCESS through a server without DSN), remove the
 * entry when every recipient is done. */
#include "queue_int.h"

#include "log.h"
#include "names.h"
#include "queue_dsn.h"

#include <openssl/ssl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define QUEUE_RELAY_DEFAULT_PORT 587
#define QUEUE_BOUNDARY_RANDOM 12 /* random bytes of a DSN boundary */

typedef struct deliver {
    queue_worker *w;
    queue_entry *e;
    queue_state st;
    int64_t now;
    queue_outcome *final; /* per recipient: this attempt's outcome */
    bool save_failed;
} deliver;

const char *queue_addr_domain(const char *addr)
{
    const char *at = strrchr(addr, '@');
    return at != NULL ? at + 1 : addr + strlen(addr);
}

bool queue_worker_stopping(const queue_worker *w)
{
    struct pollfd p = {.fd = w->stop_fd, .events = POLLIN};
    return w->stop_fd >= 0 && poll(&p, 1, 0) == 1;
}

static SSL_CTX *worker_tls_ctx(void)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    if (ctx == NULL)
        return NULL;
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    /* Trust anchors: used to verify the smarthost, and to log the result of
     * the (not enforced) verification of MX hosts. */
    SSL_CTX_set_default_verify_paths(ctx);
    SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
    return ctx;
}

int queue_worker_init(queue_worker *w, const queue_config *cfg, queue_local_fn *deliver_local,
                      void *local_ctx, queue_counters *counters, int stop_fd, char *err,
                      size_t errlen)
{
    memset(w, 0, sizeof(*w));
    w->cfg = cfg;
    w->deliver_local = deliver_local;
    w->local_ctx = local_ctx;
    w->counters = counters;
    w->stop_fd = stop_fd;
    if (queue_dns_new(cfg->dns, &w->dns, err, errlen) < 0)
        return -1;
    queue_dns_set_stop_fd(w->dns, stop_fd);
    w->tls_mx = worker_tls_ctx();
    w->tls_relay = worker_tls_ctx();
    if (w->tls_mx == NULL || w->tls_relay == NULL) {
        queue_err(err, errlen, "cannot create a TLS context");
        queue_worker_free(w);
        return -1;
    }
    return 0;
}

void queue_worker_free(queue_worker *w)
{
    queue_dns_free(&w->dns);
    SSL_CTX_free(w->tls_mx);
    SSL_CTX_free(w->tls_relay);
    w->tls_mx = w->tls_relay = NULL;
}

void queue_counters_read(queue_counters *c, queue_stats *s_r)
{
    s_r->queued = atomic_load(&c->queued);
    s_r->attempts = atomic_load(&c->attempts);
    s_r->delivered = atomic_load(&c->delivered);
    s_r->deferred = atomic_load(&c->deferred);
    s_r->bounced = atomic_load(&c->bounced);
    s_r->dsns = atomic_load(&c->dsns);
}

/* ---- recording ------------------------------------------------------------- */

static void deliver_save(deliver *d)
{
    char err[QUEUE_ERR_MAX];
    if (queue_state_save(d->w->cfg->queue_dir, d->w->cfg->server_key, d->e->id, &d->st, err,
                         sizeof(err)) != QUEUE_OK) {
        log_error(d->e->id, "saving the delivery state failed: %s", err);
        d->save_failed = true;
    }
}

/* Applies outcomes to the state; OK and PERM are final at once. */
static void deliver_apply(deliver *d, const size_t *idx, size_t n, const queue_outcome *outs)
{
    for (size_t i = 0; i < n; i++) {
        const queue_outcome *o = &outs[i];
        queue_rcpt_state *rs = &d->st.rcpts[idx[i]];
        if (o->kind == QUEUE_OUT_NONE)
            continue;
        d->final[idx[i]] = *o;
        rs->last_attempt = d->now;
        rs->code = o->code;
        rs->enhanced = o->enhanced;
        snprintf(rs->reply, sizeof(rs->reply), "%s", o->text);
        snprintf(rs->remote_mta, sizeof(rs->remote_mta), "%s", o->mta);
        atomic_fetch_add(&d->w->counters->attempts, 1);
        if (o->kind == QUEUE_OUT_OK) {
            rs->status = QUEUE_RCPT_DELIVERED;
            /* RFC 3461 5.2.2: a server without DSN never heard NOTIFY, so
             * we report SUCCESS ourselves, as "relayed" (deliver_dsn). The
             * state is saved before the DSN is built: a crash in between
             * repeats the DSN, never loses it. */
            rs->relayed = o->no_dsn;
            rs->reported = !(o->no_dsn && queue_dsn_success_wanted(d->e->env.rcpts[idx[i]].notify));
            atomic_fetch_add(&d->w->counters->delivered, 1);
        } else if (o->kind == QUEUE_OUT_PERM) {
            rs->status = QUEUE_RCPT_FAILED;
            rs->reported = false;
            atomic_fetch_add(&d->w->counters->bounced, 1);
        }
    }
}

/* queue_record_fn: a transaction ended; make it durable before going on. */
static void deliver_record(void *ctx, const size_t *idx, size_t n, queue_outcome *outs)
{
    deliver *d = ctx;
    deliver_apply(d, idx, n, outs);
    deliver_save(d);
}

/* Every recipient of idx without an outcome gets o (and a log line). */
static void deliver_fill(deliver *d, const size_t *idx, size_t n, const queue_outcome *o)
{
    static const char *kinds[] = {"abandoned", "delivered", "deferred", "failed"};
    for (size_t i = 0; i < n; i++) {
        if (d->final[idx[i]].kind != QUEUE_OUT_NONE || o->kind == QUEUE_OUT_NONE)
            continue;
        log_info(d->e->id, "to=<%s> status=%s reason=\"%s\"", d->e->env.rcpts[idx[i]].addr,
                 kinds[o->kind], o->text);
        deliver_apply(d, &idx[i], 1, o);
    }
}

/* ---- one domain ------------------------------------------------------------ */

typedef struct deliver_target {
    struct sockaddr_storage addr;
    char host[QUEUE_MX_NAME_MAX + 1];
} deliver_target;

/* "host[:port]" or "[v6]:port" of the smarthost. */
static int deliver_relay(const char *spec, char host[QUEUE_MX_NAME_MAX + 1], unsigned *port_r)
{
    const char *end = spec[0] == '[' ? strchr(spec, ']') : NULL;
    const char *colon = end != NULL ? (end[1] == ':' ? end + 1 : NULL) : strrchr(spec, ':');
    size_t hlen = end != NULL     ? (size_t)(end - spec - 1)
                  : colon != NULL ? (size_t)(colon - spec)
                                  : strlen(spec);
    if (hlen == 0 || hlen > QUEUE_MX_NAME_MAX)
        return -1;
    memcpy(host, spec + (end != NULL), hlen);
    host[hlen] = '\0';
    *port_r = QUEUE_RELAY_DEFAULT_PORT;
    if (colon != NULL) {
        char *e = NULL;
        long p = strtol(colon + 1, &e, 10);
        if (colon[1] == '\0' || *e != '\0' || p < 1 || p > 65535)
            return -1;
        *port_r = (unsigned)p;
    }
    return 0;
}

/* The addresses to try for domain, or an outcome for every recipient. */
static size_t deliver_targets(deliver *d, const char *domain, deliver_target *t, size_t max,
                              queue_outcome *why)
{
    const queue_config *cfg = d->w->cfg;
    queue_mx_list list;
    unsigned port = cfg->remote_port;
    char text[QUEUE_REPLY_MAX + 1];
    if (cfg->relay_host[0] != '\0') {
        memset(&list, 0, sizeof(list));
        list.n = 1;
        if (deliver_relay(cfg->relay_host, list.hosts[0], &port) < 0) {
            queue_outcome_local(why, QUEUE_OUT_TEMP, 4, 3, 5, "", "queue.relay_host is malformed");
            return 0;
        }
    } else {
        queue_dns_plan(d->w->dns, domain, &list);
    }
    switch (list.kind) {
    case QUEUE_MX_NULL: /* RFC 7505 4.1 */
        snprintf(text, sizeof(text), "556 5.1.10 %s does not accept mail (null MX)", domain);
        queue_outcome_local(why, QUEUE_OUT_PERM, 5, 1, 10, "", text);
        return 0;
    case QUEUE_MX_NOT_FOUND:
        snprintf(text, sizeof(text), "domain %s not found (NXDOMAIN)", domain);
        queue_outcome_local(why, QUEUE_OUT_PERM, 5, 1, 2, "", text);
        return 0;
    case QUEUE_MX_TEMP:
        snprintf(text, sizeof(text), "temporary DNS failure looking up MX of %s", domain);
        queue_outcome_local(why, QUEUE_OUT_TEMP, 4, 4, 3, "", text);
        return 0;
    case QUEUE_MX_HOSTS:
        break;
    }
    size_t n = 0;
    bool temp = false;
    for (size_t h = 0; h < list.n && n < max; h++) {
        struct sockaddr_storage addrs[QUEUE_ADDRS_PER_HOST];
        size_t na = 0;
        queue_dns_status st =
            queue_dns_addrs(d->w->dns, list.hosts[h], port, addrs, QUEUE_ADDRS_PER_HOST, &na);
        temp = temp || st == QUEUE_DNS_TEMP;
        for (size_t a = 0; a < na && n < max; a++, n++) {
            t[n].addr = addrs[a];
            snprintf(t[n].host, sizeof(t[n].host), "%s", list.hosts[h]);
        }
    }
    if (n == 0) {
        snprintf(text, sizeof(text), "no address for the mail hosts of %s%s", domain,
                 temp ? " (temporary DNS failure)" : "");
        if (temp)
            queue_outcome_local(why, QUEUE_OUT_TEMP, 4, 4, 3, "", text);
        else /* RFC 3463 5.4.4: unable to route */
            queue_outcome_local(why, QUEUE_OUT_PERM, 5, 4, 4, "", text);
    }
    return n;
}

/* Delivers recipients idx[0..n) of one domain. Returns false when stopping. */
static bool deliver_domain(deliver *d, const char *domain, const size_t *idx, size_t n)
{
    deliver_target targets[QUEUE_ADDRS_TRY_MAX];
    queue_outcome why;
    memset(&why, 0, sizeof(why));
    size_t nt = deliver_targets(d, domain, targets, QUEUE_ADDRS_TRY_MAX, &why);
    queue_outcome *outs = calloc(n, sizeof(*outs));
    if (outs == NULL)
        return true;
    bool relay = d->w->cfg->relay_host[0] != '\0';
    bool stopped = false;
    for (size_t i = 0; i < nt; i++) {
        queue_target t = {.addr = &targets[i].addr,
                          .host = targets[i].host,
                          .relay = relay,
                          .use_tls = relay || d->w->cfg->starttls};
        queue_session_result r;
        memset(outs, 0, n * sizeof(*outs));
        r = queue_session_run(d->w, d->e, &t, idx, n, outs, deliver_record, d, &why);
        if (r == QUEUE_SESSION_RETRY_PLAIN) {
            t.use_tls = false;
            memset(outs, 0, n * sizeof(*outs));
            r = queue_session_run(d->w, d->e, &t, idx, n, outs, deliver_record, d, &why);
        }
        if (r == QUEUE_SESSION_STOP) {
            stopped = true;
            break;
        }
        if (r == QUEUE_SESSION_DONE || d->save_failed)
            break;
    }
    free(outs);
    if (stopped)
        return false;
    if (why.kind == QUEUE_OUT_NONE)
        queue_outcome_local(&why, QUEUE_OUT_TEMP, 4, 4, 1, "", "no mail host could be reached");
    deliver_fill(d, idx, n, &why);
    return true;
}

/* ---- the entry ---------------------------------------------------------------- */

/* Temporary failures: count, schedule the retry, or expire (RFC 5321
 * 4.5.4.1: give up after 4-5 days). */
static void deliver_schedule(deliver *d)
{
    const queue_config *cfg = d->w->cfg;
    for (size_t i = 0; i < d->st.nrcpt; i++) {
        queue_rcpt_state *rs = &d->st.rcpts[i];
        if (rs->status != QUEUE_RCPT_PENDING || d->final[i].kind != QUEUE_OUT_TEMP)
            continue;
        rs->attempts++;
        rs->next_attempt = d->now + queue_backoff(cfg, rs->attempts);
        if (d->now - d->e->env.queued_at < cfg->max_age) {
            atomic_fetch_add(&d->w->counters->deferred, 1);
        } else {
            rs->status = QUEUE_RCPT_FAILED;
            rs->reported = false;
            rs->enhanced = (smtp_enhanced){4, 4, 7}; /* RFC 3463: delivery time expired */
            atomic_fetch_add(&d->w->counters->bounced, 1);
            log_info(d->e->id, "to=<%s> status=failed reason=\"expired after %lld s: %s\"",
                     d->e->env.rcpts[i].addr, (long long)(d->now - d->e->env.queued_at), rs->reply);
        }
    }
}

/* Hands one DSN for the recipients that owe one (queue_rcpt_dsn_due:
 * failed, or relayed to a server without DSN) to the caller, then marks
 * them reported, durably: only after the hand-over succeeded, so a crash
 * may repeat a DSN but never lose one. */
static void deliver_dsn(deliver *d)
{
    bool any = false;
    for (size_t i = 0; i < d->st.nrcpt && !any; i++)
        any = queue_rcpt_dsn_due(&d->st.rcpts[i]);
    if (!any)
        return;
    char rnd[2 * QUEUE_BOUNDARY_RANDOM + 1], boundary[QUEUE_DSN_BOUNDARY_MAX + 1];
    if (keys_random_hex(rnd, QUEUE_BOUNDARY_RANDOM) != KEYS_OK)
        return;
    snprintf(boundary, sizeof(boundary), "=_dsn_%s", rnd);
    queue_dsn_input in = {.reporting_mta = d->w->cfg->hostname,
                          .boundary = boundary,
                          .now = d->now,
                          .entry = d->e,
                          .state = &d->st};
    buf out;
    buf_init_secret(&out, QUEUE_DSN_MAX);
    const char *why = NULL;
    int rc = queue_dsn_build(&in, &out, &why);
    if (rc < 0)
        log_error(d->e->id, "building the DSN failed: %s", why);
    if (rc == 1 && d->w->deliver_local != NULL) {
        if (d->w->deliver_local(d->w->local_ctx, d->e->env.from, out.data, out.len) < 0) {
            log_warn(d->e->id, "the DSN to <%s> could not be delivered yet", d->e->env.from);
            buf_free(&out);
            return;
        }
        atomic_fetch_add(&d->w->counters->dsns, 1);
        log_info(d->e->id, "DSN to <%s> handed over", d->e->env.from);
    } else if (rc == 1) {
        log_warn(d->e->id, "no local delivery: DSN to <%s> dropped", d->e->env.from);
    }
    buf_free(&out);
    for (size_t i = 0; i < d->st.nrcpt; i++)
        if (queue_rcpt_dsn_due(&d->st.rcpts[i]))
            d->st.rcpts[i].reported = true;
    deliver_save(d);
}

/* Delivers the due recipients, grouped by domain (A-label form, so the
 * U-label and A-label spellings of one domain share a transaction). */
static void deliver_due(deliver *d, bool force)
{
    size_t n = d->e->env.nrcpt;
    char(*dom)[NAMES_DOMAIN_MAX + 1] = calloc(n, sizeof(*dom));
    size_t *idx = calloc(n, sizeof(*idx));
    bool *done = calloc(n, sizeof(*done));
    bool relay = d->w->cfg->relay_host[0] != '\0';
    if (dom == NULL || idx == NULL || done == NULL)
        goto out;
    for (size_t i = 0; i < n; i++) {
        const queue_rcpt_state *rs = &d->st.rcpts[i];
        done[i] = rs->status != QUEUE_RCPT_PENDING || (!force && rs->next_attempt > d->now);
        const char *domain = queue_addr_domain(d->e->env.rcpts[i].addr), *why = NULL;
        if (!done[i] && names_domain_normalize(domain, strlen(domain), dom[i], &why) < 0) {
            queue_outcome o;
            char text[QUEUE_REPLY_MAX + 1];
            snprintf(text, sizeof(text), "bad destination domain %s: %s", domain, why);
            queue_outcome_local(&o, QUEUE_OUT_PERM, 5, 1, 2, "", text);
            deliver_fill(d, &i, 1, &o);
            done[i] = true;
        }
    }
    for (size_t i = 0; i < n; i++) {
        if (done[i])
            continue;
        size_t m = 0;
        for (size_t k = i; k < n; k++)
            if (!done[k] && (relay || strcmp(dom[k], dom[i]) == 0)) {
                idx[m++] = k;
                done[k] = true;
            }
        if (!deliver_domain(d, dom[i], idx, m))
            break; /* stopping */
        if (d->save_failed)
            break;
    }
out:
    free(dom);
    free(idx);
    free(done);
}

/* True when the entry has work now: a due pending recipient, or a DSN
 * that was not handed over. */
static bool deliver_is_due(const queue_state *st, int64_t now, bool force)
{
    for (size_t i = 0; i < st->nrcpt; i++) {
        const queue_rcpt_state *rs = &st->rcpts[i];
        if ((rs->status == QUEUE_RCPT_PENDING && (force || rs->next_attempt <= now)) ||
            queue_rcpt_dsn_due(rs))
            return true;
    }
    return false;
}

int queue_deliver_entry(queue_worker *w, const char *id, bool force, int64_t *next_r)
{
    const queue_config *cfg = w->cfg;
    char err[QUEUE_ERR_MAX];
    int lock = -1, result = -1;
    *next_r = INT64_MAX;
    queue_result qr = queue_lock(cfg->queue_dir, id, &lock);
    if (qr == QUEUE_ERR_BUSY)
        return -2;
    if (qr == QUEUE_ERR_NOT_FOUND)
        return 1;
    if (qr != QUEUE_OK)
        return -1;
    deliver d = {.w = w, .now = (int64_t)time(NULL)};
    /* Most calls find nothing due: look at the small state first. */
    qr = queue_state_peek(cfg->queue_dir, cfg->server_key, id, &d.st, err, sizeof(err));
    if (qr == QUEUE_OK && !deliver_is_due(&d.st, d.now, force)) {
        *next_r = queue_state_next_attempt(&d.st);
        result = 0;
        goto out;
    }
    queue_state_free(&d.st);
    qr = queue_open(cfg->queue_dir, cfg->server_key, id, &d.e, err, sizeof(err));
    if (qr == QUEUE_OK)
        qr = queue_state_load(cfg->queue_dir, cfg->server_key, d.e, &d.st, err, sizeof(err));
    if (qr != QUEUE_OK) {
        log_error(id, "cannot open the queue entry: %s", err);
        goto out;
    }
    d.final = calloc(d.e->env.nrcpt, sizeof(*d.final));
    if (d.final == NULL)
        goto out;
    deliver_due(&d, force);
    deliver_schedule(&d);
    if (!d.save_failed)
        deliver_save(&d);
    if (!d.save_failed)
        deliver_dsn(&d);
    bool finished = !d.save_failed;
    for (size_t i = 0; i < d.st.nrcpt; i++) {
        const queue_rcpt_state *rs = &d.st.rcpts[i];
        if (rs->status == QUEUE_RCPT_PENDING || queue_rcpt_dsn_due(rs))
            finished = false;
    }
    if (finished && queue_remove(cfg->queue_dir, id, err, sizeof(err)) == QUEUE_OK) {
        log_info(id, "done: removed from the queue");
        result = 1;
        goto out;
    }
    *next_r = queue_state_next_attempt(&d.st);
    for (size_t i = 0; i < d.st.nrcpt; i++)
        if (queue_rcpt_dsn_due(&d.st.rcpts[i]) && d.now + cfg->retry_min < *next_r)
            *next_r = d.now + cfg->retry_min; /* the DSN hand-over failed: again later */
    result = 0;
out:
    free(d.final);
    queue_state_free(&d.st);
    queue_entry_free(&d.e);
    queue_unlock(&lock);
    return result;
}
