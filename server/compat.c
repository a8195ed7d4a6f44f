/*
 * server/compat.c - see compat.h. Mapping tables first (ability names, field
 * paths, encumbrance labels, the original's equipment columns), then shared
 * plumbing (query; loading and storing are server/resource.c's), then the
 * four route families. The
 * rules are never re-implemented here: characters are judged by
 * character_evaluate() (CHARACTER_DRAFT: a build that is only unfinished is
 * accepted, as the original asked for no skills or race choices), items by
 * equipment_read(), campaigns derived by campaigns_derive().
 */
#include "server/compat.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/ids.h"
#include "common/log.h"
#include "rules/campaign.h"
#include "rules/character.h"
#include "server/campaigns.h"
#include "server/characters.h"
#include "server/charjson.h"
#include "server/config.h"
#include "server/equipment.h"
#include "server/http.h"
#include "server/problem.h"
#include "server/query.h"
#include "storage/migrate.h"
#include "storage/store.h"

/* The `io` value of the campaign readers when the request was parked to read a custom item through. */
#define COMPAT_PARKED 2

/* The original's ability fields and the ruleset's ability indexes. */
static const struct {
    const char *field, *index, *mod, *throw_;
} abilities[] = {
    {"strength", "str", "str_mod", "str_throw"},     {"dexterity", "dex", "dex_mod", "dex_throw"},
    {"constitution", "con", "con_mod", "con_throw"}, {"intelligence", "int", "int_mod", "int_throw"},
    {"wisdom", "wis", "wis_mod", "wis_throw"},       {"charisma", "cha", "cha_mod", "cha_throw"},
};
#define NABILITIES (sizeof(abilities) / sizeof(abilities[0]))

/* /v1 encumbrance bands and the original's labels. */
static const struct {
    const char *band, *label;
} encumbrance_labels[] = {
    {"none", "NA"},
    {"encumbered", "encumbered"},
    {"heavily-encumbered", "heavily-encumbered"},
    {"over-capacity", "cannot-move"},
};

/* The original equipment row's columns beyond name, equip_type, base_cost, weight (kept in base_attributes). */
enum col_type { COL_INT, COL_TEXT };
static const struct {
    const char *name;
    enum col_type type;
    long long lo, hi; /* COL_INT: range; COL_TEXT: hi is the byte limit */
} extra_columns[] = {
    {"armor_class", COL_INT, 0, 30}, {"stealth", COL_TEXT, 0, 32},     {"damage", COL_TEXT, 0, 32},
    {"damage_type", COL_TEXT, 0, 32}, {"properties", COL_TEXT, 0, 200}, {"range", COL_INT, 0, 10000},
    {"hands", COL_INT, 1, 2},
};
#define NEXTRA (sizeof(extra_columns) / sizeof(extra_columns[0]))

/* ---- plumbing ------------------------------------------------------------------- */

static const struct ruleset *ruleset_of(const struct route_ctx *rc)
{
    return rc->w->rt->ruleset;
}

static void bad_request(struct route_ctx *rc, const char *detail, const struct violations *v)
{
    problem_send(rc->req, PROBLEM_BAD_REQUEST, detail, v);
}

static struct violations *new_violations(struct route_ctx *rc)
{
    struct violations *v = h2o_mem_alloc_pool(&rc->req->pool, sizeof(*v));
    violations_init(v);
    return v;
}

/*
 * Parse the query string: every name must be in `allowed` (NULL-terminated)
 * and appear once. 0 with *out (in req->pool), or -1 after answering 400.
 */
static int take_query(struct route_ctx *rc, const char *const *allowed, struct query **out)
{
    h2o_req_t *req = rc->req;
    struct query *q = h2o_mem_alloc_pool(&req->pool, sizeof(*q));
    q->n = 0;
    q->too_many = 0;
    struct violations *v = new_violations(rc);
    struct err e = {0};
    if (req->query_at != SIZE_MAX &&
        query_parse(q, req->path.base + req->query_at + 1, req->path.len - req->query_at - 1, &e) != 0) {
        bad_request(rc, e.msg, NULL);
        return -1;
    }
    for (size_t i = 0; i < q->n; i++) {
        const struct query_param *p = &q->params[i];
        int known = 0;
        for (size_t k = 0; allowed[k] != NULL && !known; k++)
            known = strcmp(p->key, allowed[k]) == 0;
        if (p->key_problem != QUERY_OK || p->value_problem != QUERY_OK)
            violations_add(v, p->key, "out_of_range", "query parameter \"%.60s\" %s", p->key,
                           query_problem_text(p->key_problem != QUERY_OK ? p->key_problem : p->value_problem));
        else if (!known)
            violations_add(v, p->key, "unknown_field", "unknown query parameter \"%.60s\"", p->key);
        else if (query_find(q, p->key, i + 1) >= 0 && query_find(q, p->key, 0) == (int)i)
            violations_add(v, p->key, "duplicate", "query parameter \"%.60s\" is given more than once", p->key);
    }
    if (v->n > 0) {
        bad_request(rc, "the query is not valid", v);
        return -1;
    }
    *out = q;
    return 0;
}

/* The value of query parameter `key`, or NULL when absent. */
static const char *query_value(const struct query *q, const char *key)
{
    int i = query_find(q, key, 0);
    return i >= 0 ? q->params[i].value : NULL;
}

/* A required id parameter: its value, or NULL after answering 400 (absent) or 404 (not a stored id's shape). */
static const char *take_id(struct route_ctx *rc, const struct query *q, const char *key, const char *noun)
{
    const char *id = query_value(q, key);
    if (id == NULL || id[0] == '\0') {
        struct violations *v = new_violations(rc);
        violations_add(v, key, "required", "query parameter %s (the %s's id) is required", key, noun);
        bad_request(rc, "the query is not valid", v);
        return NULL;
    }
    if (!ids_is_uuid(id, strlen(id))) {
        char detail[64];
        snprintf(detail, sizeof(detail), "no %s has that id", noun);
        problem_send(rc->req, PROBLEM_NOT_FOUND, detail, NULL);
        return NULL;
    }
    return id;
}

