/*
 * tests/e2e/harness.c - see harness.h. Process control is plain POSIX (fork,
 * execve, waitpid, kill on pids we spawned), worker discovery reads /proc, and
 * HTTP is libcurl's easy interface. Everything a child needs is prepared before
 * fork(), so the child only calls async-signal-safe functions before execve().
 */
#include "harness.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

#define HARNESS_MAX_SERVERS 16
#define HARNESS_MAX_ARGS 64
#define HARNESS_MAX_ENV 512
#define HARNESS_START_TIMEOUT_S 10.0
#define HARNESS_STOP_TIMEOUT_S 15.0
#define HARNESS_HTTP_TIMEOUT_MS 5000L
#define HARNESS_BODY_MAX (64u << 20) /* a response larger than this is a bug worth failing on */

static struct harness_server *live[HARNESS_MAX_SERVERS];
static pthread_once_t curl_once = PTHREAD_ONCE_INIT;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void sleep_s(double s)
{
    struct timespec ts = {(time_t)s, (long)((s - (time_t)s) * 1e9)};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

static void set_why(char *why, size_t whylen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void set_why(char *why, size_t whylen, const char *fmt, ...)
{
    if (why == NULL || whylen == 0)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, whylen, fmt, ap);
    va_end(ap);
}

static void remember(struct harness_server *s)
{
    for (int i = 0; i < HARNESS_MAX_SERVERS; i++)
        if (live[i] == s)
            return;
    for (int i = 0; i < HARNESS_MAX_SERVERS; i++)
        if (live[i] == NULL) {
            live[i] = s;
            return;
        }
}

static void forget(struct harness_server *s)
{
    for (int i = 0; i < HARNESS_MAX_SERVERS; i++)
        if (live[i] == s)
            live[i] = NULL;
}

int harness_free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = 0};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof(sa);
    int port = -1;
    if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0 && getsockname(fd, (struct sockaddr *)&sa, &len) == 0)
        port = ntohs(sa.sin_port);
    int saved = errno;
    close(fd);
    errno = saved;
    return port;
}

int harness_random_hex(char *out, size_t nbytes)
{
    static const char hex[] = "0123456789abcdef";
    unsigned char buf[256];
    if (nbytes > sizeof(buf))
        return -1;
    int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    size_t got = 0;
    while (got < nbytes) {
        ssize_t n = read(fd, buf + got, nbytes - got);
        if (n <= 0 && errno != EINTR) {
            close(fd);
            return -1;
        }
        if (n > 0)
            got += (size_t)n;
    }
    close(fd);
    for (size_t i = 0; i < nbytes; i++) {
        out[2 * i] = hex[buf[i] >> 4];
        out[2 * i + 1] = hex[buf[i] & 15];
    }
    out[2 * nbytes] = '\0';
    return 0;
}

static const char *dir_from_env(const char *name)
{
    const char *v = getenv(name);
    return v != NULL && v[0] != '\0' ? v : ".";
}

const char *harness_binary(char *out, size_t outlen)
{
    snprintf(out, outlen, "%s/character-server", dir_from_env("top_builddir"));
    return out;
}

/* 1 when the environment entry must not leak from the test's environment into the server's. */
static int env_filtered(const char *entry)
{
    static const char *const names[] = {"API_TOKENS=", "API_KEY=", "DB_URI=", "DB_USER=", "DB_PASSWORD="};
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (strncmp(entry, names[i], strlen(names[i])) == 0)
            return 1;
    return strncmp(entry, "CHARACTER_", 10) == 0;
}

/*
 * Build a child environment into envp[0..max): filtered environ, then `tokens`
 * (may be NULL), then `extra`. Strings are borrowed; envp is NULL-terminated.
 */
static void build_env(const char **envp, size_t max, const char *tokens, const char *const *extra)
{
    size_t n = 0;
    for (char **e = environ; *e != NULL && n + 1 < max; e++)
        if (!env_filtered(*e))
            envp[n++] = *e;
    if (tokens != NULL && n + 1 < max)
        envp[n++] = tokens;
    for (size_t i = 0; extra != NULL && extra[i] != NULL && n + 1 < max; i++)
        envp[n++] = extra[i];
    envp[n] = NULL;
}

