/* vfs_page: sealing pages and the read/write paths of each file kind.
 * The formats are described in vfs.h. */
#include <string.h>

#include "vfs_int.h"

#define VFS_AD_MAGIC "ownmail-vfs-v2" /* 14 chars + NUL */
static const unsigned char vfs_no_pos[8];

/* The frame index (1-based, u64 big-endian) of the frame starting at fstart:
 * the origin carried in the nonce of the frame's page (in place of the
 * salts, which SQLite zeroes in frames it will re-checksum at commit). */
static void vfs_wal_pos(sqlite3_int64 fstart, sqlite3_int64 szf, unsigned char pos_r[8])
{
    uint64_t k = (uint64_t)((fstart - VFS_WAL_HDR) / szf) + 1;
    for (int i = 7; i >= 0; i--, k >>= 8)
        pos_r[i] = (unsigned char)k;
}

static uint32_t vfs_be32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static int vfs_is_pgsz(long n)
{
    return n >= VFS_PAGE_MIN && n <= VFS_PAGE_MAX && (n & (n - 1)) == 0;
}

static int vfs_all_zero(const unsigned char *p, size_t n)
{
    unsigned char acc = 0;
    for (size_t i = 0; i < n; i++)
        acc |= p[i];
    return acc == 0;
}

static int vfs_real_read(vfs_file *f, void *buf, int amt, sqlite3_int64 off)
{
    return f->real->pMethods->xRead(f->real, buf, amt, off);
}

static int vfs_real_write(vfs_file *f, const void *buf, int amt, sqlite3_int64 off)
{
    return f->real->pMethods->xWrite(f->real, buf, amt, off);
}

static unsigned char *vfs_buf(unsigned char **p, size_t *len, size_t need)
{
    if (*len >= need)
        return *p;
    unsigned char *n = sqlite3_malloc64(need);
    if (n == NULL)
        return NULL;
    if (*p != NULL) {
        sodium_memzero(*p, *len);
        sqlite3_free(*p);
    }
    *p = n;
    *len = need;
    return n;
}

void vfs_page_release(vfs_file *f)
{
    if (f->scratch != NULL) {
        sodium_memzero(f->scratch, f->scratch_len);
        sqlite3_free(f->scratch);
    }
    if (f->gather != NULL) {
        sodium_memzero(f->gather, f->gather_len);
        sqlite3_free(f->gather);
    }
    if (f->pend != NULL) {
        sodium_memzero(f->pend, f->pend_cap);
        sqlite3_free(f->pend);
    }
    f->scratch = f->gather = f->pend = NULL;
    f->scratch_len = f->gather_len = f->pend_cap = f->pend_len = 0;
    sodium_memzero(f->tkey, sizeof f->tkey);
}

/* ---- Sealing one page ------------------------------------------------- */

/* The associated data of a page. Database pages and WAL pages share a
 * class (a checkpoint copies sealed WAL pages into the database as they
 * are); journal page images have their own. */
static size_t vfs_ad(const vfs_file *f, uint32_t pgno, const unsigned char *p1plain,
                     unsigned char ad[VFS_AD_MAX])
{
    size_t n = 0;
    memcpy(ad, VFS_AD_MAGIC, sizeof VFS_AD_MAGIC);
    n += sizeof VFS_AD_MAGIC;
    ad[n++] = (unsigned char)(f->kind == VFS_KIND_JOURNAL ? VFS_KIND_JOURNAL : VFS_KIND_MAIN);
    ad[n++] = (unsigned char)(pgno >> 24);
    ad[n++] = (unsigned char)(pgno >> 16);
    ad[n++] = (unsigned char)(pgno >> 8);
    ad[n++] = (unsigned char)pgno;
    if (p1plain != NULL) {
        memcpy(ad + n, p1plain, VFS_P1_PLAIN_LEN);
        n += VFS_P1_PLAIN_LEN;
    }
    memcpy(ad + n, f->slot->store_id, f->slot->store_id_len);
    return n + f->slot->store_id_len;
}

/* Page 1's encrypted ranges: [0,16) [24,72) [88,body). */
static void vfs_p1_gather(unsigned char *dst, const unsigned char *page, size_t body)
{
    memcpy(dst, page, VFS_P1_PLAIN_OFF);
    memcpy(dst + 16, page + 24, VFS_KCV_OFF - 24);
    memcpy(dst + 64, page + VFS_KCV_OFF + VFS_KCV_LEN, body - (VFS_KCV_OFF + VFS_KCV_LEN));
}

