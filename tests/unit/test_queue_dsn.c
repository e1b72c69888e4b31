/* Table tests of the DSN builder (lib/queue/dsn.c, RFC 3464 / RFC 3461):
 * which recipients are reported (NOTIFY), what is returned (RET), the null
 * sender, ORCPT and ENVID, status classes, SMTPUTF8 types, bad input; the
 * success actions "delivered" and "relayed", alone and mixed with
 * failures. */
#include "queue_dsn.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NOW 1767225600 /* Thu, 01 Jan 2026 00:00:00 +0000 */
#define BOUNDARY "=_b_1234"
#define BODY_MARK "BODY-LINE-e3f1"

static const char message[] = "From: alice@local.test\r\nTo: bob@remote.test\r\n"
                              "Subject: hello\r\n\r\n" BODY_MARK "\r\n";

typedef struct dsn_case {
    const char *name;
    const char *from;
    smtp_ret ret;
    bool smtputf8;
    unsigned notify[2];   /* per recipient */
    const char *orcpt[2]; /* "rfc822;x" or NULL */
    const char *envid;
    int expect_rc;
    const char *must[6];     /* substrings that must be there */
    const char *must_not[4]; /* and must not */
    /* Per recipient: 'F' failed, 'R' delivered to a server without DSN
     * (relayed), 'D' delivered into a mailbox here; NULL = "FF". With a
     * 'D' both recipients are named in report[], as the SMTP worker does
     * (a local delivery does not owe a DSN by the state alone). */
    const char *outcome;
} dsn_case;

