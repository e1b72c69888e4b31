/* Unit tests for the pure parts of lib/queue's delivery: the retry
 * schedule, the configuration keys, MX selection (RFC 5321 5.1, RFC 7505)
 * and MX RDATA decoding. */
#include "conf.h"
#include "queue.h"
#include "queue_mx.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

static void test_backoff(void **state)
{
    (void)state;
    queue_config cfg;
    queue_config_default(&cfg);
    static const long long expect[] = {300, 300, 600, 1200, 2400, 4800, 9600, 14400, 14400};
    for (uint32_t n = 0; n < 9; n++)
        assert_int_equal(queue_backoff(&cfg, n), expect[n]);
    assert_int_equal(queue_backoff(&cfg, 1000000), 14400);
    cfg.retry_min = 1;
    cfg.retry_max = 5;
    assert_int_equal(queue_backoff(&cfg, 1), 1);
    assert_int_equal(queue_backoff(&cfg, 3), 4);
    assert_int_equal(queue_backoff(&cfg, 4), 5);
}

static void test_config(void **state)
{
    (void)state;
    static const char text[] = "data_dir = /srv/om\nhostname = mx.example.org\n"
                               "queue.dns = 127.0.0.1:5353\nqueue.remote_port = 2525\n"
                               "queue.retry_min = 30s\nqueue.retry_max = 2h\n"
                               "queue.max_age = 3d\nqueue.concurrency = 2\n"
                               "queue.starttls = no\nqueue.message_max = 10M\n";
    conf *c = NULL;
    conf_error ce;
    queue_config cfg;
    assert_int_equal(conf_load_text(text, sizeof(text) - 1, &c, &ce), 0);
    assert_int_equal(queue_config_load(c, &cfg, &ce), 0);
    assert_string_equal(cfg.queue_dir, "/srv/om/queue");
    assert_string_equal(cfg.hostname, "mx.example.org");
    assert_string_equal(cfg.dns, "127.0.0.1:5353");
    assert_int_equal(cfg.remote_port, 2525);
    assert_int_equal(cfg.retry_min, 30);
    assert_int_equal(cfg.retry_max, 7200);
    assert_int_equal(cfg.max_age, 3 * 86400);
    assert_int_equal(cfg.concurrency, 2);
    assert_false(cfg.starttls);
    assert_true(cfg.relay_verify);
    assert_int_equal(cfg.message_max, 10 * 1024 * 1024);
    assert_int_equal(conf_unknown_keys(c, queue_config_keys, &ce), 0);
    conf_free(&c);
    static const char bad[] = "data_dir = /x\nqueue.retry_min = 2h\nqueue.retry_max = 1h\n";
    assert_int_equal(conf_load_text(bad, sizeof(bad) - 1, &c, &ce), 0);
    assert_int_equal(queue_config_load(c, &cfg, &ce), -1);
    conf_free(&c);
}

/* ---- MX selection ---------------------------------------------------------- */

typedef struct seq_rand {
    const uint32_t *v;
    size_t n, i;
} seq_rand;

static uint32_t seq_next(void *ctx, uint32_t n)
{
    seq_rand *s = ctx;
    return s->n == 0 ? 0 : s->v[s->i++ % s->n] % n;
}

static queue_mx_record rec(unsigned pref, const char *host)
{
    queue_mx_record r;
    memset(&r, 0, sizeof(r));
    r.pref = pref;
    snprintf(r.host, sizeof(r.host), "%s", host);
    return r;
}

static void test_mx_sorting(void **state)
{
    (void)state;
    queue_mx_record recs[] = {rec(20, "c.example"), rec(10, "b.example"), rec(5, "a.example"),
                              rec(10, "B2.example."), rec(20, "c.example")};
    queue_mx_list l;
    seq_rand none = {NULL, 0, 0};
    queue_mx_select("example", NULL, QUEUE_DNS_OK, recs, 5, seq_next, &none, &l);
    assert_int_equal(l.kind, QUEUE_MX_HOSTS);
    assert_int_equal(l.n, 4); /* the duplicate c.example dropped */
    assert_string_equal(l.hosts[0], "a.example");
    assert_string_equal(l.hosts[3], "c.example");
    /* The pair at preference 10 comes in either order, as the random source says. */
    bool seen_b_first = false, seen_b2_first = false;
    for (uint32_t k = 0; k < 4; k++) {
        uint32_t v[] = {k};
        seq_rand r = {v, 1, 0};
        queue_mx_select("example", NULL, QUEUE_DNS_OK, recs, 5, seq_next, &r, &l);
        assert_string_equal(l.hosts[0], "a.example");
        seen_b_first = seen_b_first || strcmp(l.hosts[1], "b.example") == 0;
        seen_b2_first = seen_b2_first || strcmp(l.hosts[1], "b2.example") == 0;
        assert_true(strcmp(l.hosts[1], l.hosts[2]) != 0);
    }
    assert_true(seen_b_first && seen_b2_first);
}

