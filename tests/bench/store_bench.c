/* ownmail-store-bench: the mail store (lib/store) encrypted against plain.
 *
 *   ownmail-store-bench [dir [messages]]
 *
 * Runs the same workload through the same store code twice in dir (default
 * "."): once on a store opened with vfs_open_store() (every page sealed with
 * XChaCha20-Poly1305) and once on a plain SQLite file with the same settings
 * (40 reserved bytes per page, store_attach's pragmas):
 *   1. append `messages` (default 10000) RFC 5322 messages of 2 KB to 200 KB
 *      (log-uniform sizes; small ones text/plain, larger ones multipart with
 *      a base64 attachment; deterministic pseudo-random) to INBOX with
 *      store_append, 100 per transaction, with the metadata lib/mailbox
 *      computes at delivery (ENVELOPE, BODYSTRUCTURE, FTS5 index text);
 *   2. read every message back as a client's first sync does: the metadata
 *      of each (store_fetch_info) and its whole raw bytes (store_fetch_raw);
 *   3. run 100 IMAP searches (SUBJECT, FROM, TEXT and BODY through FTS5).
 * Building the messages and parsing their MIME is the same work on both
 * sides and is not timed: the times are those of the store calls.
 * Prints the time of each phase and run; the last line is
 * "encrypted/plain ratio: X" (total encrypted time / total plain time).
 * Not a test: tests/bench/store.sh builds it in Release and runs it. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "keys.h"
#include "mailbox.h"
#include "store.h"
#include "vfs.h"

#define BENCH_MESSAGES_DEFAULT 10000
#define BENCH_MESSAGES_MAX 1000000
#define BENCH_TXN 100
#define BENCH_SEARCHES 100
#define BENCH_MIN_SIZE 2048
#define BENCH_MAX_SIZE (200 * 1024)
#define BENCH_TEXT_MAX 6000 /* bytes of the text part of a multipart message */
#define BENCH_STORE_ID "5eed5eed5eed5eed5eed5eed5eed5eed"

static const char *const words[] = {
    "meeting", "invoice", "holiday", "project", "report",  "budget",     "lunch",   "review",
    "draft",   "urgent",  "family",  "photos",  "travel",  "ticket",     "offer",   "contract",
    "update",  "weekly",  "garden",  "concert", "dinner",  "school",     "payment", "receipt",
    "release", "server",  "backup",  "account", "welcome", "newsletter", "minutes", "agenda",
};
#define NWORDS (sizeof words / sizeof words[0])

typedef struct {
    double append, read, search;
} bench_times;

static uint64_t rng_state;

static uint64_t rng(void) /* xorshift64* */
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 2685821657736338717ULL;
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static _Noreturn void die(const char *what, int rc)
{
    fprintf(stderr, "store_bench: %s: %s\n", what, store_strerror(rc));
    exit(1);
}

static size_t message_size(void)
{
    double u = (double)(rng() % 1000000) / 1000000.0; /* log-uniform */
    return (size_t)(BENCH_MIN_SIZE * exp(u * log((double)BENCH_MAX_SIZE / BENCH_MIN_SIZE)));
}

/* Lines of words, CRLF-terminated, until out holds about n more bytes. */
static void text_lines(buf *out, size_t n)
{
    size_t start = out->len, line = 0;
    while (out->len - start < n) {
        const char *w = words[rng() % NWORDS];
        buf_append_str(out, w);
        line += strlen(w);
        if (line > 64) {
            buf_append_str(out, "\r\n");
            line = 0;
        } else {
            buf_append_char(out, ' ');
            line++;
        }
    }
    buf_append_str(out, "\r\n");
}

static void base64_lines(buf *out, size_t n)
{
    static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    char line[78];
    for (size_t done = 0; done < n; done += 78) {
        uint64_t r = 0;
        for (int i = 0; i < 76; i++) {
            if (i % 10 == 0)
                r = rng();
            line[i] = b64[r & 63];
            r >>= 6;
        }
        line[76] = '\r';
        line[77] = '\n';
        buf_append(out, line, sizeof line);
    }
}