static const dsn_case cases[] = {
    {"default notify, full return",
     "alice@local.test",
     SMTP_RET_NONE,
     false,
     {0, 0},
     {NULL, NULL},
     NULL,
     1,
     {"Content-Type: multipart/report; report-type=delivery-status;",
      "Final-Recipient: rfc822; bob@remote.test", "Final-Recipient: rfc822; carol@remote.test",
      "Content-Type: message/rfc822", BODY_MARK, "To: <alice@local.test>"},
     {"Original-Recipient", "Original-Envelope-Id", "text/rfc822-headers", NULL},
     "FF"},
    {"NOTIFY=NEVER for both: no DSN",
     "alice@local.test",
     SMTP_RET_NONE,
     false,
     {SMTP_NOTIFY_NEVER, SMTP_NOTIFY_NEVER},
     {NULL, NULL},
     NULL,
     0,
     {NULL},
     {NULL},
     "FF"},
    {"NOTIFY=SUCCESS,DELAY: no failure DSN",
     "alice@local.test",
     SMTP_RET_NONE,
     false,
     {SMTP_NOTIFY_SUCCESS | SMTP_NOTIFY_DELAY, SMTP_NOTIFY_SUCCESS},
     {NULL, NULL},
     NULL,
     0,
     {NULL},
     {NULL},
     "FF"},
    {"one NEVER, one FAILURE: only the second",
     "alice@local.test",
     SMTP_RET_FULL,
     false,
     {SMTP_NOTIFY_NEVER, SMTP_NOTIFY_FAILURE | SMTP_NOTIFY_DELAY},
     {NULL, NULL},
     NULL,
     1,
     {"Final-Recipient: rfc822; carol@remote.test", BODY_MARK, NULL},
     {"bob@remote.test>:", "Final-Recipient: rfc822; bob@remote.test", NULL},
     "FF"},
    {"RET=HDRS: headers only",
     "alice@local.test",
     SMTP_RET_HDRS,
     false,
     {0, 0},
     {NULL, NULL},
     NULL,
     1,
     {"Content-Type: text/rfc822-headers", "Subject: hello", NULL},
     {BODY_MARK, "message/rfc822", NULL},
     "FF"},
    {"null sender: never a DSN",
     "",
     SMTP_RET_NONE,
     false,
     {0, SMTP_NOTIFY_FAILURE},
     {NULL, NULL},
     NULL,
     0,
     {NULL},
     {NULL},
     "FF"},
    {"ORCPT and ENVID",
     "alice@local.test",
     SMTP_RET_NONE,
     false,
     {0, 0},
     {"rfc822;orig+tag@remote.test", NULL},
     "env id=1",
     1,
     {"Original-Recipient: rfc822;orig+2Btag@remote.test", "Original-Envelope-Id: env+20id+3D1",
      NULL},
     {NULL},
     "FF"},
    {"SMTPUTF8: RFC 6533 types",
     "alice@local.test",
     SMTP_RET_NONE,
     true,
     {0, 0},
     {NULL, NULL},
     NULL,
     1,
     {"report-type=global-delivery-status", "Content-Type: message/global-delivery-status",
      "Content-Type: message/global\r\n", NULL},
     {"message/rfc822", NULL},
     "FF"},
    {"relayed: a success DSN, headers only although RET=FULL (RFC 3461 4.3)",
     "alice@local.test",
     SMTP_RET_FULL,
     false,
     {SMTP_NOTIFY_SUCCESS, SMTP_NOTIFY_SUCCESS | SMTP_NOTIFY_FAILURE},
     {NULL, NULL},
     NULL,
     1,
     {"Subject: Delivery Status Notification (Success)\r\n",
      "Final-Recipient: rfc822; carol@remote.test\r\nAction: relayed\r\nStatus: 2.0.0\r\n",
      "Content-Description: Message headers\r\nContent-Type: text/rfc822-headers", "Subject: hello",
      "does not send\r\ndelivery notifications", NULL},
     {BODY_MARK, "message/rfc822", "Action: failed", "Undelivered"},
     "RR"},
    {"delivered here: Action delivered, no Remote-MTA",
     "alice@local.test",
     SMTP_RET_NONE,
     false,
     {SMTP_NOTIFY_SUCCESS, SMTP_NOTIFY_SUCCESS | SMTP_NOTIFY_DELAY},
     {"rfc822;bob@remote.test", NULL},
     "E1",
     1,
     {"Original-Recipient: rfc822;bob@remote.test\r\nFinal-Recipient: rfc822; "
      "bob@remote.test\r\nAction: delivered\r\nStatus: 2.0.0\r\n",
      "Your message was delivered to the mailbox of:\r\n\r\n<bob@remote.test>\r\n",
      "Original-Envelope-Id: E1", "Content-Type: text/rfc822-headers",
      "Subject: Delivery Status Notification (Success)", NULL},
     {"Remote-MTA", "Diagnostic-Code", BODY_MARK, "relayed"},
     "DD"},
    {"mixed: one failed, one relayed, in one failure DSN that follows RET",
     "alice@local.test",
     SMTP_RET_NONE,
     false,
     {0, SMTP_NOTIFY_SUCCESS},
     {NULL, NULL},
     NULL,
     1,
     {"Final-Recipient: rfc822; bob@remote.test\r\nAction: failed\r\nStatus: 5.1.1",
      "Final-Recipient: rfc822; carol@remote.test\r\nAction: relayed\r\nStatus: 2.0.0",
      "Subject: Undelivered Mail Returned to Sender", "Content-Type: message/rfc822", BODY_MARK,
      "<carol@remote.test>: host mx.remote.test said: 250 2.0.0 ok\r\n"},
     {"text/rfc822-headers", "(Success)", NULL},
     "FR"},
    {"mixed: delivered and relayed, only the recipient asking for SUCCESS",
     "alice@local.test",
     SMTP_RET_NONE,
     false,
     {SMTP_NOTIFY_SUCCESS, SMTP_NOTIFY_FAILURE},
     {NULL, NULL},
     NULL,
     1,
     {"Final-Recipient: rfc822; bob@remote.test\r\nAction: delivered", "(Success)", NULL},
     {"carol@remote.test", "Action: relayed", NULL},
     "DR"},
    {"NOTIFY without SUCCESS: no success DSN",
     "alice@local.test",
     SMTP_RET_NONE,
     false,
     {SMTP_NOTIFY_FAILURE, SMTP_NOTIFY_FAILURE | SMTP_NOTIFY_DELAY},
     {NULL, NULL},
     NULL,
     0,
     {NULL},
     {NULL},
     "RR"},
    {"NOTIFY absent or NEVER: no success DSN (RFC 3461 4.1)",
     "alice@local.test",
     SMTP_RET_NONE,
     false,
     {0, SMTP_NOTIFY_NEVER},
     {NULL, NULL},
     NULL,
     0,
     {NULL},
     {NULL},
     "DD"},
    {"null sender: no success DSN either",
     "",
     SMTP_RET_NONE,
     false,
     {SMTP_NOTIFY_SUCCESS, SMTP_NOTIFY_SUCCESS},
     {NULL, NULL},
     NULL,
     0,
     {NULL},
     {NULL},
     "DR"},
    {"relayed, SMTPUTF8: global headers",
     "alice@local.test",
     SMTP_RET_FULL,
     true,
     {SMTP_NOTIFY_SUCCESS, SMTP_NOTIFY_SUCCESS},
     {NULL, NULL},
     NULL,
     1,
     {"report-type=global-delivery-status", "Content-Type: message/global-headers", NULL},
     {"message/global\r\n", BODY_MARK, NULL},
     "RR"},
};

