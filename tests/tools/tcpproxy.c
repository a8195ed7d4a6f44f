/*
 * tests/tools/tcpproxy.c - the test-side client of tcpproxy (always compiled;
 * see tcpproxy.h) and, with -DTCPPROXY_MAIN, the tcpproxy program itself.
 *
 * The program is one thread around ppoll(): a loopback listener, a unix control
 * socket and up to 1024 proxied connections, every socket non-blocking. Each
 * connection carries two flows of chunks (one read each), held at most 1 MiB per
 * direction: a side is not read while its flow is full. A chunk is written on
 * once its due time has come (read time plus the delay in delay mode), so order
 * is kept and the poll timeout is the next due time, never a spin. It owns its
 * sockets and the control socket path (removed on exit); it must not talk to
 * anything but 127.0.0.1, block on a socket or need anything beyond libc.
 */
#include "tcpproxy.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define TCPPROXY_START_TIMEOUT_MS 5000
#define TCPPROXY_COMMAND_TIMEOUT_MS 5000
#define TCPPROXY_STOP_TIMEOUT_MS 2000
#define TCPPROXY_LINE_MAX 256 /* longest command or reply line, newline included */

/* Milliseconds on the monotonic clock. */
static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---------------------------------------------------------------- client */

/* Record why a client call failed in p->error; returns -1. */
__attribute__((format(printf, 2, 3))) static int fail(struct tcpproxy *p, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(p->error, sizeof(p->error), fmt, ap);
    va_end(ap);
    return -1;
}

/* Wait for fd to become readable until `deadline` (ms). 1 when readable, 0 on timeout, -1 on error. */
static int wait_readable(int fd, int64_t deadline)
{
    for (;;) {
        int64_t left = deadline - now_ms();
        if (left <= 0)
            return 0;
        struct pollfd pfd = {.fd = fd, .events = POLLIN};
        int n = poll(&pfd, 1, (int)left);
        if (n > 0)
            return 1;
        if (n < 0 && errno != EINTR)
            return -1;
    }
}

/* SIGKILL and reap a child that failed to start; returns its wait status (-1 if unknown). */
static int kill_and_reap(pid_t pid)
{
    int status = -1;
    kill(pid, SIGKILL);
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    return status;
}

const char *tcpproxy_binary(char *out, size_t outlen)
{
    const char *env = getenv("TCPPROXY");
    const char *top = getenv("top_builddir");
    if (env && *env)
        snprintf(out, outlen, "%s", env);
    else
        snprintf(out, outlen, "%s/tests/tools/tcpproxy", top && *top ? top : ".");
    return out;
}

