#include "conf.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

/* How much of an offending value an error message quotes. */
#define CONF_QUOTE_MAX 64

static int conf_fail(conf_error *err, unsigned line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int conf_fail(conf_error *err, unsigned line, const char *fmt, ...)
{
    if (err != NULL) {
        va_list ap;
        err->line = line;
        va_start(ap, fmt);
        vsnprintf(err->message, sizeof(err->message), fmt, ap);
        va_end(ap);
    }
    return -1;
}

/* ---- the pure parser --------------------------------------------------- */

typedef struct conf_seen {
    const char *key; /* points into the text */
    size_t len;
    unsigned line;
} conf_seen;

typedef struct conf_parser {
    const conf_limits *limits;
    conf_entry_fn *fn;
    void *ctx;
    conf_error *err;
    char *value; /* limits->line_max + 1 bytes */
    conf_seen *seen;
    size_t seen_count, seen_cap;
    unsigned line;
} conf_parser;

static bool conf_is_blank(char c)
{
    return c == ' ' || c == '\t';
}

static bool conf_is_key_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '.';
}

/* RFC 3629 4: well-formed UTF-8 (no overlongs, surrogates, > U+10FFFF). */
static bool conf_utf8_valid(const unsigned char *s, size_t len)
{
    size_t i = 0;
    while (i < len) {
        unsigned char c = s[i];
        size_t need;
        unsigned long cp, min;
        if (c < 0x80) {
            i++;
            continue;
        } else if (c >= 0xc2 && c <= 0xdf) {
            need = 2, cp = c & 0x1f, min = 0x80;
        } else if (c >= 0xe0 && c <= 0xef) {
            need = 3, cp = c & 0x0f, min = 0x800;
        } else if (c >= 0xf0 && c <= 0xf4) {
            need = 4, cp = c & 0x07, min = 0x10000;
        } else {
            return false;
        }
        if (len - i < need)
            return false;
        for (size_t k = 1; k < need; k++) {
            if ((s[i + k] & 0xc0) != 0x80)
                return false;
            cp = (cp << 6) | (s[i + k] & 0x3f);
        }
        if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
            return false;
        i += need;
    }
    return true;
}

static bool conf_key_has_empty_part(const char *key, size_t len)
{
    if (key[0] == '.' || key[len - 1] == '.')
        return true;
    for (size_t i = 1; i < len; i++) {
        if (key[i] == '.' && key[i - 1] == '.')
            return true;
    }
    return false;
}

static int conf_check_key(conf_parser *p, const char *key, size_t len)
{
    if (len > p->limits->key_max)
        return conf_fail(p->err, p->line, "key longer than %zu bytes", p->limits->key_max);
    if (conf_key_has_empty_part(key, len))
        return conf_fail(p->err, p->line, "empty component in key \"%.*s\"", (int)len, key);
    for (size_t i = 0; i < p->seen_count; i++) {
        const conf_seen *s = &p->seen[i];
        if (s->len == len && memcmp(s->key, key, len) == 0)
            return conf_fail(p->err, p->line, "duplicate key \"%.*s\" (first set on line %u)",
                             (int)len, key, s->line);
    }
    return 0;
}

static int conf_remember(conf_parser *p, const char *key, size_t len)
{
    if (p->seen_count >= p->limits->entries_max)
        return conf_fail(p->err, p->line, "too many entries (at most %zu)", p->limits->entries_max);
    if (p->seen_count == p->seen_cap) {
        size_t cap = p->seen_cap == 0 ? 64 : p->seen_cap * 2;
        conf_seen *n = realloc(p->seen, cap * sizeof(*n));
        if (n == NULL)
            return conf_fail(p->err, p->line, "out of memory");
        p->seen = n;
        p->seen_cap = cap;
    }
    p->seen[p->seen_count++] = (conf_seen){key, len, p->line};
    return 0;
}

/* Copies a quoted value (s[0] == '"') into p->value. Returns the number of
 * bytes used including both quotes, or 0 after setting the error. */
static size_t conf_parse_quoted(conf_parser *p, const char *s, size_t n, size_t *vlen_r)
{
    size_t v = 0;
    for (size_t i = 1; i < n; i++) {
        if (s[i] == '"') {
            *vlen_r = v;
            return i + 1;
        }
        if (s[i] == '\\') {
            if (i + 1 == n || (s[i + 1] != '"' && s[i + 1] != '\\')) {
                conf_fail(p->err, p->line, "unknown escape in quoted value (only \\\" and \\\\)");
                return 0;
            }
            i++;
        }
        p->value[v++] = s[i];
    }
    conf_fail(p->err, p->line, "unterminated quote");
    return 0;
}