/* Refuse body members outside `allowed` (400 unknown_field into v); a non-object is wrong_type. */
static void check_members(const json_t *body, const char *const *allowed, struct violations *v)
{
    if (!json_is_object(body)) {
        violations_add(v, "", "wrong_type", "the request body must be a JSON object");
        return;
    }
    const char *key;
    json_t *val;
    json_object_foreach((json_t *)body, key, val) {
        int ok = 0;
        for (size_t i = 0; allowed[i] != NULL && !ok; i++)
            ok = strcmp(key, allowed[i]) == 0;
        if (!ok)
            violations_add(v, key, "unknown_field", "unknown field \"%.60s\"", key);
    }
}

/*
 * Answer a committed write with {"id", "status": {"response": message},
 * member: view} (or {member: view} when message is NULL), status 200.
 */
static void answer_write(struct route_ctx *rc, long long seq, long long version, const char *id, const char *message,
                         const char *member, json_t *view)
{
    json_t *o = json_object();
    json_object_set_new(o, "id", json_string(id));
    json_object_set_new(o, "status", json_pack("{s:s}", "response", message));
    json_object_set_new(o, member, view);
    char *dumped = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(o);
    if (dumped == NULL)
        abort();
    size_t len = strlen(dumped);
    char *text = h2o_strdup(&rc->req->pool, dumped, len).base;
    free(dumped);
    char *idp = h2o_strdup(&rc->req->pool, id, strlen(id)).base;
    routes_finish_write(rc, 200, seq, version, idp, text, len);
}

/*
 * Store w (server/resource.h) and answer as answer_write does with
 * view(the stored document). 0; ERR_CONFLICT when the row changed meanwhile
 * (nothing answered: the caller redoes its change on the fresh version); -1
 * after answering 404 or 500.
 */
static int commit_and_answer(struct route_ctx *rc, const struct resource_desc *d, const struct resource_write *w,
                             const char *message, const char *member, json_t *(*view)(const json_t *doc))
{
    struct resource_written out;
    struct err e = {0};
    int rc_w = resource_store(rc, d, w, &out, &e);
    if (rc_w == ERR_CONFLICT && w->id != NULL)
        return ERR_CONFLICT;
    if (rc_w == ERR_NOT_FOUND) {
        problem_send(rc->req, PROBLEM_NOT_FOUND, "it was deleted meanwhile", NULL);
        return -1;
    }
    if (rc_w != 0) {
        routes_send_internal(rc, &e);
        return -1;
    }
    answer_write(rc, out.seq, out.version, out.id, message, member, view(w->doc));
    return 0;
}

/* Answer 200 {member: view}; view is stolen. */
static void answer_read(struct route_ctx *rc, const char *member, json_t *view)
{
    json_t *o = json_object();
    json_object_set_new(o, member, view);
    http_send_json_value(rc->req, 200, "application/json", o);
    json_decref(o);
}

/* Answer 200 {member: view(the stored document of `id`)}, or 404 / 500 (resource_load). */
static void answer_stored(struct route_ctx *rc, const struct resource_desc *d, const char *id, const char *member,
                          json_t *(*view)(const json_t *doc))
{
    struct resource_stored st;
    if (resource_load(rc, d, id, strlen(id), &st) != 0)
        return;
    answer_read(rc, member, view(st.doc));
    resource_stored_release(&st);
}

/* An integer member of a JSON object, or null (new reference). */
static json_t *int_or_null(const json_t *v)
{
    return json_is_integer(v) ? json_integer(json_integer_value(v)) : json_null();
}

/* ---- characters ----------------------------------------------------------------- */

/* The original's field for a /v1 build field path ("ability_scores.assign.wis" -> "point_buy.wisdom"). */
static void original_field(const char *field, char *out, size_t outlen)
{
    static const char assign[] = "ability_scores.assign.";
    if (strncmp(field, assign, sizeof(assign) - 1) == 0) {
        for (size_t i = 0; i < NABILITIES; i++)
            if (strcmp(field + sizeof(assign) - 1, abilities[i].index) == 0) {
                snprintf(out, outlen, "point_buy.%s", abilities[i].field);
                return;
            }
    }
    static const struct {
        const char *prefix, *original;
    } renames[] = {{"ability_scores", "point_buy"}, {"subrace", "race"}, {"class", "classname"}};
    for (size_t i = 0; i < sizeof(renames) / sizeof(renames[0]); i++)
        if (strncmp(field, renames[i].prefix, strlen(renames[i].prefix)) == 0) {
            snprintf(out, outlen, "%s", renames[i].original);
            return;
        }
    snprintf(out, outlen, "%s", field);
}

/* Resolve a race display name ("Hill Dwarf", "Dwarf") or index into race and subrace indexes; 0, or -1. */
static int find_race(const struct ruleset *rs, const char *name, const char **race, const char **subrace)
{
    for (size_t i = 0; i < rs->nsubraces; i++)
        if (strcasecmp(name, rs->subraces[i].name) == 0 || strcmp(name, rs->subraces[i].index) == 0) {
            *race = rs->subraces[i].race;
            *subrace = rs->subraces[i].index;
            return 0;
        }
    for (size_t i = 0; i < rs->nraces; i++)
        if (strcasecmp(name, rs->races[i].name) == 0 || strcmp(name, rs->races[i].index) == 0) {
            *race = rs->races[i].index;
            *subrace = NULL;
            return 0;
        }
    return -1;
}

static const char *find_class(const struct ruleset *rs, const char *name)
{
    for (size_t i = 0; i < rs->nclasses; i++)
        if (strcasecmp(name, rs->classes[i].name) == 0 || strcmp(name, rs->classes[i].index) == 0)
            return rs->classes[i].index;
    return NULL;
}

/*
 * The /v1 build body (new reference) for an original body, or NULL with the
 * problems of the original's own fields in v (display names not found,
 * point_buy keys). Values are passed through as given, so the build mapper
 * and the rules engine judge their types and ranges.
 */
