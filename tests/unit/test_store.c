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
    struct store_record r = {"11111111-1111-4111-8111-111111111111", 1, "Thorin", "t0", "t0", etag, doc, strlen(doc), NULL, NULL, 0, NULL};
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
    struct store_record r = {id, 1, "n", "t0", "t0", etag, doc, strlen(doc), NULL, NULL, 0, NULL};
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
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
