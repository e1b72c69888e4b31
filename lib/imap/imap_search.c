/* SEARCH keys, RETURN options and CHARSET (see imap_search.h). */
#include "imap_search.h"

#include <stdlib.h>
#include <string.h>

#include "imap_date.h"
#include "imap_flags.h"
#include "imap_int.h"

typedef enum {
    A_NONE,
    A_STRING,   /* astring */
    A_DATE,     /* date */
    A_NUMBER,   /* number64 */
    A_KEYWORD,  /* flag-keyword */
    A_HEADER,   /* header-fld-name SP astring */
    A_UIDSET,   /* sequence-set */
    A_NOT,      /* search-key */
    A_OR,       /* search-key SP search-key */
    A_MODSEQ,   /* [entry-name SP entry-type-req SP] mod-sequence-valzer */
    A_INTERVAL, /* nz-number (RFC 5032) */
    A_NEW,
    A_OLD,
} search_arg;

static const struct {
    const char *name;
    imap_search_kind kind;
    search_arg arg;
    unsigned mask;
} search_keys[] = {
    {"ALL", IMAP_SK_ALL, A_NONE, 0},
    {"ANSWERED", IMAP_SK_FLAGS_SET, A_NONE, IMAP_FLAG_ANSWERED},
    {"BCC", IMAP_SK_BCC, A_STRING, 0},
    {"BEFORE", IMAP_SK_BEFORE, A_DATE, 0},
    {"BODY", IMAP_SK_BODY, A_STRING, 0},
    {"CC", IMAP_SK_CC, A_STRING, 0},
    {"DELETED", IMAP_SK_FLAGS_SET, A_NONE, IMAP_FLAG_DELETED},
    {"DRAFT", IMAP_SK_FLAGS_SET, A_NONE, IMAP_FLAG_DRAFT},
    {"FLAGGED", IMAP_SK_FLAGS_SET, A_NONE, IMAP_FLAG_FLAGGED},
    {"FROM", IMAP_SK_FROM, A_STRING, 0},
    {"HEADER", IMAP_SK_HEADER, A_HEADER, 0},
    {"KEYWORD", IMAP_SK_KEYWORD, A_KEYWORD, 0},
    {"LARGER", IMAP_SK_LARGER, A_NUMBER, 0},
    {"MODSEQ", IMAP_SK_MODSEQ, A_MODSEQ, 0},
    {"NEW", IMAP_SK_AND, A_NEW, 0},
    {"NOT", IMAP_SK_NOT, A_NOT, 0},
    {"OLD", IMAP_SK_NOT, A_OLD, 0},
    {"OLDER", IMAP_SK_OLDER, A_INTERVAL, 0},
    {"ON", IMAP_SK_ON, A_DATE, 0},
    {"OR", IMAP_SK_OR, A_OR, 0},
    {"RECENT", IMAP_SK_RECENT, A_NONE, 0},
    {"SEEN", IMAP_SK_FLAGS_SET, A_NONE, IMAP_FLAG_SEEN},
    {"SENTBEFORE", IMAP_SK_SENTBEFORE, A_DATE, 0},
    {"SENTON", IMAP_SK_SENTON, A_DATE, 0},
    {"SENTSINCE", IMAP_SK_SENTSINCE, A_DATE, 0},
    {"SINCE", IMAP_SK_SINCE, A_DATE, 0},
    {"SMALLER", IMAP_SK_SMALLER, A_NUMBER, 0},
    {"SUBJECT", IMAP_SK_SUBJECT, A_STRING, 0},
    {"TEXT", IMAP_SK_TEXT, A_STRING, 0},
    {"TO", IMAP_SK_TO, A_STRING, 0},
    {"UID", IMAP_SK_UID, A_UIDSET, 0},
    {"UNANSWERED", IMAP_SK_FLAGS_CLEAR, A_NONE, IMAP_FLAG_ANSWERED},
    {"UNDELETED", IMAP_SK_FLAGS_CLEAR, A_NONE, IMAP_FLAG_DELETED},
    {"UNDRAFT", IMAP_SK_FLAGS_CLEAR, A_NONE, IMAP_FLAG_DRAFT},
    {"UNFLAGGED", IMAP_SK_FLAGS_CLEAR, A_NONE, IMAP_FLAG_FLAGGED},
    {"UNKEYWORD", IMAP_SK_UNKEYWORD, A_KEYWORD, 0},
    {"UNSEEN", IMAP_SK_FLAGS_CLEAR, A_NONE, IMAP_FLAG_SEEN},
    {"YOUNGER", IMAP_SK_YOUNGER, A_INTERVAL, 0},
};

