/*
 * tests/sync/test_sync.c - end-to-end tests of the HarperDB write-through: the
 * real character-server (tests/e2e/harness.h) against a real HarperDB named by
 * HARPERDB_URI, HARPERDB_USER and HARPERDB_PASSWORD, with the tcpproxy
 * (tests/tools/tcpproxy.h) between them where a test breaks the link. HarperDB
 * is checked directly with the storage/harper.h client, a server's SQLite file
 * directly with sqlite3 (read-only). Each test starts its own servers in fresh
 * temporary folders and stops them in its teardown.
 *
 * HarperDB is shared with other suites and runs: nothing here drops a schema
 * or table, and every record a test makes carries a random name prefix
 * ("sync-<random>-<test>-") or an id it made, so counts only ever count ours.
 * Without HARPERDB_URI every test is skipped (and the program exits 77).
 *
 * Every wait is a bounded poll; a failure says what was expected and what was
 * seen. Timings are printed on stderr ("sync: ...") for the record.
 * SYNC_TEST_FILTER="test_kill9*" runs only the tests whose names match.
 *
 * 1 create is synced to HarperDB; 2 pulls bring HarperDB updates and deletes;
 * 3 two instances see each other's writes; 4 500 writes with HarperDB cut are
 * queued and drain; 5 kill -9 under load loses no acknowledged write; 6 no
 * worker stalls while HarperDB hangs or is slow; 7 an instance catches up on
 * a backlog of more than one pull page; 8 an update and a delete made on
 * instance A (through its store, as its workers write) reach HarperDB and
 * instance B, list columns (race, class, level) and roll nonce included; 9
 * outbox rows of other resources (equipment) land in their own table; 10 an
 * equipment item and a campaign written on instance A reach instance B by
 * pulling and by read-through, updates and deletes included; 11 an instance
 * that has not pulled them yet accepts writes on rows another instance wrote
 * (PUT and DELETE of a character, campaign actions with a custom item, a
 * campaign for such a character), reading each row through from HarperDB.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
/* clang-format off */
#include <cmocka.h>
/* clang-format on */

#include <curl/curl.h>
#include <errno.h>
#include <jansson.h>
#include <pthread.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "storage/harper.h"
#include "storage/outbox.h"
#include "storage/store.h"
#include "tests/e2e/harness.h"
#include "tests/tools/tcpproxy.h"

#define SCHEMA "dungeonmaster"
#define TABLE "characters"
#define ID_MAX 64

static const char *hdb_uri, *hdb_user, *hdb_password;
static int hdb_port;     /* HarperDB's loopback port, the proxy's target */
static char run_tag[16]; /* random hex: this run's name prefix */

static struct harness_server srv_a, srv_b; /* a test's servers; removed by teardown */
static struct tcpproxy proxy;              /* a test's proxy; stopped by teardown */
static struct harper *hdb;                 /* a direct client to HarperDB */

/* Skip the calling test unless a HarperDB was given, saying how to get one. */
#define NEED_HARPERDB()                                                                                                \
    do {                                                                                                               \
        if (hdb_uri == NULL) {                                                                                         \
            fprintf(stderr, "HARPERDB_URI unset: start one with scripts/harperdb (scripts/test does)\n");              \
            skip();                                                                                                    \
        }                                                                                                              \
    } while (0)

/* ---------------------------------------------------------------- time */

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

/* RFC 3339 UTC with milliseconds, `offset_ms` from now, as the server writes them. */
static void rfc3339_from_now(char out[32], long offset_ms)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    long long ms = (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000 + offset_ms;
    time_t secs = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&secs, &tm);
    size_t n = strftime(out, 32, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(out + n, 32 - n, ".%03dZ", (int)(ms % 1000));
}

/* A random version-4 UUID (lower-case hex), as the server makes ids. */
static void random_uuid(char out[ID_MAX])
{
    char hex[33];
    if (harness_random_hex(hex, 16) != 0)
        fail_msg("cannot read /dev/urandom");
    hex[12] = '4';
    hex[16] = "89ab"[(hex[16] - '0') & 3];
    snprintf(out, ID_MAX, "%.8s-%.4s-%.4s-%.4s-%.12s", hex, hex + 8, hex + 12, hex + 16, hex + 20);
}

/* ---------------------------------------------------------------- fixtures */

static int group_setup(void **state)
{
    (void)state;
    const char *u = getenv("HARPERDB_URI");
    if (u == NULL || u[0] == '\0')
        return 0;
    hdb_uri = u;
    hdb_user = getenv("HARPERDB_USER");
    hdb_password = getenv("HARPERDB_PASSWORD");
    const char *colon = strrchr(hdb_uri, ':');
    hdb_port = colon != NULL ? atoi(colon + 1) : 0;
    if (hdb_port <= 0 || hdb_port > 65535) {
        fprintf(stderr, "sync: HARPERDB_URI %s has no port the proxy could forward to\n", hdb_uri);
        return -1;
    }
    if (harness_random_hex(run_tag, 4) != 0)
        return -1;
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    harness_server_cleanup(&srv_b);
    harness_server_cleanup(&srv_a);
    tcpproxy_stop(&proxy);
    harper_close(hdb);
    hdb = NULL;
    return 0;
}

/* Open the direct HarperDB client for this test. */
static void hdb_connect(void)
{
    struct harper_options o = {
        .uri = hdb_uri, .user = hdb_user, .password = hdb_password, .connect_timeout_ms = 2000, .timeout_ms = 15000};
    struct err e = {0};
    if (harper_open(&o, &hdb, &e) != 0)
        fail_msg("cannot open a HarperDB client for %s: %s", hdb_uri, e.msg);
}

/* The last `max` bytes of a server's log, for failure messages (static buffer). */
static const char *log_tail(const struct harness_server *s, size_t max)
{
    static char buf[4096];
    char *log = harness_server_log(s);
    const char *t = log != NULL ? log : "(no log)";
    size_t len = strlen(t);
    if (max > sizeof(buf) - 1)
        max = sizeof(buf) - 1;
    snprintf(buf, sizeof(buf), "%s", len > max ? t + len - max : t);
    free(log);
    return buf;
}

/*
 * Start a server writing through to `db_uri` (NULL: HarperDB itself), pulling
 * every pull_ms, waiting write_ms for HarperDB; `database` (may be NULL) makes
 * it use that SQLite file instead of one in its own folder.
 */
static void start_server(struct harness_server *s, const char *db_uri, int pull_ms, int write_ms, const char *database)
{
    char e_uri[300], e_user[200], e_pass[200], e_pull[64], e_write[64];
    snprintf(e_uri, sizeof(e_uri), "DB_URI=%s", db_uri != NULL ? db_uri : hdb_uri);
    snprintf(e_user, sizeof(e_user), "DB_USER=%s", hdb_user != NULL ? hdb_user : "");
    snprintf(e_pass, sizeof(e_pass), "DB_PASSWORD=%s", hdb_password != NULL ? hdb_password : "");
    snprintf(e_pull, sizeof(e_pull), "CHARACTER_SYNC_PULL_INTERVAL=%d", pull_ms);
    snprintf(e_write, sizeof(e_write), "CHARACTER_SYNC_WRITE_TIMEOUT=%d", write_ms);
    const char *env[] = {e_uri, e_user, e_pass, e_pull, e_write, NULL};
    const char *args[] = {"--database", database, NULL};
    struct harness_options o = {.workers = 2, .env = env, .args = database != NULL ? args : NULL};
    char why[4096];
    if (harness_server_start(s, &o, why, sizeof(why)) != 0)
        fail_msg("cannot start a server writing through to %s: %s", db_uri != NULL ? db_uri : hdb_uri, why);
}

/* The SQLite file of a server started without `database`. */
static void db_path(const struct harness_server *s, char *out, size_t outlen)
{
    snprintf(out, outlen, "%s/test.db", s->dir);
}

/* Start the proxy in front of HarperDB; returns its URI in uri. */
static void start_proxy(char *uri, size_t urilen)
{
    char bin[PATH_MAX];
    tcpproxy_binary(bin, sizeof(bin));
    if (access(bin, X_OK) != 0)
        fail_msg("no tcpproxy program at %s (make tests/tools/tcpproxy; set top_builddir)", bin);
    if (tcpproxy_start(&proxy, bin, hdb_port) != 0)
        fail_msg("cannot start the tcpproxy in front of port %d: %s", hdb_port, proxy.error);
    snprintf(uri, urilen, "http://127.0.0.1:%d", proxy.port);
}

static void proxy_mode(const char *cmd)
{
    char reply[256];
    if (tcpproxy_command(&proxy, cmd, reply, sizeof(reply)) != 0)
        fail_msg("tcpproxy \"%s\" failed: %s", cmd, proxy.error);
}

/* ---------------------------------------------------------------- HTTP */

struct created {
    long status;     /* 0: no response */
    char sync[32];   /* Sync-Status, "" when absent */
    char id[ID_MAX]; /* from the body */
    char name[128];  /* as sent */
    double ms;       /* latency */
    char error[160]; /* transport error or unexpected body */
};

/* POST a valid build named `name` to s with client c (NULL: a fresh connection); fills *out, never fails the test. */
static void post_character(struct http_client *c, const struct harness_server *s, const char *name, struct created *out)
{
    memset(out, 0, sizeof(*out));
    snprintf(out->name, sizeof(out->name), "%s", name);
    char url[128], auth[128], body[1024];
    snprintf(url, sizeof(url), "%s/v1/characters", s->base_url);
    snprintf(auth, sizeof(auth), "Authorization: Bearer %s", s->write_token);
    /* A complete, valid build (API.md's example): the server validates every create. */
    snprintf(body, sizeof(body),
             "{\"name\":\"%s\",\"race\":\"dwarf\",\"subrace\":\"hill-dwarf\",\"class\":\"cleric\","
             "\"subclass\":\"life\",\"background\":\"acolyte\",\"alignment\":\"lawful-good\",\"level\":1,"
             "\"ability_scores\":{\"method\":\"standard_array\",\"assign\":{\"str\":13,\"dex\":8,\"con\":14,"
             "\"int\":10,\"wis\":15,\"cha\":12}},\"skills\":[\"history\",\"medicine\"],"
             "\"languages\":[\"giant\",\"elvish\"],\"choices\":{\"tool\":\"smiths-tools\"}}",
             name);
    const char *h[] = {auth, "Content-Type: application/json", NULL};
    struct http_response r;
    double t0 = now_s();
    int rc = c != NULL ? http_client_request(c, "POST", url, h, body, strlen(body), &r)
                       : http_request("POST", url, h, body, strlen(body), &r);
    out->ms = (now_s() - t0) * 1000.0;
    if (rc != 0) {
        snprintf(out->error, sizeof(out->error), "%.150s", r.error);
        http_response_release(&r);
        return;
    }
    out->status = r.status;
    http_response_header(&r, "sync-status", out->sync, sizeof(out->sync));
    json_t *j = harness_json(&r);
    const char *id = json_string_value(json_object_get(j, "id"));
    if (id != NULL)
        snprintf(out->id, sizeof(out->id), "%s", id);
    else
        snprintf(out->error, sizeof(out->error), "body: %.120s", r.body);
    json_decref(j);
    http_response_release(&r);
}

/* Create a character and insist on 201 with this Sync-Status (NULL: any); its id into id, latency into *ms. */
static void create_expect(const struct harness_server *s, const char *name, const char *sync, char id[ID_MAX],
                          double *ms)
{
    struct created c;
    post_character(NULL, s, name, &c);
    if (c.status != 201 || c.id[0] == '\0')
        fail_msg("POST /v1/characters {\"name\":\"%s\"}: expected 201 with an id, got %ld (%s)", name, c.status,
                 c.error);
    if (sync != NULL && strcmp(c.sync, sync) != 0)
        fail_msg("POST /v1/characters {\"name\":\"%s\"}: expected Sync-Status: %s, got \"%s\" after %.0f ms; log:\n%s",
                 name, sync, c.sync, c.ms, log_tail(s, 1500));
    snprintf(id, ID_MAX, "%s", c.id);
    if (ms != NULL)
        *ms = c.ms;
}

/* GET /v1/characters/{id} on s; returns the status (0: no response) and the document in *doc (may be NULL). */
static long get_character(const struct harness_server *s, const char *id, json_t **doc)
{
    char url[160], auth[128];
    snprintf(url, sizeof(url), "%s/v1/characters/%s", s->base_url, id);
    snprintf(auth, sizeof(auth), "Authorization: Bearer %s", s->read_token);
    const char *h[] = {auth, NULL};
    struct http_response r;
    long status = http_request("GET", url, h, NULL, 0, &r) == 0 ? r.status : 0;
    if (doc != NULL)
        *doc = status == 200 ? harness_json(&r) : NULL;
    http_response_release(&r);
    return status;
}

