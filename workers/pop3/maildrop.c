/* The maildrop of a logged-in session (RFC 1939 5, 6): the lock, the store
 * and the snapshot, and the TRANSACTION commands. See pop3d.h.
 *
 * Message numbers are positions in the snapshot taken at login (INBOX in
 * UID order); sizes are the stored octets, which have CRLF line ends: the
 * exact count RETR sends before byte-stuffing (RFC 1939 11 allows a size
 * that differs from what is sent by the stuffing). UIDL is
 * "<UIDVALIDITY>.<UID>" of INBOX: stable across sessions and the same
 * message IMAP shows with that UID (RFC 1939 7: 1 to 70 characters of
 * 0x21..0x7E). */
#include "pop3d.h"

#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- opening and closing --------------------------------------------------- */

static int drop_snapshot_row(void *ctx, const store_msg_row *row)
{
    pop3d_maildrop *d = ctx;
    static const uint32_t step = 1024;
    if (d->n == UINT32_MAX)
        return 1;
    if (d->n % step == 0) {
        pop3d_msg *m = realloc(d->msgs, ((size_t)d->n + step) * sizeof *m);
        if (m == NULL)
            return 1;
        d->msgs = m;
    }
    d->msgs[d->n++] = (pop3d_msg){.uid = row->uid, .size = row->size};
    return 0;
}

/* The lock file next to the store: an exclusive flock, held while the
 * session lives (the kernel drops it when the process dies). */
static pop3d_drop_result drop_lock(pop3d_server *srv, pop3d_maildrop *d, char *err, size_t errlen)
{
    char path[POP3D_PATH_MAX + 128];
    size_t n = strlen(d->store_id);
    if (n == 0 || strspn(d->store_id, "0123456789abcdef") != n) {
        snprintf(err, errlen, "invalid store id");
        return POP3D_DROP_FAILED;
    }
    snprintf(path, sizeof path, "%s/stores", srv->cfg.data_dir);
    if (mkdir(path, 0700) < 0 && errno != EEXIST) {
        snprintf(err, errlen, "mkdir(%s) failed: %s", path, strerror(errno));
        return POP3D_DROP_FAILED;
    }
    snprintf(path, sizeof path, "%s/stores/%s.pop3.lock", srv->cfg.data_dir, d->store_id);
    d->lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (d->lock_fd < 0) {
        snprintf(err, errlen, "open(%s) failed: %s", path, strerror(errno));
        return POP3D_DROP_FAILED;
    }
    int rc;
    do
        rc = flock(d->lock_fd, LOCK_EX | LOCK_NB);
    while (rc < 0 && errno == EINTR);
    if (rc == 0)
        return POP3D_DROP_OK;
    pop3d_drop_result r = errno == EWOULDBLOCK ? POP3D_DROP_IN_USE : POP3D_DROP_FAILED;
    if (r == POP3D_DROP_FAILED)
        snprintf(err, errlen, "flock(%s) failed: %s", path, strerror(errno));
    close(d->lock_fd);
    d->lock_fd = -1;
    return r;
}

/* The store, the drain, the snapshot (lock held). */
static int drop_load(pop3d_server *srv, pop3d_maildrop *d, const worker_login *l, char *err,
                     size_t errlen)
{
    mailbox_result r = mailbox_open(srv->cfg.data_dir, l->store_id, l->store_key, l->pk,
                                    l->sealed_sk, l->sealed_len, &d->mbx, err, errlen);
    if (r != MAILBOX_OK)
        return -1;
    sqlite3 *db = mailbox_db(d->mbx);
    /* The directory's quota, as the store enforces it for the drain. */
    uint64_t used = 0, limit = 0;
    if (store_quota_get(db, &used, &limit) == STORE_OK && limit != l->quota)
        store_quota_set_limit(db, l->quota);
    size_t moved = 0;
    mailbox_result dr = mailbox_drain(d->mbx, srv->spool_dir, &moved);
    if (dr != MAILBOX_OK) /* what did not move stays spooled: the next drain takes it */
        log_warn(NULL, "%s: spool drain: %s", l->account, mailbox_strerror(dr));
    store_mailbox mb;
    int rc = store_mailbox_get(db, "INBOX", &mb);
    if (rc == STORE_OK) {
        d->inbox_id = mb.id;
        d->uidvalidity = mb.uidvalidity;
        rc = store_msg_foreach(db, mb.id, 0, drop_snapshot_row, d);
    }
    if (rc != STORE_OK) {
        snprintf(err, errlen, "INBOX: %s", rc > 0 ? "out of memory" : store_strerror(rc));
        return -1;
    }
    return 0;
}

