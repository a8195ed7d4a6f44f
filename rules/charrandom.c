/*
 * rules/charrandom.c - character_random() (see character.h): a valid level-1
 * build drawn from a dice_rng. Every pick mirrors a rule charcheck.c
 * enforces (subrace of the race, skills not already granted, languages not
 * already known, the class's tool choices), so the build judges clean under
 * the default policy. A class whose required tool choice cannot be met from
 * the loaded tables (no musical instruments known yet) is not drawn.
 * Strings point into the ruleset or the static tables below.
 */
#include <string.h>

#include "rules/charcheck.h"
#include "rules/dice.h"

/* Names: one of eight first syllables, one of eight endings. */
#define NAME_ROW(a) a "dor", a "wen", a "rik", a "mira", a "thas", a "lin", a "gar", a "essa"
static const char *const names[] = {NAME_ROW("Al"), NAME_ROW("Bel"), NAME_ROW("Cor"), NAME_ROW("Dun"),
                                    NAME_ROW("El"), NAME_ROW("Fen"), NAME_ROW("Gil"), NAME_ROW("Hal")};
#undef NAME_ROW

/* A few SRD wizard cantrips for the high elf (there is no spell table to draw from). */
static const char *const cantrips[] = {"fire-bolt",    "light",          "mage-hand",      "prestidigitation",
                                       "ray-of-frost", "shocking-grasp", "minor-illusion", "acid-splash"};

#define NELEMS(a) (sizeof(a) / sizeof((a)[0]))

static size_t draw(const struct dice_rng *rng, size_t n)
{
    if (n <= 1)
        return 0;
    return (size_t)(rng->uniform(rng->ctx, (uint32_t)n) % (uint32_t)n);
}

static int skill_pos(const struct ruleset *rs, const char *s)
{
    for (size_t i = 0; i < rs->nskills && i < CHAR_SKILLS_MAX; i++)
        if (strcmp(rs->skills[i].index, s) == 0)
            return (int)i;
    return -1;
}

static int language_pos(const struct ruleset *rs, const char *s)
{
    for (size_t i = 0; i < rs->nlanguages && i < CHAR_LANGUAGES_MAX; i++)
        if (strcmp(rs->languages[i].index, s) == 0)
            return (int)i;
    return -1;
}

/* Append `count` skills not yet taken (from `from`, or any when NULL) to l. */
static void pick_skills(const struct ruleset *rs, const struct dice_rng *rng, unsigned char *taken,
                        const struct rs_strs *from, int count, struct build_list *l)
{
    const char *pool[CHAR_SKILLS_MAX];
    l->present = 1;
    for (int k = 0; k < count; k++) {
        size_t n = 0;
        for (size_t i = 0; i < rs->nskills && i < CHAR_SKILLS_MAX; i++)
            if (!taken[i] && (from == NULL || charcheck_in(from, rs->skills[i].index)))
                pool[n++] = rs->skills[i].index;
        if (n == 0 || l->n >= BUILD_LIST_MAX)
            return;
        const char *s = pool[draw(rng, n)];
        taken[skill_pos(rs, s)] = 1;
        l->v[l->n++] = s;
    }
}

/* Tools a choice `from` allows: items it lists, and proficiencies of the categories it lists. */
static size_t tool_pool(const struct ruleset *rs, const struct rs_strs *from, const char **pool, size_t max)
{
    size_t n = 0;
    for (size_t i = 0; i < from->n && n < max; i++)
        if (!charcheck_is_tool_category(rs, from->v[i]))
            pool[n++] = from->v[i];
    for (size_t i = 0; i < rs->nproficiencies && n < max; i++)
        if (!charcheck_in(from, rs->proficiencies[i].index) &&
            charcheck_tool_allowed(rs, from, rs->proficiencies[i].index))
            pool[n++] = rs->proficiencies[i].index;
    return n;
}

static int class_drawable(const struct ruleset *rs, const struct rs_class *c)
{
    const char *pool[64];
    return c->tool_choices.count == 0 ||
           tool_pool(rs, &c->tool_choices.from, pool, NELEMS(pool)) >= (size_t)c->tool_choices.count;
}

