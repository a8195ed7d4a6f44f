/*
 * server/campaigns.c - see campaigns.h. JSON in and out; every rule is
 * rules/campaign.c's.
 */
#include "server/campaigns.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/ids.h"
#include "server/equipment.h"
#include "server/http.h"
#include "server/problem.h"
#include "server/resource.h"

const struct resource_desc campaigns_resource = {.kind = STORE_CAMPAIGNS, .noun = "campaign", .base_path = "/v1/campaigns"};
static const char *const abilities[6] = {"str", "dex", "con", "int", "wis", "cha"};
static const char *const armor_kinds[] = {"none", "light", "medium", "heavy", "shield"};
#define CLASSES_MAX 20 /* classes of one character (one per level at most) */

static int has_no_speed_penalty(const struct rs_trait *t, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (t[i].effects.heavy_armor_no_speed_penalty)
            return 1;
    return 0;
}

json_t *campaigns_character_snapshot(const struct ruleset *rs, const json_t *ch)
{
    int score[6];
    json_t *scores = json_object();
    for (int i = 0; i < 6; i++) {
        json_t *sc = json_object_get(json_object_get(json_object_get(ch, "ability_scores"), abilities[i]), "score");
        score[i] = json_is_integer(sc) && json_integer_value(sc) >= 1 && json_integer_value(sc) <= 30
                       ? (int)json_integer_value(sc)
                       : 10;
        json_object_set_new(scores, abilities[i], json_integer(score[i]));
    }
    const char *classes[CLASSES_MAX];
    size_t ncls = 0, i;
    json_t *x;
    json_array_foreach(json_object_get(ch, "classes"), i, x) {
        const char *idx = json_string_value(json_object_get(x, "index"));
        if (idx != NULL && ncls < CLASSES_MAX)
            classes[ncls++] = idx;
    }
    int prof[4] = {0, 0, 0, 0};
    json_array_foreach(json_object_get(ch, "proficiencies"), i, x) {
        const struct rs_proficiency *p = ruleset_proficiency(rs, json_string_value(json_object_get(x, "index")));
        if (p == NULL)
            continue;
        const char *cat = p->category != NULL ? p->category : "";
        prof[0] |= strcmp(cat, "light-armor") == 0 || strcmp(cat, "armor") == 0;
        prof[1] |= strcmp(cat, "medium-armor") == 0 || strcmp(cat, "armor") == 0;
        prof[2] |= strcmp(cat, "heavy-armor") == 0 || strcmp(cat, "armor") == 0;
        prof[3] |= p->item != NULL && strcmp(p->item, "shield") == 0;
    }
    int no_penalty = 0;
    const struct rs_race *race = ruleset_race(rs, json_string_value(json_object_get(json_object_get(ch, "race"), "index")));
    const struct rs_subrace *sub =
        ruleset_subrace(rs, json_string_value(json_object_get(json_object_get(ch, "subrace"), "index")));
    if (race != NULL)
        no_penalty |= has_no_speed_penalty(race->traits, race->ntraits);
    if (sub != NULL)
        no_penalty |= has_no_speed_penalty(sub->traits, sub->ntraits);
    json_t *hp = json_object_get(json_object_get(ch, "hit_points"), "max");
    json_t *level = json_object_get(ch, "level"), *speed = json_object_get(ch, "speed");
    return json_pack("{s:O?, s:I, s:I, s:I, s:o, s:{s:b, s:b, s:b, s:b}, s:i, s:i, s:b}", "name",
                     json_object_get(ch, "name"), "level", json_is_integer(level) ? json_integer_value(level) : 1,
                     "max_hp", json_is_integer(hp) ? json_integer_value(hp) : 1, "speed",
                     json_is_integer(speed) ? json_integer_value(speed) : 30, "ability_scores", scores,
                     "armor_proficiencies", "light", prof[0], "medium", prof[1], "heavy", prof[2], "shields", prof[3],
                     "unarmored_ac", campaign_unarmored_ac(rs, classes, ncls, score, 0), "unarmored_ac_with_shield",
                     campaign_unarmored_ac(rs, classes, ncls, score, 1), "heavy_armor_no_speed_penalty", no_penalty);
}

