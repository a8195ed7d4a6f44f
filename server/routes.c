/*
 * server/routes.c - see routes.h. The pipeline first, then the handlers of the
 * foundation's routes: /healthz, /readyz, POST and GET /v1/characters.
 */
#include "server/routes.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "common/ids.h"
#include "common/log.h"
#include "rules/build.h"
#include "rules/dice.h"
#include "rules/rollid.h"
#include "server/http.h"
#include "server/problem.h"
#include "storage/store.h"
#include <time.h>

#define REQUEST_ID_MAX 128
#define BUILD_ARRAY_MAX 32

static void on_healthz(struct route_ctx *rc);
static void on_readyz(struct route_ctx *rc);
static void on_character_create(struct route_ctx *rc);
static void on_character_get(struct route_ctx *rc);
static void on_roll(struct route_ctx *rc);
static void on_reference(struct route_ctx *rc);
static void on_roll_ability_scores(struct route_ctx *rc);

static const struct route route_table[] = {
    {"GET", "/healthz", on_healthz, ROUTE_PUBLIC},
    {"GET", "/readyz", on_readyz, ROUTE_PUBLIC},
    {"POST", "/v1/characters", on_character_create, ROUTE_WRITE | ROUTE_JSON_BODY},
    {"GET", "/v1/characters/{id}", on_character_get, 0},
    {"POST", "/v1/rolls", on_roll, ROUTE_JSON_BODY},
    {"GET", "/api/2014", on_reference, ROUTE_REFERENCE},
    {"GET", "/api/2014/{resource}", on_reference, ROUTE_REFERENCE},
    {"GET", "/api/2014/{resource}/{index}", on_reference, ROUTE_REFERENCE},
    {"GET", "/api/2014/classes/{index}/levels", on_reference, ROUTE_REFERENCE},
    {"GET", "/api/2014/classes/{index}/levels/{level}", on_reference, ROUTE_REFERENCE},
    {"POST", "/v1/rolls/ability-scores", on_roll_ability_scores, ROUTE_JSON_BODY | ROUTE_BODY_OPTIONAL},
};

const struct route *routes_table(size_t *n)
{
    *n = sizeof(route_table) / sizeof(route_table[0]);
    return route_table;
}

/* Echo a sane client X-Request-Id, else make one from the worker prefix and a counter. */
static const char *request_id(struct worker *w, h2o_req_t *req)
{
    h2o_iovec_t v;
    if (http_header(req, "x-request-id", &v) && v.len > 0 && v.len <= REQUEST_ID_MAX) {
        int ok = 1;
        for (size_t i = 0; i < v.len && ok; i++) {
            char c = v.base[i];
            ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
                 c == '.' || c == ':';
        }
        if (ok)
            return h2o_strdup(&req->pool, v.base, v.len).base;
    }
    /* prefix "-" counter in hex, formatted by hand: this runs on every request. */
    static const char hex[] = "0123456789abcdef";
    size_t plen = strlen(w->reqid_prefix);
    char *id = h2o_mem_alloc_pool(&req->pool, plen + 18);
    memcpy(id, w->reqid_prefix, plen);
    id[plen] = '-';
    char digits[16];
    size_t nd = 0;
    for (uint64_t n = ++w->reqid_counter; n != 0 || nd == 0; n >>= 4)
        digits[nd++] = hex[n & 15];
    for (size_t i = 0; i < nd; i++)
        id[plen + 1 + i] = digits[nd - 1 - i];
    id[plen + 1 + nd] = '\0';
    return id;
}

static void send_internal(struct route_ctx *rc, const struct err *e)
{
    log_error("request %s: %s", rc->request_id, e->msg);
    char detail[96];
    snprintf(detail, sizeof(detail), "internal error; quote request id %s", rc->request_id);
    problem_send(rc->req, PROBLEM_INTERNAL, detail, NULL);
}

