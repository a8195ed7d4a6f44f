/*
 * tests/unit/test_charjson.c - server/charjson.c: a JSON body mapped onto
 * `struct build` field by field; every shape problem with its field path, code
 * and the build's `bad` bit; null as absent; build -> JSON -> build round
 * trips; the level-up body; the sheet written as JSON (with the SRD data of
 * the checkout's rules/data).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server/charjson.h"

static struct violations v;
static struct build b;
static json_t *doc; /* the body the build borrows its strings from */

static void read_text(const char *text)
{
    json_decref(doc);
    json_error_t jerr;
    /* JSON_ALLOW_NUL: the server's parser refuses "\u0000", the mapper must not rely on it */
    doc = json_loads(text, JSON_DECODE_ANY | JSON_ALLOW_NUL, &jerr);
    if (doc == NULL)
        fail_msg("test JSON does not parse: %s (%s)", jerr.text, text);
    violations_init(&v);
    charjson_read_build(doc, &b, &v);
}

static int has(const char *field, const char *code)
{
    for (size_t i = 0; i < v.n; i++)
        if (strcmp(v.items[i].field, field) == 0 && strcmp(v.items[i].code, code) == 0)
            return 1;
    return 0;
}

static void dump(void)
{
    for (size_t i = 0; i < v.n; i++)
        print_message("  %s %s: %s\n", v.items[i].field, v.items[i].code, v.items[i].message);
}

static int teardown_doc(void **state)
{
    (void)state;
    json_decref(doc);
    doc = NULL;
    return 0;
}

/* ---- every field mapped -------------------------------------------------------------- */

static const char FULL[] =
    "{\"name\": \"Thorin \\\"Oak\\\" \\u00c9\", \"race\": \"dwarf\", \"subrace\": \"hill-dwarf\","
    " \"class\": \"cleric\", \"subclass\": \"life\", \"background\": \"acolyte\", \"alignment\": \"lawful-good\","
    " \"level\": 4,"
    " \"ability_scores\": {\"method\": \"rolled\", \"assign\": {\"str\": 13, \"dex\": 8, \"con\": 14, \"int\": 10,"
    " \"wis\": 15, \"cha\": 12}, \"roll_id\": \"r1.abc\"},"
    " \"skills\": [\"history\", \"medicine\"], \"languages\": [\"giant\", \"elvish\"],"
    " \"choices\": {\"ability_bonuses\": [\"dex\", \"con\"], \"race_skills\": [\"perception\"],"
    " \"instruments\": [\"lute\", \"flute\", \"drum\"], \"draconic_ancestry\": \"red\", \"tool\": \"smiths-tools\","
    " \"cantrip\": \"light\", \"artisan_or_instrument\": \"lute\"},"
    " \"ability_score_improvements\": [{\"level\": 4, \"increase\": {\"wis\": 2}}],"
    " \"advancement\": [{\"class\": \"cleric\", \"hit_points\": \"average\"},"
    " {\"class\": \"fighter\", \"subclass\": \"champion\", \"hit_points\": 7, \"asi\": {\"str\": 1, \"con\": 1},"
    " \"skills\": [\"athletics\"], \"tools\": []}]}";

