/* SELECT, EXAMINE (RFC 9051 6.3.2, 6.3.3; CONDSTORE and QRESYNC parameters
 * of RFC 7162 3.1.8, 3.2.5), UNSELECT (RFC 3691), CLOSE (RFC 9051 6.4.1),
 * and what keeps a session's view of its mailbox in step with the store:
 * imapd_sync and imapd_set_uids. */
#include "imapd.h"

#include "imap_write.h"
#include "log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void imapd_view_free(imapd_view **vp)
{
    imapd_view *v = *vp;
    if (v == NULL)
        return;
    imapd_uidmap_free(&v->map);
    store_uids_free(&v->saved);
    store_uids_free(&v->gone);
    free(v);
    *vp = NULL;
}

/* Adds u to a store_uids list. */
static int uids_add(store_uids *l, uint32_t u)
{
    if (l->n == l->cap) {
        size_t cap = l->cap == 0 ? 16 : l->cap * 2;
        uint32_t *p = realloc(l->uids, cap * sizeof *p);
        if (p == NULL)
            return -1;
        l->uids = p;
        l->cap = cap;
    }
    l->uids[l->n++] = u;
    return 0;
}

static bool uids_has(const store_uids *l, uint32_t u)
{
    for (size_t i = 0; i < l->n; i++)
        if (l->uids[i] == u)
            return true;
    return false;
}

/* Messages of the view with a UID from view->recent_from on. */
static uint32_t view_recent(const imapd_view *v)
{
    uint32_t n = 0;
    for (size_t i = v->map.n; i-- > 0;) {
        const imapd_uidrun *r = &v->map.runs[i];
        if (r->last < v->recent_from)
            break;
        n += r->last - (r->first > v->recent_from ? r->first : v->recent_from) + 1;
    }
    return n;
}

/* ---- sync ------------------------------------------------------------------ */

typedef struct sync_row {
    uint32_t uid;
    uint64_t modseq;
    unsigned flags;
    char *keywords;
} sync_row;

typedef struct sync_ctx {
    imapd_view *v;
    uint32_t last; /* the last UID of the view before the sync */
    store_uids fresh;
    sync_row *rows;
    size_t n, cap;
    int failed;
} sync_ctx;

static int sync_row_cb(void *arg, const store_msg_row *row)
{
    sync_ctx *c = arg;
    if (row->uid > c->last)
        return uids_add(&c->fresh, row->uid) < 0 ? (c->failed = 1) : 0;
    if (imapd_uidmap_msn(&c->v->map, row->uid) == 0)
        return 0;
    if (c->n == c->cap) {
        size_t cap = c->cap == 0 ? 16 : c->cap * 2;
        sync_row *p = realloc(c->rows, cap * sizeof *p);
        if (p == NULL)
            return c->failed = 1;
        c->rows = p;
        c->cap = cap;
    }
    char *kw = strdup(row->keywords != NULL ? row->keywords : "");
    if (kw == NULL)
        return c->failed = 1;
    c->rows[c->n++] = (sync_row){row->uid, row->modseq, row->flags, kw};
    return 0;
}

/* The expunge log was pruned past the view: every UID of the view that is
 * no longer in the store is gone (RFC 7162 3.2.5.1's fallback). */
static int sync_rescan_cb(void *arg, const store_msg_row *row)
{
    store_uids *all = arg;
    return uids_add(all, row->uid);
}

static int sync_gone_full(imapd_session *s, imapd_view *v)
{
    store_uids all = {0};
    int rc = store_msg_foreach(imapd_db(s), v->id, 0, sync_rescan_cb, &all);
    if (rc == STORE_OK) {
        size_t j = 0;
        for (uint32_t msn = 1; msn <= v->map.count; msn++) {
            uint32_t uid = imapd_uidmap_uid(&v->map, msn);
            while (j < all.n && all.uids[j] < uid)
                j++;
            if ((j == all.n || all.uids[j] != uid) && !uids_has(&v->gone, uid))
                uids_add(&v->gone, uid);
        }
    }
    store_uids_free(&all);
    return rc;
}