int tcpproxy_start(struct tcpproxy *p, const char *binary, int target_port)
{
    static unsigned serial;
    char port_arg[16], line[64];
    size_t len = 0;
    int fds[2], port = 0, status;

    memset(p, 0, sizeof(*p));
    if (target_port <= 0 || target_port > 65535)
        return fail(p, "target port %d out of range", target_port);
    snprintf(port_arg, sizeof(port_arg), "%d", target_port);
    snprintf(p->control, sizeof(p->control), "/tmp/tcpproxy-%ld-%u.sock", (long)getpid(), serial++);
    if (pipe2(fds, O_CLOEXEC) != 0) {
        p->control[0] = '\0';
        return fail(p, "pipe: %s", strerror(errno));
    }
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid < 0) {
        close(fds[0]);
        close(fds[1]);
        p->control[0] = '\0';
        return fail(p, "fork: %s", strerror(errno));
    }
    if (pid == 0) {
        /* Only async-signal-safe calls from here to execl(). */
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        prctl(PR_SET_PDEATHSIG, SIGTERM);
        if (getppid() != parent || dup2(fds[1], STDOUT_FILENO) < 0)
            _exit(127);
        close_range(3, ~0u, 0); /* no test socket may stay open in the proxy */
        execl(binary, binary, "--listen", "0", "--target", port_arg, "--control", p->control, (char *)NULL);
        _exit(127);
    }
    close(fds[1]);

    int64_t deadline = now_ms() + TCPPROXY_START_TIMEOUT_MS;
    while (!memchr(line, '\n', len)) {
        int r = wait_readable(fds[0], deadline);
        ssize_t n = r > 0 ? read(fds[0], line + len, sizeof(line) - 1 - len) : -1;
        if (n < 0 && r > 0 && errno == EINTR)
            continue;
        if (n <= 0 || len + (size_t)n >= sizeof(line) - 1) {
            close(fds[0]);
            status = kill_and_reap(pid);
            unlink(p->control);
            p->control[0] = '\0';
            if (r == 0)
                return fail(p, "\"%s\" did not report its port within 5 s", binary);
            if (n == 0 && WIFEXITED(status))
                return fail(p, "\"%s\" exited with status %d before listening", binary, WEXITSTATUS(status));
            return fail(p, "no \"listening\" line from \"%s\"", binary);
        }
        len += (size_t)n;
    }
    close(fds[0]);
    line[len] = '\0';
    if (sscanf(line, "listening %d", &port) != 1 || port <= 0 || port > 65535) {
        kill_and_reap(pid);
        unlink(p->control);
        p->control[0] = '\0';
        line[strcspn(line, "\n")] = '\0';
        return fail(p, "unexpected first line \"%s\" from \"%s\"", line, binary);
    }
    p->pid = pid;
    p->port = port;
    return 0;
}

int tcpproxy_command(struct tcpproxy *p, const char *cmd, char *reply, size_t replylen)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    char buf[TCPPROXY_LINE_MAX];
    size_t cmdlen = strlen(cmd), len = 0;
    int fd;

    if (reply && replylen)
        reply[0] = '\0';
    if (p->pid <= 0 || !p->control[0])
        return fail(p, "proxy not running");
    if (strchr(cmd, '\n') || cmdlen + 1 > sizeof(buf))
        return fail(p, "command is not one line of under %zu bytes", sizeof(buf));
    snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", p->control);
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return fail(p, "socket: %s", strerror(errno));
    if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
        int e = errno;
        close(fd);
        return fail(p, "connect \"%s\": %s", p->control, strerror(e));
    }
    memcpy(buf, cmd, cmdlen);
    buf[cmdlen] = '\n';
    for (size_t off = 0; off < cmdlen + 1;) {
        ssize_t n = send(fd, buf + off, cmdlen + 1 - off, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            int e = errno;
            close(fd);
            return fail(p, "send \"%s\": %s", cmd, strerror(e));
        }
        off += (size_t)n;
    }

    int64_t deadline = now_ms() + TCPPROXY_COMMAND_TIMEOUT_MS;
    while (!memchr(buf, '\n', len)) {
        int r = wait_readable(fd, deadline);
        ssize_t n = r > 0 ? recv(fd, buf + len, sizeof(buf) - 1 - len, 0) : -1;
        if (n < 0 && r > 0 && errno == EINTR)
            continue;
        if (n <= 0 || len + (size_t)n >= sizeof(buf) - 1) {
            close(fd);
            return fail(p, "no reply to \"%s\"", cmd);
        }
        len += (size_t)n;
    }
    close(fd);
    buf[len] = '\0';
    buf[strcspn(buf, "\r\n")] = '\0';
    if (reply && replylen)
        snprintf(reply, replylen, "%s", buf);
    if (strncmp(buf, "ok", 2) == 0 && (buf[2] == '\0' || buf[2] == ' '))
        return 0;
    return fail(p, "%s", buf);
}

