/* imap_mailbox: mailbox names on the wire and LIST patterns.
 *
 * Modified UTF-7 (RFC 3501 5.1.3), the IMAP4rev1 form: printable US-ASCII
 * (0x20..0x7e) stands for itself except "&", which is "&-"; everything else
 * is "&" + modified BASE64 (RFC 2045 with "," for "/", no padding) of its
 * UTF-16 + "-". The decoder is strict, so that a name has one spelling and
 * decoding then encoding gives the input back: refused are octets outside
 * 0x20..0x7e, an unterminated "&", a BASE64 character outside the set, an
 * encoded printable US-ASCII character ("&AGE-" for "a"), an encoded
 * U+0000, leftover bits that are not zero or make a whole BASE64 character
 * (the "odd bit counts": "&AOkA-"), a lone or reversed surrogate, an empty
 * "&...-", and two encoded runs back to back ("&AOk-&AOk-": the encoder
 * makes one run "&AOkA6Q-").
 *
 * With UTF8=ACCEPT enabled (RFC 6855 3) or in IMAP4rev2 (RFC 9051 5.1),
 * names travel as UTF-8 and are not mUTF-7 decoded: "&" is just "&".
 *
 * Names inside the server are UTF-8 with "/" as the hierarchy delimiter,
 * the first component "INBOX" in upper case (RFC 9051 5.1: INBOX is
 * case-insensitive), as lib/store keeps them.
 */
#ifndef OWNMAIL_IMAP_MAILBOX_H
#define OWNMAIL_IMAP_MAILBOX_H

#include <stdbool.h>
#include <stddef.h>

#include "imap_common.h"

/* Octets of a mailbox name in UTF-8 (= STORE_NAME_MAX). */
#define IMAP_MAILBOX_MAX 1024
/* Octets of a LIST pattern (reference and mailbox joined). */
#define IMAP_LIST_PATTERN_MAX 1024
/* The hierarchy delimiter. */
#define IMAP_DELIMITER '/'

/* mUTF-7 in, UTF-8 out (out_size octets, room for a NUL included).
 * Returns 0 with *out_len_r, or -1 with *error_r (BAD; "too long" when out
 * is too small); out = "" on failure. */
int imap_utf7_decode(const char *in, size_t len, char *out, size_t out_size, size_t *out_len_r,
                     imap_error *error_r);

/* UTF-8 in (strict, no NUL), mUTF-7 out. 5 * len + 1 octets always
 * suffice. Returns 0 with *out_len_r, or -1 with *error_r. */
int imap_utf7_encode(const char *in, size_t len, char *out, size_t out_size, size_t *out_len_r,
                     imap_error *error_r);

/* The mailbox argument of a command into the UTF-8 name: mUTF-7 decoded,
 * or (utf8 true: UTF8=ACCEPT / IMAP4rev2) checked as strict UTF-8; then the
 * INBOX rule. At most IMAP_MAILBOX_MAX octets (BAD otherwise). out holds
 * IMAP_MAILBOX_MAX + 1. Returns 0 or -1 with *error_r. */
int imap_mailbox_decode(const char *s, size_t len, bool utf8, char out[IMAP_MAILBOX_MAX + 1],
                        size_t *out_len_r, imap_error *error_r);

/* A UTF-8 name for a response: mUTF-7 encoded unless utf8. out_size octets
 * (5 * len + 1 suffice). Returns 0 or -1. */
int imap_mailbox_encode(const char *name, size_t len, bool utf8, char *out, size_t out_size,
                        size_t *out_len_r, imap_error *error_r);

/* Upper-cases a first component equal to "INBOX" in any case ("inbox/a"
 * becomes "INBOX/a"; "inboxes" stays). */
void imap_mailbox_inbox(char *name, size_t len);

/* imap_list_match results (bits) */
#define IMAP_LIST_MATCH 1u    /* name matches */
#define IMAP_LIST_CHILDREN 2u /* a name below it ("name/...") may match */

/* LIST pattern matching (RFC 9051 6.3.9): "*" matches any octets, "%" any
 * but the delimiter, anything else itself - case-insensitively where name
 * is INBOX or under it (its first five octets). pattern and name are UTF-8
 * (decode both first). A pattern longer than IMAP_LIST_PATTERN_MAX matches
 * nothing (refuse it with BAD before). Time is O(len(name) * len(pattern)). */
unsigned imap_list_match(const char *pattern, size_t plen, const char *name, size_t nlen);

#endif
