/* FETCH attributes, macros and modifiers (see imap_fetch.h). */
#include "imap_fetch.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "imap_int.h"
#include "imap_write.h"

/* Attributes without a section. */
static const struct {
    const char *name;
    imap_fetch_kind kind;
} fetch_plain[] = {
    {"FLAGS", IMAP_FETCH_FLAGS},
    {"INTERNALDATE", IMAP_FETCH_INTERNALDATE},
    {"RFC822.SIZE", IMAP_FETCH_RFC822_SIZE},
    {"ENVELOPE", IMAP_FETCH_ENVELOPE},
    {"BODY", IMAP_FETCH_BODY},
    {"BODYSTRUCTURE", IMAP_FETCH_BODYSTRUCTURE},
    {"UID", IMAP_FETCH_UID},
    {"MODSEQ", IMAP_FETCH_MODSEQ},
    {"RFC822", IMAP_FETCH_RFC822},
    {"RFC822.HEADER", IMAP_FETCH_RFC822_HEADER},
    {"RFC822.TEXT", IMAP_FETCH_RFC822_TEXT},
    {"PREVIEW", IMAP_FETCH_PREVIEW},
};

/* Attributes with a section: the name before "[". */
static const struct {
    const char *name;
    imap_fetch_kind kind;
    bool peek;
} fetch_sectioned[] = {
    {"BODY", IMAP_FETCH_BODY_SECTION, false},       {"BODY.PEEK", IMAP_FETCH_BODY_SECTION, true},
    {"BINARY", IMAP_FETCH_BINARY, false},           {"BINARY.PEEK", IMAP_FETCH_BINARY, true},
    {"BINARY.SIZE", IMAP_FETCH_BINARY_SIZE, false},
};

static const imap_fetch_kind fetch_macro_all[] = {IMAP_FETCH_FLAGS, IMAP_FETCH_INTERNALDATE,
                                                  IMAP_FETCH_RFC822_SIZE, IMAP_FETCH_ENVELOPE,
                                                  IMAP_FETCH_BODY};

void imap_fetch_free(imap_fetch *fetch)
{
    for (size_t i = 0; i < fetch->natts; i++)
        imap_section_free(&fetch->atts[i].section);
    free(fetch->atts);
    imap_seqset_free(&fetch->set);
    memset(fetch, 0, sizeof(*fetch));
    fetch->set.star_lo = UINT32_MAX;
}

static imap_fetch_att *fetch_add(imap_fetch *f, imap_fetch_kind kind, imap_error *e)
{
    if (f->natts >= IMAP_FETCH_ATTS_MAX) {
        imap_fail(e, IMAP_RESP_BAD, IMAP_CODE_LIMIT, "too many FETCH attributes");
        return NULL;
    }
    imap_fetch_att *a = &f->atts[f->natts++];
    memset(a, 0, sizeof(*a));
    a->kind = kind;
    return a;
}

/* "<" number64 "." nz-number64 ">" at s, to its end. */
static int fetch_partial(const char *s, size_t len, imap_fetch_att *a, imap_error *e)
{
    const char *dot = memchr(s, '.', len);
    if (len < 5 || s[0] != '<' || s[len - 1] != '>' || dot == NULL ||
        !imap_parse_number(s + 1, (size_t)(dot - s) - 1, IMAP_NUMBER64_MAX, &a->origin) ||
        !imap_parse_nz_number(dot + 1, (size_t)(s + len - 1 - dot) - 1, IMAP_NUMBER64_MAX,
                              &a->count))
        return IMAP_BAD(e, "invalid partial <origin.count>");
    a->partial = true;
    return 0;
}

/* name "[" section "]" ["<" partial ">"] */
static int fetch_section_att(imap_fetch *f, const char *s, size_t len, imap_error *e)
{
    const char *open = memchr(s, '[', len);
    size_t nlen = (size_t)(open - s);
    /* the "]" that closes it: the last one before any "<" partial */
    const char *close = NULL;
    for (const char *p = s + len; p > open; p--) {
        if (p[-1] == ']') {
            close = p - 1;
            break;
        }
    }
    if (close == NULL)
        return IMAP_BAD(e, "invalid FETCH attribute");
    for (size_t i = 0; i < sizeof(fetch_sectioned) / sizeof(fetch_sectioned[0]); i++) {
        if (!imap_word_eq(s, nlen, fetch_sectioned[i].name))
            continue;
        imap_fetch_att *a = fetch_add(f, fetch_sectioned[i].kind, e);
        if (a == NULL)
            return -1;
        a->peek = fetch_sectioned[i].peek;
        bool binary = a->kind != IMAP_FETCH_BODY_SECTION;
        if (imap_section_parse(open + 1, (size_t)(close - open) - 1, binary, &a->section, e) < 0)
            return -1;
        size_t rest = (size_t)(s + len - close) - 1;
        if (rest > 0) {
            if (a->kind == IMAP_FETCH_BINARY_SIZE)
                return IMAP_BAD(e, "BINARY.SIZE takes no partial");
            if (fetch_partial(close + 1, rest, a, e) < 0)
                return -1;
        }
        if ((a->kind == IMAP_FETCH_BODY_SECTION || a->kind == IMAP_FETCH_BINARY) && !a->peek)
            f->sets_seen = true;
        return 0;
    }
    return IMAP_BAD(e, "invalid FETCH attribute");
}

