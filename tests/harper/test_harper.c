/*
 * tests/harper/test_harper.c - the HarperDB client (storage/harper.c) against a
 * real HarperDB named by HARPERDB_URI, HARPERDB_USER and HARPERDB_PASSWORD
 * (scripts/harperdb start prints them). Each run works in a schema of its own,
 * t_<pid>_<random>, and drops it at the end. Without HARPERDB_URI every test
 * is skipped and the program exits 77 (automake's "skipped").
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <curl/curl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "storage/harper.h"

static const char *uri, *user, *password;
static char schema[64];
static struct harper *hdb; /* the client every test shares; NULL when skipped */

static int said_unset; /* the hint below was printed */

/* Skip the calling test unless a HarperDB was given; say how to get one, once. */
#define NEED_HARPERDB()                                                                                                \
    do {                                                                                                               \
        if (uri == NULL) {                                                                                             \
            if (!said_unset++)                                                                                         \
                fprintf(stderr, "HARPERDB_URI unset: start one with scripts/harperdb (scripts/test does)\n");          \
            skip();                                                                                                    \
        }                                                                                                              \
    } while (0)

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* A client for `u` with the environment's credentials and the given timeouts. */
static struct harper *client(const char *u, const char *pw, long connect_ms, long total_ms)
{
    struct harper_options o = {
        .uri = u, .user = user, .password = pw, .connect_timeout_ms = connect_ms, .timeout_ms = total_ms};
    struct harper *h = NULL;
    struct err e = {0};
    if (harper_open(&o, &h, &e) != 0)
        fail_msg("harper_open: %s", e.msg);
    return h;
}

static int group_setup(void **state)
{
    (void)state;
    uri = getenv("HARPERDB_URI");
    if (uri == NULL || uri[0] == '\0') {
        uri = NULL;
        return 0;
    }
    user = getenv("HARPERDB_USER");
    password = getenv("HARPERDB_PASSWORD");
    unsigned seed = (unsigned)getpid() ^ (unsigned)time(NULL) ^ (unsigned)clock();
    srand(seed);
    snprintf(schema, sizeof(schema), "t_%ld_%04x", (long)getpid(), (unsigned)rand() & 0xffff);
    hdb = client(uri, password, 0, 0);
    struct err e = {0};
    if (harper_create_schema(hdb, schema, &e) != 0) {
        fprintf(stderr, "setup: %s\n", e.msg);
        return -1;
    }
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    if (hdb == NULL)
        return 0;
    json_t *op = json_pack("{s:s, s:s}", "operation", "drop_schema", "schema", schema);
    struct err e = {0};
    int rc = harper_op(hdb, op, NULL, &e);
    json_decref(op);
    if (rc != 0)
        fprintf(stderr, "teardown: %s\n", e.msg);
    harper_close(hdb);
    hdb = NULL;
    return rc == 0 ? 0 : -1;
}

/* A table `name` in the test schema with hash attribute "id". */
static void make_table(const char *name)
{
    struct err e = {0};
    int rc = harper_create_table(hdb, schema, name, "id", &e);
    if (rc != 0)
        fail_msg("create_table %s: %s", name, e.msg);
}

/* Does describe_table's "attributes" list `attr`? */
static int has_attribute(json_t *desc, const char *attr)
{
    size_t i;
    json_t *a;
    json_array_foreach(json_object_get(desc, "attributes"), i, a)
    {
        const char *n = json_string_value(json_object_get(a, "attribute"));
        if (n != NULL && strcmp(n, attr) == 0)
            return 1;
    }
    return 0;
}

/* The record with id `id` in a search result, or NULL. */
static json_t *find_id(json_t *records, const char *id)
{
    size_t i;
    json_t *r;
    json_array_foreach(records, i, r)
    {
        const char *v = json_string_value(json_object_get(r, "id"));
        if (v != NULL && strcmp(v, id) == 0)
            return r;
    }
    return NULL;
}