static json_t *build_body(const struct ruleset *rs, const json_t *body, struct violations *v)
{
    static const char *const allowed[] = {"name", "race", "classname", "point_buy", NULL};
    check_members(body, allowed, v);
    if (!json_is_object(body))
        return NULL;
    const char *race = NULL, *subrace = NULL, *cls = NULL;
    json_t *name = json_object_get(body, "name");
    if (name == NULL || json_is_null(name))
        violations_add(v, "name", "required", "name is required");
    static const char *const names[] = {"race", "classname"};
    for (size_t i = 0; i < 2; i++) {
        json_t *x = json_object_get(body, names[i]);
        if (x == NULL || json_is_null(x)) {
            violations_add(v, names[i], "required", "%s is required", names[i]);
        } else if (!json_is_string(x) || json_string_length(x) > CHARJSON_SLUG_MAX) {
            violations_add(v, names[i], json_is_string(x) ? "too_long" : "wrong_type",
                           "%s must be a display name such as \"%s\"", names[i], i == 0 ? "Hill Dwarf" : "Cleric");
        } else if (i == 0 && find_race(rs, json_string_value(x), &race, &subrace) != 0) {
            violations_add(v, "race", "unknown_reference", "no race or subrace is called \"%.60s\"",
                           json_string_value(x));
        } else if (i == 1 && (cls = find_class(rs, json_string_value(x))) == NULL) {
            violations_add(v, "classname", "unknown_reference", "no class is called \"%.60s\"", json_string_value(x));
        }
    }
    json_t *pb = json_object_get(body, "point_buy");
    json_t *assign = json_object();
    for (size_t i = 0; i < NABILITIES; i++)
        json_object_set_new(assign, abilities[i].index, json_integer(8));
    if (pb != NULL && !json_is_null(pb) && !json_is_object(pb)) {
        violations_add(v, "point_buy", "wrong_type",
                       "point_buy must be an object such as {\"strength\": 8, \"wisdom\": 15}");
    } else if (pb != NULL) {
        const char *key;
        json_t *val;
        json_object_foreach(pb, key, val) {
            size_t i = 0;
            while (i < NABILITIES && strcmp(key, abilities[i].field) != 0)
                i++;
            if (i == NABILITIES)
                violations_add(v, "point_buy", "unknown_field",
                               "unknown ability \"%.40s\"; known: strength, dexterity, constitution, intelligence, "
                               "wisdom, charisma",
                               key);
            else
                json_object_set(assign, abilities[i].index, val);
        }
    }
    if (v->n > 0) {
        json_decref(assign);
        return NULL;
    }
    json_t *b = json_object();
    json_object_set(b, "name", name);
    json_object_set_new(b, "race", json_string(race));
    if (subrace != NULL)
        json_object_set_new(b, "subrace", json_string(subrace));
    json_object_set_new(b, "class", json_string(cls));
    json_object_set_new(b, "level", json_integer(1));
    json_object_set_new(b, "ability_scores", json_pack("{s:s, s:o}", "method", "point_buy", "assign", assign));
    return b;
}

/* The original's character shape from a stored /v1 character document (borrowed). New reference. */
static json_t *character_view(const json_t *doc)
{
    const json_t *scores = json_object_get(doc, "ability_scores"), *saves = json_object_get(doc, "saving_throws");
    const json_t *sub = json_object_get(doc, "subrace");
    const json_t *race = json_is_object(sub) ? sub : json_object_get(doc, "race");
    json_t *o = json_object();
    json_object_set_new(o, "id", json_deep_copy(json_object_get(doc, "id")));
    json_object_set_new(o, "name", json_deep_copy(json_object_get(doc, "name")));
    json_t *rn = json_object_get(race, "name"), *cn = json_object_get(json_object_get(doc, "class"), "name");
    json_object_set_new(o, "race", json_is_string(rn) ? json_deep_copy(rn) : json_null());
    json_object_set_new(o, "classname", json_is_string(cn) ? json_deep_copy(cn) : json_null());
    for (size_t i = 0; i < NABILITIES; i++)
        json_object_set_new(o, abilities[i].field,
                            int_or_null(json_object_get(json_object_get(scores, abilities[i].index), "score")));
    json_object_set_new(o, "armor_class", int_or_null(json_object_get(doc, "armor_class")));
    json_object_set_new(o, "hp", int_or_null(json_object_get(json_object_get(doc, "hit_points"), "max")));
    json_object_set_new(o, "speed", int_or_null(json_object_get(doc, "speed")));
    json_object_set_new(o, "darkvision", int_or_null(json_object_get(doc, "darkvision")));
    json_object_set_new(o, "xp", int_or_null(json_object_get(doc, "experience_points")));
    for (size_t i = 0; i < NABILITIES; i++)
        json_object_set_new(o, abilities[i].mod,
                            int_or_null(json_object_get(json_object_get(scores, abilities[i].index), "modifier")));
    for (size_t i = 0; i < NABILITIES; i++)
        json_object_set_new(o, abilities[i].throw_,
                            int_or_null(json_object_get(json_object_get(saves, abilities[i].index), "modifier")));
    return o;
}

/* The stored /v1 document of a judged build (new reference): id, version, timestamps, the sheet, the build. */
static json_t *character_doc(const struct ruleset *rs, const struct build *b, const struct sheet *s)
{
    size_t slen;
    char *sheet = charjson_sheet_text(rs, b, s, &slen);
    json_t *bj = charjson_write_build(b);
    char *build = json_dumps(bj, JSON_COMPACT);
    json_decref(bj);
    if (build == NULL)
        abort();
    static const char head[] = "{\"id\":\"\",\"version\":0,\"created_at\":\"\",\"updated_at\":\"\",";
    size_t blen = strlen(build), total = sizeof(head) + slen + 16 + blen;
    char *text = malloc(total);
    if (text == NULL)
        abort();
    int n = snprintf(text, total, "%s%s,\"build\":%s}", head, sheet, build);
    json_t *doc = json_loadb(text, (size_t)n, 0, NULL);
    free(text);
    free(sheet);
    free(build);
    if (doc == NULL)
        abort(); /* our own text: a bug */
    return doc;
}

