/*
 * tests/e2e/test_e2e.c - end-to-end tests of the built character-server: a real
 * master with two workers on a loopback port, driven over HTTP with libcurl
 * (see harness.h). One server is shared by most tests (group setup/teardown);
 * tests that need their own configuration, or that stop or break a server,
 * start their own and clean it up in their teardown. Each assertion checks
 * something a client or an operator would notice.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <ctype.h>
#include <errno.h>
#include <jansson.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"

#define MIB (1024u * 1024u)

static struct harness_server srv; /* shared by the group */
static struct harness_server aux; /* a test's own server, removed by aux_teardown */
static char auth_write[128], auth_read[128];

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* ---- helpers ---- */

/* Every response must carry X-Request-Id and a Content-Length that matches its body. */
static void check_common(const struct http_response *r, const char *method, const char *path)
{
    char v[256];
    if (!http_response_header(r, "x-request-id", v, sizeof(v)) || v[0] == '\0')
        fail_msg("%s %s: %ld response has no X-Request-Id", method, path, r->status);
    if (r->status == 304) {
        /* RFC 9110 8.6: a 304 may omit Content-Length; when sent it must not claim an empty 200 body. */
        if (http_response_header(r, "content-length", v, sizeof(v)) && strtoull(v, NULL, 10) == 0)
            fail_msg("%s %s: 304 says Content-Length: 0, but the 200 body is not empty", method, path);
        return;
    }
    if (!http_response_header(r, "content-length", v, sizeof(v)))
        fail_msg("%s %s: %ld response has no Content-Length", method, path, r->status);
    /* A HEAD response states the GET body's length but carries no body. */
    if (strcmp(method, "HEAD") != 0 && strtoull(v, NULL, 10) != r->body_len)
        fail_msg("%s %s: Content-Length %s but %zu body bytes", method, path, v, r->body_len);
}

/* One request to server `s` on a fresh connection; fails the test on a transport error. */
static void req_to(const struct harness_server *s, struct http_response *r, const char *method, const char *path,
                   const char *const *headers, const void *body, size_t len)
{
    char url[1024];
    snprintf(url, sizeof(url), "%s%s", s->base_url, path);
    if (http_request(method, url, headers, body, len, r) != 0)
        fail_msg("%s %s: no response: %s", method, path, r->error);
    check_common(r, method, path);
}

static void req(struct http_response *r, const char *method, const char *path, const char *const *headers,
                const void *body, size_t len)
{
    req_to(&srv, r, method, path, headers, body, len);
}

/* POST a JSON text with the write token. */
static void post_json(struct http_response *r, const char *path, const char *json)
{
    const char *h[] = {auth_write, "Content-Type: application/json", NULL};
    req(r, "POST", path, h, json, strlen(json));
}

static void header_or_fail(const struct http_response *r, const char *name, char *out, size_t outlen)
{
    if (!http_response_header(r, name, out, outlen))
        fail_msg("%ld response has no %s header; headers:\n%s", r->status, name, r->headers);
}

/*
 * Assert a problem+json response with this status: RFC 9457 members present and
 * "status" equal to the HTTP status. Returns the parsed body (caller decrefs).
 */
static json_t *expect_problem(const struct http_response *r, long status)
{
    if (r->status != status)
        fail_msg("expected %ld, got %ld: %.*s", status, r->status, (int)(r->body_len > 400 ? 400 : r->body_len),
                 r->body);
    char ct[128];
    header_or_fail(r, "content-type", ct, sizeof(ct));
    if (strncmp(ct, "application/problem+json", 24) != 0)
        fail_msg("%ld response has Content-Type %s, not application/problem+json", status, ct);
    json_t *j = harness_json(r);
    if (!json_is_object(j))
        fail_msg("%ld problem body is not a JSON object: %s", status, r->body);
    assert_int_equal(json_integer_value(json_object_get(j, "status")), status);
    assert_true(json_is_string(json_object_get(j, "type")));
    assert_true(json_is_string(json_object_get(j, "title")));
    assert_true(json_is_string(json_object_get(j, "detail")));
    return j;
}

static void expect_problem_only(const struct http_response *r, long status)
{
    json_decref(expect_problem(r, status));
}

static int is_uuid_v4(const char *s)
{
    if (strlen(s) != 36)
        return 0;
    for (int i = 0; i < 36; i++) {
        char c = s[i];
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (c != '-')
                return 0;
        } else if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
            return 0;
        }
    }
    return s[14] == '4' && strchr("89ab", s[19]) != NULL;
}

/* RFC 3339 date-time: YYYY-MM-DDTHH:MM:SS[.frac](Z|+HH:MM|-HH:MM). */
static int is_rfc3339(const char *s)
{
    if (s == NULL)
        return 0;
    const char *pat = "dddd-dd-ddTdd:dd:dd";
    for (size_t i = 0; pat[i] != '\0'; i++)
        if (pat[i] == 'd' ? !isdigit((unsigned char)s[i]) : s[i] != pat[i])
            return 0;
    const char *p = s + 19;
    if (*p == '.') {
        p++;
        if (!isdigit((unsigned char)*p))
            return 0;
        while (isdigit((unsigned char)*p))
            p++;
    }
    if (strcmp(p, "Z") == 0)
        return 1;
    return (p[0] == '+' || p[0] == '-') && isdigit((unsigned char)p[1]) && isdigit((unsigned char)p[2]) &&
           p[3] == ':' && isdigit((unsigned char)p[4]) && isdigit((unsigned char)p[5]) && p[6] == '\0';
}

/* Create a character from `json`; asserts 201 and copies the id (and ETag when etag != NULL). */
/* A valid build named `name` (JSON-escaped), in one of a few rotating buffers. */
static const char *build_named(const char *name)
{
    static char buf[8][2048];
    static unsigned k;
    char *b = buf[k++ & 7];
    snprintf(b, sizeof(buf[0]), HARNESS_BUILD_FMT, name);
    return b;
}

static void create_character(const char *json, char id[64], char *etag, size_t etaglen)
{
    struct http_response r;
    post_json(&r, "/v1/characters", json);
    if (r.status != 201)
        fail_msg("create %s: expected 201, got %ld: %s", json, r.status, r.body);
    char loc[256];
    header_or_fail(&r, "location", loc, sizeof(loc));
    const char *prefix = "/v1/characters/";
    if (strncmp(loc, prefix, strlen(prefix)) != 0)
        fail_msg("Location %s is not under %s", loc, prefix);
    snprintf(id, 64, "%.63s", loc + strlen(prefix));
    if (etag != NULL)
        header_or_fail(&r, "etag", etag, etaglen);
    http_response_release(&r);
}

/* ---- fixtures ---- */

static int group_setup(void **state)
{
    (void)state;
    struct harness_options o = {.workers = 2};
    return harness_group_start(&srv, &o, "e2e", auth_write, auth_read, sizeof(auth_write));
}

static int group_teardown(void **state)
{
    (void)state;
    harness_server_cleanup(&srv);
    harness_cleanup_all();
    return 0;
}

static int aux_teardown(void **state)
{
    (void)state;
    harness_server_cleanup(&aux);
    return 0;
}

