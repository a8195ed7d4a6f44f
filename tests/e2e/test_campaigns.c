/*
 * tests/e2e/test_campaigns.c - end-to-end tests of /v1/campaigns through the
 * real character-server (see harness.h): start a campaign from a stored
 * character, the actions (equip, unequip, pack, hp, xp) with the derived
 * armor class, carried weight, encumbrance, speed and warnings, PUT/PATCH of
 * current_hp and current_xp, list with the character filter and pagination,
 * DELETE, conditional requests, and every error status a client can meet on
 * these routes. The numbers are the SRD's, worked out by hand in comments.
 *
 * The character is API.md's Thorin (HARNESS_BUILD_FMT): hill dwarf Life
 * cleric, STR 13, DEX 8 (-1), 12 HP, speed 25, proficient with light, medium
 * and heavy armor (Life Domain) and shields, a dwarf (heavy armor costs no
 * speed). Unarmored AC 10 - 1 = 9. Capacity 15 x 13 = 195 lb; encumbered
 * over 65 lb, heavily over 130 lb.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "rest_helpers.h"

static int group_setup(void **state)
{
    (void)state;
    return rest_setup("campaigns");
}

/* Store Thorin under `name`; his id into id. */
static void create_character(const char *name, char id[64])
{
    char body[1024];
    snprintf(body, sizeof(body), HARNESS_BUILD_FMT, name);
    struct http_response r;
    send_json(&r, "POST", "/v1/characters", body);
    json_t *doc = expect_json(&r, 201, "POST /v1/characters");
    snprintf(id, 64, "%s", str_of(doc, "id"));
    json_decref(doc);
}

/* Start a campaign for character cid; its document (caller decrefs). */
static json_t *create_campaign(const char *cid)
{
    char body[128];
    snprintf(body, sizeof(body), "{\"character_id\":\"%s\"}", cid);
    struct http_response r;
    send_json(&r, "POST", "/v1/campaigns", body);
    char loc[160];
    header_of(&r, "location", loc, sizeof(loc));
    json_t *doc = expect_json(&r, 201, "POST /v1/campaigns");
    char want[160];
    snprintf(want, sizeof(want), "/v1/campaigns/%s", str_of(doc, "id"));
    if (strcmp(loc, want) != 0)
        fail_msg("Location %s, expected %s", loc, want);
    return doc;
}

/* POST an action body to /v1/campaigns/{id}/{action}; expects 200, returns the campaign. */
static json_t *act(const char *id, const char *action, const char *body)
{
    char path[160], what[256];
    snprintf(path, sizeof(path), "/v1/campaigns/%s/%s", id, action);
    snprintf(what, sizeof(what), "POST %s %s", path, body);
    struct http_response r;
    send_json(&r, "POST", path, body);
    return expect_json(&r, 200, what);
}

static void expect_num(const json_t *doc, const char *key, double want, const char *when)
{
    const json_t *x = json_object_get(doc, key);
    if (!json_is_number(x) || json_number_value(x) != want)
        fail_msg("%s: expected %s %g, got %s", when, key, want, x ? json_dumps(x, JSON_ENCODE_ANY) : "nothing");
}

static void expect_str(const json_t *doc, const char *key, const char *want, const char *when)
{
    const char *v = json_string_value(json_object_get(doc, key));
    if (v == NULL || strcmp(v, want) != 0)
        fail_msg("%s: expected %s \"%s\", got \"%s\"", when, key, want, v ? v : "(none)");
}

/* 1 when doc's warnings list one with this code. */
static int has_warning(const json_t *doc, const char *code)
{
    size_t i;
    json_t *w;
    json_array_foreach(json_object_get(doc, "warnings"), i, w)
        if (strcmp(json_string_value(json_object_get(w, "code")) ?: "", code) == 0)
            return 1;
    return 0;
}

