/*
 * server/metrics.c - see metrics.h. The hot path is metrics_request_done():
 * a few comparisons to find the route family, one clock read and four
 * increments in the worker's own slot.
 */
#include "server/metrics.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/time.h>
#include <unistd.h>

#include "server/http.h"
#include "server/routes.h"
#include "server/worker.h"

#define NCLASSES 4 /* 2xx 3xx 4xx 5xx */
#define NBUCKETS 8
#define RENDER_MAX 65536 /* bytes of one scrape; the text is about 4 kB */

/* Upper bounds of the duration buckets in microseconds and as printed ("le"). */
static const uint64_t bucket_us[NBUCKETS] = {1000, 2500, 5000, 10000, 50000, 100000, 500000, 1000000};
static const char *const bucket_le[NBUCKETS] = {"0.001", "0.0025", "0.005", "0.01", "0.05", "0.1", "0.5", "1"};
static const char *const route_names[METRICS_NROUTES] = {"characters", "rolls", "reference", "health", "other"};
static const char *const class_names[NCLASSES] = {"2xx", "3xx", "4xx", "5xx"};

enum { CHAR_CREATED, CHAR_UPDATED, CHAR_DELETED, NCHAR };

/* One worker's counters; one writer each, so a cache line of its own. */
struct metrics_slot {
    _Alignas(64) uint64_t requests[METRICS_NROUTES][NCLASSES];
    uint64_t buckets[NBUCKETS]; /* per bucket, not cumulative; above the last: count minus their sum */
    uint64_t duration_count;
    uint64_t duration_sum_us;
    uint64_t characters[NCHAR];
};

struct metrics {
    int children;     /* its first starts, not restarts */
    uint64_t forks;   /* written by the master only */
    int64_t start_ms; /* when metrics_new() ran in the master */
    struct metrics_slot slots[METRICS_MAX_WORKERS];
};

static struct metrics_slot *mine; /* this worker's slot, found on first use */

#define LOAD(x) __atomic_load_n(&(x), __ATOMIC_RELAXED)
/* Single writer: a relaxed load and store, no locked instruction. */
#define BUMP(x, n) __atomic_store_n(&(x), __atomic_load_n(&(x), __ATOMIC_RELAXED) + (n), __ATOMIC_RELAXED)

void metrics_child_started(struct metrics *m)
{
    if (m != NULL)
        BUMP(m->forks, 1);
}

