/* netaddr: IPv4/IPv6 addresses and CIDR prefixes, for trusting a reverse
 * proxy's X-Forwarded-For only when the connection comes from that proxy.
 * Pure: no I/O, no DNS. */
#ifndef OWNMAIL_NETADDR_H
#define OWNMAIL_NETADDR_H

#include <stdbool.h>
#include <stddef.h>

#define NETADDR_TEXT_MAX 64 /* longest address or prefix text accepted */
#define NETADDR_LIST_MAX 16 /* prefixes in one list */

typedef struct netaddr_prefix {
    int family;             /* AF_INET or AF_INET6 */
    unsigned char addr[16]; /* network byte order; IPv4 in the first 4 */
    unsigned bits;          /* prefix length */
} netaddr_prefix;

/* Parses "192.0.2.1", "192.0.2.0/24", "::1" or "2001:db8::/32" (len bytes,
 * no spaces). An address without "/n" is a full-length prefix. 0 or -1. */
int netaddr_prefix_parse(const char *s, size_t len, netaddr_prefix *r);

/* Parses a list separated by commas and/or spaces into out (at most max).
 * Returns the number parsed, or -1 on any bad entry or too many. */
int netaddr_list_parse(const char *s, netaddr_prefix *out, int max);

/* Is the address text inside any of the prefixes? False for a bad address. */
bool netaddr_list_match(const netaddr_prefix *list, int n, const char *addr);

/* The client an X-Forwarded-For value names, seen from a trusted proxy: the
 * rightmost entry that is not itself a trusted proxy (entries to its left
 * were written by the client and prove nothing). Copies it to out and
 * returns true, or false when there is none or it is not an address. */
bool netaddr_forwarded_client(const char *xff, const netaddr_prefix *list, int n, char *out,
                              size_t outlen);

#endif
