/* libFuzzer harness for the command side of lib/smtp. The first octet
 * chooses the parse flags and a cut; the rest is used as:
 * - a command line: every result is a 1 or a -1 with a well-formed reply;
 *   a parsed path formats to at most SMTP_PATH_MAX octets and parses back
 *   to the same local part and domain; decoded values hold no CR, LF or
 *   NUL; pointers stay inside the line;
 * - a byte stream for the line splitter: the lines are the same whole,
 *   cut in two, and one octet at a time, and each goes through the parser;
 * - a path for smtp_path_parse, and xtext to decode and re-encode. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "smtp_command.h"
#include "smtp_reply.h"

#define FUZZ_CHECK(cond)                                                                           \
    do {                                                                                           \
        if (!(cond))                                                                               \
            abort();                                                                               \
    } while (0)

#define FUZZ_MAX_INPUT 65536
#define FUZZ_EVENTS_MAX (4 * FUZZ_MAX_INPUT)

static void fuzz_error(const smtp_error *e)
{
    FUZZ_CHECK(e->text != NULL && e->text[0] != '\0');
    FUZZ_CHECK(strchr(e->text, '\r') == NULL && strchr(e->text, '\n') == NULL);
    FUZZ_CHECK(e->code == 500 || e->code == 501 || e->code == 553 || e->code == 555);
    FUZZ_CHECK(e->enhanced.cls == 5);
    /* it can always be sent */
    buf b;
    buf_init(&b, 1024);
    FUZZ_CHECK(smtp_reply_format_error(&b, e, NULL) == 0);
    buf_free(&b);
}

static void fuzz_clean(const char *s, size_t len)
{
    FUZZ_CHECK(strlen(s) == len);
    for (size_t i = 0; i < len; i++)
        FUZZ_CHECK(s[i] != '\r' && s[i] != '\n');
}

static void fuzz_path(const smtp_path *p, smtp_path_kind kind)
{
    char f[SMTP_PATH_MAX + 1];

    FUZZ_CHECK(p->local_len <= SMTP_LOCAL_MAX);
    fuzz_clean(p->local, p->local_len);
    FUZZ_CHECK(strlen(p->domain.name) <= SMTP_DOMAIN_MAX);
    FUZZ_CHECK(p->has_percent == (memchr(p->local, '%', p->local_len) != NULL));
    FUZZ_CHECK(p->has_bang == (memchr(p->local, '!', p->local_len) != NULL));
    FUZZ_CHECK(!p->null || kind == SMTP_PATH_REVERSE);
    FUZZ_CHECK(!p->postmaster || kind == SMTP_PATH_FORWARD);
    int n = smtp_path_format(p, f, sizeof(f));
    FUZZ_CHECK(n > 0 && (size_t)n <= SMTP_PATH_MAX && strlen(f) == (size_t)n);

    smtp_path again;
    size_t consumed;
    smtp_error err;
    FUZZ_CHECK(smtp_path_parse(f, (size_t)n, kind, &again, &consumed, &err) == 1);
    FUZZ_CHECK(consumed == (size_t)n);
    FUZZ_CHECK(again.local_len == p->local_len && memcmp(again.local, p->local, p->local_len) == 0);
    FUZZ_CHECK(strcmp(again.domain.name, p->domain.name) == 0);
    FUZZ_CHECK(again.domain.literal == p->domain.literal);
    FUZZ_CHECK(memcmp(again.domain.addr, p->domain.addr, 16) == 0);
    FUZZ_CHECK(again.null == p->null && again.postmaster == p->postmaster);
    FUZZ_CHECK(again.utf8 == p->utf8 && !again.source_route);
    /* canonical: formatting again gives the same text */
    char g[SMTP_PATH_MAX + 1];
    FUZZ_CHECK(smtp_path_format(&again, g, sizeof(g)) == n && strcmp(f, g) == 0);
}

