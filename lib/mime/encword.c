/* RFC 2047 encoded words ("=?charset?B?...?=") in unstructured header text,
 * and the RFC 2231 percent encoding of extended parameter values. */
#include "ascii.h"
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mime_int.h"

#define EW_CHARSET_MAX 64
/* RFC 2047 2 caps a word at 75 characters; longer ones are tolerated up to
 * this, which also keeps the search for "?=" linear. */
#define EW_TEXT_MAX 1024

typedef struct encoded_word {
    char charset[EW_CHARSET_MAX];
    char enc; /* 'B' or 'Q' */
    size_t text_off, text_len;
    size_t end; /* just after "?=" */
} encoded_word;

/* RFC 2047 2: encoded-word = "=?" charset "?" encoding "?" encoded-text "?=",
 * with no white space inside. RFC 2231 5 allows "charset*language". */
static bool ew_parse(const char *in, size_t len, size_t i, encoded_word *w)
{
    if (len - i < 8 || in[i] != '=' || in[i + 1] != '?')
        return false;
    size_t p = i + 2, n = 0;
    while (p < len && in[p] != '?' && n + 1 < EW_CHARSET_MAX) {
        if ((unsigned char)in[p] <= ' ' || (unsigned char)in[p] >= 127)
            return false;
        w->charset[n++] = in[p++];
    }
    w->charset[n] = '\0';
    if (n == 0 || p + 2 >= len || in[p] != '?' || in[p + 2] != '?')
        return false;
    char *star = strchr(w->charset, '*');
    if (star != NULL)
        *star = '\0';
    char e = in[p + 1];
    if (e == 'b' || e == 'B')
        w->enc = 'B';
    else if (e == 'q' || e == 'Q')
        w->enc = 'Q';
    else
        return false;
    p += 3;
    w->text_off = p;
    while (p < len && !(in[p] == '?' && p + 1 < len && in[p + 1] == '=')) {
        if ((unsigned char)in[p] <= ' ' || p - w->text_off > EW_TEXT_MAX)
            return false;
        p++;
    }
    if (p >= len)
        return false;
    w->text_len = p - w->text_off;
    w->end = p + 2;
    return true;
}

/* Decoded bytes of consecutive words in one charset are converted together,
 * so a character split across two words survives. */
typedef struct ew_pending {
    buf bytes;
    char charset[EW_CHARSET_MAX];
} ew_pending;

static int pending_flush(buf *out, ew_pending *pd)
{
    int r = 0;
    if (pd->bytes.len > 0)
        r = mime_charset_append(out, pd->charset, pd->bytes.data, pd->bytes.len);
    buf_reset(&pd->bytes);
    pd->charset[0] = '\0';
    return r;
}

static int pending_add(buf *out, ew_pending *pd, const char *in, const encoded_word *w)
{
    if (pd->bytes.len > 0 && !mime_strieq(pd->charset, w->charset) && pending_flush(out, pd) < 0)
        return -1;
    memcpy(pd->charset, w->charset, sizeof(pd->charset));
    if (w->enc == 'B')
        return mime_base64_append(&pd->bytes, in + w->text_off, w->text_len);
    return mime_qp_append(&pd->bytes, in + w->text_off, w->text_len, true);
}

/* RFC 2047 6.2: white space between two adjacent encoded words is ignored. */
static size_t skip_between(const char *in, size_t len, size_t i)
{
    size_t j = i;
    while (j < len && (MIME_IS_WSP(in[j]) || in[j] == '\r' || in[j] == '\n'))
        j++;
    return j;
}

int mime_2047_append(buf *out, const char *in, size_t len)
{
    ew_pending pd;
    buf_init(&pd.bytes, len + 1); /* decoded bytes never outgrow the input */
    pd.charset[0] = '\0';
    size_t i = 0;
    int r = 0;
    while (i < len && r == 0) {
        encoded_word w;
        if (ew_parse(in, len, i, &w)) {
            r = pending_add(out, &pd, in, &w);
            size_t j = skip_between(in, len, w.end);
            encoded_word next;
            if (j < len && j > w.end && ew_parse(in, len, j, &next))
                i = j;
            else
                i = w.end;
            continue;
        }
        if (pending_flush(out, &pd) < 0) {
            r = -1;
            break;
        }
        size_t run = i + 1;
        while (run < len && !(in[run] == '=' && run + 1 < len && in[run + 1] == '?'))
            run++;
        r = mime_utf8_fix_append(out, in + i, run - i);
        i = run;
    }
    if (r == 0)
        r = pending_flush(out, &pd);
    buf_free(&pd.bytes);
    return r;
}

char *mime_decode_header(const char *in, size_t len, size_t max)
{
    buf b;
    buf_init(&b, SIZE_MAX - 1);
    if (mime_2047_append(&b, in, len) < 0 || buf_append(&b, "", 0) < 0) {
        buf_free(&b);
        return NULL;
    }
    if (b.len > max) {
        size_t n = max;
        while (n > 0 && ((unsigned char)b.data[n] & 0xc0) == 0x80)
            n--;
        b.data[n] = '\0';
        b.len = n;
    }
    return buf_steal(&b);
}

/* RFC 2231 4: "%" 2HEXDIG is an octet; a malformed escape is kept as is. */
int mime_pct_append(buf *out, const char *in, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        char c = in[i];
        if (c == '%' && i + 2 < len) {
            int hi = ascii_hex_value((unsigned char)in[i + 1]),
                lo = ascii_hex_value((unsigned char)in[i + 2]);
            if (hi >= 0 && lo >= 0) {
                c = (char)(hi * 16 + lo);
                i += 2;
            }
        }
        if (buf_append_char(out, c) < 0)
            return -1;
    }
    return 0;
}
