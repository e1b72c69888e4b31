/* Mailbox commands: CREATE (RFC 9051 6.3.4, with the USE parameter of RFC
 * 6154 3), DELETE (6.3.5), RENAME (6.3.6), SUBSCRIBE and UNSUBSCRIBE
 * (6.3.7, 6.3.8), STATUS (6.3.11, with SIZE of RFC 8438, HIGHESTMODSEQ of
 * RFC 7162, APPENDLIMIT of RFC 7889 and IMAP4rev1's RECENT), NAMESPACE (RFC
 * 2342: one personal namespace, "" with "/"), GETQUOTA and GETQUOTAROOT
 * (RFC 9208: one quota root "", STORAGE in units of 1024 octets; SETQUOTA
 * is refused). LIST and LSUB are in list.c.
 *
 * Names are decoded on the loop thread (imapd_arg_mailbox: mUTF-7, or UTF-8
 * once IMAP4rev2 or UTF8=ACCEPT is on); lib/store checks them (empty
 * components, wildcards, control characters: NO [CANNOT]) and applies the
 * hierarchy rules (superiors created, inferiors renamed, a deleted mailbox
 * with inferiors kept as \Noselect). */
#include "mailboxes.h"

#include "log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The parsed arguments of one command. */
typedef struct mbx_args {
    char name[STORE_NAME_MAX + 1];
    char to[STORE_NAME_MAX + 1]; /* RENAME */
    unsigned use;                /* CREATE: STORE_USE_* */
    imapd_status_items items;    /* STATUS */
} mbx_args;

static mbx_args *mbx_args_new(imapd_session *s)
{
    mbx_args *a = calloc(1, sizeof *a);
    if (a == NULL)
        imapd_no(s, "SERVERBUG", "out of memory");
    return a;
}

/* The one-mailbox form "CMD mailbox": the arguments, or NULL with the result
 * set. */
static mbx_args *mbx_one_name(imapd_session *s, const imap_command *cmd)
{
    if (cmd->nargs != 1) {
        imapd_bad(s, NULL, "%s takes a mailbox name", cmd->name);
        return NULL;
    }
    mbx_args *a = mbx_args_new(s);
    if (a != NULL && !imapd_arg_mailbox(s, &cmd->args[0], a->name)) {
        free(a);
        return NULL;
    }
    return a;
}

/* ---- STATUS items (shared with LIST RETURN (STATUS ...)) ----------------------- */

static const struct {
    const char *name;
    imapd_status_item item;
} status_names[] = {
    {"MESSAGES", IMAPD_ST_MESSAGES},
    {"UIDNEXT", IMAPD_ST_UIDNEXT},
    {"UIDVALIDITY", IMAPD_ST_UIDVALIDITY},
    {"UNSEEN", IMAPD_ST_UNSEEN},
    {"DELETED", IMAPD_ST_DELETED},
    {"SIZE", IMAPD_ST_SIZE},
    {"HIGHESTMODSEQ", IMAPD_ST_HIGHESTMODSEQ},
    {"RECENT", IMAPD_ST_RECENT},
    {"APPENDLIMIT", IMAPD_ST_APPENDLIMIT},
};
#define STATUS_NAMES (sizeof status_names / sizeof status_names[0])

bool imapd_status_parse(imapd_session *s, const imap_arg *list, imapd_status_items *items_r)
{
    items_r->n = 0;
    if (list->type != IMAP_ARG_LIST || list->n == 0 || list->n > IMAPD_STATUS_ITEMS_MAX) {
        imapd_bad(s, NULL, "STATUS items are a list of 1 to %d names", IMAPD_STATUS_ITEMS_MAX);
        return false;
    }
    for (size_t i = 0; i < list->n; i++) {
        size_t k = 0;
        while (k < STATUS_NAMES && !imap_arg_atom_eq(&list->list[i], status_names[k].name))
            k++;
        if (k == STATUS_NAMES || list->list[i].type != IMAP_ARG_ATOM) {
            imapd_bad(s, NULL, "unknown STATUS item");
            return false;
        }
        items_r->item[items_r->n++] = (unsigned char)status_names[k].item;
        if (status_names[k].item == IMAPD_ST_HIGHESTMODSEQ)
            s->condstore = true; /* RFC 7162 3.1: a CONDSTORE enabling command */
    }
    return true;
}

