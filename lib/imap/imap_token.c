/* One line of a command into tokens (RFC 9051 4, 9): tag, name, atoms,
 * quoted strings, parenthesized lists, and the literal announcement that
 * may end the line. The tree is built as a list of nodes in the reader;
 * imap_reader.c lays it out when the command is complete. */
#include <stdlib.h>
#include <string.h>

#include "imap_int.h"
#include "imap_reader_int.h"

static int tok_grow(imap_reader *r, imap_error *e)
{
    if (r->nnodes < r->nodes_cap)
        return 0;
    size_t cap = r->nodes_cap == 0 ? 16 : r->nodes_cap * 2;
    if (cap > r->limits.args_max)
        cap = r->limits.args_max;
    imap_reader_node *n = realloc(r->nodes, cap * sizeof(*n));
    if (n == NULL)
        return imap_fail(e, IMAP_RESP_BYE, NULL, "out of memory");
    r->nodes = n;
    r->nodes_cap = cap;
    return 0;
}

/* Adds a node as the next element of the innermost open list (or of the
 * command); *idx_r = its index. */
static int tok_node(imap_reader *r, imap_arg_type type, unsigned flags, size_t off, size_t len,
                    uint32_t *idx_r, imap_error *e)
{
    if (r->nnodes >= r->limits.args_max)
        return imap_fail(e, IMAP_RESP_BAD, IMAP_CODE_LIMIT, "too many arguments");
    if (tok_grow(r, e) < 0)
        return -1;
    uint32_t idx = (uint32_t)r->nnodes++;
    imap_reader_node *n = &r->nodes[idx];
    n->type = (uint8_t)type;
    n->flags = (uint8_t)flags;
    n->next = IMAP_NONE;
    n->kid = IMAP_NONE;
    n->nkids = 0;
    n->off = off;
    n->len = len;
    unsigned d = r->depth;
    if (d == 0) {
        if (r->ntop == 0)
            r->first_top = idx;
        else
            r->nodes[r->last[0]].next = idx;
        r->ntop++;
    } else {
        imap_reader_node *parent = &r->nodes[r->open[d]];
        if (parent->nkids == 0)
            parent->kid = idx;
        else
            r->nodes[r->last[d]].next = idx;
        parent->nkids++;
    }
    r->last[d] = idx;
    *idx_r = idx;
    return 0;
}

/* Appends text and a NUL to the arena; *off_r = where the text starts. */
static int tok_text(imap_reader *r, const char *s, size_t len, size_t *off_r, imap_error *e)
{
    *off_r = r->arena.len;
    if (buf_append(&r->arena, s, len) < 0 || buf_append_char(&r->arena, '\0') < 0)
        return imap_fail(e, IMAP_RESP_BYE, NULL, "out of memory");
    return 0;
}

void imap_token_tag(imap_reader *r, const char *s, size_t len)
{
    size_t p = 0;
    while (p < len && p <= IMAP_TAG_MAX && imap_is_tag_char((unsigned char)s[p]))
        p++;
    if (p == 0 || p > IMAP_TAG_MAX || p == len || s[p] != ' ')
        return;
    memcpy(r->tag, s, p);
    r->tag[p] = '\0';
    r->tag_len = p;
    r->error_known = true;
}

/* Reads a command word (ATOM-CHARs) at *p into out, upper-cased. */
static int tok_word(const char *s, size_t len, size_t *p, char out[IMAP_NAME_MAX + 1],
                    imap_error *e)
{
    size_t q = *p;
    while (q < len && imap_is_atom_char((unsigned char)s[q]))
        q++;
    if (q == *p)
        return IMAP_BAD(e, "missing command name");
    if (q < len && s[q] != ' ')
        return IMAP_BAD(e, "invalid character in command name");
    if (q - *p > IMAP_NAME_MAX)
        return IMAP_BAD(e, "unknown command");
    for (size_t i = *p; i < q; i++)
        out[i - *p] = imap_upper(s[i]);
    out[q - *p] = '\0';
    *p = q;
    return 0;
}

static void tok_spaces(imap_reader *r, const char *s, size_t len, size_t *p)
{
    size_t q = *p;
    while (q < len && s[q] == ' ')
        q++;
    if (q - *p > 1 || (q > *p && q == len))
        r->lenient = true;
    *p = q;
}

