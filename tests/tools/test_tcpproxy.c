/*
 * tests/tools/test_tcpproxy.c - the tcpproxy program and its client
 * (tests/tools/tcpproxy.c), driven for real: a forked echo server on a free
 * loopback port, a fresh proxy in front of it for each test, and plain sockets
 * as the client. The program is found as argv[1], else $TCPPROXY, else
 * $top_builddir/tests/tools/tcpproxy, else ./tests/tools/tcpproxy. Every wait
 * is bounded (2 s socket timeouts, a few seconds per test at most).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "tcpproxy.h"

#define IO_TIMEOUT_MS 2000
#define BULK_BYTES (4u << 20) /* four times what the proxy holds per direction */

static char proxy_bin[PATH_MAX];
static int echo_port;
static pid_t echo_pid;

/* Counters from a "stats" reply. */
struct stats {
    unsigned long long connections, up, down;
    char mode[16];
    int active;
};

static int64_t ms_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

/* Echo one connection until EOF, then close it; runs in its own child. */
static void echo_conn(int fd)
{
    char buf[65536];
    for (;;) {
        ssize_t n = read(fd, buf, sizeof(buf));
        if (n <= 0)
            break;
        for (ssize_t off = 0; off < n;) {
            ssize_t w = send(fd, buf + off, (size_t)(n - off), MSG_NOSIGNAL);
            if (w <= 0)
                _exit(0);
            off += w;
        }
    }
    close(fd);
    _exit(0);
}

/* The echo server: a child per connection, in its own process group, gone with the test. */
static void echo_serve(int lfd)
{
    signal(SIGCHLD, SIG_IGN); /* children reap themselves */
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    for (;;) {
        int fd = accept(lfd, NULL, NULL);
        if (fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED)
                continue;
            _exit(1);
        }
        if (fork() == 0) {
            close(lfd);
            echo_conn(fd);
        }
        close(fd);
    }
}

/* Bind 127.0.0.1:0 and return the socket (listening when `backlog` > 0) with its port in *port. */
static int bind_loopback(int backlog, int *port)
{
    struct sockaddr_in sa = {.sin_family = AF_INET};
    socklen_t len = sizeof(sa);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 || (backlog > 0 && listen(fd, backlog) != 0) ||
        getsockname(fd, (struct sockaddr *)&sa, &len) != 0) {
        close(fd);
        return -1;
    }
    *port = ntohs(sa.sin_port);
    return fd;
}

static int group_setup(void **state)
{
    (void)state;
    int lfd = bind_loopback(128, &echo_port);
    if (lfd < 0)
        return -1;
    echo_pid = fork();
    if (echo_pid < 0) {
        close(lfd);
        return -1;
    }
    if (echo_pid == 0) {
        setpgid(0, 0);
        echo_serve(lfd);
    }
    setpgid(echo_pid, echo_pid);
    close(lfd);
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    if (echo_pid > 0) {
        kill(-echo_pid, SIGKILL);
        waitpid(echo_pid, NULL, 0);
    }
    return 0;
}

static int proxy_setup(void **state)
{
    static struct tcpproxy p;
    if (tcpproxy_start(&p, proxy_bin, echo_port) != 0) {
        print_error("tcpproxy_start: %s\n", p.error);
        return -1;
    }
    *state = &p;
    return 0;
}

static int proxy_teardown(void **state)
{
    tcpproxy_stop(*state);
    return 0;
}

static void set_rcvtimeo(int fd, int ms)
{
    struct timeval tv = {ms / 1000, (ms % 1000) * 1000};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
}

