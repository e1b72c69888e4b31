/* SMTP replies (RFC 5321 4.2): the incremental parser of the client and
 * the formatter of the server. */
#include "smtp_reply.h"

#include <string.h>

#include "smtp_int.h"

static int smtp_reply_fail(const char **error_r, const char *text)
{
    if (error_r != NULL)
        *error_r = text;
    return -1;
}

/* Reply-code = %x32-35 %x30-35 %x30-39 */
static bool smtp_reply_code_valid(unsigned code)
{
    return code >= 200 && code <= 559 && (code / 10) % 10 <= 5;
}

/* Text octets: HT, SP..~, and non-ASCII. */
static bool smtp_reply_text_octet(unsigned char c)
{
    return c == '\t' || (c >= 0x20 && c != 0x7f);
}

void smtp_reply_parser_init(smtp_reply_parser *p)
{
    memset(p, 0, sizeof(*p));
}

/* One complete line in p->line (ending with LF). Returns 1 for the last
 * line of the reply, 0 for a continuation line, -1 on error. */
static int smtp_reply_line(smtp_reply_parser *p, const char **error_r)
{
    const char *s = p->line;
    size_t n = p->line_len - 1; /* without the LF */

    if (n > 0 && s[n - 1] == '\r')
        n--;
    if (n < 3 || !smtp_is_digit((unsigned char)s[0]) || !smtp_is_digit((unsigned char)s[1]) ||
        !smtp_is_digit((unsigned char)s[2]))
        return smtp_reply_fail(error_r, "reply line without a code");
    unsigned code = (unsigned)((s[0] - '0') * 100 + (s[1] - '0') * 10 + (s[2] - '0'));
    if (!smtp_reply_code_valid(code))
        return smtp_reply_fail(error_r, "invalid reply code");
    bool last = n == 3 || s[3] == ' ';
    if (n > 3 && s[3] != ' ' && s[3] != '-')
        return smtp_reply_fail(error_r, "invalid character after the reply code");
    if (p->lines > 0 && code != p->code)
        return smtp_reply_fail(error_r, "reply code changed within a reply");
    if (p->lines >= SMTP_REPLY_LINES_MAX)
        return smtp_reply_fail(error_r, "too many reply lines");
    const char *text = n > 3 ? s + 4 : s + n;
    size_t tlen = n > 3 ? n - 4 : 0;
    for (size_t i = 0; i < tlen; i++) {
        if (!smtp_reply_text_octet((unsigned char)text[i]))
            return smtp_reply_fail(error_r, "control character in reply text");
    }

    /* RFC 2034 4 / RFC 3463 2: the enhanced code leads the text, its class
     * that of the reply. Taken from the first line, removed from every
     * line that repeats one. */
    smtp_enhanced e;
    size_t elen = smtp_enhanced_parse(text, tlen, &e);
    if (elen > 0 && e.cls == code / 100) {
        if (p->lines == 0)
            p->enhanced = e;
        if (p->enhanced.cls != 0) {
            text += elen, tlen -= elen;
            if (tlen > 0) /* the space after it */
                text++, tlen--;
        }
    }

    size_t need = tlen + (p->lines > 0 ? 1 : 0);
    if (p->text_len + need > SMTP_REPLY_TEXT_MAX)
        return smtp_reply_fail(error_r, "reply text too long");
    if (p->lines > 0)
        p->text[p->text_len++] = '\n';
    memcpy(p->text + p->text_len, text, tlen);
    p->text_len += tlen;
    p->text[p->text_len] = '\0';
    p->code = code;
    p->lines++;
    return last ? 1 : 0;
}

