/*
 * rules/charcheck_advance.c - levels gained after creation (see charcheck.h
 * and charcheck_int.h): the class of each level, multiclass prerequisites and
 * the choices entering a new class grants, the hit points rolled, the ability
 * score improvement and subclass a class level brings, and then the level
 * applied to the charstate so later entries are judged against it. No
 * allocation, no I/O.
 */
#include <stdio.h>
#include <string.h>

#include "rules/charcheck.h"
#include "rules/charcheck_int.h"

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
        charcheck_skill_list(st, &a->skills, f, sc->count, from, "skills");
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
        charcheck_count(st, f, a->tools.n, tc->count, "tools");
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
        violations_add(st->v, f, charcheck_missing(st), "the class of the level gained is required");
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
            violations_add(st->v, f, charcheck_missing(st), "%s level %d grants an ability score improvement",
                           cls->name, lv);
        else
            charcheck_increase(st, &a->asi, f);
    } else if (any_asi) {
        violations_add(st->v, f, "not_allowed", "%s level %d grants no ability score improvement", cls->name, lv);
    }

    const char *subclass = NULL;
    snprintf(f, sizeof(f), "%ssubclass", prefix);
    if (cls->subclass_level == lv) {
        if (a->subclass == NULL)
            violations_add(st->v, f, charcheck_missing(st), "%s level %d chooses a subclass (%s)", cls->name, lv,
                           cls->subclass_index ? cls->subclass_index : "");
        else if (charcheck_subclass_value(st, cls, a->subclass, f))
            subclass = cls->subclass_index;
    } else if (a->subclass != NULL) {
        violations_add(st->v, f, "not_allowed", "%s chooses its subclass at level %d", cls->name, cls->subclass_level);
    }

    /* Apply the level: later entries are judged against it even when this one had problems. */
    if (cur == 0 && st->nclasses < BUILD_ADVANCE_MAX + 1) {
        st->classes[st->nclasses++] = (struct sheet_class){cls, 1, subclass};
        if (subclass != NULL)
            for (size_t j = 0; j < cls->subclass_effects.languages.n; j++)
                charcheck_grant_language(st, cls->subclass_effects.languages.v[j]);
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

void charcheck_advancement(struct charstate *st)
{
    const struct build *b = st->b;
    char prefix[48];
    size_t n = b->nadvancement;

    if (charcheck_bad(st, BF_ADVANCEMENT))
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
