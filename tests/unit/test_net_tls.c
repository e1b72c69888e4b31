/* Unit tests for lib/net's TLS: implicit TLS, STARTTLS without plaintext
 * command injection (CVE-2011-0411), old protocol versions refused, and
 * certificates reloaded on SIGHUP without dropping open sessions. Throwaway
 * self-signed certificates are made in a mkdtemp directory. */
#include "net.h"
#include "test_net_support.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <openssl/ssl.h>
#include <semaphore.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static char dir[64];
static char cert_path[128], key_path[128];

static int setup(void **state)
{
    (void)state;
    strcpy(dir, "/tmp/test_net_tls.XXXXXX");
    if (mkdtemp(dir) == NULL)
        return -1;
    snprintf(cert_path, sizeof(cert_path), "%s/cert.pem", dir);
    snprintf(key_path, sizeof(key_path), "%s/key.pem", dir);
    return make_cert(cert_path, key_path, "old.example");
}

static int teardown(void **state)
{
    (void)state;
    unlink(cert_path);
    unlink(key_path);
    rmdir(dir);
    return 0;
}

static bool cn_is(tclient *t, const char *want)
{
    char cn[128];
    return tc_peer_cn(t, cn, sizeof(cn)) == 0 && strcmp(cn, want) == 0;
}

/* ---- implicit TLS ------------------------------------------------------- */

static void implicit_client(harness *h)
{
    int max_version = *(int *)h->arg;
    tclient t;
    CHECK(h, tc_connect(&t, h->tls_port) == 0);
    CHECK(h, tc_starttls(&t, 0, max_version) == 0);
    CHECK(h, cn_is(&t, "old.example"));
    CHECK(h, greeted(&t));
    CHECK(h, tc_send(&t, "HELLO\r\n") == 0);
    CHECK(h, line_is(&t, "> HELLO"));
    CHECK(h, tc_send(&t, "QUIT\r\n") == 0);
    CHECK(h, line_is(&t, "+OK bye"));
    CHECK(h, tc_eof(&t));
    tc_close(&t);
}

static void test_implicit_tls(void **state)
{
    (void)state;
    echo_server s;
    assert_int_equal(echo_server_start(&s, NULL, cert_path, key_path), 0);
    int any = 0;
    harness h = {0};
    harness_run(&h, &s, implicit_client, &any);
    ASSERT_CLIENT_OK(h);
    assert_true(s.tls_open);
    assert_string_equal(s.tls_version, "TLSv1.3");
    assert_true(strlen(s.tls_cipher) > 0);
    assert_true(s.tls_bits >= 128);
    assert_true(echo_has_command(&s, "tls:HELLO"));
    assert_int_equal(net_metric_value(s.loop, "tls_handshakes_total"), 1);
    assert_int_equal(net_metric_value(s.loop, "tls_handshakes_failed_total"), 0);
    echo_server_free(&s);
}

static void test_tls12_allowed(void **state)
{
    (void)state;
    echo_server s;
    assert_int_equal(echo_server_start(&s, NULL, cert_path, key_path), 0);
    int v12 = TLS1_2_VERSION;
    harness h = {0};
    harness_run(&h, &s, implicit_client, &v12);
    ASSERT_CLIENT_OK(h);
    assert_string_equal(s.tls_version, "TLSv1.2");
    assert_non_null(strstr(s.tls_cipher, "ECDHE")); /* forward secrecy */
    echo_server_free(&s);
}

static void old_client(harness *h)
{
    tclient t;
    CHECK(h, tc_connect(&t, h->tls_port) == 0);
    CHECK(h, tc_starttls(&t, TLS1_1_VERSION, TLS1_1_VERSION) == -1);
    tc_close(&t);
    /* Plaintext on the implicit-TLS port is no handshake either. */
    CHECK(h, tc_connect(&t, h->tls_port) == 0);
    CHECK(h, tc_send(&t, "EHLO client.example\r\n") == 0);
    CHECK(h, tc_eof(&t));
    tc_close(&t);
}

static void test_tls11_refused(void **state)
{
    (void)state;
    echo_server s;
    assert_int_equal(echo_server_start(&s, NULL, cert_path, key_path), 0);
    harness h = {0};
    harness_run(&h, &s, old_client, NULL);
    ASSERT_CLIENT_OK(h);
    assert_int_equal(s.nsessions, 0); /* on_open never came */
    assert_int_equal(net_metric_value(s.loop, "tls_handshakes_total"), 0);
    assert_int_equal(net_metric_value(s.loop, "tls_handshakes_failed_total"), 2);
    echo_server_free(&s);
}

/* ---- STARTTLS ----------------------------------------------------------- */

static void starttls_client(harness *h)
{
    tclient t;
    CHECK(h, tc_connect(&t, h->port) == 0);
    CHECK(h, greeted(&t));
    CHECK(h, tc_send(&t, "PLAIN\r\n") == 0);
    CHECK(h, line_is(&t, "> PLAIN"));
    /* One write: the server reads both lines at once and must drop the
     * second (RFC 3207 section 6). */
    CHECK(h, tc_send(&t, "STARTTLS\r\nINJECTED\r\n") == 0);
    CHECK(h, line_is(&t, "220 go ahead"));
    CHECK(h, t.len == 0); /* nothing else came in plaintext */
    CHECK(h, tc_starttls(&t, 0, 0) == 0);
    CHECK(h, cn_is(&t, "old.example"));
    CHECK(h, tc_send(&t, "AFTER\r\n") == 0);
    CHECK(h, line_is(&t, "> AFTER"));
    CHECK(h, tc_send(&t, "STARTTLS\r\n") == 0); /* not twice */
    CHECK(h, line_is(&t, "220 go ahead"));
    CHECK(h, line_is(&t, "-ERR tls"));
    CHECK(h, tc_send(&t, "QUIT\r\n") == 0);
    CHECK(h, line_is(&t, "+OK bye"));
    tc_close(&t);
}

