/* Table-driven tests of lib/smtp: command lines, paths and parameters, and
 * the command line splitter. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "smtp_command.h"

/* A row: the line (len 0 = strlen), parse flags, and what is expected:
 * either "ERR code enh text-substring" or the describe() form of the parsed
 * command. */
typedef struct {
    const char *line;
    size_t len;
    smtp_parse_flags flags;
    const char *want;
} cmd_row;

#define U8 SMTP_PARSE_SMTPUTF8
#define LAX SMTP_PARSE_LAX_HELO

static void put(char *out, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void put(char *out, size_t size, const char *fmt, ...)
{
    size_t n = strlen(out);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(out + n, size - n, fmt, ap);
    va_end(ap);
}

/* A one-line description of a parsed command, for comparing with rows. */
static void describe(const smtp_command *c, char *out, size_t size)
{
    static const char *const body[] = {"", "7BIT", "8BITMIME", "BINARYMIME"};
    static const char *const ret[] = {"", "FULL", "HDRS"};

    out[0] = '\0';
    put(out, size, "%s", smtp_command_verb_name(c->verb));
    switch (c->verb) {
    case SMTP_VERB_EHLO:
    case SMTP_VERB_HELO:
        put(out, size, " helo=%s", c->helo.name);
        if (c->helo.literal == SMTP_LITERAL_IPV4)
            put(out, size, " v4=%u.%u.%u.%u", c->helo.addr[0], c->helo.addr[1], c->helo.addr[2],
                c->helo.addr[3]);
        if (c->helo.literal == SMTP_LITERAL_IPV6) {
            put(out, size, " v6=");
            for (int i = 0; i < 16; i++)
                put(out, size, "%02x", c->helo.addr[i]);
        }
        if (c->helo_invalid)
            put(out, size, " invalid");
        break;
    case SMTP_VERB_MAIL:
    case SMTP_VERB_RCPT: {
        const smtp_path *p = &c->path;
        char f[SMTP_PATH_MAX + 1];
        assert_true(smtp_path_format(p, f, sizeof(f)) > 0);
        put(out, size, " %s", f);
        if (!p->null && !p->postmaster)
            put(out, size, " local=[%s] domain=[%s]", p->local, p->domain.name);
        assert_int_equal(strlen(p->local), p->local_len);
        if (p->null)
            put(out, size, " null");
        if (p->postmaster)
            put(out, size, " postmaster");
        if (p->quoted)
            put(out, size, " quoted");
        if (p->source_route)
            put(out, size, " route");
        if (p->has_percent)
            put(out, size, " percent");
        if (p->has_bang)
            put(out, size, " bang");
        if (p->utf8)
            put(out, size, " utf8");
        if (p->domain.literal == SMTP_LITERAL_IPV4)
            put(out, size, " lit4");
        if (p->domain.literal == SMTP_LITERAL_IPV6)
            put(out, size, " lit6");
        const smtp_mail_params *m = &c->mail;
        if (m->has_size)
            put(out, size, " size=%llu", (unsigned long long)m->size);
        if (m->body != SMTP_BODY_NONE)
            put(out, size, " body=%s", body[m->body]);
        if (m->smtputf8)
            put(out, size, " smtputf8");
        if (m->ret != SMTP_RET_NONE)
            put(out, size, " ret=%s", ret[m->ret]);
        if (m->has_envid)
            put(out, size, " envid=[%s]", m->envid);
        if (m->has_auth)
            put(out, size, " auth=[%s]", m->auth);
        const smtp_rcpt_params *r = &c->rcpt;
        if (r->notify != 0) {
            put(out, size, " notify=");
            if (r->notify & SMTP_NOTIFY_NEVER)
                put(out, size, "N");
            if (r->notify & SMTP_NOTIFY_SUCCESS)
                put(out, size, "S");
            if (r->notify & SMTP_NOTIFY_FAILURE)
                put(out, size, "F");
            if (r->notify & SMTP_NOTIFY_DELAY)
                put(out, size, "D");
        }
        if (r->has_orcpt)
            put(out, size, " orcpt=%s;[%s]", r->orcpt_type, r->orcpt);
        break;
    }
    case SMTP_VERB_BDAT:
        put(out, size, " %llu%s", (unsigned long long)c->bdat_size, c->bdat_last ? " last" : "");
        break;
    case SMTP_VERB_AUTH:
        put(out, size, " %s", c->auth_mech);
        if (c->auth_has_initial)
            put(out, size, " ir=[%.*s]", (int)c->auth_initial_len, c->auth_initial);
        break;
    case SMTP_VERB_UNKNOWN:
        put(out, size, " verb=[%.*s]", (int)c->verb_len, c->verb_text);
        /* fall through */
    default:
        if (c->arg_len > 0)
            put(out, size, " arg=[%.*s]", (int)c->arg_len, c->arg);
        break;
    }
    if (c->lenient)
        put(out, size, " lenient");
}

static const cmd_row cmd_rows[] = {
    /* EHLO / HELO (RFC 5321 4.1.1.1) */
    {"EHLO mail.example.com", 0, 0, "EHLO helo=mail.example.com"},
    {"ehlo Mail.Example.COM", 0, 0, "EHLO helo=Mail.Example.COM"},
    {"EhLo localhost", 0, 0, "EHLO helo=localhost"},
    {"EHLO 1-2.example", 0, 0, "EHLO helo=1-2.example"},
    {"EHLO [192.0.2.1]", 0, 0, "EHLO helo=[192.0.2.1] v4=192.0.2.1"},
    {"EHLO [IPv6:2001:db8::1]", 0, 0,
     "EHLO helo=[IPv6:2001:db8::1] v6=20010db8000000000000000000000001"},
    {"EHLO [ipv6:::1]", 0, 0, "EHLO helo=[ipv6:::1] v6=00000000000000000000000000000001"},
    {"EHLO [IPv6:1:2:3:4:5:6:7:8]", 0, 0,
     "EHLO helo=[IPv6:1:2:3:4:5:6:7:8] v6=00010002000300040005000600070008"},
    {"EHLO [IPv6:::ffff:192.0.2.1]", 0, 0,
     "EHLO helo=[IPv6:::ffff:192.0.2.1] v6=00000000000000000000ffffc0000201"},
    {"EHLO [IPv6:1:2:3:4:5:6:192.0.2.1]", 0, 0,
     "EHLO helo=[IPv6:1:2:3:4:5:6:192.0.2.1] v6=000100020003000400050006c0000201"},
    {"EHLO mail.example.com ", 0, 0, "EHLO helo=mail.example.com lenient"},
    {"HELO mail.example.com", 0, 0, "HELO helo=mail.example.com"},
    {"HELO [192.0.2.1]", 0, 0, "HELO helo=[192.0.2.1] v4=192.0.2.1 lenient"},
    {"EHLO", 0, 0, "ERR 501 5.5.4 needs a domain"},
    {"EHLO ", 0, 0, "ERR 501 5.5.4 needs a domain"},
    {"HELO", 0, 0, "ERR 501 5.5.4 needs a domain"},
    {"EHLO my_host", 0, 0, "ERR 501 5.5.4 invalid domain"},
    {"EHLO my_host", 0, LAX, "EHLO helo=my_host invalid"},
    {"EHLO a b", 0, LAX, "ERR 501 5.5.4"},
    {"EHLO  mail.example.com", 0, 0, "ERR 501 5.5.4"},
    {"EHLO host.example.", 0, 0, "ERR 501 5.5.4 empty domain label"},
    {"EHLO -bad.example", 0, 0, "ERR 501 5.5.4 '-'"},
    {"EHLO bad-.example", 0, 0, "ERR 501 5.5.4 '-'"},
    {"EHLO a..example", 0, 0, "ERR 501 5.5.4 empty domain label"},
    {"EHLO b\xc3\xbc"
     "cher.example",
     0, 0, "ERR 501 5.5.4 non-ASCII"},
    {"EHLO [192.0.2.256]", 0, 0, "ERR 501 5.5.4 IPv4"},
    {"EHLO [1.2.3]", 0, 0, "ERR 501 5.5.4 IPv4"},
    {"EHLO [1.2.3.4.5]", 0, 0, "ERR 501 5.5.4 IPv4"},
    {"EHLO [1.2.3.0004]", 0, 0, "ERR 501 5.5.4 IPv4"},
    {"EHLO [IPv6:1:2:3:4:5:6:7::]", 0, 0, "ERR 501 5.5.4 IPv6"}, /* "::" is >= 2 groups */
    {"EHLO [IPv6:1::2::3]", 0, 0, "ERR 501 5.5.4 IPv6"},
    {"EHLO [IPv6:12345::1]", 0, 0, "ERR 501 5.5.4 IPv6"},
    {"EHLO [IPv6:1:2:3:4:5:6:7]", 0, 0, "ERR 501 5.5.4 IPv6"},
    {"EHLO [IPv6:g::1]", 0, 0, "ERR 501 5.5.4 IPv6"},
    {"EHLO [X-foo:bar]", 0, 0, "ERR 501 5.5.4 unsupported address literal"},
    {"EHLO [192.0.2.1", 0, 0, "ERR 501 5.5.4 unterminated"},

    /* MAIL (RFC 5321 4.1.1.2) */
    {"MAIL FROM:<alice@example.com>", 0, 0,
     "MAIL <alice@example.com> local=[alice] domain=[example.com]"},
    {"mail from:<Alice@Example.com>", 0, 0,
     "MAIL <Alice@Example.com> local=[Alice] domain=[Example.com]"},
    {"MAIL FROM:<>", 0, 0, "MAIL <> null"},
    {"MAIL FROM: <alice@example.com>", 0, 0,
     "MAIL <alice@example.com> local=[alice] domain=[example.com] lenient"},
    {"MAIL FROM:  <>", 0, 0, "MAIL <> null lenient"},
    {"MAIL FROM:alice@example.com", 0, 0, "ERR 553 5.1.7 angle brackets"},
    {"MAIL FROM:<alice@example.com", 0, 0, "ERR 553 5.1.7"},
    {"MAIL FROM:< alice@example.com>", 0, 0, "ERR 553 5.1.7"},
    {"MAIL FROM:<alice@example.com >", 0, 0, "ERR 553 5.1.7"},
    {"MAIL FROM :<alice@example.com>", 0, 0, "ERR 501 5.5.4 MAIL FROM:"},
    {"MAIL <alice@example.com>", 0, 0, "ERR 501 5.5.4 MAIL FROM:"},
    {"MAIL  FROM:<alice@example.com>", 0, 0, "ERR 501 5.5.4 MAIL FROM:"},
    {"MAIL", 0, 0, "ERR 501 5.5.4 MAIL FROM:"},
    {"MAIL FROM:<Postmaster>", 0, 0, "ERR 553 5.1.7 missing '@'"},
    {"MAIL FROM:<alice>", 0, 0, "ERR 553 5.1.7 missing '@'"},
    {"MAIL FROM:<@example.com>", 0, 0, "ERR 553 5.1.7"},
    {"MAIL FROM:<a@>", 0, 0, "ERR 553 5.1.7 missing domain"},
    {"MAIL FROM:<a b@example.com>", 0, 0, "ERR 553 5.1.7"},
    {"MAIL FROM:<a..b@example.com>", 0, 0, "ERR 553 5.1.7 '..'"},
    {"MAIL FROM:<.a@example.com>", 0, 0, "ERR 553 5.1.7 begins with '.'"},
    {"MAIL FROM:<a.@example.com>", 0, 0, "ERR 553 5.1.7 ends with '.'"},
    {"MAIL FROM:<a@b@example.com>", 0, 0, "ERR 553 5.1.7"},
    {"MAIL FROM:<a@example..com>", 0, 0, "ERR 553 5.1.7 empty domain label"},
    {"MAIL FROM:<a@example.com.>", 0, 0, "ERR 553 5.1.7 empty domain label"},
    {"MAIL FROM:<a@exa_mple.com>", 0, 0, "ERR 553 5.1.7"},
    {"MAIL FROM:<a(b)@example.com>", 0, 0, "ERR 553 5.1.7"},
    {"MAIL FROM:<a@[300.1.1.1]>", 0, 0, "ERR 553 5.1.7 IPv4"},
    {"MAIL FROM:<a@[192.0.2.1]>", 0, 0, "MAIL <a@[192.0.2.1]> local=[a] domain=[[192.0.2.1]] lit4"},
    {"MAIL FROM:<a@[IPv6:2001:db8::1]>", 0, 0,
     "MAIL <a@[IPv6:2001:db8::1]> local=[a] domain=[[IPv6:2001:db8::1]] lit6"},
    /* quoted local parts (RFC 5321 4.1.2 Quoted-string), decoded */
    {"MAIL FROM:<\"john doe\"@example.com>", 0, 0,
     "MAIL <\"john doe\"@example.com> local=[john doe] domain=[example.com] quoted"},
    {"MAIL FROM:<\"a\\\"b\\\\c\"@example.com>", 0, 0,
     "MAIL <\"a\\\"b\\\\c\"@example.com> local=[a\"b\\c] domain=[example.com] quoted"},
    {"MAIL FROM:<\"\\a\"@example.com>", 0, 0,
     "MAIL <a@example.com> local=[a] domain=[example.com] quoted"},
    {"MAIL FROM:<\"a@b\"@example.com>", 0, 0,
     "MAIL <\"a@b\"@example.com> local=[a@b] domain=[example.com] quoted"},
    {"MAIL FROM:<\"a>b\"@example.com> SIZE=1", 0, 0,
     "MAIL <\"a>b\"@example.com> local=[a>b] domain=[example.com] quoted size=1"},
    {"MAIL FROM:<\"\"@example.com>", 0, 0,
     "MAIL <\"\"@example.com> local=[] domain=[example.com] quoted"},
    {"MAIL FROM:<\"a\"b@example.com>", 0, 0, "ERR 553 5.1.7 missing '@'"},
    {"MAIL FROM:<\"ab@example.com>", 0, 0, "ERR 553 5.1.7 unterminated"},
    {"MAIL FROM:<\"a\tb\"@example.com>", 0, 0, "ERR 500 5.5.2 control"},
    /* source routes (RFC 5321 4.1.1.3, Appendix C): parsed and reported */
    {"MAIL FROM:<@a.example,@b.example:user@c.example>", 0, 0,
     "MAIL <user@c.example> local=[user] domain=[c.example] route"},
    {"MAIL FROM:<@a.example:user@c.example>", 0, 0,
     "MAIL <user@c.example> local=[user] domain=[c.example] route"},
    {"MAIL FROM:<@a.example user@c.example>", 0, 0, "ERR 553 5.1.7 source route"},
    {"MAIL FROM:<@b\xc3\xbc.example:user@c.example> SMTPUTF8", 0, 0, "ERR 553 5.1.7 non-ASCII"},
    {"MAIL FROM:<@[192.0.2.1]:user@c.example>", 0, 0, "ERR 553 5.1.7"},
    {"MAIL FROM:<@a.example,user@c.example>", 0, 0, "ERR 553 5.1.7"},
    /* relay tricks: reported, not judged */
    {"MAIL FROM:<user%other@host.example>", 0, 0,
     "MAIL <user%other@host.example> local=[user%other] domain=[host.example] percent"},
    {"MAIL FROM:<a!b@c.example>", 0, 0, "MAIL <a!b@c.example> local=[a!b] domain=[c.example] bang"},
    {"MAIL FROM:<\"a%b\"@c.example>", 0, 0,
     "MAIL <a%b@c.example> local=[a%b] domain=[c.example] quoted percent"},
    /* UTF-8 (RFC 6531 3.3) only with SMTPUTF8 */
    {"MAIL FROM:<j\xc3\xbcrgen@example.com>", 0, 0, "ERR 553 5.6.7 SMTPUTF8"},
    {"MAIL FROM:<j\xc3\xbcrgen@example.com> SMTPUTF8", 0, 0,
     "MAIL <j\xc3\xbcrgen@example.com> local=[j\xc3\xbcrgen] domain=[example.com] utf8 smtputf8"},
    {"MAIL FROM:<a@b\xc3\xbc"
     "cher.example> SMTPUTF8",
     0, 0,
     "MAIL <a@b\xc3\xbc"
     "cher.example> local=[a] domain=[b\xc3\xbc"
     "cher.example] utf8 "
     "smtputf8"},
    {"MAIL FROM:<a@b\xc3\xbc"
     "cher.example>",
     0, 0, "ERR 553 5.6.7"},
    {"MAIL FROM:<\"j\xc3\xbc rgen\"@example.com> SMTPUTF8", 0, 0,
     "MAIL <\"j\xc3\xbc rgen\"@example.com> local=[j\xc3\xbc rgen] domain=[example.com] quoted "
     "utf8 smtputf8"},
    {"MAIL FROM:<j\xc3rgen@example.com> SMTPUTF8", 0, 0, "ERR 553 5.1.7 UTF-8"},
    {"MAIL FROM:<j\xc0\xafrgen@example.com> SMTPUTF8", 0, 0, "ERR 553 5.1.7 UTF-8"},
    {"MAIL FROM:<a@\xff.example> SMTPUTF8", 0, 0, "ERR 553 5.1.7 UTF-8"},
    /* parameters (RFC 1870, 6152, 3030, 6531, 3461, 4954) */
    {"MAIL FROM:<a@b.example> SIZE=1000", 0, 0,
     "MAIL <a@b.example> local=[a] domain=[b.example] size=1000"},
    {"MAIL FROM:<a@b.example> size=0", 0, 0,
     "MAIL <a@b.example> local=[a] domain=[b.example] size=0"},
    {"MAIL FROM:<a@b.example> SIZE=99999999999999999999", 0, 0,
     "MAIL <a@b.example> local=[a] domain=[b.example] size=18446744073709551615"},
    {"MAIL FROM:<a@b.example> SIZE=123456789012345678901", 0, 0, "ERR 501 5.5.4 invalid SIZE"},
    {"MAIL FROM:<a@b.example> SIZE=12k", 0, 0, "ERR 501 5.5.4 invalid SIZE"},
    {"MAIL FROM:<a@b.example> SIZE=", 0, 0, "ERR 501 5.5.4 invalid parameter value"},
    {"MAIL FROM:<a@b.example> SIZE", 0, 0, "ERR 501 5.5.4 invalid SIZE"},
    {"MAIL FROM:<a@b.example> SIZE=1 SIZE=2", 0, 0, "ERR 501 5.5.4 duplicate SIZE"},
    {"MAIL FROM:<a@b.example> SIZE=1 size=1", 0, 0, "ERR 501 5.5.4 duplicate SIZE"},
    {"MAIL FROM:<a@b.example> BODY=8BITMIME", 0, 0,
     "MAIL <a@b.example> local=[a] domain=[b.example] body=8BITMIME"},
    {"MAIL FROM:<a@b.example> body=binarymime", 0, 0,
     "MAIL <a@b.example> local=[a] domain=[b.example] body=BINARYMIME"},
    {"MAIL FROM:<a@b.example> BODY=7BIT", 0, 0,
     "MAIL <a@b.example> local=[a] domain=[b.example] body=7BIT"},
    {"MAIL FROM:<a@b.example> BODY=9BIT", 0, 0, "ERR 501 5.5.4 invalid BODY"},
    {"MAIL FROM:<a@b.example> BODY=7BIT BODY=8BITMIME", 0, 0, "ERR 501 5.5.4 duplicate BODY"},
    {"MAIL FROM:<a@b.example> SMTPUTF8", 0, 0,
     "MAIL <a@b.example> local=[a] domain=[b.example] smtputf8"},
    {"MAIL FROM:<a@b.example> SMTPUTF8=yes", 0, 0, "ERR 501 5.5.4 no value"},
    {"MAIL FROM:<a@b.example> SMTPUTF8 SMTPUTF8", 0, 0, "ERR 501 5.5.4 duplicate SMTPUTF8"},
    {"MAIL FROM:<a@b.example> RET=HDRS ENVID=QQ314159", 0, 0,
     "MAIL <a@b.example> local=[a] domain=[b.example] ret=HDRS envid=[QQ314159]"},
    {"MAIL FROM:<a@b.example> ret=full", 0, 0,
     "MAIL <a@b.example> local=[a] domain=[b.example] ret=FULL"},
    {"MAIL FROM:<a@b.example> RET=ALL", 0, 0, "ERR 501 5.5.4 invalid RET"},
    {"MAIL FROM:<a@b.example> RET=FULL RET=HDRS", 0, 0, "ERR 501 5.5.4 duplicate RET"},
    {"MAIL FROM:<a@b.example> ENVID=a+2Bb+20c", 0, 0,
     "MAIL <a@b.example> local=[a] domain=[b.example] envid=[a+b c]"},
    {"MAIL FROM:<a@b.example> ENVID=a+2bb", 0, 0,
     "MAIL <a@b.example> local=[a] domain=[b.example] envid=[a+b]"},
    {"MAIL FROM:<a@b.example> ENVID=a+2", 0, 0, "ERR 501 5.5.4 invalid ENVID"},
    {"MAIL FROM:<a@b.example> ENVID=a+0Db", 0, 0, "ERR 501 5.5.4 invalid ENVID"},
    {"MAIL FROM:<a@b.example> ENVID=a+C3+BC", 0, 0, "ERR 501 5.5.4 invalid ENVID"},
    {"MAIL FROM:<a@b.example> ENVID=a=b", 0, 0, "ERR 501 5.5.4 invalid parameter value"},
    {"MAIL FROM:<a@b.example> AUTH=<>", 0, 0,
     "MAIL <a@b.example> local=[a] domain=[b.example] auth=[<>]"},
    {"MAIL FROM:<a@b.example> AUTH=e+3Dmc2@example.com", 0, 0,
     "MAIL <a@b.example> local=[a] domain=[b.example] auth=[e=mc2@example.com]"},
    {"MAIL FROM:<a@b.example> AUTH=<> AUTH=<>", 0, 0, "ERR 501 5.5.4 duplicate AUTH"},
    {"MAIL FROM:<a@b.example> FOO=bar", 0, 0, "ERR 555 5.5.4 unknown MAIL parameter"},
    {"MAIL FROM:<a@b.example> X-FOO", 0, 0, "ERR 555 5.5.4 unknown MAIL parameter"},
    {"MAIL FROM:<a@b.example> NOTIFY=NEVER", 0, 0, "ERR 555 5.5.4 unknown MAIL parameter"},
    {"MAIL FROM:<a@b.example> =1", 0, 0, "ERR 501 5.5.4 invalid parameter syntax"},
    {"MAIL FROM:<a@b.example> -X=1", 0, 0, "ERR 501 5.5.4 invalid parameter syntax"},
    {"MAIL FROM:<a@b.example> SIZE=\xc3\xbc", 0, 0, "ERR 501 5.5.4 invalid parameter value"},
    {"MAIL FROM:<a@b.example>  SIZE=1  BODY=8BITMIME ", 0, 0,
     "MAIL <a@b.example> local=[a] domain=[b.example] size=1 body=8BITMIME lenient"},
    {"MAIL FROM:<a@b.example>SIZE=1", 0, 0, "ERR 501 5.5.4 text after"},
    {"MAIL FROM:<a@b.example> SIZE=1 BODY=8BITMIME SMTPUTF8 RET=FULL ENVID=x AUTH=<>", 0, 0,
     "MAIL <a@b.example> local=[a] domain=[b.example] size=1 body=8BITMIME smtputf8 ret=FULL "
     "envid=[x] auth=[<>]"},

    /* RCPT (RFC 5321 4.1.1.3) */
    {"RCPT TO:<bob@example.org>", 0, 0, "RCPT <bob@example.org> local=[bob] domain=[example.org]"},
    {"rcpt to:<bob@example.org>", 0, 0, "RCPT <bob@example.org> local=[bob] domain=[example.org]"},
    {"RCPT TO: <bob@example.org>", 0, 0,
     "RCPT <bob@example.org> local=[bob] domain=[example.org] lenient"},
    {"RCPT TO:<Postmaster>", 0, 0, "RCPT <Postmaster> postmaster"},
    {"RCPT TO:<postmaster>", 0, 0, "RCPT <postmaster> postmaster"},
    {"RCPT TO:<postmaster@example.org>", 0, 0,
     "RCPT <postmaster@example.org> local=[postmaster] domain=[example.org]"},
    {"RCPT TO:<postmaster> NOTIFY=NEVER", 0, 0, "RCPT <postmaster> postmaster notify=N"},
    {"RCPT TO:<>", 0, 0, "ERR 553 5.1.3 empty recipient"},
    {"RCPT TO:<bob>", 0, 0, "ERR 553 5.1.3 missing '@'"},
    {"RCPT TO:bob@example.org", 0, 0, "ERR 553 5.1.3"},
    {"RCPT FROM:<bob@example.org>", 0, 0, "ERR 501 5.5.4 RCPT TO:"},
    {"RCPT TO:<@relay.example:bob@example.org>", 0, 0,
     "RCPT <bob@example.org> local=[bob] domain=[example.org] route"},
    {"RCPT TO:<bob%example.org@relay.example>", 0, 0,
     "RCPT <bob%example.org@relay.example> local=[bob%example.org] domain=[relay.example] percent"},
    {"RCPT TO:<example.org!bob@relay.example>", 0, 0,
     "RCPT <example.org!bob@relay.example> local=[example.org!bob] domain=[relay.example] bang"},
    {"RCPT TO:<bob@example.org> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;bob@example.org", 0, 0,
     "RCPT <bob@example.org> local=[bob] domain=[example.org] notify=SF "
     "orcpt=rfc822;[bob@example.org]"},
    {"RCPT TO:<bob@example.org> notify=delay", 0, 0,
     "RCPT <bob@example.org> local=[bob] domain=[example.org] notify=D"},
    {"RCPT TO:<bob@example.org> NOTIFY=NEVER,SUCCESS", 0, 0, "ERR 501 5.5.4 NEVER"},
    {"RCPT TO:<bob@example.org> NOTIFY=SUCCESS,SUCCESS", 0, 0, "ERR 501 5.5.4 twice"},
    {"RCPT TO:<bob@example.org> NOTIFY=SUCCESS,", 0, 0, "ERR 501 5.5.4 invalid NOTIFY"},
    {"RCPT TO:<bob@example.org> NOTIFY=ALWAYS", 0, 0, "ERR 501 5.5.4 invalid NOTIFY"},
    {"RCPT TO:<bob@example.org> NOTIFY=DELAY NOTIFY=DELAY", 0, 0, "ERR 501 5.5.4 duplicate NOTIFY"},
    {"RCPT TO:<bob@example.org> ORCPT=rfc822;a+2Bb@example.org", 0, 0,
     "RCPT <bob@example.org> local=[bob] domain=[example.org] orcpt=rfc822;[a+b@example.org]"},
    {"RCPT TO:<bob@example.org> ORCPT=rfc822", 0, 0, "ERR 501 5.5.4 invalid ORCPT"},
    {"RCPT TO:<bob@example.org> ORCPT=;bob@example.org", 0, 0, "ERR 501 5.5.4 address type"},
    {"RCPT TO:<bob@example.org> ORCPT=rfc822;", 0, 0, "ERR 501 5.5.4 invalid ORCPT address"},
    {"RCPT TO:<bob@example.org> ORCPT=rfc822;a ORCPT=rfc822;b", 0, 0,
     "ERR 501 5.5.4 duplicate ORCPT"},
    {"RCPT TO:<bob@example.org> SIZE=1", 0, 0, "ERR 555 5.5.4 unknown RCPT parameter"},
    {"RCPT TO:<bob@example.org> SMTPUTF8", 0, 0, "ERR 555 5.5.4 unknown RCPT parameter"},
    {"RCPT TO:<\xc3\xbc@example.org>", 0, 0, "ERR 553 5.6.7"},
    {"RCPT TO:<\xc3\xbc@example.org>", 0, U8,
     "RCPT <\xc3\xbc@example.org> local=[\xc3\xbc] domain=[example.org] utf8"},
    {"RCPT TO:<bob@example.org> ORCPT=utf-8;\xc3\xbc@example.org", 0, U8,
     "RCPT <bob@example.org> local=[bob] domain=[example.org] orcpt=utf-8;[\xc3\xbc@example.org]"},
    {"RCPT TO:<bob@example.org> ORCPT=utf-8;\xc3\xbc@example.org", 0, 0,
     "ERR 501 5.5.4 invalid parameter value"},

    /* the other verbs */
    {"DATA", 0, 0, "DATA"},
    {"data", 0, 0, "DATA"},
    {"DATA ", 0, 0, "DATA lenient"},
    {"DATA now", 0, 0, "ERR 501 5.5.4 no parameters"},
    {"RSET", 0, 0, "RSET"},
    {"RSET x", 0, 0, "ERR 501 5.5.4"},
    {"QUIT", 0, 0, "QUIT"},
    {"quit", 0, 0, "QUIT"},
    {"STARTTLS", 0, 0, "STARTTLS"},
    {"STARTTLS now", 0, 0, "ERR 501 5.5.4 no parameters"},
    {"NOOP", 0, 0, "NOOP"},
    {"NOOP hello there", 0, 0, "NOOP arg=[hello there]"},
    {"HELP", 0, 0, "HELP"},
    {"HELP MAIL", 0, 0, "HELP arg=[MAIL]"},
    {"VRFY bob", 0, 0, "VRFY arg=[bob]"},
    {"VRFY \"Bob Smith\" <bob@example.org>", 0, 0, "VRFY arg=[\"Bob Smith\" <bob@example.org>]"},
    {"VRFY", 0, 0, "ERR 501 5.5.4 argument required"},
    {"EXPN staff", 0, 0, "EXPN arg=[staff]"},
    {"EXPN", 0, 0, "ERR 501 5.5.4 argument required"},
    {"NOOP \xff", 0, 0, "ERR 501 5.5.4 UTF-8"},
    /* BDAT (RFC 3030 2) */
    {"BDAT 1000", 0, 0, "BDAT 1000"},
    {"BDAT 0 LAST", 0, 0, "BDAT 0 last"},
    {"bdat 12 last", 0, 0, "BDAT 12 last"},
    {"BDAT 18446744073709551615 LAST", 0, 0, "BDAT 18446744073709551615 last"},
    {"BDAT 18446744073709551616", 0, 0, "ERR 501 5.5.4 too large"},
    {"BDAT", 0, 0, "ERR 501 5.5.4 BDAT size"},
    {"BDAT x", 0, 0, "ERR 501 5.5.4 BDAT size"},
    {"BDAT -1", 0, 0, "ERR 501 5.5.4 BDAT size"},
    {"BDAT 10 LASTX", 0, 0, "ERR 501 5.5.4 BDAT size"},
    {"BDAT 10  LAST", 0, 0, "ERR 501 5.5.4 BDAT size"},
    {"BDAT 10 LAST x", 0, 0, "ERR 501 5.5.4 BDAT size"},
    /* AUTH (RFC 4954 4) */
    {"AUTH PLAIN", 0, 0, "AUTH PLAIN"},
    {"auth plain AGFsaWNlAHNlY3JldA==", 0, 0, "AUTH PLAIN ir=[AGFsaWNlAHNlY3JldA==]"},
    {"AUTH PLAIN =", 0, 0, "AUTH PLAIN ir=[]"},
    {"AUTH SCRAM-SHA-256", 0, 0, "AUTH SCRAM-SHA-256"},
    {"AUTH X_MECH dGVzdA==", 0, 0, "AUTH X_MECH ir=[dGVzdA==]"},
    {"AUTH PLAIN abc", 0, 0, "ERR 501 5.5.2 decode"},
    {"AUTH PLAIN ab=c", 0, 0, "ERR 501 5.5.2 decode"},
    {"AUTH PLAIN a===", 0, 0, "ERR 501 5.5.2 decode"},
    {"AUTH PLAIN ab*c", 0, 0, "ERR 501 5.5.2 decode"},
    {"AUTH PLAIN dGVzdA== x", 0, 0, "ERR 501 5.5.4 syntax"},
    {"AUTH", 0, 0, "ERR 501 5.5.4 mechanism"},
    {"AUTH PL@IN", 0, 0, "ERR 501 5.5.4 mechanism"},
    {"AUTH ABCDEFGHIJKLMNOPQRSTU", 0, 0, "ERR 501 5.5.4 mechanism"},
    {"AUTH ABCDEFGHIJKLMNOPQRST", 0, 0, "AUTH ABCDEFGHIJKLMNOPQRST"},
    /* unknown verbs are not errors here */
    {"GET / HTTP/1.1", 0, 0, "UNKNOWN verb=[GET] arg=[/ HTTP/1.1]"},
    {"XYZZY", 0, 0, "UNKNOWN verb=[XYZZY]"},
    {"MAILFROM:<a@b.example>", 0, 0, "UNKNOWN verb=[MAILFROM:<a@b.example>]"},
    /* not command lines at all */
    {"", 0, 0, "ERR 500 5.5.2 empty"},
    {" EHLO x.example", 0, 0, "ERR 500 5.5.2 begins with a space"},
    {"EHLO x.example\r", 0, 0, "ERR 500 5.5.2 control"},
    {"EHLO x.example\n", 0, 0, "ERR 500 5.5.2 control"},
    {"EHLO x\0.example", 16, 0, "ERR 500 5.5.2 control"},
    {"QUIT\x7f", 0, 0, "ERR 500 5.5.2 control"},
    {"MAIL FROM:<a@b.example>\tSIZE=1", 0, 0, "ERR 500 5.5.2 control"},
};

static void check_error(const char *what, size_t row, const char *line, const smtp_error *e,
                        const char *want)
{
    char got[256];
    char enh[SMTP_ENHANCED_TEXT_MAX + 1];

    assert_non_null(e->text);
    assert_true(smtp_enhanced_format(&e->enhanced, enh) > 0);
    snprintf(got, sizeof(got), "ERR %u %s %s", e->code, enh, e->text);
    /* want: "ERR code enh [substring]" */
    size_t prefix = strlen("ERR 501 5.5.4");
    if (strncmp(got, want, prefix) != 0 ||
        (strlen(want) > prefix + 1 && strstr(e->text, want + prefix + 1) == NULL))
        fail_msg("%s row %zu \"%s\": got \"%s\", wanted \"%s\"", what, row, line, got, want);
}

static void test_command_rows(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(cmd_rows) / sizeof(cmd_rows[0]); i++) {
        const cmd_row *r = &cmd_rows[i];
        size_t len = r->len != 0 ? r->len : strlen(r->line);
        smtp_command cmd;
        smtp_error err;
        memset(&err, 0, sizeof(err));
        int rc = smtp_command_parse(r->line, len, r->flags, &cmd, &err);
        if (strncmp(r->want, "ERR ", 4) == 0) {
            if (rc != -1) {
                char got[1024];
                describe(&cmd, got, sizeof(got));
                fail_msg("row %zu \"%s\": accepted as \"%s\"", i, r->line, got);
            }
            check_error("command", i, r->line, &err, r->want);
            assert_int_equal(cmd.verb, SMTP_VERB_UNKNOWN);
        } else {
            if (rc != 1)
                fail_msg("row %zu \"%s\": refused: %u %s", i, r->line, err.code, err.text);
            char got[1024];
            describe(&cmd, got, sizeof(got));
            if (strcmp(got, r->want) != 0)
                fail_msg("row %zu \"%s\":\n got  \"%s\"\n want \"%s\"", i, r->line, got, r->want);
        }
    }
}

