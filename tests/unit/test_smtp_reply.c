/* Table-driven tests of lib/smtp replies: the client's parser, EHLO
 * capabilities, the server's formatter, enhanced status codes and xtext. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "smtp_reply.h"

static void put(char *out, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void put(char *out, size_t size, const char *fmt, ...)
{
    size_t n = strlen(out);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(out + n, size - n, fmt, ap);
    va_end(ap);
}

/* ---- parser ------------------------------------------------------------- */

/* A row: a byte stream and the events it must give, whatever the cuts:
 * "code enh text;" per reply (enh "-" when absent, LF in text as '|'),
 * "E:reason;" for an error (which ends the stream). */
typedef struct {
    const char *in;
    size_t len;
    const char *want;
} reply_row;

static const reply_row reply_rows[] = {
    /* single line */
    {"220 mail.example.com ESMTP ready\r\n", 0, "220 - mail.example.com ESMTP ready;"},
    {"250 2.1.0 Ok\r\n", 0, "250 2.1.0 Ok;"},
    {"421 4.3.2 Service shutting down\r\n", 0, "421 4.3.2 Service shutting down;"},
    {"250\r\n", 0, "250 - ;"},
    {"250 \r\n", 0, "250 - ;"},
    {"250 2.0.0\r\n", 0, "250 2.0.0 ;"},
    {"334 VXNlcm5hbWU6\r\n", 0, "334 - VXNlcm5hbWU6;"},
    {"354 End data with <CR><LF>.<CR><LF>\r\n", 0, "354 - End data with <CR><LF>.<CR><LF>;"},
    {"250 a\tb\r\n", 0, "250 - a\tb;"},
    {"250 caf\xc3\xa9\r\n", 0, "250 - caf\xc3\xa9;"},
    {"250  two spaces\r\n", 0, "250 -  two spaces;"},
    {"250 ok\n", 0, "250 - ok;"}, /* bare LF: accepted from servers */
    /* enhanced codes (RFC 3463, RFC 2034) */
    {"250 5.0.0 odd\r\n", 0, "250 - 5.0.0 odd;"}, /* class differs: plain text */
    {"250 2.1.10 x\r\n", 0, "250 2.1.10 x;"},
    {"250 2.999.999 x\r\n", 0, "250 2.999.999 x;"},
    {"250 2.1000.0 x\r\n", 0, "250 - 2.1000.0 x;"},
    {"250 2.1.5x ok\r\n", 0, "250 - 2.1.5x ok;"},
    {"250 2.1 ok\r\n", 0, "250 - 2.1 ok;"},
    {"250 2..5 ok\r\n", 0, "250 - 2..5 ok;"},
    {"550 5.7.1\r\n", 0, "550 5.7.1 ;"},
    /* multi-line */
    {"250-mail.example.com\r\n250-PIPELINING\r\n250 SIZE 1000\r\n", 0,
     "250 - mail.example.com|PIPELINING|SIZE 1000;"},
    {"550-5.7.1 first\r\n550-5.7.1 second\r\n550 5.7.1 third\r\n", 0,
     "550 5.7.1 first|second|third;"},
    {"250-2.0.0 a\r\n250 b\r\n", 0, "250 2.0.0 a|b;"},
    {"250-a\r\n250 2.0.0 b\r\n", 0, "250 - a|2.0.0 b;"},
    {"250-\r\n250 x\r\n", 0, "250 - |x;"},
    {"250-a\r\n250-b\n250 c\r\n", 0, "250 - a|b|c;"},
    /* pipelined replies come one at a time */
    {"250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n354 go\r\n", 0, "250 2.1.0 Ok;250 2.1.5 Ok;354 - go;"},
    {"250-a\r\n250 b\r\n550 5.1.1 no\r\n", 0, "250 - a|b;550 5.1.1 no;"},
    /* incomplete */
    {"250-first\r\n250 sec", 0, ""},
    {"250 2.1.5 Ok\r\nGARBAGE", 0, "250 2.1.5 Ok;"},
    {"250 ok\r", 0, ""},
    /* malformed */
    {"25 ok\r\n", 0, "E:without a code;"},
    {"\r\n", 0, "E:without a code;"},
    {"abc ok\r\n", 0, "E:without a code;"},
    {"2500 ok\r\n", 0, "E:after the reply code;"},
    {"250_ok\r\n", 0, "E:after the reply code;"},
    {"199 x\r\n", 0, "E:invalid reply code;"},
    {"600 x\r\n", 0, "E:invalid reply code;"},
    {"260 x\r\n", 0, "E:invalid reply code;"},
    {"099 x\r\n", 0, "E:invalid reply code;"},
    {"250-a\r\n251 b\r\n", 0, "E:code changed;"},
    {"250 a\rb\r\n", 0, "E:control;"},
    {"250 a\r\r\n", 0, "E:control;"},
    {"250 a\0b\r\n", 9, "E:control;"},
    {"250 a\x7f\r\n", 0, "E:control;"},
    {"250 ok\r\n25x\r\n250 fine\r\n", 0, "250 - ok;E:without a code;"},
};

