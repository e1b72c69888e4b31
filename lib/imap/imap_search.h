/* imap_search: the arguments of SEARCH (RFC 9051 6.4.4; RFC 3501 6.4.4 for
 * the IMAP4rev1 keys NEW, OLD, RECENT; RFC 4731 / RFC 9051 RETURN options;
 * RFC 5182 SAVE and "$"; RFC 7162 3.1.5 MODSEQ; RFC 5032 OLDER / YOUNGER),
 * and the search program of SORT and THREAD (RFC 5256), into a tree.
 *
 * The tree has the shape of lib/store's store_search (store.h "Search"):
 * the same kinds in the same order, the same fields (kind, kids, nkids,
 * mask, str, num, name; set for store's uids), so that search_store.h maps
 * it node for node. Only four kinds exist here and not there: SEQ (message
 * sequence numbers, mapped to UIDs), RECENT (session state), OLDER and
 * YOUNGER (relative to now). Keys are normalised on the way:
 *   ANSWERED DELETED DRAFT FLAGGED SEEN  -> FLAGS_SET   with that bit
 *   UN<the same>                         -> FLAGS_CLEAR with that bit
 *   NEW -> AND(RECENT, FLAGS_CLEAR SEEN), OLD -> NOT(RECENT)
 *   dates -> num = Unix time of 00:00 UTC of the day (imap_date.h)
 *   a parenthesized list -> AND; nested ANDs and ORs are flattened
 *   ("OR OR a b c" is one OR of three), so client-built chains stay flat.
 *
 * Strings point into the command's arguments (NUL-terminated): keep the
 * command while the tree is used. They are valid UTF-8 without NUL (US-ASCII
 * with CHARSET US-ASCII); BAD otherwise. CHARSET other than UTF-8 and
 * US-ASCII: NO [BADCHARSET (UTF-8 US-ASCII)] (RFC 9051 6.4.4).
 */
#ifndef OWNMAIL_IMAP_SEARCH_H
#define OWNMAIL_IMAP_SEARCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "imap_arg.h"
#include "imap_common.h"
#include "imap_seqset.h"

/* Nesting while parsing: parentheses, OR and NOT (after flattening the
 * tree is usually much flatter; lib/store allows 16). */
#define IMAP_SEARCH_DEPTH_MAX 32
/* Nodes in one search (= STORE_SEARCH_NODES_MAX). */
#define IMAP_SEARCH_NODES_MAX 256
/* Octets of a search string (= STORE_SEARCH_STR_MAX). */
#define IMAP_SEARCH_STR_MAX 4096
/* Octets of a HEADER field name (= STORE_SEARCH_FIELD_MAX). */
#define IMAP_SEARCH_FIELD_MAX 256

typedef enum imap_search_kind {
    IMAP_SK_ALL,
    IMAP_SK_AND, /* kids */
    IMAP_SK_OR,
    IMAP_SK_NOT,         /* one kid */
    IMAP_SK_UID,         /* set */
    IMAP_SK_FLAGS_SET,   /* mask: every flag set */
    IMAP_SK_FLAGS_CLEAR, /* mask: no flag set */
    IMAP_SK_KEYWORD,     /* str */
    IMAP_SK_UNKEYWORD,   /* str */
    IMAP_SK_BEFORE,      /* num: day (internal date) */
    IMAP_SK_ON,
    IMAP_SK_SINCE,
    IMAP_SK_SENTBEFORE, /* num: day (Date: header) */
    IMAP_SK_SENTON,
    IMAP_SK_SENTSINCE,
    IMAP_SK_LARGER,  /* num: octets */
    IMAP_SK_SMALLER, /* num: octets */
    IMAP_SK_MODSEQ,  /* num; name and entry_type when an entry was given */
    IMAP_SK_FROM,    /* str */
    IMAP_SK_TO,
    IMAP_SK_CC,
    IMAP_SK_SUBJECT,
    IMAP_SK_BODY,
    IMAP_SK_TEXT,
    IMAP_SK_HEADER, /* name, str */
    IMAP_SK_BCC,    /* str */
    /* IMAP only */
    IMAP_SK_SEQ,     /* set: message sequence numbers */
    IMAP_SK_RECENT,  /* \Recent (IMAP4rev1) */
    IMAP_SK_OLDER,   /* num: seconds (RFC 5032) */
    IMAP_SK_YOUNGER, /* num: seconds */
} imap_search_kind;