/* One fetch-att at args[*i] (PREVIEW may take the list after it). */
static int fetch_att(imap_fetch *f, const imap_arg *args, size_t n, size_t *i, imap_error *e)
{
    const imap_arg *a = &args[(*i)++];
    if (a->type != IMAP_ARG_ATOM)
        return IMAP_BAD(e, "invalid FETCH attribute");
    if (memchr(a->str, '[', a->len) != NULL)
        return fetch_section_att(f, a->str, a->len, e);
    for (size_t k = 0; k < sizeof(fetch_plain) / sizeof(fetch_plain[0]); k++) {
        if (!imap_word_eq(a->str, a->len, fetch_plain[k].name))
            continue;
        imap_fetch_att *att = fetch_add(f, fetch_plain[k].kind, e);
        if (att == NULL)
            return -1;
        if (att->kind == IMAP_FETCH_RFC822 || att->kind == IMAP_FETCH_RFC822_TEXT)
            f->sets_seen = true;
        if (att->kind == IMAP_FETCH_MODSEQ)
            f->condstore = true;
        /* RFC 8970 3: "PREVIEW" [SP "(" "LAZY" ")"] */
        if (att->kind == IMAP_FETCH_PREVIEW && *i < n && args[*i].type == IMAP_ARG_LIST &&
            args[*i].n > 0 && imap_arg_atom_eq(&args[*i].list[0], "LAZY")) {
            const imap_arg *mods = &args[(*i)++];
            for (size_t m = 0; m < mods->n; m++) {
                if (!imap_arg_atom_eq(&mods->list[m], "LAZY"))
                    return IMAP_BAD(e, "unknown PREVIEW modifier");
            }
            att->lazy = true;
        }
        return 0;
    }
    return IMAP_BAD(e, "unknown FETCH attribute");
}

/* "(" CHANGEDSINCE mod-sequence-value [SP VANISHED] ")" (RFC 7162 3.1.4.1,
 * 3.2.6; RFC 4466 2.4 fetch-modifier). */
static int fetch_modifiers(imap_fetch *f, const imap_arg *list, unsigned flags, imap_error *e)
{
    if (list->n == 0)
        return IMAP_BAD(e, "empty FETCH modifier list");
    for (size_t i = 0; i < list->n; i++) {
        const imap_arg *m = &list->list[i];
        if (imap_arg_atom_eq(m, "CHANGEDSINCE")) {
            if (f->has_changedsince || i + 1 >= list->n ||
                !imap_arg_number64(&list->list[i + 1], &f->changedsince))
                return IMAP_BAD(e, "CHANGEDSINCE needs one mod-sequence");
            f->has_changedsince = true;
            f->condstore = true;
            i++;
        } else if (imap_arg_atom_eq(m, "VANISHED")) {
            if (f->vanished)
                return IMAP_BAD(e, "VANISHED given twice");
            f->vanished = true;
        } else {
            return IMAP_BAD(e, "unknown FETCH modifier");
        }
    }
    if (f->vanished) {
        if (!(flags & IMAP_FETCH_F_UID))
            return IMAP_BAD(e, "VANISHED needs UID FETCH");
        if (!(flags & IMAP_FETCH_F_QRESYNC))
            return IMAP_BAD(e, "VANISHED needs QRESYNC enabled");
        if (!f->has_changedsince)
            return IMAP_BAD(e, "VANISHED needs CHANGEDSINCE");
    }
    return 0;
}

