/*
 * server/config.h - the one settings struct and how it is loaded.
 *
 * Precedence, highest first: command-line flags > process environment > the
 * .env file > the YAML config file > built-in defaults. Every setting has a
 * dotted key ("sync.write_timeout"); its YAML form nests on the dots, its
 * environment name is CHARACTER_ + the key upper-cased with '.' as '_'
 * (CHARACTER_SYNC_WRITE_TIMEOUT). A few settings also answer to the original
 * Flask API's names: API_KEY (auth.api_key), API_TOKENS (auth.tokens,
 * comma-separated), DB_URI, DB_USER, DB_PASSWORD (harperdb.*).
 * Unknown YAML keys and malformed values are errors that name file:line:column.
 * This module only parses and validates; it opens no sockets or databases.
 */
#ifndef SERVER_CONFIG_H
#define SERVER_CONFIG_H

#include <stddef.h>
#include <stdio.h>

#include "common/err.h"

#define CONFIG_MAX_BINDS 16
#define CONFIG_MAX_TOKENS 256
#define CONFIG_MAX_METHODS 4

struct settings {
    /* server.bind: "HOST:PORT", "[V6]:PORT" or a unix socket path ("unix:/p" or a path with '/'); repeatable */
    char *binds[CONFIG_MAX_BINDS];
    size_t nbinds;
    int workers;              /* server.workers: worker processes, 1..256; 0 = number of CPUs */
    int reuseport;            /* server.reuseport: each worker binds its own SO_REUSEPORT socket */
    int graceful_timeout_ms;  /* server.graceful_timeout (seconds in config, may be fractional) */
    size_t body_limit;        /* server.body_limit: largest request body in bytes (1 KiB..64 MiB) */
    int http2_upgrade;        /* server.http2_upgrade: allow h2c upgrade (default off) */
    char *data_dir;           /* server.data_dir: folder for generated files such as rolls.key */
    char *database;           /* database.path: SQLite file */
    int busy_timeout_ms;      /* database.busy_timeout (ms) */
    char *synchronous;        /* database.synchronous: "full" | "normal" */
    size_t cache_bytes;       /* database.cache_size: per-worker read cache of documents; 0 = off */
    char *migrations_dir;     /* migrations.dir */
    char *rules_dir;          /* rules.dir: the SRD data files (rules/data) */
    /* rules.ability_methods: the table's allowed ability methods (standard_array, point_buy,
     * rolled, manual); "manual" here needs rules.manual_scores too */
    char *ability_methods[CONFIG_MAX_METHODS];
    size_t nability_methods;
    int point_buy_budget;     /* rules.point_buy_budget: points a point-buy build may spend (0..54) */
    char *hp_method;          /* rules.hp_method: what level-up may use: average | roll | either */
    int manual_scores;        /* rules.manual_scores: manual ability scores (3..18) allowed; adds "manual" */
    int migrate;              /* migrations.auto: apply pending migrations at start (--migrate) */
    char *migrations_harper_schema; /* migrations.harper_schema: HarperDB schema of the tracking tables */
    char *api_key;            /* auth.api_key (API_KEY): one bare token, write scope */
    char *tokens[CONFIG_MAX_TOKENS]; /* auth.tokens (API_TOKENS): bare or NAME:SCOPE:TOKEN */
    size_t ntokens;
    char *tokens_file;        /* auth.tokens_file: one entry per line, '#' comments */
    int public_reference;     /* auth.public_reference: /api/2014 without a token */
    char *db_uri;             /* harperdb.uri (DB_URI): operations API base URL; NULL = offline */
    char *db_user;            /* harperdb.user (DB_USER) */
    char *db_password;        /* harperdb.password (DB_PASSWORD); never printed */
    int write_timeout_ms;     /* sync.write_timeout (ms) */
    int pull_interval_ms;     /* sync.pull_interval (ms) */
    char *rolls_key;          /* rolls.key: base64 of the 32-byte roll-id key; NULL = data_dir/rolls.key */
    int rolls_ttl_s;          /* rolls.ttl: seconds a roll id is valid */
    char *log_level;          /* log.level: debug | info | warn | error */
    int access_log;           /* log.access: one line per request */

    /* Command-line only */
    char *config_file;        /* --config FILE */
    char *env_file;           /* --env-file FILE (default ".env" when it exists) */
    int check_config;         /* --check-config: validate, print, exit */
    int show_version;         /* --version */
    int show_help;            /* --help */
};

/* Fill `s` with the built-in defaults. Release with settings_release(). */
void settings_init(struct settings *s);

/*
 * Load every layer in precedence order from argv (argv[0] is the program) and
 * `envp` (NULL-terminated "NAME=VALUE" strings; pass `environ`). On error returns
 * ERR_INVALID with a message such as "config.yaml:3:5: unknown key \"wrkers\"" or
 * "--workers: expected an integer 1..256, got \"x\"", and `s` holds a partial result
 * that must still be released.
 * `s` must come from settings_init() or be all zeros (its old contents are released).
 * With --help or --version only the flags are read. On return `optind` indexes the
 * first non-option argument (a subcommand such as "token"); server.workers 0 has been
 * resolved to the number of CPUs. Safe to call more than once per process.
 */
int settings_load(struct settings *s, int argc, char **argv, char **envp, struct err *e);

/* The kinds of text settings_apply_text() takes. */
enum settings_text_kind {
    SETTINGS_TEXT_YAML,  /* a config file (--config) */
    SETTINGS_TEXT_DOTENV /* a .env file (--env-file) */
};

/*
 * Apply one layer given as text[0..len) (need not be NUL-terminated), exactly
 * as settings_load() applies a file of that kind, with `name` standing for the
 * file in messages. No file, flag or environment variable is read; the final
 * checks of settings_load() (e.g. "manual" needs rules.manual_scores) are not
 * made. For tests and the fuzzer. Returns 0, or ERR_INVALID / ERR_TOO_LARGE
 * (over 1 MiB) with a message naming `name` (and line, and column for YAML);
 * `s` (from settings_init()) then holds a partial result and must still be
 * released with settings_release().
 */
int settings_apply_text(struct settings *s, enum settings_text_kind kind, const char *name, const char *text,
                        size_t len, struct err *e);

/* Free every string the struct owns and reset it to zeros. */
void settings_release(struct settings *s);

/* Print the effective settings as YAML to `out`, with secrets shown as "(set)". */
void settings_print(const struct settings *s, FILE *out);

/*
 * When migrations.dir or rules.dir is unset, set it to the source tree's
 * migrations/ or rules/data/ if this binary runs from a build tree
 * (config.status beside it), else to the installed data folder.
 */
void settings_default_dirs(struct settings *s);

struct build_policy;

/*
 * Fill `p` with the table policy the rules.* settings describe (allowed ability
 * methods, point-buy budget, HP method) and rolls.ttl; p->rolls_key and p->now
 * are left for the caller (the runtime's key, the request's clock).
 */
void settings_policy(const struct settings *s, struct build_policy *p);

/* Print the --help text (flags, every key with its environment name and default). */
void settings_usage(FILE *out, const char *prog);

#endif
