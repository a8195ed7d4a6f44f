/*
 * tests/unit/test_query.c - server/query.c: splitting, percent-decoding, '+' as
 * space, repeated and empty parameters, per-parameter problems and the bounds.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server/query.h"

static struct query q;

static int parse(const char *text)
{
    struct err e = {0};
    int rc = query_parse(&q, text, strlen(text), &e);
    if (rc != 0)
        assert_true(e.msg[0] != '\0');
    return rc;
}

/* One well-formed case: the query text and its "key=value" pairs, decoded, in order ("key" alone: no '='). */
struct ok_case {
    const char *text;
    size_t n;
    const char *pairs[6];
};

static const struct ok_case ok_cases[] = {
    {"", 0, {0}},
    {"race=dwarf", 1, {"race=dwarf"}},
    {"race=hill%20dwarf&class=cleric", 2, {"race=hill dwarf", "class=cleric"}},
    {"name=Tho+rin", 1, {"name=Tho rin"}},
    {"name=a%2Bb%2bc", 1, {"name=a+b+c"}}, /* escaped '+' stays a plus, either hex case */
    {"name=x%26y%3Dz", 1, {"name=x&y=z"}}, /* escaped separators are data */
    {"a=1&&b=2&", 2, {"a=1", "b=2"}},      /* empty parameters skipped */
    {"=&a=1&=", 1, {"a=1"}},               /* a lone '=' too */
    {"race", 1, {"race"}},                 /* no '=' */
    {"race=", 1, {"race="}},               /* empty value */
    {"a=b=c", 1, {"a=b=c"}},               /* only the first '=' splits */
    {"=v", 1, {"=v"}},                     /* empty name, kept */
    {"race=elf&race=dwarf", 2, {"race=elf", "race=dwarf"}},
    {"name=%C3%89owyn", 1, {"name=\xc3\x89owyn"}},   /* UTF-8 through escapes */
    {"name=\xc3\x89owyn", 1, {"name=\xc3\x89owyn"}}, /* and raw */
    {"k%61y=v", 1, {"kay=v"}},                       /* names are decoded too */
};

static void test_well_formed(void **state)
{
    (void)state;
    for (size_t c = 0; c < sizeof(ok_cases) / sizeof(ok_cases[0]); c++) {
        const struct ok_case *t = &ok_cases[c];
        assert_int_equal(parse(t->text), 0);
        if (q.n != t->n)
            fail_msg("\"%s\": %zu parameters, want %zu", t->text, q.n, t->n);
        for (size_t i = 0; i < t->n; i++) {
            const struct query_param *p = &q.params[i];
            char got[512];
            snprintf(got, sizeof(got), "%s%s%s", p->key, p->has_value ? "=" : "", p->value);
            if (strcmp(got, t->pairs[i]) != 0)
                fail_msg("\"%s\" [%zu]: got \"%s\", want \"%s\"", t->text, i, got, t->pairs[i]);
            assert_int_equal(p->key_problem, QUERY_OK);
            assert_int_equal(p->value_problem, QUERY_OK);
            assert_int_equal(p->key_len, strlen(p->key));
            assert_int_equal(p->value_len, strlen(p->value));
        }
    }
}

/* The text is not read past `len`, and need not be NUL-terminated. */
static void test_length_respected(void **state)
{
    (void)state;
    const char text[] = {'a', '=', '1', '&', 'b', '=', '%', '4', '1', 'Z', 'Z'};
    struct err e = {0};
    assert_int_equal(query_parse(&q, text, 9, &e), 0);
    assert_int_equal(q.n, 2);
    assert_string_equal(q.params[1].value, "A");
    /* "%4" cut by len: a bad escape, not a read of the next byte */
    assert_int_equal(query_parse(&q, text, 8, &e), 0);
    assert_int_equal(q.params[1].value_problem, QUERY_BAD_ESCAPE);
}

