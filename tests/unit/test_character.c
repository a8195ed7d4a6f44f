/*
 * tests/unit/test_character.c - the rules engine (rules/character.c,
 * charcheck.c, charsheet.c, charrandom.c) against the shipped SRD data:
 * hand-checked sheets (one build per race and per class, the arithmetic in a
 * comment on each row, from SRD-FACTS.md), each ability method, every
 * validation code the engine emits, level-up across an ASI level, multiclass
 * prerequisites, hit points at level 5 (average and rolled), random builds
 * (valid and reproducible) and the cost of one evaluation.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
/* clang-format off */
#include <cmocka.h>
/* clang-format on */

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/err.h"
#include "rules/character.h"
#include "rules/dice.h"
#include "rules/rollid.h"

static struct ruleset *rs;
static struct build_policy policy;
static struct violations v;
static struct sheet sh;

enum { STR, DEX, CON, INT, WIS, CHA };

/* ---- building builds ---- */

#define L(...)                                                                                                         \
    {                                                                                                                  \
        __VA_ARGS__, NULL                                                                                              \
    }

struct spec {
    const char *race, *subrace, *cls, *subclass;
    enum build_method method;
    int assign[6];
    const char *skills[6];
    const char *languages[5];
    const char *bonuses[3], *race_skills[3], *instruments[4];
    const char *ancestry, *tool, *cantrip, *artisan;
};

static void set_list(struct build_list *l, const char *const *items, size_t max)
{
    memset(l, 0, sizeof(*l));
    l->present = 1;
    for (size_t i = 0; i < max && items[i] != NULL; i++)
        l->v[l->n++] = items[i];
}

static void make(struct build *b, const struct spec *s)
{
    memset(b, 0, sizeof(*b));
    b->name = "Tester";
    b->name_len = strlen(b->name);
    b->level = 1;
    b->race = s->race;
    b->subrace = s->subrace;
    b->class_ = s->cls;
    b->subclass = s->subclass;
    b->background = "acolyte";
    b->alignment = "neutral-good";
    b->ability_scores.method = s->method ? s->method : BUILD_METHOD_STANDARD_ARRAY;
    for (int i = 0; i < 6; i++) {
        b->ability_scores.assign.v[i] = s->assign[i];
        b->ability_scores.assign.present[i] = 1;
    }
    set_list(&b->skills, s->skills, 6);
    set_list(&b->languages, s->languages, 5);
    set_list(&b->choices.ability_bonuses, s->bonuses, 3);
    set_list(&b->choices.race_skills, s->race_skills, 3);
    set_list(&b->choices.instruments, s->instruments, 4);
    b->choices.ability_bonuses.present = s->bonuses[0] != NULL;
    b->choices.race_skills.present = s->race_skills[0] != NULL;
    b->choices.instruments.present = s->instruments[0] != NULL;
    b->choices.draconic_ancestry = s->ancestry;
    b->choices.tool = s->tool;
    b->choices.cantrip = s->cantrip;
    b->choices.artisan_or_instrument = s->artisan;
}

static void eval_mode(const struct build *b, enum character_mode mode)
{
    violations_init(&v);
    character_evaluate(rs, &policy, b, mode, &v, &sh);
}

