/*
 * server/listen.h - listening sockets for the configured binds: TCP
 * ("HOST:PORT", "[V6]:PORT", "*:PORT") and unix domain sockets ("unix:/path" or
 * any bind containing '/'). Non-blocking, close-on-exec, backlog 1024.
 */
#ifndef SERVER_LISTEN_H
#define SERVER_LISTEN_H

#include <stddef.h>

#include "common/err.h"

/*
 * Open one listening socket for `spec`. With `reuseport`, TCP sockets get
 * SO_REUSEPORT so each worker can bind its own. A stale unix socket file is
 * replaced; any other existing file is an error. Returns the fd (>= 0) or a
 * negative err code with a message naming the bind.
 */
int listen_open(const char *spec, int reuseport, struct err *e);

/* Describe where fd listens ("127.0.0.1:8000", "unix:/tmp/x.sock") into out. */
void listen_describe(int fd, char *out, size_t outlen);

/* 1 when `spec` is a unix socket path. */
int listen_is_unix(const char *spec);

#endif
