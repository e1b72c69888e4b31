#define _GNU_SOURCE /* memmem, timegm */
/* Unit tests for lib/mailbox: the encrypted store opened with its key pair,
 * metadata from lib/mime, and the exactly-once spool drain (two drainers,
 * drainers killed at every step), no plaintext on disk, re-wrapped keys. */
#include "mailbox.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <ftw.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "spool.h"

#define STORE "0123456789abcdef0123456789abcdef"
#define STORE2 "00112233445566778899aabbccddeeff"
#define MARKER "PLAINTEXT-MARKER-7d3e"
#define MSGS_MAX 256

static char tmpdir[64];
static char spooldir[128];
static keys_secret *store_key;
static unsigned char pk[KEYS_X25519_PK_LEN];
static unsigned char *sealed;
static size_t sealed_len;

/* ---- Fixture ----------------------------------------------------------------- */

static int setup(void **state)
{
    (void)state;
    strcpy(tmpdir, "/tmp/test_mailbox.XXXXXX");
    if (mkdtemp(tmpdir) == NULL || sodium_init() < 0)
        return -1;
    snprintf(spooldir, sizeof(spooldir), "%s/spool", tmpdir);
    if (mkdir(spooldir, 0700) < 0)
        return -1;
    if (keys_store_key_new(&store_key) != KEYS_OK)
        return -1;
    return keys_x25519_new(store_key, pk, &sealed, &sealed_len) == KEYS_OK ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    keys_secret_free(&store_key);
    free(sealed);
    sealed = NULL;
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
    return system(cmd) == 0 ? 0 : -1;
}

static mailbox *open_ok(const keys_secret *key, bool with_sealed)
{
    mailbox *m = NULL;
    char err[MAILBOX_ERR_LEN] = "";
    mailbox_result r = mailbox_open(tmpdir, STORE, key, pk, with_sealed ? sealed : NULL,
                                    with_sealed ? sealed_len : 0, &m, err, sizeof(err));
    if (r != MAILBOX_OK)
        fail_msg("mailbox_open: %s: %s", mailbox_strerror(r), err);
    assert_non_null(m);
    return m;
}

/* ---- Messages ------------------------------------------------------------------ */

/* Message i: LF line ends when i is even (normalised by the drain), CRLF
 * when odd; sizes grow with i. Returned in b (NUL-terminated). */
static void msg_text(int i, bool crlf, buf *b)
{
    const char *nl = crlf ? "\r\n" : "\n";
    buf_init(b, 1 << 24);
    buf_printf(b, "From: Alice <alice@example.org>%sTo: bob@example.net%s", nl, nl);
    buf_printf(b, "Subject: msg %d%sDate: Wed, 25 Nov 2026 16:00:%02d +0100%s", i, nl, i % 60, nl);
    buf_printf(b, "Message-ID: <m%d@example.org>%sMIME-Version: 1.0%s", i, nl, nl);
    buf_printf(b, "Content-Type: text/plain; charset=utf-8%s%s", nl, nl);
    buf_printf(b, "Hello %d, the secret is " MARKER ".%s", i, nl);
    for (int k = 0; k < i * 7; k++)
        buf_printf(b, "filler line %d of message %d, long enough to take room%s", k, i, nl);
    assert_false(b->failed);
}

typedef struct {
    const char *data;
    size_t len, pos;
} source;

static ssize_t source_read(void *ctx, void *out, size_t len)
{
    source *s = ctx;
    size_t n = s->len - s->pos < len ? s->len - s->pos : len;
    memcpy(out, s->data + s->pos, n);
    s->pos += n;
    return (ssize_t)n;
}

static void put_msg(int i)
{
    buf b;
    msg_text(i, i % 2 == 1, &b);
    source src = {b.data, b.len, 0};
    char id[SPOOL_ID_LEN + 1], err[256];
    spool_result r = spool_put(spooldir, STORE, pk, source_read, &src, 0, id, err, sizeof(err));
    if (r != SPOOL_OK)
        fail_msg("spool_put: %s", err);
    buf_free(&b);
}

static void put_range(int from, int to)
{
    for (int i = from; i < to; i++)
        put_msg(i);
}

