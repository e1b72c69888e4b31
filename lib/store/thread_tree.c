/* lib/store: THREAD, the parts around the REFERENCES algorithm (thread.c):
 * the subject table, ORDEREDSUBJECT, the result tree and the text of the
 * THREAD response (RFC 5256 4). Pure. */
#include "store_int.h"
#include "store_sort.h"
#include "thread_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TH_NONE STORE_THREAD_NONE
#define TH_NUM_MAX 16 /* bytes one node adds to the text at most: "((4294967295 " */

static unsigned char th_upper(unsigned char c)
{
    return c >= 'a' && c <= 'z' ? (unsigned char)(c - ('a' - 'A')) : c;
}

/* i;ascii-casemap (RFC 4790 9.2), as OM_CASEMAP in search_header.c. */
static int th_casemap_cmp(const char *a, const char *b)
{
    const unsigned char *x = (const unsigned char *)a, *y = (const unsigned char *)b;
    for (;; x++, y++) {
        unsigned char cx = th_upper(*x), cy = th_upper(*y);
        if (cx != cy || cx == '\0')
            return cx < cy ? -1 : cx > cy;
    }
}

static size_t th_casemap_hash(const char *s)
{
    size_t h = 1469598103934665603u;
    for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++)
        h = (h ^ th_upper(*p)) * 1099511628211u;
    return h;
}

/* ---- The subject table (REFERENCES step 5) ------------------------------------- */

static int th_subject_grow(th_subject_table *st)
{
    size_t cap = st->cap ? st->cap * 2 : 64;
    th_subject_entry *v = calloc(cap, sizeof(*v));
    if (v == NULL)
        return STORE_ERR_NOMEM;
    for (size_t i = 0; i < st->cap; i++) {
        if (st->v[i].s == NULL)
            continue;
        size_t h = th_casemap_hash(st->v[i].s) & (cap - 1);
        while (v[h].s != NULL)
            h = (h + 1) & (cap - 1);
        v[h] = st->v[i];
    }
    free(st->v);
    st->v = v;
    st->cap = cap;
    return STORE_OK;
}

int th_subject_slot(th_subject_table *st, const char *subject, size_t **slot_r)
{
    if (2 * (st->used + 1) > st->cap && th_subject_grow(st) != STORE_OK)
        return STORE_ERR_NOMEM;
    size_t h = th_casemap_hash(subject) & (st->cap - 1);
    while (st->v[h].s != NULL && th_casemap_cmp(st->v[h].s, subject) != 0)
        h = (h + 1) & (st->cap - 1);
    if (st->v[h].s == NULL) {
        st->v[h] = (th_subject_entry){subject, TH_NONE};
        st->used++;
    }
    *slot_r = &st->v[h].node;
    return STORE_OK;
}

/* ---- ORDEREDSUBJECT -------------------------------------------------------------- */

typedef struct {
    const char *subject;
    int64_t date;
    uint32_t uid;
    size_t row;
} th_subject_key;

static int th_subject_key_cmp(const void *a, const void *b)
{
    const th_subject_key *x = a, *y = b;
    int c = th_casemap_cmp(x->subject, y->subject);
    if (c != 0)
        return c;
    if (x->date != y->date)
        return x->date < y->date ? -1 : 1;
    return x->uid < y->uid ? -1 : x->uid > y->uid;
}

/* RFC 5256 3: sorted by base subject, then sent date; each run of one
 * subject is a thread whose first message is the parent of all the
 * others; threads in the order of their first message's sent date. */
int th_ordered_subject(th_ctx *t, const th_key *order)
{
    th_subject_key *v = malloc((t->nrows ? t->nrows : 1) * sizeof(*v));
    if (v == NULL)
        return STORE_ERR_NOMEM;
    for (size_t i = 0; i < t->nrows; i++) {
        const store_thread_row *r = &t->rows[order[i].node];
        v[i] = (th_subject_key){r->sort_subject != NULL ? r->sort_subject : "", r->date, r->uid,
                                order[i].node};
    }
    qsort(v, t->nrows, sizeof(*v), th_subject_key_cmp);
    int rc = STORE_OK;
    size_t head = TH_NONE;
    for (size_t i = 0; rc == STORE_OK && i < t->nrows; i++) {
        size_t x = TH_NONE;
        rc = th_node_new(t, v[i].row, &x);
        if (rc != STORE_OK)
            break;
        if (i == 0 || th_casemap_cmp(v[i - 1].subject, v[i].subject) != 0) {
            th_append(t, t->root, x);
            head = x;
        } else {
            th_append(t, head, x);
        }
    }
    free(v);
    if (rc != STORE_OK)
        return rc;
    /* the threads by the date of their first message, then its UID */
    size_t k = 0;
    th_key *top = malloc((t->nrows ? t->nrows : 1) * sizeof(*top));
    if (top == NULL)
        return STORE_ERR_NOMEM;
    for (size_t c = t->nodes[t->root].first; c != TH_NONE; c = t->nodes[c].next)
        top[k++] = (th_key){t->nodes[c].date, t->nodes[c].uid, c};
    qsort(top, k, sizeof(*top), th_key_sort);
    t->nodes[t->root].first = t->nodes[t->root].last = TH_NONE;
    for (size_t i = 0; i < k; i++) {
        t->nodes[top[i].node].parent = TH_NONE;
        th_append(t, t->root, top[i].node);
    }
    free(top);
    return STORE_OK;
}

