/* Unit tests for lib/store: search keys, full-text search (FTS5) and its migration. */
#include "store_fixture.h"

static uint32_t search_bits(sqlite3 *db, int64_t id, const store_search *k)
{
    store_uids u;
    int rc = store_search_uids(db, id, k, &u);
    if (rc != STORE_OK)
        fail_msg("search: %s: %s", store_strerror(rc), sqlite3_errmsg(db));
    uint32_t bits = 0;
    for (size_t i = 0; i < u.n; i++) {
        assert_true(u.uids[i] < 32);
        assert_true(i == 0 || u.uids[i] > u.uids[i - 1]);
        bits |= 1u << u.uids[i];
    }
    store_uids_free(&u);
    return bits;
}

static void test_search(void **state)
{
    (void)state;
    sqlite3 *db = open_store();
    int64_t id = mbox(db, "INBOX").id;
    const char *kw[] = {"$Important", NULL};
    store_msg_meta m1 = {
        .from = "Alice <alice@example.org>", .subject = "Lunch on Friday", .sent_date = 1700000000};
    store_msg_meta m2 = {
        .from = "Bob <bob@example.net>", .to = "alice@example.org", .subject = "Re: lunch"};
    const char *r1 = "Subject: Lunch\r\n\r\nPizza at noon?\r\n";
    const char *r2 = "Subject: Re: lunch\r\nX-Pizza: no\r\n\r\nSure.\r\n";
    assert_int_equal(
        store_append(db, "INBOX", r1, strlen(r1), 1700086400, STORE_FLAG_SEEN, kw, &m1, NULL, NULL),
        STORE_OK);
    assert_int_equal(
        store_append(db, "INBOX", r2, strlen(r2), 1700172800, 0, NULL, &m2, NULL, NULL), STORE_OK);
    put(db, "INBOX", "third", STORE_FLAG_SEEN | STORE_FLAG_DELETED, NULL); /* uid 3 */

    store_search all = {.kind = STORE_SK_ALL};
    assert_int_equal(search_bits(db, id, &all), 0xe);
    store_search seen = {.kind = STORE_SK_FLAGS_SET, .mask = STORE_FLAG_SEEN};
    assert_int_equal(search_bits(db, id, &seen), 0xa);
    store_search unseen = {.kind = STORE_SK_FLAGS_CLEAR, .mask = STORE_FLAG_SEEN};
    assert_int_equal(search_bits(db, id, &unseen), 0x4);
    store_search kwk = {.kind = STORE_SK_KEYWORD, .str = "$important"};
    assert_int_equal(search_bits(db, id, &kwk), 0x2);
    store_search unkw = {.kind = STORE_SK_UNKEYWORD, .str = "$Important"};
    assert_int_equal(search_bits(db, id, &unkw), 0xc);
    store_search from = {.kind = STORE_SK_FROM, .str = "ALICE"};
    assert_int_equal(search_bits(db, id, &from), 0x2);
    store_search to = {.kind = STORE_SK_TO, .str = "alice"};
    assert_int_equal(search_bits(db, id, &to), 0x4);
    store_search subj = {.kind = STORE_SK_SUBJECT, .str = "lunch"};
    assert_int_equal(search_bits(db, id, &subj), 0x6);
    store_search body = {.kind = STORE_SK_BODY, .str = "pizza"};
    assert_int_equal(search_bits(db, id, &body), 0x2); /* not the X-Pizza header */
    store_search text = {.kind = STORE_SK_TEXT, .str = "pizza"};
    assert_int_equal(search_bits(db, id, &text), 0x6);
    /* Dates: day granularity; SENT* falls back to the internal date. */
    /* Days (UTC): 1699920000 = 2023-11-14, +86400 = 11-15, +2*86400 = 11-16;
     * internal dates: 1 on 11-15, 2 on 11-16, 3 on 11-14. */
    store_search on = {.kind = STORE_SK_ON, .num = 1699920000 + 86400};
    assert_int_equal(search_bits(db, id, &on), 0x2);
    on.num = 1699920000;
    assert_int_equal(search_bits(db, id, &on), 0x8);
    store_search since = {.kind = STORE_SK_SINCE, .num = 1699920000 + 2 * 86400};
    assert_int_equal(search_bits(db, id, &since), 0x4);
    store_search before = {.kind = STORE_SK_BEFORE, .num = 1699920000 + 86400};
    assert_int_equal(search_bits(db, id, &before), 0x8);
    store_search sentbefore = {.kind = STORE_SK_SENTBEFORE, .num = 1699920000 + 86400};
    assert_int_equal(search_bits(db, id, &sentbefore), 0xa); /* 1 by Date:, 3 by internal */
    store_search senton = {.kind = STORE_SK_SENTON, .num = 1699920000};
    assert_int_equal(search_bits(db, id, &senton), 0xa);
    store_search larger = {.kind = STORE_SK_LARGER, .num = (int64_t)strlen(r1)};
    assert_int_equal(search_bits(db, id, &larger), 0xc);
    /* Composition: UNSEEN OR (UID 3 NOT DELETED); NOT. */
    store_range r3 = {3, 3};
    store_search uid3 = {.kind = STORE_SK_UID, .uids = {&r3, 1}};
    store_search del = {.kind = STORE_SK_FLAGS_SET, .mask = STORE_FLAG_DELETED};
    const store_search *notk[] = {&del};
    store_search notdel = {.kind = STORE_SK_NOT, .kids = notk, .nkids = 1};
    const store_search *andk[] = {&uid3, &notdel};
    store_search and = {.kind = STORE_SK_AND, .kids = andk, .nkids = 2};
    const store_search *ork[] = {&unseen, &and};
    store_search or = {.kind = STORE_SK_OR, .kids = ork, .nkids = 2};
    assert_int_equal(search_bits(db, id, & or), 0x4);
    assert_int_equal(search_bits(db, id, &notdel), 0x6);
    /* MODSEQ. */
    store_search ms = {.kind = STORE_SK_MODSEQ, .num = (int64_t)mbox(db, "INBOX").highestmodseq};
    assert_int_equal(search_bits(db, id, &ms), 0x8);
    /* A value that looks like SQL is only a value. */
    store_search inj = {.kind = STORE_SK_SUBJECT, .str = "') OR 1 --"};
    assert_int_equal(search_bits(db, id, &inj), 0x0);

    /* Limits and malformed trees. */
    store_uids u;
    store_search bad_not = {.kind = STORE_SK_NOT, .nkids = 0};
    assert_int_equal(store_search_uids(db, id, &bad_not, &u), STORE_ERR_INVALID);
    store_search chain[STORE_SEARCH_DEPTH_MAX + 2];
    const store_search *links[STORE_SEARCH_DEPTH_MAX + 2];
    for (int i = 0; i < STORE_SEARCH_DEPTH_MAX + 2; i++) {
        links[i] = &chain[i];
        chain[i] = (store_search){.kind = STORE_SK_NOT, .kids = &links[i + 1], .nkids = 1};
    }
    chain[STORE_SEARCH_DEPTH_MAX + 1] = unseen;
    assert_int_equal(store_search_uids(db, id, &chain[0], &u), STORE_ERR_LIMIT);
    assert_int_equal(search_bits(db, id, &chain[1]), 0x4); /* 16 NOTs: the limit */
    /* The deepest tree allowed still compiles: alternate AND / OR / NOT,
     * each with a second kid, all the way down. */
    const store_search *pairs[STORE_SEARCH_DEPTH_MAX + 2][2];
    for (int i = 0; i <= STORE_SEARCH_DEPTH_MAX; i++) {
        static const store_search_kind kinds[] = {STORE_SK_AND, STORE_SK_OR, STORE_SK_NOT};
        store_search_kind kind = kinds[i % 3];
        pairs[i][0] = &chain[i + 1];
        pairs[i][1] = &subj;
        chain[i] =
            (store_search){.kind = kind, .kids = pairs[i], .nkids = kind == STORE_SK_NOT ? 1 : 2};
    }
    chain[STORE_SEARCH_DEPTH_MAX] = unseen;
    assert_int_equal(store_search_uids(db, id, &chain[0], &u), STORE_OK);
    store_uids_free(&u);
    assert_int_equal(store_search_uids(db, id + 100, &all, &u), STORE_ERR_NOMAILBOX);
    sqlite3_close(db);
}