static queue_entry make_entry(const dsn_case *c, queue_rcpt rcpts[2])
{
    queue_entry e;
    memset(&e, 0, sizeof(e));
    memset(rcpts, 0, 2 * sizeof(*rcpts));
    snprintf(e.id, sizeof(e.id), "0123456789abcdef0123456789abcdef");
    snprintf(e.env.from, sizeof(e.env.from), "%s", c->from);
    snprintf(e.env.envid, sizeof(e.env.envid), "%s", c->envid != NULL ? c->envid : "");
    e.env.ret = c->ret;
    e.env.smtputf8 = c->smtputf8;
    e.env.queued_at = NOW - 3600;
    snprintf(rcpts[0].addr, sizeof(rcpts[0].addr), "bob@remote.test");
    snprintf(rcpts[1].addr, sizeof(rcpts[1].addr), "carol@remote.test");
    for (int i = 0; i < 2; i++) {
        rcpts[i].notify = c->notify[i];
        if (c->orcpt[i] != NULL) {
            const char *semi = strchr(c->orcpt[i], ';');
            snprintf(rcpts[i].orcpt_type, sizeof(rcpts[i].orcpt_type), "%.*s",
                     (int)(semi - c->orcpt[i]), c->orcpt[i]);
            snprintf(rcpts[i].orcpt, sizeof(rcpts[i].orcpt), "%s", semi + 1);
        }
    }
    e.env.rcpts = rcpts;
    e.env.nrcpt = 2;
    e.msg = (unsigned char *)message;
    e.msg_len = sizeof(message) - 1;
    return e;
}

/* Both recipients failed with a 550, or as outcome says (dsn_case). */
static void make_state_of(queue_state *st, queue_rcpt_state rs[2], const char *outcome)
{
    memset(rs, 0, 2 * sizeof(*rs));
    for (int i = 0; i < 2; i++) {
        char o = outcome != NULL ? outcome[i] : 'F';
        rs[i].last_attempt = NOW - 60;
        if (o == 'F') {
            rs[i].status = QUEUE_RCPT_FAILED;
            rs[i].code = 550;
            rs[i].enhanced = (smtp_enhanced){5, 1, 1};
            snprintf(rs[i].reply, sizeof(rs[i].reply), "550 5.1.1 no such user");
            snprintf(rs[i].remote_mta, sizeof(rs[i].remote_mta), "mx.remote.test");
        } else if (o == 'R') {
            rs[i].status = QUEUE_RCPT_DELIVERED;
            rs[i].relayed = true;
            rs[i].code = 250;
            rs[i].enhanced = (smtp_enhanced){2, 0, 0};
            snprintf(rs[i].reply, sizeof(rs[i].reply), "250 2.0.0 ok");
            snprintf(rs[i].remote_mta, sizeof(rs[i].remote_mta), "mx.remote.test");
        } else { /* 'D': into a mailbox here, as the SMTP worker reports it */
            rs[i].status = QUEUE_RCPT_DELIVERED;
            rs[i].enhanced = (smtp_enhanced){2, 0, 0};
        }
    }
    st->generation = 1;
    st->nrcpt = 2;
    st->rcpts = rs;
}

static void make_state(queue_state *st, queue_rcpt_state rs[2])
{
    make_state_of(st, rs, NULL);
}