/* A path re-formatted from its parse parses back to the same path. */
static void test_path_roundtrip(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(cmd_rows) / sizeof(cmd_rows[0]); i++) {
        const cmd_row *r = &cmd_rows[i];
        smtp_command cmd, again;
        smtp_error err;
        size_t len = r->len != 0 ? r->len : strlen(r->line);
        if (smtp_command_parse(r->line, len, r->flags, &cmd, &err) != 1 ||
            (cmd.verb != SMTP_VERB_MAIL && cmd.verb != SMTP_VERB_RCPT))
            continue;
        char line[SMTP_PATH_MAX + 64];
        char path[SMTP_PATH_MAX + 1];
        assert_true(smtp_path_format(&cmd.path, path, sizeof(path)) > 0);
        snprintf(line, sizeof(line), "%s %s%s%s", cmd.verb == SMTP_VERB_MAIL ? "MAIL" : "RCPT",
                 cmd.verb == SMTP_VERB_MAIL ? "FROM:" : "TO:", path,
                 cmd.path.utf8 && cmd.verb == SMTP_VERB_MAIL ? " SMTPUTF8" : "");
        if (smtp_command_parse(line, strlen(line), r->flags, &again, &err) != 1)
            fail_msg("row %zu: \"%s\" refused: %s", i, line, err.text);
        assert_string_equal(again.path.local, cmd.path.local);
        assert_string_equal(again.path.domain.name, cmd.path.domain.name);
        assert_int_equal(again.path.null, cmd.path.null);
        assert_int_equal(again.path.postmaster, cmd.path.postmaster);
        assert_false(again.path.source_route);
    }
}

