/* RFC 5322 3.4 address lists (with the obsolete syntax of 4.4: routes,
 * phrases with dots, missing parts) for the IMAP ENVELOPE (RFC 9051 7.5.2),
 * for the text to index and for the SORT keys (the first address).
 * Lenient: whatever the input, some list comes out; a mailbox without a
 * domain gets the host "MISSING_DOMAIN". */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mime_int.h"

#define ADDR_MISSING_MAILBOX "MISSING_MAILBOX"
#define ADDR_MISSING_DOMAIN "MISSING_DOMAIN"

typedef enum { TOK_ATOM, TOK_QSTRING, TOK_DLITERAL, TOK_SPECIAL } tok_kind;

typedef struct tok {
    tok_kind kind;
    const char *s; /* QSTRING: inside the quotes, escapes kept; DLITERAL: with brackets */
    size_t len;
    const char *comment; /* the comment just after this token, if any */
    size_t comment_len;
} tok;

typedef struct tokens {
    tok *t;
    size_t n;
} tokens;

static bool is_special(char c)
{
    return c == '<' || c == '>' || c == '@' || c == ',' || c == ';' || c == ':' || c == '"' ||
           c == '(' || c == ')' || c == '[' || c == ']' || c == '\\';
}

/* Skips a (nested) comment starting at s[0] == '('; returns its inside. */
static size_t skip_comment(const char *s, size_t len, size_t i, size_t *in_off, size_t *in_len)
{
    int depth = 0;
    *in_off = i + 1;
    for (; i < len; i++) {
        if (s[i] == '\\' && i + 1 < len)
            i++;
        else if (s[i] == '(')
            depth++;
        else if (s[i] == ')' && --depth == 0) {
            *in_len = i - *in_off;
            return i + 1;
        }
    }
    *in_len = len - *in_off;
    return len;
}

static int tokenize(const char *s, size_t len, tokens *out)
{
    out->t = malloc((len + 1) * sizeof(tok));
    out->n = 0;
    if (out->t == NULL)
        return -1;
    size_t i = 0;
    while (i < len) {
        char c = s[i];
        if (MIME_IS_WSP(c) || c == '\r' || c == '\n') {
            i++;
            continue;
        }
        if (c == '(') {
            size_t off, clen;
            i = skip_comment(s, len, i, &off, &clen);
            if (out->n > 0 && out->t[out->n - 1].comment == NULL) {
                out->t[out->n - 1].comment = s + off;
                out->t[out->n - 1].comment_len = clen;
            }
            continue;
        }
        tok *t = &out->t[out->n++];
        memset(t, 0, sizeof(*t));
        if (c == '"') {
            size_t j = i + 1;
            while (j < len && s[j] != '"')
                j += (s[j] == '\\' && j + 1 < len) ? 2 : 1;
            t->kind = TOK_QSTRING;
            t->s = s + i + 1;
            t->len = (j < len ? j : len) - (i + 1);
            i = j < len ? j + 1 : len;
        } else if (c == '[') {
            size_t j = i + 1;
            while (j < len && s[j] != ']')
                j += (s[j] == '\\' && j + 1 < len) ? 2 : 1;
            size_t e = j < len ? j + 1 : len;
            t->kind = TOK_DLITERAL;
            t->s = s + i;
            t->len = e - i;
            i = e;
        } else if (is_special(c) && c != '\\') {
            t->kind = TOK_SPECIAL;
            t->s = s + i;
            t->len = 1;
            i++;
        } else {
            size_t j = i;
            while (j < len && !MIME_IS_WSP(s[j]) && s[j] != '\r' && s[j] != '\n' &&
                   (!is_special(s[j]) || (s[j] == '\\' && j == i)))
                j++;
            if (j == i)
                j++;
            t->kind = TOK_ATOM;
            t->s = s + i;
            t->len = j - i;
            i = j;
        }
    }
    return 0;
}

typedef struct addr_ctx {
    buf *out;
    bool imap;             /* IMAP address structures, else "name <a@b>, " text */
    mime_address *first;   /* only the first address, into this (out unused) */
    mime_address_fn *each; /* every mailbox to this (out and first unused) */
    void *each_ctx;
    size_t count;
    bool after_group_start; /* text: no ", " right after "group: " */
    int err;
} addr_ctx;

