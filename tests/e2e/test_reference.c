/*
 * tests/e2e/test_reference.c - the SRD reference data at /api/2014 served by
 * the real binary: starting from the root document, every resource, every
 * list entry and every {"url"} inside every document answers 200 with JSON, a
 * strong ETag and the reference Cache-Control (no dangling link anywhere); and
 * the equipment, equipment categories, proficiencies and features come back in
 * dnd5eapi shapes with the SRD's facts.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/e2e/harness.h"

#define MAX_DOCS 4096 /* far above the ~800 documents served; a walk past it is a bug */

static struct harness_server srv;
static struct http_client client;
static char auth_read[128];

/* GET `path` with the read token: 200, JSON, strong ETag, public caching; the parsed body (caller decrefs). */
static json_t *get_doc(const char *path)
{
    const char *h[] = {auth_read, NULL};
    char url[512], etag[128], cache[128];
    struct http_response r;
    snprintf(url, sizeof(url), "%s%s", srv.base_url, path);
    if (http_client_request(&client, "GET", url, h, NULL, 0, &r) != 0)
        fail_msg("GET %s: %s", path, r.error);
    if (r.status != 200)
        fail_msg("GET %s: expected 200, got %ld: %.200s", path, r.status, r.body);
    if (!http_response_header(&r, "etag", etag, sizeof(etag)) || etag[0] != '"')
        fail_msg("GET %s: no strong ETag", path);
    if (!http_response_header(&r, "cache-control", cache, sizeof(cache)) || strstr(cache, "public") == NULL)
        fail_msg("GET %s: Cache-Control \"%s\" is not public", path, cache);
    json_t *j = harness_json(&r);
    if (j == NULL)
        fail_msg("GET %s: the body is not JSON", path);
    http_response_release(&r);
    return j;
}

struct walk {
    char *paths[MAX_DOCS];
    size_t n, done;
};

static void enqueue(struct walk *w, const char *path)
{
    if (path == NULL || strncmp(path, "/api/2014", 9) != 0)
        return;
    for (size_t i = 0; i < w->n; i++)
        if (strcmp(w->paths[i], path) == 0)
            return;
    if (w->n == MAX_DOCS)
        fail_msg("more than %d reference documents reachable", MAX_DOCS);
    w->paths[w->n] = strdup(path);
    assert_non_null(w->paths[w->n]);
    w->n++;
}

/* Queue every string under a "url" key, and the root's and a class's links (plain strings). */
static void collect(struct walk *w, json_t *v, int root)
{
    const char *key;
    json_t *x;
    size_t i;
    if (json_is_object(v)) {
        json_object_foreach(v, key, x)
        {
            if (json_is_string(x) && (root || strcmp(key, "url") == 0 || strcmp(key, "class_levels") == 0))
                enqueue(w, json_string_value(x));
            else
                collect(w, x, 0);
        }
    } else if (json_is_array(v)) {
        json_array_foreach(v, i, x) collect(w, x, 0);
    }
}

static void test_every_link_resolves(void **state)
{
    (void)state;
    struct walk *w = calloc(1, sizeof(*w));
    assert_non_null(w);
    enqueue(w, "/api/2014");
    int first = 1;
    while (w->done < w->n) {
        json_t *doc = get_doc(w->paths[w->done++]);
        collect(w, doc, first);
        first = 0;
        json_decref(doc);
    }
    /* the walk reached the new resources' lists and details */
    const char *must[] = {"/api/2014/equipment",
                          "/api/2014/equipment/chain-mail",
                          "/api/2014/equipment-categories/artisans-tools",
                          "/api/2014/proficiencies/hand-crossbows",
                          "/api/2014/features/dark-ones-blessing",
                          "/api/2014/weapon-properties/versatile",
                          "/api/2014/damage-types/slashing",
                          "/api/2014/classes/monk/levels/20"};
    for (size_t i = 0; i < sizeof(must) / sizeof(must[0]); i++) {
        int found = 0;
        for (size_t k = 0; k < w->n; k++)
            found |= strcmp(w->paths[k], must[i]) == 0;
        if (!found)
            fail_msg("the walk from /api/2014 never reached %s (%zu documents)", must[i], w->n);
    }
    assert_true(w->n > 600);
    for (size_t i = 0; i < w->n; i++)
        free(w->paths[i]);
    free(w);
}