/* A blocking connection to 127.0.0.1:port with IO_TIMEOUT_MS send and receive timeouts, or -1. */
static int dial(int port)
{
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    struct timeval tv = {IO_TIMEOUT_MS / 1000, 0};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

static int send_all(int fd, const void *buf, size_t len)
{
    for (size_t off = 0; off < len;) {
        ssize_t n = send(fd, (const char *)buf + off, len - off, MSG_NOSIGNAL);
        if (n <= 0)
            return -1;
        off += (size_t)n;
    }
    return 0;
}

/* Read exactly len bytes: 0, or -1 on EOF, error or timeout (errno says which). */
static int recv_exact(int fd, void *buf, size_t len)
{
    for (size_t off = 0; off < len;) {
        ssize_t n = recv(fd, (char *)buf + off, len - off, 0);
        if (n == 0)
            errno = 0;
        if (n <= 0)
            return -1;
        off += (size_t)n;
    }
    return 0;
}

/* Send msg and read the same bytes back; the round trip in ms, or -1 when it did not come back. */
static int round_trip_ms(int fd, const char *msg)
{
    char buf[256];
    size_t len = strlen(msg);
    int64_t t0 = ms_now();
    if (len > sizeof(buf) || send_all(fd, msg, len) != 0 || recv_exact(fd, buf, len) != 0)
        return -1;
    return memcmp(buf, msg, len) == 0 ? (int)(ms_now() - t0) : -1;
}

/*
 * Wait up to ms for the peer to end the connection. 1 when recv() reports EOF
 * or an error, 0 when it only timed out (or data arrived). *err gets errno (0 for EOF).
 */
static int ended_within(int fd, int ms, int *err)
{
    char c;
    set_rcvtimeo(fd, ms);
    ssize_t n = recv(fd, &c, 1, 0);
    *err = n < 0 ? errno : 0;
    return n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK);
}

static int get_stats(struct tcpproxy *p, struct stats *st)
{
    char reply[256];
    memset(st, 0, sizeof(*st));
    if (tcpproxy_command(p, "stats", reply, sizeof(reply)) != 0)
        return -1;
    return sscanf(reply, "ok connections=%llu bytes_up=%llu bytes_down=%llu mode=%15s active=%d", &st->connections,
                  &st->up, &st->down, st->mode, &st->active) == 5
               ? 0
               : -1;
}

/* The byte at offset i of the bulk pattern: not periodic at any small stride. */
static unsigned char pattern(size_t i)
{
    return (unsigned char)(i * 31 + (i >> 13) * 7 + (i >> 20));
}

/* Push `total` pattern bytes through fd while reading the echo; 0 when all came back intact within 10 s. */
static int bulk_echo(int fd, size_t total)
{
    static unsigned char out[65536], in[65536];
    size_t sent = 0, got = 0;
    int64_t deadline = ms_now() + 10000;
    while (got < total) {
        struct pollfd pfd = {.fd = fd, .events = POLLIN | (sent < total ? POLLOUT : 0)};
        int left = (int)(deadline - ms_now());
        if (left <= 0 || poll(&pfd, 1, left) <= 0)
            return -1;
        if (pfd.revents & POLLOUT) {
            size_t n = total - sent < sizeof(out) ? total - sent : sizeof(out);
            for (size_t i = 0; i < n; i++)
                out[i] = pattern(sent + i);
            ssize_t w = send(fd, out, n, MSG_NOSIGNAL | MSG_DONTWAIT);
            if (w < 0 && errno != EAGAIN)
                return -1;
            if (w > 0)
                sent += (size_t)w;
        }
        if (pfd.revents & (POLLIN | POLLHUP | POLLERR)) {
            ssize_t r = recv(fd, in, sizeof(in), MSG_DONTWAIT);
            if (r == 0 || (r < 0 && errno != EAGAIN))
                return -1;
            for (ssize_t i = 0; i < r; i++)
                if (in[i] != pattern(got + (size_t)i))
                    return -1;
            if (r > 0)
                got += (size_t)r;
        }
    }
    return 0;
}

/* Send raw bytes on a new control connection and read what comes back until EOF or 2 s. */
static void raw_control(struct tcpproxy *p, const char *data, size_t len, char *out, size_t outlen)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    size_t got = 0;
    snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", p->control);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    assert_true(fd >= 0);
    assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    assert_int_equal(send_all(fd, data, len), 0);
    shutdown(fd, SHUT_WR);
    set_rcvtimeo(fd, IO_TIMEOUT_MS);
    for (;;) {
        ssize_t n = recv(fd, out + got, outlen - 1 - got, 0);
        if (n <= 0)
            break;
        got += (size_t)n;
    }
    out[got] = '\0';
    close(fd);
}