/* ---- The result ------------------------------------------------------------------ */

int th_tree_out(th_ctx *t, store_thread_tree *tree_r)
{
    int rc = th_preorder(t, t->root);
    if (rc != STORE_OK)
        return rc;
    size_t n = t->norder - 1; /* the root is not a node of the result */
    size_t *map = malloc(t->n * sizeof(*map));
    store_thread_node *v = malloc((n ? n : 1) * sizeof(*v));
    if (map == NULL || v == NULL) {
        free(map);
        free(v);
        return STORE_ERR_NOMEM;
    }
    for (size_t i = 0; i < t->n; i++)
        map[i] = TH_NONE;
    for (size_t i = 1; i < t->norder; i++)
        map[t->order[i]] = i - 1;
    for (size_t i = 1; i < t->norder; i++) {
        const th_node *x = &t->nodes[t->order[i]];
        v[i - 1] = (store_thread_node){
            .uid = x->row != TH_NONE ? t->rows[x->row].uid : 0,
            .first_child = x->first != TH_NONE ? map[x->first] : TH_NONE,
            .next_sibling = x->next != TH_NONE ? map[x->next] : TH_NONE,
        };
    }
    size_t first = t->nodes[t->root].first;
    tree_r->first = first != TH_NONE ? map[first] : TH_NONE;
    tree_r->nodes = v;
    tree_r->n = n;
    free(map);
    return STORE_OK;
}

void store_thread_tree_free(store_thread_tree *tree)
{
    if (tree == NULL)
        return;
    free(tree->nodes);
    tree->nodes = NULL;
    tree->n = 0;
    tree->first = TH_NONE;
}

/* ---- The THREAD response (RFC 5256 4) ---------------------------------------------
 * thread-list = "(" (thread-members / thread-nested) ")"
 * thread-members = nz-number *(SP nz-number) [SP thread-nested]
 * thread-nested = 2*thread-list
 * A node with one child goes on in the same list ("1 2"); with more, each
 * child opens a list of its own ("1 (2)(3)"); a dummy shows no number. */

static int th_num(buf *out, const store_thread_node *x, store_thread_map_cb map, void *ctx)
{
    uint32_t num = x->uid;
    if (map != NULL) {
        int rc = map(ctx, x->uid, &num);
        if (rc != 0)
            return rc;
    }
    return buf_printf(out, "%u", num) < 0 ? STORE_ERR_NOMEM : STORE_OK;
}

/* One top-level thread. stack holds, for every nested group open, the
 * next sibling to open a list for. */
static int th_format_thread(const store_thread_tree *tree, size_t x, size_t *stack, buf *out,
                            store_thread_map_cb map, void *ctx)
{
    const store_thread_node *v = tree->nodes;
    size_t sp = 0;
    int rc = buf_append_char(out, '(') < 0 ? STORE_ERR_NOMEM : STORE_OK;
    while (rc == STORE_OK) {
        for (;;) { /* the members of the list x is in, from x */
            bool dummy = v[x].uid == 0;
            if (!dummy && (rc = th_num(out, &v[x], map, ctx)) != STORE_OK)
                return rc;
            size_t c = v[x].first_child;
            if (c == TH_NONE)
                break;
            if (!dummy)
                buf_append_char(out, ' ');
            if (v[c].next_sibling != TH_NONE) { /* thread-nested */
                stack[sp++] = v[c].next_sibling;
                buf_append_char(out, '(');
            }
            x = c;
        }
        buf_append_char(out, ')');
        while (sp > 0 && stack[sp - 1] == TH_NONE) { /* a nested group ends: its list too */
            sp--;
            buf_append_char(out, ')');
        }
        if (sp == 0)
            break;
        x = stack[sp - 1];
        stack[sp - 1] = v[x].next_sibling;
        buf_append_char(out, '(');
    }
    return rc != STORE_OK ? rc : out->failed ? STORE_ERR_NOMEM : STORE_OK;
}

int store_thread_format(const store_thread_tree *tree, store_thread_map_cb map, void *ctx,
                        char **out_r, size_t *len_r)
{
    *out_r = NULL;
    if (len_r != NULL)
        *len_r = 0;
    if (tree == NULL || (tree->n > 0 && tree->nodes == NULL) ||
        tree->n > (SIZE_MAX - 2) / TH_NUM_MAX)
        return STORE_ERR_INVALID;
    size_t *stack = malloc((tree->n ? tree->n : 1) * sizeof(*stack));
    if (stack == NULL)
        return STORE_ERR_NOMEM;
    buf out;
    buf_init(&out, tree->n * TH_NUM_MAX + 1);
    int rc = buf_append(&out, "", 0) < 0 ? STORE_ERR_NOMEM : STORE_OK;
    for (size_t x = tree->first; rc == STORE_OK && x != TH_NONE; x = tree->nodes[x].next_sibling)
        rc = th_format_thread(tree, x, stack, &out, map, ctx);
    free(stack);
    if (rc != STORE_OK) {
        buf_free(&out);
        return rc;
    }
    if (len_r != NULL)
        *len_r = out.len;
    *out_r = buf_steal(&out);
    return STORE_OK;
}
