/* ownmail-store-bench: the encrypted store (lib/vfs) against plain SQLite.
 *
 *   ownmail-store-bench [dir [messages]]
 *
 * Runs the same workload twice in dir (default "."), once on a store opened
 * with vfs_open_store() and once on a plain SQLite file with the same
 * settings (40 reserved bytes per page, temp_store=MEMORY, mmap_size=0,
 * journal_mode=WAL, default synchronous):
 *   1. append `messages` (default 10000) messages of 2 KB to 200 KB
 *      (log-uniform, deterministic pseudo-random) into
 *      messages(id, mailbox, flags, header, body BLOB) in transactions of 100;
 *   2. read every message back (id order) and checksum the bodies;
 *   3. run 100 LIKE searches over the header column.
 * With STORE_BENCH_CACHE_KIB=N in the environment both runs use
 * PRAGMA cache_size=-N (default: SQLite's default, 2000 KiB).
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

#include "keys.h"
#include "vfs.h"

#define BENCH_MESSAGES_DEFAULT 10000
#define BENCH_MESSAGES_MAX 1000000
#define BENCH_TXN 100
#define BENCH_SEARCHES 100
#define BENCH_MIN_SIZE 2048
#define BENCH_MAX_SIZE (200 * 1024)
#define BENCH_POOL (BENCH_MAX_SIZE * 2)
#define BENCH_HEADER_MAX 1024
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

static void die(sqlite3 *db, const char *what)
{
    fprintf(stderr, "store_bench: %s: %s\n", what, db != NULL ? sqlite3_errmsg(db) : "failed");
    exit(1);
}

static void exec(sqlite3 *db, const char *sql)
{
    if (sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK)
        die(db, sql);
}

/* Text-like body bytes that every message slices from. */
static unsigned char *make_pool(void)
{
    unsigned char *p = malloc(BENCH_POOL);
    size_t n = 0;
    if (p == NULL)
        exit(1);
    while (n < BENCH_POOL) {
        const char *w = words[rng() % NWORDS];
        for (size_t i = 0; w[i] != '\0' && n < BENCH_POOL; i++)
            p[n++] = (unsigned char)w[i];
        if (n < BENCH_POOL)
            p[n++] = (rng() % 12 == 0) ? '\n' : ' ';
    }
    return p;
}

static size_t message_size(void)
{
    double u = (double)(rng() % 1000000) / 1000000.0; /* log-uniform */
    return (size_t)(BENCH_MIN_SIZE * exp(u * log((double)BENCH_MAX_SIZE / BENCH_MIN_SIZE)));
}

static void append_all(sqlite3 *db, int messages, const unsigned char *pool)
{
    sqlite3_stmt *st = NULL;
    char header[BENCH_HEADER_MAX];
    if (sqlite3_prepare_v2(db,
                           "INSERT INTO messages(mailbox, flags, header, body) VALUES (?, ?, ?, ?)",
                           -1, &st, NULL) != SQLITE_OK)
        die(db, "prepare insert");
    rng_state = 0x9e3779b97f4a7c15ULL;
    for (int i = 0; i < messages; i++) {
        if (i % BENCH_TXN == 0)
            exec(db, "BEGIN");
        size_t size = message_size();
        size_t off = (size_t)(rng() % (BENCH_POOL - BENCH_MAX_SIZE));
        snprintf(header, sizeof header,
                 "From: user%u@example.org\r\nTo: me@example.net\r\n"
                 "Subject: %s %s %s #%d\r\nDate: Wed, 25 Nov 2026 17:%02d:00 +0000\r\n"
                 "Message-ID: <%d.%llx@example.org>\r\n",
                 (unsigned)(rng() % 500), words[rng() % NWORDS], words[rng() % NWORDS],
                 words[rng() % NWORDS], i, i % 60, i, (unsigned long long)rng());
        sqlite3_bind_int(st, 1, (int)(rng() % 8));
        sqlite3_bind_int(st, 2, (int)(rng() % 16));
        sqlite3_bind_text(st, 3, header, -1, SQLITE_STATIC);
        sqlite3_bind_blob(st, 4, pool + off, (int)size, SQLITE_STATIC);
        if (sqlite3_step(st) != SQLITE_DONE)
            die(db, "insert");
        sqlite3_reset(st);
        if (i % BENCH_TXN == BENCH_TXN - 1 || i == messages - 1)
            exec(db, "COMMIT");
    }
    sqlite3_finalize(st);
}