static const char *const search_kind_names[] = {
    "ALL",       "AND",    "OR",   "NOT",    "UID",        "FLAGS_SET", "FLAGS_CLEAR", "KEYWORD",
    "UNKEYWORD", "BEFORE", "ON",   "SINCE",  "SENTBEFORE", "SENTON",    "SENTSINCE",   "LARGER",
    "SMALLER",   "MODSEQ", "FROM", "TO",     "CC",         "SUBJECT",   "BODY",        "TEXT",
    "HEADER",    "BCC",    "SEQ",  "RECENT", "OLDER",      "YOUNGER",
};

const char *imap_search_kind_name(imap_search_kind kind)
{
    if ((size_t)kind >= sizeof(search_kind_names) / sizeof(search_kind_names[0]))
        return "?";
    return search_kind_names[kind];
}

typedef struct search_ctx {
    imap_search *s;
    size_t cap;
    unsigned flags;
    imap_error *e;
} search_ctx;

static imap_search_key *search_node(search_ctx *c, imap_search_kind kind)
{
    if (c->s->nnodes >= c->cap) {
        imap_fail(c->e, IMAP_RESP_BAD, IMAP_CODE_LIMIT, "search too complex");
        return NULL;
    }
    imap_search_key *k = &c->s->nodes[c->s->nnodes++];
    memset(k, 0, sizeof(*k));
    k->kind = kind;
    k->set.star_lo = UINT32_MAX;
    return k;
}

/* Appends kid to parent's kids; the kids of an AND in an AND (an OR in an
 * OR) are taken over instead. */
static void search_add(imap_search_key *parent, imap_search_key *kid)
{
    imap_search_key **tail = &parent->kids;
    while (*tail != NULL)
        tail = &(*tail)->next;
    if (kid->kind == parent->kind && (kid->kind == IMAP_SK_AND || kid->kind == IMAP_SK_OR)) {
        *tail = kid->kids;
        parent->nkids += kid->nkids;
    } else {
        kid->next = NULL;
        *tail = kid;
        parent->nkids++;
    }
}

/* A search string: astring, UTF-8 (US-ASCII when so declared), no NUL. */
static int search_string(search_ctx *c, const imap_arg *a, const char **s_r, size_t *len_r)
{
    if (!imap_arg_astring(a, s_r, len_r))
        return IMAP_BAD(c->e, "expected a string");
    if (*len_r > IMAP_SEARCH_STR_MAX)
        return imap_fail(c->e, IMAP_RESP_BAD, IMAP_CODE_LIMIT, "search string too long");
    for (size_t i = 0; i < *len_r; i++) {
        unsigned char ch = (unsigned char)(*s_r)[i];
        if (ch == 0)
            return IMAP_BAD(c->e, "NUL in a search string");
        if (ch >= 0x80 && c->s->charset == IMAP_CHARSET_US_ASCII)
            return IMAP_BAD(c->e, "8-bit search string with CHARSET US-ASCII");
    }
    if (!imap_utf8_valid(*s_r, *len_r))
        return IMAP_BAD(c->e, "invalid UTF-8 in a search string");
    return 0;
}

/* header-fld-name as lib/store takes it: RFC 5322 ftext (%d33-57 /
 * %d59-126), 1..IMAP_SEARCH_FIELD_MAX octets. */
static bool search_field_valid(const char *s, size_t len)
{
    if (len == 0 || len > IMAP_SEARCH_FIELD_MAX)
        return false;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < 33 || s[i] > 126 || s[i] == ':')
            return false;
    }
    return true;
}

