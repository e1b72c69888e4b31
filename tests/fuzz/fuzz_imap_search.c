/* libFuzzer harness for SEARCH parsing (lib/imap/imap_search.h) and what it
 * leans on: sequence sets and dates. The first octet chooses the parse
 * flags; the rest is the argument text of "a SEARCH ...", read with the
 * command reader (literals fed on) and parsed. A tree must keep the limits
 * and the shape search_store.h relies on; the same text also goes to the
 * sequence set and date parsers, whose results must round-trip. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "imap_date.h"
#include "imap_flags.h"
#include "imap_reader.h"
#include "imap_search.h"
#include "imap_write.h"

#define FUZZ_CHECK(cond)                                                                           \
    do {                                                                                           \
        if (!(cond))                                                                               \
            abort();                                                                               \
    } while (0)

#define FUZZ_MAX_INPUT 16384

static void fuzz_set(const imap_seqset *set)
{
    FUZZ_CHECK(set->n <= IMAP_SEQSET_RANGES_MAX);
    for (size_t i = 0; i < set->n; i++) {
        FUZZ_CHECK(set->ranges[i].first >= 1 && set->ranges[i].first <= set->ranges[i].last);
        if (i > 0)
            FUZZ_CHECK((uint64_t)set->ranges[i - 1].last + 1 < set->ranges[i].first);
    }
    FUZZ_CHECK(!set->saved || (set->n == 0 && !set->star));
    FUZZ_CHECK(set->star || (set->star_lo == UINT32_MAX && set->star_hi == 0));
}

static void fuzz_string(const char *s, size_t len)
{
    FUZZ_CHECK(s != NULL && strlen(s) == len && len <= IMAP_SEARCH_STR_MAX);
    FUZZ_CHECK(imap_utf8_valid(s, len));
}

static size_t fuzz_key(const imap_search_key *k, unsigned depth)
{
    size_t nodes = 1;
    FUZZ_CHECK(depth <= IMAP_SEARCH_DEPTH_MAX + 1);
    switch (k->kind) {
    case IMAP_SK_AND:
    case IMAP_SK_OR:
    case IMAP_SK_NOT: {
        size_t n = 0;
        for (const imap_search_key *kid = k->kids; kid != NULL; kid = kid->next, n++) {
            /* flattened: no AND directly in an AND, no OR in an OR */
            FUZZ_CHECK(k->kind == IMAP_SK_NOT || kid->kind != k->kind);
            nodes += fuzz_key(kid, depth + 1);
        }
        FUZZ_CHECK(n == k->nkids);
        FUZZ_CHECK(k->kind == IMAP_SK_NOT ? n == 1 : n >= 2);
        break;
    }
    case IMAP_SK_UID:
    case IMAP_SK_SEQ:
        fuzz_set(&k->set);
        break;
    case IMAP_SK_FLAGS_SET:
    case IMAP_SK_FLAGS_CLEAR:
        FUZZ_CHECK(k->mask != 0 && (k->mask & ~0x1fu) == 0);
        break;
    case IMAP_SK_KEYWORD:
    case IMAP_SK_UNKEYWORD:
        FUZZ_CHECK(imap_keyword_valid(k->str, k->str_len));
        break;
    case IMAP_SK_BEFORE:
    case IMAP_SK_ON:
    case IMAP_SK_SINCE:
    case IMAP_SK_SENTBEFORE:
    case IMAP_SK_SENTON:
    case IMAP_SK_SENTSINCE:
        FUZZ_CHECK(k->num % 86400 == 0);
        break;
    case IMAP_SK_LARGER:
    case IMAP_SK_SMALLER:
    case IMAP_SK_MODSEQ:
        FUZZ_CHECK(k->num >= 0);
        break;
    case IMAP_SK_OLDER:
    case IMAP_SK_YOUNGER:
        FUZZ_CHECK(k->num >= 1 && k->num <= UINT32_MAX);
        break;
    case IMAP_SK_HEADER:
        FUZZ_CHECK(k->name_len >= 1 && k->name_len <= IMAP_SEARCH_FIELD_MAX);
        FUZZ_CHECK(strlen(k->name) == k->name_len && strchr(k->name, ':') == NULL);
        fuzz_string(k->str, k->str_len);
        break;
    case IMAP_SK_FROM:
    case IMAP_SK_TO:
    case IMAP_SK_CC:
    case IMAP_SK_SUBJECT:
    case IMAP_SK_BODY:
    case IMAP_SK_TEXT:
    case IMAP_SK_BCC:
        fuzz_string(k->str, k->str_len);
        break;
    case IMAP_SK_ALL:
    case IMAP_SK_RECENT:
        break;
    default:
        FUZZ_CHECK(0);
    }
    return nodes;
}

