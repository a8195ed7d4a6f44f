/*
 * rules/charcheck.c - see charcheck.h. Judges a build field by field against
 * the ruleset and the table policy, in the order a player makes the choices
 * (race, class, background, what they grant, the free choices, the ability
 * scores, the ASIs of a creation above level 1, then each level gained), so a
 * duplicate is reported on the later, free choice. Every problem is appended;
 * nothing stops at the first. No allocation, no I/O.
 */
#include "rules/charcheck.h"

#include <stdio.h>
#include <string.h>

#define CANTRIP_MAX_CHARS 64 /* no spell table yet: a cantrip is any slug this long */

/* ---- small helpers ---- */

int charcheck_in(const struct rs_strs *s, const char *x)
{
    for (size_t i = 0; x != NULL && i < s->n; i++)
        if (strcmp(s->v[i], x) == 0)
            return 1;
    return 0;
}

int charcheck_modifier(int score)
{
    return score >= 10 ? (score - 10) / 2 : -((11 - score) / 2);
}

int charcheck_score(const struct charstate *st, int i)
{
    int s = st->base[i] + st->bonus[i];
    return s > 20 ? 20 : s;
}

int charcheck_average(int die)
{
    return die / 2 + 1;
}

int charcheck_class_level(const struct charstate *st, const struct rs_class *cls)
{
    for (size_t i = 0; i < st->nclasses; i++)
        if (st->classes[i].cls == cls)
            return st->classes[i].level;
    return 0;
}

int charcheck_is_tool_category(const char *s)
{
    static const char *const categories[] = {"artisans-tools", "musical-instruments", "gaming-sets", "other-tools",
                                             "tools"};
    for (size_t i = 0; i < sizeof(categories) / sizeof(categories[0]); i++)
        if (strcmp(categories[i], s) == 0)
            return 1;
    return 0;
}

int charcheck_tool_allowed(const struct ruleset *rs, const struct rs_strs *from, const char *item)
{
    if (item == NULL)
        return 0;
    for (size_t i = 0; i < from->n; i++)
        if (charcheck_is_tool_category(from->v[i]) ? ruleset_item_in_category(rs, item, from->v[i])
                                                   : strcmp(from->v[i], item) == 0)
            return 1;
    return 0;
}

static int is_slug(const char *s, size_t max)
{
    size_t n = 0;
    if (s == NULL || *s == '\0')
        return 0;
    for (; s[n] != '\0'; n++)
        if (n >= max || !((s[n] >= 'a' && s[n] <= 'z') || (s[n] >= '0' && s[n] <= '9') || s[n] == '-'))
            return 0;
    return 1;
}

/* Text for a message: "" for NULL. */
static const char *txt(const char *s)
{
    return s != NULL ? s : "";
}

/* strcmp() == 0 that tolerates NULL. */
static int same(const char *a, const char *b)
{
    return a != NULL && b != NULL && strcmp(a, b) == 0;
}

static int bad(const struct charstate *st, enum build_field f)
{
    return (st->b->bad & (1u << f)) != 0;
}

/* The code for something absent / a list too short: "incomplete" in a draft. */
static const char *missing(const struct charstate *st)
{
    return st->mode == CHARACTER_DRAFT ? "incomplete" : "required";
}

static const char *few(const struct charstate *st)
{
    return st->mode == CHARACTER_DRAFT ? "incomplete" : "too_few";
}

static const char *ability_index(const struct charstate *st, int i)
{
    return (size_t)i < st->rs->nabilities ? st->rs->abilities[i].index : "?";
}

static int skill_pos(const struct ruleset *rs, const char *s)
{
    for (size_t i = 0; s != NULL && i < rs->nskills && i < CHAR_SKILLS_MAX; i++)
        if (strcmp(rs->skills[i].index, s) == 0)
            return (int)i;
    return -1;
}

static int language_pos(const struct ruleset *rs, const char *s)
{
    for (size_t i = 0; s != NULL && i < rs->nlanguages && i < CHAR_LANGUAGES_MAX; i++)
        if (strcmp(rs->languages[i].index, s) == 0)
            return (int)i;
    return -1;
}

static void grant_skill(struct charstate *st, const char *s)
{
    int pos = skill_pos(st->rs, s);
    if (pos >= 0)
        st->skill[pos] = 1;
}

static void grant_language(struct charstate *st, const char *s)
{
    int pos = language_pos(st->rs, s);
    if (pos >= 0)
        st->language[pos] = 1;
}

/* Every trait of the race then the subrace; returns how many (at most max). */
static size_t traits_of(const struct charstate *st, const struct rs_trait **out, size_t max)
{
    size_t n = 0;
    for (size_t i = 0; st->race != NULL && i < st->race->ntraits && n < max; i++)
        out[n++] = &st->race->traits[i];
    for (size_t i = 0; st->subrace != NULL && i < st->subrace->ntraits && n < max; i++)
        out[n++] = &st->subrace->traits[i];
    return n;
}

