/*
 * storage/migrate.h - the migration engine's first cut: YAML migration files
 * (migrations/NNNN_name.yaml) parsed with libyaml and applied to SQLite.
 *
 * A file holds commands, either as a mapping (command -> arguments, applied in
 * file order) or as a sequence of one-key mappings. Commands understood here:
 *   init:            {schemas: [names | {name}], tables: {name: {schema, attributes}}
 *                     | [{name, schema, attributes}]}   ("table" is an alias of
 *                     "tables"; the misspelling "attibutes" is accepted with a warning)
 *   add_attributes:  {table, schema?, attributes}
 *   indexes:         {table, attributes: [names]}     (SQLite indexes "t_col_idx"; no-op on HarperDB)
 *   drop_attributes: {table, schema?, attributes: [names]}
 *                    (a column already gone is success; the primary key is refused;
 *                    SQLite drops the column's own index "t_col_idx" first)
 *   drop_table:      {table, schema?}                  (a missing table is success)
 *   rename_attribute: {table, schema?, from, to}
 *                    (SQLite only: HarperDB has no rename, so it needs `store: sqlite`
 *                    or the parse fails at the command; `from` gone and `to` present
 *                    is success; an index "t_from_idx" becomes "t_to_idx")
 *   load:            {table, schema?, file, key: name | [names]}
 *                    rows of a CSV file (storage/csv.h; at most CSV_MAX_* and
 *                    MIGRATE_MAX_LOAD_BYTES per migration) upserted by id. `file` is
 *                    relative to the migration's folder and may not leave it (no
 *                    absolute path, no ".."); it is read and checked when the
 *                    migration is parsed: column names are identifiers other than
 *                    "id", the key columns are in the header, no row lacks its key
 *                    and no two rows share one ("FILE:LINE: duplicate key ..., first
 *                    on line N"). Each row's id is ids_uuid_from_key() of
 *                    "schema.table" ("table" without a schema) and the key columns'
 *                    values joined by 0x1f; the table's hash attribute must be "id".
 *                    Values are typed by migrate_load_records(); in SQLite every CSV
 *                    column must exist when the load runs, and an empty field sets NULL.
 *                    Optional `document: {column, nest, top: [names]}` keeps every CSV
 *                    column without declaring it: each row becomes one JSON document
 *                    {"id", the `top` columns, nest: {every other column}} (empty fields
 *                    absent; a column whose non-empty fields are all numbers holds
 *                    numbers, any other column strings); SQLite sets only id, the `top`
 *                    columns (which must exist) and `column` (the document's JSON text),
 *                    and HarperDB gets the document as the record (its members top-level
 *                    attributes). `top` columns must be in the header; `column` and
 *                    `nest` may not be "id" or a `top` column, and `column` not a CSV
 *                    column. Without `document` a load means what it always meant.
 * Any command may carry `store: sqlite | harper | both` (default both); this
 * engine applies what is meant for sqlite and skips harper-only commands.
 * An attribute is a name or {name, type, index, store}; type is one of text
 * (default), integer, real, blob; the first attribute of a table is its primary
 * key (HarperDB's hash attribute). Creating a table that exists adds any missing
 * columns. Applied migrations are tracked in table schema_migrations (version,
 * name, checksum, applied_at, duration_ms, tool_version); each file is applied in
 * one BEGIN IMMEDIATE transaction. The checksum is the BLAKE2b-256 hex of the
 * file's bytes followed, for each load in file order, by the bytes of the CSV
 * file it loads: editing a loaded CSV changes the migration.
 */
#ifndef STORAGE_MIGRATE_H
#define STORAGE_MIGRATE_H

#include <jansson.h>
#include <sqlite3.h>
#include <stddef.h>

#include "common/err.h"

#define MIGRATE_MAX_FILE_BYTES (4u << 20)
#define MIGRATE_MAX_LOAD_BYTES (64u << 20) /* CSV bytes all the loads of one migration read */

struct migrate_attr {
    char *name;
    char *type;   /* "text", "integer", "real" or "blob" */
    int index;    /* create an index on it */
    int store;    /* MIGRATE_STORE_* */
};

enum { MIGRATE_STORE_BOTH = 0, MIGRATE_STORE_SQLITE = 1, MIGRATE_STORE_HARPER = 2 };

enum migrate_op_kind {
    MIGRATE_CREATE_SCHEMA,
    MIGRATE_CREATE_TABLE,
    MIGRATE_ADD_ATTRIBUTES,
    MIGRATE_INDEXES,
    MIGRATE_DROP_ATTRIBUTES,   /* attrs: the names to drop */
    MIGRATE_DROP_TABLE,
    MIGRATE_RENAME_ATTRIBUTE,  /* rename_from -> rename_to; SQLite only (HarperDB cannot) */
    MIGRATE_LOAD,              /* rows of a CSV file upserted by a natural key */
};

struct csv_table;

