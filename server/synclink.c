/*
 * server/synclink.c - see synclink.h.
 */
#include "server/synclink.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "common/log.h"

#define RETRY_MS 500

static void finish(struct sync_wait *w, enum sync_outcome outcome)
{
    h2o_linklist_unlink(&w->link);
    if (h2o_timeout_is_linked(&w->timer))
        h2o_timeout_unlink(&w->timer);
    w->cb(w, outcome);
}

static void fail_all(struct synclink *l, enum sync_outcome outcome)
{
    while (!h2o_linklist_is_empty(&l->waiting)) {
        struct sync_wait *w = H2O_STRUCT_FROM_MEMBER(struct sync_wait, link, l->waiting.next);
        finish(w, outcome);
    }
}

void synclink_close(struct synclink *l)
{
    if (l->sock != NULL) {
        h2o_socket_close(l->sock);
        l->sock = NULL;
    }
    fail_all(l, SYNC_UNREACHABLE);
}

static void on_answer(struct synclink *l, const struct sync_msg *m)
{
    uint32_t want = m->type == SYNC_ACK ? SYNC_PUSH : SYNC_FETCH;
    for (h2o_linklist_t *n = l->waiting.next; n != &l->waiting; n = n->next) {
        struct sync_wait *w = H2O_STRUCT_FROM_MEMBER(struct sync_wait, link, n);
        if (w->type != want || strncmp(w->id, m->id, sizeof(w->id)) != 0 || w->seq != m->seq)
            continue;
        finish(w, m->ok ? SYNC_DONE : SYNC_ABSENT);
        return;
    }
}

static void on_read(h2o_socket_t *sock, const char *err)
{
    struct synclink *l = sock->data;
    if (err != NULL) {
        log_warn("lost the link to the syncer (%s); writes answer \"pending\" until it is back", err);
        l->sock = NULL;
        h2o_socket_close(sock);
        l->retry_at_ms = 0;
        fail_all(l, SYNC_UNREACHABLE);
        return;
    }
    size_t used = 0;
    while (sock->input->size - used >= sizeof(struct sync_msg)) {
        struct sync_msg m;
        memcpy(&m, sock->input->bytes + used, sizeof(m));
        used += sizeof(m);
        on_answer(l, &m);
    }
    h2o_buffer_consume(&sock->input, used);
}

static void on_timeout(h2o_timeout_entry_t *entry)
{
    struct sync_wait *w = H2O_STRUCT_FROM_MEMBER(struct sync_wait, timer, entry);
    h2o_linklist_unlink(&w->link);
    w->cb(w, SYNC_TIMEOUT);
}

void synclink_init(struct synclink *l, h2o_loop_t *loop, pid_t master, uint64_t timeout_ms)
{
    memset(l, 0, sizeof(*l));
    l->loop = loop;
    l->master = master;
    h2o_timeout_init(loop, &l->timeout, timeout_ms);
    h2o_linklist_init_anchor(&l->waiting);
}

/* Connect when not connected (at most every RETRY_MS after a failure). 0 when connected. */
static int ensure_connected(struct synclink *l)
{
    if (l->sock != NULL)
        return 0;
    int64_t now = sync_now_ms();
    if (now < l->retry_at_ms)
        return -1;
    struct sockaddr_un sa;
    size_t len = sync_address(l->master, &sa);
    int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0 || connect(fd, (struct sockaddr *)&sa, (socklen_t)len) != 0) {
        if (fd >= 0)
            close(fd);
        l->retry_at_ms = now + RETRY_MS;
        return -1;
    }
    l->sock = h2o_evloop_socket_create(l->loop, fd, 0);
    l->sock->data = l;
    h2o_socket_read_start(l->sock, on_read);
    return 0;
}

static void start(struct synclink *l, struct sync_wait *w, const struct sync_msg *m)
{
    memset(&w->link, 0, sizeof(w->link)); /* unlinked */
    memset(&w->timer, 0, sizeof(w->timer));
    if (ensure_connected(l) != 0 ||
        send(h2o_socket_get_fd(l->sock), m, sizeof(*m), MSG_DONTWAIT | MSG_NOSIGNAL) != (ssize_t)sizeof(*m)) {
        w->cb(w, SYNC_UNREACHABLE);
        return;
    }
    h2o_linklist_insert(&l->waiting, &w->link);
    w->timer.cb = on_timeout;
    h2o_timeout_link(l->loop, &l->timeout, &w->timer);
}

void synclink_push(struct synclink *l, struct sync_wait *w, int64_t seq, int64_t version, const char *id,
                   sync_wait_cb cb, void *data)
{
    w->type = SYNC_PUSH;
    w->seq = seq;
    snprintf(w->id, sizeof(w->id), "%s", id);
    w->cb = cb;
    w->data = data;
    struct sync_msg m = {.type = SYNC_PUSH, .seq = seq, .version = version};
    snprintf(m.id, sizeof(m.id), "%s", id);
    start(l, w, &m);
}

void synclink_fetch(struct synclink *l, struct sync_wait *w, const char *id, sync_wait_cb cb, void *data)
{
    synclink_fetch_kind(l, w, 0, id, cb, data);
}

void synclink_fetch_kind(struct synclink *l, struct sync_wait *w, int kind, const char *id, sync_wait_cb cb,
                         void *data)
{
    w->type = SYNC_FETCH;
    w->seq = kind;
    snprintf(w->id, sizeof(w->id), "%s", id);
    w->cb = cb;
    w->data = data;
    struct sync_msg m = {.type = SYNC_FETCH, .seq = kind};
    snprintf(m.id, sizeof(m.id), "%s", id);
    start(l, w, &m);
}
