/*
 * storage/migrate.c - the migration engine: reads migrations/NNNN_name.yaml files
 * (the original Flask API's `init` format and the commands described in
 * migrate.h), validates them strictly and applies them to SQLite, recording each
 * applied file in schema_migrations.
 *
 * It owns the YAML reading (through common/ydoc: a small tree that keeps
 * 1-based line/column for every node), the validation, the reading of the CSV
 * files `load` names (parsed by storage/csv.c when the migration is parsed, so
 * a bad file fails early, and hashed into the checksum), the typing and ids of
 * load rows that both stores share, the SQL it generates and the tracking
 * table. Every name it puts into SQL, CSV column names included, has been
 * checked to be an identifier ([A-Za-z_][A-Za-z0-9_]{0,62}) and is
 * double-quoted as well; values are bound, never spliced. It must not talk to
 * HarperDB: schemas and `store: harper` commands and attributes are parsed (so
 * another engine can use them) and skipped here.
 *
 * After parsing, every attribute's `store` is its effective store: an attribute
 * without one inherits its command's. In MIGRATE_INDEXES and
 * MIGRATE_DROP_ATTRIBUTES ops the attributes only carry a name (type is NULL;
 * index is 1 for indexes, 0 for drops).
 *
 * `index: unique` (an attribute's index written as the word unique instead of
 * true/false) asks for a UNIQUE index: a->index is then INDEX_UNIQUE (2), and
 * SQLite gets CREATE UNIQUE INDEX under the same name "t_c_idx" (NULLs stay
 * distinct, so rows without a value never collide). Added for migration 0003's
 * characters.roll_nonce; HarperDB has no unique constraint and ignores it.
 */
#include "storage/migrate.h"

#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#define INDEX_UNIQUE 2 /* migrate_attr.index: a UNIQUE index (see the note above) */

#include "common/ids.h"
#include "common/log.h"
#include "common/file.h"
#include "common/xmalloc.h"
#include "common/ydoc.h"
#include "storage/csv.h"

#ifdef PACKAGE_VERSION
#define TOOL_VERSION PACKAGE_VERSION
#else
#define TOOL_VERSION "0.1.0"
#endif

#define MAX_COMMANDS 1000     /* commands per file */
#define MAX_ITEMS 256         /* schemas, tables or attributes per command */
#define MAX_DEPTH 64          /* YAML nesting */
#define MAX_NODES 1000000     /* YAML nodes per file */
#define MAX_IDENT 63          /* characters in a table, schema or attribute name */
#define MAX_FILES 10000       /* migration files in a directory */
#define MAX_REPORTED 8        /* validation problems spelled out in one error */
#define DEFAULT_BUSY_MS 10000 /* busy timeout set when the connection has none */
#define MAX_FILE_ARG 1024     /* characters in a load's `file` */
#define KEY_SEP '\x1f'        /* joins the key columns' values of a load row */

/* ------------------------------------------------------------------------- */
/* A growable string; bounded by its input (a migration is at most 4 MiB).   */

struct sbuf {
    char *p;
    size_t len, cap;
};

static void sb_printf(struct sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void sb_printf(struct sbuf *b, const char *fmt, ...)
{
    for (;;) {
        size_t room = b->cap - b->len;
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(b->p != NULL ? b->p + b->len : NULL, room, fmt, ap);
        va_end(ap);
        if (n < 0)
            return;
        if ((size_t)n < room) {
            b->len += (size_t)n;
            return;
        }
        b->cap = (b->len + (size_t)n + 1) * 2;
        b->p = xrealloc(b->p, b->cap);
    }
}

/* Empty the buffer for the next statement, keeping its memory. */
static void sb_reset(struct sbuf *b)
{
    b->len = 0;
    if (b->p != NULL)
        b->p[0] = '\0';
}

/* ------------------------------------------------------------------------- */
/* Files.                                                                    */

static const struct ydoc_limits limits = {MAX_DEPTH, MAX_NODES, "a migration file"};

/* ------------------------------------------------------------------------- */
/* Validation: the tree becomes migrate_ops; every problem is collected.     */

struct pctx {
    const char *path;
    size_t dirlen;                  /* path[0..dirlen) is the migration's folder, with its final '/' */
    crypto_generichash_state *hash; /* the checksum: the yaml, then each loaded file */
    size_t csv_bytes;               /* loaded so far, bounded by MIGRATE_MAX_LOAD_BYTES */
    int code;                       /* the first problem's code */
    size_t nerrs;
    char msgs[MAX_REPORTED][384];
    struct migrate_op *ops;
    size_t nops, capops;
};

/* A node described for a message: a sanitised, shortened quote of a scalar, or its shape. */
struct shown {
    char s[80];
};

/* A quote of text[0..len) for a message: control characters, quotes and backslashes as '?', shortened. */
static struct shown show_text(const char *text, size_t len)
{
    struct shown r;
    size_t j = 0;
    r.s[j++] = '"';
    for (size_t i = 0; i < len && j < sizeof(r.s) - 6; i++) {
        unsigned char ch = (unsigned char)text[i];
        r.s[j++] = (ch < 0x20 || ch == 0x7f || ch == '"' || ch == '\\') ? '?' : (char)ch;
    }
    if (len > sizeof(r.s) - 6 - 1) {
        r.s[j++] = '.';
        r.s[j++] = '.';
        r.s[j++] = '.';
    }
    r.s[j++] = '"';
    r.s[j] = '\0';
    return r;
}

static struct shown show(const struct ydoc_node *n)
{
    struct shown r;
    if (n->kind == YDOC_MAP) {
        snprintf(r.s, sizeof(r.s), "a mapping");
    } else if (n->kind == YDOC_SEQ) {
        snprintf(r.s, sizeof(r.s), "a sequence");
    } else if (n->plain && (n->len == 0 || strcmp(n->text, "~") == 0 || strcmp(n->text, "null") == 0 ||
                            strcmp(n->text, "Null") == 0 || strcmp(n->text, "NULL") == 0)) {
        snprintf(r.s, sizeof(r.s), "nothing");
    } else {
        r = show_text(n->text, n->len);
    }
    return r;
}

static void bad(struct pctx *c, int code, const struct ydoc_node *at, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Record one problem, positioned at node `at` (or at the file when NULL). */
static void bad(struct pctx *c, int code, const struct ydoc_node *at, const char *fmt, ...)
{
    if (c->nerrs++ == 0)
        c->code = code;
    if (c->nerrs > MAX_REPORTED)
        return;
    char *m = c->msgs[c->nerrs - 1];
    size_t size = sizeof(c->msgs[0]);
    int n =
        at != NULL ? snprintf(m, size, "%s:%d:%d: ", c->path, at->line, at->col) : snprintf(m, size, "%s: ", c->path);
    if (n < 0 || (size_t)n >= size)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(m + n, size - (size_t)n, fmt, ap);
    va_end(ap);
}

/* Join the collected problems into e: "problem; problem; and N more problems". */
static int report(const struct pctx *c, struct err *e)
{
    char out[sizeof(e->msg)];
    size_t used = 0, shown = 0, kept = c->nerrs < MAX_REPORTED ? c->nerrs : MAX_REPORTED;

    out[0] = '\0';
    for (size_t i = 0; i < kept; i++) {
        size_t len = strlen(c->msgs[i]);
        size_t reserve = i + 1 < c->nerrs ? 40 : 0;
        if (i > 0 && used + 2 + len + reserve >= sizeof(out))
            break;
        int n = snprintf(out + used, sizeof(out) - used, "%s%s", i > 0 ? "; " : "", c->msgs[i]);
        if (n > 0)
            used += (size_t)n < sizeof(out) - used ? (size_t)n : sizeof(out) - used - 1;
        shown++;
    }
    if (shown < c->nerrs && used < sizeof(out))
        snprintf(out + used, sizeof(out) - used, "; and %zu more problem%s", c->nerrs - shown,
                 c->nerrs - shown == 1 ? "" : "s");
    return err_set(e, c->code, "%s", out);
}

static int is_null(const struct ydoc_node *n)
{
    return n->kind == YDOC_SCALAR && n->plain &&
           (n->len == 0 || strcmp(n->text, "~") == 0 || strcmp(n->text, "null") == 0 || strcmp(n->text, "Null") == 0 ||
            strcmp(n->text, "NULL") == 0);
}

static int scalar_is(const struct ydoc_node *n, const char *s)
{
    return n->kind == YDOC_SCALAR && n->len == strlen(s) && memcmp(n->text, s, n->len) == 0;
}

/* Parse a YAML boolean (plain true/false, yes/no, on/off in lower, title or upper case). */
static int parse_bool(const struct ydoc_node *n, int *out)
{
    static const char *yes[] = {"true", "True", "TRUE", "yes", "Yes", "YES", "on", "On", "ON"};
    static const char *no[] = {"false", "False", "FALSE", "no", "No", "NO", "off", "Off", "OFF"};
    if (n->kind != YDOC_SCALAR || !n->plain)
        return -1;
    for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
        if (scalar_is(n, yes[i])) {
            *out = 1;
            return 0;
        }
        if (scalar_is(n, no[i])) {
            *out = 0;
            return 0;
        }
    }
    return -1;
}

/* Whether s[0..len) is an identifier usable as a table, schema, attribute or column name. */
static int is_ident_text(const char *s, size_t len)
{
    if (len == 0 || len > MAX_IDENT)
        return 0;
    for (size_t i = 0; i < len; i++) {
        char ch = s[i];
        int alpha = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || ch == '_';
        if (!alpha && !(i > 0 && ch >= '0' && ch <= '9'))
            return 0;
    }
    return 1;
}

static int is_ident(const struct ydoc_node *n)
{
    return n->kind == YDOC_SCALAR && is_ident_text(n->text, n->len);
}

/* Check that n names a `what` (table, schema, attribute); returns a copy or NULL after recording why not. */
static char *take_ident(struct pctx *c, const struct ydoc_node *n, const char *what, const char *where)
{
    if (n->kind != YDOC_SCALAR || is_null(n)) {
        bad(c, ERR_INVALID, n, "%s name in %s must be a string, not %s", what, where, show(n).s);
        return NULL;
    }
    if (!is_ident(n)) {
        bad(c, ERR_INVALID, n,
            "invalid %s name %s in %s: use letters, digits and underscores, not starting with a digit, "
            "at most %d characters",
            what, show(n).s, where, MAX_IDENT);
        return NULL;
    }
    if (strcmp(what, "table") == 0 &&
        (strncasecmp(n->text, "sqlite_", 7) == 0 || strcasecmp(n->text, "schema_migrations") == 0)) {
        bad(c, ERR_INVALID, n, "table name %s in %s is reserved", show(n).s, where);
        return NULL;
    }
    return xstrndup(n->text, n->len);
}

static int parse_store(struct pctx *c, const struct ydoc_node *n, const char *where, int *store)
{
    if (scalar_is(n, "both"))
        *store = MIGRATE_STORE_BOTH;
    else if (scalar_is(n, "sqlite"))
        *store = MIGRATE_STORE_SQLITE;
    else if (scalar_is(n, "harper"))
        *store = MIGRATE_STORE_HARPER;
    else {
        bad(c, ERR_INVALID, n, "store in %s must be sqlite, harper or both, not %s", where, show(n).s);
        return -1;
    }
    return 0;
}

/* One key a mapping may hold; filled in by take_fields(). */
struct field {
    const char *name;
    const struct ydoc_node *key, *val;
};

/* Sort the keys of `map` into `fields`, recording unknown, duplicate and non-string keys. */
static void take_fields(struct pctx *c, const struct ydoc_node *map, const char *where, struct field *fields, size_t nf)
{
    for (size_t i = 0; i + 1 < map->nkids; i += 2) {
        const struct ydoc_node *k = map->kids[i];
        size_t f;
        if (k->kind != YDOC_SCALAR) {
            bad(c, ERR_INVALID, k, "keys in %s must be strings, not %s", where, show(k).s);
            continue;
        }
        for (f = 0; f < nf; f++)
            if (scalar_is(k, fields[f].name))
                break;
        if (f == nf)
            bad(c, ERR_INVALID, k, "unknown key %s in %s", show(k).s, where);
        else if (fields[f].key != NULL)
            bad(c, ERR_INVALID, k, "duplicate key %s in %s", show(k).s, where);
        else {
            fields[f].key = k;
            fields[f].val = map->kids[i + 1];
        }
    }
}

/* Choose between "attributes" and its accepted misspelling "attibutes"; -1 when both are given. */
static int pick_attributes(struct pctx *c, const struct field *right, const struct field *misspelt, const char *where,
                           const struct ydoc_node **out)
{
    *out = right->val;
    if (misspelt->key == NULL)
        return 0;
    if (right->key != NULL) {
        bad(c, ERR_INVALID, misspelt->key, "both \"attributes\" and \"attibutes\" in %s", where);
        return -1;
    }
    log_warn("%s:%d:%d: \"attibutes\" is a misspelling of \"attributes\"; accepted", c->path, misspelt->key->line,
             misspelt->key->col);
    *out = misspelt->val;
    return 0;
}

static void attrs_free(struct migrate_attr *a, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(a[i].name);
        free(a[i].type);
    }
    free(a);
}

