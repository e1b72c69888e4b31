/* lib/store: THREAD (RFC 5256 3), a pure module: rows in, a tree out.
 * ORDEREDSUBJECT groups by base subject; REFERENCES is the algorithm of
 * the RFC (after Jamie Zawinski's), steps 1 to 6 below. Every walk is a
 * loop over explicit lists: a chain of replies as long as the mailbox
 * does not grow the C stack. ORDEREDSUBJECT, the result and its text:
 * thread_tree.c. */
#include "store_int.h"
#include "store_sort.h"
#include "thread_int.h"

#include <stdlib.h>
#include <string.h>

#define TH_NONE STORE_THREAD_NONE

/* ---- Message IDs ---------------------------------------------------------------- */

/* The next msg-id of s from *pos, normalised into out (at most
 * STORE_THREAD_ID_MAX bytes, NUL-terminated): the text between "<" and ">"
 * without quotes, backslashes of quoted-pairs and folding white space (what
 * is inside quotes stays), so that <"ab"@c> and <ab@c> are the same ID
 * (RFC 5256 3, REFERENCES). Valid: not empty, with an "@". Returns its
 * length, 0 when s holds no more. */
static size_t th_msgid_next(const char *s, size_t len, size_t *pos,
                            char out[STORE_THREAD_ID_MAX + 1])
{
    while (*pos < len) {
        const char *lt = memchr(s + *pos, '<', len - *pos);
        if (lt == NULL)
            break;
        size_t i = (size_t)(lt - s) + 1, n = 0;
        bool quoted = false, over = false, at = false, closed = false;
        for (; i < len; i++) {
            char c = s[i];
            if (c == '\\' && i + 1 < len)
                c = s[++i];
            else if (c == '"') {
                quoted = !quoted;
                continue;
            } else if (!quoted && (c == '>' || c == '<'))
                break;
            if (!quoted && (c == ' ' || c == '\t' || c == '\r' || c == '\n'))
                continue;
            at |= c == '@';
            if (n < STORE_THREAD_ID_MAX)
                out[n++] = c;
            else
                over = true;
        }
        closed = i < len && s[i] == '>';
        *pos = closed ? i + 1 : i; /* a '<' starts the next try */
        if (closed && n > 0 && at && !over) {
            out[n] = '\0';
            return n;
        }
    }
    *pos = len;
    return 0;
}

/* ---- Nodes and the ID table ---------------------------------------------------- */

static size_t th_hash(const char *s, size_t len)
{
    size_t h = 1469598103934665603u;
    for (size_t i = 0; i < len; i++)
        h = (h ^ (unsigned char)s[i]) * 1099511628211u;
    return h;
}

int th_node_new(th_ctx *t, size_t row, size_t *x_r)
{
    if (t->n == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 64;
        th_node *v = realloc(t->nodes, cap * sizeof(*v));
        if (v == NULL)
            return STORE_ERR_NOMEM;
        t->nodes = v;
        t->cap = cap;
    }
    th_node *x = &t->nodes[t->n];
    *x = (th_node){.row = row,
                   .parent = TH_NONE,
                   .first = TH_NONE,
                   .last = TH_NONE,
                   .prev = TH_NONE,
                   .next = TH_NONE,
                   .id = TH_NONE};
    if (row != TH_NONE) {
        x->date = t->rows[row].date;
        x->uid = t->rows[row].uid;
    }
    *x_r = t->n++;
    return STORE_OK;
}

static const char *th_id(const th_ctx *t, size_t x)
{
    return t->ids.data + t->nodes[x].id;
}

static int th_table_grow(th_ctx *t)
{
    size_t cap = t->tcap ? t->tcap * 2 : 256;
    size_t *v = malloc(cap * sizeof(*v));
    if (v == NULL)
        return STORE_ERR_NOMEM;
    for (size_t i = 0; i < cap; i++)
        v[i] = TH_NONE;
    for (size_t i = 0; i < t->tcap; i++) {
        size_t x = t->table[i];
        if (x == TH_NONE)
            continue;
        size_t h = th_hash(th_id(t, x), t->nodes[x].id_len) & (cap - 1);
        while (v[h] != TH_NONE)
            h = (h + 1) & (cap - 1);
        v[h] = x;
    }
    free(t->table);
    t->table = v;
    t->tcap = cap;
    return STORE_OK;
}

