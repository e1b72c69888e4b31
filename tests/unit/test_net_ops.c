/* Unit tests for lib/net, part 2: connection limits, the thread pool and
 * the conn-pinning rule, graceful shutdown and its grace period, timers,
 * metrics and the privilege drop. See test_net.c for the conventions. */
#include "net.h"
#include "test_net_support.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* ---- limits ------------------------------------------------------------- */

static void per_ip_client(harness *h)
{
    tclient a, b, c, d;
    CHECK(h, tc_connect(&a, h->port) == 0);
    CHECK(h, greeted(&a));
    CHECK(h, tc_connect(&b, h->port) == 0);
    CHECK(h, greeted(&b));
    CHECK(h, tc_connect(&c, h->port) == 0);
    CHECK(h, line_is(&c, "421 4.7.0 too many connections"));
    CHECK(h, tc_eof(&c));
    tc_close(&c);
    /* Once one leaves (its EOF comes after the server released its slot), a
     * new one is served. */
    CHECK(h, tc_send(&a, "QUIT\r\n") == 0);
    CHECK(h, line_is(&a, "+OK bye"));
    CHECK(h, tc_eof(&a));
    tc_close(&a);
    CHECK(h, tc_connect(&d, h->port) == 0);
    CHECK(h, greeted(&d));
    tc_close(&d);
    tc_close(&b);
}

static void test_per_ip_limit(void **state)
{
    (void)state;
    net_limits lim = {.max_conns_per_ip = 2};
    echo_server s;
    assert_int_equal(echo_server_start(&s, &lim, NULL, NULL), 0);
    harness h = {0};
    harness_run(&h, &s, per_ip_client, NULL);
    ASSERT_CLIENT_OK(h);
    assert_int_equal(s.nrefusals, 1);
    assert_int_equal(s.refusals[0], NET_REFUSE_PER_IP);
    assert_int_equal(net_metric_value(s.loop, "connections_refused_total"), 1);
    assert_int_equal(net_metric_value(s.loop, "connections_total"), 4);
    assert_int_equal(net_metric_value(s.loop, "connections_open"), 0);
    /* Session ids: 12 base32 characters, all different. */
    assert_int_equal(s.nsessions, 3);
    for (int i = 0; i < s.nsessions; i++) {
        assert_int_equal(strlen(s.sessions[i]), NET_SESSION_ID_LEN);
        assert_int_equal(strspn(s.sessions[i], "abcdefghijklmnopqrstuvwxyz234567"),
                         NET_SESSION_ID_LEN);
        for (int j = 0; j < i; j++)
            assert_string_not_equal(s.sessions[i], s.sessions[j]);
    }
    echo_server_free(&s);
}

static void max_conns_client(harness *h)
{
    tclient a, b;
    CHECK(h, tc_connect(&a, h->port) == 0);
    CHECK(h, greeted(&a));
    CHECK(h, tc_connect(&b, h->port) == 0);
    CHECK(h, line_is(&b, "421 4.7.0 too many connections"));
    CHECK(h, tc_eof(&b));
    tc_close(&b);
    tc_close(&a);
}

static void test_max_conns(void **state)
{
    (void)state;
    net_limits lim = {.max_conns = 1};
    echo_server s;
    assert_int_equal(echo_server_start(&s, &lim, NULL, NULL), 0);
    harness h = {0};
    harness_run(&h, &s, max_conns_client, NULL);
    ASSERT_CLIENT_OK(h);
    assert_int_equal(s.nrefusals, 1);
    assert_int_equal(s.refusals[0], NET_REFUSE_MAX_CONNS);
    assert_int_equal(s.nreasons, 2);
    assert_true(s.reasons[0] == NET_CLOSE_REFUSED || s.reasons[1] == NET_CLOSE_REFUSED);
    echo_server_free(&s);
}

/* ---- the thread pool ---------------------------------------------------- */

static void job_client(harness *h)
{
    tclient t;
    CHECK(h, tc_connect(&t, h->port) == 0);
    CHECK(h, greeted(&t));
    /* Pipelined: PING waits while the job's conn is paused. */
    CHECK(h, tc_send(&t, "JOB\r\nPING\r\n") == 0);
    CHECK(h, line_is(&t, "+OK job"));
    CHECK(h, line_is(&t, "> PING"));
    tc_close(&t);
}