/* Running every create twice succeeds, and the second run changes nothing. */
static void test_create_twice_is_success(void **state)
{
    (void)state;
    NEED_HARPERDB();
    struct err e = {0};
    assert_int_equal(harper_create_schema(hdb, schema, &e), 0);
    for (int i = 0; i < 2; i++) {
        assert_int_equal(harper_create_table(hdb, schema, "ddl", "id", &e), 0);
        assert_int_equal(harper_create_attribute(hdb, schema, "ddl", "name", &e), 0);
    }
    json_t *d = NULL;
    assert_int_equal(harper_describe_table(hdb, schema, "ddl", &d, &e), 0);
    assert_string_equal(json_string_value(json_object_get(d, "hash_attribute")), "id");
    assert_string_equal(json_string_value(json_object_get(d, "name")), "ddl");
    assert_true(has_attribute(d, "id"));
    assert_true(has_attribute(d, "name"));
    json_decref(d);
}

/* Underneath, a second create is HarperDB's "already exists", which is a conflict. */
static void test_raw_create_again_is_conflict(void **state)
{
    (void)state;
    NEED_HARPERDB();
    make_table("dup");
    json_t *op = json_pack("{s:s, s:s, s:s, s:s}", "operation", "create_table", "schema", schema, "table", "dup",
                           "hash_attribute", "id");
    struct err e = {0};
    json_t *r = (json_t *)1;
    assert_int_equal(harper_op(hdb, op, &r, &e), ERR_CONFLICT);
    assert_null(r);
    assert_non_null(strstr(e.msg, "harperdb create_table: "));
    assert_non_null(strstr(e.msg, "already exists"));
    json_decref(op);
}

static void test_describe_missing_is_not_found(void **state)
{
    (void)state;
    NEED_HARPERDB();
    struct err e = {0};
    json_t *d = (json_t *)1;
    assert_int_equal(harper_describe_table(hdb, schema, "no_such_table", &d, &e), ERR_NOT_FOUND);
    assert_null(d);
    assert_int_equal(e.code, ERR_NOT_FOUND);
    assert_non_null(strstr(e.msg, "does not exist"));
    char other[96];
    snprintf(other, sizeof(other), "%s_missing", schema);
    assert_int_equal(harper_describe_table(hdb, other, "t", &d, &e), ERR_NOT_FOUND);
    assert_null(d);
}

/* HarperDB 4.7 answers this with a 500; the client still says "not found". */
static void test_create_attribute_on_missing_table_is_not_found(void **state)
{
    (void)state;
    NEED_HARPERDB();
    struct err e = {0};
    assert_int_equal(harper_create_attribute(hdb, schema, "no_such_table", "x", &e), ERR_NOT_FOUND);
    assert_non_null(strstr(e.msg, "does not exist"));
}

static void test_upsert_then_search_by_hash(void **state)
{
    (void)state;
    NEED_HARPERDB();
    make_table("people");
    struct err e = {0};
    json_t *recs = json_pack("[{s:s, s:s, s:i}, {s:s, s:s, s:{s:[i,i]}}]", "id", "a", "name", "Ann", "version", 1, "id",
                             "b", "name", "Bo", "sheet", "scores", 15, 14);
    assert_int_equal(harper_upsert(hdb, schema, "people", recs, &e), 0);
    json_decref(recs);

    json_t *ids = json_pack("[s, s]", "b", "nobody"), *found = NULL;
    assert_int_equal(harper_search_by_hash(hdb, schema, "people", ids, &found, &e), 0);
    assert_true(json_is_array(found));
    assert_int_equal(json_array_size(found), 1);
    json_t *b = find_id(found, "b");
    assert_non_null(b);
    assert_string_equal(json_string_value(json_object_get(b, "name")), "Bo");
    assert_int_equal(json_integer_value(json_array_get(json_object_get(json_object_get(b, "sheet"), "scores"), 1)), 14);
    assert_true(json_is_number(json_object_get(b, "__updatedtime__")));
    json_decref(found);
    json_decref(ids);

    /* upsert again: the last write wins */
    recs = json_pack("[{s:s, s:s, s:i}]", "id", "a", "name", "Anna", "version", 2);
    assert_int_equal(harper_upsert(hdb, schema, "people", recs, &e), 0);
    json_decref(recs);
    ids = json_pack("[s]", "a");
    assert_int_equal(harper_search_by_hash(hdb, schema, "people", ids, &found, &e), 0);
    assert_int_equal(json_array_size(found), 1);
    assert_string_equal(json_string_value(json_object_get(json_array_get(found, 0), "name")), "Anna");
    assert_int_equal(json_integer_value(json_object_get(json_array_get(found, 0), "version")), 2);
    json_decref(found);
    json_decref(ids);

    /* nothing asked, nothing found */
    ids = json_array();
    assert_int_equal(harper_search_by_hash(hdb, schema, "people", ids, &found, &e), 0);
    assert_int_equal(json_array_size(found), 0);
    json_decref(found);
    json_decref(ids);
}