/* Check the body against the route's flags and parse it; 0 to go on, -1 when answered. */
static int take_body(struct route_ctx *rc)
{
    h2o_req_t *req = rc->req;
    unsigned flags = rc->match.route->flags;
    size_t len = req->entity.base != NULL ? req->entity.len : 0;
    if (len == 0 && (flags & ROUTE_BODY_OPTIONAL))
        return 0;
    h2o_iovec_t ct;
    if (!http_header(req, "content-type", &ct) || !http_is_json_type(ct.base, ct.len, flags & ROUTE_MERGE_PATCH)) {
        problem_send(req, PROBLEM_UNSUPPORTED_MEDIA,
                     (flags & ROUTE_MERGE_PATCH) ? "send Content-Type: application/json or application/merge-patch+json"
                                                 : "send Content-Type: application/json",
                     NULL);
        return -1;
    }
    if (len > rc->w->settings->body_limit) {
        char detail[96];
        snprintf(detail, sizeof(detail), "request body is %zu bytes; the limit is %zu", len,
                 rc->w->settings->body_limit);
        problem_send(req, PROBLEM_TOO_LARGE, detail, NULL);
        return -1;
    }
    if (len == 0) {
        problem_send(req, PROBLEM_BAD_REQUEST, "a JSON request body is required", NULL);
        return -1;
    }
    char msg[256];
    rc->body = http_parse_json(req->entity.base, len, msg, sizeof(msg));
    if (rc->body == NULL) {
        problem_send(req, PROBLEM_BAD_REQUEST, msg, NULL);
        return -1;
    }
    return 0;
}

int routes_dispatch(struct worker *w, h2o_req_t *req)
{
    struct route_ctx rc = {.req = req, .w = w};
    rc.request_id = request_id(w, req);
    http_add_header(req, "x-request-id", rc.request_id);
    w->requests++;

    size_t n;
    const struct route *table = routes_table(&n);
    enum router_result r = router_match(table, n, req->method.base, req->method.len, req->path_normalized.base,
                                        req->path_normalized.len, &rc.match);
    /* /api/2014 is public when auth.public_reference is on (the original guarded every route). */
    unsigned open_flags = ROUTE_PUBLIC | (w->settings->public_reference ? ROUTE_REFERENCE : 0);
    int public = r == ROUTER_FOUND ? (rc.match.route->flags & open_flags) != 0
                                   : r == ROUTER_NO_METHOD && (rc.match.path_flags & open_flags);
    if (!public) {
        h2o_iovec_t authz;
        int has = http_header(req, "authorization", &authz);
        rc.scope = auth_check_memo(w->auth, worker_auth_memo(req), has ? authz.base : NULL, has ? authz.len : 0);
        if (rc.scope == AUTH_SCOPE_NONE) {
            problem_send(req, PROBLEM_UNAUTHORIZED,
                         has ? "the bearer token is not valid" : "send Authorization: Bearer <token>", NULL);
            goto out;
        }
    }
    if (r == ROUTER_NO_PATH) {
        problem_send(req, PROBLEM_NOT_FOUND, "no such route", NULL);
        goto out;
    }
    if (r == ROUTER_NO_METHOD) {
        http_add_header_copy(req, "allow", rc.match.allow, strlen(rc.match.allow));
        problem_send(req, PROBLEM_METHOD_NOT_ALLOWED, "this route does not take that method", NULL);
        goto out;
    }
    if ((rc.match.route->flags & ROUTE_WRITE) && rc.scope != AUTH_SCOPE_WRITE) {
        problem_send(req, PROBLEM_FORBIDDEN, "this token has read scope; the request needs write scope", NULL);
        goto out;
    }
    if ((rc.match.route->flags & ROUTE_JSON_BODY) && take_body(&rc) != 0)
        goto out;
    rc.match.route->handler(&rc);
out:
    if (rc.body != NULL)
        json_decref(rc.body);
    return 0;
}

static void on_healthz(struct route_ctx *rc)
{
    static const char body[] = "{\"status\":\"ok\"}";
    http_send(rc->req, 200, "application/json", body, sizeof(body) - 1);
}

