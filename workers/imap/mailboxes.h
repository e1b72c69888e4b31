/* What mailboxes.c (STATUS) and list.c (LIST RETURN (STATUS ...), RFC
 * 5819) share: the STATUS data items, parsed once and written the same way
 * by both. */
#ifndef OWNMAIL_IMAPD_MAILBOXES_H
#define OWNMAIL_IMAPD_MAILBOXES_H

#include "imapd.h"

/* Items in one STATUS list (there are nine kinds; a few repeated is fine). */
#define IMAPD_STATUS_ITEMS_MAX 16

typedef enum {
    IMAPD_ST_MESSAGES,
    IMAPD_ST_UIDNEXT,
    IMAPD_ST_UIDVALIDITY,
    IMAPD_ST_UNSEEN,
    IMAPD_ST_DELETED,       /* RFC 9051 */
    IMAPD_ST_SIZE,          /* RFC 8438 */
    IMAPD_ST_HIGHESTMODSEQ, /* RFC 7162 3.1.6 */
    IMAPD_ST_RECENT,        /* RFC 3501 (IMAP4rev1) */
    IMAPD_ST_APPENDLIMIT,   /* RFC 7889 */
} imapd_status_item;

typedef struct imapd_status_items {
    unsigned char item[IMAPD_STATUS_ITEMS_MAX]; /* imapd_status_item, in the client's order */
    size_t n;
} imapd_status_items;

/* The parenthesized item list of STATUS (at least one item). HIGHESTMODSEQ
 * enables CONDSTORE (RFC 7162 3.1). false: the result is set (BAD). Loop
 * thread. */
bool imapd_status_parse(imapd_session *s, const imap_arg *list, imapd_status_items *items_r);

/* Writes "* STATUS name (...)" for a selectable mailbox (jobs only).
 * STORE_OK, or the store's error with nothing written. */
int imapd_status_write(imapd_session *s, const store_mailbox *mb, const imapd_status_items *items);

/* SETQUOTA has no handler of its own: the table in commands.c points it at
 * imapd_cmd_getquota, which refuses it (quotas are the administrator's). */

#endif
