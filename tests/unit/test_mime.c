/* Table-driven tests of lib/mime: real-world-like messages in
 * tests/unit/mime/ (one .eml file each) with their expected ENVELOPE and
 * BODYSTRUCTURE, written by hand from RFC 3501 7.4.2 / RFC 9051 7.5.2 and
 * the conventions of Dovecot's lib-imap (types and values as written,
 * "7bit" by default, text parts without a charset show us-ascii, RFC 2231
 * continuations merged with the encoding kept, body-fld-lines = LFs of the
 * body); byte sizes were counted independently of this code. Then decoder
 * rows, sections, limits, inline edge cases and RFC 5256 base subjects. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "mime.h"

#ifndef MIME_TEST_DIR
#error "MIME_TEST_DIR must name tests/unit/mime"
#endif

static char *read_eml(const char *name, size_t *len_r)
{
    char path[1024];
    snprintf(path, sizeof(path), "%s/%s", MIME_TEST_DIR, name);
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        fail_msg("cannot open %s", path);
    char *data = malloc(1 << 20);
    assert_non_null(data);
    size_t n = fread(data, 1, (1 << 20) - 1, f);
    fclose(f);
    data[n] = '\0';
    *len_r = n;
    return data;
}

#define ADDR_ALICE "((\"Alice Example\" NIL \"alice\" \"example.org\"))"
#define ADDR_NEWS "((\"Newsletter Team\" NIL \"news\" \"shop.example\"))"
#define ADDR_DAVE "((\"Dave\" NIL \"dave\" \"example.com\"))"
#define ADDR_FRANK "((\"Frank\" NIL \"frank\" \"example.net\"))"
#define ADDR_MAILER "((NIL NIL \"mailer\" \"example.com\"))"
#define ADDR_JOERG "(({13}\r\nJörg Müller NIL \"joerg\" \"example.de\"))"
#define ADDR_JOERG_EW "((\"=?UTF-8?B?SsO2cmcgTcO8bGxlcg==?=\" NIL \"joerg\" \"example.de\"))"
#define ADDR_IVAN "((NIL NIL \"ivan\" \"example.com\"))"
#define ADDR_KIM "((\"Kim\" NIL \"kim\" \"example.com\"))"
#define ADDR_PAUL "((NIL NIL \"paul\" \"example.com\"))"
#define ADDR_QUINN "((NIL NIL \"quinn\" \"example.com\"))"
#define THREE(a) a " " a " " a

#define FWD_ENV                                                                                    \
    "(\"Tue, 24 Nov 2026 17:30:00 +0100\" \"Meeting notes\" " THREE(                               \
        ADDR_FRANK) " ((\"Dave\" NIL \"dave\" \"example.com\")(NIL NIL \"team\" \"example.net\"))" \
                    " ((\"Grace H.\" NIL \"grace\" \"example.net\")) NIL "                         \
                    "\"<agenda-3@example.com>\""                                                   \
                    " \"<notes-7@example.net>\")"

typedef struct eml_row {
    const char *file;
    const char *envelope;
    const char *bodystructure; /* extended */
    const char *body;          /* non-extended, or NULL to skip */
} eml_row;

