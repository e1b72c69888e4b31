/* imap_reader: cuts the byte stream of an IMAP connection into commands
 * (RFC 9051 2.2, 4.3; RFC 7888 LITERAL+ / LITERAL-; RFC 3516 literal8),
 * for the server side. Incremental and bounded: fed whatever arrived, it
 * copies what it needs, and returns one command at a time as a tag, a name
 * and a tree of arguments (imap_arg.h).
 *
 * A command is "tag SP name [SP args] CRLF", where the args may hold
 * literals: a line ending in "{n}" (synchronizing: the client waits for a
 * "+" continuation request), "{n+}" (non-synchronizing, RFC 7888), or
 * "~{n}" / "~{n+}" (literal8, RFC 3516), then n octets, then the rest of the
 * command. "UID name" is folded: name holds the sub-command, uid is set.
 * Inside FETCH (and UID FETCH) an atom may hold one "[...]" part with
 * spaces, parentheses and quoted strings in it (BODY[HEADER.FIELDS (From
 * To)]<0.100>): kept raw, for imap_fetch.h. A literal inside "[...]" is
 * refused (BAD): no client sends one.
 *
 * Leniency: a bare LF ends a line like CRLF (cmd->bare_lf); runs of spaces,
 * spaces after "(" or before ")", and trailing spaces are accepted
 * (cmd->lenient); empty lines between commands are ignored (RFC 9051 does
 * not allow them, some clients send one after an APPEND literal).
 *
 * Resynchronization, so that one bad command never eats the next one:
 *  - an error found in a line: the rest of that line is dropped. If it ends
 *    with a synchronizing literal the client waits for "+", gets our BAD and
 *    abandons the command (RFC 9051 7.5); if it ends with a non-synchronizing
 *    one, its n octets are skipped unread, then the next line the same way;
 *  - a line over the limit: reported at once, dropped up to its LF (only its
 *    last octets are kept, to see a literal at its end), then as above;
 *  - a synchronizing literal over a limit: refused before the client sends
 *    it (no "+"), so nothing follows on the wire;
 *  - a non-synchronizing literal over a limit (and, without LITERAL+, any
 *    one over 4096 octets, RFC 7888 4): BAD [TOOBIG] at once, then its octets
 *    and the rest of the command are skipped, as RFC 7888 5 allows. When it
 *    is over limits.skip_max, or its size does not parse, the error is fatal
 *    ("* BYE", close): skipping would take too long.
 * The error is reported as soon as it is known; the skipping happens in
 * the following calls, which return 0 until the next command starts.
 *
 * Memory: the reader holds one command - its lines, and its literals whole
 * (an APPEND message too: store_append() takes it in one piece), so at
 * most limits.command_max plus the text. Memory grows as octets arrive,
 * never on an announcement alone; after a command of more than 64 KiB it is
 * given back. Token text and lines are wiped when dropped (LOGIN and
 * AUTHENTICATE carry passwords).
 *
 * STARTTLS (RFC 9051 6.2.1): a command is consumed up to its line end and
 * no further; after STARTTLS the caller must drop what is left in its input
 * (plaintext injected before the handshake) rather than feed it here.
 */
#ifndef OWNMAIL_IMAP_READER_H
#define OWNMAIL_IMAP_READER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "imap_arg.h"
#include "imap_common.h"

/* Octets of command text, literals excluded, CRLFs counted, over all the
 * lines of one command. RFC 7162 4 asks servers to accept at least 8192. */
#define IMAP_LINE_MAX 8192
/* A literal that is not an APPEND message: mailbox names, passwords, search
 * strings. Big enough for any of them, small enough to hold per session. */
#define IMAP_LITERAL_MAX (64u * 1024)
/* Default APPENDLIMIT (RFC 7889): 50 MiB, as SMTP's default SIZE. */
#define IMAP_APPEND_LITERAL_MAX (50u * 1024 * 1024)
/* RFC 7888 4: without LITERAL+, non-synchronizing literals up to 4096. */
#define IMAP_LITERAL_MINUS_MAX 4096
/* Literals in one command: MULTIAPPEND (RFC 3502) sends one per message. */
#define IMAP_LITERALS_MAX 256
/* Everything of one command: lines and literals. */
#define IMAP_COMMAND_MAX (64u * 1024 * 1024)
/* Nesting of parenthesized lists; the hard ceiling of depth_max. */
#define IMAP_DEPTH_MAX 16
#define IMAP_DEPTH_HARD_MAX 64
/* Arguments (lists included) in one command: 8192 octets of text hold at
 * most ~2700 ("() () ..."), so this never refuses a line the line limit
 * lets through. */
#define IMAP_ARGS_MAX 4096
/* A non-synchronizing literal over a limit is skipped up to this size;
 * beyond, the error is fatal. */
#define IMAP_SKIP_MAX (256u * 1024 * 1024)
/* Tag and command name: longer is refused (BAD). No client needs more. */
#define IMAP_TAG_MAX 64
#define IMAP_NAME_MAX 32

typedef struct imap_reader_limits {
    size_t line_max;             /* IMAP_LINE_MAX */
    uint64_t literal_max;        /* IMAP_LITERAL_MAX */
    uint64_t append_literal_max; /* APPENDLIMIT: an APPEND message (NO [TOOBIG]) */
    size_t literals_max;         /* IMAP_LITERALS_MAX */
    uint64_t command_max;        /* IMAP_COMMAND_MAX */
    unsigned depth_max;          /* IMAP_DEPTH_MAX, at most IMAP_DEPTH_HARD_MAX */
    size_t args_max;             /* IMAP_ARGS_MAX */
    uint64_t skip_max;           /* IMAP_SKIP_MAX */
    /* LITERAL+ advertised: non-synchronizing literals of any size within
     * the limits. false: LITERAL- (RFC 7888 4; IMAP4rev2 has it built in). */
    bool literal_plus;
} imap_reader_limits;

