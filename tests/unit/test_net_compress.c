/* Unit tests for lib/net's RFC 4978 COMPRESS=DEFLATE (net_conn_compress):
 * compressed round trips both ways against a client with its own zlib
 * streams (test_net_zclient.h), many lines in one compressed write, input
 * sent right behind COMPRESS, a response far over the output high-water
 * mark (on_writable), compression over implicit TLS and STARTTLS, corrupt
 * input, and a decompression bomb that must stay within limits.in_max.
 * The loop runs on the main thread, the client on its own
 * (test_net_support.h). */
#include "net.h"
#include "net_internal.h" /* c->in.cap, net_z_memory: what a conn holds */
#include "test_net_support.h"
#include "test_net_zclient.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#define ZLINE_MAX 4096
#define ZRECORDS 64

/* ---- the protocol -----------------------------------------------------------
 * Greets "+OK ready". Each line is recorded ("tls:" in front over TLS):
 *   COMPRESS     "+OK DEFLATE active", then net_conn_compress; when that
 *                fails, "-NO compress" (compressed if already on)
 *   MODE         "+OK compressed" or "+OK plain"
 *   STLSZ        "220 go ahead", net_conn_starttls, then net_conn_compress
 *                during the pending handshake (its result is recorded)
 *   STARTTLS     "220 go ahead", net_conn_starttls or "-ERR tls"
 *   BIG n        "+OK big n", n bytes of big_byte() written up to out_max
 *                and continued from on_writable, then CRLF "+OK big done"
 *   HOLD ms      pause, "+OK holding"; after ms the input buffered is
 *                recorded, then resume
 *   QUIT         "+OK bye", close
 *   other        "> line" (those starting with 'L' not recorded)
 * A line over ZLINE_MAX: "-ERR line too long", close. */

typedef struct zsrv {
    echo_server es; /* the loop, TLS and the listeners harness_run uses */
    bool small_sndbuf;
    char commands[ZRECORDS][80];
    int ncommands;
    int compress_rc[ZRECORDS];
    int ncompress;
    int compress_in_handshake; /* net_conn_compress during STARTTLS: -1 wanted */
    net_close_reason reasons[ZRECORDS];
    int nreasons;
    int writable_calls;
    size_t max_in_pending; /* input buffered, at every on_data */
    size_t max_in_cap;     /* bytes allocated for it */
    size_t max_z_memory;   /* net_z_memory */
    size_t held_pending;   /* input buffered when a HOLD ended */
} zsrv;

typedef struct zconn {
    zsrv *s;
    net_conn *c;
    size_t big_left;
    uint32_t big_state;
    net_timer *hold;
} zconn;

static void note_memory(zsrv *s, net_conn *c)
{
    if (net_conn_in_pending(c) > s->max_in_pending)
        s->max_in_pending = net_conn_in_pending(c);
    if (c->in.cap > s->max_in_cap)
        s->max_in_cap = c->in.cap;
    if (net_z_memory(c->z) > s->max_z_memory)
        s->max_z_memory = net_z_memory(c->z);
}

