/*
 * server/sync.h - what workers and the syncer share: the messages on the unix
 * socket between them and the status block (shared memory made by the master
 * before fork) that /readyz reads.
 *
 * A worker commits a write and its outbox row in one SQLite transaction, then
 * sends SYNC_PUSH with the row's seq; the syncer pushes the outbox to
 * HarperDB in order and answers SYNC_ACK for that seq once HarperDB has
 * acknowledged it. A worker that misses a character asks SYNC_FETCH; the
 * syncer reads it from HarperDB into SQLite and answers SYNC_FETCHED.
 * Messages are fixed-size records on a SOCK_SEQPACKET socket in the abstract
 * namespace, named after the master's pid.
 */
#ifndef SERVER_SYNC_H
#define SERVER_SYNC_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

enum sync_msg_type { SYNC_PUSH = 1, SYNC_ACK = 2, SYNC_FETCH = 3, SYNC_FETCHED = 4 };

struct sync_msg {
    uint32_t type;
    uint32_t ok;          /* ACK: 1 pushed; FETCHED: 1 found and stored, 0 not in HarperDB */
    int64_t seq;          /* PUSH/ACK: the outbox row; FETCH/FETCHED: the store kind (enum store_kind) */
    int64_t version;      /* PUSH/ACK: the version written */
    char id[40];          /* the resource id */
};

enum sync_harper_state { SYNC_OFF = 0, SYNC_OK = 1, SYNC_DEGRADED = 2 };

/* Written by the syncer only; readers may see a torn last_sync for a moment, never a crash. */
struct sync_status {
    volatile int harper;              /* enum sync_harper_state */
    volatile int64_t outbox_depth;
    volatile int64_t oldest_ms;       /* epoch ms of the oldest queued write; 0 when none */
    volatile int64_t last_sync_ms;    /* epoch ms of the last successful push or pull; 0 never */
    volatile int64_t busy_since_ms;   /* a HarperDB call in progress since then; 0 when none */
};

/* The shared status block (MAP_SHARED|MAP_ANONYMOUS), zeroed; NULL when mmap fails. */
struct sync_status *sync_status_new(void);

/* The syncer's socket address for master `master` into sa (abstract namespace); returns its length. */
size_t sync_address(pid_t master, void *sockaddr_un_out);

/* Milliseconds since the epoch. */
int64_t sync_now_ms(void);

/* Parse RFC 3339 "YYYY-MM-DDTHH:MM:SS[.mmm]Z" to epoch ms; 0 when malformed. */
int64_t sync_parse_time_ms(const char *text);

#endif
