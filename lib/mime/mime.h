/* mime: a pure, bounded parser of Internet messages (RFC 5322 + MIME).
 *
 * Bytes in, a part tree out; no I/O. Every size and depth is bounded by a
 * field of mime_limits. Over a limit the rest is treated as an opaque body:
 * parsing never fails on malformed input, so a broken message is still
 * stored and fetchable. Only an out-of-memory condition returns NULL.
 *
 * Offsets in the tree are byte offsets into the caller's original buffer.
 * The tree keeps a pointer to that buffer (header lookups, index text and
 * encapsulated envelopes read it): it must stay valid and unchanged until
 * mime_free.
 *
 * Leniency (what a broken message gets), close to Dovecot's lib-mail:
 *   - no Content-Type, or an invalid one: text/plain; charset=us-ascii;
 *     MIME-Version is not required for Content-* fields to count;
 *   - a first line that is not a header field: the part has no header;
 *     a malformed line after a field is skipped;
 *   - a delimiter line is "--boundary" [ "--" ] WSP* EOL; a missing close
 *     delimiter ends the last part at the end of its parent; a multipart
 *     with no delimiter at all is shown with one empty text/plain part;
 *   - message/rfc822 in base64 or quoted-printable, and anything past
 *     max_depth or max_parts, is opaque (application/octet-stream in IMAP).
 *
 * IMAP section numbers (RFC 9051 6.4.5):
 *   - a multipart's children are numbered 1..n;
 *   - the body of a non-multipart message (or encapsulated message) is part 1;
 *   - a message/rfc822 part "N" has one child, the encapsulated message, whose
 *     own header is BODY[N.HEADER] and body BODY[N.TEXT]; its parts are N.1...
 * mime_section() resolves a section string to a part using these rules.
 */
#ifndef OWNMAIL_MIME_H
#define OWNMAIL_MIME_H

#include <stdbool.h>
#include <stddef.h>

typedef struct mime_limits {
    unsigned max_depth;         /* nesting of multiparts and messages (32) */
    unsigned max_parts;         /* parts in the whole tree (1000) */
    size_t max_header_bytes;    /* bytes of one header block parsed into fields (256 KiB) */
    unsigned max_header_fields; /* fields kept per header block (1000) */
    size_t max_line;            /* longest header field kept, folded lines included (64 KiB) */
    unsigned max_params;        /* parameters kept per Content-Type/-Disposition (64) */
    size_t max_value;           /* longest decoded header or parameter value (64 KiB) */
    size_t max_output;          /* longest ENVELOPE/BODYSTRUCTURE string (4 MiB) */
} mime_limits;

#define MIME_DEFAULT_MAX_DEPTH 32
#define MIME_DEFAULT_MAX_PARTS 1000
#define MIME_DEFAULT_MAX_HEADER_BYTES (256 * 1024)
#define MIME_DEFAULT_MAX_HEADER_FIELDS 1000
#define MIME_DEFAULT_MAX_LINE (64 * 1024)
#define MIME_DEFAULT_MAX_PARAMS 64
#define MIME_DEFAULT_MAX_VALUE (64 * 1024)
#define MIME_DEFAULT_MAX_OUTPUT (4 * 1024 * 1024)

/* The defaults above. */
void mime_limits_default(mime_limits *limits_r);

typedef enum mime_encoding {
    MIME_ENC_7BIT = 0, /* also the default when absent */
    MIME_ENC_8BIT,
    MIME_ENC_BINARY,
    MIME_ENC_BASE64,
    MIME_ENC_QP,
    MIME_ENC_OTHER, /* an unknown token: the body is left as is */
} mime_encoding;

/* One header field, as offsets into the original message. The value starts
 * after the colon and ends before the line break that ends the field; it is
 * still folded. */
typedef struct mime_field {
    size_t name_off, name_len;
    size_t value_off, value_len;
} mime_field;

/* A Content-Type or Content-Disposition parameter. Plain parameters come
 * first in the order written, then the RFC 2231 ones (sorted by name); a
 * set of RFC 2231 sections with gaps is kept section by section. */
