/* Unit tests for lib/directory: the in-memory model (directory.h) and the
 * follower's pure helper (directory_follower_secret_from_file). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "directory.h"
#include "follower.h"

#define DOM_EX                                                                                     \
    "{\"name\":\"example.org\",\"enabled\":true,\"max_users\":0,\"default_quota_bytes\":1000}"
#define DOM_OTHER                                                                                  \
    "{\"name\":\"other.org\",\"enabled\":true,\"max_users\":5,\"default_quota_bytes\":0}"
#define USER_ALICE                                                                                 \
    "{\"address\":\"alice@example.org\",\"domain\":\"example.org\",\"local\":\"alice\","           \
    "\"enabled\":true,\"quota_bytes\":100,\"store_id\":\"s1\",\"public_key\":\"cGs=\","            \
    "\"display_name\":\"Alice\",\"credentials\":[{\"kind\":\"password\",\"id\":\"c1\","            \
    "\"wrap\":\"d3JhcA==\"}],\"x25519_sealed_sk\":\"c2s=\"}"
#define USER_BOB                                                                                   \
    "{\"address\":\"bob@other.org\",\"domain\":\"other.org\",\"local\":\"bob\",\"enabled\":true,"  \
    "\"quota_bytes\":0,\"store_id\":\"s2\",\"public_key\":\"cGs=\",\"display_name\":\"\","         \
    "\"credentials\":[],\"x25519_sealed_sk\":\"c2s=\"}"
#define ALIAS_SALES                                                                                \
    "{\"address\":\"sales@example.org\",\"domain\":\"example.org\",\"local\":\"sales\","           \
    "\"targets\":[\"alice@example.org\",\"x@remote.net\"],\"enabled\":true}"
#define ALIAS_CATCHALL                                                                             \
    "{\"address\":\"*@example.org\",\"domain\":\"example.org\",\"local\":\"*\","                   \
    "\"targets\":[\"alice@example.org\"],\"enabled\":true}"
#define DKIM_EX                                                                                    \
    "{\"domain\":\"example.org\",\"selector\":\"s1\",\"algorithm\":\"ed25519\","                   \
    "\"status\":\"active\",\"private_key_sealed\":\"a2V5\"}"

#define SNAPSHOT                                                                                   \
    "{\"seq\":42,\"domains\":[" DOM_EX "," DOM_OTHER "],\"users\":[" USER_ALICE "," USER_BOB       \
    "],\"aliases\":[" ALIAS_SALES "," ALIAS_CATCHALL "],\"dkim_keys\":[" DKIM_EX "]}"

static directory *load(const char *json)
{
    directory *d = directory_new();
    assert_non_null(d);
    const char *why = NULL;
    int rc = directory_load_snapshot(d, json, strlen(json), &why);
    if (rc != 0)
        fail_msg("snapshot rejected: %s", why);
    return d;
}

static int apply(directory *d, uint64_t seq, const char *type, const char *key, const char *data)
{
    const char *why = NULL;
    return directory_apply_event(d, seq, type, key, data, data != NULL ? strlen(data) : 0, &why);
}

static void digest(const directory *d, char hex[DIRECTORY_DIGEST_HEX_SIZE])
{
    assert_int_equal(directory_digest(d, hex), 0);
    assert_int_equal(strlen(hex), 64);
}

static const char *str_member(const cJSON *e, const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(e, name);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

static void test_snapshot_load(void **state)
{
    (void)state;
    directory *d = load(SNAPSHOT);
    assert_int_equal(directory_seq(d), 42);
    assert_int_equal(directory_count(d, DIRECTORY_DOMAIN), 2);
    assert_int_equal(directory_count(d, DIRECTORY_USER), 2);
    assert_int_equal(directory_count(d, DIRECTORY_ALIAS), 2);
    assert_int_equal(directory_count(d, DIRECTORY_DKIM), 1);
    assert_non_null(directory_find_domain(d, "example.org"));
    assert_null(directory_find_domain(d, "nope.org"));
    assert_string_equal(str_member(directory_find_user(d, "alice@example.org"), "store_id"), "s1");
    const cJSON *a = directory_find_alias(d, "sales@example.org");
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(a, "targets")), 2);
    assert_non_null(directory_find_alias(d, "*@example.org"));
    const cJSON *k = directory_find_dkim(d, "example.org", "s1");
    assert_string_equal(str_member(k, "algorithm"), "ed25519");
    assert_ptr_equal(k, directory_find(d, DIRECTORY_DKIM, "example.org/s1"));

    /* A second snapshot replaces everything. */
    const char *small = "{\"seq\":7,\"domains\":[" DOM_OTHER "],\"users\":[],\"aliases\":[],"
                        "\"dkim_keys\":[]}";
    assert_int_equal(directory_load_snapshot(d, small, strlen(small), NULL), 0);
    assert_int_equal(directory_seq(d), 7);
    assert_null(directory_find_domain(d, "example.org"));
    assert_null(directory_find_user(d, "alice@example.org"));
    assert_int_equal(directory_count(d, DIRECTORY_DOMAIN), 1);
    directory_free(&d);
    assert_null(d);
    directory_free(&d);
}