static json_t *item_snapshot(const struct campaign_item *it)
{
    return json_pack("{s:s, s:s, s:s, s:f, s:s, s:i, s:i, s:i}", "item", it->ref ? it->ref : "", "name",
                     it->name ? it->name : "", "equip_type", it->equip_type ? it->equip_type : "other", "weight",
                     it->weight, "armor", armor_kinds[it->armor], "armor_class", it->ac_base, "dex_cap", it->dex_cap,
                     "str_minimum", it->str_minimum);
}

/* An item snapshot (borrowed; strings point into it) back into the rules' struct. */
static void item_from_snapshot(const json_t *o, struct campaign_item *it)
{
    memset(it, 0, sizeof(*it));
    it->ref = json_string_value(json_object_get(o, "item"));
    it->name = json_string_value(json_object_get(o, "name"));
    it->equip_type = json_string_value(json_object_get(o, "equip_type"));
    it->weight = json_number_value(json_object_get(o, "weight"));
    const char *k = json_string_value(json_object_get(o, "armor"));
    for (int i = 0; k != NULL && i < 5; i++)
        if (strcmp(k, armor_kinds[i]) == 0)
            it->armor = (enum campaign_armor_kind)i;
    it->ac_base = (int)json_integer_value(json_object_get(o, "armor_class"));
    it->dex_cap = (int)json_integer_value(json_object_get(o, "dex_cap"));
    it->str_minimum = (int)json_integer_value(json_object_get(o, "str_minimum"));
}

json_t *campaigns_resolve_item(const struct ruleset *rs, struct store *s, const char *ref, int *rc_out, struct err *e)
{
    struct campaign_item it;
    *rc_out = 0;
    const struct rs_equipment *eq = ruleset_equipment(rs, ref);
    if (eq != NULL) {
        campaign_item_from_srd(eq, &it);
        return item_snapshot(&it);
    }
    if (!ids_is_uuid(ref, strlen(ref))) {
        *rc_out = err_set(e, ERR_NOT_FOUND, "no item %s", ref);
        return NULL;
    }
    struct store_record r;
    int rc = store_doc_get(s, STORE_EQUIPMENT, ref, strlen(ref), &r, e);
    if (rc != 0) {
        *rc_out = rc;
        return NULL;
    }
    json_t *doc = json_loadb(r.document, r.document_len, 0, NULL);
    store_row_done(s);
    if (!json_is_object(doc)) {
        json_decref(doc);
        *rc_out = err_set(e, ERR_IO, "equipment item %s: the stored document is not an object", ref);
        return NULL;
    }
    equipment_item_facts(doc, &it);
    json_t *snap = item_snapshot(&it);
    json_decref(doc);
    return snap;
}

