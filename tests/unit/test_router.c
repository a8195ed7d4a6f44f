/*
 * tests/unit/test_router.c - route matching (server/router.c) and the JSON
 * body helpers (server/http.c) the pipeline relies on.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "server/http.h"
#include "server/router.h"

static void h(struct route_ctx *rc)
{
    (void)rc;
}

static const struct route table[] = {
    {"GET", "/healthz", h, ROUTE_PUBLIC},
    {"POST", "/v1/characters", h, ROUTE_WRITE},
    {"GET", "/v1/characters", h, 0},
    {"GET", "/v1/characters/{id}", h, 0},
    {"DELETE", "/v1/characters/{id}", h, ROUTE_WRITE},
    {"POST", "/v1/characters/{id}/level-up", h, ROUTE_WRITE},
};
#define N (sizeof(table) / sizeof(table[0]))

static enum router_result m(const char *method, const char *path, struct route_match *rm)
{
    return router_match(table, N, method, strlen(method), path, strlen(path), rm);
}

static void test_literal_and_params(void **state)
{
    (void)state;
    struct route_match rm;
    assert_int_equal(m("GET", "/healthz", &rm), ROUTER_FOUND);
    assert_ptr_equal(rm.route, &table[0]);
    assert_int_equal(m("GET", "/v1/characters/abc", &rm), ROUTER_FOUND);
    assert_ptr_equal(rm.route, &table[3]);
    assert_int_equal(rm.nparams, 1);
    assert_int_equal(rm.params[0].len, 3);
    assert_memory_equal(rm.params[0].base, "abc", 3);
    assert_int_equal(m("HEAD", "/v1/characters/abc", &rm), ROUTER_FOUND); /* HEAD is served as GET */
    assert_ptr_equal(rm.route, &table[3]);
    assert_int_equal(m("POST", "/v1/characters/xyz/level-up", &rm), ROUTER_FOUND);
    assert_ptr_equal(rm.route, &table[5]);
    assert_memory_equal(rm.params[0].base, "xyz", 3);
}

static void test_not_found(void **state)
{
    (void)state;
    struct route_match rm;
    assert_int_equal(m("GET", "/healthz/", &rm), ROUTER_NO_PATH);
    assert_int_equal(m("GET", "/v1/characters/", &rm), ROUTER_NO_PATH); /* empty placeholder */
    assert_int_equal(m("GET", "/v1/characters/a/b", &rm), ROUTER_NO_PATH);
    assert_int_equal(m("GET", "/v1", &rm), ROUTER_NO_PATH);
    assert_int_equal(m("GET", "", &rm), ROUTER_NO_PATH);
}

static void test_method_not_allowed_lists_allow(void **state)
{
    (void)state;
    struct route_match rm;
    assert_int_equal(m("PUT", "/v1/characters", &rm), ROUTER_NO_METHOD);
    assert_string_equal(rm.allow, "POST, GET, HEAD");
    assert_int_equal(m("PATCH", "/v1/characters/1", &rm), ROUTER_NO_METHOD);
    assert_string_equal(rm.allow, "GET, HEAD, DELETE");
    assert_int_equal(m("DELETE", "/healthz", &rm), ROUTER_NO_METHOD);
    assert_string_equal(rm.allow, "GET, HEAD");
    assert_true(rm.path_flags & ROUTE_PUBLIC); /* so a wrong method on a public route needs no token */
    assert_int_equal(m("PUT", "/v1/characters", &rm), ROUTER_NO_METHOD);
    assert_false(rm.path_flags & ROUTE_PUBLIC);
}

static void test_json_types(void **state)
{
    (void)state;
#define CT(s, mp) http_is_json_type(s, strlen(s), mp)
    assert_true(CT("application/json", 0));
    assert_true(CT("Application/JSON", 0));
    assert_true(CT("application/json; charset=utf-8", 0));
    assert_true(CT("application/json;charset=\"UTF-8\"", 0));
    assert_false(CT("application/json; charset=latin1", 0));
    assert_false(CT("application/jsonx", 0));
    assert_false(CT("text/plain", 0));
    assert_false(CT("application/merge-patch+json", 0));
    assert_true(CT("application/merge-patch+json", 1));
#undef CT
}

static void test_json_parse_bounds(void **state)
{
    (void)state;
    char msg[256], buf[200];
    json_t *v = http_parse_json("{\"a\": [1, 2]}", 13, msg, sizeof(msg));
    assert_non_null(v);
    json_decref(v);
    /* 32 levels pass, 33 do not; brackets inside strings do not count. */
    memset(buf, '[', 32);
    memset(buf + 32, ']', 32);
    v = http_parse_json(buf, 64, msg, sizeof(msg));
    assert_non_null(v);
    json_decref(v);
    memset(buf, '[', 33);
    memset(buf + 33, ']', 33);
    assert_null(http_parse_json(buf, 66, msg, sizeof(msg)));
    assert_non_null(strstr(msg, "nesting"));
    const char *str = "{\"x\": \"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[\"}";
    v = http_parse_json(str, strlen(str), msg, sizeof(msg));
    assert_non_null(v);
    json_decref(v);
    assert_null(http_parse_json("{\"a\": 1,}", 9, msg, sizeof(msg)));
    assert_non_null(strstr(msg, "line 1"));
    assert_null(http_parse_json("\"\xff\xfe\"", 4, msg, sizeof(msg))); /* invalid UTF-8 */
    assert_null(http_parse_json("{\"a\":1,\"a\":2}", 13, msg, sizeof(msg))); /* duplicate key */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_literal_and_params),
        cmocka_unit_test(test_not_found),
        cmocka_unit_test(test_method_not_allowed_lists_allow),
        cmocka_unit_test(test_json_types),
        cmocka_unit_test(test_json_parse_bounds),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