static void on_readyz(struct route_ctx *rc)
{
    struct err e = {0};
    int ok = store_ping(rc->w->store, &e) == 0;
    if (!ok)
        log_error("readyz: %s", e.msg);
    const struct runtime *rt = rc->w->rt;
    const struct sync_status *st = rt->sync;
    int64_t now = sync_now_ms(), oldest = st->oldest_ms, last = st->last_sync_ms, busy = st->busy_since_ms;
    /* A HarperDB call hanging longer than a write may wait is an outage already. */
    int stuck = busy > 0 && now - busy > rt->settings->write_timeout_ms;
    const char *harper = !rt->write_through ? "off" : st->harper == SYNC_OK && !stuck ? "ok" : "degraded";
    json_t *last_sync = json_null();
    if (last > 0) {
        char buf[40];
        time_t secs = (time_t)(last / 1000);
        struct tm tm;
        gmtime_r(&secs, &tm);
        size_t n = strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm);
        snprintf(buf + n, sizeof(buf) - n, ".%03dZ", (int)(last % 1000));
        last_sync = json_string(buf);
    }
    json_t *o = json_pack("{s:s, s:s, s:s, s:{s:I, s:f}, s:o}", "status",
                          !ok ? "unavailable" : strcmp(harper, "degraded") == 0 ? "degraded" : "ok", "sqlite",
                          ok ? "ok" : "error", "harperdb", harper, "outbox", "depth", (json_int_t)st->outbox_depth,
                          "oldest_age_s", oldest > 0 && now > oldest ? (double)(now - oldest) / 1000.0 : 0.0,
                          "last_sync", last_sync);
    http_send_json_value(rc->req, ok ? 200 : 503, "application/json", o);
    json_decref(o);
}

/* Expected JSON type of each build field; the rules engine validates content. */
static const struct {
    const char *name;
    int type;     /* json_type, or -1 for "string or object" (background) */
    int nullable;
} build_fields[] = {
    {"name", JSON_STRING, 0},       {"race", JSON_STRING, 0},         {"subrace", JSON_STRING, 1},
    {"class", JSON_STRING, 0},      {"subclass", JSON_STRING, 1},     {"background", -1, 0},
    {"alignment", JSON_STRING, 0},  {"level", JSON_INTEGER, 0},       {"ability_scores", JSON_OBJECT, 0},
    {"skills", JSON_ARRAY, 0},      {"languages", JSON_ARRAY, 0},     {"choices", JSON_OBJECT, 0},
    {"ability_score_improvements", JSON_ARRAY, 0},
};

static const char *type_name(int t)
{
    switch (t) {
    case JSON_STRING: return "a string";
    case JSON_INTEGER: return "an integer";
    case JSON_OBJECT: return "an object";
    case JSON_ARRAY: return "an array";
    default: return "a string or an object";
    }
}

/* Map the body onto a build, recording every shape problem. */
static void read_build(json_t *body, struct build *b, struct violations *v)
{
    memset(b, 0, sizeof(*b));
    b->level = 1;
    const char *key;
    json_t *val;
    json_object_foreach(body, key, val) {
        size_t k, nf = sizeof(build_fields) / sizeof(build_fields[0]);
        for (k = 0; k < nf && strcmp(build_fields[k].name, key) != 0; k++)
            ;
        if (k == nf) {
            char field[100];
            snprintf(field, sizeof(field), "%.99s", key);
            violations_add(v, field, "unknown_field", "unknown field \"%.60s\"", key);
            continue;
        }
        int t = json_typeof(val);
        int ok = build_fields[k].type == -1 ? (t == JSON_STRING || t == JSON_OBJECT) : t == build_fields[k].type;
        if (!ok && !(build_fields[k].nullable && t == JSON_NULL)) {
            violations_add(v, key, "wrong_type", "%s must be %s", key, type_name(build_fields[k].type));
            if (strcmp(key, "name") == 0)
                b->bad |= 1u << BF_NAME;
            continue;
        }
        if (t == JSON_ARRAY && json_array_size(val) > BUILD_ARRAY_MAX)
            violations_add(v, key, "too_many", "%s has %zu items; at most %d allowed", key, json_array_size(val),
                           BUILD_ARRAY_MAX);
        if (strcmp(key, "name") == 0) {
            b->name = json_string_value(val);
            b->name_len = json_string_length(val);
        } else if (strcmp(key, "level") == 0) {
            json_int_t l = json_integer_value(val);
            b->level = l < 0 ? 0 : l > 1000 ? 1000 : (int)l;
        }
    }
    build_validate_name_level(b, BF_NAME, v);
}

