/* lib/store: SEARCH (RFC 9051 6.4.4) compiled to one SQL statement with
 * bound values; never a value spliced into the SQL text. SORT and THREAD
 * filter their messages with the same compiler (store_search_prepare). */
#include "store_int.h"

#include "buf.h"

#include <stdlib.h>
#include <string.h>

#define SEARCH_SQL_MAX (64u << 10) /* bytes of the compiled statement */
#define SEARCH_DAY 86400
/* Bytes of one FTS5 query made from a search string: each byte at most
 * doubles ('"' is escaped) and each word adds `"` + `"* + ` around it. */
#define SEARCH_FTS_MAX (8u * STORE_SEARCH_STR_MAX + 64)

typedef struct {
    bool text;
    int64_t num;
    const char *str;
} search_param;

typedef struct {
    buf sql;
    search_param params[STORE_SEARCH_PARAMS_MAX];
    size_t nparams, nodes;
    char *owned[STORE_SEARCH_NODES_MAX]; /* FTS5 queries the params point to */
    size_t nowned;
    int rc;
} search_ctx;

static void search_num(search_ctx *c, int64_t v)
{
    if (c->nparams >= STORE_SEARCH_PARAMS_MAX) {
        c->rc = STORE_ERR_LIMIT;
        return;
    }
    c->params[c->nparams++] = (search_param){.num = v};
}

/* Binds text the library made (no STORE_SEARCH_STR_MAX check). */
static void search_text(search_ctx *c, const char *s)
{
    if (c->nparams >= STORE_SEARCH_PARAMS_MAX) {
        c->rc = STORE_ERR_LIMIT;
        return;
    }
    c->params[c->nparams++] = (search_param){.text = true, .str = s};
}

/* Binds a caller's search string. */
static void search_str(search_ctx *c, const char *s)
{
    if (s == NULL || strnlen(s, STORE_SEARCH_STR_MAX + 1) > STORE_SEARCH_STR_MAX) {
        c->rc = s == NULL ? STORE_ERR_INVALID : STORE_ERR_LIMIT;
        return;
    }
    search_text(c, s);
}

static void search_out(search_ctx *c, const char *sql)
{
    if (buf_append_str(&c->sql, sql) != 0)
        c->rc = STORE_ERR_LIMIT;
}

/* ---- Full text (FTS5) ------------------------------------------------------ */

static bool search_is_space(char ch)
{
    return ch == ' ' || ch == '\t' || ch == '\r' || ch == '\n' || ch == '\f' || ch == '\v';
}

/* Whether s may hold a token for the unicode61 tokenizer: an ASCII letter
 * or digit, or any non-ASCII character. A string without one becomes an
 * empty FTS5 phrase, which matches nothing, where IMAP's substring match of
 * "" or "@" matches; such strings take the raw substring match. */
static bool search_has_word(const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++)
        if (*p >= 0x80 || (*p >= '0' && *p <= '9') || ((*p | 0x20) >= 'a' && (*p | 0x20) <= 'z'))
            return true;
    return false;
}

/* The FTS5 query for an IMAP search string: each white-space separated word
 * as a quoted string ('"' doubled, so nothing in it is FTS5 syntax) with a
 * prefix '*', joined with '+' into one phrase (the words adjacent and in
 * order, as in a substring); BODY restricted to the body column. The
 * tokenizer splits a word further at punctuation ("a@b"* is "a" + "b"*). */
static int search_fts_query(const char *s, bool body_only, char **query_r)
{
    buf q;
    buf_init(&q, SEARCH_FTS_MAX);
    buf_append_str(&q, body_only ? "{body} : (" : "(");
    bool first = true;
    for (const char *p = s; *p != '\0';) {
        if (search_is_space(*p)) {
            p++;
            continue;
        }
        buf_append_str(&q, first ? "\"" : " + \"");
        first = false;
        for (; *p != '\0' && !search_is_space(*p); p++) {
            if (*p == '"')
                buf_append_char(&q, '"'); /* FTS5: "" inside a string is one " */
            buf_append_char(&q, *p);
        }
        buf_append_str(&q, "\"*");
    }
    buf_append_str(&q, ")");
    if (q.failed) {
        buf_free(&q);
        return STORE_ERR_NOMEM; /* the cap cannot be reached from STORE_SEARCH_STR_MAX */
    }
    *query_r = buf_steal(&q);
    return STORE_OK;
}

/* BODY / TEXT: the FTS5 index for a message stored with index text, the
 * raw substring match for the others (and for a string without a word). */
