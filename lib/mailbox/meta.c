/* lib/mailbox: what IMAP needs precomputed at delivery, from lib/mime.
 * Pure: bytes in, strings out. */
#include "mailbox.h"
#include "rfc3339.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "mime.h"

#define META_DATE_MAX 256   /* bytes of a Date: value looked at */
#define META_DATE_TOKENS 16 /* tokens of a Date: value looked at */

/* ---- CRLF ------------------------------------------------------------------ */

int mailbox_normalize_crlf(const char *in, size_t len, buf *out)
{
    size_t start = 0;
    for (size_t i = 0; i < len; i++) {
        if (in[i] != '\n' || (i > 0 && in[i - 1] == '\r'))
            continue;
        if (buf_append(out, in + start, i - start) < 0 || buf_append(out, "\r\n", 2) < 0)
            return -1;
        start = i + 1;
    }
    /* buf_append of nothing still makes an empty buffer NUL-terminated */
    return buf_append(out, in + start, len - start);
}

/* ---- Date: (RFC 5322 3.3 date-time, 4.3 obsolete forms) ----------------------- */

static unsigned date_month_days(int64_t y, unsigned m)
{
    static const unsigned days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return m == 2 && leap ? 29 : days[m - 1];
}

/* Copies s without comments (CFWS, nested, with quoted-pairs) and with
 * commas as spaces, then splits it into tokens at white space. */
static size_t date_tokens(const char *s, size_t len, char copy[META_DATE_MAX + 1],
                          char *tok[META_DATE_TOKENS])
{
    size_t n = 0, depth = 0;
    if (len > META_DATE_MAX)
        len = META_DATE_MAX;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (depth > 0 && c == '\\' && i + 1 < len)
            i++;
        else if (c == '(')
            depth++;
        else if (c == ')' && depth > 0)
            depth--;
        else if (depth == 0)
            copy[n++] = (c == ',' || c == '\t' || c == '\r' || c == '\n') ? ' ' : c;
    }
    copy[n] = '\0';
    size_t ntok = 0;
    for (char *save = NULL, *t = strtok_r(copy, " ", &save); t != NULL && ntok < META_DATE_TOKENS;
         t = strtok_r(NULL, " ", &save))
        tok[ntok++] = t;
    return ntok;
}

/* An unsigned decimal of 1..maxdigits digits, the whole token. */
static bool date_num(const char *t, size_t maxdigits, unsigned *v_r)
{
    size_t n = strlen(t);
    if (n == 0 || n > maxdigits || strspn(t, "0123456789") != n)
        return false;
    *v_r = (unsigned)strtoul(t, NULL, 10);
    return true;
}

static unsigned date_month(const char *t)
{
    static const char *const names[12] = {"jan", "feb", "mar", "apr", "may", "jun",
                                          "jul", "aug", "sep", "oct", "nov", "dec"};
    if (strlen(t) < 3)
        return 0;
    for (unsigned i = 0; i < 12; i++)
        if (strncasecmp(t, names[i], 3) == 0)
            return i + 1;
    return 0;
}

/* "hh:mm" or "hh:mm:ss" into seconds of the day. */
static bool date_time(const char *t, int64_t *secs_r)
{
    unsigned h = 0, m = 0, s = 0;
    char hh[3] = {0}, mm[3] = {0}, ss[3] = {0};
    size_t n = strlen(t);
    if ((n != 5 && n != 8) || t[2] != ':' || (n == 8 && t[5] != ':'))
        return false;
    memcpy(hh, t, 2);
    memcpy(mm, t + 3, 2);
    if (n == 8)
        memcpy(ss, t + 6, 2);
    if (!date_num(hh, 2, &h) || !date_num(mm, 2, &m) || (n == 8 && !date_num(ss, 2, &s)))
        return false;
    if (h > 23 || m > 59 || s > 60)
        return false;
    *secs_r = (int64_t)h * 3600 + m * 60 + (s == 60 ? 59 : s);
    return true;
}

/* Zone offset in seconds east of UTC; obsolete names (RFC 5322 4.3); an
 * unknown or military zone counts as -0000 (unknown, taken as UTC). */
