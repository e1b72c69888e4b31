/* Paths and domains of RFC 5321 4.1.2 / 4.1.3, with RFC 6531 3.3 UTF-8. */
#include "smtp_path.h"

#include <string.h>

#include "smtp_int.h"

/* A cursor over the input; the parse functions return NULL or a static
 * error text. */
typedef struct smtp_cursor {
    const unsigned char *s;
    size_t len;
    size_t i;
} smtp_cursor;

static int smtp_cursor_peek(const smtp_cursor *c)
{
    return c->i < c->len ? c->s[c->i] : -1;
}

/* atext (RFC 5322 3.2.3, as RFC 5321 4.1.2 uses it), ASCII part. */
static bool smtp_path_is_atext(unsigned char c)
{
    return smtp_is_alnum(c) || (c != '\0' && strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL);
}

/* qtextSMTP (RFC 5321 4.1.2), ASCII part: 32-33, 35-91, 93-126. */
static bool smtp_path_is_qtext(unsigned char c)
{
    return c >= 32 && c <= 126 && c != '"' && c != '\\';
}

/* A UTF-8 sequence at the cursor (which is at a non-ASCII octet): its
 * length, or 0 when malformed. */
static size_t smtp_path_utf8_at(const smtp_cursor *c)
{
    return smtp_utf8_len(c->s + c->i, c->len - c->i);
}

/* ---- domains ------------------------------------------------------------ */

/* Snum = 1*3DIGIT, 0..255 (RFC 5321 4.1.3). */
static bool smtp_path_snum(smtp_cursor *c, unsigned char *out)
{
    unsigned v = 0;
    size_t start = c->i;

    while (c->i < c->len && c->i - start < 3 && smtp_is_digit(c->s[c->i]))
        v = v * 10 + (unsigned)(c->s[c->i++] - '0');
    if (c->i == start || v > 255 || (c->i < c->len && smtp_is_digit(c->s[c->i])))
        return false;
    *out = (unsigned char)v;
    return true;
}

/* IPv4-address-literal = Snum 3("." Snum), up to the end of the cursor. */
static bool smtp_path_ipv4(smtp_cursor *c, unsigned char addr[4])
{
    for (int k = 0; k < 4; k++) {
        if (k > 0) {
            if (smtp_cursor_peek(c) != '.')
                return false;
            c->i++;
        }
        if (!smtp_path_snum(c, &addr[k]))
            return false;
    }
    return true;
}

static int smtp_path_hexval(unsigned char ch)
{
    if (smtp_is_digit(ch))
        return ch - '0';
    if (ch >= 'a' && ch <= 'f')
        return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F')
        return ch - 'A' + 10;
    return -1;
}

/* IPv6-addr (RFC 5321 4.1.3), the whole of s[0..len): IPv6-full,
 * IPv6-comp, IPv6v4-full or IPv6v4-comp. As the grammar says, "::" stands
 * for at least two groups: at most 6 groups (an IPv4 part counting two)
 * besides it. */
static bool smtp_path_ipv6(const unsigned char *s, size_t len, unsigned char addr[16])
{
    unsigned groups[8];
    int n = 0, gap = -1; /* gap: the group index where "::" was */
    size_t i = 0;

    if (len >= 2 && s[0] == ':' && s[1] == ':') {
        gap = 0;
        i = 2;
    } else if (len >= 1 && s[0] == ':') {
        return false;
    }
    while (i < len) {
        /* a group, or the IPv4 tail */
        size_t j = i;
        unsigned v = 0;
        while (j < len && j - i < 5 && smtp_path_hexval(s[j]) >= 0)
            v = v * 16 + (unsigned)smtp_path_hexval(s[j++]);
        if (j < len && s[j] == '.') {
            smtp_cursor c = {s, len, i};
            unsigned char a4[4];
            if (n > 6 || !smtp_path_ipv4(&c, a4) || c.i != len)
                return false;
            groups[n++] = (unsigned)(a4[0] << 8 | a4[1]);
            groups[n++] = (unsigned)(a4[2] << 8 | a4[3]);
            break;
        }
        if (j == i || j - i > 4 || n >= 8)
            return false;
        groups[n++] = v;
        i = j;
        if (i == len)
            break;
        if (s[i] != ':')
            return false;
        i++;
        if (i < len && s[i] == ':') {
            if (gap >= 0)
                return false;
            gap = n;
            i++;
        } else if (i == len) {
            return false; /* a trailing single ':' */
        }
    }
    if (gap < 0) {
        if (n != 8)
            return false;
    } else if (n > 6) {
        return false;
    }
    memset(addr, 0, 16);
    int k = 0;
    for (int g = 0; g < n; g++) {
        if (g == gap)
            k += 8 - n;
        addr[2 * k] = (unsigned char)(groups[g] >> 8);
        addr[2 * k + 1] = (unsigned char)(groups[g] & 0xff);
        k++;
    }
    return true;
}

