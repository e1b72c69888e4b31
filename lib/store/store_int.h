/* lib/store internals shared by its files; not for callers. */
#ifndef OM_STORE_INT_H
#define OM_STORE_INT_H

#include "store.h"

#include <stdbool.h>

typedef struct {
    const char *name;
    const char *sql;
} store_migration;

extern const store_migration store_migrations[];
extern const int store_migration_count;

/* A write transaction: BEGIN IMMEDIATE, or a SAVEPOINT inside the caller's. */
typedef struct {
    bool outer;
    sqlite3_int64 changes; /* sqlite3_total_changes64() at the start */
} store_tx;

int store_tx_begin(sqlite3 *db, store_tx *tx);
/* Ends the transaction: on rc == STORE_OK bumps the change counter (when
 * a row changed: a no-op wakes no other session) and commits (returning a
 * commit failure), otherwise rolls back; returns rc. */
int store_tx_end(sqlite3 *db, store_tx *tx, int rc);

/* Maps a SQLite result code to a store_rc. */
int store_rc_sqlite(int sqlite_rc);

/* Prepares sql (static text); NULL on failure. */
sqlite3_stmt *store_prepare(sqlite3 *db, const char *sql);

/* Runs a statement that returns no row to the end; finalizes it. */
int store_step_done(sqlite3_stmt *st);

/* The next store-wide MODSEQ (inside a transaction). */
int store_modseq_next(sqlite3 *db, uint64_t *modseq_r);

/* Raises a mailbox's HIGHESTMODSEQ to modseq. */
int store_mailbox_touch(sqlite3 *db, int64_t mailbox_id, uint64_t modseq);

/* Looks a mailbox up by name (normalised here) for a message operation:
 * STORE_ERR_NOSELECT for a \Noselect one. */
int store_mailbox_lookup(sqlite3 *db, const char *name, int64_t *id_r);
/* The same check for a selected mailbox's id. */
int store_mailbox_check_id(sqlite3 *db, int64_t id);

/* Takes the next UID of a mailbox (STORE_ERR_UIDS when used up). */
int store_uid_next(sqlite3 *db, int64_t mailbox_id, uint32_t *uid_r);

/* Subscribes an already normalised name. */
int store_subscribe_norm(sqlite3 *db, const char *norm);

int store_uids_push(store_uids *u, uint32_t uid);
/* Steps st to its end, pushing column 0 of every row as a UID (st is not
 * reset). STORE_OK or an error. */
int store_uids_collect(sqlite3_stmt *st, store_uids *u);

/* Records keywords as used in a mailbox (space-separated list). */
int store_keywords_register(sqlite3 *db, int64_t mailbox_id, const char *list);

/* Builds the stored space-separated keyword list from a NULL-terminated
 * array (validated, de-duplicated case-insensitively). malloc'd. */
int store_keywords_join(const char *const *keywords, char **list_r);

/* Inserts a message row (append and copy). */
int store_msg_insert(sqlite3 *db, int64_t mailbox_id, uint32_t uid, uint64_t modseq, unsigned flags,
                     const char *keywords, int64_t internal_date, uint64_t size, int64_t body_id);

/* STORE_ERR_QUOTA when adding bytes would exceed the quota limit. */
int store_quota_check(sqlite3 *db, uint64_t bytes);

/* Checks a UID set and returns a sorted, merged copy (malloc'd; NULL when
 * set->n is 0). */
int store_uidset_merge(const store_uidset *set, store_range **merged_r, size_t *n_r);

/* Prepares "<head> WHERE m.mailbox_id = ? AND (<filter>)<tail>" with the
 * mailbox id and the filter's values bound (search.c; filter NULL: every
 * message). head selects FROM messages m JOIN bodies b ON b.id =
 * m.body_id and has no parameter of its own; tail (ORDER BY ...) neither.
 * STORE_ERR_NOMAILBOX / NOSELECT for a missing mailbox; the errors of
 * store_search_uids for a bad filter. */
int store_search_prepare(sqlite3 *db, int64_t mailbox_id, const char *head,
                         const store_search *filter, const char *tail, sqlite3_stmt **st_r);

/* Runs sql (static, no parameter) and returns column 0 of every row as a
 * malloc'd array (maintain.c; NULL when there is none). */
int store_ids_read(sqlite3 *db, const char *sql, int64_t **ids_r, size_t *n_r);

/* Registers om_header_match() and OM_CASEMAP (search_header.c). */
int store_sql_register(sqlite3 *db);

/* SEARCH HEADER on hdr[0..len) (search_header.c): *match_r when a field
 * named name (ASCII case-insensitive) has a value holding needle, raw or
 * RFC 2047-decoded, ASCII case-insensitively. STORE_ERR_NOMEM only. */
int store_header_match(const char *hdr, size_t len, const char *name, const char *needle,
                       bool *match_r);

/* store_delivery_prune counting the records it removed (n_r). */
int store_delivery_prune_n(sqlite3 *db, int64_t older_than, uint64_t *n_r);

/* Prunes the tombstones of one collection up to keep_after (dav_sync.c),
 * in the caller's transaction; *n_r gets the number removed. */
int store_dav_prune_tx(sqlite3 *db, int64_t collection_id, uint64_t keep_after, uint64_t *n_r);

#endif
