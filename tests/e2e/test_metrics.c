/*
 * tests/e2e/test_metrics.c - GET /metrics through the real character-server
 * (see harness.h): it needs a token, its text parses as the Prometheus text
 * exposition format (a line checker below), its counters move by exactly
 * what a known set of requests should add on a one-worker server, they are
 * summed over several workers, and they survive a worker's restart, which
 * worker_restarts_total counts. Each test starts its own server.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <ctype.h>
#include <curl/curl.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"

static struct harness_server srv;
static char auth_write[128], auth_read[128];

static void start(int workers)
{
    char why[2048];
    struct harness_options o = {.workers = workers};
    if (harness_server_start(&srv, &o, why, sizeof(why)) != 0)
        fail_msg("cannot start the server: %s", why);
    snprintf(auth_write, sizeof(auth_write), "Authorization: Bearer %s", srv.write_token);
    snprintf(auth_read, sizeof(auth_read), "Authorization: Bearer %s", srv.read_token);
}

static int teardown(void **state)
{
    (void)state;
    harness_server_cleanup(&srv);
    return 0;
}

/* One request on a fresh connection; returns the status (0: no answer). Headers h1, h2 may be NULL. */
static long req(struct http_response *r, const char *method, const char *path, const char *h1, const char *h2,
                const char *body)
{
    char url[512];
    snprintf(url, sizeof(url), "%s%s", srv.base_url, path);
    const char *h[3] = {h1, h2, NULL};
    if (h1 == NULL)
        h[0] = h2, h[1] = NULL;
    if (http_request(method, url, h, body, body != NULL ? strlen(body) : 0, r) != 0)
        fail_msg("%s %s: %s", method, path, r->error);
    return r->status;
}

static long status_of(const char *method, const char *path, const char *h1, const char *h2, const char *body)
{
    struct http_response r;
    long s = req(&r, method, path, h1, h2, body);
    http_response_release(&r);
    return s;
}

/* ---- the exposition-format line checker ---------------------------------------- */

#define MAX_SERIES 128
#define MAX_FAMILIES 32

/* One scrape: every sample's series ("name{labels}" as written) and value. */
struct scrape {
    size_t n;
    char series[MAX_SERIES][160];
    double value[MAX_SERIES];
};

static int name_start(char c)
{
    return isalpha((unsigned char)c) || c == '_' || c == ':';
}

static int name_char(char c)
{
    return isalnum((unsigned char)c) || c == '_' || c == ':';
}

/* Length of the metric name at p (0 when none). */
static size_t metric_name(const char *p)
{
    size_t n = 0;
    if (!name_start(p[0]))
        return 0;
    while (name_char(p[n]))
        n++;
    return n;
}

/* A sample value: a float, or +Inf, -Inf, NaN. 1 when the whole of [p, end) is one. */
static int parse_value(const char *p, size_t len, double *out)
{
    char tmp[64];
    if (len == 0 || len >= sizeof(tmp))
        return 0;
    memcpy(tmp, p, len);
    tmp[len] = '\0';
    if (strcmp(tmp, "+Inf") == 0 || strcmp(tmp, "-Inf") == 0 || strcmp(tmp, "NaN") == 0) {
        *out = strcmp(tmp, "NaN") == 0 ? NAN : tmp[0] == '+' ? INFINITY : -INFINITY;
        return 1;
    }
    char *end;
    *out = strtod(tmp, &end);
    return end == tmp + len && isfinite(*out);
}

/* The family a sample name belongs to, given the TYPE declared for its base name. */
struct family {
    char name[96];
    char type[16];
    int has_help, has_samples, closed;
};

static struct family *family_find(struct family *f, size_t n, const char *name, size_t len)
{
    for (size_t i = 0; i < n; i++)
        if (strlen(f[i].name) == len && memcmp(f[i].name, name, len) == 0)
            return &f[i];
    return NULL;
}

/*
 * Check `text` line by line against the text format and fill *s. Fails the
 * test naming the line on: a line that is neither a comment nor a sample; a
 * bad metric or label name; a label value with a raw quote, newline or an
 * escape other than \\ \" \n; a bad value; a sample before its family's
 * TYPE, or with a name its type does not allow; a family split in two; two
 * TYPE or HELP lines for one family; a duplicate series; no final newline.
 */
