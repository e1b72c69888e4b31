/* Table-driven tests of lib/conf. */
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "conf.h"

/* ---- the parser -------------------------------------------------------- */

typedef struct {
    char text[8192];
    size_t len;
} collect;

static int collect_entry(void *ctx, const char *key, const char *value, unsigned line,
                         const char **error_r)
{
    collect *c = ctx;
    (void)error_r;
    int n = snprintf(c->text + c->len, sizeof(c->text) - c->len, "%s=[%s]@%u\n", key, value, line);
    assert_true(n > 0 && (size_t)n < sizeof(c->text) - c->len);
    c->len += (size_t)n;
    return 0;
}

/* want: the collected entries, or NULL for an error at err_line whose
 * message contains err. */
typedef struct {
    const char *text;
    size_t len; /* 0 = strlen(text) */
    const char *want;
    unsigned err_line;
    const char *err;
} parse_row;

static const parse_row parse_rows[] = {
    {"", 0, "", 0, NULL},
    {"# comment\n", 0, "", 0, NULL},
    {"\n\n  \t\n# x\na=1\n", 0, "a=[1]@5\n", 0, NULL},
    {"a = b\n", 0, "a=[b]@1\n", 0, NULL},
    {"api.listen = 127.0.0.1:8080\n", 0, "api.listen=[127.0.0.1:8080]@1\n", 0, NULL},
    {"  key=value  # trailing comment\n", 0, "key=[value]@1\n", 0, NULL},
    {"key\t=\tvalue\t\n", 0, "key=[value]@1\n", 0, NULL},
    {"key = \"a # b\"  # c\n", 0, "key=[a # b]@1\n", 0, NULL},
    {"key = \"  spaced  \"\n", 0, "key=[  spaced  ]@1\n", 0, NULL},
    {"key = \"esc \\\" \\\\\"\n", 0, "key=[esc \" \\]@1\n", 0, NULL},
    {"key = \"x\"# c\n", 0, "key=[x]@1\n", 0, NULL},
    {"key =\n", 0, "key=[]@1\n", 0, NULL},
    {"key = # only a comment\n", 0, "key=[]@1\n", 0, NULL},
    {"key = \"\"\n", 0, "key=[]@1\n", 0, NULL},
    {"a=1\r\nb=2\r\n", 0, "a=[1]@1\nb=[2]@2\n", 0, NULL},
    {"a=1", 0, "a=[1]@1\n", 0, NULL},
    {"\357\273\277a=1\n", 0, "a=[1]@1\n", 0, NULL},
    {"a=b=c\n", 0, "a=[b=c]@1\n", 0, NULL},
    {"a = x\ty\n", 0, "a=[x\ty]@1\n", 0, NULL},
    {"a = b\"c\n", 0, "a=[b\"c]@1\n", 0, NULL},
    {"a = http://x/#frag\n", 0, "a=[http://x/]@1\n", 0, NULL},
    {"a = b\xc3\xbc\n", 0, "a=[b\xc3\xbc]@1\n", 0, NULL},
    {"a_b.c9 = v\n", 0, "a_b.c9=[v]@1\n", 0, NULL},
    {"# comment \xff\na=1\n", 0, "a=[1]@2\n", 0, NULL},
    {"a.b = 1\na.c = 2\n", 0, "a.b=[1]@1\na.c=[2]@2\n", 0, NULL},
    /* errors */
    {"A = 1\n", 0, NULL, 1, "invalid character in key"},
    {"a-b = 1\n", 0, NULL, 1, "invalid character in key"},
    {"a = 1\nkey\xc3\xbc = 1\n", 0, NULL, 2, "invalid character in key"},
    {"a b = 1\n", 0, NULL, 1, "missing '='"},
    {"a\n", 0, NULL, 1, "missing '='"},
    {"a = 1\nb", 0, NULL, 2, "missing '='"},
    {"= 1\n", 0, NULL, 1, "missing key"},
    {"a = \"unterminated\n", 0, NULL, 1, "unterminated"},
    {"a = \"x\\\"\n", 0, NULL, 1, "unterminated"},
    {"a = \"x\" y\n", 0, NULL, 1, "after closing quote"},
    {"a = \"x\\n\"\n", 0, NULL, 1, "unknown escape"},
    {"a = 1\nb = 2\na = 3\n", 0, NULL, 3, "duplicate key \"a\" (first set on line 1)"},
    {"a = x\0y\n", 8, NULL, 1, "NUL"},
    {"a = 1\n\0", 7, NULL, 2, "NUL"},
    {"# x\0\n", 5, NULL, 1, "NUL"},
    {"a = \xff\n", 0, NULL, 1, "invalid UTF-8"},
    {"a = \xc3\n", 0, NULL, 1, "invalid UTF-8"},
    {"a = \xc0\xaf\n", 0, NULL, 1, "invalid UTF-8"},
    {"a = \"\xed\xa0\x80\"\n", 0, NULL, 1, "invalid UTF-8"},
    {"a = x\x01y\n", 0, NULL, 1, "control character"},
    {"a = x\ry\n", 0, NULL, 1, "control character"},
    {"a = \"x\x7f\"\n", 0, NULL, 1, "control character"},
    {".a = 1\n", 0, NULL, 1, "empty component"},
    {"a. = 1\n", 0, NULL, 1, "empty component"},
    {"a..b = 1\n", 0, NULL, 1, "empty component"},
    {". = 1\n", 0, NULL, 1, "empty component"},
};

