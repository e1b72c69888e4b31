/* queue_mx: which hosts to try for a domain (RFC 5321 5.1, RFC 7505), as a
 * pure function over the answer of the DNS, and the DNS side (dns.c) that
 * produces those answers with libunbound.
 *
 * CNAMEs: libunbound follows them (a domain that is a CNAME is looked up
 * as its target, RFC 5321 5.1 "processed as if it were the initial name";
 * an exchanger that is a CNAME - not allowed by RFC 2181 10.3 but met in
 * practice - resolves to its target's addresses). The canonical name is
 * what an implicit MX connects to.
 *
 * Not done: removing exchangers of a preference at or above our own when
 * we are listed (RFC 5321 5.1): this queue only delivers outwards, and a
 * loop is caught by the receiving side's hop count.
 */
#ifndef OWNMAIL_QUEUE_MX_H
#define OWNMAIL_QUEUE_MX_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "names.h"

#define QUEUE_MX_RECORDS_MAX 32 /* MX records read per domain */
#define QUEUE_MX_HOSTS_MAX 16   /* exchangers tried per domain */
#define QUEUE_MX_NAME_MAX NAMES_DOMAIN_MAX
#define QUEUE_ADDRS_PER_HOST 8 /* addresses kept per exchanger */
#define QUEUE_ADDRS_TRY_MAX 10 /* connections tried per domain and attempt */

typedef enum {
    QUEUE_DNS_OK = 0,   /* records found */
    QUEUE_DNS_NODATA,   /* the name exists, without records of that type */
    QUEUE_DNS_NXDOMAIN, /* the name does not exist: permanent */
    QUEUE_DNS_TEMP,     /* SERVFAIL, timeout, no resolver: retry later */
} queue_dns_status;

typedef struct queue_mx_record {
    unsigned pref;                    /* 0..65535 */
    char host[QUEUE_MX_NAME_MAX + 1]; /* lowercase, no trailing dot; "" = "." */
} queue_mx_record;

typedef enum {
    QUEUE_MX_HOSTS = 0, /* hosts[] to try in order */
    QUEUE_MX_NULL,      /* RFC 7505 null MX: the domain takes no mail (permanent) */
    QUEUE_MX_NOT_FOUND, /* NXDOMAIN (permanent) */
    QUEUE_MX_TEMP,      /* temporary DNS failure: retry later */
} queue_mx_kind;

typedef struct queue_mx_list {
    queue_mx_kind kind;
    size_t n;
    char hosts[QUEUE_MX_HOSTS_MAX][QUEUE_MX_NAME_MAX + 1];
} queue_mx_list;

/* A random number in 0..n-1 (n >= 1); tests pass a fixed sequence. */
typedef uint32_t queue_rand_fn(void *ctx, uint32_t n);

/* Decides the hosts for domain from the MX lookup (status, records):
 *   - OK: records sorted by preference, equal preferences shuffled with
 *     rnd (RFC 5321 5.1 "randomize"); a lone "0 ." (any preference) is a
 *     null MX (RFC 7505 3) - permanent; a "." among other records cannot
 *     be connected to and is skipped. Duplicates are dropped, at most
 *     QUEUE_MX_HOSTS_MAX hosts kept.
 *   - NODATA: the implicit MX, the domain itself (canon when not NULL/"",
 *     the name the lookup ended at after CNAMEs) (RFC 5321 5.1).
 *   - NXDOMAIN: QUEUE_MX_NOT_FOUND. TEMP: QUEUE_MX_TEMP.
 * Pure. Fills *list_r. */
void queue_mx_select(const char *domain, const char *canon, queue_dns_status status,
                     const queue_mx_record *recs, size_t n, queue_rand_fn *rnd, void *rnd_ctx,
                     queue_mx_list *list_r);

/* Decodes one MX RDATA (RFC 1035 3.3.9: u16 preference, then an
 * uncompressed domain name in wire form, as libunbound returns it) into
 * *rec_r. Returns 0, or -1 when it is malformed or the name is not a host
 * name we can use. Pure. */
int queue_mx_rdata_parse(const unsigned char *rdata, size_t len, queue_mx_record *rec_r);

/* ---- DNS (dns.c) ----------------------------------------------------------- */

typedef struct queue_dns queue_dns;

/* A resolver: server "ip" or "ip:port" ("[v6]:port" too), or "" / NULL for
 * the servers of /etc/resolv.conf. Returns 0 or -1 with err. One per
 * thread. */
int queue_dns_new(const char *server, queue_dns **r, char *err, size_t errlen);
/* From now on a lookup gives up (temporary failure) as soon as fd is
 * readable (the runner's stop pipe); -1: never. */
void queue_dns_set_stop_fd(queue_dns *d, int fd);
void queue_dns_free(queue_dns **d);

/* The MX records of domain (an A-label name) into recs_r (at most
 * QUEUE_MX_RECORDS_MAX; malformed ones skipped) and the canonical name
 * into canon_r (QUEUE_MX_NAME_MAX + 1 bytes; the domain when no CNAME). */
queue_dns_status queue_dns_mx(queue_dns *d, const char *domain, queue_mx_record *recs_r,
                              size_t *n_r, char *canon_r);

/* The IPv6 then IPv4 addresses of host, with port, into addrs_r (at most
 * max). TEMP only when neither lookup gave an answer. */
queue_dns_status queue_dns_addrs(queue_dns *d, const char *host, unsigned port,
                                 struct sockaddr_storage *addrs_r, size_t max, size_t *n_r);

/* The full plan for domain: MX lookup, queue_mx_select with a random
 * source. */
void queue_dns_plan(queue_dns *d, const char *domain, queue_mx_list *list_r);

#endif
