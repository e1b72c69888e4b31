/* IMAP ENVELOPE and BODYSTRUCTURE strings (RFC 9051 7.5.2, RFC 3501 7.4.2).
 *
 * Strings are quoted when they are 7-bit, else sent as literals
 * ("{n}\r\n" + bytes); a value that is absent or empty is NIL. Types,
 * subtypes, parameter values and encodings are shown as written; parameter
 * names in lowercase, RFC 2231 continuations merged (as Dovecot does). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mime_int.h"

/* A multipart with no parts is not representable (RFC 9051 body-type-mpart
 * needs one body): it is shown with one empty text/plain part, as Dovecot. */
#define EMPTY_BODY "(\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 0 0)"
#define EMPTY_BODY_EXT                                                                             \
    "(\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 0 0 NIL NIL NIL NIL)"
#define EMPTY_ENVELOPE "(NIL NIL NIL NIL NIL NIL NIL NIL NIL NIL)"

int mime_imap_nstring(buf *out, const char *s, size_t len)
{
    if (s == NULL)
        return buf_append_str(out, "NIL");
    bool literal = false;
    for (size_t i = 0; i < len && !literal; i++) {
        unsigned char c = (unsigned char)s[i];
        literal = c >= 0x80 || c == '\r' || c == '\n' || c == '\0';
    }
    if (literal)
        return buf_printf(out, "{%zu}\r\n", len) < 0 ? -1 : buf_append(out, s, len);
    if (buf_append_char(out, '"') < 0)
        return -1;
    for (size_t i = 0; i < len;) {
        size_t run = i;
        while (i < len && s[i] != '"' && s[i] != '\\')
            i++;
        if (buf_append(out, s + run, i - run) < 0)
            return -1;
        if (i < len && (buf_append_char(out, '\\') < 0 || buf_append_char(out, s[i++]) < 0))
            return -1;
    }
    return buf_append_char(out, '"');
}

static int nstr(buf *out, const char *s)
{
    return mime_imap_nstring(out, s != NULL && s[0] != '\0' ? s : NULL, s != NULL ? strlen(s) : 0);
}

static int str(buf *out, const char *s)
{
    return mime_imap_nstring(out, s != NULL ? s : "", s != NULL ? strlen(s) : 0);
}

/* ---- ENVELOPE ---- */

static int env_nstring(buf *out, const mime_message *m, const mime_part *p, const char *name)
{
    const mime_field *f = mime_field_find(m->data, p, name);
    if (f == NULL)
        return buf_append_str(out, "NIL");
    buf v;
    buf_init(&v, SIZE_MAX - 1);
    mime_field cut = *f;
    if (cut.value_len > m->limits.max_value)
        cut.value_len = m->limits.max_value;
    int r = mime_field_unfold(&v, m->data, &cut);
    if (r == 0) /* present but empty is "" (as Dovecot), absent is NIL */
        r = mime_imap_nstring(out, v.len > 0 ? v.data : "", v.len);
    buf_free(&v);
    return r;
}

/* An address list; *empty_r tells whether it came out NIL. */
static int env_addresses(buf *out, const mime_message *m, const mime_part *p, const char *name,
                         bool *empty_r)
{
    const mime_field *f = mime_field_find(m->data, p, name);
    size_t start = out->len;
    if (empty_r != NULL)
        *empty_r = true;
    if (f == NULL)
        return buf_append_str(out, "NIL");
    buf v;
    buf_init(&v, SIZE_MAX - 1);
    mime_field cut = *f;
    if (cut.value_len > m->limits.max_value)
        cut.value_len = m->limits.max_value;
    int r = mime_field_unfold(&v, m->data, &cut);
    if (r == 0)
        r = mime_address_list_imap(out, v.data != NULL ? v.data : "", v.len);
    buf_free(&v);
    if (empty_r != NULL && r == 0)
        *empty_r = out->len - start == 3 && memcmp(out->data + start, "NIL", 3) == 0;
    return r;
}