pop3d_drop_result pop3d_maildrop_open(pop3d_server *srv, const worker_login *l, pop3d_maildrop **r,
                                      char *err, size_t errlen)
{
    *r = NULL;
    pop3d_maildrop *d = calloc(1, sizeof *d);
    if (d == NULL) {
        snprintf(err, errlen, "out of memory");
        return POP3D_DROP_FAILED;
    }
    d->srv = srv;
    d->lock_fd = -1;
    snprintf(d->store_id, sizeof d->store_id, "%s", l->store_id);
    pop3d_drop_result res = drop_lock(srv, d, err, errlen);
    if (res != POP3D_DROP_OK) {
        free(d);
        return res;
    }
    net_metric_add(srv->m.maildrops_open, 1);
    if (drop_load(srv, d, l, err, errlen) < 0) {
        pop3d_maildrop_close(&d);
        return POP3D_DROP_FAILED;
    }
    *r = d;
    return POP3D_DROP_OK;
}

void pop3d_maildrop_close(pop3d_maildrop **dp)
{
    pop3d_maildrop *d = dp != NULL ? *dp : NULL;
    if (d == NULL)
        return;
    *dp = NULL;
    mailbox_close(&d->mbx);
    if (d->lock_fd >= 0) { /* closing the only descriptor releases the flock */
        close(d->lock_fd);
        net_metric_sub(d->srv->m.maildrops_open, 1);
    }
    free(d->msgs);
    free(d);
}

static void drop_release_work(void *arg)
{
    pop3d_maildrop *d = arg;
    pop3d_maildrop_close(&d);
}

static void drop_release_done(net_loop *l, void *arg)
{
    (void)l;
    (void)arg;
}

void pop3d_maildrop_release(pop3d_server *srv, pop3d_maildrop **dp)
{
    pop3d_maildrop *d = *dp;
    if (d == NULL)
        return;
    *dp = NULL;
    if (net_pool_submit(srv->loop, drop_release_work, drop_release_done, d) < 0)
        pop3d_maildrop_close(&d);
}

/* ---- message numbers ------------------------------------------------------------ */

/* Message n of the snapshot, not marked deleted; NULL after the -ERR. */
static pop3d_msg *drop_msg(pop3d_session *s, uint32_t n)
{
    pop3d_maildrop *d = s->drop;
    if (n == 0 || n > d->n) {
        pop3d_error(s, "no such message");
        return NULL;
    }
    pop3d_msg *m = &d->msgs[n - 1];
    if (m->deleted) {
        pop3d_error(s, "message %u already deleted", n);
        return NULL;
    }
    return m;
}

static void drop_totals(const pop3d_maildrop *d, uint32_t *count_r, uint64_t *size_r)
{
    uint32_t count = 0;
    uint64_t size = 0;
    for (uint32_t i = 0; i < d->n; i++) {
        if (!d->msgs[i].deleted) {
            count++;
            size += d->msgs[i].size;
        }
    }
    *count_r = count;
    *size_r = size;
}

/* ---- STAT, LIST, UIDL -------------------------------------------------------------- */

void pop3d_cmd_stat(pop3d_session *s, const pop3_command *cmd)
{
    uint32_t count;
    uint64_t size;
    (void)cmd;
    drop_totals(s->drop, &count, &size);
    pop3d_printf(s, "+OK %u %llu\r\n", count, (unsigned long long)size);
}

/* One line of a LIST or UIDL listing (message index i). */
static void drop_list_line(pop3d_session *s, uint32_t i)
{
    const pop3d_maildrop *d = s->drop;
    if (s->verb == POP3_CMD_LIST)
        pop3d_printf(s, "%u %llu\r\n", i + 1, (unsigned long long)d->msgs[i].size);
    else
        pop3d_printf(s, "%u %u.%u\r\n", i + 1, d->uidvalidity, d->msgs[i].uid);
}

/* The multi-line listing, POP3D_LIST_STEP lines per step. */
static pop3d_step work_listing(pop3d_session *s)
{
    const pop3d_maildrop *d = s->drop;
    if (!s->started) {
        uint32_t count;
        uint64_t size;
        drop_totals(d, &count, &size);
        if (s->verb == POP3_CMD_LIST)
            pop3d_printf(s, "+OK %u messages (%llu octets)\r\n", count, (unsigned long long)size);
        else
            pop3d_printf(s, "+OK unique-id listing follows\r\n");
        s->started = true;
        s->cur = 0;
    }
    for (unsigned k = 0; s->cur < d->n && k < POP3D_LIST_STEP; s->cur++) {
        if (!d->msgs[s->cur].deleted) {
            drop_list_line(s, s->cur);
            k++;
        }
    }
    if (s->cur < d->n)
        return POP3D_MORE;
    pop3d_printf(s, ".\r\n");
    return POP3D_DONE;
}