/* Parses the value part of a line (after '=' and blanks) into p->value. */
static int conf_parse_value(conf_parser *p, const char *s, size_t n, size_t *vlen_r)
{
    size_t vlen;

    if (n > 0 && s[0] == '"') {
        size_t used = conf_parse_quoted(p, s, n, &vlen);
        if (used == 0)
            return -1;
        while (used < n && conf_is_blank(s[used]))
            used++;
        if (used < n && s[used] != '#')
            return conf_fail(p->err, p->line, "text after closing quote");
    } else {
        const char *hash = memchr(s, '#', n);
        vlen = hash != NULL ? (size_t)(hash - s) : n;
        while (vlen > 0 && conf_is_blank(s[vlen - 1]))
            vlen--;
        memcpy(p->value, s, vlen);
    }
    p->value[vlen] = '\0';
    for (size_t i = 0; i < vlen; i++) {
        unsigned char c = (unsigned char)p->value[i];
        if ((c < 0x20 && c != '\t') || c == 0x7f)
            return conf_fail(p->err, p->line, "control character in value");
    }
    if (!conf_utf8_valid((const unsigned char *)p->value, vlen))
        return conf_fail(p->err, p->line, "invalid UTF-8 in value");
    *vlen_r = vlen;
    return 0;
}

static int conf_parse_line(conf_parser *p, const char *s, size_t n)
{
    size_t i = 0;
    while (i < n && conf_is_blank(s[i]))
        i++;
    if (i == n || s[i] == '#')
        return 0;

    size_t kstart = i;
    while (i < n && conf_is_key_char(s[i]))
        i++;
    size_t klen = i - kstart;
    if (i < n && !conf_is_blank(s[i]) && s[i] != '=')
        return conf_fail(p->err, p->line, "invalid character in key (allowed: a-z 0-9 _ .)");
    if (klen == 0)
        return conf_fail(p->err, p->line, "missing key before '='");
    while (i < n && conf_is_blank(s[i]))
        i++;
    if (i == n || s[i] != '=')
        return conf_fail(p->err, p->line, "missing '=' after key");
    i++;
    while (i < n && conf_is_blank(s[i]))
        i++;

    const char *key = s + kstart;
    size_t vlen;
    if (conf_check_key(p, key, klen) < 0 || conf_parse_value(p, s + i, n - i, &vlen) < 0 ||
        conf_remember(p, key, klen) < 0)
        return -1;

    char kbuf[CONF_KEY_MAX + 1];
    char *k = klen < sizeof(kbuf) ? kbuf : malloc(klen + 1);
    if (k == NULL)
        return conf_fail(p->err, p->line, "out of memory");
    memcpy(k, key, klen);
    k[klen] = '\0';
    const char *why = NULL;
    int rc = p->fn != NULL ? p->fn(p->ctx, k, p->value, p->line, &why) : 0;
    if (k != kbuf)
        free(k);
    if (rc != 0)
        return conf_fail(p->err, p->line, "%s", why != NULL ? why : "entry rejected");
    return 0;
}

static int conf_parse_lines(conf_parser *p, const char *text, size_t len)
{
    size_t pos = 0;

    /* A UTF-8 byte order mark, as some editors write. */
    if (len >= 3 && memcmp(text, "\xef\xbb\xbf", 3) == 0)
        pos = 3;
    while (pos < len) {
        const char *nl = memchr(text + pos, '\n', len - pos);
        size_t end = nl != NULL ? (size_t)(nl - text) : len;
        size_t n = end - pos;
        p->line++;
        if (n > 0 && text[end - 1] == '\r')
            n--;
        if (n > p->limits->line_max)
            return conf_fail(p->err, p->line, "line longer than %zu bytes", p->limits->line_max);
        if (memchr(text + pos, '\0', n) != NULL)
            return conf_fail(p->err, p->line, "NUL byte");
        if (conf_parse_line(p, text + pos, n) < 0)
            return -1;
        pos = end + 1;
    }
    return 0;
}