static void test_table(void **state)
{
    (void)state;
    for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
        const dsn_case *c = &cases[k];
        queue_rcpt rcpts[2];
        queue_rcpt_state rs[2];
        queue_state st;
        queue_entry e = make_entry(c, rcpts);
        make_state_of(&st, rs, c->outcome);
        static const bool both[2] = {true, true};
        bool here = c->outcome != NULL && strchr(c->outcome, 'D') != NULL;
        queue_dsn_input in = {"mail.local.test", BOUNDARY, NOW, &e, &st, here ? both : NULL};
        buf out;
        buf_init(&out, QUEUE_DSN_MAX);
        const char *why = NULL;
        int rc = queue_dsn_build(&in, &out, &why);
        if (rc != c->expect_rc)
            fail_msg("case \"%s\": rc %d, expected %d", c->name, rc, c->expect_rc);
        for (int i = 0; i < 6 && c->must[i] != NULL; i++)
            if (out.data == NULL || strstr(out.data, c->must[i]) == NULL)
                fail_msg("case \"%s\": \"%s\" missing from:\n%s", c->name, c->must[i],
                         out.data != NULL ? out.data : "");
        for (int i = 0; i < 4 && c->must_not[i] != NULL; i++)
            if (out.data != NULL && strstr(out.data, c->must_not[i]) != NULL)
                fail_msg("case \"%s\": \"%s\" present", c->name, c->must_not[i]);
        if (rc == 0)
            assert_int_equal(out.len, 0);
        buf_free(&out);
    }
}

static void test_fields(void **state)
{
    (void)state;
    queue_rcpt rcpts[2];
    queue_rcpt_state rs[2];
    queue_state st;
    queue_entry e = make_entry(&cases[0], rcpts);
    make_state(&st, rs);
    /* The second recipient expired after a temporary failure without a
     * reply: class 4 becomes 5 (Action: failed), a local diagnostic. */
    rs[1].code = 0;
    rs[1].enhanced = (smtp_enhanced){4, 4, 7};
    snprintf(rs[1].reply, sizeof(rs[1].reply), "connect to [192.0.2.1]:25 failed");
    rs[1].remote_mta[0] = '\0';
    queue_dsn_input in = {"mail.local.test", BOUNDARY, NOW, &e, &st, NULL};
    buf out;
    buf_init(&out, QUEUE_DSN_MAX);
    const char *why = NULL;
    assert_int_equal(queue_dsn_build(&in, &out, &why), 1);
    static const char *const must[] = {
        "From: Mail Delivery System <MAILER-DAEMON@mail.local.test>\r\n",
        "Date: Thu, 01 Jan 2026 00:00:00 +0000\r\n",
        "Auto-Submitted: auto-replied\r\n",
        "boundary=\"" BOUNDARY "\"\r\n",
        "--" BOUNDARY "\r\nContent-Description: Notification\r\n",
        "Reporting-MTA: dns; mail.local.test\r\n",
        "Arrival-Date: Wed, 31 Dec 2025 23:00:00 +0000\r\n",
        "Final-Recipient: rfc822; bob@remote.test\r\nAction: failed\r\nStatus: 5.1.1\r\n"
        "Remote-MTA: dns; mx.remote.test\r\nDiagnostic-Code: smtp; 550 5.1.1 no such user\r\n"
        "Last-Attempt-Date: Wed, 31 Dec 2025 23:59:00 +0000\r\n",
        "Final-Recipient: rfc822; carol@remote.test\r\nAction: failed\r\nStatus: 5.4.7\r\n"
        "Diagnostic-Code: X-ownmail; connect to [192.0.2.1]:25 failed\r\n",
        "<bob@remote.test>: host mx.remote.test said: 550 5.1.1 no such user\r\n",
        "\r\n--" BOUNDARY "--\r\n",
    };
    for (size_t i = 0; i < sizeof(must) / sizeof(must[0]); i++)
        if (strstr(out.data, must[i]) == NULL)
            fail_msg("\"%s\" missing from:\n%s", must[i], out.data);
    /* Pure: the same input gives the same bytes. */
    buf again;
    buf_init(&again, QUEUE_DSN_MAX);
    assert_int_equal(queue_dsn_build(&in, &again, &why), 1);
    assert_int_equal(again.len, out.len);
    assert_memory_equal(again.data, out.data, out.len);
    buf_free(&again);
    buf_free(&out);

    /* An explicit selection; already reported recipients are skipped by default. */
    bool pick[2] = {false, true};
    in.report = pick;
    buf_init(&out, QUEUE_DSN_MAX);
    assert_int_equal(queue_dsn_build(&in, &out, &why), 1);
    assert_null(strstr(out.data, "Final-Recipient: rfc822; bob@"));
    buf_free(&out);
    in.report = NULL;
    rs[0].reported = rs[1].reported = true;
    buf_init(&out, QUEUE_DSN_MAX);
    assert_int_equal(queue_dsn_build(&in, &out, &why), 0);
    buf_free(&out);
}

