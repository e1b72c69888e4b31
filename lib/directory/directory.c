/* directory: the in-memory model of domains, users, aliases and DKIM keys.
 * See directory.h. One open-addressing hash table (linear probing with
 * backward-shift deletion, so no tombstones) per kind. */
#include "directory.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#define DIR_TABLE_MIN 16 /* smallest non-empty table */

typedef struct dir_entry {
    char *key; /* NULL marks an empty slot */
    cJSON *json;
    uint64_t hash;
} dir_entry;

typedef struct dir_table {
    dir_entry *slots;
    size_t cap; /* 0 or a power of two; count <= cap / 2 */
    size_t count;
} dir_table;

struct directory {
    uint64_t seq;
    unsigned char hash_key[crypto_shorthash_KEYBYTES];
    dir_table tables[DIRECTORY_KIND_COUNT];
};

static const char *const dir_kind_names[DIRECTORY_KIND_COUNT] = {
    [DIRECTORY_DOMAIN] = "domain",
    [DIRECTORY_USER] = "user",
    [DIRECTORY_ALIAS] = "alias",
    [DIRECTORY_DKIM] = "dkim",
};

/* The snapshot's array member for each kind. */
static const char *const dir_snapshot_members[DIRECTORY_KIND_COUNT] = {
    [DIRECTORY_DOMAIN] = "domains",
    [DIRECTORY_USER] = "users",
    [DIRECTORY_ALIAS] = "aliases",
    [DIRECTORY_DKIM] = "dkim_keys",
};

/* ---- Hash table ------------------------------------------------------ */

static uint64_t dir_hash(const directory *d, const char *key)
{
    unsigned char out[crypto_shorthash_BYTES];
    uint64_t h;
    crypto_shorthash(out, (const unsigned char *)key, strlen(key), d->hash_key);
    memcpy(&h, out, sizeof(h));
    return h;
}

/* The slot holding key, or SIZE_MAX. */
static size_t table_lookup(const dir_table *t, const char *key, uint64_t hash)
{
    if (t->cap == 0)
        return SIZE_MAX;
    size_t mask = t->cap - 1;
    for (size_t i = (size_t)hash & mask;; i = (i + 1) & mask) {
        const dir_entry *e = &t->slots[i];
        if (e->key == NULL)
            return SIZE_MAX;
        if (e->hash == hash && strcmp(e->key, key) == 0)
            return i;
    }
}

/* Places an entry whose key is not in the table; capacity must suffice. */
static void table_place(dir_table *t, dir_entry e)
{
    size_t mask = t->cap - 1;
    size_t i = (size_t)e.hash & mask;
    while (t->slots[i].key != NULL)
        i = (i + 1) & mask;
    t->slots[i] = e;
    t->count++;
}

/* Makes room for n more entries at a load factor of at most 1/2. */
static int table_reserve(dir_table *t, size_t n)
{
    if (n > SIZE_MAX / 4 - t->count)
        return -1;
    size_t need = (t->count + n) * 2;
    if (need <= t->cap)
        return 0;
    size_t cap = t->cap == 0 ? DIR_TABLE_MIN : t->cap;
    while (cap < need)
        cap *= 2;
    dir_entry *slots = calloc(cap, sizeof(*slots));
    if (slots == NULL)
        return -1;
    dir_table grown = {slots, cap, 0};
    for (size_t i = 0; i < t->cap; i++) {
        if (t->slots[i].key != NULL)
            table_place(&grown, t->slots[i]);
    }
    free(t->slots);
    *t = grown;
    return 0;
}

/* Frees the entry in slot i and closes the hole by shifting later members
 * of its probe run back (Knuth, TAOCP vol. 3, 6.4 Algorithm R). */
static void table_remove_at(dir_table *t, size_t i)
{
    size_t mask = t->cap - 1;
    free(t->slots[i].key);
    cJSON_Delete(t->slots[i].json);
    t->slots[i] = (dir_entry){0};
    t->count--;
    for (size_t j = (i + 1) & mask; t->slots[j].key != NULL; j = (j + 1) & mask) {
        size_t home = (size_t)t->slots[j].hash & mask;
        /* The entry at j may move to the hole at i unless its home lies
         * cyclically in (i, j]. */
        bool stays = i <= j ? (home > i && home <= j) : (home > i || home <= j);
        if (stays)
            continue;
        t->slots[i] = t->slots[j];
        t->slots[j] = (dir_entry){0};
        i = j;
    }
}

