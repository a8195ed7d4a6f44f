/*
 * server/syncer.c - see syncer.h. One thread, poll() over the listening
 * socket and the workers' connections; HarperDB calls block (bounded by the
 * client's timeouts), which only delays acknowledgements, never a worker.
 */
#include "server/syncer.h"

#include <errno.h>
#include <math.h>
#include <jansson.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "common/log.h"
#include "server/master.h"
#include "server/sync.h"
#include "storage/harper.h"
#include "storage/migrate.h"
#include "storage/migrate_harper.h"
#include "storage/outbox.h"

#define MAX_CONNS 300
#define MAX_WAITERS 8192
#define PUSH_BATCH 200
#define CHAR_SCHEMA "dungeonmaster"
#define CHAR_TABLE "characters"
#define CHAR_RESOURCE "characters"
#define PULL_PAGE 50
#define PULL_PAGE_MAX 51200

struct waiter {
    int64_t seq;
    int fd;
};

/* Where pulling one table has got to. */
struct pull_state {
    double watermark;   /* newest __updatedtime__ pulled */
    double delete_mark; /* newest audit-log timestamp read for deletes */
    size_t page;        /* records per pull page (adapts; see pull_upserts) */
};

struct syncer {
    const struct runtime *rt;
    struct store *store;
    struct harper *h;
    char instance[64];
    int listen_fd;
    int conns[MAX_CONNS];
    size_t nconns;
    struct waiter waiters[MAX_WAITERS];
    size_t nwaiters;
    int64_t push_due, pull_due, backoff_ms;
    int pull_next;              /* the store kind whose turn it is to be pulled */
    struct pull_state pulls[STORE_KINDS]; /* by enum store_kind: each table has its own watermarks */
    int64_t last_report_ms;     /* last outage line in the log */
    int schema_ready;           /* HarperDB has had the migrations applied by this process */
};

static volatile sig_atomic_t stop;

/*
 * Where each outbox resource lives in HarperDB (the tables migration 0001
 * creates). A resource written by a newer build and missing here cannot be
 * delivered: its rows are logged and dropped rather than block the outbox.
 */
static const struct resource {
    const char *name; /* outbox.resource */
    const char *schema;
    const char *table;
} resources[] = {
    {CHAR_RESOURCE, CHAR_SCHEMA, CHAR_TABLE},
    {"equipment", "dungeonmaster", "equipment"},
    {"campaigns", "dungeonmaster", "campaign"},
    {"campaign", "dungeonmaster", "campaign"},
};

/* The HarperDB table of an outbox resource, or NULL. */
static const struct resource *resource_of(const char *name)
{
    for (size_t i = 0; i < sizeof(resources) / sizeof(resources[0]); i++)
        if (strcmp(resources[i].name, name) == 0)
            return &resources[i];
    return NULL;
}

/* The HarperDB table of store kind k (every kind has one in `resources`). */
static const struct resource *table_of(enum store_kind k)
{
    return resource_of(store_kind_resource(k));
}

/*
 * The outbox_state key of kind k's watermark `what` ("pull_watermark" or
 * "delete_watermark"): characters keep the names they always had, the other
 * kinds add ":" and their resource.
 */
static void mark_key(enum store_kind k, const char *what, char *out, size_t outlen)
{
    if (k == STORE_CHARACTERS)
        snprintf(out, outlen, "%s", what);
    else
        snprintf(out, outlen, "%s:%s", what, store_kind_resource(k));
}

static void on_signal(int sig)
{
    (void)sig;
    stop = 1;
}

static void set_state(struct syncer *y, int ok)
{
    y->rt->sync->harper = ok ? SYNC_OK : SYNC_DEGRADED;
    if (ok)
        y->rt->sync->last_sync_ms = sync_now_ms();
}