void campaigns_derive(const struct ruleset *rs, json_t *doc)
{
    const json_t *ch = json_object_get(doc, "character");
    struct campaign_character c;
    memset(&c, 0, sizeof(c));
    for (int i = 0; i < 6; i++)
        c.score[i] = (int)json_integer_value(json_object_get(json_object_get(ch, "ability_scores"), abilities[i]));
    c.max_hp = (int)json_integer_value(json_object_get(ch, "max_hp"));
    c.level = (int)json_integer_value(json_object_get(ch, "level"));
    c.speed = (int)json_integer_value(json_object_get(ch, "speed"));
    const json_t *ap = json_object_get(ch, "armor_proficiencies");
    c.proficient[0] = json_is_true(json_object_get(ap, "light"));
    c.proficient[1] = json_is_true(json_object_get(ap, "medium"));
    c.proficient[2] = json_is_true(json_object_get(ap, "heavy"));
    c.proficient[3] = json_is_true(json_object_get(ap, "shields"));
    c.unarmored_ac = (int)json_integer_value(json_object_get(ch, "unarmored_ac"));
    c.unarmored_ac_with_shield = (int)json_integer_value(json_object_get(ch, "unarmored_ac_with_shield"));
    c.heavy_armor_no_speed_penalty = json_is_true(json_object_get(ch, "heavy_armor_no_speed_penalty"));
    struct campaign_item items[CAMPAIGN_SLOTS];
    const struct campaign_item *equipped[CAMPAIGN_SLOTS];
    json_t *eqj = json_object_get(doc, "equipped");
    for (int i = 0; i < CAMPAIGN_SLOTS; i++) {
        json_t *o = json_object_get(eqj, campaign_slot_name((enum campaign_slot)i));
        equipped[i] = NULL;
        if (json_is_object(o)) {
            item_from_snapshot(o, &items[i]);
            equipped[i] = &items[i];
        }
    }
    double pack_weight = 0;
    size_t i;
    json_t *p;
    json_array_foreach(json_object_get(doc, "pack"), i, p)
        pack_weight += json_number_value(json_object_get(p, "weight")) *
                       (double)json_integer_value(json_object_get(p, "quantity"));
    struct campaign_derived d;
    campaign_derive(&c, equipped, pack_weight, &d);
    json_t *warnings = json_array();
    for (size_t k = 0; k < d.nwarnings; k++)
        json_array_append_new(warnings, json_pack("{s:s, s:s, s:s}", "field", d.warnings[k].field, "code",
                                                  d.warnings[k].code, "message", d.warnings[k].message));
    long long xp = json_integer_value(json_object_get(doc, "current_xp"));
    int reached = campaign_level_for_xp(rs, xp);
    long long next = campaign_next_level_xp(rs, c.level);
    json_object_set_new(doc, "armor_class", json_integer(d.armor_class));
    json_object_set_new(doc, "carried_weight", json_real(d.carried_weight));
    json_object_set_new(doc, "carrying_capacity", json_integer(d.carrying_capacity));
    json_object_set_new(doc, "push_drag_lift", json_integer(d.push_drag_lift));
    json_object_set_new(doc, "encumbrance", json_string(d.encumbrance));
    json_object_set_new(doc, "speed", json_integer(d.speed));
    json_object_set_new(doc, "warnings", warnings);
    json_object_set_new(doc, "level_up_due", json_boolean(reached > c.level));
    json_object_set_new(doc, "level_by_xp", json_integer(reached));
    json_object_set_new(doc, "next_level_xp", next >= 0 ? json_integer(next) : json_null());
}

int campaigns_refresh_character(struct route_ctx *rc, json_t *doc)
{
    const char *cid = json_string_value(json_object_get(doc, "character_id"));
    if (cid == NULL || !ids_is_uuid(cid, strlen(cid)))
        return 0;
    struct store_record r;
    struct err e = {0};
    int rc_get = store_character_get(rc->w->store, cid, strlen(cid), &r, &e);
    if (rc_get == ERR_NOT_FOUND && resource_read_through(rc, STORE_CHARACTERS, cid, strlen(cid)))
        return -1; /* parked: runs again once HarperDB was asked */
    if (rc_get == ERR_NOT_FOUND)
        return 0; /* the character is gone: the campaign keeps its snapshot */
    if (rc_get != 0) {
        routes_send_internal(rc, &e);
        return -1;
    }
    json_t *ch = json_loadb(r.document, r.document_len, 0, NULL);
    store_row_done(rc->w->store);
    if (json_is_object(ch)) {
        json_t *snap = campaigns_character_snapshot(rc->w->rt->ruleset, ch);
        json_t *old = json_object_get(doc, "character");
        long long max = json_integer_value(json_object_get(snap, "max_hp"));
        if (json_integer_value(json_object_get(old, "max_hp")) != max &&
            json_integer_value(json_object_get(doc, "current_hp")) > max)
            json_object_set_new(doc, "current_hp", json_integer(max));
        json_object_set_new(doc, "character", snap);
    }
    json_decref(ch);
    return 0;
}

/* Derive and store version st->version + 1 (or a new campaign when st is NULL). */
static void save(struct route_ctx *rc, json_t *doc, const struct resource_stored *st)
{
    if (st != NULL && campaigns_refresh_character(rc, doc) != 0)
        return;
    campaigns_derive(rc->w->rt->ruleset, doc);
    struct store_record cols = {.character_id = json_string_value(json_object_get(doc, "character_id"))};
    resource_commit(rc, &campaigns_resource, doc, st, &cols);
}

static void invalid(struct route_ctx *rc, const struct violations *v)
{
    problem_send(rc->req, PROBLEM_VALIDATION, "the request is not valid", v);
}

