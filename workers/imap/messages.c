/* STORE (RFC 9051 6.4.6; RFC 7162 3.1.3 UNCHANGEDSINCE and MODIFIED), COPY
 * (RFC 9051 6.4.7; RFC 4315 COPYUID), MOVE (RFC 6851) and EXPUNGE / UID
 * EXPUNGE (RFC 9051 6.4.3, RFC 4315 2.1), with and without UID.
 *
 * A change to the selected mailbox runs in one store transaction that
 * first looks whether the view has seen every change of the mailbox: when
 * it has, the change's own MODSEQ becomes the view's, so that the sync after
 * the command does not report again what the command itself just said
 * (FETCH of the new flags, EXPUNGE of the messages moved away). */
#include "imapd.h"

#include "imap_write.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct msg_state {
    imap_store st;   /* STORE */
    imap_seqset set; /* COPY, MOVE, UID EXPUNGE */
    char target[STORE_NAME_MAX + 1];
    store_range *ranges; /* the set as UIDs of the view */
    size_t nranges;
} msg_state;

static void msg_state_free(void *p)
{
    msg_state *m = p;
    imap_store_free(&m->st);
    imap_seqset_free(&m->set);
    free(m->ranges);
    free(m);
}

static msg_state *msg_state_new(imapd_session *s)
{
    msg_state *m = calloc(1, sizeof *m);
    if (m == NULL)
        imapd_no(s, "SERVERBUG", "out of memory");
    else
        m->set.star_lo = m->st.set.star_lo = UINT32_MAX;
    return m;
}

static const char *msg_verb(const imapd_session *s)
{
    static const char *const uid_verbs[][2] = {{"STORE", "UID STORE"},
                                               {"COPY", "UID COPY"},
                                               {"MOVE", "UID MOVE"},
                                               {"EXPUNGE", "UID EXPUNGE"}};
    for (size_t i = 0; i < sizeof uid_verbs / sizeof uid_verbs[0]; i++)
        if (strcmp(s->cmd->name, uid_verbs[i][0]) == 0)
            return uid_verbs[i][s->cmd->uid ? 1 : 0];
    return s->cmd->name;
}

/* ---- the transaction of a change --------------------------------------------- */

/* Opens the transaction; *in_step_r tells whether the view has seen every
 * change of its mailbox so far (nobody else can write until the commit). */
static int msg_begin(imapd_session *s, bool *in_step_r)
{
    sqlite3 *db = imapd_db(s);
    store_mailbox mb;
    *in_step_r = false;
    int rc = store_begin(db);
    if (rc != STORE_OK)
        return rc;
    rc = store_mailbox_get_by_id(db, s->view->id, &mb);
    if (rc != STORE_OK) {
        store_rollback(db);
        return rc;
    }
    *in_step_r = mb.highestmodseq == s->view->modseq && mb.uidnext == s->view->uidnext;
    return STORE_OK;
}

/* Commits when rc is STORE_OK, else rolls back; returns the outcome. */
static int msg_end(imapd_session *s, int rc)
{
    sqlite3 *db = imapd_db(s);
    if (rc == STORE_OK)
        return store_commit(db);
    store_rollback(db);
    return rc;
}

/* ---- sets in responses ---------------------------------------------------------- */

/* Writes ascending numbers v[0..n) as a sequence set ("1:3,7"). */
/* The response code "<name> <set>" into code (IMAPD_CODE_MAX): false when it
 * does not fit. */
static bool msg_code_set(char code[IMAPD_CODE_MAX], const char *name, const uint32_t *v, size_t n)
{
    buf b;
    buf_init(&b, IMAPD_CODE_MAX - 1);
    buf_printf(&b, "%s ", name);
    imapd_write_uid_set(&b, v, n);
    bool ok = !b.failed;
    if (ok)
        memcpy(code, b.data, b.len + 1);
    buf_free(&b);
    return ok;
}

