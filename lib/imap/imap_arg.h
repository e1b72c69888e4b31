/* imap_arg: the argument tree of a command (what imap_reader.h produces and
 * the command parsers - imap_search.h, imap_fetch.h, imap_flags.h - read),
 * and the accessors that apply the RFC 9051 9 grammar to one argument.
 *
 * The reader is deliberately loose about atoms (any printable ASCII but
 * "(", ")", "{", DQUOTE) so that sequence sets ("1:*"), flags ("\Seen"),
 * LIST patterns ("%") and "]" all reach the command parser; each accessor
 * below applies the exact rule of the place the argument is used in.
 */
#ifndef OWNMAIL_IMAP_ARG_H
#define OWNMAIL_IMAP_ARG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum imap_arg_type {
    IMAP_ARG_ATOM = 1, /* loose atom; with IMAP_ARG_F_SECTION it holds "[...]" */
    IMAP_ARG_NIL,      /* the atom NIL, any case (str keeps it as written) */
    IMAP_ARG_QUOTED,   /* "..." with the \" and \\ escapes removed */
    IMAP_ARG_LITERAL,  /* {n} or {n+} (RFC 9051 4.3, RFC 7888) */
    IMAP_ARG_LITERAL8, /* ~{n} or ~{n+} (RFC 3516 4.5): may hold NUL */
    IMAP_ARG_LIST,     /* ( ... ) */
} imap_arg_type;

#define IMAP_ARG_F_8BIT (1u << 0)    /* octets >= 0x80 (QUOTED: valid UTF-8) */
#define IMAP_ARG_F_NONSYNC (1u << 1) /* a literal sent as {n+} */
#define IMAP_ARG_F_SECTION (1u << 2) /* an atom with a "[...]" part (FETCH only) */

typedef struct imap_arg {
    imap_arg_type type;
    unsigned flags;
    /* ATOM, NIL, QUOTED, LITERAL, LITERAL8: the octets, NUL-terminated
     * (a LITERAL8 may hold NUL itself: use len). NULL for LIST. */
    const char *str;
    size_t len;
    /* LIST: its elements (list[0..n)). */
    const struct imap_arg *list;
    size_t n;
} imap_arg;

/* "ATOM" / "NIL" equal to word, ASCII case-insensitively. */
bool imap_arg_atom_eq(const imap_arg *a, const char *word);

/* astring = 1*ASTRING-CHAR / string (RFC 9051 9). An ATOM qualifies only
 * when every octet is an ASTRING-CHAR; NIL is the string "NIL"; a LITERAL8
 * never qualifies (RFC 3516 4.5: only APPEND data). */
bool imap_arg_astring(const imap_arg *a, const char **s_r, size_t *len_r);

/* string = quoted / literal. */
bool imap_arg_string(const imap_arg *a, const char **s_r, size_t *len_r);

/* nstring = string / NIL: *s_r = NULL for NIL. */
bool imap_arg_nstring(const imap_arg *a, const char **s_r, size_t *len_r);

/* list-mailbox = 1*list-char / string; list-char = ATOM-CHAR /
 * list-wildcards / resp-specials (LIST and LSUB patterns). */
bool imap_arg_list_mailbox(const imap_arg *a, const char **s_r, size_t *len_r);

/* A strict atom (every octet an ATOM-CHAR), e.g. a command word or a
 * flag-keyword. */
bool imap_arg_atom_strict(const imap_arg *a);

/* number = 1*DIGIT fitting 32 bits (0..4294967295); an ATOM. */
bool imap_arg_number(const imap_arg *a, uint32_t *n_r);
/* number64 = 1*DIGIT up to 2^63-1 (RFC 9051 9); an ATOM. */
bool imap_arg_number64(const imap_arg *a, uint64_t *n_r);

/* The same rules on raw text: 1*DIGIT with a maximum. Leading zeros are
 * allowed (the grammar allows them). */
bool imap_parse_number(const char *s, size_t len, uint64_t max, uint64_t *n_r);
/* nz-number = digit-nz *DIGIT up to max (no leading zero, not 0). */
bool imap_parse_nz_number(const char *s, size_t len, uint64_t max, uint64_t *n_r);

#define IMAP_NUMBER_MAX UINT32_MAX
#define IMAP_NUMBER64_MAX ((uint64_t)INT64_MAX)

#endif
