/*
 * tests/e2e/test_robustness.c - "a 500 or a crash on any request is a bug".
 * One real character-server (2 workers) gets, for every route of the route
 * table (routes_table()), a bounded and seeded set of hostile requests: path
 * parameters that name a real resource of the right kind, an unknown uuid and
 * junk (dot segments, 300 characters, percent escapes); bodies that put a value
 * of every wrong type at each known field, random JSON from a fixed-seed
 * generator (at most 32 deep: huge, negative and fractional numbers, long and
 * unicode strings, nulls, empty containers), invalid JSON, wrong or missing
 * content types; odd query strings (repeated keys, bad escapes, huge and
 * negative limits, forged cursors); junk If-Match / If-None-Match /
 * Authorization; HEAD and other methods; with the write and the read token.
 *
 * Every response must be below 500, carry Content-Length, and be a problem
 * document (application/problem+json whose "status" is the HTTP status) when it
 * is a 4xx. At the end neither worker may have died (same pids) and the server
 * log must hold no "internal error" line, no logged request error and no
 * sanitizer report. The seed is printed; ROBUSTNESS_SEED=N replays a run.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <curl/curl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "server/routes.h"
#include "tests/e2e/harness.h"

#define DEFAULT_SEED 20240917u
#define MAX_REQUESTS 20000 /* the suite's hard budget */
#define MAX_REPORTED 40    /* failures printed in full; the rest are counted */
#define RANDOM_BODIES 40   /* random JSON bodies per body-taking route */
#define RANDOM_QUERIES 16  /* random query strings per GET route */
#define MAX_DEPTH 32       /* nesting of generated JSON */

static struct harness_server srv;
static struct http_client client;
static char auth_write[128], auth_read[128];
static char char_id[64], equip_id[64], camp_id[64];
static char real_cursor[512];
static uint64_t rng;
static unsigned long nrequests, nfailures;
static const char *cur_extra, *cur_ctype; /* the request being judged, for the failure message */

/* ---- seeded generator (xorshift64*) ------------------------------------------ */

static uint64_t rnd(void)
{
    rng ^= rng >> 12;
    rng ^= rng << 25;
    rng ^= rng >> 27;
    return rng * 0x2545F4914F6CDD1DULL;
}

static size_t rnd_below(size_t n)
{
    return n == 0 ? 0 : (size_t)(rnd() % n);
}

/* ---- sending and judging one request ------------------------------------------ */

static void failure(const char *method, const char *url, const char *what, const struct http_response *r)
{
    nfailures++;
    if (nfailures <= MAX_REPORTED)
        print_message("FAIL %s %.300s [%.60s] [%.60s]: %s (status %ld, curl %d %s): %.300s\n", method, url,
                      cur_extra != NULL ? cur_extra : "-", cur_ctype != NULL ? cur_ctype : "-", what,
                      r != NULL ? r->status : 0L, r != NULL ? r->curl_code : 0, r != NULL ? r->error : "",
                      r != NULL && r->body != NULL ? r->body : "");
}

/* Judge one response by the rules in the header comment. */
static void judge(const char *method, const char *url, struct http_response *r)
{
    if (r->status == 0) {
        failure(method, url, "no response (crash or hang?)", r);
        return;
    }
    if (r->status >= 500) {
        failure(method, url, "5xx", r);
        return;
    }
    char v[256];
    if (r->status != 204 && r->status != 304 && !http_response_header(r, "content-length", v, sizeof(v)))
        failure(method, url, "no Content-Length", r);
    if (r->status >= 400) {
        if (!http_response_header(r, "content-type", v, sizeof(v)) || strncmp(v, "application/problem+json", 24) != 0) {
            failure(method, url, "4xx without application/problem+json", r);
            return;
        }
        if (strcmp(method, "HEAD") == 0)
            return; /* no body to read */
        json_t *p = harness_json(r);
        if (!json_is_object(p) || json_integer_value(json_object_get(p, "status")) != r->status)
            failure(method, url, "4xx body is not a problem document with its status", r);
        json_decref(p);
    }
}

/*
 * Send one request: `path` is the path and query, `auth` a full Authorization
 * header or NULL, `ctype` the Content-Type value or NULL, `extra` one more
 * header or NULL, body[0..len) or body NULL. Judges the answer; returns its
 * status (0 when none came).
 */
static long send_req(const char *method, const char *path, const char *auth, const char *ctype, const char *extra,
                     const char *body, size_t len)
{
    if (nrequests >= MAX_REQUESTS)
        return -1;
    nrequests++;
    cur_extra = extra;
    cur_ctype = ctype;
    char url[4096], ct[512];
    snprintf(url, sizeof(url), "%s%s", srv.base_url, path);
    const char *h[4];
    size_t n = 0;
    if (auth != NULL)
        h[n++] = auth;
    if (ctype != NULL) {
        snprintf(ct, sizeof(ct), "Content-Type: %s", ctype);
        h[n++] = ct;
    }
    if (extra != NULL)
        h[n++] = extra;
    h[n] = NULL;
    struct http_response r;
    if (http_client_request(&client, method, url, h, body, len, &r) != 0 && r.curl_code == CURLE_URL_MALFORMAT)
        fail_msg("the test built a URL curl refuses: %s", url); /* the test's own bug, not the server's */
    judge(method, url, &r);
    if (getenv("ROBUSTNESS_TRACE") != NULL) /* every request, for replaying a failure by hand */
        fprintf(stderr, "%lu %s %.200s [%.40s] [%.40s] body %zu -> %ld (%zu bytes)\n", nrequests, method, path,
                extra != NULL ? extra : "-", ctype != NULL ? ctype : "-", body != NULL ? len : 0, r.status, r.body_len);
    long status = r.status;
    http_response_release(&r);
    return status;
}