static void vfs_p1_scatter(unsigned char *page, const unsigned char *src, size_t body)
{
    memcpy(page, src, VFS_P1_PLAIN_OFF);
    memcpy(page + 24, src + 16, VFS_KCV_OFF - 24);
    memcpy(page + VFS_KCV_OFF + VFS_KCV_LEN, src + 64, body - (VFS_KCV_OFF + VFS_KCV_LEN));
}

/* A fresh nonce: the file's random base with a per-file counter added in,
 * then the 8-byte origin (see vfs.h). */
static void vfs_nonce(vfs_file *f, unsigned char nonce[VFS_NONCE_LEN], const unsigned char pos[8])
{
    uint64_t c = f->nonce_ctr++;
    memcpy(nonce, f->nonce_base, VFS_NONCE_RANDOM);
    for (int i = VFS_NONCE_RANDOM - 1; i >= VFS_NONCE_RANDOM - 8; i--, c >>= 8)
        nonce[i] ^= (unsigned char)c;
    memcpy(nonce + VFS_NONCE_RANDOM, pos, VFS_NONCE_LEN - VFS_NONCE_RANDOM);
}

/* Seals the plain page in (pgsz bytes) into out; pos is its origin. */
static int vfs_seal(vfs_file *f, unsigned char *out, const unsigned char *in, unsigned pgsz,
                    uint32_t pgno, const unsigned char pos[8])
{
    size_t body = pgsz - VFS_RESERVE_BYTES;
    unsigned char *nonce = out + body, *tag = out + body + VFS_NONCE_LEN;
    unsigned char ad[VFS_AD_MAX];
    const unsigned char *key = keys_secret_bytes(f->slot->key);
    vfs_nonce(f, nonce, pos);
    if (pgno != 1) {
        size_t adlen = vfs_ad(f, pgno, NULL, ad);
        crypto_aead_xchacha20poly1305_ietf_encrypt_detached(out, tag, NULL, in, body, ad, adlen,
                                                            NULL, nonce, key);
        return SQLITE_OK;
    }
    /* Page 1: the reserved-bytes count must leave room for nonce and tag,
     * and SQLite's "reserved for expansion" bytes must be zero. */
    if (in[20] < VFS_RESERVE_BYTES || !vfs_all_zero(in + VFS_KCV_OFF, VFS_KCV_LEN))
        return SQLITE_IOERR_WRITE;
    size_t glen = body - VFS_P1_PLAIN_LEN - VFS_KCV_LEN;
    unsigned char *g = vfs_buf(&f->gather, &f->gather_len, glen);
    if (g == NULL)
        return SQLITE_IOERR_NOMEM;
    vfs_p1_gather(g, in, body);
    size_t adlen = vfs_ad(f, pgno, in + VFS_P1_PLAIN_OFF, ad);
    crypto_aead_xchacha20poly1305_ietf_encrypt_detached(g, tag, NULL, g, glen, ad, adlen, NULL,
                                                        nonce, key);
    vfs_p1_scatter(out, g, body);
    memcpy(out + VFS_P1_PLAIN_OFF, in + VFS_P1_PLAIN_OFF, VFS_P1_PLAIN_LEN);
    memcpy(out + VFS_KCV_OFF, f->slot->kcv, VFS_KCV_LEN);
    return SQLITE_OK;
}

/* Opens the sealed page in into out (pgsz bytes each; out == in is fine).
 * pos: the origin the nonce must carry, NULL for any (database pages: a
 * page a checkpoint copied carries the frame index it had in the WAL).
 * A page with an all-zero nonce and tag is a hole (SQLite never wrote it;
 * a sealed page never has a zero nonce) and reads as zeros. On failure out
 * is zeroed and SQLITE_IOERR_DATA returned. */
