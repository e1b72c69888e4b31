/* lib/store: mailboxes (RFC 9051 6.3), special use (RFC 6154). */
#include "store_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

/* Children of ?1 are the names in ('?1/', '?10'): '0' follows '/' in ASCII. */
#define MBX_CHILD_OF(col, p) "(" col " > " p " || '/' AND " col " < " p " || '0')"

/* clang-format off */
#define MBX_COLUMNS                                                                       \
    "m.id, m.name, m.uidvalidity, m.uidnext, m.highestmodseq, m.special_use, m.noselect, " \
    "EXISTS (SELECT 1 FROM mailboxes c WHERE " MBX_CHILD_OF("c.name", "m.name") "), "       \
    "EXISTS (SELECT 1 FROM subscriptions s WHERE s.name = m.name) "
/* clang-format on */

static const struct {
    const char *name;
    unsigned use;
} mbx_defaults[] = {
    {"Sent", STORE_USE_SENT}, {"Drafts", STORE_USE_DRAFTS},   {"Trash", STORE_USE_TRASH},
    {"Junk", STORE_USE_JUNK}, {"Archive", STORE_USE_ARCHIVE},
};

/* ---- Names ------------------------------------------------------------------ */

/* Length of the UTF-8 sequence at s (0 if malformed, overlong or a surrogate). */
static size_t mbx_utf8_len(const unsigned char *s)
{
    if (s[0] < 0x80)
        return 1;
    size_t n = s[0] >= 0xf0 && s[0] <= 0xf4 ? 4 : s[0] >= 0xe0 ? 3 : s[0] >= 0xc2 ? 2 : 0;
    if (n == 0 || (s[0] >= 0xf0 && n != 4))
        return 0;
    for (size_t i = 1; i < n; i++)
        if ((s[i] & 0xc0) != 0x80)
            return 0;
    if (n == 3 && ((s[0] == 0xe0 && s[1] < 0xa0) || (s[0] == 0xed && s[1] >= 0xa0)))
        return 0;
    if (n == 4 && ((s[0] == 0xf0 && s[1] < 0x90) || (s[0] == 0xf4 && s[1] >= 0x90)))
        return 0;
    return n;
}

int store_name_normalize(const char *name, char out[STORE_NAME_MAX + 1])
{
    size_t len = name ? strnlen(name, STORE_NAME_MAX + 1) : 0;
    if (len == 0 || len > STORE_NAME_MAX || name[0] == '/' || name[len - 1] == '/')
        return STORE_ERR_INVALID;
    int depth = 1;
    for (size_t i = 0; i < len;) {
        unsigned char c = (unsigned char)name[i];
        if (c < 0x20 || c == 0x7f || c == '*' || c == '%')
            return STORE_ERR_INVALID;
        if (c == '/' && (name[i + 1] == '/' || ++depth > STORE_NAME_DEPTH_MAX))
            return STORE_ERR_INVALID;
        size_t n = mbx_utf8_len((const unsigned char *)name + i);
        if (n == 0 || i + n > len)
            return STORE_ERR_INVALID;
        i += n;
    }
    memcpy(out, name, len + 1);
    /* RFC 9051 5.1: INBOX is case-insensitive, also as a superior name. */
    if (strncasecmp(out, "INBOX", 5) == 0 && (out[5] == '\0' || out[5] == '/'))
        memcpy(out, "INBOX", 5);
    return STORE_OK;
}

/* ---- Rows ------------------------------------------------------------------- */

static void mbx_from_row(sqlite3_stmt *st, store_mailbox *mb)
{
    memset(mb, 0, sizeof(*mb));
    mb->id = sqlite3_column_int64(st, 0);
    const char *name = (const char *)sqlite3_column_text(st, 1);
    snprintf(mb->name, sizeof(mb->name), "%s", name ? name : "");
    mb->uidvalidity = (uint32_t)sqlite3_column_int64(st, 2);
    mb->uidnext = (uint64_t)sqlite3_column_int64(st, 3);
    mb->highestmodseq = (uint64_t)sqlite3_column_int64(st, 4);
    mb->special_use = (unsigned)sqlite3_column_int(st, 5);
    mb->attrs = (sqlite3_column_int(st, 6) ? STORE_MBX_NOSELECT : 0) |
                (sqlite3_column_int(st, 7) ? STORE_MBX_HASCHILDREN : 0) |
                (sqlite3_column_int(st, 8) ? STORE_MBX_SUBSCRIBED : 0);
}

