/*
 * tests/unit/test_openapi.c - the OpenAPI document (api/openapi.json, built
 * into the binary by server/openapi.c) against the routes the server really
 * registers (routes_table()): every registered route is documented and every
 * documented operation is registered (HEAD aside: it is served wherever GET
 * is); each operation's auth, body and 403/415 answers agree with its route
 * flags; every operation has responses; every path parameter is declared;
 * every $ref resolves. Also: the embedded bytes are exactly the file's, the
 * ETag is strong and stable, and the SRD attribution statement is the same in
 * GET /api/2014, NOTICE, README.md and the document (and, when ../shared is
 * there, the statement SRD-FACTS.md requires, word for word).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "server/openapi.h"
#include "server/reference.h"
#include "server/router.h"
#include "server/routes.h"

#define PROBLEMS_MAX 8192

/* Every disagreement found by a test, so one run names them all. */
struct problems {
    char buf[PROBLEMS_MAX];
    size_t len;
    size_t n;
};

static void note(struct problems *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void note(struct problems *p, const char *fmt, ...)
{
    p->n++;
    if (p->len + 2 >= sizeof(p->buf))
        return;
    p->buf[p->len++] = '\n';
    va_list ap;
    va_start(ap, fmt);
    int w = vsnprintf(p->buf + p->len, sizeof(p->buf) - p->len, fmt, ap);
    va_end(ap);
    if (w > 0)
        p->len += (size_t)w < sizeof(p->buf) - p->len ? (size_t)w : sizeof(p->buf) - p->len - 1;
}

static void check_problems(struct problems *p, const char *what)
{
    if (p->n > 0)
        fail_msg("%zu %s:%s", p->n, what, p->buf);
}

static const char *top_srcdir(void)
{
    const char *s = getenv("top_srcdir");
    return s != NULL && *s ? s : ".";
}

/* The whole file at $top_srcdir/rel, NUL-terminated, or NULL when unreadable. Caller frees. */
static char *read_file(const char *rel, size_t *len)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s/%s", top_srcdir(), rel);
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return NULL;
    size_t cap = 1 << 16, n = 0;
    char *s = malloc(cap);
    assert_non_null(s);
    size_t got;
    while ((got = fread(s + n, 1, cap - n - 1, f)) > 0) {
        n += got;
        if (n + 1 == cap) {
            cap *= 2;
            s = realloc(s, cap);
            assert_non_null(s);
        }
    }
    fclose(f);
    s[n] = '\0';
    if (len != NULL)
        *len = n;
    return s;
}

static json_t *load_doc(void)
{
    size_t len;
    const char *body = openapi_body(&len, NULL);
    json_error_t e;
    json_t *doc = json_loadb(body, len, JSON_REJECT_DUPLICATES, &e);
    if (doc == NULL)
        fail_msg("the embedded document is not JSON: line %d column %d: %s", e.line, e.column, e.text);
    return doc;
}

static const char *const http_methods[] = {"get", "put", "post", "delete", "options", "head", "patch", "trace"};
#define NMETHODS (sizeof(http_methods) / sizeof(http_methods[0]))

/*
 * A router pattern in OpenAPI path-template form. The router's placeholders
 * are already `{name}` segments (server/router.h), so the text carries over;
 * a malformed pattern (empty segment, stray brace, bad name) is a problem.
 */
static int to_openapi_path(const char *pattern, char *out, size_t cap, struct problems *p)
{
    size_t n = strlen(pattern);
    if (n == 0 || n >= cap || pattern[0] != '/') {
        note(p, "route pattern \"%s\" is not an absolute path", pattern);
        return -1;
    }
    for (const char *seg = pattern + 1; seg <= pattern + n;) {
        const char *end = strchr(seg, '/');
        size_t sl = end != NULL ? (size_t)(end - seg) : strlen(seg);
        int ok = sl > 0;
        if (ok && seg[0] == '{') {
            ok = sl > 2 && seg[sl - 1] == '}';
            for (size_t i = 1; ok && i + 1 < sl; i++)
                ok = islower((unsigned char)seg[i]) || seg[i] == '_';
        } else {
            for (size_t i = 0; ok && i < sl; i++)
                ok = seg[i] != '{' && seg[i] != '}';
        }
        if (!ok) {
            note(p, "route pattern \"%s\": segment \"%.*s\" is neither literal nor {name}", pattern, (int)sl, seg);
            return -1;
        }
        seg += sl + 1;
    }
    memcpy(out, pattern, n + 1);
    return 0;
}

