/*
 * server/master.c - see master.h.
 */
#include "server/master.h"

#include "server/metrics.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
#include "server/syncer.h"
#include "server/worker.h"

#define MASTER_MAX_WORKERS 256
#define RESPAWN_QUICK_DEATH_S 2.0   /* a worker dead sooner than this counts as a failure */
#define RESPAWN_BACKOFF_MAX_S 30.0
#define FAST_STOP_GRACE_S 2.0

struct slot {
    pid_t pid;            /* 0 when not running */
    double started;       /* monotonic seconds */
    double respawn_at;    /* when a dead slot may be forked again */
    int failures;         /* consecutive quick deaths */
};

static volatile sig_atomic_t sig_child, sig_term, sig_fast;

static void on_signal(int sig)
{
    switch (sig) {
    case SIGCHLD: sig_child = 1; break;
    case SIGTERM: sig_term = 1; break;
    default: sig_fast = 1; break;
    }
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Slots 0..workers-1 are workers; with write-through the last slot is the syncer. */
static int syncer_slot = -1;

static const char *role_of(int index)
{
    return index == syncer_slot ? "syncer" : "worker";
}

static void spawn(struct slot *sl, int index, const struct runtime *rt)
{
    pid_t pid = fork();
    if (pid < 0) {
        log_error("fork worker %d: %s", index, strerror(errno));
        sl->respawn_at = now_s() + 1.0;
        return;
    }
    if (pid == 0) {
        /*
         * The child keeps the master's mask (SIGTERM, SIGINT, SIGQUIT and SIGCHLD
         * blocked) until master_child_init has put its own handlers in place and
         * unblocks them. Unblocking here, with the master's handler still
         * installed, lost a SIGTERM sent in between: the worker served on until
         * the master's SIGKILL at the end of the graceful timeout.
         */
        _exit(index == syncer_slot ? syncer_run(rt) : worker_run(index, rt));
    }
    sl->pid = pid;
    sl->started = now_s();
    metrics_child_started(rt->metrics);
    log_info("%s %d started (pid %d)", role_of(index), index, (int)pid);
}

/* Collect dead children; schedule respawns with exponential backoff for quick deaths. */
static void reap(struct slot *slots, int n, int stopping)
{
    int status;
    pid_t pid;
    while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
        for (int i = 0; i < n; i++) {
            if (slots[i].pid != pid)
                continue;
            slots[i].pid = 0;
            double lived = now_s() - slots[i].started;
            if (!stopping) {
                if (WIFSIGNALED(status))
                    log_warn("%s %d (pid %d) killed by signal %d after %.1f s", role_of(i), i, (int)pid,
                             WTERMSIG(status), lived);
                else
                    log_warn("%s %d (pid %d) exited with status %d after %.1f s", role_of(i), i, (int)pid,
                             WEXITSTATUS(status), lived);
            }
            if (lived < RESPAWN_QUICK_DEATH_S) {
                slots[i].failures++;
                double delay = 0.1 * (double)(1u << (slots[i].failures < 9 ? slots[i].failures : 9));
                if (delay > RESPAWN_BACKOFF_MAX_S)
                    delay = RESPAWN_BACKOFF_MAX_S;
                slots[i].respawn_at = now_s() + delay;
                if (!stopping)
                    log_warn("%s %d died quickly (%d in a row); next start in %.1f s", role_of(i), i,
                             slots[i].failures, delay);
            } else {
                slots[i].failures = 0;
                slots[i].respawn_at = now_s();
            }
        }
    }
}

static int running(const struct slot *slots, int n)
{
    int r = 0;
    for (int i = 0; i < n; i++)
        r += slots[i].pid != 0;
    return r;
}

static void signal_all(struct slot *slots, int n, int sig)
{
    for (int i = 0; i < n; i++)
        if (slots[i].pid != 0)
            kill(slots[i].pid, sig);
}

/* Wait (signals unblocked) at most `seconds` or until a signal arrives. */
static void wait_for(double seconds, const sigset_t *unblocked)
{
    if (seconds < 0)
        seconds = 0;
    struct timespec ts = {(time_t)seconds, (long)((seconds - (time_t)seconds) * 1e9)};
    ppoll(NULL, 0, &ts, unblocked);
}

/* Signal every worker, then wait until all are gone or `grace` passes; then SIGKILL. */
static void stop_all(struct slot *slots, int n, int sig, double grace, const sigset_t *unblocked)
{
    signal_all(slots, n, sig);
    double deadline = now_s() + grace;
    while (running(slots, n) > 0 && now_s() < deadline) {
        wait_for(deadline - now_s(), unblocked);
        sig_child = 0;
        reap(slots, n, 1);
    }
    if (running(slots, n) > 0) {
        log_warn("%d workers still running after %.1f s; killing them", running(slots, n), grace);
        signal_all(slots, n, SIGKILL);
        while (running(slots, n) > 0) {
            wait_for(0.05, unblocked);
            reap(slots, n, 1);
        }
    }
}

int master_child_init(void (*handler)(int))
{
    pid_t master = getppid();
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = handler;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGQUIT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    signal(SIGHUP, SIG_IGN);
    signal(SIGCHLD, SIG_DFL);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    return getppid() != master;
}

int master_run(const struct runtime *rt)
{
    const struct settings *s = rt->settings;
    static struct slot slots[MASTER_MAX_WORKERS + 1];
    int n = s->workers < 1 ? 1 : s->workers > MASTER_MAX_WORKERS ? MASTER_MAX_WORKERS : s->workers;
    if (rt->write_through)
        syncer_slot = n++;

    sigset_t block, orig, unblocked;
    sigemptyset(&block);
    sigaddset(&block, SIGCHLD);
    sigaddset(&block, SIGTERM);
    sigaddset(&block, SIGINT);
    sigaddset(&block, SIGQUIT);
    sigprocmask(SIG_BLOCK, &block, &orig);
    unblocked = orig;
    sigdelset(&unblocked, SIGCHLD);
    sigdelset(&unblocked, SIGTERM);
    sigdelset(&unblocked, SIGINT);
    sigdelset(&unblocked, SIGQUIT);
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGCHLD, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGQUIT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);

    for (int i = 0; i < n; i++)
        spawn(&slots[i], i, rt);

    for (;;) {
        double next = now_s() + 1.0;
        for (int i = 0; i < n; i++)
            if (slots[i].pid == 0 && slots[i].respawn_at < next)
                next = slots[i].respawn_at;
        wait_for(next - now_s(), &unblocked);
        if (sig_child) {
            sig_child = 0;
            reap(slots, n, 0);
        }
        if (sig_fast) {
            log_info("fast shutdown");
            stop_all(slots, n, SIGQUIT, FAST_STOP_GRACE_S, &unblocked);
            return 0;
        }
        if (sig_term) {
            log_info("graceful shutdown (up to %.1f s)", s->graceful_timeout_ms / 1000.0);
            stop_all(slots, n, SIGTERM, s->graceful_timeout_ms / 1000.0 + 1.0, &unblocked);
            log_info("stopped");
            return 0;
        }
        double t = now_s();
        for (int i = 0; i < n; i++)
            if (slots[i].pid == 0 && slots[i].respawn_at <= t)
                spawn(&slots[i], i, rt);
    }
}
