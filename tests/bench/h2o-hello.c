/*
 * tests/bench/h2o-hello.c - the baseline scripts/bench measures the API against:
 * bare libh2o (evloop), the same pre-fork shape as character-server (one
 * listening socket opened before fork, N workers each with its own loop), one
 * handler answering a fixed JSON body with Content-Length. No auth, no storage.
 * Usage: h2o-hello PORT WORKERS [reuseport]
 * With "reuseport" each worker binds its own SO_REUSEPORT socket instead, as
 * character-server does with server.reuseport. H2O_HELLO_BODY_BYTES=N (17 to
 * 1 MiB) pads the JSON body to N bytes, to compare with an API response of
 * that size.
 */
#define H2O_USE_LIBUV 0
#include <h2o.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

static h2o_globalconf_t config;
static h2o_context_t ctx;
static h2o_accept_ctx_t accept_ctx;

static char *body = "{\"hello\":\"world\"}";
static size_t body_len = 17;

/* {"hello":"wwww...d"} of exactly n bytes (n >= 17). */
static void pad_body(size_t n)
{
    body = malloc(n + 1);
    if (body == NULL)
        abort();
    memcpy(body, "{\"hello\":\"", 10);
    memset(body + 10, 'w', n - 12);
    memcpy(body + n - 2, "\"}", 3);
    body_len = n;
}

static int on_req(h2o_handler_t *self, h2o_req_t *req)
{
    (void)self;
    req->res.status = 200;
    req->res.reason = "OK";
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CONTENT_TYPE, NULL, H2O_STRLIT("application/json"));
    req->res.content_length = body_len;
    h2o_send_inline(req, body, body_len);
    return 0;
}

static void on_accept(h2o_socket_t *listener, const char *err)
{
    h2o_socket_t *sock;
    if (err != NULL)
        return;
    while ((sock = h2o_evloop_socket_accept(listener)) != NULL)
        h2o_accept(&accept_ctx, sock);
}

/* A non-blocking listening socket on 127.0.0.1:port, or -1. */
static int open_listener(int port, int reuseport)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0), one = 1;
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (reuseport)
        setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one));
    if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 || listen(fd, 1024) != 0) {
        perror("bind");
        close(fd);
        return -1;
    }
    return fd;
}

static void serve(int fd)
{
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    h2o_config_init(&config);
    h2o_hostconf_t *host = h2o_config_register_host(&config, h2o_iovec_init(H2O_STRLIT("default")), 65535);
    h2o_pathconf_t *path = h2o_config_register_path(host, "/", 0);
    h2o_handler_t *h = h2o_create_handler(path, sizeof(*h));
    h->on_req = on_req;
    h2o_context_init(&ctx, h2o_evloop_create(), &config);
    accept_ctx.ctx = &ctx;
    accept_ctx.hosts = config.hosts;
    h2o_socket_t *sock = h2o_evloop_socket_create(ctx.loop, fd, H2O_SOCKET_FLAG_DONT_READ);
    h2o_socket_read_start(sock, on_accept);
    while (h2o_evloop_run(ctx.loop, INT32_MAX) == 0)
        ;
}

int main(int argc, char **argv)
{
    if (argc < 3 || argc > 4 || (argc == 4 && strcmp(argv[3], "reuseport") != 0)) {
        fprintf(stderr, "usage: h2o-hello PORT WORKERS [reuseport]\n");
        return 2;
    }
    int port = atoi(argv[1]), workers = atoi(argv[2]), reuseport = argc == 4;
    const char *pad = getenv("H2O_HELLO_BODY_BYTES");
    if (pad != NULL) {
        long n = strtol(pad, NULL, 10);
        if (n < 17 || n > 1024 * 1024) {
            fprintf(stderr, "H2O_HELLO_BODY_BYTES must be 17..1048576\n");
            return 2;
        }
        pad_body((size_t)n);
    }
    int fd = open_listener(port, reuseport);
    if (fd < 0)
        return 1;
    signal(SIGPIPE, SIG_IGN);
    for (int i = 0; i < workers; i++) {
        if (fork() == 0) {
            if (reuseport && i > 0)
                fd = open_listener(port, 1);
            serve(fd);
        }
    }
    while (wait(NULL) > 0)
        ;
    return 0;
}
