/*
 * server/equipment.c - see equipment.h. The library is the ruleset's SRD
 * items (in data order) followed by the equipment table's rows (by id); its
 * cursor says where the last page ended ("s:N" in the SRD list, "r:ID" in
 * the table).
 */
#include "server/equipment.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/ids.h"
#include "server/http.h"
#include "server/problem.h"
#include "server/resource.h"
#include "storage/migrate.h"

const char *const equipment_types[] = {"currency",      "heavy-armor",   "light-armor",    "medium-armor",
                                       "shield",        "simple-melee",  "simple-ranged",  "martial-melee",
                                       "martial-ranged", "ammunition",   "arcane",         "holy",
                                       "druidic",       "container",     "tools",          "other",
                                       NULL};

const struct resource_desc equipment_resource = {.kind = STORE_EQUIPMENT, .noun = "equipment item", .base_path = "/v1/equipment"};

int equipment_type_valid(const char *t)
{
    for (size_t i = 0; t != NULL && equipment_types[i] != NULL; i++)
        if (strcmp(t, equipment_types[i]) == 0)
            return 1;
    return 0;
}

static int is_armor_type(const char *t)
{
    return t != NULL && (strcmp(t, "light-armor") == 0 || strcmp(t, "medium-armor") == 0 ||
                         strcmp(t, "heavy-armor") == 0 || strcmp(t, "shield") == 0);
}

/* Depth of nesting of a JSON value (a scalar is 0). */
static int depth_of(const json_t *v)
{
    int d = 0;
    if (json_is_object(v)) {
        const char *k;
        json_t *x;
        json_object_foreach((json_t *)v, k, x) {
            int c = depth_of(x);
            if (c > d)
                d = c;
        }
        return d + 1;
    }
    if (json_is_array(v)) {
        size_t i;
        json_t *x;
        json_array_foreach(v, i, x) {
            int c = depth_of(x);
            if (c > d)
                d = c;
        }
        return d + 1;
    }
    return 0;
}

/* A number in [0, max] from `v` into *out; adds the problem otherwise. */
static void read_amount(const json_t *v, const char *field, double max, double *out, struct violations *vs)
{
    if (v == NULL)
        return;
    if (!json_is_number(v)) {
        violations_add(vs, field, "wrong_type", "%s must be a number", field);
        return;
    }
    double x = json_number_value(v);
    if (!isfinite(x) || x < 0 || x > max) {
        violations_add(vs, field, "out_of_range", "%s must be 0..%.0f", field, max);
        return;
    }
    *out = x;
}

static void read_small_int(const json_t *attrs, const char *key, int required, struct violations *v)
{
    char field[64];
    snprintf(field, sizeof(field), "base_attributes.%s", key);
    json_t *x = json_object_get(attrs, key);
    if (x == NULL) {
        if (required)
            violations_add(v, field, "required", "%s is required for armor and shields", field);
        return;
    }
    if (!json_is_integer(x))
        violations_add(v, field, "wrong_type", "%s must be a whole number", field);
    else if (json_integer_value(x) < 0 || json_integer_value(x) > 30)
        violations_add(v, field, "out_of_range", "%s must be 0..30", field);
}