int conf_parse(const char *text, size_t len, const conf_limits *limits, conf_entry_fn *fn,
               void *ctx, conf_error *err_r)
{
    static const conf_limits defaults = CONF_LIMITS_DEFAULT;
    conf_parser p = {
        .limits = limits != NULL ? limits : &defaults, .fn = fn, .ctx = ctx, .err = err_r};

    if (err_r != NULL) {
        err_r->line = 0;
        err_r->message[0] = '\0';
    }
    if (len > p.limits->text_max)
        return conf_fail(err_r, 0, "configuration longer than %zu bytes", p.limits->text_max);
    p.value = malloc(p.limits->line_max + 1);
    if (p.value == NULL)
        return conf_fail(err_r, 0, "out of memory");
    int rc = conf_parse_lines(&p, text, len);
    free(p.value);
    free(p.seen);
    return rc;
}

/* ---- the table --------------------------------------------------------- */

typedef struct conf_item {
    char *key;
    char *value;
    unsigned line;
} conf_item;

struct conf {
    conf_item *items;
    size_t count, cap;
};

void conf_free(conf **c)
{
    if (c == NULL || *c == NULL)
        return;
    for (size_t i = 0; i < (*c)->count; i++) {
        free((*c)->items[i].key);
        free((*c)->items[i].value);
    }
    free((*c)->items);
    free(*c);
    *c = NULL;
}

static int conf_add(void *ctx, const char *key, const char *value, unsigned line,
                    const char **error_r)
{
    conf *c = ctx;
    if (c->count == c->cap) {
        size_t cap = c->cap == 0 ? 32 : c->cap * 2;
        conf_item *n = realloc(c->items, cap * sizeof(*n));
        if (n == NULL)
            goto nomem;
        c->items = n;
        c->cap = cap;
    }
    conf_item *it = &c->items[c->count];
    it->key = strdup(key);
    it->value = strdup(value);
    it->line = line;
    if (it->key == NULL || it->value == NULL) {
        free(it->key);
        free(it->value);
        goto nomem;
    }
    c->count++;
    return 0;
nomem:
    *error_r = "out of memory";
    return -1;
}

int conf_load_text(const char *text, size_t len, conf **r, conf_error *err_r)
{
    conf *c = calloc(1, sizeof(*c));
    *r = NULL;
    if (c == NULL)
        return conf_fail(err_r, 0, "out of memory");
    if (conf_parse(text, len, NULL, conf_add, c, err_r) < 0) {
        conf_free(&c);
        return -1;
    }
    *r = c;
    return 0;
}

/* Reads at most CONF_FILE_MAX bytes; one byte more means the file is too big
 * (or grew since fstat). */