/* ---- HEADER and BCC (search_header.c) ------------------------------------------ */

static uint32_t put_raw(sqlite3 *db, const char *raw, size_t len)
{
    uint32_t uid = 0;
    int rc = store_append(db, "INBOX", raw, len, 1700000000, 0, NULL, NULL, &uid, NULL);
    if (rc != STORE_OK)
        fail_msg("append: %s: %s", store_strerror(rc), sqlite3_errmsg(db));
    return uid;
}

static uint32_t header_bits(sqlite3 *db, int64_t id, const char *name, const char *str)
{
    store_search k = {
        .kind = name != NULL ? STORE_SK_HEADER : STORE_SK_BCC, .name = name, .str = str};
    return search_bits(db, id, &k);
}

static void test_search_header(void **state)
{
    (void)state;
    sqlite3 *db = open_store();
    int64_t id = mbox(db, "INBOX").id;
    static const char *const raws[] = {
        "From: a@x\r\nX-Mailer: Mutt/2.0\r\nSubject: =?UTF-8?Q?Caf=C3=A9?= time\r\n"
        "Bcc: Secret Person <secret@example.org>\r\nX-Folded: first part\r\n second part\r\n"
        "\r\nX-Mailer: in the body\r\n",
        "Subject: hi\nx-mailer: Thunderbird\nReceived: from a\nReceived: from b by mx\n\nbody\n",
        "Subject: none\r\n\r\nX-Mailer: only in the body\r\n",
        "Subject : obs\r\nX-Empty:\r\nX-Latin: Gr\374\337e\r\n\r\n",
    };
    for (size_t i = 0; i < 4; i++)
        assert_int_equal(put_raw(db, raws[i], strlen(raws[i])), i + 1);
    /* An empty string: every message with the field (not in a body). */
    assert_int_equal(header_bits(db, id, "X-Mailer", ""), 0x6);
    assert_int_equal(header_bits(db, id, "x-MAILER", "mutt"), 0x2);
    assert_int_equal(header_bits(db, id, "X-Mailer", "THUNDER"), 0x4);
    assert_int_equal(header_bits(db, id, "X-Mailer", "body"), 0x0);
    /* RFC 2047: the decoded value and the raw one both count. */
    assert_int_equal(header_bits(db, id, "Subject", "caf\xc3\xa9 TIME"), 0x2);
    assert_int_equal(header_bits(db, id, "Subject", "=C3=A9?="), 0x2);
    assert_int_equal(header_bits(db, id, "X-Latin", "gr\xc3\xbc\xc3\x9f"), 0x10); /* 8-bit */
    /* Unfolded; every field of the name; the obsolete "Subject :". */
    assert_int_equal(header_bits(db, id, "X-Folded", "part second"), 0x2);
    assert_int_equal(header_bits(db, id, "Received", "B BY MX"), 0x4);
    assert_int_equal(header_bits(db, id, "Subject", "obs"), 0x10);
    assert_int_equal(header_bits(db, id, "X-Empty", ""), 0x10);
    assert_int_equal(header_bits(db, id, "X-Empty", " "), 0x0);
    assert_int_equal(header_bits(db, id, "Subjec", ""), 0x0);
    /* BCC is HEADER Bcc. */
    assert_int_equal(header_bits(db, id, NULL, "SECRET@"), 0x2);
    assert_int_equal(header_bits(db, id, NULL, "person"), 0x2);
    assert_int_equal(header_bits(db, id, NULL, ""), 0x2);
    /* They compose with the other keys. */
    store_search mailer = {.kind = STORE_SK_HEADER, .name = "X-Mailer", .str = ""};
    store_search bcc = {.kind = STORE_SK_BCC, .str = ""};
    const store_search *notk[] = {&bcc};
    store_search nobcc = {.kind = STORE_SK_NOT, .kids = notk, .nkids = 1};
    const store_search *andk[] = {&mailer, &nobcc};
    store_search and = {.kind = STORE_SK_AND, .kids = andk, .nkids = 2};
    assert_int_equal(search_bits(db, id, &and), 0x4);
    store_search obs = {.kind = STORE_SK_HEADER, .name = "subject", .str = "OBS"};
    const store_search *ork[] = {&bcc, &obs};
    store_search or = {.kind = STORE_SK_OR, .kids = ork, .nkids = 2};
    assert_int_equal(search_bits(db, id, & or), 0x12);
    /* Field names are RFC 5322 ftext, bounded; strings bounded. */
    store_uids u;
    const char *bad_names[] = {NULL, "", "X Mailer", "X:Y", "X\x7f"};
    for (size_t i = 0; i < sizeof(bad_names) / sizeof(bad_names[0]); i++) {
        store_search k = {.kind = STORE_SK_HEADER, .name = bad_names[i], .str = ""};
        assert_int_equal(store_search_uids(db, id, &k, &u), STORE_ERR_INVALID);
    }
    char name[STORE_SEARCH_FIELD_MAX + 2];
    memset(name, 'X', sizeof(name) - 1);
    name[sizeof(name) - 1] = '\0';
    store_search k = {.kind = STORE_SK_HEADER, .name = name, .str = ""};
    assert_int_equal(store_search_uids(db, id, &k, &u), STORE_ERR_LIMIT);
    name[STORE_SEARCH_FIELD_MAX] = '\0';
    assert_int_equal(search_bits(db, id, &k), 0x0);
    k = (store_search){.kind = STORE_SK_BCC};
    assert_int_equal(store_search_uids(db, id, &k, &u), STORE_ERR_INVALID);
    sqlite3_close(db);
}