static void test_start_and_get(void **state)
{
    (void)state;
    char cid[64], path[160], etag[80], inm[128];
    create_character("Campaign Thorin", cid);
    json_t *c = create_campaign(cid);
    expect_str(c, "character_id", cid, "new campaign");
    expect_num(c, "current_hp", 12, "new campaign");
    expect_num(c, "current_xp", 0, "new campaign");
    expect_num(c, "armor_class", 9, "new campaign (unarmored, DEX 8)");
    expect_num(c, "carried_weight", 0, "new campaign");
    expect_num(c, "carrying_capacity", 195, "new campaign (15 x STR 13)");
    expect_str(c, "encumbrance", "none", "new campaign");
    expect_num(c, "speed", 25, "new campaign");
    expect_num(c, "version", 1, "new campaign");
    assert_int_equal(json_array_size(json_object_get(c, "pack")), 0);
    assert_true(json_is_null(json_object_get(json_object_get(c, "equipped"), "armor")));
    assert_int_equal(json_array_size(json_object_get(c, "warnings")), 0);
    assert_true(json_is_false(json_object_get(c, "level_up_due")));
    /* GET with a read token, 304 on its ETag, HEAD. */
    snprintf(path, sizeof(path), "/v1/campaigns/%s", str_of(c, "id"));
    struct http_response r;
    get_read(&r, path);
    header_of(&r, "etag", etag, sizeof(etag));
    json_t *g = expect_json(&r, 200, "GET campaign");
    assert_true(json_equal(g, c));
    json_decref(g);
    snprintf(inm, sizeof(inm), "If-None-Match: %s", etag);
    req(&r, "GET", path, auth_read, inm, NULL, NULL);
    assert_int_equal(r.status, 304);
    http_response_release(&r);
    req(&r, "HEAD", path, auth_read, NULL, NULL, NULL);
    assert_int_equal(r.status, 200);
    http_response_release(&r);
    /* The campaign keeps its snapshot when the character goes. */
    char cpath[160];
    snprintf(cpath, sizeof(cpath), "/v1/characters/%s", cid);
    req(&r, "DELETE", cpath, auth_write, NULL, NULL, NULL);
    assert_int_equal(r.status, 204);
    http_response_release(&r);
    json_t *after = act(str_of(c, "id"), "hp", "{\"damage\":2}");
    expect_num(after, "current_hp", 10, "damage after the character was deleted");
    json_decref(after);
    json_decref(c);
}

