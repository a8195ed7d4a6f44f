/*
 * server/characters.c - see characters.h. A stored character is the document
 * {"id", "version", "created_at", "updated_at", the sheet's members, "build"},
 * written as text (the sheet is most of the bytes, and jansson objects would
 * cost several times more); resource.c stores it and answers.
 */
#include "server/characters.h"

#include <inttypes.h>
#include <sodium.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/ids.h"
#include "rules/build.h"
#include "rules/character.h"
#include "rules/dice.h"
#include "server/charjson.h"
#include "server/http.h"
#include "server/problem.h"
#include "server/query.h"
#include "storage/store.h"

#define CURSOR_TEXT_MAX 64 /* base64url of a uuid is 48 characters */

static void roll_reused(struct route_ctx *rc);

const struct resource_desc characters_resource = {
    .kind = STORE_CHARACTERS, .noun = "character", .base_path = "/v1/characters", .on_duplicate = roll_reused};

/* The table policy of this request: rules.* settings, the runtime's roll key, now. */
static void request_policy(const struct route_ctx *rc, struct build_policy *p)
{
    settings_policy(rc->w->settings, p);
    p->rolls_key = rc->w->rt->rolls_key;
    p->now = (int64_t)time(NULL);
}

static void send_validation(struct route_ctx *rc, const struct violations *v)
{
    problem_send(rc->req, PROBLEM_VALIDATION, "the character build is not valid", v);
}

/* "<the sheet's members>,\"build\":<the build>" (malloc'd, *len): the end of a character document. */
static char *sheet_and_build(const struct route_ctx *rc, const struct build *b, const struct sheet *s, size_t *len)
{
    size_t slen;
    char *sheet = charjson_sheet_text(rc->w->rt->ruleset, b, s, &slen);
    json_t *bj = charjson_write_build(b);
    char *build = json_dumps(bj, JSON_COMPACT);
    json_decref(bj);
    if (build == NULL)
        abort();
    size_t blen = strlen(build);
    char *text = realloc(sheet, slen + 9 + blen + 1);
    if (text == NULL)
        abort();
    memcpy(text + slen, ",\"build\":", 9);
    memcpy(text + slen + 9, build, blen + 1);
    free(build);
    *len = slen + 9 + blen;
    return text;
}

/* What a character version's document is made of. */
struct character_parts {
    const struct build *b;
    const struct sheet *s;
};

/* The document text (a resource_text_fn): the stamp, then the sheet and the build. */
static const char *character_document(struct route_ctx *rc, void *ctx, const struct resource_stamp *st, size_t *len)
{
    const struct character_parts *cp = ctx;
    size_t tlen;
    char *tail = sheet_and_build(rc, cp->b, cp->s, &tlen);
    char head[256];
    /* id and the timestamps are ours: a uuid and RFC 3339 texts, nothing to escape. */
    int hlen = snprintf(head, sizeof(head), "{\"id\":\"%s\",\"version\":%lld,\"created_at\":\"%s\",\"updated_at\":\"%s\",",
                        st->id, st->version, st->created_at, st->updated_at);
    char *text = h2o_mem_alloc_pool(&rc->req->pool, (size_t)hlen + tlen + 2);
    memcpy(text, head, (size_t)hlen);
    memcpy(text + hlen, tail, tlen);
    text[hlen + tlen] = '}';
    text[hlen + tlen + 1] = '\0';
    free(tail);
    *len = (size_t)hlen + tlen + 1;
    return text;
}

static void roll_reused(struct route_ctx *rc)
{
    struct violations v;
    violations_init(&v);
    violations_add(&v, "ability_scores.roll_id", "roll_reused",
                   "this roll id already made another character; roll again");
    send_validation(rc, &v);
}
/*
 * Store a valid build and its sheet: a new character when `st` is NULL (201,
 * Location), else version st->version + 1 of it (200; created_at kept), and
 * answer with the document. `b` and `s` must stay valid until this returns.
 */