static int64_t date_zone(const char *t)
{
    static const struct {
        const char *name;
        int hours;
    } zones[] = {{"UT", 0},   {"GMT", 0},  {"Z", 0},    {"EST", -5}, {"EDT", -4}, {"CST", -6},
                 {"CDT", -5}, {"MST", -7}, {"MDT", -6}, {"PST", -8}, {"PDT", -7}};
    if (t == NULL)
        return 0;
    unsigned v = 0;
    if ((t[0] == '+' || t[0] == '-') && strlen(t) == 5 && date_num(t + 1, 4, &v) && v % 100 < 60)
        return (t[0] == '-' ? -1 : 1) * (int64_t)((v / 100) * 3600 + (v % 100) * 60);
    for (size_t i = 0; i < sizeof(zones) / sizeof(zones[0]); i++)
        if (strcasecmp(t, zones[i].name) == 0)
            return (int64_t)zones[i].hours * 3600;
    return 0;
}

int64_t mailbox_parse_date(const char *s, size_t len)
{
    char copy[META_DATE_MAX + 1];
    char *tok[META_DATE_TOKENS];
    if (s == NULL)
        return 0;
    size_t n = date_tokens(s, len, copy, tok), i = 0;
    /* [ day-of-week "," ]: a word that is not a month */
    if (i < n && tok[i][0] != '\0' && strchr("0123456789", tok[i][0]) == NULL &&
        date_month(tok[i]) == 0)
        i++;
    unsigned day = 0, year = 0, month = 0;
    int64_t secs = 0;
    if (i + 4 > n || !date_num(tok[i], 2, &day) || (month = date_month(tok[i + 1])) == 0 ||
        !date_num(tok[i + 2], 4, &year) || !date_time(tok[i + 3], &secs))
        return 0;
    size_t ylen = strlen(tok[i + 2]);
    if (ylen == 2) /* RFC 5322 4.3: 00-49 is 2000-2049, 50-99 is 1950-1999 */
        year += year < 50 ? 2000 : 1900;
    else if (ylen == 3)
        year += 1900;
    if (year < 1900 || day < 1 || day > date_month_days(year, month))
        return 0;
    int64_t t = rfc3339_days_from_civil(year, month, day) * 86400 + secs -
                date_zone(i + 4 < n ? tok[i + 4] : NULL);
    return t == 0 ? 1 : t; /* 0 means "unparseable" to the store */
}

/* ---- Preview (RFC 8970) ------------------------------------------------------ */

static bool meta_is_attachment(const mime_part *p)
{
    return p->disposition != NULL && strcasecmp(p->disposition, "attachment") == 0;
}

/* The first text/<subtype> leaf that is not an attachment, outside
 * encapsulated messages (a forwarded message is not this one's text). */
static const mime_part *meta_text_part(const mime_part *p, const char *subtype)
{
    if (p->is_message)
        return NULL;
    if (p->nchildren > 0) {
        for (size_t i = 0; i < p->nchildren; i++) {
            const mime_part *found = meta_text_part(p->children[i], subtype);
            if (found != NULL)
                return found;
        }
        return NULL;
    }
    return !p->opaque && mime_part_is(p, "text", subtype) && !meta_is_attachment(p) ? p : NULL;
}

static bool meta_tag_is(const char *s, size_t len, const char *name)
{
    size_t n = strlen(name);
    return len >= n && strncasecmp(s, name, n) == 0 &&
           (len == n || strchr(" \t\r\n>/", s[n]) != NULL);
}

/* Appends the character of an entity at s ("&amp;" ...) and returns its
 * length, or 0 when it is not one we know (the '&' is then kept). */
