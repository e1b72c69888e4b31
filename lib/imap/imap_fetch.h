/* imap_fetch: the arguments of FETCH (RFC 9051 6.4.5; RFC 3516 BINARY;
 * RFC 7162 MODSEQ, CHANGEDSINCE, VANISHED; RFC 8970 PREVIEW) into a list
 * of attributes, and the names those attributes take in the response
 * (RFC 9051 7.5.2).
 *
 *   fetch = sequence-set SP ("ALL" / "FULL" / "FAST" / fetch-att /
 *           "(" fetch-att *(SP fetch-att) ")") [SP "(" fetch-modifier ... ")"]
 *
 * The macros become their attributes (ALL = FLAGS INTERNALDATE RFC822.SIZE
 * ENVELOPE, FAST = the first three, FULL = ALL BODY) and are refused inside
 * a list. RFC822, RFC822.HEADER and RFC822.TEXT stay themselves (their
 * response names differ from BODY[...]'s); the caller serves them as
 * BODY[], BODY.PEEK[HEADER] and BODY[TEXT].
 *
 * Sections (RFC 9051 9 section-spec): part numbers "1.2.3" (nz-numbers, at
 * most IMAP_SECTION_DEPTH_MAX), then HEADER, HEADER.FIELDS (names),
 * HEADER.FIELDS.NOT (names), TEXT, or MIME (after a part number only), any
 * case. BINARY and BINARY.SIZE take part numbers only (RFC 3516
 * section-binary). Field names are astrings (atoms or quoted strings) of
 * RFC 5322 ftext, kept as written. A partial "<origin.count>" follows BODY[]
 * and BINARY[] only (RFC 9051: number64 "." nz-number64).
 */
#ifndef OWNMAIL_IMAP_FETCH_H
#define OWNMAIL_IMAP_FETCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "imap_arg.h"
#include "imap_common.h"
#include "imap_seqset.h"

#define IMAP_FETCH_ATTS_MAX 64    /* attributes in one FETCH, macros expanded */
#define IMAP_SECTION_DEPTH_MAX 32 /* part numbers (= MIME_DEFAULT_MAX_DEPTH) */
#define IMAP_FETCH_FIELDS_MAX 128 /* names in one HEADER.FIELDS list */
#define IMAP_FETCH_FIELD_MAX 256  /* octets of one field name */

typedef enum imap_fetch_kind {
    IMAP_FETCH_FLAGS,
    IMAP_FETCH_INTERNALDATE,
    IMAP_FETCH_RFC822_SIZE,
    IMAP_FETCH_ENVELOPE,
    IMAP_FETCH_BODY, /* the structure without extension data */
    IMAP_FETCH_BODYSTRUCTURE,
    IMAP_FETCH_UID,
    IMAP_FETCH_MODSEQ,        /* RFC 7162 3.1.4 */
    IMAP_FETCH_BODY_SECTION,  /* BODY[section]<partial>, BODY.PEEK[...] */
    IMAP_FETCH_BINARY,        /* BINARY[part]<partial>, BINARY.PEEK[...] */
    IMAP_FETCH_BINARY_SIZE,   /* BINARY.SIZE[part] */
    IMAP_FETCH_RFC822,        /* BODY[] */
    IMAP_FETCH_RFC822_HEADER, /* BODY.PEEK[HEADER] */
    IMAP_FETCH_RFC822_TEXT,   /* BODY[TEXT] */
    IMAP_FETCH_PREVIEW,       /* RFC 8970 */
} imap_fetch_kind;

typedef enum imap_section_text {
    IMAP_SECTION_NONE = 0, /* "[]" (the message) or "[1.2]" (a part's content) */
    IMAP_SECTION_HEADER,
    IMAP_SECTION_HEADER_FIELDS,
    IMAP_SECTION_HEADER_FIELDS_NOT,
    IMAP_SECTION_TEXT,
    IMAP_SECTION_MIME,
} imap_section_text;

typedef struct imap_section {
    uint32_t part[IMAP_SECTION_DEPTH_MAX];
    size_t nparts;
    imap_section_text text;
    const char **fields; /* HEADER.FIELDS[.NOT]: NUL-terminated names (owned) */
    size_t nfields;
} imap_section;

typedef struct imap_fetch_att {
    imap_fetch_kind kind;
    bool peek; /* BODY.PEEK, BINARY.PEEK: do not set \Seen */
    imap_section section;
    bool partial; /* <origin.count> */
    uint64_t origin, count;
    bool lazy; /* PREVIEW (LAZY) */
} imap_fetch_att;

typedef struct imap_fetch {
    imap_seqset set;
    imap_fetch_att *atts;
    size_t natts;
    /* some attribute sets \Seen (RFC 9051 6.4.5): BODY[...], BINARY[...],
     * RFC822, RFC822.TEXT; in a read-write mailbox */
    bool sets_seen;
    /* RFC 7162 3.1.4.1: only messages whose MODSEQ is greater; every
     * response then carries MODSEQ, asked or not */
    bool has_changedsince;
    uint64_t changedsince;
    bool vanished;  /* RFC 7162 3.2.6: report expunged UIDs as VANISHED (EARLIER) */
    bool condstore; /* MODSEQ or CHANGEDSINCE used: a CONDSTORE enabling command */
} imap_fetch;

/* imap_fetch_parse flags */
#define IMAP_FETCH_F_UID (1u << 0)       /* UID FETCH: VANISHED allowed */
#define IMAP_FETCH_F_QRESYNC (1u << 1)   /* QRESYNC enabled: VANISHED allowed */
#define IMAP_FETCH_F_SEARCHRES (1u << 2) /* "$" as the sequence set (RFC 5182) */

/* Parses args[0..n), the arguments of FETCH / UID FETCH after the name.
 * VANISHED needs IMAP_FETCH_F_UID, IMAP_FETCH_F_QRESYNC and CHANGEDSINCE (RFC
 * 7162 3.2.6: BAD otherwise). Returns 0 with *fetch_r (free with
 * imap_fetch_free), or -1 with *error_r (BAD; BAD [LIMIT] past the limits). */
int imap_fetch_parse(const imap_arg *args, size_t n, unsigned flags, imap_fetch *fetch_r,
                     imap_error *error_r);
void imap_fetch_free(imap_fetch *fetch);

/* The octets between "[" and "]" of BODY[...] (binary false) or BINARY[...]
 * / BINARY.SIZE[...] (binary true). Returns 0 with *section_r (free with
 * imap_section_free) or -1 with *error_r. */
int imap_section_parse(const char *s, size_t len, bool binary, imap_section *section_r,
                       imap_error *error_r);
void imap_section_free(imap_section *section);

/* Appends the attribute's name as the response gives it (RFC 9051 7.5.2):
 * "FLAGS", "RFC822.SIZE", "BODY[1.HEADER.FIELDS (From To)]<0>" (PEEK
 * dropped, the partial as its origin), "BINARY.SIZE[2]". Returns 0, or -1
 * when b is full. */
int imap_fetch_att_name(const imap_fetch_att *att, buf *b);

#endif