static void test_parse_rows(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(parse_rows) / sizeof(parse_rows[0]); i++) {
        const parse_row *r = &parse_rows[i];
        size_t len = r->len != 0 ? r->len : strlen(r->text);
        collect c = {.len = 0};
        conf_error err;
        c.text[0] = '\0';
        int rc = conf_parse(r->text, len, NULL, collect_entry, &c, &err);
        if (r->want != NULL) {
            if (rc != 0)
                fail_msg("parse row %zu: line %u: %s", i, err.line, err.message);
            assert_string_equal(c.text, r->want);
        } else {
            if (rc != -1)
                fail_msg("parse row %zu accepted: %s", i, c.text);
            if (err.line != r->err_line || strstr(err.message, r->err) == NULL)
                fail_msg("parse row %zu: line %u \"%s\", wanted line %u \"%s\"", i, err.line,
                         err.message, r->err_line, r->err);
        }
    }
}

static void test_parse_limits(void **state)
{
    (void)state;
    collect c = {.len = 0};
    conf_error err;
    static char text[CONF_LINE_MAX + 64];

    /* a line of exactly line_max bytes passes, one more does not */
    memcpy(text, "k = ", 4);
    memset(text + 4, 'v', CONF_LINE_MAX - 4);
    assert_int_equal(conf_parse(text, CONF_LINE_MAX, NULL, collect_entry, &c, &err), 0);
    assert_int_equal(c.len, 2 + 1 + CONF_LINE_MAX - 4 + 4);
    conf_limits lim = CONF_LIMITS_DEFAULT;
    c.len = 0;
    text[CONF_LINE_MAX] = 'v';
    assert_int_equal(conf_parse(text, CONF_LINE_MAX + 1, &lim, NULL, NULL, &err), -1);
    assert_int_equal(err.line, 1);
    assert_non_null(strstr(err.message, "line longer than 4096"));
    /* comments count too */
    memset(text, '#', CONF_LINE_MAX + 1);
    assert_int_equal(conf_parse(text, CONF_LINE_MAX + 1, &lim, NULL, NULL, &err), -1);
    /* CRLF is not counted in the line */
    memcpy(text + CONF_LINE_MAX, "\r\n", 2);
    assert_int_equal(conf_parse(text, CONF_LINE_MAX + 2, &lim, NULL, NULL, &err), 0);

    /* entries */
    lim.entries_max = 3;
    c.len = 0;
    const char *four = "a=1\nb=2\nc=3\nd=4\n";
    assert_int_equal(conf_parse(four, strlen(four), &lim, collect_entry, &c, &err), -1);
    assert_int_equal(err.line, 4);
    assert_non_null(strstr(err.message, "too many entries"));
    assert_int_equal(conf_parse(four, 12, &lim, collect_entry, &c, &err), 0);

    /* keys */
    lim = (conf_limits)CONF_LIMITS_DEFAULT;
    lim.key_max = 4;
    assert_int_equal(conf_parse("abcd=1\n", 7, &lim, NULL, NULL, &err), 0); /* fn NULL */
    assert_int_equal(conf_parse("abcde=1\n", 8, &lim, collect_entry, &c, &err), -1);
    assert_non_null(strstr(err.message, "key longer than 4"));

    /* whole text */
    lim = (conf_limits)CONF_LIMITS_DEFAULT;
    lim.text_max = 5;
    assert_int_equal(conf_parse("a=123\n", 6, &lim, collect_entry, &c, &err), -1);
    assert_int_equal(err.line, 0);
    assert_non_null(strstr(err.message, "longer than 5 bytes"));

    /* err_r may be NULL */
    assert_int_equal(conf_parse("A", 1, NULL, collect_entry, &c, NULL), -1);
}