static size_t meta_entity(const char *s, size_t len, buf *out)
{
    static const struct {
        const char *name, *text;
    } ents[] = {{"&amp;", "&"},   {"&lt;", "<"},   {"&gt;", ">"},
                {"&quot;", "\""}, {"&apos;", "'"}, {"&nbsp;", " "}};
    for (size_t i = 0; i < sizeof(ents) / sizeof(ents[0]); i++) {
        size_t n = strlen(ents[i].name);
        if (len >= n && strncasecmp(s, ents[i].name, n) == 0)
            return buf_append_str(out, ents[i].text) < 0 ? 0 : n;
    }
    if (len >= 4 && s[1] == '#') {
        const char *semi = memchr(s, ';', len < 12 ? len : 12);
        bool hex = s[2] == 'x' || s[2] == 'X';
        char *end = NULL;
        unsigned long cp = semi ? strtoul(s + (hex ? 3 : 2), &end, hex ? 16 : 10) : 0;
        if (semi == NULL || end != semi || cp == 0 || cp > 0x10ffff ||
            (cp >= 0xd800 && cp < 0xe000))
            return 0;
        char u[4];
        size_t ulen;
        if (cp < 0x80) {
            u[0] = (char)cp, ulen = 1;
        } else if (cp < 0x800) {
            u[0] = (char)(0xc0 | (cp >> 6)), u[1] = (char)(0x80 | (cp & 0x3f)), ulen = 2;
        } else if (cp < 0x10000) {
            u[0] = (char)(0xe0 | (cp >> 12)), u[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
            u[2] = (char)(0x80 | (cp & 0x3f)), ulen = 3;
        } else {
            u[0] = (char)(0xf0 | (cp >> 18)), u[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
            u[2] = (char)(0x80 | ((cp >> 6) & 0x3f)), u[3] = (char)(0x80 | (cp & 0x3f)), ulen = 4;
        }
        return buf_append(out, u, ulen) < 0 ? 0 : (size_t)(semi - s) + 1;
    }
    return 0;
}

/* The text of HTML: tags become a space; comments and the contents of
 * head, style and script are dropped; common entities decoded. */
static int meta_html_text(const char *s, size_t len, buf *out)
{
    static const char *const skip[] = {"head", "style", "script", "title"};
    size_t i = 0;
    while (i < len && !out->failed) {
        if (s[i] == '&') {
            size_t n = meta_entity(s + i, len - i, out);
            if (n == 0)
                buf_append_char(out, '&');
            i += n ? n : 1;
            continue;
        }
        if (s[i] != '<') {
            buf_append_char(out, s[i++]);
            continue;
        }
        const char *close = NULL;
        if (len - i >= 4 && memcmp(s + i, "<!--", 4) == 0) {
            const char *e = NULL;
            for (size_t j = i + 4; j + 3 <= len && e == NULL; j++)
                if (memcmp(s + j, "-->", 3) == 0)
                    e = s + j + 2;
            close = e;
        } else {
            for (size_t k = 0; k < sizeof(skip) / sizeof(skip[0]) && close == NULL; k++) {
                if (!meta_tag_is(s + i + 1, len - i - 1, skip[k]))
                    continue;
                char end_tag[16];
                snprintf(end_tag, sizeof(end_tag), "</%s", skip[k]);
                for (size_t j = i + 1; j + strlen(end_tag) <= len && close == NULL; j++)
                    if (strncasecmp(s + j, end_tag, strlen(end_tag)) == 0)
                        close = memchr(s + j, '>', len - j);
                if (close == NULL)
                    close = s + len - 1; /* unclosed: drop the rest */
            }
            if (close == NULL)
                close = memchr(s + i, '>', len - i);
        }
        i = close != NULL ? (size_t)(close - s) + 1 : len;
        buf_append_char(out, ' ');
    }
    return out->failed ? -1 : 0;
}

/* Collapses white space and control characters to one space and keeps at
 * most MAILBOX_PREVIEW_CHARS characters of valid UTF-8 text. */
static int meta_preview_squeeze(const char *s, size_t len, buf *out)
{
    size_t chars = 0;
    bool space = false;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20 || c == 0x7f || c == ' ') {
            space = out->len > 0;
            continue;
        }
        bool lead = (c & 0xc0) != 0x80;
        if (lead && chars + (space ? 1 : 0) >= MAILBOX_PREVIEW_CHARS)
            break;
        if (lead && space) {
            buf_append_char(out, ' ');
            chars++;
        }
        space = false;
        chars += lead;
        buf_append_char(out, (char)c);
    }
    return buf_append(out, "", 0);
}

