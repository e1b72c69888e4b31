/* thread_int: what thread.c (REFERENCES) shares with thread_tree.c
 * (ORDEREDSUBJECT, the subject table, the result tree and its text). */
#ifndef OM_STORE_THREAD_INT_H
#define OM_STORE_THREAD_INT_H

#include "buf.h"
#include "store_sort.h"

/* A container of RFC 5256 REFERENCES (a message, or a dummy: row NONE).
 * Links are node indexes; STORE_THREAD_NONE when absent. */
typedef struct {
    size_t row;                             /* index in rows, or NONE for a dummy */
    size_t parent, first, last, prev, next; /* the tree: children in a doubly linked list */
    size_t id, id_len;                      /* its msg-id in th_ctx.ids (id NONE: unique) */
    int64_t date;                           /* sort key: the row's, a dummy's first child's */
    uint32_t uid;
} th_node;

typedef struct {
    const store_thread_row *rows;
    size_t nrows;
    th_node *nodes; /* nodes[root] is the root of every thread */
    size_t n, cap, root;
    size_t *table; /* msg-id -> node, open addressing */
    size_t tcap, tused;
    buf ids;       /* the msg-ids, NUL-separated */
    size_t *order; /* scratch: a pre-order walk */
    size_t norder;
} th_ctx;

/* A sort key: (date, uid) of a node or a row. */
typedef struct {
    int64_t date;
    uint32_t uid;
    size_t node;
} th_key;

/* Base subject -> node, compared with i;ascii-casemap. */
typedef struct {
    const char *s;
    size_t node;
} th_subject_entry;

typedef struct {
    th_subject_entry *v;
    size_t cap, used;
} th_subject_table;

/* The node slot of subject (a new one holds NONE). The pointer is valid
 * until the next call. */
int th_subject_slot(th_subject_table *st, const char *subject, size_t **slot_r);

/* A new node for row (NONE: a dummy), unlinked. */
int th_node_new(th_ctx *t, size_t row, size_t *x_r);
/* qsort order of th_key: date, then UID (sequence order, RFC 5256 2.2). */
int th_key_sort(const void *a, const void *b);
void th_unlink(th_ctx *t, size_t x);
void th_append(th_ctx *t, size_t parent, size_t x);
/* The nodes under x in pre-order (x first) into t->order / t->norder. */
int th_preorder(th_ctx *t, size_t x);

/* ORDEREDSUBJECT over the rows (order: row indexes in UID order). */
int th_ordered_subject(th_ctx *t, const th_key *order);
/* The tree under t->root as a store_thread_tree. */
int th_tree_out(th_ctx *t, store_thread_tree *tree_r);

#endif
