/*
 * tests/unit/test_config.c - unit tests of server/config.c: defaults, the YAML, .env,
 * environment and flag layers, their precedence, value and entry validation, and
 * that secrets stay out of error messages and settings_print output. Each test runs
 * in a fresh temporary directory (so no stray .env is read) and passes its
 * environment as an explicit array instead of using the real one.
 */
/* cmocka.h needs these first, in this order. */
/* clang-format off */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
/* clang-format on */

#include <dirent.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "rules/build.h"
#include "server/config.h"

#define SECRET "s3cr3tTOKENvalue"

static char start_dir[PATH_MAX];

#define ARGV(...) ((char *[]){"character-server", __VA_ARGS__, NULL})
#define ENVP(...) ((char *[]){__VA_ARGS__, NULL})
static char *argv_none[] = {"character-server", NULL};
static char *env_none[] = {NULL};

/* A fresh temporary directory per test, made the current directory. */
static int setup(void **state)
{
    char *dir = strdup("/tmp/test_config.XXXXXX");
    if (dir == NULL || mkdtemp(dir) == NULL || chdir(dir) != 0)
        return -1;
    *state = dir;
    return 0;
}

static int teardown(void **state)
{
    char *dir = *state;
    char path[PATH_MAX];
    if (chdir(start_dir) != 0)
        return -1;
    DIR *dp = opendir(dir);
    if (dp != NULL) {
        for (struct dirent *de; (de = readdir(dp)) != NULL;) {
            if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
                continue;
            snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
            unlink(path);
        }
        closedir(dp);
    }
    rmdir(dir);
    free(dir);
    return 0;
}

static void write_file(const char *name, const char *text)
{
    FILE *f = fopen(name, "w");
    assert_non_null(f);
    assert_int_equal(fputs(text, f) >= 0, 1);
    assert_int_equal(fclose(f), 0);
}

static int load(struct settings *s, char **argv, char **envp, struct err *e)
{
    int argc = 0;
    while (argv[argc] != NULL)
        argc++;
    memset(e, 0, sizeof(*e));
    return settings_load(s, argc, argv, envp, e);
}

/* Load expecting failure with `code` and a message containing `want`; prints the message otherwise. */
static int fails_with(char **argv, char **envp, int code, const char *want)
{
    struct settings s = {0};
    struct err e;
    int rc = load(&s, argv, envp, &e);
    settings_release(&s);
    if (rc != code || strstr(e.msg, want) == NULL) {
        print_error("rc %d, message \"%s\"; wanted rc %d and \"%s\"\n", rc, e.msg, code, want);
        return 0;
    }
    return 1;
}

/* Load expecting success; prints the error otherwise. */
static int loads(struct settings *s, char **argv, char **envp)
{
    struct err e;
    int rc = load(s, argv, envp, &e);
    if (rc != 0)
        print_error("unexpected error %d: %s\n", rc, e.msg);
    return rc == 0;
}

static char *print_to_string(const struct settings *s)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    assert_non_null(f);
    settings_print(s, f);
    fclose(f);
    return buf;
}

static void test_defaults(void **state)
{
    (void)state;
    struct settings s;
    settings_init(&s);
    assert_int_equal(s.nbinds, 1);
    assert_string_equal(s.binds[0], "127.0.0.1:8000");
    assert_int_equal(s.workers, 0);
    assert_int_equal(s.reuseport, 0);
    assert_int_equal(s.graceful_timeout_ms, 10000);
    assert_int_equal(s.body_limit, 1048576);
    assert_int_equal(s.http2_upgrade, 0);
    assert_string_equal(s.data_dir, "data");
    assert_string_equal(s.database, "data/character.db");
    assert_int_equal(s.busy_timeout_ms, 5000);
    assert_string_equal(s.synchronous, "full");
    assert_null(s.migrations_dir);
    assert_int_equal(s.migrate, 0);
    assert_null(s.api_key);
    assert_int_equal(s.ntokens, 0);
    assert_null(s.tokens_file);
    assert_int_equal(s.public_reference, 0);
    assert_null(s.db_uri);
    assert_null(s.db_user);
    assert_null(s.db_password);
    assert_int_equal(s.write_timeout_ms, 500);
    assert_int_equal(s.pull_interval_ms, 1000);
    assert_string_equal(s.log_level, "info");
    assert_int_equal(s.access_log, 0);

    /* settings_load on an initialised struct starts again from the defaults */
    assert_true(loads(&s, argv_none, env_none));
    assert_int_equal(s.nbinds, 1);
    assert_string_equal(s.database, "data/character.db");
    assert_null(s.env_file); /* no .env in the temp dir */
    assert_null(s.config_file);
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    assert_int_equal(s.workers, cpus < 1 ? 1 : cpus > 256 ? 256 : cpus);
    settings_release(&s);
    assert_null(s.database);
    assert_int_equal(s.nbinds, 0);
}

static void test_yaml_nested(void **state)
{
    (void)state;
    write_file("config.yaml", "server:\n"
                              "  bind:\n"
                              "    - \"0.0.0.0:9000\"\n"
                              "    - unix:/run/character.sock\n"
                              "  workers: 4\n"
                              "  reuseport: yes\n"
                              "  graceful_timeout: 2.5\n"
                              "  body_limit: 64k\n"
                              "database:\n"
                              "  path: /var/lib/character.db\n"
                              "  synchronous: normal\n"
                              "sync.write_timeout: 750\n" /* a dotted key works too */
                              "auth:\n"
                              "  tokens: alice:read:abc123\n" /* a scalar is a one-entry list */
                              "  api_key: ~\n"
                              "log:\n"
                              "  level: debug\n"
                              "  access: on\n"
                              "harperdb:\n");
    struct settings s = {0};
    assert_true(loads(&s, ARGV("--config", "config.yaml"), env_none));
    assert_string_equal(s.config_file, "config.yaml");
    assert_int_equal(s.nbinds, 2);
    assert_string_equal(s.binds[0], "0.0.0.0:9000");
    assert_string_equal(s.binds[1], "unix:/run/character.sock");
    assert_int_equal(s.workers, 4);
    assert_int_equal(s.reuseport, 1);
    assert_int_equal(s.graceful_timeout_ms, 2500);
    assert_int_equal(s.body_limit, 65536);
    assert_string_equal(s.database, "/var/lib/character.db");
    assert_string_equal(s.synchronous, "normal");
    assert_int_equal(s.write_timeout_ms, 750);
    assert_int_equal(s.ntokens, 1);
    assert_string_equal(s.tokens[0], "alice:read:abc123");
    assert_null(s.api_key);
    assert_string_equal(s.log_level, "debug");
    assert_int_equal(s.access_log, 1);
    assert_int_equal(s.pull_interval_ms, 1000); /* untouched keys keep their defaults */
    settings_release(&s);
}

