/*
 * server/routes.h - the route table and the request pipeline in front of every
 * handler: request id, routing (404/405), auth (401/403), media type (415),
 * then, for the routes that change a stored resource (PUT, PATCH, DELETE,
 * actions), If-Match against it (412) in the handler, then body size (413)
 * and JSON parsing (400): the order API.md gives. The handlers live in their
 * resources' modules (characters, rolls, equipment, campaigns, compat).
 */
#ifndef SERVER_ROUTES_H
#define SERVER_ROUTES_H

#define H2O_USE_LIBUV 0
#include <h2o.h>
#include <jansson.h>

#include "server/auth.h"
#include "server/router.h"
#include "server/worker.h"

/* routes.c's own flag beside router.h's: the handler checks If-Match against the
 * stored resource before it parses the body (API.md: 412 comes before 400/413/422);
 * such a handler calls routes_take_body() itself. */
#define ROUTE_PRECONDITIONS (1u << 16)

/* What a handler gets: the request, its worker, route params, the parsed body. */
struct route_ctx {
    h2o_req_t *req;
    struct worker *w;
    struct route_match match;
    enum auth_scope scope;
    json_t *body;            /* parsed JSON body or NULL; owned by the pipeline */
    const char *request_id;  /* NUL-terminated, in req->pool */
};

/* Handle one request end to end; always sends exactly one response. Returns 0. */
int routes_dispatch(struct worker *w, h2o_req_t *req);

/* The registered route table (for tests and the OpenAPI check). */
const struct route *routes_table(size_t *n);

/*
 * The pipeline's pieces, shared by every handler (mostly through
 * server/resource.c) so every route answers alike.
 */

/* Log e and answer 500 naming the request id. */
void routes_send_internal(struct route_ctx *rc, const struct err *e);

/* Size (413) and parse (400) the body into rc->body (routes with ROUTE_PRECONDITIONS); 0 to go on, -1 when answered. */
int routes_take_body(struct route_ctx *rc);

/* 1 when an If-None-Match / If-Match list names `etag` (or is "*"). */
int routes_etag_matches(h2o_iovec_t list, const char *etag);

/* If-Match against the stored resource's strong ETag: 0 to go on, -1 when answered 412 (with the current ETag). */
int routes_check_if_match(struct route_ctx *rc, const char *etag);

/*
 * Answer a committed write (status 200, 201 or 204 with body text[0..len) in
 * req->pool): Sync-Status off at once when seq <= 0, else synced / pending
 * when the syncer acknowledges outbox row `seq` or the write timeout passes.
 */
void routes_finish_write(struct route_ctx *rc, int status, long long seq, long long version, const char *id,
                         const char *text, size_t len);

/* Refuse (422 unknown_field / wrong_type) a body that is not an object or has members outside `allowed`; 1 when answered. */
int routes_refuse_unknown_fields(struct route_ctx *rc, const char *const *allowed);

/* RFC 7396 merge patch: `patch` (borrowed) applied to `target` (stolen); the result is a new reference. */
json_t *routes_merge_patch(json_t *target, const json_t *patch);

#endif
