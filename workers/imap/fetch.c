/* FETCH and UID FETCH (RFC 9051 6.4.5, 7.5.2; RFC 3516 BINARY; RFC 7162
 * CHANGEDSINCE, MODSEQ and VANISHED; RFC 8970 PREVIEW).
 *
 * Two paths. When only the cheap attributes are asked (UID, FLAGS,
 * INTERNALDATE, RFC822.SIZE, MODSEQ - what a client asks to resynchronise
 * its flags), one pass over the mailbox's rows answers every message. Any
 * other attribute reads each message's metadata (ENVELOPE, BODYSTRUCTURE,
 * sizes) and, for body sections, its raw octets - only the header when
 * that is enough - parsed once by lib/mime for all its sections (lib/imap's
 * imap_body). That path streams: a step stops after IMAPD_CHUNK octets of
 * output and goes on once the client has read them.
 *
 * \Seen: a non-PEEK body section sets it (RFC 9051 6.4.5) in a read-write
 * mailbox, in one transaction per step, and the response then carries the
 * new FLAGS. A message expunged by another session meanwhile is skipped. */
#include "imapd.h"

#include "imap_body.h"
#include "imap_fetch.h"
#include "log.h"
#include "mime.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct fetch_state {
    imap_fetch f;
    bool uid;
    bool flags_asked, uid_asked, modseq_asked;
    bool cheap;    /* only cheap attributes */
    bool sections; /* some attribute needs the raw message */
    bool full_raw; /* some section needs more than the header */
    bool parse;    /* some section needs the MIME structure */
    bool need_info; /* some attribute needs the message's metadata strings */
    store_range *ranges;
    size_t nranges;
    size_t ri;    /* the range being answered */
    uint32_t next; /* the next UID to answer in it */
    bool vanished_sent;
    buf body; /* built sections (decoded BINARY, filtered headers) */
} fetch_state;

static void fetch_state_free(void *p)
{
    fetch_state *st = p;
    imap_fetch_free(&st->f);
    free(st->ranges);
    buf_free(&st->body);
    free(st);
}

static bool fetch_in_ranges(const fetch_state *st, uint32_t uid)
{
    size_t lo = 0, hi = st->nranges;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (st->ranges[mid].last < uid)
            lo = mid + 1;
        else if (st->ranges[mid].first > uid)
            hi = mid;
        else
            return true;
    }
    return false;
}

/* "* n FETCH (" and the attributes that every path writes the same way. */
static void fetch_open(imapd_session *s, fetch_state *st, uint32_t msn, uint32_t uid)
{
    imapd_printf(s, "* %u FETCH (", msn);
    /* RFC 7162 3.2.4: with QRESYNC on, every FETCH response has the UID */
    if (st->uid || st->uid_asked || s->qresync)
        imapd_printf(s, "UID %u ", uid);
}

static void fetch_flags(imapd_session *s, unsigned flags, const char *keywords, uint32_t uid)
{
    imapd_printf(s, "FLAGS ");
    imapd_write_flags(s, flags, keywords, !s->rev2 && uid >= s->view->recent_from);
    imapd_printf(s, " ");
}

/* Writes the cheap attributes of one message (FLAGS, INTERNALDATE,
 * RFC822.SIZE, MODSEQ) in the order asked. */
