/* imap_search -> store_search (see search_store.h). */
#include "search_store.h"

#include <stdlib.h>
#include <string.h>

#include "imap_flags.h"
#include "imap_int.h"

_Static_assert(IMAP_FLAG_SEEN == STORE_FLAG_SEEN && IMAP_FLAG_ANSWERED == STORE_FLAG_ANSWERED &&
                   IMAP_FLAG_FLAGGED == STORE_FLAG_FLAGGED &&
                   IMAP_FLAG_DELETED == STORE_FLAG_DELETED && IMAP_FLAG_DRAFT == STORE_FLAG_DRAFT,
               "IMAP and store flag bits differ");
_Static_assert(IMAP_SEARCH_NODES_MAX == STORE_SEARCH_NODES_MAX &&
                   IMAP_SEARCH_STR_MAX == STORE_SEARCH_STR_MAX &&
                   IMAP_SEARCH_FIELD_MAX == STORE_SEARCH_FIELD_MAX &&
                   IMAP_KEYWORD_MAX == STORE_KEYWORD_MAX,
               "IMAP and store search limits differ");

typedef struct conv {
    imap_search_store *out;
    const imap_search_map *map;
    imap_error *e;
} conv;

static store_range *conv_ranges(conv *c, size_t n)
{
    store_range *r = malloc((n > 0 ? n : 1) * sizeof(*r));
    if (r == NULL) {
        imap_fail(c->e, IMAP_RESP_NO, NULL, "out of memory");
        return NULL;
    }
    c->out->ranges[c->out->nranges++] = r;
    return r;
}

static void conv_set(store_search *s, const store_uidset *set)
{
    s->kind = STORE_SK_UID;
    if (set != NULL)
        s->uids = *set;
}

/* UID set: the ranges, and "*" as uid_star. */
static int conv_uid(conv *c, const imap_seqset *set, store_search *s)
{
    if (set->saved) {
        conv_set(s, c->map->saved);
        return 0;
    }
    store_range *r = conv_ranges(c, set->n + 1);
    if (r == NULL)
        return -1;
    size_t n = 0;
    for (size_t i = 0; i < set->n; i++)
        r[n++] = (store_range){set->ranges[i].first, set->ranges[i].last};
    if (set->star) {
        uint32_t star = c->map->uid_star;
        uint32_t lo = set->star_lo < star ? set->star_lo : star;
        uint32_t hi = set->star_hi > star ? set->star_hi : star;
        if (hi > 0)
            r[n++] = (store_range){lo > 0 ? lo : 1, hi};
    }
    s->kind = STORE_SK_UID;
    s->uids = (store_uidset){r, n};
    return 0;
}

/* Message sequence numbers: each range to the UID range of its ends. */
static int conv_seq(conv *c, const imap_seqset *set, store_search *s)
{
    uint32_t msgs = c->map->messages;
    if (set->saved) {
        conv_set(s, c->map->saved);
        return 0;
    }
    if ((set->star && msgs == 0) || (set->n > 0 && set->ranges[set->n - 1].last > msgs) ||
        (set->star && set->star_hi > msgs))
        return IMAP_BAD(c->e, "invalid message sequence number");
    store_range *r = conv_ranges(c, set->n + 1);
    if (r == NULL)
        return -1;
    size_t n = 0;
    for (size_t i = 0; i < set->n; i++) {
        r[n++] = (store_range){c->map->uid_of(c->map->ctx, set->ranges[i].first),
                               c->map->uid_of(c->map->ctx, set->ranges[i].last)};
    }
    if (set->star) {
        uint32_t lo = set->star_lo < msgs ? set->star_lo : msgs;
        r[n++] = (store_range){c->map->uid_of(c->map->ctx, lo), c->map->uid_of(c->map->ctx, msgs)};
    }
    s->kind = STORE_SK_UID;
    s->uids = (store_uidset){r, n};
    return 0;
}