/* The node holding id (found: *found_r), or a new dummy for it. */
static int th_lookup(th_ctx *t, const char *id, size_t len, size_t *x_r, bool *found_r)
{
    if (2 * (t->tused + 1) > t->tcap && th_table_grow(t) != STORE_OK)
        return STORE_ERR_NOMEM;
    size_t h = th_hash(id, len) & (t->tcap - 1);
    for (; t->table[h] != TH_NONE; h = (h + 1) & (t->tcap - 1)) {
        size_t x = t->table[h];
        if (t->nodes[x].id_len == len && memcmp(th_id(t, x), id, len) == 0) {
            *x_r = x;
            *found_r = true;
            return STORE_OK;
        }
    }
    *found_r = false;
    size_t off = t->ids.len;
    if (buf_append(&t->ids, id, len + 1) < 0 || th_node_new(t, TH_NONE, x_r) != STORE_OK)
        return STORE_ERR_NOMEM;
    t->nodes[*x_r].id = off;
    t->nodes[*x_r].id_len = len;
    t->table[h] = *x_r;
    t->tused++;
    return STORE_OK;
}

/* ---- Tree operations ---------------------------------------------------------- */

void th_unlink(th_ctx *t, size_t x)
{
    th_node *n = &t->nodes[x];
    if (n->parent == TH_NONE)
        return;
    th_node *p = &t->nodes[n->parent];
    if (n->prev != TH_NONE)
        t->nodes[n->prev].next = n->next;
    else
        p->first = n->next;
    if (n->next != TH_NONE)
        t->nodes[n->next].prev = n->prev;
    else
        p->last = n->prev;
    n->parent = n->prev = n->next = TH_NONE;
}

void th_append(th_ctx *t, size_t p, size_t x)
{
    th_node *n = &t->nodes[x], *pn = &t->nodes[p];
    n->parent = p;
    n->prev = pn->last;
    n->next = TH_NONE;
    if (pn->last != TH_NONE)
        t->nodes[pn->last].next = x;
    else
        pn->first = x;
    pn->last = x;
}

/* x (unlinked) goes just before at, under at's parent. */
static void th_insert_before(th_ctx *t, size_t at, size_t x)
{
    th_node *a = &t->nodes[at], *n = &t->nodes[x];
    n->parent = a->parent;
    n->prev = a->prev;
    n->next = at;
    if (a->prev != TH_NONE)
        t->nodes[a->prev].next = x;
    else
        t->nodes[a->parent].first = x;
    a->prev = x;
}

static size_t th_children(const th_ctx *t, size_t x)
{
    size_t k = 0;
    for (size_t c = t->nodes[x].first; c != TH_NONE && k < 2; c = t->nodes[c].next)
        k++;
    return k; /* 0, 1 or 2 (= two or more) */
}

/* Whether making a the parent of b would make a loop: a is b or one of
 * its descendants (RFC 5256 3, REFERENCES step 1.A). */
static bool th_would_loop(const th_ctx *t, size_t a, size_t b)
{
    if (a == b)
        return true;
    if (t->nodes[b].first == TH_NONE)
        return false;
    for (size_t x = t->nodes[a].parent; x != TH_NONE; x = t->nodes[x].parent)
        if (x == b)
            return true;
    return false;
}

/* ---- REFERENCES step 1 ---------------------------------------------------------- */

/* The node of a message: its Message-ID's (a dummy made by an earlier
 * reference takes the message), or a unique one when it has no valid ID
 * or an earlier message holds it. */