static void event_reply(const smtp_reply *r, char *ev, size_t size)
{
    char enh[SMTP_ENHANCED_TEXT_MAX + 1];
    if (r->enhanced.cls == 0)
        snprintf(enh, sizeof(enh), "-");
    else
        assert_true(smtp_enhanced_format(&r->enhanced, enh) > 0);
    put(ev, size, "%u %s ", r->code, enh);
    assert_int_equal(strlen(r->text), r->text_len);
    for (size_t i = 0; i < r->text_len; i++)
        put(ev, size, "%c", r->text[i] == '\n' ? '|' : r->text[i]);
    put(ev, size, ";");
}

/* Feeds in cut at the given points (increasing, 0 ends the list). */
static void run_replies(const char *in, size_t len, const size_t *cuts, char *ev, size_t size)
{
    static smtp_reply_parser p;
    size_t fed = 0;

    smtp_reply_parser_init(&p);
    ev[0] = '\0';
    for (size_t c = 0; fed < len || c == 0; c++) {
        size_t upto = cuts[c] != 0 && cuts[c] < len ? cuts[c] : len;
        const char *chunk = in + fed;
        size_t clen = upto - fed;
        fed = upto;
        while (clen > 0) {
            smtp_reply r;
            size_t consumed;
            const char *err = NULL;
            int rc = smtp_reply_parse(&p, chunk, clen, &consumed, &r, &err);
            assert_true(consumed <= clen);
            if (rc < 0) {
                put(ev, size, "E:%s;", err);
                return;
            }
            if (rc > 0)
                event_reply(&r, ev, size);
            else
                assert_int_equal(consumed, clen);
            chunk += consumed;
            clen -= consumed;
        }
        if (fed == len)
            break;
    }
}

static bool events_match(const char *got, const char *want)
{
    /* "E:x;" in want matches an error whose reason contains x */
    const char *e = strstr(want, "E:");
    if (e == NULL)
        return strcmp(got, want) == 0;
    size_t prefix = (size_t)(e - want);
    if (strncmp(got, want, prefix) != 0 || strncmp(got + prefix, "E:", 2) != 0)
        return false;
    char needle[128];
    snprintf(needle, sizeof(needle), "%.*s", (int)(strlen(e + 2) - 1), e + 2);
    return strstr(got + prefix, needle) != NULL;
}

static void test_reply_rows(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(reply_rows) / sizeof(reply_rows[0]); i++) {
        const reply_row *r = &reply_rows[i];
        size_t len = r->len != 0 ? r->len : strlen(r->in);
        char ev[1024];
        size_t cuts[256];

        cuts[0] = 0;
        run_replies(r->in, len, cuts, ev, sizeof(ev));
        if (!events_match(ev, r->want))
            fail_msg("reply row %zu: got \"%s\", wanted \"%s\"", i, ev, r->want);
        for (size_t at = 1; at < len; at++) {
            cuts[0] = at;
            cuts[1] = 0;
            run_replies(r->in, len, cuts, ev, sizeof(ev));
            if (!events_match(ev, r->want))
                fail_msg("reply row %zu split at %zu: got \"%s\"", i, at, ev);
        }
        for (size_t k = 0; k < len; k++)
            cuts[k] = k + 1;
        cuts[len] = 0;
        run_replies(r->in, len, cuts, ev, sizeof(ev));
        if (!events_match(ev, r->want))
            fail_msg("reply row %zu bytewise: got \"%s\"", i, ev);
    }
}