static int conf_read_fd(int fd, const char *path, char *data, size_t *len_r, conf_error *err_r)
{
    size_t len = 0;
    while (len <= CONF_FILE_MAX) {
        ssize_t n = read(fd, data + len, CONF_FILE_MAX + 1 - len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return conf_fail(err_r, 0, "read(%s) failed: %s", path, strerror(errno));
        if (n == 0)
            break;
        len += (size_t)n;
    }
    if (len > CONF_FILE_MAX)
        return conf_fail(err_r, 0, "%s: file larger than %d bytes", path, CONF_FILE_MAX);
    *len_r = len;
    return 0;
}

int conf_load_file(const char *path, conf **r, conf_error *err_r)
{
    struct stat st;
    char *data = NULL;
    size_t len = 0;
    int rc = -1;

    *r = NULL;
    /* O_NONBLOCK: a FIFO in place of the file must not hang the open. */
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    if (fd < 0)
        return conf_fail(err_r, 0, "open(%s) failed: %s", path, strerror(errno));
    if (fstat(fd, &st) < 0) {
        conf_fail(err_r, 0, "fstat(%s) failed: %s", path, strerror(errno));
    } else if (!S_ISREG(st.st_mode)) {
        conf_fail(err_r, 0, "%s: not a regular file", path);
    } else if (st.st_size > CONF_FILE_MAX) {
        conf_fail(err_r, 0, "%s: file larger than %d bytes", path, CONF_FILE_MAX);
    } else if ((data = malloc(CONF_FILE_MAX + 1)) == NULL) {
        conf_fail(err_r, 0, "out of memory");
    } else if (conf_read_fd(fd, path, data, &len, err_r) == 0) {
        rc = conf_load_text(data, len, r, err_r);
    }
    free(data);
    close(fd);
    return rc;
}

size_t conf_count(const conf *c)
{
    return c != NULL ? c->count : 0;
}

static const conf_item *conf_find(const conf *c, const char *key)
{
    if (c == NULL || key == NULL)
        return NULL;
    for (size_t i = 0; i < c->count; i++) {
        if (strcmp(c->items[i].key, key) == 0)
            return &c->items[i];
    }
    return NULL;
}

const char *conf_get_str(const conf *c, const char *key, const char *def)
{
    const conf_item *it = conf_find(c, key);
    return it != NULL ? it->value : def;
}

/* ---- typed getters ----------------------------------------------------- */

/* Parses leading decimal digits of s into *v; returns the number of digits
 * (0 when none) or -1 on overflow. */
static int conf_digits(const char *s, unsigned long long *v_r, size_t *used_r)
{
    unsigned long long v = 0;
    size_t i = 0;
    while (s[i] >= '0' && s[i] <= '9') {
        unsigned d = (unsigned)(s[i] - '0');
        if (v > (ULLONG_MAX - d) / 10)
            return -1;
        v = v * 10 + d;
        i++;
    }
    *v_r = v;
    *used_r = i;
    return i > 0 ? 0 : -1;
}

static int conf_bad(const conf_item *it, conf_error *err_r, const char *expected)
{
    return conf_fail(err_r, it->line, "%s: \"%.*s\" is not %s", it->key, CONF_QUOTE_MAX, it->value,
                     expected);
}

static int conf_range(const conf_item *it, conf_error *err_r, long long min, long long max)
{
    return conf_fail(err_r, it->line, "%s: %.*s is out of range %lld..%lld", it->key,
                     CONF_QUOTE_MAX, it->value, min, max);
}

int conf_get_int(const conf *c, const char *key, long long def, long long min, long long max,
                 long long *r, conf_error *err_r)
{
    const conf_item *it = conf_find(c, key);
    if (it == NULL) {
        *r = def;
        return 0;
    }
    const char *s = it->value;
    bool neg = s[0] == '-';
    unsigned long long u;
    size_t used;
    if (conf_digits(s + neg, &u, &used) < 0 || s[neg + used] != '\0')
        return conf_bad(it, err_r, "an integer");
    long long v;
    if (!neg && u <= (unsigned long long)LLONG_MAX)
        v = (long long)u;
    else if (neg && u <= (unsigned long long)LLONG_MAX)
        v = -(long long)u;
    else if (neg && u == (unsigned long long)LLONG_MAX + 1)
        v = LLONG_MIN;
    else
        return conf_range(it, err_r, min, max);
    if (v < min || v > max)
        return conf_range(it, err_r, min, max);
    *r = v;
    return 0;
}

int conf_get_bool(const conf *c, const char *key, bool def, bool *r, conf_error *err_r)
{
    static const char *const yes[] = {"yes", "true", "on", "1"};
    static const char *const no[] = {"no", "false", "off", "0"};
    const conf_item *it = conf_find(c, key);
    if (it == NULL) {
        *r = def;
        return 0;
    }
    for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
        if (strcasecmp(it->value, yes[i]) == 0) {
            *r = true;
            return 0;
        }
        if (strcasecmp(it->value, no[i]) == 0) {
            *r = false;
            return 0;
        }
    }
    return conf_bad(it, err_r, "a boolean (yes/no, true/false, on/off, 1/0)");
}

/* A number with an optional one-letter unit from units (matched by
 * fold(letter)), scaled by the matching factor. */
static int conf_scaled(const conf_item *it, const char *units, const unsigned long long *factors,
                       bool fold, unsigned long long *v_r)
{
    unsigned long long v;
    size_t used;
    if (conf_digits(it->value, &v, &used) < 0)
        return -1;
    char u = it->value[used];
    if (u == '\0') {
        *v_r = v;
        return 0;
    }
    if (it->value[used + 1] != '\0')
        return -1;
    if (fold && u >= 'a' && u <= 'z')
        u = (char)(u - 'a' + 'A');
    const char *at = strchr(units, u);
    if (at == NULL)
        return -1;
    unsigned long long f = factors[at - units];
    if (v > ULLONG_MAX / f)
        return 1;
    *v_r = v * f;
    return 0;
}

