/* Unit tests for lib/store: mailboxes, messages, flags, MODSEQ, quota (plain SQLite). */
#include "store_fixture.h"

static void test_defaults_once(void **state)
{
    (void)state;
    sqlite3 *db = open_store();
    store_mailbox *list;
    size_t n;
    assert_int_equal(store_mailbox_list(db, &list, &n), STORE_OK);
    assert_int_equal(n, 6);
    unsigned uses = 0;
    for (size_t i = 0; i < n; i++) {
        uses |= list[i].special_use;
        assert_true(list[i].attrs & STORE_MBX_SUBSCRIBED);
        assert_true(list[i].uidvalidity != 0);
        assert_int_equal(list[i].uidnext, 1);
    }
    free(list);
    assert_int_equal(uses, STORE_USE_ALL_BITS);
    assert_int_equal(mbox(db, "Trash").special_use, STORE_USE_TRASH);
    assert_int_equal(mbox(db, "inbox").special_use, 0);

    /* Deleted by the user: not created again, on this open or the next. */
    assert_int_equal(store_mailbox_delete(db, "Junk"), STORE_OK);
    assert_int_equal(store_ensure_defaults(db), STORE_OK);
    sqlite3_close(db);
    db = open_store();
    store_mailbox mb;
    assert_int_equal(store_mailbox_get(db, "Junk", &mb), STORE_ERR_NOMAILBOX);
    assert_int_equal(sql_int(db, "SELECT count(*) FROM mailboxes"), 5);
    /* Junk stays subscribed as a name (RFC 9051 6.3.7). */
    char **names;
    assert_int_equal(store_subscriptions(db, &names, &n), STORE_OK);
    assert_int_equal(n, 6);
    store_names_free(&names, n);
    assert_null(names);
    sqlite3_close(db);
}