static void start_aux(const struct harness_options *o)
{
    char why[2048];
    if (harness_server_start(&aux, o, why, sizeof(why)) != 0)
        fail_msg("cannot start a second server: %s", why);
}

/* ---- operations ---- */

static void test_healthz(void **state)
{
    (void)state;
    struct http_response r;
    req(&r, "GET", "/healthz", NULL, NULL, 0);
    assert_int_equal(r.status, 200);
    char ct[128];
    header_or_fail(&r, "content-type", ct, sizeof(ct));
    assert_true(strncmp(ct, "application/json", 16) == 0);
    json_t *j = harness_json(&r);
    assert_non_null(j);
    assert_string_equal(json_string_value(json_object_get(j, "status")), "ok");
    json_decref(j);
    http_response_release(&r);
}

static void test_readyz(void **state)
{
    (void)state;
    struct http_response r;
    req(&r, "GET", "/readyz", NULL, NULL, 0);
    assert_int_equal(r.status, 200);
    json_t *j = harness_json(&r);
    assert_non_null(j);
    assert_string_equal(json_string_value(json_object_get(j, "status")), "ok");
    assert_string_equal(json_string_value(json_object_get(j, "sqlite")), "ok");
    assert_string_equal(json_string_value(json_object_get(j, "harperdb")), "off");
    json_t *outbox = json_object_get(j, "outbox");
    assert_true(json_is_integer(json_object_get(outbox, "depth")));
    assert_int_equal(json_integer_value(json_object_get(outbox, "depth")), 0);
    json_decref(j);
    http_response_release(&r);
}

static int sane_request_id(const char *v)
{
    size_t n = strlen(v);
    if (n == 0 || n > 128)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!isalnum((unsigned char)v[i]) && strchr("-_.:", v[i]) == NULL)
            return 0;
    return 1;
}

static void test_request_id(void **state)
{
    (void)state;
    struct http_response r;
    char got[512];

    const char *sane[] = {"X-Request-Id: e2e-client_42.a:b", NULL};
    req(&r, "GET", "/healthz", sane, NULL, 0);
    header_or_fail(&r, "x-request-id", got, sizeof(got));
    assert_string_equal(got, "e2e-client_42.a:b");
    http_response_release(&r);

    const char *spaces[] = {"X-Request-Id: two words; drop table", NULL};
    req(&r, "GET", "/healthz", spaces, NULL, 0);
    header_or_fail(&r, "x-request-id", got, sizeof(got));
    assert_string_not_equal(got, "two words; drop table");
    assert_true(sane_request_id(got));
    http_response_release(&r);

    char hdr[300], longid[201];
    memset(longid, 'a', 200);
    longid[200] = '\0';
    snprintf(hdr, sizeof(hdr), "X-Request-Id: %s", longid);
    const char *toolong[] = {hdr, NULL};
    req(&r, "GET", "/healthz", toolong, NULL, 0);
    header_or_fail(&r, "x-request-id", got, sizeof(got));
    assert_string_not_equal(got, longid);
    assert_true(sane_request_id(got));
    http_response_release(&r);

    /* Generated ids tell requests apart, also on error responses. */
    char first[256];
    req(&r, "GET", "/v1/characters/not-a-uuid", NULL, NULL, 0);
    header_or_fail(&r, "x-request-id", first, sizeof(first));
    http_response_release(&r);
    req(&r, "GET", "/v1/characters/not-a-uuid", NULL, NULL, 0);
    header_or_fail(&r, "x-request-id", got, sizeof(got));
    assert_string_not_equal(first, got);
    http_response_release(&r);
}

/* ---- auth ---- */

/* A 401 with the challenge header, whose body does not contain `presented`. */
static void expect_401(const struct http_response *r, const char *presented)
{
    expect_problem_only(r, 401);
    char v[256];
    header_or_fail(r, "www-authenticate", v, sizeof(v));
    assert_string_equal(v, "Bearer realm=\"character-api\"");
    if (presented != NULL && presented[0] != '\0' && strstr(r->body, presented) != NULL)
        fail_msg("401 body echoes the presented token: %s", r->body);
    if (strstr(r->body, srv.write_token) != NULL || strstr(r->body, srv.read_token) != NULL)
        fail_msg("401 body contains a configured token");
}

static void test_auth_missing_token(void **state)
{
    (void)state;
    struct http_response r;
    req(&r, "GET", "/v1/characters/6f1c0d3e-7f4a-4b7e-9a51-2d3c4b5a6e7f", NULL, NULL, 0);
    expect_401(&r, NULL);
    http_response_release(&r);
}

static void test_auth_bad_tokens(void **state)
{
    (void)state;
    const char *path = "/v1/characters/6f1c0d3e-7f4a-4b7e-9a51-2d3c4b5a6e7f";
    char wrong[65], changed[65], hdr[256];
    assert_int_equal(harness_random_hex(wrong, 32), 0);
    snprintf(changed, sizeof(changed), "%s", srv.write_token);
    changed[31] = changed[31] == 'a' ? 'b' : 'a';
    char basic[200];

    struct {
        const char *fmt;
        const char *token;
    } cases[] = {
        {"Authorization: Bearer %s", wrong},
        {"Authorization: Bearer %s", changed},
        {"Authorization: Bearer %s", ""},
        {"Authorization: Bearer %s", srv.read_token + 1},
        {"Authorization: Token %s", srv.write_token},
        {"Authorization: Bearer%s", srv.write_token},
        {"Authorization: %s", srv.write_token},
    };
    struct http_response r;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        snprintf(hdr, sizeof(hdr), cases[i].fmt, cases[i].token);
        const char *h[] = {hdr, NULL};
        req(&r, "GET", path, h, NULL, 0);
        if (r.status != 401)
            fail_msg("\"%s\": expected 401, got %ld", hdr, r.status);
        expect_401(&r, cases[i].token);
        http_response_release(&r);
    }

    /* Basic credentials carrying the right token (user "x"): the scheme alone must be refused. */
    static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    char plain[128];
    int n = snprintf(plain, sizeof(plain), "x:%s", srv.write_token), o = 0;
    for (int i = 0; i < n; i += 3) {
        unsigned v = (unsigned char)plain[i] << 16 | (i + 1 < n ? (unsigned char)plain[i + 1] << 8 : 0) |
                     (i + 2 < n ? (unsigned char)plain[i + 2] : 0);
        basic[o++] = b64[v >> 18 & 63];
        basic[o++] = b64[v >> 12 & 63];
        basic[o++] = i + 1 < n ? b64[v >> 6 & 63] : '=';
        basic[o++] = i + 2 < n ? b64[v & 63] : '=';
    }
    basic[o] = '\0';
    snprintf(hdr, sizeof(hdr), "Authorization: Basic %s", basic);
    const char *h[] = {hdr, NULL};
    req(&r, "GET", path, h, NULL, 0);
    expect_401(&r, basic);
    http_response_release(&r);

    /* Nothing presented above reaches the server's log either. */
    char *log = harness_server_log(&srv);
    assert_non_null(log);
    const char *secrets[] = {wrong, changed, srv.write_token, srv.read_token, basic};
    for (size_t i = 0; i < sizeof(secrets) / sizeof(secrets[0]); i++)
        if (strstr(log, secrets[i]) != NULL)
            fail_msg("server log contains a presented or configured token");
    free(log);
}