static int vfs_unseal(vfs_file *f, unsigned char *out, const unsigned char *in, unsigned pgsz,
                      uint32_t pgno, const unsigned char *pos)
{
    size_t body = pgsz - VFS_RESERVE_BYTES;
    if (vfs_all_zero(in + body, VFS_RESERVE_BYTES)) {
        memset(out, 0, pgsz);
        return SQLITE_OK;
    }
    const unsigned char *nonce = in + body, *tag = in + body + VFS_NONCE_LEN;
    const unsigned char *key = keys_secret_bytes(f->slot->key);
    unsigned char ad[VFS_AD_MAX];
    int ok;
    if (pos != NULL && memcmp(nonce + VFS_NONCE_RANDOM, pos, VFS_NONCE_LEN - VFS_NONCE_RANDOM)) {
        ok = 0; /* a page from another frame, or from the database, in the WAL */
    } else if (pgno != 1) {
        size_t adlen = vfs_ad(f, pgno, NULL, ad);
        ok = crypto_aead_xchacha20poly1305_ietf_decrypt_detached(out, NULL, in, body, tag, ad,
                                                                 adlen, nonce, key) == 0;
    } else if (sodium_memcmp(in + VFS_KCV_OFF, f->slot->kcv, VFS_KCV_LEN) != 0) {
        f->slot->wrong_key = 1;
        ok = 0;
    } else if (in[20] < VFS_RESERVE_BYTES) {
        ok = 0;
    } else {
        size_t glen = body - VFS_P1_PLAIN_LEN - VFS_KCV_LEN;
        unsigned char *g = vfs_buf(&f->gather, &f->gather_len, glen);
        if (g == NULL)
            return SQLITE_IOERR_NOMEM;
        vfs_p1_gather(g, in, body);
        size_t adlen = vfs_ad(f, pgno, in + VFS_P1_PLAIN_OFF, ad);
        ok = crypto_aead_xchacha20poly1305_ietf_decrypt_detached(g, NULL, g, glen, tag, ad, adlen,
                                                                 nonce, key) == 0;
        if (ok) {
            memmove(out + VFS_P1_PLAIN_OFF, in + VFS_P1_PLAIN_OFF, VFS_P1_PLAIN_LEN);
            vfs_p1_scatter(out, g, body);
            memset(out + VFS_KCV_OFF, 0, VFS_KCV_LEN);
        }
    }
    if (!ok) {
        sodium_memzero(out, pgsz);
        return SQLITE_IOERR_DATA;
    }
    sodium_memzero(out + body, VFS_RESERVE_BYTES);
    return SQLITE_OK;
}

/* ---- Main database ---------------------------------------------------- */

/* A read of part of page 1 (SQLite reads 100 bytes at 0 and 16 at 24). */
static int vfs_main_read_partial(vfs_file *f, unsigned char *buf, int amt, sqlite3_int64 off)
{
    unsigned char h[VFS_P1_PLAIN_OFF + 2];
    int rc = vfs_real_read(f, h, sizeof h, 0);
    if (rc != SQLITE_OK && rc != SQLITE_IOERR_SHORT_READ)
        return rc;
    unsigned pgsz = (unsigned)h[16] << 8 | h[17];
    if (pgsz == 1)
        pgsz = VFS_PAGE_MAX;
    if (!vfs_is_pgsz((long)pgsz)) {
        if (vfs_all_zero(h, sizeof h)) /* a new, empty database */
            return vfs_real_read(f, buf, amt, off);
        return SQLITE_IOERR_DATA;
    }
    if (off + amt > (sqlite3_int64)pgsz)
        return SQLITE_IOERR_READ;
    unsigned char *p = vfs_buf(&f->scratch, &f->scratch_len, pgsz);
    if (p == NULL)
        return SQLITE_IOERR_NOMEM;
    rc = vfs_real_read(f, p, (int)pgsz, 0);
    if (rc != SQLITE_OK && rc != SQLITE_IOERR_SHORT_READ)
        return rc;
    int rc2 = vfs_unseal(f, p, p, pgsz, 1, NULL);
    if (rc2 != SQLITE_OK)
        return rc2;
    memcpy(buf, p + off, (size_t)amt);
    sodium_memzero(p, pgsz);
    return rc;
}

static int vfs_main_read(vfs_file *f, unsigned char *buf, int amt, sqlite3_int64 off)
{
    if (!vfs_is_pgsz(amt) || off % amt != 0)
        return vfs_main_read_partial(f, buf, amt, off);
    int rc = vfs_real_read(f, buf, amt, off);
    if (rc != SQLITE_OK && rc != SQLITE_IOERR_SHORT_READ)
        return rc;
    int rc2 = vfs_unseal(f, buf, buf, (unsigned)amt, (uint32_t)(off / amt + 1), NULL);
    return rc2 != SQLITE_OK ? rc2 : rc;
}

