/* queue_dsn: delivery status notifications (RFC 3464 multipart/report,
 * RFC 3461 6), built by a pure function: no clock, no randomness, no I/O -
 * the caller passes the time and the MIME boundary.
 *
 * Per recipient, the Action (RFC 3464 2.3.3) follows its outcome in the
 * state:
 *   FAILED                  "failed"    (NOTIFY absent or with FAILURE)
 *   DELIVERED, relayed      "relayed"   (NOTIFY with SUCCESS): the queue
 *                           handed it to a server that did not offer DSN,
 *                           so nobody further will report (RFC 3461 5.2.2)
 *   DELIVERED, not relayed  "delivered" (NOTIFY with SUCCESS): final
 *                           delivery into a mailbox here (RFC 3461 5.2.3),
 *                           the SMTP worker's DSN
 * "delayed" DSNs (NOTIFY=DELAY) are not sent, which is allowed (RFC 3461
 * 6.2: a DSN for delay is optional), nor "expanded" ones.
 */
#ifndef OWNMAIL_QUEUE_DSN_H
#define OWNMAIL_QUEUE_DSN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "queue.h"

/* Largest message returned whole by a failure DSN (RET=FULL or no RET);
 * over it only the headers are returned. */
#define QUEUE_DSN_RETURN_MAX ((size_t)10 * 1024 * 1024)
/* Largest header block returned (RET=HDRS, and every success DSN). */
#define QUEUE_DSN_HEADERS_MAX ((size_t)256 * 1024)
/* Largest DSN built: the returned message plus the reports. */
#define QUEUE_DSN_MAX (QUEUE_DSN_RETURN_MAX + (size_t)4 * 1024 * 1024)
#define QUEUE_DSN_BOUNDARY_MAX 70 /* RFC 2046 5.1.1 */

typedef struct queue_dsn_input {
    const char *reporting_mta; /* our host name (Reporting-MTA: dns; ...) */
    const char *boundary;      /* 1..70 characters of RFC 2046 bchars, not in the message */
    int64_t now;               /* Date: and Last-Attempt-Date default */
    const queue_entry *entry;  /* envelope and message */
    const queue_state *state;  /* recipients' outcomes */
    /* Which recipients to report, NOTIFY permitting: those that owe a DSN
     * (queue_rcpt_dsn_due) when NULL; else report[i] says for recipient
     * i (a DELIVERED one as a success, any other as a failure). */
    const bool *report;
} queue_dsn_input;

/* True when recipient i's NOTIFY asks for a failure DSN: NOTIFY absent
 * (RFC 3461 4.1: the default is FAILURE) or containing FAILURE; NEVER or a
 * list without FAILURE does not. */
bool queue_dsn_wanted(unsigned notify);

/* True when NOTIFY asks for a success DSN ("delivered" or "relayed"): only
 * when given and containing SUCCESS (RFC 3461 4.1: never by default). */
bool queue_dsn_success_wanted(unsigned notify);

/* Builds the DSN into out (its cap must allow QUEUE_DSN_MAX; contents
 * appended). Returns
 *   1: a DSN was built, to be delivered to entry->env.from;
 *   0: no DSN is due: a null reverse-path (RFC 3461 6.2, RFC 5321 4.5.5:
 *      never answer a bounce), or no recipient to report whose NOTIFY asks
 *      for one;
 *  -1: bad input or out full, *error_r says which.
 *
 * Layout (RFC 3464 2, RFC 6522): headers (From MAILER-DAEMON, To the
 * sender, Subject "Undelivered Mail Returned to Sender" when a recipient
 * failed, else "Delivery Status Notification (Success)", Date, Message-ID,
 * Auto-Submitted: auto-replied per RFC 3834 5), multipart/report;
 * report-type=delivery-status, with
 *   1. text/plain: a human explanation naming each reported recipient,
 *      what happened and the remote reply;
 *   2. message/delivery-status: Reporting-MTA, Original-Envelope-Id (ENVID),
 *      Arrival-Date; per recipient Original-Recipient (ORCPT, RFC 3461
 *      6.3), Final-Recipient, Action, Status (class 5 for failed, 2 for
 *      delivered and relayed: RFC 3464 2.3.4), Remote-MTA,
 *      Diagnostic-Code: smtp; (the remote reply), Last-Attempt-Date;
 *   3. the original: when a recipient failed, by RET: with RET=HDRS, or a
 *      message over QUEUE_DSN_RETURN_MAX, text/rfc822-headers, else
 *      message/rfc822 with the whole message. A DSN without a failure
 *      returns the headers only, whatever RET says: RFC 3461 4.3, RET only
 *      applies to DSNs that report a failure for at least one recipient,
 *      and one that reports none should return only the headers.
 * When the envelope is SMTPUTF8, the RFC 6533 types are used instead
 * (message/global-delivery-status, message/global, message/global-headers)
 * and addresses are utf-8 typed. */
int queue_dsn_build(const queue_dsn_input *in, buf *out, const char **error_r);

/* Formats t as an RFC 5322 3.3 date in UTC ("Thu, 01 Jan 2026 00:00:00
 * +0000"). out holds QUEUE_DATE_MAX + 1 bytes. */
#define QUEUE_DATE_MAX 31
void queue_dsn_date(int64_t t, char out[QUEUE_DATE_MAX + 1]);

#endif
