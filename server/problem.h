/*
 * server/problem.h - the one place where failures become HTTP statuses.
 * Layers below return err codes (common/err.h) and violation lists
 * (rules/violations.h); handlers name a problem kind here, and this module
 * chooses the status, title and type and writes the RFC 9457 problem+json body.
 */
#ifndef SERVER_PROBLEM_H
#define SERVER_PROBLEM_H

#define H2O_USE_LIBUV 0
#include <h2o.h>
#include <jansson.h>

#include "rules/violations.h"

enum problem_kind {
    PROBLEM_BAD_REQUEST,        /* 400: not JSON, missing body */
    PROBLEM_UNAUTHORIZED,       /* 401: missing or wrong token */
    PROBLEM_FORBIDDEN,          /* 403: token lacks the scope */
    PROBLEM_NOT_FOUND,          /* 404 */
    PROBLEM_METHOD_NOT_ALLOWED, /* 405 */
    PROBLEM_PRECONDITION_FAILED,/* 412 */
    PROBLEM_TOO_LARGE,          /* 413 */
    PROBLEM_UNSUPPORTED_MEDIA,  /* 415 */
    PROBLEM_VALIDATION,         /* 422 */
    PROBLEM_INTERNAL,           /* 500 */
    PROBLEM_UNAVAILABLE,        /* 503 */
    PROBLEM_KIND_COUNT
};

/* HTTP status of a kind. */
int problem_status(enum problem_kind kind);

/* The problem kind for an err code from the layers below (ERR_NOT_FOUND -> 404, ...). */
enum problem_kind problem_from_err(int code);

/*
 * Send a problem+json response on `req`: type, title, status, detail (may be
 * NULL: the title is used), and, when `v` is given, its "errors" list. Adds the
 * headers a status needs (WWW-Authenticate on 401; the caller adds Allow on 405).
 * The body is allocated from req->pool.
 */
void problem_send(h2o_req_t *req, enum problem_kind kind, const char *detail, const struct violations *v);

/*
 * The "errors" array of a violation list: [{"field", "code", "message"}], each
 * text cut to valid UTF-8 (a message may have been truncated inside a
 * character). New reference. Also the "errors" of POST /v1/characters/validate.
 */
json_t *problem_errors_json(const struct violations *v);

#endif
