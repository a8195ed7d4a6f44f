/*
 * rules/charcheck_choices.c - the free choices of a build (see charcheck_int.h):
 * a custom background's name, skills, languages and tools; the race's choices
 * (half-elf ability bonuses, extra skills, draconic ancestry, a tool, a
 * cantrip); the class's tool and instrument choices and skills; the languages
 * of choice, counted against race, subrace and background. Each choice is
 * checked against what the ruleset offers and what is already granted, and
 * marked in the charstate when it is good. No allocation, no I/O.
 */
#include <stdio.h>
#include <string.h>

#include "rules/charcheck.h"
#include "rules/charcheck_int.h"

#define CANTRIP_MAX_CHARS 64 /* no spell table yet: a cantrip is any slug this long */

/* ---- a custom background ---- */

/* A tool a custom background may grant. Until the proficiency table is loaded any slug passes. */
static int tool_known(const struct ruleset *rs, const char *t)
{
    if (rs->nproficiencies == 0)
        return charcheck_is_slug(t, 64);
    const struct rs_proficiency *p = ruleset_proficiency(rs, t);
    return p != NULL && p->type != NULL && strcmp(p->type, "Armor") != 0 && strcmp(p->type, "Weapons") != 0 &&
           strcmp(p->type, "Skills") != 0 && strcmp(p->type, "Saving Throws") != 0;
}

static void check_custom_background(struct charstate *st)
{
    const struct build *b = st->b;
    char f[128];

    if (b->custom.name == NULL) {
        violations_add(st->v, "background.name", charcheck_missing(st), "a custom background needs a name");
    } else {
        size_t chars = build_utf8_chars(b->custom.name, b->custom.name_len);
        size_t blank = 1;
        for (size_t i = 0; i < b->custom.name_len; i++)
            if (b->custom.name[i] != ' ' && b->custom.name[i] != '\t')
                blank = 0;
        if (chars == 0 || blank)
            violations_add(st->v, "background.name", "required", "background name must not be empty");
        else if (chars > BUILD_NAME_MAX_CHARS)
            violations_add(st->v, "background.name", "too_long", "background name has %zu characters; at most %d",
                           chars, BUILD_NAME_MAX_CHARS);
    }
    charcheck_skill_list(st, &b->custom.skills, "background.skills", 2, NULL, "skills for a custom background");
    for (size_t i = 0; i < b->custom.languages.n; i++) {
        snprintf(f, sizeof(f), "background.languages[%zu]", i);
        charcheck_language_pick(st, b->custom.languages.v[i], f);
    }
    for (size_t i = 0; i < b->custom.tools.n; i++) {
        snprintf(f, sizeof(f), "background.tools[%zu]", i);
        if (!tool_known(st->rs, b->custom.tools.v[i])) {
            violations_add(st->v, f, "unknown_reference", "unknown tool \"%s\"", txt(b->custom.tools.v[i]));
            continue;
        }
        for (size_t j = 0; j < i; j++)
            if (same(b->custom.tools.v[j], b->custom.tools.v[i]))
                violations_add(st->v, f, "duplicate", "\"%s\" is listed twice", b->custom.tools.v[i]);
    }
    size_t total = b->custom.languages.n + b->custom.tools.n;
    if (total > 2)
        violations_add(st->v, "background", "too_many",
                       "a custom background grants 2 languages or tools in total; %zu given", total);
    else if (total < 2)
        violations_add(st->v, "background", charcheck_few(st),
                       "a custom background grants 2 languages or tools in total; %zu given", total);
}

/* ---- race and class choices ---- */

