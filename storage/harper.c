/*
 * storage/harper.c - see harper.h. One libcurl easy handle per client, kept
 * between calls so the TCP connection is reused; every call is one blocking
 * POST of a JSON operation. This file owns the mapping of HarperDB's replies to
 * the project's error codes, and nothing else: no retries, no backoff (the
 * syncer and the migration tool decide those). The password lives only in this
 * struct and in libcurl's copy; it is wiped on close and scrubbed from every
 * error message.
 *
 * HarperDB 4.7.29's replies, as seen on a real instance:
 *   200 {"message": "database 's' successfully created"}      and other successes
 *   400 {"error": "database 's' already exists"}               create_schema
 *   400 {"error": "Table 't' already exists in 's'"}           create_table
 *   400 {"error": "attribute 'a' already exists in s.t"}       create_attribute
 *   404 {"error": "Table 's.t' does not exist"}                describe/drop/search
 *   404 {"error": "database 's' does not exist"}               describe/drop
 *   400 {"error": "Table 's.t' does not exist"}                upsert/insert (400, not 404)
 *   400 {"error": "Operation 'x' not found"}                   unknown operation: invalid, not "not found"
 *   401 {"error": "Login failed"}                              wrong user or password
 *   500 {"error": "Cannot read properties of undefined (reading 'attributes')"}
 *                                                              create_attribute on a missing table
 *   500 {"error": "'get_attributes' is required"}              a missing field on some operations:
 *                                                              invalid, since a retry cannot help
 *   404 "Not found" (text/plain)                               the HTTP port, not the operations API
 */
#include "storage/harper.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/xmalloc.h"

#define HARPER_REPLY_MAX (64u * 1024u * 1024u) /* largest reply body kept */
#define HARPER_TEXT_MAX 300                    /* longest quote of an error text */
#define DEFAULT_CONNECT_MS 2000L
#define DEFAULT_TIMEOUT_MS 10000L

struct harper {
    CURL *curl;
    struct curl_slist *headers;
    char *uri;
    char *password; /* NULL without auth; wiped on close */
    long timeout_ms;
    long status; /* HTTP status of the last reply; 0 when none came */
    char *reply; /* last reply body, NUL-terminated */
    size_t reply_len, reply_cap;
    int reply_too_large;
    char curl_err[CURL_ERROR_SIZE];
};

/* libcurl write callback: append to the reply buffer up to HARPER_REPLY_MAX. */
static size_t on_body(char *data, size_t size, size_t nmemb, void *arg)
{
    struct harper *h = arg;
    size_t n = size * nmemb;
    if (n > HARPER_REPLY_MAX - h->reply_len) {
        h->reply_too_large = 1;
        return 0; /* anything but n aborts the transfer */
    }
    if (h->reply_len + n + 1 > h->reply_cap) {
        size_t cap = h->reply_cap ? h->reply_cap : 4096;
        while (cap < h->reply_len + n + 1)
            cap *= 2;
        h->reply = xrealloc(h->reply, cap);
        h->reply_cap = cap;
    }
    memcpy(h->reply + h->reply_len, data, n);
    h->reply_len += n;
    h->reply[h->reply_len] = '\0';
    return n;
}

/* Overwrite every copy of the password in `msg` with asterisks. */
static void scrub(const struct harper *h, char *msg)
{
    if (h->password == NULL || h->password[0] == '\0')
        return;
    size_t n = strlen(h->password);
    for (char *p = strstr(msg, h->password); p != NULL; p = strstr(p + n, h->password))
        memset(p, '*', n);
}

