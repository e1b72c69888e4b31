/* vfs: the encrypted SQLite file layer of a user's mail store.
 *
 * A SQLite VFS shim ("ownmail-enc") over the default unix VFS. Every page of
 * the database, of its WAL and of its rollback journal is sealed with
 * XChaCha20-Poly1305-IETF (libsodium) under the store key; see DESIGN.md
 * "Storage and keys".
 *
 * Page format (every page of P bytes; the database has 40 reserved bytes per
 * page, set with SQLITE_FCNTL_RESERVE_BYTES before the first write):
 *
 *   [0, P-40)     ciphertext of the page's first P-40 bytes
 *   [P-40, P-16)  nonce (24 bytes): 16 bytes never used before (a random
 *                 base drawn when the file is opened, with a counter added
 *                 for every seal) then the page's origin (8 bytes, u64
 *                 big-endian): the WAL frame index for a page written to the
 *                 WAL, zero for one written to the database or journal
 *   [P-16, P)     Poly1305 tag
 *
 * Reads hand SQLite the plaintext with the 40 reserved bytes zeroed; SQLite
 * never looks at them, and the WAL checksums (computed by SQLite over what it
 * passes to xWrite) stay valid because reserved bytes are zero both ways.
 *
 * Page 1 keeps in plain only what is needed before any key applies:
 *   [16, 24)  page size, file format versions, reserved-bytes count (offset
 *             20, must be >= 40), payload fractions;
 *   [72, 88)  a key check value, BLAKE2b-128 keyed with the store key over
 *             "ownmail-vfs-kcv-v1" || store id (SQLite's own bytes there are
 *             "reserved for expansion" and must be zero; they read as zero).
 * Every other byte of page 1 (the "SQLite format 3" magic included) is
 * encrypted. The plain bytes [16, 24) are bound as associated data.
 *
 * Associated data of every page: "ownmail-vfs-v2" NUL, the class (1 byte:
 * database-or-WAL page, or rollback-journal page image), the page number
 * (u32 big-endian; for WAL frames the number in the frame header), for page
 * 1 its plain bytes 16..23, and the store id. The nonce is authenticated too
 * (it keys the cipher and the MAC), and so is the origin in it. What this
 * binds: a page copied to another page number, into or out of a journal, or
 * to another store fails authentication; in the WAL a page must carry the
 * index of the frame it is read from, so a page copied to another frame (or
 * a database page put into the WAL) fails. A WAL page copied into the
 * database at its own page number opens: that copy is what a checkpoint
 * does. Between SQLITE_FCNTL_CKPT_START and _DONE (SQLite's checkpoint
 * loop, which reads each page from the WAL and writes it to the database)
 * the shim hands the page over still sealed, after checking its origin,
 * and writes it to the database unchanged: a checkpoint costs no
 * cryptography, and an altered frame fails when its page is read. (The WAL
 * salts are not bound: SQLite writes frames with zero salts and fixes them
 * at commit when it re-checksums a transaction that overwrote a frame.)
 *
 * WAL (a 32-byte plain header, then frames of a 24-byte plain header + one
 * encrypted page): SQLite writes a frame as two calls, header then page; the
 * shim takes the page number from the header. Without powersafe overwrite
 * SQLite splits the write that crosses a commit's sync point; the pieces of
 * a page are kept until it is whole (they belong to a padding frame). The
 * -shm file holds no page data and stays plain; several processes may open
 * one store. SQLite's frame checksums cover the plaintext it passes to
 * xWrite; reads give back exactly that plaintext (reserved bytes zero), so
 * crash recovery, which re-reads whole frames, checks them as usual.
 * During recovery a frame that fails authentication is handed to SQLite
 * with a zeroed page (SQLite's checksum then ends the log there) only when
 * it cannot hold committed data: its salts are not the current ones (a
 * stale frame) or no commit frame of the current generation follows it (a
 * write torn by a crash, even one cut short inside a page). Anywhere else it
 * is an error. The plain frame headers are SQLite's: an altered header makes
 * SQLite end the log early, as it would for a torn write.
 *
 * Rollback journal (records: u32 page number, page, u32 checksum): page
 * images are encrypted as above (kind "journal", the number from the record),
 * headers, page numbers and checksums stay plain (SQLite's record checksum
 * samples bytes of the plaintext, which reads give back). Stores run in WAL
 * mode; the journal serves a store switched out of WAL mode.
 *
 * Other files SQLite may open through this VFS (sorter spills, and temp
 * tables if temp_store is set back to FILE; temp_store=MEMORY keeps temp
 * tables and statement journals in memory) are encrypted with XChaCha20 under a random key that
 * lives only as long as the file (confidentiality only: they are deleted on
 * close). Super-journals (file names only) stay plain.
 *
 * Errors on read: a page that fails authentication is SQLITE_IOERR_DATA
 * ("disk I/O error"), never data; a torn rollback-journal record is too
 * (SQLite reads back only the records it counted after syncing the journal,
 * except with synchronous=OFF, which stores do not use). A page whose nonce and tag are all zero is
 * a hole (SQLite leaves gaps for free pages it never wrote; a sealed page
 * never has a zero nonce) and reads as zeros.
 * Limits of what a file layer can see: someone who can write the files can
 * still roll the whole store (or the tail of the WAL) back to an earlier
 * copy, put an earlier version of a page back at its own page number (from
 * the database or from a WAL frame that held it), or zero a whole page.
 *
 * mmap is never used (xFetch always declines), so every read is decrypted.
 * A main database, WAL or journal opened through this VFS without a key slot
 * (an ATTACH of a plain file name) is refused with SQLITE_CANTOPEN: there is
 * no unencrypted fallback. A plain SQLite file opened as a store fails the
 * key check ("wrong credential").
 */