static void commit_character(struct route_ctx *rc, const struct build *b, const struct sheet *s,
                             const struct resource_stored *st)
{
    struct character_parts cp = {b, s};
    struct store_record cols = {
        .name = h2o_strdup(&rc->req->pool, b->name != NULL ? b->name : "", b->name != NULL ? b->name_len : 0).base,
        .race = b->race,
        .class_ = b->class_,
        .level = s->level > 0 ? s->level : b->level + (int)b->nadvancement,
        .roll_nonce = s->roll_nonce[0] != '\0' ? s->roll_nonce : NULL,
    };
    struct resource_write w = {.text = character_document, .ctx = &cp, .cols = &cols};
    if (st != NULL) {
        const char *created = json_string_value(json_object_get(st->doc, "created_at"));
        w.id = st->id;
        w.version = st->version;
        w.created_at = created != NULL ? created : "";
    }
    resource_commit_write(rc, &characters_resource, &w);
}

/*
 * Judge `b` for storing (CHARACTER_CREATE) and commit it, or answer 422 with
 * every problem (the mapper's in `v` already, then the engine's). A stored
 * character's own roll id does not expire: it was checked when first accepted.
 */
static void judge_and_commit(struct route_ctx *rc, const struct build *b, struct violations *v,
                             const struct resource_stored *st, const char *stored_roll_id)
{
    struct build_policy p;
    request_policy(rc, &p);
    if (stored_roll_id != NULL && b->ability_scores.roll_id != NULL &&
        strcmp(stored_roll_id, b->ability_scores.roll_id) == 0)
        p.roll_ttl_s = INT64_C(1) << 40;
    struct sheet *s = h2o_mem_alloc_pool(&rc->req->pool, sizeof(*s));
    character_evaluate(rc->w->rt->ruleset, &p, b, CHARACTER_CREATE, v, s);
    if (v->n > 0) {
        send_validation(rc, v);
        return;
    }
    commit_character(rc, b, s, st);
}

void characters_on_create(struct route_ctx *rc)
{
    struct violations *v = h2o_mem_alloc_pool(&rc->req->pool, sizeof(*v));
    struct build *b = h2o_mem_alloc_pool(&rc->req->pool, sizeof(*b));
    violations_init(v);
    charjson_read_build(rc->body, b, v);
    if (!json_is_object(rc->body)) {
        send_validation(rc, v);
        return;
    }
    judge_and_commit(rc, b, v, NULL, NULL);
}

/* POST /v1/characters/validate: judge a draft; nothing is stored. */
void characters_on_validate(struct route_ctx *rc)
{
    struct violations *v = h2o_mem_alloc_pool(&rc->req->pool, sizeof(*v));
    struct build *b = h2o_mem_alloc_pool(&rc->req->pool, sizeof(*b));
    struct sheet *s = h2o_mem_alloc_pool(&rc->req->pool, sizeof(*s));
    violations_init(v);
    /* API.md: always 200 for parseable JSON; a body that is not an object is one more error (field ""). */
    charjson_read_build(rc->body, b, v);
    struct build_policy p;
    request_policy(rc, &p);
    if (json_is_object(rc->body))
        character_evaluate(rc->w->rt->ruleset, &p, b, CHARACTER_DRAFT, v, s);
    else
        memset(s, 0, sizeof(*s));
    /* {"valid", "errors", "warnings", "character": {sheet..., "build"}}: the sheet as text (see character_document). */
    json_t *errors = problem_errors_json(v);
    char *etext = json_dumps(errors, JSON_COMPACT);
    json_decref(errors);
    if (etext == NULL)
        abort();
    size_t tlen;
    char *tail = sheet_and_build(rc, b, s, &tlen);
    /* Pieced together with memcpy: the sheet is kilobytes, too much to push through snprintf's "%s". */
    const char *parts[] = {"{\"valid\":", v->n == 0 ? "true" : "false", ",\"errors\":", etext, ",",
                           v->truncated ? "\"errors_truncated\":true," : "", "\"warnings\":[],\"character\":{",
                           tail, "}}"};
    size_t lens[sizeof(parts) / sizeof(parts[0])], total = 0;
    for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]); i++)
        total += lens[i] = parts[i] == tail ? tlen : strlen(parts[i]);
    char *body = h2o_mem_alloc_pool(&rc->req->pool, total);
    for (size_t i = 0, at = 0; i < sizeof(parts) / sizeof(parts[0]); at += lens[i], i++)
        memcpy(body + at, parts[i], lens[i]);
    free(etext);
    free(tail);
    http_send(rc->req, 200, "application/json", body, total);
}