static void lower(const char *s, char *out, size_t cap)
{
    size_t i;
    for (i = 0; s[i] != '\0' && i + 1 < cap; i++)
        out[i] = (char)tolower((unsigned char)s[i]);
    out[i] = '\0';
}

/* The operation for a route, or NULL. */
static json_t *operation(json_t *doc, const struct route *r, char *path, size_t cap, struct problems *p)
{
    if (to_openapi_path(r->pattern, path, cap, p) != 0)
        return NULL;
    char m[16];
    lower(r->method, m, sizeof(m));
    return json_object_get(json_object_get(json_object_get(doc, "paths"), path), m);
}

static void test_version_and_shape(void **state)
{
    (void)state;
    json_t *doc = load_doc();
    assert_string_equal(json_string_value(json_object_get(doc, "openapi")), "3.1.0");
    json_t *info = json_object_get(doc, "info");
    assert_non_null(json_string_value(json_object_get(info, "title")));
    assert_non_null(json_string_value(json_object_get(info, "version")));
    assert_true(json_is_object(json_object_get(doc, "paths")));
    json_t *bearer = json_object_get(json_object_get(json_object_get(doc, "components"), "securitySchemes"), "bearer");
    assert_string_equal(json_string_value(json_object_get(bearer, "type")), "http");
    assert_string_equal(json_string_value(json_object_get(bearer, "scheme")), "bearer");
    /* The default is a token: only operations that say otherwise are open. */
    json_t *sec = json_object_get(doc, "security");
    assert_true(json_is_array(sec) && json_array_size(sec) == 1);
    assert_non_null(json_object_get(json_array_get(sec, 0), "bearer"));
    json_decref(doc);
}

static void test_every_route_is_documented(void **state)
{
    (void)state;
    json_t *doc = load_doc();
    struct problems p = {0};
    size_t n;
    const struct route *t = routes_table(&n);
    assert_true(n > 0);
    for (size_t i = 0; i < n; i++) {
        char path[512];
        size_t before = p.n; /* a malformed pattern is noted by to_openapi_path() */
        if (operation(doc, &t[i], path, sizeof(path), &p) == NULL && p.n == before)
            note(&p, "%s %s is registered but not in api/openapi.json", t[i].method, t[i].pattern);
    }
    json_decref(doc);
    check_problems(&p, "routes missing from the document");
}

static void test_every_documented_operation_is_registered(void **state)
{
    (void)state;
    json_t *doc = load_doc();
    struct problems p = {0};
    size_t n;
    const struct route *t = routes_table(&n);
    const char *path;
    json_t *item;
    json_object_foreach(json_object_get(doc, "paths"), path, item) {
        for (size_t k = 0; k < NMETHODS; k++) {
            if (json_object_get(item, http_methods[k]) == NULL || strcmp(http_methods[k], "head") == 0)
                continue;
            int found = 0;
            for (size_t i = 0; i < n && !found; i++) {
                char m[16], tp[512];
                struct problems ignore = {0};
                lower(t[i].method, m, sizeof(m));
                found = strcmp(m, http_methods[k]) == 0 &&
                        to_openapi_path(t[i].pattern, tp, sizeof(tp), &ignore) == 0 && strcmp(tp, path) == 0;
            }
            if (!found)
                note(&p, "%s %s is documented but the server does not register it", http_methods[k], path);
        }
    }
    json_decref(doc);
    check_problems(&p, "documented operations not registered");
}

