/* LIST (RFC 9051 6.3.9) with LIST-EXTENDED (RFC 5258: selection options
 * SUBSCRIBED, REMOTE, RECURSIVEMATCH; return options SUBSCRIBED, CHILDREN;
 * several patterns), SPECIAL-USE (RFC 6154: the selection and return
 * option), LIST-STATUS (RFC 5819: RETURN (STATUS (...))), and IMAP4rev1's
 * LSUB (RFC 3501 6.3.9).
 *
 * One pass builds the list of names once: every mailbox, and, when they
 * matter, the subscribed names and their superiors (a subscription may name
 * no mailbox). Sorted by octets, the inferiors of a name are one run after
 * it, so whether a name has children, or inferiors that meet the selection
 * criteria, is a difference of prefix counts (two binary searches per
 * name). Then the lines are written, IMAPD_CHUNK octets per step.
 *
 * Attributes: \HasChildren / \HasNoChildren always (CHILDREN, RFC 3348;
 * RFC 9051 7.3.1), the special uses always (clients that never ask still
 * find their Sent folder), \Subscribed with SUBSCRIBED (either option) and
 * always under IMAP4rev2, \Noselect for a deleted mailbox kept for its
 * inferiors, \NonExistent for a subscribed name without a mailbox (it
 * implies \Noselect, RFC 5258 3.4). lib/store creates every superior of a
 * mailbox, so a level of hierarchy without a mailbox cannot appear in a
 * plain LIST.
 *
 * The reference and the pattern are decoded apart (mUTF-7 unless UTF-8 is
 * on) and joined by concatenation (RFC 9051 6.3.9 leaves the reference to
 * the server; one delimiter is dropped when both bring one). An empty
 * pattern asks for the delimiter: "* LIST (\Noselect) "/" """. */
#include "mailboxes.h"

#include "log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LIST_PATTERNS_MAX 32 /* patterns in one LIST (RFC 5258 3) */
/* Octets of all the patterns of one LIST together: matching a name costs
 * O(name * pattern) (imap_list_match), so this bounds the work per name. */
#define LIST_PATTERN_OCTETS_MAX IMAP_LIST_PATTERN_MAX
/* Names one LIST looks at: the mailboxes (STORE_MAILBOXES_MAX), the
 * subscriptions and their superiors. Past it: NO [LIMIT]. */
#define LIST_ENTRIES_MAX 50000

/* selection options (RFC 5258 3.1, RFC 6154 3) */
#define LIST_SEL_SUBSCRIBED 0x1u
#define LIST_SEL_REMOTE 0x2u /* no remote mailboxes here: accepted, changes nothing */
#define LIST_SEL_RECURSIVE 0x4u
#define LIST_SEL_SPECIAL 0x8u
/* return options (RFC 5258 3.2, RFC 6154 3, RFC 5819) */
#define LIST_RET_SUBSCRIBED 0x1u
#define LIST_RET_CHILDREN 0x2u /* returned anyway */
#define LIST_RET_SPECIAL 0x4u  /* returned anyway */
#define LIST_RET_STATUS 0x8u

typedef struct list_entry {
    char *name; /* UTF-8, the store's spelling */
    unsigned special_use;
    bool exists, noselect, subscribed;
    /* computed */
    bool out;       /* a line is written */
    bool children;  /* a mailbox exists below */
    bool childinfo; /* RECURSIVEMATCH: an inferior meets the criteria */
    bool meets;     /* the name itself meets the criteria */
} list_entry;

typedef struct list_state {
    bool lsub;
    unsigned sel, ret;
    imapd_status_items items;
    char *patterns[LIST_PATTERNS_MAX]; /* reference + pattern, UTF-8 */
    size_t np;
    size_t octets;  /* of the patterns together */
    bool delimiter; /* an empty pattern was given */
    list_entry *e;
    size_t n, cap;
    size_t next; /* the next entry to write */
    bool built;
} list_state;

static void list_state_free(void *p)
{
    list_state *st = p;
    for (size_t i = 0; i < st->np; i++)
        free(st->patterns[i]);
    for (size_t i = 0; i < st->n; i++)
        free(st->e[i].name);
    free(st->e);
    free(st);
}

/* ---- arguments ------------------------------------------------------------------- */