static void check_half_elf(struct charstate *st)
{
    const struct build_list *l = &st->b->choices.ability_bonuses;
    const struct rs_race *r = st->race;
    char f[128];
    int picked[RULESET_ABILITIES] = {0};

    if (r == NULL)
        return;
    if (r->bonus_choices.count <= 0) {
        if (l->n > 0)
            violations_add(st->v, "choices.ability_bonuses", "not_allowed", "a %s chooses no ability bonuses", r->name);
        return;
    }
    for (size_t i = 0; i < l->n; i++) {
        int pos = ruleset_ability_pos(st->rs, l->v[i]);
        snprintf(f, sizeof(f), "choices.ability_bonuses[%zu]", i);
        if (pos < 0 || pos >= RULESET_ABILITIES)
            violations_add(st->v, f, "unknown_reference", "unknown ability \"%s\"", l->v[i] ? l->v[i] : "");
        else if (charcheck_in(&r->bonus_choices.from, l->v[i]))
            violations_add(st->v, f, "not_allowed", "a %s cannot add the choice bonus to \"%s\"", r->name, l->v[i]);
        else if (picked[pos])
            violations_add(st->v, f, "duplicate", "\"%s\" is chosen twice", l->v[i]);
        else if (i < (size_t)r->bonus_choices.count)
            picked[pos] = 1;
    }
    charcheck_count(st, "choices.ability_bonuses", l->n, r->bonus_choices.count, "abilities");
    for (int i = 0; i < RULESET_ABILITIES; i++)
        if (picked[i])
            st->bonus[i] += r->bonus_choice_amount;
}

static void check_tool_choice(struct charstate *st)
{
    const char *t = st->b->choices.tool;
    const struct rs_choice *c = charcheck_trait_choice(st, offsetof(struct rs_effects, tool_choices));
    if (st->race == NULL)
        return;
    if (c == NULL) {
        if (t != NULL)
            violations_add(st->v, "choices.tool", "not_allowed", "a %s chooses no tool", st->race->name);
    } else if (t == NULL) {
        violations_add(st->v, "choices.tool", charcheck_missing(st), "a %s chooses a tool proficiency", st->race->name);
    } else if (!charcheck_tool_allowed(st->rs, &c->from, t)) {
        violations_add(st->v, "choices.tool", "not_allowed", "\"%s\" is not one of the %s's tool choices", t,
                       st->race->name);
    }
}

static void check_race_choices(struct charstate *st)
{
    const struct build *b = st->b;
    if (st->race == NULL)
        return;
    check_half_elf(st);

    int nskills = charcheck_trait_sum(st, offsetof(struct rs_effects, skill_choices));
    if (nskills > 0)
        charcheck_skill_list(st, &b->choices.race_skills, "choices.race_skills", nskills, NULL, "skills");
    else if (b->choices.race_skills.n > 0)
        violations_add(st->v, "choices.race_skills", "not_allowed", "a %s chooses no extra skills", st->race->name);

    int ancestry = charcheck_trait_sum(st, offsetof(struct rs_effects, ancestry_choice));
    if (ancestry > 0) {
        if (b->choices.draconic_ancestry == NULL)
            violations_add(st->v, "choices.draconic_ancestry", charcheck_missing(st),
                           "a %s chooses a draconic ancestry", st->race->name);
        else if ((st->ancestry = ruleset_ancestry(st->rs, b->choices.draconic_ancestry)) == NULL)
            violations_add(st->v, "choices.draconic_ancestry", "unknown_reference", "unknown draconic ancestry \"%s\"",
                           b->choices.draconic_ancestry);
    } else if (b->choices.draconic_ancestry != NULL) {
        violations_add(st->v, "choices.draconic_ancestry", "not_allowed", "a %s has no draconic ancestry",
                       st->race->name);
    }

    check_tool_choice(st);

    /* There is no spell table yet, so a cantrip is accepted as any slug of at most 64 characters. */
    const struct rs_choice *cantrips = charcheck_trait_choice(st, offsetof(struct rs_effects, cantrip_choices));
    const char *c = b->choices.cantrip;
    if (cantrips != NULL) {
        if (c == NULL || *c == '\0')
            violations_add(st->v, "choices.cantrip", charcheck_missing(st), "a %s knows one cantrip of choice",
                           st->subrace ? st->subrace->name : st->race->name);
        else if (strlen(c) > CANTRIP_MAX_CHARS)
            violations_add(st->v, "choices.cantrip", "too_long", "a cantrip index has at most %d characters",
                           CANTRIP_MAX_CHARS);
        else if (!charcheck_is_slug(c, CANTRIP_MAX_CHARS))
            violations_add(st->v, "choices.cantrip", "unknown_reference", "unknown cantrip \"%s\"", c);
    } else if (c != NULL) {
        violations_add(st->v, "choices.cantrip", "not_allowed", "a %s chooses no cantrip",
                       st->subrace ? st->subrace->name : st->race->name);
    }
}