static void fuzz_command(const char *line, size_t len, smtp_parse_flags flags)
{
    smtp_command cmd;
    smtp_error err;

    memset(&err, 0, sizeof(err));
    int rc = smtp_command_parse(line, len, flags, &cmd, &err);
    if (rc != 1) {
        FUZZ_CHECK(rc == -1);
        fuzz_error(&err);
        FUZZ_CHECK(cmd.verb == SMTP_VERB_UNKNOWN && cmd.arg_len == 0);
        return;
    }
    FUZZ_CHECK(len + 2 <= SMTP_AUTH_LINE_MAX);
    FUZZ_CHECK(cmd.verb_text == line && cmd.verb_len > 0 && cmd.verb_len <= len);
    FUZZ_CHECK(cmd.arg_len == 0 || (cmd.arg > line && cmd.arg + cmd.arg_len <= line + len));
    switch (cmd.verb) {
    case SMTP_VERB_EHLO:
    case SMTP_VERB_HELO:
        FUZZ_CHECK(cmd.helo.name[0] != '\0' && strlen(cmd.helo.name) <= SMTP_DOMAIN_MAX);
        if (!cmd.helo_invalid) {
            smtp_domain d;
            FUZZ_CHECK(
                smtp_path_parse_domain(cmd.helo.name, strlen(cmd.helo.name), true, &d, &err) == 1);
            FUZZ_CHECK(memcmp(&d, &cmd.helo, sizeof(d)) == 0);
        } else {
            FUZZ_CHECK((flags & SMTP_PARSE_LAX_HELO) != 0);
        }
        break;
    case SMTP_VERB_MAIL:
    case SMTP_VERB_RCPT:
        fuzz_path(&cmd.path, cmd.verb == SMTP_VERB_MAIL ? SMTP_PATH_REVERSE : SMTP_PATH_FORWARD);
        if (cmd.path.utf8)
            FUZZ_CHECK(cmd.verb == SMTP_VERB_MAIL ? cmd.mail.smtputf8
                                                  : (flags & SMTP_PARSE_SMTPUTF8) != 0);
        if (cmd.verb == SMTP_VERB_MAIL) {
            FUZZ_CHECK(len + 2 <= SMTP_MAIL_LINE_MAX);
            FUZZ_CHECK(cmd.rcpt.notify == 0 && !cmd.rcpt.has_orcpt);
            if (cmd.mail.has_envid) {
                for (const char *p = cmd.mail.envid; *p != '\0'; p++)
                    FUZZ_CHECK(*p >= 0x20 && *p < 0x7f);
            }
            if (cmd.mail.has_auth)
                fuzz_clean(cmd.mail.auth, strlen(cmd.mail.auth));
        } else {
            FUZZ_CHECK(len + 2 <= SMTP_RCPT_LINE_MAX);
            FUZZ_CHECK(!cmd.mail.has_size && !cmd.mail.smtputf8 && !cmd.mail.has_envid);
            unsigned nv = cmd.rcpt.notify;
            FUZZ_CHECK((nv & SMTP_NOTIFY_NEVER) == 0 || nv == SMTP_NOTIFY_NEVER);
            if (cmd.rcpt.has_orcpt) {
                FUZZ_CHECK(cmd.rcpt.orcpt_type[0] != '\0');
                fuzz_clean(cmd.rcpt.orcpt, strlen(cmd.rcpt.orcpt));
            }
        }
        break;
    case SMTP_VERB_AUTH:
        FUZZ_CHECK(cmd.auth_mech[0] != '\0' && strlen(cmd.auth_mech) <= SMTP_SASL_MECH_MAX);
        FUZZ_CHECK(cmd.auth_has_initial || cmd.auth_initial_len == 0);
        FUZZ_CHECK(cmd.auth_initial_len % 4 == 0);
        break;
    case SMTP_VERB_DATA:
    case SMTP_VERB_RSET:
    case SMTP_VERB_QUIT:
    case SMTP_VERB_STARTTLS:
        FUZZ_CHECK(cmd.arg_len == 0);
        /* fall through */
    default:
        FUZZ_CHECK(len + 2 <= SMTP_LINE_MAX);
        break;
    }
}

/* Runs the line splitter over in, cut at `cut` (0: whole) or octet by
 * octet (step 1), writing the events to ev. */