/* tag SP name [SP sub-command]: RFC 9051 9 "command", and "uid". */
static int tok_head(imap_reader *r, const char *s, size_t len, size_t *p, imap_error *e)
{
    size_t q = 0;
    while (q < len && q <= IMAP_TAG_MAX && imap_is_tag_char((unsigned char)s[q]))
        q++;
    if (q == 0 || (q < len && q <= IMAP_TAG_MAX && s[q] != ' '))
        return IMAP_BAD(e, "invalid tag");
    if (q > IMAP_TAG_MAX)
        return IMAP_BAD(e, "tag too long");
    memcpy(r->tag, s, q);
    r->tag[q] = '\0';
    r->tag_len = q;
    r->error_known = true;
    tok_spaces(r, s, len, &q);
    if (tok_word(s, len, &q, r->name, e) < 0)
        return -1;
    if (strcmp(r->name, "UID") == 0) {
        r->uid = true;
        tok_spaces(r, s, len, &q);
        if (q == len)
            return IMAP_BAD(e, "UID needs a command");
        if (tok_word(s, len, &q, r->name, e) < 0)
            return -1;
    }
    r->fetch_mode = strcmp(r->name, "FETCH") == 0;
    r->append = !r->uid && strcmp(r->name, "APPEND") == 0;
    r->head_done = true;
    r->need_sep = true;
    *p = q;
    return 0;
}

/* "..." at *p (RFC 9051 9 quoted; RFC 6855 3 / RFC 9051 allow UTF-8). */
static int tok_quoted(imap_reader *r, const char *s, size_t len, size_t *p, imap_error *e)
{
    size_t q = *p + 1;
    unsigned flags = 0;
    for (;; q++) {
        if (q == len)
            return IMAP_BAD(e, "unterminated quoted string");
        unsigned char c = (unsigned char)s[q];
        if (c == '"')
            break;
        if (c == '\\') {
            if (q + 1 == len || (s[q + 1] != '"' && s[q + 1] != '\\'))
                return IMAP_BAD(e, "invalid escape in quoted string");
            q++;
        } else if (c == 0 || c == '\r' || c == '\n') {
            return IMAP_BAD(e, "invalid character in quoted string");
        } else if (c >= 0x80) {
            flags |= IMAP_ARG_F_8BIT;
        }
    }
    size_t off, raw = q - *p - 1;
    if (tok_text(r, s + *p + 1, raw, &off, e) < 0)
        return -1;
    char *t = r->arena.data + off;
    size_t n = 0;
    for (size_t i = 0; i < raw; i++) {
        if (t[i] == '\\')
            i++;
        t[n++] = t[i];
    }
    t[n] = '\0';
    r->arena.len = off + n + 1;
    if ((flags & IMAP_ARG_F_8BIT) && !imap_utf8_valid(t, n))
        return IMAP_BAD(e, "invalid UTF-8 in quoted string");
    uint32_t idx;
    if (tok_node(r, IMAP_ARG_QUOTED, flags, off, n, &idx, e) < 0)
        return -1;
    *p = q + 1;
    return 0;
}

/* The "[...]" of a FETCH attribute, *p at "[": spaces, parentheses and
 * quoted strings are allowed inside, no literal and no nested "[". */
static int tok_section(const char *s, size_t len, size_t *p, imap_error *e)
{
    size_t q = *p + 1;
    for (; q < len && s[q] != ']'; q++) {
        unsigned char c = (unsigned char)s[q];
        if (c == '"') {
            for (q++; q < len && s[q] != '"'; q++) {
                if (s[q] == '\\' && q + 1 < len)
                    q++;
                if ((unsigned char)s[q] < 0x20 || (unsigned char)s[q] >= 0x7f)
                    return IMAP_BAD(e, "invalid character in section");
            }
            if (q == len)
                break;
        } else if (c < 0x20 || c >= 0x7f || c == '[' || c == '{') {
            return IMAP_BAD(e, "invalid character in section");
        }
    }
    if (q == len)
        return IMAP_BAD(e, "unterminated section");
    *p = q + 1;
    return 0;
}

static bool tok_atom_char(unsigned char c)
{
    return c > 0x20 && c < 0x7f && c != '(' && c != ')' && c != '{' && c != '"';
}

static int tok_atom(imap_reader *r, const char *s, size_t len, size_t *p, imap_error *e)
{
    size_t q = *p;
    unsigned flags = 0;
    while (q < len) {
        unsigned char c = (unsigned char)s[q];
        if (c == '[' && r->fetch_mode) {
            if (tok_section(s, len, &q, e) < 0)
                return -1;
            flags |= IMAP_ARG_F_SECTION;
            continue;
        }
        if (!tok_atom_char(c))
            break;
        q++;
    }
    if (q == *p)
        return IMAP_BAD(e, (unsigned char)s[q] >= 0x80 ? "8-bit octet outside a string"
                                                       : "invalid character");
    size_t off, n = q - *p;
    if (tok_text(r, s + *p, n, &off, e) < 0)
        return -1;
    imap_arg_type type = IMAP_ARG_ATOM;
    if (flags == 0 && imap_word_eq(s + *p, n, "NIL"))
        type = IMAP_ARG_NIL;
    uint32_t idx;
    if (tok_node(r, type, flags, off, n, &idx, e) < 0)
        return -1;
    *p = q;
    return 0;
}