/* Reap pid within ms; its wait status, or -1 when it is still running (it is then killed). */
static int wait_exit(pid_t pid, int ms)
{
    int status;
    int64_t deadline = ms_now() + ms;
    while (ms_now() < deadline) {
        if (waitpid(pid, &status, WNOHANG) == pid)
            return status;
        sleep_ms(10);
    }
    kill(pid, SIGKILL);
    waitpid(pid, &status, 0);
    return -1;
}

static void test_pass_echoes_both_ways(void **state)
{
    struct tcpproxy *p = *state;
    int fd = dial(p->port);
    assert_true(fd >= 0);
    assert_true(round_trip_ms(fd, "hello, harper") >= 0);
    assert_int_equal(bulk_echo(fd, BULK_BYTES), 0);
    assert_true(round_trip_ms(fd, "still here") >= 0);
    close(fd);
}

static void test_half_close_is_passed_on(void **state)
{
    struct tcpproxy *p = *state;
    char buf[8];
    int err;
    int fd = dial(p->port);
    assert_true(fd >= 0);
    assert_int_equal(send_all(fd, "half", 4), 0);
    assert_int_equal(shutdown(fd, SHUT_WR), 0);
    /* the echo server sees our FIN only through the proxy, answers, then closes: we get data, then EOF */
    assert_int_equal(recv_exact(fd, buf, 4), 0);
    assert_memory_equal(buf, "half", 4);
    assert_true(ended_within(fd, IO_TIMEOUT_MS, &err));
    assert_int_equal(err, 0);
    close(fd);
}

static void test_delay_holds_each_direction_in_order(void **state)
{
    struct tcpproxy *p = *state;
    char reply[128], buf[4];
    int fd = dial(p->port);
    assert_true(fd >= 0);
    int base = round_trip_ms(fd, "x");
    assert_true(base >= 0 && base < 250);

    assert_int_equal(tcpproxy_command(p, "delay 300", reply, sizeof(reply)), 0);
    assert_string_equal(reply, "ok delay 300");
    int held = round_trip_ms(fd, "y");
    print_message("round trip %d ms in pass, %d ms with delay 300\n", base, held);
    assert_true(held >= 590); /* 300 ms up and 300 ms down */
    assert_true(held < 3000);

    /* chunks sent apart come back in the order sent */
    assert_int_equal(send_all(fd, "1", 1), 0);
    sleep_ms(40);
    assert_int_equal(send_all(fd, "2", 1), 0);
    sleep_ms(40);
    assert_int_equal(send_all(fd, "3", 1), 0);
    assert_int_equal(recv_exact(fd, buf, 3), 0);
    assert_memory_equal(buf, "123", 3);

    assert_int_equal(tcpproxy_command(p, "pass", NULL, 0), 0);
    int again = round_trip_ms(fd, "z");
    assert_true(again >= 0 && again < 250);
    close(fd);
}

static void test_cut_resets_open_and_new_connections(void **state)
{
    struct tcpproxy *p = *state;
    struct stats st;
    char reply[128];
    int err;
    int fd = dial(p->port);
    assert_true(fd >= 0);
    assert_true(round_trip_ms(fd, "before") >= 0);

    assert_int_equal(tcpproxy_command(p, "cut", reply, sizeof(reply)), 0);
    assert_string_equal(reply, "ok cut 1");
    assert_true(ended_within(fd, 1000, &err));
    assert_int_equal(err, ECONNRESET);
    close(fd);

    /* the kernel still completes the handshake, then the proxy resets it at once */
    int64_t t0 = ms_now();
    fd = dial(p->port);
    assert_true(fd >= 0);
    assert_true(ended_within(fd, 1000, &err));
    assert_int_equal(err, ECONNRESET);
    assert_true(ms_now() - t0 < 1000);
    close(fd);

    assert_int_equal(get_stats(p, &st), 0);
    assert_string_equal(st.mode, "cut");
    assert_int_equal(st.active, 0);

    assert_int_equal(tcpproxy_command(p, "pass", NULL, 0), 0);
    fd = dial(p->port);
    assert_true(fd >= 0);
    assert_true(round_trip_ms(fd, "after") >= 0);
    close(fd);
}