void campaigns_on_create(struct route_ctx *rc)
{
    static const char *const allowed[] = {"character_id", NULL};
    if (routes_refuse_unknown_fields(rc, allowed))
        return;
    struct violations v;
    violations_init(&v);
    json_t *cid = json_object_get(rc->body, "character_id");
    if (cid == NULL)
        violations_add(&v, "character_id", "required", "character_id is required");
    else if (!json_is_string(cid))
        violations_add(&v, "character_id", "wrong_type", "character_id must be a string");
    if (v.n > 0) {
        invalid(rc, &v);
        return;
    }
    const char *id = json_string_value(cid);
    struct store_record r;
    struct err e = {0};
    int rc_get = ids_is_uuid(id, json_string_length(cid))
                     ? store_character_get(rc->w->store, id, json_string_length(cid), &r, &e)
                     : ERR_NOT_FOUND;
    if (rc_get == ERR_NOT_FOUND && resource_read_through(rc, STORE_CHARACTERS, id, json_string_length(cid)))
        return; /* parked: runs again once HarperDB was asked */
    if (rc_get == ERR_NOT_FOUND) {
        violations_add(&v, "character_id", "unknown_reference", "no character has that id");
        invalid(rc, &v);
        return;
    }
    if (rc_get != 0) {
        routes_send_internal(rc, &e);
        return;
    }
    json_t *ch = json_loadb(r.document, r.document_len, 0, NULL);
    store_row_done(rc->w->store);
    json_t *snap = campaigns_character_snapshot(rc->w->rt->ruleset, ch);
    json_decref(ch);
    json_t *doc = json_pack("{s:s, s:i, s:s, s:s, s:s, s:o, s:I, s:i, s:{s:n, s:n, s:n, s:n}, s:[]}", "id", "",
                            "version", 0, "created_at", "", "updated_at", "", "character_id", id, "character", snap,
                            "current_hp", json_integer_value(json_object_get(snap, "max_hp")), "current_xp", 0,
                            "equipped", "armor", "shield", "main_hand", "off_hand", "pack");
    save(rc, doc, NULL);
    json_decref(doc);
}

struct camp_query {
    char character_id[40];
};

static int camp_param(void *ctx, const char *key, const char *val, size_t vlen, struct violations *v)
{
    struct camp_query *q = ctx;
    if (strcmp(key, "character_id") != 0)
        return -1;
    if (!ids_is_uuid(val, vlen))
        violations_add(v, "character_id", "out_of_range", "character_id must be a character id (uuid)");
    else
        memcpy(q->character_id, val, vlen + 1);
    return 0;
}

void campaigns_on_list(struct route_ctx *rc)
{
    struct violations *v = h2o_mem_alloc_pool(&rc->req->pool, sizeof(*v));
    violations_init(v);
    struct resource_query q;
    struct camp_query cq = {{0}};
    resource_query_parse(rc->req, &q, camp_param, &cq, v);
    struct store_filter f = {.character_id = cq.character_id[0] ? cq.character_id : NULL};
    char next_query[64] = "";
    if (f.character_id != NULL)
        snprintf(next_query, sizeof(next_query), "character_id=%s&", f.character_id);
    resource_list(rc, &campaigns_resource, &q, v, &f, next_query);
}

void campaigns_on_get(struct route_ctx *rc)
{
    resource_get(rc, &campaigns_resource);
}

void campaigns_on_delete(struct route_ctx *rc)
{
    resource_delete(rc, &campaigns_resource);
}

/* A whole number lo..hi from body member `key` into *out; problems into v. 1 when present and valid. */
static int read_int(const json_t *body, const char *key, long long lo, long long hi, long long *out,
                    struct violations *v)
{
    json_t *x = json_object_get(body, key);
    if (x == NULL)
        return 0;
    if (!json_is_integer(x)) {
        violations_add(v, key, "wrong_type", "%s must be a whole number", key);
        return 0;
    }
    if (json_integer_value(x) < lo || json_integer_value(x) > hi) {
        violations_add(v, key, "out_of_range", "%s must be %lld..%lld", key, lo, hi);
        return 0;
    }
    *out = json_integer_value(x);
    return 1;
}

