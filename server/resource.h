/*
 * server/resource.h - the HTTP plumbing every stored document resource
 * shares (characters, equipment items, campaigns, and the original API's
 * routes over them): load by id (404),
 * If-Match (412) then the body, GET with If-None-Match (304), a list page
 * {count, results, next} with an opaque cursor, and storing a new version with
 * its ETag and the write-completion path (Location, Sync-Status). The
 * resource's own rules and JSON live in its module; the store is
 * storage/store.h's store_doc_* API.
 */
#ifndef SERVER_RESOURCE_H
#define SERVER_RESOURCE_H

#include <jansson.h>

#include "rules/violations.h"
#include "server/query.h"
#include "server/routes.h"
#include "storage/store.h"

#define RESOURCE_LIMIT_DEFAULT 50
#define RESOURCE_LIMIT_MAX 500

/* A stored document as a write handler needs it; strings in req->pool. */
struct resource_stored {
    char id[40];
    long long version;
    const char *etag;
    json_t *doc; /* the parsed document (new reference; resource_stored_release) */
};

/* What a resource is called in messages and URLs, and its own answers. */
struct resource_desc {
    enum store_kind kind;
    const char *noun;      /* "equipment item" */
    const char *base_path; /* "/v1/equipment" */
    /* Answer a write the store refused with ERR_DUPLICATE (characters: a
     * reused roll id); NULL: such a refusal is a 500. */
    void (*on_duplicate)(struct route_ctx *rc);
};

/* The members the server sets on every version: NUL-terminated texts. */
struct resource_stamp {
    const char *id;
    long long version;
    const char *created_at, *updated_at;
};

/* A version's document text for stamp `s`, in req->pool, with *len. Must not fail. */
typedef const char *(*resource_text_fn)(struct route_ctx *rc, void *ctx, const struct resource_stamp *s, size_t *len);

/* A version to store. */
struct resource_write {
    const char *id;                  /* the stored row's id; NULL for a new row */
    long long version;               /* the stored version; 0 for a new row */
    const char *created_at;          /* the stored created_at (copied first: may point into doc); NULL: now */
    json_t *doc;                     /* the document (borrowed; its stamp members are set here), or NULL and: */
    resource_text_fn text;           /* the text of the document for a stamp */
    void *ctx;                       /* text's */
    const struct store_record *cols; /* the row's columns (name, ...; id/version/etag/document are filled in) */
};

/* A stored version. */
struct resource_written {
    char id[40];
    char etag[36];
    long long version;
    long long seq;    /* the outbox row, 0 when offline */
    const char *text; /* the stored document text, in req->pool */
    size_t len;
};

/*
 * GET {base}/{id}: the stored document with its ETag, 304 on If-None-Match,
 * 404 when unknown. In write-through mode an id this instance lacks is first
 * read through from HarperDB (the syncer stores it in SQLite).
 */
void resource_get(struct route_ctx *rc, const struct resource_desc *d);

/*
 * Write-through mode: row id[0..len) of `kind` is missing from SQLite, though
 * another instance may have written it. Unless this request has read that row
 * through already (or has asked for several), park the request
 * (worker_conn_busy), ask the syncer to bring the row from HarperDB into
 * SQLite, and run the route's handler again from the start when the syncer
 * answers (or the write timeout passes, or it cannot be reached): every check
 * (If-Match included) then runs against the rows as they are after the fetch.
 * 1 when parked: the caller answers nothing and returns (as after an answer).
 * 0 when the miss stands (offline mode, not a uuid, fetched already): answer
 * it (404 / 422). A handler that calls this (through resource_load and
 * resource_delete too) must do nothing a client could see before its misses:
 * no stored write, no response; its parsed body is kept for the next run.
 */
int resource_read_through(struct route_ctx *rc, enum store_kind kind, const char *id, size_t len);

/*
 * Load stored row id[0..len) of d's kind, its document parsed (a JSON object):
 * 0 and *st, or -1 after answering 404 ("no <noun> has that id") or 500, or
 * after parking the request to read the row through (resource_read_through).
 * Release st with resource_stored_release().
 */
int resource_load(struct route_ctx *rc, const struct resource_desc *d, const char *id, size_t len,
                  struct resource_stored *st);

