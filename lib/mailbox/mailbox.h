/* mailbox: a user's open mail store, the pieces joined together.
 *
 * The workers (IMAP, POP3, SMTP, DAV) hold one of these per logged-in user:
 * the encrypted SQLite store (lib/vfs) with the mail model (lib/store), the
 * user's X25519 secret key taken from inside the store, and the drain that
 * moves sealed spool files (lib/spool) into INBOX with their IMAP metadata
 * computed by lib/mime. See DESIGN.md "Storage and keys" and "Mail flow".
 *
 * Secret key: DESIGN.md keeps the X25519 secret key "under the store key".
 * The directory carries it sealed under the store key (keys_x25519_new); the
 * first mailbox_open() opens that seal and saves the 32 bytes in the table
 * mailbox_keys inside the encrypted store (created by this library, not by
 * the store schema). Later opens read it from there and check it against the
 * public key they are given (and that pk = X25519(sk)): a store never runs
 * with a key pair that does not match the directory's public key.
 *
 * Messages are stored with CRLF line ends (mailbox_normalize_crlf): the size
 * IMAP reports (RFC822.SIZE, RFC 9051 7.5.2) is then the size of what FETCH
 * sends, and the BODYSTRUCTURE sizes and line counts match the stored bytes.
 */
#ifndef OWNMAIL_MAILBOX_H
#define OWNMAIL_MAILBOX_H

#include <sqlite3.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "keys.h"
#include "store.h"

#define MAILBOX_ERR_LEN 256 /* a good size for the err buffers */
#define MAILBOX_PATH_MAX 4096
/* Largest spooled message the drain takes (bytes as spooled): CRLF
 * normalisation at most doubles it, and the result must fit STORE_MSG_MAX. */
#define MAILBOX_MSG_MAX ((size_t)STORE_MSG_MAX / 2)
/* A drain commits once per batch: at most this many messages ... */
#define MAILBOX_DRAIN_BATCH_DEFAULT 64
#define MAILBOX_DRAIN_BATCH_MAX 1024
/* ... and stops taking messages once it holds this many bytes. */
#define MAILBOX_DRAIN_BATCH_BYTES ((size_t)32 << 20)
#define MAILBOX_PREVIEW_CHARS 200  /* RFC 8970 3.1: SHOULD be at most 200 characters */
#define MAILBOX_PREVIEW_SCAN 16384 /* encoded body bytes read to build a preview */
#define MAILBOX_INDEX_TEXT_MAX ((size_t)1 << 20) /* bytes of text handed to the index */

typedef enum {
    MAILBOX_OK = 0,
    MAILBOX_ERR_WRONG_KEY,    /* the store key does not open the store: "wrong credential" */
    MAILBOX_ERR_KEY_MISMATCH, /* the key pair given does not match the one in the store */
    MAILBOX_ERR_NO_SECRET,    /* first open without a sealed secret key */
    MAILBOX_ERR_CORRUPT,      /* the store failed authentication or is corrupt */
    MAILBOX_ERR_IO,           /* file system or SQLite failure (err says which) */
    MAILBOX_ERR_STORE,        /* lib/store failed (err / store_strerror says which) */
    MAILBOX_ERR_QUOTA,        /* a spooled message did not fit the quota: it stays spooled */
    MAILBOX_ERR_SPOOL,        /* a spooled message does not open or is too big: it stays */
    MAILBOX_ERR_INVALID,      /* a caller error: NULL, bad store id, bad lengths */
    MAILBOX_ERR_NOMEM,
} mailbox_result;

const char *mailbox_strerror(mailbox_result r);

typedef struct mailbox mailbox;

/* ---- Opening (open.c) ---------------------------------------------------- */

/* Opens (creating when missing) <data_dir>/stores/<store_id>.db (stores/ is
 * created with mode 0700) through vfs_open_store under store_key, attaches
 * and migrates it (store_attach), creates the default mailboxes
 * (store_ensure_defaults) and computes the SORT keys the store lacks
 * (mailbox_sort_backfill; a failure there is logged, not returned: SORT
 * then answers STORE_ERR_SORT_KEYS until a backfill succeeds).
 *
 * pk is the user's X25519 public key (from the directory). sealed_sk /
 * sealed_len is the secret key sealed under the store key
 * (keys_x25519_new); it is needed only on the first open of a store (it
 * may be NULL afterwards): the opened key is saved inside the store.
 *
 * Errors: MAILBOX_ERR_WRONG_KEY when store_key does not open the store,
 * MAILBOX_ERR_KEY_MISMATCH when pk is not the store's public key or the
 * sealed key does not open under store_key for pk, MAILBOX_ERR_NO_SECRET on
 * a first open without sealed_sk. err (errlen bytes, may be NULL) gets a
 * sentence. On success *r is the open mailbox. The caller may free
 * store_key afterwards. */
mailbox_result mailbox_open(const char *data_dir, const char *store_id,
                            const keys_secret *store_key,
                            const unsigned char pk[KEYS_X25519_PK_LEN],
                            const unsigned char *sealed_sk, size_t sealed_len, mailbox **r,
                            char *err, size_t errlen);

/* Closes the store, zeroes and frees the secret key; sets *m NULL. */
void mailbox_close(mailbox **m);

/* The store connection: pass it to the lib/store functions. */
sqlite3 *mailbox_db(mailbox *m);
/* The X25519 secret key (KEYS_X25519_SK_LEN bytes), owned by m. */
const keys_secret *mailbox_sk(mailbox *m);
/* The public key given to mailbox_open. */
const unsigned char *mailbox_pk(mailbox *m);
const char *mailbox_store_id(mailbox *m);

