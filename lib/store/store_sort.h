/* lib/store: the order of messages - SORT (RFC 5256 3, RFC 5957 DISPLAY)
 * and THREAD (RFC 5256 3: ORDEREDSUBJECT and REFERENCES).
 *
 * SORT reads keys computed at delivery (store_msg_meta.sort_subject ...
 * display_to, schema/store/005_sort_prune.sql). Bodies stored before that
 * version, or appended without the keys, have none until the backfill
 * computes them from their raw header (lib/mailbox does it when it opens a
 * store: mailbox_sort_backfill); a SORT by a key some message lacks fails
 * with STORE_ERR_SORT_KEYS, never answers in a wrong order.
 *
 * THREAD is a pure module (thread.c): rows in, a tree out, and the IMAP
 * THREAD response text; store_thread_rows() fetches the rows of a mailbox.
 */
#ifndef OM_STORE_SORT_H
#define OM_STORE_SORT_H

#include "store.h"

#include <stdbool.h>

/* ---- SORT (sort.c) ---------------------------------------------------------- */

#define STORE_SORT_KEYS_MAX 16 /* sort criteria in one SORT (RFC 5256 allows repeats) */

/* RFC 5256 3 sort criteria, and RFC 5957 2 DISPLAYFROM / DISPLAYTO. Strings
 * compare with i;ascii-casemap (RFC 4790 9.2, collation OM_CASEMAP); an
 * absent field sorts as "". */
typedef enum {
    STORE_SORT_ARRIVAL,     /* internal date */
    STORE_SORT_CC,          /* addr-mailbox of the first Cc address */
    STORE_SORT_DATE,        /* Date: (RFC 5256 2.2), the internal date when unparseable */
    STORE_SORT_FROM,        /* addr-mailbox of the first From address */
    STORE_SORT_SIZE,        /* RFC822.SIZE */
    STORE_SORT_SUBJECT,     /* base subject (RFC 5256 2.1) */
    STORE_SORT_TO,          /* addr-mailbox of the first To address */
    STORE_SORT_DISPLAYFROM, /* display-name of the first From address, else its addr-spec */
    STORE_SORT_DISPLAYTO,   /* the same for To */
} store_sort_kind;

typedef struct {
    store_sort_kind kind;
    bool reverse; /* REVERSE: this criterion descending */
} store_sort_key;

/* UIDs of the messages of the mailbox that match filter (NULL: all; the
 * same keys and limits as store_search_uids), ordered by keys[0..nkeys)
 * in turn; messages equal on every key stay in UID order, which is the
 * order of their sequence numbers (RFC 5256 3: REVERSE does not reverse
 * this last tie-break). nkeys is 1..STORE_SORT_KEYS_MAX (else
 * STORE_ERR_INVALID). STORE_ERR_SORT_KEYS when a matching message lacks a
 * string key the sort uses: run the backfill, then sort again. */
int store_sort_uids(sqlite3 *db, int64_t mailbox_id, const store_sort_key *keys, size_t nkeys,
                    const store_search *filter, store_uids *uids_r);

/* ---- SORT keys backfill (sort.c) ------------------------------------------ */

#define STORE_SORT_BACKFILL_BATCH_MAX 1024          /* bodies per backfill call */
#define STORE_SORT_BACKFILL_BYTES ((size_t)8 << 20) /* header bytes held by one call */
/* Bytes of a raw header handed to the backfill: the MIME parser reads no
 * more of a header (MIME_DEFAULT_MAX_HEADER_BYTES) either. */
#define STORE_SORT_HEADER_MAX ((size_t)256 << 10)

/* One body whose keys are missing: header[0..len) is the start of its raw
 * message, up to the empty line that ends the header (at most
 * STORE_SORT_HEADER_MAX bytes). Returns 0 to go on, non-zero to stop (the
 * value is returned by store_sort_backfill_next). */
typedef int (*store_sort_backfill_cb)(void *ctx, int64_t body_id, const char *header, size_t len);

/* Reads up to batch (1..STORE_SORT_BACKFILL_BATCH_MAX) bodies whose SORT
 * keys are missing, lowest id first, stopping early once
 * STORE_SORT_BACKFILL_BYTES of header are held; then calls cb for each. cb
 * computes the keys (lib/mailbox: mailbox_meta_from_mime of the header)
 * and stores them with store_sort_keys_set (it may write: no statement is
 * open during the calls). *n_r gets the number of bodies visited: 0 when
 * no body lacks keys. A body that cb leaves without keys comes back on the
 * next call. Wrap a call and its sets in store_begin() / store_commit() to
 * pay one commit per batch. */