static void test_yaml_unknown_key(void **state)
{
    (void)state;
    write_file("config.yaml", "server:\n  workers: 2\n  wrkers: 4\n");
    assert_true(fails_with(ARGV("--config", "config.yaml"), env_none, ERR_INVALID,
                           "config.yaml:3:3: unknown key \"server.wrkers\""));
    write_file("top.yaml", "# comment\nservr:\n  workers: 2\n");
    assert_true(fails_with(ARGV("--config", "top.yaml"), env_none, ERR_INVALID, "top.yaml:2:1: unknown key \"servr\""));
    write_file("dup.yaml", "server:\n  workers: 2\nserver.workers: 3\n");
    assert_true(fails_with(ARGV("--config", "dup.yaml"), env_none, ERR_INVALID,
                           "dup.yaml:3:1: duplicate key \"server.workers\""));
}

static void test_yaml_syntax_error(void **state)
{
    (void)state;
    write_file("tab.yaml", "server:\n  workers: 2\n\tbind: x\n");
    assert_true(fails_with(ARGV("--config", "tab.yaml"), env_none, ERR_INVALID,
                           "tab.yaml:3:1: found a tab character that violates indentation"));
    write_file("quote.yaml", "log:\n  level: \"debug\n");
    assert_true(fails_with(ARGV("--config", "quote.yaml"), env_none, ERR_INVALID, "quote.yaml:3:1: "));
    write_file("two.yaml", "log:\n  level: info\n---\nlog:\n  level: warn\n");
    assert_true(fails_with(ARGV("--config", "two.yaml"), env_none, ERR_INVALID, "two.yaml:4:1: expected one"));
}

static void test_yaml_shapes(void **state)
{
    (void)state;
    write_file("a.yaml", "server: 4\n");
    assert_true(
        fails_with(ARGV("--config", "a.yaml"), env_none, ERR_INVALID, "a.yaml:1:9: \"server\" must be a mapping"));
    write_file("b.yaml", "- server\n");
    assert_true(fails_with(ARGV("--config", "b.yaml"), env_none, ERR_INVALID, "b.yaml:1:1: expected a mapping"));
    write_file("c.yaml", "server:\n  workers: [1, 2]\n");
    assert_true(fails_with(ARGV("--config", "c.yaml"), env_none, ERR_INVALID,
                           "c.yaml:2:12: server.workers: expected a single value, not a list"));
    write_file("d.yaml", "server:\n  bind:\n    - 127.0.0.1:1\n    - {a: 1}\n");
    assert_true(
        fails_with(ARGV("--config", "d.yaml"), env_none, ERR_INVALID, "d.yaml:4:7: server.bind: expected a value"));
    /* empty and comment-only files are fine */
    write_file("e.yaml", "# nothing\n");
    struct settings s = {0};
    assert_true(loads(&s, ARGV("--config", "e.yaml"), env_none));
    assert_string_equal(s.binds[0], "127.0.0.1:8000");
    settings_release(&s);
}

static void test_yaml_file_errors(void **state)
{
    (void)state;
    assert_true(fails_with(ARGV("--config", "missing.yaml"), env_none, ERR_IO, "\"missing.yaml\""));
    FILE *f = fopen("big.yaml", "w");
    assert_non_null(f);
    for (int i = 0; i < 1024 * 1024 / 16 + 1; i++)
        fputs("# padding line.\n", f);
    fclose(f);
    assert_true(fails_with(ARGV("--config", "big.yaml"), env_none, ERR_TOO_LARGE, "larger than 1 MiB"));
}

static void test_bad_int(void **state)
{
    (void)state;
    assert_true(fails_with(argv_none, ENVP("CHARACTER_SERVER_WORKERS=abc"), ERR_INVALID,
                           "CHARACTER_SERVER_WORKERS: server.workers: expected an integer 0..256, got \"abc\""));
    assert_true(fails_with(argv_none, ENVP("CHARACTER_SERVER_WORKERS=4 "), ERR_INVALID, "got \"4 \""));
    assert_true(fails_with(argv_none, ENVP("CHARACTER_SERVER_WORKERS= 4"), ERR_INVALID, "expected an integer"));
    assert_true(fails_with(argv_none, ENVP("CHARACTER_SERVER_WORKERS=257"), ERR_INVALID, "expected an integer 0..256"));
    assert_true(fails_with(argv_none, ENVP("CHARACTER_DATABASE_BUSY_TIMEOUT=-1"), ERR_INVALID,
                           "database.busy_timeout: expected milliseconds 0..600000, got \"-1\""));
    assert_true(fails_with(argv_none, ENVP("CHARACTER_SYNC_PULL_INTERVAL=10"), ERR_INVALID, "50..3600000"));
    assert_true(
        fails_with(ARGV("--workers", "x"), env_none, ERR_INVALID, "--workers: expected an integer 0..256, got \"x\""));
    write_file("config.yaml", "server:\n  workers: 4x\n");
    assert_true(fails_with(ARGV("--config", "config.yaml"), env_none, ERR_INVALID,
                           "config.yaml:2:12: server.workers: expected an integer 0..256, got \"4x\""));
}