static void fill(char *p, char c, size_t n)
{
    memset(p, c, n);
}

/* RFC 5321 4.5.3.1: local part 64, domain 255, path 256, lines 512. */
static void test_lengths(void **state)
{
    (void)state;
    char line[16384], want[512];
    smtp_command cmd;
    smtp_error err;
    int n;

    /* 64-octet local part: ok; 65: refused */
    n = snprintf(line, sizeof(line), "MAIL FROM:<");
    fill(line + n, 'l', 64);
    snprintf(line + n + 64, sizeof(line) - (size_t)n - 64, "@example.com>");
    assert_int_equal(smtp_command_parse(line, strlen(line), 0, &cmd, &err), 1);
    assert_int_equal(cmd.path.local_len, 64);
    fill(line + n, 'l', 65);
    snprintf(line + n + 65, sizeof(line) - (size_t)n - 65, "@example.com>");
    assert_int_equal(smtp_command_parse(line, strlen(line), 0, &cmd, &err), -1);
    assert_int_equal(err.code, 553);
    assert_non_null(strstr(err.text, "longer than 64"));

    /* a quoted local part counts as written: 62 + 2 quotes ok, 63 + 2 not */
    n = snprintf(line, sizeof(line), "MAIL FROM:<\"");
    fill(line + n, 'q', 62);
    snprintf(line + n + 62, sizeof(line) - (size_t)n - 62, "\"@example.com>");
    assert_int_equal(smtp_command_parse(line, strlen(line), 0, &cmd, &err), 1);
    assert_int_equal(cmd.path.local_len, 62);
    fill(line + n, 'q', 63);
    snprintf(line + n + 63, sizeof(line) - (size_t)n - 63, "\"@example.com>");
    assert_int_equal(smtp_command_parse(line, strlen(line), 0, &cmd, &err), -1);
    assert_non_null(strstr(err.text, "longer than 64"));

    /* a 64-octet UTF-8 local part (32 x U+00FC) with SMTPUTF8: octets count */
    n = snprintf(line, sizeof(line), "MAIL FROM:<");
    for (int i = 0; i < 32; i++)
        n += snprintf(line + n, sizeof(line) - (size_t)n, "\xc3\xbc");
    snprintf(line + n, sizeof(line) - (size_t)n, "@example.com> SMTPUTF8");
    assert_int_equal(smtp_command_parse(line, strlen(line), 0, &cmd, &err), 1);
    assert_int_equal(cmd.path.local_len, 64);

    /* domain: 255 octets ok when the path stays within 256; the path limit
     * itself: 256 ok, 257 refused with 501 (RFC 5321 4.5.3.1.10) */
    n = snprintf(line, sizeof(line), "RCPT TO:<a@");
    size_t dom = 256 - 4; /* "<a@" + domain + ">" = 256 */
    for (size_t i = 0; i < dom; i++)
        line[n + i] = (i % 50 == 49) ? '.' : 'd';
    snprintf(line + n + dom, sizeof(line) - (size_t)n - dom, ">");
    assert_int_equal(smtp_command_parse(line, strlen(line), 0, &cmd, &err), 1);
    assert_int_equal(strlen(cmd.path.domain.name), dom);
    line[n + dom] = 'd';
    snprintf(line + n + dom + 1, sizeof(line) - (size_t)n - dom - 1, ">");
    assert_int_equal(smtp_command_parse(line, strlen(line), 0, &cmd, &err), -1);
    assert_int_equal(err.code, 501);
    assert_int_equal(err.enhanced.detail, 3);
    assert_non_null(strstr(err.text, "path longer"));

    /* a domain over 255 octets: refused as such */
    n = snprintf(line, sizeof(line), "EHLO ");
    for (size_t i = 0; i < 256; i++)
        line[n + i] = (i % 50 == 49) ? '.' : 'd';
    line[n + 256] = '\0';
    assert_int_equal(smtp_command_parse(line, strlen(line), 0, &cmd, &err), -1);
    assert_non_null(strstr(err.text, "255"));
    line[n + 255] = '\0';
    assert_int_equal(smtp_command_parse(line, strlen(line), 0, &cmd, &err), 1);

    /* 510 octets + CRLF = 512: ok; 511: line too long */
    fill(line, 'x', 511);
    memcpy(line, "NOOP ", 5);
    assert_int_equal(smtp_command_parse(line, 510, 0, &cmd, &err), 1);
    assert_int_equal(smtp_command_parse(line, 511, 0, &cmd, &err), -1);
    assert_int_equal(err.code, 500);
    assert_non_null(strstr(err.text, "too long"));
    /* unknown verbs too */
    memcpy(line, "XXXX ", 5);
    assert_int_equal(smtp_command_parse(line, 511, 0, &cmd, &err), -1);

    /* MAIL may use SMTP_MAIL_LINE_MAX: the 500 octets of AUTH= among them */
    n = snprintf(line, sizeof(line), "MAIL FROM:<a@b.example> SIZE=1 AUTH=");
    size_t room = SMTP_MAIL_LINE_MAX - 2 - (size_t)n;
    assert_true(room > SMTP_AUTH_PARAM_MAX);
    fill(line + n, 'a', SMTP_AUTH_PARAM_MAX);
    assert_int_equal(smtp_command_parse(line, (size_t)n + SMTP_AUTH_PARAM_MAX, 0, &cmd, &err), 1);
    assert_int_equal(strlen(cmd.mail.auth), SMTP_AUTH_PARAM_MAX);
    fill(line + n, 'a', SMTP_AUTH_PARAM_MAX + 1);
    assert_int_equal(smtp_command_parse(line, (size_t)n + SMTP_AUTH_PARAM_MAX + 1, 0, &cmd, &err),
                     -1);
    assert_non_null(strstr(err.text, "invalid AUTH"));
    fill(line, 'x', SMTP_MAIL_LINE_MAX);
    memcpy(line, "MAIL FROM:<a@b.example> X=", 26);
    assert_int_equal(smtp_command_parse(line, SMTP_MAIL_LINE_MAX - 1, 0, &cmd, &err), -1);
    if (strstr(err.text, "too long") == NULL)
        fail_msg("%s", err.text);

    /* ENVID: 100 octets of xtext ok, 101 not */
    n = snprintf(line, sizeof(line), "MAIL FROM:<> ENVID=");
    fill(line + n, 'e', SMTP_ENVID_MAX + 1);
    assert_int_equal(smtp_command_parse(line, (size_t)n + SMTP_ENVID_MAX, 0, &cmd, &err), 1);
    assert_int_equal(smtp_command_parse(line, (size_t)n + SMTP_ENVID_MAX + 1, 0, &cmd, &err), -1);

    /* RCPT: ORCPT of 500 octets within SMTP_RCPT_LINE_MAX */
    n = snprintf(line, sizeof(line), "RCPT TO:<b@c.example> ORCPT=rfc822;");
    fill(line + n, 'o', SMTP_ORCPT_MAX + 1);
    assert_int_equal(smtp_command_parse(line, (size_t)n + SMTP_ORCPT_MAX, 0, &cmd, &err), 1);
    assert_int_equal(strlen(cmd.rcpt.orcpt), SMTP_ORCPT_MAX);
    assert_int_equal(smtp_command_parse(line, (size_t)n + SMTP_ORCPT_MAX + 1, 0, &cmd, &err), -1);

    /* AUTH with an XOAUTH2-sized initial response (RFC 4954 4: 12288) */
    n = snprintf(line, sizeof(line), "AUTH XOAUTH2 ");
    size_t ir = SMTP_AUTH_LINE_MAX - 2 - (size_t)n;
    ir -= ir % 4;
    fill(line + n, 'Q', ir);
    assert_int_equal(smtp_command_parse(line, (size_t)n + ir, 0, &cmd, &err), 1);
    assert_int_equal(cmd.auth_initial_len, ir);
    fill(line + n, 'Q', ir + 4);
    assert_int_equal(smtp_command_parse(line, (size_t)n + ir + 4, 0, &cmd, &err), -1);
    assert_non_null(strstr(err.text, "too long"));

    (void)want;
}

