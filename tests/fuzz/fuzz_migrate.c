/*
 * tests/fuzz/fuzz_migrate.c - libFuzzer target for the migration loader. Any
 * bytes given to migrate_parse_buffer() must give a migration or an error, never
 * a crash, a leak, undefined behaviour or a read out of bounds. A migration that
 * parses is also planned, its loads turned into JSON records, and applied to a
 * fresh in-memory SQLite database, so those paths see fuzzed input too.
 *
 * The input is parsed as if it were DIR/0001_fuzz.yaml, DIR being a private
 * temporary folder made at start-up (removed at exit) that holds a few small
 * CSV files (items.csv, dup.csv, bad.csv). A `load` in the input therefore reads
 * one of them or fails cleanly: a load's file must be a relative path inside the
 * migration's folder, so nothing else on the machine is read, and nothing is
 * ever written.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>
#include <sqlite3.h>

#include "common/log.h"
#include "storage/migrate.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char dir[] = "/tmp/fuzz_migrate.XXXXXX";
static char path[sizeof(dir) + 32];

static const struct {
    const char *name, *text;
} files[] = {
    {"items.csv",
     "\xef\xbb\xbfname,kind,cost,weight\r\nrope,gear,1,10\r\nlamp,gear,0.5,\r\n\"sword, long\",weapon,15,3"},
    {"dup.csv", "name,kind\nrope,gear\nrope,tool\nrope,gear\n"},
    {"bad.csv", "name,kind\r\nrope\r\n\"lamp,gear\r\n"},
};

static void remove_dir(void)
{
    char p[sizeof(dir) + 32];
    for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
        snprintf(p, sizeof(p), "%s/%s", dir, files[i].name);
        unlink(p);
    }
    rmdir(dir);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    log_setup(LOG_ERROR, "fuzz"); /* the "attibutes" warning would flood the output */
    if (sodium_init() < 0 || mkdtemp(dir) == NULL) {
        perror("fuzz_migrate: setting up");
        abort();
    }
    atexit(remove_dir);
    for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
        char p[sizeof(dir) + 32];
        FILE *f;
        snprintf(p, sizeof(p), "%s/%s", dir, files[i].name);
        f = fopen(p, "wb");
        if (f == NULL || fwrite(files[i].text, 1, strlen(files[i].text), f) != strlen(files[i].text) ||
            fclose(f) != 0) {
            perror(p);
            abort();
        }
    }
    snprintf(path, sizeof(path), "%s/0001_fuzz.yaml", dir);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct migration m;
    struct err e = {0};

    if (migrate_parse_buffer(path, (const char *)data, size, 1, "fuzz", &m, &e) != 0) {
        /* a failed parse leaves nothing behind and says why */
        if (m.ops != NULL || m.nops != 0 || e.code == 0 || memchr(e.msg, '\0', sizeof(e.msg)) == NULL ||
            e.msg[0] == '\0')
            abort();
        return 0;
    }
    free(migrate_sqlite_plan(&m));
    for (size_t i = 0; i < m.nops; i++) {
        json_t *records = migrate_load_records(&m.ops[i]);
        if ((records != NULL) != (m.ops[i].kind == MIGRATE_LOAD))
            abort();
        json_decref(records);
    }
    sqlite3 *db = NULL;
    if (sqlite3_open(":memory:", &db) == SQLITE_OK) {
        struct migration_set set = {&m, 1};
        migrate_sqlite_apply(db, &set, NULL, &e);
    }
    sqlite3_close(db);
    migration_release(&m);
    return 0;
}
