/*
 * tests/tools/tcpproxy.h - the test-side client of the tcpproxy program: a
 * loopback TCP proxy under the test's control, put between our server and a
 * real HarperDB so a test can cut, delay or blackhole the link.
 *
 * The program (tcpproxy.c built with -DTCPPROXY_MAIN) listens on a free
 * 127.0.0.1 port, forwards every connection to 127.0.0.1:TARGET and takes one
 * text command per line on a unix socket:
 *
 *   pass         forward normally (the default)
 *   cut          reset every proxied connection now (RST on both sides) and
 *                reset new ones as soon as they are accepted
 *   blackhole    keep accepting, forward nothing either way, close nothing:
 *                no socket is read or written and new connections reach the
 *                target only once the blackhole ends, so what the client sent
 *                meanwhile is delivered then (like TCP retransmission)
 *   delay MS     forward, holding each chunk MS ms (0..600000) in both
 *                directions, in order; a chunk keeps the due time it was read
 *                with when the mode changes again
 *   stats        "ok connections=N bytes_up=N bytes_down=N mode=MODE active=N delay_ms=N held=N":
 *                connections accepted and kept since start, bytes written on to
 *                the target (up) and to clients (down), the mode (pass, delay,
 *                cut, blackhole), connections open now, the delay, and bytes
 *                read but not yet written on
 *   quit         exit 0
 *
 * Each command gets one reply line, "ok ..." or "error ...". These functions
 * spawn the program, send it commands and stop it. They own only the process
 * and control socket they create; they never signal anything else. Plain libc,
 * no cmocka, so any test program can link tcpproxy.c without TCPPROXY_MAIN.
 */
#ifndef TESTS_TOOLS_TCPPROXY_H
#define TESTS_TOOLS_TCPPROXY_H

#include <stddef.h>
#include <sys/types.h>

/* One running proxy. Fill nothing in: tcpproxy_start() owns every field. */
struct tcpproxy {
    pid_t pid;         /* the proxy process; 0 when not running */
    int port;          /* 127.0.0.1 port it listens on */
    char control[108]; /* path of its control socket (fits sun_path), "" when none */
    char error[160];   /* why the last failing call failed, or the proxy's "error ..." reply */
};

/*
 * Path of the tcpproxy program into out: $TCPPROXY when set, else
 * $top_builddir/tests/tools/tcpproxy (`make check` exports top_builddir),
 * else ./tests/tools/tcpproxy. Returns out.
 */
const char *tcpproxy_binary(char *out, size_t outlen);

/*
 * Spawn `binary` in front of 127.0.0.1:target_port with a fresh control socket
 * under /tmp and wait up to 5 s for its "listening PORT" line. The child gets
 * SIGTERM if the calling thread dies, so a crashed test leaves no proxy behind.
 * Returns 0 with p->pid and p->port set, or -1 with p->error set and nothing
 * left running.
 */
int tcpproxy_start(struct tcpproxy *p, const char *binary, int target_port);

/*
 * Send the one-line command `cmd` (no newline in it) over a new control
 * connection and wait up to 5 s for the reply. The reply line, without its
 * newline, goes to reply[0..replylen) when reply is not NULL (truncated if
 * longer). Returns 0 when the proxy answered "ok ...", -1 when it answered
 * "error ..." or could not be reached (p->error says which).
 */
int tcpproxy_command(struct tcpproxy *p, const char *cmd, char *reply, size_t replylen);

/*
 * Stop the proxy: "quit", wait up to 2 s, then SIGKILL; reap it and remove the
 * control socket. Returns its wait(2) status, or -1 when nothing was running.
 * Safe to call twice or on a zeroed struct.
 */
int tcpproxy_stop(struct tcpproxy *p);

#endif