json_t *equipment_read(const json_t *body, struct violations *v)
{
    size_t before = v->n;
    if (!json_is_object(body)) {
        violations_add(v, "", "wrong_type", "the request body must be a JSON object");
        return NULL;
    }
    static const char *const known[] = {"name", "equip_type", "base_cost", "weight", "base_attributes", NULL};
    const char *key;
    json_t *val;
    json_object_foreach((json_t *)body, key, val) {
        int ok = 0;
        for (size_t i = 0; known[i] != NULL && !ok; i++)
            ok = strcmp(key, known[i]) == 0;
        if (!ok)
            violations_add(v, key, "unknown_field",
                           "unknown field \"%.60s\"; known: name, equip_type, base_cost, weight, base_attributes", key);
    }
    const json_t *name = json_object_get(body, "name"), *type = json_object_get(body, "equip_type");
    if (name == NULL)
        violations_add(v, "name", "required", "name is required");
    else if (!json_is_string(name))
        violations_add(v, "name", "wrong_type", "name must be a string");
    else if (json_string_length(name) == 0 || json_string_length(name) > EQUIPMENT_NAME_MAX)
        violations_add(v, "name", json_string_length(name) == 0 ? "required" : "too_long",
                       "name must be 1..%d bytes", EQUIPMENT_NAME_MAX);
    else if (strlen(json_string_value(name)) != json_string_length(name))
        violations_add(v, "name", "out_of_range", "name must not hold a NUL character");
    if (type == NULL)
        violations_add(v, "equip_type", "required", "equip_type is required");
    else if (!json_is_string(type))
        violations_add(v, "equip_type", "wrong_type", "equip_type must be a string");
    else if (!equipment_type_valid(json_string_value(type)))
        violations_add(v, "equip_type", "unknown_reference",
                       "equip_type must be one of currency, heavy-armor, light-armor, medium-armor, shield, "
                       "simple-melee, simple-ranged, martial-melee, martial-ranged, ammunition, arcane, holy, druidic, "
                       "container, tools, other");
    double cost = 0, weight = 0;
    read_amount(json_object_get(body, "base_cost"), "base_cost", EQUIPMENT_COST_MAX, &cost, v);
    read_amount(json_object_get(body, "weight"), "weight", EQUIPMENT_WEIGHT_MAX, &weight, v);
    const json_t *attrs = json_object_get(body, "base_attributes");
    if (attrs != NULL && !json_is_object(attrs)) {
        violations_add(v, "base_attributes", "wrong_type", "base_attributes must be an object");
        attrs = NULL;
    } else if (attrs != NULL) {
        char *text = json_dumps(attrs, JSON_COMPACT);
        size_t len = text != NULL ? strlen(text) : 0;
        free(text);
        if (json_object_size(attrs) > EQUIPMENT_ATTRS_MAX)
            violations_add(v, "base_attributes", "too_many", "base_attributes may have at most %d members",
                           EQUIPMENT_ATTRS_MAX);
        else if (len > EQUIPMENT_ATTRS_BYTES)
            violations_add(v, "base_attributes", "too_long", "base_attributes may be at most %d bytes of JSON",
                           EQUIPMENT_ATTRS_BYTES);
        else if (depth_of(attrs) > EQUIPMENT_ATTRS_DEPTH)
            violations_add(v, "base_attributes", "too_long", "base_attributes may nest at most %d deep",
                           EQUIPMENT_ATTRS_DEPTH);
    }
    if (json_is_string(type) && is_armor_type(json_string_value(type))) {
        read_small_int(attrs, "armor_class", 1, v);
        read_small_int(attrs, "str_minimum", 0, v);
        read_small_int(attrs, "dex_cap", 0, v);
    }
    if (v->n > before)
        return NULL;
    return json_pack("{s:O, s:O, s:f, s:f, s:o}", "name", name, "equip_type", type, "base_cost", cost, "weight",
                     weight, "base_attributes", attrs != NULL ? json_deep_copy(attrs) : json_object());
}

void equipment_item_facts(const json_t *doc, struct campaign_item *it)
{
    memset(it, 0, sizeof(*it));
    it->ref = json_string_value(json_object_get(doc, "id"));
    it->name = json_string_value(json_object_get(doc, "name"));
    it->equip_type = json_string_value(json_object_get(doc, "equip_type"));
    it->weight = json_number_value(json_object_get(doc, "weight"));
    const char *t = it->equip_type != NULL ? it->equip_type : "";
    const json_t *attrs = json_object_get(doc, "base_attributes");
    json_t *cap = json_object_get(attrs, "dex_cap");
    if (strcmp(t, "light-armor") == 0) {
        it->armor = CAMPAIGN_LIGHT;
        it->dex_cap = -1;
    } else if (strcmp(t, "medium-armor") == 0) {
        it->armor = CAMPAIGN_MEDIUM;
        it->dex_cap = 2;
    } else if (strcmp(t, "heavy-armor") == 0) {
        it->armor = CAMPAIGN_HEAVY;
    } else if (strcmp(t, "shield") == 0) {
        it->armor = CAMPAIGN_SHIELD_ITEM;
    }
    if (it->armor != CAMPAIGN_NOT_ARMOR) {
        it->ac_base = (int)json_integer_value(json_object_get(attrs, "armor_class"));
        it->str_minimum = (int)json_integer_value(json_object_get(attrs, "str_minimum"));
        if (json_is_integer(cap) && it->armor != CAMPAIGN_SHIELD_ITEM)
            it->dex_cap = (int)json_integer_value(cap);
    }
}