static void test_auth_scheme_case_insensitive(void **state)
{
    (void)state;
    char id[64], path[128], hdr[160];
    create_character(build_named("Case"), id, NULL, 0);
    snprintf(path, sizeof(path), "/v1/characters/%s", id);
    const char *schemes[] = {"bearer", "BEARER", "bEaReR"};
    for (size_t i = 0; i < 3; i++) {
        snprintf(hdr, sizeof(hdr), "Authorization: %s %s", schemes[i], srv.write_token);
        const char *h[] = {hdr, NULL};
        struct http_response r;
        req(&r, "GET", path, h, NULL, 0);
        if (r.status != 200)
            fail_msg("scheme \"%s\": expected 200, got %ld", schemes[i], r.status);
        http_response_release(&r);
    }
}

static void test_auth_read_scope(void **state)
{
    (void)state;
    char id[64], path[128];
    create_character(build_named("Reader's view"), id, NULL, 0);
    snprintf(path, sizeof(path), "/v1/characters/%s", id);
    struct http_response r;
    const char *h[] = {auth_read, NULL};
    req(&r, "GET", path, h, NULL, 0);
    assert_int_equal(r.status, 200);
    http_response_release(&r);

    const char *hp[] = {auth_read, "Content-Type: application/json", NULL};
    const char *body = build_named("Forbidden");
    req(&r, "POST", "/v1/characters", hp, body, strlen(body));
    expect_problem_only(&r, 403);
    assert_false(http_response_header(&r, "location", NULL, 0));
    http_response_release(&r);

    /* Scope is judged before the media type. */
    const char *ht[] = {auth_read, "Content-Type: text/plain", NULL};
    req(&r, "POST", "/v1/characters", ht, body, strlen(body));
    expect_problem_only(&r, 403);
    http_response_release(&r);
}

static void test_auth_before_routing(void **state)
{
    (void)state;
    struct http_response r;
    req(&r, "GET", "/v1/no-such-route", NULL, NULL, 0);
    expect_401(&r, NULL);
    http_response_release(&r);
    req(&r, "PUT", "/v1/characters", NULL, NULL, 0);
    expect_401(&r, NULL);
    http_response_release(&r);
    const char *h[] = {auth_write, NULL};
    req(&r, "GET", "/v1/no-such-route", h, NULL, 0);
    expect_problem_only(&r, 404);
    http_response_release(&r);
}

/* ---- characters ---- */

static void test_create_and_get(void **state)
{
    (void)state;
    struct http_response r;
    post_json(&r, "/v1/characters", build_named("Thorin"));
    assert_int_equal(r.status, 201);
    char loc[256], etag[128], sync[64], ct[128];
    header_or_fail(&r, "location", loc, sizeof(loc));
    header_or_fail(&r, "etag", etag, sizeof(etag));
    header_or_fail(&r, "sync-status", sync, sizeof(sync));
    header_or_fail(&r, "content-type", ct, sizeof(ct));
    assert_true(strncmp(ct, "application/json", 16) == 0);
    assert_string_equal(sync, "off");
    /* A strong entity tag: a quoted string without W/. */
    size_t el = strlen(etag);
    assert_true(el >= 3 && etag[0] == '"' && etag[el - 1] == '"');

    json_t *j = harness_json(&r);
    assert_true(json_is_object(j));
    const char *id = json_string_value(json_object_get(j, "id"));
    assert_non_null(id);
    if (!is_uuid_v4(id))
        fail_msg("id %s is not a lowercase UUID v4", id);
    char want_loc[128];
    snprintf(want_loc, sizeof(want_loc), "/v1/characters/%s", id);
    assert_string_equal(loc, want_loc);
    assert_int_equal(json_integer_value(json_object_get(j, "version")), 1);
    assert_true(json_is_integer(json_object_get(j, "version")));
    assert_string_equal(json_string_value(json_object_get(j, "name")), "Thorin");
    const char *created = json_string_value(json_object_get(j, "created_at"));
    const char *updated = json_string_value(json_object_get(j, "updated_at"));
    if (!is_rfc3339(created) || !is_rfc3339(updated))
        fail_msg("timestamps are not RFC 3339: %s / %s", created ? created : "(none)", updated ? updated : "(none)");

    struct http_response g;
    const char *h[] = {auth_write, NULL};
    req(&g, "GET", loc, h, NULL, 0);
    assert_int_equal(g.status, 200);
    char etag2[128];
    header_or_fail(&g, "etag", etag2, sizeof(etag2));
    assert_string_equal(etag2, etag);
    json_t *gj = harness_json(&g);
    assert_non_null(gj);
    if (!json_equal(j, gj))
        fail_msg("GET body differs from the 201 body:\n%s\n%s", r.body, g.body);
    json_decref(gj);
    http_response_release(&g);

    /* A second create gets a different id and ETag. */
    struct http_response r2;
    post_json(&r2, "/v1/characters", build_named("Thorin"));
    assert_int_equal(r2.status, 201);
    char loc2[256], etag3[128];
    header_or_fail(&r2, "location", loc2, sizeof(loc2));
    header_or_fail(&r2, "etag", etag3, sizeof(etag3));
    assert_string_not_equal(loc2, loc);
    assert_string_not_equal(etag3, etag);
    http_response_release(&r2);

    json_decref(j);
    http_response_release(&r);
}

static void test_conditional_get(void **state)
{
    (void)state;
    char id[64], etag[128], path[128], inm[200];
    create_character(build_named("Balin"), id, etag, sizeof(etag));
    snprintf(path, sizeof(path), "/v1/characters/%s", id);
    struct http_response r;

    snprintf(inm, sizeof(inm), "If-None-Match: %s", etag);
    const char *h1[] = {auth_write, inm, NULL};
    req(&r, "GET", path, h1, NULL, 0);
    assert_int_equal(r.status, 304);
    assert_int_equal(r.body_len, 0);
    char got[128];
    header_or_fail(&r, "etag", got, sizeof(got));
    assert_string_equal(got, etag);
    http_response_release(&r);

    /* A list naming it among others, and the weak form, also match (weak comparison). */
    snprintf(inm, sizeof(inm), "If-None-Match: \"nope\", W/%s", etag);
    const char *h2[] = {auth_write, inm, NULL};
    req(&r, "GET", path, h2, NULL, 0);
    assert_int_equal(r.status, 304);
    http_response_release(&r);

    const char *h3[] = {auth_write, "If-None-Match: \"00000000000000000000000000000000\"", NULL};
    req(&r, "GET", path, h3, NULL, 0);
    assert_int_equal(r.status, 200);
    assert_true(r.body_len > 0);
    http_response_release(&r);
}

/*
 * With one worker paused (SIGSTOP), the other accepts every new connection on
 * the shared listening socket, so the test knows which worker serves. Writes
 * on one worker must be readable on the other, both ways. Requests made while
 * a worker is paused do not fail the test before it is resumed.
 */
struct paused_result {
    long create_status, get_status;
    char id[64];
    char create_body[512], get_body[512];
};

