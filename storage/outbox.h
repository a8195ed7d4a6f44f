/*
 * storage/outbox.h - the syncer's side of the local store: the outbox of
 * writes HarperDB has not acknowledged yet (oldest first) and the syncer's
 * key/value state (instance id, pull watermark). Workers only add to the
 * outbox, through store_character_insert(); this module reads and clears it.
 */
#ifndef STORAGE_OUTBOX_H
#define STORAGE_OUTBOX_H

#include <stddef.h>

#include "common/err.h"
#include "storage/store.h"

struct outbox_row {
    long long seq;
    char resource[32];
    char id[64];
    long long version;
    char op[16];          /* "upsert" | "delete" */
    char *payload;        /* the document JSON (malloc'd; NULL for deletes) */
    char created_at[40];
    long long attempts;
};

/* Up to `max` oldest rows into rows[] (payloads malloc'd: outbox_rows_release()). *n gets the count. */
int outbox_peek(struct store *s, struct outbox_row *rows, size_t max, size_t *n, struct err *e);

void outbox_rows_release(struct outbox_row *rows, size_t n);

/* Remove the row HarperDB acknowledged. */
int outbox_done(struct store *s, long long seq, struct err *e);

/*
 * Remove the n rows HarperDB acknowledged (seqs[0..n)) in one transaction: one
 * commit (one fsync under synchronous=full) for a whole pushed batch. All or
 * none: on error nothing is removed (the rows are pushed again, which is
 * harmless: an upsert of the same version). n == 0 is a no-op.
 */
int outbox_done_many(struct store *s, const long long *seqs, size_t n, struct err *e);

/* Count a failed attempt (the message is kept for operators). */
/*
 * *queued = 1 when outbox row `seq` is still waiting, 0 when it is gone
 * (HarperDB acknowledged it and it was cleared). ERR_IO on failure.
 */
int outbox_queued(struct store *s, long long seq, int *queued, struct err *e);

int outbox_failed(struct store *s, long long seq, const char *message, struct err *e);

/* Rows waiting and the creation time of the oldest ("" when empty). */
int outbox_stats(struct store *s, long long *depth, char oldest[40], struct err *e);

/* sync_state: value of `key` into out (ERR_NOT_FOUND when unset), or set it. */
int outbox_state_get(struct store *s, const char *key, char *out, size_t outlen, struct err *e);
int outbox_state_set(struct store *s, const char *key, const char *value, struct err *e);

#endif