static const eml_row eml_rows[] = {
    {"simple.eml",
     "(\"Mon, 23 Nov 2026 10:00:00 +0100\" \"Lunch tomorrow?\" " THREE(
         ADDR_ALICE) " ((NIL NIL \"bob\" \"example.com\")) NIL NIL NIL \"<1234@example.org>\")",
     "(\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 45 5 NIL NIL NIL NIL)",
     "(\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 45 5)"},
    {"alternative.eml",
     "(\"Tue, 24 Nov 2026 08:15:00 +0000\" \"Autumn sale\" " THREE(
         ADDR_NEWS) " ((\"Carol\" NIL \"carol\" \"example.net\")) NIL NIL NIL "
                    "\"<sale-2026@shop.example>\")",
     "((\"text\" \"plain\" (\"charset\" \"utf-8\") NIL NIL \"quoted-printable\" 82 1 NIL NIL NIL "
     "NIL)"
     "((\"text\" \"html\" (\"charset\" \"utf-8\") NIL NIL \"7bit\" 96 0 NIL NIL NIL NIL)"
     "(\"image\" \"png\" (\"name\" \"logo.png\") \"<logo@shop>\" NIL \"base64\" 98 NIL "
     "(\"inline\" (\"filename\" \"logo.png\")) NIL NIL)"
     " \"related\" (\"type\" \"text/html\" \"boundary\" \"----=_Rel_002\") NIL NIL NIL)"
     " \"alternative\" (\"boundary\" \"----=_Alt_001\") NIL NIL NIL)",
     "((\"text\" \"plain\" (\"charset\" \"utf-8\") NIL NIL \"quoted-printable\" 82 1)"
     "((\"text\" \"html\" (\"charset\" \"utf-8\") NIL NIL \"7bit\" 96 0)"
     "(\"image\" \"png\" (\"name\" \"logo.png\") \"<logo@shop>\" NIL \"base64\" 98) \"related\")"
     " \"alternative\")"},
    {"forwarded.eml",
     "(\"Wed, 25 Nov 2026 09:00:00 -0500\" \"Fwd: Meeting notes\" " THREE(
         ADDR_DAVE) " ((\"Erin\" NIL \"erin\" \"example.org\")) NIL NIL NIL "
                    "\"<fwd-1@example.com>\")",
     "((\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 10 0 NIL NIL NIL NIL)"
     "(\"message\" \"rfc822\" NIL NIL \"Meeting notes\" \"7bit\" 380 " FWD_ENV
     " (\"text\" \"plain\" (\"charset\" \"utf-8\" \"format\" \"flowed\") NIL NIL \"8bit\" 38 2 "
     "NIL NIL NIL NIL) 12 NIL NIL NIL NIL)"
     " \"mixed\" (\"boundary\" \"outer\") NIL NIL NIL)",
     "((\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 10 0)"
     "(\"message\" \"rfc822\" NIL NIL \"Meeting notes\" \"7bit\" 380 " FWD_ENV
     " (\"text\" \"plain\" (\"charset\" \"utf-8\" \"format\" \"flowed\") NIL NIL \"8bit\" 38 2) 12)"
     " \"mixed\")"},
    /* a part without header, a line that only starts like a delimiter,
     * no close delimiter */
    {"broken.eml",
     "(NIL \"broken boundaries\" " THREE(
         ADDR_MAILER) " ((NIL NIL \"henry\" \"example.com\")) NIL NIL NIL NIL)",
     "((\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 10 0 NIL NIL NIL NIL)"
     "(\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 70 4 NIL NIL NIL NIL)"
     " \"mixed\" (\"boundary\" \"XYZ\") NIL NIL NIL)",
     NULL},
    /* raw UTF-8 in headers: sent as literals */
    {"eightbit.eml",
     "(\"Thu, 26 Nov 2026 12:00:00 +0100\" {20}\r\nGrüße aus München " THREE(
         ADDR_JOERG) " (({4}\r\nZoë NIL \"zoe\" \"example.fr\")) NIL NIL NIL NIL)",
     "(\"text\" \"plain\" (\"charset\" \"utf-8\") NIL NIL \"8bit\" 18 1 NIL NIL NIL NIL)", NULL},
    /* RFC 2047 words stay encoded in the ENVELOPE: clients decode them */
    {"encoded.eml",
     "(\"Fri, 27 Nov 2026 07:45:00 +0000\" "
     "\"=?ISO-8859-1?Q?Caf=E9_cr=E8me?= =?UTF-8?B?IOKCrCAz?=\" " THREE(
         ADDR_JOERG_EW) " ((\"=?ISO-8859-1?Q?Ren=E9e?=\" NIL \"renee\" \"example.fr\")) NIL NIL "
                        "NIL NIL)",
     "(\"text\" \"plain\" (\"charset\" \"iso-8859-1\") NIL NIL \"quoted-printable\" 39 2 NIL NIL "
     "NIL NIL)",
     NULL},
    /* RFC 2231 continuations merged, the encoding kept (as Dovecot shows them) */
    {"rfc2231.eml",
     "(NIL \"report\" " THREE(ADDR_IVAN) " ((NIL NIL \"judy\" \"example.com\")) NIL NIL NIL NIL)",
     "((\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 16 0 NIL NIL NIL NIL)"
     "(\"application\" \"pdf\" (\"name*\" \"UTF-8''%E2%82%AC%20rates%20report.pdf\") NIL NIL "
     "\"base64\" 12 NIL (\"attachment\" (\"size\" \"9\" \"filename*\" "
     "\"UTF-8'en'%E2%82%AC%20rates%20report.pdf\")) (\"en\") NIL)"
     " \"mixed\" (\"boundary\" \"b1\") NIL NIL NIL)",
     NULL},
    /* group syntax, an empty group, a comment as the name, an obsolete route */
    {"group.eml",
     "(\"Sat, 28 Nov 2026 10:00:00 +0000\" \"groups\" " THREE(
         ADDR_KIM) " ((NIL NIL \"undisclosed-recipients\" NIL)(NIL NIL NIL NIL))"
                   " ((NIL NIL \"Team\" NIL)(NIL NIL \"leo\" \"example.com\")"
                   "(\"Bee, Mia\" NIL \"mia\" \"example.com\")(NIL NIL NIL NIL)"
                   "(\"Nina N\" NIL \"nina\" \"example.com\"))"
                   " ((NIL \"@relay.example\" \"oscar\" \"example.com\")) NIL NIL)",
     "(\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 6 1 NIL NIL NIL NIL)", NULL},
    /* RFC 2045 5.2: no Content-Type = text/plain; charset=us-ascii */
    {"nocontenttype.eml", "(NIL \"plain\" " THREE(ADDR_PAUL) " NIL NIL NIL NIL NIL)",
     "(\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 35 1 NIL NIL NIL NIL)",
     "(\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 35 1)"},
    /* bare LF line ends */
    {"lf.eml",
     "(NIL \"bare LF and base64 with white space\" " THREE(ADDR_QUINN) " NIL NIL NIL NIL NIL)",
     "((\"text\" \"plain\" (\"charset\" \"utf-8\") NIL NIL \"base64\" 21 2 NIL NIL NIL NIL)"
     " \"mixed\" (\"boundary\" \"zz\") NIL NIL NIL)",
     NULL},
};