void compat_on_character_post(struct route_ctx *rc)
{
    const struct ruleset *rs = ruleset_of(rc);
    struct violations *v = new_violations(rc);
    json_t *body = build_body(rs, rc->body, v);
    if (body == NULL) {
        bad_request(rc, "the character is not valid", v);
        return;
    }
    struct build *b = h2o_mem_alloc_pool(&rc->req->pool, sizeof(*b));
    struct sheet *s = h2o_mem_alloc_pool(&rc->req->pool, sizeof(*s));
    struct violations *found = new_violations(rc);
    charjson_read_build(body, b, found);
    struct build_policy p;
    settings_policy(rc->w->settings, &p);
    p.rolls_key = rc->w->rt->rolls_key;
    character_evaluate(rs, &p, b, CHARACTER_DRAFT, found, s);
    /* What the original never asked for (skills, a subclass, race choices) is only unfinished: accepted. */
    for (size_t i = 0; i < found->n; i++) {
        if (strcmp(found->items[i].code, "incomplete") == 0)
            continue;
        char field[128];
        original_field(found->items[i].field, field, sizeof(field));
        violations_add(v, field, found->items[i].code, "%s", found->items[i].message);
    }
    if (v->n > 0 || !s->complete) {
        if (v->n == 0)
            violations_add(v, "", "incomplete", "name, race, classname and point_buy do not make a character");
        bad_request(rc, "the character is not valid", v);
        json_decref(body);
        return;
    }
    json_t *doc = character_doc(rs, b, s);
    struct store_record cols = {
        .name = b->name, .race = b->race, .class_ = b->class_, .level = s->level > 0 ? s->level : 1};
    struct resource_write w = {.doc = doc, .cols = &cols};
    commit_and_answer(rc, &characters_resource, &w, "successfully created new Character", "character", character_view);
    json_decref(doc);
    json_decref(body);
}

void compat_on_character_get(struct route_ctx *rc)
{
    static const char *const allowed[] = {"id", NULL};
    struct query *q;
    const char *id;
    if (take_query(rc, allowed, &q) != 0 || (id = take_id(rc, q, "id", "character")) == NULL)
        return;
    answer_stored(rc, &characters_resource, id, "character", character_view);
}

/* ---- equipment ------------------------------------------------------------------ */

/* An empty original row {"id", name, equip_type, base_cost, weight, extras...: null} (new reference). */
static json_t *row_new(const char *id, const char *name, const char *type, double cost, double weight)
{
    json_t *o = json_pack("{s:s?, s:s?, s:s?, s:f, s:f}", "id", id, "name", name, "equip_type", type, "base_cost",
                          cost, "weight", weight);
    for (size_t i = 0; i < NEXTRA; i++)
        json_object_set_new(o, extra_columns[i].name, json_null());
    return o;
}

/* A /v1 custom item document (borrowed) as an original row. */
static json_t *row_of_doc(const json_t *doc)
{
    json_t *o = row_new(json_string_value(json_object_get(doc, "id")), json_string_value(json_object_get(doc, "name")),
                        json_string_value(json_object_get(doc, "equip_type")),
                        json_number_value(json_object_get(doc, "base_cost")),
                        json_number_value(json_object_get(doc, "weight")));
    const json_t *attrs = json_object_get(doc, "base_attributes");
    for (size_t i = 0; i < NEXTRA; i++) {
        json_t *x = json_object_get(attrs, extra_columns[i].name);
        if (x != NULL)
            json_object_set(o, extra_columns[i].name, x);
    }
    return o;
}

/* An SRD item as an original row: the SRD's numbers in the original's columns. */
static json_t *row_of_srd(const struct rs_equipment *eq)
{
    json_t *entry = equipment_srd_entry(eq); /* for base_cost in gp and weight, computed once, there */
    json_t *o = row_new(eq->index, eq->name, json_string_value(json_object_get(entry, "equip_type")),
                        json_number_value(json_object_get(entry, "base_cost")),
                        json_number_value(json_object_get(entry, "weight")));
    json_decref(entry);
    if (eq->armor != NULL) {
        json_object_set_new(o, "armor_class", json_integer(eq->armor->base));
        json_object_set_new(o, "stealth", eq->armor->stealth_disadvantage ? json_string("disadvantage") : json_null());
    }
    const struct rs_weapon *w = eq->weapon;
    if (w != NULL) {
        int two = 0;
        char props[200] = "";
        size_t at = 0;
        for (size_t i = 0; i < w->properties.n; i++) {
            two |= strcmp(w->properties.v[i], "two-handed") == 0;
            int n = snprintf(props + at, sizeof(props) - at, "%s%s", i > 0 ? ", " : "", w->properties.v[i]);
            if (n > 0 && (size_t)n < sizeof(props) - at)
                at += (size_t)n;
        }
        json_object_set_new(o, "damage", w->damage != NULL ? json_string(w->damage) : json_null());
        json_object_set_new(o, "damage_type", w->damage_type != NULL ? json_string(w->damage_type) : json_null());
        json_object_set_new(o, "properties", at > 0 ? json_string(props) : json_null());
        json_object_set_new(o, "range", json_integer(w->ranged ? w->normal : 0));
        json_object_set_new(o, "hands", json_integer(two ? 2 : 1));
    }
    return o;
}

/* Collects table rows into a JSON array, at most `max`; imported rows' documents are read from `store`. */
struct rows_ctx {
    json_t *list;
    int max;
    struct store *store;
};

/*
 * A row loaded from the original CSV files as an original row: every CSV column
 * from the document its load kept (column "imported", migration 0005: the four
 * declared ones at the top, the rest in base_attributes), else (loaded without
 * one) its columns alone. New reference.
 */
static json_t *row_of_import(struct store *store, const struct store_record *r)
{
    json_t *doc = migrate_loaded_document(store_db(store), "equipment", "imported", r->id);
    if (doc == NULL)
        return row_new(r->id, r->name, r->equip_type, r->base_cost, r->weight);
    json_t *o = row_new(r->id, r->name, r->equip_type, r->base_cost, r->weight);
    static const char *const top[] = {"name", "equip_type", "base_cost", "weight"};
    for (size_t i = 0; i < sizeof(top) / sizeof(top[0]); i++) {
        json_t *x = json_object_get(doc, top[i]);
        json_object_set(o, top[i], x != NULL ? x : json_null()); /* an empty CSV field is null */
    }
    const char *k;
    json_t *x;
    json_object_foreach(json_object_get(doc, "base_attributes"), k, x) {
        int taken = strcmp(k, "id") == 0; /* an attribute never replaces the id or a top column */
        for (size_t i = 0; i < sizeof(top) / sizeof(top[0]) && !taken; i++)
            taken = strcmp(k, top[i]) == 0;
        if (!taken)
            json_object_set(o, k, x);
    }
    json_decref(doc);
    return o;
}

