/* Unit tests for the SMTP worker's recipient expansion (workers/smtp/rcpt.c)
 * as its "delivered" DSN needs it: what one RCPT reached, mailboxes shared
 * with an earlier RCPT counted too, outside targets apart, nothing counted
 * for a refused recipient. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "smtpd.h"

#define PK "\"public_key\":\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\""
#define USER(local, store)                                                                         \
    "{\"address\":\"" local "@example.org\",\"domain\":\"example.org\",\"local\":\"" local         \
    "\",\"enabled\":true,\"quota_bytes\":0,\"store_id\":\"" store "\"," PK ","                     \
    "\"display_name\":\"\",\"credentials\":[],\"x25519_sealed_sk\":\"c2s=\"}"
#define ALIAS(local, targets)                                                                      \
    "{\"address\":\"" local "@example.org\",\"domain\":\"example.org\",\"local\":\"" local         \
    "\",\"targets\":[" targets "],\"enabled\":true}"

#define USERS USER("alice", "s1") "," USER("bob", "s2")
#define ALIASES                                                                                    \
    ALIAS("team", "\"alice@example.org\",\"bob@example.org\"")                                     \
    "," ALIAS("fwd", "\"bob@example.org\",\"friend@remote.test\"")

static const char snapshot[] = "{\"seq\":1,\"domains\":[{\"name\":\"example.org\",\"enabled\":true,"
                               "\"max_users\":0,\"default_quota_bytes\":0}],"
                               "\"users\":[" USERS "],\"aliases\":[" ALIASES "],\"dkim_keys\":[]}";

typedef struct reach {
    size_t local, remote;
} reach;

/* Expands address into t and returns what it reached (the counters' growth). */
static reach expand(const directory *d, smtpd_targets *t, const char *address,
                    smtpd_rcpt_status expect)
{
    size_t l = t->reached_local, r = t->reached_remote;
    assert_int_equal(smtpd_rcpt_expand(d, address, t), expect);
    return (reach){t->reached_local - l, t->reached_remote - r};
}

static void test_reached(void **state)
{
    (void)state;
    directory *d = directory_new();
    const char *why = NULL;
    assert_non_null(d);
    if (directory_load_snapshot(d, snapshot, strlen(snapshot), &why) != 0)
        fail_msg("snapshot rejected: %s", why);
    smtpd_targets t = {0};

    reach r = expand(d, &t, "alice@example.org", SMTPD_RCPT_OK);
    assert_int_equal(r.local, 1);
    assert_int_equal(r.remote, 0);
    /* The alias reaches alice again (one copy, but counted for this RCPT)
     * and bob. */
    r = expand(d, &t, "team@example.org", SMTPD_RCPT_OK);
    assert_int_equal(t.nlocal, 2);
    assert_int_equal(r.local, 2);
    assert_int_equal(r.remote, 0);
    /* Only a mailbox already there: nothing new, still reached. */
    r = expand(d, &t, "bob@example.org", SMTPD_RCPT_OK);
    assert_int_equal(t.nlocal, 2);
    assert_int_equal(r.local, 1);
    /* A forward outside: reached both ways. */
    r = expand(d, &t, "fwd@example.org", SMTPD_RCPT_OK);
    assert_int_equal(r.local, 1);
    assert_int_equal(r.remote, 1);
    assert_int_equal(t.nremote, 1);
    /* An outside address given again (submission) is counted again. */
    size_t before = t.reached_remote;
    assert_int_equal(smtpd_targets_add_remote(&t, "friend@remote.test"), 0);
    assert_int_equal(t.nremote, 1);
    assert_int_equal(t.reached_remote, before + 1);
    /* A refused recipient counts nothing. */
    r = expand(d, &t, "nobody@example.org", SMTPD_RCPT_UNKNOWN);
    assert_int_equal(r.local, 0);
    assert_int_equal(r.remote, 0);
    r = expand(d, &t, "x@elsewhere.test", SMTPD_RCPT_NOT_HOSTED);
    assert_int_equal(r.local + r.remote, 0);

    smtpd_targets_free(&t);
    assert_int_equal(t.reached_local + t.reached_remote, 0);
    directory_free(&d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reached),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