static void op_free(struct migrate_op *op)
{
    free(op->schema);
    free(op->table);
    attrs_free(op->attrs, op->nattrs);
    free(op->rename_from);
    free(op->rename_to);
    free(op->file);
    for (size_t i = 0; i < op->nkey; i++)
        free(op->key[i]);
    free(op->key);
    csv_free(op->rows);
    free(op->rows);
    free(op->doc_column);
    free(op->doc_nest);
    for (size_t i = 0; i < op->ndoc_top; i++)
        free(op->doc_top[i]);
    free(op->doc_top);
    memset(op, 0, sizeof(*op));
}

static void push_op(struct pctx *c, struct migrate_op *op)
{
    if (c->nops == c->capops) {
        c->capops = c->capops ? c->capops * 2 : 16;
        c->ops = xrealloc(c->ops, c->capops * sizeof(*c->ops));
    }
    c->ops[c->nops++] = *op;
    memset(op, 0, sizeof(*op));
}

/* One attribute: a name, or {name, type, index, store} (names_only: just a name). */
static int parse_attr(struct pctx *c, const struct ydoc_node *n, const char *where, int op_store, int names_only,
                      struct migrate_attr *a)
{
    size_t before = c->nerrs;
    char inner[160];

    memset(a, 0, sizeof(*a));
    a->store = op_store;
    if (n->kind != YDOC_MAP || names_only) {
        if (names_only && n->kind != YDOC_SCALAR) {
            bad(c, ERR_INVALID, n, "attributes in %s must be names, not %s", where, show(n).s);
            return -1;
        }
        a->name = take_ident(c, n, "attribute", where);
        if (a->name == NULL)
            return -1;
        a->type = names_only ? NULL : xstrdup("text");
        a->index = names_only;
        return 0;
    }

    struct field f[] = {{"name", NULL, NULL}, {"type", NULL, NULL}, {"index", NULL, NULL}, {"store", NULL, NULL}};
    const struct ydoc_node *name = NULL;
    for (size_t i = 0; i + 1 < n->nkids; i += 2)
        if (scalar_is(n->kids[i], "name"))
            name = n->kids[i + 1];
    if (name != NULL && is_ident(name))
        snprintf(inner, sizeof(inner), "attribute \"%s\" of %s", name->text, where);
    else
        snprintf(inner, sizeof(inner), "an attribute of %s", where);
    take_fields(c, n, inner, f, sizeof(f) / sizeof(f[0]));

    if (f[0].val == NULL)
        bad(c, ERR_INVALID, n, "%s has no name", inner);
    else
        a->name = take_ident(c, f[0].val, "attribute", where);

    if (f[1].val == NULL)
        a->type = xstrdup("text");
    else if (scalar_is(f[1].val, "text") || scalar_is(f[1].val, "integer") || scalar_is(f[1].val, "real") ||
             scalar_is(f[1].val, "blob"))
        a->type = xstrdup(f[1].val->text);
    else
        bad(c, ERR_INVALID, f[1].val, "type of %s must be text, integer, real or blob, not %s", inner,
            show(f[1].val).s);

    if (f[2].val != NULL && f[2].val->kind == YDOC_SCALAR && f[2].val->plain && scalar_is(f[2].val, "unique"))
        a->index = INDEX_UNIQUE;
    else if (f[2].val != NULL && parse_bool(f[2].val, &a->index) != 0)
        bad(c, ERR_INVALID, f[2].val, "index of %s must be true or false, not %s", inner, show(f[2].val).s);

    if (f[3].val != NULL) {
        int store;
        if (parse_store(c, f[3].val, inner, &store) == 0) {
            if (op_store != MIGRATE_STORE_BOTH && store != MIGRATE_STORE_BOTH && store != op_store)
                bad(c, ERR_INVALID, f[3].val, "store of %s contradicts its command's store", inner);
            else if (store != MIGRATE_STORE_BOTH)
                a->store = store;
        }
    }
    if (c->nerrs != before) {
        free(a->name);
        free(a->type);
        memset(a, 0, sizeof(*a));
        return -1;
    }
    return 0;
}

/* A non-empty sequence of at most MAX_ITEMS attributes, distinct (ignoring case, as SQLite does). */
static int parse_attr_list(struct pctx *c, const struct ydoc_node *list, const struct ydoc_node *owner,
                           const char *where, int op_store, int names_only, struct migrate_op *op)
{
    size_t before = c->nerrs;

    if (list == NULL) {
        bad(c, ERR_INVALID, owner, "%s has no attributes", where);
        return -1;
    }
    if (list->kind != YDOC_SEQ) {
        bad(c, ERR_INVALID, list, "attributes of %s must be a sequence, not %s", where, show(list).s);
        return -1;
    }
    if (list->nkids == 0) {
        bad(c, ERR_INVALID, list, "%s needs at least one attribute", where);
        return -1;
    }
    if (list->nkids > MAX_ITEMS) {
        bad(c, ERR_TOO_LARGE, list->kids[MAX_ITEMS], "%s has more than %d attributes", where, MAX_ITEMS);
        return -1;
    }
    op->attrs = xcalloc(list->nkids, sizeof(*op->attrs));
    for (size_t i = 0; i < list->nkids; i++) {
        struct migrate_attr a;
        if (parse_attr(c, list->kids[i], where, op_store, names_only, &a) != 0)
            continue;
        for (size_t j = 0; j < op->nattrs; j++) {
            if (strcasecmp(op->attrs[j].name, a.name) == 0) {
                bad(c, ERR_INVALID, list->kids[i], "duplicate attribute \"%s\" in %s", a.name, where);
                break;
            }
        }
        op->attrs[op->nattrs++] = a;
    }
    return c->nerrs == before ? 0 : -1;
}

/* One table of init: name (from the map key, or the entry's own name) and {schema, attributes}. */
static void parse_table(struct pctx *c, const struct ydoc_node *key, const struct ydoc_node *spec, int store, int line,
                        size_t first_op)
{
    struct migrate_op op = {.kind = MIGRATE_CREATE_TABLE, .store = store, .line = line};
    struct field f[] = {
        {"name", NULL, NULL}, {"schema", NULL, NULL}, {"attributes", NULL, NULL}, {"attibutes", NULL, NULL}};
    const struct ydoc_node *attrs;
    char where[128];
    size_t before = c->nerrs;

    if (key != NULL) {
        op.table = take_ident(c, key, "table", "init");
        if (spec->kind != YDOC_MAP) {
            const char *hint = scalar_is(key, "name") && spec->kind == YDOC_SCALAR
                                   ? " (a table written as {name, schema, attributes} goes in a list: \"- name: ...\")"
                                   : "";
            bad(c, ERR_INVALID, spec, "table %s in init must be a mapping of schema and attributes, not %s%s",
                show(key).s, show(spec).s, hint);
            goto out;
        }
        snprintf(where, sizeof(where), "table %s", show(key).s);
        take_fields(c, spec, where, f + 1, 3);
    } else {
        if (spec->kind != YDOC_MAP) {
            bad(c, ERR_INVALID, spec, "tables in init must be mappings of name, schema and attributes, not %s",
                show(spec).s);
            goto out;
        }
        const struct ydoc_node *name = NULL;
        for (size_t i = 0; i + 1 < spec->nkids; i += 2)
            if (scalar_is(spec->kids[i], "name"))
                name = spec->kids[i + 1];
        snprintf(where, sizeof(where), "table %s", name != NULL ? show(name).s : "without a name");
        take_fields(c, spec, where, f, 4);
        if (f[0].val == NULL)
            bad(c, ERR_INVALID, spec, "a table in init has no name");
        else
            op.table = take_ident(c, f[0].val, "table", "init");
    }
    if (f[1].val == NULL)
        bad(c, ERR_INVALID, spec, "%s has no schema", where);
    else
        op.schema = take_ident(c, f[1].val, "schema", where);
    if (pick_attributes(c, &f[2], &f[3], where, &attrs) == 0 &&
        parse_attr_list(c, attrs, spec, where, store, 0, &op) == 0 && op.attrs[0].store == MIGRATE_STORE_HARPER &&
        store != MIGRATE_STORE_HARPER)
        bad(c, ERR_INVALID, attrs->kids[0], "the first attribute of %s is its primary key and cannot be harper only",
            where);

    if (c->nerrs == before && op.table != NULL) {
        for (size_t i = first_op; i < c->nops; i++) {
            const struct migrate_op *o = &c->ops[i];
            if (o->kind == MIGRATE_CREATE_TABLE && strcasecmp(o->table, op.table) == 0) {
                bad(c, ERR_INVALID, key != NULL ? key : f[0].val, "table \"%s\" appears twice in init", op.table);
                goto out;
            }
        }
    }
out:
    if (c->nerrs == before)
        push_op(c, &op);
    op_free(&op);
}

static void parse_init(struct pctx *c, const struct ydoc_node *args, int store, int line)
{
    struct field f[] = {{"schemas", NULL, NULL}, {"tables", NULL, NULL}, {"table", NULL, NULL}, {"store", NULL, NULL}};
    const struct ydoc_node *schemas, *tables;
    size_t first_op = c->nops;

    take_fields(c, args, "init", f, 4);
    schemas = f[0].val;
    tables = f[1].val != NULL ? f[1].val : f[2].val;
    if (f[1].key != NULL && f[2].key != NULL)
        bad(c, ERR_INVALID, f[2].key, "both \"tables\" and \"table\" in init");
    if (schemas == NULL && tables == NULL)
        bad(c, ERR_INVALID, args, "init needs schemas or tables");

    if (schemas != NULL && schemas->kind != YDOC_SEQ) {
        bad(c, ERR_INVALID, schemas, "schemas in init must be a sequence, not %s", show(schemas).s);
    } else if (schemas != NULL && schemas->nkids > MAX_ITEMS) {
        bad(c, ERR_TOO_LARGE, schemas->kids[MAX_ITEMS], "init has more than %d schemas", MAX_ITEMS);
    } else if (schemas != NULL) {
        for (size_t i = 0; i < schemas->nkids; i++) {
            const struct ydoc_node *s = schemas->kids[i];
            struct migrate_op op = {.kind = MIGRATE_CREATE_SCHEMA, .store = store, .line = line};
            if (s->kind == YDOC_MAP) {
                struct field sf[] = {{"name", NULL, NULL}};
                size_t before = c->nerrs;
                take_fields(c, s, "a schema of init", sf, 1);
                if (sf[0].val == NULL)
                    bad(c, ERR_INVALID, s, "a schema in init has no name");
                else
                    op.schema = take_ident(c, sf[0].val, "schema", "init");
                if (c->nerrs != before) {
                    op_free(&op);
                    continue;
                }
            } else {
                op.schema = take_ident(c, s, "schema", "init");
            }
            if (op.schema == NULL)
                continue;
            for (size_t j = first_op; j < c->nops; j++) {
                if (strcasecmp(c->ops[j].schema, op.schema) == 0) {
                    bad(c, ERR_INVALID, s, "schema \"%s\" appears twice in init", op.schema);
                    op_free(&op);
                    break;
                }
            }
            if (op.schema != NULL)
                push_op(c, &op);
        }
    }

    if (tables == NULL)
        return;
    if (tables->kind == YDOC_MAP) {
        if (tables->nkids / 2 > MAX_ITEMS) {
            bad(c, ERR_TOO_LARGE, tables->kids[2 * MAX_ITEMS], "init has more than %d tables", MAX_ITEMS);
            return;
        }
        for (size_t i = 0; i + 1 < tables->nkids; i += 2)
            parse_table(c, tables->kids[i], tables->kids[i + 1], store, line, first_op);
    } else if (tables->kind == YDOC_SEQ) {
        if (tables->nkids > MAX_ITEMS) {
            bad(c, ERR_TOO_LARGE, tables->kids[MAX_ITEMS], "init has more than %d tables", MAX_ITEMS);
            return;
        }
        for (size_t i = 0; i < tables->nkids; i++)
            parse_table(c, NULL, tables->kids[i], store, line, first_op);
    } else {
        bad(c, ERR_INVALID, tables, "tables in init must be a mapping or a sequence, not %s", show(tables).s);
    }
}

