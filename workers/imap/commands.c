/* The command table (which command in which state, UID or not) and the
 * capabilities: a capability is listed here only once its commands work. */
#include "imapd.h"

#include <string.h>

/* The capabilities; what is said before login depends on TLS. */
void imapd_capability(imapd_session *s)
{
    buf *b = &s->out;
    buf_append_str(b, "IMAP4rev1 IMAP4rev2");
    if (s->state == IMAPD_NOT_AUTHENTICATED) {
        if (!s->tls && s->port->tls_available)
            buf_append_str(b, " STARTTLS");
        buf_append_str(b, imapd_credentials_allowed(s) ? " AUTH=PLAIN SASL-IR" : " LOGINDISABLED");
    }
    buf_append_str(b, " LITERAL+ ENABLE ID UNSELECT IDLE COMPRESS=DEFLATE CONDSTORE QRESYNC BINARY"
                      " UTF8=ACCEPT");
    buf_append_str(b, " NAMESPACE CHILDREN LIST-EXTENDED LIST-STATUS SPECIAL-USE CREATE-SPECIAL-USE"
                      " STATUS=SIZE QUOTA QUOTA=RES-STORAGE");
    buf_printf(b, " UIDPLUS MOVE MULTIAPPEND APPENDLIMIT=%llu",
               (unsigned long long)s->srv->cfg.message_max);
    buf_append_str(b, " ESEARCH SEARCHRES SORT SORT=DISPLAY THREAD=ORDEREDSUBJECT"
                      " THREAD=REFERENCES");
}

/* ---- the command table -------------------------------------------------------- */

#define UIDOK 1u /* may follow UID */

typedef struct imapd_cmd_entry {
    const char *name;
    unsigned states; /* IMAPD_IN_* */
    unsigned flags;
    imapd_cmd_fn *fn;
} imapd_cmd_entry;

static const imapd_cmd_entry session_cmds[] = {
    {"CAPABILITY", IMAPD_IN_ANY, 0, imapd_cmd_capability},
    {"NOOP", IMAPD_IN_ANY, 0, imapd_cmd_noop},
    {"CHECK", IMAPD_IN_SELECTED, 0, imapd_cmd_noop}, /* IMAP4rev1 */
    {"LOGOUT", IMAPD_IN_ANY, 0, imapd_cmd_logout},
    {"STARTTLS", IMAPD_IN_NOTAUTH, 0, imapd_cmd_starttls},
    {"ID", IMAPD_IN_ANY, 0, imapd_cmd_id},
    {"LOGIN", IMAPD_IN_NOTAUTH, 0, imapd_cmd_login},
    {"AUTHENTICATE", IMAPD_IN_NOTAUTH, 0, imapd_cmd_authenticate},
    {"ENABLE", IMAPD_IN_AUTH, 0, imapd_cmd_enable},
    {"SELECT", IMAPD_IN_LOGGED, 0, imapd_cmd_select},
    {"EXAMINE", IMAPD_IN_LOGGED, 0, imapd_cmd_select},
    {"UNSELECT", IMAPD_IN_SELECTED, 0, imapd_cmd_unselect},
    {"CLOSE", IMAPD_IN_SELECTED, 0, imapd_cmd_close},
    {"IDLE", IMAPD_IN_LOGGED, 0, imapd_cmd_idle},
    {"COMPRESS", IMAPD_IN_LOGGED, 0, imapd_cmd_compress},
    {"FETCH", IMAPD_IN_SELECTED, UIDOK, imapd_cmd_fetch},
    {"SEARCH", IMAPD_IN_SELECTED, UIDOK, imapd_cmd_search},
    {"SORT", IMAPD_IN_SELECTED, UIDOK, imapd_cmd_sort},
    {"THREAD", IMAPD_IN_SELECTED, UIDOK, imapd_cmd_thread},
    {"STORE", IMAPD_IN_SELECTED, UIDOK, imapd_cmd_store},
    {"COPY", IMAPD_IN_SELECTED, UIDOK, imapd_cmd_copy},
    {"MOVE", IMAPD_IN_SELECTED, UIDOK, imapd_cmd_move},
    {"EXPUNGE", IMAPD_IN_SELECTED, UIDOK, imapd_cmd_expunge},
    {"APPEND", IMAPD_IN_LOGGED, 0, imapd_cmd_append},
    {"CREATE", IMAPD_IN_LOGGED, 0, imapd_cmd_create},
    {"DELETE", IMAPD_IN_LOGGED, 0, imapd_cmd_delete},
    {"RENAME", IMAPD_IN_LOGGED, 0, imapd_cmd_rename},
    {"SUBSCRIBE", IMAPD_IN_LOGGED, 0, imapd_cmd_subscribe},
    {"UNSUBSCRIBE", IMAPD_IN_LOGGED, 0, imapd_cmd_unsubscribe},
    {"LIST", IMAPD_IN_LOGGED, 0, imapd_cmd_list},
    {"LSUB", IMAPD_IN_LOGGED, 0, imapd_cmd_lsub}, /* IMAP4rev1 */
    {"STATUS", IMAPD_IN_LOGGED, 0, imapd_cmd_status},
    {"NAMESPACE", IMAPD_IN_LOGGED, 0, imapd_cmd_namespace},
    {"GETQUOTA", IMAPD_IN_LOGGED, 0, imapd_cmd_getquota},
    {"GETQUOTAROOT", IMAPD_IN_LOGGED, 0, imapd_cmd_getquotaroot},
    {"SETQUOTA", IMAPD_IN_LOGGED, 0, imapd_cmd_getquota}, /* refused */
};

void imapd_dispatch(imapd_session *s, const imap_command *cmd)
{
    snprintf(s->tag, sizeof s->tag, "%s", cmd->tag);
    /* The command struct is the caller's; its strings and arguments live in
     * the reader, which is not called again before the command ends (input
     * is paused while a job runs): keep a copy of the struct. */
    s->cmd_copy = *cmd;
    s->cmd = &s->cmd_copy;
    cmd = s->cmd;
    net_metric_add(s->srv->m.commands, 1);
    for (size_t i = 0; i < sizeof session_cmds / sizeof session_cmds[0]; i++) {
        const imapd_cmd_entry *t = &session_cmds[i];
        if (strcmp(t->name, cmd->name) != 0)
            continue;
        if (cmd->uid && (t->flags & UIDOK) == 0)
            break;
        if ((t->states & (1u << s->state)) == 0) {
            imapd_bad(s, "CLIENTBUG", "%s is not allowed %s", cmd->name,
                      s->state == IMAPD_NOT_AUTHENTICATED ? "before login"
                      : s->state == IMAPD_AUTHENTICATED   ? "without a selected mailbox"
                                                          : "now");
            return;
        }
        t->fn(s, cmd);
        return;
    }
    imapd_bad(s, NULL, "unknown command %s%s", cmd->uid ? "UID " : "", cmd->name);
}