/* RFC 3501 7.4.2: Sender and Reply-To default to From when absent or empty. */
static int env_defaulted(buf *out, const mime_message *m, const mime_part *p, const char *name,
                         const char *from, size_t from_len)
{
    size_t start = out->len;
    bool empty;
    if (env_addresses(out, m, p, name, &empty) < 0)
        return -1;
    if (!empty)
        return 0;
    out->len = start;
    return buf_append(out, from, from_len);
}

static int envelope_write(buf *out, const mime_message *m, const mime_part *p)
{
    int r = buf_append_char(out, '(');
    r |= env_nstring(out, m, p, "date");
    r |= buf_append_char(out, ' ');
    r |= env_nstring(out, m, p, "subject");
    r |= buf_append_char(out, ' ');
    size_t from_off = out->len;
    r |= env_addresses(out, m, p, "from", NULL);
    if (r != 0)
        return -1;
    size_t from_len = out->len - from_off;
    char *from = malloc(from_len + 1);
    if (from == NULL)
        return -1;
    memcpy(from, out->data + from_off, from_len);
    r |= buf_append_char(out, ' ');
    r |= env_defaulted(out, m, p, "sender", from, from_len);
    r |= buf_append_char(out, ' ');
    r |= env_defaulted(out, m, p, "reply-to", from, from_len);
    free(from);
    static const char *const lists[] = {"to", "cc", "bcc"};
    for (size_t i = 0; i < 3; i++) {
        r |= buf_append_char(out, ' ');
        r |= env_addresses(out, m, p, lists[i], NULL);
    }
    r |= buf_append_char(out, ' ');
    r |= env_nstring(out, m, p, "in-reply-to");
    r |= buf_append_char(out, ' ');
    r |= env_nstring(out, m, p, "message-id");
    r |= buf_append_char(out, ')');
    return r;
}

/* Renders into a buffer capped at max_output; over the cap (or on OOM) the
 * fallback string is returned instead, NULL only when even that fails. */
static char *render(const mime_message *m, int (*fn)(buf *, const mime_message *, const void *),
                    const void *arg, const char *fallback)
{
    buf b;
    buf_init(&b, m->limits.max_output > 0 ? m->limits.max_output : 1);
    if (fn(&b, m, arg) == 0 && !b.failed)
        return buf_steal(&b);
    buf_free(&b);
    return strdup(fallback);
}

static int envelope_fn(buf *out, const mime_message *m, const void *arg)
{
    return envelope_write(out, m, arg);
}

char *mime_part_envelope(const mime_message *msg, const mime_part *part)
{
    if (part == NULL)
        part = msg->root;
    else if (part->is_message)
        part = part->children[0];
    return render(msg, envelope_fn, part, EMPTY_ENVELOPE);
}

char *mime_envelope(const mime_message *msg)
{
    return mime_part_envelope(msg, NULL);
}

/* ---- BODYSTRUCTURE ---- */

/* With default_charset (text/ *), a missing charset is shown as us-ascii
 * (RFC 2046 4.1.2), after the others, as Dovecot does. */
static int params_write(buf *out, const mime_param *ps, size_t n, bool default_charset)
{
    bool seen = false;
    for (size_t i = 0; i < n && default_charset; i++)
        seen |= mime_strieq(ps[i].name, "charset");
    if (n == 0 && (!default_charset || seen))
        return buf_append_str(out, "NIL");
    int r = buf_append_char(out, '(');
    for (size_t i = 0; i < n; i++) {
        if (i > 0)
            r |= buf_append_char(out, ' ');
        r |= str(out, ps[i].imap_name);
        r |= buf_append_char(out, ' ');
        r |= str(out, ps[i].imap_value);
    }
    if (default_charset && !seen)
        r |= buf_append_str(out, n > 0 ? " \"charset\" \"us-ascii\"" : "\"charset\" \"us-ascii\"");
    return r | buf_append_char(out, ')');
}

