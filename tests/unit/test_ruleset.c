/*
 * tests/unit/test_ruleset.c - the SRD data files and their loader
 * (rules/ruleset.c): the shipped rules/data/ loads with the SRD's counts and a
 * handful of facts checked by hand against the SRD; broken copies written to a
 * temporary folder (an unknown key, a dangling reference, a wrong count, a
 * string over the bound, bad equipment, proficiency and feature data) fail with
 * FILE:LINE:COL; and a cross-check of races, subraces, classes, levels, skills,
 * equipment, equipment categories, proficiencies and features against the
 * public 5e-database JSON in
 * $top_srcdir/../shared/reference/5e-database-2014 (skipped when absent), which
 * lists every disagreement.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <jansson.h>

#include "common/err.h"
#include "rules/ruleset.h"

static const char *const data_files[] = {"abilities.yaml",   "ability-methods.yaml", "alignments.yaml",
                                         "backgrounds.yaml", "classes.yaml",         "languages.yaml",
                                         "races.yaml",       "skills.yaml",          "xp.yaml",
                                         "equipment.yaml",   "proficiencies.yaml",   "features.yaml"};
#define NFILES (sizeof(data_files) / sizeof(data_files[0]))

static const char *top_srcdir(void)
{
    const char *s = getenv("top_srcdir");
    return s != NULL && *s ? s : ".";
}

static struct ruleset *load_shipped(void)
{
    char dir[4096];
    struct ruleset *rs = NULL;
    struct err e = {0};
    snprintf(dir, sizeof(dir), "%s/rules/data", top_srcdir());
    int rc = ruleset_load(dir, &rs, &e);
    if (rc != 0)
        fail_msg("loading %s: %s", dir, e.msg);
    return rs;
}

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    char *buf;
    long n;
    if (f == NULL)
        return NULL;
    fseek(f, 0, SEEK_END);
    n = ftell(f);
    rewind(f);
    buf = malloc((size_t)n + 1);
    assert_non_null(buf);
    assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

static void spit(const char *path, const char *text)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(text, 1, strlen(text), f), strlen(text));
    fclose(f);
}

/* A temporary copy of rules/data in `dir` (size 64). */
static void copy_data(char *dir)
{
    char src[4096], dst[4096];
    strcpy(dir, "/tmp/test_ruleset.XXXXXX");
    assert_non_null(mkdtemp(dir));
    for (size_t i = 0; i < NFILES; i++) {
        snprintf(src, sizeof(src), "%s/rules/data/%s", top_srcdir(), data_files[i]);
        snprintf(dst, sizeof(dst), "%s/%s", dir, data_files[i]);
        char *text = slurp(src);
        assert_non_null(text);
        spit(dst, text);
        free(text);
    }
}

static void remove_data(const char *dir)
{
    char p[4096];
    for (size_t i = 0; i < NFILES; i++) {
        snprintf(p, sizeof(p), "%s/%s", dir, data_files[i]);
        unlink(p);
    }
    rmdir(dir);
}

/* Replace the first `old` in dir/file by `new`; returns the 1-based line where it was. */
static int patch(const char *dir, const char *file, const char *old, const char *new)
{
    char p[4096];
    snprintf(p, sizeof(p), "%s/%s", dir, file);
    char *text = slurp(p);
    assert_non_null(text);
    char *at = strstr(text, old);
    assert_non_null(at);
    int line = 1;
    for (const char *q = text; q < at; q++)
        line += *q == '\n';
    size_t head = (size_t)(at - text), ol = strlen(old), nl = strlen(new), tl = strlen(text);
    char *out = malloc(tl - ol + nl + 1);
    assert_non_null(out);
    memcpy(out, text, head);
    memcpy(out + head, new, nl);
    memcpy(out + head + nl, at + ol, tl - head - ol + 1);
    spit(p, out);
    free(out);
    free(text);
    return line;
}

/* Load the patched copy; it must fail with `code` and a message holding `want`. */
static void expect_failure(const char *dir, int code, const char *want)
{
    struct ruleset *rs = (struct ruleset *)1;
    struct err e = {0};
    int rc = ruleset_load(dir, &rs, &e);
    assert_null(rs);
    if (rc != code || strstr(e.msg, want) == NULL)
        fail_msg("expected %d with \"%s\", got %d: %s", code, want, rc, e.msg);
}

/* ---- the shipped data --------------------------------------------------- */

static void test_counts(void **state)
{
    (void)state;
    struct ruleset *rs = load_shipped();
    assert_int_equal(rs->nabilities, 6);
    assert_int_equal(rs->nskills, 18);
    assert_int_equal(rs->nalignments, 9);
    assert_int_equal(rs->nlanguages, 16);
    assert_int_equal(rs->nraces, 9);
    assert_int_equal(rs->nsubraces, 4);
    assert_int_equal(rs->nancestries, 10);
    assert_int_equal(rs->nclasses, 12);
    assert_int_equal(rs->nbackgrounds, 1);
    size_t exotic = 0;
    for (size_t i = 0; i < rs->nlanguages; i++)
        exotic += (size_t)rs->languages[i].exotic;
    assert_int_equal(exotic, 8);
    assert_int_equal(rs->nequipment, 197);
    assert_int_equal(rs->nequipment_categories, 27);
    assert_int_equal(rs->ndamage_types, 13);
    assert_int_equal(rs->nweapon_properties, 11);
    assert_int_equal(rs->nproficiencies, 117);
    assert_int_equal(rs->nfeatures, 322);
    size_t weapons = 0, armor = 0;
    for (size_t i = 0; i < rs->nequipment; i++) {
        weapons += rs->equipment[i].weapon != NULL;
        armor += rs->equipment[i].armor != NULL;
    }
    assert_int_equal(weapons, 37); /* SRD weapons table */
    assert_int_equal(armor, 13);   /* 12 armors and the shield */
    ruleset_free(rs);
}