static int vfs_main_write(vfs_file *f, const unsigned char *buf, int amt, sqlite3_int64 off)
{
    if (!vfs_is_pgsz(amt) || off % amt != 0)
        return SQLITE_IOERR_WRITE; /* SQLite writes whole pages only */
    if (f->ckpt) { /* a checkpoint: the sealed page vfs_wal_read_sealed gave */
        const unsigned char *tail = buf + amt - VFS_RESERVE_BYTES;
        int sealed = f->ckpt_have && f->ckpt_pgno == (uint32_t)(off / amt + 1) &&
                     memcmp(tail, f->ckpt_tail, VFS_RESERVE_BYTES) == 0;
        f->ckpt_have = 0;
        if (sealed)
            return vfs_real_write(f, buf, amt, off);
        if (!vfs_all_zero(tail, VFS_RESERVE_BYTES))
            return SQLITE_IOERR_WRITE; /* not a plain page, not the one handed out */
    }
    unsigned char *p = vfs_buf(&f->scratch, &f->scratch_len, (size_t)amt);
    if (p == NULL)
        return SQLITE_IOERR_NOMEM;
    int rc = vfs_seal(f, p, buf, (unsigned)amt, (uint32_t)(off / amt + 1), vfs_no_pos);
    return rc != SQLITE_OK ? rc : vfs_real_write(f, p, amt, off);
}

/* ---- WAL ---------------------------------------------------------------- */

/* The page size from the WAL header (offset 8), read from disk if needed. */
static int vfs_wal_pgsz(vfs_file *f, unsigned char hdr_r[VFS_WAL_HDR])
{
    unsigned char h[VFS_WAL_HDR];
    unsigned char *hp = hdr_r != NULL ? hdr_r : h;
    if (f->pgsz != 0 && hdr_r == NULL)
        return SQLITE_OK;
    int rc = vfs_real_read(f, hp, VFS_WAL_HDR, 0);
    if (rc != SQLITE_OK)
        return rc == SQLITE_IOERR_SHORT_READ ? SQLITE_IOERR_DATA : rc;
    uint32_t n = vfs_be32(hp + 8);
    if (!vfs_is_pgsz((long)n))
        return SQLITE_IOERR_DATA;
    f->pgsz = n;
    return SQLITE_OK;
}

/* A frame whose page failed to open during a whole-frame read (crash
 * recovery) may be dropped (zero page: SQLite's checksum then ends the log
 * there) only when it cannot hold committed data: its salts are not the
 * current ones (a stale frame, or one of a transaction SQLite had not yet
 * re-checksummed), or no commit frame of the current generation follows it
 * (a torn write of a transaction that never committed: frames are written
 * in order, an in-place overwrite only touches the open transaction). */
static int vfs_wal_droppable(vfs_file *f, const unsigned char *fhdr, sqlite3_int64 fend)
{
    unsigned char wh[VFS_WAL_HDR], next[VFS_FRAME_HDR];
    if (vfs_wal_pgsz(f, wh) != SQLITE_OK)
        return 0;
    if (memcmp(fhdr + 8, wh + 16, 8) != 0)
        return 1;
    const sqlite3_int64 szf = (sqlite3_int64)f->pgsz + VFS_FRAME_HDR;
    for (sqlite3_int64 o = fend;; o += szf) {
        int rc = vfs_real_read(f, next, VFS_FRAME_HDR, o);
        if (rc == SQLITE_IOERR_SHORT_READ || (rc == SQLITE_OK && memcmp(next + 8, wh + 16, 8)))
            return 1;
        if (rc != SQLITE_OK || vfs_be32(next + 4) != 0)
            return 0; /* a later commit: this frame was committed data */
    }
}

/* A checkpoint's read of a frame's page (its connection's database file
 * is between SQLITE_FCNTL_CKPT_START and _DONE, and SQLite's checkpoint
 * writes each page it reads straight to the database file): the page is
 * handed over still sealed, after checking its origin, and remembered so
 * that vfs_main_write stores it as it is. Database and WAL pages share
 * their associated data, so the copy opens as a database page; a frame
 * whose seal was altered fails when the page is read, as it would have. */
