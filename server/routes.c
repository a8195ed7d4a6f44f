/*
 * server/routes.c - see routes.h. The pipeline first, then the handlers:
 * /healthz, /readyz, /openapi.json, /v1/characters (create, validate, list,
 * get, PUT, PATCH, DELETE, level-up, random), /v1/rolls and /api/2014. The
 * JSON <-> build mapping is server/charjson.c; the rules are rules/character.c.
 */
#include "server/routes.h"

#include <inttypes.h>
#include <sodium.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "common/ids.h"
#include "common/log.h"
#include "rules/build.h"
#include "rules/character.h"
#include "rules/dice.h"
#include "rules/rollid.h"
#include "server/charjson.h"
#include "server/campaigns.h"
#include "server/compat.h"
#include "server/equipment.h"
#include "server/http.h"
#include "server/metrics.h"
#include "server/openapi.h"
#include "server/problem.h"
#include "server/query.h"
#include "storage/store.h"
#define REQUEST_ID_MAX 128

/* ROUTE_PRECONDITIONS: see routes.h. */

static void on_healthz(struct route_ctx *rc);
static void on_readyz(struct route_ctx *rc);
static void on_openapi(struct route_ctx *rc);
static int etag_matches(h2o_iovec_t list, const char *etag);
static void on_character_create(struct route_ctx *rc);
static void on_character_list(struct route_ctx *rc);
static void on_character_validate(struct route_ctx *rc);
static void on_character_random(struct route_ctx *rc);
static void on_character_get(struct route_ctx *rc);
static void on_character_put(struct route_ctx *rc);
static void on_character_patch(struct route_ctx *rc);
static void on_character_delete(struct route_ctx *rc);
static void on_character_level_up(struct route_ctx *rc);
static void on_roll(struct route_ctx *rc);
static void on_reference(struct route_ctx *rc);
static void on_roll_ability_scores(struct route_ctx *rc);
static const struct route route_table[] = {
    {"GET", "/healthz", on_healthz, ROUTE_PUBLIC},
    {"GET", "/readyz", on_readyz, ROUTE_PUBLIC},
    {"GET", "/openapi.json", on_openapi, 0},
    {"GET", "/metrics", metrics_on_scrape, 0},
    {"POST", "/v1/characters", on_character_create, ROUTE_WRITE | ROUTE_JSON_BODY},
    {"GET", "/v1/characters", on_character_list, 0},
    {"POST", "/v1/characters/validate", on_character_validate, ROUTE_JSON_BODY},
    {"POST", "/v1/characters/random", on_character_random, ROUTE_WRITE | ROUTE_JSON_BODY | ROUTE_BODY_OPTIONAL},
    {"GET", "/v1/characters/{id}", on_character_get, 0},
    {"PUT", "/v1/characters/{id}", on_character_put, ROUTE_WRITE | ROUTE_JSON_BODY | ROUTE_PRECONDITIONS},
    {"PATCH", "/v1/characters/{id}", on_character_patch,
     ROUTE_WRITE | ROUTE_JSON_BODY | ROUTE_MERGE_PATCH | ROUTE_PRECONDITIONS},
    {"DELETE", "/v1/characters/{id}", on_character_delete, ROUTE_WRITE | ROUTE_PRECONDITIONS},
    {"POST", "/v1/characters/{id}/level-up", on_character_level_up,
     ROUTE_WRITE | ROUTE_JSON_BODY | ROUTE_BODY_OPTIONAL | ROUTE_PRECONDITIONS},
    {"POST", "/v1/rolls", on_roll, ROUTE_JSON_BODY},
    {"GET", "/api/2014", on_reference, ROUTE_REFERENCE},
    {"GET", "/api/2014/{resource}", on_reference, ROUTE_REFERENCE},
    {"GET", "/api/2014/{resource}/{index}", on_reference, ROUTE_REFERENCE},
    {"GET", "/api/2014/classes/{index}/levels", on_reference, ROUTE_REFERENCE},
    {"GET", "/api/2014/classes/{index}/levels/{level}", on_reference, ROUTE_REFERENCE},
    {"POST", "/v1/rolls/ability-scores", on_roll_ability_scores, ROUTE_JSON_BODY | ROUTE_BODY_OPTIONAL},
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

static void send_internal(struct route_ctx *rc, const struct err *e)
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

/* Size (413) and parse (400) the body of a route that takes one into rc->body; 0 to go on, -1 when answered. */
static int take_body(struct route_ctx *rc)
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
    if ((flags & ROUTE_JSON_BODY) && !(flags & ROUTE_PRECONDITIONS) && take_body(&rc) != 0)
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
    if (http_header(rc->req, "if-none-match", &inm) && etag_matches(inm, etag)) {
        http_send(rc->req, 304, NULL, "", 0);
        return;
    }
    http_send(rc->req, 200, "application/json", body, len);
}

