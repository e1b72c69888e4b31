/* smtp_data: the message text of DATA (RFC 5321 4.1.4, 4.5.2), both ways.
 *
 * smtp_data_reader (server): fed the bytes after "354" in chunks of any
 * size, it removes dot-stuffing, finds the end "<CRLF>.<CRLF>", counts the
 * size, checks line lengths and reports every bare CR and bare LF, and
 * says how many input octets it used, so that pipelined commands after the
 * end stay with the caller.
 *
 * SMTP smuggling: only a real CRLF "." CRLF ends the data. "\n.\n",
 * "\n.\r\n", "\r\n.\n", "\r.\r\n" and the like are message content, flagged
 * SMTP_DATA_BARE_LF / SMTP_DATA_BARE_CR (RFC 5321 2.3.8: CR and LF only
 * ever appear together). A line starts only after a real CRLF, so a dot is
 * unstuffed only there; a bare LF does not start a line.
 *
 * smtp_data_writer (client): the reverse - normalizes every line end to
 * CRLF, dot-stuffs, and ends with ".CRLF", so that what we send can never
 * be read two ways by the next server.
 */
#ifndef OWNMAIL_SMTP_DATA_H
#define OWNMAIL_SMTP_DATA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "smtp_common.h"

/* Default max_size: 50 MiB of message. */
#define SMTP_DATA_SIZE_DEFAULT (50u * 1024 * 1024)

/* Unstuffed octets are handed to the caller through this; data is valid
 * only during the call. It cannot fail: a caller that cannot store keeps
 * its own error and reports it after the end (the stream stays in sync). */
typedef void smtp_data_output_fn(void *context, const char *data, size_t len);

typedef struct smtp_data_options {
    /* Most message octets (unstuffed, CRLF counted: the RFC 1870 SIZE
     * measure). Over it the message is refused with 552 5.3.4 (RFC 1870 6);
     * 0 = no limit. */
    uint64_t max_size;
    /* Longest line, line end included, the stuffing dot not counted (RFC
     * 5321 4.5.3.1.6). 0 = SMTP_TEXT_LINE_MAX. Lines are counted from the
     * previous LF, bare or not. */
    size_t max_line;
    /* Only flag SMTP_DATA_LONG_LINE, do not refuse (550 5.6.0). */
    bool long_lines_ok;
    /* Only flag SMTP_DATA_BARE_CR / SMTP_DATA_BARE_LF, do not refuse
     * (550 5.5.2, as Postfix's smtpd_forbid_bare_newline = reject). */
    bool bare_line_ends_ok;
} smtp_data_options;

/* max_size SMTP_DATA_SIZE_DEFAULT, max_line SMTP_TEXT_LINE_MAX, strict. */
void smtp_data_options_default(smtp_data_options *opts_r);

/* smtp_data_reader.flags */
#define SMTP_DATA_TOO_BIG (1u << 0)   /* over max_size */
#define SMTP_DATA_LONG_LINE (1u << 1) /* a line over max_line */
#define SMTP_DATA_BARE_CR (1u << 2)   /* CR not followed by LF */
#define SMTP_DATA_BARE_LF (1u << 3)   /* LF not preceded by CR */
#define SMTP_DATA_NUL (1u << 4)       /* a NUL octet (not allowed by RFC 6152 2) */
#define SMTP_DATA_8BIT (1u << 5)      /* an octet over 127 */

typedef struct smtp_data_reader {
    /* Results, to read once the reader returned 1 or -1 (or at any time). */
    uint64_t size;  /* message octets seen, counted on past max_size */
    uint64_t lines; /* line ends (LF) in the message */
    unsigned flags; /* SMTP_DATA_* */

    /* private */
    smtp_data_options opts;
    smtp_data_output_fn *output;
    void *context;
    int state;
    size_t line_len; /* octets since the last LF */
    int result;      /* 0 while reading; 1 or -1 once the end was seen */
} smtp_data_reader;

/* Starts a message. opts NULL = smtp_data_options_default. output may be
 * NULL (count and check only). */
void smtp_data_reader_init(smtp_data_reader *r, const smtp_data_options *opts,
                           smtp_data_output_fn *output, void *context);

/* Feeds len octets of the stream. Unstuffed message octets go to output as
 * they are known to be content; once the message is certain to be refused
 * (too big, or a refused line end or line length) nothing more is output,
 * but the input is still read to its end.
 * Returns
 *   1: the end was seen and the message is acceptable under the options;
 *   0: all len octets consumed, the end not seen yet;
 *  -1: the end was seen and the message is refused: *error_r is the reply
 *      (552 5.3.4 too big first, then 550 5.5.2 bare CR/LF, then 550 5.6.0
 *      line too long); the session is in sync all the same.
 * For 1 and -1, *consumed_r counts the octets up to and including the final
 * ".CRLF"; the rest belongs to the command parser. A reader that finished
 * returns the same result again, consuming nothing. */
int smtp_data_reader_feed(smtp_data_reader *r, const char *in, size_t len, size_t *consumed_r,
                          smtp_error *error_r);

/* ---- writer (client side) ----------------------------------------------- */

typedef struct smtp_data_writer {
    int state; /* private */
} smtp_data_writer;

void smtp_data_writer_init(smtp_data_writer *w);

/* Writes message octets to output in DATA form: every CRLF, bare LF and
 * bare CR becomes CRLF (a bare CR too: sending it on is what smuggling
 * needs), and a "." at the start of a line is doubled (RFC 5321 4.5.2).
 * Lines are not folded: a line over SMTP_TEXT_LINE_MAX is the caller's to
 * refuse or to send with BDAT. One call outputs at most 2 * len + 1 octets. */
void smtp_data_writer_feed(smtp_data_writer *w, const char *in, size_t len,
                           smtp_data_output_fn *output, void *context);

/* Ends the data: a CRLF if the last line has none (a pending CR becomes
 * one), then ".CRLF": at most 5 octets. The writer is ready for another
 * message. */
void smtp_data_writer_end(smtp_data_writer *w, smtp_data_output_fn *output, void *context);

#endif
