/*
 * server/reference.c - see reference.h. One builder per resource turns ruleset
 * records into dnd5eapi-shaped JSON; cross-references are {index, name, url}.
 * Descriptions (prose) are never served: only names, numbers and links.
 */
#include "server/reference.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/xmalloc.h"
#include "storage/store.h"

#define BASE "/api/2014"

struct builder {
    struct reference_doc *docs;
    size_t n, cap;
};

static void add(struct builder *b, const char *path, json_t *doc)
{
    if (b->n == b->cap) {
        b->cap = b->cap ? b->cap * 2 : 128;
        b->docs = xrealloc(b->docs, b->cap * sizeof(*b->docs));
    }
    struct reference_doc *d = &b->docs[b->n++];
    d->path = xstrdup(path);
    d->body = json_dumps(doc, JSON_COMPACT | JSON_PRESERVE_ORDER);
    d->len = strlen(d->body);
    store_etag(1, d->body, d->len, d->etag);
    json_decref(doc);
}

static json_t *ref(const char *resource, const char *index, const char *name)
{
    char url[160];
    snprintf(url, sizeof(url), BASE "/%s/%s", resource, index);
    return json_pack("{s:s, s:s, s:s}", "index", index, "name", name != NULL ? name : index, "url", url);
}

/* A list document: {"count", "results": [{index, name, url}]}. */
static json_t *list_doc(json_t *results)
{
    return json_pack("{s:I, s:o}", "count", (json_int_t)json_array_size(results), "results", results);
}

static const char *ability_title(const struct ruleset *rs, const char *index)
{
    const struct rs_ability *a = ruleset_ability(rs, index);
    return a != NULL ? a->name : index;
}

static json_t *bonuses(const struct ruleset *rs, const int *b)
{
    json_t *a = json_array();
    for (size_t i = 0; i < rs->nabilities && i < RULESET_ABILITIES; i++)
        if (b[i] != 0)
            json_array_append_new(a, json_pack("{s:o, s:i}", "ability_score",
                                               ref("ability-scores", rs->abilities[i].index, rs->abilities[i].name),
                                               "bonus", b[i]));
    return a;
}

static json_t *traits(const struct rs_trait *t, size_t n)
{
    json_t *a = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(a, ref("traits", t[i].index, t[i].name));
    return a;
}

static void build_simple(struct builder *b, const char *resource, size_t n,
                         const char *(*index_of)(size_t, const void *), const char *(*name_of)(size_t, const void *),
                         const void *items)
{
    json_t *results = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(results, ref(resource, index_of(i, items), name_of(i, items)));
    char path[96];
    snprintf(path, sizeof(path), BASE "/%s", resource);
    add(b, path, list_doc(results));
}