static void test_eml_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(eml_rows) / sizeof(eml_rows[0]); i++) {
        const eml_row *r = &eml_rows[i];
        size_t len;
        char *data = read_eml(r->file, &len);
        mime_message *m = mime_parse(data, len, NULL);
        assert_non_null(m);
        char *env = mime_envelope(m);
        char *bs = mime_bodystructure(m, true);
        char *body = mime_bodystructure(m, false);
        assert_non_null(env);
        assert_non_null(bs);
        assert_non_null(body);
        if (strcmp(env, r->envelope) != 0)
            fail_msg("%s ENVELOPE\n got: %s\nwant: %s", r->file, env, r->envelope);
        if (strcmp(bs, r->bodystructure) != 0)
            fail_msg("%s BODYSTRUCTURE\n got: %s\nwant: %s", r->file, bs, r->bodystructure);
        if (r->body != NULL && strcmp(body, r->body) != 0)
            fail_msg("%s BODY\n got: %s\nwant: %s", r->file, body, r->body);
        free(env);
        free(bs);
        free(body);
        mime_free(&m);
        assert_null(m);
        free(data);
    }
}

/* Parse a file; the caller frees both. */
static mime_message *parse_file(const char *name, char **data_r)
{
    size_t len;
    *data_r = read_eml(name, &len);
    mime_message *m = mime_parse(*data_r, len, NULL);
    assert_non_null(m);
    return m;
}

static void assert_bytes(const char *data, size_t off, size_t len, const char *want)
{
    if (len != strlen(want) || memcmp(data + off, want, len) != 0)
        fail_msg("got \"%.*s\", want \"%s\"", (int)len, data + off, want);
}

static void test_sections(void **state)
{
    (void)state;
    char *data;
    mime_message *m = parse_file("forwarded.eml", &data);
    const mime_part *root = mime_root(m);
    assert_ptr_equal(mime_section(m, ""), root);
    const mime_part *p1 = mime_section(m, "1");
    assert_non_null(p1);
    assert_string_equal(p1->section, "1");
    assert_bytes(data, p1->body_off, p1->body_len, "See below.");
    assert_bytes(data, p1->header_off, p1->header_len,
                 "Content-Type: text/plain; charset=us-ascii\r\n\r\n");
    const mime_part *p2 = mime_section(m, "2");
    assert_non_null(p2);
    assert_true(p2->is_message);
    const mime_part *inner = mime_part_message(p2);
    assert_non_null(inner);
    /* BODY[2.HEADER] and BODY[2.TEXT] */
    assert_true(inner->header_len > 0);
    assert_memory_equal(data + inner->header_off, "From: Frank", 11);
    assert_bytes(data, inner->body_off, inner->body_len,
                 "Notes attached.\r\nAction items: none.\r\n");
    /* BODY[2.1]: the body of a non-multipart encapsulated message */
    assert_ptr_equal(mime_section(m, "2.1"), inner);
    assert_null(mime_section(m, "3"));
    assert_null(mime_section(m, "2.2"));
    assert_null(mime_section(m, "1.1"));
    assert_null(mime_section(m, "0"));
    assert_null(mime_section(m, "1."));
    assert_null(mime_section(m, "x"));
    char *env = mime_part_envelope(m, p2);
    assert_string_equal(env, FWD_ENV);
    free(env);
    assert_int_equal(mime_part_count(m), 4);
    mime_free(&m);
    free(data);

    m = parse_file("alternative.eml", &data);
    const mime_part *png = mime_section(m, "2.2");
    assert_non_null(png);
    assert_true(mime_part_is(png, "IMAGE", "png"));
    assert_string_equal(png->section, "2.2");
    assert_string_equal(mime_part_disp_param(png, "FILENAME"), "logo.png");
    assert_int_equal(png->encoding, MIME_ENC_BASE64);
    assert_true(mime_part_is(mime_section(m, "2.1"), "text", "html"));
    assert_true(mime_part_is(mime_section(m, "1"), "text", "plain"));
    assert_null(mime_section(m, "2.3"));
    mime_free(&m);
    free(data);

    /* single part: its body is part 1 */
    m = parse_file("simple.eml", &data);
    assert_ptr_equal(mime_section(m, "1"), mime_root(m));
    assert_null(mime_section(m, "2"));
    mime_free(&m);
    free(data);
}

