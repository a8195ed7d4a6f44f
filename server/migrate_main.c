/*
 * server/migrate_main.c - character-migrate (scripts/migrate): applies the
 * YAML migrations to SQLite and, when harperdb.uri is configured, to HarperDB,
 * and says exactly what it did. Takes the server's options and environment
 * (--config, --env-file, --database, --migrations, DB_URI, ...) plus its own:
 * a command, --target and, for `up`, --to and --dry-run.
 */
#include <curl/curl.h>
#include <getopt.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "common/xmalloc.h"
#include "server/config.h"
#include "storage/harper.h"
#include "storage/migrate.h"
#include "storage/migrate_harper.h"
#include "storage/migrate_track.h"
#include "storage/store.h"

extern char **environ;

enum { TARGET_SQLITE = 1, TARGET_HARPER = 2 };

struct tool {
    const char *command;
    const char *arg;          /* baseline VERSION */
    int to;                   /* up --to; 9999 when absent */
    int dry_run;
    int targets;              /* TARGET_* bits */
    const char *target_text;  /* --target as given, NULL when absent */
    struct settings s;
    struct migration_set set;
    struct store *db;
    struct harper *h;
    char owner[96];
};

static void usage(FILE *out)
{
    fprintf(out,
            "usage: character-migrate [OPTIONS] COMMAND [ARGS]\n"
            "commands:\n"
            "  status              per store: each migration applied, pending, changed or orphan\n"
            "  plan                the SQL and HarperDB operations `up` would run; nothing changes\n"
            "  up [--to VERSION] [--dry-run]\n"
            "                      apply pending migrations (SQLite: one transaction each)\n"
            "  verify              exit 1 when an applied migration's file changed or is gone\n"
            "  baseline VERSION    record migrations up to VERSION as applied without running them\n"
            "  repair              accept the current checksums of changed files (after review)\n"
            "options:\n"
            "  --target sqlite|harper|all   stores to act on (default: every configured one)\n"
            "  --config FILE, --env-file FILE, --database PATH, --migrations DIR\n"
            "                      as for character-server; HarperDB from harperdb.* / DB_URI, DB_USER,\n"
            "                      DB_PASSWORD\n"
            "exit status: 0 done, 1 refused or failed, 2 usage\n");
}

/* Options of the server that take a value: passed through to settings_load() with it. */
static int server_option_takes_value(const char *arg)
{
    static const char *with_value[] = {"--config", "--env-file", "--bind", "--workers", "--database", "--migrations"};
    for (size_t i = 0; i < sizeof(with_value) / sizeof(with_value[0]); i++)
        if (strcmp(arg, with_value[i]) == 0)
            return 1;
    return 0;
}

static int parse_version(const char *text, int *out)
{
    char *end;
    long v = strtol(text, &end, 10);
    if (*text == '\0' || *end != '\0' || v < 1 || v > 9999)
        return -1;
    *out = (int)v;
    return 0;
}