static int collect_row(void *ctx, const struct store_record *r)
{
    struct rows_ctx *c = ctx;
    if ((int)json_array_size(c->list) >= c->max)
        return 1;
    if (r->document == NULL) {
        /* A row loaded from the original CSV files. */
        json_array_append_new(c->list, row_of_import(c->store, r));
        return 0;
    }
    json_t *doc = json_loadb(r->document, r->document_len, 0, NULL);
    if (json_is_object(doc))
        json_array_append_new(c->list, row_of_doc(doc));
    json_decref(doc);
    return 0;
}

/* Append table rows (custom items; with imported rows unless documents_only) of type `type` to list; 0 or -1 (answered). */
static int list_rows(struct route_ctx *rc, const char *type, int documents_only, json_t *list)
{
    struct store_filter f = {.equip_type = type, .documents_only = documents_only};
    struct rows_ctx c = {.list = list, .max = COMPAT_LIST_MAX, .store = rc->w->store};
    long long count = 0;
    struct err e = {0};
    if (store_doc_list(rc->w->store, STORE_EQUIPMENT, &f, NULL, COMPAT_LIST_MAX, &count, collect_row, &c, &e) != 0) {
        routes_send_internal(rc, &e);
        return -1;
    }
    return 0;
}

void compat_on_library(struct route_ctx *rc)
{
    static const char *const allowed[] = {"equip_type", NULL};
    struct query *q;
    if (take_query(rc, allowed, &q) != 0)
        return;
    const char *type = query_value(q, "equip_type");
    if (type != NULL && !equipment_type_valid(type)) {
        struct violations *v = new_violations(rc);
        violations_add(v, "equip_type", "unknown_reference",
                       "equip_type must be one of currency, heavy-armor, light-armor, medium-armor, shield, "
                       "simple-melee, simple-ranged, martial-melee, martial-ranged, ammunition, arcane, holy, "
                       "druidic, container, tools, other");
        bad_request(rc, "the query is not valid", v);
        return;
    }
    const struct ruleset *rs = ruleset_of(rc);
    json_t *list = json_array();
    for (size_t i = 0; i < rs->nequipment; i++) {
        const struct rs_equipment *eq = &rs->equipment[i];
        const char *t = eq->equip_type != NULL ? eq->equip_type : "other";
        if (type == NULL || strcmp(t, type) == 0)
            json_array_append_new(list, row_of_srd(eq));
    }
    if (list_rows(rc, type, 0, list) != 0) {
        json_decref(list);
        return;
    }
    answer_read(rc, "equipment", list);
}

void compat_on_equipment_get(struct route_ctx *rc)
{
    static const char *const allowed[] = {"id", NULL};
    struct query *q;
    if (take_query(rc, allowed, &q) != 0)
        return;
    if (query_value(q, "id") == NULL) {
        json_t *list = json_array();
        if (list_rows(rc, NULL, 1, list) != 0) {
            json_decref(list);
            return;
        }
        answer_read(rc, "equipment", list);
        return;
    }
    const char *id = take_id(rc, q, "id", "equipment item");
    if (id == NULL)
        return;
    answer_stored(rc, &equipment_resource, id, "equipment", row_of_doc);
}

/* The /v1 item body of an original row (new reference; extras into base_attributes), problems of the extras into v. */
static json_t *item_body(const json_t *body, struct violations *v)
{
    const char *known[5 + NEXTRA];
    static const char *const base[] = {"name", "equip_type", "base_cost", "weight"};
    for (size_t i = 0; i < 4; i++)
        known[i] = base[i];
    for (size_t i = 0; i < NEXTRA; i++)
        known[4 + i] = extra_columns[i].name;
    known[4 + NEXTRA] = NULL;
    check_members(body, known, v);
    if (!json_is_object(body))
        return NULL;
    json_t *item = json_object(), *attrs = json_object();
    for (size_t i = 0; i < 4; i++) {
        json_t *x = json_object_get(body, base[i]);
        if (x != NULL && !json_is_null(x))
            json_object_set(item, base[i], x);
    }
    for (size_t i = 0; i < NEXTRA; i++) {
        const char *k = extra_columns[i].name;
        json_t *x = json_object_get(body, k);
        if (x == NULL || json_is_null(x) || (json_is_string(x) && json_string_length(x) == 0))
            continue; /* the original's CSV rows leave columns empty */
        if (extra_columns[i].type == COL_TEXT && !json_is_string(x))
            violations_add(v, k, "wrong_type", "%s must be a string", k);
        else if (extra_columns[i].type == COL_TEXT && json_string_length(x) > (size_t)extra_columns[i].hi)
            violations_add(v, k, "too_long", "%s may be at most %lld bytes", k, extra_columns[i].hi);
        else if (extra_columns[i].type == COL_INT && !json_is_integer(x))
            violations_add(v, k, "wrong_type", "%s must be a whole number", k);
        else if (extra_columns[i].type == COL_INT &&
                 (json_integer_value(x) < extra_columns[i].lo || json_integer_value(x) > extra_columns[i].hi))
            violations_add(v, k, "out_of_range", "%s must be %lld..%lld", k, extra_columns[i].lo, extra_columns[i].hi);
        else
            json_object_set(attrs, k, x);
    }
    json_object_set_new(item, "base_attributes", attrs);
    return item;
}