/*
 * The stored build of a loaded character (borrowed from st->doc), or NULL
 * after answering 500 when the document has none.
 */
static json_t *stored_build(struct route_ctx *rc, const struct resource_stored *st)
{
    json_t *build = json_object_get(st->doc, "build");
    if (json_is_object(build))
        return build;
    struct err e = {.code = ERR_GENERIC};
    snprintf(e.msg, sizeof(e.msg), "character %s: the stored document has no build", st->id);
    routes_send_internal(rc, &e);
    return NULL;
}

/* The roll id the stored build was made with (borrowed from `build`), or NULL. */
static const char *stored_roll_id(const json_t *build)
{
    return json_string_value(json_object_get(json_object_get(build, "ability_scores"), "roll_id"));
}

/* Judge `body` (borrowed; the new build) and store it as the next version of st. */
static void replace_build(struct route_ctx *rc, const json_t *body, const struct resource_stored *st,
                          const json_t *old_build)
{
    struct violations *v = h2o_mem_alloc_pool(&rc->req->pool, sizeof(*v));
    struct build *b = h2o_mem_alloc_pool(&rc->req->pool, sizeof(*b));
    violations_init(v);
    charjson_read_build(body, b, v);
    if (!json_is_object(body))
        send_validation(rc, v);
    else
        judge_and_commit(rc, b, v, st, stored_roll_id(old_build));
}

/* PUT /v1/characters/{id}: a full build replaces the stored one, re-validated. */
void characters_on_put(struct route_ctx *rc)
{
    struct resource_stored st;
    if (resource_load_for_write(rc, &characters_resource, &st) != 0)
        return;
    json_t *old_build = stored_build(rc, &st);
    if (old_build != NULL)
        replace_build(rc, rc->body, &st, old_build);
    resource_stored_release(&st);
}

/* PATCH /v1/characters/{id}: a JSON merge patch of the stored build, re-validated. */
void characters_on_patch(struct route_ctx *rc)
{
    struct resource_stored st;
    if (resource_load_for_write(rc, &characters_resource, &st) != 0)
        return;
    json_t *old_build = stored_build(rc, &st);
    if (old_build != NULL) {
        json_t *patched = routes_merge_patch(json_deep_copy(old_build), rc->body);
        replace_build(rc, patched, &st, old_build);
        json_decref(patched);
    }
    resource_stored_release(&st);
}

/* DELETE /v1/characters/{id}: 204. */
void characters_on_delete(struct route_ctx *rc)
{
    resource_delete(rc, &characters_resource);
}

/* One more level (lu) for the stored build, appended to build.advancement, judged and stored. */
static void level_up(struct route_ctx *rc, const struct resource_stored *st, const json_t *old_build,
                     const struct level_up *lu, struct violations *v)
{
    const char *old_roll = stored_roll_id(old_build);
    struct build *b = h2o_mem_alloc_pool(&rc->req->pool, sizeof(*b));
    struct violations *mv = h2o_mem_alloc_pool(&rc->req->pool, sizeof(*mv));
    violations_init(mv);
    charjson_read_build(old_build, b, mv);
    if (mv->n > 0) {
        struct err e = {.code = ERR_GENERIC};
        snprintf(e.msg, sizeof(e.msg), "character %s: the stored build does not map (%s: %s)", st->id,
                 mv->items[0].field, mv->items[0].message);
        routes_send_internal(rc, &e);
        return;
    }
    struct build_policy p;
    request_policy(rc, &p);
    if (old_roll != NULL)
        p.roll_ttl_s = INT64_C(1) << 40; /* the character's own roll, accepted when it was made */
    struct dice_rng rng = dice_rng_sodium();
    struct build_advance adv;
    character_level_up(rc->w->rt->ruleset, &p, b, lu, &rng, v, &adv);
    if (v->n == 0 && b->nadvancement >= BUILD_ADVANCE_MAX)
        violations_add(v, "class", "out_of_range", "the character is already level %d", BUILD_LEVEL_MAX);
    if (v->n > 0) {
        problem_send(rc->req, PROBLEM_VALIDATION, "the level-up request is not valid", v);
        return;
    }
    b->advancement[b->nadvancement++] = adv;
    judge_and_commit(rc, b, v, st, old_roll);
}

