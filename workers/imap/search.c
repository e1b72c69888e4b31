/* SEARCH and UID SEARCH (RFC 9051 6.4.4; RFC 3501 6.4.4 for NEW, OLD,
 * RECENT; RFC 4731 / RFC 9051 6.4.4.1 ESEARCH; RFC 5182 SEARCHRES; RFC 7162
 * 3.1.5 MODSEQ), SORT and UID SORT (RFC 5256 3, RFC 5957 DISPLAYFROM and
 * DISPLAYTO), THREAD and UID THREAD (RFC 5256 3: ORDEREDSUBJECT,
 * REFERENCES).
 *
 * The program is parsed on the loop thread (lib/imap imap_search_parse);
 * the job maps it to lib/store keys through the view (message numbers to
 * UIDs, "$", \Recent), asks the store, and keeps the messages the view
 * knows: a message that arrived since the last EXISTS is not the client's
 * yet. The answer is written a chunk at a time (IMAPD_MORE), so a search
 * of a huge mailbox never needs a huge buffer.
 *
 * "$" (RFC 5182) is the view's saved list of UIDs. As a key of its own at
 * the top of the program (the usual "SEARCH $ UNSEEN", "UID SEARCH UID $")
 * it is not sent to the store, which would need two bound values per range
 * of it: the store searches the rest and the result is kept to "$". */
#include "imapd.h"

#include "imap_search.h"
#include "log.h"
#include "search.h"
#include "search_store.h"
#include "store_sort.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef enum { SEARCH_CMD, SORT_CMD, THREAD_CMD } search_kind;

typedef struct search_state {
    search_kind kind;
    bool uid;
    imap_search q;
    store_sort_key keys[STORE_SORT_KEYS_MAX]; /* SORT */
    size_t nkeys;
    store_thread_algo algo; /* THREAD */
    bool lifted;            /* "$" taken out of the program: keep the result to it */
    /* the program as store keys, and the sets it points to */
    imap_search_store filter;
    store_range *saved;
    size_t nsaved;
    store_uidset saved_set, recent_set;
    store_range recent;
    /* the answer, written over as many steps as it takes */
    bool started;
    bool line;      /* an untagged line is being written */
    store_uids res; /* SEARCH, SORT: numbers (message numbers or UIDs) in order */
    size_t next;    /* the next of res to write */
    bool as_set;    /* res ascending, written as a sequence set (ESEARCH ALL) */
    char *text;     /* THREAD: the thread list */
    size_t text_len, text_off;
    char tail[64]; /* what ends the line: " (MODSEQ 7)" */
} search_state;

static void search_state_free(void *p)
{
    search_state *st = p;
    imap_search_store_free(&st->filter);
    imap_search_free(&st->q);
    free(st->saved);
    store_uids_free(&st->res);
    free(st->text);
    free(st);
}

static const char *search_verb(const search_state *st)
{
    static const char *const verbs[][2] = {
        {"SEARCH", "UID SEARCH"}, {"SORT", "UID SORT"}, {"THREAD", "UID THREAD"}};
    return verbs[st->kind][st->uid ? 1 : 0];
}

/* ---- pure helpers (search.h) ------------------------------------------------ */

int imapd_sort_criteria(const imap_arg *list, store_sort_key keys[STORE_SORT_KEYS_MAX], size_t *n_r,
                        imap_error *error_r)
{
    static const struct {
        const char *name;
        store_sort_kind kind;
    } names[] = {
        {"ARRIVAL", STORE_SORT_ARRIVAL},
        {"CC", STORE_SORT_CC},
        {"DATE", STORE_SORT_DATE},
        {"FROM", STORE_SORT_FROM},
        {"SIZE", STORE_SORT_SIZE},
        {"SUBJECT", STORE_SORT_SUBJECT},
        {"TO", STORE_SORT_TO},
        {"DISPLAYFROM", STORE_SORT_DISPLAYFROM},
        {"DISPLAYTO", STORE_SORT_DISPLAYTO},
    };
    size_t n = 0;
    bool reverse = false;
    *n_r = 0;
    *error_r = (imap_error){IMAP_RESP_BAD, NULL, NULL};
    if (list->type != IMAP_ARG_LIST || list->n == 0) {
        error_r->text = "SORT needs a parenthesized list of sort criteria";
        return -1;
    }
    for (size_t i = 0; i < list->n; i++) {
        const imap_arg *a = &list->list[i];
        if (imap_arg_atom_eq(a, "REVERSE")) {
            if (reverse) {
                error_r->text = "REVERSE must be followed by a sort key";
                return -1;
            }
            reverse = true;
            continue;
        }
        size_t k = 0;
        while (k < sizeof names / sizeof names[0] && !imap_arg_atom_eq(a, names[k].name))
            k++;
        if (k == sizeof names / sizeof names[0]) {
            error_r->text = "unknown sort criterion";
            return -1;
        }
        if (n == STORE_SORT_KEYS_MAX) {
            error_r->code = IMAP_CODE_LIMIT;
            error_r->text = "too many sort criteria";
            return -1;
        }
        keys[n++] = (store_sort_key){names[k].kind, reverse};
        reverse = false;
    }
    if (reverse) {
        error_r->text = "REVERSE must be followed by a sort key";
        return -1;
    }
    *n_r = n;
    return 0;
}

