/* ESMTP parameters of MAIL and RCPT (RFC 5321 4.1.2 Mail-parameters,
 * Rcpt-parameters): a table of the known ones, each with its own value
 * parser. */
#include "smtp_param.h"

#include <string.h>

#include "smtp_int.h"

/* Which parameter: bits of the "seen" set that catches duplicates. */
typedef enum smtp_param_id {
    SMTP_PARAM_SIZE,
    SMTP_PARAM_BODY,
    SMTP_PARAM_SMTPUTF8,
    SMTP_PARAM_RET,
    SMTP_PARAM_ENVID,
    SMTP_PARAM_AUTH,
    SMTP_PARAM_NOTIFY,
    SMTP_PARAM_ORCPT,
} smtp_param_id;

/* value = NULL when the keyword had no "=". Returns NULL or the reason for
 * a 501 5.5.4. */
typedef const char *smtp_param_fn(const char *value, size_t len, smtp_parse_flags flags,
                                  smtp_command *cmd);

typedef struct smtp_param_def {
    const char *keyword; /* upper case */
    smtp_verb verb;
    smtp_param_fn *parse;
    const char *duplicate; /* the 501 text for a second occurrence */
} smtp_param_def;

/* RFC 1870: SIZE=1*20DIGIT. A value over 2^64-1 reads as UINT64_MAX: it
 * is over any limit all the same, and the server answers 552. */
static const char *smtp_param_size(const char *v, size_t len, smtp_parse_flags flags,
                                   smtp_command *cmd)
{
    uint64_t n = 0;

    (void)flags;
    if (v == NULL || len == 0 || len > SMTP_SIZE_DIGITS_MAX)
        return "invalid SIZE value";
    for (size_t i = 0; i < len; i++) {
        if (!smtp_is_digit((unsigned char)v[i]))
            return "invalid SIZE value";
        unsigned d = (unsigned)(v[i] - '0');
        n = n > (UINT64_MAX - d) / 10 ? UINT64_MAX : n * 10 + d;
    }
    cmd->mail.has_size = true;
    cmd->mail.size = n;
    return NULL;
}

/* RFC 6152 2 (7BIT, 8BITMIME), RFC 3030 3 (BINARYMIME). */
static const char *smtp_param_body(const char *v, size_t len, smtp_parse_flags flags,
                                   smtp_command *cmd)
{
    (void)flags;
    if (v != NULL && smtp_word_eq(v, len, "7BIT"))
        cmd->mail.body = SMTP_BODY_7BIT;
    else if (v != NULL && smtp_word_eq(v, len, "8BITMIME"))
        cmd->mail.body = SMTP_BODY_8BITMIME;
    else if (v != NULL && smtp_word_eq(v, len, "BINARYMIME"))
        cmd->mail.body = SMTP_BODY_BINARYMIME;
    else
        return "invalid BODY value";
    return NULL;
}

/* RFC 6531 3.4: SMTPUTF8 takes no value. */
static const char *smtp_param_smtputf8(const char *v, size_t len, smtp_parse_flags flags,
                                       smtp_command *cmd)
{
    (void)len, (void)flags;
    if (v != NULL)
        return "SMTPUTF8 takes no value";
    cmd->mail.smtputf8 = true;
    return NULL;
}

/* RFC 3461 4.3: RET=FULL / HDRS. */
static const char *smtp_param_ret(const char *v, size_t len, smtp_parse_flags flags,
                                  smtp_command *cmd)
{
    (void)flags;
    if (v != NULL && smtp_word_eq(v, len, "FULL"))
        cmd->mail.ret = SMTP_RET_FULL;
    else if (v != NULL && smtp_word_eq(v, len, "HDRS"))
        cmd->mail.ret = SMTP_RET_HDRS;
    else
        return "invalid RET value";
    return NULL;
}

/* Decodes xtext of at most max encoded octets into out (max + 1 octets);
 * the result must be well-formed UTF-8 (ASCII only unless utf8_ok) without
 * control octets. */
static bool smtp_param_xtext(const char *v, size_t len, size_t max, bool utf8_ok, char *out)
{
    size_t n;

    if (v == NULL || len == 0 || len > max)
        return false;
    if (smtp_xtext_decode_utf8(v, len, utf8_ok, out, max + 1, &n, NULL) < 0)
        return false;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)out[i];
        if (c < 0x20 || c == 0x7f || (c >= 0x80 && !utf8_ok)) {
            out[0] = '\0';
            return false;
        }
    }
    if (!smtp_utf8_valid(out, n)) {
        out[0] = '\0';
        return false;
    }
    return true;
}