void compat_on_equipment_post(struct route_ctx *rc)
{
    struct violations *v = new_violations(rc);
    json_t *body = item_body(rc->body, v);
    struct violations *found = new_violations(rc);
    json_t *item = body != NULL ? equipment_read(body, found) : NULL;
    json_decref(body);
    for (size_t i = 0; i < found->n; i++) {
        static const char prefix[] = "base_attributes.";
        const char *f = found->items[i].field;
        if (strncmp(f, prefix, sizeof(prefix) - 1) == 0)
            f += sizeof(prefix) - 1;
        violations_add(v, f, found->items[i].code, "%s", found->items[i].message);
    }
    if (item == NULL || v->n > 0) {
        json_decref(item);
        bad_request(rc, "the equipment item is not valid", v);
        return;
    }
    json_t *doc = json_pack("{s:s, s:i, s:s, s:s}", "id", "", "version", 0, "created_at", "", "updated_at", "");
    json_object_update(doc, item);
    json_decref(item);
    struct store_record cols = {
        .name = json_string_value(json_object_get(doc, "name")),
        .equip_type = json_string_value(json_object_get(doc, "equip_type")),
        .base_cost = json_number_value(json_object_get(doc, "base_cost")),
        .weight = json_number_value(json_object_get(doc, "weight")),
    };
    struct resource_write w = {.doc = doc, .cols = &cols};
    commit_and_answer(rc, &equipment_resource, &w, "successfully created new Equipment", "equipment", row_of_doc);
    json_decref(doc);
}

/* ---- campaigns ------------------------------------------------------------------ */

static const char *encumbrance_label(const char *band)
{
    for (size_t i = 0; i < sizeof(encumbrance_labels) / sizeof(encumbrance_labels[0]); i++)
        if (band != NULL && strcmp(band, encumbrance_labels[i].band) == 0)
            return encumbrance_labels[i].label;
    return "NA";
}

/* The original's campaign shape from a /v1 campaign document (borrowed). New reference. */
static json_t *campaign_view(const json_t *doc)
{
    const json_t *ch = json_object_get(doc, "character");
    json_t *equipped = json_array();
    for (int s = 0; s < CAMPAIGN_SLOTS; s++) {
        const char *slot = campaign_slot_name((enum campaign_slot)s);
        json_t *it = json_object_get(json_object_get(doc, "equipped"), slot);
        if (json_is_object(it))
            json_array_append_new(equipped, json_pack("{s:O?, s:O?, s:O?, s:s}", "item", json_object_get(it, "item"),
                                                      "name", json_object_get(it, "name"), "equip_type",
                                                      json_object_get(it, "equip_type"), "slot", slot));
    }
    json_t *pack = json_deep_copy(json_object_get(doc, "pack"));
    json_t *o = json_object();
    json_object_set_new(o, "id", json_deep_copy(json_object_get(doc, "id")));
    json_object_set_new(o, "character_id", json_deep_copy(json_object_get(doc, "character_id")));
    json_t *name = json_object_get(ch, "name");
    json_object_set_new(o, "character_name", json_is_string(name) ? json_deep_copy(name) : json_null());
    json_object_set_new(o, "level", int_or_null(json_object_get(ch, "level")));
    json_object_set_new(o, "max_hp", int_or_null(json_object_get(ch, "max_hp")));
    json_object_set_new(o, "current_hp", int_or_null(json_object_get(doc, "current_hp")));
    json_object_set_new(o, "current_xp", int_or_null(json_object_get(doc, "current_xp")));
    json_object_set_new(o, "armor_class", int_or_null(json_object_get(doc, "armor_class")));
    json_object_set_new(o, "speed", int_or_null(json_object_get(doc, "speed")));
    json_object_set_new(o, "currently_equiped", equipped);
    json_object_set_new(o, "current_pack", json_is_array(pack) ? pack : json_array());
    if (!json_is_array(pack))
        json_decref(pack);
    json_object_set_new(o, "carried_weight", json_real(json_number_value(json_object_get(doc, "carried_weight"))));
    json_object_set_new(o, "carrying_capacity", int_or_null(json_object_get(doc, "carrying_capacity")));
    json_object_set_new(o, "encumbrance",
                        json_string(encumbrance_label(json_string_value(json_object_get(doc, "encumbrance")))));
    json_object_set_new(o, "level_up_due", json_boolean(json_is_true(json_object_get(doc, "level_up_due"))));
    return o;
}

void compat_on_campaign_get(struct route_ctx *rc)
{
    static const char *const allowed[] = {"id", NULL};
    struct query *q;
    const char *id;
    if (take_query(rc, allowed, &q) != 0 || (id = take_id(rc, q, "id", "campaign")) == NULL)
        return;
    answer_stored(rc, &campaigns_resource, id, "campaign", campaign_view);
}

void compat_on_campaign_post(struct route_ctx *rc)
{
    static const char *const allowed[] = {"character", NULL};
    struct query *q;
    const char *cid;
    if (take_query(rc, allowed, &q) != 0 || (cid = take_id(rc, q, "character", "character")) == NULL)
        return;
    struct resource_stored ch;
    if (resource_load(rc, &characters_resource, cid, strlen(cid), &ch) != 0)
        return;
    json_t *snap = campaigns_character_snapshot(ruleset_of(rc), ch.doc);
    resource_stored_release(&ch);
    json_t *doc = json_pack("{s:s, s:i, s:s, s:s, s:s, s:o, s:I, s:i, s:{s:n, s:n, s:n, s:n}, s:[]}", "id", "",
                            "version", 0, "created_at", "", "updated_at", "", "character_id", cid, "character", snap,
                            "current_hp", json_integer_value(json_object_get(snap, "max_hp")), "current_xp", 0,
                            "equipped", "armor", "shield", "main_hand", "off_hand", "pack");
    campaigns_derive(ruleset_of(rc), doc);
    struct store_record cols = {.character_id = cid};
    struct resource_write w = {.doc = doc, .cols = &cols};
    commit_and_answer(rc, &campaigns_resource, &w, "successfully created new Campaign", "campaign", campaign_view);
    json_decref(doc);
}

/* An item reference as a client gives it: an SRD index, an SRD item's name (any case), or a custom item id. */
static const char *item_ref(const struct ruleset *rs, const char *given)
{
    for (size_t i = 0; i < rs->nequipment; i++)
        if (strcasecmp(given, rs->equipment[i].name) == 0)
            return rs->equipment[i].index;
    return given;
}

/*
 * Resolve entry `x` of a list (a string, or an object with "item" and
 * `extra_key`) at field `field` into an item snapshot (new reference); NULL
 * with the problem in v (or *io set: 1 on a store failure, e filled;
 * COMPAT_PARKED when the request was parked to read a custom item through).
 */
