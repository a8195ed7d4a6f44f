/*
 * rules/character.c - see character.h. The entry points of the rules engine:
 * evaluate (charcheck.c judges, charsheet.c derives) and level-up (the
 * build's current state, then the same check as one `advancement` entry).
 * character_random() lives in charrandom.c. No allocation: the working state
 * is on the stack.
 */
#include "rules/character.h"

#include <stdint.h>
#include <string.h>

#include "rules/charcheck.h"
#include "rules/charsheet.h"
#include "rules/dice.h"

void character_evaluate(const struct ruleset *rs, const struct build_policy *p, const struct build *b,
                        enum character_mode mode, struct violations *v, struct sheet *out)
{
    struct charstate st;
    memset(&st, 0, sizeof(st));
    st.rs = rs;
    st.p = p;
    st.b = b;
    st.mode = mode;
    st.v = v;
    charcheck_run(&st);
    charsheet_derive(&st, out);
}

void character_level_up(const struct ruleset *rs, const struct build_policy *p, const struct build *b,
                        const struct level_up *req, const struct dice_rng *rng, struct violations *v,
                        struct build_advance *out)
{
    struct charstate st;
    struct violations scratch;
    struct build_policy stored = *p;
    struct build_advance e;

    memset(out, 0, sizeof(*out));
    memset(&st, 0, sizeof(st));
    violations_init(&scratch);
    /* The stored build was judged when it was written: its roll id may have expired since, and the
     * table's methods may have changed; only what the new level needs must still be usable. */
    stored.roll_ttl_s = INT64_MAX / 2;
    st.rs = rs;
    st.p = &stored;
    st.b = b;
    st.mode = CHARACTER_CREATE;
    st.v = &scratch;
    charcheck_run(&st);
    if (st.cls == NULL || !st.scores_ok) {
        violations_add(v, "build", "incomplete", "the character's class and ability scores must be complete first");
        return;
    }
    if (st.total >= BUILD_LEVEL_MAX) {
        violations_add(v, "level", "out_of_range", "the character is at level %d already", BUILD_LEVEL_MAX);
        return;
    }

    memset(&e, 0, sizeof(e));
    e.class_ = req->class_ != NULL ? req->class_ : st.cls->index;
    e.subclass = req->subclass;
    e.asi = req->asi;
    e.skills = req->skills;
    e.tools = req->tools;
    size_t before = v->n;
    if (req->roll && p->hp_method == BUILD_HP_AVERAGE)
        violations_add(v, "hit_points", "policy_forbidden", "this table takes the average hit points");
    else if (!req->roll && p->hp_method == BUILD_HP_ROLL)
        violations_add(v, "hit_points", "policy_forbidden", "this table rolls hit points");
    else if (req->roll && (rng == NULL || rng->uniform == NULL))
        violations_add(v, "hit_points", "not_allowed", "no dice to roll with");
    st.v = v;
    charcheck_advance(&st, &e, "");
    if (v->n != before || v->truncated)
        return;
    if (req->roll) {
        const struct rs_class *cls = ruleset_class(rs, e.class_);
        uint32_t r = rng->uniform(rng->ctx, (uint32_t)cls->hit_die);
        e.hit_points = (int)(r % (uint32_t)cls->hit_die) + 1;
    }
    *out = e;
}
