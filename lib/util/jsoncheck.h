/* jsoncheck: what the api requires of a request body before cJSON parses it.
 *
 * cJSON recurses once per nesting level (a deep body overflows a server
 * thread's stack), keeps a \u0000 escape as a NUL that silently cuts the
 * string short, and copies invalid UTF-8 through. This pure scan refuses all
 * three: nesting deeper than max_depth, a \u0000 escape in a string, and any
 * byte sequence that is not UTF-8 (RFC 8259 section 8.1; RFC 3629). It does
 * not check the rest of the JSON grammar: that is the parser's job.
 */
#ifndef OWNMAIL_JSONCHECK_H
#define OWNMAIL_JSONCHECK_H

#include <stddef.h>

#define JSONCHECK_DEPTH_DEFAULT 32

/* 0 when acceptable, -1 with a short reason in *error_r. */
int jsoncheck_body(const char *s, size_t len, unsigned max_depth, const char **error_r);

/* Length of the UTF-8 sequence starting at s (at most len bytes), 0 if it is
 * not a valid one (overlong forms, surrogates and values above U+10FFFF are
 * invalid). */
size_t jsoncheck_utf8_seq(const unsigned char *s, size_t len);

#endif
