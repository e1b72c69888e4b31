/* imap_seqset: sequence sets (RFC 9051 9 sequence-set, seq-range,
 * seq-number; RFC 5182 "$"), for message sequence numbers and UIDs alike.
 *
 * Parsing does not need the mailbox: the numbers are sorted and merged at
 * once, and the elements that use "*" ("*", "n:*", "*:n") are kept apart as
 * one interval, since "*" is the largest number in use (RFC 9051 9) and
 * "n:*" is the same as "*:n": every such element covers the interval from
 * min(n, *) to max(n, *). Their union is one interval, since all contain
 * "*". imap_seqset_contains() answers with the current "*";
 * imap_seqset_resolve() folds it in for good.
 *
 * Limits: at most IMAP_SEQSET_ELEMS_MAX comma-separated elements are read
 * (more than an 8192-octet command line can hold), and at most
 * IMAP_SEQSET_RANGES_MAX ranges may remain after merging: what goes to the
 * store is then bounded whatever the client wrote ("1,2,3,...,4000" is one
 * range and is fine; 2000 disjoint UIDs are refused with BAD [LIMIT]).
 */
#ifndef OWNMAIL_IMAP_SEQSET_H
#define OWNMAIL_IMAP_SEQSET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "imap_common.h"

#define IMAP_SEQSET_ELEMS_MAX 8192
#define IMAP_SEQSET_RANGES_MAX 1024

typedef struct imap_seq_range {
    uint32_t first, last; /* inclusive, 1 <= first <= last (as store_range) */
} imap_seq_range;

typedef struct imap_seqset {
    imap_seq_range *ranges; /* sorted, disjoint, not adjacent; numbers only */
    size_t n;
    bool star;        /* some element used "*" (until resolved) */
    uint32_t star_lo; /* least n of the "n:*" elements; UINT32_MAX: none */
    uint32_t star_hi; /* greatest n of the "n:*" elements; 0: none */
    bool saved;       /* "$": the saved search result (RFC 5182 2.1) */
} imap_seqset;

/* imap_seqset_parse flags */
#define IMAP_SEQSET_ALLOW_SAVED (1u << 0) /* accept "$" (SEARCHRES advertised) */

/* Parses len octets of s as a whole sequence-set. "0", leading zeros,
 * numbers over 4294967295, empty elements and anything else are BAD; over
 * the limits BAD [LIMIT]. "$" stands alone and only with
 * IMAP_SEQSET_ALLOW_SAVED (then set_r->saved, n 0). Returns 0 with *set_r
 * (allocated: imap_seqset_free), or -1 with *error_r and *set_r empty. */
int imap_seqset_parse(const char *s, size_t len, unsigned flags, imap_seqset *set_r,
                      imap_error *error_r);

void imap_seqset_free(imap_seqset *set);

/* Whether n is in the set when "*" stands for star (the number of messages,
 * or the UID of the last message - UIDNEXT in an empty mailbox, RFC 9051
 * 9). */
bool imap_seqset_contains(const imap_seqset *set, uint32_t star, uint32_t n);

/* Folds "*" into the ranges (set->star becomes false). For message sequence
 * numbers (msn true) every number must be at most star, and "*" needs a
 * non-empty mailbox (RFC 9051 6.4.4, 9: BAD otherwise, the set unchanged);
 * UIDs are not checked (missing ones are simply not there). Returns 0 or
 * -1 with *error_r. */
int imap_seqset_resolve(imap_seqset *set, uint32_t star, bool msn, imap_error *error_r);

/* How many numbers the (resolved) ranges hold. */
uint64_t imap_seqset_count(const imap_seqset *set);

/* Walks the numbers of the resolved ranges in ascending order. */
typedef struct imap_seqset_iter {
    const imap_seqset *set;
    size_t i;
    uint64_t next;
} imap_seqset_iter;

void imap_seqset_iter_init(imap_seqset_iter *it, const imap_seqset *set);
bool imap_seqset_iter_next(imap_seqset_iter *it, uint32_t *n_r);

#endif
