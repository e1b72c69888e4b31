#define _GNU_SOURCE /* memmem */
/* Unit tests for lib/queue: sealed durable entries, per-recipient state that
 * survives a kill, delivery passes and the runner against addresses that
 * refuse or never answer. */
#include "queue.h"
#include "queue_mx.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <dirent.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MARKER "SECRET-MARKER-7d1e"

static char tmpdir[64];
static char qdir[128];
static keys_secret *key;

static int setup(void **state)
{
    (void)state;
    strcpy(tmpdir, "/tmp/test_queue.XXXXXX");
    if (mkdtemp(tmpdir) == NULL)
        return -1;
    snprintf(qdir, sizeof(qdir), "%s/queue", tmpdir);
    return keys_secret_random(KEYS_KEY_LEN, &key) == KEYS_OK ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
    keys_secret_free(&key);
    return system(cmd) == 0 ? 0 : -1;
}

/* An envelope of n recipients at remote.test (static storage). */
static queue_envelope make_env(size_t n)
{
    static queue_rcpt rcpts[8];
    memset(rcpts, 0, sizeof(rcpts));
    queue_envelope env;
    memset(&env, 0, sizeof(env));
    snprintf(env.from, sizeof(env.from), "alice@local.test");
    for (size_t i = 0; i < n && i < 8; i++)
        snprintf(rcpts[i].addr, sizeof(rcpts[i].addr), "r%zu@remote.test", i);
    env.rcpts = rcpts;
    env.nrcpt = n;
    return env;
}

static const char msg_text[] =
    "From: alice@local.test\r\nSubject: " MARKER "\r\n\r\nbody " MARKER "\r\n";

static void put_one(const queue_envelope *env, char id[QUEUE_ID_LEN + 1])
{
    char err[QUEUE_ERR_MAX] = "";
    assert_int_equal(
        queue_put(qdir, key, env, msg_text, sizeof(msg_text) - 1, 0, id, err, sizeof(err)),
        QUEUE_OK);
    assert_true(queue_id_valid(id));
}

static void test_roundtrip(void **state)
{
    (void)state;
    queue_envelope env = make_env(2);
    env.rcpts[0].notify = SMTP_NOTIFY_FAILURE | SMTP_NOTIFY_DELAY;
    snprintf(env.rcpts[1].orcpt_type, sizeof(env.rcpts[1].orcpt_type), "rfc822");
    snprintf(env.rcpts[1].orcpt, sizeof(env.rcpts[1].orcpt), "orig@remote.test");
    snprintf(env.envid, sizeof(env.envid), "ENV-42");
    env.ret = SMTP_RET_HDRS;
    char id[QUEUE_ID_LEN + 1], err[QUEUE_ERR_MAX];
    put_one(&env, id);

    queue_entry *e = NULL;
    assert_int_equal(queue_open(qdir, key, id, &e, err, sizeof(err)), QUEUE_OK);
    assert_string_equal(e->id, id);
    assert_string_equal(e->env.from, "alice@local.test");
    assert_string_equal(e->env.envid, "ENV-42");
    assert_int_equal(e->env.ret, SMTP_RET_HDRS);
    assert_int_equal(e->env.nrcpt, 2);
    assert_int_equal(e->env.rcpts[0].notify, SMTP_NOTIFY_FAILURE | SMTP_NOTIFY_DELAY);
    assert_string_equal(e->env.rcpts[1].orcpt, "orig@remote.test");
    assert_true(e->env.queued_at > 0);
    assert_int_equal(e->msg_len, sizeof(msg_text) - 1);
    assert_memory_equal(e->msg, msg_text, e->msg_len);
    assert_false(e->eightbit);

    /* No state file yet: every recipient pending, due at once. */
    queue_state st;
    assert_int_equal(queue_state_peek(qdir, key, id, &st, err, sizeof(err)), QUEUE_ERR_NOT_FOUND);
    assert_int_equal(queue_state_load(qdir, key, e, &st, err, sizeof(err)), QUEUE_OK);
    assert_int_equal(st.nrcpt, 2);
    assert_int_equal(st.rcpts[1].status, QUEUE_RCPT_PENDING);
    assert_true(queue_state_next_attempt(&st) <= time(NULL));
    queue_state_free(&st);

    char(*ids)[QUEUE_ID_LEN + 1] = NULL;
    size_t n = 0;
    assert_int_equal(queue_list(qdir, &ids, &n, err, sizeof(err)), QUEUE_OK);
    bool found = false;
    for (size_t i = 0; i < n; i++)
        found = found || strcmp(ids[i], id) == 0;
    assert_true(found);
    free(ids);
    queue_entry_free(&e);
    assert_null(e);
    assert_int_equal(queue_remove(qdir, id, err, sizeof(err)), QUEUE_OK);
    assert_int_equal(queue_open(qdir, key, id, &e, err, sizeof(err)), QUEUE_ERR_NOT_FOUND);
}