static int reject_b(void *ctx, const char *key, const char *value, unsigned line,
                    const char **error_r)
{
    (void)ctx, (void)value, (void)line;
    if (strcmp(key, "b") == 0) {
        *error_r = "b is not welcome";
        return -1;
    }
    return 0;
}

static void test_parse_callback_stops(void **state)
{
    (void)state;
    conf_error err;
    assert_int_equal(conf_parse("a=1\nb=2\nc=3\n", 12, NULL, reject_b, NULL, &err), -1);
    assert_int_equal(err.line, 2);
    assert_string_equal(err.message, "b is not welcome");
}

/* ---- the typed layer --------------------------------------------------- */

static const char typed_text[] = "s = hello\n"
                                 "empty =\n"
                                 "i = 42\n"
                                 "neg = -7\n"
                                 "zero = 0\n"
                                 "max = 9223372036854775807\n"
                                 "min = -9223372036854775808\n"
                                 "over = 9223372036854775808\n"
                                 "huge = 99999999999999999999999\n"
                                 "bad = 12x\n"
                                 "plus = +5\n"
                                 "minus = -\n"
                                 "b1 = yes\n"
                                 "b2 = OFF\n"
                                 "b3 = maybe\n"
                                 "b4 = 1\n"
                                 "b5 = False\n"
                                 "sz1 = 10M\n"
                                 "sz2 = 512\n"
                                 "sz3 = 2g\n"
                                 "sz4 = 10X\n"
                                 "sz5 = 99999999999999G\n"
                                 "sz6 = 64k\n"
                                 "sz7 = 1MB\n"
                                 "sz8 = M\n"
                                 "d1 = 30\n"
                                 "d2 = 5m\n"
                                 "d3 = 12h\n"
                                 "d4 = 7d\n"
                                 "d5 = 1w\n"
                                 "d6 = 5M\n"
                                 "d7 = 30s\n"
                                 "d8 = -5\n"
                                 "d9 = 999999999999999999d\n";

static conf *typed_conf(void)
{
    conf *c = NULL;
    conf_error err;
    if (conf_load_text(typed_text, strlen(typed_text), &c, &err) != 0)
        fail_msg("line %u: %s", err.line, err.message);
    return c;
}

typedef struct {
    const char *key;
    long long def, min, max;
    int rc;
    long long want;
    const char *err;
} int_row;

static const int_row int_rows[] = {
    {"i", 0, 0, 100, 0, 42, NULL},
    {"neg", 0, -10, 10, 0, -7, NULL},
    {"zero", 5, 0, 10, 0, 0, NULL},
    {"absent", 5, 0, 10, 0, 5, NULL},
    {"max", 0, LLONG_MIN, LLONG_MAX, 0, LLONG_MAX, NULL},
    {"min", 0, LLONG_MIN, LLONG_MAX, 0, LLONG_MIN, NULL},
    {"i", 0, 0, 41, -1, 0, "i: 42 is out of range 0..41"},
    {"neg", 0, 0, 10, -1, 0, "out of range"},
    {"over", 0, LLONG_MIN, LLONG_MAX, -1, 0, "out of range"},
    {"huge", 0, LLONG_MIN, LLONG_MAX, -1, 0, "not an integer"},
    {"bad", 0, 0, 100, -1, 0, "bad: \"12x\" is not an integer"},
    {"plus", 0, 0, 100, -1, 0, "not an integer"},
    {"minus", 0, -100, 100, -1, 0, "not an integer"},
    {"empty", 0, 0, 100, -1, 0, "not an integer"},
    {"s", 0, 0, 100, -1, 0, "not an integer"},
};