static void test_equip(void **state)
{
    (void)state;
    char cid[64];
    create_character("Equip Thorin", cid);
    json_t *c = create_campaign(cid);
    const char *id = str_of(c, "id");
    /* Chain mail: heavy 16, STR 13 needed and met; 55 lb. */
    json_t *d = act(id, "equip", "{\"item\":\"chain-mail\",\"slot\":\"armor\"}");
    expect_num(d, "armor_class", 16, "chain mail");
    expect_num(d, "carried_weight", 55, "chain mail");
    expect_str(d, "encumbrance", "none", "chain mail (55 <= 65)");
    expect_num(d, "speed", 25, "chain mail");
    assert_int_equal(json_array_size(json_object_get(d, "warnings")), 0);
    expect_num(d, "version", 2, "after one equip");
    json_decref(d);
    /* + shield: 18; 61 lb. */
    d = act(id, "equip", "{\"item\":\"shield\",\"slot\":\"shield\"}");
    expect_num(d, "armor_class", 18, "chain mail and shield");
    expect_num(d, "carried_weight", 61, "chain mail and shield");
    json_decref(d);
    /* Plate replaces chain mail: 18 + 2 = 20; STR 15 needed: a warning, but a dwarf keeps his speed;
     * 65 + 6 = 71 lb > 65: encumbered, speed 25 - 10 = 15. */
    d = act(id, "equip", "{\"item\":\"plate-armor\",\"slot\":\"armor\"}");
    expect_num(d, "armor_class", 20, "plate and shield");
    expect_num(d, "carried_weight", 71, "plate and shield");
    expect_str(d, "encumbrance", "encumbered", "plate and shield (71 > 65)");
    expect_num(d, "speed", 15, "plate and shield");
    if (!has_warning(d, "strength_requirement") || !has_warning(d, "encumbered"))
        fail_msg("plate with STR 13 and 71 lb: expected strength_requirement and encumbered warnings");
    expect_str(json_object_get(json_object_get(d, "equipped"), "armor"), "item", "plate-armor", "equipped armor");
    json_decref(d);
    /* A longsword in the main hand adds 3 lb. */
    d = act(id, "equip", "{\"item\":\"longsword\",\"slot\":\"main_hand\"}");
    expect_num(d, "carried_weight", 74, "plate, shield and longsword");
    json_decref(d);
    /* Unequip the armor: unarmored 9 + shield 2 = 11; 9 lb. Unequipping an empty slot is fine. */
    d = act(id, "unequip", "{\"slot\":\"armor\"}");
    expect_num(d, "armor_class", 11, "shield only");
    expect_num(d, "carried_weight", 9, "shield and longsword");
    expect_str(d, "encumbrance", "none", "shield only");
    assert_true(json_is_null(json_object_get(json_object_get(d, "equipped"), "armor")));
    json_decref(d);
    d = act(id, "unequip", "{\"slot\":\"off_hand\"}");
    expect_num(d, "armor_class", 11, "unequip an empty slot");
    json_decref(d);

    /* A custom armor: medium, AC 13, from /v1/equipment. DEX -1: 13 - 1 = 12, + shield 14. */
    struct http_response r;
    send_json(&r, "POST", "/v1/equipment",
              "{\"name\":\"Bone Mail\",\"equip_type\":\"medium-armor\",\"weight\":12,\"base_attributes\":"
              "{\"armor_class\":13}}");
    json_t *item = expect_json(&r, 201, "POST custom armor");
    char body[160];
    snprintf(body, sizeof(body), "{\"item\":\"%s\",\"slot\":\"armor\"}", str_of(item, "id"));
    d = act(id, "equip", body);
    expect_num(d, "armor_class", 14, "custom medium armor 13, DEX -1, shield");
    expect_num(d, "carried_weight", 21, "custom armor, shield, longsword");
    json_decref(d);

    /* Refusals: wrong slots, unknown items and slots, missing and unknown fields. */
    char path[160];
    snprintf(path, sizeof(path), "/v1/campaigns/%s/equip", id);
    expect_422("POST", path, "{\"item\":\"shield\",\"slot\":\"armor\"}", "slot", "not_allowed");
    expect_422("POST", path, "{\"item\":\"chain-mail\",\"slot\":\"shield\"}", "slot", "not_allowed");
    expect_422("POST", path, "{\"item\":\"chain-mail\",\"slot\":\"main_hand\"}", "slot", "not_allowed");
    expect_422("POST", path, "{\"item\":\"longsword\",\"slot\":\"armor\"}", "slot", "not_allowed");
    snprintf(body, sizeof(body), "{\"item\":\"%s\",\"slot\":\"off_hand\"}", str_of(item, "id"));
    expect_422("POST", path, body, "slot", "not_allowed");
    expect_422("POST", path, "{\"item\":\"longsword\",\"slot\":\"head\"}", "slot", "out_of_range");
    expect_422("POST", path, "{\"item\":\"vorpal-sword\",\"slot\":\"main_hand\"}", "item", "unknown_reference");
    expect_422("POST", path, "{\"item\":\"00000000-0000-4000-8000-000000000000\",\"slot\":\"main_hand\"}", "item",
               "unknown_reference");
    expect_422("POST", path, "{\"slot\":\"main_hand\"}", "item", "required");
    expect_422("POST", path, "{\"item\":\"dagger\"}", "slot", "required");
    expect_422("POST", path, "{\"item\":5,\"slot\":\"main_hand\"}", "item", "wrong_type");
    expect_422("POST", path, "{\"item\":\"dagger\",\"slot\":\"main_hand\",\"hand\":\"left\"}", "hand",
               "unknown_field");
    snprintf(path, sizeof(path), "/v1/campaigns/%s/unequip", id);
    expect_422("POST", path, "{\"slot\":\"feet\"}", "slot", "out_of_range");
    expect_422("POST", path, "{}", "slot", "required");
    expect_422("POST", path, "{\"slot\":\"armor\",\"x\":1}", "x", "unknown_field");
    /* None of the refusals wrote a version: 2..9 are the 8 actions above. */
    snprintf(path, sizeof(path), "/v1/campaigns/%s", id);
    get_read(&r, path);
    d = expect_json(&r, 200, "GET after refusals");
    expect_num(d, "version", 8, "after 7 actions");
    json_decref(d);
    json_decref(item);
    json_decref(c);
}