static void test_header_get(void **state)
{
    (void)state;
    char *data, *v = NULL;
    mime_message *m = parse_file("encoded.eml", &data);
    assert_int_equal(mime_header_get(m, NULL, "Subject", &v), 1);
    assert_string_equal(v, "Café crème € 3");
    free(v);
    assert_int_equal(mime_header_get(m, NULL, "from", &v), 1);
    assert_string_equal(v, "Jörg Müller <joerg@example.de>");
    free(v);
    assert_int_equal(mime_header_get_raw(m, NULL, "subject", &v), 1);
    assert_string_equal(v, "=?ISO-8859-1?Q?Caf=E9_cr=E8me?= =?UTF-8?B?IOKCrCAz?=");
    free(v);
    assert_int_equal(mime_header_get(m, NULL, "X-Missing", &v), 0);
    assert_null(v);
    mime_free(&m);
    free(data);

    m = parse_file("eightbit.eml", &data);
    assert_int_equal(mime_header_get(m, NULL, "subject", &v), 1);
    assert_string_equal(v, "Grüße aus München");
    free(v);
    mime_free(&m);
    free(data);

    m = parse_file("alternative.eml", &data); /* folded */
    assert_int_equal(mime_header_get_raw(m, NULL, "content-type", &v), 1);
    assert_string_equal(v, "multipart/alternative; boundary=\"----=_Alt_001\"");
    free(v);
    mime_free(&m);
    free(data);

    m = parse_file("rfc2231.eml", &data);
    const mime_part *pdf = mime_section(m, "2");
    assert_non_null(pdf);
    assert_string_equal(mime_part_param(pdf, "name"), "€ rates report.pdf");
    assert_string_equal(mime_part_disp_param(pdf, "filename"), "€ rates report.pdf");
    assert_string_equal(mime_part_disp_param(pdf, "size"), "9");
    assert_string_equal(pdf->disposition, "attachment");
    assert_int_equal(pdf->nlanguages, 1);
    assert_string_equal(pdf->languages[0], "en");
    mime_free(&m);
    free(data);
}

typedef struct index_row {
    const char *file;
    const char *contains[4];
    const char *absent;
} index_row;

static const index_row index_rows[] = {
    {"alternative.eml",
     {"Autumn sale\n", "Newsletter Team <news@shop.example>",
      "20% off everything \xe2\x80\x93 this week only. Visit our shop today.", "20% off & more"},
     "<p>"},
    {"encoded.eml",
     {"Café crème € 3\n", "Jörg Müller <joerg@example.de>", "Renée <renee@example.fr>",
      "Un café crème coûte 3 euros."},
     "=E9"},
    {"lf.eml", {"Hello world!", NULL, NULL, NULL}, "SGVs"},
    {"forwarded.eml", {"See below.", "Notes attached.", "Erin <erin@example.org>", NULL}, NULL},
    {"group.eml", {"Team:", "Bee, Mia <mia@example.com>", "body", NULL}, NULL},
    {"rfc2231.eml", {"Report attached.", NULL, NULL, NULL}, "JVBER"},
};

static void test_index_text(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(index_rows) / sizeof(index_rows[0]); i++) {
        const index_row *r = &index_rows[i];
        char *data;
        mime_message *m = parse_file(r->file, &data);
        char *t = mime_index_text(m, 65536);
        assert_non_null(t);
        for (size_t k = 0; k < 4 && r->contains[k] != NULL; k++)
            if (strstr(t, r->contains[k]) == NULL)
                fail_msg("%s: index text lacks \"%s\":\n%s", r->file, r->contains[k], t);
        if (r->absent != NULL && strstr(t, r->absent) != NULL)
            fail_msg("%s: index text has \"%s\":\n%s", r->file, r->absent, t);
        free(t);
        /* bounded, cut on a character boundary */
        t = mime_index_text(m, 3);
        assert_non_null(t);
        assert_true(strlen(t) <= 3);
        free(t);
        mime_free(&m);
        free(data);
    }
}