static void test_events_upsert_delete(void **state)
{
    (void)state;
    directory *d = directory_new();
    assert_non_null(d);
    assert_int_equal(apply(d, 1, "domain.upsert", "example.org", DOM_EX), 0);
    assert_int_equal(apply(d, 2, "user.upsert", "alice@example.org", USER_ALICE), 0);
    assert_int_equal(apply(d, 3, "alias.upsert", "sales@example.org", ALIAS_SALES), 0);
    assert_int_equal(apply(d, 4, "alias.upsert", "*@example.org", ALIAS_CATCHALL), 0);
    assert_int_equal(apply(d, 5, "dkim.upsert", "example.org/s1", DKIM_EX), 0);
    assert_int_equal(directory_seq(d), 5);
    assert_non_null(directory_find_user(d, "alice@example.org"));
    assert_non_null(directory_find_dkim(d, "example.org", "s1"));

    /* An upsert of an existing key replaces it. */
    const char *patched = "{\"address\":\"sales@example.org\",\"domain\":\"example.org\","
                          "\"local\":\"sales\",\"targets\":[\"z@remote.net\"],\"enabled\":false}";
    assert_int_equal(apply(d, 6, "alias.upsert", "sales@example.org", patched), 0);
    assert_int_equal(directory_count(d, DIRECTORY_ALIAS), 2);
    const cJSON *a = directory_find_alias(d, "sales@example.org");
    assert_false(directory_entity_enabled(a));
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(a, "targets")), 1);

    /* Deletes, with "{}" or no data; deleting a missing key is fine. */
    assert_int_equal(apply(d, 7, "alias.delete", "sales@example.org", "{}"), 0);
    assert_null(directory_find_alias(d, "sales@example.org"));
    assert_int_equal(apply(d, 8, "user.delete", "alice@example.org", NULL), 0);
    assert_null(directory_find_user(d, "alice@example.org"));
    assert_int_equal(apply(d, 9, "dkim.delete", "example.org/s1", "{}"), 0);
    assert_null(directory_find_dkim(d, "example.org", "s1"));
    assert_int_equal(apply(d, 10, "user.delete", "ghost@example.org", "{}"), 0);
    assert_int_equal(directory_seq(d), 10);
    assert_int_equal(directory_count(d, DIRECTORY_ALIAS), 1);
    assert_int_equal(apply(d, 11, "domain.delete", "example.org", "{}"), 0);
    assert_int_equal(directory_count(d, DIRECTORY_DOMAIN), 0);
    assert_int_equal(directory_count(d, DIRECTORY_ALIAS), 0);
    directory_free(&d);
}

static void test_domain_delete_cascades(void **state)
{
    (void)state;
    directory *d = load(SNAPSHOT);
    /* A subdomain's entities are not the domain's. */
    assert_int_equal(apply(d, 43, "domain.upsert", "sub.example.org",
                           "{\"name\":\"sub.example.org\",\"enabled\":true}"),
                     0);
    assert_int_equal(apply(d, 44, "alias.upsert", "a@sub.example.org",
                           "{\"address\":\"a@sub.example.org\",\"targets\":[\"x@y.z\"]}"),
                     0);
    assert_int_equal(apply(d, 45, "domain.delete", "example.org", "{}"), 0);
    assert_null(directory_find_domain(d, "example.org"));
    assert_null(directory_find_user(d, "alice@example.org"));
    assert_null(directory_find_alias(d, "sales@example.org"));
    assert_null(directory_find_alias(d, "*@example.org"));
    assert_null(directory_find_dkim(d, "example.org", "s1"));
    assert_non_null(directory_find_domain(d, "other.org"));
    assert_non_null(directory_find_user(d, "bob@other.org"));
    assert_non_null(directory_find_alias(d, "a@sub.example.org"));
    assert_int_equal(directory_count(d, DIRECTORY_USER), 1);
    assert_int_equal(directory_count(d, DIRECTORY_DKIM), 0);
    directory_free(&d);
}

