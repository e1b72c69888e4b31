/* Modified UTF-7 (RFC 3501 5.1.3), strict both ways (see imap_mailbox.h). */
#include <stdint.h>
#include <string.h>

#include "imap_int.h"
#include "imap_mailbox.h"

static const char utf7_b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+,";

static int utf7_value(char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+')
        return 62;
    if (c == ',')
        return 63;
    return -1;
}

typedef struct utf7_out {
    char *p;
    size_t size, len;
    bool full;
} utf7_out;

static void utf7_put(utf7_out *o, char c)
{
    if (o->len + 1 >= o->size) {
        o->full = true;
        return;
    }
    o->p[o->len++] = c;
}

static void utf7_put_utf8(utf7_out *o, uint32_t cp)
{
    if (cp < 0x80) {
        utf7_put(o, (char)cp);
    } else if (cp < 0x800) {
        utf7_put(o, (char)(0xc0 | (cp >> 6)));
        utf7_put(o, (char)(0x80 | (cp & 0x3f)));
    } else if (cp < 0x10000) {
        utf7_put(o, (char)(0xe0 | (cp >> 12)));
        utf7_put(o, (char)(0x80 | ((cp >> 6) & 0x3f)));
        utf7_put(o, (char)(0x80 | (cp & 0x3f)));
    } else {
        utf7_put(o, (char)(0xf0 | (cp >> 18)));
        utf7_put(o, (char)(0x80 | ((cp >> 12) & 0x3f)));
        utf7_put(o, (char)(0x80 | ((cp >> 6) & 0x3f)));
        utf7_put(o, (char)(0x80 | (cp & 0x3f)));
    }
}

static int utf7_done(utf7_out *o, size_t *out_len_r, imap_error *e)
{
    if (o->size > 0)
        o->p[o->full ? 0 : o->len] = '\0';
    if (o->full)
        return IMAP_BAD(e, "mailbox name too long");
    *out_len_r = o->len;
    return 0;
}

static int utf7_fail(utf7_out *o, imap_error *e, const char *text)
{
    if (o->size > 0)
        o->p[0] = '\0';
    return IMAP_BAD(e, text);
}

/* The BASE64 run at in[*p..] up to its "-". */
static int utf7_run(const char *in, size_t len, size_t *p, utf7_out *o, imap_error *e)
{
    uint32_t bits = 0, high = 0;
    unsigned nbits = 0, units = 0;
    size_t q = *p;

    for (; q < len && in[q] != '-'; q++) {
        int v = utf7_value(in[q]);
        if (v < 0)
            return utf7_fail(o, e, "invalid modified UTF-7: bad BASE64 character");
        bits = (bits << 6) | (uint32_t)v;
        nbits += 6;
        if (nbits < 16)
            continue;
        nbits -= 16;
        uint32_t u = (bits >> nbits) & 0xffff;
        bits &= (1u << nbits) - 1;
        units++;
        if (high != 0) {
            if (u < 0xdc00 || u > 0xdfff)
                return utf7_fail(o, e, "invalid modified UTF-7: lone surrogate");
            utf7_put_utf8(o, 0x10000 + ((high - 0xd800) << 10) + (u - 0xdc00));
            high = 0;
        } else if (u >= 0xd800 && u <= 0xdbff) {
            high = u;
        } else if (u >= 0xdc00 && u <= 0xdfff) {
            return utf7_fail(o, e, "invalid modified UTF-7: lone surrogate");
        } else if ((u >= 0x20 && u <= 0x7e) || u == 0) {
            return utf7_fail(o, e, "invalid modified UTF-7: encoded US-ASCII");
        } else {
            utf7_put_utf8(o, u);
        }
    }
    if (q == len)
        return utf7_fail(o, e, "invalid modified UTF-7: unterminated \"&\"");
    if (units == 0 || nbits >= 6 || bits != 0)
        return utf7_fail(o, e, "invalid modified UTF-7: bad bit count");
    if (high != 0)
        return utf7_fail(o, e, "invalid modified UTF-7: lone surrogate");
    *p = q + 1;
    return 0;
}

int imap_utf7_decode(const char *in, size_t len, char *out, size_t out_size, size_t *out_len_r,
                     imap_error *error_r)
{
    utf7_out o = {out, out_size, 0, false};
    bool after_run = false;
    size_t p = 0;

    while (p < len) {
        unsigned char c = (unsigned char)in[p];
        if (c < 0x20 || c > 0x7e)
            return utf7_fail(&o, error_r, "invalid character in mailbox name");
        p++;
        if (c != '&') {
            utf7_put(&o, (char)c);
            after_run = false;
            continue;
        }
        if (p < len && in[p] == '-') {
            utf7_put(&o, '&');
            p++;
            after_run = false;
            continue;
        }
        if (after_run)
            return utf7_fail(&o, error_r, "invalid modified UTF-7: two runs back to back");
        if (utf7_run(in, len, &p, &o, error_r) < 0)
            return -1;
        after_run = true;
    }
    return utf7_done(&o, out_len_r, error_r);
}

/* The next code point of valid UTF-8 at s[*p]. */
static uint32_t utf7_next_cp(const unsigned char *s, size_t *p)
{
    uint32_t c = s[*p];
    size_t n = c < 0x80 ? 0 : c < 0xe0 ? 1 : c < 0xf0 ? 2 : 3;
    uint32_t cp = n == 0 ? c : c & (0x3fu >> n);
    for (size_t k = 1; k <= n; k++)
        cp = (cp << 6) | (s[*p + k] & 0x3f);
    *p += n + 1;
    return cp;
}

static void utf7_bits(utf7_out *o, uint32_t *bits, unsigned *nbits, uint32_t unit)
{
    *bits = (*bits << 16) | unit;
    *nbits += 16;
    while (*nbits >= 6) {
        *nbits -= 6;
        utf7_put(o, utf7_b64[(*bits >> *nbits) & 63]);
    }
    *bits &= (1u << *nbits) - 1;
}

int imap_utf7_encode(const char *in, size_t len, char *out, size_t out_size, size_t *out_len_r,
                     imap_error *error_r)
{
    utf7_out o = {out, out_size, 0, false};
    const unsigned char *s = (const unsigned char *)in;
    bool run = false;
    uint32_t bits = 0;
    unsigned nbits = 0;
    size_t p = 0;

    if (!imap_utf8_valid(in, len))
        return utf7_fail(&o, error_r, "invalid UTF-8 in mailbox name");
    while (p < len) {
        uint32_t cp = utf7_next_cp(s, &p);
        if (cp >= 0x20 && cp <= 0x7e) {
            if (run) {
                if (nbits > 0)
                    utf7_put(&o, utf7_b64[(bits << (6 - nbits)) & 63]);
                utf7_put(&o, '-');
                run = false;
                bits = nbits = 0;
            }
            utf7_put(&o, (char)cp);
            if (cp == '&')
                utf7_put(&o, '-');
            continue;
        }
        if (!run) {
            utf7_put(&o, '&');
            run = true;
        }
        if (cp >= 0x10000) {
            utf7_bits(&o, &bits, &nbits, 0xd800 + ((cp - 0x10000) >> 10));
            utf7_bits(&o, &bits, &nbits, 0xdc00 + ((cp - 0x10000) & 0x3ff));
        } else {
            utf7_bits(&o, &bits, &nbits, cp);
        }
    }
    if (run) {
        if (nbits > 0)
            utf7_put(&o, utf7_b64[(bits << (6 - nbits)) & 63]);
        utf7_put(&o, '-');
    }
    return utf7_done(&o, out_len_r, error_r);
}