static void publish_outbox(struct syncer *y)
{
    long long depth = 0;
    char oldest[40];
    struct err e;
    if (outbox_stats(y->store, &depth, oldest, &e) == 0) {
        y->rt->sync->outbox_depth = depth;
        y->rt->sync->oldest_ms = depth > 0 ? sync_parse_time_ms(oldest) : 0;
    }
    /* While writes queue, say so in the log every 10 s: depth, age, last good sync. */
    int64_t now = sync_now_ms();
    if (depth > 0 && y->rt->sync->harper == SYNC_DEGRADED && now - y->last_report_ms >= 10000) {
        int64_t last = y->rt->sync->last_sync_ms;
        char since[48] = "no sync yet";
        if (last > 0)
            snprintf(since, sizeof(since), "last sync %.0f s ago", (now - last) / 1000.0);
        log_warn("syncer: HarperDB unreachable; outbox depth %lld, oldest write %.1f s old, %s", depth,
                 y->rt->sync->oldest_ms > 0 ? (now - y->rt->sync->oldest_ms) / 1000.0 : 0.0, since);
        y->last_report_ms = now;
    }
}

static void send_msg(int fd, const struct sync_msg *m)
{
    ssize_t w = send(fd, m, sizeof(*m), MSG_DONTWAIT | MSG_NOSIGNAL);
    (void)w; /* a worker that cannot take it times out and answers "pending" */
}

/* Tell whoever waits for `seq` that HarperDB has it. */
static void ack(struct syncer *y, int64_t seq, int64_t version, const char *id)
{
    for (size_t i = 0; i < y->nwaiters;) {
        if (y->waiters[i].seq != seq) {
            i++;
            continue;
        }
        struct sync_msg m = {.type = SYNC_ACK, .ok = 1, .seq = seq, .version = version};
        snprintf(m.id, sizeof(m.id), "%s", id);
        send_msg(y->waiters[i].fd, &m);
        y->waiters[i] = y->waiters[--y->nwaiters];
    }
}

/*
 * The HarperDB record for an outbox payload: the document (for a character
 * it carries race, class and level, which other instances index when they
 * pull it) plus the writer's instance, and for a character with a roll id
 * its roll_nonce (read from SQLite: the document holds only the roll id).
 */
static json_t *record_of(struct syncer *y, const struct outbox_row *r)
{
    json_error_t je;
    json_t *doc = r->payload != NULL ? json_loads(r->payload, 0, &je) : NULL;
    if (!json_is_object(doc)) {
        json_decref(doc);
        return NULL;
    }
    json_object_set_new(doc, "instance", json_string(y->instance));
    char nonce[128];
    struct err e;
    if (strcmp(r->resource, CHAR_RESOURCE) == 0 &&
        store_character_nonce(y->store, r->id, nonce, sizeof(nonce), &e) == 0 && nonce[0] != '\0')
        json_object_set_new(doc, "roll_nonce", json_string(nonce));
    return doc;
}

/*
 * Make sure HarperDB has the tables: apply the migrations there (idempotent,
 * under the migration lock). Done at start and again whenever HarperDB says a
 * table is missing (a new or reset HarperDB), so queued writes still land.
 */
static int ensure_schema(struct syncer *y)
{
    if (y->schema_ready)
        return 0;
    const struct settings *s = y->rt->settings;
    struct migration_set set = {0};
    struct err e = {0};
    char owner[96], host[64] = "host";
    gethostname(host, sizeof(host) - 1);
    snprintf(owner, sizeof(owner), "%.60s:%d:syncer", host, (int)getpid());
    size_t applied = 0;
    int rc = migrate_load_dir(s->migrations_dir, &set, &e);
    if (rc == 0)
        rc = migrate_harper_apply(y->h, s->migrations_harper_schema, &set, owner, &applied, &e);
    migrate_set_release(&set);
    if (rc != 0) {
        if (y->rt->sync->harper != SYNC_DEGRADED)
            log_warn("syncer: cannot prepare HarperDB's tables yet: %s", e.msg);
        set_state(y, 0);
        return rc;
    }
    if (applied > 0)
        log_info("syncer: applied %zu migration(s) to HarperDB", applied);
    /* The migration records may say "applied" over a schema someone dropped since: make sure of the tables. */
    for (size_t i = 0; i < sizeof(resources) / sizeof(resources[0]); i++) {
        const struct resource *r = &resources[i];
        if (i > 0 && strcmp(r->table, resources[i - 1].table) == 0)
            continue; /* two names of one table */
        if ((rc = harper_create_table(y->h, r->schema, r->table, "id", &e)) != 0) {
            log_warn("syncer: cannot create %s.%s in HarperDB: %s", r->schema, r->table, e.msg);
            set_state(y, 0);
            return rc;
        }
    }
    y->schema_ready = 1;
    return 0;
}