static int search_modseq(search_ctx *c, imap_search_key *k, const imap_arg *args, size_t n,
                         size_t *i)
{
    const char *s;
    size_t len;
    uint64_t v;
    /* entry-name = DQUOTE "/flags/" attr-flag DQUOTE (RFC 7162 7) */
    if (args[*i].type == IMAP_ARG_QUOTED || args[*i].type == IMAP_ARG_LITERAL) {
        imap_arg_string(&args[*i], &s, &len);
        if (len <= 7 || !imap_word_eq(s, 7, "/flags/") || !imap_utf8_valid(s, len))
            return IMAP_BAD(c->e, "invalid MODSEQ entry name");
        k->name = s;
        k->name_len = len;
        if (++*i >= n)
            return IMAP_BAD(c->e, "MODSEQ needs an entry type");
        const imap_arg *t = &args[(*i)++];
        if (imap_arg_atom_eq(t, "priv"))
            k->entry_type = IMAP_MODSEQ_ENTRY_PRIV;
        else if (imap_arg_atom_eq(t, "shared"))
            k->entry_type = IMAP_MODSEQ_ENTRY_SHARED;
        else if (imap_arg_atom_eq(t, "all"))
            k->entry_type = IMAP_MODSEQ_ENTRY_ALL;
        else
            return IMAP_BAD(c->e, "invalid MODSEQ entry type");
        if (*i >= n)
            return IMAP_BAD(c->e, "MODSEQ needs a mod-sequence");
    }
    if (!imap_arg_number64(&args[(*i)++], &v))
        return IMAP_BAD(c->e, "MODSEQ needs a mod-sequence");
    k->num = (int64_t)v;
    c->s->modseq = true;
    return 0;
}

static imap_search_key *search_key(search_ctx *c, const imap_arg *args, size_t n, size_t *i,
                                   unsigned depth);

/* args[0..n), ANDed; a single key is returned as it is. */
static imap_search_key *search_keys_and(search_ctx *c, const imap_arg *args, size_t n,
                                        unsigned depth)
{
    size_t i = 0;
    imap_search_key *first = search_key(c, args, n, &i, depth);
    if (first == NULL || i == n)
        return first;
    imap_search_key *and = search_node(c, IMAP_SK_AND);
    if (and == NULL)
        return NULL;
    search_add(and, first);
    while (i < n) {
        imap_search_key *k = search_key(c, args, n, &i, depth);
        if (k == NULL)
            return NULL;
        search_add(and, k);
    }
    return and;
}

static int search_seqset(search_ctx *c, const imap_arg *a, imap_seqset *set)
{
    unsigned f = (c->flags & IMAP_SEARCH_SEARCHRES) ? IMAP_SEQSET_ALLOW_SAVED : 0;
    if (a->type != IMAP_ARG_ATOM)
        return IMAP_BAD(c->e, "invalid sequence set");
    if (imap_seqset_parse(a->str, a->len, f, set, c->e) < 0)
        return -1;
    if (set->saved)
        c->s->saved = true;
    return 0;
}