static bool tok_is(const tok *t, char c)
{
    return t->kind == TOK_SPECIAL && t->s[0] == c;
}

/* Appends a token's text: quoted strings unescaped. */
static int tok_append(buf *b, const tok *t)
{
    if (t->kind != TOK_QSTRING)
        return buf_append(b, t->s, t->len);
    for (size_t i = 0; i < t->len; i++) {
        if (t->s[i] == '\\' && i + 1 < t->len)
            i++;
        if (buf_append_char(b, t->s[i]) < 0)
            return -1;
    }
    return 0;
}

/* A phrase (RFC 5322 3.2.5): words joined by one space. */
static int phrase_append(buf *b, const tok *t, size_t from, size_t to)
{
    for (size_t i = from; i < to; i++) {
        if (t[i].kind == TOK_SPECIAL)
            continue;
        if (b->len > 0 && buf_append_char(b, ' ') < 0)
            return -1;
        if (tok_append(b, &t[i]) < 0)
            return -1;
    }
    return 0;
}

static int concat_append(buf *b, const tok *t, size_t from, size_t to)
{
    for (size_t i = from; i < to; i++)
        if (tok_append(b, &t[i]) < 0)
            return -1;
    return 0;
}

/* A malloc'd, NUL-terminated copy of s[0..len) decoded (RFC 2047) to UTF-8;
 * NULL when len is 0 or on OOM (*err set). */
static char *first_decoded(const char *s, size_t len, int *err)
{
    if (len == 0)
        return NULL;
    char *d = mime_decode_header(s, len, MIME_ADDRESS_PART_MAX);
    if (d == NULL)
        *err = -1;
    return d;
}

static char *first_copy(const char *s, const char *missing, int *err)
{
    if (s == NULL || strcmp(s, missing) == 0 || s[0] == '\0')
        return NULL;
    size_t n = strlen(s);
    if (n > MIME_ADDRESS_PART_MAX)
        n = MIME_ADDRESS_PART_MAX;
    char *d = malloc(n + 1);
    if (d == NULL) {
        *err = -1;
        return NULL;
    }
    memcpy(d, s, n);
    d[n] = '\0';
    return d;
}

/* The first address only (mime_address_first). */
static void emit_first(addr_ctx *c, const buf *name, const char *mbox, const char *host)
{
    mime_address *a = c->first;
    int r = 0;
    if (mbox != NULL && host == NULL) { /* a group's start marker */
        a->group = true;
        a->name = first_decoded(mbox, strlen(mbox), &r);
    } else if (mbox != NULL) {
        a->name = name != NULL ? first_decoded(name->data, name->len, &r) : NULL;
        a->mailbox = first_copy(mbox, ADDR_MISSING_MAILBOX, &r);
        a->host = first_copy(host, ADDR_MISSING_DOMAIN, &r);
    }
    if (r != 0)
        c->err = -1;
}