static int vfs_wal_read_sealed(vfs_file *f, unsigned char *buf, const unsigned char *fr,
                               const unsigned char wpos[8])
{
    vfs_file *m = f->main;
    const unsigned char *tail = fr + VFS_FRAME_HDR + f->pgsz - VFS_RESERVE_BYTES;
    if (memcmp(tail + VFS_NONCE_RANDOM, wpos, VFS_NONCE_LEN - VFS_NONCE_RANDOM) != 0) {
        memset(buf, 0, f->pgsz);
        return SQLITE_IOERR_DATA;
    }
    memcpy(buf, fr + VFS_FRAME_HDR, f->pgsz);
    m->ckpt_pgno = vfs_be32(fr);
    memcpy(m->ckpt_tail, tail, VFS_RESERVE_BYTES);
    m->ckpt_have = 1;
    return SQLITE_OK;
}

/* The common read of one frame's page (checkpoints, readers): one read of
 * the whole frame, opened straight into the caller's buffer. */
static int vfs_wal_read_page(vfs_file *f, unsigned char *buf, sqlite3_int64 off)
{
    const sqlite3_int64 szf = (sqlite3_int64)f->pgsz + VFS_FRAME_HDR;
    unsigned char *fr = vfs_buf(&f->scratch, &f->scratch_len, (size_t)szf);
    if (fr == NULL)
        return SQLITE_IOERR_NOMEM;
    int rc = vfs_real_read(f, fr, (int)szf, off - VFS_FRAME_HDR);
    if (rc != SQLITE_OK && rc != SQLITE_IOERR_SHORT_READ)
        return rc;
    unsigned char wpos[8];
    vfs_wal_pos(off - VFS_FRAME_HDR, szf, wpos);
    if (rc == SQLITE_OK && f->main != NULL && f->main->ckpt &&
        !vfs_all_zero(fr + szf - VFS_RESERVE_BYTES, VFS_RESERVE_BYTES))
        return vfs_wal_read_sealed(f, buf, fr, wpos);
    int rc2 = vfs_unseal(f, buf, fr + VFS_FRAME_HDR, f->pgsz, vfs_be32(fr), wpos);
    return rc2 != SQLITE_OK ? rc2 : rc;
}

static int vfs_wal_read(vfs_file *f, unsigned char *buf, int amt, sqlite3_int64 off)
{
    if (off + amt <= VFS_WAL_HDR)
        return vfs_real_read(f, buf, amt, off);
    int rc = vfs_wal_pgsz(f, NULL);
    if (rc != SQLITE_OK)
        return rc;
    const sqlite3_int64 pgsz = f->pgsz, szf = pgsz + VFS_FRAME_HDR, end = off + amt;
    if (amt == pgsz && off >= VFS_WAL_HDR && (off - VFS_WAL_HDR) % szf == VFS_FRAME_HDR)
        return vfs_wal_read_page(f, buf, off);
    int rrc = vfs_real_read(f, buf, amt, off);
    if (rrc != SQLITE_OK && rrc != SQLITE_IOERR_SHORT_READ)
        return rrc;
    for (sqlite3_int64 pos = off < VFS_WAL_HDR ? VFS_WAL_HDR : off; pos < end;) {
        sqlite3_int64 fstart = VFS_WAL_HDR + (pos - VFS_WAL_HDR) / szf * szf;
        sqlite3_int64 pstart = fstart + VFS_FRAME_HDR, fend = fstart + szf;
        if (pos < pstart) { /* frame header bytes: plain */
            pos = pstart;
            continue;
        }
        unsigned char *page, fh[VFS_FRAME_HDR];
        int whole = fstart >= off && fend <= end;
        if (whole) { /* the caller's buffer has header and page */
            memcpy(fh, buf + (fstart - off), VFS_FRAME_HDR);
            page = buf + (pstart - off);
        } else {
            page = vfs_buf(&f->scratch, &f->scratch_len, (size_t)szf);
            if (page == NULL)
                return SQLITE_IOERR_NOMEM;
            int r = vfs_real_read(f, page, (int)szf, fstart);
            if (r != SQLITE_OK && r != SQLITE_IOERR_SHORT_READ)
                return r;
            memcpy(fh, page, VFS_FRAME_HDR);
            page += VFS_FRAME_HDR;
        }
        unsigned char wpos[8];
        vfs_wal_pos(fstart, szf, wpos);
        int r = vfs_unseal(f, page, page, (unsigned)pgsz, vfs_be32(fh), wpos);
        if (r == SQLITE_IOERR_DATA && whole && vfs_wal_droppable(f, fh, fend))
            r = SQLITE_OK; /* page already zeroed */
        if (r != SQLITE_OK) {
            memset(buf, 0, (size_t)amt);
            return r;
        }
        if (!whole) {
            sqlite3_int64 a = pos, b = end < fend ? end : fend;
            memcpy(buf + (a - off), page + (a - pstart), (size_t)(b - a));
            sodium_memzero(page, (size_t)pgsz);
        }
        pos = fend;
    }
    return rrc;
}