static size_t spool_count(void)
{
    char(*ids)[SPOOL_ID_LEN + 1] = NULL;
    size_t n = 0;
    assert_int_equal(spool_list(spooldir, STORE, &ids, &n), SPOOL_OK);
    free(ids);
    return n;
}

typedef struct {
    uint32_t uids[MSGS_MAX];
    size_t n;
} uid_list;

static int collect_uid(void *ctx, const store_msg_row *row)
{
    uid_list *l = ctx;
    if (l->n >= MSGS_MAX)
        return 1;
    l->uids[l->n++] = row->uid;
    return 0;
}

/* INBOX holds messages 0..n-1, each exactly once, as CRLF, with their
 * envelope and metadata. */
static void assert_inbox(mailbox *m, int n)
{
    sqlite3 *db = mailbox_db(m);
    store_mailbox mb;
    assert_int_equal(store_mailbox_get(db, "INBOX", &mb), STORE_OK);
    uid_list l = {.n = 0};
    assert_int_equal(store_msg_foreach(db, mb.id, 0, collect_uid, &l), 0);
    assert_int_equal(l.n, (size_t)n);
    int seen[MSGS_MAX] = {0};
    for (size_t k = 0; k < l.n; k++) {
        store_msg_info info;
        assert_int_equal(store_fetch_info(db, mb.id, l.uids[k], &info), STORE_OK);
        int i = -1;
        assert_non_null(info.subject);
        assert_int_equal(sscanf(info.subject, "msg %d", &i), 1);
        assert_true(i >= 0 && i < n);
        seen[i]++;
        buf want;
        msg_text(i, true, &want);
        assert_int_equal(info.size, want.len);
        unsigned char *raw = NULL;
        size_t len = 0;
        assert_int_equal(store_fetch_raw(db, mb.id, l.uids[k], 0, UINT64_MAX, &raw, &len),
                         STORE_OK);
        assert_int_equal(len, want.len);
        assert_memory_equal(raw, want.data, len);
        char needle[64];
        snprintf(needle, sizeof(needle), "\"msg %d\"", i);
        assert_non_null(info.envelope);
        assert_non_null(strstr(info.envelope, needle));
        assert_non_null(strstr(info.envelope, "((\"Alice\" NIL \"alice\" \"example.org\"))"));
        assert_non_null(info.bodystructure);
        assert_non_null(strstr(info.bodystructure, "(\"text\" \"plain\" (\"charset\" \"utf-8\")"));
        struct tm tm = {
            .tm_year = 126, .tm_mon = 10, .tm_mday = 25, .tm_hour = 15, .tm_sec = i % 60};
        assert_int_equal(info.sent_date, (int64_t)timegm(&tm));
        snprintf(needle, sizeof(needle), "Hello %d, the secret is " MARKER, i);
        assert_non_null(info.preview);
        assert_int_equal(strncmp(info.preview, needle, strlen(needle)), 0);
        snprintf(needle, sizeof(needle), "<m%d@example.org>", i);
        assert_string_equal(info.message_id, needle);
        /* the internal date is when it was spooled: within this test run */
        assert_true(info.internal_date > time(NULL) - 600 && info.internal_date <= time(NULL));
        free(raw);
        buf_free(&want);
        store_msg_info_free(&info);
    }
    for (int i = 0; i < n; i++)
        if (seen[i] != 1)
            fail_msg("message %d stored %d times", i, seen[i]);
}

