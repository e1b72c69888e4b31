/* queue_dsn: the delivery status notification of failed recipients (RFC
 * 3464 multipart/report, RFC 3461 6), built by a pure function: no clock,
 * no randomness, no I/O - the caller passes the time and the MIME boundary.
 *
 * Only "failed" DSNs are built; "delayed" DSNs (RFC 3461 NOTIFY=DELAY) are
 * not sent by this queue, which is allowed (RFC 3461 6.2: a DSN for delay
 * is optional).
 */
#ifndef OWNMAIL_QUEUE_DSN_H
#define OWNMAIL_QUEUE_DSN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "queue.h"

/* Largest message returned whole (RET=FULL or no RET); over it only the
 * headers are returned. */
#define QUEUE_DSN_RETURN_MAX ((size_t)10 * 1024 * 1024)
/* Largest header block returned for RET=HDRS. */
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
    /* Which recipients to report: FAILED and not yet reported, when NULL;
     * else report[i] says for recipient i. */
    const bool *report;
} queue_dsn_input;

/* True when recipient i's NOTIFY asks for a failure DSN: NOTIFY absent
 * (RFC 3461 4.1: the default is FAILURE) or containing FAILURE; NEVER or a
 * list without FAILURE does not. */
bool queue_dsn_wanted(unsigned notify);

/* Builds the DSN into out (its cap must allow QUEUE_DSN_MAX; contents
 * appended). Returns
 *   1: a DSN was built, to be delivered to entry->env.from;
 *   0: no DSN is due: a null reverse-path (RFC 3461 6.2, RFC 5321 4.5.5:
 *      never answer a bounce), or no recipient to report whose NOTIFY asks
 *      for one;
 *  -1: bad input or out full, *error_r says which.
 *
 * Layout (RFC 3464 2, RFC 6522): headers (From MAILER-DAEMON, To the
 * sender, Subject, Date, Message-ID, Auto-Submitted: auto-replied per RFC
 * 3834 5), multipart/report; report-type=delivery-status, with
 *   1. text/plain: a human explanation naming each failed recipient and
 *      the remote reply;
 *   2. message/delivery-status: Reporting-MTA, Original-Envelope-Id (ENVID),
 *      Arrival-Date; per recipient Original-Recipient (ORCPT, RFC 3461
 *      6.3), Final-Recipient, Action: failed, Status, Remote-MTA,
 *      Diagnostic-Code: smtp; (the remote reply), Last-Attempt-Date;
 *   3. with RET=HDRS, or a message over QUEUE_DSN_RETURN_MAX:
 *      text/rfc822-headers; else message/rfc822 with the whole message.
 * When the envelope is SMTPUTF8, the RFC 6533 types are used instead
 * (message/global-delivery-status, message/global, message/global-headers)
 * and addresses are utf-8 typed. */
int queue_dsn_build(const queue_dsn_input *in, buf *out, const char **error_r);

/* Formats t as an RFC 5322 3.3 date in UTC ("Thu, 01 Jan 2026 00:00:00
 * +0000"). out holds QUEUE_DATE_MAX + 1 bytes. */
#define QUEUE_DATE_MAX 31
void queue_dsn_date(int64_t t, char out[QUEUE_DATE_MAX + 1]);

#endif
