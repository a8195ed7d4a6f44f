/*
 * tests/e2e/test_characters.c - end-to-end tests of /v1/characters through
 * the real character-server (see harness.h): create with the computed sheet,
 * validate, list with filters and cursor pagination, get, PUT, PATCH (JSON
 * merge patch), DELETE, level-up, random, the roll-id flow, conditional
 * requests (ETag, If-None-Match 304, If-Match 412) and every error status a
 * client can meet on these routes. The expected numbers are the SRD's,
 * worked out by hand in the comments. One server serves the group; table
 * policy tests start their own.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "harness.h"

static struct harness_server srv; /* shared by the group */
static struct harness_server aux; /* a policy test's own server */
static char auth_write[128], auth_read[128];

/*
 * Thorin, API.md's example: hill dwarf cleric (Life), standard array.
 * CON 14 + 2 (dwarf) = 16 (+3); WIS 15 + 1 (hill dwarf) = 16 (+3); DEX 8 (-1).
 * HP: d8 max 8 + 3 CON + 1 Dwarven Toughness = 12. AC unarmored 10 - 1 = 9.
 */
static const char *const THORIN =
    "{\"name\":\"Thorin\",\"race\":\"dwarf\",\"subrace\":\"hill-dwarf\",\"class\":\"cleric\",\"subclass\":\"life\","
    "\"background\":\"acolyte\",\"alignment\":\"lawful-good\",\"level\":1,\"ability_scores\":{\"method\":"
    "\"standard_array\",\"assign\":{\"str\":13,\"dex\":8,\"con\":14,\"int\":10,\"wis\":15,\"cha\":12}},"
    "\"skills\":[\"history\",\"medicine\"],\"languages\":[\"giant\",\"elvish\"],\"choices\":{\"tool\":"
    "\"smiths-tools\"}}";

/* ---- helpers ---- */

static void check_common(const struct http_response *r, const char *method, const char *path)
{
    char v[256];
    if (!http_response_header(r, "x-request-id", v, sizeof(v)) || v[0] == '\0')
        fail_msg("%s %s: %ld response has no X-Request-Id", method, path, r->status);
    if (r->status == 304 || r->status == 204)
        return;
    if (!http_response_header(r, "content-length", v, sizeof(v)))
        fail_msg("%s %s: %ld response has no Content-Length", method, path, r->status);
    if (strcmp(method, "HEAD") != 0 && strtoull(v, NULL, 10) != r->body_len)
        fail_msg("%s %s: Content-Length %s but %zu body bytes", method, path, v, r->body_len);
}

/* One request to `s` with up to three extra headers (NULL ends them). */
static void req_on(const struct harness_server *s, struct http_response *r, const char *method, const char *path,
                   const char *h1, const char *h2, const char *h3, const char *body)
{
    const char *h[4] = {h1, h2, h3, NULL};
    char url[2048];
    snprintf(url, sizeof(url), "%s%s", s->base_url, path);
    if (http_request(method, url, h, body, body != NULL ? strlen(body) : 0, r) != 0)
        fail_msg("%s %s: no response: %s", method, path, r->error);
    check_common(r, method, path);
}

static void req(struct http_response *r, const char *method, const char *path, const char *h1, const char *h2,
                const char *h3, const char *body)
{
    req_on(&srv, r, method, path, h1, h2, h3, body);
}

/* A write with the write token and Content-Type: application/json. */
static void send_json(struct http_response *r, const char *method, const char *path, const char *body)
{
    req(r, method, path, auth_write, "Content-Type: application/json", NULL, body);
}

static json_t *body_json(const struct http_response *r)
{
    json_t *j = harness_json(r);
    if (j == NULL)
        fail_msg("%ld response is not JSON: %.300s", r->status, r->body);
    return j;
}

/* Assert a problem+json with `status`; returns it (caller decrefs). */
static json_t *expect_problem(const struct http_response *r, long status)
{
    if (r->status != status)
        fail_msg("expected %ld, got %ld: %.600s", status, r->status, r->body);
    char ct[128];
    if (!http_response_header(r, "content-type", ct, sizeof(ct)) || strncmp(ct, "application/problem+json", 24) != 0)
        fail_msg("%ld response is not application/problem+json", status);
    json_t *j = body_json(r);
    assert_int_equal(json_integer_value(json_object_get(j, "status")), status);
    return j;
}

static void expect_status_problem(struct http_response *r, long status)
{
    json_decref(expect_problem(r, status));
    http_response_release(r);
}

/* Assert a 422 that lists (field, code). */
static void expect_error(const json_t *problem, const char *field, const char *code)
{
    if (!harness_problem_has(problem, field, code)) {
        char *text = json_dumps(problem, JSON_COMPACT);
        fail_msg("no error {field %s, code %s} in %s", field, code, text);
    }
}

static long long int_at(const json_t *o, const char *a, const char *b)
{
    const json_t *x = json_object_get(o, a);
    if (b != NULL)
        x = json_object_get(x, b);
    if (!json_is_integer(x))
        fail_msg("%s%s%s is not an integer", a, b ? "." : "", b ? b : "");
    return json_integer_value(x);
}

static const char *str_at(const json_t *o, const char *a, const char *b)
{
    const json_t *x = json_object_get(o, a);
    if (b != NULL)
        x = json_object_get(x, b);
    if (!json_is_string(x))
        fail_msg("%s%s%s is not a string", a, b ? "." : "", b ? b : "");
    return json_string_value(x);
}

/* 1 when the array of refs `list` has one with this index. */
static const json_t *find_ref(const json_t *list, const char *index)
{
    size_t i;
    const json_t *x;
    json_array_foreach(list, i, x) {
        if (json_is_string(json_object_get(x, "index")) &&
            strcmp(json_string_value(json_object_get(x, "index")), index) == 0)
            return x;
    }
    return NULL;
}

