/* APPEND (RFC 9051 6.3.12) with MULTIAPPEND (RFC 3502: several messages in
 * one command, all stored or none), BINARY's literal8 (RFC 3516 4.4),
 * APPENDUID (RFC 4315 3) and APPENDLIMIT (RFC 7889).
 *
 *   APPEND mailbox 1*(SP [flag-list SP] [date-time SP] (literal / literal8))
 *
 * The reader has already refused a message over APPENDLIMIT before the
 * client sent it (NO [TOOBIG] instead of "+"). A message is stored with CRLF
 * line ends (mailbox_normalize_crlf, as the spool drain does) and its
 * metadata (ENVELOPE, BODYSTRUCTURE, index text, SORT keys) computed by
 * lib/mailbox; a literal8 message is stored as given: its octets are
 * binary, and a bare LF in them is data. */
#include "imapd.h"

#include "imap_date.h"
#include "imap_write.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct append_msg {
    imap_flags flags; /* keywords point into the command */
    int64_t date;     /* 0: now */
    const char *data; /* the literal, in the command */
    size_t len;
    bool binary; /* literal8 */
} append_msg;

typedef struct append_state {
    char name[STORE_NAME_MAX + 1];
    append_msg *msgs;
    size_t n;
} append_state;

static void append_state_free(void *p)
{
    append_state *a = p;
    free(a->msgs);
    free(a);
}

static bool append_has_bare_lf(const char *s, size_t len)
{
    for (const char *p = s; (p = memchr(p, '\n', len - (size_t)(p - s))) != NULL; p++)
        if (p == s || p[-1] != '\r')
            return true;
    return false;
}

/* Stores one message inside the command's transaction. */
static int append_one(imapd_session *s, const append_state *a, const append_msg *m, uint32_t *uid_r)
{
    buf norm;
    store_msg_meta meta = {0};
    const char *raw = m->data;
    size_t len = m->len;
    int rc = STORE_OK;
    buf_init_secret(&norm, STORE_MSG_MAX);
    if (!m->binary && append_has_bare_lf(m->data, m->len)) {
        /* APPENDLIMIT is at most STORE_MSG_MAX / 2 (config.c): the
         * normalised message always fits, a failure is memory. */
        if (mailbox_normalize_crlf(m->data, m->len, &norm) < 0)
            rc = STORE_ERR_NOMEM;
        raw = norm.data != NULL ? norm.data : "";
        len = norm.len;
    }
    if (rc == STORE_OK && mailbox_meta_from_mime(raw, len, &meta) != MAILBOX_OK)
        rc = STORE_ERR_NOMEM;
    if (rc == STORE_OK)
        rc = store_append(imapd_db(s), a->name, raw, len, m->date, m->flags.mask, m->flags.keywords,
                          &meta, uid_r, NULL);
    mailbox_meta_free(&meta);
    buf_free(&norm);
    return rc;
}

static int append_uid_cmp(const void *x, const void *y)
{
    uint32_t a = *(const uint32_t *)x, b = *(const uint32_t *)y;
    return a < b ? -1 : a > b;
}

/* "APPENDUID uidvalidity uid-set" (RFC 4315 3). */
static void append_result(imapd_session *s, uint32_t uidvalidity, uint32_t *uids, size_t n)
{
    imap_seq_range *r = malloc(n * sizeof *r);
    buf b;
    size_t k = 0;
    qsort(uids, n, sizeof uids[0], append_uid_cmp);
    for (size_t i = 0; r != NULL && i < n; i++) {
        if (k > 0 && (uint64_t)r[k - 1].last + 1 == uids[i])
            r[k - 1].last = uids[i];
        else
            r[k++] = (imap_seq_range){uids[i], uids[i]};
    }
    buf_init(&b, IMAPD_CODE_MAX - 1);
    buf_printf(&b, "APPENDUID %u ", uidvalidity);
    if (r == NULL || imap_write_ranges(&b, r, k) < 0 || b.failed)
        imapd_ok(s, NULL, "APPEND completed"); /* RFC 4315 3: a server may leave it out */
    else
        imapd_ok(s, b.data, "APPEND completed");
    buf_free(&b);
    free(r);
}

