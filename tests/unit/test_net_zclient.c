/* The DEFLATE client of test_net_compress.c (see test_net_zclient.h). */
#include "test_net_zclient.h"

#include <openssl/ssl.h>
#include <string.h>
#include <sys/socket.h>

int zc_start(zclient *z, tclient *t)
{
    memset(z, 0, sizeof(*z));
    z->t = t;
    /* RFC 4978 section 4: raw DEFLATE, so negative windowBits. */
    if (deflateInit2(&z->def, 6, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY) != Z_OK)
        return -1;
    if (inflateInit2(&z->inf, -15) != Z_OK) {
        deflateEnd(&z->def);
        return -1;
    }
    if (t->len > sizeof(z->in))
        return -1;
    memcpy(z->in, t->buf, t->len); /* came right behind the tagged OK */
    z->in_len = t->len;
    t->len = 0;
    return 0;
}

void zc_end(zclient *z)
{
    deflateEnd(&z->def);
    inflateEnd(&z->inf);
}

int zc_send_flush(zclient *z, const void *p, size_t n, int flush)
{
    unsigned char out[16384];
    z->def.next_in = (Bytef *)p;
    z->def.avail_in = (uInt)n;
    do {
        z->def.next_out = out;
        z->def.avail_out = sizeof(out);
        int r = deflate(&z->def, flush);
        if (r != Z_OK && r != Z_BUF_ERROR)
            return -1;
        size_t k = sizeof(out) - z->def.avail_out;
        if (k > 0 && tc_send_bytes(z->t, out, k) < 0)
            return -1;
    } while (z->def.avail_out == 0 || z->def.avail_in > 0);
    return 0;
}

int zc_send(zclient *z, const char *s)
{
    return zc_send_flush(z, s, strlen(s), Z_SYNC_FLUSH);
}

static ssize_t zc_raw_read(tclient *t, unsigned char *p, size_t n)
{
    if (t->ssl != NULL)
        return SSL_read(t->ssl, p, (int)n);
    return recv(t->fd, p, n, 0);
}

/* Inflates at least one more byte into plain: 0, or -1 (EOF, error, full). */
static int zc_fill(zclient *z)
{
    for (;;) {
        if (z->plen == sizeof(z->plain))
            return -1;
        if (z->in_pos == z->in_len) {
            ssize_t n = zc_raw_read(z->t, z->in, sizeof(z->in));
            if (n <= 0)
                return -1;
            z->in_pos = 0;
            z->in_len = (size_t)n;
        }
        z->inf.next_in = z->in + z->in_pos;
        z->inf.avail_in = (uInt)(z->in_len - z->in_pos);
        z->inf.next_out = (Bytef *)z->plain + z->plen;
        z->inf.avail_out = (uInt)(sizeof(z->plain) - z->plen);
        uInt before = z->inf.avail_out;
        int r = inflate(&z->inf, Z_SYNC_FLUSH);
        z->in_pos = z->in_len - z->inf.avail_in;
        size_t got = before - z->inf.avail_out;
        z->plen += got;
        if (r != Z_OK && r != Z_BUF_ERROR)
            return -1;
        if (got > 0)
            return 0;
    }
}

static void zc_drop(zclient *z, size_t n)
{
    memmove(z->plain, z->plain + n, z->plen - n);
    z->plen -= n;
}

int zc_line(zclient *z, char *out, size_t outlen)
{
    for (;;) {
        char *lf = memchr(z->plain, '\n', z->plen);
        if (lf != NULL) {
            size_t n = (size_t)(lf - z->plain) + 1;
            size_t l = n - 1;
            if (l > 0 && z->plain[l - 1] == '\r')
                l--;
            if (l >= outlen)
                l = outlen - 1;
            memcpy(out, z->plain, l);
            out[l] = '\0';
            zc_drop(z, n);
            return (int)l;
        }
        if (zc_fill(z) < 0)
            return -1;
    }
}

int zc_read_exact(zclient *z, char *out, size_t n)
{
    while (n > 0) {
        if (z->plen == 0 && zc_fill(z) < 0)
            return -1;
        size_t k = z->plen < n ? z->plen : n;
        memcpy(out, z->plain, k);
        zc_drop(z, k);
        out += k;
        n -= k;
    }
    return 0;
}

bool zc_line_is(zclient *z, const char *want)
{
    char line[4096];
    return zc_line(z, line, sizeof(line)) >= 0 && strcmp(line, want) == 0;
}

bool zc_closed(zclient *z)
{
    return z->plen == 0 && zc_fill(z) < 0;
}