/* Create from `body` (201 expected); id (37+ bytes) and etag (64) out; returns the document. */
static json_t *create(const char *body, char *id, char *etag)
{
    struct http_response r;
    send_json(&r, "POST", "/v1/characters", body);
    if (r.status != 201)
        fail_msg("create: expected 201, got %ld: %.800s", r.status, r.body);
    char loc[256], sync[32];
    assert_true(http_response_header(&r, "location", loc, sizeof(loc)));
    assert_true(http_response_header(&r, "sync-status", sync, sizeof(sync)));
    assert_string_equal(sync, "off");
    json_t *doc = body_json(&r);
    snprintf(id, 64, "%s", str_at(doc, "id", NULL));
    char want[128];
    snprintf(want, sizeof(want), "/v1/characters/%s", id);
    assert_string_equal(loc, want);
    if (etag != NULL && !http_response_header(&r, "etag", etag, 64))
        fail_msg("201 has no ETag");
    http_response_release(&r);
    return doc;
}

/* THORIN with one member replaced: `member` is a JSON text like "\"name\":\"X\"". */
static char *thorin_with(const char *key, const char *value_json)
{
    json_t *o = json_loads(THORIN, 0, NULL);
    json_t *v = json_loads(value_json, JSON_DECODE_ANY, NULL);
    assert_non_null(v);
    json_object_set_new(o, key, v);
    char *s = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    return s;
}

static void path_of(char *out, size_t n, const char *id, const char *suffix)
{
    snprintf(out, n, "/v1/characters/%s%s", id, suffix);
}

/* ---- fixtures ---- */

static int group_setup(void **state)
{
    (void)state;
    struct harness_options o = {.workers = 2};
    return harness_group_start(&srv, &o, "characters", auth_write, auth_read, sizeof(auth_write));
}

static int group_teardown(void **state)
{
    (void)state;
    harness_server_cleanup(&srv);
    harness_cleanup_all();
    return 0;
}

static int aux_teardown(void **state)
{
    (void)state;
    harness_server_cleanup(&aux);
    return 0;
}

/* ---- create and get ---- */

static void test_create_thorin_sheet(void **state)
{
    (void)state;
    char id[64], etag[64];
    json_t *d = create(THORIN, id, etag);
    assert_int_equal(int_at(d, "version", NULL), 1);
    assert_string_equal(str_at(d, "created_at", NULL), str_at(d, "updated_at", NULL));
    assert_string_equal(str_at(d, "name", NULL), "Thorin");
    assert_int_equal(int_at(d, "level", NULL), 1);
    assert_int_equal(int_at(d, "experience_points", NULL), 0);
    assert_string_equal(str_at(d, "race", "url"), "/api/2014/races/dwarf");
    assert_string_equal(str_at(d, "subrace", "index"), "hill-dwarf");
    assert_string_equal(str_at(d, "class", "name"), "Cleric");
    assert_string_equal(str_at(d, "background", "index"), "acolyte");
    assert_string_equal(str_at(d, "alignment", "index"), "lawful-good");
    const json_t *ab = json_object_get(d, "ability_scores");
    assert_int_equal(int_at(ab, "con", "base"), 14);
    assert_int_equal(int_at(ab, "con", "bonus"), 2);
    assert_int_equal(int_at(ab, "con", "score"), 16);
    assert_int_equal(int_at(ab, "con", "modifier"), 3);
    assert_int_equal(int_at(ab, "wis", "score"), 16); /* 15 + 1 hill dwarf */
    assert_int_equal(int_at(ab, "dex", "modifier"), -1);
    assert_int_equal(int_at(d, "proficiency_bonus", NULL), 2);
    const json_t *cls = json_array_get(json_object_get(d, "classes"), 0);
    assert_string_equal(str_at(cls, "index", NULL), "cleric");
    assert_int_equal(int_at(cls, "level", NULL), 1);
    assert_string_equal(str_at(cls, "subclass", NULL), "life");
    assert_int_equal(int_at(d, "hit_points", "max"), 12);
    assert_string_equal(str_at(d, "hit_points", "hit_dice"), "1d8");
    assert_int_equal(int_at(d, "armor_class", NULL), 9);
    assert_int_equal(int_at(d, "initiative", NULL), -1);
    assert_int_equal(int_at(d, "speed", NULL), 25);
    assert_int_equal(int_at(d, "darkvision", NULL), 60);
    assert_string_equal(str_at(d, "size", NULL), "Medium");
    /* Cleric saves: WIS and CHA. WIS +3 + 2 = 5; STR not proficient: +1. */
    const json_t *sv = json_object_get(d, "saving_throws");
    assert_int_equal(json_object_size(sv), 6);
    assert_true(json_is_true(json_object_get(json_object_get(sv, "wis"), "proficient")));
    assert_int_equal(int_at(sv, "wis", "modifier"), 5);
    assert_true(json_is_false(json_object_get(json_object_get(sv, "str"), "proficient")));
    const json_t *sk = json_object_get(d, "skills");
    assert_int_equal(json_object_size(sk), 18);
    assert_int_equal(int_at(sk, "medicine", "modifier"), 5);   /* WIS +3, proficient +2 */
    assert_int_equal(int_at(sk, "religion", "modifier"), 2);   /* acolyte: INT +0, +2 */
    assert_int_equal(int_at(sk, "perception", "modifier"), 3); /* not proficient */
    assert_string_equal(str_at(sk, "medicine", "ability"), "wis");
    assert_int_equal(int_at(d, "passive_perception", NULL), 13);
    const json_t *langs = json_object_get(d, "languages");
    assert_non_null(find_ref(langs, "common"));
    assert_non_null(find_ref(langs, "dwarvish"));
    assert_non_null(find_ref(langs, "giant"));
    assert_non_null(find_ref(langs, "elvish"));
    const json_t *heavy = find_ref(json_object_get(d, "proficiencies"), "heavy-armor"); /* Life Domain */
    assert_non_null(heavy);
    assert_string_equal(str_at(heavy, "url", NULL), "/api/2014/proficiencies/heavy-armor");
    assert_non_null(find_ref(json_object_get(d, "traits"), "darkvision"));
    const json_t *sc = find_ref(json_object_get(d, "features"), "spellcasting-cleric");
    assert_non_null(sc);
    assert_int_equal(int_at(sc, "level", NULL), 1);
    assert_string_equal(str_at(sc, "class", NULL), "cleric");
    /* The build as accepted. */
    const json_t *b = json_object_get(d, "build");
    assert_string_equal(str_at(b, "race", NULL), "dwarf");
    assert_int_equal(
        json_integer_value(json_object_get(json_object_get(json_object_get(b, "ability_scores"), "assign"), "wis")),
        15);
    assert_string_equal(str_at(json_object_get(b, "choices"), "tool", NULL), "smiths-tools");

    /* GET serves the same document and ETag, to a read token too. */
    char path[128], etag2[64];
    path_of(path, sizeof(path), id, "");
    struct http_response r;
    req(&r, "GET", path, auth_read, NULL, NULL, NULL);
    assert_int_equal(r.status, 200);
    assert_true(http_response_header(&r, "etag", etag2, sizeof(etag2)));
    assert_string_equal(etag, etag2);
    json_t *g = body_json(&r);
    assert_true(json_equal(g, d));
    json_decref(g);
    http_response_release(&r);
    json_decref(d);
}