typedef struct dec_row {
    const char *in;
    const char *want;
    int kind; /* 0 base64, 1 qp body, 2 qp header (Q), 3 RFC 2047 header */
} dec_row;

static const dec_row dec_rows[] = {
    {"SGVsbG8=", "Hello", 0},
    {"SGVsbG8", "Hello", 0}, /* missing padding */
    {"S G V s\r\nb G 8 =", "Hello", 0},
    {"SGVs\tbG8g\r\n d29y bGQh", "Hello world!", 0},
    {"", "", 0},
    {"!!!*", "", 0},
    {"SGVsbG8=garbage", "Hello", 0},
    {"a=3Db", "a=b", 1},
    {"soft=\r\nbreak", "softbreak", 1},
    {"soft=\nbreak", "softbreak", 1},
    {"soft =  \r\nx", "soft x", 1},
    {"trailing   \r\nx", "trailing\r\nx", 1},
    {"lf\nx", "lf\r\nx", 1},
    {"bad=ZZ", "bad=ZZ", 1},
    {"end=", "end", 1},
    {"x=4", "x=4", 1},
    {"=C3=A9t=c3=a9", "\xc3\xa9t\xc3\xa9", 1},
    {"a_b=5F", "a b_", 2},
    {"a_b", "a_b", 1},
    {"=?utf-8?q?caf=C3=A9?=", "café", 3},
    {"=?ISO-8859-1?Q?a?= =?ISO-8859-1?Q?b?=", "ab", 3},
    {"=?ISO-8859-1?Q?a?=\r\n =?ISO-8859-1?Q?b?=", "ab", 3},
    {"=?ISO-8859-1?Q?a?= b", "a b", 3},
    {"x =?ISO-8859-1?Q?a?=", "x a", 3},
    {"plain text", "plain text", 3},
    {"=?UTF-8?B?4oI=?= =?UTF-8?B?rA==?=", "€", 3}, /* a character split across words */
    {"=?utf-8*en?Q?hi?=", "hi", 3},                /* RFC 2231 5 language */
    {"=?utf-8?x?abc?=", "=?utf-8?x?abc?=", 3},
    {"=?utf-8?q?no end", "=?utf-8?q?no end", 3},
    {"=?utf-8?q?sp ace?=", "=?utf-8?q?sp ace?=", 3},
    {"=?no-such-charset?Q?x?=", "x", 3},
    {"caf\xe9", "café", 3}, /* raw Latin-1 */
    {"=?iso-8859-15?q?=A4?=", "€", 3},
    {"=?windows-1252?q?=80?=", "€", 3},
    {"=?us-ascii?q?=FF?=", "ÿ", 3},
    {"=?shift_jis?b?k/qWe4zq?=", "日本語", 3},
    {"=?utf-8?b?/w==?=", "ÿ", 3},
    {"=?koi8-r?b?8NLJ18XU?=", "Привет", 3},
};

static void test_decoders(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(dec_rows) / sizeof(dec_rows[0]); i++) {
        const dec_row *r = &dec_rows[i];
        char *out = NULL;
        size_t len = 0;
        if (r->kind == 0)
            assert_int_equal(mime_base64_decode(r->in, strlen(r->in), 1000, &out, &len), 0);
        else if (r->kind == 1 || r->kind == 2)
            assert_int_equal(mime_qp_decode(r->in, strlen(r->in), r->kind == 2, 1000, &out, &len),
                             0);
        else {
            out = mime_decode_header(r->in, strlen(r->in), 1000);
            assert_non_null(out);
            len = strlen(out);
        }
        if (len != strlen(r->want) || memcmp(out, r->want, len) != 0)
            fail_msg("row %zu \"%s\": got \"%.*s\", want \"%s\"", i, r->in, (int)len, out, r->want);
        free(out);
    }
    /* bounded output */
    char *out;
    size_t len;
    assert_int_equal(mime_base64_decode("SGVsbG8=", 8, 2, &out, &len), 0);
    assert_int_equal(len, 2);
    assert_string_equal(out, "He");
    free(out);
    out = mime_charset_to_utf8("iso-8859-1", "\xe9\xe9\xe9", 3, 3, &len);
    assert_string_equal(out, "é"); /* cut on a character boundary */
    free(out);
}

