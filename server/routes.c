/*
 * server/routes.c - see routes.h. The route table, the pipeline, its pieces
 * the handlers share (routes.h), and the tiny handlers: /healthz, /readyz,
 * /openapi.json and /api/2014. The resources' handlers live in their modules:
 * server/characters.c, server/rolls.c, server/equipment.c,
 * server/campaigns.c, server/compat.c (the original API's routes).
 */
#include "server/routes.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "common/log.h"
#include "server/campaigns.h"
#include "server/characters.h"
#include "server/compat.h"
#include "server/equipment.h"
#include "server/http.h"
#include "server/metrics.h"
#include "server/openapi.h"
#include "server/problem.h"
#include "server/rolls.h"
#include "storage/store.h"

#define REQUEST_ID_MAX 128

/* ROUTE_PRECONDITIONS: see routes.h. */

static void on_healthz(struct route_ctx *rc);
static void on_readyz(struct route_ctx *rc);
static void on_openapi(struct route_ctx *rc);
static void on_reference(struct route_ctx *rc);
static const struct route route_table[] = {
    {"GET", "/healthz", on_healthz, ROUTE_PUBLIC},
    {"GET", "/readyz", on_readyz, ROUTE_PUBLIC},
    {"GET", "/openapi.json", on_openapi, 0},
    {"GET", "/metrics", metrics_on_scrape, 0},
    {"POST", "/v1/characters", characters_on_create, ROUTE_WRITE | ROUTE_JSON_BODY},
    {"GET", "/v1/characters", characters_on_list, 0},
    {"POST", "/v1/characters/validate", characters_on_validate, ROUTE_JSON_BODY},
    {"POST", "/v1/characters/random", characters_on_random, ROUTE_WRITE | ROUTE_JSON_BODY | ROUTE_BODY_OPTIONAL},
    {"GET", "/v1/characters/{id}", characters_on_get, 0},
    {"PUT", "/v1/characters/{id}", characters_on_put, ROUTE_WRITE | ROUTE_JSON_BODY | ROUTE_PRECONDITIONS},
    {"PATCH", "/v1/characters/{id}", characters_on_patch,
     ROUTE_WRITE | ROUTE_JSON_BODY | ROUTE_MERGE_PATCH | ROUTE_PRECONDITIONS},
    {"DELETE", "/v1/characters/{id}", characters_on_delete, ROUTE_WRITE | ROUTE_PRECONDITIONS},
    {"POST", "/v1/characters/{id}/level-up", characters_on_level_up,
     ROUTE_WRITE | ROUTE_JSON_BODY | ROUTE_BODY_OPTIONAL | ROUTE_PRECONDITIONS},
    {"POST", "/v1/rolls", rolls_on_roll, ROUTE_JSON_BODY},
    {"GET", "/api/2014", on_reference, ROUTE_REFERENCE},
    {"GET", "/api/2014/{resource}", on_reference, ROUTE_REFERENCE},
    {"GET", "/api/2014/{resource}/{index}", on_reference, ROUTE_REFERENCE},
    {"GET", "/api/2014/classes/{index}/levels", on_reference, ROUTE_REFERENCE},
    {"GET", "/api/2014/classes/{index}/levels/{level}", on_reference, ROUTE_REFERENCE},
    {"POST", "/v1/rolls/ability-scores", rolls_on_ability_scores, ROUTE_JSON_BODY | ROUTE_BODY_OPTIONAL},
    /* equipment and campaigns: server/equipment.c, server/campaigns.c */
    {"GET", "/v1/equipment-library", equipment_on_library, 0},
    {"POST", "/v1/equipment", equipment_on_create, ROUTE_WRITE | ROUTE_JSON_BODY},
    {"GET", "/v1/equipment", equipment_on_list, 0},
    {"GET", "/v1/equipment/{id}", equipment_on_get, 0},
    {"PUT", "/v1/equipment/{id}", equipment_on_put, ROUTE_WRITE | ROUTE_JSON_BODY | ROUTE_PRECONDITIONS},
    {"PATCH", "/v1/equipment/{id}", equipment_on_patch,
     ROUTE_WRITE | ROUTE_JSON_BODY | ROUTE_MERGE_PATCH | ROUTE_PRECONDITIONS},
    {"DELETE", "/v1/equipment/{id}", equipment_on_delete, ROUTE_WRITE | ROUTE_PRECONDITIONS},
    {"POST", "/v1/campaigns", campaigns_on_create, ROUTE_WRITE | ROUTE_JSON_BODY},
    {"GET", "/v1/campaigns", campaigns_on_list, 0},
    {"GET", "/v1/campaigns/{id}", campaigns_on_get, 0},
    {"PUT", "/v1/campaigns/{id}", campaigns_on_put, ROUTE_WRITE | ROUTE_JSON_BODY | ROUTE_PRECONDITIONS},
    {"PATCH", "/v1/campaigns/{id}", campaigns_on_patch,
     ROUTE_WRITE | ROUTE_JSON_BODY | ROUTE_MERGE_PATCH | ROUTE_PRECONDITIONS},
    {"DELETE", "/v1/campaigns/{id}", campaigns_on_delete, ROUTE_WRITE | ROUTE_PRECONDITIONS},
    {"POST", "/v1/campaigns/{id}/equip", campaigns_on_equip, ROUTE_WRITE | ROUTE_JSON_BODY | ROUTE_PRECONDITIONS},
    {"POST", "/v1/campaigns/{id}/unequip", campaigns_on_unequip, ROUTE_WRITE | ROUTE_JSON_BODY | ROUTE_PRECONDITIONS},
    {"POST", "/v1/campaigns/{id}/pack", campaigns_on_pack, ROUTE_WRITE | ROUTE_JSON_BODY | ROUTE_PRECONDITIONS},
    {"POST", "/v1/campaigns/{id}/hp", campaigns_on_hp, ROUTE_WRITE | ROUTE_JSON_BODY | ROUTE_PRECONDITIONS},
    {"POST", "/v1/campaigns/{id}/xp", campaigns_on_xp, ROUTE_WRITE | ROUTE_JSON_BODY | ROUTE_PRECONDITIONS},
    /* the original Flask API's routes and shapes: server/compat.c */
    {"GET", "/character", compat_on_character_get, 0},
    {"POST", "/character", compat_on_character_post, ROUTE_WRITE | ROUTE_JSON_BODY},
    {"GET", "/equipment", compat_on_equipment_get, 0},
    {"POST", "/equipment", compat_on_equipment_post, ROUTE_WRITE | ROUTE_JSON_BODY},
    {"GET", "/equipment-library", compat_on_library, 0},
    {"GET", "/campaign", compat_on_campaign_get, 0},
    {"POST", "/campaign", compat_on_campaign_post, ROUTE_WRITE},
    {"PUT", "/campaign", compat_on_campaign_put, ROUTE_WRITE | ROUTE_JSON_BODY},
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

void routes_send_internal(struct route_ctx *rc, const struct err *e)
{
    log_error("request %s: %s", rc->request_id, e->msg);
    char detail[96];
    snprintf(detail, sizeof(detail), "internal error; quote request id %s", rc->request_id);
    problem_send(rc->req, PROBLEM_INTERNAL, detail, NULL);
}

/* The media type of a route that takes a JSON body (415); 0 to go on, -1 when answered. */
static int check_media(struct route_ctx *rc)
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
    return 0;
}