int tcpproxy_stop(struct tcpproxy *p)
{
    int status = -1;

    if (p->pid > 0) {
        tcpproxy_command(p, "quit", NULL, 0); /* failure is fine: SIGKILL follows */
        int64_t deadline = now_ms() + TCPPROXY_STOP_TIMEOUT_MS;
        for (;;) {
            pid_t r = waitpid(p->pid, &status, WNOHANG);
            if (r == p->pid)
                break;
            if (r < 0 && errno != EINTR) {
                status = -1;
                break;
            }
            if (now_ms() >= deadline) {
                status = kill_and_reap(p->pid);
                break;
            }
            struct timespec ts = {0, 10 * 1000000};
            nanosleep(&ts, NULL);
        }
        p->pid = 0;
    }
    if (p->control[0]) {
        unlink(p->control);
        p->control[0] = '\0';
    }
    return status;
}

/* --------------------------------------------------------------- program */
#ifdef TCPPROXY_MAIN

#define PROXY_MAX_CONNS 1024
#define PROXY_FLOW_MAX (1u << 20)  /* bytes held per direction of one connection */
#define PROXY_READ_MAX (64u << 10) /* largest single read, so largest chunk */
#define PROXY_MAX_CONTROL 8        /* control connections open at once */
#define PROXY_DELAY_MAX_MS 600000
#define PROXY_ACCEPT_BURST 64                   /* accepts per wakeup, so one busy listener cannot starve the rest */
#define PROXY_FD_SLACK 32                       /* descriptors kept for listeners, stdio and control clients */
#define PROXY_POLL_BASE (2 + PROXY_MAX_CONTROL) /* pollfd slots before the connections' */

enum { SIDE_CLIENT = 0, SIDE_TARGET = 1 };

enum proxy_mode { MODE_PASS, MODE_DELAY, MODE_CUT, MODE_BLACKHOLE };

static const char *const mode_names[] = {"pass", "delay", "cut", "blackhole"};

/* The bytes of one read on their way, to be written once now >= due_ms. */
struct chunk {
    struct chunk *next;
    int64_t due_ms;
    size_t len; /* bytes in data */
    size_t off; /* bytes of data already written */
    char data[];
};

/* What one side of a connection sent, queued for the other side, oldest first. */
struct flow {
    struct chunk *head, *tail;
    size_t queued; /* unwritten bytes in the queue; the side is not read while this is PROXY_FLOW_MAX */
    int eof;       /* the side sent FIN: shut the other side's write end once the queue is empty */
    int shut;      /* that shutdown(SHUT_WR) has been done */
};

/* One proxied connection; flow[s] carries what side s sent. */
struct conn {
    int used;
    int fd[2];      /* [SIDE_CLIENT], [SIDE_TARGET]; fd[SIDE_TARGET] is -1 until the connect starts */
    int connecting; /* the non-blocking connect to the target has not finished */
    struct flow flow[2];
};

/* A control connection and its partial line. */
struct control {
    int fd; /* -1 when the slot is free */
    size_t len;
    char line[TCPPROXY_LINE_MAX];
};

/* Everything the program owns. */
struct proxy {
    int listen_fd;            /* 127.0.0.1:PORT, non-blocking */
    int control_fd;           /* the unix control socket, non-blocking */
    const char *control_path; /* removed on exit */
    int target_port;          /* connections go to 127.0.0.1:target_port */
    enum proxy_mode mode;
    int delay_ms;                   /* hold time in MODE_DELAY */
    int max_conns;                  /* PROXY_MAX_CONNS, or fewer when RLIMIT_NOFILE cannot be raised enough */
    int active;                     /* connections in use */
    int quit;                       /* set by "quit" */
    unsigned long long connections; /* accepted and kept since start (not the ones cut or over the limit) */
    unsigned long long bytes_up;    /* written to the target */
    unsigned long long bytes_down;  /* written to clients */
    struct control controls[PROXY_MAX_CONTROL];
    struct conn conns[PROXY_MAX_CONNS];
};

static volatile sig_atomic_t stop_signal;

static void on_signal(int sig)
{
    stop_signal = sig;
}

/* Close a TCP socket with an RST instead of a FIN. */
static void close_rst(int fd)
{
    struct linger lg = {.l_onoff = 1, .l_linger = 0};
    setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
    close(fd);
}