int smtp_reply_parse(smtp_reply_parser *p, const char *data, size_t len, size_t *consumed_r,
                     smtp_reply *reply_r, const char **error_r)
{
    size_t i = 0;

    *consumed_r = 0;
    memset(reply_r, 0, sizeof(*reply_r));
    reply_r->text = "";
    if (p->failed)
        return smtp_reply_fail(error_r, "the reply stream failed earlier");
    if (p->done) {
        p->done = false;
        p->text_len = 0;
        p->text[0] = '\0';
        p->lines = 0;
        p->code = 0;
        memset(&p->enhanced, 0, sizeof(p->enhanced));
    }
    while (i < len) {
        const char *lf = memchr(data + i, '\n', len - i);
        size_t take = lf != NULL ? (size_t)(lf - (data + i)) + 1 : len - i;
        if (p->line_len + take > SMTP_REPLY_READ_LINE_MAX) {
            p->failed = true;
            *consumed_r = i;
            return smtp_reply_fail(error_r, "reply line too long");
        }
        memcpy(p->line + p->line_len, data + i, take);
        p->line_len += take;
        i += take;
        if (lf == NULL)
            break;
        int rc = smtp_reply_line(p, error_r);
        p->line_len = 0;
        if (rc < 0) {
            p->failed = true;
            *consumed_r = i;
            return -1;
        }
        if (rc > 0) {
            p->done = true;
            reply_r->code = p->code;
            reply_r->enhanced = p->enhanced;
            reply_r->text = p->text;
            reply_r->text_len = p->text_len;
            reply_r->lines = p->lines;
            *consumed_r = i;
            return 1;
        }
    }
    *consumed_r = len;
    return 0;
}

/* ---- formatting --------------------------------------------------------- */

int smtp_reply_format(buf *out, unsigned code, const smtp_enhanced *enhanced, const char *text,
                      const char **error_r)
{
    char enh[SMTP_ENHANCED_TEXT_MAX + 1] = "";
    size_t elen = 0, lines = 0;

    if (!smtp_reply_code_valid(code))
        return smtp_reply_fail(error_r, "invalid reply code");
    if (enhanced != NULL && enhanced->cls != 0) {
        int n = smtp_enhanced_format(enhanced, enh);
        if (n < 0 || enhanced->cls != code / 100)
            return smtp_reply_fail(error_r, "invalid enhanced status code");
        elen = (size_t)n;
    }
    /* Check everything first, so that a refusal leaves out as it was. */
    for (const char *line = text;;) {
        const char *nl = strchr(line, '\n');
        size_t tlen = nl != NULL ? (size_t)(nl - line) : strlen(line);
        for (size_t i = 0; i < tlen; i++) {
            if (!smtp_reply_text_octet((unsigned char)line[i]))
                return smtp_reply_fail(error_r, "control character in reply text");
        }
        /* "250-" enh " " text CRLF */
        size_t total = 4 + elen + (elen > 0 && tlen > 0 ? 1 : 0) + tlen + 2;
        if (total > SMTP_REPLY_LINE_MAX)
            return smtp_reply_fail(error_r, "reply line too long");
        if (++lines > SMTP_REPLY_LINES_MAX)
            return smtp_reply_fail(error_r, "too many reply lines");
        if (nl == NULL)
            break;
        line = nl + 1;
    }
    for (const char *line = text;;) {
        const char *nl = strchr(line, '\n');
        size_t tlen = nl != NULL ? (size_t)(nl - line) : strlen(line);
        char sep = nl != NULL ? '-' : ' ';
        int rc;
        if (elen > 0)
            rc = buf_printf(out, "%u%c%s%s%.*s\r\n", code, sep, enh, tlen > 0 ? " " : "", (int)tlen,
                            line);
        else if (tlen > 0 || nl != NULL)
            rc = buf_printf(out, "%u%c%.*s\r\n", code, sep, (int)tlen, line);
        else
            rc = buf_printf(out, "%u\r\n", code);
        if (rc < 0)
            return smtp_reply_fail(error_r, "reply does not fit the buffer");
        if (nl == NULL)
            break;
        line = nl + 1;
    }
    return 0;
}

int smtp_reply_format_error(buf *out, const smtp_error *error, const char **error_r)
{
    return smtp_reply_format(out, error->code, &error->enhanced, error->text, error_r);
}
