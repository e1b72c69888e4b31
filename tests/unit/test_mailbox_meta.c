#define _GNU_SOURCE /* memmem, timegm */
/* Unit tests for lib/mailbox/meta.c: CRLF normalization, RFC 5322 dates and the
 * metadata built from a message with lib/mime. */
#include "mailbox.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ---- Metadata -------------------------------------------------------------------- */

static void test_crlf(void **state)
{
    (void)state;
    static const struct {
        const char *in, *out;
    } cases[] = {
        {"", ""},
        {"a\nb\n", "a\r\nb\r\n"},
        {"a\r\nb\r\n", "a\r\nb\r\n"},
        {"\n\n", "\r\n\r\n"},
        {"a\rb\n", "a\rb\r\n"},
        {"a\r\n\nb", "a\r\n\r\nb"},
        {"no newline", "no newline"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        buf b;
        buf_init(&b, 1024);
        assert_int_equal(mailbox_normalize_crlf(cases[i].in, strlen(cases[i].in), &b), 0);
        assert_int_equal(b.len, strlen(cases[i].out));
        assert_memory_equal(b.data, cases[i].out, b.len);
        buf_free(&b);
    }
    buf b;
    buf_init(&b, 4);
    assert_int_equal(mailbox_normalize_crlf("a\nb\n", 4, &b), -1); /* 6 bytes > cap 4 */
    buf_free(&b);
}

static void test_parse_date(void **state)
{
    (void)state;
    static const struct {
        const char *in;
        int64_t want;
    } cases[] = {
        {"Wed, 25 Nov 2026 16:00:00 +0100", 1795618800},
        {"25 Nov 2026 15:00:00 +0000", 1795618800},
        {"Wed, 25 Nov 2026 10:00:00 -0500", 1795618800},
        {"Wed, 25 Nov 2026 10:00:00 EST", 1795618800},
        {"Wed , 25 Nov 26 15:00 GMT", 1795618800},
        {"Wed, 25 Nov 2026 15:00:00 (UTC) +0000 (comment (nested))", 1795618800},
        {"Thu, 1 Jan 1970 00:00:01 +0000", 1},
        {"Mon, 29 Feb 2016 12:00:00 +0000", 1456747200},
        {"1 Jan 99 00:00:00 +0000", 915148800},
        {"Tue, 30 Feb 2016 12:00:00 +0000", 0},
        {"Wed, 25 Nov 2026 25:00:00 +0000", 0},
        {"yesterday", 0},
        {"", 0},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        int64_t got = mailbox_parse_date(cases[i].in, strlen(cases[i].in));
        if (got != cases[i].want)
            fail_msg("%s: got %lld, want %lld", cases[i].in, (long long)got,
                     (long long)cases[i].want);
    }
}

static void test_meta(void **state)
{
    (void)state;
    static const char msg[] = "From: =?UTF-8?Q?J=C3=B6rg?= <jorg@example.org>\r\n"
                              "To: a@example.net, b@example.net\r\n"
                              "Cc: c@example.net\r\n"
                              "Subject: =?UTF-8?B?SMOpbGxv?= world\r\n"
                              "Date: Wed, 25 Nov 2026 16:00:00 +0100\r\n"
                              "Message-ID: <abc@example.org>\r\n"
                              "In-Reply-To: <parent@example.org>\r\n"
                              "References: <root@example.org>\r\n <parent@example.org>\r\n"
                              "MIME-Version: 1.0\r\n"
                              "Content-Type: multipart/alternative; boundary=\"XX\"\r\n"
                              "\r\n"
                              "--XX\r\n"
                              "Content-Type: text/plain; charset=iso-8859-1\r\n"
                              "Content-Transfer-Encoding: quoted-printable\r\n"
                              "\r\n"
                              "Gr=FC=DFe,\r\n\r\n   the   plan  is\r\nready.\r\n"
                              "--XX\r\n"
                              "Content-Type: text/html\r\n"
                              "\r\n"
                              "<p>Html version</p>\r\n"
                              "--XX--\r\n";
    store_msg_meta meta;
    assert_int_equal(mailbox_meta_from_mime(msg, sizeof(msg) - 1, &meta), MAILBOX_OK);
    const store_msg_meta *s = &meta;
    assert_non_null(strstr(s->envelope, "\"Wed, 25 Nov 2026 16:00:00 +0100\""));
    assert_non_null(strstr(s->envelope, "\"=?UTF-8?B?SMOpbGxv?= world\""));
    assert_non_null(strstr(s->envelope, "\"<parent@example.org>\" \"<abc@example.org>\")"));
    assert_non_null(strstr(s->bodystructure, "\"alternative\")"));
    assert_non_null(strstr(s->bodystructure_ext, "(\"boundary\" \"XX\")"));
    assert_string_equal(s->subject, "H\xc3\xa9llo world");
    assert_non_null(strstr(s->from, "J\xc3\xb6rg"));
    assert_string_equal(s->to, "a@example.net, b@example.net");
    assert_string_equal(s->cc, "c@example.net");
    assert_string_equal(s->message_id, "<abc@example.org>");
    assert_string_equal(s->in_reply_to, "<parent@example.org>");
    assert_non_null(strstr(s->references, "<root@example.org>"));
    assert_non_null(strstr(s->references, "<parent@example.org>"));
    assert_int_equal(s->sent_date, 1795618800);
    assert_string_equal(s->preview, "Gr\xc3\xbc\xc3\x9f"
                                    "e, the plan is ready.");
    assert_non_null(strstr(meta.index_text, "H\xc3\xa9llo world"));
    assert_non_null(strstr(meta.index_text, "the   plan"));
    mailbox_meta_free(&meta);
    assert_null(meta.envelope);
    mailbox_meta_free(&meta); /* twice is fine */

    /* HTML only: tags, head and entities */
    static const char html[] =
        "Subject: h\r\nContent-Type: text/html; charset=utf-8\r\n\r\n"
        "<html><head><title>T</title><style>p{x:1}</style></head>"
        "<body><!-- hidden --><p>Fish &amp; chips&nbsp;&#8364;5</p><script>x()</script>"
        "<div>end</div></body></html>\r\n";
    assert_int_equal(mailbox_meta_from_mime(html, sizeof(html) - 1, &meta), MAILBOX_OK);
    assert_string_equal(meta.preview, "Fish & chips \xe2\x82\xac"
                                      "5 end");
    mailbox_meta_free(&meta);

    /* attachments only, and a long text cut at 200 characters */
    static const char att[] =
        "Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n"
        "Content-Type: text/plain\r\nContent-Disposition: attachment; filename=a.txt\r\n\r\n"
        "not a preview\r\n--b--\r\n";
    assert_int_equal(mailbox_meta_from_mime(att, sizeof(att) - 1, &meta), MAILBOX_OK);
    assert_string_equal(meta.preview, "");
    assert_null(meta.subject);
    assert_int_equal(meta.sent_date, 0);
    mailbox_meta_free(&meta);

    buf b;
    buf_init(&b, 1 << 16);
    buf_append_str(&b, "Content-Type: text/plain; charset=utf-8\r\n\r\n");
    for (int i = 0; i < 300; i++)
        buf_append_str(&b, "\xc3\xa9");
    assert_int_equal(mailbox_meta_from_mime(b.data, b.len, &meta), MAILBOX_OK);
    assert_int_equal(strlen(meta.preview), 2 * MAILBOX_PREVIEW_CHARS);
    mailbox_meta_free(&meta);
    buf_free(&b);

    /* garbage still gets metadata */
    static const char junk[] = "\x01\x02 not a message\n\n\n--";
    assert_int_equal(mailbox_meta_from_mime(junk, sizeof(junk) - 1, &meta), MAILBOX_OK);
    assert_non_null(meta.envelope);
    assert_non_null(meta.bodystructure);
    mailbox_meta_free(&meta);
    assert_int_equal(mailbox_meta_from_mime("", 0, &meta), MAILBOX_OK);
    mailbox_meta_free(&meta);
}

/* The SORT keys (RFC 5256 3, RFC 5957 2) of header fields. */
static void test_sort_keys(void **state)
{
    (void)state;
    static const struct {
        const char *msg;
        const char *subject, *from, *to, *cc, *dfrom, *dto;
    } cases[] = {
        {"From: \"Carol Z\" <carol@x.org>\r\nTo: bob@y.org, amy@z\r\n"
         "Cc: undisclosed-recipients:;\r\nSubject: Re: [list] Fwd: Hello (fwd)\r\n\r\nbody",
         "Hello", "carol", "bob", "undisclosed-recipients", "Carol Z", "bob@y.org"},
        /* the display-name decoded; an address without one shows its addr-spec */
        {"From: =?UTF-8?Q?Andr=C3=A9?= <andre@x>\r\nTo: <only@x>\r\n\r\n", "", "andre", "only", "",
         "Andr\xc3\xa9", "only@x"},
        {"\r\nbody", "", "", "", "", "", ""},
        /* a group: its name; an obsolete route; a comment as the name */
        {"To: Friends: a@x, b@y;\r\nFrom: bob@x (Bob B)\r\nCc: <@route:c@z>\r\n"
         "Subject: =?ISO-8859-1?Q?Re=3A_caf=E9?=\r\n\r\n",
         "caf\xc3\xa9", "bob", "Friends", "c", "Bob B", "Friends"},
        /* a name alone, a local part alone */
        {"From: Alice Smith\r\nTo: alice\r\n\r\n", "", "", "alice", "", "Alice Smith", "alice"},
        /* the first address counts */
        {"From: z@x, a@x\r\nTo: \"B\" <b@x>, \"A\" <a@x>\r\n\r\n", "", "z", "b", "", "z@x", "B"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        store_msg_meta m;
        assert_int_equal(mailbox_meta_from_mime(cases[i].msg, strlen(cases[i].msg), &m),
                         MAILBOX_OK);
        const char *got[] = {m.sort_subject, m.sort_from,    m.sort_to,
                             m.sort_cc,      m.display_from, m.display_to};
        const char *want[] = {cases[i].subject, cases[i].from,  cases[i].to,
                              cases[i].cc,      cases[i].dfrom, cases[i].dto};
        for (size_t k = 0; k < 6; k++) {
            assert_non_null(got[k]);
            if (strcmp(got[k], want[k]) != 0)
                fail_msg("case %zu key %zu: got \"%s\", want \"%s\"", i, k, got[k], want[k]);
        }
        mailbox_meta_free(&m);
        assert_null(m.display_to);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_crlf),
        cmocka_unit_test(test_parse_date),
        cmocka_unit_test(test_meta),
        cmocka_unit_test(test_sort_keys),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
