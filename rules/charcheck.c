/*
 * rules/charcheck.c - see charcheck.h. The walk over a build and the helpers
 * its parts share. charcheck_run() judges a build field by field against the
 * ruleset and the table policy, in the order a player makes the choices (race,
 * class, background, what they grant, the free choices, the ability scores,
 * the ASIs of a creation above level 1, then each level gained), so a
 * duplicate is reported on the later, free choice. This file resolves the
 * references (race, subrace, class, subclass, background, alignment) and the
 * fixed grants; charcheck_choices.c, charcheck_scores.c and charcheck_advance.c
 * judge the rest (see charcheck_int.h). Every problem is appended; nothing
 * stops at the first. No allocation, no I/O.
 */
#include "rules/charcheck.h"

#include <stdio.h>
#include <string.h>

#include "rules/charcheck_int.h"

/* ---- helpers of charcheck.h ---- */

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
    return s > st->rs->methods.score_max ? st->rs->methods.score_max : s;
}

/* The SRD's fixed hit points per level are half the die plus one (d8: 5): a rule, not a table, so no data file. */
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

int charcheck_is_tool_category(const struct ruleset *rs, const char *s)
{
    const struct rs_equipment_category *c = ruleset_equipment_category(rs, s);
    return c != NULL && c->tools;
}

int charcheck_tool_allowed(const struct ruleset *rs, const struct rs_strs *from, const char *item)
{
    if (item == NULL)
        return 0;
    for (size_t i = 0; i < from->n; i++)
        if (charcheck_is_tool_category(rs, from->v[i]) ? ruleset_item_in_category(rs, item, from->v[i])
                                                       : strcmp(from->v[i], item) == 0)
            return 1;
    return 0;
}

/* ---- helpers of charcheck_int.h ---- */

int charcheck_is_slug(const char *s, size_t max)
{
    size_t n = 0;
    if (s == NULL || *s == '\0')
        return 0;
    for (; s[n] != '\0'; n++)
        if (n >= max || !((s[n] >= 'a' && s[n] <= 'z') || (s[n] >= '0' && s[n] <= '9') || s[n] == '-'))
            return 0;
    return 1;
}

int charcheck_bad(const struct charstate *st, enum build_field f)
{
    return (st->b->bad & (1u << f)) != 0;
}

/* The code for something absent / a list too short: "incomplete" in a draft. */
const char *charcheck_missing(const struct charstate *st)
{
    return st->mode == CHARACTER_DRAFT ? "incomplete" : "required";
}

const char *charcheck_few(const struct charstate *st)
{
    return st->mode == CHARACTER_DRAFT ? "incomplete" : "too_few";
}

const char *charcheck_ability_index(const struct charstate *st, int i)
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

void charcheck_grant_skill(struct charstate *st, const char *s)
{
    int pos = skill_pos(st->rs, s);
    if (pos >= 0)
        st->skill[pos] = 1;
}

void charcheck_grant_language(struct charstate *st, const char *s)
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
int charcheck_trait_sum(const struct charstate *st, size_t off)
{
    const struct rs_trait *t[TRAITS_MAX];
    size_t n = traits_of(st, t, TRAITS_MAX);
    int sum = 0;
    for (size_t i = 0; i < n; i++)
        sum += *(const int *)((const char *)&t[i]->effects + off);
    return sum;
}

const struct rs_choice *charcheck_trait_choice(const struct charstate *st, size_t off)
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
int charcheck_subclass_value(struct charstate *st, const struct rs_class *cls, const char *s, const char *field)
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
void charcheck_count(struct charstate *st, const char *field, size_t n, int want, const char *what)
{
    if (n > (size_t)want)
        violations_add(st->v, field, "too_many", "choose exactly %d %s; %zu given", want, what, n);
    else if (n < (size_t)want)
        violations_add(st->v, field, n == 0 ? charcheck_missing(st) : charcheck_few(st),
                       "choose exactly %d %s; %zu given", want, what, n);
}

void charcheck_skill_list(struct charstate *st, const struct build_list *l, const char *field, int want,
                          const struct rs_strs *from, const char *what)
{
    char f[128];
    for (size_t i = 0; i < l->n; i++) {
        snprintf(f, sizeof(f), "%s[%zu]", field, i);
        check_skill_pick(st, l->v[i], from, f);
    }
    charcheck_count(st, field, l->n, want, what);
}