/* add_attributes {table, schema?, attributes}; indexes and drop_attributes {table, schema?, attributes: [names]}. */
static void parse_table_command(struct pctx *c, const char *cmd, enum migrate_op_kind kind,
                                const struct ydoc_node *args, int store, int line)
{
    struct migrate_op op = {.kind = kind, .store = store, .line = line};
    struct field f[] = {{"table", NULL, NULL},
                        {"schema", NULL, NULL},
                        {"attributes", NULL, NULL},
                        {"attibutes", NULL, NULL},
                        {"store", NULL, NULL}};
    const struct ydoc_node *attrs;
    char where[128];
    size_t before = c->nerrs;

    take_fields(c, args, cmd, f, 5);
    if (f[0].val == NULL)
        bad(c, ERR_INVALID, args, "%s has no table", cmd);
    else
        op.table = take_ident(c, f[0].val, "table", cmd);
    if (f[1].val != NULL)
        op.schema = take_ident(c, f[1].val, "schema", cmd);
    if (op.table != NULL)
        snprintf(where, sizeof(where), "%s of table \"%s\"", cmd, op.table);
    else
        snprintf(where, sizeof(where), "%s", cmd);
    if (pick_attributes(c, &f[2], &f[3], where, &attrs) == 0)
        parse_attr_list(c, attrs, args, where, store, kind != MIGRATE_ADD_ATTRIBUTES, &op);
    for (size_t i = 0; kind == MIGRATE_DROP_ATTRIBUTES && i < op.nattrs; i++)
        op.attrs[i].index = 0;
    if (c->nerrs == before)
        push_op(c, &op);
    op_free(&op);
}

/* The table and optional schema every command but init names; 0 when the table is valid. */
static int take_table(struct pctx *c, const char *cmd, const struct ydoc_node *args, const struct field *table,
                      const struct field *schema, struct migrate_op *op)
{
    if (table->val == NULL)
        bad(c, ERR_INVALID, args, "%s has no table", cmd);
    else
        op->table = take_ident(c, table->val, "table", cmd);
    if (schema->val != NULL)
        op->schema = take_ident(c, schema->val, "schema", cmd);
    return op->table != NULL ? 0 : -1;
}

/* drop_table {table, schema?}. */
static void parse_drop_table(struct pctx *c, const struct ydoc_node *args, int store, int line)
{
    struct migrate_op op = {.kind = MIGRATE_DROP_TABLE, .store = store, .line = line};
    struct field f[] = {{"table", NULL, NULL}, {"schema", NULL, NULL}, {"store", NULL, NULL}};
    size_t before = c->nerrs;

    take_fields(c, args, "drop_table", f, 3);
    take_table(c, "drop_table", args, &f[0], &f[1], &op);
    if (c->nerrs == before)
        push_op(c, &op);
    op_free(&op);
}

/*
 * rename_attribute {table, schema?, from, to}: SQLite only, since HarperDB has no
 * rename; without `store: sqlite` it is refused at the command's position.
 */
static void parse_rename(struct pctx *c, const struct ydoc_node *cmd, const struct ydoc_node *args, int store)
{
    struct migrate_op op = {.kind = MIGRATE_RENAME_ATTRIBUTE, .store = store, .line = cmd->line};
    struct field f[] = {
        {"table", NULL, NULL}, {"schema", NULL, NULL}, {"from", NULL, NULL}, {"to", NULL, NULL}, {"store", NULL, NULL}};
    char where[128];
    size_t before = c->nerrs;

    take_fields(c, args, "rename_attribute", f, 5);
    if (store != MIGRATE_STORE_SQLITE)
        bad(c, ERR_INVALID, cmd,
            "rename_attribute cannot run on HarperDB (it has no rename); add `store: sqlite` or copy with "
            "add_attributes + load + drop_attributes");
    take_table(c, "rename_attribute", args, &f[0], &f[1], &op);
    if (op.table != NULL)
        snprintf(where, sizeof(where), "rename_attribute of table \"%s\"", op.table);
    else
        snprintf(where, sizeof(where), "rename_attribute");
    if (f[2].val == NULL)
        bad(c, ERR_INVALID, args, "%s has no from", where);
    else
        op.rename_from = take_ident(c, f[2].val, "attribute", where);
    if (f[3].val == NULL)
        bad(c, ERR_INVALID, args, "%s has no to", where);
    else
        op.rename_to = take_ident(c, f[3].val, "attribute", where);
    if (op.rename_from != NULL && op.rename_to != NULL && strcasecmp(op.rename_from, op.rename_to) == 0)
        bad(c, ERR_INVALID, f[3].val, "%s renames \"%s\" to \"%s\": SQLite column names ignore case", where,
            op.rename_from, op.rename_to);
    if (c->nerrs == before)
        push_op(c, &op);
    op_free(&op);
}

/* Whether `file` (len bytes) is a relative path inside the migration's folder: no NUL, no leading '/', no "..". */
static const char *bad_file_arg(const char *file, size_t len)
{
    if (len == 0)
        return "is empty";
    if (len > MAX_FILE_ARG)
        return "is longer than 1024 characters";
    if (memchr(file, '\0', len) != NULL)
        return "holds a NUL character";
    if (file[0] == '/')
        return "must be a path relative to the migration's folder, not an absolute path";
    for (size_t i = 0; i < len;) {
        size_t j = i;
        while (j < len && file[j] != '/')
            j++;
        if (j - i == 2 && file[i] == '.' && file[i + 1] == '.')
            return "must stay inside the migration's folder (no \"..\")";
        i = j + 1;
    }
    return NULL;
}

/* The natural key: one column name or a non-empty sequence of distinct names. */
static void parse_key(struct pctx *c, const struct ydoc_node *n, const char *where, struct migrate_op *op)
{
    const struct ydoc_node *const *items = &n;
    size_t count = 1;

    if (n->kind == YDOC_SEQ) {
        if (n->nkids == 0 || n->nkids > MAX_ITEMS) {
            bad(c, n->nkids == 0 ? ERR_INVALID : ERR_TOO_LARGE, n, "key of %s needs 1 to %d column names", where,
                MAX_ITEMS);
            return;
        }
        items = (const struct ydoc_node *const *)n->kids;
        count = n->nkids;
    } else if (n->kind != YDOC_SCALAR) {
        bad(c, ERR_INVALID, n, "key of %s must be a column name or a sequence of them, not %s", where, show(n).s);
        return;
    }
    op->key = xcalloc(count, sizeof(*op->key));
    for (size_t i = 0; i < count; i++) {
        char *name = take_ident(c, items[i], "key column", where);
        if (name == NULL)
            continue;
        for (size_t j = 0; j < op->nkey; j++) {
            if (strcasecmp(op->key[j], name) == 0) {
                bad(c, ERR_INVALID, items[i], "duplicate key column \"%s\" in %s", name, where);
                break;
            }
        }
        op->key[op->nkey++] = name;
    }
}

/* "name=\"value\", ..." for the key of row r of a load, into buf. */
static void show_key(const struct migrate_op *op, const size_t *cols, size_t r, char *buf, size_t size)
{
    size_t used = 0;
    buf[0] = '\0';
    for (size_t k = 0; k < op->nkey && used < size; k++) {
        const char *v = op->rows->rows[r][cols[k]];
        int n = snprintf(buf + used, size - used, "%s%s=%s", k ? ", " : "", op->key[k],
                         show_text(v != NULL ? v : "", v != NULL ? strlen(v) : 0).s);
        if (n < 0)
            break;
        used += (size_t)n;
    }
}

/* A row's key values joined with KEY_SEP, for sorting. */
struct keyed_row {
    char *key;
    size_t len, row;
};

static int keyed_row_cmp(const void *a, const void *b)
{
    const struct keyed_row *x = a, *y = b;
    int d = memcmp(x->key, y->key, x->len < y->len ? x->len : y->len);
    if (d != 0)
        return d;
    if (x->len != y->len)
        return x->len < y->len ? -1 : 1;
    return x->row < y->row ? -1 : x->row > y->row;
}

/* The joined key of row r into b (reset first). */
static void row_key(const struct migrate_op *op, const size_t *cols, size_t r, struct sbuf *b)
{
    sb_reset(b);
    for (size_t k = 0; k < op->nkey; k++) {
        const char *v = op->rows->rows[r][cols[k]];
        if (k > 0)
            sb_printf(b, "%c", KEY_SEP);
        sb_printf(b, "%s", v != NULL ? v : "");
    }
}

/*
 * Check a load's parsed CSV against its arguments: column names are identifiers,
 * distinct ignoring case and not "id"; every key column is in the header; every
 * row has its key, and no two rows share one. Fills cols[k] with key k's column.
 */
static void check_load_rows(struct pctx *c, const struct ydoc_node *cmd, const struct ydoc_node *keynode,
                            const char *where, const struct migrate_op *op, size_t *cols)
{
    const struct csv_table *t = op->rows;
    size_t before = c->nerrs;

    for (size_t i = 0; i < t->ncols; i++) {
        const char *h = t->header[i];
        if (!is_ident_text(h, strlen(h))) {
            bad(c, ERR_INVALID, cmd,
                "%s: %s:1: invalid column name %s: use letters, digits and underscores, not starting with a "
                "digit, at most %d characters",
                where, op->file, show_text(h, strlen(h)).s, MAX_IDENT);
            continue;
        }
        if (strcasecmp(h, "id") == 0)
            bad(c, ERR_INVALID, cmd,
                "%s: %s:1: column \"%s\" is the table's hash attribute, which load computes "
                "from the key; remove the column",
                where, op->file, h);
        for (size_t j = 0; j < i; j++) {
            if (strcasecmp(t->header[j], h) == 0) {
                bad(c, ERR_INVALID, cmd, "%s: %s:1: duplicate column \"%s\"", where, op->file, h);
                break;
            }
        }
    }
    for (size_t k = 0; k < op->nkey; k++) {
        cols[k] = t->ncols;
        for (size_t i = 0; i < t->ncols && cols[k] == t->ncols; i++)
            if (strcmp(t->header[i], op->key[k]) == 0)
                cols[k] = i;
        if (cols[k] == t->ncols)
            bad(c, ERR_INVALID, keynode->kind == YDOC_SEQ ? keynode->kids[k] : keynode,
                "%s: key column \"%s\" is not in the header of %s", where, op->key[k], op->file);
    }
    if (c->nerrs != before)
        return;

    for (size_t r = 0; r < t->nrows; r++)
        for (size_t k = 0; k < op->nkey; k++)
            if (t->rows[r][cols[k]] == NULL)
                bad(c, ERR_INVALID, cmd, "%s: %s:%zu: key column \"%s\" is empty", where, op->file, t->row_lines[r],
                    op->key[k]);
    if (c->nerrs != before || t->nrows < 2)
        return;

    struct keyed_row *kr = xcalloc(t->nrows, sizeof(*kr));
    struct sbuf b = {0};
    for (size_t r = 0; r < t->nrows; r++) {
        row_key(op, cols, r, &b);
        kr[r].key = xstrndup(b.p, b.len);
        kr[r].len = b.len;
        kr[r].row = r;
    }
    qsort(kr, t->nrows, sizeof(*kr), keyed_row_cmp); /* equal keys end up together, in line order */
    for (size_t i = 1, first = 0; i < t->nrows; i++) {
        char shown[256];
        if (kr[i].len != kr[first].len || memcmp(kr[i].key, kr[first].key, kr[i].len) != 0) {
            first = i;
            continue;
        }
        show_key(op, cols, kr[i].row, shown, sizeof(shown));
        bad(c, ERR_INVALID, cmd, "%s: %s:%zu: duplicate key %s, first on line %zu", where, op->file,
            t->row_lines[kr[i].row], shown, t->row_lines[kr[first].row]);
    }
    for (size_t r = 0; r < t->nrows; r++)
        free(kr[r].key);
    free(kr);
    free(b.p);
}

