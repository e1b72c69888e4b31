/* lib/store: keeping the logs of a store bounded (maintain.c, dav_sync.c).
 *
 * Three logs grow with use and are only needed for a while:
 * - the expunge log (QRESYNC VANISHED, RFC 7162 3.2.5.1, 3.2.10);
 * - the DAV change log's tombstones (sync-collection, RFC 6578 3.2);
 * - the delivery records of the spool drain (store_delivery_record).
 * Pruning the first two makes old client state unanswerable, in a way the
 * protocols define: a QRESYNC MODSEQ below the mailbox's vanished floor
 * gets STORE_ERR_EXPUNGE_LOG from store_vanished (the server then reports
 * every UID of the client's known range that is gone), a DAV sync token
 * below the collection's oldest gets STORE_ERR_SYNC_TOKEN (403
 * DAV:valid-sync-token: the client syncs from scratch).
 */
#ifndef OM_STORE_MAINTAIN_H
#define OM_STORE_MAINTAIN_H

#include "store.h"

#define STORE_PRUNE_BATCH 1000 /* expunge log entries removed per transaction */

/* Prunes the expunge log of one mailbox (mailbox_id) or of every mailbox
 * (0). In each, entries go oldest MODSEQ first until at most keep remain
 * (0: no limit by count) and none expunged before the Unix time older_than
 * remains (0: no limit by age). An entry goes with every other of its
 * MODSEQ (one EXPUNGE), so what remains is exactly the log above one MODSEQ:
 * the mailbox's vanished floor (store_vanished_floor) rises to the highest
 * MODSEQ removed, and store_vanished refuses a MODSEQ below it. Entries left
 * below the floor by an interrupted prune go too. Short transactions: the
 * floor is raised with the first STORE_PRUNE_BATCH removals, each further
 * batch is its own; call it outside a transaction. A missing mailbox_id:
 * STORE_ERR_NOMAILBOX. pruned_r (may be NULL) gets the entries removed. */
int store_expunged_prune(sqlite3 *db, int64_t mailbox_id, size_t keep, int64_t older_than,
                         uint64_t *pruned_r);

/* The MODSEQ at and below which the mailbox's expunge log is incomplete (0:
 * never pruned, complete). */
int store_vanished_floor(sqlite3 *db, int64_t mailbox_id, uint64_t *floor_r);

/* Prunes the DAV tombstones that changed before the Unix time older_than,
 * in one collection (collection_id) or in every one (0), one transaction
 * per collection: as store_dav_changes_prune up to the newest such
 * tombstone, so tokens below it get STORE_ERR_SYNC_TOKEN. pruned_r (may be
 * NULL) gets the tombstones removed. */
int store_dav_changes_prune_age(sqlite3 *db, int64_t collection_id, int64_t older_than,
                                uint64_t *pruned_r);

/* ---- Periodic maintenance --------------------------------------------------- */

/* Defaults of store_maintain_policy (seconds, entries). A delivery record
 * must outlive the spool file it guards: the file goes at the drain right
 * after the commit, or at the next drain when that removal failed; a
 * worker with a live session drains far more often than this. */
#define STORE_MAINTAIN_DELIVERY_AGE (30 * 86400)
#define STORE_MAINTAIN_EXPUNGED_KEEP 20000        /* per mailbox */
#define STORE_MAINTAIN_EXPUNGED_AGE (180 * 86400) /* QRESYNC clients away longer resync */
#define STORE_MAINTAIN_DAV_AGE (180 * 86400)      /* DAV clients away longer sync anew */
#define STORE_MAINTAIN_INTERVAL 86400             /* how often a worker should call it */

typedef struct {
    int64_t delivery_age; /* seconds a delivery record is kept; 0 = forever */
    size_t expunged_keep; /* expunge log entries kept per mailbox; 0 = no count limit */
    int64_t expunged_age; /* seconds an expunge log entry is kept; 0 = no age limit */
    int64_t dav_age;      /* seconds a DAV tombstone is kept; 0 = forever */
} store_maintain_policy;

/* The defaults above. */
void store_maintain_policy_default(store_maintain_policy *policy_r);

typedef struct {
    uint64_t deliveries, expunged, dav_tombstones; /* rows removed */
} store_maintain_stats;

/* Runs every prune with the times counted back from now (Unix time):
 * store_delivery_prune, store_expunged_prune of every mailbox,
 * store_dav_changes_prune_age of every collection, each in short
 * transactions of its own (call it outside a transaction; other sessions
 * interleave). policy NULL: the defaults. stats_r (may be NULL) gets what
 * went. Meant for a worker holding a session, every
 * STORE_MAINTAIN_INTERVAL or so, after it drained the spool. */
int store_maintain(sqlite3 *db, int64_t now, const store_maintain_policy *policy,
                   store_maintain_stats *stats_r);

#endif