/* Standard array shuffled, or point buy spending the data's SRD budget (rs->methods) one random step at a time. */
static void abilities(const struct ruleset *rs, const struct dice_rng *rng, struct build *out)
{
    const struct rs_ability_methods *am = &rs->methods;
    const int *cost = am->point_buy_cost, lo = am->point_buy_min;
    int *v = out->ability_scores.assign.v;

    if (draw(rng, 2) == 0) {
        int a[RULESET_ABILITIES];
        memcpy(a, am->standard_array, sizeof(a));
        for (size_t i = RULESET_ABILITIES - 1; i > 0; i--) { /* Fisher-Yates */
            size_t j = draw(rng, i + 1);
            int t = a[i];
            a[i] = a[j];
            a[j] = t;
        }
        memcpy(v, a, sizeof(a));
        out->ability_scores.method = BUILD_METHOD_STANDARD_ARRAY;
    } else {
        int left = am->point_buy_budget;
        for (int i = 0; i < RULESET_ABILITIES; i++)
            v[i] = lo;
        for (;;) {
            int can[RULESET_ABILITIES], n = 0;
            for (int i = 0; i < RULESET_ABILITIES; i++)
                if (v[i] < am->point_buy_max && cost[v[i] + 1 - lo] - cost[v[i] - lo] <= left)
                    can[n++] = i;
            if (n == 0)
                break;
            int i = can[draw(rng, (size_t)n)];
            left -= cost[v[i] + 1 - lo] - cost[v[i] - lo];
            v[i]++;
        }
        out->ability_scores.method = BUILD_METHOD_POINT_BUY;
    }
    for (int i = 0; i < RULESET_ABILITIES; i++)
        out->ability_scores.assign.present[i] = 1;
}

