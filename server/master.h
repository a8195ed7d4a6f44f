/*
 * server/master.h - the supervising process. It owns the listening sockets and
 * the loaded configuration, forks the workers and respawns any that die
 * (backing off when one dies straight after starting, so a crash loop does not
 * spin), and stops them: SIGTERM gracefully within server.graceful_timeout,
 * SIGINT/SIGQUIT at once. It never serves a request. Signal handlers only set
 * flags; the loop waits in ppoll() with signals unblocked, like nginx's
 * sigsuspend() cycle, and acts on the flags.
 */
#ifndef SERVER_MASTER_H
#define SERVER_MASTER_H

#include <stddef.h>

#include "server/worker.h"

/*
 * Supervise rt->settings->workers workers, each given `rt`, until told to
 * stop. Returns the exit status for main(): 0 after a requested stop.
 */
int master_run(const struct runtime *rt);

/*
 * In a freshly forked child (worker or syncer): `handler` handles SIGTERM,
 * SIGINT and SIGQUIT (no SA_RESTART, so waits return at once), SIGPIPE and
 * SIGHUP are ignored, SIGCHLD is default, every signal is unblocked, and the
 * kernel sends SIGTERM when the master dies. Returns 1 when the master is
 * already gone (the caller should stop), else 0.
 */
int master_child_init(void (*handler)(int));

#endif
