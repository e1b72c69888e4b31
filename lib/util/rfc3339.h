/* rfc3339: timestamps as the api writes and reads them (RFC 3339 section 5.6).
 * Pure. */
#ifndef OWNMAIL_RFC3339_H
#define OWNMAIL_RFC3339_H

#include <stddef.h>
#include <stdint.h>

#define RFC3339_SIZE 32      /* room for what rfc3339_format writes */
#define RFC3339_INPUT_MAX 64 /* longest text rfc3339_parse looks at */

/* "2026-11-25T16:00:00Z" for a Unix time (years 0000-9999; others clamp). */
void rfc3339_format(int64_t t, char out[RFC3339_SIZE]);

/* Parses "YYYY-MM-DDTHH:MM:SS" with optional fractional seconds (dropped) and
 * a "Z" or "+hh:mm"/"-hh:mm" offset, into a Unix time. Field ranges are
 * checked (month 1-12, day within the month, hour 0-23, minute 0-59, second
 * 0-60). 0, or -1 for anything else. */
int rfc3339_parse(const char *s, size_t len, int64_t *t_r);

/* Days since 1970-01-01 of the proleptic Gregorian date y-m-d (m 1..12,
 * d 1..31; Howard Hinnant's days_from_civil). Pure. Every date parser of
 * the project (RFC 3339 here, RFC 5322 Date:, IMAP dates) uses this one. */
int64_t rfc3339_days_from_civil(int64_t y, int64_t m, int64_t d);

#endif