struct metrics *metrics_new(int children)
{
    void *p = mmap(NULL, sizeof(struct metrics), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        return NULL;
    struct metrics *m = p;
    memset(m, 0, sizeof(*m));
    m->children = children;
    m->start_ms = sync_now_ms();
    return m;
}

/* This worker's slot, or NULL outside a worker (the master, the syncer, unit tests) or without a block. */
static struct metrics_slot *slot_self(void)
{
    if (mine != NULL)
        return mine;
    struct worker *w = worker_self();
    if (w == NULL || w->rt == NULL || w->rt->metrics == NULL || w->index < 0 || w->index >= METRICS_MAX_WORKERS)
        return NULL;
    mine = &w->rt->metrics->slots[w->index];
    return mine;
}

static int has_prefix(const char *path, size_t len, const char *lit, size_t n)
{
    return len >= n && memcmp(path, lit, n) == 0 && (len == n || path[n] == '/');
}

enum metrics_route metrics_route_of(const char *path, size_t len)
{
    if (path == NULL)
        return METRICS_ROUTE_OTHER;
    if (has_prefix(path, len, H2O_STRLIT("/v1/characters")))
        return METRICS_ROUTE_CHARACTERS;
    if (has_prefix(path, len, H2O_STRLIT("/v1/rolls")))
        return METRICS_ROUTE_ROLLS;
    if (has_prefix(path, len, H2O_STRLIT("/api/2014")))
        return METRICS_ROUTE_REFERENCE;
    if ((len == 8 && memcmp(path, "/healthz", 8) == 0) || (len == 7 && memcmp(path, "/readyz", 7) == 0))
        return METRICS_ROUTE_HEALTH;
    return METRICS_ROUTE_OTHER;
}

void metrics_request_done(h2o_req_t *req, int status)
{
    struct metrics_slot *s = slot_self();
    if (s == NULL)
        return;
    int cls = status / 100 - 2;
    cls = cls < 0 ? 0 : cls >= NCLASSES ? NCLASSES - 1 : cls;
    BUMP(s->requests[metrics_route_of(req->path_normalized.base, req->path_normalized.len)][cls], 1);

    /* h2o stamps request_begin_at (its loop's clock) when the request's first bytes are read. */
    uint64_t us = 0;
    const struct timeval *t0 = &req->timestamps.request_begin_at;
    if (t0->tv_sec != 0) {
        struct timeval now;
        gettimeofday(&now, NULL);
        int64_t d = (int64_t)(now.tv_sec - t0->tv_sec) * 1000000 + (now.tv_usec - t0->tv_usec);
        us = d > 0 ? (uint64_t)d : 0;
    }
    for (int i = 0; i < NBUCKETS; i++) {
        if (us <= bucket_us[i]) {
            BUMP(s->buckets[i], 1);
            break;
        }
    }
    BUMP(s->duration_sum_us, us);
    BUMP(s->duration_count, 1);
}

void metrics_character_write(int status)
{
    struct metrics_slot *s = slot_self();
    if (s == NULL)
        return;
    if (status == 201)
        BUMP(s->characters[CHAR_CREATED], 1);
    else if (status == 200)
        BUMP(s->characters[CHAR_UPDATED], 1);
    else if (status == 204)
        BUMP(s->characters[CHAR_DELETED], 1);
}

/* ---- rendering ------------------------------------------------------------------- */

/* A bounded text buffer: writes what fits, counts what the whole text needs. */
struct out {
    char *buf;
    size_t cap, at;
};

static void put(struct out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(struct out *o, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(o->at < o->cap ? o->buf + o->at : NULL, o->at < o->cap ? o->cap - o->at : 0, fmt, ap);
    va_end(ap);
    if (n > 0)
        o->at += (size_t)n;
}

static void putc_bounded(char c, char *buf, size_t cap, size_t *at)
{
    if (*at + 1 < cap) {
        buf[*at] = c;
        buf[*at + 1] = '\0';
    }
    (*at)++;
}

void metrics_escape_label(const char *s, char *buf, size_t cap, size_t *at)
{
    for (; s != NULL && *s != '\0'; s++) {
        char c = *s;
        if (c == '\\' || c == '"' || c == '\n') {
            putc_bounded('\\', buf, cap, at);
            c = c == '\n' ? 'n' : c;
        }
        putc_bounded(c, buf, cap, at);
    }
}

/* HELP (plain text, no backslash or newline in ours) and TYPE lines. */
static void head(struct out *o, const char *name, const char *type, const char *help)
{
    put(o, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* Sum over every slot of the counter that `field0` points at in slot 0. */
static uint64_t sum(const struct metrics *m, const uint64_t *field0)
{
    size_t off = (size_t)((const char *)field0 - (const char *)&m->slots[0]);
    uint64_t total = 0;
    for (int i = 0; i < METRICS_MAX_WORKERS; i++) {
        const uint64_t *p = (const uint64_t *)((const char *)&m->slots[i] + off);
        total += __atomic_load_n(p, __ATOMIC_RELAXED);
    }
    return total;
}
#define SUM(m, field) sum((m), &(m)->slots[0].field)

size_t metrics_render(const struct metrics_view *v, char *buf, size_t cap)
{
    struct out o = {buf, cap, 0};
    const struct metrics *m = v->m;
    if (cap > 0)
        buf[0] = '\0';

    if (m != NULL) {
        head(&o, "http_requests_total", "counter", "HTTP responses sent, by route family and status class.");
        for (int r = 0; r < METRICS_NROUTES; r++)
            for (int c = 0; c < NCLASSES; c++)
                put(&o, "http_requests_total{route=\"%s\",code=\"%s\"} %llu\n", route_names[r], class_names[c],
                    (unsigned long long)SUM(m, requests[r][c]));

        head(&o, "http_request_duration_seconds", "histogram",
             "Time from the start of a request to its response being handed to the server.");
        uint64_t cumulative = 0;
        for (int b = 0; b < NBUCKETS; b++) {
            cumulative += SUM(m, buckets[b]);
            put(&o, "http_request_duration_seconds_bucket{le=\"%s\"} %llu\n", bucket_le[b],
                (unsigned long long)cumulative);
        }
        uint64_t count = SUM(m, duration_count);
        /* Slots are read one field at a time: keep +Inf from falling below a finite bucket. */
        if (count < cumulative)
            count = cumulative;
        uint64_t sum_us = SUM(m, duration_sum_us);
        put(&o, "http_request_duration_seconds_bucket{le=\"+Inf\"} %llu\n", (unsigned long long)count);
        put(&o, "http_request_duration_seconds_sum %llu.%06llu\n", (unsigned long long)(sum_us / 1000000),
            (unsigned long long)(sum_us % 1000000));
        put(&o, "http_request_duration_seconds_count %llu\n", (unsigned long long)count);

        static const char *const char_names[NCHAR] = {"characters_created_total", "characters_updated_total",
                                                      "characters_deleted_total"};
        static const char *const char_help[NCHAR] = {
            "Characters stored by POST /v1/characters and /v1/characters/random.",
            "Stored characters replaced (PUT, PATCH, level-up).", "Stored characters deleted."};
        for (int k = 0; k < NCHAR; k++) {
            head(&o, char_names[k], "counter", char_help[k]);
            put(&o, "%s %llu\n", char_names[k], (unsigned long long)SUM(m, characters[k]));
        }

        uint64_t forks = LOAD(m->forks);
        uint64_t restarts = forks > (uint64_t)m->children ? forks - (uint64_t)m->children : 0;
        head(&o, "worker_restarts_total", "counter",
             "Worker and syncer processes the master started again after one exited.");
        put(&o, "worker_restarts_total %llu\n", (unsigned long long)restarts);
    }

    const struct sync_status *st = v->sync;
    int64_t depth = st != NULL ? st->outbox_depth : 0, oldest = st != NULL ? st->oldest_ms : 0;
    int64_t busy = st != NULL ? st->busy_since_ms : 0;
    int stuck = busy > 0 && v->now_ms - busy > v->write_timeout_ms;
    int up = v->write_through && st != NULL && st->harper == SYNC_OK && !stuck;
    int64_t age_ms = oldest > 0 && v->now_ms > oldest ? v->now_ms - oldest : 0;
    head(&o, "outbox_depth", "gauge", "Writes committed locally and not yet acknowledged by HarperDB.");
    put(&o, "outbox_depth %lld\n", (long long)(depth > 0 ? depth : 0));
    head(&o, "outbox_oldest_age_seconds", "gauge", "Age of the oldest write waiting in the outbox (0 when empty).");
    put(&o, "outbox_oldest_age_seconds %lld.%03lld\n", (long long)(age_ms / 1000), (long long)(age_ms % 1000));
    head(&o, "harperdb_up", "gauge", "1 when HarperDB answers the syncer, 0 when it does not or none is configured.");
    put(&o, "harperdb_up %d\n", up);

    int64_t start = m != NULL ? m->start_ms : 0;
    head(&o, "process_start_time_seconds", "gauge", "Start time of the server (its master) since the Unix epoch.");
    put(&o, "process_start_time_seconds %lld.%03lld\n", (long long)(start / 1000), (long long)(start % 1000));

    head(&o, "character_api_build_info", "gauge", "The running build; always 1.");
    put(&o, "character_api_build_info{version=\"");
    metrics_escape_label(v->version, o.buf, o.cap, &o.at);
    put(&o, "\"} 1\n");
    return o.at;
}

void metrics_on_scrape(struct route_ctx *rc)
{
    const struct runtime *rt = rc->w->rt;
    struct metrics_view v = {.m = rt->metrics,
                             .sync = rt->sync,
                             .write_through = rt->write_through,
                             .write_timeout_ms = (int64_t)rt->settings->write_timeout_ms,
                             .now_ms = sync_now_ms(),
                             .version = PACKAGE_VERSION};
    char *buf = h2o_mem_alloc_pool(&rc->req->pool, RENDER_MAX);
    size_t len = metrics_render(&v, buf, RENDER_MAX);
    if (len >= RENDER_MAX)
        len = RENDER_MAX - 1; /* cannot happen with these fixed series; never send past the buffer */
    http_send(rc->req, 200, "text/plain; version=0.0.4; charset=utf-8", buf, len);
}