static int th_message_node(th_ctx *t, size_t row, size_t *x_r)
{
    char id[STORE_THREAD_ID_MAX + 1];
    const char *mid = t->rows[row].message_id;
    size_t pos = 0, len = mid != NULL ? th_msgid_next(mid, strlen(mid), &pos, id) : 0;
    bool found = false;
    int rc = len > 0 ? th_lookup(t, id, len, x_r, &found) : th_node_new(t, row, x_r);
    if (rc != STORE_OK || len == 0)
        return rc;
    if (found && t->nodes[*x_r].row != TH_NONE) /* a duplicate ID: a unique one */
        return th_node_new(t, row, x_r);
    t->nodes[*x_r].row = row;
    t->nodes[*x_r].date = t->rows[row].date;
    t->nodes[*x_r].uid = t->rows[row].uid;
    return STORE_OK;
}

/* Steps 1.A and 1.B for one message (node m). */
static int th_link_refs(th_ctx *t, size_t row, size_t m)
{
    const store_thread_row *r = &t->rows[row];
    char id[STORE_THREAD_ID_MAX + 1];
    const char *src = r->references;
    size_t srclen = src != NULL ? strlen(src) : 0, pos = 0, count = 0, len;
    while (th_msgid_next(src, srclen, &pos, id) > 0)
        count++;
    if (count == 0 && r->in_reply_to != NULL) {
        /* no valid ID in References: the first valid ID of In-Reply-To is
         * the only reference */
        src = r->in_reply_to;
        srclen = strlen(src);
        pos = 0;
        count = th_msgid_next(src, srclen, &pos, id) > 0 ? 1 : 0;
    }
    size_t skip = count > STORE_THREAD_REFS_MAX ? count - STORE_THREAD_REFS_MAX : 0;
    size_t prev = TH_NONE, x = TH_NONE;
    pos = 0;
    for (size_t i = 0; i < count && (len = th_msgid_next(src, srclen, &pos, id)) > 0; i++) {
        if (i < skip)
            continue;
        bool found = false;
        int rc = th_lookup(t, id, len, &x, &found);
        if (rc != STORE_OK)
            return rc;
        /* 1.A: a reference keeps the parent it has (References may be cut) */
        if (prev != TH_NONE && t->nodes[x].parent == TH_NONE && !th_would_loop(t, prev, x))
            th_append(t, prev, x);
        prev = x;
    }
    /* 1.B: the last reference is the parent; an older link goes */
    if (t->nodes[m].parent != TH_NONE && t->nodes[m].parent != prev)
        th_unlink(t, m);
    if (prev != TH_NONE && t->nodes[m].parent == TH_NONE && !th_would_loop(t, prev, m))
        th_append(t, prev, m);
    return STORE_OK;
}

/* ---- Order ---------------------------------------------------------------------- */

int th_key_sort(const void *a, const void *b)
{
    const th_key *x = a, *y = b;
    if (x->date != y->date)
        return x->date < y->date ? -1 : 1;
    return x->uid < y->uid ? -1 : x->uid > y->uid;
}

/* Sorts x's children by sent date (RFC 5256 2.2), equal dates in UID
 * (sequence) order; a dummy sorts as its first child. */
static int th_sort_children(th_ctx *t, size_t x)
{
    size_t k = 0;
    for (size_t c = t->nodes[x].first; c != TH_NONE; c = t->nodes[c].next)
        k++;
    if (k >= 2) {
        th_key *v = malloc(k * sizeof(*v));
        if (v == NULL)
            return STORE_ERR_NOMEM;
        k = 0;
        for (size_t c = t->nodes[x].first; c != TH_NONE; c = t->nodes[c].next)
            v[k++] = (th_key){t->nodes[c].date, t->nodes[c].uid, c};
        qsort(v, k, sizeof(*v), th_key_sort);
        t->nodes[x].first = t->nodes[x].last = TH_NONE;
        for (size_t i = 0; i < k; i++) {
            t->nodes[v[i].node].parent = TH_NONE;
            th_append(t, x, v[i].node);
        }
        free(v);
    }
    th_node *n = &t->nodes[x];
    if (n->row == TH_NONE && n->first != TH_NONE) {
        n->date = t->nodes[n->first].date;
        n->uid = t->nodes[n->first].uid;
    }
    return STORE_OK;
}

