/* imap_flags: message flags (RFC 9051 2.3.2, 9 flag / flag-list) and the
 * STORE command's arguments (RFC 9051 6.4.6; RFC 7162 3.1.3
 * UNCHANGEDSINCE).
 *
 * System flags are bits with the values of lib/store's STORE_FLAG_*;
 * keywords are atoms kept as written (pointers into the command). Refused
 * (BAD): "\Recent" (RFC 3501 2.3.2: the server sets it, a client cannot;
 * gone in IMAP4rev2), any other unknown "\" flag (flag-extension: RFC 9051
 * lets servers refuse it), a keyword that is not an atom or is longer than
 * IMAP_KEYWORD_MAX, quoted strings and literals. Keywords are compared
 * ASCII case-insensitively (RFC 9051 2.3.2) and duplicates dropped.
 */
#ifndef OWNMAIL_IMAP_FLAGS_H
#define OWNMAIL_IMAP_FLAGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "imap_arg.h"
#include "imap_common.h"
#include "imap_seqset.h"

#define IMAP_FLAG_SEEN 0x01u     /* = STORE_FLAG_SEEN */
#define IMAP_FLAG_ANSWERED 0x02u /* = STORE_FLAG_ANSWERED */
#define IMAP_FLAG_FLAGGED 0x04u  /* = STORE_FLAG_FLAGGED */
#define IMAP_FLAG_DELETED 0x08u  /* = STORE_FLAG_DELETED */
#define IMAP_FLAG_DRAFT 0x10u    /* = STORE_FLAG_DRAFT */
#define IMAP_FLAG_RECENT 0x20u   /* session state, never stored (SEARCH RECENT) */

#define IMAP_KEYWORD_MAX 128 /* octets of a keyword (= STORE_KEYWORD_MAX) */
#define IMAP_KEYWORDS_MAX 64 /* keywords in one command (= STORE_KEYWORDS_MAX) */

/* The bit of a system flag ("\Seen", any case; "\Recent" included), or 0. */
unsigned imap_flag_system(const char *s, size_t len);

/* "\Seen"... for one bit; NULL for anything else. */
const char *imap_flag_name(unsigned bit);

/* flag-keyword: an atom of ATOM-CHARs (no "\"), 1..IMAP_KEYWORD_MAX. */
bool imap_keyword_valid(const char *s, size_t len);

typedef struct imap_flags {
    unsigned mask; /* IMAP_FLAG_*, never IMAP_FLAG_RECENT */
    /* NULL-terminated (as store_set_flags wants); into the command */
    const char *keywords[IMAP_KEYWORDS_MAX + 1];
    size_t nkeywords;
} imap_flags;

/* Each of args[0..n) must be a flag (the elements of a flag-list, or the
 * flags after STORE's FLAGS). n may be 0. Returns 0 with *flags_r, or -1
 * with *error_r (BAD; BAD [LIMIT] past IMAP_KEYWORDS_MAX). */
int imap_flags_parse(const imap_arg *args, size_t n, imap_flags *flags_r, imap_error *error_r);

typedef enum imap_store_op {
    IMAP_STORE_REPLACE = 0, /* FLAGS */
    IMAP_STORE_ADD,         /* +FLAGS */
    IMAP_STORE_REMOVE,      /* -FLAGS */
} imap_store_op;

typedef struct imap_store {
    imap_seqset set;
    imap_store_op op;
    bool silent; /* .SILENT: no untagged FETCH (but RFC 7162 3.1.3 still
                  * sends them for messages changed by others) */
    bool has_unchangedsince;
    uint64_t unchangedsince; /* mod-sequence-valzer: 0..2^63-1 */
    imap_flags flags;
} imap_store;

/* The arguments of STORE / UID STORE (after the name):
 *   sequence-set [SP "(" "UNCHANGEDSINCE" SP mod-sequence-valzer ")"]
 *   SP ["+" / "-"] "FLAGS" [".SILENT"] SP (flag-list / flag *(SP flag))
 * seqset_flags go to imap_seqset_parse. Returns 0 with *store_r (free
 * with imap_store_free) or -1 with *error_r (BAD). */
int imap_store_parse(const imap_arg *args, size_t n, unsigned seqset_flags, imap_store *store_r,
                     imap_error *error_r);
void imap_store_free(imap_store *store);

#endif