static void test_reply_limits(void **state)
{
    (void)state;
    static smtp_reply_parser p;
    static char in[SMTP_REPLY_READ_LINE_MAX * 2 + 8192];
    smtp_reply r;
    size_t consumed;
    const char *err;

    /* a line of exactly SMTP_REPLY_READ_LINE_MAX octets, CRLF included */
    smtp_reply_parser_init(&p);
    memset(in, 'x', SMTP_REPLY_READ_LINE_MAX);
    memcpy(in, "250 ", 4);
    memcpy(in + SMTP_REPLY_READ_LINE_MAX - 2, "\r\n", 2);
    assert_int_equal(smtp_reply_parse(&p, in, SMTP_REPLY_READ_LINE_MAX, &consumed, &r, &err), 1);
    assert_int_equal(r.text_len, SMTP_REPLY_READ_LINE_MAX - 6);
    /* one more: refused, and the parser stays failed */
    smtp_reply_parser_init(&p);
    memset(in, 'x', SMTP_REPLY_READ_LINE_MAX + 1);
    memcpy(in, "250 ", 4);
    memcpy(in + SMTP_REPLY_READ_LINE_MAX - 1, "\r\n", 2);
    assert_int_equal(smtp_reply_parse(&p, in, SMTP_REPLY_READ_LINE_MAX + 1, &consumed, &r, &err),
                     -1);
    assert_non_null(strstr(err, "too long"));
    assert_int_equal(smtp_reply_parse(&p, "250 ok\r\n", 8, &consumed, &r, &err), -1);
    assert_non_null(strstr(err, "failed earlier"));
    /* over the limit without any LF yet: refused as soon as it is known */
    smtp_reply_parser_init(&p);
    memset(in, 'x', SMTP_REPLY_READ_LINE_MAX + 1);
    memcpy(in, "250 ", 4);
    assert_int_equal(smtp_reply_parse(&p, in, SMTP_REPLY_READ_LINE_MAX, &consumed, &r, &err), 0);
    assert_int_equal(smtp_reply_parse(&p, in, 1, &consumed, &r, &err), -1);

    /* SMTP_REPLY_LINES_MAX lines: ok; one more: refused */
    size_t n = 0;
    for (int i = 0; i < SMTP_REPLY_LINES_MAX; i++)
        n += (size_t)snprintf(in + n, sizeof(in) - n, "250%cl%d\r\n",
                              i + 1 < SMTP_REPLY_LINES_MAX ? '-' : ' ', i);
    smtp_reply_parser_init(&p);
    assert_int_equal(smtp_reply_parse(&p, in, n, &consumed, &r, &err), 1);
    assert_int_equal(r.lines, SMTP_REPLY_LINES_MAX);
    assert_int_equal(consumed, n);
    n = 0;
    for (int i = 0; i <= SMTP_REPLY_LINES_MAX; i++)
        n += (size_t)snprintf(in + n, sizeof(in) - n, "250%cl%d\r\n",
                              i < SMTP_REPLY_LINES_MAX ? '-' : ' ', i);
    smtp_reply_parser_init(&p);
    assert_int_equal(smtp_reply_parse(&p, in, n, &consumed, &r, &err), -1);
    assert_non_null(strstr(err, "too many"));

    /* joined text over SMTP_REPLY_TEXT_MAX */
    smtp_reply_parser_init(&p);
    int lines = 0;
    for (size_t total = 0; total <= SMTP_REPLY_TEXT_MAX; lines++) {
        memset(in, 'y', 1000);
        memcpy(in, "250-", 4);
        memcpy(in + 998, "\r\n", 2);
        int rc = smtp_reply_parse(&p, in, 1000, &consumed, &r, &err);
        total += 994 + 1;
        if (total > SMTP_REPLY_TEXT_MAX + 1) {
            assert_int_equal(rc, -1);
            assert_non_null(strstr(err, "text too long"));
            break;
        }
        assert_int_equal(rc, 0);
    }
    assert_true(lines > 10);
}

/* ---- EHLO capabilities -------------------------------------------------- */

typedef struct {
    const char *in;
    const char *want; /* caps, "size=N", "mechs=..." or "ERR" */
} ehlo_row;

