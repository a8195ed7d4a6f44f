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

#endif