static void test_every_field(void **state)
{
    (void)state;
    read_text(FULL);
    if (v.n != 0)
        dump();
    assert_int_equal(v.n, 0);
    assert_int_equal(b.bad, 0);
    assert_int_equal(b.name_len, strlen("Thorin \"Oak\" \xc3\x89"));
    assert_memory_equal(b.name, "Thorin \"Oak\" \xc3\x89", b.name_len);
    assert_string_equal(b.race, "dwarf");
    assert_string_equal(b.subrace, "hill-dwarf");
    assert_string_equal(b.class_, "cleric");
    assert_string_equal(b.subclass, "life");
    assert_string_equal(b.background, "acolyte");
    assert_false(b.custom_background);
    assert_string_equal(b.alignment, "lawful-good");
    assert_int_equal(b.level, 4);
    assert_int_equal(b.ability_scores.method, BUILD_METHOD_ROLLED);
    static const int want[BUILD_ABILITIES] = {13, 8, 14, 10, 15, 12};
    for (int k = 0; k < BUILD_ABILITIES; k++) {
        assert_true(b.ability_scores.assign.present[k]);
        assert_int_equal(b.ability_scores.assign.v[k], want[k]);
    }
    assert_string_equal(b.ability_scores.roll_id, "r1.abc");
    assert_int_equal(b.skills.n, 2);
    assert_true(b.skills.present);
    assert_string_equal(b.skills.v[1], "medicine");
    assert_int_equal(b.languages.n, 2);
    assert_string_equal(b.languages.v[0], "giant");
    assert_int_equal(b.choices.ability_bonuses.n, 2);
    assert_string_equal(b.choices.ability_bonuses.v[1], "con");
    assert_int_equal(b.choices.race_skills.n, 1);
    assert_int_equal(b.choices.instruments.n, 3);
    assert_string_equal(b.choices.instruments.v[2], "drum");
    assert_string_equal(b.choices.draconic_ancestry, "red");
    assert_string_equal(b.choices.tool, "smiths-tools");
    assert_string_equal(b.choices.cantrip, "light");
    assert_string_equal(b.choices.artisan_or_instrument, "lute");
    assert_int_equal(b.nasis, 1);
    assert_int_equal(b.asis[0].level, 4);
    assert_true(b.asis[0].increase.present[4]);
    assert_int_equal(b.asis[0].increase.v[4], 2);
    assert_false(b.asis[0].increase.present[0]);
    assert_int_equal(b.nadvancement, 2);
    assert_string_equal(b.advancement[0].class_, "cleric");
    assert_int_equal(b.advancement[0].hit_points, 0); /* "average" */
    assert_null(b.advancement[0].subclass);
    assert_string_equal(b.advancement[1].class_, "fighter");
    assert_string_equal(b.advancement[1].subclass, "champion");
    assert_int_equal(b.advancement[1].hit_points, 7);
    assert_int_equal(b.advancement[1].asi.v[0], 1);
    assert_int_equal(b.advancement[1].asi.v[2], 1);
    assert_false(b.advancement[1].asi.present[1]);
    assert_int_equal(b.advancement[1].skills.n, 1);
    assert_string_equal(b.advancement[1].skills.v[0], "athletics");
    assert_true(b.advancement[1].tools.present); /* given, empty */
    assert_int_equal(b.advancement[1].tools.n, 0);
}

static void test_custom_background(void **state)
{
    (void)state;
    read_text("{\"background\": {\"name\": \"Wanderer\", \"skills\": [\"stealth\", \"survival\"],"
              " \"languages\": [\"elvish\"], \"tools\": [\"lute\"]}}");
    assert_int_equal(v.n, 0);
    assert_true(b.custom_background);
    assert_null(b.background);
    assert_int_equal(b.custom.name_len, 8);
    assert_memory_equal(b.custom.name, "Wanderer", 8);
    assert_int_equal(b.custom.skills.n, 2);
    assert_string_equal(b.custom.skills.v[1], "survival");
    assert_int_equal(b.custom.languages.n, 1);
    assert_int_equal(b.custom.tools.n, 1);
    assert_string_equal(b.custom.tools.v[0], "lute");
    /* an empty object is still a custom background (the engine says what it lacks) */
    read_text("{\"background\": {}}");
    assert_int_equal(v.n, 0);
    assert_true(b.custom_background);
    assert_null(b.custom.name);
}

/* Absent and null read the same: nothing set, level 1, no problems. */
static void test_null_is_absent(void **state)
{
    (void)state;
    static const char *const bodies[] = {
        "{}",
        "{\"name\": null, \"race\": null, \"subrace\": null, \"class\": null, \"subclass\": null,"
        " \"background\": null, \"alignment\": null, \"level\": null, \"ability_scores\": null, \"skills\": null,"
        " \"languages\": null, \"choices\": null, \"ability_score_improvements\": null, \"advancement\": null}",
        "{\"ability_scores\": {\"method\": null, \"assign\": {\"str\": null}, \"roll_id\": null},"
        " \"choices\": {\"ability_bonuses\": null, \"tool\": null},"
        " \"advancement\": [{\"class\": null, \"hit_points\": null, \"asi\": null, \"skills\": null}]}",
    };
    for (size_t i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
        read_text(bodies[i]);
        if (v.n != 0)
            dump();
        assert_int_equal(v.n, 0);
        assert_int_equal(b.bad, 0);
        assert_null(b.name);
        assert_null(b.race);
        assert_null(b.background);
        assert_false(b.custom_background);
        assert_int_equal(b.level, 1);
        assert_int_equal(b.ability_scores.method, BUILD_METHOD_NONE);
        assert_false(b.ability_scores.assign.present[0]);
        assert_null(b.ability_scores.roll_id);
        assert_false(b.skills.present);
        assert_false(b.choices.ability_bonuses.present);
        assert_null(b.choices.tool);
        assert_int_equal(b.nasis, 0);
    }
    /* the one advancement entry of all-null members is an entry with nothing set */
    assert_int_equal(b.nadvancement, 1);
    assert_null(b.advancement[0].class_);
    assert_int_equal(b.advancement[0].hit_points, 0);
    assert_false(b.advancement[0].skills.present);
}