static long send_json_body(const char *method, const char *path, const char *auth, const char *ctype, json_t *body)
{
    char *text = json_dumps(body, JSON_COMPACT | JSON_ENCODE_ANY);
    assert_non_null(text);
    long s = send_req(method, path, auth, ctype, NULL, text, strlen(text));
    free(text);
    return s;
}

/* POST `body` to `path` with the write token; copy the created resource's id. */
static void create(const char *path, const char *body, char id[64])
{
    char url[256];
    snprintf(url, sizeof(url), "%s%s", srv.base_url, path);
    const char *h[] = {auth_write, "Content-Type: application/json", NULL};
    struct http_response r;
    assert_int_equal(http_client_request(&client, "POST", url, h, body, strlen(body), &r), 0);
    if (r.status != 201)
        fail_msg("POST %s: expected 201, got %ld: %.300s", path, r.status, r.body);
    json_t *doc = harness_json(&r);
    assert_non_null(doc);
    const char *s = json_string_value(json_object_get(doc, "id"));
    assert_non_null(s);
    snprintf(id, 64, "%s", s);
    json_decref(doc);
    http_response_release(&r);
}

/* ---- what each route takes ---------------------------------------------------- */

enum kind { K_NONE, K_CHAR, K_EQUIP, K_CAMP, K_REF };

static const char *const character_fields[] = {"name",
                                               "race",
                                               "subrace",
                                               "class",
                                               "subclass",
                                               "background",
                                               "alignment",
                                               "level",
                                               "ability_scores",
                                               "ability_scores.method",
                                               "ability_scores.assign",
                                               "ability_scores.assign.str",
                                               "ability_scores.roll_id",
                                               "skills",
                                               "languages",
                                               "choices",
                                               "choices.tool",
                                               "choices.ability_bonuses",
                                               "advancement",
                                               "ability_score_improvements",
                                               "experience_points",
                                               NULL};
static const char *const level_up_fields[] = {"class", "subclass", "hit_points", "asi", "skills", "tools", NULL};
static const char *const equipment_fields[] = {"name",
                                               "equip_type",
                                               "base_cost",
                                               "weight",
                                               "base_attributes",
                                               "base_attributes.armor_class",
                                               "base_attributes.str_minimum",
                                               NULL};
static const char *const campaign_fields[] = {"character_id", "current_hp", "current_xp", NULL};
static const char *const equip_fields[] = {"item", "slot", NULL};
static const char *const unequip_fields[] = {"slot", NULL};
static const char *const pack_fields[] = {"add", "remove", NULL};
static const char *const hp_fields[] = {"damage", "heal", NULL};
static const char *const xp_fields[] = {"award", NULL};
static const char *const roll_fields[] = {"expression", NULL};
static const char *const ability_roll_fields[] = {"method", NULL};
static const char *const compat_character_fields[] = {"name", "race", "classname", "point_buy", "point_buy.strength",
                                                      NULL};
static const char *const compat_equipment_fields[] = {"name",   "equip_type",      "base_cost",
                                                      "weight", "base_attributes", NULL};
static const char *const compat_campaign_fields[] = {"id",           "current_hp", "current_xp", "currently_equiped",
                                                     "current_pack", NULL};
static const char *const no_fields[] = {NULL};

/* How the test exercises one route. */
struct plan {
    enum kind kind;            /* the kind of resource its path parameters (or id query) name */
    const char *id_query;      /* the original API's routes carry the id in this query parameter */
    const char *const *fields; /* known body fields, dotted for nested ones */
    json_t *body;              /* a plausible body to mutate, NULL when it takes none */
};

static json_t *build_body(void)
{
    char text[2048];
    snprintf(text, sizeof(text), HARNESS_BUILD_FMT, "Robust");
    json_t *j = json_loads(text, 0, NULL);
    assert_non_null(j);
    return j;
}

