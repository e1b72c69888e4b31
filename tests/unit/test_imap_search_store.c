/* A parsed IMAP SEARCH run on a real store (lib/imap/search_store.h): the
 * command line goes through the reader, imap_search_parse,
 * imap_search_to_store and store_search_uids. */
#include "store_fixture.h"

#include "imap_reader.h"
#include "imap_search.h"
#include "search_store.h"

/* UIDs of message sequence numbers 1..3 once UID 3 is expunged. */
static const uint32_t msn_uids[] = {0, 1, 2, 4};

static uint32_t uid_of(void *ctx, uint32_t msn)
{
    (void)ctx;
    assert_true(msn >= 1 && msn <= 3);
    return msn_uids[msn];
}

static uint32_t append(sqlite3 *db, const char *raw, int64_t date, unsigned flags,
                       const char *const *kw, const char *subject, const char *from)
{
    store_msg_meta meta = {.subject = subject, .from = from};
    uint32_t uid = 0;
    int rc = store_append(db, "INBOX", raw, strlen(raw), date, flags, kw, &meta, &uid, NULL);
    if (rc != STORE_OK)
        fail_msg("append: %s", store_strerror(rc));
    return uid;
}

/* "1,2,4", or "ERR" when the IMAP side refuses. */
static void run_search(sqlite3 *db, int64_t id, const char *text, char *out, size_t size)
{
    imap_reader r;
    imap_command cmd;
    imap_error err;
    imap_search s;
    imap_search_store st;
    char line[512];
    size_t consumed, off = 0;
    int len = snprintf(line, sizeof(line), "a SEARCH %s\r\n", text);
    int rc;

    imap_reader_init(&r, NULL);
    do {
        rc = imap_reader_next(&r, line + off, (size_t)len - off, &consumed, &cmd, &err);
        off += consumed;
    } while (rc == IMAP_READ_CONTINUE);
    assert_int_equal(rc, IMAP_READ_COMMAND);
    snprintf(out, size, "ERR");
    if (imap_search_parse(cmd.args, cmd.nargs, IMAP_SEARCH_RETURN | IMAP_SEARCH_SEARCHRES, &s,
                          &err) < 0) {
        imap_reader_free(&r);
        return;
    }
    store_range recent_r = {4, 4}, saved_r = {1, 2};
    store_uidset recent = {&recent_r, 1}, saved = {&saved_r, 1};
    imap_search_map map = {uid_of, NULL, 3, 4, &recent, &saved, 1700300100};
    if (imap_search_to_store(&s, &map, &st, &err) == 0) {
        store_uids u = {0};
        rc = store_search_uids(db, id, st.root, &u);
        if (rc != STORE_OK)
            fail_msg("\"%s\": %s", text, store_strerror(rc));
        out[0] = '\0';
        for (size_t i = 0; i < u.n; i++) {
            size_t n = strlen(out);
            snprintf(out + n, size - n, "%s%u", i > 0 ? "," : "", u.uids[i]);
        }
        store_uids_free(&u);
        imap_search_store_free(&st);
    } else {
        assert_int_equal(err.resp, IMAP_RESP_BAD);
    }
    imap_search_free(&s);
    imap_reader_free(&r);
}

static const struct {
    const char *search;
    const char *want;
} rows[] = {
    {"ALL", "1,2,4"},
    {"SEEN", "1"},
    {"UNSEEN", "2,4"},
    {"FLAGGED ANSWERED", "4"},
    {"UNFLAGGED", "1,2"},
    {"DELETED", ""},
    {"NOT SEEN", "2,4"},
    {"OR SEEN FLAGGED", "1,4"},
    {"OR OR SEEN FLAGGED DRAFT", "1,4"},
    {"(SEEN) (KEYWORD $Important)", "1"},
    {"KEYWORD $Important", "1"},
    {"UNKEYWORD $important", "2,4"},
    {"SUBJECT lunch", "1,2"},
    {"SUBJECT {5}\r\nLUNCH", "1,2"},
    {"FROM alice", "1"},
    {"HEADER X-Pizza yes", "1"},
    {"HEADER X-Pizza \"\"", "1,2"},
    {"BODY pizza", "1"},
    {"TEXT report", "4"},
    {"SINCE 16-Nov-2023", "2,4"},
    {"BEFORE 16-Nov-2023", "1"},
    {"ON 15-Nov-2023", "1"},
    {"SENTBEFORE 1-Jan-2000", ""},
    {"LARGER 300", "4"},
    {"SMALLER 300", "1,2"},
    {"MODSEQ 1", "1,2,4"},
    {"2:3", "2,4"},
    {"*", "4"},
    {"1,3", "1,4"},
    {"3:1", "1,2,4"},
    {"2:*", "2,4"},
    {"4", "ERR"},
    {"UID 2:*", "2,4"},
    {"UID *", "4"},
    {"UID 5:*", "4"},
    {"UID 3", ""},
    {"UID 1,3:100", "1,4"},
    {"UID 1:100", "1,2,4"},
    {"RECENT", "4"},
    {"NEW", "4"},
    {"OLD", "1,2"},
    {"$", "1,2"},
    {"UID $ UNSEEN", "2"},
    {"YOUNGER 200", "4"},
    {"OLDER 200", "1,2"},
    {"NOT (OR SEEN FLAGGED)", "2"},
};

