/*
 * server/worker.h - one worker process: its own h2o event loop and context,
 * its own SQLite connection, both created after fork(). Accepts on the
 * listening sockets it inherits (or opens its own with SO_REUSEPORT), tracks
 * its connections so a graceful stop can close idle keep-alive connections at
 * once and let in-flight requests finish before a deadline.
 */
#ifndef SERVER_WORKER_H
#define SERVER_WORKER_H

#define H2O_USE_LIBUV 0
#include <h2o.h>
#include <signal.h>
#include <stdint.h>

#include "server/auth.h"
#include "server/config.h"
#include "server/reference.h"
#include "server/sync.h"
#include "rules/ruleset.h"
#include "server/synclink.h"
#include "storage/store.h"

struct metrics; /* server/metrics.h */

/* What the master hands every child: all borrowed, set up before fork. */
struct runtime {
    const struct settings *settings;
    const struct auth *auth;
    const int *fds;              /* listening sockets shared by all workers */
    size_t nfds;
    uint64_t *generation;        /* shared write counter for the read caches */
    struct sync_status *sync;    /* shared syncer status (NULL when mmap failed) */
    struct metrics *metrics;     /* shared /metrics counters, one slot per worker (NULL when mmap failed) */
    const char *instance;        /* this instance's id (sync_state "instance_id") */
    int write_through;           /* HarperDB configured: outbox + syncer */
    const unsigned char *rolls_key; /* 32 bytes signing roll ids (rules/rollid.h) */
    const struct reference *reference; /* /api/2014 documents, built before fork */
    const struct ruleset *ruleset;     /* the SRD tables, loaded and checked before fork (master_run loads them when
                                          the caller left this NULL) */
};

struct worker {
    int index;                          /* 0..workers-1 */
    const struct settings *settings;    /* borrowed from the master (copy-on-write) */
    const struct auth *auth;            /* borrowed from the master */
    const struct runtime *rt;           /* borrowed from the master */
    struct synclink sync;               /* to the syncer (write-through only) */
    struct store *store;                /* this process's SQLite connection */
    h2o_globalconf_t globalconf;
    h2o_context_t ctx;
    h2o_accept_ctx_t accept_ctx;
    h2o_socket_t *listeners[CONFIG_MAX_BINDS];
    size_t nlisteners;
    h2o_linklist_t conns;               /* struct worker_conn, every open connection */
    size_t nconns;
    int draining;
    char reqid_prefix[13];              /* random per process; request ids are prefix-counter */
    uint64_t reqid_counter;
    uint64_t requests;
};

/*
 * Run worker `index` until it is told to stop (SIGTERM: graceful,
 * SIGINT/SIGQUIT: at once) or its master goes away. rt->fds are the inherited
 * listening sockets (none for TCP binds when settings->reuseport makes each
 * worker open its own). Returns the process exit status (0 after a clean stop).
 */
int worker_run(int index, const struct runtime *rt);

/* Mark the connection of `req` busy (+1) or done (-1): a graceful stop does not close it while busy. */
void worker_conn_busy(h2o_req_t *req, int delta);

/* The auth memo of the connection `req` arrived on, or NULL when it has none. */
struct auth_memo *worker_auth_memo(h2o_req_t *req);

/* The worker that owns the current process (valid inside worker_run). */
struct worker *worker_self(void);

#endif
