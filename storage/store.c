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

/* One kind of document row: its table, its outbox resource and its columns. */
struct kind {
    const char *table, *resource, *noun;
    const char *col3;            /* ?3: "name" or "character_id" */
    const char *const *extra;    /* columns ?9.. (NULL-terminated) */
    const char *cache_prefix;    /* read-cache key prefix (characters: none, as before) */
};

static const char *const char_extra[] = {"race", "\"class\"", "level", "roll_nonce", NULL};
static const char *const equip_extra[] = {"equip_type", "base_cost", "weight", NULL};
static const char *const camp_extra[] = {NULL};

static const struct kind kinds[STORE_KINDS] = {
    {"characters", "characters", "character", "name", char_extra, ""},
    {"equipment", "equipment", "equipment item", "name", equip_extra, "equipment/"},
    {"campaign", "campaigns", "campaign", "character_id", camp_extra, "campaign/"},
};

#define LIST_MASKS 256

/* Prepared statements of one kind (characters': insert, version, update, get at store_prepare; the rest lazily). */
struct kind_stmts {
    sqlite3_stmt *insert, *get, *version, *update, *delete_, *replace, *order;
    sqlite3_stmt *list[LIST_MASKS]; /* by filter mask (LIST_*), prepared on first use */
    sqlite3_stmt *count[LIST_MASKS];
};

struct store {
    sqlite3 *db;
    sqlite3_stmt *ping;
    sqlite3_stmt *outbox_insert;   /* prepared when options.outbox */
    sqlite3_stmt *tombstone; /* syncer only: a queued local delete of one id */
    sqlite3_stmt *nonce_get; /* syncer only: roll_nonce of one row */
    struct kind_stmts k[STORE_KINDS];
    sqlite3_stmt *held;      /* the get statement whose row store_row_done() releases */
    int outbox;
    char *instance;
    uint64_t *generation;    /* shared write counter, bumped after each commit */
    int busy_timeout_ms;
    struct timespec busy_since; /* when the current wait for a lock began */
    struct cache *cache;     /* NULL when off */
};

const char *store_kind_resource(enum store_kind k)
{
    return kinds[k].resource;
}

int store_kind_of(const char *resource)
{
    for (int i = 0; i < STORE_KINDS; i++)
        if (resource != NULL && strcmp(kinds[i].resource, resource) == 0)
            return i;
    return -1;
}

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

/* Lazily prepare statement *st from SQL built into a buffer (kind tables and columns only, never input). */
static int lazy(struct store *s, sqlite3_stmt **st, const char *sql, struct err *e)
{
    return *st != NULL ? 0 : prep(s, st, sql, e);
}

/* Append "fmt" to sql[*n..]; the texts are this file's constants, well under the buffer. */
static void cat(char *sql, size_t cap, size_t *n, const char *text)
{
    int w = snprintf(sql + *n, cap - *n, "%s", text);
    if (w > 0)
        *n = *n + (size_t)w < cap ? *n + (size_t)w : cap - 1;
}

/* The column list "id, version, <col3>, created_at, updated_at, etag, document, instance[, extras]". */
static void columns(const struct kind *k, char *sql, size_t cap, size_t *n)
{
    cat(sql, cap, n, "id, version, ");
    cat(sql, cap, n, k->col3);
    cat(sql, cap, n, ", created_at, updated_at, etag, document, instance");
    for (size_t i = 0; k->extra[i] != NULL; i++) {
        cat(sql, cap, n, ", ");
        cat(sql, cap, n, k->extra[i]);
    }
}

static size_t ncolumns(const struct kind *k)
{
    size_t n = 8;
    while (k->extra[n - 8] != NULL)
        n++;
    return n;
}

/* "INSERT INTO t (cols) VALUES (?1, ..., ?N)" into sql. */
static void insert_sql(const struct kind *k, char *sql, size_t cap)
{
    size_t n = 0;
    cat(sql, cap, &n, "INSERT INTO ");
    cat(sql, cap, &n, k->table);
    cat(sql, cap, &n, " (");
    columns(k, sql, cap, &n);
    cat(sql, cap, &n, ") VALUES (");
    for (size_t i = 1; i <= ncolumns(k); i++) {
        char p[8];
        snprintf(p, sizeof(p), "%s?%zu", i > 1 ? ", " : "", i);
        cat(sql, cap, &n, p);
    }
    cat(sql, cap, &n, ")");
}