static void table_clear(dir_table *t)
{
    for (size_t i = 0; i < t->cap; i++) {
        free(t->slots[i].key);
        cJSON_Delete(t->slots[i].json);
    }
    free(t->slots);
    *t = (dir_table){0};
}

/* ---- Validation and canonical form -------------------------------------- */

typedef struct json_member {
    cJSON *item;
    size_t index;
} json_member;

static int json_member_cmp(const void *a, const void *b)
{
    const json_member *x = a, *y = b;
    int c = strcmp(x->item->string != NULL ? x->item->string : "",
                   y->item->string != NULL ? y->item->string : "");
    if (c != 0)
        return c;
    return x->index < y->index ? -1 : x->index > y->index;
}

/* Sorts the members of every object in item by name, keeping the order of
 * duplicate names. Depth is bounded by cJSON's CJSON_NESTING_LIMIT. */
static int json_canonicalize(cJSON *item)
{
    size_t n = 0;
    for (cJSON *c = item->child; c != NULL; c = c->next, n++) {
        if (json_canonicalize(c) != 0)
            return -1;
    }
    if (!cJSON_IsObject(item) || n < 2)
        return 0;
    json_member *m = malloc(n * sizeof(*m));
    if (m == NULL)
        return -1;
    size_t i = 0;
    for (cJSON *c = item->child; c != NULL; c = c->next, i++)
        m[i] = (json_member){c, i};
    qsort(m, n, sizeof(*m), json_member_cmp);
    for (i = 0; i < n; i++) {
        m[i].item->next = i + 1 < n ? m[i + 1].item : NULL;
        /* cJSON keeps the last element in the first one's prev. */
        m[i].item->prev = i > 0 ? m[i - 1].item : m[n - 1].item;
    }
    item->child = m[0].item;
    free(m);
    return 0;
}

/* Parses exactly len bytes (trailing whitespace allowed) as one JSON value. */
static cJSON *json_parse_exact(const char *text, size_t len)
{
    const char *end = NULL;
    cJSON *v = cJSON_ParseWithLengthOpts(text, len, &end, 0);
    if (v == NULL)
        return NULL;
    for (const char *p = end; p < text + len; p++) {
        if (*p != ' ' && *p != '\t' && *p != '\r' && *p != '\n') {
            cJSON_Delete(v);
            return NULL;
        }
    }
    return v;
}

/* The domain part of a key: after the last '@' of an address, before the
 * '/' of a DKIM key, the key itself for a domain. NULL when malformed. */
static const char *key_domain(directory_kind kind, const char *key, size_t *len_r)
{
    if (kind == DIRECTORY_DKIM) {
        const char *slash = strchr(key, '/');
        if (slash == NULL)
            return NULL;
        *len_r = (size_t)(slash - key);
        return key;
    }
    const char *dom = key;
    if (kind != DIRECTORY_DOMAIN) {
        const char *at = strrchr(key, '@');
        if (at == NULL)
            return NULL;
        dom = at + 1;
    }
    *len_r = strlen(dom);
    return dom;
}

static bool key_valid(directory_kind kind, const char *key)
{
    size_t len = strnlen(key, DIRECTORY_KEY_MAX + 1);
    if (len == 0 || len > DIRECTORY_KEY_MAX)
        return false;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)key[i];
        if (c < 0x20 || c == 0x7f) /* keeps the digest's lines unambiguous */
            return false;
    }
    size_t dom_len;
    const char *dom = key_domain(kind, key, &dom_len);
    if (dom == NULL || dom_len == 0 || memchr(dom, '@', dom_len) != NULL ||
        memchr(dom, '/', dom_len) != NULL)
        return false;
    if (kind == DIRECTORY_DKIM) /* one '/', a non-empty selector */
        return key[dom_len + 1] != '\0' && strchr(key + dom_len + 1, '/') == NULL;
    if (kind != DIRECTORY_DOMAIN) /* a non-empty local part */
        return dom > key + 1;
    return true;
}

