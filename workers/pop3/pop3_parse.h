/* pop3_parse: one POP3 command line into a struct (RFC 1939 3, RFC 2449 4).
 * Pure: bytes in, struct out; no sockets, no store.
 *
 * A command is a case-insensitive keyword, then its arguments separated by
 * spaces. The line, with its CRLF, is at most POP3_LINE_MAX octets (RFC
 * 2449 4; the connection reads at most that much, and this parser checks it
 * again). Leniency: runs of spaces between arguments and trailing spaces
 * are accepted (RFC 1939 asks for single spaces; some clients add one at the
 * end). PASS is the exception: RFC 1939 7 lets "spaces in the argument" be
 * part of the password, so its argument is everything after "PASS ".
 */
#ifndef OWNMAIL_POP3_PARSE_H
#define OWNMAIL_POP3_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define POP3_LINE_MAX 255      /* octets of a command line with its CRLF (RFC 2449 4) */
#define POP3_KEYWORD_MAX 4     /* RFC 1939 3: keywords are three or four characters */
#define POP3_MSG_DIGITS_MAX 10 /* significant digits of a message number (2^32 - 1) */

typedef enum {
    POP3_CMD_UNKNOWN = 0,
    /* AUTHORIZATION state */
    POP3_CMD_USER,
    POP3_CMD_PASS,
    POP3_CMD_AUTH,
    POP3_CMD_STLS,
    /* any state */
    POP3_CMD_CAPA,
    POP3_CMD_QUIT,
    /* TRANSACTION state */
    POP3_CMD_STAT,
    POP3_CMD_LIST,
    POP3_CMD_RETR,
    POP3_CMD_DELE,
    POP3_CMD_NOOP,
    POP3_CMD_RSET,
    POP3_CMD_TOP,
    POP3_CMD_UIDL,
} pop3_verb;

typedef enum {
    POP3_PARSE_OK = 0,
    POP3_PARSE_TOO_LONG = -1, /* over POP3_LINE_MAX with the CRLF */
    POP3_PARSE_EMPTY = -2,    /* nothing but spaces */
    POP3_PARSE_BAD_CHAR = -3, /* a NUL or control character where it cannot be */
    POP3_PARSE_UNKNOWN = -4,  /* not a command of this server */
    POP3_PARSE_ARGS = -5,     /* too few or too many arguments */
    POP3_PARSE_NUMBER = -6,   /* a message number or line count that is not 1*DIGIT / too big */
} pop3_parse_result;

typedef struct pop3_command {
    pop3_verb verb;
    /* LIST, UIDL: whether a message number was given; RETR, DELE, TOP:
     * always true. 0 parses (it names no message: "no such message"). */
    bool has_msg;
    uint32_t msg;
    /* TOP: the body lines wanted; a count over UINT32_MAX is UINT32_MAX
     * (any count past the end of the body means the whole body). */
    uint32_t lines;
    /* USER: the name; PASS: the password (all of the rest of the line);
     * AUTH: the mechanism (NULL / 0 when none was given). Point into the
     * line. */
    const char *arg;
    size_t arg_len;
    /* AUTH: the initial response (RFC 5034 4), NULL when none. */
    const char *ir;
    size_t ir_len;
} pop3_command;

/* Parses line[0..len) (without its CRLF). Returns POP3_PARSE_OK with *cmd
 * filled, or a negative pop3_parse_result with *err_r (may be NULL) a
 * sentence for the "-ERR" reply; cmd->verb is then the verb when the
 * keyword was known (an argument error), else POP3_CMD_UNKNOWN. */
pop3_parse_result pop3_parse(const char *line, size_t len, pop3_command *cmd, const char **err_r);

/* The keyword of a verb in upper case ("RETR"); "" for POP3_CMD_UNKNOWN. */
const char *pop3_verb_name(pop3_verb v);

#endif