/* body-fld-dsp SP body-fld-lang SP body-fld-loc (RFC 9051 9) */
static int ext_common(buf *out, const mime_part *p)
{
    int r = buf_append_char(out, ' ');
    if (p->disposition == NULL) {
        r |= buf_append_str(out, "NIL");
    } else {
        r |= buf_append_char(out, '(');
        r |= str(out, p->disposition);
        r |= buf_append_char(out, ' ');
        r |= params_write(out, p->disp_params, p->ndisp_params, false);
        r |= buf_append_char(out, ')');
    }
    r |= buf_append_char(out, ' ');
    if (p->nlanguages == 0) {
        r |= buf_append_str(out, "NIL");
    } else {
        r |= buf_append_char(out, '(');
        for (size_t i = 0; i < p->nlanguages; i++) {
            if (i > 0)
                r |= buf_append_char(out, ' ');
            r |= str(out, p->languages[i]);
        }
        r |= buf_append_char(out, ')');
    }
    r |= buf_append_char(out, ' ');
    return r | nstr(out, p->location);
}

static int body_write(buf *out, const mime_message *m, const mime_part *p, bool ext);

static int multipart_write(buf *out, const mime_message *m, const mime_part *p, bool ext)
{
    int r = buf_append_char(out, '(');
    for (size_t i = 0; i < p->nchildren; i++)
        r |= body_write(out, m, p->children[i], ext);
    if (p->nchildren == 0)
        r |= buf_append_str(out, ext ? EMPTY_BODY_EXT : EMPTY_BODY);
    r |= buf_append_char(out, ' ');
    r |= str(out, p->subtype);
    if (ext) { /* body-ext-mpart = body-fld-param [SP dsp [SP lang [SP loc]]] */
        r |= buf_append_char(out, ' ');
        r |= params_write(out, p->params, p->nparams, false);
        r |= ext_common(out, p);
    }
    return r | buf_append_char(out, ')');
}

static int basic_write(buf *out, const mime_message *m, const mime_part *p, bool ext)
{
    int r = buf_append_char(out, '(');
    if (p->opaque) /* over a limit: not split, shown as opaque data */
        r |= buf_append_str(out, "\"application\" \"octet-stream\"");
    else
        r |= str(out, p->type) | buf_append_char(out, ' ') | str(out, p->subtype);
    bool text = !p->opaque && mime_strieq(p->type, "text");
    r |= buf_append_char(out, ' ');
    r |= params_write(out, p->params, p->nparams, text);
    r |= buf_append_char(out, ' ');
    r |= nstr(out, p->id);
    r |= buf_append_char(out, ' ');
    r |= nstr(out, p->description);
    r |= buf_append_char(out, ' ');
    r |= str(out, p->encoding_raw != NULL && p->encoding_raw[0] != '\0' ? p->encoding_raw : "7bit");
    r |= buf_printf(out, " %zu", p->body_len);
    if (p->is_message && !p->opaque) { /* body-type-msg: envelope, body, lines */
        r |= buf_append_char(out, ' ');
        r |= envelope_write(out, m, p->children[0]);
        r |= buf_append_char(out, ' ');
        r |= body_write(out, m, p->children[0], ext);
        r |= buf_printf(out, " %zu", p->body_lines);
    } else if (text) { /* body-type-text */
        r |= buf_printf(out, " %zu", p->body_lines);
    }
    if (ext) { /* body-ext-1part = body-fld-md5 [SP dsp [SP lang [SP loc]]] */
        r |= buf_append_char(out, ' ');
        r |= nstr(out, p->md5);
        r |= ext_common(out, p);
    }
    return r | buf_append_char(out, ')');
}

static int body_write(buf *out, const mime_message *m, const mime_part *p, bool ext)
{
    if (out->failed)
        return -1;
    if (p->is_multipart && !p->opaque)
        return multipart_write(out, m, p, ext);
    return basic_write(out, m, p, ext);
}

static int body_fn_ext(buf *out, const mime_message *m, const void *arg)
{
    return body_write(out, m, arg, true);
}

static int body_fn(buf *out, const mime_message *m, const void *arg)
{
    return body_write(out, m, arg, false);
}

char *mime_bodystructure(const mime_message *msg, bool extended)
{
    /* over max_output: the whole message shown as one opaque part */
    char fallback[128];
    snprintf(fallback, sizeof(fallback),
             "(\"application\" \"octet-stream\" NIL NIL NIL \"7bit\" %zu%s)", msg->root->body_len,
             extended ? " NIL NIL NIL NIL" : "");
    return render(msg, extended ? body_fn_ext : body_fn, msg->root, fallback);
}
