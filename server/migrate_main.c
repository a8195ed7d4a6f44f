/*
 * server/migrate_main.c - character-migrate, the first cut of the migration
 * tool: `status`, `plan` and `up` against the SQLite database, taking the
 * server's options (--config, --env-file, --database, --migrations) and
 * environment. The HarperDB half, verify/baseline/repair and --target come
 * with the migration issue.
 */
#include <getopt.h>
#include <limits.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/log.h"
#include "common/xmalloc.h"
#include "server/config.h"
#include "storage/migrate.h"
#include "storage/store.h"

extern char **environ;

static void usage(void)
{
    printf("usage: character-migrate [--config FILE] [--env-file FILE] [--database PATH] [--migrations DIR] "
           "COMMAND\n"
           "commands:\n"
           "  status   list migrations and whether each is applied\n"
           "  plan     print the SQL that `up` would run; change nothing\n"
           "  up       apply every pending migration (each in one transaction)\n");
}

/* Versions applied in `db`, as a bitmap over 1..9999 (1 = applied). */
static void applied_versions(sqlite3 *db, unsigned char *applied)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db, "SELECT version FROM schema_migrations", -1, &st, NULL) != SQLITE_OK)
        return;
    while (sqlite3_step(st) == SQLITE_ROW) {
        int v = sqlite3_column_int(st, 0);
        if (v > 0 && v < 10000)
            applied[v] = 1;
    }
    sqlite3_finalize(st);
}

int main(int argc, char **argv)
{
    struct settings s;
    struct err e = {0};
    settings_init(&s);
    if (settings_load(&s, argc, argv, environ, &e) != 0) {
        fprintf(stderr, "character-migrate: %s\n", e.msg);
        return 2;
    }
    if (s.show_help || optind >= argc) {
        usage();
        settings_release(&s);
        return s.show_help ? 0 : 2;
    }
    const char *cmd = argv[optind];
    if (strcmp(cmd, "status") != 0 && strcmp(cmd, "plan") != 0 && strcmp(cmd, "up") != 0) {
        fprintf(stderr, "character-migrate: unknown command \"%s\"\n", cmd);
        usage();
        settings_release(&s);
        return 2;
    }
    if (sodium_init() < 0)
        return 1;
    log_setup(LOG_INFO, "migrate");
    settings_default_migrations_dir(&s);
    struct migration_set set = {0};
    struct store *db = NULL;
    int rc = migrate_load_dir(s.migrations_dir, &set, &e);
    if (rc == 0) {
        struct store_options so = {.busy_timeout_ms = s.busy_timeout_ms, .synchronous_full = strcmp(s.synchronous, "full") == 0};
        rc = store_open(s.database, &so, &db, &e);
    }
    size_t pending = 0;
    if (rc == 0)
        rc = migrate_sqlite_status(store_db(db), &set, &pending, &e);
    if (rc == 0 && strcmp(cmd, "up") == 0) {
        size_t applied = 0;
        rc = migrate_sqlite_apply(store_db(db), &set, &applied, &e);
        if (rc == 0)
            printf("sqlite %s: applied %zu migration(s); %zu in all\n", s.database, applied, set.n);
    } else if (rc == 0) {
        unsigned char *done = xcalloc(10000, 1);
        applied_versions(store_db(db), done);
        printf("sqlite %s: %zu applied, %zu pending\n", s.database, set.n - pending, pending);
        for (size_t i = 0; i < set.n; i++) {
            const struct migration *m = &set.items[i];
            int is_applied = m->version > 0 && m->version < 10000 && done[m->version];
            if (strcmp(cmd, "status") == 0) {
                printf("  %04d %-32s %-8s %.16s\n", m->version, m->name, is_applied ? "applied" : "pending",
                       m->checksum);
            } else if (!is_applied) {
                char *sql = migrate_sqlite_plan(m);
                printf("-- %04d %s\n%s\n", m->version, m->name, sql);
                free(sql);
            }
        }
        free(done);
    }
    if (rc != 0)
        fprintf(stderr, "character-migrate: %s\n", e.msg);
    store_close(db);
    migrate_set_release(&set);
    settings_release(&s);
    return rc == 0 ? 0 : 1;
}