static void while_paused(pid_t paused, const char *create_json, const char *get_id, struct paused_result *out)
{
    memset(out, 0, sizeof(*out));
    assert_int_equal(kill(paused, SIGSTOP), 0);
    const char *hp[] = {auth_write, "Content-Type: application/json", NULL};
    const char *hg[] = {auth_read, NULL};
    char url[256];
    struct http_response r;
    if (create_json != NULL) {
        snprintf(url, sizeof(url), "%s/v1/characters", srv.base_url);
        http_request("POST", url, hp, create_json, strlen(create_json), &r);
        out->create_status = r.status;
        snprintf(out->create_body, sizeof(out->create_body), "%s", r.body != NULL ? r.body : "");
        json_t *j = harness_json(&r);
        const char *id = json_string_value(json_object_get(j, "id"));
        snprintf(out->id, sizeof(out->id), "%s", id != NULL ? id : "");
        json_decref(j);
        http_response_release(&r);
    }
    if (get_id != NULL) {
        snprintf(url, sizeof(url), "%s/v1/characters/%s", srv.base_url, get_id);
        http_request("GET", url, hg, NULL, 0, &r);
        out->get_status = r.status;
        snprintf(out->get_body, sizeof(out->get_body), "%s", r.body != NULL ? r.body : "");
        http_response_release(&r);
    }
    kill(paused, SIGCONT);
}

static void test_created_visible_on_every_worker(void **state)
{
    (void)state;
    pid_t w[8];
    assert_int_equal(harness_server_workers(&srv, w, 8), 2);
    struct paused_result on1, on0, back1;
    /* Worker 1 writes, worker 0 reads; then worker 0 writes, worker 1 reads it. */
    while_paused(w[0], build_named("Written on one"), NULL, &on1);
    if (on1.create_status != 201)
        fail_msg("create with worker %d paused: %ld %s", (int)w[0], on1.create_status, on1.create_body);
    while_paused(w[1], build_named("Written on zero"), on1.id, &on0);
    if (on0.get_status != 200)
        fail_msg("GET of worker %d's write from worker %d: %ld %s", (int)w[1], (int)w[0], on0.get_status, on0.get_body);
    if (on0.create_status != 201)
        fail_msg("create with worker %d paused: %ld %s", (int)w[1], on0.create_status, on0.create_body);
    while_paused(w[0], NULL, on0.id, &back1);
    if (back1.get_status != 200)
        fail_msg("GET of worker %d's write from worker %d: %ld %s", (int)w[0], (int)w[1], back1.get_status,
                 back1.get_body);
    assert_string_equal(on0.get_body, on1.create_body);
    assert_string_equal(back1.get_body, on0.create_body);
}

/* ---- validation (422) ---- */

static json_t *expect_422(const char *json)
{
    struct http_response r;
    post_json(&r, "/v1/characters", json);
    if (r.status != 422)
        fail_msg("%s: expected 422, got %ld: %s", json, r.status, r.body);
    json_t *j = expect_problem(&r, 422);
    assert_true(json_is_array(json_object_get(j, "errors")));
    http_response_release(&r);
    return j;
}

static void expect_422_with(const char *json, const char *field, const char *code)
{
    json_t *j = expect_422(json);
    if (!harness_problem_has(j, field, code)) {
        char *text = json_dumps(j, JSON_COMPACT);
        fail_msg("%s: errors lack {field \"%s\", code \"%s\"}: %s", json, field, code, text);
    }
    json_decref(j);
}

static void test_validation_name(void **state)
{
    (void)state;
    expect_422_with("{}", "name", "required");
    expect_422_with("{\"level\":1}", "name", "required");
    expect_422_with("{\"name\":\"\"}", "name", "required");
    expect_422_with("{\"name\":42}", "name", "wrong_type");

    char body[4096];
    char name[102];
    memset(name, 'x', 101);
    name[101] = '\0';
    snprintf(body, sizeof(body), HARNESS_BUILD_FMT, name);
    expect_422_with(body, "name", "too_long");

    /* 100 characters is the limit, counted in characters, not bytes ("é" is 2 bytes). */
    char eacute[256] = "";
    for (int i = 0; i < 100; i++)
        strcat(eacute, "\xc3\xa9");
    snprintf(body, sizeof(body), HARNESS_BUILD_FMT, eacute);
    char id[64];
    create_character(body, id, NULL, 0);
    char path[128];
    snprintf(path, sizeof(path), "/v1/characters/%s", id);
    struct http_response r;
    const char *h[] = {auth_write, NULL};
    req(&r, "GET", path, h, NULL, 0);
    assert_int_equal(r.status, 200);
    json_t *j = harness_json(&r);
    assert_string_equal(json_string_value(json_object_get(j, "name")), eacute);
    json_decref(j);
    http_response_release(&r);

    /* 101 of them is one too many. */
    strcat(eacute, "\xc3\xa9");
    snprintf(body, sizeof(body), HARNESS_BUILD_FMT, eacute);
    expect_422_with(body, "name", "too_long");
}

static void test_validation_fields(void **state)
{
    (void)state;
    expect_422_with("{\"name\":\"Gimli\",\"colour\":\"red\"}", "colour", "unknown_field");
    expect_422_with("{\"name\":\"Gimli\",\"level\":0}", "level", "out_of_range");
    expect_422_with("{\"name\":\"Gimli\",\"level\":21}", "level", "out_of_range");
    expect_422_with("{\"name\":\"Gimli\",\"level\":\"3\"}", "level", "wrong_type");

    /* Every problem is listed, not just the first. */
    json_t *j = expect_422("{\"level\":21,\"colour\":\"red\",\"hat\":true}");
    assert_true(harness_problem_has(j, "name", "required"));
    assert_true(harness_problem_has(j, "level", "out_of_range"));
    assert_true(harness_problem_has(j, "colour", "unknown_field"));
    assert_true(harness_problem_has(j, "hat", "unknown_field"));
    json_decref(j);

    /* A JSON value that is not an object is not a character. */
    json_decref(expect_422("[{\"name\":\"Gimli\"}]"));
    json_decref(expect_422("\"Gimli\""));
}

/* ---- 400 ---- */

static void expect_400_body(const void *body, size_t len, const char *what)
{
    struct http_response r;
    const char *h[] = {auth_write, "Content-Type: application/json", NULL};
    req(&r, "POST", "/v1/characters", h, body, len);
    if (r.status != 400)
        fail_msg("%s: expected 400, got %ld: %s", what, r.status, r.body);
    expect_problem_only(&r, 400);
    http_response_release(&r);
}

/* A string literal's bytes, NULs included, without the terminating NUL. */
#define EXPECT_400(lit, what) expect_400_body(lit, sizeof(lit) - 1, what)

/* "[" × depth + "]" × depth into a new string. */
static char *nested(int depth)
{
    char *s = malloc((size_t)depth * 2 + 1);
    memset(s, '[', (size_t)depth);
    memset(s + depth, ']', (size_t)depth);
    s[depth * 2] = '\0';
    return s;
}