static void test_create_errors_listed_at_once(void **state)
{
    (void)state;
    struct http_response r;
    /* Five problems of different kinds in one body. */
    send_json(&r, "POST", "/v1/characters",
              "{\"name\":\"Bad\",\"nickname\":\"x\",\"race\":\"orc\",\"class\":\"cleric\",\"subclass\":\"life\","
              "\"background\":\"acolyte\",\"alignment\":\"lawful-good\",\"level\":\"one\","
              "\"ability_scores\":{\"method\":\"standard_array\",\"assign\":{\"str\":15,\"dex\":15,\"con\":14,"
              "\"int\":10,\"wis\":12,\"cha\":8}},\"skills\":[\"history\",7],\"languages\":[]}");
    json_t *p = expect_problem(&r, 422);
    expect_error(p, "nickname", "unknown_field");
    expect_error(p, "level", "wrong_type");
    expect_error(p, "skills[1]", "wrong_type");
    expect_error(p, "race", "unknown_reference");
    expect_error(p, "ability_scores.assign", "not_permutation");
    json_decref(p);
    http_response_release(&r);

    /* Shapes: reals, huge lists, long slugs, nested unknown fields. */
    char big[4096] = "{\"name\":\"X\",\"languages\":[";
    for (int i = 0; i < 40; i++)
        strcat(big, i ? ",\"common\"" : "\"common\"");
    strcat(big, "],\"race\":\"");
    for (int i = 0; i < 100; i++)
        strcat(big, "a");
    strcat(big, "\",\"level\":1.5,\"choices\":{\"colour\":\"red\"},\"ability_scores\":{\"assign\":{\"luck\":3}}}");
    send_json(&r, "POST", "/v1/characters", big);
    p = expect_problem(&r, 422);
    expect_error(p, "languages", "too_many");
    expect_error(p, "race", "too_long");
    expect_error(p, "level", "out_of_range");
    expect_error(p, "choices.colour", "unknown_field");
    expect_error(p, "ability_scores.assign.luck", "unknown_field");
    json_decref(p);
    http_response_release(&r);

    /* Missing everything: "required", never "incomplete", on create. */
    send_json(&r, "POST", "/v1/characters", "{\"name\":\"Nobody\"}");
    p = expect_problem(&r, 422);
    expect_error(p, "race", "required");
    expect_error(p, "class", "required");
    json_decref(p);
    http_response_release(&r);

    /* A body that is JSON but not an object. */
    send_json(&r, "POST", "/v1/characters", "[1,2]");
    p = expect_problem(&r, 422);
    expect_error(p, "", "wrong_type");
    json_decref(p);
    http_response_release(&r);
}

static void test_not_json_is_400(void **state)
{
    (void)state;
    struct http_response r;
    send_json(&r, "POST", "/v1/characters", "{\"name\": ");
    expect_status_problem(&r, 400);
    send_json(&r, "POST", "/v1/characters/validate", "{\"name\":\"\xff\xfe\"}"); /* invalid UTF-8 */
    expect_status_problem(&r, 400);
    char deep[200] = "", ok[200] = "";
    for (int i = 0; i < 33; i++)
        strcat(deep, "[");
    for (int i = 0; i < 33; i++)
        strcat(deep, "]");
    send_json(&r, "POST", "/v1/characters", deep); /* 33 levels */
    expect_status_problem(&r, 400);
    strcat(ok, "{\"name\":\"Deep\",\"choices\":");
    for (int i = 0; i < 30; i++)
        strcat(ok, "[");
    for (int i = 0; i < 30; i++)
        strcat(ok, "]");
    strcat(ok, "}");
    send_json(&r, "POST", "/v1/characters/validate", ok); /* 32 levels: JSON, so 200 */
    assert_int_equal(r.status, 200);
    http_response_release(&r);
    send_json(&r, "POST", "/v1/characters", "{\"name\":\"A\",\"name\":\"B\"}"); /* duplicate key */
    expect_status_problem(&r, 400);
    send_json(&r, "POST", "/v1/characters", "");
    expect_status_problem(&r, 400);
}