static void test_pool_done_on_loop_thread(void **state)
{
    (void)state;
    echo_server s;
    assert_int_equal(echo_server_start(&s, NULL, NULL, NULL), 0);
    harness h = {0};
    harness_run(&h, &s, job_client, NULL);
    ASSERT_CLIENT_OK(h);
    assert_true(s.job_work_off_loop);
    assert_true(s.job_done_on_loop);
    assert_int_equal(net_metric_value(s.loop, "pool_jobs_total"), 1);
    echo_server_free(&s);
}

static void gated_client(harness *h)
{
    tclient t;
    CHECK(h, tc_connect(&t, h->port) == 0);
    CHECK(h, greeted(&t));
    CHECK(h, tc_send(&t, "GATEDJOB\r\n") == 0);
    CHECK(h, line_is(&t, "+OK queued"));
    /* The job waits for the timeout; the conn closes while it runs. */
    CHECK(h, line_is(&t, "421 4.4.2 session timeout"));
    CHECK(h, tc_eof(&t));
    tc_close(&t);
}

/* A job slower than the idle timeout: the answer comes, no timeout. */
static void slow_client(harness *h)
{
    tclient t;
    CHECK(h, tc_connect(&t, h->port) == 0);
    CHECK(h, greeted(&t));
    CHECK(h, tc_send(&t, "SLOWJOB\r\n") == 0);
    CHECK(h, line_is(&t, "+OK slow"));
    CHECK(h, tc_send(&t, "PING\r\n") == 0);
    CHECK(h, line_is(&t, "> PING"));
    tc_close(&t);
}

static void test_no_idle_timeout_during_a_job(void **state)
{
    (void)state;
    echo_server s;
    assert_int_equal(echo_server_start(&s, NULL, NULL, NULL), 0);
    harness h = {0};
    harness_run(&h, &s, slow_client, NULL);
    ASSERT_CLIENT_OK(h);
    assert_false(echo_has_event(&s, "idle timeout"));
    echo_server_free(&s);
}

static void test_job_pins_conn(void **state)
{
    (void)state;
    echo_server s;
    assert_int_equal(echo_server_start(&s, NULL, NULL, NULL), 0);
    harness h = {0};
    harness_run(&h, &s, gated_client, NULL);
    ASSERT_CLIENT_OK(h);
    /* timeout -> (socket closed) -> done on a live, closing conn -> on_close */
    int t = echo_event_index(&s, "session timeout");
    int d = echo_event_index(&s, "gated done closing");
    int c = echo_event_index(&s, "close");
    assert_true(t >= 0 && d > t && c > d);
    assert_true(echo_has_event(&s, "gated conn valid"));
    echo_server_free(&s);
}

/* ---- shutdown ----------------------------------------------------------- */

static void shutdown_client(harness *h)
{
    tclient a, b, c;
    CHECK(h, tc_connect(&a, h->port) == 0);
    CHECK(h, greeted(&a));
    CHECK(h, tc_send(&a, "BEGIN\r\n") == 0);
    CHECK(h, line_is(&a, "+OK begun"));
    CHECK(h, tc_connect(&b, h->port) == 0);
    CHECK(h, greeted(&b));
    CHECK(h, kill(getpid(), SIGTERM) == 0);
    /* The idle conn is told and closed... */
    CHECK(h, line_is(&b, "421 shutting down"));
    CHECK(h, tc_eof(&b));
    tc_close(&b);
    /* ...the listener was closed before that... */
    CHECK(h, tc_connect(&c, h->port) == -1 && errno == ECONNREFUSED);
    /* ...and the transaction in flight finishes. */
    CHECK(h, tc_send(&a, "END\r\n") == 0);
    CHECK(h, line_is(&a, "+OK done"));
    CHECK(h, tc_eof(&a));
    tc_close(&a);
}

static void test_graceful_shutdown(void **state)
{
    (void)state;
    net_limits lim = {.grace_ms = 30000};
    echo_server s;
    assert_int_equal(echo_server_start(&s, &lim, NULL, NULL), 0);
    assert_int_equal(net_loop_handle_signals(s.loop), 0);
    harness h = {0};
    harness_run(&h, &s, shutdown_client, NULL);
    ASSERT_CLIENT_OK(h);
    assert_true(net_loop_shutting_down(s.loop));
    assert_true(echo_has_event(&s, "shutdown waits for END"));
    assert_int_equal(s.nreasons, 2);
    assert_int_equal(s.reasons[0], NET_CLOSE_LOCAL);
    assert_int_equal(s.reasons[1], NET_CLOSE_LOCAL);
    echo_server_free(&s);
}