static struct plan plan_for(const struct route *rt)
{
    const char *p = rt->pattern, *m = rt->method;
    struct plan pl = {K_NONE, NULL, no_fields, NULL};
    if (strncmp(p, "/v1/characters", 14) == 0) {
        pl.kind = strstr(p, "{id}") != NULL ? K_CHAR : K_NONE;
        if (strstr(p, "level-up") != NULL) {
            pl.fields = level_up_fields;
            pl.body = json_pack("{s:s, s:s}", "class", "cleric", "hit_points", "average");
        } else if (strcmp(m, "POST") == 0 || strcmp(m, "PUT") == 0 || strcmp(m, "PATCH") == 0) {
            pl.fields = character_fields;
            pl.body = build_body();
        }
    } else if (strncmp(p, "/v1/equipment-library", 21) == 0) {
        pl.kind = K_NONE;
    } else if (strncmp(p, "/v1/equipment", 13) == 0) {
        pl.kind = strstr(p, "{id}") != NULL ? K_EQUIP : K_NONE;
        if (strcmp(m, "POST") == 0 || strcmp(m, "PUT") == 0 || strcmp(m, "PATCH") == 0) {
            pl.fields = equipment_fields;
            pl.body = json_pack("{s:s, s:s, s:i, s:f, s:{s:i}}", "name", "Shield", "equip_type", "shield", "base_cost",
                                10, "weight", 6.0, "base_attributes", "armor_class", 2);
        }
    } else if (strncmp(p, "/v1/campaigns", 13) == 0) {
        pl.kind = strstr(p, "{id}") != NULL ? K_CAMP : K_NONE;
        if (strstr(p, "/unequip") != NULL) {
            pl.fields = unequip_fields;
            pl.body = json_pack("{s:s}", "slot", "armor");
        } else if (strstr(p, "/equip") != NULL) {
            pl.fields = equip_fields;
            pl.body = json_pack("{s:s, s:s}", "item", equip_id, "slot", "shield");
        } else if (strstr(p, "/pack") != NULL) {
            pl.fields = pack_fields;
            pl.body = json_pack("{s:[s], s:[]}", "add", equip_id, "remove");
        } else if (strstr(p, "/hp") != NULL) {
            pl.fields = hp_fields;
            pl.body = json_pack("{s:i}", "damage", 3);
        } else if (strstr(p, "/xp") != NULL) {
            pl.fields = xp_fields;
            pl.body = json_pack("{s:i}", "award", 100);
        } else if (strcmp(m, "POST") == 0) {
            pl.fields = campaign_fields;
            pl.body = json_pack("{s:s}", "character_id", char_id);
        } else if (strcmp(m, "PUT") == 0 || strcmp(m, "PATCH") == 0) {
            pl.fields = campaign_fields;
            pl.body = json_pack("{s:i, s:i}", "current_hp", 5, "current_xp", 10);
        }
    } else if (strcmp(p, "/v1/rolls") == 0) {
        pl.fields = roll_fields;
        pl.body = json_pack("{s:s}", "expression", "2d6+3");
    } else if (strcmp(p, "/v1/rolls/ability-scores") == 0) {
        pl.fields = ability_roll_fields;
        pl.body = json_object();
    } else if (strncmp(p, "/api/2014", 9) == 0) {
        pl.kind = strchr(p, '{') != NULL ? K_REF : K_NONE;
    } else if (strcmp(p, "/character") == 0) {
        pl.kind = K_CHAR;
        pl.id_query = "id";
        if (strcmp(m, "POST") == 0) {
            pl.id_query = NULL;
            pl.kind = K_NONE;
            pl.fields = compat_character_fields;
            pl.body = json_pack("{s:s, s:s, s:s, s:{s:i, s:i}}", "name", "Robust", "race", "Hill Dwarf", "classname",
                                "Cleric", "point_buy", "strength", 13, "wisdom", 15);
        }
    } else if (strcmp(p, "/equipment") == 0) {
        pl.kind = K_EQUIP;
        pl.id_query = "id";
        if (strcmp(m, "POST") == 0) {
            pl.id_query = NULL;
            pl.kind = K_NONE;
            pl.fields = compat_equipment_fields;
            pl.body = json_pack("{s:s, s:s, s:i, s:i}", "name", "Rope", "equip_type", "Adventuring Gear", "base_cost",
                                1, "weight", 10);
        }
    } else if (strcmp(p, "/equipment-library") == 0) {
        pl.id_query = "equip_type";
    } else if (strcmp(p, "/campaign") == 0) {
        pl.kind = strcmp(m, "POST") == 0 ? K_CHAR : K_CAMP;
        pl.id_query = strcmp(m, "POST") == 0 ? "character" : "id";
        if (strcmp(m, "PUT") == 0) {
            pl.fields = compat_campaign_fields;
            pl.body = json_pack("{s:s, s:i, s:i}", "id", camp_id, "current_hp", 4, "current_xp", 50);
        }
    }
    return pl;
}

/* ---- path parameters ------------------------------------------------------------ */

#define REAL "\x01real" /* stands for a real id of the route's kind */

static char long_param[301], long_escaped[3 * 100 + 1];

static const char *const junk_params[] = {
    REAL,
    "00000000-0000-4000-8000-000000000000",
    "7f3c2a1e-9b4d-4e8f-a1b2-c3d4e5f60718",
    "x",
    "../..",
    "..%2F..",
    "%2e%2e",
    long_param,
    long_escaped,
    "%00",
    "%ff%fe%fd",
    "%",
    "%zz",
    "%25",
    "%e2%80%ae%f0%9f%92%a9",
    "-1",
    "99999999999999999999999999",
    "00000000-0000-4000-8000-00000000000G",
    "0000000000000000000000000000000000000",
    "*",
};
#define NJUNK (sizeof(junk_params) / sizeof(junk_params[0]))

static const char *real_value(enum kind k, const char *param)
{
    switch (k) {
    case K_CHAR: return char_id;
    case K_EQUIP: return equip_id;
    case K_CAMP: return camp_id;
    case K_REF:
        if (strcmp(param, "resource") == 0)
            return "classes";
        if (strcmp(param, "level") == 0)
            return "1";
        return "cleric";
    default: return "x";
    }
}

/* The route's path (and id query) with every parameter filled with `val` (REAL: the real one). */
static void fill_path(const struct route *rt, const struct plan *pl, const char *val, char *out, size_t outlen)
{
    size_t o = 0;
    for (const char *p = rt->pattern; *p != '\0' && o + 1 < outlen;) {
        if (*p == '{') {
            const char *end = strchr(p, '}');
            char name[32];
            snprintf(name, sizeof(name), "%.*s", (int)(end - p - 1), p + 1);
            const char *v = strcmp(val, REAL) == 0 ? real_value(pl->kind, name) : val;
            o += (size_t)snprintf(out + o, outlen - o, "%s", v);
            p = end + 1;
        } else {
            out[o++] = *p++;
        }
    }
    out[o < outlen ? o : outlen - 1] = '\0';
    if (pl->id_query != NULL && o < outlen) {
        const char *v = strcmp(val, REAL) == 0 ? (pl->kind == K_NONE ? "shield" : real_value(pl->kind, "")) : val;
        snprintf(out + o, outlen - o, "?%s=%s", pl->id_query, v);
    }
}