/* Every file under dir, searched for needle. */
static bool dir_contains(const char *dir, const char *needle)
{
    DIR *d = opendir(dir);
    struct dirent *de;
    bool hit = false;
    while (d != NULL && (de = readdir(d)) != NULL && !hit) {
        char path[512];
        snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
        FILE *f = fopen(path, "rb");
        struct stat st;
        if (f == NULL || stat(path, &st) < 0 || !S_ISREG(st.st_mode)) {
            if (f)
                fclose(f);
            continue;
        }
        char *data = malloc((size_t)st.st_size + 1);
        size_t got = fread(data, 1, (size_t)st.st_size, f);
        fclose(f);
        hit = memmem(data, got, needle, strlen(needle)) != NULL;
        free(data);
    }
    if (d)
        closedir(d);
    return hit;
}

static void test_no_plaintext(void **state)
{
    (void)state;
    queue_envelope env = make_env(1);
    snprintf(env.rcpts[0].addr, sizeof(env.rcpts[0].addr), "%s@remote.test", MARKER);
    char id[QUEUE_ID_LEN + 1], err[QUEUE_ERR_MAX];
    put_one(&env, id);
    queue_entry *e = NULL;
    queue_state st;
    assert_int_equal(queue_open(qdir, key, id, &e, err, sizeof(err)), QUEUE_OK);
    assert_int_equal(queue_state_load(qdir, key, e, &st, err, sizeof(err)), QUEUE_OK);
    snprintf(st.rcpts[0].reply, sizeof(st.rcpts[0].reply), "451 4.0.0 %s", MARKER);
    assert_int_equal(queue_state_save(qdir, key, id, &st, err, sizeof(err)), QUEUE_OK);
    assert_false(dir_contains(qdir, MARKER));
    assert_false(dir_contains(qdir, "remote.test"));
    assert_false(dir_contains(qdir, "alice"));
    /* The files are private. */
    char path[512];
    struct stat sb;
    snprintf(path, sizeof(path), "%s/%s.msg", qdir, id);
    assert_int_equal(stat(path, &sb), 0);
    assert_int_equal(sb.st_mode & 077, 0);
    queue_state_free(&st);
    queue_entry_free(&e);
    queue_remove(qdir, id, err, sizeof(err));
}

static void flip_byte(const char *path, long off)
{
    int fd = open(path, O_RDWR);
    assert_true(fd >= 0);
    unsigned char c;
    assert_int_equal(pread(fd, &c, 1, off), 1);
    c ^= 0x01;
    assert_int_equal(pwrite(fd, &c, 1, off), 1);
    close(fd);
}