/* Reads the mailbox row of an already normalised name. */
static int mbx_get_norm(sqlite3 *db, const char *norm, store_mailbox *mb_r)
{
    sqlite3_stmt *st = store_prepare(db, "SELECT " MBX_COLUMNS "FROM mailboxes m WHERE m.name = ?");
    if (st == NULL)
        return STORE_ERR_DB;
    sqlite3_bind_text(st, 1, norm, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        mbx_from_row(st, mb_r);
    sqlite3_finalize(st);
    return rc == SQLITE_ROW    ? STORE_OK
           : rc == SQLITE_DONE ? STORE_ERR_NOMAILBOX
                               : store_rc_sqlite(rc);
}

int store_mailbox_get(sqlite3 *db, const char *name, store_mailbox *mb_r)
{
    char norm[STORE_NAME_MAX + 1];
    int rc = store_name_normalize(name, norm);
    return rc != STORE_OK ? rc : mbx_get_norm(db, norm, mb_r);
}

int store_mailbox_get_by_id(sqlite3 *db, int64_t id, store_mailbox *mb_r)
{
    sqlite3_stmt *st = store_prepare(db, "SELECT " MBX_COLUMNS "FROM mailboxes m WHERE m.id = ?");
    if (st == NULL)
        return STORE_ERR_DB;
    sqlite3_bind_int64(st, 1, id);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        mbx_from_row(st, mb_r);
    sqlite3_finalize(st);
    return rc == SQLITE_ROW    ? STORE_OK
           : rc == SQLITE_DONE ? STORE_ERR_NOMAILBOX
                               : store_rc_sqlite(rc);
}

int store_mailbox_lookup(sqlite3 *db, const char *name, int64_t *id_r)
{
    store_mailbox mb = {0};
    int rc = store_mailbox_get(db, name, &mb);
    if (rc != STORE_OK)
        return rc;
    if (mb.attrs & STORE_MBX_NOSELECT)
        return STORE_ERR_NOSELECT;
    *id_r = mb.id;
    return STORE_OK;
}

int store_mailbox_check_id(sqlite3 *db, int64_t id)
{
    store_mailbox mb = {0};
    int rc = store_mailbox_get_by_id(db, id, &mb);
    if (rc == STORE_OK && (mb.attrs & STORE_MBX_NOSELECT))
        rc = STORE_ERR_NOSELECT;
    return rc;
}

int store_mailbox_touch(sqlite3 *db, int64_t mailbox_id, uint64_t modseq)
{
    sqlite3_stmt *st = store_prepare(
        db, "UPDATE mailboxes SET highestmodseq = max(highestmodseq, ?) WHERE id = ?");
    if (st == NULL)
        return STORE_ERR_DB;
    sqlite3_bind_int64(st, 1, (int64_t)modseq);
    sqlite3_bind_int64(st, 2, mailbox_id);
    return store_step_done(st);
}

int store_uid_next(sqlite3 *db, int64_t mailbox_id, uint32_t *uid_r)
{
    sqlite3_stmt *st = store_prepare(db, "UPDATE mailboxes SET uidnext = uidnext + 1 "
                                         "WHERE id = ? AND uidnext <= 4294967295 "
                                         "RETURNING uidnext - 1");
    if (st == NULL)
        return STORE_ERR_DB;
    sqlite3_bind_int64(st, 1, mailbox_id);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        *uid_r = (uint32_t)sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return rc == SQLITE_ROW ? STORE_OK : rc == SQLITE_DONE ? STORE_ERR_UIDS : store_rc_sqlite(rc);
}

/* ---- Create ----------------------------------------------------------------- */

/* A random non-zero 32-bit UIDVALIDITY. Random rather than time based: a
 * mailbox deleted and created again within a second still gets a new one. */
static uint32_t mbx_uidvalidity(void)
{
    uint32_t v = 0;
    while (v == 0)
        sqlite3_randomness(sizeof(v), &v);
    return v;
}

static int mbx_count_ok(sqlite3 *db)
{
    sqlite3_stmt *st = store_prepare(db, "SELECT count(*) FROM mailboxes");
    if (st == NULL)
        return STORE_ERR_DB;
    int rc = sqlite3_step(st);
    int n = rc == SQLITE_ROW ? sqlite3_column_int(st, 0) : 0;
    sqlite3_finalize(st);
    if (rc != SQLITE_ROW)
        return store_rc_sqlite(rc);
    return n >= STORE_MAILBOXES_MAX ? STORE_ERR_LIMIT : STORE_OK;
}

/* Inserts a mailbox, or makes a \Noselect one selectable (new UIDVALIDITY,
 * RFC 9051 6.3.4). exists_ok: an existing selectable one is success. */
static int mbx_insert(sqlite3 *db, const char *norm, unsigned use, bool exists_ok)
{
    store_mailbox mb = {0};
    int rc = mbx_get_norm(db, norm, &mb);
    if (rc == STORE_OK && !(mb.attrs & STORE_MBX_NOSELECT))
        return exists_ok ? STORE_OK : STORE_ERR_EXISTS;
    if (rc != STORE_OK && rc != STORE_ERR_NOMAILBOX)
        return rc;
    if (rc == STORE_ERR_NOMAILBOX && (rc = mbx_count_ok(db)) != STORE_OK)
        return rc;
    uint64_t modseq = 0;
    if ((rc = store_modseq_next(db, &modseq)) != STORE_OK)
        return rc;
    sqlite3_stmt *st = store_prepare(
        db, "INSERT INTO mailboxes (name, uidvalidity, highestmodseq, special_use, created_at) "
            "VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (name) DO UPDATE SET "
            "uidvalidity = ?2, highestmodseq = ?3, special_use = ?4, noselect = 0");
    if (st == NULL)
        return STORE_ERR_DB;
    sqlite3_bind_text(st, 1, norm, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, mbx_uidvalidity());
    sqlite3_bind_int64(st, 3, (int64_t)modseq);
    sqlite3_bind_int(st, 4, (int)(use & STORE_USE_ALL_BITS));
    sqlite3_bind_int64(st, 5, (int64_t)time(NULL));
    return store_step_done(st);
}

/* Creates every missing superior of norm (RFC 9051 6.3.4 SHOULD). */
static int mbx_create_superiors(sqlite3 *db, const char *norm)
{
    char prefix[STORE_NAME_MAX + 1];
    for (const char *p = strchr(norm, '/'); p != NULL; p = strchr(p + 1, '/')) {
        memcpy(prefix, norm, (size_t)(p - norm));
        prefix[p - norm] = '\0';
        store_mailbox mb = {0};
        int rc = mbx_get_norm(db, prefix, &mb);
        if (rc == STORE_ERR_NOMAILBOX)
            rc = mbx_insert(db, prefix, 0, true);
        if (rc != STORE_OK)
            return rc;
    }
    return STORE_OK;
}

int store_mailbox_create(sqlite3 *db, const char *name, unsigned special_use)
{
    char norm[STORE_NAME_MAX + 1];
    int rc = store_name_normalize(name, norm);
    if (rc != STORE_OK)
        return rc;
    if (special_use & ~STORE_USE_ALL_BITS)
        return STORE_ERR_INVALID;
    store_tx tx;
    if ((rc = store_tx_begin(db, &tx)) != STORE_OK)
        return rc;
    rc = mbx_create_superiors(db, norm);
    if (rc == STORE_OK)
        rc = mbx_insert(db, norm, special_use, false);
    return store_tx_end(db, &tx, rc);
}

static int mbx_defaults_done(sqlite3 *db, int *done_r)
{
    sqlite3_stmt *st = store_prepare(db, "SELECT defaults_done FROM store_meta WHERE id = 1");
    if (st == NULL)
        return STORE_ERR_DB;
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        *done_r = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    return rc == SQLITE_ROW ? STORE_OK : STORE_ERR_DB;
}

static int mbx_create_defaults(sqlite3 *db)
{
    int rc = store_subscribe_norm(db, "INBOX");
    for (size_t i = 0; rc == STORE_OK && i < sizeof(mbx_defaults) / sizeof(mbx_defaults[0]); i++) {
        rc = mbx_insert(db, mbx_defaults[i].name, mbx_defaults[i].use, true);
        if (rc == STORE_OK)
            rc = store_subscribe_norm(db, mbx_defaults[i].name);
    }
    if (rc == STORE_OK)
        rc = store_step_done(
            store_prepare(db, "UPDATE store_meta SET defaults_done = 1 WHERE id = 1"));
    return rc;
}

int store_ensure_defaults(sqlite3 *db)
{
    store_mailbox mb = {0};
    int done = 0;
    /* Cheap path on every open: nothing to write. */
    if (mbx_get_norm(db, "INBOX", &mb) == STORE_OK && mbx_defaults_done(db, &done) == STORE_OK &&
        done)
        return STORE_OK;
    store_tx tx;
    int rc = store_tx_begin(db, &tx);
    if (rc != STORE_OK)
        return rc;
    rc = mbx_insert(db, "INBOX", 0, true);
    if (rc == STORE_OK)
        rc = mbx_defaults_done(db, &done);
    if (rc == STORE_OK && !done)
        rc = mbx_create_defaults(db);
    return store_tx_end(db, &tx, rc);
}

/* ---- Delete and rename -------------------------------------------------------- */

/* Removes a mailbox's messages and the per-mailbox rows that go with them. */
static int mbx_clear(sqlite3 *db, int64_t id)
{
    static const char *const sql[] = {
        "DELETE FROM messages WHERE mailbox_id = ?",
        "DELETE FROM expunged WHERE mailbox_id = ?",
        "DELETE FROM mailbox_keywords WHERE mailbox_id = ?",
    };
    int rc = STORE_OK;
    for (size_t i = 0; rc == STORE_OK && i < sizeof(sql) / sizeof(sql[0]); i++) {
        sqlite3_stmt *st = store_prepare(db, sql[i]);
        if (st != NULL)
            sqlite3_bind_int64(st, 1, id);
        rc = store_step_done(st);
    }
    return rc;
}

static int mbx_exec_id(sqlite3 *db, const char *sql, int64_t id)
{
    sqlite3_stmt *st = store_prepare(db, sql);
    if (st != NULL)
        sqlite3_bind_int64(st, 1, id);
    return store_step_done(st);
}

static int mbx_delete_norm(sqlite3 *db, const char *norm)
{
    store_mailbox mb = {0};
    int rc = mbx_get_norm(db, norm, &mb);
    if (rc != STORE_OK)
        return rc;
    if (mb.attrs & STORE_MBX_HASCHILDREN) {
        /* RFC 9051 6.3.5: keep the name as \Noselect for its inferiors. */
        if (mb.attrs & STORE_MBX_NOSELECT)
            return STORE_ERR_HASCHILDREN;
        if ((rc = mbx_clear(db, mb.id)) != STORE_OK)
            return rc;
        return mbx_exec_id(db, "UPDATE mailboxes SET noselect = 1, special_use = 0 WHERE id = ?",
                           mb.id);
    }
    if ((rc = mbx_clear(db, mb.id)) != STORE_OK)
        return rc;
    return mbx_exec_id(db, "DELETE FROM mailboxes WHERE id = ?", mb.id);
}

int store_mailbox_delete(sqlite3 *db, const char *name)
{
    char norm[STORE_NAME_MAX + 1];
    int rc = store_name_normalize(name, norm);
    if (rc != STORE_OK)
        return rc;
    if (strcmp(norm, "INBOX") == 0)
        return STORE_ERR_INBOX;
    store_tx tx;
    if ((rc = store_tx_begin(db, &tx)) != STORE_OK)
        return rc;
    return store_tx_end(db, &tx, mbx_delete_norm(db, norm));
}

/* STORE_ERR_EXISTS when from or one of its inferiors would land on an
 * existing name. */
static int mbx_rename_conflict(sqlite3 *db, const char *from, const char *to)
{
    sqlite3_stmt *st = store_prepare(
        db, "SELECT 1 FROM mailboxes m WHERE (m.name = ?1 OR " MBX_CHILD_OF(
                "m.name", "?1") ") "
                                "AND EXISTS (SELECT 1 FROM mailboxes t "
                                "WHERE t.name = ?2 || substr(m.name, length(?1) + 1)) LIMIT 1");
    if (st == NULL)
        return STORE_ERR_DB;
    sqlite3_bind_text(st, 1, from, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, to, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    return rc == SQLITE_ROW ? STORE_ERR_EXISTS : rc == SQLITE_DONE ? STORE_OK : store_rc_sqlite(rc);
}

/* Renames from and its inferiors (rows in table, "mailboxes" or
 * "subscriptions"; both have a unique name column). */
static int mbx_rename_rows(sqlite3 *db, const char *sql, const char *from, const char *to)
{
    sqlite3_stmt *st = store_prepare(db, sql);
    if (st == NULL)
        return STORE_ERR_DB;
    sqlite3_bind_text(st, 1, from, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, to, -1, SQLITE_STATIC);
    return store_step_done(st);
}

static int mbx_rename_norm(sqlite3 *db, const char *from, const char *to)
{
    store_mailbox mb = {0};
    int rc = mbx_get_norm(db, from, &mb);
    if (rc != STORE_OK)
        return rc;
    bool inbox = strcmp(from, "INBOX") == 0;
    if (inbox) {
        /* RFC 9051 6.3.6: INBOX's messages move to the new name, INBOX stays
         * (empty) and its inferiors are not renamed. */
        if ((rc = mbx_get_norm(db, to, &(store_mailbox){0})) != STORE_ERR_NOMAILBOX)
            return rc == STORE_OK ? STORE_ERR_EXISTS : rc;
        rc = mbx_rename_rows(db, "UPDATE mailboxes SET name = ?2 WHERE name = ?1", from, to);
    } else {
        if ((rc = mbx_rename_conflict(db, from, to)) != STORE_OK)
            return rc;
        rc = mbx_rename_rows(db,
                             "UPDATE mailboxes SET name = ?2 || substr(name, length(?1) + 1) "
                             "WHERE name = ?1 OR " MBX_CHILD_OF("name", "?1"),
                             from, to);
        if (rc == STORE_OK)
            rc = mbx_rename_rows(db,
                                 "UPDATE OR REPLACE subscriptions "
                                 "SET name = ?2 || substr(name, length(?1) + 1) "
                                 "WHERE name = ?1 OR " MBX_CHILD_OF("name", "?1"),
                                 from, to);
    }
    /* A new INBOX first: "INBOX/old" needs it as its superior. */
    if (rc == STORE_OK && inbox)
        rc = mbx_insert(db, "INBOX", 0, false);
    if (rc == STORE_OK)
        rc = mbx_create_superiors(db, to);
    return rc;
}

int store_mailbox_rename(sqlite3 *db, const char *from, const char *to)
{
    char f[STORE_NAME_MAX + 1], t[STORE_NAME_MAX + 1];
    int rc = store_name_normalize(from, f);
    if (rc == STORE_OK)
        rc = store_name_normalize(to, t);
    if (rc != STORE_OK)
        return rc;
    size_t flen = strlen(f);
    if (strcmp(f, t) == 0)
        return STORE_ERR_EXISTS;
    if (strncmp(t, f, flen) == 0 && t[flen] == '/' && strcmp(f, "INBOX") != 0)
        return STORE_ERR_INVALID; /* into its own inferior */
    if (strcmp(t, "INBOX") == 0)
        return STORE_ERR_EXISTS; /* INBOX always exists */
    store_tx tx;
    if ((rc = store_tx_begin(db, &tx)) != STORE_OK)
        return rc;
    return store_tx_end(db, &tx, mbx_rename_norm(db, f, t));
}

/* ---- Status, list, keywords ----------------------------------------------------- */

int store_mailbox_status(sqlite3 *db, int64_t id, store_status *st_r)
{
    int rc = store_mailbox_check_id(db, id);
    if (rc != STORE_OK)
        return rc;
    sqlite3_stmt *st = store_prepare(
        db, "SELECT count(*), total((flags & 1) = 0), total((flags & 8) != 0), total(size) "
            "FROM messages WHERE mailbox_id = ?");
    if (st == NULL)
        return STORE_ERR_DB;
    sqlite3_bind_int64(st, 1, id);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        st_r->messages = (uint32_t)sqlite3_column_int64(st, 0);
        st_r->unseen = (uint32_t)sqlite3_column_int64(st, 1);
        st_r->deleted = (uint32_t)sqlite3_column_int64(st, 2);
        st_r->size = (uint64_t)sqlite3_column_int64(st, 3);
    }
    sqlite3_finalize(st);
    return rc == SQLITE_ROW ? STORE_OK : store_rc_sqlite(rc);
}

int store_mailbox_list(sqlite3 *db, store_mailbox **list_r, size_t *n_r)
{
    *list_r = NULL;
    *n_r = 0;
    sqlite3_stmt *st = store_prepare(db, "SELECT " MBX_COLUMNS "FROM mailboxes m ORDER BY m.name");
    if (st == NULL)
        return STORE_ERR_DB;
    store_mailbox *list = NULL;
    size_t n = 0, cap = 0;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (n == cap) {
            cap = cap ? cap * 2 : 16;
            store_mailbox *p = realloc(list, cap * sizeof(*p));
            if (p == NULL) {
                rc = SQLITE_NOMEM;
                break;
            }
            list = p;
        }
        mbx_from_row(st, &list[n++]);
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) {
        free(list);
        return store_rc_sqlite(rc);
    }
    *list_r = list;
    *n_r = n;
    return STORE_OK;
}

