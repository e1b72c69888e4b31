/* Table-driven tests of FETCH attributes, sections, STORE and flag lists
 * (lib/imap/imap_fetch.h, imap_flags.h). Each row is a command line read
 * with the command reader, then parsed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "imap_fetch.h"
#include "imap_flags.h"
#include "imap_reader.h"

static void put(char *out, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void put(char *out, size_t size, const char *fmt, ...)
{
    size_t n = strlen(out);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(out + n, size - n, fmt, ap);
    va_end(ap);
}

static void read_command(imap_reader *r, const char *text, imap_command *cmd)
{
    static char line[32768];
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
    if (set->saved)
        put(out, size, "$");
    for (size_t i = 0; i < set->n; i++) {
        const imap_seq_range *r = &set->ranges[i];
        if (r->first == r->last)
            put(out, size, "%s%u", i > 0 ? "," : "", r->first);
        else
            put(out, size, "%s%u:%u", i > 0 ? "," : "", r->first, r->last);
    }
    if (set->star)
        put(out, size, "%s*", set->n > 0 ? "," : "");
}

static void describe_fetch(const imap_fetch *f, char *out, size_t size)
{
    out[0] = '\0';
    describe_set(&f->set, out, size);
    put(out, size, " |");
    for (size_t i = 0; i < f->natts; i++) {
        const imap_fetch_att *a = &f->atts[i];
        buf b;
        buf_init(&b, 4096);
        assert_int_equal(imap_fetch_att_name(a, &b), 0);
        put(out, size, "%s %s", i > 0 ? "," : "", b.data);
        buf_free(&b);
        if (a->peek)
            put(out, size, " peek");
        if (a->partial)
            put(out, size, " n=%llu", (unsigned long long)a->count);
        if (a->lazy)
            put(out, size, " lazy");
    }
    if (f->sets_seen)
        put(out, size, " | seen");
    if (f->has_changedsince)
        put(out, size, " | since=%llu", (unsigned long long)f->changedsince);
    if (f->vanished)
        put(out, size, " | vanished");
    if (f->condstore)
        put(out, size, " | condstore");
}

typedef struct {
    const char *text;
    unsigned flags;
    const char *want; /* describe, or "ERR" / "ERR LIMIT" */
} fetch_row;

#define UIDF IMAP_FETCH_F_UID
#define QRS IMAP_FETCH_F_QRESYNC