static void test_equipment_facts(void **state)
{
    (void)state;
    struct ruleset *rs = load_shipped();
    const struct rs_equipment *e = ruleset_equipment(rs, "chain-mail");
    assert_non_null(e);
    assert_string_equal(e->name, "Chain Mail");
    assert_int_equal(e->cost, 75);
    assert_string_equal(e->cost_unit, "gp");
    assert_true(e->has_weight);
    assert_true(e->weight == 55);
    assert_string_equal(e->equip_type, "heavy-armor");
    assert_non_null(e->armor);
    assert_null(e->weapon);
    assert_string_equal(e->armor->category, "heavy");
    assert_int_equal(e->armor->base, 16);
    assert_false(e->armor->dex_bonus);
    assert_int_equal(e->armor->str_minimum, 13);
    assert_true(e->armor->stealth_disadvantage);
    e = ruleset_equipment(rs, "half-plate-armor");
    assert_true(e->armor->dex_bonus);
    assert_int_equal(e->armor->max_bonus, 2);
    assert_int_equal(e->armor->base, 15);
    e = ruleset_equipment(rs, "studded-leather-armor");
    assert_int_equal(e->armor->base, 12);
    assert_true(e->armor->dex_bonus);
    assert_int_equal(e->armor->max_bonus, 0);
    assert_string_equal(ruleset_equipment(rs, "shield")->equip_type, "shield");
    assert_int_equal(ruleset_equipment(rs, "shield")->armor->base, 2);

    e = ruleset_equipment(rs, "longsword");
    assert_non_null(e->weapon);
    assert_true(e->weapon->martial);
    assert_false(e->weapon->ranged);
    assert_string_equal(e->weapon->damage, "1d8");
    assert_string_equal(e->weapon->damage_type, "slashing");
    assert_string_equal(e->weapon->two_handed_damage, "1d10");
    assert_string_equal(e->equip_type, "martial-melee");
    e = ruleset_equipment(rs, "longbow");
    assert_true(e->weapon->ranged);
    assert_int_equal(e->weapon->normal, 150);
    assert_int_equal(e->weapon->long_range, 600);
    e = ruleset_equipment(rs, "dagger");
    assert_int_equal(e->weapon->throw_normal, 20);
    assert_int_equal(e->weapon->throw_long, 60);
    assert_true(e->weight == 1);
    assert_int_equal(e->cost, 2);
    assert_true(ruleset_equipment(rs, "dart")->weight == 0.25);
    assert_null(ruleset_equipment(rs, "net")->weapon->damage);
    assert_int_equal(ruleset_equipment(rs, "arrow")->quantity, 20);
    assert_string_equal(ruleset_equipment(rs, "arrow")->equip_type, "ammunition");
    assert_string_equal(ruleset_equipment(rs, "backpack")->equip_type, "container");
    assert_string_equal(ruleset_equipment(rs, "holy-water-flask")->equip_type, "other");
    assert_string_equal(ruleset_equipment(rs, "emblem")->equip_type, "holy");

    e = ruleset_equipment(rs, "explorers-pack");
    assert_false(e->has_weight);
    assert_int_equal(e->ncontents, 8);
    int torches = 0;
    for (size_t i = 0; i < e->ncontents; i++)
        if (strcmp(e->contents[i].item, "torch") == 0)
            torches = e->contents[i].quantity;
    assert_int_equal(torches, 10);

    assert_true(ruleset_item_in_category(rs, "lute", "musical-instruments"));
    assert_true(ruleset_item_in_category(rs, "lute", "tools"));
    assert_false(ruleset_item_in_category(rs, "lute", "artisans-tools"));
    assert_true(ruleset_item_in_category(rs, "smiths-tools", "artisans-tools"));
    assert_true(ruleset_item_in_category(rs, "dice-set", "gaming-sets"));
    assert_true(ruleset_item_in_category(rs, "crossbow-hand", "martial-ranged-weapons"));
    assert_true(ruleset_item_in_category(rs, "club", "simple-melee-weapons"));
    assert_false(ruleset_item_in_category(rs, "club", "martial-weapons"));
    assert_false(ruleset_item_in_category(rs, "no-such-thing", "tools"));
    assert_false(ruleset_item_in_category(rs, "lute", NULL));
    assert_null(ruleset_equipment(rs, "lightsaber"));
    assert_non_null(ruleset_equipment_category(rs, "equipment-packs"));
    assert_string_equal(ruleset_weapon_property(rs, "two-handed")->name, "Two-Handed");
    assert_string_equal(ruleset_damage_type(rs, "fire")->name, "Fire");
    ruleset_free(rs);
}

/* Every proficiency slug of the class and race data resolves, with the right type. */
static void test_proficiencies_resolve(void **state)
{
    (void)state;
    struct ruleset *rs = load_shipped();
    for (size_t i = 0; i < rs->nclasses; i++) {
        const struct rs_class *c = &rs->classes[i];
        for (size_t k = 0; k < c->armor.n; k++)
            assert_string_equal(ruleset_proficiency(rs, c->armor.v[k])->type, "Armor");
        for (size_t k = 0; k < c->weapons.n; k++)
            assert_string_equal(ruleset_proficiency(rs, c->weapons.v[k])->type, "Weapons");
        for (size_t k = 0; k < c->tools.n; k++)
            assert_non_null(ruleset_proficiency(rs, c->tools.v[k]));
        for (size_t k = 0; k < c->multiclass.proficiencies.n; k++)
            assert_non_null(ruleset_proficiency(rs, c->multiclass.proficiencies.v[k]));
        for (size_t k = 0; k < c->subclass_effects.proficiencies.n; k++)
            assert_non_null(ruleset_proficiency(rs, c->subclass_effects.proficiencies.v[k]));
    }
    for (size_t i = 0; i < rs->nraces + rs->nsubraces; i++) {
        const struct rs_trait *t = i < rs->nraces ? rs->races[i].traits : rs->subraces[i - rs->nraces].traits;
        size_t nt = i < rs->nraces ? rs->races[i].ntraits : rs->subraces[i - rs->nraces].ntraits;
        for (size_t j = 0; j < nt; j++) {
            const struct rs_effects *fx = &t[j].effects;
            for (size_t k = 0; k < fx->weapon_proficiencies.n; k++)
                assert_string_equal(ruleset_proficiency(rs, fx->weapon_proficiencies.v[k])->type, "Weapons");
            for (size_t k = 0; k < fx->armor_proficiencies.n; k++)
                assert_string_equal(ruleset_proficiency(rs, fx->armor_proficiencies.v[k])->type, "Armor");
            for (size_t k = 0; k < fx->tool_proficiencies.n; k++)
                assert_non_null(ruleset_proficiency(rs, fx->tool_proficiencies.v[k]));
            for (size_t k = 0; k < fx->tool_choices.from.n; k++)
                assert_non_null(ruleset_proficiency(rs, fx->tool_choices.from.v[k]));
        }
    }
    const struct rs_class *fighter = ruleset_class(rs, "fighter"), *bard = ruleset_class(rs, "bard");
    assert_string_equal(fighter->armor.v[0], "all-armor");
    assert_string_equal(ruleset_proficiency(rs, "all-armor")->category, "armor");
    assert_string_equal(ruleset_proficiency(rs, "hand-crossbows")->item, "crossbow-hand");
    assert_string_equal(ruleset_proficiency(rs, "smiths-tools")->type, "Artisan's Tools");
    assert_string_equal(ruleset_proficiency(rs, "thieves-tools")->name, "Thieves' Tools");
    assert_string_equal(ruleset_proficiency(rs, "skill-stealth")->skill, "stealth");
    assert_string_equal(ruleset_proficiency(rs, "saving-throw-str")->ability, "str");
    assert_int_equal(bard->tool_choices.count, 3);
    assert_string_equal(bard->tool_choices.from.v[0], "musical-instruments");
    assert_null(ruleset_proficiency(rs, "light")); /* the old short slugs are gone */
    assert_null(ruleset_proficiency(rs, NULL));

    const struct rs_class *cleric = ruleset_class(rs, "cleric"), *sorc = ruleset_class(rs, "sorcerer");
    assert_int_equal(cleric->subclass_effects.proficiencies.n, 1);
    assert_string_equal(cleric->subclass_effects.proficiencies.v[0], "heavy-armor");
    assert_int_equal(sorc->subclass_effects.hp_per_level, 1);
    assert_int_equal(sorc->subclass_effects.unarmored_ac_base, 13);
    assert_string_equal(sorc->subclass_effects.languages.v[0], "draconic");
    assert_int_equal(ruleset_class(rs, "warlock")->subclass_effects.hp_per_level, 0);
    assert_int_equal(ruleset_class(rs, "warlock")->subclass_effects.proficiencies.n, 0);
    assert_string_equal(ruleset_class(rs, "barbarian")->unarmored_defense, "con");
    assert_string_equal(ruleset_class(rs, "monk")->unarmored_defense, "wis");
    assert_null(fighter->unarmored_defense);
    ruleset_free(rs);
}

