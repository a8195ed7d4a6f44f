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

#include "common/log.h"
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
    sqlite3_stmt *char_version; /* version of one row, for update/delete */
    sqlite3_stmt *char_update;
    sqlite3_stmt *tombstone; /* syncer only: a queued local delete of one id */
    sqlite3_stmt *nonce_get; /* syncer only: roll_nonce of one row */
    sqlite3_stmt *list[32];  /* by filter mask (LIST_*), prepared on first use */
    sqlite3_stmt *count[16];
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
                   "INSERT INTO characters (id, version, name, created_at, updated_at, etag, document, instance, "
                   "race, \"class\", level, roll_nonce) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
                   e)) != 0)
        return rc;
    if ((rc = prep(s, &s->char_version, "SELECT version FROM characters WHERE id = ?1", e)) != 0)
        return rc;
    if ((rc = prep(s, &s->char_update,
                   "UPDATE characters SET version = ?2, name = ?3, created_at = coalesce(?4, created_at), "
                   "updated_at = ?5, etag = ?6, document = ?7, instance = ?8, race = ?9, \"class\" = ?10, "
                   "level = ?11, roll_nonce = ?12 WHERE id = ?1",
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
    sqlite3_finalize(s->char_version);
    sqlite3_finalize(s->char_update);
    sqlite3_finalize(s->tombstone);
    sqlite3_finalize(s->nonce_get);
    for (size_t i = 0; i < sizeof(s->list) / sizeof(s->list[0]); i++)
        sqlite3_finalize(s->list[i]);
    for (size_t i = 0; i < sizeof(s->count) / sizeof(s->count[0]); i++)
        sqlite3_finalize(s->count[i]);
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

/*
 * Bind a character row to ?1..?12 (id, version, name, created_at, updated_at,
 * etag, document, instance, race, class, level, roll_nonce); a level <= 0 and
 * absent strings are NULL.
 */
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
    sqlite3_bind_text(st, 9, r->race, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 10, r->class_, -1, SQLITE_STATIC);
    if (r->level > 0)
        sqlite3_bind_int(st, 11, r->level);
    else
        sqlite3_bind_null(st, 11);
    sqlite3_bind_text(st, 12, r->roll_nonce, -1, SQLITE_STATIC);
}

/* Whether the step that just failed broke the UNIQUE index on roll_nonce (call before the reset). */
static int nonce_taken(struct store *s)
{
    return sqlite3_extended_errcode(s->db) == SQLITE_CONSTRAINT_UNIQUE &&
           strstr(sqlite3_errmsg(s->db), "roll_nonce") != NULL;
}

/* Queue an outbox row for a write of character `id` (payload NULL for a delete). */
static int queue(struct store *s, const char *id, long long version, const char *op, const char *payload, size_t len,
                 const char *created_at, long long *seq, struct err *e)
{
    sqlite3_stmt *ob = s->outbox_insert;
    sqlite3_bind_text(ob, 1, "characters", -1, SQLITE_STATIC);
    sqlite3_bind_text(ob, 2, id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(ob, 3, version);
    sqlite3_bind_text(ob, 4, op, -1, SQLITE_STATIC);
    if (payload != NULL)
        sqlite3_bind_text(ob, 5, payload, (int)len, SQLITE_STATIC);
    sqlite3_bind_text(ob, 6, created_at, -1, SQLITE_STATIC);
    if (step_done(s, ob) != SQLITE_DONE)
        return fail(s, e, "queue the write for HarperDB");
    if (seq != NULL)
        *seq = sqlite3_last_insert_rowid(s->db);
    return 0;
}

/* End the write transaction begun by BEGIN IMMEDIATE: commit when rc is 0, else roll back; returns rc. */
static int finish(struct store *s, int rc, struct err *e)
{
    if (rc == 0)
        rc = sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL) == SQLITE_OK ? 0 : fail(s, e, "COMMIT");
    if (rc != 0)
        sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
    else
        cache_generation_bump(s->generation);
    return rc;
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
    int dup = step != SQLITE_DONE && nonce_taken(s);
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    if (step != SQLITE_DONE) {
        if (ext == SQLITE_CONSTRAINT_PRIMARYKEY)
            rc = err_set(e, ERR_CONFLICT, "character %s already exists", r->id);
        else if (dup)
            rc = err_set(e, ERR_DUPLICATE, "roll nonce %s is used by another character", r->roll_nonce);
        else
            rc = fail(s, e, "insert character");
    } else if (s->outbox) {
        rc = queue(s, r->id, r->version, "upsert", r->document, r->document_len, r->updated_at, seq, e);
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

/* 1 when a local delete of `id` still waits in the outbox (the record must not come back before it is pushed). */
static int delete_queued(struct store *s, const char *id, int *queued, struct err *e)
{
    int rc = lazy(s, &s->tombstone,
                  "SELECT 1 FROM outbox WHERE resource = 'characters' AND id = ?1 AND op = 'delete' LIMIT 1", e);
    if (rc != 0)
        return rc;
    sqlite3_bind_text(s->tombstone, 1, id, -1, SQLITE_STATIC);
    int step = sqlite3_step(s->tombstone);
    sqlite3_reset(s->tombstone);
    sqlite3_clear_bindings(s->tombstone);
    if (step != SQLITE_ROW && step != SQLITE_DONE)
        return fail(s, e, "look up queued deletes");
    *queued = step == SQLITE_ROW;
    return 0;
}

/*
 * Pulled rows replace ours in place (ON CONFLICT DO UPDATE, not INSERT OR
 * REPLACE: a REPLACE would silently delete another character whose
 * roll_nonce the pulled one repeats). A pulled row without a nonce keeps ours.
 */
int store_character_put_remote(struct store *s, const struct store_record *r, const char *instance, int *applied,
                               struct err *e)
{
    if (applied != NULL)
        *applied = 0;
    int rc;
    if ((rc = lazy(s, &s->order_get, "SELECT version, updated_at, instance FROM characters WHERE id = ?1", e)) != 0 ||
        (rc = lazy(s, &s->char_replace,
                   "INSERT INTO characters (id, version, name, created_at, updated_at, etag, document, instance, "
                   "race, \"class\", level, roll_nonce) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12) "
                   "ON CONFLICT (id) DO UPDATE SET version = excluded.version, name = excluded.name, "
                   "created_at = excluded.created_at, updated_at = excluded.updated_at, etag = excluded.etag, "
                   "document = excluded.document, instance = excluded.instance, race = excluded.race, "
                   "\"class\" = excluded.\"class\", level = excluded.level, "
                   "roll_nonce = coalesce(excluded.roll_nonce, characters.roll_nonce)",
                   e)) != 0)
        return rc;
    if ((rc = exec1(s, "BEGIN IMMEDIATE", e)) != 0)
        return rc;
    int queued = 0;
    rc = delete_queued(s, r->id, &queued, e);
    int newer = rc == 0 && !queued;
    if (newer) {
        sqlite3_bind_text(s->order_get, 1, r->id, -1, SQLITE_STATIC);
        if (sqlite3_step(s->order_get) == SQLITE_ROW)
            newer = order_cmp(r->version, r->updated_at, instance, sqlite3_column_int64(s->order_get, 0),
                              (const char *)sqlite3_column_text(s->order_get, 1),
                              (const char *)sqlite3_column_text(s->order_get, 2)) > 0;
        sqlite3_reset(s->order_get);
        sqlite3_clear_bindings(s->order_get);
    }
    if (newer) {
        sqlite3_stmt *st = s->char_replace;
        bind_character(st, r, instance);
        int step = sqlite3_step(st);
        if (step != SQLITE_DONE && nonce_taken(s)) {
            /* Another of our characters holds that nonce: keep the record, not the nonce. */
            log_warn("pulled character %s repeats roll nonce %s of another character here; stored without it", r->id,
                     r->roll_nonce);
            sqlite3_reset(st);
            sqlite3_bind_null(st, 12);
            step = sqlite3_step(st);
        }
        sqlite3_reset(st);
        sqlite3_clear_bindings(st);
        if (step != SQLITE_DONE)
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

/*
 * The stored version of `id` into *version, inside the caller's transaction.
 * ERR_NOT_FOUND when absent; ERR_CONFLICT when expect_version > 0 and differs.
 */
static int check_version(struct store *s, const char *id, long long expect_version, long long *version, struct err *e)
{
    sqlite3_stmt *st = s->char_version;
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    int step = sqlite3_step(st);
    *version = step == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
    int rc = 0;
    if (step == SQLITE_DONE)
        rc = err_set(e, ERR_NOT_FOUND, "character %s not found", id);
    else if (step != SQLITE_ROW)
        rc = fail(s, e, "read the character's version");
    else if (expect_version > 0 && *version != expect_version)
        rc = err_set(e, ERR_CONFLICT, "character %s is at version %lld, not %lld", id, *version, expect_version);
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return rc;
}

int store_character_update(struct store *s, const struct store_record *r, long long expect_version, long long *seq,
                           struct err *e)
{
    if (seq != NULL)
        *seq = 0;
    long long stored = 0;
    int rc = exec1(s, "BEGIN IMMEDIATE", e);
    if (rc != 0)
        return rc;
    rc = check_version(s, r->id, expect_version, &stored, e);
    if (rc == 0 && r->version != stored + 1)
        rc = err_set(e, ERR_CONFLICT, "character %s is at version %lld: the next is %lld, not %lld", r->id, stored,
                     stored + 1, r->version);
    if (rc == 0) {
        sqlite3_stmt *st = s->char_update;
        bind_character(st, r, s->instance);
        int step = sqlite3_step(st);
        int dup = step != SQLITE_DONE && nonce_taken(s);
        if (step != SQLITE_DONE)
            rc = dup ? err_set(e, ERR_DUPLICATE, "roll nonce %s is used by another character", r->roll_nonce)
                     : fail(s, e, "update character");
        sqlite3_reset(st);
        sqlite3_clear_bindings(st);
    }
    if (rc == 0 && s->outbox)
        rc = queue(s, r->id, r->version, "upsert", r->document, r->document_len, r->updated_at, seq, e);
    return finish(s, rc, e);
}

/* Now as RFC 3339 UTC with milliseconds, as the outbox's created_at. */
static void now_rfc3339(char out[32])
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    gmtime_r(&ts.tv_sec, &tm);
    size_t n = strftime(out, 32, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(out + n, 32 - n, ".%03dZ", (int)(ts.tv_nsec / 1000000));
}

int store_character_delete(struct store *s, const char *id, long long expect_version, long long *seq, struct err *e)
{
    if (seq != NULL)
        *seq = 0;
    long long stored = 0;
    int rc = lazy(s, &s->char_delete, "DELETE FROM characters WHERE id = ?1", e);
    if (rc == 0)
        rc = exec1(s, "BEGIN IMMEDIATE", e);
    if (rc != 0)
        return rc;
    rc = check_version(s, id, expect_version, &stored, e);
    if (rc == 0) {
        sqlite3_bind_text(s->char_delete, 1, id, -1, SQLITE_STATIC);
        if (step_done(s, s->char_delete) != SQLITE_DONE)
            rc = fail(s, e, "delete character");
    }
    if (rc == 0 && s->outbox) {
        char now[32];
        now_rfc3339(now);
        rc = queue(s, id, stored, "delete", NULL, 0, now, seq, e);
    }
    return finish(s, rc, e);
}

/* Filter mask of a list statement; LIST_AFTER only for the rows, not the count. */
enum { LIST_RACE = 1, LIST_CLASS = 2, LIST_LEVEL = 4, LIST_NAME = 8, LIST_AFTER = 16 };

/*
 * The statement for filter mask `mask` (count: the count of all matches),
 * prepared on first use. Its text is put together from the constant
 * fragments below only, one per filter present (so each can use its index);
 * every value is bound: ?1 race, ?2 class, ?3 level, ?4 name pattern, ?5
 * after_id, ?6 limit.
 */
static int list_stmt(struct store *s, unsigned mask, int count, sqlite3_stmt **out, struct err *e)
{
    sqlite3_stmt **slot = count ? &s->count[mask & 15] : &s->list[mask & 31];
    if (*slot == NULL) {
        char sql[512];
        size_t n = (size_t)snprintf(sql, sizeof(sql), "%s",
                                    count ? "SELECT count(*) FROM characters WHERE 1"
                                          : "SELECT id, version, etag, document, name, created_at, updated_at, race, "
                                            "\"class\", level FROM characters WHERE 1");
        static const char *const where[] = {" AND race = ?1", " AND \"class\" = ?2", " AND level = ?3",
                                            " AND name LIKE ?4 ESCAPE '\\'", " AND id > ?5"};
        for (unsigned i = 0; i < 5; i++)
            if (mask & (1u << i))
                n += (size_t)snprintf(sql + n, sizeof(sql) - n, "%s", where[i]);
        if (!count)
            snprintf(sql + n, sizeof(sql) - n, " ORDER BY id LIMIT ?6");
        int rc = prep(s, slot, sql, e);
        if (rc != 0)
            return rc;
    }
    *out = *slot;
    return 0;
}

/* Bind f's values (and after_id) to a list or count statement. */
static void list_bind(sqlite3_stmt *st, const struct store_filter *f, const char *pattern, const char *after_id)
{
    if (f->race != NULL)
        sqlite3_bind_text(st, 1, f->race, -1, SQLITE_STATIC);
    if (f->class_ != NULL)
        sqlite3_bind_text(st, 2, f->class_, -1, SQLITE_STATIC);
    if (f->level > 0)
        sqlite3_bind_int(st, 3, f->level);
    if (pattern != NULL)
        sqlite3_bind_text(st, 4, pattern, -1, SQLITE_STATIC);
    if (after_id != NULL)
        sqlite3_bind_text(st, 5, after_id, -1, SQLITE_STATIC);
}

/* The LIKE pattern for a literal prefix: '%', '_' and '\' escaped with '\', then '%'. Caller frees. */
static char *like_prefix(const char *prefix)
{
    size_t len = strlen(prefix);
    char *p = xmalloc(2 * len + 2), *o = p;
    for (const char *c = prefix; *c != '\0'; c++) {
        if (*c == '%' || *c == '_' || *c == '\\')
            *o++ = '\\';
        *o++ = *c;
    }
    *o++ = '%';
    *o = '\0';
    return p;
}

/* Count and rows run in one read transaction, so the count matches the rows' snapshot. */
int store_character_list(struct store *s, const struct store_filter *f, const char *after_id, int limit,
                         long long *count, store_row_fn fn, void *ctx, struct err *e)
{
    static const struct store_filter none = {0};
    if (f == NULL)
        f = &none;
    *count = 0;
    unsigned mask = (f->race != NULL ? LIST_RACE : 0) | (f->class_ != NULL ? LIST_CLASS : 0) |
                    (f->level > 0 ? LIST_LEVEL : 0) | (f->name_prefix != NULL ? LIST_NAME : 0);
    sqlite3_stmt *cst, *lst;
    int rc = list_stmt(s, mask, 1, &cst, e);
    if (rc == 0)
        rc = list_stmt(s, mask | (after_id != NULL ? LIST_AFTER : 0), 0, &lst, e);
    if (rc == 0)
        rc = exec1(s, "BEGIN", e);
    if (rc != 0)
        return rc;
    char *pattern = f->name_prefix != NULL ? like_prefix(f->name_prefix) : NULL;
    list_bind(cst, f, pattern, NULL);
    if (sqlite3_step(cst) == SQLITE_ROW)
        *count = sqlite3_column_int64(cst, 0);
    else
        rc = fail(s, e, "count characters");
    sqlite3_reset(cst);
    sqlite3_clear_bindings(cst);
    if (rc == 0 && limit > 0) {
        list_bind(lst, f, pattern, after_id);
        sqlite3_bind_int(lst, 6, limit);
        int step;
        while ((step = sqlite3_step(lst)) == SQLITE_ROW) {
            struct store_record r = {
                .id = (const char *)sqlite3_column_text(lst, 0),
                .version = sqlite3_column_int64(lst, 1),
                .etag = (const char *)sqlite3_column_text(lst, 2),
                .document = (const char *)sqlite3_column_text(lst, 3),
                .document_len = (size_t)sqlite3_column_bytes(lst, 3),
                .name = (const char *)sqlite3_column_text(lst, 4),
                .created_at = (const char *)sqlite3_column_text(lst, 5),
                .updated_at = (const char *)sqlite3_column_text(lst, 6),
                .race = (const char *)sqlite3_column_text(lst, 7),
                .class_ = (const char *)sqlite3_column_text(lst, 8),
                .level = sqlite3_column_int(lst, 9),
            };
            if (r.id == NULL || r.etag == NULL || r.document == NULL) {
                rc = err_set(e, ERR_IO, "character row %s is incomplete", r.id != NULL ? r.id : "(no id)");
                break;
            }
            if (fn(ctx, &r) != 0)
                break;
        }
        if (rc == 0 && step != SQLITE_ROW && step != SQLITE_DONE)
            rc = fail(s, e, "list characters");
        sqlite3_reset(lst);
        sqlite3_clear_bindings(lst);
    }
    free(pattern);
    sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL); /* a read: nothing to lose when it fails */
    return rc;
}

int store_character_nonce(struct store *s, const char *id, char *out, size_t outlen, struct err *e)
{
    if (outlen > 0)
        out[0] = '\0';
    int rc = lazy(s, &s->nonce_get, "SELECT roll_nonce FROM characters WHERE id = ?1", e);
    if (rc != 0)
        return rc;
    sqlite3_bind_text(s->nonce_get, 1, id, -1, SQLITE_STATIC);
    int step = sqlite3_step(s->nonce_get);
    if (step == SQLITE_ROW) {
        const unsigned char *t = sqlite3_column_text(s->nonce_get, 0);
        if (t != NULL && outlen > 0)
            snprintf(out, outlen, "%s", (const char *)t);
    } else {
        rc = step == SQLITE_DONE ? err_set(e, ERR_NOT_FOUND, "character %s not found", id)
                                 : fail(s, e, "read a roll nonce");
    }
    sqlite3_reset(s->nonce_get);
    sqlite3_clear_bindings(s->nonce_get);
    return rc;
}