static void check_format(const char *text, size_t len, struct scrape *s)
{
    struct family fam[MAX_FAMILIES];
    size_t nfam = 0;
    struct family *current = NULL;
    memset(s, 0, sizeof(*s));
    if (len == 0 || text[len - 1] != '\n')
        fail_msg("the exposition text must end with a newline");
    int lineno = 0;
    for (const char *line = text; line < text + len;) {
        const char *eol = memchr(line, '\n', (size_t)(text + len - line));
        size_t ll = (size_t)(eol - line);
        lineno++;
        char shown[200];
        snprintf(shown, sizeof(shown), "%.*s", (int)(ll < 180 ? ll : 180), line);
        if (ll == 0)
            fail_msg("line %d is empty", lineno);
        if (line[0] == '#') {
            const char *p = line + 1;
            int help = ll > 7 && memcmp(line, "# HELP ", 7) == 0, type = ll > 7 && memcmp(line, "# TYPE ", 7) == 0;
            if (help || type) {
                p = line + 7;
                size_t nl = metric_name(p);
                if (nl == 0 || nl >= sizeof(fam[0].name) || (p[nl] != ' ' && p + nl != eol))
                    fail_msg("line %d: bad metric name: %s", lineno, shown);
                struct family *f = family_find(fam, nfam, p, nl);
                if (f == NULL) {
                    if (nfam == MAX_FAMILIES)
                        fail_msg("more than %d families", MAX_FAMILIES);
                    f = &fam[nfam++];
                    memset(f, 0, sizeof(*f));
                    memcpy(f->name, p, nl);
                }
                if (f->has_samples)
                    fail_msg("line %d: %s comes after the family's samples: %s", lineno, help ? "HELP" : "TYPE", shown);
                if (help) {
                    if (f->has_help++)
                        fail_msg("line %d: second HELP for %s", lineno, f->name);
                    /* HELP text escapes only backslash and newline. */
                    for (const char *q = p + nl; q < eol; q++)
                        if (*q == '\\' && (q + 1 >= eol || (q[1] != '\\' && q[1] != 'n')))
                            fail_msg("line %d: bad escape in HELP: %s", lineno, shown);
                } else {
                    if (f->type[0] != '\0')
                        fail_msg("line %d: second TYPE for %s", lineno, f->name);
                    const char *t = p + nl + 1;
                    size_t tl = (size_t)(eol - t);
                    static const char *const types[] = {"counter", "gauge", "histogram", "summary", "untyped"};
                    int ok = 0;
                    for (size_t i = 0; i < 5; i++)
                        ok |= strlen(types[i]) == tl && memcmp(types[i], t, tl) == 0;
                    if (!ok || p[nl] != ' ')
                        fail_msg("line %d: bad TYPE: %s", lineno, shown);
                    memcpy(f->type, t, tl);
                }
            }
            line = eol + 1;
            continue; /* other comments are allowed */
        }

        /* A sample: name [{labels}] value [timestamp] */
        size_t nl = metric_name(line);
        if (nl == 0)
            fail_msg("line %d: not a sample: %s", lineno, shown);
        const char *p = line + nl;
        int has_le = 0;
        if (*p == '{') {
            p++;
            int first = 1;
            while (*p != '}') {
                if (!first) {
                    if (*p != ',')
                        fail_msg("line %d: labels not separated by a comma: %s", lineno, shown);
                    p++;
                    if (*p == '}')
                        break; /* a trailing comma is allowed */
                }
                first = 0;
                const char *ln = p;
                if (!(isalpha((unsigned char)*p) || *p == '_'))
                    fail_msg("line %d: bad label name: %s", lineno, shown);
                while (isalnum((unsigned char)*p) || *p == '_')
                    p++;
                if ((size_t)(p - ln) == 2 && memcmp(ln, "le", 2) == 0)
                    has_le = 1;
                if (p[0] != '=' || p[1] != '"')
                    fail_msg("line %d: label without =\"value\": %s", lineno, shown);
                for (p += 2; *p != '"'; p++) {
                    if (p >= eol)
                        fail_msg("line %d: unterminated label value: %s", lineno, shown);
                    if (*p == '\\') {
                        if (p[1] != '\\' && p[1] != '"' && p[1] != 'n')
                            fail_msg("line %d: bad escape in a label value: %s", lineno, shown);
                        p++;
                    }
                }
                p++;
            }
            p++;
        }
        if (*p != ' ')
            fail_msg("line %d: no space before the value: %s", lineno, shown);
        p++;
        const char *v = p;
        while (p < eol && *p != ' ')
            p++;
        double value = 0;
        if (!parse_value(v, (size_t)(p - v), &value))
            fail_msg("line %d: bad value: %s", lineno, shown);
        if (p < eol) { /* an optional integer timestamp */
            const char *t = ++p;
            if (*p == '-')
                p++;
            while (p < eol && isdigit((unsigned char)*p))
                p++;
            if (p != eol || p == t)
                fail_msg("line %d: bad timestamp: %s", lineno, shown);
        }

        /* Which family: the name itself, or a histogram's/summary's base name. */
        struct family *f = family_find(fam, nfam, line, nl);
        static const char *const suffixes[] = {"_bucket", "_sum", "_count"};
        size_t which = 3;
        for (size_t i = 0; f == NULL && i < 3; i++) {
            size_t sl = strlen(suffixes[i]);
            if (nl > sl && memcmp(line + nl - sl, suffixes[i], sl) == 0) {
                f = family_find(fam, nfam, line, nl - sl);
                which = i;
            }
        }
        if (f == NULL || f->type[0] == '\0')
            fail_msg("line %d: sample before its family's TYPE: %s", lineno, shown);
        int hist = strcmp(f->type, "histogram") == 0;
        if (hist && which == 3)
            fail_msg("line %d: a histogram's sample must be _bucket, _sum or _count: %s", lineno, shown);
        if (!hist && which != 3 && strcmp(f->type, "summary") != 0)
            fail_msg("line %d: a %s cannot have %s: %s", lineno, f->type, suffixes[which], shown);
        if (hist && which == 0 && !has_le)
            fail_msg("line %d: a bucket without le: %s", lineno, shown);
        if (strcmp(f->type, "counter") == 0 && !(value >= 0))
            fail_msg("line %d: a negative counter: %s", lineno, shown);
        if (f->closed)
            fail_msg("line %d: family %s is split by another family: %s", lineno, f->name, shown);
        if (current != NULL && current != f)
            current->closed = 1;
        current = f;
        f->has_samples = 1;

        size_t sl = (size_t)(v - 1 - line);
        if (sl >= sizeof(s->series[0]) || s->n == MAX_SERIES)
            fail_msg("line %d: series too long or too many: %s", lineno, shown);
        for (size_t i = 0; i < s->n; i++)
            if (strlen(s->series[i]) == sl && memcmp(s->series[i], line, sl) == 0)
                fail_msg("line %d: duplicate series: %s", lineno, shown);
        memcpy(s->series[s->n], line, sl);
        s->series[s->n][sl] = '\0';
        s->value[s->n++] = value;
        line = eol + 1;
    }
}