static json_t *resolve_entry(struct route_ctx *rc, const json_t *x, const char *field, const char *extra_key,
                             const json_t **extra, struct violations *v, int *io, struct err *e)
{
    const json_t *ref = x;
    *extra = NULL;
    if (json_is_object(x)) {
        /* Other members (name, weight, ... as a GET answered them) may be sent back as they were: ignored. */
        ref = json_object_get(x, "item");
        *extra = json_object_get(x, extra_key);
    }
    if (!json_is_string(ref) || json_string_length(ref) == 0 || json_string_length(ref) > 100) {
        violations_add(v, field, "wrong_type",
                       "%s must be an item (an SRD index or name, or a custom item id) or {\"item\": ...}", field);
        return NULL;
    }
    int rc_r = 0;
    const char *id = item_ref(ruleset_of(rc), json_string_value(ref));
    json_t *snap = campaigns_resolve_item(ruleset_of(rc), rc->w->store, id, &rc_r, e);
    if (snap == NULL && rc_r == ERR_NOT_FOUND && resource_read_through(rc, STORE_EQUIPMENT, id, strlen(id)))
        *io = COMPAT_PARKED; /* a custom item another instance made: the handler runs again once HarperDB was asked */
    else if (snap == NULL && rc_r == ERR_NOT_FOUND)
        violations_add(v, field, "unknown_reference", "no SRD item or custom item \"%.60s\"", json_string_value(ref));
    else if (snap == NULL)
        *io = 1;
    return snap;
}

/* The slot an item snapshot goes in when none is named: armor, shield, else the first free hand; -1 when full. */
static int auto_slot(const json_t *snap, json_t *const slots[CAMPAIGN_SLOTS])
{
    const char *armor = json_string_value(json_object_get(snap, "armor"));
    armor = armor != NULL ? armor : "none";
    if (strcmp(armor, "shield") == 0)
        return slots[CAMPAIGN_SHIELD] == NULL ? CAMPAIGN_SHIELD : -1;
    if (strcmp(armor, "none") != 0)
        return slots[CAMPAIGN_ARMOR] == NULL ? CAMPAIGN_ARMOR : -1;
    if (slots[CAMPAIGN_MAIN_HAND] == NULL)
        return CAMPAIGN_MAIN_HAND;
    return slots[CAMPAIGN_OFF_HAND] == NULL ? CAMPAIGN_OFF_HAND : -1;
}

/* Whether a snapshot may go in a named slot: armor in armor, a shield in shield, anything else in a hand. */
static int slot_fits(const json_t *snap, int slot)
{
    const char *armor = json_string_value(json_object_get(snap, "armor"));
    armor = armor != NULL ? armor : "none";
    if (strcmp(armor, "shield") == 0)
        return slot == CAMPAIGN_SHIELD;
    if (strcmp(armor, "none") != 0)
        return slot == CAMPAIGN_ARMOR;
    return slot == CAMPAIGN_MAIN_HAND || slot == CAMPAIGN_OFF_HAND;
}

/* currently_equiped (a list) into a new "equipped" object; NULL with problems in v (or *io). */
static json_t *read_equipped(struct route_ctx *rc, const json_t *list, struct violations *v, int *io, struct err *e)
{
    if (!json_is_array(list) || json_array_size(list) > CAMPAIGN_SLOTS) {
        violations_add(v, "currently_equiped", json_is_array(list) ? "too_many" : "wrong_type",
                       "currently_equiped must be a list of at most %d items (armor, shield and two hands)",
                       CAMPAIGN_SLOTS);
        return NULL;
    }
    json_t *slots[CAMPAIGN_SLOTS] = {NULL, NULL, NULL, NULL};
    size_t i;
    json_t *x;
    json_array_foreach(list, i, x) {
        char field[48];
        snprintf(field, sizeof(field), "currently_equiped[%zu]", i);
        const json_t *slot_name;
        json_t *snap = resolve_entry(rc, x, field, "slot", &slot_name, v, io, e);
        if (snap == NULL && *io == COMPAT_PARKED)
            break;
        if (snap == NULL)
            continue;
        int slot = -1;
        if (slot_name != NULL && !json_is_null(slot_name)) {
            slot = json_is_string(slot_name) ? campaign_slot_parse(json_string_value(slot_name)) : -1;
            if (slot < 0)
                violations_add(v, field, "out_of_range", "slot must be armor, shield, main_hand or off_hand");
            else if (!slot_fits(snap, slot))
                violations_add(v, field, "not_allowed",
                               "armor goes in armor, a shield in shield, anything else in main_hand or off_hand");
            else if (slots[slot] != NULL)
                violations_add(v, field, "duplicate", "two items for slot %s", json_string_value(slot_name));
            else
                slots[slot] = json_incref(snap);
        } else if ((slot = auto_slot(snap, slots)) < 0) {
            violations_add(v, field, "too_many", "no free slot for it: one armor, one shield, two hands");
        } else {
            slots[slot] = json_incref(snap);
        }
        json_decref(snap);
    }
    json_t *eq = json_object();
    for (int s = 0; s < CAMPAIGN_SLOTS; s++)
        json_object_set_new(eq, campaign_slot_name((enum campaign_slot)s), slots[s] != NULL ? slots[s] : json_null());
    if (v->n > 0 || *io) {
        json_decref(eq);
        return NULL;
    }
    return eq;
}