/*
 * Send rows[from..to) (one resource) to HarperDB as one operation: an upsert
 * of the newest version of each id (an id written twice keeps its last
 * version), or, for a delete row, a delete. 0 or the client's error.
 */
static int send_rows(struct syncer *y, struct outbox_row *rows, size_t from, size_t to, struct err *e)
{
    const struct resource *res = resource_of(rows[from].resource);
    if (res == NULL) {
        log_error("syncer: outbox row %lld has unknown resource \"%s\"; dropping it", rows[from].seq,
                  rows[from].resource);
        return 0;
    }
    if (strcmp(rows[from].op, "delete") == 0) {
        json_t *ids = json_pack("[s]", rows[from].id);
        int rc = harper_delete(y->h, res->schema, res->table, ids, e);
        json_decref(ids);
        return rc == ERR_NOT_FOUND ? 0 : rc;
    }
    json_t *records = json_array();
    for (size_t i = from; i < to; i++) {
        int superseded = 0;
        for (size_t k = i + 1; k < to && !superseded; k++)
            superseded = strcmp(rows[k].id, rows[i].id) == 0;
        if (superseded)
            continue;
        json_t *rec = record_of(y, &rows[i]);
        if (rec != NULL)
            json_array_append_new(records, rec);
        else
            log_error("syncer: outbox row %lld for %s has no JSON document; dropping it", rows[i].seq, rows[i].id);
    }
    int rc = json_array_size(records) > 0 ? harper_upsert(y->h, res->schema, res->table, records, e) : 0;
    json_decref(records);
    return rc;
}

/* Push what the outbox holds, oldest first; 0 when it is empty or all went through, 1 when more may wait. */
static int push(struct syncer *y)
{
    struct outbox_row rows[PUSH_BATCH];
    size_t n = 0;
    struct err e = {0};
    if (ensure_schema(y) != 0)
        return -1;
    if (outbox_peek(y->store, rows, PUSH_BATCH, &n, &e) != 0) {
        log_error("syncer: %s", e.msg);
        return -1;
    }
    if (n == 0)
        return 0;
    /* Runs of upserts of one resource go in one request; a delete goes alone, in its place in the order. */
    size_t done = 0;
    int rc = 0;
    y->rt->sync->busy_since_ms = sync_now_ms();
    while (done < n && rc == 0) {
        size_t end = done + 1;
        if (strcmp(rows[done].op, "delete") != 0)
            while (end < n && strcmp(rows[end].op, "delete") != 0 &&
                   strcmp(rows[end].resource, rows[done].resource) == 0)
                end++;
        rc = send_rows(y, rows, done, end, &e);
        if (rc == 0)
            done = end;
    }
    /* What HarperDB took leaves the outbox in one transaction, then its writers hear of it. */
    long long seqs[PUSH_BATCH];
    for (size_t i = 0; i < done; i++)
        seqs[i] = rows[i].seq;
    struct err e2;
    if (outbox_done_many(y->store, seqs, done, &e2) != 0)
        log_error("syncer: %s", e2.msg);
    for (size_t i = 0; i < done; i++)
        ack(y, rows[i].seq, rows[i].version, rows[i].id);
    y->rt->sync->busy_since_ms = 0;
    if (rc == ERR_NOT_FOUND)
        y->schema_ready = 0; /* the table went away: prepare it again on the next try */
    if (rc != 0) {
        if (y->rt->sync->harper != SYNC_DEGRADED)
            log_warn("syncer: HarperDB push failed, writes queue until it answers: %s", e.msg);
        set_state(y, 0);
        outbox_failed(y->store, rows[done].seq, e.msg, &e2);
        outbox_rows_release(rows, n);
        return -1;
    }
    if (y->rt->sync->harper == SYNC_DEGRADED)
        log_info("syncer: HarperDB answers again; pushed %zu queued write(s)", n);
    set_state(y, 1);
    outbox_rows_release(rows, n);
    return n == PUSH_BATCH ? 1 : 0;
}

