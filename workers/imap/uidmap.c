/* Message sequence numbers <-> UIDs of a view, as runs of consecutive UIDs
 * (imapd.h). Pure. */
#include "imapd.h"

#include <stdlib.h>
#include <string.h>

void imapd_uidmap_free(imapd_uidmap *m)
{
    free(m->runs);
    memset(m, 0, sizeof *m);
}

/* The run holding message msn (1..count). */
static size_t uidmap_run_of_msn(const imapd_uidmap *m, uint32_t msn)
{
    size_t lo = 0, hi = m->n;
    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;
        if (m->runs[mid].before < msn)
            lo = mid;
        else
            hi = mid;
    }
    return lo;
}

/* The last run whose first UID is <= uid, or m->n when none. */
static size_t uidmap_run_of_uid(const imapd_uidmap *m, uint32_t uid)
{
    if (m->n == 0 || uid < m->runs[0].first)
        return m->n;
    size_t lo = 0, hi = m->n;
    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;
        if (m->runs[mid].first <= uid)
            lo = mid;
        else
            hi = mid;
    }
    return lo;
}

uint32_t imapd_uidmap_uid(const imapd_uidmap *m, uint32_t msn)
{
    if (msn == 0 || msn > m->count)
        return 0;
    const imapd_uidrun *r = &m->runs[uidmap_run_of_msn(m, msn)];
    return r->first + (msn - r->before - 1);
}

uint32_t imapd_uidmap_msn(const imapd_uidmap *m, uint32_t uid)
{
    size_t i = uidmap_run_of_uid(m, uid);
    if (i == m->n || uid > m->runs[i].last)
        return 0;
    return m->runs[i].before + (uid - m->runs[i].first) + 1;
}

uint32_t imapd_uidmap_last(const imapd_uidmap *m)
{
    return m->n == 0 ? 0 : m->runs[m->n - 1].last;
}

static int uidmap_grow(imapd_uidmap *m)
{
    if (m->n < m->cap)
        return 0;
    size_t cap = m->cap == 0 ? 4 : m->cap * 2;
    imapd_uidrun *r = realloc(m->runs, cap * sizeof *r);
    if (r == NULL)
        return -1;
    m->runs = r;
    m->cap = cap;
    return 0;
}

int imapd_uidmap_append(imapd_uidmap *m, uint32_t uid)
{
    if (uid == 0 || (m->n > 0 && uid <= m->runs[m->n - 1].last) || m->count == UINT32_MAX)
        return -1;
    if (m->n > 0 && uid == m->runs[m->n - 1].last + 1) {
        m->runs[m->n - 1].last = uid;
    } else {
        if (uidmap_grow(m) < 0)
            return -1;
        m->runs[m->n++] = (imapd_uidrun){uid, uid, m->count};
    }
    m->count++;
    return 0;
}

uint32_t imapd_uidmap_remove(imapd_uidmap *m, uint32_t uid)
{
    size_t i = uidmap_run_of_uid(m, uid);
    if (i == m->n || uid > m->runs[i].last)
        return 0;
    imapd_uidrun *r = &m->runs[i];
    uint32_t msn = r->before + (uid - r->first) + 1;
    if (r->first == r->last) {
        memmove(r, r + 1, (m->n - i - 1) * sizeof *r);
        m->n--;
    } else if (uid == r->first) {
        r->first++;
        i++;
    } else if (uid == r->last) {
        r->last--;
        i++;
    } else {
        if (uidmap_grow(m) < 0)
            return 0;
        r = &m->runs[i];
        memmove(r + 2, r + 1, (m->n - i - 1) * sizeof *r);
        m->n++;
        r[1] = (imapd_uidrun){uid + 1, r->last, msn - 1};
        r->last = uid - 1;
        i += 2;
    }
    for (; i < m->n; i++)
        m->runs[i].before--;
    m->count--;
    return msn;
}