/* Integers are clamped into -1..1000 for the engine to judge; reals are refused. */
static void test_integers(void **state)
{
    (void)state;
    static const struct {
        const char *body;
        int level;
    } rows[] = {
        {"{\"level\": 20}", 20},
        {"{\"level\": 0}", 0},
        {"{\"level\": -1}", -1},
        {"{\"level\": -5000}", -1},
        {"{\"level\": 1001}", 1000},
        {"{\"level\": 9223372036854775807}", 1000},
        {"{\"level\": -9223372036854775808}", -1},
    };
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        read_text(rows[i].body);
        assert_int_equal(v.n, 0);
        if (b.level != rows[i].level)
            fail_msg("%s: level %d, want %d", rows[i].body, b.level, rows[i].level);
    }
    read_text("{\"ability_scores\": {\"assign\": {\"str\": 123456789}}}");
    assert_int_equal(v.n, 0);
    assert_int_equal(b.ability_scores.assign.v[0], 1000);
    /* past int64 the JSON parser itself refuses the text (the server's 400), so no wrap-around reaches the mapper */
    json_error_t jerr;
    assert_null(json_loads("{\"level\": 99999999999999999999}", 0, &jerr));
}

/* ---- shape problems ---------------------------------------------------------------- */

struct shape_case {
    const char *body;
    const char *field; /* the field path of the problem */
    const char *code;
    int bf; /* the build field marked bad, or -1 for none */
};

#define ALL -2 /* every bit: the body is not an object */

static const struct shape_case shape_cases[] = {
    /* not an object at all */
    {"[]", "", "wrong_type", ALL},
    {"\"Thorin\"", "", "wrong_type", ALL},
    {"null", "", "wrong_type", ALL},
    /* unknown fields at every depth, named with their path */
    {"{\"colour\": \"red\"}", "colour", "unknown_field", -1},
    {"{\"ability_scores\": {\"methd\": \"manual\"}}", "ability_scores.methd", "unknown_field", BF_ABILITY_SCORES},
    {"{\"ability_scores\": {\"assign\": {\"luck\": 3}}}", "ability_scores.assign.luck", "unknown_field", BF_ASSIGN},
    {"{\"background\": {\"name\": \"x\", \"feature\": 1}}", "background.feature", "unknown_field", BF_BACKGROUND},
    {"{\"choices\": {\"spell\": \"light\"}}", "choices.spell", "unknown_field", BF_CHOICES},
    {"{\"ability_score_improvements\": [{\"level\": 4, \"increase\": {\"wis\": 2}, \"why\": 1}]}",
     "ability_score_improvements[0].why", "unknown_field", BF_ASIS},
    {"{\"ability_score_improvements\": [{\"level\": 4, \"increase\": {\"wiz\": 2}}]}",
     "ability_score_improvements[0].increase.wiz", "unknown_field", BF_ASIS},
    {"{\"advancement\": [{}, {\"hp\": 3}]}", "advancement[1].hp", "unknown_field", BF_ADVANCEMENT},
    {"{\"advancement\": [{\"asi\": {\"luck\": 1}}]}", "advancement[0].asi.luck", "unknown_field", BF_ADVANCEMENT},
    /* wrong JSON types */
    {"{\"name\": 5}", "name", "wrong_type", BF_NAME},
    {"{\"race\": [\"dwarf\"]}", "race", "wrong_type", BF_RACE},
    {"{\"subrace\": true}", "subrace", "wrong_type", BF_SUBRACE},
    {"{\"class\": {}}", "class", "wrong_type", BF_CLASS},
    {"{\"subclass\": 1}", "subclass", "wrong_type", BF_SUBCLASS},
    {"{\"alignment\": false}", "alignment", "wrong_type", BF_ALIGNMENT},
    {"{\"background\": 7}", "background", "wrong_type", BF_BACKGROUND},
    {"{\"background\": {\"name\": 7}}", "background.name", "wrong_type", BF_BACKGROUND},
    {"{\"background\": {\"skills\": \"stealth\"}}", "background.skills", "wrong_type", BF_BACKGROUND},
    {"{\"level\": \"3\"}", "level", "wrong_type", BF_LEVEL},
    {"{\"level\": true}", "level", "wrong_type", BF_LEVEL},
    {"{\"ability_scores\": []}", "ability_scores", "wrong_type", BF_ABILITY_SCORES},
    {"{\"ability_scores\": {\"method\": 1}}", "ability_scores.method", "wrong_type", BF_METHOD},
    {"{\"ability_scores\": {\"assign\": [15]}}", "ability_scores.assign", "wrong_type", BF_ASSIGN},
    {"{\"ability_scores\": {\"assign\": {\"str\": \"15\"}}}", "ability_scores.assign.str", "wrong_type", BF_ASSIGN},
    {"{\"ability_scores\": {\"roll_id\": 5}}", "ability_scores.roll_id", "wrong_type", BF_ROLL_ID},
    {"{\"skills\": \"athletics\"}", "skills", "wrong_type", BF_SKILLS},
    {"{\"skills\": [\"athletics\", 3]}", "skills[1]", "wrong_type", BF_SKILLS},
    {"{\"skills\": [null]}", "skills[0]", "wrong_type", BF_SKILLS},
    {"{\"languages\": {}}", "languages", "wrong_type", BF_LANGUAGES},
    {"{\"choices\": []}", "choices", "wrong_type", BF_CHOICES},
    {"{\"choices\": {\"tool\": [\"smiths-tools\"]}}", "choices.tool", "wrong_type", BF_CHOICES},
    {"{\"choices\": {\"instruments\": [{}]}}", "choices.instruments[0]", "wrong_type", BF_CHOICES},
    {"{\"ability_score_improvements\": {}}", "ability_score_improvements", "wrong_type", BF_ASIS},
    {"{\"ability_score_improvements\": [4]}", "ability_score_improvements[0]", "wrong_type", BF_ASIS},
    {"{\"ability_score_improvements\": [{\"level\": \"4\"}]}", "ability_score_improvements[0].level", "wrong_type",
     BF_ASIS},
    {"{\"advancement\": \"cleric\"}", "advancement", "wrong_type", BF_ADVANCEMENT},
    {"{\"advancement\": [[]]}", "advancement[0]", "wrong_type", BF_ADVANCEMENT},
    {"{\"advancement\": [{\"class\": 3}]}", "advancement[0].class", "wrong_type", BF_ADVANCEMENT},
    {"{\"advancement\": [{\"hit_points\": true}]}", "advancement[0].hit_points", "wrong_type", BF_ADVANCEMENT},
    {"{\"advancement\": [{\"tools\": [1]}]}", "advancement[0].tools[0]", "wrong_type", BF_ADVANCEMENT},
    /* non-integers and words out of range */
    {"{\"level\": 1.5}", "level", "out_of_range", BF_LEVEL},
    {"{\"level\": 2.0}", "level", "out_of_range", BF_LEVEL},
    {"{\"level\": 1e300}", "level", "out_of_range", BF_LEVEL},
    {"{\"ability_scores\": {\"assign\": {\"dex\": 14.5}}}", "ability_scores.assign.dex", "out_of_range", BF_ASSIGN},
    {"{\"ability_scores\": {\"method\": \"4d6\"}}", "ability_scores.method", "out_of_range", BF_METHOD},
    {"{\"ability_score_improvements\": [{\"level\": 4.5}]}", "ability_score_improvements[0].level", "out_of_range",
     BF_ASIS},
    {"{\"advancement\": [{\"hit_points\": \"max\"}]}", "advancement[0].hit_points", "out_of_range", BF_ADVANCEMENT},
    {"{\"advancement\": [{\"hit_points\": 6.5}]}", "advancement[0].hit_points", "out_of_range", BF_ADVANCEMENT},
    /* NUL inside a string */
    {"{\"name\": \"Tho\\u0000rin\"}", "name", "not_allowed", BF_NAME},
    {"{\"race\": \"dw\\u0000arf\"}", "race", "not_allowed", BF_RACE},
};