/* Only the header is looked at, and at most STORE_SEARCH_HEADER_MAX bytes
 * of it: a field past them is not seen (and the body is never read). */
static void test_search_header_bounds(void **state)
{
    (void)state;
    sqlite3 *db = open_store();
    int64_t id = mbox(db, "INBOX").id;
    size_t filler = STORE_SEARCH_HEADER_MAX + 1024, cap = filler + 256;
    char *raw = malloc(cap);
    assert_non_null(raw);
    size_t n = (size_t)snprintf(raw, cap, "X-Early: yes\r\n");
    while (n < filler)
        n += (size_t)snprintf(raw + n, cap - n, "X-Pad: %0100d\r\n", 0);
    n += (size_t)snprintf(raw + n, cap - n, "X-Late: yes\r\n\r\nbody\r\n");
    assert_int_equal(put_raw(db, raw, n), 1);
    /* A message without an empty line is all header. */
    const char *no_body = "X-Late: yes\r\nX-Other: 1";
    assert_int_equal(put_raw(db, no_body, strlen(no_body)), 2);
    assert_int_equal(header_bits(db, id, "X-Early", "YES"), 0x2);
    assert_int_equal(header_bits(db, id, "X-Late", ""), 0x4);
    assert_int_equal(header_bits(db, id, "X-Other", "1"), 0x4);
    free(raw);
    sqlite3_close(db);
    /* The matcher on its own: LF line ends, the end of the header, a
     * continuation line without a field before it. */
    static const struct {
        const char *hdr, *name, *needle;
        bool want;
    } cases[] = {
        {"A: 1\nB: 2\n\nA: 3\n", "A", "3", false},
        {"A: 1\nB: 2\n\nA: 3\n", "b", "2", true},
        {" cont: x\nA: 1\n", "cont", "", false},
        {"A:\r\n\tfolded\r\n", "a", "folded", true},
        {"A: =?ISO-8859-1?B?SGVsbG8gV29ybGQ=?=\r\n", "A", "hello world", true},
        {"A: =?ISO-8859-1?B?SGVsbG8gV29ybGQ=?=\r\n", "A", "?B?SGVs", true},
        {"Received: x\r\nReceived: y\r\n", "received", "Y", true},
        {"NoColonLine\r\nA: 1\r\n", "NoColonLine", "", false},
        {"", "A", "", false},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        bool match = !cases[i].want;
        assert_int_equal(store_header_match(cases[i].hdr, strlen(cases[i].hdr), cases[i].name,
                                            cases[i].needle, &match),
                         STORE_OK);
        if (match != cases[i].want)
            fail_msg("case %zu: got %d", i, match);
    }
}

