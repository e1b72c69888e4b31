/* Unit tests for lib/store log pruning (maintain.c, dav_sync.c): the
 * QRESYNC expunge log by count and by age with its vanished floor, VANISHED
 * above and below the floor, DAV tombstones by age, store_maintain. */
#include "store_fixture.h"
#include "store_maintain.h"

/* Appends n messages to the mailbox (one transaction); returns the first UID. */
static uint32_t put_many(sqlite3 *db, const char *mailbox, int n)
{
    uint32_t first = 0;
    assert_int_equal(store_begin(db), STORE_OK);
    for (int i = 0; i < n; i++) {
        uint32_t uid = put(db, mailbox, "m", 0, NULL);
        if (i == 0)
            first = uid;
    }
    assert_int_equal(store_commit(db), STORE_OK);
    return first;
}

/* Expunges UIDs first..last of the mailbox; returns the MODSEQ. */
static uint64_t expunge_range(sqlite3 *db, int64_t id, uint32_t first, uint32_t last)
{
    store_range r;
    store_uidset s = one(&r, first, last);
    store_flags_result fr;
    assert_int_equal(store_set_flags(db, id, &s, STORE_FLAGS_ADD, STORE_FLAG_DELETED, NULL, 0, &fr),
                     STORE_OK);
    store_flags_result_free(&fr);
    uint64_t modseq = 0;
    assert_int_equal(store_expunge(db, id, &s, NULL, &modseq), STORE_OK);
    assert_true(modseq > 0);
    return modseq;
}

/* VANISHED (EARLIER) since: the UIDs as digits, or the error. */
static int vanished(sqlite3 *db, int64_t id, uint64_t since, char out[64])
{
    store_uids v;
    int rc = store_vanished(db, id, since, NULL, &v);
    out[0] = '\0';
    size_t k = 0;
    for (size_t i = 0; rc == STORE_OK && i < v.n && k + 4 < 64; i++)
        k += (size_t)snprintf(out + k, 64 - k, "%u,", v.uids[i]);
    if (rc != STORE_OK)
        assert_int_equal(v.n, 0);
    store_uids_free(&v);
    return rc;
}

static void test_expunged_prune_count(void **state)
{
    (void)state;
    sqlite3 *db = open_store();
    int64_t in = mbox(db, "INBOX").id, ar = mbox(db, "Archive").id;
    put_many(db, "INBOX", 10);
    put_many(db, "Archive", 3);
    uint64_t m1 = expunge_range(db, in, 1, 3);
    uint64_t m2 = expunge_range(db, in, 4, 5);
    uint64_t m3 = expunge_range(db, in, 6, 8);
    uint64_t m4 = expunge_range(db, in, 9, 10);
    uint64_t a1 = expunge_range(db, ar, 1, 3);
    assert_true(m1 < m2 && m2 < m3 && m3 < m4 && m4 < a1);
    char got[64];
    /* Keep at most 4 of INBOX: whole expunges go, oldest first, so 2 stay. */
    uint64_t pruned = 0, floor = 99;
    assert_int_equal(store_expunged_prune(db, in, 4, 0, &pruned), STORE_OK);
    assert_int_equal(pruned, 8);
    assert_int_equal(store_vanished_floor(db, in, &floor), STORE_OK);
    assert_int_equal(floor, m3);
    /* VANISHED above the floor still works ... */
    assert_int_equal(vanished(db, in, m3, got), STORE_OK);
    assert_string_equal(got, "9,10,");
    assert_int_equal(vanished(db, in, m4, got), STORE_OK);
    assert_string_equal(got, "");
    /* ... below it, it reports that the log is incomplete. */
    assert_int_equal(vanished(db, in, m3 - 1, got), STORE_ERR_EXPUNGE_LOG);
    assert_int_equal(vanished(db, in, m1, got), STORE_ERR_EXPUNGE_LOG);
    assert_int_equal(vanished(db, in, 0, got), STORE_ERR_EXPUNGE_LOG);
    assert_string_equal(store_strerror(STORE_ERR_EXPUNGE_LOG),
                        "expunge log pruned past that modseq");
    /* Other mailboxes are untouched. */
    assert_int_equal(store_vanished_floor(db, ar, &floor), STORE_OK);
    assert_int_equal(floor, 0);
    assert_int_equal(vanished(db, ar, 0, got), STORE_OK);
    assert_string_equal(got, "1,2,3,");
    /* Again: nothing more to do; keep 0 is no limit by count. */
    assert_int_equal(store_expunged_prune(db, in, 4, 0, &pruned), STORE_OK);
    assert_int_equal(pruned, 0);
    assert_int_equal(store_expunged_prune(db, in, 0, 0, &pruned), STORE_OK);
    assert_int_equal(pruned, 0);
    /* The floor never goes down; a missing mailbox. */
    assert_int_equal(store_expunged_prune(db, in, 100, 0, NULL), STORE_OK);
    assert_int_equal(store_vanished_floor(db, in, &floor), STORE_OK);
    assert_int_equal(floor, m3);
    assert_int_equal(store_expunged_prune(db, 9999, 1, 0, &pruned), STORE_ERR_NOMAILBOX);
    assert_int_equal(store_vanished_floor(db, 9999, &floor), STORE_ERR_NOMAILBOX);
    sqlite3_close(db);
}

