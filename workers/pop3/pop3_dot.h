/* pop3_dot: a message as the body of a multi-line POP3 response (RFC 1939
 * 3): CRLF line ends, every line that starts with "." gets one more ("byte-
 * stuffing"), and the response ends with ".\r\n". For TOP (RFC 1939 7) only
 * the header, the blank line after it, and the first n body lines are sent.
 * Pure and incremental: the message may come in pieces of any size (a
 * stored message is read in chunks), and the output is the same as for the
 * whole message at once.
 *
 * Line ends: stored messages have CRLF (lib/mailbox). A bare LF still goes
 * out as CRLF; a bare CR is sent as it is (as lib/mailbox keeps it). A last
 * line without a line end gets a CRLF before the terminating ".".
 *
 * The header ends at the first empty line; a message without one is all
 * header, and TOP sends all of it. A body line is one ended by LF, or the
 * last octets of the message when they have no line end.
 */
#ifndef OWNMAIL_POP3_DOT_H
#define OWNMAIL_POP3_DOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"

#define POP3_DOT_ALL UINT64_MAX /* RETR: every body line */

typedef struct pop3_dot {
    uint64_t lines_left;  /* body lines still to send (POP3_DOT_ALL: no limit) */
    bool bol;             /* at the start of a line */
    bool cr;              /* the last octet taken was a CR */
    bool in_body;         /* the empty line that ends the header was taken */
    bool done;            /* TOP has all its lines: the rest is not wanted */
    uint64_t line_octets; /* octets of the current line so far */
} pop3_dot;

/* Starts a message: body_lines is TOP's count, or POP3_DOT_ALL for RETR. */
void pop3_dot_init(pop3_dot *d, uint64_t body_lines);

/* Appends data[0..len), stuffed, to out; octets after TOP's last line are
 * skipped. 0, or -1 when out failed (its cap). */
int pop3_dot_write(pop3_dot *d, const char *data, size_t len, buf *out);

/* Whether TOP has what it wants: the caller need not read the rest. */
bool pop3_dot_done(const pop3_dot *d);

/* Ends the response: a CRLF when the last line has none, then ".\r\n". 0 or
 * -1 (out's cap). */
int pop3_dot_finish(pop3_dot *d, buf *out);

#endif