static void test_bad_json(void **state)
{
    (void)state;
    EXPECT_400("{\"name\":", "truncated JSON");
    EXPECT_400("{name: \"Thorin\"}", "unquoted key");
    EXPECT_400("{\"name\":\"Thorin\"} x", "trailing garbage");
    EXPECT_400("{\"name\":\"\xff\xfe\"}", "invalid UTF-8");
    EXPECT_400("{\"name\":\"\xc3\"}", "truncated UTF-8 sequence");
    EXPECT_400("{\"name\":\"\xed\xa0\x80\"}", "UTF-8-encoded surrogate");
    EXPECT_400("{\"name\":\"a\0b\"}", "raw NUL in a string");
    EXPECT_400("{\"name\":\"Thorin\",\"name\":\"Balin\"}", "duplicate key");
    EXPECT_400("", "empty body");

    char *deep = nested(33);
    expect_400_body(deep, strlen(deep), "nesting 33 deep");
    free(deep);

    /* 32 deep is still JSON: it fails as a character (422), not as JSON. */
    deep = nested(32);
    struct http_response r;
    const char *h[] = {auth_write, "Content-Type: application/json", NULL};
    req(&r, "POST", "/v1/characters", h, deep, strlen(deep));
    free(deep);
    if (r.status != 422)
        fail_msg("nesting 32 deep: expected 422, got %ld: %s", r.status, r.body);
    http_response_release(&r);

    /* Brackets inside a string are text, not nesting. */
    char body[2048], id[64];
    char *text = nested(40);
    snprintf(body, sizeof(body), HARNESS_BUILD_FMT, text);
    free(text);
    create_character(body, id, NULL, 0);
}

/* ---- 413 ---- */

/* A valid build padded with spaces to exactly `len` bytes: valid JSON of that size. */
static char *padded_body(size_t len)
{
    const char *core = build_named("Thorin");
    char *s = malloc(len + 1);
    memset(s, ' ', len);
    memcpy(s, core, strlen(core));
    s[len] = '\0';
    return s;
}

static void expect_size_answer(const struct harness_server *s, size_t len, long status)
{
    char *body = padded_body(len);
    char auth[128];
    snprintf(auth, sizeof(auth), "Authorization: Bearer %s", s->write_token);
    const char *h[] = {auth, "Content-Type: application/json", NULL};
    struct http_response r;
    req_to(s, &r, "POST", "/v1/characters", h, body, len);
    free(body);
    if (r.status != status)
        fail_msg("%zu-byte body: expected %ld, got %ld: %.300s", len, status, r.status, r.body);
    if (status == 413)
        expect_problem_only(&r, 413);
    http_response_release(&r);
}

static void test_body_limit_default(void **state)
{
    (void)state;
    expect_size_answer(&srv, MIB + 1, 413);
    expect_size_answer(&srv, MIB, 201);
    /* Several times over the limit is still a clean 413, not a reset. */
    expect_size_answer(&srv, 3 * MIB, 413);
}

static void test_body_limit_from_environment(void **state)
{
    (void)state;
    const char *env[] = {"CHARACTER_SERVER_BODY_LIMIT=2048", NULL};
    struct harness_options o = {.workers = 1, .env = env};
    start_aux(&o);
    expect_size_answer(&aux, 2049, 413);
    expect_size_answer(&aux, 2048, 201);
}

/* ---- 415 ---- */

static void test_media_type(void **state)
{
    (void)state;
    const char *body = build_named("Dwalin");
    struct http_response r;
    const char *plain[] = {auth_write, "Content-Type: text/plain", NULL};
    req(&r, "POST", "/v1/characters", plain, body, strlen(body));
    expect_problem_only(&r, 415);
    http_response_release(&r);

    const char *none[] = {auth_write, NULL};
    req(&r, "POST", "/v1/characters", none, body, strlen(body));
    expect_problem_only(&r, 415);
    http_response_release(&r);

    const char *latin1[] = {auth_write, "Content-Type: application/json; charset=iso-8859-1", NULL};
    req(&r, "POST", "/v1/characters", latin1, body, strlen(body));
    expect_problem_only(&r, 415);
    http_response_release(&r);

    /* The media type is checked before the body: bad JSON with a bad type is 415. */
    req(&r, "POST", "/v1/characters", plain, "{oops", 5);
    expect_problem_only(&r, 415);
    http_response_release(&r);

    const char *utf8[] = {auth_write, "Content-Type: application/json; charset=utf-8", NULL};
    req(&r, "POST", "/v1/characters", utf8, body, strlen(body));
    assert_int_equal(r.status, 201);
    http_response_release(&r);

    const char *upper[] = {auth_write, "Content-Type: Application/JSON", NULL};
    req(&r, "POST", "/v1/characters", upper, body, strlen(body));
    assert_int_equal(r.status, 201);
    http_response_release(&r);
}

/* ---- 404 and 405 ---- */

static void test_not_found(void **state)
{
    (void)state;
    const char *h[] = {auth_write, NULL};
    struct http_response r;
    req(&r, "GET", "/v1/no-such-route", h, NULL, 0);
    expect_problem_only(&r, 404);
    http_response_release(&r);

    char id[64], path[128];
    assert_int_equal(harness_random_hex(id, 16), 0);
    /* A well-formed v4 id that was never created. */
    snprintf(path, sizeof(path), "/v1/characters/%.8s-%.4s-4%.3s-a%.3s-%.12s", id, id + 8, id + 12, id + 15, id + 18);
    req(&r, "GET", path, h, NULL, 0);
    expect_problem_only(&r, 404);
    http_response_release(&r);

    req(&r, "GET", "/v1/characters/not-a-uuid", h, NULL, 0);
    expect_problem_only(&r, 404);
    http_response_release(&r);

    req(&r, "GET", "/v1/characters/", h, NULL, 0);
    expect_problem_only(&r, 404);
    http_response_release(&r);
}

/* Assert a 405 problem whose Allow header lists `want` and not `method`. */
static void expect_405(const char *method, const char *path, const char *want)
{
    const char *h[] = {auth_write, NULL};
    struct http_response r;
    req(&r, method, path, h, NULL, 0);
    expect_problem_only(&r, 405);
    char allow[128];
    header_or_fail(&r, "allow", allow, sizeof(allow));
    if (strstr(allow, want) == NULL || strstr(allow, method) != NULL)
        fail_msg("%s %s: Allow is \"%s\"; expected it to list %s and not %s", method, path, allow, want, method);
    http_response_release(&r);
}

static void test_method_not_allowed(void **state)
{
    (void)state;
    expect_405("DELETE", "/healthz", "GET");
    expect_405("PUT", "/v1/characters", "POST");
    expect_405("POST", "/readyz", "GET");
}

/* ---- processes ---- */

struct load {
    char health_url[128];
    char char_url[192];
    const char *headers[2];
    atomic_int stop;
    atomic_long ok, failed;
};

