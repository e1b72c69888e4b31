/* Unit tests for lib/store THREAD (thread.c, thread_tree.c): table-driven
 * cases of RFC 5256 ORDEREDSUBJECT and REFERENCES, the response text, and
 * the bounds (long References, deep chains, bad input). Pure: no store. */
#include "store_sort.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ROWS_MAX 12

typedef struct {
    uint32_t uid;
    const char *mid, *irt, *refs, *subject;
    bool reply;
    int64_t date;
} trow;

typedef struct {
    const char *name;
    store_thread_algo algo;
    trow rows[ROWS_MAX]; /* ends at uid 0 */
    const char *want;
} tcase;

#define REF STORE_THREAD_REFERENCES
#define ORD STORE_THREAD_ORDEREDSUBJECT

static const tcase cases[] = {
    {"chain",
     REF,
     {{1, "<a@x>", NULL, NULL, "s", false, 1},
      {2, "<b@x>", NULL, "<a@x>", "s", true, 2},
      {3, "<c@x>", NULL, "<a@x> <b@x>", "s", true, 3}},
     "(1 2 3)"},
    {"siblings",
     REF,
     {{1, "<a@x>", NULL, NULL, "s", false, 1},
      {2, "<b@x>", NULL, "<a@x>", "s", true, 2},
      {3, "<c@x>", NULL, "<a@x>", "s", true, 3}},
     "(1 (2)(3))"},
    /* RFC 5256 4 example: "(3 6 (4 23)(44 7 96))" */
    {"rfc example",
     REF,
     {{3, "<m3@x>", NULL, NULL, "a", false, 3},
      {4, "<m4@x>", NULL, "<m3@x> <m6@x>", "a", true, 4},
      {6, "<m6@x>", NULL, "<m3@x>", "a", true, 6},
      {7, "<m7@x>", NULL, "<m3@x> <m6@x> <m44@x>", "a", true, 7},
      {23, "<m23@x>", NULL, "<m3@x> <m6@x> <m4@x>", "a", true, 23},
      {44, "<m44@x>", NULL, "<m3@x> <m6@x>", "a", true, 44},
      {96, "<m96@x>", NULL, "<m3@x> <m6@x> <m44@x> <m7@x>", "a", true, 96}},
     "(3 6 (4 23)(44 7 96))"},
    /* step 3: a missing parent with two children stays, as a dummy */
    {"dummy root",
     REF,
     {{1, "<b@x>", NULL, "<a@x>", "one", true, 1}, {2, "<c@x>", NULL, "<a@x>", "two", true, 2}},
     "((1)(2))"},
    {"dummy one child", REF, {{1, "<b@x>", NULL, "<a@x>", "s", true, 1}}, "(1)"},
    {"dummy in the middle",
     REF,
     {{1, "<a@x>", NULL, NULL, "s", false, 1}, {2, "<c@x>", NULL, "<a@x> <b@x>", "s", true, 2}},
     "(1 2)"},
    {"missing message-ids",
     REF,
     {{1, NULL, NULL, NULL, "one", false, 1},
      {2, "no id here", NULL, NULL, "two", false, 2},
      {3, "<c@x>", NULL, "<>", "three", false, 3}},
     "(1)(2)(3)"},
    /* the first (lowest UID) holder keeps the ID; the duplicate gets a unique one */
    {"duplicate message-ids",
     REF,
     {{1, "<a@x>", NULL, NULL, "one", false, 1},
      {2, "<a@x>", NULL, NULL, "two", false, 2},
      {3, "<b@x>", NULL, "<a@x>", "one", true, 3}},
     "(1 3)(2)"},
    {"reference loop",
     REF,
     {{1, "<a@x>", NULL, "<b@x>", "one", false, 1}, {2, "<b@x>", NULL, "<a@x>", "two", false, 2}},
     "(2 1)"},
    {"self reference", REF, {{1, "<a@x>", NULL, "<a@x>", "one", false, 1}}, "(1)"},
    {"loop through references",
     REF,
     {{1, "<a@x>", NULL, "<c@x> <b@x>", "one", false, 1},
      {2, "<b@x>", NULL, "<a@x> <c@x>", "two", false, 2},
      {3, "<c@x>", NULL, "<b@x> <a@x>", "three", false, 3}},
     "(3 2 1)"},
    {"in-reply-to fallback",
     REF,
     {{1, "<a@x>", NULL, NULL, "one", false, 1},
      {2, "<b@x>", "<a@x> (message from Alice)", NULL, "two", false, 2},
      {3, "<c@x>", "Your mail <a@x> of Monday", "no ids", "three", false, 3}},
     "(1 (2)(3))"},
    /* only the first valid ID of In-Reply-To */
    {"in-reply-to first id",
     REF,
     {{1, "<a@x>", NULL, NULL, "one", false, 1},
      {2, "<b@x>", NULL, NULL, "two", false, 2},
      {3, "<c@x>", "<junk> <b@x> <a@x>", NULL, "three", false, 3}},
     "(1)(2 3)"},
    /* quotes, quoted-pairs and folding white space are not part of the ID */
    {"quoting",
     REF,
     {{1, "<\"ab\"@x>", NULL, NULL, "one", false, 1},
      {2, "<b@x>", NULL, "<ab@x>", "two", false, 2},
      {3, "<c@x>", NULL, "<a\\b@\r\n x>", "three", false, 3},
      {4, "<\"d e\"@x>", NULL, NULL, "four", false, 4},
      {5, "<f@x>", NULL, "<de@x>", "five", false, 5}},
     "(1 (2)(3))(4)(5)"},
    {"ids are case-sensitive",
     REF,
     {{1, "<a@x>", NULL, NULL, "one", false, 1}, {2, "<b@x>", NULL, "<A@x>", "two", false, 2}},
     "(1)(2)"},
    /* step 5: a reply goes under the thread of the same base subject */
    {"subject reply",
     REF,
     {{1, "<a@x>", NULL, NULL, "hello", false, 1}, {2, "<b@x>", NULL, NULL, "HELLO", true, 2}},
     "(1 2)"},
    {"subject reply first",
     REF,
     {{1, "<a@x>", NULL, NULL, "hi", true, 1}, {2, "<b@x>", NULL, NULL, "hi", false, 2}},
     "(2 1)"},
    {"subject two originals",
     REF,
     {{1, "<a@x>", NULL, NULL, "hello", false, 1}, {2, "<b@x>", NULL, NULL, "hello", false, 2}},
     "((1)(2))"},
    {"subject two replies",
     REF,
     {{1, "<a@x>", NULL, NULL, "hello", true, 1}, {2, "<b@x>", NULL, NULL, "hello", true, 2}},
     "((1)(2))"},
    {"subject dummy thread",
     REF,
     {{1, "<b@x>", NULL, "<a@x>", "topic", true, 1},
      {2, "<c@x>", NULL, "<a@x>", "topic", true, 2},
      {3, "<d@x>", NULL, NULL, "topic", true, 3}},
     "((1)(2)(3))"},
    {"subject two dummies",
     REF,
     {{1, "<b@x>", NULL, "<a@x>", "topic", true, 1},
      {2, "<c@x>", NULL, "<a@x>", "topic", true, 2},
      {3, "<e@x>", NULL, "<d@x>", "topic", true, 3},
      {4, "<f@x>", NULL, "<d@x>", "topic", true, 4}},
     "((1)(2)(3)(4))"},
    {"subject thread kept whole",
     REF,
     {{1, "<a@x>", NULL, NULL, "news", false, 1},
      {2, "<b@x>", NULL, "<a@x>", "news", true, 2},
      {3, "<c@x>", NULL, NULL, "news", true, 3},
      {4, "<d@x>", NULL, "<c@x>", "news", true, 4}},
     "(1 (2)(3 4))"},
    {"empty subjects stay apart",
     REF,
     {{1, "<a@x>", NULL, NULL, "", false, 1}, {2, "<b@x>", NULL, NULL, NULL, false, 2}},
     "(1)(2)"},
    /* step 6 and 4: siblings and threads by sent date, equal dates by UID */
    {"dates",
     REF,
     {{1, "<a@x>", NULL, NULL, "s", false, 10},
      {2, "<b@x>", NULL, "<a@x>", "s", true, 30},
      {3, "<c@x>", NULL, "<a@x>", "s", true, 20},
      {4, "<d@x>", NULL, "<a@x>", "s", true, 20},
      {5, "<e@x>", NULL, NULL, "t", false, 5}},
     "(5)(1 (3)(4)(2))"},
    {"ordered subject",
     ORD,
     {{1, NULL, NULL, NULL, "a", false, 1},
      {2, NULL, NULL, NULL, "b", false, 2},
      {3, NULL, NULL, NULL, "A", true, 3},
      {4, NULL, NULL, NULL, "a", true, 4},
      {5, NULL, NULL, NULL, "b", true, 5}},
     "(1 (3)(4))(2 5)"},
    {"ordered subject dates",
     ORD,
     {{1, NULL, NULL, NULL, "x", false, 50},
      {2, NULL, NULL, NULL, "X", false, 10},
      {3, NULL, NULL, NULL, "y", false, 20},
      {4, NULL, NULL, NULL, "", false, 20}},
     "(2 1)(3)(4)"},
    /* ORDEREDSUBJECT ignores the references */
    {"ordered subject no refs",
     ORD,
     {{1, "<a@x>", NULL, NULL, "p", false, 1}, {2, "<b@x>", NULL, "<a@x>", "q", true, 2}},
     "(1)(2)"},
};

