#include "jsoncheck.h"

#include <stdbool.h>
#include <string.h>

size_t jsoncheck_utf8_seq(const unsigned char *s, size_t len)
{
    if (len == 0)
        return 0;
    unsigned char c = s[0];
    if (c < 0x80)
        return 1;
    size_t n;
    unsigned cp;
    if (c >= 0xc2 && c <= 0xdf) {
        n = 2;
        cp = c & 0x1f;
    } else if (c >= 0xe0 && c <= 0xef) {
        n = 3;
        cp = c & 0x0f;
    } else if (c >= 0xf0 && c <= 0xf4) {
        n = 4;
        cp = c & 0x07;
    } else {
        return 0; /* continuation byte, C0/C1 overlong lead, or F5..FF */
    }
    if (len < n)
        return 0;
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[i] & 0x3f);
    }
    if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) || cp > 0x10ffff ||
        (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    return n;
}

int jsoncheck_body(const char *s, size_t len, unsigned max_depth, const char **error_r)
{
    const unsigned char *p = (const unsigned char *)s;
    unsigned depth = 0;
    bool in_string = false;
    for (size_t i = 0; i < len;) {
        size_t n = jsoncheck_utf8_seq(p + i, len - i);
        if (n == 0) {
            *error_r = "the body is not UTF-8";
            return -1;
        }
        if (n > 1) {
            i += n;
            continue;
        }
        char c = (char)p[i];
        if (in_string) {
            if (c == '"') {
                in_string = false;
            } else if (c == '\\') {
                if (i + 1 < len && p[i + 1] == 'u' && i + 6 <= len &&
                    memcmp(p + i + 2, "0000", 4) == 0) {
                    *error_r = "a string holds a \\u0000 escape";
                    return -1;
                }
                if (i + 1 < len && p[i + 1] < 0x80)
                    i++; /* skip the escaped character (escapes are ASCII) */
            }
        } else if (c == '"') {
            in_string = true;
        } else if (c == '{' || c == '[') {
            if (++depth > max_depth) {
                *error_r = "the body is nested too deeply";
                return -1;
            }
        } else if ((c == '}' || c == ']') && depth > 0) {
            depth--;
        }
        i++;
    }
    return 0;
}