static const fetch_row fetch_rows[] = {
    /* macros (RFC 9051 6.4.5) */
    {"FETCH 1 ALL", 0, "1 | FLAGS, INTERNALDATE, RFC822.SIZE, ENVELOPE"},
    {"FETCH 1:* fast", 0, "* | FLAGS, INTERNALDATE, RFC822.SIZE"},
    {"FETCH 2,4 FULL", 0, "2,4 | FLAGS, INTERNALDATE, RFC822.SIZE, ENVELOPE, BODY"},
    {"FETCH 1 (ALL)", 0, "ERR"},
    {"FETCH 1 (FLAGS FAST)", 0, "ERR"},
    /* plain attributes */
    {"FETCH 1 flags", 0, "1 | FLAGS"},
    {"FETCH 1 (FLAGS UID RFC822.SIZE INTERNALDATE ENVELOPE BODY BODYSTRUCTURE MODSEQ)", 0,
     "1 | FLAGS, UID, RFC822.SIZE, INTERNALDATE, ENVELOPE, BODY, BODYSTRUCTURE, MODSEQ | "
     "condstore"},
    {"FETCH 1 (RFC822)", 0, "1 | RFC822 | seen"},
    {"FETCH 1 RFC822.HEADER", 0, "1 | RFC822.HEADER"},
    {"FETCH 1 RFC822.TEXT", 0, "1 | RFC822.TEXT | seen"},
    {"FETCH 1 (UID UID)", 0, "1 | UID, UID"},
    {"FETCH 1 PREVIEW", 0, "1 | PREVIEW"},
    {"FETCH 1 (UID PREVIEW (LAZY))", 0, "1 | UID, PREVIEW lazy"},
    {"FETCH 1 (PREVIEW (lazy) FLAGS)", 0, "1 | PREVIEW lazy, FLAGS"},
    {"FETCH 1 PREVIEW (LAZY)", 0, "1 | PREVIEW lazy"},
    {"FETCH 1 (PREVIEW (LAZY BAR))", 0, "ERR"},
    {"FETCH 1 (PREVIEW (FOO))", 0, "ERR"},
    {"FETCH 1", 0, "ERR"},
    {"FETCH 1 ()", 0, "ERR"},
    {"FETCH 1 FOO", 0, "ERR"},
    {"FETCH 1 (FLAGS FOO)", 0, "ERR"},
    {"FETCH 1 \"FLAGS\"", 0, "ERR"},
    {"FETCH 1 FLAGS FLAGS", 0, "ERR"},
    {"FETCH 1 (FLAGS (UID))", 0, "ERR"},
    {"FETCH 1 RFC822.SIZE[]", 0, "ERR"},
    {"FETCH 1 BODYSTRUCTURE[1]", 0, "ERR"},
    /* sets */
    {"FETCH 0 FLAGS", 0, "ERR"},
    {"FETCH $ FLAGS", IMAP_FETCH_F_SEARCHRES, "$ | FLAGS"},
    {"FETCH $ FLAGS", 0, "ERR"},
    {"FETCH \"1\" FLAGS", 0, "ERR"},
    /* BODY[section]<partial> */
    {"FETCH 1 BODY[]", 0, "1 | BODY[] | seen"},
    {"FETCH 1 BODY.PEEK[]", 0, "1 | BODY[] peek"},
    {"FETCH 1 body.peek[header.fields (From To)]", 0, "1 | BODY[HEADER.FIELDS (From To)] peek"},
    {"FETCH 1 BODY.PEEK[HEADER.FIELDS.NOT (Received)]", 0,
     "1 | BODY[HEADER.FIELDS.NOT (Received)] peek"},
    {"FETCH 1 BODY[HEADER.FIELDS (\"X-A\" b)]", 0, "1 | BODY[HEADER.FIELDS (X-A b)] | seen"},
    {"FETCH 1 BODY.PEEK[HEADER.FIELDS (\"X(Y\")]", 0, "1 | BODY[HEADER.FIELDS (\"X(Y\")] peek"},
    {"FETCH 1 BODY.PEEK[HEADER]", 0, "1 | BODY[HEADER] peek"},
    {"FETCH 1 BODY[TEXT]", 0, "1 | BODY[TEXT] | seen"},
    {"FETCH 1 BODY[1]", 0, "1 | BODY[1] | seen"},
    {"FETCH 1 BODY[1.2.3.MIME]", 0, "1 | BODY[1.2.3.MIME] | seen"},
    {"FETCH 1 BODY[1.HEADER]", 0, "1 | BODY[1.HEADER] | seen"},
    {"FETCH 1 BODY[2.HEADER.FIELDS (a)]", 0, "1 | BODY[2.HEADER.FIELDS (a)] | seen"},
    {"FETCH 1 BODY[1.2.TEXT]<0.1024>", 0, "1 | BODY[1.2.TEXT]<0> n=1024 | seen"},
    {"FETCH 1 BODY.PEEK[]<100.5>", 0, "1 | BODY[]<100> peek n=5"},
    {"FETCH 1 BODY[4294967295]", 0, "1 | BODY[4294967295] | seen"},
    {"FETCH 1 (BODY.PEEK[HEADER.FIELDS (From To)]<0.100> UID)", 0,
     "1 | BODY[HEADER.FIELDS (From To)]<0> peek n=100, UID"},
    {"FETCH 1 BODY[]<9223372036854775807.1>", 0, "1 | BODY[]<9223372036854775807> n=1 | seen"},
    {"FETCH 1 BODY[]<9223372036854775808.1>", 0, "ERR"},
    {"FETCH 1 BODY[]<0.0>", 0, "ERR"},
    {"FETCH 1 BODY[]<5>", 0, "ERR"},
    {"FETCH 1 BODY[]<1.2", 0, "ERR"},
    {"FETCH 1 BODY[]<a.b>", 0, "ERR"},
    {"FETCH 1 BODY[]<.5>", 0, "ERR"},
    {"FETCH 1 BODY[]<1.2>x", 0, "ERR"},
    {"FETCH 1 BODY[MIME]", 0, "ERR"},
    {"FETCH 1 BODY[0]", 0, "ERR"},
    {"FETCH 1 BODY[1.0]", 0, "ERR"},
    {"FETCH 1 BODY[01]", 0, "ERR"},
    {"FETCH 1 BODY[1.]", 0, "ERR"},
    {"FETCH 1 BODY[.1]", 0, "ERR"},
    {"FETCH 1 BODY[1..2]", 0, "ERR"},
    {"FETCH 1 BODY[TEXT.1]", 0, "ERR"},
    {"FETCH 1 BODY[4294967296]", 0, "ERR"},
    {"FETCH 1 BODY[HEADER.FIELDS]", 0, "ERR"},
    {"FETCH 1 BODY[HEADER.FIELDS ()]", 0, "ERR"},
    {"FETCH 1 BODY[HEADER.FIELDS (a:b)]", 0, "ERR"},
    {"FETCH 1 BODY[HEADER.FIELDS  (a)]", 0, "ERR"},
    {"FETCH 1 BODY[HEADER.FIELDS (a )]", 0, "ERR"},
    {"FETCH 1 BODY[HEADER.FIELDS (a  b)]", 0, "ERR"},
    {"FETCH 1 BODY[HEADER.FIELDS (\"a b\")]", 0, "ERR"},
    {"FETCH 1 BODY[HEADER.FIELDS (\"\")]", 0, "ERR"},
    {"FETCH 1 BODY[HEADER.FIELDS (a) x]", 0, "ERR"},
    {"FETCH 1 BODY[HEADER ]", 0, "ERR"},
    {"FETCH 1 BODY[HEADERS]", 0, "ERR"},
    {"FETCH 1 BODY[TEXT (a)]", 0, "ERR"},
    {"FETCH 1 BODY.PEEKX[]", 0, "ERR"},
    {"FETCH 1 BODY", 0, "1 | BODY"},
    /* BINARY (RFC 3516) */
    {"FETCH 1 BINARY[1]", 0, "1 | BINARY[1] | seen"},
    {"FETCH 1 BINARY.PEEK[1.2]<0.10>", 0, "1 | BINARY[1.2]<0> peek n=10"},
    {"FETCH 1 BINARY[]", 0, "1 | BINARY[] | seen"},
    {"FETCH 1 BINARY.SIZE[1]", 0, "1 | BINARY.SIZE[1]"},
    {"FETCH 1 BINARY[HEADER]", 0, "ERR"},
    {"FETCH 1 BINARY[1.MIME]", 0, "ERR"},
    {"FETCH 1 BINARY.SIZE[1]<0.5>", 0, "ERR"},
    {"FETCH 1 BINARY.SIZE", 0, "ERR"},
    /* modifiers (RFC 7162) */
    {"FETCH 1:* (FLAGS) (CHANGEDSINCE 12345)", 0, "* | FLAGS | since=12345 | condstore"},
    {"UID FETCH 1:* (FLAGS) (CHANGEDSINCE 1 VANISHED)", UIDF | QRS,
     "* | FLAGS | since=1 | vanished | condstore"},
    {"UID FETCH 1:* FLAGS (VANISHED CHANGEDSINCE 7)", UIDF | QRS,
     "* | FLAGS | since=7 | vanished | condstore"},
    {"UID FETCH 1:* (FLAGS) (CHANGEDSINCE 1 VANISHED)", UIDF, "ERR"},
    {"FETCH 1:* (FLAGS) (CHANGEDSINCE 1 VANISHED)", QRS, "ERR"},
    {"UID FETCH 1:* (FLAGS) (VANISHED)", UIDF | QRS, "ERR"},
    {"UID FETCH 1:* (FLAGS) (VANISHED VANISHED CHANGEDSINCE 1)", UIDF | QRS, "ERR"},
    {"FETCH 1 (FLAGS) (CHANGEDSINCE)", 0, "ERR"},
    {"FETCH 1 (FLAGS) (CHANGEDSINCE x)", 0, "ERR"},
    {"FETCH 1 (FLAGS) (CHANGEDSINCE 1 CHANGEDSINCE 2)", 0, "ERR"},
    {"FETCH 1 (FLAGS) (FOO)", 0, "ERR"},
    {"FETCH 1 (FLAGS) ()", 0, "ERR"},
    {"FETCH 1 (FLAGS) (CHANGEDSINCE 1) x", 0, "ERR"},
    {"FETCH 1 (FLAGS) (CHANGEDSINCE 1) (CHANGEDSINCE 1)", 0, "ERR"},
};

