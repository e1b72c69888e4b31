/* lib/store: the mail model of a user's store, on a sqlite3 handle the caller
 * opened (the encrypted VFS in production, plain SQLite in the tests).
 * Protocol code never writes SQL: it calls this API.
 *
 * Conventions
 * - Functions return STORE_OK (0) or a negative store_rc; store_strerror()
 *   names it, sqlite3_errmsg(db) tells more after STORE_ERR_DB.
 * - Every write runs in one transaction: BEGIN IMMEDIATE when the caller has
 *   none open, else a SAVEPOINT inside the caller's transaction (open it with
 *   store_begin(), never with a plain deferred BEGIN, or a write may fail
 *   with SQLITE_BUSY_SNAPSHOT). A failed call changes nothing.
 * - Operations on the selected mailbox take its id (a rename by another
 *   session does not disturb it; a delete gives STORE_ERR_NOMAILBOX);
 *   operations that name a mailbox (APPEND, COPY, CREATE...) take its name.
 * - Mailbox names are UTF-8 with '/' as the hierarchy delimiter; the first
 *   component "INBOX" is matched case-insensitively (RFC 9051 5.1) and
 *   stored as "INBOX"; every other name is case-sensitive.
 * - MODSEQ (RFC 7162): one store-wide counter; every operation that changes
 *   messages takes the next value, gives it to every message it changed (or
 *   logs it with the UIDs it expunged) and raises the mailbox's
 *   HIGHESTMODSEQ to it.
 *
 * Change notification: every write transaction of this library that changes
 * a row bumps store_change_counter(). A session polls `PRAGMA data_version`
 * (store_data_version()) on its own connection: the value changes only when
 * another connection committed, and reading it touches no table (in WAL mode
 * only the shared-memory index); when it moved, the session re-reads the
 * counter and its mailbox (HIGHESTMODSEQ, UIDNEXT) and fetches what changed
 * since its last MODSEQ (store_msg_foreach(changedsince), store_vanished()).
 * The counter alone serves a poller on another connection or process.
 *
 * Durability: synchronous=FULL, so each committed call costs an fsync of the
 * WAL (about 200 appends/s of 20 KB on the dev machine, 2000/s grouped in one
 * store_begin()/store_commit()); a spool drain should group its appends.
 *
 * Full-text search: store_msg_meta.index_text and the decoded Subject, From,
 * To and Cc are indexed with FTS5 (schema/store/002_fts.sql) for SEARCH
 * BODY and TEXT; see STORE_SK_BODY for how that differs from IMAP's
 * substring match.
 *
 * Calendars and address books (dav.c, dav_sync.c; schema/store/003_dav.sql):
 * collections with a sync token and CTag, objects with href, ETag, UID,
 * component type and the time range CalDAV queries need.
 *
 * SORT (RFC 5256, RFC 5957 DISPLAY) and THREAD (RFC 5256 ORDEREDSUBJECT,
 * REFERENCES): store_sort.h (sort.c, thread.c, thread_tree.c, thread_rows.c; keys in
 * schema/store/005_sort_prune.sql). Pruning of the expunge log, the DAV
 * change logs and the delivery records: store_maintain.h (maintain.c).
 *
 * SQL functions: store_attach() registers on the connection the collation
 * OM_CASEMAP (i;ascii-casemap, RFC 4790 9.2: SORT) and the function
 * om_header_match() (SEARCH HEADER and BCC, search_header.c). They are
 * direct-only: a statement of the schema (view, trigger) cannot use them,
 * so a tool without them still opens the store.
 *
 * Not here yet: \Recent (IMAP4rev1 only; session state); a per-connection
 * cache of prepared statements (each call prepares its statements now).
 */
#ifndef OM_STORE_H
#define OM_STORE_H

#include <sqlite3.h>
#include <stddef.h>
#include <stdint.h>

#define STORE_NAME_MAX 1024         /* bytes of a mailbox name */
#define STORE_NAME_DEPTH_MAX 32     /* components of a mailbox name */
#define STORE_MAILBOXES_MAX 10000   /* mailboxes in one store */
#define STORE_KEYWORD_MAX 128       /* bytes of one keyword */
#define STORE_KEYWORDS_MAX 64       /* keywords on one message */
#define STORE_MSG_MAX (256u << 20)  /* bytes of one raw message */
#define STORE_META_MAX (4u << 20)   /* bytes of one metadata string */
#define STORE_BUSY_TIMEOUT_MS 10000 /* set by store_attach() */
/* Page cache of a store connection, set by store_attach(): up to 16 MiB of
 * (decrypted) pages, taken as they are read. The metadata of a mailbox of
 * 10,000 messages fits, so a second search or FETCH of it reads no file and
 * opens no seal (tests/bench/store.sh). A session that goes idle gives the
 * memory back with sqlite3_db_release_memory(). */