static void drop_listing(pop3d_session *s, const pop3_command *cmd)
{
    s->verb = cmd->verb;
    if (!cmd->has_msg) {
        pop3d_run(s, work_listing, false);
        return;
    }
    pop3d_msg *m = drop_msg(s, cmd->msg);
    if (m == NULL)
        return;
    pop3d_printf(s, "+OK ");
    drop_list_line(s, cmd->msg - 1);
}

void pop3d_cmd_list(pop3d_session *s, const pop3_command *cmd)
{
    drop_listing(s, cmd);
}

void pop3d_cmd_uidl(pop3d_session *s, const pop3_command *cmd)
{
    drop_listing(s, cmd);
}

/* ---- RETR, TOP ------------------------------------------------------------------------ */

/* One chunk of the message, stuffed (pool thread). */
static pop3d_step work_retr(pop3d_session *s)
{
    const pop3d_maildrop *d = s->drop;
    const pop3d_msg *m = &d->msgs[s->cur];
    unsigned char *data = NULL;
    size_t len = 0;
    int rc = store_fetch_raw(mailbox_db(d->mbx), d->inbox_id, m->uid, s->offset, POP3D_CHUNK, &data,
                             &len);
    if (rc != STORE_OK) {
        free(data);
        log_error(s->id, "%s: message UID %u: %s", s->account, m->uid, store_strerror(rc));
        if (s->started) { /* in the middle of the response: nothing can be said */
            s->abort = true;
        } else if (rc == STORE_ERR_NOTFOUND) {
            pop3d_printf(s, "-ERR message %u was removed by another session\r\n", s->cur + 1);
        } else {
            pop3d_printf(s, "-ERR [SYS/TEMP] the message cannot be read now\r\n");
        }
        return POP3D_DONE;
    }
    if (!s->started) {
        if (s->verb == POP3_CMD_RETR)
            pop3d_printf(s, "+OK %llu octets\r\n", (unsigned long long)m->size);
        else
            pop3d_printf(s, "+OK top of message follows\r\n");
        s->started = true;
    }
    pop3_dot_write(&s->dot, (const char *)data, len, &s->out);
    free(data);
    s->offset += len;
    if (len > 0 && s->offset < m->size && !pop3_dot_done(&s->dot))
        return POP3D_MORE;
    pop3_dot_finish(&s->dot, &s->out);
    net_metric_add(s->srv->m.retrieved, 1);
    return POP3D_DONE;
}

/* RETR n, TOP n m (RFC 1939 7: m = 0 is the header and the blank line; an
 * m past the end of the body is the whole message). */
void pop3d_cmd_retr(pop3d_session *s, const pop3_command *cmd)
{
    if (drop_msg(s, cmd->msg) == NULL)
        return;
    s->verb = cmd->verb;
    s->cur = cmd->msg - 1;
    s->offset = 0;
    pop3_dot_init(&s->dot, cmd->verb == POP3_CMD_TOP ? cmd->lines : POP3_DOT_ALL);
    pop3d_run(s, work_retr, true);
}

/* ---- DELE, RSET --------------------------------------------------------------------- */

void pop3d_cmd_dele(pop3d_session *s, const pop3_command *cmd)
{
    pop3d_msg *m = drop_msg(s, cmd->msg);
    if (m == NULL)
        return;
    m->deleted = true;
    pop3d_printf(s, "+OK message %u deleted\r\n", cmd->msg);
}

void pop3d_cmd_rset(pop3d_session *s, const pop3_command *cmd)
{
    pop3d_maildrop *d = s->drop;
    uint32_t count;
    uint64_t size;
    (void)cmd;
    for (uint32_t i = 0; i < d->n; i++)
        d->msgs[i].deleted = false;
    drop_totals(d, &count, &size);
    pop3d_printf(s, "+OK maildrop has %u messages (%llu octets)\r\n", count,
                 (unsigned long long)size);
}

/* ---- QUIT: the UPDATE state -------------------------------------------------------- */

/* The marked UIDs as ranges (ascending: the snapshot is in UID order);
 * *count_r messages. NULL when none is marked or memory ran out. */