/* ---- line splitter ------------------------------------------------------ */

typedef struct {
    const char *in;
    size_t max;
    const char *want; /* events: "L<line>|" for a line, "B<line>|" bare LF, "E|" too long */
} line_row;

static const line_row line_rows[] = {
    {"EHLO a\r\n", 512, "LEHLO a|"},
    {"EHLO a\r\nMAIL FROM:<>\r\nRCPT TO:<b@c>\r\n", 512, "LEHLO a|LMAIL FROM:<>|LRCPT TO:<b@c>|"},
    {"NOOP\n", 512, "BNOOP|"},
    {"NOOP\r\r\n", 512, "LNOOP\r|"},
    {"\r\n", 512, "L|"},
    {"\n", 512, "B|"},
    {"QUIT", 512, ""},
    {"QUIT\r", 512, ""},
    {"12345678\r\n", 10, "L12345678|"},
    {"123456789\r\n", 10, "E|"},
    {"123456789\n", 10, "B123456789|"},
    {"1234567890\n", 10, "E|"},
    {"1234567890123456789012345\r\nNOOP\r\n", 10, "E|LNOOP|"},
    {"123456789012345678901234567890\r\nA\r\n12345678901\nB\r\n", 10, "E|LA|E|LB|"},
    {"1234567890123", 10, ""},
};