static const ehlo_row ehlo_rows[] = {
    {"250-mx.example.com Hello\r\n250-PIPELINING\r\n250-SIZE 35882577\r\n250-8BITMIME\r\n"
     "250-STARTTLS\r\n250-AUTH PLAIN LOGIN XOAUTH2\r\n250-ENHANCEDSTATUSCODES\r\n"
     "250-CHUNKING\r\n250-SMTPUTF8\r\n250-DSN\r\n250 BINARYMIME\r\n",
     "PIPELINING SIZE 8BITMIME STARTTLS AUTH SMTPUTF8 CHUNKING BINARYMIME DSN "
     "ENHANCEDSTATUSCODES size=35882577 mechs=[PLAIN LOGIN XOAUTH2] known=PLAIN,LOGIN,XOAUTH2"},
    {"250 mx.example.com\r\n", "size=0 mechs=[]"},
    {"250-mx.example.com PIPELINING\r\n250 DSN\r\n", "DSN size=0 mechs=[]"},
    {"250-mx\r\n250-AUTH=LOGIN PLAIN\r\n250-auth login cram-md5\r\n250 size\r\n",
     "SIZE AUTH size=0 mechs=[LOGIN PLAIN CRAM-MD5] known=PLAIN,LOGIN,CRAM-MD5"},
    {"250-mx\r\n250-SIZE 0\r\n250 pipelining\r\n", "PIPELINING SIZE size=0 mechs=[]"},
    {"250-mx\r\n250-SIZE abc\r\n250 X-UNKNOWN foo\r\n", "SIZE size=0 mechs=[]"},
    {"250-mx\r\n250-SIZE 99999999999999999999\r\n250 OK\r\n",
     "SIZE size=18446744073709551615 mechs=[]"},
    {"250-mx\r\n250-SIZE=100\r\n250 STARTTLSX\r\n", "size=0 mechs=[]"},
    {"250-mx\r\n250 AUTH PLAIN bad!name THIS-NAME-IS-TOO-LONG-FOR-SASL scram-sha-256\r\n",
     "AUTH size=0 mechs=[PLAIN SCRAM-SHA-256] known=PLAIN,SCRAM-SHA-256"},
    {"250-mx\r\n250 AUTH\r\n", "AUTH size=0 mechs=[]"},
    {"250-mx\r\n250 AUTH  PLAIN   LOGIN \r\n", "AUTH size=0 mechs=[PLAIN LOGIN] known=PLAIN,LOGIN"},
    {"250-mx\r\n250 AUTH A B C D E F G H I J K L M N O P Q R GSSAPI\r\n",
     "AUTH size=0 mechs=[A B C D E F G H I J K L M N O P] known=GSSAPI"},
    {"250-2.0.0 mx\r\n250-2.0.0 DSN\r\n250 2.0.0 SIZE 10\r\n", "SIZE DSN size=10 mechs=[]"},
    {"550 5.7.1 go away\r\n", "ERR"},
    {"220 mx\r\n", "ERR"},
};

static void caps_describe(const smtp_ehlo_caps *c, char *out, size_t size)
{
    static const char *const caps[] = {
        "PIPELINING", "SIZE",     "8BITMIME",   "STARTTLS", "AUTH",
        "SMTPUTF8",   "CHUNKING", "BINARYMIME", "DSN",      "ENHANCEDSTATUSCODES"};
    static const char *const mechs[] = {"PLAIN",         "LOGIN",       "CRAM-MD5",
                                        "XOAUTH2",       "OAUTHBEARER", "SCRAM-SHA-1",
                                        "SCRAM-SHA-256", "EXTERNAL",    "GSSAPI"};
    out[0] = '\0';
    for (unsigned i = 0; i < sizeof(caps) / sizeof(caps[0]); i++) {
        if (c->caps & (1u << i))
            put(out, size, "%s ", caps[i]);
    }
    put(out, size, "size=%llu mechs=[%s]", (unsigned long long)c->size_max, c->mech_names);
    const char *sep = " known=";
    for (unsigned i = 0; i < sizeof(mechs) / sizeof(mechs[0]); i++) {
        if (c->mechs & (1u << i)) {
            put(out, size, "%s%s", sep, mechs[i]);
            sep = ",";
        }
    }
}