static void test_bools_and_choices(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        int want;
    } cases[] = {{"true", 1}, {"YES", 1}, {"On", 1}, {"1", 1}, {"false", 0}, {"no", 0}, {"OFF", 0}, {"0", 0}};
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char var[64];
        snprintf(var, sizeof(var), "CHARACTER_LOG_ACCESS=%s", cases[i].text);
        struct settings s = {0};
        assert_true(loads(&s, argv_none, ENVP(var)));
        assert_int_equal(s.access_log, cases[i].want);
        settings_release(&s);
    }
    assert_true(fails_with(argv_none, ENVP("CHARACTER_LOG_ACCESS=maybe"), ERR_INVALID,
                           "log.access: expected true or false, got \"maybe\""));
    assert_true(fails_with(argv_none, ENVP("CHARACTER_DATABASE_SYNCHRONOUS=off"), ERR_INVALID,
                           "database.synchronous: expected full|normal, got \"off\""));
    assert_true(fails_with(argv_none, ENVP("CHARACTER_LOG_LEVEL=verbose"), ERR_INVALID,
                           "log.level: expected debug|info|warn|error"));
    struct settings s = {0};
    assert_true(loads(&s, argv_none, ENVP("CHARACTER_DATABASE_SYNCHRONOUS=NORMAL", "CHARACTER_LOG_LEVEL=Error")));
    assert_string_equal(s.synchronous, "normal");
    assert_string_equal(s.log_level, "error");
    settings_release(&s);
}

static void test_graceful_timeout_fraction(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        int ms;
    } good[] = {{"2.5", 2500}, {"0.125", 125}, {"0", 0}, {"3600", 3600000}, {"1.0005", 1000}, {"10", 10000}};
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        char var[64];
        snprintf(var, sizeof(var), "CHARACTER_SERVER_GRACEFUL_TIMEOUT=%s", good[i].text);
        struct settings s = {0};
        assert_true(loads(&s, argv_none, ENVP(var)));
        assert_int_equal(s.graceful_timeout_ms, good[i].ms);
        settings_release(&s);
    }
    static const char *bad[] = {"3600.5", "1e3", ".5", "2.", "-1", "2s", "", "nan"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char var[64];
        snprintf(var, sizeof(var), "CHARACTER_SERVER_GRACEFUL_TIMEOUT=%s", bad[i]);
        assert_true(fails_with(argv_none, ENVP(var), ERR_INVALID, "server.graceful_timeout: expected seconds 0..3600"));
    }
}

static void test_body_limit_suffixes(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        size_t bytes;
    } good[] = {{"2048", 2048},     {"1024", 1024},      {"64k", 65536},        {"64K", 65536},
                {"64KiB", 65536},   {"2m", 2097152},     {"2M", 2097152},       {"2MiB", 2097152},
                {"1 MiB", 1048576}, {"64MiB", 67108864}, {"67108864", 67108864}};
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        char var[64];
        snprintf(var, sizeof(var), "CHARACTER_SERVER_BODY_LIMIT=%s", good[i].text);
        struct settings s = {0};
        assert_true(loads(&s, argv_none, ENVP(var)));
        assert_int_equal(s.body_limit, good[i].bytes);
        settings_release(&s);
    }
    static const char *bad[] = {"1023", "65m",  "67108865", "10x", "k",
                                "-1k",  "1.5m", "1g",       "",    "99999999999999999999k"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char var[64];
        snprintf(var, sizeof(var), "CHARACTER_SERVER_BODY_LIMIT=%s", bad[i]);
        assert_true(fails_with(argv_none, ENVP(var), ERR_INVALID, "server.body_limit: expected a size 1024..67108864"));
    }
}

static void test_dotenv_parsing(void **state)
{
    (void)state;
    write_file(".env", "# a comment\n"
                       "\n"
                       "export CHARACTER_SERVER_WORKERS=3\n"
                       "  CHARACTER_DATABASE_PATH = \"db/a \\\"q\\\" b\\\\c\\nd.db\"  # after quotes\n"
                       "CHARACTER_SERVER_DATA_DIR='single # not a comment \\n'\n"
                       "CHARACTER_LOG_LEVEL=warn # inline comment\n"
                       "CHARACTER_HARPERDB_USER=   admin   \n"
                       "CHARACTER_HARPERDB_URI=http://h:9925/#frag\r\n"
                       "PATH=/ignored\n"
                       "FOO=bar\n"
                       "CHARACTER_AUTH_TOKENS= a1 , , b2 ,\n"
                       "CHARACTER_MIGRATIONS_DIR=\n"
                       "CHARACTER_LOG_ACCESS=off\n"
                       "CHARACTER_LOG_ACCESS=on\n");
    struct settings s = {0};
    assert_true(loads(&s, argv_none, env_none));
    assert_string_equal(s.env_file, ".env");
    assert_int_equal(s.workers, 3);
    assert_string_equal(s.database, "db/a \"q\" b\\c\nd.db");
    assert_string_equal(s.data_dir, "single # not a comment \\n");
    assert_string_equal(s.log_level, "warn");
    assert_string_equal(s.db_user, "admin");
    assert_string_equal(s.db_uri, "http://h:9925/#frag");
    assert_int_equal(s.ntokens, 2);
    assert_string_equal(s.tokens[0], "a1");
    assert_string_equal(s.tokens[1], "b2");
    assert_null(s.migrations_dir);
    assert_int_equal(s.access_log, 1); /* the last line wins */
    settings_release(&s);

    /* --env-file names another file, and then ./.env is not read */
    write_file("other.env", "CHARACTER_SERVER_WORKERS=7\n");
    assert_true(loads(&s, ARGV("--env-file", "other.env"), env_none));
    assert_int_equal(s.workers, 7);
    assert_string_equal(s.env_file, "other.env");
    assert_string_equal(s.log_level, "info");
    settings_release(&s);
}