/* Free every queued chunk of f and zero it. */
static void flow_release(struct flow *f)
{
    while (f->head) {
        struct chunk *next = f->head->next;
        free(f->head);
        f->head = next;
    }
    memset(f, 0, sizeof(*f));
}

/* Close both sides of c (with RST when `rst`), drop what it held and free the slot. */
static void conn_drop(struct proxy *px, struct conn *c, int rst)
{
    for (int s = 0; s < 2; s++) {
        if (c->fd[s] >= 0) {
            if (rst)
                close_rst(c->fd[s]);
            else
                close(c->fd[s]);
        }
        flow_release(&c->flow[s]);
    }
    memset(c, 0, sizeof(*c));
    c->fd[0] = c->fd[1] = -1;
    px->active--;
}

/* Start the non-blocking connect to the target; on immediate failure the client gets an RST. */
static void conn_connect(struct proxy *px, struct conn *c)
{
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)px->target_port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    c->fd[SIDE_TARGET] = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (c->fd[SIDE_TARGET] < 0) {
        conn_drop(px, c, 1);
        return;
    }
    if (connect(c->fd[SIDE_TARGET], (struct sockaddr *)&sa, sizeof(sa)) == 0)
        return;
    if (errno == EINPROGRESS)
        c->connecting = 1;
    else
        conn_drop(px, c, 1);
}

/* The connect poll()ed writable or failed: keep the connection or reset the client. */
static void conn_connected(struct proxy *px, struct conn *c)
{
    int err = 0;
    socklen_t len = sizeof(err);
    if (getsockopt(c->fd[SIDE_TARGET], SOL_SOCKET, SO_ERROR, &err, &len) != 0 || err != 0)
        conn_drop(px, c, 1);
    else
        c->connecting = 0;
}

/* Accept what is waiting on the listener: reset it when cut or full, else start proxying it. */
static void proxy_accept(struct proxy *px)
{
    for (int i = 0; i < PROXY_ACCEPT_BURST; i++) {
        int fd = accept4(px->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0)
            return; /* EAGAIN, or a connection that died in the backlog */
        struct conn *c = NULL;
        for (int k = 0; k < px->max_conns && px->mode != MODE_CUT; k++) {
            if (!px->conns[k].used) {
                c = &px->conns[k];
                break;
            }
        }
        if (!c) {
            close_rst(fd);
            continue;
        }
        c->used = 1;
        c->fd[SIDE_CLIENT] = fd;
        c->fd[SIDE_TARGET] = -1;
        px->active++;
        px->connections++;
        if (px->mode != MODE_BLACKHOLE)
            conn_connect(px, c); /* in a blackhole the target is not reached until it ends */
    }
}

/* Read what side s has into its flow; EOF marks the flow, an error resets the connection. */
static void flow_read(struct proxy *px, struct conn *c, int s, int64_t now)
{
    static char buf[PROXY_READ_MAX];
    struct flow *f = &c->flow[s];
    size_t room = PROXY_FLOW_MAX - f->queued;
    ssize_t n = recv(c->fd[s], buf, room < sizeof(buf) ? room : sizeof(buf), 0);
    if (n < 0) {
        if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
            conn_drop(px, c, 1);
        return;
    }
    if (n == 0) {
        f->eof = 1;
        return;
    }
    struct chunk *ch = malloc(sizeof(*ch) + (size_t)n);
    if (!ch) {
        conn_drop(px, c, 1);
        return;
    }
    ch->next = NULL;
    ch->due_ms = now + (px->mode == MODE_DELAY ? px->delay_ms : 0);
    ch->len = (size_t)n;
    ch->off = 0;
    memcpy(ch->data, buf, (size_t)n);
    if (f->tail)
        f->tail->next = ch;
    else
        f->head = ch;
    f->tail = ch;
    f->queued += (size_t)n;
}