/* A record's race or class index: the attribute's "index" when it is an object, else the string itself (NULL). */
static const char *index_of(json_t *rec, const char *key)
{
    json_t *v = json_object_get(rec, key);
    if (json_is_object(v))
        v = json_object_get(v, "index");
    return json_string_value(v);
}

/* A finite number 0..max from a record's member, else 0 (records written elsewhere are not trusted). */
static double bounded_number(json_t *rec, const char *key, double max)
{
    double x = json_number_value(json_object_get(rec, key));
    return isfinite(x) && x >= 0 && x <= max ? x : 0;
}

/*
 * A HarperDB record into a stored row of kind k (the document without
 * HarperDB's and the sync's own fields), its list columns read from the
 * record: a character's race, class, level and roll nonce, an equipment
 * item's name, type, cost and weight, a campaign's character id. Records
 * without an id and an integer version (rows loaded from CSV) are not ours
 * and are skipped.
 */
static int store_remote(struct syncer *y, enum store_kind k, json_t *rec, int *applied)
{
    json_t *doc = json_deep_copy(rec);
    const char *instance_v = json_string_value(json_object_get(rec, "instance"));
    char instance[64];
    snprintf(instance, sizeof(instance), "%s", instance_v != NULL ? instance_v : "");
    json_object_del(doc, "__createdtime__");
    json_object_del(doc, "__updatedtime__");
    json_object_del(doc, "instance");
    json_object_del(doc, "roll_nonce");
    json_t *level = json_object_get(rec, "level");
    const char *nonce = json_string_value(json_object_get(rec, "roll_nonce"));
    const char *id = json_string_value(json_object_get(doc, "id"));
    json_t *v = json_object_get(doc, "version");
    if (id == NULL || !json_is_integer(v)) {
        json_decref(doc);
        return 0; /* not one of ours: ignore */
    }
    char *text = json_dumps(doc, JSON_COMPACT);
    char etag[36];
    store_etag(json_integer_value(v), text, strlen(text), etag);
    struct store_record r = {
        .id = id,
        .version = json_integer_value(v),
        .name = json_string_value(json_object_get(doc, "name")),
        .created_at = json_string_value(json_object_get(doc, "created_at")),
        .updated_at = json_string_value(json_object_get(doc, "updated_at")),
        .etag = etag,
        .document = text,
        .document_len = strlen(text),
    };
    if (k == STORE_CHARACTERS) {
        r.race = index_of(rec, "race");
        r.class_ = index_of(rec, "class");
        r.level = json_is_integer(level) && json_integer_value(level) > 0 && json_integer_value(level) <= 1000
                      ? (int)json_integer_value(level)
                      : 0;
        r.roll_nonce = nonce != NULL && nonce[0] != '\0' && strlen(nonce) <= 128 ? nonce : NULL;
    } else if (k == STORE_EQUIPMENT) {
        r.equip_type = json_string_value(json_object_get(doc, "equip_type"));
        r.base_cost = bounded_number(doc, "base_cost", 1e12);
        r.weight = bounded_number(doc, "weight", 1e12);
    } else if (k == STORE_CAMPAIGNS) {
        r.name = NULL;
        r.character_id = json_string_value(json_object_get(doc, "character_id"));
    }
    struct err e = {0};
    int rc = store_doc_put_remote(y->store, k, &r, instance, applied, &e);
    if (rc != 0)
        log_error("syncer: %s", e.msg);
    free(text);
    json_decref(doc);
    return rc;
}

static void save_double(struct syncer *y, const char *key, double v)
{
    char buf[64];
    snprintf(buf, sizeof(buf), "%.17g", v);
    struct err e;
    outbox_state_set(y->store, key, buf, &e);
}

/* Save kind k's watermark `what` (see mark_key). */
static void save_mark(struct syncer *y, enum store_kind k, const char *what, double v)
{
    char key[64];
    mark_key(k, what, key, sizeof(key));
    save_double(y, key, v);
}

/*
 * One page of kind k's records changed after its watermark, oldest first, at
 * most `limit`: only what decides whether a record is needed (id, version,
 * writer instance, update time). Whole records are fetched after (fetch_others).
 */