static void test_auth_and_scope(void **state)
{
    (void)state;
    char id[64];
    json_t *d = create(THORIN, id, NULL);
    json_decref(d);
    char path[128], lvl[160];
    path_of(path, sizeof(path), id, "");
    path_of(lvl, sizeof(lvl), id, "/level-up");
    struct http_response r;
    req(&r, "GET", "/v1/characters", NULL, NULL, NULL, NULL);
    json_decref(expect_problem(&r, 401));
    char www[128];
    assert_true(http_response_header(&r, "www-authenticate", www, sizeof(www)));
    http_response_release(&r);
    req(&r, "POST", "/v1/characters", "Authorization: Bearer nope", "Content-Type: application/json", NULL, THORIN);
    expect_status_problem(&r, 401);
    /* A read token may read and validate, never write. */
    const char *ct = "Content-Type: application/json";
    req(&r, "POST", "/v1/characters", auth_read, ct, NULL, THORIN);
    expect_status_problem(&r, 403);
    req(&r, "PUT", path, auth_read, ct, NULL, THORIN);
    expect_status_problem(&r, 403);
    req(&r, "PATCH", path, auth_read, ct, NULL, "{}");
    expect_status_problem(&r, 403);
    req(&r, "DELETE", path, auth_read, NULL, NULL, NULL);
    expect_status_problem(&r, 403);
    req(&r, "POST", lvl, auth_read, ct, NULL, "{}");
    expect_status_problem(&r, 403);
    req(&r, "POST", "/v1/characters/random", auth_read, ct, NULL, "{}");
    expect_status_problem(&r, 403);
    req(&r, "POST", "/v1/characters/validate", auth_read, ct, NULL, THORIN);
    assert_int_equal(r.status, 200);
    http_response_release(&r);
    req(&r, "GET", "/v1/characters?limit=1", auth_read, NULL, NULL, NULL);
    assert_int_equal(r.status, 200);
    http_response_release(&r);
    /* Still there: none of the refused writes happened. */
    req(&r, "GET", path, auth_read, NULL, NULL, NULL);
    assert_int_equal(r.status, 200);
    d = body_json(&r);
    assert_int_equal(int_at(d, "version", NULL), 1);
    json_decref(d);
    http_response_release(&r);
}

static void test_not_found_method_media(void **state)
{
    (void)state;
    struct http_response r;
    const char *missing = "/v1/characters/6f1c0d3e-7f4a-4b7e-9a51-2d3c4b5a6e7f";
    req(&r, "GET", missing, auth_read, NULL, NULL, NULL);
    expect_status_problem(&r, 404);
    send_json(&r, "PUT", missing, THORIN);
    expect_status_problem(&r, 404);
    req(&r, "DELETE", missing, auth_write, NULL, NULL, NULL);
    expect_status_problem(&r, 404);
    send_json(&r, "POST", "/v1/characters/6f1c0d3e-7f4a-4b7e-9a51-2d3c4b5a6e7f/level-up", "{}");
    expect_status_problem(&r, 404);
    req(&r, "GET", "/v1/characters/not-a-uuid", auth_read, NULL, NULL, NULL);
    expect_status_problem(&r, 404);
    /* 405 with Allow naming what the path takes. */
    req(&r, "DELETE", "/v1/characters", auth_write, NULL, NULL, NULL);
    json_decref(expect_problem(&r, 405));
    char allow[128];
    assert_true(http_response_header(&r, "allow", allow, sizeof(allow)));
    assert_non_null(strstr(allow, "GET"));
    assert_non_null(strstr(allow, "POST"));
    http_response_release(&r);
    req(&r, "GET", "/v1/characters/validate", auth_read, NULL, NULL, NULL);
    assert_true(r.status == 404 || r.status == 405);
    http_response_release(&r);
    /* 415: wrong media types; merge-patch only on PATCH. */
    req(&r, "POST", "/v1/characters", auth_write, "Content-Type: text/plain", NULL, THORIN);
    expect_status_problem(&r, 415);
    req(&r, "POST", "/v1/characters", auth_write, "Content-Type: application/merge-patch+json", NULL, THORIN);
    expect_status_problem(&r, 415);
    req(&r, "POST", "/v1/characters/validate", auth_write, NULL, NULL, THORIN);
    expect_status_problem(&r, 415);
}

/* ---- conditional requests ---- */

static void test_etag_304_412(void **state)
{
    (void)state;
    char id[64], etag[64], path[128], h[128], stale[128];
    json_t *d = create(THORIN, id, etag);
    json_decref(d);
    path_of(path, sizeof(path), id, "");
    struct http_response r;
    snprintf(h, sizeof(h), "If-None-Match: %s", etag);
    req(&r, "GET", path, auth_read, h, NULL, NULL);
    assert_int_equal(r.status, 304);
    assert_int_equal(r.body_len, 0);
    http_response_release(&r);
    req(&r, "GET", path, auth_read, "If-None-Match: \"00000000000000000000000000000000\"", NULL, NULL);
    assert_int_equal(r.status, 200);
    http_response_release(&r);

    /* PUT with a stale If-Match is refused before the body is even read: 412, not 400. */
    snprintf(stale, sizeof(stale), "If-Match: \"0123456789abcdef0123456789abcdef\"");
    req(&r, "PUT", path, auth_write, "Content-Type: application/json", stale, "{not json");
    expect_status_problem(&r, 412);
    req(&r, "PATCH", path, auth_write, "Content-Type: application/merge-patch+json", stale, "{\"name\":\"Z\"}");
    expect_status_problem(&r, 412);
    req(&r, "DELETE", path, auth_write, stale, NULL, NULL);
    expect_status_problem(&r, 412);
    char lvl[160];
    path_of(lvl, sizeof(lvl), id, "/level-up");
    req(&r, "POST", lvl, auth_write, "Content-Type: application/json", stale, "{}");
    expect_status_problem(&r, 412);
    /* The media type is checked before the precondition (API.md's order). */
    req(&r, "PUT", path, auth_write, "Content-Type: text/plain", stale, THORIN);
    expect_status_problem(&r, 415);

    /* With the current ETag: PUT works, version 2, created_at kept, a new ETag. */
    char *renamed = thorin_with("name", "\"Thorin Oakenshield\"");
    snprintf(h, sizeof(h), "If-Match: %s", etag);
    req(&r, "PUT", path, auth_write, "Content-Type: application/json", h, renamed);
    free(renamed);
    if (r.status != 200)
        fail_msg("PUT: %ld %s", r.status, r.body);
    char etag2[64];
    assert_true(http_response_header(&r, "etag", etag2, sizeof(etag2)));
    assert_string_not_equal(etag, etag2);
    json_t *p = body_json(&r);
    assert_int_equal(int_at(p, "version", NULL), 2);
    assert_string_equal(str_at(p, "name", NULL), "Thorin Oakenshield");
    assert_int_equal(int_at(p, "hit_points", "max"), 12);
    http_response_release(&r);
    req(&r, "GET", path, auth_read, NULL, NULL, NULL);
    json_t *g = body_json(&r);
    assert_string_equal(str_at(g, "created_at", NULL), str_at(p, "created_at", NULL));
    assert_true(json_equal(g, p));
    json_decref(g);
    json_decref(p);
    http_response_release(&r);
    /* The old ETag is stale now. */
    req(&r, "DELETE", path, auth_write, h, NULL, NULL);
    expect_status_problem(&r, 412);
    snprintf(h, sizeof(h), "If-Match: %s", etag2);
    req(&r, "DELETE", path, auth_write, h, NULL, NULL);
    assert_int_equal(r.status, 204);
    assert_int_equal(r.body_len, 0);
    http_response_release(&r);
    req(&r, "GET", path, auth_read, NULL, NULL, NULL);
    expect_status_problem(&r, 404);
    req(&r, "DELETE", path, auth_write, NULL, NULL, NULL);
    expect_status_problem(&r, 404);
}