/* ---- hostile values ------------------------------------------------------------ */

static const char *const unicode_strings[] = {
    "\xc3\xa9\xe2\x98\x83\xf0\x9d\x84\x9e", /* é, snowman, G clef */
    "\xe2\x80\xae\x64\x77\x61\x72\x66",     /* right-to-left override */
    "\xef\xbb\xbf",                         /* BOM */
    "Robust\xcc\x81\xcc\x81\xcc\x81",       /* combining marks */
};

static char *long_string(size_t n)
{
    char *s = malloc(n + 1);
    assert_non_null(s);
    for (size_t i = 0; i < n; i++)
        s[i] = (char)('a' + (char)(i % 26));
    s[n] = '\0';
    return s;
}

/* A JSON value nested `depth` arrays/objects deep around a null. */
static json_t *nested(int depth)
{
    json_t *v = json_null();
    for (int i = 0; i < depth; i++) {
        json_t *c = (i % 2) ? json_array() : json_object();
        if (json_is_array(c))
            json_array_append_new(c, v);
        else
            json_object_set_new(c, "k", v);
        v = c;
    }
    return v;
}

/* The fixed list of values of every type put at each field in turn; `which` < NWRONG. */
#define NWRONG 22
static json_t *wrong_value(int which)
{
    char *s;
    json_t *v;
    switch (which) {
    case 0: return json_null();
    case 1: return json_true();
    case 2: return json_false();
    case 3: return json_integer(0);
    case 4: return json_integer(-1);
    case 5: return json_integer(INT64_MAX);
    case 6: return json_integer(INT64_MIN);
    case 7: return json_integer(2147483648LL);
    case 8: return json_real(1.5);
    case 9: return json_real(-0.0);
    case 10: return json_real(1e300);
    case 11: return json_real(-1e-300);
    case 12: return json_string("");
    case 13: return json_string("x");
    case 14:
        s = long_string(300);
        v = json_string(s);
        free(s);
        return v;
    case 15:
        s = long_string(70000);
        v = json_string(s);
        free(s);
        return v;
    case 16: return json_string(unicode_strings[0]);
    case 17: return json_stringn("a\0b", 3);
    case 18: return json_array();
    case 19: return json_object();
    case 20: return json_pack("[n, i, s, {}]", 1, "x");
    default: return nested(MAX_DEPTH - 2);
    }
}

/* Put `val` (stolen) at dotted `field` of `obj`, making objects on the way. */
static void set_path(json_t *obj, const char *field, json_t *val)
{
    char buf[128];
    snprintf(buf, sizeof(buf), "%s", field);
    char *dot, *key = buf;
    while ((dot = strchr(key, '.')) != NULL) {
        *dot = '\0';
        json_t *next = json_object_get(obj, key);
        if (!json_is_object(next)) {
            next = json_object();
            json_object_set_new(obj, key, next);
        }
        obj = next;
        key = dot + 1;
    }
    json_object_set_new(obj, key, val);
}

/* A random scalar from the interesting corners. */
static json_t *random_scalar(void)
{
    static const json_int_t ints[] = {
        0, 1, -1, 2, 3, 20, 21, 30, 31, 255, 256, 65535, 65536, 1000, 2147483647, -2147483648LL, INT64_MAX, INT64_MIN};
    static const double reals[] = {0.5, -0.5, 1e308, -1e308, 5e-324, 3.0000000001, 19.999999, 1e16, -0.0};
    static const char *const strs[] = {
        "",          "x",      "dwarf", "cleric",   "standard_array",   "str",
        "main_hand", "shield", "1d20",  "d",        "999d999999",       "2d6+3",
        "%s%n",      "null",   "{}",    "<script>", "../../etc/passwd", "00000000-0000-4000-8000-000000000000"};
    switch (rnd_below(9)) {
    case 0: return json_null();
    case 1: return json_boolean(rnd() & 1);
    case 2: return json_integer(ints[rnd_below(sizeof(ints) / sizeof(ints[0]))]);
    case 3: return json_integer((json_int_t)rnd());
    case 4: return json_real(reals[rnd_below(sizeof(reals) / sizeof(reals[0]))]);
    case 5: return json_string(strs[rnd_below(sizeof(strs) / sizeof(strs[0]))]);
    case 6: return json_string(unicode_strings[rnd_below(sizeof(unicode_strings) / sizeof(unicode_strings[0]))]);
    case 7: {
        size_t n = rnd_below(4) == 0 ? 1000 + rnd_below(20000) : rnd_below(80);
        char *s = long_string(n);
        json_t *v = json_string(s);
        free(s);
        return v;
    }
    default: {
        const char *ids[] = {char_id, equip_id, camp_id};
        return json_string(ids[rnd_below(3)]);
    }
    }
}