typedef struct mime_param {
    const char *name;       /* lowercase, RFC 2231 suffixes removed ("filename") */
    const char *value;      /* decoded UTF-8: RFC 2231 joined and converted, or RFC 2047 */
    const char *imap_name;  /* as IMAP shows it: as written, continuations merged, "*" */
    const char *imap_value; /* kept when extended ("filename*" = "UTF-8''%E2%82%AC.txt") */
} mime_param;

typedef struct mime_part mime_part;

/* Read-only view of a part. Strings are NUL-terminated, owned by the tree. */
struct mime_part {
    const mime_part *parent;
    /* multipart: its parts; message/rfc822: one child, the encapsulated message */
    mime_part **children;
    size_t nchildren;
    const char *section; /* IMAP section number ("" for the top-level message) */

    size_t header_off, header_len; /* header block, with the blank line ending it */
    size_t body_off, body_len;     /* body, in its transfer encoding */
    size_t body_lines;             /* LFs in the body (a last partial line does not count) */

    const mime_field *fields;
    size_t nfields;

    const char *type, *subtype; /* as written; "text" "plain" when absent or invalid */
    bool type_defaulted;        /* no usable Content-Type: text/plain; charset=us-ascii */
    const mime_param *params;
    size_t nparams;
    const char *id, *description, *md5, *location; /* unfolded raw values or NULL */
    const char *encoding_raw;                      /* Content-Transfer-Encoding or NULL */
    mime_encoding encoding;
    const char *disposition; /* disposition type or NULL */
    const mime_param *disp_params;
    size_t ndisp_params;
    const char *const *languages; /* Content-Language tags */
    size_t nlanguages;

    bool is_multipart; /* type multipart/ * with its children split */
    bool is_message;   /* message/rfc822 (or global) with its encapsulated message parsed */
    bool opaque;       /* over a limit: not split; IMAP shows application/octet-stream */
};

typedef struct mime_message mime_message;

/* Parses data[0..len). limits NULL = defaults. Returns NULL only when memory
 * runs out; never on malformed input. */
mime_message *mime_parse(const char *data, size_t len, const mime_limits *limits);
void mime_free(mime_message **msg);

/* The top-level part (the message itself). */
const mime_part *mime_root(const mime_message *msg);
/* Total parts in the tree, encapsulated messages included. */
size_t mime_part_count(const mime_message *msg);
/* Resolves an IMAP section number ("1.2.3"; "" = the whole message) or NULL. */
const mime_part *mime_section(const mime_message *msg, const char *section);
/* The encapsulated message of a message/rfc822 part (its HEADER and TEXT), or NULL. */
const mime_part *mime_part_message(const mime_part *part);
/* A parameter's decoded value by name (case-insensitive), or NULL. */
const char *mime_part_param(const mime_part *part, const char *name);
const char *mime_part_disp_param(const mime_part *part, const char *name);
/* Case-insensitive type test: mime_part_is(p, "text", "plain"); subtype NULL = any. */
bool mime_part_is(const mime_part *part, const char *type, const char *subtype);

/* ENVELOPE (RFC 9051 7.5.2 / RFC 3501 7.4.2) of the top-level message, or
 * of the message encapsulated in a message/rfc822 part (part NULL = top
 * level). Values are unfolded but not decoded (RFC 2047 words stay, 8-bit
 * text becomes a literal); an absent field is NIL, an empty one ""; an
 * empty address list is NIL; Sender and
 * Reply-To default to From; a group is (NIL NIL "name" NIL) ... (NIL NIL
 * NIL NIL); a missing mailbox or domain is "MISSING_MAILBOX" /
 * "MISSING_DOMAIN". Over max_output: all NIL. malloc'd; NULL on OOM. */
char *mime_envelope(const mime_message *msg);
char *mime_part_envelope(const mime_message *msg, const mime_part *part);
/* BODYSTRUCTURE (extended = true) or BODY (false). Types, values and
 * encodings as written; "7bit" when no encoding is given; text/ * parts
 * without a charset show ("charset" "us-ascii"); sizes are of the encoded
 * body as stored (physical: a bare LF is one byte); lines count LFs,
 * as Dovecot does. Over max_output:
 * the whole message as one application/octet-stream part. malloc'd; NULL
 * on OOM. */