/* ---- validate ---- */

static void test_validate(void **state)
{
    (void)state;
    struct http_response r;
    req(&r, "GET", "/v1/characters?name=Thorin&limit=500", auth_read, NULL, NULL, NULL);
    json_t *before = body_json(&r);
    http_response_release(&r);

    send_json(&r, "POST", "/v1/characters/validate", THORIN);
    assert_int_equal(r.status, 200);
    json_t *v = body_json(&r);
    assert_true(json_is_true(json_object_get(v, "valid")));
    assert_int_equal(json_array_size(json_object_get(v, "errors")), 0);
    assert_true(json_is_array(json_object_get(v, "warnings")));
    assert_int_equal(int_at(json_object_get(v, "character"), "hit_points", "max"), 12);
    json_decref(v);
    http_response_release(&r);

    /* An unfinished draft: errors marked incomplete, still 200, a best-effort sheet. */
    send_json(&r, "POST", "/v1/characters/validate",
              "{\"name\":\"Draft\",\"race\":\"dwarf\",\"subrace\":\"hill-dwarf\"}");
    assert_int_equal(r.status, 200);
    v = body_json(&r);
    assert_true(json_is_false(json_object_get(v, "valid")));
    json_t *probe = json_pack("{s:O}", "errors", json_object_get(v, "errors"));
    expect_error(probe, "class", "incomplete");
    json_decref(probe);
    assert_int_equal(int_at(json_object_get(v, "character"), "speed", NULL), 25);
    json_decref(v);
    http_response_release(&r);

    /* Parseable JSON that is not an object: still 200, with the problem listed. */
    send_json(&r, "POST", "/v1/characters/validate", "\"Thorin\"");
    assert_int_equal(r.status, 200);
    v = body_json(&r);
    assert_true(json_is_false(json_object_get(v, "valid")));
    probe = json_pack("{s:O}", "errors", json_object_get(v, "errors"));
    expect_error(probe, "", "wrong_type");
    json_decref(probe);
    json_decref(v);
    http_response_release(&r);

    /* Nothing was stored. */
    req(&r, "GET", "/v1/characters?name=Thorin&limit=500", auth_read, NULL, NULL, NULL);
    json_t *after = body_json(&r);
    assert_int_equal(int_at(before, "count", NULL), int_at(after, "count", NULL));
    json_decref(before);
    json_decref(after);
    http_response_release(&r);
}

/* ---- rolls ---- */

static void test_roll_id_flow(void **state)
{
    (void)state;
    struct http_response r;
    send_json(&r, "POST", "/v1/rolls/ability-scores", "{}");
    assert_int_equal(r.status, 200);
    json_t *roll = body_json(&r);
    http_response_release(&r);
    const char *roll_id = str_at(roll, "roll_id", NULL);
    const json_t *scores = json_object_get(roll, "scores");
    assert_int_equal(json_array_size(scores), 6);
    json_t *body = json_loads(THORIN, 0, NULL);
    json_t *as = json_pack(
        "{s:s, s:s, s:{s:I, s:I, s:I, s:I, s:I, s:I}}", "method", "rolled", "roll_id", roll_id, "assign", "str",
        json_integer_value(json_array_get(scores, 0)), "dex", json_integer_value(json_array_get(scores, 1)), "con",
        json_integer_value(json_array_get(scores, 2)), "int", json_integer_value(json_array_get(scores, 3)), "wis",
        json_integer_value(json_array_get(scores, 4)), "cha", json_integer_value(json_array_get(scores, 5)));
    json_object_set_new(body, "ability_scores", as);
    char *text = json_dumps(body, JSON_COMPACT);
    char id[64];
    json_t *d = create(text, id, NULL);
    assert_int_equal(int_at(json_object_get(d, "ability_scores"), "str", "base"),
                     json_integer_value(json_array_get(scores, 0)));
    json_decref(d);

    /* The same roll again: refused, named at the roll id. */
    send_json(&r, "POST", "/v1/characters", text);
    json_t *p = expect_problem(&r, 422);
    expect_error(p, "ability_scores.roll_id", "roll_reused");
    json_decref(p);
    http_response_release(&r);
    free(text);

    /* A forged roll id (one character changed): invalid_roll. */
    char forged[128];
    snprintf(forged, sizeof(forged), "%s", roll_id);
    size_t mid = strlen(forged) / 2;
    forged[mid] = forged[mid] == 'A' ? 'B' : 'A';
    json_object_set_new(as, "roll_id", json_string(forged));
    text = json_dumps(body, JSON_COMPACT);
    send_json(&r, "POST", "/v1/characters", text);
    p = expect_problem(&r, 422);
    expect_error(p, "ability_scores.roll_id", "invalid_roll");
    json_decref(p);
    http_response_release(&r);
    free(text);
    json_decref(body);
    json_decref(roll);
}

/* ---- list ---- */

