/*
 * server/config.c - the settings table and the five layers that fill struct settings.
 *
 * One static table describes every setting: dotted key, type, field, default, range,
 * help text, legacy environment name and command-line flag. Defaults, the YAML file,
 * the .env file, the process environment, the flags, --help and settings_print all
 * walk that table, so a new setting is one more row. Each layer overwrites what the
 * one below set (a list is replaced whole). The module owns every string in struct
 * settings; it parses and validates only and opens no sockets or databases. Secret
 * values (API key, tokens, HarperDB password) never appear in an error message, a log
 * line or settings_print output, and are wiped when released.
 */
#include "server/config.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include <yaml.h>

#include "common/log.h"
#include "common/xmalloc.h"
#include "rules/build.h"

#define ENV_PREFIX "CHARACTER_"
#define FILE_MAX_BYTES (1024 * 1024) /* YAML and .env files */
#define TOKEN_MAX_BYTES 1024         /* one API token or API key */
#define STRING_MAX_BYTES 4096        /* any other string value */
#define KEY_MAX 128                  /* longest dotted key looked up */
#define SHOWN_MAX 64                 /* longest value quoted in an error message */

enum setting_type {
    SET_STRING,  /* char *; max is the longest value in bytes; `choices` optional */
    SET_INT,     /* int in min..max */
    SET_BOOL,    /* int 0 or 1 */
    SET_SIZE,    /* size_t bytes in min..max; "64k", "1MiB" accepted */
    SET_SECONDS, /* int milliseconds; written as seconds min..max, may be fractional */
    SET_MS,      /* int milliseconds in min..max */
    SET_LIST,    /* char *[max] + size_t count; at least min entries; comma-separated in the environment */
};

struct setting {
    const char *key;            /* dotted YAML key; also gives the CHARACTER_ name */
    enum setting_type type;     /* how the text is read and the field stored */
    size_t offset;              /* of the field in struct settings */
    size_t count_offset;        /* SET_LIST: of the size_t entry count */
    const char *def;            /* default as text (a list comma-separated); NULL = unset */
    long long min, max;         /* range, longest string, or list entries (see setting_type) */
    const char *help;           /* one line for --help */
    const char *legacy_env;     /* the Flask API's environment name, or NULL */
    const char *flag;           /* long option without "--", or NULL */
    const char *flag_arg;       /* its argument's name in --help */
    const char *const *choices; /* SET_STRING: the accepted values, NULL-terminated */
    int secret;                 /* never printed, logged or quoted; wiped on release */
    /* An extra check of a string value or of one list entry; writes the reason to e. */
    int (*check)(const char *value, struct err *e);
};

static int check_bind(const char *value, struct err *e);
static int check_token(const char *value, struct err *e);
static int check_method(const char *value, struct err *e);

static const char *const synchronous_choices[] = {"full", "normal", NULL};
static const char *const log_level_choices[] = {"debug", "info", "warn", "error", NULL};
static const char *const hp_method_choices[] = {"either", "average", "roll", NULL};

#define FIELD(f) offsetof(struct settings, f)

/* One row per setting reads better than one line per field. */
/* clang-format off */
static const struct setting settings_table[] = {
    {.key = "server.bind", .type = SET_LIST, .offset = FIELD(binds), .count_offset = FIELD(nbinds),
     .def = "127.0.0.1:8000", .min = 1, .max = CONFIG_MAX_BINDS, .check = check_bind, .flag = "bind",
     .flag_arg = "ADDR", .help = "listen addresses: HOST:PORT, [V6]:PORT, *:PORT or unix:/path"},
    {.key = "server.workers", .type = SET_INT, .offset = FIELD(workers), .def = "0", .min = 0, .max = 256,
     .flag = "workers", .flag_arg = "N", .help = "worker processes; 0 = one per CPU"},
    {.key = "server.reuseport", .type = SET_BOOL, .offset = FIELD(reuseport), .def = "false",
     .help = "each worker binds its own SO_REUSEPORT socket"},
    {.key = "server.graceful_timeout", .type = SET_SECONDS, .offset = FIELD(graceful_timeout_ms), .def = "10",
     .min = 0, .max = 3600, .help = "seconds to finish open requests on shutdown (fractions allowed)"},
    {.key = "server.body_limit", .type = SET_SIZE, .offset = FIELD(body_limit), .def = "1048576", .min = 1024,
     .max = 64 * 1024 * 1024, .help = "largest request body in bytes (suffix k, KiB, m or MiB allowed)"},
    {.key = "server.http2_upgrade", .type = SET_BOOL, .offset = FIELD(http2_upgrade), .def = "false",
     .help = "allow the HTTP/2 cleartext (h2c) upgrade"},
    {.key = "server.data_dir", .type = SET_STRING, .offset = FIELD(data_dir), .def = "data",
     .max = STRING_MAX_BYTES, .help = "folder for generated files such as rolls.key"},
    {.key = "database.path", .type = SET_STRING, .offset = FIELD(database), .def = "data/character.db",
     .max = STRING_MAX_BYTES, .flag = "database", .flag_arg = "PATH", .help = "SQLite database file"},
    {.key = "database.busy_timeout", .type = SET_MS, .offset = FIELD(busy_timeout_ms), .def = "5000", .min = 0,
     .max = 600000, .help = "milliseconds to wait for a locked database"},
    {.key = "database.synchronous", .type = SET_STRING, .offset = FIELD(synchronous), .def = "full",
     .max = STRING_MAX_BYTES, .choices = synchronous_choices, .help = "SQLite synchronous mode: full or normal"},
    {.key = "database.cache_size", .type = SET_SIZE, .offset = FIELD(cache_bytes), .def = "8MiB", .min = 0,
     .max = 1024 * 1024 * 1024, .help = "bytes of documents each worker keeps in memory for reads; 0 = off"},
    {.key = "migrations.dir", .type = SET_STRING, .offset = FIELD(migrations_dir), .max = STRING_MAX_BYTES,
     .flag = "migrations", .flag_arg = "DIR", .help = "folder of migration files (default: the installed ones)"},
    {.key = "migrations.harper_schema", .type = SET_STRING, .offset = FIELD(migrations_harper_schema),
     .def = "character_api", .max = 63, .help = "HarperDB schema of the migration tracking and lock tables"},
    {.key = "rules.dir", .type = SET_STRING, .offset = FIELD(rules_dir), .max = STRING_MAX_BYTES,
     .help = "folder of the SRD data files (default: the installed ones)"},
    /* The table policy. Manual scores need both switches: rules.manual_scores: true allows them (and adds
     * "manual" to the methods); listing "manual" in rules.ability_methods without it is a start-up error. */
    {.key = "rules.ability_methods", .type = SET_LIST, .offset = FIELD(ability_methods),
     .count_offset = FIELD(nability_methods), .def = "standard_array,point_buy,rolled", .min = 1,
     .max = CONFIG_MAX_METHODS, .check = check_method,
     .help = "ability score methods a build may use: standard_array, point_buy, rolled, manual"},
    {.key = "rules.point_buy_budget", .type = SET_INT, .offset = FIELD(point_buy_budget), .def = "27", .min = 0,
     .max = 54, .help = "points a point-buy build may spend (scores 8..15 cost 0..9 each)"},
    {.key = "rules.hp_method", .type = SET_STRING, .offset = FIELD(hp_method), .def = "either",
     .max = STRING_MAX_BYTES, .choices = hp_method_choices,
     .help = "hit points on level-up: average, roll or either (the client chooses)"},
    {.key = "rules.manual_scores", .type = SET_BOOL, .offset = FIELD(manual_scores), .def = "false",
     .help = "allow manual ability scores (3..18); also adds manual to rules.ability_methods"},
    {.key = "migrations.auto", .type = SET_BOOL, .offset = FIELD(migrate), .def = "false", .flag = "migrate",
     .help = "apply pending migrations at start"},
    {.key = "auth.api_key", .type = SET_STRING, .offset = FIELD(api_key), .max = TOKEN_MAX_BYTES,
     .legacy_env = "API_KEY", .secret = 1, .help = "one bare token with write scope"},
    {.key = "auth.tokens", .type = SET_LIST, .offset = FIELD(tokens), .count_offset = FIELD(ntokens),
     .max = CONFIG_MAX_TOKENS, .check = check_token, .legacy_env = "API_TOKENS", .secret = 1,
     .help = "API tokens: bare or NAME:SCOPE:TOKEN with SCOPE read or write"},
    {.key = "auth.tokens_file", .type = SET_STRING, .offset = FIELD(tokens_file), .max = STRING_MAX_BYTES,
     .help = "file of token entries, one a line, '#' comments"},
    {.key = "auth.public_reference", .type = SET_BOOL, .offset = FIELD(public_reference), .def = "false",
     .help = "serve /api/2014 reference data without a token"},
    {.key = "harperdb.uri", .type = SET_STRING, .offset = FIELD(db_uri), .max = STRING_MAX_BYTES,
     .legacy_env = "DB_URI", .help = "HarperDB operations API URL; unset = offline"},
    {.key = "harperdb.user", .type = SET_STRING, .offset = FIELD(db_user), .max = STRING_MAX_BYTES,
     .legacy_env = "DB_USER", .help = "HarperDB user"},
    {.key = "harperdb.password", .type = SET_STRING, .offset = FIELD(db_password), .max = STRING_MAX_BYTES,
     .legacy_env = "DB_PASSWORD", .secret = 1, .help = "HarperDB password"},
    {.key = "sync.write_timeout", .type = SET_MS, .offset = FIELD(write_timeout_ms), .def = "500", .min = 1,
     .max = 60000, .help = "milliseconds a write waits for HarperDB before answering pending"},
    {.key = "sync.pull_interval", .type = SET_MS, .offset = FIELD(pull_interval_ms), .def = "1000", .min = 50,
     .max = 3600000, .help = "milliseconds between pulls of HarperDB changes"},
    {.key = "rolls.key", .type = SET_STRING, .offset = FIELD(rolls_key), .max = 128, .secret = 1,
     .help = "base64 of the 32-byte key that signs roll ids; all instances share it (default: made and kept in "
             "server.data_dir/rolls.key)"},
    {.key = "rolls.ttl", .type = SET_INT, .offset = FIELD(rolls_ttl_s), .def = "86400", .min = 60, .max = 2592000,
     .help = "seconds a roll id stays valid"},
    {.key = "log.level", .type = SET_STRING, .offset = FIELD(log_level), .def = "info", .max = STRING_MAX_BYTES,
     .choices = log_level_choices, .help = "least severe level logged: debug, info, warn or error"},
    {.key = "log.access", .type = SET_BOOL, .offset = FIELD(access_log), .def = "false",
     .help = "log one line per request"},
};
/* clang-format on */

