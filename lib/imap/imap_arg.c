/* Character classes (RFC 9051 9), strict UTF-8, and the accessors of an
 * argument of the command tree. */
#include "imap_arg.h"

#include <string.h>

#include "imap_int.h"

bool imap_is_atom_char(unsigned char c)
{
    if (c <= 0x20 || c >= 0x7f)
        return false; /* CTL, SP, 8-bit */
    return strchr("(){%*\"\\]", c) == NULL;
}

bool imap_is_astring_char(unsigned char c)
{
    return c == ']' || imap_is_atom_char(c);
}

bool imap_is_tag_char(unsigned char c)
{
    return c != '+' && imap_is_astring_char(c);
}

bool imap_utf8_valid(const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;

    while (i < len) {
        unsigned c = p[i];
        if (c == 0)
            return false;
        if (c < 0x80) {
            i++;
            continue;
        }
        size_t n;
        unsigned cp, min;
        if (c >= 0xc2 && c <= 0xdf)
            n = 1, cp = c & 0x1f, min = 0x80;
        else if (c >= 0xe0 && c <= 0xef)
            n = 2, cp = c & 0x0f, min = 0x800;
        else if (c >= 0xf0 && c <= 0xf4)
            n = 3, cp = c & 0x07, min = 0x10000;
        else
            return false; /* continuation octet, C0/C1 overlong lead, > U+10FFFF */
        if (len - i <= n)
            return false;
        for (size_t k = 1; k <= n; k++) {
            if ((p[i + k] & 0xc0) != 0x80)
                return false;
            cp = (cp << 6) | (p[i + k] & 0x3f);
        }
        if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
            return false;
        i += n + 1;
    }
    return true;
}

bool imap_word_eq(const char *s, size_t len, const char *lit)
{
    size_t n = strlen(lit);
    if (len != n)
        return false;
    for (size_t i = 0; i < n; i++) {
        if (imap_upper(s[i]) != imap_upper(lit[i]))
            return false;
    }
    return true;
}

bool imap_arg_atom_eq(const imap_arg *a, const char *word)
{
    return (a->type == IMAP_ARG_ATOM || a->type == IMAP_ARG_NIL) &&
           imap_word_eq(a->str, a->len, word);
}

static bool imap_all(const char *s, size_t len, bool (*ok)(unsigned char))
{
    if (len == 0)
        return false;
    for (size_t i = 0; i < len; i++) {
        if (!ok((unsigned char)s[i]))
            return false;
    }
    return true;
}

bool imap_arg_atom_strict(const imap_arg *a)
{
    return (a->type == IMAP_ARG_ATOM || a->type == IMAP_ARG_NIL) &&
           imap_all(a->str, a->len, imap_is_atom_char);
}

bool imap_arg_string(const imap_arg *a, const char **s_r, size_t *len_r)
{
    if (a->type != IMAP_ARG_QUOTED && a->type != IMAP_ARG_LITERAL)
        return false;
    *s_r = a->str;
    *len_r = a->len;
    return true;
}

bool imap_arg_astring(const imap_arg *a, const char **s_r, size_t *len_r)
{
    if (a->type == IMAP_ARG_ATOM || a->type == IMAP_ARG_NIL) {
        if (!imap_all(a->str, a->len, imap_is_astring_char))
            return false;
        *s_r = a->str;
        *len_r = a->len;
        return true;
    }
    return imap_arg_string(a, s_r, len_r);
}

bool imap_arg_nstring(const imap_arg *a, const char **s_r, size_t *len_r)
{
    if (a->type == IMAP_ARG_NIL) {
        *s_r = NULL;
        *len_r = 0;
        return true;
    }
    return imap_arg_string(a, s_r, len_r);
}

static bool imap_is_list_char(unsigned char c)
{
    return c == '%' || c == '*' || imap_is_astring_char(c);
}

bool imap_arg_list_mailbox(const imap_arg *a, const char **s_r, size_t *len_r)
{
    if (a->type == IMAP_ARG_ATOM || a->type == IMAP_ARG_NIL) {
        if (!imap_all(a->str, a->len, imap_is_list_char))
            return false;
        *s_r = a->str;
        *len_r = a->len;
        return true;
    }
    return imap_arg_string(a, s_r, len_r);
}

bool imap_parse_number(const char *s, size_t len, uint64_t max, uint64_t *n_r)
{
    uint64_t n = 0;

    if (len == 0)
        return false;
    for (size_t i = 0; i < len; i++) {
        if (!imap_is_digit(s[i]))
            return false;
        unsigned d = (unsigned)(s[i] - '0');
        if (n > (max - d) / 10)
            return false;
        n = n * 10 + d;
    }
    *n_r = n;
    return true;
}

bool imap_parse_nz_number(const char *s, size_t len, uint64_t max, uint64_t *n_r)
{
    if (len == 0 || s[0] == '0')
        return false;
    return imap_parse_number(s, len, max, n_r);
}

bool imap_arg_number(const imap_arg *a, uint32_t *n_r)
{
    uint64_t n;
    if (a->type != IMAP_ARG_ATOM || !imap_parse_number(a->str, a->len, IMAP_NUMBER_MAX, &n))
        return false;
    *n_r = (uint32_t)n;
    return true;
}

bool imap_arg_number64(const imap_arg *a, uint64_t *n_r)
{
    return a->type == IMAP_ARG_ATOM && imap_parse_number(a->str, a->len, IMAP_NUMBER64_MAX, n_r);
}