static void test_pagination_walk(void **state)
{
    (void)state;
    char prefix[32], rnd[9];
    assert_int_equal(harness_random_hex(rnd, 4), 0);
    snprintf(prefix, sizeof(prefix), "Walker%s", rnd);
    enum { N = 7 };
    char ids[N][64];
    for (int i = 0; i < N; i++) {
        char name[64], value[80];
        snprintf(name, sizeof(name), "%s %d", prefix, i);
        snprintf(value, sizeof(value), "\"%s\"", name);
        char *body = thorin_with("name", value);
        json_decref(create(body, ids[i], NULL));
        free(body);
    }
    int seen[N] = {0};
    char path[1024];
    /* The name filter is a case-insensitive prefix. */
    snprintf(path, sizeof(path), "/v1/characters?name=w%s&limit=3", prefix + 1);
    int pages = 0;
    for (;;) {
        struct http_response r;
        req(&r, "GET", path, auth_read, NULL, NULL, NULL);
        if (r.status != 200)
            fail_msg("GET %s: %ld %s", path, r.status, r.body);
        json_t *l = body_json(&r);
        http_response_release(&r);
        assert_int_equal(int_at(l, "count", NULL), N);
        const json_t *results = json_object_get(l, "results");
        assert_true(json_array_size(results) <= 3);
        size_t i;
        const json_t *doc;
        json_array_foreach(results, i, doc) {
            int found = 0;
            for (int k = 0; k < N; k++)
                if (strcmp(ids[k], str_at(doc, "id", NULL)) == 0) {
                    seen[k]++;
                    found = 1;
                }
            assert_true(found);
            assert_int_equal(int_at(doc, "hit_points", "max"), 12); /* full documents */
        }
        pages++;
        const json_t *next = json_object_get(l, "next");
        if (json_is_null(next)) {
            json_decref(l);
            break;
        }
        assert_true(json_is_string(next));
        snprintf(path, sizeof(path), "%s", json_string_value(next));
        json_decref(l);
        assert_true(pages < 10);
    }
    assert_int_equal(pages, 3); /* 3 + 3 + 1 */
    for (int k = 0; k < N; k++)
        assert_int_equal(seen[k], 1);

    /* Filters. */
    struct http_response r;
    snprintf(path, sizeof(path), "/v1/characters?name=%s&class=cleric&race=dwarf&level=1", prefix);
    req(&r, "GET", path, auth_read, NULL, NULL, NULL);
    json_t *l = body_json(&r);
    assert_int_equal(int_at(l, "count", NULL), N);
    assert_true(json_is_null(json_object_get(l, "next")));
    json_decref(l);
    http_response_release(&r);
    snprintf(path, sizeof(path), "/v1/characters?name=%s&race=elf", prefix);
    req(&r, "GET", path, auth_read, NULL, NULL, NULL);
    l = body_json(&r);
    assert_int_equal(int_at(l, "count", NULL), 0);
    assert_int_equal(json_array_size(json_object_get(l, "results")), 0);
    json_decref(l);
    http_response_release(&r);
    snprintf(path, sizeof(path), "/v1/characters?name=%s&level=2", prefix);
    req(&r, "GET", path, auth_read, NULL, NULL, NULL);
    l = body_json(&r);
    assert_int_equal(int_at(l, "count", NULL), 0);
    json_decref(l);
    http_response_release(&r);

    /* Bad parameters: every one named. */
    req(&r, "GET", "/v1/characters?limit=501&level=0&cursor=%21%21&colour=red", auth_read, NULL, NULL, NULL);
    json_t *p = expect_problem(&r, 422);
    expect_error(p, "limit", "out_of_range");
    expect_error(p, "level", "out_of_range");
    expect_error(p, "cursor", "invalid");
    expect_error(p, "colour", "unknown_field");
    json_decref(p);
    http_response_release(&r);
    req(&r, "GET", "/v1/characters?limit=abc", auth_read, NULL, NULL, NULL);
    expect_status_problem(&r, 422);
    req(&r, "GET", "/v1/characters?cursor=bm90LWEtdXVpZA", auth_read, NULL, NULL, NULL); /* "not-a-uuid" */
    expect_status_problem(&r, 422);
}

/* ---- PATCH ---- */

static void test_patch_merge(void **state)
{
    (void)state;
    char id[64], path[128];
    json_t *d = create(THORIN, id, NULL);
    json_decref(d);
    path_of(path, sizeof(path), id, "");
    struct http_response r;
    /* Merge patch: replace a member, change nested assign values, keep the rest. */
    req(&r, "PATCH", path, auth_write, "Content-Type: application/merge-patch+json", NULL,
        "{\"name\":\"Thorin Patched\",\"ability_scores\":{\"assign\":{\"con\":15,\"wis\":14}}}");
    if (r.status != 200)
        fail_msg("PATCH: %ld %s", r.status, r.body);
    json_t *p = body_json(&r);
    http_response_release(&r);
    assert_int_equal(int_at(p, "version", NULL), 2);
    assert_string_equal(str_at(p, "name", NULL), "Thorin Patched");
    const json_t *b = json_object_get(p, "build");
    assert_string_equal(str_at(json_object_get(b, "ability_scores"), "method", NULL), "standard_array");
    assert_int_equal(int_at(json_object_get(b, "ability_scores"), "assign", "con"), 15);
    assert_int_equal(int_at(json_object_get(b, "ability_scores"), "assign", "str"), 13);
    /* CON 15 + 2 = 17 (+3): HP still 12; WIS 14 + 1 = 15 (+2): medicine 4. */
    assert_int_equal(int_at(p, "hit_points", "max"), 12);
    assert_int_equal(int_at(json_object_get(p, "skills"), "medicine", "modifier"), 4);
    json_decref(p);

    /* application/json is accepted too; null removes a member, and the result is re-validated. */
    send_json(&r, "PATCH", path, "{\"subclass\":null}");
    p = expect_problem(&r, 422);
    expect_error(p, "subclass", "required");
    json_decref(p);
    http_response_release(&r);
    send_json(&r, "PATCH", path, "{\"level\":\"two\",\"hobby\":1}");
    p = expect_problem(&r, 422);
    expect_error(p, "level", "wrong_type");
    expect_error(p, "hobby", "unknown_field");
    json_decref(p);
    http_response_release(&r);
    send_json(&r, "PATCH", path, "{\"name\":");
    expect_status_problem(&r, 400);
    /* The refused patches changed nothing. */
    req(&r, "GET", path, auth_read, NULL, NULL, NULL);
    p = body_json(&r);
    assert_int_equal(int_at(p, "version", NULL), 2);
    json_decref(p);
    http_response_release(&r);
}