/*
 * fork + execve with stdin from /dev/null, stdout to out_path and stderr to
 * err_path (the same file when equal), in folder `cwd`, as the leader of a new
 * process group. Returns the pid, or -1.
 */
static pid_t spawn(const char *const *argv, const char *const *envp, const char *cwd, const char *out_path,
                   const char *err_path)
{
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        setpgid(0, 0);
        if (chdir(cwd) != 0)
            _exit(126);
        int in = open("/dev/null", O_RDONLY);
        int out = open(out_path, O_WRONLY | O_CREAT | O_APPEND, 0600);
        int err = strcmp(out_path, err_path) == 0 ? out : open(err_path, O_WRONLY | O_CREAT | O_APPEND, 0600);
        if (in < 0 || out < 0 || err < 0)
            _exit(126);
        dup2(in, 0);
        dup2(out, 1);
        dup2(err, 2);
        execve(argv[0], (char *const *)argv, (char *const *)envp);
        _exit(127);
    }
    setpgid(pid, pid); /* also from the parent, so a signal to the group cannot race the child */
    return pid;
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static void remove_tree(const char *dir)
{
    if (dir != NULL && dir[0] != '\0')
        nftw(dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static char *read_whole(const char *path, size_t *lenp)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return NULL;
    size_t cap = 4096, len = 0;
    char *buf = malloc(cap);
    for (;;) {
        if (len + 1 >= cap) {
            cap *= 2;
            buf = realloc(buf, cap);
        }
        size_t n = fread(buf + len, 1, cap - len - 1, f);
        if (n == 0)
            break;
        len += n;
    }
    fclose(f);
    buf[len] = '\0';
    if (lenp != NULL)
        *lenp = len;
    return buf;
}

char *harness_server_log(const struct harness_server *s)
{
    return s->log_path[0] != '\0' ? read_whole(s->log_path, NULL) : NULL;
}

int harness_pid_alive(pid_t pid)
{
    char path[64], buf[512];
    snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    ssize_t n = read(fd, buf, sizeof(buf) - 1);
    close(fd);
    if (n <= 0)
        return 0;
    buf[n] = '\0';
    char *rp = strrchr(buf, ')');
    return rp != NULL && rp[1] == ' ' && rp[2] != 'Z' && rp[2] != 'X';
}

/* ppid and pgrp of a live process from /proc/PID/stat; 0, or -1 when gone or a zombie. */
static int proc_parent(pid_t pid, pid_t *ppid, pid_t *pgrp)
{
    char path[64], buf[512];
    snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    ssize_t n = read(fd, buf, sizeof(buf) - 1);
    close(fd);
    if (n <= 0)
        return -1;
    buf[n] = '\0';
    char *rp = strrchr(buf, ')'); /* the command name may hold spaces and parentheses */
    char state;
    int pp, pg;
    if (rp == NULL || sscanf(rp + 1, " %c %d %d", &state, &pp, &pg) != 3 || state == 'Z' || state == 'X')
        return -1;
    *ppid = pp;
    *pgrp = pg;
    return 0;
}

static int cmp_pid(const void *a, const void *b)
{
    pid_t x = *(const pid_t *)a, y = *(const pid_t *)b;
    return (x > y) - (x < y);
}

/* Processes whose ppid (by_group 0) or process group (by_group 1) is `who`, sorted, not counting `who`. */
static size_t scan_proc(pid_t who, int by_group, pid_t *out, size_t max)
{
    DIR *d = opendir("/proc");
    if (d == NULL)
        return 0;
    size_t n = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        char *end;
        long p = strtol(de->d_name, &end, 10);
        if (*end != '\0' || p <= 0 || p == who)
            continue;
        pid_t pp, pg;
        if (proc_parent((pid_t)p, &pp, &pg) != 0 || (by_group ? pg : pp) != who)
            continue;
        if (n < max)
            out[n] = (pid_t)p;
        n++;
    }
    closedir(d);
    qsort(out, n < max ? n : max, sizeof(pid_t), cmp_pid);
    return n;
}

size_t harness_server_workers(const struct harness_server *s, pid_t *out, size_t max)
{
    if (s->pid <= 0 || s->reaped)
        return 0;
    return scan_proc(s->pid, 0, out, max);
}

int harness_port_accepts(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return 0;
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int ok = connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0;
    close(fd);
    return ok;
}