static void test_dotenv_errors(void **state)
{
    (void)state;
    write_file(".env", "CHARACTER_SERVER_WORKERS=2\nJUST_A_NAME\n");
    assert_true(fails_with(argv_none, env_none, ERR_INVALID, ".env:2: expected NAME=VALUE"));
    write_file(".env", "CHARACTER_LOG_LEVEL=\"debug\n");
    assert_true(fails_with(argv_none, env_none, ERR_INVALID, ".env:1: missing closing quote"));
    write_file(".env", "CHARACTER_LOG_LEVEL='debug' trailing\n");
    assert_true(fails_with(argv_none, env_none, ERR_INVALID, ".env:1: unexpected text after the closing quote"));
    write_file(".env", "# ok\nBAD-NAME=1\n");
    assert_true(fails_with(argv_none, env_none, ERR_INVALID, ".env:2: expected NAME=VALUE"));
    write_file(".env", "FOO=1\nCHARACTER_SERVER_WRKERS=2\n");
    assert_true(fails_with(argv_none, env_none, ERR_INVALID, ".env:2: unknown variable \"CHARACTER_SERVER_WRKERS\""));
    write_file(".env", "\n\nCHARACTER_SERVER_WORKERS=many\n");
    assert_true(fails_with(argv_none, env_none, ERR_INVALID,
                           ".env:3: CHARACTER_SERVER_WORKERS: server.workers: expected an integer 0..256"));
    assert_true(fails_with(ARGV("--env-file", "nope.env"), env_none, ERR_IO, "\"nope.env\""));
}

static void test_precedence(void **state)
{
    (void)state;
    struct settings s = {0};
    write_file("config.yaml", "server:\n  workers: 2\n  bind: [\"127.0.0.1:1\", \"127.0.0.1:2\"]\n"
                              "log:\n  level: debug\n");
    /* YAML beats the defaults */
    assert_true(loads(&s, ARGV("--config", "config.yaml"), env_none));
    assert_int_equal(s.workers, 2);
    assert_int_equal(s.nbinds, 2);
    assert_string_equal(s.log_level, "debug");
    /* .env beats YAML, and a list from a higher layer replaces the lower one whole */
    write_file(".env", "CHARACTER_SERVER_WORKERS=3\nCHARACTER_SERVER_BIND=127.0.0.1:3\n");
    assert_true(loads(&s, ARGV("--config", "config.yaml"), env_none));
    assert_int_equal(s.workers, 3);
    assert_int_equal(s.nbinds, 1);
    assert_string_equal(s.binds[0], "127.0.0.1:3");
    assert_string_equal(s.log_level, "debug");
    /* the environment beats .env */
    assert_true(
        loads(&s, ARGV("--config", "config.yaml"), ENVP("CHARACTER_SERVER_WORKERS=4", "CHARACTER_LOG_LEVEL=warn")));
    assert_int_equal(s.workers, 4);
    assert_string_equal(s.binds[0], "127.0.0.1:3");
    assert_string_equal(s.log_level, "warn");
    /* flags beat the environment */
    assert_true(loads(&s, ARGV("--config", "config.yaml", "--workers", "5", "--bind", "127.0.0.1:5"),
                      ENVP("CHARACTER_SERVER_WORKERS=4", "CHARACTER_SERVER_BIND=127.0.0.1:4")));
    assert_int_equal(s.workers, 5);
    assert_int_equal(s.nbinds, 1);
    assert_string_equal(s.binds[0], "127.0.0.1:5");
    assert_string_equal(s.log_level, "debug");
    settings_release(&s);
}

static void test_legacy_names(void **state)
{
    (void)state;
    struct settings s = {0};
    assert_true(loads(&s, argv_none,
                      ENVP("API_KEY=legacykey", "API_TOKENS= t1, ,bob:write:t2 ,", "DB_URI=http://hdb:9925",
                           "DB_USER=HDB_ADMIN", "DB_PASSWORD=pw")));
    assert_string_equal(s.api_key, "legacykey");
    assert_int_equal(s.ntokens, 2);
    assert_string_equal(s.tokens[0], "t1");
    assert_string_equal(s.tokens[1], "bob:write:t2");
    assert_string_equal(s.db_uri, "http://hdb:9925");
    assert_string_equal(s.db_user, "HDB_ADMIN");
    assert_string_equal(s.db_password, "pw");
    settings_release(&s);

    /* the same names work in .env */
    write_file(".env", "API_KEY=fromdotenv\nDB_URI='http://x:1'\n");
    assert_true(loads(&s, argv_none, env_none));
    assert_string_equal(s.api_key, "fromdotenv");
    assert_string_equal(s.db_uri, "http://x:1");
    settings_release(&s);
}

static void test_character_beats_legacy(void **state)
{
    (void)state;
    struct settings s = {0};
    assert_true(
        loads(&s, argv_none,
              ENVP("CHARACTER_AUTH_API_KEY=newkey", "API_KEY=oldkey", "API_TOKENS=old1",
                   "CHARACTER_AUTH_TOKENS=new1,new2", "DB_URI=http://old", "CHARACTER_HARPERDB_URI=http://new")));
    assert_string_equal(s.api_key, "newkey");
    assert_int_equal(s.ntokens, 2);
    assert_string_equal(s.tokens[0], "new1");
    assert_string_equal(s.db_uri, "http://new");
    settings_release(&s);

    write_file(".env", "CHARACTER_AUTH_API_KEY=newkey\nAPI_KEY=oldkey\n");
    assert_true(loads(&s, argv_none, env_none));
    assert_string_equal(s.api_key, "newkey");
    settings_release(&s);
}

static void test_unknown_environment_warns(void **state)
{
    (void)state;
    struct settings s = {0};
    assert_true(loads(&s, argv_none, ENVP("CHARACTER_SERVER_WRKERS=4", "PATH=/bin", "CHARACTER_SERVER_WORKERS=3")));
    assert_int_equal(s.workers, 3);
    settings_release(&s);
}