static void fetch_cheap_atts(imapd_session *s, fetch_state *st, uint32_t uid, unsigned flags,
                             const char *keywords, int64_t internal_date, uint64_t size,
                             uint64_t modseq, bool flags_forced)
{
    bool modseq_done = false;
    for (size_t i = 0; i < st->f.natts; i++) {
        switch (st->f.atts[i].kind) {
        case IMAP_FETCH_FLAGS:
            fetch_flags(s, flags, keywords, uid);
            break;
        case IMAP_FETCH_INTERNALDATE:
            imapd_printf(s, "INTERNALDATE ");
            imap_write_date_time(&s->out, internal_date, 0);
            imapd_printf(s, " ");
            break;
        case IMAP_FETCH_RFC822_SIZE:
            imapd_printf(s, "RFC822.SIZE %llu ", (unsigned long long)size);
            break;
        case IMAP_FETCH_MODSEQ:
            if (!modseq_done)
                imapd_printf(s, "MODSEQ (%llu) ", (unsigned long long)modseq);
            modseq_done = true;
            break;
        default:
            break;
        }
    }
    if (flags_forced && !st->flags_asked)
        fetch_flags(s, flags, keywords, uid);
    /* RFC 7162 3.1.4: a flag change (the implicit \Seen) comes with MODSEQ */
    if (flags_forced && s->condstore && !modseq_done) {
        imapd_printf(s, "MODSEQ (%llu) ", (unsigned long long)modseq);
        modseq_done = true;
    }
    /* RFC 7162 3.1.4.1: with CHANGEDSINCE, MODSEQ whether asked or not. */
    if (!modseq_done && st->f.has_changedsince)
        imapd_printf(s, "MODSEQ (%llu) ", (unsigned long long)modseq);
}

static void fetch_close(imapd_session *s)
{
    if (s->out.len > 0 && s->out.data[s->out.len - 1] == ' ')
        s->out.len--, s->out.data[s->out.len] = '\0';
    imapd_printf(s, ")\r\n");
}

/* ---- the cheap path ------------------------------------------------------------ */

static int fetch_cheap_cb(void *arg, const store_msg_row *row)
{
    imapd_session *s = arg;
    fetch_state *st = s->cmd_state;
    if (!fetch_in_ranges(st, row->uid))
        return 0;
    uint32_t msn = imapd_uidmap_msn(&s->view->map, row->uid);
    if (msn == 0)
        return 0;
    fetch_open(s, st, msn, row->uid);
    fetch_cheap_atts(s, st, row->uid, row->flags, row->keywords, row->internal_date, row->size,
                     row->modseq, false);
    fetch_close(s);
    return s->out.failed ? 1 : 0;
}

/* ---- the full path ----------------------------------------------------------------- */

/* A literal cannot carry NUL (RFC 9051 4.3: CHAR8), and only BINARY may use
 * literal8 (RFC 3516 4.3): a message APPENDed as binary is sent in BODY[]
 * with each NUL as 0x80, as other servers do. */
static void fetch_literal_nul(imapd_session *s, const char *p, size_t n)
{
    if (buf_printf(&s->out, "{%zu}\r\n", n) < 0)
        return;
    size_t at = s->out.len;
    if (buf_append(&s->out, p, n) < 0)
        return;
    for (size_t i = at; i < at + n; i++)
        if (s->out.data[i] == '\0')
            s->out.data[i] = (char)0x80;
}

/* Writes one body section attribute: name, then the octets or NIL. */
static int fetch_section(imapd_session *s, fetch_state *st, const imap_fetch_att *att,
                         const char *raw, size_t len, const mime_message *msg)
{
    const char *p = raw;
    size_t n = len;
    bool nil = false;
    imap_error e;
    if (msg == NULL) { /* the whole message (fetch_whole): no structure needed */
        if (att->partial) {
            uint64_t o = att->origin < n ? att->origin : n;
            p += o;
            n -= (size_t)o;
            if (att->count < n)
                n = (size_t)att->count;
        }
    } else if (imap_body_section(raw, len, msg, att, &st->body, &p, &n, &nil, &e) < 0) {
        imapd_result_error(s, &e);
        return -1;
    }
    if (att->kind == IMAP_FETCH_BINARY && att->partial) {
        /* RFC 9051 9 msg-att-static: "BINARY" section-binary, no origin */
        imap_fetch_att named = *att;
        named.partial = false;
        imap_fetch_att_name(&named, &s->out);
    } else {
        imap_fetch_att_name(att, &s->out);
    }
    imapd_printf(s, " ");
    if (att->kind == IMAP_FETCH_BINARY_SIZE)
        imapd_printf(s, "%zu", n);
    else if (nil)
        imapd_printf(s, "NIL");
    else if (att->kind == IMAP_FETCH_BINARY)
        imap_write_binary(&s->out, p, n);
    else if (memchr(p, '\0', n) == NULL)
        imap_write_literal(&s->out, p, n);
    else
        fetch_literal_nul(s, p, n);
    imapd_printf(s, " ");
    return 0;
}

