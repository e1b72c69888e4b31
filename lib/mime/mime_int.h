/* Internal declarations shared by the files of lib/mime. */
#ifndef OWNMAIL_MIME_INT_H
#define OWNMAIL_MIME_INT_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"
#include "mime.h"

/* Every allocation of a parse lives in one arena freed by mime_free. */
typedef struct mime_chunk {
    struct mime_chunk *next;
    size_t used, cap;
    _Alignas(16) unsigned char data[];
} mime_chunk;

struct mime_message {
    const char *data;
    size_t len;
    mime_limits limits;
    mime_part *root;
    size_t nparts;
    mime_chunk *chunks;
    bool oom; /* an allocation failed: mime_parse returns NULL */
};

/* arena (structure.c): zeroed memory, NULL (and m->oom) on failure */
void *mime_alloc(mime_message *m, size_t size);
char *mime_strndup(mime_message *m, const char *s, size_t len);

/* header.c */
/* Finds the end of the header block in [start, end): returns the offset of
 * the body. *header_len_r includes the blank line. A line that is neither a
 * field nor a continuation ends the header (the body starts there). */
size_t mime_header_end(const char *d, size_t start, size_t end, size_t *header_len_r);
/* Splits the header block of part into fields, within the limits. */
void mime_header_fields(mime_message *m, mime_part *part);
/* The first field named `name` (case-insensitive) or NULL. */
const mime_field *mime_field_find(const char *d, const mime_part *part, const char *name);
/* The unfolded value (CR, LF and NUL removed, WSP trimmed), at most max bytes. */
int mime_field_unfold(buf *out, const char *d, const mime_field *f);
/* Same into the arena; NULL when the field is absent or on OOM. */
char *mime_field_value(mime_message *m, const mime_part *part, const char *name);

/* param.c: "token; a=b; c*0*=..." (RFC 2045 5.1, RFC 2231). The token is
 * lowercased-free (as written, comments and WSP removed). */
void mime_params_parse(mime_message *m, const char *value, char **token_r, mime_param **params_r,
                       size_t *n_r);

/* encword.c: RFC 2047 decoding of unstructured text appended to out as UTF-8 */
int mime_2047_append(buf *out, const char *in, size_t len);
/* RFC 2231 4 percent-decoding (bytes, no charset conversion) */
int mime_pct_append(buf *out, const char *in, size_t len);

/* charset.c */
int mime_charset_append(buf *out, const char *charset, const char *in, size_t len);
/* Valid UTF-8 kept; each other byte read as ISO-8859-1. */
int mime_utf8_fix_append(buf *out, const char *in, size_t len);
bool mime_utf8_valid(const char *s, size_t len);

/* decode.c */
int mime_base64_append(buf *out, const char *in, size_t len);
int mime_qp_append(buf *out, const char *in, size_t len, bool header_q);

/* address.c: an IMAP address list ("(" 1*address ")" or NIL) of a header value */
int mime_address_list_imap(buf *out, const char *value, size_t len);
/* The decoded display names and addresses "name <a@b>, ..." for indexing */
int mime_address_list_text(buf *out, const char *value, size_t len);

/* imap.c: an IMAP string (quoted, or literal when 8-bit) or NIL for NULL */
int mime_imap_nstring(buf *out, const char *s, size_t len);

/* util */
bool mime_strieq(const char *a, const char *b);
bool mime_strnieq(const char *a, size_t alen, const char *b);

#define MIME_IS_WSP(c) ((c) == ' ' || (c) == '\t')

#endif