/* A whole frame (header and page) in one write. */
static int vfs_wal_write_frame(vfs_file *f, const unsigned char *buf, sqlite3_int64 off)
{
    const sqlite3_int64 szf = (sqlite3_int64)f->pgsz + VFS_FRAME_HDR;
    unsigned char *w = vfs_buf(&f->scratch, &f->scratch_len, (size_t)szf);
    if (w == NULL)
        return SQLITE_IOERR_NOMEM;
    unsigned char wpos[8];
    vfs_wal_pos(off, szf, wpos);
    memcpy(w, buf, VFS_FRAME_HDR);
    int rc = vfs_seal(f, w + VFS_FRAME_HDR, buf + VFS_FRAME_HDR, f->pgsz, vfs_be32(buf), wpos);
    return rc != SQLITE_OK ? rc : vfs_real_write(f, w, (int)szf, off);
}

/* Seals and writes the page of the frame whose page starts at off; fh is
 * its header when the caller has it, else it is read from disk (a page
 * overwritten in place, or a header written in pieces). */
static int vfs_wal_seal_page(vfs_file *f, const unsigned char *page, sqlite3_int64 off,
                             const unsigned char *fh)
{
    const sqlite3_int64 szf = (sqlite3_int64)f->pgsz + VFS_FRAME_HDR;
    unsigned char h[VFS_FRAME_HDR];
    if (fh == NULL) {
        if (vfs_real_read(f, h, VFS_FRAME_HDR, off - VFS_FRAME_HDR) != SQLITE_OK)
            return SQLITE_IOERR_WRITE;
        fh = h;
    }
    unsigned char *p = vfs_buf(&f->scratch, &f->scratch_len, f->pgsz);
    if (p == NULL)
        return SQLITE_IOERR_NOMEM;
    unsigned char wpos[8];
    vfs_wal_pos(off - VFS_FRAME_HDR, szf, wpos);
    int rc = vfs_seal(f, p, page, f->pgsz, vfs_be32(fh), wpos);
    return rc != SQLITE_OK ? rc : vfs_real_write(f, p, (int)f->pgsz, off);
}

/* Without SQLITE_IOCAP_POWERSAFE_OVERWRITE, SQLite pads a commit to a
 * sector boundary and splits the write that crosses it in two, syncing in
 * between (wal.c walWriteToLog). A page cannot be sealed in pieces: keep
 * them until the page is whole. Holding back the first piece is safe: it
 * belongs to a padding frame after the commit frame, which is already
 * written when SQLite syncs. */
static int vfs_wal_write_piece(vfs_file *f, const unsigned char *buf, int amt, sqlite3_int64 off,
                               sqlite3_int64 pstart)
{
    if (off == pstart) {
        if (vfs_buf(&f->pend, &f->pend_cap, f->pgsz) == NULL)
            return SQLITE_IOERR_NOMEM;
        f->pend_pstart = pstart;
        f->pend_len = 0;
    } else if (f->pend_len == 0 || f->pend_pstart != pstart ||
               pstart + (sqlite3_int64)f->pend_len != off) {
        return SQLITE_IOERR_WRITE; /* not the continuation of the page */
    }
    memcpy(f->pend + f->pend_len, buf, (size_t)amt);
    f->pend_len += (size_t)amt;
    if (f->pend_len < f->pgsz)
        return SQLITE_OK;
    f->pend_len = 0;
    return vfs_wal_seal_page(f, f->pend, pstart, NULL);
}