void character_random(const struct ruleset *rs, const struct dice_rng *rng, struct build *out)
{
    unsigned char skill[CHAR_SKILLS_MAX] = {0}, lang[CHAR_LANGUAGES_MAX] = {0};
    const struct rs_trait *traits[64];
    size_t ntraits = 0;
    const char *pool[64];
    size_t n;

    memset(out, 0, sizeof(*out));
    out->level = 1;
    out->name = names[draw(rng, NELEMS(names))];
    out->name_len = strlen(out->name);
    if (rs->nraces == 0 || rs->nclasses == 0)
        return;

    const struct rs_race *race = &rs->races[draw(rng, rs->nraces)];
    const struct rs_subrace *sub = NULL;
    out->race = race->index;
    n = 0;
    for (size_t i = 0; i < rs->nsubraces && n < NELEMS(pool); i++)
        if (strcmp(rs->subraces[i].race, race->index) == 0)
            pool[n++] = rs->subraces[i].index;
    if (n > 0) {
        sub = ruleset_subrace(rs, pool[draw(rng, n)]);
        out->subrace = sub->index;
    }
    for (size_t i = 0; i < race->ntraits && ntraits < NELEMS(traits); i++)
        traits[ntraits++] = &race->traits[i];
    for (size_t i = 0; sub != NULL && i < sub->ntraits && ntraits < NELEMS(traits); i++)
        traits[ntraits++] = &sub->traits[i];

    const struct rs_class *drawable[64];
    size_t ncls = 0;
    for (size_t i = 0; i < rs->nclasses && ncls < NELEMS(drawable); i++)
        if (class_drawable(rs, &rs->classes[i]))
            drawable[ncls++] = &rs->classes[i];
    const struct rs_class *cls = ncls > 0 ? drawable[draw(rng, ncls)] : &rs->classes[0];
    out->class_ = cls->index;
    if (cls->subclass_level == 1)
        out->subclass = cls->subclass_index;

    const struct rs_background *bg = rs->nbackgrounds > 0 ? &rs->backgrounds[draw(rng, rs->nbackgrounds)] : NULL;
    out->background = bg ? bg->index : NULL;
    if (rs->nalignments > 0)
        out->alignment = rs->alignments[draw(rng, rs->nalignments)].index;
    abilities(rs, rng, out);

    /* What is granted without a choice. */
    int language_choices = race->language_choices + (bg ? bg->language_choices : 0), skill_choices = 0;
    for (size_t i = 0; i < race->languages.n; i++)
        if (language_pos(rs, race->languages.v[i]) >= 0)
            lang[language_pos(rs, race->languages.v[i])] = 1;
    if (out->subclass != NULL)
        for (size_t i = 0; i < cls->subclass_effects.languages.n; i++)
            if (language_pos(rs, cls->subclass_effects.languages.v[i]) >= 0)
                lang[language_pos(rs, cls->subclass_effects.languages.v[i])] = 1;
    for (size_t i = 0; bg != NULL && i < bg->skill_proficiencies.n; i++)
        if (skill_pos(rs, bg->skill_proficiencies.v[i]) >= 0)
            skill[skill_pos(rs, bg->skill_proficiencies.v[i])] = 1;
    for (size_t t = 0; t < ntraits; t++) {
        const struct rs_effects *fx = &traits[t]->effects;
        for (size_t i = 0; i < fx->skill_proficiencies.n; i++)
            if (skill_pos(rs, fx->skill_proficiencies.v[i]) >= 0)
                skill[skill_pos(rs, fx->skill_proficiencies.v[i])] = 1;
        language_choices += fx->language_choices;
        skill_choices += fx->skill_choices;
        if (fx->ancestry_choice && rs->nancestries > 0)
            out->choices.draconic_ancestry = rs->ancestries[draw(rng, rs->nancestries)].index;
        if (fx->tool_choices.count > 0 && (n = tool_pool(rs, &fx->tool_choices.from, pool, NELEMS(pool))) > 0)
            out->choices.tool = pool[draw(rng, n)];
        if (fx->cantrip_choices.count > 0)
            out->choices.cantrip = cantrips[draw(rng, NELEMS(cantrips))];
    }

    /* Half-elf ability bonuses: distinct abilities outside the excluded ones. */
    if (race->bonus_choices.count > 0) {
        for (int k = 0; k < race->bonus_choices.count; k++) {
            n = 0;
            for (size_t i = 0; i < rs->nabilities && i < RULESET_ABILITIES; i++) {
                int used = 0;
                for (size_t j = 0; j < out->choices.ability_bonuses.n; j++)
                    used |= strcmp(out->choices.ability_bonuses.v[j], rs->abilities[i].index) == 0;
                if (!used && !charcheck_in(&race->bonus_choices.from, rs->abilities[i].index))
                    pool[n++] = rs->abilities[i].index;
            }
            if (n > 0)
                out->choices.ability_bonuses.v[out->choices.ability_bonuses.n++] = pool[draw(rng, n)];
        }
        out->choices.ability_bonuses.present = 1;
    }
    /* The class's skills first (a short list), then the race's (from any skill), so both can be met. */
    pick_skills(rs, rng, skill, cls->skill_choices.any ? NULL : &cls->skill_choices.from, cls->skill_choices.count,
                &out->skills);
    if (skill_choices > 0)
        pick_skills(rs, rng, skill, NULL, skill_choices, &out->choices.race_skills);

    /* The class's tool choice. */
    if (cls->tool_choices.count > 0 && (n = tool_pool(rs, &cls->tool_choices.from, pool, NELEMS(pool))) > 0) {
        int list = 1;
        for (size_t i = 0; i < cls->tool_choices.from.n; i++)
            list &= strcmp(cls->tool_choices.from.v[i], "musical-instruments") == 0;
        if (list) {
            for (int k = 0; k < cls->tool_choices.count && n > 0; k++) {
                size_t j = draw(rng, n);
                out->choices.instruments.v[out->choices.instruments.n++] = pool[j];
                pool[j] = pool[--n];
            }
            out->choices.instruments.present = 1;
        } else {
            out->choices.artisan_or_instrument = pool[draw(rng, n)];
        }
    }

    /* Languages of choice. */
    out->languages.present = 1;
    for (int k = 0; k < language_choices; k++) {
        n = 0;
        for (size_t i = 0; i < rs->nlanguages && i < CHAR_LANGUAGES_MAX && n < NELEMS(pool); i++)
            if (!lang[i])
                pool[n++] = rs->languages[i].index;
        if (n == 0 || out->languages.n >= BUILD_LIST_MAX)
            break;
        const char *l = pool[draw(rng, n)];
        lang[language_pos(rs, l)] = 1;
        out->languages.v[out->languages.n++] = l;
    }
}
