/*
 * server/syncer.h - the syncer process (forked and supervised by the master
 * when HarperDB is configured). It alone talks to HarperDB for the server:
 * it drains the outbox in commit order (upserts batched, several versions of
 * one id collapsed to the newest), acknowledges each pushed row to the worker
 * waiting for it, retries with exponential backoff (100 ms doubling to 5 s)
 * while HarperDB is unreachable, pulls changes made elsewhere every
 * sync.pull_interval (records with __updatedtime__ past a persisted watermark,
 * deletes from the audit log) into SQLite, keeping the newer of two versions
 * by the total order (version, updated_at, instance), and answers read-through
 * fetches. It publishes its state in the shared struct sync_status.
 */
#ifndef SERVER_SYNCER_H
#define SERVER_SYNCER_H

#include "server/worker.h"

/* Run the syncer until SIGTERM/SIGINT/SIGQUIT or the master's death; returns the exit status. */
int syncer_run(const struct runtime *rt);

#endif
