/* imap_body: the octets of a FETCH body section - BODY[section]<partial>,
 * BINARY[part]<partial>, BINARY.SIZE[part], RFC822, RFC822.HEADER and
 * RFC822.TEXT (RFC 9051 6.4.5 and 7.5.2, RFC 3516) - cut from a stored
 * message with its MIME tree (lib/mime). Pure: bytes and a parsed tree in,
 * a pointer and a length out; no I/O. Kept out of om_imap (library
 * om_imap_body) so that om_imap stays free of lib/mime.
 *
 * Sections (RFC 9051 6.4.5):
 *   - [] is the whole message; [HEADER] its header block with the blank
 *     line that ends it; [TEXT] its body; RFC822 = BODY[], RFC822.HEADER =
 *     BODY[HEADER], RFC822.TEXT = BODY[TEXT] (RFC 9051 6.4.5, Appendix E).
 *   - Part numbers follow mime.h: a multipart's parts are 1..n; the body of
 *     a non-multipart message (top level or encapsulated) is part 1, so
 *     [1] of a single-part message is its body and [1.MIME] its header.
 *   - [n] is the content of part n without its MIME header, as stored (in
 *     its transfer encoding); for a message/rfc822 (message/global) part it
 *     is the whole encapsulated message, header included.
 *   - [n.MIME] is the part's own MIME header, with its blank line.
 *   - [n.HEADER], [n.TEXT], [n.HEADER.FIELDS ...] refer to the message
 *     encapsulated in part n, which must be message/rfc822 or
 *     message/global ("provided that the numeric part specifier refers to a
 *     part of type MESSAGE/RFC822 or MESSAGE/GLOBAL").
 *   - HEADER.FIELDS (names): the fields of that header block whose names
 *     match one of the names (ASCII case-insensitive, RFC 5322 3.6.8), in
 *     message order, each with its continuation lines (folding kept); then
 *     the blank line. HEADER.FIELDS.NOT (names): every other line of the
 *     header block, lines that are not well-formed fields included (they
 *     have no name, so they match none). RFC 9051 7.5.2: "the blank line
 *     is always included in header data, except in the case of a message
 *     that has no body and no blank line" - here the filtered header ends
 *     with the blank line exactly when BODY[HEADER] does, so it is always a
 *     subset of BODY[HEADER]'s lines. A last field cut off without a line
 *     break gets CRLF. Field names in the message may have white space
 *     before the colon (RFC 5322 4.5.3).
 *
 * Where RFC 9051 leaves room (it does not say what a section that does not
 * exist gives; servers answer "" or NIL): the answer is NIL (the nstring of
 * RFC 9051 9 msg-att-static; "no such section", not "an empty one"), as
 * Cyrus and UW-IMAP answer, when
 *   - a part number does not exist in the message;
 *   - HEADER, TEXT or HEADER.FIELDS[.NOT] follows a part number that is not
 *     a message/rfc822 part (the text specifier has nothing to refer to).
 * A partial of a NIL section is NIL. BINARY.SIZE of a part that does not
 * exist is 0 (its syntax is a number, never NIL). A multipart with no
 * delimiter at all is shown by BODYSTRUCTURE with one empty text/plain part
 * (mime.h): that part 1 exists here too and is empty ("").
 *
 * Partial (RFC 9051 6.4.5): <origin.count> gives at most count octets from
 * octet origin of the section; an origin at or past its end gives "".
 * For BINARY the octets are those of the decoded data (RFC 3516 4.2).
 *
 * BINARY (RFC 3516, RFC 9051 6.4.5):
 *   - BINARY[] is the whole message as stored (it has no transfer encoding
 *     of its own to remove), BINARY.SIZE[] its size.
 *   - BINARY[n] of a leaf part is its content with its
 *     Content-Transfer-Encoding removed: base64 and quoted-printable are
 *     decoded (leniently, as lib/mime does), 7bit, 8bit, binary and an
 *     absent or empty field give the content as is.
 *   - A part whose Content-Transfer-Encoding is another token: -1 with
 *     NO [UNKNOWN-CTE] (RFC 3516 4.3, RFC 9051 7.1).
 *   - BINARY of a multipart or an encapsulated message: -1 with NO [CANNOT]
 *     (RFC 9051 6.4.5: BINARY "can only be requested for leaf body parts:
 *     those that have media types other than multipart/ *, message/rfc822,
 *     or message/global"). Leaf means a leaf of the MIME tree, as
 *     BODYSTRUCTURE shows it: a message/rfc822 part in base64 and a part
 *     past the parser's limits are opaque leaves (application/octet-stream)
 *     and are decoded.
 *   - Text parts (text/ *, except the UTF-16/UTF-32/UCS charsets whose
 *     octets are not line-oriented) have every bare CR and bare LF of the
 *     decoded data turned into CRLF (RFC 3516 6, RFC 9051 6.4.5: "servers
 *     MUST ensure that textual line-oriented sections are always
 *     transmitted using the IMAP CRLF line termination syntax").
 *   - BINARY.SIZE[n] is the length of BINARY[n] (RFC 3516 4.3: "MUST match
 *     the size of the <nstring> or <literal8> that will be returned").
 *   - The caller chooses the form: the decoded data may hold NUL, which
 *     only a literal8 can carry (RFC 9051 4.3.1).
 *
 * Memory: nothing is copied when the section is a run of the message
 * (every BODY section but HEADER.FIELDS[.NOT], and BINARY of unencoded
 * data). Otherwise the result is built in out: a filtered header is at
 * most header length + 2 octets; decoded data at most twice the encoded
 * part (quoted-printable and CRLF normalisation: each line break becomes at
 * most CRLF) and a temporary copy of the same bound while decoding. Give
 * out a max of at least IMAP_BODY_OUT_MAX(len); over out's max (or out of
 * memory) the call fails with NO [LIMIT].
 */
