/* Choosing the hosts of a domain from its MX records (RFC 5321 5.1, RFC
 * 7505): pure. */
#include "queue_mx.h"

#include <ctype.h>
#include <stdbool.h>
#include <string.h>

int queue_mx_rdata_parse(const unsigned char *rdata, size_t len, queue_mx_record *rec_r)
{
    memset(rec_r, 0, sizeof(*rec_r));
    if (len < 3)
        return -1;
    rec_r->pref = (unsigned)rdata[0] << 8 | rdata[1];
    size_t pos = 2, out = 0;
    for (;;) {
        if (pos >= len)
            return -1;
        size_t label = rdata[pos++];
        if (label == 0)
            break;
        /* RFC 1035 4.1.4: 0xC0 is a compression pointer, which libunbound
         * has already expanded; 0x40 and 0x80 are reserved. */
        if (label > NAMES_LABEL_MAX || pos + label > len)
            return -1;
        if (out + (out > 0) + label > QUEUE_MX_NAME_MAX)
            return -1;
        if (out > 0)
            rec_r->host[out++] = '.';
        for (size_t i = 0; i < label; i++) {
            unsigned char c = rdata[pos + i];
            /* Host names are LDH (RFC 1123 2.1); '_' is tolerated since
             * some zones carry it, it does no harm in a connect. */
            if (!isalnum(c) && c != '-' && c != '_')
                return -1;
            rec_r->host[out++] = (char)tolower(c);
        }
        pos += label;
    }
    if (pos != len)
        return -1;
    rec_r->host[out] = '\0';
    return 0;
}

static void mx_copy_name(char out[QUEUE_MX_NAME_MAX + 1], const char *name)
{
    size_t n = strnlen(name, QUEUE_MX_NAME_MAX);
    while (n > 0 && name[n - 1] == '.')
        n--;
    for (size_t i = 0; i < n; i++)
        out[i] = (char)tolower((unsigned char)name[i]);
    out[n] = '\0';
}

void queue_mx_select(const char *domain, const char *canon, queue_dns_status status,
                     const queue_mx_record *recs, size_t n, queue_rand_fn *rnd, void *rnd_ctx,
                     queue_mx_list *list_r)
{
    memset(list_r, 0, sizeof(*list_r));
    if (status == QUEUE_DNS_TEMP) {
        list_r->kind = QUEUE_MX_TEMP;
        return;
    }
    if (status == QUEUE_DNS_NXDOMAIN) {
        list_r->kind = QUEUE_MX_NOT_FOUND;
        return;
    }
    if (status == QUEUE_DNS_NODATA || n == 0) {
        /* RFC 5321 5.1: no MX records, the domain is its own implicit MX. */
        list_r->kind = QUEUE_MX_HOSTS;
        list_r->n = 1;
        mx_copy_name(list_r->hosts[0], canon != NULL && canon[0] != '\0' ? canon : domain);
        return;
    }
    if (n > QUEUE_MX_RECORDS_MAX)
        n = QUEUE_MX_RECORDS_MAX;
    /* Indices of the usable records, sorted by preference (insertion sort:
     * stable, and n is small). */
    size_t order[QUEUE_MX_RECORDS_MAX], m = 0;
    for (size_t i = 0; i < n; i++) {
        if (recs[i].host[0] == '\0')
            continue; /* "." cannot be connected to */
        size_t j = m++;
        while (j > 0 && recs[order[j - 1]].pref > recs[i].pref) {
            order[j] = order[j - 1];
            j--;
        }
        order[j] = i;
    }
    if (m == 0) {
        /* RFC 7505 3: only "." - the domain accepts no mail. */
        list_r->kind = QUEUE_MX_NULL;
        return;
    }
    /* RFC 5321 5.1: among equal preferences, the order is random
     * (Fisher-Yates within each run). */
    for (size_t start = 0; start < m;) {
        size_t end = start + 1;
        while (end < m && recs[order[end]].pref == recs[order[start]].pref)
            end++;
        for (size_t k = end - start; rnd != NULL && k > 1; k--) {
            size_t pick = start + rnd(rnd_ctx, (uint32_t)k) % k;
            size_t tmp = order[start + k - 1];
            order[start + k - 1] = order[pick];
            order[pick] = tmp;
        }
        start = end;
    }
    list_r->kind = QUEUE_MX_HOSTS;
    for (size_t i = 0; i < m && list_r->n < QUEUE_MX_HOSTS_MAX; i++) {
        const char *h = recs[order[i]].host;
        bool dup = false;
        for (size_t k = 0; k < list_r->n && !dup; k++)
            dup = strcmp(list_r->hosts[k], h) == 0;
        if (!dup)
            mx_copy_name(list_r->hosts[list_r->n++], h);
    }
}