/* PUT and PATCH change current_hp and current_xp (equipment and pack change through the actions). */
static void put_state(struct route_ctx *rc, struct resource_stored *st, const json_t *body)
{
    struct violations v;
    violations_init(&v);
    static const char *const allowed[] = {"current_hp", "current_xp", NULL};
    if (!json_is_object(body)) {
        violations_add(&v, "", "wrong_type", "the request body must be a JSON object");
    } else {
        const char *key;
        json_t *val;
        json_object_foreach((json_t *)body, key, val) {
            if (strcmp(key, allowed[0]) != 0 && strcmp(key, allowed[1]) != 0)
                violations_add(&v, key, "unknown_field",
                               "unknown field \"%.60s\"; a campaign's PUT and PATCH change current_hp and current_xp; "
                               "use the actions for equipment",
                               key);
        }
    }
    long long max = json_integer_value(json_object_get(json_object_get(st->doc, "character"), "max_hp"));
    long long hp = json_integer_value(json_object_get(st->doc, "current_hp"));
    long long xp = json_integer_value(json_object_get(st->doc, "current_xp"));
    read_int(body, "current_hp", 0, max, &hp, &v);
    read_int(body, "current_xp", 0, CAMPAIGN_XP_MAX, &xp, &v);
    if (v.n > 0) {
        invalid(rc, &v);
        return;
    }
    json_object_set_new(st->doc, "current_hp", json_integer(hp));
    json_object_set_new(st->doc, "current_xp", json_integer(xp));
    save(rc, st->doc, st);
}

void campaigns_on_put(struct route_ctx *rc)
{
    struct resource_stored st;
    if (resource_load_for_write(rc, &campaigns_resource, &st) != 0)
        return;
    struct violations v;
    violations_init(&v);
    if (json_is_object(rc->body) && json_object_get(rc->body, "current_hp") == NULL)
        violations_add(&v, "current_hp", "required", "PUT replaces current_hp and current_xp: give both");
    if (json_is_object(rc->body) && json_object_get(rc->body, "current_xp") == NULL)
        violations_add(&v, "current_xp", "required", "PUT replaces current_hp and current_xp: give both");
    if (v.n > 0)
        invalid(rc, &v);
    else
        put_state(rc, &st, rc->body);
    resource_stored_release(&st);
}

void campaigns_on_patch(struct route_ctx *rc)
{
    struct resource_stored st;
    if (resource_load_for_write(rc, &campaigns_resource, &st) != 0)
        return;
    put_state(rc, &st, rc->body);
    resource_stored_release(&st);
}

/* Read a string member `key` of 1..max bytes; NULL after adding the problem. */
static const char *read_str(const json_t *o, const char *field, const char *key, size_t max, struct violations *v)
{
    json_t *x = json_object_get(o, key);
    if (x == NULL)
        violations_add(v, field, "required", "%s is required", field);
    else if (!json_is_string(x))
        violations_add(v, field, "wrong_type", "%s must be a string", field);
    else if (json_string_length(x) == 0 || json_string_length(x) > max)
        violations_add(v, field, "out_of_range", "%s must be 1..%zu bytes", field, max);
    else
        return json_string_value(x);
    return NULL;
}

/* Resolve item `ref` for field `field`: the snapshot, or NULL after answering (422 unknown_reference, 500) or
 * parking the request to read a custom item through (resource_read_through). */
static json_t *resolve(struct route_ctx *rc, const char *ref, const char *field)
{
    int rc_r = 0;
    struct err e = {0};
    json_t *snap = campaigns_resolve_item(rc->w->rt->ruleset, rc->w->store, ref, &rc_r, &e);
    if (snap != NULL)
        return snap;
    if (rc_r == ERR_NOT_FOUND && resource_read_through(rc, STORE_EQUIPMENT, ref, strlen(ref)))
        return NULL; /* a custom item another instance made: parked, runs again once HarperDB was asked */
    if (rc_r == ERR_NOT_FOUND) {
        struct violations v;
        violations_init(&v);
        violations_add(&v, field, "unknown_reference",
                       "no SRD equipment index or custom equipment item id \"%.60s\"", ref);
        invalid(rc, &v);
    } else {
        routes_send_internal(rc, &e);
    }
    return NULL;
}

/* Load {id} for an action whose body may hold `allowed` members only: 0 and *st, or -1 when answered. */
static int load_action(struct route_ctx *rc, const char *const *allowed, struct resource_stored *st)
{
    if (resource_load_for_write(rc, &campaigns_resource, st) != 0)
        return -1;
    if (routes_refuse_unknown_fields(rc, allowed)) {
        resource_stored_release(st);
        return -1;
    }
    return 0;
}