static void test_bind_validation(void **state)
{
    (void)state;
    static const char *good[] = {"127.0.0.1:80", "localhost:8000", "*:8000",           ":8000",        "[::1]:8000",
                                 "[::]:443",     "0.0.0.0:65535",  "unix:/tmp/x.sock", "./run/x.sock", "/run/a.sock"};
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        struct settings s = {0};
        assert_true(loads(&s, ARGV("--bind", (char *)good[i]), env_none));
        assert_int_equal(s.nbinds, 1);
        assert_string_equal(s.binds[0], good[i]);
        settings_release(&s);
    }
    static const char *bad[] = {"127.0.0.1", "127.0.0.1:0", "127.0.0.1:65536", "example.com:80",
                                "::1:80",    "[::1:80",     "[nothost]:80",    "1.2.3.4:8x",
                                "unix:",     "1.2.3.4:+80", "300.1.1.1:80",    "localhost:-1"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_true(fails_with(ARGV("--bind", (char *)bad[i]), env_none, ERR_INVALID, "--bind: entry 1: "));
    char longpath[200] = "unix:/";
    memset(longpath + 6, 'a', 150);
    longpath[156] = '\0';
    assert_true(fails_with(ARGV("--bind", longpath), env_none, ERR_INVALID, "is longer than 107 bytes"));
    assert_true(fails_with(argv_none, ENVP("CHARACTER_SERVER_BIND=127.0.0.1:1,nope"), ERR_INVALID,
                           "CHARACTER_SERVER_BIND: server.bind: entry 2: expected HOST:PORT or a unix socket path, got "
                           "\"nope\""));
    write_file("config.yaml", "server:\n  bind: []\n");
    assert_true(
        fails_with(ARGV("--config", "config.yaml"), env_none, ERR_INVALID, "server.bind: expected at least 1 entry"));
    assert_true(fails_with(argv_none, ENVP("CHARACTER_SERVER_BIND= , "), ERR_INVALID,
                           "server.bind: expected at least 1 entry"));
}