int harness_server_wait_exit(struct harness_server *s, double timeout_s)
{
    if (s->reaped)
        return 0;
    if (s->pid <= 0)
        return -1;
    double deadline = now_s() + timeout_s;
    for (;;) {
        int st;
        pid_t r = waitpid(s->pid, &st, WNOHANG);
        if (r == s->pid || (r < 0 && errno == ECHILD)) {
            s->status = r == s->pid ? st : -1;
            s->reaped = 1;
            return 0;
        }
        if (now_s() >= deadline)
            return -1;
        sleep_s(0.01);
    }
}

/* SIGKILL whatever is left in the master's process group (orphaned workers). */
static void kill_group_leftovers(const struct harness_server *s)
{
    pid_t left[8];
    if (s->pid > 0 && scan_proc(s->pid, 1, left, 8) > 0)
        kill(-s->pid, SIGKILL);
}

int harness_server_stop(struct harness_server *s)
{
    if (s->pid <= 0)
        return -1;
    if (!s->reaped) {
        kill(s->pid, SIGTERM);
        if (harness_server_wait_exit(s, HARNESS_STOP_TIMEOUT_S) != 0) {
            fprintf(stderr, "harness: server %d ignored SIGTERM for %.0f s; killing it\n", (int)s->pid,
                    HARNESS_STOP_TIMEOUT_S);
            kill(s->pid, SIGKILL);
            harness_server_wait_exit(s, 5.0);
        }
    }
    kill_group_leftovers(s);
    return s->status;
}

void harness_server_cleanup(struct harness_server *s)
{
    if (s->pid > 0)
        harness_server_stop(s);
    s->pid = 0;
    remove_tree(s->dir);
    s->dir[0] = '\0';
    s->log_path[0] = '\0';
    forget(s);
}

void harness_cleanup_all(void)
{
    for (int i = 0; i < HARNESS_MAX_SERVERS; i++)
        if (live[i] != NULL)
            harness_server_cleanup(live[i]);
}

static void cleanup_at_exit(void)
{
    harness_cleanup_all();
}

int harness_server_spawn(struct harness_server *s, const struct harness_options *o, char *why, size_t whylen)
{
    static int atexit_done;
    struct harness_options defaults = {0};
    if (o == NULL)
        o = &defaults;
    memset(s, 0, sizeof(*s));
    if (!atexit_done) {
        atexit(cleanup_at_exit);
        atexit_done = 1;
    }
    snprintf(s->dir, sizeof(s->dir), "/tmp/character-e2e-XXXXXX");
    if (mkdtemp(s->dir) == NULL) {
        set_why(why, whylen, "mkdtemp: %s", strerror(errno));
        s->dir[0] = '\0';
        return -1;
    }
    snprintf(s->log_path, sizeof(s->log_path), "%s/server.log", s->dir);
    if (harness_random_hex(s->write_token, HARNESS_TOKEN_CHARS / 2) != 0 ||
        harness_random_hex(s->read_token, HARNESS_TOKEN_CHARS / 2) != 0 || (s->port = harness_free_port()) < 0) {
        set_why(why, whylen, "cannot make tokens or find a port: %s", strerror(errno));
        harness_server_cleanup(s);
        return -1;
    }
    snprintf(s->base_url, sizeof(s->base_url), "http://127.0.0.1:%d", s->port);

    char bin[PATH_MAX], bind[64], workers[16], db[PATH_MAX + 16], migrations[PATH_MAX];
    char tokens[2 * HARNESS_TOKEN_CHARS + 32];
    harness_binary(bin, sizeof(bin));
    snprintf(bind, sizeof(bind), "127.0.0.1:%d", s->port);
    snprintf(workers, sizeof(workers), "%d", o->workers > 0 ? o->workers : 2);
    snprintf(db, sizeof(db), "%s/test.db", s->dir);
    snprintf(migrations, sizeof(migrations), "%s/migrations", dir_from_env("top_srcdir"));
    snprintf(tokens, sizeof(tokens), "API_TOKENS=%s,reader:read:%s", s->write_token, s->read_token);
    if (access(bin, X_OK) != 0) {
        set_why(why, whylen, "no executable \"%s\" (build it first; set top_builddir)", bin);
        harness_server_cleanup(s);
        return -1;
    }

    const char *argv[HARNESS_MAX_ARGS];
    size_t n = 0;
    const char *fixed[] = {bin, "--bind", bind, "--workers", workers, "--database", db, "--migrations", migrations};
    for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++)
        argv[n++] = fixed[i];
    if (!o->no_migrate)
        argv[n++] = "--migrate";
    for (size_t i = 0; o->args != NULL && o->args[i] != NULL && n + 1 < HARNESS_MAX_ARGS; i++)
        argv[n++] = o->args[i];
    argv[n] = NULL;
    const char *envp[HARNESS_MAX_ENV];
    build_env(envp, HARNESS_MAX_ENV, o->no_tokens ? NULL : tokens, o->env);

    s->pid = spawn(argv, envp, s->dir, s->log_path, s->log_path);
    if (s->pid < 0) {
        set_why(why, whylen, "fork: %s", strerror(errno));
        s->pid = 0;
        harness_server_cleanup(s);
        return -1;
    }
    remember(s);
    return 0;
}

