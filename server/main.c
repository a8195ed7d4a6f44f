/*
 * server/main.c - character-server: load and check everything that can fail
 * (configuration, tokens, migrations), open the listening sockets, then hand
 * over to the master loop. Subcommand `token` prints a new API token.
 */
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/ids.h"
#include "rules/rollid.h"
#include "rules/ruleset.h"
#include "server/reference.h"
#include "common/log.h"
#include "common/xmalloc.h"
#include "server/auth.h"
#include "server/config.h"
#include "server/listen.h"
#include "server/master.h"
#include "server/metrics.h"
#include "storage/cache.h"
#include "storage/migrate.h"
#include "storage/outbox.h"
#include "storage/store.h"

extern char **environ;

/*
 * The roll-id key: rolls.key (base64 of 32 bytes) when set, else the 32 bytes
 * in server.data_dir/rolls.key, made (mode 0600) on first start. Instances
 * that share HarperDB must share this key: set rolls.key on each.
 */
static int load_rolls_key(const struct settings *s, unsigned char key[ROLLID_KEY_BYTES], struct err *e)
{
    if (s->rolls_key != NULL) {
        size_t n = 0;
        const char *text = s->rolls_key;
        size_t len = strlen(text);
        while (len > 0 && text[len - 1] == '=')
            len--;
        int ok = sodium_base642bin(key, ROLLID_KEY_BYTES, text, len, NULL, &n, NULL,
                                   sodium_base64_VARIANT_ORIGINAL_NO_PADDING) == 0 ||
                 sodium_base642bin(key, ROLLID_KEY_BYTES, text, len, NULL, &n, NULL,
                                   sodium_base64_VARIANT_URLSAFE_NO_PADDING) == 0;
        if (!ok || n != ROLLID_KEY_BYTES)
            return err_set(e, ERR_INVALID, "rolls.key: expected the base64 of 32 bytes");
        return 0;
    }
    char path[PATH_MAX];
    snprintf(path, sizeof(path), "%s/rolls.key", s->data_dir);
    if (mkdir(s->data_dir, 0750) != 0 && errno != EEXIST)
        return err_set(e, ERR_IO, "cannot create folder \"%s\": %s", s->data_dir, strerror(errno));
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd >= 0) {
        randombytes_buf(key, ROLLID_KEY_BYTES);
        int ok = write(fd, key, ROLLID_KEY_BYTES) == ROLLID_KEY_BYTES && fsync(fd) == 0;
        close(fd);
        if (!ok)
            return err_set(e, ERR_IO, "cannot write \"%s\": %s", path, strerror(errno));
        log_info("made a new roll-id key in %s (set rolls.key to share one between instances)", path);
        return 0;
    }
    fd = open(path, O_RDONLY | O_CLOEXEC);
    ssize_t n = fd >= 0 ? read(fd, key, ROLLID_KEY_BYTES) : -1;
    if (fd >= 0)
        close(fd);
    if (n != ROLLID_KEY_BYTES)
        return err_set(e, ERR_IO, "cannot read the 32-byte roll-id key in \"%s\"", path);
    return 0;
}

/* This instance's id: made once and kept in the database (the last key of the conflict order). */
static int load_instance(const struct settings *s, char out[64], struct err *e)
{
    struct store *st = NULL;
    struct store_options so = {.busy_timeout_ms = s->busy_timeout_ms,
                               .synchronous_full = strcmp(s->synchronous, "full") == 0};
    int rc = store_open(s->database, &so, &st, e);
    if (rc == 0 && outbox_state_get(st, "instance_id", out, 64, e) != 0) {
        char id[IDS_UUID_LEN + 1];
        ids_uuid_v4(id);
        snprintf(out, 64, "%s", id);
        rc = outbox_state_set(st, "instance_id", out, e);
    }
    store_close(st);
    return rc;
}

/* Check (and with --migrate apply) the SQLite migrations before any worker starts. */
static int check_migrations(const struct settings *s, struct err *e)
{
    struct migration_set set = {0};
    struct store *st = NULL;
    int rc = migrate_load_dir(s->migrations_dir, &set, e);
    if (rc != 0)
        goto out;
    struct store_options so = {.busy_timeout_ms = s->busy_timeout_ms, .synchronous_full = strcmp(s->synchronous, "full") == 0};
    if ((rc = store_open(s->database, &so, &st, e)) != 0)
        goto out;
    size_t pending = 0;
    if ((rc = migrate_sqlite_status(store_db(st), &set, &pending, e)) != 0)
        goto out;
    if (pending > 0 && !s->migrate) {
        rc = err_set(e, ERR_PENDING,
                     "database \"%s\" has %zu pending migration(s) from \"%s\": run scripts/migrate up, or start "
                     "with --migrate",
                     s->database, pending, s->migrations_dir);
        goto out;
    }
    if (pending > 0) {
        size_t applied = 0;
        if ((rc = migrate_sqlite_apply(store_db(st), &set, &applied, e)) != 0)
            goto out;
        log_info("applied %zu migration(s) to %s", applied, s->database);
    }
out:
    store_close(st);
    migrate_set_release(&set);
    return rc;
}