/* A random value at most `room` containers deep; keys favour the route's fields. */
static json_t *random_json(const char *const *fields, int room)
{
    size_t r = rnd_below(10);
    if (room <= 0 || r < 5)
        return random_scalar();
    if (r == 5) /* a long chain straight down */
        return nested((int)rnd_below((size_t)room) + 1);
    size_t n = rnd_below(6);
    if (r < 8) {
        json_t *a = json_array();
        for (size_t i = 0; i < n; i++)
            json_array_append_new(a, random_json(fields, room - 1));
        return a;
    }
    json_t *o = json_object();
    size_t nf = 0;
    while (fields[nf] != NULL)
        nf++;
    for (size_t i = 0; i < n; i++) {
        char key[64];
        size_t k = rnd_below(nf + 3);
        if (k < nf) {
            const char *f = fields[k], *dot = strrchr(f, '.');
            snprintf(key, sizeof(key), "%s", dot != NULL ? dot + 1 : f);
        } else if (k == nf) {
            key[0] = '\0';
        } else {
            snprintf(key, sizeof(key), "k%" PRIu64, rnd() % 1000);
        }
        json_object_set_new(o, key, random_json(fields, room - 1));
    }
    return o;
}

/* Byte strings that are not JSON (or are JSON the parser must refuse). */
static char *invalid_json(int which, size_t *len)
{
    static const char *const fixed[] = {
        " ",
        "{",
        "}",
        "[",
        "{\"a\":}",
        "{\"a\" 1}",
        "[1,]",
        "{'a':1}",
        "nul",
        "NaN",
        "Infinity",
        "-",
        "01",
        "1e400",
        "{\"level\":123456789012345678901234567890}",
        "{\"level\":-1e400}",
        "\"\\ud800\"",
        "{\"name\":\"\\u0000\"}",
        "\xff\xfe{}",
        "{\"a\":1}{",
        "{\"a\":1} x",
        "\"unterminated",
        "tru",
        "[1 2]",
        "{\"name\":\"a\",\"name\":\"b\"}",
        "{\"name\":\"\xc3\x28\"}",
        "{\"\xed\xa0\x80\":1}",
        "1",
        "\"s\"",
        "null",
        "[]",
        "true",
        "-0",
        "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]",
    };
    size_t nfixed = sizeof(fixed) / sizeof(fixed[0]);
    char *s;
    if ((size_t)which < nfixed) {
        *len = strlen(fixed[which]);
        s = malloc(*len + 1);
        assert_non_null(s);
        memcpy(s, fixed[which], *len + 1);
        return s;
    }
    switch ((size_t)which - nfixed) {
    case 0: /* far deeper than the parser's limit */
        *len = 6000;
        s = malloc(*len + 1);
        assert_non_null(s);
        memset(s, '[', 3000);
        memset(s + 3000, ']', 3000);
        break;
    case 1: /* unbalanced, deep */
        *len = 20000;
        s = malloc(*len + 1);
        assert_non_null(s);
        memset(s, '{', *len);
        break;
    case 2: /* a NUL in the middle */
        *len = 12;
        s = malloc(*len + 1);
        assert_non_null(s);
        memcpy(s, "{\"a\":\0\"b\"}  ", *len);
        break;
    case 3: /* over the default 1 MiB body limit */
        *len = (1u << 20) + 10;
        s = malloc(*len + 1);
        assert_non_null(s);
        memset(s, ' ', *len);
        s[0] = '{';
        s[*len - 1] = '}';
        break;
    default: return NULL;
    }
    s[*len] = '\0';
    return s;
}

static const char *const content_types[] = {
    NULL,
    "text/plain",
    "application/json; charset=utf-16",
    "application/jsonx",
    "application/merge-patch+json",
    "application/json;;;",
    "application/problem+json",
    "multipart/form-data; boundary=x",
    "application/x-www-form-urlencoded",
    "",
    ";",
    "application/json; charset=\"",
    "APPLICATION/JSON",
    "application/json ; charset=utf-8",
    "*/*",
};

static char long_header[2100];

static const char *const header_junk[] = {
    "If-Match: ",
    "If-Match: *",
    "If-Match: \"x\"",
    "If-Match: W/\"x\"",
    "If-Match: W/",
    "If-Match: ,,,",
    "If-Match: \"",
    "If-Match: *, \"a\", W/\"b\"",
    "If-None-Match: *",
    "If-None-Match: \"",
    "If-None-Match: W/",
    "If-None-Match: ,, ,",
    long_header,
    "X-Request-Id: ../../etc",
    "X-Request-Id: ",
    "Accept: application/xml",
    "Accept-Encoding: gzip, br, *;q=0",
    "Range: bytes=0-1",
};

static char long_auth[400];

static const char *const auth_junk[] = {
    NULL,
    "Authorization: ",
    "Authorization: Bearer",
    "Authorization: Bearer ",
    "Authorization: Basic eDp5",
    "Authorization: bearer x",
    long_auth,
    "Authorization: Bearer reader:read:x",
};

static char long_query[1200], many_keys[3000], forged_cursor[600];

static const char *const queries[] = {
    "?limit=-1",
    "?limit=0",
    "?limit=1",
    "?limit=101",
    "?limit=99999999999999999999",
    "?limit=1e3",
    "?limit=abc",
    "?limit=",
    "?limit",
    "?limit=10&limit=20",
    "?cursor=x",
    "?cursor=%ff",
    "?cursor=",
    "?cursor=AAAA",
    "?cursor=%00",
    long_query,
    many_keys,
    forged_cursor,
    "?%zz=1",
    "?a=%",
    "?a=%4",
    "?=",
    "?&&&",
    "?name=%00",
    "?race=dwarf&race=elf",
    "?class=%e2%80%ae",
    "?level=-5",
    "?level=99999999999999999999",
    "?name=",
    "?id=",
    "?id=%00",
    "?id=x&id=y",
    "?character=",
    "?equip_type=",
    "?equip_type=%ff",
    "?equip_type=Shield&equip_type=Armor",
    "?+=+",
    "?a+b=c+d",
    "?;=;",
    "?#frag",
};