static void test_expunged_prune_age(void **state)
{
    (void)state;
    sqlite3 *db = open_store();
    int64_t in = mbox(db, "INBOX").id;
    put_many(db, "INBOX", 6);
    uint64_t m1 = expunge_range(db, in, 1, 2);
    uint64_t m2 = expunge_range(db, in, 3, 4);
    uint64_t m3 = expunge_range(db, in, 5, 6);
    int64_t now = (int64_t)time(NULL);
    assert_true(sql_int(db, "SELECT min(expunged_at) FROM expunged") >= now - 5);
    /* The first two expunges were 10 and 5 days ago. */
    char sql[160];
    snprintf(sql, sizeof(sql), "UPDATE expunged SET expunged_at = %lld WHERE modseq = %llu",
             (long long)(now - 10 * 86400), (unsigned long long)m1);
    assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
    snprintf(sql, sizeof(sql), "UPDATE expunged SET expunged_at = %lld WHERE modseq = %llu",
             (long long)(now - 5 * 86400), (unsigned long long)m2);
    assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
    uint64_t pruned = 0, floor = 0;
    assert_int_equal(store_expunged_prune(db, in, 0, now - 7 * 86400, &pruned), STORE_OK);
    assert_int_equal(pruned, 2);
    assert_int_equal(store_vanished_floor(db, in, &floor), STORE_OK);
    assert_int_equal(floor, m1);
    char got[64];
    assert_int_equal(vanished(db, in, m1, got), STORE_OK);
    assert_string_equal(got, "3,4,5,6,");
    /* Count and age together: the stricter wins. */
    assert_int_equal(store_expunged_prune(db, in, 3, now - 7 * 86400, &pruned), STORE_OK);
    assert_int_equal(pruned, 2);
    assert_int_equal(vanished(db, in, m2, got), STORE_OK);
    assert_string_equal(got, "5,6,");
    assert_int_equal(vanished(db, in, m1, got), STORE_ERR_EXPUNGE_LOG);
    (void)m3;
    sqlite3_close(db);
}

/* Every mailbox at once, more entries than a batch, and the entries an
 * interrupted prune left below the floor. */
