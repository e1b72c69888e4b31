/* imap_write: the string forms of a response (RFC 9051 4.3, 9), appended to
 * a capped buf (lib/util).
 *
 * A string goes out in the lightest form that reads back the same:
 *   atom    (astring only) 1*ASTRING-CHAR, and not "NIL" in any case;
 *   quoted  no NUL, CR or LF, at most IMAP_QUOTED_MAX octets, 7-bit - or
 *           valid UTF-8 when IMAP_WRITE_UTF8 (UTF8=ACCEPT enabled, RFC 6855
 *           3, or IMAP4rev2); "\" and DQUOTE escaped;
 *   literal {n} CRLF octets, for the rest;
 *   literal8 ~{n} CRLF octets, for BINARY data holding a NUL (RFC 3516 4.3).
 * NUL has no string form (RFC 9051 4.3: literals are CHAR8): a string
 * holding one still goes out as a literal, which a strict client refuses -
 * callers must not pass it (BINARY data goes through imap_write_binary).
 * Every function returns 0, or -1 when b hit its cap (b->failed set).
 */
#ifndef OWNMAIL_IMAP_WRITE_H
#define OWNMAIL_IMAP_WRITE_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "imap_seqset.h"

#define IMAP_WRITE_UTF8 (1u << 0)
/* Longer strings go out as literals: a response line stays readable. */
#define IMAP_QUOTED_MAX 1024

int imap_write_astring(buf *b, const char *s, size_t len, unsigned flags);
int imap_write_string(buf *b, const char *s, size_t len, unsigned flags);
/* s NULL: NIL. */
int imap_write_nstring(buf *b, const char *s, size_t len, unsigned flags);
int imap_write_literal(buf *b, const char *s, size_t len);
/* BINARY[...] data: literal8 when it holds a NUL, else a literal. */
int imap_write_binary(buf *b, const char *s, size_t len);
/* INTERNALDATE: DQUOTE date-time DQUOTE (imap_date_time_format). */
int imap_write_date_time(buf *b, int64_t t, int tz_minutes);
/* "1:3,5,7:9" for ascending ranges (ESEARCH ALL, COPYUID, VANISHED). */
int imap_write_ranges(buf *b, const imap_seq_range *ranges, size_t n);

#endif