static void check_fetch(const char *text, unsigned flags, const char *want, size_t row)
{
    imap_reader r;
    imap_command cmd;
    imap_fetch f;
    imap_error err = {0};
    static char got[16384];

    imap_reader_init(&r, NULL);
    read_command(&r, text, &cmd);
    assert_string_equal(cmd.name, "FETCH");
    if (imap_fetch_parse(cmd.args, cmd.nargs, flags, &f, &err) == 0) {
        describe_fetch(&f, got, sizeof(got));
        imap_fetch_free(&f);
    } else {
        assert_int_equal(err.resp, IMAP_RESP_BAD);
        assert_int_equal(f.natts, 0);
        assert_null(f.atts);
        snprintf(got, sizeof(got), "ERR%s%s", err.code != NULL ? " " : "",
                 err.code != NULL ? err.code : "");
    }
    if (strcmp(got, want) != 0)
        fail_msg("row %zu \"%s\": got \"%s\", wanted \"%s\"", row, text, got, want);
    imap_reader_free(&r);
}

static void test_fetch_rows(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(fetch_rows) / sizeof(fetch_rows[0]); i++)
        check_fetch(fetch_rows[i].text, fetch_rows[i].flags, fetch_rows[i].want, i);
}

static void test_fetch_limits(void **state)
{
    (void)state;
    static char text[16384], want[16384];

    /* attributes: 64, then 65 */
    for (int n = IMAP_FETCH_ATTS_MAX; n <= IMAP_FETCH_ATTS_MAX + 1; n++) {
        strcpy(text, "FETCH 1 (");
        strcpy(want, "1 |");
        for (int i = 0; i < n; i++) {
            strcat(text, i > 0 ? " UID" : "UID");
            strcat(want, i > 0 ? ", UID" : " UID");
        }
        strcat(text, ")");
        check_fetch(text, 0, n <= IMAP_FETCH_ATTS_MAX ? want : "ERR LIMIT", 1000);
    }
    /* duplicates count too */
    strcpy(text, "FETCH 1 (");
    for (int i = 0; i < IMAP_FETCH_ATTS_MAX - 2; i++)
        strcat(text, "UID ");
    strcat(text, "FLAGS FLAGS FLAGS)");
    check_fetch(text, 0, "ERR LIMIT", 1001);
    /* header field names: 128, then 129 */
    for (int n = IMAP_FETCH_FIELDS_MAX; n <= IMAP_FETCH_FIELDS_MAX + 1; n++) {
        strcpy(text, "FETCH 1 BODY.PEEK[HEADER.FIELDS (");
        strcpy(want, "1 | BODY[HEADER.FIELDS (");
        for (int i = 0; i < n; i++) {
            char f[16];
            snprintf(f, sizeof(f), "%sF%d", i > 0 ? " " : "", i);
            strcat(text, f);
            strcat(want, f);
        }
        strcat(text, ")]");
        strcat(want, ")] peek");
        check_fetch(text, 0, n <= IMAP_FETCH_FIELDS_MAX ? want : "ERR LIMIT", 1002);
    }
    /* a field name of 256 octets, then 257 */
    for (int n = IMAP_FETCH_FIELD_MAX; n <= IMAP_FETCH_FIELD_MAX + 1; n++) {
        strcpy(text, "FETCH 1 BODY.PEEK[HEADER.FIELDS (");
        strcpy(want, "1 | BODY[HEADER.FIELDS (");
        size_t t = strlen(text), w = strlen(want);
        memset(text + t, 'h', (size_t)n);
        memset(want + w, 'h', (size_t)n);
        strcpy(text + t + n, ")]");
        strcpy(want + w + n, ")] peek");
        check_fetch(text, 0, n <= IMAP_FETCH_FIELD_MAX ? want : "ERR", 1003);
    }
    /* part numbers: 32 levels, then 33 */
    for (int n = IMAP_SECTION_DEPTH_MAX; n <= IMAP_SECTION_DEPTH_MAX + 1; n++) {
        strcpy(text, "FETCH 1 BODY[");
        strcpy(want, "1 | BODY[");
        for (int i = 0; i < n; i++) {
            strcat(text, i > 0 ? ".1" : "1");
            strcat(want, i > 0 ? ".1" : "1");
        }
        strcat(text, "]");
        strcat(want, "] | seen");
        check_fetch(text, 0, n <= IMAP_SECTION_DEPTH_MAX ? want : "ERR LIMIT", 1004);
    }
}

