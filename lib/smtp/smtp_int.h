/* Internal helpers of lib/smtp: character classes, UTF-8, error setting. */
#ifndef OWNMAIL_SMTP_INT_H
#define OWNMAIL_SMTP_INT_H

#include <stdbool.h>
#include <stddef.h>

#include "smtp_common.h"

static inline bool smtp_is_alpha(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

static inline bool smtp_is_digit(unsigned char c)
{
    return c >= '0' && c <= '9';
}

static inline bool smtp_is_alnum(unsigned char c)
{
    return smtp_is_alpha(c) || smtp_is_digit(c);
}

static inline char smtp_upper(char c)
{
    return c >= 'a' && c <= 'z' ? (char)(c - 'a' + 'A') : c;
}

/* Case-insensitive ASCII comparison of s (len octets) with the
 * NUL-terminated upper-case word. */
static inline bool smtp_word_eq(const char *s, size_t len, const char *word)
{
    size_t i = 0;
    for (; i < len; i++) {
        if (word[i] == '\0' || smtp_upper(s[i]) != word[i])
            return false;
    }
    return word[i] == '\0';
}

/* Length of the well-formed UTF-8 sequence (RFC 3629 4: no overlong forms,
 * surrogates or code points over U+10FFFF) starting a non-ASCII octet at s,
 * n > 0 octets left; 0 when malformed. */
size_t smtp_utf8_len(const unsigned char *s, size_t n);

/* True when all len octets are well-formed UTF-8 (ASCII included). */
bool smtp_utf8_valid(const char *s, size_t len);

/* smtp_xtext_decode, passing well-formed UTF-8 sequences through as they
 * are when utf8_ok (RFC 6531 allows raw UTF-8 in an esmtp-value). */
int smtp_xtext_decode_utf8(const char *in, size_t len, bool utf8_ok, char *out, size_t out_size,
                           size_t *out_len_r, const char **error_r);

/* Sets *e (when e is not NULL) and returns -1. */
static inline int smtp_fail(smtp_error *e, unsigned code, unsigned cls, unsigned subject,
                            unsigned detail, const char *text)
{
    if (e != NULL) {
        e->code = code;
        e->enhanced.cls = (unsigned char)cls;
        e->enhanced.subject = (unsigned short)subject;
        e->enhanced.detail = (unsigned short)detail;
        e->text = text;
    }
    return -1;
}

#endif
