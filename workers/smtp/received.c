/* The Received header field a relay or delivery adds (RFC 5321 4.4). */
#include "smtpd.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

/* What the client said in EHLO/HELO goes into a comment-free position, so
 * anything but a domain or literal character is replaced. */
static void received_clean(char *out, size_t outlen, const char *in)
{
    size_t n = 0;
    for (; in != NULL && *in != '\0' && n + 1 < outlen; in++) {
        unsigned char ch = (unsigned char)*in;
        int ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
                 strchr("-.:[]_", ch) != NULL;
        out[n++] = ok ? (char)ch : '?';
    }
    out[n] = '\0';
    if (n == 0)
        snprintf(out, outlen, "unknown");
}

int smtpd_received_format(buf *out, const smtpd_received_info *in)
{
    char helo[SMTPD_HELO_MAX + 1], date[64];
    received_clean(helo, sizeof helo, in->helo);
    /* RFC 3848: SMTP / ESMTP, then S for TLS and A for AUTH; RFC 6531 3.7.3:
     * UTF8SMTP, UTF8SMTPS, UTF8SMTPA, UTF8SMTPSA. */
    char with[16];
    snprintf(with, sizeof with, "%s%s%s",
             in->utf8    ? "UTF8SMTP"
             : in->esmtp ? "ESMTP"
                         : "SMTP",
             in->tls ? "S" : "", in->auth ? "A" : "");
    time_t now = (time_t)in->now;
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S +0000", &tm);
    const char *v6 = strchr(in->peer_ip, ':') != NULL ? "IPv6:" : "";
    int rc = buf_printf(out, "Received: from %s ([%s%s])\r\n\tby %s (ownmail) with %s id %s", helo,
                        v6, in->peer_ip, in->hostname, with, in->session);
    if (rc == 0 && in->tls)
        rc = buf_printf(out, "\r\n\t(version=%s cipher=%s bits=%d)",
                        in->tls_version != NULL ? in->tls_version : "?",
                        in->tls_cipher != NULL ? in->tls_cipher : "?", in->tls_bits);
    if (rc == 0 && in->for_rcpt != NULL)
        rc = buf_printf(out, "\r\n\tfor <%s>", in->for_rcpt);
    if (rc == 0)
        rc = buf_printf(out, "; %s\r\n", date);
    return rc;
}
