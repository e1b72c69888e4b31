/* Sequence sets (RFC 9051 9, RFC 5182): parse, sort, merge, "*". */
#include "imap_seqset.h"

#include <stdlib.h>
#include <string.h>

#include "imap_arg.h"
#include "imap_int.h"

static void seqset_empty(imap_seqset *set)
{
    memset(set, 0, sizeof(*set));
    set->star_lo = UINT32_MAX;
}

void imap_seqset_free(imap_seqset *set)
{
    free(set->ranges);
    seqset_empty(set);
}

/* seq-number = nz-number / "*": *star_r for "*". */
static bool seqset_number(const char *s, size_t len, uint32_t *n_r, bool *star_r)
{
    uint64_t n;
    *star_r = len == 1 && s[0] == '*';
    if (*star_r)
        return true;
    if (!imap_parse_nz_number(s, len, IMAP_NUMBER_MAX, &n))
        return false;
    *n_r = (uint32_t)n;
    return true;
}

static int seqset_cmp(const void *a, const void *b)
{
    const imap_seq_range *x = a, *y = b;
    return x->first < y->first ? -1 : x->first > y->first;
}

/* Sorts and merges overlapping and adjacent ranges. */
static void seqset_merge(imap_seqset *set)
{
    if (set->n < 2)
        return;
    qsort(set->ranges, set->n, sizeof(set->ranges[0]), seqset_cmp);
    size_t k = 0;
    for (size_t i = 1; i < set->n; i++) {
        imap_seq_range *cur = &set->ranges[k];
        const imap_seq_range *r = &set->ranges[i];
        if ((uint64_t)r->first <= (uint64_t)cur->last + 1) {
            if (r->last > cur->last)
                cur->last = r->last;
        } else {
            set->ranges[++k] = *r;
        }
    }
    set->n = k + 1;
}

/* One element "a", "a:b" at s/len. */
static int seqset_elem(imap_seqset *set, const char *s, size_t len, imap_error *e)
{
    const char *colon = memchr(s, ':', len);
    size_t alen = colon != NULL ? (size_t)(colon - s) : len;
    uint32_t a = 0, b = 0;
    bool astar, bstar;

    if (!seqset_number(s, alen, &a, &astar))
        return IMAP_BAD(e, "invalid sequence set");
    if (colon == NULL) {
        b = a;
        bstar = astar;
    } else if (!seqset_number(colon + 1, len - alen - 1, &b, &bstar)) {
        return IMAP_BAD(e, "invalid sequence set");
    }
    if (astar || bstar) {
        set->star = true;
        if (!astar || !bstar) {
            uint32_t n = astar ? b : a;
            if (n < set->star_lo)
                set->star_lo = n;
            if (n > set->star_hi)
                set->star_hi = n;
        }
        return 0;
    }
    /* RFC 9051 9: "2:4" and "4:2" are the same */
    set->ranges[set->n].first = a < b ? a : b;
    set->ranges[set->n].last = a < b ? b : a;
    set->n++;
    return 0;
}

int imap_seqset_parse(const char *s, size_t len, unsigned flags, imap_seqset *set_r,
                      imap_error *error_r)
{
    seqset_empty(set_r);
    if (len == 1 && s[0] == '$') {
        if ((flags & IMAP_SEQSET_ALLOW_SAVED) == 0)
            return IMAP_BAD(error_r, "invalid sequence set");
        set_r->saved = true;
        return 0;
    }
    if (len == 0)
        return IMAP_BAD(error_r, "empty sequence set");
    size_t elems = 1;
    for (size_t i = 0; i < len; i++) {
        if (s[i] == ',' && ++elems > IMAP_SEQSET_ELEMS_MAX)
            return imap_fail(error_r, IMAP_RESP_BAD, IMAP_CODE_LIMIT, "sequence set too long");
    }
    /* one more range for "*" at imap_seqset_resolve */
    set_r->ranges = malloc((elems + 1) * sizeof(set_r->ranges[0]));
    if (set_r->ranges == NULL)
        return imap_fail(error_r, IMAP_RESP_NO, NULL, "out of memory");
    size_t start = 0;
    for (size_t i = 0; i <= len; i++) {
        if (i < len && s[i] != ',')
            continue;
        if (i == start || seqset_elem(set_r, s + start, i - start, error_r) < 0) {
            imap_seqset_free(set_r);
            return IMAP_BAD(error_r, "invalid sequence set");
        }
        start = i + 1;
    }
    seqset_merge(set_r);
    if (set_r->n > IMAP_SEQSET_RANGES_MAX) {
        imap_seqset_free(set_r);
        return imap_fail(error_r, IMAP_RESP_BAD, IMAP_CODE_LIMIT,
                         "too many ranges in sequence set");
    }
    return 0;
}

/* The interval the "*" elements cover when "*" is star. */
static void seqset_star(const imap_seqset *set, uint32_t star, uint32_t *lo_r, uint32_t *hi_r)
{
    *lo_r = set->star_lo < star ? set->star_lo : star;
    *hi_r = set->star_hi > star ? set->star_hi : star;
}

bool imap_seqset_contains(const imap_seqset *set, uint32_t star, uint32_t n)
{
    if (set->star) {
        uint32_t lo, hi;
        seqset_star(set, star, &lo, &hi);
        if (n >= lo && n <= hi)
            return true;
    }
    size_t lo = 0, hi = set->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const imap_seq_range *r = &set->ranges[mid];
        if (n < r->first)
            hi = mid;
        else if (n > r->last)
            lo = mid + 1;
        else
            return true;
    }
    return false;
}

int imap_seqset_resolve(imap_seqset *set, uint32_t star, bool msn, imap_error *error_r)
{
    if (msn) {
        if (set->star && star == 0)
            return IMAP_BAD(error_r, "no messages: \"*\" is invalid");
        uint32_t top = set->n > 0 ? set->ranges[set->n - 1].last : 0;
        if (set->star && set->star_hi > top)
            top = set->star_hi;
        if (top > star)
            return IMAP_BAD(error_r, "invalid message sequence number");
    }
    if (!set->star)
        return 0;
    uint32_t lo, hi;
    seqset_star(set, star, &lo, &hi);
    set->star = false;
    set->star_lo = UINT32_MAX;
    set->star_hi = 0;
    if (hi == 0) /* UIDs of an empty mailbox that never had one: nothing */
        return 0;
    if (lo == 0)
        lo = 1;
    set->ranges[set->n].first = lo;
    set->ranges[set->n].last = hi;
    set->n++;
    seqset_merge(set);
    return 0;
}

uint64_t imap_seqset_count(const imap_seqset *set)
{
    uint64_t count = 0;
    for (size_t i = 0; i < set->n; i++)
        count += (uint64_t)set->ranges[i].last - set->ranges[i].first + 1;
    return count;
}

void imap_seqset_iter_init(imap_seqset_iter *it, const imap_seqset *set)
{
    it->set = set;
    it->i = 0;
    it->next = set->n > 0 ? set->ranges[0].first : 0;
}

bool imap_seqset_iter_next(imap_seqset_iter *it, uint32_t *n_r)
{
    const imap_seqset *set = it->set;
    while (it->i < set->n) {
        if (it->next <= set->ranges[it->i].last) {
            *n_r = (uint32_t)it->next++;
            return true;
        }
        if (++it->i < set->n)
            it->next = set->ranges[it->i].first;
    }
    return false;
}