static char *mbx_strdup(const unsigned char *s)
{
    return strdup(s ? (const char *)s : "");
}

int store_mailbox_keywords(sqlite3 *db, int64_t id, char **keywords_r)
{
    *keywords_r = NULL;
    sqlite3_stmt *st =
        store_prepare(db, "SELECT group_concat(name, ' ') FROM "
                          "(SELECT name FROM mailbox_keywords WHERE mailbox_id = ? ORDER BY name)");
    if (st == NULL)
        return STORE_ERR_DB;
    sqlite3_bind_int64(st, 1, id);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW && (*keywords_r = mbx_strdup(sqlite3_column_text(st, 0))) == NULL)
        rc = SQLITE_NOMEM;
    sqlite3_finalize(st);
    return rc == SQLITE_ROW ? STORE_OK : store_rc_sqlite(rc);
}

int store_keywords_register(sqlite3 *db, int64_t mailbox_id, const char *list)
{
    sqlite3_stmt *st = store_prepare(
        db, "INSERT OR IGNORE INTO mailbox_keywords (mailbox_id, name) VALUES (?, ?)");
    if (st == NULL)
        return STORE_ERR_DB;
    int rc = STORE_OK;
    for (const char *p = list; rc == STORE_OK && *p != '\0';) {
        size_t n = strcspn(p, " ");
        sqlite3_bind_int64(st, 1, mailbox_id);
        sqlite3_bind_text(st, 2, p, (int)n, SQLITE_STATIC);
        int src = sqlite3_step(st);
        rc = src == SQLITE_DONE ? STORE_OK : store_rc_sqlite(src);
        sqlite3_reset(st);
        p += n;
        p += *p == ' ';
    }
    sqlite3_finalize(st);
    return rc;
}