/* ---- Full-text search (schema/store/002_fts.sql) -------------------------------- */

/* Appends a message whose raw body differs from its index text (as when the
 * body is base64: the raw bytes hold none of the words); returns its UID. */

static uint32_t put_text(sqlite3 *db, const char *mailbox, const char *subject,
                         const char *index_text)
{
    char raw[512];
    int n = snprintf(raw, sizeof(raw),
                     "Subject: %s\r\nFrom: a@example.org\r\nContent-Transfer-Encoding: base64\r\n"
                     "\r\nUmF3IGJ5dGVz\r\n",
                     subject);
    store_msg_meta meta = {.subject = subject,
                           .from = "Alice Martin <alice@example.org>",
                           .to = "bob@example.net",
                           .index_text = index_text};
    uint32_t uid = 0;
    int rc = store_append(db, mailbox, raw, (size_t)n, 1700000000, 0, NULL, &meta, &uid, NULL);
    if (rc != STORE_OK)
        fail_msg("append: %s: %s", store_strerror(rc), sqlite3_errmsg(db));
    return uid;
}

static uint32_t fts_bits(sqlite3 *db, const char *mailbox, store_search_kind kind, const char *s)
{
    store_search k = {.kind = kind, .str = s};
    return search_bits(db, mbox(db, mailbox).id, &k);
}

/* The index agrees with its content (body_index and bodies). */
static void fts_check(sqlite3 *db)
{
    char *err = NULL;
    int rc = sqlite3_exec(db, "INSERT INTO body_fts (body_fts, rank) VALUES ('integrity-check', 1)",
                          NULL, NULL, &err);
    if (rc != SQLITE_OK)
        fail_msg("FTS integrity-check: %s", err ? err : sqlite3_errmsg(db));
    assert_int_equal(sql_int(db, "SELECT count(*) FROM body_index WHERE body_id NOT IN "
                                 "(SELECT id FROM bodies)"),
                     0);
}