/* Feeds in as a connection would, cut at the given points (sorted; 0 ends
 * the list), and records the events. */
static void run_lines(const line_row *r, const size_t *cuts, char *events, size_t size)
{
    smtp_command_line st;
    char pending[256];
    size_t plen = 0, fed = 0, len = strlen(r->in);

    smtp_command_line_init(&st);
    events[0] = '\0';
    for (size_t c = 0;; c++) {
        size_t upto = cuts[c] != 0 && cuts[c] < len ? cuts[c] : len;
        memcpy(pending + plen, r->in + fed, upto - fed);
        plen += upto - fed;
        fed = upto;
        for (;;) {
            const char *line;
            size_t line_len, consumed;
            bool bare;
            smtp_error err;
            int rc = smtp_command_line_next(&st, pending, plen, r->max, &line, &line_len, &bare,
                                            &consumed, &err);
            assert_true(consumed <= plen);
            if (rc == 1)
                put(events, size, "%c%.*s|", bare ? 'B' : 'L', (int)line_len, line);
            else if (rc < 0)
                put(events, size, "E|");
            memmove(pending, pending + consumed, plen - consumed);
            plen -= consumed;
            if (rc == 0) {
                assert_true(plen < r->max); /* what waits for its LF is bounded */
                break;
            }
        }
        if (fed == len)
            break;
    }
}

