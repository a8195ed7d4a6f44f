/*
 * tests/e2e/test_equipment.c - end-to-end tests of /v1/equipment-library and
 * /v1/equipment through the real character-server (see harness.h): the
 * library (197 SRD items, the type filter, a bad type, cursor pagination
 * walked to the end), custom items' create/get/list/PUT/PATCH/DELETE with
 * ETags (304, 412), and every error status a client can meet on these routes
 * (401, 403, 404, 405, 412, 415, 400, 422 with each validation error and the
 * unknown field named); and rows imported from CSV by a migration's `load`
 * with `document` (the project's fixtures in the original's format) showing
 * every CSV column in /v1/equipment-library and the original's
 * /equipment-library.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <unistd.h>

#include "rest_helpers.h"

static int group_setup(void **state)
{
    (void)state;
    return rest_setup("equipment");
}

/* Create a custom item from body; its document (caller decrefs). */
static json_t *create_item(const char *body)
{
    struct http_response r;
    send_json(&r, "POST", "/v1/equipment", body);
    char loc[256], etag[80];
    header_of(&r, "location", loc, sizeof(loc));
    header_of(&r, "etag", etag, sizeof(etag));
    json_t *doc = expect_json(&r, 201, "POST /v1/equipment");
    char want[256];
    snprintf(want, sizeof(want), "/v1/equipment/%s", str_of(doc, "id"));
    if (strcmp(loc, want) != 0)
        fail_msg("Location %s, expected %s", loc, want);
    return doc;
}

/* Walk a list from `first` to its end; returns the number of results and checks no id repeats. */
static size_t walk(const char *first, long long *count_out, json_t *seen)
{
    char path[1024];
    snprintf(path, sizeof(path), "%s", first);
    size_t total = 0;
    long long count = -1;
    for (int pages = 0; pages < 1000; pages++) {
        struct http_response r;
        get_read(&r, path);
        json_t *page = expect_json(&r, 200, path);
        long long c = int_of(page, "count");
        if (count >= 0 && c != count)
            fail_msg("count changed from %lld to %lld between pages", count, c);
        count = c;
        size_t i;
        json_t *x;
        json_array_foreach(json_object_get(page, "results"), i, x) {
            const char *key = json_string_value(json_object_get(x, "index"));
            if (key == NULL)
                key = str_of(x, "id");
            if (json_object_get(seen, key) != NULL)
                fail_msg("%s listed twice while walking %s", key, first);
            json_object_set_new(seen, key, json_true());
            total++;
        }
        const json_t *next = json_object_get(page, "next");
        if (json_is_null(next)) {
            json_decref(page);
            *count_out = count;
            return total;
        }
        snprintf(path, sizeof(path), "%s", json_string_value(next));
        json_decref(page);
    }
    fail_msg("more than 1000 pages walking %s", first);
    return 0;
}