/* Builds a message of `depth` nested multiparts. */
static char *nested_message(unsigned depth, size_t *len_r)
{
    size_t cap = depth * 128 + 256, n = 0;
    char *s = malloc(cap);
    assert_non_null(s);
    n += (size_t)snprintf(s + n, cap - n, "Subject: deep\r\n");
    for (unsigned i = 0; i < depth; i++)
        n += (size_t)snprintf(s + n, cap - n,
                              "Content-Type: multipart/mixed; boundary=b%u\r\n\r\n--b%u\r\n", i, i);
    n += (size_t)snprintf(s + n, cap - n, "Content-Type: text/plain\r\n\r\nleaf\r\n");
    for (unsigned i = depth; i-- > 0;)
        n += (size_t)snprintf(s + n, cap - n, "--b%u--\r\n", i);
    *len_r = n;
    return s;
}

static void test_limits(void **state)
{
    (void)state;
    size_t len;
    char *s = nested_message(200, &len);
    mime_message *m = mime_parse(s, len, NULL);
    assert_non_null(m);
    assert_true(mime_part_count(m) <= MIME_DEFAULT_MAX_DEPTH + 1);
    char *bs = mime_bodystructure(m, true);
    assert_non_null(bs);
    assert_non_null(strstr(bs, "\"application\" \"octet-stream\"")); /* the opaque rest */
    free(bs);
    mime_free(&m);
    free(s);

    /* many parts: at most max_parts */
    size_t cap = 3000 * 40 + 200;
    s = malloc(cap);
    assert_non_null(s);
    len = (size_t)snprintf(s, cap, "Content-Type: multipart/mixed; boundary=x\r\n\r\n");
    for (int i = 0; i < 3000; i++)
        len += (size_t)snprintf(s + len, cap - len, "--x\r\n\r\npart %d\r\n", i);
    mime_limits lim;
    mime_limits_default(&lim);
    lim.max_parts = 100;
    m = mime_parse(s, len, &lim);
    assert_non_null(m);
    assert_int_equal(mime_part_count(m), 100);
    assert_int_equal(mime_root(m)->nchildren, 99);
    mime_free(&m);
    m = mime_parse(s, len, NULL);
    assert_non_null(m);
    assert_int_equal(mime_part_count(m), MIME_DEFAULT_MAX_PARTS);
    mime_free(&m);
    free(s);

    /* header limits: fields past max_header_fields are ignored, the
     * header block still ends where it ends */
    const char *hdr = "A: 1\r\nB: 2\r\nSubject: late\r\n\r\nbody";
    lim.max_header_fields = 2;
    m = mime_parse(hdr, strlen(hdr), &lim);
    assert_non_null(m);
    char *v = NULL;
    assert_int_equal(mime_header_get(m, NULL, "subject", &v), 0);
    assert_int_equal(mime_root(m)->body_len, 4);
    mime_free(&m);

    /* a field longer than max_line (folded lines included) is skipped */
    mime_limits_default(&lim);
    lim.max_line = 64;
    const char *longf =
        "Subject: short\r\nX-Long: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n"
        " bbbbbbbbbb\r\nTo: a@b\r\n\r\nbody";
    m = mime_parse(longf, strlen(longf), &lim);
    assert_non_null(m);
    assert_int_equal(mime_header_get(m, NULL, "x-long", &v), 0);
    assert_int_equal(mime_header_get(m, NULL, "to", &v), 1);
    assert_string_equal(v, "a@b");
    free(v);
    assert_int_equal(mime_root(m)->body_len, 4);
    mime_free(&m);

    /* over max_output: one opaque part, never NULL */
    lim.max_output = 20;
    m = mime_parse(hdr, strlen(hdr), &lim);
    bs = mime_bodystructure(m, false);
    assert_string_equal(bs, "(\"application\" \"octet-stream\" NIL NIL NIL \"7bit\" 4)");
    free(bs);
    bs = mime_envelope(m);
    assert_string_equal(bs, "(NIL NIL NIL NIL NIL NIL NIL NIL NIL NIL)");
    free(bs);
    mime_free(&m);

    /* empty and garbage input still parse */
    m = mime_parse("", 0, NULL);
    assert_non_null(m);
    bs = mime_bodystructure(m, true);
    assert_string_equal(bs, "(\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 0 0 "
                            "NIL NIL NIL NIL)");
    free(bs);
    bs = mime_envelope(m);
    assert_string_equal(bs, "(NIL NIL NIL NIL NIL NIL NIL NIL NIL NIL)");
    free(bs);
    mime_free(&m);

    /* a multipart without any delimiter: one empty part is shown */
    const char *nodelim = "Content-Type: multipart/mixed; boundary=q\r\n\r\nno parts\r\n";
    m = mime_parse(nodelim, strlen(nodelim), NULL);
    bs = mime_bodystructure(m, false);
    assert_string_equal(bs, "((\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 0 0)"
                            " \"mixed\")");
    free(bs);
    mime_free(&m);
}

