/* Unit tests for lib/net, part 1: addresses and listeners, bounded line
 * input, backpressure and the output cap, many connections, timeouts. Real
 * sockets on 127.0.0.1; the client runs on its own thread
 * (test_net_support.h). No assertion is about speed: the short timeouts only
 * make the tests quick. Part 2 is test_net_ops.c, TLS is test_net_tls.c. */
#include "net.h"
#include "net_internal.h" /* net_limits_key */
#include "test_net_support.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* ---- addresses ---------------------------------------------------------- */

static void test_addr_parse(void **state)
{
    (void)state;
    static const char *good[] = {"127.0.0.1:25", "*:0",          "[::1]:993",
                                 "[::]:65535",   "0.0.0.0:2525", "[2001:db8::1]:1"};
    static const char *bad[] = {"",
                                "127.0.0.1",
                                "127.0.0.1:",
                                "127.0.0.1:65536",
                                "localhost:25",
                                "::1:25",
                                "[::1]25",
                                "[::1:25",
                                "1.2.3:25",
                                "127.0.0.1:+5",
                                "127.0.0.1:123456",
                                "[fe80::1%eth0]:25",
                                ":25",
                                "127.0.0.1:2 5"};
    struct sockaddr_storage ss;
    socklen_t sl;
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        if (net_addr_parse(good[i], &ss, &sl) != 0)
            fail_msg("refused good address '%s'", good[i]);
    }
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (net_addr_parse(bad[i], &ss, &sl) != -1)
            fail_msg("accepted bad address '%s'", bad[i]);
    }
    assert_int_equal(net_addr_parse("127.9.9.9:1", &ss, &sl), 0);
    assert_true(net_addr_is_loopback(&ss));
    assert_int_equal(net_addr_parse("[::1]:1", &ss, &sl), 0);
    assert_true(net_addr_is_loopback(&ss));
    assert_int_equal(net_addr_parse("[::ffff:127.0.0.1]:1", &ss, &sl), 0);
    assert_true(net_addr_is_loopback(&ss));
    assert_int_equal(net_addr_parse("*:1", &ss, &sl), 0);
    assert_false(net_addr_is_loopback(&ss));
    assert_int_equal(net_addr_parse("[::]:1", &ss, &sl), 0);
    assert_false(net_addr_is_loopback(&ss));
}

/* IPv4 addresses count one by one, IPv6 ones by /64, mapped IPv4 as IPv4. */
static void test_per_ip_key(void **state)
{
    (void)state;
    struct sockaddr_storage a, b;
    socklen_t sl;
    unsigned char ka[16], kb[16];
    struct {
        const char *x, *y;
        bool same;
    } cases[] = {
        {"192.0.2.1:1", "192.0.2.1:2", true},
        {"192.0.2.1:1", "192.0.2.2:1", false},
        {"[2001:db8:1:2::1]:1", "[2001:db8:1:2:ffff::9]:1", true},
        {"[2001:db8:1:2::1]:1", "[2001:db8:1:3::1]:1", false},
        {"[::ffff:192.0.2.1]:1", "192.0.2.1:1", true},
        {"[::ffff:192.0.2.1]:1", "[::ffff:192.0.2.2]:1", false},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        assert_int_equal(net_addr_parse(cases[i].x, &a, &sl), 0);
        assert_int_equal(net_addr_parse(cases[i].y, &b, &sl), 0);
        net_limits_key(&a, ka);
        net_limits_key(&b, kb);
        if ((memcmp(ka, kb, 16) == 0) != cases[i].same)
            fail_msg("%s and %s: wrong per-IP key", cases[i].x, cases[i].y);
    }
}

static void dummy_cb(net_conn *c)
{
    (void)c;
}