/* The ETag a GET of `id` on s answers with, into out ("" when none). */
static void get_etag(const struct harness_server *s, const char *id, char *out, size_t outlen)
{
    char url[160], auth[128];
    snprintf(url, sizeof(url), "%s/v1/characters/%s", s->base_url, id);
    snprintf(auth, sizeof(auth), "Authorization: Bearer %s", s->read_token);
    const char *h[] = {auth, NULL};
    struct http_response r;
    out[0] = '\0';
    if (http_request("GET", url, h, NULL, 0, &r) == 0 && r.status == 200)
        http_response_header(&r, "etag", out, outlen);
    http_response_release(&r);
}

/* GET a public path's status and time in ms (fresh connection). */
static long get_timed(const struct harness_server *s, const char *path, double *ms)
{
    char url[160];
    snprintf(url, sizeof(url), "%s%s", s->base_url, path);
    struct http_response r;
    double t0 = now_s();
    long status = http_request("GET", url, NULL, NULL, 0, &r) == 0 ? r.status : 0;
    *ms = (now_s() - t0) * 1000.0;
    http_response_release(&r);
    return status;
}

struct readyz {
    long http;
    char status[32], harper[32];
    long long depth;
    int has_last_sync; /* last_sync is a string */
    char raw[512];
};

static void get_readyz(const struct harness_server *s, struct readyz *out)
{
    memset(out, 0, sizeof(*out));
    out->depth = -1;
    char url[160];
    snprintf(url, sizeof(url), "%s/readyz", s->base_url);
    struct http_response r;
    if (http_request("GET", url, NULL, NULL, 0, &r) != 0) {
        snprintf(out->raw, sizeof(out->raw), "(no response: %s)", r.error);
        http_response_release(&r);
        return;
    }
    out->http = r.status;
    snprintf(out->raw, sizeof(out->raw), "%ld %.480s", r.status, r.body);
    json_t *j = harness_json(&r);
    snprintf(out->status, sizeof(out->status), "%s", json_string_value(json_object_get(j, "status")) ?: "");
    snprintf(out->harper, sizeof(out->harper), "%s", json_string_value(json_object_get(j, "harperdb")) ?: "");
    json_t *depth = json_object_get(json_object_get(j, "outbox"), "depth");
    if (json_is_integer(depth))
        out->depth = json_integer_value(depth);
    out->has_last_sync = json_is_string(json_object_get(j, "last_sync"));
    json_decref(j);
    http_response_release(&r);
}

/* Poll /readyz until harperdb is "ok" (and, when want_depth >= 0, the outbox depth is want_depth). */
static double wait_readyz_ok(const struct harness_server *s, long long want_depth, double timeout_s, const char *what)
{
    double t0 = now_s();
    struct readyz z;
    for (;;) {
        get_readyz(s, &z);
        if (z.http == 200 && strcmp(z.harper, "ok") == 0 && (want_depth < 0 || z.depth == want_depth))
            return now_s() - t0;
        if (now_s() - t0 > timeout_s)
            fail_msg("%s: expected /readyz with harperdb \"ok\"%s within %.0f s; last seen: %s; log:\n%s", what,
                     want_depth >= 0 ? " and outbox depth 0" : "", timeout_s, z.raw, log_tail(s, 1500));
        sleep_ms(50);
    }
}

/* ---------------------------------------------------------------- HarperDB, SQLite */

/* The HarperDB record with this id (new reference) or NULL; fails the test when HarperDB errs. */
static json_t *hdb_record(const char *id)
{
    json_t *ids = json_pack("[s]", id), *found = NULL;
    struct err e = {0};
    int rc = harper_search_by_hash(hdb, SCHEMA, TABLE, ids, &found, &e);
    json_decref(ids);
    if (rc != 0)
        fail_msg("search_by_hash %s.%s [%s]: %s", SCHEMA, TABLE, id, e.msg);
    json_t *rec = json_array_size(found) > 0 ? json_incref(json_array_get(found, 0)) : NULL;
    json_decref(found);
    return rec;
}

/* How many of ids[0..n) HarperDB holds (in chunks); the first one missing into missing (may be NULL). -1 on error. */
static long hdb_count_present(char (*ids)[ID_MAX], size_t n, char *missing, size_t missinglen, char *why, size_t whylen)
{
    long present = 0;
    if (missing != NULL && missinglen > 0)
        missing[0] = '\0';
    for (size_t at = 0; at < n; at += 250) {
        size_t k = n - at < 250 ? n - at : 250;
        json_t *arr = json_array();
        for (size_t i = 0; i < k; i++)
            json_array_append_new(arr, json_string(ids[at + i]));
        json_t *found = NULL;
        struct err e = {0};
        int rc = harper_search_by_hash(hdb, SCHEMA, TABLE, arr, &found, &e);
        json_decref(arr);
        if (rc != 0) {
            snprintf(why, whylen, "search_by_hash: %.200s", e.msg);
            return -1;
        }
        for (size_t i = 0; i < k; i++) {
            int hit = 0;
            size_t x;
            json_t *rec;
            json_array_foreach(found, x, rec)
            {
                const char *rid = json_string_value(json_object_get(rec, "id"));
                if (rid != NULL && strcmp(rid, ids[at + i]) == 0) {
                    hit = 1;
                    break;
                }
            }
            present += hit;
            if (!hit && missing != NULL && missing[0] == '\0')
                snprintf(missing, missinglen, "%s", ids[at + i]);
        }
        json_decref(found);
    }
    return present;
}

/* How many HarperDB records have a name starting with prefix; -1 on error (why set). */
static long hdb_count_names(const char *prefix, char *why, size_t whylen)
{
    char pattern[128];
    snprintf(pattern, sizeof(pattern), "%s*", prefix);
    json_t *op = json_pack("{s:s, s:s, s:s, s:s, s:s, s:[s]}", "operation", "search_by_value", "schema", SCHEMA,
                           "table", TABLE, "search_attribute", "name", "search_value", pattern, "get_attributes", "id");
    json_t *found = NULL;
    struct err e = {0};
    int rc = harper_op(hdb, op, &found, &e);
    json_decref(op);
    if (rc != 0) {
        snprintf(why, whylen, "search_by_value name=%.60s: %.150s", pattern, e.msg);
        return -1;
    }
    long n = json_is_array(found) ? (long)json_array_size(found) : -1;
    json_decref(found);
    return n;
}

/* Upsert one record straight into HarperDB, as another writer would. */
static void hdb_upsert(json_t *rec)
{
    json_t *recs = json_pack("[O]", rec);
    struct err e = {0};
    int rc = harper_upsert(hdb, SCHEMA, TABLE, recs, &e);
    json_decref(recs);
    if (rc != 0)
        fail_msg("upsert into %s.%s: %s", SCHEMA, TABLE, e.msg);
}

/* A character document as another instance would have written it, with a fresh id. */
static json_t *foreign_record(const char *name, char id[ID_MAX])
{
    char now[32];
    random_uuid(id);
    rfc3339_from_now(now, 0);
    return json_pack("{s:s, s:i, s:s, s:s, s:s, s:i, s:{s:s}, s:s}", "id", id, "version", 1, "created_at", now,
                     "updated_at", now, "name", name, "level", 1, "build", "name", name, "instance",
                     "sync-test-foreign");
}

/* Open a server's SQLite file read-only (fails the test when it cannot). */
static sqlite3 *sql_open(const char *path)
{
    char uri[PATH_MAX + 32];
    snprintf(uri, sizeof(uri), "file:%s?mode=ro", path);
    sqlite3 *db = NULL;
    if (sqlite3_open_v2(uri, &db, SQLITE_OPEN_READONLY | SQLITE_OPEN_URI, NULL) != SQLITE_OK) {
        char msg[256];
        snprintf(msg, sizeof(msg), "%s", db != NULL ? sqlite3_errmsg(db) : "out of memory");
        sqlite3_close(db);
        fail_msg("cannot open %s read-only: %s", path, msg);
    }
    sqlite3_busy_timeout(db, 5000);
    return db;
}

/* How many of ids[0..n) the characters table of `path` holds; the first missing into missing. -1 on error. */
static long sql_count_present(const char *path, char (*ids)[ID_MAX], size_t n, char *missing, size_t missinglen,
                              char *why, size_t whylen)
{
    sqlite3 *db = sql_open(path);
    sqlite3_stmt *st = NULL;
    long present = 0;
    if (missing != NULL && missinglen > 0)
        missing[0] = '\0';
    if (sqlite3_prepare_v2(db, "SELECT 1 FROM characters WHERE id = ?1", -1, &st, NULL) != SQLITE_OK) {
        snprintf(why, whylen, "%.100s: %.100s", path, sqlite3_errmsg(db));
        sqlite3_close(db);
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        sqlite3_bind_text(st, 1, ids[i], -1, SQLITE_STATIC);
        int rc = sqlite3_step(st);
        if (rc == SQLITE_ROW)
            present++;
        else if (rc == SQLITE_DONE) {
            if (missing != NULL && missing[0] == '\0')
                snprintf(missing, missinglen, "%s", ids[i]);
        } else {
            snprintf(why, whylen, "%.100s: %.100s", path, sqlite3_errmsg(db));
            present = -1;
            break;
        }
        sqlite3_reset(st);
    }
    sqlite3_finalize(st);
    sqlite3_close(db);
    return present;
}

/* One integer from a query on `path` (read-only); -1 on error. */
static long long sql_int(const char *path, const char *sql, const char *arg)
{
    sqlite3 *db = sql_open(path);
    sqlite3_stmt *st = NULL;
    long long v = -1;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK) {
        if (arg != NULL)
            sqlite3_bind_text(st, 1, arg, -1, SQLITE_STATIC);
        if (sqlite3_step(st) == SQLITE_ROW)
            v = sqlite3_column_int64(st, 0);
    }
    sqlite3_finalize(st);
    sqlite3_close(db);
    return v;
}

/* 1 when the SQLite file at path has a character with this id. */
static int sql_has(const char *path, const char *id)
{
    return sql_int(path, "SELECT count(*) FROM characters WHERE id = ?1", id) == 1;
}

/* Poll until the SQLite file at path has id; returns seconds waited, or -1 on timeout. */
static double wait_sql_has(const char *path, const char *id, double timeout_s)
{
    double t0 = now_s();
    for (;;) {
        if (sql_has(path, id))
            return now_s() - t0;
        if (now_s() - t0 > timeout_s)
            return -1;
        sleep_ms(20);
    }
}

/* ---------------------------------------------------------------- 1. create is synced */