/* The cheap columns of one message as a store_msg_info (the rest NULL):
 * enough when no ENVELOPE, BODY[STRUCTURE], PREVIEW or header-only section
 * is asked, and it reads no metadata strings. */
static int fetch_row_cb(void *arg, const store_msg_row *row)
{
    store_msg_info *info = arg;
    info->uid = row->uid;
    info->modseq = row->modseq;
    info->flags = row->flags;
    info->keywords = strdup(row->keywords);
    info->internal_date = row->internal_date;
    info->size = row->size;
    return info->keywords != NULL ? 1 : 2; /* found / out of memory */
}

static int fetch_row(imapd_session *s, uint32_t uid, store_msg_info *info)
{
    memset(info, 0, sizeof *info);
    int rc = store_msg_foreach_range(imapd_db(s), s->view->id, 0, uid, uid, fetch_row_cb, info);
    if (rc == 1)
        return STORE_OK;
    store_msg_info_free(info);
    return rc == STORE_OK ? STORE_ERR_NOTFOUND : rc == 2 ? STORE_ERR_NOMEM : rc;
}

/* One message on the full path: 1 written, 0 skipped (gone), -1 failed
 * (the result is set). */
static int fetch_one(imapd_session *s, fetch_state *st, uint32_t uid)
{
    imapd_view *v = s->view;
    uint32_t msn = imapd_uidmap_msn(&v->map, uid);
    if (msn == 0)
        return 0;
    store_msg_info info;
    int rc = st->need_info ? store_fetch_info(imapd_db(s), v->id, uid, &info)
                           : fetch_row(s, uid, &info);
    if (rc == STORE_ERR_NOTFOUND)
        return 0;
    if (rc != STORE_OK) {
        imapd_result_store(s, rc, "FETCH");
        return -1;
    }
    if (st->f.has_changedsince && info.modseq <= st->f.changedsince) {
        store_msg_info_free(&info);
        return 0;
    }
    bool seen_now = false;
    if (st->f.sets_seen && !v->readonly && (info.flags & STORE_FLAG_SEEN) == 0) {
        store_range r = {uid, uid};
        store_uidset set = {&r, 1};
        store_flags_result res = {0};
        if (store_set_flags(imapd_db(s), v->id, &set, STORE_FLAGS_ADD, STORE_FLAG_SEEN, NULL, 0,
                            &res) == STORE_OK &&
            res.changed.n == 1) {
            info.flags |= STORE_FLAG_SEEN;
            info.modseq = res.modseq;
            if (res.modseq == v->modseq + 1) /* the sync need not report it again */
                v->modseq = res.modseq;
            seen_now = true;
            imapd_changed(s);
        }
        store_flags_result_free(&res);
    }
    unsigned char *raw = NULL;
    size_t len = 0;
    mime_message *msg = NULL;
    if (st->sections) {
        uint64_t want = st->full_raw ? info.size : info.header_len;
        rc = store_fetch_raw(imapd_db(s), v->id, uid, 0, want, &raw, &len);
        if (rc == STORE_OK && st->parse && (msg = mime_parse((const char *)raw, len, NULL)) == NULL)
            rc = STORE_ERR_NOMEM;
        if (rc != STORE_OK) {
            free(raw);
            store_msg_info_free(&info);
            if (rc == STORE_ERR_NOTFOUND)
                return 0;
            imapd_result_store(s, rc, "FETCH");
            return -1;
        }
    }
    size_t start = s->out.len; /* a failure takes the half-written response back */
    fetch_open(s, st, msn, uid);
    fetch_cheap_atts(s, st, uid, info.flags, info.keywords, info.internal_date, info.size,
                     info.modseq, seen_now);
    int out = 1;
    for (size_t i = 0; i < st->f.natts && out == 1; i++) {
        const imap_fetch_att *att = &st->f.atts[i];
        switch (att->kind) {
        case IMAP_FETCH_ENVELOPE:
            imapd_printf(s, "ENVELOPE %s ", info.envelope != NULL ? info.envelope : "NIL");
            break;
        case IMAP_FETCH_BODY:
            imapd_printf(s, "BODY %s ", info.bodystructure != NULL ? info.bodystructure : "NIL");
            break;
        case IMAP_FETCH_BODYSTRUCTURE:
            imapd_printf(s, "BODYSTRUCTURE %s ",
                         info.bodystructure_ext != NULL ? info.bodystructure_ext : "NIL");
            break;
        case IMAP_FETCH_PREVIEW:
            imapd_printf(s, "PREVIEW ");
            imap_write_nstring(&s->out, info.preview, info.preview != NULL ? strlen(info.preview) : 0,
                               imapd_utf8_names(s) ? IMAP_WRITE_UTF8 : 0);
            imapd_printf(s, " ");
            break;
        case IMAP_FETCH_BODY_SECTION:
        case IMAP_FETCH_BINARY:
        case IMAP_FETCH_BINARY_SIZE:
        case IMAP_FETCH_RFC822:
        case IMAP_FETCH_RFC822_HEADER:
        case IMAP_FETCH_RFC822_TEXT:
            if (fetch_section(s, st, att, (const char *)raw, len, msg) < 0)
                out = -1;
            break;
        default:
            break;
        }
    }
    if (out == 1) {
        fetch_close(s);
    } else if (!s->out.failed) {
        s->out.len = start;
        if (s->out.data != NULL)
            s->out.data[start] = '\0';
    }
    mime_free(&msg);
    free(raw);
    store_msg_info_free(&info);
    return out;
}