/* Cost in gp of an SRD item. */
static double cost_gp(const struct rs_equipment *eq)
{
    static const struct {
        const char *unit;
        double gp;
    } units[] = {{"cp", 0.01}, {"sp", 0.1}, {"ep", 0.5}, {"gp", 1}, {"pp", 10}};
    for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++)
        if (eq->cost_unit != NULL && strcmp(eq->cost_unit, units[i].unit) == 0)
            return eq->cost * units[i].gp;
    return eq->cost;
}

json_t *equipment_srd_entry(const struct rs_equipment *eq)
{
    json_t *attrs = json_object();
    if (eq->armor != NULL) {
        const struct rs_armor *a = eq->armor;
        json_object_set_new(attrs, "armor_category", json_string(a->category));
        json_object_set_new(attrs, "armor_class", json_integer(a->base));
        json_object_set_new(attrs, "dex_bonus", json_boolean(a->dex_bonus));
        if (a->max_bonus > 0)
            json_object_set_new(attrs, "dex_cap", json_integer(a->max_bonus));
        json_object_set_new(attrs, "str_minimum", json_integer(a->str_minimum));
        json_object_set_new(attrs, "stealth_disadvantage", json_boolean(a->stealth_disadvantage));
    }
    if (eq->weapon != NULL) {
        const struct rs_weapon *w = eq->weapon;
        if (w->damage != NULL)
            json_object_set_new(attrs, "damage", json_string(w->damage));
        if (w->damage_type != NULL)
            json_object_set_new(attrs, "damage_type", json_string(w->damage_type));
        json_t *props = json_array();
        for (size_t i = 0; i < w->properties.n; i++)
            json_array_append_new(props, json_string(w->properties.v[i]));
        json_object_set_new(attrs, "properties", props);
        if (w->normal > 0)
            json_object_set_new(attrs, "range", json_integer(w->normal));
    }
    char url[128];
    snprintf(url, sizeof(url), "/api/2014/equipment/%s", eq->index);
    return json_pack("{s:s, s:s, s:s, s:f, s:f, s:o, s:s, s:s}", "index", eq->index, "name", eq->name, "equip_type",
                     eq->equip_type != NULL ? eq->equip_type : "other", "base_cost", cost_gp(eq), "weight",
                     eq->has_weight ? eq->weight : 0.0, "base_attributes", attrs, "source", "srd", "url", url);
}

/* ---- GET /v1/equipment-library ------------------------------------------------ */

struct library_query {
    char type[32];
};

static int library_param(void *ctx, const char *key, const char *val, size_t vlen, struct violations *v)
{
    struct library_query *q = ctx;
    if (strcmp(key, "type") != 0 && strcmp(key, "equip_type") != 0)
        return -1;
    if (!equipment_type_valid(val) || vlen >= sizeof(q->type))
        violations_add(v, "type", "unknown_reference", "type must be one of the 16 equip_type values");
    else
        memcpy(q->type, val, vlen + 1);
    return 0;
}

/* The library's walk of the table: the page and the store its imported rows' documents are read from. */
struct library_ctx {
    struct resource_page *pg;
    struct store *store;
};

/*
 * A row loaded from CSV as a library entry: the document its load stored in column
 * "imported" (migration 0005; every CSV column, the undeclared ones in
 * base_attributes), else (loaded without one, or before 0005) its columns. New reference.
 */