static void test_fts_index_text(void **state)
{
    (void)state;
    sqlite3 *db = open_store();
    put_text(db, "INBOX", "Budget", "Quarterly report attached, see the figures.");
    put_text(db, "INBOX", "Lunch", "Pizza at noon? Say \"yes\" please.");
    assert_int_equal(sql_int(db, "SELECT count(*) FROM body_fts"), 2);
    fts_check(db);
    /* Words of the index text only, not of the raw message. */
    assert_int_equal(fts_bits(db, "INBOX", STORE_SK_BODY, "quarterly"), 0x2);
    assert_int_equal(fts_bits(db, "INBOX", STORE_SK_BODY, "FIGURES"), 0x2);
    assert_int_equal(fts_bits(db, "INBOX", STORE_SK_BODY, "UmF3IGJ5dGVz"), 0x0);
    assert_int_equal(fts_bits(db, "INBOX", STORE_SK_TEXT, "base64"), 0x0);
    /* A word is a token prefix, not a substring. */
    assert_int_equal(fts_bits(db, "INBOX", STORE_SK_BODY, "quart"), 0x2);
    assert_int_equal(fts_bits(db, "INBOX", STORE_SK_BODY, "arterly"), 0x0);
    /* BODY: the index text; TEXT: also subject, from, to, cc. */
    assert_int_equal(fts_bits(db, "INBOX", STORE_SK_BODY, "budget"), 0x0);
    assert_int_equal(fts_bits(db, "INBOX", STORE_SK_TEXT, "budget"), 0x2);
    assert_int_equal(fts_bits(db, "INBOX", STORE_SK_TEXT, "martin"), 0x6);
    assert_int_equal(fts_bits(db, "INBOX", STORE_SK_TEXT, "bob@example.net"), 0x6);
    assert_int_equal(fts_bits(db, "INBOX", STORE_SK_TEXT, "pizza"), 0x4);
    /* Quotes and FTS5 syntax in the string are only text. */
    assert_int_equal(fts_bits(db, "INBOX", STORE_SK_BODY, "say \"yes\""), 0x4);
    assert_int_equal(fts_bits(db, "INBOX", STORE_SK_BODY, "\"yes"), 0x4);
    assert_int_equal(fts_bits(db, "INBOX", STORE_SK_BODY, "pizza OR quarterly"), 0x0);
    static const char *const odd[] = {"NEAR(pizza noon)", "body:pizza", "{subject}:x", "-pizza",
                                      "pizza*",           "^pizza",     "(",           "\"",
                                      "a\"b\"\"c",        "*"};
    for (size_t i = 0; i < sizeof(odd) / sizeof(odd[0]); i++) {
        store_uids u;
        store_search k = {.kind = STORE_SK_TEXT, .str = odd[i]};
        int rc = store_search_uids(db, mbox(db, "INBOX").id, &k, &u);
        if (rc != STORE_OK)
            fail_msg("search \"%s\": %s: %s", odd[i], store_strerror(rc), sqlite3_errmsg(db));
        store_uids_free(&u);
    }
    assert_int_equal(fts_bits(db, "INBOX", STORE_SK_BODY, "pizza*"), 0x4);
    /* A string with no word: the raw substring match (here: every message). */
    assert_int_equal(fts_bits(db, "INBOX", STORE_SK_TEXT, ""), 0x6);
    assert_int_equal(fts_bits(db, "INBOX", STORE_SK_TEXT, "@"), 0x6);
    /* NOT and composition with other keys. */
    store_search body = {.kind = STORE_SK_BODY, .str = "pizza"};
    const store_search *kids[] = {&body};
    store_search neg = {.kind = STORE_SK_NOT, .kids = kids, .nkids = 1};
    assert_int_equal(search_bits(db, mbox(db, "INBOX").id, &neg), 0x2);
    store_search subj = {.kind = STORE_SK_SUBJECT, .str = "lunch"};
    const store_search *both[] = {&body, &subj};
    store_search and = {.kind = STORE_SK_AND, .kids = both, .nkids = 2};
    assert_int_equal(search_bits(db, mbox(db, "INBOX").id, &and), 0x4);
    /* The longest string allowed, made of one-byte words and quotes. */
    char *big = malloc(STORE_SEARCH_STR_MAX + 2);
    assert_non_null(big);
    for (size_t i = 0; i < STORE_SEARCH_STR_MAX; i++)
        big[i] = i % 4 == 3 ? ' ' : i % 4 == 1 ? '"' : 'x';
    big[STORE_SEARCH_STR_MAX] = '\0';
    assert_int_equal(fts_bits(db, "INBOX", STORE_SK_BODY, big), 0x0);
    big[STORE_SEARCH_STR_MAX] = 'x';
    big[STORE_SEARCH_STR_MAX + 1] = '\0';
    store_uids u;
    store_search longk = {.kind = STORE_SK_BODY, .str = big};
    assert_int_equal(store_search_uids(db, mbox(db, "INBOX").id, &longk, &u), STORE_ERR_LIMIT);
    free(big);
    sqlite3_close(db);
}

