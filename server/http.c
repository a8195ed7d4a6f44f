/*
 * server/http.c - see http.h.
 */
#include "server/http.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "common/log.h"
#include "server/metrics.h"

/* h2o keeps well-known header names as interned tokens; use them when the name is one. */
static void add(h2o_req_t *req, const char *name, const char *value, size_t len)
{
    size_t nlen = strlen(name);
    const h2o_token_t *tok = h2o_lookup_token(name, nlen);
    if (tok != NULL)
        h2o_add_header(&req->pool, &req->res.headers, tok, NULL, value, len);
    else
        h2o_add_header_by_str(&req->pool, &req->res.headers, name, nlen, 0, NULL, value, len);
}

void http_add_header(h2o_req_t *req, const char *name, const char *value)
{
    add(req, name, value, strlen(value));
}

void http_add_header_copy(h2o_req_t *req, const char *name, const char *value, size_t len)
{
    h2o_iovec_t v = h2o_strdup(&req->pool, value, len);
    add(req, name, v.base, v.len);
}

static const char *reason(int status)
{
    switch (status) {
    case 200: return "OK";
    case 201: return "Created";
    case 204: return "No Content";
    case 304: return "Not Modified";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 412: return "Precondition Failed";
    case 413: return "Content Too Large";
    case 415: return "Unsupported Media Type";
    case 422: return "Unprocessable Content";
    case 503: return "Service Unavailable";
    default: return status >= 500 ? "Internal Server Error" : "Unknown";
    }
}

int http_access_log;

/* One access-log line; the request id is the one already set on the response. */
static void access_log(h2o_req_t *req, int status)
{
    ssize_t i = h2o_find_header_by_str(&req->res.headers, H2O_STRLIT("x-request-id"), -1);
    h2o_iovec_t id = i >= 0 ? req->res.headers.entries[i].value : h2o_iovec_init(H2O_STRLIT("-"));
    log_info("%.*s %.*s %d %.*s", (int)req->method.len, req->method.base, (int)req->path_normalized.len,
             req->path_normalized.base, status, (int)id.len, id.base);
}

void http_send(h2o_req_t *req, int status, const char *content_type, const char *body, size_t len)
{
    metrics_request_done(req, status);
    if (http_access_log)
        access_log(req, status);
    req->res.status = status;
    req->res.reason = reason(status);
    if (content_type != NULL)
        h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CONTENT_TYPE, NULL, content_type, strlen(content_type));
    /* A 304 carries no body and must not claim a length of 0 (RFC 9110 8.6): send none. */
    req->res.content_length = status == 304 ? SIZE_MAX : len;
    /* The body already lives in req->pool or static storage: send it without another copy. */
    static h2o_generator_t generator = {NULL, NULL};
    h2o_iovec_t buf = h2o_iovec_init(body, len);
    /* HEAD: the headers (Content-Length included) but no body bytes. libh2o 2.2 does not
     * drop them itself, and a body after a HEAD answer would be read by a keep-alive
     * client as the start of its next response. */
    if (h2o_memis(req->method.base, req->method.len, H2O_STRLIT("HEAD")))
        buf.len = 0;
    h2o_start_response(req, &generator);
    h2o_send(req, &buf, 1, 1);
}

void http_send_json_value(h2o_req_t *req, int status, const char *content_type, json_t *v)
{
    /* Reals (ages in seconds) with 6 significant digits, not jansson's 17. */
    size_t flags = JSON_COMPACT | JSON_REAL_PRECISION(6);
    size_t need = json_dumpb(v, NULL, 0, flags);
    char *buf = h2o_mem_alloc_pool(&req->pool, need + 1);
    size_t len = json_dumpb(v, buf, need, flags);
    http_send(req, status, content_type, buf, len);
}

int http_header(h2o_req_t *req, const char *name, h2o_iovec_t *out)
{
    const h2o_token_t *tok = h2o_lookup_token(name, strlen(name));
    ssize_t i = tok != NULL ? h2o_find_header(&req->headers, tok, -1)
                            : h2o_find_header_by_str(&req->headers, name, strlen(name), -1);
    if (i < 0)
        return 0;
    *out = req->headers.entries[i].value;
    return 1;
}

static int lc_prefix(const char *s, size_t len, const char *lit)
{
    size_t n = strlen(lit);
    return len >= n && strncasecmp(s, lit, n) == 0;
}

int http_is_json_type(const char *ct, size_t len, int allow_merge_patch)
{
    size_t base;
    if (lc_prefix(ct, len, "application/json"))
        base = strlen("application/json");
    else if (allow_merge_patch && lc_prefix(ct, len, "application/merge-patch+json"))
        base = strlen("application/merge-patch+json");
    else
        return 0;
    size_t i = base;
    while (i < len && (ct[i] == ' ' || ct[i] == '\t'))
        i++;
    if (i == len)
        return 1;
    if (ct[i] != ';')
        return 0;
    /* Parameters: only a charset is meaningful, and it must be UTF-8. */
    const char *p = ct + i;
    size_t plen = len - i;
    for (size_t k = 0; k + 8 <= plen; k++) {
        if (strncasecmp(p + k, "charset=", 8) == 0) {
            const char *v = p + k + 8;
            size_t vlen = plen - k - 8;
            if (vlen > 0 && v[0] == '"') {
                v++;
                vlen--;
            }
            return lc_prefix(v, vlen, "utf-8") || lc_prefix(v, vlen, "utf8");
        }
    }
    return 1;
}

/* Deepest nesting of arrays/objects in `s`, stopping early once past `limit`. */
static int json_depth(const char *s, size_t len, int limit)
{
    int depth = 0, in_str = 0;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (in_str) {
            if (c == '\\')
                i++;
            else if (c == '"')
                in_str = 0;
        } else if (c == '"') {
            in_str = 1;
        } else if (c == '[' || c == '{') {
            if (++depth > limit)
                return depth;
        } else if (c == ']' || c == '}') {
            depth--;
        }
    }
    return depth;
}

json_t *http_parse_json(const char *body, size_t len, char *msg, size_t msglen)
{
    if (json_depth(body, len, HTTP_MAX_JSON_DEPTH) > HTTP_MAX_JSON_DEPTH) {
        snprintf(msg, msglen, "JSON nesting deeper than %d levels", HTTP_MAX_JSON_DEPTH);
        return NULL;
    }
    json_error_t jerr;
    json_t *v = json_loadb(body, len, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, &jerr);
    if (v == NULL)
        snprintf(msg, msglen, "invalid JSON at line %d column %d: %s", jerr.line, jerr.column, jerr.text);
    return v;
}