static json_t *imported_entry(struct store *store, const struct store_record *r)
{
    json_t *o = migrate_loaded_document(store_db(store), "equipment", "imported", r->id);
    if (o != NULL) {
        json_object_set_new(o, "id", json_string(r->id));
        if (!json_is_object(json_object_get(o, "base_attributes")))
            json_object_set_new(o, "base_attributes", json_object());
        json_object_set_new(o, "source", json_string("imported"));
        return o;
    }
    return json_pack("{s:s, s:s?, s:s?, s:f, s:f, s:{}, s:s}", "id", r->id, "name", r->name, "equip_type",
                     r->equip_type, "base_cost", r->base_cost, "weight", r->weight, "base_attributes", "source",
                     "imported");
}

/* A table row as a library entry: its document, or (a row loaded from CSV) imported_entry(). */
static int library_row(void *ctx, const struct store_record *r)
{
    struct library_ctx *lc = ctx;
    struct resource_page *pg = lc->pg;
    if (pg->rows >= pg->limit) {
        pg->more = 1;
        return 1;
    }
    json_t *o;
    if (r->document != NULL) {
        o = json_loadb(r->document, r->document_len, 0, NULL);
        if (!json_is_object(o)) {
            json_decref(o);
            return 0;
        }
        json_object_set_new(o, "source", json_string("custom"));
    } else {
        o = imported_entry(lc->store, r);
    }
    char *text = o != NULL ? json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
    json_decref(o);
    if (text != NULL)
        resource_page_add(pg, text, strlen(text));
    free(text);
    snprintf(pg->last, sizeof(pg->last), "%s", r->id);
    return 0;
}

void equipment_on_library(struct route_ctx *rc)
{
    h2o_req_t *req = rc->req;
    struct violations *v = h2o_mem_alloc_pool(&req->pool, sizeof(*v));
    violations_init(v);
    struct resource_query q;
    struct library_query lq = {{0}};
    resource_query_parse(req, &q, library_param, &lq, v);
    size_t srd_from = 0;
    const char *after = NULL;
    if (q.cursor[0] == 's' && q.cursor[1] == ':') {
        char *end;
        srd_from = strtoul(q.cursor + 2, &end, 10);
        if (*end != '\0' || srd_from > 100000)
            violations_add(v, "cursor", "invalid", "cursor is not one this server gave out");
    } else if (q.cursor[0] == 'r' && q.cursor[1] == ':' && ids_is_uuid(q.cursor + 2, strlen(q.cursor + 2))) {
        after = q.cursor + 2;
    } else if (q.cursor[0] != '\0') {
        violations_add(v, "cursor", "invalid", "cursor is not one this server gave out");
    }
    if (v->n > 0) {
        problem_send(req, PROBLEM_VALIDATION, "the query is not valid", v);
        return;
    }
    const struct ruleset *rs = rc->w->rt->ruleset;
    const char *type = lq.type[0] != '\0' ? lq.type : NULL;
    struct resource_page pg = {.limit = q.limit};
    long long count = 0;
    char next_cursor[80] = "";
    for (size_t i = 0; i < rs->nequipment; i++) {
        const struct rs_equipment *eq = &rs->equipment[i];
        if (type != NULL && (eq->equip_type == NULL || strcmp(eq->equip_type, type) != 0))
            continue;
        count++;
        if (after != NULL || i < srd_from)
            continue;
        if (pg.rows >= q.limit) {
            if (next_cursor[0] == '\0')
                snprintf(next_cursor, sizeof(next_cursor), "s:%zu", i);
            continue;
        }
        json_t *o = equipment_srd_entry(eq);
        char *text = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
        json_decref(o);
        if (text == NULL)
            abort();
        resource_page_add(&pg, text, strlen(text));
        free(text);
    }
    struct store_filter f = {.equip_type = type};
    long long rows = 0;
    struct err e = {0};
    /* The table's rows follow the SRD items; a full page only needs to know whether any exist. */
    int room = next_cursor[0] == '\0' ? q.limit - pg.rows + 1 : 0;
    struct library_ctx lc = {.pg = &pg, .store = rc->w->store};
    int rc_l = store_doc_list(rc->w->store, STORE_EQUIPMENT, &f, after, room, &rows, library_row, &lc, &e);
    if (rc_l != 0) {
        free(pg.buf);
        routes_send_internal(rc, &e);
        return;
    }
    count += rows;
    /* More table rows: after the last one listed, or (the page ended with the SRD items) from the first. */
    if (next_cursor[0] == '\0' && pg.more && pg.last[0] != '\0')
        snprintf(next_cursor, sizeof(next_cursor), "r:%s", pg.last);
    else if (next_cursor[0] == '\0' && pg.more)
        snprintf(next_cursor, sizeof(next_cursor), "s:%zu", rs->nequipment);
    char next[256], cur[96];
    const char *nextp = NULL;
    if (next_cursor[0] != '\0') {
        resource_cursor(next_cursor, cur);
        snprintf(next, sizeof(next), "/v1/equipment-library?%s%s%slimit=%d&cursor=%s", type ? "type=" : "",
                 type ? type : "", type ? "&" : "", q.limit, cur);
        nextp = next;
    }
    resource_page_send(rc, &pg, count, nextp);
}