/* RFC 3461 4.4: ENVID=xtext of printable ASCII. */
static const char *smtp_param_envid(const char *v, size_t len, smtp_parse_flags flags,
                                    smtp_command *cmd)
{
    (void)flags;
    if (!smtp_param_xtext(v, len, SMTP_ENVID_MAX, false, cmd->mail.envid))
        return "invalid ENVID value";
    cmd->mail.has_envid = true;
    return NULL;
}

/* RFC 4954 5: AUTH=xtext of an addr-spec, or "<>". The addr-spec is the
 * server's to judge (it trusts it only from an authenticated peer). */
static const char *smtp_param_auth(const char *v, size_t len, smtp_parse_flags flags,
                                   smtp_command *cmd)
{
    (void)flags;
    if (!smtp_param_xtext(v, len, SMTP_AUTH_PARAM_MAX, false, cmd->mail.auth))
        return "invalid AUTH value";
    cmd->mail.has_auth = true;
    return NULL;
}

/* RFC 3461 4.1: NOTIFY=NEVER, or a comma list of SUCCESS, FAILURE, DELAY
 * (each once). */
static const char *smtp_param_notify(const char *v, size_t len, smtp_parse_flags flags,
                                     smtp_command *cmd)
{
    unsigned bits = 0;
    size_t i = 0;

    (void)flags;
    if (v == NULL || len == 0)
        return "invalid NOTIFY value";
    while (i <= len) {
        size_t j = i;
        while (j < len && v[j] != ',')
            j++;
        unsigned bit;
        if (smtp_word_eq(v + i, j - i, "NEVER"))
            bit = SMTP_NOTIFY_NEVER;
        else if (smtp_word_eq(v + i, j - i, "SUCCESS"))
            bit = SMTP_NOTIFY_SUCCESS;
        else if (smtp_word_eq(v + i, j - i, "FAILURE"))
            bit = SMTP_NOTIFY_FAILURE;
        else if (smtp_word_eq(v + i, j - i, "DELAY"))
            bit = SMTP_NOTIFY_DELAY;
        else
            return "invalid NOTIFY value";
        if ((bits & bit) != 0)
            return "NOTIFY value listed twice";
        bits |= bit;
        i = j + 1;
    }
    if ((bits & SMTP_NOTIFY_NEVER) != 0 && bits != SMTP_NOTIFY_NEVER)
        return "NOTIFY=NEVER combined with other values";
    cmd->rcpt.notify = bits;
    return NULL;
}

/* RFC 3461 4.2: ORCPT=addr-type ";" xtext. addr-type is an atom. The
 * "utf-8" type's own \x{..} encoding (RFC 6533) is left to the caller. */
static const char *smtp_param_orcpt(const char *v, size_t len, smtp_parse_flags flags,
                                    smtp_command *cmd)
{
    const char *semi = v != NULL ? memchr(v, ';', len) : NULL;

    if (semi == NULL)
        return "invalid ORCPT value";
    size_t tlen = (size_t)(semi - v);
    if (tlen == 0 || tlen > SMTP_ORCPT_TYPE_MAX)
        return "invalid ORCPT address type";
    for (size_t i = 0; i < tlen; i++) {
        unsigned char c = (unsigned char)v[i];
        if (!smtp_is_alnum(c) && strchr("!#$%&'*+-/=?^_`{|}~", c) == NULL)
            return "invalid ORCPT address type";
    }
    if (!smtp_param_xtext(semi + 1, len - tlen - 1, SMTP_ORCPT_MAX,
                          (flags & SMTP_PARSE_SMTPUTF8) != 0, cmd->rcpt.orcpt))
        return "invalid ORCPT address";
    memcpy(cmd->rcpt.orcpt_type, v, tlen);
    cmd->rcpt.orcpt_type[tlen] = '\0';
    cmd->rcpt.has_orcpt = true;
    return NULL;
}

