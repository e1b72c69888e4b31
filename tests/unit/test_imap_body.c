/* Table-driven tests of FETCH body sections (lib/imap/imap_body.h). Each
 * row is a message, a FETCH attribute as a client writes it (read with the
 * command reader, parsed with imap_fetch_parse) and the octets, NIL or
 * error it must give. Every row is also checked for what the rows do not
 * spell out: BINARY.SIZE equals the length of BINARY, runs of the message
 * are not copied, and header-only sections give the same octets from the
 * header block alone. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "imap_body.h"
#include "imap_reader.h"

/* ---- messages ------------------------------------------------------- */

enum {
    M_SIMPLE,
    M_ALT,
    M_MIXED,
    M_NESTED,
    M_FOLDED,
    M_NOBLANK,
    M_CUT,
    M_NOHEADER,
    M_MSGTOP,
    M_EMPTYMP,
    M_BARELF,
    M_WIDE,
    M_EMPTYCTE,
    M_B64MSG,
    M_COUNT
};

#define SIMPLE_HEADER                                                                              \
    "From: Alice <alice@example.org>\r\n"                                                          \
    "To: Bob <bob@example.org>\r\n"                                                                \
    "Subject: Lunch\r\n"                                                                           \
    "Date: Mon, 1 Jan 2024 12:00:00 +0000\r\n"                                                     \
    "\r\n"
#define SIMPLE_BODY "Shall we meet at noon?\r\nSee you.\r\n"

#define ALT_TEXT                                                                                   \
    "preamble\r\n"                                                                                 \
    "--b1\r\n"                                                                                     \
    "Content-Type: text/plain; charset=utf-8\r\n"                                                  \
    "\r\n"                                                                                         \
    "Hello\r\n"                                                                                    \
    "--b1\r\n"                                                                                     \
    "Content-Type: text/html; charset=utf-8\r\n"                                                   \
    "\r\n"                                                                                         \
    "<p>Hello</p>\r\n"                                                                             \
    "--b1--\r\n"                                                                                   \
    "epilogue\r\n"

#define INNER_HEADER                                                                               \
    "From: Carol <carol@example.org>\r\n"                                                          \
    "Subject: Report\r\n"                                                                          \
    "Content-Type: multipart/alternative; boundary=\"inner\"\r\n"                                  \
    "\r\n"
#define INNER_TEXT                                                                                 \
    "--inner\r\n"                                                                                  \
    "Content-Type: text/plain\r\n"                                                                 \
    "\r\n"                                                                                         \
    "Numbers\r\n"                                                                                  \
    "--inner\r\n"                                                                                  \
    "Content-Type: text/html\r\n"                                                                  \
    "Content-Transfer-Encoding: quoted-printable\r\n"                                              \
    "\r\n"                                                                                         \
    "<b>Numbers</b>=21\r\n"                                                                        \
    "--inner--"

#define FOLDED_HEADER                                                                              \
    "Received: from mx.example.org\r\n"                                                            \
    "\tby mail.example.org; Mon, 1 Jan 2024 12:00:00 +0000\r\n"                                    \
    "From: Frank <frank@example.org>\r\n"                                                          \
    "Subject: A very long subject\r\n"                                                             \
    " that is folded\r\n"                                                                          \
    "X-Tag: one\r\n"                                                                               \
    "x-tag: two\r\n"                                                                               \
    "Subject : second\r\n"                                                                         \
    "To: g@example.org\r\n"                                                                        \
    "\r\n"

#define INNER_MSG "From: k@example.org\r\nSubject: inner\r\n\r\nInner body\r\n"