/* Write the due part of flow s to the other side until it would block; an error resets the connection. */
static void flow_write(struct proxy *px, struct conn *c, int s, int64_t now)
{
    struct flow *f = &c->flow[s];
    while (f->head && f->head->due_ms <= now) {
        struct chunk *ch = f->head;
        ssize_t n = send(c->fd[!s], ch->data + ch->off, ch->len - ch->off, MSG_NOSIGNAL);
        if (n < 0) {
            if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
                conn_drop(px, c, 1);
            return;
        }
        ch->off += (size_t)n;
        f->queued -= (size_t)n;
        if (s == SIDE_CLIENT)
            px->bytes_up += (unsigned long long)n;
        else
            px->bytes_down += (unsigned long long)n;
        if (ch->off < ch->len)
            return;
        f->head = ch->next;
        if (!f->head)
            f->tail = NULL;
        free(ch);
    }
}

/* Pass on a FIN whose flow has drained; close the connection once both ways are shut. */
static void conn_settle(struct proxy *px, struct conn *c)
{
    if (c->fd[SIDE_TARGET] < 0 || c->connecting || px->mode == MODE_BLACKHOLE)
        return;
    for (int s = 0; s < 2; s++) {
        struct flow *f = &c->flow[s];
        if (f->eof && !f->head && !f->shut) {
            shutdown(c->fd[!s], SHUT_WR);
            f->shut = 1;
        }
    }
    if (c->flow[0].shut && c->flow[1].shut)
        conn_drop(px, c, 0);
}

/*
 * poll() events side s of c needs now, 0 when none (the side is then left out
 * of the poll set, so a hung-up peer cannot wake us in a loop). A chunk not yet
 * due lowers *next_due instead of asking for POLLOUT.
 */
static short side_events(const struct proxy *px, const struct conn *c, int s, int64_t now, int64_t *next_due)
{
    if (c->fd[s] < 0 || px->mode == MODE_BLACKHOLE)
        return 0;
    if (s == SIDE_TARGET && c->connecting)
        return POLLOUT;
    short ev = 0;
    const struct flow *in = &c->flow[s], *out = &c->flow[!s];
    if (!in->eof && in->queued < PROXY_FLOW_MAX)
        ev |= POLLIN;
    if (out->head) {
        if (out->head->due_ms <= now)
            ev |= POLLOUT;
        else if (*next_due < 0 || out->head->due_ms < *next_due)
            *next_due = out->head->due_ms;
    }
    return ev;
}

/* Send one reply line on a control connection; a client that cannot take it is dropped. */
__attribute__((format(printf, 2, 3))) static void control_reply(struct control *ctl, const char *fmt, ...)
{
    char line[TCPPROXY_LINE_MAX];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(line, sizeof(line) - 1, fmt, ap);
    va_end(ap);
    if (n < 0)
        n = 0;
    if ((size_t)n > sizeof(line) - 2)
        n = (int)sizeof(line) - 2;
    line[n++] = '\n';
    if (send(ctl->fd, line, (size_t)n, MSG_NOSIGNAL | MSG_DONTWAIT) != n) {
        close(ctl->fd);
        ctl->fd = -1;
    }
}

/* Parse "delay MS": the milliseconds, or -1 unless 1 to 6 digits within PROXY_DELAY_MAX_MS. */
static int parse_delay(const char *arg)
{
    size_t n = strlen(arg);
    if (n == 0 || n > 6 || strspn(arg, "0123456789") != n)
        return -1;
    int ms = atoi(arg);
    return ms <= PROXY_DELAY_MAX_MS ? ms : -1;
}

