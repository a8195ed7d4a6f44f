/*
 * storage/store.c - see store.h. Every SQL statement the request path runs is
 * prepared once per connection and reset after use; nothing here blocks for
 * longer than the busy timeout.
 */
#include "storage/store.h"

#include <errno.h>
#include <sched.h>
#include <jansson.h>
#include <sodium.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <stdio.h>
#include <string.h>

#include "common/xmalloc.h"
#include "storage/cache.h"

struct store {
    sqlite3 *db;
    sqlite3_stmt *ping;
    sqlite3_stmt *char_insert;
    sqlite3_stmt *char_get;
    sqlite3_stmt *outbox_insert;   /* prepared when options.outbox */
    sqlite3_stmt *order_get;       /* syncer only: (version, updated_at, instance) of one row */
    sqlite3_stmt *char_replace;
    sqlite3_stmt *char_delete;
    int outbox;
    char *instance;
    uint64_t *generation;    /* shared write counter, bumped after each commit */
    int busy_timeout_ms;
    struct timespec busy_since; /* when the current wait for a lock began */
    struct cache *cache;     /* NULL when off */
};

/*
 * Wait for another process's write lock. SQLite's own handler sleeps in steps
 * of up to 100 ms, which leaves a worker's whole event loop idle long after the
 * lock is free; commits take well under a millisecond, so yield the CPU first
 * and sleep in short steps, up to the busy timeout.
 */
static int on_busy(void *arg, int count)
{
    struct store *s = arg;
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    if (count == 0)
        s->busy_since = now;
    long waited_ms = (now.tv_sec - s->busy_since.tv_sec) * 1000 + (now.tv_nsec - s->busy_since.tv_nsec) / 1000000;
    if (waited_ms >= s->busy_timeout_ms)
        return 0;
    if (count < 20)
        sched_yield();
    else
        usleep(count < 200 ? 50 : 1000);
    return 1;
}

static int fail(struct store *s, struct err *e, const char *what)
{
    return err_set(e, ERR_IO, "sqlite %s: %s", what, s && s->db ? sqlite3_errmsg(s->db) : "cannot open");
}

/* Create the folder that holds `path` (one level) so a fresh checkout just works. */
static int make_parent_dir(const char *path, struct err *e)
{
    char dir[4096];
    if (snprintf(dir, sizeof(dir), "%s", path) >= (int)sizeof(dir))
        return err_set(e, ERR_INVALID, "database path is too long");
    char *slash = strrchr(dir, '/');
    if (slash == NULL || slash == dir)
        return 0;
    *slash = '\0';
    if (mkdir(dir, 0750) != 0 && errno != EEXIST)
        return err_set(e, ERR_IO, "cannot create folder \"%s\" for the database: %s", dir, strerror(errno));
    return 0;
}

/*
 * Run the setup pragmas. Turning a new database to WAL needs an exclusive lock,
 * and SQLite answers SQLITE_BUSY at once (no busy handler) while another
 * process opens the same new file: retry for up to the busy timeout.
 */
static int configure(struct store *s, const char *sql, int timeout_ms)
{
    int rc;
    for (int waited = 0;; waited += 5) {
        rc = sqlite3_exec(s->db, sql, NULL, NULL, NULL);
        if ((rc != SQLITE_BUSY && rc != SQLITE_LOCKED) || waited >= timeout_ms)
            return rc;
        usleep(5000);
    }
}

