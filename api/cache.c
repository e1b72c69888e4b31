#include "cache.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

typedef struct cache_entry {
    char *key;
    uint64_t generation;
    int status;
    char *body;
    size_t len;
} cache_entry;

static uint64_t cache_gen = 1;
static pthread_mutex_t cache_lock = PTHREAD_MUTEX_INITIALIZER;
static cache_entry cache_slots[CACHE_SLOTS];

uint64_t cache_generation(void)
{
    return __atomic_load_n(&cache_gen, __ATOMIC_ACQUIRE);
}

void cache_bump(void)
{
    __atomic_add_fetch(&cache_gen, 1, __ATOMIC_ACQ_REL);
}

static size_t cache_slot(const char *key)
{
    uint64_t h = 1469598103934665603ULL; /* FNV-1a */
    for (const char *p = key; *p != '\0'; p++)
        h = (h ^ (unsigned char)*p) * 1099511628211ULL;
    return (size_t)(h % CACHE_SLOTS);
}

int cache_get(const char *key, int *status_r, buf *body)
{
    uint64_t now = cache_generation();
    int hit = 0;
    pthread_mutex_lock(&cache_lock);
    cache_entry *e = &cache_slots[cache_slot(key)];
    if (e->key != NULL && e->generation == now && strcmp(e->key, key) == 0 &&
        buf_append(body, e->body, e->len) == 0) {
        *status_r = e->status;
        hit = 1;
    }
    pthread_mutex_unlock(&cache_lock);
    return hit;
}

void cache_put(const char *key, uint64_t generation, int status, const char *body, size_t len)
{
    if (len > CACHE_BODY_MAX || strlen(key) > CACHE_KEY_MAX || generation != cache_generation())
        return;
    char *k = strdup(key);
    char *b = malloc(len + 1);
    if (k == NULL || b == NULL) {
        free(k);
        free(b);
        return;
    }
    memcpy(b, body, len);
    pthread_mutex_lock(&cache_lock);
    cache_entry *e = &cache_slots[cache_slot(key)];
    free(e->key);
    free(e->body);
    *e = (cache_entry){k, generation, status, b, len};
    pthread_mutex_unlock(&cache_lock);
}