static void test_features(void **state)
{
    (void)state;
    struct ruleset *rs = load_shipped();
    const struct rs_class *barb = ruleset_class(rs, "barbarian");
    const struct rs_class_level *l1 = ruleset_class_level(barb, 1);
    assert_int_equal(l1->features.n, 2);
    assert_string_equal(l1->features.v[0], "rage");
    assert_string_equal(l1->features.v[1], "barbarian-unarmored-defense");
    assert_string_equal(ruleset_feature(rs, "rage")->name, "Rage");
    assert_string_equal(ruleset_feature(rs, "reckless-attack")->class_index, "barbarian");
    assert_int_equal(ruleset_feature(rs, "danger-sense")->level, 2);
    assert_string_equal(ruleset_class_level(barb, 4)->features.v[0], "barbarian-ability-score-improvement-1");
    assert_string_equal(ruleset_class_level(barb, 3)->subclass_features.v[0], "frenzy");
    assert_string_equal(ruleset_feature(rs, "frenzy")->subclass_index, "berserker");
    assert_null(ruleset_feature(rs, "rage")->subclass_index);
    const struct rs_class_level *c1 = ruleset_class_level(ruleset_class(rs, "cleric"), 1);
    int disciple = 0;
    for (size_t k = 0; k < c1->subclass_features.n; k++)
        disciple |= strcmp(c1->subclass_features.v[k], "disciple-of-life") == 0;
    assert_true(disciple);
    const struct rs_class_level *s1 = ruleset_class_level(ruleset_class(rs, "sorcerer"), 1);
    assert_int_equal(s1->subclass_features.n, 2);
    assert_string_equal(s1->subclass_features.v[0], "dragon-ancestor");
    assert_string_equal(s1->subclass_features.v[1], "draconic-resilience");
    assert_string_equal(ruleset_class_level(ruleset_class(rs, "warlock"), 1)->subclass_features.v[0],
                        "dark-ones-blessing");
    assert_string_equal(ruleset_feature(rs, "dark-ones-blessing")->name, "Dark One's Blessing");
    /* every level row's slugs resolve to a feature of that class and level, and every feature is listed */
    size_t listed = 0;
    for (size_t i = 0; i < rs->nclasses; i++)
        for (int l = 1; l <= RULESET_LEVELS; l++) {
            const struct rs_class_level *lv = ruleset_class_level(&rs->classes[i], l);
            for (int sub = 0; sub < 2; sub++) {
                struct rs_strs fs = sub ? lv->subclass_features : lv->features;
                for (size_t k = 0; k < fs.n; k++) {
                    const struct rs_feature *f = ruleset_feature(rs, fs.v[k]);
                    assert_non_null(f);
                    assert_string_equal(f->class_index, rs->classes[i].index);
                    assert_int_equal(f->level, l);
                    assert_int_equal(f->subclass_index != NULL, sub);
                    listed++;
                }
            }
            /* an ASI row names its ability score improvement feature */
            if (lv->asi) {
                int found = 0;
                for (size_t k = 0; k < lv->features.n; k++)
                    found |= strstr(lv->features.v[k], "ability-score-improvement") != NULL;
                assert_true(found);
            }
        }
    assert_int_equal(listed, rs->nfeatures);
    assert_null(ruleset_feature(rs, "barbarian-subclass-choice"));
    ruleset_free(rs);
}

static void test_hand_checked_facts(void **state)
{
    (void)state;
    struct ruleset *rs = load_shipped();
    int wis = ruleset_ability_pos(rs, "wis"), con = ruleset_ability_pos(rs, "con");
    assert_true(wis >= 0 && con >= 0);

    const struct rs_subrace *hill = ruleset_subrace(rs, "hill-dwarf");
    assert_non_null(hill);
    assert_string_equal(hill->race, "dwarf");
    assert_int_equal(hill->ability_bonuses[wis], 1);
    int hp = 0;
    for (size_t i = 0; i < hill->ntraits; i++)
        hp += hill->traits[i].effects.hp_per_level;
    assert_int_equal(hp, 1);

    const struct rs_race *dwarf = ruleset_race(rs, "dwarf");
    assert_non_null(dwarf);
    assert_int_equal(dwarf->speed, 25);
    assert_int_equal(dwarf->small, 0);
    assert_int_equal(dwarf->ability_bonuses[con], 2);
    int dv = 0;
    for (size_t i = 0; i < dwarf->ntraits; i++)
        if (dwarf->traits[i].effects.darkvision > dv)
            dv = dwarf->traits[i].effects.darkvision;
    assert_int_equal(dv, 60);

    const struct rs_class *cleric = ruleset_class(rs, "cleric");
    assert_non_null(cleric);
    assert_int_equal(cleric->hit_die, 8);
    assert_int_equal(cleric->saving_throws.n, 2);
    assert_string_equal(cleric->saving_throws.v[0], "wis");
    assert_string_equal(cleric->saving_throws.v[1], "cha");
    assert_int_equal(cleric->subclass_level, 1);
    assert_string_equal(cleric->subclass_index, "life");
    assert_int_equal(cleric->skill_choices.count, 2);

    const struct rs_class *fighter = ruleset_class(rs, "fighter");
    assert_non_null(fighter);
    assert_true(ruleset_class_level(fighter, 6)->asi);
    assert_true(ruleset_class_level(fighter, 14)->asi);
    assert_false(ruleset_class_level(fighter, 10)->asi);
    assert_true(fighter->multiclass.any_of);
    assert_int_equal(fighter->multiclass.nprereqs, 2);
    const struct rs_class *rogue = ruleset_class(rs, "rogue");
    assert_true(ruleset_class_level(rogue, 10)->asi);
    assert_false(ruleset_class_level(rogue, 6)->asi);
    const struct rs_class *wizard = ruleset_class(rs, "wizard");
    assert_false(ruleset_class_level(wizard, 6)->asi);
    assert_true(ruleset_class_level(wizard, 19)->asi);

    for (size_t c = 0; c < rs->nclasses; c++)
        for (int l = 1; l <= 20; l++) {
            int want = l <= 4 ? 2 : l >= 17 ? 6 : 0;
            if (want != 0)
                assert_int_equal(ruleset_class_level(&rs->classes[c], l)->proficiency_bonus, want);
        }
    assert_int_equal(rs->xp[1].level, 2);
    assert_int_equal(rs->xp[1].xp, 300);
    assert_int_equal(rs->xp[19].xp, 355000);

    const struct rs_skill *ah = ruleset_skill(rs, "animal-handling");
    assert_non_null(ah);
    assert_string_equal(ah->ability, "wis");
    assert_non_null(ruleset_alignment(rs, "lawful-good"));
    assert_true(ruleset_language(rs, "deep-speech")->exotic);
    assert_false(ruleset_language(rs, "dwarvish")->exotic);
    const struct rs_background *aco = ruleset_background(rs, "acolyte");
    assert_non_null(aco);
    assert_int_equal(aco->language_choices, 2);
    assert_int_equal(aco->skill_proficiencies.n, 2);
    assert_true(ruleset_ancestry(rs, "green")->cone);
    assert_string_equal(ruleset_ancestry(rs, "green")->save, "con");
    ruleset_free(rs);
}

static void test_lookup_misses(void **state)
{
    (void)state;
    struct ruleset *rs = load_shipped();
    assert_null(ruleset_race(rs, "hill-dwarf")); /* a subrace, not a race */
    assert_null(ruleset_class(rs, "artificer"));
    assert_null(ruleset_skill(rs, NULL));
    assert_null(ruleset_ability(rs, "STR"));
    assert_int_equal(ruleset_ability_pos(rs, "luck"), -1);
    assert_null(ruleset_class_level(ruleset_class(rs, "bard"), 0));
    assert_null(ruleset_class_level(ruleset_class(rs, "bard"), 21));
    assert_null(ruleset_class_level(NULL, 1));
    assert_int_equal(ruleset_class_level(ruleset_class(rs, "bard"), 20)->level, 20);
    ruleset_free(rs);
    ruleset_free(NULL);
}

/* ---- broken copies ------------------------------------------------------ */

static void test_unknown_key(void **state)
{
    (void)state;
    char dir[64], want[128];
    copy_data(dir);
    int line = patch(dir, "races.yaml", "    speed: 25\n", "    speed: 25\n    colour: red\n");
    snprintf(want, sizeof(want), "races.yaml:%d:5: unknown key \"colour\" in a race", line + 1);
    expect_failure(dir, ERR_INVALID, want);
    remove_data(dir);
}

static void test_dangling_subrace(void **state)
{
    (void)state;
    char dir[64], want[128];
    copy_data(dir);
    int line = patch(dir, "races.yaml", "    race: dwarf\n", "    race: dwarff\n");
    snprintf(want, sizeof(want), "races.yaml:%d:11: race \"dwarff\" is not a known race", line);
    expect_failure(dir, ERR_INVALID, want);
    remove_data(dir);
}