/* The index of result `i` of list document `doc`. */
static const char *result_index(json_t *doc, size_t i)
{
    return json_string_value(json_object_get(json_array_get(json_object_get(doc, "results"), i), "index"));
}

/* 1 when array `a` holds an object whose "index" is `index`. */
static int has_index(json_t *a, const char *index)
{
    size_t i;
    json_t *x;
    json_array_foreach(a, i, x)
    {
        const char *s = json_string_value(json_object_get(x, "index"));
        if (s != NULL && strcmp(s, index) == 0)
            return 1;
    }
    return 0;
}

static void test_equipment_shapes(void **state)
{
    (void)state;
    json_t *root = get_doc("/api/2014");
    assert_string_equal(json_string_value(json_object_get(root, "equipment")), "/api/2014/equipment");
    assert_string_equal(json_string_value(json_object_get(root, "equipment-categories")),
                        "/api/2014/equipment-categories");
    assert_string_equal(json_string_value(json_object_get(root, "proficiencies")), "/api/2014/proficiencies");
    json_decref(root);

    json_t *list = get_doc("/api/2014/equipment");
    assert_int_equal(json_integer_value(json_object_get(list, "count")), 197);
    assert_int_equal(json_array_size(json_object_get(list, "results")), 197);
    assert_non_null(result_index(list, 0));
    json_decref(list);

    json_t *cm = get_doc("/api/2014/equipment/chain-mail");
    assert_string_equal(json_string_value(json_object_get(cm, "name")), "Chain Mail");
    assert_string_equal(json_string_value(json_object_get(json_object_get(cm, "equipment_category"), "index")),
                        "armor");
    assert_string_equal(json_string_value(json_object_get(cm, "armor_category")), "Heavy");
    json_t *ac = json_object_get(cm, "armor_class");
    assert_int_equal(json_integer_value(json_object_get(ac, "base")), 16);
    assert_true(json_is_false(json_object_get(ac, "dex_bonus")));
    assert_int_equal(json_integer_value(json_object_get(cm, "str_minimum")), 13);
    assert_true(json_is_true(json_object_get(cm, "stealth_disadvantage")));
    assert_int_equal(json_integer_value(json_object_get(cm, "weight")), 55);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(cm, "cost"), "quantity")), 75);
    assert_string_equal(json_string_value(json_object_get(json_object_get(cm, "cost"), "unit")), "gp");
    json_decref(cm);

    json_t *ls = get_doc("/api/2014/equipment/longsword");
    assert_string_equal(json_string_value(json_object_get(ls, "category_range")), "Martial Melee");
    assert_string_equal(json_string_value(json_object_get(json_object_get(ls, "damage"), "damage_dice")), "1d8");
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(json_object_get(ls, "damage"), "damage_type"), "index")),
        "slashing");
    assert_string_equal(json_string_value(json_object_get(json_object_get(ls, "two_handed_damage"), "damage_dice")),
                        "1d10");
    assert_true(has_index(json_object_get(ls, "properties"), "versatile"));
    json_decref(ls);

    json_t *dart = get_doc("/api/2014/equipment/dart");
    assert_true(json_real_value(json_object_get(dart, "weight")) == 0.25);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(dart, "throw_range"), "long")), 60);
    json_decref(dart);

    json_t *pack = get_doc("/api/2014/equipment/explorers-pack");
    assert_string_equal(json_string_value(json_object_get(json_object_get(pack, "gear_category"), "index")),
                        "equipment-packs");
    assert_int_equal(json_array_size(json_object_get(pack, "contents")), 8);
    assert_null(json_object_get(pack, "weight"));
    json_decref(pack);

    json_t *mi = get_doc("/api/2014/equipment-categories/musical-instruments");
    assert_int_equal(json_array_size(json_object_get(mi, "equipment")), 10);
    assert_true(has_index(json_object_get(mi, "equipment"), "lute"));
    assert_false(has_index(json_object_get(mi, "equipment"), "smiths-tools"));
    json_decref(mi);
    json_t *at = get_doc("/api/2014/equipment-categories/artisans-tools");
    assert_true(has_index(json_object_get(at, "equipment"), "smiths-tools"));
    json_decref(at);
}

