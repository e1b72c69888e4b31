/* SMTP command lines (RFC 5321 4.1): the line splitter and the per-verb
 * argument parsers, dispatched from a table. */
#include "smtp_command.h"

#include <string.h>

#include "smtp_int.h"
#include "smtp_param.h"

/* ---- line splitter ------------------------------------------------------ */

void smtp_command_line_init(smtp_command_line *st)
{
    st->discarding = false;
}

int smtp_command_line_next(smtp_command_line *st, const char *buf, size_t len, size_t max,
                           const char **line_r, size_t *line_len_r, bool *bare_lf_r,
                           size_t *consumed_r, smtp_error *error_r)
{
    const char *lf = len > 0 ? memchr(buf, '\n', len) : NULL;

    *line_r = NULL;
    *line_len_r = 0;
    *bare_lf_r = false;
    *consumed_r = 0;
    if (st->discarding) {
        if (lf == NULL) {
            *consumed_r = len;
            return 0;
        }
        st->discarding = false;
        *consumed_r = (size_t)(lf - buf) + 1;
        return smtp_fail(error_r, 500, 5, 5, 2, "line too long");
    }
    if (lf == NULL) {
        /* The LF would come at offset >= len: the line would be longer
         * than max. Drop what we have and the rest of the line. */
        if (len >= max) {
            st->discarding = true;
            *consumed_r = len;
        }
        return 0;
    }
    size_t end = (size_t)(lf - buf); /* offset of the LF */
    *consumed_r = end + 1;
    if (end + 1 > max)
        return smtp_fail(error_r, 500, 5, 5, 2, "line too long");
    if (end > 0 && buf[end - 1] == '\r')
        end--;
    else
        *bare_lf_r = true;
    *line_r = buf;
    *line_len_r = end;
    return 1;
}

/* ---- verbs -------------------------------------------------------------- */

/* Each returns 1 or -1; arg/arg_len are the trimmed argument. */
typedef int smtp_command_fn(smtp_command *cmd, smtp_parse_flags flags, smtp_error *error_r);

static int smtp_command_helo(smtp_command *cmd, smtp_parse_flags flags, smtp_error *error_r)
{
    bool ehlo = cmd->verb == SMTP_VERB_EHLO;
    smtp_error err;

    if (cmd->arg_len == 0)
        return smtp_fail(error_r, 501, 5, 5, 4,
                         ehlo ? "EHLO needs a domain or address literal" : "HELO needs a domain");
    /* RFC 5321 4.1.1.1: EHLO Domain / address-literal, HELO Domain. */
    if (smtp_path_parse_domain(cmd->arg, cmd->arg_len, true, &cmd->helo, &err) > 0) {
        if (!ehlo && cmd->helo.literal != SMTP_LITERAL_NONE)
            cmd->lenient = true;
        return 1;
    }
    if ((flags & SMTP_PARSE_LAX_HELO) == 0 || cmd->arg_len > SMTP_DOMAIN_MAX ||
        memchr(cmd->arg, ' ', cmd->arg_len) != NULL || !smtp_utf8_valid(cmd->arg, cmd->arg_len)) {
        if (error_r != NULL)
            *error_r = err;
        return -1;
    }
    memcpy(cmd->helo.name, cmd->arg, cmd->arg_len);
    cmd->helo.name[cmd->arg_len] = '\0';
    cmd->helo_invalid = true;
    return 1;
}

/* MAIL FROM:Reverse-path / RCPT TO:Forward-path, then parameters. */
static int smtp_command_path(smtp_command *cmd, smtp_parse_flags flags, smtp_error *error_r)
{
    bool mail = cmd->verb == SMTP_VERB_MAIL;
    const char *prefix = mail ? "FROM:" : "TO:";
    size_t plen = strlen(prefix), consumed;
    const char *s = cmd->arg;
    size_t len = cmd->arg_len;

    if (len < plen || !smtp_word_eq(s, plen, prefix))
        return smtp_fail(error_r, 501, 5, 5, 4,
                         mail ? "syntax: MAIL FROM:<address>" : "syntax: RCPT TO:<address>");
    s += plen, len -= plen;
    /* "MAIL FROM: <a@b>": see the leniency note in smtp_command.h */
    while (len > 0 && s[0] == ' ') {
        s++, len--;
        cmd->lenient = true;
    }
    if (smtp_path_parse(s, len, mail ? SMTP_PATH_REVERSE : SMTP_PATH_FORWARD, &cmd->path, &consumed,
                        error_r) < 0)
        return -1;
    s += consumed, len -= consumed;
    if (len > 0 && s[0] != ' ')
        return smtp_fail(error_r, 501, 5, 5, 4, "text after the address");
    if (smtp_param_parse(s, len, flags, cmd, error_r) < 0)
        return -1;
    /* RFC 6531 3.4: UTF-8 in a path only in an SMTPUTF8 transaction. */
    bool utf8_ok = mail ? cmd->mail.smtputf8 : (flags & SMTP_PARSE_SMTPUTF8) != 0;
    if (cmd->path.utf8 && !utf8_ok)
        return smtp_fail(error_r, 553, 5, 6, 7, "non-ASCII address without SMTPUTF8");
    return 1;
}

