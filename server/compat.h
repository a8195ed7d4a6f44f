/*
 * server/compat.h - the original Flask API's routes, kept so its clients keep
 * working: /character, /equipment, /equipment-library and /campaign with the
 * original's paths, methods, query parameters, bodies and response shapes.
 * The numbers are this project's (the SRD rules through rules/character.h and
 * rules/campaign.h), not the original's.
 *
 * Everything is stored in the /v1 tables in the /v1 document shapes, so a
 * character made by POST /character is GET /v1/characters/{id} too, and the
 * other way round; this module only maps between the two shapes (display
 * names <-> indexes from the ruleset, original field names <-> ability
 * indexes, the original's flat equipment row <-> a /v1 item with
 * base_attributes, the original's campaign fields <-> a /v1 campaign).
 *
 * Failures keep the original's statuses: 400 for bad input (a problem+json
 * body whose "errors" name every problem, with the original's field names),
 * 401 from the pipeline for a missing or wrong token, and 404 for an unknown
 * id (the original had none). Success is 200, as the original answered.
 */
#ifndef SERVER_COMPAT_H
#define SERVER_COMPAT_H

#include "server/routes.h"

#define COMPAT_LIST_MAX 1000 /* table rows in one /equipment or /equipment-library answer */

/* POST /character {"name", "race", "classname", "point_buy"}: store a character, answer the original's shape. */
void compat_on_character_post(struct route_ctx *rc);
/* GET /character?id=: {"character": {...}} of any stored character. */
void compat_on_character_get(struct route_ctx *rc);
/* GET /equipment[?id=]: {"equipment": row} or {"equipment": [custom rows]}. */
void compat_on_equipment_get(struct route_ctx *rc);
/* POST /equipment {original row}: store a custom item. */
void compat_on_equipment_post(struct route_ctx *rc);
/* GET /equipment-library[?equip_type=]: {"equipment": [SRD rows, then table rows]}. */
void compat_on_library(struct route_ctx *rc);
/* GET /campaign?id=: {"campaign": {...}}. */
void compat_on_campaign_get(struct route_ctx *rc);
/* POST /campaign?character=<id>: start a campaign for a stored character. */
void compat_on_campaign_post(struct route_ctx *rc);
/* PUT /campaign?id= {current_hp, current_xp, currently_equiped, current_pack}: change what is given. */
void compat_on_campaign_put(struct route_ctx *rc);

#endif