static void test_starttls_discards_injection(void **state)
{
    (void)state;
    echo_server s;
    assert_int_equal(echo_server_start(&s, NULL, cert_path, key_path), 0);
    harness h = {0};
    harness_run(&h, &s, starttls_client, NULL);
    ASSERT_CLIENT_OK(h);
    assert_false(echo_has_command(&s, "INJECTED"));
    /* Exactly the commands the client sent, each on the right side of TLS. */
    const char *want[] = {"PLAIN", "STARTTLS", "tls:AFTER", "tls:STARTTLS", "tls:QUIT"};
    assert_int_equal(s.ncommands, 5);
    for (int i = 0; i < 5; i++)
        assert_string_equal(s.commands[i], want[i]);
    echo_server_free(&s);
}

/* ---- reload on SIGHUP --------------------------------------------------- */

static sem_t reloaded;

static void on_reload(net_loop *l, void *arg)
{
    (void)l;
    (void)arg;
    sem_post(&reloaded);
}

static bool wait_reload(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += TC_TIMEOUT_S; /* a hang guard only */
    return sem_timedwait(&reloaded, &ts) == 0;
}

static void reload_client(harness *h)
{
    tclient old, fresh, after_bad;
    CHECK(h, tc_connect(&old, h->tls_port) == 0);
    CHECK(h, tc_starttls(&old, 0, 0) == 0);
    CHECK(h, cn_is(&old, "old.example"));
    CHECK(h, greeted(&old));

    CHECK(h, make_cert(cert_path, key_path, "new.example") == 0);
    CHECK(h, kill(getpid(), SIGHUP) == 0);
    CHECK(h, wait_reload());
    CHECK(h, tc_connect(&fresh, h->tls_port) == 0);
    CHECK(h, tc_starttls(&fresh, 0, 0) == 0);
    CHECK(h, cn_is(&fresh, "new.example"));
    CHECK(h, greeted(&fresh));
    CHECK(h, tc_send(&fresh, "NEW\r\n") == 0);
    CHECK(h, line_is(&fresh, "> NEW"));

    /* The session opened before the reload goes on, on its old certificate. */
    CHECK(h, tc_send(&old, "STILL\r\n") == 0);
    CHECK(h, line_is(&old, "> STILL"));
    CHECK(h, cn_is(&old, "old.example"));

    /* A broken file does not replace the working context. */
    FILE *f = fopen(cert_path, "w");
    CHECK(h, f != NULL);
    fputs("not a certificate\n", f);
    fclose(f);
    CHECK(h, kill(getpid(), SIGHUP) == 0);
    CHECK(h, wait_reload());
    CHECK(h, tc_connect(&after_bad, h->tls_port) == 0);
    CHECK(h, tc_starttls(&after_bad, 0, 0) == 0);
    CHECK(h, cn_is(&after_bad, "new.example"));
    CHECK(h, greeted(&after_bad));
    tc_close(&after_bad);
    tc_close(&fresh);
    tc_close(&old);
}

static void test_reload_on_sighup(void **state)
{
    (void)state;
    assert_int_equal(make_cert(cert_path, key_path, "old.example"), 0);
    sem_init(&reloaded, 0, 0);
    echo_server s;
    assert_int_equal(echo_server_start(&s, NULL, cert_path, key_path), 0);
    assert_int_equal(net_loop_handle_signals(s.loop), 0);
    net_loop_set_reload_hook(s.loop, on_reload, NULL);
    harness h = {0};
    harness_run(&h, &s, reload_client, NULL);
    ASSERT_CLIENT_OK(h);
    assert_int_equal(net_metric_value(s.loop, "tls_handshakes_total"), 3);
    echo_server_free(&s);
    sem_destroy(&reloaded);
    assert_int_equal(make_cert(cert_path, key_path, "old.example"), 0);
}

static void test_tls_ctx_errors(void **state)
{
    (void)state;
    net_tls_ctx *t = NULL;
    char err[NET_TLS_ERROR_MAX] = "";
    assert_int_equal(net_tls_ctx_new("/nonexistent/cert.pem", key_path, &t, err, sizeof(err)), -1);
    assert_null(t);
    assert_true(strlen(err) > 0);
    /* A key that does not belong to the certificate. */
    char other_cert[160], other_key[160];
    snprintf(other_cert, sizeof(other_cert), "%s/other.pem", dir);
    snprintf(other_key, sizeof(other_key), "%s/other.key", dir);
    assert_int_equal(make_cert(other_cert, other_key, "other.example"), 0);
    assert_int_equal(net_tls_ctx_new(cert_path, other_key, &t, err, sizeof(err)), -1);
    assert_int_equal(net_tls_ctx_new(cert_path, key_path, &t, err, sizeof(err)), 0);
    net_tls_ctx_free(&t);
    assert_null(t);
    unlink(other_cert);
    unlink(other_key);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_implicit_tls),     cmocka_unit_test(test_tls12_allowed),
        cmocka_unit_test(test_tls11_refused),    cmocka_unit_test(test_starttls_discards_injection),
        cmocka_unit_test(test_reload_on_sighup), cmocka_unit_test(test_tls_ctx_errors),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