/* Prepare kind k's insert, version, update and get statements (the request path's). */
static int prepare_kind(struct store *s, enum store_kind kk, struct err *e)
{
    const struct kind *k = &kinds[kk];
    struct kind_stmts *st = &s->k[kk];
    char sql[1024];
    size_t n;
    int rc;
    insert_sql(k, sql, sizeof(sql));
    if ((rc = lazy(s, &st->insert, sql, e)) != 0)
        return rc;
    snprintf(sql, sizeof(sql), "SELECT version FROM %s WHERE id = ?1", k->table);
    if ((rc = lazy(s, &st->version, sql, e)) != 0)
        return rc;
    n = 0;
    cat(sql, sizeof(sql), &n, "UPDATE ");
    cat(sql, sizeof(sql), &n, k->table);
    cat(sql, sizeof(sql), &n, " SET version = ?2, ");
    cat(sql, sizeof(sql), &n, k->col3);
    cat(sql, sizeof(sql), &n, " = ?3, created_at = coalesce(?4, created_at), updated_at = ?5, etag = ?6, "
                              "document = ?7, instance = ?8");
    for (size_t i = 0; k->extra[i] != NULL; i++) {
        char one[64];
        snprintf(one, sizeof(one), ", %s = ?%zu", k->extra[i], i + 9);
        cat(sql, sizeof(sql), &n, one);
    }
    cat(sql, sizeof(sql), &n, " WHERE id = ?1");
    if ((rc = lazy(s, &st->update, sql, e)) != 0)
        return rc;
    snprintf(sql, sizeof(sql), "SELECT id, version, etag, document FROM %s WHERE id = ?1", k->table);
    return lazy(s, &st->get, sql, e);
}

int store_prepare(struct store *s, struct err *e)
{
    int rc;
    if ((rc = prep(s, &s->ping, "SELECT 1", e)) != 0)
        return rc;
    if ((rc = prepare_kind(s, STORE_CHARACTERS, e)) != 0)
        return rc;
    if (s->outbox && (rc = prep(s, &s->outbox_insert,
                                "INSERT INTO outbox (resource, id, version, op, payload, created_at, attempts) "
                                "VALUES (?1, ?2, ?3, ?4, ?5, ?6, 0)",
                                e)) != 0)
        return rc;
    return 0;
}

