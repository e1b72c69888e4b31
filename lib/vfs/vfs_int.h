/* vfs internals shared by vfs.c (registration, slots, open) and vfs_page.c
 * (page sealing and the per-kind read/write paths). Not installed. */
#ifndef OWNMAIL_VFS_INT_H
#define OWNMAIL_VFS_INT_H

#include <stdint.h>

#include <sqlite3.h>
#include <sodium.h>

#include "keys.h"
#include "vfs.h"

#define VFS_KCV_LEN 16
#define VFS_KCV_OFF 72      /* page 1: key check value, 72..87 */
#define VFS_P1_PLAIN_OFF 16 /* page 1: page size .. leaf fraction, 16..23 */
#define VFS_P1_PLAIN_LEN 8
#define VFS_NONCE_LEN 24
#define VFS_NONCE_RANDOM 16 /* nonce bytes before the 8-byte origin */
#define VFS_TAG_LEN 16
#define VFS_PAGE_MIN 512
#define VFS_PAGE_MAX 65536
#define VFS_WAL_HDR 32
#define VFS_FRAME_HDR 24
#define VFS_JRNL_HDR_MIN 28
#define VFS_AD_MAX (16 + 1 + 4 + 8 + VFS_P1_PLAIN_LEN + VFS_STORE_ID_MAX)

enum {
    VFS_KIND_MAIN = 1,
    VFS_KIND_WAL = 2,
    VFS_KIND_JOURNAL = 3,
    VFS_KIND_TEMP = 4,
    VFS_KIND_PLAIN = 5
};

/* A key slot: what the file layer needs to seal pages of one open store.
 * Referenced by the connection and by each of its files. */
typedef struct vfs_slot {
    struct vfs_slot *next;
    unsigned long long id;
    keys_secret *key; /* KEYS_KEY_LEN bytes */
    char store_id[VFS_STORE_ID_MAX + 1];
    size_t store_id_len;
    unsigned char kcv[VFS_KCV_LEN];
    int refs;
    volatile int wrong_key; /* set when page 1's key check value did not match */
} vfs_slot;

typedef struct vfs_file {
    sqlite3_file base;
    sqlite3_file *real; /* the unix VFS file, allocated right after this struct */
    int kind;
    vfs_slot *slot; /* NULL for TEMP and PLAIN */
    unsigned pgsz;  /* WAL / journal page size once known, else 0 */
    /* The last small write (WAL frame header, journal page number), usable
     * only by the very next write. */
    unsigned char last[VFS_FRAME_HDR];
    sqlite3_int64 last_off;
    int last_len;
    unsigned char *scratch; /* a frame or page; sqlite3_malloc'd */
    size_t scratch_len;
    unsigned char *pend; /* a WAL page written in pieces (split at a sync point) */
    size_t pend_cap;
    sqlite3_int64 pend_pstart;
    size_t pend_len;
    unsigned char *gather; /* page 1's encrypted ranges */
    size_t gather_len;
    /* Nonces: a random base drawn at open with a counter added (vfs_nonce). */
    unsigned char nonce_base[VFS_NONCE_RANDOM];
    uint64_t nonce_ctr;
    /* Checkpoint pass-through (vfs_wal_read_sealed): main is the WAL's
     * database file; on the database file ckpt is set between
     * SQLITE_FCNTL_CKPT_START and _DONE and ckpt_* name the sealed page
     * last handed out. */
    struct vfs_file *main;
    int ckpt, ckpt_have;
    uint32_t ckpt_pgno;
    unsigned char ckpt_tail[VFS_RESERVE_BYTES];
    unsigned char tkey[crypto_stream_xchacha20_KEYBYTES];
    unsigned char tnonce[crypto_stream_xchacha20_NONCEBYTES];
} vfs_file;

/* Per-kind I/O (vfs_page.c). Same contracts as sqlite3_io_methods. */
int vfs_page_read(vfs_file *f, void *buf, int amt, sqlite3_int64 off);
int vfs_page_write(vfs_file *f, const void *buf, int amt, sqlite3_int64 off);
/* Zeroes and frees the scratch buffers. */
void vfs_page_release(vfs_file *f);

#endif