static void test_listen_errors(void **state)
{
    (void)state;
    echo_server s;
    assert_int_equal(echo_server_start(&s, NULL, NULL, NULL), 0);
    char taken[32];
    snprintf(taken, sizeof(taken), "127.0.0.1:%u", net_listener_port(s.plain));
    net_handler none = {0};
    net_listen_opts o = {.addr = "127.0.0.1:0", .handler = &none};
    assert_int_equal(net_listen(s.loop, &o, NULL), -1); /* no callbacks */
    net_handler h = {.on_open = dummy_cb, .on_data = dummy_cb};
    net_listen_opts dup = {.addr = taken, .handler = &h};
    assert_int_equal(net_listen(s.loop, &dup, NULL), -1); /* the port is taken */
    net_listen_opts bad_addr = {.addr = "localhost:25", .handler = &h};
    assert_int_equal(net_listen(s.loop, &bad_addr, NULL), -1);
    net_listen_opts no_tls = {.addr = "127.0.0.1:0", .handler = &h, .implicit_tls = true};
    assert_int_equal(net_listen(s.loop, &no_tls, NULL), -1);
    net_limits bad;
    net_limits_default(&bad);
    bad.out_high_water = bad.out_max;
    net_loop *l = NULL;
    assert_int_equal(net_loop_new(&bad, &l), -1);
    assert_null(l);
    echo_server_free(&s);
    assert_null(s.loop);
}

static void v6_client(harness *h)
{
    unsigned port = *(unsigned *)h->arg;
    tclient t;
    CHECK(h, tc_connect6(&t, port) == 0);
    CHECK(h, greeted(&t));
    CHECK(h, tc_send(&t, "over six\r\n") == 0);
    CHECK(h, line_is(&t, "> over six"));
    tc_close(&t);
}

static void test_ipv6_listener(void **state)
{
    (void)state;
    int probe = socket(AF_INET6, SOCK_STREAM, 0);
    struct sockaddr_in6 sa = {.sin6_family = AF_INET6, .sin6_addr = in6addr_loopback};
    bool have_v6 = probe >= 0 && bind(probe, (struct sockaddr *)&sa, sizeof(sa)) == 0;
    if (probe >= 0)
        close(probe);
    if (!have_v6)
        skip(); /* no IPv6 loopback on this machine */
    echo_server s;
    assert_int_equal(echo_server_start(&s, NULL, NULL, NULL), 0);
    net_listener *v6;
    /* The same protocol as the IPv4 listener. */
    net_listen_opts o = {.addr = "[::1]:0", .handler = echo_handler_get(), .ctx = &s};
    assert_int_equal(net_listen(s.loop, &o, &v6), 0);
    unsigned port = net_listener_port(v6);
    harness h = {0};
    harness_run(&h, &s, v6_client, &port);
    ASSERT_CLIENT_OK(h);
    assert_string_equal(s.last_peer, "::1");
    echo_server_free(&s);
}

/* ---- lines -------------------------------------------------------------- */

static void lines_client(harness *h)
{
    tclient t;
    CHECK(h, tc_connect(&t, h->port) == 0);
    CHECK(h, greeted(&t));
    CHECK(h, tc_send(&t, "hello\r\nbare\nsecond\r\n") == 0);
    CHECK(h, line_is(&t, "> hello"));
    CHECK(h, line_is(&t, "LF> bare"));
    CHECK(h, line_is(&t, "> second"));

    /* Exactly ECHO_LINE_MAX with its CRLF is accepted... */
    char at[ECHO_LINE_MAX + 8], want[ECHO_LINE_MAX + 16];
    memset(at, 'a', ECHO_LINE_MAX - 2);
    strcpy(at + ECHO_LINE_MAX - 2, "\r\n");
    CHECK(h, tc_send(&t, at) == 0);
    at[ECHO_LINE_MAX - 2] = '\0';
    snprintf(want, sizeof(want), "> %s", at);
    CHECK(h, line_is(&t, want));

    /* ...one byte more is the error path, once, and the line is skipped even
     * though it arrives in pieces; the next line is served. */
    char big[5000];
    memset(big, 'x', sizeof(big));
    CHECK(h, tc_send_bytes(&t, big, 100) == 0);
    CHECK(h, tc_send_bytes(&t, big, sizeof(big)) == 0);
    CHECK(h, tc_send(&t, "xx\r\nPING\r\n") == 0);
    CHECK(h, line_is(&t, "-ERR line too long"));
    CHECK(h, line_is(&t, "> PING"));

    /* Raw bytes (a literal) straight after a line, then lines again. */
    CHECK(h, tc_send(&t, "RAW 10\r\n0123456789PONG\r\n") == 0);
    CHECK(h, line_is(&t, "+OK raw 525"));
    CHECK(h, line_is(&t, "> PONG"));

    /* Peeked bytes up to a delimiter (how SMTP DATA finds its end), the
     * rest left for the next line, also across two sends. */
    CHECK(h, tc_send(&t, "UPTO #\r\nabc\r\nde") == 0);
    CHECK(h, tc_send(&t, "f#PING\r\n") == 0);
    CHECK(h, line_is(&t, "+OK upto 9"));
    CHECK(h, line_is(&t, "> PING"));

    CHECK(h, tc_send(&t, "QUIT\r\nNEVER\r\n") == 0);
    CHECK(h, line_is(&t, "+OK bye"));
    CHECK(h, tc_eof(&t));
    tc_close(&t);
}

