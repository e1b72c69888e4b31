/* feed: the transactional outbox. Every write appends events describing the
 * entities it changed, in the same transaction; the relay publishes them.
 * The entity JSON built here is also what the directory snapshot serves, so a
 * follower that applies events ends with exactly what a snapshot gives. */
#ifndef OWNMAIL_API_FEED_H
#define OWNMAIL_API_FEED_H

#include <cjson/cJSON.h>
#include <sqlite3.h>
#include <stdint.h>

/* Appends one upsert event with the entity's current state. 0 or -1. */
int feed_domain_upsert(sqlite3 *db, int64_t domain_id);
int feed_user_upsert(sqlite3 *db, int64_t user_id);
int feed_alias_upsert(sqlite3 *db, int64_t alias_id);
int feed_dkim_upsert(sqlite3 *db, int64_t dkim_id);
/* Appends a delete event: kind is "domain", "user", "alias" or "dkim". */
int feed_delete(sqlite3 *db, const char *kind, const char *key);

/* The whole directory and the seq it is current to, read in one transaction. */
cJSON *feed_snapshot(sqlite3 *db);

/* Base64 (standard alphabet) of a blob, as a new cJSON string. */
cJSON *feed_b64(const void *data, size_t len);

#endif
