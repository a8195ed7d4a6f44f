/*
 * storage/migrate_track.c - see migrate_track.h.
 */
#include "storage/migrate_track.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/ids.h"
#include "common/xmalloc.h"

const char *migrate_state_name(enum migrate_state s)
{
    switch (s) {
    case MIGRATE_APPLIED: return "applied";
    case MIGRATE_PENDING: return "pending";
    case MIGRATE_CHANGED: return "changed";
    default: return "orphan";
    }
}

static int by_version(const void *a, const void *b)
{
    const struct migrate_row *x = a, *y = b;
    return (x->version > y->version) - (x->version < y->version);
}

void migrate_compare(const struct migration_set *set, const struct migrate_record *rec, size_t nrec,
                     struct migrate_row **rows, size_t *nrows)
{
    struct migrate_row *r = xcalloc(set->n + nrec + 1, sizeof(*r));
    size_t n = 0;
    for (size_t i = 0; i < set->n; i++) {
        const struct migration *m = &set->items[i];
        struct migrate_row *x = &r[n++];
        x->version = m->version;
        snprintf(x->name, sizeof(x->name), "%s", m->name);
        snprintf(x->file, sizeof(x->file), "%s", m->checksum);
        x->state = MIGRATE_PENDING;
        for (size_t k = 0; k < nrec; k++) {
            if (rec[k].version != m->version)
                continue;
            snprintf(x->recorded, sizeof(x->recorded), "%s", rec[k].checksum);
            snprintf(x->applied_at, sizeof(x->applied_at), "%s", rec[k].applied_at);
            x->state = strcmp(rec[k].checksum, m->checksum) == 0 ? MIGRATE_APPLIED : MIGRATE_CHANGED;
        }
    }
    for (size_t k = 0; k < nrec; k++) {
        int has_file = 0;
        for (size_t i = 0; i < set->n && !has_file; i++)
            has_file = set->items[i].version == rec[k].version;
        if (has_file)
            continue;
        struct migrate_row *x = &r[n++];
        x->version = rec[k].version;
        snprintf(x->name, sizeof(x->name), "%s", rec[k].name);
        snprintf(x->recorded, sizeof(x->recorded), "%s", rec[k].checksum);
        snprintf(x->applied_at, sizeof(x->applied_at), "%s", rec[k].applied_at);
        x->state = MIGRATE_ORPHAN;
    }
    qsort(r, n, sizeof(*r), by_version);
    *rows = r;
    *nrows = n;
}

static int table_exists(sqlite3 *db, int *exists, struct err *e)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db, "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'", -1,
                           &st, NULL) != SQLITE_OK)
        return err_set(e, ERR_IO, "cannot read sqlite_master: %s", sqlite3_errmsg(db));
    *exists = sqlite3_step(st) == SQLITE_ROW;
    sqlite3_finalize(st);
    return 0;
}

static void copy_text(char *dst, size_t size, sqlite3_stmt *st, int col)
{
    const unsigned char *t = sqlite3_column_text(st, col);
    snprintf(dst, size, "%s", t != NULL ? (const char *)t : "");
}

int migrate_sqlite_records(sqlite3 *db, struct migrate_record **out, size_t *n, struct err *e)
{
    *out = NULL;
    *n = 0;
    int exists = 0;
    int rc = table_exists(db, &exists, e);
    if (rc != 0 || !exists)
        return rc;
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db,
                           "SELECT version, name, checksum, applied_at, duration_ms, tool_version FROM "
                           "schema_migrations ORDER BY version",
                           -1, &st, NULL) != SQLITE_OK)
        return err_set(e, ERR_IO, "cannot read schema_migrations: %s", sqlite3_errmsg(db));
    size_t cap = 16;
    struct migrate_record *r = xcalloc(cap, sizeof(*r));
    int step;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        if (*n == cap) {
            cap *= 2;
            r = xrealloc(r, cap * sizeof(*r));
        }
        struct migrate_record *x = &r[(*n)++];
        memset(x, 0, sizeof(*x));
        x->version = sqlite3_column_int(st, 0);
        copy_text(x->name, sizeof(x->name), st, 1);
        copy_text(x->checksum, sizeof(x->checksum), st, 2);
        copy_text(x->applied_at, sizeof(x->applied_at), st, 3);
        x->duration_ms = sqlite3_column_int64(st, 4);
        copy_text(x->tool_version, sizeof(x->tool_version), st, 5);
    }
    sqlite3_finalize(st);
    if (step != SQLITE_DONE) {
        free(r);
        *n = 0;
        return err_set(e, ERR_IO, "cannot read schema_migrations: %s", sqlite3_errmsg(db));
    }
    *out = r;
    return 0;
}

