/*
 * tests/unit/test_build.c - rules/build.c: name and level checks, method names, the default policy.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "rules/build.h"

static struct violations v;

static void run(const char *name, int level)
{
    struct build b = {.name = name, .name_len = name ? strlen(name) : 0, .level = level};
    violations_init(&v);
    build_validate_name_level(&b, BF_NAME, &v);
}

static int has(const char *field, const char *code)
{
    for (size_t i = 0; i < v.n; i++)
        if (strcmp(v.items[i].field, field) == 0 && strcmp(v.items[i].code, code) == 0)
            return 1;
    return 0;
}

static void test_valid(void **state)
{
    (void)state;
    run("Thorin", 1);
    assert_int_equal(v.n, 0);
    run("Thorin Oakenshield", 20);
    assert_int_equal(v.n, 0);
}

static void test_name_required_and_blank(void **state)
{
    (void)state;
    run(NULL, 1);
    assert_true(has("name", "required"));
    run("", 1);
    assert_true(has("name", "required"));
    run("   ", 1);
    assert_true(has("name", "required"));
}

static void test_name_length_counts_characters(void **state)
{
    (void)state;
    char buf[512];
    memset(buf, 'a', 100);
    buf[100] = '\0';
    run(buf, 1);
    assert_int_equal(v.n, 0);
    memset(buf, 'a', 101);
    buf[101] = '\0';
    run(buf, 1);
    assert_true(has("name", "too_long"));
    /* 100 two-byte characters are 200 bytes but 100 characters: allowed */
    for (int i = 0; i < 100; i++)
        memcpy(buf + 2 * i, "\xc3\xa9", 2);
    buf[200] = '\0';
    run(buf, 1);
    assert_int_equal(v.n, 0);
    assert_int_equal(build_utf8_chars(buf, 200), 100);
}

static void test_control_characters(void **state)
{
    (void)state;
    run("Thor\nin", 1);
    assert_true(has("name", "not_allowed"));
    run("Thor\xc2\x85in", 1); /* U+0085, a C1 control */
    assert_true(has("name", "not_allowed"));
}

static void test_level_range_and_all_problems(void **state)
{
    (void)state;
    run("Ok", 0);
    assert_true(has("level", "out_of_range"));
    run("Ok", 21);
    assert_true(has("level", "out_of_range"));
    run(NULL, 99);
    assert_int_equal(v.n, 2); /* every problem, not just the first */
}

static void test_violations_bounded(void **state)
{
    (void)state;
    violations_init(&v);
    for (int i = 0; i < VIOLATIONS_MAX + 5; i++)
        violations_add(&v, "f", "required", "n %d", i);
    assert_int_equal(v.n, VIOLATIONS_MAX);
    assert_true(v.truncated);
}

static void test_method_names_round_trip(void **state)
{
    (void)state;
    for (int m = BUILD_METHOD_STANDARD_ARRAY; m < BUILD_METHOD_INVALID; m++) {
        const char *name = build_method_name((enum build_method)m);
        assert_non_null(name);
        assert_int_equal(build_method_parse(name), m);
    }
    assert_string_equal(build_method_name(BUILD_METHOD_POINT_BUY), "point_buy");
    assert_null(build_method_name(BUILD_METHOD_NONE));
    assert_null(build_method_name(BUILD_METHOD_INVALID));
    assert_int_equal(build_method_parse("4d6"), BUILD_METHOD_INVALID);
    assert_int_equal(build_method_parse("Point_Buy"), BUILD_METHOD_INVALID); /* exact spelling only */
    assert_int_equal(build_method_parse(NULL), BUILD_METHOD_INVALID);
}

static void test_default_policy(void **state)
{
    (void)state;
    struct build_policy p;
    memset(&p, 0x5a, sizeof(p));
    build_policy_default(&p);
    assert_true(p.methods & (1u << BUILD_METHOD_STANDARD_ARRAY));
    assert_true(p.methods & (1u << BUILD_METHOD_POINT_BUY));
    assert_true(p.methods & (1u << BUILD_METHOD_ROLLED));
    assert_false(p.methods & (1u << BUILD_METHOD_MANUAL)); /* manual scores are off unless the table allows them */
    assert_int_equal(p.point_buy_budget, 27);
    assert_int_equal(p.hp_method, BUILD_HP_EITHER);
    assert_null(p.rolls_key);
    assert_int_equal(p.roll_ttl_s, 24 * 3600);
}

static void test_bad_fields_not_repeated(void **state)
{
    (void)state;
    /* a name or level the mapper already reported (wrong_type) gets no second problem */
    struct build b = {.bad = (1u << BF_NAME) | (1u << BF_LEVEL), .level = 0};
    violations_init(&v);
    build_validate_name_level(&b, BF_NAME, &v);
    assert_int_equal(v.n, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid),
        cmocka_unit_test(test_name_required_and_blank),
        cmocka_unit_test(test_name_length_counts_characters),
        cmocka_unit_test(test_control_characters),
        cmocka_unit_test(test_level_range_and_all_problems),
        cmocka_unit_test(test_violations_bounded),
        cmocka_unit_test(test_method_names_round_trip),
        cmocka_unit_test(test_default_policy),
        cmocka_unit_test(test_bad_fields_not_repeated),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