int routes_take_body(struct route_ctx *rc)
{
    h2o_req_t *req = rc->req;
    unsigned flags = rc->match.route->flags;
    size_t len = req->entity.base != NULL ? req->entity.len : 0;
    if (len == 0 && (flags & ROUTE_BODY_OPTIONAL))
        return 0;
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
    unsigned flags = rc.match.route->flags;
    if ((flags & ROUTE_JSON_BODY) && check_media(&rc) != 0)
        goto out;
    /* Routes with preconditions parse their body themselves, after If-Match. */
    if ((flags & ROUTE_JSON_BODY) && !(flags & ROUTE_PRECONDITIONS) && routes_take_body(&rc) != 0)
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

/* GET /openapi.json: the OpenAPI 3.1 document built into the binary, with its strong ETag. */
static void on_openapi(struct route_ctx *rc)
{
    const char *etag;
    size_t len;
    const char *body = openapi_body(&len, &etag);
    http_add_header(rc->req, "etag", etag);
    h2o_iovec_t inm;
    if (http_header(rc->req, "if-none-match", &inm) && routes_etag_matches(inm, etag)) {
        http_send(rc->req, 304, NULL, "", 0);
        return;
    }
    http_send(rc->req, 200, "application/json", body, len);
}

/* ---- the pipeline's pieces the handlers share (see routes.h) ---------------------- */

/* A write whose answer waits for HarperDB's acknowledgement (or the write timeout). */
struct pending_write {
    struct sync_wait wait;
    h2o_req_t *req;
    int status;
    const char *text;
    size_t len;
};

static void send_write(h2o_req_t *req, int status, const char *sync_status, const char *text, size_t len)
{
    http_add_header(req, "sync-status", sync_status);
    http_send(req, status, status == 204 ? NULL : "application/json", status == 204 ? "" : text,
              status == 204 ? 0 : len);
}

static void on_write_synced(struct sync_wait *w, enum sync_outcome outcome)
{
    struct pending_write *p = H2O_STRUCT_FROM_MEMBER(struct pending_write, wait, w);
    worker_conn_busy(p->req, -1);
    send_write(p->req, p->status, outcome == SYNC_DONE ? "synced" : "pending", p->text, p->len);
}

void routes_finish_write(struct route_ctx *rc, int status, long long seq, long long version, const char *id,
                         const char *text, size_t len)
{
    h2o_req_t *req = rc->req;
    metrics_character_write(status); /* committed: counted whether HarperDB has it yet or not */
    if (seq <= 0) {
        send_write(req, status, "off", text, len);
        return;
    }
    struct pending_write *p = h2o_mem_alloc_pool(&req->pool, sizeof(*p));
    p->req = req;
    p->status = status;
    p->text = text;
    p->len = len;
    worker_conn_busy(req, 1);
    synclink_push(&rc->w->sync, &p->wait, seq, version, id, on_write_synced, NULL);
}

int routes_check_if_match(struct route_ctx *rc, const char *etag)
{
    h2o_iovec_t im;
    if (!http_header(rc->req, "if-match", &im))
        return 0;
    /* If-Match uses the strong comparison (RFC 9110 13.1.1): a weak tag never matches. */
    int weak = 0;
    for (size_t i = 0; i + 1 < im.len; i++)
        if (im.base[i] == 'W' && im.base[i + 1] == '/')
            weak = 1;
    if (!weak && routes_etag_matches(im, etag))
        return 0;
    http_add_header(rc->req, "etag", etag);
    problem_send(rc->req, PROBLEM_PRECONDITION_FAILED,
                 "If-Match does not name the current version; GET it again and retry", NULL);
    return -1;
}

json_t *routes_merge_patch(json_t *target, const json_t *patch)
{
    if (!json_is_object(patch)) {
        json_decref(target);
        return json_deep_copy(patch);
    }
    if (!json_is_object(target)) {
        json_decref(target);
        target = json_object();
    }
    const char *key;
    json_t *val;
    json_object_foreach((json_t *)patch, key, val) {
        if (json_is_null(val)) {
            json_object_del(target, key);
        } else {
            json_t *cur = json_object_get(target, key);
            json_t *merged = routes_merge_patch(cur != NULL ? json_incref(cur) : NULL, val);
            json_object_set_new(target, key, merged);
        }
    }
    return target;
}

int routes_etag_matches(h2o_iovec_t list, const char *etag)
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

int routes_refuse_unknown_fields(struct route_ctx *rc, const char *const *allowed)
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
    if (http_header(req, "if-none-match", &inm) && routes_etag_matches(inm, d->etag)) {
        http_send(req, 304, NULL, "", 0);
        return;
    }
    http_send(req, 200, "application/json", d->body, d->len);
}
