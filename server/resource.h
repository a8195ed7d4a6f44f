/*
 * server/resource.h - the HTTP plumbing every stored document resource
 * besides characters shares (equipment items, campaigns): load by id (404),
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
#include "server/routes.h"
#include "storage/store.h"

#define RESOURCE_LIMIT_DEFAULT 50
#define RESOURCE_LIMIT_MAX 500

/* A stored document as a write handler needs it; strings in req->pool. */
struct resource_stored {
    char id[40];
    long long version;
    const char *etag;
    json_t *doc;  /* the parsed document (new reference; resource_stored_release) */
};

/* What a resource is called in messages and URLs. */
struct resource_desc {
    enum store_kind kind;
    const char *noun;       /* "equipment item" */
    const char *base_path;  /* "/v1/equipment" */
};

/*
 * GET {base}/{id}: the stored document with its ETag, 304 on If-None-Match,
 * 404 when unknown. In write-through mode an id this instance lacks is first
 * read through from HarperDB (the syncer stores it in SQLite), as characters are.
 */
void resource_get(struct route_ctx *rc, const struct resource_desc *d);

/*
 * Load {id} (404 unless a stored uuid), check If-Match (412), then take the
 * body when the route has one (400/413): the order API.md gives. 0 and *st, or
 * -1 when answered. Release st with resource_stored_release().
 */
int resource_load_for_write(struct route_ctx *rc, const struct resource_desc *d, struct resource_stored *st);

void resource_stored_release(struct resource_stored *st);

/*
 * Store `doc` (borrowed; its id, version, created_at and updated_at are set
 * here) as a new row (st NULL: 201 + Location) or as version st->version + 1
 * (200; 412 when it changed meanwhile), with `cols` giving the row's columns
 * (name, equip_type, ... ; id/version/etag/document are filled in), and answer
 * with the document, its ETag and Sync-Status.
 */
void resource_commit(struct route_ctx *rc, const struct resource_desc *d, json_t *doc, const struct resource_stored *st,
                     const struct store_record *cols);

/* DELETE {base}/{id}: If-Match, then 204. */
void resource_delete(struct route_ctx *rc, const struct resource_desc *d);

/*
 * The common query parameters of a list: limit (1..500, default 50) and
 * cursor (opaque: base64url of a text of at most 60 bytes this server made).
 * Other keys go to `extra` (may be NULL: then they are unknown_field), which
 * returns 0 when it took the key, -1 when not. Problems go to v.
 */
struct resource_query {
    int limit;
    char cursor[64];   /* decoded cursor text, "" when none */
};
typedef int (*resource_query_fn)(void *ctx, const char *key, const char *val, size_t vlen, struct violations *v);
void resource_query_parse(h2o_req_t *req, struct resource_query *q, resource_query_fn extra, void *ctx,
                          struct violations *v);

/* The base64url cursor for text (at most 60 bytes) into out[96]. */
void resource_cursor(const char *text, char out[96]);

/* A growable JSON-text list of results (bounded by the row count the caller asks for). */
struct resource_page {
    char *buf;
    size_t len, cap;
    int rows;
};
void resource_page_add(struct resource_page *pg, const char *text, size_t len);

/* Send {"count": count, "results": [page], "next": next (NULL: null)}; frees the page. */
void resource_page_send(struct route_ctx *rc, struct resource_page *pg, long long count, const char *next);

#endif
