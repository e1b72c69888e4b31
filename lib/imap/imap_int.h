/* Internal helpers of lib/imap, not part of its API. */
#ifndef OWNMAIL_IMAP_INT_H
#define OWNMAIL_IMAP_INT_H

#include "imap_common.h"

/* Fills *e (when not NULL) and returns -1. */
static inline int imap_fail(imap_error *e, imap_resp resp, const char *code, const char *text)
{
    if (e != NULL) {
        e->resp = resp;
        e->code = code;
        e->text = text;
    }
    return -1;
}

#define IMAP_BAD(e, text) imap_fail((e), IMAP_RESP_BAD, NULL, (text))

static inline char imap_upper(char c)
{
    return c >= 'a' && c <= 'z' ? (char)(c - 'a' + 'A') : c;
}

static inline bool imap_is_digit(char c)
{
    return c >= '0' && c <= '9';
}

#endif
