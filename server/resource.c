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

/* Answer a write the store refused with rc_w: 412 (ERR_CONFLICT), 404, d->on_duplicate (ERR_DUPLICATE), else 500. */
static void refused(struct route_ctx *rc, const struct resource_desc *d, int rc_w, const struct err *e)
{
    if (rc_w == ERR_DUPLICATE && d->on_duplicate != NULL)
        d->on_duplicate(rc);
    else if (rc_w == ERR_CONFLICT)
        changed_meanwhile(rc, d);
    else if (rc_w == ERR_NOT_FOUND)
        not_found(rc, d);
    else
        routes_send_internal(rc, e);
}

/*
 * Row id[0..len) of d's kind into *r (the caller calls store_row_done): 0;
 * ERR_NOT_FOUND, answered 404 unless quiet_404; -1 after answering 500.
 */
static int get_row(struct route_ctx *rc, const struct resource_desc *d, const char *id, size_t len,
                   struct store_record *r, int quiet_404)
{
    struct err e = {0};
    int rc_get = store_doc_get(rc->w->store, d->kind, id, len, r, &e);
    if (rc_get == ERR_NOT_FOUND && !quiet_404)
        not_found(rc, d);
    else if (rc_get != 0 && rc_get != ERR_NOT_FOUND)
        routes_send_internal(rc, &e);
    return rc_get == 0 || rc_get == ERR_NOT_FOUND ? rc_get : -1;
}

/* A GET that missed SQLite and asked the syncer to read HarperDB (write-through mode). */
struct pending_get {
    struct sync_wait wait;
    struct route_ctx rc;
    const struct resource_desc *d;
};

static void answer_get(struct route_ctx *rc, const struct resource_desc *d, int may_fetch);

/*
 * A write (or compat read) that missed a row in SQLite and waits for the
 * syncer to read it through from HarperDB; its handler runs again from the
 * start when the syncer answers. The rows this request has asked for ride
 * along, so each is fetched at most once.
 */
#define READ_THROUGH_MAX 4 /* a campaign action: the campaign, its character, an item; one spare */
struct parked {
    struct sync_wait wait;
    struct route_ctx rc; /* rc.body: owned here (a new reference) or NULL */
    int nfetched;
    struct {
        int kind;
        char id[IDS_UUID_LEN + 1];
    } fetched[READ_THROUGH_MAX];
};

/* The parked request whose handler runs again right now (NULL: none). */
static struct parked *resumed;

static void on_parked_fetched(struct sync_wait *w, enum sync_outcome outcome)
{
    struct parked *p = H2O_STRUCT_FROM_MEMBER(struct parked, wait, w);
    (void)outcome; /* whatever happened, SQLite now says what there is */
    worker_conn_busy(p->rc.req, -1);
    struct parked *outer = resumed; /* a fetch the syncer refused at once completes inside the first run */
    resumed = p;
    p->rc.match.route->handler(&p->rc);
    resumed = outer;
    if (p->rc.body != NULL)
        json_decref(p->rc.body);
    p->rc.body = NULL;
}

int resource_read_through(struct route_ctx *rc, enum store_kind kind, const char *id, size_t len)
{
    if (!rc->w->rt->write_through || !ids_is_uuid(id, len))
        return 0;
    const struct parked *prev = resumed != NULL && resumed->rc.req == rc->req ? resumed : NULL;
    int n = prev != NULL ? prev->nfetched : 0;
    for (int i = 0; i < n; i++)
        if (prev->fetched[i].kind == (int)kind && memcmp(prev->fetched[i].id, id, IDS_UUID_LEN) == 0)
            return 0; /* read through already: the miss stands */
    if (n >= READ_THROUGH_MAX)
        return 0;
    h2o_req_t *req = rc->req;
    struct parked *p = h2o_mem_alloc_pool(&req->pool, sizeof(*p));
    memset(p, 0, sizeof(*p));
    p->rc = *rc;
    /* A route that parses its body after If-Match parses it again on the next run (the current owner releases
     * this one); a body the pipeline parsed first is not parsed again, so it is kept. */
    p->rc.body = (rc->match.route->flags & ROUTE_PRECONDITIONS) ? NULL : json_incref(rc->body);
    if (prev != NULL)
        memcpy(p->fetched, prev->fetched, sizeof(p->fetched));
    p->nfetched = n + 1;
    p->fetched[n].kind = (int)kind;
    memcpy(p->fetched[n].id, id, IDS_UUID_LEN);
    p->fetched[n].id[IDS_UUID_LEN] = '\0';
    worker_conn_busy(req, 1);
    synclink_fetch_kind(&rc->w->sync, &p->wait, (int)kind, p->fetched[n].id, on_parked_fetched, NULL);
    return 1;
}

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
    int rc_get = get_row(rc, d, id->base, id->len, &r, may_fetch);
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
    if (rc_get != 0)
        return;
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