/* A load's `document: {column, nest, top: [names]}` into op (see migrate.h). */
static void parse_document(struct pctx *c, const struct ydoc_node *n, const char *where, struct migrate_op *op)
{
    struct field f[] = {{"column", NULL, NULL}, {"nest", NULL, NULL}, {"top", NULL, NULL}};
    char what[160];

    snprintf(what, sizeof(what), "document of %s", where);
    if (n->kind != YDOC_MAP) {
        bad(c, ERR_INVALID, n, "%s must be a mapping {column, nest, top}, not %s", what, show(n).s);
        return;
    }
    take_fields(c, n, what, f, 3);
    for (size_t i = 0; i < 3; i++)
        if (f[i].val == NULL)
            bad(c, ERR_INVALID, n, "%s has no %s", what, f[i].name);
    if (f[0].val != NULL)
        op->doc_column = take_ident(c, f[0].val, "column", what);
    if (f[1].val != NULL)
        op->doc_nest = take_ident(c, f[1].val, "member", what);
    if (f[2].val == NULL)
        return;
    if (f[2].val->kind != YDOC_SEQ || f[2].val->nkids == 0 || f[2].val->nkids > MAX_ITEMS) {
        bad(c, f[2].val->kind == YDOC_SEQ && f[2].val->nkids > MAX_ITEMS ? ERR_TOO_LARGE : ERR_INVALID, f[2].val,
            "top of %s must be a sequence of 1 to %d column names", what, MAX_ITEMS);
        return;
    }
    op->doc_top = xcalloc(f[2].val->nkids, sizeof(*op->doc_top));
    for (size_t i = 0; i < f[2].val->nkids; i++) {
        const struct ydoc_node *item = f[2].val->kids[i];
        char *name = take_ident(c, item, "top column", what);
        if (name == NULL)
            continue;
        int dup = strcasecmp(name, "id") == 0;
        for (size_t j = 0; j < op->ndoc_top && !dup; j++)
            dup = strcasecmp(op->doc_top[j], name) == 0;
        if (dup) {
            bad(c, ERR_INVALID, item, "top of %s names \"%s\" twice or names \"id\"", what, name);
            free(name);
            continue;
        }
        op->doc_top[op->ndoc_top++] = name;
    }
    for (int m = 0; m < 2; m++) {
        const char *x = m == 0 ? op->doc_column : op->doc_nest;
        int clash = x != NULL && strcasecmp(x, "id") == 0;
        for (size_t j = 0; x != NULL && j < op->ndoc_top && !clash; j++)
            clash = strcasecmp(op->doc_top[j], x) == 0;
        if (clash)
            bad(c, ERR_INVALID, f[m].val, "%s of %s may not be \"id\" or a top column", f[m].name, what);
    }
}

/* With `document`: every top column is in the CSV's header, and the document's column is not. */
static void check_document_columns(struct pctx *c, const struct ydoc_node *at, const char *where,
                                   const struct migrate_op *op)
{
    const struct csv_table *t = op->rows;
    for (size_t k = 0; k < op->ndoc_top; k++) {
        size_t i = 0;
        while (i < t->ncols && strcmp(t->header[i], op->doc_top[k]) != 0)
            i++;
        if (i == t->ncols)
            bad(c, ERR_INVALID, at, "%s: top column \"%s\" of its document is not in the header of %s", where,
                op->doc_top[k], op->file);
    }
    for (size_t i = 0; i < t->ncols; i++)
        if (strcasecmp(t->header[i], op->doc_column) == 0)
            bad(c, ERR_INVALID, at, "%s: %s:1: column \"%s\" is the column its document is stored in", where,
                op->file, t->header[i]);
}

/*
 * load {table, schema?, file, key, document?}: read and parse the CSV now, so that a
 * bad file fails the parse, and add its bytes to the checksum.
 */
static void parse_load(struct pctx *c, const struct ydoc_node *cmd, const struct ydoc_node *args, int store)
{
    struct migrate_op op = {.kind = MIGRATE_LOAD, .store = store, .line = cmd->line};
    struct field f[] = {{"table", NULL, NULL},
                        {"schema", NULL, NULL},
                        {"file", NULL, NULL},
                        {"key", NULL, NULL},
                        {"store", NULL, NULL},
                        {"document", NULL, NULL}};
    char where[128];
    char *buf = NULL;
    size_t len = 0, before = c->nerrs;
    size_t *cols = NULL;
    struct err fe = {0};
    int rc;

    take_fields(c, args, "load", f, 6);
    take_table(c, "load", args, &f[0], &f[1], &op);
    if (op.table != NULL)
        snprintf(where, sizeof(where), "load into table \"%s\"", op.table);
    else
        snprintf(where, sizeof(where), "load");
    if (f[2].val == NULL) {
        bad(c, ERR_INVALID, args, "%s has no file", where);
    } else if (f[2].val->kind != YDOC_SCALAR || is_null(f[2].val)) {
        bad(c, ERR_INVALID, f[2].val, "file of %s must be a path, not %s", where, show(f[2].val).s);
    } else {
        const char *why = bad_file_arg(f[2].val->text, f[2].val->len);
        if (why != NULL) {
            bad(c, ERR_INVALID, f[2].val, "file %s of %s %s", show(f[2].val).s, where, why);
        } else {
            op.file = xmalloc(c->dirlen + f[2].val->len + 1);
            memcpy(op.file, c->path, c->dirlen);
            memcpy(op.file + c->dirlen, f[2].val->text, f[2].val->len + 1);
        }
    }
    if (f[3].val == NULL)
        bad(c, ERR_INVALID, args, "%s has no key", where);
    else
        parse_key(c, f[3].val, where, &op);
    if (f[5].val != NULL)
        parse_document(c, f[5].val, where, &op);
    if (c->nerrs != before)
        goto out;

    rc = file_read_bounded(op.file, CSV_MAX_BYTES, "a CSV file", &buf, &len, &fe);
    if (rc == 0 && len > MIGRATE_MAX_LOAD_BYTES - c->csv_bytes)
        rc = err_set(&fe, ERR_TOO_LARGE, "%s: the files loaded by one migration are over the limit of %u bytes",
                     op.file, MIGRATE_MAX_LOAD_BYTES);
    if (rc != 0) {
        bad(c, rc, cmd, "%s: %s", where, fe.msg);
        goto out;
    }
    c->csv_bytes += len;
    crypto_generichash_update(c->hash, (const unsigned char *)buf, len);
    op.rows = xcalloc(1, sizeof(*op.rows));
    rc = csv_parse(op.file, buf, len, op.rows, &fe);
    if (rc != 0) {
        bad(c, rc, cmd, "%s: %s", where, fe.msg);
        goto out;
    }
    cols = xcalloc(op.nkey, sizeof(*cols));
    check_load_rows(c, cmd, f[3].val, where, &op, cols);
    if (op.doc_column != NULL)
        check_document_columns(c, f[5].val, where, &op);
out:
    if (c->nerrs == before)
        push_op(c, &op);
    op_free(&op);
    free(cols);
    free(buf);
}

/* One command: `key` names it, `args` is its mapping of arguments. */
static void parse_command(struct pctx *c, const struct ydoc_node *key, const struct ydoc_node *args)
{
    int store = MIGRATE_STORE_BOTH;

    if (key->kind != YDOC_SCALAR) {
        bad(c, ERR_INVALID, key, "a command name must be a string, not %s", show(key).s);
        return;
    }
    if (!scalar_is(key, "init") && !scalar_is(key, "add_attributes") && !scalar_is(key, "indexes") &&
        !scalar_is(key, "drop_attributes") && !scalar_is(key, "drop_table") && !scalar_is(key, "rename_attribute") &&
        !scalar_is(key, "load")) {
        bad(c, ERR_INVALID, key, "unknown command %s", show(key).s);
        return;
    }
    if (args->kind != YDOC_MAP) {
        bad(c, ERR_INVALID, args, "%s expects a mapping of arguments, not %s", key->text, show(args).s);
        return;
    }
    for (size_t i = 0; i + 1 < args->nkids; i += 2)
        if (scalar_is(args->kids[i], "store") && parse_store(c, args->kids[i + 1], key->text, &store) != 0)
            return;
    if (scalar_is(key, "init"))
        parse_init(c, args, store, key->line);
    else if (scalar_is(key, "add_attributes"))
        parse_table_command(c, "add_attributes", MIGRATE_ADD_ATTRIBUTES, args, store, key->line);
    else if (scalar_is(key, "indexes"))
        parse_table_command(c, "indexes", MIGRATE_INDEXES, args, store, key->line);
    else if (scalar_is(key, "drop_attributes"))
        parse_table_command(c, "drop_attributes", MIGRATE_DROP_ATTRIBUTES, args, store, key->line);
    else if (scalar_is(key, "drop_table"))
        parse_drop_table(c, args, store, key->line);
    else if (scalar_is(key, "rename_attribute"))
        parse_rename(c, key, args, store);
    else
        parse_load(c, key, args, store);
}

static void parse_commands(struct pctx *c, const struct ydoc_node *root)
{
    size_t count = 0;

    if (root == NULL || is_null(root)) {
        bad(c, ERR_INVALID, NULL, "no commands");
        return;
    }
    if (root->kind == YDOC_MAP) {
        for (size_t i = 0; i + 1 < root->nkids; i += 2) {
            if (++count > MAX_COMMANDS) {
                bad(c, ERR_TOO_LARGE, root->kids[i], "more than %d commands", MAX_COMMANDS);
                return;
            }
            for (size_t j = 0; j < i; j += 2) {
                if (root->kids[i]->kind == YDOC_SCALAR && scalar_is(root->kids[j], root->kids[i]->text)) {
                    bad(c, ERR_INVALID, root->kids[i],
                        "duplicate command %s: write the file as a sequence to repeat a command",
                        show(root->kids[i]).s);
                    goto next;
                }
            }
            parse_command(c, root->kids[i], root->kids[i + 1]);
        next:;
        }
    } else if (root->kind == YDOC_SEQ) {
        for (size_t i = 0; i < root->nkids; i++) {
            const struct ydoc_node *item = root->kids[i];
            if (++count > MAX_COMMANDS) {
                bad(c, ERR_TOO_LARGE, item, "more than %d commands", MAX_COMMANDS);
                return;
            }
            if (item->kind != YDOC_MAP || item->nkids != 2) {
                bad(c, ERR_INVALID, item, "a command in a sequence must be a mapping with one key (its name), not %s",
                    item->kind == YDOC_MAP ? "a mapping with several keys" : show(item).s);
                continue;
            }
            parse_command(c, item->kids[0], item->kids[1]);
        }
    } else {
        bad(c, ERR_INVALID, root, "a migration must be a mapping or a sequence of commands, not %s", show(root).s);
        return;
    }
    if (count == 0)
        bad(c, ERR_INVALID, root, "no commands");
}

/* ------------------------------------------------------------------------- */
/* Parsing entry points.                                                     */

/* The BLAKE2b-256 digest hashed into st so far, as lower-case hex. */
static void checksum_hex(crypto_generichash_state *st, char out[65])
{
    static const char hex[] = "0123456789abcdef";
    unsigned char digest[32];

    crypto_generichash_final(st, digest, sizeof(digest));
    for (size_t i = 0; i < sizeof(digest); i++) {
        out[2 * i] = hex[digest[i] >> 4];
        out[2 * i + 1] = hex[digest[i] & 15];
    }
    out[64] = '\0';
}

/* Free everything `m` owns and zero it; NULL and an already released migration are fine. */
void migration_release(struct migration *m)
{
    if (m == NULL)
        return;
    for (size_t i = 0; i < m->nops; i++)
        op_free(&m->ops[i]);
    free(m->ops);
    free(m->name);
    free(m->path);
    memset(m, 0, sizeof(*m));
}