static void test_lines(void **state)
{
    (void)state;
    echo_server s;
    assert_int_equal(echo_server_start(&s, NULL, NULL, NULL), 0);
    harness h = {0};
    harness_run(&h, &s, lines_client, NULL);
    ASSERT_CLIENT_OK(h);
    assert_int_equal(s.too_long, 1);
    assert_false(echo_has_command(&s, "NEVER")); /* nothing is read after QUIT closed */
    assert_int_equal(s.nreasons, 1);
    assert_int_equal(s.reasons[0], NET_CLOSE_LOCAL);
    echo_server_free(&s);
}

/* A client that closes its side right after a command still gets the answer. */
static void half_close_client(harness *h)
{
    tclient t;
    CHECK(h, tc_connect(&t, h->port) == 0);
    CHECK(h, greeted(&t));
    CHECK(h, tc_send(&t, "last words\r\n") == 0);
    CHECK(h, shutdown(t.fd, SHUT_WR) == 0);
    CHECK(h, line_is(&t, "> last words"));
    CHECK(h, tc_eof(&t));
    tc_close(&t);
}

static void test_half_close(void **state)
{
    (void)state;
    echo_server s;
    assert_int_equal(echo_server_start(&s, NULL, NULL, NULL), 0);
    harness h = {0};
    harness_run(&h, &s, half_close_client, NULL);
    ASSERT_CLIENT_OK(h);
    assert_int_equal(s.nreasons, 1);
    assert_int_equal(s.reasons[0], NET_CLOSE_PEER);
    echo_server_free(&s);
}

/* ---- backpressure ------------------------------------------------------- */

#define FLOOD_BYTES 3000000
#define HIGH_WATER (64 * 1024)

static void flood_client(harness *h)
{
    tclient t;
    /* Small socket buffers on both sides: the server's output must queue. */
    CHECK(h, tc_connect_rcvbuf(&t, h->port, 4096) == 0);
    CHECK(h, greeted(&t));
    CHECK(h, tc_send(&t, "FLOOD 3000000\r\nPING\r\nPING2\r\n") == 0);
    usleep(200 * 1000); /* a slow reader (the outcome does not depend on it) */
    char *got = malloc(FLOOD_BYTES);
    CHECK(h, got != NULL);
    int ok = tc_read_exact(&t, got, FLOOD_BYTES) == 0;
    for (size_t i = 0; ok && i < FLOOD_BYTES; i++)
        ok = got[i] == (char)('a' + (i % 4096) % 26);
    free(got);
    CHECK(h, ok);
    CHECK(h, line_is(&t, ""));
    CHECK(h, line_is(&t, "> PING"));
    CHECK(h, line_is(&t, "> PING2"));
    tc_close(&t);
}

static void test_backpressure(void **state)
{
    (void)state;
    net_limits lim = {.out_max = 8 * 1024 * 1024, .out_high_water = HIGH_WATER};
    echo_server s;
    assert_int_equal(echo_server_start(&s, &lim, NULL, NULL), 0);
    s.small_sndbuf = true;
    harness h = {0};
    harness_run(&h, &s, flood_client, NULL);
    ASSERT_CLIENT_OK(h);
    /* The output went over the high-water mark and came back under half of
     * it (on_writable), and no pipelined line was handed to the protocol
     * while more than the high-water mark was waiting to be sent. */
    assert_true(s.writable_calls >= 1);
    assert_true(s.max_out_at_line <= HIGH_WATER);
    assert_true(echo_has_command(&s, "PING2"));
    echo_server_free(&s);
}

static void out_max_client(harness *h)
{
    tclient t;
    CHECK(h, tc_connect_rcvbuf(&t, h->port, 4096) == 0);
    CHECK(h, greeted(&t));
    CHECK(h, tc_send(&t, "FLOOD 1000000\r\nQUIT\r\n") == 0);
    size_t total = t.len;
    char sink[65536];
    ssize_t n;
    while ((n = recv(t.fd, sink, sizeof(sink), 0)) > 0)
        total += (size_t)n;
    CHECK(h, n == 0);
    /* What fit under out_max, then "\r\n+OK bye\r\n": never the whole flood. */
    CHECK(h, total < 1000000);
    tc_close(&t);
}