/* ---- /v1/equipment -------------------------------------------------------------- */

/* The row columns of an item document. */
static void item_columns(const json_t *item, struct store_record *cols)
{
    memset(cols, 0, sizeof(*cols));
    cols->name = json_string_value(json_object_get(item, "name"));
    cols->equip_type = json_string_value(json_object_get(item, "equip_type"));
    cols->base_cost = json_number_value(json_object_get(item, "base_cost"));
    cols->weight = json_number_value(json_object_get(item, "weight"));
}

/* Check `body` and store it as a new item (st NULL) or a new version of st. */
static void store_item(struct route_ctx *rc, const json_t *body, const struct resource_stored *st)
{
    struct violations *v = h2o_mem_alloc_pool(&rc->req->pool, sizeof(*v));
    violations_init(v);
    json_t *item = equipment_read(body, v);
    if (item == NULL) {
        problem_send(rc->req, PROBLEM_VALIDATION, "the equipment item is not valid", v);
        return;
    }
    /* The document: id, version, timestamps first (resource_commit fills them), then the item. */
    json_t *doc = json_pack("{s:s, s:i, s:s, s:s}", "id", "", "version", 0, "created_at", "", "updated_at", "");
    json_object_update(doc, item);
    struct store_record cols;
    item_columns(item, &cols);
    resource_commit(rc, &equipment_resource, doc, st, &cols);
    json_decref(doc);
    json_decref(item);
}

void equipment_on_create(struct route_ctx *rc)
{
    store_item(rc, rc->body, NULL);
}

void equipment_on_list(struct route_ctx *rc)
{
    struct violations *v = h2o_mem_alloc_pool(&rc->req->pool, sizeof(*v));
    violations_init(v);
    struct resource_query q;
    struct library_query lq = {{0}};
    resource_query_parse(rc->req, &q, library_param, &lq, v);
    const char *type = lq.type[0] != '\0' ? lq.type : NULL;
    struct store_filter f = {.equip_type = type, .documents_only = 1};
    char next_query[48] = "";
    if (type != NULL)
        snprintf(next_query, sizeof(next_query), "type=%s&", type);
    resource_list(rc, &equipment_resource, &q, v, &f, next_query);
}

void equipment_on_get(struct route_ctx *rc)
{
    resource_get(rc, &equipment_resource);
}

void equipment_on_put(struct route_ctx *rc)
{
    struct resource_stored st;
    if (resource_load_for_write(rc, &equipment_resource, &st) != 0)
        return;
    store_item(rc, rc->body, &st);
    resource_stored_release(&st);
}

void equipment_on_patch(struct route_ctx *rc)
{
    struct resource_stored st;
    if (resource_load_for_write(rc, &equipment_resource, &st) != 0)
        return;
    /* The patch applies to the item's own fields; id, version and timestamps are the server's. */
    json_t *item = json_deep_copy(st.doc);
    json_object_del(item, "id");
    json_object_del(item, "version");
    json_object_del(item, "created_at");
    json_object_del(item, "updated_at");
    json_t *patched = routes_merge_patch(item, rc->body);
    store_item(rc, patched, &st);
    json_decref(patched);
    resource_stored_release(&st);
}

void equipment_on_delete(struct route_ctx *rc)
{
    resource_delete(rc, &equipment_resource);
}