/* ---- characters ------------------------------------------------------------------ */


#define LIST_LIMIT_DEFAULT 50
#define LIST_LIMIT_MAX 500
#define CURSOR_TEXT_MAX 64  /* base64url of a uuid is 48 characters */

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

/*
 * Answer a committed write: at once with Sync-Status: off (offline), or when
 * the syncer reports outbox row `seq` delivered (synced) or the write timeout
 * passes (pending). `text` lives in req->pool.
 */
static void finish_write(struct route_ctx *rc, int status, long long seq, long long version, const char *id,
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

/* A stored character as a write handler needs it; strings in req->pool. */
struct stored {
    char id[IDS_UUID_LEN + 1];
    long long version;
    const char *etag;
    const char *document;
    size_t document_len;
};

/* Load character {id} into *st; 0, or -1 when answered (404, 500). */
static int load_stored(struct route_ctx *rc, struct stored *st)
{
    const struct route_param *id = &rc->match.params[0];
    if (!ids_is_uuid(id->base, id->len)) {
        problem_send(rc->req, PROBLEM_NOT_FOUND, "no character has that id", NULL);
        return -1;
    }
    struct store_record r;
    struct err e = {0};
    int rc_get = store_character_get(rc->w->store, id->base, id->len, &r, &e);
    if (rc_get == ERR_NOT_FOUND) {
        problem_send(rc->req, PROBLEM_NOT_FOUND, "no character has that id", NULL);
        return -1;
    }
    if (rc_get != 0) {
        send_internal(rc, &e);
        return -1;
    }
    memcpy(st->id, id->base, IDS_UUID_LEN);
    st->id[IDS_UUID_LEN] = '\0';
    st->version = r.version;
    st->etag = h2o_strdup(&rc->req->pool, r.etag, strlen(r.etag)).base;
    st->document = h2o_strdup(&rc->req->pool, r.document, r.document_len).base;
    st->document_len = r.document_len;
    store_row_done(rc->w->store);
    return 0;
}

/* If-Match against the stored ETag: 0 to go on, -1 when answered 412. */
static int check_if_match(struct route_ctx *rc, const struct stored *st)
{
    h2o_iovec_t im;
    if (!http_header(rc->req, "if-match", &im))
        return 0;
    /* If-Match uses the strong comparison (RFC 9110 13.1.1): a weak tag never matches. */
    int weak = 0;
    for (size_t i = 0; i + 1 < im.len; i++)
        if (im.base[i] == 'W' && im.base[i + 1] == '/')
            weak = 1;
    if (!weak && etag_matches(im, st->etag))
        return 0;
    http_add_header(rc->req, "etag", st->etag);
    problem_send(rc->req, PROBLEM_PRECONDITION_FAILED,
                 "If-Match does not name the current version; GET it again and retry", NULL);
    return -1;
}

/* Load {id}, check If-Match, then take the body: the order API.md gives. 0 to go on. */
static int load_for_write(struct route_ctx *rc, struct stored *st)
{
    if (load_stored(rc, st) != 0 || check_if_match(rc, st) != 0)
        return -1;
    if ((rc->match.route->flags & ROUTE_JSON_BODY) && take_body(rc) != 0)
        return -1;
    return 0;
}

/* The stored document parsed (new reference), or NULL after answering 500. */
static json_t *parse_stored(struct route_ctx *rc, const struct stored *st)
{
    json_error_t jerr;
    json_t *doc = json_loadb(st->document, st->document_len, 0, &jerr);
    if (!json_is_object(doc) || !json_is_object(json_object_get(doc, "build"))) {
        json_decref(doc);
        struct err e = {.code = ERR_GENERIC};
        snprintf(e.msg, sizeof(e.msg), "character %s: the stored document has no build", st->id);
        send_internal(rc, &e);
        return NULL;
    }
    return doc;
}

/*
 * The document text in req->pool: {"id", "version", "created_at", "updated_at",
 * the sheet's members, "build"}. The sheet is written as text (charjson_sheet_text):
 * it is most of the bytes, and jansson objects would cost several times more.
 */
static char *character_document(const struct route_ctx *rc, const char *id, long long version,
                                const char *created_at, const char *updated_at, const struct build *b,
                                const struct sheet *s, size_t *len)
{
    size_t slen, blen;
    char *sheet = charjson_sheet_text(rc->w->rt->ruleset, b, s, &slen);
    json_t *bj = charjson_write_build(b);
    char *build = json_dumps(bj, JSON_COMPACT);
    json_decref(bj);
    if (build == NULL)
        abort();
    blen = strlen(build);
    char head[256];
    /* id and the timestamps are ours: a uuid and RFC 3339 texts, nothing to escape. */
    int hlen = snprintf(head, sizeof(head), "{\"id\":\"%s\",\"version\":%lld,\"created_at\":\"%s\",\"updated_at\":\"%s\",", id,
                        version, created_at, updated_at);
    size_t total = (size_t)hlen + slen + 10 + blen + 1;
    char *text = h2o_mem_alloc_pool(&rc->req->pool, total + 1);
    size_t at = 0;
    memcpy(text, head, (size_t)hlen);
    at += (size_t)hlen;
    memcpy(text + at, sheet, slen);
    at += slen;
    memcpy(text + at, ",\"build\":", 9);
    at += 9;
    memcpy(text + at, build, blen);
    at += blen;
    text[at++] = '}';
    text[at] = '\0';
    free(sheet);
    free(build);
    *len = at;
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
                             const struct stored *st, const char *created_at)
{
    h2o_req_t *req = rc->req;
    char id[IDS_UUID_LEN + 1], now[IDS_TIME_LEN + 1], etag[36];
    ids_now_rfc3339(now);
    long long version = st != NULL ? st->version + 1 : 1;
    struct err e = {0};
    int rc_w = ERR_CONFLICT;
    long long seq = 0;
    char *text = NULL;
    size_t len = 0;
    for (int attempt = 0; attempt < 3 && rc_w == ERR_CONFLICT; attempt++) {
        if (st != NULL)
            memcpy(id, st->id, sizeof(id));
        else
            ids_uuid_v4(id);
        text = character_document(rc, id, version, st != NULL ? created_at : now, now, b, s, &len);
        store_etag(version, text, len, etag);
        struct store_record r = {
            .id = id,
            .version = version,
            .name = h2o_strdup(&req->pool, b->name != NULL ? b->name : "", b->name != NULL ? b->name_len : 0).base,
            .created_at = st != NULL ? created_at : now,
            .updated_at = now,
            .etag = etag,
            .document = text,
            .document_len = len,
            .race = b->race,
            .class_ = b->class_,
            .level = s->level > 0 ? s->level : b->level + (int)b->nadvancement,
            .roll_nonce = s->roll_nonce[0] != '\0' ? s->roll_nonce : NULL,
        };
        if (st != NULL) {
            rc_w = store_character_update(rc->w->store, &r, st->version, &seq, &e);
            break; /* a conflict here is a concurrent write: 412 */
        }
        rc_w = store_character_insert(rc->w->store, &r, &seq, &e);
    }
    if (rc_w == ERR_DUPLICATE) {
        roll_reused(rc);
        return;
    }
    if (rc_w == ERR_CONFLICT && st != NULL) {
        problem_send(req, PROBLEM_PRECONDITION_FAILED, "the character changed meanwhile; GET it again and retry",
                     NULL);
        return;
    }
    if (rc_w == ERR_NOT_FOUND) {
        problem_send(req, PROBLEM_NOT_FOUND, "no character has that id", NULL);
        return;
    }
    if (rc_w != 0) {
        send_internal(rc, &e);
        return;
    }
    if (st == NULL) {
        char loc[64];
        snprintf(loc, sizeof(loc), "/v1/characters/%s", id);
        http_add_header_copy(req, "location", loc, strlen(loc));
    }
    http_add_header_copy(req, "etag", etag, strlen(etag));
    finish_write(rc, st == NULL ? 201 : 200, seq, version, id, text, len);
}

/*
 * Judge `b` for storing (CHARACTER_CREATE) and commit it, or answer 422 with
 * every problem (the mapper's in `v` already, then the engine's). A stored
 * character's own roll id does not expire: it was checked when first accepted.
 */
static void judge_and_commit(struct route_ctx *rc, const struct build *b, struct violations *v,
                             const struct stored *st, const char *created_at, const char *stored_roll_id)
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
    commit_character(rc, b, s, st, created_at);
}