static void test_names(void **state)
{
    (void)state;
    char out[STORE_NAME_MAX + 1];
    assert_int_equal(store_name_normalize("iNbOx/Sub", out), STORE_OK);
    assert_string_equal(out, "INBOX/Sub");
    assert_int_equal(store_name_normalize("Inboxes", out), STORE_OK);
    assert_string_equal(out, "Inboxes");
    assert_int_equal(store_name_normalize("Gr\xc3\xbc\xc3\x9f"
                                          "e/a",
                                          out),
                     STORE_OK);
    const char *bad[] = {"", "/a", "a/", "a//b", "a*", "b%", "a\tb", "\xc3(", "\xed\xa0\x80"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(store_name_normalize(bad[i], out), STORE_ERR_INVALID);
    char longname[STORE_NAME_MAX + 2];
    memset(longname, 'a', sizeof(longname) - 1);
    longname[sizeof(longname) - 1] = '\0';
    assert_int_equal(store_name_normalize(longname, out), STORE_ERR_INVALID);
    assert_true(store_keyword_valid("$Forwarded"));
    assert_false(store_keyword_valid("\\Seen"));
    assert_false(store_keyword_valid("a b"));
    assert_false(store_keyword_valid("a]"));
}

static void test_uidvalidity_stable(void **state)
{
    (void)state;
    sqlite3 *db = open_store();
    store_mailbox a = mbox(db, "INBOX");
    put(db, "INBOX", "one", 0, NULL);
    sqlite3_close(db);
    db = open_store();
    store_mailbox b = mbox(db, "INBOX");
    assert_int_equal(a.uidvalidity, b.uidvalidity);
    assert_int_equal(a.id, b.id);
    assert_int_equal(b.uidnext, 2);
    /* A new mailbox of a deleted name is another mailbox. */
    assert_int_equal(store_mailbox_create(db, "Tmp", 0), STORE_OK);
    uint32_t v1 = mbox(db, "Tmp").uidvalidity;
    assert_int_equal(store_mailbox_create(db, "Tmp", 0), STORE_ERR_EXISTS);
    assert_int_equal(store_mailbox_delete(db, "Tmp"), STORE_OK);
    assert_int_equal(store_mailbox_create(db, "Tmp", 0), STORE_OK);
    assert_int_not_equal(mbox(db, "Tmp").uidvalidity, v1);
    /* A selected mailbox deleted by another session is gone for good: its id
     * is never given to a new mailbox. */
    int64_t stale = mbox(db, "Tmp").id;
    assert_int_equal(store_mailbox_delete(db, "Tmp"), STORE_OK);
    assert_int_equal(store_mailbox_create(db, "Other", 0), STORE_OK);
    assert_true(mbox(db, "Other").id > stale);
    store_status st;
    assert_int_equal(store_mailbox_status(db, stale, &st), STORE_ERR_NOMAILBOX);
    assert_int_equal(store_msg_foreach(db, stale, 0, NULL, NULL), STORE_ERR_NOMAILBOX);
    sqlite3_close(db);
}

static void test_rename_children(void **state)
{
    (void)state;
    sqlite3 *db = open_store();
    assert_int_equal(store_mailbox_create(db, "a/b/c", 0), STORE_OK);
    store_mailbox a = mbox(db, "a"), ab = mbox(db, "a/b");
    assert_true(a.attrs & STORE_MBX_HASCHILDREN);
    assert_false(mbox(db, "a/b/c").attrs & STORE_MBX_HASCHILDREN);
    assert_int_equal(store_subscribe(db, "a/b"), STORE_OK);
    put(db, "a/b", "x", STORE_FLAG_SEEN, NULL);
    assert_int_equal(store_mailbox_create(db, "ab", 0), STORE_OK); /* not a child of a */

    assert_int_equal(store_mailbox_rename(db, "a", "x/y"), STORE_OK);
    store_mailbox mb;
    assert_int_equal(store_mailbox_get(db, "a", &mb), STORE_ERR_NOMAILBOX);
    assert_int_equal(store_mailbox_get(db, "a/b", &mb), STORE_ERR_NOMAILBOX);
    assert_int_equal(mbox(db, "x/y").id, a.id);
    store_mailbox moved = mbox(db, "x/y/b");
    assert_int_equal(moved.id, ab.id);
    assert_int_equal(moved.uidvalidity, ab.uidvalidity);
    assert_true(moved.attrs & STORE_MBX_SUBSCRIBED);
    mbox(db, "x/y/b/c");
    mbox(db, "x");  /* superior created */
    mbox(db, "ab"); /* untouched */
    store_status st;
    assert_int_equal(store_mailbox_status(db, moved.id, &st), STORE_OK);
    assert_int_equal(st.messages, 1);
    assert_int_equal(st.unseen, 0);

    /* Conflicts and forbidden renames change nothing. */
    assert_int_equal(store_mailbox_create(db, "z/b/c", 0), STORE_OK);
    assert_int_equal(store_mailbox_rename(db, "x/y", "z"), STORE_ERR_EXISTS);
    assert_int_equal(store_mailbox_delete(db, "z/b/c"), STORE_OK);
    assert_int_equal(store_mailbox_delete(db, "z/b"), STORE_OK);
    assert_int_equal(store_mailbox_rename(db, "x/y", "x/y/b/q"), STORE_ERR_INVALID);
    assert_int_equal(store_mailbox_rename(db, "nope", "q"), STORE_ERR_NOMAILBOX);
    assert_int_equal(store_mailbox_rename(db, "ab", "inbox"), STORE_ERR_EXISTS);

    /* RFC 9051 6.3.5: a mailbox with inferiors becomes \Noselect. */
    assert_int_equal(store_mailbox_delete(db, "x/y/b"), STORE_OK);
    mb = mbox(db, "x/y/b");
    assert_true(mb.attrs & STORE_MBX_NOSELECT);
    assert_int_equal(store_mailbox_status(db, mb.id, &st), STORE_ERR_NOSELECT);
    assert_int_equal(sql_int(db, "SELECT count(*) FROM messages"), 0);
    assert_int_equal(store_mailbox_delete(db, "x/y/b"), STORE_ERR_HASCHILDREN);
    assert_int_equal(store_append(db, "x/y/b", "a", 1, 0, 0, NULL, NULL, NULL, NULL),
                     STORE_ERR_NOSELECT);
    /* CREATE of a \Noselect name makes it selectable again. */
    assert_int_equal(store_mailbox_create(db, "x/y/b", 0), STORE_OK);
    assert_false(mbox(db, "x/y/b").attrs & STORE_MBX_NOSELECT);
    assert_int_equal(store_mailbox_delete(db, "INBOX"), STORE_ERR_INBOX);

    /* RFC 9051 6.3.6: renaming INBOX moves its messages, leaves it empty. */
    store_mailbox inbox = mbox(db, "INBOX");
    put(db, "INBOX", "in1", 0, NULL);
    assert_int_equal(store_mailbox_create(db, "INBOX/keep", 0), STORE_OK);
    assert_int_equal(store_mailbox_rename(db, "inbox", "INBOX/old"), STORE_OK);
    store_mailbox old = mbox(db, "INBOX/old"), newin = mbox(db, "INBOX");
    assert_int_equal(old.id, inbox.id);
    assert_int_equal(old.uidvalidity, inbox.uidvalidity);
    assert_int_not_equal(newin.id, inbox.id);
    assert_int_equal(newin.uidnext, 1);
    mbox(db, "INBOX/keep");
    assert_int_equal(store_mailbox_status(db, old.id, &st), STORE_OK);
    assert_int_equal(st.messages, 1);

    /* Non-ASCII names: the suffix arithmetic counts characters on both sides. */
    assert_int_equal(store_mailbox_create(db,
                                          "Gr\xc3\xbc\xc3\x9f"
                                          "e/\xc3\xa4/b",
                                          0),
                     STORE_OK);
    assert_int_equal(store_mailbox_rename(db,
                                          "Gr\xc3\xbc\xc3\x9f"
                                          "e",
                                          "\xc3\x9c"),
                     STORE_OK);
    mbox(db, "\xc3\x9c/\xc3\xa4/b");
    assert_int_equal(store_mailbox_rename(db, "\xc3\x9c/\xc3\xa4", "plain"), STORE_OK);
    mbox(db, "plain/b");
    sqlite3_close(db);
}

/* ---- Messages --------------------------------------------------------------- */

static void test_append_fetch(void **state)
{
    (void)state;
    sqlite3 *db = open_store();
    const char *kw[] = {"$Forwarded", "work", "WORK", NULL};
    uint32_t uid = put(db, "INBOX", "hello", STORE_FLAG_SEEN | STORE_FLAG_FLAGGED, kw);
    int64_t id = mbox(db, "INBOX").id;
    store_msg_info in;
    assert_int_equal(store_fetch_info(db, id, uid, &in), STORE_OK);
    assert_int_equal(in.flags, STORE_FLAG_SEEN | STORE_FLAG_FLAGGED);
    assert_string_equal(in.keywords, "$Forwarded work");
    assert_string_equal(in.subject, "hello");
    assert_string_equal(in.envelope, "(NIL NIL)");
    assert_null(in.bodystructure);
    assert_int_equal(in.internal_date, 1700000000);
    assert_int_equal(in.header_len, strlen("Subject: hello\r\nFrom: a@example.org\r\n\r\n"));
    uint64_t size = in.size;
    store_msg_info_free(&in);
    assert_null(in.subject);

    unsigned char *data;
    size_t len;
    assert_int_equal(store_fetch_raw(db, id, uid, 0, UINT64_MAX, &data, &len), STORE_OK);
    assert_int_equal(len, size);
    assert_memory_equal(data, "Subject: hello\r\n", 16);
    free(data);
    assert_int_equal(store_fetch_raw(db, id, uid, 9, 5, &data, &len), STORE_OK);
    assert_int_equal(len, 5);
    assert_memory_equal(data, "hello", 5);
    free(data);
    assert_int_equal(store_fetch_raw(db, id, uid, size + 10, 5, &data, &len), STORE_OK);
    assert_int_equal(len, 0);
    free(data);
    assert_int_equal(store_fetch_raw(db, id, uid + 1, 0, 5, &data, &len), STORE_ERR_NOTFOUND);

    char *all;
    assert_int_equal(store_mailbox_keywords(db, id, &all), STORE_OK);
    assert_string_equal(all, "$Forwarded work");
    free(all);
    const char *badkw[] = {"ok", "\\Seen", NULL};
    assert_int_equal(store_append(db, "INBOX", "x", 1, 0, 0, badkw, NULL, NULL, NULL),
                     STORE_ERR_INVALID);
    assert_int_equal(store_append(db, "INBOX", "x", 1, 0, 0x100, NULL, NULL, NULL, NULL),
                     STORE_ERR_INVALID);
    assert_int_equal(store_append(db, "Nope", "x", 1, 0, 0, NULL, NULL, NULL, NULL),
                     STORE_ERR_NOMAILBOX);
    assert_int_equal(sql_int(db, "SELECT count(*) FROM messages"), 1);

    /* Bare LF line ends; a message without a body. */
    uint32_t u2, u3;
    assert_int_equal(store_append(db, "INBOX", "A: b\n\nbody\n", 11, 0, 0, NULL, NULL, &u2, NULL),
                     STORE_OK);
    assert_int_equal(store_fetch_info(db, id, u2, &in), STORE_OK);
    assert_int_equal(in.header_len, 6);
    assert_null(in.envelope);
    store_msg_info_free(&in);
    assert_int_equal(store_append(db, "INBOX", "A: b", 4, 0, 0, NULL, NULL, &u3, NULL), STORE_OK);
    assert_int_equal(store_fetch_info(db, id, u3, &in), STORE_OK);
    assert_int_equal(in.header_len, 4);
    store_msg_info_free(&in);

    /* At most STORE_KEYWORDS_MAX keywords on a message. */
    char names[STORE_KEYWORDS_MAX + 1][16];
    const char *many[STORE_KEYWORDS_MAX + 2];
    for (int i = 0; i <= STORE_KEYWORDS_MAX; i++) {
        snprintf(names[i], sizeof(names[i]), "k%d", i);
        many[i] = names[i];
    }
    many[STORE_KEYWORDS_MAX + 1] = NULL;
    assert_int_equal(store_append(db, "INBOX", "x", 1, 0, 0, many, NULL, NULL, NULL),
                     STORE_ERR_LIMIT);
    many[STORE_KEYWORDS_MAX] = NULL;
    assert_int_equal(store_append(db, "INBOX", "x", 1, 0, 0, many, NULL, NULL, NULL), STORE_OK);
    store_range r = {1, UINT32_MAX};
    store_uidset every = {&r, 1};
    store_flags_result fr;
    const char *extra[] = {"more", NULL};
    assert_int_equal(store_set_flags(db, id, &every, STORE_FLAGS_ADD, 0, extra, 0, &fr),
                     STORE_ERR_LIMIT);
    assert_int_equal(sql_int(db, "SELECT count(*) FROM messages WHERE keywords LIKE '%more%'"), 0);
    sqlite3_close(db);
}

static void test_subscriptions(void **state)
{
    (void)state;
    sqlite3 *db = open_store();
    assert_int_equal(store_subscribe(db, "Not/There"), STORE_OK); /* names, not mailboxes */
    assert_int_equal(store_subscribe(db, "Not/There"), STORE_OK);
    assert_int_equal(store_unsubscribe(db, "Sent"), STORE_OK);
    assert_false(mbox(db, "Sent").attrs & STORE_MBX_SUBSCRIBED);
    assert_true(mbox(db, "Drafts").attrs & STORE_MBX_SUBSCRIBED);
    char **names;
    size_t n;
    assert_int_equal(store_subscriptions(db, &names, &n), STORE_OK);
    int found = 0;
    for (size_t i = 0; i < n; i++) {
        found += strcmp(names[i], "Not/There") == 0;
        assert_string_not_equal(names[i], "Sent");
    }
    assert_int_equal(found, 1);
    store_names_free(&names, n);
    assert_int_equal(store_subscribe(db, "a//b"), STORE_ERR_INVALID);
    sqlite3_close(db);
}

static void test_uids_never_reused(void **state)
{
    (void)state;
    sqlite3 *db = open_store();
    int64_t id = mbox(db, "INBOX").id;
    assert_int_equal(put(db, "INBOX", "1", 0, NULL), 1);
    assert_int_equal(put(db, "INBOX", "2", 0, NULL), 2);
    assert_int_equal(put(db, "INBOX", "3", STORE_FLAG_DELETED, NULL), 3);
    store_uids gone = {0};
    uint64_t modseq;
    assert_int_equal(store_expunge(db, id, NULL, &gone, &modseq), STORE_OK);
    assert_int_equal(gone.n, 1);
    assert_int_equal(gone.uids[0], 3);
    store_uids_free(&gone);
    assert_int_equal(put(db, "INBOX", "4", 0, NULL), 4);
    sqlite3_close(db);
    db = open_store();
    assert_int_equal(put(db, "INBOX", "5", 0, NULL), 5);
    assert_int_equal(mbox(db, "INBOX").uidnext, 6);
    /* UIDs are per mailbox. */
    assert_int_equal(put(db, "Sent", "s", 0, NULL), 1);
    sqlite3_close(db);
}

static int collect_modseq(void *ctx, const store_msg_row *row)
{
    uint64_t *v = ctx;
    v[row->uid] = row->modseq;
    return 0;
}

static void test_modseq(void **state)
{
    (void)state;
    sqlite3 *db = open_store();
    int64_t id = mbox(db, "INBOX").id;
    uint64_t hms0 = mbox(db, "INBOX").highestmodseq;
    assert_true(hms0 > 0);
    put(db, "INBOX", "1", 0, NULL);
    put(db, "INBOX", "2", 0, NULL);
    uint64_t ms[4] = {0};
    assert_int_equal(store_msg_foreach(db, id, 0, collect_modseq, ms), STORE_OK);
    assert_true(ms[1] > hms0 && ms[2] > ms[1]);
    assert_int_equal(mbox(db, "INBOX").highestmodseq, ms[2]);

    store_range r;
    store_uidset s = one(&r, 1, 1);
    store_flags_result res;
    const char *kw[] = {"Junk", NULL};
    assert_int_equal(store_set_flags(db, id, &s, STORE_FLAGS_ADD, STORE_FLAG_SEEN, kw, 0, &res),
                     STORE_OK);
    assert_int_equal(res.changed.n, 1);
    assert_true(res.modseq > ms[2]);
    assert_int_equal(mbox(db, "INBOX").highestmodseq, res.modseq);
    uint64_t m1 = res.modseq;
    store_flags_result_free(&res);

    /* A STORE that changes nothing keeps the MODSEQ and wakes nobody. */
    uint64_t cc0, cc1;
    assert_int_equal(store_change_counter(db, &cc0), STORE_OK);
    const char *kwcase[] = {"JUNK", NULL};
    assert_int_equal(store_set_flags(db, id, &s, STORE_FLAGS_ADD, STORE_FLAG_SEEN, kwcase, 0, &res),
                     STORE_OK);
    assert_int_equal(res.changed.n, 0);
    assert_int_equal(res.modseq, 0);
    store_flags_result_free(&res);
    assert_int_equal(mbox(db, "INBOX").highestmodseq, m1);
    assert_int_equal(store_change_counter(db, &cc1), STORE_OK);
    assert_int_equal(cc1, cc0);

    /* CHANGEDSINCE lists only what changed. */
    uint64_t seen[4] = {0};
    assert_int_equal(store_msg_foreach(db, id, ms[2], collect_modseq, seen), STORE_OK);
    assert_int_equal(seen[1], m1);
    assert_int_equal(seen[2], 0);

    /* Remove and replace. */
    s = one(&r, 1, 2);
    assert_int_equal(store_set_flags(db, id, &s, STORE_FLAGS_REMOVE, STORE_FLAG_SEEN, kw, 0, &res),
                     STORE_OK);
    assert_int_equal(res.changed.n, 1); /* message 2 had neither */
    assert_true(res.modseq > m1);
    store_flags_result_free(&res);
    assert_int_equal(
        store_set_flags(db, id, &s, STORE_FLAGS_REPLACE, STORE_FLAG_DELETED, NULL, 0, &res),
        STORE_OK);
    assert_int_equal(res.changed.n, 2);
    uint64_t m3 = res.modseq;
    store_flags_result_free(&res);
    store_msg_info in;
    assert_int_equal(store_fetch_info(db, id, 1, &in), STORE_OK);
    assert_int_equal(in.flags, STORE_FLAG_DELETED);
    assert_string_equal(in.keywords, "");
    assert_int_equal(in.modseq, m3);
    store_msg_info_free(&in);

    /* Expunge takes a MODSEQ too. */
    uint64_t m4;
    assert_int_equal(store_expunge(db, id, NULL, NULL, &m4), STORE_OK);
    assert_true(m4 > m3);
    assert_int_equal(mbox(db, "INBOX").highestmodseq, m4);
    sqlite3_close(db);
}

static void test_unchangedsince(void **state)
{
    (void)state;
    sqlite3 *db = open_store();
    int64_t id = mbox(db, "INBOX").id;
    put(db, "INBOX", "1", 0, NULL);
    put(db, "INBOX", "2", 0, NULL);
    uint64_t view = mbox(db, "INBOX").highestmodseq; /* the client's view */

    /* Another session changes message 2. */
    store_range r;
    store_uidset s = one(&r, 2, 2);
    store_flags_result res;
    assert_int_equal(
        store_set_flags(db, id, &s, STORE_FLAGS_ADD, STORE_FLAG_ANSWERED, NULL, 0, &res), STORE_OK);
    store_flags_result_free(&res);

    s = one(&r, 1, 2);
    assert_int_equal(
        store_set_flags(db, id, &s, STORE_FLAGS_ADD, STORE_FLAG_DELETED, NULL, view, &res),
        STORE_OK);
    assert_int_equal(res.changed.n, 1);
    assert_int_equal(res.changed.uids[0], 1);
    assert_int_equal(res.modified.n, 1);
    assert_int_equal(res.modified.uids[0], 2);
    store_flags_result_free(&res);
    store_msg_info in;
    assert_int_equal(store_fetch_info(db, id, 2, &in), STORE_OK);
    assert_int_equal(in.flags, STORE_FLAG_ANSWERED);
    store_msg_info_free(&in);
    sqlite3_close(db);
}

static void check_msg(sqlite3 *db, int64_t id, uint32_t uid, unsigned flags, const char *kw,
                      const char *subject)
{
    store_msg_info in;
    assert_int_equal(store_fetch_info(db, id, uid, &in), STORE_OK);
    assert_int_equal(in.flags, flags);
    assert_string_equal(in.keywords, kw);
    assert_string_equal(in.subject, subject);
    store_msg_info_free(&in);
}

static void test_copy_move(void **state)
{
    (void)state;
    sqlite3 *db = open_store();
    int64_t in = mbox(db, "INBOX").id, ar = mbox(db, "Archive").id;
    const char *kw[] = {"$label1", NULL};
    put(db, "INBOX", "a", STORE_FLAG_SEEN, kw);
    put(db, "INBOX", "b", STORE_FLAG_FLAGGED, NULL);
    put(db, "INBOX", "c", 0, NULL);
    put(db, "Archive", "old", 0, NULL);

    store_range r[2] = {{2, 2}, {1, 1}};
    store_uidset s = {r, 2};
    store_copy_result res;
    assert_int_equal(store_copy(db, in, &s, "Archive", &res), STORE_OK);
    assert_int_equal(res.uidvalidity, mbox(db, "Archive").uidvalidity);
    assert_int_equal(res.src.n, 2);
    assert_int_equal(res.src.uids[0], 1);
    assert_int_equal(res.src.uids[1], 2);
    assert_int_equal(res.dst.uids[0], 2);
    assert_int_equal(res.dst.uids[1], 3);
    assert_int_equal(mbox(db, "Archive").highestmodseq, res.modseq);
    store_copy_result_free(&res);
    check_msg(db, ar, 2, STORE_FLAG_SEEN, "$label1", "a");
    check_msg(db, ar, 3, STORE_FLAG_FLAGGED, "", "b");
    check_msg(db, in, 1, STORE_FLAG_SEEN, "$label1", "a"); /* still there */
    /* The copy shares the body, but counts for quota. */
    assert_int_equal(sql_int(db, "SELECT count(*) FROM bodies"), 4);
    uint64_t used, limit;
    assert_int_equal(store_quota_get(db, &used, &limit), STORE_OK);
    assert_int_equal(used, (uint64_t)sql_int(db, "SELECT sum(size) FROM messages"));

    uint64_t before = mbox(db, "INBOX").highestmodseq;
    store_range rr;
    s = one(&rr, 1, 10);
    assert_int_equal(store_move(db, in, &s, "Trash", &res), STORE_OK);
    assert_int_equal(res.src.n, 3);
    assert_int_equal(res.dst.n, 3);
    assert_int_equal(res.dst.uids[2], 3);
    uint64_t mm = res.modseq;
    store_copy_result_free(&res);
    int64_t tr = mbox(db, "Trash").id;
    check_msg(db, tr, 1, STORE_FLAG_SEEN, "$label1", "a");
    check_msg(db, tr, 3, 0, "", "c");
    store_status st;
    assert_int_equal(store_mailbox_status(db, in, &st), STORE_OK);
    assert_int_equal(st.messages, 0);
    assert_true(mbox(db, "INBOX").highestmodseq > before);
    store_uids v;
    assert_int_equal(store_vanished(db, in, before, NULL, &v), STORE_OK);
    assert_int_equal(v.n, 3);
    store_uids_free(&v);
    assert_int_equal(mbox(db, "Trash").highestmodseq, mm);
    /* Copy of nothing, copy to a missing mailbox. */
    assert_int_equal(store_copy(db, in, &s, "Archive", &res), STORE_OK);
    assert_int_equal(res.src.n, 0);
    assert_int_equal(store_copy(db, tr, &s, "Nope", &res), STORE_ERR_NOMAILBOX);
    /* Bodies go with their last message. */
    assert_int_equal(store_move(db, ar, &s, "Trash", &res), STORE_OK);
    store_copy_result_free(&res);
    assert_int_equal(sql_int(db, "SELECT count(*) FROM messages"), 6);
    assert_int_equal(sql_int(db, "SELECT count(*) FROM bodies"), 4);
    store_flags_result fr;
    assert_int_equal(store_set_flags(db, tr, &s, STORE_FLAGS_ADD, STORE_FLAG_DELETED, NULL, 0, &fr),
                     STORE_OK);
    assert_int_equal(fr.changed.n, 6);
    store_flags_result_free(&fr);
    assert_int_equal(store_expunge(db, tr, NULL, NULL, NULL), STORE_OK);
    assert_int_equal(sql_int(db, "SELECT count(*) FROM bodies"), 0);
    assert_int_equal(store_quota_get(db, &used, &limit), STORE_OK);
    assert_int_equal(used, 0);
    sqlite3_close(db);
}

static void test_expunge_log(void **state)
{
    (void)state;
    sqlite3 *db = open_store();
    int64_t id = mbox(db, "INBOX").id;
    for (int i = 0; i < 6; i++)
        put(db, "INBOX", "m", i % 2 ? STORE_FLAG_DELETED : 0, NULL);
    uint64_t m0 = mbox(db, "INBOX").highestmodseq;
    /* UID EXPUNGE 1:4: only the \Deleted ones in the set. */
    store_range r;
    store_uidset s = one(&r, 1, 4);
    store_uids gone = {0};
    uint64_t m1, m2;
    assert_int_equal(store_expunge(db, id, &s, &gone, &m1), STORE_OK);
    assert_int_equal(gone.n, 2);
    assert_int_equal(gone.uids[0], 2);
    assert_int_equal(gone.uids[1], 4);
    store_uids_free(&gone);
    assert_int_equal(store_expunge(db, id, NULL, &gone, &m2), STORE_OK);
    assert_int_equal(gone.n, 1);
    assert_int_equal(gone.uids[0], 6);
    store_uids_free(&gone);
    assert_true(m2 > m1 && m1 > m0);
    /* Nothing to expunge: no MODSEQ. */
    uint64_t m3 = 99;
    assert_int_equal(store_expunge(db, id, NULL, NULL, &m3), STORE_OK);
    assert_int_equal(m3, 0);

    store_uids v;
    assert_int_equal(store_vanished(db, id, m0, NULL, &v), STORE_OK);
    assert_int_equal(v.n, 3);
    store_uids_free(&v);
    assert_int_equal(store_vanished(db, id, m1, NULL, &v), STORE_OK);
    assert_int_equal(v.n, 1);
    assert_int_equal(v.uids[0], 6);
    store_uids_free(&v);
    store_range q = {3, 5};
    store_uidset qs = {&q, 1};
    assert_int_equal(store_vanished(db, id, 0, &qs, &v), STORE_OK);
    assert_int_equal(v.n, 1);
    assert_int_equal(v.uids[0], 4);
    store_uids_free(&v);
    store_range bad = {5, 3};
    qs.ranges = &bad;
    assert_int_equal(store_vanished(db, id, 0, &qs, &v), STORE_ERR_INVALID);
    sqlite3_close(db);
}

static void test_quota(void **state)
{
    (void)state;
    sqlite3 *db = open_store();
    assert_int_equal(store_quota_set_limit(db, 1000), STORE_OK);
    static char big[600];
    memset(big, 'x', sizeof(big));
    memcpy(big, "Subject: big\r\n\r\n", 16);
    uint32_t uid;
    assert_int_equal(store_append(db, "INBOX", big, sizeof(big), 0, 0, NULL, NULL, &uid, NULL),
                     STORE_OK);
    store_mailbox before = mbox(db, "INBOX");
    uint64_t cc0;
    assert_int_equal(store_change_counter(db, &cc0), STORE_OK);
    assert_int_equal(store_append(db, "INBOX", big, sizeof(big), 0, 0, NULL, NULL, &uid, NULL),
                     STORE_ERR_QUOTA);
    store_mailbox after = mbox(db, "INBOX");
    assert_int_equal(after.uidnext, before.uidnext);
    assert_int_equal(after.highestmodseq, before.highestmodseq);
    uint64_t used, limit, cc1;
    assert_int_equal(store_quota_get(db, &used, &limit), STORE_OK);
    assert_int_equal(used, 600);
    assert_int_equal(limit, 1000);
    assert_int_equal(store_change_counter(db, &cc1), STORE_OK);
    assert_int_equal(cc1, cc0);
    assert_int_equal(sql_int(db, "SELECT count(*) FROM bodies"), 1);
    assert_int_equal(sql_int(db, "SELECT count(*) FROM messages"), 1);
    /* A copy counts; a move does not add. */
    store_range r;
    store_uidset s = one(&r, 1, 1);
    store_copy_result res;
    assert_int_equal(store_copy(db, before.id, &s, "Archive", &res), STORE_ERR_QUOTA);
    assert_int_equal(store_move(db, before.id, &s, "Archive", &res), STORE_OK);
    store_copy_result_free(&res);
    /* Expunge frees. */
    int64_t ar = mbox(db, "Archive").id;
    store_flags_result fr;
    assert_int_equal(store_set_flags(db, ar, &s, STORE_FLAGS_ADD, STORE_FLAG_DELETED, NULL, 0, &fr),
                     STORE_OK);
    store_flags_result_free(&fr);
    assert_int_equal(store_expunge(db, ar, NULL, NULL, NULL), STORE_OK);
    assert_int_equal(store_quota_get(db, &used, &limit), STORE_OK);
    assert_int_equal(used, 0);
    assert_int_equal(sql_int(db, "SELECT count(*) FROM bodies"), 0);
    assert_int_equal(store_append(db, "INBOX", big, sizeof(big), 0, 0, NULL, NULL, &uid, NULL),
                     STORE_OK);
    sqlite3_close(db);
}

/* ---- Store ------------------------------------------------------------------- */

static void test_newer_schema_refused(void **state)
{
    (void)state;
    sqlite3 *db = open_store();
    assert_int_equal(sql_int(db, "PRAGMA user_version"), store_schema_version());
    assert_int_equal(sql_int(db, "PRAGMA cache_size"), -STORE_CACHE_KIB); /* store_attach */
    char sql[64];
    snprintf(sql, sizeof(sql), "PRAGMA user_version=%d", store_schema_version() + 1);
    assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
    db = open_raw();
    char err[256] = "";
    assert_int_equal(store_attach(db, err, sizeof(err)), STORE_ERR_SCHEMA);
    assert_non_null(strstr(err, "newer"));
    sqlite3_close(db);
}

static void test_change_counter(void **state)
{
    (void)state;
    sqlite3 *a = open_store(), *b = open_store();
    uint64_t c0, c1;
    int64_t v0, v1, va0, va1;
    assert_int_equal(store_change_counter(b, &c0), STORE_OK);
    assert_int_equal(store_data_version(b, &v0), STORE_OK);
    assert_int_equal(store_data_version(a, &va0), STORE_OK);
    put(a, "INBOX", "x", 0, NULL);
    assert_int_equal(store_data_version(b, &v1), STORE_OK);
    assert_int_equal(store_data_version(a, &va1), STORE_OK);
    assert_true(v1 != v0);   /* another connection committed */
    assert_true(va1 == va0); /* own commits do not count */
    assert_int_equal(store_change_counter(b, &c1), STORE_OK);
    assert_true(c1 > c0);
    /* Calls grouped in one caller transaction commit together. */
    assert_int_equal(store_begin(a), STORE_OK);
    put(a, "INBOX", "y", 0, NULL);
    put(a, "INBOX", "z", 0, NULL);
    store_rollback(a);
    assert_int_equal(mbox(b, "INBOX").uidnext, 2);
    assert_int_equal(store_begin(a), STORE_OK);
    put(a, "INBOX", "y", 0, NULL);
    assert_int_equal(store_append(a, "Nope", "x", 1, 0, 0, NULL, NULL, NULL, NULL),
                     STORE_ERR_NOMAILBOX); /* rolls back only itself */
    put(a, "INBOX", "z", 0, NULL);
    assert_int_equal(store_commit(a), STORE_OK);
    assert_int_equal(mbox(b, "INBOX").uidnext, 4);
    sqlite3_close(a);
    sqlite3_close(b);
}

static void test_delivery_once(void **state)
{
    (void)state;
    sqlite3 *db = open_store();
    /* A drain that fails after recording leaves nothing behind. */
    assert_int_equal(store_begin(db), STORE_OK);
    assert_int_equal(store_delivery_record(db, "spool-1"), STORE_OK);
    put(db, "INBOX", "d1", 0, NULL);
    store_rollback(db);
    assert_int_equal(sql_int(db, "SELECT count(*) FROM deliveries"), 0);
    for (int round = 0; round < 2; round++) {
        assert_int_equal(store_begin(db), STORE_OK);
        int rc = store_delivery_record(db, "spool-1");
        assert_int_equal(rc, round == 0 ? STORE_OK : STORE_ERR_EXISTS);
        if (rc == STORE_OK) {
            put(db, "INBOX", "d1", 0, NULL);
            assert_int_equal(store_commit(db), STORE_OK);
        } else {
            store_rollback(db);
        }
    }
    assert_int_equal(sql_int(db, "SELECT count(*) FROM messages"), 1);
    assert_int_equal(store_delivery_record(db, ""), STORE_ERR_INVALID);
    assert_int_equal(store_delivery_prune(db, (int64_t)time(NULL) + 10), STORE_OK);
    assert_int_equal(store_delivery_record(db, "spool-1"), STORE_OK);
    sqlite3_close(db);
}

/* Runs a search; returns the matching UIDs as a bit set (UIDs < 32). */
int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_defaults_once, setup, teardown),
        cmocka_unit_test(test_names),
        cmocka_unit_test_setup_teardown(test_uidvalidity_stable, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rename_children, setup, teardown),
        cmocka_unit_test_setup_teardown(test_append_fetch, setup, teardown),
        cmocka_unit_test_setup_teardown(test_subscriptions, setup, teardown),
        cmocka_unit_test_setup_teardown(test_uids_never_reused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_modseq, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unchangedsince, setup, teardown),
        cmocka_unit_test_setup_teardown(test_copy_move, setup, teardown),
        cmocka_unit_test_setup_teardown(test_expunge_log, setup, teardown),
        cmocka_unit_test_setup_teardown(test_quota, setup, teardown),
        cmocka_unit_test_setup_teardown(test_newer_schema_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_change_counter, setup, teardown),
        cmocka_unit_test_setup_teardown(test_delivery_once, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
