/* The POP3 command line parser (pop3_parse.h). */
#include "pop3_parse.h"

#include <string.h>

/* What follows a keyword. */
typedef enum {
    SHAPE_NONE,    /* STAT, NOOP, RSET, QUIT, CAPA, STLS */
    SHAPE_MSG_OPT, /* LIST, UIDL: [msg] */
    SHAPE_MSG,     /* RETR, DELE: msg */
    SHAPE_TOP,     /* TOP: msg lines */
    SHAPE_WORD,    /* USER: name */
    SHAPE_REST,    /* PASS: the rest of the line */
    SHAPE_AUTH,    /* AUTH: [mechanism [initial-response]] */
} parse_shape;

typedef struct parse_entry {
    const char *name;
    pop3_verb verb;
    parse_shape shape;
    const char *usage; /* the reply text for a wrong number of arguments */
} parse_entry;

static const parse_entry parse_table[] = {
    {"USER", POP3_CMD_USER, SHAPE_WORD, "USER takes one name"},
    {"PASS", POP3_CMD_PASS, SHAPE_REST, "PASS takes a password"},
    {"AUTH", POP3_CMD_AUTH, SHAPE_AUTH, "AUTH takes a mechanism and an optional initial response"},
    {"STLS", POP3_CMD_STLS, SHAPE_NONE, "STLS takes no arguments"},
    {"CAPA", POP3_CMD_CAPA, SHAPE_NONE, "CAPA takes no arguments"},
    {"QUIT", POP3_CMD_QUIT, SHAPE_NONE, "QUIT takes no arguments"},
    {"STAT", POP3_CMD_STAT, SHAPE_NONE, "STAT takes no arguments"},
    {"LIST", POP3_CMD_LIST, SHAPE_MSG_OPT, "LIST takes an optional message number"},
    {"RETR", POP3_CMD_RETR, SHAPE_MSG, "RETR takes a message number"},
    {"DELE", POP3_CMD_DELE, SHAPE_MSG, "DELE takes a message number"},
    {"NOOP", POP3_CMD_NOOP, SHAPE_NONE, "NOOP takes no arguments"},
    {"RSET", POP3_CMD_RSET, SHAPE_NONE, "RSET takes no arguments"},
    {"TOP", POP3_CMD_TOP, SHAPE_TOP, "TOP takes a message number and a line count"},
    {"UIDL", POP3_CMD_UIDL, SHAPE_MSG_OPT, "UIDL takes an optional message number"},
};

#define PARSE_ARGS_MAX 3 /* one more than any command takes: "too many" */

const char *pop3_verb_name(pop3_verb v)
{
    for (size_t i = 0; i < sizeof parse_table / sizeof parse_table[0]; i++)
        if (parse_table[i].verb == v)
            return parse_table[i].name;
    return "";
}

static pop3_parse_result parse_fail(pop3_parse_result r, const char *text, const char **err_r)
{
    if (err_r != NULL)
        *err_r = text;
    return r;
}

static char parse_upper(char c)
{
    return c >= 'a' && c <= 'z' ? (char)(c - 'a' + 'A') : c;
}

static const parse_entry *parse_keyword(const char *kw, size_t len)
{
    if (len > POP3_KEYWORD_MAX)
        return NULL;
    for (size_t i = 0; i < sizeof parse_table / sizeof parse_table[0]; i++) {
        const char *name = parse_table[i].name;
        if (strlen(name) != len)
            continue;
        size_t k = 0;
        while (k < len && parse_upper(kw[k]) == name[k])
            k++;
        if (k == len)
            return &parse_table[i];
    }
    return NULL;
}

/* A message number: 1*DIGIT up to 2^32 - 1 (leading zeros allowed). */
static bool parse_msg(const char *s, size_t len, uint32_t *r)
{
    uint64_t v = 0;
    size_t digits = 0;
    if (len == 0)
        return false;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        if (digits > 0 || s[i] != '0')
            digits++;
        if (digits > POP3_MSG_DIGITS_MAX)
            return false;
        v = v * 10 + (uint64_t)(s[i] - '0');
    }
    if (v > UINT32_MAX)
        return false;
    *r = (uint32_t)v;
    return true;
}