/* Issue GET /healthz and GET /v1/characters/<id> on fresh connections until told to stop. */
static void *load_loop(void *arg)
{
    struct load *l = arg;
    while (!atomic_load(&l->stop)) {
        struct http_response r;
        int rc = http_request("GET", l->health_url, NULL, NULL, 0, &r);
        atomic_fetch_add(rc == 0 && r.status == 200 ? &l->ok : &l->failed, 1);
        http_response_release(&r);
        rc = http_request("GET", l->char_url, l->headers, NULL, 0, &r);
        atomic_fetch_add(rc == 0 && r.status == 200 ? &l->ok : &l->failed, 1);
        http_response_release(&r);
    }
    return NULL;
}

static int contains(const pid_t *set, size_t n, pid_t p)
{
    for (size_t i = 0; i < n; i++)
        if (set[i] == p)
            return 1;
    return 0;
}

static void test_worker_kill_respawn(void **state)
{
    (void)state;
    char id[64];
    create_character(build_named("Survivor"), id, NULL, 0);
    pid_t before[8];
    assert_int_equal(harness_server_workers(&srv, before, 8), 2);

    static struct load l;
    memset(&l, 0, sizeof(l));
    snprintf(l.health_url, sizeof(l.health_url), "%s/healthz", srv.base_url);
    snprintf(l.char_url, sizeof(l.char_url), "%s/v1/characters/%s", srv.base_url, id);
    l.headers[0] = auth_read;
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, load_loop, &l), 0);
    double warmup = now_s() + 5.0;
    while (atomic_load(&l.ok) < 20 && now_s() < warmup) /* traffic flows before the kill */
        usleep(10000);
    if (atomic_load(&l.ok) < 20) {
        atomic_store(&l.stop, 1);
        pthread_join(t, NULL);
        fail_msg("the request loop made only %ld successful requests in 5 s before the kill", atomic_load(&l.ok));
    }

    pid_t victim = before[0], other = before[1];
    assert_int_equal(kill(victim, SIGKILL), 0);
    double t0 = now_s(), respawned_after = -1;
    pid_t after[8];
    size_t n = 0;
    while (now_s() - t0 < 5.0) {
        n = harness_server_workers(&srv, after, 8);
        if (n == 2 && !contains(after, n, victim)) {
            respawned_after = now_s() - t0;
            break;
        }
        usleep(20000);
    }
    long ok_at_respawn = atomic_load(&l.ok);
    usleep(300000); /* let the loop run against the new worker too */
    atomic_store(&l.stop, 1);
    pthread_join(t, NULL);

    if (respawned_after < 0)
        fail_msg("no new worker within 5 s of kill -9 (workers now: %zu)", n);
    assert_false(harness_pid_alive(victim));
    assert_true(contains(after, n, other)); /* the survivor was left alone */
    assert_true(harness_pid_alive(srv.pid));
    long failed = atomic_load(&l.failed);
    if (failed > 5)
        fail_msg("%ld requests failed around the kill (%ld succeeded)", failed, atomic_load(&l.ok));
    assert_true(atomic_load(&l.ok) > ok_at_respawn); /* requests kept succeeding after the respawn */

    /* After the respawn, every request succeeds. */
    char path[128];
    snprintf(path, sizeof(path), "/v1/characters/%s", id);
    const char *h[] = {auth_read, NULL};
    for (int i = 0; i < 50; i++) {
        struct http_response r;
        req(&r, "GET", i % 2 ? path : "/healthz", i % 2 ? h : NULL, NULL, 0);
        if (r.status != 200)
            fail_msg("request %d after the respawn: %ld", i + 1, r.status);
        http_response_release(&r);
    }
    /* And writes work on whichever worker takes them. */
    create_character(build_named("After the storm"), id, NULL, 0);
}

static void test_graceful_stop_closes_idle_connections(void **state)
{
    (void)state;
    const char *env[] = {"CHARACTER_SERVER_GRACEFUL_TIMEOUT=10", NULL};
    struct harness_options o = {.workers = 2, .env = env};
    start_aux(&o);
    pid_t workers[8];
    size_t nw = harness_server_workers(&aux, workers, 8);
    assert_int_equal(nw, 2);

    struct http_client c;
    assert_int_equal(http_client_init(&c), 0);
    char url[128];
    snprintf(url, sizeof(url), "%s/healthz", aux.base_url);
    struct http_response r;
    assert_int_equal(http_client_request(&c, "GET", url, NULL, NULL, 0, &r), 0);
    assert_int_equal(r.status, 200);
    http_response_release(&r);
    assert_int_equal(http_client_request(&c, "GET", url, NULL, NULL, 0, &r), 0);
    assert_int_equal(r.status, 200);
    assert_int_equal(r.new_connections, 0); /* the connection is kept alive and idle now */
    http_response_release(&r);

    double t0 = now_s();
    assert_int_equal(kill(aux.pid, SIGTERM), 0);
    int exited = harness_server_wait_exit(&aux, 12.0);
    double took = now_s() - t0;
    http_client_release(&c);
    char *log = harness_server_log(&aux); /* the master and workers say which of them held on, and why */
    if (exited != 0)
        fail_msg("master still running 12 s after SIGTERM; its log:\n%s", log ? log : "");
    if (took >= 3.0)
        fail_msg("graceful stop with one idle keep-alive connection took %.1f s (graceful_timeout is 10 s); "
                 "the server's log:\n%s",
                 took, log ? log : "");
    free(log);
    if (!WIFEXITED(aux.status) || WEXITSTATUS(aux.status) != 0)
        fail_msg("master ended with wait status 0x%x, not exit 0", aux.status);
    for (size_t i = 0; i < nw; i++)
        if (harness_pid_alive(workers[i]))
            fail_msg("worker %d outlived its master", (int)workers[i]);
    assert_false(harness_port_accepts(aux.port));
}

/* ---- configuration and commands ---- */

static void expect_start_failure(const struct harness_options *o, const char *needle)
{
    int status = 0;
    char log[8192];
    if (harness_server_expect_failure(o, &status, log, sizeof(log)) != 0)
        fail_msg("server started (or hung) although it should refuse; log:\n%s", log);
    if (!WIFEXITED(status) || WEXITSTATUS(status) == 0)
        fail_msg("expected a non-zero exit, got wait status 0x%x; log:\n%s", status, log);
    if (strstr(log, needle) == NULL)
        fail_msg("the error does not mention \"%s\"; log:\n%s", needle, log);
}

static void test_config_bad_workers(void **state)
{
    (void)state;
    const char *args[] = {"--workers", "abc", NULL};
    struct harness_options o = {.args = args};
    expect_start_failure(&o, "--workers");
}

static void test_config_no_token(void **state)
{
    (void)state;
    struct harness_options o = {.no_tokens = 1};
    expect_start_failure(&o, "character-server token");
}

static void test_config_pending_migration(void **state)
{
    (void)state;
    struct harness_options o = {.no_migrate = 1};
    expect_start_failure(&o, "scripts/migrate");
}

static void run_or_fail(const char *const *argv, const char *const *env, struct harness_output *out)
{
    if (harness_run(argv, env, 10.0, out) != 0)
        fail_msg("cannot run %s", argv[0]);
    if (!WIFEXITED(out->status) || WEXITSTATUS(out->status) != 0)
        fail_msg("%s %s: wait status 0x%x; stderr: %s", argv[0], argv[1], out->status, out->err);
}

