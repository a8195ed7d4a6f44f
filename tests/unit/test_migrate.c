/*
 * tests/unit/test_migrate.c - unit tests of storage/migrate.c: the YAML formats
 * (the original API's map form, the documented list form, the command sequence),
 * every validation message, loading a directory, and applying to SQLite (fresh,
 * again, changed, concurrently from two processes); the commands drop_attributes,
 * drop_table, rename_attribute and load (CSV rows, their ids and types, the
 * checksum that covers them).
 *
 * Fixtures live in tests/fixtures/migrations/ under $top_srcdir (default ".").
 * The original API's own init.yaml and equipment CSVs are read from
 * $top_srcdir/../shared when there.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <dirent.h>
#include <unistd.h>

#include <sodium.h>

#include "common/err.h"
#include "common/ids.h"
#include "common/log.h"
#include "storage/csv.h"
#include "storage/migrate.h"

/* ------------------------------------------------------------------------- */
/* Helpers.                                                                  */

static const char *top_srcdir(void)
{
    const char *s = getenv("top_srcdir");
    return s != NULL && s[0] != '\0' ? s : ".";
}

/* $top_srcdir/tests/fixtures/migrations/REL into a static buffer (one at a time). */
static const char *fixture(const char *rel)
{
    static char buf[4096];
    snprintf(buf, sizeof(buf), "%s/tests/fixtures/migrations/%s", top_srcdir(), rel);
    return buf;
}

static int parse_str(const char *yaml, struct migration *m, struct err *e)
{
    return migrate_parse_buffer("t.yaml", yaml, strlen(yaml), 1, "t", m, e);
}

/* Parsing `yaml` fails with `code` and a message containing `needle`. */
static void expect_parse_error(const char *yaml, int code, const char *needle)
{
    struct migration m;
    struct err e = {0};
    int rc = parse_str(yaml, &m, &e);
    if (rc != code || strstr(e.msg, needle) == NULL)
        print_error("yaml:\n%s\nexpected %d containing [%s], got %d [%s]\n", yaml, code, needle, rc, e.msg);
    assert_int_equal(rc, code);
    assert_non_null(strstr(e.msg, needle));
    assert_null(m.ops);
    assert_int_equal(m.nops, 0);
    migration_release(&m);
}

static sqlite3 *open_memdb(void)
{
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(":memory:", &db), SQLITE_OK);
    return db;
}

static long long query_int(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *st = NULL;
    long long v = -1;
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
    if (sqlite3_step(st) == SQLITE_ROW)
        v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return v;
}

static int has_table(sqlite3 *db, const char *table)
{
    char sql[256];
    snprintf(sql, sizeof(sql), "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = '%s'", table);
    return query_int(db, sql) == 1;
}

static int has_index(sqlite3 *db, const char *index, const char *table)
{
    char sql[256];
    snprintf(sql, sizeof(sql),
             "SELECT count(*) FROM sqlite_master WHERE type = 'index' AND name = '%s' AND tbl_name = '%s'", index,
             table);
    return query_int(db, sql) == 1;
}

/* The declared type of table.column, "" when the column is missing; *pk receives its pk flag. */
static const char *column_type(sqlite3 *db, const char *table, const char *column, int *pk)
{
    static char type[64];
    char sql[256];
    sqlite3_stmt *st = NULL;
    type[0] = '\0';
    snprintf(sql, sizeof(sql), "SELECT type, pk FROM pragma_table_info('%s') WHERE name = '%s'", table, column);
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
    if (sqlite3_step(st) == SQLITE_ROW) {
        snprintf(type, sizeof(type), "%s", (const char *)sqlite3_column_text(st, 0));
        if (pk != NULL)
            *pk = sqlite3_column_int(st, 1);
    }
    sqlite3_finalize(st);
    return type;
}

static int has_column(sqlite3 *db, const char *table, const char *column)
{
    return column_type(db, table, column, NULL)[0] != '\0';
}

static long long column_count(sqlite3 *db, const char *table)
{
    char sql[256];
    snprintf(sql, sizeof(sql), "SELECT count(*) FROM pragma_table_info('%s')", table);
    return query_int(db, sql);
}

/* Standard error redirected to a temporary file while a call logs. */
struct capture {
    int saved, fd;
};

static void capture_start(struct capture *c)
{
    char path[] = "/tmp/test_migrate_log.XXXXXX";
    fflush(stderr);
    c->fd = mkstemp(path);
    assert_true(c->fd >= 0);
    unlink(path);
    c->saved = dup(STDERR_FILENO);
    assert_true(c->saved >= 0);
    assert_true(dup2(c->fd, STDERR_FILENO) >= 0);
}

/* Restore stderr; returns what was written (caller frees). */
static char *capture_end(struct capture *c)
{
    char *out;
    off_t size;
    fflush(stderr);
    dup2(c->saved, STDERR_FILENO);
    close(c->saved);
    size = lseek(c->fd, 0, SEEK_END);
    out = calloc(1, (size_t)size + 1);
    assert_non_null(out);
    assert_int_equal(pread(c->fd, out, (size_t)size, 0), size);
    close(c->fd);
    return out;
}

static char *make_tmpdir(void)
{
    char *d = strdup("/tmp/test_migrate_dir.XXXXXX");
    assert_non_null(d);
    assert_non_null(mkdtemp(d));
    return d;
}

static void write_file(const char *dir, const char *name, const char *text, size_t len)
{
    char path[4096];
    FILE *f;
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(text, 1, len, f), len);
    assert_int_equal(fclose(f), 0);
}

/* Remove a flat directory and the files in it. */
static void remove_tree(char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *de;
    char path[4096];
    if (d != NULL) {
        while ((de = readdir(d)) != NULL) {
            if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
                continue;
            snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
            unlink(path);
        }
        closedir(d);
    }
    rmdir(dir);
    free(dir);
}

/* ------------------------------------------------------------------------- */
/* Formats.                                                                  */

static void test_map_form(void **state)
{
    (void)state;
    struct migration m;
    struct err e = {0};

    assert_int_equal(migrate_parse_file(fixture("forms/map_form.yaml"), 7, "tavern", &m, &e), 0);
    assert_int_equal(m.version, 7);
    assert_string_equal(m.name, "tavern");
    assert_non_null(strstr(m.path, "forms/map_form.yaml"));
    /* b2sum -l 256 tests/fixtures/migrations/forms/map_form.yaml */
    assert_string_equal(m.checksum, "b82aaedd44ff38cafcd70f7ab7db2381a4396178134704ff65e61268ec90b485");
    assert_int_equal(m.nops, 3);
    assert_int_equal(m.ops[0].kind, MIGRATE_CREATE_SCHEMA);
    assert_string_equal(m.ops[0].schema, "tavern");
    assert_null(m.ops[0].table);
    assert_int_equal(m.ops[0].line, 3);
    assert_int_equal(m.ops[1].kind, MIGRATE_CREATE_TABLE);
    assert_string_equal(m.ops[1].table, "patrons");
    assert_string_equal(m.ops[1].schema, "tavern");
    assert_int_equal(m.ops[1].nattrs, 1);
    assert_string_equal(m.ops[1].attrs[0].name, "id");
    assert_string_equal(m.ops[1].attrs[0].type, "text");
    assert_int_equal(m.ops[1].attrs[0].index, 0);
    assert_int_equal(m.ops[1].attrs[0].store, MIGRATE_STORE_BOTH);
    assert_string_equal(m.ops[2].table, "drinks");
    assert_int_equal(m.ops[2].nattrs, 2);
    assert_string_equal(m.ops[2].attrs[1].name, "price");
    migration_release(&m);
    assert_null(m.ops);
    migration_release(&m); /* twice is harmless */
}

static void test_list_form_table_alias_and_misspelling(void **state)
{
    (void)state;
    struct migration m;
    struct err e = {0};
    struct capture cap;
    char *log;
    const char *path = fixture("forms/list_form.yaml");
    char want[4200];

    capture_start(&cap);
    int rc = migrate_parse_file(path, 1, "list", &m, &e);
    log = capture_end(&cap);
    assert_int_equal(rc, 0);
    snprintf(want, sizeof(want), "%s:9:7: \"attibutes\" is a misspelling of \"attributes\"; accepted", path);
    assert_non_null(strstr(log, want));
    assert_non_null(strstr(log, " warn "));
    free(log);

    assert_int_equal(m.nops, 3);
    assert_int_equal(m.ops[1].kind, MIGRATE_CREATE_TABLE);
    assert_string_equal(m.ops[1].table, "patrons");
    assert_int_equal(m.ops[1].nattrs, 2);
    assert_string_equal(m.ops[1].attrs[1].name, "nickname");
    assert_string_equal(m.ops[2].table, "rooms");
    assert_string_equal(m.ops[2].attrs[0].name, "number");
    migration_release(&m);
}

static void test_attribute_forms(void **state)
{
    (void)state;
    struct migration m;
    struct err e = {0};

    assert_int_equal(migrate_parse_file(fixture("forms/attributes.yaml"), 2, "attrs", &m, &e), 0);
    assert_int_equal(m.nops, 6);
    /* schemas: {name: tavern} and a bare name */
    assert_int_equal(m.ops[0].kind, MIGRATE_CREATE_SCHEMA);
    assert_string_equal(m.ops[0].schema, "tavern");
    assert_string_equal(m.ops[1].schema, "cellar");
    /* {name, type, index, store} */
    const struct migrate_op *t = &m.ops[2];
    assert_int_equal(t->kind, MIGRATE_CREATE_TABLE);
    assert_string_equal(t->table, "barrels");
    assert_string_equal(t->schema, "cellar");
    assert_int_equal(t->nattrs, 5);
    assert_string_equal(t->attrs[0].type, "integer");
    assert_string_equal(t->attrs[1].name, "label");
    assert_int_equal(t->attrs[1].index, 1);
    assert_string_equal(t->attrs[2].type, "real");
    assert_string_equal(t->attrs[3].type, "blob");
    assert_int_equal(t->attrs[3].store, MIGRATE_STORE_HARPER);
    assert_string_equal(t->attrs[4].type, "text");
    assert_int_equal(t->attrs[4].store, MIGRATE_STORE_SQLITE);
    /* add_attributes with block-style mapping, index: yes, and a bare name */
    const struct migrate_op *a = &m.ops[3];
    assert_int_equal(a->kind, MIGRATE_ADD_ATTRIBUTES);
    assert_string_equal(a->table, "barrels");
    assert_string_equal(a->schema, "cellar");
    assert_int_equal(a->nattrs, 2);
    assert_string_equal(a->attrs[0].name, "vintage");
    assert_int_equal(a->attrs[0].index, 1);
    assert_string_equal(a->attrs[1].name, "tapped");
    assert_int_equal(a->line, 15);
    /* indexes: names only */
    const struct migrate_op *x = &m.ops[4];
    assert_int_equal(x->kind, MIGRATE_INDEXES);
    assert_null(x->schema);
    assert_int_equal(x->nattrs, 1);
    assert_string_equal(x->attrs[0].name, "litres");
    assert_int_equal(x->attrs[0].index, 1);
    /* a harper-only command: its attributes inherit the store */
    assert_int_equal(m.ops[5].store, MIGRATE_STORE_HARPER);
    assert_int_equal(m.ops[5].attrs[0].store, MIGRATE_STORE_HARPER);
    migration_release(&m);
}

static void test_booleans_and_flow_style(void **state)
{
    (void)state;
    struct migration m;
    struct err e = {0};
    const char *yaml = "[{init: {tables: {t: {schema: s, attributes: [{name: a, index: True}, {name: b, index: off},"
                       " {name: c, index: false}]}}}}]";
    assert_int_equal(parse_str(yaml, &m, &e), 0);
    assert_int_equal(m.nops, 1);
    assert_int_equal(m.ops[0].attrs[0].index, 1);
    assert_int_equal(m.ops[0].attrs[1].index, 0);
    assert_int_equal(m.ops[0].attrs[2].index, 0);
    migration_release(&m);
    /* a quoted "true" is a string, not a boolean */
    expect_parse_error("init: {tables: {t: {schema: s, attributes: [{name: a, index: \"true\"}]}}}", ERR_INVALID,
                       "t.yaml:1:62: index of attribute \"a\" of table \"t\" must be true or false, not \"true\"");
}

static void test_bom_and_crlf(void **state)
{
    (void)state;
    struct migration m;
    struct err e = {0};
    /* as an editor on Windows saves it: a byte-order mark and CRLF line endings */
    const char *yaml = "\xef\xbb\xbfinit:\r\n  schemas: [a]\r\n  tables:\r\n    t: {schema: a, attributes: [id]}\r\n";
    assert_int_equal(parse_str(yaml, &m, &e), 0);
    assert_int_equal(m.nops, 2);
    assert_string_equal(m.ops[1].table, "t");
    migration_release(&m);
    expect_parse_error("\xef\xbb\xbfinit:\r\n  bogus: 1\r\n", ERR_INVALID, "t.yaml:2:3: unknown key \"bogus\" in init");
}

/* ------------------------------------------------------------------------- */
/* Errors.                                                                   */

static void test_syntax_errors(void **state)
{
    (void)state;
    expect_parse_error("init:\n  schemas: [a\n", ERR_INVALID,
                       "t.yaml:3:1: did not find expected ',' or ']' (while parsing a flow sequence at line 2, "
                       "column 12)");
    expect_parse_error("init:\n\tschemas: [a]\n", ERR_INVALID,
                       "t.yaml:2:1: found character that cannot start any token");
    expect_parse_error("init:\n  schemas: [a]\n   tables: x\n", ERR_INVALID,
                       "t.yaml:3:4: did not find expected key (while parsing a block mapping at line 2, column 3)");
    expect_parse_error("init: {schemas: [a]}\nx: \"unterminated\n", ERR_INVALID,
                       "t.yaml:3:1: found unexpected end of stream");
    /* invalid UTF-8: a reader error, positioned from its byte offset */
    expect_parse_error("init:\n  schemas: [a\xff]\n", ERR_INVALID, "t.yaml:2:14: invalid leading UTF-8 octet (#FF)");
}

static void test_unknown_command(void **state)
{
    (void)state;
    expect_parse_error("inti:\n  schemas: [a]\n", ERR_INVALID, "t.yaml:1:1: unknown command \"inti\"");
    expect_parse_error("- init: {schemas: [a]}\n- frob: {}\n", ERR_INVALID, "t.yaml:2:3: unknown command \"frob\"");
    expect_parse_error("- init: {schemas: [a]}\n- [init]: {}\n", ERR_INVALID,
                       "t.yaml:2:3: a command name must be a string, not a sequence");
}