/* A created character whose 201 waits for HarperDB's acknowledgement. */
struct pending_create {
    struct sync_wait wait;
    h2o_req_t *req;
    const char *text;
    size_t len;
};

static void on_create_synced(struct sync_wait *w, enum sync_outcome outcome)
{
    struct pending_create *p = H2O_STRUCT_FROM_MEMBER(struct pending_create, wait, w);
    worker_conn_busy(p->req, -1);
    http_add_header(p->req, "sync-status", outcome == SYNC_DONE ? "synced" : "pending");
    http_send(p->req, 201, "application/json", p->text, p->len);
}

static void on_character_create(struct route_ctx *rc)
{
    h2o_req_t *req = rc->req;
    if (!json_is_object(rc->body)) {
        struct violations v;
        violations_init(&v);
        violations_add(&v, "", "wrong_type", "the request body must be a JSON object");
        problem_send(req, PROBLEM_VALIDATION, "the character build is not valid", &v);
        return;
    }
    struct violations v;
    struct build b;
    violations_init(&v);
    read_build(rc->body, &b, &v);
    if (v.n > 0) {
        problem_send(req, PROBLEM_VALIDATION, "the character build is not valid", &v);
        return;
    }
    char id[IDS_UUID_LEN + 1], now[IDS_TIME_LEN + 1], etag[36];
    ids_now_rfc3339(now);
    struct err e = {0};
    int rc_ins = ERR_CONFLICT;
    long long seq = 0;
    for (int attempt = 0; attempt < 3 && rc_ins == ERR_CONFLICT; attempt++) {
        ids_uuid_v4(id);
        json_t *doc = json_pack("{s:s, s:i, s:s, s:s, s:s#, s:i, s:O}", "id", id, "version", 1, "created_at", now,
                                "updated_at", now, "name", b.name, b.name_len, "level", b.level, "build", rc->body);
        size_t need = json_dumpb(doc, NULL, 0, JSON_COMPACT);
        char *text = h2o_mem_alloc_pool(&req->pool, need + 1);
        size_t len = json_dumpb(doc, text, need, JSON_COMPACT);
        text[len] = '\0';
        json_decref(doc);
        store_etag(1, text, len, etag);
        char *name = h2o_strdup(&req->pool, b.name, b.name_len).base;
        struct store_record r = {id, 1, name, now, now, etag, text, len, NULL, NULL, 0, NULL};
        rc_ins = store_character_insert(rc->w->store, &r, &seq, &e);
        if (rc_ins == 0) {
            char loc[64];
            snprintf(loc, sizeof(loc), "/v1/characters/%s", id);
            http_add_header_copy(req, "location", loc, strlen(loc));
            http_add_header_copy(req, "etag", etag, strlen(etag));
            if (seq > 0) {
                /* Answer when HarperDB has it, or after sync.write_timeout as "pending". */
                struct pending_create *p = h2o_mem_alloc_pool(&req->pool, sizeof(*p));
                p->req = req;
                p->text = text;
                p->len = len;
                worker_conn_busy(req, 1);
                synclink_push(&rc->w->sync, &p->wait, seq, 1, id, on_create_synced, NULL);
                return;
            }
            http_add_header(req, "sync-status", "off");
            http_send(req, 201, "application/json", text, len);
            return;
        }
    }
    send_internal(rc, &e);
}

