/* Response strings (see imap_write.h). */
#include "imap_write.h"

#include <inttypes.h>
#include <string.h>

#include "imap_common.h"
#include "imap_date.h"
#include "imap_int.h"

static bool write_quotable(const char *s, size_t len, unsigned flags)
{
    bool eight = false;
    if (len > IMAP_QUOTED_MAX)
        return false;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == 0 || c == '\r' || c == '\n')
            return false;
        if (c >= 0x80)
            eight = true;
    }
    if (!eight)
        return true;
    return (flags & IMAP_WRITE_UTF8) && imap_utf8_valid(s, len);
}

static int write_quoted(buf *b, const char *s, size_t len)
{
    if (buf_append_char(b, '"') < 0)
        return -1;
    size_t start = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] != '"' && s[i] != '\\')
            continue;
        if (buf_append(b, s + start, i - start) < 0 || buf_append_char(b, '\\') < 0)
            return -1;
        start = i;
    }
    if (buf_append(b, s + start, len - start) < 0 || buf_append_char(b, '"') < 0)
        return -1;
    return 0;
}

int imap_write_literal(buf *b, const char *s, size_t len)
{
    if (buf_printf(b, "{%zu}\r\n", len) < 0 || buf_append(b, s, len) < 0)
        return -1;
    return 0;
}

int imap_write_string(buf *b, const char *s, size_t len, unsigned flags)
{
    if (write_quotable(s, len, flags))
        return write_quoted(b, s, len);
    return imap_write_literal(b, s, len);
}

int imap_write_astring(buf *b, const char *s, size_t len, unsigned flags)
{
    bool atom = len > 0 && !imap_word_eq(s, len, "NIL");
    for (size_t i = 0; atom && i < len; i++)
        atom = imap_is_astring_char((unsigned char)s[i]);
    if (atom)
        return buf_append(b, s, len);
    return imap_write_string(b, s, len, flags);
}

int imap_write_nstring(buf *b, const char *s, size_t len, unsigned flags)
{
    if (s == NULL)
        return buf_append_str(b, "NIL");
    return imap_write_string(b, s, len, flags);
}

int imap_write_binary(buf *b, const char *s, size_t len)
{
    if (memchr(s, '\0', len) == NULL)
        return imap_write_literal(b, s, len);
    if (buf_printf(b, "~{%zu}\r\n", len) < 0 || buf_append(b, s, len) < 0)
        return -1;
    return 0;
}

int imap_write_date_time(buf *b, int64_t t, int tz_minutes)
{
    char text[IMAP_DATE_TIME_LEN + 1];
    if (imap_date_time_format(t, tz_minutes, text) < 0)
        imap_date_time_format(0, 0, text); /* 1-Jan-1970: never an invalid response */
    return buf_printf(b, "\"%s\"", text);
}

int imap_write_ranges(buf *b, const imap_seq_range *ranges, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        const char *sep = i > 0 ? "," : "";
        int rc =
            ranges[i].first == ranges[i].last
                ? buf_printf(b, "%s%" PRIu32, sep, ranges[i].first)
                : buf_printf(b, "%s%" PRIu32 ":%" PRIu32, sep, ranges[i].first, ranges[i].last);
        if (rc < 0)
            return -1;
    }
    return 0;
}
