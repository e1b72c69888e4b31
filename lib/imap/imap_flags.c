/* Flags (RFC 9051 2.3.2) and STORE (RFC 9051 6.4.6, RFC 7162 3.1.3). */
#include "imap_flags.h"

#include <string.h>

#include "imap_int.h"

static const struct {
    const char *name;
    unsigned bit;
} flag_names[] = {
    {"\\Seen", IMAP_FLAG_SEEN},       {"\\Answered", IMAP_FLAG_ANSWERED},
    {"\\Flagged", IMAP_FLAG_FLAGGED}, {"\\Deleted", IMAP_FLAG_DELETED},
    {"\\Draft", IMAP_FLAG_DRAFT},     {"\\Recent", IMAP_FLAG_RECENT},
};

unsigned imap_flag_system(const char *s, size_t len)
{
    for (size_t i = 0; i < sizeof(flag_names) / sizeof(flag_names[0]); i++) {
        if (imap_word_eq(s, len, flag_names[i].name))
            return flag_names[i].bit;
    }
    return 0;
}

const char *imap_flag_name(unsigned bit)
{
    for (size_t i = 0; i < sizeof(flag_names) / sizeof(flag_names[0]); i++) {
        if (flag_names[i].bit == bit)
            return flag_names[i].name;
    }
    return NULL;
}

bool imap_keyword_valid(const char *s, size_t len)
{
    if (len == 0 || len > IMAP_KEYWORD_MAX)
        return false;
    for (size_t i = 0; i < len; i++) {
        if (!imap_is_atom_char((unsigned char)s[i]))
            return false;
    }
    return true;
}

static int flags_one(const imap_arg *a, imap_flags *f, imap_error *e)
{
    if (a->type != IMAP_ARG_ATOM && a->type != IMAP_ARG_NIL)
        return IMAP_BAD(e, "a flag must be an atom");
    if (a->len > 0 && a->str[0] == '\\') {
        unsigned bit = imap_flag_system(a->str, a->len);
        if (bit == IMAP_FLAG_RECENT)
            return IMAP_BAD(e, "\\Recent cannot be set");
        if (bit == 0)
            return IMAP_BAD(e, "unknown system flag");
        f->mask |= bit;
        return 0;
    }
    if (a->len > IMAP_KEYWORD_MAX)
        return imap_fail(e, IMAP_RESP_BAD, IMAP_CODE_LIMIT, "keyword too long");
    if (!imap_keyword_valid(a->str, a->len))
        return IMAP_BAD(e, "invalid keyword");
    for (size_t i = 0; i < f->nkeywords; i++) {
        if (imap_word_eq(a->str, a->len, f->keywords[i]))
            return 0;
    }
    if (f->nkeywords >= IMAP_KEYWORDS_MAX)
        return imap_fail(e, IMAP_RESP_BAD, IMAP_CODE_LIMIT, "too many keywords");
    f->keywords[f->nkeywords++] = a->str;
    f->keywords[f->nkeywords] = NULL;
    return 0;
}

int imap_flags_parse(const imap_arg *args, size_t n, imap_flags *flags_r, imap_error *error_r)
{
    memset(flags_r, 0, sizeof(*flags_r));
    for (size_t i = 0; i < n; i++) {
        if (flags_one(&args[i], flags_r, error_r) < 0) {
            memset(flags_r, 0, sizeof(*flags_r));
            return -1;
        }
    }
    return 0;
}

/* "(" "UNCHANGEDSINCE" SP mod-sequence-valzer ")" (RFC 7162 3.1.3, RFC
 * 4466 2.5 store-modifiers). */
static int store_modifiers(const imap_arg *list, imap_store *st, imap_error *e)
{
    if (list->n == 0)
        return IMAP_BAD(e, "empty STORE modifier list");
    for (size_t i = 0; i < list->n; i += 2) {
        const imap_arg *m = &list->list[i];
        if (!imap_arg_atom_eq(m, "UNCHANGEDSINCE"))
            return IMAP_BAD(e, "unknown STORE modifier");
        if (st->has_unchangedsince)
            return IMAP_BAD(e, "UNCHANGEDSINCE given twice");
        if (i + 1 >= list->n || !imap_arg_number64(&list->list[i + 1], &st->unchangedsince))
            return IMAP_BAD(e, "UNCHANGEDSINCE needs a mod-sequence");
        st->has_unchangedsince = true;
    }
    return 0;
}

static int store_item(const imap_arg *a, imap_store *st, imap_error *e)
{
    const char *s = a->str;
    size_t len = a->len;
    if (a->type != IMAP_ARG_ATOM)
        return IMAP_BAD(e, "expected FLAGS, +FLAGS or -FLAGS");
    if (len > 0 && (s[0] == '+' || s[0] == '-')) {
        st->op = s[0] == '+' ? IMAP_STORE_ADD : IMAP_STORE_REMOVE;
        s++, len--;
    }
    if (len > 7 && imap_word_eq(s + len - 7, 7, ".SILENT")) {
        st->silent = true;
        len -= 7;
    }
    if (!imap_word_eq(s, len, "FLAGS"))
        return IMAP_BAD(e, "expected FLAGS, +FLAGS or -FLAGS");
    return 0;
}

int imap_store_parse(const imap_arg *args, size_t n, unsigned seqset_flags, imap_store *store_r,
                     imap_error *error_r)
{
    size_t i = 1;

    memset(store_r, 0, sizeof(*store_r));
    store_r->set.star_lo = UINT32_MAX;
    if (n < 3)
        return IMAP_BAD(error_r, "STORE needs a sequence set, an item and flags");
    if (args[0].type != IMAP_ARG_ATOM)
        return IMAP_BAD(error_r, "invalid sequence set");
    if (imap_seqset_parse(args[0].str, args[0].len, seqset_flags, &store_r->set, error_r) < 0)
        return -1;
    if (args[1].type == IMAP_ARG_LIST) {
        if (store_modifiers(&args[1], store_r, error_r) < 0)
            goto fail;
        i = 2;
    }
    if (store_item(&args[i], store_r, error_r) < 0)
        goto fail;
    i++;
    if (i >= n) {
        IMAP_BAD(error_r, "STORE needs flags");
        goto fail;
    }
    if (args[i].type == IMAP_ARG_LIST) {
        if (i + 1 != n) {
            IMAP_BAD(error_r, "text after the flag list");
            goto fail;
        }
        if (imap_flags_parse(args[i].list, args[i].n, &store_r->flags, error_r) < 0)
            goto fail;
    } else if (imap_flags_parse(args + i, n - i, &store_r->flags, error_r) < 0) {
        goto fail;
    }
    return 0;
fail:
    imap_store_free(store_r);
    return -1;
}

void imap_store_free(imap_store *store)
{
    imap_seqset_free(&store->set);
    memset(store, 0, sizeof(*store));
    store->set.star_lo = UINT32_MAX;
}