static void search_fulltext(search_ctx *c, const store_search *k)
{
    if (k->str == NULL || strnlen(k->str, STORE_SEARCH_STR_MAX + 1) > STORE_SEARCH_STR_MAX) {
        search_str(c, k->str); /* sets the error */
        return;
    }
    const char *raw =
        k->kind == STORE_SK_BODY
            ? "CAST(substr((SELECT r.raw FROM body_raw r WHERE r.body_id = b.id), "
              "b.header_len + 1) AS TEXT)"
            : "CAST((SELECT r.raw FROM body_raw r WHERE r.body_id = b.id) AS TEXT)";
    if (!search_has_word(k->str)) {
        search_out(c, "(instr(lower(coalesce(");
        search_out(c, raw);
        search_out(c, ", '')), lower(?)) > 0)");
        search_str(c, k->str);
        return;
    }
    char *query = NULL;
    int rc = search_fts_query(k->str, k->kind == STORE_SK_BODY, &query);
    if (rc != STORE_OK) {
        c->rc = rc;
        return;
    }
    c->owned[c->nowned++] = query; /* at most one per node */
    /* Whether a body is indexed is asked of FTS5's own docsize table (one
     * small row per indexed rowid, many to a page) rather than of
     * body_index, whose rows hold the whole text: one page read (and, in the
     * encrypted store, decrypted) per message and search otherwise. */
    search_out(c, "(CASE WHEN EXISTS (SELECT 1 FROM body_fts_docsize d WHERE d.id = b.id) "
                  "THEN b.id IN (SELECT rowid FROM body_fts WHERE body_fts MATCH ?) "
                  "ELSE instr(lower(coalesce(");
    search_out(c, raw);
    search_out(c, ", '')), lower(?)) > 0 END)");
    search_text(c, query);
    search_str(c, k->str);
}

/* A HEADER field name: 1*ftext (RFC 5322 3.6.8: printable ASCII but ':'). */
static int search_field_name_check(const char *name)
{
    if (name == NULL)
        return STORE_ERR_INVALID;
    size_t n = strnlen(name, STORE_SEARCH_FIELD_MAX + 1);
    if (n > STORE_SEARCH_FIELD_MAX)
        return STORE_ERR_LIMIT;
    if (n == 0)
        return STORE_ERR_INVALID;
    for (size_t i = 0; i < n; i++)
        if (name[i] < 33 || name[i] > 126 || name[i] == ':')
            return STORE_ERR_INVALID;
    return STORE_OK;
}

/* HEADER and BCC: om_header_match() (search_header.c) reads the header. */
static void search_header(search_ctx *c, const store_search *k)
{
    const char *name = k->kind == STORE_SK_BCC ? "Bcc" : k->name;
    int rc = search_field_name_check(name);
    if (rc != STORE_OK) {
        c->rc = rc;
        return;
    }
    search_out(c, "(om_header_match(b.id, b.header_len, ?, ?) = 1)");
    search_text(c, name);
    search_str(c, k->str);
}

/* The column a substring key looks in. */
static const char *search_column(store_search_kind k)
{
    switch (k) {
    case STORE_SK_FROM:
        return "b.hdr_from";
    case STORE_SK_TO:
        return "b.hdr_to";
    case STORE_SK_CC:
        return "b.hdr_cc";
    default:
        return "b.hdr_subject";
    }
}

static void search_uids(search_ctx *c, const store_uidset *set)
{
    if (set->n > 0 && set->ranges == NULL) {
        c->rc = STORE_ERR_INVALID;
        return;
    }
    search_out(c, "(0");
    for (size_t i = 0; c->rc == STORE_OK && i < set->n; i++) {
        search_out(c, " OR m.uid BETWEEN ? AND ?");
        search_num(c, set->ranges[i].first);
        search_num(c, set->ranges[i].last);
    }
    search_out(c, ")");
}

static void search_date(search_ctx *c, store_search_kind k, int64_t day)
{
    bool sent = k >= STORE_SK_SENTBEFORE;
    const char *col = sent ? "coalesce(b.sent_date, m.internal_date)" : "m.internal_date";
    search_out(c, "(");
    search_out(c, col);
    if (k == STORE_SK_BEFORE || k == STORE_SK_SENTBEFORE) {
        search_out(c, " < ?)");
        search_num(c, day);
    } else if (k == STORE_SK_SINCE || k == STORE_SK_SENTSINCE) {
        search_out(c, " >= ?)");
        search_num(c, day);
    } else {
        search_out(c, " >= ? AND ");
        search_out(c, col);
        search_out(c, " < ?)");
        search_num(c, day);
        search_num(c, day > INT64_MAX - SEARCH_DAY ? INT64_MAX : day + SEARCH_DAY);
    }
}

static void search_node(search_ctx *c, const store_search *k, int depth);

static void search_kids(search_ctx *c, const store_search *k, int depth)
{
    if (k->nkids > 0 && k->kids == NULL) {
        c->rc = STORE_ERR_INVALID;
        return;
    }
    if (k->kind == STORE_SK_NOT && k->nkids != 1) {
        c->rc = STORE_ERR_INVALID;
        return;
    }
    const char *op = k->kind == STORE_SK_OR ? " OR " : " AND ";
    search_out(c, k->kind == STORE_SK_NOT ? "(NOT " : k->kind == STORE_SK_OR ? "(0" : "(1");
    for (size_t i = 0; c->rc == STORE_OK && i < k->nkids; i++) {
        if (k->kind != STORE_SK_NOT)
            search_out(c, op);
        search_node(c, k->kids[i], depth + 1);
    }
    search_out(c, ")");
}