static void test_expunged_prune_all(void **state)
{
    (void)state;
    sqlite3 *db = open_store();
    int64_t in = mbox(db, "INBOX").id, tr = mbox(db, "Trash").id;
    int big = 2 * STORE_PRUNE_BATCH + 500;
    put_many(db, "INBOX", big);
    put_many(db, "INBOX", 2);
    put_many(db, "Trash", 4);
    uint64_t m1 = expunge_range(db, in, 1, (uint32_t)big);
    uint64_t m2 = expunge_range(db, in, (uint32_t)big + 1, (uint32_t)big + 2);
    uint64_t t1 = expunge_range(db, tr, 1, 2);
    expunge_range(db, tr, 3, 4);
    uint64_t pruned = 0;
    uint64_t counter0 = 0, counter1 = 0;
    assert_int_equal(store_change_counter(db, &counter0), STORE_OK);
    assert_int_equal(store_expunged_prune(db, 0, 2, 0, &pruned), STORE_OK);
    assert_int_equal(pruned, (uint64_t)big + 2);
    assert_int_equal(store_change_counter(db, &counter1), STORE_OK);
    assert_true(counter1 >= counter0 + 4); /* several transactions: 3 in INBOX, 1 in Trash */
    assert_int_equal(sql_int(db, "SELECT count(*) FROM expunged"), 4);
    char got[64];
    snprintf(got, sizeof(got), "%u,%u,", (unsigned)big + 1, (unsigned)big + 2);
    char want[64];
    strcpy(want, got);
    assert_int_equal(vanished(db, in, m1, got), STORE_OK);
    assert_string_equal(got, want);
    assert_int_equal(vanished(db, tr, t1 - 1, got), STORE_ERR_EXPUNGE_LOG);
    assert_int_equal(vanished(db, tr, t1, got), STORE_OK);
    assert_string_equal(got, "3,4,");
    /* A prune that died after raising the floor left entries below it:
     * they go at the next prune, whatever the limits. */
    char sql[128];
    snprintf(sql, sizeof(sql), "UPDATE mailboxes SET vanished_floor = %llu WHERE id = %lld",
             (unsigned long long)m2, (long long)in);
    assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
    assert_int_equal(store_expunged_prune(db, 0, 0, 0, &pruned), STORE_OK);
    assert_int_equal(pruned, 2);
    assert_int_equal(vanished(db, in, m2, got), STORE_OK);
    assert_string_equal(got, "");
    sqlite3_close(db);
}

/* ---- DAV tombstones by age ------------------------------------------------------------ */

static int put_card(sqlite3 *db, int64_t book, const char *href)
{
    char data[128];
    int n = snprintf(data, sizeof(data), "BEGIN:VCARD\r\nUID:%s\r\nEND:VCARD\r\n", href);
    store_dav_meta m = {.uid = href,
                        .component = "VCARD",
                        .dtstart = STORE_DAV_TIME_NONE,
                        .dtend = STORE_DAV_TIME_NONE};
    return store_dav_put(db, book, href, data, (size_t)n, &m, NULL, NULL, NULL);
}

static int count_change(void *ctx, const char *href, int deleted)
{
    (void)href;
    (void)deleted;
    (*(int *)ctx)++;
    return 0;
}

static void test_dav_prune_age(void **state)
{
    (void)state;
    sqlite3 *db = open_store();
    int64_t book = 0, other = 0;
    assert_int_equal(
        store_dav_collection_create(db, STORE_DAV_ADDRESSBOOK, "contacts", NULL, &book), STORE_OK);
    assert_int_equal(store_dav_collection_create(db, STORE_DAV_ADDRESSBOOK, "other", NULL, &other),
                     STORE_OK);
    uint64_t t0 = 0, t1 = 0, t2 = 0, tok = 0;
    int n = 0;
    assert_int_equal(store_dav_changes(db, book, 0, count_change, &n, &t0), STORE_OK);
    assert_int_equal(put_card(db, book, "a"), STORE_OK);
    assert_int_equal(put_card(db, book, "b"), STORE_OK);
    assert_int_equal(put_card(db, other, "c"), STORE_OK);
    assert_int_equal(store_dav_delete(db, book, "a", NULL), STORE_OK);
    assert_int_equal(store_dav_delete(db, other, "c", NULL), STORE_OK);
    assert_int_equal(store_dav_changes(db, book, 0, count_change, &n, &t1), STORE_OK);
    assert_int_equal(store_dav_delete(db, book, "b", NULL), STORE_OK);
    assert_int_equal(store_dav_changes(db, book, 0, count_change, &n, &t2), STORE_OK);
    int64_t now = (int64_t)time(NULL);
    assert_true(sql_int(db, "SELECT min(changed_at) FROM dav_changes") >= now - 5);
    /* "a" (in contacts) and "c" (in other) were deleted 100 days ago. */
    char sql[128];
    snprintf(sql, sizeof(sql), "UPDATE dav_changes SET changed_at = %lld WHERE href IN ('a', 'c')",
             (long long)(now - 100 * 86400));
    assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
    uint64_t pruned = 0;
    assert_int_equal(store_dav_changes_prune_age(db, book, now - 30 * 86400, &pruned), STORE_OK);
    assert_int_equal(pruned, 1);
    /* A token from before the pruned deletion is refused, a later one works. */
    n = 0;
    assert_int_equal(store_dav_changes(db, book, t0, count_change, &n, &tok), STORE_ERR_SYNC_TOKEN);
    assert_int_equal(store_dav_changes(db, book, t1, count_change, &n, &tok), STORE_OK);
    assert_int_equal(n, 1); /* the deletion of "b" */
    assert_int_equal(tok, t2);
    /* Every collection: "c" goes; nothing is young enough in contacts. */
    assert_int_equal(store_dav_changes_prune_age(db, 0, now - 30 * 86400, &pruned), STORE_OK);
    assert_int_equal(pruned, 1);
    assert_int_equal(sql_int(db, "SELECT count(*) FROM dav_changes"), 1);
    assert_int_equal(store_dav_changes_prune_age(db, 9999, now, &pruned), STORE_ERR_NOMAILBOX);
    sqlite3_close(db);
}

