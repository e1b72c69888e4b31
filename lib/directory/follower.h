/* follower: keeps a directory (directory.h) in step with the api.
 *
 * One thread per follower (DESIGN.md "Processes"):
 *   1. connect to Redis;
 *   2. load a snapshot, GET /internal/v1/directory with
 *      "Authorization: Bearer <worker secret>" (CivetWeb client, body at most
 *      DIRECTORY_SNAPSHOT_MAX bytes);
 *   3. follow the stream: XREAD COUNT 500 BLOCK <block_ms> STREAMS <stream>
 *      <seq>-0, applying the entries in order.
 * An entry whose seq is not last + 1 (a gap: trimmed stream, an event we
 * missed, a stream that restarted empty) or that does not apply makes it
 * re-snapshot. A lost Redis connection is re-made with backoff (100 ms
 * doubling to 2 s) and always followed by a re-snapshot, since events may
 * have been published while it was gone. Snapshot failures (api down) are
 * retried with the same backoff. A snapshot is loaded even while Redis is
 * down, so a worker started without Redis still gets a directory.
 *
 * Readers take a shared lock (directory_follower_with, or the
 * read_lock/read_unlock pair); the follower thread takes it exclusively only
 * to swap in a new snapshot or to apply a batch of entries.
 */
#ifndef OWNMAIL_DIRECTORY_FOLLOWER_H
#define OWNMAIL_DIRECTORY_FOLLOWER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "directory.h"

#define DIRECTORY_FOLLOWER_STREAM "ownmail:feed"
#define DIRECTORY_FOLLOWER_BLOCK_MS 500      /* default XREAD BLOCK */
#define DIRECTORY_FOLLOWER_BLOCK_MS_MAX 5000 /* stop latency grows with it */
#define DIRECTORY_FOLLOWER_XREAD_COUNT 500
#define DIRECTORY_FOLLOWER_BACKOFF_MIN_MS 100
#define DIRECTORY_FOLLOWER_BACKOFF_MAX_MS 2000
#define DIRECTORY_FOLLOWER_HTTP_TIMEOUT_MS 30000 /* waiting for the response head */
#define DIRECTORY_FOLLOWER_SECRET_MAX 1024       /* bytes of the bearer token */
#define DIRECTORY_FOLLOWER_HOST_MAX 255

typedef struct directory_follower directory_follower;

/* Called on the follower thread after each change (a snapshot loaded, a
 * batch of entries applied) with the new seq, outside the lock: it may call
 * the readers below on f, but must not stop it. */
typedef void directory_follower_change_fn(void *ctx, directory_follower *f, uint64_t seq);

typedef struct directory_follower_config {
    const char *api_host; /* "127.0.0.1" */
    int api_port;
    /* The bearer token: printable ASCII (0x21..0x7e), 1..SECRET_MAX bytes.
     * Copied into secure memory. See directory_follower_secret_from_file
     * for turning the key file's bytes into it. */
    const unsigned char *worker_secret;
    size_t worker_secret_len;
    const char *redis_host;
    int redis_port;
    const char *stream;                      /* NULL: DIRECTORY_FOLLOWER_STREAM */
    int block_ms;                            /* 0: DIRECTORY_FOLLOWER_BLOCK_MS; 1..BLOCK_MS_MAX */
    directory_follower_change_fn *on_change; /* optional */
    void *on_change_ctx;
} directory_follower_config;

/* Starts the thread. 0, or -1 with a static reason in *error_r (bad config,
 * out of memory, no thread). It does not wait for the first snapshot: see
 * directory_follower_wait_loaded. */
int directory_follower_start(const directory_follower_config *cfg, directory_follower **r,
                             const char **error_r);
/* Stops the thread (within about block_ms, or the time a snapshot transfer
 * in progress takes) and frees everything; sets *f NULL. */
void directory_follower_stop(directory_follower **f);

/* Runs fn with the directory under the shared lock; returns fn's result.
 * The directory is never NULL (empty at seq 0 before the first snapshot). */
typedef int directory_follower_with_fn(void *ctx, const directory *d);
int directory_follower_with(directory_follower *f, directory_follower_with_fn *fn, void *ctx);
/* The same as a pair; every read_lock needs its read_unlock. Do not nest
 * read locks on one thread: the lock prefers the writer, so a nested
 * read_lock can wait for a writer that waits for the outer one. */
const directory *directory_follower_read_lock(directory_follower *f);
void directory_follower_read_unlock(directory_follower *f);

/* Convenience readers, each under the shared lock. */
uint64_t directory_follower_seq(directory_follower *f);
int directory_follower_digest(directory_follower *f, char hex_r[DIRECTORY_DIGEST_HEX_SIZE]);
/* seq and digest of the same state. 0 or -1 (out of memory). */
int directory_follower_status(directory_follower *f, uint64_t *seq_r,
                              char hex_r[DIRECTORY_DIGEST_HEX_SIZE]);
/* True once a snapshot has been loaded. */
bool directory_follower_loaded(directory_follower *f);
/* Waits up to timeout_ms for the first snapshot; true when loaded. */
bool directory_follower_wait_loaded(directory_follower *f, int timeout_ms);

/* One snapshot fetch, no thread, no Redis (cfg's Redis fields are ignored):
 * a new directory in *dir_r, or -1 with a reason in err (err_size bytes). */
int directory_follower_fetch_snapshot(const directory_follower_config *cfg, directory **dir_r,
                                      char *err, size_t err_size);

/* The bearer token for the contents of keys/worker.secret (raw key bytes):
 * their lowercase hex, as the api expects (api/main.c). *token_r is
 * sodium_malloc'd and NUL-terminated: release it with sodium_free. 0, or -1
 * when empty, over DIRECTORY_FOLLOWER_SECRET_MAX / 2 bytes or out of memory. */
int directory_follower_secret_from_file(const unsigned char *bytes, size_t len, char **token_r,
                                        size_t *token_len_r);

#endif