static store_range *drop_marked(const pop3d_maildrop *d, size_t *n_r, uint32_t *count_r)
{
    uint32_t count = 0;
    for (uint32_t i = 0; i < d->n; i++)
        count += d->msgs[i].deleted;
    *count_r = count;
    *n_r = 0;
    store_range *r = count > 0 ? calloc(count, sizeof *r) : NULL;
    if (r == NULL)
        return NULL;
    size_t n = 0;
    for (uint32_t i = 0; i < d->n; i++) {
        uint32_t uid = d->msgs[i].uid;
        if (!d->msgs[i].deleted)
            continue;
        if (n > 0 && r[n - 1].last + 1 == uid)
            r[n - 1].last = uid;
        else
            r[n++] = (store_range){uid, uid};
    }
    *n_r = n;
    return r;
}

/* The mailbox marked \Trash (RFC 6154), else POP3D_TRASH, created when
 * missing (inside the caller's transaction). */
static int drop_trash(sqlite3 *db, char name[STORE_NAME_MAX + 1])
{
    store_mailbox *list = NULL, mb;
    size_t n = 0;
    int rc = store_mailbox_list(db, &list, &n);
    if (rc != STORE_OK)
        return rc;
    snprintf(name, STORE_NAME_MAX + 1, "%s", POP3D_TRASH);
    for (size_t i = 0; i < n; i++) {
        if ((list[i].special_use & STORE_USE_TRASH) != 0 &&
            (list[i].attrs & STORE_MBX_NOSELECT) == 0) {
            snprintf(name, STORE_NAME_MAX + 1, "%s", list[i].name);
            break;
        }
    }
    free(list);
    rc = store_mailbox_get(db, name, &mb);
    if (rc == STORE_ERR_NOMAILBOX)
        rc = store_mailbox_create(db, name, STORE_USE_TRASH);
    return rc;
}

/* Removes (or moves to Trash) exactly the marked messages, in one
 * transaction: all of them, or none. */
static int drop_apply(pop3d_session *s, const store_uidset *set)
{
    pop3d_maildrop *d = s->drop;
    sqlite3 *db = mailbox_db(d->mbx);
    int rc = store_begin(db);
    if (rc != STORE_OK)
        return rc;
    if (s->srv->cfg.dele == POP3D_DELE_TRASH) {
        char trash[STORE_NAME_MAX + 1];
        store_copy_result res;
        memset(&res, 0, sizeof res);
        rc = drop_trash(db, trash);
        if (rc == STORE_OK)
            rc = store_move(db, d->inbox_id, set, trash, &res);
        store_copy_result_free(&res);
    } else {
        store_flags_result fr;
        memset(&fr, 0, sizeof fr);
        rc = store_set_flags(db, d->inbox_id, set, STORE_FLAGS_ADD, STORE_FLAG_DELETED, NULL, 0,
                             &fr);
        store_flags_result_free(&fr);
        if (rc == STORE_OK)
            rc = store_expunge(db, d->inbox_id, set, NULL, NULL);
    }
    if (rc == STORE_OK)
        rc = store_commit(db);
    if (rc != STORE_OK)
        store_rollback(db);
    return rc;
}

static pop3d_step work_update(pop3d_session *s)
{
    size_t n = 0;
    uint32_t count = 0;
    store_range *ranges = drop_marked(s->drop, &n, &count);
    int rc = STORE_OK;
    if (count > 0 && ranges == NULL) {
        rc = STORE_ERR_NOMEM;
    } else if (count > 0) {
        store_uidset set = {ranges, n};
        rc = drop_apply(s, &set);
    }
    free(ranges);
    pop3d_close(s); /* RFC 1939 6: the session ends whatever the outcome */
    if (rc != STORE_OK) {
        log_error(s->id, "%s: QUIT: %u messages not removed: %s", s->account, count,
                  store_strerror(rc));
        pop3d_maildrop_close(&s->drop);
        pop3d_printf(s, "-ERR [SYS/TEMP] some deleted messages not removed\r\n");
        return POP3D_DONE;
    }
    if (count > 0) {
        log_info(s->id, "%s: %u messages %s", s->account, count,
                 s->srv->cfg.dele == POP3D_DELE_TRASH ? "moved to Trash" : "removed");
        net_metric_add(s->srv->m.deleted, count);
        worker_publish_new_mail(s->drop->store_id); /* IMAP sessions look */
    }
    uint32_t left = s->drop->n - count;
    pop3d_maildrop_close(&s->drop); /* unlocked before the +OK */
    if (left == 0)
        pop3d_printf(s, "+OK ownmail POP3 server signing off (maildrop empty)\r\n");
    else
        pop3d_printf(s, "+OK ownmail POP3 server signing off (%u messages left)\r\n", left);
    return POP3D_DONE;
}

void pop3d_cmd_quit_update(pop3d_session *s, const pop3_command *cmd)
{
    (void)cmd;
    pop3d_run(s, work_update, true);
}