int resource_load(struct route_ctx *rc, const struct resource_desc *d, const char *id, size_t len,
                  struct resource_stored *st)
{
    memset(st, 0, sizeof(*st));
    struct store_record r;
    int rc_get = get_row(rc, d, id, len, &r, 1);
    if (rc_get == ERR_NOT_FOUND && !resource_read_through(rc, d->kind, id, len))
        not_found(rc, d);
    if (rc_get != 0)
        return -1;
    snprintf(st->id, sizeof(st->id), "%.*s", (int)(len < sizeof(st->id) ? len : sizeof(st->id) - 1), id);
    st->version = r.version;
    st->etag = h2o_strdup(&rc->req->pool, r.etag, strlen(r.etag)).base;
    st->doc = json_loadb(r.document, r.document_len, 0, NULL);
    store_row_done(rc->w->store);
    if (!json_is_object(st->doc)) {
        resource_stored_release(st);
        struct err e = {.code = ERR_GENERIC};
        snprintf(e.msg, sizeof(e.msg), "%s %s: the stored document is not a JSON object", d->noun, st->id);
        routes_send_internal(rc, &e);
        return -1;
    }
    return 0;
}

int resource_load_for_write(struct route_ctx *rc, const struct resource_desc *d, struct resource_stored *st)
{
    const struct route_param *id = &rc->match.params[0];
    if (!ids_is_uuid(id->base, id->len)) {
        memset(st, 0, sizeof(*st));
        not_found(rc, d);
        return -1;
    }
    if (resource_load(rc, d, id->base, id->len, st) != 0)
        return -1;
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

/* The text of `doc` (borrowed) with the stamp's members set, in req->pool. */
static const char *doc_text(struct route_ctx *rc, json_t *doc, const struct resource_stamp *s, size_t *len)
{
    json_object_set_new(doc, "id", json_string(s->id));
    json_object_set_new(doc, "version", json_integer(s->version));
    json_object_set_new(doc, "created_at", json_string(s->created_at));
    json_object_set_new(doc, "updated_at", json_string(s->updated_at));
    char *dumped = json_dumps(doc, JSON_COMPACT | JSON_PRESERVE_ORDER);
    if (dumped == NULL)
        abort();
    *len = strlen(dumped);
    const char *text = h2o_strdup(&rc->req->pool, dumped, *len).base;
    free(dumped);
    return text;
}

int resource_store(struct route_ctx *rc, const struct resource_desc *d, const struct resource_write *w,
                   struct resource_written *out, struct err *e)
{
    h2o_req_t *req = rc->req;
    char now[IDS_TIME_LEN + 1];
    ids_now_rfc3339(now);
    memset(out, 0, sizeof(*out));
    out->version = w->version + 1;
    /* Copied first: both may point into w->doc, whose members are replaced below. */
    char created[IDS_TIME_LEN + 8];
    if (w->created_at != NULL && strlen(w->created_at) < sizeof(created))
        memcpy(created, w->created_at, strlen(w->created_at) + 1);
    else
        memcpy(created, now, sizeof(now));
    if (w->id != NULL)
        snprintf(out->id, sizeof(out->id), "%s", w->id);
    int rc_w = ERR_CONFLICT;
    for (int attempt = 0; attempt < 3 && rc_w == ERR_CONFLICT; attempt++) {
        if (w->id == NULL)
            ids_uuid_v4(out->id);
        struct resource_stamp s = {out->id, out->version, created, now};
        out->text = w->text != NULL ? w->text(rc, w->ctx, &s, &out->len) : doc_text(rc, w->doc, &s, &out->len);
        store_etag(out->version, out->text, out->len, out->etag);
        struct store_record r = *w->cols;
        r.id = out->id;
        r.version = out->version;
        r.created_at = created;
        r.updated_at = now;
        r.etag = out->etag;
        r.document = out->text;
        r.document_len = out->len;
        if (w->id != NULL) {
            rc_w = store_doc_update(rc->w->store, d->kind, &r, w->version, &out->seq, e);
            break; /* a conflict here is a concurrent write */
        }
        rc_w = store_doc_insert(rc->w->store, d->kind, &r, &out->seq, e);
    }
    if (rc_w != 0)
        return rc_w;
    if (w->id == NULL) {
        char loc[96];
        snprintf(loc, sizeof(loc), "%s/%s", d->base_path, out->id);
        http_add_header_copy(req, "location", loc, strlen(loc));
    }
    http_add_header_copy(req, "etag", out->etag, strlen(out->etag));
    return 0;
}

void resource_commit_write(struct route_ctx *rc, const struct resource_desc *d, const struct resource_write *w)
{
    struct resource_written out;
    struct err e = {0};
    int rc_w = resource_store(rc, d, w, &out, &e);
    if (rc_w != 0) {
        /* A new row's conflict is three uuid collisions in a row: not the client's doing. */
        refused(rc, d, rc_w == ERR_CONFLICT && w->id == NULL ? ERR_GENERIC : rc_w, &e);
        return;
    }
    char *idp = h2o_strdup(&rc->req->pool, out.id, strlen(out.id)).base;
    routes_finish_write(rc, w->id == NULL ? 201 : 200, out.seq, out.version, idp, out.text, out.len);
}

void resource_commit(struct route_ctx *rc, const struct resource_desc *d, json_t *doc, const struct resource_stored *st,
                     const struct store_record *cols)
{
    struct resource_write w = {.doc = doc, .cols = cols};
    if (st != NULL) {
        w.id = st->id;
        w.version = st->version;
        w.created_at = json_string_value(json_object_get(st->doc, "created_at"));
    }
    resource_commit_write(rc, d, &w);
}

void resource_delete(struct route_ctx *rc, const struct resource_desc *d)
{
    h2o_req_t *req = rc->req;
    const struct route_param *id = &rc->match.params[0];
    if (!ids_is_uuid(id->base, id->len)) {
        not_found(rc, d);
        return;
    }
    struct store_record r;
    int rc_get = get_row(rc, d, id->base, id->len, &r, 1);
    if (rc_get == ERR_NOT_FOUND && !resource_read_through(rc, d->kind, id->base, id->len))
        not_found(rc, d);
    if (rc_get != 0)
        return;
    char *idp = h2o_strdup(&req->pool, id->base, IDS_UUID_LEN).base;
    long long version = r.version;
    const char *etag = h2o_strdup(&req->pool, r.etag, strlen(r.etag)).base;
    store_row_done(rc->w->store);
    if (routes_check_if_match(rc, etag) != 0)
        return;
    long long seq = 0;
    struct err e = {0};
    int rc_d = store_doc_delete(rc->w->store, d->kind, idp, version, &seq, &e);
    if (rc_d != 0) {
        refused(rc, d, rc_d, &e);
        return;
    }
    routes_finish_write(rc, 204, seq, version, idp, NULL, 0);
}

void resource_cursor(const char *text, char out[96])
{
    size_t n = strlen(text);
    if (n > 60)
        n = 60;
    sodium_bin2base64(out, 96, (const unsigned char *)text, n, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
}

const struct query *resource_query_string(h2o_req_t *req, struct violations *v)
{
    if (req->query_at == SIZE_MAX)
        return NULL;
    struct query *qs = h2o_mem_alloc_pool(&req->pool, sizeof(*qs));
    struct err e = {0};
    if (query_parse(qs, req->path.base + req->query_at + 1, req->path.len - req->query_at - 1, &e) != 0)
        violations_add(v, "", qs->too_many ? "too_many" : "too_long", "%s", e.msg);
    return qs;
}

void resource_query_parse(h2o_req_t *req, struct resource_query *q, resource_query_fn extra, void *ctx,
                          struct violations *v)
{
    memset(q, 0, sizeof(*q));
    q->limit = RESOURCE_LIMIT_DEFAULT;
    const struct query *qs = resource_query_string(req, v);
    if (qs == NULL)
        return;
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

int resource_page_row(void *ctx, const struct store_record *r)
{
    struct resource_page *pg = ctx;
    if (pg->rows >= pg->limit) {
        pg->more = 1;
        return 1;
    }
    resource_page_add(pg, r->document, r->document_len);
    snprintf(pg->last, sizeof(pg->last), "%s", r->id);
    return 0;
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

void resource_list(struct route_ctx *rc, const struct resource_desc *d, const struct resource_query *q,
                   struct violations *v, const struct store_filter *f, const char *next_query)
{
    if (q->cursor[0] != '\0' && !ids_is_uuid(q->cursor, strlen(q->cursor)))
        violations_add(v, "cursor", "invalid", "cursor is not one this server gave out");
    if (v->n > 0) {
        problem_send(rc->req, PROBLEM_VALIDATION, "the query is not valid", v);
        return;
    }
    struct resource_page pg = {.limit = q->limit};
    long long count = 0;
    struct err e = {0};
    if (store_doc_list(rc->w->store, d->kind, f, q->cursor[0] ? q->cursor : NULL, q->limit + 1, &count,
                       resource_page_row, &pg, &e) != 0) {
        free(pg.buf);
        routes_send_internal(rc, &e);
        return;
    }
    char next[256], cur[96];
    const char *nextp = NULL;
    if (pg.more) {
        resource_cursor(pg.last, cur);
        snprintf(next, sizeof(next), "%s?%slimit=%d&cursor=%s", d->base_path, next_query, q->limit, cur);
        nextp = next;
    }
    resource_page_send(rc, &pg, count, nextp);
}
