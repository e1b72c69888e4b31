/* compress: RFC 4978 COMPRESS=DEFLATE, a raw DEFLATE layer (RFC 1951, no
 * zlib header) between a conn's plaintext buffers and its socket or TLS.
 *
 * Output: what the protocol writes stays in c->out; each time the loop sends,
 * it deflates c->out into zout with Z_SYNC_FLUSH and sends zout, so every
 * response reaches the client whole and nothing waits for more data. The
 * bytes buffered before net_conn_compress (the tagged OK) go out raw first.
 *
 * Input: compressed bytes from the socket land in zin; they are inflated in
 * steps into the free space of c->in only, so c->in never passes
 * limits.in_max however well the input compresses; while zin holds bytes
 * nothing more is read from the socket (the kernel buffers and then the
 * client wait, as for any full input buffer).
 *
 * zlib's memory comes from net_z_alloc, which counts it and wipes it when it
 * is given back: the windows hold recent plaintext (mail, and whatever
 * credentials passed after COMPRESS). */
#include "net_internal.h"

#include "log.h"

#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* RFC 4978 section 4: deflateInit2 and inflateInit2 with a negative
 * windowBits make raw DEFLATE; -15 is the 32 KiB window, the largest a
 * client may use, so the inflater must have it. */
#define NET_DEFLATE_WINDOW_BITS (-15)

/* In front of each zlib allocation: its size, for the count and the wipe. */
typedef union net_z_header {
    size_t n;
    max_align_t align;
} net_z_header;

static voidpf net_z_alloc(voidpf opaque, uInt items, uInt size)
{
    net_z *z = opaque;
    if (size != 0 && items > (SIZE_MAX - sizeof(net_z_header)) / size)
        return Z_NULL;
    size_t n = (size_t)items * size;
    net_z_header *h = calloc(1, sizeof(*h) + n);
    if (h == NULL)
        return Z_NULL;
    h->n = n;
    z->mem += n;
    return h + 1;
}

static void net_z_release(voidpf opaque, voidpf p)
{
    if (p == NULL)
        return;
    net_z *z = opaque;
    net_z_header *h = (net_z_header *)p - 1;
    z->mem -= h->n;
    explicit_bzero(p, h->n);
    free(h);
}

void net_z_free(net_z **zp)
{
    if (zp == NULL || *zp == NULL)
        return;
    net_z *z = *zp;
    deflateEnd(&z->def); /* both are safe on a stream that never initialised */
    inflateEnd(&z->inf);
    size_t cap = z->zin_cap;
    explicit_bzero(z, sizeof(*z) + cap);
    free(z);
    *zp = NULL;
}

size_t net_z_memory(const net_z *z)
{
    return z == NULL ? 0 : sizeof(*z) + z->zin_cap + z->mem;
}

bool net_z_in_pending(const net_z *z)
{
    return z->zin_pos < z->zin_len || z->inf_more;
}

static int net_z_corrupt(net_conn *c, const char *why)
{
    log_info(c->session, "net: compressed input is corrupt (%s), closing", why);
    net_conn_abort_why(c, NET_CLOSE_ERROR);
    return -1;
}

int net_z_inflate(net_conn *c, char *out, size_t want, size_t *got_r)
{
    net_z *z = c->z;
    *got_r = 0;
    size_t avail = z->zin_len - z->zin_pos;
    if (z->inf_end) {
        /* A final block ends the stream: nothing may follow it. */
        return avail > 0 ? net_z_corrupt(c, "data after the end of the stream") : 0;
    }
    if (want == 0 || (avail == 0 && !z->inf_more))
        return 0;
    uInt in_n = avail > UINT_MAX ? UINT_MAX : (uInt)avail;
    uInt out_n = want > UINT_MAX ? UINT_MAX : (uInt)want;
    z->inf.next_in = z->zin + z->zin_pos;
    z->inf.avail_in = in_n;
    z->inf.next_out = (Bytef *)out;
    z->inf.avail_out = out_n;
    int r = inflate(&z->inf, Z_SYNC_FLUSH);
    size_t used = in_n - z->inf.avail_in;
    *got_r = out_n - z->inf.avail_out;
    z->zin_pos += used;
    if (z->zin_pos == z->zin_len)
        z->zin_pos = z->zin_len = 0;
    z->inf_more = z->inf.avail_out == 0;
    switch (r) {
    case Z_OK:
        break;
    case Z_STREAM_END:
        z->inf_end = true;
        z->inf_more = false;
        break;
    case Z_BUF_ERROR: /* no progress was possible: it needs more input */
        z->inf_more = false;
        return 0;
    default: /* Z_DATA_ERROR, Z_MEM_ERROR, Z_NEED_DICT, Z_STREAM_ERROR */
        return net_z_corrupt(c, z->inf.msg != NULL ? z->inf.msg : zError(r));
    }
    return used > 0 || *got_r > 0 ? 1 : 0;
}

