/* IMAP dates (RFC 9051 9 date, date-time). */
#include "imap_date.h"
#include "rfc3339.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "imap_common.h"
#include "imap_int.h"

static const char *const date_months[12] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                            "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

#define DATE_DAY 86400

static bool date_leap(int64_t y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int date_mdays(int64_t y, int m)
{
    static const int days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && date_leap(y) ? 29 : days[m - 1];
}

/* The inverse (civil_from_days). */
static void date_civil(int64_t z, int64_t *y_r, int *m_r, int *d_r)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    *d_r = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m_r = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y_r = yoe + era * 400 + (*m_r <= 2);
}

static bool date_digits(const char *s, size_t n, int *v_r)
{
    int v = 0;
    for (size_t i = 0; i < n; i++) {
        if (!imap_is_digit(s[i]))
            return false;
        v = v * 10 + (s[i] - '0');
    }
    *v_r = v;
    return true;
}

/* date-day "-" date-month "-" date-year at s; *used_r octets. The day is
 * 1*2DIGIT, or " " DIGIT when fixed is true. */
static int date_text(const char *s, size_t len, bool fixed, size_t *used_r, int64_t *days_r)
{
    size_t p = 0;
    int d, y;
    if (fixed && len > 0 && s[0] == ' ')
        p = 1;
    size_t q = p;
    while (q < len && q - p < 3 && imap_is_digit(s[q]))
        q++;
    if (q == p || q - p > 2 || (p == 1 && q - p != 1) || !date_digits(s + p, q - p, &d))
        return -1;
    if (len - q < 9 || s[q] != '-' || s[q + 4] != '-')
        return -1;
    int m = 0;
    for (int i = 0; i < 12 && m == 0; i++) {
        if (imap_word_eq(s + q + 1, 3, date_months[i]))
            m = i + 1;
    }
    if (m == 0 || !date_digits(s + q + 5, 4, &y))
        return -1;
    if (d < 1 || d > date_mdays(y, m))
        return -1;
    *used_r = q + 9;
    *days_r = rfc3339_days_from_civil(y, m, d);
    return 0;
}

int imap_date_parse(const char *s, size_t len, int64_t *day_r)
{
    size_t used;
    int64_t days;
    if (date_text(s, len, false, &used, &days) < 0 || used != len)
        return -1;
    *day_r = days * DATE_DAY;
    return 0;
}

int imap_date_time_parse(const char *s, size_t len, int64_t *t_r)
{
    size_t p;
    int64_t days;
    int h, mi, sec, zh, zm;

    /* date SP hh:mm:ss SP (+|-)hhmm */
    if (date_text(s, len, true, &p, &days) < 0 || len - p != 15)
        return -1;
    s += p;
    if (s[0] != ' ' || s[3] != ':' || s[6] != ':' || s[9] != ' ' || (s[10] != '+' && s[10] != '-'))
        return -1;
    if (!date_digits(s + 1, 2, &h) || !date_digits(s + 4, 2, &mi) || !date_digits(s + 7, 2, &sec) ||
        !date_digits(s + 11, 2, &zh) || !date_digits(s + 13, 2, &zm))
        return -1;
    if (h > 23 || mi > 59 || sec > 60 || zm > 59)
        return -1;
    int64_t zone = (int64_t)(zh * 60 + zm) * 60;
    if (s[10] == '-')
        zone = -zone;
    *t_r = days * DATE_DAY + h * 3600 + mi * 60 + sec - zone;
    return 0;
}

int imap_date_time_format(int64_t t, int tz_minutes, char out[IMAP_DATE_TIME_LEN + 1])
{
    out[0] = '\0';
    if (tz_minutes < -1439 || tz_minutes > 1439)
        return -1;
    /* years 0000..9999, with a day of margin for the zone */
    if (t < -62167219200 + DATE_DAY || t > 253402300799 - DATE_DAY)
        return -1;
    int64_t local = t + (int64_t)tz_minutes * 60;
    int64_t days = local >= 0 ? local / DATE_DAY : (local - DATE_DAY + 1) / DATE_DAY;
    int64_t secs = local - days * DATE_DAY;
    int64_t y;
    int m, d;
    date_civil(days, &y, &m, &d);
    int tz = tz_minutes < 0 ? -tz_minutes : tz_minutes;
    /* the fields are in range (year 0..9999): 26 octets; the larger buffer
     * only keeps compilers from counting int widths */
    char text[64];
    int n = snprintf(text, sizeof(text), "%2d-%s-%04d %02d:%02d:%02d %c%02d%02d", d,
                     date_months[m - 1], (int)y, (int)(secs / 3600), (int)(secs / 60 % 60),
                     (int)(secs % 60), tz_minutes < 0 ? '-' : '+', tz / 60, tz % 60);
    if (n != IMAP_DATE_TIME_LEN)
        return -1;
    memcpy(out, text, IMAP_DATE_TIME_LEN + 1);
    return 0;
}