static void test_digest_order_independent(void **state)
{
    (void)state;
    directory *a = load(SNAPSHOT);
    /* The same content from events, in another order, with object members
     * in another order, on top of an unrelated earlier state. */
    directory *b = directory_new();
    assert_non_null(b);
    assert_int_equal(apply(b, 1, "domain.upsert", "zzz.org", "{\"name\":\"zzz.org\"}"), 0);
    assert_int_equal(apply(b, 2, "dkim.upsert", "example.org/s1", DKIM_EX), 0);
    assert_int_equal(apply(b, 3, "alias.upsert", "*@example.org", ALIAS_CATCHALL), 0);
    assert_int_equal(apply(b, 4, "user.upsert", "bob@other.org", USER_BOB), 0);
    assert_int_equal(apply(b, 5, "domain.upsert", "other.org", DOM_OTHER), 0);
    assert_int_equal(apply(b, 6, "alias.upsert", "sales@example.org",
                           "{\"enabled\":true,\"targets\":[\"alice@example.org\",\"x@remote.net\"],"
                           "\"local\":\"sales\",\"domain\":\"example.org\","
                           "\"address\":\"sales@example.org\"}"),
                     0);
    assert_int_equal(apply(b, 7, "user.upsert", "alice@example.org", USER_ALICE), 0);
    assert_int_equal(apply(b, 8, "domain.upsert", "example.org",
                           "{\"default_quota_bytes\":1000,\"max_users\":0,\"enabled\":true,"
                           "\"name\":\"example.org\"}"),
                     0);
    assert_int_equal(apply(b, 9, "domain.delete", "zzz.org", "{}"), 0);
    char ha[DIRECTORY_DIGEST_HEX_SIZE], hb[DIRECTORY_DIGEST_HEX_SIZE];
    digest(a, ha);
    digest(b, hb);
    assert_string_equal(ha, hb);

    /* Any change shows. */
    assert_int_equal(apply(b, 10, "alias.upsert", "*@example.org",
                           "{\"address\":\"*@example.org\",\"domain\":\"example.org\","
                           "\"local\":\"*\",\"targets\":[\"alice@example.org\"],"
                           "\"enabled\":false}"),
                     0);
    digest(b, hb);
    assert_string_not_equal(ha, hb);
    directory_free(&a);
    directory_free(&b);
}

