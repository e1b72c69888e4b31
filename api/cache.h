/* cache: serialized GET responses about the directory (domains, users,
 * aliases, DKIM keys, DNS records), per caller, valid until the next write.
 *
 * The api is the only writer of control.db, so a counter bumped after every
 * commit (cache_bump, from db_commit) tells exactly when a cached body may
 * be stale: an entry is used only while the counter still has the value it
 * had before the body was built. Authentication still runs on every request;
 * only the handler's work is skipped. */
#ifndef OWNMAIL_API_CACHE_H
#define OWNMAIL_API_CACHE_H

#include "buf.h"

#include <stddef.h>
#include <stdint.h>

#define CACHE_SLOTS 512             /* direct-mapped entries */
#define CACHE_BODY_MAX (256 * 1024) /* larger bodies are not kept */
#define CACHE_KEY_MAX 2200

uint64_t cache_generation(void);
void cache_bump(void);

/* Copies a fresh entry for key into body (and its status); 1 on a hit. */
int cache_get(const char *key, int *status_r, buf *body);
/* Stores a body built while the generation was generation. */
void cache_put(const char *key, uint64_t generation, int status, const char *body, size_t len);

#endif