void campaigns_on_equip(struct route_ctx *rc)
{
    static const char *const allowed[] = {"item", "slot", NULL};
    struct resource_stored st;
    if (load_action(rc, allowed, &st) != 0)
        return;
    struct violations v;
    violations_init(&v);
    const char *ref = read_str(rc->body, "item", "item", 64, &v);
    const char *slot_name = read_str(rc->body, "slot", "slot", 16, &v);
    int slot = slot_name != NULL ? campaign_slot_parse(slot_name) : -1;
    if (slot_name != NULL && slot < 0)
        violations_add(&v, "slot", "out_of_range", "slot must be armor, shield, main_hand or off_hand");
    json_t *snap = NULL;
    if (v.n > 0) {
        invalid(rc, &v);
    } else if ((snap = resolve(rc, ref, "item")) != NULL) {
        struct campaign_item it;
        item_from_snapshot(snap, &it);
        if (!campaign_slot_accepts((enum campaign_slot)slot, &it)) {
            violations_add(&v, "slot", "not_allowed",
                           "%.60s cannot go in slot %s: armor goes in armor, a shield in shield, anything else in a "
                           "hand",
                           it.name != NULL ? it.name : ref, slot_name);
            invalid(rc, &v);
        } else {
            json_object_set(json_object_get(st.doc, "equipped"), slot_name, snap);
            save(rc, st.doc, &st);
        }
        json_decref(snap);
    }
    resource_stored_release(&st);
}

void campaigns_on_unequip(struct route_ctx *rc)
{
    static const char *const allowed[] = {"slot", NULL};
    struct resource_stored st;
    if (load_action(rc, allowed, &st) != 0)
        return;
    struct violations v;
    violations_init(&v);
    const char *slot_name = read_str(rc->body, "slot", "slot", 16, &v);
    if (slot_name != NULL && campaign_slot_parse(slot_name) < 0)
        violations_add(&v, "slot", "out_of_range", "slot must be armor, shield, main_hand or off_hand");
    if (v.n > 0) {
        invalid(rc, &v);
    } else {
        /* Unequipping an empty slot is not an error: the result is the same. */
        json_object_set_new(json_object_get(st.doc, "equipped"), slot_name, json_null());
        save(rc, st.doc, &st);
    }
    resource_stored_release(&st);
}

void campaigns_on_pack(struct route_ctx *rc)
{
    static const char *const allowed[] = {"add", "remove", NULL};
    struct resource_stored st;
    if (load_action(rc, allowed, &st) != 0)
        return;
    struct violations v;
    violations_init(&v);
    json_t *add = json_object_get(rc->body, "add"), *rem = json_object_get(rc->body, "remove");
    const char *op = add != NULL ? "add" : "remove";
    json_t *arg = add != NULL ? add : rem;
    if ((add == NULL) == (rem == NULL))
        violations_add(&v, "", "required", "give exactly one of add and remove");
    else if (!json_is_object(arg))
        violations_add(&v, op, "wrong_type", "%s must be an object {\"item\", \"quantity\"}", op);
    const char *ref = NULL;
    long long qty = 1;
    if (v.n == 0) {
        const char *key;
        json_t *val;
        json_object_foreach(arg, key, val) {
            if (strcmp(key, "item") != 0 && strcmp(key, "quantity") != 0)
                violations_add(&v, op, "unknown_field", "unknown field \"%.60s\" in %s; known: item, quantity", key,
                               op);
        }
        char field[32];
        snprintf(field, sizeof(field), "%s.item", op);
        ref = read_str(arg, field, "item", 64, &v);
        json_t *q = json_object_get(arg, "quantity");
        snprintf(field, sizeof(field), "%s.quantity", op);
        if (q != NULL && !json_is_integer(q))
            violations_add(&v, field, "wrong_type", "%s must be a whole number", field);
        else if (q != NULL && (json_integer_value(q) < 1 || json_integer_value(q) > CAMPAIGN_QUANTITY_MAX))
            violations_add(&v, field, "out_of_range", "%s must be 1..%d", field, CAMPAIGN_QUANTITY_MAX);
        else if (q != NULL)
            qty = json_integer_value(q);
    }
    if (v.n > 0) {
        invalid(rc, &v);
        resource_stored_release(&st);
        return;
    }
    json_t *pack = json_object_get(st.doc, "pack");
    size_t at = json_array_size(pack), i;
    json_t *entry;
    json_array_foreach(pack, i, entry)
        if (strcmp(json_string_value(json_object_get(entry, "item")) ? json_string_value(json_object_get(entry, "item")) : "",
                   ref) == 0)
            at = i;
    long long have = at < json_array_size(pack) ? json_integer_value(json_object_get(json_array_get(pack, at), "quantity")) : 0;
    char field[32];
    snprintf(field, sizeof(field), "%s.quantity", op);
    if (add != NULL) {
        if (have + qty > CAMPAIGN_QUANTITY_MAX) {
            violations_add(&v, field, "out_of_range", "the pack would hold more than %d of that item",
                           CAMPAIGN_QUANTITY_MAX);
        } else if (at < json_array_size(pack)) {
            json_object_set_new(json_array_get(pack, at), "quantity", json_integer(have + qty));
        } else if (json_array_size(pack) >= CAMPAIGN_PACK_MAX) {
            violations_add(&v, "add.item", "too_many", "a pack holds at most %d different items", CAMPAIGN_PACK_MAX);
        } else {
            json_t *snap = resolve(rc, ref, "add.item");
            if (snap == NULL) {
                resource_stored_release(&st);
                return;
            }
            json_t *e2 = json_pack("{s:O, s:O, s:O, s:I}", "item", json_object_get(snap, "item"), "name",
                                   json_object_get(snap, "name"), "weight", json_object_get(snap, "weight"),
                                   "quantity", (json_int_t)qty);
            json_array_append_new(pack, e2);
            json_decref(snap);
        }
    } else if (have == 0) {
        violations_add(&v, "remove.item", "unknown_reference", "the pack holds no \"%.60s\"", ref);
    } else if (qty > have) {
        violations_add(&v, field, "out_of_range", "the pack holds only %lld of that item", have);
    } else if (qty == have) {
        json_array_remove(pack, at);
    } else {
        json_object_set_new(json_array_get(pack, at), "quantity", json_integer(have - qty));
    }
    if (v.n > 0)
        invalid(rc, &v);
    else
        save(rc, st.doc, &st);
    resource_stored_release(&st);
}