/* ---- STORE and flags ------------------------------------------------------ */

static void describe_store(const imap_store *st, char *out, size_t size)
{
    static const char *const ops[] = {"", "+", "-"};
    out[0] = '\0';
    describe_set(&st->set, out, size);
    put(out, size, " %sFLAGS%s", ops[st->op], st->silent ? ".SILENT" : "");
    if (st->has_unchangedsince)
        put(out, size, " unchangedsince=%llu", (unsigned long long)st->unchangedsince);
    for (unsigned bit = 1; bit <= IMAP_FLAG_DRAFT; bit <<= 1) {
        if (st->flags.mask & bit)
            put(out, size, " %s", imap_flag_name(bit));
    }
    assert_false(st->flags.mask & IMAP_FLAG_RECENT);
    for (size_t i = 0; i < st->flags.nkeywords; i++)
        put(out, size, " %s", st->flags.keywords[i]);
    assert_null(st->flags.keywords[st->flags.nkeywords]);
}

static const fetch_row store_rows[] = {
    {"STORE 1 +FLAGS (\\Seen)", 0, "1 +FLAGS \\Seen"},
    {"STORE 1:3 -FLAGS.SILENT (\\Deleted $Junk)", 0, "1:3 -FLAGS.SILENT \\Deleted $Junk"},
    {"STORE 1 FLAGS ()", 0, "1 FLAGS"},
    {"STORE 1 FLAGS \\Seen \\Answered", 0, "1 FLAGS \\Seen \\Answered"},
    {"STORE 1 flags.silent (\\seen \\FLAGGED \\draft)", 0,
     "1 FLAGS.SILENT \\Seen \\Flagged \\Draft"},
    {"STORE 1 +FLAGS (\\Seen \\seen)", 0, "1 +FLAGS \\Seen"},
    {"STORE 1 +FLAGS (foo bar foo FOO)", 0, "1 +FLAGS foo bar"},
    {"STORE 1 +FLAGS $MDNSent", 0, "1 +FLAGS $MDNSent"},
    {"STORE 1 +FLAGS NIL", 0, "1 +FLAGS NIL"},
    {"STORE 1 (UNCHANGEDSINCE 12345) +FLAGS (\\Seen)", 0, "1 +FLAGS unchangedsince=12345 \\Seen"},
    {"STORE 1 (unchangedsince 0) FLAGS ()", 0, "1 FLAGS unchangedsince=0"},
    {"STORE * FLAGS ()", 0, "* FLAGS"},
    {"STORE $ FLAGS ()", IMAP_SEQSET_ALLOW_SAVED, "$ FLAGS"},
    {"STORE 1 (UNCHANGEDSINCE) FLAGS ()", 0, "ERR"},
    {"STORE 1 (UNCHANGEDSINCE x) FLAGS ()", 0, "ERR"},
    {"STORE 1 (FOO 1) FLAGS ()", 0, "ERR"},
    {"STORE 1 (UNCHANGEDSINCE 1 UNCHANGEDSINCE 2) FLAGS ()", 0, "ERR"},
    {"STORE 1 () FLAGS ()", 0, "ERR"},
    {"STORE 1 +FLAGS (\\Recent)", 0, "ERR"},
    {"STORE 1 +FLAGS (\\Foo)", 0, "ERR"},
    {"STORE 1 +FLAGS (\\*)", 0, "ERR"},
    {"STORE 1 +FLAGS (\"x\")", 0, "ERR"},
    {"STORE 1 +FLAGS (a%)", 0, "ERR"},
    {"STORE 1 +FLAGS (a])", 0, "ERR"},
    {"STORE 1 +FLAGS ((a))", 0, "ERR"},
    {"STORE 1 +FLAGS", 0, "ERR"},
    {"STORE 1 FLAGS (a) b", 0, "ERR"},
    {"STORE 1 X (a)", 0, "ERR"},
    {"STORE 1 +FLAG (a)", 0, "ERR"},
    {"STORE 1 FLAGS.SILENTX ()", 0, "ERR"},
    {"STORE 1 FLAGS.silent.SILENT ()", 0, "ERR"},
    {"STORE 1 ++FLAGS ()", 0, "ERR"},
    {"STORE 1 .SILENT ()", 0, "ERR"},
    {"STORE 1", 0, "ERR"},
    {"STORE 1 FLAGS", 0, "ERR"},
    {"STORE x FLAGS ()", 0, "ERR"},
    {"STORE $ FLAGS ()", 0, "ERR"},
    {"STORE (1) FLAGS ()", 0, "ERR"},
};