static void on_character_create(struct route_ctx *rc)
{
    struct violations *v = h2o_mem_alloc_pool(&rc->req->pool, sizeof(*v));
    struct build *b = h2o_mem_alloc_pool(&rc->req->pool, sizeof(*b));
    violations_init(v);
    charjson_read_build(rc->body, b, v);
    if (!json_is_object(rc->body)) {
        send_validation(rc, v);
        return;
    }
    judge_and_commit(rc, b, v, NULL, NULL, NULL);
}

/* POST /v1/characters/validate: judge a draft; nothing is stored. */
static void on_character_validate(struct route_ctx *rc)
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
    json_t *bj = charjson_write_build(b);
    char *etext = json_dumps(errors, JSON_COMPACT), *btext = json_dumps(bj, JSON_COMPACT);
    json_decref(errors);
    json_decref(bj);
    if (etext == NULL || btext == NULL)
        abort();
    size_t slen;
    char *sheet = charjson_sheet_text(rc->w->rt->ruleset, b, s, &slen);
    size_t elen = strlen(etext), blen = strlen(btext);
    size_t total = 128 + elen + slen + blen; /* the fixed text is under 100 bytes */
    char *body = h2o_mem_alloc_pool(&rc->req->pool, total);
    int n = snprintf(body, total, "{\"valid\":%s,\"errors\":%s,%s\"warnings\":[],\"character\":{%s,\"build\":%s}}",
                     v->n == 0 ? "true" : "false", etext, v->truncated ? "\"errors_truncated\":true," : "", sheet,
                     btext);
    free(etext);
    free(btext);
    free(sheet);
    http_send(rc->req, 200, "application/json", body, (size_t)n);
}

