/* xtext (RFC 3461 4). */
#include "ascii.h"
#include <string.h>

#include "smtp_int.h"

/* xchar: "!".."~" except "+" and "=". */
static bool smtp_xtext_is_xchar(unsigned char c)
{
    return c >= 33 && c <= 126 && c != '+' && c != '=';
}

static int smtp_xtext_fail(const char **error_r, const char *text, char *out, size_t out_size)
{
    if (out_size > 0)
        out[0] = '\0';
    if (error_r != NULL)
        *error_r = text;
    return -1;
}

int smtp_xtext_decode(const char *in, size_t len, char *out, size_t out_size, size_t *out_len_r,
                      const char **error_r)
{
    return smtp_xtext_decode_utf8(in, len, false, out, out_size, out_len_r, error_r);
}

int smtp_xtext_decode_utf8(const char *in, size_t len, bool utf8_ok, char *out, size_t out_size,
                           size_t *out_len_r, const char **error_r)
{
    size_t n = 0;

    *out_len_r = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)in[i];
        char v;
        if (c == '+') {
            if (len - i < 3)
                return smtp_xtext_fail(error_r, "'+' not followed by two hex digits", out,
                                       out_size);
            int h = ascii_hex_value((unsigned char)in[i + 1]),
                l = ascii_hex_value((unsigned char)in[i + 2]);
            if (h < 0 || l < 0)
                return smtp_xtext_fail(error_r, "'+' not followed by two hex digits", out,
                                       out_size);
            v = (char)(h * 16 + l);
            i += 2;
        } else if (smtp_xtext_is_xchar(c)) {
            v = (char)c;
        } else if (c >= 0x80 && utf8_ok) {
            size_t w = smtp_utf8_len((const unsigned char *)in + i, len - i);
            if (w == 0)
                return smtp_xtext_fail(error_r, "invalid UTF-8 in xtext", out, out_size);
            if (n + w >= out_size)
                return smtp_xtext_fail(error_r, "xtext value too long", out, out_size);
            memcpy(out + n, in + i, w);
            n += w;
            i += w - 1;
            continue;
        } else {
            return smtp_xtext_fail(error_r, "character not allowed in xtext", out, out_size);
        }
        if (n + 1 >= out_size)
            return smtp_xtext_fail(error_r, "xtext value too long", out, out_size);
        out[n++] = v;
    }
    if (out_size == 0)
        return smtp_xtext_fail(error_r, "xtext value too long", out, out_size);
    out[n] = '\0';
    *out_len_r = n;
    return 0;
}

int smtp_xtext_encode(const char *in, size_t len, char *out, size_t out_size, size_t *out_len_r)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t n = 0;

    *out_len_r = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)in[i];
        if (smtp_xtext_is_xchar(c)) {
            if (n + 1 >= out_size)
                return smtp_xtext_fail(NULL, NULL, out, out_size);
            out[n++] = (char)c;
        } else {
            if (n + 3 >= out_size)
                return smtp_xtext_fail(NULL, NULL, out, out_size);
            out[n++] = '+';
            out[n++] = hex[c >> 4];
            out[n++] = hex[c & 15];
        }
    }
    if (out_size == 0)
        return -1;
    out[n] = '\0';
    *out_len_r = n;
    return 0;
}
