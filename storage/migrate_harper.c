/*
 * storage/migrate_harper.c - see migrate_harper.h. A migration becomes a list
 * of HarperDB operations (one function builds it, for plan and apply alike);
 * applying runs them in order, treating "already exists" after a create and
 * "does not exist" after a drop as done.
 */
#include "storage/migrate_harper.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

#include "common/ids.h"
#include "common/log.h"
#include "common/xmalloc.h"

#define TRACK_TABLE "schema_migrations"
#define LOCK_TABLE "migration_locks"
#define LOCK_ID "migrate"
#define LOAD_BATCH 500
#define LOCK_TTL_S 15
#ifndef PACKAGE_VERSION
#define PACKAGE_VERSION "0.1.0"
#endif

static long long now_ms(void)
{
    struct timeval tv;
    gettimeofday(&tv, NULL);
    return (long long)tv.tv_sec * 1000 + tv.tv_usec / 1000;
}

static int in_harper(int store)
{
    return store != MIGRATE_STORE_SQLITE;
}

static json_t *ddl(const char *operation, const char *schema, const char *table)
{
    json_t *o = json_pack("{s:s, s:s}", "operation", operation, "schema", schema);
    if (table != NULL)
        json_object_set_new(o, "table", json_string(table));
    return o;
}

/*
 * Append to `ops` the operations for `op`. Loads add one upsert per batch of
 * rows. ERR_INVALID (with the file and line) when the command cannot run on
 * HarperDB.
 */
static int ops_for(const struct migration *m, const struct migrate_op *op, json_t *ops, struct err *e)
{
    if (!in_harper(op->store) || op->kind == MIGRATE_INDEXES)
        return 0;
    const char *schema = op->schema;
    if (schema == NULL)
        return err_set(e, ERR_INVALID, "%s:%d: HarperDB needs a schema for this command; add `schema:`", m->path,
                       op->line);
    switch (op->kind) {
    case MIGRATE_CREATE_SCHEMA:
        json_array_append_new(ops, ddl("create_schema", schema, NULL));
        return 0;
    case MIGRATE_CREATE_TABLE: {
        if (op->nattrs == 0)
            return 0;
        json_t *t = ddl("create_table", schema, op->table);
        json_object_set_new(t, "hash_attribute", json_string(op->attrs[0].name));
        json_array_append_new(ops, t);
        for (size_t i = 1; i < op->nattrs; i++) {
            if (!in_harper(op->attrs[i].store))
                continue;
            json_t *a = ddl("create_attribute", schema, op->table);
            json_object_set_new(a, "attribute", json_string(op->attrs[i].name));
            json_array_append_new(ops, a);
        }
        return 0;
    }
    case MIGRATE_ADD_ATTRIBUTES:
    case MIGRATE_DROP_ATTRIBUTES:
        for (size_t i = 0; i < op->nattrs; i++) {
            if (!in_harper(op->attrs[i].store))
                continue;
            json_t *a = ddl(op->kind == MIGRATE_ADD_ATTRIBUTES ? "create_attribute" : "drop_attribute", schema,
                            op->table);
            json_object_set_new(a, "attribute", json_string(op->attrs[i].name));
            json_array_append_new(ops, a);
        }
        return 0;
    case MIGRATE_DROP_TABLE:
        json_array_append_new(ops, ddl("drop_table", schema, op->table));
        return 0;
    case MIGRATE_RENAME_ATTRIBUTE:
        return err_set(e, ERR_INVALID, "%s:%d: rename_attribute cannot run on HarperDB; add `store: sqlite`", m->path,
                       op->line);
    case MIGRATE_LOAD: {
        json_t *records = migrate_load_records(op);
        size_t n = json_array_size(records);
        for (size_t start = 0; start < n; start += LOAD_BATCH) {
            json_t *batch = json_array();
            for (size_t i = start; i < n && i < start + LOAD_BATCH; i++)
                json_array_append(batch, json_array_get(records, i));
            json_t *u = ddl("upsert", schema, op->table);
            json_object_set_new(u, "records", batch);
            json_array_append_new(ops, u);
        }
        json_decref(records);
        return 0;
    }
    default:
        return 0;
    }
}

