/* libFuzzer harness for lib/conf: the pure parser under small and default
 * limits, and the typed layer with every getter on every key. Invariants:
 * every entry's key matches [a-z0-9_.]+ within key_max, its value is free of
 * control characters, conf_load_text agrees with conf_parse, and an entry
 * re-serialized as key = "value" parses back to the same entry. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"

#define FUZZ_CHECK(cond)                                                                           \
    do {                                                                                           \
        if (!(cond))                                                                               \
            abort();                                                                               \
    } while (0)

#define FUZZ_KEYS_MAX 64

typedef struct {
    const conf_limits *limits;
    size_t count;
    char *keys[FUZZ_KEYS_MAX];
} fuzz_ctx;

typedef struct {
    const char *key, *value;
    int calls;
} fuzz_expect;

static int fuzz_expect_entry(void *ctx, const char *key, const char *value, unsigned line,
                             const char **error_r)
{
    fuzz_expect *e = ctx;
    (void)error_r;
    FUZZ_CHECK(line == 1);
    FUZZ_CHECK(strcmp(key, e->key) == 0 && strcmp(value, e->value) == 0);
    e->calls++;
    return 0;
}

/* key = "value" with '"' and '\' escaped must give back key and value. */
static void fuzz_roundtrip(const char *key, const char *value)
{
    size_t n = strlen(key) + 2 * strlen(value) + 8;
    char *line = malloc(n);
    size_t k = 0;
    FUZZ_CHECK(line != NULL);
    k += (size_t)snprintf(line, n, "%s = \"", key);
    for (const char *v = value; *v != '\0'; v++) {
        if (*v == '"' || *v == '\\')
            line[k++] = '\\';
        line[k++] = *v;
    }
    line[k++] = '"';
    line[k] = '\0';
    fuzz_expect e = {key, value, 0};
    conf_limits big = CONF_LIMITS_DEFAULT;
    big.line_max = n;
    conf_error err;
    FUZZ_CHECK(conf_parse(line, k, &big, fuzz_expect_entry, &e, &err) == 0);
    FUZZ_CHECK(e.calls == 1);
    free(line);
}

static int fuzz_entry(void *ctx, const char *key, const char *value, unsigned line,
                      const char **error_r)
{
    fuzz_ctx *f = ctx;
    size_t klen = strlen(key);

    (void)error_r;
    FUZZ_CHECK(line > 0);
    FUZZ_CHECK(klen > 0 && klen <= f->limits->key_max);
    FUZZ_CHECK(key[0] != '.' && key[klen - 1] != '.' && strstr(key, "..") == NULL);
    for (size_t i = 0; i < klen; i++)
        FUZZ_CHECK((key[i] >= 'a' && key[i] <= 'z') || (key[i] >= '0' && key[i] <= '9') ||
                   key[i] == '_' || key[i] == '.');
    for (const unsigned char *v = (const unsigned char *)value; *v != '\0'; v++)
        FUZZ_CHECK((*v >= 0x20 || *v == '\t') && *v != 0x7f);
    FUZZ_CHECK(strlen(value) <= f->limits->line_max);
    for (size_t i = 0; i < f->count && i < FUZZ_KEYS_MAX; i++)
        FUZZ_CHECK(strcmp(f->keys[i], key) != 0);
    if (f->count < FUZZ_KEYS_MAX) {
        f->keys[f->count] = strdup(key);
        FUZZ_CHECK(f->keys[f->count] != NULL);
    }
    f->count++;
    fuzz_roundtrip(key, value);
    return 0;
}

static int fuzz_parse(const char *s, size_t n, const conf_limits *limits, size_t *count_r)
{
    fuzz_ctx f = {.limits = limits};
    conf_error err;
    int rc = conf_parse(s, n, limits, fuzz_entry, &f, &err);
    if (rc != 0)
        FUZZ_CHECK(err.message[0] != '\0' && strlen(err.message) < sizeof(err.message));
    for (size_t i = 0; i < f.count && i < FUZZ_KEYS_MAX; i++)
        free(f.keys[i]);
    *count_r = f.count;
    return rc;
}

static void fuzz_typed(const conf *c, const char *key)
{
    static const char *const known[] = {"api.listen", "api.port", "imap.*", "log.level", NULL};
    conf_error err;
    long long ll;
    uint64_t u;
    bool b;

    (void)conf_get_str(c, key, NULL);
    (void)conf_get_int(c, key, 0, -1000, 1000, &ll, &err);
    (void)conf_get_int(c, key, 0, INT64_MIN, INT64_MAX, &ll, &err);
    if (conf_get_bool(c, key, false, &b, &err) != 0)
        FUZZ_CHECK(err.line > 0);
    (void)conf_get_size(c, key, 0, 0, UINT64_MAX, &u, &err);
    if (conf_get_duration(c, key, 0, 0, 86400, &ll, &err) == 0)
        FUZZ_CHECK(ll >= 0 && ll <= 86400);
    (void)conf_unknown_keys(c, known, &err);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *s = (const char *)data;
    conf_limits small = {.text_max = 4096, .line_max = 64, .entries_max = 8, .key_max = 16};
    conf_limits dflt = CONF_LIMITS_DEFAULT;
    size_t count;

    (void)fuzz_parse(s, size, &small, &count);
    int rc = fuzz_parse(s, size, &dflt, &count);

    conf *c = NULL;
    conf_error err;
    int lrc = conf_load_text(s, size, &c, &err);
    FUZZ_CHECK(lrc == rc);
    if (lrc != 0) {
        FUZZ_CHECK(c == NULL);
        return 0;
    }
    FUZZ_CHECK(conf_count(c) == count);
    /* getters on a few names that seeds use, and on the first bytes */
    static const char *const keys[] = {"a", "api.listen", "api.port", "size", "ttl", "tls"};
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
        fuzz_typed(c, keys[i]);
    conf_free(&c);
    FUZZ_CHECK(c == NULL);
    return 0;
}