static int uid_cmp(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

void imapd_write_uid_set(buf *b, const uint32_t *uids, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        uint32_t first = uids[i];
        while (i + 1 < n && uids[i + 1] == uids[i] + 1)
            i++;
        buf_printf(b, first == uids[i] ? "%s%u" : "%s%u:%u", first == uids[0] ? "" : ",", first,
                   uids[i]);
    }
}

void imapd_report_expunged(imapd_session *s, const uint32_t *uids, size_t n)
{
    imapd_view *v = s->view;
    if (!s->qresync) {
        for (size_t i = 0; i < n; i++) {
            uint32_t msn = imapd_uidmap_remove(&v->map, uids[i]);
            if (msn != 0)
                imapd_printf(s, "* %u EXPUNGE\r\n", msn);
        }
        return;
    }
    /* One VANISHED of the UIDs the view held (RFC 7162 3.2.10). */
    uint32_t *held = malloc((n > 0 ? n : 1) * sizeof *held);
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (imapd_uidmap_remove(&v->map, uids[i]) == 0)
            continue;
        if (held != NULL)
            held[k++] = uids[i];
        else /* no memory for the list: one VANISHED each */
            imapd_printf(s, "* VANISHED %u\r\n", uids[i]);
    }
    if (k > 0) {
        imapd_printf(s, "* VANISHED ");
        imapd_write_uid_set(&s->out, held, k);
        imapd_printf(s, "\r\n");
    }
    free(held);
}

/* Reports view->gone (expunges held back until now). */
static void sync_report_gone(imapd_session *s, imapd_view *v)
{
    if (v->gone.n == 0)
        return;
    qsort(v->gone.uids, v->gone.n, sizeof v->gone.uids[0], uid_cmp);
    imapd_report_expunged(s, v->gone.uids, v->gone.n);
    v->gone.n = 0;
}

int imapd_sync(imapd_session *s, bool expunges)
{
    imapd_view *v = s->view;
    store_mailbox mb;
    int rc = store_mailbox_get_by_id(imapd_db(s), v->id, &mb);
    /* Deleted, or deleted and made again (a new UIDVALIDITY), or left as a
     * \Noselect parent: the view is gone (RFC 9051 7.1.5 BYE). */
    if (rc == STORE_ERR_NOMAILBOX ||
        (rc == STORE_OK && ((mb.attrs & STORE_MBX_NOSELECT) != 0 || mb.uidvalidity != v->uidvalidity)))
        return -1;
    if (rc != STORE_OK)
        return 0; /* busy or failing: the next command looks again */
    if (mb.highestmodseq == v->modseq && mb.uidnext == v->uidnext) {
        if (expunges)
            sync_report_gone(s, v);
        return 0;
    }
    sync_ctx c = {.v = v, .last = imapd_uidmap_last(&v->map)};
    rc = store_msg_foreach(imapd_db(s), v->id, v->modseq, sync_row_cb, &c);
    store_uids vanished = {0};
    if (rc == STORE_OK && !c.failed) {
        int vr = store_vanished(imapd_db(s), v->id, v->modseq, NULL, &vanished);
        if (vr == STORE_ERR_EXPUNGE_LOG)
            vr = sync_gone_full(s, v);
        for (size_t i = 0; vr == STORE_OK && i < vanished.n; i++)
            if (imapd_uidmap_msn(&v->map, vanished.uids[i]) != 0 &&
                !uids_has(&v->gone, vanished.uids[i]))
                uids_add(&v->gone, vanished.uids[i]);
        rc = vr;
    }
    if (rc == STORE_OK && !c.failed) {
        if (expunges)
            sync_report_gone(s, v);
        for (size_t i = 0; i < c.fresh.n; i++)
            imapd_uidmap_append(&v->map, c.fresh.uids[i]);
        if (c.fresh.n > 0) {
            imapd_printf(s, "* %u EXISTS\r\n", v->map.count);
            if (!s->rev2)
                imapd_printf(s, "* %u RECENT\r\n", view_recent(v));
        }
        for (size_t i = 0; i < c.n; i++) {
            uint32_t msn = imapd_uidmap_msn(&v->map, c.rows[i].uid);
            if (msn == 0 || uids_has(&v->gone, c.rows[i].uid))
                continue;
            imapd_printf(s, "* %u FETCH (UID %u FLAGS ", msn, c.rows[i].uid);
            imapd_write_flags(s, c.rows[i].flags, c.rows[i].keywords,
                              !s->rev2 && c.rows[i].uid >= v->recent_from);
            if (s->condstore)
                imapd_printf(s, " MODSEQ (%llu)", (unsigned long long)c.rows[i].modseq);
            imapd_printf(s, ")\r\n");
        }
        v->modseq = mb.highestmodseq;
        v->uidnext = mb.uidnext;
    }
    for (size_t i = 0; i < c.n; i++)
        free(c.rows[i].keywords);
    free(c.rows);
    store_uids_free(&c.fresh);
    store_uids_free(&vanished);
    return 0;
}