static bool list_select_opts(imapd_session *s, const imap_arg *l, list_state *st)
{
    static const struct {
        const char *name;
        unsigned bit;
    } opts[] = {{"SUBSCRIBED", LIST_SEL_SUBSCRIBED},
                {"REMOTE", LIST_SEL_REMOTE},
                {"RECURSIVEMATCH", LIST_SEL_RECURSIVE},
                {"SPECIAL-USE", LIST_SEL_SPECIAL}};
    for (size_t i = 0; i < l->n; i++) {
        size_t k = 0;
        while (k < sizeof opts / sizeof opts[0] && !imap_arg_atom_eq(&l->list[i], opts[k].name))
            k++;
        if (k == sizeof opts / sizeof opts[0] || l->list[i].type != IMAP_ARG_ATOM) {
            imapd_bad(s, NULL, "unknown LIST selection option");
            return false;
        }
        st->sel |= opts[k].bit;
    }
    /* RFC 5258 3.1: RECURSIVEMATCH alone (or with REMOTE only) is BAD */
    if ((st->sel & LIST_SEL_RECURSIVE) && !(st->sel & (LIST_SEL_SUBSCRIBED | LIST_SEL_SPECIAL))) {
        imapd_bad(s, NULL, "RECURSIVEMATCH needs another selection option");
        return false;
    }
    if (st->sel & LIST_SEL_SUBSCRIBED) /* RFC 5258 3.1: implies the return option */
        st->ret |= LIST_RET_SUBSCRIBED;
    return true;
}

static bool list_return_opts(imapd_session *s, const imap_arg *l, list_state *st)
{
    for (size_t i = 0; i < l->n; i++) {
        const imap_arg *x = &l->list[i];
        if (x->type != IMAP_ARG_ATOM) {
            imapd_bad(s, NULL, "unknown LIST return option");
            return false;
        }
        if (imap_arg_atom_eq(x, "SUBSCRIBED")) {
            st->ret |= LIST_RET_SUBSCRIBED;
        } else if (imap_arg_atom_eq(x, "CHILDREN")) {
            st->ret |= LIST_RET_CHILDREN;
        } else if (imap_arg_atom_eq(x, "SPECIAL-USE")) {
            st->ret |= LIST_RET_SPECIAL;
        } else if (imap_arg_atom_eq(x, "STATUS") && i + 1 < l->n && !(st->ret & LIST_RET_STATUS)) {
            if (!imapd_status_parse(s, &l->list[++i], &st->items))
                return false;
            st->ret |= LIST_RET_STATUS;
        } else {
            imapd_bad(s, NULL, "unknown LIST return option");
            return false;
        }
    }
    return true;
}

/* One pattern joined to the reference (RFC 9051 6.3.9). */
static bool list_pattern(imapd_session *s, const char *ref, const imap_arg *a, list_state *st)
{
    const char *str;
    size_t len, plen, rlen = strlen(ref);
    char pat[IMAP_MAILBOX_MAX + 1];
    imap_error e;
    if (!imap_arg_list_mailbox(a, &str, &len)) {
        imapd_bad(s, NULL, "a LIST pattern is an atom with wildcards or a string");
        return false;
    }
    if (imap_mailbox_decode(str, len, imapd_utf8_names(s), pat, &plen, &e) < 0) {
        imapd_result_error(s, &e);
        return false;
    }
    if (plen == 0) { /* the delimiter and the root */
        st->delimiter = true;
        return true;
    }
    size_t skip = rlen > 0 && ref[rlen - 1] == IMAP_DELIMITER && pat[0] == IMAP_DELIMITER;
    st->octets += rlen + plen - skip;
    if (st->octets > LIST_PATTERN_OCTETS_MAX || st->np == LIST_PATTERNS_MAX) {
        imapd_bad(s, NULL, "LIST patterns too long, or too many");
        return false;
    }
    char *joined = malloc(rlen + plen + 1);
    if (joined == NULL) {
        imapd_no(s, "SERVERBUG", "out of memory");
        return false;
    }
    memcpy(joined, ref, rlen);
    memcpy(joined + rlen, pat + skip, plen - skip + 1);
    st->patterns[st->np++] = joined;
    return true;
}

/* LIST [(select-opts)] reference (pattern | (patterns)) [RETURN (opts)]
 * (RFC 5258 6); LSUB reference pattern. */