int imap_literal_at_end(const char *s, size_t len, imap_literal_spec *lit_r)
{
    memset(lit_r, 0, sizeof(*lit_r));
    if (len < 3 || s[len - 1] != '}')
        return 0;
    size_t q = len - 1;
    lit_r->sync = true;
    if (s[q - 1] == '+') {
        lit_r->sync = false;
        q--;
    }
    size_t end = q;
    while (q > 0 && imap_is_digit(s[q - 1]))
        q--;
    if (q == end || q == 0 || s[q - 1] != '{')
        return 0;
    lit_r->binary = q >= 2 && s[q - 2] == '~';
    if (!imap_parse_number(s + q, end - q, IMAP_NUMBER64_MAX, &lit_r->size))
        lit_r->overflow = true;
    return 1;
}

/* "{n}" / "{n+}" / "~{n}" / "~{n+}" at p: it must end the line. */
static imap_seg tok_literal(imap_reader *r, const char *s, size_t len, size_t p,
                            imap_literal_spec *lit, imap_error *e)
{
    memset(lit, 0, sizeof(*lit));
    lit->binary = s[p] == '~';
    size_t q = p + (lit->binary ? 2 : 1), digits = q;
    while (q < len && imap_is_digit(s[q]))
        q++;
    size_t ndigits = q - digits;
    lit->sync = true;
    if (q < len && s[q] == '+') {
        lit->sync = false;
        q++;
    }
    if (ndigits == 0 || q >= len || s[q] != '}')
        return IMAP_BAD(e, "invalid literal");
    if (q + 1 != len)
        return IMAP_BAD(e, "a literal announcement must end the line");
    if (!imap_parse_number(s + digits, ndigits, IMAP_NUMBER64_MAX, &lit->size))
        lit->overflow = true;
    uint32_t idx;
    if (tok_node(r, lit->binary ? IMAP_ARG_LITERAL8 : IMAP_ARG_LITERAL,
                 lit->sync ? 0 : IMAP_ARG_F_NONSYNC, r->arena.len, lit->size, &idx, e) < 0)
        return IMAP_SEG_ERROR;
    r->lit_node = idx;
    return IMAP_SEG_LITERAL;
}

imap_seg imap_token_line(imap_reader *r, const char *s, size_t len, imap_literal_spec *lit_r,
                         imap_error *error_r)
{
    size_t p = 0;

    if (!r->head_done) {
        if (len == 0)
            return IMAP_SEG_EMPTY;
        if (tok_head(r, s, len, &p, error_r) < 0)
            return IMAP_SEG_ERROR;
    }
    while (p < len) {
        unsigned char c = (unsigned char)s[p];
        if (c == ' ') {
            if (!r->need_sep || (p + 1 < len && s[p + 1] == ')'))
                r->lenient = true; /* "( a" or "a )" */
            tok_spaces(r, s, len, &p);
            r->need_sep = false;
            continue;
        }
        if (c == ')') {
            if (r->depth == 0)
                return IMAP_BAD(error_r, "unexpected \")\"");
            r->depth--;
            r->need_sep = true;
            p++;
            continue;
        }
        if (r->need_sep)
            return IMAP_BAD(error_r, "missing space between arguments");
        r->need_sep = true;
        if (c == '(') {
            if (r->depth >= r->limits.depth_max)
                return imap_fail(error_r, IMAP_RESP_BAD, IMAP_CODE_LIMIT,
                                 "lists nested too deeply");
            uint32_t idx;
            if (tok_node(r, IMAP_ARG_LIST, 0, 0, 0, &idx, error_r) < 0)
                return IMAP_SEG_ERROR;
            r->depth++;
            r->open[r->depth] = idx;
            r->last[r->depth] = IMAP_NONE;
            r->need_sep = false;
            p++;
        } else if (c == '"') {
            if (tok_quoted(r, s, len, &p, error_r) < 0)
                return IMAP_SEG_ERROR;
        } else if (c == '{' || (c == '~' && p + 1 < len && s[p + 1] == '{')) {
            return tok_literal(r, s, len, p, lit_r, error_r);
        } else if (tok_atom(r, s, len, &p, error_r) < 0) {
            return IMAP_SEG_ERROR;
        }
    }
    if (r->depth > 0)
        return IMAP_BAD(error_r, "unterminated list");
    return IMAP_SEG_DONE;
}