static const store_search *conv_key(conv *c, const imap_search_key *k)
{
    imap_search_store *out = c->out;
    store_search *s = &out->nodes[out->nnodes++];
    memset(s, 0, sizeof(*s));
    s->str = k->str;
    s->name = k->name;
    s->num = k->num;
    s->mask = k->mask & STORE_FLAG_ALL;
    switch (k->kind) {
    case IMAP_SK_AND:
    case IMAP_SK_OR:
    case IMAP_SK_NOT: {
        s->kind = k->kind == IMAP_SK_AND  ? STORE_SK_AND
                  : k->kind == IMAP_SK_OR ? STORE_SK_OR
                                          : STORE_SK_NOT;
        /* the kids' slots first, so that they stay together */
        const store_search **kids = out->kids + out->nkids;
        out->nkids += k->nkids;
        size_t i = 0;
        for (const imap_search_key *kid = k->kids; kid != NULL; kid = kid->next) {
            if ((kids[i++] = conv_key(c, kid)) == NULL)
                return NULL;
        }
        s->kids = (const store_search *const *)kids;
        s->nkids = k->nkids;
        break;
    }
    case IMAP_SK_UID:
        if (conv_uid(c, &k->set, s) < 0)
            return NULL;
        break;
    case IMAP_SK_SEQ:
        if (conv_seq(c, &k->set, s) < 0)
            return NULL;
        break;
    case IMAP_SK_RECENT:
        conv_set(s, c->map->recent);
        break;
    case IMAP_SK_OLDER:
        s->kind = STORE_SK_BEFORE;
        s->num = c->map->now - k->num;
        break;
    case IMAP_SK_YOUNGER:
        s->kind = STORE_SK_SINCE;
        s->num = c->map->now - k->num;
        break;
    default:
        /* ALL, FLAGS_*, KEYWORD .. BCC: the same kinds in the same order */
        s->kind = (store_search_kind)(STORE_SK_ALL + (k->kind - IMAP_SK_ALL));
        break;
    }
    return s;
}

_Static_assert(IMAP_SK_BCC - IMAP_SK_ALL == STORE_SK_BCC - STORE_SK_ALL &&
                   IMAP_SK_FLAGS_SET - IMAP_SK_ALL == STORE_SK_FLAGS_SET - STORE_SK_ALL &&
                   IMAP_SK_MODSEQ - IMAP_SK_ALL == STORE_SK_MODSEQ - STORE_SK_ALL &&
                   IMAP_SK_HEADER - IMAP_SK_ALL == STORE_SK_HEADER - STORE_SK_ALL,
               "IMAP and store search kinds are not in the same order");

int imap_search_to_store(const imap_search *search, const imap_search_map *map,
                         imap_search_store *out_r, imap_error *error_r)
{
    conv c = {out_r, map, error_r};
    size_t n = search->nnodes > 0 ? search->nnodes : 1;

    memset(out_r, 0, sizeof(*out_r));
    out_r->nodes = calloc(n, sizeof(out_r->nodes[0]));
    out_r->kids = calloc(n, sizeof(out_r->kids[0]));
    out_r->ranges = calloc(n, sizeof(out_r->ranges[0]));
    if (out_r->nodes == NULL || out_r->kids == NULL || out_r->ranges == NULL) {
        imap_search_store_free(out_r);
        return imap_fail(error_r, IMAP_RESP_NO, NULL, "out of memory");
    }
    if (search->root == NULL) {
        imap_search_store_free(out_r);
        return IMAP_BAD(error_r, "empty search");
    }
    out_r->root = conv_key(&c, search->root);
    if (out_r->root == NULL) {
        imap_search_store_free(out_r);
        return -1;
    }
    return 0;
}

void imap_search_store_free(imap_search_store *out)
{
    for (size_t i = 0; i < out->nranges; i++)
        free(out->ranges[i]);
    free(out->ranges);
    free(out->nodes);
    free(out->kids);
    memset(out, 0, sizeof(*out));
}