static const char *const messages[M_COUNT] = {
    [M_SIMPLE] = SIMPLE_HEADER SIMPLE_BODY,
    [M_ALT] = "From: a@example.org\r\n"
              "Subject: Alt\r\n"
              "MIME-Version: 1.0\r\n"
              "Content-Type: multipart/alternative; boundary=\"b1\"\r\n"
              "\r\n" ALT_TEXT,
    [M_MIXED] = "From: Carol <carol@example.org>\r\n"
                "To: dave@example.org\r\n"
                "Subject: Report\r\n"
                "MIME-Version: 1.0\r\n"
                "Content-Type: multipart/mixed; boundary=\"mix\"\r\n"
                "\r\n"
                "--mix\r\n"
                "Content-Type: text/plain; charset=iso-8859-1\r\n"
                "Content-Transfer-Encoding: quoted-printable\r\n"
                "\r\n"
                "Caf=E9 au lait, tr=C3=A8s =\r\n"
                "bien.\r\n"
                "--mix\r\n"
                "Content-Type: application/octet-stream; name=\"data.bin\"\r\n"
                "Content-Disposition: attachment; filename=\"data.bin\"\r\n"
                "Content-Transfer-Encoding: base64\r\n"
                "\r\n"
                "AAECA/8=\r\n"
                "--mix\r\n"
                "Content-Type: text/plain\r\n"
                "Content-Transfer-Encoding: BASE64\r\n"
                "\r\n"
                "bGluZTEK\r\n"
                "bGluZTIK\r\n"
                "--mix\r\n"
                "Content-Type: application/x-uu\r\n"
                "Content-Transfer-Encoding: x-uuencode\r\n"
                "\r\n"
                "begin 644 x\r\n"
                "end\r\n"
                "--mix--\r\n",
    [M_NESTED] = "From: eve@example.org\r\n"
                 "Subject: Fwd: Report\r\n"
                 "MIME-Version: 1.0\r\n"
                 "Content-Type: multipart/mixed; boundary=\"outer\"\r\n"
                 "\r\n"
                 "--outer\r\n"
                 "Content-Type: text/plain\r\n"
                 "\r\n"
                 "See below.\r\n"
                 "--outer\r\n"
                 "Content-Type: message/rfc822\r\n"
                 "\r\n" INNER_HEADER INNER_TEXT "\r\n"
                 "--outer--\r\n",
    [M_FOLDED] = FOLDED_HEADER "Body\r\n",
    [M_NOBLANK] = "From: h@example.org\r\nSubject: no body\r\n",
    [M_CUT] = "From: i@example.org\r\nSubject: cut",
    [M_NOHEADER] = "Just a body line\r\nanother: line\r\n",
    [M_MSGTOP] = "From: j@example.org\r\n"
                 "Content-Type: message/rfc822\r\n"
                 "\r\n" INNER_MSG,
    [M_EMPTYMP] = "Content-Type: multipart/mixed; boundary=\"none\"\r\n"
                  "\r\n"
                  "no delimiter here\r\n",
    [M_BARELF] = "Content-Type: text/plain\r\n"
                 "Content-Transfer-Encoding: 8bit\r\n"
                 "\r\n"
                 "a\nb\rc\r\n",
    [M_WIDE] = "Content-Type: text/plain; charset=UTF-16LE\r\n"
               "Content-Transfer-Encoding: base64\r\n"
               "\r\n"
               "YQAKAA==\r\n",
    [M_EMPTYCTE] = "Content-Type: application/pdf\r\n"
                   "Content-Transfer-Encoding:\r\n"
                   "\r\n"
                   "%PDF\r\n",
    [M_B64MSG] = "Content-Type: multipart/mixed; boundary=x\r\n"
                 "\r\n"
                 "--x\r\n"
                 "Content-Type: message/rfc822\r\n"
                 "Content-Transfer-Encoding: base64\r\n"
                 "\r\n"
                 "U3ViamVjdDogaGkNCg0KaGkNCg==\r\n"
                 "--x--\r\n",
};

/* ---- rows ------------------------------------------------------------ */

typedef struct {
    int msg;
    const char *att;  /* a FETCH attribute */
    const char *want; /* octets (BINARY.SIZE: the number); NULL: NIL or err */
    size_t want_len;
    const char *err; /* "NO", "NO <code>", "BAD" */
} body_row;

#define OK(m, a, w)                                                                                \
    {                                                                                              \
        m, a, w, sizeof(w) - 1, NULL                                                               \
    }
