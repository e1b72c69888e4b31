/* names: pure validation and normalization of domain names, local parts and
 * mail addresses (no I/O, no allocation visible to the caller).
 *
 * Every function takes (pointer, length) input, so embedded NUL bytes are
 * seen and refused instead of silently truncating. On failure *error_r (when
 * error_r is not NULL) points to a short static English message such as
 * "label longer than 63 octets", fit for an API "errors" entry.
 *
 * Forms:
 * - Domains are stored and compared in lowercase A-label form (RFC 5890
 *   2.3.2.1), "xn--bcher-kva.example"; names_domain_to_unicode() gives the
 *   display form.
 * - Hosted local parts (users, aliases) are lowercase ASCII dot-atoms.
 * - Outside target addresses may carry an RFC 6531 UTF-8 local part, kept
 *   byte for byte (its case is the remote system's business, RFC 5321 2.4).
 */
#ifndef OWNMAIL_NAMES_H
#define OWNMAIL_NAMES_H

#include <stdbool.h>
#include <stddef.h>

/* RFC 1035 2.3.4: 255 octets on the wire = 253 in text without the root dot. */
#define NAMES_DOMAIN_MAX 253
/* RFC 1035 2.3.4 */
#define NAMES_LABEL_MAX 63
/* Longest U-label form a NAMES_DOMAIN_MAX A-label name can decode to: every
 * non-ASCII code point costs at least one octet of Punycode (RFC 3492) and at
 * most four of UTF-8. Size display buffers NAMES_DOMAIN_UNICODE_MAX + 1. */
#define NAMES_DOMAIN_UNICODE_MAX (4 * NAMES_DOMAIN_MAX)
/* Longest input accepted before conversion: a U-label name longer than this
 * cannot convert to NAMES_DOMAIN_MAX octets. */
#define NAMES_DOMAIN_INPUT_MAX (NAMES_DOMAIN_UNICODE_MAX + 1)
/* RFC 5321 4.5.3.1.1 */
#define NAMES_LOCAL_MAX 64
/* RFC 5321 4.5.3.1.3: a path is at most 256 octets including "<" and ">". */
#define NAMES_ADDRESS_MAX 254
/* Longest address input accepted before conversion of its domain. */
#define NAMES_ADDRESS_INPUT_MAX (NAMES_LOCAL_MAX + 1 + NAMES_DOMAIN_INPUT_MAX)
/* Admin usernames. */
#define NAMES_USERNAME_MAX 64

/* The catch-all alias local part: "*@example.com". */
#define NAMES_CATCHALL "*"

/* names_address_parse() flags. */
typedef enum {
    /* A hosted mailbox or alias: ASCII dot-atom, lowercased. "*" refused. */
    NAMES_LOCAL_ASCII_LOWER = 0,
    /* An outside target: the local part may be UTF-8 (RFC 6531 3.3) and is
     * kept as given, case included. "*" is a valid (if odd) local part. */
    NAMES_LOCAL_UTF8_KEEP = 1 << 0,
    /* With NAMES_LOCAL_ASCII_LOWER: accept "*" as the catch-all local part. */
    NAMES_LOCAL_CATCHALL_OK = 1 << 1,
} names_flags;

typedef struct names_address {
    char local[NAMES_LOCAL_MAX + 1];
    char domain[NAMES_DOMAIN_MAX + 1]; /* lowercase A-labels */
} names_address;

/* Converts a domain name given as U-labels or A-labels (IDNA2008 via libidn2,
 * NFC input, UTS #46 non-transitional mapping) to lowercase A-label form.
 *
 * Refused: empty input, embedded NUL, invalid UTF-8, empty labels ("a..b",
 * ".a"), a label over 63 octets or a name over 253 octets after conversion,
 * characters other than letters, digits and '-' after conversion (RFC 952/1123
 * LDH: mail domains are host names, so no '_' or spaces), a label beginning or
 * ending with '-', "--" in positions 3-4 of a label other than a valid A-label
 * (RFC 5891 4.2.3.1), a single-label name (hosted mail domains are FQDNs), and
 * an all-numeric top-level label (so "1.2.3.4" is never taken for a name).
 *
 * A single trailing dot ("example.com.", the DNS root) is accepted and dropped
 * because people paste names from zone files; two are refused.
 *
 * Returns 0 with out set, or -1 with *error_r set and out = "". */
int names_domain_normalize(const char *in, size_t len, char out[NAMES_DOMAIN_MAX + 1],
                           const char **error_r);

/* Display form of a normalized A-label name. Returns 0 when out holds the
 * Unicode form, 1 when the conversion failed or did not fit and out holds a
 * copy of the A-label, -1 when not even the A-label fits (out = "" if
 * outsz > 0). */
int names_domain_to_unicode(const char *alabel, char *out, size_t outsz);

/* Normalizes the local part of a hosted mailbox or alias: an RFC 5322 3.2.3
 * dot-atom of ASCII atext, 1..64 octets, no leading, trailing or double dot,
 * lowercased. '%' and '!' are refused although they are atext: they are the
 * old relay tricks (RFC 1123 5.2.16 "%" hack, UUCP bang paths) and a hosted
 * name has no need of them. '/' is refused too: a hosted local part is a
 * path segment of the REST API. "*" alone is refused: it names the catch-all;
 * test names_local_is_catchall() first where that is meant.
 * Returns 0 or -1 with *error_r. */
int names_local_normalize(const char *in, size_t len, char out[NAMES_LOCAL_MAX + 1],
                          const char **error_r);

/* True when local (NUL-terminated) is the catch-all "*". */
bool names_local_is_catchall(const char *local);

/* Parses "local@domain", splitting at the last '@'. The domain goes through
 * names_domain_normalize() except that a trailing dot is refused (RFC 5321
 * 4.1.2 Domain has none) and address literals ("[192.0.2.1]") are refused.
 * The local part follows flags (see names_flags).
 *
 * Deliberately refused, being relay tricks and not addresses a hosted
 * platform should accept or forward to: quoted local parts (RFC 5321
 * 4.1.2 Quoted-string), source routes ("@a:b@c", RFC 5321 4.1.2 / Appendix
 * C), '%' routing ("a%b@c") and '!' bang paths ("b!a@c").
 *
 * The total, local "@" A-label domain, is at most 254 octets.
 * Returns 0 with r filled, or -1 with *error_r (r zeroed). */
int names_address_parse(const char *in, size_t len, names_flags flags, names_address *r,
                        const char **error_r);

/* Writes "local@domain" to out. Returns 0, or -1 if it would exceed
 * NAMES_ADDRESS_MAX (cannot happen for a parsed address). */
int names_address_format(const names_address *a, char out[NAMES_ADDRESS_MAX + 1]);

/* Admin usernames: 1..64 of [A-Za-z0-9._@+-]. */
bool names_username_valid(const char *s, size_t len);

#endif