/* ---- sequence sets ------------------------------------------------------------ */

/* Appends first..last to a sorted, merged list of ranges. */
static int ranges_add(store_range **r, size_t *n, size_t *cap, uint32_t first, uint32_t last)
{
    size_t i = *n;
    while (i > 0 && (*r)[i - 1].first > first)
        i--;
    if (*n == *cap) {
        size_t c = *cap == 0 ? 8 : *cap * 2;
        store_range *p = realloc(*r, c * sizeof *p);
        if (p == NULL)
            return -1;
        *r = p;
        *cap = c;
    }
    memmove(*r + i + 1, *r + i, (*n - i) * sizeof **r);
    (*r)[i] = (store_range){first, last};
    (*n)++;
    /* merge overlapping or adjacent neighbours */
    size_t w = 0;
    for (size_t k = 1; k < *n; k++) {
        if ((uint64_t)(*r)[k].first <= (uint64_t)(*r)[w].last + 1) {
            if ((*r)[k].last > (*r)[w].last)
                (*r)[w].last = (*r)[k].last;
        } else {
            (*r)[++w] = (*r)[k];
        }
    }
    *n = w + 1;
    return 0;
}

int imapd_set_uids(imapd_session *s, const imap_seqset *set, bool uid, store_range **ranges_r,
                   size_t *n_r)
{
    const imapd_view *v = s->view;
    store_range *r = NULL;
    size_t n = 0, cap = 0;
    uint32_t count = v->map.count, last = imapd_uidmap_last(&v->map);
    *ranges_r = NULL;
    *n_r = 0;
    if (set->saved) { /* RFC 5182: "$" holds UIDs */
        for (size_t i = 0; i < v->saved.n; i++)
            if (imapd_uidmap_msn(&v->map, v->saved.uids[i]) != 0 &&
                ranges_add(&r, &n, &cap, v->saved.uids[i], v->saved.uids[i]) < 0)
                goto nomem;
        *ranges_r = r;
        *n_r = n;
        return 0;
    }
    uint32_t star = uid ? last : count;
    size_t total = set->n + (set->star ? 1 : 0);
    for (size_t i = 0; i < total; i++) {
        uint32_t a, b;
        if (i < set->n) {
            a = set->ranges[i].first;
            b = set->ranges[i].last;
        } else {
            a = set->star_lo < star ? set->star_lo : star;
            b = set->star_hi > star ? set->star_hi : star;
            if (a == 0)
                a = 1;
        }
        if (uid) {
            if (b > last)
                b = last;
            if (a > b || last == 0)
                continue;
            if (ranges_add(&r, &n, &cap, a, b) < 0)
                goto nomem;
        } else {
            if (b > count || count == 0) { /* RFC 9051 9: a number over EXISTS is invalid */
                free(r);
                imapd_bad(s, NULL, "no message with that sequence number");
                return -1;
            }
            if (ranges_add(&r, &n, &cap, imapd_uidmap_uid(&v->map, a),
                           imapd_uidmap_uid(&v->map, b)) < 0)
                goto nomem;
        }
    }
    *ranges_r = r;
    *n_r = n;
    return 0;
nomem:
    free(r);
    imapd_no(s, "SERVERBUG", "out of memory");
    return -1;
}