static void check_store(const char *text, unsigned flags, const char *want, size_t row)
{
    imap_reader r;
    imap_command cmd;
    imap_store st;
    imap_error err = {0};
    static char got[16384];

    imap_reader_init(&r, NULL);
    read_command(&r, text, &cmd);
    if (imap_store_parse(cmd.args, cmd.nargs, flags, &st, &err) == 0) {
        describe_store(&st, got, sizeof(got));
        imap_store_free(&st);
    } else {
        assert_int_equal(err.resp, IMAP_RESP_BAD);
        assert_null(st.set.ranges);
        snprintf(got, sizeof(got), "ERR%s%s", err.code != NULL ? " " : "",
                 err.code != NULL ? err.code : "");
    }
    if (strcmp(got, want) != 0)
        fail_msg("row %zu \"%s\": got \"%s\", wanted \"%s\"", row, text, got, want);
    imap_reader_free(&r);
}

static void test_store_rows(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(store_rows) / sizeof(store_rows[0]); i++)
        check_store(store_rows[i].text, store_rows[i].flags, store_rows[i].want, i);
}

static void test_flag_limits(void **state)
{
    (void)state;
    static char text[16384], want[16384], kw[IMAP_KEYWORD_MAX + 2];

    for (int n = IMAP_KEYWORDS_MAX; n <= IMAP_KEYWORDS_MAX + 1; n++) {
        strcpy(text, "STORE 1 +FLAGS (\\Seen");
        strcpy(want, "1 +FLAGS \\Seen");
        for (int i = 0; i < n; i++) {
            char k[16];
            snprintf(k, sizeof(k), " k%d", i);
            strcat(text, k);
            strcat(want, k);
        }
        strcat(text, ")");
        check_store(text, 0, n <= IMAP_KEYWORDS_MAX ? want : "ERR LIMIT", 1000);
    }
    for (int n = IMAP_KEYWORD_MAX; n <= IMAP_KEYWORD_MAX + 1; n++) {
        memset(kw, 'k', (size_t)n);
        kw[n] = '\0';
        snprintf(text, sizeof(text), "STORE 1 FLAGS (%s)", kw);
        snprintf(want, sizeof(want), "1 FLAGS %s", kw);
        check_store(text, 0, n <= IMAP_KEYWORD_MAX ? want : "ERR LIMIT", 1001);
    }
    /* the system flags by name */
    assert_int_equal(imap_flag_system("\\SEEN", 5), IMAP_FLAG_SEEN);
    assert_int_equal(imap_flag_system("\\Recent", 7), IMAP_FLAG_RECENT);
    assert_int_equal(imap_flag_system("\\Seen2", 6), 0);
    assert_int_equal(imap_flag_system("Seen", 4), 0);
    assert_null(imap_flag_name(0));
    assert_null(imap_flag_name(3));
    assert_true(imap_keyword_valid("$Junk", 5));
    assert_false(imap_keyword_valid("", 0));
    assert_false(imap_keyword_valid("a b", 3));
    assert_false(imap_keyword_valid("\\a", 2));
    assert_false(imap_keyword_valid("\xc3\xa9", 2));
}