static void search_leaf(search_ctx *c, const store_search *k)
{
    switch (k->kind) {
    case STORE_SK_ALL:
        search_out(c, "1");
        break;
    case STORE_SK_UID:
        search_uids(c, &k->uids);
        break;
    case STORE_SK_FLAGS_SET:
        search_out(c, "((m.flags & ?) = ?)");
        search_num(c, k->mask);
        search_num(c, k->mask);
        break;
    case STORE_SK_FLAGS_CLEAR:
        search_out(c, "((m.flags & ?) = 0)");
        search_num(c, k->mask);
        break;
    case STORE_SK_KEYWORD:
    case STORE_SK_UNKEYWORD:
        /* Keywords are ASCII atoms: lower() folds them completely. */
        search_out(c, k->kind == STORE_SK_UNKEYWORD ? "(NOT " : "(");
        search_out(c, "instr(' ' || lower(m.keywords) || ' ', ' ' || lower(?) || ' ') > 0)");
        search_str(c, k->str);
        break;
    case STORE_SK_LARGER:
    case STORE_SK_SMALLER:
        search_out(c, k->kind == STORE_SK_LARGER ? "(m.size > ?)" : "(m.size < ?)");
        search_num(c, k->num);
        break;
    case STORE_SK_MODSEQ:
        search_out(c, "(m.modseq >= ?)");
        search_num(c, k->num);
        break;
    case STORE_SK_FROM:
    case STORE_SK_TO:
    case STORE_SK_CC:
    case STORE_SK_SUBJECT:
        search_out(c, "(instr(lower(coalesce(");
        search_out(c, search_column(k->kind));
        search_out(c, ", '')), lower(?)) > 0)");
        search_str(c, k->str);
        break;
    case STORE_SK_BODY:
    case STORE_SK_TEXT:
        search_fulltext(c, k);
        break;
    case STORE_SK_HEADER:
    case STORE_SK_BCC:
        search_header(c, k);
        break;
    default:
        if (k->kind >= STORE_SK_BEFORE && k->kind <= STORE_SK_SENTSINCE)
            search_date(c, k->kind, k->num);
        else
            c->rc = STORE_ERR_INVALID;
    }
}

static void search_node(search_ctx *c, const store_search *k, int depth)
{
    if (c->rc != STORE_OK)
        return;
    if (k == NULL) {
        c->rc = STORE_ERR_INVALID;
        return;
    }
    if (depth > STORE_SEARCH_DEPTH_MAX || ++c->nodes > STORE_SEARCH_NODES_MAX) {
        c->rc = STORE_ERR_LIMIT;
        return;
    }
    if (k->kind == STORE_SK_AND || k->kind == STORE_SK_OR || k->kind == STORE_SK_NOT)
        search_kids(c, k, depth);
    else
        search_leaf(c, k);
}

/* The values are bound SQLITE_TRANSIENT: the statement outlives c. */
static void search_bind(sqlite3_stmt *st, int64_t mailbox_id, const search_ctx *c)
{
    sqlite3_bind_int64(st, 1, mailbox_id);
    for (size_t i = 0; i < c->nparams; i++) {
        const search_param *p = &c->params[i];
        if (p->text)
            sqlite3_bind_text(st, (int)i + 2, p->str, -1, SQLITE_TRANSIENT);
        else
            sqlite3_bind_int64(st, (int)i + 2, p->num);
    }
}

int store_search_prepare(sqlite3 *db, int64_t mailbox_id, const char *head,
                         const store_search *filter, const char *tail, sqlite3_stmt **st_r)
{
    *st_r = NULL;
    search_ctx *c = calloc(1, sizeof(*c));
    if (c == NULL)
        return STORE_ERR_NOMEM;
    buf_init(&c->sql, SEARCH_SQL_MAX);
    search_out(c, head);
    search_out(c, " WHERE m.mailbox_id = ? AND ");
    if (filter != NULL)
        search_node(c, filter, 0);
    else
        search_out(c, "1");
    search_out(c, tail);
    int rc = c->rc;
    if (rc == STORE_OK)
        rc = store_mailbox_check_id(db, mailbox_id);
    if (rc == STORE_OK && (*st_r = store_prepare(db, c->sql.data)) == NULL)
        rc = store_rc_sqlite(sqlite3_errcode(db));
    if (rc == STORE_OK)
        search_bind(*st_r, mailbox_id, c);
    buf_free(&c->sql);
    for (size_t i = 0; i < c->nowned; i++)
        free(c->owned[i]);
    free(c);
    return rc;
}

int store_search_uids(sqlite3 *db, int64_t mailbox_id, const store_search *key, store_uids *uids_r)
{
    memset(uids_r, 0, sizeof(*uids_r));
    if (key == NULL)
        return STORE_ERR_INVALID;
    sqlite3_stmt *st = NULL;
    int rc = store_search_prepare(db, mailbox_id,
                                  "SELECT m.uid FROM messages m JOIN bodies b ON b.id = m.body_id",
                                  key, " ORDER BY m.uid", &st);
    if (rc == STORE_OK)
        rc = store_uids_collect(st, uids_r);
    sqlite3_finalize(st);
    if (rc != STORE_OK)
        store_uids_free(uids_r);
    return rc;
}