static void test_mx_special(void **state)
{
    (void)state;
    queue_mx_list l;
    /* No MX: the implicit MX is the domain, or where its CNAME led. */
    queue_mx_select("remote.test", NULL, QUEUE_DNS_NODATA, NULL, 0, NULL, NULL, &l);
    assert_int_equal(l.kind, QUEUE_MX_HOSTS);
    assert_int_equal(l.n, 1);
    assert_string_equal(l.hosts[0], "remote.test");
    queue_mx_select("alias.test", "Real.Test.", QUEUE_DNS_NODATA, NULL, 0, NULL, NULL, &l);
    assert_string_equal(l.hosts[0], "real.test");
    /* RFC 7505 null MX. */
    queue_mx_record null_mx[] = {rec(0, "")};
    queue_mx_select("nullmx.test", NULL, QUEUE_DNS_OK, null_mx, 1, NULL, NULL, &l);
    assert_int_equal(l.kind, QUEUE_MX_NULL);
    assert_int_equal(l.n, 0);
    /* "." beside real exchangers is skipped. */
    queue_mx_record mixed[] = {rec(0, ""), rec(10, "mx.test")};
    queue_mx_select("mixed.test", NULL, QUEUE_DNS_OK, mixed, 2, NULL, NULL, &l);
    assert_int_equal(l.kind, QUEUE_MX_HOSTS);
    assert_int_equal(l.n, 1);
    assert_string_equal(l.hosts[0], "mx.test");
    queue_mx_select("gone.test", NULL, QUEUE_DNS_NXDOMAIN, NULL, 0, NULL, NULL, &l);
    assert_int_equal(l.kind, QUEUE_MX_NOT_FOUND);
    queue_mx_select("flaky.test", NULL, QUEUE_DNS_TEMP, NULL, 0, NULL, NULL, &l);
    assert_int_equal(l.kind, QUEUE_MX_TEMP);
    /* At most QUEUE_MX_HOSTS_MAX hosts. */
    queue_mx_record many[QUEUE_MX_RECORDS_MAX];
    for (unsigned i = 0; i < QUEUE_MX_RECORDS_MAX; i++) {
        char h[32];
        snprintf(h, sizeof(h), "mx%u.test", i);
        many[i] = rec(i, h);
    }
    queue_mx_select("many.test", NULL, QUEUE_DNS_OK, many, QUEUE_MX_RECORDS_MAX, NULL, NULL, &l);
    assert_int_equal(l.n, QUEUE_MX_HOSTS_MAX);
    assert_string_equal(l.hosts[0], "mx0.test");
}

static void test_mx_rdata(void **state)
{
    (void)state;
    queue_mx_record r;
    static const unsigned char ok[] = {0,   10,  2,   'M', 'x', 6,   'r', 'e', 'm',
                                       'o', 't', 'e', 4,   't', 'e', 's', 't', 0};
    assert_int_equal(queue_mx_rdata_parse(ok, sizeof(ok), &r), 0);
    assert_int_equal(r.pref, 10);
    assert_string_equal(r.host, "mx.remote.test");
    static const unsigned char root[] = {0, 0, 0};
    assert_int_equal(queue_mx_rdata_parse(root, sizeof(root), &r), 0);
    assert_string_equal(r.host, "");
    static const unsigned char pointer[] = {0, 10, 0xc0, 12};
    assert_int_equal(queue_mx_rdata_parse(pointer, sizeof(pointer), &r), -1);
    static const unsigned char trailing[] = {0, 10, 1, 'a', 0, 'x'};
    assert_int_equal(queue_mx_rdata_parse(trailing, sizeof(trailing), &r), -1);
    static const unsigned char shortl[] = {0, 10, 5, 'a', 'b'};
    assert_int_equal(queue_mx_rdata_parse(shortl, sizeof(shortl), &r), -1);
    static const unsigned char space[] = {0, 10, 3, 'a', ' ', 'b', 0};
    assert_int_equal(queue_mx_rdata_parse(space, sizeof(space), &r), -1);
    assert_int_equal(queue_mx_rdata_parse(ok, 2, &r), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_backoff),    cmocka_unit_test(test_config),
        cmocka_unit_test(test_mx_sorting), cmocka_unit_test(test_mx_special),
        cmocka_unit_test(test_mx_rdata),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