/* Run one operation; a create that finds its object, or a drop that misses it, is done already. */
static int run_step(struct harper *h, json_t *op, struct err *e)
{
    const char *name = json_string_value(json_object_get(op, "operation"));
    int rc = harper_op(h, op, NULL, e);
    if (rc == ERR_CONFLICT && strncmp(name, "create_", 7) == 0)
        return 0;
    if (rc == ERR_NOT_FOUND && strncmp(name, "drop_", 5) == 0)
        return 0;
    return rc;
}

static int ensure_tracking(struct harper *h, const char *ts, struct err *e)
{
    json_t *ops = json_array();
    json_array_append_new(ops, ddl("create_schema", ts, NULL));
    json_t *t = ddl("create_table", ts, TRACK_TABLE);
    json_object_set_new(t, "hash_attribute", json_string("id"));
    json_array_append_new(ops, t);
    t = ddl("create_table", ts, LOCK_TABLE);
    json_object_set_new(t, "hash_attribute", json_string("id"));
    json_array_append_new(ops, t);
    int rc = 0;
    size_t i;
    json_t *op;
    json_array_foreach(ops, i, op) {
        if ((rc = run_step(h, op, e)) != 0)
            break;
    }
    json_decref(ops);
    return rc;
}

static void text_of(json_t *o, const char *key, char *dst, size_t size)
{
    const char *s = json_string_value(json_object_get(o, key));
    snprintf(dst, size, "%s", s != NULL ? s : "");
}

int migrate_harper_records(struct harper *h, const char *ts, struct migrate_record **out, size_t *n, struct err *e)
{
    *out = NULL;
    *n = 0;
    json_t *all = NULL;
    int rc = harper_all(h, ts, TRACK_TABLE, "id", &all, e);
    if (rc == ERR_NOT_FOUND)
        return 0;
    if (rc != 0)
        return rc;
    size_t cnt = json_array_size(all), i;
    struct migrate_record *r = xcalloc(cnt + 1, sizeof(*r));
    json_t *x;
    json_array_foreach(all, i, x) {
        struct migrate_record *m = &r[(*n)++];
        m->version = (int)json_integer_value(json_object_get(x, "version"));
        text_of(x, "name", m->name, sizeof(m->name));
        text_of(x, "checksum", m->checksum, sizeof(m->checksum));
        text_of(x, "applied_at", m->applied_at, sizeof(m->applied_at));
        m->duration_ms = json_integer_value(json_object_get(x, "duration_ms"));
        text_of(x, "tool_version", m->tool_version, sizeof(m->tool_version));
    }
    json_decref(all);
    *out = r;
    return 0;
}

/* The lock record now, or NULL (ERR_NOT_FOUND) when there is none. */
static int read_lock(struct harper *h, const char *ts, json_t **lock, struct err *e)
{
    json_t *ids = json_pack("[s]", LOCK_ID), *found = NULL;
    int rc = harper_search_by_hash(h, ts, LOCK_TABLE, ids, &found, e);
    json_decref(ids);
    *lock = NULL;
    if (rc != 0)
        return rc;
    if (json_array_size(found) > 0)
        *lock = json_incref(json_array_get(found, 0));
    json_decref(found);
    return *lock != NULL ? 0 : ERR_NOT_FOUND;
}

static json_t *lock_record(const char *owner, int ttl_s)
{
    return json_pack("[{s:s, s:s, s:I}]", "id", LOCK_ID, "owner", owner, "expires_at",
                     (json_int_t)(now_ms() + (long long)ttl_s * 1000));
}

static int holder_conflict(json_t *lock, struct err *e)
{
    return err_set(e, ERR_CONFLICT, "another migration run (%s) holds the HarperDB lock for %lld s more",
                   json_string_value(json_object_get(lock, "owner")),
                   (long long)(json_integer_value(json_object_get(lock, "expires_at")) - now_ms()) / 1000);
}

/* 1 when the lock's owner ("host:pid:nonce") is a process of this host that no longer exists. */
static int owner_is_dead(const char *holder)
{
    char host[64] = "";
    const char *c1 = holder != NULL ? strchr(holder, ':') : NULL;
    if (c1 == NULL || gethostname(host, sizeof(host) - 1) != 0)
        return 0;
    if ((size_t)(c1 - holder) != strlen(host) || strncmp(holder, host, strlen(host)) != 0)
        return 0;
    long pid = strtol(c1 + 1, NULL, 10);
    return pid > 0 && kill((pid_t)pid, 0) != 0 && errno == ESRCH;
}