/* ---- Metadata (meta.c, pure) ---------------------------------------------- */

/* Parses raw[0..len) (after mailbox_normalize_crlf) and fills meta (every
 * string malloc'd, any may be NULL when the header is absent): ENVELOPE,
 * BODY and BODYSTRUCTURE; the decoded From, To, Cc, Subject and Date fields
 * (SORT, SEARCH); sent_date from Date: (RFC 5322 3.3, obsolete forms of 4.3
 * accepted; 0 when unparseable); Message-ID, In-Reply-To and References
 * unfolded but not decoded (THREAD, RFC 5256); a preview (RFC 8970: the
 * first MAILBOX_PREVIEW_CHARS characters of the first text part that is not
 * an attachment, text/plain preferred, HTML tags stripped, white space
 * collapsed; "" when there is none); index_text for full-text search
 * (mime_index_text: decoded Subject, From, To, Cc and text parts, at most
 * MAILBOX_INDEX_TEXT_MAX bytes). A malformed message still gets metadata.
 * MAILBOX_ERR_NOMEM is the only error (meta is then all NULL). */
mailbox_result mailbox_meta_from_mime(const char *raw, size_t len, store_msg_meta *meta);
/* Also the SORT keys (RFC 5256 3, RFC 5957 2): sort_subject the base
 * subject of the decoded Subject (mime_subject_base); sort_from, sort_to,
 * sort_cc the local part of the first address of From, To, Cc (a group:
 * its decoded name); display_from, display_to the decoded display-name of
 * the first address of From, To, else its addr-spec ("local@domain"); ""
 * when absent, never NULL. */
/* Wipes and frees the strings of a meta filled by mailbox_meta_from_mime and
 * zeroes it; a zeroed meta is fine. */
void mailbox_meta_free(store_msg_meta *meta);

/* ---- SORT keys of older messages (backfill.c) ------------------------------- */

/* Bodies per transaction of the backfill. */
#define MAILBOX_SORT_BACKFILL_BATCH 256

/* Computes the SORT keys of every body that lacks them (stored before
 * store schema version 5, or appended without them): each one's raw
 * header through mailbox_meta_from_mime, stored with store_sort_keys_set,
 * MAILBOX_SORT_BACKFILL_BATCH bodies per transaction so that other
 * sessions get the store between batches. Nothing to do costs one indexed
 * lookup. *filled_r (may be NULL) gets the number of bodies filled. Errors:
 * MAILBOX_ERR_STORE, MAILBOX_ERR_NOMEM (what was committed stays). */
mailbox_result mailbox_sort_backfill(mailbox *m, size_t *filled_r, char *err, size_t errlen);

/* Appends in[0..len) to out with every bare LF turned into CRLF (RFC 5322
 * 2.3: CR and LF only occur together). A bare CR is kept as is, as most
 * servers do. 0, or -1 when out's cap is reached or memory runs out. */
int mailbox_normalize_crlf(const char *in, size_t len, buf *out);

/* The Unix time of an RFC 5322 date-time (section 3.3, with the obsolete
 * syntax of 4.3: two-digit years, named zones, comments), or 0 when it does
 * not parse. Pure. */
int64_t mailbox_parse_date(const char *s, size_t len);

/* ---- Spool drain (drain.c) -------------------------------------------------- */

/* Moves every message of <spool_dir>/<store id>/ into INBOX, exactly once.
 * In batches (at most the batch size in messages, MAILBOX_DRAIN_BATCH_BYTES
 * in bytes): the spooled files are opened and normalised first, then one
 * store transaction records each spool id as a delivery
 * (store_delivery_record) and appends the message; after the commit the
 * spool files are removed. A message whose id was recorded before (a
 * drainer that died after its commit, or another drainer that got there
 * first) is only removed from the spool. Two drainers serialise on the
 * store's write lock; a drainer killed at any point loses nothing and
 * duplicates nothing.
 *
 * The internal date of a message is when it was spooled (the spool id
 * starts with it). A message that does not fit the quota, does not open or
 * is over MAILBOX_MSG_MAX stays in the spool and the drain goes on with the
 * others; the result is then the error of the first such message
 * (MAILBOX_ERR_QUOTA, MAILBOX_ERR_SPOOL); a stored message whose spool file
 * cannot be removed gives MAILBOX_ERR_IO (the next drain removes it). A
 * store failure stops the drain (what was committed stays committed).
 * *moved_r (may be NULL) is the number of messages this call appended. */
mailbox_result mailbox_drain(mailbox *m, const char *spool_dir, size_t *moved_r);

/* Test hook: where a drain is. n counts messages of this drain call
 * (appended, committed or removed so far). */
typedef enum {
    MAILBOX_DRAIN_APPENDED,  /* a message appended, its transaction not committed */
    MAILBOX_DRAIN_COMMITTED, /* a batch committed, its spool files not yet removed */
    MAILBOX_DRAIN_REMOVED,   /* a spool file removed */
} mailbox_drain_point;
typedef void (*mailbox_drain_hook)(void *ctx, mailbox_drain_point at, size_t n);

typedef struct {
    size_t batch;            /* messages per transaction, <= MAILBOX_DRAIN_BATCH_MAX; 0 = default */
    mailbox_drain_hook hook; /* NULL: none */
    void *hook_ctx;
    char *err; /* may be NULL: a sentence about the first error */
    size_t errlen;
} mailbox_drain_options;

/* mailbox_drain with options (o NULL = defaults). */
mailbox_result mailbox_drain_with(mailbox *m, const char *spool_dir, const mailbox_drain_options *o,
                                  size_t *moved_r);

#endif