/* IMAP4rev1 \Recent (RFC 3501 2.3.2): this session's view counts the
 * messages from view->recent_from on as recent (they arrived while it had
 * the mailbox selected); no other session sees them as recent, and no
 * mailbox but the selected one has recent messages for this session. */
static uint32_t status_recent(imapd_session *s, const store_mailbox *mb)
{
    const imapd_view *v = s->view;
    if (s->rev2 || v == NULL || v->id != mb->id)
        return 0;
    store_range r = {v->recent_from, UINT32_MAX};
    store_search key = {.kind = STORE_SK_UID, .uids = {&r, 1}};
    store_uids uids = {0};
    uint32_t n = 0;
    if (store_search_uids(imapd_db(s), mb->id, &key, &uids) == STORE_OK)
        n = (uint32_t)uids.n;
    store_uids_free(&uids);
    return n;
}

static bool status_needs_counts(const imapd_status_items *items)
{
    for (size_t i = 0; i < items->n; i++) {
        switch (items->item[i]) {
        case IMAPD_ST_MESSAGES:
        case IMAPD_ST_UNSEEN:
        case IMAPD_ST_DELETED:
        case IMAPD_ST_SIZE:
            return true;
        default:
            break;
        }
    }
    return false;
}

/* The value of one item; st holds the counts when one of them was asked. */
static unsigned long long status_value(imapd_session *s, const store_mailbox *mb,
                                       const store_status *st, imapd_status_item item)
{
    switch (item) {
    case IMAPD_ST_MESSAGES:
        return st->messages;
    case IMAPD_ST_UIDNEXT:
        return mb->uidnext;
    case IMAPD_ST_UIDVALIDITY:
        return mb->uidvalidity;
    case IMAPD_ST_UNSEEN:
        return st->unseen;
    case IMAPD_ST_DELETED:
        return st->deleted;
    case IMAPD_ST_SIZE:
        return st->size;
    case IMAPD_ST_HIGHESTMODSEQ:
        return mb->highestmodseq;
    case IMAPD_ST_RECENT:
        return status_recent(s, mb);
    case IMAPD_ST_APPENDLIMIT:
        return s->srv->cfg.message_max;
    }
    return 0;
}

int imapd_status_write(imapd_session *s, const store_mailbox *mb, const imapd_status_items *items)
{
    store_status st = {0};
    if (status_needs_counts(items)) {
        int rc = store_mailbox_status(imapd_db(s), mb->id, &st);
        if (rc != STORE_OK)
            return rc;
    }
    imapd_printf(s, "* STATUS ");
    imapd_write_mailbox(s, mb->name);
    imapd_printf(s, " (");
    for (size_t i = 0; i < items->n; i++) {
        const char *name = "";
        for (size_t k = 0; k < STATUS_NAMES; k++)
            if (status_names[k].item == items->item[i])
                name = status_names[k].name;
        imapd_printf(s, "%s%s %llu", i == 0 ? "" : " ", name,
                     status_value(s, mb, &st, (imapd_status_item)items->item[i]));
    }
    imapd_printf(s, ")\r\n");
    return STORE_OK;
}

/* ---- STATUS ----------------------------------------------------------------------- */

/* RFC 9051 6.3.11: also of the selected mailbox (the values are the store's
 * now; the sync after the command tells the view what changed). */
static imapd_step work_status(imapd_session *s)
{
    mbx_args *a = s->cmd_state;
    store_mailbox mb;
    int rc = store_mailbox_get(imapd_db(s), a->name, &mb);
    if (rc == STORE_OK && (mb.attrs & STORE_MBX_NOSELECT) != 0)
        rc = STORE_ERR_NOSELECT;
    if (rc == STORE_OK)
        rc = imapd_status_write(s, &mb, &a->items);
    if (rc != STORE_OK)
        imapd_result_store(s, rc, "STATUS");
    else
        imapd_ok(s, NULL, "STATUS completed");
    return IMAPD_DONE;
}