static void test_fts_diacritics(void **state)
{
    (void)state;
    sqlite3 *db = open_store();
    put_text(db, "INBOX", "Dessert", "Crème brûlée à la française");
    put_text(db, "INBOX", "CV", "naive resume of a cafe owner");
    assert_int_equal(fts_bits(db, "INBOX", STORE_SK_BODY, "creme brulee"), 0x2);
    assert_int_equal(fts_bits(db, "INBOX", STORE_SK_BODY, "CRÈME"), 0x2);
    assert_int_equal(fts_bits(db, "INBOX", STORE_SK_BODY, "francaise"), 0x2);
    assert_int_equal(fts_bits(db, "INBOX", STORE_SK_BODY, "A LA"), 0x2);
    assert_int_equal(fts_bits(db, "INBOX", STORE_SK_BODY, "naïve résumé"), 0x4);
    assert_int_equal(fts_bits(db, "INBOX", STORE_SK_BODY, "CAFÉ"), 0x4);
    sqlite3_close(db);
}

static void test_fts_words(void **state)
{
    (void)state;
    sqlite3 *db = open_store();
    put_text(db, "INBOX", "fox", "The quick brown fox jumps over the lazy dog.");
    put_text(db, "INBOX", "bread", "Quickly browning bread; foo@example.com wrote it.");
    /* Words in order and adjacent, each a prefix. */
    assert_int_equal(fts_bits(db, "INBOX", STORE_SK_BODY, "quick brown"), 0x6); /* browning */
    assert_int_equal(fts_bits(db, "INBOX", STORE_SK_BODY, "quick brown fox"), 0x2);
    assert_int_equal(fts_bits(db, "INBOX", STORE_SK_BODY, "qui bro"), 0x6);
    assert_int_equal(fts_bits(db, "INBOX", STORE_SK_BODY, " \tquick \r\n brown  fox "), 0x2);
    assert_int_equal(fts_bits(db, "INBOX", STORE_SK_BODY, "brown quick"), 0x0);
    assert_int_equal(fts_bits(db, "INBOX", STORE_SK_BODY, "quick fox"), 0x0);
    assert_int_equal(fts_bits(db, "INBOX", STORE_SK_BODY, "lazy dog."), 0x2);
    /* Punctuation separates tokens, on both sides. */
    assert_int_equal(fts_bits(db, "INBOX", STORE_SK_BODY, "foo@example.com"), 0x4);
    assert_int_equal(fts_bits(db, "INBOX", STORE_SK_BODY, "foo@exa"), 0x4);
    assert_int_equal(fts_bits(db, "INBOX", STORE_SK_BODY, "bread wrote"), 0x0);
    assert_int_equal(fts_bits(db, "INBOX", STORE_SK_BODY, "bread; foo"), 0x4);
    sqlite3_close(db);
}

static void test_fts_expunge(void **state)
{
    (void)state;
    sqlite3 *db = open_store();
    int64_t in = mbox(db, "INBOX").id;
    put_text(db, "INBOX", "one", "alpha bravo");
    put_text(db, "INBOX", "two", "alpha charlie");
    assert_int_equal(fts_bits(db, "INBOX", STORE_SK_BODY, "alpha"), 0x6);
    store_range r;
    store_uidset s = one(&r, 1, 1);
    store_flags_result fr;
    assert_int_equal(store_set_flags(db, in, &s, STORE_FLAGS_ADD, STORE_FLAG_DELETED, NULL, 0, &fr),
                     STORE_OK);
    store_flags_result_free(&fr);
    assert_int_equal(store_expunge(db, in, NULL, NULL, NULL), STORE_OK);
    assert_int_equal(fts_bits(db, "INBOX", STORE_SK_BODY, "alpha"), 0x4);
    assert_int_equal(fts_bits(db, "INBOX", STORE_SK_BODY, "bravo"), 0x0);
    /* The index row went with the body, not only out of the results. */
    assert_int_equal(sql_int(db, "SELECT count(*) FROM body_fts WHERE body_fts MATCH 'bravo'"), 0);
    assert_int_equal(sql_int(db, "SELECT count(*) FROM body_index"), 1);
    fts_check(db);
    /* Deleting the mailbox removes the rest. */
    assert_int_equal(store_mailbox_create(db, "Work", 0), STORE_OK);
    put_text(db, "Work", "three", "delta");
    assert_int_equal(store_mailbox_delete(db, "Work"), STORE_OK);
    assert_int_equal(sql_int(db, "SELECT count(*) FROM body_fts WHERE body_fts MATCH 'delta'"), 0);
    assert_int_equal(sql_int(db, "SELECT count(*) FROM body_index"), 1);
    fts_check(db);
    /* A rolled-back append leaves no index row. */
    assert_int_equal(store_begin(db), STORE_OK);
    put_text(db, "INBOX", "four", "echo");
    store_rollback(db);
    assert_int_equal(sql_int(db, "SELECT count(*) FROM body_fts WHERE body_fts MATCH 'echo'"), 0);
    fts_check(db);
    sqlite3_close(db);
}