/*
 * Parse `len` bytes of `buf` (need not be NUL-terminated) into *out, which is zeroed on
 * failure. 0, ERR_TOO_LARGE (over MIGRATE_MAX_FILE_BYTES, or over a count bound), or
 * ERR_INVALID naming PATH:LINE:COL for every problem found (up to MAX_REPORTED spelled out);
 * a load whose file cannot be read adds ERR_IO. The files loads name are read relative to
 * path's folder, and hashed after the yaml bytes, in command order, into the checksum.
 */
int migrate_parse_buffer(const char *path, const char *buf, size_t len, int version, const char *name,
                         struct migration *out, struct err *e)
{
    struct pctx *c = NULL;
    struct ydoc *doc = NULL;
    const struct ydoc_node *root;
    crypto_generichash_state hash;
    const char *slash;
    int rc;

    memset(out, 0, sizeof(*out));
    if (path == NULL)
        path = "<buffer>";
    if (buf == NULL)
        buf = "";
    if (len > MIGRATE_MAX_FILE_BYTES)
        return err_set(e, ERR_TOO_LARGE, "%s: %zu bytes is over the limit of %u bytes for a migration", path, len,
                       MIGRATE_MAX_FILE_BYTES);
    if (version < 1 || version > 9999)
        return err_set(e, ERR_INVALID, "%s: version %d is outside 1..9999", path, version);
    if (name == NULL || name[0] == '\0')
        return err_set(e, ERR_INVALID, "%s: a migration needs a name", path);
    if (sodium_init() < 0)
        return err_set(e, ERR_GENERIC, "cannot initialise libsodium");
    rc = ydoc_parse(path, buf, len, &limits, &doc, e);
    if (rc != 0)
        return rc;
    root = ydoc_root(doc);

    crypto_generichash_init(&hash, NULL, 0, 32);
    crypto_generichash_update(&hash, (const unsigned char *)buf, len);
    c = xcalloc(1, sizeof(*c));
    c->path = path;
    slash = strrchr(path, '/');
    c->dirlen = slash != NULL ? (size_t)(slash - path) + 1 : 0;
    c->hash = &hash;
    parse_commands(c, root);
    if (c->nerrs > 0) {
        rc = report(c, e);
        for (size_t i = 0; i < c->nops; i++)
            op_free(&c->ops[i]);
        free(c->ops);
        goto out;
    }
    out->version = version;
    out->name = xstrdup(name);
    out->path = xstrdup(path);
    checksum_hex(&hash, out->checksum);
    out->ops = c->ops;
    out->nops = c->nops;

out:
    free(c);
    ydoc_free(doc);
    return rc;
}

/* Read `path` (ERR_IO when unreadable, ERR_TOO_LARGE when over the bound) and parse it as above. */
int migrate_parse_file(const char *path, int version, const char *name, struct migration *out, struct err *e)
{
    char *buf = NULL;
    size_t len = 0;
    int rc;

    memset(out, 0, sizeof(*out));
    rc = file_read_bounded(path, MIGRATE_MAX_FILE_BYTES, "a migration", &buf, &len, e);
    if (rc == 0)
        rc = migrate_parse_buffer(path, buf, len, version, name, out, e);
    free(buf);
    return rc;
}

/* ------------------------------------------------------------------------- */
/* Directories.                                                              */

struct dir_entry {
    int version;
    char *file; /* the file name */
    char *stem; /* the name part */
};

/* Whether f is NNNN_name.yaml / .yml with name in [a-z0-9_]+; fills version and the name part. */
static int match_file_name(const char *f, int *version, char **stem)
{
    size_t len = strlen(f), end;

    if (len > 5 && strcmp(f + len - 5, ".yaml") == 0)
        end = len - 5;
    else if (len > 4 && strcmp(f + len - 4, ".yml") == 0)
        end = len - 4;
    else
        return 0;
    if (end < 6 || f[4] != '_')
        return 0;
    for (size_t i = 0; i < 4; i++)
        if (f[i] < '0' || f[i] > '9')
            return 0;
    for (size_t i = 5; i < end; i++)
        if (!((f[i] >= 'a' && f[i] <= 'z') || (f[i] >= '0' && f[i] <= '9') || f[i] == '_'))
            return 0;
    *version = (f[0] - '0') * 1000 + (f[1] - '0') * 100 + (f[2] - '0') * 10 + (f[3] - '0');
    *stem = xstrndup(f + 5, end - 5);
    return 1;
}

static int dir_entry_cmp(const void *a, const void *b)
{
    const struct dir_entry *x = a, *y = b;
    if (x->version != y->version)
        return x->version < y->version ? -1 : 1;
    return strcmp(x->file, y->file);
}

/* Release every migration of `set` and zero it. */
void migrate_set_release(struct migration_set *set)
{
    if (set == NULL)
        return;
    for (size_t i = 0; i < set->n; i++)
        migration_release(&set->items[i]);
    free(set->items);
    memset(set, 0, sizeof(*set));
}

/*
 * Parse every NNNN_name.yaml / .yml of `dir` into *set, sorted by version. Other .yaml files
 * are ignored with a warning; 0000_x.yaml and two files of one version are ERR_INVALID; any
 * file's parse error is returned as is. On failure *set is empty.
 */
int migrate_load_dir(const char *dir, struct migration_set *set, struct err *e)
{
    struct dir_entry *ents = NULL;
    size_t n = 0, cap = 0;
    const char *sep = dir[0] != '\0' && dir[strlen(dir) - 1] == '/' ? "" : "/";
    struct dirent *de;
    DIR *d;
    int rc = 0;

    memset(set, 0, sizeof(*set));
    d = opendir(dir);
    if (d == NULL)
        return err_set(e, ERR_IO, "cannot open migrations directory \"%s\": %s", dir, strerror(errno));
    for (;;) {
        int version;
        char *stem;
        errno = 0;
        de = readdir(d);
        if (de == NULL) {
            if (errno != 0)
                rc = err_set(e, ERR_IO, "cannot read migrations directory \"%s\": %s", dir, strerror(errno));
            break;
        }
        if (!match_file_name(de->d_name, &version, &stem)) {
            size_t l = strlen(de->d_name);
            if (de->d_name[0] != '.' && ((l > 5 && strcmp(de->d_name + l - 5, ".yaml") == 0) ||
                                         (l > 4 && strcmp(de->d_name + l - 4, ".yml") == 0)))
                log_warn("%s%s%s: ignored: migration files are named NNNN_name.yaml (name in a-z, 0-9, _)", dir, sep,
                         de->d_name);
            continue;
        }
        if (version == 0) {
            free(stem);
            rc = err_set(e, ERR_INVALID, "%s%s%s: migration versions start at 0001", dir, sep, de->d_name);
            break;
        }
        if (n == MAX_FILES) {
            free(stem);
            rc = err_set(e, ERR_TOO_LARGE, "%s: more than %d migration files", dir, MAX_FILES);
            break;
        }
        if (n == cap) {
            cap = cap ? cap * 2 : 16;
            ents = xrealloc(ents, cap * sizeof(*ents));
        }
        ents[n].version = version;
        ents[n].file = xstrdup(de->d_name);
        ents[n].stem = stem;
        n++;
    }
    closedir(d);
    if (rc != 0)
        goto out;

    if (n > 1)
        qsort(ents, n, sizeof(*ents), dir_entry_cmp);
    for (size_t i = 1; i < n; i++) {
        if (ents[i].version == ents[i - 1].version) {
            rc = err_set(e, ERR_INVALID, "%s%s%s and %s%s%s have the same version %04d", dir, sep, ents[i - 1].file,
                         dir, sep, ents[i].file, ents[i].version);
            goto out;
        }
    }
    set->items = xcalloc(n, sizeof(*set->items));
    for (size_t i = 0; i < n; i++) {
        size_t plen = strlen(dir) + strlen(sep) + strlen(ents[i].file) + 1;
        char *path = xmalloc(plen);
        snprintf(path, plen, "%s%s%s", dir, sep, ents[i].file);
        rc = migrate_parse_file(path, ents[i].version, ents[i].stem, &set->items[i], e);
        free(path);
        if (rc != 0) {
            migrate_set_release(set);
            goto out;
        }
        set->n++;
    }

out:
    for (size_t i = 0; i < n; i++) {
        free(ents[i].file);
        free(ents[i].stem);
    }
    free(ents);
    return rc;
}

/* ------------------------------------------------------------------------- */
/* Load rows: ids and typed values, shared by both stores.                   */

enum load_type { LOAD_NULL, LOAD_INTEGER, LOAD_REAL, LOAD_TEXT };

static int is_digit(char ch)
{
    return ch >= '0' && ch <= '9';
}

/*
 * The type of CSV field v (NULL when empty): LOAD_INTEGER when it is a JSON integer
 * (-?(0|[1-9][0-9]*)) within 64 bits (*n), LOAD_REAL when it is another finite JSON
 * number (*d: a fraction or exponent, or an integer too big for 64 bits), else LOAD_TEXT.
 */
static enum load_type load_value(const char *v, long long *n, double *d)
{
    const char *p = v;
    int integral = 1;

    if (v == NULL)
        return LOAD_NULL;
    if (*p == '-')
        p++;
    if (*p == '0')
        p++;
    else if (*p >= '1' && *p <= '9')
        while (is_digit(*p))
            p++;
    else
        return LOAD_TEXT;
    if (*p == '.') {
        if (!is_digit(*++p))
            return LOAD_TEXT;
        while (is_digit(*p))
            p++;
        integral = 0;
    }
    if (*p == 'e' || *p == 'E') {
        p++;
        if (*p == '+' || *p == '-')
            p++;
        if (!is_digit(*p))
            return LOAD_TEXT;
        while (is_digit(*p))
            p++;
        integral = 0;
    }
    if (*p != '\0')
        return LOAD_TEXT;
    if (integral) {
        errno = 0;
        *n = strtoll(v, NULL, 10);
        if (errno == 0)
            return LOAD_INTEGER;
    }
    *d = strtod(v, NULL);
    return isfinite(*d) ? LOAD_REAL : LOAD_TEXT;
}

/* cols[k]: the CSV column of key column k (the parse checked that there is one). */
static void load_key_columns(const struct migrate_op *op, size_t *cols)
{
    for (size_t k = 0; k < op->nkey; k++) {
        cols[k] = 0;
        for (size_t i = 0; i < op->rows->ncols; i++) {
            if (strcmp(op->rows->header[i], op->key[k]) == 0) {
                cols[k] = i;
                break;
            }
        }
    }
}

/* The namespace of a load's ids: "schema.table", or "table" without a schema. */
static void load_namespace(const struct migrate_op *op, struct sbuf *b)
{
    sb_reset(b);
    if (op->schema != NULL)
        sb_printf(b, "%s.%s", op->schema, op->table);
    else
        sb_printf(b, "%s", op->table);
}

/* jansson's constructors return NULL only when out of memory: abort, as xmalloc does. */
static json_t *json_or_abort(json_t *v)
{
    if (v == NULL) {
        fprintf(stderr, "out of memory building json\n");
        abort();
    }
    return v;
}

/* Whether CSV column `name` stays at the top level of a load's row (always, without `document`). */
static int load_is_top(const struct migrate_op *op, const char *name)
{
    if (op->doc_column == NULL)
        return 1;
    for (size_t k = 0; k < op->ndoc_top; k++)
        if (strcmp(op->doc_top[k], name) == 0)
            return 1;
    return 0;
}

/*
 * How each column of a load is typed, allocated (caller frees): with `document`,
 * numeric[c] is 1 when every non-empty field of column c is a number and 0 otherwise;
 * without, every entry is 2 (each field typed by itself, as loads always were).
 */
static unsigned char *load_column_types(const struct migrate_op *op)
{
    const struct csv_table *t = op->rows;
    unsigned char *numeric = xcalloc(t->ncols ? t->ncols : 1, 1);
    for (size_t c = 0; c < t->ncols; c++) {
        numeric[c] = op->doc_column != NULL ? 1 : 2;
        for (size_t r = 0; r < t->nrows && numeric[c] == 1; r++) {
            long long n;
            double d;
            if (load_value(t->rows[r][c], &n, &d) == LOAD_TEXT)
                numeric[c] = 0;
        }
    }
    return numeric;
}

