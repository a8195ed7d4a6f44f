/*
 * server/rolls.c - see rolls.h. Dice rules are rules/dice.c's; the roll id
 * rules/rollid.c's.
 */
#include "server/rolls.h"

#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include "rules/dice.h"
#include "rules/rollid.h"
#include "server/http.h"
#include "server/problem.h"

/* A JSON array of n integers (new reference). */
static json_t *int_array(const int *values, int n)
{
    json_t *a = json_array();
    for (int i = 0; i < n; i++)
        json_array_append_new(a, json_integer(values[i]));
    return a;
}

/* POST /v1/rolls {"expression": "4d6kh3+2"}: roll it with libsodium randomness. */
void rolls_on_roll(struct route_ctx *rc)
{
    static const char *const allowed[] = {"expression", NULL};
    if (routes_refuse_unknown_fields(rc, allowed))
        return;
    json_t *expr = json_object_get(rc->body, "expression");
    struct violations v;
    violations_init(&v);
    struct dice_expr e;
    struct dice_error de = {0};
    if (expr == NULL)
        violations_add(&v, "expression", "required", "expression is required, e.g. \"4d6kh3+2\"");
    else if (!json_is_string(expr))
        violations_add(&v, "expression", "wrong_type", "expression must be a string");
    else if (dice_parse(json_string_value(expr), json_string_length(expr), &e, &de) != 0)
        violations_add(&v, "expression", de.code, "%s", de.message);
    if (v.n > 0) {
        problem_send(rc->req, PROBLEM_VALIDATION, "the dice expression is not valid", &v);
        return;
    }
    struct dice_rng rng = dice_rng_sodium();
    struct dice_result r;
    if (dice_roll(&e, &rng, &r) != 0) {
        struct err err = {.code = ERR_GENERIC};
        snprintf(err.msg, sizeof(err.msg), "dice_roll refused a parsed expression");
        routes_send_internal(rc, &err);
        return;
    }
    json_t *o = json_pack("{s:O, s:o, s:o, s:i, s:i}", "expression", expr, "rolls", int_array(r.rolls, r.nrolls),
                          "kept", int_array(r.kept, r.nkept), "modifier", r.modifier, "total", r.total);
    http_send_json_value(rc->req, 200, "application/json", o);
    json_decref(o);
}

/* POST /v1/rolls/ability-scores: six 4d6-drop-lowest scores and a signed roll id for a "rolled" build. */
void rolls_on_ability_scores(struct route_ctx *rc)
{
    static const char *const allowed[] = {NULL};
    if (routes_refuse_unknown_fields(rc, allowed))
        return;
    struct dice_rng rng = dice_rng_sodium();
    int dice[6][4];
    struct rollid id = {.issued_at = (int64_t)time(NULL)};
    dice_ability_scores(&rng, dice, id.scores);
    char text[ROLLID_TEXT_MAX];
    if (rollid_issue(&id, rc->w->rt->rolls_key, text) != 0) {
        struct err err = {.code = ERR_GENERIC};
        snprintf(err.msg, sizeof(err.msg), "ability scores out of 3..18");
        routes_send_internal(rc, &err);
        return;
    }
    json_t *all = json_array();
    for (int i = 0; i < 6; i++)
        json_array_append_new(all, int_array(dice[i], 4));
    json_t *o = json_pack("{s:s, s:o, s:o}", "roll_id", text, "scores", int_array(id.scores, 6), "dice", all);
    http_send_json_value(rc->req, 200, "application/json", o);
    json_decref(o);
}