/* ---- SELECT / EXAMINE ----------------------------------------------------------- */

typedef struct select_args {
    char name[STORE_NAME_MAX + 1];
    bool readonly, condstore, qresync;
    uint32_t q_uidvalidity;
    uint64_t q_modseq;
    imap_seqset q_known; /* known UIDs; empty: all */
    bool has_known;
} select_args;

static void select_args_free(void *p)
{
    select_args *a = p;
    imap_seqset_free(&a->q_known);
    free(a);
}

typedef struct select_ctx {
    imapd_view *v;
    uint32_t first_unseen;
    int failed;
} select_ctx;

static int select_row_cb(void *arg, const store_msg_row *row)
{
    select_ctx *c = arg;
    if (imapd_uidmap_append(&c->v->map, row->uid) < 0)
        return c->failed = 1;
    if (c->first_unseen == 0 && (row->flags & STORE_FLAG_SEEN) == 0)
        c->first_unseen = c->v->map.count;
    return 0;
}

/* RFC 7162 3.2.5: what changed since the client's MODSEQ. */
static void select_qresync(imapd_session *s, const select_args *a)
{
    imapd_view *v = s->view;
    store_uids gone = {0};
    store_range *known = NULL;
    size_t nknown = 0;
    if (a->has_known) {
        known = calloc(a->q_known.n + 1, sizeof *known);
        for (size_t i = 0; known != NULL && i < a->q_known.n; i++)
            known[nknown++] = (store_range){a->q_known.ranges[i].first, a->q_known.ranges[i].last};
        if (known != NULL && a->q_known.star)
            known[nknown++] = (store_range){a->q_known.star_lo == UINT32_MAX ? 1 : a->q_known.star_lo,
                                            UINT32_MAX};
    }
    store_uidset set = {known, nknown};
    int rc = store_vanished(imapd_db(s), v->id, a->q_modseq, a->has_known ? &set : NULL, &gone);
    if (rc == STORE_ERR_EXPUNGE_LOG) {
        /* Every UID up to UIDNEXT-1 (within the known set) not in the mailbox. */
        uint32_t top = v->uidnext > 1 ? (uint32_t)(v->uidnext - 1) : 0;
        for (uint32_t u = 1; u <= top && gone.n < 1000000; u++) {
            bool in_known = !a->has_known;
            for (size_t i = 0; !in_known && i < nknown; i++)
                in_known = u >= known[i].first && u <= known[i].last;
            if (in_known && imapd_uidmap_msn(&v->map, u) == 0)
                uids_add(&gone, u);
        }
        rc = STORE_OK;
    }
    if (rc == STORE_OK && gone.n > 0) {
        imapd_printf(s, "* VANISHED (EARLIER) ");
        imapd_write_uid_set(&s->out, gone.uids, gone.n);
        imapd_printf(s, "\r\n");
    }
    store_uids_free(&gone);
    free(known);
    sync_ctx c = {.v = v, .last = imapd_uidmap_last(&v->map)};
    if (store_msg_foreach(imapd_db(s), v->id, a->q_modseq, sync_row_cb, &c) == STORE_OK) {
        for (size_t i = 0; i < c.n; i++) {
            imapd_printf(s, "* %u FETCH (UID %u FLAGS ", imapd_uidmap_msn(&v->map, c.rows[i].uid),
                         c.rows[i].uid);
            imapd_write_flags(s, c.rows[i].flags, c.rows[i].keywords, false);
            imapd_printf(s, " MODSEQ (%llu))\r\n", (unsigned long long)c.rows[i].modseq);
        }
    }
    for (size_t i = 0; i < c.n; i++)
        free(c.rows[i].keywords);
    free(c.rows);
    store_uids_free(&c.fresh);
}