void store_close(struct store *s)
{
    if (s == NULL)
        return;
    sqlite3_finalize(s->ping);
    sqlite3_finalize(s->outbox_insert);
    sqlite3_finalize(s->tombstone);
    sqlite3_finalize(s->nonce_get);
    for (int k = 0; k < STORE_KINDS; k++) {
        struct kind_stmts *st = &s->k[k];
        sqlite3_finalize(st->insert);
        sqlite3_finalize(st->get);
        sqlite3_finalize(st->version);
        sqlite3_finalize(st->update);
        sqlite3_finalize(st->delete_);
        sqlite3_finalize(st->replace);
        sqlite3_finalize(st->order);
        for (size_t i = 0; i < LIST_MASKS; i++) {
            sqlite3_finalize(st->list[i]);
            sqlite3_finalize(st->count[i]);
        }
    }
    free(s->instance);
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
 * Bind a row of kind k to ?1..?N: id, version, name (campaigns: character_id),
 * created_at, updated_at, etag, document, instance, then the kind's columns
 * (characters: race, class, level, roll_nonce; equipment: equip_type,
 * base_cost, weight); a level <= 0 and absent strings are NULL.
 */
static void bind_row(sqlite3_stmt *st, enum store_kind k, const struct store_record *r, const char *instance)
{
    sqlite3_bind_text(st, 1, r->id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, r->version);
    sqlite3_bind_text(st, 3, k == STORE_CAMPAIGNS ? r->character_id : r->name, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, r->created_at, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 5, r->updated_at, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 6, r->etag, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 7, r->document, (int)r->document_len, SQLITE_STATIC);
    sqlite3_bind_text(st, 8, instance, -1, SQLITE_STATIC);
    if (k == STORE_CHARACTERS) {
        sqlite3_bind_text(st, 9, r->race, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 10, r->class_, -1, SQLITE_STATIC);
        if (r->level > 0)
            sqlite3_bind_int(st, 11, r->level);
        else
            sqlite3_bind_null(st, 11);
        sqlite3_bind_text(st, 12, r->roll_nonce, -1, SQLITE_STATIC);
    } else if (k == STORE_EQUIPMENT) {
        sqlite3_bind_text(st, 9, r->equip_type, -1, SQLITE_STATIC);
        sqlite3_bind_double(st, 10, r->base_cost);
        sqlite3_bind_double(st, 11, r->weight);
    }
}

/* Whether the step that just failed broke the UNIQUE index on roll_nonce (call before the reset). */
static int nonce_taken(struct store *s)
{
    return sqlite3_extended_errcode(s->db) == SQLITE_CONSTRAINT_UNIQUE &&
           strstr(sqlite3_errmsg(s->db), "roll_nonce") != NULL;
}

/* Queue an outbox row for a write of row `id` of kind k (payload NULL for a delete). */
static int queue(struct store *s, enum store_kind k, const char *id, long long version, const char *op,
                 const char *payload, size_t len, const char *created_at, long long *seq, struct err *e)
{
    sqlite3_stmt *ob = s->outbox_insert;
    sqlite3_bind_text(ob, 1, kinds[k].resource, -1, SQLITE_STATIC);
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

int store_doc_insert(struct store *s, enum store_kind k, const struct store_record *r, long long *seq, struct err *e)
{
    if (seq != NULL)
        *seq = 0;
    int rc = prepare_kind(s, k, e);
    if (rc != 0)
        return rc;
    if (s->outbox && (rc = exec1(s, "BEGIN IMMEDIATE", e)) != 0)
        return rc;
    sqlite3_stmt *st = s->k[k].insert;
    bind_row(st, k, r, s->instance);
    int step = sqlite3_step(st);
    int ext = sqlite3_extended_errcode(s->db);
    int dup = step != SQLITE_DONE && k == STORE_CHARACTERS && nonce_taken(s);
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    if (step != SQLITE_DONE) {
        if (ext == SQLITE_CONSTRAINT_PRIMARYKEY)
            rc = err_set(e, ERR_CONFLICT, "%s %s already exists", kinds[k].noun, r->id);
        else if (dup)
            rc = err_set(e, ERR_DUPLICATE, "roll nonce %s is used by another character", r->roll_nonce);
        else
            rc = fail(s, e, "insert");
    } else if (s->outbox) {
        rc = queue(s, k, r->id, r->version, "upsert", r->document, r->document_len, r->updated_at, seq, e);
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

int store_character_insert(struct store *s, const struct store_record *r, long long *seq, struct err *e)
{
    return store_doc_insert(s, STORE_CHARACTERS, r, seq, e);
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

/* 1 when a local delete of `id` (kind k) still waits in the outbox (the row must not come back before it is pushed). */
static int delete_queued(struct store *s, enum store_kind k, const char *id, int *queued, struct err *e)
{
    int rc = lazy(s, &s->tombstone,
                  "SELECT 1 FROM outbox WHERE resource = ?2 AND id = ?1 AND op = 'delete' LIMIT 1", e);
    if (rc != 0)
        return rc;
    sqlite3_bind_text(s->tombstone, 1, id, -1, SQLITE_STATIC);
    sqlite3_bind_text(s->tombstone, 2, kinds[k].resource, -1, SQLITE_STATIC);
    int step = sqlite3_step(s->tombstone);
    sqlite3_reset(s->tombstone);
    sqlite3_clear_bindings(s->tombstone);
    if (step != SQLITE_ROW && step != SQLITE_DONE)
        return fail(s, e, "look up queued deletes");
    *queued = step == SQLITE_ROW;
    return 0;
}

/* The syncer's statements of kind k: the total-order key of one row, and the in-place replace. */
static int prepare_remote(struct store *s, enum store_kind kk, struct err *e)
{
    const struct kind *k = &kinds[kk];
    struct kind_stmts *st = &s->k[kk];
    char sql[2048];
    snprintf(sql, sizeof(sql), "SELECT version, updated_at, instance FROM %s WHERE id = ?1", k->table);
    int rc = lazy(s, &st->order, sql, e);
    if (rc != 0 || st->replace != NULL)
        return rc;
    insert_sql(k, sql, sizeof(sql));
    size_t n = strlen(sql);
    cat(sql, sizeof(sql), &n, " ON CONFLICT (id) DO UPDATE SET version = excluded.version, ");
    const char *common[] = {k->col3, "created_at", "updated_at", "etag", "document", "instance"};
    char one[160];
    for (size_t i = 0; i < sizeof(common) / sizeof(common[0]); i++) {
        snprintf(one, sizeof(one), "%s = excluded.%s, ", common[i], common[i]);
        cat(sql, sizeof(sql), &n, one);
    }
    for (size_t i = 0; k->extra[i] != NULL; i++) {
        if (strcmp(k->extra[i], "roll_nonce") == 0) /* a pulled row without a nonce keeps ours */
            snprintf(one, sizeof(one), "roll_nonce = coalesce(excluded.roll_nonce, %s.roll_nonce), ", k->table);
        else
            snprintf(one, sizeof(one), "%s = excluded.%s, ", k->extra[i], k->extra[i]);
        cat(sql, sizeof(sql), &n, one);
    }
    sql[n - 2] = '\0'; /* the last ", " */
    return lazy(s, &st->replace, sql, e);
}

/*
 * Pulled rows replace ours in place (ON CONFLICT DO UPDATE, not INSERT OR
 * REPLACE: a REPLACE would silently delete another character whose
 * roll_nonce the pulled one repeats). A pulled row without a nonce keeps ours.
 */
int store_doc_put_remote(struct store *s, enum store_kind k, const struct store_record *r, const char *instance,
                         int *applied, struct err *e)
{
    if (applied != NULL)
        *applied = 0;
    int rc;
    if ((rc = prepare_remote(s, k, e)) != 0)
        return rc;
    if ((rc = exec1(s, "BEGIN IMMEDIATE", e)) != 0)
        return rc;
    struct kind_stmts *ks = &s->k[k];
    int queued = 0;
    rc = delete_queued(s, k, r->id, &queued, e);
    int newer = rc == 0 && !queued;
    if (newer) {
        sqlite3_bind_text(ks->order, 1, r->id, -1, SQLITE_STATIC);
        if (sqlite3_step(ks->order) == SQLITE_ROW)
            newer = order_cmp(r->version, r->updated_at, instance, sqlite3_column_int64(ks->order, 0),
                              (const char *)sqlite3_column_text(ks->order, 1),
                              (const char *)sqlite3_column_text(ks->order, 2)) > 0;
        sqlite3_reset(ks->order);
        sqlite3_clear_bindings(ks->order);
    }
    if (newer) {
        sqlite3_stmt *st = ks->replace;
        bind_row(st, k, r, instance);
        int step = sqlite3_step(st);
        if (step != SQLITE_DONE && k == STORE_CHARACTERS && nonce_taken(s)) {
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
            rc = fail(s, e, "store a pulled row");
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

int store_character_put_remote(struct store *s, const struct store_record *r, const char *instance, int *applied,
                               struct err *e)
{
    return store_doc_put_remote(s, STORE_CHARACTERS, r, instance, applied, e);
}

static int prepare_delete(struct store *s, enum store_kind k, struct err *e)
{
    char sql[128];
    snprintf(sql, sizeof(sql), "DELETE FROM %s WHERE id = ?1", kinds[k].table);
    return lazy(s, &s->k[k].delete_, sql, e);
}

int store_doc_delete_remote(struct store *s, enum store_kind k, const char *id, struct err *e)
{
    int rc = prepare_delete(s, k, e);
    if (rc != 0)
        return rc;
    sqlite3_bind_text(s->k[k].delete_, 1, id, -1, SQLITE_STATIC);
    if (step_done(s, s->k[k].delete_) != SQLITE_DONE)
        return fail(s, e, "delete a row");
    if (sqlite3_changes(s->db) == 0)
        return err_set(e, ERR_NOT_FOUND, "%s %s is not here", kinds[k].noun, id);
    cache_generation_bump(s->generation);
    return 0;
}

int store_character_delete_remote(struct store *s, const char *id, struct err *e)
{
    return store_doc_delete_remote(s, STORE_CHARACTERS, id, e);
}

void store_changed(struct store *s)
{
    cache_generation_bump(s->generation);
}

int store_doc_get(struct store *s, enum store_kind k, const char *id, size_t id_len, struct store_record *out,
                  struct err *e)
{
    memset(out, 0, sizeof(*out));
    if (id_len > 64)
        return err_set(e, ERR_NOT_FOUND, "%s not found", kinds[k].noun);
    /* The cache key: the kind's prefix and the id (characters: the id alone). */
    char key[96];
    size_t plen = strlen(kinds[k].cache_prefix);
    memcpy(key, kinds[k].cache_prefix, plen);
    memcpy(key + plen, id, id_len);
    size_t klen = plen + id_len;
    uint64_t gen = 0;
    struct cache_hit hit;
    if (s->cache != NULL && cache_get(s->cache, key, klen, &hit, &gen)) {
        out->version = hit.version;
        out->etag = hit.etag;
        out->document = hit.doc;
        out->document_len = hit.doc_len;
        return 0;
    }
    int rc0 = prepare_kind(s, k, e);
    if (rc0 != 0)
        return rc0;
    sqlite3_stmt *st = s->k[k].get;
    sqlite3_reset(st);
    sqlite3_bind_text(st, 1, id, (int)id_len, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW && k == STORE_EQUIPMENT && sqlite3_column_type(st, 3) == SQLITE_NULL)
        rc = SQLITE_DONE; /* a row loaded from CSV: not an item of this API */
    if (rc == SQLITE_DONE) {
        sqlite3_reset(st);
        return err_set(e, ERR_NOT_FOUND, "%s not found", kinds[k].noun);
    }
    if (rc != SQLITE_ROW) {
        int r = fail(s, e, "get a row");
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
        return err_set(e, ERR_IO, "%s row is incomplete", kinds[k].noun);
    }
    s->held = st;
    if (s->cache != NULL)
        cache_put(s->cache, gen, key, klen, out->version, out->etag, out->document, out->document_len);
    return 0;
}

int store_character_get(struct store *s, const char *id, size_t id_len, struct store_record *out, struct err *e)
{
    return store_doc_get(s, STORE_CHARACTERS, id, id_len, out, e);
}

void store_row_done(struct store *s)
{
    if (s->held == NULL)
        return;
    sqlite3_reset(s->held);
    sqlite3_clear_bindings(s->held);
    s->held = NULL;
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
static int check_version(struct store *s, enum store_kind k, const char *id, long long expect_version,
                         long long *version, struct err *e)
{
    sqlite3_stmt *st = s->k[k].version;
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    int step = sqlite3_step(st);
    *version = step == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
    int rc = 0;
    if (step == SQLITE_DONE)
        rc = err_set(e, ERR_NOT_FOUND, "%s %s not found", kinds[k].noun, id);
    else if (step != SQLITE_ROW)
        rc = fail(s, e, "read a row's version");
    else if (expect_version > 0 && *version != expect_version)
        rc = err_set(e, ERR_CONFLICT, "%s %s is at version %lld, not %lld", kinds[k].noun, id, *version,
                     expect_version);
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return rc;
}

int store_doc_update(struct store *s, enum store_kind k, const struct store_record *r, long long expect_version,
                     long long *seq, struct err *e)
{
    if (seq != NULL)
        *seq = 0;
    long long stored = 0;
    int rc = prepare_kind(s, k, e);
    if (rc == 0)
        rc = exec1(s, "BEGIN IMMEDIATE", e);
    if (rc != 0)
        return rc;
    rc = check_version(s, k, r->id, expect_version, &stored, e);
    if (rc == 0 && r->version != stored + 1)
        rc = err_set(e, ERR_CONFLICT, "%s %s is at version %lld: the next is %lld, not %lld", kinds[k].noun, r->id,
                     stored, stored + 1, r->version);
    if (rc == 0) {
        sqlite3_stmt *st = s->k[k].update;
        bind_row(st, k, r, s->instance);
        int step = sqlite3_step(st);
        int dup = step != SQLITE_DONE && k == STORE_CHARACTERS && nonce_taken(s);
        if (step != SQLITE_DONE)
            rc = dup ? err_set(e, ERR_DUPLICATE, "roll nonce %s is used by another character", r->roll_nonce)
                     : fail(s, e, "update");
        sqlite3_reset(st);
        sqlite3_clear_bindings(st);
    }
    if (rc == 0 && s->outbox)
        rc = queue(s, k, r->id, r->version, "upsert", r->document, r->document_len, r->updated_at, seq, e);
    return finish(s, rc, e);
}

int store_character_update(struct store *s, const struct store_record *r, long long expect_version, long long *seq,
                           struct err *e)
{
    return store_doc_update(s, STORE_CHARACTERS, r, expect_version, seq, e);
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

int store_doc_delete(struct store *s, enum store_kind k, const char *id, long long expect_version, long long *seq,
                     struct err *e)
{
    if (seq != NULL)
        *seq = 0;
    long long stored = 0;
    int rc = prepare_kind(s, k, e);
    if (rc == 0)
        rc = prepare_delete(s, k, e);
    if (rc == 0)
        rc = exec1(s, "BEGIN IMMEDIATE", e);
    if (rc != 0)
        return rc;
    rc = check_version(s, k, id, expect_version, &stored, e);
    if (rc == 0) {
        sqlite3_bind_text(s->k[k].delete_, 1, id, -1, SQLITE_STATIC);
        if (step_done(s, s->k[k].delete_) != SQLITE_DONE)
            rc = fail(s, e, "delete");
    }
    if (rc == 0 && s->outbox) {
        char now[32];
        now_rfc3339(now);
        rc = queue(s, k, id, stored, "delete", NULL, 0, now, seq, e);
    }
    return finish(s, rc, e);
}

int store_character_delete(struct store *s, const char *id, long long expect_version, long long *seq, struct err *e)
{
    return store_doc_delete(s, STORE_CHARACTERS, id, expect_version, seq, e);
}

/* Filter mask of a list statement; LIST_AFTER only for the rows, not the count. */
enum {
    LIST_RACE = 1,
    LIST_CLASS = 2,
    LIST_LEVEL = 4,
    LIST_NAME = 8,
    LIST_AFTER = 16,
    LIST_TYPE = 32,
    LIST_CHARACTER = 64,
    LIST_DOCS = 128
};

/*
 * The statement for filter mask `mask` (count: the count of all matches) of
 * kind k, prepared on first use. Its text is put together from the constant
 * fragments below only, one per filter present (so each can use its index);
 * every value is bound: ?1 race, ?2 class, ?3 level, ?4 name pattern, ?5
 * after_id, ?6 limit, ?7 equip_type, ?8 character_id.
 */
static int list_stmt(struct store *s, enum store_kind kk, unsigned mask, int count, sqlite3_stmt **out,
                     struct err *e)
{
    const struct kind *k = &kinds[kk];
    if (count)
        mask &= ~(unsigned)LIST_AFTER;
    sqlite3_stmt **slot = count ? &s->k[kk].count[mask & (LIST_MASKS - 1)] : &s->k[kk].list[mask & (LIST_MASKS - 1)];
    if (*slot == NULL) {
        char sql[1024];
        size_t n = 0;
        if (count) {
            cat(sql, sizeof(sql), &n, "SELECT count(*) FROM ");
        } else {
            cat(sql, sizeof(sql), &n, "SELECT id, version, etag, document, ");
            cat(sql, sizeof(sql), &n, k->col3);
            cat(sql, sizeof(sql), &n, ", created_at, updated_at");
            for (size_t i = 0; k->extra[i] != NULL; i++) {
                cat(sql, sizeof(sql), &n, ", ");
                cat(sql, sizeof(sql), &n, k->extra[i]);
            }
            cat(sql, sizeof(sql), &n, " FROM ");
        }
        cat(sql, sizeof(sql), &n, k->table);
        cat(sql, sizeof(sql), &n, " WHERE 1");
        static const char *const where[] = {" AND race = ?1",        " AND \"class\" = ?2",
                                            " AND level = ?3",       " AND name LIKE ?4 ESCAPE '\\'",
                                            " AND id > ?5",          " AND equip_type = ?7",
                                            " AND character_id = ?8", " AND document IS NOT NULL"};
        for (unsigned i = 0; i < 8; i++)
            if (mask & (1u << i))
                cat(sql, sizeof(sql), &n, where[i]);
        if (!count)
            cat(sql, sizeof(sql), &n, " ORDER BY id LIMIT ?6");
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
    if (f->equip_type != NULL)
        sqlite3_bind_text(st, 7, f->equip_type, -1, SQLITE_STATIC);
    if (f->character_id != NULL)
        sqlite3_bind_text(st, 8, f->character_id, -1, SQLITE_STATIC);
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

/* The filter mask of f for kind k: filters a kind has no column for are ignored. */
static unsigned filter_mask(enum store_kind k, const struct store_filter *f)
{
    unsigned m = 0;
    if (k == STORE_CHARACTERS)
        m |= (f->race != NULL ? LIST_RACE : 0) | (f->class_ != NULL ? LIST_CLASS : 0) | (f->level > 0 ? LIST_LEVEL : 0);
    if (k != STORE_CAMPAIGNS && f->name_prefix != NULL)
        m |= LIST_NAME;
    if (k == STORE_EQUIPMENT)
        m |= (f->equip_type != NULL ? LIST_TYPE : 0) | (f->documents_only ? LIST_DOCS : 0);
    if (k == STORE_CAMPAIGNS && f->character_id != NULL)
        m |= LIST_CHARACTER;
    return m;
}

/* Count and rows run in one read transaction, so the count matches the rows' snapshot. */
int store_doc_list(struct store *s, enum store_kind k, const struct store_filter *f, const char *after_id, int limit,
                   long long *count, store_row_fn fn, void *ctx, struct err *e)
{
    static const struct store_filter none = {0};
    if (f == NULL)
        f = &none;
    *count = 0;
    unsigned mask = filter_mask(k, f);
    sqlite3_stmt *cst, *lst;
    int rc = list_stmt(s, k, mask, 1, &cst, e);
    if (rc == 0)
        rc = list_stmt(s, k, mask | (after_id != NULL ? LIST_AFTER : 0), 0, &lst, e);
    if (rc == 0)
        rc = exec1(s, "BEGIN", e);
    if (rc != 0)
        return rc;
    char *pattern = (mask & LIST_NAME) ? like_prefix(f->name_prefix) : NULL;
    list_bind(cst, f, pattern, NULL);
    if (sqlite3_step(cst) == SQLITE_ROW)
        *count = sqlite3_column_int64(cst, 0);
    else
        rc = fail(s, e, "count rows");
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
                .created_at = (const char *)sqlite3_column_text(lst, 5),
                .updated_at = (const char *)sqlite3_column_text(lst, 6),
            };
            if (k == STORE_CAMPAIGNS)
                r.character_id = (const char *)sqlite3_column_text(lst, 4);
            else
                r.name = (const char *)sqlite3_column_text(lst, 4);
            if (k == STORE_CHARACTERS) {
                r.race = (const char *)sqlite3_column_text(lst, 7);
                r.class_ = (const char *)sqlite3_column_text(lst, 8);
                r.level = sqlite3_column_int(lst, 9);
            } else if (k == STORE_EQUIPMENT) {
                r.equip_type = (const char *)sqlite3_column_text(lst, 7);
                r.base_cost = sqlite3_column_double(lst, 8);
                r.weight = sqlite3_column_double(lst, 9);
            }
            int loaded = k == STORE_EQUIPMENT && r.document == NULL; /* a CSV row: the library lists it */
            if (r.id == NULL || (!loaded && (r.etag == NULL || r.document == NULL))) {
                rc = err_set(e, ERR_IO, "%s row %s is incomplete", kinds[k].noun, r.id != NULL ? r.id : "(no id)");
                break;
            }
            if (fn(ctx, &r) != 0)
                break;
        }
        if (rc == 0 && step != SQLITE_ROW && step != SQLITE_DONE)
            rc = fail(s, e, "list rows");
        sqlite3_reset(lst);
        sqlite3_clear_bindings(lst);
    }
    free(pattern);
    sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL); /* a read: nothing to lose when it fails */
    return rc;
}

int store_character_list(struct store *s, const struct store_filter *f, const char *after_id, int limit,
                         long long *count, store_row_fn fn, void *ctx, struct err *e)
{
    return store_doc_list(s, STORE_CHARACTERS, f, after_id, limit, count, fn, ctx, e);
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