/* A character who is not proficient: a wizard in chain mail is warned, not refused. */
static void test_proficiency_warning(void **state)
{
    (void)state;
    /* Hill dwarf wizard: no armor proficiency at all. INT 15, STR 13, DEX 8. */
    const char *wiz =
        "{\"name\":\"Wizard Dwarf\",\"race\":\"dwarf\",\"subrace\":\"hill-dwarf\",\"class\":\"wizard\","
        "\"background\":\"acolyte\",\"alignment\":\"lawful-good\",\"level\":1,\"ability_scores\":{\"method\":"
        "\"standard_array\",\"assign\":{\"str\":13,\"dex\":8,\"con\":14,\"int\":15,\"wis\":12,\"cha\":10}},"
        "\"skills\":[\"history\",\"arcana\"],\"languages\":[\"giant\",\"elvish\"],\"choices\":{\"tool\":"
        "\"smiths-tools\"}}";
    struct http_response r;
    send_json(&r, "POST", "/v1/characters", wiz);
    if (r.status != 201)
        skip(); /* the build rules refuse it: covered by the unit test of rules/campaign.c instead */
    json_t *ch = expect_json(&r, 201, "POST wizard");
    json_t *c = create_campaign(str_of(ch, "id"));
    json_t *d = act(str_of(c, "id"), "equip", "{\"item\":\"chain-mail\",\"slot\":\"armor\"}");
    expect_num(d, "armor_class", 16, "wizard in chain mail");
    if (!has_warning(d, "armor_not_proficient"))
        fail_msg("a wizard in chain mail: expected an armor_not_proficient warning");
    json_decref(d);
    d = act(str_of(c, "id"), "equip", "{\"item\":\"shield\",\"slot\":\"shield\"}");
    if (!has_warning(d, "shield_not_proficient"))
        fail_msg("a wizard with a shield: expected a shield_not_proficient warning");
    json_decref(d);
    json_decref(c);
    json_decref(ch);
}

