/* buf: one growable, length-carrying, NUL-terminated byte string with a hard cap.
 *
 * Every append checks the cap first: going over it is an error (the buffer is
 * marked failed and keeps its old contents), never silent truncation or growth.
 */
#ifndef OWNMAIL_BUF_H
#define OWNMAIL_BUF_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

typedef struct buf {
    char *data; /* always NUL-terminated when len > 0 or after buf_init */
    size_t len;
    size_t cap;  /* allocated bytes */
    size_t max;  /* hard cap on len */
    bool failed; /* an append hit the cap or ran out of memory */
    bool wipe;   /* zero memory before giving it back (buf_init_secret) */
} buf;

void buf_init(buf *b, size_t max);
/* For data that may hold secrets: memory is zeroed before it is freed or left
 * behind by growth. */
void buf_init_secret(buf *b, size_t max);
/* Frees the memory. The buffer can be reused after buf_init. */
void buf_free(buf *b);
void buf_reset(buf *b);

/* All appends return 0 on success, -1 when the cap is reached or memory runs
 * out; after a failure every later append also fails until buf_reset. */
int buf_append(buf *b, const void *data, size_t len);
int buf_append_str(buf *b, const char *s);
int buf_append_char(buf *b, char c);
int buf_printf(buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int buf_vprintf(buf *b, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));

/* Hands the data to the caller (free() it) and leaves b empty. */
char *buf_steal(buf *b);

#endif