static size_t fuzz_lines(const char *in, size_t len, size_t cut, int bytewise, size_t max, char *ev,
                         smtp_parse_flags flags, int parse)
{
    static char pending[FUZZ_MAX_INPUT];
    smtp_command_line st;
    size_t plen = 0, fed = 0, evlen = 0;

    smtp_command_line_init(&st);
    while (fed < len) {
        size_t n = bytewise ? 1 : (cut > fed ? cut - fed : len - fed);
        memcpy(pending + plen, in + fed, n);
        plen += n;
        fed += n;
        for (;;) {
            const char *line;
            size_t line_len, consumed;
            bool bare;
            smtp_error err;
            int rc = smtp_command_line_next(&st, pending, plen, max, &line, &line_len, &bare,
                                            &consumed, &err);
            FUZZ_CHECK(consumed <= plen);
            if (rc == 1) {
                FUZZ_CHECK(line == pending && line_len + 1 <= max);
                FUZZ_CHECK(memchr(line, '\n', line_len) == NULL);
                ev[evlen++] = bare ? 'B' : 'L';
                memcpy(ev + evlen, line, line_len);
                evlen += line_len;
                ev[evlen++] = '\0';
                if (parse)
                    fuzz_command(line, line_len, flags);
            } else if (rc < 0) {
                fuzz_error(&err);
                ev[evlen++] = 'E';
            }
            memmove(pending, pending + consumed, plen - consumed);
            plen -= consumed;
            if (rc == 0) {
                FUZZ_CHECK(plen < max);
                break;
            }
        }
    }
    return evlen;
}

static void fuzz_xtext(const char *in, size_t len)
{
    static char dec[FUZZ_MAX_INPUT + 1], enc[3 * FUZZ_MAX_INPUT + 1], again[FUZZ_MAX_INPUT + 1];
    size_t dlen, elen, alen;
    const char *err = NULL;

    if (smtp_xtext_decode(in, len, dec, sizeof(dec), &dlen, &err) == 0) {
        FUZZ_CHECK(dlen <= len);
        FUZZ_CHECK(smtp_xtext_encode(dec, dlen, enc, sizeof(enc), &elen) == 0);
        FUZZ_CHECK(elen <= len); /* the minimal encoding is never longer */
        FUZZ_CHECK(smtp_xtext_decode(enc, elen, again, sizeof(again), &alen, NULL) == 0);
        FUZZ_CHECK(alen == dlen && memcmp(again, dec, dlen) == 0);
    } else {
        FUZZ_CHECK(err != NULL && dec[0] == '\0');
    }
    FUZZ_CHECK(smtp_xtext_encode(in, len, enc, sizeof(enc), &elen) == 0);
    FUZZ_CHECK(smtp_xtext_decode(enc, elen, dec, sizeof(dec), &dlen, NULL) == 0);
    FUZZ_CHECK(dlen == len && memcmp(dec, in, len) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static char ev1[FUZZ_EVENTS_MAX], ev2[FUZZ_EVENTS_MAX], ev3[FUZZ_EVENTS_MAX];

    if (size == 0 || size > FUZZ_MAX_INPUT)
        return 0;
    smtp_parse_flags flags = (smtp_parse_flags)(data[0] & 3);
    const char *in = (const char *)data + 1;
    size_t len = size - 1;
    size_t cut = (size_t)data[0] * len / 255;

    fuzz_command(in, len, flags);

    /* paths on their own */
    for (int k = 0; k < 2; k++) {
        smtp_path p;
        size_t consumed;
        smtp_error err;
        smtp_path_kind kind = k == 0 ? SMTP_PATH_REVERSE : SMTP_PATH_FORWARD;
        if (smtp_path_parse(in, len, kind, &p, &consumed, &err) == 1) {
            FUZZ_CHECK(consumed >= 2 && consumed <= len && consumed <= SMTP_PATH_MAX);
            FUZZ_CHECK(in[0] == '<' && in[consumed - 1] == '>');
            fuzz_path(&p, kind);
        } else {
            FUZZ_CHECK(err.code == 553 || err.code == 501);
            FUZZ_CHECK(consumed == 0 && p.local_len == 0);
        }
    }

    /* the splitter: a small max makes over-long lines common */
    size_t max = (data[0] & 4) ? 16 + data[0] % 64 : SMTP_COMMAND_READ_MAX;
    size_t n1 = fuzz_lines(in, len, 0, 0, max, ev1, flags, 1);
    size_t n2 = fuzz_lines(in, len, cut, 0, max, ev2, flags, 0);
    FUZZ_CHECK(n1 == n2 && memcmp(ev1, ev2, n1) == 0);
    if (len <= 4096) {
        size_t n3 = fuzz_lines(in, len, 0, 1, max, ev3, flags, 0);
        FUZZ_CHECK(n1 == n3 && memcmp(ev1, ev3, n1) == 0);
    }

    fuzz_xtext(in, len);
    return 0;
}