static int fetch_items(imap_fetch *f, const imap_arg *args, size_t n, size_t *i, imap_error *e)
{
    const imap_arg *a = &args[*i];
    if (a->type == IMAP_ARG_ATOM) {
        size_t count = 0;
        if (imap_word_eq(a->str, a->len, "ALL"))
            count = 4;
        else if (imap_word_eq(a->str, a->len, "FAST"))
            count = 3;
        else if (imap_word_eq(a->str, a->len, "FULL"))
            count = 5;
        if (count > 0) {
            (*i)++;
            for (size_t k = 0; k < count; k++) {
                if (fetch_add(f, fetch_macro_all[k], e) == NULL)
                    return -1;
            }
            return 0;
        }
        return fetch_att(f, args, n, i, e);
    }
    if (a->type != IMAP_ARG_LIST || a->n == 0)
        return IMAP_BAD(e, "invalid FETCH attributes");
    (*i)++;
    for (size_t k = 0; k < a->n;) {
        if (fetch_att(f, a->list, a->n, &k, e) < 0)
            return -1;
    }
    return 0;
}

int imap_fetch_parse(const imap_arg *args, size_t n, unsigned flags, imap_fetch *fetch_r,
                     imap_error *error_r)
{
    size_t i = 1;

    memset(fetch_r, 0, sizeof(*fetch_r));
    fetch_r->set.star_lo = UINT32_MAX;
    if (n < 2)
        return IMAP_BAD(error_r, "FETCH needs a sequence set and attributes");
    if (args[0].type != IMAP_ARG_ATOM)
        return IMAP_BAD(error_r, "invalid sequence set");
    unsigned sflags = (flags & IMAP_FETCH_F_SEARCHRES) ? IMAP_SEQSET_ALLOW_SAVED : 0;
    if (imap_seqset_parse(args[0].str, args[0].len, sflags, &fetch_r->set, error_r) < 0)
        return -1;
    fetch_r->atts = malloc(IMAP_FETCH_ATTS_MAX * sizeof(fetch_r->atts[0]));
    if (fetch_r->atts == NULL) {
        imap_fetch_free(fetch_r);
        return imap_fail(error_r, IMAP_RESP_NO, NULL, "out of memory");
    }
    if (fetch_items(fetch_r, args, n, &i, error_r) < 0)
        goto fail;
    if (i < n && args[i].type == IMAP_ARG_LIST) {
        if (fetch_modifiers(fetch_r, &args[i], flags, error_r) < 0)
            goto fail;
        i++;
    }
    if (i != n) {
        IMAP_BAD(error_r, "unexpected FETCH argument");
        goto fail;
    }
    return 0;
fail:
    imap_fetch_free(fetch_r);
    return -1;
}

static int fetch_section_name(const imap_section *sec, buf *b)
{
    static const char *const words[] = {"",     "HEADER", "HEADER.FIELDS", "HEADER.FIELDS.NOT",
                                        "TEXT", "MIME"};
    for (size_t i = 0; i < sec->nparts; i++) {
        if (buf_printf(b, "%s%" PRIu32, i > 0 ? "." : "", sec->part[i]) < 0)
            return -1;
    }
    if (sec->text == IMAP_SECTION_NONE)
        return 0;
    if (buf_printf(b, "%s%s", sec->nparts > 0 ? "." : "", words[sec->text]) < 0)
        return -1;
    if (sec->nfields == 0)
        return 0;
    for (size_t i = 0; i < sec->nfields; i++) {
        if (buf_append_str(b, i == 0 ? " (" : " ") < 0 ||
            imap_write_astring(b, sec->fields[i], strlen(sec->fields[i]), 0) < 0)
            return -1;
    }
    return buf_append_char(b, ')');
}

int imap_fetch_att_name(const imap_fetch_att *att, buf *b)
{
    const char *prefix = NULL;
    switch (att->kind) {
    case IMAP_FETCH_BODY_SECTION:
        prefix = "BODY[";
        break;
    case IMAP_FETCH_BINARY:
        prefix = "BINARY[";
        break;
    case IMAP_FETCH_BINARY_SIZE:
        prefix = "BINARY.SIZE[";
        break;
    default:
        for (size_t k = 0; k < sizeof(fetch_plain) / sizeof(fetch_plain[0]); k++) {
            if (fetch_plain[k].kind == att->kind)
                return buf_append_str(b, fetch_plain[k].name);
        }
        return -1;
    }
    if (buf_append_str(b, prefix) < 0 || fetch_section_name(&att->section, b) < 0 ||
        buf_append_char(b, ']') < 0)
        return -1;
    /* RFC 9051 7.5.2: the response gives only the origin */
    if (att->partial && buf_printf(b, "<%" PRIu64 ">", att->origin) < 0)
        return -1;
    return 0;
}