/* Carry out one command line and reply to it. */
static void control_run(struct proxy *px, struct control *ctl, const char *cmd)
{
    if (strcmp(cmd, "pass") == 0) {
        px->mode = MODE_PASS;
        control_reply(ctl, "ok pass");
    } else if (strcmp(cmd, "cut") == 0) {
        int n = 0;
        px->mode = MODE_CUT;
        for (int i = 0; i < px->max_conns; i++) {
            if (px->conns[i].used) {
                conn_drop(px, &px->conns[i], 1);
                n++;
            }
        }
        control_reply(ctl, "ok cut %d", n);
    } else if (strcmp(cmd, "blackhole") == 0) {
        px->mode = MODE_BLACKHOLE;
        control_reply(ctl, "ok blackhole");
    } else if (strncmp(cmd, "delay", 5) == 0 && (cmd[5] == ' ' || cmd[5] == '\0')) {
        int ms = parse_delay(cmd[5] ? cmd + 6 : "");
        if (ms < 0) {
            control_reply(ctl, "error delay \"%s\" is not 0..%d milliseconds", cmd[5] ? cmd + 6 : "",
                          PROXY_DELAY_MAX_MS);
            return;
        }
        px->mode = MODE_DELAY;
        px->delay_ms = ms;
        control_reply(ctl, "ok delay %d", ms);
    } else if (strcmp(cmd, "stats") == 0) {
        unsigned long long held = 0;
        for (int i = 0; i < px->max_conns; i++)
            if (px->conns[i].used)
                held += px->conns[i].flow[0].queued + px->conns[i].flow[1].queued;
        control_reply(ctl, "ok connections=%llu bytes_up=%llu bytes_down=%llu mode=%s active=%d delay_ms=%d held=%llu",
                      px->connections, px->bytes_up, px->bytes_down, mode_names[px->mode], px->active, px->delay_ms,
                      held);
    } else if (strcmp(cmd, "quit") == 0) {
        px->quit = 1;
        control_reply(ctl, "ok quit");
    } else {
        control_reply(ctl, "error unknown command \"%.64s\"", cmd);
    }
}

/* Read from a control connection and run each complete line; EOF or an overlong line ends it. */
static void control_read(struct proxy *px, struct control *ctl)
{
    ssize_t n = recv(ctl->fd, ctl->line + ctl->len, sizeof(ctl->line) - ctl->len, 0);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
        return;
    if (n <= 0) {
        close(ctl->fd);
        ctl->fd = -1;
        return;
    }
    ctl->len += (size_t)n;
    char *nl;
    while (ctl->fd >= 0 && (nl = memchr(ctl->line, '\n', ctl->len))) {
        *nl = '\0';
        if (nl > ctl->line && nl[-1] == '\r')
            nl[-1] = '\0';
        control_run(px, ctl, ctl->line);
        size_t used = (size_t)(nl + 1 - ctl->line);
        memmove(ctl->line, nl + 1, ctl->len - used);
        ctl->len -= used;
    }
    if (ctl->fd >= 0 && ctl->len == sizeof(ctl->line)) {
        control_reply(ctl, "error line longer than %zu bytes", sizeof(ctl->line) - 1);
        if (ctl->fd >= 0)
            close(ctl->fd);
        ctl->fd = -1;
    }
}

/* Take a new control connection, or refuse it when every slot is busy. */
static void control_accept(struct proxy *px)
{
    int fd = accept4(px->control_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0)
        return;
    for (int i = 0; i < PROXY_MAX_CONTROL; i++) {
        if (px->controls[i].fd < 0) {
            px->controls[i].fd = fd;
            px->controls[i].len = 0;
            return;
        }
    }
    close(fd);
}