static void test_insert_skips_existing_ids(void **state)
{
    (void)state;
    NEED_HARPERDB();
    make_table("locks");
    struct err e = {0};
    size_t n = 99;
    json_t *recs = json_pack("[{s:s, s:s}]", "id", "lock", "owner", "first");
    assert_int_equal(harper_insert(hdb, schema, "locks", recs, &n, &e), 0);
    assert_int_equal(n, 1);
    json_decref(recs);

    recs = json_pack("[{s:s, s:s}, {s:s, s:s}]", "id", "lock", "owner", "second", "id", "other", "owner", "second");
    assert_int_equal(harper_insert(hdb, schema, "locks", recs, &n, &e), 0);
    assert_int_equal(n, 1);
    assert_int_equal(harper_insert(hdb, schema, "locks", recs, &n, &e), 0);
    assert_int_equal(n, 0);
    assert_int_equal(harper_insert(hdb, schema, "locks", recs, NULL, &e), 0);
    json_decref(recs);

    json_t *ids = json_pack("[s]", "lock"), *found = NULL;
    assert_int_equal(harper_search_by_hash(hdb, schema, "locks", ids, &found, &e), 0);
    assert_string_equal(json_string_value(json_object_get(json_array_get(found, 0), "owner")), "first");
    json_decref(found);
    json_decref(ids);
}

static void test_delete_removes_records(void **state)
{
    (void)state;
    NEED_HARPERDB();
    make_table("gone");
    struct err e = {0};
    json_t *recs = json_pack("[{s:s}, {s:s}, {s:s}]", "id", "x", "id", "y", "id", "z");
    assert_int_equal(harper_upsert(hdb, schema, "gone", recs, &e), 0);
    json_decref(recs);

    json_t *ids = json_pack("[s, s]", "x", "y"), *found = NULL;
    assert_int_equal(harper_delete(hdb, schema, "gone", ids, &e), 0);
    assert_int_equal(harper_delete(hdb, schema, "gone", ids, &e), 0); /* deleting again is harmless */
    assert_int_equal(harper_search_by_hash(hdb, schema, "gone", ids, &found, &e), 0);
    assert_int_equal(json_array_size(found), 0);
    json_decref(found);
    json_decref(ids);

    assert_int_equal(harper_all(hdb, schema, "gone", "id", &found, &e), 0);
    assert_int_equal(json_array_size(found), 1);
    assert_non_null(find_id(found, "z"));
    json_decref(found);

    /* never an empty list or a null id: refused before anything is sent */
    ids = json_array();
    assert_int_equal(harper_delete(hdb, schema, "gone", ids, &e), ERR_INVALID);
    json_array_append_new(ids, json_null());
    assert_int_equal(harper_delete(hdb, schema, "gone", ids, &e), ERR_INVALID);
    json_decref(ids);
    assert_int_equal(harper_all(hdb, schema, "gone", "id", &found, &e), 0);
    assert_int_equal(json_array_size(found), 1);
    json_decref(found);
}

