/* MX and address lookups with libunbound, as a forwarding stub to the
 * configured resolver (queue.dns) or to the servers of /etc/resolv.conf.
 * No DNSSEC validation happens here (no trust anchor is configured): the
 * resolver is trusted as the system's is. */
#include "queue.h"
#include "queue_int.h"
#include "queue_mx.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unbound.h>

#define QUEUE_DNS_TYPE_A 1
#define QUEUE_DNS_TYPE_MX 15
#define QUEUE_DNS_TYPE_AAAA 28
#define QUEUE_DNS_CLASS_IN 1
#define QUEUE_DNS_RCODE_NXDOMAIN 3
#define QUEUE_DNS_FWD_MAX 80 /* "ip@port" */

#define QUEUE_DNS_POLL_MS 1000 /* the stop fd is looked at least this often */

struct queue_dns {
    struct ub_ctx *ctx;
    int stop_fd; /* readable = stop: a lookup in progress is cancelled; -1 = none */
};

/* "ip", "ip:port", "[v6]", "[v6]:port" -> "ip" or "ip@port" for unbound. */
static int dns_forwarder(const char *server, char out[QUEUE_DNS_FWD_MAX])
{
    char host[INET6_ADDRSTRLEN + 1];
    const char *port = NULL;
    size_t hlen;
    if (server[0] == '[') {
        const char *end = strchr(server, ']');
        if (end == NULL || (end[1] != '\0' && end[1] != ':'))
            return -1;
        hlen = (size_t)(end - server - 1);
        server++;
        port = end[1] == ':' ? end + 2 : NULL;
    } else {
        const char *colon = strchr(server, ':');
        if (colon != NULL && strchr(colon + 1, ':') != NULL)
            colon = NULL; /* a bare IPv6 address */
        hlen = colon != NULL ? (size_t)(colon - server) : strlen(server);
        port = colon != NULL ? colon + 1 : NULL;
    }
    if (hlen == 0 || hlen >= sizeof(host))
        return -1;
    memcpy(host, server, hlen);
    host[hlen] = '\0';
    unsigned char addr[16];
    if (inet_pton(AF_INET, host, addr) != 1 && inet_pton(AF_INET6, host, addr) != 1)
        return -1;
    if (port != NULL) {
        char *end = NULL;
        long p = strtol(port, &end, 10);
        if (*port == '\0' || *end != '\0' || p < 1 || p > 65535)
            return -1;
        snprintf(out, QUEUE_DNS_FWD_MAX, "%s@%ld", host, p);
    } else {
        snprintf(out, QUEUE_DNS_FWD_MAX, "%s", host);
    }
    return 0;
}

int queue_dns_new(const char *server, queue_dns **r, char *err, size_t errlen)
{
    *r = NULL;
    queue_dns *d = calloc(1, sizeof(*d));
    if (d == NULL || (d->ctx = ub_ctx_create()) == NULL) {
        free(d);
        queue_err(err, errlen, "cannot create a resolver");
        return -1;
    }
    int rc;
    d->stop_fd = -1;
    /* Lookups run in a thread of the context, so that one in progress can be
     * cancelled when the runner stops (queue_dns_set_stop_fd). */
    if ((rc = ub_ctx_async(d->ctx, 1)) != 0)
        goto fail;
    /* A forwarder on loopback (a local resolver, the tests' dnsmasq) is
     * normal for a stub; unbound refuses it by default. */
    if ((rc = ub_ctx_set_option(d->ctx, "do-not-query-localhost:", "no")) != 0)
        goto fail;
    /* unbound answers NXDOMAIN itself for the RFC 6761 "test." names; here
     * the configured resolver decides (test set-ups and labs use them). */
    if ((rc = ub_ctx_set_option(d->ctx, "local-zone:", "test. transparent")) != 0)
        goto fail;
    if (server != NULL && server[0] != '\0') {
        char fwd[QUEUE_DNS_FWD_MAX];
        if (dns_forwarder(server, fwd) < 0) {
            queue_err(err, errlen, "queue.dns \"%s\" is not ip[:port]", server);
            ub_ctx_delete(d->ctx);
            free(d);
            return -1;
        }
        rc = ub_ctx_set_fwd(d->ctx, fwd);
    } else {
        rc = ub_ctx_resolvconf(d->ctx, NULL);
    }
    if (rc != 0)
        goto fail;
    *r = d;
    return 0;
fail:
    queue_err(err, errlen, "resolver set-up failed: %s", ub_strerror(rc));
    ub_ctx_delete(d->ctx);
    free(d);
    return -1;
}

void queue_dns_free(queue_dns **d)
{
    if (d == NULL || *d == NULL)
        return;
    ub_ctx_delete((*d)->ctx);
    free(*d);
    *d = NULL;
}

void queue_dns_set_stop_fd(queue_dns *d, int fd)
{
    d->stop_fd = fd;
}

typedef struct dns_wait {
    bool done;
    int err;
    struct ub_result *res;
} dns_wait;

static void dns_done(void *arg, int err, struct ub_result *res)
{
    dns_wait *w = arg;
    w->done = true;
    w->err = err;
    w->res = res;
}

/* ub_resolve, but given up (QUEUE_DNS_TEMP) as soon as the stop fd is
 * readable: unbound's own retries can take many seconds. */