/* Copy the last `max` bytes of the log into why after `prefix`. */
static void why_with_log(const struct harness_server *s, char *why, size_t whylen, const char *prefix)
{
    char *log = harness_server_log(s);
    const char *tail = log != NULL ? log : "(no log)";
    size_t len = strlen(tail);
    if (len > 1500)
        tail += len - 1500;
    set_why(why, whylen, "%s; server log:\n%s", prefix, tail);
    free(log);
}

/* GET /healthz with a short timeout; 1 when it answers 200. */
static int healthy(const struct harness_server *s)
{
    char url[128];
    snprintf(url, sizeof(url), "%s/healthz", s->base_url);
    struct http_response r;
    int ok = http_request("GET", url, NULL, NULL, 0, &r) == 0 && r.status == 200;
    http_response_release(&r);
    return ok;
}

int harness_server_start(struct harness_server *s, const struct harness_options *o, char *why, size_t whylen)
{
    static const struct harness_options defaults = {0};
    if (o == NULL)
        o = &defaults;
    if (harness_server_spawn(s, o, why, whylen) != 0)
        return -1;
    double deadline = now_s() + HARNESS_START_TIMEOUT_S;
    while (now_s() < deadline) {
        if (harness_server_wait_exit(s, 0) == 0) {
            char prefix[96];
            snprintf(prefix, sizeof(prefix), "server exited during start (wait status 0x%x)", s->status);
            why_with_log(s, why, whylen, prefix);
            harness_server_cleanup(s);
            return -1;
        }
        if (healthy(s)) {
            /* One worker answering does not mean the master has forked the others yet (a loaded
             * machine may run the first worker before the master's next fork): wait for them. */
            pid_t kids[64];
            size_t want = o->workers > 0 ? (size_t)o->workers : 2;
            while (scan_proc(s->pid, 0, kids, 64) < want && now_s() < deadline)
                sleep_s(0.02);
            return 0;
        }
        sleep_s(0.05);
    }
    why_with_log(s, why, whylen, "GET /healthz did not answer 200 within 10 s");
    harness_server_cleanup(s);
    return -1;
}

int harness_group_start(struct harness_server *s, const struct harness_options *o, const char *suite,
                        char *auth_write, char *auth_read, size_t cap)
{
    char why[2048];
    if (harness_server_start(s, o, why, sizeof(why)) != 0) {
        fprintf(stderr, "%s: cannot start the server: %s\n", suite, why);
        return -1;
    }
    snprintf(auth_write, cap, "Authorization: Bearer %s", s->write_token);
    snprintf(auth_read, cap, "Authorization: Bearer %s", s->read_token);
    return 0;
}

int harness_server_expect_failure(const struct harness_options *o, int *status, char *log, size_t loglen)
{
    struct harness_server s;
    char why[256];
    if (harness_server_spawn(&s, o, why, sizeof(why)) != 0) {
        snprintf(log, loglen, "%s", why);
        return -1;
    }
    int rc = -1;
    double deadline = now_s() + HARNESS_START_TIMEOUT_S;
    while (now_s() < deadline) {
        if (harness_server_wait_exit(&s, 0) == 0) {
            rc = 0;
            break;
        }
        if (healthy(&s))
            break; /* it serves: not the failure the caller expected */
        sleep_s(0.05);
    }
    char *text = harness_server_log(&s);
    snprintf(log, loglen, "%s", text != NULL ? text : "");
    free(text);
    *status = s.status;
    harness_server_cleanup(&s);
    return rc;
}