#define TABLE_LEN (sizeof(settings_table) / sizeof(settings_table[0]))

/* Options that exist only on the command line. */
enum { CLI_CONFIG, CLI_ENV_FILE, CLI_CHECK_CONFIG, CLI_VERSION, CLI_HELP, CLI_COUNT };

static const struct {
    const char *name;
    const char *arg; /* NULL when the option takes no value */
    const char *help;
} cli_options[CLI_COUNT] = {
    [CLI_CONFIG] = {"config", "FILE", "read settings from this YAML file"},
    [CLI_ENV_FILE] = {"env-file", "FILE", "read NAME=VALUE lines from this file (default: .env when present)"},
    [CLI_CHECK_CONFIG] = {"check-config", NULL, "validate the settings, print them and exit"},
    [CLI_VERSION] = {"version", NULL, "print the version and exit"},
    [CLI_HELP] = {"help", NULL, "print this help and exit (also -h)"},
};

/* getopt_long values: table rows from OPT_TABLE, command-line-only options after them. */
#define OPT_TABLE 256
#define OPT_CLI (OPT_TABLE + (int)TABLE_LEN)

/* ---- fields ---------------------------------------------------------------------- */

static void *field(struct settings *s, const struct setting *d)
{
    return (char *)s + d->offset;
}

static const void *field_c(const struct settings *s, const struct setting *d)
{
    return (const char *)s + d->offset;
}

static size_t *list_count(struct settings *s, const struct setting *d)
{
    return (size_t *)(void *)((char *)s + d->count_offset);
}

static size_t list_count_c(const struct settings *s, const struct setting *d)
{
    return *(const size_t *)(const void *)((const char *)s + d->count_offset);
}

/* Free one owned string, wiping it first when it holds a secret. */
static void string_free(char *p, int secret)
{
    if (p != NULL && secret)
        explicit_bzero(p, strlen(p));
    free(p);
}

static void list_clear(struct settings *s, const struct setting *d)
{
    char **items = field(s, d);
    size_t *n = list_count(s, d);
    for (size_t i = 0; i < *n; i++) {
        string_free(items[i], d->secret);
        items[i] = NULL;
    }
    *n = 0;
}

static void string_replace(struct settings *s, const struct setting *d, char *value)
{
    char **p = field(s, d);
    string_free(*p, d->secret);
    *p = value;
}

static const struct setting *setting_find(const char *key)
{
    for (size_t i = 0; i < TABLE_LEN; i++)
        if (strcmp(settings_table[i].key, key) == 0)
            return &settings_table[i];
    return NULL;
}

/* Whether `key` is a section of some setting: "server" for "server.bind". */
static int setting_is_section(const char *key)
{
    size_t len = strlen(key);
    for (size_t i = 0; i < TABLE_LEN; i++)
        if (strncmp(settings_table[i].key, key, len) == 0 && settings_table[i].key[len] == '.')
            return 1;
    return 0;
}

/* CHARACTER_ + the key upper-cased with '.' as '_'. */
static void env_name(const struct setting *d, char *buf, size_t size)
{
    snprintf(buf, size, ENV_PREFIX "%s", d->key);
    for (char *p = buf; *p != '\0'; p++)
        *p = *p == '.' ? '_' : (char)toupper((unsigned char)*p);
}

/* A copy of `text` fit for an error message: at most SHOWN_MAX bytes, control bytes as '?'. */
static const char *shown(const char *text, char *buf, size_t size)
{
    size_t n = 0, len = strlen(text);
    for (; n < len && n < SHOWN_MAX && n + 4 < size; n++)
        buf[n] = (unsigned char)text[n] < 0x20 || text[n] == 0x7f ? '?' : text[n];
    if (n < len && n + 4 <= size) {
        memcpy(buf + n, "...", 3);
        n += 3;
    }
    buf[n] = '\0';
    return buf;
}

/* ---- values ---------------------------------------------------------------------- */

/* Strict decimal integer: the whole string, no spaces, no overflow. */
static int parse_ll(const char *text, long long *out)
{
    if (*text == '\0' || isspace((unsigned char)*text))
        return -1;
    errno = 0;
    char *end;
    long long v = strtoll(text, &end, 10);
    if (errno != 0 || *end != '\0')
        return -1;
    *out = v;
    return 0;
}

static int parse_bool(const char *text, int *out)
{
    static const char *const yes[] = {"true", "yes", "on", "1"};
    static const char *const no[] = {"false", "no", "off", "0"};
    for (size_t i = 0; i < 4; i++) {
        if (strcasecmp(text, yes[i]) == 0 || strcasecmp(text, no[i]) == 0) {
            *out = strcasecmp(text, yes[i]) == 0;
            return 0;
        }
    }
    return -1;
}

