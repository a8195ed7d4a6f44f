/*
 * tests/unit/test_migrate.c - unit tests of storage/migrate.c: the YAML formats
 * (the original API's map form, the documented list form, the command sequence),
 * every validation message, loading a directory, and applying to SQLite (fresh,
 * again, changed, concurrently from two processes).
 *
 * Fixtures live in tests/fixtures/migrations/ under $top_srcdir (default ".").
 * The original API's own init.yaml is read from $top_srcdir/../shared when there.
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

#include "common/err.h"
#include "common/log.h"
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
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
