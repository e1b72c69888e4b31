/* The DSN (RFC 3464, RFC 3461 6, RFC 6533 for SMTPUTF8): failed, delivered
 * and relayed recipients (queue_dsn.h), a pure function of its input. Lines
 * end in CRLF. */
#include "queue_dsn.h"
#include "queue_int.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#define QUEUE_DSN_XTEXT_MAX (3 * QUEUE_ORCPT_MAX + 1)

/* What one recipient's block says (RFC 3464 2.3.3). */
typedef enum { DSN_NONE, DSN_FAILED, DSN_DELIVERED, DSN_RELAYED } dsn_action;

static const char *const dsn_action_names[] = {"", "failed", "delivered", "relayed"};

/* Which actions a DSN reports (a bit per dsn_action). */
#define DSN_HAS(a) (1u << (a))

bool queue_dsn_wanted(unsigned notify)
{
    /* RFC 3461 4.1: without NOTIFY, FAILURE (and possibly DELAY) is assumed. */
    return notify == 0 || (notify & SMTP_NOTIFY_FAILURE) != 0;
}

bool queue_dsn_success_wanted(unsigned notify)
{
    /* RFC 3461 4.1: SUCCESS only when asked for (NEVER stands alone). */
    return (notify & SMTP_NOTIFY_SUCCESS) != 0 && (notify & SMTP_NOTIFY_NEVER) == 0;
}

void queue_dsn_date(int64_t t, char out[QUEUE_DATE_MAX + 1])
{
    static const char *days[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
    static const char *months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                   "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    time_t tt = (time_t)t;
    struct tm tm;
    if (gmtime_r(&tt, &tm) == NULL) {
        snprintf(out, QUEUE_DATE_MAX + 1, "Thu, 01 Jan 1970 00:00:00 +0000");
        return;
    }
    /* RFC 5322 3.3, English names whatever the locale. */
    snprintf(out, QUEUE_DATE_MAX + 1, "%s, %02d %s %04d %02d:%02d:%02d +0000", days[tm.tm_wday % 7],
             tm.tm_mday, months[tm.tm_mon % 12], (tm.tm_year + 1900) % 10000, tm.tm_hour, tm.tm_min,
             tm.tm_sec);
}

/* RFC 2046 5.1.1 bchars, 1..70, not ending in a space. */
static bool dsn_boundary_ok(const char *b)
{
    size_t n = b != NULL ? strlen(b) : 0;
    if (n == 0 || n > QUEUE_DSN_BOUNDARY_MAX || b[n - 1] == ' ')
        return false;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)b[i];
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              strchr("'()+_,-./:=? ", c) != NULL))
            return false;
    }
    return true;
}

/* Whether and how recipient i is reported: picked (queue_dsn_input.report)
 * and its NOTIFY asking for that kind of DSN. */
static dsn_action dsn_action_of(const queue_dsn_input *in, size_t i)
{
    const queue_rcpt_state *rs = &in->state->rcpts[i];
    unsigned notify = in->entry->env.rcpts[i].notify;
    if (!(in->report != NULL ? in->report[i] : queue_rcpt_dsn_due(rs)))
        return DSN_NONE;
    if (rs->status == QUEUE_RCPT_DELIVERED) {
        if (!queue_dsn_success_wanted(notify))
            return DSN_NONE;
        return rs->relayed ? DSN_RELAYED : DSN_DELIVERED;
    }
    return queue_dsn_wanted(notify) ? DSN_FAILED : DSN_NONE;
}

static bool dsn_ascii(const char *s)
{
    for (; *s != '\0'; s++)
        if ((unsigned char)*s > 0x7f)
            return false;
    return true;
}

/* The status of a reported recipient: its enhanced code in the class its
 * Action calls for (RFC 3464 2.3.4: 5 for failed, 2 for delivered and
 * relayed), x.0.0 when the code is unknown or of another class. */
static void dsn_status(const queue_rcpt_state *rs, dsn_action a,
                       char out[SMTP_ENHANCED_TEXT_MAX + 1])
{
    unsigned char cls = a == DSN_FAILED ? 5 : 2;
    smtp_enhanced e = rs->enhanced;
    if (e.cls == 0 || (cls == 2 && e.cls != 2))
        e = (smtp_enhanced){cls, 0, 0};
    e.cls = cls;
    if (smtp_enhanced_format(&e, out) < 0)
        snprintf(out, SMTP_ENHANCED_TEXT_MAX + 1, "%u.0.0", cls);
}

static void dsn_xtext(const char *s, char out[QUEUE_DSN_XTEXT_MAX])
{
    size_t n = 0;
    if (smtp_xtext_encode(s, strlen(s), out, QUEUE_DSN_XTEXT_MAX, &n) < 0)
        out[0] = '\0';
}