/* Bytes: digits, optional spaces, optional suffix k/KiB (1024) or m/MiB (1024^2), any case. */
static int parse_size(const char *text, unsigned long long *out)
{
    if (!isdigit((unsigned char)*text))
        return -1;
    errno = 0;
    char *end;
    unsigned long long v = strtoull(text, &end, 10);
    if (errno != 0)
        return -1;
    while (*end == ' ')
        end++;
    unsigned long long mult = 1;
    if (strcasecmp(end, "k") == 0 || strcasecmp(end, "kib") == 0)
        mult = 1024;
    else if (strcasecmp(end, "m") == 0 || strcasecmp(end, "mib") == 0)
        mult = 1024 * 1024;
    else if (*end != '\0')
        return -1;
    if (v > ULLONG_MAX / mult)
        return -1;
    *out = v * mult;
    return 0;
}

/* Seconds as DIGITS[.DIGITS] to whole milliseconds (further digits are dropped). */
static int parse_seconds_ms(const char *text, long long *out)
{
    const char *p = text;
    long long whole = 0, frac = 0;
    if (!isdigit((unsigned char)*p))
        return -1;
    for (; isdigit((unsigned char)*p); p++) {
        whole = whole * 10 + (*p - '0');
        if (whole > 1000000000LL)
            return -1;
    }
    if (*p == '.') {
        p++;
        if (!isdigit((unsigned char)*p))
            return -1;
        for (long long scale = 100; isdigit((unsigned char)*p); p++, scale /= 10)
            frac += (*p - '0') * scale;
    }
    if (*p != '\0')
        return -1;
    *out = whole * 1000 + frac;
    return 0;
}

static void choices_join(const char *const *choices, char *buf, size_t size)
{
    size_t n = 0;
    buf[0] = '\0';
    for (size_t i = 0; choices[i] != NULL && n < size; i++) {
        int w = snprintf(buf + n, size - n, "%s%s", i ? "|" : "", choices[i]);
        if (w < 0)
            break;
        n += (size_t)w;
    }
}

/*
 * Set a scalar (non-list) setting from its text form. On error returns ERR_INVALID
 * with a message naming neither source nor key ("expected an integer 0..256, got
 * \"x\""); the caller adds those. A secret value is never quoted.
 */
static int setting_set(struct settings *s, const struct setting *d, const char *text, struct err *e)
{
    char quoted[SHOWN_MAX + 8];
    long long v;
    unsigned long long u;
    int b;
    const char *got = d->secret ? "(secret)" : shown(text, quoted, sizeof(quoted));
    switch (d->type) {
    case SET_STRING: {
        size_t len = strlen(text);
        if (d->choices != NULL) {
            for (size_t i = 0; d->choices[i] != NULL; i++)
                if (strcasecmp(text, d->choices[i]) == 0) {
                    string_replace(s, d, xstrdup(d->choices[i]));
                    return 0;
                }
            char list[128];
            choices_join(d->choices, list, sizeof(list));
            return err_set(e, ERR_INVALID, "expected %s, got \"%s\"", list, got);
        }
        if (len == 0) {
            if (d->def != NULL)
                return err_set(e, ERR_INVALID, "expected a non-empty value");
            string_replace(s, d, NULL);
            return 0;
        }
        if (len > (size_t)d->max)
            return err_set(e, ERR_INVALID, "value is longer than %lld bytes", d->max);
        if (d->check != NULL && d->check(text, e) != 0)
            return ERR_INVALID;
        string_replace(s, d, xstrdup(text));
        return 0;
    }
    case SET_INT:
        if (parse_ll(text, &v) != 0 || v < d->min || v > d->max)
            return err_set(e, ERR_INVALID, "expected an integer %lld..%lld, got \"%s\"", d->min, d->max, got);
        *(int *)field(s, d) = (int)v;
        return 0;
    case SET_MS:
        if (parse_ll(text, &v) != 0 || v < d->min || v > d->max)
            return err_set(e, ERR_INVALID, "expected milliseconds %lld..%lld, got \"%s\"", d->min, d->max, got);
        *(int *)field(s, d) = (int)v;
        return 0;
    case SET_SECONDS:
        if (parse_seconds_ms(text, &v) != 0 || v < d->min * 1000 || v > d->max * 1000)
            return err_set(e, ERR_INVALID, "expected seconds %lld..%lld, got \"%s\"", d->min, d->max, got);
        *(int *)field(s, d) = (int)v;
        return 0;
    case SET_SIZE:
        if (parse_size(text, &u) != 0 || u < (unsigned long long)d->min || u > (unsigned long long)d->max)
            return err_set(e, ERR_INVALID, "expected a size %lld..%lld bytes (suffix k or m allowed), got \"%s\"",
                           d->min, d->max, got);
        *(size_t *)field(s, d) = (size_t)u;
        return 0;
    case SET_BOOL:
        if (parse_bool(text, &b) != 0)
            return err_set(e, ERR_INVALID, "expected true or false, got \"%s\"", got);
        *(int *)field(s, d) = b;
        return 0;
    case SET_LIST: break;
    }
    return err_set(e, ERR_GENERIC, "not a single value");
}

/* Append one entry to a list setting, checked. Errors say "entry N: ..." and never quote a secret. */
static int list_add(struct settings *s, const struct setting *d, const char *item, struct err *e)
{
    size_t *n = list_count(s, d);
    size_t pos = *n + 1;
    size_t len = strlen(item);
    struct err inner = {0};
    if (*n >= (size_t)d->max)
        return err_set(e, ERR_INVALID, "more than %lld entries", d->max);
    if (len == 0)
        return err_set(e, ERR_INVALID, "entry %zu is empty", pos);
    if (len > STRING_MAX_BYTES)
        return err_set(e, ERR_INVALID, "entry %zu is longer than %d bytes", pos, STRING_MAX_BYTES);
    if (d->check != NULL && d->check(item, &inner) != 0)
        return err_set(e, ERR_INVALID, "entry %zu: %s", pos, inner.msg);
    ((char **)field(s, d))[(*n)++] = xstrdup(item);
    return 0;
}

/* Replace a list with the comma-separated entries of `text`, trimmed, empty ones skipped. */
static int list_set_csv(struct settings *s, const struct setting *d, const char *text, struct err *e)
{
    list_clear(s, d);
    char *copy = xstrdup(text);
    int rc = 0;
    for (char *p = copy; rc == 0 && p != NULL;) {
        char *comma = strchr(p, ',');
        if (comma != NULL)
            *comma = '\0';
        char *end = p + strlen(p);
        while (isspace((unsigned char)*p))
            p++;
        while (end > p && isspace((unsigned char)end[-1]))
            *--end = '\0';
        if (*p != '\0')
            rc = list_add(s, d, p, e);
        p = comma != NULL ? comma + 1 : NULL;
    }
    string_free(copy, 1);
    return rc;
}

/* Set any setting from text; a list takes comma-separated entries. */
static int setting_set_text(struct settings *s, const struct setting *d, const char *text, struct err *e)
{
    if (d->type == SET_LIST)
        return list_set_csv(s, d, text, e);
    return setting_set(s, d, text, e);
}