#define STORE_CACHE_KIB 16384

typedef enum {
    STORE_OK = 0,
    STORE_ERR_DB = -1,   /* SQLite error: sqlite3_errmsg(db) */
    STORE_ERR_BUSY = -2, /* the store stayed locked past the busy timeout */
    STORE_ERR_NOMEM = -3,
    STORE_ERR_INVALID = -4,       /* bad argument: name, keyword, size, range */
    STORE_ERR_NOMAILBOX = -5,     /* no such mailbox */
    STORE_ERR_EXISTS = -6,        /* exists: mailbox, a renamed child's new name, delivery key */
    STORE_ERR_NOSELECT = -7,      /* the mailbox is \Noselect */
    STORE_ERR_INBOX = -8,         /* not allowed on INBOX (delete) */
    STORE_ERR_HASCHILDREN = -9,   /* delete of a \Noselect mailbox with inferiors */
    STORE_ERR_NOTFOUND = -10,     /* no message with that UID */
    STORE_ERR_QUOTA = -11,        /* over quota: nothing was stored */
    STORE_ERR_UIDS = -12,         /* UID space of the mailbox exhausted */
    STORE_ERR_SCHEMA = -13,       /* store schema newer than this binary, or broken */
    STORE_ERR_LIMIT = -14,        /* a STORE_*_MAX limit was reached */
    STORE_ERR_PRECONDITION = -15, /* If-Match / If-None-Match failed (HTTP 412) */
    STORE_ERR_SYNC_TOKEN = -16,   /* sync token pruned or unknown (RFC 6578 3.2) */
    STORE_ERR_SORT_KEYS = -17,    /* SORT keys not computed yet: run the backfill (store_sort.h) */
    STORE_ERR_EXPUNGE_LOG = -18,  /* expunge log pruned past that MODSEQ (store_vanished) */
} store_rc;

const char *store_strerror(int rc);

/* ---- Store (store.c) ---------------------------------------------------- */

/* Sets the connection up for the store (busy timeout, WAL, synchronous=FULL,
 * temp_store=MEMORY, mmap off, foreign keys, the SQL functions above) and
 * migrates the schema. err gets a sentence on failure. Call once per
 * connection, before anything else. */
int store_attach(sqlite3 *db, char *err, size_t errlen);

/* Applies the embedded schema/store/NNN_*.sql migrations not yet applied
 * (PRAGMA user_version); refuses a store whose version is newer than this
 * binary knows (STORE_ERR_SCHEMA). */
int store_migrate(sqlite3 *db, char *err, size_t errlen);

/* The highest schema version this binary knows. */
int store_schema_version(void);

/* Groups several store calls into one write transaction (BEGIN IMMEDIATE). */
int store_begin(sqlite3 *db);
int store_commit(sqlite3 *db);
void store_rollback(sqlite3 *db);

int store_change_counter(sqlite3 *db, uint64_t *counter_r);
/* PRAGMA data_version: changes when another connection commits. */
int store_data_version(sqlite3 *db, int64_t *version_r);

/* Quota (RFC 9208 STORAGE): used = sum of message sizes (a copy counts
 * again); limit 0 = unlimited. */
int store_quota_get(sqlite3 *db, uint64_t *used_r, uint64_t *limit_r);
int store_quota_set_limit(sqlite3 *db, uint64_t limit);

/* ---- UID sets and lists -------------------------------------------------- */

typedef struct {
    uint32_t first, last; /* inclusive, first <= last */
} store_range;

typedef struct {
    const store_range *ranges;
    size_t n;
} store_uidset;

/* A list the library fills (zero-initialise it; free with store_uids_free). */
typedef struct {
    uint32_t *uids;
    size_t n, cap;
} store_uids;

void store_uids_free(store_uids *u);

/* ---- Mailboxes (mailbox.c) ----------------------------------------------- */

