/*
 * server/resource.c - see resource.h. Statuses are chosen here and in
 * server/problem.c only; the store answers with err codes.
 */
#include "server/resource.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/ids.h"
#include "server/http.h"
#include "server/problem.h"
#include "server/query.h"

static void not_found(struct route_ctx *rc, const struct resource_desc *d)
{
    char detail[96];
    snprintf(detail, sizeof(detail), "no %s has that id", d->noun);
    problem_send(rc->req, PROBLEM_NOT_FOUND, detail, NULL);
}

static void changed_meanwhile(struct route_ctx *rc, const struct resource_desc *d)
{
    char detail[128];
    snprintf(detail, sizeof(detail), "the %s changed meanwhile; GET it again and retry", d->noun);
    problem_send(rc->req, PROBLEM_PRECONDITION_FAILED, detail, NULL);
}

/* A GET that missed SQLite and asked the syncer to read HarperDB (write-through mode). */
struct pending_get {
    struct sync_wait wait;
    struct route_ctx rc;
    const struct resource_desc *d;
};

static void answer_get(struct route_ctx *rc, const struct resource_desc *d, int may_fetch);

static void on_fetched(struct sync_wait *w, enum sync_outcome outcome)
{
    struct pending_get *p = H2O_STRUCT_FROM_MEMBER(struct pending_get, wait, w);
    worker_conn_busy(p->rc.req, -1);
    (void)outcome; /* whatever happened, SQLite now says what there is */
    answer_get(&p->rc, p->d, 0);
}

static void answer_get(struct route_ctx *rc, const struct resource_desc *d, int may_fetch)
{
    h2o_req_t *req = rc->req;
    const struct route_param *id = &rc->match.params[0];
    struct store_record r;
    struct err e = {0};
    int rc_get = store_doc_get(rc->w->store, d->kind, id->base, id->len, &r, &e);
    if (rc_get == ERR_NOT_FOUND && may_fetch) {
        /* Read-through: another instance may have written it; HarperDB knows. */
        struct pending_get *p = h2o_mem_alloc_pool(&req->pool, sizeof(*p));
        p->rc = *rc;
        p->rc.body = NULL;
        p->d = d;
        char idz[IDS_UUID_LEN + 1];
        memcpy(idz, id->base, IDS_UUID_LEN);
        idz[IDS_UUID_LEN] = '\0';
        worker_conn_busy(req, 1);
        synclink_fetch_kind(&rc->w->sync, &p->wait, (int)d->kind, idz, on_fetched, NULL);
        return;
    }
    if (rc_get == ERR_NOT_FOUND) {
        not_found(rc, d);
        return;
    }
    if (rc_get != 0) {
        routes_send_internal(rc, &e);
        return;
    }
    h2o_iovec_t etag = h2o_strdup(&req->pool, r.etag, strlen(r.etag));
    h2o_iovec_t body = h2o_strdup(&req->pool, r.document, r.document_len);
    store_row_done(rc->w->store);
    http_add_header(req, "etag", etag.base);
    h2o_iovec_t inm;
    if (http_header(req, "if-none-match", &inm) && routes_etag_matches(inm, etag.base)) {
        http_send(req, 304, NULL, "", 0);
        return;
    }
    http_send(req, 200, "application/json", body.base, body.len);
}

void resource_get(struct route_ctx *rc, const struct resource_desc *d)
{
    const struct route_param *id = &rc->match.params[0];
    if (!ids_is_uuid(id->base, id->len)) {
        not_found(rc, d);
        return;
    }
    answer_get(rc, d, rc->w->rt->write_through);
}

int resource_load_for_write(struct route_ctx *rc, const struct resource_desc *d, struct resource_stored *st)
{
    memset(st, 0, sizeof(*st));
    const struct route_param *id = &rc->match.params[0];
    if (!ids_is_uuid(id->base, id->len)) {
        not_found(rc, d);
        return -1;
    }
    struct store_record r;
    struct err e = {0};
    int rc_get = store_doc_get(rc->w->store, d->kind, id->base, id->len, &r, &e);
    if (rc_get == ERR_NOT_FOUND) {
        not_found(rc, d);
        return -1;
    }
    if (rc_get != 0) {
        routes_send_internal(rc, &e);
        return -1;
    }
    memcpy(st->id, id->base, IDS_UUID_LEN);
    st->id[IDS_UUID_LEN] = '\0';
    st->version = r.version;
    st->etag = h2o_strdup(&rc->req->pool, r.etag, strlen(r.etag)).base;
    st->doc = json_loadb(r.document, r.document_len, 0, NULL);
    store_row_done(rc->w->store);
    if (!json_is_object(st->doc)) {
        resource_stored_release(st);
        e.code = ERR_GENERIC;
        snprintf(e.msg, sizeof(e.msg), "%s %s: the stored document is not a JSON object", d->noun, st->id);
        routes_send_internal(rc, &e);
        return -1;
    }
    if (routes_check_if_match(rc, st->etag) != 0 ||
        ((rc->match.route->flags & ROUTE_JSON_BODY) && routes_take_body(rc) != 0)) {
        resource_stored_release(st);
        return -1;
    }
    return 0;
}