#define ACCESSORS(T)                                                                                                   \
    static const char *T##_index(size_t i, const void *p)                                                              \
    {                                                                                                                  \
        return ((const struct rs_##T *)p)[i].index;                                                                    \
    }                                                                                                                  \
    static const char *T##_name(size_t i, const void *p)                                                               \
    {                                                                                                                  \
        return ((const struct rs_##T *)p)[i].name;                                                                     \
    }
ACCESSORS(ability)
ACCESSORS(skill)
ACCESSORS(alignment)
ACCESSORS(language)
ACCESSORS(race)
ACCESSORS(subrace)
ACCESSORS(class)
ACCESSORS(background)

static json_t *proficiency_ref(const struct ruleset *rs, const char *index)
{
    const struct rs_proficiency *p = ruleset_proficiency(rs, index);
    return ref("proficiencies", index, p != NULL ? p->name : NULL);
}

static json_t *feature_ref(const struct ruleset *rs, const char *index)
{
    const struct rs_feature *f = ruleset_feature(rs, index);
    return ref("features", index, f != NULL ? f->name : NULL);
}

static json_t *equipment_ref(const struct ruleset *rs, const char *index)
{
    const struct rs_equipment *e = ruleset_equipment(rs, index);
    return ref("equipment", index, e != NULL ? e->name : NULL);
}

static json_t *category_ref(const struct ruleset *rs, const char *index)
{
    const struct rs_equipment_category *c = ruleset_equipment_category(rs, index);
    return ref("equipment-categories", index, c != NULL ? c->name : NULL);
}

static void detail(struct builder *b, const char *resource, const char *index, json_t *doc)
{
    char path[160];
    snprintf(path, sizeof(path), BASE "/%s/%s", resource, index);
    json_object_set_new(doc, "url", json_string(path));
    add(b, path, doc);
}

static void build_details(struct builder *b, const struct ruleset *rs)
{
    for (size_t i = 0; i < rs->nabilities; i++) {
        const struct rs_ability *a = &rs->abilities[i];
        json_t *skills = json_array();
        for (size_t k = 0; k < rs->nskills; k++)
            if (strcmp(rs->skills[k].ability, a->index) == 0)
                json_array_append_new(skills, ref("skills", rs->skills[k].index, rs->skills[k].name));
        detail(b, "ability-scores", a->index,
               json_pack("{s:s, s:s, s:o}", "index", a->index, "name", a->name, "skills", skills));
    }
    for (size_t i = 0; i < rs->nskills; i++) {
        const struct rs_skill *s = &rs->skills[i];
        detail(b, "skills", s->index,
               json_pack("{s:s, s:s, s:o}", "index", s->index, "name", s->name, "ability_score",
                         ref("ability-scores", s->ability, ability_title(rs, s->ability))));
    }
    for (size_t i = 0; i < rs->nalignments; i++) {
        const struct rs_alignment *a = &rs->alignments[i];
        detail(b, "alignments", a->index,
               json_pack("{s:s, s:s, s:s}", "index", a->index, "name", a->name, "abbreviation",
                         a->abbreviation != NULL ? a->abbreviation : ""));
    }
    for (size_t i = 0; i < rs->nlanguages; i++) {
        const struct rs_language *l = &rs->languages[i];
        detail(b, "languages", l->index,
               json_pack("{s:s, s:s, s:s}", "index", l->index, "name", l->name, "type",
                         l->exotic ? "Exotic" : "Standard"));
    }
    for (size_t i = 0; i < rs->nraces; i++) {
        const struct rs_race *r = &rs->races[i];
        json_t *langs = json_array(), *subs = json_array();
        for (size_t k = 0; k < r->languages.n; k++) {
            const struct rs_language *l = ruleset_language(rs, r->languages.v[k]);
            json_array_append_new(langs, ref("languages", r->languages.v[k], l != NULL ? l->name : NULL));
        }
        for (size_t k = 0; k < rs->nsubraces; k++)
            if (strcmp(rs->subraces[k].race, r->index) == 0)
                json_array_append_new(subs, ref("subraces", rs->subraces[k].index, rs->subraces[k].name));
        detail(b, "races", r->index,
               json_pack("{s:s, s:s, s:i, s:o, s:s, s:o, s:i, s:o, s:o}", "index", r->index, "name", r->name, "speed",
                         r->speed, "ability_bonuses", bonuses(rs, r->ability_bonuses), "size",
                         r->small ? "Small" : "Medium", "languages", langs, "language_choices", r->language_choices,
                         "traits", traits(r->traits, r->ntraits), "subraces", subs));
    }
    for (size_t i = 0; i < rs->nsubraces; i++) {
        const struct rs_subrace *s = &rs->subraces[i];
        const struct rs_race *r = ruleset_race(rs, s->race);
        detail(b, "subraces", s->index,
               json_pack("{s:s, s:s, s:o, s:o, s:o}", "index", s->index, "name", s->name, "race",
                         ref("races", s->race, r != NULL ? r->name : NULL), "ability_bonuses",
                         bonuses(rs, s->ability_bonuses), "racial_traits", traits(s->traits, s->ntraits)));
    }
    for (size_t i = 0; i < rs->nclasses; i++) {
        const struct rs_class *c = &rs->classes[i];
        json_t *saves = json_array();
        for (size_t k = 0; k < c->saving_throws.n; k++)
            json_array_append_new(
                saves, ref("ability-scores", c->saving_throws.v[k], ability_title(rs, c->saving_throws.v[k])));
        char levels_url[128];
        snprintf(levels_url, sizeof(levels_url), BASE "/classes/%s/levels", c->index);
        json_t *sub = json_array();
        if (c->subclass_index != NULL)
            json_array_append_new(sub, ref("subclasses", c->subclass_index, c->subclass_name));
        json_t *profs = json_array();
        const struct rs_strs lists[] = {c->armor, c->weapons, c->tools};
        for (size_t n = 0; n < sizeof(lists) / sizeof(lists[0]); n++)
            for (size_t k = 0; k < lists[n].n; k++)
                json_array_append_new(profs, proficiency_ref(rs, lists[n].v[k]));
        for (size_t k = 0; k < c->saving_throws.n; k++) {
            char idx[64];
            snprintf(idx, sizeof(idx), "saving-throw-%s", c->saving_throws.v[k]);
            if (ruleset_proficiency(rs, idx) != NULL)
                json_array_append_new(profs, proficiency_ref(rs, idx));
        }
        detail(b, "classes", c->index,
               json_pack("{s:s, s:s, s:i, s:o, s:o, s:o, s:s}", "index", c->index, "name", c->name, "hit_die",
                         c->hit_die, "proficiencies", profs, "saving_throws", saves, "subclasses", sub, "class_levels",
                         levels_url));
        /* classes/{index}/levels: a bare array, as dnd5eapi returns it; and each level alone. */
        json_t *all = json_array();
        for (int l = 0; l < RULESET_LEVELS; l++) {
            const struct rs_class_level *lv = &c->levels[l];
            json_t *features = json_array();
            for (size_t k = 0; k < lv->features.n; k++)
                json_array_append_new(features, feature_ref(rs, lv->features.v[k]));
            char url[160];
            snprintf(url, sizeof(url), BASE "/classes/%s/levels/%d", c->index, lv->level);
            json_t *one =
                json_pack("{s:i, s:i, s:o, s:o, s:s}", "level", lv->level, "prof_bonus", lv->proficiency_bonus,
                          "features", features, "class", ref("classes", c->index, c->name), "url", url);
            json_array_append(all, one);
            add(b, url, one);
        }
        add(b, levels_url, all);
    }
    for (size_t i = 0; i < rs->nbackgrounds; i++) {
        const struct rs_background *g = &rs->backgrounds[i];
        json_t *skills = json_array();
        for (size_t k = 0; k < g->skill_proficiencies.n; k++) {
            const struct rs_skill *s = ruleset_skill(rs, g->skill_proficiencies.v[k]);
            json_array_append_new(skills, ref("skills", g->skill_proficiencies.v[k], s != NULL ? s->name : NULL));
        }
        detail(b, "backgrounds", g->index,
               json_pack("{s:s, s:s, s:o, s:i}", "index", g->index, "name", g->name, "skill_proficiencies", skills,
                         "language_choices", g->language_choices));
    }
}

/* 1 when the builder already has a document at BASE/resource/index. */
static int has_doc(const struct builder *b, const char *resource, const char *index)
{
    char path[160];
    snprintf(path, sizeof(path), BASE "/%s/%s", resource, index);
    for (size_t i = 0; i < b->n; i++)
        if (strcmp(b->docs[i].path, path) == 0)
            return 1;
    return 0;
}

/* Collect one trait (each index once) with the races and subraces that have it. */
static void trait_doc(struct builder *b, const struct ruleset *rs, const struct rs_trait *t, json_t *list)
{
    if (has_doc(b, "traits", t->index))
        return;
    json_t *races = json_array(), *subs = json_array();
    for (size_t i = 0; i < rs->nraces; i++)
        for (size_t k = 0; k < rs->races[i].ntraits; k++)
            if (strcmp(rs->races[i].traits[k].index, t->index) == 0)
                json_array_append_new(races, ref("races", rs->races[i].index, rs->races[i].name));
    for (size_t i = 0; i < rs->nsubraces; i++)
        for (size_t k = 0; k < rs->subraces[i].ntraits; k++)
            if (strcmp(rs->subraces[i].traits[k].index, t->index) == 0)
                json_array_append_new(subs, ref("subraces", rs->subraces[i].index, rs->subraces[i].name));
    json_array_append_new(list, ref("traits", t->index, t->name));
    detail(b, "traits", t->index,
           json_pack("{s:s, s:s, s:o, s:o}", "index", t->index, "name", t->name, "races", races, "subraces", subs));
}

/* Traits, class features and subclasses: the documents the others point at. */
static void build_pointed_at(struct builder *b, const struct ruleset *rs)
{
    json_t *traits_list = json_array(), *features_list = json_array(), *subclasses_list = json_array();
    for (size_t i = 0; i < rs->nraces; i++)
        for (size_t k = 0; k < rs->races[i].ntraits; k++)
            trait_doc(b, rs, &rs->races[i].traits[k], traits_list);
    for (size_t i = 0; i < rs->nsubraces; i++)
        for (size_t k = 0; k < rs->subraces[i].ntraits; k++)
            trait_doc(b, rs, &rs->subraces[i].traits[k], traits_list);
    for (size_t i = 0; i < rs->nfeatures; i++) {
        const struct rs_feature *f = &rs->features[i];
        const struct rs_class *c = ruleset_class(rs, f->class_index);
        json_t *doc = json_pack("{s:s, s:s, s:i, s:o}", "index", f->index, "name", f->name, "level", f->level, "class",
                                ref("classes", f->class_index, c != NULL ? c->name : NULL));
        if (f->subclass_index != NULL)
            json_object_set_new(
                doc, "subclass",
                ref("subclasses", f->subclass_index, c != NULL && c->subclass_name != NULL ? c->subclass_name : NULL));
        json_array_append_new(features_list, ref("features", f->index, f->name));
        detail(b, "features", f->index, doc);
    }
    for (size_t i = 0; i < rs->nclasses; i++) {
        const struct rs_class *c = &rs->classes[i];
        if (c->subclass_index != NULL && !has_doc(b, "subclasses", c->subclass_index)) {
            json_t *features = json_array();
            for (int l = 0; l < RULESET_LEVELS; l++)
                for (size_t k = 0; k < c->levels[l].subclass_features.n; k++)
                    json_array_append_new(features, feature_ref(rs, c->levels[l].subclass_features.v[k]));
            json_array_append_new(subclasses_list, ref("subclasses", c->subclass_index, c->subclass_name));
            detail(b, "subclasses", c->subclass_index,
                   json_pack("{s:s, s:s, s:o, s:i, s:o}", "index", c->subclass_index, "name",
                             c->subclass_name != NULL ? c->subclass_name : c->subclass_index, "class",
                             ref("classes", c->index, c->name), "subclass_level", c->subclass_level, "features",
                             features));
        }
    }
    add(b, BASE "/traits", list_doc(traits_list));
    add(b, BASE "/features", list_doc(features_list));
    add(b, BASE "/subclasses", list_doc(subclasses_list));
}

/* 1 when any trait of `t` grants proficiency `p` (weapon, armor or tool lists, or a skill as skill-X). */
static int traits_grant(const struct rs_trait *t, size_t n, const struct rs_proficiency *p)
{
    for (size_t i = 0; i < n; i++) {
        const struct rs_effects *fx = &t[i].effects;
        const struct rs_strs lists[] = {fx->weapon_proficiencies, fx->armor_proficiencies, fx->tool_proficiencies};
        for (size_t l = 0; l < sizeof(lists) / sizeof(lists[0]); l++)
            for (size_t k = 0; k < lists[l].n; k++)
                if (strcmp(lists[l].v[k], p->index) == 0)
                    return 1;
        for (size_t k = 0; p->skill != NULL && k < fx->skill_proficiencies.n; k++)
            if (strcmp(fx->skill_proficiencies.v[k], p->skill) == 0)
                return 1;
    }
    return 0;
}

static int class_grants(const struct rs_class *c, const struct rs_proficiency *p)
{
    const struct rs_strs lists[] = {c->armor, c->weapons, c->tools};
    for (size_t l = 0; l < sizeof(lists) / sizeof(lists[0]); l++)
        for (size_t k = 0; k < lists[l].n; k++)
            if (strcmp(lists[l].v[k], p->index) == 0)
                return 1;
    for (size_t k = 0; p->ability != NULL && k < c->saving_throws.n; k++)
        if (strcmp(c->saving_throws.v[k], p->ability) == 0)
            return 1;
    return 0;
}

static void build_proficiencies(struct builder *b, const struct ruleset *rs)
{
    json_t *list = json_array();
    for (size_t i = 0; i < rs->nproficiencies; i++) {
        const struct rs_proficiency *p = &rs->proficiencies[i];
        json_t *classes = json_array(), *races = json_array();
        for (size_t k = 0; k < rs->nclasses; k++)
            if (class_grants(&rs->classes[k], p))
                json_array_append_new(classes, ref("classes", rs->classes[k].index, rs->classes[k].name));
        for (size_t k = 0; k < rs->nraces; k++)
            if (traits_grant(rs->races[k].traits, rs->races[k].ntraits, p))
                json_array_append_new(races, ref("races", rs->races[k].index, rs->races[k].name));
        for (size_t k = 0; k < rs->nsubraces; k++)
            if (traits_grant(rs->subraces[k].traits, rs->subraces[k].ntraits, p))
                json_array_append_new(races, ref("subraces", rs->subraces[k].index, rs->subraces[k].name));
        json_t *doc = json_pack("{s:s, s:s, s:s, s:o, s:o}", "index", p->index, "type", p->type, "name", p->name,
                                "classes", classes, "races", races);
        json_t *what = NULL;
        if (p->category != NULL)
            what = category_ref(rs, p->category);
        else if (p->item != NULL)
            what = equipment_ref(rs, p->item);
        else if (p->skill != NULL) {
            const struct rs_skill *s = ruleset_skill(rs, p->skill);
            what = ref("skills", p->skill, s != NULL ? s->name : NULL);
        } else if (p->ability != NULL)
            what = ref("ability-scores", p->ability, ability_title(rs, p->ability));
        if (what != NULL)
            json_object_set_new(doc, "reference", what);
        json_array_append_new(list, ref("proficiencies", p->index, p->name));
        detail(b, "proficiencies", p->index, doc);
    }
    add(b, BASE "/proficiencies", list_doc(list));
}

/* A title-cased word as dnd5eapi writes categories: "simple" -> "Simple". */
static void title(char *out, size_t len, const char *word)
{
    snprintf(out, len, "%s", word != NULL ? word : "");
    if (out[0] >= 'a' && out[0] <= 'z')
        out[0] = (char)(out[0] - 'a' + 'A');
}

static json_t *weight_json(double w)
{
    if (w == (double)(json_int_t)w)
        return json_integer((json_int_t)w);
    return json_real(w);
}

static json_t *damage_json(const struct ruleset *rs, const char *dice, const char *type)
{
    const struct rs_damage_type *d = ruleset_damage_type(rs, type);
    return json_pack("{s:s, s:o}", "damage_dice", dice, "damage_type",
                     ref("damage-types", type, d != NULL ? d->name : NULL));
}

static void equipment_details(json_t *doc, const struct ruleset *rs, const struct rs_equipment *e)
{
    char a[32], r[32], both[64];
    if (e->weapon != NULL) {
        const struct rs_weapon *w = e->weapon;
        title(a, sizeof(a), w->martial ? "martial" : "simple");
        title(r, sizeof(r), w->ranged ? "ranged" : "melee");
        snprintf(both, sizeof(both), "%s %s", a, r);
        json_object_set_new(doc, "weapon_category", json_string(a));
        json_object_set_new(doc, "weapon_range", json_string(r));
        json_object_set_new(doc, "category_range", json_string(both));
        if (w->damage != NULL && w->damage_type != NULL)
            json_object_set_new(doc, "damage", damage_json(rs, w->damage, w->damage_type));
        if (w->two_handed_damage != NULL && w->damage_type != NULL)
            json_object_set_new(doc, "two_handed_damage", damage_json(rs, w->two_handed_damage, w->damage_type));
        json_t *range = json_pack("{s:i}", "normal", w->normal);
        if (w->long_range > 0)
            json_object_set_new(range, "long", json_integer(w->long_range));
        json_object_set_new(doc, "range", range);
        if (w->throw_normal > 0)
            json_object_set_new(doc, "throw_range",
                                json_pack("{s:i, s:i}", "normal", w->throw_normal, "long", w->throw_long));
        json_t *props = json_array();
        for (size_t k = 0; k < w->properties.n; k++) {
            const struct rs_weapon_property *p = ruleset_weapon_property(rs, w->properties.v[k]);
            json_array_append_new(props, ref("weapon-properties", w->properties.v[k], p != NULL ? p->name : NULL));
        }
        json_object_set_new(doc, "properties", props);
    }
    if (e->armor != NULL) {
        const struct rs_armor *ar = e->armor;
        title(a, sizeof(a), ar->category);
        json_object_set_new(doc, "armor_category", json_string(a));
        json_t *ac = json_pack("{s:i, s:b}", "base", ar->base, "dex_bonus", ar->dex_bonus);
        if (ar->max_bonus > 0)
            json_object_set_new(ac, "max_bonus", json_integer(ar->max_bonus));
        json_object_set_new(doc, "armor_class", ac);
        json_object_set_new(doc, "str_minimum", json_integer(ar->str_minimum));
        json_object_set_new(doc, "stealth_disadvantage", json_boolean(ar->stealth_disadvantage));
    }
    /* the second category of gear and tools is its kind: gear_category (a link), tool_category (a name) */
    if (e->categories.n > 1 && strcmp(e->categories.v[0], "adventuring-gear") == 0)
        json_object_set_new(doc, "gear_category", category_ref(rs, e->categories.v[1]));
    if (e->categories.n > 1 && strcmp(e->categories.v[0], "tools") == 0) {
        const struct rs_equipment_category *c = ruleset_equipment_category(rs, e->categories.v[1]);
        json_object_set_new(doc, "tool_category", json_string(c != NULL ? c->name : e->categories.v[1]));
    }
    if (e->ncontents > 0) {
        json_t *contents = json_array();
        for (size_t k = 0; k < e->ncontents; k++)
            json_array_append_new(contents, json_pack("{s:o, s:i}", "item", equipment_ref(rs, e->contents[k].item),
                                                      "quantity", e->contents[k].quantity));
        json_object_set_new(doc, "contents", contents);
    }
}

static void build_equipment(struct builder *b, const struct ruleset *rs)
{
    json_t *list = json_array();
    for (size_t i = 0; i < rs->nequipment; i++) {
        const struct rs_equipment *e = &rs->equipment[i];
        json_t *doc = json_pack("{s:s, s:s, s:o}", "index", e->index, "name", e->name, "equipment_category",
                                category_ref(rs, e->categories.n > 0 ? e->categories.v[0] : ""));
        equipment_details(doc, rs, e);
        json_object_set_new(doc, "cost", json_pack("{s:i, s:s}", "quantity", e->cost, "unit", e->cost_unit));
        if (e->has_weight)
            json_object_set_new(doc, "weight", weight_json(e->weight));
        if (e->quantity > 1)
            json_object_set_new(doc, "quantity", json_integer(e->quantity));
        json_array_append_new(list, ref("equipment", e->index, e->name));
        detail(b, "equipment", e->index, doc);
    }
    add(b, BASE "/equipment", list_doc(list));

    list = json_array();
    for (size_t i = 0; i < rs->nequipment_categories; i++) {
        const struct rs_equipment_category *c = &rs->equipment_categories[i];
        json_t *items = json_array();
        for (size_t k = 0; k < rs->nequipment; k++)
            if (ruleset_item_in_category(rs, rs->equipment[k].index, c->index))
                json_array_append_new(items, ref("equipment", rs->equipment[k].index, rs->equipment[k].name));
        json_array_append_new(list, ref("equipment-categories", c->index, c->name));
        detail(b, "equipment-categories", c->index,
               json_pack("{s:s, s:s, s:o}", "index", c->index, "name", c->name, "equipment", items));
    }
    add(b, BASE "/equipment-categories", list_doc(list));

    list = json_array();
    for (size_t i = 0; i < rs->ndamage_types; i++) {
        const struct rs_damage_type *d = &rs->damage_types[i];
        json_array_append_new(list, ref("damage-types", d->index, d->name));
        detail(b, "damage-types", d->index, json_pack("{s:s, s:s}", "index", d->index, "name", d->name));
    }
    add(b, BASE "/damage-types", list_doc(list));

    list = json_array();
    for (size_t i = 0; i < rs->nweapon_properties; i++) {
        const struct rs_weapon_property *p = &rs->weapon_properties[i];
        json_array_append_new(list, ref("weapon-properties", p->index, p->name));
        detail(b, "weapon-properties", p->index, json_pack("{s:s, s:s}", "index", p->index, "name", p->name));
    }
    add(b, BASE "/weapon-properties", list_doc(list));
}

static int by_path(const void *a, const void *b)
{
    return strcmp(((const struct reference_doc *)a)->path, ((const struct reference_doc *)b)->path);
}

void reference_build(const struct ruleset *rs, struct reference *out)
{
    struct builder b = {0};
    static const char *resources[] = {
        "ability-scores", "alignments", "backgrounds", "classes",          "damage-types", "equipment-categories",
        "equipment",      "features",   "languages",   "proficiencies",    "races",        "skills",
        "subclasses",     "subraces",   "traits",      "weapon-properties"};
    json_t *root = json_object();
    for (size_t i = 0; i < sizeof(resources) / sizeof(resources[0]); i++) {
        char url[64];
        snprintf(url, sizeof(url), BASE "/%s", resources[i]);
        json_object_set_new(root, resources[i], json_string(url));
    }
    json_object_set_new(root, "attribution", json_string(REFERENCE_ATTRIBUTION));
    add(&b, BASE, root);
    build_simple(&b, "ability-scores", rs->nabilities, ability_index, ability_name, rs->abilities);
    build_simple(&b, "skills", rs->nskills, skill_index, skill_name, rs->skills);
    build_simple(&b, "alignments", rs->nalignments, alignment_index, alignment_name, rs->alignments);
    build_simple(&b, "languages", rs->nlanguages, language_index, language_name, rs->languages);
    build_simple(&b, "races", rs->nraces, race_index, race_name, rs->races);
    build_simple(&b, "subraces", rs->nsubraces, subrace_index, subrace_name, rs->subraces);
    build_simple(&b, "classes", rs->nclasses, class_index, class_name, rs->classes);
    build_simple(&b, "backgrounds", rs->nbackgrounds, background_index, background_name, rs->backgrounds);
    build_details(&b, rs);
    build_pointed_at(&b, rs);
    build_proficiencies(&b, rs);
    build_equipment(&b, rs);
    qsort(b.docs, b.n, sizeof(*b.docs), by_path);
    out->docs = b.docs;
    out->n = b.n;
}

const struct reference_doc *reference_find(const struct reference *r, const char *path, size_t len)
{
    size_t lo = 0, hi = r->n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        const char *p = r->docs[mid].path;
        size_t plen = strlen(p);
        int c = memcmp(p, path, plen < len ? plen : len);
        if (c == 0)
            c = plen < len ? -1 : plen > len;
        if (c == 0)
            return &r->docs[mid];
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

void reference_release(struct reference *r)
{
    for (size_t i = 0; i < r->n; i++) {
        free(r->docs[i].path);
        free(r->docs[i].body);
    }
    free(r->docs);
    r->docs = NULL;
    r->n = 0;
}