static size_t case_rows(const tcase *c, store_thread_row *out)
{
    size_t n = 0;
    for (; n < ROWS_MAX && c->rows[n].uid != 0; n++) {
        const trow *r = &c->rows[n];
        out[n] = (store_thread_row){r->uid, r->mid, r->irt, r->refs, r->subject, r->reply, r->date};
    }
    return n;
}

static char *thread_text(store_thread_algo algo, const store_thread_row *rows, size_t n)
{
    store_thread_tree tree;
    int rc = store_thread_build(algo, rows, n, &tree);
    if (rc != STORE_OK)
        fail_msg("store_thread_build: %s", store_strerror(rc));
    char *text = NULL;
    size_t len = 0;
    assert_int_equal(store_thread_format(&tree, NULL, NULL, &text, &len), STORE_OK);
    assert_int_equal(len, strlen(text));
    store_thread_tree_free(&tree);
    return text;
}

static void test_cases(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        store_thread_row rows[ROWS_MAX];
        size_t n = case_rows(&cases[i], rows);
        char *text = thread_text(cases[i].algo, rows, n);
        if (strcmp(text, cases[i].want) != 0)
            fail_msg("%s: got %s, want %s", cases[i].name, text, cases[i].want);
        /* the input order does not matter: reversed rows, same threads */
        store_thread_row rev[ROWS_MAX];
        for (size_t k = 0; k < n; k++)
            rev[k] = rows[n - 1 - k];
        char *again = thread_text(cases[i].algo, rev, n);
        if (strcmp(again, text) != 0)
            fail_msg("%s reversed: got %s, want %s", cases[i].name, again, text);
        free(text);
        free(again);
    }
}