typedef struct inline_row {
    const char *msg;
    const char *body; /* BODY (non-extended) */
    const char *envelope;
} inline_row;

static const inline_row inline_rows[] = {
    /* a malformed line inside the header is skipped, the header goes on */
    {"Subject: a\r\ngarbage line\r\nContent-Type: text/html\r\n\r\nbody",
     "(\"text\" \"html\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 4 0)",
     "(NIL \"a\" NIL NIL NIL NIL NIL NIL NIL NIL)"},
    /* a top-level message/rfc822 */
    {"Content-Type: message/rfc822\r\n\r\nSubject: inner\r\n\r\nhi\r\n",
     "(\"message\" \"rfc822\" NIL NIL NIL \"7bit\" 22 (NIL \"inner\" NIL NIL NIL NIL NIL NIL NIL "
     "NIL)"
     " (\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 4 1) 3)",
     NULL},
    /* RFC 2046 5.1.5: parts of a digest default to message/rfc822 */
    {"Content-Type: multipart/digest; boundary=d\r\n\r\n--d\r\n\r\nSubject: "
     "one\r\n\r\nx\r\n--d--\r\n",
     "((\"message\" \"rfc822\" NIL NIL NIL \"7bit\" 17 (NIL \"one\" NIL NIL NIL NIL NIL NIL NIL "
     "NIL)"
     " (\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 1 0) 2) \"digest\")",
     NULL},
    /* a base64 message/rfc822 is not parsed: opaque */
    {"Content-Type: message/rfc822\r\nContent-Transfer-Encoding: "
     "base64\r\n\r\nU3ViamVjdDogeA==\r\n",
     "(\"application\" \"octet-stream\" NIL NIL NIL \"base64\" 18)", NULL},
    /* quoting: '"' and '\' escaped; obsolete WSP before the colon; no
     * Sender/Reply-To = From; empty Reply-To = From */
    {"Subject : say \"hi\" \\o/\r\nFrom: a@b\r\nReply-To:\r\nMessage-ID:  <x@y> \r\nDate:\r\n\r\n",
     "(\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 0 0)",
     "(\"\" \"say \\\"hi\\\" \\\\o/\" ((NIL NIL \"a\" \"b\")) ((NIL NIL \"a\" \"b\")) "
     "((NIL NIL \"a\" \"b\")) NIL NIL NIL NIL \"<x@y>\")"},
    /* RFC 2231 3-4: sections sorted and joined; the RFC's own example
     * mixing extended and plain segments; a gap keeps the segments apart */
    {"Content-Type: application/x-stuff; name*1=\"b\"; name*0=a;\r\n"
     " title*0*=us-ascii'en'This%20is%20even%20more%20; title*1*=%2A%2A%2Afun%2A%2A%2A%20;\r\n"
     " title*2=\"isn't it!\"; gap*0=x; gap*2=z; Plain=1\r\n\r\n",
     "(\"application\" \"x-stuff\" (\"Plain\" \"1\" \"gap*0\" \"x\" \"gap*2\" \"z\" \"name\" "
     "\"ab\" "
     "\"title*\" \"us-ascii'en'This%20is%20even%20more%20%2A%2A%2Afun%2A%2A%2A%20isn't it!\") "
     "NIL NIL \"7bit\" 0)",
     NULL},
    /* missing domain, display name only, domain literal, empty address */
    {"To: joe, John Doe, x@[192.0.2.1], <>, \"q\\\"uote\" <q@z>\r\n\r\n", NULL,
     "(NIL NIL NIL NIL NIL ((NIL NIL \"joe\" \"MISSING_DOMAIN\")"
     "(\"John Doe\" NIL \"MISSING_MAILBOX\" \"MISSING_DOMAIN\")"
     "(NIL NIL \"x\" \"[192.0.2.1]\")(\"q\\\"uote\" NIL \"q\" \"z\")) NIL NIL NIL NIL)"},
};

