/* The capabilities in a reply to EHLO (RFC 5321 4.1.1.1, ehlo-line). */
#include <string.h>

#include "smtp_int.h"
#include "smtp_reply.h"

typedef struct smtp_ehlo_word {
    const char *name;
    unsigned bit;
} smtp_ehlo_word;

static const smtp_ehlo_word smtp_ehlo_keywords[] = {
    {"PIPELINING", SMTP_CAP_PIPELINING},
    {"SIZE", SMTP_CAP_SIZE},
    {"8BITMIME", SMTP_CAP_8BITMIME},
    {"STARTTLS", SMTP_CAP_STARTTLS},
    {"AUTH", SMTP_CAP_AUTH},
    {"SMTPUTF8", SMTP_CAP_SMTPUTF8},
    {"CHUNKING", SMTP_CAP_CHUNKING},
    {"BINARYMIME", SMTP_CAP_BINARYMIME},
    {"DSN", SMTP_CAP_DSN},
    {"ENHANCEDSTATUSCODES", SMTP_CAP_ENHANCEDSTATUSCODES},
};

static const smtp_ehlo_word smtp_ehlo_mechs[] = {
    {"PLAIN", SMTP_MECH_PLAIN},
    {"LOGIN", SMTP_MECH_LOGIN},
    {"CRAM-MD5", SMTP_MECH_CRAM_MD5},
    {"XOAUTH2", SMTP_MECH_XOAUTH2},
    {"OAUTHBEARER", SMTP_MECH_OAUTHBEARER},
    {"SCRAM-SHA-1", SMTP_MECH_SCRAM_SHA_1},
    {"SCRAM-SHA-256", SMTP_MECH_SCRAM_SHA_256},
    {"EXTERNAL", SMTP_MECH_EXTERNAL},
    {"GSSAPI", SMTP_MECH_GSSAPI},
};

#define SMTP_EHLO_COUNT(a) (sizeof(a) / sizeof((a)[0]))

static unsigned smtp_ehlo_lookup(const smtp_ehlo_word *table, size_t n, const char *s, size_t len)
{
    for (size_t i = 0; i < n; i++) {
        if (smtp_word_eq(s, len, table[i].name))
            return table[i].bit;
    }
    return 0;
}

/* One announced mechanism name (RFC 4422 3.1 sasl-mech, any case). */
static void smtp_ehlo_mech(smtp_ehlo_caps *caps, unsigned *count, const char *s, size_t len)
{
    char name[20 + 1];
    size_t have = strlen(caps->mech_names);

    if (len == 0 || len > 20)
        return;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (!smtp_is_alnum(c) && c != '-' && c != '_')
            return;
        name[i] = smtp_upper((char)c);
    }
    name[len] = '\0';
    caps->mechs |= smtp_ehlo_lookup(smtp_ehlo_mechs, SMTP_EHLO_COUNT(smtp_ehlo_mechs), name, len);
    /* each once */
    for (const char *p = caps->mech_names; *p != '\0';) {
        size_t l = strcspn(p, " ");
        if (l == len && memcmp(p, name, len) == 0)
            return;
        p += l;
        if (*p == ' ')
            p++;
    }
    if (*count >= SMTP_EHLO_MECHS_MAX || have + len + 1 > SMTP_EHLO_MECHS_TEXT_MAX)
        return;
    if (have > 0)
        caps->mech_names[have++] = ' ';
    memcpy(caps->mech_names + have, name, len + 1);
    (*count)++;
}

/* SIZE [1*20DIGIT]; 0 or none = no fixed limit (RFC 1870 4). */
static uint64_t smtp_ehlo_size(const char *s, size_t len)
{
    uint64_t n = 0;

    if (len == 0 || len > 20)
        return 0;
    for (size_t i = 0; i < len; i++) {
        if (!smtp_is_digit((unsigned char)s[i]))
            return 0;
        unsigned d = (unsigned)(s[i] - '0');
        n = n > (UINT64_MAX - d) / 10 ? UINT64_MAX : n * 10 + d;
    }
    return n;
}

static void smtp_ehlo_line(smtp_ehlo_caps *caps, unsigned *mechs, const char *s, size_t len)
{
    size_t k = 0;

    while (k < len && s[k] != ' ' && s[k] != '=')
        k++;
    unsigned bit = smtp_ehlo_lookup(smtp_ehlo_keywords, SMTP_EHLO_COUNT(smtp_ehlo_keywords), s, k);
    if (bit == 0)
        return;
    if (k < len && s[k] == '=' && bit != SMTP_CAP_AUTH)
        return; /* "AUTH=" is the only old form we know */
    caps->caps |= bit;
    /* the parameters: words after the keyword */
    size_t i = k < len ? k + 1 : len;
    if (bit == SMTP_CAP_SIZE) {
        size_t j = i;
        while (j < len && s[j] != ' ')
            j++;
        caps->size_max = smtp_ehlo_size(s + i, j - i);
        return;
    }
    if (bit != SMTP_CAP_AUTH)
        return;
    while (i < len) {
        size_t j = i;
        while (j < len && s[j] != ' ')
            j++;
        smtp_ehlo_mech(caps, mechs, s + i, j - i);
        i = j + 1;
    }
}

int smtp_ehlo_caps_parse(const smtp_reply *reply, smtp_ehlo_caps *caps_r, const char **error_r)
{
    unsigned mechs = 0;

    memset(caps_r, 0, sizeof(*caps_r));
    if (reply->code != 250) {
        if (error_r != NULL)
            *error_r = "EHLO was not answered with 250";
        return -1;
    }
    const char *s = reply->text, *end = reply->text + reply->text_len;
    const char *nl = memchr(s, '\n', reply->text_len);
    if (nl == NULL)
        return 0; /* the greeting alone: no extensions */
    for (s = nl + 1; s <= end;) {
        nl = memchr(s, '\n', (size_t)(end - s));
        const char *e = nl != NULL ? nl : end;
        smtp_ehlo_line(caps_r, &mechs, s, (size_t)(e - s));
        if (nl == NULL)
            break;
        s = nl + 1;
    }
    return 0;
}