/* A line count: 1*DIGIT, saturating at UINT32_MAX. */
static bool parse_count(const char *s, size_t len, uint32_t *r)
{
    uint64_t v = 0;
    if (len == 0)
        return false;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        v = v * 10 + (uint64_t)(s[i] - '0');
        if (v > UINT32_MAX)
            v = UINT32_MAX;
    }
    *r = (uint32_t)v;
    return true;
}

static bool parse_is_ctl(unsigned char c)
{
    return c < 0x20 || c == 0x7f;
}

pop3_parse_result pop3_parse(const char *line, size_t len, pop3_command *cmd, const char **err_r)
{
    memset(cmd, 0, sizeof *cmd);
    if (len > POP3_LINE_MAX - 2)
        return parse_fail(POP3_PARSE_TOO_LONG, "line too long", err_r);
    if (memchr(line, '\0', len) != NULL || memchr(line, '\r', len) != NULL ||
        memchr(line, '\n', len) != NULL)
        return parse_fail(POP3_PARSE_BAD_CHAR, "control characters in the command", err_r);
    size_t i = 0;
    while (i < len && line[i] == ' ')
        i++;
    size_t kw = i;
    while (i < len && line[i] != ' ')
        i++;
    if (i == kw)
        return parse_fail(POP3_PARSE_EMPTY, "empty command", err_r);
    const parse_entry *e = parse_keyword(line + kw, i - kw);
    if (e == NULL)
        return parse_fail(POP3_PARSE_UNKNOWN, "unknown command", err_r);
    cmd->verb = e->verb;
    if (e->shape == SHAPE_REST) {
        /* RFC 1939 7: the password is all that follows the one space */
        if (i + 1 >= len)
            return parse_fail(POP3_PARSE_ARGS, e->usage, err_r);
        cmd->arg = line + i + 1;
        cmd->arg_len = len - i - 1;
        return POP3_PARSE_OK;
    }
    const char *arg[PARSE_ARGS_MAX];
    size_t arg_len[PARSE_ARGS_MAX], n = 0;
    for (;;) {
        while (i < len && line[i] == ' ')
            i++;
        if (i == len)
            break;
        size_t start = i;
        while (i < len && line[i] != ' ') {
            if (parse_is_ctl((unsigned char)line[i]))
                return parse_fail(POP3_PARSE_BAD_CHAR, "control characters in the command", err_r);
            i++;
        }
        if (n == PARSE_ARGS_MAX)
            return parse_fail(POP3_PARSE_ARGS, e->usage, err_r);
        arg[n] = line + start;
        arg_len[n++] = i - start;
    }
    switch (e->shape) {
    case SHAPE_NONE:
        if (n != 0)
            return parse_fail(POP3_PARSE_ARGS, e->usage, err_r);
        break;
    case SHAPE_MSG_OPT:
    case SHAPE_MSG:
        if (n > 1 || (n == 0 && e->shape == SHAPE_MSG))
            return parse_fail(POP3_PARSE_ARGS, e->usage, err_r);
        if (n == 1) {
            if (!parse_msg(arg[0], arg_len[0], &cmd->msg))
                return parse_fail(POP3_PARSE_NUMBER, "invalid message number", err_r);
            cmd->has_msg = true;
        }
        break;
    case SHAPE_TOP:
        if (n != 2)
            return parse_fail(POP3_PARSE_ARGS, e->usage, err_r);
        if (!parse_msg(arg[0], arg_len[0], &cmd->msg))
            return parse_fail(POP3_PARSE_NUMBER, "invalid message number", err_r);
        if (!parse_count(arg[1], arg_len[1], &cmd->lines))
            return parse_fail(POP3_PARSE_NUMBER, "invalid line count", err_r);
        cmd->has_msg = true;
        break;
    case SHAPE_WORD:
        if (n != 1)
            return parse_fail(POP3_PARSE_ARGS, e->usage, err_r);
        cmd->arg = arg[0];
        cmd->arg_len = arg_len[0];
        break;
    case SHAPE_AUTH:
        if (n > 2)
            return parse_fail(POP3_PARSE_ARGS, e->usage, err_r);
        if (n >= 1) {
            cmd->arg = arg[0];
            cmd->arg_len = arg_len[0];
        }
        if (n == 2) {
            cmd->ir = arg[1];
            cmd->ir_len = arg_len[1];
        }
        break;
    case SHAPE_REST:
        break;
    }
    return POP3_PARSE_OK;
}