static void init_constants(void)
{
    memset(long_param, 'q', 300);
    long_param[300] = '\0';
    for (int i = 0; i < 100; i++)
        memcpy(long_escaped + 3 * i, "%41", 3);
    long_escaped[300] = '\0';
    snprintf(long_header, sizeof(long_header), "If-Match: ");
    memset(long_header + 10, 'W', sizeof(long_header) - 11);
    long_header[sizeof(long_header) - 1] = '\0';
    snprintf(long_auth, sizeof(long_auth), "Authorization: Bearer ");
    memset(long_auth + 22, 'f', sizeof(long_auth) - 23);
    long_auth[sizeof(long_auth) - 1] = '\0';
    snprintf(long_query, sizeof(long_query), "?name=");
    memset(long_query + 6, 'n', sizeof(long_query) - 7);
    long_query[sizeof(long_query) - 1] = '\0';
    size_t o = (size_t)snprintf(many_keys, sizeof(many_keys), "?");
    for (int i = 0; i < 300 && o + 8 < sizeof(many_keys); i++)
        o += (size_t)snprintf(many_keys + o, sizeof(many_keys) - o, "a%d=1&", i % 7);
}

/* A random query string of known and unknown keys with hostile values, into out. */
static void random_query(char *out, size_t outlen)
{
    static const char *const keys[] = {"limit",     "cursor",     "race",         "class", "name", "level", "id",
                                       "character", "equip_type", "character_id", "x",     "",     "%zz",   "li%6dit"};
    static const char *const vals[] = {
        "",       "-1",   "0",       "1",   "100",       "101", "1e9",   "18446744073709551616",
        "%",      "%0",   "%00",     "%ff", "%e2%98%83", "+",   "dwarf", "cleric",
        "Shield", "AAAA", "..%2F..", "*"};
    size_t o = (size_t)snprintf(out, outlen, "?");
    size_t n = 1 + rnd_below(6);
    for (size_t i = 0; i < n && o + 64 < outlen; i++) {
        const char *k = keys[rnd_below(sizeof(keys) / sizeof(keys[0]))];
        if (rnd_below(8) == 0) {
            o += (size_t)snprintf(out + o, outlen - o, "%s%s", i > 0 ? "&" : "", k); /* no '=' at all */
            continue;
        }
        const char *v = vals[rnd_below(sizeof(vals) / sizeof(vals[0]))];
        if (strcmp(k, "id") == 0 || strcmp(k, "character") == 0 || strcmp(k, "character_id") == 0) {
            const char *ids[] = {char_id, equip_id, camp_id};
            if (rnd_below(2) == 0)
                v = ids[rnd_below(3)];
        } else if (strcmp(k, "cursor") == 0 && rnd_below(2) == 0) {
            v = real_cursor;
        }
        o += (size_t)snprintf(out + o, outlen - o, "%s%s=%s", i > 0 ? "&" : "", k, v);
    }
}

/* ---- the walk over the route table ------------------------------------------------ */

/* Wrong-type values at each field, then random JSON, then the base body itself. */
static void fuzz_bodies(const struct route *rt, const struct plan *pl, const char *path, const char *ctype)
{
    for (size_t f = 0; pl->fields[f] != NULL; f++)
        for (int w = 0; w < NWRONG; w++) {
            json_t *b = pl->body != NULL ? json_deep_copy(pl->body) : json_object();
            set_path(b, pl->fields[f], wrong_value(w));
            send_json_body(rt->method, path, auth_write, ctype, b);
            json_decref(b);
        }
    for (int i = 0; i < RANDOM_BODIES; i++) {
        json_t *b;
        if (i % 3 == 0) {
            b = random_json(pl->fields, MAX_DEPTH);
        } else {
            /* the base body with a few fields replaced by random values */
            b = pl->body != NULL ? json_deep_copy(pl->body) : json_object();
            size_t nf = 0;
            while (pl->fields[nf] != NULL)
                nf++;
            for (size_t k = 0; nf > 0 && k < 1 + rnd_below(3); k++)
                set_path(b, pl->fields[rnd_below(nf)], random_json(pl->fields, MAX_DEPTH - 3));
        }
        send_json_body(rt->method, path, i % 5 == 4 ? auth_read : auth_write, ctype, b);
        json_decref(b);
    }
    if (pl->body != NULL)
        send_json_body(rt->method, path, auth_write, ctype, pl->body);
}

