/*
 * rules/charcheck_scores.c - ability scores (see charcheck_int.h): the racial
 * bonuses, the six scores under the chosen method (standard array, point buy,
 * a verified roll, manual) and the table policy, and the ability score
 * improvements of a creation above level 1 and of each level gained. Every
 * number (the array, point-buy range and costs, the manual range, the score
 * cap) is the data's (rs->methods, rules/data/ability-methods.yaml); only the
 * point-buy budget is the table's (build_policy). No allocation, no I/O.
 */
#include <stdio.h>
#include <string.h>

#include "rules/charcheck.h"
#include "rules/charcheck_int.h"

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
            snprintf(f, sizeof(f), "ability_scores.assign.%s", charcheck_ability_index(st, i));
            violations_add(st->v, f, "out_of_range", "%s scores are %d..%d; %s is %d", method, lo, hi,
                           charcheck_ability_index(st, i), st->b->ability_scores.assign.v[i]);
        }
}

static void check_rolled(struct charstate *st)
{
    const struct build *b = st->b;
    const char *id = b->ability_scores.roll_id;
    struct rollid r;

    if (charcheck_bad(st, BF_ROLL_ID))
        return;
    if (id == NULL) {
        violations_add(st->v, "ability_scores.roll_id", charcheck_missing(st),
                       "rolled scores need the roll_id of the roll");
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

static void check_method(struct charstate *st)
{
    const struct build *b = st->b;
    enum build_method m = b->ability_scores.method;
    int any = 0;
    char f[128];

    for (int i = 0; i < RULESET_ABILITIES; i++)
        any |= b->ability_scores.assign.present[i];
    if (charcheck_bad(st, BF_ABILITY_SCORES))
        return;
    st->scores_ok = !charcheck_bad(st, BF_ASSIGN);
    for (int i = 0; i < RULESET_ABILITIES && !charcheck_bad(st, BF_ASSIGN); i++) {
        if (!b->ability_scores.assign.present[i]) {
            st->scores_ok = 0;
            if (any || m != BUILD_METHOD_NONE) {
                snprintf(f, sizeof(f), "ability_scores.assign.%s", charcheck_ability_index(st, i));
                violations_add(st->v, f, charcheck_missing(st), "every ability needs a score");
            }
        } else {
            int x = b->ability_scores.assign.v[i];
            st->base[i] = x < 1 ? 1 : x > 30 ? 30 : x; /* bounded for arithmetic; judged below */
        }
    }
    if (charcheck_bad(st, BF_METHOD))
        return;
    if (m == BUILD_METHOD_NONE) {
        violations_add(st->v, any ? "ability_scores.method" : "ability_scores", charcheck_missing(st),
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
    if (m != BUILD_METHOD_ROLLED && b->ability_scores.roll_id != NULL && !charcheck_bad(st, BF_ROLL_ID))
        violations_add(st->v, "ability_scores.roll_id", "not_allowed", "a roll id goes with the rolled method only");
    if (!st->scores_ok) {
        if (m == BUILD_METHOD_ROLLED)
            check_rolled(st);
        return;
    }
    const struct rs_ability_methods *am = &st->rs->methods;
    switch (m) {
    case BUILD_METHOD_STANDARD_ARRAY:
        if (!is_permutation(b->ability_scores.assign.v, am->standard_array))
            violations_add(st->v, "ability_scores.assign", "not_permutation",
                           "assign %d, %d, %d, %d, %d and %d, each once", am->standard_array[0], am->standard_array[1],
                           am->standard_array[2], am->standard_array[3], am->standard_array[4], am->standard_array[5]);
        break;
    case BUILD_METHOD_POINT_BUY: {
        int cost = 0, ok = 1;
        check_range(st, am->point_buy_min, am->point_buy_max, "point buy");
        for (int i = 0; i < RULESET_ABILITIES; i++) {
            int x = b->ability_scores.assign.v[i];
            if (x < am->point_buy_min || x > am->point_buy_max)
                ok = 0;
            else
                cost += am->point_buy_cost[x - am->point_buy_min];
        }
        if (ok && cost > st->p->point_buy_budget)
            violations_add(st->v, "ability_scores.assign", "over_budget",
                           "these scores cost %d points; the budget is %d", cost, st->p->point_buy_budget);
        break;
    }
    case BUILD_METHOD_MANUAL: check_range(st, am->manual_min, am->manual_max, "manual"); break;
    case BUILD_METHOD_ROLLED: check_rolled(st); break;
    default: break;
    }
}

void charcheck_scores_bonuses(struct charstate *st)
{
    for (int i = 0; i < RULESET_ABILITIES; i++)
        st->bonus[i] =
            (st->race ? st->race->ability_bonuses[i] : 0) + (st->subrace ? st->subrace->ability_bonuses[i] : 0);
}

/*
 * An increase at `path` ("ability_score_improvements[0].increase", "asi"):
 * +2 to one score or +1 to two, no score above the data's score_max. Applied when valid.
 */
int charcheck_increase(struct charstate *st, const struct build_scores *inc, const char *path)
{
    char f[160];
    int n = 0, sum = 0, ok = 1;

    for (int i = 0; i < RULESET_ABILITIES; i++) {
        if (!inc->present[i])
            continue;
        n++;
        if (inc->v[i] < 1 || inc->v[i] > 2) {
            snprintf(f, sizeof(f), "%s.%s", path, charcheck_ability_index(st, i));
            violations_add(st->v, f, "out_of_range", "an increase is +1 or +2, not %d", inc->v[i]);
            ok = 0;
        } else {
            sum += inc->v[i];
        }
    }
    if (n == 0) {
        violations_add(st->v, path, charcheck_missing(st), "an ability score improvement needs an increase");
        return 0;
    }
    if (ok && sum != 2) {
        violations_add(st->v, path, "out_of_range",
                       "an improvement is +2 to one score or +1 to two; these add up to %d", sum);
        ok = 0;
    }
    for (int i = 0; ok && st->scores_ok && i < RULESET_ABILITIES; i++)
        if (inc->present[i] && st->base[i] + st->bonus[i] + inc->v[i] > st->rs->methods.score_max) {
            snprintf(f, sizeof(f), "%s.%s", path, charcheck_ability_index(st, i));
            violations_add(st->v, f, "out_of_range", "this would raise %s to %d; a score is at most %d",
                           charcheck_ability_index(st, i), st->base[i] + st->bonus[i] + inc->v[i],
                           st->rs->methods.score_max);
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

    if (cls == NULL || charcheck_bad(st, BF_ASIS))
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
        charcheck_increase(st, &b->asis[j].increase, f);
    }
    for (int lv = 1; lv <= st->level; lv++) {
        const struct rs_class_level *row = ruleset_class_level(cls, lv);
        if (row != NULL && row->asi && !seen[lv])
            violations_add(st->v, "ability_score_improvements", charcheck_missing(st),
                           "the ability score improvement of %s level %d is required", cls->name, lv);
    }
}

void charcheck_scores(struct charstate *st)
{
    check_method(st);
    check_creation_asis(st);
}