int store_sort_backfill_next(sqlite3 *db, size_t batch, store_sort_backfill_cb cb, void *ctx,
                             size_t *n_r);

/* Stores the SORT keys of a body from meta->sort_subject ... display_to (a
 * NULL member is stored as "": computed, absent; each at most
 * STORE_META_MAX bytes). The other members of meta are ignored.
 * STORE_ERR_NOTFOUND when the body is gone. */
int store_sort_keys_set(sqlite3 *db, int64_t body_id, const store_msg_meta *meta);

/* ---- THREAD (thread.c, pure; thread_rows.c) -------------------------------- */

#define STORE_THREAD_REFS_MAX 64      /* message IDs of References used: the last ones */
#define STORE_THREAD_ID_MAX 998       /* bytes of one msg-id; a longer one is not valid */
#define STORE_THREAD_FIELD_MAX 4096   /* characters of Message-ID / In-Reply-To read */
#define STORE_THREAD_REFS_TEXT 16384  /* characters of References read (its end) */
#define STORE_THREAD_SUBJECT_MAX 4096 /* characters of Subject read */
#define STORE_THREAD_NONE SIZE_MAX

typedef enum {
    STORE_THREAD_ORDEREDSUBJECT, /* RFC 5256 3 "ORDEREDSUBJECT" */
    STORE_THREAD_REFERENCES,     /* RFC 5256 3 "REFERENCES" */
} store_thread_algo;

/* One message. The header values are as written (unfolded, not decoded);
 * NULL when absent. sort_subject is the base subject (RFC 5256 2.1; NULL =
 * ""), reply whether the subject was a reply or forward
 * (mime_subject_base_reply), date the sent date (RFC 5256 2.2: the
 * internal date when Date: is unparseable). */
typedef struct {
    uint32_t uid;
    const char *message_id, *in_reply_to, *references;
    const char *sort_subject;
    bool reply;
    int64_t date;
} store_thread_row;

/* A node of the result; uid 0 is a dummy (a message that is referenced but
 * not there: only at the top level, with two children or more). Children
 * and top-level threads are in the order the response lists them. */
typedef struct {
    uint32_t uid;
    size_t first_child, next_sibling; /* STORE_THREAD_NONE when none */
} store_thread_node;

typedef struct {
    store_thread_node *nodes;
    size_t n;
    size_t first; /* the first top-level node; STORE_THREAD_NONE when there is none */
} store_thread_tree;

/* Threads rows[0..n) (any order; UIDs distinct and non-zero, else
 * STORE_ERR_INVALID) with algo, RFC 5256 3. Message IDs are compared
 * case-sensitively after removing quoting (<"a"@b> is <a@b>), as the RFC
 * asks; a message without a valid Message-ID, or with one an earlier UID
 * holds, gets a unique one; only the last STORE_THREAD_REFS_MAX message IDs
 * of References count; links that would make a loop are not made. Subjects
 * compare with i;ascii-casemap. Memory and time grow with n and the
 * references (bounded above), never with anything else; no recursion.
 * Free tree_r with store_thread_tree_free. */
int store_thread_build(store_thread_algo algo, const store_thread_row *rows, size_t n,
                       store_thread_tree *tree_r);
void store_thread_tree_free(store_thread_tree *tree);

/* Maps a UID to the number the response shows (its sequence number, or
 * the UID itself for UID THREAD). Returns 0, or non-zero to stop. */
typedef int (*store_thread_map_cb)(void *ctx, uint32_t uid, uint32_t *num_r);

/* The thread-list text of the THREAD response (RFC 5256 4: "(1 2)(3 (4)(5))",
 * a dummy as "((4)(5))"; "" without messages). map NULL: the UIDs. *out_r is
 * malloc'd and NUL-terminated, *len_r (may be NULL) its length. A non-zero
 * value of map is returned as is. */
int store_thread_format(const store_thread_tree *tree, store_thread_map_cb map, void *ctx,
                        char **out_r, size_t *len_r);

/* The rows of the messages of the mailbox that match filter (NULL: all; as
 * store_search_uids), in UID order, for store_thread_build: base subject
 * and reply flag computed from the decoded Subject (its first
 * STORE_THREAD_SUBJECT_MAX characters), header values cut to the limits
 * above (References keeps its end). Works on bodies stored before schema
 * version 5 too. Free with store_thread_rows_free. */
int store_thread_rows(sqlite3 *db, int64_t mailbox_id, const store_search *filter,
                      store_thread_row **rows_r, size_t *n_r);
void store_thread_rows_free(store_thread_row *rows, size_t n);

#endif