static void dsn_headers(const queue_dsn_input *in, buf *out, unsigned has, bool utf8, bool eightbit)
{
    char date[QUEUE_DATE_MAX + 1];
    queue_dsn_date(in->now, date);
    buf_printf(out, "From: Mail Delivery System <MAILER-DAEMON@%s>\r\n", in->reporting_mta);
    buf_printf(out, "To: <%s>\r\n", in->entry->env.from);
    buf_printf(out, "Subject: %s\r\n",
               has & DSN_HAS(DSN_FAILED) ? "Undelivered Mail Returned to Sender"
                                         : "Delivery Status Notification (Success)");
    buf_printf(out, "Date: %s\r\n", date);
    buf_printf(out, "Message-ID: <%s.%lld.dsn@%s>\r\n", in->entry->id, (long long)in->now,
               in->reporting_mta);
    buf_printf(out, "Auto-Submitted: auto-replied\r\n"); /* RFC 3834 5 */
    buf_printf(out, "MIME-Version: 1.0\r\n");
    buf_printf(out,
               "Content-Type: multipart/report; report-type=%s;\r\n"
               "\tboundary=\"%s\"\r\n",
               utf8 ? "global-delivery-status" : "delivery-status", in->boundary);
    if (eightbit)
        buf_printf(out, "Content-Transfer-Encoding: 8bit\r\n");
    buf_printf(out, "\r\nThis is a MIME-encapsulated message.\r\n\r\n");
}

/* The recipients reported with action a, one line each. */
static void dsn_human_list(const queue_dsn_input *in, buf *out, dsn_action a)
{
    for (size_t i = 0; i < in->entry->env.nrcpt; i++) {
        if (dsn_action_of(in, i) != a)
            continue;
        const queue_rcpt_state *rs = &in->state->rcpts[i];
        buf_printf(out, "<%s>", in->entry->env.rcpts[i].addr);
        if (rs->remote_mta[0] != '\0')
            buf_printf(out, ": host %s said:", rs->remote_mta);
        if (rs->reply[0] != '\0' || a == DSN_FAILED)
            buf_printf(out, "%s %s", rs->remote_mta[0] != '\0' ? "" : ":",
                       rs->reply[0] != '\0' ? rs->reply : "delivery failed");
        buf_printf(out, "\r\n");
    }
    buf_printf(out, "\r\n");
}

static void dsn_human(const queue_dsn_input *in, buf *out, unsigned has)
{
    buf_printf(out,
               "--%s\r\nContent-Description: Notification\r\n"
               "Content-Type: text/plain; charset=utf-8\r\n\r\n",
               in->boundary);
    buf_printf(out, "This is the mail system at host %s.\r\n\r\n", in->reporting_mta);
    if (has & DSN_HAS(DSN_FAILED)) {
        buf_printf(out, "Your message could not be delivered to one or more recipients.\r\n"
                        "It is attached below. The reasons:\r\n\r\n");
        dsn_human_list(in, out, DSN_FAILED);
    }
    if (has & DSN_HAS(DSN_DELIVERED)) {
        buf_printf(out, "Your message was delivered to the mailbox of:\r\n\r\n");
        dsn_human_list(in, out, DSN_DELIVERED);
    }
    if (has & DSN_HAS(DSN_RELAYED)) {
        /* RFC 3464 2.3.3: no notice of final delivery will follow. */
        buf_printf(out, "Your message was handed on to a mail server that does not send\r\n"
                        "delivery notifications, so no further notice of its delivery\r\n"
                        "will come for:\r\n\r\n");
        dsn_human_list(in, out, DSN_RELAYED);
    }
}