/* The nodes under x in pre-order (x first) into t->order. */
int th_preorder(th_ctx *t, size_t x)
{
    size_t *v = realloc(t->order, t->n * sizeof(*v));
    if (v == NULL)
        return STORE_ERR_NOMEM;
    t->order = v;
    t->norder = 0;
    for (size_t c = x; c != TH_NONE;) {
        v[t->norder++] = c;
        if (t->nodes[c].first != TH_NONE) {
            c = t->nodes[c].first;
            continue;
        }
        while (c != x && t->nodes[c].next == TH_NONE)
            c = t->nodes[c].parent;
        c = c == x ? TH_NONE : t->nodes[c].next;
    }
    return STORE_OK;
}

/* Step 3: dummies go; their children move up, but not to the root
 * unless there is only one. Descendants before their ancestors. */
static int th_prune(th_ctx *t)
{
    int rc = th_preorder(t, t->root);
    for (size_t i = t->norder; rc == STORE_OK && i-- > 1;) {
        size_t x = t->order[i];
        th_node *n = &t->nodes[x];
        if (n->row != TH_NONE)
            continue;
        size_t kids = th_children(t, x);
        if (kids == 0) {
            th_unlink(t, x);
        } else if (n->parent != t->root || kids == 1) {
            while (n->first != TH_NONE) {
                size_t c = n->first;
                th_unlink(t, c);
                th_insert_before(t, x, c);
            }
            th_unlink(t, x);
        }
    }
    return rc;
}

/* Step 6 (and step 4 for the top level): every set of siblings by date,
 * the youngest sets first (post-order), so a dummy knows its first child. */
static int th_sort_all(th_ctx *t)
{
    int rc = th_preorder(t, t->root);
    for (size_t i = t->norder; rc == STORE_OK && i-- > 0;)
        rc = th_sort_children(t, t->order[i]);
    return rc;
}

/* ---- REFERENCES step 5: threads with the same base subject ------------------------ */

static const char *th_subject(const th_ctx *t, size_t x)
{
    const th_node *n = &t->nodes[x];
    size_t row = n->row != TH_NONE ? n->row : t->nodes[n->first].row;
    const char *s = row != TH_NONE ? t->rows[row].sort_subject : NULL;
    return s != NULL ? s : "";
}

static bool th_reply(const th_ctx *t, size_t x)
{
    return t->nodes[x].row != TH_NONE && t->rows[t->nodes[x].row].reply;
}

/* Merges the top-level threads of rule 5.F into the subject table's. */
static int th_merge(th_ctx *t, size_t x, size_t y)
{
    th_node *tn = &t->nodes[y], *xn = &t->nodes[x];
    th_unlink(t, x);
    if (tn->row == TH_NONE && xn->row == TH_NONE) { /* both dummies: children join */
        while (xn->first != TH_NONE) {
            size_t c = xn->first;
            th_unlink(t, c);
            th_append(t, y, c);
        }
        return STORE_OK;
    }
    if (tn->row == TH_NONE || (th_reply(t, x) && !th_reply(t, y))) {
        th_append(t, y, x);
        return STORE_OK;
    }
    size_t d;
    if (th_node_new(t, TH_NONE, &d) != STORE_OK)
        return STORE_ERR_NOMEM;
    th_insert_before(t, y, d);
    th_unlink(t, y);
    th_append(t, d, y);
    th_append(t, d, x);
    return STORE_OK;
}