static void test_line_rows(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(line_rows) / sizeof(line_rows[0]); i++) {
        const line_row *r = &line_rows[i];
        size_t len = strlen(r->in);
        char events[512];
        size_t cuts[1024];

        /* whole */
        cuts[0] = 0;
        run_lines(r, cuts, events, sizeof(events));
        if (strcmp(events, r->want) != 0)
            fail_msg("line row %zu: got \"%s\", wanted \"%s\"", i, events, r->want);
        /* every two-piece split */
        for (size_t at = 1; at < len; at++) {
            cuts[0] = at;
            cuts[1] = 0;
            run_lines(r, cuts, events, sizeof(events));
            if (strcmp(events, r->want) != 0)
                fail_msg("line row %zu split %zu: got \"%s\"", i, at, events);
        }
        /* one octet at a time */
        for (size_t k = 0; k < len; k++)
            cuts[k] = k + 1;
        cuts[len] = 0;
        run_lines(r, cuts, events, sizeof(events));
        if (strcmp(events, r->want) != 0)
            fail_msg("line row %zu bytewise: got \"%s\"", i, events);
    }
}

static void test_verb_names(void **state)
{
    (void)state;
    assert_string_equal(smtp_command_verb_name(SMTP_VERB_EHLO), "EHLO");
    assert_string_equal(smtp_command_verb_name(SMTP_VERB_STARTTLS), "STARTTLS");
    assert_string_equal(smtp_command_verb_name(SMTP_VERB_AUTH), "AUTH");
    assert_string_equal(smtp_command_verb_name(SMTP_VERB_UNKNOWN), "UNKNOWN");
}