void imapd_cmd_status(imapd_session *s, const imap_command *cmd)
{
    if (cmd->nargs != 2) {
        imapd_bad(s, NULL, "STATUS takes a mailbox and a list of items");
        return;
    }
    mbx_args *a = mbx_args_new(s);
    if (a == NULL)
        return;
    if (!imapd_arg_mailbox(s, &cmd->args[0], a->name) ||
        !imapd_status_parse(s, &cmd->args[1], &a->items)) {
        free(a);
        return;
    }
    imapd_run(s, work_status, IMAPD_SYNC_FULL | IMAPD_DRAIN, a, free);
}

/* ---- CREATE ------------------------------------------------------------------------ */

/* The special uses lib/store keeps (RFC 6154 2); \All and \Flagged are
 * virtual mailboxes this server does not have. */
static const struct {
    const char *attr;
    unsigned use;
} create_uses[] = {
    {"\\Sent", STORE_USE_SENT}, {"\\Drafts", STORE_USE_DRAFTS},   {"\\Trash", STORE_USE_TRASH},
    {"\\Junk", STORE_USE_JUNK}, {"\\Archive", STORE_USE_ARCHIVE},
};

/* USE (\Sent ...) (RFC 6154 3): an unknown create-param is BAD (RFC 4466
 * 2.2), a special use this server cannot give is NO [USEATTR]. */
static bool create_use(imapd_session *s, const imap_arg *l, unsigned *use_r)
{
    for (size_t j = 0; j < l->n; j++) {
        const imap_arg *x = &l->list[j];
        if (x->type != IMAP_ARG_ATOM || x->str[0] != '\\') {
            imapd_bad(s, NULL, "USE takes a list of mailbox attributes");
            return false;
        }
        size_t k = 0;
        while (k < sizeof create_uses / sizeof create_uses[0] &&
               !imap_arg_atom_eq(x, create_uses[k].attr))
            k++;
        if (k == sizeof create_uses / sizeof create_uses[0]) {
            imapd_no(s, "USEATTR", "%.64s is not a special use of this server", x->str);
            return false;
        }
        *use_r |= create_uses[k].use;
    }
    return true;
}

static bool create_params(imapd_session *s, const imap_arg *p, unsigned *use_r)
{
    for (size_t i = 0; i < p->n; i += 2) {
        if (!imap_arg_atom_eq(&p->list[i], "USE") || p->list[i].type != IMAP_ARG_ATOM ||
            i + 1 >= p->n || p->list[i + 1].type != IMAP_ARG_LIST) {
            imapd_bad(s, NULL, "unknown CREATE parameter");
            return false;
        }
        if (!create_use(s, &p->list[i + 1], use_r))
            return false;
    }
    return true;
}

static imapd_step work_create(imapd_session *s)
{
    mbx_args *a = s->cmd_state;
    int rc = store_mailbox_create(imapd_db(s), a->name, a->use);
    if (rc != STORE_OK) {
        imapd_result_store(s, rc, "CREATE");
        return IMAPD_DONE;
    }
    imapd_changed(s);
    imapd_ok(s, NULL, "CREATE completed");
    return IMAPD_DONE;
}

void imapd_cmd_create(imapd_session *s, const imap_command *cmd)
{
    if (cmd->nargs < 1 || cmd->nargs > 2 ||
        (cmd->nargs == 2 && cmd->args[1].type != IMAP_ARG_LIST)) {
        imapd_bad(s, NULL, "CREATE takes a mailbox name and optional parameters");
        return;
    }
    mbx_args *a = mbx_args_new(s);
    if (a == NULL)
        return;
    if (!imapd_arg_mailbox(s, &cmd->args[0], a->name) ||
        (cmd->nargs == 2 && !create_params(s, &cmd->args[1], &a->use))) {
        free(a);
        return;
    }
    /* RFC 9051 6.3.4: a trailing delimiter declares that names will be
     * created under it; the name itself is created without it. */
    size_t len = strlen(a->name);
    if (len > 1 && a->name[len - 1] == IMAP_DELIMITER)
        a->name[len - 1] = '\0';
    imapd_run(s, work_create, IMAPD_SYNC_FULL, a, free);
}

