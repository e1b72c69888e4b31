/* For test_net_compress.c: the client side of RFC 4978 DEFLATE over a
 * tclient (test_net_support.h), with its own zlib streams, and the
 * pseudo-random bytes both sides of the "BIG" command agree on. Runs on the
 * client thread. */
#ifndef OWNMAIL_TEST_NET_ZCLIENT_H
#define OWNMAIL_TEST_NET_ZCLIENT_H

#include "test_net_support.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <zlib.h>

typedef struct zclient {
    tclient *t;
    z_stream def, inf;
    unsigned char in[16384]; /* compressed bytes received, inflated up to in_pos */
    size_t in_pos, in_len;
    char plain[65536]; /* inflated bytes not yet taken */
    size_t plen;
} zclient;

/* Starts both streams after the tagged OK was read in plaintext; what t
 * already buffered after it is taken as compressed. 0 or -1. */
int zc_start(zclient *z, tclient *t);
void zc_end(zclient *z);
/* Compresses and sends, ending with flush (Z_SYNC_FLUSH, Z_PARTIAL_FLUSH or
 * Z_NO_FLUSH). 0 or -1. */
int zc_send_flush(zclient *z, const void *p, size_t n, int flush);
int zc_send(zclient *z, const char *s); /* with Z_SYNC_FLUSH */
/* As tc_line and tc_read_exact, on the inflated stream. */
int zc_line(zclient *z, char *out, size_t outlen);
int zc_read_exact(zclient *z, char *out, size_t n);
bool zc_line_is(zclient *z, const char *want);
/* The server closed (or the stream broke) with nothing more to read. */
bool zc_closed(zclient *z);

/* xorshift32: the bytes of a "BIG" response. */
static inline unsigned char big_byte(uint32_t *state)
{
    uint32_t x = *state;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    *state = x;
    return (unsigned char)(x >> 24);
}
#define BIG_SEED 2463534242u

#endif