static const char *json_str(const cJSON *obj, const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, name);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* The key an entity names itself by, in buf; NULL when it names none. */
static const char *entity_key(directory_kind kind, const cJSON *e, char buf[DIRECTORY_KEY_MAX + 2])
{
    const char *k = NULL;
    switch (kind) {
    case DIRECTORY_DOMAIN:
        k = json_str(e, "name");
        break;
    case DIRECTORY_USER:
    case DIRECTORY_ALIAS:
        k = json_str(e, "address");
        break;
    case DIRECTORY_DKIM: {
        const char *dom = json_str(e, "domain"), *sel = json_str(e, "selector");
        if (dom == NULL || sel == NULL)
            return NULL;
        int n = snprintf(buf, DIRECTORY_KEY_MAX + 2, "%s/%s", dom, sel);
        if (n < 0 || n > DIRECTORY_KEY_MAX)
            return NULL;
        k = buf;
        break;
    }
    default:
        return NULL;
    }
    return k != NULL && key_valid(kind, k) ? k : NULL;
}

/* Validates and canonicalises a parsed entity; the key it names in buf. */
static const char *entity_prepare(directory_kind kind, cJSON *e, char buf[DIRECTORY_KEY_MAX + 2],
                                  const char **error_r)
{
    if (!cJSON_IsObject(e)) {
        *error_r = "entity is not a JSON object";
        return NULL;
    }
    const char *k = entity_key(kind, e, buf);
    if (k == NULL) {
        *error_r = "entity has no valid identifying field";
        return NULL;
    }
    if (json_canonicalize(e) != 0) {
        *error_r = "out of memory";
        return NULL;
    }
    return k;
}

static bool seq_from_json(const cJSON *v, uint64_t *seq_r)
{
    if (!cJSON_IsNumber(v))
        return false;
    double x = v->valuedouble;
    if (!(x >= 0 && x <= (double)DIRECTORY_SEQ_MAX))
        return false;
    uint64_t s = (uint64_t)x;
    if ((double)s != x)
        return false;
    *seq_r = s;
    return true;
}

/* ---- Lifetime ------------------------------------------------------- */

directory *directory_new(void)
{
    if (sodium_init() < 0)
        return NULL;
    directory *d = calloc(1, sizeof(*d));
    if (d == NULL)
        return NULL;
    randombytes_buf(d->hash_key, sizeof(d->hash_key));
    return d;
}

void directory_free(directory **d)
{
    if (d == NULL || *d == NULL)
        return;
    for (int k = 0; k < DIRECTORY_KIND_COUNT; k++)
        table_clear(&(*d)->tables[k]);
    free(*d);
    *d = NULL;
}

/* ---- Snapshot --------------------------------------------------------- */

/* Adds one entity (taking it on success) to a table with room for it. */
static int snapshot_add(const directory *d, directory_kind kind, cJSON *e, dir_table *t,
                        const char **error_r)
{
    char buf[DIRECTORY_KEY_MAX + 2];
    const char *k = entity_prepare(kind, e, buf, error_r);
    if (k == NULL)
        return -1;
    uint64_t h = dir_hash(d, k);
    if (table_lookup(t, k, h) != SIZE_MAX) {
        *error_r = "snapshot has two entities with the same key";
        return -1;
    }
    char *kdup = strdup(k);
    if (kdup == NULL) {
        *error_r = "out of memory";
        return -1;
    }
    table_place(t, (dir_entry){kdup, e, h});
    return 0;
}

/* Moves every element of arr into t. */
static int snapshot_fill(const directory *d, directory_kind kind, cJSON *arr, dir_table *t,
                         const char **error_r)
{
    if (table_reserve(t, (size_t)cJSON_GetArraySize(arr)) != 0) {
        *error_r = "out of memory";
        return -1;
    }
    cJSON *e;
    while ((e = arr->child) != NULL) {
        cJSON_DetachItemViaPointer(arr, e);
        if (snapshot_add(d, kind, e, t, error_r) != 0) {
            cJSON_Delete(e);
            return -1;
        }
    }
    return 0;
}

int directory_load_snapshot(directory *d, const char *json, size_t len, const char **error_r)
{
    const char *ignored;
    if (error_r == NULL)
        error_r = &ignored;
    if (json == NULL || len > DIRECTORY_SNAPSHOT_MAX) {
        *error_r = "snapshot missing or too large";
        return -1;
    }
    cJSON *root = json_parse_exact(json, len);
    uint64_t seq;
    if (root == NULL || !cJSON_IsObject(root) ||
        !seq_from_json(cJSON_GetObjectItemCaseSensitive(root, "seq"), &seq)) {
        cJSON_Delete(root);
        *error_r = "snapshot is not a JSON object with a valid seq";
        return -1;
    }
    dir_table fresh[DIRECTORY_KIND_COUNT] = {0};
    int rc = 0;
    for (int k = 0; k < DIRECTORY_KIND_COUNT && rc == 0; k++) {
        cJSON *arr = cJSON_GetObjectItemCaseSensitive(root, dir_snapshot_members[k]);
        if (!cJSON_IsArray(arr)) {
            *error_r = "snapshot lacks an array of domains, users, aliases or dkim_keys";
            rc = -1;
            break;
        }
        rc = snapshot_fill(d, (directory_kind)k, arr, &fresh[k], error_r);
    }
    cJSON_Delete(root);
    for (int k = 0; k < DIRECTORY_KIND_COUNT; k++) {
        if (rc == 0) {
            table_clear(&d->tables[k]);
            d->tables[k] = fresh[k];
        } else {
            table_clear(&fresh[k]);
        }
    }
    if (rc == 0)
        d->seq = seq;
    return rc;
}