static void test_fts_copy_move(void **state)
{
    (void)state;
    sqlite3 *db = open_store();
    int64_t in = mbox(db, "INBOX").id;
    put_text(db, "INBOX", "one", "golf hotel");
    put_text(db, "INBOX", "two", "india juliet");
    put(db, "Archive", "old", 0, NULL); /* Archive uid 1 */
    store_range r;
    store_uidset s = one(&r, 1, 2);
    store_copy_result res;
    assert_int_equal(store_copy(db, in, &s, "Archive", &res), STORE_OK);
    store_copy_result_free(&res);
    /* The copies share the bodies and so the index rows. */
    assert_int_equal(sql_int(db, "SELECT count(*) FROM body_fts"), 2);
    assert_int_equal(fts_bits(db, "Archive", STORE_SK_BODY, "golf"), 0x4);
    assert_int_equal(fts_bits(db, "Archive", STORE_SK_TEXT, "juliet"), 0x8);
    assert_int_equal(fts_bits(db, "INBOX", STORE_SK_BODY, "golf"), 0x2);
    /* Expunging the originals keeps the copies searchable. */
    store_flags_result fr;
    assert_int_equal(store_set_flags(db, in, &s, STORE_FLAGS_ADD, STORE_FLAG_DELETED, NULL, 0, &fr),
                     STORE_OK);
    store_flags_result_free(&fr);
    assert_int_equal(store_expunge(db, in, NULL, NULL, NULL), STORE_OK);
    assert_int_equal(fts_bits(db, "INBOX", STORE_SK_BODY, "golf"), 0x0);
    assert_int_equal(fts_bits(db, "Archive", STORE_SK_BODY, "golf hotel"), 0x4);
    fts_check(db);
    /* A move: found in the target only. */
    int64_t ar = mbox(db, "Archive").id;
    store_uidset all = one(&r, 1, 10);
    assert_int_equal(store_move(db, ar, &all, "Trash", &res), STORE_OK);
    store_copy_result_free(&res);
    assert_int_equal(fts_bits(db, "Archive", STORE_SK_BODY, "india"), 0x0);
    assert_int_equal(fts_bits(db, "Trash", STORE_SK_BODY, "india"), 0x8);
    assert_int_equal(fts_bits(db, "Trash", STORE_SK_BODY, "old"), 0x2); /* no index text */
    assert_int_equal(sql_int(db, "SELECT count(*) FROM body_fts"), 2);
    fts_check(db);
    sqlite3_close(db);
}

static void test_fts_fallback(void **state)
{
    (void)state;
    sqlite3 *db = open_store();
    int64_t in = mbox(db, "INBOX").id;
    const char *raw = "Subject: plain\r\nX-Tag: kilo\r\n\r\nLima mike-november\r\n";
    store_msg_meta meta = {.subject = "plain"}; /* no index_text */
    assert_int_equal(store_append(db, "INBOX", raw, strlen(raw), 0, 0, NULL, &meta, NULL, NULL),
                     STORE_OK);
    assert_int_equal(store_append(db, "INBOX", raw, strlen(raw), 0, 0, NULL, NULL, NULL, NULL),
                     STORE_OK);
    put_text(db, "INBOX", "indexed", "lima oscar");
    assert_int_equal(sql_int(db, "SELECT count(*) FROM body_fts"), 1);
    /* Raw substring for 1 and 2 (also inside a word), the index for 3. */
    assert_int_equal(fts_bits(db, "INBOX", STORE_SK_BODY, "LIMA"), 0xe);
    assert_int_equal(fts_bits(db, "INBOX", STORE_SK_BODY, "ke-nov"), 0x6);
    assert_int_equal(fts_bits(db, "INBOX", STORE_SK_BODY, "kilo"), 0x0); /* a header */
    assert_int_equal(fts_bits(db, "INBOX", STORE_SK_TEXT, "kilo"), 0x6);
    assert_int_equal(fts_bits(db, "INBOX", STORE_SK_BODY, "oscar"), 0x8);
    store_search body = {.kind = STORE_SK_BODY, .str = "lima mike"};
    const store_search *kids[] = {&body};
    store_search neg = {.kind = STORE_SK_NOT, .kids = kids, .nkids = 1};
    assert_int_equal(search_bits(db, in, &neg), 0x8);
    sqlite3_close(db);
}

