/* Unit tests for lib/mailbox/backfill.c: SORT keys of messages stored
 * without them are computed when the store is opened, in batches, equal to
 * those a delivery computes, so SORT works on old mail. */
#include "mailbox.h"
#include "store_sort.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define STORE "0123456789abcdef0123456789abcdef"

static char tmpdir[64];
static keys_secret *store_key;
static unsigned char pk[KEYS_X25519_PK_LEN];
static unsigned char *sealed;
static size_t sealed_len;

static int setup(void **state)
{
    (void)state;
    strcpy(tmpdir, "/tmp/test_mailbox_sort.XXXXXX");
    if (mkdtemp(tmpdir) == NULL || sodium_init() < 0)
        return -1;
    if (keys_store_key_new(&store_key) != KEYS_OK)
        return -1;
    return keys_x25519_new(store_key, pk, &sealed, &sealed_len) == KEYS_OK ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    keys_secret_free(&store_key);
    free(sealed);
    sealed = NULL;
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
    return system(cmd) == 0 ? 0 : -1;
}

static mailbox *open_ok(void)
{
    mailbox *m = NULL;
    char err[MAILBOX_ERR_LEN] = "";
    mailbox_result r =
        mailbox_open(tmpdir, STORE, store_key, pk, sealed, sealed_len, &m, err, sizeof(err));
    if (r != MAILBOX_OK)
        fail_msg("mailbox_open: %s: %s", mailbox_strerror(r), err);
    return m;
}

static int64_t sql_int(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    int64_t v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return v;
}

static const char *const msgs[] = {
    ("From: \"Zoe\" <zoe@example.org>\r\nTo: =?UTF-8?Q?=C3=89mile?= <emile@example.net>\r\n"
     "Subject: Re: [club] Meeting\r\nDate: Wed, 25 Nov 2026 16:00:00 +0100\r\n\r\n"
     "From: not-the-header@example.com\r\n"),
    ("From: adam@example.org\r\nTo: team: bea@example.net, carl@example.net;\r\n"
     "Cc: dan@example.com\r\nSubject: agenda\r\n\r\nbody\r\n"),
    "Subject: =?ISO-8859-1?Q?=C0_propos?=\r\n\r\nno addresses\r\n",
};

/* Appends a message with the metadata a delivery computes, but without
 * the SORT keys (as stored before schema version 5). */
static uint32_t put_without_keys(sqlite3 *db, const char *raw)
{
    store_msg_meta meta;
    assert_int_equal(mailbox_meta_from_mime(raw, strlen(raw), &meta), MAILBOX_OK);
    store_msg_meta partial = meta;
    partial.sort_subject = partial.sort_from = partial.sort_to = partial.sort_cc = NULL;
    partial.display_from = partial.display_to = NULL;
    uint32_t uid = 0;
    assert_int_equal(
        store_append(db, "INBOX", raw, strlen(raw), 1700000000, 0, NULL, &partial, &uid, NULL),
        STORE_OK);
    mailbox_meta_free(&meta);
    return uid;
}

/* The stored keys of a message equal what a delivery computes. */
static void check_keys(sqlite3 *db, uint32_t uid, const char *raw)
{
    store_msg_meta want;
    assert_int_equal(mailbox_meta_from_mime(raw, strlen(raw), &want), MAILBOX_OK);
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_prepare_v2(db,
                                        "SELECT b.sort_subject, b.sort_from, b.sort_to, b.sort_cc, "
                                        "b.display_from, b.display_to FROM messages m JOIN bodies "
                                        "b ON b.id = m.body_id WHERE m.uid = ?",
                                        -1, &st, NULL),
                     SQLITE_OK);
    sqlite3_bind_int64(st, 1, uid);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    const char *w[] = {want.sort_subject, want.sort_from,    want.sort_to,
                       want.sort_cc,      want.display_from, want.display_to};
    for (int i = 0; i < 6; i++) {
        const char *got = (const char *)sqlite3_column_text(st, i);
        assert_non_null(got);
        assert_string_equal(got, w[i]);
    }
    sqlite3_finalize(st);
    mailbox_meta_free(&want);
}