/* address-literal at the cursor (at '['). */
static const char *smtp_path_literal(smtp_cursor *c, smtp_domain *d)
{
    size_t start = c->i, end = start + 1;

    while (end < c->len && c->s[end] != ']' && c->s[end] != '>' && c->s[end] != ' ')
        end++;
    if (end >= c->len || c->s[end] != ']')
        return "unterminated address literal";
    const unsigned char *in = c->s + start + 1;
    size_t n = end - start - 1;
    if (n > 5 && smtp_word_eq((const char *)in, 5, "IPV6:")) {
        if (!smtp_path_ipv6(in + 5, n - 5, d->addr))
            return "invalid IPv6 address literal";
        d->literal = SMTP_LITERAL_IPV6;
    } else {
        smtp_cursor v4 = {in, n, 0};
        if (memchr(in, ':', n) != NULL)
            return "unsupported address literal tag";
        if (!smtp_path_ipv4(&v4, d->addr) || v4.i != n)
            return "invalid IPv4 address literal";
        d->literal = SMTP_LITERAL_IPV4;
    }
    size_t total = end + 1 - start;
    if (total > SMTP_DOMAIN_MAX)
        return "address literal too long";
    memcpy(d->name, c->s + start, total);
    d->name[total] = '\0';
    c->i = end + 1;
    return NULL;
}

/* Domain = sub-domain *("." sub-domain) at the cursor; stops at the first
 * octet that cannot continue it. sub-domain = Let-dig [Ldh-str], or a
 * label with well-formed UTF-8 when utf8_ok (RFC 6531 3.3 U-label). */
static const char *smtp_path_domain_name(smtp_cursor *c, bool utf8_ok, smtp_domain *d)
{
    size_t start = c->i;

    for (;;) {
        size_t label = c->i;
        while (c->i < c->len) {
            unsigned char ch = c->s[c->i];
            if (smtp_is_alnum(ch) || ch == '-') {
                c->i++;
            } else if (ch >= 0x80) {
                size_t n = smtp_path_utf8_at(c);
                if (n == 0)
                    return "invalid UTF-8 in domain";
                if (!utf8_ok)
                    return "non-ASCII domain";
                d->utf8 = true;
                c->i += n;
            } else {
                break;
            }
        }
        if (c->i == label)
            return c->i == start ? "missing domain" : "empty domain label";
        if (c->s[label] == '-' || c->s[c->i - 1] == '-')
            return "domain label begins or ends with '-'";
        if (smtp_cursor_peek(c) != '.')
            break;
        c->i++;
    }
    size_t n = c->i - start;
    if (n > SMTP_DOMAIN_MAX)
        return "domain longer than 255 octets";
    memcpy(d->name, c->s + start, n);
    d->name[n] = '\0';
    d->literal = SMTP_LITERAL_NONE;
    return NULL;
}

/* Domain / address-literal at the cursor. */
static const char *smtp_path_domain(smtp_cursor *c, bool utf8_ok, bool literal_ok, smtp_domain *d)
{
    if (smtp_cursor_peek(c) == '[') {
        if (!literal_ok)
            return "address literal not allowed here";
        return smtp_path_literal(c, d);
    }
    return smtp_path_domain_name(c, utf8_ok, d);
}