/* A store made by a binary that knew schema version 1 only. */
static void fts_make_v1_store(void)
{
    sqlite3 *db = open_raw();
    assert_non_null(db);
    assert_true(store_migration_count >= 2);
    assert_string_equal(store_migrations[1].name, "002_fts.sql");
    static const char *const sql[] = {
        "PRAGMA journal_mode=WAL",
        "BEGIN",
        NULL, /* store_migrations[0] */
        "PRAGMA user_version=1",
        "INSERT INTO mailboxes (name, uidvalidity, uidnext, highestmodseq, created_at) "
        "VALUES ('INBOX', 7, 3, 3, 1700000000)",
        "UPDATE store_meta SET modseq = 3",
        "INSERT INTO bodies (size, header_len, hdr_subject, raw) VALUES "
        "(35, 16, 'Old', CAST('Subject: Old\r\n\r\nPapa quebec romeo\r\n' AS BLOB)), "
        "(31, 17, 'Gone', CAST('Subject: Gone\r\n\r\nSierra tango\r\n' AS BLOB))",
        "INSERT INTO messages (mailbox_id, uid, modseq, flags, internal_date, size, body_id) "
        "VALUES (1, 1, 2, 0, 1700000000, 35, 1), (1, 2, 3, 8, 1700000000, 31, 2)",
        "COMMIT",
    };
    for (size_t i = 0; i < sizeof(sql) / sizeof(sql[0]); i++) {
        char *err = NULL;
        const char *q = sql[i] != NULL ? sql[i] : store_migrations[0].sql;
        if (sqlite3_exec(db, q, NULL, NULL, &err) != SQLITE_OK)
            fail_msg("v1 store: %s", err);
    }
    sqlite3_close(db);
}

static void test_fts_upgrade(void **state)
{
    (void)state;
    fts_make_v1_store();
    sqlite3 *db = open_store(); /* migrates to the current version */
    assert_int_equal(sql_int(db, "PRAGMA user_version"), store_schema_version());
    int64_t in = mbox(db, "INBOX").id;
    /* Nothing was indexed: the old messages are found through the raw text. */
    assert_int_equal(sql_int(db, "SELECT count(*) FROM body_index"), 0);
    assert_int_equal(sql_int(db, "SELECT count(*) FROM body_fts"), 0);
    fts_check(db);
    assert_int_equal(fts_bits(db, "INBOX", STORE_SK_BODY, "quebec"), 0x2);
    assert_int_equal(fts_bits(db, "INBOX", STORE_SK_TEXT, "tango"), 0x4);
    assert_int_equal(fts_bits(db, "INBOX", STORE_SK_BODY, "gone"), 0x0); /* a header */
    unsigned char *data = NULL;
    size_t len = 0;
    assert_int_equal(store_fetch_raw(db, in, 1, 16, 100, &data, &len), STORE_OK);
    assert_int_equal(len, 19);
    assert_memory_equal(data, "Papa quebec romeo\r\n", 19);
    free(data);
    /* New messages are indexed beside them. */
    assert_int_equal(put_text(db, "INBOX", "New", "quebec uniform"), 3);
    assert_int_equal(fts_bits(db, "INBOX", STORE_SK_BODY, "quebec"), 0xa);
    /* Old messages without an index row are expunged and copied fine. */
    assert_int_equal(store_expunge(db, in, NULL, NULL, NULL), STORE_OK);
    assert_int_equal(fts_bits(db, "INBOX", STORE_SK_TEXT, "tango"), 0x0);
    /* 004 moved the raw bytes out of bodies; an expunge removes them too. */
    assert_int_equal(sql_int(db, "SELECT count(*) FROM body_raw"), 2);
    assert_int_equal(
        sql_int(db, "SELECT count(*) FROM body_raw WHERE body_id NOT IN (SELECT id FROM bodies)"),
        0);
    store_range r;
    store_uidset s = one(&r, 1, 3);
    store_copy_result res;
    assert_int_equal(store_copy(db, in, &s, "Archive", &res), STORE_OK);
    store_copy_result_free(&res);
    assert_int_equal(fts_bits(db, "Archive", STORE_SK_BODY, "quebec"), 0x6);
    fts_check(db);
    sqlite3_close(db);
    /* Opening again applies nothing more. */
    db = open_store();
    assert_int_equal(sql_int(db, "PRAGMA user_version"), store_schema_version());
    assert_int_equal(fts_bits(db, "INBOX", STORE_SK_BODY, "uniform"), 0x8);
    sqlite3_close(db);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_search, setup, teardown),
        cmocka_unit_test_setup_teardown(test_search_header, setup, teardown),
        cmocka_unit_test_setup_teardown(test_search_header_bounds, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fts_index_text, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fts_diacritics, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fts_words, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fts_expunge, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fts_copy_move, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fts_fallback, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fts_upgrade, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
