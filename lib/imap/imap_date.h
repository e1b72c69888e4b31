/* imap_date: the two date forms of IMAP (RFC 9051 9).
 *   date      = date-text / DQUOTE date-text DQUOTE     (SEARCH keys)
 *   date-text = date-day "-" date-month "-" date-year   ("1-Feb-1994")
 *   date-time = DQUOTE date-day-fixed "-" date-month "-" date-year
 *               SP time SP zone DQUOTE                   (APPEND, INTERNALDATE)
 * Months are case-insensitive ("feb" is accepted). Times are Unix seconds
 * in the proleptic Gregorian calendar, years 0000..9999.
 */
#ifndef OWNMAIL_IMAP_DATE_H
#define OWNMAIL_IMAP_DATE_H

#include <stddef.h>
#include <stdint.h>

/* "dd-Mon-yyyy hh:mm:ss +zzzz" */
#define IMAP_DATE_TIME_LEN 26

/* date-text (without quotes: the caller took the astring apart): *day_r =
 * the Unix time of 00:00 UTC of that day (what lib/store's date keys want;
 * RFC 9051 6.4.4 compares dates "disregarding time and timezone"). A day
 * the month does not have ("30-Feb-2024") is refused. Returns 0 or -1. */
int imap_date_parse(const char *s, size_t len, int64_t *day_r);

/* date-time without its quotes: *t_r = the Unix time it names (the zone
 * applied). The day may be " 1", "01" or "1". Returns 0 or -1. */
int imap_date_time_parse(const char *s, size_t len, int64_t *t_r);

/* Writes t as a date-time seen in the zone tz_minutes east of UTC
 * (-1439..1439), without quotes: " 1-Feb-1994 21:52:25 -0800" (the day
 * space-padded: date-day-fixed). Returns 0, or -1 for a year outside
 * 0000..9999 or a bad zone (out = ""). */
int imap_date_time_format(int64_t t, int tz_minutes, char out[IMAP_DATE_TIME_LEN + 1]);

#endif
