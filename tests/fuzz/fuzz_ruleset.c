/*
 * tests/fuzz/fuzz_ruleset.c - libFuzzer target for the SRD data loader
 * (rules/ruleset.c). The first input byte picks one data file (modulo their
 * number: 0 abilities, 1 skills, 2 alignments, 3 languages, 4 xp, 5 equipment,
 * 6 proficiencies, 7 features, 8 classes, 9 races, 10 backgrounds, 11 ability
 * methods); the rest of
 * the input replaces that file's contents, and every other file is read from
 * the real rules/data (SRCDIR/rules/data, or $RULESET_DATA when set), so the
 * fuzzed file's entries are validated and cross-referenced against real data.
 * The seeds in tests/fuzz/corpus/ruleset/ start with 'A' (65, 5 mod 12:
 * equipment) to 'L' (76, 4 mod 12: xp) so that they read as text.
 *
 * Any bytes must give a ruleset or an error, never a crash, a leak, undefined
 * behaviour or a read out of bounds. A refused input leaves *out NULL and a
 * non-empty, terminated message; an accepted one must have every index of its
 * tables found again by the lookups, and every class 20 level rows in order.
 * Any violation abort()s.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "rules/ruleset.h"

#ifndef SRCDIR
#define SRCDIR "."
#endif

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const names[] = {
    "abilities.yaml", "skills.yaml",    "alignments.yaml",    "languages.yaml",
    "xp.yaml",        "equipment.yaml", "proficiencies.yaml", "features.yaml",
    "classes.yaml",   "races.yaml",     "backgrounds.yaml",   "ability-methods.yaml",
};

static const char *dir = SRCDIR "/rules/data";

static void check(int ok)
{
    if (!ok)
        abort();
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    struct ruleset *rs = NULL;
    struct err e = {0};
    const char *env = getenv("RULESET_DATA");

    (void)argc;
    (void)argv;
    if (env != NULL && env[0] != '\0')
        dir = env;
    /* the real data must load, or every input would only test the error paths */
    if (ruleset_load(dir, &rs, &e) != 0) {
        fprintf(stderr, "fuzz_ruleset: the real data in %s does not load: %s\n", dir, e.msg);
        abort();
    }
    ruleset_free(rs);
    return 0;
}

/* Each table's indexes are present and found again by its lookup. */
#define CHECK_TABLE(arr, n, lookup)                                                                                    \
    for (size_t i_ = 0; i_ < rs->n; i_++) {                                                                            \
        check(rs->arr[i_].index != NULL && rs->arr[i_].index[0] != '\0');                                              \
        check(strlen(rs->arr[i_].index) <= RULESET_MAX_STR);                                                           \
        check(lookup(rs, rs->arr[i_].index) == &rs->arr[i_]);                                                          \
    }

static void check_ruleset(const struct ruleset *rs)
{
    CHECK_TABLE(abilities, nabilities, ruleset_ability);
    CHECK_TABLE(skills, nskills, ruleset_skill);
    CHECK_TABLE(alignments, nalignments, ruleset_alignment);
    CHECK_TABLE(languages, nlanguages, ruleset_language);
    CHECK_TABLE(races, nraces, ruleset_race);
    CHECK_TABLE(subraces, nsubraces, ruleset_subrace);
    CHECK_TABLE(ancestries, nancestries, ruleset_ancestry);
    CHECK_TABLE(classes, nclasses, ruleset_class);
    CHECK_TABLE(backgrounds, nbackgrounds, ruleset_background);
    CHECK_TABLE(proficiencies, nproficiencies, ruleset_proficiency);
    CHECK_TABLE(features, nfeatures, ruleset_feature);
    CHECK_TABLE(equipment, nequipment, ruleset_equipment);
    CHECK_TABLE(equipment_categories, nequipment_categories, ruleset_equipment_category);
    CHECK_TABLE(damage_types, ndamage_types, ruleset_damage_type);
    CHECK_TABLE(weapon_properties, nweapon_properties, ruleset_weapon_property);
    check(rs->nabilities == RULESET_ABILITIES);
    for (size_t i = 0; i < rs->nabilities; i++)
        check(ruleset_ability_pos(rs, rs->abilities[i].index) == (int)i);
    for (size_t i = 0; i < rs->nsubraces; i++)
        check(ruleset_race(rs, rs->subraces[i].race) != NULL);
    for (size_t i = 0; i < rs->nclasses; i++) {
        const struct rs_class *cls = &rs->classes[i];
        check(ruleset_class_level(cls, 0) == NULL && ruleset_class_level(cls, RULESET_LEVELS + 1) == NULL);
        for (int l = 1; l <= RULESET_LEVELS; l++) {
            const struct rs_class_level *row = ruleset_class_level(cls, l);
            check(row != NULL && row->level == l);
            for (size_t f = 0; f < row->features.n; f++)
                check(ruleset_feature(rs, row->features.v[f]) != NULL);
        }
    }
    for (size_t i = 0; i < rs->nequipment; i++)
        for (size_t k = 0; k < rs->equipment[i].categories.n; k++)
            check(ruleset_item_in_category(rs, rs->equipment[i].index, rs->equipment[i].categories.v[k]));
    /* what the rules engine relies on when it indexes and compares with the ability-method numbers */
    const struct rs_ability_methods *m = &rs->methods;
    check(m->score_max >= 1 && m->point_buy_min >= 1 && m->point_buy_min <= m->point_buy_max &&
          m->point_buy_max <= m->score_max && m->point_buy_max - m->point_buy_min < RULESET_POINT_BUY_MAX_SCORES);
    check(m->point_buy_cost[0] == 0);
    for (int i = 1; i <= m->point_buy_max - m->point_buy_min; i++)
        check(m->point_buy_cost[i] >= m->point_buy_cost[i - 1]);
    for (int i = 0; i < RULESET_ABILITIES; i++)
        check(m->standard_array[i] >= 1 && m->standard_array[i] <= m->score_max);
    check(m->manual_min >= 1 && m->manual_min <= m->manual_max && m->manual_max <= m->score_max);
    check(m->rolled_keep >= 1 && m->rolled_keep <= m->rolled_dice && m->rolled_sides >= 2);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct ruleset *rs = (struct ruleset *)&rs; /* must be reset to NULL on failure */
    struct err e = {0};

    if (size == 0)
        return 0;
    const char *file = names[data[0] % (sizeof(names) / sizeof(names[0]))];
    if (ruleset_load_override(dir, file, (const char *)data + 1, size - 1, &rs, &e) != 0) {
        check(rs == NULL && e.code != 0 && memchr(e.msg, '\0', sizeof(e.msg)) != NULL && e.msg[0] != '\0');
        return 0;
    }
    check(rs != NULL);
    check_ruleset(rs);
    ruleset_free(rs);
    return 0;
}