/* ---- Events ---------------------------------------------------------- */

/* "<kind>.upsert" or "<kind>.delete". */
static int event_type_parse(const char *type, directory_kind *kind_r, bool *upsert_r)
{
    const char *dot = strchr(type, '.');
    if (dot == NULL || strnlen(type, DIRECTORY_TYPE_MAX + 1) > DIRECTORY_TYPE_MAX)
        return -1;
    size_t n = (size_t)(dot - type);
    for (int k = 0; k < DIRECTORY_KIND_COUNT; k++) {
        if (strlen(dir_kind_names[k]) != n || memcmp(type, dir_kind_names[k], n) != 0)
            continue;
        *kind_r = (directory_kind)k;
        if (strcmp(dot + 1, "upsert") == 0)
            *upsert_r = true;
        else if (strcmp(dot + 1, "delete") == 0)
            *upsert_r = false;
        else
            return -1;
        return 0;
    }
    return -1;
}

static int event_upsert(directory *d, directory_kind kind, const char *key, cJSON *e,
                        const char **error_r)
{
    char buf[DIRECTORY_KEY_MAX + 2];
    const char *k = entity_prepare(kind, e, buf, error_r);
    if (k == NULL)
        return -1;
    if (strcmp(k, key) != 0) {
        *error_r = "entity does not match the event key";
        return -1;
    }
    dir_table *t = &d->tables[kind];
    uint64_t h = dir_hash(d, key);
    size_t i = table_lookup(t, key, h);
    if (i != SIZE_MAX) {
        cJSON_Delete(t->slots[i].json);
        t->slots[i].json = e;
        return 0;
    }
    char *kdup = strdup(key);
    if (kdup == NULL || table_reserve(t, 1) != 0) {
        free(kdup);
        *error_r = "out of memory";
        return -1;
    }
    table_place(t, (dir_entry){kdup, e, h});
    return 0;
}

static bool key_in_domain(directory_kind kind, const char *key, const char *domain)
{
    size_t len;
    const char *dom = key_domain(kind, key, &len);
    return dom != NULL && len == strlen(domain) && memcmp(dom, domain, len) == 0;
}

static void table_delete_key(directory *d, dir_table *t, const char *key)
{
    size_t i = table_lookup(t, key, dir_hash(d, key));
    if (i != SIZE_MAX)
        table_remove_at(t, i);
}

/* Drops a domain and everything under it. The keys to drop are collected
 * first, so a failed allocation changes nothing. */
static int event_domain_delete(directory *d, const char *domain, const char **error_r)
{
    static const directory_kind under[] = {DIRECTORY_USER, DIRECTORY_ALIAS, DIRECTORY_DKIM};
    size_t n = 0;
    for (size_t u = 0; u < sizeof(under) / sizeof(under[0]); u++)
        n += d->tables[under[u]].count;
    char **keys = malloc((n > 0 ? n : 1) * sizeof(*keys));
    directory_kind *kinds = malloc((n > 0 ? n : 1) * sizeof(*kinds));
    if (keys == NULL || kinds == NULL) {
        free(keys);
        free(kinds);
        *error_r = "out of memory";
        return -1;
    }
    size_t m = 0;
    for (size_t u = 0; u < sizeof(under) / sizeof(under[0]); u++) {
        const dir_table *t = &d->tables[under[u]];
        for (size_t i = 0; i < t->cap; i++) {
            if (t->slots[i].key != NULL && key_in_domain(under[u], t->slots[i].key, domain)) {
                keys[m] = t->slots[i].key;
                kinds[m++] = under[u];
            }
        }
    }
    /* Removing an entry frees only its own key, so the others stay valid. */
    for (size_t i = 0; i < m; i++)
        table_delete_key(d, &d->tables[kinds[i]], keys[i]);
    table_delete_key(d, &d->tables[DIRECTORY_DOMAIN], domain);
    free(keys);
    free(kinds);
    return 0;
}