static int pull_page(struct syncer *y, enum store_kind k, size_t limit, json_t **found, struct err *e)
{
    const struct resource *t = table_of(k);
    json_t *op = json_pack("{s:s, s:s, s:s, s:s, s:[s,s,s,s], s:{s:s}, s:I, s:[{s:s, s:s, s:f}]}", "operation",
                           "search_by_conditions", "schema", t->schema, "table", t->table, "operator", "and",
                           "get_attributes", "id", "version", "instance", "__updatedtime__", "sort", "attribute",
                           "__updatedtime__", "limit", (json_int_t)limit, "conditions", "search_attribute",
                           "__updatedtime__", "search_type", "greater_than", "search_value", y->pulls[k].watermark);
    int rc = harper_op(y->h, op, found, e);
    json_decref(op);
    return rc;
}

static double updated_time(json_t *rec)
{
    return json_number_value(json_object_get(rec, "__updatedtime__"));
}

/*
 * Whether a pulled record summary is worth its whole record: ours (an id and
 * an integer version, not CSV rows) and written by another instance. What
 * this instance wrote came from its own SQLite, which already holds that
 * version or a newer one, so its own pushes are never read back.
 */
static int wanted(struct syncer *y, json_t *meta)
{
    const char *writer = json_string_value(json_object_get(meta, "instance"));
    return json_is_string(json_object_get(meta, "id")) && json_is_integer(json_object_get(meta, "version")) &&
           (writer == NULL || strcmp(writer, y->instance) != 0);
}

/*
 * The whole records of the wanted summaries among found[0..n), by id, into
 * *out (a new object; empty when none is wanted). 0 or the client's error.
 */
static int fetch_others(struct syncer *y, enum store_kind k, json_t *found, size_t n, json_t **out, struct err *e)
{
    const struct resource *t = table_of(k);
    json_t *ids = json_array(), *recs = NULL;
    *out = json_object();
    for (size_t i = 0; i < n; i++) {
        json_t *meta = json_array_get(found, i);
        if (wanted(y, meta))
            json_array_append(ids, json_object_get(meta, "id"));
    }
    int rc = json_array_size(ids) > 0 ? harper_search_by_hash(y->h, t->schema, t->table, ids, &recs, e) : 0;
    json_decref(ids);
    if (rc == ERR_NOT_FOUND)
        rc = 0; /* gone since the page was read: the audit log brings the delete */
    size_t i;
    json_t *rec;
    json_array_foreach(recs, i, rec) {
        const char *id = json_string_value(json_object_get(rec, "id"));
        if (id != NULL)
            json_object_set(*out, id, rec);
    }
    json_decref(recs);
    return rc;
}

#define PULL_PAGES_PER_TURN 20

/*
 * Upserts of kind k made elsewhere since its watermark, page by page. HarperDB
 * gives all records of one upsert the same __updatedtime__, so a full page may
 * end inside such a group: its last timestamp is left for the next page
 * (re-reading is harmless: older-or-equal versions are ignored), and a page
 * that is one group only is fetched again larger. A page lists summaries;
 * the whole records of other instances' writes on it come in one more
 * request. Records can be large (up to the body limit each) and the client
 * refuses replies over 64 MiB; a reply that is still too large halves the
 * page. At most PULL_PAGES_PER_TURN pages a call, so pushes never wait long:
 * 1 when more may be waiting, 0 when caught up, else the client's error.
 * *changed counts new rows.
 */