/* ---- store_maintain ------------------------------------------------------------------ */

static void test_maintain(void **state)
{
    (void)state;
    sqlite3 *db = open_store();
    store_maintain_policy p;
    store_maintain_policy_default(&p);
    assert_int_equal(p.delivery_age, STORE_MAINTAIN_DELIVERY_AGE);
    assert_int_equal(p.expunged_keep, STORE_MAINTAIN_EXPUNGED_KEEP);
    assert_int_equal(p.expunged_age, STORE_MAINTAIN_EXPUNGED_AGE);
    assert_int_equal(p.dav_age, STORE_MAINTAIN_DAV_AGE);
    int64_t in = mbox(db, "INBOX").id, book = 0;
    put_many(db, "INBOX", 4);
    expunge_range(db, in, 1, 2);
    uint64_t m2 = expunge_range(db, in, 3, 4);
    assert_int_equal(store_delivery_record(db, "spool-1"), STORE_OK);
    assert_int_equal(store_delivery_record(db, "spool-2"), STORE_OK);
    assert_int_equal(store_dav_collection_create(db, STORE_DAV_ADDRESSBOOK, "c", NULL, &book),
                     STORE_OK);
    assert_int_equal(put_card(db, book, "x"), STORE_OK);
    assert_int_equal(store_dav_delete(db, book, "x", NULL), STORE_OK);
    int64_t now = (int64_t)time(NULL);
    /* Nothing is old yet: the defaults remove nothing. */
    store_maintain_stats st = {1, 1, 1};
    assert_int_equal(store_maintain(db, now, NULL, &st), STORE_OK);
    assert_int_equal(st.deliveries + st.expunged + st.dav_tombstones, 0);
    /* A year later, the defaults remove everything old. */
    assert_int_equal(store_maintain(db, now + 365 * 86400, NULL, &st), STORE_OK);
    assert_int_equal(st.deliveries, 2);
    assert_int_equal(st.expunged, 4);
    assert_int_equal(st.dav_tombstones, 1);
    assert_int_equal(store_delivery_record(db, "spool-1"), STORE_OK); /* forgotten */
    char got[64];
    assert_int_equal(vanished(db, in, m2 - 1, got), STORE_ERR_EXPUNGE_LOG);
    assert_int_equal(vanished(db, in, m2, got), STORE_OK);
    /* A policy by count only; 0 ages keep forever. */
    put_many(db, "INBOX", 3);
    expunge_range(db, in, 5, 5);
    expunge_range(db, in, 6, 6);
    expunge_range(db, in, 7, 7);
    store_maintain_policy keep1 = {.expunged_keep = 1};
    assert_int_equal(store_maintain(db, now + 10 * 365 * 86400, &keep1, &st), STORE_OK);
    assert_int_equal(st.expunged, 2);
    assert_int_equal(st.deliveries, 0);
    assert_int_equal(vanished(db, in, 0, got), STORE_ERR_EXPUNGE_LOG);
    store_maintain_policy bad = {.delivery_age = -1};
    assert_int_equal(store_maintain(db, now, &bad, NULL), STORE_ERR_INVALID);
    assert_int_equal(store_maintain(db, now, &keep1, NULL), STORE_OK);
    sqlite3_close(db);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_expunged_prune_count, setup, teardown),
        cmocka_unit_test_setup_teardown(test_expunged_prune_age, setup, teardown),
        cmocka_unit_test_setup_teardown(test_expunged_prune_all, setup, teardown),
        cmocka_unit_test_setup_teardown(test_dav_prune_age, setup, teardown),
        cmocka_unit_test_setup_teardown(test_maintain, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