/* ---- DELETE ------------------------------------------------------------------------ */

/* The selected mailbox may be deleted: the session leaves it first (the
 * untagged OK [CLOSED] says so, RFC 9051 7.1) and is back in the
 * authenticated state; other sessions that have it selected get BYE at
 * their next command (imapd_sync). */
static imapd_step work_delete(imapd_session *s)
{
    mbx_args *a = s->cmd_state;
    store_mailbox mb;
    int rc = store_mailbox_get(imapd_db(s), a->name, &mb);
    if (rc == STORE_OK)
        rc = store_mailbox_delete(imapd_db(s), a->name);
    if (rc != STORE_OK) {
        imapd_result_store(s, rc, "DELETE");
        return IMAPD_DONE;
    }
    imapd_changed(s);
    if (s->view != NULL && s->view->id == mb.id) {
        imapd_view_free(&s->view);
        s->state = IMAPD_AUTHENTICATED;
        imapd_printf(s, "* OK [CLOSED] the selected mailbox was deleted\r\n");
    }
    imapd_ok(s, NULL, "DELETE completed");
    return IMAPD_DONE;
}

void imapd_cmd_delete(imapd_session *s, const imap_command *cmd)
{
    mbx_args *a = mbx_one_name(s, cmd);
    if (a != NULL)
        imapd_run(s, work_delete, IMAPD_SYNC_FULL, a, free);
}

/* ---- RENAME ------------------------------------------------------------------------ */

/* The selected mailbox keeps its id through a rename (of itself, of a
 * superior, or INBOX's move), so the view stays; only its name follows. */
static imapd_step work_rename(imapd_session *s)
{
    mbx_args *a = s->cmd_state;
    int rc = store_mailbox_rename(imapd_db(s), a->name, a->to);
    if (rc != STORE_OK) {
        imapd_result_store(s, rc, "RENAME");
        return IMAPD_DONE;
    }
    imapd_changed(s);
    store_mailbox mb;
    if (s->view != NULL && store_mailbox_get_by_id(imapd_db(s), s->view->id, &mb) == STORE_OK)
        snprintf(s->view->name, sizeof s->view->name, "%s", mb.name);
    imapd_ok(s, NULL, "RENAME completed");
    return IMAPD_DONE;
}

void imapd_cmd_rename(imapd_session *s, const imap_command *cmd)
{
    if (cmd->nargs != 2) {
        imapd_bad(s, NULL, "RENAME takes two mailbox names");
        return;
    }
    mbx_args *a = mbx_args_new(s);
    if (a == NULL)
        return;
    if (!imapd_arg_mailbox(s, &cmd->args[0], a->name) ||
        !imapd_arg_mailbox(s, &cmd->args[1], a->to)) {
        free(a);
        return;
    }
    imapd_run(s, work_rename, IMAPD_SYNC_FULL, a, free);
}

/* ---- SUBSCRIBE / UNSUBSCRIBE ------------------------------------------------------- */

/* Subscriptions are names (RFC 9051 6.3.7): a name without a mailbox may be
 * subscribed, and LIST (SUBSCRIBED) shows it \NonExistent. Unsubscribing a
 * name that is not subscribed is not an error. */
static imapd_step work_subscribe(imapd_session *s)
{
    mbx_args *a = s->cmd_state;
    bool sub = strcmp(s->cmd->name, "SUBSCRIBE") == 0;
    int rc = sub ? store_subscribe(imapd_db(s), a->name) : store_unsubscribe(imapd_db(s), a->name);
    if (rc != STORE_OK) {
        imapd_result_store(s, rc, s->cmd->name);
        return IMAPD_DONE;
    }
    imapd_changed(s);
    imapd_ok(s, NULL, "%s completed", s->cmd->name);
    return IMAPD_DONE;
}

void imapd_cmd_subscribe(imapd_session *s, const imap_command *cmd)
{
    mbx_args *a = mbx_one_name(s, cmd);
    if (a != NULL)
        imapd_run(s, work_subscribe, IMAPD_SYNC_FULL, a, free);
}