static int pull_upserts(struct syncer *y, enum store_kind k, size_t *changed, struct err *e)
{
    struct pull_state *ps = &y->pulls[k];
    for (int pages = 0; pages < PULL_PAGES_PER_TURN; pages++) {
        json_t *found = NULL, *whole = NULL;
        int rc = pull_page(y, k, ps->page, &found, e);
        size_t n = json_array_size(found), i;
        double last = n > 0 ? updated_time(json_array_get(found, n - 1)) : 0;
        int full = n >= ps->page;
        int single_group = rc == 0 && full && updated_time(json_array_get(found, 0)) == last;
        if (single_group) {
            json_decref(found);
            if (ps->page >= PULL_PAGE_MAX)
                return err_set(e, ERR_IO, "more than %d records share one update time", PULL_PAGE_MAX);
            ps->page *= 4; /* one upsert bigger than a page: read it whole */
            continue;
        }
        /* The records to apply: the page, less a last group that may continue on the next page. */
        size_t take = n;
        while (full && take > 0 && updated_time(json_array_get(found, take - 1)) == last)
            take--;
        if (rc == 0)
            rc = fetch_others(y, k, found, take, &whole, e);
        if (rc == ERR_IO && ps->page > 1) { /* reply too large: smaller pages */
            json_decref(found);
            json_decref(whole);
            ps->page /= 2;
            pages--;
            continue;
        }
        if (rc != 0) {
            json_decref(found);
            json_decref(whole);
            return rc;
        }
        double mark = ps->watermark;
        for (i = 0; i < take; i++) {
            json_t *meta = json_array_get(found, i);
            double t = updated_time(meta);
            const char *id = json_string_value(json_object_get(meta, "id"));
            json_t *rec = id != NULL ? json_object_get(whole, id) : NULL;
            int applied = 0;
            if (rec != NULL && wanted(y, meta))
                store_remote(y, k, rec, &applied);
            *changed += (size_t)applied;
            if (t > mark)
                mark = t;
        }
        json_decref(found);
        json_decref(whole);
        if (mark > ps->watermark) {
            ps->watermark = mark;
            save_mark(y, k, "pull_watermark", mark);
        }
        if (ps->page > PULL_PAGE && !full)
            ps->page = PULL_PAGE;
        if (!full)
            return 0;
    }
    return 1;
}

/*
 * Deletes of kind k made elsewhere since its delete watermark (its own: the
 * audit log and the upsert pages advance at different paces), from HarperDB's
 * audit log. The watermark moves only after a successful read.
 */
static int pull_deletes(struct syncer *y, enum store_kind k, size_t *changed, struct err *e)
{
    struct pull_state *ps = &y->pulls[k];
    const struct resource *t = table_of(k);
    json_t *op = json_pack("{s:s, s:s, s:s, s:s, s:[f]}", "operation", "read_audit_log", "schema", t->schema,
                           "table", t->table, "search_type", "timestamp", "search_values", ps->delete_mark);
    json_t *log = NULL;
    int rc = harper_op(y->h, op, &log, e);
    json_decref(op);
    if (rc != 0)
        return rc;
    double mark = ps->delete_mark;
    size_t i;
    json_t *entry;
    json_array_foreach(log, i, entry) {
        double ts = json_number_value(json_object_get(entry, "timestamp"));
        if (ts > mark)
            mark = ts;
        const char *what = json_string_value(json_object_get(entry, "operation"));
        if (what == NULL || strcmp(what, "delete") != 0 || ts <= ps->delete_mark)
            continue;
        size_t j;
        json_t *hv;
        json_array_foreach(json_object_get(entry, "hash_values"), j, hv) {
            struct err e2;
            if (json_is_string(hv) && store_doc_delete_remote(y->store, k, json_string_value(hv), &e2) == 0)
                (*changed)++;
        }
    }
    json_decref(log);
    if (mark > ps->delete_mark) {
        ps->delete_mark = mark;
        save_mark(y, k, "delete_watermark", mark);
    }
    return 0;
}

/*
 * One turn of pulling changes made elsewhere: the upserts, then the deletes,
 * of the kind whose turn it is (characters, equipment, campaigns in turn), so
 * a push never waits behind more than one kind's pages. 1 when the round of
 * kinds is not finished yet (call again soon), 0 when it is, -1 on failure
 * (the round starts again at the next interval).
 */
