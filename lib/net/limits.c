/* limits: the global connection budget and the per-IP counts.
 *
 * Counts are keyed by IPv4 address, or by IPv6 /64: RFC 4291 section 2.5.4
 * gives unicast interface identifiers 64 bits, so one client (a host with
 * temporary addresses, RFC 8981, or one LAN) commonly owns a whole /64 and
 * could otherwise open a new address per connection. The hash is SipHash
 * (libsodium crypto_shorthash) under a random per-loop key, so a client
 * cannot choose addresses that all land in one bucket. */
#include "net_internal.h"

#include <netinet/in.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

struct net_ip_entry {
    net_ip_entry *next;
    unsigned char key[16];
    unsigned count;
};

void net_limits_key(const struct sockaddr_storage *ss, unsigned char key_r[16])
{
    memset(key_r, 0, 16);
    if (ss->ss_family == AF_INET) {
        key_r[10] = 0xff; /* as ::ffff:a.b.c.d, so mapped and plain IPv4 agree */
        key_r[11] = 0xff;
        memcpy(key_r + 12, &((const struct sockaddr_in *)ss)->sin_addr, 4);
    } else if (ss->ss_family == AF_INET6) {
        const struct in6_addr *a = &((const struct sockaddr_in6 *)ss)->sin6_addr;
        memcpy(key_r, a->s6_addr, IN6_IS_ADDR_V4MAPPED(a) ? 16 : 8);
    }
}

static net_ip_entry **bucket_of(net_loop *l, const unsigned char key[16])
{
    unsigned char h[crypto_shorthash_BYTES];
    crypto_shorthash(h, key, 16, l->ip_hash_key);
    uint64_t v;
    memcpy(&v, h, sizeof(v));
    return &l->per_ip[v % NET_PER_IP_BUCKETS];
}

static net_ip_entry *entry_find(net_ip_entry *e, const unsigned char key[16])
{
    while (e != NULL && memcmp(e->key, key, 16) != 0)
        e = e->next;
    return e;
}

int net_limits_admit(net_loop *l, net_conn *c, net_refusal *why_r)
{
    if (l->ncounted >= l->limits.max_conns) {
        *why_r = NET_REFUSE_MAX_CONNS;
        return -1;
    }
    net_ip_entry **b = bucket_of(l, c->ip_key);
    net_ip_entry *e = entry_find(*b, c->ip_key);
    if (e != NULL && e->count >= l->limits.max_conns_per_ip) {
        *why_r = NET_REFUSE_PER_IP;
        return -1;
    }
    if (e == NULL) {
        e = calloc(1, sizeof(*e));
        if (e == NULL) {
            *why_r = NET_REFUSE_MAX_CONNS;
            return -1;
        }
        memcpy(e->key, c->ip_key, 16);
        e->next = *b;
        *b = e;
    }
    e->count++;
    l->ncounted++;
    c->counted = true;
    net_metric_add(l->m_conns_open, 1);
    return 0;
}

void net_limits_release(net_loop *l, net_conn *c)
{
    if (!c->counted)
        return;
    c->counted = false;
    l->ncounted--;
    net_metric_sub(l->m_conns_open, 1);
    net_ip_entry **pp = bucket_of(l, c->ip_key);
    while (*pp != NULL && memcmp((*pp)->key, c->ip_key, 16) != 0)
        pp = &(*pp)->next;
    if (*pp == NULL)
        return;
    net_ip_entry *e = *pp;
    if (--e->count == 0) {
        *pp = e->next;
        free(e);
    }
}

void net_limits_free(net_loop *l)
{
    for (size_t i = 0; i < NET_PER_IP_BUCKETS; i++) {
        while (l->per_ip[i] != NULL) {
            net_ip_entry *e = l->per_ip[i];
            l->per_ip[i] = e->next;
            free(e);
        }
    }
}
