/* The pure parts of search.c (SEARCH, SORT, THREAD), apart so that the
 * unit tests reach them (tests/unit/test_imapd_search.c). */
#ifndef OWNMAIL_IMAPD_SEARCH_H
#define OWNMAIL_IMAPD_SEARCH_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "imap_arg.h"
#include "imap_common.h"
#include "store.h"
#include "store_sort.h"

/* The sort criteria of SORT (RFC 5256 3: "(" ["REVERSE" SP] key *(SP
 * ["REVERSE" SP] key) ")"; RFC 5957 DISPLAYFROM, DISPLAYTO) into
 * keys[0..*n_r). Returns 0, or -1 with *error_r: BAD for an empty list, an
 * unknown key, REVERSE not followed by a key; BAD [LIMIT] past
 * STORE_SORT_KEYS_MAX keys. */
int imapd_sort_criteria(const imap_arg *list, store_sort_key keys[STORE_SORT_KEYS_MAX], size_t *n_r,
                        imap_error *error_r);

/* Writes nums[*i..n) (ascending) as a sequence set ("1:3,7,9:10") to b,
 * a run of consecutive numbers at a time, until b holds max octets or
 * more; *i moves past what was written. A call with *i > 0 goes on with the
 * same set (it starts with a comma). */
void imapd_search_write_set(buf *b, const uint32_t *nums, size_t n, size_t *i, size_t max);

/* The ascending UIDs uids[0..n) as ranges of consecutive UIDs (*ranges_r
 * malloc'd, NULL when n is 0). 0, or -1 when memory ran out. */
int imapd_search_ranges(const uint32_t *uids, size_t n, store_range **ranges_r, size_t *n_r);

#endif