char *mime_bodystructure(const mime_message *msg, bool extended);

/* The text to index: decoded Subject, From, To, Cc, then the decoded
 * text/plain parts and text/html parts with tags stripped, in UTF-8, at most
 * max bytes (cut at a character boundary). malloc'd; NULL on OOM. */
char *mime_index_text(const mime_message *msg, size_t max);

/* The first header field `name` of the top-level message (part NULL) or of
 * a part: unfolded, RFC 2047 decoded, converted to UTF-8, trimmed.
 * Returns 1 and a malloc'd *value_r, 0 when absent, -1 on OOM. */
int mime_header_get(const mime_message *msg, const mime_part *part, const char *name,
                    char **value_r);
/* Same without decoding: the unfolded raw value (8-bit kept). */
int mime_header_get_raw(const mime_message *msg, const mime_part *part, const char *name,
                        char **value_r);

/* The base subject of RFC 5256 2.1 of a decoded Subject ("Re: [list] Fwd:
 * hi (fwd)" -> "hi"), for SORT and THREAD. malloc'd; NULL on OOM. */
char *mime_subject_base(const char *subject);
/* The same, and *is_reply_r (may be NULL) tells whether the subject was a
 * reply or forward for THREAD=REFERENCES (RFC 5256 3, step 5): whether a
 * subj-refwd ("Re:", "Fwd:" ...), a "(fwd)" trailer or a "[fwd: ...]"
 * wrapper was removed (blobs and white space alone do not count). */
char *mime_subject_base_reply(const char *subject, bool *is_reply_r);

/* The first address of an address-list header value (RFC 5322 3.4, the
 * obsolete forms of 4.4 accepted), as the first address of the IMAP
 * ENVELOPE list shows it (RFC 9051 7.5.2), for SORT (RFC 5256 3: the
 * addr-mailbox of the first address) and DISPLAYFROM / DISPLAYTO (RFC 5957
 * 2: its display-name). Every string is malloc'd, NUL-terminated, at most
 * MIME_ADDRESS_PART_MAX bytes, NULL when absent or empty. */
#define MIME_ADDRESS_PART_MAX 4096
typedef struct mime_address {
    char *name;    /* display-name, RFC 2047 decoded to UTF-8 (a group: its name) */
    char *mailbox; /* local-part, quotes removed (addr-mailbox); NULL for a group */
    char *host;    /* domain (addr-host); NULL for a group */
    bool group;    /* the list starts with a group ("undisclosed-recipients:;") */
} mime_address;
/* value[0..len): the raw (undecoded, unfolded) field value. Returns 1 with
 * *addr_r filled, 0 when the list holds no address (*addr_r zeroed), -1 on
 * OOM. Free with mime_address_clear. */
int mime_address_first(const char *value, size_t len, mime_address *addr_r);
void mime_address_clear(mime_address *addr);
/* Calls fn for every mailbox of an address-list value (raw, unfolded), group
 * members included, with its local part (quotes removed) and domain, each
 * NULL when missing; stops when fn returns non-zero. Returns 0, or -1 when fn
 * stopped it or memory ran out. (The submission From check: every mailbox.) */
typedef int mime_address_fn(void *ctx, const char *mailbox, const char *host);
int mime_address_each(const char *value, size_t len, mime_address_fn *fn, void *ctx);

/* Decoders (decode.c), usable on their own. Output is malloc'd and
 * NUL-terminated; at most max bytes are produced (the rest is dropped).
 * Return 0, or -1 on OOM. Malformed input is decoded leniently. */
int mime_base64_decode(const char *in, size_t len, size_t max, char **out_r, size_t *len_r);
int mime_qp_decode(const char *in, size_t len, bool header_q, size_t max, char **out_r,
                   size_t *len_r);
/* RFC 2047 decoding of an unstructured header value to UTF-8. */
char *mime_decode_header(const char *in, size_t len, size_t max);
/* charset (NULL/unknown = us-ascii/latin-1 fallback) to UTF-8; invalid
 * sequences become U+FFFD. malloc'd or NULL on OOM. */
char *mime_charset_to_utf8(const char *charset, const char *in, size_t len, size_t max,
                           size_t *len_r);

#endif