/* A listen address: HOST:PORT with an IPv4 host, localhost, * or empty, [V6]:PORT, or a unix socket path. */
static int check_bind(const char *value, struct err *e)
{
    char q[SHOWN_MAX + 8];
    const char *path = NULL;
    if (strncmp(value, "unix:", 5) == 0)
        path = value + 5;
    else if (strchr(value, '/') != NULL)
        path = value;
    if (path != NULL) {
        if (*path == '\0')
            return err_set(e, ERR_INVALID, "expected a socket path after \"unix:\"");
        if (strlen(path) >= sizeof(((struct sockaddr_un *)NULL)->sun_path))
            return err_set(e, ERR_INVALID, "socket path \"%s\" is longer than %zu bytes", shown(path, q, sizeof(q)),
                           sizeof(((struct sockaddr_un *)NULL)->sun_path) - 1);
        return 0;
    }
    const char *colon = strrchr(value, ':');
    if (colon == NULL)
        return err_set(e, ERR_INVALID, "expected HOST:PORT or a unix socket path, got \"%s\"",
                       shown(value, q, sizeof(q)));
    long long port;
    if (parse_ll(colon + 1, &port) != 0 || colon[1] == '+' || colon[1] == '-' || port < 1 || port > 65535)
        return err_set(e, ERR_INVALID, "expected a port 1..65535 in \"%s\"", shown(value, q, sizeof(q)));
    size_t hostlen = (size_t)(colon - value);
    char host[64];
    if (hostlen >= sizeof(host))
        return err_set(e, ERR_INVALID, "host in \"%s\" is too long", shown(value, q, sizeof(q)));
    memcpy(host, value, hostlen);
    host[hostlen] = '\0';
    unsigned char addr[16];
    if (host[0] == '[') {
        if (hostlen < 3 || host[hostlen - 1] != ']')
            return err_set(e, ERR_INVALID, "expected [IPV6]:PORT, got \"%s\"", shown(value, q, sizeof(q)));
        host[hostlen - 1] = '\0';
        if (inet_pton(AF_INET6, host + 1, addr) != 1)
            return err_set(e, ERR_INVALID, "not an IPv6 address in \"%s\"", shown(value, q, sizeof(q)));
        return 0;
    }
    if (hostlen == 0 || strcmp(host, "*") == 0 || strcmp(host, "localhost") == 0 || inet_pton(AF_INET, host, addr) == 1)
        return 0;
    return err_set(e, ERR_INVALID, "expected an IPv4 address, \"localhost\", \"*\" or [IPV6] as the host in \"%s\"",
                   shown(value, q, sizeof(q)));
}

/* A token entry: a bare token, or NAME:SCOPE:TOKEN. The messages never contain any of it. */
/* One entry of rules.ability_methods: a method name build.h knows. */
static int check_method(const char *value, struct err *e)
{
    enum build_method m = build_method_parse(value);
    if (m == BUILD_METHOD_INVALID)
        return err_set(e, ERR_INVALID, "expected standard_array, point_buy, rolled or manual");
    return 0;
}

void settings_policy(const struct settings *s, struct build_policy *p)
{
    build_policy_default(p);
    p->methods = 0;
    for (size_t i = 0; i < s->nability_methods; i++) {
        enum build_method m = build_method_parse(s->ability_methods[i]);
        if (m != BUILD_METHOD_INVALID)
            p->methods |= 1u << m;
    }
    if (s->manual_scores)
        p->methods |= 1u << BUILD_METHOD_MANUAL;
    else
        p->methods &= ~(1u << BUILD_METHOD_MANUAL);
    p->point_buy_budget = s->point_buy_budget;
    p->hp_method = s->hp_method == NULL || strcmp(s->hp_method, "either") == 0 ? BUILD_HP_EITHER
                   : strcmp(s->hp_method, "average") == 0                    ? BUILD_HP_AVERAGE
                                                                              : BUILD_HP_ROLL;
    p->roll_ttl_s = s->rolls_ttl_s;
}

static int check_token(const char *value, struct err *e)
{
    const char *tok = value;
    const char *c1 = strchr(value, ':');
    if (c1 != NULL) {
        const char *c2 = strchr(c1 + 1, ':');
        if (c2 == NULL || strchr(c2 + 1, ':') != NULL)
            return err_set(e, ERR_INVALID, "expected a bare token or NAME:SCOPE:TOKEN");
        if (c1 == value)
            return err_set(e, ERR_INVALID, "empty name in NAME:SCOPE:TOKEN");
        size_t scopelen = (size_t)(c2 - c1 - 1);
        if (!(scopelen == 4 && memcmp(c1 + 1, "read", 4) == 0) && !(scopelen == 5 && memcmp(c1 + 1, "write", 5) == 0))
            return err_set(e, ERR_INVALID, "scope must be \"read\" or \"write\" in NAME:SCOPE:TOKEN");
        tok = c2 + 1;
        if (*tok == '\0')
            return err_set(e, ERR_INVALID, "empty token in NAME:SCOPE:TOKEN");
    }
    if (strlen(tok) > TOKEN_MAX_BYTES)
        return err_set(e, ERR_INVALID, "token is longer than %d bytes", TOKEN_MAX_BYTES);
    for (const char *p = value; *p != '\0'; p++)
        if ((unsigned char)*p <= 0x20 || (unsigned char)*p == 0x7f)
            return err_set(e, ERR_INVALID, "token entry has a space or control character");
    return 0;
}

/* ---- files ----------------------------------------------------------------------- */

/*
 * Read all of `path` into a NUL-terminated buffer the caller frees. Returns 0, 1 when
 * `missing_ok` and the file does not exist, or ERR_IO / ERR_TOO_LARGE naming `what`.
 */
static int file_read(const char *path, const char *what, int missing_ok, char **out, size_t *outlen, struct err *e)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        if (missing_ok && errno == ENOENT)
            return 1;
        return err_set(e, ERR_IO, "cannot open %s \"%s\": %s", what, path, strerror(errno));
    }
    char *buf = xmalloc(FILE_MAX_BYTES + 2);
    size_t len = 0;
    int rc = 0;
    for (;;) {
        ssize_t r = read(fd, buf + len, FILE_MAX_BYTES + 1 - len);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            rc = err_set(e, ERR_IO, "cannot read %s \"%s\": %s", what, path, strerror(errno));
            break;
        }
        len += (size_t)r;
        if (r == 0 || len > FILE_MAX_BYTES)
            break;
    }
    close(fd);
    if (rc == 0 && len > FILE_MAX_BYTES)
        rc = err_set(e, ERR_TOO_LARGE, "%s \"%s\" is larger than 1 MiB", what, path);
    if (rc != 0) {
        explicit_bzero(buf, len);
        free(buf);
        return rc;
    }
    buf[len] = '\0';
    *out = buf;
    *outlen = len;
    return 0;
}

static void file_free(char *buf, size_t len)
{
    if (buf != NULL)
        explicit_bzero(buf, len);
    free(buf);
}

/* ---- YAML layer ------------------------------------------------------------------ */

struct yaml_load {
    struct settings *s;
    const char *path;
    yaml_document_t *doc;
    unsigned char seen[TABLE_LEN]; /* a key given twice is an error */
};