/* Special use (RFC 6154). */
#define STORE_USE_SENT 0x01u
#define STORE_USE_DRAFTS 0x02u
#define STORE_USE_TRASH 0x04u
#define STORE_USE_JUNK 0x08u
#define STORE_USE_ARCHIVE 0x10u
#define STORE_USE_ALL_BITS 0x1fu

/* Attributes reported by list (RFC 9051 7.3.1). */
#define STORE_MBX_NOSELECT 0x01u
#define STORE_MBX_HASCHILDREN 0x02u
#define STORE_MBX_SUBSCRIBED 0x04u

typedef struct {
    int64_t id;
    char name[STORE_NAME_MAX + 1];
    uint32_t uidvalidity;
    uint64_t uidnext; /* 2^32 when the UID space is used up */
    uint64_t highestmodseq;
    unsigned special_use; /* STORE_USE_* */
    unsigned attrs;       /* STORE_MBX_* */
} store_mailbox;

typedef struct {
    uint32_t messages, unseen, deleted;
    uint64_t size; /* sum of message sizes */
} store_status;

/* Creates INBOX and Sent, Drafts, Trash, Junk, Archive (with their
 * special-use attributes, subscribed) the first time it runs on a store;
 * afterwards it only makes sure INBOX exists. */
int store_ensure_defaults(sqlite3 *db);

/* Creates a mailbox and any missing superior names (RFC 9051 6.3.4). A
 * \Noselect name becomes selectable with a new UIDVALIDITY. */
int store_mailbox_create(sqlite3 *db, const char *name, unsigned special_use);

/* RFC 9051 6.3.5: INBOX is refused; a mailbox with inferiors loses its
 * messages and becomes \Noselect; a \Noselect one with inferiors is refused. */
int store_mailbox_delete(sqlite3 *db, const char *name);

/* RFC 9051 6.3.6: inferiors follow; missing superiors of the new name are
 * created; renaming INBOX moves it (messages, UIDVALIDITY) to the new name
 * and leaves a new empty INBOX (its inferiors stay). Subscriptions of the
 * renamed names follow them. */
int store_mailbox_rename(sqlite3 *db, const char *from, const char *to);

int store_mailbox_get(sqlite3 *db, const char *name, store_mailbox *mb_r);
int store_mailbox_get_by_id(sqlite3 *db, int64_t id, store_mailbox *mb_r);
int store_mailbox_status(sqlite3 *db, int64_t id, store_status *st_r);

/* Every mailbox, sorted by name, with attributes. Free with free(). */
int store_mailbox_list(sqlite3 *db, store_mailbox **list_r, size_t *n_r);

/* Keywords used in a mailbox, for FLAGS (space separated; free()). */
int store_mailbox_keywords(sqlite3 *db, int64_t id, char **keywords_r);

int store_subscribe(sqlite3 *db, const char *name);
int store_unsubscribe(sqlite3 *db, const char *name);
/* Subscribed names, also those without a mailbox. Free with
 * store_names_free. */
int store_subscriptions(sqlite3 *db, char ***names_r, size_t *n_r);
void store_names_free(char ***names, size_t n);

/* Normalises a mailbox name (INBOX prefix) into out; STORE_ERR_INVALID for
 * an empty component, a leading or trailing '/', '*' or '%', control
 * characters, bad UTF-8 or over the limits. */
int store_name_normalize(const char *name, char out[STORE_NAME_MAX + 1]);

/* ---- Messages (message.c) ------------------------------------------------ */

/* System flags (RFC 9051 2.3.2). */
#define STORE_FLAG_SEEN 0x01u
#define STORE_FLAG_ANSWERED 0x02u
#define STORE_FLAG_FLAGGED 0x04u
#define STORE_FLAG_DELETED 0x08u
#define STORE_FLAG_DRAFT 0x10u
#define STORE_FLAG_ALL 0x1fu

/* What the MIME parser computed at delivery; every member may be NULL.
 * Kept verbatim and returned by store_fetch_info() (index_text: indexed). */