static imapd_step work_select(imapd_session *s)
{
    select_args *a = s->cmd_state;
    const char *verb = a->readonly ? "EXAMINE" : "SELECT";
    if (s->view != NULL) {
        imapd_view_free(&s->view);
        s->state = IMAPD_AUTHENTICATED;
        /* RFC 9051 7.1 and RFC 7162 3.2.11 */
        imapd_printf(s, "* OK [CLOSED] previous mailbox closed\r\n");
    }
    store_mailbox mb;
    int rc = store_mailbox_get(imapd_db(s), a->name, &mb);
    if (rc == STORE_OK && (mb.attrs & STORE_MBX_NOSELECT) != 0)
        rc = STORE_ERR_NOSELECT;
    if (rc != STORE_OK) {
        imapd_result_store(s, rc, verb);
        return IMAPD_DONE;
    }
    imapd_view *v = calloc(1, sizeof *v);
    select_ctx c = {.v = v};
    if (v == NULL) {
        imapd_no(s, "SERVERBUG", "out of memory");
        return IMAPD_DONE;
    }
    v->id = mb.id;
    snprintf(v->name, sizeof v->name, "%s", mb.name);
    v->readonly = a->readonly;
    v->uidvalidity = mb.uidvalidity;
    v->uidnext = mb.uidnext;
    v->modseq = mb.highestmodseq;
    v->recent_from = mb.uidnext > UINT32_MAX ? UINT32_MAX : (uint32_t)mb.uidnext;
    rc = store_msg_foreach(imapd_db(s), mb.id, 0, select_row_cb, &c);
    char *keywords = NULL;
    if (rc == STORE_OK && !c.failed)
        rc = store_mailbox_keywords(imapd_db(s), mb.id, &keywords);
    if (rc != STORE_OK || c.failed) {
        imapd_view_free(&v);
        imapd_result_store(s, c.failed ? STORE_ERR_NOMEM : rc, verb);
        return IMAPD_DONE;
    }
    const char *kw = keywords != NULL ? keywords : "";
    imapd_printf(s, "* %u EXISTS\r\n", v->map.count);
    if (!s->rev2)
        imapd_printf(s, "* 0 RECENT\r\n");
    imapd_printf(s, "* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft%s%s)\r\n",
                 kw[0] ? " " : "", kw);
    if (a->readonly)
        imapd_printf(s, "* OK [PERMANENTFLAGS ()] read-only\r\n");
    else
        imapd_printf(s,
                     "* OK [PERMANENTFLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft%s%s "
                     "\\*)] flags and keywords\r\n",
                     kw[0] ? " " : "", kw);
    free(keywords);
    if (!s->rev2 && c.first_unseen != 0)
        imapd_printf(s, "* OK [UNSEEN %u] first unseen\r\n", c.first_unseen);
    imapd_printf(s, "* OK [UIDVALIDITY %u] UIDs valid\r\n", v->uidvalidity);
    imapd_printf(s, "* OK [UIDNEXT %llu] next UID\r\n", (unsigned long long)v->uidnext);
    imapd_printf(s, "* OK [HIGHESTMODSEQ %llu] highest\r\n", (unsigned long long)v->modseq);
    if (s->rev2) { /* RFC 9051 6.3.2: LIST is a required response */
        imapd_printf(s, "* LIST () \"/\" ");
        imapd_write_mailbox(s, v->name);
        imapd_printf(s, "\r\n");
    }
    s->view = v;
    s->state = IMAPD_SELECTED;
    if (a->qresync && a->q_uidvalidity == v->uidvalidity)
        select_qresync(s, a);
    imapd_ok(s, a->readonly ? "READ-ONLY" : "READ-WRITE", "%s completed", verb);
    return IMAPD_DONE;
}