static void dsn_report(const queue_dsn_input *in, buf *out, bool utf8)
{
    const queue_envelope *env = &in->entry->env;
    char date[QUEUE_DATE_MAX + 1], x[QUEUE_DSN_XTEXT_MAX];
    buf_printf(out, "--%s\r\nContent-Description: Delivery report\r\nContent-Type: %s\r\n\r\n",
               in->boundary, utf8 ? "message/global-delivery-status" : "message/delivery-status");
    /* Per-message fields (RFC 3464 2.2). */
    buf_printf(out, "Reporting-MTA: dns; %s\r\n", in->reporting_mta);
    if (env->envid[0] != '\0') {
        dsn_xtext(env->envid, x); /* RFC 3461 6.3: the ENVID as it travelled */
        buf_printf(out, "Original-Envelope-Id: %s\r\n", x);
    }
    queue_dsn_date(env->queued_at, date);
    buf_printf(out, "Arrival-Date: %s\r\n", date);
    /* Per-recipient fields (RFC 3464 2.3), one block each. */
    for (size_t i = 0; i < env->nrcpt; i++) {
        dsn_action a = dsn_action_of(in, i);
        if (a == DSN_NONE)
            continue;
        const queue_rcpt *r = &env->rcpts[i];
        const queue_rcpt_state *rs = &in->state->rcpts[i];
        char status[SMTP_ENHANCED_TEXT_MAX + 1];
        dsn_status(rs, a, status);
        buf_printf(out, "\r\n");
        if (r->orcpt_type[0] != '\0') {
            dsn_xtext(r->orcpt, x);
            buf_printf(out, "Original-Recipient: %s;%s\r\n", r->orcpt_type, x);
        }
        /* RFC 6533 3: a non-ASCII address is of type utf-8. */
        buf_printf(out, "Final-Recipient: %s; %s\r\n", dsn_ascii(r->addr) ? "rfc822" : "utf-8",
                   r->addr);
        buf_printf(out, "Action: %s\r\nStatus: %s\r\n", dsn_action_names[a], status);
        if (rs->remote_mta[0] != '\0')
            buf_printf(out, "Remote-MTA: dns; %s\r\n", rs->remote_mta);
        if (rs->reply[0] != '\0')
            buf_printf(out, "Diagnostic-Code: %s; %s\r\n", rs->code != 0 ? "smtp" : "X-ownmail",
                       rs->reply);
        if (rs->last_attempt != 0) {
            queue_dsn_date(rs->last_attempt, date);
            buf_printf(out, "Last-Attempt-Date: %s\r\n", date);
        }
    }
    buf_printf(out, "\r\n");
}

/* Length of the header block of msg: up to and including the empty line,
 * or all of it when there is none. */
static size_t dsn_header_len(const unsigned char *msg, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        if (msg[i] != '\n')
            continue;
        if (i + 1 < len && msg[i + 1] == '\n')
            return i + 2;
        if (i + 2 < len && msg[i + 1] == '\r' && msg[i + 2] == '\n')
            return i + 3;
    }
    return len;
}

static void dsn_original(const queue_dsn_input *in, buf *out, unsigned has, bool utf8)
{
    const queue_entry *e = in->entry;
    /* RFC 3461 4.3: RET is for DSNs that report a failure; one that
     * reports none returns the headers only. */
    bool failed = (has & DSN_HAS(DSN_FAILED)) != 0;
    bool headers_only = !failed || e->env.ret == SMTP_RET_HDRS || e->msg_len > QUEUE_DSN_RETURN_MAX;
    size_t len = e->msg_len;
    const char *type = utf8 ? "message/global" : "message/rfc822";
    if (headers_only) {
        len = dsn_header_len(e->msg, e->msg_len);
        if (len > QUEUE_DSN_HEADERS_MAX)
            len = QUEUE_DSN_HEADERS_MAX;
        type = utf8 ? "message/global-headers" : "text/rfc822-headers";
    }
    buf_printf(out, "--%s\r\nContent-Description: %s%s\r\nContent-Type: %s\r\n", in->boundary,
               failed ? "Undelivered message" : "Message", headers_only ? " headers" : "", type);
    if (e->eightbit)
        buf_printf(out, "Content-Transfer-Encoding: 8bit\r\n");
    buf_printf(out, "\r\n");
    buf_append(out, e->msg, len);
    if (len > 0 && e->msg[len - 1] != '\n')
        buf_printf(out, "\r\n");
    buf_printf(out, "\r\n--%s--\r\n", in->boundary);
}

int queue_dsn_build(const queue_dsn_input *in, buf *out, const char **error_r)
{
    if (in == NULL || in->entry == NULL || in->state == NULL || in->reporting_mta == NULL ||
        in->state->nrcpt != in->entry->env.nrcpt || !dsn_boundary_ok(in->boundary) ||
        !queue_text_ok(in->reporting_mta, strlen(in->reporting_mta), false)) {
        *error_r = "bad DSN input";
        return -1;
    }
    /* RFC 5321 4.5.5, RFC 3461 6.2: never a DSN to the null reverse-path. */
    if (in->entry->env.from[0] == '\0')
        return 0;
    unsigned has = 0;
    bool utf8 = in->entry->env.smtputf8 || !dsn_ascii(in->entry->env.from);
    for (size_t i = 0; i < in->entry->env.nrcpt; i++) {
        dsn_action a = dsn_action_of(in, i);
        if (a != DSN_NONE) {
            has |= DSN_HAS(a);
            utf8 = utf8 || !dsn_ascii(in->entry->env.rcpts[i].addr);
        }
    }
    if (has == 0)
        return 0;
    bool eightbit = utf8 || in->entry->eightbit;
    dsn_headers(in, out, has, utf8, eightbit);
    dsn_human(in, out, has);
    dsn_report(in, out, utf8);
    dsn_original(in, out, has, utf8);
    if (out->failed) {
        *error_r = "DSN over its size limit";
        return -1;
    }
    return 1;
}
