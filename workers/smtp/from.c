/* Submission: the From header must name only addresses the user owns (its
 * own, or an alias that targets it), like the envelope sender. RFC 5322
 * 3.6: exactly one From field; every mailbox of it is checked. */
#include "session.h"

#include "mime.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define FROM_FIELD_MAX 8192 /* bytes of the unfolded From value looked at */

typedef struct from_ctx {
    smtpd_session *s;
    const directory *d;
    unsigned mailboxes, owned;
} from_ctx;

static int from_each(void *arg, const char *mailbox, const char *host)
{
    from_ctx *c = arg;
    char addr[SMTPD_ADDRESS_MAX + 1], domain[NAMES_DOMAIN_MAX + 1];
    const char *err = NULL;
    c->mailboxes++;
    if (mailbox == NULL || host == NULL ||
        names_domain_normalize(host, strlen(host), domain, &err) < 0 ||
        (size_t)snprintf(addr, sizeof addr, "%s@%s", mailbox, domain) >= sizeof addr)
        return 0;
    if (smtpd_rcpt_owns(c->d, c->s->user, addr))
        c->owned++;
    return 0;
}

/* The value of the only From field of the header block msg[0..len), unfolded
 * into out; -1 when there is none, more than one, or it is too long. */
static int from_field(const char *msg, size_t len, buf *out)
{
    int found = 0;
    size_t i = 0;
    while (i < len && msg[i] != '\r' && msg[i] != '\n') { /* one field per turn */
        size_t start = i, end = i;
        do { /* the field and its continuation lines */
            const char *lf = memchr(msg + end, '\n', len - end);
            end = lf != NULL ? (size_t)(lf - msg) + 1 : len;
        } while (end < len && (msg[end] == ' ' || msg[end] == '\t'));
        i = end;
        const char *colon = memchr(msg + start, ':', end - start);
        if (colon == NULL)
            continue;
        size_t nlen = (size_t)(colon - (msg + start));
        while (nlen > 0 && (msg[start + nlen - 1] == ' ' || msg[start + nlen - 1] == '\t'))
            nlen--;
        if (nlen != 4 || strncasecmp(msg + start, "From", 4) != 0)
            continue;
        if (found++)
            return -1; /* two From fields */
        for (const char *p = colon + 1; p < msg + end; p++)
            if (*p != '\r' && *p != '\n' && buf_append_char(out, *p) < 0)
                return -1;
    }
    return found == 1 ? 0 : -1;
}

bool smtpd_from_owned(smtpd_session *s)
{
    const char *msg = s->msg.data + s->msg_start;
    size_t len = s->msg.len - s->msg_start;
    buf value;
    buf_init(&value, FROM_FIELD_MAX);
    from_ctx c = {.s = s};
    bool ok = false;
    if (from_field(msg, len, &value) == 0) {
        c.d = directory_follower_read_lock(s->srv->dir);
        ok = mime_address_each(value.data, value.len, from_each, &c) == 0 && c.mailboxes > 0 &&
             c.owned == c.mailboxes;
        directory_follower_read_unlock(s->srv->dir);
    }
    buf_free(&value);
    return ok;
}
