/*
 * tests/e2e/harness.h - drives the real character-server binary for the e2e
 * suite: starts it on a free loopback port with a temporary data folder and
 * random tokens, finds its workers through /proc, stops it and removes every
 * trace; runs its one-shot commands (token, --version, --check-config); and
 * talks HTTP to it over libcurl. It owns the processes and folders it creates
 * and nothing else: it never signals a process it did not start, and nothing
 * here is mocked in-process. Paths come from the environment variables
 * top_builddir (the binary) and top_srcdir (the migrations), which `make check`
 * exports; both default to the current folder.
 */
#ifndef TESTS_E2E_HARNESS_H
#define TESTS_E2E_HARNESS_H

#include <jansson.h>
#include <limits.h>
#include <stddef.h>
#include <sys/types.h>

#define HARNESS_TOKEN_CHARS 64 /* hex of 32 random bytes */

/* One started server. Fill nothing in: harness_server_start() owns every field. */
struct harness_server {
    pid_t pid;                                 /* master pid; 0 once reaped or never started */
    int port;                                  /* loopback TCP port it listens on */
    int status;                                /* wait(2) status once reaped */
    int reaped;                                /* 1 once the master has been waited for */
    char dir[128];                             /* temporary data folder, "" when removed */
    char log_path[PATH_MAX];                   /* DIR/server.log: the server's stdout and stderr */
    char base_url[64];                         /* "http://127.0.0.1:PORT" */
    char write_token[HARNESS_TOKEN_CHARS + 1]; /* bare entry in API_TOKENS: write scope */
    char read_token[HARNESS_TOKEN_CHARS + 1];  /* "reader:read:TOKEN" entry: read scope */
};

/* How to start a server; a zeroed struct gives 2 workers, both tokens and --migrate. */
struct harness_options {
    int workers;             /* --workers N; 0 means 2 */
    const char *const *args; /* extra command-line arguments, NULL-terminated; may be NULL */
    const char *const *env;  /* extra "NAME=VALUE" environment entries, NULL-terminated; may be NULL */
    int no_tokens;           /* leave API_TOKENS (and API_KEY) unset */
    int no_migrate;          /* omit --migrate */
};

/* What a finished command printed and how it ended. */
struct harness_output {
    int status; /* wait(2) status; -1 when it had to be killed or could not start */
    char *out;  /* its stdout, NUL-terminated; free() it */
    char *err;  /* its stderr, NUL-terminated; free() it */
};

/* A parsed HTTP response. Release with http_response_release(). */
struct http_response {
    long status;          /* HTTP status, 0 when no response arrived */
    int curl_code;        /* CURLcode of the transfer, 0 when it succeeded */
    char error[256];      /* curl's message when curl_code != 0 */
    long new_connections; /* connections opened for this transfer (0: a kept-alive one was reused) */
    char *body;           /* body bytes plus a NUL not counted in body_len; never NULL after a request */
    size_t body_len;
    char *headers; /* raw header block of the final response ("Name: value\r\n" lines) */
    size_t headers_len;
};

/* A libcurl easy handle that keeps its connection alive between requests. */
struct http_client {
    void *curl; /* CURL *, opaque here so callers need not include curl.h */
};

/*
 * Ask the kernel for a free loopback TCP port: bind 127.0.0.1:0, read the port,
 * close. Returns the port, or -1 with errno set. Another process may take the port
 * before it is used, so callers should treat a bind failure as retryable.
 */
int harness_free_port(void);

/* Fill out[0..2*nbytes) with hex of `nbytes` bytes from /dev/urandom and a NUL. 0, or -1 on error. */
int harness_random_hex(char *out, size_t nbytes);

/* Absolute path of the built character-server (from top_builddir) into out. Returns out. */
const char *harness_binary(char *out, size_t outlen);

/*
 * Make the folder, tokens and port and spawn the master as harness_server_start
 * does, but return at once, without waiting for it to answer (for tests of what
 * happens while it starts). 0, or -1 with why set and nothing left behind.
 */
int harness_server_spawn(struct harness_server *s, const struct harness_options *o, char *why, size_t whylen);

/*
 * Start a server as `o` says (NULL: defaults) and wait up to 10 s for
 * GET /healthz to answer 200. The server runs in its own process group, in a
 * new mkdtemp folder under /tmp (also its working directory, so no stray .env
 * is read), with stdout and stderr in s->log_path and an environment of ours
 * minus API_TOKENS, API_KEY, DB_* and CHARACTER_* settings, plus API_TOKENS set
 * to "<write>,reader:read:<read>" (unless o->no_tokens) and o->env. Returns 0
 * when it serves; on failure returns -1 with a reason (and the log's tail) in
 * why, having stopped the process and removed the folder.
 */
int harness_server_start(struct harness_server *s, const struct harness_options *o, char *why, size_t whylen);

/*
 * Start the server a test group shares (harness_server_start with `o`), say
 * why on stderr under the name `suite` when it cannot, and fill auth_write and
 * auth_read (cap bytes each) with "Authorization: Bearer <token>" header
 * lines for its write and read tokens. 0, or -1 (a failed group setup).
 */
