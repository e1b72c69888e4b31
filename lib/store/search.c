/* lib/store: SEARCH (RFC 9051 6.4.4) compiled to one SQL statement with
 * bound values; never a value spliced into the SQL text. */
#include "store_int.h"

#include "buf.h"

#include <stdlib.h>
#include <string.h>

#define SEARCH_SQL_MAX (64u << 10) /* bytes of the compiled statement */
#define SEARCH_DAY 86400

typedef struct {
    bool text;
    int64_t num;
    const char *str;
} search_param;

typedef struct {
    buf sql;
    search_param params[STORE_SEARCH_PARAMS_MAX];
    size_t nparams, nodes;
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

static void search_str(search_ctx *c, const char *s)
{
    if (s == NULL || strnlen(s, STORE_SEARCH_STR_MAX + 1) > STORE_SEARCH_STR_MAX) {
        c->rc = s == NULL ? STORE_ERR_INVALID : STORE_ERR_LIMIT;
        return;
    }
    if (c->nparams >= STORE_SEARCH_PARAMS_MAX) {
        c->rc = STORE_ERR_LIMIT;
        return;
    }
    c->params[c->nparams++] = (search_param){.text = true, .str = s};
}

static void search_out(search_ctx *c, const char *sql)
{
    if (buf_append_str(&c->sql, sql) != 0)
        c->rc = STORE_ERR_LIMIT;
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
    case STORE_SK_SUBJECT:
        return "b.hdr_subject";
    case STORE_SK_BODY:
        return "CAST(substr(b.raw, b.header_len + 1) AS TEXT)";
    default:
        return "CAST(b.raw AS TEXT)";
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
    case STORE_SK_BODY:
    case STORE_SK_TEXT:
        search_out(c, "(instr(lower(coalesce(");
        search_out(c, search_column(k->kind));
        search_out(c, ", '')), lower(?)) > 0)");
        search_str(c, k->str);
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

static int search_run(sqlite3 *db, int64_t mailbox_id, search_ctx *c, store_uids *uids)
{
    sqlite3_stmt *st = store_prepare(db, c->sql.data);
    if (st == NULL)
        return store_rc_sqlite(sqlite3_errcode(db));
    sqlite3_bind_int64(st, 1, mailbox_id);
    for (size_t i = 0; i < c->nparams; i++) {
        const search_param *p = &c->params[i];
        if (p->text)
            sqlite3_bind_text(st, (int)i + 2, p->str, -1, SQLITE_STATIC);
        else
            sqlite3_bind_int64(st, (int)i + 2, p->num);
    }
    int rc = STORE_OK, src;
    while ((src = sqlite3_step(st)) == SQLITE_ROW && rc == STORE_OK)
        rc = store_uids_push(uids, (uint32_t)sqlite3_column_int64(st, 0));
    if (rc == STORE_OK && src != SQLITE_DONE)
        rc = store_rc_sqlite(src);
    sqlite3_finalize(st);
    return rc;
}

int store_search_uids(sqlite3 *db, int64_t mailbox_id, const store_search *key, store_uids *uids_r)
{
    memset(uids_r, 0, sizeof(*uids_r));
    search_ctx *c = calloc(1, sizeof(*c));
    if (c == NULL)
        return STORE_ERR_NOMEM;
    buf_init(&c->sql, SEARCH_SQL_MAX);
    search_out(c, "SELECT m.uid FROM messages m JOIN bodies b ON b.id = m.body_id "
                  "WHERE m.mailbox_id = ? AND ");
    search_node(c, key, 0);
    search_out(c, " ORDER BY m.uid");
    int rc = c->rc;
    if (rc == STORE_OK)
        rc = store_mailbox_check_id(db, mailbox_id);
    if (rc == STORE_OK)
        rc = search_run(db, mailbox_id, c, uids_r);
    buf_free(&c->sql);
    free(c);
    if (rc != STORE_OK)
        store_uids_free(uids_r);
    return rc;
}
