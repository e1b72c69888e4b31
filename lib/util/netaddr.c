#include "netaddr.h"

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

static int netaddr_addr_parse(const char *s, int *family_r, unsigned char out[16])
{
    memset(out, 0, 16);
    if (inet_pton(AF_INET, s, out) == 1) {
        *family_r = AF_INET;
        return 0;
    }
    if (inet_pton(AF_INET6, s, out) == 1) {
        *family_r = AF_INET6;
        return 0;
    }
    return -1;
}

int netaddr_prefix_parse(const char *s, size_t len, netaddr_prefix *r)
{
    char text[NETADDR_TEXT_MAX + 1];
    if (len == 0 || len > NETADDR_TEXT_MAX || memchr(s, '\0', len) != NULL)
        return -1;
    memcpy(text, s, len);
    text[len] = '\0';
    char *slash = strchr(text, '/');
    long bits = -1;
    if (slash != NULL) {
        *slash = '\0';
        const char *b = slash + 1;
        if (*b == '\0' || strlen(b) > 3 || strspn(b, "0123456789") != strlen(b))
            return -1;
        bits = strtol(b, NULL, 10);
    }
    if (netaddr_addr_parse(text, &r->family, r->addr) < 0)
        return -1;
    long max = r->family == AF_INET ? 32 : 128;
    if (bits > max)
        return -1;
    r->bits = (unsigned)(bits < 0 ? max : bits);
    return 0;
}

int netaddr_list_parse(const char *s, netaddr_prefix *out, int max)
{
    int n = 0;
    while (*s != '\0') {
        size_t skip = strspn(s, ", ");
        s += skip;
        size_t len = strcspn(s, ", ");
        if (len == 0)
            break;
        if (n == max || netaddr_prefix_parse(s, len, &out[n]) < 0)
            return -1;
        n++;
        s += len;
    }
    return n;
}

static bool netaddr_in(const netaddr_prefix *p, int family, const unsigned char a[16])
{
    if (p->family != family)
        return false;
    unsigned full = p->bits / 8, rest = p->bits % 8;
    if (memcmp(p->addr, a, full) != 0)
        return false;
    if (rest == 0)
        return true;
    unsigned char mask = (unsigned char)(0xff << (8 - rest));
    return (p->addr[full] & mask) == (a[full] & mask);
}

bool netaddr_list_match(const netaddr_prefix *list, int n, const char *addr)
{
    int family;
    unsigned char a[16];
    if (strlen(addr) > NETADDR_TEXT_MAX || netaddr_addr_parse(addr, &family, a) < 0)
        return false;
    for (int i = 0; i < n; i++)
        if (netaddr_in(&list[i], family, a))
            return true;
    return false;
}

bool netaddr_forwarded_client(const char *xff, const netaddr_prefix *list, int n, char *out,
                              size_t outlen)
{
    size_t end = strlen(xff);
    while (end > 0) {
        size_t start = end;
        while (start > 0 && xff[start - 1] != ',')
            start--;
        size_t a = start, b = end;
        while (a < b && xff[a] == ' ')
            a++;
        while (b > a && xff[b - 1] == ' ')
            b--;
        char entry[NETADDR_TEXT_MAX + 1];
        int family;
        unsigned char bin[16];
        if (b - a == 0 || b - a > NETADDR_TEXT_MAX)
            return false;
        memcpy(entry, xff + a, b - a);
        entry[b - a] = '\0';
        if (netaddr_addr_parse(entry, &family, bin) < 0)
            return false;
        if (!netaddr_list_match(list, n, entry)) {
            if (strlen(entry) >= outlen)
                return false;
            strcpy(out, entry);
            return true;
        }
        end = start > 0 ? start - 1 : 0;
    }
    return false;
}