static void test_dangling_skill_references(void **state)
{
    (void)state;
    char dir[64];
    copy_data(dir);
    patch(dir, "skills.yaml", "ability: wis}", "ability: wit}");
    patch(dir, "classes.yaml", "from: [history, insight,", "from: [cooking, insight,");
    expect_failure(dir, ERR_INVALID, "ability \"wit\" is not a known ability");
    expect_failure(dir, ERR_INVALID, "from \"cooking\" is not a known skill");
    remove_data(dir);
}

static void test_wrong_counts(void **state)
{
    (void)state;
    char dir[64];
    copy_data(dir);
    patch(dir, "skills.yaml", "  - {index: stealth, name: Stealth, ability: dex}\n", "");
    patch(dir, "classes.yaml", "      - {level: 20, proficiency_bonus: 6, asi: false, features: [primal-champion]}\n",
          "");
    expect_failure(dir, ERR_INVALID, "expected 18 skills, found 17");
    expect_failure(dir, ERR_INVALID, "expected 20 levels, found 19");
    remove_data(dir);
}

static void test_bounds_and_types(void **state)
{
    (void)state;
    char dir[64], big[300], repl[400];
    copy_data(dir);
    memset(big, 'x', 250);
    big[250] = '\0';
    snprintf(repl, sizeof(repl), "name: %s}", big);
    patch(dir, "abilities.yaml", "name: Strength}", repl);
    expect_failure(dir, ERR_TOO_LARGE, "abilities.yaml:5:24: name must be 1 to 200 bytes");
    remove_data(dir);

    copy_data(dir);
    patch(dir, "xp.yaml", "xp: 300,", "xp: lots,");
    patch(dir, "races.yaml", "size: small", "size: tiny");
    expect_failure(dir, ERR_INVALID, "xp must be an integer");
    expect_failure(dir, ERR_INVALID, "size must be small or medium, not \"tiny\"");
    remove_data(dir);

    copy_data(dir);
    patch(dir, "xp.yaml", "levels:", "levels: [\n");
    expect_failure(dir, ERR_INVALID, "xp.yaml:");
    remove_data(dir);

    copy_data(dir);
    char p[128];
    snprintf(p, sizeof(p), "%s/backgrounds.yaml", dir);
    unlink(p);
    expect_failure(dir, ERR_IO, "backgrounds.yaml");
    remove_data(dir);
}

static void test_bad_equipment(void **state)
{
    (void)state;
    char dir[64], want[160];
    copy_data(dir);
    int line = patch(dir, "equipment.yaml", "    name: Chain Mail\n", "    name: Chain Mail\n    colour: grey\n");
    snprintf(want, sizeof(want), "equipment.yaml:%d:5: unknown key \"colour\" in an item of equipment", line + 1);
    expect_failure(dir, ERR_INVALID, want);
    remove_data(dir);

    copy_data(dir);
    line = patch(dir, "equipment.yaml", "damage_type: slashing, two_handed_damage: 1d10",
                 "damage_type: slashy, two_handed_damage: 1d10");
    snprintf(want, sizeof(want), "equipment.yaml:%d:", line);
    expect_failure(dir, ERR_INVALID, want);
    expect_failure(dir, ERR_INVALID, "damage_type \"slashy\" is not a known damage type");
    remove_data(dir);

    copy_data(dir);
    patch(dir, "equipment.yaml", "category: heavy, base: 16", "category: light, base: 16");
    patch(dir, "equipment.yaml", "weight: 0.25", "weight: 1/4");
    patch(dir, "equipment.yaml", "cost: {quantity: 15, unit: gp}", "cost: {quantity: 15, unit: gold}");
    patch(dir, "equipment.yaml", "damage: 1d8, damage_type: slashing, two_handed_damage: 1d10",
          "damage: 1d8, damage_type: slashing, two_handed_damage: d10");
    expect_failure(dir, ERR_INVALID, "armor category light does not match equip_type");
    expect_failure(dir, ERR_INVALID, "weight must be a decimal number");
    expect_failure(dir, ERR_INVALID, "unit must be one of cp, sp, ep, gp, pp, not \"gold\"");
    expect_failure(dir, ERR_INVALID, "two_handed_damage \"d10\" is not dice");
    remove_data(dir);

    copy_data(dir);
    patch(dir, "equipment.yaml", "      - {item: torch, quantity: 10}", "      - {item: torches, quantity: 10}");
    patch(dir, "equipment.yaml", "    categories: [tools, gaming-sets]", "    categories: [tools, gaming-sets, games]");
    expect_failure(dir, ERR_INVALID, "item \"torches\" is not a known equipment");
    expect_failure(dir, ERR_INVALID, "categories \"games\" is not a known equipment category");
    remove_data(dir);

    copy_data(dir);
    patch(dir, "equipment.yaml", "  - index: lance\n", "  - index: lute\n");
    expect_failure(dir, ERR_INVALID, "duplicate index \"lute\"");
    remove_data(dir);
}

static void test_bad_proficiencies(void **state)
{
    (void)state;
    char dir[64], want[160];
    copy_data(dir);
    int line = patch(dir, "classes.yaml", "    armor: [light-armor, medium-armor, shields]\n",
                     "    armor: [light, medium-armor, shields]\n");
    snprintf(want, sizeof(want), "classes.yaml:%d:13: armor \"light\" is not a known armor proficiency", line);
    expect_failure(dir, ERR_INVALID, want);
    remove_data(dir);

    copy_data(dir);
    patch(dir, "races.yaml", "[battleaxes, handaxes,", "[battleaxe, handaxes,");
    patch(dir, "classes.yaml", "    tools: [herbalism-kit]", "    tools: [longswords]");
    patch(dir, "classes.yaml", "tool_choices: {count: 3, from: [musical-instruments]}",
          "tool_choices: {count: 3, from: [kazoos]}");
    expect_failure(dir, ERR_INVALID, "weapon_proficiencies \"battleaxe\" is not a known weapon proficiency");
    expect_failure(dir, ERR_INVALID, "tools \"longswords\" is not a known tool proficiency");
    expect_failure(dir, ERR_INVALID, "from \"kazoos\" is not a known equipment category or tool proficiency");
    remove_data(dir);

    copy_data(dir);
    line =
        patch(dir, "proficiencies.yaml", "type: Armor, category: light-armor}", "type: Armour, category: light-armor}");
    snprintf(want, sizeof(want), "proficiencies.yaml:%d:", line);
    expect_failure(dir, ERR_INVALID, want);
    expect_failure(dir, ERR_INVALID, "type must be one of Armor");
    remove_data(dir);

    copy_data(dir);
    patch(dir, "proficiencies.yaml", "item: crossbow-hand}", "item: crossbow-hnd}");
    patch(dir, "classes.yaml", "effects: {proficiencies: [heavy-armor]}", "effects: {proficiencies: [heavier-armor]}");
    expect_failure(dir, ERR_INVALID, "item \"crossbow-hnd\" is not a known equipment");
    expect_failure(dir, ERR_INVALID, "proficiencies \"heavier-armor\" is not a known proficiency");
    remove_data(dir);
}