static void z_open(net_conn *c)
{
    zsrv *s = net_conn_ctx(c);
    zconn *zc = calloc(1, sizeof(*zc));
    if (zc == NULL) {
        net_conn_abort(c);
        return;
    }
    zc->s = s;
    zc->c = c;
    net_conn_set_data(c, zc);
    if (s->small_sndbuf) {
        int sz = 4096;
        setsockopt(net_conn_fd(c), SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
    }
    net_conn_printf(c, "+OK ready\r\n");
}

static void big_pump(net_conn *c, zconn *zc)
{
    size_t out_max = net_loop_limits(net_conn_loop(c))->out_max;
    char chunk[4096];
    while (zc->big_left > 0) {
        size_t k = zc->big_left < sizeof(chunk) ? zc->big_left : sizeof(chunk);
        if (net_conn_out_pending(c) + k > out_max)
            return; /* full: on_writable comes once it drains */
        for (size_t i = 0; i < k; i++)
            chunk[i] = (char)big_byte(&zc->big_state);
        if (net_conn_write(c, chunk, k) < 0) {
            net_conn_abort(c);
            return;
        }
        zc->big_left -= k;
    }
    net_conn_printf(c, "\r\n+OK big done\r\n");
}

static void z_writable(net_conn *c)
{
    zconn *zc = net_conn_data(c);
    zc->s->writable_calls++;
    if (zc->big_left > 0)
        big_pump(c, zc);
}

static void hold_over(net_loop *l, void *arg)
{
    (void)l;
    zconn *zc = arg;
    zc->hold = NULL;
    zc->s->held_pending = net_conn_in_pending(zc->c);
    note_memory(zc->s, zc->c);
    net_conn_resume(zc->c);
}

static void z_compress(net_conn *c, zsrv *s)
{
    net_conn_printf(c, "+OK DEFLATE active\r\n");
    int rc = net_conn_compress(c);
    if (s->ncompress < ZRECORDS)
        s->compress_rc[s->ncompress++] = rc;
    if (rc < 0)
        net_conn_printf(c, "-NO compress\r\n");
}

static void z_command(net_conn *c, zconn *zc, const net_line *line)
{
    zsrv *s = zc->s;
    const char *l = line->data;
    if (s->ncommands < ZRECORDS && l[0] != 'L') /* not the lines of many_client's batches */
        snprintf(s->commands[s->ncommands++], sizeof(s->commands[0]), "%s%.70s",
                 net_conn_is_tls(c) ? "tls:" : "", l);
    if (strcmp(l, "COMPRESS") == 0) {
        z_compress(c, s);
    } else if (strcmp(l, "MODE") == 0) {
        net_conn_printf(c, "+OK %s\r\n", net_conn_is_compressed(c) ? "compressed" : "plain");
    } else if (strcmp(l, "STLSZ") == 0) {
        net_conn_printf(c, "220 go ahead\r\n");
        if (net_conn_starttls(c) == 0)
            s->compress_in_handshake = net_conn_compress(c);
    } else if (strcmp(l, "STARTTLS") == 0) {
        net_conn_printf(c, "220 go ahead\r\n");
        if (net_conn_starttls(c) < 0)
            net_conn_printf(c, "-ERR tls\r\n");
    } else if (strncmp(l, "BIG ", 4) == 0) {
        zc->big_left = strtoul(l + 4, NULL, 10);
        zc->big_state = BIG_SEED;
        net_conn_printf(c, "+OK big %zu\r\n", zc->big_left);
        big_pump(c, zc);
    } else if (strncmp(l, "HOLD ", 5) == 0) {
        net_conn_pause(c);
        zc->hold = net_timer_add(net_conn_loop(c), (unsigned)atoi(l + 5), hold_over, zc);
        net_conn_printf(c, "+OK holding\r\n");
    } else if (strcmp(l, "QUIT") == 0) {
        net_conn_printf(c, "+OK bye\r\n");
        net_conn_close(c);
    } else {
        net_conn_printf(c, "> %s\r\n", l);
    }
}

static void z_data(net_conn *c)
{
    zconn *zc = net_conn_data(c);
    note_memory(zc->s, c);
    for (;;) {
        net_line line;
        int r = net_conn_read_line(c, ZLINE_MAX, &line);
        if (r == 0)
            return;
        if (r < 0) {
            net_conn_printf(c, "-ERR line too long\r\n");
            net_conn_close(c);
            return;
        }
        z_command(c, zc, &line);
    }
}

static void z_close(net_conn *c, net_close_reason why)
{
    zconn *zc = net_conn_data(c);
    if (zc == NULL)
        return;
    if (zc->s->nreasons < ZRECORDS)
        zc->s->reasons[zc->s->nreasons++] = why;
    net_timer_cancel(&zc->hold);
    free(zc);
}

static const net_handler z_handler = {
    .on_open = z_open,
    .on_data = z_data,
    .on_writable = z_writable,
    .on_close = z_close,
};

/* An echo_server whose listeners speak the protocol above. */
static void zsrv_start(zsrv *s, const net_limits *lim, const char *cert, const char *key)
{
    memset(s, 0, sizeof(*s));
    echo_server *es = &s->es;
    es->loop_thread = pthread_self();
    assert_int_equal(sem_init(&es->job_gate, 0, 0), 0);
    assert_int_equal(net_loop_new(lim, &es->loop), 0);
    if (cert != NULL) {
        char err[NET_TLS_ERROR_MAX];
        assert_int_equal(net_tls_ctx_new(cert, key, &es->tls, err, sizeof(err)), 0);
    }
    net_listen_opts o = {.addr = "127.0.0.1:0", .handler = &z_handler, .ctx = s, .tls = es->tls};
    assert_int_equal(net_listen(es->loop, &o, &es->plain), 0);
    if (es->tls != NULL) {
        o.implicit_tls = true;
        assert_int_equal(net_listen(es->loop, &o, &es->implicit), 0);
    }
}

static bool has_command(const zsrv *s, const char *want)
{
    for (int i = 0; i < s->ncommands; i++) {
        if (strcmp(s->commands[i], want) == 0)
            return true;
    }
    return false;
}

/* A throwaway certificate for the tests that use TLS. */
static char tls_dir[64], tls_cert[128], tls_key[128];

static int group_setup(void **state)
{
    (void)state;
    strcpy(tls_dir, "/tmp/test_net_compress.XXXXXX");
    if (mkdtemp(tls_dir) == NULL)
        return -1;
    snprintf(tls_cert, sizeof(tls_cert), "%s/cert.pem", tls_dir);
    snprintf(tls_key, sizeof(tls_key), "%s/key.pem", tls_dir);
    return make_cert(tls_cert, tls_key, "z.example");
}

static int group_teardown(void **state)
{
    (void)state;
    unlink(tls_cert);
    unlink(tls_key);
    rmdir(tls_dir);
    return 0;
}

/* Connects (implicit TLS when tls), reads the greeting and switches to
 * compression: the tagged OK must come in plaintext. */
static bool z_connect(harness *h, tclient *t, zclient *z, bool tls)
{
    if (tc_connect(t, tls ? h->tls_port : h->port) != 0)
        return false;
    if (tls && tc_starttls(t, 0, 0) != 0)
        return false;
    return line_is(t, "+OK ready") && tc_send(t, "COMPRESS\r\n") == 0 &&
           line_is(t, "+OK DEFLATE active") && zc_start(z, t) == 0;
}

/* ---- round trips --------------------------------------------------------- */

static void round_trip_client(harness *h)
{
    tclient t;
    zclient z;
    CHECK(h, tc_connect(&t, h->port) == 0);
    CHECK(h, line_is(&t, "+OK ready"));
    CHECK(h, tc_send(&t, "HELLO\r\n") == 0);
    CHECK(h, line_is(&t, "> HELLO"));
    CHECK(h, tc_send(&t, "MODE\r\n") == 0);
    CHECK(h, line_is(&t, "+OK plain"));
    CHECK(h, tc_send(&t, "COMPRESS\r\n") == 0);
    CHECK(h, line_is(&t, "+OK DEFLATE active"));
    CHECK(h, t.len == 0); /* the OK came alone and uncompressed */
    CHECK(h, zc_start(&z, &t) == 0);
    CHECK(h, zc_send(&z, "MODE\r\n") == 0);
    CHECK(h, zc_line_is(&z, "+OK compressed"));
    /* Lines of many lengths, each one round trip. */
    char line[ZLINE_MAX], want[ZLINE_MAX + 8];
    for (size_t n = 1; n < ZLINE_MAX - 8; n = n * 3 + 1) {
        for (size_t i = 0; i < n; i++)
            line[i] = (char)('a' + (i * 7 + n) % 26);
        memcpy(line + n, "\r\n", 3);
        CHECK(h, zc_send(&z, line) == 0);
        line[n] = '\0';
        snprintf(want, sizeof(want), "> %s", line);
        CHECK(h, zc_line_is(&z, want));
    }
    /* Not twice: the stream goes on undisturbed. */
    CHECK(h, zc_send(&z, "COMPRESS\r\n") == 0);
    CHECK(h, zc_line_is(&z, "+OK DEFLATE active"));
    CHECK(h, zc_line_is(&z, "-NO compress"));
    /* Nor TLS below a stream that has begun. */
    CHECK(h, zc_send(&z, "STARTTLS\r\n") == 0);
    CHECK(h, zc_line_is(&z, "220 go ahead"));
    CHECK(h, zc_line_is(&z, "-ERR tls"));
    CHECK(h, zc_send(&z, "QUIT\r\n") == 0);
    CHECK(h, zc_line_is(&z, "+OK bye"));
    CHECK(h, zc_closed(&z));
    zc_end(&z);
    tc_close(&t);
}

static void test_round_trip(void **state)
{
    (void)state;
    zsrv s;
    zsrv_start(&s, NULL, tls_cert, tls_key); /* a STARTTLS context, for "-ERR tls" */
    harness h = {0};
    harness_run(&h, &s.es, round_trip_client, NULL);
    ASSERT_CLIENT_OK(h);
    assert_int_equal(s.ncompress, 2);
    assert_int_equal(s.compress_rc[0], 0);
    assert_int_equal(s.compress_rc[1], -1);
    assert_int_equal(s.nreasons, 1);
    assert_int_equal(s.reasons[0], NET_CLOSE_LOCAL);
    /* The per-connection cost the header documents (about 240 KiB). */
    assert_true(s.max_z_memory > 200 * 1024);
    assert_true(s.max_z_memory < 256 * 1024);
    echo_server_free(&s.es);
}

/* ---- many lines, flush modes, input right behind COMPRESS ------------------ */

#define MANY 300

static void many_client(harness *h)
{
    tclient t;
    zclient z;
    CHECK(h, z_connect(h, &t, &z, false));
    /* MANY lines in one compressed write, answered in order. */
    static char batch[MANY * 32];
    size_t len = 0;
    for (int i = 0; i < MANY; i++)
        len += (size_t)snprintf(batch + len, sizeof(batch) - len, "L%04d lorem ipsum\r\n", i);
    CHECK(h, zc_send_flush(&z, batch, len, Z_SYNC_FLUSH) == 0);
    char want[64];
    for (int i = 0; i < MANY; i++) {
        snprintf(want, sizeof(want), "> L%04d lorem ipsum", i);
        CHECK(h, zc_line_is(&z, want));
    }
    /* A line split over two flushes, then a partial flush (some clients
     * use Z_PARTIAL_FLUSH): all of it must come through. */
    CHECK(h, zc_send_flush(&z, "SPL", 3, Z_SYNC_FLUSH) == 0);
    usleep(20 * 1000);
    CHECK(h, zc_send_flush(&z, "IT\r\n", 4, Z_SYNC_FLUSH) == 0);
    CHECK(h, zc_line_is(&z, "> SPLIT"));
    CHECK(h, zc_send_flush(&z, "PARTIAL\r\n", 9, Z_PARTIAL_FLUSH) == 0);
    CHECK(h, zc_line_is(&z, "> PARTIAL"));
    /* End of input with lines still to answer: all answered, then closed. */
    CHECK(h, zc_send_flush(&z, batch, len, Z_SYNC_FLUSH) == 0);
    CHECK(h, shutdown(t.fd, SHUT_WR) == 0);
    for (int i = 0; i < MANY; i++) {
        snprintf(want, sizeof(want), "> L%04d lorem ipsum", i);
        CHECK(h, zc_line_is(&z, want));
    }
    CHECK(h, zc_closed(&z));
    zc_end(&z);
    tc_close(&t);

    /* An eager client: the first compressed command in the same write as
     * COMPRESS (RFC 4978 section 3 says to wait, but it is compressed). */
    CHECK(h, tc_connect(&t, h->port) == 0);
    CHECK(h, line_is(&t, "+OK ready"));
    zclient eager;
    CHECK(h, zc_start(&eager, &t) == 0);
    unsigned char out[256];
    memcpy(out, "COMPRESS\r\n", 10);
    eager.def.next_in = (Bytef *)"EARLY\r\n";
    eager.def.avail_in = 7;
    eager.def.next_out = out + 10;
    eager.def.avail_out = sizeof(out) - 10;
    CHECK(h, deflate(&eager.def, Z_SYNC_FLUSH) == Z_OK);
    CHECK(h, tc_send_bytes(&t, out, sizeof(out) - eager.def.avail_out) == 0);
    CHECK(h, line_is(&t, "+OK DEFLATE active"));
    memcpy(eager.in, t.buf, t.len); /* the compressed answer may have come with it */
    eager.in_len = t.len;
    t.len = 0;
    CHECK(h, zc_line_is(&eager, "> EARLY"));
    CHECK(h, zc_send(&eager, "QUIT\r\n") == 0);
    CHECK(h, zc_line_is(&eager, "+OK bye"));
    zc_end(&eager);
    tc_close(&t);
}

static void test_many_lines(void **state)
{
    (void)state;
    zsrv s;
    zsrv_start(&s, NULL, NULL, NULL);
    harness h = {0};
    harness_run(&h, &s.es, many_client, NULL);
    ASSERT_CLIENT_OK(h);
    assert_true(has_command(&s, "EARLY"));
    assert_true(has_command(&s, "SPLIT"));
    assert_int_equal(s.nreasons, 2);
    assert_int_equal(s.reasons[0], NET_CLOSE_PEER);
    assert_int_equal(s.reasons[1], NET_CLOSE_LOCAL);
    echo_server_free(&s.es);
}

/* ---- a response over the high-water mark ---------------------------------- */

#define BIG_BYTES 2000000
#define Z_HIGH_WATER (64 * 1024)

static bool read_big(zclient *z, size_t n)
{
    char want[64];
    snprintf(want, sizeof(want), "+OK big %zu", n);
    if (!zc_line_is(z, want))
        return false;
    char *got = malloc(n);
    if (got == NULL || zc_read_exact(z, got, n) != 0) {
        free(got);
        return false;
    }
    uint32_t st = BIG_SEED;
    bool ok = true;
    for (size_t i = 0; ok && i < n; i++)
        ok = (unsigned char)got[i] == big_byte(&st);
    free(got);
    return ok && zc_line_is(z, "") && zc_line_is(z, "+OK big done");
}

static void big_client(harness *h)
{
    tclient t;
    zclient z;
    CHECK(h, tc_connect_rcvbuf(&t, h->port, 4096) == 0);
    CHECK(h, line_is(&t, "+OK ready"));
    CHECK(h, tc_send(&t, "COMPRESS\r\n") == 0);
    CHECK(h, line_is(&t, "+OK DEFLATE active"));
    CHECK(h, zc_start(&z, &t) == 0);
    /* Random bytes do not compress: the output must queue. */
    CHECK(h, zc_send(&z, "BIG 2000000\r\nAFTER\r\n") == 0);
    usleep(100 * 1000); /* a slow reader */
    CHECK(h, read_big(&z, BIG_BYTES));
    CHECK(h, zc_line_is(&z, "> AFTER"));
    CHECK(h, zc_send(&z, "QUIT\r\n") == 0);
    CHECK(h, zc_line_is(&z, "+OK bye"));
    zc_end(&z);
    tc_close(&t);
}

static void test_big_response(void **state)
{
    (void)state;
    net_limits lim = {.out_max = 256 * 1024, .out_high_water = Z_HIGH_WATER};
    zsrv s;
    zsrv_start(&s, &lim, NULL, NULL);
    s.small_sndbuf = true;
    harness h = {0};
    harness_run(&h, &s.es, big_client, NULL);
    ASSERT_CLIENT_OK(h);
    assert_true(s.writable_calls >= 1);
    assert_true(has_command(&s, "AFTER"));
    echo_server_free(&s.es);
}

/* ---- TLS ------------------------------------------------------------------ */

static void tls_client(harness *h)
{
    tclient t;
    zclient z;
    /* Implicit TLS: protocol -> deflate -> TLS. */
    CHECK(h, z_connect(h, &t, &z, true));
    CHECK(h, zc_send(&z, "MODE\r\n") == 0);
    CHECK(h, zc_line_is(&z, "+OK compressed"));
    CHECK(h, zc_send(&z, "BIG 300000\r\n") == 0);
    usleep(50 * 1000);
    CHECK(h, read_big(&z, 300000));
    CHECK(h, zc_send(&z, "QUIT\r\n") == 0);
    CHECK(h, zc_line_is(&z, "+OK bye"));
    zc_end(&z);
    tc_close(&t);

    /* STARTTLS: no compression while the handshake is pending, then
     * compression over the new TLS session. */
    CHECK(h, tc_connect(&t, h->port) == 0);
    CHECK(h, line_is(&t, "+OK ready"));
    CHECK(h, tc_send(&t, "STLSZ\r\n") == 0);
    CHECK(h, line_is(&t, "220 go ahead"));
    CHECK(h, tc_starttls(&t, 0, 0) == 0);
    CHECK(h, tc_send(&t, "MODE\r\n") == 0);
    CHECK(h, line_is(&t, "+OK plain"));
    CHECK(h, tc_send(&t, "COMPRESS\r\n") == 0);
    CHECK(h, line_is(&t, "+OK DEFLATE active"));
    CHECK(h, zc_start(&z, &t) == 0);
    CHECK(h, zc_send(&z, "AFTER STARTTLS\r\n") == 0);
    CHECK(h, zc_line_is(&z, "> AFTER STARTTLS"));
    CHECK(h, zc_send(&z, "QUIT\r\n") == 0);
    CHECK(h, zc_line_is(&z, "+OK bye"));
    zc_end(&z);
    tc_close(&t);
}

static void test_tls(void **state)
{
    (void)state;
    net_limits lim = {.out_max = 256 * 1024, .out_high_water = Z_HIGH_WATER};
    zsrv s;
    zsrv_start(&s, &lim, tls_cert, tls_key);
    s.small_sndbuf = true;
    harness h = {0};
    harness_run(&h, &s.es, tls_client, NULL);
    ASSERT_CLIENT_OK(h);
    assert_int_equal(s.compress_in_handshake, -1);
    assert_true(has_command(&s, "tls:MODE"));
    assert_true(has_command(&s, "tls:AFTER STARTTLS"));
    assert_int_equal(s.ncompress, 2);
    assert_int_equal(s.compress_rc[0], 0);
    assert_int_equal(s.compress_rc[1], 0);
    echo_server_free(&s.es);
}

/* ---- corrupt input --------------------------------------------------------- */

static void corrupt_client(harness *h)
{
    tclient t;
    zclient z;
    /* A stored block whose length check (NLEN) is wrong, after a good line. */
    CHECK(h, z_connect(h, &t, &z, false));
    CHECK(h, zc_send(&z, "HELLO\r\n") == 0);
    CHECK(h, zc_line_is(&z, "> HELLO"));
    CHECK(h, tc_send_bytes(&t, "\x00\x05\x00\x00\x00hello", 10) == 0);
    CHECK(h, zc_closed(&z));
    zc_end(&z);
    tc_close(&t);
    /* Block type 3 does not exist. */
    CHECK(h, z_connect(h, &t, &z, false));
    CHECK(h, tc_send_bytes(&t, "\xff\xff\xff\xff", 4) == 0);
    CHECK(h, zc_closed(&z));
    zc_end(&z);
    tc_close(&t);
}

static void test_corrupt_input(void **state)
{
    (void)state;
    zsrv s;
    zsrv_start(&s, NULL, NULL, NULL);
    harness h = {0};
    harness_run(&h, &s.es, corrupt_client, NULL);
    ASSERT_CLIENT_OK(h);
    assert_int_equal(s.nreasons, 2);
    assert_int_equal(s.reasons[0], NET_CLOSE_ERROR);
    assert_int_equal(s.reasons[1], NET_CLOSE_ERROR);
    assert_false(has_command(&s, "hello"));
    echo_server_free(&s.es);
}

/* ---- a decompression bomb --------------------------------------------------- */

#define BOMB_BYTES (100u * 1024 * 1024) /* of zeros: about 100 KB compressed */
#define BOMB_IN_MAX 8192

static void bomb_client(harness *h)
{
    tclient t;
    zclient z;
    CHECK(h, z_connect(h, &t, &z, false));
    CHECK(h, zc_send(&z, "HOLD 300\r\n") == 0);
    CHECK(h, zc_line_is(&z, "+OK holding"));
    /* One line of 100 MB without a line end. The server stops reading
     * once its input buffer is full, then refuses the line and closes:
     * sending may fail part way, and the refusal may be lost to a reset. */
    static const char zeros[65536];
    for (size_t sent = 0; sent < BOMB_BYTES; sent += sizeof(zeros)) {
        if (zc_send_flush(&z, zeros, sizeof(zeros), Z_NO_FLUSH) < 0)
            break;
    }
    zc_send_flush(&z, "", 0, Z_SYNC_FLUSH);
    char line[128];
    if (zc_line(&z, line, sizeof(line)) >= 0)
        CHECK(h, strcmp(line, "-ERR line too long") == 0);
    zc_end(&z);
    tc_close(&t);
}

static void test_bomb(void **state)
{
    (void)state;
    struct rusage before, after;
    getrusage(RUSAGE_SELF, &before);
    net_limits lim = {.in_max = BOMB_IN_MAX};
    zsrv s;
    zsrv_start(&s, &lim, NULL, NULL);
    harness h = {0};
    harness_run(&h, &s.es, bomb_client, NULL);
    ASSERT_CLIENT_OK(h);
    getrusage(RUSAGE_SELF, &after);
    /* While held, the input filled to in_max and no further; the buffer's
     * allocation stays within its growth step; the zlib state is bounded. */
    assert_int_equal(s.held_pending, BOMB_IN_MAX);
    assert_true(s.max_in_pending <= BOMB_IN_MAX);
    assert_true(s.max_in_cap <= 2 * (BOMB_IN_MAX + 1));
    assert_true(s.max_z_memory < 256 * 1024);
    assert_int_equal(s.nreasons, 1);
    assert_int_equal(s.reasons[0], NET_CLOSE_LOCAL); /* the overlong line */
    /* The peak resident size did not take the 100 MB (kilobytes). */
    assert_true(after.ru_maxrss - before.ru_maxrss < 32 * 1024);
    echo_server_free(&s.es);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bomb),       cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_many_lines), cmocka_unit_test(test_big_response),
        cmocka_unit_test(test_tls),        cmocka_unit_test(test_corrupt_input),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
