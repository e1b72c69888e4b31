/* conf: the configuration file format shared by ownmail-api and the workers.
 *
 *     # a comment
 *     api.listen = 127.0.0.1:8080     # a trailing comment
 *     smtp.banner = "ownmail # 1"     # quoted: '#' is kept
 *
 * One "key = value" per line. Keys are [a-z0-9_.]+ with no empty dotted
 * component. An unquoted value runs to the end of the line or to the first
 * '#', whichever comes first, and is trimmed of spaces and tabs; quote it to
 * keep a '#' or leading/trailing blanks. Inside double quotes the only
 * escapes are \" and \\. An empty value ("key =") is allowed. Lines end in LF
 * or CRLF; a leading UTF-8 byte order mark is skipped.
 *
 * Refused, with the line number: a bad key character, a missing '=', an
 * unterminated quote, text after a closing quote, NUL bytes, control
 * characters or invalid UTF-8 in a value, a line over limits.line_max, more
 * than limits.entries_max entries, and a key set twice (a second setting
 * silently winning hides mistakes).
 */
#ifndef OWNMAIL_CONF_H
#define OWNMAIL_CONF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CONF_LINE_MAX 4096          /* bytes per line, without the line end */
#define CONF_ENTRIES_MAX 1024       /* key = value lines per file */
#define CONF_KEY_MAX 128            /* bytes per key */
#define CONF_FILE_MAX (1024 * 1024) /* bytes per file */
#define CONF_ERROR_MAX 256          /* bytes of an error message, with its NUL */

typedef struct conf_limits {
    size_t text_max;    /* whole input */
    size_t line_max;    /* one line without its LF or CRLF */
    size_t entries_max; /* key = value lines */
    size_t key_max;     /* one key */
} conf_limits;

/* clang-format off */
#define CONF_LIMITS_DEFAULT {CONF_FILE_MAX, CONF_LINE_MAX, CONF_ENTRIES_MAX, CONF_KEY_MAX}
/* clang-format on */

typedef struct conf_error {
    unsigned line; /* 1-based; 0 when the error is not about one line */
    char message[CONF_ERROR_MAX];
} conf_error;

/* Called once per entry, in file order, with NUL-terminated key and value
 * (valid only during the call). Return 0 to go on, or -1 to stop parsing;
 * then *error_r may be set to a static message (else "entry rejected"). */
typedef int conf_entry_fn(void *ctx, const char *key, const char *value, unsigned line,
                          const char **error_r);

/* Pure parser: text (len bytes, need not be NUL-terminated) in, calls out.
 * limits NULL means CONF_LIMITS_DEFAULT; fn NULL only validates. Returns 0, or -1 with *err_r set
 * (err_r may be NULL). Entries already passed to fn stay passed. */
int conf_parse(const char *text, size_t len, const conf_limits *limits, conf_entry_fn *fn,
               void *ctx, conf_error *err_r);

/* ---- typed layer ------------------------------------------------------- */

typedef struct conf conf;

/* Reads and parses a regular file of at most CONF_FILE_MAX bytes. Returns 0
 * with *r set (free with conf_free), or -1 with *err_r (line 0 for I/O). */
int conf_load_file(const char *path, conf **r, conf_error *err_r);
/* The same from memory, with the default limits. */
int conf_load_text(const char *text, size_t len, conf **r, conf_error *err_r);
void conf_free(conf **c);

/* Number of entries. */
size_t conf_count(const conf *c);
/* The value of key, or def when key is absent (also when c is NULL). */
const char *conf_get_str(const conf *c, const char *key, const char *def);

/* The getters below set *r to def when key is absent and return 0; a
 * present value must parse and lie in min..max, else they return -1 with
 * *err_r naming the key and its line ("api.port: 70000 is out of range
 * 1..65535") and leave *r unchanged. */

/* Decimal integer with an optional leading '-'. */
int conf_get_int(const conf *c, const char *key, long long def, long long min, long long max,
                 long long *r, conf_error *err_r);
/* yes/no, true/false, on/off, 1/0 (any case). */
int conf_get_bool(const conf *c, const char *key, bool def, bool *r, conf_error *err_r);
/* Bytes: a decimal number with an optional suffix K, M or G (any case,
 * powers of 1024): "512", "64K", "10M", "2G". */
int conf_get_size(const conf *c, const char *key, uint64_t def, uint64_t min, uint64_t max,
                  uint64_t *r, conf_error *err_r);
/* Seconds: a decimal number with an optional suffix s, m, h or d: "30",
 * "30s", "5m", "12h", "7d". min must be >= 0. */
int conf_get_duration(const conf *c, const char *key, long long def, long long min, long long max,
                      long long *r, conf_error *err_r);

/* A string value copied into out (outlen bytes with the NUL), def when key
 * is absent (def NULL: out is left as it is). -1 with *err_r when it does
 * not fit ("api.listen is too long"). */
int conf_get_str_into(const conf *c, const char *key, const char *def, char *out, size_t outlen,
                      conf_error *err_r);

/* "path:line: message", or "path: message" for an error not about one line
 * (path NULL: "(defaults)"), into out. */
void conf_error_format(const conf_error *e, const char *path, char *out, size_t outlen);

/* Checks every key of c against known, a NULL-terminated list. An entry
 * ending in ".*" ("imap.*") accepts every key under that prefix, so a
 * program can pass over the sections of the other programs sharing the
 * file. Returns 0, or -1 with *err_r for the first unknown key in file
 * order, with a suggestion when a known key is close
 * ("unknown key \"api.lisen\" (did you mean \"api.listen\"?)"). */
int conf_unknown_keys(const conf *c, const char *const *known, conf_error *err_r);

#endif