#define TRAITS_MAX 32

/* Sum of an integer effect over the traits; the first non-empty choice effect. */
static int trait_sum(const struct charstate *st, size_t off)
{
    const struct rs_trait *t[TRAITS_MAX];
    size_t n = traits_of(st, t, TRAITS_MAX);
    int sum = 0;
    for (size_t i = 0; i < n; i++)
        sum += *(const int *)((const char *)&t[i]->effects + off);
    return sum;
}

static const struct rs_choice *trait_choice(const struct charstate *st, size_t off)
{
    const struct rs_trait *t[TRAITS_MAX];
    size_t n = traits_of(st, t, TRAITS_MAX);
    for (size_t i = 0; i < n; i++) {
        const struct rs_choice *c = (const struct rs_choice *)((const char *)&t[i]->effects + off);
        if (c->count > 0)
            return c;
    }
    return NULL;
}

static int subclass_exists(const struct ruleset *rs, const char *s)
{
    for (size_t i = 0; i < rs->nclasses; i++)
        if (rs->classes[i].subclass_index != NULL && strcmp(rs->classes[i].subclass_index, s) == 0)
            return 1;
    return 0;
}

/* A given subclass `s` of class `cls` at `field`: 1 when it is the class's. */
static int check_subclass_value(struct charstate *st, const struct rs_class *cls, const char *s, const char *field)
{
    if (cls->subclass_index != NULL && strcmp(cls->subclass_index, s) == 0)
        return 1;
    if (subclass_exists(st->rs, s))
        violations_add(st->v, field, "not_allowed", "\"%s\" is not a subclass of %s", s, cls->name);
    else
        violations_add(st->v, field, "unknown_reference", "unknown subclass \"%s\"", s);
    return 0;
}

/* A chosen skill at `field`: known, allowed (from == NULL: any), not already proficient. Marks it. */
static void check_skill_pick(struct charstate *st, const char *s, const struct rs_strs *from, const char *field)
{
    int pos = skill_pos(st->rs, s);
    if (pos < 0) {
        violations_add(st->v, field, "unknown_reference", "unknown skill \"%s\"", s ? s : "");
        return;
    }
    if (from != NULL && !charcheck_in(from, s)) {
        violations_add(st->v, field, "not_allowed", "\"%s\" is not one of the skills to choose from", s);
        return;
    }
    if (st->skill[pos]) {
        violations_add(st->v, field, "duplicate", "already proficient in \"%s\"", s);
        return;
    }
    st->skill[pos] = 1;
}

/* The count of a list against the number wanted. */
static void check_count(struct charstate *st, const char *field, size_t n, int want, const char *what)
{
    if (n > (size_t)want)
        violations_add(st->v, field, "too_many", "choose exactly %d %s; %zu given", want, what, n);
    else if (n < (size_t)want)
        violations_add(st->v, field, n == 0 ? missing(st) : few(st), "choose exactly %d %s; %zu given", want, what, n);
}

static void check_skill_list(struct charstate *st, const struct build_list *l, const char *field, int want,
                             const struct rs_strs *from, const char *what)
{
    char f[128];
    for (size_t i = 0; i < l->n; i++) {
        snprintf(f, sizeof(f), "%s[%zu]", field, i);
        check_skill_pick(st, l->v[i], from, f);
    }
    check_count(st, field, l->n, want, what);
}

/* ---- race, class, background, alignment ---- */

static int race_has_subraces(const struct ruleset *rs, const struct rs_race *r)
{
    for (size_t i = 0; i < rs->nsubraces; i++)
        if (strcmp(rs->subraces[i].race, r->index) == 0)
            return 1;
    return 0;
}