static void test_get_int(void **state)
{
    (void)state;
    conf *c = typed_conf();
    for (size_t i = 0; i < sizeof(int_rows) / sizeof(int_rows[0]); i++) {
        const int_row *r = &int_rows[i];
        long long v = 12345;
        conf_error err = {0};
        int rc = conf_get_int(c, r->key, r->def, r->min, r->max, &v, &err);
        if (rc != r->rc)
            fail_msg("int row %zu (%s): rc %d: %s", i, r->key, rc, err.message);
        if (rc == 0) {
            assert_int_equal(v, r->want);
        } else {
            assert_int_equal(v, 12345);
            assert_true(err.line > 0);
            if (strstr(err.message, r->err) == NULL)
                fail_msg("int row %zu: \"%s\", wanted \"%s\"", i, err.message, r->err);
        }
    }
    conf_free(&c);
    assert_null(c);
}

static void test_get_bool(void **state)
{
    (void)state;
    static const struct {
        const char *key;
        bool def;
        int rc;
        bool want;
    } rows[] = {
        {"b1", false, 0, true},      {"b2", true, 0, false},      {"b3", false, -1, false},
        {"b4", false, 0, true},      {"b5", true, 0, false},      {"absent", true, 0, true},
        {"absent", false, 0, false}, {"empty", false, -1, false}, {"i", false, -1, false},
    };
    conf *c = typed_conf();
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        bool v = !rows[i].want;
        conf_error err = {0};
        int rc = conf_get_bool(c, rows[i].key, rows[i].def, &v, &err);
        if (rc != rows[i].rc)
            fail_msg("bool row %zu (%s): rc %d", i, rows[i].key, rc);
        if (rc == 0)
            assert_int_equal(v, rows[i].want);
        else
            assert_non_null(strstr(err.message, "not a boolean"));
    }
    conf_free(&c);
}

typedef struct {
    const char *key;
    unsigned long long def, min, max;
    int rc;
    unsigned long long want;
    const char *err;
} size_row;

static const size_row size_rows[] = {
    {"sz1", 0, 0, UINT64_MAX, 0, 10ULL << 20, NULL},
    {"sz2", 0, 0, UINT64_MAX, 0, 512, NULL},
    {"sz3", 0, 0, UINT64_MAX, 0, 2ULL << 30, NULL},
    {"sz6", 0, 0, UINT64_MAX, 0, 64ULL << 10, NULL},
    {"absent", 7, 0, 10, 0, 7, NULL},
    {"sz1", 0, 0, 1 << 20, -1, 0, "sz1: 10M is out of range 0..1048576 bytes"},
    {"sz2", 0, 1024, 2048, -1, 0, "out of range"},
    {"sz4", 0, 0, UINT64_MAX, -1, 0, "not a size"},
    {"sz5", 0, 0, UINT64_MAX, -1, 0, "out of range"},
    {"sz7", 0, 0, UINT64_MAX, -1, 0, "not a size"},
    {"sz8", 0, 0, UINT64_MAX, -1, 0, "not a size"},
    {"neg", 0, 0, UINT64_MAX, -1, 0, "not a size"},
    {"empty", 0, 0, UINT64_MAX, -1, 0, "not a size"},
};

static void test_get_size(void **state)
{
    (void)state;
    conf *c = typed_conf();
    for (size_t i = 0; i < sizeof(size_rows) / sizeof(size_rows[0]); i++) {
        const size_row *r = &size_rows[i];
        uint64_t v = 12345;
        conf_error err = {0};
        int rc = conf_get_size(c, r->key, r->def, r->min, r->max, &v, &err);
        if (rc != r->rc)
            fail_msg("size row %zu (%s): rc %d: %s", i, r->key, rc, err.message);
        if (rc == 0) {
            assert_true(v == r->want);
        } else {
            assert_true(v == 12345);
            if (strstr(err.message, r->err) == NULL)
                fail_msg("size row %zu: \"%s\", wanted \"%s\"", i, err.message, r->err);
        }
    }
    conf_free(&c);
}