int smtp_path_parse_domain(const char *s, size_t len, bool literal_ok, smtp_domain *domain_r,
                           smtp_error *error_r)
{
    smtp_cursor c = {(const unsigned char *)s, len, 0};

    memset(domain_r, 0, sizeof(*domain_r));
    const char *err = smtp_path_domain(&c, false, literal_ok, domain_r);
    if (err == NULL && c.i != len)
        err = "invalid domain";
    if (err != NULL) {
        memset(domain_r, 0, sizeof(*domain_r));
        return smtp_fail(error_r, 501, 5, 5, 4, err);
    }
    return 1;
}

/* ---- local part --------------------------------------------------------- */

/* Local-part = Dot-string / Quoted-string at the cursor, decoded into p. */
static const char *smtp_path_local(smtp_cursor *c, smtp_path *p)
{
    size_t start = c->i, n = 0;

    if (smtp_cursor_peek(c) == '"') {
        p->quoted = true;
        c->i++;
        for (;;) {
            if (c->i >= c->len)
                return "unterminated quoted local part";
            unsigned char ch = c->s[c->i];
            size_t w = 1;
            if (ch == '"') {
                c->i++;
                if (c->i - start > SMTP_LOCAL_MAX)
                    return "local part longer than 64 octets";
                break;
            }
            if (ch == '\\') {
                /* quoted-pairSMTP = %d92 %d32-126 */
                if (c->i + 1 >= c->len || c->s[c->i + 1] < 32 || c->s[c->i + 1] > 126)
                    return "invalid quoted pair in local part";
                c->i++;
                ch = c->s[c->i];
            } else if (ch >= 0x80) {
                if ((w = smtp_path_utf8_at(c)) == 0)
                    return "invalid UTF-8 in local part";
                p->utf8 = true;
            } else if (!smtp_path_is_qtext(ch)) {
                return "character not allowed in quoted local part";
            }
            if (c->i + w - start > SMTP_LOCAL_MAX)
                return "local part longer than 64 octets";
            memcpy(p->local + n, c->s + c->i, w);
            n += w;
            c->i += w;
        }
    } else {
        bool dot_ok = false; /* an atom precedes */
        for (;;) {
            int ch = smtp_cursor_peek(c);
            size_t w = 1;
            if (ch == '.') {
                if (!dot_ok)
                    return start == c->i ? "local part begins with '.'" : "'..' in local part";
                dot_ok = false;
            } else if (ch >= 0x80) {
                if ((w = smtp_path_utf8_at(c)) == 0)
                    return "invalid UTF-8 in local part";
                p->utf8 = true;
                dot_ok = true;
            } else if (ch >= 0 && smtp_path_is_atext((unsigned char)ch)) {
                dot_ok = true;
            } else {
                break;
            }
            if (c->i + w - start > SMTP_LOCAL_MAX)
                return "local part longer than 64 octets";
            memcpy(p->local + n, c->s + c->i, w);
            n += w;
            c->i += w;
        }
        if (c->i == start)
            return "missing local part";
        if (!dot_ok)
            return "local part ends with '.'";
    }
    p->local[n] = '\0';
    p->local_len = n;
    p->has_percent = memchr(p->local, '%', n) != NULL;
    p->has_bang = memchr(p->local, '!', n) != NULL;
    return NULL;
}

/* ---- paths -------------------------------------------------------------- */

/* A-d-l = At-domain *("," At-domain), then ":" (RFC 5321 4.1.2). The hops
 * are dropped, so they must be ASCII: RFC 6531 has no use for routes, and
 * UTF-8 here would slip past the SMTPUTF8 check of the path. */
static const char *smtp_path_route(smtp_cursor *c)
{
    smtp_domain hop;

    for (;;) {
        if (smtp_cursor_peek(c) != '@')
            return "invalid source route";
        c->i++;
        memset(&hop, 0, sizeof(hop));
        const char *err = smtp_path_domain_name(c, false, &hop);
        if (err != NULL)
            return err;
        int ch = smtp_cursor_peek(c);
        c->i++;
        if (ch == ':')
            return NULL;
        if (ch != ',')
            return "invalid source route";
    }
}

