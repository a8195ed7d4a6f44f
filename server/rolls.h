/*
 * server/rolls.h - /v1/rolls (a dice expression rolled with libsodium
 * randomness) and /v1/rolls/ability-scores (six 4d6-drop-lowest scores with a
 * signed roll id a "rolled" build quotes). Nothing is stored.
 */
#ifndef SERVER_ROLLS_H
#define SERVER_ROLLS_H

#include "server/routes.h"

/* POST /v1/rolls {"expression": "4d6kh3+2"}: 200 {expression, rolls, kept, modifier, total}; 422 for a bad expression.
 */
void rolls_on_roll(struct route_ctx *rc);

/* POST /v1/rolls/ability-scores (no body or {}): 200 {roll_id, scores, dice}. */
void rolls_on_ability_scores(struct route_ctx *rc);

#endif