static const int_row duration_rows[] = {
    {"d1", 0, 0, LLONG_MAX, 0, 30, NULL},
    {"d2", 0, 0, LLONG_MAX, 0, 300, NULL},
    {"d3", 0, 0, LLONG_MAX, 0, 43200, NULL},
    {"d4", 0, 0, LLONG_MAX, 0, 604800, NULL},
    {"d7", 0, 0, LLONG_MAX, 0, 30, NULL},
    {"absent", 60, 0, 100, 0, 60, NULL},
    {"d4", 0, 0, 86400, -1, 0, "d4: 7d is out of range 0..86400 seconds"},
    {"d1", 0, 60, 120, -1, 0, "out of range"},
    {"d5", 0, 0, LLONG_MAX, -1, 0, "not a duration"},
    {"d6", 0, 0, LLONG_MAX, -1, 0, "not a duration"},
    {"d8", 0, 0, LLONG_MAX, -1, 0, "not a duration"},
    {"d9", 0, 0, LLONG_MAX, -1, 0, "out of range"},
    {"empty", 0, 0, LLONG_MAX, -1, 0, "not a duration"},
};

static void test_get_duration(void **state)
{
    (void)state;
    conf *c = typed_conf();
    for (size_t i = 0; i < sizeof(duration_rows) / sizeof(duration_rows[0]); i++) {
        const int_row *r = &duration_rows[i];
        long long v = 12345;
        conf_error err = {0};
        int rc = conf_get_duration(c, r->key, r->def, r->min, r->max, &v, &err);
        if (rc != r->rc)
            fail_msg("duration row %zu (%s): rc %d: %s", i, r->key, rc, err.message);
        if (rc == 0) {
            assert_int_equal(v, r->want);
        } else {
            assert_int_equal(v, 12345);
            if (strstr(err.message, r->err) == NULL)
                fail_msg("duration row %zu: \"%s\", wanted \"%s\"", i, err.message, r->err);
        }
    }
    conf_free(&c);
}

static void test_get_str(void **state)
{
    (void)state;
    conf *c = typed_conf();
    assert_string_equal(conf_get_str(c, "s", "def"), "hello");
    assert_string_equal(conf_get_str(c, "empty", "def"), "");
    assert_string_equal(conf_get_str(c, "absent", "def"), "def");
    assert_null(conf_get_str(c, "absent", NULL));
    assert_string_equal(conf_get_str(NULL, "s", "def"), "def");
    assert_int_equal(conf_count(c), 34);
    assert_int_equal(conf_count(NULL), 0);
    /* conf_get_str_into: copies, falls back, refuses what does not fit. */
    char out[6] = "keep";
    conf_error err = {0};
    assert_int_equal(conf_get_str_into(c, "s", "def", out, sizeof out, &err), 0);
    assert_string_equal(out, "hello");
    assert_int_equal(conf_get_str_into(c, "absent", "dflt", out, sizeof out, &err), 0);
    assert_string_equal(out, "dflt");
    assert_int_equal(conf_get_str_into(c, "absent", NULL, out, sizeof out, &err), 0);
    assert_string_equal(out, "dflt"); /* untouched */
    assert_int_equal(conf_get_str_into(c, "s", NULL, out, 5, &err), -1);
    assert_string_equal(err.message, "s is too long");
    char line[128];
    conf_error_format(&err, "a.conf", line, sizeof line);
    assert_string_equal(line, "a.conf: s is too long");
    err.line = 7;
    conf_error_format(&err, NULL, line, sizeof line);
    assert_string_equal(line, "(defaults):7: s is too long");
    conf_free(&c);
    conf_free(&c); /* NULL is fine */
    conf_free(NULL);
}