static void test_tamper(void **state)
{
    (void)state;
    queue_envelope env = make_env(1);
    char id[QUEUE_ID_LEN + 1], id2[QUEUE_ID_LEN + 1], err[QUEUE_ERR_MAX];
    char path[512], path2[512];
    put_one(&env, id);
    put_one(&env, id2);
    queue_entry *e = NULL;
    queue_state st;

    /* A wrong key. */
    keys_secret *other = NULL;
    assert_int_equal(keys_secret_random(KEYS_KEY_LEN, &other), KEYS_OK);
    assert_int_equal(queue_open(qdir, other, id, &e, err, sizeof(err)), QUEUE_ERR_CORRUPT);
    keys_secret_free(&other);

    /* State: tampered, then the state of another entry. */
    assert_int_equal(queue_open(qdir, key, id, &e, err, sizeof(err)), QUEUE_OK);
    assert_int_equal(queue_state_load(qdir, key, e, &st, err, sizeof(err)), QUEUE_OK);
    assert_int_equal(queue_state_save(qdir, key, id, &st, err, sizeof(err)), QUEUE_OK);
    queue_state_free(&st);
    snprintf(path, sizeof(path), "%s/%s.state", qdir, id);
    snprintf(path2, sizeof(path2), "%s/%s.state", qdir, id2);
    flip_byte(path, 30);
    assert_int_equal(queue_state_load(qdir, key, e, &st, err, sizeof(err)), QUEUE_ERR_CORRUPT);
    assert_int_equal(rename(path, path2), 0);
    queue_entry *e2 = NULL;
    assert_int_equal(queue_open(qdir, key, id2, &e2, err, sizeof(err)), QUEUE_OK);
    assert_int_equal(queue_state_load(qdir, key, e2, &st, err, sizeof(err)), QUEUE_ERR_CORRUPT);
    queue_entry_free(&e2);
    queue_entry_free(&e);

    /* The entry: a flipped byte, a truncation, a rename to another id. */
    snprintf(path, sizeof(path), "%s/%s.msg", qdir, id);
    flip_byte(path, 60);
    assert_int_equal(queue_open(qdir, key, id, &e, err, sizeof(err)), QUEUE_ERR_CORRUPT);
    flip_byte(path, 60);
    assert_int_equal(queue_open(qdir, key, id, &e, err, sizeof(err)), QUEUE_OK);
    queue_entry_free(&e);
    assert_int_equal(truncate(path, 50), 0);
    assert_int_equal(queue_open(qdir, key, id, &e, err, sizeof(err)), QUEUE_ERR_CORRUPT);
    snprintf(path, sizeof(path), "%s/%s.msg", qdir, id2);
    snprintf(path2, sizeof(path2), "%s/%s.msg", qdir, id);
    assert_int_equal(rename(path, path2), 0);
    assert_int_equal(queue_open(qdir, key, id, &e, err, sizeof(err)), QUEUE_ERR_CORRUPT);
    assert_null(e);
    queue_remove(qdir, id, err, sizeof(err));
    queue_remove(qdir, id2, err, sizeof(err));
}

static void test_invalid_put(void **state)
{
    (void)state;
    char id[QUEUE_ID_LEN + 1], err[QUEUE_ERR_MAX];
    queue_envelope env = make_env(1);
    snprintf(env.rcpts[0].addr, sizeof(env.rcpts[0].addr), "bob@remote.test\r\nRCPT");
    assert_int_equal(queue_put(qdir, key, &env, "x", 1, 0, id, err, sizeof(err)),
                     QUEUE_ERR_INVALID);
    snprintf(env.rcpts[0].addr, sizeof(env.rcpts[0].addr), "no-at-sign");
    assert_int_equal(queue_put(qdir, key, &env, "x", 1, 0, id, err, sizeof(err)),
                     QUEUE_ERR_INVALID);
    env = make_env(1);
    env.rcpts[0].notify = SMTP_NOTIFY_NEVER | SMTP_NOTIFY_FAILURE; /* RFC 3461 4.1 */
    assert_int_equal(queue_put(qdir, key, &env, "x", 1, 0, id, err, sizeof(err)),
                     QUEUE_ERR_INVALID);
    env = make_env(1);
    assert_int_equal(
        queue_put(qdir, key, &env, msg_text, sizeof(msg_text) - 1, 10, id, err, sizeof(err)),
        QUEUE_ERR_TOO_BIG);
    env.nrcpt = QUEUE_RCPTS_MAX + 1;
    assert_int_equal(queue_put(qdir, key, &env, "x", 1, 0, id, err, sizeof(err)),
                     QUEUE_ERR_TOO_BIG);
    env = make_env(0);
    assert_int_equal(queue_put(qdir, key, &env, "x", 1, 0, id, err, sizeof(err)),
                     QUEUE_ERR_INVALID);
    assert_string_equal(id, "");
}

