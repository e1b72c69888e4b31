/* IDLE (RFC 2177, RFC 9051 6.3.13): the session waits for DONE while the
 * notifier (notify.c) wakes it when its store changed; each wake drains the
 * spool into INBOX and reports what changed (the job runner's sync). During
 * IDLE the connection's idle timeout is imap.idle_max instead of
 * imap.timeout. */
#include "imapd.h"

#include "log.h"

#include <string.h>

void imapd_drain(imapd_session *s)
{
    size_t moved = 0;
    mailbox_result r = mailbox_drain(s->user->mbx, s->srv->spool_dir, &moved);
    if (r != MAILBOX_OK)
        log_warn(s->id, "spool drain: %s", mailbox_strerror(r));
    if (moved > 0)
        imapd_changed(s); /* the user's sessions elsewhere see INBOX grow */
}

/* A wake: drain the spool, then the runner reports the changes. */
static imapd_step work_idle_look(imapd_session *s)
{
    imapd_drain(s);
    return IMAPD_DONE;
}

static void idle_look(imapd_session *s)
{
    imapd_run(s, work_idle_look, IMAPD_SYNC_FULL, NULL, NULL);
}

void imapd_cmd_idle(imapd_session *s, const imap_command *cmd)
{
    if (cmd->nargs != 0) {
        imapd_bad(s, NULL, "IDLE takes no arguments");
        return;
    }
    s->mode = IMAPD_MODE_IDLE;
    net_metric_add(s->srv->m.sessions_idle, 1);
    net_conn_set_timeouts(s->c, s->srv->cfg.idle_max_ms, 0);
    imapd_printf(s, "+ idling\r\n");
    idle_look(s); /* what happened since the last command */
}

void imapd_idle_wake(imapd_session *s)
{
    if (s->mode != IMAPD_MODE_IDLE || net_conn_closing(s->c))
        return; /* a session that is not idling looks at its next command */
    if (s->busy) {
        s->idle_wake = true; /* after the job in flight */
        return;
    }
    idle_look(s);
}

void imapd_idle_again(imapd_session *s)
{
    if (s->mode == IMAPD_MODE_IDLE && s->idle_wake && !s->busy && !net_conn_closing(s->c)) {
        s->idle_wake = false;
        idle_look(s);
    }
}

void imapd_idle_end(imapd_session *s)
{
    s->mode = IMAPD_MODE_COMMAND;
    s->idle_wake = false;
    net_metric_sub(s->srv->m.sessions_idle, 1);
    net_conn_set_timeouts(s->c, s->srv->cfg.idle_timeout_ms, 0);
}

void imapd_idle_line(imapd_session *s, const char *line, size_t len)
{
    imapd_idle_end(s);
    if (!imap_word_eq(line, len, "DONE")) {
        imapd_bad(s, NULL, "expected DONE");
        return;
    }
    imapd_ok(s, NULL, "IDLE terminated");
}