typedef struct {
    const char *envelope;                        /* RFC 9051 ENVELOPE, as sent on the wire */
    const char *bodystructure;                   /* BODY (no extension data) */
    const char *bodystructure_ext;               /* BODYSTRUCTURE (with extension data) */
    const char *from, *to, *cc, *subject, *date; /* decoded header fields (SORT) */
    int64_t sent_date; /* Date: as Unix time; 0 = unparseable (SORT uses internal date) */
    const char *message_id, *in_reply_to, *references; /* THREAD */
    const char *preview;                               /* RFC 8970 PREVIEW text */
    /* The decoded text of the text parts (UTF-8, e.g. mime_index_text()),
     * indexed for SEARCH BODY / TEXT together with subject, from, to and cc;
     * at most STORE_META_MAX bytes. NULL: not indexed, those searches look
     * at the raw message instead. Not returned by store_fetch_info(). */
    const char *index_text;
    /* SORT keys (schema/store/005_sort_prune.sql; not returned by
     * store_fetch_info()): the base subject (RFC 5256 2.1); the
     * addr-mailbox of the first From, To, Cc address (RFC 5256 3); the
     * display-name of the first From, To address, else its addr-spec (RFC
     * 5957 2); "" when absent. NULL: not computed, the body waits for the
     * backfill (store_sort_backfill_next) and SORT by that key fails with
     * STORE_ERR_SORT_KEYS until then. Add new members after these. */
    const char *sort_subject;
    const char *sort_from, *sort_to, *sort_cc;
    const char *display_from, *display_to;
} store_msg_meta;

/* Appends raw (its size is len: RFC822.SIZE) to the named mailbox with the
 * given flags (STORE_FLAG_*) and keywords (NULL-terminated, may be NULL).
 * internal_date is Unix time (0 = now). STORE_ERR_QUOTA when it would go over
 * the quota: nothing is stored. uid_r / modseq_r may be NULL. */
int store_append(sqlite3 *db, const char *mailbox, const void *raw, size_t len,
                 int64_t internal_date, unsigned flags, const char *const *keywords,
                 const store_msg_meta *meta, uint32_t *uid_r, uint64_t *modseq_r);

/* A message's metadata; strings are malloc'd (NULL when absent). */
typedef struct {
    uint32_t uid;
    uint64_t modseq;
    unsigned flags;
    char *keywords; /* space separated, "" when none */
    int64_t internal_date;
    uint64_t size;
    uint64_t header_len; /* bytes of the header including the empty line */
    int64_t sent_date;
    char *envelope, *bodystructure, *bodystructure_ext;
    char *from, *to, *cc, *subject, *date, *message_id, *in_reply_to, *references;
    char *preview;
} store_msg_info;

int store_fetch_info(sqlite3 *db, int64_t mailbox_id, uint32_t uid, store_msg_info *info_r);
void store_msg_info_free(store_msg_info *info);

/* Reads at most maxlen bytes of the raw message from offset (IMAP partial
 * fetch "<offset.maxlen>"; BODY[HEADER] is offset 0, maxlen header_len).
 * *data_r is malloc'd (non-NULL even when *len_r is 0). Streams from the
 * blob: only the requested range is read. */
int store_fetch_raw(sqlite3 *db, int64_t mailbox_id, uint32_t uid, uint64_t offset, uint64_t maxlen,
                    unsigned char **data_r, size_t *len_r);

/* One message of a listing. keywords is valid during the callback only. */
typedef struct {
    uint32_t uid;
    uint64_t modseq;
    unsigned flags;
    const char *keywords;
    int64_t internal_date;
    uint64_t size;
} store_msg_row;

/* Calls cb for every message of the mailbox in UID order whose MODSEQ is
 * greater than changedsince (0: all). cb returns 0 to go on, non-zero to
 * stop (returned as is). cb must not write to the store. */
typedef int (*store_msg_cb)(void *ctx, const store_msg_row *row);
int store_msg_foreach(sqlite3 *db, int64_t mailbox_id, uint64_t changedsince, store_msg_cb cb,
                      void *ctx);
/* The same for the UIDs first..last only (an index range: FETCH 5 FLAGS in a
 * big mailbox reads one row). */
int store_msg_foreach_range(sqlite3 *db, int64_t mailbox_id, uint64_t changedsince, uint32_t first,
                            uint32_t last, store_msg_cb cb, void *ctx);

/* COPYUID data (RFC 4315): src.uids[i] was copied to dst.uids[i]. */
typedef struct {
    uint32_t uidvalidity; /* of the target */
    store_uids src, dst;
    uint64_t modseq; /* of the target's change */
} store_copy_result;

void store_copy_result_free(store_copy_result *res);