static void test_bad_features(void **state)
{
    (void)state;
    char dir[64], want[200];
    copy_data(dir);
    /* listed at the wrong level */
    int line = patch(dir, "classes.yaml", "features: [reckless-attack, danger-sense]}", "features: [reckless-attack]}");
    patch(dir, "classes.yaml", "features: [primal-path], subclass_features: [frenzy]}",
          "features: [primal-path, danger-sense], subclass_features: [frenzy]}");
    (void)line;
    expect_failure(dir, ERR_INVALID, "feature \"danger-sense\" is gained at level 2, not 3");
    remove_data(dir);

    copy_data(dir);
    /* a feature nobody lists, reported at its own line of features.yaml */
    line = patch(dir, "features.yaml", "  - {index: rage, name: Rage, class: barbarian, level: 1}\n",
                 "  - {index: rage, name: Rage, class: barbarian, level: 1}\n"
                 "  - {index: rage-two, name: Rage Two, class: barbarian, level: 1}\n");
    snprintf(want, sizeof(want), "features.yaml:%d:5: feature \"rage-two\" is not listed at barbarian level 1",
             line + 1);
    expect_failure(dir, ERR_INVALID, want);
    remove_data(dir);

    copy_data(dir);
    patch(dir, "classes.yaml", "features: [rage, barbarian-unarmored-defense]}", "features: [rage, unarmored]}");
    patch(dir, "classes.yaml", "subclass_features: [frenzy]}", "features_of_subclass: [frenzy]}");
    patch(dir, "features.yaml", "class: barbarian, level: 2}", "class: barbarain, level: 2}");
    expect_failure(dir, ERR_INVALID, "features \"unarmored\" is not a known feature");
    expect_failure(dir, ERR_INVALID, "unknown key \"features_of_subclass\" in a level");
    expect_failure(dir, ERR_INVALID, "feature \"reckless-attack\" belongs to class barbarain, not barbarian");
    remove_data(dir);

    copy_data(dir);
    patch(dir, "classes.yaml", "features: [rage, barbarian-unarmored-defense]}",
          "features: [rage, barbarian-unarmored-defense, frenzy]}");
    expect_failure(dir, ERR_INVALID, "feature \"frenzy\" is gained at level 3, not 1");
    remove_data(dir);
}

/* ---- cross-check against 5e-database ------------------------------------ */

struct problems {
    char buf[16384];
    size_t len, n;
};

static void note(struct problems *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void note(struct problems *p, const char *fmt, ...)
{
    va_list ap;
    p->n++;
    if (p->len >= sizeof(p->buf) - 2)
        return;
    p->buf[p->len++] = '\n';
    va_start(ap, fmt);
    int k = vsnprintf(p->buf + p->len, sizeof(p->buf) - p->len, fmt, ap);
    va_end(ap);
    if (k > 0)
        p->len += (size_t)k < sizeof(p->buf) - p->len ? (size_t)k : sizeof(p->buf) - p->len - 1;
}

static json_t *load_json(const char *refdir, const char *name, struct problems *p)
{
    char path[4096];
    json_error_t je;
    snprintf(path, sizeof(path), "%s/%s", refdir, name);
    json_t *j = json_load_file(path, 0, &je);
    if (j == NULL || !json_is_array(j))
        note(p, "%s: cannot read a json array: %s", name, je.text);
    return j;
}

static const char *jidx(json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);
    if (json_is_object(v))
        v = json_object_get(v, "index");
    return json_string_value(v);
}

/* The 6 bonuses of a json ability_bonuses array, by ruleset position. */
static void json_bonuses(const struct ruleset *rs, json_t *arr, int *b, const char *who, struct problems *p)
{
    size_t i;
    json_t *x;
    memset(b, 0, RULESET_ABILITIES * sizeof(*b));
    json_array_foreach(arr, i, x)
    {
        int pos = ruleset_ability_pos(rs, jidx(x, "ability_score"));
        if (pos < 0)
            note(p, "%s: reference ability \"%s\" unknown", who, jidx(x, "ability_score"));
        else
            b[pos] = (int)json_integer_value(json_object_get(x, "bonus"));
    }
}

static void compare_bonuses(const struct ruleset *rs, const int *ours, const int *theirs, const char *who,
                            struct problems *p)
{
    for (size_t k = 0; k < RULESET_ABILITIES; k++)
        if (ours[k] != theirs[k])
            note(p, "%s: %s bonus %d, reference %d", who, rs->abilities[k].index, ours[k], theirs[k]);
}

/*
 * Known errors of the reference: its rogue ability_score_bonuses are not
 * cumulative after level 10 (3 at level 10, 2 at 11, 4 at 12, 3 at 13...), one
 * short at each non-ASI level past 10. The SRD's rogue gains ASIs at 4, 8, 10,
 * 12, 16 and 19, so the reference may be one short at these levels (and may
 * also be right, should it be fixed).
 */
static int reference_one_short(const char *cls, int level)
{
    static const int rogue[] = {11, 13, 14, 15, 17, 18, 20};
    if (cls == NULL || strcmp(cls, "rogue") != 0)
        return 0;
    for (size_t i = 0; i < sizeof(rogue) / sizeof(rogue[0]); i++)
        if (rogue[i] == level)
            return 1;
    return 0;
}

/* A json string member, or "" when absent. */
static const char *jstr(json_t *o, const char *key)
{
    const char *s = json_string_value(json_object_get(o, key));
    return s != NULL ? s : "";
}

static int eq_ci(const char *a, const char *b)
{
    return a != NULL && b != NULL && strcasecmp(a, b) == 0;
}

static void cross_check_armor(const struct rs_equipment *e, json_t *x, struct problems *p)
{
    const struct rs_armor *a = e->armor;
    json_t *ac = json_object_get(x, "armor_class");
    if (a == NULL) {
        note(p, "equipment %s: no armor facts, reference has armor_class", e->index);
        return;
    }
    if (!eq_ci(a->category, jstr(x, "armor_category")))
        note(p, "equipment %s: armor category %s, reference %s", e->index, a->category, jstr(x, "armor_category"));
    if (a->base != (int)json_integer_value(json_object_get(ac, "base")))
        note(p, "equipment %s: AC %d, reference %d", e->index, a->base,
             (int)json_integer_value(json_object_get(ac, "base")));
    if (a->dex_bonus != json_is_true(json_object_get(ac, "dex_bonus")))
        note(p, "equipment %s: dex bonus %d, reference %d", e->index, a->dex_bonus,
             json_is_true(json_object_get(ac, "dex_bonus")));
    if (a->max_bonus != (int)json_integer_value(json_object_get(ac, "max_bonus")))
        note(p, "equipment %s: dex cap %d, reference %d", e->index, a->max_bonus,
             (int)json_integer_value(json_object_get(ac, "max_bonus")));
    if (a->str_minimum != (int)json_integer_value(json_object_get(x, "str_minimum")))
        note(p, "equipment %s: strength minimum %d, reference %d", e->index, a->str_minimum,
             (int)json_integer_value(json_object_get(x, "str_minimum")));
    if (a->stealth_disadvantage != json_is_true(json_object_get(x, "stealth_disadvantage")))
        note(p, "equipment %s: stealth disadvantage %d, reference %d", e->index, a->stealth_disadvantage,
             json_is_true(json_object_get(x, "stealth_disadvantage")));
}

static void cross_check_weapon(const struct rs_equipment *e, json_t *x, struct problems *p)
{
    const struct rs_weapon *w = e->weapon;
    json_t *dmg = json_object_get(x, "damage"), *two = json_object_get(x, "two_handed_damage");
    json_t *range = json_object_get(x, "range"), *thr = json_object_get(x, "throw_range"), *props, *pr;
    size_t j;
    if (w == NULL) {
        note(p, "equipment %s: no weapon facts, reference has a weapon", e->index);
        return;
    }
    if (!eq_ci(w->martial ? "martial" : "simple", jstr(x, "weapon_category")) ||
        !eq_ci(w->ranged ? "ranged" : "melee", jstr(x, "weapon_range")))
        note(p, "equipment %s: %s %s weapon, reference %s %s", e->index, w->martial ? "martial" : "simple",
             w->ranged ? "ranged" : "melee", jstr(x, "weapon_category"), jstr(x, "weapon_range"));
    const char *dice = json_string_value(json_object_get(dmg, "damage_dice"));
    const char *type = jidx(dmg, "damage_type");
    if ((w->damage == NULL) != (dice == NULL) || (dice != NULL && strcmp(w->damage, dice) != 0))
        note(p, "equipment %s: damage %s, reference %s", e->index, w->damage ? w->damage : "(none)",
             dice ? dice : "(none)");
    if ((w->damage_type == NULL) != (type == NULL) || (type != NULL && strcmp(w->damage_type, type) != 0))
        note(p, "equipment %s: damage type %s, reference %s", e->index, w->damage_type ? w->damage_type : "(none)",
             type ? type : "(none)");
    dice = json_string_value(json_object_get(two, "damage_dice"));
    if ((w->two_handed_damage == NULL) != (dice == NULL) || (dice != NULL && strcmp(w->two_handed_damage, dice)))
        note(p, "equipment %s: two-handed damage %s, reference %s", e->index,
             w->two_handed_damage ? w->two_handed_damage : "(none)", dice ? dice : "(none)");
    if (w->normal != (int)json_integer_value(json_object_get(range, "normal")) ||
        w->long_range != (int)json_integer_value(json_object_get(range, "long")))
        note(p, "equipment %s: range %d/%d, reference %d/%d", e->index, w->normal, w->long_range,
             (int)json_integer_value(json_object_get(range, "normal")),
             (int)json_integer_value(json_object_get(range, "long")));
    if (w->throw_normal != (int)json_integer_value(json_object_get(thr, "normal")) ||
        w->throw_long != (int)json_integer_value(json_object_get(thr, "long")))
        note(p, "equipment %s: thrown %d/%d, reference %d/%d", e->index, w->throw_normal, w->throw_long,
             (int)json_integer_value(json_object_get(thr, "normal")),
             (int)json_integer_value(json_object_get(thr, "long")));
    props = json_object_get(x, "properties");
    if (json_array_size(props) != w->properties.n)
        note(p, "equipment %s: %zu properties, reference %zu", e->index, w->properties.n, json_array_size(props));
    json_array_foreach(props, j, pr)
    {
        int found = 0;
        for (size_t k = 0; k < w->properties.n; k++)
            found |= jidx(pr, "index") != NULL && strcmp(w->properties.v[k], jidx(pr, "index")) == 0;
        if (!found)
            note(p, "equipment %s: lacks the %s property", e->index, jidx(pr, "index"));
    }
}