/* 1 when an If-None-Match list names `etag` (or is "*"). */
static int etag_matches(h2o_iovec_t list, const char *etag)
{
    size_t elen = strlen(etag);
    for (size_t i = 0; i < list.len;) {
        while (i < list.len && (list.base[i] == ' ' || list.base[i] == ','))
            i++;
        size_t j = i;
        while (j < list.len && list.base[j] != ',')
            j++;
        size_t end = j;
        while (end > i && list.base[end - 1] == ' ')
            end--;
        const char *t = list.base + i;
        size_t tlen = end - i;
        if (tlen >= 2 && t[0] == 'W' && t[1] == '/') {
            t += 2;
            tlen -= 2;
        }
        if ((tlen == 1 && t[0] == '*') || (tlen == elen && memcmp(t, etag, elen) == 0))
            return 1;
        i = j;
    }
    return 0;
}

/* A GET that missed SQLite and asked the syncer to read HarperDB. */
struct pending_get {
    struct sync_wait wait;
    struct route_ctx rc;
};

static void answer_character(struct route_ctx *rc, int may_fetch);

static void on_fetched(struct sync_wait *w, enum sync_outcome outcome)
{
    struct pending_get *p = H2O_STRUCT_FROM_MEMBER(struct pending_get, wait, w);
    worker_conn_busy(p->rc.req, -1);
    (void)outcome; /* whatever happened, SQLite now says what there is */
    answer_character(&p->rc, 0);
}

static void on_character_get(struct route_ctx *rc)
{
    const struct route_param *id = &rc->match.params[0];
    if (!ids_is_uuid(id->base, id->len)) {
        problem_send(rc->req, PROBLEM_NOT_FOUND, "no character has that id", NULL);
        return;
    }
    answer_character(rc, rc->w->rt->write_through);
}

static void answer_character(struct route_ctx *rc, int may_fetch)
{
    h2o_req_t *req = rc->req;
    const struct route_param *id = &rc->match.params[0];
    struct store_record r;
    struct err e = {0};
    int rc_get = store_character_get(rc->w->store, id->base, id->len, &r, &e);
    if (rc_get == ERR_NOT_FOUND && may_fetch) {
        /* Read-through: another instance may have written it; HarperDB knows. */
        struct pending_get *p = h2o_mem_alloc_pool(&req->pool, sizeof(*p));
        p->rc = *rc;
        p->rc.body = NULL;
        char idz[IDS_UUID_LEN + 1];
        memcpy(idz, id->base, IDS_UUID_LEN);
        idz[IDS_UUID_LEN] = '\0';
        worker_conn_busy(req, 1);
        synclink_fetch(&rc->w->sync, &p->wait, idz, on_fetched, NULL);
        return;
    }
    if (rc_get == ERR_NOT_FOUND) {
        problem_send(req, PROBLEM_NOT_FOUND, "no character has that id", NULL);
        return;
    }
    if (rc_get != 0) {
        send_internal(rc, &e);
        return;
    }
    h2o_iovec_t etag = h2o_strdup(&req->pool, r.etag, strlen(r.etag));
    h2o_iovec_t inm;
    if (http_header(req, "if-none-match", &inm) && etag_matches(inm, etag.base)) {
        store_row_done(rc->w->store);
        http_add_header(req, "etag", etag.base);
        http_send(req, 304, NULL, "", 0);
        return;
    }
    h2o_iovec_t body = h2o_strdup(&req->pool, r.document, r.document_len);
    store_row_done(rc->w->store);
    http_add_header(req, "etag", etag.base);
    http_send(req, 200, "application/json", body.base, body.len);
}

/* Refuse any member of an object body other than `allowed` (NULL-terminated); 1 when refused. */
static int refuse_unknown_fields(struct route_ctx *rc, const char *const *allowed)
{
    struct violations v;
    violations_init(&v);
    if (rc->body != NULL && !json_is_object(rc->body)) {
        violations_add(&v, "", "wrong_type", "the request body must be a JSON object");
    } else if (rc->body != NULL) {
        const char *key;
        json_t *val;
        json_object_foreach(rc->body, key, val) {
            int known = 0;
            for (size_t i = 0; allowed[i] != NULL && !known; i++)
                known = strcmp(key, allowed[i]) == 0;
            if (!known) {
                char field[100];
                snprintf(field, sizeof(field), "%.99s", key);
                violations_add(&v, field, "unknown_field", "unknown field \"%.60s\"", key);
            }
        }
    }
    if (v.n == 0)
        return 0;
    problem_send(rc->req, PROBLEM_VALIDATION, "the request is not valid", &v);
    return 1;
}