/* POST /v1/characters/{id}/level-up: one more level, appended to build.advancement. */
void characters_on_level_up(struct route_ctx *rc)
{
    struct resource_stored st;
    if (resource_load_for_write(rc, &characters_resource, &st) != 0)
        return;
    struct violations *v = h2o_mem_alloc_pool(&rc->req->pool, sizeof(*v));
    violations_init(v);
    struct level_up lu;
    charjson_read_level_up(rc->body, &lu, v);
    json_t *old_build = NULL;
    if (v->n > 0)
        problem_send(rc->req, PROBLEM_VALIDATION, "the level-up request is not valid", v);
    else if ((old_build = stored_build(rc, &st)) != NULL)
        level_up(rc, &st, old_build, &lu, v);
    resource_stored_release(&st);
}

/* POST /v1/characters/random {"seed": n}: a valid random level-1 character, stored. */
void characters_on_random(struct route_ctx *rc)
{
    struct violations *v = h2o_mem_alloc_pool(&rc->req->pool, sizeof(*v));
    violations_init(v);
    uint64_t seed = 0;
    int seeded = 0;
    if (rc->body != NULL && !json_is_object(rc->body)) {
        violations_add(v, "", "wrong_type", "the request body must be a JSON object");
    } else if (rc->body != NULL) {
        const char *key;
        json_t *val;
        json_object_foreach(rc->body, key, val) {
            if (strcmp(key, "seed") != 0) {
                char field[64];
                size_t n = strlen(key) > 48 ? 48 : strlen(key);
                while (n > 0 && n < strlen(key) && ((unsigned char)key[n] & 0xc0) == 0x80)
                    n--;
                snprintf(field, sizeof(field), "%.*s", (int)n, key);
                violations_add(v, field, "unknown_field", "unknown field \"%s\"", field);
            } else if (json_is_null(val)) {
                /* no seed */
            } else if (!json_is_integer(val)) {
                violations_add(v, "seed", json_is_real(val) ? "out_of_range" : "wrong_type",
                               "seed must be a whole number 0..%" PRId64, (int64_t)INT64_MAX);
            } else if (json_integer_value(val) < 0) {
                violations_add(v, "seed", "out_of_range", "seed must be a whole number 0..%" PRId64,
                               (int64_t)INT64_MAX);
            } else {
                seed = (uint64_t)json_integer_value(val);
                seeded = 1;
            }
        }
    }
    if (v->n > 0) {
        problem_send(rc->req, PROBLEM_VALIDATION, "the request is not valid", v);
        return;
    }
    struct dice_seeded state;
    struct dice_rng rng = seeded ? dice_rng_seeded(&state, seed) : dice_rng_sodium();
    struct build *b = h2o_mem_alloc_pool(&rc->req->pool, sizeof(*b));
    character_random(rc->w->rt->ruleset, &rng, b);
    struct build_policy p;
    request_policy(rc, &p);
    /* The random build uses standard array or point buy whatever the table allows of the others. */
    p.methods |= (1u << BUILD_METHOD_STANDARD_ARRAY) | (1u << BUILD_METHOD_POINT_BUY);
    if (p.point_buy_budget < 27)
        p.point_buy_budget = 27;
    struct sheet *s = h2o_mem_alloc_pool(&rc->req->pool, sizeof(*s));
    character_evaluate(rc->w->rt->ruleset, &p, b, CHARACTER_CREATE, v, s);
    if (v->n > 0) {
        struct err e = {.code = ERR_GENERIC};
        snprintf(e.msg, sizeof(e.msg), "character_random made an invalid build (%s: %s)", v->items[0].field,
                 v->items[0].message);
        routes_send_internal(rc, &e);
        return;
    }
    commit_character(rc, b, s, NULL);
}