static const smtp_param_def smtp_param_table[] = {
    [SMTP_PARAM_SIZE] = {"SIZE", SMTP_VERB_MAIL, smtp_param_size, "duplicate SIZE parameter"},
    [SMTP_PARAM_BODY] = {"BODY", SMTP_VERB_MAIL, smtp_param_body, "duplicate BODY parameter"},
    [SMTP_PARAM_SMTPUTF8] = {"SMTPUTF8", SMTP_VERB_MAIL, smtp_param_smtputf8,
                             "duplicate SMTPUTF8 parameter"},
    [SMTP_PARAM_RET] = {"RET", SMTP_VERB_MAIL, smtp_param_ret, "duplicate RET parameter"},
    [SMTP_PARAM_ENVID] = {"ENVID", SMTP_VERB_MAIL, smtp_param_envid, "duplicate ENVID parameter"},
    [SMTP_PARAM_AUTH] = {"AUTH", SMTP_VERB_MAIL, smtp_param_auth, "duplicate AUTH parameter"},
    [SMTP_PARAM_NOTIFY] = {"NOTIFY", SMTP_VERB_RCPT, smtp_param_notify,
                           "duplicate NOTIFY parameter"},
    [SMTP_PARAM_ORCPT] = {"ORCPT", SMTP_VERB_RCPT, smtp_param_orcpt, "duplicate ORCPT parameter"},
};

#define SMTP_PARAM_COUNT (sizeof(smtp_param_table) / sizeof(smtp_param_table[0]))

/* esmtp-keyword = (ALPHA / DIGIT) *(ALPHA / DIGIT / "-") */
static bool smtp_param_keyword_valid(const char *s, size_t len)
{
    if (len == 0 || !smtp_is_alnum((unsigned char)s[0]))
        return false;
    for (size_t i = 1; i < len; i++) {
        if (!smtp_is_alnum((unsigned char)s[i]) && s[i] != '-')
            return false;
    }
    return true;
}

/* esmtp-value = 1*(%d33-60 / %d62-126), plus UTF-8 when utf8_ok (RFC
 * 6531). */
static bool smtp_param_value_valid(const char *s, size_t len, bool utf8_ok)
{
    if (len == 0)
        return false;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x80) {
            size_t w = utf8_ok ? smtp_utf8_len((const unsigned char *)s + i, len - i) : 0;
            if (w == 0)
                return false;
            i += w - 1;
        } else if (c < 33 || c > 126 || c == '=') {
            return false;
        }
    }
    return true;
}

static int smtp_param_one(const char *s, size_t len, smtp_parse_flags flags, unsigned *seen,
                          smtp_command *cmd, smtp_error *error_r)
{
    const char *eq = memchr(s, '=', len);
    size_t klen = eq != NULL ? (size_t)(eq - s) : len;
    const char *value = eq != NULL ? eq + 1 : NULL;
    size_t vlen = eq != NULL ? len - klen - 1 : 0;
    bool utf8_ok = cmd->verb == SMTP_VERB_RCPT && (flags & SMTP_PARSE_SMTPUTF8) != 0;

    if (!smtp_param_keyword_valid(s, klen))
        return smtp_fail(error_r, 501, 5, 5, 4, "invalid parameter syntax");
    if (value != NULL && !smtp_param_value_valid(value, vlen, utf8_ok))
        return smtp_fail(error_r, 501, 5, 5, 4, "invalid parameter value");
    for (size_t k = 0; k < SMTP_PARAM_COUNT; k++) {
        const smtp_param_def *d = &smtp_param_table[k];
        if (d->verb != cmd->verb || !smtp_word_eq(s, klen, d->keyword))
            continue;
        if ((*seen & (1u << k)) != 0)
            return smtp_fail(error_r, 501, 5, 5, 4, d->duplicate);
        *seen |= 1u << k;
        const char *err = d->parse(value, vlen, flags, cmd);
        if (err != NULL)
            return smtp_fail(error_r, 501, 5, 5, 4, err);
        return 1;
    }
    /* RFC 5321 4.1.1.11: 555 for parameters not recognized */
    return smtp_fail(error_r, 555, 5, 5, 4,
                     cmd->verb == SMTP_VERB_MAIL ? "unknown MAIL parameter"
                                                 : "unknown RCPT parameter");
}

int smtp_param_parse(const char *s, size_t len, smtp_parse_flags flags, smtp_command *cmd,
                     smtp_error *error_r)
{
    unsigned seen = 0;
    size_t i = 0;

    while (i < len) {
        size_t spaces = 0;
        while (i < len && s[i] == ' ')
            i++, spaces++;
        if (spaces > 1)
            cmd->lenient = true;
        if (i == len)
            break; /* trailing spaces: the caller removed them already */
        size_t j = i;
        while (j < len && s[j] != ' ')
            j++;
        if (smtp_param_one(s + i, j - i, flags, &seen, cmd, error_r) < 0)
            return -1;
        i = j;
    }
    return 1;
}