int directory_apply_event(directory *d, uint64_t seq, const char *type, const char *key,
                          const char *data, size_t len, const char **error_r)
{
    const char *ignored;
    if (error_r == NULL)
        error_r = &ignored;
    directory_kind kind;
    bool upsert;
    if (type == NULL || event_type_parse(type, &kind, &upsert) != 0) {
        *error_r = "unknown event type";
        return -1;
    }
    if (key == NULL || !key_valid(kind, key)) {
        *error_r = "invalid event key";
        return -1;
    }
    if (seq <= d->seq || seq > DIRECTORY_SEQ_MAX) {
        *error_r = "event seq not after the directory's";
        return -1;
    }
    if (len > DIRECTORY_ENTITY_MAX || (len > 0 && data == NULL)) {
        *error_r = "event data too large";
        return -1;
    }
    cJSON *e = len > 0 ? json_parse_exact(data, len) : NULL;
    if ((len > 0 || upsert) && !cJSON_IsObject(e)) {
        cJSON_Delete(e);
        *error_r = "event data is not a JSON object";
        return -1;
    }
    int rc = 0;
    if (upsert) {
        rc = event_upsert(d, kind, key, e, error_r);
        if (rc != 0)
            cJSON_Delete(e);
    } else {
        cJSON_Delete(e);
        if (kind == DIRECTORY_DOMAIN)
            rc = event_domain_delete(d, key, error_r);
        else
            table_delete_key(d, &d->tables[kind], key);
    }
    if (rc == 0)
        d->seq = seq;
    return rc;
}

/* ---- Lookups ------------------------------------------------------- */

uint64_t directory_seq(const directory *d)
{
    return d->seq;
}

size_t directory_count(const directory *d, directory_kind kind)
{
    return (unsigned)kind < DIRECTORY_KIND_COUNT ? d->tables[kind].count : 0;
}

const char *directory_kind_name(directory_kind kind)
{
    return (unsigned)kind < DIRECTORY_KIND_COUNT ? dir_kind_names[kind] : NULL;
}

const cJSON *directory_find(const directory *d, directory_kind kind, const char *key)
{
    if ((unsigned)kind >= DIRECTORY_KIND_COUNT || key == NULL)
        return NULL;
    const dir_table *t = &d->tables[kind];
    size_t i = table_lookup(t, key, dir_hash(d, key));
    return i != SIZE_MAX ? t->slots[i].json : NULL;
}

const cJSON *directory_find_domain(const directory *d, const char *name)
{
    return directory_find(d, DIRECTORY_DOMAIN, name);
}

const cJSON *directory_find_user(const directory *d, const char *address)
{
    return directory_find(d, DIRECTORY_USER, address);
}

const cJSON *directory_find_alias(const directory *d, const char *address)
{
    return directory_find(d, DIRECTORY_ALIAS, address);
}

const cJSON *directory_find_dkim(const directory *d, const char *domain, const char *selector)
{
    char key[DIRECTORY_KEY_MAX + 2];
    if (domain == NULL || selector == NULL)
        return NULL;
    int n = snprintf(key, sizeof(key), "%s/%s", domain, selector);
    if (n < 0 || n > DIRECTORY_KEY_MAX)
        return NULL;
    return directory_find(d, DIRECTORY_DKIM, key);
}

int directory_foreach(const directory *d, directory_kind kind, directory_foreach_fn *fn, void *ctx)
{
    if ((unsigned)kind >= DIRECTORY_KIND_COUNT)
        return 0;
    const dir_table *t = &d->tables[kind];
    for (size_t i = 0; i < t->cap; i++) {
        if (t->slots[i].key == NULL)
            continue;
        int r = fn(ctx, t->slots[i].key, t->slots[i].json);
        if (r != 0)
            return r;
    }
    return 0;
}

int directory_entity_enabled(const cJSON *entity)
{
    return !cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(entity, "enabled"));
}

static void ascii_lower(char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (s[i] >= 'A' && s[i] <= 'Z')
            s[i] = (char)(s[i] - 'A' + 'a');
    }
}

