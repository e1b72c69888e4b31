/* Unit tests for lib/store SORT (sort.c): every key, REVERSE, ties, the
 * i;ascii-casemap collation, the filter, missing keys and their backfill,
 * the upgrade of a version 4 store; and the rows THREAD reads
 * (thread_rows.c). */
#include "store_fixture.h"
#include "store_sort.h"

typedef struct {
    const char *subject, *sort_subject, *from, *to, *cc, *dfrom, *dto;
    int64_t internal, sent;
    size_t size;
} sort_msg;

/* uid: subject  from   to   cc   display_from display_to internal sent size */
static const sort_msg msgs[] = {
    {"Re: beta", "beta", "carol", "zed", "", "Carol Z", "zed@x", 1000, 5000, 300},
    {"Alpha", "Alpha", "alice", "Bob", "x", "_under", "Bob", 3000, 0, 100},
    {"[list] BETA", "BETA", "Bob", "amy", "y", "carol", "", 2000, 4000, 200},
    {"", "", "", "", "", "", "", 4000, 1000, 400},
};

static uint32_t put_sort(sqlite3 *db, const sort_msg *m, bool keys)
{
    char raw[1024];
    int n = snprintf(raw, sizeof(raw), "Subject: %s\r\n\r\n", m->subject);
    memset(raw + n, 'x', m->size - (size_t)n);
    store_msg_meta meta = {.subject = m->subject, .sent_date = m->sent};
    if (keys) {
        meta.sort_subject = m->sort_subject;
        meta.sort_from = m->from;
        meta.sort_to = m->to;
        meta.sort_cc = m->cc;
        meta.display_from = m->dfrom;
        meta.display_to = m->dto;
    }
    uint32_t uid = 0;
    int rc = store_append(db, "INBOX", raw, m->size, m->internal, 0, NULL, &meta, &uid, NULL);
    if (rc != STORE_OK)
        fail_msg("append: %s: %s", store_strerror(rc), sqlite3_errmsg(db));
    return uid;
}

/* The sorted UIDs as digits ("4213"), or the error. */
static int sorted(sqlite3 *db, int64_t id, const store_sort_key *keys, size_t nkeys,
                  const store_search *filter, char out[32])
{
    store_uids u;
    int rc = store_sort_uids(db, id, keys, nkeys, filter, &u);
    out[0] = '\0';
    for (size_t i = 0; rc == STORE_OK && i < u.n && i < 31; i++) {
        out[i] = (char)('0' + u.uids[i]);
        out[i + 1] = '\0';
    }
    store_uids_free(&u);
    return rc;
}

static void check_sort(sqlite3 *db, int64_t id, store_sort_kind kind, bool reverse,
                       const char *want)
{
    char got[32];
    store_sort_key k = {kind, reverse};
    int rc = sorted(db, id, &k, 1, NULL, got);
    if (rc != STORE_OK)
        fail_msg("sort %d: %s", (int)kind, store_strerror(rc));
    if (strcmp(got, want) != 0)
        fail_msg("sort %d%s: got %s, want %s", (int)kind, reverse ? " reverse" : "", got, want);
}