static void test_token_command(void **state)
{
    (void)state;
    char bin[4096];
    const char *argv[] = {harness_binary(bin, sizeof(bin)), "token", NULL};
    struct harness_output a, b;
    run_or_fail(argv, NULL, &a);
    run_or_fail(argv, NULL, &b);
    for (struct harness_output *x = &a; x != NULL; x = x == &a ? &b : NULL) {
        size_t len = strlen(x->out);
        if (len != 44 || x->out[43] != '\n')
            fail_msg("token output is not 43 characters and a newline: \"%s\"", x->out);
        for (size_t i = 0; i < 43; i++)
            if (!isalnum((unsigned char)x->out[i]) && x->out[i] != '-' && x->out[i] != '_')
                fail_msg("token \"%s\" is not base64url", x->out);
    }
    assert_string_not_equal(a.out, b.out);
    free(a.out);
    free(a.err);
    free(b.out);
    free(b.err);
}

static void test_version(void **state)
{
    (void)state;
    char bin[4096];
    const char *argv[] = {harness_binary(bin, sizeof(bin)), "--version", NULL};
    struct harness_output o;
    run_or_fail(argv, NULL, &o);
#ifdef PACKAGE_VERSION
    char want[128];
    snprintf(want, sizeof(want), "character-server %s\n", PACKAGE_VERSION);
    assert_string_equal(o.out, want);
#else
    assert_true(strncmp(o.out, "character-server ", 17) == 0 && isdigit((unsigned char)o.out[17]));
#endif
    free(o.out);
    free(o.err);
}

static void test_check_config(void **state)
{
    (void)state;
    char bin[4096], write[65], read[65], tokens[200], migrations[4096], db[64];
    assert_int_equal(harness_random_hex(write, 32), 0);
    assert_int_equal(harness_random_hex(read, 32), 0);
    snprintf(tokens, sizeof(tokens), "API_TOKENS=%s,reader:read:%s", write, read);
    const char *top_srcdir = getenv("top_srcdir");
    snprintf(migrations, sizeof(migrations), "%s/migrations", top_srcdir ? top_srcdir : ".");
    snprintf(db, sizeof(db), "check.db"); /* relative to the command's temporary folder */
    const char *argv[] = {
        harness_binary(bin, sizeof(bin)), "--check-config", "--database", db, "--migrations", migrations, NULL};
    const char *env[] = {tokens, NULL};
    struct harness_output o;
    run_or_fail(argv, env, &o);
    if (o.out[0] == '\0')
        fail_msg("--check-config printed nothing");
    if (strstr(o.out, write) || strstr(o.out, read) || strstr(o.err, write) || strstr(o.err, read))
        fail_msg("--check-config printed a token:\n%s%s", o.out, o.err);
    free(o.out);
    free(o.err);
}

/* POST /v1/rolls: a real roll whose numbers add up, and every kind of bad expression is a 422 naming it. */
static void test_rolls(void **state)
{
    (void)state;
    struct http_response r;
    post_json(&r, "/v1/rolls", "{\"expression\":\"4d6kh3+2\"}");
    assert_int_equal(r.status, 200);
    json_t *j = harness_json(&r);
    assert_string_equal(json_string_value(json_object_get(j, "expression")), "4d6kh3+2");
    json_t *rolls = json_object_get(j, "rolls"), *kept = json_object_get(j, "kept");
    assert_int_equal(json_array_size(rolls), 4);
    assert_int_equal(json_array_size(kept), 3);
    assert_int_equal(json_integer_value(json_object_get(j, "modifier")), 2);
    long kept_sum = 0, all_sum = 0, lowest = 7;
    size_t i;
    json_t *x;
    json_array_foreach(rolls, i, x) {
        long d = (long)json_integer_value(x);
        assert_true(d >= 1 && d <= 6);
        all_sum += d;
        lowest = d < lowest ? d : lowest;
    }
    json_array_foreach(kept, i, x) kept_sum += (long)json_integer_value(x);
    assert_int_equal(kept_sum, all_sum - lowest); /* kh3 of 4 dice drops exactly the lowest */
    assert_int_equal(json_integer_value(json_object_get(j, "total")), kept_sum + 2);
    json_decref(j);
    http_response_release(&r);

    struct {
        const char *body, *field, *code;
    } bad[] = {
        {"{\"expression\":\"4d6x\"}", "expression", "invalid"},
        {"{\"expression\":\"101d6\"}", "expression", "too_many"},
        {"{\"expression\":\"1d1001\"}", "expression", "out_of_range"},
        {"{\"expression\":\"\"}", "expression", "required"},
        {"{}", "expression", "required"},
        {"{\"expression\":42}", "expression", "wrong_type"},
        {"{\"expression\":\"1d6\",\"luck\":true}", "luck", "unknown_field"},
    };
    for (size_t k = 0; k < sizeof(bad) / sizeof(bad[0]); k++) {
        post_json(&r, "/v1/rolls", bad[k].body);
        json_t *p = expect_problem(&r, 422);
        if (!harness_problem_has(p, bad[k].field, bad[k].code))
            fail_msg("POST /v1/rolls %s: expected %s/%s in %s", bad[k].body, bad[k].field, bad[k].code, r.body);
        json_decref(p);
        http_response_release(&r);
    }
}

/* POST /v1/rolls/ability-scores: six 4d6-drop-lowest scores that match their dice, and a roll id. */
static void test_roll_ability_scores(void **state)
{
    (void)state;
    struct http_response r;
    const char *h[] = {auth_write, NULL};
    req(&r, "POST", "/v1/rolls/ability-scores", h, NULL, 0);
    assert_int_equal(r.status, 200);
    json_t *j = harness_json(&r);
    json_t *scores = json_object_get(j, "scores"), *dice = json_object_get(j, "dice");
    assert_int_equal(json_array_size(scores), 6);
    assert_int_equal(json_array_size(dice), 6);
    for (size_t i = 0; i < 6; i++) {
        json_t *four = json_array_get(dice, i);
        assert_int_equal(json_array_size(four), 4);
        long sum = 0, low = 7;
        for (size_t k = 0; k < 4; k++) {
            long d = (long)json_integer_value(json_array_get(four, k));
            assert_true(d >= 1 && d <= 6);
            sum += d;
            low = d < low ? d : low;
        }
        assert_int_equal(json_integer_value(json_array_get(scores, i)), sum - low);
    }
    const char *id = json_string_value(json_object_get(j, "roll_id"));
    assert_non_null(id);
    assert_true(strlen(id) > 40);
    json_decref(j);
    http_response_release(&r);
    /* A body, when given, must be an empty object. */
    post_json(&r, "/v1/rolls/ability-scores", "{\"method\":\"cheat\"}");
    json_t *p = expect_problem(&r, 422);
    assert_true(harness_problem_has(p, "method", "unknown_field"));
    json_decref(p);
    http_response_release(&r);
}

/* GET a reference path with the read token; returns the parsed body (caller decrefs) and checks 200. */
static json_t *get_reference(const char *path, struct http_response *keep)
{
    const char *h[] = {auth_read, NULL};
    struct http_response r;
    req(&r, "GET", path, h, NULL, 0);
    if (r.status != 200)
        fail_msg("GET %s: expected 200, got %ld: %.200s", path, r.status, r.body);
    json_t *j = harness_json(&r);
    if (keep != NULL)
        *keep = r;
    else
        http_response_release(&r);
    return j;
}

