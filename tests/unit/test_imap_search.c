/* Table-driven tests of SEARCH parsing (lib/imap/imap_search.h): each row
 * is a command line, read with the command reader, then parsed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "imap_flags.h"
#include "imap_reader.h"
#include "imap_search.h"

static void put(char *out, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void put(char *out, size_t size, const char *fmt, ...)
{
    size_t n = strlen(out);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(out + n, size - n, fmt, ap);
    va_end(ap);
}

/* Reads "a <text>\r\n" as one command (literals are fed on). */
static void read_command(imap_reader *r, const char *text, imap_command *cmd)
{
    char line[16384];
    int len = snprintf(line, sizeof(line), "a %s\r\n", text);
    size_t off = 0, consumed;
    imap_error err;
    int rc;
    assert_true(len > 0 && (size_t)len < sizeof(line));
    do {
        rc = imap_reader_next(r, line + off, (size_t)len - off, &consumed, cmd, &err);
        off += consumed;
    } while (rc == IMAP_READ_CONTINUE);
    if (rc != IMAP_READ_COMMAND)
        fail_msg("reader: \"%s\": %d %s", text, rc, rc < 0 ? err.text : "");
}

static void describe_set(const imap_seqset *set, char *out, size_t size)
{
    if (set->saved) {
        put(out, size, "$");
        return;
    }
    for (size_t i = 0; i < set->n; i++) {
        const imap_seq_range *r = &set->ranges[i];
        if (r->first == r->last)
            put(out, size, "%s%u", i > 0 ? "," : "", r->first);
        else
            put(out, size, "%s%u:%u", i > 0 ? "," : "", r->first, r->last);
    }
    if (set->star) {
        put(out, size, "%s*", set->n > 0 ? " " : "");
        if (set->star_hi != 0)
            put(out, size, "(%u,%u)", set->star_lo, set->star_hi);
    }
}

static void describe_flags(unsigned mask, char *out, size_t size)
{
    bool first = true;
    for (unsigned bit = 1; bit <= IMAP_FLAG_RECENT; bit <<= 1) {
        if (mask & bit) {
            put(out, size, "%s%s", first ? "" : ",", imap_flag_name(bit));
            first = false;
        }
    }
}

