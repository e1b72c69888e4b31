#include "names.h"

#include <idn2.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define NAMES_IDN2_FLAGS (IDN2_NFC_INPUT | IDN2_NONTRANSITIONAL | IDN2_ALABEL_ROUNDTRIP)

static int names_fail(const char **error_r, const char *message)
{
    if (error_r != NULL)
        *error_r = message;
    return -1;
}

/* ---- UTF-8 ------------------------------------------------------------- */

/* Decodes one code point at s (n > 0 bytes left). Returns its length in
 * bytes, or 0 when the bytes are not well-formed UTF-8 (RFC 3629 4: no
 * overlong forms, no surrogates, nothing above U+10FFFF). */
static size_t names_utf8_next(const unsigned char *s, size_t n, uint32_t *cp_r)
{
    unsigned char c = s[0];
    size_t need;
    uint32_t cp, min;

    if (c < 0x80) {
        *cp_r = c;
        return 1;
    } else if (c >= 0xc2 && c <= 0xdf) {
        need = 2, cp = c & 0x1f, min = 0x80;
    } else if (c >= 0xe0 && c <= 0xef) {
        need = 3, cp = c & 0x0f, min = 0x800;
    } else if (c >= 0xf0 && c <= 0xf4) {
        need = 4, cp = c & 0x07, min = 0x10000;
    } else {
        return 0;
    }
    if (n < need)
        return 0;
    for (size_t i = 1; i < need; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[i] & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    *cp_r = cp;
    return need;
}

static bool names_utf8_valid(const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;
    uint32_t cp;

    while (i < len) {
        size_t n = names_utf8_next(p + i, len - i, &cp);
        if (n == 0)
            return false;
        i += n;
    }
    return true;
}

static char names_lower(char c)
{
    return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

static bool names_is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static bool names_is_ldh(char c)
{
    return (c >= 'a' && c <= 'z') || names_is_digit(c) || c == '-';
}

/* ---- domains ----------------------------------------------------------- */

static const char *names_idn2_message(int rc)
{
    switch (rc) {
    case IDN2_TOO_BIG_LABEL:
    case IDN2_PUNYCODE_BIG_OUTPUT: /* the encoded label would not fit 63 */
        return "label longer than 63 octets";
    case IDN2_TOO_BIG_DOMAIN:
        return "name longer than 253 octets";
    case IDN2_PUNYCODE_BAD_INPUT:
    case IDN2_PUNYCODE_OVERFLOW:
    case IDN2_INVALID_ALABEL:
    case IDN2_UALABEL_MISMATCH:
    case IDN2_ALABEL_ROUNDTRIP_FAILED:
        return "invalid A-label (\"xn--\" label)";
    case IDN2_2HYPHEN:
        return "label has \"--\" in positions 3 and 4";
    case IDN2_HYPHEN_STARTEND:
        return "label begins or ends with '-'";
    case IDN2_LEADING_COMBINING:
        return "label begins with a combining mark";
    case IDN2_BIDI:
        return "label breaks the bidi rule (RFC 5893)";
    case IDN2_ENCODING_ERROR:
        return "invalid UTF-8";
    case IDN2_MALLOC:
        return "out of memory";
    default:
        return "character not allowed in a domain name";
    }
}

/* Checks the converted name (ASCII) and writes it lowercased to out. */
static int names_domain_check_ascii(const char *s, size_t n, char out[NAMES_DOMAIN_MAX + 1],
                                    const char **error_r)
{
    size_t labels = 0, start = 0;
    bool numeric = true;

    if (n == 0)
        return names_fail(error_r, "empty domain name");
    if (n > NAMES_DOMAIN_MAX)
        return names_fail(error_r, "name longer than 253 octets");
    for (size_t i = 0; i <= n; i++) {
        if (i < n && s[i] != '.') {
            char c = names_lower(s[i]);
            if (!names_is_ldh(c))
                return names_fail(error_r, "character not allowed in a domain name "
                                           "(letters, digits and '-' only)");
            numeric = numeric && names_is_digit(c);
            out[i] = c;
            continue;
        }
        size_t llen = i - start;
        const char *label = out + start;
        if (llen == 0)
            return names_fail(error_r, "empty label");
        if (llen > NAMES_LABEL_MAX)
            return names_fail(error_r, "label longer than 63 octets");
        if (label[0] == '-' || label[llen - 1] == '-')
            return names_fail(error_r, "label begins or ends with '-'");
        /* RFC 5891 4.2.3.1: "--" in positions 3 and 4 is reserved for
         * tagged labels, of which only "xn--" exists. */
        if (llen >= 4 && label[2] == '-' && label[3] == '-' && memcmp(label, "xn", 2) != 0)
            return names_fail(error_r, "label has \"--\" in positions 3 and 4");
        labels++;
        if (i < n) {
            out[i] = '.';
            numeric = true;
        }
        start = i + 1;
    }
    out[n] = '\0';
    if (labels < 2)
        return names_fail(error_r, "single-label name (a mail domain needs a dot)");
    if (numeric)
        return names_fail(error_r, "all-numeric top-level label (an IP address?)");
    return 0;
}

/* Structural checks on the raw input that give a precise message before
 * libidn2 (which passes "a..b" through untouched) sees it. */
static int names_domain_precheck(const char *in, size_t len, const char **error_r)
{
    size_t label = 0;
    bool ascii = true;

    for (size_t i = 0; i < len; i++) {
        if ((unsigned char)in[i] >= 0x80)
            ascii = false;
        if (in[i] != '.') {
            label++;
            if (ascii && label > NAMES_LABEL_MAX)
                return names_fail(error_r, "label longer than 63 octets");
            continue;
        }
        if (label == 0)
            return names_fail(error_r, "empty label");
        label = 0;
    }
    if (label == 0)
        return names_fail(error_r, "empty label");
    if (ascii && len > NAMES_DOMAIN_MAX)
        return names_fail(error_r, "name longer than 253 octets");
    return 0;
}

/* RFC 5891 5.4: an A-label is valid only when its U-label is, and converts
 * back to the same A-label. libidn2 passes "xn--" labels through without
 * that check ("xn--fmkfd" decodes to U+3206.., which IDNA2008 disallows), so
 * decode the name and convert it again. */
static int names_domain_verify_alabels(const char *ascii, const char **error_r)
{
    char *u = NULL;
    uint8_t *back = NULL;
    int rc = -1;

    if (strncmp(ascii, "xn--", 4) != 0 && strstr(ascii, ".xn--") == NULL)
        return 0;
    if (idn2_to_unicode_8z8z(ascii, &u, 0) == IDN2_OK &&
        idn2_lookup_u8((const uint8_t *)u, &back, NAMES_IDN2_FLAGS) == IDN2_OK &&
        strcmp((const char *)back, ascii) == 0)
        rc = 0;
    free(u);
    free(back);
    return rc == 0 ? 0 : names_fail(error_r, "invalid A-label (\"xn--\" label)");
}

static int names_domain_normalize_dot(const char *in, size_t len, bool trailing_dot_ok,
                                      char out[NAMES_DOMAIN_MAX + 1], const char **error_r)
{
    char tmp[NAMES_DOMAIN_INPUT_MAX + 1];
    uint8_t *ascii = NULL;

    out[0] = '\0';
    if (len == 0)
        return names_fail(error_r, "empty domain name");
    if (len > NAMES_DOMAIN_INPUT_MAX)
        return names_fail(error_r, "name longer than 253 octets");
    if (memchr(in, '\0', len) != NULL)
        return names_fail(error_r, "NUL byte in domain name");
    if (!names_utf8_valid(in, len))
        return names_fail(error_r, "invalid UTF-8");
    if (in[len - 1] == '.' && len > 1 && in[len - 2] != '.') {
        if (!trailing_dot_ok)
            return names_fail(error_r, "trailing dot");
        len--;
    }
    if (names_domain_precheck(in, len, error_r) < 0)
        return -1;
    memcpy(tmp, in, len);
    tmp[len] = '\0';
    int rc = idn2_lookup_u8((const uint8_t *)tmp, &ascii, NAMES_IDN2_FLAGS);
    if (rc != IDN2_OK) {
        free(ascii);
        return names_fail(error_r, names_idn2_message(rc));
    }
    rc = names_domain_check_ascii((const char *)ascii, strlen((const char *)ascii), out, error_r);
    free(ascii);
    if (rc == 0)
        rc = names_domain_verify_alabels(out, error_r);
    if (rc < 0)
        out[0] = '\0';
    return rc;
}

int names_domain_normalize(const char *in, size_t len, char out[NAMES_DOMAIN_MAX + 1],
                           const char **error_r)
{
    return names_domain_normalize_dot(in, len, true, out, error_r);
}

static int names_copy(const char *s, char *out, size_t outsz)
{
    size_t n = strlen(s);
    if (n >= outsz) {
        if (outsz > 0)
            out[0] = '\0';
        return -1;
    }
    memcpy(out, s, n + 1);
    return 0;
}

int names_domain_to_unicode(const char *alabel, char *out, size_t outsz)
{
    /* Without an "xn--" label the name is its own display form. */
    if (strstr(alabel, "xn--") == NULL && strstr(alabel, "XN--") == NULL)
        return names_copy(alabel, out, outsz) == 0 ? 0 : -1;
    char *u = NULL;
    int rc = idn2_to_unicode_8z8z(alabel, &u, 0);

    if (rc == IDN2_OK && u != NULL && names_copy(u, out, outsz) == 0) {
        free(u);
        return 0;
    }
    free(u);
    return names_copy(alabel, out, outsz) == 0 ? 1 : -1;
}

/* ---- local parts ------------------------------------------------------- */

/* RFC 5322 3.2.3 atext without '%' and '!' (see names.h). */
static bool names_is_atext(char c)
{
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || names_is_digit(c))
        return true;
    return c != '\0' && strchr("#$&'*+-/=?^_`{|}~", c) != NULL;
}

static int names_local_refusal(char c, const char **error_r)
{
    switch (c) {
    case '%':
        return names_fail(error_r, "'%' routing is refused");
    case '!':
        return names_fail(error_r, "'!' (UUCP) routing is refused");
    case '"':
    case '\\':
        return names_fail(error_r, "quoted local parts are refused");
    case '@':
        return names_fail(error_r, "'@' in local part (source routes are refused)");
    case '\0':
        return names_fail(error_r, "NUL byte in local part");
    default:
        return names_fail(error_r, "character not allowed in a local part");
    }
}

/* The shared dot-atom walk. With utf8, bytes >= 0x80 forming valid UTF-8
 * count as atext (RFC 6531 3.3 extends atext with UTF8-non-ascii); C1
 * controls (U+0080..U+009F) are refused all the same. */
static int names_local_check(const char *in, size_t len, bool utf8, const char **error_r)
{
    const unsigned char *p = (const unsigned char *)in;
    size_t i = 0;

    if (len == 0)
        return names_fail(error_r, "empty local part");
    if (len > NAMES_LOCAL_MAX)
        return names_fail(error_r, "local part longer than 64 octets");
    if (in[0] == '.' || in[len - 1] == '.')
        return names_fail(error_r, "local part begins or ends with '.'");
    while (i < len) {
        if (p[i] >= 0x80) {
            uint32_t cp;
            size_t n = names_utf8_next(p + i, len - i, &cp);
            if (!utf8)
                return names_fail(error_r, "non-ASCII local part");
            if (n == 0)
                return names_fail(error_r, "invalid UTF-8");
            if (cp < 0xa0)
                return names_fail(error_r, "control character in local part");
            i += n;
            continue;
        }
        if (in[i] == '.') {
            if (in[i + 1] == '.')
                return names_fail(error_r, "\"..\" in local part");
        } else if (!names_is_atext(in[i])) {
            return names_local_refusal(in[i], error_r);
        }
        i++;
    }
    return 0;
}

int names_local_normalize(const char *in, size_t len, char out[NAMES_LOCAL_MAX + 1],
                          const char **error_r)
{
    out[0] = '\0';
    if (len == 1 && in[0] == '*')
        return names_fail(error_r, "\"*\" is reserved for the catch-all");
    if (names_local_check(in, len, false, error_r) < 0)
        return -1;
    /* '/' is atext, but a hosted name is also a path segment of the REST API
     * (/domains/{d}/users/{local}), where it cannot be told from a separator. */
    if (memchr(in, '/', len) != NULL)
        return names_fail(error_r, "'/' is not allowed in a hosted local part");
    for (size_t i = 0; i < len; i++)
        out[i] = names_lower(in[i]);
    out[len] = '\0';
    return 0;
}

bool names_local_is_catchall(const char *local)
{
    return local != NULL && strcmp(local, NAMES_CATCHALL) == 0;
}

/* ---- addresses --------------------------------------------------------- */

static int names_address_local(const char *in, size_t len, names_flags flags,
                               char out[NAMES_LOCAL_MAX + 1], const char **error_r)
{
    if (len > 0 && in[0] == '"')
        return names_fail(error_r, "quoted local parts are refused");
    if (len > 0 && in[0] == '@')
        return names_fail(error_r, "source routes are refused");
    if ((flags & NAMES_LOCAL_UTF8_KEEP) != 0) {
        if (names_local_check(in, len, true, error_r) < 0)
            return -1;
        memcpy(out, in, len);
        out[len] = '\0';
        return 0;
    }
    if ((flags & NAMES_LOCAL_CATCHALL_OK) != 0 && len == 1 && in[0] == '*') {
        memcpy(out, NAMES_CATCHALL, sizeof(NAMES_CATCHALL));
        return 0;
    }
    return names_local_normalize(in, len, out, error_r);
}

int names_address_parse(const char *in, size_t len, names_flags flags, names_address *r,
                        const char **error_r)
{
    memset(r, 0, sizeof(*r));
    if (len == 0)
        return names_fail(error_r, "empty address");
    if (len > NAMES_ADDRESS_INPUT_MAX)
        return names_fail(error_r, "address longer than 254 octets");
    if (memchr(in, '\0', len) != NULL)
        return names_fail(error_r, "NUL byte in address");
    if (in[0] == '<' || in[len - 1] == '>')
        return names_fail(error_r, "angle brackets are not part of an address");

    const char *at = NULL;
    for (size_t i = len; i > 0; i--) {
        if (in[i - 1] == '@') {
            at = in + i - 1;
            break;
        }
    }
    if (at == NULL)
        return names_fail(error_r, "missing '@'");
    size_t llen = (size_t)(at - in), dlen = len - llen - 1;
    if (dlen > 0 && at[1] == '[')
        return names_fail(error_r, "address literals are refused");
    if (names_address_local(in, llen, flags, r->local, error_r) < 0 ||
        names_domain_normalize_dot(at + 1, dlen, false, r->domain, error_r) < 0) {
        memset(r, 0, sizeof(*r));
        return -1;
    }
    if (llen + 1 + strlen(r->domain) > NAMES_ADDRESS_MAX) {
        memset(r, 0, sizeof(*r));
        return names_fail(error_r, "address longer than 254 octets");
    }
    return 0;
}

int names_address_format(const names_address *a, char out[NAMES_ADDRESS_MAX + 1])
{
    size_t l = strlen(a->local), d = strlen(a->domain);

    out[0] = '\0';
    if (l + 1 + d > NAMES_ADDRESS_MAX)
        return -1;
    memcpy(out, a->local, l);
    out[l] = '@';
    memcpy(out + l + 1, a->domain, d + 1);
    return 0;
}

/* ---- admin usernames --------------------------------------------------- */

bool names_username_valid(const char *s, size_t len)
{
    if (s == NULL || len == 0 || len > NAMES_USERNAME_MAX)
        return false;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || names_is_digit(c) ||
                  (c != '\0' && strchr("._@+-", c) != NULL);
        if (!ok)
            return false;
    }
    return true;
}