static void test_proficiencies_and_features(void **state)
{
    (void)state;
    json_t *list = get_doc("/api/2014/proficiencies");
    assert_int_equal(json_integer_value(json_object_get(list, "count")), 117);
    json_decref(list);

    json_t *hc = get_doc("/api/2014/proficiencies/hand-crossbows");
    assert_string_equal(json_string_value(json_object_get(hc, "name")), "Hand crossbows");
    assert_string_equal(json_string_value(json_object_get(hc, "type")), "Weapons");
    assert_string_equal(json_string_value(json_object_get(json_object_get(hc, "reference"), "url")),
                        "/api/2014/equipment/crossbow-hand");
    assert_true(has_index(json_object_get(hc, "classes"), "bard"));
    assert_true(has_index(json_object_get(hc, "classes"), "rogue"));
    assert_false(has_index(json_object_get(hc, "classes"), "wizard"));
    json_decref(hc);
    json_t *ax = get_doc("/api/2014/proficiencies/battleaxes");
    assert_true(has_index(json_object_get(ax, "races"), "dwarf"));
    json_decref(ax);
    json_t *la = get_doc("/api/2014/proficiencies/light-armor");
    assert_string_equal(json_string_value(json_object_get(json_object_get(la, "reference"), "url")),
                        "/api/2014/equipment-categories/light-armor");
    json_decref(la);

    json_t *rage = get_doc("/api/2014/features/rage");
    assert_string_equal(json_string_value(json_object_get(rage, "name")), "Rage");
    assert_int_equal(json_integer_value(json_object_get(rage, "level")), 1);
    assert_string_equal(json_string_value(json_object_get(json_object_get(rage, "class"), "index")), "barbarian");
    json_decref(rage);
    json_t *dol = get_doc("/api/2014/features/disciple-of-life");
    assert_string_equal(json_string_value(json_object_get(json_object_get(dol, "subclass"), "index")), "life");
    json_decref(dol);

    json_t *l2 = get_doc("/api/2014/classes/barbarian/levels/2");
    json_t *f = json_object_get(l2, "features");
    assert_int_equal(json_array_size(f), 2);
    assert_string_equal(json_string_value(json_object_get(json_array_get(f, 0), "name")), "Reckless Attack");
    assert_string_equal(json_string_value(json_object_get(json_array_get(f, 1), "name")), "Danger Sense");
    json_decref(l2);

    json_t *life = get_doc("/api/2014/subclasses/life");
    assert_true(has_index(json_object_get(life, "features"), "disciple-of-life"));
    json_decref(life);
    json_t *drac = get_doc("/api/2014/subclasses/draconic");
    assert_true(has_index(json_object_get(drac, "features"), "dragon-ancestor"));
    assert_true(has_index(json_object_get(drac, "features"), "draconic-resilience"));
    json_decref(drac);

    json_t *fighter = get_doc("/api/2014/classes/fighter");
    assert_true(has_index(json_object_get(fighter, "proficiencies"), "all-armor"));
    assert_true(has_index(json_object_get(fighter, "proficiencies"), "martial-weapons"));
    json_decref(fighter);
}

static int group_setup(void **state)
{
    (void)state;
    char why[2048];
    struct harness_options o = {.workers = 1};
    if (harness_server_start(&srv, &o, why, sizeof(why)) != 0) {
        fprintf(stderr, "e2e: cannot start the server: %s\n", why);
        return -1;
    }
    snprintf(auth_read, sizeof(auth_read), "Authorization: Bearer %s", srv.read_token);
    return http_client_init(&client);
}

static int group_teardown(void **state)
{
    (void)state;
    http_client_release(&client);
    harness_server_cleanup(&srv);
    harness_cleanup_all();
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_link_resolves),
        cmocka_unit_test(test_equipment_shapes),
        cmocka_unit_test(test_proficiencies_and_features),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