/* A malformed part: which side, which problem. */
struct bad_case {
    const char *text;
    int in_key;
    enum query_problem problem;
};

static const struct bad_case bad_cases[] = {
    {"name=%", 0, QUERY_BAD_ESCAPE},
    {"name=%4", 0, QUERY_BAD_ESCAPE},
    {"name=%zz", 0, QUERY_BAD_ESCAPE},
    {"name=%%41", 0, QUERY_BAD_ESCAPE},
    {"name=a%00b", 0, QUERY_NUL},
    {"name=%00%zz", 0, QUERY_BAD_ESCAPE},     /* a bad escape is reported before the NUL */
    {"name=%FF", 0, QUERY_NOT_TEXT},          /* not UTF-8 */
    {"name=%C0%AF", 0, QUERY_NOT_TEXT},       /* overlong '/' */
    {"name=%ED%A0%80", 0, QUERY_NOT_TEXT},    /* a surrogate */
    {"name=%F4%90%80%80", 0, QUERY_NOT_TEXT}, /* over U+10FFFF */
    {"name=%C3", 0, QUERY_NOT_TEXT},          /* cut sequence */
    {"name=a%0Ab", 0, QUERY_NOT_TEXT},        /* control character */
    {"name=%7F", 0, QUERY_NOT_TEXT},          /* DEL */
    {"name=\x01", 0, QUERY_NOT_TEXT},         /* raw control byte */
    {"%zz=1", 1, QUERY_BAD_ESCAPE},
    {"a%00=1", 1, QUERY_NUL},
    {"%FF=1", 1, QUERY_NOT_TEXT},
};

static void test_bad_parts(void **state)
{
    (void)state;
    for (size_t c = 0; c < sizeof(bad_cases) / sizeof(bad_cases[0]); c++) {
        const struct bad_case *t = &bad_cases[c];
        assert_int_equal(parse(t->text), 0);
        assert_int_equal(q.n, 1);
        const struct query_param *p = &q.params[0];
        enum query_problem got = t->in_key ? p->key_problem : p->value_problem;
        if (got != t->problem)
            fail_msg("\"%s\": problem %d, want %d", t->text, (int)got, (int)t->problem);
        assert_int_equal(t->in_key ? p->value_problem : p->key_problem, QUERY_OK);
        /* the bad text is not handed on */
        assert_string_equal(t->in_key ? p->key : p->value, "");
        assert_true(query_problem_text(got)[0] != '\0');
    }
}

/* A bad parameter does not spoil its neighbours. */
static void test_problem_is_local(void **state)
{
    (void)state;
    assert_int_equal(parse("race=elf&name=%zz&level=3"), 0);
    assert_int_equal(q.n, 3);
    assert_string_equal(q.params[0].value, "elf");
    assert_int_equal(q.params[1].value_problem, QUERY_BAD_ESCAPE);
    assert_string_equal(q.params[2].key, "level");
    assert_string_equal(q.params[2].value, "3");
}

static void test_value_and_key_bounds(void **state)
{
    (void)state;
    char text[QUERY_TEXT_MAX + 2];
    /* a value of exactly QUERY_VALUE_MAX bytes, written as escapes (3 raw bytes each) */
    size_t at = (size_t)snprintf(text, sizeof(text), "name=");
    for (int i = 0; i < QUERY_VALUE_MAX; i++)
        at += (size_t)snprintf(text + at, sizeof(text) - at, "%%%02X", 'a' + i % 26);
    assert_int_equal(parse(text), 0);
    assert_int_equal(q.params[0].value_problem, QUERY_OK);
    assert_int_equal(q.params[0].value_len, QUERY_VALUE_MAX);
    snprintf(text + at, sizeof(text) - at, "b");
    assert_int_equal(parse(text), 0);
    assert_int_equal(q.params[0].value_problem, QUERY_TOO_LONG);
    assert_string_equal(q.params[0].value, "");

    /* a name of QUERY_KEY_MAX bytes is fine; one more is too long, but still shown */
    memset(text, 'k', QUERY_KEY_MAX);
    strcpy(text + QUERY_KEY_MAX, "=1");
    assert_int_equal(parse(text), 0);
    assert_int_equal(q.params[0].key_problem, QUERY_OK);
    assert_int_equal(q.params[0].key_len, QUERY_KEY_MAX);
    memset(text, 'k', QUERY_KEY_MAX + 1);
    strcpy(text + QUERY_KEY_MAX + 1, "=1");
    assert_int_equal(parse(text), 0);
    assert_int_equal(q.params[0].key_problem, QUERY_TOO_LONG);
    assert_int_equal(q.params[0].key_len, QUERY_KEY_MAX + 1);
    assert_string_equal(q.params[0].value, "1");
}