static int yaml_fail(const struct yaml_load *y, const yaml_node_t *node, struct err *e, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Error "FILE:LINE:COL: message" at `node`. */
static int yaml_fail(const struct yaml_load *y, const yaml_node_t *node, struct err *e, const char *fmt, ...)
{
    char msg[sizeof(e->msg)];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    return err_set(e, ERR_INVALID, "%s:%zu:%zu: %s", y->path, node->start_mark.line + 1, node->start_mark.column + 1,
                   msg);
}

static const char *yaml_kind(const yaml_node_t *node)
{
    return node->type == YAML_MAPPING_NODE ? "mapping" : node->type == YAML_SEQUENCE_NODE ? "list" : "value";
}

/* A plain empty, "~" or "null" scalar. */
static int yaml_is_null(const yaml_node_t *node)
{
    if (node->type != YAML_SCALAR_NODE || node->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
        return 0;
    const char *v = (const char *)node->data.scalar.value;
    return v[0] == '\0' || strcmp(v, "~") == 0 || strcmp(v, "null") == 0 || strcmp(v, "Null") == 0 ||
           strcmp(v, "NULL") == 0;
}

/* The text of a scalar node, or NULL when it holds a NUL byte. A null scalar reads as "". */
static const char *yaml_text(const yaml_node_t *node)
{
    const char *v = (const char *)node->data.scalar.value;
    if (strlen(v) != node->data.scalar.length)
        return NULL;
    return yaml_is_null(node) ? "" : v;
}

static int yaml_value(struct yaml_load *y, const struct setting *d, yaml_node_t *node, struct err *e)
{
    struct err inner = {0};
    if (node->type == YAML_MAPPING_NODE || (node->type == YAML_SEQUENCE_NODE && d->type != SET_LIST))
        return yaml_fail(y, node, e, "%s: expected a single value, not a %s", d->key, yaml_kind(node));
    if (node->type == YAML_SCALAR_NODE) {
        const char *text = yaml_text(node);
        if (text == NULL)
            return yaml_fail(y, node, e, "%s: value contains a NUL byte", d->key);
        if (d->type != SET_LIST) {
            if (setting_set(y->s, d, text, &inner) != 0)
                return yaml_fail(y, node, e, "%s: %s", d->key, inner.msg);
            return 0;
        }
        list_clear(y->s, d); /* a scalar is a one-entry list; null is an empty one */
        if (text[0] != '\0' && list_add(y->s, d, text, &inner) != 0)
            return yaml_fail(y, node, e, "%s: %s", d->key, inner.msg);
        return 0;
    }
    list_clear(y->s, d);
    for (yaml_node_item_t *it = node->data.sequence.items.start; it < node->data.sequence.items.top; it++) {
        yaml_node_t *item = yaml_document_get_node(y->doc, *it);
        if (item == NULL)
            return yaml_fail(y, node, e, "%s: malformed list", d->key);
        if (item->type != YAML_SCALAR_NODE)
            return yaml_fail(y, item, e, "%s: expected a value in the list, not a %s", d->key, yaml_kind(item));
        const char *text = yaml_text(item);
        if (text == NULL)
            return yaml_fail(y, item, e, "%s: value contains a NUL byte", d->key);
        if (list_add(y->s, d, text, &inner) != 0)
            return yaml_fail(y, item, e, "%s: %s", d->key, inner.msg);
    }
    return 0;
}

/* Walk one mapping whose keys continue `prefix` ("" at the top): settings, sections or dotted keys. */
static int yaml_mapping(struct yaml_load *y, yaml_node_t *map, const char *prefix, struct err *e)
{
    char q[SHOWN_MAX + 8];
    for (yaml_node_pair_t *pair = map->data.mapping.pairs.start; pair < map->data.mapping.pairs.top; pair++) {
        yaml_node_t *k = yaml_document_get_node(y->doc, pair->key);
        yaml_node_t *v = yaml_document_get_node(y->doc, pair->value);
        if (k == NULL || v == NULL)
            return yaml_fail(y, map, e, "malformed mapping");
        if (k->type != YAML_SCALAR_NODE)
            return yaml_fail(y, k, e, "expected a key, not a %s", yaml_kind(k));
        const char *name = (const char *)k->data.scalar.value;
        char key[KEY_MAX];
        int n = snprintf(key, sizeof(key), "%s%s%s", prefix, prefix[0] ? "." : "", name);
        const struct setting *d = NULL;
        int section = 0;
        if (n > 0 && (size_t)n < sizeof(key) && strlen(name) == k->data.scalar.length && name[0] != '\0') {
            d = setting_find(key);
            section = d == NULL && setting_is_section(key);
        }
        if (d != NULL) {
            size_t i = (size_t)(d - settings_table);
            if (y->seen[i])
                return yaml_fail(y, k, e, "duplicate key \"%s\"", d->key);
            y->seen[i] = 1;
            int rc = yaml_value(y, d, v, e);
            if (rc != 0)
                return rc;
        } else if (section) {
            if (v->type == YAML_MAPPING_NODE) {
                int rc = yaml_mapping(y, v, key, e);
                if (rc != 0)
                    return rc;
            } else if (!yaml_is_null(v)) {
                return yaml_fail(y, v, e, "\"%s\" must be a mapping, not a %s", key, yaml_kind(v));
            }
        } else {
            return yaml_fail(y, k, e, "unknown key \"%s\"", shown(key, q, sizeof(q)));
        }
    }
    return 0;
}

/* Apply YAML text buf[0..len) read from `path` (named in messages): nested mappings on the dots of each key. */
static int yaml_apply(struct settings *s, const char *path, const char *buf, size_t len, struct err *e)
{
    int rc = 0;
    yaml_parser_t parser;
    yaml_document_t doc;
    int have_doc = 0;
    if (!yaml_parser_initialize(&parser))
        return err_set(e, ERR_GENERIC, "cannot set up the YAML parser");
    yaml_parser_set_input_string(&parser, (const unsigned char *)buf, len);
    if (!yaml_parser_load(&parser, &doc))
        goto syntax;
    have_doc = 1;
    yaml_node_t *root = yaml_document_get_root_node(&doc);
    if (root != NULL) {
        struct yaml_load y = {.s = s, .path = path, .doc = &doc};
        if (root->type == YAML_MAPPING_NODE)
            rc = yaml_mapping(&y, root, "", e);
        else if (!yaml_is_null(root))
            rc = yaml_fail(&y, root, e, "expected a mapping of settings, not a %s", yaml_kind(root));
        if (rc == 0) {
            yaml_document_t next;
            if (!yaml_parser_load(&parser, &next))
                goto syntax;
            yaml_node_t *extra = yaml_document_get_root_node(&next);
            if (extra != NULL)
                rc = yaml_fail(&y, extra, e, "expected one YAML document, found another");
            yaml_document_delete(&next);
        }
    }
    goto out;
syntax:
    if (parser.error == YAML_READER_ERROR)
        rc = err_set(e, ERR_INVALID, "%s: byte %zu: %s", path, parser.problem_offset + 1,
                     parser.problem ? parser.problem : "unreadable input");
    else if (parser.error == YAML_MEMORY_ERROR)
        rc = err_set(e, ERR_GENERIC, "%s: out of memory parsing YAML", path);
    else
        rc = err_set(e, ERR_INVALID, "%s:%zu:%zu: %s", path, parser.problem_mark.line + 1,
                     parser.problem_mark.column + 1, parser.problem ? parser.problem : "invalid YAML");
out:
    if (have_doc)
        yaml_document_delete(&doc);
    yaml_parser_delete(&parser);
    return rc;
}

/* Apply the YAML file `path`. */
static int yaml_layer(struct settings *s, const char *path, struct err *e)
{
    char *buf = NULL;
    size_t len = 0;
    int rc = file_read(path, "config file", 0, &buf, &len, e);
    if (rc != 0)
        return rc;
    rc = yaml_apply(s, path, buf, len, e);
    file_free(buf, len);
    return rc;
}

/* ---- environment and .env layers ------------------------------------------------- */

struct dotenv_entry {
    const char *name; /* both point into dotenv.buf */
    const char *value;
    size_t line;
};

struct dotenv {
    const char *path;
    char *buf;
    size_t len;
    struct dotenv_entry *entries;
    size_t n, cap;
};

static char *skip_blank(char *p)
{
    while (*p == ' ' || *p == '\t')
        p++;
    return p;
}

/* After a closing quote only blanks or a '#' comment may follow. */
static int dotenv_rest_ok(char *p)
{
    p = skip_blank(p);
    return *p == '\0' || *p == '#';
}

/* Parse the value after '=' in place; sets *out. Returns 0 or a short reason. */
static const char *dotenv_value(char *raw, const char **out)
{
    char *v = skip_blank(raw);
    if (*v == '"') {
        char *r = v + 1, *w = v;
        for (;; r++) {
            if (*r == '\0')
                return "missing closing quote";
            if (*r == '"')
                break;
            if (*r == '\\' && (r[1] == 'n' || r[1] == '"' || r[1] == '\\')) {
                r++;
                *w++ = *r == 'n' ? '\n' : *r;
            } else {
                *w++ = *r;
            }
        }
        if (!dotenv_rest_ok(r + 1))
            return "unexpected text after the closing quote";
        *w = '\0';
        *out = v;
        return NULL;
    }
    if (*v == '\'') {
        char *end = strchr(v + 1, '\'');
        if (end == NULL)
            return "missing closing quote";
        if (!dotenv_rest_ok(end + 1))
            return "unexpected text after the closing quote";
        *end = '\0';
        *out = v + 1;
        return NULL;
    }
    for (char *p = raw; *p != '\0'; p++) {
        if (*p == '#' && p > raw && (p[-1] == ' ' || p[-1] == '\t')) {
            *p = '\0';
            break;
        }
    }
    char *end = v + strlen(v);
    while (end > v && (end[-1] == ' ' || end[-1] == '\t'))
        *--end = '\0';
    *out = v;
    return NULL;
}

static int env_name_ok(const char *name)
{
    if (!isalpha((unsigned char)*name) && *name != '_')
        return 0;
    for (; *name != '\0'; name++)
        if (!isalnum((unsigned char)*name) && *name != '_')
            return 0;
    return 1;
}

/* Split the file in d->buf into NAME=VALUE entries. */
static int dotenv_parse(struct dotenv *d, struct err *e)
{
    if (memchr(d->buf, '\0', d->len) != NULL)
        return err_set(e, ERR_INVALID, "%s: contains a NUL byte", d->path);
    size_t lineno = 0;
    for (char *line = d->buf, *next; line != NULL; line = next) {
        lineno++;
        next = strchr(line, '\n');
        if (next != NULL)
            *next++ = '\0';
        size_t len = strlen(line);
        if (len > 0 && line[len - 1] == '\r')
            line[len - 1] = '\0';
        char *p = skip_blank(line);
        if (*p == '\0' || *p == '#')
            continue;
        if (strncmp(p, "export", 6) == 0 && (p[6] == ' ' || p[6] == '\t'))
            p = skip_blank(p + 6);
        char *eq = strchr(p, '=');
        if (eq == NULL)
            return err_set(e, ERR_INVALID, "%s:%zu: expected NAME=VALUE", d->path, lineno);
        char *end = eq;
        while (end > p && (end[-1] == ' ' || end[-1] == '\t'))
            end--;
        *end = '\0';
        if (!env_name_ok(p))
            return err_set(e, ERR_INVALID, "%s:%zu: expected NAME=VALUE with NAME made of letters, digits and '_'",
                           d->path, lineno);
        const char *value = NULL;
        const char *why = dotenv_value(eq + 1, &value);
        if (why != NULL)
            return err_set(e, ERR_INVALID, "%s:%zu: %s", d->path, lineno, why);
        if (d->n == d->cap) {
            d->cap = d->cap ? d->cap * 2 : 16;
            d->entries = xrealloc(d->entries, d->cap * sizeof(*d->entries));
        }
        d->entries[d->n++] = (struct dotenv_entry){.name = p, .value = value, .line = lineno};
    }
    return 0;
}

/* Read the .env file: `path`, or "./.env" when that exists (then s->env_file is set to it). */
static int dotenv_load(struct settings *s, struct dotenv *d, struct err *e)
{
    const char *path = s->env_file != NULL ? s->env_file : ".env";
    int rc = file_read(path, "env file", s->env_file == NULL, &d->buf, &d->len, e);
    if (rc == 1)
        return 0;
    if (rc != 0)
        return rc;
    if (s->env_file == NULL)
        s->env_file = xstrdup(path);
    d->path = s->env_file;
    return dotenv_parse(d, e);
}

static void dotenv_release(struct dotenv *d)
{
    file_free(d->buf, d->len);
    free(d->entries);
    memset(d, 0, sizeof(*d));
}

/* One source of NAME=VALUE pairs: a parsed .env file, or the process environment. */
struct env_source {
    const struct dotenv *dotenv; /* NULL for the process environment */
    char **envp;
};

/* The value of `name`, or NULL. In a .env file the last line wins; in envp the first entry (as getenv). */
static const char *env_get(const struct env_source *src, const char *name, size_t *line)
{
    size_t len = strlen(name);
    if (src->dotenv != NULL) {
        for (size_t i = src->dotenv->n; i > 0; i--) {
            if (strcmp(src->dotenv->entries[i - 1].name, name) == 0) {
                *line = src->dotenv->entries[i - 1].line;
                return src->dotenv->entries[i - 1].value;
            }
        }
        return NULL;
    }
    for (char **p = src->envp; p != NULL && *p != NULL; p++)
        if (strncmp(*p, name, len) == 0 && (*p)[len] == '=')
            return *p + len + 1;
    return NULL;
}

static int env_known(const char *name, size_t len)
{
    char buf[KEY_MAX];
    for (size_t i = 0; i < TABLE_LEN; i++) {
        env_name(&settings_table[i], buf, sizeof(buf));
        if (strlen(buf) == len && memcmp(buf, name, len) == 0)
            return 1;
    }
    return 0;
}

/*
 * Apply one environment-like source: for each setting its CHARACTER_ name, else its
 * legacy name. Unknown CHARACTER_ names are errors in a .env file and warnings in
 * the process environment.
 */
static int env_layer(struct settings *s, const struct env_source *src, struct err *e)
{
    char q[SHOWN_MAX + 8];
    if (src->dotenv != NULL) {
        for (size_t i = 0; i < src->dotenv->n; i++) {
            const struct dotenv_entry *x = &src->dotenv->entries[i];
            if (strncmp(x->name, ENV_PREFIX, strlen(ENV_PREFIX)) == 0 && !env_known(x->name, strlen(x->name)))
                return err_set(e, ERR_INVALID, "%s:%zu: unknown variable \"%s\"", src->dotenv->path, x->line,
                               shown(x->name, q, sizeof(q)));
        }
    } else {
        for (char **p = src->envp; p != NULL && *p != NULL; p++) {
            if (strncmp(*p, ENV_PREFIX, strlen(ENV_PREFIX)) != 0)
                continue;
            const char *eq = strchr(*p, '=');
            size_t len = eq != NULL ? (size_t)(eq - *p) : strlen(*p);
            if (!env_known(*p, len))
                log_warn("ignoring unknown environment variable \"%.*s\"", (int)(len < KEY_MAX ? len : KEY_MAX), *p);
        }
    }
    for (size_t i = 0; i < TABLE_LEN; i++) {
        const struct setting *d = &settings_table[i];
        char name[KEY_MAX];
        size_t line = 0;
        env_name(d, name, sizeof(name));
        const char *used = name;
        const char *value = env_get(src, name, &line);
        if (value == NULL && d->legacy_env != NULL) {
            used = d->legacy_env;
            value = env_get(src, used, &line);
        }
        if (value == NULL)
            continue;
        struct err inner = {0};
        if (setting_set_text(s, d, value, &inner) != 0) {
            if (src->dotenv != NULL)
                return err_set(e, ERR_INVALID, "%s:%zu: %s: %s: %s", src->dotenv->path, line, used, d->key, inner.msg);
            return err_set(e, ERR_INVALID, "%s: %s: %s", used, d->key, inner.msg);
        }
    }
    return 0;
}

/* ---- one layer from memory ------------------------------------------------------- */

int settings_apply_text(struct settings *s, enum settings_text_kind kind, const char *name, const char *text,
                        size_t len, struct err *e)
{
    if (len > FILE_MAX_BYTES)
        return err_set(e, ERR_TOO_LARGE, "%s is larger than 1 MiB", name);
    if (kind == SETTINGS_TEXT_YAML)
        return yaml_apply(s, name, text, len, e);
    struct dotenv d = {.path = name, .len = len};
    d.buf = xmalloc(len + 1);
    memcpy(d.buf, text, len);
    d.buf[len] = '\0';
    int rc = dotenv_parse(&d, e);
    if (rc == 0)
        rc = env_layer(s, &(struct env_source){.dotenv = &d}, e);
    dotenv_release(&d);
    return rc;
}

/* ---- command line ---------------------------------------------------------------- */

struct flag_value {
    const struct setting *d;
    const char *value; /* borrowed from argv */
};

/* The name of the option getopt_long returned as `val`, for messages. */
static const char *option_name(int val)
{
    if (val >= OPT_TABLE && val < OPT_CLI)
        return settings_table[val - OPT_TABLE].flag;
    if (val >= OPT_CLI && val < OPT_CLI + CLI_COUNT)
        return cli_options[val - OPT_CLI].name;
    return "?";
}

/*
 * Parse the flags: command-line-only options go straight into `s`, the rest into
 * `out` to be applied last. Leaves optind at the first non-option argument.
 */
static int flags_parse(struct settings *s, int argc, char **argv, struct flag_value *out, size_t *nout, struct err *e)
{
    struct option longopts[TABLE_LEN + CLI_COUNT + 1];
    size_t n = 0;
    for (size_t i = 0; i < TABLE_LEN; i++)
        if (settings_table[i].flag != NULL)
            longopts[n++] = (struct option){settings_table[i].flag,
                                            settings_table[i].type == SET_BOOL ? no_argument : required_argument, NULL,
                                            OPT_TABLE + (int)i};
    for (int i = 0; i < CLI_COUNT; i++)
        longopts[n++] = (struct option){cli_options[i].name, cli_options[i].arg ? required_argument : no_argument, NULL,
                                        OPT_CLI + i};
    longopts[n] = (struct option){NULL, 0, NULL, 0};

    optind = 0; /* full reset, so this may run more than once per process */
    opterr = 0;
    for (;;) {
        int c = getopt_long(argc, argv, "+:h", longopts, NULL);
        if (c == -1)
            return 0;
        if (c == ':')
            return err_set(e, ERR_INVALID, "--%s needs a value", option_name(optopt));
        if (c == '?') {
            char q[SHOWN_MAX + 8];
            if (optopt >= OPT_TABLE)
                return err_set(e, ERR_INVALID, "--%s takes no value", option_name(optopt));
            if (optopt != 0)
                return err_set(e, ERR_INVALID, "unknown option \"-%c\"", optopt);
            const char *bad = argv[optind - 1];
            size_t len = strcspn(bad, "=");
            char name[SHOWN_MAX + 8];
            snprintf(name, sizeof(name), "%.*s", (int)(len < SHOWN_MAX ? len : SHOWN_MAX), bad);
            return err_set(e, ERR_INVALID, "unknown option \"%s\"", shown(name, q, sizeof(q)));
        }
        if (c == 'h' || c == OPT_CLI + CLI_HELP)
            s->show_help = 1;
        else if (c == OPT_CLI + CLI_VERSION)
            s->show_version = 1;
        else if (c == OPT_CLI + CLI_CHECK_CONFIG)
            s->check_config = 1;
        else if (c == OPT_CLI + CLI_CONFIG || c == OPT_CLI + CLI_ENV_FILE) {
            char **dst = c == OPT_CLI + CLI_CONFIG ? &s->config_file : &s->env_file;
            free(*dst);
            *dst = xstrdup(optarg);
        } else if (c >= OPT_TABLE && c < OPT_CLI) {
            const struct setting *d = &settings_table[c - OPT_TABLE];
            out[(*nout)++] = (struct flag_value){d, d->type == SET_BOOL ? "true" : optarg};
        }
    }
}

/* Apply the flags in order. A list flag replaces the list the first time and appends after. */
static int flags_apply(struct settings *s, const struct flag_value *flags, size_t n, struct err *e)
{
    unsigned char replaced[TABLE_LEN] = {0};
    for (size_t i = 0; i < n; i++) {
        const struct setting *d = flags[i].d;
        struct err inner = {0};
        int rc;
        if (d->type == SET_LIST) {
            if (!replaced[d - settings_table])
                list_clear(s, d);
            replaced[d - settings_table] = 1;
            rc = list_add(s, d, flags[i].value, &inner);
        } else {
            rc = setting_set(s, d, flags[i].value, &inner);
        }
        if (rc != 0)
            return err_set(e, ERR_INVALID, "--%s: %s", d->flag, inner.msg);
    }
    return 0;
}

/* ---- whole ----------------------------------------------------------------------- */

/* Checks that involve the final value of a setting rather than one layer's text. */
static int settings_check(struct settings *s, struct err *e)
{
    for (size_t i = 0; i < s->nability_methods; i++)
        if (strcmp(s->ability_methods[i], "manual") == 0 && !s->manual_scores)
            return err_set(e, ERR_INVALID,
                           "rules.ability_methods: \"manual\" needs rules.manual_scores: true as well");
    for (size_t i = 0; i < TABLE_LEN; i++) {
        const struct setting *d = &settings_table[i];
        if (d->type == SET_LIST && (long long)*list_count(s, d) < d->min)
            return err_set(e, ERR_INVALID, "%s: expected at least %lld entr%s", d->key, d->min,
                           d->min == 1 ? "y" : "ies");
    }
    if (s->workers == 0) {
        long cpus = sysconf(_SC_NPROCESSORS_ONLN);
        s->workers = cpus < 1 ? 1 : cpus > 256 ? 256 : (int)cpus;
    }
    return 0;
}

/*
 * Fill `s` with the built-in defaults of every table row. Strings are owned copies;
 * settings with no default (API key, HarperDB, migrations.dir) stay NULL.
 */
void settings_init(struct settings *s)
{
    memset(s, 0, sizeof(*s));
    for (size_t i = 0; i < TABLE_LEN; i++) {
        const struct setting *d = &settings_table[i];
        struct err e = {0};
        if (d->def != NULL && setting_set_text(s, d, d->def, &e) != 0) {
            log_error("built-in default of \"%s\" is invalid: %s", d->key, e.msg);
            abort();
        }
    }
}

/*
 * Load, in order: defaults, the YAML file (--config), the .env file (--env-file, or
 * ./.env when present), the process environment `envp`, then the flags. `s` must come
 * from settings_init() or be all zeros; its previous contents are released. With
 * --help or --version only the flags are read (a broken config cannot hide the help).
 * On return optind is the index of the first non-option argument in argv (a
 * subcommand), also on error if the flags parsed. Returns 0, or ERR_INVALID, ERR_IO or
 * ERR_TOO_LARGE with a message that names the file:line:column, the environment
 * variable or the flag; `s` then holds a partial result that must still be released.
 * Server.workers 0 is resolved to the number of online CPUs (1..256).
 */
int settings_load(struct settings *s, int argc, char **argv, char **envp, struct err *e)
{
    struct dotenv dotenv = {0};
    struct flag_value *flags = xcalloc(argc > 0 ? (size_t)argc : 1, sizeof(*flags));
    size_t nflags = 0;
    int rc = 0;

    settings_release(s);
    settings_init(s);
    if (argc > 0 && argv != NULL)
        rc = flags_parse(s, argc, argv, flags, &nflags, e);
    else
        optind = 1;
    if (rc != 0 || s->show_help || s->show_version)
        goto out;
    if (s->config_file != NULL && (rc = yaml_layer(s, s->config_file, e)) != 0)
        goto out;
    if ((rc = dotenv_load(s, &dotenv, e)) != 0)
        goto out;
    if (dotenv.buf != NULL && (rc = env_layer(s, &(struct env_source){.dotenv = &dotenv}, e)) != 0)
        goto out;
    if ((rc = env_layer(s, &(struct env_source){.envp = envp}, e)) != 0)
        goto out;
    if ((rc = flags_apply(s, flags, nflags, e)) != 0)
        goto out;
    rc = settings_check(s, e);
out:
    dotenv_release(&dotenv);
    free(flags);
    return rc;
}

/* Free every owned string (secrets wiped first) and zero the struct. Safe on a zeroed struct. */
void settings_release(struct settings *s)
{
    for (size_t i = 0; i < TABLE_LEN; i++) {
        const struct setting *d = &settings_table[i];
        if (d->type == SET_LIST)
            list_clear(s, d);
        else if (d->type == SET_STRING)
            string_replace(s, d, NULL);
    }
    free(s->config_file);
    free(s->env_file);
    memset(s, 0, sizeof(*s));
}

/* A YAML double-quoted scalar. */
static void print_quoted(FILE *out, const char *v)
{
    fputc('"', out);
    for (; *v != '\0'; v++) {
        unsigned char c = (unsigned char)*v;
        if (c == '"' || c == '\\')
            fprintf(out, "\\%c", c);
        else if (c == '\n')
            fputs("\\n", out);
        else if (c < 0x20 || c == 0x7f)
            fprintf(out, "\\x%02x", c);
        else
            fputc(c, out);
    }
    fputc('"', out);
}

/*
 * Print the effective settings as YAML, one section per key prefix, in table order.
 * Secrets print as "(set)" when set and are left out otherwise.
 */
void settings_print(const struct settings *s, FILE *out)
{
    const char *section = "";
    size_t section_len = 0;
    fputs("# effective settings\n", out);
    if (s->config_file != NULL)
        fprintf(out, "# config file: %s\n", s->config_file);
    if (s->env_file != NULL)
        fprintf(out, "# env file: %s\n", s->env_file);
    for (size_t i = 0; i < TABLE_LEN; i++) {
        const struct setting *d = &settings_table[i];
        const char *dot = strrchr(d->key, '.');
        size_t plen = (size_t)(dot - d->key);
        const char *leaf = dot + 1;
        const void *f = field_c(s, d);
        if (d->secret && (d->type == SET_LIST ? list_count_c(s, d) == 0 : *(char *const *)f == NULL))
            continue;
        if (plen != section_len || strncmp(section, d->key, plen) != 0) {
            fprintf(out, "%.*s:\n", (int)plen, d->key);
            section = d->key;
            section_len = plen;
        }
        int block = d->type == SET_LIST && !d->secret && list_count_c(s, d) > 0; /* entries on their own lines */
        fprintf(out, "  %s:%s", leaf, block ? "" : " ");
        switch (d->type) {
        case SET_STRING:
            if (d->secret)
                fputs("(set)", out);
            else if (*(char *const *)f == NULL)
                fputs("~", out);
            else
                print_quoted(out, *(char *const *)f);
            break;
        case SET_LIST: {
            size_t n = list_count_c(s, d);
            if (d->secret) {
                fprintf(out, "(set)  # %zu entr%s", n, n == 1 ? "y" : "ies");
            } else if (n == 0) {
                fputs("[]", out);
            } else {
                for (size_t j = 0; j < n; j++) {
                    fputs("\n    - ", out);
                    print_quoted(out, ((char *const *)f)[j]);
                }
            }
            break;
        }
        case SET_INT:
        case SET_MS: fprintf(out, "%d", *(const int *)f); break;
        case SET_BOOL: fputs(*(const int *)f ? "true" : "false", out); break;
        case SET_SIZE: fprintf(out, "%zu", *(const size_t *)f); break;
        case SET_SECONDS: {
            int ms = *(const int *)f;
            if (ms % 1000 == 0) {
                fprintf(out, "%d", ms / 1000);
            } else {
                char frac[8];
                snprintf(frac, sizeof(frac), "%03d", ms % 1000);
                for (size_t k = strlen(frac); k > 1 && frac[k - 1] == '0'; k--)
                    frac[k - 1] = '\0';
                fprintf(out, "%d.%s", ms / 1000, frac);
            }
            break;
        }
        }
        fputc('\n', out);
    }
}

/*
 * Print the --help text for `prog`: usage, the flags, and a table of every setting
 * with its environment name(s), default and help.
 */
void settings_usage(FILE *out, const char *prog)
{
    char buf[KEY_MAX];
    fprintf(out, "usage: %s [OPTIONS] [COMMAND [ARGS...]]\n\n", prog ? prog : "character-server");
    fputs("options:\n", out);
    for (int i = 0; i < CLI_COUNT; i++) {
        snprintf(buf, sizeof(buf), "--%s%s%s", cli_options[i].name, cli_options[i].arg ? " " : "",
                 cli_options[i].arg ? cli_options[i].arg : "");
        fprintf(out, "  %-22s %s\n", buf, cli_options[i].help);
    }
    for (size_t i = 0; i < TABLE_LEN; i++) {
        const struct setting *d = &settings_table[i];
        if (d->flag == NULL)
            continue;
        snprintf(buf, sizeof(buf), "--%s%s%s", d->flag, d->flag_arg ? " " : "", d->flag_arg ? d->flag_arg : "");
        if (d->type == SET_LIST)
            fprintf(out, "  %-22s add to %s (the first replaces the configured list)\n", buf, d->key);
        else if (d->type == SET_BOOL)
            fprintf(out, "  %-22s set %s to true\n", buf, d->key);
        else
            fprintf(out, "  %-22s set %s\n", buf, d->key);
    }
    fputs("\nsettings come from, highest first: flags, the environment, the .env file,\n"
          "the --config YAML file (nested on the dots), the defaults. Lists are\n"
          "comma-separated in the environment.\n\n",
          out);
    fprintf(out, "  %-24s %-40s %s\n", "KEY", "ENVIRONMENT", "DEFAULT");
    for (size_t i = 0; i < TABLE_LEN; i++) {
        const struct setting *d = &settings_table[i];
        char env[KEY_MAX * 2];
        env_name(d, buf, sizeof(buf));
        snprintf(env, sizeof(env), "%s%s%s", buf, d->legacy_env ? ", " : "", d->legacy_env ? d->legacy_env : "");
        fprintf(out, "  %-24s %-40s %s\n      %s\n", d->key, env, d->def ? d->def : "-", d->help);
    }
}

/* `sub` of the source tree when this binary runs from a build tree (config.status beside it), else of the installed data. */
static char *default_dir(const char *sub)
{
    char exe[PATH_MAX], path[PATH_MAX + 64];
    struct stat st;
    ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
    if (n > 0) {
        exe[n] = '\0';
        char *slash = strrchr(exe, '/');
        if (slash != NULL && (size_t)(slash + 1 - exe) + sizeof("config.status") <= sizeof(exe)) {
            strcpy(slash + 1, "config.status");
            snprintf(path, sizeof(path), "%s/%s", SRCDIR, sub);
            if (stat(exe, &st) == 0 && stat(path, &st) == 0)
                return xstrdup(path);
        }
    }
    snprintf(path, sizeof(path), "%s/%s", DATADIR, sub);
    return xstrdup(path);
}

void settings_default_dirs(struct settings *s)
{
    if (s->migrations_dir == NULL)
        s->migrations_dir = default_dir("migrations");
    if (s->rules_dir == NULL)
        s->rules_dir = default_dir("rules/data");
}