static int search_operand(search_ctx *c, imap_search_key *k, search_arg arg, const imap_arg *args,
                          size_t n, size_t *i, unsigned depth)
{
    const imap_arg *a = &args[*i];
    const char *s;
    size_t len;
    uint64_t v;

    switch (arg) {
    case A_NONE:
        return 0;
    case A_STRING:
        (*i)++;
        return search_string(c, a, &k->str, &k->str_len);
    case A_DATE:
        (*i)++;
        if (!imap_arg_astring(a, &s, &len) || imap_date_parse(s, len, &k->num) < 0)
            return IMAP_BAD(c->e, "invalid date (d-Mon-yyyy)");
        return 0;
    case A_NUMBER:
        (*i)++;
        if (!imap_arg_number64(a, &v))
            return IMAP_BAD(c->e, "invalid number");
        k->num = (int64_t)v;
        return 0;
    case A_INTERVAL:
        (*i)++;
        if (a->type != IMAP_ARG_ATOM || !imap_parse_nz_number(a->str, a->len, IMAP_NUMBER_MAX, &v))
            return IMAP_BAD(c->e, "invalid interval");
        k->num = (int64_t)v;
        return 0;
    case A_KEYWORD:
        (*i)++;
        if ((a->type != IMAP_ARG_ATOM && a->type != IMAP_ARG_NIL) ||
            !imap_keyword_valid(a->str, a->len))
            return IMAP_BAD(c->e, "invalid keyword");
        k->str = a->str;
        k->str_len = a->len;
        return 0;
    case A_HEADER:
        (*i)++;
        if (!imap_arg_astring(a, &s, &len) || !search_field_valid(s, len))
            return IMAP_BAD(c->e, "invalid header field name");
        k->name = s;
        k->name_len = len;
        if (*i >= n)
            return IMAP_BAD(c->e, "HEADER needs a string");
        return search_string(c, &args[(*i)++], &k->str, &k->str_len);
    case A_UIDSET:
        (*i)++;
        return search_seqset(c, a, &k->set);
    case A_MODSEQ:
        return search_modseq(c, k, args, n, i);
    case A_NOT:
    case A_OR:
        for (int kids = arg == A_OR ? 2 : 1; kids > 0; kids--) {
            if (*i >= n)
                return IMAP_BAD(c->e, "missing search key");
            imap_search_key *kid = search_key(c, args, n, i, depth + 1);
            if (kid == NULL)
                return -1;
            search_add(k, kid);
        }
        return 0;
    case A_NEW:
    case A_OLD: {
        imap_search_key *recent = search_node(c, IMAP_SK_RECENT);
        if (recent == NULL)
            return -1;
        search_add(k, recent);
        if (arg == A_OLD)
            return 0;
        imap_search_key *unseen = search_node(c, IMAP_SK_FLAGS_CLEAR);
        if (unseen == NULL)
            return -1;
        unseen->mask = IMAP_FLAG_SEEN;
        search_add(k, unseen);
        return 0;
    }
    }
    return IMAP_BAD(c->e, "invalid search key");
}

static imap_search_key *search_key(search_ctx *c, const imap_arg *args, size_t n, size_t *i,
                                   unsigned depth)
{
    if (depth > IMAP_SEARCH_DEPTH_MAX) {
        imap_fail(c->e, IMAP_RESP_BAD, IMAP_CODE_LIMIT, "search nested too deeply");
        return NULL;
    }
    const imap_arg *a = &args[(*i)++];
    if (a->type == IMAP_ARG_LIST) {
        if (a->n == 0) {
            IMAP_BAD(c->e, "empty parenthesized search key");
            return NULL;
        }
        return search_keys_and(c, a->list, a->n, depth + 1);
    }
    if (a->type != IMAP_ARG_ATOM && a->type != IMAP_ARG_NIL) {
        IMAP_BAD(c->e, "invalid search key");
        return NULL;
    }
    if (a->len > 0 && (imap_is_digit(a->str[0]) || a->str[0] == '*' || a->str[0] == '$')) {
        imap_search_key *k = search_node(c, IMAP_SK_SEQ);
        if (k == NULL || search_seqset(c, a, &k->set) < 0)
            return NULL;
        return k;
    }
    for (size_t t = 0; t < sizeof(search_keys) / sizeof(search_keys[0]); t++) {
        if (!imap_word_eq(a->str, a->len, search_keys[t].name))
            continue;
        imap_search_key *k = search_node(c, search_keys[t].kind);
        if (k == NULL)
            return NULL;
        k->mask = search_keys[t].mask;
        if (search_keys[t].arg != A_NONE && search_keys[t].arg != A_NEW &&
            search_keys[t].arg != A_OLD && *i >= n) {
            IMAP_BAD(c->e, "missing argument of a search key");
            return NULL;
        }
        if (search_operand(c, k, search_keys[t].arg, args, n, i, depth) < 0)
            return NULL;
        return k;
    }
    IMAP_BAD(c->e, "unknown search key");
    return NULL;
}