static void test_pack(void **state)
{
    (void)state;
    char cid[64], path[160];
    create_character("Pack Thorin", cid);
    json_t *c = create_campaign(cid);
    const char *id = str_of(c, "id");
    /* Rope 10 lb each: 2 then 3 more = 5 ropes, 50 lb. */
    json_t *d = act(id, "pack", "{\"add\":{\"item\":\"rope-hempen-50-feet\",\"quantity\":2}}");
    expect_num(d, "carried_weight", 20, "2 ropes");
    json_decref(d);
    d = act(id, "pack", "{\"add\":{\"item\":\"rope-hempen-50-feet\",\"quantity\":3}}");
    expect_num(d, "carried_weight", 50, "5 ropes");
    assert_int_equal(json_array_size(json_object_get(d, "pack")), 1);
    expect_num(json_array_get(json_object_get(d, "pack"), 0), "quantity", 5, "5 ropes");
    json_decref(d);
    /* 65 lb exactly (5 x 13): none; 66.x: encumbered (+ a 1 lb dagger... use 16 more ropes: 210 > 195). */
    d = act(id, "pack", "{\"add\":{\"item\":\"rope-hempen-50-feet\"}}"); /* quantity defaults to 1: 60 lb */
    expect_num(d, "carried_weight", 60, "6 ropes");
    json_decref(d);
    d = act(id, "equip", "{\"item\":\"shield\",\"slot\":\"shield\"}"); /* + 6 = 66 > 65 */
    expect_str(d, "encumbrance", "encumbered", "66 lb with STR 13");
    expect_num(d, "speed", 15, "66 lb with STR 13");
    json_decref(d);
    d = act(id, "pack", "{\"add\":{\"item\":\"rope-hempen-50-feet\",\"quantity\":7}}"); /* 130 + 6 = 136 > 130 */
    expect_str(d, "encumbrance", "heavily-encumbered", "136 lb with STR 13");
    expect_num(d, "speed", 5, "136 lb with STR 13 (25 - 20)");
    json_decref(d);
    d = act(id, "pack", "{\"add\":{\"item\":\"rope-hempen-50-feet\",\"quantity\":6}}"); /* 190 + 6 = 196 > 195 */
    expect_str(d, "encumbrance", "over-capacity", "196 lb with STR 13");
    expect_num(d, "speed", 5, "over capacity");
    json_decref(d);
    d = act(id, "pack", "{\"remove\":{\"item\":\"rope-hempen-50-feet\",\"quantity\":19}}"); /* all gone: 6 lb */
    expect_num(d, "carried_weight", 6, "all ropes removed");
    assert_int_equal(json_array_size(json_object_get(d, "pack")), 0);
    json_decref(d);
    d = act(id, "pack", "{\"add\":{\"item\":\"dagger\",\"quantity\":2}}");
    expect_num(d, "carried_weight", 8, "shield and 2 daggers");
    json_decref(d);
    d = act(id, "pack", "{\"remove\":{\"item\":\"dagger\"}}");
    expect_num(json_array_get(json_object_get(d, "pack"), 0), "quantity", 1, "one dagger left");
    json_decref(d);
    snprintf(path, sizeof(path), "/v1/campaigns/%s/pack", id);
    expect_422("POST", path, "{\"remove\":{\"item\":\"dagger\",\"quantity\":2}}", "remove.quantity", "out_of_range");
    expect_422("POST", path, "{\"remove\":{\"item\":\"longsword\"}}", "remove.item", "unknown_reference");
    expect_422("POST", path, "{\"add\":{\"item\":\"no-such-thing\"}}", "add.item", "unknown_reference");
    expect_422("POST", path, "{\"add\":{\"item\":\"dagger\",\"quantity\":0}}", "add.quantity", "out_of_range");
    expect_422("POST", path, "{\"add\":{\"item\":\"dagger\",\"quantity\":10001}}", "add.quantity", "out_of_range");
    expect_422("POST", path, "{\"add\":{\"item\":\"dagger\",\"quantity\":\"2\"}}", "add.quantity", "wrong_type");
    expect_422("POST", path, "{\"add\":{\"item\":\"dagger\",\"quantity\":10000}}", "add.quantity", "out_of_range");
    expect_422("POST", path, "{\"add\":{\"item\":\"dagger\",\"colour\":1}}", "add", "unknown_field");
    expect_422("POST", path, "{\"add\":[]}", "add", "wrong_type");
    expect_422("POST", path, "{}", "", "required");
    expect_422("POST", path, "{\"add\":{\"item\":\"dagger\"},\"remove\":{\"item\":\"dagger\"}}", "", "required");
    expect_422("POST", path, "{\"take\":{}}", "take", "unknown_field");
    json_decref(c);
}