static void test_unknown_key(void **state)
{
    (void)state;
    expect_parse_error("init:\n  schemas: [a]\n  foo: 1\n", ERR_INVALID, "t.yaml:3:3: unknown key \"foo\" in init");
    expect_parse_error("init:\n  tables:\n    t:\n      schema: s\n      attributes: [id]\n      hash: id\n",
                       ERR_INVALID, "t.yaml:6:7: unknown key \"hash\" in table \"t\"");
    expect_parse_error("init:\n  tables:\n    - name: t\n      schema: s\n      attributes: [{name: id, size: 3}]\n",
                       ERR_INVALID, "t.yaml:5:31: unknown key \"size\" in attribute \"id\" of table \"t\"");
    expect_parse_error("add_attributes: {table: t, attributes: [a], colour: red}", ERR_INVALID,
                       "t.yaml:1:45: unknown key \"colour\" in add_attributes");
    expect_parse_error("indexes: {table: t, attributes: [a], unique: true}", ERR_INVALID,
                       "t.yaml:1:38: unknown key \"unique\" in indexes");
    expect_parse_error("init: {schemas: [{name: a, owner: b}]}", ERR_INVALID,
                       "t.yaml:1:28: unknown key \"owner\" in a schema of init");
    expect_parse_error("init: {schemas: [a], schemas: [b]}", ERR_INVALID,
                       "t.yaml:1:22: duplicate key \"schemas\" in init");
}

static void test_bad_identifiers(void **state)
{
    (void)state;
    char yaml[512];

    expect_parse_error("init: {tables: {1abc: {schema: s, attributes: [id]}}}", ERR_INVALID,
                       "t.yaml:1:17: invalid table name \"1abc\" in init: use letters, digits and underscores");
    expect_parse_error("init: {tables: {t: {schema: s, attributes: [a-b]}}}", ERR_INVALID,
                       "t.yaml:1:45: invalid attribute name \"a-b\" in table \"t\"");
    expect_parse_error("init: {tables: {t: {schema: s, attributes: ['x\"); DROP TABLE y; --']}}}", ERR_INVALID,
                       "invalid attribute name \"x?); DROP TABLE y; --\" in table \"t\"");
    expect_parse_error("init: {schemas: [\"dungeon master\"]}", ERR_INVALID,
                       "t.yaml:1:18: invalid schema name \"dungeon master\" in init");
    expect_parse_error("init: {schemas: [\"\"]}", ERR_INVALID, "invalid schema name \"\" in init");
    expect_parse_error("init: {schemas: [~]}", ERR_INVALID, "schema name in init must be a string, not nothing");
    expect_parse_error("init: {schemas: [[a]]}", ERR_INVALID, "schema name in init must be a string, not a sequence");
    expect_parse_error("init: {tables: {t: {schema: s, attributes: [caf\xc3\xa9]}}}", ERR_INVALID,
                       "invalid attribute name");
    expect_parse_error("add_attributes: {table: sqlite_master, attributes: [a]}", ERR_INVALID,
                       "table name \"sqlite_master\" in add_attributes is reserved");
    expect_parse_error("init: {tables: {Schema_Migrations: {schema: s, attributes: [id]}}}", ERR_INVALID,
                       "table name \"Schema_Migrations\" in init is reserved");
    /* 63 characters are fine, 64 are not */
    snprintf(yaml, sizeof(yaml), "init: {schemas: [%.63s]}",
             "s234567890123456789012345678901234567890123456789012345678901234");
    struct migration m;
    struct err e = {0};
    assert_int_equal(parse_str(yaml, &m, &e), 0);
    migration_release(&m);
    snprintf(yaml, sizeof(yaml), "init: {schemas: [%.64s]}",
             "s234567890123456789012345678901234567890123456789012345678901234");
    expect_parse_error(yaml, ERR_INVALID, "at most 63 characters");
}

static void test_wrong_shapes(void **state)
{
    (void)state;
    expect_parse_error("", ERR_INVALID, "t.yaml: no commands");
    expect_parse_error("# only a comment\n", ERR_INVALID, "t.yaml: no commands");
    expect_parse_error("[]", ERR_INVALID, "t.yaml:1:1: no commands");
    expect_parse_error("init", ERR_INVALID,
                       "t.yaml:1:1: a migration must be a mapping or a sequence of commands, not \"init\"");
    expect_parse_error("init: [a]", ERR_INVALID, "t.yaml:1:7: init expects a mapping of arguments, not a sequence");
    expect_parse_error("init:\n", ERR_INVALID, "t.yaml:1:6: init expects a mapping of arguments, not nothing");
    expect_parse_error("init: {}", ERR_INVALID, "t.yaml:1:7: init needs schemas or tables");
    expect_parse_error("init: {schemas: dm}", ERR_INVALID,
                       "t.yaml:1:17: schemas in init must be a sequence, not \"dm\"");
    expect_parse_error("init: {tables: 3}", ERR_INVALID,
                       "t.yaml:1:16: tables in init must be a mapping or a sequence, not \"3\"");
    expect_parse_error("init: {tables: {t: [id]}}", ERR_INVALID,
                       "t.yaml:1:20: table \"t\" in init must be a mapping of schema and attributes, not a sequence");
    expect_parse_error("init: {table: {name: t, schema: s, attibutes: [id]}}", ERR_INVALID,
                       "goes in a list: \"- name: ...\"");
    expect_parse_error("init: {tables: [t]}", ERR_INVALID,
                       "t.yaml:1:17: tables in init must be mappings of name, schema and attributes, not \"t\"");
    expect_parse_error("init: {tables: [{schema: s, attributes: [id]}]}", ERR_INVALID,
                       "t.yaml:1:17: a table in init has no name");
    expect_parse_error("init: {tables: {t: {attributes: [id]}}}", ERR_INVALID,
                       "t.yaml:1:20: table \"t\" has no schema");
    expect_parse_error("init: {tables: {t: {schema: s}}}", ERR_INVALID, "t.yaml:1:20: table \"t\" has no attributes");
    expect_parse_error("init: {tables: {t: {schema: s, attributes: []}}}", ERR_INVALID,
                       "t.yaml:1:44: table \"t\" needs at least one attribute");
    expect_parse_error("init: {tables: {t: {schema: s, attributes: {id: text}}}}", ERR_INVALID,
                       "t.yaml:1:44: attributes of table \"t\" must be a sequence, not a mapping");
    expect_parse_error("init: {tables: {t: {schema: s, attributes: [id], attibutes: [x]}}}", ERR_INVALID,
                       "t.yaml:1:50: both \"attributes\" and \"attibutes\" in table \"t\"");
    expect_parse_error("init: {tables: {t: {schema: s, attributes: [{type: text}]}}}", ERR_INVALID,
                       "t.yaml:1:45: an attribute of table \"t\" has no name");
    expect_parse_error("init: {tables: {t: {schema: s, attributes: [{name: id, type: varchar}]}}}", ERR_INVALID,
                       "type of attribute \"id\" of table \"t\" must be text, integer, real or blob, not \"varchar\"");
    expect_parse_error("init: {tables: {t: {schema: s, attributes: [id, a, ID]}}}", ERR_INVALID,
                       "t.yaml:1:52: duplicate attribute \"ID\" in table \"t\"");
    expect_parse_error(
        "init: {tables: [{name: t, schema: s, attributes: [id]}, {name: T, schema: s, attributes: [id]}]}", ERR_INVALID,
        "table \"T\" appears twice in init");
    expect_parse_error("init: {schemas: [a, b, a]}", ERR_INVALID, "t.yaml:1:24: schema \"a\" appears twice in init");
    expect_parse_error("init: {schemas: [a], tables: {}, table: {}}", ERR_INVALID,
                       "both \"tables\" and \"table\" in init");
    expect_parse_error("init: {schemas: [a], store: disk}", ERR_INVALID,
                       "t.yaml:1:29: store in init must be sqlite, harper or both, not \"disk\"");
    expect_parse_error("init: {tables: {t: {schema: s, attributes: [{name: id, store: harper}, b]}}}", ERR_INVALID,
                       "the first attribute of table \"t\" is its primary key and cannot be harper only");
    expect_parse_error("add_attributes: {table: t, store: harper, attributes: [{name: a, store: sqlite}]}", ERR_INVALID,
                       "store of attribute \"a\" of add_attributes of table \"t\" contradicts its command's store");
    expect_parse_error("add_attributes: {attributes: [a]}", ERR_INVALID, "t.yaml:1:17: add_attributes has no table");
    expect_parse_error("add_attributes: {table: t}", ERR_INVALID,
                       "t.yaml:1:17: add_attributes of table \"t\" has no attributes");
    expect_parse_error("indexes: {table: t, attributes: [{name: a}]}", ERR_INVALID,
                       "t.yaml:1:34: attributes in indexes of table \"t\" must be names, not a mapping");
    expect_parse_error("- init: {schemas: [a]}\n  add_attributes: {table: t, attributes: [a]}\n", ERR_INVALID,
                       "t.yaml:1:3: a command in a sequence must be a mapping with one key (its name), not a mapping "
                       "with several keys");
    expect_parse_error("- init\n", ERR_INVALID, "t.yaml:1:3: a command in a sequence must be a mapping with one key");
    expect_parse_error("init: {schemas: [a]}\ninit: {schemas: [b]}\n", ERR_INVALID,
                       "t.yaml:2:1: duplicate command \"init\": write the file as a sequence to repeat a command");
    expect_parse_error("init: &x {schemas: [a]}\nadd_attributes: *x\n", ERR_INVALID,
                       "t.yaml:2:17: yaml aliases (*x) are not supported");
    expect_parse_error("init: {schemas: [a]}\n---\ninit: {schemas: [b]}\n", ERR_INVALID,
                       "t.yaml:2:1: a migration file holds one yaml document, found another");
}

static void test_every_problem_is_reported(void **state)
{
    (void)state;
    struct migration m;
    struct err e = {0};
    const char *three = "- inti: {}\n"
                        "- init: {schemas: [a], foo: 1}\n"
                        "- add_attributes: {table: 9t, attributes: [x]}\n";
    assert_int_equal(parse_str(three, &m, &e), ERR_INVALID);
    assert_string_equal(e.msg, "t.yaml:1:3: unknown command \"inti\"; t.yaml:2:24: unknown key \"foo\" in init; "
                               "t.yaml:3:27: invalid table name \"9t\" in add_attributes: use letters, digits and "
                               "underscores, not starting with a digit, at most 63 characters");
    migration_release(&m);

    /* more than fit: the rest are counted */
    char yaml[2048] = "";
    for (int i = 0; i < 20; i++)
        snprintf(yaml + strlen(yaml), sizeof(yaml) - strlen(yaml), "- bogus%d: {}\n", i);
    assert_int_equal(parse_str(yaml, &m, &e), ERR_INVALID);
    assert_non_null(strstr(e.msg, "t.yaml:1:3: unknown command \"bogus0\"; t.yaml:2:3: unknown command \"bogus1\""));
    assert_non_null(strstr(e.msg, "more problems"));
    assert_true(strlen(e.msg) < sizeof(e.msg));
    migration_release(&m);
}

static void test_too_big(void **state)
{
    (void)state;
    size_t cap = 64 * 1024, len;
    char *yaml = malloc(cap);
    assert_non_null(yaml);

    /* 1000 commands pass, 1001 do not */
    len = 0;
    for (int i = 0; i < 1000; i++)
        len += (size_t)snprintf(yaml + len, cap - len, "- init: {schemas: [s%d]}\n", i);
    struct migration m;
    struct err e = {0};
    assert_int_equal(parse_str(yaml, &m, &e), 0);
    assert_int_equal(m.nops, 1000);
    migration_release(&m);
    snprintf(yaml + len, cap - len, "- init: {schemas: [extra]}\n");
    expect_parse_error(yaml, ERR_TOO_LARGE, "t.yaml:1001:3: more than 1000 commands");

    /* 256 attributes pass, 257 do not */
    len = (size_t)snprintf(yaml, cap, "init: {tables: {t: {schema: s, attributes: [a0");
    for (int i = 1; i < 256; i++)
        len += (size_t)snprintf(yaml + len, cap - len, ", a%d", i);
    snprintf(yaml + len, cap - len, "]}}}");
    assert_int_equal(parse_str(yaml, &m, &e), 0);
    assert_int_equal(m.ops[0].nattrs, 256);
    migration_release(&m);
    snprintf(yaml + len, cap - len, ", a256]}}}");
    expect_parse_error(yaml, ERR_TOO_LARGE, "table \"t\" has more than 256 attributes");

    /* 257 tables, both forms; 257 schemas */
    len = (size_t)snprintf(yaml, cap, "init: {tables: {");
    for (int i = 0; i < 257; i++)
        len += (size_t)snprintf(yaml + len, cap - len, "%st%d: {schema: s, attributes: [id]}", i ? ", " : "", i);
    snprintf(yaml + len, cap - len, "}}");
    expect_parse_error(yaml, ERR_TOO_LARGE, "init has more than 256 tables");
    len = (size_t)snprintf(yaml, cap, "init: {tables: [");
    for (int i = 0; i < 257; i++)
        len += (size_t)snprintf(yaml + len, cap - len, "%s{name: t%d, schema: s, attributes: [id]}", i ? ", " : "", i);
    snprintf(yaml + len, cap - len, "]}");
    expect_parse_error(yaml, ERR_TOO_LARGE, "init has more than 256 tables");
    len = (size_t)snprintf(yaml, cap, "init: {schemas: [");
    for (int i = 0; i < 257; i++)
        len += (size_t)snprintf(yaml + len, cap - len, "%ss%d", i ? ", " : "", i);
    snprintf(yaml + len, cap - len, "]}");
    expect_parse_error(yaml, ERR_TOO_LARGE, "init has more than 256 schemas");

    /* nesting */
    len = (size_t)snprintf(yaml, cap, "init: ");
    for (int i = 0; i < 100; i++)
        yaml[len++] = '[';
    for (int i = 0; i < 100; i++)
        yaml[len++] = ']';
    yaml[len] = '\0';
    expect_parse_error(yaml, ERR_TOO_LARGE, "yaml nested deeper than 64 levels");
    free(yaml);

    /* over MIGRATE_MAX_FILE_BYTES, from memory and from a file */
    size_t big = MIGRATE_MAX_FILE_BYTES + 1;
    char *huge = malloc(big);
    assert_non_null(huge);
    memset(huge, '#', big);
    assert_int_equal(migrate_parse_buffer("huge.yaml", huge, big, 1, "huge", &m, &e), ERR_TOO_LARGE);
    assert_non_null(strstr(e.msg, "huge.yaml: 4194305 bytes is over the limit of 4194304 bytes"));
    char *dir = make_tmpdir();
    write_file(dir, "0001_huge.yaml", huge, big);
    free(huge);
    char path[4096];
    snprintf(path, sizeof(path), "%s/0001_huge.yaml", dir);
    assert_int_equal(migrate_parse_file(path, 1, "huge", &m, &e), ERR_TOO_LARGE);
    assert_non_null(strstr(e.msg, "0001_huge.yaml: 4194305 bytes is over the limit"));
    struct migration_set set;
    assert_int_equal(migrate_load_dir(dir, &set, &e), ERR_TOO_LARGE);
    assert_int_equal(set.n, 0);
    remove_tree(dir);
}