static void test_ehlo_rows(void **state)
{
    (void)state;
    static smtp_reply_parser p;
    for (size_t i = 0; i < sizeof(ehlo_rows) / sizeof(ehlo_rows[0]); i++) {
        const ehlo_row *row = &ehlo_rows[i];
        smtp_reply r;
        smtp_ehlo_caps caps;
        size_t consumed;
        const char *err = NULL;
        char got[512];

        smtp_reply_parser_init(&p);
        assert_int_equal(smtp_reply_parse(&p, row->in, strlen(row->in), &consumed, &r, &err), 1);
        int rc = smtp_ehlo_caps_parse(&r, &caps, &err);
        if (strcmp(row->want, "ERR") == 0) {
            assert_int_equal(rc, -1);
            assert_non_null(err);
            assert_int_equal(caps.caps, 0);
            continue;
        }
        assert_int_equal(rc, 0);
        caps_describe(&caps, got, sizeof(got));
        if (strcmp(got, row->want) != 0)
            fail_msg("ehlo row %zu:\n got  \"%s\"\n want \"%s\"", i, got, row->want);
    }
}

/* ---- formatting --------------------------------------------------------- */

typedef struct {
    unsigned code;
    unsigned char cls;
    unsigned short subject, detail;
    const char *text;
    const char *want; /* NULL: refused */
    const char *err;
} format_row;

static const format_row format_rows[] = {
    {250, 2, 0, 0, "Ok", "250 2.0.0 Ok\r\n", NULL},
    {250, 0, 0, 0, "mx.example\nPIPELINING\nSIZE 1000",
     "250-mx.example\r\n250-PIPELINING\r\n250 SIZE 1000\r\n", NULL},
    {550, 5, 7, 1, "a\nb", "550-5.7.1 a\r\n550 5.7.1 b\r\n", NULL},
    {354, 0, 0, 0, "End data with <CR><LF>.<CR><LF>", "354 End data with <CR><LF>.<CR><LF>\r\n",
     NULL},
    {250, 2, 0, 0, "", "250 2.0.0\r\n", NULL},
    {250, 0, 0, 0, "", "250\r\n", NULL},
    {250, 0, 0, 0, "a\n", "250-a\r\n250\r\n", NULL},
    {250, 0, 0, 0, "\nb", "250-\r\n250 b\r\n", NULL},
    {250, 2, 0, 0, "a\n\nb", "250-2.0.0 a\r\n250-2.0.0\r\n250 2.0.0 b\r\n", NULL},
    {221, 2, 0, 0, "Bye", "221 2.0.0 Bye\r\n", NULL},
    {421, 4, 3, 2, "Shutting down", "421 4.3.2 Shutting down\r\n", NULL},
    {553, 5, 1, 3, "tab\there", "553 5.1.3 tab\there\r\n", NULL},
    {250, 2, 1, 5, "caf\xc3\xa9", "250 2.1.5 caf\xc3\xa9\r\n", NULL},
    {559, 5, 999, 999, "x", "559 5.999.999 x\r\n", NULL},
    {199, 0, 0, 0, "x", NULL, "invalid reply code"},
    {600, 0, 0, 0, "x", NULL, "invalid reply code"},
    {260, 0, 0, 0, "x", NULL, "invalid reply code"},
    {250, 5, 0, 0, "x", NULL, "enhanced"},
    {250, 2, 1000, 0, "x", NULL, "enhanced"},
    {250, 3, 0, 0, "x", NULL, "enhanced"},
    {250, 2, 0, 0, "a\rb", NULL, "control"},
    {250, 2, 0, 0, "a\r\nb", NULL, "control"},
    {250, 2, 0, 0, "a\x01", NULL, "control"},
    {250, 2, 0, 0, "a\x7f", NULL, "control"},
};

static void test_format_rows(void **state)
{
    (void)state;
    static smtp_reply_parser p;
    for (size_t i = 0; i < sizeof(format_rows) / sizeof(format_rows[0]); i++) {
        const format_row *r = &format_rows[i];
        smtp_enhanced e = {r->cls, r->subject, r->detail};
        buf b;
        const char *err = NULL;

        buf_init(&b, 1 << 16);
        buf_append_str(&b, "KEEP");
        int rc = smtp_reply_format(&b, r->code, &e, r->text, &err);
        if (r->want == NULL) {
            if (rc != -1)
                fail_msg("format row %zu: accepted as \"%s\"", i, b.data);
            assert_non_null(strstr(err, r->err));
            assert_string_equal(b.data, "KEEP");
            buf_free(&b);
            continue;
        }
        if (rc != 0)
            fail_msg("format row %zu: refused: %s", i, err);
        assert_string_equal(b.data + 4, r->want);
        /* and the parser reads it back */
        smtp_reply rep;
        size_t consumed;
        smtp_reply_parser_init(&p);
        assert_int_equal(smtp_reply_parse(&p, b.data + 4, b.len - 4, &consumed, &rep, &err), 1);
        assert_int_equal(consumed, b.len - 4);
        assert_int_equal(rep.code, r->code);
        assert_int_equal(rep.enhanced.cls, r->cls);
        if (r->cls != 0) {
            assert_int_equal(rep.enhanced.subject, r->subject);
            assert_int_equal(rep.enhanced.detail, r->detail);
        }
        assert_string_equal(rep.text, r->text);
        buf_free(&b);
    }
}

