/* libFuzzer harness for the IMAP command reader (lib/imap/imap_reader.h).
 * The first octet chooses the limits and where the rest is cut in two; the
 * rest is a client's byte stream. It is read as a server would - commands,
 * continuation requests (refused with imap_reader_abort when the tag starts
 * with "z"), AUTHENTICATE and IDLE lines through imap_reader_line - whole,
 * cut in two, and (when short) one octet at a time; the three runs must see
 * the same events. Every command must be within the limits and well
 * formed, and goes through the FETCH and STORE parsers too. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "imap_fetch.h"
#include "imap_flags.h"
#include "imap_reader.h"

#define FUZZ_CHECK(cond)                                                                           \
    do {                                                                                           \
        if (!(cond))                                                                               \
            abort();                                                                               \
    } while (0)

#define FUZZ_MAX_INPUT 65536

static uint64_t fuzz_hash;
static uint64_t fuzz_literals; /* literal octets of the command being checked */

static void fuzz_mix(const void *p, size_t n)
{
    const unsigned char *s = p;
    for (size_t i = 0; i < n; i++) {
        fuzz_hash ^= s[i];
        fuzz_hash *= 0x100000001b3ULL;
    }
}

static void fuzz_mix_u64(uint64_t v)
{
    fuzz_mix(&v, sizeof(v));
}

static void fuzz_limits(uint8_t c, imap_reader_limits *l)
{
    imap_reader_limits_default(l);
    l->literal_plus = (c & 1) != 0;
    if (c & 2) {
        l->line_max = 24 + (c >> 3) % 64;
        l->literal_max = 8 + (c >> 2) % 16;
        l->append_literal_max = 40;
        l->literals_max = 3;
        l->command_max = 160;
        l->depth_max = 3;
        l->args_max = 12;
        l->skip_max = 64;
    }
}

static void fuzz_arg(const imap_arg *a, const imap_reader_limits *l, bool append_top,
                     unsigned depth, size_t *count)
{
    FUZZ_CHECK(depth <= l->depth_max);
    ++*count;
    fuzz_mix_u64(a->type);
    fuzz_mix_u64(a->flags);
    fuzz_mix_u64(a->len);
    if (a->type != IMAP_ARG_LIST) {
        FUZZ_CHECK(a->str != NULL && a->str[a->len] == '\0');
        fuzz_mix(a->str, a->len);
    }
    switch (a->type) {
    case IMAP_ARG_ATOM:
    case IMAP_ARG_NIL:
        FUZZ_CHECK(a->len > 0 && a->len < l->line_max);
        for (size_t i = 0; i < a->len; i++) {
            unsigned char c = (unsigned char)a->str[i];
            FUZZ_CHECK(c >= 0x20 && c < 0x7f);
            if ((a->flags & IMAP_ARG_F_SECTION) == 0)
                FUZZ_CHECK(c != ' ' && c != '(' && c != ')' && c != '{' && c != '"');
        }
        FUZZ_CHECK(a->type == IMAP_ARG_ATOM || imap_word_eq(a->str, a->len, "NIL"));
        break;
    case IMAP_ARG_QUOTED:
        FUZZ_CHECK(a->len < l->line_max);
        FUZZ_CHECK(memchr(a->str, '\r', a->len) == NULL && memchr(a->str, '\n', a->len) == NULL);
        FUZZ_CHECK(imap_utf8_valid(a->str, a->len));
        break;
    case IMAP_ARG_LITERAL:
        FUZZ_CHECK(memchr(a->str, '\0', a->len) == NULL);
        /* fall through */
    case IMAP_ARG_LITERAL8:
        FUZZ_CHECK(a->len <= (append_top ? l->append_literal_max : l->literal_max));
        fuzz_literals += a->len;
        break;
    case IMAP_ARG_LIST:
        FUZZ_CHECK(a->n == 0 || a->list != NULL);
        FUZZ_CHECK(a->str == NULL);
        for (size_t i = 0; i < a->n; i++)
            fuzz_arg(&a->list[i], l, false, depth + 1, count);
        break;
    }
}

