/*
 * server/equipment.h - /v1/equipment-library and /v1/equipment[/{id}]:
 * the SRD items with the original API's equip_type plus the rows of the
 * equipment table, and custom items (name, equip_type, base_cost in gp,
 * weight in lb, base_attributes). The item checks and the item-to-rules
 * mapping are plain functions so the original API's /equipment routes and
 * server/campaigns.c use them too.
 */
#ifndef SERVER_EQUIPMENT_H
#define SERVER_EQUIPMENT_H

#include <jansson.h>

#include "rules/campaign.h"
#include "rules/ruleset.h"
#include "rules/violations.h"
#include "server/resource.h"
#include "server/routes.h"
#include "storage/store.h"

#define EQUIPMENT_NAME_MAX 100            /* bytes of a name */
#define EQUIPMENT_COST_MAX 1000000000.0   /* gp */
#define EQUIPMENT_WEIGHT_MAX 100000.0     /* lb */
#define EQUIPMENT_ATTRS_MAX 32            /* members of base_attributes */
#define EQUIPMENT_ATTRS_BYTES 4096        /* base_attributes as compact JSON */
#define EQUIPMENT_ATTRS_DEPTH 4           /* nesting inside base_attributes */

/* 1 when `t` is one of the original API's 16 equip_type values. */
int equipment_type_valid(const char *t);

/* The 16 values, NULL-terminated (for messages and the OpenAPI check). */
extern const char *const equipment_types[];

/*
 * Check a custom item body (every problem into v, field paths as given)
 * and return its normalised form {"name", "equip_type", "base_cost",
 * "weight", "base_attributes"} (new reference; defaults: base_cost 0, weight
 * 0, base_attributes {}), or NULL when v got problems. Armor types and shields
 * need base_attributes.armor_class (integer 0..30); base_attributes.str_minimum
 * and .dex_cap (integers 0..30) are optional.
 */
json_t *equipment_read(const json_t *body, struct violations *v);

/*
 * The campaign facts of a custom item document `doc` (borrowed; strings point
 * into it) into *it.
 */
void equipment_item_facts(const json_t *doc, struct campaign_item *it);

/* An SRD item as a library entry (new reference): index, name, equip_type, base_cost (gp), weight, base_attributes. */
json_t *equipment_srd_entry(const struct rs_equipment *eq);

/* The equipment item resource (server/resource.h): store kind, noun, /v1/equipment. */
extern const struct resource_desc equipment_resource;

void equipment_on_library(struct route_ctx *rc);
void equipment_on_create(struct route_ctx *rc);
void equipment_on_list(struct route_ctx *rc);
void equipment_on_get(struct route_ctx *rc);
void equipment_on_put(struct route_ctx *rc);
void equipment_on_patch(struct route_ctx *rc);
void equipment_on_delete(struct route_ctx *rc);

#endif
