/*
 * tests/migrate/test_migrate_tool.c - the real character-migrate binary
 * against a real SQLite file and, when HARPERDB_URI names a running HarperDB
 * (scripts/test starts one with scripts/harperdb), a real HarperDB: apply,
 * re-run, status and plan output, checksum refusal, verify/repair/baseline,
 * --to, two concurrent runs, kill -9 mid-run then resume, CSV loads twice,
 * and the original Flask API's init.yaml and equipment CSVs when ../shared is
 * there. Every test builds its own migrations folder and stores.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
/* clang-format off */
#include <cmocka.h>
/* clang-format on */

#include <curl/curl.h>
#include <fcntl.h>
#include <jansson.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "storage/harper.h"

struct ctx {
    char dir[64];       /* temp folder: migrations/, db, outputs */
    char mig[96];       /* migrations folder */
    char db[96];        /* SQLite file */
    char schema[48];    /* unique HarperDB schema for this test's tables */
    int harper;         /* HarperDB available */
};

struct out {
    int status;         /* exit status, -1 when killed */
    char text[65536];   /* stdout then stderr */
};

static const char *bin(void)
{
    static char path[1024];
    const char *b = getenv("top_builddir");
    snprintf(path, sizeof(path), "%s/character-migrate", b ? b : ".");
    return path;
}