/* current_pack (a list) into a new "pack" array (entries merged by item); NULL with problems in v (or *io). */
static json_t *read_pack(struct route_ctx *rc, const json_t *list, struct violations *v, int *io, struct err *e)
{
    if (!json_is_array(list) || json_array_size(list) > CAMPAIGN_PACK_MAX) {
        violations_add(v, "current_pack", json_is_array(list) ? "too_many" : "wrong_type",
                       "current_pack must be a list of at most %d entries", CAMPAIGN_PACK_MAX);
        return NULL;
    }
    json_t *pack = json_array();
    size_t i;
    json_t *x;
    json_array_foreach(list, i, x) {
        char field[48];
        snprintf(field, sizeof(field), "current_pack[%zu]", i);
        const json_t *qv;
        json_t *snap = resolve_entry(rc, x, field, "quantity", &qv, v, io, e);
        if (snap == NULL && *io == COMPAT_PARKED)
            break;
        if (snap == NULL)
            continue;
        long long qty = 1;
        if (qv != NULL && !json_is_null(qv)) {
            if (!json_is_integer(qv) || json_integer_value(qv) < 1 || json_integer_value(qv) > CAMPAIGN_QUANTITY_MAX)
                violations_add(v, field, "out_of_range", "quantity must be a whole number 1..%d",
                               CAMPAIGN_QUANTITY_MAX);
            else
                qty = json_integer_value(qv);
        }
        const char *ref = json_string_value(json_object_get(snap, "item"));
        size_t k;
        json_t *have;
        int merged = 0;
        json_array_foreach(pack, k, have) {
            if (!merged && strcmp(json_string_value(json_object_get(have, "item")), ref) == 0) {
                long long sum = json_integer_value(json_object_get(have, "quantity")) + qty;
                if (sum > CAMPAIGN_QUANTITY_MAX)
                    violations_add(v, field, "out_of_range", "the pack would hold more than %d of that item",
                                   CAMPAIGN_QUANTITY_MAX);
                json_object_set_new(have, "quantity", json_integer(sum));
                merged = 1;
            }
        }
        if (!merged)
            json_array_append_new(pack, json_pack("{s:O, s:O, s:O, s:I}", "item", json_object_get(snap, "item"), "name",
                                                  json_object_get(snap, "name"), "weight",
                                                  json_object_get(snap, "weight"), "quantity", (json_int_t)qty));
        json_decref(snap);
    }
    if (v->n > 0 || *io) {
        json_decref(pack);
        return NULL;
    }
    return pack;
}

/*
 * Apply a PUT body to campaign `doc`: each given member replaces what it
 * names. 0, or -1 after answering (400 naming every problem, 500).
 */
static int apply_put(struct route_ctx *rc, const json_t *body, json_t *doc)
{
    struct violations *v = new_violations(rc);
    if (campaigns_refresh_character(rc, doc) != 0)
        return -1;
    long long max = json_integer_value(json_object_get(json_object_get(doc, "character"), "max_hp"));
    static const struct {
        const char *key;
        long long hi;
    } ints[] = {{"current_hp", -1}, {"current_xp", CAMPAIGN_XP_MAX}};
    for (size_t i = 0; i < 2; i++) {
        json_t *x = json_object_get(body, ints[i].key);
        long long hi = ints[i].hi < 0 ? max : ints[i].hi;
        if (x == NULL || json_is_null(x))
            continue;
        if (!json_is_integer(x))
            violations_add(v, ints[i].key, "wrong_type", "%s must be a whole number", ints[i].key);
        else if (json_integer_value(x) < 0 || json_integer_value(x) > hi)
            violations_add(v, ints[i].key, "out_of_range", "%s must be 0..%lld", ints[i].key, hi);
        else
            json_object_set(doc, ints[i].key, x);
    }
    if (json_integer_value(json_object_get(doc, "current_hp")) > max)
        json_object_set_new(doc, "current_hp", json_integer(max)); /* the character's maximum fell */
    int io = 0;
    struct err e = {0};
    json_t *eq = NULL, *pack = NULL, *x;
    if ((x = json_object_get(body, "currently_equiped")) != NULL && !json_is_null(x))
        eq = read_equipped(rc, x, v, &io, &e);
    if (io != COMPAT_PARKED && (x = json_object_get(body, "current_pack")) != NULL && !json_is_null(x))
        pack = read_pack(rc, x, v, &io, &e);
    if (io) {
        json_decref(eq);
        json_decref(pack);
        if (io != COMPAT_PARKED)
            routes_send_internal(rc, &e);
        return -1;
    }
    if (v->n > 0) {
        json_decref(eq);
        json_decref(pack);
        bad_request(rc, "the campaign update is not valid", v);
        return -1;
    }
    if (eq != NULL)
        json_object_set_new(doc, "equipped", eq);
    if (pack != NULL)
        json_object_set_new(doc, "pack", pack);
    campaigns_derive(ruleset_of(rc), doc);
    return 0;
}

void compat_on_campaign_put(struct route_ctx *rc)
{
    static const char *const allowed_q[] = {"id", NULL};
    static const char *const allowed[] = {"id", "current_hp", "current_xp", "currently_equiped", "current_pack", NULL};
    struct query *q;
    if (take_query(rc, allowed_q, &q) != 0)
        return;
    struct violations *v = new_violations(rc);
    check_members(rc->body, allowed, v);
    const json_t *bid = json_object_get(rc->body, "id");
    const char *qid = query_value(q, "id");
    if (bid != NULL && !json_is_string(bid))
        violations_add(v, "id", "wrong_type", "id must be the campaign's id");
    else if (bid != NULL && qid != NULL && strcmp(json_string_value(bid), qid) != 0)
        violations_add(v, "id", "not_allowed", "the body's id differs from the query's");
    if (v->n > 0) {
        bad_request(rc, "the campaign update is not valid", v);
        return;
    }
    if (qid == NULL && bid != NULL) {
        /* The id may come in the body instead: judge it as the query's. */
        q->params[0].key = "id";
        q->params[0].value = json_string_value(bid);
        q->params[0].key_problem = q->params[0].value_problem = QUERY_OK;
        q->n = 1;
    }
    const char *id = take_id(rc, q, "id", "campaign");
    if (id == NULL)
        return;
    /* No If-Match in the original: a write that raced another is redone on the fresh version. */
    for (int attempt = 0; attempt < 3; attempt++) {
        struct resource_stored st;
        if (resource_load(rc, &campaigns_resource, id, strlen(id), &st) != 0)
            return;
        int rc_c = -1;
        if (apply_put(rc, rc->body, st.doc) == 0) {
            struct store_record cols = {.character_id = json_string_value(json_object_get(st.doc, "character_id"))};
            struct resource_write w = {.id = st.id,
                                       .version = st.version,
                                       .created_at = json_string_value(json_object_get(st.doc, "created_at")),
                                       .doc = st.doc,
                                       .cols = &cols};
            rc_c = commit_and_answer(rc, &campaigns_resource, &w, "successfully updated Campaign", "campaign",
                                     campaign_view);
        }
        resource_stored_release(&st);
        if (rc_c != ERR_CONFLICT)
            return;
    }
    problem_send(rc->req, PROBLEM_UNAVAILABLE, "the campaign kept changing meanwhile; try again", NULL);
}