static void check_references(struct charstate *st)
{
    const struct build *b = st->b;
    const struct ruleset *rs = st->rs;

    if (!bad(st, BF_RACE)) {
        if (b->race == NULL)
            violations_add(st->v, "race", missing(st), "race is required");
        else if ((st->race = ruleset_race(rs, b->race)) == NULL)
            violations_add(st->v, "race", "unknown_reference", "unknown race \"%s\"", b->race);
    }
    if (!bad(st, BF_SUBRACE)) {
        if (b->subrace != NULL) {
            const struct rs_subrace *s = ruleset_subrace(rs, b->subrace);
            if (s == NULL)
                violations_add(st->v, "subrace", "unknown_reference", "unknown subrace \"%s\"", b->subrace);
            else if (st->race != NULL && strcmp(s->race, st->race->index) != 0)
                violations_add(st->v, "subrace", "not_allowed", "\"%s\" is not a subrace of %s", b->subrace,
                               st->race->name);
            else if (st->race != NULL)
                st->subrace = s;
        } else if (st->race != NULL && race_has_subraces(rs, st->race)) {
            violations_add(st->v, "subrace", missing(st), "a %s needs a subrace", st->race->name);
        }
    }
    if (!bad(st, BF_CLASS)) {
        if (b->class_ == NULL)
            violations_add(st->v, "class", missing(st), "class is required");
        else if ((st->cls = ruleset_class(rs, b->class_)) == NULL)
            violations_add(st->v, "class", "unknown_reference", "unknown class \"%s\"", b->class_);
    }
    if (!bad(st, BF_SUBCLASS)) {
        const char *s = b->subclass;
        if (st->cls != NULL) {
            int due = st->cls->subclass_level >= 1 && st->cls->subclass_level <= st->level;
            if (due && s == NULL)
                violations_add(st->v, "subclass", missing(st), "a level %d %s needs a subclass (%s)", st->level,
                               st->cls->name, st->cls->subclass_index ? st->cls->subclass_index : "");
            else if (due)
                check_subclass_value(st, st->cls, s, "subclass");
            else if (s != NULL)
                violations_add(st->v, "subclass", "not_allowed", "%s chooses its subclass at level %d", st->cls->name,
                               st->cls->subclass_level);
        } else if (s != NULL && !subclass_exists(rs, s)) {
            violations_add(st->v, "subclass", "unknown_reference", "unknown subclass \"%s\"", s);
        }
    }
    if (!bad(st, BF_BACKGROUND) && !b->custom_background) {
        if (b->background == NULL)
            violations_add(st->v, "background", missing(st), "background is required");
        else if ((st->background = ruleset_background(rs, b->background)) == NULL)
            violations_add(st->v, "background", "unknown_reference", "unknown background \"%s\"", b->background);
    }
    if (!bad(st, BF_ALIGNMENT)) {
        if (b->alignment == NULL)
            violations_add(st->v, "alignment", missing(st), "alignment is required");
        else if ((st->alignment = ruleset_alignment(rs, b->alignment)) == NULL)
            violations_add(st->v, "alignment", "unknown_reference", "unknown alignment \"%s\"", b->alignment);
    }
}

/* What is granted without a choice: race and subrace skills and languages, subclass languages, background skills. */
static void grant_fixed(struct charstate *st)
{
    const struct rs_trait *t[TRAITS_MAX];
    size_t n = traits_of(st, t, TRAITS_MAX);
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < t[i]->effects.skill_proficiencies.n; j++)
            grant_skill(st, t[i]->effects.skill_proficiencies.v[j]);
    for (size_t j = 0; st->race != NULL && j < st->race->languages.n; j++)
        grant_language(st, st->race->languages.v[j]);
    if (st->cls != NULL && st->nclasses > 0 && st->classes[0].subclass != NULL)
        for (size_t j = 0; j < st->cls->subclass_effects.languages.n; j++)
            grant_language(st, st->cls->subclass_effects.languages.v[j]);
    for (size_t j = 0; st->background != NULL && j < st->background->skill_proficiencies.n; j++)
        grant_skill(st, st->background->skill_proficiencies.v[j]);
}

/* A tool a custom background may grant. Until the proficiency table is loaded any slug passes. */
static int tool_known(const struct ruleset *rs, const char *t)
{
    if (rs->nproficiencies == 0)
        return is_slug(t, 64);
    const struct rs_proficiency *p = ruleset_proficiency(rs, t);
    return p != NULL && p->type != NULL && strcmp(p->type, "Armor") != 0 && strcmp(p->type, "Weapons") != 0 &&
           strcmp(p->type, "Skills") != 0 && strcmp(p->type, "Saving Throws") != 0;
}

static void check_language_pick(struct charstate *st, const char *s, const char *field)
{
    int pos = language_pos(st->rs, s);
    if (pos < 0)
        violations_add(st->v, field, "unknown_reference", "unknown language \"%s\"", s ? s : "");
    else if (st->language[pos])
        violations_add(st->v, field, "duplicate", "\"%s\" is already known", s);
    else
        st->language[pos] = 1;
}