static void test_lock(void **state)
{
    (void)state;
    queue_envelope env = make_env(1);
    char id[QUEUE_ID_LEN + 1], err[QUEUE_ERR_MAX];
    put_one(&env, id);
    int a = -1, b = -1;
    assert_int_equal(queue_lock(qdir, id, &a), QUEUE_OK);
    assert_int_equal(queue_lock(qdir, id, &b), QUEUE_ERR_BUSY);
    queue_unlock(&a);
    assert_int_equal(a, -1);
    assert_int_equal(queue_lock(qdir, id, &b), QUEUE_OK);
    queue_unlock(&b);
    queue_remove(qdir, id, err, sizeof(err));
    assert_int_equal(queue_lock(qdir, id, &b), QUEUE_ERR_NOT_FOUND);
}

/* A child records recipients as delivered one by one, saving after each,
 * and says so on a pipe; it is killed mid-way. What it acknowledged is
 * there, the state always opens, and nothing it did not reach is marked. */
static void test_state_survives_kill(void **state)
{
    (void)state;
    queue_envelope env = make_env(8);
    char id[QUEUE_ID_LEN + 1], err[QUEUE_ERR_MAX];
    put_one(&env, id);
    int p[2];
    assert_int_equal(pipe(p), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(p[0]);
        queue_entry *e = NULL;
        queue_state st;
        if (queue_open(qdir, key, id, &e, err, sizeof(err)) != QUEUE_OK ||
            queue_state_load(qdir, key, e, &st, err, sizeof(err)) != QUEUE_OK)
            _exit(1);
        for (unsigned round = 0;; round++) {
            size_t i = round % 8;
            st.rcpts[i].status = QUEUE_RCPT_DELIVERED;
            st.rcpts[i].attempts = round;
            if (queue_state_save(qdir, key, id, &st, err, sizeof(err)) != QUEUE_OK)
                _exit(1);
            unsigned char b = (unsigned char)i;
            if (write(p[1], &b, 1) != 1)
                _exit(1);
        }
    }
    close(p[1]);
    unsigned char b = 0;
    for (int i = 0; i < 5; i++)
        assert_int_equal(read(p[0], &b, 1), 1);
    kill(pid, SIGKILL);
    int status = 0;
    waitpid(pid, &status, 0);
    assert_true(WIFSIGNALED(status));
    close(p[0]);

    queue_entry *e = NULL;
    queue_state st;
    assert_int_equal(queue_open(qdir, key, id, &e, err, sizeof(err)), QUEUE_OK);
    assert_int_equal(queue_state_load(qdir, key, e, &st, err, sizeof(err)), QUEUE_OK);
    assert_true(st.generation >= 5);
    for (size_t i = 0; i < 5; i++) /* acknowledged: durable */
        assert_int_equal(st.rcpts[i].status, QUEUE_RCPT_DELIVERED);
    /* The generation counts saves: only the recipients saved are marked. */
    for (size_t i = 0; i < 8; i++)
        assert_int_equal(st.rcpts[i].status == QUEUE_RCPT_DELIVERED,
                         st.generation >= 8 || i < st.generation);
    queue_state_free(&st);
    queue_entry_free(&e);
    /* A killed writer may leave a tmp file: the list ignores it. */
    char(*ids)[QUEUE_ID_LEN + 1] = NULL;
    size_t n = 0;
    assert_int_equal(queue_list(qdir, &ids, &n, err, sizeof(err)), QUEUE_OK);
    for (size_t i = 0; i < n; i++)
        assert_true(queue_id_valid(ids[i]));
    free(ids);
    queue_remove(qdir, id, err, sizeof(err));
}