static int dns_resolve(queue_dns *d, const char *name, int type, struct ub_result **res_r)
{
    if (d->stop_fd < 0)
        return ub_resolve(d->ctx, name, type, QUEUE_DNS_CLASS_IN, res_r);
    dns_wait w = {0};
    int id = 0;
    if (ub_resolve_async(d->ctx, name, type, QUEUE_DNS_CLASS_IN, &w, dns_done, &id) != 0)
        return -1;
    while (!w.done) {
        struct pollfd p[2] = {{.fd = ub_fd(d->ctx), .events = POLLIN},
                              {.fd = d->stop_fd, .events = POLLIN}};
        int n = poll(p, 2, QUEUE_DNS_POLL_MS);
        if ((n < 0 && errno != EINTR) || (p[1].revents & POLLIN)) {
            ub_cancel(d->ctx, id);
            return -1;
        }
        if (n > 0 && (p[0].revents & POLLIN) && ub_process(d->ctx) != 0) {
            ub_cancel(d->ctx, id);
            return -1;
        }
    }
    *res_r = w.res;
    return w.err;
}

static queue_dns_status dns_query(queue_dns *d, const char *name, int type,
                                  struct ub_result **res_r)
{
    *res_r = NULL;
    if (dns_resolve(d, name, type, res_r) != 0 || *res_r == NULL)
        return QUEUE_DNS_TEMP;
    struct ub_result *res = *res_r;
    if (res->havedata)
        return QUEUE_DNS_OK;
    if (res->nxdomain || res->rcode == QUEUE_DNS_RCODE_NXDOMAIN)
        return QUEUE_DNS_NXDOMAIN;
    if (res->rcode != 0 || res->bogus)
        return QUEUE_DNS_TEMP; /* SERVFAIL, REFUSED...: try again later */
    return QUEUE_DNS_NODATA;
}

queue_dns_status queue_dns_mx(queue_dns *d, const char *domain, queue_mx_record *recs_r,
                              size_t *n_r, char *canon_r)
{
    struct ub_result *res = NULL;
    *n_r = 0;
    snprintf(canon_r, QUEUE_MX_NAME_MAX + 1, "%s", domain);
    queue_dns_status st = dns_query(d, domain, QUEUE_DNS_TYPE_MX, &res);
    if (res != NULL && res->canonname != NULL && st != QUEUE_DNS_TEMP)
        snprintf(canon_r, QUEUE_MX_NAME_MAX + 1, "%s", res->canonname);
    if (st == QUEUE_DNS_OK) {
        for (size_t i = 0; res->data[i] != NULL && *n_r < QUEUE_MX_RECORDS_MAX; i++) {
            if (queue_mx_rdata_parse((const unsigned char *)res->data[i], (size_t)res->len[i],
                                     &recs_r[*n_r]) == 0)
                (*n_r)++;
        }
        if (*n_r == 0)
            st = QUEUE_DNS_TEMP; /* only malformed records: someone may fix them */
    }
    ub_resolve_free(res);
    return st;
}

static void dns_add(struct sockaddr_storage *addrs, size_t max, size_t *n, int family,
                    const void *raw, unsigned port)
{
    if (*n >= max)
        return;
    struct sockaddr_storage *ss = &addrs[*n];
    memset(ss, 0, sizeof(*ss));
    if (family == AF_INET6) {
        struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;
        s6->sin6_family = AF_INET6;
        s6->sin6_port = htons((uint16_t)port);
        memcpy(&s6->sin6_addr, raw, 16);
    } else {
        struct sockaddr_in *s4 = (struct sockaddr_in *)ss;
        s4->sin_family = AF_INET;
        s4->sin_port = htons((uint16_t)port);
        memcpy(&s4->sin_addr, raw, 4);
    }
    (*n)++;
}

queue_dns_status queue_dns_addrs(queue_dns *d, const char *host, unsigned port,
                                 struct sockaddr_storage *addrs_r, size_t max, size_t *n_r)
{
    unsigned char raw[16];
    *n_r = 0;
    /* An address literal (a relay given as "127.0.0.1:587"). */
    if (inet_pton(AF_INET6, host, raw) == 1) {
        dns_add(addrs_r, max, n_r, AF_INET6, raw, port);
        return QUEUE_DNS_OK;
    }
    if (inet_pton(AF_INET, host, raw) == 1) {
        dns_add(addrs_r, max, n_r, AF_INET, raw, port);
        return QUEUE_DNS_OK;
    }
    static const int types[2] = {QUEUE_DNS_TYPE_AAAA, QUEUE_DNS_TYPE_A};
    queue_dns_status sts[2];
    for (int t = 0; t < 2; t++) {
        struct ub_result *res = NULL;
        sts[t] = dns_query(d, host, types[t], &res);
        size_t want = types[t] == QUEUE_DNS_TYPE_A ? 4 : 16;
        for (size_t i = 0; sts[t] == QUEUE_DNS_OK && res->data[i] != NULL; i++)
            if ((size_t)res->len[i] == want)
                dns_add(addrs_r, max, n_r, want == 4 ? AF_INET : AF_INET6, res->data[i], port);
        ub_resolve_free(res);
    }
    if (*n_r > 0)
        return QUEUE_DNS_OK;
    if (sts[0] == QUEUE_DNS_TEMP || sts[1] == QUEUE_DNS_TEMP)
        return QUEUE_DNS_TEMP;
    if (sts[0] == QUEUE_DNS_NXDOMAIN && sts[1] == QUEUE_DNS_NXDOMAIN)
        return QUEUE_DNS_NXDOMAIN;
    return QUEUE_DNS_NODATA;
}

static uint32_t dns_random(void *ctx, uint32_t n)
{
    (void)ctx;
    return randombytes_uniform(n);
}

void queue_dns_plan(queue_dns *d, const char *domain, queue_mx_list *list_r)
{
    queue_mx_record recs[QUEUE_MX_RECORDS_MAX];
    char canon[QUEUE_MX_NAME_MAX + 1];
    size_t n = 0;
    queue_dns_status st = queue_dns_mx(d, domain, recs, &n, canon);
    queue_mx_select(domain, canon, st, recs, n, dns_random, NULL, list_r);
}