static void grace_client(harness *h)
{
    tclient *a = h->arg;
    CHECK(h, tc_connect(a, h->port) == 0);
    CHECK(h, greeted(a));
    CHECK(h, tc_send(a, "BEGIN\r\n") == 0);
    CHECK(h, line_is(a, "+OK begun"));
    /* Returning starts the shutdown; the transaction never ends. */
}

static void test_grace_expires(void **state)
{
    (void)state;
    net_limits lim = {.grace_ms = 200};
    echo_server s;
    assert_int_equal(echo_server_start(&s, &lim, NULL, NULL), 0);
    tclient a;
    harness h = {0};
    harness_run(&h, &s, grace_client, &a);
    ASSERT_CLIENT_OK(h);
    assert_true(tc_eof(&a));
    tc_close(&a);
    assert_int_equal(s.nreasons, 1);
    assert_int_equal(s.reasons[0], NET_CLOSE_SHUTDOWN);
    echo_server_free(&s);
}

/* ---- timers, generic jobs ----------------------------------------------- */

typedef struct timer_state {
    int order[4];
    int n;
    int cancelled_fired;
    bool work_off_loop, done_on_loop;
    pthread_t loop_thread;
} timer_state;

static int tags[4] = {0, 1, 2, 3};
static timer_state *the_ts;

static void t_fire(net_loop *l, void *arg)
{
    (void)l;
    the_ts->order[the_ts->n++] = *(int *)arg;
    if (the_ts->n == 3)
        net_loop_shutdown(l);
}

static void t_never(net_loop *l, void *arg)
{
    (void)l;
    (void)arg;
    the_ts->cancelled_fired++;
}

static void g_work(void *arg)
{
    timer_state *ts = arg;
    ts->work_off_loop = !pthread_equal(pthread_self(), ts->loop_thread);
}

static void g_done(net_loop *l, void *arg)
{
    timer_state *ts = arg;
    ts->done_on_loop = pthread_equal(pthread_self(), ts->loop_thread);
    /* Timers armed from the loop fire in due order. */
    net_timer_add(l, 60, t_fire, &tags[3]);
    net_timer_add(l, 20, t_fire, &tags[1]);
    net_timer_add(l, 40, t_fire, &tags[2]);
    net_timer *never = net_timer_add(l, 30, t_never, NULL);
    net_timer_cancel(&never);
    assert_null(never);
}

static void test_timers_and_generic_jobs(void **state)
{
    (void)state;
    timer_state ts = {.loop_thread = pthread_self()};
    the_ts = &ts;
    net_loop *l;
    assert_int_equal(net_loop_new(NULL, &l), 0);
    assert_int_equal(net_pool_submit(l, g_work, g_done, &ts), 0);
    assert_int_equal(net_loop_run(l), 0);
    assert_true(ts.work_off_loop);
    assert_true(ts.done_on_loop);
    assert_int_equal(ts.n, 3);
    assert_int_equal(ts.order[0], 1);
    assert_int_equal(ts.order[1], 2);
    assert_int_equal(ts.order[2], 3);
    assert_int_equal(ts.cancelled_fired, 0);
    /* Work still queued at free runs, and so does its done function. */
    ts.work_off_loop = ts.done_on_loop = false;
    assert_int_equal(net_pool_submit(l, g_work, NULL, &ts), 0);
    net_loop_free(&l);
    assert_null(l);
    assert_true(ts.work_off_loop);
}

/* ---- metrics ------------------------------------------------------------ */

static void http(harness *h, unsigned port, const char *req, char *out, size_t outlen)
{
    tclient t;
    out[0] = '\0';
    CHECK(h, tc_connect(&t, port) == 0);
    CHECK(h, tc_send(&t, req) == 0);
    CHECK(h, tc_read_all(&t, out, outlen) > 0);
    tc_close(&t);
}

