/* smtp_path: the reverse-path and forward-path of MAIL and RCPT, and the
 * Domain / address-literal of EHLO, parsed exactly per RFC 5321 4.1.2 and
 * 4.1.3, with RFC 6531 3.3 UTF-8 (reported, not judged: the command parser
 * decides whether SMTPUTF8 is in force).
 *
 * Nothing here decides policy. The flags of smtp_path tell the server what
 * it needs to refuse relay tricks - a source route (RFC 5321 4.1.1.3, C),
 * "%" (the RFC 1123 5.2.16 hack) and "!" (UUCP bang paths) in the local
 * part - and domains are not IDNA-checked: the server runs lib/names
 * (names_domain_normalize) on them before any lookup.
 */
#ifndef OWNMAIL_SMTP_PATH_H
#define OWNMAIL_SMTP_PATH_H

#include <stdbool.h>
#include <stddef.h>

#include "smtp_common.h"

typedef enum smtp_literal {
    SMTP_LITERAL_NONE = 0, /* a domain name */
    SMTP_LITERAL_IPV4,     /* "[192.0.2.1]" */
    SMTP_LITERAL_IPV6,     /* "[IPv6:2001:db8::1]" */
} smtp_literal;

/* A Domain or an address literal, as written. */
typedef struct smtp_domain {
    char name[SMTP_DOMAIN_MAX + 1]; /* a literal keeps its brackets and tag */
    smtp_literal literal;
    unsigned char addr[16]; /* a literal's address, network order (IPv4: first 4) */
    bool utf8;              /* a label is a U-label candidate (non-ASCII octets) */
} smtp_domain;

typedef enum smtp_path_kind {
    /* MAIL FROM: Reverse-path = Path / "<>"; errors are 5.1.7 (sender). */
    SMTP_PATH_REVERSE,
    /* RCPT TO: Forward-path, or "<Postmaster>" without a domain (RFC 5321
     * 4.1.1.3, 4.5.1); errors are 5.1.3 (recipient). */
    SMTP_PATH_FORWARD,
} smtp_path_kind;

typedef struct smtp_path {
    bool null;       /* "<>" (reverse-path only) */
    bool postmaster; /* "<Postmaster>" (any case), no domain: domain.name = "" */
    /* The local part decoded: a Quoted-string without its quotes and
     * backslashes. Octets 0x20..0x7e, or UTF-8 when utf8 is set; never
     * CR, LF or NUL. "" for null. */
    char local[SMTP_LOCAL_MAX + 1];
    size_t local_len;
    smtp_domain domain;
    bool quoted;       /* the local part was written as a Quoted-string */
    bool source_route; /* an A-d-l ("@a,@b:") preceded the mailbox: it was dropped */
    bool has_percent;  /* '%' in the local part */
    bool has_bang;     /* '!' in the local part */
    bool utf8;         /* non-ASCII octets in the local part or the domain */
} smtp_path;

/* Parses a path at the start of s: "<" [A-d-l ":"] Mailbox ">", or "<>"
 * (SMTP_PATH_REVERSE) or "<Postmaster>" (SMTP_PATH_FORWARD).
 *
 * Mailbox = Local-part "@" (Domain / address-literal) where Local-part is
 * a Dot-string or a Quoted-string. Domain is sub-domain *("." sub-domain),
 * each an LDH label (letter or digit first and last) or, for RFC 6531, a
 * label holding non-ASCII octets that are well-formed UTF-8 (U-label
 * validity is lib/names' business). No trailing dot. Address literals are
 * "[" Snum 3("." Snum) "]" or "[IPv6:" IPv6-addr "]" (tag in any case);
 * General-address-literal is refused, no other tag being registered.
 * Non-ASCII octets, when well-formed UTF-8, are accepted in atext, qtext
 * and labels, and reported by path_r->utf8.
 *
 * Limits: local part <= SMTP_LOCAL_MAX as written, domain <=
 * SMTP_DOMAIN_MAX, whole path <= SMTP_PATH_MAX.
 *
 * Returns 1 with *path_r filled and *consumed_r = octets up to and
 * including ">", or -1 with *error_r (553 5.1.7 / 553 5.1.3 for syntax,
 * 501 5.1.7 / 501 5.1.3 "path too long" per RFC 5321 4.5.3.1.10) and
 * *path_r zeroed. Text after ">" is the caller's. */
int smtp_path_parse(const char *s, size_t len, smtp_path_kind kind, smtp_path *path_r,
                    size_t *consumed_r, smtp_error *error_r);

/* Parses the whole of s as a Domain or, when literal_ok, an address literal
 * (EHLO: RFC 5321 4.1.1.1). ASCII only: UTF-8 is refused (RFC 6531 gives
 * EHLO no U-labels). Returns 1 or -1 with *error_r (501 5.5.4). */
int smtp_path_parse_domain(const char *s, size_t len, bool literal_ok, smtp_domain *domain_r,
                           smtp_error *error_r);

/* Writes a path in canonical form to out (out_size octets with the NUL;
 * SMTP_PATH_MAX + 1 always suffices for a parsed path): "<>",
 * "<Postmaster>", or "<" local "@" domain ">" with the local part quoted
 * only when it is not a Dot-string (RFC 5321 4.1.2 SHOULD). The source
 * route is not written. Returns the length, or -1 when it does not fit. */
int smtp_path_format(const smtp_path *path, char *out, size_t out_size);

#endif