struct migrate_op {
    enum migrate_op_kind kind;
    int store;                  /* MIGRATE_STORE_* */
    char *schema;               /* schema name (may be NULL for indexes) */
    char *table;                /* NULL for MIGRATE_CREATE_SCHEMA */
    struct migrate_attr *attrs;
    size_t nattrs;
    int line;                   /* 1-based line of the command in the file */
    char *rename_from;          /* MIGRATE_RENAME_ATTRIBUTE */
    char *rename_to;
    char *file;                 /* MIGRATE_LOAD: the CSV path, resolved against the migration's folder */
    char **key;                 /* MIGRATE_LOAD: natural key column(s), in order */
    size_t nkey;
    struct csv_table *rows;     /* MIGRATE_LOAD: the parsed file (storage/csv.h) */
    char *doc_column;           /* MIGRATE_LOAD with `document`: the SQLite column of each row's JSON; else NULL */
    char *doc_nest;             /* the document member holding the columns not in doc_top */
    char **doc_top;             /* the CSV columns kept at the document's top level (and set in SQLite) */
    size_t ndoc_top;
};

struct migration {
    int version;                /* NNNN from the file name */
    char *name;                 /* the part after NNNN_, without .yaml */
    char *path;
    char checksum[65];          /* BLAKE2b-256 of the file bytes then each loaded CSV's, lower-case hex */
    struct migrate_op *ops;
    size_t nops;
};

struct migration_set {
    struct migration *items;    /* sorted by version, versions unique */
    size_t n;
};

/*
 * Parse one migration file. `version`/`name` come from the caller (the file name).
 * Errors: ERR_IO (unreadable), ERR_TOO_LARGE (over MIGRATE_MAX_FILE_BYTES),
 * ERR_INVALID with "PATH:LINE:COLUMN: message" for YAML syntax errors, unknown
 * commands or keys, wrong shapes. A load's CSV is read and parsed here too: its
 * problems are "PATH:LINE:COLUMN: load into table "t": FILE.csv:LINE: message",
 * positioned at the load command (ERR_IO when the file cannot be read).
 * Warnings (e.g. "attibutes") go to the log.
 * On success the caller owns *out and frees it with migration_release().
 */
int migrate_parse_file(const char *path, int version, const char *name, struct migration *out, struct err *e);

/* Parse from memory (same rules; `path` is used in messages, and its folder is
 * where a load's file is looked for: a path without '/' means the current folder). */
int migrate_parse_buffer(const char *path, const char *buf, size_t len, int version, const char *name,
                         struct migration *out, struct err *e);

void migration_release(struct migration *m);

/*
 * Load every file named NNNN_name.yaml (NNNN: 1..9999, digits) in `dir`, sorted by
 * version. Other files are ignored; two files with one version are ERR_INVALID.
 * A missing directory is ERR_IO naming it.
 */
int migrate_load_dir(const char *dir, struct migration_set *set, struct err *e);

void migrate_set_release(struct migration_set *set);

/*
 * Compare `set` with what `db` has applied. *pending receives the number of
 * migrations not yet applied. An applied migration whose checksum differs from
 * its file is ERR_CONFLICT with both checksums in the message; an applied version
 * with no file is ERR_CONFLICT too. The tracking table is created if missing.
 */
int migrate_sqlite_status(sqlite3 *db, const struct migration_set *set, size_t *pending, struct err *e);

/*
 * Apply every pending migration in version order, each in one BEGIN IMMEDIATE
 * transaction (all or nothing per file), recording it in schema_migrations.
 * *applied (may be NULL) receives how many were applied. Refuses (ERR_CONFLICT)
 * when migrate_sqlite_status() would. Safe to run concurrently from several
 * processes: the second waits for the lock (busy_timeout) and then finds
 * nothing pending.
 */
int migrate_sqlite_apply(sqlite3 *db, const struct migration_set *set, size_t *applied, struct err *e);

/* The SQL statements migration `m` would run on SQLite, one per line, into a
 * newly allocated string the caller frees. Nothing is executed. A load shows as
 * "-- upsert N rows from FILE into "t" by (key, ...)" and its statement with ?
 * placeholders. */
char *migrate_sqlite_plan(const struct migration *m);

/*
 * The rows of a MIGRATE_LOAD op as a new JSON array (the caller owns the reference)
 * of objects {"id": ROW-ID, column: value, ...}, in CSV order. An empty field is
 * absent; a field that is a JSON integer within 64 bits is an integer; another
 * finite JSON number (fraction, exponent, or a larger integer) is a real; anything
 * else is a string. With `document` (op->doc_column set) each object is the row's
 * document instead: {"id", top columns..., nest: {other columns...}}, typed by column
 * (a column whose non-empty fields are all numbers as above, else every field a
 * string). SQLite's apply binds the same types. NULL when `op` is not a load.
 */
json_t *migrate_load_records(const struct migrate_op *op);

/*
 * The document a load with `document` stored for row `id` of `table` in column
 * `column` of `db` (see above), as a new reference; NULL when the table or column
 * does not exist (a database before the migration that adds it), the row is
 * absent, its column is NULL or not a JSON object, or a name is not an identifier.
 * Prepares its statement on each call; reads within the caller's transaction.
 */
json_t *migrate_loaded_document(sqlite3 *db, const char *table, const char *column, const char *id);

#endif