void charcheck_language_pick(struct charstate *st, const char *s, const char *field)
{
    int pos = language_pos(st->rs, s);
    if (pos < 0)
        violations_add(st->v, field, "unknown_reference", "unknown language \"%s\"", s ? s : "");
    else if (st->language[pos])
        violations_add(st->v, field, "duplicate", "\"%s\" is already known", s);
    else
        st->language[pos] = 1;
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

    if (!charcheck_bad(st, BF_RACE)) {
        if (b->race == NULL)
            violations_add(st->v, "race", charcheck_missing(st), "race is required");
        else if ((st->race = ruleset_race(rs, b->race)) == NULL)
            violations_add(st->v, "race", "unknown_reference", "unknown race \"%s\"", b->race);
    }
    if (!charcheck_bad(st, BF_SUBRACE)) {
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
            violations_add(st->v, "subrace", charcheck_missing(st), "a %s needs a subrace", st->race->name);
        }
    }
    if (!charcheck_bad(st, BF_CLASS)) {
        if (b->class_ == NULL)
            violations_add(st->v, "class", charcheck_missing(st), "class is required");
        else if ((st->cls = ruleset_class(rs, b->class_)) == NULL)
            violations_add(st->v, "class", "unknown_reference", "unknown class \"%s\"", b->class_);
    }
    if (!charcheck_bad(st, BF_SUBCLASS)) {
        const char *s = b->subclass;
        if (st->cls != NULL) {
            int due = st->cls->subclass_level >= 1 && st->cls->subclass_level <= st->level;
            if (due && s == NULL)
                violations_add(st->v, "subclass", charcheck_missing(st), "a level %d %s needs a subclass (%s)",
                               st->level, st->cls->name, st->cls->subclass_index ? st->cls->subclass_index : "");
            else if (due)
                charcheck_subclass_value(st, st->cls, s, "subclass");
            else if (s != NULL)
                violations_add(st->v, "subclass", "not_allowed", "%s chooses its subclass at level %d", st->cls->name,
                               st->cls->subclass_level);
        } else if (s != NULL && !subclass_exists(rs, s)) {
            violations_add(st->v, "subclass", "unknown_reference", "unknown subclass \"%s\"", s);
        }
    }
    if (!charcheck_bad(st, BF_BACKGROUND) && !b->custom_background) {
        if (b->background == NULL)
            violations_add(st->v, "background", charcheck_missing(st), "background is required");
        else if ((st->background = ruleset_background(rs, b->background)) == NULL)
            violations_add(st->v, "background", "unknown_reference", "unknown background \"%s\"", b->background);
    }
    if (!charcheck_bad(st, BF_ALIGNMENT)) {
        if (b->alignment == NULL)
            violations_add(st->v, "alignment", charcheck_missing(st), "alignment is required");
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
            charcheck_grant_skill(st, t[i]->effects.skill_proficiencies.v[j]);
    for (size_t j = 0; st->race != NULL && j < st->race->languages.n; j++)
        charcheck_grant_language(st, st->race->languages.v[j]);
    if (st->cls != NULL && st->nclasses > 0 && st->classes[0].subclass != NULL)
        for (size_t j = 0; j < st->cls->subclass_effects.languages.n; j++)
            charcheck_grant_language(st, st->cls->subclass_effects.languages.v[j]);
    for (size_t j = 0; st->background != NULL && j < st->background->skill_proficiencies.n; j++)
        charcheck_grant_skill(st, st->background->skill_proficiencies.v[j]);
}

/* ---- the walk ---- */

void charcheck_run(struct charstate *st)
{
    const struct build *b = st->b;

    size_t first = st->v->n;
    build_validate_name_level(b, BF_NAME, st->v);
    for (size_t i = first; st->mode == CHARACTER_DRAFT && i < st->v->n; i++)
        if (strcmp(st->v->items[i].code, "required") == 0 && strcmp(st->v->items[i].field, "name") == 0 &&
            b->name == NULL)
            st->v->items[i].code = "incomplete";
    st->level = charcheck_bad(st, BF_LEVEL) || b->level < BUILD_LEVEL_MIN ? 1
                : b->level > BUILD_LEVEL_MAX                              ? BUILD_LEVEL_MAX
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
    charcheck_scores_bonuses(st);
    grant_fixed(st);
    charcheck_choices(st);
    charcheck_scores(st);
    charcheck_advancement(st);
}