int conf_get_size(const conf *c, const char *key, uint64_t def, uint64_t min, uint64_t max,
                  uint64_t *r, conf_error *err_r)
{
    static const unsigned long long f[] = {1ULL << 10, 1ULL << 20, 1ULL << 30};
    const conf_item *it = conf_find(c, key);
    unsigned long long v;
    if (it == NULL) {
        *r = def;
        return 0;
    }
    int rc = conf_scaled(it, "KMG", f, true, &v);
    if (rc < 0)
        return conf_bad(it, err_r, "a size (a number of bytes with an optional K, M or G)");
    if (rc > 0 || v < min || v > max)
        return conf_fail(err_r, it->line, "%s: %.*s is out of range %llu..%llu bytes", it->key,
                         CONF_QUOTE_MAX, it->value, (unsigned long long)min,
                         (unsigned long long)max);
    *r = v;
    return 0;
}

int conf_get_duration(const conf *c, const char *key, long long def, long long min, long long max,
                      long long *r, conf_error *err_r)
{
    static const unsigned long long f[] = {1, 60, 3600, 86400};
    const conf_item *it = conf_find(c, key);
    unsigned long long v;
    if (it == NULL) {
        *r = def;
        return 0;
    }
    int rc = conf_scaled(it, "smhd", f, false, &v);
    if (rc < 0)
        return conf_bad(it, err_r, "a duration (seconds with an optional s, m, h or d)");
    if (rc > 0 || v > (unsigned long long)LLONG_MAX || (long long)v < min || (long long)v > max)
        return conf_fail(err_r, it->line, "%s: %.*s is out of range %lld..%lld seconds", it->key,
                         CONF_QUOTE_MAX, it->value, min, max);
    *r = (long long)v;
    return 0;
}

/* ---- unknown keys ------------------------------------------------------ */

static bool conf_known(const char *key, const char *const *known)
{
    for (size_t i = 0; known[i] != NULL; i++) {
        size_t n = strlen(known[i]);
        if (n >= 2 && strcmp(known[i] + n - 2, ".*") == 0) {
            if (strncmp(key, known[i], n - 1) == 0)
                return true;
        } else if (strcmp(key, known[i]) == 0) {
            return true;
        }
    }
    return false;
}

/* Levenshtein distance, or SIZE_MAX when either string is too long. */
static size_t conf_distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    size_t row[CONF_KEY_MAX + 1];
    if (la > CONF_KEY_MAX || lb > CONF_KEY_MAX)
        return SIZE_MAX;
    for (size_t j = 0; j <= lb; j++)
        row[j] = j;
    for (size_t i = 1; i <= la; i++) {
        size_t diag = row[0];
        row[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            size_t up = row[j];
            size_t best = diag + (a[i - 1] != b[j - 1]);
            if (up + 1 < best)
                best = up + 1;
            if (row[j - 1] + 1 < best)
                best = row[j - 1] + 1;
            row[j] = best;
            diag = up;
        }
    }
    return row[lb];
}

static const char *conf_suggest(const char *key, const char *const *known)
{
    const char *best = NULL;
    size_t best_d = 3; /* suggest only within two edits */
    for (size_t i = 0; known[i] != NULL; i++) {
        size_t d = conf_distance(key, known[i]);
        if (d < best_d) {
            best_d = d;
            best = known[i];
        }
    }
    return best;
}

int conf_unknown_keys(const conf *c, const char *const *known, conf_error *err_r)
{
    static const char *const none[] = {NULL};
    if (known == NULL)
        known = none;
    for (size_t i = 0; i < conf_count(c); i++) {
        const conf_item *it = &c->items[i];
        if (conf_known(it->key, known))
            continue;
        const char *s = conf_suggest(it->key, known);
        if (s != NULL)
            return conf_fail(err_r, it->line, "unknown key \"%s\" (did you mean \"%s\"?)", it->key,
                             s);
        return conf_fail(err_r, it->line, "unknown key \"%s\"", it->key);
    }
    return 0;
}

int conf_get_str_into(const conf *c, const char *key, const char *def, char *out, size_t outlen,
                      conf_error *err_r)
{
    const char *v = conf_get_str(c, key, def);
    if (v == NULL)
        return 0;
    size_t n = strlen(v);
    if (n >= outlen) {
        if (err_r != NULL) {
            err_r->line = 0;
            snprintf(err_r->message, sizeof(err_r->message), "%s is too long", key);
        }
        return -1;
    }
    memcpy(out, v, n + 1);
    return 0;
}

void conf_error_format(const conf_error *e, const char *path, char *out, size_t outlen)
{
    if (e->line > 0)
        snprintf(out, outlen, "%s:%u: %s", path != NULL ? path : "(defaults)", e->line, e->message);
    else
        snprintf(out, outlen, "%s: %s", path != NULL ? path : "(defaults)", e->message);
}