void resource_stored_release(struct resource_stored *st)
{
    json_decref(st->doc);
    st->doc = NULL;
}

void resource_commit(struct route_ctx *rc, const struct resource_desc *d, json_t *doc, const struct resource_stored *st,
                     const struct store_record *cols)
{
    h2o_req_t *req = rc->req;
    char id[IDS_UUID_LEN + 1], now[IDS_TIME_LEN + 1], etag[36];
    ids_now_rfc3339(now);
    long long version = st != NULL ? st->version + 1 : 1;
    /* Copied: `doc` may be st->doc itself, whose "created_at" is replaced below. */
    char created_buf[IDS_TIME_LEN + 8];
    const char *created = NULL;
    if (st != NULL) {
        const char *c = json_string_value(json_object_get(st->doc, "created_at"));
        if (c != NULL && strlen(c) < sizeof(created_buf)) {
            memcpy(created_buf, c, strlen(c) + 1);
            created = created_buf;
        }
    }
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
        json_object_set_new(doc, "id", json_string(id));
        json_object_set_new(doc, "version", json_integer(version));
        json_object_set_new(doc, "created_at", json_string(created != NULL ? created : now));
        json_object_set_new(doc, "updated_at", json_string(now));
        char *dumped = json_dumps(doc, JSON_COMPACT | JSON_PRESERVE_ORDER);
        if (dumped == NULL)
            abort();
        len = strlen(dumped);
        text = h2o_strdup(&req->pool, dumped, len).base;
        free(dumped);
        store_etag(version, text, len, etag);
        struct store_record r = *cols;
        r.id = id;
        r.version = version;
        r.created_at = created != NULL ? created : now;
        r.updated_at = now;
        r.etag = etag;
        r.document = text;
        r.document_len = len;
        if (st != NULL) {
            rc_w = store_doc_update(rc->w->store, d->kind, &r, st->version, &seq, &e);
            break; /* a conflict here is a concurrent write: 412 */
        }
        rc_w = store_doc_insert(rc->w->store, d->kind, &r, &seq, &e);
    }
    if (rc_w == ERR_CONFLICT && st != NULL) {
        changed_meanwhile(rc, d);
        return;
    }
    if (rc_w == ERR_NOT_FOUND) {
        not_found(rc, d);
        return;
    }
    if (rc_w != 0) {
        routes_send_internal(rc, &e);
        return;
    }
    if (st == NULL) {
        char loc[96];
        snprintf(loc, sizeof(loc), "%s/%s", d->base_path, id);
        http_add_header_copy(req, "location", loc, strlen(loc));
    }
    http_add_header_copy(req, "etag", etag, strlen(etag));
    char *idp = h2o_strdup(&req->pool, id, IDS_UUID_LEN).base;
    routes_finish_write(rc, st == NULL ? 201 : 200, seq, version, idp, text, len);
}

void resource_delete(struct route_ctx *rc, const struct resource_desc *d)
{
    struct resource_stored st;
    if (resource_load_for_write(rc, d, &st) != 0)
        return;
    resource_stored_release(&st);
    struct err e = {0};
    long long seq = 0;
    int rc_d = store_doc_delete(rc->w->store, d->kind, st.id, st.version, &seq, &e);
    if (rc_d == ERR_NOT_FOUND) {
        not_found(rc, d);
        return;
    }
    if (rc_d == ERR_CONFLICT) {
        changed_meanwhile(rc, d);
        return;
    }
    if (rc_d != 0) {
        routes_send_internal(rc, &e);
        return;
    }
    char *id = h2o_strdup(&rc->req->pool, st.id, IDS_UUID_LEN).base;
    routes_finish_write(rc, 204, seq, st.version, id, NULL, 0);
}