/* ---- level-up ---- */

static void test_level_up(void **state)
{
    (void)state;
    char id[64], etag[64], path[128], lvl[160], h[128];
    json_t *d = create(THORIN, id, etag);
    json_decref(d);
    path_of(path, sizeof(path), id, "");
    path_of(lvl, sizeof(lvl), id, "/level-up");
    struct http_response r;
    /* Cleric 2 with average HP: 12 + (5 + 3 CON + 1 dwarf) = 21. */
    snprintf(h, sizeof(h), "If-Match: %s", etag);
    req(&r, "POST", lvl, auth_write, "Content-Type: application/json", h,
        "{\"class\":\"cleric\",\"hit_points\":\"average\"}");
    if (r.status != 200)
        fail_msg("level-up: %ld %s", r.status, r.body);
    char etag2[64];
    assert_true(http_response_header(&r, "etag", etag2, sizeof(etag2)));
    assert_string_not_equal(etag, etag2);
    json_t *p = body_json(&r);
    http_response_release(&r);
    assert_int_equal(int_at(p, "version", NULL), 2);
    assert_int_equal(int_at(p, "level", NULL), 2);
    assert_int_equal(int_at(p, "hit_points", "max"), 21);
    assert_string_equal(str_at(p, "hit_points", "hit_dice"), "2d8");
    assert_int_equal(int_at(p, "experience_points", NULL), 300);
    const json_t *adv = json_object_get(json_object_get(p, "build"), "advancement");
    assert_int_equal(json_array_size(adv), 1);
    assert_string_equal(str_at(json_array_get(adv, 0), "class", NULL), "cleric");
    json_decref(p);

    /* An ASI at cleric 3 is refused (none until 4); so is multiclassing into wizard with INT 10 (needs 13). */
    send_json(&r, "POST", lvl, "{\"asi\":{\"wis\":2}}");
    expect_status_problem(&r, 422);
    send_json(&r, "POST", lvl, "{\"class\":\"wizard\"}");
    p = expect_problem(&r, 422);
    char *text = json_dumps(p, JSON_COMPACT);
    assert_non_null(strstr(text, "prerequisite_not_met"));
    free(text);
    json_decref(p);
    http_response_release(&r);
    send_json(&r, "POST", lvl, "{\"hit_points\":\"max\",\"speed\":1}");
    p = expect_problem(&r, 422);
    expect_error(p, "hit_points", "out_of_range");
    expect_error(p, "speed", "unknown_field");
    json_decref(p);
    http_response_release(&r);

    /* An empty body levels the creation class with average HP: cleric 3, 21 + 9 = 30. */
    req(&r, "POST", lvl, auth_write, NULL, NULL, NULL);
    if (r.status != 200)
        fail_msg("level-up with no body: %ld %s", r.status, r.body);
    p = body_json(&r);
    assert_int_equal(int_at(p, "level", NULL), 3);
    assert_int_equal(int_at(p, "hit_points", "max"), 30);
    json_decref(p);
    http_response_release(&r);
    /* Cleric 4 grants an ASI: without one it is refused; with WIS +2 (16 -> 18) it works.
     * Rolled HP: the d8 roll (1..8) + 3 CON + 1 dwarf on top of 30. */
    send_json(&r, "POST", lvl, "{\"hit_points\":\"roll\"}");
    expect_status_problem(&r, 422);
    send_json(&r, "POST", lvl, "{\"hit_points\":\"roll\",\"asi\":{\"wis\":2}}");
    if (r.status != 200)
        fail_msg("level-up roll: %ld %s", r.status, r.body);
    p = body_json(&r);
    http_response_release(&r);
    long long hp = int_at(p, "hit_points", "max");
    assert_true(hp >= 30 + 5 && hp <= 30 + 12);
    assert_int_equal(int_at(json_object_get(p, "ability_scores"), "wis", "score"), 18);
    assert_int_equal(int_at(json_object_get(p, "skills"), "medicine", "modifier"), 6); /* +4 WIS, +2 */
    assert_int_equal(int_at(p, "level", NULL), 4);
    json_decref(p);
    /* The stored character says the same. */
    req(&r, "GET", path, auth_read, NULL, NULL, NULL);
    p = body_json(&r);
    assert_int_equal(int_at(p, "level", NULL), 4);
    assert_int_equal(int_at(p, "version", NULL), 4);
    assert_int_equal(json_array_size(json_object_get(json_object_get(p, "build"), "advancement")), 3);
    json_decref(p);
    http_response_release(&r);
}

/* ---- random ---- */

static void test_random(void **state)
{
    (void)state;
    struct http_response r;
    json_t *first = NULL;
    char ids[2][64];
    for (int i = 0; i < 2; i++) {
        send_json(&r, "POST", "/v1/characters/random", "{\"seed\":42}");
        if (r.status != 201)
            fail_msg("random: %ld %s", r.status, r.body);
        json_t *d = body_json(&r);
        http_response_release(&r);
        snprintf(ids[i], 64, "%s", str_at(d, "id", NULL));
        const char *method = str_at(json_object_get(json_object_get(d, "build"), "ability_scores"), "method", NULL);
        assert_true(strcmp(method, "standard_array") == 0 || strcmp(method, "point_buy") == 0);
        assert_true(int_at(d, "hit_points", "max") >= 1);
        if (first == NULL) {
            first = d;
        } else {
            assert_true(json_equal(json_object_get(first, "build"), json_object_get(d, "build")));
            json_decref(d);
        }
    }
    assert_string_not_equal(ids[0], ids[1]);
    /* Another seed: (almost surely) another build; no seed at all works too. */
    send_json(&r, "POST", "/v1/characters/random", "{\"seed\":43}");
    assert_int_equal(r.status, 201);
    json_t *d = body_json(&r);
    assert_false(json_equal(json_object_get(first, "build"), json_object_get(d, "build")));
    json_decref(d);
    http_response_release(&r);
    req(&r, "POST", "/v1/characters/random", auth_write, NULL, NULL, NULL);
    assert_int_equal(r.status, 201);
    http_response_release(&r);
    json_decref(first);
    send_json(&r, "POST", "/v1/characters/random", "{\"seed\":-1,\"colour\":1}");
    json_t *p = expect_problem(&r, 422);
    expect_error(p, "seed", "out_of_range");
    expect_error(p, "colour", "unknown_field");
    json_decref(p);
    http_response_release(&r);
    send_json(&r, "POST", "/v1/characters/random", "{\"seed\":\"x\"}");
    expect_status_problem(&r, 422);
}

