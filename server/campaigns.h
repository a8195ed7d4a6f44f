/*
 * server/campaigns.h - /v1/campaigns[/{id}] and its actions (equip, unequip,
 * pack, hp, xp): a character in play. The campaign document keeps a snapshot
 * of what the rules need from its character (refreshed from the character on
 * every write while it exists) and of every item equipped or packed, so a
 * later change to a custom item or the character's deletion never breaks it.
 * The mapping functions are exported for the original API's /campaign routes.
 */
#ifndef SERVER_CAMPAIGNS_H
#define SERVER_CAMPAIGNS_H

#include <jansson.h>

#include "rules/campaign.h"
#include "rules/violations.h"
#include "server/resource.h"
#include "server/routes.h"
#include "storage/store.h"

#define CAMPAIGN_PACK_MAX 200       /* distinct items in a pack */
#define CAMPAIGN_QUANTITY_MAX 10000 /* of one item */

/*
 * The rules' view of a character document (borrowed) into *c and the
 * snapshot kept in the campaign (new reference).
 */
json_t *campaigns_character_snapshot(const struct ruleset *rs, const json_t *character);

/*
 * Resolve `ref` (an SRD equipment index or a custom item id) into an item
 * snapshot {"item", "name", "equip_type", "weight", "armor", "armor_class",
 * "dex_cap", "str_minimum"} (new reference), or NULL when no item has it
 * (ERR_NOT_FOUND) or the store fails (ERR_IO; *rc_out says which).
 */
json_t *campaigns_resolve_item(const struct ruleset *rs, struct store *s, const char *ref, int *rc_out,
                               struct err *e);

/*
 * Recompute the derived members of campaign document `doc` (borrowed,
 * changed in place): armor_class, carried_weight, carrying_capacity,
 * encumbrance, speed, warnings, level, level_up_due, next_level_xp.
 */
void campaigns_derive(const struct ruleset *rs, json_t *doc);

/* The campaign resource (server/resource.h): store kind, noun, /v1/campaigns. */
extern const struct resource_desc campaigns_resource;

/*
 * Refresh the "character" snapshot of campaign `doc` (borrowed, changed in
 * place) from its stored character while it exists (a gone character leaves
 * the snapshot as it was); current_hp falls to a lowered max_hp. In
 * write-through mode a character missing from SQLite is read through from
 * HarperDB first (resource_read_through). 0, or -1 after answering 500 or
 * parking the request.
 */
int campaigns_refresh_character(struct route_ctx *rc, json_t *doc);

void campaigns_on_create(struct route_ctx *rc);
void campaigns_on_list(struct route_ctx *rc);
void campaigns_on_get(struct route_ctx *rc);
void campaigns_on_put(struct route_ctx *rc);
void campaigns_on_patch(struct route_ctx *rc);
void campaigns_on_delete(struct route_ctx *rc);
void campaigns_on_equip(struct route_ctx *rc);
void campaigns_on_unequip(struct route_ctx *rc);
void campaigns_on_pack(struct route_ctx *rc);
void campaigns_on_hp(struct route_ctx *rc);
void campaigns_on_xp(struct route_ctx *rc);

#endif