static imapd_step work_append(imapd_session *s)
{
    append_state *a = s->cmd_state;
    sqlite3 *db = imapd_db(s);
    store_mailbox mb;
    uint32_t *uids = calloc(a->n, sizeof *uids);
    if (uids == NULL) {
        imapd_no(s, "SERVERBUG", "out of memory");
        return IMAPD_DONE;
    }
    /* RFC 3502 4: every message or none, in one transaction. */
    int rc = store_begin(db);
    if (rc == STORE_OK) {
        rc = store_mailbox_get(db, a->name, &mb);
        for (size_t i = 0; rc == STORE_OK && i < a->n; i++)
            rc = append_one(s, a, &a->msgs[i], &uids[i]);
        if (rc == STORE_OK)
            rc = store_commit(db);
        else
            store_rollback(db);
    }
    if (rc == STORE_OK) {
        imapd_changed(s);
        append_result(s, mb.uidvalidity, uids, a->n);
    } else if (rc == STORE_ERR_NOMAILBOX) { /* RFC 9051 6.3.12 */
        imapd_no(s, "TRYCREATE", "APPEND: no such mailbox");
    } else if (rc == STORE_ERR_LIMIT) {
        imapd_no(s, "TOOBIG", "APPEND: the message or a header field of it is too big");
    } else {
        imapd_result_store(s, rc, "APPEND");
    }
    free(uids);
    return IMAPD_DONE;
}

/* One message's [flag-list] [date-time] literal from args[*i]. false: the
 * result is set. */
static bool append_parse_msg(imapd_session *s, const imap_command *cmd, size_t *i, append_msg *m)
{
    const imap_arg *a = &cmd->args[*i];
    imap_error e;
    if (a->type == IMAP_ARG_LIST) {
        if (imap_flags_parse(a->list, a->n, &m->flags, &e) < 0) {
            imapd_result_error(s, &e);
            return false;
        }
        for (size_t k = 0; k < m->flags.nkeywords; k++) {
            if (!store_keyword_valid(m->flags.keywords[k])) {
                imapd_bad(s, NULL, "invalid keyword");
                return false;
            }
        }
        if (++*i >= cmd->nargs)
            goto syntax;
        a = &cmd->args[*i];
    }
    if (a->type == IMAP_ARG_QUOTED) {
        if (imap_date_time_parse(a->str, a->len, &m->date) < 0) {
            imapd_bad(s, NULL, "invalid date-time");
            return false;
        }
        if (++*i >= cmd->nargs)
            goto syntax;
        a = &cmd->args[*i];
    }
    if (imap_arg_atom_eq(a, "UTF8")) { /* RFC 6855 4: UTF8 (literal8) */
        const imap_arg *l = ++*i < cmd->nargs ? &cmd->args[*i] : NULL;
        if (!s->utf8 || l == NULL || l->type != IMAP_ARG_LIST || l->n != 1)
            goto syntax;
        a = &l->list[0];
    }
    if (a->type != IMAP_ARG_LITERAL && a->type != IMAP_ARG_LITERAL8)
        goto syntax;
    m->data = a->str != NULL ? a->str : "";
    m->len = a->len;
    m->binary = a->type == IMAP_ARG_LITERAL8;
    ++*i;
    if (m->len == 0) {
        imapd_no(s, NULL, "APPEND: an empty message cannot be stored");
        return false;
    }
    return true;
syntax:
    imapd_bad(s, NULL, "APPEND takes a mailbox, then [flags] [date-time] and a literal each");
    return false;
}

void imapd_cmd_append(imapd_session *s, const imap_command *cmd)
{
    append_state *a = calloc(1, sizeof *a);
    /* A message is one literal: the reader bounds them (IMAP_LITERALS_MAX). */
    size_t max = cmd->nliterals > 0 ? cmd->nliterals : 1;
    if (a == NULL || (a->msgs = calloc(max, sizeof *a->msgs)) == NULL) {
        free(a);
        imapd_no(s, "SERVERBUG", "out of memory");
        return;
    }
    if (cmd->nargs < 2) {
        imapd_bad(s, NULL, "APPEND takes a mailbox and a message");
        append_state_free(a);
        return;
    }
    if (!imapd_arg_mailbox(s, &cmd->args[0], a->name)) {
        append_state_free(a);
        return;
    }
    for (size_t i = 1; i < cmd->nargs;) {
        if (a->n == max) { /* cannot be: each message took a literal */
            imapd_bad(s, NULL, "APPEND: more messages than literals");
            append_state_free(a);
            return;
        }
        if (!append_parse_msg(s, cmd, &i, &a->msgs[a->n])) {
            append_state_free(a);
            return;
        }
        a->n++;
    }
    imapd_run(s, work_append, IMAPD_SYNC_FULL, a, append_state_free);
}