/* Copies the messages of set (UIDs that do not exist are skipped; a NULL
 * or empty set copies nothing) to the
 * named mailbox with their flags and keywords, new UIDs in the target.
 * STORE_ERR_QUOTA when the copies do not fit. */
int store_copy(sqlite3 *db, int64_t mailbox_id, const store_uidset *set, const char *target,
               store_copy_result *res_r);

/* RFC 6851: copy + expunge of the originals in one transaction; the
 * expunged UIDs are res_r->src (logged for VANISHED). No quota check. */
int store_move(sqlite3 *db, int64_t mailbox_id, const store_uidset *set, const char *target,
               store_copy_result *res_r);

/* Removes the messages flagged \Deleted (only those in set when set is not
 * NULL: UID EXPUNGE), logs their UIDs with a new MODSEQ; expunged_r (may be
 * NULL) gets the UIDs, modseq_r (may be NULL) the MODSEQ (0 when nothing was
 * expunged). */
int store_expunge(sqlite3 *db, int64_t mailbox_id, const store_uidset *set, store_uids *expunged_r,
                  uint64_t *modseq_r);

/* UIDs expunged with a MODSEQ greater than since (RFC 7162 VANISHED
 * (EARLIER)); only those in set when set is not NULL.
 * STORE_ERR_EXPUNGE_LOG (uids_r empty) when since is below the mailbox's
 * vanished floor: the log was pruned (store_expunged_prune, store_maintain.h)
 * and no longer holds every UID expunged after since. The server then falls
 * back to RFC 7162 3.2.5.1: it reports as vanished every UID of the client's
 * known range (or 1:UIDNEXT-1) that is not in the mailbox
 * (store_search_uids of ALL gives those that are). */
int store_vanished(sqlite3 *db, int64_t mailbox_id, uint64_t since, const store_uidset *set,
                   store_uids *uids_r);

/* ---- Flags (flags.c) ----------------------------------------------------- */

typedef enum {
    STORE_FLAGS_ADD,     /* +FLAGS */
    STORE_FLAGS_REMOVE,  /* -FLAGS */
    STORE_FLAGS_REPLACE, /* FLAGS */
} store_flag_op;

typedef struct {
    store_uids changed;  /* messages whose flags changed (send FETCH FLAGS) */
    store_uids modified; /* RFC 7162 3.1.3: refused by UNCHANGEDSINCE (MODIFIED) */
    uint64_t modseq;     /* given to the changed messages; 0 if none changed */
} store_flags_result;

void store_flags_result_free(store_flags_result *res);

/* STORE / UID STORE on the messages of set (missing UIDs skipped; "1:*" is
 * the range 1..UINT32_MAX; a NULL or empty set changes nothing). With
 * unchangedsince (non-zero: RFC 7162 UNCHANGEDSINCE), a message whose MODSEQ
 * is greater is not changed and is listed in res_r->modified. A message
 * whose flags would not change keeps its MODSEQ. */
int store_set_flags(sqlite3 *db, int64_t mailbox_id, const store_uidset *set, store_flag_op op,
                    unsigned flags, const char *const *keywords, uint64_t unchangedsince,
                    store_flags_result *res_r);

/* 1 when kw is a valid keyword atom (RFC 9051 flag-keyword), else 0. */
int store_keyword_valid(const char *kw);

/* ---- Exactly-once delivery (delivery.c) ------------------------------------ */

#define STORE_DELIVERY_KEY_MAX 128 /* bytes of a delivery key */

/* Records that the delivery named key (a spool message id) is stored;
 * STORE_ERR_EXISTS when it was already. A spool drain does, per message:
 *   store_begin(db);
 *   rc = store_delivery_record(db, id);        EXISTS: stored before
 *   if (rc == STORE_OK) rc = store_append(db, "INBOX", ...);
 *   rc == STORE_OK ? store_commit(db) : store_rollback(db);
 *   then, on STORE_OK or STORE_ERR_EXISTS, spool_remove() the file.
 * Two drainers serialise on the write lock; a drainer that dies after the
 * commit leaves a record that makes the next one only remove the file. */
int store_delivery_record(sqlite3 *db, const char *key);

/* Forgets records older than the Unix time older_than (kept at least as
 * long as a spool file can outlive its delivery). */
int store_delivery_prune(sqlite3 *db, int64_t older_than);