static void test_create_synced(void **state)
{
    (void)state;
    NEED_HARPERDB();
    hdb_connect();
    start_server(&srv_a, NULL, 1000, 2000, NULL);
    double ready = wait_readyz_ok(&srv_a, -1, 20, "fresh server");
    char name[96], id[ID_MAX];
    snprintf(name, sizeof(name), "sync-%s-1-Thorin", run_tag);
    double ms;
    create_expect(&srv_a, name, "synced", id, &ms);
    fprintf(stderr, "sync: ready %.2f s after start; synced create took %.0f ms\n", ready, ms);

    json_t *rec = hdb_record(id);
    if (rec == NULL)
        fail_msg("HarperDB has no record %s right after a 201 with Sync-Status: synced", id);
    if (strcmp(json_string_value(json_object_get(rec, "name")) ?: "", name) != 0 ||
        json_integer_value(json_object_get(rec, "version")) != 1 ||
        strcmp(json_string_value(json_object_get(rec, "id")) ?: "", id) != 0) {
        char *t = json_dumps(rec, JSON_COMPACT);
        fail_msg("HarperDB record for %s: expected name %s, version 1; got %s", id, name, t);
    }
    if (!json_is_string(json_object_get(rec, "instance")) || !json_is_number(json_object_get(rec, "__updatedtime__")))
        fail_msg("HarperDB record for %s lacks \"instance\" or __updatedtime__", id);

    /* GET serves the same document HarperDB holds, minus HarperDB's and the sync's own fields. */
    json_t *doc = NULL;
    long st = get_character(&srv_a, id, &doc);
    if (st != 200)
        fail_msg("GET /v1/characters/%s: expected 200, got %ld", id, st);
    json_t *expect = json_deep_copy(rec);
    json_object_del(expect, "instance");
    json_object_del(expect, "__createdtime__");
    json_object_del(expect, "__updatedtime__");
    /* roll_nonce is the sync's own too (migration 0003): HarperDB answers null for a build without a roll id. */
    json_t *nonce = json_object_get(expect, "roll_nonce");
    if (nonce != NULL && !json_is_null(nonce))
        fail_msg("HarperDB record for %s (a standard-array build) has a roll_nonce", id);
    json_object_del(expect, "roll_nonce");
    if (!json_equal(expect, doc)) {
        /* Name the top-level fields that differ: whole documents are too long for one message. */
        char keys[512] = "";
        const char *k;
        json_t *v;
        json_object_foreach(expect, k, v)
        {
            if (!json_equal(v, json_object_get(doc, k)))
                snprintf(keys + strlen(keys), sizeof(keys) - strlen(keys), " %s", k);
        }
        json_object_foreach(doc, k, v)
        {
            if (json_object_get(expect, k) == NULL)
                snprintf(keys + strlen(keys), sizeof(keys) - strlen(keys), " +%s", k);
        }
        char *first = NULL, *second = NULL;
        const char *key = strtok(keys, " +");
        if (key != NULL) {
            first = json_dumps(json_object_get(expect, key), JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
            second = json_dumps(json_object_get(doc, key), JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
        }
        fail_msg("GET body differs from the HarperDB record in:%s; first, %s: HarperDB %.300s, GET %.300s", keys,
                 key ?: "?", first ?: "(absent)", second ?: "(absent)");
    }
    json_decref(expect);
    json_decref(doc);
    json_decref(rec);

    /* /readyz: harperdb ok, nothing queued, a last sync. The outbox count is published right after a push. */
    struct readyz z;
    double t0 = now_s();
    do {
        get_readyz(&srv_a, &z);
        if (z.http == 200 && strcmp(z.status, "ok") == 0 && strcmp(z.harper, "ok") == 0 && z.depth == 0 &&
            z.has_last_sync)
            break;
        sleep_ms(20);
    } while (now_s() - t0 < 2.0);
    if (!(z.http == 200 && strcmp(z.status, "ok") == 0 && strcmp(z.harper, "ok") == 0 && z.depth == 0 &&
          z.has_last_sync))
        fail_msg("after a synced create, expected /readyz 200 status ok, harperdb ok, outbox depth 0, last_sync "
                 "set; got %s",
                 z.raw);
}

/* ---------------------------------------------------------------- 2. pulls */

/*
 * A fresh server first pulls what HarperDB already holds. Write a record
 * straight into HarperDB and wait (bounded) until the server's SQLite has it:
 * from then on the server is caught up and pulls are steady-state. Returns
 * the seconds it took.
 */
static double wait_caught_up_id(const struct harness_server *s, const char *label, char id[ID_MAX])
{
    char name[96], path[PATH_MAX];
    snprintf(name, sizeof(name), "sync-%s-%s-sentinel", run_tag, label);
    json_t *rec = foreign_record(name, id);
    hdb_upsert(rec);
    json_decref(rec);
    db_path(s, path, sizeof(path));
    double took = wait_sql_has(path, id, 60);
    if (took < 0)
        fail_msg("a record written straight into HarperDB (%s) never reached the server's SQLite in 60 s by "
                 "pulling; log:\n%s",
                 id, log_tail(s, 1500));
    return took;
}

static double wait_caught_up(const struct harness_server *s, const char *label)
{
    char id[ID_MAX];
    return wait_caught_up_id(s, label, id);
}

static void test_pull_update_and_delete(void **state)
{
    (void)state;
    NEED_HARPERDB();
    hdb_connect();
    const int pull_ms = 500;
    const double bound = 2.0 * pull_ms / 1000.0 + 0.5; /* 2 pull intervals + slack */
    start_server(&srv_a, NULL, pull_ms, 2000, NULL);
    wait_readyz_ok(&srv_a, -1, 20, "fresh server");
    char name[96], id[ID_MAX], gone[ID_MAX];
    snprintf(name, sizeof(name), "sync-%s-2-Before", run_tag);
    create_expect(&srv_a, name, "synced", id, NULL);
    snprintf(name, sizeof(name), "sync-%s-2-Doomed", run_tag);
    create_expect(&srv_a, name, "synced", gone, NULL);
    double caught = wait_caught_up(&srv_a, "2");

    /* Update it in HarperDB: version 2, a new name, a later updated_at. */
    json_t *rec = hdb_record(id);
    if (rec == NULL)
        fail_msg("HarperDB has no record %s after a synced create", id);
    char newname[96], later[32];
    snprintf(newname, sizeof(newname), "sync-%s-2-After", run_tag);
    rfc3339_from_now(later, 1000);
    json_object_del(rec, "__createdtime__");
    json_object_del(rec, "__updatedtime__");
    json_object_set_new(rec, "version", json_integer(2));
    json_object_set_new(rec, "name", json_string(newname));
    json_object_set_new(rec, "updated_at", json_string(later));
    json_object_set_new(rec, "instance", json_string("sync-test-foreign"));
    hdb_upsert(rec);
    json_decref(rec);
    double t0 = now_s(), took = -1;
    json_t *doc = NULL;
    long st = 0;
    for (;;) {
        json_decref(doc);
        doc = NULL;
        st = get_character(&srv_a, id, &doc);
        if (st == 200 && json_integer_value(json_object_get(doc, "version")) == 2) {
            took = now_s() - t0;
            break;
        }
        if (now_s() - t0 > bound + 5)
            break;
        sleep_ms(20);
    }
    if (took < 0) {
        char *t = doc != NULL ? json_dumps(doc, JSON_COMPACT) : NULL;
        fail_msg("a HarperDB update (version 2) was not served within %.1f s (pull interval %d ms): GET gives %ld "
                 "%s",
                 bound + 5, pull_ms, st, t != NULL ? t : "");
    }
    if (strcmp(json_string_value(json_object_get(doc, "name")) ?: "", newname) != 0 ||
        strcmp(json_string_value(json_object_get(doc, "updated_at")) ?: "", later) != 0)
        fail_msg("after the pull, expected name %s and updated_at %s; got name %s, updated_at %s", newname, later,
                 json_string_value(json_object_get(doc, "name")),
                 json_string_value(json_object_get(doc, "updated_at")));
    if (json_object_get(doc, "instance") != NULL || json_object_get(doc, "__updatedtime__") != NULL)
        fail_msg("a pulled document is served with HarperDB's or the sync's own fields");
    json_decref(doc);
    fprintf(stderr, "sync: caught up in %.2f s; HarperDB update served after %.2f s (bound %.1f s)\n", caught, took,
            bound);
    if (took > bound)
        fail_msg("a HarperDB update took %.2f s to be served; expected within 2 pull intervals (%d ms) + slack = "
                 "%.1f s",
                 took, pull_ms, bound);

    /* Delete the other one in HarperDB: GET answers 404 within 2 pull intervals. */
    if (get_character(&srv_a, gone, NULL) != 200)
        fail_msg("GET %s: expected 200 before the delete", gone);
    json_t *ids = json_pack("[s]", gone);
    struct err e = {0};
    int rc = harper_delete(hdb, SCHEMA, TABLE, ids, &e);
    json_decref(ids);
    if (rc != 0)
        fail_msg("delete %s from HarperDB: %s", gone, e.msg);
    t0 = now_s();
    took = -1;
    for (;;) {
        st = get_character(&srv_a, gone, NULL);
        if (st == 404) {
            took = now_s() - t0;
            break;
        }
        if (now_s() - t0 > bound + 5)
            break;
        sleep_ms(20);
    }
    if (took < 0)
        fail_msg("a record deleted in HarperDB is still served after %.1f s (GET gives %ld; pull interval %d ms)",
                 bound + 5, st, pull_ms);
    fprintf(stderr, "sync: HarperDB delete served as 404 after %.2f s (bound %.1f s)\n", took, bound);
    if (took > bound)
        fail_msg("a HarperDB delete took %.2f s to reach the API; expected within 2 pull intervals (%d ms) + slack "
                 "= %.1f s",
                 took, pull_ms, bound);
}

/* ---------------------------------------------------------------- 3. two instances */

/* A write on `from` is read at once on `to` (read-through), and another reaches `to`'s SQLite by pulling. */
static void cross_instance(const struct harness_server *from, const struct harness_server *to, const char *label,
                           double bound)
{
    char name[96], id[ID_MAX], path[PATH_MAX];
    db_path(to, path, sizeof(path));
    snprintf(name, sizeof(name), "sync-%s-3-%s-read", run_tag, label);
    create_expect(from, name, "synced", id, NULL);
    json_t *doc = NULL;
    double t0 = now_s();
    long st = get_character(to, id, &doc);
    double read_ms = (now_s() - t0) * 1000;
    if (st != 200)
        fail_msg("%s: a synced write %s was not readable at once on the other instance: GET gives %ld; log:\n%s", label,
                 id, st, log_tail(to, 1500));
    if (strcmp(json_string_value(json_object_get(doc, "name")) ?: "", name) != 0)
        fail_msg("%s: read-through of %s: expected name %s, got %s", label, id, name,
                 json_string_value(json_object_get(doc, "name")));
    json_decref(doc);
    if (!sql_has(path, id))
        fail_msg("%s: after a read-through GET of %s the other instance's SQLite (%s) does not have it", label, id,
                 path);

    /* Not read on `to`: it arrives by pulling, within 2 pull intervals. */
    snprintf(name, sizeof(name), "sync-%s-3-%s-pull", run_tag, label);
    create_expect(from, name, "synced", id, NULL);
    double took = wait_sql_has(path, id, bound + 5);
    if (took < 0)
        fail_msg("%s: a synced write %s never reached the other instance's SQLite in %.1f s; log:\n%s", label, id,
                 bound + 5, log_tail(to, 1500));
    fprintf(stderr, "sync: %s: read-through GET %.0f ms; pulled into the other SQLite after %.2f s (bound %.1f s)\n",
            label, read_ms, took, bound);
    /* The same version and content has the same ETag on both instances (If-None-Match works across them). */
    char etag_from[80], etag_to[80];
    get_etag(from, id, etag_from, sizeof(etag_from));
    get_etag(to, id, etag_to, sizeof(etag_to));
    if (etag_from[0] == '\0' || strcmp(etag_from, etag_to) != 0)
        fail_msg("%s: %s has ETag %s on the instance that wrote it but %s on the other", label, id, etag_from, etag_to);
    if (took > bound)
        fail_msg("%s: a write took %.2f s to reach the other instance's SQLite; expected within 2 pull intervals "
                 "+ slack = %.1f s",
                 label, took, bound);
}

static void test_two_instances(void **state)
{
    (void)state;
    NEED_HARPERDB();
    hdb_connect();
    const int pull_ms = 500;
    start_server(&srv_a, NULL, pull_ms, 2000, NULL);
    start_server(&srv_b, NULL, pull_ms, 2000, NULL);
    wait_readyz_ok(&srv_a, -1, 20, "instance A");
    wait_readyz_ok(&srv_b, -1, 20, "instance B");
    double ca = wait_caught_up(&srv_a, "3a"), cb = wait_caught_up(&srv_b, "3b");
    fprintf(stderr, "sync: instances caught up in %.2f s and %.2f s\n", ca, cb);
    char pa[PATH_MAX], pb[PATH_MAX];
    db_path(&srv_a, pa, sizeof(pa));
    db_path(&srv_b, pb, sizeof(pb));
    if (strcmp(pa, pb) == 0)
        fail_msg("the two instances share one SQLite file %s", pa);
    const double bound = 2.0 * pull_ms / 1000.0 + 0.5;
    cross_instance(&srv_a, &srv_b, "A->B", bound);
    cross_instance(&srv_b, &srv_a, "B->A", bound);
}

/* ---------------------------------------------------------------- writers */

/* Writers share one of these: indexes to post (0..count) or "until stop", and what came back. */
struct load {
    const struct harness_server *s;
    char prefix[64];
    size_t count;       /* fixed number of writes; 0: until stop */
    atomic_size_t next; /* next index to post */
    atomic_int stop;
    struct created *results; /* [count] when count > 0 */
    pthread_mutex_t lock;    /* guards acked, nacked (until-stop mode) */
    char (*acked)[ID_MAX];   /* ids answered 201 */
    size_t nacked, cap;
    size_t attempts, synced, pending, failed; /* until-stop mode */
    double max_ms;
    char first_bad[256];
};

static void *writer(void *arg)
{
    struct load *l = arg;
    struct http_client c;
    if (http_client_init(&c) != 0)
        return NULL;
    for (;;) {
        if (atomic_load(&l->stop))
            break;
        size_t i = atomic_fetch_add(&l->next, 1);
        if (l->count > 0 && i >= l->count)
            break;
        char name[128];
        snprintf(name, sizeof(name), "%s%zu", l->prefix, i);
        struct created r;
        post_character(&c, l->s, name, &r);
        if (l->count > 0) {
            l->results[i] = r;
            continue;
        }
        pthread_mutex_lock(&l->lock);
        l->attempts++;
        if (r.status == 201 && r.id[0] != '\0' && l->nacked < l->cap) {
            snprintf(l->acked[l->nacked++], ID_MAX, "%s", r.id);
            if (strcmp(r.sync, "synced") == 0)
                l->synced++;
            else if (strcmp(r.sync, "pending") == 0)
                l->pending++;
            if (r.ms > l->max_ms)
                l->max_ms = r.ms;
            if (strcmp(r.sync, "pending") != 0 && strcmp(r.sync, "synced") != 0 && l->first_bad[0] == '\0')
                snprintf(l->first_bad, sizeof(l->first_bad), "201 with Sync-Status \"%s\"", r.sync);
        } else {
            l->failed++;
            if (l->first_bad[0] == '\0')
                snprintf(l->first_bad, sizeof(l->first_bad), "status %ld: %s", r.status, r.error);
        }
        pthread_mutex_unlock(&l->lock);
    }
    http_client_release(&c);
    return NULL;
}

static void load_init(struct load *l, const struct harness_server *s, const char *prefix, size_t count, size_t cap)
{
    memset(l, 0, sizeof(*l));
    l->s = s;
    snprintf(l->prefix, sizeof(l->prefix), "%s", prefix);
    l->count = count;
    atomic_init(&l->next, 0);
    atomic_init(&l->stop, 0);
    pthread_mutex_init(&l->lock, NULL);
    if (count > 0)
        l->results = calloc(count, sizeof(*l->results));
    l->cap = cap;
    if (cap > 0)
        l->acked = calloc(cap, ID_MAX);
}

static void load_release(struct load *l)
{
    free(l->results);
    free(l->acked);
    pthread_mutex_destroy(&l->lock);
    l->results = NULL;
    l->acked = NULL;
}

/* Start n writer threads on l; returns how many started. */
static int load_start(struct load *l, pthread_t *t, int n)
{
    int started = 0;
    for (int i = 0; i < n; i++)
        if (pthread_create(&t[i], NULL, writer, l) == 0)
            started++;
        else
            break;
    return started;
}

/* Join the writers; `stop` tells until-stop writers to finish (fixed-count writers finish by themselves). */
static void load_join(struct load *l, pthread_t *t, int n, int stop)
{
    if (stop)
        atomic_store(&l->stop, 1);
    for (int i = 0; i < n; i++)
        pthread_join(t[i], NULL);
}

/* ---------------------------------------------------------------- 4. HarperDB unreachable */

static void test_unreachable_then_drain(void **state)
{
    (void)state;
    NEED_HARPERDB();
    hdb_connect();
    enum { WRITES = 500, THREADS = 16 };
    char uri[64];
    start_proxy(uri, sizeof(uri));
    start_server(&srv_a, uri, 1000, 100, NULL);
    wait_readyz_ok(&srv_a, -1, 20, "server behind the proxy");
    proxy_mode("cut");

    struct load l;
    char prefix[64];
    snprintf(prefix, sizeof(prefix), "sync-%s-4-", run_tag);
    load_init(&l, &srv_a, prefix, WRITES, 0);
    pthread_t t[THREADS];
    double t0 = now_s();
    int n = load_start(&l, t, THREADS);
    load_join(&l, t, n, 0);
    double took = now_s() - t0;
    if (n != THREADS) {
        load_release(&l);
        fail_msg("could start only %d of %d writer threads", n, THREADS);
    }
    /* Every write accepted, every one pending. */
    size_t ok = 0;
    double max_ms = 0;
    char bad[320] = "";
    char(*ids)[ID_MAX] = calloc(WRITES, ID_MAX);
    for (size_t i = 0; i < WRITES; i++) {
        struct created *r = &l.results[i];
        if (r->status == 201 && strcmp(r->sync, "pending") == 0 && r->id[0] != '\0') {
            snprintf(ids[ok++], ID_MAX, "%s", r->id);
        } else if (bad[0] == '\0') {
            snprintf(bad, sizeof(bad), "write %zu (%.80s): status %ld, Sync-Status \"%.30s\" %.150s", i, r->name,
                     r->status, r->sync, r->error);
        }
        if (r->ms > max_ms)
            max_ms = r->ms;
    }
    load_release(&l);
    fprintf(stderr, "sync: %d writes with HarperDB cut in %.2f s (%.0f/s), slowest %.0f ms\n", WRITES, took,
            WRITES / took, max_ms);
    if (ok != WRITES) {
        free(ids);
        fail_msg("with HarperDB cut, expected all %d writes to answer 201 with Sync-Status: pending; %zu did; first "
                 "other: %s",
                 WRITES, ok, bad);
    }

    /* /readyz: degraded, with a queue. */
    struct readyz z;
    double w0 = now_s();
    do {
        get_readyz(&srv_a, &z);
        if (z.http == 200 && strcmp(z.status, "degraded") == 0 && strcmp(z.harper, "degraded") == 0 && z.depth > 0)
            break;
        sleep_ms(50);
    } while (now_s() - w0 < 6);
    if (!(z.http == 200 && strcmp(z.status, "degraded") == 0 && strcmp(z.harper, "degraded") == 0 && z.depth > 0)) {
        free(ids);
        fail_msg("with HarperDB cut and %d writes queued, expected /readyz 200, status and harperdb \"degraded\", "
                 "outbox depth > 0; got %s",
                 WRITES, z.raw);
    }
    fprintf(stderr, "sync: /readyz while cut: %s\n", z.raw);

    /* Link back: the outbox drains and HarperDB holds exactly what was acknowledged. */
    proxy_mode("pass");
    t0 = now_s();
    for (;;) {
        get_readyz(&srv_a, &z);
        if (z.http == 200 && z.depth == 0 && strcmp(z.harper, "ok") == 0)
            break;
        if (now_s() - t0 > 30) {
            free(ids);
            fail_msg("after the link came back, expected the outbox to drain to 0 within 30 s; last /readyz: %s; "
                     "log:\n%s",
                     z.raw, log_tail(&srv_a, 1500));
        }
        sleep_ms(50);
    }
    double drained = now_s() - t0;
    char why[256] = "", missing[ID_MAX] = "";
    long present = hdb_count_present(ids, WRITES, missing, sizeof(missing), why, sizeof(why));
    long named = hdb_count_names(prefix, why, sizeof(why));
    free(ids);
    fprintf(stderr, "sync: outbox drained %.2f s after \"pass\"; HarperDB has %ld of %d ids, %ld names %s*\n", drained,
            present, WRITES, named, prefix);
    if (present != WRITES)
        fail_msg("after draining, expected all %d acknowledged ids in HarperDB; found %ld (first missing %s) %s",
                 WRITES, present, missing, why);
    if (named != WRITES)
        fail_msg("after draining, expected exactly %d HarperDB records named %s*; found %ld %s", WRITES, prefix, named,
                 why);
}

/* ---------------------------------------------------------------- 5. kill -9 under load */

static void test_kill9_under_load(void **state)
{
    (void)state;
    NEED_HARPERDB();
    hdb_connect();
    enum { THREADS = 4, CAP = 20000 };
    char uri[64];
    start_proxy(uri, sizeof(uri));
    start_server(&srv_a, uri, 1000, 100, NULL);
    wait_readyz_ok(&srv_a, -1, 20, "server behind the proxy");
    pid_t kids[16];
    size_t nkids = harness_server_workers(&srv_a, kids, 16);
    if (nkids < 3) /* 2 workers and the syncer */
        fail_msg("expected 2 workers and a syncer under master %d; found %zu children", (int)srv_a.pid, nkids);

    struct load l;
    char prefix[64];
    snprintf(prefix, sizeof(prefix), "sync-%s-5-", run_tag);
    load_init(&l, &srv_a, prefix, 0, CAP);
    pthread_t t[THREADS];
    int n = load_start(&l, t, THREADS);
    /* A little with the link up, then most of it with the link cut. */
    sleep_ms(300);
    if (tcpproxy_command(&proxy, "cut", NULL, 0) != 0) {
        load_join(&l, t, n, 1);
        load_release(&l);
        fail_msg("tcpproxy cut: %s", proxy.error);
    }
    sleep_ms(1500);
    /* kill -9 the whole server: its process group holds the master, workers and syncer. */
    int killed = kill(-srv_a.pid, SIGKILL);
    int kill_errno = errno;
    load_join(&l, t, n, 1); /* in-flight requests fail; the writers kept only what was acknowledged */
    if (killed != 0) {
        load_release(&l);
        fail_msg("kill(-%d, SIGKILL): %s", (int)srv_a.pid, strerror(kill_errno));
    }
    int exited = harness_server_wait_exit(&srv_a, 5);
    double g0 = now_s();
    size_t alive;
    do {
        alive = 0;
        for (size_t i = 0; i < nkids && i < 16; i++)
            alive += (size_t)harness_pid_alive(kids[i]);
        if (alive == 0)
            break;
        sleep_ms(20);
    } while (now_s() - g0 < 5);
    size_t acked = l.nacked, synced = l.synced, pending = l.pending, attempts = l.attempts;
    char first_bad[256];
    snprintf(first_bad, sizeof(first_bad), "%s", l.first_bad);
    char(*ids)[ID_MAX] = l.acked;
    l.acked = NULL;
    load_release(&l);
    fprintf(stderr, "sync: kill -9 after %zu attempts: %zu acknowledged (%zu synced, %zu pending)\n", attempts, acked,
            synced, pending);
    if (exited != 0 || alive != 0 || n != THREADS || acked == 0 || pending == 0) {
        free(ids);
        fail_msg("kill -9 under load: master reaped %s, %zu of its children still alive, %d/%d writers, %zu "
                 "acknowledged, %zu pending (expected some); first non-201: %s",
                 exited == 0 ? "yes" : "no", alive, n, THREADS, acked, pending, first_bad);
    }

    /* Every acknowledged write is in SQLite right after the kill. */
    char path[PATH_MAX], why[256] = "", missing[ID_MAX] = "";
    db_path(&srv_a, path, sizeof(path));
    long in_sql = sql_count_present(path, ids, acked, missing, sizeof(missing), why, sizeof(why));
    long long queued = sql_int(path, "SELECT count(*) FROM outbox", NULL);
    if (in_sql != (long)acked) {
        free(ids);
        fail_msg("after kill -9, expected all %zu acknowledged ids in SQLite %s; found %ld (first missing %s) %s",
                 acked, path, in_sql, missing, why);
    }
    fprintf(stderr, "sync: after the kill SQLite holds all %zu; the outbox %lld row(s)\n", acked, queued);

    /* Restart on the same SQLite with the link up: the outbox reaches HarperDB. */
    if (tcpproxy_command(&proxy, "pass", NULL, 0) != 0) {
        free(ids);
        fail_msg("tcpproxy pass: %s", proxy.error);
    }
    char why_start[4096];
    char e_uri[300], e_user[200], e_pass[200];
    snprintf(e_uri, sizeof(e_uri), "DB_URI=%s", uri);
    snprintf(e_user, sizeof(e_user), "DB_USER=%s", hdb_user != NULL ? hdb_user : "");
    snprintf(e_pass, sizeof(e_pass), "DB_PASSWORD=%s", hdb_password != NULL ? hdb_password : "");
    const char *env[] = {e_uri, e_user, e_pass, "CHARACTER_SYNC_PULL_INTERVAL=1000", "CHARACTER_SYNC_WRITE_TIMEOUT=100",
                         NULL};
    const char *args[] = {"--database", path, NULL};
    struct harness_options o = {.workers = 2, .env = env, .args = args};
    if (harness_server_start(&srv_b, &o, why_start, sizeof(why_start)) != 0) {
        free(ids);
        fail_msg("cannot restart the server on %s: %s", path, why_start);
    }
    double t0 = now_s();
    struct readyz z;
    for (;;) {
        get_readyz(&srv_b, &z);
        if (z.http == 200 && z.depth == 0 && strcmp(z.harper, "ok") == 0)
            break;
        if (now_s() - t0 > 30) {
            free(ids);
            fail_msg("after the restart, expected the outbox to drain within 30 s; last /readyz %s; log:\n%s", z.raw,
                     log_tail(&srv_b, 1500));
        }
        sleep_ms(50);
    }
    double drained = now_s() - t0;
    long present = -1;
    t0 = now_s();
    do {
        present = hdb_count_present(ids, acked, missing, sizeof(missing), why, sizeof(why));
        if (present == (long)acked)
            break;
        sleep_ms(100);
    } while (now_s() - t0 < 10);
    long long left = sql_int(path, "SELECT count(*) FROM outbox", NULL);
    /* And the restarted server serves one of them. */
    long st = get_character(&srv_b, ids[acked - 1], NULL);
    free(ids);
    fprintf(stderr, "sync: restarted server drained in %.2f s; HarperDB has %ld of %zu; outbox rows left %lld\n",
            drained, present, acked, left);
    if (present != (long)acked)
        fail_msg("after the restart, expected all %zu acknowledged ids in HarperDB within 10 s; found %ld (first "
                 "missing %s) %s",
                 acked, present, missing, why);
    if (left != 0)
        fail_msg("after the drain the outbox table still has %lld row(s)", left);
    if (st != 200)
        fail_msg("the restarted server answers %ld to GET of an acknowledged id", st);
}

/* ---------------------------------------------------------------- 6. no worker stalls */

/* The slowest of `n` GET /healthz (fresh connections, spaced 20 ms), or -1 when one failed. */
static double healthz_max_ms(const struct harness_server *s, int n)
{
    double worst = 0;
    for (int i = 0; i < n; i++) {
        double ms;
        if (get_timed(s, "/healthz", &ms) != 200)
            return -1;
        if (ms > worst)
            worst = ms;
        sleep_ms(20);
    }
    return worst;
}

/* Under `mode`, writes park waiting for HarperDB; /healthz stays fast and writes answer "pending" in time. */
static void stall_phase(const char *mode, int write_ms, char (*all)[ID_MAX], size_t *nall, size_t cap)
{
    enum { THREADS = 6, SAMPLES = 20 };
    const double health_limit = 50.0, write_limit = write_ms + 1000.0;
    proxy_mode(mode);
    struct load l;
    char prefix[64];
    snprintf(prefix, sizeof(prefix), "sync-%s-6-%.5s-", run_tag, mode);
    load_init(&l, &srv_a, prefix, 0, 4000);
    pthread_t t[THREADS];
    int n = load_start(&l, t, THREADS);
    sleep_ms(write_ms + 200); /* every writer has a write parked now */
    double h1 = healthz_max_ms(&srv_a, SAMPLES), h2 = -2;
    if (h1 < 0 || h1 >= health_limit)
        h2 = healthz_max_ms(&srv_a, SAMPLES); /* once more: the machine may have been busy */
    size_t busy_before = l.attempts;
    struct readyz z;
    get_readyz(&srv_a, &z); /* for the record: what an operator sees meanwhile */
    load_join(&l, t, n, 1);
    for (size_t i = 0; i < l.nacked && *nall < cap; i++)
        snprintf(all[(*nall)++], ID_MAX, "%s", l.acked[i]);
    size_t attempts = l.attempts, acked = l.nacked, pending = l.pending, failed = l.failed;
    double max_ms = l.max_ms;
    char first_bad[256];
    snprintf(first_bad, sizeof(first_bad), "%s", l.first_bad);
    load_release(&l);
    fprintf(stderr,
            "sync: %s: /healthz max %.1f ms (retry %.1f ms) over %d; %zu writes (%zu during the probe), %zu pending, "
            "slowest %.0f ms; /readyz meanwhile: %s\n",
            mode, h1, h2, SAMPLES, attempts, busy_before, pending, max_ms, z.raw);
    if (n != THREADS)
        fail_msg("%s: only %d of %d writer threads started", mode, n, THREADS);
    double best = h2 == -2 ? h1 : (h2 < 0 ? h1 : (h1 < 0 ? h2 : (h1 < h2 ? h1 : h2)));
    if (best < 0)
        fail_msg("%s: GET /healthz failed while writes waited for HarperDB", mode);
    if (best >= health_limit)
        fail_msg("%s: GET /healthz took up to %.1f ms (and %.1f ms on a second try) while writes waited for "
                 "HarperDB; expected under %.0f ms",
                 mode, h1, h2, health_limit);
    if (acked == 0 || failed != 0 || pending != acked)
        fail_msg("%s: expected every write to answer 201 with Sync-Status: pending; %zu attempts, %zu acknowledged, "
                 "%zu pending, %zu failed; first other: %s",
                 mode, attempts, acked, pending, failed, first_bad);
    if (max_ms > write_limit)
        fail_msg("%s: a write took %.0f ms; expected at most write_timeout %d ms + 1000 ms", mode, max_ms, write_ms);
}

static void test_no_worker_stalls(void **state)
{
    (void)state;
    NEED_HARPERDB();
    hdb_connect();
    const int write_ms = 500;
    char uri[64];
    start_proxy(uri, sizeof(uri));
    start_server(&srv_a, uri, 1000, write_ms, NULL);
    wait_readyz_ok(&srv_a, -1, 20, "server behind the proxy");
    double base = healthz_max_ms(&srv_a, 10);
    fprintf(stderr, "sync: /healthz max %.1f ms with the link up\n", base);
    enum { CAP = 8000 };
    char(*ids)[ID_MAX] = calloc(CAP, ID_MAX);
    size_t nids = 0;
    /* stall_phase fails through cmocka's longjmp: the ids buffer is then leaked, nothing else. */
    stall_phase("blackhole", write_ms, ids, &nids, CAP);
    stall_phase("delay 2000", write_ms, ids, &nids, CAP);

    /* The link back: everything written during the stalls reaches HarperDB, then /readyz shows an empty outbox. */
    proxy_mode("pass");
    double t0 = now_s();
    char why[256] = "", missing[ID_MAX] = "";
    long present;
    for (;;) {
        present = hdb_count_present(ids, nids, missing, sizeof(missing), why, sizeof(why));
        if (present == (long)nids || now_s() - t0 > 40)
            break;
        sleep_ms(100);
    }
    double landed = now_s() - t0;
    free(ids);
    if (present != (long)nids)
        fail_msg("after the stalls, expected all %zu acknowledged ids in HarperDB within 40 s; found %ld (first "
                 "missing %s) %s; log:\n%s",
                 nids, present, missing, why, log_tail(&srv_a, 1500));
    double drained = wait_readyz_ok(&srv_a, 0, 10, "after the stalls");
    fprintf(stderr,
            "sync: after the stalls all %zu writes were in HarperDB %.2f s after \"pass\"; /readyz empty "
            "%.2f s later\n",
            nids, landed, drained);
}

/* ---------------------------------------------------------------- 7. a backlog larger than one pull */

/*
 * Write `n` records straight into HarperDB in upserts of `batch` (HarperDB
 * gives every record of one upsert the same __updatedtime__, as when a
 * syncer drains its outbox), named prefix + index; their ids into ids.
 */
static void hdb_write_batches(const char *prefix, size_t n, size_t batch, char (*ids)[ID_MAX])
{
    for (size_t at = 0; at < n; at += batch) {
        json_t *recs = json_array();
        for (size_t i = at; i < n && i < at + batch; i++) {
            char name[96];
            snprintf(name, sizeof(name), "%s%zu", prefix, i);
            json_array_append_new(recs, foreign_record(name, ids[i]));
        }
        struct err e = {0};
        int rc = harper_upsert(hdb, SCHEMA, TABLE, recs, &e);
        json_decref(recs);
        if (rc != 0)
            fail_msg("upsert of records %zu.. into %s.%s: %s", at, SCHEMA, TABLE, e.msg);
    }
}

/* Poll until the SQLite at path holds all of ids[0..n); returns how many it holds at the end. */
static long wait_sql_all(const char *path, char (*ids)[ID_MAX], size_t n, double timeout_s, double *took, char *missing,
                         size_t missinglen)
{
    double t0 = now_s(), changed = t0;
    char why[256] = "";
    long have, before = -1;
    for (;;) {
        have = sql_count_present(path, ids, n, missing, missinglen, why, sizeof(why));
        if (have != before)
            changed = now_s();
        before = have;
        if (have == (long)n || now_s() - t0 > timeout_s)
            break;
        sleep_ms(100);
    }
    *took = changed - t0; /* when the count last moved */
    return have;
}

/*
 * An instance that could not pull for a while (its link to HarperDB cut)
 * catches up on everything written meanwhile, even when that is more than
 * one pull's page: (a) 1100 records in upserts of 150, so a page boundary
 * falls inside one upsert's records (all with one __updatedtime__); (b) 1100
 * records in upserts of 100 followed by one delete.
 */
static void test_pull_backlog_after_outage(void **state)
{
    (void)state;
    NEED_HARPERDB();
    hdb_connect();
    enum { N = 1100 };
    const double bound = 8; /* a clean catch-up of 1100 takes about 1.5 s here */
    char uri[64], path[PATH_MAX];
    start_proxy(uri, sizeof(uri));
    start_server(&srv_a, uri, 500, 2000, NULL);
    wait_readyz_ok(&srv_a, -1, 20, "server behind the proxy");
    char victim[ID_MAX];
    wait_caught_up_id(&srv_a, "7", victim);
    db_path(&srv_a, path, sizeof(path));
    char(*ids)[ID_MAX] = calloc(N, ID_MAX);
    char prefix[64], missing_a[ID_MAX] = "", missing_b[ID_MAX] = "";
    double took_a, took_b;

    /* (a) a page boundary inside one upsert. */
    proxy_mode("cut");
    sleep_ms(600); /* a pull fails meanwhile */
    snprintf(prefix, sizeof(prefix), "sync-%s-7a-", run_tag);
    hdb_write_batches(prefix, N, 150, ids);
    proxy_mode("pass");
    long have_a = wait_sql_all(path, ids, N, bound, &took_a, missing_a, sizeof(missing_a));

    /* (b) more than a page of upserts (page boundaries between upserts), then a delete of an older record. */
    proxy_mode("cut");
    sleep_ms(600);
    snprintf(prefix, sizeof(prefix), "sync-%s-7b-", run_tag);
    hdb_write_batches(prefix, N, 100, ids);
    json_t *del = json_pack("[s]", victim);
    struct err e = {0};
    int rc = harper_delete(hdb, SCHEMA, TABLE, del, &e);
    json_decref(del);
    if (rc != 0) {
        free(ids);
        fail_msg("delete %s from HarperDB: %s", victim, e.msg);
    }
    proxy_mode("pass");
    long have_b = wait_sql_all(path, ids, N, bound, &took_b, missing_b, sizeof(missing_b));
    /* The delete is read from the audit log right after the upserts of the same pull: allow it a pull interval. */
    int deleted_gone = 0;
    for (int i = 0; i < 60 && !deleted_gone; i++) {
        deleted_gone = !sql_has(path, victim);
        if (!deleted_gone)
            sleep_ms(50);
    }
    free(ids);
    fprintf(stderr,
            "sync: backlog (a) %ld of %d pulled (last change after %.2f s); (b) %ld of %d pulled (last "
            "change after %.2f s), the deleted record %s\n",
            have_a, N, took_a, have_b, N, took_b, deleted_gone ? "gone" : "still there");
    if (have_a != N || have_b != N || !deleted_gone)
        fail_msg("after an outage, expected the instance to pull every record written meanwhile within %.0f s: "
                 "(a) %d in upserts of 150: %ld arrived (first missing %s); (b) %d in upserts of 100, then a delete "
                 "of an older record: %ld arrived (first missing %s), the deleted record %s",
                 bound, N, have_a, missing_a, N, have_b, missing_b, deleted_gone ? "gone" : "still there");
}

/* ---------------------------------------------------------------- 8. update and delete across instances */

/*
 * A served-style character document: race and class as {"index", "name",
 * "url"} objects, level an integer (what HarperDB holds and B indexes).
 */
static char *character_doc(const char *id, long long version, const char *name, const char *race, const char *cls,
                           int level, const char *created, const char *updated)
{
    json_t *d =
        json_pack("{s:s, s:I, s:s, s:s, s:s, s:i, s:{s:s, s:s, s:s}, s:{s:s, s:s, s:s}, s:[{s:s, s:i}]}", "id", id,
                  "version", (json_int_t)version, "name", name, "created_at", created, "updated_at", updated, "level",
                  level, "race", "index", race, "name", race, "url", "/api/2014/races", "class", "index", cls, "name",
                  cls, "url", "/api/2014/classes", "classes", "index", cls, "level", level);
    char *text = json_dumps(d, JSON_COMPACT);
    json_decref(d);
    return text;
}

/* Open a server's SQLite file as one of its workers does: write-through on, its instance id. */
static struct store *open_worker_store(const char *path)
{
    struct store *st = NULL;
    struct err e = {0};
    struct store_options o = {.busy_timeout_ms = 5000, .synchronous_full = 1, .outbox = 1};
    if (store_open(path, &o, &st, &e) != 0 || store_prepare(st, &e) != 0)
        fail_msg("open %s as a worker would: %s", path, e.msg);
    return st;
}

/* Poll (bounded) until HarperDB's record `id` has this version (0: until it is gone); returns it or NULL. */
static json_t *wait_hdb_version(const char *id, long long version, double timeout_s, double *took)
{
    double t0 = now_s();
    for (;;) {
        json_t *rec = hdb_record(id);
        long long v = rec != NULL ? json_integer_value(json_object_get(rec, "version")) : 0;
        if ((version == 0 && rec == NULL) || (version > 0 && v == version)) {
            *took = now_s() - t0;
            return rec;
        }
        json_decref(rec);
        if (now_s() - t0 > timeout_s) {
            *took = -1;
            return NULL;
        }
        sleep_ms(50);
    }
}

/* Poll (bounded) until `sql` (one ?1 = id) counts 1 on the SQLite file at path; seconds, or -1. */
static double wait_sql_true(const char *path, const char *sql, const char *id, double timeout_s)
{
    double t0 = now_s();
    for (;;) {
        if (sql_int(path, sql, id) == 1)
            return now_s() - t0;
        if (now_s() - t0 > timeout_s)
            return -1;
        sleep_ms(50);
    }
}

/* Poll (bounded) until GET id on s answers `status` (and, for 200, this version); seconds, or -1. */
static double wait_get(const struct harness_server *s, const char *id, long status, long long version, double timeout_s)
{
    double t0 = now_s();
    for (;;) {
        json_t *doc = NULL;
        long st = get_character(s, id, &doc);
        int ok = st == status && (status != 200 || json_integer_value(json_object_get(doc, "version")) == version);
        json_decref(doc);
        if (ok)
            return now_s() - t0;
        if (now_s() - t0 > timeout_s)
            return -1;
        sleep_ms(50);
    }
}

static void test_update_and_delete_reach_other_instance(void **state)
{
    (void)state;
    NEED_HARPERDB();
    hdb_connect();
    const double bound = 15; /* push sweep 1 s + pull 0.5 s, with room for a busy machine */
    start_server(&srv_a, NULL, 500, 2000, NULL);
    start_server(&srv_b, NULL, 500, 2000, NULL);
    wait_readyz_ok(&srv_a, -1, 20, "instance A");
    wait_readyz_ok(&srv_b, -1, 20, "instance B");
    wait_caught_up(&srv_b, "8");

    /* The syncer applied migration 0003 to HarperDB: the characters table has the new attributes. */
    json_t *desc = NULL;
    struct err de = {0};
    if (harper_describe_table(hdb, SCHEMA, TABLE, &desc, &de) != 0)
        fail_msg("describe_table %s.%s: %s", SCHEMA, TABLE, de.msg);
    const char *want[] = {"race", "class", "level", "roll_nonce"};
    for (size_t w = 0; w < 4; w++) {
        int found = 0;
        size_t i;
        json_t *a;
        json_array_foreach(json_object_get(desc, "attributes"), i, a)
        {
            found |= strcmp(json_string_value(json_object_get(a, "attribute")) ?: "", want[w]) == 0;
        }
        if (!found)
            fail_msg("HarperDB's %s.%s has no attribute %s after migration 0003", SCHEMA, TABLE, want[w]);
    }
    json_decref(desc);
    char path_a[PATH_MAX], path_b[PATH_MAX], id[ID_MAX], name[96], t1[32], t2[32], nonce[40];
    db_path(&srv_a, path_a, sizeof(path_a));
    db_path(&srv_b, path_b, sizeof(path_b));
    random_uuid(id);
    if (harness_random_hex(nonce, 16) != 0)
        fail_msg("cannot read /dev/urandom");
    snprintf(name, sizeof(name), "sync-%s-8-Rolled", run_tag);
    rfc3339_from_now(t1, 0);
    struct store *a = open_worker_store(path_a);
    struct err e = {0};
    double took;

    /* Version 1 on A (a rolled build: it has a roll nonce). */
    char *doc = character_doc(id, 1, name, "dwarf", "cleric", 1, t1, t1);
    char etag[36];
    store_etag(1, doc, strlen(doc), etag);
    struct store_record r = {.id = id,
                             .version = 1,
                             .name = name,
                             .created_at = t1,
                             .updated_at = t1,
                             .etag = etag,
                             .document = doc,
                             .document_len = strlen(doc),
                             .race = "dwarf",
                             .class_ = "cleric",
                             .level = 1,
                             .roll_nonce = nonce};
    int rc = store_character_insert(a, &r, NULL, &e);
    free(doc);
    if (rc != 0)
        fail_msg("insert on A: %s", e.msg);
    json_t *rec = wait_hdb_version(id, 1, bound, &took);
    if (rec == NULL)
        fail_msg("A's version 1 of %s never reached HarperDB in %.0f s; A's log:\n%s", id, bound,
                 log_tail(&srv_a, 1500));
    if (strcmp(json_string_value(json_object_get(rec, "roll_nonce")) ?: "", nonce) != 0 ||
        json_integer_value(json_object_get(rec, "level")) != 1 ||
        strcmp(json_string_value(json_object_get(json_object_get(rec, "race"), "index")) ?: "", "dwarf") != 0)
        fail_msg("HarperDB record of %s lacks roll_nonce %s, level 1 or race dwarf: %s", id, nonce,
                 json_dumps(rec, JSON_COMPACT));
    json_decref(rec);
    if (wait_sql_true(path_b,
                      "SELECT count(*) FROM characters WHERE id = ?1 AND version = 1 AND race = 'dwarf' AND "
                      "\"class\" = 'cleric' AND level = 1 AND roll_nonce IS NOT NULL",
                      id, bound) < 0)
        fail_msg("B never held %s at version 1 with race dwarf, class cleric, level 1 and its roll nonce; B's "
                 "log:\n%s",
                 id, log_tail(&srv_b, 1500));
    if (wait_get(&srv_b, id, 200, 1, 5) < 0) /* and B's workers now have version 1 cached */
        fail_msg("GET %s on B did not answer version 1", id);

    /* Version 2 on A: a new class and level. */
    rfc3339_from_now(t2, 10);
    doc = character_doc(id, 2, name, "dwarf", "fighter", 2, t1, t2);
    store_etag(2, doc, strlen(doc), etag);
    r.version = 2;
    r.updated_at = t2;
    r.document = doc;
    r.document_len = strlen(doc);
    r.class_ = "fighter";
    r.level = 2;
    rc = store_character_update(a, &r, 1, NULL, &e);
    free(doc);
    if (rc != 0)
        fail_msg("update on A: %s", e.msg);
    double t0 = now_s();
    rec = wait_hdb_version(id, 2, bound, &took);
    if (rec == NULL)
        fail_msg("A's update (version 2) of %s never reached HarperDB in %.0f s; A's log:\n%s", id, bound,
                 log_tail(&srv_a, 1500));
    json_decref(rec);
    double in_hdb = took;
    if (wait_sql_true(path_b,
                      "SELECT count(*) FROM characters WHERE id = ?1 AND version = 2 AND \"class\" = 'fighter' AND "
                      "level = 2",
                      id, bound) < 0)
        fail_msg("B never held A's update of %s (version 2, class fighter, level 2); B's log:\n%s", id,
                 log_tail(&srv_b, 1500));
    if (wait_get(&srv_b, id, 200, 2, 5) < 0)
        fail_msg("B holds version 2 of %s but GET still serves another version (stale cache?)", id);
    if (sql_int(path_b, "SELECT count(*) FROM characters WHERE id = ?1 AND level = 1", id) != 0 ||
        sql_int(path_b, "SELECT count(*) FROM characters WHERE id = ?1 AND roll_nonce IS NOT NULL", id) != 1)
        fail_msg("B's columns for %s after the update are wrong (old level, or lost roll nonce)", id);
    double update_s = now_s() - t0;

    /* A stale write on A is refused and changes nothing anywhere. */
    if (store_character_update(a, &r, 1, NULL, &e) != ERR_CONFLICT)
        fail_msg("a second update of %s from version 1 on A was not a conflict", id);

    /* Delete on A. */
    t0 = now_s();
    if (store_character_delete(a, id, 2, NULL, &e) != 0)
        fail_msg("delete on A: %s", e.msg);
    store_close(a);
    rec = wait_hdb_version(id, 0, bound, &took);
    if (took < 0)
        fail_msg("A's delete of %s never reached HarperDB in %.0f s; A's log:\n%s", id, bound, log_tail(&srv_a, 1500));
    double del_hdb = took;
    if (wait_sql_true(path_b, "SELECT count(*) = 0 FROM characters WHERE id = ?1", id, bound) < 0)
        fail_msg("B still holds %s %.0f s after A deleted it; B's log:\n%s", id, bound, log_tail(&srv_b, 1500));
    if (wait_get(&srv_b, id, 404, 0, 5) < 0)
        fail_msg("B no longer holds %s but GET does not answer 404 (stale cache?)", id);
    if (wait_get(&srv_a, id, 404, 0, 5) < 0 || sql_has(path_a, id))
        fail_msg("A serves %s again after deleting it (brought back by a pull?)", id);
    fprintf(stderr,
            "sync: A's update in HarperDB after %.2f s, served by B after %.2f s; A's delete in HarperDB after %.2f s, "
            "gone from B after %.2f s\n",
            in_hdb, update_s, del_hdb, now_s() - t0);
}

/* ---------------------------------------------------------------- 9. other resources */

/* Outbox rows name their resource; the syncer writes each to its own HarperDB table (equipment here). */
static void test_outbox_resource_picks_table(void **state)
{
    (void)state;
    NEED_HARPERDB();
    hdb_connect();
    start_server(&srv_a, NULL, 1000, 2000, NULL);
    wait_readyz_ok(&srv_a, -1, 20, "fresh server");
    char path[PATH_MAX], id[ID_MAX], sql[512];
    db_path(&srv_a, path, sizeof(path));
    random_uuid(id);
    sqlite3 *db = NULL;
    if (sqlite3_open(path, &db) != SQLITE_OK)
        fail_msg("open %s", path);
    sqlite3_busy_timeout(db, 5000);
    snprintf(sql, sizeof(sql),
             "INSERT INTO outbox (resource, id, version, op, payload, created_at, attempts) VALUES ('equipment', "
             "'%s', 1, 'upsert', '{\"id\":\"%s\",\"name\":\"sync-%s-9-Rope\",\"version\":1}', "
             "strftime('%%Y-%%m-%%dT%%H:%%M:%%fZ','now'), 0)",
             id, id, run_tag);
    int rc = sqlite3_exec(db, sql, NULL, NULL, NULL);
    if (rc != SQLITE_OK) {
        sqlite3_close(db);
        fail_msg("queue an equipment row: %s", sqlite3_errstr(rc));
    }
    json_t *ids = json_pack("[s]", id), *found = NULL;
    double t0 = now_s();
    size_t n = 0;
    for (;;) {
        struct err e = {0};
        found = NULL;
        if (harper_search_by_hash(hdb, SCHEMA, "equipment", ids, &found, &e) == 0)
            n = json_array_size(found);
        json_decref(found);
        if (n == 1 || now_s() - t0 > 15)
            break;
        sleep_ms(100);
    }
    if (n != 1) {
        json_decref(ids);
        sqlite3_close(db);
        fail_msg("an outbox row for resource equipment never reached %s.equipment; log:\n%s", SCHEMA,
                 log_tail(&srv_a, 1500));
    }
    /* Not in characters, and a delete row removes it from equipment. */
    json_t *rec = hdb_record(id);
    if (rec != NULL)
        fail_msg("the equipment row %s landed in %s.%s too", id, SCHEMA, TABLE);
    snprintf(sql, sizeof(sql),
             "INSERT INTO outbox (resource, id, version, op, payload, created_at, attempts) VALUES ('equipment', "
             "'%s', 1, 'delete', NULL, strftime('%%Y-%%m-%%dT%%H:%%M:%%fZ','now'), 0)",
             id);
    rc = sqlite3_exec(db, sql, NULL, NULL, NULL);
    sqlite3_close(db);
    if (rc != SQLITE_OK)
        fail_msg("queue an equipment delete: %s", sqlite3_errstr(rc));
    t0 = now_s();
    for (;;) {
        struct err e = {0};
        found = NULL;
        n = 1;
        if (harper_search_by_hash(hdb, SCHEMA, "equipment", ids, &found, &e) == 0)
            n = json_array_size(found);
        json_decref(found);
        if (n == 0 || now_s() - t0 > 15)
            break;
        sleep_ms(100);
    }
    json_decref(ids);
    if (n != 0)
        fail_msg("an equipment delete row did not remove %s from %s.equipment", id, SCHEMA);
    wait_readyz_ok(&srv_a, 0, 10, "after the equipment rows");
}

/* ---------------------------------------------------------------- 10. equipment and campaigns */

/* A request to s with the write token (body JSON, may be NULL); the status, the parsed body into *out (may be NULL). */
static long call_json(const struct harness_server *s, const char *method, const char *path, const char *body,
                      json_t **out)
{
    char url[256], auth[128];
    snprintf(url, sizeof(url), "%s%s", s->base_url, path);
    snprintf(auth, sizeof(auth), "Authorization: Bearer %s", s->write_token);
    const char *h[] = {auth, "Content-Type: application/json", NULL};
    struct http_response r;
    long status = http_request(method, url, h, body, body != NULL ? strlen(body) : 0, &r) == 0 ? r.status : 0;
    if (out != NULL)
        *out = harness_json(&r);
    http_response_release(&r);
    return status;
}

/* Poll (bounded) until GET path on s answers `status`; seconds, or -1. */
static double wait_status(const struct harness_server *s, const char *path, long status, double timeout_s)
{
    double t0 = now_s();
    for (;;) {
        if (call_json(s, "GET", path, NULL, NULL) == status)
            return now_s() - t0;
        if (now_s() - t0 > timeout_s)
            return -1;
        sleep_ms(50);
    }
}

/*
 * An equipment item and a campaign written on instance A reach instance B:
 * pulled into B's SQLite (each table with its own watermark), their updates
 * too, then read through by a third instance that pulls too rarely to have
 * them, and their deletes on A leave B's SQLite.
 */
static void test_equipment_and_campaigns_reach_other_instance(void **state)
{
    (void)state;
    NEED_HARPERDB();
    hdb_connect();
    start_server(&srv_a, NULL, 300, 2000, NULL);
    start_server(&srv_b, NULL, 300, 2000, NULL);
    wait_readyz_ok(&srv_a, -1, 20, "instance A");
    wait_readyz_ok(&srv_b, -1, 20, "instance B");
    char pb[PATH_MAX], body[512], path[160];
    db_path(&srv_b, pb, sizeof(pb));

    /* A custom shield and a character on A, then a campaign wearing the shield. */
    json_t *item = NULL, *camp = NULL;
    snprintf(body, sizeof(body),
             "{\"name\":\"sync-%s-10-Tower Shield\",\"equip_type\":\"shield\",\"base_cost\":12,\"weight\":9,"
             "\"base_attributes\":{\"armor_class\":2}}",
             run_tag);
    long st = call_json(&srv_a, "POST", "/v1/equipment", body, &item);
    if (st != 201)
        fail_msg("POST /v1/equipment on A: expected 201, got %ld", st);
    char item_id[ID_MAX], char_id[ID_MAX], camp_id[ID_MAX];
    snprintf(item_id, sizeof(item_id), "%s", json_string_value(json_object_get(item, "id")) ?: "");
    json_decref(item);
    snprintf(body, sizeof(body), "sync-%s-10-hero", run_tag);
    create_expect(&srv_a, body, "synced", char_id, NULL);
    snprintf(body, sizeof(body), "{\"character_id\":\"%s\"}", char_id);
    st = call_json(&srv_a, "POST", "/v1/campaigns", body, &camp);
    if (st != 201)
        fail_msg("POST /v1/campaigns on A: expected 201, got %ld", st);
    snprintf(camp_id, sizeof(camp_id), "%s", json_string_value(json_object_get(camp, "id")) ?: "");
    json_decref(camp);
    snprintf(path, sizeof(path), "/v1/campaigns/%s/equip", camp_id);
    snprintf(body, sizeof(body), "{\"item\":\"%s\",\"slot\":\"shield\"}", item_id);
    st = call_json(&srv_a, "POST", path, body, &camp);
    /* Thorin: unarmored AC 9 (DEX 8), + 2 for the shield = 11. */
    if (st != 200 || json_integer_value(json_object_get(camp, "armor_class")) != 11)
        fail_msg("equip the custom shield on A: expected 200 with armor_class 11, got %ld / %lld", st,
                 json_integer_value(json_object_get(camp, "armor_class")));
    json_decref(camp);

    /* Both arrive in B's SQLite by pulling (the campaign at version 2, after the equip). */
    double t_item = wait_sql_true(pb, "SELECT count(*) FROM equipment WHERE id = ?1 AND document IS NOT NULL "
                                      "AND equip_type = 'shield'",
                                  item_id, 15);
    if (t_item < 0)
        fail_msg("equipment item %s written on A never reached B's SQLite (with its equip_type column) by "
                 "pulling; B's log:\n%s",
                 item_id, log_tail(&srv_b, 1500));
    double t_camp = wait_sql_true(pb, "SELECT count(*) FROM campaign WHERE id = ?1 AND version = 2", camp_id, 15);
    if (t_camp < 0)
        fail_msg("campaign %s (version 2) written on A never reached B's SQLite by pulling; B's log:\n%s", camp_id,
                 log_tail(&srv_b, 1500));
    if (sql_int(pb, "SELECT count(*) FROM campaign WHERE id = ?1 AND character_id IS NOT NULL", camp_id) != 1)
        fail_msg("pulled campaign %s has no character_id column on B", camp_id);
    snprintf(path, sizeof(path), "/v1/campaigns?character_id=%s", char_id);
    json_t *list = NULL;
    st = call_json(&srv_b, "GET", path, NULL, &list);
    if (st != 200 || json_integer_value(json_object_get(list, "count")) != 1)
        fail_msg("GET %s on B: expected 200 with count 1, got %ld / %lld", path, st,
                 json_integer_value(json_object_get(list, "count")));
    json_decref(list);
    fprintf(stderr, "sync: equipment pulled to B after %.2f s, campaign after %.2f s\n", t_item, t_camp);

    /* An update on A reaches B too. */
    snprintf(path, sizeof(path), "/v1/campaigns/%s/hp", camp_id);
    st = call_json(&srv_a, "POST", path, "{\"damage\":5}", NULL);
    if (st != 200)
        fail_msg("POST %s on A: expected 200, got %ld", path, st);
    if (wait_sql_true(pb, "SELECT count(*) FROM campaign WHERE id = ?1 AND version = 3", camp_id, 15) < 0)
        fail_msg("campaign %s version 3 never reached B", camp_id);
    snprintf(path, sizeof(path), "/v1/campaigns/%s", camp_id);
    st = call_json(&srv_b, "GET", path, NULL, &camp);
    /* Thorin's 12 HP - 5 = 7. */
    if (st != 200 || json_integer_value(json_object_get(camp, "current_hp")) != 7)
        fail_msg("GET %s on B: expected 200 with current_hp 7, got %ld / %lld", path, st,
                 json_integer_value(json_object_get(camp, "current_hp")));
    json_decref(camp);

    /* Read-through: an instance that pulls once a minute still answers GET for both at once. */
    harness_server_cleanup(&srv_b);
    start_server(&srv_b, NULL, 60000, 2000, NULL);
    wait_readyz_ok(&srv_b, -1, 20, "instance C");
    db_path(&srv_b, pb, sizeof(pb));
    /* The first pull runs at start: write after it, so only a read-through can bring them. */
    char item2[ID_MAX];
    snprintf(body, sizeof(body), "{\"name\":\"sync-%s-10-Rope\",\"equip_type\":\"other\",\"weight\":10}", run_tag);
    st = call_json(&srv_a, "POST", "/v1/equipment", body, &item);
    if (st != 201)
        fail_msg("POST /v1/equipment on A: expected 201, got %ld", st);
    snprintf(item2, sizeof(item2), "%s", json_string_value(json_object_get(item, "id")) ?: "");
    json_decref(item);
    if (sql_int(pb, "SELECT count(*) FROM equipment WHERE id = ?1", item2) != 0)
        fail_msg("instance C has %s before any read: the read-through test would prove nothing", item2);
    snprintf(path, sizeof(path), "/v1/equipment/%s", item2);
    st = call_json(&srv_b, "GET", path, NULL, &item);
    if (st != 200 || strcmp(json_string_value(json_object_get(item, "id")) ?: "", item2) != 0)
        fail_msg("GET %s on C (read-through): expected 200 with the item, got %ld; log:\n%s", path, st,
                 log_tail(&srv_b, 1500));
    json_decref(item);
    snprintf(path, sizeof(path), "/v1/campaigns/%s", camp_id);
    if (sql_int(pb, "SELECT count(*) FROM campaign WHERE id = ?1", camp_id) == 0) {
        st = call_json(&srv_b, "GET", path, NULL, &camp);
        if (st != 200 || json_integer_value(json_object_get(camp, "current_hp")) != 7)
            fail_msg("GET %s on C (read-through): expected 200 with current_hp 7, got %ld; log:\n%s", path, st,
                     log_tail(&srv_b, 1500));
        json_decref(camp);
    }
    /* An id nobody wrote is still 404 after asking HarperDB. */
    char nobody[ID_MAX];
    random_uuid(nobody);
    snprintf(path, sizeof(path), "/v1/campaigns/%s", nobody);
    if ((st = call_json(&srv_b, "GET", path, NULL, NULL)) != 404)
        fail_msg("GET %s (an id no one wrote) on C: expected 404, got %ld", path, st);
    snprintf(path, sizeof(path), "/v1/equipment/%s", nobody);
    if ((st = call_json(&srv_b, "GET", path, NULL, NULL)) != 404)
        fail_msg("GET %s (an id no one wrote) on C: expected 404, got %ld", path, st);

    /* Deletes on A leave another instance's SQLite: restart B pulling often, with what C read kept. */
    harness_server_cleanup(&srv_b);
    start_server(&srv_b, NULL, 300, 2000, NULL);
    wait_readyz_ok(&srv_b, -1, 20, "instance B again");
    db_path(&srv_b, pb, sizeof(pb));
    if (wait_sql_true(pb, "SELECT count(*) FROM campaign WHERE id = ?1", camp_id, 15) < 0 ||
        wait_sql_true(pb, "SELECT count(*) FROM equipment WHERE id = ?1", item_id, 15) < 0)
        fail_msg("a fresh instance B did not pull campaign %s and item %s", camp_id, item_id);
    snprintf(path, sizeof(path), "/v1/campaigns/%s", camp_id);
    if ((st = call_json(&srv_a, "DELETE", path, NULL, NULL)) != 204)
        fail_msg("DELETE %s on A: expected 204, got %ld", path, st);
    snprintf(path, sizeof(path), "/v1/equipment/%s", item_id);
    if ((st = call_json(&srv_a, "DELETE", path, NULL, NULL)) != 204)
        fail_msg("DELETE %s on A: expected 204, got %ld", path, st);
    if (wait_sql_true(pb, "SELECT count(*) = 0 FROM campaign WHERE id = ?1", camp_id, 15) < 0)
        fail_msg("campaign %s deleted on A is still in B's SQLite after 15 s; B's log:\n%s", camp_id,
                 log_tail(&srv_b, 1500));
    if (wait_sql_true(pb, "SELECT count(*) = 0 FROM equipment WHERE id = ?1", item_id, 15) < 0)
        fail_msg("equipment item %s deleted on A is still in B's SQLite after 15 s", item_id);
    snprintf(path, sizeof(path), "/v1/equipment/%s", item_id);
    if (wait_status(&srv_b, path, 404, 5) < 0)
        fail_msg("GET %s on B after the delete: expected 404", path);
    /* Both are gone from HarperDB too. */
    json_t *ids = json_pack("[ss]", item_id, camp_id), *found = NULL;
    struct err e = {0};
    if (harper_search_by_hash(hdb, SCHEMA, "equipment", ids, &found, &e) != 0 || json_array_size(found) != 0)
        fail_msg("equipment item %s is still in HarperDB after the delete", item_id);
    json_decref(found);
    found = NULL;
    if (harper_search_by_hash(hdb, SCHEMA, "campaign", ids, &found, &e) != 0 || json_array_size(found) != 0)
        fail_msg("campaign %s is still in HarperDB after the delete", camp_id);
    json_decref(found);
    json_decref(ids);
}

/* ---------------------------------------------------------------- 11. writes read through */

/*
 * A request to s with the write token, JSON body (may be NULL) and If-Match
 * (may be NULL); the status, Sync-Status into sync[32] (may be NULL), the
 * parsed body into *out (may be NULL).
 */
static long call_write(const struct harness_server *s, const char *method, const char *path, const char *body,
                       const char *if_match, char *sync, json_t **out)
{
    char url[256], auth[128], im[160];
    snprintf(url, sizeof(url), "%s%s", s->base_url, path);
    snprintf(auth, sizeof(auth), "Authorization: Bearer %s", s->write_token);
    snprintf(im, sizeof(im), "If-Match: %s", if_match != NULL ? if_match : "");
    const char *h[] = {auth, "Content-Type: application/json", if_match != NULL ? im : NULL, NULL};
    struct http_response r;
    long status = http_request(method, url, h, body, body != NULL ? strlen(body) : 0, &r) == 0 ? r.status : 0;
    if (sync != NULL) {
        sync[0] = '\0';
        http_response_header(&r, "sync-status", sync, 32);
    }
    if (out != NULL)
        *out = harness_json(&r);
    http_response_release(&r);
    return status;
}

/* The HarperDB record `id` of table `table`, or NULL (new reference). */
static json_t *hdb_table_record(const char *table, const char *id)
{
    json_t *ids = json_pack("[s]", id), *found = NULL;
    struct err e = {0};
    int rc = harper_search_by_hash(hdb, SCHEMA, table, ids, &found, &e);
    json_decref(ids);
    if (rc != 0)
        fail_msg("search_by_hash %s.%s [%s]: %s", SCHEMA, table, id, e.msg);
    json_t *rec = json_array_size(found) > 0 ? json_incref(json_array_get(found, 0)) : NULL;
    json_decref(found);
    return rec;
}

/*
 * Instance B pulls once every ten minutes, so it lacks what A writes after
 * its first pull; still it accepts writes on those rows: it reads each row
 * through from HarperDB first (the campaign, its character, a custom item,
 * a character to replace or delete, a character to start a campaign with),
 * checks If-Match against the row it read, and the results reach HarperDB
 * and A. An id nobody wrote stays 404, and a wrong If-Match is 412, not 404.
 */
static void test_writes_read_through(void **state)
{
    (void)state;
    NEED_HARPERDB();
    hdb_connect();
    start_server(&srv_a, NULL, 300, 2000, NULL);
    start_server(&srv_b, NULL, 600000, 3000, NULL);
    wait_readyz_ok(&srv_a, -1, 20, "instance A");
    wait_readyz_ok(&srv_b, -1, 20, "instance B");
    char pb[PATH_MAX], body[1024], path[160], name[128], sync[32];
    db_path(&srv_b, pb, sizeof(pb));

    /* On A, after B's first pull: four characters, a custom shield, a campaign for the first character. */
    char hero[ID_MAX], put_id[ID_MAX], del_id[ID_MAX], camp_char[ID_MAX], item_id[ID_MAX], camp_id[ID_MAX];
    snprintf(name, sizeof(name), "sync-%s-11-hero", run_tag);
    create_expect(&srv_a, name, "synced", hero, NULL);
    snprintf(name, sizeof(name), "sync-%s-11-replaced", run_tag);
    create_expect(&srv_a, name, "synced", put_id, NULL);
    snprintf(name, sizeof(name), "sync-%s-11-deleted", run_tag);
    create_expect(&srv_a, name, "synced", del_id, NULL);
    snprintf(name, sizeof(name), "sync-%s-11-recruit", run_tag);
    create_expect(&srv_a, name, "synced", camp_char, NULL);
    json_t *j = NULL;
    snprintf(body, sizeof(body),
             "{\"name\":\"sync-%s-11-Kite Shield\",\"equip_type\":\"shield\",\"base_cost\":10,\"weight\":6,"
             "\"base_attributes\":{\"armor_class\":2}}",
             run_tag);
    long st = call_write(&srv_a, "POST", "/v1/equipment", body, NULL, sync, &j);
    if (st != 201 || strcmp(sync, "synced") != 0)
        fail_msg("POST /v1/equipment on A: expected 201 synced, got %ld %s", st, sync);
    snprintf(item_id, sizeof(item_id), "%s", json_string_value(json_object_get(j, "id")) ?: "");
    json_decref(j);
    snprintf(body, sizeof(body), "{\"character_id\":\"%s\"}", hero);
    st = call_write(&srv_a, "POST", "/v1/campaigns", body, NULL, sync, &j);
    if (st != 201 || strcmp(sync, "synced") != 0)
        fail_msg("POST /v1/campaigns on A: expected 201 synced, got %ld %s", st, sync);
    snprintf(camp_id, sizeof(camp_id), "%s", json_string_value(json_object_get(j, "id")) ?: "");
    json_decref(j);
    char a_etag[128];
    get_etag(&srv_a, put_id, a_etag, sizeof(a_etag));
    const char *mine[] = {hero, put_id, del_id, camp_char};
    for (size_t i = 0; i < 4; i++)
        if (sql_int(pb, "SELECT count(*) FROM characters WHERE id = ?1", mine[i]) != 0)
            fail_msg("B has character %s before any request: pulled early, the test would prove nothing", mine[i]);
    if (sql_int(pb, "SELECT count(*) FROM campaign WHERE id = ?1", camp_id) != 0 ||
        sql_int(pb, "SELECT count(*) FROM equipment WHERE id = ?1", item_id) != 0)
        fail_msg("B has the campaign or the item before any request: the test would prove nothing");

    /* An action on the campaign on B: the campaign, its character and the custom item come from HarperDB. */
    snprintf(path, sizeof(path), "/v1/campaigns/%s/equip", camp_id);
    snprintf(body, sizeof(body), "{\"item\":\"%s\",\"slot\":\"shield\"}", item_id);
    double t0 = now_s();
    st = call_write(&srv_b, "POST", path, body, NULL, sync, &j);
    double t_equip = now_s() - t0;
    /* Thorin: unarmored AC 9 (DEX 8), + 2 for the shield = 11. */
    if (st != 200 || json_integer_value(json_object_get(j, "armor_class")) != 11 ||
        json_integer_value(json_object_get(j, "version")) != 2 || strcmp(sync, "synced") != 0)
        fail_msg("POST %s on B (none of it pulled yet): expected 200 synced, version 2, armor_class 11; got %ld %s "
                 "version %lld armor_class %lld; B's log:\n%s",
                 path, st, sync, json_integer_value(json_object_get(j, "version")),
                 json_integer_value(json_object_get(j, "armor_class")), log_tail(&srv_b, 1500));
    json_decref(j);
    snprintf(path, sizeof(path), "/v1/campaigns/%s/hp", camp_id);
    if ((st = call_write(&srv_b, "POST", path, "{\"damage\":4}", NULL, sync, NULL)) != 200)
        fail_msg("POST %s on B: expected 200, got %ld", path, st);

    /* PUT on B of a character only HarperDB has: If-Match is judged against the row read through. */
    snprintf(path, sizeof(path), "/v1/characters/%s", put_id);
    snprintf(body, sizeof(body),
             "{\"name\":\"sync-%s-11-renamed\",\"race\":\"dwarf\",\"subrace\":\"hill-dwarf\",\"class\":\"cleric\","
             "\"subclass\":\"life\",\"background\":\"acolyte\",\"alignment\":\"lawful-good\",\"level\":1,"
             "\"ability_scores\":{\"method\":\"standard_array\",\"assign\":{\"str\":13,\"dex\":8,\"con\":14,"
             "\"int\":10,\"wis\":15,\"cha\":12}},\"skills\":[\"history\",\"medicine\"],"
             "\"languages\":[\"giant\",\"elvish\"],\"choices\":{\"tool\":\"smiths-tools\"}}",
             run_tag);
    st = call_write(&srv_b, "PUT", path, body, "\"not-the-etag\"", sync, NULL);
    if (st != 412)
        fail_msg("PUT %s on B with a wrong If-Match: expected 412 (judged after the read-through), got %ld", path, st);
    st = call_write(&srv_b, "PUT", path, body, a_etag, sync, &j);
    if (st != 200 || json_integer_value(json_object_get(j, "version")) != 2 || strcmp(sync, "synced") != 0)
        fail_msg("PUT %s on B with A's ETag %s: expected 200 synced at version 2, got %ld %s; B's log:\n%s", path,
                 a_etag, st, sync, log_tail(&srv_b, 1500));
    json_decref(j);

    /* DELETE on B of a character only HarperDB has. */
    snprintf(path, sizeof(path), "/v1/characters/%s", del_id);
    if ((st = call_write(&srv_b, "DELETE", path, NULL, NULL, sync, NULL)) != 204 || strcmp(sync, "synced") != 0)
        fail_msg("DELETE %s on B (not pulled yet): expected 204 synced, got %ld %s", path, st, sync);

    /* A campaign on B for a character only HarperDB has. */
    snprintf(body, sizeof(body), "{\"character_id\":\"%s\"}", camp_char);
    char camp2[ID_MAX];
    st = call_write(&srv_b, "POST", "/v1/campaigns", body, NULL, sync, &j);
    if (st != 201 || strcmp(json_string_value(json_object_get(j, "character_id")) ?: "", camp_char) != 0)
        fail_msg("POST /v1/campaigns on B for character %s (not pulled yet): expected 201, got %ld", camp_char, st);
    snprintf(camp2, sizeof(camp2), "%s", json_string_value(json_object_get(j, "id")) ?: "");
    json_decref(j);

    /* Ids nobody wrote: still 404 (422 for a campaign's character) after asking HarperDB. */
    char nobody[ID_MAX];
    random_uuid(nobody);
    snprintf(path, sizeof(path), "/v1/characters/%s", nobody);
    if ((st = call_write(&srv_b, "PUT", path, body, NULL, NULL, NULL)) != 404)
        fail_msg("PUT %s (an id no one wrote) on B: expected 404, got %ld", path, st);
    if ((st = call_write(&srv_b, "DELETE", path, NULL, NULL, NULL, NULL)) != 404)
        fail_msg("DELETE %s (an id no one wrote) on B: expected 404, got %ld", path, st);
    snprintf(path, sizeof(path), "/v1/campaigns/%s/xp", nobody);
    if ((st = call_write(&srv_b, "POST", path, "{\"award\":10}", NULL, NULL, NULL)) != 404)
        fail_msg("POST %s (an id no one wrote) on B: expected 404, got %ld", path, st);
    snprintf(body, sizeof(body), "{\"character_id\":\"%s\"}", nobody);
    if ((st = call_write(&srv_b, "POST", "/v1/campaigns", body, NULL, NULL, NULL)) != 422)
        fail_msg("POST /v1/campaigns on B for a character no one wrote: expected 422, got %ld", st);
    fprintf(stderr, "sync: a campaign action on B reading three rows through took %.0f ms\n", t_equip * 1000);

    /* The results are in HarperDB ... */
    double took;
    json_t *rec = wait_hdb_version(put_id, 2, 10, &took);
    if (rec == NULL)
        fail_msg("character %s replaced on B never reached version 2 in HarperDB", put_id);
    json_decref(rec);
    if (wait_hdb_version(del_id, 0, 10, &took) != NULL || took < 0)
        fail_msg("character %s deleted on B is still in HarperDB", del_id);
    rec = hdb_table_record("campaign", camp_id);
    if (json_integer_value(json_object_get(rec, "version")) != 3)
        fail_msg("campaign %s: expected version 3 in HarperDB after B's two actions, got %lld", camp_id,
                 json_integer_value(json_object_get(rec, "version")));
    json_decref(rec);
    if ((rec = hdb_table_record("campaign", camp2)) == NULL)
        fail_msg("campaign %s created on B is not in HarperDB", camp2);
    json_decref(rec);

    /* ... and A pulls them. */
    if (wait_get(&srv_a, put_id, 200, 2, 15) < 0)
        fail_msg("A never answered version 2 of %s replaced on B", put_id);
    if (wait_get(&srv_a, del_id, 404, 0, 15) < 0)
        fail_msg("A still answers %s deleted on B", del_id);
    char pa[PATH_MAX];
    db_path(&srv_a, pa, sizeof(pa));
    if (wait_sql_true(pa, "SELECT count(*) FROM campaign WHERE id = ?1 AND version = 3", camp_id, 15) < 0)
        fail_msg("campaign %s version 3 (B's actions) never reached A's SQLite", camp_id);
    snprintf(path, sizeof(path), "/v1/campaigns/%s", camp_id);
    st = call_write(&srv_a, "GET", path, NULL, NULL, NULL, &j);
    /* Thorin's 12 HP - 4 = 8, the shield on. */
    if (st != 200 || json_integer_value(json_object_get(j, "current_hp")) != 8 ||
        json_integer_value(json_object_get(j, "armor_class")) != 11)
        fail_msg("GET %s on A: expected 200 with current_hp 8 and armor_class 11, got %ld / %lld / %lld", path, st,
                 json_integer_value(json_object_get(j, "current_hp")),
                 json_integer_value(json_object_get(j, "armor_class")));
    json_decref(j);
    snprintf(path, sizeof(path), "/v1/campaigns/%s", camp2);
    if (wait_status(&srv_a, path, 200, 15) < 0)
        fail_msg("campaign %s created on B never reached A", camp2);

    /* The original API's PUT /campaign on B naming a custom item only HarperDB has: read through as well. */
    char item2[ID_MAX];
    snprintf(body, sizeof(body),
             "{\"name\":\"sync-%s-11-Buckler\",\"equip_type\":\"shield\",\"base_cost\":5,\"weight\":3,"
             "\"base_attributes\":{\"armor_class\":1}}",
             run_tag);
    st = call_write(&srv_a, "POST", "/v1/equipment", body, NULL, sync, &j);
    if (st != 201 || strcmp(sync, "synced") != 0)
        fail_msg("POST /v1/equipment (buckler) on A: expected 201 synced, got %ld %s", st, sync);
    snprintf(item2, sizeof(item2), "%s", json_string_value(json_object_get(j, "id")) ?: "");
    json_decref(j);
    if (sql_int(pb, "SELECT count(*) FROM equipment WHERE id = ?1", item2) != 0)
        fail_msg("B has the buckler before any request: the test would prove nothing");
    snprintf(path, sizeof(path), "/campaign?id=%s", camp2);
    snprintf(body, sizeof(body), "{\"currently_equiped\":[\"%s\"]}", item2);
    st = call_write(&srv_b, "PUT", path, body, NULL, NULL, &j);
    if (st != 200)
        fail_msg("PUT %s on B with a custom item only HarperDB has: expected 200, got %ld", path, st);
    json_decref(j);
    if (sql_int(pb, "SELECT count(*) FROM equipment WHERE id = ?1", item2) != 1)
        fail_msg("the buckler was not read through into B's SQLite");
}

int main(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_create_synced, teardown),
        cmocka_unit_test_teardown(test_pull_update_and_delete, teardown),
        cmocka_unit_test_teardown(test_two_instances, teardown),
        cmocka_unit_test_teardown(test_unreachable_then_drain, teardown),
        cmocka_unit_test_teardown(test_kill9_under_load, teardown),
        cmocka_unit_test_teardown(test_no_worker_stalls, teardown),
        cmocka_unit_test_teardown(test_pull_backlog_after_outage, teardown),
        cmocka_unit_test_teardown(test_update_and_delete_reach_other_instance, teardown),
        cmocka_unit_test_teardown(test_outbox_resource_picks_table, teardown),
        cmocka_unit_test_teardown(test_equipment_and_campaigns_reach_other_instance, teardown),
        cmocka_unit_test_teardown(test_writes_read_through, teardown),
    };
    const char *only = getenv("SYNC_TEST_FILTER"); /* e.g. "test_kill9*": run the matching tests only */
    if (only != NULL && only[0] != '\0')
        cmocka_set_test_filter(only);
    int failed = cmocka_run_group_tests_name("sync", tests, group_setup, NULL);
    harness_cleanup_all();
    curl_global_cleanup();
    if (failed == 0 && hdb_uri == NULL)
        return 77; /* nothing ran: automake's "skipped" */
    return failed;
}