static void test_parse_arguments(void **state)
{
    (void)state;
    struct migration m;
    struct err e = {0};
    assert_int_equal(migrate_parse_buffer("t.yaml", "init: {schemas: [a]}", 20, 0, "t", &m, &e), ERR_INVALID);
    assert_string_equal(e.msg, "t.yaml: version 0 is outside 1..9999");
    assert_int_equal(migrate_parse_buffer("t.yaml", "init: {schemas: [a]}", 20, 1, "", &m, &e), ERR_INVALID);
    assert_int_equal(migrate_parse_file("/nonexistent/0001_x.yaml", 1, "x", &m, &e), ERR_IO);
    assert_string_equal(e.msg, "cannot open \"/nonexistent/0001_x.yaml\": No such file or directory");
    assert_int_equal(migrate_parse_file(fixture("good"), 1, "x", &m, &e), ERR_IO);
    assert_non_null(strstr(e.msg, "is not a regular file"));
}

/* ------------------------------------------------------------------------- */
/* Directories.                                                              */

static void test_load_dir(void **state)
{
    (void)state;
    struct migration_set set;
    struct err e = {0};
    struct capture cap;

    capture_start(&cap);
    int rc = migrate_load_dir(fixture("good"), &set, &e);
    char *log = capture_end(&cap);
    assert_int_equal(rc, 0);
    assert_non_null(strstr(log, "Readme.yaml: ignored: migration files are named NNNN_name.yaml"));
    assert_null(strstr(log, "notes.txt"));
    free(log);
    assert_int_equal(set.n, 3);
    assert_int_equal(set.items[0].version, 1);
    assert_string_equal(set.items[0].name, "tavern");
    assert_int_equal(set.items[1].version, 2);
    assert_string_equal(set.items[1].name, "ledger");
    assert_non_null(strstr(set.items[1].path, "good/0002_ledger.yml"));
    assert_int_equal(set.items[2].version, 3);
    assert_string_equal(set.items[2].name, "rooms");
    migrate_set_release(&set);
    assert_int_equal(set.n, 0);
    assert_null(set.items);
}

static void test_load_dir_errors(void **state)
{
    (void)state;
    struct migration_set set;
    struct err e = {0};
    char want[4200];

    assert_int_equal(migrate_load_dir(fixture("dup"), &set, &e), ERR_INVALID);
    assert_non_null(strstr(e.msg, "0001_first.yaml and "));
    assert_non_null(strstr(e.msg, "0001_second.yaml have the same version 0001"));
    assert_int_equal(set.n, 0);

    assert_int_equal(migrate_load_dir("/nonexistent/migrations", &set, &e), ERR_IO);
    assert_string_equal(e.msg,
                        "cannot open migrations directory \"/nonexistent/migrations\": No such file or directory");

    const char *bad = fixture("bad");
    snprintf(want, sizeof(want), "%s/0001_typo.yaml:2:1: unknown command \"inti\"", bad);
    assert_int_equal(migrate_load_dir(bad, &set, &e), ERR_INVALID);
    assert_string_equal(e.msg, want);

    char *dir = make_tmpdir();
    write_file(dir, "0000_zero.yaml", "init: {schemas: [a]}\n", 21);
    assert_int_equal(migrate_load_dir(dir, &set, &e), ERR_INVALID);
    assert_non_null(strstr(e.msg, "0000_zero.yaml: migration versions start at 0001"));
    remove_tree(dir);

    dir = make_tmpdir(); /* an empty directory is an empty set */
    assert_int_equal(migrate_load_dir(dir, &set, &e), 0);
    assert_int_equal(set.n, 0);
    migrate_set_release(&set);
    remove_tree(dir);
}

/* ------------------------------------------------------------------------- */
/* SQLite.                                                                   */

static void load_good(struct migration_set *set)
{
    struct err e = {0};
    struct capture cap;
    capture_start(&cap); /* Readme.yaml's warning */
    int rc = migrate_load_dir(fixture("good"), set, &e);
    free(capture_end(&cap));
    assert_int_equal(rc, 0);
    assert_int_equal(set->n, 3);
}

static void test_apply_creates_tables(void **state)
{
    (void)state;
    struct migration_set set;
    struct err e = {0};
    size_t applied = 99, pending = 99;
    int pk = 0;
    sqlite3 *db = open_memdb();

    load_good(&set);
    assert_int_equal(migrate_sqlite_status(db, &set, &pending, &e), 0);
    assert_int_equal(pending, 3);
    assert_int_equal(migrate_sqlite_apply(db, &set, &applied, &e), 0);
    assert_int_equal(applied, 3);

    assert_true(has_table(db, "patrons"));
    assert_string_equal(column_type(db, "patrons", "id", &pk), "TEXT");
    assert_int_equal(pk, 1);
    assert_true(has_column(db, "patrons", "name"));
    assert_string_equal(column_type(db, "patrons", "tab", &pk), "REAL");
    assert_int_equal(pk, 0);
    assert_string_equal(column_type(db, "ledger", "id", &pk), "INTEGER");
    assert_int_equal(pk, 1);
    assert_string_equal(column_type(db, "ledger", "amount", NULL), "REAL");
    assert_true(has_index(db, "ledger_patron_idx", "ledger"));
    assert_true(has_column(db, "rooms", "guest"));
    assert_true(has_index(db, "rooms_guest_idx", "rooms"));
    assert_false(has_table(db, "tavern")); /* schemas are no-ops in SQLite */

    /* the tracking table */
    assert_int_equal(query_int(db, "SELECT count(*) FROM schema_migrations"), 3);
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_prepare_v2(db,
                                        "SELECT version, name, checksum, applied_at, duration_ms, tool_version "
                                        "FROM schema_migrations ORDER BY version",
                                        -1, &st, NULL),
                     SQLITE_OK);
    for (size_t i = 0; i < 3; i++) {
        assert_int_equal(sqlite3_step(st), SQLITE_ROW);
        assert_int_equal(sqlite3_column_int(st, 0), set.items[i].version);
        assert_string_equal((const char *)sqlite3_column_text(st, 1), set.items[i].name);
        assert_string_equal((const char *)sqlite3_column_text(st, 2), set.items[i].checksum);
        const char *at = (const char *)sqlite3_column_text(st, 3);
        assert_int_equal(strlen(at), 24); /* 2024-01-02T03:04:05.678Z */
        assert_true(at[4] == '-' && at[10] == 'T' && at[19] == '.' && at[23] == 'Z');
        assert_true(sqlite3_column_int64(st, 4) >= 0);
#ifdef PACKAGE_VERSION
        assert_string_equal((const char *)sqlite3_column_text(st, 5), PACKAGE_VERSION);
#else
        assert_string_equal((const char *)sqlite3_column_text(st, 5), "0.1.0");
#endif
    }
    sqlite3_finalize(st);

    assert_int_equal(migrate_sqlite_status(db, &set, &pending, &e), 0);
    assert_int_equal(pending, 0);
    sqlite3_close(db);
    migrate_set_release(&set);
}

static void test_reapply_is_noop(void **state)
{
    (void)state;
    struct migration_set set;
    struct err e = {0};
    size_t applied;
    sqlite3 *db = open_memdb();

    load_good(&set);
    assert_int_equal(migrate_sqlite_apply(db, &set, &applied, &e), 0);
    assert_int_equal(applied, 3);
    long long changes = sqlite3_total_changes(db);
    assert_int_equal(migrate_sqlite_apply(db, &set, &applied, &e), 0);
    assert_int_equal(applied, 0);
    assert_int_equal(migrate_sqlite_apply(db, &set, NULL, &e), 0);
    assert_int_equal(sqlite3_total_changes(db), changes);
    assert_int_equal(query_int(db, "SELECT count(*) FROM schema_migrations"), 3);
    sqlite3_close(db);
    migrate_set_release(&set);
}

static void test_status_counts_pending(void **state)
{
    (void)state;
    struct migration_set set;
    struct err e = {0};
    size_t applied, pending;
    sqlite3 *db = open_memdb();

    load_good(&set);
    struct migration_set first = {set.items, 1};
    assert_int_equal(migrate_sqlite_apply(db, &first, &applied, &e), 0);
    assert_int_equal(applied, 1);
    assert_int_equal(migrate_sqlite_status(db, &set, &pending, &e), 0);
    assert_int_equal(pending, 2);
    assert_int_equal(migrate_sqlite_apply(db, &set, &applied, &e), 0);
    assert_int_equal(applied, 2);
    assert_int_equal(migrate_sqlite_status(db, &set, &pending, &e), 0);
    assert_int_equal(pending, 0);

    /* an applied version whose file is gone */
    struct migration_set two = {set.items, 2};
    assert_int_equal(migrate_sqlite_status(db, &two, &pending, &e), ERR_CONFLICT);
    assert_string_equal(e.msg, "migration 0003 (rooms) is recorded as applied but has no file");
    assert_int_equal(migrate_sqlite_apply(db, &two, &applied, &e), ERR_CONFLICT);
    assert_int_equal(applied, 0);
    sqlite3_close(db);
    migrate_set_release(&set);
}

static void test_changed_checksum_refused(void **state)
{
    (void)state;
    struct migration_set set = {0};
    struct err e = {0};
    size_t applied, pending;
    char want[512];
    sqlite3 *db = open_memdb();

    set.items = calloc(1, sizeof(*set.items));
    assert_non_null(set.items);
    set.n = 1;
    assert_int_equal(parse_str("init: {tables: {t: {schema: s, attributes: [id]}}}\n", &set.items[0], &e), 0);
    assert_int_equal(migrate_sqlite_apply(db, &set, &applied, &e), 0);
    char old[65];
    memcpy(old, set.items[0].checksum, sizeof(old));
    migration_release(&set.items[0]);

    /* the same version, edited after it was applied */
    assert_int_equal(parse_str("init: {tables: {t: {schema: s, attributes: [id, extra]}}}\n", &set.items[0], &e), 0);
    snprintf(want, sizeof(want),
             "migration 0001 (t) was changed after it was applied: applied checksum %s, file checksum %s; "
             "run scripts/migrate repair after review",
             old, set.items[0].checksum);
    assert_string_not_equal(old, set.items[0].checksum);
    assert_int_equal(migrate_sqlite_status(db, &set, &pending, &e), ERR_CONFLICT);
    assert_string_equal(e.msg, want);
    assert_int_equal(migrate_sqlite_apply(db, &set, &applied, &e), ERR_CONFLICT);
    assert_string_equal(e.msg, want);
    assert_int_equal(applied, 0);
    assert_false(has_column(db, "t", "extra"));
    sqlite3_close(db);
    migrate_set_release(&set);
}

