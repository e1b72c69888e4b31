/* directory: the in-memory copy of the api's directory that workers use.
 *
 * Domains, users, aliases and DKIM keys, each kept as the cJSON object the
 * api publishes (see the brief, "Change feed"), keyed by its event key:
 *
 *   domain  name (A-label)                 "example.org"
 *   user    address                        "alice@example.org"
 *   alias   address ("*@d" = catch-all)    "sales@example.org", "*@example.org"
 *   dkim    "<domain>/<selector>"          "example.org/s2026"
 *
 * The model is pure: bytes in (a snapshot, events), lookups out, no I/O.
 * Every change is all-or-nothing: a malformed snapshot or event returns -1
 * with a static English reason in *error_r and leaves the directory as it
 * was. Lookups are hash-table lookups (open addressing, SipHash-2-4 with a
 * per-directory random key), not scans.
 *
 * Entities are stored canonicalised: object members sorted by name
 * (recursively, stable for duplicate names), so that the same entity gives
 * the same digest whether it came from a snapshot or from an event.
 *
 * Not thread-safe by itself: the follower (follower.h) guards one with a
 * rwlock. Concurrent lookups on an unchanging directory are fine.
 */
#ifndef OWNMAIL_DIRECTORY_H
#define OWNMAIL_DIRECTORY_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

/* Largest snapshot body accepted (GET /internal/v1/directory). */
#define DIRECTORY_SNAPSHOT_MAX ((size_t)256 * 1024 * 1024)
/* Largest entity JSON in an event's data field. */
#define DIRECTORY_ENTITY_MAX ((size_t)1024 * 1024)
/* Longest key in bytes: an RFC 5321 section 4.5.3.1.3 path is at most 256
 * octets, a DKIM key is a 253-octet domain, '/', a 63-octet selector. */
#define DIRECTORY_KEY_MAX 320
/* Longest event type ("domain.upsert"). */
#define DIRECTORY_TYPE_MAX 32
/* Largest seq accepted: seqs travel as JSON numbers, exact up to 2^53. */
#define DIRECTORY_SEQ_MAX ((uint64_t)1 << 53)
/* A SHA-256 digest as lowercase hex plus its NUL. */
#define DIRECTORY_DIGEST_HEX_SIZE 65

typedef enum directory_kind {
    DIRECTORY_DOMAIN,
    DIRECTORY_USER,
    DIRECTORY_ALIAS,
    DIRECTORY_DKIM,
    DIRECTORY_KIND_COUNT
} directory_kind;

typedef struct directory directory;

/* An empty directory at seq 0, or NULL when out of memory. */
directory *directory_new(void);
/* Frees *d and sets it NULL; NULL and *d == NULL are no-ops. */
void directory_free(directory **d);

/* Replaces the whole content and seq with a snapshot
 *   {"seq":N,"domains":[...],"users":[...],"aliases":[...],"dkim_keys":[...]}
 * of at most DIRECTORY_SNAPSHOT_MAX bytes. The new content is built aside and
 * swapped in only when all of it is valid: 0, or -1 and the old content kept.
 * Two entities of one kind with the same key make the snapshot invalid. */
int directory_load_snapshot(directory *d, const char *json, size_t len, const char **error_r);

/* Applies one feed event: type is "<kind>.upsert" or "<kind>.delete" with
 * kind one of domain, user, alias, dkim; key as above; data the entity JSON
 * (upsert; its identifying fields must give the same key) or anything that
 * is a JSON object, or nothing (len 0), for a delete. seq must be greater
 * than directory_seq(d); the directory's seq becomes seq. A domain.delete
 * also drops the domain's users, aliases and DKIM keys. Deleting a missing
 * entity is not an error. 0, or -1 with the directory unchanged. */
int directory_apply_event(directory *d, uint64_t seq, const char *type, const char *key,
                          const char *data, size_t len, const char **error_r);

/* The seq of the last snapshot or event applied (0 for a new directory). */
uint64_t directory_seq(const directory *d);
size_t directory_count(const directory *d, directory_kind kind);
/* "domain", "user", "alias", "dkim"; NULL for an invalid kind. */
const char *directory_kind_name(directory_kind kind);

/* Exact-key lookups: the entity, owned by the directory and valid until the
 * next change, or NULL. */
const cJSON *directory_find(const directory *d, directory_kind kind, const char *key);
const cJSON *directory_find_domain(const directory *d, const char *name);
const cJSON *directory_find_user(const directory *d, const char *address);
const cJSON *directory_find_alias(const directory *d, const char *address);
const cJSON *directory_find_dkim(const directory *d, const char *domain, const char *selector);

/* Calls fn for every entity of a kind, in no particular order, until fn
 * returns non-zero; returns that value or 0. fn must not change d. */
typedef int directory_foreach_fn(void *ctx, const char *key, const cJSON *entity);
int directory_foreach(const directory *d, directory_kind kind, directory_foreach_fn *fn, void *ctx);

/* False only when the entity's "enabled" member is JSON false. */
int directory_entity_enabled(const cJSON *entity);

typedef enum directory_rcpt_kind {
    DIRECTORY_RCPT_NONE,     /* not deliverable here: reject */
    DIRECTORY_RCPT_USER,     /* *entity_r is the user */
    DIRECTORY_RCPT_ALIAS,    /* *entity_r is the alias (its "targets") */
    DIRECTORY_RCPT_CATCHALL, /* *entity_r is the "*@domain" alias */
} directory_rcpt_kind;

/* Where mail for an envelope recipient goes:
 *  1. split at the last '@'; the domain part is matched case-insensitively
 *     (ASCII; stored names are lowercase A-labels) and must be a hosted,
 *     enabled domain;
 *  2. a user with that address, else an alias with it; the local part is
 *     tried as given, then lowercased (RFC 5321 section 2.4 leaves its case
 *     to the receiving host);
 *  3. a user or alias that exists but is disabled is NONE: it does not fall
 *     through to the catch-all;
 *  4. otherwise the enabled catch-all "*@domain", if any.
 * *entity_r (may be NULL) is set to the entity or NULL. */
directory_rcpt_kind directory_resolve_rcpt(const directory *d, const char *address,
                                           const cJSON **entity_r);

/* SHA-256 over the canonical form: for each kind in the order domain, user,
 * alias, dkim, its entities sorted by key (bytewise), one line each
 *   "<kind>\t<key>\t<cJSON_PrintUnformatted(entity)>\n"
 * as lowercase hex in hex_r. The seq is not part of it. 0, or -1 when out of
 * memory. */
int directory_digest(const directory *d, char hex_r[DIRECTORY_DIGEST_HEX_SIZE]);

#endif
