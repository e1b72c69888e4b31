/* timer: one-shot timers on a binary min-heap ordered by due time. A
 * connection's own timer is embedded in it and re-armed lazily (see conn.c),
 * so ordinary I/O never touches the heap. */
#include "net_internal.h"

#include "log.h"

#include <stdlib.h>

static bool timer_before(const net_timer *a, const net_timer *b)
{
    return a->due < b->due;
}

static void heap_place(net_loop *l, size_t i, net_timer *t)
{
    l->heap[i] = t;
    t->idx = i;
}

static void heap_up(net_loop *l, size_t i)
{
    net_timer *t = l->heap[i];
    while (i > 0) {
        size_t parent = (i - 1) / 2;
        if (!timer_before(t, l->heap[parent]))
            break;
        heap_place(l, i, l->heap[parent]);
        i = parent;
    }
    heap_place(l, i, t);
}

static void heap_down(net_loop *l, size_t i)
{
    net_timer *t = l->heap[i];
    for (;;) {
        size_t child = 2 * i + 1;
        if (child >= l->heap_len)
            break;
        if (child + 1 < l->heap_len && timer_before(l->heap[child + 1], l->heap[child]))
            child++;
        if (!timer_before(l->heap[child], t))
            break;
        heap_place(l, i, l->heap[child]);
        i = child;
    }
    heap_place(l, i, t);
}

void net_timer_init(net_timer *t, net_loop *l, net_timer_fn fn, void *arg)
{
    t->due = 0;
    t->idx = NET_TIMER_UNARMED;
    t->fn = fn;
    t->arg = arg;
    t->owned = false;
    t->loop = l;
}

void net_timer_disarm(net_timer *t)
{
    if (t->idx == NET_TIMER_UNARMED)
        return;
    net_loop *l = t->loop;
    size_t i = t->idx;
    t->idx = NET_TIMER_UNARMED;
    l->heap_len--;
    if (i == l->heap_len)
        return;
    net_timer *moved = l->heap[l->heap_len];
    heap_place(l, i, moved);
    heap_up(l, i);
    heap_down(l, moved->idx);
}

void net_timer_arm(net_timer *t, uint64_t due)
{
    net_loop *l = t->loop;
    if (t->idx != NET_TIMER_UNARMED) {
        t->due = due;
        heap_up(l, t->idx);
        heap_down(l, t->idx);
        return;
    }
    if (l->heap_len == l->heap_cap) {
        size_t cap = l->heap_cap == 0 ? 64 : l->heap_cap * 2;
        net_timer **h = realloc(l->heap, cap * sizeof(*h));
        if (h == NULL) /* a timer that cannot fire would hang a conn forever */
            log_fatal("net: out of memory for timers");
        l->heap = h;
        l->heap_cap = cap;
    }
    t->due = due;
    heap_place(l, l->heap_len++, t);
    heap_up(l, t->idx);
}

net_timer *net_timer_add(net_loop *l, unsigned ms, net_timer_fn fn, void *arg)
{
    net_timer *t = malloc(sizeof(*t));
    if (t == NULL)
        return NULL;
    net_timer_init(t, l, fn, arg);
    t->owned = true;
    net_timer_arm(t, net_now_ms() + ms);
    return t;
}

void net_timer_cancel(net_timer **t)
{
    if (t == NULL || *t == NULL)
        return;
    net_timer_disarm(*t);
    if ((*t)->owned)
        free(*t);
    *t = NULL;
}

int net_timers_next_ms(net_loop *l)
{
    if (l->heap_len == 0)
        return -1;
    uint64_t now = net_now_ms();
    uint64_t due = l->heap[0]->due;
    if (due <= now)
        return 0;
    uint64_t d = due - now;
    return d > 60000 ? 60000 : (int)d;
}

void net_timers_run(net_loop *l)
{
    uint64_t now = l->now;
    while (l->heap_len > 0 && l->heap[0]->due <= now) {
        net_timer *t = l->heap[0];
        net_timer_disarm(t);
        net_timer_fn fn = t->fn;
        void *arg = t->arg;
        if (t->owned)
            free(t);
        fn(l, arg);
    }
}

void net_timers_free(net_loop *l)
{
    while (l->heap_len > 0) {
        net_timer *t = l->heap[0];
        net_timer_disarm(t);
        if (t->owned)
            free(t);
    }
    free(l->heap);
    l->heap = NULL;
    l->heap_cap = 0;
}