static void test_tree_shape(void **state)
{
    (void)state;
    store_thread_row rows[ROWS_MAX];
    size_t n = case_rows(&cases[3], rows); /* "dummy root" */
    store_thread_tree t;
    assert_int_equal(store_thread_build(REF, rows, n, &t), STORE_OK);
    assert_int_equal(t.n, 3);
    const store_thread_node *d = &t.nodes[t.first];
    assert_int_equal(d->uid, 0); /* the dummy */
    assert_int_equal(d->next_sibling, STORE_THREAD_NONE);
    assert_int_equal(t.nodes[d->first_child].uid, 1);
    size_t second = t.nodes[d->first_child].next_sibling;
    assert_int_equal(t.nodes[second].uid, 2);
    assert_int_equal(t.nodes[second].next_sibling, STORE_THREAD_NONE);
    store_thread_tree_free(&t);
    assert_null(t.nodes);
    /* No rows: no threads, empty text. */
    assert_int_equal(store_thread_build(REF, NULL, 0, &t), STORE_OK);
    assert_int_equal(t.first, STORE_THREAD_NONE);
    char *text = NULL;
    assert_int_equal(store_thread_format(&t, NULL, NULL, &text, NULL), STORE_OK);
    assert_string_equal(text, "");
    free(text);
    store_thread_tree_free(&t);
}

/* UIDs 10, 20, 30 are sequence numbers 1, 2, 3. */
static int seq_map(void *ctx, uint32_t uid, uint32_t *num_r)
{
    int *calls = ctx;
    (*calls)++;
    if (uid == 99)
        return 42;
    *num_r = uid / 10;
    return 0;
}

static void test_format_map(void **state)
{
    (void)state;
    store_thread_row rows[] = {
        {10, "<a@x>", NULL, NULL, "s", false, 1},
        {20, "<b@x>", NULL, "<a@x>", "s", true, 2},
        {30, "<c@x>", NULL, "<a@x>", "s", true, 3},
    };
    store_thread_tree t;
    assert_int_equal(store_thread_build(REF, rows, 3, &t), STORE_OK);
    int calls = 0;
    char *text = NULL;
    assert_int_equal(store_thread_format(&t, seq_map, &calls, &text, NULL), STORE_OK);
    assert_string_equal(text, "(1 (2)(3))");
    assert_int_equal(calls, 3);
    free(text);
    store_thread_tree_free(&t);
    /* A mapping error stops the formatting and is returned as is. */
    rows[1].uid = 99;
    assert_int_equal(store_thread_build(REF, rows, 3, &t), STORE_OK);
    text = (char *)"untouched";
    assert_int_equal(store_thread_format(&t, seq_map, &calls, &text, NULL), 42);
    assert_null(text);
    store_thread_tree_free(&t);
}