/* 1 when a security requirement list holds an empty object: no credentials needed. */
static int allows_anonymous(json_t *sec)
{
    size_t i;
    json_t *x;
    json_array_foreach(sec, i, x) {
        if (json_is_object(x) && json_object_size(x) == 0)
            return 1;
    }
    return 0;
}

static void test_route_flags_agree(void **state)
{
    (void)state;
    json_t *doc = load_doc();
    struct problems p = {0};
    size_t n;
    const struct route *t = routes_table(&n);
    for (size_t i = 0; i < n; i++) {
        char path[512];
        json_t *op = operation(doc, &t[i], path, sizeof(path), &p);
        if (op == NULL)
            continue; /* reported by test_every_route_is_documented */
        const char *m = t[i].method, *pat = t[i].pattern;
        unsigned f = t[i].flags;
        json_t *sec = json_object_get(op, "security"), *resp = json_object_get(op, "responses");
        int open = json_is_array(sec) && json_array_size(sec) == 0;
        if ((f & ROUTE_PUBLIC) && !open)
            note(&p, "%s %s is public but the document asks for a token (want \"security\": [])", m, pat);
        if (!(f & ROUTE_PUBLIC) && open)
            note(&p, "%s %s needs a token but the document says \"security\": []", m, pat);
        if (!(f & ROUTE_PUBLIC) && (f & ROUTE_REFERENCE) && !allows_anonymous(sec))
            note(&p, "%s %s is public with auth.public_reference; its security lacks the {} alternative", m, pat);
        if (!(f & (ROUTE_PUBLIC | ROUTE_REFERENCE)) && sec != NULL && allows_anonymous(sec))
            note(&p, "%s %s always needs a token but its security allows anonymous access", m, pat);
        if (!(f & ROUTE_PUBLIC) && json_object_get(resp, "401") == NULL)
            note(&p, "%s %s needs a token but documents no 401", m, pat);
        if (((f & ROUTE_WRITE) != 0) != (json_object_get(resp, "403") != NULL))
            note(&p, "%s %s: %s but %s 403", m, pat, (f & ROUTE_WRITE) ? "needs write scope" : "needs read scope only",
                 (f & ROUTE_WRITE) ? "documents no" : "documents a");
        json_t *rb = json_object_get(op, "requestBody");
        json_t *content = json_object_get(rb, "content");
        if (((f & ROUTE_JSON_BODY) != 0) != (rb != NULL)) {
            note(&p, "%s %s: %s a JSON body but the document %s a requestBody", m, pat,
                 (f & ROUTE_JSON_BODY) ? "takes" : "takes no", rb != NULL ? "has" : "has no");
            continue;
        }
        if (rb == NULL)
            continue;
        if (json_object_get(content, "application/json") == NULL)
            note(&p, "%s %s: its requestBody lacks application/json", m, pat);
        if (((f & ROUTE_MERGE_PATCH) != 0) != (json_object_get(content, "application/merge-patch+json") != NULL))
            note(&p, "%s %s: merge-patch %s by the route but %s in the document", m, pat,
                 (f & ROUTE_MERGE_PATCH) ? "accepted" : "refused", (f & ROUTE_MERGE_PATCH) ? "missing" : "listed");
        int required = json_is_true(json_object_get(rb, "required"));
        if (((f & ROUTE_BODY_OPTIONAL) != 0) == required)
            note(&p, "%s %s: body is %s but the document says required: %s", m, pat,
                 (f & ROUTE_BODY_OPTIONAL) ? "optional" : "required", required ? "true" : "false");
        static const char *const body_codes[] = {"400", "413", "415"};
        for (size_t k = 0; k < 3; k++)
            if (json_object_get(resp, body_codes[k]) == NULL)
                note(&p, "%s %s takes a body but documents no %s", m, pat, body_codes[k]);
    }
    json_decref(doc);
    check_problems(&p, "disagreements between route flags and the document");
}

/* Follow a local $ref once ("#/components/..."), or return x itself. */
static json_t *deref(json_t *doc, json_t *x);

