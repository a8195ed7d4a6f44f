/*
 * server/metrics.h - counters for GET /metrics, in the Prometheus text
 * exposition format (version 0.0.4).
 *
 * The counters live in one block of shared memory that the master maps
 * (MAP_SHARED|MAP_ANONYMOUS, like sync_status_new() and the cache generation)
 * before it forks, so every worker writes its own slot and any worker can
 * read them all when scraped. Each slot has exactly one writer (the worker
 * with that index; a respawned worker takes over its dead predecessor's slot
 * and its counts), so an increment is a relaxed load and store with no lock
 * and no allocation; a scrape sums the slots with relaxed loads and may see
 * a request's counter before its histogram entry, never a torn value.
 *
 * The master's own numbers (process starts, hence worker restarts) are
 * counted by a fork handler it registers in metrics_new(). This module does
 * not decide status codes or routes; it only counts what http_send() sends.
 */
#ifndef SERVER_METRICS_H
#define SERVER_METRICS_H

#define H2O_USE_LIBUV 0
#include <h2o.h>
#include <stddef.h>
#include <stdint.h>

#include "server/sync.h"

#define METRICS_MAX_WORKERS 256 /* as many slots as the master may run workers */

/* Route families, the "route" label of http_requests_total (by path prefix). */
enum metrics_route {
    METRICS_ROUTE_CHARACTERS, /* /v1/characters[/...] */
    METRICS_ROUTE_ROLLS,      /* /v1/rolls[/...] */
    METRICS_ROUTE_REFERENCE,  /* /api/2014[/...] */
    METRICS_ROUTE_HEALTH,     /* /healthz, /readyz */
    METRICS_ROUTE_OTHER,      /* everything else, including unknown paths and /metrics */
    METRICS_NROUTES
};

struct metrics;
struct route_ctx;

/*
 * Map the shared block (zeroed) and remember the master's start time.
 * `children` is how many processes the master starts at first (workers plus
 * the syncer); every later metrics_child_started() counts as a restart.
 * Call once in the master, before it forks. NULL when mmap fails (then
 * /metrics serves only the gauges).
 */
struct metrics *metrics_new(int children);

/* The master started a worker or the syncer (m may be NULL). */
void metrics_child_started(struct metrics *m);

/*
 * Count one response of `status` to `req` in the calling worker's slot: its
 * route family and status class, and the time since h2o began reading the
 * request in the duration histogram. Does nothing outside a worker or
 * without a block. Called by http_send() for every response.
 */
void metrics_request_done(h2o_req_t *req, int status);

/* Count one committed character write by its status: 201 created, 200 updated, 204 deleted (others ignored). */
void metrics_character_write(int status);

/* The route family of a normalized path. */
enum metrics_route metrics_route_of(const char *path, size_t len);

/* Inputs of one scrape besides the counters. */
struct metrics_view {
    const struct metrics *m;        /* may be NULL: gauges only */
    const struct sync_status *sync; /* may be NULL: outbox 0, harperdb down */
    int write_through;              /* HarperDB configured */
    int64_t write_timeout_ms;       /* a HarperDB call older than this counts as down (as /readyz) */
    int64_t now_ms;                 /* epoch ms */
    const char *version;            /* build version, any bytes: escaped as a label value */
};

/*
 * Write the exposition text for `v` into buf[0..cap) (NUL-terminated when
 * cap > 0). Returns the length the whole text needs; when that is >= cap the
 * text was cut and the caller should retry with more room.
 */
size_t metrics_render(const struct metrics_view *v, char *buf, size_t cap);

/* Append `s` escaped as a label value (\\, \", \n) to buf[0..cap) at *at; *at advances by the full length. */
void metrics_escape_label(const char *s, char *buf, size_t cap, size_t *at);

/* GET /metrics: render into req->pool and send text/plain; version=0.0.4. */
void metrics_on_scrape(struct route_ctx *rc);

#endif
