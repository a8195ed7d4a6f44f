/*
 * server/worker.c - see worker.h. Signal handlers only set flags; the loop runs
 * in slices of at most 100 ms and looks at them between slices.
 */
#include "server/worker.h"

#include <errno.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
#include "common/xmalloc.h"
#include "server/http.h"
#include "server/listen.h"
#include "server/master.h"
#include "server/routes.h"

struct worker_conn {
    h2o_linklist_t link;
    h2o_socket_t *sock;
    struct worker *w;
    struct auth_memo auth;   /* the credentials this connection last proved */
    int busy;                /* requests parked waiting (e.g. for HarperDB) */
};

struct api_handler {
    h2o_handler_t super;
    struct worker *w;
};

static struct worker *self;
static void on_conn_close(void *data);
static volatile sig_atomic_t want_graceful, want_fast;

static void on_signal(int sig)
{
    if (sig == SIGTERM)
        want_graceful = 1;
    else
        want_fast = 1;
}

struct worker *worker_self(void)
{
    return self;
}

static struct worker_conn *conn_of(h2o_req_t *req)
{
    if (req->conn == NULL || req->conn->callbacks->get_socket == NULL)
        return NULL;
    h2o_socket_t *sock = req->conn->callbacks->get_socket(req->conn);
    if (sock == NULL || sock->on_close.cb != on_conn_close)
        return NULL;
    return sock->on_close.data;
}

void worker_conn_busy(h2o_req_t *req, int delta)
{
    struct worker_conn *c = conn_of(req);
    if (c != NULL)
        c->busy += delta;
}

struct auth_memo *worker_auth_memo(h2o_req_t *req)
{
    struct worker_conn *c = conn_of(req);
    return c != NULL ? &c->auth : NULL;
}

static int on_req(h2o_handler_t *h, h2o_req_t *req)
{
    struct api_handler *ah = (struct api_handler *)h;
    return routes_dispatch(ah->w, req);
}

static void on_conn_close(void *data)
{
    struct worker_conn *c = data;
    auth_memo_clear(&c->auth);
    h2o_linklist_unlink(&c->link);
    c->w->nconns--;
    free(c);
}