/* DATA, RSET, QUIT, STARTTLS (RFC 3207 4: "501 Syntax error (no parameters
 * allowed)"). */
static int smtp_command_bare(smtp_command *cmd, smtp_parse_flags flags, smtp_error *error_r)
{
    (void)flags;
    if (cmd->arg_len > 0)
        return smtp_fail(error_r, 501, 5, 5, 4, "no parameters allowed");
    return 1;
}

/* NOOP, HELP: optional text; VRFY, EXPN: required text. Kept raw. */
static int smtp_command_text(smtp_command *cmd, smtp_parse_flags flags, smtp_error *error_r)
{
    (void)flags;
    if (cmd->arg_len == 0 && (cmd->verb == SMTP_VERB_VRFY || cmd->verb == SMTP_VERB_EXPN))
        return smtp_fail(error_r, 501, 5, 5, 4, "argument required");
    if (!smtp_utf8_valid(cmd->arg, cmd->arg_len))
        return smtp_fail(error_r, 501, 5, 5, 4, "invalid UTF-8 in argument");
    return 1;
}

/* RFC 3030 2: BDAT chunk-size [SP end-marker], chunk-size = 1*DIGIT. */
static int smtp_command_bdat(smtp_command *cmd, smtp_parse_flags flags, smtp_error *error_r)
{
    const char *s = cmd->arg;
    size_t len = cmd->arg_len, i = 0;
    uint64_t n = 0;

    (void)flags;
    while (i < len && smtp_is_digit((unsigned char)s[i])) {
        unsigned d = (unsigned)(s[i] - '0');
        if (n > (UINT64_MAX - d) / 10)
            return smtp_fail(error_r, 501, 5, 5, 4, "BDAT chunk size too large");
        n = n * 10 + d;
        i++;
    }
    if (i == 0)
        return smtp_fail(error_r, 501, 5, 5, 4, "syntax: BDAT size [LAST]");
    if (i < len) {
        if (s[i] != ' ' || !smtp_word_eq(s + i + 1, len - i - 1, "LAST"))
            return smtp_fail(error_r, 501, 5, 5, 4, "syntax: BDAT size [LAST]");
        cmd->bdat_last = true;
    }
    cmd->bdat_size = n;
    return 1;
}

/* RFC 4648 4 base64 with its padding. */
static bool smtp_command_base64_valid(const char *s, size_t len)
{
    size_t pad = 0;

    if (len == 0 || len % 4 != 0)
        return false;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '=') {
            pad++;
        } else if (pad > 0 || !(smtp_is_alnum(c) || c == '+' || c == '/')) {
            return false;
        }
    }
    return pad <= 2;
}

/* RFC 4954 4: AUTH mechanism [SP initial-response]; initial-response =
 * base64 / "=". mechanism: RFC 4422 3.1 sasl-mech, 1..20 of upper-case
 * letters, digits, '-' and '_' (accepted in any case). */
static int smtp_command_auth(smtp_command *cmd, smtp_parse_flags flags, smtp_error *error_r)
{
    const char *s = cmd->arg;
    size_t len = cmd->arg_len, m = 0;

    (void)flags;
    while (m < len && s[m] != ' ')
        m++;
    if (m == 0 || m > SMTP_SASL_MECH_MAX)
        return smtp_fail(error_r, 501, 5, 5, 4, "invalid mechanism name");
    for (size_t i = 0; i < m; i++) {
        unsigned char c = (unsigned char)s[i];
        if (!smtp_is_alnum(c) && c != '-' && c != '_')
            return smtp_fail(error_r, 501, 5, 5, 4, "invalid mechanism name");
        cmd->auth_mech[i] = smtp_upper((char)c);
    }
    cmd->auth_mech[m] = '\0';
    if (m == len)
        return 1;
    const char *ir = s + m + 1;
    size_t irlen = len - m - 1;
    if (memchr(ir, ' ', irlen) != NULL)
        return smtp_fail(error_r, 501, 5, 5, 4, "syntax: AUTH mechanism [initial-response]");
    cmd->auth_has_initial = true;
    cmd->auth_initial = ir;
    if (irlen == 1 && ir[0] == '=') {
        cmd->auth_initial_len = 0;
        return 1;
    }
    if (!smtp_command_base64_valid(ir, irlen))
        return smtp_fail(error_r, 501, 5, 5, 2, "cannot decode the initial response");
    cmd->auth_initial_len = irlen;
    return 1;
}

