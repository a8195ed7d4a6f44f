/*
 * server/synclink.h - a worker's link to the syncer: a SOCK_SEQPACKET unix
 * socket registered in the worker's h2o event loop, so waiting for HarperDB
 * never blocks the loop. A request that must wait (a write that wants its
 * HarperDB acknowledgement, a read-through fetch) parks a `struct sync_wait`
 * here; it is completed by the syncer's answer, by the write timeout, or at
 * once when the syncer cannot be reached (the outbox still has the write).
 */
#ifndef SERVER_SYNCLINK_H
#define SERVER_SYNCLINK_H

#define H2O_USE_LIBUV 0
#include <h2o.h>
#include <stdint.h>

#include "server/sync.h"

enum sync_outcome { SYNC_DONE = 1, SYNC_ABSENT = 0, SYNC_TIMEOUT = -1, SYNC_UNREACHABLE = -2 };

struct sync_wait;
typedef void (*sync_wait_cb)(struct sync_wait *w, enum sync_outcome outcome);

/* Owned by the caller (e.g. from req->pool) until its callback has run. */
struct sync_wait {
    h2o_linklist_t link;
    h2o_timeout_entry_t timer;
    uint32_t type;              /* SYNC_PUSH or SYNC_FETCH */
    int64_t seq;
    char id[40];
    sync_wait_cb cb;
    void *data;
};

struct synclink {
    h2o_loop_t *loop;
    pid_t master;
    h2o_socket_t *sock;         /* NULL while not connected */
    h2o_timeout_t timeout;      /* sync.write_timeout */
    h2o_linklist_t waiting;
    int64_t retry_at_ms;        /* next connect attempt after a failure */
};

/* Prepare the link for `loop` (no connection yet). */
void synclink_init(struct synclink *l, h2o_loop_t *loop, pid_t master, uint64_t timeout_ms);

/*
 * Ask the syncer to push outbox row `seq` (id, version) and wait for its
 * acknowledgement. `cb` always runs exactly once, possibly before this
 * returns (SYNC_UNREACHABLE when the syncer cannot be reached).
 */
void synclink_push(struct synclink *l, struct sync_wait *w, int64_t seq, int64_t version, const char *id,
                   sync_wait_cb cb, void *data);

/* Ask the syncer to bring character `id` from HarperDB into SQLite; cb as above (SYNC_DONE found, SYNC_ABSENT not there). */
void synclink_fetch(struct synclink *l, struct sync_wait *w, const char *id, sync_wait_cb cb, void *data);

/* synclink_fetch for a row of store kind `kind` (enum store_kind: characters, equipment, campaigns). */
void synclink_fetch_kind(struct synclink *l, struct sync_wait *w, int kind, const char *id, sync_wait_cb cb,
                         void *data);

/* Complete every waiter with SYNC_UNREACHABLE and close the socket. */
void synclink_close(struct synclink *l);

#endif