static int vfs_wal_write(vfs_file *f, const unsigned char *buf, int amt, sqlite3_int64 off)
{
    int fresh = f->last_len == VFS_FRAME_HDR;
    sqlite3_int64 last_off = f->last_off;
    f->last_len = 0;
    if (off == 0 && amt == VFS_WAL_HDR) {
        uint32_t n = vfs_be32(buf + 8);
        if (!vfs_is_pgsz((long)n))
            return SQLITE_IOERR_WRITE;
        f->pgsz = n;
        return vfs_real_write(f, buf, amt, off);
    }
    int rc = vfs_wal_pgsz(f, NULL);
    if (rc != SQLITE_OK)
        return rc;
    const sqlite3_int64 pgsz = f->pgsz, szf = pgsz + VFS_FRAME_HDR;
    const sqlite3_int64 rem = off < VFS_WAL_HDR ? -1 : (off - VFS_WAL_HDR) % szf;
    if (rem == 0 && amt == VFS_FRAME_HDR) { /* a frame header: plain, kept for the page */
        memcpy(f->last, buf, VFS_FRAME_HDR);
        f->last_off = off;
        f->last_len = VFS_FRAME_HDR;
        return vfs_real_write(f, buf, amt, off);
    }
    if (rem == 0 && amt == szf)
        return vfs_wal_write_frame(f, buf, off);
    if (rem >= 0 && rem + amt <= VFS_FRAME_HDR)
        return vfs_real_write(f, buf, amt, off); /* a header split at a sync point */
    if (rem < VFS_FRAME_HDR || rem + amt > szf)
        return SQLITE_IOERR_WRITE; /* SQLite writes headers and pages, never across */
    if (rem == VFS_FRAME_HDR && amt == pgsz)
        return vfs_wal_seal_page(f, buf, off,
                                 fresh && last_off == off - VFS_FRAME_HDR ? f->last : NULL);
    return vfs_wal_write_piece(f, buf, amt, off, off - rem + VFS_FRAME_HDR);
}

/* ---- Rollback journal --------------------------------------------------- */

/* Page images are the writes of exactly one page at an offset = 4 mod 8
 * (records of 4 + page + 4 bytes follow sector-aligned headers); the page
 * number is the u32 just before. */
/* A journal header (see SQLite's pager.c): magic (8; zero until
 * the journal is synced), record count, checksum nonce, initial database
 * size, sector size (u32 at 20), page size (u32 at 24). */
static int vfs_jrnl_hdr_pgsz(const unsigned char *h, unsigned *pgsz_r)
{
    uint32_t sector = vfs_be32(h + 20), pgsz = vfs_be32(h + 24);
    if (!vfs_is_pgsz((long)pgsz) || sector < 32 || sector > VFS_PAGE_MAX || (sector & (sector - 1)))
        return 0;
    *pgsz_r = pgsz;
    return 1;
}

static int vfs_jrnl_pgsz(vfs_file *f)
{
    if (f->pgsz != 0)
        return SQLITE_OK;
    unsigned char h[VFS_JRNL_HDR_MIN];
    int rc = vfs_real_read(f, h, sizeof h, 0);
    if (rc == SQLITE_OK)
        vfs_jrnl_hdr_pgsz(h, &f->pgsz);
    return rc == SQLITE_IOERR_SHORT_READ ? SQLITE_OK : rc;
}

static int vfs_jrnl_is_page(vfs_file *f, int amt, sqlite3_int64 off)
{
    return vfs_is_pgsz(amt) && off % 8 == 4 && vfs_jrnl_pgsz(f) == SQLITE_OK &&
           f->pgsz == (unsigned)amt;
}

static int vfs_jrnl_pgno(vfs_file *f, sqlite3_int64 off, int fresh, uint32_t *pgno_r)
{
    unsigned char n[4];
    if (fresh && f->last_off == off - 4) {
        memcpy(n, f->last, 4);
    } else {
        int rc = vfs_real_read(f, n, 4, off - 4);
        if (rc != SQLITE_OK)
            return rc == SQLITE_IOERR_SHORT_READ ? SQLITE_IOERR_DATA : rc;
    }
    *pgno_r = vfs_be32(n);
    return SQLITE_OK;
}

static int vfs_jrnl_read(vfs_file *f, unsigned char *buf, int amt, sqlite3_int64 off)
{
    if (!vfs_jrnl_is_page(f, amt, off))
        return vfs_real_read(f, buf, amt, off);
    uint32_t pgno;
    int rc = vfs_jrnl_pgno(f, off, 0, &pgno);
    if (rc != SQLITE_OK)
        return rc;
    rc = vfs_real_read(f, buf, amt, off);
    if (rc != SQLITE_OK && rc != SQLITE_IOERR_SHORT_READ)
        return rc;
    int rc2 = vfs_unseal(f, buf, buf, (unsigned)amt, pgno, vfs_no_pos);
    return rc2 != SQLITE_OK ? rc2 : rc;
}