/* Equipment and its categories; mounts and vehicles are not shipped and not compared. */
static void cross_check_equipment(const struct ruleset *rs, json_t *equipment, json_t *categories, struct problems *p)
{
    size_t i, compared = 0;
    json_t *x;
    json_array_foreach(equipment, i, x)
    {
        const char *idx = jidx(x, "index"), *main = jidx(x, "equipment_category");
        if (main != NULL && strcmp(main, "mounts-and-vehicles") == 0)
            continue;
        compared++;
        const struct rs_equipment *e = ruleset_equipment(rs, idx);
        if (e == NULL) {
            note(p, "equipment %s: missing", idx);
            continue;
        }
        if (strcmp(e->name, jstr(x, "name")) != 0)
            note(p, "equipment %s: name \"%s\", reference \"%s\"", idx, e->name, jstr(x, "name"));
        if (main == NULL || e->categories.n == 0 || strcmp(e->categories.v[0], main) != 0)
            note(p, "equipment %s: category %s, reference %s", idx, e->categories.n ? e->categories.v[0] : "(none)",
                 main);
        json_t *cost = json_object_get(x, "cost");
        if (e->cost != (int)json_integer_value(json_object_get(cost, "quantity")) ||
            strcmp(e->cost_unit, jstr(cost, "unit")) != 0)
            note(p, "equipment %s: cost %d %s, reference %d %s", idx, e->cost, e->cost_unit,
                 (int)json_integer_value(json_object_get(cost, "quantity")), jstr(cost, "unit"));
        json_t *wt = json_object_get(x, "weight");
        if (e->has_weight != (wt != NULL && !json_is_null(wt)) || (e->has_weight && e->weight != json_number_value(wt)))
            note(p, "equipment %s: weight %g, reference %g", idx, e->weight, json_number_value(wt));
        if (json_object_get(x, "armor_class") != NULL || e->armor != NULL)
            cross_check_armor(e, x, p);
        if (json_object_get(x, "weapon_category") != NULL || e->weapon != NULL)
            cross_check_weapon(e, x, p);
    }
    if (compared != rs->nequipment)
        note(p, "equipment: %zu items, reference %zu (without mounts and vehicles)", rs->nequipment, compared);

    /* membership, both ways, over the items both sides list */
    json_array_foreach(categories, i, x)
    {
        const char *cat = jidx(x, "index");
        if (ruleset_equipment_category(rs, cat) == NULL)
            continue;
        json_t *members = json_object_get(x, "equipment"), *m;
        size_t j, theirs = 0, ours = 0;
        json_array_foreach(members, j, m)
        {
            if (ruleset_equipment(rs, jidx(m, "index")) == NULL)
                continue;  /* magic items, mounts and vehicles */
            int again = 0; /* the reference lists a few items twice (standard-gear: hourglass, ink...) */
            for (size_t d = 0; d < j; d++)
                again |= strcmp(jstr(json_array_get(members, d), "index"), jidx(m, "index")) == 0;
            if (again)
                continue;
            theirs++;
            if (!ruleset_item_in_category(rs, jidx(m, "index"), cat))
                note(p, "category %s: lacks %s", cat, jidx(m, "index"));
        }
        for (size_t k = 0; k < rs->nequipment; k++)
            ours += (size_t)ruleset_item_in_category(rs, rs->equipment[k].index, cat);
        if (ours != theirs)
            note(p, "category %s: %zu items, reference %zu", cat, ours, theirs);
    }
}

static void cross_check_proficiencies(const struct ruleset *rs, json_t *profs, struct problems *p)
{
    size_t i;
    json_t *x;
    if (json_array_size(profs) != rs->nproficiencies)
        note(p, "proficiencies: %zu, reference %zu", rs->nproficiencies, json_array_size(profs));
    json_array_foreach(profs, i, x)
    {
        const char *idx = jidx(x, "index");
        const struct rs_proficiency *q = ruleset_proficiency(rs, idx);
        if (q == NULL) {
            note(p, "proficiency %s: missing", idx);
            continue;
        }
        if (strcmp(q->name, jstr(x, "name")) != 0)
            note(p, "proficiency %s: name \"%s\", reference \"%s\"", idx, q->name, jstr(x, "name"));
        if (strcmp(q->type, jstr(x, "type")) != 0)
            note(p, "proficiency %s: type \"%s\", reference \"%s\"", idx, q->type, jstr(x, "type"));
        const char *ours = q->category ? q->category : q->item ? q->item : q->skill ? q->skill : q->ability;
        const char *theirs = jidx(x, "reference");
        if (ours != NULL && (theirs == NULL || strcmp(ours, theirs) != 0))
            note(p, "proficiency %s: covers %s, reference %s", idx, ours, theirs ? theirs : "(none)");
    }
}

/*
 * Known error of the reference: its Supreme Healing (Life Domain, cleric 17)
 * has no subclass in Features.json, though Levels.json lists it at the life
 * subclass's level 17.
 */
static int reference_lacks_subclass(const char *feature)
{
    return strcmp(feature, "supreme-healing") == 0;
}

static void cross_check_features(const struct ruleset *rs, json_t *features, json_t *levels, struct problems *p)
{
    size_t i;
    json_t *x;
    for (size_t k = 0; k < rs->nfeatures; k++) {
        const struct rs_feature *f = &rs->features[k];
        json_t *r = NULL;
        json_array_foreach(features, i, x) if (jidx(x, "index") != NULL && strcmp(jidx(x, "index"), f->index) == 0) r =
            x;
        if (r == NULL) {
            note(p, "feature %s: not in the reference", f->index);
            continue;
        }
        if (strcmp(f->name, jstr(r, "name")) != 0)
            note(p, "feature %s: name \"%s\", reference \"%s\"", f->index, f->name, jstr(r, "name"));
        if (f->level != (int)json_integer_value(json_object_get(r, "level")))
            note(p, "feature %s: level %d, reference %d", f->index, f->level,
                 (int)json_integer_value(json_object_get(r, "level")));
        if (jidx(r, "class") == NULL || strcmp(f->class_index, jidx(r, "class")) != 0)
            note(p, "feature %s: class %s, reference %s", f->index, f->class_index, jidx(r, "class"));
        const char *sub = jidx(r, "subclass");
        if ((f->subclass_index == NULL) != (sub == NULL) || (sub != NULL && strcmp(sub, f->subclass_index) != 0))
            if (!(sub == NULL && reference_lacks_subclass(f->index)))
                note(p, "feature %s: subclass %s, reference %s", f->index, f->subclass_index ? f->subclass_index : "-",
                     sub ? sub : "-");
    }
    /* every feature a reference level row lists is ours, in the same row */
    json_array_foreach(levels, i, x)
    {
        const char *cidx = jidx(x, "class");
        int level = (int)json_integer_value(json_object_get(x, "level"));
        int sub = json_object_get(x, "subclass") != NULL;
        const struct rs_class_level *lv = ruleset_class_level(ruleset_class(rs, cidx), level);
        json_t *fs = json_object_get(x, "features"), *fx;
        size_t j;
        if (lv == NULL)
            continue;
        struct rs_strs ours = sub ? lv->subclass_features : lv->features;
        json_array_foreach(fs, j, fx)
        {
            int found = 0;
            for (size_t k = 0; k < ours.n; k++)
                found |= jidx(fx, "index") != NULL && strcmp(ours.v[k], jidx(fx, "index")) == 0;
            if (!found)
                note(p, "level %s%s %d: lacks feature %s", cidx, sub ? " (subclass)" : "", level, jidx(fx, "index"));
        }
    }
}