int harper_open(const struct harper_options *o, struct harper **out, struct err *e)
{
    *out = NULL;
    if (o == NULL || o->uri == NULL ||
        (strncasecmp(o->uri, "http://", 7) != 0 && strncasecmp(o->uri, "https://", 8) != 0))
        return err_set(e, ERR_INVALID, "harperdb uri must start with http:// or https://");
    size_t skip = strncasecmp(o->uri, "http://", 7) == 0 ? 7 : 8;
    if (o->uri[skip] == '\0' || o->uri[skip] == '/')
        return err_set(e, ERR_INVALID, "harperdb uri has no host");
    if (o->connect_timeout_ms < 0 || o->timeout_ms < 0)
        return err_set(e, ERR_INVALID, "harperdb timeouts must not be negative");

    struct harper *h = xcalloc(1, sizeof(*h));
    h->curl = curl_easy_init();
    if (h->curl == NULL) {
        free(h);
        return err_set(e, ERR_GENERIC, "harperdb: cannot create a curl handle");
    }
    h->uri = xstrdup(o->uri);
    h->timeout_ms = o->timeout_ms ? o->timeout_ms : DEFAULT_TIMEOUT_MS;
    h->headers = curl_slist_append(NULL, "Content-Type: application/json");
    h->headers = curl_slist_append(h->headers, "Accept: application/json");
    h->headers = curl_slist_append(h->headers, "Expect:"); /* no 100-continue pause on large bodies */
    if (h->headers == NULL) {
        harper_close(h);
        return err_set(e, ERR_GENERIC, "harperdb: out of memory for headers");
    }

    CURL *c = h->curl;
    curl_easy_setopt(c, CURLOPT_URL, h->uri);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_NOPROXY, "*");
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, o->connect_timeout_ms ? o->connect_timeout_ms : DEFAULT_CONNECT_MS);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, h->timeout_ms);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h->headers);
    curl_easy_setopt(c, CURLOPT_POST, 1L);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, h);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, h->curl_err);
    curl_easy_setopt(c, CURLOPT_TCP_KEEPALIVE, 1L);
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
#if LIBCURL_VERSION_NUM >= 0x075500
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
#else
    curl_easy_setopt(c, CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
    if (o->user != NULL) {
        h->password = xstrdup(o->password != NULL ? o->password : "");
        curl_easy_setopt(c, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
        curl_easy_setopt(c, CURLOPT_USERNAME, o->user);
        curl_easy_setopt(c, CURLOPT_PASSWORD, h->password);
    }
    *out = h;
    return 0;
}

void harper_close(struct harper *h)
{
    if (h == NULL)
        return;
    if (h->curl != NULL)
        curl_easy_cleanup(h->curl);
    curl_slist_free_all(h->headers);
    if (h->password != NULL) {
        explicit_bzero(h->password, strlen(h->password));
        free(h->password);
    }
    free(h->uri);
    free(h->reply);
    free(h);
}

/* Does HarperDB's error text say that the thing asked for is missing? */
static int says_missing(const char *text)
{
    if (strcasestr(text, "does not exist") != NULL || strcasestr(text, "doesn't exist") != NULL)
        return 1;
    /* "Operation 'x' not found" is a bad request, not a missing object. */
    return strcasestr(text, "not found") != NULL && strncasecmp(text, "operation ", 10) != 0;
}

/*
 * HarperDB's error text from a non-2xx reply, into `text`: the "error" (or
 * "message") member of a JSON object, else the body itself, trimmed, with
 * control characters blanked and cut at HARPER_TEXT_MAX. Returns 1 when the
 * reply was HarperDB JSON, 0 when it was something else (plain text, empty).
 */
static int error_text(const struct harper *h, char *text, size_t size)
{
    int from_json = 0;
    const char *s = NULL;
    json_t *j = h->reply_len > 0 ? json_loadb(h->reply, h->reply_len, 0, NULL) : NULL;
    if (json_is_object(j)) {
        s = json_string_value(json_object_get(j, "error"));
        if (s == NULL)
            s = json_string_value(json_object_get(j, "message"));
        from_json = s != NULL;
    }
    if (s == NULL)
        s = h->reply_len > 0 ? h->reply : "";
    while (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n')
        s++;
    size_t n = strlen(s);
    if (n >= size)
        n = size - 1;
    if (n > HARPER_TEXT_MAX)
        n = HARPER_TEXT_MAX;
    for (size_t i = 0; i < n; i++)
        text[i] = (unsigned char)s[i] < 0x20 || s[i] == 0x7f ? ' ' : s[i];
    while (n > 0 && text[n - 1] == ' ')
        n--;
    text[n] = '\0';
    json_decref(j);
    return from_json;
}

/* Map a finished non-2xx reply to an error code and message. */
static int reply_error(struct harper *h, const char *opname, struct err *e)
{
    char text[HARPER_TEXT_MAX + 1];
    int from_json = error_text(h, text, sizeof(text));
    int code;
    if (h->status >= 500 && from_json && strstr(text, "' is required") != NULL)
        code = ERR_INVALID; /* 4.7 reports some validation failures as 500s; a retry never helps */
    else if (h->status >= 500)
        code = ERR_UNAVAILABLE;
    else if (h->status >= 400 && from_json && strcasestr(text, "already exists") != NULL)
        code = ERR_CONFLICT;
    else if (h->status >= 400 && from_json && says_missing(text))
        code = ERR_NOT_FOUND;
    else if (h->status >= 400)
        code = ERR_INVALID;
    else
        code = ERR_IO; /* 1xx/3xx: not an answer the operations API gives */

    if (text[0] == '\0')
        err_set(e, code, "harperdb %s: HTTP %ld", opname, h->status);
    else if (!from_json && h->status == 404)
        /* A plain "Not found" comes from HarperDB's application port. */
        err_set(e, code, "harperdb %s: HTTP 404: %s (is the uri HarperDB's operations API port?)", opname, text);
    else if (from_json)
        err_set(e, code, "harperdb %s: %s", opname, text);
    else
        err_set(e, code, "harperdb %s: HTTP %ld: %s", opname, h->status, text);
    return code;
}

/* Map a transfer that did not complete (no usable reply) to an error. */
static int transfer_error(struct harper *h, CURLcode rc, const char *opname, struct err *e)
{
    if (h->reply_too_large)
        return err_set(e, ERR_IO, "harperdb %s: reply larger than %u MiB", opname, HARPER_REPLY_MAX >> 20);
    const char *why = h->curl_err[0] != '\0' ? h->curl_err : curl_easy_strerror(rc);
    if (rc == CURLE_OPERATION_TIMEDOUT)
        return err_set(e, ERR_UNAVAILABLE, "harperdb %s: no reply within %ld ms: %s", opname, h->timeout_ms, why);
    if (rc == CURLE_COULDNT_CONNECT || rc == CURLE_COULDNT_RESOLVE_HOST)
        return err_set(e, ERR_UNAVAILABLE, "harperdb %s: cannot connect: %s", opname, why);
    if (rc == CURLE_OUT_OF_MEMORY || rc == CURLE_BAD_FUNCTION_ARGUMENT || rc == CURLE_UNSUPPORTED_PROTOCOL ||
        rc == CURLE_URL_MALFORMAT)
        return err_set(e, ERR_INVALID, "harperdb %s: %s", opname, why);
    return err_set(e, ERR_UNAVAILABLE, "harperdb %s: %s", opname, why);
}

int harper_op(struct harper *h, json_t *op, json_t **result, struct err *e)
{
    if (result != NULL)
        *result = NULL;
    const char *opname = json_string_value(json_object_get(op, "operation"));
    if (!json_is_object(op) || opname == NULL)
        return err_set(e, ERR_INVALID, "harperdb: an operation is an object with an \"operation\" string");

    char *body = json_dumps(op, JSON_COMPACT);
    if (body == NULL)
        return err_set(e, ERR_INVALID, "harperdb %s: cannot encode the operation", opname);

    h->reply_len = 0;
    h->reply_too_large = 0;
    h->status = 0;
    h->curl_err[0] = '\0';
    if (h->reply != NULL)
        h->reply[0] = '\0';
    curl_easy_setopt(h->curl, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(h->curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(body));
    CURLcode rc = curl_easy_perform(h->curl);
    curl_easy_setopt(h->curl, CURLOPT_POSTFIELDS, NULL);
    free(body);

    int ret;
    if (rc != CURLE_OK) {
        ret = transfer_error(h, rc, opname, e);
    } else {
        curl_easy_getinfo(h->curl, CURLINFO_RESPONSE_CODE, &h->status);
        if (h->status >= 200 && h->status < 300) {
            json_error_t je;
            json_t *j = json_loadb(h->reply != NULL ? h->reply : "", h->reply_len, JSON_DECODE_ANY, &je);
            if (j == NULL) {
                ret = err_set(e, ERR_IO, "harperdb %s: unparseable reply (HTTP %ld): %s", opname, h->status, je.text);
            } else {
                ret = 0;
                if (result != NULL)
                    *result = j;
                else
                    json_decref(j);
            }
        } else {
            ret = reply_error(h, opname, e);
        }
    }
    if (ret != 0 && e != NULL)
        scrub(h, e->msg);
    /* Keep a small buffer for the next call; give back a big one. */
    if (h->reply_cap > (1u << 20)) {
        free(h->reply);
        h->reply = NULL;
        h->reply_cap = 0;
        h->reply_len = 0;
    }
    return ret;
}

/* {"operation": name, "schema": schema[, "table": table]} (new reference). */
static json_t *new_op(const char *name, const char *schema, const char *table)
{
    json_t *op = json_object();
    json_object_set_new(op, "operation", json_string(name));
    json_object_set_new(op, "schema", json_string(schema));
    if (table != NULL)
        json_object_set_new(op, "table", json_string(table));
    return op;
}

/* Run `op` (stolen), ignoring the reply; `ok_code` (a conflict or a not found) counts as success. */
static int run_ddl(struct harper *h, json_t *op, int ok_code, struct err *e)
{
    int rc = harper_op(h, op, NULL, e);
    json_decref(op);
    if (rc == ok_code) {
        if (e != NULL) {
            e->code = 0;
            e->msg[0] = '\0';
        }
        return 0;
    }
    return rc;
}

/* A schema, table or attribute name HarperDB can take: present and non-empty. */
static int bad_name(const char *s)
{
    return s == NULL || s[0] == '\0';
}

/* The part of an err message after its "harperdb <op>: " prefix. */
static const char *after_prefix(const char *msg)
{
    const char *p = strstr(msg, ": ");
    return p != NULL ? p + 2 : msg;
}

int harper_create_schema(struct harper *h, const char *schema, struct err *e)
{
    if (bad_name(schema))
        return err_set(e, ERR_INVALID, "harperdb create_schema: a schema name is required");
    return run_ddl(h, new_op("create_schema", schema, NULL), ERR_CONFLICT, e);
}

int harper_create_table(struct harper *h, const char *schema, const char *table, const char *hash_attribute,
                        struct err *e)
{
    if (bad_name(schema) || bad_name(table) || bad_name(hash_attribute))
        return err_set(e, ERR_INVALID, "harperdb create_table: schema, table and hash attribute are required");
    json_t *op = new_op("create_table", schema, table);
    json_object_set_new(op, "hash_attribute", json_string(hash_attribute));
    return run_ddl(h, op, ERR_CONFLICT, e);
}

int harper_create_attribute(struct harper *h, const char *schema, const char *table, const char *attribute,
                            struct err *e)
{
    if (bad_name(schema) || bad_name(table) || bad_name(attribute))
        return err_set(e, ERR_INVALID, "harperdb create_attribute: schema, table and attribute are required");
    json_t *op = new_op("create_attribute", schema, table);
    json_object_set_new(op, "attribute", json_string(attribute));
    int rc = run_ddl(h, op, ERR_CONFLICT, e);
    if (rc == ERR_UNAVAILABLE && h->status >= 500) {
        /* 4.7 answers a missing table here with a 500 (a TypeError); ask
         * describe_table so the caller sees "not found", not "unavailable". */
        struct err e2 = {0};
        json_t *d = NULL;
        if (harper_describe_table(h, schema, table, &d, &e2) == ERR_NOT_FOUND)
            rc = err_set(e, ERR_NOT_FOUND, "harperdb create_attribute: %s", after_prefix(e2.msg));
        json_decref(d);
    }
    return rc;
}

int harper_drop_attribute(struct harper *h, const char *schema, const char *table, const char *attribute, struct err *e)
{
    if (bad_name(schema) || bad_name(table) || bad_name(attribute))
        return err_set(e, ERR_INVALID, "harperdb drop_attribute: schema, table and attribute are required");
    json_t *op = new_op("drop_attribute", schema, table);
    json_object_set_new(op, "attribute", json_string(attribute));
    return run_ddl(h, op, ERR_NOT_FOUND, e);
}

int harper_drop_table(struct harper *h, const char *schema, const char *table, struct err *e)
{
    if (bad_name(schema) || bad_name(table))
        return err_set(e, ERR_INVALID, "harperdb drop_table: schema and table are required");
    return run_ddl(h, new_op("drop_table", schema, table), ERR_NOT_FOUND, e);
}

int harper_describe_table(struct harper *h, const char *schema, const char *table, json_t **out, struct err *e)
{
    *out = NULL;
    if (bad_name(schema) || bad_name(table))
        return err_set(e, ERR_INVALID, "harperdb describe_table: schema and table are required");
    json_t *op = new_op("describe_table", schema, table);
    json_t *r = NULL;
    int rc = harper_op(h, op, &r, e);
    json_decref(op);
    if (rc != 0)
        return rc;
    if (!json_is_object(r)) {
        json_decref(r);
        return err_set(e, ERR_IO, "harperdb describe_table: reply is not an object");
    }
    *out = r;
    return 0;
}

/* upsert or insert `records` (borrowed); the reply into *reply (new reference). */
static int write_records(struct harper *h, const char *opname, const char *schema, const char *table, json_t *records,
                         json_t **reply, struct err *e)
{
    *reply = NULL;
    if (bad_name(schema) || bad_name(table))
        return err_set(e, ERR_INVALID, "harperdb %s: schema and table are required", opname);
    if (!json_is_array(records))
        return err_set(e, ERR_INVALID, "harperdb %s: records must be an array", opname);
    size_t i;
    json_t *r;
    json_array_foreach(records, i, r)
    {
        if (!json_is_object(r))
            return err_set(e, ERR_INVALID, "harperdb %s: record %zu is not an object", opname, i);
    }
    json_t *op = new_op(opname, schema, table);
    json_object_set(op, "records", records);
    int rc = harper_op(h, op, reply, e);
    json_decref(op);
    return rc;
}

int harper_upsert(struct harper *h, const char *schema, const char *table, json_t *records, struct err *e)
{
    json_t *reply;
    int rc = write_records(h, "upsert", schema, table, records, &reply, e);
    json_decref(reply);
    return rc;
}

int harper_insert(struct harper *h, const char *schema, const char *table, json_t *records, size_t *inserted,
                  struct err *e)
{
    if (inserted != NULL)
        *inserted = 0;
    json_t *reply;
    int rc = write_records(h, "insert", schema, table, records, &reply, e);
    if (rc != 0)
        return rc;
    json_t *hashes = json_object_get(reply, "inserted_hashes");
    size_t n = 0;
    if (json_is_array(hashes)) {
        n = json_array_size(hashes);
    } else {
        /* Older replies carry only the message "inserted N of M records". */
        const char *msg = json_string_value(json_object_get(reply, "message"));
        if (msg == NULL || sscanf(msg, "inserted %zu of", &n) != 1) {
            json_decref(reply);
            return err_set(e, ERR_IO, "harperdb insert: reply has no inserted_hashes");
        }
    }
    json_decref(reply);
    if (inserted != NULL)
        *inserted = n;
    return 0;
}

/* `ids` must be a non-empty array of strings: a null hash value must never reach delete. */
static int check_ids(const char *opname, json_t *ids, int allow_empty, struct err *e)
{
    if (!json_is_array(ids))
        return err_set(e, ERR_INVALID, "harperdb %s: ids must be an array", opname);
    if (!allow_empty && json_array_size(ids) == 0)
        return err_set(e, ERR_INVALID, "harperdb %s: no ids given", opname);
    size_t i;
    json_t *id;
    json_array_foreach(ids, i, id)
    {
        if (!json_is_string(id) || json_string_length(id) == 0)
            return err_set(e, ERR_INVALID, "harperdb %s: id %zu is not a non-empty string", opname, i);
    }
    return 0;
}

int harper_delete(struct harper *h, const char *schema, const char *table, json_t *ids, struct err *e)
{
    if (bad_name(schema) || bad_name(table))
        return err_set(e, ERR_INVALID, "harperdb delete: schema and table are required");
    if (check_ids("delete", ids, 0, e) != 0)
        return ERR_INVALID;
    json_t *op = new_op("delete", schema, table);
    json_object_set(op, "hash_values", ids);
    int rc = harper_op(h, op, NULL, e);
    json_decref(op);
    return rc;
}

/* Run a search `op` (stolen) whose reply must be an array, into *out. */
static int run_search(struct harper *h, json_t *op, json_t **out, struct err *e)
{
    const char *opname = json_string_value(json_object_get(op, "operation"));
    json_object_set_new(op, "get_attributes", json_pack("[s]", "*"));
    json_t *r = NULL;
    int rc = harper_op(h, op, &r, e);
    if (rc == 0 && !json_is_array(r)) {
        rc = err_set(e, ERR_IO, "harperdb %s: reply is not an array", opname);
        json_decref(r);
        r = NULL;
    }
    json_decref(op);
    *out = r;
    return rc;
}

int harper_search_by_hash(struct harper *h, const char *schema, const char *table, json_t *ids, json_t **out,
                          struct err *e)
{
    *out = NULL;
    if (bad_name(schema) || bad_name(table))
        return err_set(e, ERR_INVALID, "harperdb search_by_hash: schema and table are required");
    if (check_ids("search_by_hash", ids, 1, e) != 0)
        return ERR_INVALID;
    json_t *op = new_op("search_by_hash", schema, table);
    json_object_set(op, "hash_values", ids);
    return run_search(h, op, out, e);
}

int harper_all(struct harper *h, const char *schema, const char *table, const char *hash_attribute, json_t **out,
               struct err *e)
{
    *out = NULL;
    if (bad_name(schema) || bad_name(table) || bad_name(hash_attribute))
        return err_set(e, ERR_INVALID, "harperdb search_by_value: schema, table and hash attribute are required");
    json_t *op = new_op("search_by_value", schema, table);
    json_object_set_new(op, "search_attribute", json_string(hash_attribute));
    json_object_set_new(op, "search_value", json_string("*"));
    return run_search(h, op, out, e);
}