static void test_digest_format(void **state)
{
    (void)state;
    directory *d = directory_new();
    assert_non_null(d);
    char hex[DIRECTORY_DIGEST_HEX_SIZE];
    digest(d, hex); /* SHA-256 of nothing */
    assert_string_equal(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");

    assert_int_equal(apply(d, 1, "user.upsert", "b@x.org", "{ \"address\" : \"b@x.org\" }"), 0);
    assert_int_equal(apply(d, 2, "domain.upsert", "x.org", "{\"name\":\"x.org\",\"a\":1}"), 0);
    assert_int_equal(apply(d, 3, "user.upsert", "a@x.org", "{\"z\":[1,2],\"address\":\"a@x.org\"}"),
                     0);
    const char *canon = "domain\tx.org\t{\"a\":1,\"name\":\"x.org\"}\n"
                        "user\ta@x.org\t{\"address\":\"a@x.org\",\"z\":[1,2]}\n"
                        "user\tb@x.org\t{\"address\":\"b@x.org\"}\n";
    unsigned char h[crypto_hash_sha256_BYTES];
    char want[DIRECTORY_DIGEST_HEX_SIZE];
    crypto_hash_sha256(h, (const unsigned char *)canon, strlen(canon));
    sodium_bin2hex(want, sizeof(want), h, sizeof(h));
    digest(d, hex);
    assert_string_equal(hex, want);
    directory_free(&d);
}

static void assert_unchanged(const directory *d, uint64_t seq, const char *hex)
{
    char now[DIRECTORY_DIGEST_HEX_SIZE];
    assert_int_equal(directory_seq(d), seq);
    digest(d, now);
    assert_string_equal(now, hex);
}

static void test_malformed_snapshot_rejected(void **state)
{
    (void)state;
    static const char *bad[] = {
        "",
        "not json",
        "[]",
        "{\"seq\":1}",
        "{\"seq\":-1,\"domains\":[],\"users\":[],\"aliases\":[],\"dkim_keys\":[]}",
        "{\"seq\":1.5,\"domains\":[],\"users\":[],\"aliases\":[],\"dkim_keys\":[]}",
        "{\"seq\":\"1\",\"domains\":[],\"users\":[],\"aliases\":[],\"dkim_keys\":[]}",
        "{\"seq\":1,\"domains\":{},\"users\":[],\"aliases\":[],\"dkim_keys\":[]}",
        "{\"seq\":1,\"domains\":[],\"users\":[],\"aliases\":[]}",
        "{\"seq\":1,\"domains\":[1],\"users\":[],\"aliases\":[],\"dkim_keys\":[]}",
        "{\"seq\":1,\"domains\":[{}],\"users\":[],\"aliases\":[],\"dkim_keys\":[]}",
        "{\"seq\":1,\"domains\":[" DOM_EX "," DOM_EX "],\"users\":[],\"aliases\":[],"
        "\"dkim_keys\":[]}",
        "{\"seq\":1,\"domains\":[],\"users\":[{\"address\":\"noat\"}],\"aliases\":[],"
        "\"dkim_keys\":[]}",
        "{\"seq\":1,\"domains\":[],\"users\":[],\"aliases\":[],\"dkim_keys\":[{\"domain\":\"x\"}]}",
        "{\"seq\":1,\"domains\":[],\"users\":[],\"aliases\":[],\"dkim_keys\":[]} trailing",
        "{\"seq\":1,\"domains\":[" DOM_EX "],\"users\":[],\"aliases\":[],\"dkim_keys\":[]",
    };
    directory *d = load(SNAPSHOT);
    char hex[DIRECTORY_DIGEST_HEX_SIZE];
    digest(d, hex);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        const char *why = NULL;
        if (directory_load_snapshot(d, bad[i], strlen(bad[i]), &why) == 0)
            fail_msg("snapshot %zu accepted: %s", i, bad[i]);
        assert_non_null(why);
        assert_unchanged(d, 42, hex);
    }
    assert_int_not_equal(directory_load_snapshot(d, NULL, 0, NULL), 0);
    assert_int_not_equal(directory_load_snapshot(d, "{}", DIRECTORY_SNAPSHOT_MAX + 1, NULL), 0);
    assert_unchanged(d, 42, hex);
    directory_free(&d);
}