/* Run `sql` with the given text/int parameters bound in order. */
static int exec_bound(sqlite3 *db, const char *sql, const char *what, struct err *e, int version, const char *a,
                      const char *b)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
        return err_set(e, ERR_IO, "%s: %s", what, sqlite3_errmsg(db));
    sqlite3_bind_int(st, 1, version);
    if (a != NULL)
        sqlite3_bind_text(st, 2, a, -1, SQLITE_STATIC);
    if (b != NULL)
        sqlite3_bind_text(st, 3, b, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st) == SQLITE_DONE ? 0 : err_set(e, ERR_IO, "%s: %s", what, sqlite3_errmsg(db));
    sqlite3_finalize(st);
    return rc;
}

int migrate_sqlite_baseline(sqlite3 *db, const struct migration_set *set, int version, size_t *marked, struct err *e)
{
    if (marked != NULL)
        *marked = 0;
    if (migrate_set_find(set, version) == NULL)
        return err_set(e, ERR_INVALID, "no migration file has version %04d", version);
    /* Creates the tracking table, and refuses when applied files were edited. */
    size_t pending;
    int rc = migrate_sqlite_status(db, set, &pending, e);
    if (rc != 0)
        return rc;
    if (sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
        return err_set(e, ERR_IO, "cannot lock the database: %s", sqlite3_errmsg(db));
    char now[IDS_TIME_LEN + 1];
    ids_now_rfc3339(now);
    for (size_t i = 0; rc == 0 && i < set->n && set->items[i].version <= version; i++) {
        const struct migration *m = &set->items[i];
        sqlite3_stmt *st;
        char sql[256];
        snprintf(sql, sizeof(sql),
                 "INSERT OR IGNORE INTO schema_migrations (version, name, checksum, applied_at, duration_ms, "
                 "tool_version) VALUES (?1, ?2, ?3, '%s', 0, 'baseline')",
                 now);
        if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
            rc = err_set(e, ERR_IO, "baseline: %s", sqlite3_errmsg(db));
            break;
        }
        sqlite3_bind_int(st, 1, m->version);
        sqlite3_bind_text(st, 2, m->name, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 3, m->checksum, -1, SQLITE_STATIC);
        if (sqlite3_step(st) != SQLITE_DONE)
            rc = err_set(e, ERR_IO, "baseline: %s", sqlite3_errmsg(db));
        else if (marked != NULL)
            *marked += (size_t)sqlite3_changes(db);
        sqlite3_finalize(st);
    }
    sqlite3_exec(db, rc == 0 ? "COMMIT" : "ROLLBACK", NULL, NULL, NULL);
    return rc;
}

int migrate_sqlite_repair(sqlite3 *db, const struct migration_set *set, size_t *fixed, struct err *e)
{
    if (fixed != NULL)
        *fixed = 0;
    struct migrate_record *rec;
    size_t n;
    int rc = migrate_sqlite_records(db, &rec, &n, e);
    if (rc != 0)
        return rc;
    for (size_t k = 0; rc == 0 && k < n; k++) {
        for (size_t i = 0; i < set->n; i++) {
            const struct migration *m = &set->items[i];
            if (m->version != rec[k].version || strcmp(m->checksum, rec[k].checksum) == 0)
                continue;
            rc = exec_bound(db, "UPDATE schema_migrations SET checksum = ?2 WHERE version = ?1", "repair", e,
                            m->version, m->checksum, NULL);
            if (rc == 0 && fixed != NULL)
                (*fixed)++;
        }
    }
    free(rec);
    return rc;
}

const struct migration *migrate_set_find(const struct migration_set *set, int version)
{
    for (size_t i = 0; i < set->n; i++)
        if (set->items[i].version == version)
            return &set->items[i];
    return NULL;
}

struct migration_set migrate_set_upto(const struct migration_set *set, int to)
{
    struct migration_set v = {set->items, 0};
    while (v.n < set->n && set->items[v.n].version <= to)
        v.n++;
    return v;
}