#define NIL(m, a)                                                                                  \
    {                                                                                              \
        m, a, NULL, 0, NULL                                                                        \
    }
#define ERR(m, a, e)                                                                               \
    {                                                                                              \
        m, a, NULL, 0, e                                                                           \
    }

static const body_row rows[] = {
    /* the top level (RFC 9051 6.4.5) */
    OK(M_SIMPLE, "BODY[]", SIMPLE_HEADER SIMPLE_BODY),
    OK(M_SIMPLE, "RFC822", SIMPLE_HEADER SIMPLE_BODY),
    OK(M_SIMPLE, "BODY.PEEK[HEADER]", SIMPLE_HEADER),
    OK(M_SIMPLE, "RFC822.HEADER", SIMPLE_HEADER),
    OK(M_SIMPLE, "BODY[TEXT]", SIMPLE_BODY),
    OK(M_SIMPLE, "RFC822.TEXT", SIMPLE_BODY),
    OK(M_SIMPLE, "BODY[header.fields (subject FROM)]",
       "From: Alice <alice@example.org>\r\nSubject: Lunch\r\n\r\n"),
    OK(M_SIMPLE, "BODY[HEADER.FIELDS.NOT (Date To)]",
       "From: Alice <alice@example.org>\r\nSubject: Lunch\r\n\r\n"),
    OK(M_SIMPLE, "BODY[HEADER.FIELDS (X-Absent)]", "\r\n"),
    OK(M_SIMPLE, "BODY[HEADER.FIELDS.NOT (X-Absent)]", SIMPLE_HEADER),
    /* a non-multipart message: part 1 is its body, 1.MIME its header */
    OK(M_SIMPLE, "BODY[1]", SIMPLE_BODY),
    OK(M_SIMPLE, "BODY[1.MIME]", SIMPLE_HEADER),
    NIL(M_SIMPLE, "BODY[2]"),
    NIL(M_SIMPLE, "BODY[1.1]"),
    NIL(M_SIMPLE, "BODY[1.HEADER]"),
    NIL(M_SIMPLE, "BODY[1.TEXT]"),
    OK(M_SIMPLE, "BINARY[1]", SIMPLE_BODY),
    OK(M_SIMPLE, "BINARY.SIZE[1]", "34"),
    OK(M_SIMPLE, "BINARY[]", SIMPLE_HEADER SIMPLE_BODY),
    OK(M_SIMPLE, "BINARY.SIZE[]", "150"),
    /* partials (RFC 9051 6.4.5) */
    OK(M_SIMPLE, "BODY[]<0.4>", "From"),
    OK(M_SIMPLE, "BODY[TEXT]<6.3>", "we "),
    OK(M_SIMPLE, "BODY[TEXT]<24.100>", "See you.\r\n"),
    OK(M_SIMPLE, "BODY[TEXT]<34.1>", ""),
    OK(M_SIMPLE, "BODY[TEXT]<35.1>", ""),
    OK(M_SIMPLE, "BODY[]<9223372036854775807.1>", ""),
    OK(M_SIMPLE, "BODY[HEADER.FIELDS (Subject)]<9.5>", "Lunch"),
    OK(M_SIMPLE, "BINARY[1]<0.5>", "Shall"),
    NIL(M_SIMPLE, "BODY[3]<0.10>"),
    /* multipart/alternative */
    OK(M_ALT, "BODY[TEXT]", ALT_TEXT),
    OK(M_ALT, "BODY[1]", "Hello"),
    OK(M_ALT, "BODY[2]", "<p>Hello</p>"),
    OK(M_ALT, "BODY[1.MIME]", "Content-Type: text/plain; charset=utf-8\r\n\r\n"),
    OK(M_ALT, "BODY[2.MIME]", "Content-Type: text/html; charset=utf-8\r\n\r\n"),
    NIL(M_ALT, "BODY[3]"),
    NIL(M_ALT, "BODY[1.1]"),
    NIL(M_ALT, "BODY[2.HEADER]"),
    NIL(M_ALT, "BODY[1.HEADER.FIELDS (Content-Type)]"),
    OK(M_ALT, "BINARY[2]", "<p>Hello</p>"),
    OK(M_ALT, "BINARY.SIZE[2]", "12"),
    OK(M_ALT, "BODY[2]<3.5>", "Hello"),
    OK(M_ALT, "BODY[1]<5.1>", ""),
    /* multipart/mixed: quoted-printable, base64 (with NUL), unknown CTE */
    OK(M_MIXED, "BODY[1]", "Caf=E9 au lait, tr=C3=A8s =\r\nbien."),
    OK(M_MIXED, "BINARY[1]", "Caf\xe9 au lait, tr\xc3\xa8s bien."),
    OK(M_MIXED, "BINARY.SIZE[1]", "25"),
    OK(M_MIXED, "BINARY.PEEK[1]<3.9>", "\xe9 au lait"),
    OK(M_MIXED, "BODY[2]", "AAECA/8="),
    OK(M_MIXED, "BINARY[2]", "\x00\x01\x02\x03\xff"),
    OK(M_MIXED, "BINARY.SIZE[2]", "5"),
    OK(M_MIXED, "BINARY[2]<1.3>", "\x01\x02\x03"),
    OK(M_MIXED, "BINARY[2]<4.10>", "\xff"),
    OK(M_MIXED, "BINARY[2]<5.1>", ""),
    OK(M_MIXED, "BINARY[2]<10.3>", ""),
    OK(M_MIXED, "BODY[2.MIME]",
       "Content-Type: application/octet-stream; name=\"data.bin\"\r\n"
       "Content-Disposition: attachment; filename=\"data.bin\"\r\n"
       "Content-Transfer-Encoding: base64\r\n\r\n"),
    OK(M_MIXED, "BINARY[3]", "line1\r\nline2\r\n"), /* text: bare LF made CRLF */
    OK(M_MIXED, "BINARY.SIZE[3]", "14"),
    OK(M_MIXED, "BODY[4]", "begin 644 x\r\nend"),
    ERR(M_MIXED, "BINARY[4]", "NO UNKNOWN-CTE"),
    ERR(M_MIXED, "BINARY.PEEK[4]<0.1>", "NO UNKNOWN-CTE"),
    ERR(M_MIXED, "BINARY.SIZE[4]", "NO UNKNOWN-CTE"),
    NIL(M_MIXED, "BINARY[5]"),
    OK(M_MIXED, "BINARY.SIZE[5]", "0"),
    OK(M_MIXED, "BODY[HEADER.FIELDS (To)]", "To: dave@example.org\r\n\r\n"),
    /* message/rfc822 with its own multipart */
    OK(M_NESTED, "BODY[1]", "See below."),
    OK(M_NESTED, "BODY[2]", INNER_HEADER INNER_TEXT),
    OK(M_NESTED, "BODY[2.MIME]", "Content-Type: message/rfc822\r\n\r\n"),
    OK(M_NESTED, "BODY[2.HEADER]", INNER_HEADER),
    OK(M_NESTED, "BODY[2.TEXT]", INNER_TEXT),
    OK(M_NESTED, "BODY[2.HEADER.FIELDS (subject)]", "Subject: Report\r\n\r\n"),
    OK(M_NESTED, "BODY[2.HEADER.FIELDS.NOT (subject content-type)]",
       "From: Carol <carol@example.org>\r\n\r\n"),
    OK(M_NESTED, "BODY[HEADER.FIELDS (subject)]", "Subject: Fwd: Report\r\n\r\n"),
    OK(M_NESTED, "BODY[2.1]", "Numbers"),
    OK(M_NESTED, "BODY[2.1.MIME]", "Content-Type: text/plain\r\n\r\n"),
    OK(M_NESTED, "BODY[2.2]", "<b>Numbers</b>=21"),
    OK(M_NESTED, "BINARY[2.2]", "<b>Numbers</b>!"),
    OK(M_NESTED, "BINARY.SIZE[2.2]", "15"),
    OK(M_NESTED, "BODY[2.TEXT]<0.7>", "--inner"),
    OK(M_NESTED, "BODY[2.HEADER]<6.5>", "Carol"),
    NIL(M_NESTED, "BODY[2.3]"),
    NIL(M_NESTED, "BODY[2.1.1]"),
    NIL(M_NESTED, "BODY[2.1.HEADER]"),
    NIL(M_NESTED, "BODY[1.TEXT]"),
    NIL(M_NESTED, "BODY[3.MIME]"),
    ERR(M_NESTED, "BINARY[2]", "NO CANNOT"),
    ERR(M_NESTED, "BINARY.SIZE[2]", "NO CANNOT"),
    OK(M_NESTED, "BINARY[2.1]", "Numbers"),
    /* folded fields, repeated names, white space before the colon */
    OK(M_FOLDED, "BODY[HEADER]", FOLDED_HEADER),
    OK(M_FOLDED, "BODY[HEADER.FIELDS (SUBJECT)]",
       "Subject: A very long subject\r\n that is folded\r\nSubject : second\r\n\r\n"),
    OK(M_FOLDED, "BODY[HEADER.FIELDS (x-TAG \"From\")]",
       "From: Frank <frank@example.org>\r\nX-Tag: one\r\nx-tag: two\r\n\r\n"),
    OK(M_FOLDED, "BODY[HEADER.FIELDS (Received)]",
       "Received: from mx.example.org\r\n"
       "\tby mail.example.org; Mon, 1 Jan 2024 12:00:00 +0000\r\n\r\n"),
    OK(M_FOLDED, "BODY[HEADER.FIELDS.NOT (Received Subject X-Tag)]",
       "From: Frank <frank@example.org>\r\nTo: g@example.org\r\n\r\n"),
    OK(M_FOLDED, "BODY[HEADER.FIELDS (Subjec Subject2 X)]", "\r\n"),
    OK(M_FOLDED, "BODY[HEADER.FIELDS (From)]<0.4>", "From"),
    OK(M_FOLDED, "BODY[HEADER.FIELDS (To)]<19.10>", "\r\n"),
    OK(M_FOLDED, "BODY[TEXT]", "Body\r\n"),
    /* no blank line (RFC 9051 7.5.2: none added), no body */
    OK(M_NOBLANK, "BODY[HEADER]", "From: h@example.org\r\nSubject: no body\r\n"),
    OK(M_NOBLANK, "BODY[TEXT]", ""),
    OK(M_NOBLANK, "BODY[1]", ""),
    OK(M_NOBLANK, "BODY[HEADER.FIELDS (Subject)]", "Subject: no body\r\n"),
    OK(M_NOBLANK, "BODY[HEADER.FIELDS.NOT (Subject)]", "From: h@example.org\r\n"),
    OK(M_NOBLANK, "BODY[HEADER.FIELDS (X)]", ""),
    OK(M_NOBLANK, "BINARY.SIZE[1]", "0"),
    /* the last line cut off: the field gets its CRLF */
    OK(M_CUT, "BODY[HEADER]", "From: i@example.org\r\nSubject: cut"),
    OK(M_CUT, "BODY[HEADER.FIELDS (Subject)]", "Subject: cut\r\n"),
    OK(M_CUT, "BODY[HEADER.FIELDS (From)]", "From: i@example.org\r\n"),
    OK(M_CUT, "BODY[HEADER.FIELDS.NOT (From)]", "Subject: cut\r\n"),
    /* no header at all: the first line is not a field */
    OK(M_NOHEADER, "BODY[HEADER]", ""),
    OK(M_NOHEADER, "BODY[TEXT]", "Just a body line\r\nanother: line\r\n"),
    OK(M_NOHEADER, "BODY[HEADER.FIELDS.NOT (X)]", ""),
    OK(M_NOHEADER, "BODY[HEADER.FIELDS (another)]", ""),
    /* a top-level message/rfc822: part 1 is the encapsulated message */
    OK(M_MSGTOP, "BODY[TEXT]", INNER_MSG),
    OK(M_MSGTOP, "BODY[1]", INNER_MSG),
    OK(M_MSGTOP, "BODY[1.MIME]", "From: j@example.org\r\nContent-Type: message/rfc822\r\n\r\n"),
    OK(M_MSGTOP, "BODY[1.HEADER]", "From: k@example.org\r\nSubject: inner\r\n\r\n"),
    OK(M_MSGTOP, "BODY[1.TEXT]", "Inner body\r\n"),
    OK(M_MSGTOP, "BODY[1.HEADER.FIELDS (From)]", "From: k@example.org\r\n\r\n"),
    OK(M_MSGTOP, "BODY[1.1]", "Inner body\r\n"),
    NIL(M_MSGTOP, "BODY[1.2]"),
    NIL(M_MSGTOP, "BODY[2]"),
    ERR(M_MSGTOP, "BINARY[1]", "NO CANNOT"),
    OK(M_MSGTOP, "BINARY[1.1]", "Inner body\r\n"),
    /* a multipart without delimiters: one empty part, as BODYSTRUCTURE */
    OK(M_EMPTYMP, "BODY[TEXT]", "no delimiter here\r\n"),
    OK(M_EMPTYMP, "BODY[1]", ""),
    OK(M_EMPTYMP, "BODY[1.MIME]", ""),
    OK(M_EMPTYMP, "BINARY[1]", ""),
    OK(M_EMPTYMP, "BINARY.SIZE[1]", "0"),
    NIL(M_EMPTYMP, "BODY[1.HEADER]"),
    NIL(M_EMPTYMP, "BODY[1.1]"),
    NIL(M_EMPTYMP, "BODY[2]"),
    /* BINARY of text: every line break CRLF (RFC 3516 6) */
    OK(M_BARELF, "BODY[1]", "a\nb\rc\r\n"),
    OK(M_BARELF, "BINARY[1]", "a\r\nb\r\nc\r\n"),
    OK(M_BARELF, "BINARY.SIZE[1]", "9"),
    OK(M_BARELF, "BINARY[1]<1.4>", "\r\nb\r"),
    OK(M_WIDE, "BINARY[1]", "a\0\n\0"), /* UTF-16: octets are not lines */
    OK(M_WIDE, "BINARY.SIZE[1]", "4"),
    OK(M_EMPTYCTE, "BINARY[1]", "%PDF\r\n"),
    /* message/rfc822 in base64: an opaque leaf, decoded */
    OK(M_B64MSG, "BINARY[1]", "Subject: hi\r\n\r\nhi\r\n"),
    NIL(M_B64MSG, "BODY[1.HEADER]"),
    NIL(M_B64MSG, "BODY[1.1]"),
};