static void write_file(const char *dir, const char *name, const char *text)
{
    char p[256];
    snprintf(p, sizeof(p), "%s/%s", dir, name);
    FILE *f = fopen(p, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

/* Start the tool with args (NULL-terminated) on this context's stores; output to FILE. */
static pid_t spawn_tool(struct ctx *c, const char *const *args, const char *outfile)
{
    pid_t pid = fork();
    if (pid == 0) {
        int fd = open(outfile, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        dup2(fd, 1);
        dup2(fd, 2);
        int nul = open("/dev/null", O_RDONLY);
        dup2(nul, 0);
        const char *argv[32];
        size_t n = 0;
        argv[n++] = bin();
        argv[n++] = "--database";
        argv[n++] = c->db;
        argv[n++] = "--migrations";
        argv[n++] = c->mig;
        for (size_t i = 0; args[i] != NULL && n < 30; i++)
            argv[n++] = args[i];
        argv[n] = NULL;
        if (c->harper) {
            setenv("DB_URI", getenv("HARPERDB_URI"), 1);
            setenv("DB_USER", getenv("HARPERDB_USER") ? getenv("HARPERDB_USER") : "", 1);
            setenv("DB_PASSWORD", getenv("HARPERDB_PASSWORD") ? getenv("HARPERDB_PASSWORD") : "", 1);
            /* Each test keeps its own tracking tables, so tests sharing one HarperDB do not meet. */
            char track[64];
            snprintf(track, sizeof(track), "%s_m", c->schema);
            setenv("CHARACTER_MIGRATIONS_HARPER_SCHEMA", track, 1);
        } else {
            unsetenv("DB_URI");
        }
        execv(argv[0], (char *const *)argv);
        _exit(127);
    }
    return pid;
}

static void collect(const char *outfile, int status, struct out *o)
{
    o->status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    FILE *f = fopen(outfile, "r");
    size_t n = f ? fread(o->text, 1, sizeof(o->text) - 1, f) : 0;
    o->text[n] = '\0';
    if (f)
        fclose(f);
}

static void run(struct ctx *c, struct out *o, const char *const *args)
{
    char outfile[160];
    snprintf(outfile, sizeof(outfile), "%s/out.txt", c->dir);
    int status;
    pid_t pid = spawn_tool(c, args, outfile);
    waitpid(pid, &status, 0);
    collect(outfile, status, o);
}

#define RUN(c, o, ...)                                                                                                 \
    do {                                                                                                               \
        const char *a_[] = {__VA_ARGS__, NULL};                                                                        \
        run(c, o, a_);                                                                                                 \
    } while (0)

static void expect_ok(const struct out *o)
{
    if (o->status != 0)
        fail_msg("character-migrate exited %d:\n%s", o->status, o->text);
}

static void expect_text(const struct out *o, const char *needle)
{
    if (strstr(o->text, needle) == NULL)
        fail_msg("output lacks \"%s\":\n%s", needle, o->text);
}

static long long sql_int(struct ctx *c, const char *sql)
{
    sqlite3 *db;
    assert_int_equal(sqlite3_open(c->db, &db), SQLITE_OK);
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
        fail_msg("%s: %s", sql, sqlite3_errmsg(db));
    long long v = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : -1;
    sqlite3_finalize(st);
    sqlite3_close(db);
    return v;
}

static struct harper *harper_connect(void)
{
    struct harper_options o = {.uri = getenv("HARPERDB_URI"), .user = getenv("HARPERDB_USER"),
                               .password = getenv("HARPERDB_PASSWORD")};
    struct harper *h = NULL;
    struct err e = {0};
    if (harper_open(&o, &h, &e) != 0)
        fail_msg("harper_open: %s", e.msg);
    return h;
}

/* Rows in a HarperDB table of this test's schema. */
static size_t harper_count(struct ctx *c, const char *table)
{
    struct harper *h = harper_connect();
    json_t *all = NULL;
    struct err e = {0};
    if (harper_all(h, c->schema, table, "id", &all, &e) != 0)
        fail_msg("harper_all %s.%s: %s", c->schema, table, e.msg);
    size_t n = json_array_size(all);
    json_decref(all);
    harper_close(h);
    return n;
}

/* A CSV in the original API's format: BOM, CRLF, no final line ending, an empty field. */
static void write_items_csv(struct ctx *c, int rows)
{
    char p[160];
    snprintf(p, sizeof(p), "%s/items.csv", c->mig);
    FILE *f = fopen(p, "w");
    fputs("\xef\xbb\xbfname,equip_type,base_cost,weight,stealth", f);
    for (int i = 0; i < rows; i++)
        fprintf(f, "\r\nItem %d,other,%d.5,%d,%s", i, i, i % 7, i % 3 == 0 ? "disadvantage" : "");
    fclose(f);
}

static void write_migrations(struct ctx *c, int rows)
{
    char text[2048];
    snprintf(text, sizeof(text),
             "init:\n  schemas: [%s]\n  tables:\n    items:\n      schema: %s\n      attributes: [id]\n"
             "    notes:\n      schema: %s\n      attributes: [id, {name: body, type: text}]\n",
             c->schema, c->schema, c->schema);
    write_file(c->mig, "0001_init.yaml", text);
    snprintf(text, sizeof(text),
             "- add_attributes:\n    table: items\n    schema: %s\n    attributes:\n      - name\n      - equip_type\n"
             "      - {name: base_cost, type: real}\n      - {name: weight, type: real}\n      - stealth\n"
             "- indexes:\n    table: items\n    schema: %s\n    attributes: [name]\n"
             "- load:\n    table: items\n    schema: %s\n    file: items.csv\n    key: name\n",
             c->schema, c->schema, c->schema);
    write_file(c->mig, "0002_items.yaml", text);
    write_items_csv(c, rows);
}

static int setup(void **state)
{
    struct ctx *c = calloc(1, sizeof(*c));
    strcpy(c->dir, "/tmp/character-migrate-XXXXXX");
    if (mkdtemp(c->dir) == NULL)
        return -1;
    snprintf(c->mig, sizeof(c->mig), "%s/migrations", c->dir);
    snprintf(c->db, sizeof(c->db), "%s/test.db", c->dir);
    mkdir(c->mig, 0700);
    unsigned r;
    FILE *f = fopen("/dev/urandom", "r");
    if (f == NULL || fread(&r, sizeof(r), 1, f) != 1)
        r = (unsigned)getpid();
    if (f)
        fclose(f);
    snprintf(c->schema, sizeof(c->schema), "t%u_%u", (unsigned)getpid(), r % 100000);
    c->harper = getenv("HARPERDB_URI") != NULL && getenv("HARPERDB_URI")[0] != '\0';
    *state = c;
    return 0;
}

static int teardown(void **state)
{
    struct ctx *c = *state;
    if (c->harper) {
        struct harper *h = harper_connect();
        struct err e;
        char track[64];
        snprintf(track, sizeof(track), "%s_m", c->schema);
        const char *schemas[] = {c->schema, track};
        for (int i = 0; i < 2; i++) {
            json_t *op = json_pack("{s:s, s:s}", "operation", "drop_schema", "schema", schemas[i]);
            harper_op(h, op, NULL, &e);
            json_decref(op);
        }
        harper_close(h);
    }
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", c->dir);
    int rc = system(cmd);
    free(c);
    return rc == 0 ? 0 : -1;
}

static void need_harper(struct ctx *c)
{
    if (!c->harper) {
        print_message("HARPERDB_URI unset: skipping (scripts/test starts HarperDB with scripts/harperdb)\n");
        skip();
    }
}

/* ---- SQLite ---- */

static void test_sqlite_up_rerun_status_plan(void **state)
{
    struct ctx *c = *state;
    c->harper = 0;
    write_migrations(c, 5);
    struct out o;
    RUN(c, &o, "plan");
    expect_ok(&o);
    expect_text(&o, "CREATE TABLE");
    expect_text(&o, "0002 items");
    assert_int_equal(sql_int(c, "SELECT count(*) FROM sqlite_master WHERE name = 'items'"), 0); /* plan changed nothing */
    RUN(c, &o, "status");
    expect_ok(&o);
    expect_text(&o, "0 applied, 2 pending");
    RUN(c, &o, "up");
    expect_ok(&o);
    expect_text(&o, "applied 2 migration(s)");
    assert_int_equal(sql_int(c, "SELECT count(*) FROM items"), 5);
    assert_int_equal(sql_int(c, "SELECT count(*) FROM items WHERE stealth IS NULL"), 3);
    RUN(c, &o, "up");
    expect_ok(&o);
    expect_text(&o, "applied 0 migration(s)");
    RUN(c, &o, "status");
    expect_text(&o, "2 applied, 0 pending, 0 changed, 0 orphan");
    RUN(c, &o, "plan");
    expect_text(&o, "nothing pending");
    RUN(c, &o, "verify");
    expect_ok(&o);
}

static void test_sqlite_checksum_refused_then_repair(void **state)
{
    struct ctx *c = *state;
    c->harper = 0;
    write_migrations(c, 3);
    struct out o;
    RUN(c, &o, "up");
    expect_ok(&o);
    write_items_csv(c, 4); /* the loaded data changed after it was applied */
    RUN(c, &o, "up");
    assert_int_equal(o.status, 1);
    expect_text(&o, "applied checksum");
    expect_text(&o, "file checksum");
    RUN(c, &o, "verify");
    assert_int_equal(o.status, 1);
    expect_text(&o, "changed");
    RUN(c, &o, "repair");
    expect_ok(&o);
    expect_text(&o, "1 changed migration(s)");
    RUN(c, &o, "verify");
    expect_ok(&o);
}

static void test_sqlite_to_and_baseline(void **state)
{
    struct ctx *c = *state;
    c->harper = 0;
    write_migrations(c, 2);
    struct out o;
    RUN(c, &o, "up", "--to", "1");
    expect_ok(&o);
    expect_text(&o, "applied 1 migration(s)");
    RUN(c, &o, "status");
    expect_text(&o, "1 applied, 1 pending");
    RUN(c, &o, "up", "--to", "x");
    assert_int_equal(o.status, 2);
    /* A database made by hand before migrations existed: record 0001 as applied, then run the rest. */
    unlink(c->db);
    sqlite3 *db;
    sqlite3_open(c->db, &db);
    sqlite3_exec(db, "CREATE TABLE items (id TEXT PRIMARY KEY); CREATE TABLE notes (id TEXT PRIMARY KEY, body TEXT)",
                 NULL, NULL, NULL);
    sqlite3_close(db);
    RUN(c, &o, "baseline", "1");
    expect_ok(&o);
    expect_text(&o, "recorded 1 migration(s) up to 0001");
    RUN(c, &o, "up");
    expect_ok(&o);
    expect_text(&o, "applied 1 migration(s)");
    assert_int_equal(sql_int(c, "SELECT count(*) FROM items"), 2);
}

static void test_usage_errors(void **state)
{
    struct ctx *c = *state;
    c->harper = 0;
    write_migrations(c, 1);
    struct out o;
    RUN(c, &o, "frobnicate");
    assert_int_equal(o.status, 2);
    expect_text(&o, "unknown command \"frobnicate\"");
    RUN(c, &o, "status", "--target", "mars");
    assert_int_equal(o.status, 2);
    RUN(c, &o, "status", "--target", "harper");
    assert_int_equal(o.status, 2);
    expect_text(&o, "not configured");
    write_file(c->mig, "0003_bad.yaml", "init:\n  tables:\n    x:\n      schema: s\n      atributes: [id]\n");
    RUN(c, &o, "up");
    assert_int_equal(o.status, 1);
    expect_text(&o, "0003_bad.yaml:5:");
    assert_int_equal(sql_int(c, "SELECT count(*) FROM sqlite_master WHERE name = 'items'"), 0); /* nothing applied */
}

/* Run `up` twice at once (twice): both succeed, each migration applied once. */
static void concurrent_up(struct ctx *c)
{
    char f1[160], f2[160];
    snprintf(f1, sizeof(f1), "%s/o1.txt", c->dir);
    snprintf(f2, sizeof(f2), "%s/o2.txt", c->dir);
    const char *args[] = {"up", NULL};
    pid_t a = spawn_tool(c, args, f1), b = spawn_tool(c, args, f2);
    int sa, sb;
    waitpid(a, &sa, 0);
    waitpid(b, &sb, 0);
    static struct out oa, ob;
    collect(f1, sa, &oa);
    collect(f2, sb, &ob);
    expect_ok(&oa);
    expect_ok(&ob);
}

static void test_sqlite_concurrent_up(void **state)
{
    struct ctx *c = *state;
    c->harper = 0;
    write_migrations(c, 2000);
    concurrent_up(c);
    assert_int_equal(sql_int(c, "SELECT count(*) FROM schema_migrations"), 2);
    assert_int_equal(sql_int(c, "SELECT count(*) FROM items"), 2000);
}

/* kill -9 while `up` runs, at several moments; a plain `up` afterwards completes. */
static void kill_then_resume(struct ctx *c, int delay_ms)
{
    char f[160];
    snprintf(f, sizeof(f), "%s/killed.txt", c->dir);
    const char *args[] = {"up", NULL};
    pid_t p = spawn_tool(c, args, f);
    usleep((useconds_t)delay_ms * 1000);
    kill(p, SIGKILL);
    int st;
    waitpid(p, &st, 0);
    struct out o;
    RUN(c, &o, "up");
    expect_ok(&o);
    RUN(c, &o, "verify");
    expect_ok(&o);
}

static void test_sqlite_kill_mid_run(void **state)
{
    struct ctx *c = *state;
    c->harper = 0;
    write_migrations(c, 20000);
    kill_then_resume(c, 30);
    assert_int_equal(sql_int(c, "SELECT count(*) FROM items"), 20000);
    assert_int_equal(sql_int(c, "SELECT count(*) FROM schema_migrations"), 2);
}

/* ---- HarperDB ---- */

static void test_harper_up_rerun_and_status(void **state)
{
    struct ctx *c = *state;
    need_harper(c);
    write_migrations(c, 7);
    struct out o;
    RUN(c, &o, "plan", "--target", "harper");
    expect_ok(&o);
    expect_text(&o, "\"create_table\"");
    expect_text(&o, "(7 records)");
    RUN(c, &o, "up");
    expect_ok(&o);
    expect_text(&o, "sqlite");
    expect_text(&o, "harper");
    assert_int_equal(harper_count(c, "items"), 7);
    assert_int_equal(sql_int(c, "SELECT count(*) FROM items"), 7);
    RUN(c, &o, "up");
    expect_ok(&o);
    expect_text(&o, "applied 0 migration(s)");
    RUN(c, &o, "status", "--target", "harper");
    expect_ok(&o);
    expect_text(&o, "0002 items");
    expect_text(&o, "applied");
    /* Loading the same CSV again (a later migration) gives the same rows and ids in both stores. */
    struct harper *h = harper_connect();
    json_t *before = NULL, *after = NULL;
    struct err e = {0};
    assert_int_equal(harper_all(h, c->schema, "items", "id", &before, &e), 0);
    char text[256];
    snprintf(text, sizeof(text), "load: {table: items, schema: %s, file: items.csv, key: name}\n", c->schema);
    write_file(c->mig, "0003_again.yaml", text);
    RUN(c, &o, "up");
    expect_ok(&o);
    assert_int_equal(harper_all(h, c->schema, "items", "id", &after, &e), 0);
    assert_int_equal(json_array_size(after), 7);
    assert_true(json_equal(before, after) || json_array_size(before) == json_array_size(after));
    size_t i;
    json_t *rec;
    json_array_foreach(before, i, rec) {
        const char *id = json_string_value(json_object_get(rec, "id"));
        int found = 0;
        size_t k;
        json_t *r2;
        json_array_foreach(after, k, r2) found |= strcmp(id, json_string_value(json_object_get(r2, "id"))) == 0;
        assert_true(found);
    }
    assert_int_equal(sql_int(c, "SELECT count(*) FROM items"), 7);
    json_decref(before);
    json_decref(after);
    harper_close(h);
}

static void test_harper_checksum_refused(void **state)
{
    struct ctx *c = *state;
    need_harper(c);
    write_migrations(c, 2);
    struct out o;
    RUN(c, &o, "up", "--target", "harper");
    expect_ok(&o);
    write_items_csv(c, 3);
    RUN(c, &o, "up", "--target", "harper");
    assert_int_equal(o.status, 1);
    expect_text(&o, "applied checksum");
    RUN(c, &o, "repair", "--target", "harper");
    expect_ok(&o);
    RUN(c, &o, "verify", "--target", "harper");
    expect_ok(&o);
}

static void test_harper_concurrent_up(void **state)
{
    struct ctx *c = *state;
    need_harper(c);
    write_migrations(c, 1500);
    concurrent_up(c);
    assert_int_equal(harper_count(c, "items"), 1500);
    struct out o;
    RUN(c, &o, "status", "--target", "harper");
    expect_text(&o, "2 applied, 0 pending");
}

/* Rows in a HarperDB table, or 0 while it does not exist yet. */
static size_t harper_count_soft(struct ctx *c, const char *table)
{
    struct harper *h = harper_connect();
    json_t *all = NULL;
    struct err e = {0};
    size_t n = harper_all(h, c->schema, table, "id", &all, &e) == 0 ? json_array_size(all) : 0;
    json_decref(all);
    harper_close(h);
    return n;
}

/* kill -9 while the HarperDB load is half done; the next `up` takes over the dead run's lock and finishes. */
static void test_harper_kill_mid_run(void **state)
{
    struct ctx *c = *state;
    need_harper(c);
    const int rows = 20000;
    write_migrations(c, rows);
    char f[160];
    snprintf(f, sizeof(f), "%s/killed.txt", c->dir);
    const char *args[] = {"up", NULL};
    pid_t p = spawn_tool(c, args, f);
    size_t seen = 0;
    for (int i = 0; i < 400 && seen == 0; i++) {
        usleep(25 * 1000);
        seen = harper_count_soft(c, "items");
    }
    kill(p, SIGKILL);
    int st;
    waitpid(p, &st, 0);
    size_t at_kill = harper_count_soft(c, "items");
    if (seen == 0 || at_kill >= (size_t)rows)
        fail_msg("could not catch the load mid-run (%zu of %d rows when killed)", at_kill, rows);
    struct out o;
    RUN(c, &o, "up");
    expect_ok(&o);
    assert_int_equal(harper_count(c, "items"), rows);
    assert_int_equal(sql_int(c, "SELECT count(*) FROM items"), rows);
    RUN(c, &o, "verify");
    expect_ok(&o);
}

/* The original Flask API's migration and CSVs apply as they are, twice over. */
static void test_original_files(void **state)
{
    struct ctx *c = *state;
    const char *top = getenv("top_srcdir");
    char shared[512];
    snprintf(shared, sizeof(shared), "%s/../shared/seed-data", top ? top : ".");
    char init[600];
    snprintf(init, sizeof(init), "%s/init.yaml", shared);
    if (access(init, R_OK) != 0) {
        print_message("../shared absent: skipping the original init.yaml and CSV test\n");
        skip();
    }
    char cmd[4096];
    snprintf(cmd, sizeof(cmd), "cp %s/init.yaml %s/0001_init.yaml && cp %s/armor.csv %s/weapons.csv %s/other.csv %s/",
             shared, c->mig, shared, shared, shared, c->mig);
    assert_int_equal(system(cmd), 0);
    char text[2048];
    snprintf(text, sizeof(text),
             "- add_attributes:\n    table: equipment\n    schema: dungeonmaster\n    store: sqlite\n    attributes:\n"
             "      [name, equip_type, base_cost, weight, armor_class, stealth, damage, damage_type, properties,"
             " range, hands]\n"
             "- load: {table: equipment, schema: dungeonmaster, file: armor.csv, key: name}\n"
             "- load: {table: equipment, schema: dungeonmaster, file: weapons.csv, key: name}\n"
             "- load: {table: equipment, schema: dungeonmaster, file: other.csv, key: name}\n");
    write_file(c->mig, "0002_equipment.yaml", text);
    /*
     * The original's schema name is fixed: on HarperDB, run only when this
     * instance has no dungeonmaster schema yet (scripts/test's fresh one), and
     * drop it afterwards.
     */
    int on_harper = 0;
    struct harper *h = NULL;
    if (c->harper) {
        h = harper_connect();
        json_t *d = NULL;
        struct err e = {0};
        on_harper = harper_describe_table(h, "dungeonmaster", "equipment", &d, &e) == ERR_NOT_FOUND;
        json_decref(d);
    }
    struct out o;
    RUN(c, &o, "up", "--target", on_harper ? "all" : "sqlite");
    expect_ok(&o);
    long long rows = sql_int(c, "SELECT count(*) FROM equipment");
    assert_int_equal(rows, 12 + 6 + 4); /* data rows of armor, weapons and other.csv */
    assert_int_equal(sql_int(c, "SELECT count(*) FROM equipment WHERE name = 'Padded Armore'"), 1);
    RUN(c, &o, "repair", "--target", "sqlite"); /* nothing changed: 0 */
    expect_text(&o, "0 changed");
    /* A second load of the same CSVs (as a new migration) changes nothing. */
    snprintf(text, sizeof(text), "- load: {table: equipment, schema: dungeonmaster, file: armor.csv, key: name}\n");
    write_file(c->mig, "0003_again.yaml", text);
    RUN(c, &o, "up", "--target", on_harper ? "all" : "sqlite");
    expect_ok(&o);
    assert_int_equal(sql_int(c, "SELECT count(*) FROM equipment"), rows);
    if (on_harper) {
        json_t *all = NULL;
        struct err e = {0};
        assert_int_equal(harper_all(h, "dungeonmaster", "equipment", "id", &all, &e), 0);
        assert_int_equal(json_array_size(all), (size_t)rows);
        json_decref(all);
        json_t *d = NULL;
        assert_int_equal(harper_describe_table(h, "dungeonmaster", "characters", &d, &e), 0);
        json_decref(d);
        json_t *op = json_pack("{s:s, s:s}", "operation", "drop_schema", "schema", "dungeonmaster");
        harper_op(h, op, NULL, &e);
        json_decref(op);
    }
    harper_close(h);
}

/* load with document: keeps every CSV column, in HarperDB as the record and in SQLite as one JSON text. */
static void test_harper_load_document(void **state)
{
    struct ctx *c = *state;
    need_harper(c);
    write_migrations(c, 4);
    char text[1024];
    snprintf(text, sizeof(text),
             "- add_attributes:\n    table: items\n    schema: %s\n    attributes:\n"
             "      - {name: imported, type: text, store: sqlite}\n"
             "- load:\n    table: items\n    schema: %s\n    file: items.csv\n    key: name\n"
             "    document: {column: imported, nest: base_attributes, top: [name, equip_type, base_cost, weight]}\n",
             c->schema, c->schema);
    write_file(c->mig, "0003_documents.yaml", text);
    struct out o;
    RUN(c, &o, "up");
    expect_ok(&o);
    struct harper *h = harper_connect();
    json_t *all = NULL;
    struct err e = {0};
    assert_int_equal(harper_all(h, c->schema, "items", "id", &all, &e), 0);
    assert_int_equal(json_array_size(all), 4);
    size_t i;
    json_t *rec;
    int seen = 0;
    json_array_foreach(all, i, rec) {
        if (strcmp(json_string_value(json_object_get(rec, "name")), "Item 3") != 0)
            continue;
        seen = 1;
        /* "Item 3,other,3.5,3,disadvantage": numbers stay numbers, the rest nests under base_attributes. */
        assert_true(json_is_number(json_object_get(rec, "base_cost")));
        assert_true(json_number_value(json_object_get(rec, "base_cost")) == 3.5);
        json_t *attrs = json_object_get(rec, "base_attributes");
        if (!json_is_object(attrs))
            fail_msg("HarperDB record has no base_attributes object: %s", json_dumps(rec, JSON_COMPACT));
        assert_string_equal(json_string_value(json_object_get(attrs, "stealth")), "disadvantage");
    }
    assert_true(seen);
    /* The SQLite copy carries the same columns. */
    assert_int_equal(sql_int(c, "SELECT count(*) FROM items WHERE json_extract(imported, '$.base_attributes.stealth')"
                                " = 'disadvantage' AND name = 'Item 3'"),
                     1);
    /* Item 1 had an empty stealth field: left out, not an empty string. */
    assert_int_equal(sql_int(c, "SELECT count(*) FROM items WHERE name = 'Item 1' AND"
                                " json_extract(imported, '$.base_attributes.stealth') IS NULL"),
                     1);
    json_decref(all);
    harper_close(h);
}

int main(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_sqlite_up_rerun_status_plan, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sqlite_checksum_refused_then_repair, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sqlite_to_and_baseline, setup, teardown),
        cmocka_unit_test_setup_teardown(test_usage_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sqlite_concurrent_up, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sqlite_kill_mid_run, setup, teardown),
        cmocka_unit_test_setup_teardown(test_harper_up_rerun_and_status, setup, teardown),
        cmocka_unit_test_setup_teardown(test_harper_checksum_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_harper_concurrent_up, setup, teardown),
        cmocka_unit_test_setup_teardown(test_harper_kill_mid_run, setup, teardown),
        cmocka_unit_test_setup_teardown(test_harper_load_document, setup, teardown),
        cmocka_unit_test_setup_teardown(test_original_files, setup, teardown),
    };
    return cmocka_run_group_tests_name("migrate-tool", tests, NULL, NULL);
}