static int vfs_jrnl_write(vfs_file *f, const unsigned char *buf, int amt, sqlite3_int64 off)
{
    int fresh = f->last_len == 4;
    f->last_len = 0;
    if (amt >= VFS_JRNL_HDR_MIN && off % VFS_PAGE_MIN == 0)
        vfs_jrnl_hdr_pgsz(buf, &f->pgsz);
    if (!vfs_jrnl_is_page(f, amt, off)) {
        if (amt == 4) {
            memcpy(f->last, buf, 4);
            f->last_off = off;
            f->last_len = 4;
        }
        return vfs_real_write(f, buf, amt, off);
    }
    uint32_t pgno;
    int rc = vfs_jrnl_pgno(f, off, fresh, &pgno);
    if (rc != SQLITE_OK)
        return SQLITE_IOERR_WRITE;
    unsigned char *p = vfs_buf(&f->scratch, &f->scratch_len, (size_t)amt);
    if (p == NULL)
        return SQLITE_IOERR_NOMEM;
    rc = vfs_seal(f, p, buf, (unsigned)amt, pgno, vfs_no_pos);
    return rc != SQLITE_OK ? rc : vfs_real_write(f, p, amt, off);
}

/* ---- Temporary files: XChaCha20 keystream at the file offset ------------ */

static void vfs_temp_xor(vfs_file *f, unsigned char *p, size_t n, sqlite3_int64 off)
{
    uint64_t block = (uint64_t)off / 64;
    size_t skip = (size_t)((uint64_t)off % 64);
    if (skip != 0 && n > 0) {
        unsigned char ks[64] = {0};
        crypto_stream_xchacha20_xor_ic(ks, ks, sizeof ks, f->tnonce, block, f->tkey);
        size_t k = 64 - skip < n ? 64 - skip : n;
        for (size_t i = 0; i < k; i++)
            p[i] ^= ks[skip + i];
        sodium_memzero(ks, sizeof ks);
        p += k;
        n -= k;
        block++;
    }
    if (n > 0)
        crypto_stream_xchacha20_xor_ic(p, p, n, f->tnonce, block, f->tkey);
}

static int vfs_temp_read(vfs_file *f, unsigned char *buf, int amt, sqlite3_int64 off)
{
    int rc = vfs_real_read(f, buf, amt, off);
    if (rc == SQLITE_OK) {
        vfs_temp_xor(f, buf, (size_t)amt, off);
    } else if (rc == SQLITE_IOERR_SHORT_READ) {
        sqlite3_int64 size = 0;
        if (f->real->pMethods->xFileSize(f->real, &size) != SQLITE_OK)
            return SQLITE_IOERR_READ;
        if (size > off)
            vfs_temp_xor(f, buf, (size_t)(size - off < amt ? size - off : amt), off);
    }
    return rc;
}

static int vfs_temp_write(vfs_file *f, const unsigned char *buf, int amt, sqlite3_int64 off)
{
    unsigned char *p = vfs_buf(&f->scratch, &f->scratch_len, (size_t)amt);
    if (p == NULL)
        return SQLITE_IOERR_NOMEM;
    memcpy(p, buf, (size_t)amt);
    vfs_temp_xor(f, p, (size_t)amt, off);
    return vfs_real_write(f, p, amt, off);
}

/* ---- Dispatch ----------------------------------------------------------- */

int vfs_page_read(vfs_file *f, void *buf, int amt, sqlite3_int64 off)
{
    switch (f->kind) {
    case VFS_KIND_MAIN:
        return vfs_main_read(f, buf, amt, off);
    case VFS_KIND_WAL:
        return vfs_wal_read(f, buf, amt, off);
    case VFS_KIND_JOURNAL:
        return vfs_jrnl_read(f, buf, amt, off);
    case VFS_KIND_TEMP:
        return vfs_temp_read(f, buf, amt, off);
    default:
        return vfs_real_read(f, buf, amt, off);
    }
}

int vfs_page_write(vfs_file *f, const void *buf, int amt, sqlite3_int64 off)
{
    switch (f->kind) {
    case VFS_KIND_MAIN:
        return vfs_main_write(f, buf, amt, off);
    case VFS_KIND_WAL:
        return vfs_wal_write(f, buf, amt, off);
    case VFS_KIND_JOURNAL:
        return vfs_jrnl_write(f, buf, amt, off);
    case VFS_KIND_TEMP:
        return vfs_temp_write(f, buf, amt, off);
    default:
        return vfs_real_write(f, buf, amt, off);
    }
}