static void fuzz_route(const struct route *rt)
{
    struct plan pl = plan_for(rt);
    int takes_body = (rt->flags & ROUTE_JSON_BODY) != 0;
    const char *json_ct = (rt->flags & ROUTE_MERGE_PATCH) ? "application/merge-patch+json" : "application/json";
    char path[4096];

    /* every parameter variant: without a body, with the base body, with the read token */
    for (size_t v = 0; v < NJUNK; v++) {
        fill_path(rt, &pl, junk_params[v], path, sizeof(path));
        if (v == 0 && strcmp(rt->method, "DELETE") == 0)
            continue; /* the real resource is deleted last */
        send_req(rt->method, path, auth_write, NULL, NULL, NULL, 0);
        send_req(rt->method, path, auth_read, NULL, NULL, NULL, 0);
        if (pl.body != NULL)
            send_json_body(rt->method, path, auth_write, json_ct, pl.body);
        if (strcmp(rt->method, "GET") == 0)
            send_req("HEAD", path, auth_read, NULL, NULL, NULL, 0);
    }

    fill_path(rt, &pl, REAL, path, sizeof(path));
    /* junk headers and tokens (DELETE keeps a failing If-Match so the resource survives) */
    for (size_t h = 0; h < sizeof(header_junk) / sizeof(header_junk[0]); h++) {
        if (strcmp(rt->method, "DELETE") == 0 && strstr(header_junk[h], "If-Match") == NULL)
            continue;
        if (strcmp(rt->method, "DELETE") == 0 && strstr(header_junk[h], "*") != NULL)
            continue;
        if (pl.body != NULL) {
            char *text = json_dumps(pl.body, JSON_COMPACT);
            send_req(rt->method, path, auth_write, json_ct, header_junk[h], text, strlen(text));
            free(text);
        } else {
            send_req(rt->method, path, auth_write, NULL, header_junk[h], NULL, 0);
        }
    }
    if (strcmp(rt->method, "DELETE") != 0)
        for (size_t a = 0; a < sizeof(auth_junk) / sizeof(auth_junk[0]); a++)
            send_req(rt->method, path, auth_junk[a], takes_body ? json_ct : NULL, NULL, takes_body ? "{}" : NULL,
                     takes_body ? 2 : 0);

    /* odd query strings, on top of the route's own */
    if (strcmp(rt->method, "GET") == 0 || strcmp(rt->method, "POST") == 0) {
        for (size_t q = 0; q < sizeof(queries) / sizeof(queries[0]); q++) {
            char qpath[8192];
            const char *query = queries[q];
            if (strchr(path, '?') != NULL && query[0] == '?')
                snprintf(qpath, sizeof(qpath), "%s&%s", path, query + 1);
            else
                snprintf(qpath, sizeof(qpath), "%s%s", path, query);
            if (pl.body != NULL)
                send_json_body(rt->method, qpath, auth_write, json_ct, pl.body);
            else
                send_req(rt->method, qpath, auth_read, takes_body ? json_ct : NULL, NULL, takes_body ? "{}" : NULL,
                         takes_body ? 2 : 0);
        }
    }

    if (strcmp(rt->method, "GET") == 0) {
        char base_path[4096];
        snprintf(base_path, sizeof(base_path), "%s", path);
        char *qm = strchr(base_path, '?');
        if (qm != NULL)
            *qm = '\0'; /* the random query replaces the route's own id query */
        for (int i = 0; i < RANDOM_QUERIES; i++) {
            char query[1024], qpath[8192];
            random_query(query, sizeof(query));
            snprintf(qpath, sizeof(qpath), "%s%s", base_path, query);
            send_req(rt->method, qpath, i % 2 ? auth_read : auth_write, NULL, NULL, NULL, 0);
        }
    }

    if (!takes_body) {
        /* a body where none is expected */
        send_req(rt->method, path, auth_write, "application/json", "If-Match: \"no\"", "{\"a\":1}", 7);
        send_req(rt->method, path, auth_write, "text/plain", "If-Match: \"no\"", "\xff\x00", 2);
        return;
    }
    /* content types, then invalid JSON, then typed and random bodies */
    const char *base = "{}";
    char *base_text = pl.body != NULL ? json_dumps(pl.body, JSON_COMPACT) : NULL;
    if (base_text != NULL)
        base = base_text;
    for (size_t c = 0; c < sizeof(content_types) / sizeof(content_types[0]); c++) {
        send_req(rt->method, path, auth_write, content_types[c], NULL, base, strlen(base));
        send_req(rt->method, path, auth_write, content_types[c], NULL, "", 0);
    }
    free(base_text);
    size_t len;
    char *bad;
    for (int i = 0; (bad = invalid_json(i, &len)) != NULL; i++) {
        send_req(rt->method, path, auth_write, json_ct, NULL, bad, len);
        free(bad);
    }
    fuzz_bodies(rt, &pl, path, json_ct);
    if (pl.body != NULL)
        json_decref(pl.body);
}

/* Methods the table does not list for a path, and HEAD, on every distinct pattern. */
static void fuzz_methods(const struct route *table, size_t n)
{
    static const char *const methods[] = {"GET",     "HEAD",  "POST", "PUT", "PATCH",   "DELETE",
                                          "OPTIONS", "TRACE", "FOO",  "get", "M-SEARCH"};
    for (size_t i = 0; i < n; i++) {
        int seen = 0;
        for (size_t j = 0; j < i; j++)
            seen |= strcmp(table[i].pattern, table[j].pattern) == 0;
        if (seen)
            continue;
        struct plan pl = plan_for(&table[i]);
        char path[4096];
        fill_path(&table[i], &pl, REAL, path, sizeof(path));
        for (size_t m = 0; m < sizeof(methods) / sizeof(methods[0]); m++) {
            if (strcmp(methods[m], "DELETE") == 0 || strcmp(methods[m], "GET") == 0)
                continue; /* covered by the routes themselves; DELETE would remove the resource */
            send_req(methods[m], path, auth_read, NULL, NULL, NULL, 0);
        }
        if (pl.body != NULL)
            json_decref(pl.body);
    }
}