static void test_malformed_event_rejected(void **state)
{
    (void)state;
    static const struct {
        uint64_t seq;
        const char *type, *key, *data;
    } bad[] = {
        {43, "domain.replace", "x.org", "{\"name\":\"x.org\"}"},
        {43, "admin.upsert", "x", "{}"},
        {43, "domain", "x.org", "{\"name\":\"x.org\"}"},
        {43, "domain.upsert", "x.org", "{\"name\":\"y.org\"}"},
        {43, "domain.upsert", "x.org", "{\"name\":\"x.org\""},
        {43, "domain.upsert", "x.org", "{\"name\":\"x.org\"} x"},
        {43, "domain.upsert", "x.org", "[]"},
        {43, "domain.upsert", "x.org", NULL},
        {43, "domain.upsert", "", "{\"name\":\"\"}"},
        {43, "domain.upsert", "a@x.org", "{\"name\":\"a@x.org\"}"},
        {43, "user.upsert", "alice@example.org", "{\"address\":\"bob@example.org\"}"},
        {43, "user.upsert", "noat", "{\"address\":\"noat\"}"},
        {43, "user.upsert", "@example.org", "{\"address\":\"@example.org\"}"},
        {43, "user.upsert", "a\tb@example.org", "{\"address\":\"a\\tb@example.org\"}"},
        {43, "dkim.upsert", "example.org/s2", "{\"domain\":\"example.org\",\"selector\":\"s3\"}"},
        {43, "dkim.upsert", "example.org", "{\"domain\":\"example.org\"}"},
        {43, "dkim.upsert", "example.org/a/b", "{\"domain\":\"example.org\",\"selector\":\"a/b\"}"},
        {43, "user.delete", "alice@example.org", "not json"},
        {43, "user.delete", "alice@example.org", "[]"},
        {42, "user.delete", "alice@example.org", "{}"},
        {41, "user.delete", "alice@example.org", "{}"},
        {DIRECTORY_SEQ_MAX + 1, "user.delete", "alice@example.org", "{}"},
        {43, NULL, "alice@example.org", "{}"},
        {43, "user.delete", NULL, "{}"},
    };
    directory *d = load(SNAPSHOT);
    char hex[DIRECTORY_DIGEST_HEX_SIZE];
    digest(d, hex);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        const char *why = NULL;
        const char *data = bad[i].data;
        if (directory_apply_event(d, bad[i].seq, bad[i].type, bad[i].key, data,
                                  data != NULL ? strlen(data) : 0, &why) == 0)
            fail_msg("event %zu accepted", i);
        assert_non_null(why);
        assert_unchanged(d, 42, hex);
    }
    /* Over the limits. */
    char key[DIRECTORY_KEY_MAX + 16];
    memset(key, 'a', sizeof(key) - 1);
    key[sizeof(key) - 1] = '\0';
    assert_int_not_equal(apply(d, 43, "domain.delete", key, "{}"), 0);
    size_t big = DIRECTORY_ENTITY_MAX + 1;
    char *data = malloc(big + 1);
    assert_non_null(data);
    memset(data, ' ', big);
    memcpy(data, "{}", 2);
    data[big] = '\0';
    assert_int_not_equal(directory_apply_event(d, 43, "user.delete", "a@b.c", data, big, NULL), 0);
    free(data);
    assert_unchanged(d, 42, hex);
    directory_free(&d);
}

static void test_resolve_rcpt(void **state)
{
    (void)state;
    directory *d = load(SNAPSHOT);
    const cJSON *e = NULL;
    assert_int_equal(directory_resolve_rcpt(d, "alice@example.org", &e), DIRECTORY_RCPT_USER);
    assert_string_equal(str_member(e, "store_id"), "s1");
    assert_int_equal(directory_resolve_rcpt(d, "ALICE@Example.ORG", &e), DIRECTORY_RCPT_USER);
    assert_int_equal(directory_resolve_rcpt(d, "sales@example.org", &e), DIRECTORY_RCPT_ALIAS);
    assert_string_equal(str_member(e, "address"), "sales@example.org");
    assert_int_equal(directory_resolve_rcpt(d, "nobody@example.org", &e), DIRECTORY_RCPT_CATCHALL);
    assert_string_equal(str_member(e, "address"), "*@example.org");
    /* other.org has no catch-all; unknown domains and junk are NONE. */
    assert_int_equal(directory_resolve_rcpt(d, "nobody@other.org", &e), DIRECTORY_RCPT_NONE);
    assert_null(e);
    assert_int_equal(directory_resolve_rcpt(d, "bob@other.org", NULL), DIRECTORY_RCPT_USER);
    assert_int_equal(directory_resolve_rcpt(d, "alice@nope.org", &e), DIRECTORY_RCPT_NONE);
    assert_int_equal(directory_resolve_rcpt(d, "alice", &e), DIRECTORY_RCPT_NONE);
    assert_int_equal(directory_resolve_rcpt(d, "@example.org", &e), DIRECTORY_RCPT_NONE);
    assert_int_equal(directory_resolve_rcpt(d, "alice@", &e), DIRECTORY_RCPT_NONE);
    assert_int_equal(directory_resolve_rcpt(d, NULL, &e), DIRECTORY_RCPT_NONE);
    char longaddr[DIRECTORY_KEY_MAX + 20];
    memset(longaddr, 'a', sizeof(longaddr));
    memcpy(longaddr + sizeof(longaddr) - 13, "@example.org", 13);
    assert_int_equal(directory_resolve_rcpt(d, longaddr, &e), DIRECTORY_RCPT_NONE);

    /* A disabled user does not fall through to the catch-all. */
    const char *off = "{\"address\":\"alice@example.org\",\"enabled\":false}";
    assert_int_equal(apply(d, 43, "user.upsert", "alice@example.org", off), 0);
    assert_int_equal(directory_resolve_rcpt(d, "alice@example.org", &e), DIRECTORY_RCPT_NONE);
    assert_null(e);
    /* A disabled catch-all, a disabled domain. */
    const char *ca_off = "{\"address\":\"*@example.org\",\"enabled\":false,\"targets\":[]}";
    assert_int_equal(apply(d, 44, "alias.upsert", "*@example.org", ca_off), 0);
    assert_int_equal(directory_resolve_rcpt(d, "nobody@example.org", &e), DIRECTORY_RCPT_NONE);
    const char *dom_off = "{\"name\":\"other.org\",\"enabled\":false}";
    assert_int_equal(apply(d, 45, "domain.upsert", "other.org", dom_off), 0);
    assert_int_equal(directory_resolve_rcpt(d, "bob@other.org", &e), DIRECTORY_RCPT_NONE);
    directory_free(&d);
}