/* 1 when every category of a class's tool choice is musical instruments (the bard's "instruments"). */
static int instruments_only(const struct rs_choice *c)
{
    for (size_t i = 0; i < c->from.n; i++)
        if (strcmp(c->from.v[i], "musical-instruments") != 0)
            return 0;
    return c->from.n > 0;
}

static void check_class_choices(struct charstate *st)
{
    const struct build *b = st->b;
    const struct rs_class *cls = st->cls;
    const struct rs_choice *tc;
    char f[128];

    if (cls == NULL)
        return;
    tc = &cls->tool_choices;
    int want_list = tc->count > 0 && instruments_only(tc);
    int want_one = tc->count > 0 && !want_list;

    if (want_list) {
        const struct build_list *l = &b->choices.instruments;
        for (size_t i = 0; i < l->n; i++) {
            snprintf(f, sizeof(f), "choices.instruments[%zu]", i);
            if (!charcheck_tool_allowed(st->rs, &tc->from, l->v[i])) {
                violations_add(st->v, f, "not_allowed", "\"%s\" is not a musical instrument", txt(l->v[i]));
                continue;
            }
            for (size_t j = 0; j < i; j++)
                if (same(l->v[j], l->v[i])) {
                    violations_add(st->v, f, "duplicate", "\"%s\" is chosen twice", l->v[i]);
                    break;
                }
        }
        charcheck_count(st, "choices.instruments", l->n, tc->count, "musical instruments");
    } else if (b->choices.instruments.n > 0) {
        violations_add(st->v, "choices.instruments", "not_allowed", "a %s chooses no instruments", cls->name);
    }

    const char *t = b->choices.artisan_or_instrument;
    if (want_one) {
        if (t == NULL)
            violations_add(st->v, "choices.artisan_or_instrument", charcheck_missing(st),
                           "a %s chooses an artisan's tool or a musical instrument", cls->name);
        else if (!charcheck_tool_allowed(st->rs, &tc->from, t))
            violations_add(st->v, "choices.artisan_or_instrument", "not_allowed",
                           "\"%s\" is not an artisan's tool or a musical instrument", txt(t));
    } else if (t != NULL) {
        violations_add(st->v, "choices.artisan_or_instrument", "not_allowed", "a %s chooses no such tool", cls->name);
    }
}

static void check_class_skills(struct charstate *st)
{
    const struct build_list *l = &st->b->skills;
    const struct rs_class *cls = st->cls;
    if (cls == NULL || charcheck_bad(st, BF_SKILLS))
        return;
    const struct rs_choice *c = &cls->skill_choices;
    if (!l->present && c->count > 0) {
        violations_add(st->v, "skills", charcheck_missing(st), "a %s chooses %d skills", cls->name, c->count);
        for (size_t i = 0; i < l->n; i++) /* not expected: the mapper sets present with items */
            charcheck_grant_skill(st, l->v[i]);
        return;
    }
    charcheck_skill_list(st, l, "skills", c->count, c->any ? NULL : &c->from, "class skills");
}

static void check_languages(struct charstate *st)
{
    const struct build *b = st->b;
    const struct build_list *l = &b->languages;
    char f[128];

    if (charcheck_bad(st, BF_LANGUAGES))
        return;
    for (size_t i = 0; i < l->n; i++) {
        snprintf(f, sizeof(f), "languages[%zu]", i);
        charcheck_language_pick(st, l->v[i], f);
    }
    if (st->race == NULL || (st->background == NULL && !b->custom_background))
        return; /* the number wanted is unknown */
    int want = st->race->language_choices + charcheck_trait_sum(st, offsetof(struct rs_effects, language_choices)) +
               (st->background != NULL ? st->background->language_choices : 0);
    charcheck_count(st, "languages", l->n, want, "languages (race, subrace and background together)");
}

void charcheck_choices(struct charstate *st)
{
    const struct build *b = st->b;
    if (b->custom_background && !charcheck_bad(st, BF_BACKGROUND))
        check_custom_background(st);
    if (!charcheck_bad(st, BF_CHOICES)) {
        check_race_choices(st);
        check_class_choices(st);
    }
    check_class_skills(st);
    check_languages(st);
}