void resource_cursor(const char *text, char out[96])
{
    size_t n = strlen(text);
    if (n > 60)
        n = 60;
    sodium_bin2base64(out, 96, (const unsigned char *)text, n, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
}

void resource_query_parse(h2o_req_t *req, struct resource_query *q, resource_query_fn extra, void *ctx,
                          struct violations *v)
{
    memset(q, 0, sizeof(*q));
    q->limit = RESOURCE_LIMIT_DEFAULT;
    if (req->query_at == SIZE_MAX)
        return;
    struct query *qs = h2o_mem_alloc_pool(&req->pool, sizeof(*qs));
    struct err e = {0};
    if (query_parse(qs, req->path.base + req->query_at + 1, req->path.len - req->query_at - 1, &e) != 0)
        violations_add(v, "", qs->too_many ? "too_many" : "too_long", "%s", e.msg);
    int seen_limit = 0, seen_cursor = 0;
    for (size_t i = 0; i < qs->n; i++) {
        const struct query_param *p = &qs->params[i];
        if (p->key_problem != QUERY_OK) {
            violations_add(v, "", "unknown_field", "a query parameter name %s", query_problem_text(p->key_problem));
            continue;
        }
        const char *key = p->key;
        if (p->value_problem != QUERY_OK) {
            violations_add(v, key, p->value_problem == QUERY_TOO_LONG ? "too_long" : "out_of_range", "%.40s %s", key,
                           query_problem_text(p->value_problem));
            continue;
        }
        if (strcmp(key, "limit") == 0) {
            char *end = NULL;
            long n = p->value_len > 0 && p->value_len <= 4 && p->value[0] >= '0' && p->value[0] <= '9'
                         ? strtol(p->value, &end, 10)
                         : -1;
            if (seen_limit++)
                violations_add(v, "limit", "duplicate", "limit is given more than once; give it once");
            else if (n < 1 || n > RESOURCE_LIMIT_MAX || end == NULL || *end != '\0')
                violations_add(v, "limit", "out_of_range", "limit must be a whole number 1..%d", RESOURCE_LIMIT_MAX);
            else
                q->limit = (int)n;
        } else if (strcmp(key, "cursor") == 0) {
            unsigned char bin[64];
            size_t blen = 0;
            if (seen_cursor++)
                violations_add(v, "cursor", "duplicate", "cursor is given more than once; give it once");
            else if (p->value_len == 0 || p->value_len > 90 ||
                     sodium_base642bin(bin, sizeof(bin) - 1, p->value, p->value_len, NULL, &blen, NULL,
                                       sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0 ||
                     blen == 0 || blen > 60 || memchr(bin, '\0', blen) != NULL)
                violations_add(v, "cursor", "invalid", "cursor is not one this server gave out");
            else {
                memcpy(q->cursor, bin, blen);
                q->cursor[blen] = '\0';
            }
        } else if (extra == NULL || extra(ctx, key, p->value, p->value_len, v) != 0) {
            violations_add(v, "", "unknown_field", "unknown query parameter \"%.40s\"", key);
        }
    }
}

void resource_page_add(struct resource_page *pg, const char *text, size_t len)
{
    size_t need = pg->len + len + 2;
    if (need > pg->cap) {
        size_t cap = pg->cap ? pg->cap : 4096;
        while (cap < need)
            cap *= 2;
        char *nb = realloc(pg->buf, cap);
        if (nb == NULL)
            abort();
        pg->buf = nb;
        pg->cap = cap;
    }
    if (pg->rows > 0)
        pg->buf[pg->len++] = ',';
    memcpy(pg->buf + pg->len, text, len);
    pg->len += len;
    pg->rows++;
}

void resource_page_send(struct route_ctx *rc, struct resource_page *pg, long long count, const char *next)
{
    size_t nlen = next != NULL ? strlen(next) : 0;
    size_t total = 64 + pg->len + 2 * nlen + 16;
    char *body = h2o_mem_alloc_pool(&rc->req->pool, total);
    int n = snprintf(body, total, "{\"count\":%lld,\"results\":[", count);
    size_t at = (size_t)n;
    if (pg->len > 0)
        memcpy(body + at, pg->buf, pg->len);
    at += pg->len;
    memcpy(body + at, "],\"next\":", 9);
    at += 9;
    if (next != NULL) {
        /* next is our own path with base64url and index characters: nothing to escape */
        body[at++] = '"';
        memcpy(body + at, next, nlen);
        at += nlen;
        body[at++] = '"';
    } else {
        memcpy(body + at, "null", 4);
        at += 4;
    }
    body[at++] = '}';
    free(pg->buf);
    pg->buf = NULL;
    http_send(rc->req, 200, "application/json", body, at);
}