/* ---- a delivery pass ----------------------------------------------------------- */

typedef struct dsn_sink {
    int calls;
    char to[QUEUE_ADDR_MAX + 1];
    char *text;
} dsn_sink;

static int sink_fn(void *ctx, const char *recipient, const char *msg, size_t len)
{
    dsn_sink *s = ctx;
    s->calls++;
    snprintf(s->to, sizeof(s->to), "%s", recipient);
    free(s->text);
    s->text = strndup(msg, len);
    return 0;
}

/* A port on 127.0.0.1 where nothing listens. */
static unsigned closed_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t sl = sizeof(sa);
    assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &sl), 0);
    close(fd);
    return ntohs(sa.sin_port);
}

static void test_pass_defers_then_expires(void **state)
{
    (void)state;
    char dir[160], err[QUEUE_ERR_MAX], id[QUEUE_ID_LEN + 1];
    snprintf(dir, sizeof(dir), "%s/pass", tmpdir);
    queue_config cfg;
    queue_config_default(&cfg);
    snprintf(cfg.queue_dir, sizeof(cfg.queue_dir), "%s", dir);
    snprintf(cfg.relay_host, sizeof(cfg.relay_host), "127.0.0.1:%u", closed_port());
    snprintf(cfg.dns, sizeof(cfg.dns), "127.0.0.1:1");
    cfg.server_key = key;
    cfg.retry_min = 100;
    cfg.retry_max = 1000;
    cfg.connect_timeout = 2;
    queue_envelope env = make_env(2);
    env.rcpts[1].notify = SMTP_NOTIFY_NEVER;
    assert_int_equal(
        queue_put(dir, key, &env, msg_text, sizeof(msg_text) - 1, 0, id, err, sizeof(err)),
        QUEUE_OK);
    dsn_sink sink = {0};
    queue_stats s;
    int64_t before = (int64_t)time(NULL);
    assert_int_equal(queue_run_pass(&cfg, sink_fn, &sink, false, &s, err, sizeof(err)), 0);
    assert_int_equal(s.deferred, 2);
    assert_int_equal(s.delivered, 0);
    assert_int_equal(sink.calls, 0);

    queue_entry *e = NULL;
    queue_state st;
    assert_int_equal(queue_open(dir, key, id, &e, err, sizeof(err)), QUEUE_OK);
    assert_int_equal(queue_state_load(dir, key, e, &st, err, sizeof(err)), QUEUE_OK);
    assert_int_equal(st.rcpts[0].status, QUEUE_RCPT_PENDING);
    assert_int_equal(st.rcpts[0].attempts, 1);
    assert_true(st.rcpts[0].next_attempt >= before + 100);
    assert_true(strstr(st.rcpts[0].reply, "connect to") != NULL);
    queue_state_free(&st);

    /* Not due yet: a pass does nothing; a flush tries again. */
    assert_int_equal(queue_run_pass(&cfg, sink_fn, &sink, false, &s, err, sizeof(err)), 0);
    assert_int_equal(s.attempts, 0);
    cfg.max_age = 1;
    sleep(1);
    assert_int_equal(queue_run_pass(&cfg, sink_fn, &sink, true, &s, err, sizeof(err)), 0);
    assert_int_equal(s.bounced, 2);
    assert_int_equal(s.dsns, 1);
    assert_int_equal(sink.calls, 1);
    assert_string_equal(sink.to, "alice@local.test");
    assert_non_null(strstr(sink.text, "Final-Recipient: rfc822; r0@remote.test"));
    assert_null(strstr(sink.text, "r1@remote.test")); /* NOTIFY=NEVER */
    assert_non_null(strstr(sink.text, "Status: 5.4.7"));
    /* Everything done: the entry is gone. */
    queue_entry_free(&e);
    assert_int_equal(queue_open(dir, key, id, &e, err, sizeof(err)), QUEUE_ERR_NOT_FOUND);
    free(sink.text);
}

/* A listener that accepts connections into its backlog and never answers:
 * an attempt to it hangs waiting for the greeting. */