int net_z_deflate(net_conn *c)
{
    net_z *z = c->z;
    size_t pending = c->out.len - c->out_pos;
    if (z->out_raw > 0 || z->zout_pos < z->zout_len || (pending == 0 && !z->def_more))
        return 0; /* the raw bytes, then what zout holds, go first */
    uInt in_n = pending > UINT_MAX ? UINT_MAX : (uInt)pending;
    z->def.next_in = pending > 0 ? (Bytef *)c->out.data + c->out_pos : Z_NULL;
    z->def.avail_in = in_n;
    z->def.next_out = z->zout;
    z->def.avail_out = sizeof(z->zout);
    /* Z_SYNC_FLUSH on every call: when the input runs out, everything
     * given so far is emitted and byte-aligned, so the client can inflate
     * each response at once. With input left it just compresses on. */
    int r = deflate(&z->def, Z_SYNC_FLUSH);
    size_t used = in_n - z->def.avail_in;
    c->out_pos += used;
    z->zout_pos = 0;
    z->zout_len = sizeof(z->zout) - z->def.avail_out;
    z->def_more = z->def.avail_out == 0;
    if (r == Z_BUF_ERROR) { /* nothing was left to flush */
        z->def_more = false;
        return 0;
    }
    if (r != Z_OK) {
        log_error(c->session, "net: deflate failed: %s", zError(r));
        net_conn_abort_why(c, NET_CLOSE_ERROR);
        return -1;
    }
    return used > 0 || z->zout_len > 0 ? 1 : 0;
}

int net_conn_compress(net_conn *c)
{
    if (c->z != NULL || c->closing || c->fd < 0 ||
        (c->tls_state != NET_TLS_NONE && c->tls_state != NET_TLS_ON))
        return -1;
    /* RFC 4978 section 3: the client must wait for the tagged OK, and then
     * compresses from the first command after COMPRESS. Bytes it sent
     * early are therefore the start of the compressed stream: they move to
     * zin and are inflated like the rest (plaintext fails to inflate and
     * closes the conn). What lies before them stays where it is: the
     * protocol may still hold the COMPRESS line. */
    size_t early = c->in.len - c->in_pos;
    size_t cap = early > NET_READ_CHUNK ? early : NET_READ_CHUNK;
    net_z *z = calloc(1, sizeof(*z) + cap);
    if (z == NULL) {
        log_error(c->session, "net: out of memory for compression");
        return -1;
    }
    z->zin_cap = cap;
    z->def.zalloc = z->inf.zalloc = net_z_alloc;
    z->def.zfree = z->inf.zfree = net_z_release;
    z->def.opaque = z->inf.opaque = z;
    if (deflateInit2(&z->def, NET_DEFLATE_LEVEL, Z_DEFLATED, NET_DEFLATE_WINDOW_BITS,
                     NET_DEFLATE_MEMLEVEL, Z_DEFAULT_STRATEGY) != Z_OK ||
        inflateInit2(&z->inf, NET_DEFLATE_WINDOW_BITS) != Z_OK) {
        log_error(c->session, "net: cannot start compression (zlib: out of memory)");
        net_z_free(&z);
        return -1;
    }
    if (early > 0) {
        memcpy(z->zin, c->in.data + c->in_pos, early);
        z->zin_len = early;
        c->in.len = c->in_pos;
        c->in.data[c->in.len] = '\0';
        c->read_again = true; /* inflated once the protocol's callback returns */
    }
    z->out_raw = c->out.len - c->out_pos;
    c->z = z;
    log_info(c->session, "net: DEFLATE compression on (RFC 4978)%s",
             early > 0 ? ", early input" : "");
    net_conn_schedule(c);
    return 0;
}

bool net_conn_is_compressed(const net_conn *c)
{
    return c->z != NULL;
}