static void check_custom_background(struct charstate *st)
{
    const struct build *b = st->b;
    char f[128];

    if (b->custom.name == NULL) {
        violations_add(st->v, "background.name", missing(st), "a custom background needs a name");
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
    check_skill_list(st, &b->custom.skills, "background.skills", 2, NULL, "skills for a custom background");
    for (size_t i = 0; i < b->custom.languages.n; i++) {
        snprintf(f, sizeof(f), "background.languages[%zu]", i);
        check_language_pick(st, b->custom.languages.v[i], f);
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
        violations_add(st->v, "background", few(st),
                       "a custom background grants 2 languages or tools in total; %zu given", total);
}

/* ---- choices ---- */

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
    check_count(st, "choices.ability_bonuses", l->n, r->bonus_choices.count, "abilities");
    for (int i = 0; i < RULESET_ABILITIES; i++)
        if (picked[i])
            st->bonus[i] += r->bonus_choice_amount;
}

static void check_tool_choice(struct charstate *st)
{
    const char *t = st->b->choices.tool;
    const struct rs_choice *c = trait_choice(st, offsetof(struct rs_effects, tool_choices));
    if (st->race == NULL)
        return;
    if (c == NULL) {
        if (t != NULL)
            violations_add(st->v, "choices.tool", "not_allowed", "a %s chooses no tool", st->race->name);
    } else if (t == NULL) {
        violations_add(st->v, "choices.tool", missing(st), "a %s chooses a tool proficiency", st->race->name);
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

    int nskills = trait_sum(st, offsetof(struct rs_effects, skill_choices));
    if (nskills > 0)
        check_skill_list(st, &b->choices.race_skills, "choices.race_skills", nskills, NULL, "skills");
    else if (b->choices.race_skills.n > 0)
        violations_add(st->v, "choices.race_skills", "not_allowed", "a %s chooses no extra skills", st->race->name);

    int ancestry = trait_sum(st, offsetof(struct rs_effects, ancestry_choice));
    if (ancestry > 0) {
        if (b->choices.draconic_ancestry == NULL)
            violations_add(st->v, "choices.draconic_ancestry", missing(st), "a %s chooses a draconic ancestry",
                           st->race->name);
        else if ((st->ancestry = ruleset_ancestry(st->rs, b->choices.draconic_ancestry)) == NULL)
            violations_add(st->v, "choices.draconic_ancestry", "unknown_reference", "unknown draconic ancestry \"%s\"",
                           b->choices.draconic_ancestry);
    } else if (b->choices.draconic_ancestry != NULL) {
        violations_add(st->v, "choices.draconic_ancestry", "not_allowed", "a %s has no draconic ancestry",
                       st->race->name);
    }

    check_tool_choice(st);

    /* There is no spell table yet, so a cantrip is accepted as any slug of at most 64 characters. */
    const struct rs_choice *cantrips = trait_choice(st, offsetof(struct rs_effects, cantrip_choices));
    const char *c = b->choices.cantrip;
    if (cantrips != NULL) {
        if (c == NULL || *c == '\0')
            violations_add(st->v, "choices.cantrip", missing(st), "a %s knows one cantrip of choice",
                           st->subrace ? st->subrace->name : st->race->name);
        else if (strlen(c) > CANTRIP_MAX_CHARS)
            violations_add(st->v, "choices.cantrip", "too_long", "a cantrip index has at most %d characters",
                           CANTRIP_MAX_CHARS);
        else if (!is_slug(c, CANTRIP_MAX_CHARS))
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
        check_count(st, "choices.instruments", l->n, tc->count, "musical instruments");
    } else if (b->choices.instruments.n > 0) {
        violations_add(st->v, "choices.instruments", "not_allowed", "a %s chooses no instruments", cls->name);
    }

    const char *t = b->choices.artisan_or_instrument;
    if (want_one) {
        if (t == NULL)
            violations_add(st->v, "choices.artisan_or_instrument", missing(st),
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
    if (cls == NULL || bad(st, BF_SKILLS))
        return;
    const struct rs_choice *c = &cls->skill_choices;
    if (!l->present && c->count > 0) {
        violations_add(st->v, "skills", missing(st), "a %s chooses %d skills", cls->name, c->count);
        for (size_t i = 0; i < l->n; i++) /* not expected: the mapper sets present with items */
            grant_skill(st, l->v[i]);
        return;
    }
    check_skill_list(st, l, "skills", c->count, c->any ? NULL : &c->from, "class skills");
}

static void check_languages(struct charstate *st)
{
    const struct build *b = st->b;
    const struct build_list *l = &b->languages;
    char f[128];

    if (bad(st, BF_LANGUAGES))
        return;
    for (size_t i = 0; i < l->n; i++) {
        snprintf(f, sizeof(f), "languages[%zu]", i);
        check_language_pick(st, l->v[i], f);
    }
    if (st->race == NULL || (st->background == NULL && !b->custom_background))
        return; /* the number wanted is unknown */
    int want = st->race->language_choices + trait_sum(st, offsetof(struct rs_effects, language_choices)) +
               (st->background != NULL ? st->background->language_choices : 0);
    check_count(st, "languages", l->n, want, "languages (race, subrace and background together)");
}

/* ---- ability scores ---- */

static const int standard_array[RULESET_ABILITIES] = {15, 14, 13, 12, 10, 8};
static const int point_buy_cost[] = {0, 1, 2, 3, 4, 5, 7, 9}; /* scores 8..15 */

/* 1 when a[] is a permutation of want[] (six values each). */
static int is_permutation(const int *a, const int *want)
{
    int used[RULESET_ABILITIES] = {0};
    for (int i = 0; i < RULESET_ABILITIES; i++) {
        int found = 0;
        for (int j = 0; j < RULESET_ABILITIES && !found; j++)
            if (!used[j] && want[j] == a[i])
                used[j] = found = 1;
        if (!found)
            return 0;
    }
    return 1;
}

static void check_range(struct charstate *st, int lo, int hi, const char *method)
{
    char f[128];
    for (int i = 0; i < RULESET_ABILITIES; i++)
        if (st->b->ability_scores.assign.v[i] < lo || st->b->ability_scores.assign.v[i] > hi) {
            snprintf(f, sizeof(f), "ability_scores.assign.%s", ability_index(st, i));
            violations_add(st->v, f, "out_of_range", "%s scores are %d..%d; %s is %d", method, lo, hi,
                           ability_index(st, i), st->b->ability_scores.assign.v[i]);
        }
}

static void check_rolled(struct charstate *st)
{
    const struct build *b = st->b;
    const char *id = b->ability_scores.roll_id;
    struct rollid r;

    if (bad(st, BF_ROLL_ID))
        return;
    if (id == NULL) {
        violations_add(st->v, "ability_scores.roll_id", missing(st), "rolled scores need the roll_id of the roll");
        return;
    }
    if (st->p->rolls_key == NULL) {
        violations_add(st->v, "ability_scores.roll_id", "invalid_roll", "rolled scores cannot be verified here");
        return;
    }
    switch (rollid_verify(id, strlen(id), st->p->rolls_key, st->p->now, st->p->roll_ttl_s, &r)) {
    case ROLLID_OK: break;
    case ROLLID_EXPIRED:
        violations_add(st->v, "ability_scores.roll_id", "invalid_roll", "the roll id has expired; roll again");
        return;
    case ROLLID_FORGED:
        violations_add(st->v, "ability_scores.roll_id", "invalid_roll", "the roll id does not verify");
        return;
    default: violations_add(st->v, "ability_scores.roll_id", "invalid_roll", "not a roll id"); return;
    }
    rollid_nonce_hex(&r, st->roll_nonce);
    if (st->scores_ok && !is_permutation(b->ability_scores.assign.v, r.scores))
        violations_add(st->v, "ability_scores.assign", "not_permutation",
                       "assign the rolled scores %d, %d, %d, %d, %d, %d, each once", r.scores[0], r.scores[1],
                       r.scores[2], r.scores[3], r.scores[4], r.scores[5]);
}

static void check_scores(struct charstate *st)
{
    const struct build *b = st->b;
    enum build_method m = b->ability_scores.method;
    int any = 0;
    char f[128];

    for (int i = 0; i < RULESET_ABILITIES; i++)
        any |= b->ability_scores.assign.present[i];
    if (bad(st, BF_ABILITY_SCORES))
        return;
    st->scores_ok = !bad(st, BF_ASSIGN);
    for (int i = 0; i < RULESET_ABILITIES && !bad(st, BF_ASSIGN); i++) {
        if (!b->ability_scores.assign.present[i]) {
            st->scores_ok = 0;
            if (any || m != BUILD_METHOD_NONE) {
                snprintf(f, sizeof(f), "ability_scores.assign.%s", ability_index(st, i));
                violations_add(st->v, f, missing(st), "every ability needs a score");
            }
        } else {
            int x = b->ability_scores.assign.v[i];
            st->base[i] = x < 1 ? 1 : x > 30 ? 30 : x; /* bounded for arithmetic; judged below */
        }
    }
    if (bad(st, BF_METHOD))
        return;
    if (m == BUILD_METHOD_NONE) {
        violations_add(st->v, any ? "ability_scores.method" : "ability_scores", missing(st),
                       any ? "the ability score method is required" : "ability scores are required");
        return;
    }
    if (m == BUILD_METHOD_INVALID)
        return;
    if (!(st->p->methods & (1u << m))) {
        violations_add(st->v, "ability_scores.method", "policy_forbidden",
                       "the method \"%s\" is not allowed at this table", build_method_name(m));
        return;
    }
    if (m != BUILD_METHOD_ROLLED && b->ability_scores.roll_id != NULL && !bad(st, BF_ROLL_ID))
        violations_add(st->v, "ability_scores.roll_id", "not_allowed", "a roll id goes with the rolled method only");
    if (!st->scores_ok) {
        if (m == BUILD_METHOD_ROLLED)
            check_rolled(st);
        return;
    }
    switch (m) {
    case BUILD_METHOD_STANDARD_ARRAY:
        if (!is_permutation(b->ability_scores.assign.v, standard_array))
            violations_add(st->v, "ability_scores.assign", "not_permutation",
                           "assign 15, 14, 13, 12, 10 and 8, each once");
        break;
    case BUILD_METHOD_POINT_BUY: {
        int cost = 0, ok = 1;
        check_range(st, 8, 15, "point buy");
        for (int i = 0; i < RULESET_ABILITIES; i++) {
            int x = b->ability_scores.assign.v[i];
            if (x < 8 || x > 15)
                ok = 0;
            else
                cost += point_buy_cost[x - 8];
        }
        if (ok && cost > st->p->point_buy_budget)
            violations_add(st->v, "ability_scores.assign", "over_budget",
                           "these scores cost %d points; the budget is %d", cost, st->p->point_buy_budget);
        break;
    }
    case BUILD_METHOD_MANUAL: check_range(st, 3, 18, "manual"); break;
    case BUILD_METHOD_ROLLED: check_rolled(st); break;
    default: break;
    }
}

static void racial_bonuses(struct charstate *st)
{
    for (int i = 0; i < RULESET_ABILITIES; i++)
        st->bonus[i] =
            (st->race ? st->race->ability_bonuses[i] : 0) + (st->subrace ? st->subrace->ability_bonuses[i] : 0);
}

/*
 * An increase at `path` ("ability_score_improvements[0].increase", "asi"):
 * +2 to one score or +1 to two, no score above 20. Applied when valid.
 */
static int check_increase(struct charstate *st, const struct build_scores *inc, const char *path)
{
    char f[160];
    int n = 0, sum = 0, ok = 1;

    for (int i = 0; i < RULESET_ABILITIES; i++) {
        if (!inc->present[i])
            continue;
        n++;
        if (inc->v[i] < 1 || inc->v[i] > 2) {
            snprintf(f, sizeof(f), "%s.%s", path, ability_index(st, i));
            violations_add(st->v, f, "out_of_range", "an increase is +1 or +2, not %d", inc->v[i]);
            ok = 0;
        } else {
            sum += inc->v[i];
        }
    }
    if (n == 0) {
        violations_add(st->v, path, missing(st), "an ability score improvement needs an increase");
        return 0;
    }
    if (ok && sum != 2) {
        violations_add(st->v, path, "out_of_range",
                       "an improvement is +2 to one score or +1 to two; these add up to %d", sum);
        ok = 0;
    }
    for (int i = 0; ok && st->scores_ok && i < RULESET_ABILITIES; i++)
        if (inc->present[i] && st->base[i] + st->bonus[i] + inc->v[i] > 20) {
            snprintf(f, sizeof(f), "%s.%s", path, ability_index(st, i));
            violations_add(st->v, f, "out_of_range", "this would raise %s to %d; a score is at most 20",
                           ability_index(st, i), st->base[i] + st->bonus[i] + inc->v[i]);
            ok = 0;
        }
    if (ok && st->scores_ok)
        for (int i = 0; i < RULESET_ABILITIES; i++)
            if (inc->present[i])
                st->base[i] += inc->v[i];
    return ok;
}

/* ability_score_improvements of a creation above level 1: one per ASI level of the creation class reached. */
static void check_creation_asis(struct charstate *st)
{
    const struct build *b = st->b;
    const struct rs_class *cls = st->cls;
    char f[128];
    unsigned char seen[RULESET_LEVELS + 1] = {0};

    if (cls == NULL || bad(st, BF_ASIS))
        return;
    for (size_t j = 0; j < b->nasis && j < BUILD_LIST_MAX; j++) {
        int lv = b->asis[j].level;
        const struct rs_class_level *row = ruleset_class_level(cls, lv);
        snprintf(f, sizeof(f), "ability_score_improvements[%zu].level", j);
        if (row == NULL || !row->asi || lv > st->level) {
            violations_add(st->v, f, "not_allowed", "a level %d %s gains no ability score improvement at level %d",
                           st->level, cls->name, lv);
            continue;
        }
        if (seen[lv]) {
            violations_add(st->v, f, "duplicate", "level %d has an improvement already", lv);
            continue;
        }
        seen[lv] = 1;
        snprintf(f, sizeof(f), "ability_score_improvements[%zu].increase", j);
        check_increase(st, &b->asis[j].increase, f);
    }
    for (int lv = 1; lv <= st->level; lv++) {
        const struct rs_class_level *row = ruleset_class_level(cls, lv);
        if (row != NULL && row->asi && !seen[lv])
            violations_add(st->v, "ability_score_improvements", missing(st),
                           "the ability score improvement of %s level %d is required", cls->name, lv);
    }
}

/* ---- advancement ---- */

/* 1 when the current scores meet `cls`'s multiclass prerequisites; else describes them into why. */
static int meets_prereqs(const struct charstate *st, const struct rs_class *cls, char *why, size_t size)
{
    int any = 0, all = 1;
    size_t len = 0;
    why[0] = '\0';
    for (size_t i = 0; i < cls->multiclass.nprereqs; i++) {
        const struct rs_prereq *q = &cls->multiclass.prereqs[i];
        int pos = ruleset_ability_pos(st->rs, q->ability);
        int ok = pos >= 0 && pos < RULESET_ABILITIES && charcheck_score(st, pos) >= q->minimum;
        any |= ok;
        all &= ok;
        if (len < size)
            len += (size_t)snprintf(why + len, size - len, "%s%s %d",
                                    i ? (cls->multiclass.any_of ? " or " : " and ") : "", q->ability, q->minimum);
    }
    return cls->multiclass.nprereqs == 0 || (cls->multiclass.any_of ? any : all);
}

static void check_prereqs(struct charstate *st, const struct rs_class *cls, const char *field)
{
    char why[96];
    for (size_t i = 0; i < st->nclasses; i++)
        if (!meets_prereqs(st, st->classes[i].cls, why, sizeof(why)))
            violations_add(st->v, field, "prerequisite_not_met", "multiclassing out of %s needs %s",
                           st->classes[i].cls->name, why);
    if (!meets_prereqs(st, cls, why, sizeof(why)))
        violations_add(st->v, field, "prerequisite_not_met", "multiclassing into %s needs %s", cls->name, why);
}

static void check_mc_choices(struct charstate *st, const struct build_advance *a, const struct rs_class *cls,
                             const char *prefix)
{
    char f[128], g[160];
    const struct rs_choice *sc = &cls->multiclass.skill_choices, *tc = &cls->multiclass.tool_choices;

    snprintf(f, sizeof(f), "%sskills", prefix);
    if (sc->count > 0) {
        const struct rs_strs *from = sc->any                  ? NULL
                                     : sc->from.n > 0         ? &sc->from
                                     : cls->skill_choices.any ? NULL
                                                              : &cls->skill_choices.from;
        check_skill_list(st, &a->skills, f, sc->count, from, "skills");
    } else if (a->skills.n > 0) {
        violations_add(st->v, f, "not_allowed", "multiclassing into %s grants no skill choice", cls->name);
    }
    snprintf(f, sizeof(f), "%stools", prefix);
    if (tc->count > 0) {
        for (size_t i = 0; i < a->tools.n; i++) {
            snprintf(g, sizeof(g), "%s[%zu]", f, i);
            if (!charcheck_tool_allowed(st->rs, &tc->from, a->tools.v[i]))
                violations_add(st->v, g, "not_allowed", "\"%s\" is not one of the tools to choose from",
                               txt(a->tools.v[i]));
            for (size_t j = 0; j < i; j++)
                if (same(a->tools.v[j], a->tools.v[i]))
                    violations_add(st->v, g, "duplicate", "\"%s\" is chosen twice", a->tools.v[i]);
        }
        check_count(st, f, a->tools.n, tc->count, "tools");
    } else if (a->tools.n > 0) {
        violations_add(st->v, f, "not_allowed", "multiclassing into %s grants no tool choice", cls->name);
    }
}

int charcheck_advance(struct charstate *st, const struct build_advance *a, const char *prefix)
{
    char f[128];
    size_t before = st->v->n;
    const struct rs_class *cls;

    snprintf(f, sizeof(f), "%sclass", prefix);
    if (a->class_ == NULL) {
        violations_add(st->v, f, missing(st), "the class of the level gained is required");
        return 0;
    }
    if ((cls = ruleset_class(st->rs, a->class_)) == NULL) {
        violations_add(st->v, f, "unknown_reference", "unknown class \"%s\"", a->class_);
        return 0;
    }
    int cur = charcheck_class_level(st, cls), lv = cur + 1;
    if (cur == 0) {
        if (st->scores_ok)
            check_prereqs(st, cls, f);
        check_mc_choices(st, a, cls, prefix);
    } else if (a->skills.n > 0 || a->tools.n > 0) {
        snprintf(f, sizeof(f), "%s%s", prefix, a->skills.n > 0 ? "skills" : "tools");
        violations_add(st->v, f, "not_allowed", "choices are made only when entering a new class");
    }
    if (lv > RULESET_LEVELS) {
        snprintf(f, sizeof(f), "%sclass", prefix);
        violations_add(st->v, f, "out_of_range", "%s is at level %d already", cls->name, cur);
        return 0;
    }
    snprintf(f, sizeof(f), "%shit_points", prefix);
    if (a->hit_points != 0 && (a->hit_points < 1 || a->hit_points > cls->hit_die))
        violations_add(st->v, f, "out_of_range", "a rolled d%d is 1..%d, or 0 for the average", cls->hit_die,
                       cls->hit_die);

    const struct rs_class_level *row = ruleset_class_level(cls, lv);
    int any_asi = 0;
    for (int i = 0; i < RULESET_ABILITIES; i++)
        any_asi |= a->asi.present[i];
    snprintf(f, sizeof(f), "%sasi", prefix);
    if (row != NULL && row->asi) {
        if (!any_asi)
            violations_add(st->v, f, missing(st), "%s level %d grants an ability score improvement", cls->name, lv);
        else
            check_increase(st, &a->asi, f);
    } else if (any_asi) {
        violations_add(st->v, f, "not_allowed", "%s level %d grants no ability score improvement", cls->name, lv);
    }

    const char *subclass = NULL;
    snprintf(f, sizeof(f), "%ssubclass", prefix);
    if (cls->subclass_level == lv) {
        if (a->subclass == NULL)
            violations_add(st->v, f, missing(st), "%s level %d chooses a subclass (%s)", cls->name, lv,
                           cls->subclass_index ? cls->subclass_index : "");
        else if (check_subclass_value(st, cls, a->subclass, f))
            subclass = cls->subclass_index;
    } else if (a->subclass != NULL) {
        violations_add(st->v, f, "not_allowed", "%s chooses its subclass at level %d", cls->name, cls->subclass_level);
    }

    /* Apply the level: later entries are judged against it even when this one had problems. */
    if (cur == 0 && st->nclasses < BUILD_ADVANCE_MAX + 1) {
        st->classes[st->nclasses++] = (struct sheet_class){cls, 1, subclass};
        if (subclass != NULL)
            for (size_t j = 0; j < cls->subclass_effects.languages.n; j++)
                grant_language(st, cls->subclass_effects.languages.v[j]);
    } else {
        for (size_t i = 0; i < st->nclasses; i++)
            if (st->classes[i].cls == cls) {
                st->classes[i].level = lv;
                if (subclass != NULL)
                    st->classes[i].subclass = subclass;
            }
    }
    if (st->nsteps < BUILD_ADVANCE_MAX)
        st->steps[st->nsteps++] = (struct charstep){
            cls, a->hit_points >= 1 && a->hit_points <= cls->hit_die ? a->hit_points : 0, lv, cur == 0, a};
    st->total++;
    return st->v->n == before && !st->v->truncated;
}

static void check_advancement(struct charstate *st)
{
    const struct build *b = st->b;
    char prefix[48];
    size_t n = b->nadvancement;

    if (bad(st, BF_ADVANCEMENT))
        return;
    if (n > BUILD_ADVANCE_MAX)
        n = BUILD_ADVANCE_MAX;
    if ((size_t)st->level + n > BUILD_LEVEL_MAX) {
        violations_add(st->v, "advancement", "too_many", "a level %d character can gain %d more levels, not %zu",
                       st->level, BUILD_LEVEL_MAX - st->level, n);
        n = (size_t)(BUILD_LEVEL_MAX - st->level);
    }
    for (size_t j = 0; j < n; j++) {
        snprintf(prefix, sizeof(prefix), "advancement[%zu].", j);
        charcheck_advance(st, &b->advancement[j], prefix);
    }
}

void charcheck_run(struct charstate *st)
{
    const struct build *b = st->b;

    size_t first = st->v->n;
    build_validate_name_level(b, BF_NAME, st->v);
    for (size_t i = first; st->mode == CHARACTER_DRAFT && i < st->v->n; i++)
        if (strcmp(st->v->items[i].code, "required") == 0 && strcmp(st->v->items[i].field, "name") == 0 &&
            b->name == NULL)
            st->v->items[i].code = "incomplete";
    st->level = bad(st, BF_LEVEL) || b->level < BUILD_LEVEL_MIN ? 1
                : b->level > BUILD_LEVEL_MAX                    ? BUILD_LEVEL_MAX
                                                                : b->level;
    st->total = st->level;
    check_references(st);
    if (st->cls != NULL) {
        int due = st->cls->subclass_level >= 1 && st->cls->subclass_level <= st->level;
        st->classes[0] = (struct sheet_class){st->cls, st->level,
                                              due && b->subclass != NULL && st->cls->subclass_index != NULL &&
                                                      strcmp(b->subclass, st->cls->subclass_index) == 0
                                                  ? st->cls->subclass_index
                                                  : NULL};
        st->nclasses = 1;
    }
    racial_bonuses(st);
    grant_fixed(st);
    if (b->custom_background && !bad(st, BF_BACKGROUND))
        check_custom_background(st);
    if (!bad(st, BF_CHOICES)) {
        check_race_choices(st);
        check_class_choices(st);
    }
    check_class_skills(st);
    check_languages(st);
    check_scores(st);
    check_creation_asis(st);
    check_advancement(st);
}
