/* Shared by imap_reader.c (the state machine) and imap_token.c (one line of
 * a command into tokens). */
#ifndef OWNMAIL_IMAP_READER_INT_H
#define OWNMAIL_IMAP_READER_INT_H

#include "imap_reader.h"

#define IMAP_NONE UINT32_MAX

struct imap_reader_node {
    uint8_t type;  /* imap_arg_type */
    uint8_t flags; /* IMAP_ARG_F_* */
    uint32_t next; /* next element of the same list, IMAP_NONE */
    uint32_t kid;  /* LIST: first element, IMAP_NONE */
    uint32_t nkids;
    size_t off, len; /* text or literal octets in the arena */
};

/* What imap_token_line found. */
typedef enum imap_seg {
    IMAP_SEG_ERROR = -1,
    IMAP_SEG_DONE = 0,    /* the command ended with this line */
    IMAP_SEG_LITERAL = 1, /* the line ended with a literal: see imap_literal_spec */
    IMAP_SEG_EMPTY = 2,   /* an empty line where a command should start */
} imap_seg;

typedef struct imap_literal_spec {
    uint64_t size;
    bool overflow; /* the size did not parse as number64 */
    bool sync;     /* "{n}": the client waits for "+" */
    bool binary;   /* "~{n}" */
} imap_literal_spec;

/* Tokenizes one line (without its line end) of the command being read,
 * going on from where the previous line (before a literal) stopped. On
 * IMAP_SEG_LITERAL the literal's node is made (its octets come next) and
 * *lit_r describes it. On IMAP_SEG_ERROR, r->error_known tells whether
 * r->tag holds the tag. */
imap_seg imap_token_line(imap_reader *r, const char *s, size_t len, imap_literal_spec *lit_r,
                         imap_error *error_r);

/* Copies the tag at the start of a line (a valid tag followed by a space)
 * into r->tag; for a line too long to tokenize. */
void imap_token_tag(imap_reader *r, const char *s, size_t len);

/* Whether s/len (a line without its end) ends with a literal announcement
 * "{n}", "{n+}", "~{n}" or "~{n+}": 1 with *lit_r, else 0. */
int imap_literal_at_end(const char *s, size_t len, imap_literal_spec *lit_r);

#endif
