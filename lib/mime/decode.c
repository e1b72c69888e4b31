/* Content transfer decoders: base64 (RFC 2045 6.8) and quoted-printable
 * (RFC 2045 6.7, RFC 2047 4.2 "Q"). Both are lenient: characters outside
 * the alphabet are skipped, malformed escapes are kept literally. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ascii.h"
#include "mime_int.h"

static int b64_value(unsigned char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+')
        return 62;
    if (c == '/')
        return 63;
    return -1;
}

/* RFC 2045 6.8: characters not in the alphabet (line breaks, white space,
 * garbage) are ignored; '=' ends the data. A trailing incomplete group
 * yields the whole bytes it holds. */
int mime_base64_append(buf *out, const char *in, size_t len)
{
    unsigned char chunk[512];
    size_t n = 0;
    uint32_t acc = 0;
    int bits = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)in[i];
        if (c == '=')
            break;
        int v = b64_value(c);
        if (v < 0)
            continue;
        acc = (acc << 6) | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            chunk[n++] = (unsigned char)(acc >> bits);
            acc &= (1u << bits) - 1;
            if (n == sizeof(chunk)) {
                if (buf_append(out, chunk, n) < 0)
                    return -1;
                n = 0;
            }
        }
    }
    return n > 0 ? buf_append(out, chunk, n) : 0;
}

/* In a body, "=" at the end of a line (after optional trailing white space)
 * is a soft line break; white space at the end of a line was added in
 * transport and is dropped (RFC 2045 6.7 rule 3). With header_q, '_' is a
 * space (RFC 2047 4.2). */
int mime_qp_append(buf *out, const char *in, size_t len, bool header_q)
{
    size_t i = 0;
    while (i < len) {
        size_t run = i;
        while (i < len && in[i] != '=' && in[i] != '\n' && in[i] != '\r' && in[i] != ' ' &&
               in[i] != '\t' && !(header_q && in[i] == '_'))
            i++;
        if (i > run && buf_append(out, in + run, i - run) < 0)
            return -1;
        if (i >= len)
            break;
        char c = in[i];
        if (c == '_') {
            if (buf_append_char(out, ' ') < 0)
                return -1;
            i++;
        } else if (c == ' ' || c == '\t') {
            size_t w = i;
            while (w < len && (in[w] == ' ' || in[w] == '\t'))
                w++;
            bool eol = w >= len || in[w] == '\n' || in[w] == '\r';
            if (!eol || header_q) {
                if (buf_append(out, in + i, w - i) < 0)
                    return -1;
            }
            i = w;
        } else if (c == '\r' || c == '\n') {
            size_t w = i + 1;
            if (c == '\r' && w < len && in[w] == '\n')
                w++;
            if (buf_append(out, "\r\n", 2) < 0)
                return -1;
            i = w;
        } else { /* '=' */
            int hi = i + 1 < len ? ascii_hex_value((unsigned char)in[i + 1]) : -1;
            int lo = i + 2 < len ? ascii_hex_value((unsigned char)in[i + 2]) : -1;
            if (hi >= 0 && lo >= 0) {
                if (buf_append_char(out, (char)(hi * 16 + lo)) < 0)
                    return -1;
                i += 3;
                continue;
            }
            size_t w = i + 1;
            while (w < len && (in[w] == ' ' || in[w] == '\t'))
                w++;
            if (w >= len || in[w] == '\n' || in[w] == '\r') { /* soft line break */
                if (w < len && in[w] == '\r')
                    w++;
                if (w < len && in[w] == '\n')
                    w++;
                i = w;
                continue;
            }
            if (buf_append_char(out, '=') < 0) /* malformed: kept literally */
                return -1;
            i++;
        }
    }
    return 0;
}

/* Wraps an appender for the public decoders: output cut at max. */
static int decode_public(int (*fn)(buf *, const char *, size_t, bool), bool q, const char *in,
                         size_t len, size_t max, char **out_r, size_t *len_r)
{
    buf b;
    /* decoded output is never longer than the input (CRLF for a bare LF
     * aside: at most twice), so a cap of 2*len+1 only fails on OOM */
    size_t cap = len < SIZE_MAX / 2 - 1 ? 2 * len + 1 : SIZE_MAX - 1;
    buf_init(&b, cap);
    *out_r = NULL;
    *len_r = 0;
    if (fn(&b, in, len, q) < 0 || buf_append(&b, "", 0) < 0) {
        buf_free(&b);
        return -1;
    }
    if (b.len > max) {
        b.len = max;
        b.data[max] = '\0';
    }
    *len_r = b.len;
    *out_r = buf_steal(&b);
    return *out_r != NULL ? 0 : -1;
}

static int b64_adapter(buf *out, const char *in, size_t len, bool q)
{
    (void)q;
    return mime_base64_append(out, in, len);
}

int mime_base64_decode(const char *in, size_t len, size_t max, char **out_r, size_t *len_r)
{
    return decode_public(b64_adapter, false, in, len, max, out_r, len_r);
}

int mime_qp_decode(const char *in, size_t len, bool header_q, size_t max, char **out_r,
                   size_t *len_r)
{
    return decode_public(mime_qp_append, header_q, in, len, max, out_r, len_r);
}