/* ---- GET /v1/characters: filters and cursor pagination ------------------------- */

/* Append s percent-encoded (RFC 3986 unreserved kept) to buf. */
static size_t query_encode(char *buf, size_t at, size_t size, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    for (; *s != '\0' && at + 4 < size; s++) {
        unsigned char c = (unsigned char)*s;
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
            c == '.' || c == '~') {
            buf[at++] = (char)c;
        } else {
            buf[at++] = '%';
            buf[at++] = hex[c >> 4];
            buf[at++] = hex[c & 15];
        }
    }
    buf[at] = '\0';
    return at;
}

struct list_query {
    char race[CHARJSON_SLUG_MAX + 1], class_[CHARJSON_SLUG_MAX + 1], name[QUERY_VALUE_MAX + 1];
    int has_race, has_class, has_name, level, limit;
    char after[IDS_UUID_LEN + 1];
    int has_after;
};

/* A parameter name for a field path and messages: at most 48 bytes, cut on a character boundary. */
static void list_query_field(char *out, size_t size, const char *key, size_t len)
{
    size_t n = len > 48 ? 48 : len;
    while (n > 0 && n < len && ((unsigned char)key[n] & 0xc0) == 0x80)
        n--;
    snprintf(out, size, "%.*s", (int)n, key);
}

/*
 * Parse the query string (server/query.h) into *q, reporting every bad
 * parameter in v: unknown names (named), repeated known names, values that are
 * not text or out of range, over-long queries and too many parameters.
 */
