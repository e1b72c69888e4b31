/* Unit tests for lib/store: calendars and address books (dav.c). */
#include "store_fixture.h"

#define NONE STORE_DAV_TIME_NONE

static int64_t calendar(sqlite3 *db, const char *name)
{
    store_dav_props p = {.display_name = "Work", .color = "#ff0000", .components = "VEVENT,VTODO"};
    int64_t id = 0;
    assert_int_equal(store_dav_collection_create(db, STORE_DAV_CALENDAR, name, &p, &id), STORE_OK);
    assert_true(id > 0);
    return id;
}

/* Puts a VEVENT with the given times; returns its ETag in etag (may be NULL). */
static int put_event(sqlite3 *db, int64_t cal, const char *href, const char *uid, int64_t start,
                     int64_t end, int unbounded, const store_dav_cond *cond, char *etag)
{
    char data[256];
    int n = snprintf(data, sizeof(data),
                     "BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:%s\r\n"
                     "END:VEVENT\r\nEND:VCALENDAR\r\n",
                     uid);
    store_dav_meta m = {
        .uid = uid, .component = "VEVENT", .dtstart = start, .dtend = end, .unbounded = unbounded};
    char tag[STORE_DAV_TAG_LEN + 1];
    int rc = store_dav_put(db, cal, href, data, (size_t)n, &m, cond, tag, NULL);
    if (rc == STORE_OK) {
        assert_int_equal(strlen(tag), STORE_DAV_TAG_LEN);
        if (etag != NULL)
            strcpy(etag, tag);
    }
    return rc;
}

static store_dav_collection coll(sqlite3 *db, int64_t id)
{
    store_dav_collection c;
    assert_int_equal(store_dav_collection_get_by_id(db, id, &c), STORE_OK);
    return c;
}