static int search_return(search_ctx *c, const imap_arg *list)
{
    static const struct {
        const char *name;
        unsigned bit;
    } opts[] = {{"MIN", IMAP_SEARCH_RET_MIN},
                {"MAX", IMAP_SEARCH_RET_MAX},
                {"ALL", IMAP_SEARCH_RET_ALL},
                {"COUNT", IMAP_SEARCH_RET_COUNT},
                {"SAVE", IMAP_SEARCH_RET_SAVE}};
    if (list->type != IMAP_ARG_LIST)
        return IMAP_BAD(c->e, "RETURN needs a list of options");
    c->s->esearch = true;
    for (size_t i = 0; i < list->n; i++) {
        unsigned bit = 0;
        for (size_t k = 0; k < sizeof(opts) / sizeof(opts[0]) && bit == 0; k++) {
            if (imap_arg_atom_eq(&list->list[i], opts[k].name))
                bit = opts[k].bit;
        }
        if (bit == 0 || (bit == IMAP_SEARCH_RET_SAVE && !(c->flags & IMAP_SEARCH_SEARCHRES)))
            return IMAP_BAD(c->e, "unknown RETURN option");
        c->s->ret |= bit;
    }
    /* RFC 4731 3.1: "RETURN ()" is RETURN (ALL) */
    if (list->n == 0)
        c->s->ret = IMAP_SEARCH_RET_ALL;
    return 0;
}

static int search_charset(search_ctx *c, const imap_arg *a)
{
    const char *s;
    size_t len;
    if (!imap_arg_astring(a, &s, &len))
        return IMAP_BAD(c->e, "invalid charset");
    if (imap_word_eq(s, len, "UTF-8"))
        c->s->charset = IMAP_CHARSET_UTF8;
    else if (imap_word_eq(s, len, "US-ASCII"))
        c->s->charset = IMAP_CHARSET_US_ASCII;
    else
        return imap_fail(c->e, IMAP_RESP_NO, IMAP_CODE_BADCHARSET, "charset not supported");
    return 0;
}

/* Every node a search of these arguments can need: NEW takes three. */
static size_t search_count(const imap_arg *args, size_t n)
{
    size_t count = 1;
    for (size_t i = 0; i < n && count < IMAP_SEARCH_NODES_MAX; i++) {
        count += 3;
        if (args[i].type == IMAP_ARG_LIST)
            count += search_count(args[i].list, args[i].n);
    }
    return count < IMAP_SEARCH_NODES_MAX ? count : IMAP_SEARCH_NODES_MAX;
}

int imap_search_parse(const imap_arg *args, size_t n, unsigned flags, imap_search *search_r,
                      imap_error *error_r)
{
    search_ctx c = {search_r, 0, flags, error_r};
    size_t i = 0;

    memset(search_r, 0, sizeof(*search_r));
    if ((flags & IMAP_SEARCH_CHARSET_ARG) == 0 && (flags & IMAP_SEARCH_RETURN) && i < n &&
        imap_arg_atom_eq(&args[i], "RETURN")) {
        if (++i >= n)
            return IMAP_BAD(error_r, "RETURN needs a list of options");
        if (search_return(&c, &args[i++]) < 0)
            return -1;
    }
    if (flags & IMAP_SEARCH_CHARSET_ARG) {
        if (i >= n)
            return IMAP_BAD(error_r, "missing charset");
        if (search_charset(&c, &args[i++]) < 0)
            return -1;
    } else if (i < n && imap_arg_atom_eq(&args[i], "CHARSET")) {
        if (++i >= n)
            return IMAP_BAD(error_r, "CHARSET needs a charset");
        if (search_charset(&c, &args[i++]) < 0)
            return -1;
    }
    if (i >= n)
        return IMAP_BAD(error_r, "missing search key");
    c.cap = search_count(args + i, n - i);
    search_r->nodes = calloc(c.cap, sizeof(search_r->nodes[0]));
    if (search_r->nodes == NULL)
        return imap_fail(error_r, IMAP_RESP_NO, NULL, "out of memory");
    search_r->root = search_keys_and(&c, args + i, n - i, 0);
    if (search_r->root == NULL) {
        imap_search_free(search_r);
        return -1;
    }
    return 0;
}

void imap_search_free(imap_search *search)
{
    for (size_t i = 0; i < search->nnodes; i++)
        imap_seqset_free(&search->nodes[i].set);
    free(search->nodes);
    memset(search, 0, sizeof(*search));
}