static void test_shape_problems(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(shape_cases) / sizeof(shape_cases[0]); i++) {
        const struct shape_case *t = &shape_cases[i];
        read_text(t->body);
        if (!has(t->field, t->code)) {
            dump();
            fail_msg("%s: no %s at \"%s\"", t->body, t->code, t->field);
        }
        /* one problem per case, with a message that names the field */
        if (v.n != 1) {
            dump();
            fail_msg("%s: %zu problems, want 1", t->body, v.n);
        }
        assert_true(v.items[0].message[0] != '\0');
        if (t->field[0] != '\0' && strstr(v.items[0].message, t->field) == NULL &&
            strcmp(t->code, "out_of_range") != 0) /* out_of_range messages name the field or the allowed words */
            fail_msg("%s: message \"%s\" does not name %s", t->body, v.items[0].message, t->field);
        uint32_t want = t->bf == ALL ? ~0u : t->bf < 0 ? 0 : 1u << t->bf;
        if (b.bad != want)
            fail_msg("%s: bad = %#x, want %#x", t->body, (unsigned)b.bad, (unsigned)want);
    }
}

/* A JSON array of n copies of `item`. */
static char *array_of(size_t n, const char *item)
{
    size_t cap = n * (strlen(item) + 1) + 3;
    char *s = malloc(cap);
    assert_non_null(s);
    size_t at = 0;
    s[at++] = '[';
    for (size_t i = 0; i < n; i++)
        at += (size_t)snprintf(s + at, cap - at, "%s%s", i ? "," : "", item);
    snprintf(s + at, cap - at, "]");
    return s;
}