static void test_inline(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(inline_rows) / sizeof(inline_rows[0]); i++) {
        const inline_row *r = &inline_rows[i];
        mime_message *m = mime_parse(r->msg, strlen(r->msg), NULL);
        assert_non_null(m);
        char *b = mime_bodystructure(m, false), *e = mime_envelope(m);
        if (r->body != NULL && strcmp(b, r->body) != 0)
            fail_msg("row %zu BODY\n got: %s\nwant: %s", i, b, r->body);
        if (r->envelope != NULL && strcmp(e, r->envelope) != 0)
            fail_msg("row %zu ENVELOPE\n got: %s\nwant: %s", i, e, r->envelope);
        free(b);
        free(e);
        mime_free(&m);
    }
    /* decoded parameter values */
    const char *ps = inline_rows[5].msg;
    mime_message *pm = mime_parse(ps, strlen(ps), NULL);
    assert_string_equal(mime_part_param(mime_root(pm), "TITLE"),
                        "This is even more ***fun*** isn't it!");
    assert_string_equal(mime_part_param(mime_root(pm), "name"), "ab");
    assert_string_equal(mime_part_param(mime_root(pm), "plain"), "1");
    assert_null(mime_part_param(mime_root(pm), "gap"));
    mime_free(&pm);
    /* sections of a top-level message/rfc822 */
    const char *msg = inline_rows[1].msg;
    mime_message *m = mime_parse(msg, strlen(msg), NULL);
    const mime_part *root = mime_root(m), *inner = mime_part_message(root);
    assert_non_null(inner);
    assert_string_equal(inner->section, "1");
    assert_ptr_equal(mime_section(m, "1"), root);
    assert_ptr_equal(mime_section(m, "1.1"), inner);
    assert_null(mime_section(m, "1.2"));
    mime_free(&m);
}

static const char *const subject_rows[][2] = {
    {"hello", "hello"},
    {"Re: hello", "hello"},
    {"RE:hello", "hello"},
    {"Re: Re: re: hello", "hello"},
    {"Fwd: hello", "hello"},
    {"FW: hello", "hello"},
    {"Re[2]: hello", "hello"},
    {"Re [2]: hello", "hello"},
    {"[list] Re: hello", "hello"},
    {"Re: [list] hello", "hello"},
    {"[list]", "[list]"}, /* a blob alone stays */
    {"hello (fwd)", "hello"},
    {"hello (FWD) (fwd)  ", "hello"},
    {"[Fwd: hello]", "hello"},
    {"Re: [fwd: Re: hello (fwd)]", "hello"},
    {"  hello \t  world  ", "hello world"},
    {"Re:", ""},
    {"", ""},
    {"Reply: hello", "Reply: hello"},
    {"Café: Re: crème", "Café: Re: crème"},
};

static void test_subject_base(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(subject_rows) / sizeof(subject_rows[0]); i++) {
        char *b = mime_subject_base(subject_rows[i][0]);
        assert_non_null(b);
        if (strcmp(b, subject_rows[i][1]) != 0)
            fail_msg("\"%s\": got \"%s\", want \"%s\"", subject_rows[i][0], b, subject_rows[i][1]);
        free(b);
    }
}

/* mime_address_each: every mailbox of a list, groups included. */
typedef struct {
    char got[512];
    int stop_after;
    int n;
} each_ctx;

static int each_collect(void *arg, const char *mailbox, const char *host)
{
    each_ctx *c = arg;
    size_t len = strlen(c->got);
    snprintf(c->got + len, sizeof c->got - len, "%s%s@%s", len ? "|" : "",
             mailbox != NULL ? mailbox : "(none)", host != NULL ? host : "(none)");
    return ++c->n == c->stop_after;
}

static void test_address_each(void **state)
{
    (void)state;
    static const struct {
        const char *value, *want;
    } rows[] = {
        {"a@b.example", "a@b.example"},
        {"\"Ann, Smith\" <ann@x.example>, bob@y.example", "ann@x.example|bob@y.example"},
        {"team: c@d.example, e@f.example;, g@h.example", "c@d.example|e@f.example|g@h.example"},
        {"=?utf-8?q?J=C3=B6rg?= <j@z.example> (comment)", "j@z.example"},
        {"\"quoted local\"@q.example", "quoted local@q.example"},
        {"undisclosed-recipients:;", ""},
        {"nobody", "nobody@(none)"},
        {"", ""},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        each_ctx c = {.stop_after = -1};
        assert_int_equal(mime_address_each(rows[i].value, strlen(rows[i].value), each_collect, &c),
                         0);
        assert_string_equal(c.got, rows[i].want);
    }
    each_ctx c = {.stop_after = 1}; /* the callback stops it: -1 */
    assert_int_equal(mime_address_each("a@b, c@d", 8, each_collect, &c), -1);
    assert_int_equal(c.n, 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_eml_table),  cmocka_unit_test(test_sections),
        cmocka_unit_test(test_header_get), cmocka_unit_test(test_index_text),
        cmocka_unit_test(test_decoders),   cmocka_unit_test(test_limits),
        cmocka_unit_test(test_inline),     cmocka_unit_test(test_subject_base),
        cmocka_unit_test(test_address_each),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
