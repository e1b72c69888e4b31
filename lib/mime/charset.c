/* Charsets to UTF-8 with glibc's iconv. Invalid input never fails: a byte
 * that does not convert becomes U+FFFD, an unknown charset falls back to
 * "UTF-8 where valid, ISO-8859-1 elsewhere" (what mislabelled mail needs). */
#include <errno.h>
#include <iconv.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mime_int.h"

#define CHARSET_NAME_MAX 64
static const char replacement[] = "\xef\xbf\xbd"; /* U+FFFD */

/* Length of the valid UTF-8 sequence at s (RFC 3629), or 0. */
static size_t utf8_seq(const unsigned char *s, size_t len)
{
    unsigned char c = s[0];
    if (c < 0x80)
        return 1;
    size_t n;
    uint32_t min, cp;
    if (c >= 0xc2 && c <= 0xdf) {
        n = 2, min = 0x80, cp = c & 0x1f;
    } else if (c >= 0xe0 && c <= 0xef) {
        n = 3, min = 0x800, cp = c & 0x0f;
    } else if (c >= 0xf0 && c <= 0xf4) {
        n = 4, min = 0x10000, cp = c & 0x07;
    } else {
        return 0;
    }
    if (len < n)
        return 0;
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[i] & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    return n;
}

bool mime_utf8_valid(const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s;
    for (size_t i = 0; i < len;) {
        size_t n = utf8_seq(p + i, len - i);
        if (n == 0)
            return false;
        i += n;
    }
    return true;
}

int mime_utf8_fix_append(buf *out, const char *in, size_t len)
{
    const unsigned char *p = (const unsigned char *)in;
    size_t i = 0;
    while (i < len) {
        size_t run = i;
        size_t n;
        while (i < len && (n = utf8_seq(p + i, len - i)) > 0)
            i += n;
        if (i > run && buf_append(out, in + run, i - run) < 0)
            return -1;
        if (i < len) { /* ISO-8859-1: U+0080..U+00FF */
            char two[2] = {(char)(0xc0 | (p[i] >> 6)), (char)(0x80 | (p[i] & 0x3f))};
            if (buf_append(out, two, 2) < 0)
                return -1;
            i++;
        }
    }
    return 0;
}

/* A charset label iconv may see: a plain name, no "//" options. Some
 * labels seen in mail that glibc does not know are mapped. */
static bool charset_name(const char *cs, char *name, size_t size)
{
    while (MIME_IS_WSP(*cs) || *cs == '"')
        cs++;
    size_t n = 0;
    for (; *cs != '\0' && *cs != '"' && !MIME_IS_WSP(*cs); cs++) {
        char c = *cs;
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '-' || c == '_' || c == '.' || c == ':' || c == '+';
        if (!ok || n + 1 >= size)
            return false;
        name[n++] = c;
    }
    name[n] = '\0';
    if (n == 0)
        return false;
    static const char *const aliases[][2] = {
        {"ks_c_5601-1987", "CP949"},    {"x-sjis", "SHIFT_JIS"},
        {"iso-8859-8-i", "ISO-8859-8"}, {"x-gbk", "GBK"},
        {"gb2312", "GB18030"},          {"unicode-1-1-utf-7", "UTF-7"},
        {"x-unknown", "ISO-8859-1"},    {"unknown-8bit", "ISO-8859-1"},
    };
    for (size_t i = 0; i < sizeof(aliases) / sizeof(aliases[0]); i++)
        if (mime_strieq(name, aliases[i][0])) {
            strcpy(name, aliases[i][1]);
            break;
        }
    return true;
}

static bool is_utf8_or_ascii(const char *name)
{
    return mime_strieq(name, "utf-8") || mime_strieq(name, "utf8") ||
           mime_strieq(name, "us-ascii") || mime_strieq(name, "ascii") ||
           mime_strieq(name, "ansi_x3.4-1968");
}

static int iconv_run(buf *out, iconv_t cd, const char *in, size_t len)
{
    char chunk[4096];
    char *ip = (char *)in;
    size_t ileft = len;
    while (ileft > 0) {
        char *op = chunk;
        size_t oleft = sizeof(chunk);
        size_t r = iconv(cd, &ip, &ileft, &op, &oleft);
        int err = errno;
        if (op > chunk && buf_append(out, chunk, (size_t)(op - chunk)) < 0)
            return -1;
        if (r != (size_t)-1)
            break;
        if (err == E2BIG)
            continue;
        /* EILSEQ: an invalid byte; EINVAL: truncated at the end */
        if (buf_append(out, replacement, 3) < 0)
            return -1;
        if (err != EILSEQ)
            break;
        ip++;
        ileft--;
        iconv(cd, NULL, NULL, NULL, NULL);
    }
    /* flush a stateful encoding's final shift sequence */
    char *op = chunk;
    size_t oleft = sizeof(chunk);
    iconv(cd, NULL, NULL, &op, &oleft);
    if (op > chunk && buf_append(out, chunk, (size_t)(op - chunk)) < 0)
        return -1;
    return 0;
}

int mime_charset_append(buf *out, const char *charset, const char *in, size_t len)
{
    char name[CHARSET_NAME_MAX];
    if (charset == NULL || !charset_name(charset, name, sizeof(name)) || is_utf8_or_ascii(name))
        return mime_utf8_fix_append(out, in, len);
    iconv_t cd = iconv_open("UTF-8", name);
    if (cd == (iconv_t)-1)
        return mime_utf8_fix_append(out, in, len);
    int r = iconv_run(out, cd, in, len);
    iconv_close(cd);
    return r;
}

char *mime_charset_to_utf8(const char *charset, const char *in, size_t len, size_t max,
                           size_t *len_r)
{
    buf b;
    buf_init(&b, SIZE_MAX - 1);
    if (mime_charset_append(&b, charset, in, len) < 0 || buf_append(&b, "", 0) < 0) {
        buf_free(&b);
        return NULL;
    }
    /* cut at max, on a character boundary */
    size_t n = b.len;
    if (n > max) {
        n = max;
        while (n > 0 && ((unsigned char)b.data[n] & 0xc0) == 0x80)
            n--;
        b.data[n] = '\0';
        b.len = n;
    }
    if (len_r != NULL)
        *len_r = n;
    return buf_steal(&b);
}