static void eval(const struct build *b)
{
    eval_mode(b, CHARACTER_CREATE);
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

static void expect_valid(void)
{
    if (v.n != 0)
        dump();
    assert_int_equal(v.n, 0);
}

static void expect(const char *field, const char *code)
{
    if (!has(field, code)) {
        print_message("expected %s %s; got:\n", field, code);
        dump();
        fail();
    }
}

static const struct sheet_skill *skill(const char *index)
{
    for (size_t i = 0; i < sh.nskills; i++)
        if (strcmp(sh.skills[i].skill->index, index) == 0)
            return &sh.skills[i];
    fail_msg("no skill %s on the sheet", index);
    return NULL;
}

static int has_ref(const struct sheet_refs *l, const char *index)
{
    for (size_t i = 0; i < l->n; i++)
        if (strcmp(l->v[i].index, index) == 0)
            return 1;
    return 0;
}

/* ---- one build per race and per class ---- */

struct row {
    const char *what;
    struct spec in;
    int score[6], hp, ac, initiative, speed, darkvision, passive;
    const char *size, *hit_dice;
    const char *proficient[8]; /* exactly these skills */
    const char *saves[3];      /* exactly these saving throws */
    const char *languages[8];  /* exactly these */
    const char *resist[3];     /* exactly these */
    const char *profs[5];      /* at least these proficiencies */
};

/* Acolyte everywhere: Insight and Religion, two languages of choice. Proficiency bonus +2 at level 1. */
static const struct row rows[] = {
    {"hill dwarf life cleric (API.md's example)",
     {"dwarf",
      "hill-dwarf",
      "cleric",
      "life",
      0,
      {13, 8, 14, 10, 15, 12},
      L("history", "medicine"),
      L("giant", "elvish"),
      L(NULL),
      L(NULL),
      L(NULL),
      NULL,
      "smiths-tools",
      NULL,
      NULL},
     /* CON 14+2=16 (+3), WIS 15+1=16 (+3), DEX 8 (-1); HP 8+3 +1 dwarven toughness = 12; AC 10-1 = 9;
      * passive 10+3 = 13 (no perception) */
     {13, 8, 16, 10, 16, 12},
     12,
     9,
     -1,
     25,
     60,
     13,
     "Medium",
     "1d8",
     L("history", "insight", "medicine", "religion"),
     L("wis", "cha"),
     L("common", "dwarvish", "elvish", "giant"),
     L("poison"),
     L("heavy-armor", "smiths-tools")},
    {"high elf wizard",
     {"elf",
      "high-elf",
      "wizard",
      NULL,
      0,
      {8, 14, 13, 15, 12, 10},
      L("arcana", "history"),
      L("dwarvish", "draconic", "celestial"),
      L(NULL),
      L(NULL),
      L(NULL),
      NULL,
      NULL,
      "fire-bolt",
      NULL},
     /* DEX 14+2=16 (+3), INT 15+1=16 (+3), CON 13 (+1); HP 6+1 = 7; AC 10+3 = 13; keen senses: perception,
      * passive 10+1+2 = 13; languages: elf 0 + extra language 1 + acolyte 2 */
     {8, 16, 13, 16, 12, 10},
     7,
     13,
     3,
     30,
     60,
     13,
     "Medium",
     "1d6",
     L("arcana", "history", "insight", "perception", "religion"),
     L("int", "wis"),
     L("common", "elvish", "dwarvish", "draconic", "celestial"),
     L(NULL),
     L("longswords", "daggers")},
    {"lightfoot halfling rogue",
     {"halfling",
      "lightfoot-halfling",
      "rogue",
      NULL,
      0,
      {8, 15, 14, 12, 10, 13},
      L("acrobatics", "stealth", "perception", "deception"),
      L("dwarvish", "elvish"),
      L(NULL),
      L(NULL),
      L(NULL),
      NULL,
      NULL,
      NULL,
      NULL},
     /* DEX 15+2=17 (+3), CHA 13+1=14, CON 14 (+2); HP 8+2 = 10; AC 13; passive 10+0+2 = 12 */
     {8, 17, 14, 12, 10, 14},
     10,
     13,
     3,
     25,
     0,
     12,
     "Small",
     "1d8",
     L("acrobatics", "deception", "insight", "perception", "religion", "stealth"),
     L("dex", "int"),
     L("common", "halfling", "dwarvish", "elvish"),
     L(NULL),
     L("thieves-tools", "light-armor")},
    {"human fighter (point buy 15,13,14,8,12,10 = 9+5+7+0+4+2 = 27)",
     {"human",
      NULL,
      "fighter",
      NULL,
      BUILD_METHOD_POINT_BUY,
      {15, 13, 14, 8, 12, 10},
      L("athletics", "perception"),
      L("dwarvish", "elvish", "giant"),
      L(NULL),
      L(NULL),
      L(NULL),
      NULL,
      NULL,
      NULL,
      NULL},
     /* +1 to all: 16 14 15 9 13 11; HP 10+2 = 12; AC 10+2 = 12; passive 10+1+2 = 13 */
     {16, 14, 15, 9, 13, 11},
     12,
     12,
     2,
     30,
     0,
     13,
     "Medium",
     "1d10",
     L("athletics", "insight", "perception", "religion"),
     L("str", "con"),
     L("common", "dwarvish", "elvish", "giant"),
     L(NULL),
     L("all-armor", "martial-weapons")},
    {"dragonborn draconic sorcerer",
     {"dragonborn",
      NULL,
      "sorcerer",
      "draconic",
      0,
      {10, 13, 14, 8, 12, 15},
      L("arcana", "deception"),
      L("elvish", "giant"),
      L(NULL),
      L(NULL),
      L(NULL),
      "red",
      NULL,
      NULL,
      NULL},
     /* STR 10+2=12, CHA 15+1=16, CON 14 (+2), DEX 13 (+1); HP 6+2 +1 draconic resilience = 9;
      * AC 13+1 = 14 (draconic resilience); red: fire resistance */
     {12, 13, 14, 8, 12, 16},
     9,
     14,
     1,
     30,
     0,
     11,
     "Medium",
     "1d6",
     L("arcana", "deception", "insight", "religion"),
     L("con", "cha"),
     L("common", "draconic", "elvish", "giant"),
     L("fire"),
     L("daggers")},
    {"rock gnome druid",
     {"gnome",
      "rock-gnome",
      "druid",
      NULL,
      0,
      {8, 12, 14, 13, 15, 10},
      L("nature", "perception"),
      L("elvish", "sylvan"),
      L(NULL),
      L(NULL),
      L(NULL),
      NULL,
      NULL,
      NULL,
      NULL},
     /* INT 13+2=15, CON 14+1=15 (+2), WIS 15 (+2), DEX 12 (+1); HP 8+2 = 10; AC 11; passive 10+2+2 = 14 */
     {8, 12, 15, 15, 15, 10},
     10,
     11,
     1,
     25,
     60,
     14,
     "Small",
     "1d8",
     L("insight", "nature", "perception", "religion"),
     L("int", "wis"),
     L("common", "gnomish", "elvish", "sylvan"),
     L(NULL),
     L("herbalism-kit", "tinkers-tools")},
    {"half-elf bard",
     {"half-elf",
      NULL,
      "bard",
      NULL,
      0,
      {8, 14, 13, 10, 12, 15},
      L("performance", "persuasion", "deception"),
      L("dwarvish", "halfling", "sylvan"),
      L("dex", "con"),
      L("perception", "stealth"),
      L("lute", "flute", "drum"),
      NULL,
      NULL,
      NULL,
      NULL},
     /* CHA 15+2=17, DEX 14+1=15 (+2), CON 13+1=14 (+2); HP 8+2 = 10; AC 12; passive 10+1+2 = 13 */
     {8, 15, 14, 10, 12, 17},
     10,
     12,
     2,
     30,
     60,
     13,
     "Medium",
     "1d8",
     L("deception", "insight", "perception", "performance", "persuasion", "religion", "stealth"),
     L("dex", "cha"),
     L("common", "elvish", "dwarvish", "halfling", "sylvan"),
     L(NULL),
     L("lute", "flute", "drum", "rapiers")},
    {"half-orc barbarian",
     {"half-orc",
      NULL,
      "barbarian",
      NULL,
      0,
      {15, 13, 14, 8, 12, 10},
      L("athletics", "survival"),
      L("giant", "goblin"),
      L(NULL),
      L(NULL),
      L(NULL),
      NULL,
      NULL,
      NULL,
      NULL},
     /* STR 15+2=17, CON 14+1=15 (+2), DEX 13 (+1); HP 12+2 = 14; unarmored defense 10+1+2 = 13;
      * menacing: intimidation; passive 10+1 = 11 */
     {17, 13, 15, 8, 12, 10},
     14,
     13,
     1,
     30,
     60,
     11,
     "Medium",
     "1d12",
     L("athletics", "insight", "intimidation", "religion", "survival"),
     L("str", "con"),
     L("common", "orc", "giant", "goblin"),
     L(NULL),
     L("shields", "medium-armor")},
    {"tiefling fiend warlock",
     {"tiefling",
      NULL,
      "warlock",
      "fiend",
      0,
      {8, 14, 13, 12, 10, 15},
      L("arcana", "deception"),
      L("abyssal", "celestial"),
      L(NULL),
      L(NULL),
      L(NULL),
      NULL,
      NULL,
      NULL,
      NULL},
     /* CHA 15+2=17, INT 12+1=13, CON 13 (+1), DEX 14 (+2); HP 8+1 = 9; AC 12; passive 10 */
     {8, 14, 13, 13, 10, 17},
     9,
     12,
     2,
     30,
     60,
     10,
     "Medium",
     "1d8",
     L("arcana", "deception", "insight", "religion"),
     L("wis", "cha"),
     L("common", "infernal", "abyssal", "celestial"),
     L("fire"),
     L("light-armor", "simple-weapons")},
    {"human monk",
     {"human",
      NULL,
      "monk",
      NULL,
      0,
      {12, 15, 13, 8, 14, 10},
      L("acrobatics", "stealth"),
      L("dwarvish", "elvish", "halfling"),
      L(NULL),
      L(NULL),
      L(NULL),
      NULL,
      NULL,
      NULL,
      "smiths-tools"},
     /* +1 all: 13 16 14 9 15 11; HP 8+2 = 10; unarmored defense 10+3+2 = 15; passive 10+2 = 12 */
     {13, 16, 14, 9, 15, 11},
     10,
     15,
     3,
     30,
     0,
     12,
     "Medium",
     "1d8",
     L("acrobatics", "insight", "religion", "stealth"),
     L("str", "dex"),
     L("common", "dwarvish", "elvish", "halfling"),
     L(NULL),
     L("shortswords", "smiths-tools")},
    {"dragonborn paladin",
     {"dragonborn",
      NULL,
      "paladin",
      NULL,
      0,
      {15, 10, 13, 8, 12, 14},
      L("athletics", "persuasion"),
      L("dwarvish", "elvish"),
      L(NULL),
      L(NULL),
      L(NULL),
      "white",
      NULL,
      NULL,
      NULL},
     /* STR 15+2=17, CHA 14+1=15, CON 13 (+1), DEX 10; HP 10+1 = 11; AC 10; passive 10+1 = 11; white: cold */
     {17, 10, 13, 8, 12, 15},
     11,
     10,
     0,
     30,
     0,
     11,
     "Medium",
     "1d10",
     L("athletics", "insight", "persuasion", "religion"),
     L("wis", "cha"),
     L("common", "draconic", "dwarvish", "elvish"),
     L("cold"),
     L("all-armor", "shields")},
    {"high elf ranger",
     {"elf",
      "high-elf",
      "ranger",
      NULL,
      0,
      {12, 15, 13, 10, 14, 8},
      L("animal-handling", "stealth", "survival"),
      L("gnomish", "orc", "sylvan"),
      L(NULL),
      L(NULL),
      L(NULL),
      NULL,
      NULL,
      "light",
      NULL},
     /* DEX 15+2=17 (+3), INT 10+1=11, CON 13 (+1), WIS 14 (+2); HP 10+1 = 11; AC 13;
      * passive 10+2+2 = 14 (keen senses) */
     {12, 17, 13, 11, 14, 8},
     11,
     13,
     3,
     30,
     60,
     14,
     "Medium",
     "1d10",
     L("animal-handling", "insight", "perception", "religion", "stealth", "survival"),
     L("str", "dex"),
     L("common", "elvish", "gnomish", "orc", "sylvan"),
     L(NULL),
     L("longbows", "martial-weapons")},
};

static size_t count(const char *const *l)
{
    size_t n = 0;
    while (l[n] != NULL)
        n++;
    return n;
}

static void test_sheet_row(void **state)
{
    const struct row *r = *state;
    struct build b;
    make(&b, &r->in);
    eval(&b);
    print_message("%s\n", r->what);
    expect_valid();
    assert_true(sh.complete);
    for (int i = 0; i < 6; i++) {
        assert_int_equal(sh.abilities[i].score, r->score[i]);
        assert_int_equal(sh.abilities[i].modifier, (r->score[i] - 10 + 20) / 2 - 10);
    }
    assert_int_equal(sh.level, 1);
    assert_int_equal(sh.experience_points, 0);
    assert_int_equal(sh.proficiency_bonus, 2);
    assert_int_equal(sh.hp_max, r->hp);
    assert_string_equal(sh.hit_dice, r->hit_dice);
    assert_int_equal(sh.armor_class, r->ac);
    assert_int_equal(sh.initiative, r->initiative);
    assert_int_equal(sh.speed, r->speed);
    assert_int_equal(sh.darkvision, r->darkvision);
    assert_string_equal(sh.size, r->size);
    assert_int_equal(sh.passive_perception, r->passive);
    assert_int_equal(sh.nskills, 18);
    size_t nprof = 0;
    for (size_t i = 0; i < sh.nskills; i++) {
        int want = 0;
        for (size_t j = 0; r->proficient[j] != NULL; j++)
            want |= strcmp(r->proficient[j], sh.skills[i].skill->index) == 0;
        if (want != sh.skills[i].proficient)
            fail_msg("%s: skill %s proficient %d, expected %d", r->what, sh.skills[i].skill->index,
                     sh.skills[i].proficient, want);
        nprof += want;
    }
    assert_int_equal(nprof, count(r->proficient));
    for (int i = 0; i < 6; i++) {
        int want = 0;
        for (size_t j = 0; r->saves[j] != NULL; j++)
            want |= strcmp(r->saves[j], rs->abilities[i].index) == 0;
        assert_int_equal(sh.saves[i].proficient, want);
        assert_int_equal(sh.saves[i].modifier, sh.abilities[i].modifier + (want ? 2 : 0));
    }
    assert_int_equal(sh.languages.n, count(r->languages));
    for (size_t j = 0; r->languages[j] != NULL; j++)
        if (!has_ref(&sh.languages, r->languages[j]))
            fail_msg("%s: no language %s", r->what, r->languages[j]);
    assert_int_equal(sh.nresistances, count(r->resist));
    for (size_t j = 0; r->resist[j] != NULL; j++)
        assert_string_equal(sh.resistances[j], r->resist[j]);
    for (size_t j = 0; r->profs[j] != NULL; j++)
        if (!has_ref(&sh.proficiencies, r->profs[j]))
            fail_msg("%s: no proficiency %s", r->what, r->profs[j]);
    assert_true(sh.traits.n > 0 || strcmp(r->in.race, "human") == 0);
    assert_int_equal(sh.nclasses, 1);
    assert_string_equal(sh.classes[0].cls->index, r->in.cls);
    assert_int_equal(sh.classes[0].level, 1);
}

/* Every level-1 feature of the class is on the sheet, with its level and class. */
static void test_features_by_level(void **state)
{
    (void)state;
    struct build b;
    make(&b, &rows[0].in); /* the cleric */
    eval(&b);
    const struct rs_class *cl = ruleset_class(rs, "cleric");
    assert_true(cl->levels[0].features.n > 0);
    for (size_t i = 0; i < cl->levels[0].features.n; i++)
        assert_true(has_ref(&sh.features, cl->levels[0].features.v[i]));
    for (size_t i = 0; i < sh.features.n; i++) {
        assert_int_equal(sh.features.v[i].level, 1);
        assert_string_equal(sh.features.v[i].class_index, "cleric");
        assert_string_equal(sh.features.v[i].resource, "features");
        const struct rs_feature *f = ruleset_feature(rs, sh.features.v[i].index);
        if (f == NULL)
            fail_msg("feature %s has no entry (its name would be its slug)", sh.features.v[i].index);
        assert_string_equal(sh.features.v[i].name, f->name);
    }
    /* Spellcasting (cleric 1) is a real SRD feature name */
    assert_true(has_ref(&sh.features, "spellcasting-cleric"));
    /* a level-1 cleric has no level-2 feature (Channel Divinity) */
    assert_false(has_ref(&sh.features, "channel-divinity-1-rest"));
}

/* ---- ability methods ---- */

static const struct spec fighter = {"human",
                                    NULL,
                                    "fighter",
                                    NULL,
                                    0,
                                    {15, 13, 14, 8, 12, 10},
                                    L("athletics", "perception"),
                                    L("dwarvish", "elvish", "giant"),
                                    L(NULL),
                                    L(NULL),
                                    L(NULL),
                                    NULL,
                                    NULL,
                                    NULL,
                                    NULL};

static void test_standard_array(void **state)
{
    (void)state;
    struct build b;
    make(&b, &fighter);
    eval(&b);
    expect_valid();
    b.ability_scores.assign.v[5] = 15; /* 15 twice, no 10 */
    eval(&b);
    expect("ability_scores.assign", "not_permutation");
    assert_int_equal(v.n, 1);
}

static void test_point_buy(void **state)
{
    (void)state;
    struct build b;
    make(&b, &fighter);
    b.ability_scores.method = BUILD_METHOD_POINT_BUY;
    int ok[6] = {15, 15, 15, 8, 8, 8}; /* 9+9+9 = 27 */
    memcpy(b.ability_scores.assign.v, ok, sizeof(ok));
    eval(&b);
    expect_valid();
    int under[6] = {8, 8, 8, 8, 8, 8}; /* spending less than the budget is allowed */
    memcpy(b.ability_scores.assign.v, under, sizeof(under));
    eval(&b);
    expect_valid();
    int over[6] = {15, 15, 15, 9, 8, 8}; /* 28 */
    memcpy(b.ability_scores.assign.v, over, sizeof(over));
    eval(&b);
    expect("ability_scores.assign", "over_budget");
    assert_int_equal(v.n, 1);
    int range[6] = {16, 7, 8, 8, 8, 8};
    memcpy(b.ability_scores.assign.v, range, sizeof(range));
    eval(&b);
    expect("ability_scores.assign.str", "out_of_range");
    expect("ability_scores.assign.dex", "out_of_range");
    policy.point_buy_budget = 30; /* a table's own budget */
    memcpy(b.ability_scores.assign.v, over, sizeof(over));
    eval(&b);
    expect_valid();
    build_policy_default(&policy);
}

static unsigned char key[ROLLID_KEY_BYTES];

static void test_rolled(void **state)
{
    (void)state;
    struct build b;
    struct rollid r = {.scores = {17, 9, 12, 16, 11, 7}, .issued_at = 1700000000};
    char text[ROLLID_TEXT_MAX], hex[2 * ROLLID_NONCE_BYTES + 1];
    assert_int_equal(rollid_issue(&r, key, text), 0);
    rollid_nonce_hex(&r, hex);

    policy.rolls_key = key;
    policy.now = 1700000100;
    make(&b, &fighter);
    b.ability_scores.method = BUILD_METHOD_ROLLED;
    b.ability_scores.roll_id = text;
    int perm[6] = {16, 12, 11, 9, 17, 7};
    memcpy(b.ability_scores.assign.v, perm, sizeof(perm));
    eval(&b);
    expect_valid();
    assert_string_equal(sh.roll_nonce, hex);
    assert_int_equal(sh.abilities[STR].score, 17); /* 16 + 1 human */

    b.ability_scores.assign.v[0] = 18; /* not the roll's */
    eval(&b);
    expect("ability_scores.assign", "not_permutation");
    b.ability_scores.assign.v[0] = 16;

    policy.now = 1700000000 + policy.roll_ttl_s + 1;
    eval(&b);
    expect("ability_scores.roll_id", "invalid_roll"); /* expired */
    policy.now = 1700000100;

    char forged[ROLLID_TEXT_MAX];
    memcpy(forged, text, sizeof(forged));
    forged[20] = forged[20] == 'A' ? 'B' : 'A';
    b.ability_scores.roll_id = forged;
    eval(&b);
    expect("ability_scores.roll_id", "invalid_roll");
    b.ability_scores.roll_id = "not a roll";
    eval(&b);
    expect("ability_scores.roll_id", "invalid_roll");
    b.ability_scores.roll_id = NULL;
    eval(&b);
    expect("ability_scores.roll_id", "required");

    b.ability_scores.roll_id = text;
    policy.rolls_key = NULL; /* cannot verify: refused, never trusted */
    eval(&b);
    expect("ability_scores.roll_id", "invalid_roll");
    assert_string_equal(sh.roll_nonce, "");
    build_policy_default(&policy);
}

static void test_manual(void **state)
{
    (void)state;
    struct build b;
    make(&b, &fighter);
    b.ability_scores.method = BUILD_METHOD_MANUAL;
    int m[6] = {18, 3, 10, 10, 10, 10};
    memcpy(b.ability_scores.assign.v, m, sizeof(m));
    eval(&b);
    expect("ability_scores.method", "policy_forbidden"); /* off by default */
    policy.methods |= 1u << BUILD_METHOD_MANUAL;
    eval(&b);
    expect_valid();
    assert_int_equal(sh.abilities[STR].score, 19);
    b.ability_scores.assign.v[1] = 19;
    eval(&b);
    expect("ability_scores.assign.dex", "out_of_range");
    policy.methods = 1u << BUILD_METHOD_POINT_BUY; /* a table that allows point buy only */
    make(&b, &fighter);
    eval(&b);
    expect("ability_scores.method", "policy_forbidden");
    build_policy_default(&policy);
}

/* ---- validation codes ---- */

static void test_references_and_required(void **state)
{
    (void)state;
    struct build b;
    make(&b, &fighter);
    b.race = "orc";
    b.class_ = "necromancer";
    b.background = "sailor";
    b.alignment = "lawful-weird";
    eval(&b);
    expect("race", "unknown_reference");
    expect("class", "unknown_reference");
    expect("background", "unknown_reference");
    expect("alignment", "unknown_reference");
    assert_false(sh.complete);

    memset(&b, 0, sizeof(b));
    b.level = 1;
    eval(&b);
    expect("name", "required");
    expect("race", "required");
    expect("class", "required");
    expect("background", "required");
    expect("alignment", "required");
    expect("ability_scores", "required");
    eval_mode(&b, CHARACTER_DRAFT); /* a draft only unfinished: incomplete, never required */
    expect("race", "incomplete");
    expect("ability_scores", "incomplete");
    expect("name", "incomplete");
    for (size_t i = 0; i < v.n; i++)
        assert_string_equal(v.items[i].code, "incomplete");
}

static void test_subraces(void **state)
{
    (void)state;
    struct build b;
    make(&b, &rows[0].in);
    b.subrace = "high-elf"; /* not a dwarf's */
    eval(&b);
    expect("subrace", "not_allowed");
    b.subrace = "deep-gnome";
    eval(&b);
    expect("subrace", "unknown_reference");
    b.subrace = NULL; /* a dwarf needs its subrace */
    eval(&b);
    expect("subrace", "required");
    eval_mode(&b, CHARACTER_DRAFT);
    expect("subrace", "incomplete");
    make(&b, &fighter);
    b.subrace = "hill-dwarf"; /* humans have none */
    eval(&b);
    expect("subrace", "not_allowed");
}

static void test_subclass_timing(void **state)
{
    (void)state;
    struct build b;
    make(&b, &rows[0].in);
    b.subclass = NULL; /* cleric chooses at 1 */
    eval(&b);
    expect("subclass", "required");
    b.subclass = "champion";
    eval(&b);
    expect("subclass", "not_allowed");
    b.subclass = "shadow";
    eval(&b);
    expect("subclass", "unknown_reference");
    make(&b, &fighter);
    b.subclass = "champion"; /* fighter chooses at 3 */
    eval(&b);
    expect("subclass", "not_allowed");
}

static void test_skills(void **state)
{
    (void)state;
    struct build b;
    make(&b, &fighter);
    b.skills.v[1] = "arcana"; /* not a fighter's */
    eval(&b);
    expect("skills[1]", "not_allowed");
    b.skills.v[1] = "athletics";
    eval(&b);
    expect("skills[1]", "duplicate");
    b.skills.v[1] = "insight"; /* the acolyte grants it */
    eval(&b);
    expect("skills[1]", "duplicate");
    b.skills.v[1] = "juggling";
    eval(&b);
    expect("skills[1]", "unknown_reference");
    b.skills.v[1] = "perception";
    b.skills.v[2] = "survival";
    b.skills.n = 3;
    eval(&b);
    expect("skills", "too_many");
    b.skills.n = 1;
    eval(&b);
    expect("skills", "too_few");
    eval_mode(&b, CHARACTER_DRAFT);
    expect("skills", "incomplete");
    /* the half-orc's intimidation is granted by Menacing */
    make(&b, &rows[7].in);
    b.skills.v[1] = "intimidation";
    eval(&b);
    expect("skills[1]", "duplicate");
}

static void test_languages(void **state)
{
    (void)state;
    struct build b;
    make(&b, &fighter); /* human 1 + acolyte 2 */
    b.languages.v[0] = "common";
    eval(&b);
    expect("languages[0]", "duplicate");
    b.languages.v[0] = "klingon";
    eval(&b);
    expect("languages[0]", "unknown_reference");
    b.languages.v[0] = "giant";
    eval(&b);
    expect("languages[2]", "duplicate");
    b.languages.v[0] = "orc";
    b.languages.v[3] = "sylvan";
    b.languages.n = 4;
    eval(&b);
    expect("languages", "too_many");
    b.languages.n = 2;
    eval(&b);
    expect("languages", "too_few");
}

static void test_race_choices(void **state)
{
    (void)state;
    struct build b;
    make(&b, &rows[6].in); /* half-elf */
    b.choices.ability_bonuses.v[0] = "cha";
    eval(&b);
    expect("choices.ability_bonuses[0]", "not_allowed");
    b.choices.ability_bonuses.v[0] = "con";
    eval(&b);
    expect("choices.ability_bonuses[1]", "duplicate");
    b.choices.ability_bonuses.n = 1;
    eval(&b);
    expect("choices.ability_bonuses", "too_few");
    b.choices.race_skills.v[0] = "religion"; /* the acolyte's */
    eval(&b);
    expect("choices.race_skills[0]", "duplicate");

    make(&b, &rows[4].in); /* dragonborn */
    b.choices.draconic_ancestry = NULL;
    eval(&b);
    expect("choices.draconic_ancestry", "required");
    b.choices.draconic_ancestry = "purple";
    eval(&b);
    expect("choices.draconic_ancestry", "unknown_reference");

    make(&b, &rows[0].in); /* dwarf */
    b.choices.tool = "thieves-tools";
    eval(&b);
    expect("choices.tool", "not_allowed");
    b.choices.tool = NULL;
    eval(&b);
    expect("choices.tool", "required");

    make(&b, &rows[1].in); /* high elf: a cantrip */
    b.choices.cantrip = NULL;
    eval(&b);
    expect("choices.cantrip", "required");
    b.choices.cantrip = "Fire Bolt!";
    eval(&b);
    expect("choices.cantrip", "unknown_reference");

    /* choices that do not apply */
    make(&b, &fighter);
    const char *ab[] = {"str", "dex", NULL};
    set_list(&b.choices.ability_bonuses, ab, 3);
    b.choices.draconic_ancestry = "red";
    b.choices.tool = "smiths-tools";
    b.choices.cantrip = "light";
    b.choices.artisan_or_instrument = "lute";
    set_list(&b.choices.instruments, ab, 3);
    set_list(&b.choices.race_skills, ab, 3);
    eval(&b);
    expect("choices.ability_bonuses", "not_allowed");
    expect("choices.draconic_ancestry", "not_allowed");
    expect("choices.tool", "not_allowed");
    expect("choices.cantrip", "not_allowed");
    expect("choices.artisan_or_instrument", "not_allowed");
    expect("choices.instruments", "not_allowed");
    expect("choices.race_skills", "not_allowed");
}

static void test_class_tool_choices(void **state)
{
    (void)state;
    struct build b;
    make(&b, &rows[6].in); /* bard: three instruments */
    b.choices.instruments.v[1] = "lute";
    eval(&b);
    expect("choices.instruments[1]", "duplicate");
    b.choices.instruments.v[1] = "longsword";
    eval(&b);
    expect("choices.instruments[1]", "not_allowed");
    b.choices.instruments.n = 1;
    eval(&b);
    expect("choices.instruments", "too_few");
    make(&b, &rows[9].in); /* monk */
    b.choices.artisan_or_instrument = "longsword";
    eval(&b);
    expect("choices.artisan_or_instrument", "not_allowed");
    b.choices.artisan_or_instrument = "lute";
    eval(&b);
    expect_valid();
    b.choices.artisan_or_instrument = NULL;
    eval(&b);
    expect("choices.artisan_or_instrument", "required");
}

static void test_custom_background(void **state)
{
    (void)state;
    struct build b;
    make(&b, &fighter);
    b.background = NULL;
    b.custom_background = 1;
    b.custom.name = "Sailor";
    b.custom.name_len = 6;
    const char *sk[] = {"survival", "history", NULL}, *lg[] = {"giant", NULL}, *tl[] = {"navigators-tools", NULL};
    set_list(&b.custom.skills, sk, 3);
    set_list(&b.custom.languages, lg, 2);
    set_list(&b.custom.tools, tl, 2);
    b.languages.n = 1; /* the human's one language; the background's are its own */
    b.languages.v[0] = "elvish";
    eval(&b);
    expect_valid();
    assert_null(sh.background);
    assert_string_equal(sh.custom_background_name, "Sailor");
    assert_true(skill("survival")->proficient);
    assert_true(skill("history")->proficient);
    assert_false(skill("insight")->proficient);
    assert_true(has_ref(&sh.languages, "giant"));
    assert_true(has_ref(&sh.proficiencies, "navigators-tools"));

    b.custom.skills.v[1] = "athletics"; /* the fighter's own pick */
    b.custom.skills.v[2] = "nature";
    b.custom.skills.n = 3;
    b.custom.languages.v[1] = "common";
    b.custom.languages.n = 2;
    b.custom.name = "";
    b.custom.name_len = 0;
    eval(&b);
    expect("background.skills", "too_many");
    expect("background.languages[1]", "duplicate");
    expect("background", "too_many");
    expect("background.name", "required");
    expect("skills[0]", "duplicate"); /* athletics came from the background first */
    b.custom.tools.n = 0;
    b.custom.languages.n = 1;
    eval(&b);
    expect("background", "too_few");
}

static void test_name_and_level(void **state)
{
    (void)state;
    struct build b;
    char longname[128];
    memset(longname, 'x', 101);
    longname[101] = '\0';
    make(&b, &fighter);
    b.name = longname;
    b.name_len = 101;
    b.level = 21;
    eval(&b);
    expect("name", "too_long");
    expect("level", "out_of_range");
}

/* ---- levels above 1, advancement, level-up ---- */

static const struct build_asi asi_str2 = {4, {{2, 0, 0, 0, 0, 0}, {1, 0, 0, 0, 0, 0}}};

static void test_creation_above_level_1(void **state)
{
    (void)state;
    struct build b;
    make(&b, &fighter);
    b.level = 5;
    b.subclass = "champion";
    b.asis[0] = asi_str2;
    b.nasis = 1;
    eval(&b);
    expect_valid();
    /* STR 15+2+1 = 18; CON 14+1 = 15 (+2): HP 10+2 + 4 x (6+2) = 44; prof +3 at level 5; 6500 XP */
    assert_int_equal(sh.abilities[STR].base, 17);
    assert_int_equal(sh.abilities[STR].score, 18);
    assert_int_equal(sh.hp_max, 44);
    assert_string_equal(sh.hit_dice, "5d10");
    assert_int_equal(sh.proficiency_bonus, 3);
    assert_int_equal(sh.experience_points, 6500);
    assert_int_equal(skill("athletics")->modifier, 4 + 3);
    assert_int_equal(sh.saves[STR].modifier, 4 + 3);
    assert_string_equal(sh.classes[0].subclass, "champion");

    b.nasis = 0;
    eval(&b);
    expect("ability_score_improvements", "required");
    b.subclass = NULL;
    eval(&b);
    expect("subclass", "required");
    b.subclass = "champion";
    b.asis[0] = asi_str2;
    b.asis[0].level = 3;
    b.nasis = 1;
    eval(&b);
    expect("ability_score_improvements[0].level", "not_allowed");
    b.asis[0].level = 4;
    b.asis[0].increase.v[0] = 3;
    eval(&b);
    expect("ability_score_improvements[0].increase.str", "out_of_range");
    b.asis[0].increase.v[0] = 1; /* +1 to one score only: adds up to 1 */
    eval(&b);
    expect("ability_score_improvements[0].increase", "out_of_range");
    b.asis[1] = asi_str2;
    b.asis[1].level = 6; /* fighter 6 is an ASI level, but not reached at 5 */
    b.asis[0] = asi_str2;
    b.nasis = 2;
    eval(&b);
    expect("ability_score_improvements[1].level", "not_allowed");
    /* a score may not pass 20: manual 18 + 1 human + 2 */
    policy.methods |= 1u << BUILD_METHOD_MANUAL;
    b.nasis = 1;
    b.ability_scores.method = BUILD_METHOD_MANUAL;
    b.ability_scores.assign.v[0] = 18;
    eval(&b);
    expect("ability_score_improvements[0].increase.str", "out_of_range");
    build_policy_default(&policy);
}

static void test_level_up_across_asi(void **state)
{
    (void)state;
    struct build b;
    struct build_advance out;
    struct level_up req;
    make(&b, &fighter);
    b.level = 3;
    b.subclass = "champion";

    memset(&req, 0, sizeof(req));
    violations_init(&v);
    character_level_up(rs, &policy, &b, &req, NULL, &v, &out);
    expect("asi", "required"); /* fighter 4 grants an improvement */
    assert_null(out.class_);

    req.asi.present[CON] = 1;
    req.asi.v[CON] = 2;
    violations_init(&v);
    character_level_up(rs, &policy, &b, &req, NULL, &v, &out);
    expect_valid();
    assert_string_equal(out.class_, "fighter");
    assert_int_equal(out.hit_points, 0);
    b.advancement[0] = out;
    b.nadvancement = 1;
    eval(&b);
    expect_valid();
    /* CON 14+2+1 = 17 (+3): HP 10+3 + 3 x (6+3) = 40; the change of modifier counts for every level */
    assert_int_equal(sh.level, 4);
    assert_int_equal(sh.abilities[CON].score, 17);
    assert_int_equal(sh.hp_max, 40);
    assert_int_equal(sh.experience_points, 2700);

    /* fighter 5 grants none */
    violations_init(&v);
    character_level_up(rs, &policy, &b, &req, NULL, &v, &out);
    expect("asi", "not_allowed");

    /* rolling the hit die: a fixed generator, a value 1..10 */
    struct dice_seeded seeded;
    struct dice_rng rng = dice_rng_seeded(&seeded, 7);
    memset(&req, 0, sizeof(req));
    req.roll = 1;
    violations_init(&v);
    character_level_up(rs, &policy, &b, &req, &rng, &v, &out);
    expect_valid();
    assert_true(out.hit_points >= 1 && out.hit_points <= 10);
    policy.hp_method = BUILD_HP_AVERAGE;
    violations_init(&v);
    character_level_up(rs, &policy, &b, &req, &rng, &v, &out);
    expect("hit_points", "policy_forbidden");
    build_policy_default(&policy);

    /* the cap: a level-20 character gains no level */
    b.level = 20;
    b.nadvancement = 0;
    violations_init(&v);
    character_level_up(rs, &policy, &b, &req, &rng, &v, &out);
    expect("level", "out_of_range");
}

static void test_multiclass(void **state)
{
    (void)state;
    struct build b;
    struct build_advance out;
    struct level_up req;
    make(&b, &fighter); /* STR 16 DEX 14 CON 15 INT 9 WIS 13 CHA 11 */

    memset(&req, 0, sizeof(req));
    req.class_ = "wizard"; /* INT 13 needed; 9 */
    violations_init(&v);
    character_level_up(rs, &policy, &b, &req, NULL, &v, &out);
    expect("class", "prerequisite_not_met");
    req.class_ = "paladin"; /* STR 13 and CHA 13; CHA 11 */
    violations_init(&v);
    character_level_up(rs, &policy, &b, &req, NULL, &v, &out);
    expect("class", "prerequisite_not_met");
    req.class_ = "rogue"; /* DEX 13: met; one rogue skill */
    violations_init(&v);
    character_level_up(rs, &policy, &b, &req, NULL, &v, &out);
    expect("skills", "required");
    const char *two[] = {"stealth", "acrobatics", NULL};
    set_list(&req.skills, two, 3);
    violations_init(&v);
    character_level_up(rs, &policy, &b, &req, NULL, &v, &out);
    expect("skills", "too_many");
    const char *sk[] = {"stealth", NULL};
    set_list(&req.skills, sk, 2);
    violations_init(&v);
    character_level_up(rs, &policy, &b, &req, NULL, &v, &out);
    expect_valid();
    b.advancement[0] = out;
    b.nadvancement = 1;
    eval(&b);
    expect_valid();
    /* fighter 1 + rogue 1: HP 10+2 + 5+2 = 19; hit dice by die; saves stay the fighter's */
    assert_int_equal(sh.nclasses, 2);
    assert_int_equal(sh.hp_max, 19);
    assert_string_equal(sh.hit_dice, "1d10 + 1d8");
    assert_true(skill("stealth")->proficient);
    assert_false(sh.saves[DEX].proficient);
    assert_true(has_ref(&sh.proficiencies, "thieves-tools"));

    /* prerequisites of the current class too: a wizard with INT 13 (15 - 2 via a low array?) */
    struct build w;
    struct spec ws = {"human",
                      NULL,
                      "wizard",
                      NULL,
                      0,
                      {15, 14, 13, 8, 12, 10},
                      L("arcana", "history"),
                      L("dwarvish", "elvish", "giant"),
                      L(NULL),
                      L(NULL),
                      L(NULL),
                      NULL,
                      NULL,
                      NULL,
                      NULL};
    make(&w, &ws); /* INT 8+1 = 9: the wizard cannot leave its class */
    eval(&w);
    expect_valid();
    memset(&req, 0, sizeof(req));
    req.class_ = "fighter";
    const char *none[] = {NULL};
    set_list(&req.skills, none, 1);
    violations_init(&v);
    character_level_up(rs, &policy, &w, &req, NULL, &v, &out);
    expect("class", "prerequisite_not_met");

    /* the same rule inside a stored build's advancement */
    w.advancement[0] = (struct build_advance){.class_ = "fighter"};
    w.nadvancement = 1;
    eval(&w);
    expect("advancement[0].class", "prerequisite_not_met");
}

static void test_hp_level5_average_vs_rolled(void **state)
{
    (void)state;
    struct build b;
    make(&b, &fighter); /* CON 15: +2 */
    /* average, created at level 5: 10+2 + 4 x (6+2) = 44 (see test_creation_above_level_1) */
    /* rolled through advancement: 10+2, then rolls 10, 1, 6, 3: (10+2)+(1+2)+(6+2)+(3+2) = 28; 12 + 28 = 40 */
    int rolls[4] = {10, 1, 6, 3};
    for (int i = 0; i < 4; i++)
        b.advancement[i] = (struct build_advance){.class_ = "fighter", .hit_points = rolls[i]};
    b.advancement[1].subclass = "champion"; /* fighter 3 */
    b.advancement[2].asi.present[STR] = b.advancement[2].asi.present[DEX] = 1;
    b.advancement[2].asi.v[STR] = b.advancement[2].asi.v[DEX] = 1; /* fighter 4: +1 STR, +1 DEX */
    b.nadvancement = 4;
    eval(&b);
    expect_valid();
    assert_int_equal(sh.level, 5);
    assert_int_equal(sh.hp_max, 40);
    assert_int_equal(sh.abilities[DEX].score, 15);
    /* the same levels at the average: 12 + 4 x 8 = 44 */
    for (int i = 0; i < 4; i++)
        b.advancement[i].hit_points = 0;
    eval(&b);
    expect_valid();
    assert_int_equal(sh.hp_max, 44);
    /* a roll outside the die */
    b.advancement[0].hit_points = 11;
    eval(&b);
    expect("advancement[0].hit_points", "out_of_range");
    /* at least 1 per level: CON 8 (-1) and a roll of 1 gives 1, not 0 */
    int low[6] = {15, 14, 7, 13, 12, 10}; /* CON 7+1 = 8 */
    b.ability_scores.method = BUILD_METHOD_POINT_BUY;
    policy.methods |= 1u << BUILD_METHOD_MANUAL;
    b.ability_scores.method = BUILD_METHOD_MANUAL;
    memcpy(b.ability_scores.assign.v, low, sizeof(low));
    b.advancement[0].hit_points = 1;
    b.nadvancement = 1;
    eval(&b);
    expect_valid();
    assert_int_equal(sh.hp_max, (10 - 1) + 1); /* 9 + max(1, 1-1) */
    build_policy_default(&policy);
}

static void test_advancement_problems(void **state)
{
    (void)state;
    struct build b;
    make(&b, &fighter);
    b.level = 19;
    b.subclass = "champion";
    static const int lv[] = {4, 6, 8, 12, 14, 16, 19};
    for (int i = 0; i < 7; i++) {
        b.asis[i] = asi_str2;
        b.asis[i].level = lv[i];
        b.asis[i].increase.v[0] = 0;
        b.asis[i].increase.present[0] = 0;
        b.asis[i].increase.present[i % 2 ? WIS : CHA] = 1; /* spread to stay under 20 */
        b.asis[i].increase.v[i % 2 ? WIS : CHA] = i < 6 ? 1 : 2;
        b.asis[i].increase.present[i % 2 ? INT : DEX] = i < 6;
        b.asis[i].increase.v[i % 2 ? INT : DEX] = 1;
    }
    b.nasis = 7;
    eval(&b);
    expect_valid();
    assert_int_equal(sh.proficiency_bonus, 6);
    b.advancement[0] = (struct build_advance){.class_ = "fighter"};
    b.advancement[1] = (struct build_advance){.class_ = "fighter"};
    b.nadvancement = 2;
    eval(&b);
    expect("advancement", "too_many");
    b.nadvancement = 1;
    /* final scores STR 16 DEX 17 CON 15 INT 12 WIS 16 CHA 16: a wizard needs INT 13 */
    b.advancement[0].class_ = "wizard";
    eval(&b);
    expect("advancement[0].class", "prerequisite_not_met");
    b.advancement[0].class_ = "jester";
    eval(&b);
    expect("advancement[0].class", "unknown_reference");
    b.advancement[0].class_ = NULL;
    eval(&b);
    expect("advancement[0].class", "required");
}

/* ---- random builds ---- */

static void test_random_valid(void **state)
{
    (void)state;
    struct build b;
    int classes[64] = {0};
    for (uint64_t seed = 0; seed < 2000; seed++) {
        struct dice_seeded s;
        struct dice_rng rng = dice_rng_seeded(&s, seed);
        character_random(rs, &rng, &b);
        eval(&b);
        if (v.n != 0) {
            print_message("seed %llu: %s %s %s\n", (unsigned long long)seed, b.race, b.class_,
                          b.subrace ? b.subrace : "");
            dump();
        }
        assert_int_equal(v.n, 0);
        assert_true(sh.complete);
        assert_int_equal(sh.level, 1);
        assert_true(b.ability_scores.method == BUILD_METHOD_STANDARD_ARRAY ||
                    b.ability_scores.method == BUILD_METHOD_POINT_BUY);
        classes[ruleset_class(rs, b.class_) - rs->classes]++;
    }
    for (size_t i = 0; i < rs->nclasses; i++)
        if (classes[i] == 0)
            fail_msg("no random %s in 2000 draws", rs->classes[i].index);
}

static void test_random_reproducible(void **state)
{
    (void)state;
    struct build a, b;
    struct dice_seeded s1, s2, s3;
    struct dice_rng r1 = dice_rng_seeded(&s1, 42), r2 = dice_rng_seeded(&s2, 42), r3 = dice_rng_seeded(&s3, 43);
    character_random(rs, &r1, &a);
    character_random(rs, &r2, &b);
    assert_string_equal(a.name, b.name);
    assert_string_equal(a.race, b.race);
    assert_string_equal(a.class_, b.class_);
    assert_memory_equal(a.ability_scores.assign.v, b.ability_scores.assign.v, sizeof(a.ability_scores.assign.v));
    assert_int_equal(a.skills.n, b.skills.n);
    for (size_t i = 0; i < a.skills.n; i++)
        assert_string_equal(a.skills.v[i], b.skills.v[i]);
    /* another seed: some field differs (over a few seeds) */
    int differs = 0;
    for (int k = 0; k < 5 && !differs; k++) {
        character_random(rs, &r3, &b);
        differs = strcmp(a.name, b.name) || strcmp(a.race, b.race) || strcmp(a.class_, b.class_) ||
                  memcmp(a.ability_scores.assign.v, b.ability_scores.assign.v, sizeof(a.ability_scores.assign.v));
    }
    assert_true(differs);
}

/* ---- hostile input ---- */

static const char *const junk[] = {NULL,
                                   "",
                                   "dwarf",
                                   "hill-dwarf",
                                   "elf",
                                   "cleric",
                                   "life",
                                   "bard",
                                   "fighter",
                                   "wizard",
                                   "draconic",
                                   "str",
                                   "cha",
                                   "perception",
                                   "lute",
                                   "smiths-tools",
                                   "common",
                                   "red",
                                   "acolyte",
                                   "lawful-good",
                                   "x\xff",
                                   "musical-instruments",
                                   "a-very-long-slug-that-goes-on-and-on-and-on-and-on-and-on-and-on-and-on-x"};
#define NJUNK (sizeof(junk) / sizeof(junk[0]))

static uint32_t u(const struct dice_rng *r, uint32_t n)
{
    return r->uniform(r->ctx, n);
}

static const char *pick(const struct dice_rng *r)
{
    return junk[u(r, NJUNK)];
}

static void junk_list(const struct dice_rng *r, struct build_list *l)
{
    l->n = u(r, 4) == 0 ? BUILD_LIST_MAX : u(r, 5);
    l->present = (int)u(r, 2);
    for (size_t i = 0; i < l->n; i++)
        l->v[i] = pick(r);
}

static void junk_scores(const struct dice_rng *r, struct build_scores *s)
{
    for (int i = 0; i < 6; i++) {
        s->present[i] = u(r, 3) == 0;
        s->v[i] = (int)u(r, 60) - 20;
    }
}

/* Random builds with random fields replaced by junk: every call returns, bounded, under ASan/UBSan too. */
static void test_hostile_builds(void **state)
{
    (void)state;
    struct build b;
    for (uint64_t seed = 0; seed < 3000; seed++) {
        struct dice_seeded s;
        struct dice_rng r = dice_rng_seeded(&s, seed + 100000);
        character_random(rs, &r, &b);
        if (u(&r, 2))
            b.race = pick(&r);
        if (u(&r, 2))
            b.subrace = pick(&r);
        if (u(&r, 2))
            b.class_ = pick(&r);
        if (u(&r, 2))
            b.subclass = pick(&r);
        if (u(&r, 3) == 0)
            b.alignment = pick(&r);
        if (u(&r, 3) == 0)
            b.level = (int)u(&r, 1002) - 1;
        if (u(&r, 3) == 0)
            b.ability_scores.method = (enum build_method)u(&r, 6);
        if (u(&r, 3) == 0)
            junk_scores(&r, &b.ability_scores.assign);
        if (u(&r, 4) == 0)
            b.ability_scores.roll_id = pick(&r);
        if (u(&r, 3) == 0)
            junk_list(&r, &b.skills);
        if (u(&r, 3) == 0)
            junk_list(&r, &b.languages);
        if (u(&r, 3) == 0)
            junk_list(&r, &b.choices.ability_bonuses);
        if (u(&r, 3) == 0)
            junk_list(&r, &b.choices.race_skills);
        if (u(&r, 3) == 0)
            junk_list(&r, &b.choices.instruments);
        if (u(&r, 3) == 0)
            b.choices.tool = pick(&r);
        if (u(&r, 3) == 0)
            b.choices.cantrip = pick(&r);
        if (u(&r, 3) == 0)
            b.choices.artisan_or_instrument = pick(&r);
        if (u(&r, 3) == 0)
            b.choices.draconic_ancestry = pick(&r);
        if (u(&r, 4) == 0) {
            b.custom_background = 1;
            b.background = NULL;
            b.custom.name = pick(&r);
            b.custom.name_len = b.custom.name ? strlen(b.custom.name) : 0;
            junk_list(&r, &b.custom.skills);
            junk_list(&r, &b.custom.languages);
            junk_list(&r, &b.custom.tools);
        }
        if (u(&r, 3) == 0) {
            b.nasis = u(&r, BUILD_LIST_MAX + 1);
            for (size_t i = 0; i < b.nasis; i++) {
                b.asis[i].level = (int)u(&r, 30) - 3;
                junk_scores(&r, &b.asis[i].increase);
            }
        }
        if (u(&r, 3) == 0) {
            b.nadvancement = u(&r, BUILD_ADVANCE_MAX + 1);
            for (size_t i = 0; i < b.nadvancement; i++) {
                struct build_advance *a = &b.advancement[i];
                a->class_ = u(&r, 2) ? b.class_ : pick(&r);
                a->subclass = u(&r, 3) == 0 ? pick(&r) : NULL;
                a->hit_points = (int)u(&r, 20) - 3;
                junk_scores(&r, &a->asi);
                junk_list(&r, &a->skills);
                junk_list(&r, &a->tools);
            }
        }
        b.bad = u(&r, 4) == 0 ? u(&r, 1u << BF_COUNT) : 0;
        eval_mode(&b, u(&r, 2) ? CHARACTER_DRAFT : CHARACTER_CREATE);
        assert_true(v.n <= VIOLATIONS_MAX);
        assert_true(sh.level >= 1 && sh.level <= 20);
        assert_true(sh.languages.n <= SHEET_REFS_MAX && sh.features.n <= SHEET_REFS_MAX);

        struct level_up req;
        struct build_advance out;
        memset(&req, 0, sizeof(req));
        req.class_ = pick(&r);
        req.subclass = pick(&r);
        req.roll = (int)u(&r, 2);
        junk_scores(&r, &req.asi);
        junk_list(&r, &req.skills);
        junk_list(&r, &req.tools);
        violations_init(&v);
        character_level_up(rs, &policy, &b, &req, &r, &v, &out);
        if (v.n == 0)
            assert_non_null(out.class_);
    }
}

/* ---- cost ---- */

static void test_performance(void **state)
{
    (void)state;
    struct build b;
    struct timespec t0, t1;
    enum { N = 20000 };
    make(&b, &rows[6].in); /* the half-elf bard: most choices */
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (int i = 0; i < N; i++)
        eval(&b);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double us = ((double)(t1.tv_sec - t0.tv_sec) * 1e6 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e3) / N;
    print_message("one evaluate: %.2f us\n", us);
    assert_true(us < 250.0); /* "well under a millisecond", even under sanitizers */
}

static int setup(void **state)
{
    (void)state;
    struct err e = {0};
    if (sodium_init() < 0)
        return -1;
    randombytes_buf(key, sizeof(key));
    build_policy_default(&policy);
    if (ruleset_load(SRCDIR "/rules/data", &rs, &e) != 0) {
        print_error("loading %s/rules/data: %s\n", SRCDIR, e.msg);
        return -1;
    }
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    ruleset_free(rs);
    return 0;
}

int main(void)
{
    struct CMUnitTest tests[64];
    size_t n = 0;
    static const char *names[sizeof(rows) / sizeof(rows[0])];
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        names[i] = rows[i].what;
        tests[n++] = (struct CMUnitTest){names[i], test_sheet_row, NULL, NULL, (void *)&rows[i]};
    }
#define T(f) tests[n++] = (struct CMUnitTest)cmocka_unit_test(f)
    T(test_features_by_level);
    T(test_standard_array);
    T(test_point_buy);
    T(test_rolled);
    T(test_manual);
    T(test_references_and_required);
    T(test_subraces);
    T(test_subclass_timing);
    T(test_skills);
    T(test_languages);
    T(test_race_choices);
    T(test_class_tool_choices);
    T(test_custom_background);
    T(test_name_and_level);
    T(test_creation_above_level_1);
    T(test_level_up_across_asi);
    T(test_multiclass);
    T(test_hp_level5_average_vs_rolled);
    T(test_advancement_problems);
    T(test_random_valid);
    T(test_random_reproducible);
    T(test_hostile_builds);
    T(test_performance);
#undef T
    return _cmocka_run_group_tests("test_character", tests, n, setup, teardown);
}