static void assert_integrity(mailbox *m)
{
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_prepare_v2(mailbox_db(m), "PRAGMA integrity_check", -1, &st, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_string_equal((const char *)sqlite3_column_text(st, 0), "ok");
    sqlite3_finalize(st);
}

/* ---- Open ---------------------------------------------------------------------- */

static void test_open_reopen(void **state)
{
    (void)state;
    mailbox *m = open_ok(store_key, true);
    store_mailbox mb;
    assert_int_equal(store_mailbox_get(mailbox_db(m), "INBOX", &mb), STORE_OK);
    assert_int_equal(store_mailbox_get(mailbox_db(m), "Trash", &mb), STORE_OK);
    assert_string_equal(mailbox_store_id(m), STORE);
    mailbox_close(&m);
    assert_null(m);
    mailbox_close(&m); /* NULL is fine */

    char path[256];
    struct stat sb;
    snprintf(path, sizeof(path), "%s/stores", tmpdir);
    assert_int_equal(stat(path, &sb), 0);
    assert_int_equal(sb.st_mode & 0777, 0700);
    snprintf(path, sizeof(path), "%s/stores/%s.db", tmpdir, STORE);
    assert_int_equal(stat(path, &sb), 0);

    /* later opens need no sealed key: it is in the store */
    m = open_ok(store_key, false);
    assert_int_equal(store_mailbox_get(mailbox_db(m), "INBOX", &mb), STORE_OK);
    mailbox_close(&m);
    m = open_ok(store_key, true);
    mailbox_close(&m);
}

static void test_wrong_key(void **state)
{
    (void)state;
    mailbox *m = open_ok(store_key, true);
    mailbox_close(&m);
    keys_secret *other = NULL;
    assert_int_equal(keys_store_key_new(&other), KEYS_OK);
    char err[MAILBOX_ERR_LEN] = "";
    m = (mailbox *)1;
    assert_int_equal(mailbox_open(tmpdir, STORE, other, pk, NULL, 0, &m, err, sizeof(err)),
                     MAILBOX_ERR_WRONG_KEY);
    assert_null(m);
    assert_non_null(strstr(err, "wrong credential"));
    assert_string_equal(mailbox_strerror(MAILBOX_ERR_WRONG_KEY), "wrong credential");
    keys_secret_free(&other);
    /* the right key still opens it */
    m = open_ok(store_key, false);
    mailbox_close(&m);
}

static void test_key_mismatch(void **state)
{
    (void)state;
    char err[MAILBOX_ERR_LEN] = "";
    mailbox *m = open_ok(store_key, true);
    mailbox_close(&m);
    /* another public key than the store's */
    unsigned char pk2[KEYS_X25519_PK_LEN];
    unsigned char *sealed2 = NULL;
    size_t sealed2_len = 0;
    assert_int_equal(keys_x25519_new(store_key, pk2, &sealed2, &sealed2_len), KEYS_OK);
    assert_int_equal(
        mailbox_open(tmpdir, STORE, store_key, pk2, sealed2, sealed2_len, &m, err, sizeof(err)),
        MAILBOX_ERR_KEY_MISMATCH);
    assert_null(m);
    /* a new store without its sealed key */
    assert_int_equal(mailbox_open(tmpdir, STORE2, store_key, pk, NULL, 0, &m, err, sizeof(err)),
                     MAILBOX_ERR_NO_SECRET);
    /* a sealed key that is not under this store's key */
    keys_secret *other = NULL;
    unsigned char pk3[KEYS_X25519_PK_LEN];
    unsigned char *sealed3 = NULL;
    size_t sealed3_len = 0;
    assert_int_equal(keys_store_key_new(&other), KEYS_OK);
    assert_int_equal(keys_x25519_new(other, pk3, &sealed3, &sealed3_len), KEYS_OK);
    assert_int_equal(
        mailbox_open(tmpdir, STORE2, store_key, pk3, sealed3, sealed3_len, &m, err, sizeof(err)),
        MAILBOX_ERR_KEY_MISMATCH);
    /* bad arguments */
    assert_int_equal(
        mailbox_open(tmpdir, "NOT-HEX", store_key, pk, sealed, sealed_len, &m, err, sizeof(err)),
        MAILBOX_ERR_INVALID);
    assert_int_equal(
        mailbox_open(NULL, STORE, store_key, pk, sealed, sealed_len, &m, err, sizeof(err)),
        MAILBOX_ERR_INVALID);
    keys_secret_free(&other);
    free(sealed2);
    free(sealed3);
}

static void test_sk_in_store(void **state)
{
    (void)state;
    mailbox *m = open_ok(store_key, true);
    keys_secret *direct = NULL;
    assert_int_equal(keys_x25519_open(store_key, pk, sealed, sealed_len, &direct), KEYS_OK);
    const keys_secret *sk = mailbox_sk(m);
    assert_non_null(sk);
    assert_int_equal(keys_secret_len(sk), KEYS_X25519_SK_LEN);
    assert_memory_equal(keys_secret_bytes(sk), keys_secret_bytes(direct), KEYS_X25519_SK_LEN);
    unsigned char derived[32];
    assert_int_equal(crypto_scalarmult_base(derived, keys_secret_bytes(sk)), 0);
    assert_memory_equal(derived, pk, 32);
    assert_memory_equal(mailbox_pk(m), pk, 32);

    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_prepare_v2(mailbox_db(m),
                                        "SELECT public_key, secret_key FROM mailbox_keys", -1, &st,
                                        NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_memory_equal(sqlite3_column_blob(st, 0), pk, 32);
    assert_memory_equal(sqlite3_column_blob(st, 1), keys_secret_bytes(direct), 32);
    assert_int_equal(sqlite3_step(st), SQLITE_DONE);
    sqlite3_finalize(st);
    mailbox_close(&m);

    /* a reopen without the sealed key has the same secret key */
    m = open_ok(store_key, false);
    assert_memory_equal(keys_secret_bytes(mailbox_sk(m)), keys_secret_bytes(direct), 32);
    mailbox_close(&m);
    keys_secret_free(&direct);
}

/* ---- Drain -------------------------------------------------------------------- */

static void test_drain_roundtrip(void **state)
{
    (void)state;
    put_range(0, 20);
    assert_int_equal(spool_count(), 20);
    mailbox *m = open_ok(store_key, true);
    size_t moved = 99;
    char err[MAILBOX_ERR_LEN];
    mailbox_drain_options o = {.batch = 7, .err = err, .errlen = sizeof(err)};
    assert_int_equal(mailbox_drain_with(m, spooldir, &o, &moved), MAILBOX_OK);
    assert_string_equal(err, "");
    assert_int_equal(moved, 20);
    assert_int_equal(spool_count(), 0);
    assert_inbox(m, 20);
    assert_int_equal(mailbox_drain(m, spooldir, &moved), MAILBOX_OK);
    assert_int_equal(moved, 0);
    /* a drain with the default batch, after more mail came */
    put_range(20, 25);
    assert_int_equal(mailbox_drain(m, spooldir, &moved), MAILBOX_OK);
    assert_int_equal(moved, 5);
    assert_inbox(m, 25);
    assert_integrity(m);
    mailbox_close(&m);
    /* after a reopen everything is still there */
    m = open_ok(store_key, false);
    assert_inbox(m, 25);
    mailbox_close(&m);
}

static void test_drain_quota(void **state)
{
    (void)state;
    mailbox *m = open_ok(store_key, true);
    put_range(0, 3);
    buf big;
    msg_text(2, true, &big);
    /* room for messages 0 and 1 only */
    buf a, b;
    msg_text(0, true, &a);
    msg_text(1, true, &b);
    assert_int_equal(store_quota_set_limit(mailbox_db(m), a.len + b.len), STORE_OK);
    size_t moved = 0;
    char err[MAILBOX_ERR_LEN];
    mailbox_drain_options o = {.err = err, .errlen = sizeof(err)};
    assert_int_equal(mailbox_drain_with(m, spooldir, &o, &moved), MAILBOX_ERR_QUOTA);
    assert_non_null(strstr(err, "over quota"));
    assert_int_equal(moved, 2);
    assert_int_equal(spool_count(), 1); /* the third waits for room */
    assert_inbox(m, 2);
    assert_int_equal(store_quota_set_limit(mailbox_db(m), 0), STORE_OK);
    assert_int_equal(mailbox_drain(m, spooldir, &moved), MAILBOX_OK);
    assert_int_equal(moved, 1);
    assert_inbox(m, 3);
    buf_free(&a);
    buf_free(&b);
    buf_free(&big);
    mailbox_close(&m);
}

static void test_drain_concurrent(void **state)
{
    (void)state;
    enum { N = 60, KIDS = 3 };
    mailbox *m = open_ok(store_key, true);
    mailbox_close(&m);
    put_range(0, N);
    int go[2];
    assert_int_equal(pipe(go), 0);
    pid_t pids[KIDS];
    for (int k = 0; k < KIDS; k++) {
        pids[k] = fork();
        assert_true(pids[k] >= 0);
        if (pids[k] == 0) {
            close(go[1]);
            char c;
            if (read(go[0], &c, 1) != 0) /* wait for the parent to close the pipe */
                _exit(250);
            mailbox *cm = NULL;
            if (mailbox_open(tmpdir, STORE, store_key, pk, NULL, 0, &cm, NULL, 0) != MAILBOX_OK)
                _exit(251);
            size_t moved = 0;
            mailbox_drain_options o = {.batch = (size_t)(2 + k)};
            if (mailbox_drain_with(cm, spooldir, &o, &moved) != MAILBOX_OK)
                _exit(252);
            mailbox_close(&cm);
            _exit((int)moved);
        }
    }
    close(go[0]);
    close(go[1]);
    int total = 0;
    for (int k = 0; k < KIDS; k++) {
        int status = -1;
        assert_int_equal(waitpid(pids[k], &status, 0), pids[k]);
        assert_true(WIFEXITED(status));
        assert_true(WEXITSTATUS(status) <= N);
        total += WEXITSTATUS(status);
    }
    assert_int_equal(total, N);
    assert_int_equal(spool_count(), 0);
    m = open_ok(store_key, false);
    assert_inbox(m, N);
    assert_integrity(m);
    mailbox_close(&m);
}

typedef struct {
    mailbox_drain_point at;
    size_t n;
} kill_plan;

static void kill_hook(void *ctx, mailbox_drain_point at, size_t n)
{
    const kill_plan *p = ctx;
    if (at == p->at && n == p->n)
        raise(SIGKILL);
}

/* A child drains with batches of 4 and is killed by its hook (plan) or by
 * the parent after delay_us (plan NULL). Returns 1 when it was killed. */
static int drain_child(const kill_plan *plan, useconds_t delay_us)
{
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        mailbox *cm = NULL;
        if (mailbox_open(tmpdir, STORE, store_key, pk, NULL, 0, &cm, NULL, 0) != MAILBOX_OK)
            _exit(2);
        mailbox_drain_options o = {
            .batch = 4, .hook = plan ? kill_hook : NULL, .hook_ctx = (void *)plan};
        size_t moved = 0;
        mailbox_result r = mailbox_drain_with(cm, spooldir, &o, &moved);
        mailbox_close(&cm);
        _exit(r == MAILBOX_OK ? 0 : 3);
    }
    if (plan == NULL) {
        usleep(delay_us);
        kill(pid, SIGKILL);
    }
    int status = -1;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    if (WIFEXITED(status)) {
        assert_int_equal(WEXITSTATUS(status), 0);
        assert_null(plan); /* a planned kill must happen */
        return 0;
    }
    assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
    return 1;
}

static void test_drain_killed(void **state)
{
    (void)state;
    mailbox *m = open_ok(store_key, true);
    mailbox_close(&m);
    /* With batches of 4 of 10 messages:
     *   APPENDED 6: batch 1 committed and removed, killed inside batch 2;
     *   COMMITTED 8: batches 1 and 2 committed, batch 2 still spooled;
     *   REMOVED 5: batch 2 committed, one of its files removed. */
    static const struct {
        kill_plan plan;
        size_t in_store, spooled, redrain;
    } rounds[] = {
        {{MAILBOX_DRAIN_APPENDED, 6}, 4, 6, 6},   {{MAILBOX_DRAIN_COMMITTED, 8}, 8, 6, 2},
        {{MAILBOX_DRAIN_REMOVED, 5}, 8, 5, 2},    {{MAILBOX_DRAIN_APPENDED, 1}, 0, 10, 10},
        {{MAILBOX_DRAIN_COMMITTED, 4}, 4, 10, 6},
    };
    int total = 0;
    for (size_t r = 0; r < sizeof(rounds) / sizeof(rounds[0]); r++) {
        put_range(total, total + 10);
        assert_int_equal(drain_child(&rounds[r].plan, 0), 1);
        m = open_ok(store_key, false);
        assert_integrity(m);
        assert_inbox(m, total + (int)rounds[r].in_store);
        assert_int_equal(spool_count(), rounds[r].spooled);
        size_t moved = 0;
        assert_int_equal(mailbox_drain(m, spooldir, &moved), MAILBOX_OK);
        assert_int_equal(moved, rounds[r].redrain);
        total += 10;
        assert_int_equal(spool_count(), 0);
        assert_inbox(m, total);
        mailbox_close(&m);
    }
    /* Kills at arbitrary moments: whatever was done, a drain completes it. */
    unsigned seed = (unsigned)time(NULL);
    srand(seed);
    for (int r = 0; r < 8; r++) {
        put_range(total, total + 12);
        drain_child(NULL, (useconds_t)(rand() % 80000));
        m = open_ok(store_key, false);
        assert_integrity(m);
        assert_int_equal(mailbox_drain(m, spooldir, NULL), MAILBOX_OK);
        total += 12;
        assert_int_equal(spool_count(), 0);
        assert_inbox(m, total);
        mailbox_close(&m);
    }
}

/* ---- Confidentiality and credentials ------------------------------------------ */

static int plain_hits;
static int files_seen;
static int wal_seen;
static unsigned char sk_bytes[32];

static int scan_file(const char *path, const struct stat *sb, int type, struct FTW *ftw)
{
    (void)ftw;
    if (type != FTW_F)
        return 0;
    files_seen++;
    size_t plen = strlen(path);
    if (plen > 4 && strcmp(path + plen - 4, "-wal") == 0 && sb->st_size > 0)
        wal_seen++;
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return 0;
    unsigned char *data = malloc((size_t)sb->st_size + 1);
    size_t n = data ? fread(data, 1, (size_t)sb->st_size, f) : 0;
    fclose(f);
    static const char *const needles[] = {MARKER, "SQLite format 3", "Subject: msg", "example.org"};
    for (size_t i = 0; i < sizeof(needles) / sizeof(needles[0]); i++)
        if (memmem(data, n, needles[i], strlen(needles[i])) != NULL) {
            print_error("plaintext \"%s\" in %s\n", needles[i], path);
            plain_hits++;
        }
    if (memmem(data, n, sk_bytes, sizeof(sk_bytes)) != NULL) {
        print_error("the X25519 secret key in %s\n", path);
        plain_hits++;
    }
    free(data);
    return 0;
}

static void assert_no_plaintext(bool want_wal)
{
    plain_hits = files_seen = wal_seen = 0;
    assert_int_equal(nftw(tmpdir, scan_file, 16, FTW_PHYS), 0);
    assert_int_equal(plain_hits, 0);
    assert_true(files_seen > 0);
    if (want_wal)
        assert_true(wal_seen > 0);
}

static void test_no_plaintext(void **state)
{
    (void)state;
    keys_secret *sk = NULL;
    assert_int_equal(keys_x25519_open(store_key, pk, sealed, sealed_len, &sk), KEYS_OK);
    memcpy(sk_bytes, keys_secret_bytes(sk), sizeof(sk_bytes));
    keys_secret_free(&sk);
    put_range(0, 12);
    assert_no_plaintext(false); /* the spool */
    mailbox *m = open_ok(store_key, true);
    assert_int_equal(mailbox_drain(m, spooldir, NULL), MAILBOX_OK);
    assert_inbox(m, 12);
    put_range(12, 14);         /* spooled and stored side by side */
    assert_no_plaintext(true); /* the store with its WAL, while open */
    assert_int_equal(mailbox_drain(m, spooldir, NULL), MAILBOX_OK);
    mailbox_close(&m);
    assert_no_plaintext(false); /* after the close (checkpointed) */
    sodium_memzero(sk_bytes, sizeof(sk_bytes));
}

/* A store opened through a wrap: unwrap with cred, open, check n messages. */
static void open_via_wrap(const unsigned char *blob, size_t len, const char *cred, int n)
{
    keys_secret *k = NULL;
    assert_int_equal(keys_unwrap(blob, len, cred, strlen(cred), &k), KEYS_OK);
    mailbox *m = open_ok(k, false);
    keys_secret_free(&k);
    assert_inbox(m, n);
    mailbox_close(&m);
}

static void test_password_change(void **state)
{
    (void)state;
    const keys_kdf_params fast = KEYS_KDF_FAST;
    unsigned char *old_blob = NULL, *new_blob = NULL;
    size_t old_len = 0, new_len = 0;
    assert_int_equal(keys_wrap(store_key, "old password", 12, &fast, &old_blob, &old_len), KEYS_OK);
    /* the user's first session: opened through the password */
    keys_secret *k = NULL;
    assert_int_equal(keys_unwrap(old_blob, old_len, "old password", 12, &k), KEYS_OK);
    mailbox *m = open_ok(k, true);
    put_range(0, 5);
    assert_int_equal(mailbox_drain(m, spooldir, NULL), MAILBOX_OK);
    mailbox_close(&m);
    keys_secret_free(&k);
    /* change: unwrap with the old password, wrap with the new one */
    assert_int_equal(keys_unwrap(old_blob, old_len, "old password", 12, &k), KEYS_OK);
    assert_int_equal(keys_wrap(k, "new password", 12, &fast, &new_blob, &new_len), KEYS_OK);
    keys_secret_free(&k);
    open_via_wrap(new_blob, new_len, "new password", 5);
    assert_int_equal(keys_unwrap(new_blob, new_len, "old password", 12, &k),
                     KEYS_ERR_WRONG_CREDENTIAL);
    assert_null(k);
    /* the store itself was not re-encrypted: new mail still drains */
    put_range(5, 7);
    assert_int_equal(keys_unwrap(new_blob, new_len, "new password", 12, &k), KEYS_OK);
    m = open_ok(k, false);
    keys_secret_free(&k);
    assert_int_equal(mailbox_drain(m, spooldir, NULL), MAILBOX_OK);
    assert_inbox(m, 7);
    mailbox_close(&m);
    free(old_blob);
    free(new_blob);
}

static void test_recovery_key(void **state)
{
    (void)state;
    const keys_kdf_params fast = KEYS_KDF_FAST;
    char rk[KEYS_RECOVERY_STRLEN + 1], typed[64], canon[KEYS_RECOVERY_STRLEN + 1];
    assert_int_equal(keys_recovery_new(rk), KEYS_OK);
    unsigned char *rk_blob = NULL, *pw_blob = NULL;
    size_t rk_len = 0, pw_len = 0;
    assert_int_equal(keys_wrap(store_key, rk, strlen(rk), &fast, &rk_blob, &rk_len), KEYS_OK);
    mailbox *m = open_ok(store_key, true);
    put_range(0, 3);
    assert_int_equal(mailbox_drain(m, spooldir, NULL), MAILBOX_OK);
    mailbox_close(&m);
    /* the password is lost; the user types the recovery key sloppily */
    size_t j = 0;
    for (size_t i = 0; rk[i] != '\0'; i++)
        if (rk[i] != '-')
            typed[j++] = (char)(rk[i] >= 'A' && rk[i] <= 'Z' ? rk[i] - 'A' + 'a' : rk[i]);
    typed[j] = '\0';
    assert_int_equal(keys_recovery_normalize(typed, canon), 0);
    assert_string_equal(canon, rk);
    open_via_wrap(rk_blob, rk_len, canon, 3);
    /* reset: a new password wrap from the recovered key */
    keys_secret *k = NULL;
    assert_int_equal(keys_unwrap(rk_blob, rk_len, canon, strlen(canon), &k), KEYS_OK);
    assert_int_equal(keys_wrap(k, "fresh password", 14, &fast, &pw_blob, &pw_len), KEYS_OK);
    keys_secret_free(&k);
    open_via_wrap(pw_blob, pw_len, "fresh password", 3);
    assert_int_equal(
        keys_unwrap(rk_blob, rk_len, "0000-0000-0000-0000-0000-0000-0000-0000", 39, &k),
        KEYS_ERR_WRONG_CREDENTIAL);
    free(rk_blob);
    free(pw_blob);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_open_reopen, setup, teardown),
        cmocka_unit_test_setup_teardown(test_wrong_key, setup, teardown),
        cmocka_unit_test_setup_teardown(test_key_mismatch, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sk_in_store, setup, teardown),
        cmocka_unit_test_setup_teardown(test_drain_roundtrip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_drain_quota, setup, teardown),
        cmocka_unit_test_setup_teardown(test_drain_concurrent, setup, teardown),
        cmocka_unit_test_setup_teardown(test_drain_killed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_no_plaintext, setup, teardown),
        cmocka_unit_test_setup_teardown(test_password_change, setup, teardown),
        cmocka_unit_test_setup_teardown(test_recovery_key, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