static const char *smtp_path_inner(smtp_cursor *c, smtp_path_kind kind, smtp_path *p)
{
    const char *err;

    if (smtp_cursor_peek(c) != '<')
        return "address not in angle brackets";
    c->i++;
    if (smtp_cursor_peek(c) == '>') {
        if (kind != SMTP_PATH_REVERSE)
            return "empty recipient address";
        p->null = true;
        c->i++;
        return NULL;
    }
    /* "<Postmaster>" (RFC 5321 4.1.1.3; the name is case-insensitive, 4.5.1) */
    if (kind == SMTP_PATH_FORWARD && c->len - c->i >= 11 &&
        smtp_word_eq((const char *)c->s + c->i, 10, "POSTMASTER") && c->s[c->i + 10] == '>') {
        memcpy(p->local, c->s + c->i, 10);
        p->local[10] = '\0';
        p->local_len = 10;
        p->postmaster = true;
        c->i += 11;
        return NULL;
    }
    if (smtp_cursor_peek(c) == '@') {
        if ((err = smtp_path_route(c)) != NULL)
            return err;
        p->source_route = true;
    }
    if ((err = smtp_path_local(c, p)) != NULL)
        return err;
    if (smtp_cursor_peek(c) != '@')
        return "missing '@' and domain";
    c->i++;
    if ((err = smtp_path_domain(c, true, true, &p->domain)) != NULL)
        return err;
    if (smtp_cursor_peek(c) != '>')
        return "invalid character in address";
    c->i++;
    p->utf8 = p->utf8 || p->domain.utf8;
    return NULL;
}

int smtp_path_parse(const char *s, size_t len, smtp_path_kind kind, smtp_path *path_r,
                    size_t *consumed_r, smtp_error *error_r)
{
    smtp_cursor c = {(const unsigned char *)s, len, 0};
    unsigned detail = kind == SMTP_PATH_REVERSE ? 7 : 3;

    memset(path_r, 0, sizeof(*path_r));
    *consumed_r = 0;
    const char *err = smtp_path_inner(&c, kind, path_r);
    if (err != NULL) {
        memset(path_r, 0, sizeof(*path_r));
        return smtp_fail(error_r, 553, 5, 1, detail, err);
    }
    /* RFC 5321 4.5.3.1.10: "501 Path too long" */
    if (c.i > SMTP_PATH_MAX) {
        memset(path_r, 0, sizeof(*path_r));
        return smtp_fail(error_r, 501, 5, 1, detail, "path longer than 256 octets");
    }
    *consumed_r = c.i;
    return 1;
}

/* True when the decoded local part can be written as a Dot-string. */
static bool smtp_path_is_dot_string(const char *s, size_t len)
{
    bool dot_ok = false;

    for (size_t i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (ch == '.') {
            if (!dot_ok)
                return false;
            dot_ok = false;
        } else if (ch >= 0x80 || smtp_path_is_atext(ch)) {
            dot_ok = true;
        } else {
            return false;
        }
    }
    return dot_ok;
}

int smtp_path_format(const smtp_path *path, char *out, size_t out_size)
{
    size_t n = 0;

#define SMTP_PATH_PUT(ch)                                                                          \
    do {                                                                                           \
        if (n + 1 >= out_size)                                                                     \
            goto too_long;                                                                         \
        out[n++] = (ch);                                                                           \
    } while (0)

    if (out_size == 0)
        return -1;
    SMTP_PATH_PUT('<');
    if (path->null) {
        SMTP_PATH_PUT('>');
        out[n] = '\0';
        return (int)n;
    }
    bool quote = !path->postmaster && !smtp_path_is_dot_string(path->local, path->local_len);
    if (quote)
        SMTP_PATH_PUT('"');
    for (size_t i = 0; i < path->local_len; i++) {
        if (quote && (path->local[i] == '"' || path->local[i] == '\\'))
            SMTP_PATH_PUT('\\');
        SMTP_PATH_PUT(path->local[i]);
    }
    if (quote)
        SMTP_PATH_PUT('"');
    if (!path->postmaster) {
        SMTP_PATH_PUT('@');
        for (const char *d = path->domain.name; *d != '\0'; d++)
            SMTP_PATH_PUT(*d);
    }
    SMTP_PATH_PUT('>');
    out[n] = '\0';
    return (int)n;
too_long:
    out[0] = '\0';
    return -1;
#undef SMTP_PATH_PUT
}