/* The command parsers that take the tree as it is. */
static void fuzz_parsers(const imap_command *cmd)
{
    imap_error err;
    imap_fetch f;
    if (imap_fetch_parse(cmd->args, cmd->nargs, (unsigned)cmd->nargs & 7, &f, &err) == 0) {
        FUZZ_CHECK(f.natts > 0 && f.natts <= IMAP_FETCH_ATTS_MAX);
        FUZZ_CHECK(!f.vanished || f.has_changedsince);
        for (size_t i = 0; i < f.natts; i++) {
            const imap_section *s = &f.atts[i].section;
            FUZZ_CHECK(s->nparts <= IMAP_SECTION_DEPTH_MAX);
            FUZZ_CHECK(s->nfields <= IMAP_FETCH_FIELDS_MAX);
            for (size_t k = 0; k < s->nfields; k++)
                FUZZ_CHECK(strlen(s->fields[k]) > 0 &&
                           strlen(s->fields[k]) <= IMAP_FETCH_FIELD_MAX);
            buf b;
            buf_init(&b, 1 << 16);
            FUZZ_CHECK(imap_fetch_att_name(&f.atts[i], &b) == 0);
            FUZZ_CHECK(strlen(b.data) == b.len && memchr(b.data, '\r', b.len) == NULL);
            buf_free(&b);
        }
        imap_fetch_free(&f);
    } else {
        FUZZ_CHECK(err.text != NULL && f.atts == NULL);
    }
    imap_store st;
    if (imap_store_parse(cmd->args, cmd->nargs, IMAP_SEQSET_ALLOW_SAVED, &st, &err) == 0) {
        FUZZ_CHECK(st.flags.nkeywords <= IMAP_KEYWORDS_MAX);
        FUZZ_CHECK(st.flags.keywords[st.flags.nkeywords] == NULL);
        FUZZ_CHECK((st.flags.mask & ~0x1fu) == 0);
        for (size_t i = 0; i < st.flags.nkeywords; i++)
            FUZZ_CHECK(imap_keyword_valid(st.flags.keywords[i], strlen(st.flags.keywords[i])));
        imap_store_free(&st);
    } else {
        FUZZ_CHECK(err.text != NULL && st.set.ranges == NULL);
    }
}

static void fuzz_command(const imap_command *cmd, const imap_reader_limits *l, bool parse)
{
    FUZZ_CHECK(cmd->tag_len > 0 && cmd->tag_len <= IMAP_TAG_MAX);
    FUZZ_CHECK(strlen(cmd->tag) == cmd->tag_len);
    for (size_t i = 0; i < cmd->tag_len; i++)
        FUZZ_CHECK(imap_is_tag_char((unsigned char)cmd->tag[i]));
    size_t nlen = strlen(cmd->name);
    FUZZ_CHECK(nlen > 0 && nlen <= IMAP_NAME_MAX);
    for (size_t i = 0; i < nlen; i++)
        FUZZ_CHECK(imap_is_atom_char((unsigned char)cmd->name[i]) &&
                   !(cmd->name[i] >= 'a' && cmd->name[i] <= 'z'));
    FUZZ_CHECK(cmd->size <= l->command_max);
    FUZZ_CHECK(cmd->nliterals <= l->literals_max);
    FUZZ_CHECK(cmd->nargs == 0 || cmd->args != NULL);
    fuzz_mix(cmd->tag, cmd->tag_len);
    fuzz_mix(cmd->name, nlen);
    fuzz_mix_u64(cmd->uid);
    fuzz_mix_u64(cmd->size);
    size_t count = 0;
    fuzz_literals = 0;
    bool append = !cmd->uid && strcmp(cmd->name, "APPEND") == 0;
    for (size_t i = 0; i < cmd->nargs; i++)
        fuzz_arg(&cmd->args[i], l, append && i > 0, 0, &count);
    FUZZ_CHECK(count <= l->args_max);
    /* the lines, CRLFs included, within line_max */
    FUZZ_CHECK(cmd->size >= fuzz_literals && cmd->size - fuzz_literals <= l->line_max);
    if (parse)
        fuzz_parsers(cmd);
}

/* Reads in (cut at `cut`, or octet by octet) as a server would; returns
 * the hash of the events. */
