/*
 * tests/e2e/rest_helpers.h - small request and assertion helpers shared by
 * the e2e suites of /v1/equipment and /v1/campaigns (test_equipment.c,
 * test_campaigns.c): one server per suite in `srv`, requests with the write
 * or read token, problem+json checks. Static functions: each suite gets its
 * own copy. Include after cmocka.h and harness.h.
 */
#ifndef TESTS_E2E_REST_HELPERS_H
#define TESTS_E2E_REST_HELPERS_H

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

static struct harness_server srv;
static char auth_write[128], auth_read[128];

static int rest_setup(const char *suite)
{
    struct harness_options o = {.workers = 2};
    return harness_group_start(&srv, &o, suite, auth_write, auth_read, sizeof(auth_write));
}

static int rest_teardown(void **state)
{
    (void)state;
    harness_server_cleanup(&srv);
    harness_cleanup_all();
    return 0;
}

/* One request with up to three headers (NULL ends them); checks X-Request-Id and Content-Length. */
static void req(struct http_response *r, const char *method, const char *path, const char *h1, const char *h2,
                const char *h3, const char *body)
{
    const char *h[4] = {h1, h2, h3, NULL};
    char url[2048], v[256];
    snprintf(url, sizeof(url), "%s%s", srv.base_url, path);
    if (http_request(method, url, h, body, body != NULL ? strlen(body) : 0, r) != 0)
        fail_msg("%s %s: no response: %s", method, path, r->error);
    if (!http_response_header(r, "x-request-id", v, sizeof(v)) || v[0] == '\0')
        fail_msg("%s %s: %ld response has no X-Request-Id", method, path, r->status);
    if (r->status != 304 && r->status != 204 && strcmp(method, "HEAD") != 0 &&
        (!http_response_header(r, "content-length", v, sizeof(v)) || strtoull(v, NULL, 10) != r->body_len))
        fail_msg("%s %s: %ld response: Content-Length does not match the body", method, path, r->status);
}

/* A write with the write token and Content-Type: application/json. */
static void send_json(struct http_response *r, const char *method, const char *path, const char *body)
{
    req(r, method, path, auth_write, "Content-Type: application/json", NULL, body);
}

static void get_read(struct http_response *r, const char *path)
{
    req(r, "GET", path, auth_read, NULL, NULL, NULL);
}

static json_t *body_json(const struct http_response *r)
{
    json_t *j = harness_json(r);
    if (j == NULL)
        fail_msg("%ld response is not JSON: %.300s", r->status, r->body);
    return j;
}

/* The body of a response that must have `status` (caller decrefs); releases r. */
static json_t *expect_json(struct http_response *r, long status, const char *what)
{
    if (r->status != status)
        fail_msg("%s: expected %ld, got %ld: %.600s", what, status, r->status, r->body);
    json_t *j = body_json(r);
    http_response_release(r);
    return j;
}

/* A problem+json with `status` (caller decrefs); releases r. */
static json_t *expect_problem(struct http_response *r, long status, const char *what)
{
    if (r->status != status)
        fail_msg("%s: expected %ld, got %ld: %.600s", what, status, r->status, r->body);
    char ct[128];
    if (!http_response_header(r, "content-type", ct, sizeof(ct)) || strncmp(ct, "application/problem+json", 24) != 0)
        fail_msg("%s: %ld response is not application/problem+json", what, status);
    json_t *j = body_json(r);
    if (json_integer_value(json_object_get(j, "status")) != status)
        fail_msg("%s: the problem's status member is not %ld", what, status);
    http_response_release(r);
    return j;
}

static void expect_status(struct http_response *r, long status, const char *what)
{
    json_decref(expect_problem(r, status, what));
}

/* Assert a 422 lists (field, code). */
static void expect_error(const json_t *problem, const char *field, const char *code)
{
    if (!harness_problem_has(problem, field, code)) {
        char *text = json_dumps(problem, JSON_COMPACT);
        fail_msg("no error {field %s, code %s} in %s", field, code, text);
    }
}

/* A 422 for `body` sent with method to path that lists (field, code). */
static void expect_422(const char *method, const char *path, const char *body, const char *field, const char *code)
{
    struct http_response r;
    send_json(&r, method, path, body);
    char what[256];
    snprintf(what, sizeof(what), "%s %s %.120s", method, path, body);
    json_t *p = expect_problem(&r, 422, what);
    expect_error(p, field, code);
    json_decref(p);
}

static long long int_of(const json_t *o, const char *key)
{
    const json_t *x = json_object_get(o, key);
    if (!json_is_integer(x))
        fail_msg("member %s is not an integer", key);
    return json_integer_value(x);
}

static const char *str_of(const json_t *o, const char *key)
{
    const json_t *x = json_object_get(o, key);
    if (!json_is_string(x))
        fail_msg("member %s is not a string", key);
    return json_string_value(x);
}

static void header_of(const struct http_response *r, const char *name, char *out, size_t outlen)
{
    if (!http_response_header(r, name, out, outlen))
        fail_msg("%ld response has no %s header", r->status, name);
}

/* The common error statuses of a write route on an existing resource at path (its ETag current_etag). */
static void check_write_errors(const char *method, const char *path, const char *good_body)
{
    struct http_response r;
    char what[256];
    snprintf(what, sizeof(what), "%s %s", method, path);
    /* 401: no token, a wrong token */
    req(&r, method, path, "Content-Type: application/json", NULL, NULL, good_body);
    expect_status(&r, 401, what);
    req(&r, method, path, "Authorization: Bearer not-a-token", "Content-Type: application/json", NULL, good_body);
    expect_status(&r, 401, what);
    /* 403: a read token on a write */
    req(&r, method, path, auth_read, "Content-Type: application/json", NULL, good_body);
    expect_status(&r, 403, what);
    if (good_body != NULL) {
        /* 415: not JSON */
        req(&r, method, path, auth_write, "Content-Type: text/plain", NULL, good_body);
        expect_status(&r, 415, what);
        /* 400: not JSON text, an empty body */
        send_json(&r, method, path, "{\"name\": ");
        expect_status(&r, 400, what);
        send_json(&r, method, path, "");
        expect_status(&r, 400, what);
    }
    /* 412: a stale If-Match */
    req(&r, method, path, auth_write, "Content-Type: application/json", "If-Match: \"0000stale\"", good_body);
    expect_status(&r, 412, what);
}

#endif
