/* libFuzzer harness for mailbox names and response strings
 * (lib/imap/imap_mailbox.h, imap_write.h). The first octet chooses the
 * mode and a cut; the rest is used as:
 * - modified UTF-7 to decode: when it decodes, encoding gives back the
 *   input exactly (the decoder admits one spelling per name);
 * - UTF-8 to encode: when it is valid, decoding gives it back;
 * - a LIST pattern and a name (cut in two): the match must be consistent
 *   ("*" matches all, a name without wildcards matches itself);
 * - a string to write as astring / string: the command reader must read
 *   the same octets back. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "imap_mailbox.h"
#include "imap_reader.h"
#include "imap_write.h"

#define FUZZ_CHECK(cond)                                                                           \
    do {                                                                                           \
        if (!(cond))                                                                               \
            abort();                                                                               \
    } while (0)

#define FUZZ_MAX_INPUT 4096

static char fuzz_out[5 * FUZZ_MAX_INPUT + 1], fuzz_back[5 * FUZZ_MAX_INPUT + 1];

static void fuzz_utf7(const char *in, size_t len)
{
    size_t out_len, back_len;
    imap_error err;

    if (imap_utf7_decode(in, len, fuzz_out, sizeof(fuzz_out), &out_len, &err) == 0) {
        FUZZ_CHECK(strlen(fuzz_out) == out_len && imap_utf8_valid(fuzz_out, out_len));
        FUZZ_CHECK(imap_utf7_encode(fuzz_out, out_len, fuzz_back, sizeof(fuzz_back), &back_len,
                                    &err) == 0);
        FUZZ_CHECK(back_len == len && memcmp(fuzz_back, in, len) == 0);
    } else {
        FUZZ_CHECK(err.text != NULL && fuzz_out[0] == '\0');
    }
    if (imap_utf7_encode(in, len, fuzz_out, 5 * len + 1, &out_len, &err) == 0) {
        FUZZ_CHECK(imap_utf8_valid(in, len));
        for (size_t i = 0; i < out_len; i++)
            FUZZ_CHECK(fuzz_out[i] >= 0x20 && fuzz_out[i] <= 0x7e);
        FUZZ_CHECK(imap_utf7_decode(fuzz_out, out_len, fuzz_back, sizeof(fuzz_back), &back_len,
                                    &err) == 0);
        FUZZ_CHECK(back_len == len && memcmp(fuzz_back, in, len) == 0);
    } else {
        FUZZ_CHECK(!imap_utf8_valid(in, len));
    }
    char name[IMAP_MAILBOX_MAX + 1];
    for (int utf8 = 0; utf8 <= 1; utf8++) {
        if (imap_mailbox_decode(in, len, utf8, name, &out_len, &err) == 0) {
            FUZZ_CHECK(out_len <= IMAP_MAILBOX_MAX && strlen(name) == out_len);
            FUZZ_CHECK(imap_utf8_valid(name, out_len));
        }
    }
}

static bool fuzz_has_wildcard(const char *s, size_t len)
{
    return memchr(s, '*', len) != NULL || memchr(s, '%', len) != NULL;
}

static void fuzz_list(const char *pattern, size_t plen, const char *name, size_t nlen)
{
    unsigned m = imap_list_match(pattern, plen, name, nlen);
    FUZZ_CHECK((m & ~3u) == 0);
    FUZZ_CHECK(imap_list_match("*", 1, name, nlen) == (IMAP_LIST_MATCH | IMAP_LIST_CHILDREN));
    if (!fuzz_has_wildcard(name, nlen) && nlen <= IMAP_LIST_PATTERN_MAX)
        FUZZ_CHECK(imap_list_match(name, nlen, name, nlen) & IMAP_LIST_MATCH);
    /* whatever matches "name" also matches "name*" */
    if ((m & IMAP_LIST_MATCH) && plen < IMAP_LIST_PATTERN_MAX) {
        static char star[IMAP_LIST_PATTERN_MAX + 1];
        memcpy(star, pattern, plen);
        star[plen] = '*';
        FUZZ_CHECK(imap_list_match(star, plen + 1, name, nlen) & IMAP_LIST_MATCH);
    }
    /* a match of the name plus "/x" means its children may match */
    if (nlen + 2 <= FUZZ_MAX_INPUT) {
        static char child[FUZZ_MAX_INPUT + 2];
        memcpy(child, name, nlen);
        memcpy(child + nlen, "/x", 2);
        if (imap_list_match(pattern, plen, child, nlen + 2) & IMAP_LIST_MATCH)
            FUZZ_CHECK(m & IMAP_LIST_CHILDREN);
    }
}

/* Writes s as an astring or a string, reads it back as "a X <it>". */
static void fuzz_write(const char *s, size_t len, unsigned flags, bool astring)
{
    if (memchr(s, '\0', len) != NULL)
        return;
    buf b;
    buf_init(&b, 4 * FUZZ_MAX_INPUT);
    buf_append_str(&b, "a X ");
    int rc = astring ? imap_write_astring(&b, s, len, flags) : imap_write_string(&b, s, len, flags);
    FUZZ_CHECK(rc == 0);
    buf_append_str(&b, "\r\n");
    imap_reader r;
    imap_command cmd;
    imap_error err;
    size_t off = 0, consumed;
    imap_reader_init(&r, NULL);
    do {
        rc = imap_reader_next(&r, b.data + off, b.len - off, &consumed, &cmd, &err);
        off += consumed;
    } while (rc == IMAP_READ_CONTINUE);
    FUZZ_CHECK(rc == IMAP_READ_COMMAND && off == b.len && cmd.nargs == 1);
    const char *got;
    size_t got_len;
    FUZZ_CHECK(astring ? imap_arg_astring(&cmd.args[0], &got, &got_len)
                       : imap_arg_string(&cmd.args[0], &got, &got_len));
    FUZZ_CHECK(got_len == len && memcmp(got, s, len) == 0);
    imap_reader_free(&r);
    buf_free(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0 || size > FUZZ_MAX_INPUT)
        return 0;
    const char *in = (const char *)data + 1;
    size_t len = size - 1;
    size_t cut = (size_t)data[0] * len / 255;

    fuzz_utf7(in, len);
    fuzz_list(in, cut, in + cut, len - cut);
    fuzz_write(in, len, data[0] & 1, (data[0] & 2) != 0);
    return 0;
}