static void test_collections(void **state)
{
    (void)state;
    sqlite3 *db = open_store();
    int64_t cal = calendar(db, "work");
    int64_t ab = 0;
    assert_int_equal(store_dav_collection_create(db, STORE_DAV_ADDRESSBOOK, "contacts", NULL, &ab),
                     STORE_OK);
    /* The same name is fine in the other kind, refused in the same. */
    assert_int_equal(store_dav_collection_create(db, STORE_DAV_ADDRESSBOOK, "work", NULL, NULL),
                     STORE_OK);
    assert_int_equal(store_dav_collection_create(db, STORE_DAV_CALENDAR, "work", NULL, NULL),
                     STORE_ERR_EXISTS);
    const char *bad[] = {"", "a/b", ".", "..", "a\nb"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(store_dav_collection_create(db, STORE_DAV_CALENDAR, bad[i], NULL, NULL),
                         STORE_ERR_INVALID);
    store_dav_props badc = {.components = "VEVENT,VCARD"};
    assert_int_equal(store_dav_collection_create(db, STORE_DAV_CALENDAR, "x", &badc, NULL),
                     STORE_ERR_INVALID);

    store_dav_collection c;
    assert_int_equal(store_dav_collection_get(db, STORE_DAV_CALENDAR, "work", &c), STORE_OK);
    assert_int_equal(c.id, cal);
    assert_int_equal(c.kind, STORE_DAV_CALENDAR);
    assert_string_equal(c.display_name, "Work");
    assert_string_equal(c.color, "#ff0000");
    assert_string_equal(c.components, "VEVENT,VTODO");
    assert_null(c.description);
    assert_int_equal(strlen(c.ctag), STORE_DAV_TAG_LEN);
    assert_true(c.sync_token > 0);
    char ctag[STORE_DAV_TAG_LEN + 1];
    strcpy(ctag, c.ctag);
    store_dav_collection_free(&c);
    assert_int_equal(store_dav_collection_get(db, STORE_DAV_CALENDAR, "contacts", &c),
                     STORE_ERR_NOMAILBOX);

    /* Update: NULL unchanged, "" unset; the CTag changes. */
    uint64_t counter0 = 0, counter1 = 0;
    assert_int_equal(store_change_counter(db, &counter0), STORE_OK);
    store_dav_props up = {.display_name = "Job", .description = "9 to 5", .color = ""};
    assert_int_equal(store_dav_collection_update(db, cal, &up), STORE_OK);
    assert_int_equal(store_change_counter(db, &counter1), STORE_OK);
    assert_true(counter1 > counter0);
    c = coll(db, cal);
    assert_string_equal(c.display_name, "Job");
    assert_string_equal(c.description, "9 to 5");
    assert_null(c.color);
    assert_string_equal(c.components, "VEVENT,VTODO");
    assert_string_not_equal(c.ctag, ctag);
    store_dav_collection_free(&c);
    store_dav_props abcolor = {.color = "#00ff00"};
    assert_int_equal(store_dav_collection_update(db, ab, &abcolor), STORE_ERR_INVALID);
    assert_int_equal(store_dav_collection_update(db, 9999, &up), STORE_ERR_NOMAILBOX);

    store_dav_collection *list;
    size_t n;
    assert_int_equal(store_dav_collection_list(db, STORE_DAV_ADDRESSBOOK, &list, &n), STORE_OK);
    assert_int_equal(n, 2);
    assert_string_equal(list[0].name, "contacts");
    assert_string_equal(list[1].name, "work");
    store_dav_collections_free(&list, n);
    assert_null(list);

    assert_int_equal(store_dav_collection_delete(db, ab), STORE_OK);
    assert_int_equal(store_dav_collection_delete(db, ab), STORE_ERR_NOMAILBOX);
    assert_int_equal(store_dav_collection_list(db, STORE_DAV_ADDRESSBOOK, &list, &n), STORE_OK);
    assert_int_equal(n, 1);
    store_dav_collections_free(&list, n);
    sqlite3_close(db);
}

static void test_put_get_etag(void **state)
{
    (void)state;
    sqlite3 *db = open_store();
    int64_t cal = calendar(db, "work");
    char e1[STORE_DAV_TAG_LEN + 1], e2[STORE_DAV_TAG_LEN + 1], e3[STORE_DAV_TAG_LEN + 1];
    store_dav_cond create_only = {.if_none_match = 1};
    assert_int_equal(put_event(db, cal, "a.ics", "uid-a", 1000, 2000, 0, &create_only, e1),
                     STORE_OK);
    assert_int_equal(put_event(db, cal, "a.ics", "uid-a", 1000, 2000, 0, &create_only, NULL),
                     STORE_ERR_PRECONDITION);

    store_dav_object o;
    assert_int_equal(store_dav_get(db, cal, "a.ics", &o), STORE_OK);
    assert_string_equal(o.href, "a.ics");
    assert_string_equal(o.uid, "uid-a");
    assert_string_equal(o.etag, e1);
    assert_string_equal(o.component, "VEVENT");
    assert_int_equal(o.dtstart, 1000);
    assert_int_equal(o.dtend, 2000);
    assert_true(o.len > 0 && memcmp(o.data, "BEGIN:VCALENDAR", 15) == 0);
    store_dav_object_free(&o);
    assert_null(o.data);
    assert_int_equal(store_dav_get(db, cal, "nope.ics", &o), STORE_ERR_NOTFOUND);
    assert_int_equal(store_dav_get(db, 9999, "a.ics", &o), STORE_ERR_NOMAILBOX);

    /* Replace: wrong If-Match refused and nothing changed; right one works. */
    store_dav_cond wrong = {.if_match = "0123"};
    assert_int_equal(put_event(db, cal, "a.ics", "uid-a", 5000, 6000, 0, &wrong, NULL),
                     STORE_ERR_PRECONDITION);
    assert_int_equal(store_dav_get(db, cal, "a.ics", &o), STORE_OK);
    assert_int_equal(o.dtstart, 1000);
    store_dav_object_free(&o);
    store_dav_cond right = {.if_match = e1};
    assert_int_equal(put_event(db, cal, "a.ics", "uid-a", 5000, 6000, 0, &right, e2), STORE_OK);
    assert_string_not_equal(e1, e2);
    /* The old ETag is stale now. */
    assert_int_equal(put_event(db, cal, "a.ics", "uid-a", 5000, 6000, 0, &right, NULL),
                     STORE_ERR_PRECONDITION);
    /* If-Match: * needs an existing object. */
    store_dav_cond any = {.if_match = "*"};
    assert_int_equal(put_event(db, cal, "b.ics", "uid-b", 1, 2, 0, &any, NULL),
                     STORE_ERR_PRECONDITION);
    assert_int_equal(put_event(db, cal, "a.ics", "uid-a", 5000, 6000, 0, &any, e3), STORE_OK);
    assert_string_not_equal(e2, e3);
    /* Unconditional put; created_r tells new from replaced. */
    store_dav_meta m = {.uid = "uid-b", .component = "VTODO", .dtstart = NONE, .dtend = NONE};
    int created = -1;
    assert_int_equal(store_dav_put(db, cal, "b.ics", "x", 1, &m, NULL, NULL, &created), STORE_OK);
    assert_int_equal(created, 1);
    assert_int_equal(store_dav_put(db, cal, "b.ics", "y", 1, &m, NULL, NULL, &created), STORE_OK);
    assert_int_equal(created, 0);

    /* Duplicate UID under another href: refused (no-uid-conflict). */
    assert_int_equal(put_event(db, cal, "c.ics", "uid-a", 1, 2, 0, NULL, NULL), STORE_ERR_EXISTS);
    /* A VCARD in a calendar, a bad href, an end before the start. */
    store_dav_meta card = {.uid = "u", .component = "VCARD", .dtstart = NONE, .dtend = NONE};
    assert_int_equal(store_dav_put(db, cal, "c.vcf", "x", 1, &card, NULL, NULL, NULL),
                     STORE_ERR_INVALID);
    assert_int_equal(put_event(db, cal, "x/y.ics", "uid-y", 1, 2, 0, NULL, NULL),
                     STORE_ERR_INVALID);
    assert_int_equal(put_event(db, cal, "d.ics", "uid-d", 10, 5, 0, NULL, NULL), STORE_ERR_INVALID);
    assert_int_equal(put_event(db, 9999, "d.ics", "uid-d", 1, 2, 0, NULL, NULL),
                     STORE_ERR_NOMAILBOX);

    /* An address book takes VCARDs only. */
    int64_t ab = 0;
    assert_int_equal(store_dav_collection_create(db, STORE_DAV_ADDRESSBOOK, "c", NULL, &ab),
                     STORE_OK);
    assert_int_equal(store_dav_put(db, ab, "c.vcf", "BEGIN:VCARD", 11, &card, NULL, NULL, NULL),
                     STORE_OK);
    assert_int_equal(put_event(db, ab, "e.ics", "uid-e", 1, 2, 0, NULL, NULL), STORE_ERR_INVALID);

    /* Delete with If-Match. */
    assert_int_equal(store_dav_delete(db, cal, "a.ics", &right), STORE_ERR_PRECONDITION);
    store_dav_cond cur = {.if_match = e3};
    assert_int_equal(store_dav_delete(db, cal, "a.ics", &cur), STORE_OK);
    assert_int_equal(store_dav_delete(db, cal, "a.ics", NULL), STORE_ERR_NOTFOUND);
    /* Its UID is free again. */
    assert_int_equal(put_event(db, cal, "c.ics", "uid-a", 1, 2, 0, NULL, NULL), STORE_OK);
    assert_string_equal(store_strerror(STORE_ERR_PRECONDITION), "precondition failed");
    sqlite3_close(db);
}

/* Collects hrefs as one string "a,b," for a listing. */
typedef struct {
    char s[512];
} hrefs;

static int collect_row(void *ctx, const store_dav_row *r)
{
    hrefs *h = ctx;
    strcat(h->s, r->href);
    strcat(h->s, ",");
    return 0;
}

static const char *range(sqlite3 *db, int64_t cal, int64_t start, int64_t end, hrefs *h)
{
    h->s[0] = '\0';
    assert_int_equal(store_dav_range(db, cal, NULL, start, end, collect_row, h), STORE_OK);
    return h->s;
}

static void test_time_range(void **state)
{
    (void)state;
    sqlite3 *db = open_store();
    int64_t cal = calendar(db, "work");
    /* Query window [1000, 2000). */
    assert_int_equal(put_event(db, cal, "inside", "1", 1200, 1500, 0, NULL, NULL), STORE_OK);
    assert_int_equal(put_event(db, cal, "over-start", "2", 500, 1100, 0, NULL, NULL), STORE_OK);
    assert_int_equal(put_event(db, cal, "over-end", "3", 1900, 2500, 0, NULL, NULL), STORE_OK);
    assert_int_equal(put_event(db, cal, "before", "4", 100, 1000, 0, NULL, NULL), STORE_OK);
    assert_int_equal(put_event(db, cal, "after", "5", 2000, 3000, 0, NULL, NULL), STORE_OK);
    assert_int_equal(put_event(db, cal, "unbounded", "6", 100, NONE, 1, NULL, NULL), STORE_OK);
    assert_int_equal(put_event(db, cal, "unb-later", "7", 2500, NONE, 1, NULL, NULL), STORE_OK);
    assert_int_equal(put_event(db, cal, "instant", "8", 1000, NONE, 0, NULL, NULL), STORE_OK);
    assert_int_equal(put_event(db, cal, "inst-out", "9", 2000, 2000, 0, NULL, NULL), STORE_OK);
    assert_int_equal(put_event(db, cal, "covers", "10", 0, 5000, 0, NULL, NULL), STORE_OK);
    store_dav_meta todo = {.uid = "11", .component = "VTODO", .dtstart = NONE, .dtend = NONE};
    assert_int_equal(store_dav_put(db, cal, "undated", "x", 1, &todo, NULL, NULL, NULL), STORE_OK);

    hrefs h;
    assert_string_equal(range(db, cal, 1000, 2000, &h),
                        "undated,covers,unbounded,over-start,instant,inside,over-end,");
    assert_string_equal(range(db, cal, 2600, INT64_MAX, &h),
                        "undated,covers,unbounded,after,unb-later,");
    assert_string_equal(range(db, cal, 3000, INT64_MAX, &h), "undated,covers,unbounded,unb-later,");
    assert_string_equal(range(db, cal, INT64_MIN, 50, &h), "undated,covers,");
    h.s[0] = '\0';
    assert_int_equal(store_dav_range(db, cal, "VTODO", 1000, 2000, collect_row, &h), STORE_OK);
    assert_string_equal(h.s, "undated,");
    assert_int_equal(store_dav_range(db, cal, NULL, 10, 10, collect_row, &h), STORE_ERR_INVALID);

    /* A replaced object moves in time. */
    assert_int_equal(put_event(db, cal, "after", "5", 1500, 1600, 0, NULL, NULL), STORE_OK);
    assert_string_equal(range(db, cal, 1550, 1560, &h), "undated,covers,unbounded,after,");

    h.s[0] = '\0';
    assert_int_equal(store_dav_foreach(db, cal, collect_row, &h), STORE_OK);
    assert_string_equal(h.s, "after,before,covers,inside,inst-out,instant,over-end,over-start,"
                             "unb-later,unbounded,undated,");
    sqlite3_close(db);
}

typedef struct {
    char changed[256], deleted[256];
} changes;

static int collect_change(void *ctx, const char *href, int deleted)
{
    changes *c = ctx;
    char *s = deleted ? c->deleted : c->changed;
    strcat(s, href);
    strcat(s, ",");
    return 0;
}

static int sync_since(sqlite3 *db, int64_t cal, uint64_t since, changes *c, uint64_t *token)
{
    memset(c, 0, sizeof(*c));
    return store_dav_changes(db, cal, since, collect_change, c, token);
}

static void test_sync(void **state)
{
    (void)state;
    sqlite3 *db = open_store();
    int64_t cal = calendar(db, "work");
    changes c;
    uint64_t t0 = 0, t1 = 0, t2 = 0, t3 = 0;
    assert_int_equal(sync_since(db, cal, 0, &c, &t0), STORE_OK);
    assert_string_equal(c.changed, "");
    store_dav_collection col = coll(db, cal);
    assert_int_equal(t0, col.sync_token);
    store_dav_collection_free(&col);

    assert_int_equal(put_event(db, cal, "a", "a", 1, 2, 0, NULL, NULL), STORE_OK);
    assert_int_equal(put_event(db, cal, "b", "b", 1, 2, 0, NULL, NULL), STORE_OK);
    assert_int_equal(sync_since(db, cal, t0, &c, &t1), STORE_OK);
    assert_string_equal(c.changed, "a,b,");
    assert_string_equal(c.deleted, "");
    assert_true(t1 > t0);

    assert_int_equal(store_dav_delete(db, cal, "a", NULL), STORE_OK);
    assert_int_equal(put_event(db, cal, "b", "b", 3, 4, 0, NULL, NULL), STORE_OK);
    assert_int_equal(put_event(db, cal, "c", "c", 1, 2, 0, NULL, NULL), STORE_OK);
    assert_int_equal(sync_since(db, cal, t1, &c, &t2), STORE_OK);
    assert_string_equal(c.changed, "b,c,");
    assert_string_equal(c.deleted, "a,");
    assert_true(t2 > t1);
    /* From the start: the deletion too; initial sync: members only. */
    assert_int_equal(sync_since(db, cal, t0, &c, &t3), STORE_OK);
    assert_string_equal(c.changed, "b,c,");
    assert_string_equal(c.deleted, "a,");
    assert_int_equal(sync_since(db, cal, 0, &c, &t3), STORE_OK);
    assert_string_equal(c.changed, "b,c,");
    assert_string_equal(c.deleted, "");
    assert_int_equal(t3, t2);
    /* Nothing changed: same token, empty answer. */
    assert_int_equal(sync_since(db, cal, t2, &c, &t3), STORE_OK);
    assert_string_equal(c.changed, "");
    assert_string_equal(c.deleted, "");
    assert_int_equal(t3, t2);
    /* A token from the future is not valid. */
    assert_int_equal(sync_since(db, cal, t2 + 1000, &c, &t3), STORE_ERR_SYNC_TOKEN);

    /* Pruning the tombstones up to t1 expires older tokens. */
    assert_int_equal(store_dav_delete(db, cal, "c", NULL), STORE_OK);
    assert_int_equal(store_dav_changes_prune(db, cal, t2), STORE_OK);
    assert_int_equal(sync_since(db, cal, t0, &c, &t3), STORE_ERR_SYNC_TOKEN);
    assert_int_equal(sync_since(db, cal, t1, &c, &t3), STORE_ERR_SYNC_TOKEN);
    assert_string_equal(store_strerror(STORE_ERR_SYNC_TOKEN), "sync token no longer valid");
    assert_int_equal(sync_since(db, cal, t2, &c, &t3), STORE_OK);
    assert_string_equal(c.changed, "");
    assert_string_equal(c.deleted, "c,");
    assert_int_equal(sql_int(db, "SELECT count(*) FROM dav_changes WHERE href = 'a'"), 0);
    assert_int_equal(sync_since(db, 9999, 0, &c, &t3), STORE_ERR_NOMAILBOX);
    sqlite3_close(db);
}

static void test_tags_change(void **state)
{
    (void)state;
    sqlite3 *db = open_store();
    int64_t cal = calendar(db, "work");
    int64_t other = calendar(db, "home");
    store_dav_collection before = coll(db, cal), oth = coll(db, other);
    uint64_t counter0 = 0, counter1 = 0;
    assert_int_equal(store_change_counter(db, &counter0), STORE_OK);
    char e[3][STORE_DAV_TAG_LEN + 1];
    /* Writing the same bytes again still gives a new ETag. */
    for (int i = 0; i < 3; i++) {
        assert_int_equal(put_event(db, cal, "a", "a", 1, 2, 0, NULL, e[i]), STORE_OK);
        store_dav_collection now = coll(db, cal);
        assert_string_not_equal(now.ctag, before.ctag);
        assert_true(now.sync_token > before.sync_token);
        assert_int_equal(store_change_counter(db, &counter1), STORE_OK);
        assert_true(counter1 > counter0);
        counter0 = counter1;
        store_dav_collection_free(&before);
        before = now;
    }
    assert_string_not_equal(e[0], e[1]);
    assert_string_not_equal(e[1], e[2]);
    assert_int_equal(store_dav_delete(db, cal, "a", NULL), STORE_OK);
    store_dav_collection now = coll(db, cal);
    assert_string_not_equal(now.ctag, before.ctag);
    store_dav_collection_free(&now);
    store_dav_collection_free(&before);
    /* A failed write changes nothing, the other collection is untouched. */
    assert_int_equal(store_change_counter(db, &counter0), STORE_OK);
    assert_int_equal(store_dav_delete(db, cal, "a", NULL), STORE_ERR_NOTFOUND);
    assert_int_equal(store_change_counter(db, &counter1), STORE_OK);
    assert_int_equal(counter1, counter0);
    store_dav_collection o2 = coll(db, other);
    assert_string_equal(o2.ctag, oth.ctag);
    assert_int_equal(o2.sync_token, oth.sync_token);
    store_dav_collection_free(&o2);
    store_dav_collection_free(&oth);
    sqlite3_close(db);
}

static void test_delete_collection(void **state)
{
    (void)state;
    sqlite3 *db = open_store();
    int64_t cal = calendar(db, "work");
    int64_t keep = calendar(db, "home");
    assert_int_equal(put_event(db, cal, "a", "a", 1, 2, 0, NULL, NULL), STORE_OK);
    assert_int_equal(put_event(db, cal, "b", "b", 1, 2, 0, NULL, NULL), STORE_OK);
    assert_int_equal(store_dav_delete(db, cal, "b", NULL), STORE_OK);
    assert_int_equal(put_event(db, keep, "a", "a", 1, 2, 0, NULL, NULL), STORE_OK);
    assert_int_equal(store_dav_collection_delete(db, cal), STORE_OK);
    assert_int_equal(sql_int(db, "SELECT count(*) FROM dav_objects"), 1);
    assert_int_equal(sql_int(db, "SELECT count(*) FROM dav_changes"), 1);
    store_dav_object o;
    assert_int_equal(store_dav_get(db, cal, "a", &o), STORE_ERR_NOMAILBOX);
    /* A new collection of the same name is another one: new id, and
     * tokens of the old one are not valid in it. */
    int64_t again = calendar(db, "work");
    assert_true(again != cal);
    changes c;
    uint64_t t = 0;
    assert_int_equal(sync_since(db, again, 2, &c, &t), STORE_ERR_SYNC_TOKEN);
    assert_int_equal(store_dav_get(db, keep, "a", &o), STORE_OK);
    store_dav_object_free(&o);
    sqlite3_close(db);
}

static void test_transaction_nesting(void **state)
{
    (void)state;
    sqlite3 *db = open_store();
    int64_t cal = calendar(db, "work");
    /* Inside the caller's transaction: a failed call is undone alone. */
    assert_int_equal(store_begin(db), STORE_OK);
    assert_int_equal(put_event(db, cal, "a", "a", 1, 2, 0, NULL, NULL), STORE_OK);
    assert_int_equal(put_event(db, cal, "b", "a", 1, 2, 0, NULL, NULL), STORE_ERR_EXISTS);
    assert_int_equal(store_commit(db), STORE_OK);
    assert_int_equal(sql_int(db, "SELECT count(*) FROM dav_objects"), 1);
    assert_int_equal(store_begin(db), STORE_OK);
    assert_int_equal(put_event(db, cal, "b", "b", 1, 2, 0, NULL, NULL), STORE_OK);
    store_rollback(db);
    assert_int_equal(sql_int(db, "SELECT count(*) FROM dav_objects"), 1);
    assert_int_equal(sql_int(db, "SELECT count(*) FROM dav_changes"), 1);
    sqlite3_close(db);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_collections, setup, teardown),
        cmocka_unit_test_setup_teardown(test_put_get_etag, setup, teardown),
        cmocka_unit_test_setup_teardown(test_time_range, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sync, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tags_change, setup, teardown),
        cmocka_unit_test_setup_teardown(test_delete_collection, setup, teardown),
        cmocka_unit_test_setup_teardown(test_transaction_nesting, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
