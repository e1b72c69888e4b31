/* imap_common: what every part of lib/imap shares - the error a parser
 * reports (which tagged response to give, with which response code) and the
 * character classes of RFC 9051 9 (formal syntax).
 *
 * lib/imap is pure: bytes in, structs out. No sockets, no I/O, no store
 * access, no globals. Inputs are (pointer, length) so that an embedded NUL is
 * seen. Memory is allocated only where a function says so, and always within
 * a named limit.
 *
 * Which response: syntax errors and limits on the form of a command are
 * tagged BAD (RFC 9051 7.1.3); a well-formed command that is refused for
 * what it asks is tagged NO (7.1.2) - an APPEND message over APPENDLIMIT
 * (RFC 7889 4: NO [TOOBIG]), a SEARCH CHARSET we do not have (RFC 9051 6.4.4:
 * NO [BADCHARSET (UTF-8 US-ASCII)]). A fatal error means the byte stream
 * cannot be resynchronized: send "* BYE" with the text and close.
 */
#ifndef OWNMAIL_IMAP_COMMON_H
#define OWNMAIL_IMAP_COMMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum imap_resp {
    IMAP_RESP_BAD = 0, /* tagged BAD (or "* BAD" when the tag is unknown) */
    IMAP_RESP_NO,      /* tagged NO */
    IMAP_RESP_BYE,     /* "* BYE", then close the connection */
} imap_resp;

/* Response codes used (RFC 9051 7.1, RFC 4469 TOOBIG, RFC 5530 LIMIT). */
#define IMAP_CODE_TOOBIG "TOOBIG" /* a line, literal or command over a size limit */
#define IMAP_CODE_LIMIT "LIMIT"   /* over a count limit: tokens, nesting, ranges */
#define IMAP_CODE_BADCHARSET "BADCHARSET (UTF-8 US-ASCII)"
#define IMAP_CODE_CLIENTBUG "CLIENTBUG" /* valid but pointless: e.g. VANISHED without QRESYNC */
#define IMAP_CODE_CANNOT "CANNOT"

/* What a parser reports when it refuses its input: the response to give,
 * an optional response code (without the brackets, NULL = none) and a short
 * static English reason without CR or LF. For example
 * {IMAP_RESP_NO, "TOOBIG", "message over APPENDLIMIT"}. */
typedef struct imap_error {
    imap_resp resp;
    const char *code;
    const char *text;
} imap_error;

/* RFC 9051 9: ATOM-CHAR = any CHAR (%x01-7F) except atom-specials:
 * "(" ")" "{" SP CTL "%" "*" DQUOTE "\" "]". */
bool imap_is_atom_char(unsigned char c);
/* ASTRING-CHAR = ATOM-CHAR / "]". */
bool imap_is_astring_char(unsigned char c);
/* tag = 1*<any ASTRING-CHAR except "+">. */
bool imap_is_tag_char(unsigned char c);

/* Strict UTF-8 (RFC 3629 4): no overlong forms, no surrogates
 * (U+D800..U+DFFF), nothing over U+10FFFF. NUL is refused too: IMAP never
 * carries it outside literal8. true for len 0. */
bool imap_utf8_valid(const char *s, size_t len);

/* ASCII case-insensitive comparison of s/len with the NUL-terminated lit. */
bool imap_word_eq(const char *s, size_t len, const char *lit);

#endif