/* Split argv into the tool's own words and the server's options; 0, or 2 on a usage error. */
static int parse_args(struct tool *t, int argc, char **argv, int *sargc, char **sargv)
{
    const char *positional[3] = {0};
    size_t npos = 0;
    *sargc = 0;
    sargv[(*sargc)++] = argv[0];
    t->to = 9999;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *val = NULL;
        if (strncmp(a, "--target", 8) == 0 || strncmp(a, "--to", 4) == 0) {
            const char *eq = strchr(a, '=');
            size_t nlen = eq != NULL ? (size_t)(eq - a) : strlen(a);
            int is_target = nlen == 8 && strncmp(a, "--target", 8) == 0;
            int is_to = nlen == 4 && strncmp(a, "--to", 4) == 0;
            if (is_target || is_to) {
                if (eq != NULL)
                    val = eq + 1;
                else if (i + 1 < argc)
                    val = argv[++i];
                else {
                    fprintf(stderr, "character-migrate: %s needs a value\n", a);
                    return 2;
                }
                if (is_target) {
                    t->target_text = val;
                } else if (parse_version(val, &t->to) != 0) {
                    fprintf(stderr, "character-migrate: --to: expected a version 1..9999, got \"%s\"\n", val);
                    return 2;
                }
                continue;
            }
        }
        if (strcmp(a, "--dry-run") == 0) {
            t->dry_run = 1;
        } else if (a[0] == '-' && a[1] != '\0') {
            sargv[(*sargc)++] = argv[i];
            if (server_option_takes_value(a) && i + 1 < argc)
                sargv[(*sargc)++] = argv[++i];
        } else if (npos < 3) {
            positional[npos++] = a;
        } else {
            fprintf(stderr, "character-migrate: unexpected argument \"%s\"\n", a);
            return 2;
        }
    }
    sargv[*sargc] = NULL;
    t->command = positional[0];
    t->arg = positional[1];
    if (npos > 2 || (t->arg != NULL && (t->command == NULL || strcmp(t->command, "baseline") != 0))) {
        fprintf(stderr, "character-migrate: unexpected argument \"%s\"\n", positional[npos - 1]);
        return 2;
    }
    return 0;
}

static void print_rows(const struct migrate_row *rows, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        const struct migrate_row *r = &rows[i];
        printf("  %04d %-28s %-8s", r->version, r->name, migrate_state_name(r->state));
        if (r->state == MIGRATE_CHANGED)
            printf(" applied checksum %.16s, file checksum %.16s", r->recorded, r->file);
        else if (r->state == MIGRATE_APPLIED)
            printf(" %s %.16s", r->applied_at, r->recorded);
        else if (r->state == MIGRATE_PENDING)
            printf(" file checksum %.16s", r->file);
        printf("\n");
    }
}

/* Print one store's status; returns 1 when something is changed or orphaned, else 0. */
static int report(const char *store, const char *where, const struct migration_set *set,
                  const struct migrate_record *rec, size_t nrec, int quiet)
{
    struct migrate_row *rows;
    size_t n, counts[4] = {0};
    migrate_compare(set, rec, nrec, &rows, &n);
    for (size_t i = 0; i < n; i++)
        counts[rows[i].state]++;
    if (!quiet || counts[MIGRATE_CHANGED] + counts[MIGRATE_ORPHAN] > 0) {
        printf("%s %s: %zu applied, %zu pending, %zu changed, %zu orphan\n", store, where, counts[MIGRATE_APPLIED],
               counts[MIGRATE_PENDING], counts[MIGRATE_CHANGED], counts[MIGRATE_ORPHAN]);
        print_rows(rows, n);
    }
    free(rows);
    return counts[MIGRATE_CHANGED] + counts[MIGRATE_ORPHAN] > 0;
}

/* status and verify for one store; *bad set when changed/orphan rows exist. */
static int cmd_status(struct tool *t, int target, int quiet, int *bad, struct err *e)
{
    struct migrate_record *rec = NULL;
    size_t n = 0;
    int rc = target == TARGET_SQLITE ? migrate_sqlite_records(store_db(t->db), &rec, &n, e)
                                     : migrate_harper_records(t->h, t->s.migrations_harper_schema, &rec, &n, e);
    if (rc == 0)
        *bad |= report(target == TARGET_SQLITE ? "sqlite" : "harper",
                       target == TARGET_SQLITE ? t->s.database : t->s.db_uri, &t->set, rec, n, quiet);
    free(rec);
    return rc;
}