/* ---- Search (search.c) --------------------------------------------------- */

#define STORE_SEARCH_DEPTH_MAX 16   /* nesting of AND / OR / NOT */
#define STORE_SEARCH_NODES_MAX 256  /* nodes in one search */
#define STORE_SEARCH_PARAMS_MAX 512 /* bound values (a UID range, BODY, TEXT take two) */
#define STORE_SEARCH_STR_MAX 4096   /* bytes of one search string */
#define STORE_SEARCH_FIELD_MAX 256  /* bytes of a HEADER field name */
/* Bytes of a message's header that HEADER and BCC look at (a field past
 * them is not seen); the header ends at the first empty line. */
#define STORE_SEARCH_HEADER_MAX (256u << 10)

/* RFC 9051 6.4.4 search keys. The IMAP layer maps message sequence numbers
 * to UIDs, dates to the Unix time of 00:00 of that day, and the flag keys
 * (ANSWERED, UNSEEN, ...) to FLAGS_SET / FLAGS_CLEAR masks. */
typedef enum {
    STORE_SK_ALL,
    STORE_SK_AND,         /* every kid matches */
    STORE_SK_OR,          /* one kid matches */
    STORE_SK_NOT,         /* kids[0] does not match */
    STORE_SK_UID,         /* uids */
    STORE_SK_FLAGS_SET,   /* every flag of mask set */
    STORE_SK_FLAGS_CLEAR, /* no flag of mask set */
    STORE_SK_KEYWORD,     /* str */
    STORE_SK_UNKEYWORD,   /* str */
    STORE_SK_BEFORE,      /* internal date before day num */
    STORE_SK_ON,
    STORE_SK_SINCE,
    STORE_SK_SENTBEFORE, /* Date: header (internal date when unparseable) */
    STORE_SK_SENTON,
    STORE_SK_SENTSINCE,
    STORE_SK_LARGER,  /* size > num */
    STORE_SK_SMALLER, /* size < num */
    STORE_SK_MODSEQ,  /* modseq >= num (RFC 7162 3.1.5) */
    STORE_SK_FROM,    /* str in the decoded header field (ASCII case-insensitive) */
    STORE_SK_TO,
    STORE_SK_CC,
    STORE_SK_SUBJECT,
    /* Full text (FTS5, schema/store/002_fts.sql). For a message appended
     * with index_text, str is split at ASCII white space and each word
     * becomes a token prefix, the words in that order and adjacent (one FTS5
     * phrase: "quick bro" -> "quick"* + "bro"*, which also finds "quickly
     * browning", unlike a substring); BODY matches in index_text,
     * TEXT also in the decoded Subject, From, To and Cc. This differs from
     * IMAP's substring match (RFC 9051 6.4.4): a word matches only at the
     * start of a token ("ample" does not find "example"), punctuation
     * separates tokens ("foo@example" finds "foo example"), case is folded
     * for all of Unicode and diacritics are ignored ("creme" finds "Crème"),
     * and TEXT does not see the other header fields. (index_text made by
     * mime_index_text() starts with those four fields, so BODY finds them
     * too.) A message appended without index_text (or stored before schema
     * version 2), and a str with neither an ASCII letter or digit nor a
     * non-ASCII character (empty, white space, ASCII punctuation), use the
     * substring match on the undecoded raw message (BODY: after the header),
     * ASCII case-insensitive. */
    STORE_SK_BODY,
    STORE_SK_TEXT,
    /* Header fields of the top-level header (search_header.c): messages
     * with a field named name (ASCII case-insensitive; RFC 5322 ftext,
     * 1..STORE_SEARCH_FIELD_MAX bytes) whose value (after the colon,
     * unfolded, outer white space trimmed) contains str, ASCII
     * case-insensitively, either as written or RFC 2047-decoded to UTF-8;
     * an empty str matches every message that has the field (RFC 9051
     * 6.4.4). Every field of that name counts. BCC is HEADER "Bcc". These
     * read the raw header (at most STORE_SEARCH_HEADER_MAX bytes of it) of
     * every message they test: put the cheap keys first in an AND. */
    STORE_SK_HEADER, /* name, str */
    STORE_SK_BCC,    /* str */
} store_search_kind;