/* The value of `series`, failing when the scrape lacks it. */
static double value_of(const struct scrape *s, const char *series)
{
    for (size_t i = 0; i < s->n; i++)
        if (strcmp(s->series[i], series) == 0)
            return s->value[i];
    fail_msg("the scrape has no series %s", series);
    return 0;
}

/* GET /metrics with the read token, check the format and the histogram's own rules, fill *s. */
static void scrape(struct scrape *s)
{
    struct http_response r;
    long st = req(&r, "GET", "/metrics", auth_read, NULL, NULL);
    if (st != 200)
        fail_msg("GET /metrics: %ld %s", st, r.body);
    char ct[128];
    assert_true(http_response_header(&r, "content-type", ct, sizeof(ct)));
    assert_string_equal(ct, "text/plain; version=0.0.4; charset=utf-8");
    check_format(r.body, r.body_len, s);
    http_response_release(&r);

    /* Buckets rise with le, end at +Inf, and +Inf equals _count. */
    double prev = -1, inf = -1;
    for (size_t i = 0; i < s->n; i++) {
        if (strncmp(s->series[i], "http_request_duration_seconds_bucket{", 37) != 0)
            continue;
        if (s->value[i] < prev)
            fail_msg("bucket %s = %g is below the one before (%g)", s->series[i], s->value[i], prev);
        prev = s->value[i];
        if (strstr(s->series[i], "le=\"+Inf\"") != NULL)
            inf = s->value[i];
    }
    assert_true(inf >= 0);
    assert_true(inf == value_of(s, "http_request_duration_seconds_count"));
}

/* ---- tests ---------------------------------------------------------------------- */