static int cmd_plan(struct tool *t, int target, struct err *e)
{
    struct migrate_record *rec = NULL;
    size_t n = 0;
    int rc = target == TARGET_SQLITE ? migrate_sqlite_records(store_db(t->db), &rec, &n, e)
                                     : migrate_harper_records(t->h, t->s.migrations_harper_schema, &rec, &n, e);
    if (rc != 0)
        return rc;
    struct migration_set upto = migrate_set_upto(&t->set, t->to);
    struct migrate_row *rows;
    size_t nrows, pending = 0;
    migrate_compare(&upto, rec, n, &rows, &nrows);
    printf("-- %s: plan\n", target == TARGET_SQLITE ? "sqlite" : "harper");
    for (size_t i = 0; i < nrows; i++) {
        if (rows[i].state != MIGRATE_PENDING)
            continue;
        for (size_t k = 0; k < upto.n; k++) {
            const struct migration *m = &upto.items[k];
            if (m->version != rows[i].version)
                continue;
            char *text = target == TARGET_SQLITE ? migrate_sqlite_plan(m) : migrate_harper_plan(m);
            printf("-- %04d %s\n%s", m->version, m->name, text);
            if (text[0] != '\0' && text[strlen(text) - 1] != '\n')
                printf("\n");
            free(text);
            pending++;
        }
    }
    if (pending == 0)
        printf("-- nothing pending\n");
    free(rows);
    free(rec);
    return 0;
}

static int cmd_up(struct tool *t, int target, struct err *e)
{
    struct migration_set upto = migrate_set_upto(&t->set, t->to);
    size_t applied = 0;
    int rc = target == TARGET_SQLITE ? migrate_sqlite_apply(store_db(t->db), &upto, &applied, e)
                                     : migrate_harper_apply(t->h, t->s.migrations_harper_schema, &upto, t->owner, &applied, e);
    if (rc == 0)
        printf("%s %s: applied %zu migration(s)\n", target == TARGET_SQLITE ? "sqlite" : "harper",
               target == TARGET_SQLITE ? t->s.database : t->s.db_uri, applied);
    return rc;
}

static int run_on(struct tool *t, int target, int *bad, struct err *e)
{
    const char *c = t->command;
    if (strcmp(c, "status") == 0)
        return cmd_status(t, target, 0, bad, e);
    if (strcmp(c, "verify") == 0)
        return cmd_status(t, target, 1, bad, e);
    if (strcmp(c, "plan") == 0 || (strcmp(c, "up") == 0 && t->dry_run))
        return cmd_plan(t, target, e);
    if (strcmp(c, "up") == 0)
        return cmd_up(t, target, e);
    size_t count = 0;
    int rc;
    if (strcmp(c, "baseline") == 0) {
        int v = 0;
        if (t->arg == NULL || parse_version(t->arg, &v) != 0)
            return err_set(e, ERR_INVALID, "baseline needs a VERSION 1..9999");
        rc = target == TARGET_SQLITE ? migrate_sqlite_baseline(store_db(t->db), &t->set, v, &count, e)
                                     : migrate_harper_baseline(t->h, t->s.migrations_harper_schema, &t->set, v, &count, e);
        if (rc == 0)
            printf("%s: recorded %zu migration(s) up to %04d as applied\n",
                   target == TARGET_SQLITE ? "sqlite" : "harper", count, v);
        return rc;
    }
    rc = target == TARGET_SQLITE ? migrate_sqlite_repair(store_db(t->db), &t->set, &count, e)
                                 : migrate_harper_repair(t->h, t->s.migrations_harper_schema, &t->set, &count, e);
    if (rc == 0)
        printf("%s: accepted the current checksum of %zu changed migration(s)\n",
               target == TARGET_SQLITE ? "sqlite" : "harper", count);
    return rc;
}

static int known_command(const char *c)
{
    static const char *commands[] = {"status", "plan", "up", "verify", "baseline", "repair"};
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
        if (strcmp(c, commands[i]) == 0)
            return 1;
    return 0;
}