/* Serve until "quit" or SIGTERM/SIGINT. `waitmask` is the signal mask to hold while waiting. */
static int proxy_run(struct proxy *px, const sigset_t *waitmask)
{
    static struct pollfd pfd[PROXY_POLL_BASE + 2 * PROXY_MAX_CONNS];

    while (!px->quit && !stop_signal) {
        int64_t now = now_ms(), next_due = -1;
        int hi = 0; /* one past the highest connection slot in use */

        pfd[0] = (struct pollfd){.fd = px->listen_fd, .events = POLLIN};
        pfd[1] = (struct pollfd){.fd = px->control_fd, .events = POLLIN};
        for (int i = 0; i < PROXY_MAX_CONTROL; i++)
            pfd[2 + i] = (struct pollfd){.fd = px->controls[i].fd, .events = POLLIN};
        for (int i = 0; i < px->max_conns; i++) {
            const struct conn *c = &px->conns[i];
            for (int s = 0; s < 2; s++) {
                struct pollfd *q = &pfd[PROXY_POLL_BASE + 2 * i + s];
                q->events = c->used ? side_events(px, c, s, now, &next_due) : 0;
                q->fd = q->events ? c->fd[s] : -1;
                q->revents = 0;
            }
            if (c->used)
                hi = i + 1;
        }

        struct timespec ts, *tsp = NULL;
        if (next_due >= 0) {
            int64_t wait = next_due - now;
            ts.tv_sec = (time_t)(wait / 1000);
            ts.tv_nsec = (long)(wait % 1000) * 1000000;
            tsp = &ts;
        }
        int n = ppoll(pfd, (nfds_t)(PROXY_POLL_BASE + 2 * hi), tsp, waitmask);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            perror("tcpproxy: ppoll");
            return -1;
        }
        now = now_ms();

        if (pfd[1].revents)
            control_accept(px);
        for (int i = 0; i < PROXY_MAX_CONTROL; i++)
            if (pfd[2 + i].revents && px->controls[i].fd >= 0)
                control_read(px, &px->controls[i]);
        for (int i = 0; i < hi; i++) {
            struct conn *c = &px->conns[i];
            for (int s = 0; s < 2 && c->used; s++) {
                const struct pollfd *q = &pfd[PROXY_POLL_BASE + 2 * i + s];
                if (!q->revents || q->fd != c->fd[s])
                    continue; /* nothing happened, or the slot changed hands under a command */
                if (s == SIDE_TARGET && c->connecting) {
                    conn_connected(px, c);
                    continue;
                }
                if (q->events & POLLIN)
                    flow_read(px, c, s, now);
                if (c->used && (q->events & POLLOUT))
                    flow_write(px, c, !s, now);
            }
        }
        if (pfd[0].revents)
            proxy_accept(px);
        for (int i = 0; i < px->max_conns; i++) {
            struct conn *c = &px->conns[i];
            if (c->used && c->fd[SIDE_TARGET] < 0 && px->mode != MODE_BLACKHOLE && px->mode != MODE_CUT)
                conn_connect(px, c); /* a blackhole has ended: reach the target now */
            if (c->used)
                conn_settle(px, c);
        }
    }
    return 0;
}

/* Raise RLIMIT_NOFILE as far as the connections need; returns how many connections fit. */
static int fit_fd_limit(void)
{
    struct rlimit rl;
    rlim_t want = 2 * PROXY_MAX_CONNS + PROXY_FD_SLACK;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
        return 1;
    if (rl.rlim_cur < want) {
        rl.rlim_cur = rl.rlim_max < want ? rl.rlim_max : want;
        setrlimit(RLIMIT_NOFILE, &rl);
        getrlimit(RLIMIT_NOFILE, &rl);
    }
    if (rl.rlim_cur >= want)
        return PROXY_MAX_CONNS;
    return rl.rlim_cur > 2 + PROXY_FD_SLACK ? (int)((rl.rlim_cur - PROXY_FD_SLACK) / 2) : 1;
}

/* A port argument: 1..65535, or 0 too when `allow_zero`; -1 when not. */
static int parse_port(const char *s, int allow_zero)
{
    size_t n = s ? strlen(s) : 0;
    if (n == 0 || n > 5 || strspn(s, "0123456789") != n)
        return -1;
    int port = atoi(s);
    return port <= 65535 && (port > 0 || allow_zero) ? port : -1;
}

/* Bind and listen on 127.0.0.1:port (0: any free port); the fd and the bound port, or -1. */
static int listen_tcp(int port, int *bound)
{
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    socklen_t len = sizeof(sa);
    int one = 1;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 || listen(fd, 128) != 0 ||
        getsockname(fd, (struct sockaddr *)&sa, &len) != 0) {
        int e = errno;
        close(fd);
        errno = e;
        return -1;
    }
    *bound = ntohs(sa.sin_port);
    return fd;
}