static int meta_decode(const mime_part *p, const char *raw, char **out_r, size_t *len_r)
{
    size_t in_len = p->body_len < MAILBOX_PREVIEW_SCAN ? p->body_len : MAILBOX_PREVIEW_SCAN;
    const char *in = raw + p->body_off;
    if (p->encoding == MIME_ENC_BASE64)
        return mime_base64_decode(in, in_len, MAILBOX_PREVIEW_SCAN, out_r, len_r);
    if (p->encoding == MIME_ENC_QP)
        return mime_qp_decode(in, in_len, false, MAILBOX_PREVIEW_SCAN, out_r, len_r);
    *out_r = malloc(in_len + 1);
    if (*out_r == NULL)
        return -1;
    memcpy(*out_r, in, in_len);
    (*out_r)[in_len] = '\0';
    *len_r = in_len;
    return 0;
}

/* The preview: "" when the message has no text part; NULL on OOM. */
static char *meta_preview(const mime_message *msg, const char *raw)
{
    const mime_part *p = meta_text_part(mime_root(msg), "plain");
    bool html = false;
    if (p == NULL && (p = meta_text_part(mime_root(msg), "html")) != NULL)
        html = true;
    buf out;
    buf_init(&out, MAILBOX_PREVIEW_SCAN);
    if (p == NULL)
        return buf_append(&out, "", 0) < 0 ? NULL : buf_steal(&out);
    char *dec = NULL, *utf8 = NULL;
    size_t dec_len = 0, utf8_len = 0;
    buf text;
    buf_init(&text, 4 * MAILBOX_PREVIEW_SCAN);
    int rc = meta_decode(p, raw, &dec, &dec_len);
    if (rc == 0) {
        utf8 = mime_charset_to_utf8(mime_part_param(p, "charset"), dec, dec_len,
                                    2 * MAILBOX_PREVIEW_SCAN, &utf8_len);
        rc = utf8 == NULL ? -1 : 0;
    }
    if (rc == 0 && html)
        rc = meta_html_text(utf8, utf8_len, &text);
    if (rc == 0)
        rc = html ? meta_preview_squeeze(text.data ? text.data : "", text.len, &out)
                  : meta_preview_squeeze(utf8, utf8_len, &out);
    free(dec);
    free(utf8);
    buf_free(&text);
    if (rc < 0) {
        buf_free(&out);
        return NULL;
    }
    return buf_steal(&out);
}

/* ---- Metadata ------------------------------------------------------------------ */

/* A header value (decoded or raw), NULL when absent; *oom set on failure. */
static const char *meta_header(const mime_message *msg, const char *name, bool decoded, bool *oom)
{
    char *v = NULL;
    int r =
        decoded ? mime_header_get(msg, NULL, name, &v) : mime_header_get_raw(msg, NULL, name, &v);
    if (r < 0)
        *oom = true;
    return r > 0 ? v : NULL;
}

static const char *meta_need(char *s, bool *oom)
{
    if (s == NULL)
        *oom = true;
    return s;
}

static char *meta_strdup(const char *s)
{
    size_t n = strlen(s);
    char *d = malloc(n + 1);
    if (d != NULL)
        memcpy(d, s, n + 1);
    return d;
}

/* addr-spec of a (RFC 5322 3.4.1): "local@domain", the local part alone
 * without a domain, "" without a local part. */
static char *meta_addr_spec(const mime_address *a)
{
    if (a->mailbox == NULL)
        return meta_strdup("");
    if (a->host == NULL)
        return meta_strdup(a->mailbox);
    size_t m = strlen(a->mailbox), h = strlen(a->host);
    char *d = malloc(m + h + 2);
    if (d != NULL) {
        memcpy(d, a->mailbox, m);
        d[m] = '@';
        memcpy(d + m + 1, a->host, h + 1);
    }
    return d;
}

/* The SORT keys of the first address of the field name, from its raw
 * value: RFC 5256 3 sorts on its addr-mailbox (a group on its name, as the
 * ENVELOPE shows a group), RFC 5957 2 on its display-name, else its
 * addr-spec. "" when the field or the part is absent. display_r may be
 * NULL. */