/* Resolve --target against what is configured; 0 or 2 (usage). */
static int choose_targets(struct tool *t)
{
    int harper = t->s.db_uri != NULL && t->s.db_uri[0] != '\0';
    const char *w = t->target_text;
    if (w == NULL || strcmp(w, "all") == 0) {
        t->targets = TARGET_SQLITE | (harper ? TARGET_HARPER : 0);
        return 0;
    }
    if (strcmp(w, "sqlite") == 0) {
        t->targets = TARGET_SQLITE;
        return 0;
    }
    if (strcmp(w, "harper") == 0) {
        if (!harper) {
            fprintf(stderr, "character-migrate: --target harper, but HarperDB is not configured (set DB_URI or "
                            "harperdb.uri)\n");
            return 2;
        }
        t->targets = TARGET_HARPER;
        return 0;
    }
    fprintf(stderr, "character-migrate: --target must be sqlite, harper or all, not \"%s\"\n", w);
    return 2;
}

static int open_stores(struct tool *t, struct err *e)
{
    int rc = 0;
    if (t->targets & TARGET_SQLITE) {
        struct store_options so = {.busy_timeout_ms = t->s.busy_timeout_ms,
                                   .synchronous_full = strcmp(t->s.synchronous, "full") == 0};
        rc = store_open(t->s.database, &so, &t->db, e);
    }
    if (rc == 0 && (t->targets & TARGET_HARPER)) {
        struct harper_options ho = {.uri = t->s.db_uri, .user = t->s.db_user, .password = t->s.db_password};
        rc = harper_open(&ho, &t->h, e);
    }
    return rc;
}

int main(int argc, char **argv)
{
    static struct tool t;
    struct err e = {0};
    char **sargv = xcalloc((size_t)argc + 1, sizeof(char *));
    int sargc = 0;
    int rc = parse_args(&t, argc, argv, &sargc, sargv);
    settings_init(&t.s);
    if (rc == 0 && settings_load(&t.s, sargc, sargv, environ, &e) != 0) {
        fprintf(stderr, "character-migrate: %s\n", e.msg);
        rc = 2;
    }
    if (rc == 0 && (t.s.show_help || t.command == NULL)) {
        usage(t.s.show_help ? stdout : stderr);
        rc = t.s.show_help ? 0 : 2;
        goto out;
    }
    if (rc == 0 && !known_command(t.command)) {
        fprintf(stderr, "character-migrate: unknown command \"%s\"\n", t.command);
        usage(stderr);
        rc = 2;
    }
    if (rc == 0)
        rc = choose_targets(&t);
    if (rc != 0)
        goto out;
    if (sodium_init() < 0) {
        rc = 1;
        goto out;
    }
    curl_global_init(CURL_GLOBAL_DEFAULT);
    log_setup(LOG_INFO, "migrate");
    settings_default_dirs(&t.s);
    char host[64] = "host";
    gethostname(host, sizeof(host) - 1);
    unsigned char nonce[4];
    randombytes_buf(nonce, sizeof(nonce));
    snprintf(t.owner, sizeof(t.owner), "%.60s:%d:%02x%02x%02x%02x", host, (int)getpid(), nonce[0], nonce[1], nonce[2],
             nonce[3]);

    int bad = 0, failed = migrate_load_dir(t.s.migrations_dir, &t.set, &e);
    if (failed == 0)
        failed = open_stores(&t, &e);
    if (failed == 0 && (t.targets & TARGET_SQLITE))
        failed = run_on(&t, TARGET_SQLITE, &bad, &e);
    if (failed == 0 && (t.targets & TARGET_HARPER))
        failed = run_on(&t, TARGET_HARPER, &bad, &e);
    if (failed != 0)
        fprintf(stderr, "character-migrate: %s\n", e.msg);
    else if (bad && strcmp(t.command, "verify") == 0)
        fprintf(stderr, "character-migrate: verify failed: applied migrations differ from their files\n");
    else if (strcmp(t.command, "verify") == 0)
        printf("verify: every applied migration matches its file\n");
    rc = failed != 0 || (bad && strcmp(t.command, "verify") == 0) ? 1 : 0;
    store_close(t.db);
    harper_close(t.h);
    migrate_set_release(&t.set);
    curl_global_cleanup();
out:
    settings_release(&t.s);
    free(sargv);
    return rc;
}
