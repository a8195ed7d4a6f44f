/*
 * server/characters.h - the /v1/characters handlers: create (the computed
 * sheet stored with the build), validate, the filtered paginated list, GET,
 * PUT, PATCH (merge patch of the build), DELETE, level-up and the seeded
 * random character. The HTTP plumbing (load, If-Match, commit, Sync-Status)
 * is server/resource.c's; the JSON <-> build mapping server/charjson.c's; the
 * rules rules/character.c's. Nothing here touches SQLite but through
 * storage/store.h.
 */
#ifndef SERVER_CHARACTERS_H
#define SERVER_CHARACTERS_H

#include "server/resource.h"
#include "server/routes.h"

/* The character resource (server/resource.h): store kind, noun, /v1/characters, roll_reused on ERR_DUPLICATE. */
extern const struct resource_desc characters_resource;

void characters_on_create(struct route_ctx *rc);   /* POST /v1/characters */
void characters_on_validate(struct route_ctx *rc); /* POST /v1/characters/validate: 200 {valid, errors, ...} */
void characters_on_random(struct route_ctx *rc);   /* POST /v1/characters/random {"seed"} */
void characters_on_list(struct route_ctx *rc);     /* GET /v1/characters?race&class&level&name&limit&cursor */
void characters_on_get(struct route_ctx *rc);      /* GET /v1/characters/{id} (304, read-through) */
void characters_on_put(struct route_ctx *rc);      /* PUT /v1/characters/{id}: a whole new build */
void characters_on_patch(struct route_ctx *rc);    /* PATCH /v1/characters/{id}: merge patch of the build */
void characters_on_delete(struct route_ctx *rc);   /* DELETE /v1/characters/{id} */
void characters_on_level_up(struct route_ctx *rc); /* POST /v1/characters/{id}/level-up */

#endif