/*
 * Load {id} (404 unless a stored uuid), check If-Match (412), then take the
 * body when the route has one (400/413): the order API.md gives. 0 and *st, or
 * -1 when answered. Release st with resource_stored_release().
 */
int resource_load_for_write(struct route_ctx *rc, const struct resource_desc *d, struct resource_stored *st);

void resource_stored_release(struct resource_stored *st);

/*
 * Store w as a new row (w->id NULL: a fresh uuid, retried on a collision) or
 * as version w->version + 1 of row w->id, with now as updated_at (and as
 * created_at of a new row). 0 with *out, the ETag header and, for a new row,
 * Location: {base_path}/{id} added; else the store's code (ERR_CONFLICT: the
 * row changed meanwhile, ERR_NOT_FOUND, ERR_DUPLICATE, ...) with e set and
 * nothing answered.
 */
int resource_store(struct route_ctx *rc, const struct resource_desc *d, const struct resource_write *w,
                   struct resource_written *out, struct err *e);

/*
 * resource_store, then answer: the document with its ETag and Sync-Status
 * (201 + Location for a new row, else 200); 412 when the row changed
 * meanwhile, 404 when it is gone, d->on_duplicate for ERR_DUPLICATE, else 500.
 */
void resource_commit_write(struct route_ctx *rc, const struct resource_desc *d, const struct resource_write *w);

/*
 * resource_commit_write of `doc` (borrowed; its id, version, created_at and
 * updated_at are set here) as a new row (st NULL) or as version
 * st->version + 1 keeping st's created_at, with `cols` giving the row's columns.
 */
void resource_commit(struct route_ctx *rc, const struct resource_desc *d, json_t *doc, const struct resource_stored *st,
                     const struct store_record *cols);

/* DELETE {base}/{id}: If-Match, then 204 (the stored document is not parsed); a missing row is read through. */
void resource_delete(struct route_ctx *rc, const struct resource_desc *d);

/*
 * The request's query string parsed (server/query.h; in req->pool), or NULL
 * when it has none. A query query_parse() refuses adds too_long / too_many
 * (field "") to v and is still given with what query_parse() kept.
 */
const struct query *resource_query_string(h2o_req_t *req, struct violations *v);

/*
 * The common query parameters of a list: limit (1..500, default 50) and
 * cursor (opaque: base64url of a text of at most 60 bytes this server made).
 * Other keys go to `extra` (may be NULL: then they are unknown_field), which
 * returns 0 when it took the key, -1 when not. Problems go to v.
 */
struct resource_query {
    int limit;
    char cursor[64]; /* decoded cursor text, "" when none */
};
typedef int (*resource_query_fn)(void *ctx, const char *key, const char *val, size_t vlen, struct violations *v);
void resource_query_parse(h2o_req_t *req, struct resource_query *q, resource_query_fn extra, void *ctx,
                          struct violations *v);

/* The base64url cursor for text (at most 60 bytes) into out[96]. */
void resource_cursor(const char *text, char out[96]);

/*
 * A growable JSON-text list of results (bounded by the row count the caller
 * asks for): the rows' texts joined by commas; `limit` rows at most, `more`
 * set when the store had another, `last` the id of the last row listed.
 */
struct resource_page {
    char *buf;
    size_t len, cap;
    int rows, limit, more;
    char last[40];
};
void resource_page_add(struct resource_page *pg, const char *text, size_t len);

/* A store_row_fn over a struct resource_page: adds r's document (and notes its id) while there is room; else sets more
 * and stops. */
int resource_page_row(void *pg, const struct store_record *r);

/* Send {"count": count, "results": [page], "next": next (NULL: null)}; frees the page. */
void resource_page_send(struct route_ctx *rc, struct resource_page *pg, long long count, const char *next);

/*
 * GET {base}: unless v holds problems or q->cursor is not a uuid (422 with
 * every problem), one page of d's rows matching f after the
 * cursor, with next = {base}?{next_query}limit=N&cursor=C when more follow
 * (next_query: "" or "key=value&" of the filters given, our own text).
 */
void resource_list(struct route_ctx *rc, const struct resource_desc *d, const struct resource_query *q,
                   struct violations *v, const struct store_filter *f, const char *next_query);

#endif