/* Every {"url": ...} inside `v` answers 200 (the reference data has no dangling links). */
static void check_links(json_t *v, int depth)
{
    if (depth > 6)
        return;
    if (json_is_object(v)) {
        const char *key;
        json_t *x;
        json_object_foreach(v, key, x) {
            if (strcmp(key, "url") == 0 && json_is_string(x) && depth > 0) {
                json_t *target = get_reference(json_string_value(x), NULL);
                json_decref(target);
            } else {
                check_links(x, depth + 1);
            }
        }
    } else if (json_is_array(v)) {
        size_t i;
        json_t *x;
        json_array_foreach(v, i, x) check_links(x, depth + 1);
    }
}

/* /api/2014: dnd5eapi shapes, the attribution, caching headers, 304, and links that resolve. */
static void test_reference(void **state)
{
    (void)state;
    json_t *root = get_reference("/api/2014", NULL);
    assert_non_null(strstr(json_string_value(json_object_get(root, "attribution")), "System Reference Document 5.1"));
    assert_string_equal(json_string_value(json_object_get(root, "races")), "/api/2014/races");
    json_decref(root);
    json_t *races = get_reference("/api/2014/races", NULL);
    assert_int_equal(json_integer_value(json_object_get(races, "count")), 9);
    assert_int_equal(json_array_size(json_object_get(races, "results")), 9);
    json_decref(races);
    struct http_response r;
    json_t *dwarf = get_reference("/api/2014/races/dwarf", &r);
    assert_int_equal(json_integer_value(json_object_get(dwarf, "speed")), 25);
    assert_string_equal(json_string_value(json_object_get(dwarf, "size")), "Medium");
    json_t *sub0 = json_array_get(json_object_get(dwarf, "subraces"), 0);
    assert_string_equal(json_string_value(json_object_get(sub0, "index")), "hill-dwarf");
    check_links(dwarf, 0);
    char etag[80], cc[80];
    header_or_fail(&r, "etag", etag, sizeof(etag));
    header_or_fail(&r, "cache-control", cc, sizeof(cc));
    assert_string_equal(cc, "public, max-age=86400");
    http_response_release(&r);
    json_decref(dwarf);
    char inm[120];
    snprintf(inm, sizeof(inm), "If-None-Match: %s", etag);
    const char *h[] = {auth_read, inm, NULL};
    req(&r, "GET", "/api/2014/races/dwarf", h, NULL, 0);
    assert_int_equal(r.status, 304);
    http_response_release(&r);
    json_t *levels = get_reference("/api/2014/classes/cleric/levels", NULL);
    assert_true(json_is_array(levels)); /* a bare array, as dnd5eapi returns it */
    assert_int_equal(json_array_size(levels), 20);
    assert_int_equal(json_integer_value(json_object_get(json_array_get(levels, 0), "prof_bonus")), 2);
    assert_int_equal(json_integer_value(json_object_get(json_array_get(levels, 19), "prof_bonus")), 6);
    json_decref(levels);
    json_t *cleric = get_reference("/api/2014/classes/cleric", NULL);
    assert_int_equal(json_integer_value(json_object_get(cleric, "hit_die")), 8);
    check_links(cleric, 0);
    json_decref(cleric);
    const char *missing[] = {"/api/2014/races/orc", "/api/2014/dragons", "/api/2014/classes/cleric/levels/21"};
    for (size_t i = 0; i < 3; i++) {
        const char *hr[] = {auth_read, NULL};
        req(&r, "GET", missing[i], hr, NULL, 0);
        json_decref(expect_problem(&r, 404));
        http_response_release(&r);
    }
    req(&r, "GET", "/api/2014/races", NULL, NULL, 0); /* auth.public_reference is off by default */
    json_decref(expect_problem(&r, 401));
    http_response_release(&r);
}

/* HEAD is served wherever GET is: same status and headers, no body (RFC 9110 9.3.2). */
static void test_head(void **state)
{
    (void)state;
    struct http_response r;
    req(&r, "HEAD", "/healthz", NULL, NULL, 0);
    assert_int_equal(r.status, 200);
    assert_int_equal(r.body_len, 0);
    char cl[32];
    assert_int_equal(http_response_header(&r, "content-length", cl, sizeof(cl)), 1);
    assert_string_equal(cl, "15");
    http_response_release(&r);
}

/*
 * Last: the shared server stops cleanly on SIGTERM (exit status 0) and its log
 * holds no sanitizer report or crash from anything the suite did. In the
 * sanitizer build this is what turns a server-side memory error into a failure.
 */
static void test_clean_stop_and_log(void **state)
{
    (void)state;
    int status = harness_server_stop(&srv);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    char *log = harness_server_log(&srv);
    assert_non_null(log);
    const char *bad[] = {"AddressSanitizer", "LeakSanitizer", "runtime error:", "out of memory"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        if (strstr(log, bad[i]) != NULL)
            fail_msg("server log reports \"%s\":\n%s", bad[i], log);
    free(log);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_healthz),
        cmocka_unit_test(test_readyz),
        cmocka_unit_test(test_request_id),
        cmocka_unit_test(test_auth_missing_token),
        cmocka_unit_test(test_auth_bad_tokens),
        cmocka_unit_test(test_auth_scheme_case_insensitive),
        cmocka_unit_test(test_auth_read_scope),
        cmocka_unit_test(test_auth_before_routing),
        cmocka_unit_test(test_create_and_get),
        cmocka_unit_test(test_conditional_get),
        cmocka_unit_test(test_created_visible_on_every_worker),
        cmocka_unit_test(test_validation_name),
        cmocka_unit_test(test_validation_fields),
        cmocka_unit_test(test_bad_json),
        cmocka_unit_test(test_body_limit_default),
        cmocka_unit_test_teardown(test_body_limit_from_environment, aux_teardown),
        cmocka_unit_test(test_media_type),
        cmocka_unit_test(test_not_found),
        cmocka_unit_test(test_method_not_allowed),
        cmocka_unit_test(test_worker_kill_respawn),
        cmocka_unit_test_teardown(test_graceful_stop_closes_idle_connections, aux_teardown),
        cmocka_unit_test(test_config_bad_workers),
        cmocka_unit_test(test_config_no_token),
        cmocka_unit_test(test_config_pending_migration),
        cmocka_unit_test(test_token_command),
        cmocka_unit_test(test_version),
        cmocka_unit_test(test_check_config),
        cmocka_unit_test(test_head),
        cmocka_unit_test(test_rolls),
        cmocka_unit_test(test_reference),
        cmocka_unit_test(test_roll_ability_scores),
        cmocka_unit_test(test_clean_stop_and_log),
    };
    const char *only = getenv("E2E_TEST_FILTER"); /* e.g. "test_graceful*": run the matching tests only */
    if (only != NULL && only[0] != '\0')
        cmocka_set_test_filter(only);
    return cmocka_run_group_tests_name("e2e", tests, group_setup, group_teardown);
}
