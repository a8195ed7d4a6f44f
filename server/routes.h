/*
 * server/routes.h - the route table and the request pipeline in front of every
 * handler: request id, routing (404/405), auth (401/403), media type (415),
 * then, for the routes that change a stored character (PUT, PATCH, DELETE,
 * level-up), If-Match against it (412) in the handler, then body size (413)
 * and JSON parsing (400): the order API.md gives.
 */
#ifndef SERVER_ROUTES_H
#define SERVER_ROUTES_H

#define H2O_USE_LIBUV 0
#include <h2o.h>
#include <jansson.h>

#include "server/auth.h"
#include "server/router.h"
#include "server/worker.h"

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

#endif
