/* Mailbox names in commands and responses, the INBOX rule, and LIST
 * pattern matching (see imap_mailbox.h). */
#include <string.h>

#include "imap_int.h"
#include "imap_mailbox.h"

void imap_mailbox_inbox(char *name, size_t len)
{
    if (len >= 5 && imap_word_eq(name, 5, "INBOX") && (len == 5 || name[5] == IMAP_DELIMITER))
        memcpy(name, "INBOX", 5);
}

int imap_mailbox_decode(const char *s, size_t len, bool utf8, char out[IMAP_MAILBOX_MAX + 1],
                        size_t *out_len_r, imap_error *error_r)
{
    out[0] = '\0';
    if (utf8) {
        /* RFC 6855 3: UTF-8 as it is, no mUTF-7 */
        if (!imap_utf8_valid(s, len))
            return IMAP_BAD(error_r, "invalid UTF-8 in mailbox name");
        if (len > IMAP_MAILBOX_MAX)
            return IMAP_BAD(error_r, "mailbox name too long");
        memcpy(out, s, len);
        out[len] = '\0';
        *out_len_r = len;
    } else if (imap_utf7_decode(s, len, out, IMAP_MAILBOX_MAX + 1, out_len_r, error_r) < 0) {
        return -1;
    }
    imap_mailbox_inbox(out, *out_len_r);
    return 0;
}

int imap_mailbox_encode(const char *name, size_t len, bool utf8, char *out, size_t out_size,
                        size_t *out_len_r, imap_error *error_r)
{
    if (!utf8)
        return imap_utf7_encode(name, len, out, out_size, out_len_r, error_r);
    if (out_size > 0)
        out[0] = '\0';
    if (!imap_utf8_valid(name, len))
        return IMAP_BAD(error_r, "invalid UTF-8 in mailbox name");
    if (len >= out_size)
        return IMAP_BAD(error_r, "mailbox name too long");
    memcpy(out, name, len);
    out[len] = '\0';
    *out_len_r = len;
    return 0;
}

/* The states of the pattern automaton: state i means pattern[0..i) has
 * matched; a wildcard at i also lets i+1 be reached without input. */
static void list_close(const char *pattern, size_t plen, unsigned char *st)
{
    for (size_t i = 0; i < plen; i++) {
        if (st[i] && (pattern[i] == '*' || pattern[i] == '%'))
            st[i + 1] = 1;
    }
}

/* One octet c at position pos of the name; returns whether a state lives. */
static bool list_step(const char *pattern, size_t plen, unsigned char *st, char c, bool fold)
{
    bool alive = false;
    st[plen] = 0; /* a complete match cannot take more input */
    for (size_t i = plen; i-- > 0;) {
        if (!st[i])
            continue;
        char pc = pattern[i];
        st[i] = 0;
        if (pc == '*' || (pc == '%' && c != IMAP_DELIMITER)) {
            st[i] = 1; /* the wildcard eats c */
            alive = true;
        } else if (pc != '%' && (pc == c || (fold && imap_upper(pc) == c))) {
            st[i + 1] = 1;
            alive = true;
        }
    }
    /* descending order: a state set here was already visited, so c is
     * taken once; then the wildcards let their successors start */
    list_close(pattern, plen, st);
    return alive;
}

unsigned imap_list_match(const char *pattern, size_t plen, const char *name, size_t nlen)
{
    unsigned char st[IMAP_LIST_PATTERN_MAX + 1];
    unsigned result = 0;

    if (plen > IMAP_LIST_PATTERN_MAX)
        return 0;
    /* INBOX is case-insensitive: its octets match either case */
    size_t fold =
        nlen >= 5 && memcmp(name, "INBOX", 5) == 0 && (nlen == 5 || name[5] == IMAP_DELIMITER) ? 5
                                                                                               : 0;
    memset(st, 0, plen + 1);
    st[0] = 1;
    list_close(pattern, plen, st);
    for (size_t j = 0; j < nlen; j++) {
        if (!list_step(pattern, plen, st, name[j], j < fold))
            return 0;
    }
    if (st[plen])
        result |= IMAP_LIST_MATCH;
    if (list_step(pattern, plen, st, IMAP_DELIMITER, false))
        result |= IMAP_LIST_CHILDREN;
    return result;
}