static void test_token_validation(void **state)
{
    (void)state;
    static const struct {
        const char *entry;
        const char *want;
    } bad[] = {
        {"alice:admin:" SECRET, "scope must be"},
        {"alice:read:", "empty token"},
        {":read:" SECRET, "empty name"},
        {"a:read:b:" SECRET, "expected a bare token or NAME:SCOPE:TOKEN"},
        {"alice:" SECRET, "expected a bare token"},
        {"x" SECRET "\tx", "space or control"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char var[256];
        snprintf(var, sizeof(var), "CHARACTER_AUTH_TOKENS=good1,bob:write:good2,%s", bad[i].entry);
        struct settings s = {0};
        struct err e;
        assert_int_equal(load(&s, argv_none, ENVP(var), &e), ERR_INVALID);
        settings_release(&s);
        if (strstr(e.msg, "CHARACTER_AUTH_TOKENS: auth.tokens: entry 3: ") == NULL ||
            strstr(e.msg, bad[i].want) == NULL)
            fail_msg("case %zu: unexpected message \"%s\"", i, e.msg);
        assert_null(strstr(e.msg, SECRET));
        assert_null(strstr(e.msg, "alice"));
    }
    /* the same through YAML, with the position of the entry */
    write_file("config.yaml", "auth:\n  tokens:\n    - ok\n    - \"bob:root:" SECRET "\"\n");
    struct settings s = {0};
    struct err e;
    assert_int_equal(load(&s, ARGV("--config", "config.yaml"), env_none, &e), ERR_INVALID);
    settings_release(&s);
    assert_non_null(strstr(e.msg, "config.yaml:4:7: auth.tokens: entry 2: scope must be"));
    assert_null(strstr(e.msg, SECRET));

    /* longer than 1024 bytes */
    char *var = malloc(2100);
    assert_non_null(var);
    strcpy(var, "API_TOKENS=name:read:");
    memset(var + strlen(var), 'z', 1025);
    var[21 + 1025] = '\0';
    assert_int_equal(load(&s, argv_none, ENVP(var), &e), ERR_INVALID);
    settings_release(&s);
    assert_non_null(strstr(e.msg, "API_TOKENS: auth.tokens: entry 1: token is longer than 1024 bytes"));
    assert_null(strstr(e.msg, "zzzz"));
    strcpy(var, "API_KEY=");
    memset(var + 8, 'z', 1025);
    var[8 + 1025] = '\0';
    assert_int_equal(load(&s, argv_none, ENVP(var), &e), ERR_INVALID);
    settings_release(&s);
    assert_non_null(strstr(e.msg, "API_KEY: auth.api_key: value is longer than 1024 bytes"));
    assert_null(strstr(e.msg, "zzzz"));
    var[8 + 1024] = '\0';
    assert_true(loads(&s, argv_none, ENVP(var)));
    assert_int_equal(strlen(s.api_key), 1024);
    settings_release(&s);
    free(var);

    /* at most CONFIG_MAX_TOKENS entries */
    size_t size = 32 + (CONFIG_MAX_TOKENS + 1) * 8;
    var = malloc(size);
    assert_non_null(var);
    size_t n = (size_t)snprintf(var, size, "API_TOKENS=");
    for (int i = 0; i < CONFIG_MAX_TOKENS; i++)
        n += (size_t)snprintf(var + n, size - n, "t%d,", i);
    assert_true(loads(&s, argv_none, ENVP(var)));
    assert_int_equal(s.ntokens, CONFIG_MAX_TOKENS);
    settings_release(&s);
    snprintf(var + n, size - n, "one-more");
    assert_true(fails_with(argv_none, ENVP(var), ERR_INVALID, "auth.tokens: more than 256 entries"));
    free(var);
}

static void test_bind_repeat(void **state)
{
    (void)state;
    write_file("config.yaml", "server:\n  bind:\n    - 10.0.0.1:1\n    - 10.0.0.2:2\n");
    struct settings s = {0};
    assert_true(loads(
        &s, ARGV("--config", "config.yaml", "--bind", "127.0.0.1:7", "--bind=[::1]:8", "--bind", "unix:/tmp/c.sock"),
        env_none));
    assert_int_equal(s.nbinds, 3);
    assert_string_equal(s.binds[0], "127.0.0.1:7");
    assert_string_equal(s.binds[1], "[::1]:8");
    assert_string_equal(s.binds[2], "unix:/tmp/c.sock");
    settings_release(&s);

    char *argv[2 + 2 * (CONFIG_MAX_BINDS + 1)];
    char ports[CONFIG_MAX_BINDS + 1][32];
    int argc = 0;
    argv[argc++] = "character-server";
    for (int i = 0; i < CONFIG_MAX_BINDS + 1; i++) {
        snprintf(ports[i], sizeof(ports[i]), "127.0.0.1:%d", 9000 + i);
        argv[argc++] = "--bind";
        argv[argc++] = ports[i];
    }
    argv[argc] = NULL;
    assert_true(fails_with(argv, env_none, ERR_INVALID, "--bind: more than 16 entries"));
    argv[argc - 2] = NULL;
    assert_true(loads(&s, argv, env_none));
    assert_int_equal(s.nbinds, CONFIG_MAX_BINDS);
    settings_release(&s);
}

static void test_optind_subcommand(void **state)
{
    (void)state;
    struct settings s = {0};
    char **argv = ARGV("--workers", "2", "token", "--name", "ci");
    assert_true(loads(&s, argv, env_none));
    assert_int_equal(optind, 3);
    assert_string_equal(argv[optind], "token");
    assert_int_equal(s.workers, 2);
    /* a second call in the same process parses again from the start */
    argv = ARGV("token");
    assert_true(loads(&s, argv, env_none));
    assert_int_equal(optind, 1);
    argv = ARGV("--migrate", "--", "--workers");
    assert_true(loads(&s, argv, env_none));
    assert_int_equal(optind, 3);
    assert_int_equal(s.migrate, 1);
    assert_int_equal(s.workers >= 1, 1);
    assert_true(loads(&s, argv_none, env_none));
    assert_int_equal(optind, 1);
    settings_release(&s);
}

static void test_flags(void **state)
{
    (void)state;
    assert_true(fails_with(ARGV("--nope"), env_none, ERR_INVALID, "unknown option \"--nope\""));
    struct settings s = {0};
    struct err e;
    assert_int_equal(load(&s, ARGV("--api-key=" SECRET), env_none, &e), ERR_INVALID);
    settings_release(&s);
    assert_string_equal(e.msg, "unknown option \"--api-key\"");
    assert_true(fails_with(ARGV("-x"), env_none, ERR_INVALID, "unknown option \"-x\""));
    assert_true(fails_with(ARGV("--workers"), env_none, ERR_INVALID, "--workers needs a value"));
    assert_true(fails_with(ARGV("--config"), env_none, ERR_INVALID, "--config needs a value"));
    assert_true(fails_with(ARGV("--migrate=yes"), env_none, ERR_INVALID, "--migrate takes no value"));

    assert_true(loads(&s, ARGV("--database", "x.db", "--migrations", "mig", "--migrate", "--check-config"), env_none));
    assert_string_equal(s.database, "x.db");
    assert_string_equal(s.migrations_dir, "mig");
    assert_int_equal(s.migrate, 1);
    assert_int_equal(s.check_config, 1);
    assert_int_equal(s.show_help, 0);
    /* --help and --version work even when the config is broken */
    write_file(".env", "this is not valid\n");
    assert_true(loads(&s, ARGV("--config", "missing.yaml", "-h"), env_none));
    assert_int_equal(s.show_help, 1);
    assert_true(loads(&s, ARGV("--version"), ENVP("CHARACTER_SERVER_WORKERS=x")));
    assert_int_equal(s.show_version, 1);
    assert_int_equal(s.show_help, 0);
    settings_release(&s);
}

static void test_print_no_secrets(void **state)
{
    (void)state;
    struct settings s = {0};
    assert_true(loads(&s, ARGV("--workers", "4"),
                      ENVP("API_KEY=" SECRET "1", "API_TOKENS=a:read:" SECRET "2,b:write:" SECRET "3",
                           "DB_PASSWORD=" SECRET "4", "DB_USER=admin", "CHARACTER_SERVER_GRACEFUL_TIMEOUT=2.5")));
    char *out = print_to_string(&s);
    settings_release(&s);
    assert_null(strstr(out, SECRET));
    assert_non_null(strstr(out, "  api_key: (set)\n"));
    assert_non_null(strstr(out, "  tokens: (set)"));
    assert_non_null(strstr(out, "  password: (set)\n"));
    assert_non_null(strstr(out, "  user: \"admin\"\n"));
    assert_non_null(strstr(out, "server:\n  bind:\n    - \"127.0.0.1:8000\"\n  workers: 4\n"));
    assert_non_null(strstr(out, "  graceful_timeout: 2.5\n"));
    free(out);

    /* unset secrets are left out */
    assert_true(loads(&s, argv_none, env_none));
    out = print_to_string(&s);
    settings_release(&s);
    assert_null(strstr(out, "api_key"));
    assert_null(strstr(out, "tokens:"));
    assert_null(strstr(out, "password"));
    free(out);
}

static void test_print_round_trip(void **state)
{
    (void)state;
    struct settings s = {0};
    assert_true(loads(&s, ARGV("--bind", "127.0.0.1:1", "--bind", "[::1]:2", "--database", "a \"b\".db"),
                      ENVP("CHARACTER_SERVER_BODY_LIMIT=64k", "CHARACTER_SERVER_GRACEFUL_TIMEOUT=0.25",
                           "CHARACTER_LOG_LEVEL=error", "CHARACTER_AUTH_PUBLIC_REFERENCE=yes", "DB_URI=http://h:1")));
    char *out = print_to_string(&s);
    settings_release(&s);
    write_file("printed.yaml", out);
    free(out);
    assert_true(loads(&s, ARGV("--config", "printed.yaml"), env_none));
    assert_int_equal(s.nbinds, 2);
    assert_string_equal(s.binds[1], "[::1]:2");
    assert_string_equal(s.database, "a \"b\".db");
    assert_int_equal(s.body_limit, 65536);
    assert_int_equal(s.graceful_timeout_ms, 250);
    assert_string_equal(s.log_level, "error");
    assert_int_equal(s.public_reference, 1);
    assert_string_equal(s.db_uri, "http://h:1");
    assert_null(s.migrations_dir);
    settings_release(&s);
}

/* rules.*: the table policy the rules engine judges builds under. */
static void test_table_policy(void **state)
{
    (void)state;
    const unsigned sa = 1u << BUILD_METHOD_STANDARD_ARRAY, pb = 1u << BUILD_METHOD_POINT_BUY,
                   rolled = 1u << BUILD_METHOD_ROLLED, manual = 1u << BUILD_METHOD_MANUAL;
    struct settings s = {0};
    struct build_policy p;
    /* Defaults: standard array, point buy, rolled; budget 27; either HP method; no manual. */
    assert_true(loads(&s, argv_none, env_none));
    settings_policy(&s, &p);
    assert_int_equal(p.methods, sa | pb | rolled);
    assert_int_equal(p.point_buy_budget, 27);
    assert_int_equal(p.hp_method, BUILD_HP_EITHER);
    assert_int_equal(p.roll_ttl_s, 86400);
    settings_release(&s);

    /* Environment: a comma-separated list, a budget, an HP method, the roll ttl. */
    assert_true(loads(&s, argv_none,
                      ENVP("CHARACTER_RULES_ABILITY_METHODS=point_buy", "CHARACTER_RULES_POINT_BUY_BUDGET=30",
                           "CHARACTER_RULES_HP_METHOD=Average", "CHARACTER_ROLLS_TTL=600")));
    settings_policy(&s, &p);
    assert_int_equal(p.methods, pb);
    assert_int_equal(p.point_buy_budget, 30);
    assert_int_equal(p.hp_method, BUILD_HP_AVERAGE);
    assert_int_equal(p.roll_ttl_s, 600);
    settings_release(&s);

    /* YAML: a list; manual needs rules.manual_scores, which also adds it. */
    write_file("config.yaml", "rules:\n  ability_methods: [standard_array, manual]\n  manual_scores: true\n"
                              "  hp_method: roll\n");
    assert_true(loads(&s, ARGV("--config", "config.yaml"), env_none));
    settings_policy(&s, &p);
    assert_int_equal(p.methods, sa | manual);
    assert_int_equal(p.hp_method, BUILD_HP_ROLL);
    settings_release(&s);
    assert_true(loads(&s, argv_none, ENVP("CHARACTER_RULES_MANUAL_SCORES=true")));
    settings_policy(&s, &p);
    assert_int_equal(p.methods, sa | pb | rolled | manual);
    settings_release(&s);

    /* Refused values. */
    assert_true(fails_with(argv_none, ENVP("CHARACTER_RULES_ABILITY_METHODS=standard_array,manual"), ERR_INVALID,
                           "rules.manual_scores"));
    assert_true(fails_with(argv_none, ENVP("CHARACTER_RULES_ABILITY_METHODS=standard_array,dice"), ERR_INVALID,
                           "rules.ability_methods"));
    assert_true(fails_with(argv_none, ENVP("CHARACTER_RULES_ABILITY_METHODS="), ERR_INVALID,
                           "rules.ability_methods"));
    assert_true(fails_with(argv_none, ENVP("CHARACTER_RULES_POINT_BUY_BUDGET=55"), ERR_INVALID,
                           "rules.point_buy_budget: expected an integer 0..54"));
    assert_true(fails_with(argv_none, ENVP("CHARACTER_RULES_HP_METHOD=max"), ERR_INVALID,
                           "rules.hp_method: expected either|average|roll"));
    write_file("bad.yaml", "rules:\n  manual_scores: sometimes\n");
    assert_true(fails_with(ARGV("--config", "bad.yaml"), env_none, ERR_INVALID, "bad.yaml:2:18: rules.manual_scores"));
}

static void test_usage_lists_every_key(void **state)
{
    (void)state;
    static const char *want[] = {
        "server.bind",
        "CHARACTER_SERVER_BIND",
        "127.0.0.1:8000",
        "server.workers",
        "server.reuseport",
        "server.graceful_timeout",
        "server.body_limit",
        "server.http2_upgrade",
        "server.data_dir",
        "database.path",
        "database.busy_timeout",
        "database.synchronous",
        "migrations.dir",
        "migrations.auto",
        "auth.api_key",
        "API_KEY",
        "auth.tokens",
        "API_TOKENS",
        "auth.tokens_file",
        "auth.public_reference",
        "harperdb.uri",
        "DB_URI",
        "harperdb.user",
        "DB_USER",
        "harperdb.password",
        "DB_PASSWORD",
        "sync.write_timeout",
        "CHARACTER_SYNC_WRITE_TIMEOUT",
        "sync.pull_interval",
        "log.level",
        "log.access",
        "rules.ability_methods",
        "CHARACTER_RULES_ABILITY_METHODS",
        "rules.point_buy_budget",
        "rules.hp_method",
        "rules.manual_scores",
        "--config FILE",
        "--env-file FILE",
        "--bind ADDR",
        "--workers N",
        "--database PATH",
        "--migrations DIR",
        "--migrate",
        "--check-config",
        "--version",
        "--help",
        "usage: prog ",
    };
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    assert_non_null(f);
    settings_usage(f, "prog");
    fclose(f);
    for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
        if (strstr(buf, want[i]) == NULL)
            fail_msg("usage lacks \"%s\"", want[i]);
    free(buf);
}

static void test_sample_fixture(void **state)
{
    (void)state;
    const char *top = getenv("top_srcdir");
#ifdef SRCDIR
    if (top == NULL)
        top = SRCDIR;
#endif
    char path[PATH_MAX + 64];
    snprintf(path, sizeof(path), "%s/tests/fixtures/config/sample.yaml", top ? top : start_dir);
    if (access(path, R_OK) != 0) {
        print_message("fixture %s not found (set top_srcdir)\n", path);
        skip();
    }
    struct settings s = {0};
    assert_true(loads(&s, ARGV("--config", path), env_none));
    assert_int_equal(s.nbinds, 2);
    assert_string_equal(s.binds[1], "[::1]:8080");
    assert_int_equal(s.workers, 2);
    assert_int_equal(s.graceful_timeout_ms, 2500);
    assert_int_equal(s.body_limit, 2 * 1024 * 1024);
    assert_int_equal(s.busy_timeout_ms, 2000);
    assert_string_equal(s.synchronous, "normal");
    assert_int_equal(s.migrate, 1);
    assert_int_equal(s.public_reference, 1);
    assert_string_equal(s.db_uri, "http://127.0.0.1:9925");
    assert_int_equal(s.write_timeout_ms, 250);
    assert_int_equal(s.pull_interval_ms, 2000);
    assert_string_equal(s.log_level, "warn");
    assert_int_equal(s.access_log, 1);
    settings_release(&s);
}

/* settings_apply_text(): one layer from memory, as the file would apply (the fuzz target's entry). */
static void test_apply_text(void **state)
{
    (void)state;
    struct settings s;
    struct err e = {0};
    settings_init(&s);
    static const char yaml[] = "server:\n  workers: 3\nlog.level: debug\nrules:\n  hp_method: roll\nJUNK";
    /* the length is respected: the trailing "JUNK" is not part of the text */
    assert_int_equal(settings_apply_text(&s, SETTINGS_TEXT_YAML, "mem.yaml", yaml, sizeof(yaml) - 5, &e), 0);
    assert_int_equal(s.workers, 3);
    assert_string_equal(s.log_level, "debug");
    assert_string_equal(s.hp_method, "roll");
    /* then a .env layer on top, with the .env syntax (export, quotes, comments, CRLF) */
    static const char env[] = "export CHARACTER_SERVER_WORKERS=5 # five\r\nCHARACTER_LOG_LEVEL='warn'\nX=\"a b\"\n";
    assert_int_equal(settings_apply_text(&s, SETTINGS_TEXT_DOTENV, "mem.env", env, strlen(env), &e), 0);
    assert_int_equal(s.workers, 5);
    assert_string_equal(s.log_level, "warn");
    settings_release(&s);

    /* errors name the text's name, the line and (YAML) the column */
    static const struct {
        enum settings_text_kind kind;
        const char *text, *want;
    } bad[] = {
        {SETTINGS_TEXT_YAML, "server:\n  wrkers: 2\n", "mem:2:3: unknown key \"server.wrkers\""},
        {SETTINGS_TEXT_YAML, "server:\n  workers: x\n", "mem:2:12: server.workers"},
        {SETTINGS_TEXT_YAML, "a: [\n", "mem:"},
        {SETTINGS_TEXT_YAML, "- 1\n", "mem:1:1: expected a mapping"},
        {SETTINGS_TEXT_DOTENV, "OK=1\nJUST TEXT\n", "mem:2: expected NAME=VALUE"},
        {SETTINGS_TEXT_DOTENV, "A=\"open\n", "mem:1: missing closing quote"},
        {SETTINGS_TEXT_DOTENV, "CHARACTER_NOPE=1\n", "mem:1: unknown variable \"CHARACTER_NOPE\""},
        {SETTINGS_TEXT_DOTENV, "CHARACTER_SERVER_WORKERS=999\n", "mem:1: CHARACTER_SERVER_WORKERS: server.workers"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        settings_init(&s);
        memset(&e, 0, sizeof(e));
        int rc = settings_apply_text(&s, bad[i].kind, "mem", bad[i].text, strlen(bad[i].text), &e);
        if (rc != ERR_INVALID || strncmp(e.msg, bad[i].want, strlen(bad[i].want)) != 0)
            fail_msg("\"%s\": rc %d, message \"%s\", want \"%s...\"", bad[i].text, rc, e.msg, bad[i].want);
        settings_release(&s);
    }
    /* a NUL byte in a .env text, and text over the 1 MiB file bound */
    settings_init(&s);
    assert_int_equal(settings_apply_text(&s, SETTINGS_TEXT_DOTENV, "mem", "A=1\0B=2", 7, &e), ERR_INVALID);
    assert_non_null(strstr(e.msg, "NUL"));
    size_t big = 1024 * 1024 + 1;
    char *text = calloc(1, big);
    assert_non_null(text);
    memset(text, '#', big);
    assert_int_equal(settings_apply_text(&s, SETTINGS_TEXT_YAML, "mem", text, big, &e), ERR_TOO_LARGE);
    assert_int_equal(settings_apply_text(&s, SETTINGS_TEXT_YAML, "mem", text, big - 1, &e), 0); /* a comment */
    free(text);
    settings_release(&s);
}

int main(void)
{
    if (getcwd(start_dir, sizeof(start_dir)) == NULL)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_defaults, setup, teardown),
        cmocka_unit_test_setup_teardown(test_yaml_nested, setup, teardown),
        cmocka_unit_test_setup_teardown(test_yaml_unknown_key, setup, teardown),
        cmocka_unit_test_setup_teardown(test_yaml_syntax_error, setup, teardown),
        cmocka_unit_test_setup_teardown(test_yaml_shapes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_yaml_file_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_int, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bools_and_choices, setup, teardown),
        cmocka_unit_test_setup_teardown(test_graceful_timeout_fraction, setup, teardown),
        cmocka_unit_test_setup_teardown(test_body_limit_suffixes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_dotenv_parsing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_dotenv_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_precedence, setup, teardown),
        cmocka_unit_test_setup_teardown(test_legacy_names, setup, teardown),
        cmocka_unit_test_setup_teardown(test_character_beats_legacy, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unknown_environment_warns, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bind_validation, setup, teardown),
        cmocka_unit_test_setup_teardown(test_token_validation, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bind_repeat, setup, teardown),
        cmocka_unit_test_setup_teardown(test_optind_subcommand, setup, teardown),
        cmocka_unit_test_setup_teardown(test_flags, setup, teardown),
        cmocka_unit_test_setup_teardown(test_print_no_secrets, setup, teardown),
        cmocka_unit_test_setup_teardown(test_print_round_trip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_table_policy, setup, teardown),
        cmocka_unit_test_setup_teardown(test_usage_lists_every_key, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sample_fixture, setup, teardown),
        cmocka_unit_test_setup_teardown(test_apply_text, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