static void test_operations_have_responses(void **state)
{
    (void)state;
    json_t *doc = load_doc();
    struct problems p = {0};
    json_t *ids = json_object();
    const char *path;
    json_t *item;
    json_object_foreach(json_object_get(doc, "paths"), path, item) {
        for (size_t k = 0; k < NMETHODS; k++) {
            json_t *op = json_object_get(item, http_methods[k]);
            if (op == NULL)
                continue;
            json_t *resp = json_object_get(op, "responses");
            if (!json_is_object(resp) || json_object_size(resp) == 0) {
                note(&p, "%s %s has no responses", http_methods[k], path);
                continue;
            }
            int success = 0;
            const char *code;
            json_t *r;
            json_object_foreach(resp, code, r) {
                if (code[0] == '2')
                    success = 1;
                if (!json_is_string(json_object_get(deref(doc, r), "description")))
                    note(&p, "%s %s: response %s has no description", http_methods[k], path, code);
            }
            if (!success)
                note(&p, "%s %s documents no 2xx response", http_methods[k], path);
            /* If-Match and 412 go together; If-None-Match and 304 too. */
            static const char *const cond[][2] = {{"If-Match", "412"}, {"If-None-Match", "304"}};
            for (size_t c = 0; c < 2; c++) {
                int has_header = 0;
                size_t i;
                json_t *x;
                json_array_foreach(json_object_get(op, "parameters"), i, x) {
                    const char *name = json_string_value(json_object_get(deref(doc, x), "name"));
                    has_header |= name != NULL && strcmp(name, cond[c][0]) == 0;
                }
                if (has_header != (json_object_get(resp, cond[c][1]) != NULL))
                    note(&p, "%s %s: %s %s but %s %s", http_methods[k], path, has_header ? "takes" : "does not take",
                         cond[c][0], has_header ? "documents no" : "documents a", cond[c][1]);
            }
            const char *id = json_string_value(json_object_get(op, "operationId"));
            if (id == NULL)
                note(&p, "%s %s has no operationId", http_methods[k], path);
            else if (json_object_get(ids, id) != NULL)
                note(&p, "operationId %s is used twice", id);
            else
                json_object_set_new(ids, id, json_true());
        }
    }
    json_decref(ids);
    json_decref(doc);
    check_problems(&p, "operations without proper responses");
}

/* Resolve a JSON pointer ("#/a/b~1c") in doc; NULL when it does not resolve. */
static json_t *resolve(json_t *doc, const char *ref)
{
    if (strncmp(ref, "#/", 2) != 0)
        return strcmp(ref, "#") == 0 ? doc : NULL;
    json_t *cur = doc;
    const char *s = ref + 2;
    for (;;) {
        char tok[256];
        size_t n = 0;
        for (; *s != '\0' && *s != '/'; s++) {
            char c = *s;
            if (c == '~') {
                if (s[1] == '0')
                    c = '~';
                else if (s[1] == '1')
                    c = '/';
                else
                    return NULL;
                s++;
            }
            if (n + 1 >= sizeof(tok))
                return NULL;
            tok[n++] = c;
        }
        tok[n] = '\0';
        if (json_is_object(cur)) {
            cur = json_object_get(cur, tok);
        } else if (json_is_array(cur)) {
            char *end;
            unsigned long idx = strtoul(tok, &end, 10);
            cur = n > 0 && *end == '\0' ? json_array_get(cur, idx) : NULL;
        } else {
            cur = NULL;
        }
        if (cur == NULL || *s == '\0')
            return cur;
        s++;
    }
}

static json_t *deref(json_t *doc, json_t *x)
{
    const char *ref = json_string_value(json_object_get(x, "$ref"));
    json_t *to = ref != NULL ? resolve(doc, ref) : NULL;
    return to != NULL ? to : x;
}