static void test_library(void **state)
{
    (void)state;
    struct http_response r;
    /* No custom items yet: the 197 SRD items, in pages of 50. */
    get_read(&r, "/v1/equipment-library");
    json_t *page = expect_json(&r, 200, "GET /v1/equipment-library");
    if (int_of(page, "count") < 197)
        fail_msg("library count %lld, expected at least the 197 SRD items", int_of(page, "count"));
    assert_int_equal(json_array_size(json_object_get(page, "results")), 50);
    json_t *first = json_array_get(json_object_get(page, "results"), 0);
    assert_string_equal(str_of(first, "source"), "srd");
    assert_non_null(json_object_get(first, "equip_type"));
    json_decref(page);

    /* Type filter: the one SRD shield, the four heavy armors (ring mail, chain mail, splint, plate). */
    get_read(&r, "/v1/equipment-library?type=shield");
    page = expect_json(&r, 200, "library type=shield");
    assert_int_equal(int_of(page, "count"), 1);
    json_t *sh = json_array_get(json_object_get(page, "results"), 0);
    assert_string_equal(str_of(sh, "index"), "shield");
    assert_int_equal(int_of(json_object_get(sh, "base_attributes"), "armor_class"), 2);
    json_decref(page);
    get_read(&r, "/v1/equipment-library?type=heavy-armor&limit=2");
    page = expect_json(&r, 200, "library type=heavy-armor");
    assert_int_equal(int_of(page, "count"), 4);
    assert_int_equal(json_array_size(json_object_get(page, "results")), 2);
    if (strstr(str_of(page, "next"), "type=heavy-armor") == NULL)
        fail_msg("next link %s drops the type filter", str_of(page, "next"));
    json_decref(page);
    json_t *seen = json_object();
    long long count = 0;
    size_t n = walk("/v1/equipment-library?type=heavy-armor&limit=3", &count, seen);
    assert_int_equal(n, 4);
    json_object_clear(seen);
    /* The original API's name for the parameter works as well. */
    get_read(&r, "/v1/equipment-library?equip_type=shield");
    page = expect_json(&r, 200, "library equip_type=shield");
    assert_int_equal(int_of(page, "count"), 1);
    json_decref(page);

    /* Custom items follow the SRD items; a whole walk lists each once and count matches. */
    json_t *a = create_item("{\"name\":\"Lib Tower Shield\",\"equip_type\":\"shield\",\"weight\":15,"
                            "\"base_attributes\":{\"armor_class\":3}}");
    n = walk("/v1/equipment-library?limit=37", &count, seen);
    if ((long long)n != count || json_object_get(seen, str_of(a, "id")) == NULL)
        fail_msg("walking the library gave %zu items of count %lld, custom item listed: %s", n, count,
                 json_object_get(seen, str_of(a, "id")) ? "yes" : "no");
    json_object_clear(seen);
    get_read(&r, "/v1/equipment-library?type=shield");
    page = expect_json(&r, 200, "library type=shield with a custom one");
    assert_int_equal(int_of(page, "count"), 2);
    json_t *custom = json_array_get(json_object_get(page, "results"), 1);
    assert_string_equal(str_of(custom, "source"), "custom");
    assert_string_equal(str_of(custom, "id"), str_of(a, "id"));
    json_decref(page);
    /* A walk with a limit that ends exactly at the SRD items' end still reaches the custom one. */
    n = walk("/v1/equipment-library?type=shield&limit=1", &count, seen);
    assert_int_equal(n, 2);
    assert_int_equal(count, 2);
    json_decref(seen);

    /* Bad queries: 422 naming the parameter. */
    static const struct {
        const char *q, *field, *code;
    } bad[] = {
        {"type=wand", "type", "unknown_reference"},
        {"type=", "type", "unknown_reference"},
        {"limit=0", "limit", "out_of_range"},
        {"limit=501", "limit", "out_of_range"},
        {"limit=x", "limit", "out_of_range"},
        {"cursor=!!", "cursor", "invalid"},
        {"cursor=eDox", "cursor", "invalid"}, /* base64url of "x:1": not one of ours */
        {"colour=red", "", "unknown_field"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char path[256];
        snprintf(path, sizeof(path), "/v1/equipment-library?%s", bad[i].q);
        get_read(&r, path);
        json_t *p = expect_problem(&r, 422, path);
        expect_error(p, bad[i].field, bad[i].code);
        json_decref(p);
    }
    /* 401 without a token; HEAD answered; a write method is 405 with Allow. */
    req(&r, "GET", "/v1/equipment-library", NULL, NULL, NULL, NULL);
    expect_status(&r, 401, "library without a token");
    req(&r, "HEAD", "/v1/equipment-library", auth_read, NULL, NULL, NULL);
    assert_int_equal(r.status, 200);
    http_response_release(&r);
    send_json(&r, "POST", "/v1/equipment-library", "{}");
    char allow[64];
    header_of(&r, "allow", allow, sizeof(allow));
    if (strstr(allow, "GET") == NULL)
        fail_msg("Allow: %s lacks GET", allow);
    expect_status(&r, 405, "POST /v1/equipment-library");
    char path[128];
    snprintf(path, sizeof(path), "/v1/equipment/%s", str_of(a, "id"));
    req(&r, "DELETE", path, auth_write, NULL, NULL, NULL);
    assert_int_equal(r.status, 204);
    http_response_release(&r);
    json_decref(a);
}

static void test_item_crud(void **state)
{
    (void)state;
    struct http_response r;
    json_t *doc = create_item("{\"name\":\"Mithral Chain\",\"equip_type\":\"heavy-armor\",\"base_cost\":500,"
                              "\"weight\":27.5,\"base_attributes\":{\"armor_class\":16,\"str_minimum\":13}}");
    assert_int_equal(int_of(doc, "version"), 1);
    assert_string_equal(str_of(doc, "name"), "Mithral Chain");
    assert_string_equal(str_of(doc, "equip_type"), "heavy-armor");
    assert_true(json_number_value(json_object_get(doc, "weight")) == 27.5);
    assert_true(json_number_value(json_object_get(doc, "base_cost")) == 500);
    assert_int_equal(int_of(json_object_get(doc, "base_attributes"), "armor_class"), 16);
    assert_non_null(json_object_get(doc, "created_at"));
    char path[128], etag[80], etag2[80], inm[128];
    snprintf(path, sizeof(path), "/v1/equipment/%s", str_of(doc, "id"));

    /* GET with the read token; its ETag gives 304. */
    get_read(&r, path);
    header_of(&r, "etag", etag, sizeof(etag));
    json_t *got = expect_json(&r, 200, "GET item");
    assert_true(json_equal(got, doc));
    json_decref(got);
    snprintf(inm, sizeof(inm), "If-None-Match: %s", etag);
    req(&r, "GET", path, auth_read, inm, NULL, NULL);
    assert_int_equal(r.status, 304);
    http_response_release(&r);

    /* PATCH (merge patch): the weight changes, the rest stays; version 2, a new ETag. */
    char im[128];
    snprintf(im, sizeof(im), "If-Match: %s", etag);
    req(&r, "PATCH", path, auth_write, "Content-Type: application/merge-patch+json", im, "{\"weight\":20}");
    header_of(&r, "etag", etag2, sizeof(etag2));
    json_t *p = expect_json(&r, 200, "PATCH item");
    assert_int_equal(int_of(p, "version"), 2);
    assert_true(json_number_value(json_object_get(p, "weight")) == 20);
    assert_string_equal(str_of(p, "name"), "Mithral Chain");
    assert_string_equal(str_of(p, "created_at"), str_of(doc, "created_at"));
    assert_string_not_equal(etag, etag2);
    json_decref(p);
    /* The old ETag is stale now: 412 for PUT, PATCH, DELETE; 304 no more. */
    req(&r, "PATCH", path, auth_write, "Content-Type: application/json", im, "{\"weight\":1}");
    expect_status(&r, 412, "PATCH with a stale If-Match");
    req(&r, "DELETE", path, auth_write, im, NULL, NULL);
    expect_status(&r, 412, "DELETE with a stale If-Match");
    req(&r, "GET", path, auth_read, inm, NULL, NULL);
    assert_int_equal(r.status, 200);
    http_response_release(&r);
    /* PATCH null removes base_attributes members; removing armor_class of armor is refused. */
    expect_422("PATCH", path, "{\"base_attributes\":{\"armor_class\":null}}", "base_attributes.armor_class",
               "required");

    /* PUT replaces: a shield now; what is not given takes its default. */
    send_json(&r, "PUT", path, "{\"name\":\"Buckler\",\"equip_type\":\"shield\",\"base_attributes\":{\"armor_class\":1}}");
    p = expect_json(&r, 200, "PUT item");
    assert_int_equal(int_of(p, "version"), 3);
    assert_string_equal(str_of(p, "equip_type"), "shield");
    assert_true(json_number_value(json_object_get(p, "weight")) == 0);
    assert_null(json_object_get(json_object_get(p, "base_attributes"), "str_minimum"));
    json_decref(p);

    /* List: custom items only (documents), type filter, pagination. */
    json_t *b = create_item("{\"name\":\"Lucky Coin\",\"equip_type\":\"other\",\"weight\":0.02}");
    json_t *c = create_item("{\"name\":\"Holy Water Flask\",\"equip_type\":\"holy\",\"base_cost\":25,\"weight\":1}");
    get_read(&r, "/v1/equipment?type=holy");
    json_t *l = expect_json(&r, 200, "list type=holy");
    assert_int_equal(int_of(l, "count"), 1);
    assert_string_equal(str_of(json_array_get(json_object_get(l, "results"), 0), "id"), str_of(c, "id"));
    json_decref(l);
    json_t *seen = json_object();
    long long count = 0;
    size_t n = walk("/v1/equipment?limit=1", &count, seen);
    if ((long long)n != count || count < 3)
        fail_msg("walking /v1/equipment?limit=1 gave %zu of count %lld (expected at least 3)", n, count);
    json_decref(seen);
    get_read(&r, "/v1/equipment?type=bogus");
    json_t *pr = expect_problem(&r, 422, "list type=bogus");
    expect_error(pr, "type", "unknown_reference");
    json_decref(pr);

    /* DELETE with the current ETag: 204, then 404 everywhere. */
    char cur[80], imc[128];
    get_read(&r, path);
    header_of(&r, "etag", cur, sizeof(cur));
    http_response_release(&r);
    snprintf(imc, sizeof(imc), "If-Match: %s", cur);
    req(&r, "DELETE", path, auth_write, imc, NULL, NULL);
    assert_int_equal(r.status, 204);
    http_response_release(&r);
    get_read(&r, path);
    expect_status(&r, 404, "GET a deleted item");
    send_json(&r, "PUT", path, "{\"name\":\"x\",\"equip_type\":\"other\"}");
    expect_status(&r, 404, "PUT a deleted item");
    req(&r, "DELETE", path, auth_write, NULL, NULL, NULL);
    expect_status(&r, 404, "DELETE a deleted item");
    json_decref(doc);
    json_decref(b);
    json_decref(c);
}

static void test_item_errors(void **state)
{
    (void)state;
    struct http_response r;
    const char *good = "{\"name\":\"Rope\",\"equip_type\":\"other\",\"weight\":10}";
    json_t *doc = create_item(good);
    char path[128];
    snprintf(path, sizeof(path), "/v1/equipment/%s", str_of(doc, "id"));
    check_write_errors("PUT", path, good);
    check_write_errors("PATCH", path, "{\"weight\":2}");
    check_write_errors("DELETE", path, NULL);
    /* POST: 401, 403, 415, 400 (no precondition on a create). */
    req(&r, "POST", "/v1/equipment", "Content-Type: application/json", NULL, NULL, good);
    expect_status(&r, 401, "POST without a token");
    req(&r, "POST", "/v1/equipment", auth_read, "Content-Type: application/json", NULL, good);
    expect_status(&r, 403, "POST with a read token");
    req(&r, "POST", "/v1/equipment", auth_write, "Content-Type: text/csv", NULL, good);
    expect_status(&r, 415, "POST text/csv");
    send_json(&r, "POST", "/v1/equipment", "[1,");
    expect_status(&r, 400, "POST broken JSON");
    send_json(&r, "POST", "/v1/equipment", "{\"name\":\"a\",\"name\":\"b\",\"equip_type\":\"other\"}");
    expect_status(&r, 400, "POST duplicate keys");
    /* 404: unknown and malformed ids; 405 with Allow. */
    get_read(&r, "/v1/equipment/00000000-0000-4000-8000-000000000000");
    expect_status(&r, 404, "GET an unknown id");
    get_read(&r, "/v1/equipment/not-a-uuid");
    expect_status(&r, 404, "GET a malformed id");
    send_json(&r, "PATCH", "/v1/equipment/00000000-0000-4000-8000-000000000000", "{}");
    expect_status(&r, 404, "PATCH an unknown id");
    send_json(&r, "POST", path, good);
    char allow[128];
    header_of(&r, "allow", allow, sizeof(allow));
    if (strstr(allow, "PUT") == NULL || strstr(allow, "DELETE") == NULL)
        fail_msg("Allow: %s lacks PUT or DELETE", allow);
    expect_status(&r, 405, "POST to an item");
    send_json(&r, "DELETE", "/v1/equipment", NULL);
    expect_status(&r, 405, "DELETE the collection");

    /* 422: every validation error, each named by field and code. */
    static const struct {
        const char *body, *field, *code;
    } bad[] = {
        {"[]", "", "wrong_type"},
        {"{\"equip_type\":\"other\"}", "name", "required"},
        {"{\"name\":\"\",\"equip_type\":\"other\"}", "name", "required"},
        {"{\"name\":7,\"equip_type\":\"other\"}", "name", "wrong_type"},
        {"{\"name\":\"x\"}", "equip_type", "required"},
        {"{\"name\":\"x\",\"equip_type\":3}", "equip_type", "wrong_type"},
        {"{\"name\":\"x\",\"equip_type\":\"wand\"}", "equip_type", "unknown_reference"},
        {"{\"name\":\"x\",\"equip_type\":\"other\",\"weight\":-1}", "weight", "out_of_range"},
        {"{\"name\":\"x\",\"equip_type\":\"other\",\"weight\":\"heavy\"}", "weight", "wrong_type"},
        {"{\"name\":\"x\",\"equip_type\":\"other\",\"weight\":1e300}", "weight", "out_of_range"},
        {"{\"name\":\"x\",\"equip_type\":\"other\",\"base_cost\":-0.5}", "base_cost", "out_of_range"},
        {"{\"name\":\"x\",\"equip_type\":\"other\",\"base_cost\":null}", "base_cost", "wrong_type"},
        {"{\"name\":\"x\",\"equip_type\":\"other\",\"base_attributes\":[]}", "base_attributes", "wrong_type"},
        {"{\"name\":\"x\",\"equip_type\":\"other\",\"colour\":\"red\"}", "colour", "unknown_field"},
        {"{\"name\":\"x\",\"equip_type\":\"light-armor\"}", "base_attributes.armor_class", "required"},
        {"{\"name\":\"x\",\"equip_type\":\"shield\",\"base_attributes\":{}}", "base_attributes.armor_class",
         "required"},
        {"{\"name\":\"x\",\"equip_type\":\"medium-armor\",\"base_attributes\":{\"armor_class\":\"14\"}}",
         "base_attributes.armor_class", "wrong_type"},
        {"{\"name\":\"x\",\"equip_type\":\"heavy-armor\",\"base_attributes\":{\"armor_class\":31}}",
         "base_attributes.armor_class", "out_of_range"},
        {"{\"name\":\"x\",\"equip_type\":\"heavy-armor\",\"base_attributes\":{\"armor_class\":16,\"str_minimum\":-1}}",
         "base_attributes.str_minimum", "out_of_range"},
        {"{\"name\":\"x\",\"equip_type\":\"medium-armor\",\"base_attributes\":{\"armor_class\":14,\"dex_cap\":1.5}}",
         "base_attributes.dex_cap", "wrong_type"},
        {"{\"name\":\"x\",\"equip_type\":\"other\",\"base_attributes\":{\"a\":{\"b\":{\"c\":{\"d\":{\"e\":{\"f\":{\"g\":"
         "{\"h\":{\"i\":1}}}}}}}}}}",
         "base_attributes", "too_long"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        expect_422("POST", "/v1/equipment", bad[i].body, bad[i].field, bad[i].code);
        expect_422("PUT", path, bad[i].body, bad[i].field, bad[i].code);
    }
    /* Every problem at once: name, type and an unknown field in one body. */
    send_json(&r, "POST", "/v1/equipment", "{\"name\":\"\",\"equip_type\":\"wand\",\"weight\":-2,\"extra\":1}");
    json_t *p = expect_problem(&r, 422, "several problems");
    expect_error(p, "name", "required");
    expect_error(p, "equip_type", "unknown_reference");
    expect_error(p, "weight", "out_of_range");
    expect_error(p, "extra", "unknown_field");
    json_decref(p);
    /* A name too long. */
    char big[400];
    memset(big, 'n', 300);
    big[300] = '\0';
    char body[512];
    snprintf(body, sizeof(body), "{\"name\":\"%s\",\"equip_type\":\"other\"}", big);
    expect_422("POST", "/v1/equipment", body, "name", "too_long");
    /* PATCH that is not an object replaces the whole item: refused. */
    expect_422("PATCH", path, "[1]", "", "wrong_type");
    /* Nothing above changed the item. */
    get_read(&r, path);
    json_t *now = expect_json(&r, 200, "GET after refused writes");
    assert_int_equal(int_of(now, "version"), 1);
    json_decref(now);
    json_decref(doc);
}

/* ---- rows imported from CSV ------------------------------------------------------- */

static char import_dir[64]; /* the imported group's migrations folder, "" when none */

/* Copy file `from` to `to`; 0 or -1. */
static int copy_file(const char *from, const char *to)
{
    FILE *in = fopen(from, "rb"), *out = in != NULL ? fopen(to, "wb") : NULL;
    char buf[8192];
    size_t n;
    int rc = in != NULL && out != NULL ? 0 : -1;
    while (rc == 0 && (n = fread(buf, 1, sizeof(buf), in)) > 0)
        rc = fwrite(buf, 1, n, out) == n ? 0 : -1;
    if (in != NULL)
        fclose(in);
    if (out != NULL && fclose(out) != 0)
        rc = -1;
    return rc;
}

static void remove_import_dir(void)
{
    static const char *const files[] = {"0001_init.yaml", "0002_sync.yaml", "0003_character_columns.yaml",
                                        "0004_equipment_campaigns.yaml", "0005_equipment_imported.yaml",
                                        "9000_seed.yaml", "library_armor.csv", "library_weapons.csv", NULL};
    char path[256];
    if (import_dir[0] == '\0')
        return;
    for (size_t i = 0; files[i] != NULL; i++) {
        snprintf(path, sizeof(path), "%s/%s", import_dir, files[i]);
        unlink(path);
    }
    rmdir(import_dir);
    import_dir[0] = '\0';
}

/*
 * A server whose migrations are the project's plus one that loads the project's
 * own CSV fixtures (the original's format: BOM, CRLF, empty fields, no final line
 * ending) with `document`, as an operator importing the original's files would.
 */
static int import_setup(void **state)
{
    (void)state;
    static const char *const migrations[] = {"0001_init.yaml", "0002_sync.yaml", "0003_character_columns.yaml",
                                             "0004_equipment_campaigns.yaml", "0005_equipment_imported.yaml", NULL};
    static const char seed[] =
        "- load: {table: equipment, schema: dungeonmaster, file: library_armor.csv, key: name,\n"
        "         document: {column: imported, nest: base_attributes, top: [name, equip_type, base_cost, weight]}}\n"
        "- load: {table: equipment, schema: dungeonmaster, file: library_weapons.csv, key: name,\n"
        "         document: {column: imported, nest: base_attributes, top: [name, equip_type, base_cost, weight]}}\n";
    const char *top = getenv("top_srcdir") != NULL ? getenv("top_srcdir") : ".";
    char from[4096], to[256], why[2048];
    snprintf(import_dir, sizeof(import_dir), "/tmp/e2e-import-XXXXXX");
    if (mkdtemp(import_dir) == NULL) {
        import_dir[0] = '\0';
        return -1;
    }
    for (size_t i = 0; migrations[i] != NULL; i++) {
        snprintf(from, sizeof(from), "%s/migrations/%s", top, migrations[i]);
        snprintf(to, sizeof(to), "%s/%s", import_dir, migrations[i]);
        if (copy_file(from, to) != 0)
            return fprintf(stderr, "cannot copy %s\n", from), -1;
    }
    for (const char *const *f = (const char *const[]){"library_armor.csv", "library_weapons.csv", NULL}; *f; f++) {
        snprintf(from, sizeof(from), "%s/tests/fixtures/csv/%s", top, *f);
        snprintf(to, sizeof(to), "%s/%s", import_dir, *f);
        if (copy_file(from, to) != 0)
            return fprintf(stderr, "cannot copy %s\n", from), -1;
    }
    snprintf(to, sizeof(to), "%s/9000_seed.yaml", import_dir);
    FILE *out = fopen(to, "w");
    if (out == NULL || fputs(seed, out) < 0 || fclose(out) != 0)
        return -1;
    const char *args[] = {"--migrations", import_dir, NULL};
    struct harness_options o = {.workers = 2, .args = args};
    if (harness_server_start(&srv, &o, why, sizeof(why)) != 0) {
        fprintf(stderr, "imported: cannot start the server: %s\n", why);
        return -1;
    }
    snprintf(auth_write, sizeof(auth_write), "Authorization: Bearer %s", srv.write_token);
    snprintf(auth_read, sizeof(auth_read), "Authorization: Bearer %s", srv.read_token);
    return 0;
}

static int import_teardown(void **state)
{
    rest_teardown(state);
    remove_import_dir();
    return 0;
}

/* The entry named `name` in array `list` (borrowed), failing the test when absent. */
static json_t *named(json_t *list, const char *name)
{
    size_t i;
    json_t *x;
    json_array_foreach(list, i, x) {
        if (json_is_string(json_object_get(x, "name")) && strcmp(str_of(x, "name"), name) == 0)
            return x;
    }
    fail_msg("no entry named %s", name);
    return NULL;
}

/* An imported row keeps every CSV column in both library routes; custom-item routes do not show it. */
static void test_imported_columns(void **state)
{
    (void)state;
    struct http_response r;
    /* /v1: the /v1 item shape, the undeclared columns in base_attributes, numbers as numbers */
    get_read(&r, "/v1/equipment-library?type=light-armor&limit=500");
    json_t *page = expect_json(&r, 200, "GET /v1/equipment-library?type=light-armor");
    json_t *vest = named(json_object_get(page, "results"), "Quilted Vest");
    assert_string_equal(str_of(vest, "source"), "imported");
    json_t *attrs = json_object_get(vest, "base_attributes");
    assert_int_equal(int_of(attrs, "armor_class"), 11);
    assert_string_equal(str_of(attrs, "stealth"), "disadvantage");
    assert_true(json_number_value(json_object_get(vest, "weight")) == 9.0);
    json_t *jerkin = named(json_object_get(page, "results"), "Ring Jerkin");
    assert_int_equal(int_of(json_object_get(jerkin, "base_attributes"), "armor_class"), 12);
    assert_null(json_object_get(json_object_get(jerkin, "base_attributes"), "stealth")); /* empty: absent */
    char vest_id[64];
    snprintf(vest_id, sizeof(vest_id), "%s", str_of(vest, "id"));
    json_decref(page);
    get_read(&r, "/v1/equipment-library?type=martial-ranged&limit=500");
    page = expect_json(&r, 200, "GET /v1/equipment-library?type=martial-ranged");
    json_t *bow = json_object_get(named(json_object_get(page, "results"), "Hunting Bow"), "base_attributes");
    assert_string_equal(str_of(bow, "damage"), "1d8");
    assert_string_equal(str_of(bow, "damage_type"), "piercing");
    assert_string_equal(str_of(bow, "properties"), "ammunition, two-handed");
    assert_int_equal(int_of(bow, "range"), 120);
    assert_int_equal(int_of(bow, "hands"), 2);
    json_decref(page);

    /* the original's route: its row shape, with the CSV's columns filled in */
    get_read(&r, "/equipment-library?equip_type=light-armor");
    json_t *orig = expect_json(&r, 200, "GET /equipment-library?equip_type=light-armor");
    json_t *row = named(json_object_get(orig, "equipment"), "Quilted Vest");
    assert_string_equal(str_of(row, "id"), vest_id);
    assert_int_equal(int_of(row, "armor_class"), 11);
    assert_string_equal(str_of(row, "stealth"), "disadvantage");
    assert_true(json_is_null(json_object_get(row, "damage")));
    assert_true(json_number_value(json_object_get(row, "base_cost")) == 6.0);
    row = named(json_object_get(orig, "equipment"), "Ring Jerkin");
    assert_true(json_is_null(json_object_get(row, "stealth")));
    json_decref(orig);
    get_read(&r, "/equipment-library?equip_type=martial-melee");
    orig = expect_json(&r, 200, "GET /equipment-library?equip_type=martial-melee");
    row = named(json_object_get(orig, "equipment"), "War Pick");
    assert_string_equal(str_of(row, "damage"), "1d8");
    assert_true(json_is_null(json_object_get(row, "properties"))); /* empty in the CSV */
    assert_true(json_is_null(json_object_get(row, "weight")));
    assert_int_equal(int_of(row, "hands"), 1);
    json_decref(orig);
    get_read(&r, "/equipment-library?equip_type=martial-ranged");
    orig = expect_json(&r, 200, "GET /equipment-library?equip_type=martial-ranged");
    row = named(json_object_get(orig, "equipment"), "Hunting Bow");
    assert_string_equal(str_of(row, "properties"), "ammunition, two-handed");
    assert_int_equal(int_of(row, "range"), 120);
    json_decref(orig);

    /* imported rows are not custom items */
    get_read(&r, "/v1/equipment");
    json_t *custom = expect_json(&r, 200, "GET /v1/equipment");
    assert_int_equal(int_of(custom, "count"), 0);
    json_decref(custom);
    char path[128];
    snprintf(path, sizeof(path), "/v1/equipment/%s", vest_id);
    get_read(&r, path);
    expect_status(&r, 404, "GET /v1/equipment/{imported id}");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_library),
        cmocka_unit_test(test_item_crud),
        cmocka_unit_test(test_item_errors),
    };
    const struct CMUnitTest imported[] = {
        cmocka_unit_test(test_imported_columns),
    };
    int failed = cmocka_run_group_tests_name("equipment", tests, group_setup, rest_teardown);
    failed += cmocka_run_group_tests_name("equipment-imported", imported, import_setup, import_teardown);
    remove_import_dir();
    return failed;
}