void imapd_cmd_unsubscribe(imapd_session *s, const imap_command *cmd)
{
    imapd_cmd_subscribe(s, cmd);
}

/* ---- NAMESPACE --------------------------------------------------------------------- */

/* RFC 2342 5: the personal namespace only; no other users', no shared. */
void imapd_cmd_namespace(imapd_session *s, const imap_command *cmd)
{
    if (cmd->nargs != 0) {
        imapd_bad(s, NULL, "NAMESPACE takes no arguments");
        return;
    }
    imapd_printf(s, "* NAMESPACE ((\"\" \"%c\")) NIL NIL\r\n", IMAP_DELIMITER);
    imapd_ok(s, NULL, "NAMESPACE completed");
}

/* ---- GETQUOTA / GETQUOTAROOT ------------------------------------------------------- */

/* The store's quota as STORAGE (RFC 9208 5.1: units of 1024 octets; usage
 * rounded up, so a store that is full never looks below its limit). false
 * with the result set when the store has no limit: the root "" then does
 * not exist (RFC 9208 4.3: a quota root has at least one resource). */
static bool quota_get(imapd_session *s, const char *verb, uint64_t *used_r, uint64_t *limit_r)
{
    int rc = store_quota_get(imapd_db(s), used_r, limit_r);
    if (rc != STORE_OK) {
        imapd_result_store(s, rc, verb);
        return false;
    }
    return true;
}

static void quota_write(imapd_session *s, uint64_t used, uint64_t limit)
{
    imapd_printf(s, "* QUOTA \"\" (STORAGE %llu %llu)\r\n",
                 (unsigned long long)((used + 1023) / 1024), (unsigned long long)(limit / 1024));
}

static imapd_step work_getquota(imapd_session *s)
{
    uint64_t used, limit;
    if (!quota_get(s, "GETQUOTA", &used, &limit))
        return IMAPD_DONE;
    if (limit == 0) {
        imapd_no(s, "NONEXISTENT", "no such quota root: the mailboxes have no quota");
        return IMAPD_DONE;
    }
    quota_write(s, used, limit);
    imapd_ok(s, NULL, "GETQUOTA completed");
    return IMAPD_DONE;
}

/* GETQUOTA "" and SETQUOTA (refused: quotas are set through the API). */
void imapd_cmd_getquota(imapd_session *s, const imap_command *cmd)
{
    const char *root;
    size_t len;
    if (strcmp(cmd->name, "SETQUOTA") == 0) {
        imapd_no(s, "NOPERM", "quotas are set by the administrator");
        return;
    }
    if (cmd->nargs != 1 || !imap_arg_astring(&cmd->args[0], &root, &len)) {
        imapd_bad(s, NULL, "GETQUOTA takes a quota root");
        return;
    }
    if (len != 0) {
        imapd_no(s, "NONEXISTENT", "no such quota root");
        return;
    }
    imapd_run(s, work_getquota, IMAPD_SYNC_FULL, NULL, NULL);
}

/* Every mailbox is under the one root "" (when the store has a limit). */
static imapd_step work_getquotaroot(imapd_session *s)
{
    mbx_args *a = s->cmd_state;
    store_mailbox mb;
    uint64_t used, limit;
    int rc = store_mailbox_get(imapd_db(s), a->name, &mb);
    if (rc != STORE_OK) {
        imapd_result_store(s, rc, "GETQUOTAROOT");
        return IMAPD_DONE;
    }
    if (!quota_get(s, "GETQUOTAROOT", &used, &limit))
        return IMAPD_DONE;
    imapd_printf(s, "* QUOTAROOT ");
    imapd_write_mailbox(s, mb.name);
    imapd_printf(s, "%s\r\n", limit != 0 ? " \"\"" : "");
    if (limit != 0)
        quota_write(s, used, limit);
    imapd_ok(s, NULL, "GETQUOTAROOT completed");
    return IMAPD_DONE;
}

void imapd_cmd_getquotaroot(imapd_session *s, const imap_command *cmd)
{
    mbx_args *a = mbx_one_name(s, cmd);
    if (a != NULL)
        imapd_run(s, work_getquotaroot, IMAPD_SYNC_FULL, a, free);
}