static void on_accept(h2o_socket_t *listener, const char *err)
{
    struct worker *w = listener->data;
    if (err != NULL)
        return;
    /*
     * One connection per wakeup, like nginx without multi_accept: every worker
     * polls the shared socket, so leaving the rest to the next wakeup spreads
     * a burst of connects over more workers. (server.reuseport balances best.)
     */
    h2o_socket_t *sock = h2o_evloop_socket_accept(listener);
    if (sock == NULL)
        return;
    struct worker_conn *c = xcalloc(1, sizeof(*c));
    c->sock = sock;
    c->w = w;
    h2o_linklist_insert(&w->conns, &c->link);
    w->nconns++;
    sock->on_close.cb = on_conn_close;
    sock->on_close.data = c;
    h2o_accept(&w->accept_ctx, sock);
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Stop accepting, ask protocols to wind down (Connection: close, GOAWAY). */
static void start_drain(struct worker *w)
{
    if (w->draining)
        return;
    w->draining = 1;
    for (size_t i = 0; i < w->nlisteners; i++) {
        h2o_socket_read_stop(w->listeners[i]);
        h2o_socket_close(w->listeners[i]);
    }
    w->nlisteners = 0;
    h2o_context_request_shutdown(&w->ctx);
}

/*
 * Close connections with nothing in flight: no buffered request bytes and no
 * response being written. shutdown(2) makes h2o see end-of-stream and free the
 * connection through its own path, so no h2o state is left dangling.
 */
static void close_idle(struct worker *w)
{
    for (h2o_linklist_t *n = w->conns.next; n != &w->conns; n = n->next) {
        struct worker_conn *c = H2O_STRUCT_FROM_MEMBER(struct worker_conn, link, n);
        if (c->busy == 0 && (c->sock->input == NULL || c->sock->input->size == 0) && !h2o_socket_is_writing(c->sock))
            shutdown(h2o_socket_get_fd(c->sock), SHUT_RDWR);
    }
}

static void setup_h2o(struct worker *w)
{
    h2o_config_init(&w->globalconf);
    /* h2o's own refusal is a text/plain 413 and a reset; keep it far above ours (DESIGN.md). */
    size_t hard = w->settings->body_limit * 8;
    w->globalconf.max_request_entity_size = hard;
    w->globalconf.http1.upgrade_to_http2 = w->settings->http2_upgrade;
    w->globalconf.server_name = h2o_iovec_init(H2O_STRLIT("character-api"));
    h2o_hostconf_t *host = h2o_config_register_host(&w->globalconf, h2o_iovec_init(H2O_STRLIT("default")), 65535);
    h2o_pathconf_t *path = h2o_config_register_path(host, "/", 0);
    struct api_handler *h = (struct api_handler *)h2o_create_handler(path, sizeof(*h));
    h->super.on_req = on_req;
    h->w = w;
    h2o_context_init(&w->ctx, h2o_evloop_create(), &w->globalconf);
    w->accept_ctx.ctx = &w->ctx;
    w->accept_ctx.hosts = w->globalconf.hosts;
}

static int add_listener(struct worker *w, int fd)
{
    h2o_socket_t *sock = h2o_evloop_socket_create(w->ctx.loop, fd, H2O_SOCKET_FLAG_DONT_READ);
    sock->data = w;
    h2o_socket_read_start(sock, on_accept);
    w->listeners[w->nlisteners++] = sock;
    return 0;
}


int worker_run(int index, const struct runtime *rt)
{
    const struct settings *s = rt->settings;
    static struct worker w;
    memset(&w, 0, sizeof(w));
    self = &w;
    w.index = index;
    w.settings = s;
    w.auth = rt->auth;
    w.rt = rt;
    h2o_linklist_init_anchor(&w.conns);
    /* SIGTERM (a graceful stop) also comes when the master dies. */
    pid_t master = getppid();
    if (master_child_init(on_signal))
        want_graceful = 1;
    char role[16];
    snprintf(role, sizeof(role), "worker.%d", index);
    log_setup((enum log_level)log_level_parse(s->log_level), role);

    unsigned char rnd[6];
    randombytes_buf(rnd, sizeof(rnd));
    sodium_bin2hex(w.reqid_prefix, sizeof(w.reqid_prefix), rnd, sizeof(rnd));

    struct err e = {0};
    struct store_options so = {.busy_timeout_ms = s->busy_timeout_ms,
                               .synchronous_full = strcmp(s->synchronous, "full") == 0,
                               .generation = rt->generation,
                               .cache_bytes = s->cache_bytes,
                               .outbox = rt->write_through,
                               .instance = rt->instance};
    if (store_open(s->database, &so, &w.store, &e) != 0 || store_prepare(w.store, &e) != 0) {
        log_error("%s", e.msg);
        store_close(w.store);
        return 3;
    }
    http_access_log = s->access_log;
    setup_h2o(&w);
    synclink_init(&w.sync, w.ctx.loop, master, (uint64_t)s->write_timeout_ms);
    for (size_t i = 0; i < rt->nfds; i++)
        add_listener(&w, rt->fds[i]);
    if (s->reuseport) {
        for (size_t i = 0; i < s->nbinds; i++) {
            if (listen_is_unix(s->binds[i]))
                continue; /* unix sockets are shared from the master */
            int fd = listen_open(s->binds[i], 1, &e);
            if (fd < 0) {
                log_error("%s", e.msg);
                return 3;
            }
            add_listener(&w, fd);
        }
    }
    log_debug("serving");

    double deadline = 0;
    while (1) {
        h2o_evloop_run(w.ctx.loop, 100);
        if (want_fast)
            break;
        if (!w.draining && want_graceful) {
            start_drain(&w);
            deadline = now_s() + s->graceful_timeout_ms / 1000.0;
        }
        if (w.draining) {
            close_idle(&w);
            if (w.nconns == 0)
                break;
            if (now_s() >= deadline) {
                log_warn("graceful timeout: %zu connections still busy; closing", w.nconns);
                break;
            }
        }
    }
    synclink_close(&w.sync);
    log_debug("stopped after %llu requests", (unsigned long long)w.requests);
    store_close(w.store);
    return 0;
}