typedef struct smtp_command_def {
    const char *name;
    smtp_verb verb;
    size_t line_max; /* CRLF included */
    smtp_command_fn *parse;
} smtp_command_def;

static const smtp_command_def smtp_command_table[] = {
    {"EHLO", SMTP_VERB_EHLO, SMTP_LINE_MAX, smtp_command_helo},
    {"HELO", SMTP_VERB_HELO, SMTP_LINE_MAX, smtp_command_helo},
    {"MAIL", SMTP_VERB_MAIL, SMTP_MAIL_LINE_MAX, smtp_command_path},
    {"RCPT", SMTP_VERB_RCPT, SMTP_RCPT_LINE_MAX, smtp_command_path},
    {"DATA", SMTP_VERB_DATA, SMTP_LINE_MAX, smtp_command_bare},
    {"BDAT", SMTP_VERB_BDAT, SMTP_LINE_MAX, smtp_command_bdat},
    {"RSET", SMTP_VERB_RSET, SMTP_LINE_MAX, smtp_command_bare},
    {"NOOP", SMTP_VERB_NOOP, SMTP_LINE_MAX, smtp_command_text},
    {"QUIT", SMTP_VERB_QUIT, SMTP_LINE_MAX, smtp_command_bare},
    {"VRFY", SMTP_VERB_VRFY, SMTP_LINE_MAX, smtp_command_text},
    {"EXPN", SMTP_VERB_EXPN, SMTP_LINE_MAX, smtp_command_text},
    {"HELP", SMTP_VERB_HELP, SMTP_LINE_MAX, smtp_command_text},
    {"STARTTLS", SMTP_VERB_STARTTLS, SMTP_LINE_MAX, smtp_command_bare},
    {"AUTH", SMTP_VERB_AUTH, SMTP_AUTH_LINE_MAX, smtp_command_auth},
};

#define SMTP_COMMAND_COUNT (sizeof(smtp_command_table) / sizeof(smtp_command_table[0]))

const char *smtp_command_verb_name(smtp_verb verb)
{
    for (size_t i = 0; i < SMTP_COMMAND_COUNT; i++) {
        if (smtp_command_table[i].verb == verb)
            return smtp_command_table[i].name;
    }
    return "UNKNOWN";
}

static int smtp_command_parse_line(const char *line, size_t len, smtp_parse_flags flags,
                                   smtp_command *cmd, smtp_error *error_r)
{
    if (len == 0)
        return smtp_fail(error_r, 500, 5, 5, 2, "empty command line");
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)line[i];
        if (c < 0x20 || c == 0x7f)
            return smtp_fail(error_r, 500, 5, 5, 2, "control character in command line");
    }
    size_t vlen = 0;
    while (vlen < len && line[vlen] != ' ')
        vlen++;
    if (vlen == 0)
        return smtp_fail(error_r, 500, 5, 5, 2, "command line begins with a space");
    cmd->verb_text = line;
    cmd->verb_len = vlen;

    const smtp_command_def *def = NULL;
    for (size_t i = 0; i < SMTP_COMMAND_COUNT && def == NULL; i++) {
        if (smtp_word_eq(line, vlen, smtp_command_table[i].name))
            def = &smtp_command_table[i];
    }
    size_t line_max = def != NULL ? def->line_max : SMTP_LINE_MAX;
    if (len + 2 > line_max)
        return smtp_fail(error_r, 500, 5, 5, 2, "line too long");

    /* Trailing spaces (leniency), then the argument after one space. */
    size_t end = len;
    while (end > vlen && line[end - 1] == ' ')
        end--;
    if (end < len)
        cmd->lenient = true;
    if (end > vlen) {
        cmd->arg = line + vlen + 1;
        cmd->arg_len = end - vlen - 1;
    }
    if (def == NULL) {
        cmd->verb = SMTP_VERB_UNKNOWN;
        return 1;
    }
    cmd->verb = def->verb;
    return def->parse(cmd, flags, error_r);
}

int smtp_command_parse(const char *line, size_t len, smtp_parse_flags flags, smtp_command *cmd_r,
                       smtp_error *error_r)
{
    memset(cmd_r, 0, sizeof(*cmd_r));
    cmd_r->arg = "";
    cmd_r->verb_text = "";
    if (smtp_command_parse_line(line, len, flags, cmd_r, error_r) < 0) {
        memset(cmd_r, 0, sizeof(*cmd_r));
        cmd_r->arg = "";
        cmd_r->verb_text = "";
        return -1;
    }
    return 1;
}