static void test_sort_keys(void **state)
{
    (void)state;
    sqlite3 *db = open_store();
    int64_t id = mbox(db, "INBOX").id;
    for (size_t i = 0; i < 4; i++)
        assert_int_equal(put_sort(db, &msgs[i], true), i + 1);
    check_sort(db, id, STORE_SORT_ARRIVAL, false, "1324");
    check_sort(db, id, STORE_SORT_ARRIVAL, true, "4231");
    /* DATE: message 2 has no parseable Date: its internal date counts */
    check_sort(db, id, STORE_SORT_DATE, false, "4231");
    check_sort(db, id, STORE_SORT_SIZE, false, "2314");
    /* base subjects "", Alpha, beta, BETA: equal ones stay in UID order,
     * also reversed (RFC 5256 3: the tie-break is the sequence order) */
    check_sort(db, id, STORE_SORT_SUBJECT, false, "4213");
    check_sort(db, id, STORE_SORT_SUBJECT, true, "1324");
    check_sort(db, id, STORE_SORT_FROM, false, "4231");
    check_sort(db, id, STORE_SORT_TO, false, "4321");
    check_sort(db, id, STORE_SORT_CC, false, "1423");
    /* i;ascii-casemap maps a-z to A-Z: "_under" sorts after "Carol Z" and
     * "carol" ('_' is 0x5F, 'C' 0x43); NOCASE would put it first */
    check_sort(db, id, STORE_SORT_DISPLAYFROM, false, "4312");
    check_sort(db, id, STORE_SORT_DISPLAYTO, false, "3421");
    /* Several keys: subject, then arrival reversed. */
    char got[32];
    store_sort_key two[] = {{STORE_SORT_SUBJECT, false}, {STORE_SORT_ARRIVAL, true}};
    assert_int_equal(sorted(db, id, two, 2, NULL, got), STORE_OK);
    assert_string_equal(got, "4231");
    /* The filter is a search key: SORT (SUBJECT) UTF-8 UID 1:2 OR SMALLER 250 */
    store_range r;
    store_search uids = {.kind = STORE_SK_UID, .uids = one(&r, 1, 2)};
    store_search small = {.kind = STORE_SK_SMALLER, .num = 250};
    const store_search *kids[] = {&uids, &small};
    store_search filter = {.kind = STORE_SK_OR, .kids = kids, .nkids = 2};
    assert_int_equal(sorted(db, id, two, 1, &filter, got), STORE_OK);
    assert_string_equal(got, "213");
    /* Bad calls. */
    store_uids u;
    assert_int_equal(store_sort_uids(db, id, two, 0, NULL, &u), STORE_ERR_INVALID);
    assert_int_equal(store_sort_uids(db, id, NULL, 1, NULL, &u), STORE_ERR_INVALID);
    store_sort_key many[STORE_SORT_KEYS_MAX + 1];
    for (size_t i = 0; i <= STORE_SORT_KEYS_MAX; i++)
        many[i] = (store_sort_key){STORE_SORT_SIZE, i % 2 == 1};
    assert_int_equal(sorted(db, id, many, STORE_SORT_KEYS_MAX, NULL, got), STORE_OK);
    assert_string_equal(got, "2314");
    assert_int_equal(store_sort_uids(db, id, many, STORE_SORT_KEYS_MAX + 1, NULL, &u),
                     STORE_ERR_INVALID);
    store_sort_key bad = {(store_sort_kind)99, false};
    assert_int_equal(store_sort_uids(db, id, &bad, 1, NULL, &u), STORE_ERR_INVALID);
    assert_int_equal(store_sort_uids(db, id + 100, two, 1, NULL, &u), STORE_ERR_NOMAILBOX);
    store_search bad_not = {.kind = STORE_SK_NOT};
    assert_int_equal(store_sort_uids(db, id, two, 1, &bad_not, &u), STORE_ERR_INVALID);
    /* An empty mailbox sorts to nothing. */
    assert_int_equal(sorted(db, mbox(db, "Trash").id, two, 2, NULL, got), STORE_OK);
    assert_string_equal(got, "");
    sqlite3_close(db);
}

/* ---- Missing keys and the backfill ------------------------------------------------ */

typedef struct {
    sqlite3 *db;
    size_t calls;
} fill_ctx;

/* A stand-in for lib/mailbox: the keys from the Subject line of the header. */
static int fill_cb(void *ctx, int64_t body_id, const char *header, size_t len)
{
    fill_ctx *c = ctx;
    c->calls++;
    assert_true(len >= 4);
    assert_memory_equal(header + len - 4, "\r\n\r\n", 4); /* the header, not the body */
    assert_int_equal(header[len], '\0');
    char subject[64] = "";
    if (strncmp(header, "Subject: ", 9) == 0)
        sscanf(header + 9, "%63[^\r]", subject);
    store_msg_meta meta = {.sort_subject = subject, .sort_from = "f"}; /* the rest: "" */
    return store_sort_keys_set(c->db, body_id, &meta);
}

