/* search_store: a parsed SEARCH (imap_search.h) as lib/store's
 * store_search, node for node. In its own library (om_imap_store), so that
 * lib/imap itself does not depend on lib/store.
 *
 * The mapping:
 *   ALL AND OR NOT, FLAGS_SET / FLAGS_CLEAR (IMAP_FLAG_* = STORE_FLAG_*),
 *   KEYWORD UNKEYWORD, BEFORE ON SINCE SENT*, LARGER SMALLER, MODSEQ (the
 *   entry name is ignored: one MODSEQ per message, RFC 7162 3.1.5 allows
 *   it), FROM TO CC SUBJECT BODY TEXT HEADER BCC: the same kind and value;
 *   UID set: its ranges, "*" = map->uid_star; "$" = map->saved;
 *   SEQ set: each range a:b of message numbers becomes the UID range
 *     uid_of(a):uid_of(b) (UIDs ascend with message numbers, so the UIDs in
 *     between are exactly those messages); numbers over map->messages, and
 *     "*" in an empty mailbox, are BAD (RFC 9051 9); "$" = map->saved;
 *   RECENT: UID map->recent (none when NULL: IMAP4rev2 has no \Recent);
 *   OLDER n: BEFORE now - n; YOUNGER n: SINCE now - n (RFC 5032: internal
 *     date to the second; store compares the seconds it is given).
 * Dates are already the Unix time of 00:00 UTC of their day.
 *
 * lib/store checks its own limits (STORE_SEARCH_PARAMS_MAX: a UID range
 * costs two) when it runs the search: STORE_ERR_LIMIT there is the
 * caller's NO [LIMIT].
 */
#ifndef OWNMAIL_IMAP_SEARCH_STORE_H
#define OWNMAIL_IMAP_SEARCH_STORE_H

#include <stdint.h>

#include "imap_search.h"
#include "store.h"

typedef struct imap_search_map {
    /* The UID of message sequence number msn (1..messages). */
    uint32_t (*uid_of)(void *ctx, uint32_t msn);
    void *ctx;
    uint32_t messages;          /* "*" of message numbers */
    uint32_t uid_star;          /* "*" of UIDs: the last UID; UIDNEXT when empty */
    const store_uidset *recent; /* \Recent messages of the session; NULL = none */
    const store_uidset *saved;  /* "$" (RFC 5182); NULL = empty */
    int64_t now;                /* Unix time, for OLDER and YOUNGER */
} imap_search_map;

typedef struct imap_search_store {
    const store_search *root;
    /* private */
    store_search *nodes;
    const store_search **kids;
    store_range **ranges;
    size_t nnodes, nkids, nranges;
} imap_search_store;

/* Builds *out_r from search (which must outlive it: strings are shared).
 * Returns 0, or -1 with *error_r (BAD for a message number out of range,
 * NO when memory runs out). */
int imap_search_to_store(const imap_search *search, const imap_search_map *map,
                         imap_search_store *out_r, imap_error *error_r);
void imap_search_store_free(imap_search_store *out);

#endif