typedef struct store_search {
    store_search_kind kind;
    const struct store_search *const *kids; /* AND, OR, NOT */
    size_t nkids;
    store_uidset uids; /* UID */
    unsigned mask;     /* FLAGS_SET, FLAGS_CLEAR */
    const char *str;   /* KEYWORD, FROM, ..., TEXT, HEADER, BCC */
    int64_t num;       /* dates, sizes, MODSEQ */
    const char *name;  /* HEADER: the field name */
} store_search;

/* UIDs of the mailbox's messages that match, in UID order.
 * STORE_ERR_LIMIT past the STORE_SEARCH_*_MAX limits. */
int store_search_uids(sqlite3 *db, int64_t mailbox_id, const store_search *key, store_uids *uids_r);

/* ---- Calendars and address books (dav.c) ---------------------------------
 * Collections (CalDAV RFC 4791 calendars, CardDAV RFC 6352 address books)
 * and their members. This library does not parse iCalendar or vCard: the
 * caller passes the UID, component and time range it parsed. ETags and
 * CTags are 32 lowercase hex digits, without quotes (the server adds them,
 * and strips them from If-Match). Collection ids are never reused; a sync
 * token is the collection's revision: the server should put the collection
 * id in the token URI too. A missing collection gives STORE_ERR_NOMAILBOX
 * (PUT: 409 Conflict), a missing object STORE_ERR_NOTFOUND. DAV objects do
 * not count against the mail quota. */

#define STORE_DAV_NAME_MAX 255           /* bytes of a collection name or an href */
#define STORE_DAV_UID_MAX 1024           /* bytes of a UID */
#define STORE_DAV_PROP_MAX 4096          /* bytes of a display name, description, color */
#define STORE_DAV_COMPONENTS_MAX 128     /* bytes of the supported component list */
#define STORE_DAV_COLLECTIONS_MAX 1000   /* collections in one store */
#define STORE_DAV_OBJECT_MAX (10u << 20) /* bytes of one iCalendar / vCard object */
#define STORE_DAV_TAG_LEN 32             /* hex digits of an ETag or CTag */
#define STORE_DAV_COMPONENT_MAX 8        /* bytes of a component name ("VJOURNAL") */
#define STORE_DAV_TIME_NONE INT64_MIN    /* dtstart / dtend absent */

typedef enum {
    STORE_DAV_CALENDAR = 1,
    STORE_DAV_ADDRESSBOOK = 2,
} store_dav_kind;

/* Collection properties. On create NULL = unset; on update NULL = unchanged
 * and "" = unset. components: comma-separated names of VEVENT, VTODO,
 * VJOURNAL (calendars only; unset = all). */
typedef struct {
    const char *display_name, *description, *color, *components;
} store_dav_props;

typedef struct {
    int64_t id;
    store_dav_kind kind;
    char name[STORE_DAV_NAME_MAX + 1];
    char *display_name, *description, *color; /* malloc'd; NULL when unset */
    char *components;                         /* malloc'd; "" when unset */
    uint64_t sync_token;                      /* current token (RFC 6578) */
    char ctag[STORE_DAV_TAG_LEN + 1];
    int64_t created_at, updated_at;
} store_dav_collection;

/* name: 1..STORE_DAV_NAME_MAX bytes, no '/', no control characters, not "."
 * or ".."; unique per kind (STORE_ERR_EXISTS). id_r may be NULL. */
int store_dav_collection_create(sqlite3 *db, store_dav_kind kind, const char *name,
                                const store_dav_props *props, int64_t *id_r);
int store_dav_collection_get(sqlite3 *db, store_dav_kind kind, const char *name,
                             store_dav_collection *c_r);
int store_dav_collection_get_by_id(sqlite3 *db, int64_t id, store_dav_collection *c_r);
/* The collections of a kind, sorted by name. Free with
 * store_dav_collections_free. */
int store_dav_collection_list(sqlite3 *db, store_dav_kind kind, store_dav_collection **list_r,
                              size_t *n_r);
/* Changes the properties (and the CTag; not the sync token). */
int store_dav_collection_update(sqlite3 *db, int64_t id, const store_dav_props *props);
/* Removes the collection with its objects and change log. */
int store_dav_collection_delete(sqlite3 *db, int64_t id);
void store_dav_collection_free(store_dav_collection *c);
void store_dav_collections_free(store_dav_collection **list, size_t n);