static uint64_t fuzz_run(const char *in, size_t len, size_t cut, int bytewise,
                         const imap_reader_limits *l, bool parse)
{
    static char pending[FUZZ_MAX_INPUT];
    imap_reader r;
    size_t plen = 0, fed = 0, loops = 0;
    bool line_mode = false, dead = false;

    fuzz_hash = 0xcbf29ce484222325ULL;
    imap_reader_init(&r, l);
    while (fed < len && !dead) {
        size_t n = bytewise ? 1 : (cut > fed ? cut - fed : len - fed);
        memcpy(pending + plen, in + fed, n);
        plen += n;
        fed += n;
        for (;;) {
            FUZZ_CHECK(++loops < 100000 + 8 * len);
            size_t consumed;
            imap_error err = {0};
            int rc;
            if (line_mode) {
                const char *line;
                size_t line_len;
                rc = imap_reader_line(&r, pending, plen, l->line_max, &consumed, &line, &line_len,
                                      &err);
                if (rc == 1) {
                    FUZZ_CHECK(line_len < l->line_max && line[line_len] == '\0');
                    FUZZ_CHECK(memchr(line, '\n', line_len) == NULL);
                    fuzz_mix("L", 1);
                    fuzz_mix(line, line_len);
                    /* "*" cancels AUTHENTICATE, DONE ends IDLE */
                    if ((line_len == 1 && line[0] == '*') || imap_word_eq(line, line_len, "DONE"))
                        line_mode = false;
                }
            } else {
                imap_command cmd;
                rc = imap_reader_next(&r, pending, plen, &consumed, &cmd, &err);
                if (rc == IMAP_READ_COMMAND) {
                    fuzz_mix("C", 1);
                    fuzz_command(&cmd, l, parse);
                    line_mode =
                        strcmp(cmd.name, "AUTHENTICATE") == 0 || strcmp(cmd.name, "IDLE") == 0;
                } else if (rc == IMAP_READ_CONTINUE) {
                    fuzz_mix("+", 1);
                    /* the arguments so far end with the literal to come */
                    FUZZ_CHECK(cmd.tag_len > 0 && cmd.nliterals > 0);
                    FUZZ_CHECK(cmd.nargs == 0 || cmd.args != NULL);
                    /* a server refusing the command instead of "+" */
                    if (cmd.tag[0] == 'z') {
                        imap_reader_abort(&r);
                        fuzz_mix("A", 1);
                    }
                } else if (rc == IMAP_READ_ERROR) {
                    FUZZ_CHECK(strlen(cmd.tag) == cmd.tag_len && cmd.tag_len <= IMAP_TAG_MAX);
                    fuzz_mix(cmd.tag, cmd.tag_len);
                }
            }
            FUZZ_CHECK(consumed <= plen);
            if (rc == IMAP_READ_ERROR) {
                FUZZ_CHECK(err.text != NULL && strchr(err.text, '\r') == NULL);
                fuzz_mix("E", 1);
                fuzz_mix_u64(err.resp);
                if (line_mode)
                    line_mode = false;
                if (err.resp == IMAP_RESP_BYE) {
                    dead = true;
                    break;
                }
            }
            memmove(pending, pending + consumed, plen - consumed);
            plen -= consumed;
            if (rc == IMAP_READ_MORE) {
                FUZZ_CHECK(plen == 0);
                break;
            }
        }
    }
    imap_reader_free(&r);
    return fuzz_hash;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0 || size > FUZZ_MAX_INPUT)
        return 0;
    imap_reader_limits l;
    fuzz_limits(data[0], &l);
    const char *in = (const char *)data + 1;
    size_t len = size - 1;
    size_t cut = (size_t)data[0] * len / 255;

    uint64_t h1 = fuzz_run(in, len, 0, 0, &l, true);
    uint64_t h2 = fuzz_run(in, len, cut, 0, &l, false);
    FUZZ_CHECK(h1 == h2);
    if (len <= 2048) {
        uint64_t h3 = fuzz_run(in, len, 0, 1, &l, false);
        FUZZ_CHECK(h1 == h3);
    }
    return 0;
}