static void test_format_limits(void **state)
{
    (void)state;
    char text[SMTP_REPLY_LINE_MAX * 2];
    smtp_enhanced e = {5, 7, 1};
    buf b;
    const char *err;

    /* "550 5.7.1 " + text + CRLF = 512 */
    size_t room = SMTP_REPLY_LINE_MAX - 10 - 2;
    memset(text, 't', room + 1);
    text[room] = '\0';
    buf_init(&b, 1 << 16);
    assert_int_equal(smtp_reply_format(&b, 550, &e, text, &err), 0);
    assert_int_equal(b.len, SMTP_REPLY_LINE_MAX);
    buf_reset(&b);
    text[room] = 't';
    text[room + 1] = '\0';
    assert_int_equal(smtp_reply_format(&b, 550, &e, text, &err), -1);
    assert_non_null(strstr(err, "too long"));
    assert_int_equal(b.len, 0);

    /* lines */
    char many[SMTP_REPLY_LINES_MAX * 2 + 2];
    memset(many, '\n', sizeof(many));
    many[SMTP_REPLY_LINES_MAX - 1] = '\0'; /* 100 lines */
    assert_int_equal(smtp_reply_format(&b, 250, NULL, many, &err), 0);
    buf_reset(&b);
    many[SMTP_REPLY_LINES_MAX - 1] = '\n';
    many[SMTP_REPLY_LINES_MAX] = '\0'; /* 101 */
    assert_int_equal(smtp_reply_format(&b, 250, NULL, many, &err), -1);
    assert_non_null(strstr(err, "too many"));
    buf_free(&b);

    /* the buffer's cap */
    buf_init(&b, 8);
    assert_int_equal(smtp_reply_format(&b, 250, &e, "Ok", &err), -1);
    buf_free(&b);

    /* a parser's error as a reply */
    smtp_error pe = {501, {5, 5, 4}, "duplicate SIZE parameter"};
    buf_init(&b, 1024);
    assert_int_equal(smtp_reply_format_error(&b, &pe, &err), 0);
    assert_string_equal(b.data, "501 5.5.4 duplicate SIZE parameter\r\n");
    buf_free(&b);
}

/* ---- enhanced status codes ---------------------------------------------- */

typedef struct {
    const char *in;
    size_t want_len; /* 0: not a code */
    unsigned cls, subject, detail;
} enhanced_row;

static const enhanced_row enhanced_rows[] = {
    {"2.1.5 Ok", 5, 2, 1, 5},      {"5.7.1", 5, 5, 7, 1},
    {"4.4.2 x", 5, 4, 4, 2},       {"2.001.002 x", 9, 2, 1, 2},
    {"5.999.999", 9, 5, 999, 999}, {"2.1.5x", 0, 0, 0, 0},
    {"2.1.5.", 0, 0, 0, 0},        {"3.0.0", 0, 0, 0, 0},
    {"1.0.0", 0, 0, 0, 0},         {"2.1000.0", 0, 0, 0, 0},
    {"2.0.1000", 0, 0, 0, 0},      {"2..0", 0, 0, 0, 0},
    {"2.1.", 0, 0, 0, 0},          {"2.1", 0, 0, 0, 0},
    {"20.1.1", 0, 0, 0, 0},        {"", 0, 0, 0, 0},
    {"2.a.1", 0, 0, 0, 0},
};