/* The type of field v of a column typed `numeric` (see load_column_types), its number in *n or *d. */
static enum load_type load_field(const char *v, unsigned char numeric, long long *n, double *d)
{
    enum load_type ty = load_value(v, n, d);
    return numeric == 0 && ty != LOAD_NULL ? LOAD_TEXT : ty;
}

/* Field v as JSON (NULL when empty), typed as load_field() says. */
static json_t *load_json(const char *v, unsigned char numeric)
{
    long long n;
    double d;
    switch (load_field(v, numeric, &n, &d)) {
    case LOAD_NULL: return NULL;
    case LOAD_INTEGER: return json_or_abort(json_integer(n));
    case LOAD_REAL: return json_or_abort(json_real(d));
    default: return json_or_abort(json_string(v));
    }
}

/* Row r's record: "id" and its non-empty fields, or with `document` its document (see migrate.h). */
static json_t *load_row_json(const struct migrate_op *op, const unsigned char *numeric, size_t r, const char *id)
{
    const struct csv_table *t = op->rows;
    json_t *o = json_or_abort(json_object());
    json_t *nest = op->doc_column != NULL ? json_or_abort(json_object()) : NULL;
    json_object_set_new(o, "id", json_or_abort(json_string(id)));
    for (size_t c = 0; c < t->ncols; c++) {
        json_t *j = load_json(t->rows[r][c], numeric[c]);
        if (j != NULL)
            json_object_set_new(load_is_top(op, t->header[c]) ? o : nest, t->header[c], j);
    }
    if (nest != NULL)
        json_object_set_new(o, op->doc_nest, nest);
    return o;
}

/* Row r's id (from the key columns cols) into id; key and ns are scratch, ns holding the namespace. */
static void load_row_id(const struct migrate_op *op, const size_t *cols, size_t r, const struct sbuf *ns,
                        struct sbuf *key, char id[IDS_UUID_LEN + 1])
{
    row_key(op, cols, r, key);
    ids_uuid_from_key(ns->p, ns->len, key->p != NULL ? key->p : "", key->len, id);
}

json_t *migrate_load_records(const struct migrate_op *op)
{
    struct sbuf ns = {0}, key = {0};
    size_t *cols;
    unsigned char *numeric;
    json_t *records;

    if (op == NULL || op->kind != MIGRATE_LOAD || op->rows == NULL)
        return NULL;
    records = json_or_abort(json_array());
    cols = xcalloc(op->nkey ? op->nkey : 1, sizeof(*cols));
    numeric = load_column_types(op);
    load_key_columns(op, cols);
    load_namespace(op, &ns);
    for (size_t r = 0; r < op->rows->nrows; r++) {
        char id[IDS_UUID_LEN + 1];
        load_row_id(op, cols, r, &ns, &key, id);
        json_array_append_new(records, load_row_json(op, numeric, r, id));
    }
    free(numeric);
    free(cols);
    free(ns.p);
    free(key.p);
    return records;
}

/* ------------------------------------------------------------------------- */
/* SQL generation, shared by the plan and the apply.                        */

static const char *sql_type(const char *type)
{
    if (type != NULL && strcmp(type, "integer") == 0)
        return "INTEGER";
    if (type != NULL && strcmp(type, "real") == 0)
        return "REAL";
    if (type != NULL && strcmp(type, "blob") == 0)
        return "BLOB";
    return "TEXT";
}

static int in_sqlite(int store)
{
    return store != MIGRATE_STORE_HARPER;
}

static void sql_create_table(struct sbuf *b, const struct migrate_op *op)
{
    int first = 1;
    sb_printf(b, "CREATE TABLE IF NOT EXISTS \"%s\" (", op->table);
    for (size_t i = 0; i < op->nattrs; i++) {
        const struct migrate_attr *a = &op->attrs[i];
        if (!in_sqlite(a->store))
            continue;
        sb_printf(b, "%s\"%s\" %s%s", first ? "" : ", ", a->name, sql_type(a->type), i == 0 ? " PRIMARY KEY" : "");
        first = 0;
    }
    sb_printf(b, ");");
}

static void sql_add_column(struct sbuf *b, const char *table, const struct migrate_attr *a)
{
    sb_printf(b, "ALTER TABLE \"%s\" ADD COLUMN \"%s\" %s;", table, a->name, sql_type(a->type));
}

static void sql_create_index(struct sbuf *b, const char *table, const char *column, int unique)
{
    sb_printf(b, "CREATE %sINDEX IF NOT EXISTS \"%s_%s_idx\" ON \"%s\" (\"%s\");", unique ? "UNIQUE " : "", table,
              column, table, column);
}

static void sql_drop_index(struct sbuf *b, const char *table, const char *column)
{
    sb_printf(b, "DROP INDEX IF EXISTS \"%s_%s_idx\";", table, column);
}

static void sql_drop_column(struct sbuf *b, const char *table, const char *column)
{
    sb_printf(b, "ALTER TABLE \"%s\" DROP COLUMN \"%s\";", table, column);
}

static void sql_drop_table(struct sbuf *b, const char *table)
{
    sb_printf(b, "DROP TABLE IF EXISTS \"%s\";", table);
}

static void sql_rename_column(struct sbuf *b, const struct migrate_op *op)
{
    sb_printf(b, "ALTER TABLE \"%s\" RENAME COLUMN \"%s\" TO \"%s\";", op->table, op->rename_from, op->rename_to);
}

/*
 * The upsert of one load row as ? parameters in this order: "id", the CSV columns
 * that stay at the top (every one without `document`) in CSV order, and with
 * `document` the document's column last.
 */
static void sql_upsert(struct sbuf *b, const struct migrate_op *op)
{
    const struct csv_table *t = op->rows;
    int first = 1;
    sb_printf(b, "INSERT INTO \"%s\" (\"id\"", op->table);
    for (size_t i = 0; i < t->ncols; i++)
        if (load_is_top(op, t->header[i]))
            sb_printf(b, ", \"%s\"", t->header[i]);
    if (op->doc_column != NULL)
        sb_printf(b, ", \"%s\"", op->doc_column);
    sb_printf(b, ") VALUES (?");
    for (size_t i = 0; i < t->ncols; i++)
        if (load_is_top(op, t->header[i]))
            sb_printf(b, ", ?");
    if (op->doc_column != NULL)
        sb_printf(b, ", ?");
    sb_printf(b, ") ON CONFLICT (\"id\") DO UPDATE SET ");
    for (size_t i = 0; i < t->ncols; i++) {
        if (!load_is_top(op, t->header[i]))
            continue;
        sb_printf(b, "%s\"%s\" = excluded.\"%s\"", first ? "" : ", ", t->header[i], t->header[i]);
        first = 0;
    }
    if (op->doc_column != NULL)
        sb_printf(b, "%s\"%s\" = excluded.\"%s\"", first ? "" : ", ", op->doc_column, op->doc_column);
    sb_printf(b, ";");
}

static const char *op_verb(enum migrate_op_kind kind)
{
    switch (kind) {
    case MIGRATE_CREATE_SCHEMA: return "create schema";
    case MIGRATE_CREATE_TABLE: return "create table";
    case MIGRATE_ADD_ATTRIBUTES: return "add attributes to";
    case MIGRATE_DROP_ATTRIBUTES: return "drop attributes of";
    case MIGRATE_DROP_TABLE: return "drop table";
    case MIGRATE_RENAME_ATTRIBUTE: return "rename an attribute of";
    case MIGRATE_LOAD: return "load rows into";
    default: return "create indexes on";
    }
}

/* The command a kind of op comes from, for messages. */
static const char *op_command(enum migrate_op_kind kind)
{
    switch (kind) {
    case MIGRATE_CREATE_SCHEMA:
    case MIGRATE_CREATE_TABLE: return "init";
    case MIGRATE_ADD_ATTRIBUTES: return "add_attributes";
    case MIGRATE_DROP_ATTRIBUTES: return "drop_attributes";
    case MIGRATE_DROP_TABLE: return "drop_table";
    case MIGRATE_RENAME_ATTRIBUTE: return "rename_attribute";
    case MIGRATE_LOAD: return "load";
    default: return "indexes";
    }
}

/* A load's file as written in the migration: relative to the migration's folder. */
static const char *load_file_shown(const struct migration *m, const struct migrate_op *op)
{
    const char *slash = m->path != NULL ? strrchr(m->path, '/') : NULL;
    size_t dirlen = slash != NULL ? (size_t)(slash - m->path) + 1 : 0;
    if (dirlen > 0 && strncmp(op->file, m->path, dirlen) == 0)
        return op->file + dirlen;
    return op->file;
}

/* The plan's lines for the commands init does not have; 0 when `op` is not one of them. */
static int plan_new_op(struct sbuf *b, const struct migration *m, const struct migrate_op *op)
{
    switch (op->kind) {
    case MIGRATE_DROP_ATTRIBUTES:
        for (size_t j = 0; j < op->nattrs; j++) {
            if (!in_sqlite(op->attrs[j].store))
                continue;
            sql_drop_index(b, op->table, op->attrs[j].name);
            sb_printf(b, "\n");
            sql_drop_column(b, op->table, op->attrs[j].name);
            sb_printf(b, "\n");
        }
        return 1;
    case MIGRATE_DROP_TABLE:
        sql_drop_table(b, op->table);
        sb_printf(b, "\n");
        return 1;
    case MIGRATE_RENAME_ATTRIBUTE:
        sql_rename_column(b, op);
        sb_printf(b, "\n-- index \"%s_%s_idx\", when there is one, becomes \"%s_%s_idx\"\n", op->table, op->rename_from,
                  op->table, op->rename_to);
        return 1;
    case MIGRATE_LOAD:
        sb_printf(b, "-- upsert %zu row%s from %s into \"%s\" by (", op->rows->nrows, op->rows->nrows == 1 ? "" : "s",
                  load_file_shown(m, op), op->table);
        for (size_t k = 0; k < op->nkey; k++)
            sb_printf(b, "%s%s", k ? ", " : "", op->key[k]);
        sb_printf(b, ")\n");
        if (op->doc_column != NULL)
            sb_printf(b, "-- each row's JSON document into \"%s\"; its columns other than the top ones under \"%s\"\n",
                      op->doc_column, op->doc_nest);
        sql_upsert(b, op);
        sb_printf(b, "\n");
        return 1;
    default: return 0;
    }
}

/*
 * The statements apply would run on a database without the migration's tables (for drops and
 * renames: with the columns in place), one per line, with "--" comment lines for what SQLite
 * skips and for each load's row count; a load's statement shows ? for each row's values.
 * Never NULL; the caller frees it.
 */
char *migrate_sqlite_plan(const struct migration *m)
{
    struct sbuf b = {0};

    sb_printf(&b, "-- migration %04d (%s) %s\n", m->version, m->name != NULL ? m->name : "", m->checksum);
    for (size_t i = 0; i < m->nops; i++) {
        const struct migrate_op *op = &m->ops[i];
        if (op->kind == MIGRATE_CREATE_SCHEMA) {
            sb_printf(&b, "-- schema \"%s\": nothing to create in sqlite\n", op->schema);
            continue;
        }
        if (!in_sqlite(op->store)) {
            sb_printf(&b, "-- skipped (store: harper): %s \"%s\"\n", op_verb(op->kind), op->table);
            continue;
        }
        if (plan_new_op(&b, m, op))
            continue;
        if (op->kind == MIGRATE_CREATE_TABLE) {
            sql_create_table(&b, op);
            sb_printf(&b, "\n");
        }
        for (size_t j = 0; j < op->nattrs; j++) {
            const struct migrate_attr *a = &op->attrs[j];
            if (!in_sqlite(a->store))
                continue;
            if (op->kind == MIGRATE_ADD_ATTRIBUTES) {
                sql_add_column(&b, op->table, a);
                sb_printf(&b, "\n");
            }
        }
        for (size_t j = 0; j < op->nattrs; j++) {
            const struct migrate_attr *a = &op->attrs[j];
            if (in_sqlite(a->store) && a->index) {
                sql_create_index(&b, op->table, a->name, a->index == INDEX_UNIQUE);
                sb_printf(&b, "\n");
            }
        }
    }
    return b.p;
}

/* ------------------------------------------------------------------------- */
/* SQLite.                                                                   */

