/* libFuzzer harness for the pure parts of the POP3 worker
 * (workers/pop3/pop3_parse.c, pop3_dot.c). The first octet chooses a cut
 * and TOP's line count; the rest is used as:
 * - a command line: the result is OK or one of the errors with a one-line
 *   text; an OK line fits RFC 2449's 255 octets, its arguments point inside
 *   it and hold no NUL, CR or LF, and a message number formats back to a
 *   line that parses to the same command;
 * - a message for the byte-stuffing writer: whole, cut in two, and one octet
 *   at a time give the same output; the output is CRLF lines, none of them
 *   a lone "." but the last; for RETR, unstuffing it gives the input with
 *   every bare LF as CRLF (and a CRLF at the end when it had none). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "pop3_dot.h"
#include "pop3_parse.h"

#define FUZZ_CHECK(cond)                                                                           \
    do {                                                                                           \
        if (!(cond))                                                                               \
            abort();                                                                               \
    } while (0)

#define FUZZ_MAX_INPUT 65536
#define FUZZ_OUT_MAX (4 * FUZZ_MAX_INPUT + 16)

static void fuzz_inside(const char *line, size_t len, const char *p, size_t n)
{
    FUZZ_CHECK(p >= line && p + n <= line + len);
    FUZZ_CHECK(memchr(p, '\0', n) == NULL && memchr(p, '\r', n) == NULL &&
               memchr(p, '\n', n) == NULL);
}

static void fuzz_command(const char *line, size_t len)
{
    pop3_command cmd;
    const char *err = NULL;
    pop3_parse_result rc = pop3_parse(line, len, &cmd, &err);
    if (rc != POP3_PARSE_OK) {
        FUZZ_CHECK(rc >= POP3_PARSE_NUMBER && rc <= POP3_PARSE_TOO_LONG);
        FUZZ_CHECK(err != NULL && err[0] != '\0' && strpbrk(err, "\r\n") == NULL);
        FUZZ_CHECK(rc != POP3_PARSE_TOO_LONG || len + 2 > POP3_LINE_MAX);
        FUZZ_CHECK(rc != POP3_PARSE_UNKNOWN || cmd.verb == POP3_CMD_UNKNOWN);
        return;
    }
    FUZZ_CHECK(len + 2 <= POP3_LINE_MAX);
    FUZZ_CHECK(cmd.verb != POP3_CMD_UNKNOWN);
    FUZZ_CHECK(pop3_verb_name(cmd.verb)[0] != '\0');
    if (cmd.arg != NULL)
        fuzz_inside(line, len, cmd.arg, cmd.arg_len);
    if (cmd.ir != NULL)
        fuzz_inside(line, len, cmd.ir, cmd.ir_len);
    switch (cmd.verb) {
    case POP3_CMD_PASS:
        FUZZ_CHECK(cmd.arg_len > 0 && cmd.arg + cmd.arg_len == line + len);
        break;
    case POP3_CMD_USER:
        FUZZ_CHECK(cmd.arg_len > 0 && memchr(cmd.arg, ' ', cmd.arg_len) == NULL);
        break;
    case POP3_CMD_AUTH:
        FUZZ_CHECK(cmd.ir == NULL || cmd.arg != NULL);
        break;
    case POP3_CMD_RETR:
    case POP3_CMD_DELE:
    case POP3_CMD_TOP:
        FUZZ_CHECK(cmd.has_msg);
        /* fall through */
    case POP3_CMD_LIST:
    case POP3_CMD_UIDL: {
        FUZZ_CHECK(cmd.arg == NULL && cmd.ir == NULL);
        char again[64];
        int n = cmd.verb == POP3_CMD_TOP
                    ? snprintf(again, sizeof again, "TOP %u %u", cmd.msg, cmd.lines)
                : cmd.has_msg
                    ? snprintf(again, sizeof again, "%s %u", pop3_verb_name(cmd.verb), cmd.msg)
                    : snprintf(again, sizeof again, "%s", pop3_verb_name(cmd.verb));
        pop3_command c2;
        FUZZ_CHECK(pop3_parse(again, (size_t)n, &c2, NULL) == POP3_PARSE_OK);
        FUZZ_CHECK(c2.verb == cmd.verb && c2.has_msg == cmd.has_msg && c2.msg == cmd.msg &&
                   c2.lines == cmd.lines);
        break;
    }
    default:
        FUZZ_CHECK(!cmd.has_msg && cmd.arg == NULL && cmd.ir == NULL);
        break;
    }
}

/* The writer over in[0..len) in pieces of `piece` octets (0: whole), or cut
 * once at `cut` (piece 0, cut > 0). */