static void test_existing_table_gets_missing_columns(void **state)
{
    (void)state;
    struct migration_set set = {0};
    struct err e = {0};
    size_t applied;
    sqlite3 *db = open_memdb();

    assert_int_equal(sqlite3_exec(db,
                                  "CREATE TABLE patrons (id TEXT PRIMARY KEY, legacy TEXT);"
                                  "INSERT INTO patrons VALUES ('p1', 'kept');",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    set.items = calloc(1, sizeof(*set.items));
    assert_non_null(set.items);
    set.n = 1;
    assert_int_equal(
        parse_str("init:\n"
                  "  tables:\n"
                  "    patrons:\n"
                  "      schema: tavern\n"
                  "      attributes: [id, {name: Legacy}, {name: mood, index: true}, {name: coins, type: integer}]\n",
                  &set.items[0], &e),
        0);
    assert_int_equal(migrate_sqlite_apply(db, &set, &applied, &e), 0);
    assert_int_equal(applied, 1);
    assert_int_equal(column_count(db, "patrons"), 4); /* Legacy matched legacy: SQLite names ignore case */
    assert_string_equal(column_type(db, "patrons", "coins", NULL), "INTEGER");
    assert_true(has_column(db, "patrons", "mood"));
    assert_true(has_index(db, "patrons_mood_idx", "patrons"));
    assert_int_equal(query_int(db, "SELECT count(*) FROM patrons WHERE id = 'p1' AND legacy = 'kept' AND mood IS NULL"),
                     1);
    sqlite3_close(db);
    migrate_set_release(&set);
}

/* Apply one in-memory migration to db; returns the code, *applied the count. */
static int apply_yaml(sqlite3 *db, const char *yaml, size_t *applied, struct err *e)
{
    struct migration_set set = {0};
    set.items = calloc(1, sizeof(*set.items));
    assert_non_null(set.items);
    set.n = 1;
    assert_int_equal(parse_str(yaml, &set.items[0], e), 0);
    int rc = migrate_sqlite_apply(db, &set, applied, e);
    migrate_set_release(&set);
    return rc;
}

static void test_failure_rolls_back(void **state)
{
    (void)state;
    struct err e = {0};
    size_t applied;
    sqlite3 *db = open_memdb();

    assert_int_equal(apply_yaml(db,
                                "- init: {tables: {early: {schema: s, attributes: [id]}}}\n"
                                "- add_attributes: {table: early, attributes: [a]}\n"
                                "- add_attributes: {table: nope, attributes: [x]}\n",
                                &applied, &e),
                     ERR_INVALID);
    assert_string_equal(e.msg, "t.yaml:3: add_attributes: table \"nope\" does not exist in sqlite (create it in an "
                               "earlier migration or earlier in this file)");
    assert_int_equal(applied, 0);
    assert_false(has_table(db, "early")); /* the whole file was rolled back */
    assert_int_equal(query_int(db, "SELECT count(*) FROM schema_migrations"), 0);

    /* a table created for HarperDB only does not exist in SQLite */
    assert_int_equal(apply_yaml(db,
                                "- init: {store: harper, tables: {h: {schema: s, attributes: [id]}}}\n"
                                "- indexes: {table: h, attributes: [id]}\n",
                                &applied, &e),
                     ERR_INVALID);
    assert_non_null(strstr(e.msg, "t.yaml:2: indexes: table \"h\" does not exist in sqlite"));

    /* an index on a column the table lacks */
    assert_int_equal(apply_yaml(db,
                                "- init: {tables: {t: {schema: s, attributes: [id]}}}\n"
                                "- indexes: {table: t, attributes: [ghost]}\n",
                                &applied, &e),
                     ERR_INVALID);
    assert_string_equal(e.msg, "t.yaml:2: indexes: table \"t\" has no column \"ghost\"");
    assert_false(has_table(db, "t"));

    /* a view is not a table */
    assert_int_equal(sqlite3_exec(db, "CREATE VIEW v AS SELECT 1 AS x", NULL, NULL, NULL), SQLITE_OK);
    assert_int_equal(apply_yaml(db, "add_attributes: {table: v, attributes: [y]}\n", &applied, &e), ERR_INVALID);
    assert_non_null(strstr(e.msg, "table \"v\" does not exist in sqlite"));

    /* SQLite's own errors come back as ERR_IO with the file, the line and SQLite's message */
    assert_int_equal(sqlite3_exec(db, "CREATE TABLE w_c_idx (a)", NULL, NULL, NULL), SQLITE_OK);
    assert_int_equal(apply_yaml(db, "\n- init: {tables: {w: {schema: s, attributes: [id, {name: c, index: true}]}}}\n",
                                &applied, &e),
                     ERR_IO);
    assert_string_equal(e.msg, "t.yaml:2: sqlite: there is already a table named w_c_idx (in CREATE INDEX IF NOT "
                               "EXISTS \"w_c_idx\" ON \"w\" (\"c\");)");
    assert_false(has_table(db, "w"));
    sqlite3_close(db);
}

static void test_index_name_clash(void **state)
{
    (void)state;
    struct err e = {0};
    size_t applied;
    sqlite3 *db = open_memdb();

    assert_int_equal(
        apply_yaml(db, "init: {tables: {a_b: {schema: s, attributes: [id, {name: c, index: true}]}}}", &applied, &e),
        0);
    struct migration_set set = {0};
    set.items = calloc(2, sizeof(*set.items));
    assert_non_null(set.items);
    assert_int_equal(
        parse_str("init: {tables: {a_b: {schema: s, attributes: [id, {name: c, index: true}]}}}", &set.items[0], &e),
        0);
    assert_int_equal(
        migrate_parse_buffer("u.yaml", "init: {tables: {a: {schema: s, attributes: [id, {name: b_c, index: true}]}}}",
                             strlen("init: {tables: {a: {schema: s, attributes: [id, {name: b_c, index: true}]}}}"), 2,
                             "u", &set.items[1], &e),
        0);
    set.n = 2;
    assert_int_equal(migrate_sqlite_apply(db, &set, &applied, &e), ERR_INVALID);
    assert_string_equal(e.msg, "u.yaml:1: index \"a_b_c_idx\" for \"a\".\"b_c\" already exists on another table");
    assert_false(has_table(db, "a"));
    sqlite3_close(db);
    migrate_set_release(&set);
}

static void test_harper_store_skipped(void **state)
{
    (void)state;
    struct migration_set set = {0};
    struct err e = {0};
    size_t applied;
    sqlite3 *db = open_memdb();

    set.items = calloc(1, sizeof(*set.items));
    assert_non_null(set.items);
    set.n = 1;
    assert_int_equal(migrate_parse_file(fixture("forms/attributes.yaml"), 1, "attrs", &set.items[0], &e), 0);
    assert_int_equal(migrate_sqlite_apply(db, &set, &applied, &e), 0);
    assert_int_equal(applied, 1);
    assert_string_equal(column_type(db, "barrels", "id", NULL), "INTEGER");
    assert_string_equal(column_type(db, "barrels", "litres", NULL), "REAL");
    assert_true(has_column(db, "barrels", "note"));
    assert_true(has_column(db, "barrels", "vintage"));
    assert_true(has_column(db, "barrels", "tapped"));
    assert_false(has_column(db, "barrels", "photo"));
    assert_false(has_column(db, "barrels", "harper_only"));
    assert_int_equal(column_count(db, "barrels"), 6);
    assert_true(has_index(db, "barrels_label_idx", "barrels"));
    assert_true(has_index(db, "barrels_vintage_idx", "barrels"));
    assert_true(has_index(db, "barrels_litres_idx", "barrels"));
    sqlite3_close(db);
    migrate_set_release(&set);
}

static void test_plan(void **state)
{
    (void)state;
    struct migration m;
    struct err e = {0};
    sqlite3 *db = open_memdb();

    assert_int_equal(migrate_parse_file(fixture("forms/attributes.yaml"), 4, "attrs", &m, &e), 0);
    char *plan = migrate_sqlite_plan(&m);
    assert_non_null(plan);
    char head[128];
    snprintf(head, sizeof(head), "-- migration 0004 (attrs) %s\n", m.checksum);
    assert_true(strncmp(plan, head, strlen(head)) == 0);
    const char *lines[] = {
        "-- schema \"tavern\": nothing to create in sqlite\n",
        "-- schema \"cellar\": nothing to create in sqlite\n",
        "\nCREATE TABLE IF NOT EXISTS \"barrels\" (\"id\" INTEGER PRIMARY KEY, \"label\" TEXT, \"litres\" REAL, "
        "\"note\" TEXT);\n",
        "\nCREATE INDEX IF NOT EXISTS \"barrels_label_idx\" ON \"barrels\" (\"label\");\n",
        "\nALTER TABLE \"barrels\" ADD COLUMN \"vintage\" INTEGER;\n",
        "\nALTER TABLE \"barrels\" ADD COLUMN \"tapped\" TEXT;\n",
        "\nCREATE INDEX IF NOT EXISTS \"barrels_vintage_idx\" ON \"barrels\" (\"vintage\");\n",
        "\nCREATE INDEX IF NOT EXISTS \"barrels_litres_idx\" ON \"barrels\" (\"litres\");\n",
        "\n-- skipped (store: harper): add attributes to \"barrels\"\n",
    };
    const char *at = plan;
    for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
        const char *hit = strstr(at, lines[i]);
        if (hit == NULL)
            print_error("plan lacks (in order) %s in:\n%s", lines[i], plan);
        assert_non_null(hit);
        at = hit + 1;
    }
    assert_null(strstr(plan, "photo"));
    /* nothing was executed, and the plan is SQL that runs */
    assert_int_equal(query_int(db, "SELECT count(*) FROM sqlite_master"), 0);
    assert_int_equal(sqlite3_exec(db, plan, NULL, NULL, NULL), SQLITE_OK);
    assert_int_equal(column_count(db, "barrels"), 6);
    free(plan);
    migration_release(&m);
    sqlite3_close(db);
}

static void test_project_init_applies(void **state)
{
    (void)state;
    struct migration_set set;
    struct err e = {0};
    size_t applied;
    char dir[4096];
    int pk = 0;
    sqlite3 *db = open_memdb();

    snprintf(dir, sizeof(dir), "%s/migrations", top_srcdir());
    if (migrate_load_dir(dir, &set, &e) != 0)
        print_error("%s\n", e.msg);
    assert_true(set.n >= 1);
    assert_int_equal(set.items[0].version, 1);
    assert_string_equal(set.items[0].name, "init");

    char *plan = migrate_sqlite_plan(&set.items[0]);
    assert_non_null(strstr(plan, "CREATE INDEX IF NOT EXISTS \"characters_name_idx\" ON \"characters\" (\"name\");"));
    free(plan);

    assert_int_equal(migrate_sqlite_apply(db, &set, &applied, &e), 0);
    assert_int_equal(applied, set.n);
    for (const char *const *t = (const char *const[]){"characters", "equipment", "campaign", NULL}; *t; t++) {
        assert_true(has_table(db, *t));
        assert_string_equal(column_type(db, *t, "id", &pk), "TEXT");
        assert_int_equal(pk, 1);
    }
    assert_string_equal(column_type(db, "characters", "version", NULL), "INTEGER");
    for (const char *const *c = (const char *const[]){"name", "created_at", "updated_at", "etag", "document", NULL}; *c;
         c++)
        assert_string_equal(column_type(db, "characters", *c, NULL), "TEXT");
    assert_true(has_index(db, "characters_name_idx", "characters"));
    assert_int_equal(migrate_sqlite_apply(db, &set, &applied, &e), 0);
    assert_int_equal(applied, 0);
    sqlite3_close(db);
    migrate_set_release(&set);
}

static void test_original_init_applies(void **state)
{
    (void)state;
    char path[4096];
    struct migration_set set = {0};
    struct err e = {0};
    size_t applied;

    snprintf(path, sizeof(path), "%s/../shared/seed-data/init.yaml", top_srcdir());
    if (access(path, R_OK) != 0) {
        printf("../shared absent: skipping original init.yaml test\n");
        skip();
    }
    set.items = calloc(1, sizeof(*set.items));
    assert_non_null(set.items);
    set.n = 1;
    if (migrate_parse_file(path, 1, "init", &set.items[0], &e) != 0)
        print_error("%s\n", e.msg);
    assert_int_equal(e.code, 0);
    assert_int_equal(set.items[0].nops, 4);
    sqlite3 *db = open_memdb();
    assert_int_equal(migrate_sqlite_apply(db, &set, &applied, &e), 0);
    assert_int_equal(applied, 1);
    assert_true(has_table(db, "characters"));
    assert_true(has_table(db, "equipment"));
    assert_true(has_table(db, "campaign"));
    assert_int_equal(column_count(db, "campaign"), 1);
    sqlite3_close(db);
    migrate_set_release(&set);
}

/* ------------------------------------------------------------------------- */
/* drop_attributes, drop_table, rename_attribute.                            */

/* Parse yamls[i] as version i + 1, at DIR/NNNN_step.yaml (at "t.yaml" when dir is NULL), into *set. */
static void make_set(struct migration_set *set, const char *dir, const char *const *yamls, size_t n)
{
    struct err e = {0};
    set->items = calloc(n, sizeof(*set->items));
    assert_non_null(set->items);
    set->n = n;
    for (size_t i = 0; i < n; i++) {
        char path[4096];
        if (dir != NULL)
            snprintf(path, sizeof(path), "%s/%04zu_step.yaml", dir, i + 1);
        else
            snprintf(path, sizeof(path), "t.yaml");
        int rc = migrate_parse_buffer(path, yamls[i], strlen(yamls[i]), (int)i + 1, "step", &set->items[i], &e);
        if (rc != 0)
            print_error("step %zu: %s\n", i + 1, e.msg);
        assert_int_equal(rc, 0);
    }
}

/* Column 0 of the first row of `sql` as text into a static buffer ("(null)" for NULL, "" without a row). */
static const char *query_text(sqlite3 *db, const char *sql)
{
    static char out[4096];
    sqlite3_stmt *st = NULL;
    out[0] = '\0';
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
        print_error("%s: %s\n", sql, sqlite3_errmsg(db));
    assert_non_null(st);
    if (sqlite3_step(st) == SQLITE_ROW) {
        const unsigned char *t = sqlite3_column_text(st, 0);
        snprintf(out, sizeof(out), "%s", t != NULL ? (const char *)t : "(null)");
    }
    sqlite3_finalize(st);
    return out;
}

static void test_new_commands_parse(void **state)
{
    (void)state;
    struct migration m;
    struct err e = {0};
    const char *yaml = "- drop_attributes: {table: t, schema: s, attributes: [a, b]}\n"
                       "- drop_table: {table: old}\n"
                       "- rename_attribute: {table: t, from: c, to: d, store: sqlite}\n"
                       "- drop_attributes: {table: t, store: harper, attibutes: [h]}\n"
                       "- drop_table:\n"
                       "    table: gone\n"
                       "    schema: s\n"
                       "    store: sqlite\n";
    struct capture cap;
    capture_start(&cap); /* the "attibutes" warning */
    int rc = parse_str(yaml, &m, &e);
    free(capture_end(&cap));
    assert_int_equal(rc, 0);
    assert_int_equal(m.nops, 5);

    const struct migrate_op *o = &m.ops[0];
    assert_int_equal(o->kind, MIGRATE_DROP_ATTRIBUTES);
    assert_string_equal(o->table, "t");
    assert_string_equal(o->schema, "s");
    assert_int_equal(o->store, MIGRATE_STORE_BOTH);
    assert_int_equal(o->nattrs, 2);
    assert_string_equal(o->attrs[1].name, "b");
    assert_null(o->attrs[1].type);
    assert_int_equal(o->attrs[1].index, 0);
    assert_int_equal(o->line, 1);

    o = &m.ops[1];
    assert_int_equal(o->kind, MIGRATE_DROP_TABLE);
    assert_string_equal(o->table, "old");
    assert_null(o->schema);
    assert_int_equal(o->nattrs, 0);

    o = &m.ops[2];
    assert_int_equal(o->kind, MIGRATE_RENAME_ATTRIBUTE);
    assert_string_equal(o->rename_from, "c");
    assert_string_equal(o->rename_to, "d");
    assert_int_equal(o->store, MIGRATE_STORE_SQLITE);
    assert_int_equal(o->line, 3);

    o = &m.ops[3];
    assert_int_equal(o->store, MIGRATE_STORE_HARPER);
    assert_int_equal(o->attrs[0].store, MIGRATE_STORE_HARPER); /* inherited */

    o = &m.ops[4];
    assert_int_equal(o->kind, MIGRATE_DROP_TABLE);
    assert_string_equal(o->schema, "s");
    assert_int_equal(o->store, MIGRATE_STORE_SQLITE);
    assert_int_equal(o->line, 5);
    migration_release(&m);
}

static void test_new_commands_errors(void **state)
{
    (void)state;
    /* unknown keys, by name and position */
    expect_parse_error("drop_table: {table: t, cascade: true}", ERR_INVALID,
                       "t.yaml:1:24: unknown key \"cascade\" in drop_table");
    expect_parse_error("drop_attributes: {table: t, attributes: [a], if_exists: true}", ERR_INVALID,
                       "t.yaml:1:46: unknown key \"if_exists\" in drop_attributes");
    expect_parse_error("rename_attribute: {table: t, from: a, to: b, store: sqlite, force: 1}", ERR_INVALID,
                       "t.yaml:1:61: unknown key \"force\" in rename_attribute");
    expect_parse_error("load: {table: t, file: x.csv, key: k, header: true}", ERR_INVALID,
                       "t.yaml:1:39: unknown key \"header\" in load");
    expect_parse_error("- drop_tables: {table: t}\n", ERR_INVALID, "t.yaml:1:3: unknown command \"drop_tables\"");

    /* HarperDB has no rename: refused unless the command is for SQLite only, at the command */
    const char *harper = "rename_attribute cannot run on HarperDB (it has no rename); add `store: sqlite` or copy "
                         "with add_attributes + load + drop_attributes";
    char want[512];
    snprintf(want, sizeof(want), "t.yaml:2:3: %s", harper);
    expect_parse_error("- init: {schemas: [a]}\n- rename_attribute: {table: t, from: a, to: b}\n", ERR_INVALID, want);
    expect_parse_error("- init: {schemas: [a]}\n- rename_attribute: {table: t, from: a, to: b, store: both}\n",
                       ERR_INVALID, want);
    snprintf(want, sizeof(want), "t.yaml:1:1: %s", harper);
    expect_parse_error("rename_attribute:\n  table: t\n  from: a\n  to: b\n  store: harper\n", ERR_INVALID, want);
    expect_parse_error("rename_attribute: {table: t, from: a, to: A, store: sqlite}", ERR_INVALID,
                       "t.yaml:1:43: rename_attribute of table \"t\" renames \"a\" to \"A\": SQLite column names "
                       "ignore case");
    expect_parse_error("rename_attribute: {table: t, store: sqlite}", ERR_INVALID,
                       "t.yaml:1:19: rename_attribute of table \"t\" has no from; t.yaml:1:19: rename_attribute of "
                       "table \"t\" has no to");
    expect_parse_error("rename_attribute: {table: t, from: a-b, to: c, store: sqlite}", ERR_INVALID,
                       "invalid attribute name \"a-b\" in rename_attribute of table \"t\"");

    /* shapes */
    expect_parse_error("drop_table: {}", ERR_INVALID, "t.yaml:1:13: drop_table has no table");
    expect_parse_error("drop_table: {table: schema_migrations}", ERR_INVALID,
                       "t.yaml:1:21: table name \"schema_migrations\" in drop_table is reserved");
    expect_parse_error("drop_table: [t]", ERR_INVALID, "t.yaml:1:13: drop_table expects a mapping of arguments");
    expect_parse_error("drop_attributes: {table: t, attributes: [{name: a}]}", ERR_INVALID,
                       "t.yaml:1:42: attributes in drop_attributes of table \"t\" must be names, not a mapping");
    expect_parse_error("drop_attributes: {table: t}", ERR_INVALID,
                       "t.yaml:1:18: drop_attributes of table \"t\" has no attributes");
    expect_parse_error("drop_attributes: {table: t, store: x, attributes: [a]}", ERR_INVALID,
                       "t.yaml:1:36: store in drop_attributes must be sqlite, harper or both, not \"x\"");
    expect_parse_error("load: {table: t}", ERR_INVALID,
                       "t.yaml:1:7: load into table \"t\" has no file; t.yaml:1:7: load into table \"t\" has no key");
    expect_parse_error("load: {file: x.csv, key: k}", ERR_INVALID, "t.yaml:1:7: load has no table");

    /* a load's file stays inside the migration's folder */
    expect_parse_error("load: {table: t, file: /etc/passwd, key: k}", ERR_INVALID,
                       "t.yaml:1:24: file \"/etc/passwd\" of load into table \"t\" must be a path relative to the "
                       "migration's folder, not an absolute path");
    expect_parse_error("load: {table: t, file: ../x.csv, key: k}", ERR_INVALID,
                       "t.yaml:1:24: file \"../x.csv\" of load into table \"t\" must stay inside the migration's "
                       "folder (no \"..\")");
    expect_parse_error("load: {table: t, file: a/../b.csv, key: k}", ERR_INVALID, "(no \"..\")");
    expect_parse_error("load: {table: t, file: {a: 1}, key: k}", ERR_INVALID,
                       "t.yaml:1:24: file of load into table \"t\" must be a path, not a mapping");
    expect_parse_error("load: {table: t, file: '', key: k}", ERR_INVALID,
                       "t.yaml:1:24: file \"\" of load into table \"t\" is empty");
    expect_parse_error("load: {table: t, file: \"a\\0b\", key: k}", ERR_INVALID,
                       "t.yaml:1:24: file \"a?b\" of load into table \"t\" holds a NUL character");

    /* its key */
    expect_parse_error("load: {table: t, file: x.csv, key: {a: 1}}", ERR_INVALID,
                       "t.yaml:1:36: key of load into table \"t\" must be a column name or a sequence of them, not a "
                       "mapping");
    expect_parse_error("load: {table: t, file: x.csv, key: []}", ERR_INVALID,
                       "t.yaml:1:36: key of load into table \"t\" needs 1 to 256 column names");
    expect_parse_error("load: {table: t, file: x.csv, key: [a, A]}", ERR_INVALID,
                       "t.yaml:1:40: duplicate key column \"A\" in load into table \"t\"");
    expect_parse_error("load: {table: t, file: x.csv, key: 1x}", ERR_INVALID,
                       "t.yaml:1:36: invalid key column name \"1x\" in load into table \"t\"");
    expect_parse_error("load: {table: t, file: x.csv, key: ~}", ERR_INVALID,
                       "t.yaml:1:36: key column name in load into table \"t\" must be a string, not nothing");
}

static void test_apply_drops_and_rename(void **state)
{
    (void)state;
    struct migration_set set;
    struct err e = {0};
    size_t applied;
    sqlite3 *db = open_memdb();
    const char *steps[] = {
        "- init: {tables: {t: {schema: s, attributes: [id, a, {name: b, index: true}, c, {name: d, index: true}]},"
        " scratch: {schema: s, attributes: [id]}}}\n",
        "- drop_attributes: {table: t, attributes: [b, never_there]}\n"
        "- rename_attribute: {table: t, from: d, to: e, store: sqlite}\n"
        "- drop_table: {table: scratch}\n"
        "- drop_attributes: {table: t, store: harper, attributes: [c]}\n",
        /* the same again: every step finds its work done */
        "- drop_attributes: {table: t, attributes: [b, never_there]}\n"
        "- rename_attribute: {table: t, from: d, to: e, store: sqlite}\n"
        "- drop_table: {table: scratch}\n",
    };

    make_set(&set, NULL, steps, 1);
    assert_int_equal(migrate_sqlite_apply(db, &set, &applied, &e), 0);
    migrate_set_release(&set);
    assert_int_equal(sqlite3_exec(db, "INSERT INTO t (id, a, b, c, d) VALUES ('r1', 'kept', 'gone', 'c1', 'moved')",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    assert_true(has_index(db, "t_b_idx", "t"));

    make_set(&set, NULL, steps, 3);
    if (migrate_sqlite_apply(db, &set, &applied, &e) != 0)
        print_error("%s\n", e.msg);
    assert_int_equal(e.code, 0);
    assert_int_equal(applied, 2);
    assert_false(has_column(db, "t", "b"));
    assert_false(has_index(db, "t_b_idx", "t")); /* its index went first */
    assert_false(has_column(db, "t", "d"));
    assert_true(has_column(db, "t", "e"));
    assert_false(has_index(db, "t_d_idx", "t"));
    assert_true(has_index(db, "t_e_idx", "t")); /* the index follows the new name */
    assert_true(has_column(db, "t", "c"));      /* that drop was for HarperDB */
    assert_false(has_table(db, "scratch"));
    assert_int_equal(column_count(db, "t"), 4);
    assert_string_equal(query_text(db, "SELECT a || '/' || c || '/' || e FROM t WHERE id = 'r1'"), "kept/c1/moved");
    assert_int_equal(query_int(db, "SELECT count(*) FROM schema_migrations"), 3);
    migrate_set_release(&set);
    sqlite3_close(db);
}

static void test_drop_primary_key_refused(void **state)
{
    (void)state;
    struct migration_set set;
    struct err e = {0};
    size_t applied;
    sqlite3 *db = open_memdb();
    const char *steps[] = {
        "init: {tables: {t: {schema: s, attributes: [id, a, b]}}}\n",
        "- drop_attributes: {table: t, attributes: [a]}\n"
        "- drop_attributes: {table: t, attributes: [b, ID]}\n",
    };
    make_set(&set, NULL, steps, 2);
    assert_int_equal(migrate_sqlite_apply(db, &set, &applied, &e), ERR_INVALID);
    assert_string_equal(e.msg, "t.yaml:2: drop_attributes: \"ID\" is the primary key of table \"t\" and cannot be "
                               "dropped (drop the table instead)");
    assert_int_equal(applied, 1);
    assert_true(has_column(db, "t", "a")); /* the whole second file rolled back */
    assert_true(has_column(db, "t", "b"));
    migrate_set_release(&set);

    /* dropping from or renaming in a table that is not there */
    sqlite3_close(db);
    db = open_memdb();
    assert_int_equal(apply_yaml(db, "drop_attributes: {table: nope, attributes: [a]}", &applied, &e), ERR_INVALID);
    assert_string_equal(e.msg, "t.yaml:1: drop_attributes: table \"nope\" does not exist in sqlite (create it in an "
                               "earlier migration or earlier in this file)");
    assert_int_equal(apply_yaml(db, "rename_attribute: {table: nope, from: a, to: b, store: sqlite}", &applied, &e),
                     ERR_INVALID);
    assert_non_null(strstr(e.msg, "t.yaml:1: rename_attribute: table \"nope\" does not exist in sqlite"));
    sqlite3_close(db);
}

static void test_rename_apply_errors(void **state)
{
    (void)state;
    struct err e = {0};
    size_t applied;
    sqlite3 *db = open_memdb();

    assert_int_equal(apply_yaml(db,
                                "- init: {tables: {t: {schema: s, attributes: [id, a, b]}}}\n"
                                "- rename_attribute: {table: t, from: x, to: y, store: sqlite}\n",
                                &applied, &e),
                     ERR_INVALID);
    assert_string_equal(e.msg, "t.yaml:2: rename_attribute: table \"t\" has no column \"x\"");
    assert_int_equal(apply_yaml(db,
                                "- init: {tables: {t: {schema: s, attributes: [id, a, b]}}}\n"
                                "- rename_attribute: {table: t, from: a, to: b, store: sqlite}\n",
                                &applied, &e),
                     ERR_INVALID);
    assert_string_equal(e.msg, "t.yaml:2: rename_attribute: table \"t\" has both \"a\" and \"b\"");
    assert_false(has_table(db, "t"));
    sqlite3_close(db);
}

/* ------------------------------------------------------------------------- */
/* load.                                                                     */

static void test_ids_from_key(void **state)
{
    (void)state;
    char a[IDS_UUID_LEN + 1], b[IDS_UUID_LEN + 1];
    const char *ns = "dungeonmaster.equipment";

    assert_true(sodium_init() >= 0);
    /* python3: hashlib.blake2b(b"dungeonmaster.equipment\0Quilted Gambeson", digest_size=16), version 8 */
    ids_uuid_from_key(ns, strlen(ns), "Quilted Gambeson", 16, a);
    assert_string_equal(a, "01bdefb5-2e7f-855c-8c77-7b1249015452");
    assert_true(ids_is_uuid(a, strlen(a)));
    ids_uuid_from_key(ns, strlen(ns), "Quilted Gambeson", 16, b);
    assert_string_equal(a, b);
    ids_uuid_from_key("", 0, "", 0, b);
    assert_string_equal(b, "7025e075-d5e2-86cd-a3cc-051a31f07660");
    /* the separator keeps ("ab", "c") apart from ("a", "bc") */
    ids_uuid_from_key("ab", 2, "c", 1, a);
    ids_uuid_from_key("a", 1, "bc", 2, b);
    assert_string_not_equal(a, b);
    for (int i = 0; i < 200; i++) {
        char key[16];
        int n = snprintf(key, sizeof(key), "k%d", i);
        ids_uuid_from_key(ns, strlen(ns), key, (size_t)n, a);
        assert_true(ids_is_uuid(a, strlen(a)));
        assert_int_equal(a[14], '8');           /* version */
        assert_non_null(strchr("89ab", a[19])); /* RFC 4122 variant */
    }
}

static void test_load_parse(void **state)
{
    (void)state;
    struct migration_set set;
    struct err e = {0};
    char want[4200];

    assert_int_equal(migrate_load_dir(fixture("load"), &set, &e), 0); /* the CSVs beside it are not migrations */
    assert_int_equal(set.n, 1);
    const struct migration *m = &set.items[0];
    /* cat 0001_equipment.yaml armor.csv data/trinkets.csv | b2sum -l 256 */
    assert_string_equal(m->checksum, "c63f5c3c57e8eb64e6c2880c22cf75f3085edbfefb832f444ab2959ab06b4895");
    assert_int_equal(m->nops, 5);

    const struct migrate_op *o = &m->ops[3];
    assert_int_equal(o->kind, MIGRATE_LOAD);
    assert_string_equal(o->table, "equipment");
    assert_string_equal(o->schema, "dungeonmaster");
    snprintf(want, sizeof(want), "%s/armor.csv", fixture("load"));
    assert_string_equal(o->file, want);
    assert_int_equal(o->nkey, 1);
    assert_string_equal(o->key[0], "name");
    assert_int_equal(o->line, 22);
    assert_non_null(o->rows);
    assert_int_equal(o->rows->ncols, 6);
    assert_string_equal(o->rows->header[0], "name"); /* after the byte-order mark */
    assert_int_equal(o->rows->nrows, 5);
    assert_string_equal(o->rows->rows[1][0], "Boiled Leather");
    assert_null(o->rows->rows[1][5]); /* the empty stealth field */
    assert_string_equal(o->rows->rows[4][5], "disadvantage");

    o = &m->ops[4];
    snprintf(want, sizeof(want), "%s/data/trinkets.csv", fixture("load"));
    assert_string_equal(o->file, want);
    assert_int_equal(o->nkey, 2);
    assert_string_equal(o->key[1], "equip_type");
    assert_int_equal(o->rows->nrows, 4);
    assert_string_equal(o->rows->rows[0][0], "Lantern, hooded");
    migrate_set_release(&set);
}

/* A temporary folder holding `files` (name, content pairs, NULL-terminated). */
static char *make_dir_with(const char *const *files)
{
    char *dir = make_tmpdir();
    for (size_t i = 0; files[i] != NULL; i += 2)
        write_file(dir, files[i], files[i + 1], strlen(files[i + 1]));
    return dir;
}

/* Parsing `yaml` as DIR/0001_x.yaml fails with `code` and a message holding `needle` (DIR replaced by the folder). */
static void expect_load_error(const char *dir, const char *yaml, int code, const char *needle)
{
    char path[4096], want[2048];
    size_t used = 0;
    struct migration m;
    struct err e = {0};
    snprintf(path, sizeof(path), "%s/0001_x.yaml", dir);
    for (const char *p = needle; *p != '\0' && used + 1 < sizeof(want);) {
        if (strncmp(p, "DIR", 3) == 0) {
            used += (size_t)snprintf(want + used, sizeof(want) - used, "%s", dir);
            p += 3;
        } else {
            want[used++] = *p++;
        }
    }
    want[used < sizeof(want) ? used : sizeof(want) - 1] = '\0';
    int rc = migrate_parse_buffer(path, yaml, strlen(yaml), 1, "x", &m, &e);
    if (rc != code || strstr(e.msg, want) == NULL)
        print_error("yaml:\n%s\nexpected %d containing [%s], got %d [%s]\n", yaml, code, want, rc, e.msg);
    assert_int_equal(rc, code);
    assert_non_null(strstr(e.msg, want));
    assert_null(m.ops);
}

static void test_load_csv_problems(void **state)
{
    (void)state;
    const char *files[] = {
        "short.csv",   "name,weight\r\nClub,2\r\nDagger\r\n",
        "good.csv",    "name,weight\r\nClub,2\r\nDagger,1",
        "id.csv",      "id,name\nx,y\n",
        "badname.csv", "name,weight (lb)\nClub,2\n",
        "twice.csv",   "name,Name\nClub,club\n",
        "nokey.csv",   "name,weight\nClub,2\n,3\n",
        "dups.csv",    "\xef\xbb\xbfname,weight\r\nClub,2\r\nDagger,1\r\nClub,3\r\n\"Club\",4",
        "pairs.csv",   "name,kind\nClub,simple\nClub,martial\nClub,simple\n",
        "quote.csv",   "name\n\"Club\n",
        "latin1.csv",  "name\nCaf\xe9\n",
        "empty.csv",   "",
        NULL,
    };
    char *dir = make_dir_with(files);
    char sub[4200];

    expect_load_error(dir, "- load: {table: t, file: short.csv, key: name}", ERR_INVALID,
                      "DIR/0001_x.yaml:1:3: load into table \"t\": DIR/short.csv:3: expected 2 fields, found 1");
    expect_load_error(dir, "load: {table: t, file: quote.csv, key: name}", ERR_INVALID,
                      "DIR/0001_x.yaml:1:1: load into table \"t\": DIR/quote.csv:2: unterminated quoted field");
    expect_load_error(dir, "load: {table: t, file: latin1.csv, key: name}", ERR_INVALID,
                      "load into table \"t\": DIR/latin1.csv:2: invalid UTF-8 (byte 0xE9)");
    expect_load_error(dir, "load: {table: t, file: empty.csv, key: name}", ERR_INVALID,
                      "DIR/empty.csv:1: no header line: the file is empty");
    expect_load_error(dir, "load: {table: t, file: missing.csv, key: name}", ERR_IO,
                      "DIR/0001_x.yaml:1:1: load into table \"t\": cannot open \"DIR/missing.csv\": No such file or "
                      "directory");
    expect_load_error(dir, "load: {table: t, file: ., key: name}", ERR_IO, "\"DIR/.\" is not a regular file");
    /* a FIFO is refused without waiting for a writer */
    snprintf(sub, sizeof(sub), "%s/pipe.csv", dir);
    assert_int_equal(mkfifo(sub, 0600), 0);
    expect_load_error(dir, "load: {table: t, file: pipe.csv, key: name}", ERR_IO,
                      "\"DIR/pipe.csv\" is not a regular file");
    /* over 16 MiB (a sparse file: only its size matters) */
    snprintf(sub, sizeof(sub), "%s/big.csv", dir);
    assert_int_equal(truncate(sub, 0), -1);
    FILE *f = fopen(sub, "wb");
    assert_non_null(f);
    assert_int_equal(ftruncate(fileno(f), (off_t)CSV_MAX_BYTES + 1), 0);
    fclose(f);
    expect_load_error(dir, "load: {table: t, file: big.csv, key: name}", ERR_TOO_LARGE,
                      "load into table \"t\": DIR/big.csv: 16777217 bytes is over the limit of 16777216 bytes for a "
                      "CSV file");
    /* at most MIGRATE_MAX_LOAD_BYTES over all the loads of one migration: four files of 15 MB pass, five do not */
    size_t cap = CSV_MAX_BYTES, len = 0;
    char *wide = malloc(cap);
    assert_non_null(wide);
    for (unsigned i = 0; i < CSV_MAX_COLS; i++)
        len += (size_t)snprintf(wide + len, cap - len, "%sc%u", i ? "," : "", i);
    wide[len++] = '\n';
    for (unsigned i = 0; i < CSV_MAX_COLS; i++) {
        memset(wide + len, 'x', 60000);
        len += 60000;
        wide[len++] = i + 1 < CSV_MAX_COLS ? ',' : '\n';
    }
    write_file(dir, "wide.csv", wide, len);
    free(wide);
    const char *four = "- load: {table: t, file: wide.csv, key: c0}\n- load: {table: t, file: wide.csv, key: c0}\n"
                       "- load: {table: t, file: wide.csv, key: c0}\n- load: {table: t, file: wide.csv, key: c0}\n";
    char five[512];
    struct migration m;
    struct err e = {0};
    snprintf(sub, sizeof(sub), "%s/0001_x.yaml", dir);
    assert_int_equal(migrate_parse_buffer(sub, four, strlen(four), 1, "x", &m, &e), 0);
    assert_int_equal(m.ops[3].rows->ncols, 256);
    migration_release(&m);
    snprintf(five, sizeof(five), "%s- load: {table: t, file: wide.csv, key: c0}\n", four);
    expect_load_error(dir, five, ERR_TOO_LARGE,
                      "DIR/0001_x.yaml:5:3: load into table \"t\": DIR/wide.csv: the files loaded by one migration "
                      "are over the limit of 67108864 bytes");

    /* the header: no "id" (load makes it), identifiers only, each once; the key is in it */
    expect_load_error(dir, "load: {table: t, file: id.csv, key: name}", ERR_INVALID,
                      "DIR/0001_x.yaml:1:1: load into table \"t\": DIR/id.csv:1: column \"id\" is the table's hash "
                      "attribute, which load computes from the key; remove the column");
    expect_load_error(dir, "load: {table: t, file: badname.csv, key: name}", ERR_INVALID,
                      "load into table \"t\": DIR/badname.csv:1: invalid column name \"weight (lb)\": use letters");
    expect_load_error(dir, "load: {table: t, file: twice.csv, key: name}", ERR_INVALID,
                      "load into table \"t\": DIR/twice.csv:1: duplicate column \"Name\"");
    expect_load_error(dir, "load: {table: t, file: good.csv, key: [name, colour]}", ERR_INVALID,
                      "DIR/0001_x.yaml:1:46: load into table \"t\": key column \"colour\" is not in the header of "
                      "DIR/good.csv");
    expect_load_error(dir, "load: {table: t, file: good.csv, key: Name}", ERR_INVALID,
                      "key column \"Name\" is not in the header"); /* the header's names are matched exactly */
    /* the rows: each has its key, no two share one */
    expect_load_error(dir, "load: {table: t, file: nokey.csv, key: name}", ERR_INVALID,
                      "load into table \"t\": DIR/nokey.csv:3: key column \"name\" is empty");
    expect_load_error(dir, "load: {table: t, file: dups.csv, key: name}", ERR_INVALID,
                      "DIR/0001_x.yaml:1:1: load into table \"t\": DIR/dups.csv:4: duplicate key name=\"Club\", first "
                      "on line 2; DIR/0001_x.yaml:1:1: load into table \"t\": DIR/dups.csv:5: duplicate key "
                      "name=\"Club\", first on line 2");
    expect_load_error(dir, "load: {table: t, file: pairs.csv, key: [name, kind]}", ERR_INVALID,
                      "DIR/pairs.csv:4: duplicate key name=\"Club\", kind=\"simple\", first on line 2");

    /* a bad file fails the parse, so nothing is applied */
    struct migration_set set;
    write_file(dir, "0001_ok.yaml", "init: {tables: {t: {schema: s, attributes: [id, name, weight]}}}\n", 66);
    write_file(dir, "0002_bad.yaml", "load: {table: t, file: short.csv, key: name}\n", 46);
    assert_int_equal(migrate_load_dir(dir, &set, &e), ERR_INVALID);
    assert_int_equal(set.n, 0);
    remove_tree(dir);
}

/* The id a load gives the row with key `key` in "dungeonmaster.equipment", into a static buffer. */
static const char *equipment_id(const char *key)
{
    static char id[IDS_UUID_LEN + 1];
    const char *ns = "dungeonmaster.equipment";
    ids_uuid_from_key(ns, strlen(ns), key, strlen(key), id);
    return id;
}

static void test_load_apply(void **state)
{
    (void)state;
    struct migration_set set;
    struct err e = {0};
    size_t applied;
    char sql[512], ids_before[4096], path[4200];
    sqlite3 *db = open_memdb();

    assert_int_equal(migrate_load_dir(fixture("load"), &set, &e), 0);
    assert_int_equal(migrate_sqlite_apply(db, &set, &applied, &e), 0);
    assert_int_equal(applied, 1);
    assert_int_equal(query_int(db, "SELECT count(*) FROM equipment"), 9);

    /* ids: BLAKE2b of "dungeonmaster.equipment" and the key, as the HarperDB half computes them */
    snprintf(sql, sizeof(sql), "SELECT name FROM equipment WHERE id = '%s'", equipment_id("Quilted Gambeson"));
    assert_string_equal(query_text(db, sql), "Quilted Gambeson");
    assert_string_equal(equipment_id("Quilted Gambeson"), "01bdefb5-2e7f-855c-8c77-7b1249015452");
    snprintf(sql, sizeof(sql), "SELECT notes FROM equipment WHERE id = '%s'", equipment_id("Chalk\x1ftools"));
    assert_string_equal(query_text(db, sql), "same name, another type: the key (name, equip_type) differs");
    assert_string_equal(equipment_id("Chalk\x1ftools"), "b2b189b1-14a8-8dee-b6bc-30a970b64279");

    /* values: typed, empty fields NULL, quoted commas and quotes kept */
    assert_string_equal(query_text(db, "SELECT typeof(base_cost) || ' ' || base_cost || ' ' || typeof(armor_class) "
                                       "|| ' ' || armor_class || ' ' || weight FROM equipment "
                                       "WHERE name = 'Mirror Plate'"),
                        "real 1800.0 integer 18 60.5");
    assert_string_equal(query_text(db, "SELECT stealth FROM equipment WHERE name = 'Boiled Leather'"), "(null)");
    assert_string_equal(query_text(db, "SELECT stealth FROM equipment WHERE name = 'Mirror Plate'"), "disadvantage");
    assert_string_equal(query_text(db, "SELECT notes FROM equipment WHERE name = 'Rope, hempen (50 feet)'"),
                        "the seller said \"sturdy\"");
    assert_string_equal(query_text(db, "SELECT base_cost FROM equipment WHERE name = 'Chalk' AND "
                                       "equip_type = 'adventuring-gear'"),
                        "0.01");
    assert_int_equal(query_int(db, "SELECT count(*) FROM equipment WHERE length(id) = 36 AND substr(id, 15, 1) = '8'"),
                     9);
    snprintf(ids_before, sizeof(ids_before), "%s",
             query_text(db, "SELECT group_concat(id || '=' || name || '=' || ifnull(stealth, '-'), ',') FROM "
                            "(SELECT * FROM equipment ORDER BY id)"));

    /* loading again (another migration, the same files) gives the same rows and ids */
    struct migration_set twice = {0};
    twice.items = calloc(2, sizeof(*twice.items));
    assert_non_null(twice.items);
    twice.items[0] = set.items[0];
    free(set.items);
    twice.n = 2;
    snprintf(path, sizeof(path), "%s/0002_again.yaml", fixture("load"));
    const char *again = "- load: {table: equipment, schema: dungeonmaster, file: armor.csv, key: name}\n"
                        "- load: {table: equipment, schema: dungeonmaster, file: data/trinkets.csv, "
                        "key: [name, equip_type]}\n";
    assert_int_equal(migrate_parse_buffer(path, again, strlen(again), 2, "again", &twice.items[1], &e), 0);
    assert_int_equal(migrate_sqlite_apply(db, &twice, &applied, &e), 0);
    assert_int_equal(applied, 1);
    assert_int_equal(query_int(db, "SELECT count(*) FROM equipment"), 9);
    assert_string_equal(query_text(db, "SELECT group_concat(id || '=' || name || '=' || ifnull(stealth, '-'), ',') "
                                       "FROM (SELECT * FROM equipment ORDER BY id)"),
                        ids_before);
    migrate_set_release(&twice);
    sqlite3_close(db);
}

static void test_load_updates_and_columns(void **state)
{
    (void)state;
    const char *files[] = {
        "v1.csv",   "name,colour,size\nA,red,1\nB,blue,2\n", "v2.csv", "name,colour,size\nA,,1\nB,green,2\nC,pink,3",
        "wide.csv", "name,colour,shape\nA,red,round\n",      NULL,
    };
    char *dir = make_dir_with(files);
    struct migration_set set;
    struct err e = {0};
    size_t applied;
    sqlite3 *db = open_memdb();
    const char *steps[] = {
        "- init: {tables: {t: {schema: s, attributes: [id, name, colour, {name: size, type: integer}]}}}\n"
        "- load: {table: t, schema: s, file: v1.csv, key: name}\n",
        "- load: {table: t, schema: s, file: v2.csv, key: name}\n",
    };

    /* a later load updates by key: an empty field sets NULL, new keys add rows */
    make_set(&set, dir, steps, 2);
    assert_int_equal(migrate_sqlite_apply(db, &set, &applied, &e), 0);
    assert_int_equal(applied, 2);
    assert_int_equal(query_int(db, "SELECT count(*) FROM t"), 3);
    assert_string_equal(query_text(db, "SELECT ifnull(colour, 'NULL') FROM t WHERE name = 'A'"), "NULL");
    assert_string_equal(query_text(db, "SELECT colour FROM t WHERE name = 'B'"), "green");
    assert_string_equal(query_text(db, "SELECT typeof(size) FROM t WHERE name = 'C'"), "integer");
    migrate_set_release(&set);

    /* every CSV column must be a column of the table when the load runs */
    const char *more[] = {steps[0], steps[1], "- load: {table: t, schema: s, file: wide.csv, key: name}\n"};
    make_set(&set, dir, more, 3);
    assert_int_equal(migrate_sqlite_apply(db, &set, &applied, &e), ERR_INVALID);
    char want[4200];
    snprintf(want, sizeof(want),
             "%s/0003_step.yaml:1: load: table \"t\" has no column \"shape\" in sqlite (declare it with init or "
             "add_attributes before loading wide.csv)",
             dir);
    assert_string_equal(e.msg, want);
    migrate_set_release(&set);

    /* the table's key must be "id" */
    sqlite3_close(db);
    db = open_memdb();
    const char *keyed[] = {"- init: {tables: {t: {schema: s, attributes: [name, colour, size]}}}\n"
                           "- load: {table: t, schema: s, file: v1.csv, key: name}\n"};
    make_set(&set, dir, keyed, 1);
    assert_int_equal(migrate_sqlite_apply(db, &set, &applied, &e), ERR_INVALID);
    snprintf(want, sizeof(want), "%s/0001_step.yaml:2: load: table \"t\" has no primary key \"id\" in sqlite", dir);
    assert_non_null(strstr(e.msg, want));
    assert_false(has_table(db, "t"));
    migrate_set_release(&set);

    /* a load for HarperDB only is parsed but leaves SQLite alone */
    const char *harper[] = {"- init: {tables: {t: {schema: s, attributes: [id, name, colour, size]}}}\n"
                            "- load: {table: t, schema: s, file: v1.csv, key: name, store: harper}\n"};
    make_set(&set, dir, harper, 1);
    assert_int_equal(set.items[0].ops[1].rows->nrows, 2);
    assert_int_equal(migrate_sqlite_apply(db, &set, &applied, &e), 0);
    assert_int_equal(query_int(db, "SELECT count(*) FROM t"), 0);
    char *plan = migrate_sqlite_plan(&set.items[0]);
    assert_non_null(strstr(plan, "-- skipped (store: harper): load rows into \"t\"\n"));
    free(plan);
    migrate_set_release(&set);
    sqlite3_close(db);
    remove_tree(dir);
}

static void test_load_records_json(void **state)
{
    (void)state;
    const char *files[] = {
        "typed.csv",
        "name,n,r,s,e\n"
        "A,42,0.5,007,\n"
        "B,-0,1e3,1.,x\n"
        "C,99999999999999999999,1e999,-,\"1,5\"\n"
        "D,-9223372036854775808,-2.5E-3,+1,.5\n",
        NULL,
    };
    char *dir = make_dir_with(files);
    struct migration_set set;
    struct err e = {0};
    size_t applied;
    char id[IDS_UUID_LEN + 1];
    sqlite3 *db = open_memdb();
    const char *steps[] = {"- init: {tables: {t: {schema: s, attributes: [id, name, {name: n, type: blob}, "
                           "{name: r, type: blob}, s, e]}}}\n"
                           "- load: {table: t, schema: s, file: typed.csv, key: name}\n"};
    make_set(&set, dir, steps, 1);

    assert_null(migrate_load_records(&set.items[0].ops[0])); /* not a load */
    json_t *rec = migrate_load_records(&set.items[0].ops[1]);
    assert_non_null(rec);
    assert_int_equal(json_array_size(rec), 4);
    json_t *a = json_array_get(rec, 0), *b = json_array_get(rec, 1), *c = json_array_get(rec, 2),
           *d = json_array_get(rec, 3);
    ids_uuid_from_key("s.t", 3, "A", 1, id);
    assert_string_equal(json_string_value(json_object_get(a, "id")), id);
    assert_string_equal(json_string_value(json_object_get(a, "name")), "A");
    assert_true(json_is_integer(json_object_get(a, "n")));
    assert_int_equal(json_integer_value(json_object_get(a, "n")), 42);
    assert_true(json_is_real(json_object_get(a, "r")));
    assert_true(json_real_value(json_object_get(a, "r")) == 0.5);
    assert_string_equal(json_string_value(json_object_get(a, "s")), "007"); /* leading zeros: not a JSON number */
    assert_null(json_object_get(a, "e"));                                   /* empty: absent */
    assert_int_equal(json_object_size(a), 5);
    assert_int_equal(json_integer_value(json_object_get(b, "n")), 0);
    assert_true(json_real_value(json_object_get(b, "r")) == 1000.0);
    assert_string_equal(json_string_value(json_object_get(b, "s")), "1.");
    assert_true(json_is_real(json_object_get(c, "n"))); /* beyond 64 bits */
    assert_true(json_real_value(json_object_get(c, "n")) == 1e20);
    assert_string_equal(json_string_value(json_object_get(c, "r")), "1e999"); /* not finite: kept as text */
    assert_string_equal(json_string_value(json_object_get(c, "s")), "-");
    assert_string_equal(json_string_value(json_object_get(c, "e")), "1,5");
    assert_true(json_integer_value(json_object_get(d, "n")) == INT64_MIN);
    assert_true(json_real_value(json_object_get(d, "r")) == -2.5e-3);
    assert_string_equal(json_string_value(json_object_get(d, "s")), "+1");
    assert_string_equal(json_string_value(json_object_get(d, "e")), ".5");

    /* SQLite gets the same ids and the same types (blob columns keep what is bound) */
    assert_int_equal(migrate_sqlite_apply(db, &set, &applied, &e), 0);
    assert_string_equal(query_text(db, "SELECT group_concat(typeof(n) || ':' || typeof(r), ' ') FROM "
                                       "(SELECT * FROM t ORDER BY name)"),
                        "integer:real integer:real real:text integer:real");
    for (size_t i = 0; i < json_array_size(rec); i++) {
        char sql[256];
        json_t *o = json_array_get(rec, i);
        snprintf(sql, sizeof(sql), "SELECT name FROM t WHERE id = '%s'", json_string_value(json_object_get(o, "id")));
        assert_string_equal(query_text(db, sql), json_string_value(json_object_get(o, "name")));
    }
    json_decref(rec);
    migrate_set_release(&set);
    sqlite3_close(db);
    remove_tree(dir);
}

static void test_checksum_covers_csv(void **state)
{
    (void)state;
    const char *yaml = "- init: {tables: {t: {schema: s, attributes: [id, name, colour]}}}\n"
                       "- load: {table: t, schema: s, file: items.csv, key: name}\n";
    const char *csv1 = "name,colour\nA,red\n", *csv2 = "name,colour\nA,blue\n";
    const char *files[] = {"0001_items.yaml", yaml, "items.csv", csv1, NULL};
    char *dir = make_dir_with(files);
    struct migration_set set, set2;
    struct err e = {0};
    size_t applied, pending;
    unsigned char digest[32];
    char hex[65];
    sqlite3 *db = open_memdb();

    assert_int_equal(migrate_load_dir(dir, &set, &e), 0);
    /* BLAKE2b-256 over the yaml bytes, then the CSV's */
    crypto_generichash_state st;
    crypto_generichash_init(&st, NULL, 0, sizeof(digest));
    crypto_generichash_update(&st, (const unsigned char *)yaml, strlen(yaml));
    crypto_generichash_update(&st, (const unsigned char *)csv1, strlen(csv1));
    crypto_generichash_final(&st, digest, sizeof(digest));
    sodium_bin2hex(hex, sizeof(hex), digest, sizeof(digest));
    assert_string_equal(set.items[0].checksum, hex);
    assert_int_equal(migrate_sqlite_apply(db, &set, &applied, &e), 0);

    /* the same yaml with another CSV is another migration: refused as changed */
    write_file(dir, "items.csv", csv2, strlen(csv2));
    assert_int_equal(migrate_load_dir(dir, &set2, &e), 0);
    assert_string_not_equal(set.items[0].checksum, set2.items[0].checksum);
    assert_int_equal(migrate_sqlite_status(db, &set2, &pending, &e), ERR_CONFLICT);
    assert_non_null(strstr(e.msg, "migration 0001 (items) was changed after it was applied"));
    assert_int_equal(migrate_sqlite_apply(db, &set2, &applied, &e), ERR_CONFLICT);
    assert_string_equal(query_text(db, "SELECT colour FROM t"), "red");
    migrate_set_release(&set);
    migrate_set_release(&set2);
    sqlite3_close(db);
    remove_tree(dir);
}

static void test_original_csvs(void **state)
{
    (void)state;
    char dir[4096], path[4200];
    struct migration_set set = {0};
    struct err e = {0};
    size_t applied;

    snprintf(dir, sizeof(dir), "%s/../shared/seed-data", top_srcdir());
    snprintf(path, sizeof(path), "%s/armor.csv", dir);
    if (access(path, R_OK) != 0) {
        printf("../shared absent: skipping original CSV test\n");
        skip();
    }
    const char *load = "- init: {schemas: [dungeonmaster], tables: {equipment: {schema: dungeonmaster, "
                       "attributes: [id]}}}\n"
                       "- add_attributes:\n"
                       "    table: equipment\n"
                       "    schema: dungeonmaster\n"
                       "    attributes: [name, equip_type, {name: base_cost, type: real}, {name: weight, type: real},"
                       " {name: armor_class, type: integer}, stealth, damage, damage_type, properties,"
                       " {name: range, type: integer}, {name: hands, type: integer}]\n"
                       "- load: {table: equipment, schema: dungeonmaster, file: armor.csv, key: name}\n"
                       "- load: {table: equipment, schema: dungeonmaster, file: weapons.csv, key: name}\n"
                       "- load: {table: equipment, schema: dungeonmaster, file: other.csv, key: name}\n";
    const char *again = "- load: {table: equipment, schema: dungeonmaster, file: armor.csv, key: name}\n"
                        "- load: {table: equipment, schema: dungeonmaster, file: weapons.csv, key: name}\n"
                        "- load: {table: equipment, schema: dungeonmaster, file: other.csv, key: name}\n";
    /* the migration's path only places it: the CSVs are found beside it */
    set.items = calloc(2, sizeof(*set.items));
    assert_non_null(set.items);
    set.n = 2;
    snprintf(path, sizeof(path), "%s/0001_seed.yaml", dir);
    if (migrate_parse_buffer(path, load, strlen(load), 1, "seed", &set.items[0], &e) != 0)
        print_error("%s\n", e.msg);
    assert_int_equal(e.code, 0);
    snprintf(path, sizeof(path), "%s/0002_again.yaml", dir);
    assert_int_equal(migrate_parse_buffer(path, again, strlen(again), 2, "again", &set.items[1], &e), 0);
    assert_int_equal(set.items[0].ops[3].rows->nrows, 12);
    assert_string_equal(set.items[0].ops[3].rows->header[0], "name");

    sqlite3 *db = open_memdb();
    assert_int_equal(migrate_sqlite_apply(db, &set, &applied, &e), 0);
    assert_int_equal(applied, 2);
    assert_int_equal(query_int(db, "SELECT count(*) FROM equipment"), 12 + 6 + 4);
    assert_string_equal(query_text(db, "SELECT stealth FROM equipment WHERE name = 'Padded Armore'"), "disadvantage");
    assert_string_equal(query_text(db, "SELECT ifnull(stealth, 'NULL') FROM equipment WHERE name = 'Leather Armor'"),
                        "NULL");
    /* the last line of each file, without its line ending */
    assert_string_equal(query_text(db, "SELECT armor_class || ' ' || stealth FROM equipment WHERE name = "
                                       "'Plate Armor'"),
                        "18 disadvantage");
    assert_string_equal(query_text(db, "SELECT hands FROM equipment WHERE name = 'Longbow'"), "2");
    assert_string_equal(query_text(db, "SELECT weight FROM equipment WHERE name = 'Sling Bullets'"), "0.05");
    assert_string_equal(query_text(db, "SELECT typeof(base_cost) || base_cost FROM equipment WHERE name = 'Club'"),
                        "real0.1");
    char sql[256];
    snprintf(sql, sizeof(sql), "SELECT damage FROM equipment WHERE id = '%s'", equipment_id("Club"));
    assert_string_equal(query_text(db, sql), "1d4");
    assert_int_equal(query_int(db, "SELECT count(*) FROM equipment WHERE name LIKE '%' || char(13) || '%' OR "
                                   "stealth LIKE '%' || char(13) || '%' OR hands LIKE '%' || char(13)"),
                     0);
    migrate_set_release(&set);
    sqlite3_close(db);
}

/* $top_srcdir/tests/fixtures/csv/REL into buf. */
static const char *csv_fixture(const char *rel, char *buf, size_t size)
{
    snprintf(buf, size, "%s/tests/fixtures/csv/%s", top_srcdir(), rel);
    return buf;
}

/* The "imported" document of equipment row `key` (its id from the key) as compact JSON with sorted keys. */
static char *imported_json(sqlite3 *db, const char *key)
{
    json_t *doc = migrate_loaded_document(db, "equipment", "imported", equipment_id(key));
    if (doc == NULL)
        return NULL;
    char *text = json_dumps(doc, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(doc);
    return text;
}

/*
 * The project's migrations (0005 adds equipment.imported), then the project's own
 * fixtures in the original's CSV formats (BOM, CRLF, empty fields, a quoted comma,
 * no final line ending) loaded with `document`: every column survives, typed, in the
 * /v1 item shape; the declared columns are set too; loading again changes nothing.
 */
static void test_load_document(void **state)
{
    (void)state;
    char dir[4096], path[4200], a[4200];
    struct migration_set set = {0};
    struct err e = {0};
    size_t applied;

    snprintf(dir, sizeof(dir), "%s/migrations", top_srcdir());
    if (migrate_load_dir(dir, &set, &e) != 0)
        print_error("%s\n", e.msg);
    assert_true(set.n >= 5);
    const char *seed =
        "- load:\n"
        "    table: equipment\n"
        "    schema: dungeonmaster\n"
        "    file: library_armor.csv\n"
        "    key: name\n"
        "    document: {column: imported, nest: base_attributes, top: [name, equip_type, base_cost, weight]}\n"
        "- load: {table: equipment, schema: dungeonmaster, file: library_weapons.csv, key: name,\n"
        "         document: {column: imported, nest: base_attributes, top: [name, equip_type, base_cost, weight]}}\n";
    set.items = realloc(set.items, (set.n + 2) * sizeof(*set.items));
    assert_non_null(set.items);
    csv_fixture("9000_seed.yaml", path, sizeof(path));
    if (migrate_parse_buffer(path, seed, strlen(seed), 9000, "seed", &set.items[set.n], &e) != 0)
        print_error("%s\n", e.msg);
    assert_int_equal(e.code, 0);
    set.n++;

    sqlite3 *db = open_memdb();
    assert_int_equal(migrate_sqlite_apply(db, &set, &applied, &e), 0);
    assert_int_equal(query_int(db, "SELECT count(*) FROM equipment"), 4 + 3);
    /* armor: the BOM is not in the first column's name, CR not in the last field, empty stealth absent */
    char *j = imported_json(db, "Quilted Vest");
    assert_non_null(j);
    char want[512];
    snprintf(want, sizeof(want),
             "{\"base_attributes\":{\"armor_class\":11,\"stealth\":\"disadvantage\"},\"base_cost\":6,"
             "\"equip_type\":\"light-armor\",\"id\":\"%s\",\"name\":\"Quilted Vest\",\"weight\":9}",
             equipment_id("Quilted Vest"));
    assert_string_equal(j, want);
    free(j);
    j = imported_json(db, "Ring Jerkin");
    assert_non_null(strstr(j, "\"base_attributes\":{\"armor_class\":12}"));
    assert_non_null(strstr(j, "\"weight\":11.5"));
    free(j);
    j = imported_json(db, "Tower Plate"); /* the last line, without its line ending */
    assert_non_null(strstr(j, "\"base_attributes\":{\"armor_class\":18,\"stealth\":\"disadvantage\"}"));
    free(j);
    /* weapons: text columns stay strings, numeric ones numbers, a quoted comma kept, empty fields absent */
    j = imported_json(db, "Hunting Bow");
    assert_non_null(strstr(j, "\"base_attributes\":{\"damage\":\"1d8\",\"damage_type\":\"piercing\",\"hands\":2,"
                              "\"properties\":\"ammunition, two-handed\",\"range\":120}"));
    free(j);
    j = imported_json(db, "War Pick");
    assert_non_null(strstr(j, "\"base_attributes\":{\"damage\":\"1d8\",\"damage_type\":\"piercing\",\"hands\":1,"
                              "\"range\":0}"));
    assert_null(strstr(j, "weight"));
    assert_null(strstr(j, "properties"));
    free(j);
    /* the declared columns are set, typed; the document is valid JSON text in SQLite */
    assert_string_equal(query_text(db, "SELECT typeof(base_cost) || ' ' || base_cost || ' ' || equip_type FROM "
                                       "equipment WHERE name = 'Cudgel'"),
                        "real 0.2 simple-melee");
    assert_string_equal(query_text(db, "SELECT ifnull(weight, 'NULL') FROM equipment WHERE name = 'War Pick'"), "NULL");
    assert_int_equal(query_int(db, "SELECT count(*) FROM equipment WHERE json_valid(imported) AND document IS NULL "
                                   "AND imported NOT LIKE '%' || char(13) || '%' AND imported NOT LIKE '%' || "
                                   "char(239) || '%'"),
                     7);
    /* HarperDB gets the same documents as records */
    json_t *records = migrate_load_records(&set.items[set.n - 1].ops[0]);
    assert_int_equal(json_array_size(records), 4);
    char *rec = json_dumps(json_array_get(records, 0), JSON_COMPACT | JSON_SORT_KEYS);
    j = imported_json(db, "Quilted Vest");
    assert_string_equal(rec, j);
    free(rec);
    free(j);
    json_decref(records);
    /* the plan says what goes where */
    char *plan = migrate_sqlite_plan(&set.items[set.n - 1]);
    assert_non_null(strstr(plan, "INSERT INTO \"equipment\" (\"id\", \"name\", \"equip_type\", \"base_cost\", "
                                 "\"weight\", \"imported\") VALUES (?, ?, ?, ?, ?, ?)"));
    assert_non_null(strstr(plan, "under \"base_attributes\""));
    free(plan);

    /* loading the same files again (a later migration) duplicates nothing and changes nothing */
    char *before = strdup(query_text(db, "SELECT group_concat(id || imported, '|') FROM (SELECT * FROM equipment "
                                         "ORDER BY id)"));
    csv_fixture("9001_again.yaml", path, sizeof(path));
    assert_int_equal(migrate_parse_buffer(path, seed, strlen(seed), 9001, "again", &set.items[set.n], &e), 0);
    set.n++;
    assert_int_equal(migrate_sqlite_apply(db, &set, &applied, &e), 0);
    assert_int_equal(applied, 1);
    assert_int_equal(query_int(db, "SELECT count(*) FROM equipment"), 7);
    assert_string_equal(query_text(db, "SELECT group_concat(id || imported, '|') FROM (SELECT * FROM equipment "
                                       "ORDER BY id)"),
                        before);
    free(before);
    /* absent things read as NULL, never as an error */
    assert_null(migrate_loaded_document(db, "equipment", "imported", "no-such-id"));
    assert_null(migrate_loaded_document(db, "equipment", "no_such_column", equipment_id("Cudgel")));
    assert_null(migrate_loaded_document(db, "equipment", "name; DROP", equipment_id("Cudgel")));
    migrate_set_release(&set);
    sqlite3_close(db);

    /* a database without the document's column: the load names it */
    db = open_memdb();
    struct migration_set small = {0};
    small.items = calloc(2, sizeof(*small.items));
    small.n = 2;
    const char *table = "- init: {tables: {equipment: {schema: dungeonmaster, attributes: [id, name, equip_type,"
                        " base_cost, weight]}}}\n";
    csv_fixture("0001_t.yaml", path, sizeof(path));
    assert_int_equal(migrate_parse_buffer(path, table, strlen(table), 1, "t", &small.items[0], &e), 0);
    csv_fixture("0002_seed.yaml", path, sizeof(path));
    assert_int_equal(migrate_parse_buffer(path, seed, strlen(seed), 2, "seed", &small.items[1], &e), 0);
    assert_int_equal(migrate_sqlite_apply(db, &small, &applied, &e), ERR_INVALID);
    assert_non_null(strstr(e.msg, "has no column \"imported\""));
    assert_int_equal(query_int(db, "SELECT count(*) FROM equipment"), 0);
    migrate_set_release(&small);
    sqlite3_close(db);
    (void)a;
}

/* `document`'s arguments are checked when the migration is parsed. */
static void test_load_document_errors(void **state)
{
    (void)state;
    char path[4200];
    struct migration m;
    struct err e = {0};
    static const struct {
        const char *document, *needle;
    } cases[] = {
        {"{column: imported, nest: base_attributes}", "has no top"},
        {"{column: imported, top: [name]}", "has no nest"},
        {"[imported]", "must be a mapping {column, nest, top}"},
        {"{column: imported, nest: base_attributes, top: []}", "sequence of 1 to"},
        {"{column: imported, nest: base_attributes, top: [name, name]}", "names \"name\" twice"},
        {"{column: imported, nest: base_attributes, top: [name, colour]}", "top column \"colour\" of its document "
                                                                           "is not in the header"},
        {"{column: stealth, nest: base_attributes, top: [name]}", "column \"stealth\" is the column its document"},
        {"{column: imported, nest: name, top: [name]}", "nest of document"},
        {"{column: id, nest: attrs, top: [name]}", "column of document"},
        {"{column: imported, nest: base_attributes, top: [name], extra: 1}", "unknown key \"extra\""},
        {"{column: \"bad name\", nest: base_attributes, top: [name]}", "invalid column name"},
    };
    csv_fixture("0001_seed.yaml", path, sizeof(path));
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char yaml[512];
        snprintf(yaml, sizeof(yaml), "- load: {table: equipment, file: library_armor.csv, key: name, document: %s}\n",
                 cases[i].document);
        memset(&e, 0, sizeof(e));
        int rc = migrate_parse_buffer(path, yaml, strlen(yaml), 1, "seed", &m, &e);
        if (rc == 0 || strstr(e.msg, cases[i].needle) == NULL)
            print_error("document %s: rc %d, message \"%s\", expected \"%s\"\n", cases[i].document, rc, e.msg,
                        cases[i].needle);
        assert_int_not_equal(rc, 0);
        assert_non_null(strstr(e.msg, cases[i].needle));
    }
}

static void test_plan_new_commands(void **state)
{
    (void)state;
    struct migration_set set;
    struct migration m;
    struct err e = {0};

    assert_int_equal(migrate_load_dir(fixture("load"), &set, &e), 0);
    char *plan = migrate_sqlite_plan(&set.items[0]);
    const char *lines[] = {
        "\n-- upsert 5 rows from armor.csv into \"equipment\" by (name)\n"
        "INSERT INTO \"equipment\" (\"id\", \"name\", \"equip_type\", \"base_cost\", \"weight\", \"armor_class\", "
        "\"stealth\") VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (\"id\") DO UPDATE SET \"name\" = excluded.\"name\", "
        "\"equip_type\" = excluded.\"equip_type\", \"base_cost\" = excluded.\"base_cost\", \"weight\" = "
        "excluded.\"weight\", \"armor_class\" = excluded.\"armor_class\", \"stealth\" = excluded.\"stealth\";\n",
        "\n-- upsert 4 rows from data/trinkets.csv into \"equipment\" by (name, equip_type)\nINSERT INTO",
    };
    const char *at = plan;
    for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
        const char *hit = strstr(at, lines[i]);
        if (hit == NULL)
            print_error("plan lacks (in order) %s in:\n%s", lines[i], plan);
        assert_non_null(hit);
        at = hit + 1;
    }
    free(plan);
    migrate_set_release(&set);

    assert_int_equal(parse_str("- drop_attributes: {table: t, attributes: [b, c]}\n"
                               "- rename_attribute: {table: t, from: d, to: e, store: sqlite}\n"
                               "- drop_table: {table: scratch}\n"
                               "- drop_attributes: {table: t, store: harper, attributes: [h]}\n",
                               &m, &e),
                     0);
    plan = migrate_sqlite_plan(&m);
    const char *more[] = {
        "\nDROP INDEX IF EXISTS \"t_b_idx\";\nALTER TABLE \"t\" DROP COLUMN \"b\";\n"
        "DROP INDEX IF EXISTS \"t_c_idx\";\nALTER TABLE \"t\" DROP COLUMN \"c\";\n",
        "\nALTER TABLE \"t\" RENAME COLUMN \"d\" TO \"e\";\n"
        "-- index \"t_d_idx\", when there is one, becomes \"t_e_idx\"\n",
        "\nDROP TABLE IF EXISTS \"scratch\";\n",
        "\n-- skipped (store: harper): drop attributes of \"t\"\n",
    };
    at = plan;
    for (size_t i = 0; i < sizeof(more) / sizeof(more[0]); i++) {
        const char *hit = strstr(at, more[i]);
        if (hit == NULL)
            print_error("plan lacks (in order) %s in:\n%s", more[i], plan);
        assert_non_null(hit);
        at = hit + 1;
    }
    assert_null(strstr(plan, "\"h\""));
    /* the plan is SQL that runs where the columns exist */
    sqlite3 *db = open_memdb();
    assert_int_equal(sqlite3_exec(db, "CREATE TABLE t (id TEXT PRIMARY KEY, a, b, c, d); CREATE TABLE scratch (id);",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, plan, NULL, NULL, NULL), SQLITE_OK);
    assert_int_equal(column_count(db, "t"), 3);
    assert_false(has_table(db, "scratch"));
    sqlite3_close(db);
    free(plan);
    migration_release(&m);
}

#define RACE_FILES 24

/* Load `dir` and open `path`, tell the other process we are ready (write `ready`), wait for its
 * word (read `go`), then apply; 0 on success. Runs in both processes. */
static int race_apply(const char *dir, const char *path, int ready, int go, size_t *applied, struct err *e)
{
    struct migration_set set;
    sqlite3 *db = NULL;
    char c = 'x';
    int rc = migrate_load_dir(dir, &set, e);
    if (rc == 0 && sqlite3_open(path, &db) != SQLITE_OK)
        rc = err_set(e, ERR_IO, "cannot open %s", path);
    if (write(ready, &c, 1) != 1 || read(go, &c, 1) != 1)
        rc = err_set(e, ERR_IO, "lost the other process");
    if (rc == 0)
        rc = migrate_sqlite_apply(db, &set, applied, e);
    sqlite3_close(db);
    migrate_set_release(&set);
    return rc;
}

static void test_concurrent_apply(void **state)
{
    (void)state;
    char *dir = make_tmpdir();
    size_t parent_total = 0, child_total = 0;

    for (int i = 1; i <= RACE_FILES; i++) {
        char name[64], yaml[512];
        snprintf(name, sizeof(name), "%04d_race_%d.yaml", i, i);
        int n = snprintf(yaml, sizeof(yaml),
                         "- init: {tables: {t%d: {schema: s, attributes: [id, a, {name: b, index: true}]}}}\n"
                         "- add_attributes: {table: t%d, attributes: [{name: c, type: integer, index: true}]}\n",
                         i, i);
        write_file(dir, name, yaml, (size_t)n);
    }
    for (int round = 0; round < 4; round++) {
        char path[] = "/tmp/test_migrate_db.XXXXXX";
        char journal[64];
        int fd = mkstemp(path);
        struct err e = {0};
        size_t applied = 0;
        int status = 0;

        assert_true(fd >= 0);
        close(fd);
        int to_child[2], to_parent[2];
        assert_int_equal(pipe(to_child), 0);
        assert_int_equal(pipe(to_parent), 0);
        fflush(stdout);
        fflush(stderr);
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
            struct err ce = {0};
            size_t capplied = 0;
            close(to_child[1]);
            close(to_parent[0]);
            int rc = race_apply(dir, path, to_parent[1], to_child[0], &capplied, &ce);
            if (rc != 0)
                fprintf(stderr, "child: %s\n", ce.msg);
            close(to_child[0]);
            close(to_parent[1]);
            free(dir);
            _exit(rc == 0 ? (int)capplied + 100 : 1);
        }
        close(to_child[0]);
        close(to_parent[1]);
        int rc = race_apply(dir, path, to_child[1], to_parent[0], &applied, &e);
        close(to_child[1]);
        close(to_parent[0]);
        assert_int_equal(waitpid(pid, &status, 0), pid);
        if (rc != 0)
            print_error("parent: %s\n", e.msg);
        assert_int_equal(rc, 0);
        assert_true(WIFEXITED(status));
        assert_true(WEXITSTATUS(status) >= 100);
        /* between them, each migration was applied exactly once, and neither failed */
        size_t by_child = (size_t)(WEXITSTATUS(status) - 100);
        assert_int_equal(applied + by_child, RACE_FILES);
        parent_total += applied;
        child_total += by_child;

        sqlite3 *db = NULL;
        assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
        assert_int_equal(query_int(db, "SELECT count(*) FROM schema_migrations"), RACE_FILES);
        assert_int_equal(query_int(db, "SELECT count(DISTINCT version) FROM schema_migrations"), RACE_FILES);
        assert_int_equal(query_int(db, "SELECT min(version) || max(version) FROM schema_migrations"), 124);
        assert_true(has_index(db, "t24_c_idx", "t24"));
        sqlite3_close(db);
        unlink(path);
        snprintf(journal, sizeof(journal), "%s-journal", path);
        unlink(journal);
    }
    printf("concurrent apply: the parent applied %zu and the child %zu of %d migrations over 4 rounds\n", parent_total,
           child_total, 4 * RACE_FILES);
    remove_tree(dir);
}

int main(void)
{
    log_setup(LOG_WARN, "test_migrate"); /* keep "applied migration" lines out of the output */
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_map_form),
        cmocka_unit_test(test_list_form_table_alias_and_misspelling),
        cmocka_unit_test(test_attribute_forms),
        cmocka_unit_test(test_booleans_and_flow_style),
        cmocka_unit_test(test_bom_and_crlf),
        cmocka_unit_test(test_syntax_errors),
        cmocka_unit_test(test_unknown_command),
        cmocka_unit_test(test_unknown_key),
        cmocka_unit_test(test_bad_identifiers),
        cmocka_unit_test(test_wrong_shapes),
        cmocka_unit_test(test_every_problem_is_reported),
        cmocka_unit_test(test_too_big),
        cmocka_unit_test(test_parse_arguments),
        cmocka_unit_test(test_load_dir),
        cmocka_unit_test(test_load_dir_errors),
        cmocka_unit_test(test_apply_creates_tables),
        cmocka_unit_test(test_reapply_is_noop),
        cmocka_unit_test(test_status_counts_pending),
        cmocka_unit_test(test_changed_checksum_refused),
        cmocka_unit_test(test_existing_table_gets_missing_columns),
        cmocka_unit_test(test_failure_rolls_back),
        cmocka_unit_test(test_index_name_clash),
        cmocka_unit_test(test_harper_store_skipped),
        cmocka_unit_test(test_plan),
        cmocka_unit_test(test_project_init_applies),
        cmocka_unit_test(test_original_init_applies),
        cmocka_unit_test(test_concurrent_apply),
        cmocka_unit_test(test_new_commands_parse),
        cmocka_unit_test(test_new_commands_errors),
        cmocka_unit_test(test_apply_drops_and_rename),
        cmocka_unit_test(test_drop_primary_key_refused),
        cmocka_unit_test(test_rename_apply_errors),
        cmocka_unit_test(test_ids_from_key),
        cmocka_unit_test(test_load_parse),
        cmocka_unit_test(test_load_csv_problems),
        cmocka_unit_test(test_load_apply),
        cmocka_unit_test(test_load_updates_and_columns),
        cmocka_unit_test(test_load_records_json),
        cmocka_unit_test(test_checksum_covers_csv),
        cmocka_unit_test(test_original_csvs),
        cmocka_unit_test(test_plan_new_commands),
        cmocka_unit_test(test_load_document),
        cmocka_unit_test(test_load_document_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