/* Lists: BUILD_LIST_MAX items are fine, one more is too_many (advancement: BUILD_ADVANCE_MAX). */
static void test_too_many(void **state)
{
    (void)state;
    static const struct {
        const char *fmt; /* the body around the array */
        const char *item;
        size_t max;
        const char *field;
        int bf;
    } rows[] = {
        {"{\"skills\": %s}", "\"a\"", BUILD_LIST_MAX, "skills", BF_SKILLS},
        {"{\"languages\": %s}", "\"a\"", BUILD_LIST_MAX, "languages", BF_LANGUAGES},
        {"{\"background\": {\"tools\": %s}}", "\"a\"", BUILD_LIST_MAX, "background.tools", BF_BACKGROUND},
        {"{\"choices\": {\"ability_bonuses\": %s}}", "\"a\"", BUILD_LIST_MAX, "choices.ability_bonuses", BF_CHOICES},
        {"{\"ability_score_improvements\": %s}", "{\"level\": 4}", BUILD_LIST_MAX, "ability_score_improvements",
         BF_ASIS},
        {"{\"advancement\": %s}", "{}", BUILD_ADVANCE_MAX, "advancement", BF_ADVANCEMENT},
        {"{\"advancement\": [{\"skills\": %s}]}", "\"a\"", BUILD_LIST_MAX, "advancement[0].skills", BF_ADVANCEMENT},
    };
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        for (size_t n = rows[i].max; n <= rows[i].max + 1; n++) {
            char *arr = array_of(n, rows[i].item);
            char *body = malloc(strlen(arr) + strlen(rows[i].fmt) + 1);
            assert_non_null(body);
            sprintf(body, rows[i].fmt, arr);
            read_text(body);
            int over = n > rows[i].max;
            if (has(rows[i].field, "too_many") != over || (over && b.bad != 1u << rows[i].bf) || (!over && v.n != 0)) {
                dump();
                fail_msg("%s with %zu items: too_many %s expected", rows[i].field, n, over ? "" : "not");
            }
            free(body);
            free(arr);
        }
    }
}

/* Strings: the bound is fine, one byte more is too_long. */
static void test_too_long(void **state)
{
    (void)state;
    static const struct {
        const char *fmt;
        size_t max;
        const char *field;
        int bf;
    } rows[] = {
        {"{\"name\": \"%s\"}", CHARJSON_NAME_MAX_BYTES, "name", BF_NAME},
        {"{\"race\": \"%s\"}", CHARJSON_SLUG_MAX, "race", BF_RACE},
        {"{\"background\": \"%s\"}", CHARJSON_SLUG_MAX, "background", BF_BACKGROUND},
        {"{\"background\": {\"name\": \"%s\"}}", CHARJSON_NAME_MAX_BYTES, "background.name", BF_BACKGROUND},
        {"{\"ability_scores\": {\"roll_id\": \"%s\"}}", CHARJSON_ROLL_ID_MAX, "ability_scores.roll_id", BF_ROLL_ID},
        {"{\"skills\": [\"%s\"]}", CHARJSON_SLUG_MAX, "skills[0]", BF_SKILLS},
        {"{\"choices\": {\"cantrip\": \"%s\"}}", CHARJSON_SLUG_MAX, "choices.cantrip", BF_CHOICES},
        {"{\"advancement\": [{\"subclass\": \"%s\"}]}", CHARJSON_SLUG_MAX, "advancement[0].subclass", BF_ADVANCEMENT},
    };
    char text[CHARJSON_NAME_MAX_BYTES + 2];
    char body[CHARJSON_NAME_MAX_BYTES + 100];
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        for (size_t n = rows[i].max; n <= rows[i].max + 1; n++) {
            memset(text, 'x', n);
            text[n] = '\0';
            snprintf(body, sizeof(body), rows[i].fmt, text);
            read_text(body);
            int over = n > rows[i].max;
            if (has(rows[i].field, "too_long") != over || (over && b.bad != 1u << rows[i].bf) || (!over && v.n != 0)) {
                dump();
                fail_msg("%s of %zu bytes: too_long %s expected", rows[i].field, n, over ? "" : "not");
            }
        }
    }
}

/* Every problem is reported at once, and long unknown keys are cut in the path. */
static void test_all_problems_and_long_keys(void **state)
{
    (void)state;
    read_text("{\"name\": 1, \"level\": 2.5, \"skills\": [1, 2], \"colour\": 0,"
              " \"ability_scores\": {\"assign\": {\"str\": \"x\", \"luck\": 1}}}");
    assert_true(has("name", "wrong_type"));
    assert_true(has("level", "out_of_range"));
    assert_true(has("skills[0]", "wrong_type"));
    assert_true(has("skills[1]", "wrong_type"));
    assert_true(has("colour", "unknown_field"));
    assert_true(has("ability_scores.assign.str", "wrong_type"));
    assert_true(has("ability_scores.assign.luck", "unknown_field"));
    assert_int_equal(v.n, 7);

    /* a 100-byte key: the path keeps 48 bytes, cut on a UTF-8 boundary (é is 2 bytes) */
    char body[300], key[101];
    memset(key, 'k', 47);
    strcpy(key + 47, "\xc3\xa9");
    memset(key + 49, 'z', 51);
    key[100] = '\0';
    snprintf(body, sizeof(body), "{\"choices\": {\"%s\": 1}}", key);
    read_text(body);
    assert_int_equal(v.n, 1);
    char want[128];
    snprintf(want, sizeof(want), "choices.%.47s", key);
    assert_string_equal(v.items[0].field, want);
    assert_true(strlen(v.items[0].field) < sizeof(v.items[0].field));
}

