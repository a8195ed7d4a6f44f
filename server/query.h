/*
 * server/query.h - a small, bounded parser of application/x-www-form-urlencoded
 * query strings ("race=hill%20dwarf&name=Tho+rin&level=3").
 *
 * The text is split on '&' into parameters, each on its first '=' into a name
 * and a value; both are percent-decoded with '+' as a space. Every parameter
 * is kept, in order, repeated names included: what a repeat means is the
 * caller's business (query_find() walks them). The parser judges bytes only:
 * a malformed escape, a NUL byte, text that is not valid UTF-8 or holds a
 * control character, or a name or value over its bound is recorded on that
 * parameter; the rest of the query still parses. Whole-query bounds (length,
 * number of parameters) are the only failures.
 *
 * `struct query` owns the decoded text (no allocation; about 10 KB, so callers
 * in a request take it from the request's pool). Pure: no I/O, no globals.
 */
#ifndef SERVER_QUERY_H
#define SERVER_QUERY_H

#include <stddef.h>

#include "common/err.h"

#define QUERY_TEXT_MAX 8192 /* bytes of a raw query string (after '?') */
#define QUERY_PARAMS_MAX 32 /* parameters in one query */
#define QUERY_KEY_MAX 64    /* decoded bytes of a parameter name */
#define QUERY_VALUE_MAX 400 /* decoded bytes of a parameter value */

/* What is wrong with one parameter's name or value; QUERY_OK when nothing. */
enum query_problem {
    QUERY_OK = 0,
    QUERY_BAD_ESCAPE, /* '%' not followed by two hexadecimal digits */
    QUERY_NUL,        /* decodes to a NUL byte (%00) */
    QUERY_NOT_TEXT,   /* decodes to invalid UTF-8 or holds a control character */
    QUERY_TOO_LONG    /* decodes to more than QUERY_KEY_MAX / QUERY_VALUE_MAX bytes */
};

struct query_param {
    /* The decoded name, NUL-terminated. "" when key_problem is set, except for
     * QUERY_TOO_LONG, where it is the whole (valid UTF-8) name. */
    const char *key;
    size_t key_len;
    /* The decoded value, NUL-terminated; "" when there was no '=' or value_problem is set. */
    const char *value;
    size_t value_len;
    int has_value; /* the parameter had an '=' */
    enum query_problem key_problem, value_problem;
};

struct query {
    struct query_param params[QUERY_PARAMS_MAX];
    size_t n;     /* parameters in params, in the order given */
    int too_many; /* more than QUERY_PARAMS_MAX were given; params holds the first ones */
    char buf[QUERY_TEXT_MAX + 2 * QUERY_PARAMS_MAX]; /* the decoded names and values */
};

/*
 * Parse text[0..len) (the part after '?', without a '#' fragment) into `q`.
 * Empty parameters ("a=1&&b=2", a lone "=") are skipped. `text` need not be
 * NUL-terminated and is not kept. Returns 0; or ERR_TOO_LARGE with a message
 * in `e` when len > QUERY_TEXT_MAX (q->n is then 0) or when there are more
 * than QUERY_PARAMS_MAX parameters (q->too_many set; the first
 * QUERY_PARAMS_MAX are in q). Problems of single parameters are not errors:
 * see key_problem / value_problem.
 */
int query_parse(struct query *q, const char *text, size_t len, struct err *e);

/*
 * Index of the first parameter at or after `from` whose name is `key` (a
 * NUL-terminated, exact and case-sensitive match), or -1 when there is none.
 * For a repeated name: i = query_find(q, k, 0), then query_find(q, k, i + 1).
 */
int query_find(const struct query *q, const char *key, size_t from);

/* A lower-case phrase for a problem ("holds an invalid percent escape"); "" for QUERY_OK. */
const char *query_problem_text(enum query_problem p);

#endif