#ifndef OWNMAIL_VFS_H
#define OWNMAIL_VFS_H

#include <stddef.h>

#include <sqlite3.h>

#include "keys.h"

#define VFS_NAME "ownmail-enc"
#define VFS_RESERVE_BYTES 40      /* nonce 24 + tag 16, reserved per page */
#define VFS_STORE_ID_MAX 64       /* characters of a store id (hex, >= 1) */
#define VFS_BUSY_TIMEOUT_MS 10000 /* busy timeout set on every opened store */
#define VFS_ERR_LEN 256           /* a good size for the err buffer */

typedef enum {
    VFS_OK = 0,
    /* The key (or the store id) does not open this store: "wrong credential". */
    VFS_ERR_WRONG_KEY,
    /* A page failed authentication or SQLite found the store corrupt. */
    VFS_ERR_CORRUPT,
    /* Any other SQLite or I/O failure (the err text has SQLite's message). */
    VFS_ERR_IO,
    /* A caller error: NULL argument, bad store id, key not KEYS_KEY_LEN bytes. */
    VFS_ERR_INVALID,
    VFS_ERR_NOMEM,
} vfs_result;

/* A static English description of r ("wrong credential", ...). */
const char *vfs_strerror(vfs_result r);

/* Registers VFS_NAME once per process (thread-safe), not as the default
 * VFS. Returns VFS_OK, or VFS_ERR_IO when SQLite has no default VFS. */
vfs_result vfs_register(void);

/* Opens (creating it when missing) the store at path (a plain file path),
 * encrypted under store_key (KEYS_KEY_LEN bytes) and bound to store_id (a
 * hex string of 1..VFS_STORE_ID_MAX characters). The key is copied into
 * secure memory owned by the connection and released by sqlite3_close();
 * the caller may free store_key after this returns. No key bytes ever go
 * into a file name or URI: the file layer finds the key through an
 * in-process slot (URI parameter "ownmail_slot", a random 64-bit handle).
 *
 * The connection gets: temp_store=MEMORY, mmap_size=0, 40 reserved bytes
 * per page (new stores), journal_mode=WAL, busy timeout VFS_BUSY_TIMEOUT_MS.
 * The key is checked before returning: VFS_ERR_WRONG_KEY when it (or the
 * store id) does not match, VFS_ERR_CORRUPT when page 1 fails otherwise.
 * On success *db_r is the connection (close it with vfs_close_store or
 * sqlite3_close); on failure *db_r is NULL and err (errlen bytes, may be
 * NULL) says why. */
vfs_result vfs_open_store(const char *path, const char *store_id, const keys_secret *store_key,
                          sqlite3 **db_r, char *err, size_t errlen);

/* Closes *db (sqlite3_close_v2) and sets it NULL; NULL is a no-op. */
void vfs_close_store(sqlite3 **db);

/* VACUUM INTO a new file at path, encrypted under the same key and store
 * id as db (a connection from vfs_open_store): open it with the same
 * store_id and key. Fails (VFS_ERR_IO) when path exists. */
vfs_result vfs_vacuum_into(sqlite3 *db, const char *path, char *err, size_t errlen);

#endif