static void walk_refs(json_t *doc, json_t *x, const char *where, size_t *count, struct problems *p, int depth)
{
    if (depth > 64) {
        note(p, "%s: nested deeper than 64", where);
        return;
    }
    if (json_is_object(x)) {
        const char *key;
        json_t *v;
        json_object_foreach(x, key, v) {
            if (strcmp(key, "$ref") == 0) {
                (*count)++;
                if (!json_is_string(v))
                    note(p, "%s: $ref is not a string", where);
                else if (resolve(doc, json_string_value(v)) == NULL)
                    note(p, "%s: $ref \"%s\" does not resolve", where, json_string_value(v));
                continue;
            }
            char sub[512];
            snprintf(sub, sizeof(sub), "%s/%s", where, key);
            walk_refs(doc, v, sub, count, p, depth + 1);
        }
    } else if (json_is_array(x)) {
        size_t i;
        json_t *v;
        json_array_foreach(x, i, v) {
            char sub[512];
            snprintf(sub, sizeof(sub), "%s/%zu", where, i);
            walk_refs(doc, v, sub, count, p, depth + 1);
        }
    }
}

static void test_every_ref_resolves(void **state)
{
    (void)state;
    json_t *doc = load_doc();
    struct problems p = {0};
    size_t count = 0;
    walk_refs(doc, doc, "#", &count, &p, 0);
    assert_true(count > 50); /* the document is built from components: a walk that finds none is broken */
    /* The resolver itself: a good pointer, an escaped one that is absent, a bad one. */
    assert_non_null(resolve(doc, "#/components/schemas/Problem"));
    assert_null(resolve(doc, "#/components/schemas/Nope"));
    assert_null(resolve(doc, "#/paths/~1v1~1characters/nope"));
    assert_non_null(resolve(doc, "#/paths/~1v1~1characters/post"));
    assert_null(resolve(doc, "other.json#/x"));
    json_decref(doc);
    check_problems(&p, "unresolved $refs");
}

/* Add the names of the path parameters in `params` (after $ref) to `names`. */
static void path_params(json_t *doc, json_t *params, json_t *names)
{
    size_t i;
    json_t *x;
    json_array_foreach(params, i, x) {
        json_t *prm = deref(doc, x);
        const char *in = json_string_value(json_object_get(prm, "in"));
        const char *name = json_string_value(json_object_get(prm, "name"));
        if (in != NULL && name != NULL && strcmp(in, "path") == 0)
            json_object_set_new(names, name, json_boolean(json_is_true(json_object_get(prm, "required"))));
    }
}

static void test_path_parameters_declared(void **state)
{
    (void)state;
    json_t *doc = load_doc();
    struct problems p = {0};
    const char *path;
    json_t *item;
    json_object_foreach(json_object_get(doc, "paths"), path, item) {
        for (size_t k = 0; k < NMETHODS; k++) {
            json_t *op = json_object_get(item, http_methods[k]);
            if (op == NULL)
                continue;
            json_t *names = json_object();
            path_params(doc, json_object_get(item, "parameters"), names);
            path_params(doc, json_object_get(op, "parameters"), names);
            json_t *in_template = json_object();
            for (const char *s = strchr(path, '{'); s != NULL; s = strchr(s + 1, '{')) {
                const char *e = strchr(s, '}');
                if (e == NULL)
                    break;
                char name[64];
                snprintf(name, sizeof(name), "%.*s", (int)(e - s - 1), s + 1);
                json_object_set_new(in_template, name, json_true());
                json_t *decl = json_object_get(names, name);
                if (decl == NULL)
                    note(&p, "%s %s: path parameter {%s} is not declared", http_methods[k], path, name);
                else if (!json_is_true(decl))
                    note(&p, "%s %s: path parameter {%s} is not required: true", http_methods[k], path, name);
            }
            const char *name;
            json_t *v;
            json_object_foreach(names, name, v) {
                if (json_object_get(in_template, name) == NULL)
                    note(&p, "%s %s declares path parameter %s that is not in the path", http_methods[k], path, name);
            }
            json_decref(in_template);
            json_decref(names);
        }
    }
    json_decref(doc);
    check_problems(&p, "path parameter problems");
}

