/*
 * server/http.h - small helpers over libh2o for JSON responses and request
 * bodies: every response carries Content-Length; request JSON is parsed with
 * bounds (size checked by the caller, nesting depth here, UTF-8 by jansson).
 */
#ifndef SERVER_HTTP_H
#define SERVER_HTTP_H

#define H2O_USE_LIBUV 0
#include <h2o.h>
#include <jansson.h>

#define HTTP_MAX_JSON_DEPTH 32

/* When set, every response is logged (method, path, status, request id): log.access. */
extern int http_access_log;

/* Add a response header (name lower-case, static or pool-owned strings). */
void http_add_header(h2o_req_t *req, const char *name, const char *value);

/* Add a header whose value is copied into req->pool. */
void http_add_header_copy(h2o_req_t *req, const char *name, const char *value, size_t len);

/* Send `body` with status and type (Content-Length set; none on a 304); `body` must live as long as the request
 * (in req->pool or static storage): it is not copied. */
void http_send(h2o_req_t *req, int status, const char *content_type, const char *body, size_t len);

/* Serialize `v` compactly (borrowed) and send it. */
void http_send_json_value(h2o_req_t *req, int status, const char *content_type, json_t *v);

/* Find a request header by lower-case name; 1 and *out when present. */
int http_header(h2o_req_t *req, const char *name, h2o_iovec_t *out);

/*
 * 1 when `ct` names application/json, or, with allow_merge_patch,
 * application/merge-patch+json (case-insensitive, parameters allowed; a
 * charset parameter must be utf-8).
 */
int http_is_json_type(const char *ct, size_t len, int allow_merge_patch);

/*
 * Parse a request body as JSON. Returns a new reference, or NULL with a message
 * in `msg` ("nesting deeper than 32 levels", "invalid JSON at line 1 column 5: ...").
 * Invalid UTF-8 and duplicate object keys are refused.
 */
json_t *http_parse_json(const char *body, size_t len, char *msg, size_t msglen);

#endif