/* A relayed recipient's block field by field; which success outcomes a
 * DSN is owed for (queue_rcpt_dsn_due) when no selection is given. */
static void test_success_fields(void **state)
{
    (void)state;
    static const dsn_case c = {.from = "alice@local.test",
                               .notify = {SMTP_NOTIFY_SUCCESS, SMTP_NOTIFY_SUCCESS}};
    queue_rcpt rcpts[2];
    queue_rcpt_state rs[2];
    queue_state st;
    queue_entry e = make_entry(&c, rcpts);
    make_state_of(&st, rs, "RR");
    rs[1].enhanced = (smtp_enhanced){2, 6, 0}; /* the remote's own code is kept */
    snprintf(rs[1].reply, sizeof(rs[1].reply), "250 2.6.0 queued as X1");
    queue_dsn_input in = {"mail.local.test", BOUNDARY, NOW, &e, &st, NULL};
    buf out;
    buf_init(&out, QUEUE_DSN_MAX);
    const char *why = NULL;
    assert_int_equal(queue_dsn_build(&in, &out, &why), 1);
    static const char *const must[] = {
        "Final-Recipient: rfc822; bob@remote.test\r\nAction: relayed\r\nStatus: 2.0.0\r\n"
        "Remote-MTA: dns; mx.remote.test\r\nDiagnostic-Code: smtp; 250 2.0.0 ok\r\n"
        "Last-Attempt-Date: Wed, 31 Dec 2025 23:59:00 +0000\r\n",
        "Final-Recipient: rfc822; carol@remote.test\r\nAction: relayed\r\nStatus: 2.6.0\r\n",
        "<carol@remote.test>: host mx.remote.test said: 250 2.6.0 queued as X1\r\n",
        "Content-Description: Message headers\r\nContent-Type: text/rfc822-headers\r\n\r\n"
        "From: alice@local.test\r\nTo: bob@remote.test\r\nSubject: hello\r\n\r\n\r\n--" BOUNDARY
        "--\r\n",
    };
    for (size_t i = 0; i < sizeof(must) / sizeof(must[0]); i++)
        if (strstr(out.data, must[i]) == NULL)
            fail_msg("\"%s\" missing from:\n%s", must[i], out.data);
    buf_free(&out);

    /* A success code of another class never leaks into a success block. */
    rs[1].enhanced = (smtp_enhanced){4, 0, 0};
    buf_init(&out, QUEUE_DSN_MAX);
    assert_int_equal(queue_dsn_build(&in, &out, &why), 1);
    assert_non_null(strstr(out.data, "carol@remote.test\r\nAction: relayed\r\nStatus: 2.0.0"));
    buf_free(&out);

    /* Owed by the state alone: relayed and not reported; a delivery here
     * or to a server that offered DSN (NOTIFY went with it) owes nothing. */
    assert_true(queue_rcpt_dsn_due(&rs[0]));
    rs[0].reported = true;
    assert_false(queue_rcpt_dsn_due(&rs[0]));
    rs[1].relayed = false;
    assert_false(queue_rcpt_dsn_due(&rs[1]));
    buf_init(&out, QUEUE_DSN_MAX);
    assert_int_equal(queue_dsn_build(&in, &out, &why), 0);
    buf_free(&out);
    queue_rcpt_state failed = {.status = QUEUE_RCPT_FAILED};
    assert_true(queue_rcpt_dsn_due(&failed));
    queue_rcpt_state pending = {.status = QUEUE_RCPT_PENDING};
    assert_false(queue_rcpt_dsn_due(&pending));
}

/* The relayed flag survives the state's encoding; a state written before
 * the flag existed (DELIVERED, flags 0) owes nothing; an unknown flag, or
 * relayed on a recipient not delivered, does not decode. */
