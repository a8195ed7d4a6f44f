/*
 * tests/unit/test_metrics.c - server/metrics.c without a server: label
 * escaping, route families by path, and the gauges rendered from a sync
 * status block (HarperDB up, stuck, off; outbox depth and age). The counters
 * themselves are checked end to end in tests/e2e/test_metrics.c.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "server/metrics.h"

static void test_escape_label(void **state)
{
    (void)state;
    char buf[64];
    size_t at = 0;
    metrics_escape_label("a\\b\"c\nd", buf, sizeof(buf), &at);
    assert_string_equal(buf, "a\\\\b\\\"c\\nd");
    assert_int_equal(at, strlen(buf));
    /* Cut at the buffer's end, still terminated, with the full length counted. */
    char small[4];
    at = 0;
    metrics_escape_label("\"\"\"", small, sizeof(small), &at);
    assert_int_equal(at, 6);
    assert_string_equal(small, "\\\"\\");
}

static void test_route_families(void **state)
{
    (void)state;
    static const struct {
        const char *path;
        enum metrics_route want;
    } cases[] = {
        {"/v1/characters", METRICS_ROUTE_CHARACTERS},
        {"/v1/characters/abc/level-up", METRICS_ROUTE_CHARACTERS},
        {"/v1/charactersX", METRICS_ROUTE_OTHER},
        {"/v1/rolls/ability-scores", METRICS_ROUTE_ROLLS},
        {"/api/2014", METRICS_ROUTE_REFERENCE},
        {"/api/2014/classes/wizard/levels/3", METRICS_ROUTE_REFERENCE},
        {"/api/20145", METRICS_ROUTE_OTHER},
        {"/healthz", METRICS_ROUTE_HEALTH},
        {"/readyz", METRICS_ROUTE_HEALTH},
        {"/readyz/x", METRICS_ROUTE_OTHER},
        {"/metrics", METRICS_ROUTE_OTHER},
        {"/", METRICS_ROUTE_OTHER},
        {"", METRICS_ROUTE_OTHER},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        if (metrics_route_of(cases[i].path, strlen(cases[i].path)) != cases[i].want)
            fail_msg("%s: wrong route family", cases[i].path);
    assert_int_equal(metrics_route_of(NULL, 0), METRICS_ROUTE_OTHER);
}

/* Render `v` and find the line starting with `prefix` (followed by a space); its value text into out. */
static int rendered(const struct metrics_view *v, const char *prefix, char *out, size_t outlen)
{
    static char buf[16384];
    size_t n = metrics_render(v, buf, sizeof(buf));
    assert_true(n < sizeof(buf));
    assert_int_equal(strlen(buf), n);
    size_t pl = strlen(prefix);
    for (const char *line = buf; *line != '\0';) {
        const char *eol = strchr(line, '\n');
        assert_non_null(eol);
        if ((size_t)(eol - line) > pl && memcmp(line, prefix, pl) == 0 && line[pl] == ' ') {
            snprintf(out, outlen, "%.*s", (int)(eol - line - (long)pl - 1), line + pl + 1);
            return 1;
        }
        line = eol + 1;
    }
    return 0;
}

static void test_gauges_from_sync_status(void **state)
{
    (void)state;
    struct sync_status st = {.harper = SYNC_OK, .outbox_depth = 7, .oldest_ms = 100000 - 2500};
    struct metrics_view v = {
        .sync = &st, .write_through = 1, .write_timeout_ms = 500, .now_ms = 100000, .version = "1.2\"x"};
    char val[64];
    assert_true(rendered(&v, "harperdb_up", val, sizeof(val)));
    assert_string_equal(val, "1");
    assert_true(rendered(&v, "outbox_depth", val, sizeof(val)));
    assert_string_equal(val, "7");
    assert_true(rendered(&v, "outbox_oldest_age_seconds", val, sizeof(val)));
    assert_string_equal(val, "2.500");
    assert_true(rendered(&v, "character_api_build_info{version=\"1.2\\\"x\"}", val, sizeof(val)));
    assert_string_equal(val, "1");
    /* Without a block: no per-worker counters, the gauges still there. */
    assert_false(rendered(&v, "http_request_duration_seconds_count", val, sizeof(val)));

    st.busy_since_ms = 100000 - 600; /* a HarperDB call hanging past the write timeout: down, as /readyz says */
    assert_true(rendered(&v, "harperdb_up", val, sizeof(val)));
    assert_string_equal(val, "0");
    st.busy_since_ms = 100000 - 100;
    assert_true(rendered(&v, "harperdb_up", val, sizeof(val)));
    assert_string_equal(val, "1");
    st.harper = SYNC_DEGRADED;
    assert_true(rendered(&v, "harperdb_up", val, sizeof(val)));
    assert_string_equal(val, "0");
    st.harper = SYNC_OK;
    v.write_through = 0; /* offline */
    assert_true(rendered(&v, "harperdb_up", val, sizeof(val)));
    assert_string_equal(val, "0");
}

static void test_render_counts_what_it_needs(void **state)
{
    (void)state;
    struct metrics *m = metrics_new(1);
    assert_non_null(m);
    struct metrics_view v = {.m = m, .now_ms = 1, .version = "v"};
    char big[16384];
    size_t need = metrics_render(&v, big, sizeof(big));
    assert_true(need > 0 && need < sizeof(big));
    /* A short buffer gets a cut, terminated text and the same length to retry with. */
    char small[100];
    assert_int_equal(metrics_render(&v, small, sizeof(small)), need);
    assert_int_equal(strlen(small), sizeof(small) - 1);
    assert_memory_equal(small, big, sizeof(small) - 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_escape_label),
        cmocka_unit_test(test_route_families),
        cmocka_unit_test(test_gauges_from_sync_status),
        cmocka_unit_test(test_render_counts_what_it_needs),
    };
    return cmocka_run_group_tests_name("metrics", tests, NULL, NULL);
}