/* PUT /v1/characters/{id}: a full build replaces the stored one, re-validated. */
static void on_character_put(struct route_ctx *rc)
{
    struct stored st;
    if (load_for_write(rc, &st) != 0)
        return;
    json_t *doc = parse_stored(rc, &st);
    if (doc == NULL)
        return;
    const char *created = json_string_value(json_object_get(doc, "created_at"));
    const char *old_roll = json_string_value(
        json_object_get(json_object_get(json_object_get(doc, "build"), "ability_scores"), "roll_id"));
    struct violations *v = h2o_mem_alloc_pool(&rc->req->pool, sizeof(*v));
    struct build *b = h2o_mem_alloc_pool(&rc->req->pool, sizeof(*b));
    violations_init(v);
    charjson_read_build(rc->body, b, v);
    if (!json_is_object(rc->body))
        send_validation(rc, v);
    else
        judge_and_commit(rc, b, v, &st, created != NULL ? created : "", old_roll);
    json_decref(doc);
}

/* RFC 7396: apply merge patch `patch` (borrowed) to `target` (stolen); returns the result (new reference). */
static json_t *merge_patch(json_t *target, const json_t *patch)
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
            json_t *merged = merge_patch(cur != NULL ? json_incref(cur) : NULL, val);
            json_object_set_new(target, key, merged);
        }
    }
    return target;
}

/* PATCH /v1/characters/{id}: a JSON merge patch of the stored build, re-validated. */
static void on_character_patch(struct route_ctx *rc)
{
    struct stored st;
    if (load_for_write(rc, &st) != 0)
        return;
    json_t *doc = parse_stored(rc, &st);
    if (doc == NULL)
        return;
    const char *created = json_string_value(json_object_get(doc, "created_at"));
    json_t *old_build = json_object_get(doc, "build");
    const char *old_roll = json_string_value(json_object_get(json_object_get(old_build, "ability_scores"), "roll_id"));
    json_t *patched = merge_patch(json_deep_copy(old_build), rc->body);
    struct violations *v = h2o_mem_alloc_pool(&rc->req->pool, sizeof(*v));
    struct build *b = h2o_mem_alloc_pool(&rc->req->pool, sizeof(*b));
    violations_init(v);
    charjson_read_build(patched, b, v);
    if (!json_is_object(patched))
        send_validation(rc, v);
    else
        judge_and_commit(rc, b, v, &st, created != NULL ? created : "", old_roll);
    json_decref(patched);
    json_decref(doc);
}

