/*
 * storage/migrate_harper.h - the HarperDB half of the migration engine.
 *
 * HarperDB has no DDL transactions, so every step is idempotent ("already
 * exists" is success, a drop of something missing is success, loads upsert by
 * a deterministic id) and a migration is recorded only after all its steps
 * succeeded: an interrupted run re-applies it from the start and ends in the
 * same state. Records live in the tracking schema every function is given
 * (default MIGRATE_HARPER_SCHEMA), table "schema_migrations" (hash attribute
 * "id", the version as four digits).
 *
 * Two runs are kept apart by a lock record (table "migration_locks", id
 * "migrate") holding an owner and an expiry. It is taken with `insert`, which
 * skips an existing id, so only one of two racing runs gets it. A lock whose
 * expiry has passed (its run died) may be taken over: that is racy in
 * HarperDB (no compare-and-set), so the takeover deletes the stale record,
 * inserts its own, then reads it back and proceeds only if it names this
 * owner; and the holder re-reads the lock before every migration and stops
 * if it lost it. Two runs can then overlap by at most one idempotent step.
 */
#ifndef STORAGE_MIGRATE_HARPER_H
#define STORAGE_MIGRATE_HARPER_H

#include <stddef.h>

#include "common/err.h"
#include "storage/harper.h"
#include "storage/migrate.h"
#include "storage/migrate_track.h"

/* The default schema of the tracking and lock tables (setting migrations.harper_schema). */
#define MIGRATE_HARPER_SCHEMA "character_api"

/* Read HarperDB's tracking records into *out (allocated; none when the table
 * does not exist yet). ERR_UNAVAILABLE / ERR_INVALID from the client. */
int migrate_harper_records(struct harper *h, const char *tracking_schema, struct migrate_record **out, size_t *n, struct err *e);

/*
 * Take the migration lock for `owner` ("host:pid:nonce", unique per run) for
 * `ttl_s` seconds, waiting up to ttl_s + 5 s while a live run holds it. A lock
 * whose owner is a dead process of this host is taken over at once.
 * ERR_CONFLICT naming the holder when it is still held after the wait.
 */
int migrate_harper_lock(struct harper *h, const char *tracking_schema, const char *owner, int ttl_s, struct err *e);

/* 0 when `owner` still holds the lock (and extend it by ttl_s), ERR_CONFLICT when it lost it. */
int migrate_harper_relock(struct harper *h, const char *tracking_schema, const char *owner, int ttl_s, struct err *e);

/* Release the lock if `owner` holds it. Errors are ignored (it expires anyway). */
void migrate_harper_unlock(struct harper *h, const char *tracking_schema, const char *owner);

/*
 * Apply every migration of `set` that HarperDB has not recorded, in order,
 * holding the lock; *applied (may be NULL) gets how many. Refuses
 * (ERR_CONFLICT) when a recorded migration's file changed. A failure leaves
 * the failing migration unrecorded (re-run resumes it) and names the step.
 */
int migrate_harper_apply(struct harper *h, const char *tracking_schema, const struct migration_set *set, const char *owner, size_t *applied,
                         struct err *e);

/* The HarperDB operations migration `m` would send, one JSON object a line
 * (loads summarised by row count), in a newly allocated string. */
char *migrate_harper_plan(const struct migration *m);

/* Mark migrations up to `version` as applied without running them. */
int migrate_harper_baseline(struct harper *h, const char *tracking_schema, const struct migration_set *set, int version, size_t *marked,
                            struct err *e);

/* Accept the files' checksums for recorded migrations whose files changed. */
int migrate_harper_repair(struct harper *h, const char *tracking_schema, const struct migration_set *set, size_t *fixed, struct err *e);

#endif