static int try_lock(struct harper *h, const char *ts, const char *owner, int ttl_s, struct err *e);

int migrate_harper_lock(struct harper *h, const char *ts, const char *owner, int ttl_s, struct err *e)
{
    int rc = ensure_tracking(h, ts, e);
    if (rc != 0)
        return rc;
    /* Wait for a live holder, at most a little longer than a lock can last. */
    long long deadline = now_ms() + (long long)ttl_s * 1000 + 5000;
    while ((rc = try_lock(h, ts, owner, ttl_s, e)) == ERR_CONFLICT && now_ms() < deadline)
        usleep(200 * 1000);
    return rc;
}

static int try_lock(struct harper *h, const char *ts, const char *owner, int ttl_s, struct err *e)
{
    int rc;
    json_t *rec = lock_record(owner, ttl_s);
    size_t inserted = 0;
    rc = harper_insert(h, ts, LOCK_TABLE, rec, &inserted, e);
    json_decref(rec);
    if (rc != 0 || inserted == 1)
        return rc;
    json_t *lock = NULL;
    rc = read_lock(h, ts, &lock, e);
    if (rc == ERR_NOT_FOUND) /* released between our insert and read: the caller tries again */
        return err_set(e, ERR_CONFLICT, "the HarperDB migration lock changed hands; retrying");
    if (rc != 0)
        return rc;
    const char *holder = json_string_value(json_object_get(lock, "owner"));
    if (holder != NULL && strcmp(holder, owner) == 0) {
        json_decref(lock);
        return migrate_harper_relock(h, ts, owner, ttl_s, e);
    }
    if (json_integer_value(json_object_get(lock, "expires_at")) > now_ms() && !owner_is_dead(holder)) {
        rc = holder_conflict(lock, e);
        json_decref(lock);
        return rc;
    }
    /* Take over an expired lock: delete, insert ours, and believe it only after reading it back. */
    log_warn("taking over the HarperDB migration lock of %s (expired or its process is gone)",
             holder != NULL ? holder : "?");
    json_decref(lock);
    json_t *ids = json_pack("[s]", LOCK_ID);
    rc = harper_delete(h, ts, LOCK_TABLE, ids, e);
    json_decref(ids);
    if (rc != 0 && rc != ERR_NOT_FOUND)
        return rc;
    rec = lock_record(owner, ttl_s);
    rc = harper_insert(h, ts, LOCK_TABLE, rec, &inserted, e);
    json_decref(rec);
    if (rc != 0)
        return rc;
    return migrate_harper_relock(h, ts, owner, ttl_s, e);
}

int migrate_harper_relock(struct harper *h, const char *ts, const char *owner, int ttl_s, struct err *e)
{
    json_t *lock = NULL;
    int rc = read_lock(h, ts, &lock, e);
    if (rc == ERR_NOT_FOUND)
        return err_set(e, ERR_CONFLICT, "the HarperDB migration lock was released by someone else");
    if (rc != 0)
        return rc;
    const char *holder = json_string_value(json_object_get(lock, "owner"));
    if (holder == NULL || strcmp(holder, owner) != 0) {
        rc = holder_conflict(lock, e);
        json_decref(lock);
        return rc;
    }
    json_decref(lock);
    json_t *rec = lock_record(owner, ttl_s);
    rc = harper_upsert(h, ts, LOCK_TABLE, rec, e);
    json_decref(rec);
    return rc;
}

void migrate_harper_unlock(struct harper *h, const char *ts, const char *owner)
{
    json_t *lock = NULL;
    struct err e;
    if (read_lock(h, ts, &lock, &e) != 0)
        return;
    const char *holder = json_string_value(json_object_get(lock, "owner"));
    if (holder != NULL && strcmp(holder, owner) == 0) {
        json_t *ids = json_pack("[s]", LOCK_ID);
        harper_delete(h, ts, LOCK_TABLE, ids, &e);
        json_decref(ids);
    }
    json_decref(lock);
}