/* ---- running a row ---------------------------------------------------- */

static void parse_att(imap_reader *r, const char *att, imap_fetch *f)
{
    static char line[4096];
    int len = snprintf(line, sizeof(line), "a FETCH 1 %s\r\n", att);
    size_t off = 0, consumed;
    imap_command cmd;
    imap_error err;
    int rc;
    assert_true(len > 0 && (size_t)len < sizeof(line));
    do {
        rc = imap_reader_next(r, line + off, (size_t)len - off, &consumed, &cmd, &err);
        off += consumed;
    } while (rc == IMAP_READ_CONTINUE);
    if (rc != IMAP_READ_COMMAND)
        fail_msg("reader: \"%s\": %d", att, rc);
    if (imap_fetch_parse(cmd.args, cmd.nargs, 0, f, &err) < 0)
        fail_msg("fetch: \"%s\": %s", att, err.text);
    assert_int_equal(f->natts, 1);
}

typedef struct {
    int rc;
    bool nil;
    const char *data;
    size_t len;
    imap_error err;
} body_got;

static body_got run(const char *raw, size_t len, const imap_fetch_att *att, buf *out)
{
    body_got g = {0};
    mime_message *msg = mime_parse(raw, len, NULL);
    assert_non_null(msg);
    g.rc = imap_body_section(raw, len, msg, att, out, &g.data, &g.len, &g.nil, &g.err);
    mime_free(&msg);
    return g;
}