/* What the caller parsed from the object. component: "VEVENT", "VTODO",
 * "VJOURNAL" (calendars) or "VCARD" (address books). Times are UTC seconds
 * or STORE_DAV_TIME_NONE; dtstart: start of the first occurrence, dtend:
 * end of the last occurrence when known; unbounded: a recurrence without
 * UNTIL or COUNT (dtend is then ignored). See schema/store/003_dav.sql. */
typedef struct {
    const char *uid;
    const char *component;
    int64_t dtstart, dtend;
    int unbounded;
} store_dav_meta;

/* Preconditions of a write (RFC 9110 13.1.1, 13.1.2): if_match NULL = none,
 * "*" = the object must exist, else its ETag must equal it; if_none_match
 * (If-None-Match: *) = the object must not exist. Failure:
 * STORE_ERR_PRECONDITION, nothing changed. */
typedef struct {
    const char *if_match;
    int if_none_match;
} store_dav_cond;

/* Creates or replaces the object at href (same rules as a collection name)
 * with data (at most STORE_DAV_OBJECT_MAX bytes). cond may be NULL. Another
 * object of the collection with the same UID: STORE_ERR_EXISTS (RFC 4791
 * 5.3.2.1 no-uid-conflict). etag_r (may be NULL) gets the new ETag,
 * created_r (may be NULL) 1 when the object is new (201) else 0 (204). */
int store_dav_put(sqlite3 *db, int64_t collection_id, const char *href, const void *data,
                  size_t len, const store_dav_meta *meta, const store_dav_cond *cond,
                  char etag_r[STORE_DAV_TAG_LEN + 1], int *created_r);

/* Removes the object (logged for sync). cond may be NULL. */
int store_dav_delete(sqlite3 *db, int64_t collection_id, const char *href,
                     const store_dav_cond *cond);

typedef struct {
    char *href, *uid; /* malloc'd */
    char etag[STORE_DAV_TAG_LEN + 1];
    char component[STORE_DAV_COMPONENT_MAX + 1];
    int64_t dtstart, dtend; /* STORE_DAV_TIME_NONE when absent */
    int unbounded;
    uint64_t revision;   /* sync token of its last change */
    unsigned char *data; /* malloc'd, len bytes (non-NULL) */
    size_t len;
} store_dav_object;

int store_dav_get(sqlite3 *db, int64_t collection_id, const char *href, store_dav_object *obj_r);
void store_dav_object_free(store_dav_object *obj);

/* One object of a listing, without its data; valid during the callback. */
typedef struct {
    const char *href, *uid, *etag, *component;
    int64_t dtstart, dtend;
    int unbounded;
    uint64_t revision, size;
} store_dav_row;

/* cb returns 0 to go on, non-zero to stop (returned as is); it must not
 * write to the store. */
typedef int (*store_dav_cb)(void *ctx, const store_dav_row *row);

/* Every object of the collection, in href order. */
int store_dav_foreach(sqlite3 *db, int64_t collection_id, store_dav_cb cb, void *ctx);

/* Objects whose time range overlaps [start, end) (RFC 4791 9.9; start
 * INT64_MIN / end INT64_MAX for an open side), in dtstart order; component
 * NULL = any. Overlap: dtstart < end and (unbounded, or dtend > start when
 * dtend > dtstart, else dtstart >= start). Objects without dtstart (e.g. a
 * VTODO without dates) are always returned: the server decides. A
 * pre-filter: see schema/store/003_dav.sql. */
int store_dav_range(sqlite3 *db, int64_t collection_id, const char *component, int64_t start,
                    int64_t end, store_dav_cb cb, void *ctx);

/* sync-collection (RFC 6578): calls cb for every href changed or deleted
 * after token since, in revision order (deleted: 1 for a tombstone), and
 * sets *token_r to the new token. since 0 = initial sync: only existing
 * objects. A token below the retained log, or above the collection's:
 * STORE_ERR_SYNC_TOKEN (403 DAV:valid-sync-token). */
typedef int (*store_dav_change_cb)(void *ctx, const char *href, int deleted);
int store_dav_changes(sqlite3 *db, int64_t collection_id, uint64_t since, store_dav_change_cb cb,
                      void *ctx, uint64_t *token_r);

/* Forgets tombstones with a revision up to keep_after: tokens below it
 * become invalid. */
int store_dav_changes_prune(sqlite3 *db, int64_t collection_id, uint64_t keep_after);

#endif