static void test_cross_check(void **state)
{
    (void)state;
    char refdir[4096];
    snprintf(refdir, sizeof(refdir), "%s/../shared/reference/5e-database-2014", top_srcdir());
    if (access(refdir, R_OK) != 0) {
        print_message("../shared absent: skipping the cross-check against 5e-database\n");
        skip();
    }
    struct ruleset *rs = load_shipped();
    struct problems *p = calloc(1, sizeof(*p));
    assert_non_null(p);
    json_t *races = load_json(refdir, "Races.json", p), *subraces = load_json(refdir, "Subraces.json", p);
    json_t *classes = load_json(refdir, "Classes.json", p), *levels = load_json(refdir, "Levels.json", p);
    json_t *skills = load_json(refdir, "Skills.json", p);
    json_t *equipment = load_json(refdir, "Equipment.json", p);
    json_t *categories = load_json(refdir, "Equipment-Categories.json", p);
    json_t *profs = load_json(refdir, "Proficiencies.json", p), *features = load_json(refdir, "Features.json", p);
    size_t i;
    json_t *x;
    int theirs[RULESET_ABILITIES];

    if (json_array_size(races) != rs->nraces)
        note(p, "races: %zu, reference %zu", rs->nraces, json_array_size(races));
    json_array_foreach(races, i, x)
    {
        const char *idx = jidx(x, "index");
        const struct rs_race *r = ruleset_race(rs, idx);
        if (r == NULL) {
            note(p, "race %s: missing", idx);
            continue;
        }
        int speed = (int)json_integer_value(json_object_get(x, "speed"));
        if (r->speed != speed)
            note(p, "race %s: speed %d, reference %d", idx, r->speed, speed);
        const char *size = json_string_value(json_object_get(x, "size"));
        if (size == NULL || strcmp(size, r->small ? "Small" : "Medium") != 0)
            note(p, "race %s: size %s, reference %s", idx, r->small ? "Small" : "Medium", size ? size : "(none)");
        char who[128];
        snprintf(who, sizeof(who), "race %s", idx);
        json_bonuses(rs, json_object_get(x, "ability_bonuses"), theirs, who, p);
        compare_bonuses(rs, r->ability_bonuses, theirs, who, p);
    }

    if (json_array_size(subraces) != rs->nsubraces)
        note(p, "subraces: %zu, reference %zu", rs->nsubraces, json_array_size(subraces));
    json_array_foreach(subraces, i, x)
    {
        const char *idx = jidx(x, "index");
        const struct rs_subrace *s = ruleset_subrace(rs, idx);
        if (s == NULL) {
            note(p, "subrace %s: missing", idx);
            continue;
        }
        if (jidx(x, "race") == NULL || strcmp(jidx(x, "race"), s->race) != 0)
            note(p, "subrace %s: race %s, reference %s", idx, s->race, jidx(x, "race"));
        char who[128];
        snprintf(who, sizeof(who), "subrace %s", idx);
        json_bonuses(rs, json_object_get(x, "ability_bonuses"), theirs, who, p);
        compare_bonuses(rs, s->ability_bonuses, theirs, who, p);
    }

    if (json_array_size(classes) != rs->nclasses)
        note(p, "classes: %zu, reference %zu", rs->nclasses, json_array_size(classes));
    json_array_foreach(classes, i, x)
    {
        const char *idx = jidx(x, "index");
        const struct rs_class *c = ruleset_class(rs, idx);
        if (c == NULL) {
            note(p, "class %s: missing", idx);
            continue;
        }
        int hd = (int)json_integer_value(json_object_get(x, "hit_die"));
        if (c->hit_die != hd)
            note(p, "class %s: hit die %d, reference %d", idx, c->hit_die, hd);
        json_t *saves = json_object_get(x, "saving_throws"), *sv;
        size_t j;
        if (json_array_size(saves) != c->saving_throws.n)
            note(p, "class %s: %zu saving throws, reference %zu", idx, c->saving_throws.n, json_array_size(saves));
        json_array_foreach(saves, j, sv)
        {
            int found = 0;
            for (size_t k = 0; k < c->saving_throws.n; k++)
                found |= jidx(sv, "index") != NULL && strcmp(c->saving_throws.v[k], jidx(sv, "index")) == 0;
            if (!found)
                note(p, "class %s: lacks the %s saving throw", idx, jidx(sv, "index"));
        }
    }

    size_t nlevels = 0;
    json_array_foreach(levels, i, x)
    {
        if (json_object_get(x, "subclass") != NULL)
            continue;
        const char *cidx = jidx(x, "class");
        int level = (int)json_integer_value(json_object_get(x, "level"));
        const struct rs_class_level *lv = ruleset_class_level(ruleset_class(rs, cidx), level);
        nlevels++;
        if (lv == NULL) {
            note(p, "level %s %d: missing", cidx, level);
            continue;
        }
        int prof = (int)json_integer_value(json_object_get(x, "prof_bonus"));
        if (lv->proficiency_bonus != prof)
            note(p, "level %s %d: proficiency bonus %d, reference %d", cidx, level, lv->proficiency_bonus, prof);
        int asis = 0;
        for (int l = 1; l <= level; l++)
            asis += ruleset_class_level(ruleset_class(rs, cidx), l)->asi;
        int ref = (int)json_integer_value(json_object_get(x, "ability_score_bonuses"));
        if (asis != ref && !(asis == ref + 1 && reference_one_short(cidx, level)))
            note(p, "level %s %d: %d ability score improvements so far, reference %d", cidx, level, asis, ref);
    }
    if (nlevels != rs->nclasses * RULESET_LEVELS)
        note(p, "levels: reference has %zu class levels, expected %zu", nlevels, rs->nclasses * RULESET_LEVELS);

    if (json_array_size(skills) != rs->nskills)
        note(p, "skills: %zu, reference %zu", rs->nskills, json_array_size(skills));
    json_array_foreach(skills, i, x)
    {
        const char *idx = jidx(x, "index");
        const struct rs_skill *s = ruleset_skill(rs, idx);
        if (s == NULL)
            note(p, "skill %s: missing", idx);
        else if (jidx(x, "ability_score") == NULL || strcmp(s->ability, jidx(x, "ability_score")) != 0)
            note(p, "skill %s: ability %s, reference %s", idx, s->ability, jidx(x, "ability_score"));
    }

    cross_check_equipment(rs, equipment, categories, p);
    cross_check_proficiencies(rs, profs, p);
    cross_check_features(rs, features, levels, p);

    json_decref(equipment);
    json_decref(categories);
    json_decref(profs);
    json_decref(features);
    json_decref(races);
    json_decref(subraces);
    json_decref(classes);
    json_decref(levels);
    json_decref(skills);
    ruleset_free(rs);
    if (p->n > 0) {
        char msg[sizeof(p->buf) + 64];
        snprintf(msg, sizeof(msg), "%zu disagreements with 5e-database:%s", p->n, p->buf);
        free(p);
        fail_msg("%s", msg);
    }
    free(p);
}