static uint64_t read_all(sqlite3 *db, int messages)
{
    sqlite3_stmt *st = NULL;
    uint64_t sum = 0;
    int n = 0;
    if (sqlite3_prepare_v2(db, "SELECT id, body FROM messages ORDER BY id", -1, &st, NULL) !=
        SQLITE_OK)
        die(db, "prepare read");
    while (sqlite3_step(st) == SQLITE_ROW) {
        const unsigned char *b = sqlite3_column_blob(st, 1);
        int len = sqlite3_column_bytes(st, 1);
        for (int i = 0; i < len; i += 64)
            sum += b[i];
        sum += (uint64_t)len;
        n++;
    }
    sqlite3_finalize(st);
    if (n != messages)
        die(db, "read back a wrong number of messages");
    return sum;
}

static long long search_all(sqlite3 *db)
{
    sqlite3_stmt *st = NULL;
    long long hits = 0;
    char pat[64];
    if (sqlite3_prepare_v2(db, "SELECT count(*) FROM messages WHERE header LIKE ?", -1, &st,
                           NULL) != SQLITE_OK)
        die(db, "prepare search");
    for (int i = 0; i < BENCH_SEARCHES; i++) {
        snprintf(pat, sizeof pat, "%%Subject: %s %s%%", words[i % NWORDS],
                 words[(i * 7 + 3) % NWORDS]);
        sqlite3_bind_text(st, 1, pat, -1, SQLITE_TRANSIENT);
        if (sqlite3_step(st) != SQLITE_ROW)
            die(db, "search");
        hits += sqlite3_column_int64(st, 0);
        sqlite3_reset(st);
    }
    sqlite3_finalize(st);
    return hits;
}

static sqlite3 *open_plain(const char *path)
{
    sqlite3 *db = NULL;
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) != SQLITE_OK)
        die(db, "open plain");
    sqlite3_busy_timeout(db, VFS_BUSY_TIMEOUT_MS);
    exec(db, "PRAGMA temp_store=MEMORY; PRAGMA mmap_size=0;");
    int reserve = VFS_RESERVE_BYTES;
    sqlite3_file_control(db, "main", SQLITE_FCNTL_RESERVE_BYTES, &reserve);
    exec(db, "SELECT count(*) FROM sqlite_schema");
    exec(db, "PRAGMA journal_mode=WAL");
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

static bench_times run(const char *dir, const char *name, const keys_secret *key, int messages,
                       const unsigned char *pool)
{
    char path[4096];
    bench_times t;
    snprintf(path, sizeof path, "%s/%s", dir, name);
    remove_db(path);
    sqlite3 *db = key != NULL ? open_encrypted(path, key) : open_plain(path);
    const char *cache = getenv("STORE_BENCH_CACHE_KIB");
    if (cache != NULL && atoi(cache) > 0) {
        char sql[64];
        snprintf(sql, sizeof sql, "PRAGMA cache_size=-%d", atoi(cache));
        exec(db, sql);
    }
    exec(db, "CREATE TABLE messages(id INTEGER PRIMARY KEY, mailbox INTEGER, flags INTEGER, "
             "header TEXT, body BLOB)");
    double t0 = now();
    append_all(db, messages, pool);
    double t1 = now();
    uint64_t sum = read_all(db, messages);
    double t2 = now();
    long long hits = search_all(db);
    double t3 = now();
    t.append = t1 - t0;
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
    rng_state = 42;
    unsigned char *pool = make_pool();
    printf("%d messages of %d..%d bytes, transactions of %d, %d LIKE searches, cache %s KiB\n",
           messages, BENCH_MIN_SIZE, BENCH_MAX_SIZE, BENCH_TXN, BENCH_SEARCHES,
           getenv("STORE_BENCH_CACHE_KIB") != NULL ? getenv("STORE_BENCH_CACHE_KIB") : "default");
    /* Plain first, then encrypted, then both again; the best of the two
     * runs of each counts (the first run warms the page cache). */
    bench_times p1 = run(dir, "plain.db", NULL, messages, pool);
    bench_times e1 = run(dir, "enc.db", key, messages, pool);
    bench_times p2 = run(dir, "plain.db", NULL, messages, pool);
    bench_times e2 = run(dir, "enc.db", key, messages, pool);
    double p = fmin(p1.append + p1.read + p1.search, p2.append + p2.read + p2.search);
    double e = fmin(e1.append + e1.read + e1.search, e2.append + e2.read + e2.search);
    printf("plain best: %.3f s\nencrypted best: %.3f s\n", p, e);
    printf("encrypted/plain ratio: %.2f\n", e / p);
    free(pool);
    keys_secret_free(&key);
    return 0;
}