typedef enum imap_modseq_entry {
    IMAP_MODSEQ_ENTRY_NONE = 0,
    IMAP_MODSEQ_ENTRY_PRIV,
    IMAP_MODSEQ_ENTRY_SHARED,
    IMAP_MODSEQ_ENTRY_ALL,
} imap_modseq_entry;

typedef struct imap_search_key {
    imap_search_kind kind;
    struct imap_search_key *kids; /* AND, OR, NOT: the first kid */
    struct imap_search_key *next; /* the next kid of the same parent */
    size_t nkids;
    imap_seqset set; /* UID, SEQ ("$": set.saved) */
    unsigned mask;   /* FLAGS_SET, FLAGS_CLEAR: IMAP_FLAG_* (imap_flags.h) */
    const char *str; /* KEYWORD .. BCC */
    size_t str_len;
    const char *name; /* HEADER: field name; MODSEQ: entry name or NULL */
    size_t name_len;
    int64_t num;
    imap_modseq_entry entry_type; /* MODSEQ */
} imap_search_key;

/* RETURN options (RFC 9051 6.4.4.1, RFC 4731 3.1, RFC 5182 2.2) */
#define IMAP_SEARCH_RET_MIN (1u << 0)
#define IMAP_SEARCH_RET_MAX (1u << 1)
#define IMAP_SEARCH_RET_ALL (1u << 2)
#define IMAP_SEARCH_RET_COUNT (1u << 3)
#define IMAP_SEARCH_RET_SAVE (1u << 4)

typedef enum imap_charset {
    IMAP_CHARSET_NONE = 0, /* not given: UTF-8 accepted (RFC 9051 6.4.4) */
    IMAP_CHARSET_US_ASCII,
    IMAP_CHARSET_UTF8,
} imap_charset;

typedef struct imap_search {
    imap_search_key *root; /* the keys, ANDed */
    bool esearch;          /* RETURN was given: answer with ESEARCH (RFC 4731) */
    unsigned ret;          /* IMAP_SEARCH_RET_*; "RETURN ()" means ALL */
    imap_charset charset;
    bool modseq; /* a MODSEQ key: answer with (MODSEQ n), RFC 7162 3.1.5 */
    bool saved;  /* "$" is used */
    /* private */
    imap_search_key *nodes;
    size_t nnodes;
} imap_search;

/* imap_search_parse flags */
#define IMAP_SEARCH_RETURN (1u << 0)    /* RETURN (...) allowed (ESEARCH, IMAP4rev2) */
#define IMAP_SEARCH_SEARCHRES (1u << 1) /* "$" and RETURN (SAVE) allowed (RFC 5182) */
/* SORT / THREAD: the program starts with a charset, without the word
 * CHARSET (RFC 5256 3); RETURN is not read here (ESORT's belongs before
 * the sort criteria, which the caller takes off first). */
#define IMAP_SEARCH_CHARSET_ARG (1u << 2)

/* Parses args[0..n), the arguments of SEARCH after its name:
 *   [RETURN (opts)] [CHARSET charset] search-key *(SP search-key)
 * or, with IMAP_SEARCH_CHARSET_ARG, charset search-key *(SP search-key).
 * Returns 0 with *search_r (free with imap_search_free), or -1 with
 * *error_r: BAD for syntax, BAD [LIMIT] past the limits above, NO
 * [BADCHARSET (UTF-8 US-ASCII)] for another charset. */
int imap_search_parse(const imap_arg *args, size_t n, unsigned flags, imap_search *search_r,
                      imap_error *error_r);

void imap_search_free(imap_search *search);

/* The kind's name ("UID", "FLAGS_SET", ...), for logs and tests. */
const char *imap_search_kind_name(imap_search_kind kind);

#endif