static void test_state_flags(void **state)
{
    (void)state;
    queue_rcpt_state rs[2];
    queue_state st, back;
    make_state_of(&st, rs, "RF");
    unsigned char *enc = NULL;
    size_t len = 0;
    const char *why = NULL;
    assert_int_equal(queue_state_encode(&st, &enc, &len), 0);
    assert_int_equal(queue_state_decode(enc, len, 2, &back, &why), 0);
    assert_true(back.rcpts[0].relayed);
    assert_false(back.rcpts[0].reported);
    assert_int_equal(back.rcpts[0].status, QUEUE_RCPT_DELIVERED);
    assert_false(back.rcpts[1].relayed);
    queue_state_free(&back);
    /* Offsets: header 4 + 1 + 8 + 4, then status, flags of recipient 0. */
    size_t flags_at = 4 + 1 + 8 + 4 + 1;
    assert_int_equal(enc[flags_at], QUEUE_STATE_RELAYED);
    enc[flags_at] = 0; /* as written before relayed existed */
    assert_int_equal(queue_state_decode(enc, len, 2, &back, &why), 0);
    assert_false(queue_rcpt_dsn_due(&back.rcpts[0]));
    queue_state_free(&back);
    enc[flags_at] = 4;
    assert_int_equal(queue_state_decode(enc, len, 2, &back, &why), -1);
    enc[flags_at] = QUEUE_STATE_RELAYED;
    enc[flags_at - 1] = QUEUE_RCPT_FAILED;
    assert_int_equal(queue_state_decode(enc, len, 2, &back, &why), -1);
    free(enc);
}

static void test_bad_input(void **state)
{
    (void)state;
    queue_rcpt rcpts[2];
    queue_rcpt_state rs[2];
    queue_state st;
    queue_entry e = make_entry(&cases[0], rcpts);
    make_state(&st, rs);
    const char *why = NULL;
    buf out;
    buf_init(&out, QUEUE_DSN_MAX);
    static const char *const bad_boundaries[] = {"", "has\"quote", "trailing ",
                                                 ("0123456789012345678901234567890123456789"
                                                  "0123456789012345678901234567890")};
    for (size_t i = 0; i < 4; i++) {
        queue_dsn_input in = {"mail.local.test", bad_boundaries[i], NOW, &e, &st, NULL};
        assert_int_equal(queue_dsn_build(&in, &out, &why), -1);
    }
    queue_dsn_input in = {"mail\r\nX: y", BOUNDARY, NOW, &e, &st, NULL};
    assert_int_equal(queue_dsn_build(&in, &out, &why), -1);
    st.nrcpt = 1;
    in.reporting_mta = "mail.local.test";
    assert_int_equal(queue_dsn_build(&in, &out, &why), -1);
    /* Too small an output buffer: an error, not a truncated DSN. */
    st.nrcpt = 2;
    buf small;
    buf_init(&small, 100);
    assert_int_equal(queue_dsn_build(&in, &small, &why), -1);
    buf_free(&small);
    buf_free(&out);
}

static void test_wanted_and_date(void **state)
{
    (void)state;
    assert_true(queue_dsn_wanted(0));
    assert_true(queue_dsn_wanted(SMTP_NOTIFY_FAILURE));
    assert_true(queue_dsn_wanted(SMTP_NOTIFY_SUCCESS | SMTP_NOTIFY_FAILURE));
    assert_false(queue_dsn_wanted(SMTP_NOTIFY_NEVER));
    assert_false(queue_dsn_wanted(SMTP_NOTIFY_DELAY));
    assert_true(queue_dsn_success_wanted(SMTP_NOTIFY_SUCCESS));
    assert_true(queue_dsn_success_wanted(SMTP_NOTIFY_SUCCESS | SMTP_NOTIFY_FAILURE));
    assert_false(queue_dsn_success_wanted(0)); /* RFC 3461 4.1: not by default */
    assert_false(queue_dsn_success_wanted(SMTP_NOTIFY_NEVER));
    assert_false(queue_dsn_success_wanted(SMTP_NOTIFY_FAILURE | SMTP_NOTIFY_DELAY));
    char d[QUEUE_DATE_MAX + 1];
    queue_dsn_date(0, d);
    assert_string_equal(d, "Thu, 01 Jan 1970 00:00:00 +0000");
    queue_dsn_date(951782400, d); /* a leap day */
    assert_string_equal(d, "Tue, 29 Feb 2000 00:00:00 +0000");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table),          cmocka_unit_test(test_fields),
        cmocka_unit_test(test_success_fields), cmocka_unit_test(test_state_flags),
        cmocka_unit_test(test_bad_input),      cmocka_unit_test(test_wanted_and_date),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
