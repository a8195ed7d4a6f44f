/*
 * server/router.h - a route table matched against method and path. Patterns
 * are literal segments and `{name}` placeholders that match one non-empty
 * segment. The table is data; the router knows nothing of what handlers do.
 */
#ifndef SERVER_ROUTER_H
#define SERVER_ROUTER_H

#include <stddef.h>

#define ROUTER_MAX_PARAMS 4

/* Route flags: how the dispatcher treats a request before its handler runs. */
enum {
    ROUTE_PUBLIC = 1 << 0,       /* no token needed (/healthz, /readyz) */
    ROUTE_WRITE = 1 << 1,        /* changes state: needs a write-scope token */
    ROUTE_JSON_BODY = 1 << 2,    /* takes a JSON body (415 for other media types) */
    ROUTE_MERGE_PATCH = 1 << 3,  /* also accepts application/merge-patch+json */
    ROUTE_BODY_OPTIONAL = 1 << 4, /* an empty body is allowed */
    ROUTE_REFERENCE = 1 << 5      /* SRD reference data: public when auth.public_reference is on */
};

struct route_ctx;
typedef void (*route_handler)(struct route_ctx *rc);

struct route {
    const char *method;     /* "GET", "POST", ... */
    const char *pattern;    /* "/v1/characters/{id}" */
    route_handler handler;
    unsigned flags;
};

struct route_param {
    const char *base;
    size_t len;
};

enum router_result { ROUTER_FOUND = 0, ROUTER_NO_PATH = 1, ROUTER_NO_METHOD = 2 };

struct route_match {
    const struct route *route;               /* set when ROUTER_FOUND */
    struct route_param params[ROUTER_MAX_PARAMS];
    size_t nparams;
    char allow[96];                          /* "GET, HEAD, POST" when ROUTER_NO_METHOD */
    unsigned path_flags;                     /* flags shared by every route on the path (NO_METHOD) */
};

/*
 * Match method and path (no query string) against `routes[0..n)`. Returns
 * ROUTER_FOUND and fills m->route and m->params, ROUTER_NO_METHOD with m->allow
 * listing the methods the path does have, or ROUTER_NO_PATH.
 */
enum router_result router_match(const struct route *routes, size_t n, const char *method, size_t mlen, const char *path,
                                size_t plen, struct route_match *m);

#endif