/* Listen on a unix socket at path, replacing a stale socket there (never another kind of file). */
static int listen_unix(const char *path)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    struct stat st;
    if (strlen(path) >= sizeof(sa.sun_path)) {
        errno = ENAMETOOLONG;
        return -1;
    }
    if (lstat(path, &st) == 0) {
        if (!S_ISSOCK(st.st_mode)) {
            errno = EEXIST;
            return -1;
        }
        unlink(path);
    }
    memcpy(sa.sun_path, path, strlen(path) + 1);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 || listen(fd, PROXY_MAX_CONTROL) != 0) {
        int e = errno;
        close(fd);
        errno = e;
        return -1;
    }
    return fd;
}

static int usage(void)
{
    fprintf(stderr, "usage: tcpproxy --listen PORT --target PORT --control PATH\n"
                    "  PORT 0 for --listen picks a free port; \"listening PORT\" is printed once ready\n");
    return 2;
}

int main(int argc, char **argv)
{
    static struct proxy px;
    const char *listen_arg = NULL, *target_arg = NULL;
    struct sigaction sa = {.sa_handler = on_signal};
    sigset_t block, waitmask;
    int port = 0, rc;

    for (int i = 1; i < argc; i++) {
        if (i + 1 < argc && strcmp(argv[i], "--listen") == 0)
            listen_arg = argv[++i];
        else if (i + 1 < argc && strcmp(argv[i], "--target") == 0)
            target_arg = argv[++i];
        else if (i + 1 < argc && strcmp(argv[i], "--control") == 0)
            px.control_path = argv[++i];
        else
            return usage();
    }
    if (!listen_arg || !target_arg || !px.control_path || !*px.control_path)
        return usage();
    int listen_port = parse_port(listen_arg, 1);
    px.target_port = parse_port(target_arg, 0);
    if (listen_port < 0 || px.target_port < 0) {
        fprintf(stderr, "tcpproxy: port \"%s\" is not a number in 0..65535\n",
                listen_port < 0 ? listen_arg : target_arg);
        return 2;
    }

    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    sigemptyset(&block);
    sigaddset(&block, SIGTERM);
    sigaddset(&block, SIGINT);
    sigprocmask(SIG_BLOCK, &block, &waitmask); /* delivered only inside ppoll(): no lost wakeup */
    sigdelset(&waitmask, SIGTERM);
    sigdelset(&waitmask, SIGINT);

    px.max_conns = fit_fd_limit();
    for (int i = 0; i < PROXY_MAX_CONTROL; i++)
        px.controls[i].fd = -1;
    for (int i = 0; i < PROXY_MAX_CONNS; i++)
        px.conns[i].fd[0] = px.conns[i].fd[1] = -1;

    px.listen_fd = listen_tcp(listen_port, &port);
    if (px.listen_fd < 0) {
        fprintf(stderr, "tcpproxy: listen on 127.0.0.1:%d: %s\n", listen_port, strerror(errno));
        return 1;
    }
    px.control_fd = listen_unix(px.control_path);
    if (px.control_fd < 0) {
        fprintf(stderr, "tcpproxy: control socket \"%s\": %s\n", px.control_path, strerror(errno));
        close(px.listen_fd);
        return 1;
    }
    printf("listening %d\n", port);
    fflush(stdout);

    rc = proxy_run(&px, &waitmask);

    for (int i = 0; i < PROXY_MAX_CONNS; i++)
        if (px.conns[i].used)
            conn_drop(&px, &px.conns[i], 0);
    for (int i = 0; i < PROXY_MAX_CONTROL; i++)
        if (px.controls[i].fd >= 0)
            close(px.controls[i].fd);
    close(px.listen_fd);
    close(px.control_fd);
    unlink(px.control_path);
    return rc == 0 ? 0 : 1;
}

#endif /* TCPPROXY_MAIN */