int harness_group_start(struct harness_server *s, const struct harness_options *o, const char *suite,
                        char *auth_write, char *auth_read, size_t cap);

/*
 * Start a server that is expected to refuse to start, wait up to 10 s for it to
 * exit, and hand back its wait status and log text. Returns 0 when it exited by
 * itself (*status and log filled), -1 when it kept running (it served /healthz or
 * did not exit in time; it is then stopped) or could not be spawned. Everything
 * is cleaned up before returning.
 */
int harness_server_expect_failure(const struct harness_options *o, int *status, char *log, size_t loglen);

/*
 * Wait up to `timeout_s` seconds for the master to exit. Returns 0 when it has
 * exited (s->status and s->reaped set; immediately if already reaped), -1 on timeout.
 */
int harness_server_wait_exit(struct harness_server *s, double timeout_s);

/*
 * Stop the server: SIGTERM to the master, wait up to 15 s, then SIGKILL to the
 * master and anything left in its process group. Returns the master's wait
 * status, or -1 when there was nothing to stop. Leaves the folder in place.
 */
int harness_server_stop(struct harness_server *s);

/* Stop the server if it runs and remove its folder. Safe to call twice or on a zeroed struct. */
void harness_server_cleanup(struct harness_server *s);

/* Stop and remove every server this process started that is still known; for atexit and teardowns. */
void harness_cleanup_all(void);

/*
 * Live (not zombie) child processes of the master, found by scanning the ppid
 * field of /proc/PID/stat, sorted ascending into out[0..max). Returns how many
 * there are (may exceed max), or 0 when the master is not running.
 */
size_t harness_server_workers(const struct harness_server *s, pid_t *out, size_t max);

/* 1 when a process with this pid exists and is not a zombie, else 0. */
int harness_pid_alive(pid_t pid);

/*
 * The server's log so far as a new NUL-terminated string (caller frees), or
 * NULL when it cannot be read.
 */
char *harness_server_log(const struct harness_server *s);

/*
 * Run `argv` (argv[0] a path) to completion in a fresh temporary folder with our
 * environment filtered as for servers plus `env` (NULL-terminated, may be NULL),
 * stdin from /dev/null, killing it after `timeout_s`. Returns 0 and fills *res
 * (caller frees out and err) when it could be run, -1 otherwise.
 */
int harness_run(const char *const *argv, const char *const *env, double timeout_s, struct harness_output *res);

/* 1 when connect() to 127.0.0.1:port succeeds, 0 when refused or failing. */
int harness_port_accepts(int port);

/*
 * One HTTP request on a fresh connection: `method` ("GET", "POST", ...), full
 * `url`, `headers` a NULL-terminated list of "Name: value" (may be NULL), and a
 * body of `len` bytes (may hold NULs; body NULL means no body). curl's default
 * Content-Type and Expect headers are never added: send what the test names.
 * 5 s timeout, no proxy. Returns 0 when a response arrived, -1 on a transport
 * error (res->curl_code and res->error say which). Release *res either way.
 */
int http_request(const char *method, const char *url, const char *const *headers, const void *body, size_t len,
                 struct http_response *res);

/* Make a client whose connection stays open between requests. 0, or -1 when curl fails. */
int http_client_init(struct http_client *c);

/* Close the connection and free the handle. Safe on a zeroed struct. */
void http_client_release(struct http_client *c);

/* As http_request(), on the client's kept-alive connection when it still has one. */
int http_client_request(struct http_client *c, const char *method, const char *url, const char *const *headers,
                        const void *body, size_t len, struct http_response *res);

/*
 * Find response header `name` (case-insensitive) and copy its value, trimmed,
 * into out. Returns 1 when present, 0 when absent.
 */
int http_response_header(const struct http_response *res, const char *name, char *out, size_t outlen);

/* Free what a request stored in *res and zero it. */
void http_response_release(struct http_response *res);

/* Parse the body as JSON; a new reference, or NULL when it is not JSON. */
json_t *harness_json(const struct http_response *res);

/*
 * 1 when the problem document `problem` has an entry in "errors" with this
 * "field" and "code", else 0.
 */
int harness_problem_has(const json_t *problem, const char *field, const char *code);

/*
 * A valid build (API.md's example: a hill-dwarf life cleric, standard array)
 * as a printf format whose one %s is the name (JSON-escaped text).
 */
#define HARNESS_BUILD_FMT                                                                                              \
    "{\"name\":\"%s\",\"race\":\"dwarf\",\"subrace\":\"hill-dwarf\",\"class\":\"cleric\",\"subclass\":\"life\","  \
    "\"background\":\"acolyte\",\"alignment\":\"lawful-good\",\"level\":1,\"ability_scores\":{\"method\":"       \
    "\"standard_array\",\"assign\":{\"str\":13,\"dex\":8,\"con\":14,\"int\":10,\"wis\":15,\"cha\":12}},"          \
    "\"skills\":[\"history\",\"medicine\"],\"languages\":[\"giant\",\"elvish\"],\"choices\":{\"tool\":"           \
    "\"smiths-tools\"}}"

#endif