static void test_enhanced(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(enhanced_rows) / sizeof(enhanced_rows[0]); i++) {
        const enhanced_row *r = &enhanced_rows[i];
        smtp_enhanced e;
        size_t n = smtp_enhanced_parse(r->in, strlen(r->in), &e);
        if (n != r->want_len)
            fail_msg("enhanced row %zu \"%s\": %zu", i, r->in, n);
        assert_int_equal(e.cls, r->cls);
        assert_int_equal(e.subject, r->subject);
        assert_int_equal(e.detail, r->detail);
    }
    char out[SMTP_ENHANCED_TEXT_MAX + 1];
    smtp_enhanced e = {5, 999, 999};
    assert_int_equal(smtp_enhanced_format(&e, out), 9);
    assert_string_equal(out, "5.999.999");
    e = (smtp_enhanced){2, 0, 0};
    assert_int_equal(smtp_enhanced_format(&e, out), 5);
    assert_string_equal(out, "2.0.0");
    e = (smtp_enhanced){0, 0, 0};
    assert_int_equal(smtp_enhanced_format(&e, out), -1);
    assert_string_equal(out, "");
    e = (smtp_enhanced){3, 0, 0};
    assert_int_equal(smtp_enhanced_format(&e, out), -1);
    e = (smtp_enhanced){5, 1000, 0};
    assert_int_equal(smtp_enhanced_format(&e, out), -1);
}

/* ---- xtext -------------------------------------------------------------- */

typedef struct {
    const char *in;
    const char *want; /* NULL: refused */
} xtext_row;

static const xtext_row xtext_rows[] = {
    {"abc", "abc"},   {"a+2Bb", "a+b"},
    {"a+2bb", "a+b"}, /* lower-case hex accepted */
    {"+3D", "="},     {"+20+09", " \t"},
    {"", ""},         {"e+3Dmc2@example.com", "e=mc2@example.com"},
    {"<>", "<>"},     {"~!", "~!"},
    {"+", NULL},      {"+2", NULL},
    {"+2G", NULL},    {"+G2", NULL},
    {"a b", NULL},    {"a=b", NULL},
    {"a\tb", NULL},   {"\xc3\xbc", NULL},
};

static void test_xtext(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(xtext_rows) / sizeof(xtext_rows[0]); i++) {
        const xtext_row *r = &xtext_rows[i];
        char out[64];
        size_t n;
        const char *err = NULL;
        int rc = smtp_xtext_decode(r->in, strlen(r->in), out, sizeof(out), &n, &err);
        if (r->want == NULL) {
            if (rc != -1)
                fail_msg("xtext row %zu \"%s\": accepted", i, r->in);
            assert_non_null(err);
            assert_string_equal(out, "");
        } else {
            if (rc != 0)
                fail_msg("xtext row %zu \"%s\": %s", i, r->in, err);
            assert_int_equal(n, strlen(r->want));
            assert_string_equal(out, r->want);
        }
    }
    /* every octet round-trips; encoding is upper case and minimal */
    char all[256], enc[3 * 256 + 1], dec[257];
    size_t elen, dlen;
    for (int i = 0; i < 256; i++)
        all[i] = (char)i;
    assert_int_equal(smtp_xtext_encode(all, 256, enc, sizeof(enc), &elen), 0);
    assert_int_equal(elen, strlen(enc));
    assert_null(strchr(enc, ' '));
    assert_int_equal(smtp_xtext_decode(enc, elen, dec, sizeof(dec), &dlen, NULL), 0);
    assert_int_equal(dlen, 256);
    assert_memory_equal(dec, all, 256);
    assert_int_equal(smtp_xtext_encode("a+b=c d", 7, enc, sizeof(enc), &elen), 0);
    assert_string_equal(enc, "a+2Bb+3Dc+20d");
    /* sizes: exact fit ok, one short refused */
    assert_int_equal(smtp_xtext_encode("+", 1, enc, 4, &elen), 0);
    assert_int_equal(smtp_xtext_encode("+", 1, enc, 3, &elen), -1);
    assert_string_equal(enc, "");
    assert_int_equal(smtp_xtext_decode("abc", 3, dec, 4, &dlen, NULL), 0);
    assert_int_equal(smtp_xtext_decode("abc", 3, dec, 3, &dlen, NULL), -1);
    assert_int_equal(smtp_xtext_decode("", 0, dec, 1, &dlen, NULL), 0);
    assert_int_equal(smtp_xtext_decode("", 0, dec, 0, &dlen, NULL), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reply_rows),    cmocka_unit_test(test_reply_limits),
        cmocka_unit_test(test_ehlo_rows),     cmocka_unit_test(test_format_rows),
        cmocka_unit_test(test_format_limits), cmocka_unit_test(test_enhanced),
        cmocka_unit_test(test_xtext),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