static void emit(addr_ctx *c, const buf *name, const buf *adl, const char *mbox, const char *host)
{
    buf *o = c->out;
    int r = 0;
    if (c->first != NULL) {
        if (c->count++ == 0)
            emit_first(c, name, mbox, host);
        return;
    }
    if (c->each != NULL) {
        if (mbox != NULL && host != NULL) { /* not a group's start or end */
            bool no_mbox = strcmp(mbox, ADDR_MISSING_MAILBOX) == 0;
            bool no_host = strcmp(host, ADDR_MISSING_DOMAIN) == 0;
            if (c->each(c->each_ctx, no_mbox ? NULL : mbox, no_host ? NULL : host) != 0)
                c->err = -1;
        }
        c->count++;
        return;
    }
    if (c->imap) {
        if (c->count == 0) /* RFC 3501 9: "(" 1*address ")", no separator */
            r |= buf_append_char(o, '(');
        r |= buf_append_char(o, '(');
        r |= mime_imap_nstring(o, name != NULL && name->len > 0 ? name->data : NULL,
                               name != NULL ? name->len : 0);
        r |= buf_append_char(o, ' ');
        r |= mime_imap_nstring(o, adl != NULL && adl->len > 0 ? adl->data : NULL,
                               adl != NULL ? adl->len : 0);
        r |= buf_append_char(o, ' ');
        r |= mime_imap_nstring(o, mbox, mbox != NULL ? strlen(mbox) : 0);
        r |= buf_append_char(o, ' ');
        r |= mime_imap_nstring(o, host, host != NULL ? strlen(host) : 0);
        r |= buf_append_char(o, ')');
    } else {
        bool group_end = mbox == NULL && host == NULL, group_start = mbox != NULL && host == NULL;
        if (c->count > 0 && !group_end && !c->after_group_start)
            r |= buf_append_str(o, ", ");
        c->after_group_start = group_start;
        if (group_end) {
            r |= buf_append_char(o, ';');
        } else if (group_start) {
            r |= mime_2047_append(o, mbox, strlen(mbox)) | buf_append_str(o, ": ");
        } else {
            /* the placeholders of missing parts are left out of the text */
            bool has_mbox = strcmp(mbox, ADDR_MISSING_MAILBOX) != 0;
            bool has_host = strcmp(host, ADDR_MISSING_DOMAIN) != 0;
            if (name != NULL && name->len > 0)
                r |= mime_2047_append(o, name->data, name->len);
            if (name != NULL && name->len > 0 && has_mbox)
                r |= buf_append_char(o, ' ');
            if (has_mbox) {
                r |= buf_append_char(o, '<') | mime_utf8_fix_append(o, mbox, strlen(mbox));
                if (has_host)
                    r |= buf_append_char(o, '@') | mime_utf8_fix_append(o, host, strlen(host));
                r |= buf_append_char(o, '>');
            }
        }
    }
    c->count++;
    if (r != 0)
        c->err = -1;
}

/* One mailbox in tokens [from, to) (RFC 5322 3.4): name-addr or addr-spec,
 * with an obsolete route (obs-route) inside the angle brackets. */
static void parse_mailbox(addr_ctx *c, const tok *t, size_t from, size_t to)
{
    if (from >= to)
        return;
    buf name, adl, local, domain;
    buf_init(&name, SIZE_MAX - 1);
    buf_init(&adl, SIZE_MAX - 1);
    buf_init(&local, SIZE_MAX - 1);
    buf_init(&domain, SIZE_MAX - 1);
    int r = 0;
    size_t lt = from;
    while (lt < to && !tok_is(&t[lt], '<'))
        lt++;
    size_t as = from, ae = to; /* the addr-spec */
    if (lt < to) {
        r |= phrase_append(&name, t, from, lt);
        as = lt + 1;
        ae = as;
        while (ae < to && !tok_is(&t[ae], '>'))
            ae++;
        if (as < ae && tok_is(&t[as], '@')) { /* obs-route "@a,@b:" */
            size_t colon = as;
            while (colon < ae && !tok_is(&t[colon], ':'))
                colon++;
            if (colon < ae) {
                r |= concat_append(&adl, t, as, colon);
                as = colon + 1;
            }
        }
    }
    size_t at = as;
    while (at < ae && !tok_is(&t[at], '@'))
        at++;
    bool name_only = lt >= to && at >= ae && ae - as > 1;
    if (name_only) {
        r |= phrase_append(&name, t, as, ae);
    } else {
        r |= concat_append(&local, t, as, at);
        if (at < ae)
            r |= concat_append(&domain, t, at + 1, ae);
        if (lt >= to && name.len == 0 && ae > as && t[ae - 1].comment != NULL)
            r |= buf_append(&name, t[ae - 1].comment, t[ae - 1].comment_len);
    }
    if (r != 0)
        c->err = -1;
    else if (name.len > 0 || local.len > 0 || domain.len > 0)
        emit(c, &name, &adl, local.len > 0 ? local.data : ADDR_MISSING_MAILBOX,
             domain.len > 0 ? domain.data : ADDR_MISSING_DOMAIN);
    buf_free(&name);
    buf_free(&adl);
    buf_free(&local);
    buf_free(&domain);
}