static void test_blackhole_holds_everything_until_pass(void **state)
{
    struct tcpproxy *p = *state;
    struct stats st;
    char buf[8];
    int fd = dial(p->port);
    assert_true(fd >= 0);
    assert_true(round_trip_ms(fd, "before") >= 0);

    assert_int_equal(tcpproxy_command(p, "blackhole", NULL, 0), 0);
    /* an open connection: the request goes nowhere and the client's own timeout fires */
    assert_int_equal(send_all(fd, "held", 4), 0);
    set_rcvtimeo(fd, 500);
    int64_t t0 = ms_now();
    assert_int_equal(recv(fd, buf, sizeof(buf), 0), -1);
    assert_true(errno == EAGAIN || errno == EWOULDBLOCK);
    assert_true(ms_now() - t0 >= 450);

    /* a new connection is accepted, never answered and never closed */
    int fd2 = dial(p->port);
    assert_true(fd2 >= 0);
    assert_int_equal(send_all(fd2, "new", 3), 0);
    set_rcvtimeo(fd2, 500);
    assert_int_equal(recv(fd2, buf, sizeof(buf), 0), -1);
    assert_true(errno == EAGAIN || errno == EWOULDBLOCK);

    assert_int_equal(get_stats(p, &st), 0);
    assert_string_equal(st.mode, "blackhole");
    assert_int_equal(st.up, 6); /* only "before" reached the server */
    assert_int_equal(st.active, 2);

    /* back to pass: both connections work and what was held is delivered */
    assert_int_equal(tcpproxy_command(p, "pass", NULL, 0), 0);
    set_rcvtimeo(fd, IO_TIMEOUT_MS);
    set_rcvtimeo(fd2, IO_TIMEOUT_MS);
    assert_int_equal(recv_exact(fd, buf, 4), 0);
    assert_memory_equal(buf, "held", 4);
    assert_int_equal(recv_exact(fd2, buf, 3), 0);
    assert_memory_equal(buf, "new", 3);
    assert_true(round_trip_ms(fd2, "after") >= 0);
    close(fd);
    close(fd2);
}

static void test_stats_count_connections_bytes_and_mode(void **state)
{
    struct tcpproxy *p = *state;
    struct stats st;
    assert_int_equal(get_stats(p, &st), 0);
    assert_int_equal(st.connections, 0);
    assert_int_equal(st.up, 0);
    assert_int_equal(st.down, 0);
    assert_string_equal(st.mode, "pass");

    int a = dial(p->port), b = dial(p->port);
    assert_true(a >= 0 && b >= 0);
    assert_true(round_trip_ms(a, "0123456789") >= 0);
    assert_true(round_trip_ms(b, "0123456789") >= 0);
    assert_int_equal(get_stats(p, &st), 0);
    assert_int_equal(st.connections, 2);
    assert_int_equal(st.up, 20);
    assert_int_equal(st.down, 20);
    assert_int_equal(st.active, 2);

    /* closing both ends them in the proxy too (FIN passed on both ways) */
    close(a);
    close(b);
    int64_t deadline = ms_now() + IO_TIMEOUT_MS;
    while (get_stats(p, &st) == 0 && st.active > 0 && ms_now() < deadline)
        sleep_ms(10);
    assert_int_equal(st.active, 0);
    assert_int_equal(st.connections, 2);

    assert_int_equal(tcpproxy_command(p, "delay 5", NULL, 0), 0);
    assert_int_equal(get_stats(p, &st), 0);
    assert_string_equal(st.mode, "delay");
    assert_int_equal(tcpproxy_command(p, "blackhole", NULL, 0), 0);
    assert_int_equal(get_stats(p, &st), 0);
    assert_string_equal(st.mode, "blackhole");
}