static int count_fn(void *ctx, const char *key, const cJSON *entity)
{
    (void)key;
    (void)entity;
    (*(size_t *)ctx)++;
    return 0;
}

/* Many inserts and deletes: table growth and backward-shift deletion. */
static void test_many_entities(void **state)
{
    (void)state;
    enum { N = 5000 };
    directory *d = directory_new();
    assert_non_null(d);
    char key[64], data[128];
    uint64_t seq = 0;
    for (int i = 0; i < N; i++) {
        snprintf(key, sizeof(key), "a%d@example.org", i);
        snprintf(data, sizeof(data), "{\"address\":\"%s\",\"targets\":[\"t@x.org\"]}", key);
        assert_int_equal(apply(d, ++seq, "alias.upsert", key, data), 0);
    }
    for (int i = 0; i < N; i += 2) {
        snprintf(key, sizeof(key), "a%d@example.org", i);
        assert_int_equal(apply(d, ++seq, "alias.delete", key, "{}"), 0);
    }
    assert_int_equal(directory_count(d, DIRECTORY_ALIAS), N / 2);
    for (int i = 0; i < N; i++) {
        snprintf(key, sizeof(key), "a%d@example.org", i);
        if ((directory_find_alias(d, key) != NULL) != (i % 2 == 1))
            fail_msg("lookup of %s wrong", key);
    }
    size_t n = 0;
    assert_int_equal(directory_foreach(d, DIRECTORY_ALIAS, count_fn, &n), 0);
    assert_int_equal(n, N / 2);
    /* The cascade empties the rest. */
    assert_int_equal(apply(d, ++seq, "domain.delete", "example.org", NULL), 0);
    assert_int_equal(directory_count(d, DIRECTORY_ALIAS), 0);
    directory_free(&d);
}

static void test_secret_from_file(void **state)
{
    (void)state;
    char *t = NULL;
    size_t n = 0;
    const unsigned char raw[5] = {0x00, 0xff, 0x10, 0x0a, 'A'};
    assert_int_equal(directory_follower_secret_from_file(raw, sizeof(raw), &t, &n), 0);
    assert_string_equal(t, "00ff100a41");
    assert_int_equal(n, 10);
    sodium_free(t);
    t = NULL;
    assert_int_not_equal(directory_follower_secret_from_file(raw, 0, &t, &n), 0);
    assert_null(t);
    unsigned char big[DIRECTORY_FOLLOWER_SECRET_MAX / 2 + 1] = {0};
    assert_int_not_equal(directory_follower_secret_from_file(big, sizeof(big), &t, &n), 0);
    assert_null(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_snapshot_load),
        cmocka_unit_test(test_events_upsert_delete),
        cmocka_unit_test(test_domain_delete_cascades),
        cmocka_unit_test(test_digest_order_independent),
        cmocka_unit_test(test_digest_format),
        cmocka_unit_test(test_malformed_snapshot_rejected),
        cmocka_unit_test(test_malformed_event_rejected),
        cmocka_unit_test(test_resolve_rcpt),
        cmocka_unit_test(test_many_entities),
        cmocka_unit_test(test_secret_from_file),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
