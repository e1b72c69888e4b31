#include "rfc3339.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

/* Days since 1970-01-01 of a proleptic Gregorian date, and back (Howard
 * Hinnant's days_from_civil and civil_from_days). */
int64_t rfc3339_days_from_civil(int64_t y, int64_t m, int64_t d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

void rfc3339_format(int64_t t, char out[RFC3339_SIZE])
{
    static const int64_t min = -62167219200LL; /* 0000-01-01T00:00:00Z */
    static const int64_t max = 253402300799LL; /* 9999-12-31T23:59:59Z */
    t = t < min ? min : t > max ? max : t;
    int64_t days = t >= 0 ? t / 86400 : (t - 86399) / 86400;
    int secs = (int)(t - days * 86400);
    int64_t z = days + 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    int d = (int)(doy - (153 * mp + 2) / 5 + 1);
    int m = (int)(mp < 10 ? mp + 3 : mp - 9);
    int y = (int)(yoe + era * 400 + (m <= 2));
    snprintf(out, RFC3339_SIZE, "%04d-%02d-%02dT%02d:%02d:%02dZ", y % 10000, m % 100, d % 100,
             secs / 3600 % 100, secs / 60 % 60, secs % 60);
}

static bool rfc3339_digits(const char *s, int n, int *v)
{
    *v = 0;
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        *v = *v * 10 + (s[i] - '0');
    }
    return true;
}

static int rfc3339_mdays(int y, int m)
{
    static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return m == 2 && leap ? 29 : days[m - 1];
}

int rfc3339_parse(const char *s, size_t len, int64_t *t_r)
{
    char b[RFC3339_INPUT_MAX + 1];
    if (len < 20 || len > RFC3339_INPUT_MAX || memchr(s, '\0', len) != NULL)
        return -1;
    memcpy(b, s, len);
    b[len] = '\0';
    int y, mo, d, h, mi, se;
    if (!rfc3339_digits(b, 4, &y) || b[4] != '-' || !rfc3339_digits(b + 5, 2, &mo) || b[7] != '-' ||
        !rfc3339_digits(b + 8, 2, &d) || (b[10] != 'T' && b[10] != 't') ||
        !rfc3339_digits(b + 11, 2, &h) || b[13] != ':' || !rfc3339_digits(b + 14, 2, &mi) ||
        b[16] != ':' || !rfc3339_digits(b + 17, 2, &se))
        return -1;
    if (mo < 1 || mo > 12 || d < 1 || d > rfc3339_mdays(y, mo) || h > 23 || mi > 59 || se > 60)
        return -1;
    const char *p = b + 19;
    if (*p == '.') {
        const char *f = ++p;
        while (*p >= '0' && *p <= '9')
            p++;
        if (p == f)
            return -1;
    }
    int64_t offset = 0;
    if ((p[0] == 'Z' || p[0] == 'z') && p[1] == '\0') {
        offset = 0;
    } else if ((p[0] == '+' || p[0] == '-') && strlen(p) == 6 && p[3] == ':') {
        int oh, om;
        if (!rfc3339_digits(p + 1, 2, &oh) || !rfc3339_digits(p + 4, 2, &om) || oh > 23 || om > 59)
            return -1;
        offset = (p[0] == '+' ? 1 : -1) * (int64_t)(oh * 3600 + om * 60);
    } else {
        return -1;
    }
    *t_r = rfc3339_days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + se - offset;
    return 0;
}
