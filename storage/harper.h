/*
 * storage/harper.h - a small client for HarperDB's operations API (POST / with
 * a JSON {"operation": ...} body, Basic auth), on libcurl and jansson. One
 * `struct harper` is one keep-alive connection; it is blocking, so only
 * processes that may block use it (the migration tool, the syncer), never a
 * worker's event loop. HarperDB's error text is kept in the err message for
 * logs; the password never is. DDL helpers treat "already exists" (and, for
 * drops, "does not exist") as success so every step can be re-run.
 */
#ifndef STORAGE_HARPER_H
#define STORAGE_HARPER_H

#include <jansson.h>
#include <stddef.h>

#include "common/err.h"

struct harper;

struct harper_options {
    const char *uri;            /* operations API base URL, e.g. "http://127.0.0.1:9925" */
    const char *user;           /* may be NULL: no auth */
    const char *password;
    long connect_timeout_ms;    /* 0: 2000 */
    long timeout_ms;            /* whole request; 0: 10000 */
};

/* Prepare a client (no I/O yet). ERR_INVALID when the URI is not http(s)://. */
int harper_open(const struct harper_options *o, struct harper **out, struct err *e);

/* Close the connection and free; NULL is a no-op. */
void harper_close(struct harper *h);

/*
 * Send one operation (`op` borrowed) and parse the reply into *result (new
 * reference; may be NULL when the caller does not want it). Errors:
 * ERR_UNAVAILABLE (cannot connect, timeout, 5xx), ERR_NOT_FOUND (HarperDB says
 * the schema/table/record does not exist), ERR_CONFLICT (it says it already
 * exists), ERR_INVALID (other 4xx: auth, bad request), ERR_IO (unparseable
 * reply). The message quotes HarperDB's own error text.
 */
int harper_op(struct harper *h, json_t *op, json_t **result, struct err *e);

/* DDL, each idempotent: an existing schema/table/attribute is success; dropping
 * a missing one is success. */
int harper_create_schema(struct harper *h, const char *schema, struct err *e);
int harper_create_table(struct harper *h, const char *schema, const char *table, const char *hash_attribute,
                        struct err *e);
int harper_create_attribute(struct harper *h, const char *schema, const char *table, const char *attribute,
                            struct err *e);
int harper_drop_attribute(struct harper *h, const char *schema, const char *table, const char *attribute,
                          struct err *e);
int harper_drop_table(struct harper *h, const char *schema, const char *table, struct err *e);

/* describe_table into *out (new reference); ERR_NOT_FOUND when the table or schema is missing. */
int harper_describe_table(struct harper *h, const char *schema, const char *table, json_t **out, struct err *e);

/* upsert `records` (a JSON array of objects, borrowed). */
int harper_upsert(struct harper *h, const char *schema, const char *table, json_t *records, struct err *e);

/* insert `records`; existing hash values are skipped. *inserted (may be NULL) gets how many were new. */
int harper_insert(struct harper *h, const char *schema, const char *table, json_t *records, size_t *inserted,
                  struct err *e);

/* delete by hash values (`ids` a JSON array of strings, borrowed, never empty or with null). */
int harper_delete(struct harper *h, const char *schema, const char *table, json_t *ids, struct err *e);

/* search_by_hash with all attributes ("*"); *out is a new JSON array (empty when none match). */
int harper_search_by_hash(struct harper *h, const char *schema, const char *table, json_t *ids, json_t **out,
                          struct err *e);

/* Every record of a table (search_by_value on the hash attribute with "*"), into *out (new array). */
int harper_all(struct harper *h, const char *schema, const char *table, const char *hash_attribute, json_t **out,
               struct err *e);

#endif