#ifndef OWNMAIL_IMAP_BODY_H
#define OWNMAIL_IMAP_BODY_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"
#include "imap_common.h"
#include "imap_fetch.h"
#include "mime.h"

/* RFC 3516 4.3 / RFC 9051 7.1 response code. */
#define IMAP_CODE_UNKNOWN_CTE "UNKNOWN-CTE"

/* An out max that every section of a len-octet message fits in. */
#define IMAP_BODY_OUT_MAX(len) ((len) < ((size_t)-1 - 4) / 2 ? 2 * (len) + 4 : (size_t)-1)

/* The section att asks for (kind IMAP_FETCH_BODY_SECTION, IMAP_FETCH_BINARY,
 * IMAP_FETCH_BINARY_SIZE, IMAP_FETCH_RFC822, IMAP_FETCH_RFC822_HEADER or
 * IMAP_FETCH_RFC822_TEXT) of the message raw[0..len), parsed as msg (from
 * exactly these octets). The partial of att is applied.
 *
 * Returns 0 with *out_r / *out_len_r the octets - pointing into raw, or into
 * out (reset first) when built: never NULL - and *nil_r false; or 0 with
 * *nil_r true, *out_r NULL and *out_len_r 0 when the answer is NIL (see
 * above). For BINARY.SIZE *out_len_r is the size to give (and *out_r the
 * decoded data, not to be sent). Valid until raw or out changes.
 * Returns -1 with *error_r: NO [UNKNOWN-CTE], NO [CANNOT] (BINARY of a
 * non-leaf part), NO [LIMIT] (out full or out of memory), BAD (att is not
 * a body section). */
int imap_body_section(const char *raw, size_t len, const mime_message *msg,
                      const imap_fetch_att *att, buf *out, const char **out_r, size_t *out_len_r,
                      bool *nil_r, imap_error *error_r);

/* Whether the header block alone (its header_len octets, blank line
 * included) is enough for att, so that the server can read only the header
 * from the store and pass it, parsed, as the whole message: true for
 * RFC822.HEADER and BODY[HEADER], BODY[HEADER.FIELDS (...)],
 * BODY[HEADER.FIELDS.NOT (...)] of the top-level message (any partial);
 * false for everything else (a part's MIME header depends on the structure
 * of the body). */
bool imap_body_header_only(const imap_fetch_att *att);

#endif