static void test_hp_xp_put_patch(void **state)
{
    (void)state;
    char cid[64], path[160], etag[80], im[128];
    create_character("HP Thorin", cid);
    json_t *c = create_campaign(cid);
    const char *id = str_of(c, "id");
    json_t *d = act(id, "hp", "{\"damage\":5}");
    expect_num(d, "current_hp", 7, "12 - 5");
    json_decref(d);
    d = act(id, "hp", "{\"heal\":100}");
    expect_num(d, "current_hp", 12, "healed past max");
    json_decref(d);
    d = act(id, "hp", "{\"damage\":50}");
    expect_num(d, "current_hp", 0, "damage past 0");
    json_decref(d);
    d = act(id, "hp", "{\"damage\":0,\"heal\":4}");
    expect_num(d, "current_hp", 4, "heal 4 from 0");
    json_decref(d);
    snprintf(path, sizeof(path), "/v1/campaigns/%s/hp", id);
    expect_422("POST", path, "{}", "", "required");
    expect_422("POST", path, "{\"damage\":-1}", "damage", "out_of_range");
    expect_422("POST", path, "{\"heal\":1.5}", "heal", "wrong_type");
    expect_422("POST", path, "{\"damage\":1000001}", "damage", "out_of_range");
    expect_422("POST", path, "{\"hurt\":1}", "hurt", "unknown_field");

    /* XP: 299 is not enough for level 2; 300 is, exactly. */
    d = act(id, "xp", "{\"award\":299}");
    expect_num(d, "current_xp", 299, "299 XP");
    assert_true(json_is_false(json_object_get(d, "level_up_due")));
    expect_num(d, "next_level_xp", 300, "level 1");
    json_decref(d);
    d = act(id, "xp", "{\"award\":1}");
    assert_true(json_is_true(json_object_get(d, "level_up_due")));
    expect_num(d, "level_by_xp", 2, "300 XP");
    json_decref(d);
    d = act(id, "xp", "{\"award\":600}");
    expect_num(d, "level_by_xp", 3, "900 XP");
    json_decref(d);
    snprintf(path, sizeof(path), "/v1/campaigns/%s/xp", id);
    expect_422("POST", path, "{}", "award", "required");
    expect_422("POST", path, "{\"award\":-5}", "award", "out_of_range");
    expect_422("POST", path, "{\"award\":\"lots\"}", "award", "wrong_type");
    expect_422("POST", path, "{\"award\":1,\"bonus\":2}", "bonus", "unknown_field");

    /* PUT replaces both; PATCH one; only these two fields. */
    snprintf(path, sizeof(path), "/v1/campaigns/%s", id);
    struct http_response r;
    get_read(&r, path);
    header_of(&r, "etag", etag, sizeof(etag));
    http_response_release(&r);
    snprintf(im, sizeof(im), "If-Match: %s", etag);
    req(&r, "PUT", path, auth_write, "Content-Type: application/json", im, "{\"current_hp\":9,\"current_xp\":50}");
    d = expect_json(&r, 200, "PUT campaign");
    expect_num(d, "current_hp", 9, "PUT");
    expect_num(d, "current_xp", 50, "PUT");
    assert_true(json_is_false(json_object_get(d, "level_up_due")));
    json_decref(d);
    req(&r, "PUT", path, auth_write, "Content-Type: application/json", im, "{\"current_hp\":1,\"current_xp\":1}");
    expect_status(&r, 412, "PUT with a stale If-Match");
    req(&r, "PATCH", path, auth_write, "Content-Type: application/merge-patch+json", NULL, "{\"current_hp\":11}");
    d = expect_json(&r, 200, "PATCH campaign");
    expect_num(d, "current_hp", 11, "PATCH");
    expect_num(d, "current_xp", 50, "PATCH keeps XP");
    json_decref(d);
    expect_422("PUT", path, "{\"current_hp\":3}", "current_xp", "required");
    expect_422("PUT", path, "{\"current_xp\":3}", "current_hp", "required");
    expect_422("PUT", path, "{\"current_hp\":13,\"current_xp\":0}", "current_hp", "out_of_range");
    expect_422("PUT", path, "{\"current_hp\":-1,\"current_xp\":0}", "current_hp", "out_of_range");
    expect_422("PUT", path, "{\"current_hp\":1,\"current_xp\":1000000001}", "current_xp", "out_of_range");
    expect_422("PATCH", path, "{\"current_hp\":\"full\"}", "current_hp", "wrong_type");
    expect_422("PATCH", path, "{\"current_hp\":null}", "current_hp", "wrong_type");
    expect_422("PATCH", path, "{\"equipped\":{\"armor\":null}}", "equipped", "unknown_field");
    expect_422("PATCH", path, "{\"character_id\":\"x\"}", "character_id", "unknown_field");
    expect_422("PATCH", path, "[]", "", "wrong_type");
    json_decref(c);
}