void imapd_search_write_set(buf *b, const uint32_t *nums, size_t n, size_t *i, size_t max)
{
    size_t k = *i;
    while (k < n && b->len < max) {
        size_t j = k;
        while (j + 1 < n && nums[j + 1] == nums[j] + 1)
            j++;
        if (j == k)
            buf_printf(b, "%s%u", k > 0 ? "," : "", nums[k]);
        else
            buf_printf(b, "%s%u:%u", k > 0 ? "," : "", nums[k], nums[j]);
        k = j + 1;
    }
    *i = k;
}

int imapd_search_ranges(const uint32_t *uids, size_t n, store_range **ranges_r, size_t *n_r)
{
    store_range *r = NULL;
    size_t m = 0;
    *ranges_r = NULL;
    *n_r = 0;
    if (n == 0)
        return 0;
    if ((r = malloc(n * sizeof *r)) == NULL)
        return -1;
    for (size_t i = 0; i < n; i++) {
        if (m > 0 && r[m - 1].last + 1 == uids[i] && uids[i] != 0)
            r[m - 1].last = uids[i];
        else
            r[m++] = (store_range){uids[i], uids[i]};
    }
    *ranges_r = r;
    *n_r = m;
    return 0;
}

/* ---- the program -------------------------------------------------------------- */

static bool uid_in(const uint32_t *uids, size_t n, uint32_t uid)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (uids[mid] < uid)
            lo = mid + 1;
        else if (uids[mid] > uid)
            hi = mid;
        else
            return true;
    }
    return false;
}