static void fuzz_search(const char *in, size_t len, unsigned flags)
{
    static char line[FUZZ_MAX_INPUT + 32];
    memcpy(line, "a SEARCH ", 9);
    memcpy(line + 9, in, len);
    memcpy(line + 9 + len, "\r\n", 2);
    size_t total = len + 11, off = 0, consumed;
    imap_reader r;
    imap_command cmd;
    imap_error err;
    int rc;

    imap_reader_init(&r, NULL);
    do {
        rc = imap_reader_next(&r, line + off, total - off, &consumed, &cmd, &err);
        off += consumed;
    } while (rc == IMAP_READ_CONTINUE);
    if (rc == IMAP_READ_COMMAND) {
        imap_search s;
        if (imap_search_parse(cmd.args, cmd.nargs, flags, &s, &err) == 0) {
            FUZZ_CHECK(s.root != NULL);
            FUZZ_CHECK(s.nnodes <= IMAP_SEARCH_NODES_MAX);
            FUZZ_CHECK(fuzz_key(s.root, 0) <= s.nnodes);
            FUZZ_CHECK(!s.esearch || (flags & IMAP_SEARCH_RETURN));
            FUZZ_CHECK(!s.saved || (flags & IMAP_SEARCH_SEARCHRES));
            imap_search_free(&s);
        } else {
            FUZZ_CHECK(err.text != NULL && s.root == NULL && s.nodes == NULL);
            FUZZ_CHECK(err.resp == IMAP_RESP_BAD || (err.resp == IMAP_RESP_NO && err.code != NULL));
        }
    }
    imap_reader_free(&r);
}

/* Sequence sets: parse, write, parse again gives the same ranges. */
static void fuzz_seqset(const char *in, size_t len)
{
    imap_seqset set, again;
    imap_error err;
    if (imap_seqset_parse(in, len, IMAP_SEQSET_ALLOW_SAVED, &set, &err) < 0) {
        FUZZ_CHECK(set.ranges == NULL && set.n == 0);
        return;
    }
    fuzz_set(&set);
    uint32_t star = len > 0 ? (uint32_t)(unsigned char)in[0] * 1000u : 0;
    bool before[64];
    for (uint32_t n = 0; n < 64; n++)
        before[n] = imap_seqset_contains(&set, star, n);
    if (imap_seqset_resolve(&set, star, false, &err) == 0) {
        FUZZ_CHECK(!set.star);
        fuzz_set(&set);
        for (uint32_t n = 1; n < 64; n++)
            FUZZ_CHECK(before[n] == imap_seqset_contains(&set, star, n));
        if (set.n > 0) {
            buf b;
            buf_init(&b, 1 << 20);
            FUZZ_CHECK(imap_write_ranges(&b, set.ranges, set.n) == 0);
            FUZZ_CHECK(imap_seqset_parse(b.data, b.len, 0, &again, &err) == 0);
            FUZZ_CHECK(again.n == set.n && !again.star);
            FUZZ_CHECK(memcmp(again.ranges, set.ranges, set.n * sizeof(set.ranges[0])) == 0);
            imap_seqset_free(&again);
            buf_free(&b);
        }
        uint64_t count = 0;
        imap_seqset_iter it;
        uint32_t n, prev = 0;
        imap_seqset_iter_init(&it, &set);
        while (count < 1000 && imap_seqset_iter_next(&it, &n)) {
            FUZZ_CHECK(n > prev && imap_seqset_contains(&set, star, n));
            prev = n;
            count++;
        }
        FUZZ_CHECK(count == 1000 || count == imap_seqset_count(&set));
    }
    imap_seqset_free(&set);
}

static void fuzz_dates(const char *in, size_t len)
{
    int64_t t, again;
    if (imap_date_parse(in, len, &t) == 0)
        FUZZ_CHECK(t % 86400 == 0);
    if (imap_date_time_parse(in, len, &t) == 0) {
        char out[IMAP_DATE_TIME_LEN + 1];
        int tz = len > 0 ? (int)(unsigned char)in[0] * 11 - 1400 : 0;
        if (imap_date_time_format(t, tz, out) == 0) {
            FUZZ_CHECK(strlen(out) == IMAP_DATE_TIME_LEN);
            FUZZ_CHECK(imap_date_time_parse(out, strlen(out), &again) == 0 && again == t);
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0 || size > FUZZ_MAX_INPUT)
        return 0;
    unsigned flags = data[0] & 7;
    const char *in = (const char *)data + 1;
    size_t len = size - 1;

    fuzz_search(in, len, flags);
    fuzz_seqset(in, len);
    fuzz_dates(in, len);
    return 0;
}