/* The ability-method numbers the engine reads are the SRD's, and the tool categories are known from the items. */
static void test_ability_methods(void **state)
{
    (void)state;
    struct ruleset *rs = load_shipped();
    const struct rs_ability_methods *m = &rs->methods;
    static const int array[RULESET_ABILITIES] = {15, 14, 13, 12, 10, 8};
    static const int cost[] = {0, 1, 2, 3, 4, 5, 7, 9}; /* SRD: scores 8..15 */

    assert_memory_equal(m->standard_array, array, sizeof(array));
    assert_int_equal(m->point_buy_min, 8);
    assert_int_equal(m->point_buy_max, 15);
    assert_int_equal(m->point_buy_budget, 27);
    assert_memory_equal(m->point_buy_cost, cost, sizeof(cost));
    assert_int_equal(m->rolled_dice, 4);
    assert_int_equal(m->rolled_sides, 6);
    assert_int_equal(m->rolled_keep, 3);
    assert_int_equal(m->manual_min, 3);
    assert_int_equal(m->manual_max, 18);
    assert_int_equal(m->score_max, 20);

    static const char *const tools[] = {"tools", "artisans-tools", "musical-instruments", "gaming-sets", "other-tools"};
    static const char *const not_tools[] = {"weapon", "armor", "adventuring-gear", "equipment-packs", "arcane-foci"};
    for (size_t i = 0; i < sizeof(tools) / sizeof(tools[0]); i++) {
        assert_non_null(ruleset_equipment_category(rs, tools[i]));
        if (!ruleset_equipment_category(rs, tools[i])->tools)
            fail_msg("%s should be a tool category", tools[i]);
    }
    for (size_t i = 0; i < sizeof(not_tools) / sizeof(not_tools[0]); i++) {
        assert_non_null(ruleset_equipment_category(rs, not_tools[i]));
        if (ruleset_equipment_category(rs, not_tools[i])->tools)
            fail_msg("%s should not be a tool category", not_tools[i]);
    }
    ruleset_free(rs);
}

/* Each inconsistency of ability-methods.yaml is refused with its position. */
static void test_bad_ability_methods(void **state)
{
    (void)state;
    static const struct {
        const char *old, *new, *want;
    } cases[] = {
        {"costs: [0, 1, 2, 3, 4, 5, 7, 9]", "costs: [0, 1, 2, 3, 5, 4, 7, 9]",
         ":18:26: costs must not fall: 4 after 5"},
        {"costs: [0, 1, 2, 3, 4, 5, 7, 9]", "costs: [0, 1, 2, 3, 4, 5, 7]", ":18:10: costs holds 8 numbers, not 7"},
        {"costs: [0, 1, 2, 3, 4, 5, 7, 9]", "costs: [1, 1, 2, 3, 4, 5, 7, 9]", ":18:10: costs start at 0"},
        {"[15, 14, 13, 12, 10, 8]", "[15, 14, 13, 12, 10]", ":12:17: standard_array holds 6 numbers, not 5"},
        {"[15, 14, 13, 12, 10, 8]", "[15, 14, 13, 12, 10, 21]", "standard_array holds 21, over score_max 20"},
        {"keep: 3", "keep: 5", "rolled keeps 5 of only 4 dice"},
        {"manual: {min: 3, max: 18}", "manual: {min: 19, max: 18}", "manual min 19 is above max 18"},
        {"max: 15", "max: 7", "point_buy spans 8..7"},
        {"score_max: 20", "score_max: 16", "manual max 18 is over score_max 16"},
        {"budget: 27", "budget: lots", "budget must be an integer"},
        {"\nrolled:", "\nrolling:", "unknown key \"rolling\" in the file"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char dir[64];
        copy_data(dir);
        patch(dir, "ability-methods.yaml", cases[i].old, cases[i].new);
        expect_failure(dir, ERR_INVALID, cases[i].want);
        remove_data(dir);
    }
}

/* ruleset_load_override(): the text replaces the named file, which must be a data file, within the size limit. */
static void test_load_override(void **state)
{
    (void)state;
    char path[4200], dir[4096], want[4200];
    struct ruleset *rs = NULL;
    struct err e = {0};

    snprintf(dir, sizeof(dir), "%s/rules/data", top_srcdir());
    snprintf(path, sizeof(path), "%s/races.yaml", dir);
    char *races = slurp(path);
    assert_non_null(races);
    char *at = strstr(races, "    speed: 25\n"); /* the dwarf's */
    assert_non_null(at);
    memcpy(at, "    speed: 35\n", 14);
    /* not NUL-terminated: the length bounds the text, and what follows it must not be read */
    size_t len = strlen(races);
    char *copy = malloc(len + 3);
    assert_non_null(copy);
    memcpy(copy, races, len);
    memcpy(copy + len, "x:[", 3);

    assert_int_equal(ruleset_load_override(dir, "races.yaml", copy, len, &rs, &e), 0);
    assert_non_null(rs);
    assert_int_equal(ruleset_race(rs, "dwarf")->speed, 35); /* the override, not the file (25) */
    assert_int_equal(ruleset_race(rs, "halfling")->speed, 25);
    ruleset_free(rs);

    /* a problem in the text is reported at its position under the data folder's name */
    rs = (struct ruleset *)1;
    memcpy(at, "    speed: 3x\n", 14);
    assert_int_equal(ruleset_load_override(dir, "races.yaml", races, strlen(races), &rs, &e), ERR_INVALID);
    assert_null(rs);
    int line = 1;
    for (const char *q = races; q < at; q++)
        line += *q == '\n';
    snprintf(want, sizeof(want), "%s/races.yaml:%d:12: speed must be an integer", dir, line);
    if (strstr(e.msg, want) == NULL)
        fail_msg("expected \"%s\" in: %s", want, e.msg);

    rs = (struct ruleset *)1;
    assert_int_equal(ruleset_load_override(dir, "spells.yaml", "spells: []\n", 11, &rs, &e), ERR_INVALID);
    assert_null(rs);
    assert_non_null(strstr(e.msg, "\"spells.yaml\" is not a data file"));

    rs = (struct ruleset *)1;
    char *big = malloc(RULESET_MAX_FILE + 1);
    assert_non_null(big);
    memset(big, '#', RULESET_MAX_FILE + 1);
    assert_int_equal(ruleset_load_override(dir, "xp.yaml", big, RULESET_MAX_FILE + 1, &rs, &e), ERR_TOO_LARGE);
    assert_null(rs);
    /* exactly at the limit is read (and refused only for what it holds: a comment, so an empty file) */
    rs = (struct ruleset *)1;
    assert_int_equal(ruleset_load_override(dir, "xp.yaml", big, RULESET_MAX_FILE, &rs, &e), ERR_INVALID);
    assert_null(rs);
    assert_non_null(strstr(e.msg, "xp.yaml: the file is empty"));
    free(big);
    free(copy);
    free(races);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_counts),
        cmocka_unit_test(test_hand_checked_facts),
        cmocka_unit_test(test_lookup_misses),
        cmocka_unit_test(test_unknown_key),
        cmocka_unit_test(test_dangling_subrace),
        cmocka_unit_test(test_dangling_skill_references),
        cmocka_unit_test(test_wrong_counts),
        cmocka_unit_test(test_bounds_and_types),
        cmocka_unit_test(test_equipment_facts),
        cmocka_unit_test(test_proficiencies_resolve),
        cmocka_unit_test(test_features),
        cmocka_unit_test(test_bad_equipment),
        cmocka_unit_test(test_bad_proficiencies),
        cmocka_unit_test(test_bad_features),
        cmocka_unit_test(test_cross_check),
        cmocka_unit_test(test_ability_methods),
        cmocka_unit_test(test_bad_ability_methods),
        cmocka_unit_test(test_load_override),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