static void test_out_max(void **state)
{
    (void)state;
    net_limits lim = {.out_max = 256 * 1024, .out_high_water = HIGH_WATER};
    echo_server s;
    assert_int_equal(echo_server_start(&s, &lim, NULL, NULL), 0);
    s.small_sndbuf = true;
    harness h = {0};
    harness_run(&h, &s, out_max_client, NULL);
    ASSERT_CLIENT_OK(h);
    assert_true(echo_has_event(&s, "flood capped"));
    echo_server_free(&s);
}

/* Many connections at once, each served, in any order of readiness. */
#define MANY 300

static void many_client(harness *h)
{
    static tclient t[MANY];
    for (int i = 0; i < MANY; i++) {
        CHECK(h, tc_connect(&t[i], h->port) == 0);
        char cmd[32];
        snprintf(cmd, sizeof(cmd), "PING %d\r\n", i);
        CHECK(h, tc_send(&t[i], cmd) == 0);
    }
    for (int i = 0; i < MANY; i++) {
        char want[32];
        snprintf(want, sizeof(want), "> PING %d", i);
        CHECK(h, greeted(&t[i]));
        CHECK(h, line_is(&t[i], want));
    }
    for (int i = 0; i < MANY; i++)
        tc_close(&t[i]);
}

static void test_many_connections(void **state)
{
    (void)state;
    net_limits lim = {.max_conns_per_ip = MANY};
    echo_server s;
    assert_int_equal(echo_server_start(&s, &lim, NULL, NULL), 0);
    harness h = {0};
    harness_run(&h, &s, many_client, NULL);
    ASSERT_CLIENT_OK(h);
    assert_int_equal(net_metric_value(s.loop, "connections_total"), MANY);
    assert_int_equal(net_metric_value(s.loop, "connections_refused_total"), 0);
    echo_server_free(&s);
}

/* ---- timeouts ----------------------------------------------------------- */

static void idle_client(harness *h)
{
    const char *want = h->arg;
    tclient t;
    CHECK(h, tc_connect(&t, h->port) == 0);
    CHECK(h, greeted(&t));
    CHECK(h, line_is(&t, want)); /* no input: the timeout comes */
    CHECK(h, tc_eof(&t));
    tc_close(&t);
}

static void test_idle_timeout(void **state)
{
    (void)state;
    net_limits lim = {.idle_timeout_ms = 200};
    echo_server s;
    assert_int_equal(echo_server_start(&s, &lim, NULL, NULL), 0);
    harness h = {0};
    harness_run(&h, &s, idle_client, "421 4.4.2 idle timeout");
    ASSERT_CLIENT_OK(h);
    assert_true(echo_has_event(&s, "idle timeout"));
    assert_int_equal(s.nreasons, 1);
    assert_int_equal(s.reasons[0], NET_CLOSE_TIMEOUT_IDLE);
    assert_int_equal(net_metric_value(s.loop, "connections_timed_out_total"), 1);
    echo_server_free(&s);
}

static void test_session_timeout(void **state)
{
    (void)state;
    net_limits lim = {.idle_timeout_ms = 60000, .session_timeout_ms = 300};
    echo_server s;
    assert_int_equal(echo_server_start(&s, &lim, NULL, NULL), 0);
    harness h = {0};
    harness_run(&h, &s, idle_client, "421 4.4.2 session timeout");
    ASSERT_CLIENT_OK(h);
    assert_int_equal(s.nreasons, 1);
    assert_int_equal(s.reasons[0], NET_CLOSE_TIMEOUT_SESSION);
    echo_server_free(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_addr_parse),
        cmocka_unit_test(test_per_ip_key),
        cmocka_unit_test(test_listen_errors),
        cmocka_unit_test(test_ipv6_listener),
        cmocka_unit_test(test_lines),
        cmocka_unit_test(test_half_close),
        cmocka_unit_test(test_backpressure),
        cmocka_unit_test(test_out_max),
        cmocka_unit_test(test_many_connections),
        cmocka_unit_test(test_idle_timeout),
        cmocka_unit_test(test_session_timeout),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