static void test_embedded_bytes_are_the_file(void **state)
{
    (void)state;
    size_t len, flen;
    const char *body = openapi_body(&len, NULL);
    assert_true(len > 0);
    assert_int_equal(body[len], '\0');
    char *file = read_file("api/openapi.json", &flen);
    if (file == NULL) {
        print_message("api/openapi.json not found under top_srcdir=%s\n", top_srcdir());
        fail();
    }
    assert_int_equal(len, flen);
    assert_memory_equal(body, file, len);
    free(file);
}

static void test_etag(void **state)
{
    (void)state;
    size_t len, len2;
    const char *etag = NULL, *etag2 = NULL;
    const char *body = openapi_body(&len, &etag);
    assert_non_null(etag);
    /* Strong (no W/), quoted, 32 hex digits. */
    assert_int_equal(strlen(etag), 34);
    assert_int_equal(etag[0], '"');
    assert_int_equal(etag[33], '"');
    for (int i = 1; i < 33; i++)
        assert_true(isxdigit((unsigned char)etag[i]) && !isupper((unsigned char)etag[i]));
    char first[35];
    memcpy(first, etag, sizeof(first));
    const char *body2 = openapi_body(&len2, &etag2);
    assert_ptr_equal(body, body2);
    assert_int_equal(len, len2);
    assert_string_equal(etag2, first);
}

/* Collapse runs of whitespace to one space, in place. */
static void squeeze(char *s)
{
    char *w = s;
    int space = 0;
    for (const char *r = s; *r != '\0'; r++) {
        if (isspace((unsigned char)*r)) {
            space = 1;
            continue;
        }
        if (space && w != s)
            *w++ = ' ';
        space = 0;
        *w++ = *r;
    }
    *w = '\0';
}

static void test_attribution_everywhere(void **state)
{
    (void)state;
    struct problems p = {0};
    const char *statement = REFERENCE_ATTRIBUTION; /* what GET /api/2014 serves */
    static const char *const files[] = {"NOTICE", "README.md"};
    for (size_t i = 0; i < 2; i++) {
        char *text = read_file(files[i], NULL);
        if (text == NULL) {
            note(&p, "%s is missing", files[i]);
            continue;
        }
        squeeze(text);
        if (strstr(text, statement) == NULL)
            note(&p, "%s does not carry the attribution GET /api/2014 serves, word for word", files[i]);
        free(text);
    }
    json_t *doc = load_doc();
    const char *desc = json_string_value(json_object_get(json_object_get(doc, "info"), "description"));
    if (desc == NULL || strstr(desc, statement) == NULL)
        note(&p, "the OpenAPI info.description does not carry the attribution");
    json_decref(doc);
    check_problems(&p, "attribution problems");

    /* The statement SRD-FACTS.md requires: the quoted line after its "Attribution" heading. */
    char *facts = read_file("../shared/SRD-FACTS.md", NULL);
    if (facts == NULL) {
        print_message("../shared absent: skipping the comparison with SRD-FACTS.md\n");
        skip();
    }
    const char *h = strstr(facts, "## Attribution");
    const char *q = h != NULL ? strstr(h, "\n> ") : NULL;
    assert_non_null(q);
    q += 3;
    const char *e = strchr(q, '\n');
    size_t n = e != NULL ? (size_t)(e - q) : strlen(q);
    char required[1024];
    assert_true(n < sizeof(required));
    memcpy(required, q, n);
    required[n] = '\0';
    free(facts);
    assert_string_equal(statement, required);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_version_and_shape),
        cmocka_unit_test(test_embedded_bytes_are_the_file),
        cmocka_unit_test(test_etag),
        cmocka_unit_test(test_every_route_is_documented),
        cmocka_unit_test(test_every_documented_operation_is_registered),
        cmocka_unit_test(test_route_flags_agree),
        cmocka_unit_test(test_operations_have_responses),
        cmocka_unit_test(test_path_parameters_declared),
        cmocka_unit_test(test_every_ref_resolves),
        cmocka_unit_test(test_attribution_everywhere),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