static int pull(struct syncer *y)
{
    struct err e = {0};
    size_t changed = 0;
    enum store_kind k = (enum store_kind)y->pull_next;
    y->rt->sync->busy_since_ms = sync_now_ms();
    int rc = pull_upserts(y, k, &changed, &e);
    int more = rc == 1;
    if (rc == 1)
        rc = 0;
    else if (rc == 0)
        rc = pull_deletes(y, k, &changed, &e);
    if (rc == ERR_NOT_FOUND) { /* no table yet: nothing to pull, and the next push prepares it */
        y->schema_ready = 0;
        more = 0;
        rc = 0;
    }
    y->rt->sync->busy_since_ms = 0;
    if (rc != 0) {
        if (y->rt->sync->harper != SYNC_DEGRADED)
            log_warn("syncer: HarperDB pull failed: %s", e.msg);
        set_state(y, 0);
        y->pull_next = 0;
        return -1;
    }
    if (changed > 0)
        log_debug("syncer: pulled %zu change(s)", changed);
    set_state(y, 1);
    if (!more)
        y->pull_next = (y->pull_next + 1) % STORE_KINDS;
    return more || y->pull_next != 0 ? 1 : 0;
}

/* Read-through: bring row `id` of kind k from HarperDB into SQLite. 1 found, 0 absent, -1 failure. */
static int fetch(struct syncer *y, enum store_kind k, const char *id)
{
    const struct resource *t = table_of(k);
    json_t *ids = json_pack("[s]", id), *found = NULL;
    struct err e = {0};
    int rc = harper_search_by_hash(y->h, t->schema, t->table, ids, &found, &e);
    json_decref(ids);
    if (rc == ERR_NOT_FOUND)
        return 0;
    if (rc != 0) {
        set_state(y, 0);
        return -1;
    }
    int result = 0;
    if (json_array_size(found) > 0) {
        int applied = 0;
        json_t *rec = json_array_get(found, 0);
        /* A row without a version (loaded from CSV) is not a document: absent for a GET. */
        if (!json_is_integer(json_object_get(rec, "version")))
            result = 0;
        else
            result = store_remote(y, k, rec, &applied) == 0 ? 1 : -1;
    }
    json_decref(found);
    return result;
}

static void drop_conn(struct syncer *y, size_t i)
{
    int fd = y->conns[i];
    for (size_t k = 0; k < y->nwaiters;) {
        if (y->waiters[k].fd == fd)
            y->waiters[k] = y->waiters[--y->nwaiters];
        else
            k++;
    }
    close(fd);
    y->conns[i] = y->conns[--y->nconns];
}

static void on_message(struct syncer *y, int fd, const struct sync_msg *m)
{
    if (m->type == SYNC_PUSH) {
        /* A sweep may have pushed the row before this message arrived: then answer at once,
         * or the writer would wait out sync.write_timeout and say "pending" for a synced write. */
        int queued = 1;
        struct err e = {0};
        if (outbox_queued(y->store, m->seq, &queued, &e) != 0)
            log_warn("syncer: %s", e.msg);
        if (!queued) {
            struct sync_msg a = {.type = SYNC_ACK, .ok = 1, .seq = m->seq, .version = m->version};
            memcpy(a.id, m->id, sizeof(a.id));
            send_msg(fd, &a);
            return;
        }
        if (y->nwaiters < MAX_WAITERS)
            y->waiters[y->nwaiters++] = (struct waiter){m->seq, fd};
        y->push_due = 0;
    } else if (m->type == SYNC_FETCH) {
        char id[sizeof(m->id) + 1];
        memcpy(id, m->id, sizeof(m->id));
        id[sizeof(m->id)] = '\0';
        struct sync_msg r = {.type = SYNC_FETCHED};
        snprintf(r.id, sizeof(r.id), "%.39s", id);
        /* seq names the store kind (0: characters, as workers before kinds sent it) */
        r.seq = m->seq;
        r.ok = m->seq >= 0 && m->seq < STORE_KINDS && fetch(y, (enum store_kind)m->seq, id) == 1;
        send_msg(fd, &r);
    }
}

static int open_listener(struct syncer *y)
{
    struct sockaddr_un sa;
    size_t len = sync_address(getppid(), &sa);
    y->listen_fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (y->listen_fd < 0 || bind(y->listen_fd, (struct sockaddr *)&sa, (socklen_t)len) != 0 ||
        listen(y->listen_fd, 256) != 0) {
        log_error("syncer: cannot listen for workers: %s", strerror(errno));
        return -1;
    }
    return 0;
}