int harness_run(const char *const *argv, const char *const *env, double timeout_s, struct harness_output *res)
{
    memset(res, 0, sizeof(*res));
    res->status = -1;
    char dir[] = "/tmp/character-e2e-run-XXXXXX";
    if (mkdtemp(dir) == NULL)
        return -1;
    char out_path[64], err_path[64];
    snprintf(out_path, sizeof(out_path), "%s/stdout", dir);
    snprintf(err_path, sizeof(err_path), "%s/stderr", dir);
    const char *envp[HARNESS_MAX_ENV];
    build_env(envp, HARNESS_MAX_ENV, NULL, env);
    pid_t pid = spawn(argv, envp, dir, out_path, err_path);
    int rc = -1;
    if (pid > 0) {
        double deadline = now_s() + timeout_s;
        int st;
        pid_t r;
        while ((r = waitpid(pid, &st, WNOHANG)) == 0 && now_s() < deadline)
            sleep_s(0.01);
        if (r == 0) {
            kill(-pid, SIGKILL);
            waitpid(pid, &st, 0);
        } else if (r == pid) {
            res->status = st;
        }
        res->out = read_whole(out_path, NULL);
        res->err = read_whole(err_path, NULL);
        if (res->out == NULL)
            res->out = strdup("");
        if (res->err == NULL)
            res->err = strdup("");
        rc = 0;
    }
    remove_tree(dir);
    return rc;
}

/* ---- HTTP ---- */

static void curl_setup_once(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
}

struct sink {
    char *buf;
    size_t len, cap;
    int overflow;
};

static int sink_add(struct sink *k, const char *data, size_t n)
{
    if (k->len + n + 1 > HARNESS_BODY_MAX) {
        k->overflow = 1;
        return -1;
    }
    if (k->len + n + 1 > k->cap) {
        size_t cap = k->cap ? k->cap : 1024;
        while (cap < k->len + n + 1)
            cap *= 2;
        char *nb = realloc(k->buf, cap);
        if (nb == NULL)
            return -1;
        k->buf = nb;
        k->cap = cap;
    }
    memcpy(k->buf + k->len, data, n);
    k->len += n;
    k->buf[k->len] = '\0';
    return 0;
}

static size_t on_body(char *data, size_t size, size_t nmemb, void *user)
{
    return sink_add(user, data, size * nmemb) == 0 ? size * nmemb : 0;
}

/* Keep only the last response's header block: a status line starts a new one (after 100 Continue). */
static size_t on_header(char *data, size_t size, size_t nmemb, void *user)
{
    struct sink *k = user;
    size_t n = size * nmemb;
    if (n >= 5 && memcmp(data, "HTTP/", 5) == 0)
        k->len = 0;
    return sink_add(k, data, n) == 0 ? n : 0;
}

static int has_header(const char *const *headers, const char *name)
{
    size_t nl = strlen(name);
    for (size_t i = 0; headers != NULL && headers[i] != NULL; i++)
        if (strncasecmp(headers[i], name, nl) == 0 && headers[i][nl] == ':')
            return 1;
    return 0;
}