static void test_bad_input(void **state)
{
    (void)state;
    store_thread_tree t;
    store_thread_row rows[] = {{1, NULL, NULL, NULL, "a", false, 1},
                               {1, NULL, NULL, NULL, "b", false, 2}};
    assert_int_equal(store_thread_build(REF, rows, 2, &t), STORE_ERR_INVALID);
    assert_int_equal(store_thread_build(ORD, rows, 2, &t), STORE_ERR_INVALID);
    rows[1].uid = 0;
    assert_int_equal(store_thread_build(REF, rows, 2, &t), STORE_ERR_INVALID);
    assert_int_equal(store_thread_build(REF, NULL, 2, &t), STORE_ERR_INVALID);
    assert_int_equal(store_thread_build((store_thread_algo)7, rows, 1, &t), STORE_ERR_INVALID);
    /* A Message-ID over STORE_THREAD_ID_MAX bytes is not valid: no link. */
    size_t big = STORE_THREAD_ID_MAX + 8;
    char *id = malloc(big + 1);
    assert_non_null(id);
    memset(id, 'x', big);
    id[0] = '<';
    id[5] = '@';
    id[big - 1] = '>';
    id[big] = '\0';
    store_thread_row long_id[] = {{1, id, NULL, NULL, "a", false, 1},
                                  {2, "<b@x>", NULL, id, "b", false, 2}};
    char *text = thread_text(REF, long_id, 2);
    assert_string_equal(text, "(1)(2)");
    free(text);
    free(id);
}

/* Only the last STORE_THREAD_REFS_MAX IDs of References count: with the
 * parent's ID just inside the limit the reply is linked to it, just
 * outside it is not (the other IDs are missing: dummies, pruned). */
static void test_refs_limit(void **state)
{
    (void)state;
    for (int extra = 0; extra <= 1; extra++) {
        size_t count = STORE_THREAD_REFS_MAX + (size_t)extra;
        char *refs = malloc(count * 24 + 1);
        assert_non_null(refs);
        size_t len = (size_t)sprintf(refs, "<root@x>");
        for (size_t i = 1; i < count; i++)
            len += (size_t)sprintf(refs + len, "\r\n <r%zu@x>", i);
        store_thread_row rows[] = {{1, "<root@x>", NULL, NULL, "a", false, 1},
                                   {2, "<reply@x>", NULL, refs, "b", true, 2}};
        char *text = thread_text(REF, rows, 2);
        assert_string_equal(text, extra ? "(1)(2)" : "(1 2)");
        free(text);
        free(refs);
    }
}

/* A chain of replies as deep as a mailbox: built and formatted without
 * recursion (a recursive walk would need a stack frame per message). */
static void test_deep_chain(void **state)
{
    (void)state;
    enum { DEEP = 20000 };
    store_thread_row *rows = calloc(DEEP, sizeof(*rows));
    char(*ids)[24] = calloc(DEEP, sizeof(*ids));
    assert_non_null(rows);
    assert_non_null(ids);
    for (size_t i = 0; i < DEEP; i++) {
        snprintf(ids[i], sizeof(ids[i]), "<m%zu@x>", i);
        rows[i] = (store_thread_row){(uint32_t)i + 1, ids[i], NULL,      i ? ids[i - 1] : NULL,
                                     "deep",          i > 0,  (int64_t)i};
    }
    char *text = thread_text(REF, rows, DEEP);
    assert_int_equal(strncmp(text, "(1 2 3 ", 7), 0);
    assert_string_equal(text + strlen(text) - 13, " 19999 20000)");
    free(text);
    /* the same chain with the References in the other direction (each
     * message names its child): every link comes from a dummy first */
    for (size_t i = 0; i < DEEP; i++)
        rows[i].references = i + 1 < DEEP ? ids[i + 1] : NULL;
    text = thread_text(REF, rows, DEEP);
    assert_int_equal(strncmp(text, "(20000 19999 ", 13), 0);
    free(text);
    free(rows);
    free(ids);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cases),      cmocka_unit_test(test_tree_shape),
        cmocka_unit_test(test_format_map), cmocka_unit_test(test_bad_input),
        cmocka_unit_test(test_refs_limit), cmocka_unit_test(test_deep_chain),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