static const char tracking_sql[] = "CREATE TABLE IF NOT EXISTS schema_migrations ("
                                   "version INTEGER PRIMARY KEY, name TEXT NOT NULL, checksum TEXT NOT NULL, "
                                   "applied_at TEXT NOT NULL, duration_ms INTEGER NOT NULL, "
                                   "tool_version TEXT NOT NULL)";

static int ensure_tracking(sqlite3 *db, struct err *e)
{
    char *msg = NULL;
    if (sqlite3_exec(db, tracking_sql, NULL, NULL, &msg) != SQLITE_OK) {
        int rc = err_set(e, ERR_IO, "cannot create schema_migrations: %s", msg != NULL ? msg : sqlite3_errmsg(db));
        sqlite3_free(msg);
        return rc;
    }
    return 0;
}

/* Give the connection a busy timeout when it has none, so concurrent applies wait for each other. */
static void ensure_busy_timeout(sqlite3 *db)
{
    sqlite3_stmt *st = NULL;
    int ms = -1;
    if (sqlite3_prepare_v2(db, "PRAGMA busy_timeout", -1, &st, NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
        ms = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    if (ms == 0)
        sqlite3_busy_timeout(db, DEFAULT_BUSY_MS);
}

/* Run one SELECT with up to two text parameters; *n receives column 0 of the first row (0 without one). */
static int query_count(sqlite3 *db, const char *sql, const char *a, const char *b, long long *n)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
    *n = 0;
    if (rc == SQLITE_OK && a != NULL)
        rc = sqlite3_bind_text(st, 1, a, -1, SQLITE_STATIC);
    if (rc == SQLITE_OK && b != NULL)
        rc = sqlite3_bind_text(st, 2, b, -1, SQLITE_STATIC);
    if (rc == SQLITE_OK) {
        rc = sqlite3_step(st);
        if (rc == SQLITE_ROW)
            *n = sqlite3_column_int64(st, 0);
        rc = rc == SQLITE_ROW || rc == SQLITE_DONE ? SQLITE_OK : rc;
    }
    sqlite3_finalize(st);
    return rc;
}

static int sql_fail(sqlite3 *db, const struct migration *m, const struct migrate_op *op, const char *what,
                    struct err *e)
{
    return err_set(e, ERR_IO, "%s:%d: sqlite: %s (%s)", m->path, op->line, sqlite3_errmsg(db), what);
}

static int exec_sql(sqlite3 *db, const struct migration *m, const struct migrate_op *op, const char *sql, struct err *e)
{
    char *msg = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) {
        int rc = err_set(e, ERR_IO, "%s:%d: sqlite: %s (in %s)", m->path, op->line,
                         msg != NULL ? msg : sqlite3_errmsg(db), sql);
        sqlite3_free(msg);
        return rc;
    }
    return 0;
}

static int table_exists(sqlite3 *db, const struct migration *m, const struct migrate_op *op, int *exists, struct err *e)
{
    long long n;
    if (query_count(db, "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?1 COLLATE NOCASE",
                    op->table, NULL, &n) != SQLITE_OK)
        return sql_fail(db, m, op, "looking up the table", e);
    *exists = n > 0;
    return 0;
}

static int column_exists(sqlite3 *db, const struct migration *m, const struct migrate_op *op, const char *column,
                         int *exists, struct err *e)
{
    long long n;
    if (query_count(db, "SELECT count(*) FROM pragma_table_info(?1) WHERE name = ?2 COLLATE NOCASE", op->table, column,
                    &n) != SQLITE_OK)
        return sql_fail(db, m, op, "looking up the columns", e);
    *exists = n > 0;
    return 0;
}

/* CREATE [UNIQUE] INDEX "t_c_idx", refusing when that name already indexes another table. */
static int apply_index(sqlite3 *db, const struct migration *m, const struct migrate_op *op, const char *column,
                       int unique, struct sbuf *sql, struct err *e)
{
    char name[2 * MAX_IDENT + 8];
    long long other;

    snprintf(name, sizeof(name), "%s_%s_idx", op->table, column);
    if (query_count(db,
                    "SELECT count(*) FROM sqlite_master WHERE type = 'index' AND name = ?1 COLLATE NOCASE "
                    "AND tbl_name <> ?2 COLLATE NOCASE",
                    name, op->table, &other) != SQLITE_OK)
        return sql_fail(db, m, op, "looking up indexes", e);
    if (other > 0)
        return err_set(e, ERR_INVALID, "%s:%d: index \"%s\" for \"%s\".\"%s\" already exists on another table", m->path,
                       op->line, name, op->table, column);
    sb_reset(sql);
    sql_create_index(sql, op->table, column, unique);
    return exec_sql(db, m, op, sql->p, e);
}

/* The pk flag of table.column (0 when it is not part of the primary key or is missing). */
static int column_pk(sqlite3 *db, const struct migration *m, const struct migrate_op *op, const char *column, int *pk,
                     struct err *e)
{
    long long n;
    if (query_count(db, "SELECT pk FROM pragma_table_info(?1) WHERE name = ?2 COLLATE NOCASE", op->table, column, &n) !=
        SQLITE_OK)
        return sql_fail(db, m, op, "looking up the columns", e);
    *pk = n > 0;
    return 0;
}

/* Whether index "table_column_idx" (ours) exists on op's table: 0 no, 1 yes, INDEX_UNIQUE when it is unique. */
static int own_index_exists(sqlite3 *db, const struct migration *m, const struct migrate_op *op, const char *column,
                            int *exists, struct err *e)
{
    char name[2 * MAX_IDENT + 8];
    long long n;
    snprintf(name, sizeof(name), "%s_%s_idx", op->table, column);
    if (query_count(db,
                    "SELECT CASE WHEN count(*) = 0 THEN 0 WHEN max(sql LIKE 'CREATE UNIQUE %') THEN 2 ELSE 1 END "
                    "FROM sqlite_master WHERE type = 'index' AND name = ?1 COLLATE NOCASE "
                    "AND tbl_name = ?2 COLLATE NOCASE",
                    name, op->table, &n) != SQLITE_OK)
        return sql_fail(db, m, op, "looking up indexes", e);
    *exists = (int)n;
    return 0;
}

/* Drop each named column that is still there, its own index first; the primary key is refused. */
static int apply_drop_attributes(sqlite3 *db, const struct migration *m, const struct migrate_op *op, struct sbuf *sql,
                                 struct err *e)
{
    for (size_t i = 0; i < op->nattrs; i++) {
        const char *column = op->attrs[i].name;
        int has = 0, pk = 0, indexed = 0, rc;
        if (!in_sqlite(op->attrs[i].store))
            continue;
        rc = column_exists(db, m, op, column, &has, e);
        if (rc == 0 && has)
            rc = column_pk(db, m, op, column, &pk, e);
        if (rc != 0)
            return rc;
        if (!has)
            continue; /* dropped already */
        if (pk)
            return err_set(e, ERR_INVALID,
                           "%s:%d: drop_attributes: \"%s\" is the primary key of table \"%s\" and cannot be dropped "
                           "(drop the table instead)",
                           m->path, op->line, column, op->table);
        rc = own_index_exists(db, m, op, column, &indexed, e);
        if (rc == 0 && indexed) {
            sb_reset(sql);
            sql_drop_index(sql, op->table, column);
            rc = exec_sql(db, m, op, sql->p, e);
        }
        if (rc == 0) {
            sb_reset(sql);
            sql_drop_column(sql, op->table, column);
            rc = exec_sql(db, m, op, sql->p, e);
        }
        if (rc != 0)
            return rc;
    }
    return 0;
}

/* Rename from -> to unless that happened already; our index follows the column's name. */
static int apply_rename(sqlite3 *db, const struct migration *m, const struct migrate_op *op, struct sbuf *sql,
                        struct err *e)
{
    int from = 0, to = 0, indexed = 0, rc;

    rc = column_exists(db, m, op, op->rename_from, &from, e);
    if (rc == 0)
        rc = column_exists(db, m, op, op->rename_to, &to, e);
    if (rc != 0)
        return rc;
    if (!from && to)
        return 0; /* renamed already */
    if (!from)
        return err_set(e, ERR_INVALID, "%s:%d: rename_attribute: table \"%s\" has no column \"%s\"", m->path, op->line,
                       op->table, op->rename_from);
    if (to)
        return err_set(e, ERR_INVALID, "%s:%d: rename_attribute: table \"%s\" has both \"%s\" and \"%s\"", m->path,
                       op->line, op->table, op->rename_from, op->rename_to);
    rc = own_index_exists(db, m, op, op->rename_from, &indexed, e);
    if (rc == 0 && indexed) {
        sb_reset(sql);
        sql_drop_index(sql, op->table, op->rename_from);
        rc = exec_sql(db, m, op, sql->p, e);
    }
    if (rc == 0) {
        sb_reset(sql);
        sql_rename_column(sql, op);
        rc = exec_sql(db, m, op, sql->p, e);
    }
    if (rc == 0 && indexed)
        rc = apply_index(db, m, op, op->rename_to, indexed == INDEX_UNIQUE, sql, e); /* keeps its uniqueness */
    return rc;
}

/* Bind `v` (a CSV field, NULL when empty) as parameter i, typed as migrate_load_records() types it. */
static int bind_value(sqlite3_stmt *st, int i, const char *v, unsigned char numeric)
{
    long long n;
    double d;
    switch (load_field(v, numeric, &n, &d)) {
    case LOAD_NULL: return sqlite3_bind_null(st, i);
    case LOAD_INTEGER: return sqlite3_bind_int64(st, i, n);
    case LOAD_REAL: return sqlite3_bind_double(st, i, d);
    default: return sqlite3_bind_text(st, i, v, -1, SQLITE_STATIC);
    }
}

/* ERR_INVALID unless `column` (a CSV column or a document's) exists in the load's table. */
static int load_column_present(sqlite3 *db, const struct migration *m, const struct migrate_op *op, const char *column,
                               struct err *e)
{
    int has = 0;
    int rc = column_exists(db, m, op, column, &has, e);
    if (rc != 0 || has)
        return rc;
    return err_set(e, ERR_INVALID,
                   "%s:%d: load: table \"%s\" has no column \"%s\" in sqlite (declare it with init or "
                   "add_attributes before loading %s)",
                   m->path, op->line, op->table, column, load_file_shown(m, op));
}

/*
 * Upsert every row of a load by its id; the table must have "id" as its key and every
 * column the upsert sets (sql_upsert()): the CSV's, or with `document` the top ones and
 * the document's.
 */
static int apply_load(sqlite3 *db, const struct migration *m, const struct migrate_op *op, struct sbuf *sql,
                      struct err *e)
{
    const struct csv_table *t = op->rows;
    sqlite3_stmt *st = NULL;
    struct sbuf ns = {0}, key = {0};
    size_t *cols = NULL;
    unsigned char *numeric = NULL;
    int has = 0, pk = 0, rc;

    rc = column_exists(db, m, op, "id", &has, e);
    if (rc == 0 && has)
        rc = column_pk(db, m, op, "id", &pk, e);
    if (rc != 0)
        return rc;
    if (!has || !pk)
        return err_set(e, ERR_INVALID,
                       "%s:%d: load: table \"%s\" has no primary key \"id\" in sqlite for the rows' ids", m->path,
                       op->line, op->table);
    for (size_t i = 0; i < t->ncols && rc == 0; i++)
        if (load_is_top(op, t->header[i]))
            rc = load_column_present(db, m, op, t->header[i], e);
    if (rc == 0 && op->doc_column != NULL)
        rc = load_column_present(db, m, op, op->doc_column, e);
    if (rc != 0)
        return rc;
    sb_reset(sql);
    sql_upsert(sql, op);
    if (sqlite3_prepare_v2(db, sql->p, -1, &st, NULL) != SQLITE_OK)
        return sql_fail(db, m, op, sql->p, e);
    cols = xcalloc(op->nkey, sizeof(*cols));
    numeric = load_column_types(op);
    load_key_columns(op, cols);
    load_namespace(op, &ns);
    for (size_t r = 0; r < t->nrows && rc == 0; r++) {
        char id[IDS_UUID_LEN + 1];
        char *doc = NULL;
        int brc, at = 2;
        load_row_id(op, cols, r, &ns, &key, id);
        brc = sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
        for (size_t c = 0; c < t->ncols && brc == SQLITE_OK; c++)
            if (load_is_top(op, t->header[c]))
                brc = bind_value(st, at++, t->rows[r][c], numeric[c]);
        if (brc == SQLITE_OK && op->doc_column != NULL) {
            json_t *o = load_row_json(op, numeric, r, id);
            doc = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
            json_decref(o);
            if (doc == NULL) {
                fprintf(stderr, "out of memory building json\n");
                abort();
            }
            brc = sqlite3_bind_text(st, at, doc, -1, SQLITE_TRANSIENT);
        }
        free(doc);
        if (brc == SQLITE_OK && sqlite3_step(st) == SQLITE_DONE) {
            sqlite3_reset(st);
            continue;
        }
        rc = err_set(e, ERR_IO, "%s:%d: sqlite: %s (loading %s:%zu)", m->path, op->line, sqlite3_errmsg(db),
                     load_file_shown(m, op), t->row_lines[r]);
    }
    sqlite3_finalize(st);
    free(numeric);
    free(cols);
    free(ns.p);
    free(key.p);
    return rc;
}