static void describe_err(const imap_error *e, char *out, size_t size)
{
    snprintf(out, size, "%s%s%s", e->resp == IMAP_RESP_NO ? "NO" : "BAD", e->code ? " " : "",
             e->code ? e->code : "");
}

static void check_row(const body_row *row, size_t i)
{
    const char *raw = messages[row->msg];
    size_t len = strlen(raw);
    imap_reader r;
    imap_fetch f;
    buf out;
    char what[64];

    imap_reader_init(&r, NULL);
    parse_att(&r, row->att, &f);
    const imap_fetch_att *att = &f.atts[0];
    buf_init(&out, IMAP_BODY_OUT_MAX(len));
    body_got g = run(raw, len, att, &out);

    if (row->err != NULL) {
        if (g.rc == 0)
            fail_msg("row %zu %s: no error, wanted %s", i, row->att, row->err);
        describe_err(&g.err, what, sizeof(what));
        if (strcmp(what, row->err) != 0)
            fail_msg("row %zu %s: %s, wanted %s", i, row->att, what, row->err);
        assert_non_null(g.err.text);
    } else if (g.rc != 0) {
        fail_msg("row %zu %s: error %s", i, row->att, g.err.text);
    } else if (row->want == NULL) {
        if (!g.nil)
            fail_msg("row %zu %s: \"%.*s\", wanted NIL", i, row->att, (int)g.len, g.data);
        assert_null(g.data);
        assert_int_equal(g.len, 0);
    } else {
        if (g.nil)
            fail_msg("row %zu %s: NIL, wanted \"%s\"", i, row->att, row->want);
        assert_non_null(g.data);
        if (att->kind == IMAP_FETCH_BINARY_SIZE) {
            snprintf(what, sizeof(what), "%zu", g.len);
            if (strcmp(what, row->want) != 0)
                fail_msg("row %zu %s: %s, wanted %s", i, row->att, what, row->want);
        } else if (g.len != row->want_len || memcmp(g.data, row->want, g.len) != 0) {
            fail_msg("row %zu %s: \"%.*s\" (%zu), wanted \"%s\" (%zu)", i, row->att, (int)g.len,
                     g.data, g.len, row->want, row->want_len);
        }
        /* a BODY section other than HEADER.FIELDS is a run of the message */
        bool fields = att->section.text == IMAP_SECTION_HEADER_FIELDS ||
                      att->section.text == IMAP_SECTION_HEADER_FIELDS_NOT;
        if (att->kind != IMAP_FETCH_BINARY && att->kind != IMAP_FETCH_BINARY_SIZE && !fields &&
            g.len > 0)
            assert_true(g.data >= raw && g.data + g.len <= raw + len);
        else if (fields && g.len > 0)
            assert_true(g.data >= out.data && g.data + g.len <= out.data + out.len);
    }

    /* BINARY.SIZE[n] is the length of BINARY[n] (RFC 3516 4.3) */
    if (att->kind == IMAP_FETCH_BINARY && !att->partial) {
        imap_fetch_att size = *att;
        size.kind = IMAP_FETCH_BINARY_SIZE;
        buf out2;
        buf_init(&out2, IMAP_BODY_OUT_MAX(len));
        body_got s = run(raw, len, &size, &out2);
        assert_int_equal(s.rc, g.rc);
        if (g.rc == 0)
            assert_int_equal(s.len, g.len);
        buf_free(&out2);
    }

    /* header-only sections: the same from the header block alone */
    if (imap_body_header_only(att) && g.rc == 0) {
        mime_message *msg = mime_parse(raw, len, NULL);
        assert_non_null(msg);
        const mime_part *root = mime_root(msg);
        size_t hlen = root->header_off + root->header_len;
        mime_free(&msg);
        char *copy = malloc(hlen + 1);
        assert_non_null(copy);
        memcpy(copy, raw, hlen);
        buf out2;
        buf_init(&out2, IMAP_BODY_OUT_MAX(hlen));
        body_got h = run(copy, hlen, att, &out2);
        assert_int_equal(h.rc, 0);
        assert_int_equal(h.nil, g.nil);
        assert_int_equal(h.len, g.len);
        assert_memory_equal(h.data, g.data, g.len);
        buf_free(&out2);
        free(copy);
    }
    buf_free(&out);
    imap_fetch_free(&f);
    imap_reader_free(&r);
}