static void metrics_client(harness *h)
{
    unsigned port = *(unsigned *)h->arg;
    char out[8192];
    http(h, port, "GET /metrics HTTP/1.1\r\nHost: x\r\nAccept: */*\r\n\r\n", out, sizeof(out));
    CHECK(h, strncmp(out, "HTTP/1.0 200 OK\r\n", 17) == 0);
    CHECK(h, strstr(out, "text/plain; version=0.0.4") != NULL);
    CHECK(h, strstr(out, "\n# TYPE test_things_total counter\ntest_things_total 3\n") != NULL);
    CHECK(h, strstr(out, "# HELP test_queue_depth A \\\\ and a \\n line.\n") != NULL);
    CHECK(h, strstr(out, "\ntest_queue_depth 5\n") != NULL);
    CHECK(h, strstr(out, "# TYPE connections_open gauge\nconnections_open 0\n") != NULL);
    http(h, port, "GET /other HTTP/1.0\r\n\r\n", out, sizeof(out));
    CHECK(h, strncmp(out, "HTTP/1.0 404 ", 13) == 0);
    http(h, port, "DELETE /metrics HTTP/1.1\r\n\r\n", out, sizeof(out));
    CHECK(h, strncmp(out, "HTTP/1.0 405 ", 13) == 0 && strstr(out, "Allow: GET") != NULL);
    http(h, port, "what is this\r\n\r\n", out, sizeof(out));
    CHECK(h, strncmp(out, "HTTP/1.0 400 ", 13) == 0);
}

static void test_metrics(void **state)
{
    (void)state;
    echo_server s;
    assert_int_equal(echo_server_start(&s, NULL, NULL, NULL), 0);
    net_metric *m = net_metric_counter(s.loop, "test_things_total", "Things.");
    assert_non_null(m);
    assert_ptr_equal(net_metric_counter(s.loop, "test_things_total", NULL), m);
    assert_null(net_metric_gauge(s.loop, "test_things_total", NULL));
    assert_null(net_metric_counter(s.loop, "1bad", NULL));
    assert_null(net_metric_counter(s.loop, "bad-name", NULL));
    net_metric_add(m, 3);
    net_metric *g = net_metric_gauge(s.loop, "test_queue_depth", "A \\ and a \n line.");
    net_metric_set(g, 7);
    net_metric_sub(g, 2);
    assert_int_equal(net_metric_get(g), 5);
    /* Only loopback. */
    net_listener *ml;
    assert_int_equal(net_metrics_listen(s.loop, "0.0.0.0:0", &ml), -1);
    assert_int_equal(net_metrics_listen(s.loop, "*:0", &ml), -1);
    assert_int_equal(net_metrics_listen(s.loop, "[::]:0", &ml), -1);
    assert_int_equal(net_metrics_listen(s.loop, "192.0.2.1:0", &ml), -1);
    assert_int_equal(net_metrics_listen(s.loop, "127.0.0.1:0", &ml), 0);
    unsigned port = net_listener_port(ml);
    harness h = {0};
    harness_run(&h, &s, metrics_client, &port);
    ASSERT_CLIENT_OK(h);
    /* The scrapes are not mail connections. */
    assert_int_equal(net_metric_value(s.loop, "connections_total"), 0);
    echo_server_free(&s);
}

/* ---- privileges --------------------------------------------------------- */

static void test_drop_privileges(void **state)
{
    (void)state;
    if (geteuid() != 0) {
        uid_t before = getuid();
        assert_int_equal(net_drop_privileges("nobody"), 0); /* a no-op */
        assert_int_equal(getuid(), before);
        return;
    }
    struct passwd *pw = getpwnam("nobody");
    if (pw == NULL)
        skip();
    uid_t uid = pw->pw_uid;
    gid_t gid = pw->pw_gid;
    assert_int_equal(net_drop_privileges("root"), -1);
    assert_int_equal(net_drop_privileges("no-such-user-ownmail"), -1);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        int bad = net_drop_privileges("nobody") != 0;
        bad |= getuid() != uid || geteuid() != uid || getgid() != gid || getegid() != gid;
        bad |= setuid(0) == 0 || seteuid(0) == 0 || setgid(0) == 0;
        gid_t groups[8];
        int n = getgroups(8, groups);
        bad |= n != 1 || groups[0] != gid;
        _exit(bad);
    }
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    assert_int_equal(geteuid(), 0); /* only the child dropped */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_per_ip_limit),
        cmocka_unit_test(test_max_conns),
        cmocka_unit_test(test_pool_done_on_loop_thread),
        cmocka_unit_test(test_job_pins_conn),
        cmocka_unit_test(test_no_idle_timeout_during_a_job),
        cmocka_unit_test(test_graceful_shutdown),
        cmocka_unit_test(test_grace_expires),
        cmocka_unit_test(test_timers_and_generic_jobs),
        cmocka_unit_test(test_metrics),
        cmocka_unit_test(test_drop_privileges),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