/* A user, else an alias, with exactly this address. */
static directory_rcpt_kind rcpt_exact(const directory *d, const char *addr, const cJSON **e_r)
{
    if ((*e_r = directory_find_user(d, addr)) != NULL)
        return DIRECTORY_RCPT_USER;
    if ((*e_r = directory_find_alias(d, addr)) != NULL)
        return DIRECTORY_RCPT_ALIAS;
    return DIRECTORY_RCPT_NONE;
}

directory_rcpt_kind directory_resolve_rcpt(const directory *d, const char *address,
                                           const cJSON **entity_r)
{
    const cJSON *ignored;
    if (entity_r == NULL)
        entity_r = &ignored;
    *entity_r = NULL;
    char addr[DIRECTORY_KEY_MAX + 1];
    size_t len = address != NULL ? strnlen(address, sizeof(addr)) : sizeof(addr);
    const char *at = len < sizeof(addr) ? strrchr(address, '@') : NULL;
    if (at == NULL || at == address || at[1] == '\0')
        return DIRECTORY_RCPT_NONE;
    size_t local_len = (size_t)(at - address);
    memcpy(addr, address, len + 1);
    ascii_lower(addr + local_len + 1, len - local_len - 1);
    const cJSON *dom = directory_find_domain(d, addr + local_len + 1);
    if (dom == NULL || !directory_entity_enabled(dom))
        return DIRECTORY_RCPT_NONE;
    directory_rcpt_kind k = rcpt_exact(d, addr, entity_r);
    if (k == DIRECTORY_RCPT_NONE) {
        ascii_lower(addr, local_len);
        k = rcpt_exact(d, addr, entity_r);
    }
    if (k != DIRECTORY_RCPT_NONE) {
        if (directory_entity_enabled(*entity_r))
            return k;
        *entity_r = NULL;
        return DIRECTORY_RCPT_NONE;
    }
    /* The catch-all: "*@domain", reusing the buffer after the local part. */
    char *catchall = addr + local_len - 1;
    catchall[0] = '*';
    const cJSON *c = directory_find_alias(d, catchall);
    if (c == NULL || !directory_entity_enabled(c))
        return DIRECTORY_RCPT_NONE;
    *entity_r = c;
    return DIRECTORY_RCPT_CATCHALL;
}

/* ---- Digest -------------------------------------------------------------- */

static int entry_ptr_cmp(const void *a, const void *b)
{
    const dir_entry *x = *(const dir_entry *const *)a, *y = *(const dir_entry *const *)b;
    return strcmp(x->key, y->key);
}

static int digest_kind(const directory *d, directory_kind kind, crypto_hash_sha256_state *st)
{
    const dir_table *t = &d->tables[kind];
    if (t->count == 0)
        return 0;
    const dir_entry **sorted = malloc(t->count * sizeof(*sorted));
    if (sorted == NULL)
        return -1;
    size_t n = 0;
    for (size_t i = 0; i < t->cap; i++) {
        if (t->slots[i].key != NULL)
            sorted[n++] = &t->slots[i];
    }
    qsort(sorted, n, sizeof(*sorted), entry_ptr_cmp);
    const char *name = dir_kind_names[kind];
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        char *text = cJSON_PrintUnformatted(sorted[i]->json);
        if (text == NULL) {
            rc = -1;
            break;
        }
        crypto_hash_sha256_update(st, (const unsigned char *)name, strlen(name));
        crypto_hash_sha256_update(st, (const unsigned char *)"\t", 1);
        crypto_hash_sha256_update(st, (const unsigned char *)sorted[i]->key,
                                  strlen(sorted[i]->key));
        crypto_hash_sha256_update(st, (const unsigned char *)"\t", 1);
        crypto_hash_sha256_update(st, (const unsigned char *)text, strlen(text));
        crypto_hash_sha256_update(st, (const unsigned char *)"\n", 1);
        free(text);
    }
    free(sorted);
    return rc;
}

int directory_digest(const directory *d, char hex_r[DIRECTORY_DIGEST_HEX_SIZE])
{
    crypto_hash_sha256_state st;
    unsigned char out[crypto_hash_sha256_BYTES];
    crypto_hash_sha256_init(&st);
    for (int k = 0; k < DIRECTORY_KIND_COUNT; k++) {
        if (digest_kind(d, (directory_kind)k, &st) != 0) {
            hex_r[0] = '\0';
            return -1;
        }
    }
    crypto_hash_sha256_final(&st, out);
    sodium_bin2hex(hex_r, DIRECTORY_DIGEST_HEX_SIZE, out, sizeof(out));
    return 0;
}
