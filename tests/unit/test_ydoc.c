/*
 * tests/unit/test_ydoc.c - common/ydoc: the tree and positions a YAML text
 * gives, and each refusal (bad YAML, aliases, a second document, too deep,
 * too many nodes) with the "PATH:LINE:COL: ..." message callers show users.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/err.h"
#include "common/ydoc.h"

static const struct ydoc_limits lim = {8, 100, "a test file"};

static struct ydoc *parse_ok(const char *text)
{
    struct ydoc *doc = NULL;
    struct err e = {0};
    int rc = ydoc_parse("t.yaml", text, strlen(text), &lim, &doc, &e);
    if (rc != 0)
        fail_msg("parsing %s: %d %s", text, rc, e.msg);
    assert_non_null(doc);
    return doc;
}

/* The text must be refused with `code` and exactly the message `want`. */
static void expect_error(const char *text, size_t len, int code, const char *want)
{
    struct ydoc *doc = (struct ydoc *)1;
    struct err e = {0};
    int rc = ydoc_parse("t.yaml", text, len, &lim, &doc, &e);
    assert_null(doc);
    if (rc != code || strcmp(e.msg, want) != 0)
        fail_msg("expected %d \"%s\", got %d \"%s\"", code, want, rc, e.msg);
}

static void test_tree_and_positions(void **state)
{
    (void)state;
    struct ydoc *doc = parse_ok("# a comment\nname: Thorin\nlevel: 5\nquoted: \"5\"\n"
                                "skills: [athletics, history]\nnested:\n  a: {b: c}\n");
    const struct ydoc_node *root = ydoc_root(doc), *v;

    assert_non_null(root);
    assert_int_equal(root->kind, YDOC_MAP);
    assert_int_equal(root->nkids, 10); /* five keys, five values */
    assert_int_equal(root->line, 2);
    assert_int_equal(root->col, 1);

    v = ydoc_get(root, "name");
    assert_int_equal(v->kind, YDOC_SCALAR);
    assert_string_equal(v->text, "Thorin");
    assert_int_equal(v->len, 6);
    assert_int_equal(v->line, 2);
    assert_int_equal(v->col, 7);

    v = ydoc_get(root, "level");
    assert_true(v->plain);
    assert_string_equal(v->text, "5");
    v = ydoc_get(root, "quoted");
    assert_false(v->plain); /* "5" is a string, not the number 5 */
    assert_string_equal(v->text, "5");

    v = ydoc_get(root, "skills");
    assert_int_equal(v->kind, YDOC_SEQ);
    assert_int_equal(v->nkids, 2);
    assert_string_equal(v->kids[1]->text, "history");
    assert_int_equal(v->kids[1]->line, 5);
    assert_int_equal(v->kids[1]->col, 21);
    assert_string_equal(ydoc_kind_name(v), "a list");

    v = ydoc_get(ydoc_get(ydoc_get(root, "nested"), "a"), "b");
    assert_non_null(v);
    assert_string_equal(v->text, "c");
    assert_int_equal(v->line, 7);
    assert_int_equal(v->col, 10);

    assert_null(ydoc_get(root, "missing"));
    assert_null(ydoc_get(ydoc_get(root, "name"), "x")); /* not a mapping */
    assert_null(ydoc_get(NULL, "x"));
    ydoc_free(doc);
}

/* A scalar keeps every byte, an embedded NUL included (len tells). */
static void test_scalar_with_nul(void **state)
{
    (void)state;
    struct ydoc *doc = parse_ok("a: \"x\\0y\"\n");
    const struct ydoc_node *v = ydoc_get(ydoc_root(doc), "a");
    assert_int_equal(v->len, 3);
    assert_memory_equal(v->text, "x\0y", 4);
    ydoc_free(doc);
}

static void test_empty(void **state)
{
    (void)state;
    struct ydoc *doc = parse_ok("");
    assert_null(ydoc_root(doc));
    ydoc_free(doc);
    doc = parse_ok("# only a comment\n");
    assert_null(ydoc_root(doc));
    ydoc_free(doc);
    ydoc_free(NULL);
}

/* The text is read up to len only: what follows need not be YAML, nor a NUL. */
static void test_length_bounds_the_text(void **state)
{
    (void)state;
    struct ydoc *doc = NULL;
    struct err e = {0};
    const char text[] = {'a', ':', ' ', '1', '\n', '[', '[', '['};
    assert_int_equal(ydoc_parse("t.yaml", text, 5, &lim, &doc, &e), 0);
    assert_string_equal(ydoc_get(ydoc_root(doc), "a")->text, "1");
    ydoc_free(doc);
}

static void test_refusals(void **state)
{
    (void)state;
    const char *bad = "a: [1, 2\nb: 3\n";
    expect_error(bad, strlen(bad), ERR_INVALID,
                 "t.yaml:2:2: did not find expected ',' or ']' (while parsing a flow sequence at line 1, column 4)");
    expect_error("a: \xff\n", 5, ERR_INVALID, "t.yaml:1:4: invalid leading UTF-8 octet (#FF)");
    expect_error("a: &x 1\nb: *x\n", 14, ERR_INVALID, "t.yaml:2:4: yaml aliases (*x) are not supported");
    expect_error("a: 1\n---\nb: 2\n", 14, ERR_INVALID,
                 "t.yaml:2:1: a test file holds one yaml document, found another");
    const char *deep = "a: [[[[[[[[1]]]]]]]]\n"; /* the root map is level 1, the innermost list level 9 */
    expect_error(deep, strlen(deep), ERR_TOO_LARGE, "t.yaml:1:11: yaml nested deeper than 8 levels");
    const char *shallow = "a: [[[[[[1]]]]]]\n";
    struct ydoc *doc = parse_ok(shallow);
    ydoc_free(doc);

    char many[1024];
    size_t n = 0;
    n += (size_t)snprintf(many + n, sizeof(many) - n, "[");
    for (int i = 0; i < 100; i++)
        n += (size_t)snprintf(many + n, sizeof(many) - n, "%s%d", i ? "," : "", i % 10);
    snprintf(many + n, sizeof(many) - n, "]\n");
    /* the list and 99 items are 100 nodes; the 100th item is one too many */
    expect_error(many, strlen(many), ERR_TOO_LARGE, "t.yaml:1:200: more than 100 yaml nodes");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tree_and_positions),
        cmocka_unit_test(test_scalar_with_nul),
        cmocka_unit_test(test_empty),
        cmocka_unit_test(test_length_bounds_the_text),
        cmocka_unit_test(test_refusals),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