static void describe_key(const imap_search_key *k, char *out, size_t size)
{
    const char *name = imap_search_kind_name(k->kind);
    switch (k->kind) {
    case IMAP_SK_ALL:
    case IMAP_SK_RECENT:
        put(out, size, "%s", name);
        break;
    case IMAP_SK_AND:
    case IMAP_SK_OR:
    case IMAP_SK_NOT: {
        put(out, size, "%s(", name);
        size_t n = 0;
        for (const imap_search_key *kid = k->kids; kid != NULL; kid = kid->next, n++) {
            if (n > 0)
                put(out, size, " ");
            describe_key(kid, out, size);
        }
        assert_int_equal(n, k->nkids);
        assert_true(k->kind != IMAP_SK_NOT || n == 1);
        assert_true(k->kind == IMAP_SK_NOT || n >= 2);
        put(out, size, ")");
        break;
    }
    case IMAP_SK_UID:
    case IMAP_SK_SEQ:
        put(out, size, "%s ", name);
        describe_set(&k->set, out, size);
        break;
    case IMAP_SK_FLAGS_SET:
    case IMAP_SK_FLAGS_CLEAR:
        put(out, size, "%s(", k->kind == IMAP_SK_FLAGS_SET ? "SET" : "CLEAR");
        describe_flags(k->mask, out, size);
        put(out, size, ")");
        break;
    case IMAP_SK_BEFORE:
    case IMAP_SK_ON:
    case IMAP_SK_SINCE:
    case IMAP_SK_SENTBEFORE:
    case IMAP_SK_SENTON:
    case IMAP_SK_SENTSINCE: {
        time_t t = (time_t)k->num;
        struct tm tm;
        assert_non_null(gmtime_r(&t, &tm));
        assert_int_equal(tm.tm_hour + tm.tm_min + tm.tm_sec, 0);
        put(out, size, "%s:%04d-%02d-%02d", name, tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
        break;
    }
    case IMAP_SK_LARGER:
    case IMAP_SK_SMALLER:
    case IMAP_SK_OLDER:
    case IMAP_SK_YOUNGER:
        put(out, size, "%s:%lld", name, (long long)k->num);
        break;
    case IMAP_SK_MODSEQ:
        put(out, size, "MODSEQ:");
        if (k->name != NULL) {
            static const char *const types[] = {"", "priv", "shared", "all"};
            put(out, size, "%s/%s:", k->name, types[k->entry_type]);
        }
        put(out, size, "%lld", (long long)k->num);
        break;
    case IMAP_SK_HEADER:
        put(out, size, "HEADER:%s=\"%s\"", k->name, k->str);
        assert_int_equal(strlen(k->name), k->name_len);
        break;
    default:
        put(out, size, "%s:\"%s\"", name, k->str);
        assert_int_equal(strlen(k->str), k->str_len);
        break;
    }
}

static void describe(const imap_search *s, char *out, size_t size)
{
    static const char *const rets[] = {"MIN", "MAX", "ALL", "COUNT", "SAVE"};
    out[0] = '\0';
    if (s->esearch) {
        put(out, size, "RET(");
        bool first = true;
        for (unsigned i = 0; i < 5; i++) {
            if (s->ret & (1u << i)) {
                put(out, size, "%s%s", first ? "" : ",", rets[i]);
                first = false;
            }
        }
        put(out, size, ") ");
    }
    if (s->charset != IMAP_CHARSET_NONE)
        put(out, size, "CS:%s ", s->charset == IMAP_CHARSET_UTF8 ? "UTF-8" : "US-ASCII");
    describe_key(s->root, out, size);
    if (s->modseq)
        put(out, size, " +modseq");
    if (s->saved)
        put(out, size, " +saved");
}

typedef struct {
    const char *text; /* the command after its tag */
    unsigned flags;
    const char *want; /* describe(), or "ERR <resp> [code]" */
} search_row;

#define RET IMAP_SEARCH_RETURN
#define RES IMAP_SEARCH_SEARCHRES
#define CSA IMAP_SEARCH_CHARSET_ARG

static const search_row search_rows[] = {
    /* keys without an argument (RFC 9051 6.4.4, RFC 3501 6.4.4) */
    {"SEARCH ALL", 0, "ALL"},
    {"SEARCH all", 0, "ALL"},
    {"SEARCH ANSWERED", 0, "SET(\\Answered)"},
    {"SEARCH deleted", 0, "SET(\\Deleted)"},
    {"SEARCH DRAFT", 0, "SET(\\Draft)"},
    {"SEARCH FLAGGED", 0, "SET(\\Flagged)"},
    {"SEARCH SEEN", 0, "SET(\\Seen)"},
    {"SEARCH UNANSWERED", 0, "CLEAR(\\Answered)"},
    {"SEARCH UNDELETED", 0, "CLEAR(\\Deleted)"},
    {"SEARCH UNDRAFT", 0, "CLEAR(\\Draft)"},
    {"SEARCH UNFLAGGED", 0, "CLEAR(\\Flagged)"},
    {"SEARCH UNSEEN", 0, "CLEAR(\\Seen)"},
    {"SEARCH RECENT", 0, "RECENT"},
    {"SEARCH NEW", 0, "AND(RECENT CLEAR(\\Seen))"},
    {"SEARCH OLD", 0, "NOT(RECENT)"},
    /* strings: astrings, quoted, literals, UTF-8 */
    {"SEARCH BCC x", 0, "BCC:\"x\""},
    {"SEARCH BODY \"hello world\"", 0, "BODY:\"hello world\""},
    {"SEARCH CC c@example.org", 0, "CC:\"c@example.org\""},
    {"SEARCH FROM \"Smith\"", 0, "FROM:\"Smith\""},
    {"SEARCH SUBJECT {5}\r\nhello", 0, "SUBJECT:\"hello\""},
    {"SEARCH SUBJECT {5+}\r\nhello TO x", 0, "AND(SUBJECT:\"hello\" TO:\"x\")"},
    {"SEARCH TEXT \"caf\xc3\xa9\"", 0, "TEXT:\"caf\xc3\xa9\""},
    {"SEARCH CHARSET UTF-8 TEXT {5}\r\ncaf\xc3\xa9", 0, "CS:UTF-8 TEXT:\"caf\xc3\xa9\""},
    {"SEARCH TO NIL", 0, "TO:\"NIL\""},
    {"SEARCH SUBJECT \"\"", 0, "SUBJECT:\"\""},
    {"SEARCH SUBJECT [x]", 0, "SUBJECT:\"[x]\""},
    {"SEARCH SUBJECT", 0, "ERR BAD"},
    {"SEARCH SUBJECT (a)", 0, "ERR BAD"},
    {"SEARCH SUBJECT a%b", 0, "ERR BAD"},
    {"SEARCH SUBJECT a*", 0, "ERR BAD"},
    {"SEARCH SUBJECT ~{2}\r\nab", 0, "ERR BAD"},
    {"SEARCH SUBJECT {2}\r\n\xc3\x28", 0, "ERR BAD"},
    {"SEARCH CHARSET US-ASCII SUBJECT \"caf\xc3\xa9\"", 0, "ERR BAD"},
    {"SEARCH CHARSET US-ASCII SUBJECT cafe", 0, "CS:US-ASCII SUBJECT:\"cafe\""},
    /* HEADER */
    {"SEARCH HEADER X-Foo bar", 0, "HEADER:X-Foo=\"bar\""},
    {"SEARCH HEADER \"Message-ID\" \"<a@b>\"", 0, "HEADER:Message-ID=\"<a@b>\""},
    {"SEARCH HEADER X-Foo \"\"", 0, "HEADER:X-Foo=\"\""},
    {"SEARCH HEADER \"a:b\" x", 0, "ERR BAD"},
    {"SEARCH HEADER \"\" x", 0, "ERR BAD"},
    {"SEARCH HEADER \"a b\" x", 0, "ERR BAD"},
    {"SEARCH HEADER X-Foo", 0, "ERR BAD"},
    /* keywords */
    {"SEARCH KEYWORD $Forwarded", 0, "KEYWORD:\"$Forwarded\""},
    {"SEARCH UNKEYWORD Junk", 0, "UNKEYWORD:\"Junk\""},
    {"SEARCH KEYWORD NIL", 0, "KEYWORD:\"NIL\""},
    {"SEARCH KEYWORD \\Seen", 0, "ERR BAD"},
    {"SEARCH KEYWORD \"foo\"", 0, "ERR BAD"},
    {"SEARCH KEYWORD foo]", 0, "ERR BAD"},
    {"SEARCH KEYWORD", 0, "ERR BAD"},
    /* dates: d-Mon-yyyy, 00:00 UTC of that day */
    {"SEARCH BEFORE 1-Feb-1994", 0, "BEFORE:1994-02-01"},
    {"SEARCH ON \"01-feb-1994\"", 0, "ON:1994-02-01"},
    {"SEARCH SINCE 29-Feb-2024", 0, "SINCE:2024-02-29"},
    {"SEARCH SENTBEFORE 31-Dec-1969", 0, "SENTBEFORE:1969-12-31"},
    {"SEARCH SENTON 1-Jan-1970", 0, "SENTON:1970-01-01"},
    {"SEARCH SENTSINCE 31-DEC-9999", 0, "SENTSINCE:9999-12-31"},
    {"SEARCH SINCE 29-Feb-2000", 0, "SINCE:2000-02-29"},
    {"SEARCH SINCE 29-Feb-2023", 0, "ERR BAD"},
    {"SEARCH SINCE 29-Feb-1900", 0, "ERR BAD"},
    {"SEARCH SINCE 31-Apr-2024", 0, "ERR BAD"},
    {"SEARCH SINCE 0-Jan-2000", 0, "ERR BAD"},
    {"SEARCH SINCE 1-Foo-2024", 0, "ERR BAD"},
    {"SEARCH SINCE 1-Feb-94", 0, "ERR BAD"},
    {"SEARCH SINCE 001-Feb-1994", 0, "ERR BAD"},
    {"SEARCH SINCE 1-Feb-1994x", 0, "ERR BAD"},
    {"SEARCH SINCE \" 1-Feb-1994\"", 0, "ERR BAD"},
    {"SEARCH SINCE 1 Feb 1994", 0, "ERR BAD"},
    {"SEARCH SINCE", 0, "ERR BAD"},
    /* numbers */
    {"SEARCH LARGER 100", 0, "LARGER:100"},
    {"SEARCH SMALLER 0", 0, "SMALLER:0"},
    {"SEARCH LARGER 9223372036854775807", 0, "LARGER:9223372036854775807"},
    {"SEARCH LARGER 9223372036854775808", 0, "ERR BAD"},
    {"SEARCH LARGER -1", 0, "ERR BAD"},
    {"SEARCH LARGER x", 0, "ERR BAD"},
    {"SEARCH LARGER \"5\"", 0, "ERR BAD"},
    {"SEARCH OLDER 3600", 0, "OLDER:3600"},
    {"SEARCH YOUNGER 60", 0, "YOUNGER:60"},
    {"SEARCH YOUNGER 0", 0, "ERR BAD"},
    /* sets */
    {"SEARCH 1:3,5", 0, "SEQ 1:3,5"},
    {"SEARCH *", 0, "SEQ *"},
    {"SEARCH 2:* UNSEEN", 0, "AND(SEQ *(2,2) CLEAR(\\Seen))"},
    {"SEARCH UID 1:*", 0, "UID *(1,1)"},
    {"SEARCH UID 5,3", 0, "UID 3,5"},
    {"SEARCH UID 0", 0, "ERR BAD"},
    {"SEARCH 0", 0, "ERR BAD"},
    {"SEARCH UID", 0, "ERR BAD"},
    {"SEARCH UID \"1\"", 0, "ERR BAD"},
    {"SEARCH $", RES, "SEQ $ +saved"},
    {"SEARCH UID $ SEEN", RES, "AND(UID $ SET(\\Seen)) +saved"},
    {"SEARCH $", 0, "ERR BAD"},
    {"SEARCH UID $", 0, "ERR BAD"},
    /* NOT, OR, parentheses; chains flattened */
    {"SEARCH NOT SEEN", 0, "NOT(SET(\\Seen))"},
    {"SEARCH NOT NOT SEEN", 0, "NOT(NOT(SET(\\Seen)))"},
    {"SEARCH OR SEEN FLAGGED", 0, "OR(SET(\\Seen) SET(\\Flagged))"},
    {"SEARCH OR (SEEN DRAFT) FLAGGED", 0, "OR(AND(SET(\\Seen) SET(\\Draft)) SET(\\Flagged))"},
    {"SEARCH OR OR FROM a FROM b FROM c", 0, "OR(FROM:\"a\" FROM:\"b\" FROM:\"c\")"},
    {"SEARCH OR FROM a OR FROM b FROM c", 0, "OR(FROM:\"a\" FROM:\"b\" FROM:\"c\")"},
    {"SEARCH OR OR OR SUBJECT x FROM x TO x CC x", 0,
     "OR(SUBJECT:\"x\" FROM:\"x\" TO:\"x\" CC:\"x\")"},
    {"SEARCH NOT OR SEEN DRAFT", 0, "NOT(OR(SET(\\Seen) SET(\\Draft)))"},
    {"SEARCH OR NOT SEEN NOT DRAFT", 0, "OR(NOT(SET(\\Seen)) NOT(SET(\\Draft)))"},
    {"SEARCH FLAGGED SINCE 1-Feb-1994 NOT FROM \"Smith\"", 0,
     "AND(SET(\\Flagged) SINCE:1994-02-01 NOT(FROM:\"Smith\"))"},
    {"SEARCH (SEEN)", 0, "SET(\\Seen)"},
    {"SEARCH ((SEEN))", 0, "SET(\\Seen)"},
    {"SEARCH (SEEN DRAFT) FLAGGED", 0, "AND(SET(\\Seen) SET(\\Draft) SET(\\Flagged))"},
    {"SEARCH (OR SEEN DRAFT) (OR FLAGGED ANSWERED)", 0,
     "AND(OR(SET(\\Seen) SET(\\Draft)) OR(SET(\\Flagged) SET(\\Answered)))"},
    {"SEARCH NEW OLD", 0, "AND(RECENT CLEAR(\\Seen) NOT(RECENT))"},
    {"SEARCH ()", 0, "ERR BAD"},
    {"SEARCH OR SEEN", 0, "ERR BAD"},
    {"SEARCH NOT", 0, "ERR BAD"},
    {"SEARCH (SEEN", 0, "READER"},
    {"SEARCH FOO", 0, "ERR BAD"},
    {"SEARCH \"SEEN\"", 0, "ERR BAD"},
    {"SEARCH {4}\r\nSEEN", 0, "ERR BAD"},
    {"SEARCH", 0, "ERR BAD"},
    /* MODSEQ (RFC 7162 3.1.5) */
    {"SEARCH MODSEQ 5", 0, "MODSEQ:5 +modseq"},
    {"SEARCH MODSEQ 0", 0, "MODSEQ:0 +modseq"},
    {"SEARCH MODSEQ \"/flags/\\\\draft\" all 620162338", 0,
     "MODSEQ:/flags/\\draft/all:620162338 +modseq"},
    {"SEARCH MODSEQ \"/flags/$Junk\" PRIV 7 SEEN", 0,
     "AND(MODSEQ:/flags/$Junk/priv:7 SET(\\Seen)) +modseq"},
    {"SEARCH MODSEQ \"/flags/x\" both 5", 0, "ERR BAD"},
    {"SEARCH MODSEQ \"/x\" all 5", 0, "ERR BAD"},
    {"SEARCH MODSEQ \"/flags/\\\\seen\" priv", 0, "ERR BAD"},
    {"SEARCH MODSEQ", 0, "ERR BAD"},
    {"SEARCH MODSEQ x", 0, "ERR BAD"},
    /* RETURN (RFC 4731, RFC 9051 6.4.4.1, RFC 5182) */
    {"SEARCH RETURN (MIN MAX) SEEN", RET, "RET(MIN,MAX) SET(\\Seen)"},
    {"SEARCH RETURN () ALL", RET, "RET(ALL) ALL"},
    {"SEARCH RETURN (count all) CHARSET UTF-8 ALL", RET, "RET(ALL,COUNT) CS:UTF-8 ALL"},
    {"SEARCH RETURN (MIN MIN) ALL", RET, "RET(MIN) ALL"},
    {"SEARCH RETURN (SAVE) ALL", RET | RES, "RET(SAVE) ALL"},
    {"SEARCH RETURN (SAVE MIN) ALL", RET | RES, "RET(MIN,SAVE) ALL"},
    {"SEARCH RETURN (SAVE) ALL", RET, "ERR BAD"},
    {"SEARCH RETURN (FOO) ALL", RET, "ERR BAD"},
    {"SEARCH RETURN ((MIN)) ALL", RET, "ERR BAD"},
    {"SEARCH RETURN ALL", RET, "ERR BAD"},
    {"SEARCH RETURN (MIN)", RET, "ERR BAD"},
    {"SEARCH RETURN", RET, "ERR BAD"},
    {"SEARCH RETURN (MIN) ALL", 0, "ERR BAD"},
    {"SEARCH CHARSET UTF-8 RETURN (MIN) ALL", RET, "ERR BAD"},
    /* CHARSET */
    {"SEARCH CHARSET UTF-8 ALL", 0, "CS:UTF-8 ALL"},
    {"SEARCH CHARSET us-ascii ALL", 0, "CS:US-ASCII ALL"},
    {"SEARCH CHARSET \"UTF-8\" ALL", 0, "CS:UTF-8 ALL"},
    {"SEARCH CHARSET ISO-8859-1 ALL", 0, "ERR NO BADCHARSET (UTF-8 US-ASCII)"},
    {"SEARCH CHARSET UTF8 ALL", 0, "ERR NO BADCHARSET (UTF-8 US-ASCII)"},
    {"SEARCH CHARSET", 0, "ERR BAD"},
    {"SEARCH CHARSET UTF-8", 0, "ERR BAD"},
    {"SEARCH CHARSET (UTF-8) ALL", 0, "ERR BAD"},
    /* SORT / THREAD: the charset first (RFC 5256 3) */
    {"THREAD UTF-8 SEEN", CSA, "CS:UTF-8 SET(\\Seen)"},
    {"THREAD US-ASCII ALL", CSA, "CS:US-ASCII ALL"},
    {"THREAD KOI8-R SEEN", CSA, "ERR NO BADCHARSET (UTF-8 US-ASCII)"},
    {"THREAD UTF-8", CSA, "ERR BAD"},
    {"THREAD", CSA, "ERR BAD"},
    {"THREAD CHARSET UTF-8 ALL", CSA | RET, "ERR NO BADCHARSET (UTF-8 US-ASCII)"},
};

static void check_search(const char *text, unsigned flags, const char *want, size_t row)
{
    imap_reader r;
    imap_command cmd;
    imap_search s;
    imap_error err = {0};
    static char got[16384];

    imap_reader_init(&r, NULL);
    if (strcmp(want, "READER") == 0) {
        char line[256];
        size_t consumed;
        int len = snprintf(line, sizeof(line), "a %s\r\n", text);
        assert_int_equal(imap_reader_next(&r, line, (size_t)len, &consumed, &cmd, &err), -1);
        imap_reader_free(&r);
        return;
    }
    read_command(&r, text, &cmd);
    if (imap_search_parse(cmd.args, cmd.nargs, flags, &s, &err) == 0) {
        describe(&s, got, sizeof(got));
        imap_search_free(&s);
    } else {
        assert_non_null(err.text);
        assert_null(s.root);
        snprintf(got, sizeof(got), "ERR %s%s%s", err.resp == IMAP_RESP_BAD ? "BAD" : "NO",
                 err.code != NULL ? " " : "", err.code != NULL ? err.code : "");
    }
    if (strcmp(got, want) != 0)
        fail_msg("row %zu \"%s\": got \"%s\", wanted \"%s\"", row, text, got, want);
    imap_reader_free(&r);
}

static void test_search_rows(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(search_rows) / sizeof(search_rows[0]); i++)
        check_search(search_rows[i].text, search_rows[i].flags, search_rows[i].want, i);
}