static void test_sort_backfill(void **state)
{
    (void)state;
    sqlite3 *db = open_store();
    int64_t id = mbox(db, "INBOX").id;
    assert_int_equal(put_sort(db, &msgs[0], true), 1);
    assert_int_equal(put_sort(db, &msgs[1], false), 2); /* appended without keys */
    assert_int_equal(put_sort(db, &msgs[2], false), 3);
    char got[32];
    store_sort_key subj = {STORE_SORT_SUBJECT, false}, size = {STORE_SORT_SIZE, false};
    /* A sort that needs a missing key fails rather than misorder... */
    assert_int_equal(sorted(db, id, &subj, 1, NULL, got), STORE_ERR_SORT_KEYS);
    assert_string_equal(store_strerror(STORE_ERR_SORT_KEYS), "sort keys not computed yet");
    /* ... one that does not, or whose messages all have it, works. */
    assert_int_equal(sorted(db, id, &size, 1, NULL, got), STORE_OK);
    assert_string_equal(got, "231");
    store_range r;
    store_search only1 = {.kind = STORE_SK_UID, .uids = one(&r, 1, 1)};
    assert_int_equal(sorted(db, id, &subj, 1, &only1, got), STORE_OK);
    assert_string_equal(got, "1");
    /* The lookup of what is missing uses the partial index. */
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_prepare_v2(db,
                                        "EXPLAIN QUERY PLAN SELECT id, header_len FROM bodies "
                                        "WHERE sort_subject IS NULL OR sort_from IS NULL OR "
                                        "sort_to IS NULL OR sort_cc IS NULL OR display_from IS "
                                        "NULL OR display_to IS NULL ORDER BY id LIMIT 1",
                                        -1, &st, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_non_null(strstr((const char *)sqlite3_column_text(st, 3), "bodies_sort_missing"));
    sqlite3_finalize(st);
    /* One body per call, then nothing left. */
    fill_ctx c = {.db = db};
    size_t n = 99;
    assert_int_equal(store_sort_backfill_next(db, 1, fill_cb, &c, &n), STORE_OK);
    assert_int_equal(n, 1);
    assert_int_equal(store_begin(db), STORE_OK);
    assert_int_equal(store_sort_backfill_next(db, 10, fill_cb, &c, &n), STORE_OK);
    assert_int_equal(store_commit(db), STORE_OK);
    assert_int_equal(n, 1);
    assert_int_equal(store_sort_backfill_next(db, 10, fill_cb, &c, &n), STORE_OK);
    assert_int_equal(n, 0);
    assert_int_equal(c.calls, 2);
    assert_int_equal(sql_int(db, "SELECT count(*) FROM bodies WHERE sort_to = ''"), 2);
    assert_int_equal(sorted(db, id, &subj, 1, NULL, got), STORE_OK);
    assert_string_equal(got, "213"); /* Alpha, beta, [list] BETA */
    /* Bad calls; a callback's error stops the batch and comes back. */
    assert_int_equal(store_sort_backfill_next(db, 0, fill_cb, &c, &n), STORE_ERR_INVALID);
    assert_int_equal(
        store_sort_backfill_next(db, STORE_SORT_BACKFILL_BATCH_MAX + 1, fill_cb, &c, &n),
        STORE_ERR_INVALID);
    assert_int_equal(store_sort_backfill_next(db, 1, NULL, &c, &n), STORE_ERR_INVALID);
    store_msg_meta meta = {.sort_subject = "x"};
    assert_int_equal(store_sort_keys_set(db, 12345, &meta), STORE_ERR_NOTFOUND);
    assert_int_equal(store_sort_keys_set(db, 1, NULL), STORE_ERR_INVALID);
    sqlite3_close(db);
}

/* A store made by a binary that knew schema version 4: no sort keys, an
 * expunge log and a DAV change log without times. */
static void make_v4_store(void)
{
    sqlite3 *db = open_raw();
    assert_non_null(db);
    assert_true(store_migration_count >= 5);
    assert_string_equal(store_migrations[4].name, "005_sort_prune.sql");
    char *err = NULL;
    for (int v = 0; v < 4; v++)
        if (sqlite3_exec(db, store_migrations[v].sql, NULL, NULL, &err) != SQLITE_OK)
            fail_msg("v4 store: %s", err);
    static const char *const sql[] = {
        "PRAGMA user_version=4",
        "INSERT INTO mailboxes (name, uidvalidity, uidnext, highestmodseq, created_at) "
        "VALUES ('INBOX', 7, 4, 4, 1700000000)",
        "UPDATE store_meta SET modseq = 4",
        "INSERT INTO bodies (size, header_len, hdr_subject) VALUES (24, 17, 'Zulu'), "
        "(25, 18, 'Alpha')",
        "INSERT INTO body_raw (body_id, raw) VALUES "
        "(1, CAST('Subject: Zulu\r\n\r\nbody1\r\n' AS BLOB)), "
        "(2, CAST('Subject: Alpha\r\n\r\nbody2\r\n' AS BLOB))",
        "INSERT INTO messages (mailbox_id, uid, modseq, flags, internal_date, size, body_id) "
        "VALUES (1, 1, 2, 0, 1700000000, 24, 1), (1, 2, 3, 0, 1700000000, 25, 2)",
        "INSERT INTO expunged (mailbox_id, uid, modseq) VALUES (1, 3, 4)",
    };
    for (size_t i = 0; i < sizeof(sql) / sizeof(sql[0]); i++)
        if (sqlite3_exec(db, sql[i], NULL, NULL, &err) != SQLITE_OK)
            fail_msg("v4 store: %s: %s", sql[i], err);
    sqlite3_close(db);
}

static void test_sort_upgrade(void **state)
{
    (void)state;
    make_v4_store();
    sqlite3 *db = open_store();
    assert_int_equal(sql_int(db, "PRAGMA user_version"), store_schema_version());
    int64_t id = mbox(db, "INBOX").id;
    assert_int_equal(sql_int(db, "SELECT count(*) FROM bodies WHERE sort_subject IS NULL"), 2);
    assert_int_equal(sql_int(db, "SELECT count(*) FROM expunged WHERE expunged_at > 0"), 1);
    assert_int_equal(sql_int(db, "SELECT vanished_floor FROM mailboxes"), 0);
    char got[32];
    store_sort_key subj = {STORE_SORT_SUBJECT, false};
    assert_int_equal(sorted(db, id, &subj, 1, NULL, got), STORE_ERR_SORT_KEYS);
    fill_ctx c = {.db = db};
    size_t n = 0;
    assert_int_equal(store_sort_backfill_next(db, 64, fill_cb, &c, &n), STORE_OK);
    assert_int_equal(n, 2);
    assert_int_equal(sorted(db, id, &subj, 1, NULL, got), STORE_OK);
    assert_string_equal(got, "21");
    /* The old expunge log still answers. */
    store_uids v;
    assert_int_equal(store_vanished(db, id, 1, NULL, &v), STORE_OK);
    assert_int_equal(v.n, 1);
    assert_int_equal(v.uids[0], 3);
    store_uids_free(&v);
    sqlite3_close(db);
}

/* ---- THREAD rows (thread_rows.c) -------------------------------------------------- */

static void test_thread_rows(void **state)
{
    (void)state;
    sqlite3 *db = open_store();
    int64_t id = mbox(db, "INBOX").id;
    static const struct {
        const char *subject, *mid, *irt, *refs;
        int64_t sent;
    } m[] = {
        {"Plans", "<a@x>", NULL, NULL, 100},
        {"Re: [team] plans", "<b@x>", "<a@x>", NULL, 0},
        {"Fwd: Plans (fwd)", "<c@x>", NULL, NULL, 300},
        {"Other", "<d@x>", NULL, "<zz@x> <a@x>", 50},
    };
    for (size_t i = 0; i < 4; i++) {
        const char *raw = "Subject: x\r\n\r\n";
        store_msg_meta meta = {.subject = m[i].subject,
                               .message_id = m[i].mid,
                               .in_reply_to = m[i].irt,
                               .references = m[i].refs,
                               .sent_date = m[i].sent};
        assert_int_equal(store_append(db, "INBOX", raw, strlen(raw), 200 + (int64_t)i, 0, NULL,
                                      &meta, NULL, NULL),
                         STORE_OK);
    }
    store_thread_row *rows = NULL;
    size_t n = 0;
    assert_int_equal(store_thread_rows(db, id, NULL, &rows, &n), STORE_OK);
    assert_int_equal(n, 4);
    assert_int_equal(rows[0].uid, 1);
    assert_string_equal(rows[0].sort_subject, "Plans");
    assert_false(rows[0].reply);
    assert_int_equal(rows[0].date, 100);
    assert_string_equal(rows[1].sort_subject, "plans");
    assert_true(rows[1].reply);
    assert_int_equal(rows[1].date, 201); /* no Date: the internal date */
    assert_string_equal(rows[1].in_reply_to, "<a@x>");
    assert_null(rows[1].references);
    assert_string_equal(rows[2].sort_subject, "Plans");
    assert_true(rows[2].reply);
    assert_string_equal(rows[3].references, "<zz@x> <a@x>");
    store_thread_tree t;
    assert_int_equal(store_thread_build(STORE_THREAD_REFERENCES, rows, n, &t), STORE_OK);
    char *text = NULL;
    assert_int_equal(store_thread_format(&t, NULL, NULL, &text, NULL), STORE_OK);
    /* 2 and 4 reply to 1 (4 by its last reference); 3 by subject */
    assert_string_equal(text, "(1 (4)(2)(3))");
    free(text);
    store_thread_tree_free(&t);
    assert_int_equal(store_thread_build(STORE_THREAD_ORDEREDSUBJECT, rows, n, &t), STORE_OK);
    assert_int_equal(store_thread_format(&t, NULL, NULL, &text, NULL), STORE_OK);
    assert_string_equal(text, "(4)(1 (2)(3))");
    free(text);
    store_thread_tree_free(&t);
    store_thread_rows_free(rows, n);
    /* A filter; a missing mailbox. */
    store_search subj = {.kind = STORE_SK_SUBJECT, .str = "plans"};
    assert_int_equal(store_thread_rows(db, id, &subj, &rows, &n), STORE_OK);
    assert_int_equal(n, 3);
    store_thread_rows_free(rows, n);
    assert_int_equal(store_thread_rows(db, id + 100, NULL, &rows, &n), STORE_ERR_NOMAILBOX);
    assert_null(rows);
    sqlite3_close(db);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_sort_keys, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sort_backfill, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sort_upgrade, setup, teardown),
        cmocka_unit_test_setup_teardown(test_thread_rows, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