/* Message i of the workload, with its size drawn from the generator. */
static void make_message(buf *out, int i)
{
    size_t size = message_size();
    unsigned from = (unsigned)(rng() % 500);
    buf_reset(out);
    buf_printf(out,
               "Return-Path: <user%u@example.org>\r\n"
               "Received: from mx.example.org (mx.example.org [192.0.2.7])\r\n"
               "\tby mail.example.net with ESMTPS id %08llx; Wed, 25 Nov 2026 17:%02d:00 +0000\r\n"
               "From: \"User %u\" <user%u@example.org>\r\n"
               "To: Me <me@example.net>\r\n",
               from, (unsigned long long)rng(), i % 60, from, from);
    if (i % 3 == 0)
        buf_printf(out, "Cc: team%u@example.net\r\n", (unsigned)(rng() % 20));
    buf_printf(out, "Subject: %s%s %s %s #%d\r\n", i % 4 == 1 ? "Re: " : "",
               words[rng() % NWORDS], words[rng() % NWORDS], words[rng() % NWORDS], i);
    buf_printf(out,
               "Date: Wed, 25 Nov 2026 %02d:%02d:00 +0000\r\n"
               "Message-ID: <%d.%llx@example.org>\r\n",
               i / 60 % 24, i % 60, i, (unsigned long long)rng());
    if (i % 4 == 1)
        buf_printf(out, "In-Reply-To: <%d.0@example.org>\r\nReferences: <%d.0@example.org>\r\n",
                   i - 1, i - 1);
    buf_append_str(out, "MIME-Version: 1.0\r\n");
    size_t head = out->len;
    if (size < 3 * BENCH_TEXT_MAX) {
        buf_append_str(out, "Content-Type: text/plain; charset=utf-8\r\n\r\n");
        text_lines(out, size > head + 64 ? size - head - 64 : 256);
        return;
    }
    buf_printf(out,
               "Content-Type: multipart/mixed; boundary=\"b%d\"\r\n\r\n"
               "--b%d\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n",
               i, i);
    text_lines(out, BENCH_TEXT_MAX / 2 + rng() % (BENCH_TEXT_MAX / 2));
    buf_printf(out,
               "--b%d\r\nContent-Type: application/pdf; name=\"report-%d.pdf\"\r\n"
               "Content-Disposition: attachment; filename=\"report-%d.pdf\"\r\n"
               "Content-Transfer-Encoding: base64\r\n\r\n",
               i, i, i);
    base64_lines(out, size > out->len + 64 ? size - out->len - 64 : 78);
    buf_printf(out, "--b%d--\r\n", i);
}

/* Returns the seconds spent in store calls (not in making and parsing). */
static double append_all(sqlite3 *db, int messages)
{
    double spent = 0;
    buf msg;
    buf_init(&msg, (size_t)BENCH_MAX_SIZE * 2);
    rng_state = 0x9e3779b97f4a7c15ULL;
    for (int i = 0; i < messages; i++) {
        int rc;
        make_message(&msg, i);
        store_msg_meta meta;
        if (mailbox_meta_from_mime(msg.data, msg.len, &meta) != MAILBOX_OK)
            die("meta", STORE_ERR_NOMEM);
        double t0 = now();
        if (i % BENCH_TXN == 0 && (rc = store_begin(db)) != STORE_OK)
            die("begin", rc);
        rc = store_append(db, "INBOX", msg.data, msg.len, 1795000000 + i, 0, NULL, &meta, NULL,
                          NULL);
        if (rc != STORE_OK)
            die("append", rc);
        if ((i % BENCH_TXN == BENCH_TXN - 1 || i == messages - 1) &&
            (rc = store_commit(db)) != STORE_OK)
            die("commit", rc);
        spent += now() - t0;
        mailbox_meta_free(&meta);
    }
    buf_free(&msg);
    return spent;
}

static uint64_t read_all(sqlite3 *db, int64_t inbox, int messages)
{
    uint64_t sum = 0;
    for (int uid = 1; uid <= messages; uid++) {
        store_msg_info info;
        int rc = store_fetch_info(db, inbox, (uint32_t)uid, &info);
        if (rc != STORE_OK)
            die("fetch info", rc);
        sum += info.envelope != NULL ? strlen(info.envelope) : 0;
        uint64_t size = info.size;
        store_msg_info_free(&info);
        unsigned char *data = NULL;
        size_t len = 0;
        if ((rc = store_fetch_raw(db, inbox, (uint32_t)uid, 0, size, &data, &len)) != STORE_OK)
            die("fetch raw", rc);
        for (size_t i = 0; i < len; i += 64)
            sum += data[i];
        sum += len;
        free(data);
    }
    return sum;
}

static long long search_all(sqlite3 *db, int64_t inbox)
{
    static const store_search_kind kinds[] = {STORE_SK_SUBJECT, STORE_SK_SUBJECT, STORE_SK_FROM,
                                              STORE_SK_TEXT,    STORE_SK_TEXT,    STORE_SK_BODY};
    long long hits = 0;
    char str[64];
    for (int i = 0; i < BENCH_SEARCHES; i++) {
        store_search_kind k = kinds[i % (sizeof kinds / sizeof kinds[0])];
        if (k == STORE_SK_FROM)
            snprintf(str, sizeof str, "user%d@", i * 7 % 500);
        else if (k == STORE_SK_BODY)
            snprintf(str, sizeof str, "%s %s", words[i % NWORDS], words[(i * 7 + 3) % NWORDS]);
        else
            snprintf(str, sizeof str, "%s", words[(i * 5 + 1) % NWORDS]);
        store_search key = {.kind = k, .str = str};
        store_uids uids;
        int rc = store_search_uids(db, inbox, &key, &uids);
        if (rc != STORE_OK)
            die("search", rc);
        hits += (long long)uids.n;
        store_uids_free(&uids);
    }
    return hits;
}

