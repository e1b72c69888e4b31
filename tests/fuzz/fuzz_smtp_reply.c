/* libFuzzer harness for the reply side of lib/smtp. The first octet
 * chooses a cut and a reply code; the rest is
 * - a server's byte stream: the replies (or the error) are the same whole,
 *   cut in two, and one octet at a time; each reply is well-formed, its
 *   EHLO capabilities readable, and when it fits our own limits it formats
 *   and parses back to itself;
 * - reply text for smtp_reply_format: accepted text parses back equal;
 * - an enhanced status code candidate. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "smtp_reply.h"

#define FUZZ_CHECK(cond)                                                                           \
    do {                                                                                           \
        if (!(cond))                                                                               \
            abort();                                                                               \
    } while (0)

#define FUZZ_MAX_INPUT 65536
#define FUZZ_EVENTS_MAX (2 * FUZZ_MAX_INPUT + 1024)

static smtp_reply_parser fuzz_parser, fuzz_parser2;

/* Parses a formatted reply back and compares. */
static void fuzz_roundtrip(unsigned code, const smtp_enhanced *enh, const char *text)
{
    buf b;
    smtp_reply r;
    size_t consumed;
    const char *err = NULL;

    buf_init(&b, 1 << 20);
    if (smtp_reply_format(&b, code, enh, text, &err) == 0) {
        FUZZ_CHECK(b.len > 0 && b.data[b.len - 1] == '\n');
        smtp_reply_parser_init(&fuzz_parser2);
        int rc = smtp_reply_parse(&fuzz_parser2, b.data, b.len, &consumed, &r, &err);
        FUZZ_CHECK(rc == 1 && consumed == b.len);
        FUZZ_CHECK(r.code == code);
        if (enh != NULL && enh->cls != 0) {
            FUZZ_CHECK(r.enhanced.cls == enh->cls && r.enhanced.subject == enh->subject &&
                       r.enhanced.detail == enh->detail);
            FUZZ_CHECK(strcmp(r.text, text) == 0);
        } else if (r.enhanced.cls == 0) {
            FUZZ_CHECK(strcmp(r.text, text) == 0);
        }
    } else {
        FUZZ_CHECK(err != NULL);
    }
    buf_free(&b);
}

static size_t fuzz_event(const smtp_reply *r, char *ev, size_t n)
{
    FUZZ_CHECK(r->code >= 200 && r->code <= 559);
    FUZZ_CHECK(r->lines >= 1 && r->lines <= SMTP_REPLY_LINES_MAX);
    FUZZ_CHECK(r->text_len <= SMTP_REPLY_TEXT_MAX && strlen(r->text) == r->text_len);
    FUZZ_CHECK(r->enhanced.cls == 0 || r->enhanced.cls == r->code / 100);
    for (size_t i = 0; i < r->text_len; i++)
        FUZZ_CHECK(r->text[i] != '\r');
    n += (size_t)snprintf(ev + n, 64, "%u %u.%u.%u %u|", r->code, r->enhanced.cls,
                          r->enhanced.subject, r->enhanced.detail, r->lines);
    memcpy(ev + n, r->text, r->text_len + 1);
    return n + r->text_len + 1;
}

/* Feeds in at cut (0: whole) or octet by octet; returns the event length. */
static size_t fuzz_stream(const char *in, size_t len, size_t cut, int bytewise, char *ev, int deep)
{
    size_t fed = 0, n = 0;

    smtp_reply_parser_init(&fuzz_parser);
    while (fed < len) {
        size_t chunk = bytewise ? 1 : (cut > fed ? cut - fed : len - fed);
        const char *p = in + fed;
        fed += chunk;
        while (chunk > 0) {
            smtp_reply r;
            size_t consumed;
            const char *err = NULL;
            int rc = smtp_reply_parse(&fuzz_parser, p, chunk, &consumed, &r, &err);
            FUZZ_CHECK(consumed <= chunk);
            if (rc < 0) {
                FUZZ_CHECK(err != NULL);
                ev[n++] = 'E';
                return n;
            }
            if (rc == 0) {
                FUZZ_CHECK(consumed == chunk);
            } else {
                n = fuzz_event(&r, ev, n);
                if (deep) {
                    smtp_ehlo_caps caps;
                    int crc = smtp_ehlo_caps_parse(&r, &caps, &err);
                    FUZZ_CHECK(crc == (r.code == 250 ? 0 : -1));
                    FUZZ_CHECK(strlen(caps.mech_names) <= SMTP_EHLO_MECHS_TEXT_MAX);
                    if (caps.mechs != 0)
                        FUZZ_CHECK((caps.caps & SMTP_CAP_AUTH) != 0);
                    fuzz_roundtrip(r.code, &r.enhanced, r.text);
                }
            }
            p += consumed;
            chunk -= consumed;
        }
    }
    return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static char ev1[FUZZ_EVENTS_MAX], ev2[FUZZ_EVENTS_MAX], ev3[FUZZ_EVENTS_MAX];
    static char text[FUZZ_MAX_INPUT + 1];

    if (size == 0 || size > FUZZ_MAX_INPUT)
        return 0;
    const char *in = (const char *)data + 1;
    size_t len = size - 1;
    size_t cut = (size_t)data[0] * len / 255;

    size_t n1 = fuzz_stream(in, len, 0, 0, ev1, 1);
    size_t n2 = fuzz_stream(in, len, cut, 0, ev2, 0);
    FUZZ_CHECK(n1 == n2 && memcmp(ev1, ev2, n1) == 0);
    if (len <= 8192) {
        size_t n3 = fuzz_stream(in, len, 0, 1, ev3, 0);
        FUZZ_CHECK(n1 == n3 && memcmp(ev1, ev3, n1) == 0);
    }

    /* the input as reply text (up to its first NUL) */
    memcpy(text, in, len);
    text[len] = '\0';
    static const unsigned codes[] = {220, 250, 354, 421, 451, 550, 553, 199, 600};
    unsigned code = codes[data[0] % (sizeof(codes) / sizeof(codes[0]))];
    smtp_enhanced enh = {(unsigned char)(code / 100), data[0], (unsigned short)(data[0] * 4)};
    fuzz_roundtrip(code, &enh, text);
    fuzz_roundtrip(code, NULL, text);

    /* enhanced status codes */
    smtp_enhanced e;
    size_t elen = smtp_enhanced_parse(in, len, &e);
    if (elen > 0) {
        char out[SMTP_ENHANCED_TEXT_MAX + 1];
        int flen = smtp_enhanced_format(&e, out);
        FUZZ_CHECK(flen > 0 && (size_t)flen <= elen);
        smtp_enhanced back;
        FUZZ_CHECK(smtp_enhanced_parse(out, (size_t)flen, &back) == (size_t)flen);
        FUZZ_CHECK(back.cls == e.cls && back.subject == e.subject && back.detail == e.detail);
    } else {
        FUZZ_CHECK(e.cls == 0);
    }
    return 0;
}