static bool list_args(imapd_session *s, const imap_command *cmd, list_state *st)
{
    size_t i = 0;
    char ref[STORE_NAME_MAX + 1];
    if (!st->lsub && cmd->nargs > 0 && cmd->args[0].type == IMAP_ARG_LIST) {
        if (!list_select_opts(s, &cmd->args[0], st))
            return false;
        i = 1;
    }
    bool ret = cmd->nargs == i + 4 && !st->lsub && imap_arg_atom_eq(&cmd->args[i + 2], "RETURN") &&
               cmd->args[i + 2].type == IMAP_ARG_ATOM && cmd->args[i + 3].type == IMAP_ARG_LIST;
    if (cmd->nargs != i + 2 && !ret) {
        imapd_bad(s, NULL,
                  st->lsub ? "LSUB takes a reference and a pattern"
                           : "LIST takes [(options)] reference pattern [RETURN (options)]");
        return false;
    }
    if (!imapd_arg_mailbox(s, &cmd->args[i], ref))
        return false;
    const imap_arg *p = &cmd->args[i + 1];
    if (p->type == IMAP_ARG_LIST && !st->lsub) {
        if (p->n == 0) {
            imapd_bad(s, NULL, "an empty list of patterns");
            return false;
        }
        for (size_t k = 0; k < p->n; k++)
            if (!list_pattern(s, ref, &p->list[k], st))
                return false;
    } else if (!list_pattern(s, ref, p, st)) {
        return false;
    }
    return !ret || list_return_opts(s, &cmd->args[i + 3], st);
}

/* ---- the names ------------------------------------------------------------------- */

static int list_add(list_state *st, const char *name, size_t len, const list_entry *proto)
{
    if (st->n == st->cap) {
        if (st->cap >= LIST_ENTRIES_MAX)
            return STORE_ERR_LIMIT;
        size_t cap = st->cap == 0 ? 64 : st->cap * 2;
        list_entry *p = realloc(st->e, cap * sizeof *p);
        if (p == NULL)
            return STORE_ERR_NOMEM;
        st->e = p;
        st->cap = cap;
    }
    list_entry *e = &st->e[st->n];
    *e = *proto;
    if ((e->name = malloc(len + 1)) == NULL)
        return STORE_ERR_NOMEM;
    memcpy(e->name, name, len);
    e->name[len] = '\0';
    st->n++;
    return STORE_OK;
}

static int list_entry_cmp(const void *a, const void *b)
{
    return strcmp(((const list_entry *)a)->name, ((const list_entry *)b)->name);
}

/* Sorts and merges the entries of one name. */
static void list_merge(list_state *st)
{
    if (st->n == 0)
        return;
    qsort(st->e, st->n, sizeof st->e[0], list_entry_cmp);
    size_t w = 0;
    for (size_t i = 1; i < st->n; i++) {
        list_entry *d = &st->e[w], *x = &st->e[i];
        if (strcmp(d->name, x->name) != 0) {
            st->e[++w] = *x;
            continue;
        }
        d->exists |= x->exists;
        d->noselect |= x->noselect;
        d->subscribed |= x->subscribed;
        d->special_use |= x->special_use;
        free(x->name);
    }
    st->n = w + 1;
}

/* The mailboxes, and the subscriptions when they matter (with their
 * superiors when an inferior can make a name appear: RECURSIVEMATCH, LSUB). */
static int list_collect(imapd_session *s, list_state *st)
{
    store_mailbox *mbx = NULL;
    size_t nm = 0, ns = 0;
    char **subs = NULL;
    int rc = store_mailbox_list(imapd_db(s), &mbx, &nm);
    for (size_t i = 0; rc == STORE_OK && i < nm; i++) {
        list_entry proto = {.exists = true,
                            .noselect = (mbx[i].attrs & STORE_MBX_NOSELECT) != 0,
                            .special_use = mbx[i].special_use};
        rc = list_add(st, mbx[i].name, strlen(mbx[i].name), &proto);
    }
    free(mbx);
    bool want = st->lsub || (st->ret & LIST_RET_SUBSCRIBED) || s->rev2;
    bool superiors = st->lsub || (st->sel & LIST_SEL_RECURSIVE);
    if (rc == STORE_OK && want)
        rc = store_subscriptions(imapd_db(s), &subs, &ns);
    for (size_t i = 0; rc == STORE_OK && i < ns; i++) {
        list_entry sub = {.subscribed = true}, none = {0};
        rc = list_add(st, subs[i], strlen(subs[i]), &sub);
        for (const char *p = subs[i]; superiors && rc == STORE_OK && *p != '\0'; p++)
            if (*p == IMAP_DELIMITER)
                rc = list_add(st, subs[i], (size_t)(p - subs[i]), &none);
    }
    store_names_free(&subs, ns);
    if (rc == STORE_OK)
        list_merge(st);
    return rc;
}