/* Nesting and node count (IMAP_SEARCH_DEPTH_MAX, IMAP_SEARCH_NODES_MAX). */
static void test_search_limits(void **state)
{
    (void)state;
    char text[8192], want[8192];

    /* 32 NOTs nest the key at depth 32: fine; 33 are too many */
    for (int nots = 32; nots <= 33; nots++) {
        strcpy(text, "SEARCH");
        want[0] = '\0';
        for (int i = 0; i < nots; i++) {
            strcat(text, " NOT");
            strcat(want, "NOT(");
        }
        strcat(text, " SEEN");
        strcat(want, "SET(\\Seen)");
        for (int i = 0; i < nots; i++)
            strcat(want, ")");
        check_search(text, 0, nots <= 32 ? want : "ERR BAD LIMIT", 1000);
    }
    /* 255 keys and their AND: 256 nodes */
    for (int keys = 255; keys <= 256; keys++) {
        strcpy(text, "SEARCH");
        strcpy(want, "AND(");
        for (int i = 0; i < keys; i++) {
            strcat(text, " SEEN");
            strcat(want, i > 0 ? " SET(\\Seen)" : "SET(\\Seen)");
        }
        strcat(want, ")");
        check_search(text, 0, keys <= 255 ? want : "ERR BAD LIMIT", 1001);
    }
    /* a long OR chain stays one OR */
    strcpy(text, "SEARCH");
    for (int i = 0; i < 100; i++)
        strcat(text, " OR");
    strcpy(want, "OR(");
    for (int i = 0; i <= 100; i++) {
        char k[32];
        snprintf(k, sizeof(k), " FROM f%d", i);
        strcat(text, k);
        snprintf(k, sizeof(k), "%sFROM:\"f%d\"", i > 0 ? " " : "", i);
        strcat(want, k);
    }
    strcat(want, ")");
    /* 100 nested ORs are over the parse depth */
    check_search(text, 0, "ERR BAD LIMIT", 1002);
}

/* A search string of IMAP_SEARCH_STR_MAX octets, and one more. */
static void test_search_string_limit(void **state)
{
    (void)state;
    char text[IMAP_SEARCH_STR_MAX + 64], want[IMAP_SEARCH_STR_MAX + 64];
    for (size_t n = IMAP_SEARCH_STR_MAX; n <= IMAP_SEARCH_STR_MAX + 1; n++) {
        int k = snprintf(text, sizeof(text), "SEARCH BODY {%zu}\r\n", n);
        memset(text + k, 's', n);
        text[k + (int)n] = '\0';
        strcpy(want, "BODY:\"");
        memset(want + 6, 's', n);
        strcpy(want + 6 + n, "\"");
        check_search(text, 0, n <= IMAP_SEARCH_STR_MAX ? want : "ERR BAD LIMIT", 1003);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_search_rows),
        cmocka_unit_test(test_search_limits),
        cmocka_unit_test(test_search_string_limit),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