int main(int argc, char **argv)
{
    struct settings s;
    struct err e = {0};
    settings_init(&s);
    if (settings_load(&s, argc, argv, environ, &e) != 0) {
        fprintf(stderr, "character-server: %s\n", e.msg);
        fprintf(stderr, "try \"character-server --help\"\n");
        settings_release(&s);
        return 2;
    }
    if (s.show_help) {
        settings_usage(stdout, "character-server");
        settings_release(&s);
        return 0;
    }
    if (s.show_version) {
        printf("character-server %s\n", PACKAGE_VERSION);
        settings_release(&s);
        return 0;
    }
    if (sodium_init() < 0) {
        fprintf(stderr, "character-server: libsodium failed to initialise\n");
        return 1;
    }
    if (optind < argc) {
        int rc = 0;
        if (strcmp(argv[optind], "token") == 0 && optind + 1 == argc) {
            char tok[64];
            auth_token_generate(tok);
            printf("%s\n", tok);
            sodium_memzero(tok, sizeof(tok));
        } else {
            fprintf(stderr, "character-server: unknown command \"%s\" (commands: token)\n", argv[optind]);
            rc = 2;
        }
        settings_release(&s);
        return rc;
    }
    int lvl = log_level_parse(s.log_level);
    log_setup(lvl < 0 ? LOG_INFO : (enum log_level)lvl, "master");
    settings_default_dirs(&s);
    curl_global_init(CURL_GLOBAL_DEFAULT);

    struct auth a;
    struct ruleset *rs = NULL;
    static struct reference reference;
    int rc = auth_init(&a, &s, &e);
    /* The SRD data is loaded and checked here, once, so a bad data file never reaches a worker. */
    if (rc == 0)
        rc = ruleset_load(s.rules_dir, &rs, &e);
    if (rc == 0 && s.check_config) {
        struct migration_set set = {0};
        rc = migrate_load_dir(s.migrations_dir, &set, &e);
        migrate_set_release(&set);
        if (rc == 0) {
            settings_print(&s, stdout);
            printf("# configuration ok: %zu token(s)\n", a.n);
        }
        goto out;
    }
    char instance[64] = "";
    static unsigned char rolls_key[ROLLID_KEY_BYTES];
    if (rc == 0)
        rc = check_migrations(&s, &e);
    if (rc == 0)
        rc = load_instance(&s, instance, &e);
    if (rc == 0)
        rc = load_rolls_key(&s, rolls_key, &e);
    if (rc != 0)
        goto out;

    int fds[CONFIG_MAX_BINDS];
    size_t nfds = 0;
    for (size_t i = 0; i < s.nbinds; i++) {
        int fd = listen_open(s.binds[i], s.reuseport, &e);
        if (fd < 0) {
            rc = fd;
            goto out;
        }
        char where[160];
        listen_describe(fd, where, sizeof(where));
        log_info("listening on %s", where);
        if (s.reuseport && !listen_is_unix(s.binds[i]))
            close(fd); /* checked it can bind; each worker binds its own */
        else
            fds[nfds++] = fd;
    }
    int write_through = s.db_uri != NULL && s.db_uri[0] != '\0';
    log_info("starting %d worker(s), database %s, %s", s.workers, s.database,
             write_through ? "write-through to HarperDB" : "offline mode (SQLite only)");
    struct runtime rt = {.settings = &s,
                         .auth = &a,
                         .fds = fds,
                         .nfds = nfds,
                         .generation = cache_generation_new(),
                         .sync = sync_status_new(),
                         .metrics = metrics_new(s.workers + write_through),
                         .instance = instance,
                         .write_through = write_through,
                         .rolls_key = rolls_key,
                         .ruleset = rs,
                         .reference = &reference};
    reference_build(rs, &reference);
    if (rt.generation == NULL)
        log_warn("no shared memory for the read cache: reads go to SQLite every time");
    if (rt.metrics == NULL)
        log_warn("no shared memory for /metrics: it serves the sync gauges only");
    if (rt.sync == NULL) {
        fprintf(stderr, "character-server: no shared memory for the sync status\n");
        rc = 1;
        goto out;
    }
    rc = master_run(&rt);
    for (size_t i = 0; i < nfds; i++)
        close(fds[i]);
    auth_release(&a);
    curl_global_cleanup();
    settings_release(&s);
    sodium_memzero(rolls_key, sizeof(rolls_key));
    reference_release(&reference);
    ruleset_free(rs);
    return rc;
out:
    if (rc != 0)
        fprintf(stderr, "character-server: %s\n", e.msg);
    ruleset_free(rs);
    auth_release(&a);
    curl_global_cleanup();
    settings_release(&s);
    return rc == 0 ? 0 : rc == ERR_PENDING ? 3 : 2;
}