/* ---- /openapi.json ---- */

static void test_openapi_route(void **state)
{
    (void)state;
    struct http_response r;
    req(&r, "GET", "/openapi.json", NULL, NULL, NULL, NULL);
    expect_status_problem(&r, 401);
    req(&r, "GET", "/openapi.json", auth_read, NULL, NULL, NULL);
    assert_int_equal(r.status, 200);
    json_t *doc = body_json(&r);
    assert_true(json_is_string(json_object_get(doc, "openapi")));
    assert_non_null(json_object_get(json_object_get(doc, "paths"), "/v1/characters"));
    json_decref(doc);
    char etag[128], h[160];
    assert_true(http_response_header(&r, "etag", etag, sizeof(etag)));
    http_response_release(&r);
    snprintf(h, sizeof(h), "If-None-Match: %s", etag);
    req(&r, "GET", "/openapi.json", auth_read, h, NULL, NULL);
    assert_int_equal(r.status, 304);
    http_response_release(&r);
}

/* ---- table policy (own servers) ---- */

static void test_policy_methods(void **state)
{
    (void)state;
    const char *env[] = {"CHARACTER_RULES_ABILITY_METHODS=standard_array", "CHARACTER_RULES_POINT_BUY_BUDGET=20", NULL};
    struct harness_options o = {.workers = 1, .env = env};
    char why[2048];
    if (harness_server_start(&aux, &o, why, sizeof(why)) != 0)
        fail_msg("cannot start a server with a table policy: %s", why);
    char auth[128];
    snprintf(auth, sizeof(auth), "Authorization: Bearer %s", aux.write_token);
    struct http_response r;
    char *pb = thorin_with("ability_scores", "{\"method\":\"point_buy\",\"assign\":{\"str\":13,\"dex\":8,\"con\":14,"
                                             "\"int\":10,\"wis\":15,\"cha\":12}}");
    req_on(&aux, &r, "POST", "/v1/characters", auth, "Content-Type: application/json", NULL, pb);
    free(pb);
    json_t *p = expect_problem(&r, 422);
    expect_error(p, "ability_scores.method", "policy_forbidden");
    json_decref(p);
    http_response_release(&r);
    req_on(&aux, &r, "POST", "/v1/characters", auth, "Content-Type: application/json", NULL, THORIN);
    assert_int_equal(r.status, 201);
    http_response_release(&r);
}

static void test_policy_manual(void **state)
{
    (void)state;
    char *manual = thorin_with("ability_scores", "{\"method\":\"manual\",\"assign\":{\"str\":18,\"dex\":3,\"con\":14,"
                                                 "\"int\":10,\"wis\":15,\"cha\":12}}");
    struct http_response r;
    /* Off by default. */
    send_json(&r, "POST", "/v1/characters/validate", manual);
    json_t *v = body_json(&r);
    assert_true(json_is_false(json_object_get(v, "valid")));
    json_decref(v);
    http_response_release(&r);
    /* Listing manual without the switch is a configuration error. */
    const char *bad_env[] = {"CHARACTER_RULES_ABILITY_METHODS=standard_array,manual", NULL};
    struct harness_options bad = {.workers = 1, .env = bad_env};
    int status = 0;
    char log[4096];
    assert_int_equal(harness_server_expect_failure(&bad, &status, log, sizeof(log)), 0);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 2);
    assert_non_null(strstr(log, "rules.manual_scores"));
    /* With the switch on: allowed. */
    const char *env[] = {"CHARACTER_RULES_MANUAL_SCORES=true", NULL};
    struct harness_options o = {.workers = 1, .env = env};
    char why[2048];
    if (harness_server_start(&aux, &o, why, sizeof(why)) != 0)
        fail_msg("cannot start a server with manual scores: %s", why);
    char auth[128];
    snprintf(auth, sizeof(auth), "Authorization: Bearer %s", aux.write_token);
    req_on(&aux, &r, "POST", "/v1/characters", auth, "Content-Type: application/json", NULL, manual);
    if (r.status != 201)
        fail_msg("manual with rules.manual_scores: %ld %s", r.status, r.body);
    json_t *d = body_json(&r);
    assert_int_equal(int_at(json_object_get(d, "ability_scores"), "str", "score"), 18);
    json_decref(d);
    http_response_release(&r);
    free(manual);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_create_thorin_sheet),
        cmocka_unit_test(test_create_errors_listed_at_once),
        cmocka_unit_test(test_not_json_is_400),
        cmocka_unit_test(test_auth_and_scope),
        cmocka_unit_test(test_not_found_method_media),
        cmocka_unit_test(test_etag_304_412),
        cmocka_unit_test(test_validate),
        cmocka_unit_test(test_roll_id_flow),
        cmocka_unit_test(test_pagination_walk),
        cmocka_unit_test(test_patch_merge),
        cmocka_unit_test(test_level_up),
        cmocka_unit_test(test_random),
        cmocka_unit_test(test_openapi_route),
        cmocka_unit_test_teardown(test_policy_methods, aux_teardown),
        cmocka_unit_test_teardown(test_policy_manual, aux_teardown),
    };
    return cmocka_run_group_tests_name("characters", tests, group_setup, group_teardown);
}