static void meta_address_keys(const mime_message *msg, const char *name, const char **sort_r,
                              const char **display_r, bool *oom)
{
    char *raw = NULL;
    mime_address a;
    int r = mime_header_get_raw(msg, NULL, name, &raw);
    r = r > 0 ? mime_address_first(raw, strlen(raw), &a) : r;
    free(raw);
    if (r < 0) {
        *oom = true;
        return;
    }
    if (r == 0)
        memset(&a, 0, sizeof(a));
    const char *mbox = a.group ? a.name : a.mailbox;
    *sort_r = meta_need(meta_strdup(mbox != NULL ? mbox : ""), oom);
    if (display_r != NULL)
        *display_r = meta_need(a.name != NULL ? meta_strdup(a.name) : meta_addr_spec(&a), oom);
    mime_address_clear(&a);
}

/* The SORT keys of store_msg_meta (schema/store/005_sort_prune.sql). */
static void meta_sort_keys(const mime_message *msg, store_msg_meta *s, bool *oom)
{
    s->sort_subject = meta_need(mime_subject_base(s->subject != NULL ? s->subject : ""), oom);
    meta_address_keys(msg, "From", &s->sort_from, &s->display_from, oom);
    meta_address_keys(msg, "To", &s->sort_to, &s->display_to, oom);
    meta_address_keys(msg, "Cc", &s->sort_cc, NULL, oom);
}

mailbox_result mailbox_meta_from_mime(const char *raw, size_t len, store_msg_meta *meta)
{
    memset(meta, 0, sizeof(*meta));
    mime_message *msg = mime_parse(raw != NULL ? raw : "", raw != NULL ? len : 0, NULL);
    if (msg == NULL)
        return MAILBOX_ERR_NOMEM;
    store_msg_meta *s = meta;
    bool oom = false;
    s->envelope = meta_need(mime_envelope(msg), &oom);
    s->bodystructure = meta_need(mime_bodystructure(msg, false), &oom);
    s->bodystructure_ext = meta_need(mime_bodystructure(msg, true), &oom);
    s->from = meta_header(msg, "From", true, &oom);
    s->to = meta_header(msg, "To", true, &oom);
    s->cc = meta_header(msg, "Cc", true, &oom);
    s->subject = meta_header(msg, "Subject", true, &oom);
    s->date = meta_header(msg, "Date", true, &oom);
    s->message_id = meta_header(msg, "Message-ID", false, &oom);
    s->in_reply_to = meta_header(msg, "In-Reply-To", false, &oom);
    s->references = meta_header(msg, "References", false, &oom);
    s->sent_date = s->date != NULL ? mailbox_parse_date(s->date, strlen(s->date)) : 0;
    s->preview = meta_need(meta_preview(msg, raw != NULL ? raw : ""), &oom);
    s->index_text = meta_need(mime_index_text(msg, MAILBOX_INDEX_TEXT_MAX), &oom);
    meta_sort_keys(msg, s, &oom);
    mime_free(&msg);
    if (oom) {
        mailbox_meta_free(meta);
        return MAILBOX_ERR_NOMEM;
    }
    return MAILBOX_OK;
}

void mailbox_meta_free(store_msg_meta *meta)
{
    if (meta == NULL)
        return;
    store_msg_meta *s = meta;
    /* every string was malloc'd by mailbox_meta_from_mime */
    char *const strs[] = {(char *)s->envelope,
                          (char *)s->bodystructure,
                          (char *)s->bodystructure_ext,
                          (char *)s->from,
                          (char *)s->to,
                          (char *)s->cc,
                          (char *)s->subject,
                          (char *)s->date,
                          (char *)s->message_id,
                          (char *)s->in_reply_to,
                          (char *)s->references,
                          (char *)s->preview,
                          (char *)s->index_text,
                          (char *)s->sort_subject,
                          (char *)s->sort_from,
                          (char *)s->sort_to,
                          (char *)s->sort_cc,
                          (char *)s->display_from,
                          (char *)s->display_to};
    /* they hold message text: wipe it before the memory goes back */
    for (size_t i = 0; i < sizeof(strs) / sizeof(strs[0]); i++) {
        if (strs[i] != NULL)
            explicit_bzero(strs[i], strlen(strs[i]));
        free(strs[i]);
    }
    memset(meta, 0, sizeof(*meta));
}