static void test_all_returns_every_record(void **state)
{
    (void)state;
    NEED_HARPERDB();
    make_table("many");
    struct err e = {0};
    json_t *found = NULL;
    assert_int_equal(harper_all(hdb, schema, "many", "id", &found, &e), 0);
    assert_int_equal(json_array_size(found), 0);
    json_decref(found);

    json_t *recs = json_array();
    char id[16];
    for (int i = 0; i < 250; i++) {
        snprintf(id, sizeof(id), "r%03d", i);
        json_array_append_new(recs, json_pack("{s:s, s:i}", "id", id, "n", i));
    }
    assert_int_equal(harper_upsert(hdb, schema, "many", recs, &e), 0);
    json_decref(recs);
    assert_int_equal(harper_all(hdb, schema, "many", "id", &found, &e), 0);
    assert_int_equal(json_array_size(found), 250);
    json_t *r = find_id(found, "r123");
    assert_non_null(r);
    assert_int_equal(json_integer_value(json_object_get(r, "n")), 123);
    json_decref(found);

    assert_int_equal(harper_all(hdb, schema, "no_such_table", "id", &found, &e), ERR_NOT_FOUND);
    assert_null(found);
}

static void test_drop_twice_is_success(void **state)
{
    (void)state;
    NEED_HARPERDB();
    make_table("dropme");
    struct err e = {0};
    assert_int_equal(harper_create_attribute(hdb, schema, "dropme", "old", &e), 0);
    for (int i = 0; i < 2; i++)
        assert_int_equal(harper_drop_attribute(hdb, schema, "dropme", "old", &e), 0);
    json_t *d = NULL;
    assert_int_equal(harper_describe_table(hdb, schema, "dropme", &d, &e), 0);
    assert_false(has_attribute(d, "old"));
    json_decref(d);

    for (int i = 0; i < 2; i++) {
        assert_int_equal(harper_drop_table(hdb, schema, "dropme", &e), 0);
        assert_int_equal(e.code, 0);
    }
    assert_int_equal(harper_describe_table(hdb, schema, "dropme", &d, &e), ERR_NOT_FOUND);
    assert_int_equal(harper_drop_attribute(hdb, schema, "dropme", "old", &e), 0); /* table gone too */
    char other[96];
    snprintf(other, sizeof(other), "%s_missing", schema);
    assert_int_equal(harper_drop_table(hdb, other, "t", &e), 0); /* schema gone too */
}

/* "Operation 'x' not found" is a bad request, not a missing object; so is a missing field. */
static void test_unknown_operation_is_invalid(void **state)
{
    (void)state;
    NEED_HARPERDB();
    json_t *op = json_pack("{s:s}", "operation", "no_such_operation");
    struct err e = {0};
    assert_int_equal(harper_op(hdb, op, NULL, &e), ERR_INVALID);
    assert_non_null(strstr(e.msg, "harperdb no_such_operation: "));
    json_decref(op);
    op = json_pack("{s:s}", "schema", schema);
    assert_int_equal(harper_op(hdb, op, NULL, &e), ERR_INVALID);
    json_decref(op);
    /* 4.7 answers a missing field here with a 500, which a retry cannot mend */
    make_table("fields");
    op = json_pack("{s:s, s:s, s:s, s:[s]}", "operation", "search_by_hash", "schema", schema, "table", "fields",
                   "hash_values", "a");
    assert_int_equal(harper_op(hdb, op, NULL, &e), ERR_INVALID);
    assert_non_null(strstr(e.msg, "'get_attributes' is required"));
    json_decref(op);
}

static void test_wrong_password_is_invalid_and_not_quoted(void **state)
{
    (void)state;
    NEED_HARPERDB();
    char wrong[64];
    snprintf(wrong, sizeof(wrong), "wrong-%ld-%d", (long)getpid(), rand());
    struct harper *h = client(uri, wrong, 0, 0);
    struct err e = {0};
    json_t *op = json_pack("{s:s}", "operation", "describe_all"), *r = (json_t *)1;
    assert_int_equal(harper_op(h, op, &r, &e), ERR_INVALID);
    assert_null(r);
    assert_non_null(strstr(e.msg, "harperdb describe_all: "));
    assert_null(strstr(e.msg, wrong));
    if (password != NULL && password[0] != '\0')
        assert_null(strstr(e.msg, password));
    json_decref(op);
    harper_close(h);
}