/* (CONDSTORE) or (QRESYNC (uidvalidity modseq [known-uids [seq-match]])). */
static bool select_params(imapd_session *s, const imap_arg *p, select_args *a)
{
    for (size_t i = 0; i < p->n; i++) {
        const imap_arg *x = &p->list[i];
        if (imap_arg_atom_eq(x, "CONDSTORE")) {
            a->condstore = true;
            continue;
        }
        if (!imap_arg_atom_eq(x, "QRESYNC") || i + 1 >= p->n ||
            p->list[i + 1].type != IMAP_ARG_LIST) {
            imapd_bad(s, NULL, "unknown SELECT parameter");
            return false;
        }
        if (!s->qresync) { /* RFC 7162 3.2.5 */
            imapd_bad(s, "CLIENTBUG", "ENABLE QRESYNC first");
            return false;
        }
        const imap_arg *q = &p->list[++i];
        uint32_t uv;
        uint64_t ms;
        imap_error e;
        if (q->n < 2 || q->n > 4 || !imap_arg_number(&q->list[0], &uv) || uv == 0 ||
            !imap_arg_number64(&q->list[1], &ms) || ms == 0 ||
            (q->n >= 3 && (q->list[2].type != IMAP_ARG_ATOM ||
                           imap_seqset_parse(q->list[2].str, q->list[2].len, 0, &a->q_known, &e) <
                               0)) ||
            (q->n == 4 && q->list[3].type != IMAP_ARG_LIST)) {
            imapd_bad(s, NULL, "QRESYNC takes (uidvalidity modseq [known-uids [seq-match]])");
            return false;
        }
        a->qresync = true;
        a->has_known = q->n >= 3;
        a->q_uidvalidity = uv;
        a->q_modseq = ms;
    }
    return true;
}

void imapd_cmd_select(imapd_session *s, const imap_command *cmd)
{
    select_args *a = calloc(1, sizeof *a);
    if (a == NULL) {
        imapd_no(s, "SERVERBUG", "out of memory");
        return;
    }
    a->readonly = strcmp(cmd->name, "EXAMINE") == 0;
    if (cmd->nargs < 1 || cmd->nargs > 2 || !imapd_arg_mailbox(s, &cmd->args[0], a->name) ||
        (cmd->nargs == 2 &&
         (cmd->args[1].type != IMAP_ARG_LIST || !select_params(s, &cmd->args[1], a)))) {
        if (s->result.resp == NULL)
            imapd_bad(s, NULL, "%s takes a mailbox and optional parameters", cmd->name);
        select_args_free(a);
        return;
    }
    if (a->condstore)
        s->condstore = true; /* RFC 7162 3.1.8 */
    imapd_run(s, work_select, IMAPD_SYNC_NONE | IMAPD_DRAIN, a, select_args_free);
}

/* ---- UNSELECT / CLOSE ----------------------------------------------------------- */

static imapd_step work_close(imapd_session *s)
{
    imapd_view *v = s->view;
    /* RFC 9051 6.4.1: CLOSE expunges silently, unless read-only. */
    if (strcmp(s->cmd->name, "CLOSE") == 0 && !v->readonly) {
        int rc = store_expunge(imapd_db(s), v->id, NULL, NULL, NULL);
        if (rc == STORE_OK)
            imapd_changed(s);
        else if (rc != STORE_ERR_NOMAILBOX)
            log_warn(s->id, "CLOSE: expunge: %s", store_strerror(rc));
    }
    imapd_view_free(&s->view);
    s->state = IMAPD_AUTHENTICATED;
    imapd_ok(s, NULL, "%s completed", s->cmd->name);
    return IMAPD_DONE;
}

void imapd_cmd_close(imapd_session *s, const imap_command *cmd)
{
    if (cmd->nargs != 0) {
        imapd_bad(s, NULL, "%s takes no arguments", cmd->name);
        return;
    }
    imapd_run(s, work_close, IMAPD_SYNC_NONE, NULL, NULL);
}

void imapd_cmd_unselect(imapd_session *s, const imap_command *cmd)
{
    if (cmd->nargs != 0) {
        imapd_bad(s, NULL, "UNSELECT takes no arguments");
        return;
    }
    imapd_view_free(&s->view);
    s->state = IMAPD_AUTHENTICATED;
    imapd_ok(s, NULL, "UNSELECT completed");
}