static json_t *int_array(const int *values, int n)
{
    json_t *a = json_array();
    for (int i = 0; i < n; i++)
        json_array_append_new(a, json_integer(values[i]));
    return a;
}

/* POST /v1/rolls {"expression": "4d6kh3+2"}: roll it with libsodium randomness. */
static void on_roll(struct route_ctx *rc)
{
    static const char *const allowed[] = {"expression", NULL};
    if (refuse_unknown_fields(rc, allowed))
        return;
    json_t *expr = json_object_get(rc->body, "expression");
    struct violations v;
    violations_init(&v);
    struct dice_expr e;
    struct dice_error de = {0};
    if (expr == NULL)
        violations_add(&v, "expression", "required", "expression is required, e.g. \"4d6kh3+2\"");
    else if (!json_is_string(expr))
        violations_add(&v, "expression", "wrong_type", "expression must be a string");
    else if (dice_parse(json_string_value(expr), json_string_length(expr), &e, &de) != 0)
        violations_add(&v, "expression", de.code, "%s", de.message);
    if (v.n > 0) {
        problem_send(rc->req, PROBLEM_VALIDATION, "the dice expression is not valid", &v);
        return;
    }
    struct dice_rng rng = dice_rng_sodium();
    struct dice_result r;
    if (dice_roll(&e, &rng, &r) != 0) {
        struct err err = {.code = ERR_GENERIC};
        snprintf(err.msg, sizeof(err.msg), "dice_roll refused a parsed expression");
        send_internal(rc, &err);
        return;
    }
    json_t *o = json_pack("{s:O, s:o, s:o, s:i, s:i}", "expression", expr, "rolls", int_array(r.rolls, r.nrolls),
                          "kept", int_array(r.kept, r.nkept), "modifier", r.modifier, "total", r.total);
    http_send_json_value(rc->req, 200, "application/json", o);
    json_decref(o);
}

/* POST /v1/rolls/ability-scores: six 4d6-drop-lowest scores and a signed roll id for a "rolled" build. */
static void on_roll_ability_scores(struct route_ctx *rc)
{
    static const char *const allowed[] = {NULL};
    if (refuse_unknown_fields(rc, allowed))
        return;
    struct dice_rng rng = dice_rng_sodium();
    int dice[6][4];
    struct rollid id = {.issued_at = (int64_t)time(NULL)};
    dice_ability_scores(&rng, dice, id.scores);
    char text[ROLLID_TEXT_MAX];
    if (rollid_issue(&id, rc->w->rt->rolls_key, text) != 0) {
        struct err err = {.code = ERR_GENERIC};
        snprintf(err.msg, sizeof(err.msg), "ability scores out of 3..18");
        send_internal(rc, &err);
        return;
    }
    json_t *all = json_array();
    for (int i = 0; i < 6; i++)
        json_array_append_new(all, int_array(dice[i], 4));
    json_t *o = json_pack("{s:s, s:o, s:o}", "roll_id", text, "scores", int_array(id.scores, 6), "dice", all);
    http_send_json_value(rc->req, 200, "application/json", o);
    json_decref(o);
}

/* GET /api/2014/...: a prebuilt document, with a strong ETag and a day of caching. */
static void on_reference(struct route_ctx *rc)
{
    h2o_req_t *req = rc->req;
    const struct reference_doc *d =
        reference_find(rc->w->rt->reference, req->path_normalized.base, req->path_normalized.len);
    if (d == NULL) {
        problem_send(req, PROBLEM_NOT_FOUND, "no such reference resource", NULL);
        return;
    }
    http_add_header(req, "etag", d->etag);
    http_add_header(req, "cache-control", "public, max-age=86400");
    h2o_iovec_t inm;
    if (http_header(req, "if-none-match", &inm) && etag_matches(inm, d->etag)) {
        http_send(req, 304, NULL, "", 0);
        return;
    }
    http_send(req, 200, "application/json", d->body, d->len);
}
