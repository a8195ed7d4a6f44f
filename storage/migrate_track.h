/*
 * storage/migrate_track.h - what each store says it has applied, compared
 * with the migration files. Store-neutral: the SQLite and HarperDB halves
 * each read their tracking records into `struct migrate_record`, and one
 * comparison turns records and files into the status the tool prints.
 * Also baseline (mark as applied without running) and repair (accept the
 * files' current checksums) for SQLite; storage/migrate_harper.h has the
 * HarperDB counterparts.
 */
#ifndef STORAGE_MIGRATE_TRACK_H
#define STORAGE_MIGRATE_TRACK_H

#include <sqlite3.h>
#include <stddef.h>

#include "common/err.h"
#include "storage/migrate.h"

struct migrate_record {
    int version;
    char name[128];
    char checksum[65];
    char applied_at[40];
    long long duration_ms;
    char tool_version[32];
};

enum migrate_state {
    MIGRATE_APPLIED,   /* recorded with the file's checksum */
    MIGRATE_PENDING,   /* a file not yet recorded */
    MIGRATE_CHANGED,   /* recorded, but the file's checksum differs */
    MIGRATE_ORPHAN,    /* recorded, but no file has that version */
};

struct migrate_row {
    int version;
    char name[128];
    enum migrate_state state;
    char recorded[65];     /* checksum in the store ("" when pending) */
    char file[65];         /* checksum of the file ("" when orphan) */
    char applied_at[40];
};

/* Lower-case word for a state ("applied", "pending", "changed", "orphan"). */
const char *migrate_state_name(enum migrate_state s);

/*
 * Compare files with records: one row per version found in either, sorted by
 * version. *rows is allocated (free()). Never fails.
 */
void migrate_compare(const struct migration_set *set, const struct migrate_record *rec, size_t nrec,
                     struct migrate_row **rows, size_t *nrows);

/*
 * Read SQLite's tracking records (none when the table does not exist yet) into
 * *out (allocated; free()). ERR_IO on failure.
 */
int migrate_sqlite_records(sqlite3 *db, struct migrate_record **out, size_t *n, struct err *e);

/*
 * Mark every migration with version <= `version` as applied without running
 * it (duration 0), skipping those already recorded. ERR_INVALID when no file
 * has that version. *marked (may be NULL) gets how many were recorded.
 */
int migrate_sqlite_baseline(sqlite3 *db, const struct migration_set *set, int version, size_t *marked, struct err *e);

/*
 * Accept the files' current checksums for applied migrations whose files
 * changed. Records with no file are left alone (and reported by status).
 * *fixed (may be NULL) gets how many were rewritten.
 */
int migrate_sqlite_repair(sqlite3 *db, const struct migration_set *set, size_t *fixed, struct err *e);

/* The migration of `set` with this version, or NULL. Borrowed. */
const struct migration *migrate_set_find(const struct migration_set *set, int version);

/* The subset of `set` with version <= `to` (a view: shares items; do not release it). */
struct migration_set migrate_set_upto(const struct migration_set *set, int to);

#endif