/* smtp_path_parse on its own: what follows ">" stays with the caller. */
static void test_path_direct(void **state)
{
    (void)state;
    smtp_path p;
    smtp_error err;
    size_t consumed;
    char out[8];

    assert_int_equal(
        smtp_path_parse("<a@b.example> rest", 18, SMTP_PATH_FORWARD, &p, &consumed, &err), 1);
    assert_int_equal(consumed, 13);
    assert_int_equal(smtp_path_parse("<a@b.example", 12, SMTP_PATH_FORWARD, &p, &consumed, &err),
                     -1);
    assert_int_equal(consumed, 0);
    assert_string_equal(p.local, "");
    /* smtp_path_format refuses a buffer too small */
    assert_int_equal(smtp_path_parse("<ab@c.d>", 8, SMTP_PATH_FORWARD, &p, &consumed, &err), 1);
    assert_int_equal(smtp_path_format(&p, out, sizeof(out)), -1);
    assert_string_equal(out, "");
    char big[16];
    assert_int_equal(smtp_path_format(&p, big, sizeof(big)), 8);
    assert_string_equal(big, "<ab@c.d>");
    assert_int_equal(smtp_path_format(&p, big, 9), 8);
    assert_int_equal(smtp_path_format(&p, big, 8), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_command_rows), cmocka_unit_test(test_path_roundtrip),
        cmocka_unit_test(test_lengths),      cmocka_unit_test(test_line_rows),
        cmocka_unit_test(test_verb_names),   cmocka_unit_test(test_path_direct),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