static void list_query_parse(h2o_req_t *req, struct list_query *q, struct violations *v)
{
    static const char *const known[] = {"race", "class", "name", "level", "limit", "cursor"};
    memset(q, 0, sizeof(*q));
    q->limit = RESOURCE_LIMIT_DEFAULT;
    const struct query *qs = resource_query_string(req, v);
    if (qs == NULL)
        return;
    unsigned seen = 0;
    for (size_t i = 0; i < qs->n; i++) {
        const struct query_param *p = &qs->params[i];
        const char *key = p->key, *val = p->value;
        size_t vlen = p->value_len;
        if (p->key_problem != QUERY_OK && p->key_problem != QUERY_TOO_LONG) {
            violations_add(v, "", "unknown_field", "a query parameter name %s", query_problem_text(p->key_problem));
            continue;
        }
        size_t k = 0;
        while (k < sizeof(known) / sizeof(known[0]) && (p->key_problem != QUERY_OK || strcmp(known[k], key) != 0))
            k++;
        if (k == sizeof(known) / sizeof(known[0])) {
            char field[64];
            list_query_field(field, sizeof(field), key, p->key_len);
            violations_add(v, field, "unknown_field",
                           "unknown query parameter \"%s\"; known: race, class, level, name, limit, cursor", field);
            continue;
        }
        if (seen & (1u << k)) {
            if (!(seen & (1u << (k + 8)))) /* one report per name */
                violations_add(v, key, "duplicate", "%s is given more than once; give it once", key);
            seen |= 1u << (k + 8);
            continue;
        }
        seen |= 1u << k;
        if (p->value_problem == QUERY_TOO_LONG) {
            violations_add(v, key, "too_long", "%s is longer than %d bytes", key, QUERY_VALUE_MAX);
            continue;
        }
        if (p->value_problem != QUERY_OK) {
            violations_add(v, key, "out_of_range", "%s %s", key, query_problem_text(p->value_problem));
            continue;
        }
        char *end;
        if (strcmp(key, "race") == 0 || strcmp(key, "class") == 0) {
            char *dst = key[0] == 'r' ? q->race : q->class_;
            if (vlen == 0 || vlen > CHARJSON_SLUG_MAX) {
                violations_add(v, key, vlen == 0 ? "required" : "too_long", "%s must be an index of 1..%d bytes", key,
                               CHARJSON_SLUG_MAX);
                continue;
            }
            memcpy(dst, val, vlen + 1);
            *(key[0] == 'r' ? &q->has_race : &q->has_class) = 1;
        } else if (strcmp(key, "name") == 0) {
            if (vlen == 0) {
                violations_add(v, key, "required", "name must not be empty");
                continue;
            }
            memcpy(q->name, val, vlen + 1);
            q->has_name = 1;
        } else if (strcmp(key, "level") == 0 || strcmp(key, "limit") == 0) {
            long n = vlen > 0 && vlen <= 4 && val[0] >= '0' && val[0] <= '9' ? strtol(val, &end, 10) : -1;
            int is_level = key[1] == 'e';
            int lo = 1, hi = is_level ? BUILD_LEVEL_MAX : RESOURCE_LIMIT_MAX;
            if (n < lo || n > hi || *end != '\0') {
                violations_add(v, key, "out_of_range", "%s must be a whole number %d..%d", key, lo, hi);
                continue;
            }
            *(is_level ? &q->level : &q->limit) = (int)n;
        } else { /* cursor */
            unsigned char bin[IDS_UUID_LEN + 1];
            size_t blen = 0;
            if (vlen == 0 || vlen > CURSOR_TEXT_MAX ||
                sodium_base642bin(bin, sizeof(bin), val, vlen, NULL, &blen, NULL,
                                  sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0 ||
                blen != IDS_UUID_LEN || !ids_is_uuid((const char *)bin, blen)) {
                violations_add(v, "cursor", "invalid", "cursor is not one this server gave out");
                continue;
            }
            memcpy(q->after, bin, IDS_UUID_LEN);
            q->after[IDS_UUID_LEN] = '\0';
            q->has_after = 1;
        }
    }
}

/* GET /v1/characters: one page of the characters matching the filters, by id. */
void characters_on_list(struct route_ctx *rc)
{
    h2o_req_t *req = rc->req;
    struct violations *v = h2o_mem_alloc_pool(&req->pool, sizeof(*v));
    violations_init(v);
    struct list_query q;
    list_query_parse(req, &q, v);
    if (v->n > 0) {
        problem_send(req, PROBLEM_VALIDATION, "the query is not valid", v);
        return;
    }
    struct store_filter f = {.race = q.has_race ? q.race : NULL, .class_ = q.has_class ? q.class_ : NULL,
                             .level = q.level, .name_prefix = q.has_name ? q.name : NULL};
    struct resource_page pg = {.limit = q.limit};
    long long count = 0;
    struct err e = {0};
    int rc_l = store_character_list(rc->w->store, &f, q.has_after ? q.after : NULL, q.limit + 1, &count,
                                    resource_page_row, &pg, &e);
    if (rc_l != 0) {
        free(pg.buf);
        routes_send_internal(rc, &e);
        return;
    }
    char next[1400];
    if (pg.more) {
        char cursor[96];
        resource_cursor(pg.last, cursor);
        size_t at = (size_t)snprintf(next, sizeof(next), "/v1/characters?");
        static const char *const keys[] = {"race=", "class=", "name="};
        const char *vals[] = {q.has_race ? q.race : NULL, q.has_class ? q.class_ : NULL, q.has_name ? q.name : NULL};
        for (int k = 0; k < 3; k++) {
            if (vals[k] == NULL)
                continue;
            at += (size_t)snprintf(next + at, sizeof(next) - at, "%s", keys[k]);
            at = query_encode(next, at, sizeof(next) - 40, vals[k]);
            at += (size_t)snprintf(next + at, sizeof(next) - at, "&");
        }
        if (q.level > 0)
            at += (size_t)snprintf(next + at, sizeof(next) - at, "level=%d&", q.level);
        snprintf(next + at, sizeof(next) - at, "limit=%d&cursor=%s", q.limit, cursor);
    }
    resource_page_send(rc, &pg, count, pg.more ? next : NULL);
}

/* GET /v1/characters/{id}: the stored document, 304 on If-None-Match, read through from HarperDB when missing. */
void characters_on_get(struct route_ctx *rc)
{
    resource_get(rc, &characters_resource);
}