/* RFC 7162 3.2.6: UIDs of the set expunged since CHANGEDSINCE. */
static void fetch_vanished(imapd_session *s, fetch_state *st)
{
    store_uids gone = {0};
    store_uidset set = {st->ranges, st->nranges};
    if (store_vanished(imapd_db(s), s->view->id, st->f.changedsince, &set, &gone) == STORE_OK &&
        gone.n > 0) {
        imapd_printf(s, "* VANISHED (EARLIER) ");
        imapd_write_uid_set(&s->out, gone.uids, gone.n);
        imapd_printf(s, "\r\n");
    }
    store_uids_free(&gone);
}

static imapd_step work_fetch(imapd_session *s)
{
    fetch_state *st = s->cmd_state;
    if (!st->vanished_sent) {
        st->vanished_sent = true;
        if (st->f.vanished)
            fetch_vanished(s, st);
        if (st->cheap) {
            int rc = STORE_OK;
            for (size_t i = 0; i < st->nranges && rc == STORE_OK && !s->out.failed; i++)
                rc = store_msg_foreach_range(imapd_db(s), s->view->id,
                                             st->f.has_changedsince ? st->f.changedsince : 0,
                                             st->ranges[i].first, st->ranges[i].last,
                                             fetch_cheap_cb, s);
            if (s->out.failed)
                imapd_no(s, "LIMIT", "the response is too large, fetch fewer messages");
            else if (rc != STORE_OK)
                imapd_result_store(s, rc, "FETCH");
            else
                imapd_ok(s, NULL, "FETCH completed");
            return IMAPD_DONE;
        }
        st->ri = 0;
        st->next = st->nranges > 0 ? st->ranges[0].first : 0;
    }
    bool txn = st->f.sets_seen && !s->view->readonly && store_begin(imapd_db(s)) == STORE_OK;
    int failed = 0;
    while (st->ri < st->nranges && s->out.len < IMAPD_CHUNK && !failed) {
        uint32_t uid = st->next;
        if (uid >= st->ranges[st->ri].last) {
            st->ri++;
            st->next = st->ri < st->nranges ? st->ranges[st->ri].first : 0;
        } else {
            st->next = uid + 1;
        }
        failed = fetch_one(s, st, uid) < 0;
        if (s->out.failed) {
            imapd_no(s, "LIMIT", "a message is too large to send");
            failed = 1;
        }
    }
    if (txn)
        store_commit(imapd_db(s));
    if (failed)
        return IMAPD_DONE;
    if (st->ri < st->nranges)
        return IMAPD_MORE;
    imapd_ok(s, NULL, "FETCH completed");
    return IMAPD_DONE;
}