static void test_needs_a_token(void **state)
{
    (void)state;
    start(1);
    struct http_response r;
    assert_int_equal(req(&r, "GET", "/metrics", NULL, NULL, NULL), 401);
    char ct[128];
    assert_true(http_response_header(&r, "content-type", ct, sizeof(ct)));
    assert_string_equal(ct, "application/problem+json");
    http_response_release(&r);
    assert_int_equal(status_of("GET", "/metrics", "Authorization: Bearer not-a-token", NULL, NULL), 401);
    assert_int_equal(status_of("POST", "/metrics", auth_write, NULL, NULL), 405);
    assert_int_equal(status_of("GET", "/metrics", auth_write, NULL, NULL), 200);
    assert_int_equal(status_of("GET", "/metrics", auth_read, NULL, NULL), 200);
}

static void test_format_and_gauges(void **state)
{
    (void)state;
    time_t before = time(NULL);
    start(1);
    struct scrape s;
    scrape(&s);
    /* Every route family and status class is there from the start, at 0 or more. */
    static const char *const routes[] = {"characters", "rolls", "reference", "health", "other"};
    static const char *const classes[] = {"2xx", "3xx", "4xx", "5xx"};
    for (size_t i = 0; i < 5; i++)
        for (size_t j = 0; j < 4; j++) {
            char series[128];
            snprintf(series, sizeof(series), "http_requests_total{route=\"%s\",code=\"%s\"}", routes[i], classes[j]);
            assert_true(value_of(&s, series) >= 0);
        }
    /* Offline: nothing queued, no HarperDB. */
    assert_true(value_of(&s, "outbox_depth") == 0);
    assert_true(value_of(&s, "outbox_oldest_age_seconds") == 0);
    assert_true(value_of(&s, "harperdb_up") == 0);
    assert_true(value_of(&s, "worker_restarts_total") == 0);
    double started = value_of(&s, "process_start_time_seconds");
    assert_true(started >= (double)before - 1 && started <= (double)time(NULL) + 1);

    /* The version label is the one --version prints. */
    char bin[PATH_MAX];
    const char *argv[] = {harness_binary(bin, sizeof(bin)), "--version", NULL};
    struct harness_output out;
    assert_int_equal(harness_run(argv, NULL, 10, &out), 0);
    char version[64] = "", series[128];
    assert_int_equal(sscanf(out.out, "character-server %63s", version), 1);
    free(out.out);
    free(out.err);
    snprintf(series, sizeof(series), "character_api_build_info{version=\"%s\"}", version);
    assert_true(value_of(&s, series) == 1);
}

/* The difference of one series between two scrapes. */
static double delta(const struct scrape *a, const struct scrape *b, const char *series)
{
    return value_of(b, series) - value_of(a, series);
}

static void test_counters_move_exactly(void **state)
{
    (void)state;
    start(1);
    struct scrape a, b;
    scrape(&a);

    /* characters: 201 create, 200 PATCH, 204 DELETE, 404 unknown id, 422 bad build, 401 no token */
    char body[2048], path[128], loc[128];
    snprintf(body, sizeof(body), HARNESS_BUILD_FMT, "Metric");
    struct http_response r;
    assert_int_equal(req(&r, "POST", "/v1/characters", auth_write, "Content-Type: application/json", body), 201);
    assert_true(http_response_header(&r, "location", loc, sizeof(loc)));
    http_response_release(&r);
    assert_int_equal(
        status_of("PATCH", loc, auth_write, "Content-Type: application/merge-patch+json", "{\"name\":\"Metric II\"}"),
        200);
    assert_int_equal(status_of("DELETE", loc, auth_write, NULL, NULL), 204);
    snprintf(path, sizeof(path), "/v1/characters/%s", "00000000-0000-4000-8000-000000000000");
    assert_int_equal(status_of("GET", path, auth_read, NULL, NULL), 404);
    assert_int_equal(
        status_of("POST", "/v1/characters", auth_write, "Content-Type: application/json", "{\"name\":\"Incomplete\"}"),
        422);
    assert_int_equal(status_of("GET", "/v1/characters", NULL, NULL, NULL), 401);
    /* rolls 200, health 200 (no token), other 404 */
    assert_int_equal(
        status_of("POST", "/v1/rolls", auth_read, "Content-Type: application/json", "{\"expression\":\"1d6\"}"), 200);
    assert_int_equal(status_of("GET", "/healthz", NULL, NULL, NULL), 200);
    assert_int_equal(status_of("GET", "/no-such-route", auth_read, NULL, NULL), 404);

    scrape(&b);
    struct {
        const char *series;
        double want;
    } expect[] = {
        {"http_requests_total{route=\"characters\",code=\"2xx\"}", 3},
        {"http_requests_total{route=\"characters\",code=\"3xx\"}", 0},
        {"http_requests_total{route=\"characters\",code=\"4xx\"}", 3},
        {"http_requests_total{route=\"characters\",code=\"5xx\"}", 0},
        {"http_requests_total{route=\"rolls\",code=\"2xx\"}", 1},
        {"http_requests_total{route=\"rolls\",code=\"4xx\"}", 0},
        {"http_requests_total{route=\"reference\",code=\"2xx\"}", 0},
        {"http_requests_total{route=\"health\",code=\"2xx\"}", 1},
        {"http_requests_total{route=\"other\",code=\"2xx\"}", 1}, /* the first scrape */
        {"http_requests_total{route=\"other\",code=\"4xx\"}", 1},
        {"http_requests_total{route=\"other\",code=\"5xx\"}", 0},
        {"http_request_duration_seconds_count", 10},
        {"characters_created_total", 1},
        {"characters_updated_total", 1},
        {"characters_deleted_total", 1},
        {"worker_restarts_total", 0},
    };
    for (size_t i = 0; i < sizeof(expect) / sizeof(expect[0]); i++) {
        double d = delta(&a, &b, expect[i].series);
        if (d != expect[i].want)
            fail_msg("%s moved by %g, expected %g", expect[i].series, d, expect[i].want);
    }
    /* Ten quick local requests took some time, but not more than 10 s together. */
    double dsum = delta(&a, &b, "http_request_duration_seconds_sum");
    assert_true(dsum > 0 && dsum < 10);
}