int syncer_run(const struct runtime *rt)
{
    static struct syncer y;
    memset(&y, 0, sizeof(y));
    y.rt = rt;
    const struct settings *s = rt->settings;
    if (master_child_init(on_signal))
        return 0;
    int lvl = log_level_parse(s->log_level);
    log_setup(lvl < 0 ? LOG_INFO : (enum log_level)lvl, "syncer");

    struct err e = {0};
    struct store_options so = {.busy_timeout_ms = s->busy_timeout_ms,
                               .synchronous_full = strcmp(s->synchronous, "full") == 0,
                               .generation = rt->generation};
    struct harper_options ho = {.uri = s->db_uri, .user = s->db_user, .password = s->db_password,
                                .connect_timeout_ms = 1000, .timeout_ms = 5000};
    if (store_open(s->database, &so, &y.store, &e) != 0 || store_prepare(y.store, &e) != 0 ||
        harper_open(&ho, &y.h, &e) != 0) {
        log_error("syncer: %s", e.msg);
        return 3;
    }
    snprintf(y.instance, sizeof(y.instance), "%s", rt->instance);
    for (int k = 0; k < STORE_KINDS; k++) {
        struct pull_state *ps = &y.pulls[k];
        char wm[64], key[64];
        ps->page = PULL_PAGE;
        mark_key((enum store_kind)k, "pull_watermark", key, sizeof(key));
        if (outbox_state_get(y.store, key, wm, sizeof(wm), &e) == 0)
            ps->watermark = strtod(wm, NULL);
        /* A new instance has no old rows to delete: read deletes from now on, not 3 days of audit log. */
        mark_key((enum store_kind)k, "delete_watermark", key, sizeof(key));
        if (outbox_state_get(y.store, key, wm, sizeof(wm), &e) == 0) {
            ps->delete_mark = strtod(wm, NULL);
        } else {
            ps->delete_mark = (double)sync_now_ms();
            save_double(&y, key, ps->delete_mark);
        }
    }
    if (open_listener(&y) != 0)
        return 3;
    y.backoff_ms = 100;
    publish_outbox(&y);

    while (!stop) {
        int64_t now = sync_now_ms();
        if (y.push_due <= now) {
            publish_outbox(&y); /* depth and age are current even while the push below blocks */
            int r = push(&y);
            if (r < 0) {
                y.push_due = now + y.backoff_ms;
                y.backoff_ms = y.backoff_ms * 2 > 5000 ? 5000 : y.backoff_ms * 2;
            } else {
                y.backoff_ms = 100;
                y.push_due = r == 1 ? now : now + 1000; /* a periodic sweep catches rows left by a crash */
            }
            publish_outbox(&y);
        }
        if (y.pull_due <= now) {
            int more = pull(&y) == 1;
            y.pull_due = more ? now : sync_now_ms() + s->pull_interval_ms;
        }
        struct pollfd pfd[MAX_CONNS + 1];
        pfd[0] = (struct pollfd){.fd = y.listen_fd, .events = POLLIN};
        for (size_t i = 0; i < y.nconns; i++)
            pfd[i + 1] = (struct pollfd){.fd = y.conns[i], .events = POLLIN};
        int64_t next = y.push_due < y.pull_due ? y.push_due : y.pull_due;
        int64_t wait = next - sync_now_ms();
        if (poll(pfd, y.nconns + 1, wait < 0 ? 0 : wait > 1000 ? 1000 : (int)wait) < 0 && errno != EINTR)
            break;
        if (pfd[0].revents & POLLIN) {
            int fd;
            while (y.nconns < MAX_CONNS && (fd = accept4(y.listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0)
                y.conns[y.nconns++] = fd;
        }
        for (size_t i = y.nconns; i-- > 0;) {
            if (!(pfd[i + 1].revents & (POLLIN | POLLHUP | POLLERR)) || pfd[i + 1].fd != y.conns[i])
                continue;
            struct sync_msg m;
            ssize_t n;
            while ((n = recv(y.conns[i], &m, sizeof(m), MSG_DONTWAIT)) == (ssize_t)sizeof(m))
                on_message(&y, y.conns[i], &m);
            if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK))
                drop_conn(&y, i);
        }
    }
    for (size_t i = 0; i < y.nconns; i++)
        close(y.conns[i]);
    close(y.listen_fd);
    harper_close(y.h);
    store_close(y.store);
    return 0;
}