static bool fetch_att_cheap(imap_fetch_kind k)
{
    return k == IMAP_FETCH_FLAGS || k == IMAP_FETCH_INTERNALDATE || k == IMAP_FETCH_RFC822_SIZE ||
           k == IMAP_FETCH_UID || k == IMAP_FETCH_MODSEQ;
}

/* BODY[], BODY[]<o.n>, RFC822, BINARY[]: the stored octets as they are. */
static bool fetch_whole(const imap_fetch_att *att)
{
    return att->kind == IMAP_FETCH_RFC822 ||
           ((att->kind == IMAP_FETCH_BODY_SECTION || att->kind == IMAP_FETCH_BINARY) &&
            att->section.nparts == 0 && att->section.text == IMAP_SECTION_NONE);
}

static bool fetch_att_section(imap_fetch_kind k)
{
    return k == IMAP_FETCH_BODY_SECTION || k == IMAP_FETCH_BINARY ||
           k == IMAP_FETCH_BINARY_SIZE || k == IMAP_FETCH_RFC822 ||
           k == IMAP_FETCH_RFC822_HEADER || k == IMAP_FETCH_RFC822_TEXT;
}

void imapd_cmd_fetch(imapd_session *s, const imap_command *cmd)
{
    fetch_state *st = calloc(1, sizeof *st);
    imap_error e;
    if (st == NULL) {
        imapd_no(s, "SERVERBUG", "out of memory");
        return;
    }
    unsigned flags = (cmd->uid ? IMAP_FETCH_F_UID : 0) | (s->qresync ? IMAP_FETCH_F_QRESYNC : 0) |
                     IMAP_FETCH_F_SEARCHRES;
    if (imap_fetch_parse(cmd->args, cmd->nargs, flags, &st->f, &e) < 0) {
        imapd_result_error(s, &e);
        free(st);
        return;
    }
    st->uid = cmd->uid;
    st->cheap = true;
    for (size_t i = 0; i < st->f.natts; i++) {
        imap_fetch_kind k = st->f.atts[i].kind;
        st->flags_asked |= k == IMAP_FETCH_FLAGS;
        st->uid_asked |= k == IMAP_FETCH_UID;
        st->cheap &= fetch_att_cheap(k);
        st->need_info |= k == IMAP_FETCH_ENVELOPE || k == IMAP_FETCH_BODY ||
                         k == IMAP_FETCH_BODYSTRUCTURE || k == IMAP_FETCH_PREVIEW;
        if (fetch_att_section(k)) {
            st->sections = true;
            st->full_raw |= !imap_body_header_only(&st->f.atts[i]);
            st->parse |= !fetch_whole(&st->f.atts[i]);
        }
    }
    if (st->f.condstore)
        s->condstore = true; /* RFC 7162 3.1: a CONDSTORE enabling command */
    st->need_info |= st->sections && !st->full_raw; /* the header's length */
    if (imapd_set_uids(s, &st->f.set, cmd->uid, &st->ranges, &st->nranges) < 0) {
        fetch_state_free(st);
        return;
    }
    buf_init_secret(&st->body, (size_t)s->srv->cfg.message_max * 2 + 4096);
    /* RFC 9051 7.5.1: no EXPUNGE during FETCH; UID FETCH may have them. */
    imapd_run(s, work_fetch, cmd->uid ? IMAPD_SYNC_FULL : IMAPD_SYNC_NOEXPUNGE, st,
              fetch_state_free);
}