/* ---- round trips ------------------------------------------------------------------- */

static int str_eq(const char *a, const char *b2)
{
    return (a == NULL && b2 == NULL) || (a != NULL && b2 != NULL && strcmp(a, b2) == 0);
}

static void assert_list_eq(const struct build_list *x, const struct build_list *y, const char *what)
{
    if (x->n != y->n || x->present != y->present)
        fail_msg("%s: %zu/%d items vs %zu/%d", what, x->n, x->present, y->n, y->present);
    for (size_t i = 0; i < x->n; i++)
        if (!str_eq(x->v[i], y->v[i]))
            fail_msg("%s[%zu]: %s vs %s", what, i, x->v[i], y->v[i]);
}

static void assert_scores_eq(const struct build_scores *x, const struct build_scores *y, const char *what)
{
    for (int k = 0; k < BUILD_ABILITIES; k++)
        if (x->present[k] != y->present[k] || (x->present[k] && x->v[k] != y->v[k]))
            fail_msg("%s[%d] differs", what, k);
}

static void assert_build_eq(const struct build *x, const struct build *y)
{
    assert_int_equal(x->name_len, y->name_len);
    if (x->name != NULL || y->name != NULL) {
        assert_non_null(x->name);
        assert_non_null(y->name);
        assert_memory_equal(x->name, y->name, x->name_len);
    }
    const char *const *xs[] = {&x->race,
                               &x->subrace,
                               &x->class_,
                               &x->subclass,
                               &x->alignment,
                               &x->background,
                               &x->ability_scores.roll_id,
                               &x->choices.draconic_ancestry,
                               &x->choices.tool,
                               &x->choices.cantrip,
                               &x->choices.artisan_or_instrument};
    const char *const *ys[] = {&y->race,
                               &y->subrace,
                               &y->class_,
                               &y->subclass,
                               &y->alignment,
                               &y->background,
                               &y->ability_scores.roll_id,
                               &y->choices.draconic_ancestry,
                               &y->choices.tool,
                               &y->choices.cantrip,
                               &y->choices.artisan_or_instrument};
    for (size_t i = 0; i < sizeof(xs) / sizeof(xs[0]); i++)
        if (!str_eq(*xs[i], *ys[i]))
            fail_msg("string field %zu: %s vs %s", i, *xs[i], *ys[i]);
    assert_int_equal(x->custom_background, y->custom_background);
    assert_int_equal(x->custom.name_len, y->custom.name_len);
    if (x->custom.name != NULL)
        assert_memory_equal(x->custom.name, y->custom.name, x->custom.name_len);
    assert_list_eq(&x->custom.skills, &y->custom.skills, "background.skills");
    assert_list_eq(&x->custom.languages, &y->custom.languages, "background.languages");
    assert_list_eq(&x->custom.tools, &y->custom.tools, "background.tools");
    assert_int_equal(x->level, y->level);
    assert_int_equal(x->ability_scores.method, y->ability_scores.method);
    assert_scores_eq(&x->ability_scores.assign, &y->ability_scores.assign, "assign");
    assert_list_eq(&x->skills, &y->skills, "skills");
    assert_list_eq(&x->languages, &y->languages, "languages");
    assert_list_eq(&x->choices.ability_bonuses, &y->choices.ability_bonuses, "ability_bonuses");
    assert_list_eq(&x->choices.race_skills, &y->choices.race_skills, "race_skills");
    assert_list_eq(&x->choices.instruments, &y->choices.instruments, "instruments");
    assert_int_equal(x->nasis, y->nasis);
    for (size_t i = 0; i < x->nasis; i++) {
        assert_int_equal(x->asis[i].level, y->asis[i].level);
        assert_scores_eq(&x->asis[i].increase, &y->asis[i].increase, "asi");
    }
    assert_int_equal(x->nadvancement, y->nadvancement);
    for (size_t i = 0; i < x->nadvancement; i++) {
        const struct build_advance *p = &x->advancement[i], *q = &y->advancement[i];
        assert_true(str_eq(p->class_, q->class_));
        assert_true(str_eq(p->subclass, q->subclass));
        assert_int_equal(p->hit_points, q->hit_points);
        assert_scores_eq(&p->asi, &q->asi, "advancement asi");
        assert_list_eq(&p->skills, &q->skills, "advancement skills");
        assert_list_eq(&p->tools, &q->tools, "advancement tools");
    }
    assert_int_equal(y->bad, 0);
}