void campaigns_on_hp(struct route_ctx *rc)
{
    static const char *const allowed[] = {"damage", "heal", NULL};
    struct resource_stored st;
    if (load_action(rc, allowed, &st) != 0)
        return;
    struct violations v;
    violations_init(&v);
    long long dmg = 0, heal = 0;
    int has = read_int(rc->body, "damage", 0, CAMPAIGN_AMOUNT_MAX, &dmg, &v);
    has += read_int(rc->body, "heal", 0, CAMPAIGN_AMOUNT_MAX, &heal, &v);
    if (v.n == 0 && has == 0)
        violations_add(&v, "", "required", "give damage or heal (a whole number 0..%lld)", CAMPAIGN_AMOUNT_MAX);
    if (v.n > 0) {
        invalid(rc, &v);
    } else {
        int max = (int)json_integer_value(json_object_get(json_object_get(st.doc, "character"), "max_hp"));
        int cur = (int)json_integer_value(json_object_get(st.doc, "current_hp"));
        json_object_set_new(st.doc, "current_hp", json_integer(campaign_hp_apply(cur, max, dmg, heal)));
        save(rc, st.doc, &st);
    }
    resource_stored_release(&st);
}

void campaigns_on_xp(struct route_ctx *rc)
{
    static const char *const allowed[] = {"award", NULL};
    struct resource_stored st;
    if (load_action(rc, allowed, &st) != 0)
        return;
    struct violations v;
    violations_init(&v);
    long long award = 0;
    if (!read_int(rc->body, "award", 0, CAMPAIGN_AMOUNT_MAX, &award, &v) && v.n == 0)
        violations_add(&v, "award", "required", "award is required (a whole number 0..%lld)", CAMPAIGN_AMOUNT_MAX);
    long long xp = json_integer_value(json_object_get(st.doc, "current_xp"));
    if (v.n == 0 && xp + award > CAMPAIGN_XP_MAX)
        violations_add(&v, "award", "out_of_range", "a campaign holds at most %lld experience points",
                       CAMPAIGN_XP_MAX);
    if (v.n > 0) {
        invalid(rc, &v);
    } else {
        json_object_set_new(st.doc, "current_xp", json_integer(xp + award));
        save(rc, st.doc, &st);
    }
    resource_stored_release(&st);
}