static void test_whole_query_bounds(void **state)
{
    (void)state;
    static char text[QUERY_TEXT_MAX + 2];
    struct err e = {0};
    /* QUERY_TEXT_MAX bytes parse; one more is refused with a message */
    memset(text, 'x', QUERY_TEXT_MAX);
    text[QUERY_TEXT_MAX] = '\0';
    assert_int_equal(query_parse(&q, text, QUERY_TEXT_MAX, &e), 0);
    assert_int_equal(q.n, 1);
    assert_int_equal(q.params[0].key_problem, QUERY_TOO_LONG);
    text[QUERY_TEXT_MAX] = 'x';
    assert_int_equal(query_parse(&q, text, QUERY_TEXT_MAX + 1, &e), ERR_TOO_LARGE);
    assert_int_equal(q.n, 0);
    assert_non_null(strstr(e.msg, "query string"));

    /* QUERY_PARAMS_MAX parameters parse; one more sets too_many and keeps the first ones */
    size_t at = 0;
    for (int i = 0; i < QUERY_PARAMS_MAX; i++)
        at += (size_t)snprintf(text + at, sizeof(text) - at, "p%d=%d&", i, i);
    assert_int_equal(parse(text), 0);
    assert_int_equal(q.n, QUERY_PARAMS_MAX);
    assert_false(q.too_many);
    snprintf(text + at, sizeof(text) - at, "extra=1");
    memset(&e, 0, sizeof(e));
    assert_int_equal(query_parse(&q, text, strlen(text), &e), ERR_TOO_LARGE);
    assert_true(q.too_many);
    assert_int_equal(q.n, QUERY_PARAMS_MAX);
    assert_string_equal(q.params[QUERY_PARAMS_MAX - 1].key, "p31");
    assert_non_null(strstr(e.msg, "parameters"));

    /* the worst case for the decode buffer: every parameter at its longest */
    at = 0;
    for (; at + 4 < QUERY_TEXT_MAX; at++)
        text[at] = at % 256 == 255 ? '&' : 'a';
    text[at] = '\0';
    assert_int_equal(parse(text), 0);
    assert_true(q.n > 0);
}

static void test_find_repeated(void **state)
{
    (void)state;
    assert_int_equal(parse("race=elf&class=bard&race=dwarf&race%zz=x"), 0);
    int i = query_find(&q, "race", 0);
    assert_int_equal(i, 0);
    i = query_find(&q, "race", (size_t)i + 1);
    assert_int_equal(i, 2);
    assert_string_equal(q.params[i].value, "dwarf");
    assert_int_equal(query_find(&q, "race", (size_t)i + 1), -1);
    assert_int_equal(query_find(&q, "Race", 0), -1); /* exact case */
    assert_int_equal(query_find(&q, "level", 0), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_well_formed),
        cmocka_unit_test(test_length_respected),
        cmocka_unit_test(test_bad_parts),
        cmocka_unit_test(test_problem_is_local),
        cmocka_unit_test(test_value_and_key_bounds),
        cmocka_unit_test(test_whole_query_bounds),
        cmocka_unit_test(test_find_repeated),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
