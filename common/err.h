/*
 * common/err.h - the shared return codes and the caller-supplied error record.
 *
 * Every fallible function in the project returns 0 (ERR_OK) or one negative code
 * from enum err_code, and writes a human-readable detail into a `struct err` the
 * caller passes (may be NULL). Messages are lower-case, without a final full stop,
 * and never contain secrets. The mapping of codes to HTTP statuses lives in one
 * place only: server/problem.c.
 */
#ifndef COMMON_ERR_H
#define COMMON_ERR_H

#include <stddef.h>

enum err_code {
    ERR_OK = 0,
    ERR_GENERIC = -1,      /* unexpected internal failure */
    ERR_INVALID = -2,      /* bad input (config, file, request) */
    ERR_NOT_FOUND = -3,    /* the thing asked for does not exist */
    ERR_CONFLICT = -4,     /* stale version / already exists */
    ERR_IO = -5,           /* file, socket or database failure */
    ERR_PENDING = -6,      /* migrations are pending */
    ERR_TOO_LARGE = -7,    /* an input exceeded its bound */
    ERR_UNAVAILABLE = -8,  /* a dependency is not reachable */
    ERR_DUPLICATE = -9,    /* a value that must be unique is taken (a roll id's nonce) */
};

struct err {
    int code;
    char msg[512];
};

/* Record `code` and a printf-style message in `e` (ignored when e is NULL); returns code. */
int err_set(struct err *e, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Short lower-case name of a code ("invalid", "not found", ...); never NULL. */
const char *err_name(int code);

#endif