json_t *migrate_loaded_document(sqlite3 *db, const char *table, const char *column, const char *id)
{
    char sql[256];
    sqlite3_stmt *st = NULL;
    json_t *doc = NULL;

    if (db == NULL || table == NULL || column == NULL || id == NULL || !is_ident_text(table, strlen(table)) ||
        !is_ident_text(column, strlen(column)))
        return NULL;
    snprintf(sql, sizeof(sql), "SELECT \"%s\" FROM \"%s\" WHERE \"id\" = ?1", column, table);
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
        sqlite3_finalize(st);
        return NULL; /* no such table or column: nothing was loaded with a document */
    }
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_type(st, 0) == SQLITE_TEXT) {
        const char *text = (const char *)sqlite3_column_text(st, 0);
        doc = json_loadb(text, (size_t)sqlite3_column_bytes(st, 0), 0, NULL);
        if (!json_is_object(doc)) {
            json_decref(doc);
            doc = NULL;
        }
    }
    sqlite3_finalize(st);
    return doc;
}

static int apply_op(sqlite3 *db, const struct migration *m, const struct migrate_op *op, struct err *e)
{
    struct sbuf sql = {0};
    int exists = 0, rc;

    if (op->kind == MIGRATE_CREATE_SCHEMA || !in_sqlite(op->store))
        return 0;
    if (op->kind == MIGRATE_DROP_TABLE) {
        sql_drop_table(&sql, op->table);
        rc = exec_sql(db, m, op, sql.p, e);
        goto out;
    }
    rc = table_exists(db, m, op, &exists, e);
    if (rc != 0)
        goto out;
    if (!exists && op->kind != MIGRATE_CREATE_TABLE) {
        rc = err_set(e, ERR_INVALID,
                     "%s:%d: %s: table \"%s\" does not exist in sqlite (create it in an earlier migration or "
                     "earlier in this file)",
                     m->path, op->line, op_command(op->kind), op->table);
        goto out;
    }
    if (op->kind == MIGRATE_DROP_ATTRIBUTES) {
        rc = apply_drop_attributes(db, m, op, &sql, e);
        goto out;
    }
    if (op->kind == MIGRATE_RENAME_ATTRIBUTE) {
        rc = apply_rename(db, m, op, &sql, e);
        goto out;
    }
    if (op->kind == MIGRATE_LOAD) {
        rc = apply_load(db, m, op, &sql, e);
        goto out;
    }
    if (!exists) {
        sql_create_table(&sql, op);
        rc = exec_sql(db, m, op, sql.p, e);
        if (rc != 0)
            goto out;
    }
    for (size_t i = 0; exists && i < op->nattrs; i++) {
        const struct migrate_attr *a = &op->attrs[i];
        int has = 0;
        if (!in_sqlite(a->store))
            continue;
        rc = column_exists(db, m, op, a->name, &has, e);
        if (rc != 0)
            goto out;
        if (has)
            continue;
        if (op->kind == MIGRATE_INDEXES) {
            rc = err_set(e, ERR_INVALID, "%s:%d: indexes: table \"%s\" has no column \"%s\"", m->path, op->line,
                         op->table, a->name);
            goto out;
        }
        if (op->kind == MIGRATE_CREATE_TABLE && i == 0)
            log_warn("%s:%d: table \"%s\" exists without its key \"%s\"; adding it as a plain column", m->path,
                     op->line, op->table, a->name);
        sb_reset(&sql);
        sql_add_column(&sql, op->table, a);
        rc = exec_sql(db, m, op, sql.p, e);
        if (rc != 0)
            goto out;
    }
    for (size_t i = 0; i < op->nattrs; i++) {
        const struct migrate_attr *a = &op->attrs[i];
        if (!in_sqlite(a->store) || !a->index)
            continue;
        rc = apply_index(db, m, op, a->name, a->index == INDEX_UNIQUE, &sql, e);
        if (rc != 0)
            goto out;
    }
out:
    free(sql.p);
    return rc;
}

/* The recorded checksum of `version` into sum; *found is 0 when it is not recorded. */
static int recorded_checksum(sqlite3 *db, int version, char sum[65], int *found, struct err *e)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(db, "SELECT checksum FROM schema_migrations WHERE version = ?1", -1, &st, NULL);
    *found = 0;
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_int(st, 1, version);
    if (rc == SQLITE_OK) {
        rc = sqlite3_step(st);
        if (rc == SQLITE_ROW) {
            const unsigned char *t = sqlite3_column_text(st, 0);
            snprintf(sum, 65, "%s", t != NULL ? (const char *)t : "");
            *found = 1;
        }
        rc = rc == SQLITE_ROW || rc == SQLITE_DONE ? SQLITE_OK : rc;
    }
    if (rc != SQLITE_OK)
        rc = err_set(e, ERR_IO, "cannot read schema_migrations: %s", sqlite3_errmsg(db));
    sqlite3_finalize(st);
    return rc;
}

static int changed_error(const struct migration *m, const char *applied, struct err *e)
{
    return err_set(e, ERR_CONFLICT,
                   "migration %04d (%s) was changed after it was applied: applied checksum %s, file checksum %s; "
                   "run scripts/migrate repair after review",
                   m->version, m->name, applied, m->checksum);
}

/*
 * Create schema_migrations when missing, then check every recorded row against `set`:
 * ERR_CONFLICT for a changed checksum or a missing file, ERR_IO for SQLite failures.
 */
int migrate_sqlite_status(sqlite3 *db, const struct migration_set *set, size_t *pending, struct err *e)
{
    sqlite3_stmt *st = NULL;
    size_t matched = 0;
    int rc, step;

    *pending = 0;
    rc = ensure_tracking(db, e);
    if (rc != 0)
        return rc;
    if (sqlite3_prepare_v2(db, "SELECT version, name, checksum FROM schema_migrations ORDER BY version", -1, &st,
                           NULL) != SQLITE_OK)
        return err_set(e, ERR_IO, "cannot read schema_migrations: %s", sqlite3_errmsg(db));
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        int version = sqlite3_column_int(st, 0);
        const char *name = (const char *)sqlite3_column_text(st, 1);
        const char *sum = (const char *)sqlite3_column_text(st, 2);
        const struct migration *m = NULL;
        for (size_t i = 0; i < set->n && m == NULL; i++)
            if (set->items[i].version == version)
                m = &set->items[i];
        if (m == NULL) {
            rc = err_set(e, ERR_CONFLICT, "migration %04d (%s) is recorded as applied but has no file", version,
                         name != NULL ? name : "");
            goto out;
        }
        if (sum == NULL || strcmp(sum, m->checksum) != 0) {
            rc = changed_error(m, sum != NULL ? sum : "", e);
            goto out;
        }
        matched++;
    }
    if (step != SQLITE_DONE) {
        rc = err_set(e, ERR_IO, "cannot read schema_migrations: %s", sqlite3_errmsg(db));
        goto out;
    }
    *pending = set->n - matched;
out:
    sqlite3_finalize(st);
    return rc;
}

static void now_rfc3339(char out[96])
{
    struct timespec ts;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    snprintf(out, 96, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
             tm.tm_min, tm.tm_sec, (int)(ts.tv_nsec / 1000000));
}

static long long monotonic_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int record(sqlite3 *db, const struct migration *m, long long duration_ms, struct err *e)
{
    sqlite3_stmt *st = NULL;
    char when[96];
    int rc;

    now_rfc3339(when);
    rc = sqlite3_prepare_v2(db,
                            "INSERT INTO schema_migrations (version, name, checksum, applied_at, duration_ms, "
                            "tool_version) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                            -1, &st, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_int(st, 1, m->version);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_text(st, 2, m->name, -1, SQLITE_STATIC);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_text(st, 3, m->checksum, -1, SQLITE_STATIC);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_text(st, 4, when, -1, SQLITE_STATIC);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_int64(st, 5, duration_ms);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_text(st, 6, TOOL_VERSION, -1, SQLITE_STATIC);
    if (rc == SQLITE_OK)
        rc = sqlite3_step(st) == SQLITE_DONE ? SQLITE_OK : SQLITE_ERROR;
    if (rc != SQLITE_OK)
        rc = err_set(e, ERR_IO, "%s: cannot record migration %04d: %s", m->path, m->version, sqlite3_errmsg(db));
    sqlite3_finalize(st);
    return rc;
}

/* Apply one migration unless recorded; *done is 1 when this call applied it. */
static int apply_one(sqlite3 *db, const struct migration *m, int *done, struct err *e)
{
    char sum[65];
    char *msg = NULL;
    int found, rc;
    long long t0;

    *done = 0;
    rc = recorded_checksum(db, m->version, sum, &found, e);
    if (rc != 0)
        return rc;
    if (found)
        return strcmp(sum, m->checksum) == 0 ? 0 : changed_error(m, sum, e);

    if (sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, &msg) != SQLITE_OK) {
        rc = err_set(e, ERR_IO, "%s: cannot begin a transaction: %s", m->path, msg != NULL ? msg : sqlite3_errmsg(db));
        sqlite3_free(msg);
        return rc;
    }
    /* Another process may have applied it while we waited for the lock. */
    rc = recorded_checksum(db, m->version, sum, &found, e);
    if (rc != 0)
        goto out;
    if (found) {
        if (strcmp(sum, m->checksum) != 0)
            rc = changed_error(m, sum, e);
        else
            log_info("migration %04d (%s) was applied by another process meanwhile", m->version, m->name);
        goto out;
    }
    t0 = monotonic_ms();
    for (size_t i = 0; i < m->nops && rc == 0; i++)
        rc = apply_op(db, m, &m->ops[i], e);
    if (rc == 0)
        rc = record(db, m, monotonic_ms() - t0, e);
    if (rc == 0 && sqlite3_exec(db, "COMMIT", NULL, NULL, &msg) != SQLITE_OK) {
        rc = err_set(e, ERR_IO, "%s: cannot commit: %s", m->path, msg != NULL ? msg : sqlite3_errmsg(db));
        sqlite3_free(msg);
    }
    if (rc == 0) {
        *done = 1;
        log_info("applied migration %04d (%s) in %lld ms", m->version, m->name, monotonic_ms() - t0);
    }
out:
    if (!sqlite3_get_autocommit(db))
        sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
    return rc;
}

/*
 * Check as migrate_sqlite_status() does, then apply each pending migration in one BEGIN
 * IMMEDIATE transaction, re-checking inside it. Stops at the first failure (that file rolled
 * back, earlier ones kept; *applied counts them). Sets a busy timeout of DEFAULT_BUSY_MS on a
 * connection that has none.
 */
int migrate_sqlite_apply(sqlite3 *db, const struct migration_set *set, size_t *applied, struct err *e)
{
    size_t pending, count = 0;
    int rc;

    if (applied != NULL)
        *applied = 0;
    ensure_busy_timeout(db);
    rc = migrate_sqlite_status(db, set, &pending, e);
    for (size_t i = 0; rc == 0 && pending > 0 && i < set->n; i++) {
        int done;
        rc = apply_one(db, &set->items[i], &done, e);
        count += (size_t)done;
    }
    if (applied != NULL)
        *applied = count;
    return rc;
}