static void fuzz_dot_run(const char *in, size_t len, uint64_t lines, size_t piece, size_t cut,
                         buf *out)
{
    pop3_dot d;
    pop3_dot_init(&d, lines);
    if (piece == 0 && cut > 0 && cut < len) {
        FUZZ_CHECK(pop3_dot_write(&d, in, cut, out) == 0);
        FUZZ_CHECK(pop3_dot_write(&d, in + cut, len - cut, out) == 0);
    } else {
        for (size_t off = 0; off < len && !pop3_dot_done(&d);) {
            size_t n = piece == 0 || piece > len - off ? len - off : piece;
            FUZZ_CHECK(pop3_dot_write(&d, in + off, n, out) == 0);
            off += n;
        }
    }
    FUZZ_CHECK(pop3_dot_finish(&d, out) == 0);
}

/* out is CRLF lines ending in ".\r\n" with no other lone "."; for RETR the
 * unstuffed lines equal the input with bare LFs made CRLF. */
static void fuzz_dot_check(const char *in, size_t len, const buf *out, bool retr)
{
    static char back[FUZZ_OUT_MAX];
    size_t blen = 0, i = 0;
    FUZZ_CHECK(out->len >= 3 && memcmp(out->data + out->len - 3, ".\r\n", 3) == 0);
    for (;;) {
        const char *p = out->data + i;
        const char *lf = memchr(p, '\n', out->len - i);
        FUZZ_CHECK(lf != NULL);
        size_t n = (size_t)(lf - p);
        FUZZ_CHECK(n >= 1 && p[n - 1] == '\r');
        n--; /* without the CR */
        if (n == 1 && p[0] == '.') {
            FUZZ_CHECK(i + 3 == out->len);
            break;
        }
        if (n > 0 && p[0] == '.') {
            FUZZ_CHECK(n >= 2 && p[1] == '.'); /* every line starting with "." is stuffed */
            p++;
            n--;
        }
        memcpy(back + blen, p, n);
        blen += n;
        memcpy(back + blen, "\r\n", 2);
        blen += 2;
        i = (size_t)(lf - out->data) + 1;
    }
    if (!retr)
        return;
    /* the input with every LF preceded by a CR, and a line end at the end */
    static char want[FUZZ_OUT_MAX];
    size_t wlen = 0;
    for (size_t k = 0; k < len; k++) {
        if (in[k] == '\n' && (k == 0 || in[k - 1] != '\r'))
            want[wlen++] = '\r';
        want[wlen++] = in[k];
    }
    if (len > 0 && in[len - 1] != '\n') {
        if (in[len - 1] != '\r')
            want[wlen++] = '\r';
        want[wlen++] = '\n';
    }
    FUZZ_CHECK(blen == wlen && memcmp(back, want, wlen) == 0);
}

static void fuzz_dot(const char *in, size_t len, uint8_t sel)
{
    static buf a, b, c;
    static int ready;
    if (!ready) {
        buf_init(&a, FUZZ_OUT_MAX);
        buf_init(&b, FUZZ_OUT_MAX);
        buf_init(&c, FUZZ_OUT_MAX);
        ready = 1;
    }
    uint64_t lines = (sel & 0x80) ? POP3_DOT_ALL : (uint64_t)(sel & 0x0f);
    size_t cut = (size_t)sel * len / 255;
    buf_reset(&a);
    buf_reset(&b);
    buf_reset(&c);
    fuzz_dot_run(in, len, lines, 0, 0, &a);
    fuzz_dot_run(in, len, lines, 0, cut, &b);
    FUZZ_CHECK(a.len == b.len && memcmp(a.data, b.data, a.len) == 0);
    if (len <= 4096) {
        fuzz_dot_run(in, len, lines, 1, 0, &c);
        FUZZ_CHECK(a.len == c.len && memcmp(a.data, c.data, a.len) == 0);
    }
    fuzz_dot_check(in, len, &a, lines == POP3_DOT_ALL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0 || size > FUZZ_MAX_INPUT)
        return 0;
    const char *in = (const char *)data + 1;
    size_t len = size - 1;
    fuzz_command(in, len);
    /* every line of the input as a command, as the connection splits them */
    for (size_t start = 0; start < len;) {
        const char *lf = memchr(in + start, '\n', len - start);
        size_t end = lf != NULL ? (size_t)(lf - in) : len;
        size_t n = end - start;
        if (n > 0 && in[start + n - 1] == '\r')
            n--;
        fuzz_command(in + start, n);
        start = end + 1;
    }
    fuzz_dot(in, len, data[0]);
    return 0;
}