int store_open(const char *path, const struct store_options *opt, struct store **out, struct err *e)
{
    int rc = opt->readonly ? 0 : make_parent_dir(path, e);
    if (rc != 0)
        return rc;
    struct store *s = xcalloc(1, sizeof(*s));
    int flags = opt->readonly ? SQLITE_OPEN_READONLY : (SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
    flags |= SQLITE_OPEN_NOMUTEX;
    if (sqlite3_open_v2(path, &s->db, flags, NULL) != SQLITE_OK) {
        err_set(e, ERR_IO, "cannot open database \"%s\": %s", path, s->db ? sqlite3_errmsg(s->db) : "out of memory");
        store_close(s);
        return ERR_IO;
    }
    s->busy_timeout_ms = opt->busy_timeout_ms;
    sqlite3_busy_handler(s->db, on_busy, s);
    s->generation = opt->generation;
    s->outbox = opt->outbox;
    s->instance = opt->instance != NULL ? xstrdup(opt->instance) : NULL;
    s->cache = cache_new(opt->generation, opt->cache_bytes);
    char sql[160];
    snprintf(sql, sizeof(sql), "PRAGMA journal_mode=WAL; PRAGMA synchronous=%s; PRAGMA foreign_keys=ON;",
             opt->synchronous_full ? "FULL" : "NORMAL");
    if (!opt->readonly && configure(s, sql, opt->busy_timeout_ms) != SQLITE_OK) {
        err_set(e, ERR_IO, "cannot configure database \"%s\": %s", path, sqlite3_errmsg(s->db));
        store_close(s);
        return ERR_IO;
    }
    *out = s;
    return 0;
}

static int prep(struct store *s, sqlite3_stmt **st, const char *sql, struct err *e)
{
    if (sqlite3_prepare_v3(s->db, sql, -1, SQLITE_PREPARE_PERSISTENT, st, NULL) != SQLITE_OK)
        return fail(s, e, "prepare");
    return 0;
}

int store_prepare(struct store *s, struct err *e)
{
    int rc;
    if ((rc = prep(s, &s->ping, "SELECT 1", e)) != 0)
        return rc;
    if ((rc = prep(s, &s->char_insert,
                   "INSERT INTO characters (id, version, name, created_at, updated_at, etag, document, instance) "
                   "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                   e)) != 0)
        return rc;
    if (s->outbox && (rc = prep(s, &s->outbox_insert,
                                "INSERT INTO outbox (resource, id, version, op, payload, created_at, attempts) "
                                "VALUES (?1, ?2, ?3, ?4, ?5, ?6, 0)",
                                e)) != 0)
        return rc;
    if ((rc = prep(s, &s->char_get,
                   "SELECT id, version, etag, document FROM characters WHERE id = ?1",
                   e)) != 0)
        return rc;
    return 0;
}

void store_close(struct store *s)
{
    if (s == NULL)
        return;
    sqlite3_finalize(s->ping);
    sqlite3_finalize(s->char_insert);
    sqlite3_finalize(s->outbox_insert);
    sqlite3_finalize(s->order_get);
    sqlite3_finalize(s->char_replace);
    sqlite3_finalize(s->char_delete);
    free(s->instance);
    sqlite3_finalize(s->char_get);
    sqlite3_close_v2(s->db);
    cache_free(s->cache);
    free(s);
}

sqlite3 *store_db(struct store *s)
{
    return s->db;
}

int store_ping(struct store *s, struct err *e)
{
    int rc = sqlite3_step(s->ping);
    sqlite3_reset(s->ping);
    return rc == SQLITE_ROW ? 0 : fail(s, e, "ping");
}

/* Run a one-shot statement (BEGIN, COMMIT, ROLLBACK). */
static int exec1(struct store *s, const char *sql, struct err *e)
{
    return sqlite3_exec(s->db, sql, NULL, NULL, NULL) == SQLITE_OK ? 0 : fail(s, e, sql);
}

static int step_done(struct store *s, sqlite3_stmt *st)
{
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    (void)s;
    return rc;
}

/* Bind a character row to the ?1..?8 of an INSERT (id, version, name, created_at, updated_at, etag, document, instance). */
static void bind_character(sqlite3_stmt *st, const struct store_record *r, const char *instance)
{
    sqlite3_bind_text(st, 1, r->id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, r->version);
    sqlite3_bind_text(st, 3, r->name, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, r->created_at, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 5, r->updated_at, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 6, r->etag, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 7, r->document, (int)r->document_len, SQLITE_STATIC);
    sqlite3_bind_text(st, 8, instance, -1, SQLITE_STATIC);
}

int store_character_insert(struct store *s, const struct store_record *r, long long *seq, struct err *e)
{
    if (seq != NULL)
        *seq = 0;
    int rc = 0;
    if (s->outbox && (rc = exec1(s, "BEGIN IMMEDIATE", e)) != 0)
        return rc;
    sqlite3_stmt *st = s->char_insert;
    bind_character(st, r, s->instance);
    int step = sqlite3_step(st);
    int ext = sqlite3_extended_errcode(s->db);
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    if (step != SQLITE_DONE) {
        rc = ext == SQLITE_CONSTRAINT_PRIMARYKEY ? err_set(e, ERR_CONFLICT, "character %s already exists", r->id)
                                                 : fail(s, e, "insert character");
    } else if (s->outbox) {
        sqlite3_stmt *ob = s->outbox_insert;
        sqlite3_bind_text(ob, 1, "characters", -1, SQLITE_STATIC);
        sqlite3_bind_text(ob, 2, r->id, -1, SQLITE_STATIC);
        sqlite3_bind_int64(ob, 3, r->version);
        sqlite3_bind_text(ob, 4, "upsert", -1, SQLITE_STATIC);
        sqlite3_bind_text(ob, 5, r->document, (int)r->document_len, SQLITE_STATIC);
        sqlite3_bind_text(ob, 6, r->updated_at, -1, SQLITE_STATIC);
        if (step_done(s, ob) != SQLITE_DONE)
            rc = fail(s, e, "queue the write for HarperDB");
        else if (seq != NULL)
            *seq = sqlite3_last_insert_rowid(s->db);
    }
    if (s->outbox) {
        if (rc == 0)
            rc = exec1(s, "COMMIT", e);
        if (rc != 0)
            sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
    }
    if (rc == 0)
        cache_generation_bump(s->generation);
    return rc;
}

/* Prepare a statement on first use (the syncer's own statements). */
static int lazy(struct store *s, sqlite3_stmt **st, const char *sql, struct err *e)
{
    return *st != NULL ? 0 : prep(s, st, sql, e);
}

/* -1, 0, 1 as (v1, u1, i1) sorts before, equal to, after (v2, u2, i2). */
static int order_cmp(long long v1, const char *u1, const char *i1, long long v2, const char *u2, const char *i2)
{
    if (v1 != v2)
        return v1 < v2 ? -1 : 1;
    int c = strcmp(u1 ? u1 : "", u2 ? u2 : "");
    if (c != 0)
        return c < 0 ? -1 : 1;
    c = strcmp(i1 ? i1 : "", i2 ? i2 : "");
    return c < 0 ? -1 : c > 0;
}

int store_character_put_remote(struct store *s, const struct store_record *r, const char *instance, int *applied,
                               struct err *e)
{
    if (applied != NULL)
        *applied = 0;
    int rc;
    if ((rc = lazy(s, &s->order_get, "SELECT version, updated_at, instance FROM characters WHERE id = ?1", e)) != 0 ||
        (rc = lazy(s, &s->char_replace,
                   "INSERT OR REPLACE INTO characters (id, version, name, created_at, updated_at, etag, document, "
                   "instance) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                   e)) != 0)
        return rc;
    if ((rc = exec1(s, "BEGIN IMMEDIATE", e)) != 0)
        return rc;
    sqlite3_bind_text(s->order_get, 1, r->id, -1, SQLITE_STATIC);
    int newer = 1;
    if (sqlite3_step(s->order_get) == SQLITE_ROW)
        newer = order_cmp(r->version, r->updated_at, instance, sqlite3_column_int64(s->order_get, 0),
                          (const char *)sqlite3_column_text(s->order_get, 1),
                          (const char *)sqlite3_column_text(s->order_get, 2)) > 0;
    sqlite3_reset(s->order_get);
    sqlite3_clear_bindings(s->order_get);
    if (newer) {
        sqlite3_stmt *st = s->char_replace;
        bind_character(st, r, instance);
        if (step_done(s, st) != SQLITE_DONE)
            rc = fail(s, e, "store a pulled character");
    }
    if (rc == 0)
        rc = exec1(s, "COMMIT", e);
    if (rc != 0) {
        sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
        return rc;
    }
    if (newer) {
        cache_generation_bump(s->generation);
        if (applied != NULL)
            *applied = 1;
    }
    return 0;
}

int store_character_delete_remote(struct store *s, const char *id, struct err *e)
{
    int rc = lazy(s, &s->char_delete, "DELETE FROM characters WHERE id = ?1", e);
    if (rc != 0)
        return rc;
    sqlite3_bind_text(s->char_delete, 1, id, -1, SQLITE_STATIC);
    if (step_done(s, s->char_delete) != SQLITE_DONE)
        return fail(s, e, "delete a character");
    if (sqlite3_changes(s->db) == 0)
        return err_set(e, ERR_NOT_FOUND, "character %s is not here", id);
    cache_generation_bump(s->generation);
    return 0;
}

void store_changed(struct store *s)
{
    cache_generation_bump(s->generation);
}

int store_character_get(struct store *s, const char *id, size_t id_len, struct store_record *out, struct err *e)
{
    memset(out, 0, sizeof(*out));
    uint64_t gen = 0;
    struct cache_hit hit;
    if (s->cache != NULL && cache_get(s->cache, id, id_len, &hit, &gen)) {
        out->version = hit.version;
        out->etag = hit.etag;
        out->document = hit.doc;
        out->document_len = hit.doc_len;
        return 0;
    }
    sqlite3_stmt *st = s->char_get;
    sqlite3_reset(st);
    sqlite3_bind_text(st, 1, id, (int)id_len, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_DONE) {
        sqlite3_reset(st);
        return err_set(e, ERR_NOT_FOUND, "character not found");
    }
    if (rc != SQLITE_ROW) {
        int r = fail(s, e, "get character");
        sqlite3_reset(st);
        return r;
    }
    /* The statement stays un-reset so the column memory lives until store_row_done(). */
    out->id = (const char *)sqlite3_column_text(st, 0);
    out->version = sqlite3_column_int64(st, 1);
    out->etag = (const char *)sqlite3_column_text(st, 2);
    out->document = (const char *)sqlite3_column_text(st, 3);
    out->document_len = (size_t)sqlite3_column_bytes(st, 3);
    if (out->document == NULL || out->etag == NULL) {
        sqlite3_reset(st);
        return err_set(e, ERR_IO, "character row is incomplete");
    }
    if (s->cache != NULL)
        cache_put(s->cache, gen, id, id_len, out->version, out->etag, out->document, out->document_len);
    return 0;
}

void store_row_done(struct store *s)
{
    sqlite3_reset(s->char_get);
    sqlite3_clear_bindings(s->char_get);
}

void store_etag(long long version, const char *doc, size_t len, char out[36])
{
    /* Hash the document's canonical form (keys sorted, no spaces), so the same
     * content pulled into another instance in another key order keeps its ETag. */
    json_t *parsed = json_loadb(doc, len, JSON_DECODE_ANY, NULL);
    char *canonical = parsed != NULL ? json_dumps(parsed, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY) : NULL;
    json_decref(parsed);
    unsigned char h[16];
    crypto_generichash_state st;
    crypto_generichash_init(&st, NULL, 0, sizeof(h));
    crypto_generichash_update(&st, (const unsigned char *)&version, sizeof(version));
    if (canonical != NULL)
        crypto_generichash_update(&st, (const unsigned char *)canonical, strlen(canonical));
    else
        crypto_generichash_update(&st, (const unsigned char *)doc, len);
    free(canonical);
    crypto_generichash_final(&st, h, sizeof(h));
    out[0] = '"';
    sodium_bin2hex(out + 1, 33, h, sizeof(h));
    out[33] = '"';
    out[34] = '\0';
}

/* Skeletons until the storage work of issue 3 lands. */
int store_character_update(struct store *s, const struct store_record *r, long long expect_version, long long *seq,
                           struct err *e)
{
    (void)s;
    (void)r;
    (void)expect_version;
    (void)seq;
    return err_set(e, ERR_IO, "store_character_update is not written yet");
}

int store_character_delete(struct store *s, const char *id, long long expect_version, long long *seq, struct err *e)
{
    (void)s;
    (void)id;
    (void)expect_version;
    (void)seq;
    return err_set(e, ERR_IO, "store_character_delete is not written yet");
}

int store_character_list(struct store *s, const struct store_filter *f, const char *after_id, int limit,
                         long long *count, store_row_fn fn, void *ctx, struct err *e)
{
    (void)s;
    (void)f;
    (void)after_id;
    (void)limit;
    (void)fn;
    (void)ctx;
    *count = 0;
    return err_set(e, ERR_IO, "store_character_list is not written yet");
}