static void test_unknown_keys(void **state)
{
    (void)state;
    const char *text = "api.listen = x\n"
                       "api.data_dir = /var\n"
                       "imap.listen = y\n"
                       "imap.tls.cert = z\n"
                       "log.level = info\n";
    conf *c = NULL;
    conf_error err;
    assert_int_equal(conf_load_text(text, strlen(text), &c, &err), 0);

    const char *const all[] = {"api.listen", "api.data_dir", "imap.*", "log.level", NULL};
    assert_int_equal(conf_unknown_keys(c, all, &err), 0);

    const char *const no_imap[] = {"api.listen", "api.data_dir", "log.level", NULL};
    assert_int_equal(conf_unknown_keys(c, no_imap, &err), -1);
    assert_int_equal(err.line, 3);
    assert_string_equal(err.message, "unknown key \"imap.listen\"");

    const char *const typo[] = {"api.listen", "api.datadir", "imap.*", "log.level", NULL};
    assert_int_equal(conf_unknown_keys(c, typo, &err), -1);
    assert_int_equal(err.line, 2);
    assert_string_equal(err.message,
                        "unknown key \"api.data_dir\" (did you mean \"api.datadir\"?)");

    /* "imap*" without the dot is a plain key, not a prefix */
    const char *const noprefix[] = {"api.listen", "api.data_dir", "imap*", "log.level", NULL};
    assert_int_equal(conf_unknown_keys(c, noprefix, &err), -1);
    assert_int_equal(conf_unknown_keys(c, NULL, &err), -1);
    assert_int_equal(err.line, 1);
    conf_free(&c);
}

static void write_file(const char *path, const char *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, len, f), len);
    assert_int_equal(fclose(f), 0);
}

static void test_load_file(void **state)
{
    (void)state;
    char dir[] = "/tmp/test_conf_XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[256];
    snprintf(path, sizeof(path), "%s/ownmail.conf", dir);
    conf *c = NULL;
    conf_error err;

    const char *text = "# ownmail\napi.listen = 127.0.0.1:8080\nredis.port = 6380\n";
    write_file(path, text, strlen(text));
    assert_int_equal(conf_load_file(path, &c, &err), 0);
    assert_string_equal(conf_get_str(c, "api.listen", NULL), "127.0.0.1:8080");
    long long port = 0;
    assert_int_equal(conf_get_int(c, "redis.port", 6379, 1, 65535, &port, &err), 0);
    assert_int_equal(port, 6380);
    conf_free(&c);

    write_file(path, "a = 1\nb\n", 8);
    assert_int_equal(conf_load_file(path, &c, &err), -1);
    assert_null(c);
    assert_int_equal(err.line, 2);

    /* exactly CONF_FILE_MAX bytes of comments is fine, one more is not */
    char *big = malloc(CONF_FILE_MAX + 1);
    assert_non_null(big);
    for (size_t i = 0; i < CONF_FILE_MAX + 1; i++)
        big[i] = (i % 64 == 63) ? '\n' : '#';
    write_file(path, big, CONF_FILE_MAX);
    assert_int_equal(conf_load_file(path, &c, &err), 0);
    conf_free(&c);
    write_file(path, big, CONF_FILE_MAX + 1);
    assert_int_equal(conf_load_file(path, &c, &err), -1);
    assert_non_null(strstr(err.message, "larger than"));
    free(big);

    assert_int_equal(conf_load_file(dir, &c, &err), -1);
    assert_non_null(strstr(err.message, "not a regular file"));
    /* a FIFO without a writer must not hang the open */
    char fifo[300];
    snprintf(fifo, sizeof(fifo), "%s/fifo", dir);
    assert_int_equal(mkfifo(fifo, 0600), 0);
    assert_int_equal(conf_load_file(fifo, &c, &err), -1);
    assert_non_null(strstr(err.message, "not a regular file"));
    assert_int_equal(unlink(fifo), 0);
    assert_int_equal(unlink(path), 0);
    assert_int_equal(conf_load_file(path, &c, &err), -1);
    assert_int_equal(err.line, 0);
    assert_non_null(strstr(err.message, "No such file"));
    assert_int_equal(rmdir(dir), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_rows),
        cmocka_unit_test(test_parse_limits),
        cmocka_unit_test(test_parse_callback_stops),
        cmocka_unit_test(test_get_int),
        cmocka_unit_test(test_get_bool),
        cmocka_unit_test(test_get_size),
        cmocka_unit_test(test_get_duration),
        cmocka_unit_test(test_get_str),
        cmocka_unit_test(test_unknown_keys),
        cmocka_unit_test(test_load_file),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