/* A port nothing listens on: unavailable at once, well inside the connect timeout. */
static void test_closed_port_is_unavailable_quickly(void **state)
{
    (void)state;
    NEED_HARPERDB();
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof(a);
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
    close(fd); /* bound, never listened: the port is closed */
    char u[64];
    snprintf(u, sizeof(u), "http://127.0.0.1:%d", ntohs(a.sin_port));

    struct harper *h = client(u, "secret-never-shown", 500, 5000);
    struct err e = {0};
    json_t *op = json_pack("{s:s}", "operation", "describe_all");
    double t0 = now_s();
    assert_int_equal(harper_op(h, op, NULL, &e), ERR_UNAVAILABLE);
    assert_true(now_s() - t0 < 1.0);
    assert_non_null(strstr(e.msg, "harperdb describe_all: "));
    assert_null(strstr(e.msg, "secret-never-shown"));
    json_decref(op);
    harper_close(h);
}

/* A server that accepts (the kernel does, into the backlog) and never answers. */
static void test_silent_server_times_out(void **state)
{
    (void)state;
    NEED_HARPERDB();
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof(a);
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    assert_int_equal(listen(fd, 4), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
    char u[64];
    snprintf(u, sizeof(u), "http://127.0.0.1:%d", ntohs(a.sin_port));

    struct harper *h = client(u, password, 1000, 300);
    struct err e = {0};
    json_t *op = json_pack("{s:s}", "operation", "describe_all");
    double t0 = now_s();
    assert_int_equal(harper_op(h, op, NULL, &e), ERR_UNAVAILABLE);
    double took = now_s() - t0;
    assert_true(took >= 0.25);
    assert_true(took < 2.0);
    assert_non_null(strstr(e.msg, "300 ms"));
    json_decref(op);
    harper_close(h);
    close(fd);
}

static void test_open_checks_the_uri(void **state)
{
    (void)state;
    NEED_HARPERDB();
    struct harper *h = (struct harper *)1;
    struct err e = {0};
    struct harper_options o = {.uri = "ftp://127.0.0.1:1"};
    assert_int_equal(harper_open(&o, &h, &e), ERR_INVALID);
    assert_null(h);
    o.uri = "127.0.0.1:9925";
    assert_int_equal(harper_open(&o, &h, &e), ERR_INVALID);
    o.uri = "http://";
    assert_int_equal(harper_open(&o, &h, &e), ERR_INVALID);
    o.uri = "HTTP://127.0.0.1:9925";
    assert_int_equal(harper_open(&o, &h, &e), 0);
    harper_close(h);
    harper_close(NULL);
}

int main(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_create_twice_is_success),
        cmocka_unit_test(test_raw_create_again_is_conflict),
        cmocka_unit_test(test_describe_missing_is_not_found),
        cmocka_unit_test(test_create_attribute_on_missing_table_is_not_found),
        cmocka_unit_test(test_upsert_then_search_by_hash),
        cmocka_unit_test(test_insert_skips_existing_ids),
        cmocka_unit_test(test_delete_removes_records),
        cmocka_unit_test(test_all_returns_every_record),
        cmocka_unit_test(test_drop_twice_is_success),
        cmocka_unit_test(test_unknown_operation_is_invalid),
        cmocka_unit_test(test_wrong_password_is_invalid_and_not_quoted),
        cmocka_unit_test(test_closed_port_is_unavailable_quickly),
        cmocka_unit_test(test_silent_server_times_out),
        cmocka_unit_test(test_open_checks_the_uri),
    };
    int failed = cmocka_run_group_tests(tests, group_setup, group_teardown);
    curl_global_cleanup();
    if (failed == 0 && uri == NULL)
        return 77; /* nothing ran: automake's "skipped" */
    return failed;
}