static int do_request(CURL *h, const char *method, const char *url, const char *const *headers, const void *body,
                      size_t len, struct http_response *res)
{
    memset(res, 0, sizeof(*res));
    struct sink b = {0}, hd = {0};
    struct curl_slist *list = NULL;
    for (size_t i = 0; headers != NULL && headers[i] != NULL; i++)
        list = curl_slist_append(list, headers[i]);
    /* A header with no value tells curl not to send its default. */
    if (!has_header(headers, "Content-Type"))
        list = curl_slist_append(list, "Content-Type:");
    if (!has_header(headers, "Expect"))
        list = curl_slist_append(list, "Expect:");
    if (!has_header(headers, "Accept"))
        list = curl_slist_append(list, "Accept:");

    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_NOPROXY, "*");
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, HARNESS_HTTP_TIMEOUT_MS);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, list);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &b);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, &hd);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, res->error);
    curl_easy_setopt(h, CURLOPT_NOBODY, 0L);
    if (body != NULL) {
        curl_easy_setopt(h, CURLOPT_POST, 1L);
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, len > 0 ? body : "");
        curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, strcmp(method, "POST") == 0 ? NULL : method);
    } else if (strcmp(method, "GET") == 0) {
        curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
        curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, NULL);
    } else if (strcmp(method, "HEAD") == 0) {
        curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
        curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, NULL);
    } else {
        curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
        curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
    }
    CURLcode cc = curl_easy_perform(h);
    curl_slist_free_all(list);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, NULL);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, NULL);
    res->curl_code = (int)cc;
    if (cc == CURLE_OK)
        res->error[0] = '\0';
    else if (res->error[0] == '\0')
        snprintf(res->error, sizeof(res->error), "%s", curl_easy_strerror(cc));
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &res->status);
    curl_easy_getinfo(h, CURLINFO_NUM_CONNECTS, &res->new_connections);
    if (b.buf == NULL)
        sink_add(&b, "", 0);
    if (hd.buf == NULL)
        sink_add(&hd, "", 0);
    res->body = b.buf;
    res->body_len = b.len;
    res->headers = hd.buf;
    res->headers_len = hd.len;
    if (cc != CURLE_OK)
        res->status = 0; /* no complete response */
    return cc == CURLE_OK ? 0 : -1;
}

int http_request(const char *method, const char *url, const char *const *headers, const void *body, size_t len,
                 struct http_response *res)
{
    struct http_client c;
    if (http_client_init(&c) != 0) {
        memset(res, 0, sizeof(*res));
        snprintf(res->error, sizeof(res->error), "curl_easy_init failed");
        return -1;
    }
    curl_easy_setopt(c.curl, CURLOPT_FORBID_REUSE, 1L);
    int rc = http_client_request(&c, method, url, headers, body, len, res);
    http_client_release(&c);
    return rc;
}

int http_client_init(struct http_client *c)
{
    pthread_once(&curl_once, curl_setup_once);
    c->curl = curl_easy_init();
    return c->curl != NULL ? 0 : -1;
}

void http_client_release(struct http_client *c)
{
    if (c->curl != NULL)
        curl_easy_cleanup(c->curl);
    c->curl = NULL;
}

int http_client_request(struct http_client *c, const char *method, const char *url, const char *const *headers,
                        const void *body, size_t len, struct http_response *res)
{
    return do_request(c->curl, method, url, headers, body, len, res);
}

int http_response_header(const struct http_response *res, const char *name, char *out, size_t outlen)
{
    size_t nl = strlen(name);
    const char *p = res->headers;
    if (p == NULL)
        return 0;
    while (*p != '\0') {
        const char *eol = strstr(p, "\r\n");
        if (eol == NULL)
            eol = p + strlen(p);
        if ((size_t)(eol - p) > nl && strncasecmp(p, name, nl) == 0 && p[nl] == ':') {
            const char *v = p + nl + 1, *e = eol;
            while (v < e && (*v == ' ' || *v == '\t'))
                v++;
            while (e > v && (e[-1] == ' ' || e[-1] == '\t'))
                e--;
            if (outlen > 0) {
                size_t n = (size_t)(e - v) < outlen - 1 ? (size_t)(e - v) : outlen - 1;
                memcpy(out, v, n);
                out[n] = '\0';
            }
            return 1;
        }
        p = *eol != '\0' ? eol + 2 : eol;
    }
    return 0;
}

void http_response_release(struct http_response *res)
{
    free(res->body);
    free(res->headers);
    memset(res, 0, sizeof(*res));
}

json_t *harness_json(const struct http_response *res)
{
    if (res->body == NULL)
        return NULL;
    json_error_t err;
    return json_loadb(res->body, res->body_len, JSON_DECODE_ANY, &err);
}

int harness_problem_has(const json_t *problem, const char *field, const char *code)
{
    json_t *errors = json_object_get(problem, "errors");
    if (!json_is_array(errors))
        return 0;
    size_t i;
    json_t *x;
    json_array_foreach(errors, i, x)
    {
        const char *f = json_string_value(json_object_get(x, "field"));
        const char *c = json_string_value(json_object_get(x, "code"));
        if (f != NULL && c != NULL && strcmp(f, field) == 0 && strcmp(c, code) == 0)
            return 1;
    }
    return 0;
}