static int uid_cmp(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

static bool key_is_saved(const imap_search_key *k)
{
    return (k->kind == IMAP_SK_UID || k->kind == IMAP_SK_SEQ) && k->set.saved;
}

/* "$" as the program or one of its top-level keys becomes ALL: the result
 * is kept to "$" afterwards (search_keep). */
static bool search_lift_saved(imap_search *q)
{
    imap_search_key *root = q->root;
    bool lifted = false;
    if (key_is_saved(root)) {
        root->kind = IMAP_SK_ALL;
        return true;
    }
    if (root->kind == IMAP_SK_AND) {
        for (imap_search_key *k = root->kids; k != NULL; k = k->next) {
            if (key_is_saved(k)) {
                k->kind = IMAP_SK_ALL;
                lifted = true;
            }
        }
    }
    return lifted;
}

/* A MODSEQ every match reaches (a top-level MODSEQ key), less one: where
 * the pass that finds the highest MODSEQ of the result may start. */
static uint64_t search_modseq_floor(const imap_search_key *root)
{
    int64_t best = 0;
    if (root->kind == IMAP_SK_MODSEQ)
        best = root->num;
    else if (root->kind == IMAP_SK_AND)
        for (const imap_search_key *k = root->kids; k != NULL; k = k->next)
            if (k->kind == IMAP_SK_MODSEQ && k->num > best)
                best = k->num;
    return best > 0 ? (uint64_t)best - 1 : 0;
}

static uint32_t search_uid_of(void *ctx, uint32_t msn)
{
    return imapd_uidmap_uid(ctx, msn);
}

/* The program as store keys, through the view. 0, or -1 with the result set. */
static int search_filter(imapd_session *s, search_state *st)
{
    imapd_view *v = s->view;
    imap_error e;
    uint32_t last = imapd_uidmap_last(&v->map);
    if (imapd_search_ranges(v->saved.uids, v->saved.n, &st->saved, &st->nsaved) < 0) {
        imapd_no(s, "SERVERBUG", "out of memory");
        return -1;
    }
    st->saved_set = (store_uidset){st->saved, st->nsaved};
    /* IMAP4rev1 \Recent: what arrived while this session had the mailbox */
    st->recent = (store_range){v->recent_from > 0 ? v->recent_from : 1, UINT32_MAX};
    st->recent_set = (store_uidset){&st->recent, 1};
    imap_search_map map = {
        .uid_of = search_uid_of,
        .ctx = &v->map,
        .messages = v->map.count,
        .uid_star = last > 0                  ? last
                    : v->uidnext > UINT32_MAX ? UINT32_MAX
                                              : (uint32_t)v->uidnext,
        .recent = s->rev2 ? NULL : &st->recent_set,
        .saved = &st->saved_set,
        .now = (int64_t)time(NULL),
    };
    if (imap_search_to_store(&st->q, &map, &st->filter, &e) < 0) {
        imapd_result_error(s, &e);
        return -1;
    }
    return 0;
}

/* Whether the view knows uid (and uid is in "$" when it was lifted). */
static bool search_known(const imapd_session *s, const search_state *st, uint32_t uid)
{
    const imapd_view *v = s->view;
    return imapd_uidmap_msn(&v->map, uid) != 0 &&
           (!st->lifted || uid_in(v->saved.uids, v->saved.n, uid));
}

/* Keeps the UIDs of u that search_known, in their order. */
static void search_keep(const imapd_session *s, const search_state *st, store_uids *u)
{
    size_t w = 0;
    for (size_t i = 0; i < u->n; i++)
        if (search_known(s, st, u->uids[i]))
            u->uids[w++] = u->uids[i];
    u->n = w;
}

typedef struct modseq_ctx {
    const uint32_t *uids;
    size_t n;
    uint64_t max;
} modseq_ctx;

static int search_modseq_cb(void *arg, const store_msg_row *row)
{
    modseq_ctx *m = arg;
    if (row->modseq > m->max && uid_in(m->uids, m->n, row->uid))
        m->max = row->modseq;
    return 0;
}

/* RFC 7162 3.1.5: the highest MODSEQ of the messages uids[0..n) (any
 * order). A store rc. */
static int search_max_modseq(imapd_session *s, const search_state *st, const uint32_t *uids,
                             size_t n, uint64_t *modseq_r)
{
    uint32_t *sorted = malloc((n > 0 ? n : 1) * sizeof *sorted);
    *modseq_r = 0;
    if (sorted == NULL)
        return STORE_ERR_NOMEM;
    memcpy(sorted, uids, n * sizeof *sorted);
    qsort(sorted, n, sizeof *sorted, uid_cmp);
    modseq_ctx m = {sorted, n, 0};
    int rc = store_msg_foreach(imapd_db(s), s->view->id, search_modseq_floor(st->q.root),
                               search_modseq_cb, &m);
    free(sorted);
    *modseq_r = m.max;
    return rc;
}

/* RFC 5182: "$" becomes uids[0..n) (ascending). 0, or -1 (memory). */
static int search_save(imapd_session *s, const uint32_t *uids, size_t n)
{
    store_uids *saved = &s->view->saved;
    uint32_t *copy = NULL;
    if (n > 0 && (copy = malloc(n * sizeof *copy)) == NULL)
        return -1;
    if (n > 0)
        memcpy(copy, uids, n * sizeof *copy);
    store_uids_free(saved);
    saved->uids = copy;
    saved->n = saved->cap = n;
    return 0;
}

/* The number the client sees for uid: its message number, or the UID. */
static uint32_t search_num(const imapd_session *s, const search_state *st, uint32_t uid)
{
    return st->uid ? uid : imapd_uidmap_msn(&s->view->map, uid);
}

static void search_numbers(const imapd_session *s, search_state *st)
{
    if (!st->uid)
        for (size_t i = 0; i < st->res.n; i++)
            st->res.uids[i] = search_num(s, st, st->res.uids[i]);
}

/* ---- SEARCH ------------------------------------------------------------------- */

/* The answer to SEARCH of the matching UIDs (ascending, in st->res). */
static int search_answer(imapd_session *s, search_state *st)
{
    const unsigned minmax = IMAP_SEARCH_RET_MIN | IMAP_SEARCH_RET_MAX;
    const unsigned allcount = IMAP_SEARCH_RET_ALL | IMAP_SEARCH_RET_COUNT;
    /* RFC 9051 6.4.4.1: an IMAP4rev2 client always gets ESEARCH, ALL when
     * no RETURN was given */
    bool esearch = st->q.esearch || s->rev2;
    unsigned ret = st->q.esearch ? st->q.ret : IMAP_SEARCH_RET_ALL;
    bool ends_only = (ret & minmax) != 0 && (ret & allcount) == 0;
    const uint32_t *u = st->res.uids;
    size_t n = st->res.n;
    uint32_t ends[2];
    size_t nends = 0;
    if (n > 0 && (ret & IMAP_SEARCH_RET_MIN))
        ends[nends++] = u[0];
    if (n > 0 && (ret & IMAP_SEARCH_RET_MAX) && (nends == 0 || ends[0] != u[n - 1]))
        ends[nends++] = u[n - 1];
    /* RFC 5182 2.4: SAVE alone gives no ESEARCH */
    st->line = !esearch || (ret & ~IMAP_SEARCH_RET_SAVE) != 0;
    uint64_t modseq = 0;
    if (st->q.modseq && n > 0 && st->line) {
        /* RFC 4731 3.2: of MIN / MAX only when they are all that is returned */
        int rc = search_max_modseq(s, st, ends_only ? ends : u, ends_only ? nends : n, &modseq);
        if (rc != STORE_OK) {
            imapd_result_store(s, rc, search_verb(st));
            return -1;
        }
    }
    /* RFC 5182 2.4: with MIN / MAX and neither ALL nor COUNT, only those */
    if ((ret & IMAP_SEARCH_RET_SAVE) &&
        search_save(s, ends_only ? ends : u, ends_only ? nends : n) < 0) {
        imapd_no(s, "SERVERBUG", "out of memory");
        return -1;
    }
    if (!st->line) {
        st->res.n = 0;
        return 0;
    }
    if (!esearch) {
        imapd_printf(s, "* SEARCH");
        if (modseq > 0)
            snprintf(st->tail, sizeof st->tail, " (MODSEQ %llu)", (unsigned long long)modseq);
        search_numbers(s, st);
        return 0;
    }
    imapd_printf(s, "* ESEARCH (TAG ");
    imap_write_string(&s->out, s->tag, strlen(s->tag), 0);
    imapd_printf(s, ")%s", st->uid ? " UID" : "");
    /* RFC 4731 3.1: MIN, MAX, ALL only when something matched; COUNT always */
    if (n > 0 && (ret & IMAP_SEARCH_RET_MIN))
        imapd_printf(s, " MIN %u", search_num(s, st, u[0]));
    if (n > 0 && (ret & IMAP_SEARCH_RET_MAX))
        imapd_printf(s, " MAX %u", search_num(s, st, u[n - 1]));
    if (ret & IMAP_SEARCH_RET_COUNT)
        imapd_printf(s, " COUNT %zu", n);
    if (modseq > 0)
        snprintf(st->tail, sizeof st->tail, " MODSEQ %llu", (unsigned long long)modseq);
    if (n > 0 && (ret & IMAP_SEARCH_RET_ALL)) {
        imapd_printf(s, " ALL ");
        st->as_set = true;
        search_numbers(s, st); /* message numbers ascend with the UIDs */
    } else {
        st->res.n = 0;
    }
    return 0;
}

static int search_run(imapd_session *s, search_state *st)
{
    int rc = store_search_uids(imapd_db(s), s->view->id, st->filter.root, &st->res);
    if (rc != STORE_OK) {
        imapd_result_store(s, rc, search_verb(st));
        return -1;
    }
    search_keep(s, st, &st->res);
    return search_answer(s, st);
}

/* ---- SORT --------------------------------------------------------------------- */

static int sort_run(imapd_session *s, search_state *st)
{
    sqlite3 *db = imapd_db(s);
    int rc = store_sort_uids(db, s->view->id, st->keys, st->nkeys, st->filter.root, &st->res);
    if (rc == STORE_ERR_SORT_KEYS) {
        /* keys of older messages not computed yet (store_sort.h): now */
        char err[256];
        store_uids_free(&st->res);
        if (mailbox_sort_backfill(s->user->mbx, NULL, err, sizeof err) != MAILBOX_OK)
            log_error(s->id, "SORT keys: %s", err);
        rc = store_sort_uids(db, s->view->id, st->keys, st->nkeys, st->filter.root, &st->res);
    }
    if (rc == STORE_ERR_SORT_KEYS) {
        imapd_no(s, "UNAVAILABLE",
                 "%s: the sort keys of some messages are not computed yet, "
                 "try again later",
                 search_verb(st));
        return -1;
    }
    if (rc != STORE_OK) {
        imapd_result_store(s, rc, search_verb(st));
        return -1;
    }
    search_keep(s, st, &st->res);
    uint64_t modseq = 0;
    if (st->q.modseq && st->res.n > 0) { /* RFC 7162 3.1.5 (sort-data) */
        rc = search_max_modseq(s, st, st->res.uids, st->res.n, &modseq);
        if (rc != STORE_OK) {
            imapd_result_store(s, rc, search_verb(st));
            return -1;
        }
        snprintf(st->tail, sizeof st->tail, " (MODSEQ %llu)", (unsigned long long)modseq);
    }
    st->line = true;
    imapd_printf(s, "* SORT");
    search_numbers(s, st);
    return 0;
}

/* ---- THREAD ------------------------------------------------------------------- */

static int thread_msn(void *ctx, uint32_t uid, uint32_t *num_r)
{
    *num_r = imapd_uidmap_msn(ctx, uid);
    return *num_r == 0;
}

static int thread_run(imapd_session *s, search_state *st)
{
    store_thread_row *rows = NULL, *keep = NULL;
    size_t n = 0, k = 0;
    store_thread_tree tree = {0};
    int rc = store_thread_rows(imapd_db(s), s->view->id, st->filter.root, &rows, &n);
    if (rc == STORE_OK && (keep = malloc((n > 0 ? n : 1) * sizeof *keep)) == NULL)
        rc = STORE_ERR_NOMEM;
    for (size_t i = 0; rc == STORE_OK && i < n; i++)
        if (search_known(s, st, rows[i].uid))
            keep[k++] = rows[i];
    if (rc == STORE_OK)
        rc = store_thread_build(st->algo, keep, k, &tree);
    if (rc == STORE_OK)
        rc = store_thread_format(&tree, st->uid ? NULL : thread_msn, &s->view->map, &st->text,
                                 &st->text_len);
    store_thread_tree_free(&tree);
    free(keep);
    if (rows != NULL)
        store_thread_rows_free(rows, n);
    if (rc != STORE_OK) {
        imapd_result_store(s, rc < 0 ? rc : STORE_ERR_INVALID, search_verb(st));
        return -1;
    }
    st->line = true;
    imapd_printf(s, st->text_len > 0 ? "* THREAD " : "* THREAD");
    return 0;
}

/* ---- the job -------------------------------------------------------------------- */

/* Writes what is left of the answer, IMAPD_CHUNK octets a step. */
static imapd_step search_write(imapd_session *s, search_state *st)
{
    buf *b = &s->out;
    while (st->next < st->res.n) {
        if (b->len >= IMAPD_CHUNK)
            return IMAPD_MORE;
        if (st->as_set)
            imapd_search_write_set(b, st->res.uids, st->res.n, &st->next, IMAPD_CHUNK);
        else
            buf_printf(b, " %u", st->res.uids[st->next++]);
    }
    while (st->text_off < st->text_len) {
        if (b->len >= IMAPD_CHUNK)
            return IMAPD_MORE;
        size_t len = st->text_len - st->text_off;
        if (len > IMAPD_CHUNK)
            len = IMAPD_CHUNK;
        buf_append(b, st->text + st->text_off, len);
        st->text_off += len;
    }
    if (st->line)
        imapd_printf(s, "%s\r\n", st->tail);
    if (b->failed)
        imapd_no(s, "LIMIT", "%s: the response is too large", search_verb(st));
    else
        imapd_ok(s, NULL, "%s completed", search_verb(st));
    return IMAPD_DONE;
}

static imapd_step work_search(imapd_session *s)
{
    search_state *st = s->cmd_state;
    if (!st->started) {
        st->started = true;
        int rc = search_filter(s, st);
        if (rc == 0)
            rc = st->kind == SEARCH_CMD ? search_run(s, st)
                 : st->kind == SORT_CMD ? sort_run(s, st)
                                        : thread_run(s, st);
        if (rc < 0) {
            /* RFC 5182 2.1: a failed SEARCH ... SAVE empties "$" */
            if (st->q.ret & IMAP_SEARCH_RET_SAVE)
                store_uids_free(&s->view->saved);
            return IMAPD_DONE;
        }
    }
    return search_write(s, st);
}

/* ---- the commands ----------------------------------------------------------------- */

/* Whether the arguments start with RETURN (... SAVE ...): a SEARCH that
 * fails to parse still empties "$" then (RFC 5182 2.1). */
static bool search_asks_save(const imap_arg *args, size_t n)
{
    if (n < 2 || !imap_arg_atom_eq(&args[0], "RETURN") || args[1].type != IMAP_ARG_LIST)
        return false;
    for (size_t i = 0; i < args[1].n; i++)
        if (imap_arg_atom_eq(&args[1].list[i], "SAVE"))
            return true;
    return false;
}

static search_state *search_state_new(imapd_session *s, search_kind kind, bool uid)
{
    search_state *st = calloc(1, sizeof *st);
    if (st == NULL) {
        imapd_no(s, "SERVERBUG", "out of memory");
        return NULL;
    }
    st->kind = kind;
    st->uid = uid;
    return st;
}

/* Parses the program args[0..n) and starts the job. */
static void search_start(imapd_session *s, search_state *st, const imap_arg *args, size_t n,
                         unsigned flags)
{
    imap_error e;
    if (imap_search_parse(args, n, flags | IMAP_SEARCH_SEARCHRES, &st->q, &e) < 0) {
        if (st->kind == SEARCH_CMD && search_asks_save(args, n))
            store_uids_free(&s->view->saved); /* RFC 5182 2.1 */
        imapd_result_error(s, &e);
        search_state_free(st);
        return;
    }
    st->lifted = search_lift_saved(&st->q);
    if (st->q.modseq)
        s->condstore = true; /* RFC 7162 3.1: a CONDSTORE enabling command */
    /* RFC 9051 7.5.1: no EXPUNGE during SEARCH; UID SEARCH may have them */
    imapd_run(s, work_search, st->uid ? IMAPD_SYNC_FULL : IMAPD_SYNC_NOEXPUNGE, st,
              search_state_free);
}

void imapd_cmd_search(imapd_session *s, const imap_command *cmd)
{
    search_state *st = search_state_new(s, SEARCH_CMD, cmd->uid);
    if (st == NULL)
        return;
    search_start(s, st, cmd->args, cmd->nargs, IMAP_SEARCH_RETURN);
}

void imapd_cmd_sort(imapd_session *s, const imap_command *cmd)
{
    imap_error e;
    if (cmd->nargs < 1) {
        imapd_bad(s, NULL, "SORT needs sort criteria, a charset and search keys");
        return;
    }
    search_state *st = search_state_new(s, SORT_CMD, cmd->uid);
    if (st == NULL)
        return;
    if (imapd_sort_criteria(&cmd->args[0], st->keys, &st->nkeys, &e) < 0) {
        imapd_result_error(s, &e);
        search_state_free(st);
        return;
    }
    search_start(s, st, cmd->args + 1, cmd->nargs - 1, IMAP_SEARCH_CHARSET_ARG);
}

void imapd_cmd_thread(imapd_session *s, const imap_command *cmd)
{
    if (cmd->nargs < 1) {
        imapd_bad(s, NULL, "THREAD needs an algorithm, a charset and search keys");
        return;
    }
    store_thread_algo algo;
    if (imap_arg_atom_eq(&cmd->args[0], "ORDEREDSUBJECT")) {
        algo = STORE_THREAD_ORDEREDSUBJECT;
    } else if (imap_arg_atom_eq(&cmd->args[0], "REFERENCES")) {
        algo = STORE_THREAD_REFERENCES;
    } else {
        imapd_bad(s, NULL, "unknown threading algorithm");
        return;
    }
    search_state *st = search_state_new(s, THREAD_CMD, cmd->uid);
    if (st == NULL)
        return;
    st->algo = algo;
    search_start(s, st, cmd->args + 1, cmd->nargs - 1, IMAP_SEARCH_CHARSET_ARG);
}
