/* smtp_reply: SMTP replies (RFC 5321 4.2) - an incremental parser for the
 * client side, the EHLO capability set, and the formatter the server uses.
 *
 * Reply = *(code "-" [text] CRLF) code [SP text] CRLF, code = [2-5][0-5][0-9],
 * the same code on every line (RFC 5321 4.2.1). An enhanced status code
 * (RFC 3463, RFC 2034) is recognized at the start of the text when its class
 * equals the first digit of the code, and removed from every line that
 * carries it.
 *
 * Leniency of the parser (it reads other people's servers): a line may end
 * with a bare LF; a line may be up to SMTP_REPLY_READ_LINE_MAX octets, not
 * only the 512 of RFC 5321 4.5.3.1.5 (long 5xx explanations exist, and
 * Postfix reads 2048); text may hold non-ASCII octets (RFC 6531 allows
 * UTF-8 in reply text).
 * Refused: a bad code, a code that changes within a reply, any other
 * character than SP or "-" after the code, control octets other than HT
 * (a bare CR included), too long a line, too many lines.
 */
#ifndef OWNMAIL_SMTP_REPLY_H
#define OWNMAIL_SMTP_REPLY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "smtp_common.h"

/* Longest reply line the parser accepts, line end included. */
#define SMTP_REPLY_READ_LINE_MAX 2048
/* Most lines in one reply (parsed or formatted). EHLO replies have ~15. */
#define SMTP_REPLY_LINES_MAX 100
/* Most octets of joined text in one parsed reply (codes removed, lines
 * joined with LF). */
#define SMTP_REPLY_TEXT_MAX 16384

typedef struct smtp_reply {
    unsigned code;          /* 200..559 */
    smtp_enhanced enhanced; /* cls 0 when the first line had none */
    const char *text;       /* lines joined with "\n", NUL-terminated; owned by the parser */
    size_t text_len;
    unsigned lines;
} smtp_reply;

/* Parser state: one per connection. Opaque; about 18 KiB. */
typedef struct smtp_reply_parser {
    char line[SMTP_REPLY_READ_LINE_MAX];
    size_t line_len;
    char text[SMTP_REPLY_TEXT_MAX + 1];
    size_t text_len;
    unsigned lines;
    unsigned code;
    smtp_enhanced enhanced;
    bool done;   /* the last call returned a reply: start a new one */
    bool failed; /* -1 was returned: every later call fails too */
} smtp_reply_parser;

void smtp_reply_parser_init(smtp_reply_parser *p);

/* Feeds len octets of the server's byte stream.
 * Returns
 *   1: a complete reply in *reply_r (valid until the next call); only
 *      *consumed_r octets were used: call again with the rest, which may
 *      hold further pipelined replies;
 *   0: all octets consumed, the reply is not complete yet;
 *  -1: a malformed reply: *error_r says why. The stream cannot be trusted
 *      any more (the parser stays failed until smtp_reply_parser_init):
 *      quit and treat it as a temporary failure. */
int smtp_reply_parse(smtp_reply_parser *p, const char *data, size_t len, size_t *consumed_r,
                     smtp_reply *reply_r, const char **error_r);

/* ---- EHLO capabilities (client side) ------------------------------------ */

#define SMTP_CAP_PIPELINING (1u << 0)          /* RFC 2920 */
#define SMTP_CAP_SIZE (1u << 1)                /* RFC 1870 */
#define SMTP_CAP_8BITMIME (1u << 2)            /* RFC 6152 */
#define SMTP_CAP_STARTTLS (1u << 3)            /* RFC 3207 */
#define SMTP_CAP_AUTH (1u << 4)                /* RFC 4954 */
#define SMTP_CAP_SMTPUTF8 (1u << 5)            /* RFC 6531 */
#define SMTP_CAP_CHUNKING (1u << 6)            /* RFC 3030 */
#define SMTP_CAP_BINARYMIME (1u << 7)          /* RFC 3030 */
#define SMTP_CAP_DSN (1u << 8)                 /* RFC 3461 */
#define SMTP_CAP_ENHANCEDSTATUSCODES (1u << 9) /* RFC 2034 */

/* Known SASL mechanisms. */
#define SMTP_MECH_PLAIN (1u << 0)
#define SMTP_MECH_LOGIN (1u << 1)
#define SMTP_MECH_CRAM_MD5 (1u << 2)
#define SMTP_MECH_XOAUTH2 (1u << 3)
#define SMTP_MECH_OAUTHBEARER (1u << 4)
#define SMTP_MECH_SCRAM_SHA_1 (1u << 5)
#define SMTP_MECH_SCRAM_SHA_256 (1u << 6)
#define SMTP_MECH_EXTERNAL (1u << 7)
#define SMTP_MECH_GSSAPI (1u << 8)

/* Most mechanism names kept in smtp_ehlo_caps.mechs. */
#define SMTP_EHLO_MECHS_MAX 16
/* smtp_ehlo_caps.mechs: names of at most SMTP_SASL_MECH_MAX plus a space. */
#define SMTP_EHLO_MECHS_TEXT_MAX (SMTP_EHLO_MECHS_MAX * (20 + 1))

typedef struct smtp_ehlo_caps {
    unsigned caps;     /* SMTP_CAP_* */
    uint64_t size_max; /* SIZE n; 0 = no SIZE, or SIZE without a fixed limit */
    unsigned mechs;    /* SMTP_MECH_* among the announced AUTH mechanisms */
    /* Every announced mechanism name, upper-cased, space-separated, each
     * once, in order; names that are not RFC 4422 3.1 sasl-mech and names
     * past SMTP_EHLO_MECHS_MAX are left out. */
    char mech_names[SMTP_EHLO_MECHS_TEXT_MAX + 1];
} smtp_ehlo_caps;

/* Reads the capabilities of a 250 reply to EHLO (RFC 5321 4.1.1.1): the
 * first line is the server's greeting, each further line an ehlo-keyword
 * and its parameters, keywords in any case. Unknown keywords and malformed
 * lines are ignored (a capability we cannot read is one we do not use).
 * "AUTH=mech..." (the pre-RFC 4954 form still sent by old servers) counts
 * as AUTH. A SIZE value that is not 1*20DIGIT reads as no fixed limit.
 * Returns 0, or -1 with *error_r when the reply is not a 250. */
int smtp_ehlo_caps_parse(const smtp_reply *reply, smtp_ehlo_caps *caps_r, const char **error_r);

/* ---- formatting (server side) ------------------------------------------- */

/* Appends a reply to out: text (NUL-terminated) is split at "\n" into lines
 * and each is written "code-enh text\r\n", the last "code enh text\r\n";
 * without enhanced (NULL or cls 0, as for greetings and EHLO, RFC 2034)
 * "code-text". Empty text gives "code enh" alone.
 *
 * Refused, with out unchanged: a code outside 200..559 (or with a second
 * digit over 5), an enhanced class other than the code's first digit, text
 * with CR or another control octet than HT (non-ASCII octets are allowed,
 * RFC 6531), a line over SMTP_REPLY_LINE_MAX, more than
 * SMTP_REPLY_LINES_MAX lines. Never truncates.
 * Returns 0, or -1 with *error_r (also when out reaches its cap). */
int smtp_reply_format(buf *out, unsigned code, const smtp_enhanced *enhanced, const char *text,
                      const char **error_r);

/* smtp_reply_format of a parser's refusal. */
int smtp_reply_format_error(buf *out, const smtp_error *error, const char **error_r);

#endif