static int th_subjects(th_ctx *t)
{
    int rc = th_preorder(t, t->root);
    size_t top = 0; /* the top-level nodes as they are now (t->order is reused) */
    for (size_t c = t->nodes[t->root].first; rc == STORE_OK && c != TH_NONE; c = t->nodes[c].next)
        t->order[top++] = c;
    th_subject_table st = {0};
    for (size_t i = 0; rc == STORE_OK && i < top; i++) { /* 5.A - 5.E */
        size_t x = t->order[i];
        const char *s = th_subject(t, x);
        size_t *slot = NULL;
        if (s[0] == '\0')
            continue;
        if ((rc = th_subject_slot(&st, s, &slot)) != STORE_OK)
            break;
        size_t y = *slot;
        if (y == TH_NONE || (t->nodes[y].row != TH_NONE &&
                             (t->nodes[x].row == TH_NONE || (th_reply(t, y) && !th_reply(t, x)))))
            *slot = x;
    }
    for (size_t i = 0; rc == STORE_OK && i < top; i++) { /* 5.F */
        size_t x = t->order[i], *slot = NULL;
        if (t->nodes[x].parent != t->root)
            continue; /* merged into another thread already */
        const char *s = th_subject(t, x);
        if (s[0] == '\0' || (rc = th_subject_slot(&st, s, &slot)) != STORE_OK || *slot == x)
            continue;
        size_t y = *slot;
        size_t before = t->n;
        rc = th_merge(t, x, y);
        if (rc == STORE_OK && t->n > before) /* a new dummy holds both */
            *slot = t->n - 1;
    }
    free(st.v);
    return rc;
}

/* ---- The algorithms ------------------------------------------------------------- */

static int th_uid_cmp(const void *a, const void *b)
{
    const th_key *x = a, *y = b;
    return x->uid < y->uid ? -1 : x->uid > y->uid;
}

/* Row indexes in UID order (the order of the RFC's steps); distinct,
 * non-zero UIDs. */
static int th_row_order(const store_thread_row *rows, size_t n, th_key **v_r)
{
    th_key *v = malloc((n ? n : 1) * sizeof(*v));
    if (v == NULL)
        return STORE_ERR_NOMEM;
    for (size_t i = 0; i < n; i++)
        v[i] = (th_key){rows[i].date, rows[i].uid, i};
    qsort(v, n, sizeof(*v), th_uid_cmp);
    for (size_t i = 0; i < n; i++)
        if (v[i].uid == 0 || (i > 0 && v[i].uid == v[i - 1].uid)) {
            free(v);
            return STORE_ERR_INVALID;
        }
    *v_r = v;
    return STORE_OK;
}

static int th_references(th_ctx *t, const th_key *order)
{
    int rc = STORE_OK;
    for (size_t i = 0; rc == STORE_OK && i < t->nrows; i++) { /* step 1 */
        size_t m = TH_NONE;
        rc = th_message_node(t, order[i].node, &m);
        if (rc == STORE_OK)
            rc = th_link_refs(t, order[i].node, m);
    }
    for (size_t x = 0; rc == STORE_OK && x < t->n; x++) /* step 2 */
        if (x != t->root && t->nodes[x].parent == TH_NONE)
            th_append(t, t->root, x);
    if (rc == STORE_OK)
        rc = th_prune(t); /* step 3 */
    if (rc == STORE_OK)
        rc = th_sort_all(t); /* step 4 (the dummies need their first child) */
    if (rc == STORE_OK)
        rc = th_subjects(t); /* step 5 */
    if (rc == STORE_OK)
        rc = th_sort_all(t); /* step 6 */
    return rc;
}

int store_thread_build(store_thread_algo algo, const store_thread_row *rows, size_t n,
                       store_thread_tree *tree_r)
{
    memset(tree_r, 0, sizeof(*tree_r));
    tree_r->first = TH_NONE;
    if ((rows == NULL && n > 0) ||
        (algo != STORE_THREAD_REFERENCES && algo != STORE_THREAD_ORDEREDSUBJECT))
        return STORE_ERR_INVALID;
    th_key *order = NULL;
    int rc = th_row_order(rows, n, &order);
    if (rc != STORE_OK)
        return rc;
    th_ctx t = {.rows = rows, .nrows = n};
    buf_init(&t.ids, SIZE_MAX - 1);
    rc = th_node_new(&t, TH_NONE, &t.root);
    if (rc == STORE_OK)
        rc = algo == STORE_THREAD_REFERENCES ? th_references(&t, order)
                                             : th_ordered_subject(&t, order);
    if (rc == STORE_OK)
        rc = th_tree_out(&t, tree_r);
    free(order);
    free(t.nodes);
    free(t.table);
    free(t.order);
    buf_free(&t.ids);
    return rc;
}