static int silent_listener(unsigned *port_r)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t sl = sizeof(sa);
    assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    assert_int_equal(listen(fd, 16), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &sl), 0);
    *port_r = ntohs(sa.sin_port);
    return fd;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The runner's threads pick up a kicked entry and count the attempt; a
 * stop during an attempt that waits on a silent server returns at once and
 * leaves the recipient pending, the attempt not counted. */
static void test_runner(void **state)
{
    (void)state;
    char dir[160], err[QUEUE_ERR_MAX], id[QUEUE_ID_LEN + 1];
    snprintf(dir, sizeof(dir), "%s/runner", tmpdir);
    queue_config cfg;
    queue_config_default(&cfg);
    snprintf(cfg.queue_dir, sizeof(cfg.queue_dir), "%s", dir);
    snprintf(cfg.relay_host, sizeof(cfg.relay_host), "127.0.0.1:%u", closed_port());
    snprintf(cfg.dns, sizeof(cfg.dns), "127.0.0.1:1");
    cfg.server_key = key;
    cfg.concurrency = 3;
    cfg.retry_min = 3600;
    cfg.retry_max = 7200;
    queue_runner *r = NULL;
    dsn_sink sink = {0};
    assert_int_equal(queue_runner_start(&cfg, sink_fn, &sink, &r, err, sizeof(err)), 0);
    queue_envelope env = make_env(1);
    assert_int_equal(
        queue_put(dir, key, &env, msg_text, sizeof(msg_text) - 1, 0, id, err, sizeof(err)),
        QUEUE_OK);
    queue_runner_kick(r);
    queue_stats s = {0};
    for (int i = 0; i < 200 && s.deferred == 0; i++) {
        usleep(20000);
        queue_runner_stats(r, &s);
    }
    assert_int_equal(s.deferred, 1);
    assert_int_equal(s.queued, 1);
    queue_runner_stop(&r);
    assert_null(r);
    queue_remove(dir, id, err, sizeof(err));

    /* Now a server that never greets, and a stop in the middle. */
    unsigned port = 0;
    int lfd = silent_listener(&port);
    snprintf(cfg.relay_host, sizeof(cfg.relay_host), "127.0.0.1:%u", port);
    cfg.command_timeout = 60;
    assert_int_equal(
        queue_put(dir, key, &env, msg_text, sizeof(msg_text) - 1, 0, id, err, sizeof(err)),
        QUEUE_OK);
    assert_int_equal(queue_runner_start(&cfg, sink_fn, &sink, &r, err, sizeof(err)), 0);
    queue_runner_kick(r);
    int busy = -1;
    for (int i = 0; i < 200; i++) { /* until a thread holds the entry */
        if (queue_lock(dir, id, &busy) == QUEUE_ERR_BUSY)
            break;
        queue_unlock(&busy);
        usleep(10000);
    }
    usleep(100000);
    double t0 = now_s();
    queue_runner_stop(&r);
    assert_true(now_s() - t0 < 5.0);
    close(lfd);
    queue_entry *e = NULL;
    queue_state st;
    assert_int_equal(queue_open(dir, key, id, &e, err, sizeof(err)), QUEUE_OK);
    assert_int_equal(queue_state_load(dir, key, e, &st, err, sizeof(err)), QUEUE_OK);
    assert_int_equal(st.rcpts[0].status, QUEUE_RCPT_PENDING);
    assert_int_equal(st.rcpts[0].attempts, 0);
    queue_state_free(&st);
    queue_entry_free(&e);
    queue_remove(dir, id, err, sizeof(err));
    free(sink.text);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_roundtrip),
        cmocka_unit_test(test_no_plaintext),
        cmocka_unit_test(test_tamper),
        cmocka_unit_test(test_invalid_put),
        cmocka_unit_test(test_lock),
        cmocka_unit_test(test_state_survives_kill),
        cmocka_unit_test(test_pass_defers_then_expires),
        cmocka_unit_test(test_runner),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
