/*
 * tests/unit/test_store.c - the SQLite store (storage/store.c) on a real file
 * database with the project's own migrations applied.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "storage/cache.h"
#include "storage/migrate.h"
#include "storage/outbox.h"
#include "storage/store.h"

static char dir[64];
static char dbpath[128];

static int setup(void **state)
{
    (void)state;
    strcpy(dir, "/tmp/test_store_XXXXXX");
    if (mkdtemp(dir) == NULL)
        return -1;
    snprintf(dbpath, sizeof(dbpath), "%s/t.db", dir);
    const char *top = getenv("top_srcdir");
    char mdir[512];
    snprintf(mdir, sizeof(mdir), "%s/migrations", top ? top : ".");
    struct migration_set set = {0};
    struct err e = {0};
    struct store *s = NULL;
    struct store_options o = {.busy_timeout_ms = 1000, .synchronous_full = 1};
    if (migrate_load_dir(mdir, &set, &e) != 0 || store_open(dbpath, &o, &s, &e) != 0 ||
        migrate_sqlite_apply(store_db(s), &set, NULL, &e) != 0) {
        fprintf(stderr, "setup: %s\n", e.msg);
        return -1;
    }
    store_close(s);
    migrate_set_release(&set);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[160];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    return system(cmd);
}

static struct store *open_store(void)
{
    struct store *s = NULL;
    struct store_options o = {.busy_timeout_ms = 1000, .synchronous_full = 1};
    struct err e = {0};
    assert_int_equal(store_open(dbpath, &o, &s, &e), 0);
    assert_int_equal(store_prepare(s, &e), 0);
    return s;
}

static void test_insert_get_roundtrip(void **state)
{
    (void)state;
    struct store *s = open_store();
    const char *doc = "{\"id\":\"11111111-1111-4111-8111-111111111111\",\"name\":\"Thorin\"}";
    char etag[36];
    store_etag(1, doc, strlen(doc), etag);
    struct store_record r = {"11111111-1111-4111-8111-111111111111", 1, "Thorin", "t0", "t0", etag, doc, strlen(doc), .race = NULL};
    struct err e = {0};
    assert_int_equal(store_character_insert(s, &r, NULL, &e), 0);
    assert_int_equal(store_character_insert(s, &r, NULL, &e), ERR_CONFLICT);
    struct store_record got;
    assert_int_equal(store_character_get(s, r.id, strlen(r.id), &got, &e), 0);
    assert_string_equal(got.document, doc);
    assert_string_equal(got.etag, etag);
    assert_int_equal(got.version, 1);
    store_row_done(s);
    /* visible from a second connection (another worker) */
    struct store *s2 = open_store();
    assert_int_equal(store_character_get(s2, r.id, strlen(r.id), &got, &e), 0);
    store_row_done(s2);
    store_close(s2);
    assert_int_equal(store_character_get(s, "nope", 4, &got, &e), ERR_NOT_FOUND);
    assert_int_equal(store_ping(s, &e), 0);
    store_close(s);
}

static void test_etag_changes_with_version_and_content(void **state)
{
    (void)state;
    char a[36], b[36], c[36], d[36];
    const char *x = "{\"a\":1,\"b\":{\"c\":2,\"d\":3}}", *y = "{\"a\":2,\"b\":{\"c\":2,\"d\":3}}";
    const char *x_reordered = "{\"b\": {\"d\": 3, \"c\": 2}, \"a\": 1}";
    store_etag(1, x, strlen(x), a);
    store_etag(2, x, strlen(x), b);
    store_etag(1, y, strlen(y), c);
    store_etag(1, x_reordered, strlen(x_reordered), d);
    assert_string_not_equal(a, b);   /* version */
    assert_string_not_equal(a, c);   /* content */
    assert_string_equal(a, d);       /* key order and spacing do not matter */
    assert_int_equal(strlen(a), 34);
    assert_true(a[0] == '"' && a[33] == '"');
}

static void test_row_done_releases_read_lock(void **state)
{
    (void)state;
    struct store *s = open_store();
    struct store_record got;
    struct err e = {0};
    const char *id = "11111111-1111-4111-8111-111111111111";
    assert_int_equal(store_character_get(s, id, strlen(id), &got, &e), 0);
    store_row_done(s);
    /* With no reader left, a checkpoint can truncate the whole WAL. */
    int log = -1, ckpt = -1;
    assert_int_equal(sqlite3_wal_checkpoint_v2(store_db(s), NULL, SQLITE_CHECKPOINT_TRUNCATE, &log, &ckpt), SQLITE_OK);
    store_close(s);
}

static struct store *open_cached(uint64_t *gen)
{
    struct store *s = NULL;
    struct store_options o = {.busy_timeout_ms = 1000, .synchronous_full = 1, .generation = gen, .cache_bytes = 1 << 20};
    struct err e = {0};
    assert_int_equal(store_open(dbpath, &o, &s, &e), 0);
    assert_int_equal(store_prepare(s, &e), 0);
    return s;
}

static void insert_doc(struct store *s, const char *id, const char *doc)
{
    char etag[36];
    store_etag(1, doc, strlen(doc), etag);
    struct store_record r = {id, 1, "n", "t0", "t0", etag, doc, strlen(doc), .race = NULL};
    struct err e = {0};
    assert_int_equal(store_character_insert(s, &r, NULL, &e), 0);
}