static void test_rows(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
        check_row(&rows[i], i);
}

/* ---- direct calls ------------------------------------------------------ */

static bool header_only(const char *att)
{
    imap_reader r;
    imap_fetch f;
    imap_reader_init(&r, NULL);
    parse_att(&r, att, &f);
    bool ho = imap_body_header_only(&f.atts[0]);
    imap_fetch_free(&f);
    imap_reader_free(&r);
    return ho;
}

static void test_header_only(void **state)
{
    (void)state;
    assert_true(header_only("RFC822.HEADER"));
    assert_true(header_only("BODY.PEEK[HEADER]"));
    assert_true(header_only("BODY[HEADER]<0.10>"));
    assert_true(header_only("BODY[HEADER.FIELDS (From)]"));
    assert_true(header_only("BODY.PEEK[HEADER.FIELDS.NOT (Received)]"));
    assert_false(header_only("BODY[]"));
    assert_false(header_only("RFC822"));
    assert_false(header_only("RFC822.TEXT"));
    assert_false(header_only("BODY[TEXT]"));
    assert_false(header_only("BODY[1.HEADER]"));
    assert_false(header_only("BODY[1.MIME]"));
    assert_false(header_only("BINARY[]"));
    assert_false(header_only("FLAGS"));
}

/* Over out's max: NO [LIMIT], not a cut result. */
static void test_out_limit(void **state)
{
    (void)state;
    imap_reader r;
    imap_fetch f;
    const char *raw = messages[M_MIXED];
    buf out;
    imap_reader_init(&r, NULL);
    parse_att(&r, "BINARY[3]", &f);
    buf_init(&out, 4);
    body_got g = run(raw, strlen(raw), &f.atts[0], &out);
    assert_int_equal(g.rc, -1);
    assert_int_equal(g.err.resp, IMAP_RESP_NO);
    assert_string_equal(g.err.code, "LIMIT");
    /* with room enough: the whole section */
    buf_free(&out);
    buf_init(&out, 64);
    g = run(raw, strlen(raw), &f.atts[0], &out);
    assert_int_equal(g.rc, 0);
    assert_int_equal(g.len, 14);
    buf_free(&out);
    imap_fetch_free(&f);
    imap_reader_free(&r);
}

/* Attributes that are not body sections, and an empty message. */
static void test_other(void **state)
{
    (void)state;
    imap_reader r;
    imap_fetch f;
    buf out;
    buf_init(&out, 64);
    imap_reader_init(&r, NULL);
    parse_att(&r, "FLAGS", &f);
    body_got g = run("x", 1, &f.atts[0], &out);
    assert_int_equal(g.rc, -1);
    assert_int_equal(g.err.resp, IMAP_RESP_BAD);
    imap_fetch_free(&f);

    parse_att(&r, "BODY[]", &f);
    g = run("", 0, &f.atts[0], &out);
    assert_int_equal(g.rc, 0);
    assert_false(g.nil);
    assert_int_equal(g.len, 0);
    imap_fetch_free(&f);

    parse_att(&r, "BODY[HEADER.FIELDS.NOT (A)]", &f);
    g = run("", 0, &f.atts[0], &out);
    assert_int_equal(g.rc, 0);
    assert_non_null(g.data);
    assert_int_equal(g.len, 0);
    imap_fetch_free(&f);
    buf_free(&out);
    imap_reader_free(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rows),
        cmocka_unit_test(test_header_only),
        cmocka_unit_test(test_out_limit),
        cmocka_unit_test(test_other),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