static void test_bad_commands_are_refused(void **state)
{
    struct tcpproxy *p = *state;
    static const char *const bad[] = {"bogus",        "delay", "delay -1", "delay 12x",
                                      "delay 600001", "PASS",  "",         "pass now"};
    struct stats st;
    char reply[256], big[400];

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(tcpproxy_command(p, bad[i], reply, sizeof(reply)), -1);
        assert_true(strncmp(reply, "error ", 6) == 0);
    }
    assert_int_equal(tcpproxy_command(p, "two\nlines", NULL, 0), -1); /* refused by the client itself */

    /* several commands on one connection get one reply line each, in order */
    raw_control(p, "stats\r\nbogus\nquit-not\n", strlen("stats\r\nbogus\nquit-not\n"), big, sizeof(big));
    assert_true(strncmp(big, "ok connections=0 ", 17) == 0);
    assert_non_null(strstr(big, "\nerror unknown command \"bogus\"\nerror unknown command \"quit-not\"\n"));

    /* an overlong line is refused and the connection dropped */
    memset(big, 'a', sizeof(big));
    raw_control(p, big, 300, reply, sizeof(reply));
    assert_true(strncmp(reply, "error line longer than", 22) == 0);

    assert_int_equal(get_stats(p, &st), 0);
    assert_string_equal(st.mode, "pass");
    int fd = dial(p->port);
    assert_true(fd >= 0);
    assert_true(round_trip_ms(fd, "fine") >= 0);
    close(fd);
}

static void test_back_pressure_bounds_what_is_held(void **state)
{
    struct tcpproxy *p = *state;
    static unsigned char buf[65536];
    struct stats st;
    char reply[256];
    size_t sent = 0, got = 0;
    int fd = dial(p->port);
    assert_true(fd >= 0);

    /* write without reading until the whole path is full and sending stalls for 300 ms */
    int64_t stalled = ms_now(), deadline = ms_now() + 5000;
    while (ms_now() - stalled < 300 && sent < (64u << 20) && ms_now() < deadline) {
        for (size_t i = 0; i < sizeof(buf); i++)
            buf[i] = pattern(sent + i);
        ssize_t n = send(fd, buf, sizeof(buf), MSG_DONTWAIT | MSG_NOSIGNAL);
        if (n > 0) {
            sent += (size_t)n;
            stalled = ms_now();
        } else {
            assert_true(errno == EAGAIN || errno == EWOULDBLOCK);
            struct pollfd pfd = {.fd = fd, .events = POLLOUT};
            poll(&pfd, 1, 50);
        }
    }
    assert_true(ms_now() - stalled >= 300); /* the proxy stopped reading: the client is held back */
    assert_int_equal(tcpproxy_command(p, "stats", reply, sizeof(reply)), 0);
    const char *held = strstr(reply, " held=");
    assert_non_null(held);
    unsigned long long h = strtoull(held + 6, NULL, 10);
    print_message("client stalled after %zu bytes; proxy holds %llu\n", sent, h);
    assert_true(h <= 2u << 20); /* at most 1 MiB each way */

    /* reading again lets everything through, intact */
    while (got < sent) {
        ssize_t n = recv(fd, buf, sizeof(buf), 0);
        assert_true(n > 0);
        for (ssize_t i = 0; i < n; i++)
            assert_true(buf[i] == pattern(got + (size_t)i));
        got += (size_t)n;
    }
    assert_int_equal(get_stats(p, &st), 0);
    assert_int_equal(st.up, sent);
    assert_int_equal(st.down, sent);
    close(fd);
}

static void test_many_connections_at_once(void **state)
{
    struct tcpproxy *p = *state;
    enum { N = 200 };
    static int fds[N];
    struct stats st;
    char msg[32], buf[32];

    for (int i = 0; i < N; i++) {
        fds[i] = dial(p->port);
        assert_true(fds[i] >= 0);
        snprintf(msg, sizeof(msg), "conn %03d", i);
        assert_int_equal(send_all(fds[i], msg, 8), 0);
    }
    for (int i = 0; i < N; i++) {
        snprintf(msg, sizeof(msg), "conn %03d", i);
        assert_int_equal(recv_exact(fds[i], buf, 8), 0);
        assert_memory_equal(buf, msg, 8);
    }
    assert_int_equal(get_stats(p, &st), 0);
    assert_int_equal(st.active, N);
    assert_int_equal(st.up, 8 * N);
    for (int i = 0; i < N; i++)
        close(fds[i]);
}