/* A real next-page cursor, then forged variants of it. */
static void fetch_cursor(void)
{
    char url[256];
    snprintf(url, sizeof(url), "%s/v1/characters?limit=1", srv.base_url);
    const char *h[] = {auth_read, NULL};
    struct http_response r;
    assert_int_equal(http_client_request(&client, "GET", url, h, NULL, 0, &r), 0);
    json_t *j = harness_json(&r);
    const char *c = json_string_value(json_object_get(j, "next_cursor"));
    snprintf(real_cursor, sizeof(real_cursor), "%s", c != NULL ? c : "");
    json_decref(j);
    http_response_release(&r);
    /* the cursor with its middle byte changed and one made of 500 'A's */
    snprintf(forged_cursor, sizeof(forged_cursor), "?cursor=%s", real_cursor[0] != '\0' ? real_cursor : "AAAA");
    size_t l = strlen(forged_cursor);
    if (l > 10)
        forged_cursor[8 + (l - 8) / 2] = forged_cursor[8 + (l - 8) / 2] == 'A' ? 'B' : 'A';
}

static void test_hostile_requests(void **state)
{
    (void)state;
    const char *env = getenv("ROBUSTNESS_SEED");
    uint64_t seed = env != NULL && *env != '\0' ? strtoull(env, NULL, 10) : DEFAULT_SEED;
    rng = seed != 0 ? seed : 1;
    print_message("robustness seed %" PRIu64 " (replay with ROBUSTNESS_SEED=%" PRIu64 ")\n", seed, seed);
    init_constants();

    char why[512];
    struct harness_options opts = {.workers = 2};
    if (harness_server_start(&srv, &opts, why, sizeof(why)) != 0)
        fail_msg("server did not start: %s", why);
    pid_t before[8], after[8];
    size_t nw = harness_server_workers(&srv, before, 8);
    assert_int_equal(nw, 2);
    assert_int_equal(http_client_init(&client), 0);
    /* send "../.." as it is: curl would otherwise squash dot segments itself */
    curl_easy_setopt((CURL *)client.curl, CURLOPT_PATH_AS_IS, 1L);
    snprintf(auth_write, sizeof(auth_write), "Authorization: Bearer %s", srv.write_token);
    snprintf(auth_read, sizeof(auth_read), "Authorization: Bearer %s", srv.read_token);

    char body[2048];
    snprintf(body, sizeof(body), HARNESS_BUILD_FMT, "Robust");
    create("/v1/characters", body, char_id);
    char second_id[64];
    create("/v1/characters", body, second_id); /* a second one so that a list has a next page */
    create("/v1/equipment",
           "{\"name\":\"Shield\",\"equip_type\":\"shield\",\"base_cost\":10,\"weight\":6,"
           "\"base_attributes\":{\"armor_class\":2}}",
           equip_id);
    snprintf(body, sizeof(body), "{\"character_id\":\"%s\"}", char_id);
    create("/v1/campaigns", body, camp_id);
    fetch_cursor();
    /* A HEAD answer must carry no body bytes: a large one (the OpenAPI document) would
     * otherwise be read by this kept-alive client as the start of its next response. */
    assert_int_equal(send_req("HEAD", "/openapi.json", auth_read, NULL, NULL, NULL, 0), 200);
    assert_int_equal(send_req("GET", "/healthz", NULL, NULL, NULL, NULL, 0), 200);

    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    size_t n;
    const struct route *table = routes_table(&n);
    for (int pass = 0; pass < 2; pass++) /* DELETE routes last: they remove the real resources */
        for (size_t i = 0; i < n; i++)
            if ((strcmp(table[i].method, "DELETE") == 0) == (pass == 1))
                fuzz_route(&table[i]);
    fuzz_methods(table, n);
    /* and finally delete the real resources for real */
    char path[256];
    snprintf(path, sizeof(path), "/v1/campaigns/%s", camp_id);
    send_req("DELETE", path, auth_write, NULL, NULL, NULL, 0);
    snprintf(path, sizeof(path), "/v1/equipment/%s", equip_id);
    send_req("DELETE", path, auth_write, NULL, NULL, NULL, 0);
    snprintf(path, sizeof(path), "/v1/characters/%s", char_id);
    send_req("DELETE", path, auth_write, NULL, NULL, NULL, 0);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    print_message("%lu requests over %zu routes in %.1f s, %lu failed\n", nrequests, n, secs, nfailures);

    /* the budget is part of the contract: a walk that hits it no longer covers every route */
    assert_true(nrequests < MAX_REQUESTS);
    nw = harness_server_workers(&srv, after, 8);
    if (nw != 2 || after[0] != before[0] || after[1] != before[1])
        fail_msg("a worker died: pids were %d %d, now %zu workers (%d %d)", (int)before[0], (int)before[1], nw,
                 nw > 0 ? (int)after[0] : 0, nw > 1 ? (int)after[1] : 0);
    char *log = harness_server_log(&srv);
    assert_non_null(log);
    int bad_log = 0;
    for (char *line = log, *next; line != NULL && *line != '\0'; line = next) {
        next = strchr(line, '\n');
        if (next != NULL)
            *next++ = '\0';
        if (strstr(line, "internal error") != NULL || (strstr(line, " error ") != NULL && strstr(line, "request ")) ||
            strstr(line, "Sanitizer") != NULL || strstr(line, "runtime error") != NULL) {
            if (bad_log++ < 20)
                print_message("LOG %.400s\n", line);
        }
    }
    free(log);
    if (nfailures > 0)
        fail_msg("%lu of %lu hostile requests got a bad answer (seed %" PRIu64 ")", nfailures, nrequests, seed);
    if (bad_log > 0)
        fail_msg("the server log has %d error lines (seed %" PRIu64 ")", bad_log, seed);
}

static int teardown(void **state)
{
    (void)state;
    http_client_release(&client);
    harness_server_cleanup(&srv);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_hostile_requests, teardown),
    };
    atexit(harness_cleanup_all);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