static int record(struct harper *h, const char *ts, const struct migration *m, long long duration_ms, const char *tool,
                  struct err *e)
{
    char id[8], now[IDS_TIME_LEN + 1];
    snprintf(id, sizeof(id), "%04d", m->version);
    ids_now_rfc3339(now);
    json_t *rec = json_pack("[{s:s, s:i, s:s, s:s, s:s, s:I, s:s}]", "id", id, "version", m->version, "name", m->name,
                            "checksum", m->checksum, "applied_at", now, "duration_ms", (json_int_t)duration_ms,
                            "tool_version", tool);
    int rc = harper_upsert(h, ts, TRACK_TABLE, rec, e);
    json_decref(rec);
    return rc;
}

/* Refuse when a recorded migration's file changed or disappeared; count pending. */
static int check_records(struct harper *h, const char *ts, const struct migration_set *set, size_t *pending, struct err *e)
{
    struct migrate_record *rec;
    size_t n, nrows;
    int rc = migrate_harper_records(h, ts, &rec, &n, e);
    if (rc != 0)
        return rc;
    struct migrate_row *rows;
    migrate_compare(set, rec, n, &rows, &nrows);
    *pending = 0;
    for (size_t i = 0; i < nrows && rc == 0; i++) {
        if (rows[i].state == MIGRATE_PENDING)
            (*pending)++;
        else if (rows[i].state == MIGRATE_CHANGED)
            rc = err_set(e, ERR_CONFLICT,
                         "migration %04d (%s) was changed after it was applied to HarperDB: applied checksum %s, "
                         "file checksum %s; run scripts/migrate repair after review",
                         rows[i].version, rows[i].name, rows[i].recorded, rows[i].file);
        else if (rows[i].state == MIGRATE_ORPHAN)
            rc = err_set(e, ERR_CONFLICT, "HarperDB has migration %04d (%s) applied, but no file has that version",
                         rows[i].version, rows[i].name);
    }
    free(rows);
    free(rec);
    return rc;
}

static int is_recorded(struct harper *h, const char *ts, int version, int *yes, struct err *e)
{
    char id[8];
    snprintf(id, sizeof(id), "%04d", version);
    json_t *ids = json_pack("[s]", id), *found = NULL;
    int rc = harper_search_by_hash(h, ts, TRACK_TABLE, ids, &found, e);
    json_decref(ids);
    *yes = rc == 0 && json_array_size(found) > 0;
    json_decref(found);
    return rc;
}

/*
 * Extend our lock; if another run has taken it (two first runs can both win
 * while they race to create the lock table), wait for it like at the start.
 * Every step is idempotent, so the overlap is harmless.
 */
static int keep_lock(struct harper *h, const char *ts, const char *owner, struct err *e)
{
    int rc = migrate_harper_relock(h, ts, owner, LOCK_TTL_S, e);
    if (rc == ERR_CONFLICT) {
        log_warn("lost the HarperDB migration lock (%s); waiting for it", e->msg);
        rc = migrate_harper_lock(h, ts, owner, LOCK_TTL_S, e);
    }
    return rc;
}

int migrate_harper_apply(struct harper *h, const char *ts, const struct migration_set *set, const char *owner, size_t *applied,
                         struct err *e)
{
    if (applied != NULL)
        *applied = 0;
    size_t pending = 0;
    int rc = ensure_tracking(h, ts, e);
    if (rc == 0)
        rc = check_records(h, ts, set, &pending, e);
    if (rc != 0 || pending == 0)
        return rc;
    if ((rc = migrate_harper_lock(h, ts, owner, LOCK_TTL_S, e)) != 0)
        return rc;
    for (size_t i = 0; i < set->n && rc == 0; i++) {
        const struct migration *m = &set->items[i];
        int done = 0;
        /* Re-read under the lock: another run may have applied it meanwhile. */
        if ((rc = keep_lock(h, ts, owner, e)) != 0 || (rc = is_recorded(h, ts, m->version, &done, e)) != 0)
            break;
        if (done)
            continue;
        long long t0 = now_ms();
        json_t *ops = json_array();
        for (size_t k = 0; k < m->nops && rc == 0; k++)
            rc = ops_for(m, &m->ops[k], ops, e);
        size_t j;
        json_t *op;
        json_array_foreach(ops, j, op) {
            if (rc != 0)
                break;
            if (j > 0 && j % 8 == 0) /* long loads: keep the lock alive */
                rc = keep_lock(h, ts, owner, e);
            if (rc == 0)
                rc = run_step(h, op, e);
            if (rc != 0) {
                char msg[sizeof(e->msg)];
                snprintf(msg, sizeof(msg), "%s", e->msg);
                err_set(e, rc, "%s: step %zu (%s): %s; nothing recorded, re-run to resume", m->path, j + 1,
                        json_string_value(json_object_get(op, "operation")), msg);
            }
        }
        json_decref(ops);
        if (rc == 0)
            rc = record(h, ts, m, now_ms() - t0, PACKAGE_VERSION, e);
        if (rc == 0) {
            log_info("applied migration %04d (%s) to HarperDB in %lld ms", m->version, m->name, now_ms() - t0);
            if (applied != NULL)
                (*applied)++;
        }
    }
    migrate_harper_unlock(h, ts, owner);
    return rc;
}