static bool msg_uids_has(const store_uids *l, uint32_t uid)
{
    size_t lo = 0, hi = l->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (l->uids[mid] < uid)
            lo = mid + 1;
        else if (l->uids[mid] > uid)
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

/* ---- STORE ------------------------------------------------------------------------ */

typedef struct store_report {
    imapd_session *s;
    const msg_state *m;
    const store_uids *changed; /* ascending */
} store_report;

/* "* n FETCH (FLAGS (...) [UID u] [MODSEQ (m)])" for a changed message: FLAGS
 * unless .SILENT, UID for UID STORE, UID and MODSEQ when CONDSTORE is on. */
static int store_report_cb(void *arg, const store_msg_row *row)
{
    store_report *r = arg;
    imapd_session *s = r->s;
    uint32_t msn = imapd_uidmap_msn(&s->view->map, row->uid);
    if (msn == 0 || !msg_uids_has(r->changed, row->uid))
        return 0;
    const char *sep = "";
    imapd_printf(s, "* %u FETCH (", msn);
    if (!r->m->st.silent) {
        imapd_printf(s, "FLAGS ");
        imapd_write_flags(s, row->flags, row->keywords,
                          !s->rev2 && row->uid >= s->view->recent_from);
        sep = " ";
    }
    /* RFC 7162 3.1: with CONDSTORE on, every untagged FETCH has UID and MODSEQ. */
    if (s->cmd->uid || s->condstore) {
        imapd_printf(s, "%sUID %u", sep, row->uid);
        sep = " ";
    }
    if (s->condstore)
        imapd_printf(s, "%sMODSEQ (%llu)", sep, (unsigned long long)row->modseq);
    imapd_printf(s, ")\r\n");
    return 0;
}

typedef struct store_zero {
    const msg_state *m;
    store_uids *out;
} store_zero;

static int store_zero_cb(void *arg, const store_msg_row *row)
{
    store_zero *z = arg;
    for (size_t i = 0; i < z->m->nranges; i++) {
        if (row->uid >= z->m->ranges[i].first && row->uid <= z->m->ranges[i].last) {
            if (z->out->n == z->out->cap) {
                size_t cap = z->out->cap ? z->out->cap * 2 : 16;
                uint32_t *p = realloc(z->out->uids, cap * sizeof *p);
                if (p == NULL)
                    return STORE_ERR_NOMEM;
                z->out->uids = p;
                z->out->cap = cap;
            }
            z->out->uids[z->out->n++] = row->uid;
            break;
        }
    }
    return 0;
}

/* The MODIFIED response code (RFC 7162 3.1.3): message numbers for STORE,
 * UIDs for UID STORE. A list too long for the tagged line (IMAPD_CODE_MAX)
 * is widened to the one range from its first to its last message: messages
 * of that range that were changed are then named too, and a client that
 * re-reads them and stores again gets the same flags; a message that was
 * refused is never left out. */
static void store_modified(imapd_session *s, const store_uids *modified)
{
    uint32_t *v = malloc((modified->n > 0 ? modified->n : 1) * sizeof *v);
    size_t n = 0;
    if (v == NULL) {
        imapd_no(s, "SERVERBUG", "out of memory");
        return;
    }
    for (size_t i = 0; i < modified->n; i++) {
        uint32_t x =
            s->cmd->uid ? modified->uids[i] : imapd_uidmap_msn(&s->view->map, modified->uids[i]);
        if (x != 0)
            v[n++] = x;
    }
    char code[IMAPD_CODE_MAX];
    if (n > 0 && !msg_code_set(code, "MODIFIED", v, n))
        snprintf(code, sizeof code, "MODIFIED %u:%u", v[0], v[n - 1]);
    if (n > 0)
        imapd_ok(s, code, "conditional %s failed for some messages", msg_verb(s));
    else
        imapd_ok(s, NULL, "%s completed", msg_verb(s));
    free(v);
}

static store_flag_op store_op(imap_store_op op)
{
    return op == IMAP_STORE_ADD      ? STORE_FLAGS_ADD
           : op == IMAP_STORE_REMOVE ? STORE_FLAGS_REMOVE
                                     : STORE_FLAGS_REPLACE;
}

static imapd_step work_store(imapd_session *s)
{
    msg_state *m = s->cmd_state;
    imapd_view *v = s->view;
    sqlite3 *db = imapd_db(s);
    store_uidset set = {m->ranges, m->nranges};
    store_flags_result res = {0};
    bool in_step = false;
    int rc = msg_begin(s, &in_step);
    if (rc == STORE_OK && m->st.has_unchangedsince && m->st.unchangedsince == 0) {
        /* RFC 7162 3.1.3: UNCHANGEDSINCE 0 fails for every message. */
        store_zero z = {m, &res.modified};
        if (m->nranges > 0)
            rc = store_msg_foreach(db, v->id, 0, store_zero_cb, &z);
    } else if (rc == STORE_OK) {
        rc = store_set_flags(db, v->id, &set, store_op(m->st.op), m->st.flags.mask,
                             m->st.flags.keywords, m->st.unchangedsince, &res);
    }
    rc = msg_end(s, rc);
    if (rc != STORE_OK) {
        store_flags_result_free(&res);
        imapd_result_store(s, rc, msg_verb(s));
        return IMAPD_DONE;
    }
    if (res.modseq != 0) {
        imapd_changed(s);
        /* RFC 7162 3.1.3: with CONDSTORE on, FETCH (MODSEQ) even when silent. */
        if (!m->st.silent || s->condstore) {
            if (res.changed.n > 1)
                qsort(res.changed.uids, res.changed.n, sizeof res.changed.uids[0], uid_cmp);
            store_report r = {s, m, &res.changed};
            store_msg_foreach(db, v->id, res.modseq - 1, store_report_cb, &r);
        }
        if (in_step && res.modseq > v->modseq)
            v->modseq = res.modseq;
    }
    if (res.modified.n > 1)
        qsort(res.modified.uids, res.modified.n, sizeof res.modified.uids[0], uid_cmp);
    store_modified(s, &res.modified);
    store_flags_result_free(&res);
    return IMAPD_DONE;
}

void imapd_cmd_store(imapd_session *s, const imap_command *cmd)
{
    msg_state *m = msg_state_new(s);
    imap_error e;
    if (m == NULL)
        return;
    if (imap_store_parse(cmd->args, cmd->nargs, IMAP_SEQSET_ALLOW_SAVED, &m->st, &e) < 0) {
        imapd_result_error(s, &e);
        msg_state_free(m);
        return;
    }
    for (size_t i = 0; i < m->st.flags.nkeywords; i++) {
        if (!store_keyword_valid(m->st.flags.keywords[i])) {
            imapd_bad(s, NULL, "invalid keyword");
            msg_state_free(m);
            return;
        }
    }
    if (s->view->readonly) {
        imapd_no(s, NULL, "the mailbox is read-only (EXAMINE)");
        msg_state_free(m);
        return;
    }
    if (m->st.has_unchangedsince)
        s->condstore = true; /* RFC 7162 3.1: a CONDSTORE enabling command */
    if (imapd_set_uids(s, &m->st.set, cmd->uid, &m->ranges, &m->nranges) < 0) {
        msg_state_free(m);
        return;
    }
    /* RFC 9051 7.5.1: no EXPUNGE during STORE; UID STORE may have them. */
    imapd_run(s, work_store, cmd->uid ? IMAPD_SYNC_FULL : IMAPD_SYNC_NOEXPUNGE, m, msg_state_free);
}

/* ---- COPY / MOVE -------------------------------------------------------------- */

static imapd_step work_copy(imapd_session *s)
{
    msg_state *m = s->cmd_state;
    imapd_view *v = s->view;
    sqlite3 *db = imapd_db(s);
    bool move = strcmp(s->cmd->name, "MOVE") == 0, in_step = false, no_target = false;
    store_uidset set = {m->ranges, m->nranges};
    store_copy_result res = {0};
    store_mailbox dst;
    int rc = msg_begin(s, &in_step);
    if (rc == STORE_OK) {
        rc = store_mailbox_get(db, m->target, &dst);
        no_target = rc == STORE_ERR_NOMAILBOX;
    }
    if (rc == STORE_OK)
        rc = move ? store_move(db, v->id, &set, m->target, &res)
                  : store_copy(db, v->id, &set, m->target, &res);
    rc = msg_end(s, rc);
    if (rc != STORE_OK) {
        store_copy_result_free(&res);
        if (no_target) /* RFC 9051 6.4.7: the client may CREATE it and try again */
            imapd_no(s, "TRYCREATE", "%s: no such mailbox", msg_verb(s));
        else
            imapd_result_store(s, rc, msg_verb(s));
        return IMAPD_DONE;
    }
    if (res.src.n == 0) {
        imapd_ok(s, NULL, "%s completed: no messages", msg_verb(s));
        return IMAPD_DONE;
    }
    imapd_changed(s);
    if (move) {
        /* RFC 6851 4.3: COPYUID in an untagged OK before the expunges. */
        imapd_printf(s, "* OK [COPYUID %u ", res.uidvalidity);
        imapd_write_uid_set(&s->out, res.src.uids, res.src.n);
        imapd_printf(s, " ");
        imapd_write_uid_set(&s->out, res.dst.uids, res.dst.n);
        imapd_printf(s, "] moved\r\n");
        imapd_report_expunged(s, res.src.uids, res.src.n);
        if (in_step && dst.id != v->id && res.modseq > v->modseq)
            v->modseq = res.modseq;
        imapd_ok(s, NULL, "%s completed", msg_verb(s));
    } else {
        /* RFC 4315 3: COPYUID in the tagged OK; left out (as a server may)
         * when the sets do not fit the line. */
        buf b;
        buf_init(&b, IMAPD_CODE_MAX - 1);
        buf_printf(&b, "COPYUID %u ", res.uidvalidity);
        imapd_write_uid_set(&b, res.src.uids, res.src.n);
        buf_append_char(&b, ' ');
        imapd_write_uid_set(&b, res.dst.uids, res.dst.n);
        imapd_ok(s, b.failed ? NULL : b.data, "%s completed", msg_verb(s));
        buf_free(&b);
    }
    store_copy_result_free(&res);
    return IMAPD_DONE;
}

/* COPY / MOVE sequence-set mailbox */
static void msg_cmd_copy(imapd_session *s, const imap_command *cmd, bool move)
{
    msg_state *m = msg_state_new(s);
    imap_error e;
    if (m == NULL)
        return;
    if (cmd->nargs != 2 || cmd->args[0].type != IMAP_ARG_ATOM) {
        imapd_bad(s, NULL, "%s takes a sequence set and a mailbox", cmd->name);
        msg_state_free(m);
        return;
    }
    if (imap_seqset_parse(cmd->args[0].str, cmd->args[0].len, IMAP_SEQSET_ALLOW_SAVED, &m->set,
                          &e) < 0) {
        imapd_result_error(s, &e);
        msg_state_free(m);
        return;
    }
    if (!imapd_arg_mailbox(s, &cmd->args[1], m->target)) {
        msg_state_free(m);
        return;
    }
    if (move && s->view->readonly) { /* RFC 6851 3.3: MOVE expunges */
        imapd_no(s, NULL, "the mailbox is read-only (EXAMINE)");
        msg_state_free(m);
        return;
    }
    if (imapd_set_uids(s, &m->set, cmd->uid, &m->ranges, &m->nranges) < 0) {
        msg_state_free(m);
        return;
    }
    imapd_run(s, work_copy, IMAPD_SYNC_FULL, m, msg_state_free);
}

void imapd_cmd_copy(imapd_session *s, const imap_command *cmd)
{
    msg_cmd_copy(s, cmd, false);
}

void imapd_cmd_move(imapd_session *s, const imap_command *cmd)
{
    msg_cmd_copy(s, cmd, true);
}

/* ---- EXPUNGE ------------------------------------------------------------------------ */

static imapd_step work_expunge(imapd_session *s)
{
    msg_state *m = s->cmd_state;
    imapd_view *v = s->view;
    store_uidset set = {m->ranges, m->nranges};
    store_uids gone = {0};
    uint64_t modseq = 0;
    bool in_step = false;
    int rc = msg_begin(s, &in_step);
    if (rc == STORE_OK) /* RFC 4315 2.1: UID EXPUNGE only in its set */
        rc = store_expunge(imapd_db(s), v->id, s->cmd->uid ? &set : NULL, &gone, &modseq);
    rc = msg_end(s, rc);
    if (rc != STORE_OK) {
        store_uids_free(&gone);
        imapd_result_store(s, rc, msg_verb(s));
        return IMAPD_DONE;
    }
    if (gone.n > 0) {
        imapd_changed(s);
        if (gone.n > 1)
            qsort(gone.uids, gone.n, sizeof gone.uids[0], uid_cmp);
        imapd_report_expunged(s, gone.uids, gone.n);
        if (in_step && modseq > v->modseq)
            v->modseq = modseq;
    }
    store_uids_free(&gone);
    imapd_ok(s, NULL, "%s completed", msg_verb(s));
    return IMAPD_DONE;
}

void imapd_cmd_expunge(imapd_session *s, const imap_command *cmd)
{
    msg_state *m;
    imap_error e;
    if (cmd->nargs != (cmd->uid ? 1u : 0u) || (cmd->uid && cmd->args[0].type != IMAP_ARG_ATOM)) {
        imapd_bad(s, NULL, cmd->uid ? "UID EXPUNGE takes a UID set" : "EXPUNGE takes no arguments");
        return;
    }
    if ((m = msg_state_new(s)) == NULL)
        return;
    if (cmd->uid && imap_seqset_parse(cmd->args[0].str, cmd->args[0].len, IMAP_SEQSET_ALLOW_SAVED,
                                      &m->set, &e) < 0) {
        imapd_result_error(s, &e);
        msg_state_free(m);
        return;
    }
    if (s->view->readonly) {
        imapd_no(s, NULL, "the mailbox is read-only (EXAMINE)");
        msg_state_free(m);
        return;
    }
    if (cmd->uid && imapd_set_uids(s, &m->set, true, &m->ranges, &m->nranges) < 0) {
        msg_state_free(m);
        return;
    }
    imapd_run(s, work_expunge, IMAPD_SYNC_FULL, m, msg_state_free);
}