/* DELETE /v1/characters/{id}: 204. */
static void on_character_delete(struct route_ctx *rc)
{
    struct stored st;
    if (load_for_write(rc, &st) != 0)
        return;
    struct err e = {0};
    long long seq = 0;
    int rc_d = store_character_delete(rc->w->store, st.id, st.version, &seq, &e);
    if (rc_d == ERR_NOT_FOUND) {
        problem_send(rc->req, PROBLEM_NOT_FOUND, "no character has that id", NULL);
        return;
    }
    if (rc_d == ERR_CONFLICT) {
        problem_send(rc->req, PROBLEM_PRECONDITION_FAILED, "the character changed meanwhile; GET it again and retry",
                     NULL);
        return;
    }
    if (rc_d != 0) {
        send_internal(rc, &e);
        return;
    }
    char *id = h2o_strdup(&rc->req->pool, st.id, IDS_UUID_LEN).base;
    finish_write(rc, 204, seq, st.version, id, NULL, 0);
}

/* POST /v1/characters/{id}/level-up: one more level, appended to build.advancement. */
static void on_character_level_up(struct route_ctx *rc)
{
    struct stored st;
    if (load_for_write(rc, &st) != 0)
        return;
    struct violations *v = h2o_mem_alloc_pool(&rc->req->pool, sizeof(*v));
    violations_init(v);
    struct level_up lu;
    charjson_read_level_up(rc->body, &lu, v);
    if (v->n > 0) {
        problem_send(rc->req, PROBLEM_VALIDATION, "the level-up request is not valid", v);
        return;
    }
    json_t *doc = parse_stored(rc, &st);
    if (doc == NULL)
        return;
    const char *created = json_string_value(json_object_get(doc, "created_at"));
    json_t *old_build = json_object_get(doc, "build");
    const char *old_roll = json_string_value(json_object_get(json_object_get(old_build, "ability_scores"), "roll_id"));
    struct build *b = h2o_mem_alloc_pool(&rc->req->pool, sizeof(*b));
    struct violations *mv = h2o_mem_alloc_pool(&rc->req->pool, sizeof(*mv));
    violations_init(mv);
    charjson_read_build(old_build, b, mv);
    if (mv->n > 0) {
        struct err e = {.code = ERR_GENERIC};
        snprintf(e.msg, sizeof(e.msg), "character %s: the stored build does not map (%s: %s)", st.id,
                 mv->items[0].field, mv->items[0].message);
        send_internal(rc, &e);
        json_decref(doc);
        return;
    }
    struct build_policy p;
    request_policy(rc, &p);
    if (old_roll != NULL)
        p.roll_ttl_s = INT64_C(1) << 40; /* the character's own roll, accepted when it was made */
    struct dice_rng rng = dice_rng_sodium();
    struct build_advance adv;
    character_level_up(rc->w->rt->ruleset, &p, b, &lu, &rng, v, &adv);
    if (v->n == 0 && b->nadvancement >= BUILD_ADVANCE_MAX)
        violations_add(v, "class", "out_of_range", "the character is already level %d", BUILD_LEVEL_MAX);
    if (v->n > 0) {
        problem_send(rc->req, PROBLEM_VALIDATION, "the level-up request is not valid", v);
        json_decref(doc);
        return;
    }
    b->advancement[b->nadvancement++] = adv;
    judge_and_commit(rc, b, v, &st, created != NULL ? created : "", old_roll);
    json_decref(doc);
}

/* POST /v1/characters/random {"seed": n}: a valid random level-1 character, stored. */
static void on_character_random(struct route_ctx *rc)
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
        send_internal(rc, &e);
        return;
    }
    commit_character(rc, b, s, NULL, NULL);
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
    q->limit = LIST_LIMIT_DEFAULT;
    if (req->query_at == SIZE_MAX)
        return;
    struct query *qs = h2o_mem_alloc_pool(&req->pool, sizeof(*qs));
    struct err e = {0};
    if (query_parse(qs, req->path.base + req->query_at + 1, req->path.len - req->query_at - 1, &e) != 0)
        violations_add(v, "", qs->too_many ? "too_many" : "too_long", "%s", e.msg);
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
            int lo = 1, hi = is_level ? BUILD_LEVEL_MAX : LIST_LIMIT_MAX;
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

