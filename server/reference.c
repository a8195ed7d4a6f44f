/*
 * server/reference.c - see reference.h. One builder per resource turns ruleset
 * records into dnd5eapi-shaped JSON; cross-references are {index, name, url}.
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

static void build_simple(struct builder *b, const char *resource, size_t n, const char *(*index_of)(size_t, const void *),
                         const char *(*name_of)(size_t, const void *), const void *items)
{
    json_t *results = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(results, ref(resource, index_of(i, items), name_of(i, items)));
    char path[96];
    snprintf(path, sizeof(path), BASE "/%s", resource);
    add(b, path, list_doc(results));
}

#define ACCESSORS(T)                                                                                                   \
    static const char *T##_index(size_t i, const void *p)                                                            \
    {                                                                                                                  \
        return ((const struct rs_##T *)p)[i].index;                                                                    \
    }                                                                                                                  \
    static const char *T##_name(size_t i, const void *p)                                                             \
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
            json_array_append_new(saves, ref("ability-scores", c->saving_throws.v[k],
                                             ability_title(rs, c->saving_throws.v[k])));
        char levels_url[128];
        snprintf(levels_url, sizeof(levels_url), BASE "/classes/%s/levels", c->index);
        json_t *sub = json_array();
        if (c->subclass_index != NULL)
            json_array_append_new(sub, ref("subclasses", c->subclass_index, c->subclass_name));
        detail(b, "classes", c->index,
               json_pack("{s:s, s:s, s:i, s:o, s:o, s:s}", "index", c->index, "name", c->name, "hit_die", c->hit_die,
                         "saving_throws", saves, "subclasses", sub, "class_levels", levels_url));
        /* classes/{index}/levels: a bare array, as dnd5eapi returns it; and each level alone. */
        json_t *all = json_array();
        for (int l = 0; l < RULESET_LEVELS; l++) {
            const struct rs_class_level *lv = &c->levels[l];
            json_t *features = json_array();
            for (size_t k = 0; k < lv->features.n; k++)
                json_array_append_new(features, ref("features", lv->features.v[k], NULL));
            char url[160];
            snprintf(url, sizeof(url), BASE "/classes/%s/levels/%d", c->index, lv->level);
            json_t *one = json_pack("{s:i, s:i, s:o, s:o, s:s}", "level", lv->level, "prof_bonus",
                                    lv->proficiency_bonus, "features", features, "class",
                                    ref("classes", c->index, c->name), "url", url);
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
    for (size_t i = 0; i < rs->nclasses; i++) {
        const struct rs_class *c = &rs->classes[i];
        for (int l = 0; l < RULESET_LEVELS; l++) {
            const struct rs_class_level *lv = &c->levels[l];
            for (size_t k = 0; k < lv->features.n; k++) {
                const char *f = lv->features.v[k];
                if (has_doc(b, "features", f))
                    continue;
                json_array_append_new(features_list, ref("features", f, NULL));
                detail(b, "features", f,
                       json_pack("{s:s, s:s, s:i, s:o}", "index", f, "name", f, "level", lv->level, "class",
                                 ref("classes", c->index, c->name)));
            }
        }
        if (c->subclass_index != NULL && !has_doc(b, "subclasses", c->subclass_index)) {
            json_array_append_new(subclasses_list, ref("subclasses", c->subclass_index, c->subclass_name));
            detail(b, "subclasses", c->subclass_index,
                   json_pack("{s:s, s:s, s:o, s:i}", "index", c->subclass_index, "name",
                             c->subclass_name != NULL ? c->subclass_name : c->subclass_index, "class",
                             ref("classes", c->index, c->name), "subclass_level", c->subclass_level));
        }
    }
    add(b, BASE "/traits", list_doc(traits_list));
    add(b, BASE "/features", list_doc(features_list));
    add(b, BASE "/subclasses", list_doc(subclasses_list));
}

static int by_path(const void *a, const void *b)
{
    return strcmp(((const struct reference_doc *)a)->path, ((const struct reference_doc *)b)->path);
}

void reference_build(const struct ruleset *rs, struct reference *out)
{
    struct builder b = {0};
    static const char *resources[] = {"ability-scores", "alignments", "backgrounds", "classes",    "features",
                                      "languages",      "races",      "skills",      "subclasses", "subraces",
                                      "traits"};
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
