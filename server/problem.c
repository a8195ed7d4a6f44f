/*
 * server/problem.c - see problem.h. The table below is the whole mapping.
 */
#include "server/problem.h"

#include <jansson.h>
#include <string.h>

#include "common/err.h"
#include "server/http.h"

static const struct {
    int status;
    const char *title;
    const char *type;
} kinds[PROBLEM_KIND_COUNT] = {
    [PROBLEM_BAD_REQUEST] = {400, "Bad Request", "about:blank"},
    [PROBLEM_UNAUTHORIZED] = {401, "Unauthorized", "about:blank"},
    [PROBLEM_FORBIDDEN] = {403, "Forbidden", "about:blank"},
    [PROBLEM_NOT_FOUND] = {404, "Not Found", "about:blank"},
    [PROBLEM_METHOD_NOT_ALLOWED] = {405, "Method Not Allowed", "about:blank"},
    [PROBLEM_PRECONDITION_FAILED] = {412, "Precondition Failed", "about:blank"},
    [PROBLEM_TOO_LARGE] = {413, "Content Too Large", "about:blank"},
    [PROBLEM_UNSUPPORTED_MEDIA] = {415, "Unsupported Media Type", "about:blank"},
    [PROBLEM_VALIDATION] = {422, "Unprocessable Content", "urn:character-api:problem:validation"},
    [PROBLEM_INTERNAL] = {500, "Internal Server Error", "about:blank"},
    [PROBLEM_UNAVAILABLE] = {503, "Service Unavailable", "about:blank"},
};

int problem_status(enum problem_kind kind)
{
    return kinds[kind].status;
}

enum problem_kind problem_from_err(int code)
{
    switch (code) {
    case ERR_INVALID: return PROBLEM_BAD_REQUEST;
    case ERR_NOT_FOUND: return PROBLEM_NOT_FOUND;
    case ERR_CONFLICT: return PROBLEM_PRECONDITION_FAILED;
    case ERR_TOO_LARGE: return PROBLEM_TOO_LARGE;
    case ERR_UNAVAILABLE: return PROBLEM_UNAVAILABLE;
    default: return PROBLEM_INTERNAL;
    }
}

/* A JSON string of `s`, cut before the first byte that is not valid UTF-8 (a
 * message truncated to its buffer may end inside a character). New reference. */
static json_t *utf8_string(const char *s)
{
    size_t len = strlen(s);
    json_t *j = json_stringn(s, len);
    while (j == NULL && len > 0)
        j = json_stringn(s, --len);
    return j != NULL ? j : json_string("");
}

json_t *problem_errors_json(const struct violations *v)
{
    json_t *list = json_array();
    for (size_t i = 0; i < v->n; i++) {
        json_t *x = json_object();
        json_object_set_new(x, "field", utf8_string(v->items[i].field));
        json_object_set_new(x, "code", json_string(v->items[i].code));
        json_object_set_new(x, "message", utf8_string(v->items[i].message));
        json_array_append_new(list, x);
    }
    return list;
}

void problem_send(h2o_req_t *req, enum problem_kind kind, const char *detail, const struct violations *v)
{
    json_t *o = json_object();
    json_object_set_new(o, "type", json_string(kinds[kind].type));
    json_object_set_new(o, "title", json_string(kinds[kind].title));
    json_object_set_new(o, "status", json_integer(kinds[kind].status));
    json_object_set_new(o, "detail", json_string(detail != NULL ? detail : kinds[kind].title));
    if (v != NULL) {
        json_object_set_new(o, "errors", problem_errors_json(v));
        if (v->truncated)
            json_object_set_new(o, "errors_truncated", json_true());
    }
    if (kind == PROBLEM_UNAUTHORIZED)
        http_add_header(req, "www-authenticate", "Bearer realm=\"character-api\"");
    http_send_json_value(req, kinds[kind].status, "application/problem+json", o);
    json_decref(o);
}