/* The defaults above, literal_plus true. */
void imap_reader_limits_default(imap_reader_limits *limits_r);

/* A command, valid until the next call on its reader. */
typedef struct imap_command {
    const char *tag; /* NUL-terminated; "" when unknown (answer "* BAD") */
    size_t tag_len;
    const char *name;     /* upper-cased; for "UID FETCH" this is "FETCH" */
    bool uid;             /* prefixed by UID */
    const imap_arg *args; /* the arguments after the name */
    size_t nargs;
    uint64_t size; /* octets of the command, lines and literals */
    size_t nliterals;
    bool lenient; /* extra spaces were accepted */
    bool bare_lf; /* a line ended with LF alone */
} imap_command;

/* Return values of imap_reader_next. */
#define IMAP_READ_ERROR (-1)
#define IMAP_READ_MORE 0
#define IMAP_READ_COMMAND 1
#define IMAP_READ_CONTINUE 2

/* Private node of the tree under construction. */
typedef struct imap_reader_node imap_reader_node;

typedef struct imap_reader {
    imap_reader_limits limits;
    /* private */
    int state;
    buf line;  /* the line being gathered */
    buf arena; /* text and literal octets of the command */
    imap_reader_node *nodes;
    size_t nnodes, nodes_cap;
    imap_arg *out;
    size_t out_cap;
    uint32_t open[IMAP_DEPTH_HARD_MAX + 1]; /* node index of each open list */
    uint32_t last[IMAP_DEPTH_HARD_MAX + 1]; /* last element at each level */
    uint32_t first_top;
    unsigned depth;
    size_t ntop;
    bool head_done, need_sep, fetch_mode, append, uid, lenient, bare_lf, error_known, complete;
    char tag[IMAP_TAG_MAX + 1];
    size_t tag_len;
    char name[IMAP_NAME_MAX + 1];
    uint64_t line_total, cmd_total;
    size_t nliterals;
    uint64_t lit_left; /* literal octets still to read, or to skip */
    uint32_t lit_node;
    bool lit_binary, lit_nul, lit_sync;
    char tail[32]; /* last octets of a line being dropped */
    size_t tail_len;
    imap_error fatal;
} imap_reader;

/* limits NULL = imap_reader_limits_default. */
void imap_reader_init(imap_reader *r, const imap_reader_limits *limits);
/* Frees the memory (wiped first: commands carry passwords). */
void imap_reader_free(imap_reader *r);
/* Changes the limits from the next command on (e.g. after LOGIN, or when
 * APPENDLIMIT changes). depth_max is capped at IMAP_DEPTH_HARD_MAX. */
void imap_reader_set_limits(imap_reader *r, const imap_reader_limits *limits);

/* Reads from in (len octets: what arrived and was not consumed yet).
 * Returns
 *   IMAP_READ_COMMAND (1): *cmd_r holds a command; *consumed_r octets of in
 *      were used, up to its final line end: the rest (pipelined commands)
 *      belongs to the next call;
 *   IMAP_READ_MORE (0): all of in was used (copied, or skipped while
 *      resynchronizing); call again when more arrives;
 *   IMAP_READ_CONTINUE (2): a synchronizing literal within the limits was
 *      announced: send a continuation request ("+ Ready") and call again
 *      (with the rest of in, then more). *cmd_r holds the command so far -
 *      tag, name, the arguments read, the announced literal last with its
 *      len and str NULL - so that the server may refuse instead (APPEND to
 *      a mailbox that does not exist: NO [TRYCREATE], RFC 9051 6.3.12; over
 *      quota): then it answers and calls imap_reader_abort();
 *   IMAP_READ_ERROR (-1): *error_r says what to answer; cmd_r->tag is the
 *      tag when it is known ("" otherwise: "* BAD"). BAD and NO: answer and
 *      call again, the reader resynchronizes as described above. BYE: the
 *      error is fatal; every later call returns it again.
 * cmd_r is filled in every case (empty but for the tag when not 1). */
int imap_reader_next(imap_reader *r, const char *in, size_t len, size_t *consumed_r,
                     imap_command *cmd_r, imap_error *error_r);

/* Drops the command being read, after IMAP_READ_CONTINUE when the server
 * refuses it instead of sending "+": the client sends nothing more of it,
 * the next octets start a new command. (Anywhere else the rest of the
 * command is skipped as after an error.) */
void imap_reader_abort(imap_reader *r);

/* Reads one line that is not a command, between commands: a SASL response
 * of AUTHENTICATE (RFC 9051 6.2.2; "*" cancels) or IDLE's "DONE" (RFC 9051
 * 6.3.13). Lines end with CRLF or a bare LF; max is the longest line, its
 * end counted.
 * Returns 1 with *line_r / *line_len_r (without the line end; valid until
 * the next call), 0 when more input is needed (all of in used), or -1 for a
 * line over max: *error_r = BAD [TOOBIG], and the rest of that line is
 * dropped by the next call of either function. Must not be called while a
 * command is half read. */
int imap_reader_line(imap_reader *r, const char *in, size_t len, size_t max, size_t *consumed_r,
                     const char **line_r, size_t *line_len_r, imap_error *error_r);

#endif