static void test_search_store(void **state)
{
    (void)state;
    sqlite3 *db = open_store();
    int64_t id = mbox(db, "INBOX").id;
    const char *kw[] = {"$Important", NULL};
    char big[600];

    /* 2023-11-15 10:00 UTC */
    assert_int_equal(
        append(db, "Subject: Lunch on Friday\r\nX-Pizza: yes\r\n\r\nPizza at noon?\r\n", 1700042400,
               STORE_FLAG_SEEN, kw, "Lunch on Friday", "Alice <alice@example.org>"),
        1);
    /* 2023-11-16 10:00 UTC */
    assert_int_equal(append(db, "Subject: Re: lunch\r\nX-Pizza: no, thanks\r\n\r\nSure.\r\n",
                            1700128800, 0, NULL, "Re: lunch", "Bob <bob@example.net>"),
                     2);
    assert_int_equal(append(db, "Subject: gone\r\n\r\nx\r\n", 1700000000,
                            STORE_FLAG_SEEN | STORE_FLAG_DELETED, NULL, "gone", "c@example.com"),
                     3);
    snprintf(big, sizeof(big), "Subject: Report\r\n\r\n%0500d\r\n", 0);
    assert_int_equal(append(db, big, 1700300000, STORE_FLAG_FLAGGED | STORE_FLAG_ANSWERED, NULL,
                            "Report", "d@example.com"),
                     4);
    assert_int_equal(store_expunge(db, id, NULL, NULL, NULL), STORE_OK);

    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        char got[256];
        run_search(db, id, rows[i].search, got, sizeof(got));
        if (strcmp(got, rows[i].want) != 0)
            fail_msg("row %zu \"%s\": got \"%s\", wanted \"%s\"", i, rows[i].search, got,
                     rows[i].want);
    }
    sqlite3_close(db);
}

/* The tree's shape: kinds and values map one to one. */
static void test_shape(void **state)
{
    (void)state;
    imap_reader r;
    imap_command cmd;
    imap_error err;
    imap_search s;
    imap_search_store st;
    size_t consumed;
    const char *line = "a SEARCH OR FROM x SINCE 1-Feb-1994 NOT 1:2 UID 7 HEADER X-A b\r\n";

    imap_reader_init(&r, NULL);
    assert_int_equal(imap_reader_next(&r, line, strlen(line), &consumed, &cmd, &err), 1);
    assert_int_equal(imap_search_parse(cmd.args, cmd.nargs, 0, &s, &err), 0);
    imap_search_map map = {uid_of, NULL, 3, 4, NULL, NULL, 0};
    assert_int_equal(imap_search_to_store(&s, &map, &st, &err), 0);
    const store_search *root = st.root;
    assert_int_equal(root->kind, STORE_SK_AND);
    assert_int_equal(root->nkids, 4);
    const store_search * or = root->kids[0];
    assert_int_equal(or->kind, STORE_SK_OR);
    assert_int_equal(or->nkids, 2);
    assert_int_equal(or->kids[0]->kind, STORE_SK_FROM);
    assert_string_equal(or->kids[0]->str, "x");
    assert_int_equal(or->kids[1]->kind, STORE_SK_SINCE);
    assert_int_equal(or->kids[1]->num, 760060800);
    const store_search *not = root->kids[1];
    assert_int_equal(not ->kind, STORE_SK_NOT);
    assert_int_equal(not ->kids[0]->kind, STORE_SK_UID);
    assert_int_equal(not ->kids[0]->uids.n, 1);
    assert_int_equal(not ->kids[0]->uids.ranges[0].first, 1);
    assert_int_equal(not ->kids[0]->uids.ranges[0].last, 2);
    assert_int_equal(root->kids[2]->kind, STORE_SK_UID);
    assert_int_equal(root->kids[2]->uids.ranges[0].first, 7);
    assert_int_equal(root->kids[3]->kind, STORE_SK_HEADER);
    assert_string_equal(root->kids[3]->name, "X-A");
    assert_string_equal(root->kids[3]->str, "b");
    imap_search_store_free(&st);
    imap_search_free(&s);

    /* RECENT without a session set, "$" without a saved result: nothing */
    line = "a SEARCH RECENT\r\n";
    assert_int_equal(imap_reader_next(&r, line, strlen(line), &consumed, &cmd, &err), 1);
    assert_int_equal(imap_search_parse(cmd.args, cmd.nargs, 0, &s, &err), 0);
    assert_int_equal(imap_search_to_store(&s, &map, &st, &err), 0);
    assert_int_equal(st.root->kind, STORE_SK_UID);
    assert_int_equal(st.root->uids.n, 0);
    imap_search_store_free(&st);
    imap_search_free(&s);

    /* message numbers in an empty mailbox */
    line = "a SEARCH 1:*\r\n";
    assert_int_equal(imap_reader_next(&r, line, strlen(line), &consumed, &cmd, &err), 1);
    assert_int_equal(imap_search_parse(cmd.args, cmd.nargs, 0, &s, &err), 0);
    map.messages = 0;
    assert_int_equal(imap_search_to_store(&s, &map, &st, &err), -1);
    assert_int_equal(err.resp, IMAP_RESP_BAD);
    imap_search_free(&s);
    imap_reader_free(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_search_store, setup, teardown),
        cmocka_unit_test(test_shape),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