/* Two "workers" share a generation: a write by one invalidates the other's cache. */
static void test_read_cache_follows_writes_of_other_processes(void **state)
{
    (void)state;
    uint64_t *gen = cache_generation_new();
    assert_non_null(gen);
    struct store *a = open_cached(gen), *b = open_cached(gen);
    const char *x = "22222222-2222-4222-8222-222222222222", *y = "33333333-3333-4333-8333-333333333333";
    insert_doc(b, x, "{\"v\":\"x\"}");
    struct store_record got;
    struct err e = {0};
    assert_int_equal(store_character_get(a, x, strlen(x), &got, &e), 0); /* miss: read and cached */
    store_row_done(a);
    size_t entries, bytes;
    cache_stats(NULL, &entries, &bytes);
    assert_int_equal(entries, 0);
    /* Remove the row behind the caches' back: a cached read still serves it... */
    assert_int_equal(sqlite3_exec(store_db(b), "DELETE FROM characters WHERE id = '22222222-2222-4222-8222-222222222222'",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    assert_int_equal(store_character_get(a, x, strlen(x), &got, &e), 0);
    assert_string_equal(got.document, "{\"v\":\"x\"}");
    store_row_done(a);
    /* ...until any write through the store bumps the generation: then it is gone. */
    insert_doc(b, y, "{\"v\":\"y\"}");
    assert_int_equal(store_character_get(a, x, strlen(x), &got, &e), ERR_NOT_FOUND);
    assert_int_equal(store_character_get(a, y, strlen(y), &got, &e), 0);
    assert_string_equal(got.document, "{\"v\":\"y\"}");
    store_row_done(a);
    store_close(a);
    store_close(b);
}

static void test_cache_bounds(void **state)
{
    (void)state;
    uint64_t *gen = cache_generation_new();
    struct cache *c = cache_new(gen, 100);
    uint64_t g;
    struct cache_hit hit;
    assert_int_equal(cache_get(c, "k1", 2, &hit, &g), 0);
    char big[200];
    memset(big, 'a', sizeof(big));
    cache_put(c, g, "k1", 2, 1, "\"e\"", big, sizeof(big)); /* over the byte bound: not kept */
    assert_int_equal(cache_get(c, "k1", 2, &hit, &g), 0);
    cache_put(c, g, "k1", 2, 1, "\"e\"", big, 60);
    assert_int_equal(cache_get(c, "k1", 2, &hit, &g), 1);
    assert_int_equal(hit.doc_len, 60);
    size_t entries, bytes;
    cache_stats(c, &entries, &bytes);
    assert_int_equal(entries, 1);
    assert_int_equal(bytes, 60);
    /* A put under a generation that has moved on is ignored. */
    cache_generation_bump(gen);
    assert_int_equal(cache_get(c, "k1", 2, &hit, &g), 0);
    cache_put(c, g - 1, "k2", 2, 1, "\"e\"", big, 10);
    assert_int_equal(cache_get(c, "k2", 2, &hit, &g), 0);
    assert_null(cache_new(gen, 0)); /* size 0 turns it off */
    cache_free(c);
}

static void test_open_failure_names_path(void **state)
{
    (void)state;
    struct store *s = NULL;
    struct store_options o = {.busy_timeout_ms = 100, .synchronous_full = 1};
    struct err e = {0};
    /* A missing folder is created; one that cannot be (under a file) is an error naming it. */
    assert_int_equal(store_open("/etc/hostname/sub/x.db", &o, &s, &e), ERR_IO);
    assert_non_null(strstr(e.msg, "/etc/hostname/sub"));
    char path[160];
    snprintf(path, sizeof(path), "%s/newdir/x.db", dir);
    assert_int_equal(store_open(path, &o, &s, &e), 0);
    store_close(s);
}

/* ------------------------------------------------------------------ issue 3: update, delete, list */

/* A new database file NAME in the test folder with the first `upto` migrations (0: all) applied; its path into out. */
static void fresh_db(const char *name, size_t upto, char *out, size_t outlen)
{
    snprintf(out, outlen, "%s/%s", dir, name);
    const char *top = getenv("top_srcdir");
    char mdir[512];
    snprintf(mdir, sizeof(mdir), "%s/migrations", top ? top : ".");
    struct migration_set set = {0};
    struct err e = {0};
    struct store *s = NULL;
    struct store_options o = {.busy_timeout_ms = 1000};
    assert_int_equal(migrate_load_dir(mdir, &set, &e), 0);
    size_t all = set.n;
    if (upto > 0 && upto < all)
        set.n = upto;
    assert_int_equal(store_open(out, &o, &s, &e), 0);
    if (migrate_sqlite_apply(store_db(s), &set, NULL, &e) != 0)
        fail_msg("migrate %s: %s", out, e.msg);
    set.n = all;
    store_close(s);
    migrate_set_release(&set);
}

/* Open the store at path; outbox: write-through on; gen: shared cache generation (NULL: no cache). */
static struct store *open_at(const char *path, int outbox, uint64_t *gen)
{
    struct store *s = NULL;
    struct store_options o = {.busy_timeout_ms = 1000,
                              .outbox = outbox,
                              .instance = "unit-a",
                              .generation = gen,
                              .cache_bytes = gen != NULL ? 1 << 20 : 0};
    struct err e = {0};
    assert_int_equal(store_open(path, &o, &s, &e), 0);
    if (store_prepare(s, &e) != 0)
        fail_msg("prepare %s: %s", path, e.msg);
    return s;
}

/* A character record to write; strings copied into the caller's buffers. */
struct rec {
    char id[64], name[96], doc[256], etag[36], nonce[40];
    struct store_record r;
};

static void make_rec(struct rec *x, const char *id, long long version, const char *name, const char *race,
                     const char *cls, int level, const char *nonce)
{
    memset(x, 0, sizeof(*x));
    snprintf(x->id, sizeof(x->id), "%s", id);
    snprintf(x->name, sizeof(x->name), "%s", name);
    snprintf(x->doc, sizeof(x->doc), "{\"id\":\"%s\",\"version\":%lld,\"name\":\"%s\",\"level\":%d}", id, version, name,
             level);
    store_etag(version, x->doc, strlen(x->doc), x->etag);
    if (nonce != NULL)
        snprintf(x->nonce, sizeof(x->nonce), "%s", nonce);
    x->r = (struct store_record){.id = x->id,
                                 .version = version,
                                 .name = x->name,
                                 .created_at = "t0",
                                 .updated_at = "t1",
                                 .etag = x->etag,
                                 .document = x->doc,
                                 .document_len = strlen(x->doc),
                                 .race = race,
                                 .class_ = cls,
                                 .level = level,
                                 .roll_nonce = nonce != NULL ? x->nonce : NULL};
}

static void put(struct store *s, const char *id, const char *name, const char *race, const char *cls, int level)
{
    struct rec x;
    struct err e = {0};
    make_rec(&x, id, 1, name, race, cls, level, NULL);
    if (store_character_insert(s, &x.r, NULL, &e) != 0)
        fail_msg("insert %s: %s", id, e.msg);
}

/* The stored (version, document) of id; version -1 when absent. */
static long long stored(struct store *s, const char *id, char *doc, size_t doclen)
{
    struct store_record got;
    struct err e = {0};
    if (store_character_get(s, id, strlen(id), &got, &e) != 0)
        return -1;
    long long v = got.version;
    if (doc != NULL)
        snprintf(doc, doclen, "%.*s", (int)got.document_len, got.document);
    store_row_done(s);
    return v;
}

static void test_update_checks_versions(void **state)
{
    (void)state;
    char path[160], doc[256];
    fresh_db("update.db", 0, path, sizeof(path));
    struct store *s = open_at(path, 0, NULL);
    struct rec x;
    struct err e = {0};
    make_rec(&x, "u1", 1, "Thorin", "dwarf", "cleric", 1, NULL);
    assert_int_equal(store_character_insert(s, &x.r, NULL, &e), 0);

    make_rec(&x, "u1", 2, "Thorin II", "dwarf", "fighter", 2, NULL);
    assert_int_equal(store_character_update(s, &x.r, 1, NULL, &e), 0); /* If-Match: 1 */
    assert_int_equal(stored(s, "u1", doc, sizeof(doc)), 2);
    assert_string_equal(doc, x.doc);

    /* The same version again (a lost update) and a stale If-Match are conflicts that change nothing. */
    make_rec(&x, "u1", 2, "Other", "elf", "wizard", 2, NULL);
    assert_int_equal(store_character_update(s, &x.r, 0, NULL, &e), ERR_CONFLICT);
    make_rec(&x, "u1", 3, "Other", "elf", "wizard", 3, NULL);
    assert_int_equal(store_character_update(s, &x.r, 1, NULL, &e), ERR_CONFLICT);
    assert_non_null(strstr(e.msg, "version 2"));
    make_rec(&x, "u1", 4, "Other", "elf", "wizard", 3, NULL); /* skips a version */
    assert_int_equal(store_character_update(s, &x.r, 0, NULL, &e), ERR_CONFLICT);
    assert_int_equal(stored(s, "u1", doc, sizeof(doc)), 2);
    assert_non_null(strstr(doc, "Thorin II"));

    /* No If-Match: the next version goes through. */
    make_rec(&x, "u1", 3, "Thorin III", "dwarf", "fighter", 3, NULL);
    assert_int_equal(store_character_update(s, &x.r, 0, NULL, &e), 0);
    assert_int_equal(stored(s, "u1", NULL, 0), 3);

    make_rec(&x, "nobody", 2, "Ghost", NULL, NULL, 0, NULL);
    assert_int_equal(store_character_update(s, &x.r, 0, NULL, &e), ERR_NOT_FOUND);
    assert_int_equal(store_character_update(s, &x.r, 1, NULL, &e), ERR_NOT_FOUND);
    assert_int_equal(stored(s, "nobody", NULL, 0), -1);
    store_close(s);
}

static void test_delete_checks_versions(void **state)
{
    (void)state;
    char path[160];
    fresh_db("delete.db", 0, path, sizeof(path));
    struct store *s = open_at(path, 0, NULL);
    struct err e = {0};
    put(s, "d1", "Doomed", "elf", "wizard", 1);
    put(s, "d2", "Kept", "elf", "wizard", 1);
    assert_int_equal(store_character_delete(s, "d1", 2, NULL, &e), ERR_CONFLICT);
    assert_int_equal(stored(s, "d1", NULL, 0), 1);
    assert_int_equal(store_character_delete(s, "d1", 1, NULL, &e), 0);
    assert_int_equal(stored(s, "d1", NULL, 0), -1);
    assert_int_equal(store_character_delete(s, "d1", 0, NULL, &e), ERR_NOT_FOUND);
    assert_int_equal(store_character_delete(s, "d1", 1, NULL, &e), ERR_NOT_FOUND);
    assert_int_equal(store_character_delete(s, "d2", 0, NULL, &e), 0); /* no If-Match */
    long long count = -1;
    assert_int_equal(store_character_list(s, NULL, NULL, 10, &count, NULL, NULL, &e), 0);
    assert_int_equal(count, 0);
    store_close(s);
}

/* With write-through each write queues one outbox row, in order; a refused write queues none. */
static void test_writes_queue_outbox_rows(void **state)
{
    (void)state;
    char path[160];
    fresh_db("outbox.db", 0, path, sizeof(path));
    struct store *s = open_at(path, 1, NULL);
    struct rec v1, v2, bad;
    struct err e = {0};
    long long s1 = 0, s2 = 0, s3 = 0, none = 99;
    make_rec(&v1, "o1", 1, "Anna", "human", "bard", 1, NULL);
    make_rec(&v2, "o1", 2, "Anna B", "human", "bard", 2, NULL);
    make_rec(&bad, "o1", 5, "Nope", "human", "bard", 2, NULL);
    assert_int_equal(store_character_insert(s, &v1.r, &s1, &e), 0);
    assert_int_equal(store_character_update(s, &v2.r, 1, &s2, &e), 0);
    assert_int_equal(store_character_update(s, &bad.r, 0, &none, &e), ERR_CONFLICT);
    assert_int_equal(none, 0);
    none = 99;
    assert_int_equal(store_character_delete(s, "o1", 1, &none, &e), ERR_CONFLICT);
    assert_int_equal(none, 0);
    assert_int_equal(store_character_delete(s, "o1", 2, &s3, &e), 0);
    assert_true(s1 > 0 && s2 > s1 && s3 > s2);

    struct outbox_row rows[8];
    size_t n = 0;
    assert_int_equal(outbox_peek(s, rows, 8, &n, &e), 0);
    assert_int_equal(n, 3);
    assert_int_equal(rows[0].seq, s1);
    assert_string_equal(rows[0].op, "upsert");
    assert_string_equal(rows[0].payload, v1.doc);
    assert_int_equal(rows[1].seq, s2);
    assert_string_equal(rows[1].op, "upsert");
    assert_string_equal(rows[1].resource, "characters");
    assert_int_equal(rows[1].version, 2);
    assert_string_equal(rows[1].payload, v2.doc);
    assert_int_equal(rows[2].seq, s3);
    assert_string_equal(rows[2].op, "delete");
    assert_string_equal(rows[2].id, "o1");
    assert_int_equal(rows[2].version, 2);
    assert_null(rows[2].payload);
    assert_true(strlen(rows[2].created_at) >= 20 && rows[2].created_at[4] == '-');
    outbox_rows_release(rows, n);
    store_close(s);
}

struct seen {
    char ids[64][64];
    int levels[64];
    size_t n;
    size_t stop_after; /* 0: never stop */
};

static int collect(void *ctx, const struct store_record *r)
{
    struct seen *v = ctx;
    if (v->n < 64) {
        snprintf(v->ids[v->n], sizeof(v->ids[0]), "%s", r->id);
        v->levels[v->n] = r->level;
        v->n++;
    }
    assert_non_null(r->document);
    assert_non_null(r->etag);
    return v->stop_after > 0 && v->n >= v->stop_after;
}

/* List with f; returns the count and fills *v (ids joined by ',' into joined). */
static long long list(struct store *s, const struct store_filter *f, const char *after, int limit, struct seen *v,
                      char *joined, size_t joinedlen)
{
    long long count = -1;
    struct err e = {0};
    memset(v, 0, sizeof(*v));
    if (store_character_list(s, f, after, limit, &count, collect, v, &e) != 0)
        fail_msg("list: %s", e.msg);
    joined[0] = '\0';
    for (size_t i = 0; i < v->n; i++)
        snprintf(joined + strlen(joined), joinedlen - strlen(joined), "%s%s", i ? "," : "", v->ids[i]);
    return count;
}

static void test_list_filters(void **state)
{
    (void)state;
    char path[160], got[1024];
    fresh_db("list.db", 0, path, sizeof(path));
    struct store *s = open_at(path, 0, NULL);
    put(s, "c01", "Thorin", "dwarf", "cleric", 1);
    put(s, "c02", "THORGRIM", "dwarf", "fighter", 3);
    put(s, "c03", "thor", "human", "cleric", 3);
    put(s, "c04", "50% Off", "elf", "wizard", 5);
    put(s, "c05", "500 Nights", "elf", "wizard", 5);
    put(s, "c06", "A_b", "gnome", "bard", 2);
    put(s, "c07", "Ab", "gnome", "bard", 2);
    put(s, "c08", "back\\slash", "gnome", "bard", 2);
    put(s, "c09", "Zed", NULL, NULL, 0); /* written without the columns (as before migration 0003) */
    struct seen v;
    struct store_filter f = {0};

    assert_int_equal(list(s, &f, NULL, 100, &v, got, sizeof(got)), 9);
    assert_string_equal(got, "c01,c02,c03,c04,c05,c06,c07,c08,c09");
    assert_int_equal(v.levels[1], 3);

    f = (struct store_filter){.race = "dwarf"};
    assert_int_equal(list(s, &f, NULL, 100, &v, got, sizeof(got)), 2);
    assert_string_equal(got, "c01,c02");
    f = (struct store_filter){.class_ = "cleric"};
    assert_int_equal(list(s, &f, NULL, 100, &v, got, sizeof(got)), 2);
    assert_string_equal(got, "c01,c03");
    f = (struct store_filter){.level = 3};
    assert_int_equal(list(s, &f, NULL, 100, &v, got, sizeof(got)), 2);
    assert_string_equal(got, "c02,c03");
    f = (struct store_filter){.race = "dwarf", .level = 3};
    assert_int_equal(list(s, &f, NULL, 100, &v, got, sizeof(got)), 1);
    assert_string_equal(got, "c02");
    f = (struct store_filter){.race = "dwarf", .class_ = "wizard"};
    assert_int_equal(list(s, &f, NULL, 100, &v, got, sizeof(got)), 0);
    assert_string_equal(got, "");
    f = (struct store_filter){.race = "DWARF"}; /* indexes are exact */
    assert_int_equal(list(s, &f, NULL, 100, &v, got, sizeof(got)), 0);

    /* Name: a case-insensitive prefix, taken literally. */
    f = (struct store_filter){.name_prefix = "thor"};
    assert_int_equal(list(s, &f, NULL, 100, &v, got, sizeof(got)), 3);
    assert_string_equal(got, "c01,c02,c03");
    f = (struct store_filter){.name_prefix = "ThOrI"};
    assert_int_equal(list(s, &f, NULL, 100, &v, got, sizeof(got)), 1);
    assert_string_equal(got, "c01");
    f = (struct store_filter){.name_prefix = "50%"};
    assert_int_equal(list(s, &f, NULL, 100, &v, got, sizeof(got)), 1);
    assert_string_equal(got, "c04");
    f = (struct store_filter){.name_prefix = "%"};
    assert_int_equal(list(s, &f, NULL, 100, &v, got, sizeof(got)), 0);
    f = (struct store_filter){.name_prefix = "a_"};
    assert_int_equal(list(s, &f, NULL, 100, &v, got, sizeof(got)), 1);
    assert_string_equal(got, "c06");
    f = (struct store_filter){.name_prefix = "_"};
    assert_int_equal(list(s, &f, NULL, 100, &v, got, sizeof(got)), 0);
    f = (struct store_filter){.name_prefix = "back\\"};
    assert_int_equal(list(s, &f, NULL, 100, &v, got, sizeof(got)), 1);
    assert_string_equal(got, "c08");
    f = (struct store_filter){.name_prefix = ""};
    assert_int_equal(list(s, &f, NULL, 100, &v, got, sizeof(got)), 9);
    f = (struct store_filter){.name_prefix = "thor", .class_ = "cleric", .race = "human", .level = 3};
    assert_int_equal(list(s, &f, NULL, 100, &v, got, sizeof(got)), 1);
    assert_string_equal(got, "c03");

    /* A callback that stops the walk; a limit of 0 still counts. */
    f = (struct store_filter){0};
    long long count = 0;
    struct err e = {0};
    memset(&v, 0, sizeof(v));
    v.stop_after = 2;
    assert_int_equal(store_character_list(s, &f, NULL, 100, &count, collect, &v, &e), 0);
    assert_int_equal(v.n, 2);
    assert_int_equal(count, 9);
    assert_int_equal(list(s, &f, NULL, 0, &v, got, sizeof(got)), 9);
    assert_int_equal(v.n, 0);
    store_close(s);
}

/* Walking pages with after_id visits every matching row exactly once, in id order. */
static void test_list_pages_cover_all_rows_once(void **state)
{
    (void)state;
    char path[160], got[1024], id[16];
    fresh_db("pages.db", 0, path, sizeof(path));
    struct store *s = open_at(path, 0, NULL);
    enum { N = 23 };
    for (int i = N - 1; i >= 0; i--) { /* inserted in reverse: the order comes from the ids */
        snprintf(id, sizeof(id), "p%03d", i);
        put(s, id, "Page", i % 2 ? "elf" : "dwarf", "wizard", 1);
    }
    for (int pass = 0; pass < 2; pass++) {
        struct store_filter f = {.race = pass ? "elf" : NULL};
        int want = pass ? N / 2 : N, visited = 0, pages = 0;
        char after[64] = "", last[64] = "";
        int seen[N] = {0};
        for (;;) {
            struct seen v;
            long long count = list(s, &f, after[0] ? after : NULL, 5, &v, got, sizeof(got));
            assert_int_equal(count, want);
            pages++;
            for (size_t i = 0; i < v.n; i++) {
                assert_true(strcmp(v.ids[i], last) > 0); /* strictly ascending across pages */
                snprintf(last, sizeof(last), "%s", v.ids[i]);
                int k = atoi(v.ids[i] + 1);
                assert_true(k >= 0 && k < N);
                seen[k]++;
                visited++;
            }
            if (v.n < 5)
                break;
            snprintf(after, sizeof(after), "%s", v.ids[v.n - 1]);
            assert_true(pages < 20);
        }
        assert_int_equal(visited, want);
        for (int k = 0; k < N; k++)
            assert_int_equal(seen[k], pass ? (k % 2) : 1);
    }
    store_close(s);
}

static void test_roll_nonce_is_unique(void **state)
{
    (void)state;
    char path[160];
    fresh_db("nonce.db", 0, path, sizeof(path));
    struct store *s = open_at(path, 1, NULL);
    struct rec a, b;
    struct err e = {0};
    long long seq = 0;
    make_rec(&a, "n1", 1, "Rolled", "elf", "wizard", 1, "00ff00ff00ff00ff");
    assert_int_equal(store_character_insert(s, &a.r, &seq, &e), 0);
    make_rec(&b, "n2", 1, "Again", "elf", "wizard", 1, "00ff00ff00ff00ff");
    seq = 99;
    assert_int_equal(store_character_insert(s, &b.r, &seq, &e), ERR_DUPLICATE);
    assert_int_equal(seq, 0);
    assert_int_equal(stored(s, "n2", NULL, 0), -1);
    make_rec(&b, "n1", 1, "Same id", "elf", "wizard", 1, "1111");
    assert_int_equal(store_character_insert(s, &b.r, NULL, &e), ERR_CONFLICT);
    /* Characters without a roll id never collide. */
    make_rec(&b, "n3", 1, "Array", "elf", "wizard", 1, NULL);
    assert_int_equal(store_character_insert(s, &b.r, NULL, &e), 0);
    make_rec(&b, "n4", 1, "Array too", "elf", "wizard", 1, NULL);
    assert_int_equal(store_character_insert(s, &b.r, NULL, &e), 0);
    /* An update may keep its own nonce, not take another's. */
    make_rec(&a, "n1", 2, "Rolled II", "elf", "wizard", 2, "00ff00ff00ff00ff");
    assert_int_equal(store_character_update(s, &a.r, 1, NULL, &e), 0);
    make_rec(&b, "n3", 2, "Thief", "elf", "wizard", 1, "00ff00ff00ff00ff");
    assert_int_equal(store_character_update(s, &b.r, 1, NULL, &e), ERR_DUPLICATE);
    assert_int_equal(stored(s, "n3", NULL, 0), 1);
    char nonce[64];
    assert_int_equal(store_character_nonce(s, "n1", nonce, sizeof(nonce), &e), 0);
    assert_string_equal(nonce, "00ff00ff00ff00ff");
    assert_int_equal(store_character_nonce(s, "n3", nonce, sizeof(nonce), &e), 0);
    assert_string_equal(nonce, "");
    assert_int_equal(store_character_nonce(s, "zz", nonce, sizeof(nonce), &e), ERR_NOT_FOUND);
    /* Only the accepted writes were queued: n1 v1, n3, n4, n1 v2. */
    struct outbox_row rows[8];
    size_t n = 0;
    assert_int_equal(outbox_peek(s, rows, 8, &n, &e), 0);
    assert_int_equal(n, 4);
    outbox_rows_release(rows, n);
    store_close(s);
}

/* Two workers share a generation: an update or delete by one is never served stale from the other's cache. */
static void test_cache_follows_updates_and_deletes(void **state)
{
    (void)state;
    char path[160], doc[256];
    fresh_db("cache.db", 0, path, sizeof(path));
    uint64_t *gen = cache_generation_new();
    assert_non_null(gen);
    struct store *a = open_at(path, 0, gen), *b = open_at(path, 1, gen);
    struct rec x;
    struct err e = {0};
    make_rec(&x, "k1", 1, "Cached", "elf", "bard", 1, NULL);
    assert_int_equal(store_character_insert(b, &x.r, NULL, &e), 0);
    assert_int_equal(stored(a, "k1", doc, sizeof(doc)), 1); /* miss: read and cached */
    assert_int_equal(stored(a, "k1", doc, sizeof(doc)), 1); /* hit */
    make_rec(&x, "k1", 2, "Updated", "elf", "bard", 2, NULL);
    assert_int_equal(store_character_update(b, &x.r, 1, NULL, &e), 0);
    assert_int_equal(stored(a, "k1", doc, sizeof(doc)), 2);
    assert_string_equal(doc, x.doc);
    assert_int_equal(store_character_delete(b, "k1", 2, NULL, &e), 0);
    assert_int_equal(stored(a, "k1", doc, sizeof(doc)), -1);
    /* A pulled record (the syncer's write) is seen too. */
    make_rec(&x, "k1", 3, "Pulled", "elf", "bard", 3, NULL);
    int applied = 0;
    assert_int_equal(stored(a, "k1", doc, sizeof(doc)), -1);
    assert_int_equal(store_character_put_remote(b, &x.r, "other", &applied, &e), ERR_OK);
    assert_int_equal(applied, 0); /* b's own delete of k1 still waits in its outbox: not brought back */
    assert_int_equal(stored(a, "k1", doc, sizeof(doc)), -1);
    store_close(a);
    store_close(b);
}

/* Pulled rows get their list columns; a pulled nonce that is taken here is dropped, the record kept. */
static void test_put_remote_columns_and_nonce(void **state)
{
    (void)state;
    char path[160], got[256];
    fresh_db("remote.db", 0, path, sizeof(path));
    struct store *s = open_at(path, 0, NULL);
    struct rec mine, theirs;
    struct err e = {0};
    int applied = 0;
    make_rec(&mine, "r1", 1, "Mine", "elf", "bard", 1, "abcd");
    assert_int_equal(store_character_insert(s, &mine.r, NULL, &e), 0);
    make_rec(&theirs, "r2", 4, "Theirs", "halfling", "rogue", 4, "abcd");
    assert_int_equal(store_character_put_remote(s, &theirs.r, "other", &applied, &e), 0);
    assert_int_equal(applied, 1);
    struct store_filter f = {.race = "halfling", .class_ = "rogue", .level = 4};
    struct seen v;
    assert_int_equal(list(s, &f, NULL, 10, &v, got, sizeof(got)), 1);
    assert_string_equal(got, "r2");
    char nonce[64];
    assert_int_equal(store_character_nonce(s, "r2", nonce, sizeof(nonce), &e), 0);
    assert_string_equal(nonce, "");
    assert_int_equal(store_character_nonce(s, "r1", nonce, sizeof(nonce), &e), 0);
    assert_string_equal(nonce, "abcd");
    /* A pulled newer version of our own rolled character keeps its nonce; an older one is ignored. */
    make_rec(&theirs, "r1", 2, "Mine II", "elf", "sorcerer", 2, NULL);
    assert_int_equal(store_character_put_remote(s, &theirs.r, "other", &applied, &e), 0);
    assert_int_equal(applied, 1);
    assert_int_equal(store_character_nonce(s, "r1", nonce, sizeof(nonce), &e), 0);
    assert_string_equal(nonce, "abcd");
    f = (struct store_filter){.class_ = "sorcerer"};
    assert_int_equal(list(s, &f, NULL, 10, &v, got, sizeof(got)), 1);
    make_rec(&theirs, "r1", 1, "Old", "elf", "bard", 1, NULL);
    assert_int_equal(store_character_put_remote(s, &theirs.r, "other", &applied, &e), 0);
    assert_int_equal(applied, 0);
    assert_int_equal(stored(s, "r1", NULL, 0), 2);
    store_close(s);
}

/* Migration 0003 applies over rows written before it: they get NULLs and match no filter. */
static void test_migration_0003_keeps_existing_rows(void **state)
{
    (void)state;
    char path[160], got[256];
    fresh_db("old.db", 2, path, sizeof(path));
    struct store *s = NULL;
    struct store_options o = {.busy_timeout_ms = 1000};
    struct err e = {0};
    assert_int_equal(store_open(path, &o, &s, &e), 0);
    assert_int_equal(store_prepare(s, &e), ERR_IO); /* the new columns are missing */
    assert_int_equal(sqlite3_exec(store_db(s),
                                  "INSERT INTO characters (id, version, name, created_at, updated_at, etag, document) "
                                  "VALUES ('old1', 1, 'Oldtimer', 't0', 't0', '\"e\"', '{}')",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    store_close(s);
    const char *top = getenv("top_srcdir");
    char mdir[512];
    snprintf(mdir, sizeof(mdir), "%s/migrations", top ? top : ".");
    struct migration_set set = {0};
    size_t applied = 0;
    assert_int_equal(migrate_load_dir(mdir, &set, &e), 0);
    assert_int_equal(store_open(path, &o, &s, &e), 0);
    if (migrate_sqlite_apply(store_db(s), &set, &applied, &e) != 0)
        fail_msg("0003 over existing rows: %s", e.msg);
    assert_true(applied >= 1);
    migrate_set_release(&set);
    assert_int_equal(store_prepare(s, &e), 0);
    struct seen v;
    struct store_filter f = {0};
    assert_int_equal(list(s, &f, NULL, 10, &v, got, sizeof(got)), 1);
    assert_string_equal(got, "old1");
    assert_int_equal(v.levels[0], 0);
    f = (struct store_filter){.level = 1};
    assert_int_equal(list(s, &f, NULL, 10, &v, got, sizeof(got)), 0);
    f = (struct store_filter){.name_prefix = "old"};
    assert_int_equal(list(s, &f, NULL, 10, &v, got, sizeof(got)), 1);
    /* The unique index is really there. */
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_prepare_v2(store_db(s),
                                        "SELECT \"unique\" FROM pragma_index_list('characters') "
                                        "WHERE name = 'characters_roll_nonce_idx'",
                                        -1, &st, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_int_equal(sqlite3_column_int(st, 0), 1);
    sqlite3_finalize(st);
    store_close(s);
}

/* ---- equipment and campaign rows (store_doc_*) ---- */

/* A document row of any kind; strings copied into the caller's buffers. */
struct drec {
    char id[64], doc[256], etag[36];
    struct store_record r;
};

static void make_drec(struct drec *x, const char *id, long long version, const char *name, const char *type,
                      const char *character_id)
{
    memset(x, 0, sizeof(*x));
    snprintf(x->id, sizeof(x->id), "%s", id);
    snprintf(x->doc, sizeof(x->doc), "{\"id\":\"%s\",\"version\":%lld,\"name\":\"%s\"}", id, version, name);
    store_etag(version, x->doc, strlen(x->doc), x->etag);
    x->r = (struct store_record){.id = x->id, .version = version, .name = name, .created_at = "t0",
                                 .updated_at = "t1", .etag = x->etag, .document = x->doc,
                                 .document_len = strlen(x->doc), .equip_type = type, .base_cost = 2.5,
                                 .weight = 10, .character_id = character_id};
}

static long long doc_stored(struct store *s, enum store_kind k, const char *id, char *doc, size_t doclen)
{
    struct store_record got;
    struct err e = {0};
    int rc = store_doc_get(s, k, id, strlen(id), &got, &e);
    if (rc == ERR_NOT_FOUND)
        return -1;
    if (rc != 0)
        fail_msg("get %s: %s", id, e.msg);
    long long v = got.version;
    if (doc != NULL)
        snprintf(doc, doclen, "%.*s", (int)got.document_len, got.document);
    store_row_done(s);
    return v;
}

struct seen_rows {
    char ids[16][64];
    int n, with_doc;
};

static int collect_docs(void *ctx, const struct store_record *r)
{
    struct seen_rows *c = ctx;
    if (c->n < 16)
        snprintf(c->ids[c->n++], 64, "%s", r->id);
    c->with_doc += r->document != NULL;
    return 0;
}

/* Insert, get, update and delete with version checks and outbox rows, for equipment and campaigns. */
static void test_doc_rows_crud_and_versions(void **state)
{
    (void)state;
    char path[160], doc[256];
    fresh_db("docs.db", 0, path, sizeof(path));
    struct store *s = open_at(path, 1, NULL);
    static const enum store_kind kinds[] = {STORE_EQUIPMENT, STORE_CAMPAIGNS};
    static const char *const resources[] = {"equipment", "campaigns"};
    for (size_t i = 0; i < 2; i++) {
        enum store_kind k = kinds[i];
        struct drec x;
        struct err e = {0};
        long long seq1 = 0, seq2 = 0, seq3 = 0;
        make_drec(&x, "d1", 1, "Rope", "other", "c1");
        assert_int_equal(store_doc_insert(s, k, &x.r, &seq1, &e), 0);
        assert_true(seq1 > 0);
        assert_int_equal(store_doc_insert(s, k, &x.r, NULL, &e), ERR_CONFLICT); /* the id exists */
        assert_int_equal(doc_stored(s, k, "d1", doc, sizeof(doc)), 1);
        assert_string_equal(doc, x.doc);
        /* Update: stale expectation and a version that does not follow are conflicts. */
        make_drec(&x, "d1", 2, "Rope v2", "other", "c1");
        assert_int_equal(store_doc_update(s, k, &x.r, 5, NULL, &e), ERR_CONFLICT);
        assert_int_equal(store_doc_update(s, k, &x.r, 1, &seq2, &e), 0);
        assert_true(seq2 > seq1);
        assert_int_equal(store_doc_update(s, k, &x.r, 1, NULL, &e), ERR_CONFLICT); /* version 1 is gone */
        make_drec(&x, "nope", 2, "x", "other", "c1");
        assert_int_equal(store_doc_update(s, k, &x.r, 1, NULL, &e), ERR_NOT_FOUND);
        assert_int_equal(doc_stored(s, k, "d1", NULL, 0), 2);
        /* Delete: stale version 412-style conflict, then 0, then not found. */
        assert_int_equal(store_doc_delete(s, k, "d1", 1, NULL, &e), ERR_CONFLICT);
        assert_int_equal(store_doc_delete(s, k, "d1", 2, &seq3, &e), 0);
        assert_int_equal(store_doc_delete(s, k, "d1", 0, NULL, &e), ERR_NOT_FOUND);
        assert_int_equal(doc_stored(s, k, "d1", NULL, 0), -1);
        /* Each write queued an outbox row of the kind's resource: upsert, upsert, delete. */
        char sql[200];
        snprintf(sql, sizeof(sql),
                 "SELECT count(*) FROM outbox WHERE resource = '%s' AND id = 'd1' AND seq IN (%lld, %lld, %lld)",
                 resources[i], seq1, seq2, seq3);
        sqlite3_stmt *st = NULL;
        assert_int_equal(sqlite3_prepare_v2(store_db(s), sql, -1, &st, NULL), SQLITE_OK);
        assert_int_equal(sqlite3_step(st), SQLITE_ROW);
        assert_int_equal(sqlite3_column_int(st, 0), 3);
        sqlite3_finalize(st);
        assert_int_equal(store_kind_of(resources[i]), (int)k);
        assert_string_equal(store_kind_resource(k), resources[i]);
    }
    assert_int_equal(store_kind_of("spells"), -1);
    store_close(s);
}

/* List filters: equipment by type, documents only (CSV rows without a document); campaigns by character. */
static void test_doc_list_filters(void **state)
{
    (void)state;
    char path[160];
    fresh_db("doclist.db", 0, path, sizeof(path));
    struct store *s = open_at(path, 0, NULL);
    struct err e = {0};
    struct drec x;
    make_drec(&x, "e1", 1, "Buckler", "shield", NULL);
    assert_int_equal(store_doc_insert(s, STORE_EQUIPMENT, &x.r, NULL, &e), 0);
    make_drec(&x, "e2", 1, "Rope", "other", NULL);
    assert_int_equal(store_doc_insert(s, STORE_EQUIPMENT, &x.r, NULL, &e), 0);
    make_drec(&x, "e3", 1, "Kite Shield", "shield", NULL);
    assert_int_equal(store_doc_insert(s, STORE_EQUIPMENT, &x.r, NULL, &e), 0);
    /* A row loaded from CSV: columns, no document. */
    assert_int_equal(sqlite3_exec(store_db(s),
                                  "INSERT INTO equipment (id, name, equip_type, base_cost, weight) VALUES ('e0', "
                                  "'Imported Shield', 'shield', 10, 6)",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    struct store_filter f = {.equip_type = "shield"};
    struct seen_rows c = {0};
    long long count = 0;
    assert_int_equal(store_doc_list(s, STORE_EQUIPMENT, &f, NULL, 10, &count, collect_docs, &c, &e), 0);
    assert_int_equal(count, 3);
    assert_int_equal(c.n, 3);
    assert_string_equal(c.ids[0], "e0"); /* by id */
    assert_int_equal(c.with_doc, 2);
    f.documents_only = 1;
    memset(&c, 0, sizeof(c));
    assert_int_equal(store_doc_list(s, STORE_EQUIPMENT, &f, NULL, 10, &count, collect_docs, &c, &e), 0);
    assert_int_equal(count, 2);
    assert_string_equal(c.ids[0], "e1");
    assert_string_equal(c.ids[1], "e3");
    /* After an id, with a limit: the page and the whole count. */
    memset(&c, 0, sizeof(c));
    assert_int_equal(store_doc_list(s, STORE_EQUIPMENT, NULL, "e1", 1, &count, collect_docs, &c, &e), 0);
    assert_int_equal(count, 4);
    assert_int_equal(c.n, 1);
    assert_string_equal(c.ids[0], "e2");
    /* The CSV row is not a document for GET. */
    assert_int_equal(doc_stored(s, STORE_EQUIPMENT, "e0", NULL, 0), -1);
    /* Campaigns by character. */
    make_drec(&x, "p1", 1, "", NULL, "char-a");
    assert_int_equal(store_doc_insert(s, STORE_CAMPAIGNS, &x.r, NULL, &e), 0);
    make_drec(&x, "p2", 1, "", NULL, "char-b");
    assert_int_equal(store_doc_insert(s, STORE_CAMPAIGNS, &x.r, NULL, &e), 0);
    make_drec(&x, "p3", 1, "", NULL, "char-a");
    assert_int_equal(store_doc_insert(s, STORE_CAMPAIGNS, &x.r, NULL, &e), 0);
    struct store_filter fc = {.character_id = "char-a"};
    memset(&c, 0, sizeof(c));
    assert_int_equal(store_doc_list(s, STORE_CAMPAIGNS, &fc, NULL, 10, &count, collect_docs, &c, &e), 0);
    assert_int_equal(count, 2);
    assert_string_equal(c.ids[0], "p1");
    assert_string_equal(c.ids[1], "p3");
    store_close(s);
}

/* One id in several kinds: separate rows, and the read cache keeps them apart (keys by kind). */
static void test_doc_kinds_do_not_collide(void **state)
{
    (void)state;
    char path[160], doc[256];
    fresh_db("collide.db", 0, path, sizeof(path));
    uint64_t *gen = cache_generation_new();
    assert_non_null(gen);
    struct store *a = open_at(path, 0, gen), *b = open_at(path, 0, gen);
    struct err e = {0};
    struct rec ch;
    make_rec(&ch, "same-id", 1, "Character", "elf", "bard", 1, NULL);
    assert_int_equal(store_character_insert(b, &ch.r, NULL, &e), 0);
    struct drec eq, cp;
    make_drec(&eq, "same-id", 1, "Item", "other", NULL);
    assert_int_equal(store_doc_insert(b, STORE_EQUIPMENT, &eq.r, NULL, &e), 0);
    make_drec(&cp, "same-id", 1, "Campaign", NULL, "c");
    snprintf(cp.doc, sizeof(cp.doc), "{\"id\":\"same-id\",\"campaign\":true}");
    cp.r.document_len = strlen(cp.doc);
    assert_int_equal(store_doc_insert(b, STORE_CAMPAIGNS, &cp.r, NULL, &e), 0);
    for (int round = 0; round < 2; round++) { /* a miss, then (cached) a hit */
        assert_int_equal(stored(a, "same-id", doc, sizeof(doc)), 1);
        assert_string_equal(doc, ch.doc);
        assert_int_equal(doc_stored(a, STORE_EQUIPMENT, "same-id", doc, sizeof(doc)), 1);
        assert_string_equal(doc, eq.doc);
        assert_int_equal(doc_stored(a, STORE_CAMPAIGNS, "same-id", doc, sizeof(doc)), 1);
        assert_string_equal(doc, cp.doc);
    }
    /* Deleting the item leaves the character and the campaign. */
    assert_int_equal(store_doc_delete(b, STORE_EQUIPMENT, "same-id", 1, NULL, &e), 0);
    assert_int_equal(doc_stored(a, STORE_EQUIPMENT, "same-id", NULL, 0), -1);
    assert_int_equal(stored(a, "same-id", NULL, 0), 1);
    assert_int_equal(doc_stored(a, STORE_CAMPAIGNS, "same-id", NULL, 0), 1);
    store_close(a);
    store_close(b);
}

/* Pulled rows of other kinds: newer wins by (version, updated_at, instance); remote deletes. */
static void test_doc_put_remote(void **state)
{
    (void)state;
    char path[160], doc[256];
    fresh_db("docremote.db", 0, path, sizeof(path));
    struct store *s = open_at(path, 0, NULL);
    struct err e = {0};
    struct drec x;
    int applied = 0;
    make_drec(&x, "r1", 2, "Pulled", "shield", NULL);
    assert_int_equal(store_doc_put_remote(s, STORE_EQUIPMENT, &x.r, "other", &applied, &e), 0);
    assert_int_equal(applied, 1);
    assert_int_equal(doc_stored(s, STORE_EQUIPMENT, "r1", doc, sizeof(doc)), 2);
    /* Its columns came along: the type filter finds it. */
    struct store_filter f = {.equip_type = "shield"};
    struct seen_rows c = {0};
    long long count = 0;
    assert_int_equal(store_doc_list(s, STORE_EQUIPMENT, &f, NULL, 10, &count, collect_docs, &c, &e), 0);
    assert_int_equal(count, 1);
    make_drec(&x, "r1", 1, "Older", "shield", NULL);
    assert_int_equal(store_doc_put_remote(s, STORE_EQUIPMENT, &x.r, "zzz", &applied, &e), 0);
    assert_int_equal(applied, 0);
    assert_int_equal(doc_stored(s, STORE_EQUIPMENT, "r1", NULL, 0), 2);
    make_drec(&x, "r1", 2, "Same version, later instance", "shield", NULL);
    assert_int_equal(store_doc_put_remote(s, STORE_EQUIPMENT, &x.r, "p-later", &applied, &e), 0);
    assert_int_equal(applied, 1);
    make_drec(&x, "k1", 1, "", NULL, "char-z");
    assert_int_equal(store_doc_put_remote(s, STORE_CAMPAIGNS, &x.r, "other", &applied, &e), 0);
    assert_int_equal(applied, 1);
    struct store_filter fc = {.character_id = "char-z"};
    memset(&c, 0, sizeof(c));
    assert_int_equal(store_doc_list(s, STORE_CAMPAIGNS, &fc, NULL, 10, &count, collect_docs, &c, &e), 0);
    assert_int_equal(count, 1);
    assert_int_equal(store_doc_delete_remote(s, STORE_CAMPAIGNS, "k1", &e), 0);
    assert_int_equal(store_doc_delete_remote(s, STORE_CAMPAIGNS, "k1", &e), ERR_NOT_FOUND);
    assert_int_equal(doc_stored(s, STORE_EQUIPMENT, "r1", NULL, 0), 2); /* another kind is untouched */
    store_close(s);
}

int main(void)
{
    if (sodium_init() < 0)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_insert_get_roundtrip),
        cmocka_unit_test(test_etag_changes_with_version_and_content),
        cmocka_unit_test(test_row_done_releases_read_lock),
        cmocka_unit_test(test_open_failure_names_path),
        cmocka_unit_test(test_read_cache_follows_writes_of_other_processes),
        cmocka_unit_test(test_cache_bounds),
        cmocka_unit_test(test_update_checks_versions),
        cmocka_unit_test(test_delete_checks_versions),
        cmocka_unit_test(test_writes_queue_outbox_rows),
        cmocka_unit_test(test_list_filters),
        cmocka_unit_test(test_list_pages_cover_all_rows_once),
        cmocka_unit_test(test_roll_nonce_is_unique),
        cmocka_unit_test(test_cache_follows_updates_and_deletes),
        cmocka_unit_test(test_put_remote_columns_and_nonce),
        cmocka_unit_test(test_migration_0003_keeps_existing_rows),
        cmocka_unit_test(test_doc_rows_crud_and_versions),
        cmocka_unit_test(test_doc_list_filters),
        cmocka_unit_test(test_doc_kinds_do_not_collide),
        cmocka_unit_test(test_doc_put_remote),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
