/* smtp_common: what every part of lib/smtp shares - the RFC size limits,
 * enhanced status codes (RFC 3463), the error every parser reports, and
 * xtext (RFC 3461 4).
 *
 * lib/smtp is pure: bytes in, structs out. No sockets, no I/O, no globals,
 * no allocation except into a caller's buf (lib/util) where a function says
 * so. Every function takes (pointer, length) input, so an embedded NUL is
 * seen instead of silently ending a string.
 *
 * Line limits follow RFC 5321 4.5.3.1 and count the CRLF; a parser that is
 * given a line without its CRLF compares its length + 2 with them.
 */
#ifndef OWNMAIL_SMTP_COMMON_H
#define OWNMAIL_SMTP_COMMON_H

#include <stdbool.h>
#include <stddef.h>

/* RFC 5321 4.5.3.1.4: a command line, CRLF included. */
#define SMTP_LINE_MAX 512
/* RFC 5321 4.5.3.1.1: a local part, as written (quotes and backslashes of a
 * Quoted-string count). RFC 6531 3.3: octets, not characters. */
#define SMTP_LOCAL_MAX 64
/* RFC 5321 4.5.3.1.2: a domain name or address literal (brackets included). */
#define SMTP_DOMAIN_MAX 255
/* RFC 5321 4.5.3.1.3: a reverse-path or forward-path, "<" and ">" and any
 * source route included. */
#define SMTP_PATH_MAX 256
/* RFC 5321 4.5.3.1.5: a reply line we send, CRLF included. */
#define SMTP_REPLY_LINE_MAX 512
/* RFC 5321 4.5.3.1.6: a line of message text, CRLF included, the dot added
 * for transparency not counted. */
#define SMTP_TEXT_LINE_MAX 1000
/* "5.999.999": RFC 3463 2 allows 1-3 digits for subject and detail. */
#define SMTP_ENHANCED_TEXT_MAX 9

/* An enhanced mail system status code (RFC 3463 2): class.subject.detail.
 * cls == 0 means "none". */
typedef struct smtp_enhanced {
    unsigned char cls;      /* 2, 4 or 5; 0 = absent */
    unsigned short subject; /* 0..999 */
    unsigned short detail;  /* 0..999 */
} smtp_enhanced;

/* What a parser reports when it refuses its input: the reply a server
 * should give (code + enhanced code) and a short static English reason
 * without CR or LF, for the reply text and the log. For example
 * {501, {5, 5, 4}, "duplicate SIZE parameter"}. */
typedef struct smtp_error {
    unsigned code;
    smtp_enhanced enhanced;
    const char *text;
} smtp_error;

/* Writes "c.s.d" and a NUL to out. Returns the length (5..9), or -1 when e
 * is not a valid code (class not 2, 4 or 5; subject or detail over 999);
 * then out = "". */
int smtp_enhanced_format(const smtp_enhanced *e, char out[SMTP_ENHANCED_TEXT_MAX + 1]);

/* Parses an enhanced status code at the start of s: class "." 1*3DIGIT "."
 * 1*3DIGIT (RFC 3463 2), which must be followed by the end of s or a space.
 * Returns the number of octets of the code (the space not included), or 0
 * when s does not start with one (*e_r zeroed). */
size_t smtp_enhanced_parse(const char *s, size_t len, smtp_enhanced *e_r);

/* xtext (RFC 3461 4): printable ASCII "!".."~" except "+" and "=" stands for
 * itself, anything else is "+" and two upper-case hex digits.
 *
 * smtp_xtext_decode decodes len octets of in into out (out_size octets,
 * room for a NUL included). Lower-case hex digits are accepted (the RFC
 * says upper case; accepting both loses nothing). Refused: a "+" not
 * followed by two hex digits, an octet that is not xchar (space, controls,
 * "=", non-ASCII) and output that does not fit. The decoded value may hold
 * any octet, NUL included: callers check what their parameter allows.
 * Returns 0 with *out_len_r set, or -1 with *error_r (out = ""). */
int smtp_xtext_decode(const char *in, size_t len, char *out, size_t out_size, size_t *out_len_r,
                      const char **error_r);

/* Encodes len octets of in as xtext into out (out_size octets, NUL
 * included; 3 * len + 1 always suffices). Returns 0 with *out_len_r set, or
 * -1 when it does not fit (out = "" when out_size > 0). */
int smtp_xtext_encode(const char *in, size_t len, char *out, size_t out_size, size_t *out_len_r);

#endif
