/* spool: mail waiting for a user whose store is closed, sealed to the user's
 * X25519 public key so that the server alone cannot read it.
 *
 * A spooled message is one file, data/spool/<store id>/<message id>.msg:
 *
 *   offset  len   field
 *        0    8   magic "OMSPOOL1"
 *        8   80   crypto_box_seal(file key) to the user's public key
 *       88   24   crypto_secretstream_xchacha20poly1305 header
 *      112  ...   chunks of at most SPOOL_CHUNK plaintext bytes, each + 17
 *                 bytes; the last one tagged FINAL
 *
 * The file key is random per message. Every chunk carries the associated
 * data "<store id>/<message id>", so a file renamed or moved to another
 * spool does not open. The message is encrypted as it is read, chunk by
 * chunk: no plaintext is ever written, not even to a temporary file, and the
 * message is never held whole in memory by spool_put.
 *
 * spool_put writes tmp-<id> (O_EXCL, mode 0600), fsyncs it, renames it to
 * <id>.msg and fsyncs the directory before it returns success: a message it
 * acknowledged survives a crash. A tmp-* file is an unfinished put and is
 * never listed.
 */
#ifndef OWNMAIL_SPOOL_H
#define OWNMAIL_SPOOL_H

#include "buf.h"
#include "keys.h"

#include <stddef.h>
#include <sys/types.h>

#define SPOOL_MAX_DEFAULT ((size_t)50 * 1024 * 1024) /* largest message */
#define SPOOL_CHUNK (64 * 1024)
#define SPOOL_ID_LEN 32       /* message ids: 16 random bytes as hex */
#define SPOOL_STORE_ID_MAX 64 /* store ids: lowercase hex */
#define SPOOL_LIST_MAX 100000 /* messages listed at once */

typedef enum {
    SPOOL_OK = 0,
    SPOOL_ERR_TOO_BIG,  /* the message is over the maximum: nothing was kept */
    SPOOL_ERR_IO,       /* the file system failed (errno-based text in err) */
    SPOOL_ERR_READ,     /* the message source failed */
    SPOOL_ERR_CORRUPT,  /* does not open: wrong key, altered, truncated, moved */
    SPOOL_ERR_INVALID,  /* a caller error: bad id, NULL */
} spool_result;

const char *spool_strerror(spool_result r);

/* Reads up to len bytes of the message into buf: returns the count, 0 at
 * the end, -1 on error. */
typedef ssize_t (*spool_read_fn)(void *ctx, void *buf, size_t len);

/* Seals a message read from rd into <dir>/<store_id>/ (created, 0700, if
 * missing) and returns its id once it is durable. max: the largest message
 * accepted (0 = SPOOL_MAX_DEFAULT). err (may be NULL) gets a message. */
spool_result spool_put(const char *dir, const char *store_id, const unsigned char pk[32],
                       spool_read_fn rd, void *ctx, size_t max, char id_r[SPOOL_ID_LEN + 1],
                       char *err, size_t errlen);

/* The ids of the finished messages in the spool, oldest put first (ids start
 * with the time); *ids_r is one malloc'd block, free() it. */
spool_result spool_list(const char *dir, const char *store_id, char (**ids_r)[SPOOL_ID_LEN + 1],
                        size_t *n_r);

/* Opens a message into out (use buf_init_secret: it is plaintext) with the
 * user's key pair. */
spool_result spool_open(const char *dir, const char *store_id, const char *id,
                        const unsigned char pk[32], const keys_secret *sk, buf *out);

/* Removes a message (after it is safely in the store); fsyncs the directory. */
spool_result spool_remove(const char *dir, const char *store_id, const char *id);

#endif
