/* Enhanced mail system status codes (RFC 3463 2). */
#include <stdio.h>
#include <string.h>

#include "smtp_int.h"

int smtp_enhanced_format(const smtp_enhanced *e, char out[SMTP_ENHANCED_TEXT_MAX + 1])
{
    out[0] = '\0';
    if ((e->cls != 2 && e->cls != 4 && e->cls != 5) || e->subject > 999 || e->detail > 999)
        return -1;
    int n = snprintf(out, SMTP_ENHANCED_TEXT_MAX + 1, "%u.%u.%u", (unsigned)e->cls,
                     (unsigned)e->subject, (unsigned)e->detail);
    if (n < 0 || n > SMTP_ENHANCED_TEXT_MAX) {
        out[0] = '\0';
        return -1;
    }
    return n;
}

/* 1*3DIGIT at s[*i]: the value, or -1. */
static int smtp_enhanced_number(const char *s, size_t len, size_t *i)
{
    int v = 0;
    size_t start = *i;

    while (*i < len && *i - start < 3 && smtp_is_digit((unsigned char)s[*i]))
        v = v * 10 + (s[(*i)++] - '0');
    if (*i == start || (*i < len && smtp_is_digit((unsigned char)s[*i])))
        return -1;
    return v;
}

size_t smtp_enhanced_parse(const char *s, size_t len, smtp_enhanced *e_r)
{
    size_t i;
    int subject, detail;

    memset(e_r, 0, sizeof(*e_r));
    if (len < 5 || (s[0] != '2' && s[0] != '4' && s[0] != '5') || s[1] != '.')
        return 0;
    i = 2;
    if ((subject = smtp_enhanced_number(s, len, &i)) < 0 || i >= len || s[i] != '.')
        return 0;
    i++;
    if ((detail = smtp_enhanced_number(s, len, &i)) < 0)
        return 0;
    if (i < len && s[i] != ' ')
        return 0;
    e_r->cls = (unsigned char)(s[0] - '0');
    e_r->subject = (unsigned short)subject;
    e_r->detail = (unsigned short)detail;
    return i;
}