/* Rows of one page, as their stored document texts joined into a JSON array. */
struct list_page {
    char *buf;
    size_t len, cap;
    int rows, limit, more;
    char last_id[IDS_UUID_LEN + 1];
};

static void page_append(struct list_page *pg, const char *s, size_t n)
{
    if (pg->len + n + 1 > pg->cap) {
        size_t cap = pg->cap ? pg->cap : 4096;
        while (cap < pg->len + n + 1)
            cap *= 2;
        char *nb = realloc(pg->buf, cap);
        if (nb == NULL)
            abort();
        pg->buf = nb;
        pg->cap = cap;
    }
    memcpy(pg->buf + pg->len, s, n);
    pg->len += n;
}

static int page_row(void *ctx, const struct store_record *r)
{
    struct list_page *pg = ctx;
    if (pg->rows == pg->limit) {
        pg->more = 1;
        return 1;
    }
    if (pg->rows > 0)
        page_append(pg, ",", 1);
    page_append(pg, r->document, r->document_len);
    snprintf(pg->last_id, sizeof(pg->last_id), "%s", r->id);
    pg->rows++;
    return 0;
}

static void on_character_list(struct route_ctx *rc)
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
    struct list_page pg = {.limit = q.limit};
    long long count = 0;
    struct err e = {0};
    page_append(&pg, "", 0);
    int rc_l = store_character_list(rc->w->store, &f, q.has_after ? q.after : NULL, q.limit + 1, &count, page_row,
                                    &pg, &e);
    if (rc_l != 0) {
        free(pg.buf);
        send_internal(rc, &e);
        return;
    }
    char next[1400] = "null";
    if (pg.more) {
        char cursor[CURSOR_TEXT_MAX + 1];
        sodium_bin2base64(cursor, sizeof(cursor), (const unsigned char *)pg.last_id, IDS_UUID_LEN,
                          sodium_base64_VARIANT_URLSAFE_NO_PADDING);
        size_t at = (size_t)snprintf(next, sizeof(next), "\"/v1/characters?");
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
        snprintf(next + at, sizeof(next) - at, "limit=%d&cursor=%s\"", q.limit, cursor);
    }
    char head[64];
    int hlen = snprintf(head, sizeof(head), "{\"count\":%lld,\"results\":[", count);
    size_t nlen = strlen(next);
    size_t total = (size_t)hlen + pg.len + 9 + nlen + 1;
    char *body = h2o_mem_alloc_pool(&req->pool, total + 1);
    size_t at = 0;
    memcpy(body + at, head, (size_t)hlen);
    at += (size_t)hlen;
    if (pg.len > 0)
        memcpy(body + at, pg.buf, pg.len);
    at += pg.len;
    memcpy(body + at, "],\"next\":", 9);
    at += 9;
    memcpy(body + at, next, nlen);
    at += nlen;
    body[at++] = '}';
    free(pg.buf);
    http_send(req, 200, "application/json", body, at);
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

/* ---- shared with the other resource handlers (see routes.h) ---------------------- */

void routes_send_internal(struct route_ctx *rc, const struct err *e)
{
    send_internal(rc, e);
}

int routes_take_body(struct route_ctx *rc)
{
    return take_body(rc);
}

int routes_etag_matches(h2o_iovec_t list, const char *etag)
{
    return etag_matches(list, etag);
}

int routes_check_if_match(struct route_ctx *rc, const char *etag)
{
    struct stored st = {.etag = etag};
    return check_if_match(rc, &st);
}

void routes_finish_write(struct route_ctx *rc, int status, long long seq, long long version, const char *id,
                         const char *text, size_t len)
{
    finish_write(rc, status, seq, version, id, text, len);
}

int routes_refuse_unknown_fields(struct route_ctx *rc, const char *const *allowed)
{
    return refuse_unknown_fields(rc, allowed);
}

json_t *routes_merge_patch(json_t *target, const json_t *patch)
{
    return merge_patch(target, patch);
}