/* The first entry not below name + c in octet order: name + "/" and name +
 * "0" ('0' follows '/') bound the run of name's inferiors. */
static size_t list_bound(const list_state *st, size_t from, const char *name, size_t len, char c)
{
    size_t lo = from, hi = st->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const char *x = st->e[mid].name;
        int r = strncmp(x, name, len);
        if (r == 0)
            r = (int)(unsigned char)x[len] - (int)(unsigned char)c;
        if (r < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static bool list_matches(const list_state *st, const char *name)
{
    size_t len = strlen(name);
    for (size_t k = 0; k < st->np; k++)
        if (imap_list_match(st->patterns[k], strlen(st->patterns[k]), name, len) & IMAP_LIST_MATCH)
            return true;
    return false;
}

static bool list_meets(const list_state *st, const list_entry *e)
{
    if (st->lsub)
        return e->subscribed;
    if (!(st->sel & (LIST_SEL_SUBSCRIBED | LIST_SEL_SPECIAL)))
        return e->exists;
    return (!(st->sel & LIST_SEL_SUBSCRIBED) || e->subscribed) &&
           (!(st->sel & LIST_SEL_SPECIAL) || (e->exists && e->special_use != 0));
}

/* Decides which names are written and with what (RFC 5258 3.5, RFC 3501
 * 6.3.9 for LSUB's "%"): a name that matches a pattern is written when it
 * meets the criteria, or - RECURSIVEMATCH, LSUB - when an inferior that no
 * pattern matches does (the client would not see it otherwise). CHILDINFO
 * goes with every written name that has an inferior meeting the criteria,
 * whether or not a pattern matches that inferior (RFC 5258 3.1 note 2). */
static int list_compute(list_state *st)
{
    size_t *exists = calloc(st->n + 1, sizeof *exists), *meets = calloc(st->n + 1, sizeof *meets),
           *hidden = calloc(st->n + 1, sizeof *hidden);
    bool *matched = calloc(st->n + 1, sizeof *matched);
    if (exists == NULL || meets == NULL || hidden == NULL || matched == NULL) {
        free(exists), free(meets), free(hidden), free(matched);
        return STORE_ERR_NOMEM;
    }
    for (size_t i = 0; i < st->n; i++) {
        list_entry *e = &st->e[i];
        matched[i] = list_matches(st, e->name);
        e->meets = list_meets(st, e);
        exists[i + 1] = exists[i] + e->exists;
        meets[i + 1] = meets[i] + e->meets;
        hidden[i + 1] = hidden[i] + (e->meets && !matched[i]);
    }
    bool recursive = st->lsub || (st->sel & LIST_SEL_RECURSIVE);
    for (size_t i = 0; i < st->n; i++) {
        list_entry *e = &st->e[i];
        if (!matched[i])
            continue;
        size_t len = strlen(e->name);
        size_t lo = list_bound(st, i + 1, e->name, len, IMAP_DELIMITER);
        size_t hi = list_bound(st, lo, e->name, len, IMAP_DELIMITER + 1);
        e->children = exists[hi] > exists[lo];
        e->out = e->meets || (recursive && hidden[hi] > hidden[lo]);
        e->childinfo = !st->lsub && (st->sel & LIST_SEL_RECURSIVE) && meets[hi] > meets[lo];
    }
    free(exists), free(meets), free(hidden), free(matched);
    return STORE_OK;
}

/* ---- the lines ------------------------------------------------------------------- */

static const struct {
    unsigned use;
    const char *attr;
} list_uses[] = {{STORE_USE_SENT, "\\Sent"},
                 {STORE_USE_DRAFTS, "\\Drafts"},
                 {STORE_USE_TRASH, "\\Trash"},
                 {STORE_USE_JUNK, "\\Junk"},
                 {STORE_USE_ARCHIVE, "\\Archive"}};

static void list_attr(imapd_session *s, bool *first, const char *attr)
{
    imapd_printf(s, "%s%s", *first ? "" : " ", attr);
    *first = false;
}

/* LSUB (RFC 3501 7.2.3): \Noselect for a name shown only for its
 * subscribed inferiors, and for a subscribed name that cannot be selected. */
static void lsub_write(imapd_session *s, const list_entry *e)
{
    imapd_printf(s, "* LSUB (%s) \"/\" ", !e->meets || e->noselect ? "\\Noselect" : "");
    imapd_write_mailbox(s, e->name);
    imapd_printf(s, "\r\n");
}

static void list_status(imapd_session *s, const list_state *st, const list_entry *e)
{
    store_mailbox mb;
    /* RFC 5819: for selectable mailboxes only; one that went away since the
     * list was read is left out. */
    int rc = store_mailbox_get(imapd_db(s), e->name, &mb);
    if (rc == STORE_OK && (mb.attrs & STORE_MBX_NOSELECT) == 0)
        rc = imapd_status_write(s, &mb, &st->items);
    if (rc != STORE_OK && rc != STORE_ERR_NOMAILBOX)
        log_warn(s->id, "LIST STATUS: %s", store_strerror(rc));
}

static void list_write(imapd_session *s, const list_state *st, const list_entry *e)
{
    bool first = true;
    imapd_printf(s, "* LIST (");
    if (!e->exists)
        list_attr(s, &first, "\\NonExistent");
    else if (e->noselect)
        list_attr(s, &first, "\\Noselect");
    list_attr(s, &first, e->children ? "\\HasChildren" : "\\HasNoChildren");
    for (size_t k = 0; e->exists && k < sizeof list_uses / sizeof list_uses[0]; k++)
        if (e->special_use & list_uses[k].use)
            list_attr(s, &first, list_uses[k].attr);
    if (e->subscribed && ((st->ret & LIST_RET_SUBSCRIBED) || s->rev2))
        list_attr(s, &first, "\\Subscribed");
    imapd_printf(s, ") \"/\" ");
    imapd_write_mailbox(s, e->name);
    if (e->childinfo) /* RFC 5258 3.5: the criteria the inferiors meet */
        imapd_printf(s, " (\"CHILDINFO\" (%s%s%s))",
                     (st->sel & LIST_SEL_SUBSCRIBED) ? "\"SUBSCRIBED\"" : "",
                     (st->sel & LIST_SEL_SUBSCRIBED) && (st->sel & LIST_SEL_SPECIAL) ? " " : "",
                     (st->sel & LIST_SEL_SPECIAL) ? "\"SPECIAL-USE\"" : "");
    imapd_printf(s, "\r\n");
    if ((st->ret & LIST_RET_STATUS) && e->exists && !e->noselect)
        list_status(s, st, e);
}

static imapd_step work_list(imapd_session *s)
{
    list_state *st = s->cmd_state;
    const char *verb = st->lsub ? "LSUB" : "LIST";
    if (!st->built) {
        st->built = true;
        if (st->delimiter) /* RFC 9051 6.3.9: the root is "" here */
            imapd_printf(s, "* %s (\\Noselect) \"/\" \"\"\r\n", verb);
        int rc = st->np > 0 ? list_collect(s, st) : STORE_OK;
        if (rc == STORE_OK)
            rc = list_compute(st);
        if (rc != STORE_OK) {
            imapd_result_store(s, rc, verb);
            return IMAPD_DONE;
        }
    }
    while (st->next < st->n) {
        const list_entry *e = &st->e[st->next++];
        if (!e->out)
            continue;
        if (st->lsub)
            lsub_write(s, e);
        else
            list_write(s, st, e);
        if (s->out.len >= IMAPD_CHUNK && st->next < st->n)
            return IMAPD_MORE; /* the rest once the client has read this */
    }
    imapd_ok(s, NULL, "%s completed", verb);
    return IMAPD_DONE;
}

static void list_start(imapd_session *s, const imap_command *cmd, bool lsub)
{
    list_state *st = calloc(1, sizeof *st);
    if (st == NULL) {
        imapd_no(s, "SERVERBUG", "out of memory");
        return;
    }
    st->lsub = lsub;
    if (!list_args(s, cmd, st)) {
        list_state_free(st);
        return;
    }
    imapd_run(s, work_list, IMAPD_SYNC_FULL, st, list_state_free);
}

void imapd_cmd_list(imapd_session *s, const imap_command *cmd)
{
    list_start(s, cmd, false);
}

/* IMAP4rev1 only (RFC 9051 replaced it with LIST (SUBSCRIBED)); kept for
 * the clients of IMAP4rev1. */
void imapd_cmd_lsub(imapd_session *s, const imap_command *cmd)
{
    list_start(s, cmd, true);
}