static void test_create_list_delete(void **state)
{
    (void)state;
    char c1[64], c2[64], path[256];
    create_character("List One", c1);
    create_character("List Two", c2);
    json_t *a = create_campaign(c1), *b = create_campaign(c1), *x = create_campaign(c2);
    struct http_response r;
    /* Filter by character. */
    snprintf(path, sizeof(path), "/v1/campaigns?character_id=%s", c1);
    get_read(&r, path);
    json_t *l = expect_json(&r, 200, path);
    assert_int_equal(int_of(l, "count"), 2);
    json_decref(l);
    /* Pagination walk with limit 1: every campaign once, next keeps the filter. */
    snprintf(path, sizeof(path), "/v1/campaigns?character_id=%s&limit=1", c1);
    json_t *seen = json_object();
    for (int pages = 0; pages < 10; pages++) {
        get_read(&r, path);
        l = expect_json(&r, 200, path);
        size_t i;
        json_t *e;
        json_array_foreach(json_object_get(l, "results"), i, e) {
            if (json_object_get(seen, str_of(e, "id")))
                fail_msg("campaign %s listed twice", str_of(e, "id"));
            json_object_set_new(seen, str_of(e, "id"), json_true());
            expect_str(e, "character_id", c1, "filtered list");
        }
        json_t *next = json_object_get(l, "next");
        if (json_is_null(next)) {
            json_decref(l);
            break;
        }
        snprintf(path, sizeof(path), "%s", json_string_value(next));
        if (strstr(path, c1) == NULL)
            fail_msg("next %s drops the character filter", path);
        json_decref(l);
    }
    if (json_object_size(seen) != 2 || !json_object_get(seen, str_of(a, "id")) || !json_object_get(seen, str_of(b, "id")))
        fail_msg("walking the filtered list did not give exactly the character's two campaigns");
    json_decref(seen);
    get_read(&r, "/v1/campaigns");
    l = expect_json(&r, 200, "list all");
    if (int_of(l, "count") < 3)
        fail_msg("list count %lld, expected at least 3", int_of(l, "count"));
    json_decref(l);
    static const struct {
        const char *q, *field, *code;
    } bad[] = {
        {"character_id=abc", "character_id", "out_of_range"},
        {"limit=0", "limit", "out_of_range"},
        {"cursor=eDox", "cursor", "invalid"}, /* base64url of "x:1": not a campaign id */
        {"race=dwarf", "", "unknown_field"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        snprintf(path, sizeof(path), "/v1/campaigns?%s", bad[i].q);
        get_read(&r, path);
        json_t *p = expect_problem(&r, 422, path);
        expect_error(p, bad[i].field, bad[i].code);
        json_decref(p);
    }
    /* Create refusals. */
    expect_422("POST", "/v1/campaigns", "{}", "character_id", "required");
    expect_422("POST", "/v1/campaigns", "{\"character_id\":7}", "character_id", "wrong_type");
    expect_422("POST", "/v1/campaigns", "{\"character_id\":\"00000000-0000-4000-8000-000000000000\"}", "character_id",
               "unknown_reference");
    expect_422("POST", "/v1/campaigns", "{\"character_id\":\"nope\"}", "character_id", "unknown_reference");
    char body[160];
    snprintf(body, sizeof(body), "{\"character_id\":\"%s\",\"current_hp\":5}", c1);
    expect_422("POST", "/v1/campaigns", body, "current_hp", "unknown_field");
    /* DELETE: 204, then 404 on every route of it. */
    snprintf(path, sizeof(path), "/v1/campaigns/%s", str_of(x, "id"));
    req(&r, "DELETE", path, auth_write, NULL, NULL, NULL);
    assert_int_equal(r.status, 204);
    http_response_release(&r);
    get_read(&r, path);
    expect_status(&r, 404, "GET a deleted campaign");
    static const char *const actions[] = {"equip", "unequip", "pack", "hp", "xp"};
    for (size_t i = 0; i < 5; i++) {
        snprintf(path, sizeof(path), "/v1/campaigns/%s/%s", str_of(x, "id"), actions[i]);
        send_json(&r, "POST", path, "{}");
        expect_status(&r, 404, path);
    }
    json_decref(a);
    json_decref(b);
    json_decref(x);
}

static void test_errors(void **state)
{
    (void)state;
    char cid[64], path[200];
    create_character("Error Thorin", cid);
    json_t *c = create_campaign(cid);
    const char *id = str_of(c, "id");
    snprintf(path, sizeof(path), "/v1/campaigns/%s", id);
    check_write_errors("PUT", path, "{\"current_hp\":1,\"current_xp\":0}");
    check_write_errors("PATCH", path, "{\"current_hp\":1}");
    check_write_errors("DELETE", path, NULL);
    static const struct {
        const char *action, *body;
    } acts[] = {{"equip", "{\"item\":\"dagger\",\"slot\":\"main_hand\"}"},
                {"unequip", "{\"slot\":\"main_hand\"}"},
                {"pack", "{\"add\":{\"item\":\"dagger\"}}"},
                {"hp", "{\"damage\":1}"},
                {"xp", "{\"award\":1}"}};
    struct http_response r;
    for (size_t i = 0; i < sizeof(acts) / sizeof(acts[0]); i++) {
        snprintf(path, sizeof(path), "/v1/campaigns/%s/%s", id, acts[i].action);
        check_write_errors("POST", path, acts[i].body);
        req(&r, "GET", path, auth_read, NULL, NULL, NULL);
        expect_status(&r, 405, path);
        snprintf(path, sizeof(path), "/v1/campaigns/00000000-0000-4000-8000-000000000000/%s", acts[i].action);
        send_json(&r, "POST", path, acts[i].body);
        expect_status(&r, 404, path);
    }
    /* The If-Match that is current works on an action. */
    char etag[80], im[128];
    snprintf(path, sizeof(path), "/v1/campaigns/%s", id);
    get_read(&r, path);
    header_of(&r, "etag", etag, sizeof(etag));
    http_response_release(&r);
    snprintf(im, sizeof(im), "If-Match: %s", etag);
    snprintf(path, sizeof(path), "/v1/campaigns/%s/hp", id);
    req(&r, "POST", path, auth_write, "Content-Type: application/json", im, "{\"damage\":1}");
    json_t *d = expect_json(&r, 200, "hp with the current If-Match");
    expect_num(d, "current_hp", 11, "12 - 1");
    json_decref(d);
    /* Collection: 401, 403, 415, 405. */
    char body[160];
    snprintf(body, sizeof(body), "{\"character_id\":\"%s\"}", cid);
    req(&r, "POST", "/v1/campaigns", "Content-Type: application/json", NULL, NULL, body);
    expect_status(&r, 401, "POST /v1/campaigns without a token");
    req(&r, "POST", "/v1/campaigns", auth_read, "Content-Type: application/json", NULL, body);
    expect_status(&r, 403, "POST /v1/campaigns with a read token");
    req(&r, "POST", "/v1/campaigns", auth_write, "Content-Type: text/plain", NULL, body);
    expect_status(&r, 415, "POST /v1/campaigns text/plain");
    req(&r, "GET", "/v1/campaigns", NULL, NULL, NULL, NULL);
    expect_status(&r, 401, "GET /v1/campaigns without a token");
    send_json(&r, "PUT", "/v1/campaigns", body);
    expect_status(&r, 405, "PUT /v1/campaigns");
    get_read(&r, "/v1/campaigns/not-an-id");
    expect_status(&r, 404, "GET a malformed id");
    json_decref(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_start_and_get),     cmocka_unit_test(test_equip),
        cmocka_unit_test(test_proficiency_warning), cmocka_unit_test(test_pack),
        cmocka_unit_test(test_hp_xp_put_patch),   cmocka_unit_test(test_create_list_delete),
        cmocka_unit_test(test_errors),
    };
    return cmocka_run_group_tests_name("campaigns", tests, group_setup, rest_teardown);
}
