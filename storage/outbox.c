/*
 * storage/outbox.c - see outbox.h. Statements are prepared per call: the
 * syncer runs a handful a second, far off any hot path.
 */
#include "storage/outbox.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/xmalloc.h"

static int run(struct store *s, const char *sql, struct err *e, const char *what, sqlite3_stmt **out)
{
    if (sqlite3_prepare_v2(store_db(s), sql, -1, out, NULL) != SQLITE_OK)
        return err_set(e, ERR_IO, "sqlite %s: %s", what, sqlite3_errmsg(store_db(s)));
    return 0;
}

static void text(char *dst, size_t size, sqlite3_stmt *st, int col)
{
    const unsigned char *t = sqlite3_column_text(st, col);
    snprintf(dst, size, "%s", t != NULL ? (const char *)t : "");
}

int outbox_peek(struct store *s, struct outbox_row *rows, size_t max, size_t *n, struct err *e)
{
    *n = 0;
    sqlite3_stmt *st;
    int rc = run(s,
                 "SELECT seq, resource, id, version, op, payload, created_at, attempts FROM outbox ORDER BY seq "
                 "LIMIT ?1",
                 e, "read the outbox", &st);
    if (rc != 0)
        return rc;
    sqlite3_bind_int64(st, 1, (long long)max);
    int step;
    while ((step = sqlite3_step(st)) == SQLITE_ROW && *n < max) {
        struct outbox_row *r = &rows[(*n)++];
        memset(r, 0, sizeof(*r));
        r->seq = sqlite3_column_int64(st, 0);
        text(r->resource, sizeof(r->resource), st, 1);
        text(r->id, sizeof(r->id), st, 2);
        r->version = sqlite3_column_int64(st, 3);
        text(r->op, sizeof(r->op), st, 4);
        const unsigned char *p = sqlite3_column_text(st, 5);
        r->payload = p != NULL ? xstrdup((const char *)p) : NULL;
        text(r->created_at, sizeof(r->created_at), st, 6);
        r->attempts = sqlite3_column_int64(st, 7);
    }
    sqlite3_finalize(st);
    if (step != SQLITE_DONE && step != SQLITE_ROW) {
        outbox_rows_release(rows, *n);
        *n = 0;
        return err_set(e, ERR_IO, "sqlite read the outbox: %s", sqlite3_errmsg(store_db(s)));
    }
    return 0;
}

void outbox_rows_release(struct outbox_row *rows, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(rows[i].payload);
        rows[i].payload = NULL;
    }
}

static int exec_seq(struct store *s, const char *sql, long long seq, const char *msg, const char *what, struct err *e)
{
    sqlite3_stmt *st;
    int rc = run(s, sql, e, what, &st);
    if (rc != 0)
        return rc;
    sqlite3_bind_int64(st, 1, seq);
    if (msg != NULL)
        sqlite3_bind_text(st, 2, msg, -1, SQLITE_TRANSIENT);
    if (sqlite3_step(st) != SQLITE_DONE)
        rc = err_set(e, ERR_IO, "sqlite %s: %s", what, sqlite3_errmsg(store_db(s)));
    sqlite3_finalize(st);
    return rc;
}

int outbox_done(struct store *s, long long seq, struct err *e)
{
    return exec_seq(s, "DELETE FROM outbox WHERE seq = ?1", seq, NULL, "clear an outbox row", e);
}

int outbox_done_many(struct store *s, const long long *seqs, size_t n, struct err *e)
{
    if (n == 0)
        return 0;
    sqlite3 *db = store_db(s);
    if (sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
        return err_set(e, ERR_IO, "sqlite clear outbox rows: %s", sqlite3_errmsg(db));
    sqlite3_stmt *st;
    int rc = run(s, "DELETE FROM outbox WHERE seq = ?1", e, "clear outbox rows", &st);
    for (size_t i = 0; rc == 0 && i < n; i++) {
        sqlite3_bind_int64(st, 1, seqs[i]);
        if (sqlite3_step(st) != SQLITE_DONE)
            rc = err_set(e, ERR_IO, "sqlite clear outbox rows: %s", sqlite3_errmsg(db));
        sqlite3_reset(st);
    }
    if (rc == 0) {
        sqlite3_finalize(st);
        st = NULL;
        if (sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
            rc = err_set(e, ERR_IO, "sqlite clear outbox rows: %s", sqlite3_errmsg(db));
    }
    sqlite3_finalize(st);
    if (rc != 0)
        sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
    return rc;
}

int outbox_queued(struct store *s, long long seq, int *queued, struct err *e)
{
    sqlite3_stmt *st;
    int rc = run(s, "SELECT 1 FROM outbox WHERE seq = ?1", e, "look up an outbox row", &st);
    if (rc != 0)
        return rc;
    sqlite3_bind_int64(st, 1, seq);
    int step = sqlite3_step(st);
    if (step == SQLITE_ROW || step == SQLITE_DONE)
        *queued = step == SQLITE_ROW;
    else
        rc = err_set(e, ERR_IO, "sqlite look up an outbox row: %s", sqlite3_errmsg(store_db(s)));
    sqlite3_finalize(st);
    return rc;
}

int outbox_failed(struct store *s, long long seq, const char *message, struct err *e)
{
    return exec_seq(s, "UPDATE outbox SET attempts = attempts + 1, last_error = ?2 WHERE seq = ?1", seq, message,
                    "count a failed push", e);
}

int outbox_stats(struct store *s, long long *depth, char oldest[40], struct err *e)
{
    sqlite3_stmt *st;
    int rc = run(s, "SELECT count(*), min(created_at) FROM outbox", e, "count the outbox", &st);
    if (rc != 0)
        return rc;
    *depth = 0;
    oldest[0] = '\0';
    if (sqlite3_step(st) == SQLITE_ROW) {
        *depth = sqlite3_column_int64(st, 0);
        text(oldest, 40, st, 1);
    } else {
        rc = err_set(e, ERR_IO, "sqlite count the outbox: %s", sqlite3_errmsg(store_db(s)));
    }
    sqlite3_finalize(st);
    return rc;
}

int outbox_state_get(struct store *s, const char *key, char *out, size_t outlen, struct err *e)
{
    sqlite3_stmt *st;
    int rc = run(s, "SELECT value FROM sync_state WHERE key = ?1", e, "read sync state", &st);
    if (rc != 0)
        return rc;
    sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
    if (sqlite3_step(st) == SQLITE_ROW)
        text(out, outlen, st, 0);
    else
        rc = err_set(e, ERR_NOT_FOUND, "sync state \"%s\" is not set", key);
    sqlite3_finalize(st);
    return rc;
}

int outbox_state_set(struct store *s, const char *key, const char *value, struct err *e)
{
    sqlite3_stmt *st;
    int rc = run(s, "INSERT OR REPLACE INTO sync_state (key, value) VALUES (?1, ?2)", e, "write sync state", &st);
    if (rc != 0)
        return rc;
    sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, value, -1, SQLITE_STATIC);
    if (sqlite3_step(st) != SQLITE_DONE)
        rc = err_set(e, ERR_IO, "sqlite write sync state: %s", sqlite3_errmsg(store_db(s)));
    sqlite3_finalize(st);
    return rc;
}