static void test_backfill_on_open(void **state)
{
    (void)state;
    mailbox *m = open_ok();
    sqlite3 *db = mailbox_db(m);
    int64_t in = 0;
    store_mailbox mb;
    assert_int_equal(store_mailbox_get(db, "INBOX", &mb), STORE_OK);
    in = mb.id;
    for (size_t i = 0; i < 3; i++)
        assert_int_equal(put_without_keys(db, msgs[i]), i + 1);
    store_sort_key from = {STORE_SORT_DISPLAYFROM, false};
    store_uids u;
    assert_int_equal(store_sort_uids(db, in, &from, 1, NULL, &u), STORE_ERR_SORT_KEYS);
    mailbox_close(&m);

    /* Opening computes them, from the header alone, as a delivery would. */
    m = open_ok();
    db = mailbox_db(m);
    assert_int_equal(sql_int(db, "SELECT count(*) FROM bodies WHERE sort_subject IS NULL OR "
                                 "display_to IS NULL"),
                     0);
    for (size_t i = 0; i < 3; i++)
        check_keys(db, (uint32_t)i + 1, msgs[i]);
    /* DISPLAYFROM: "", "adam@example.org", "Zoe" */
    assert_int_equal(store_sort_uids(db, in, &from, 1, NULL, &u), STORE_OK);
    assert_int_equal(u.n, 3);
    assert_int_equal(u.uids[0], 3);
    assert_int_equal(u.uids[1], 2);
    assert_int_equal(u.uids[2], 1);
    store_uids_free(&u);
    /* SUBJECT: "agenda", "Meeting", "À propos" (UTF-8 after ASCII) */
    store_sort_key subj = {STORE_SORT_SUBJECT, false};
    assert_int_equal(store_sort_uids(db, in, &subj, 1, NULL, &u), STORE_OK);
    assert_int_equal(u.uids[0], 2);
    assert_int_equal(u.uids[1], 1);
    assert_int_equal(u.uids[2], 3);
    store_uids_free(&u);
    /* Nothing left: the next backfill does nothing. */
    size_t filled = 99;
    char err[MAILBOX_ERR_LEN] = "";
    assert_int_equal(mailbox_sort_backfill(m, &filled, err, sizeof(err)), MAILBOX_OK);
    assert_int_equal(filled, 0);
    mailbox_close(&m);
}

/* More than a batch: one transaction per MAILBOX_SORT_BACKFILL_BATCH. */
static void test_backfill_batches(void **state)
{
    (void)state;
    mailbox *m = open_ok();
    sqlite3 *db = mailbox_db(m);
    size_t n = MAILBOX_SORT_BACKFILL_BATCH + 10;
    assert_int_equal(store_begin(db), STORE_OK);
    for (size_t i = 0; i < n; i++)
        put_without_keys(db, msgs[i % 3]);
    assert_int_equal(store_commit(db), STORE_OK);
    uint64_t c0 = 0, c1 = 0;
    assert_int_equal(store_change_counter(db, &c0), STORE_OK);
    size_t filled = 0;
    char err[MAILBOX_ERR_LEN] = "";
    assert_int_equal(mailbox_sort_backfill(m, &filled, err, sizeof(err)), MAILBOX_OK);
    assert_int_equal(filled, n);
    assert_int_equal(store_change_counter(db, &c1), STORE_OK);
    assert_true(c1 > c0);
    assert_int_equal(sql_int(db, "SELECT count(*) FROM bodies WHERE sort_from IS NULL"), 0);
    check_keys(db, (uint32_t)n, msgs[(n - 1) % 3]);
    mailbox_close(&m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_backfill_on_open, setup, teardown),
        cmocka_unit_test_setup_teardown(test_backfill_batches, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