/* The end of one mailbox: ',' (or ';' in a group) outside angle brackets. */
static size_t mailbox_end(const tok *t, size_t i, size_t n, bool in_group)
{
    bool angle = false;
    for (; i < n; i++) {
        if (tok_is(&t[i], '<'))
            angle = true;
        else if (tok_is(&t[i], '>'))
            angle = false;
        else if (!angle && (tok_is(&t[i], ',') || (in_group && tok_is(&t[i], ';'))))
            break;
    }
    return i;
}

/* A group starts when ':' comes before any '<', '@', ',' or ';'. */
static size_t group_colon(const tok *t, size_t i, size_t n)
{
    for (; i < n; i++) {
        if (tok_is(&t[i], ':'))
            return i;
        if (tok_is(&t[i], '<') || tok_is(&t[i], '@') || tok_is(&t[i], ',') || tok_is(&t[i], ';'))
            return n;
    }
    return n;
}

/* RFC 9051 7.5.2: a group is shown as a start marker (NIL NIL "name" NIL),
 * its mailboxes, and an end marker (NIL NIL NIL NIL). */
static size_t parse_group(addr_ctx *c, const tok *t, size_t i, size_t colon, size_t n)
{
    buf name;
    buf_init(&name, SIZE_MAX - 1);
    if (phrase_append(&name, t, i, colon) < 0)
        c->err = -1;
    emit(c, NULL, NULL, name.len > 0 ? name.data : "", NULL);
    buf_free(&name);
    i = colon + 1;
    while (i < n && !tok_is(&t[i], ';')) {
        size_t e = mailbox_end(t, i, n, true);
        parse_mailbox(c, t, i, e);
        i = e < n && tok_is(&t[e], ',') ? e + 1 : e;
    }
    emit(c, NULL, NULL, NULL, NULL);
    return i < n ? i + 1 : n;
}

static int address_list_ctx(addr_ctx *cp, const char *value, size_t len)
{
    tokens tk;
    if (tokenize(value, len, &tk) < 0)
        return -1;
    addr_ctx c = *cp;
    mime_address *first = c.first;
    buf *out = c.out;
    bool imap = c.imap;
    size_t i = 0;
    while (i < tk.n && c.err == 0 && (first == NULL || c.count == 0)) {
        if (tok_is(&tk.t[i], ',') || tok_is(&tk.t[i], ';')) {
            i++;
            continue;
        }
        size_t colon = group_colon(tk.t, i, tk.n);
        if (colon < tk.n) {
            i = parse_group(&c, tk.t, i, colon, tk.n);
            continue;
        }
        size_t e = mailbox_end(tk.t, i, tk.n, false);
        parse_mailbox(&c, tk.t, i, e);
        i = e < tk.n ? e + 1 : e;
    }
    free(tk.t);
    if (c.err != 0)
        return -1;
    if (first != NULL)
        return c.count > 0 ? 1 : 0;
    if (c.each != NULL)
        return 0;
    if (imap)
        return buf_append_str(out, c.count > 0 ? ")" : "NIL");
    return 0;
}

static int address_list(buf *out, const char *value, size_t len, bool imap, mime_address *first)
{
    addr_ctx c = {.out = out, .imap = imap, .first = first};
    return address_list_ctx(&c, value, len);
}

int mime_address_each(const char *value, size_t len, mime_address_fn *fn, void *ctx)
{
    addr_ctx c = {.each = fn, .each_ctx = ctx};
    return value == NULL ? 0 : address_list_ctx(&c, value, len);
}

int mime_address_list_imap(buf *out, const char *value, size_t len)
{
    return address_list(out, value, len, true, NULL);
}

int mime_address_list_text(buf *out, const char *value, size_t len)
{
    return address_list(out, value, len, false, NULL);
}

int mime_address_first(const char *value, size_t len, mime_address *addr_r)
{
    memset(addr_r, 0, sizeof(*addr_r));
    if (value == NULL)
        return 0;
    int r = address_list(NULL, value, len, false, addr_r);
    if (r < 0)
        mime_address_clear(addr_r);
    return r;
}

void mime_address_clear(mime_address *addr)
{
    if (addr == NULL)
        return;
    free(addr->name);
    free(addr->mailbox);
    free(addr->host);
    memset(addr, 0, sizeof(*addr));
}