/* APPEND's flag list goes through imap_flags_parse. */
static void test_append_flags(void **state)
{
    (void)state;
    imap_reader r;
    imap_command cmd;
    imap_flags f;
    imap_error err;

    imap_reader_init(&r, NULL);
    read_command(&r, "APPEND INBOX (\\Seen \\Draft $Label1) {1}\r\nx", &cmd);
    assert_int_equal(cmd.args[1].type, IMAP_ARG_LIST);
    assert_int_equal(imap_flags_parse(cmd.args[1].list, cmd.args[1].n, &f, &err), 0);
    assert_int_equal(f.mask, IMAP_FLAG_SEEN | IMAP_FLAG_DRAFT);
    assert_int_equal(f.nkeywords, 1);
    assert_string_equal(f.keywords[0], "$Label1");
    assert_int_equal(imap_flags_parse(NULL, 0, &f, &err), 0);
    assert_int_equal(f.mask, 0);
    assert_null(f.keywords[0]);
    imap_reader_free(&r);
}

/* imap_section_parse on its own. */
static void test_section_direct(void **state)
{
    (void)state;
    imap_section s;
    imap_error err;
    assert_int_equal(imap_section_parse("", 0, false, &s, &err), 0);
    assert_int_equal(s.nparts, 0);
    assert_int_equal(s.text, IMAP_SECTION_NONE);
    const char *spec = "3.HEADER.FIELDS.NOT (A \"B\")";
    assert_int_equal(imap_section_parse(spec, strlen(spec), false, &s, &err), 0);
    assert_int_equal(s.nparts, 1);
    assert_int_equal(s.part[0], 3);
    assert_int_equal(s.text, IMAP_SECTION_HEADER_FIELDS_NOT);
    assert_int_equal(s.nfields, 2);
    assert_string_equal(s.fields[0], "A");
    assert_string_equal(s.fields[1], "B");
    imap_section_free(&s);
    assert_int_equal(imap_section_parse("TEXT", 4, true, &s, &err), -1);
    assert_int_equal(imap_section_parse("1.2", 3, true, &s, &err), 0);
    assert_int_equal(s.nparts, 2);
    imap_section_free(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fetch_rows),   cmocka_unit_test(test_fetch_limits),
        cmocka_unit_test(test_store_rows),   cmocka_unit_test(test_flag_limits),
        cmocka_unit_test(test_append_flags), cmocka_unit_test(test_section_direct),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