static void test_target_down_resets_the_client(void **state)
{
    (void)state;
    struct tcpproxy q;
    int port, err;
    int hole = bind_loopback(0, &port); /* bound, not listening: connects to it are refused */
    assert_true(hole >= 0);
    assert_int_equal(tcpproxy_start(&q, proxy_bin, port), 0);
    int fd = dial(q.port);
    assert_true(fd >= 0);
    assert_true(ended_within(fd, 1000, &err));
    close(fd);
    close(hole);
    int status = tcpproxy_stop(&q);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

static void test_stop_quits_cleanly(void **state)
{
    struct tcpproxy *p = *state;
    char control[sizeof(p->control)];
    int port = p->port;
    snprintf(control, sizeof(control), "%s", p->control);
    int fd = dial(port);
    assert_true(fd >= 0);
    assert_true(round_trip_ms(fd, "bye") >= 0);

    int status = tcpproxy_stop(p);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    assert_int_equal(access(control, F_OK), -1); /* control socket removed */
    assert_int_equal(dial(port), -1);            /* nothing listens any more */
    close(fd);
    assert_int_equal(tcpproxy_stop(p), -1); /* a second stop is harmless */
}

static void test_sigterm_exits_cleanly(void **state)
{
    struct tcpproxy *p = *state;
    int fd = dial(p->port);
    assert_true(fd >= 0);
    assert_int_equal(tcpproxy_command(p, "delay 10000", NULL, 0), 0);
    assert_int_equal(send_all(fd, "pending", 7), 0); /* a held chunk must not keep it alive */
    sleep_ms(50);
    assert_int_equal(kill(p->pid, SIGTERM), 0);
    int status = wait_exit(p->pid, 3000);
    p->pid = 0;
    assert_true(status != -1 && WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    assert_int_equal(access(p->control, F_OK), -1);
    close(fd);
}

static void test_start_reports_a_missing_binary(void **state)
{
    (void)state;
    struct tcpproxy q;
    assert_int_equal(tcpproxy_start(&q, "/nonexistent/tcpproxy", echo_port), -1);
    assert_non_null(
        strstr(q.error, "exited with status")); /* 127 from exec, unless a tool such as valgrind changes it */
    assert_int_equal(q.pid, 0);
    assert_int_equal(tcpproxy_command(&q, "stats", NULL, 0), -1);
    assert_int_equal(tcpproxy_start(&q, proxy_bin, 0), -1); /* target port out of range */
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_pass_echoes_both_ways, proxy_setup, proxy_teardown),
        cmocka_unit_test_setup_teardown(test_half_close_is_passed_on, proxy_setup, proxy_teardown),
        cmocka_unit_test_setup_teardown(test_delay_holds_each_direction_in_order, proxy_setup, proxy_teardown),
        cmocka_unit_test_setup_teardown(test_cut_resets_open_and_new_connections, proxy_setup, proxy_teardown),
        cmocka_unit_test_setup_teardown(test_blackhole_holds_everything_until_pass, proxy_setup, proxy_teardown),
        cmocka_unit_test_setup_teardown(test_stats_count_connections_bytes_and_mode, proxy_setup, proxy_teardown),
        cmocka_unit_test_setup_teardown(test_bad_commands_are_refused, proxy_setup, proxy_teardown),
        cmocka_unit_test_setup_teardown(test_back_pressure_bounds_what_is_held, proxy_setup, proxy_teardown),
        cmocka_unit_test_setup_teardown(test_many_connections_at_once, proxy_setup, proxy_teardown),
        cmocka_unit_test(test_target_down_resets_the_client),
        cmocka_unit_test_setup_teardown(test_stop_quits_cleanly, proxy_setup, proxy_teardown),
        cmocka_unit_test_setup_teardown(test_sigterm_exits_cleanly, proxy_setup, proxy_teardown),
        cmocka_unit_test(test_start_reports_a_missing_binary),
    };

    if (argc > 1)
        snprintf(proxy_bin, sizeof(proxy_bin), "%s", argv[1]);
    else
        tcpproxy_binary(proxy_bin, sizeof(proxy_bin));
    if (access(proxy_bin, X_OK) != 0) {
        fprintf(stderr, "test_tcpproxy: no tcpproxy program at \"%s\" (build it, or pass its path or set TCPPROXY)\n",
                proxy_bin);
        return 1;
    }
    signal(SIGPIPE, SIG_IGN);
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