static sqlite3 *open_plain(const char *path)
{
    sqlite3 *db = NULL;
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) != SQLITE_OK)
        die("open plain", STORE_ERR_DB);
    int reserve = VFS_RESERVE_BYTES;
    sqlite3_file_control(db, "main", SQLITE_FCNTL_RESERVE_BYTES, &reserve);
    return db;
}

static sqlite3 *open_encrypted(const char *path, const keys_secret *key)
{
    sqlite3 *db = NULL;
    char err[VFS_ERR_LEN];
    if (vfs_open_store(path, BENCH_STORE_ID, key, &db, err, sizeof err) != VFS_OK) {
        fprintf(stderr, "store_bench: %s\n", err);
        exit(1);
    }
    return db;
}

static void remove_db(const char *path)
{
    char p[4096];
    unlink(path);
    snprintf(p, sizeof p, "%s-wal", path);
    unlink(p);
    snprintf(p, sizeof p, "%s-shm", path);
    unlink(p);
}

static bench_times run(const char *dir, const char *name, const keys_secret *key, int messages)
{
    char path[4096], err[256];
    bench_times t;
    snprintf(path, sizeof path, "%s/%s", dir, name);
    remove_db(path);
    sqlite3 *db = key != NULL ? open_encrypted(path, key) : open_plain(path);
    int rc = store_attach(db, err, sizeof err);
    if (rc == STORE_OK)
        rc = store_ensure_defaults(db);
    if (rc != STORE_OK) {
        fprintf(stderr, "store_bench: %s\n", err);
        exit(1);
    }
    const char *extra = getenv("STORE_BENCH_SQL"); /* e.g. "PRAGMA cache_size=-8192" */
    if (extra != NULL && sqlite3_exec(db, extra, NULL, NULL, NULL) != SQLITE_OK)
        die(extra, STORE_ERR_DB);
    store_mailbox inbox;
    if ((rc = store_mailbox_get(db, "INBOX", &inbox)) != STORE_OK)
        die("INBOX", rc);
    t.append = append_all(db, messages);
    double t1 = now();
    uint64_t sum = read_all(db, inbox.id, messages);
    double t2 = now();
    long long hits = search_all(db, inbox.id);
    double t3 = now();
    t.read = t2 - t1;
    t.search = t3 - t2;
    sqlite3_stmt *q = NULL;
    long long pages = 0;
    if (sqlite3_prepare_v2(db, "PRAGMA page_count", -1, &q, NULL) == SQLITE_OK &&
        sqlite3_step(q) == SQLITE_ROW)
        pages = sqlite3_column_int64(q, 0);
    sqlite3_finalize(q);
    sqlite3_close_v2(db);
    printf("%-9s append %7.3f s  read %7.3f s  search %7.3f s  total %7.3f s  "
           "(%lld pages, sum %llu, hits %lld)\n",
           key != NULL ? "encrypted" : "plain", t.append, t.read, t.search,
           t.append + t.read + t.search, pages, (unsigned long long)sum, hits);
    fflush(stdout);
    remove_db(path);
    return t;
}

int main(int argc, char **argv)
{
    const char *dir = argc > 1 ? argv[1] : ".";
    int messages = argc > 2 ? atoi(argv[2]) : BENCH_MESSAGES_DEFAULT;
    if (messages < 1 || messages > BENCH_MESSAGES_MAX) {
        fprintf(stderr, "usage: %s [dir [messages (1..%d)]]\n", argv[0], BENCH_MESSAGES_MAX);
        return 2;
    }
    keys_secret *key = NULL;
    if (vfs_register() != VFS_OK || keys_store_key_new(&key) != KEYS_OK) {
        fprintf(stderr, "store_bench: cannot set up the VFS or the key\n");
        return 1;
    }
    printf("%d messages of %d..%d bytes, transactions of %d, %d searches\n", messages,
           BENCH_MIN_SIZE, BENCH_MAX_SIZE, BENCH_TXN, BENCH_SEARCHES);
    /* Plain first, then encrypted, then both again; the best of the two
     * runs of each counts (the first run warms the page cache). */
    bench_times p1 = run(dir, "plain.db", NULL, messages);
    bench_times e1 = run(dir, "enc.db", key, messages);
    bench_times p2 = run(dir, "plain.db", NULL, messages);
    bench_times e2 = run(dir, "enc.db", key, messages);
    double p = fmin(p1.append + p1.read + p1.search, p2.append + p2.read + p2.search);
    double e = fmin(e1.append + e1.read + e1.search, e2.append + e2.read + e2.search);
    printf("plain best: %.3f s\nencrypted best: %.3f s\n", p, e);
    printf("encrypted/plain ratio: %.2f\n", e / p);
    keys_secret_free(&key);
    return 0;
}