/* With two workers a scrape answered by either one counts every worker's requests. */
static void test_summed_over_workers(void **state)
{
    (void)state;
    start(2);
    struct scrape a, b;
    scrape(&a);
    for (int i = 0; i < 30; i++)
        assert_int_equal(status_of("GET", "/healthz", NULL, NULL, NULL), 200);
    scrape(&b);
    assert_true(delta(&a, &b, "http_requests_total{route=\"health\",code=\"2xx\"}") == 30);
    assert_true(delta(&a, &b, "http_requests_total{route=\"other\",code=\"2xx\"}") == 1);
}

/* A worker killed and started again keeps its counts and is counted as a restart. */
static void test_restart_counted(void **state)
{
    (void)state;
    start(1);
    for (int i = 0; i < 5; i++)
        assert_int_equal(status_of("GET", "/healthz", NULL, NULL, NULL), 200);
    struct scrape a, b;
    scrape(&a);
    pid_t pids[4];
    assert_int_equal(harness_server_workers(&srv, pids, 4), 1);
    assert_int_equal(kill(pids[0], SIGKILL), 0);
    /* Wait for another worker to serve (the master backs off at most 0.2 s after one quick death). */
    pid_t now[4];
    int served = 0;
    for (int i = 0; i < 100 && !served; i++) {
        usleep(100 * 1000);
        served = harness_server_workers(&srv, now, 4) == 1 && now[0] != pids[0] &&
                 status_of("GET", "/healthz", NULL, NULL, NULL) == 200;
    }
    assert_true(served);
    scrape(&b);
    assert_true(value_of(&b, "worker_restarts_total") == 1);
    /* The dead worker's counts stay: its 5 + the first scrape's 1, plus at least the /healthz that answered. */
    assert_true(delta(&a, &b, "http_requests_total{route=\"health\",code=\"2xx\"}") >= 1);
    assert_true(value_of(&b, "http_requests_total{route=\"health\",code=\"2xx\"}") >=
                value_of(&a, "http_requests_total{route=\"health\",code=\"2xx\"}") + 1);
    assert_true(value_of(&a, "http_requests_total{route=\"health\",code=\"2xx\"}") >= 5);
}

int main(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_needs_a_token, teardown),
        cmocka_unit_test_teardown(test_format_and_gauges, teardown),
        cmocka_unit_test_teardown(test_counters_move_exactly, teardown),
        cmocka_unit_test_teardown(test_summed_over_workers, teardown),
        cmocka_unit_test_teardown(test_restart_counted, teardown),
    };
    int rc = cmocka_run_group_tests_name("metrics", tests, NULL, NULL);
    harness_cleanup_all();
    return rc;
}