static void test_round_trip(void **state)
{
    (void)state;
    static const char *const bodies[] = {
        FULL,
        "{}",
        "{\"name\": \"Lia\", \"race\": \"half-elf\", \"class\": \"bard\", \"background\": {\"name\": \"Wanderer\","
        " \"skills\": [\"stealth\", \"survival\"], \"languages\": [], \"tools\": [\"lute\"]}}",
        "{\"background\": {}, \"skills\": [], \"ability_scores\": {\"assign\": {\"cha\": 3}}}",
        "{\"ability_scores\": {\"method\": \"manual\"}, \"level\": 20, \"choices\": {\"cantrip\": \"light\"}}",
        "{\"name\": \"\\u00e9\\u4e2d\\ud83d\\ude00 \\\"q\\\" \\\\ \\n\", \"level\": 1000}",
    };
    for (size_t i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
        read_text(bodies[i]);
        assert_int_equal(v.n, 0);
        struct build first = b;
        json_t *held = json_incref(doc); /* first borrows from it */
        json_t *out = charjson_write_build(&first);
        assert_non_null(out);
        /* the level is always written */
        assert_true(json_is_integer(json_object_get(out, "level")));
        violations_init(&v);
        struct build second;
        charjson_read_build(out, &second, &v);
        if (v.n != 0)
            dump();
        assert_int_equal(v.n, 0);
        assert_build_eq(&first, &second);
        /* and writing the re-read build gives the same JSON */
        json_t *again = charjson_write_build(&second);
        if (!json_equal(out, again)) {
            char *a = json_dumps(out, JSON_SORT_KEYS), *c = json_dumps(again, JSON_SORT_KEYS);
            fail_msg("not stable:\n%s\n%s", a, c);
        }
        json_decref(again);
        json_decref(out);
        json_decref(held);
    }
}

/* ---- level-up body ----------------------------------------------------------------- */