char *migrate_harper_plan(const struct migration *m)
{
    json_t *ops = json_array();
    struct err e = {0};
    size_t len = 0, cap = 256;
    char *out = xmalloc(cap);
    out[0] = '\0';
    for (size_t k = 0; k < m->nops; k++) {
        if (ops_for(m, &m->ops[k], ops, &e) != 0) {
            size_t need = strlen(e.msg) + 8;
            out = xrealloc(out, cap += need);
            len += (size_t)snprintf(out + len, cap - len, "-- %s\n", e.msg);
        }
    }
    size_t i;
    json_t *op;
    json_array_foreach(ops, i, op) {
        json_t *records = json_object_get(op, "records");
        char *line;
        if (records != NULL) {
            size_t nrec = json_array_size(records);
            json_t *brief = json_deep_copy(op);
            json_object_set_new(brief, "records", json_sprintf("(%zu records)", nrec));
            line = json_dumps(brief, JSON_COMPACT);
            json_decref(brief);
        } else {
            line = json_dumps(op, JSON_COMPACT);
        }
        size_t need = strlen(line) + 2;
        if (len + need + 1 > cap)
            out = xrealloc(out, cap = (len + need + 1) * 2);
        len += (size_t)snprintf(out + len, cap - len, "%s\n", line);
        free(line);
    }
    json_decref(ops);
    return out;
}

int migrate_harper_baseline(struct harper *h, const char *ts, const struct migration_set *set, int version, size_t *marked,
                            struct err *e)
{
    if (marked != NULL)
        *marked = 0;
    if (migrate_set_find(set, version) == NULL)
        return err_set(e, ERR_INVALID, "no migration file has version %04d", version);
    int rc = ensure_tracking(h, ts, e);
    for (size_t i = 0; rc == 0 && i < set->n && set->items[i].version <= version; i++) {
        int done = 0;
        if ((rc = is_recorded(h, ts, set->items[i].version, &done, e)) != 0 || done)
            continue;
        rc = record(h, ts, &set->items[i], 0, "baseline", e);
        if (rc == 0 && marked != NULL)
            (*marked)++;
    }
    return rc;
}

int migrate_harper_repair(struct harper *h, const char *ts, const struct migration_set *set, size_t *fixed, struct err *e)
{
    if (fixed != NULL)
        *fixed = 0;
    struct migrate_record *rec;
    size_t n;
    int rc = migrate_harper_records(h, ts, &rec, &n, e);
    for (size_t k = 0; rc == 0 && k < n; k++) {
        for (size_t i = 0; i < set->n && rc == 0; i++) {
            const struct migration *m = &set->items[i];
            if (m->version != rec[k].version || strcmp(m->checksum, rec[k].checksum) == 0)
                continue;
            char id[8];
            snprintf(id, sizeof(id), "%04d", m->version);
            json_t *upd = json_pack("[{s:s, s:s}]", "id", id, "checksum", m->checksum);
            rc = harper_upsert(h, ts, TRACK_TABLE, upd, e);
            json_decref(upd);
            if (rc == 0 && fixed != NULL)
                (*fixed)++;
        }
    }
    free(rec);
    return rc;
}