static void test_level_up(void **state)
{
    (void)state;
    struct level_up req;
    json_error_t jerr;
    json_decref(doc);
    doc = json_loads("{\"class\": \"fighter\", \"subclass\": \"champion\", \"hit_points\": \"roll\","
                     " \"asi\": {\"str\": 2}, \"skills\": [\"athletics\"], \"tools\": [\"lute\"]}",
                     0, &jerr);
    violations_init(&v);
    charjson_read_level_up(doc, &req, &v);
    assert_int_equal(v.n, 0);
    assert_string_equal(req.class_, "fighter");
    assert_string_equal(req.subclass, "champion");
    assert_int_equal(req.roll, 1);
    assert_true(req.asi.present[0]);
    assert_int_equal(req.asi.v[0], 2);
    assert_int_equal(req.skills.n, 1);
    assert_int_equal(req.tools.n, 1);

    static const struct {
        const char *body;
        const char *field, *code;
    } bad[] = {
        {"[]", "", "wrong_type"},
        {"{\"klass\": \"fighter\"}", "klass", "unknown_field"},
        {"{\"hit_points\": \"max\"}", "hit_points", "out_of_range"},
        {"{\"hit_points\": 8}", "hit_points", "wrong_type"},
        {"{\"asi\": {\"str\": 1.5}}", "asi.str", "out_of_range"},
        {"{\"asi\": {\"luck\": 1}}", "asi.luck", "unknown_field"},
        {"{\"skills\": [1]}", "skills[0]", "wrong_type"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        json_decref(doc);
        doc = json_loads(bad[i].body, JSON_DECODE_ANY, &jerr);
        assert_non_null(doc);
        violations_init(&v);
        charjson_read_level_up(doc, &req, &v);
        if (!has(bad[i].field, bad[i].code)) {
            dump();
            fail_msg("%s: no %s at \"%s\"", bad[i].body, bad[i].code, bad[i].field);
        }
    }
    /* null and absent: the creation class, the average */
    violations_init(&v);
    charjson_read_level_up(NULL, &req, &v);
    assert_int_equal(v.n, 0);
    assert_null(req.class_);
    assert_int_equal(req.roll, 0);
}

/* ---- the sheet --------------------------------------------------------------------- */

static struct ruleset *rs;

static int setup_rules(void **state)
{
    (void)state;
    struct err e = {0};
    if (ruleset_load(SRCDIR "/rules/data", &rs, &e) != 0) {
        print_error("loading %s/rules/data: %s\n", SRCDIR, e.msg);
        return -1;
    }
    return 0;
}

static int teardown_rules(void **state)
{
    ruleset_free(rs);
    return teardown_doc(state);
}

/*
 * The sheet as JSON: every member API.md lists, strings escaped (quotes,
 * backslash, a control character), the text form equal to the object form.
 */
static void test_sheet(void **state)
{
    (void)state;
    read_text("{\"name\": \"Thorin \\\"Oak\\\\shield\\\"\\t\\u00e9\", \"race\": \"dwarf\", \"subrace\": \"hill-dwarf\","
              " \"class\": \"cleric\", \"subclass\": \"life\", \"background\": \"acolyte\","
              " \"alignment\": \"lawful-good\", \"ability_scores\": {\"method\": \"standard_array\","
              " \"assign\": {\"str\": 13, \"dex\": 8, \"con\": 14, \"int\": 10, \"wis\": 15, \"cha\": 12}},"
              " \"skills\": [\"history\", \"medicine\"], \"languages\": [\"giant\", \"elvish\"],"
              " \"choices\": {\"tool\": \"smiths-tools\"}}");
    assert_int_equal(v.n, 0);
    struct build_policy policy;
    build_policy_default(&policy);
    struct sheet *sh = calloc(1, sizeof(*sh));
    assert_non_null(sh);
    character_evaluate(rs, &policy, &b, CHARACTER_CREATE, &v, sh);
    /* the tab makes the name invalid, but the best-effort sheet (validate's) must still be well-formed JSON */
    if (v.n != 1 || !has("name", "not_allowed"))
        dump();
    assert_int_equal(v.n, 1);
    assert_true(has("name", "not_allowed"));

    json_t *o = json_object();
    charjson_write_sheet(rs, &b, sh, o);
    static const char *const members[] = {"name",
                                          "level",
                                          "experience_points",
                                          "race",
                                          "subrace",
                                          "class",
                                          "background",
                                          "alignment",
                                          "ability_scores",
                                          "proficiency_bonus",
                                          "classes",
                                          "hit_points",
                                          "armor_class",
                                          "initiative",
                                          "speed",
                                          "darkvision",
                                          "size",
                                          "saving_throws",
                                          "skills",
                                          "passive_perception",
                                          "languages",
                                          "proficiencies",
                                          "traits",
                                          "features",
                                          "resistances"};
    for (size_t i = 0; i < sizeof(members) / sizeof(members[0]); i++)
        if (json_object_get(o, members[i]) == NULL)
            fail_msg("sheet has no \"%s\"", members[i]);
    assert_string_equal(json_string_value(json_object_get(o, "name")), "Thorin \"Oak\\shield\"\t\xc3\xa9");
    json_t *race = json_object_get(o, "race");
    assert_string_equal(json_string_value(json_object_get(race, "index")), "dwarf");
    assert_string_equal(json_string_value(json_object_get(race, "url")), "/api/2014/races/dwarf");
    /* hill dwarf cleric, CON 14+2: 8 + 3 + 1 (Dwarven Toughness) */
    assert_int_equal(json_integer_value(json_object_get(json_object_get(o, "hit_points"), "max")), 12);
    assert_int_equal(
        json_integer_value(json_object_get(json_object_get(json_object_get(o, "ability_scores"), "wis"), "score")), 16);
    assert_int_equal(json_array_size(json_object_get(o, "classes")), 1);

    size_t len = 0;
    char *text = charjson_sheet_text(rs, &b, sh, &len);
    assert_int_equal(strlen(text), len);
    char *wrapped = malloc(len + 3);
    assert_non_null(wrapped);
    wrapped[0] = '{';
    memcpy(wrapped + 1, text, len);
    strcpy(wrapped + 1 + len, "}");
    json_error_t jerr;
    json_t *t = json_loads(wrapped, JSON_REJECT_DUPLICATES, &jerr);
    if (t == NULL)
        fail_msg("sheet text is not JSON: %s", jerr.text);
    assert_true(json_equal(o, t));
    json_decref(t);
    json_decref(o);
    free(wrapped);
    free(text);
    free(sh);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_every_field, teardown_doc),
        cmocka_unit_test_teardown(test_custom_background, teardown_doc),
        cmocka_unit_test_teardown(test_null_is_absent, teardown_doc),
        cmocka_unit_test_teardown(test_integers, teardown_doc),
        cmocka_unit_test_teardown(test_shape_problems, teardown_doc),
        cmocka_unit_test_teardown(test_too_many, teardown_doc),
        cmocka_unit_test_teardown(test_too_long, teardown_doc),
        cmocka_unit_test_teardown(test_all_problems_and_long_keys, teardown_doc),
        cmocka_unit_test_teardown(test_round_trip, teardown_doc),
        cmocka_unit_test_teardown(test_level_up, teardown_doc),
        cmocka_unit_test_setup_teardown(test_sheet, setup_rules, teardown_rules),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
