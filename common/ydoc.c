/*
 * common/ydoc.c - see ydoc.h. Turns libyaml's events into a tree, one node
 * per scalar, sequence or mapping, counting nodes and depth as it goes so a
 * hostile input stops at the caller's bounds. Owns the parser only for the
 * length of ydoc_parse(); the tree owns its nodes. No I/O.
 */
#include "common/ydoc.h"

#include <stdlib.h>
#include <string.h>

#include <yaml.h>

#include "common/xmalloc.h"

/* A node while it is built: the public part first (so a ydoc_node of the tree is its bnode), then the capacity of
 * its growable list of kids. */
struct bnode {
    struct ydoc_node pub;
    struct ydoc_node **kids; /* each the pub of a bnode */
    size_t cap;
};

struct ydoc {
    struct bnode *root;
};

struct loader {
    yaml_parser_t parser;
    const char *path;
    const unsigned char *buf;
    size_t len;
    size_t nodes;
    const struct ydoc_limits *lim;
    struct err *e;
};

static void node_free(struct bnode *n)
{
    if (n == NULL)
        return;
    for (size_t i = 0; i < n->pub.nkids; i++)
        node_free((struct bnode *)n->kids[i]);
    free(n->kids);
    free((char *)n->pub.text);
    free(n);
}

static void node_push(struct bnode *n, struct bnode *kid)
{
    if (n->pub.nkids == n->cap) {
        n->cap = n->cap ? n->cap * 2 : 8;
        n->kids = xrealloc(n->kids, n->cap * sizeof(*n->kids));
    }
    n->kids[n->pub.nkids++] = &kid->pub;
    n->pub.kids = (const struct ydoc_node *const *)n->kids;
}

/* 1-based line and column of byte `offset` of the input. */
static void offset_position(const unsigned char *buf, size_t len, size_t offset, size_t *line, size_t *col)
{
    size_t l = 1, c = 1;
    for (size_t i = 0; i < offset && i < len; i++) {
        if (buf[i] == '\n') {
            l++;
            c = 1;
        } else {
            c++;
        }
    }
    *line = l;
    *col = c;
}

/* Turn the parser's error into "PATH:LINE:COL: problem (context)". */
static int yaml_fail(struct loader *ld)
{
    const yaml_parser_t *p = &ld->parser;
    const char *problem = p->problem != NULL ? p->problem : "invalid yaml";
    size_t line, col;

    if (p->error == YAML_MEMORY_ERROR)
        return err_set(ld->e, ERR_GENERIC, "%s: out of memory reading yaml", ld->path);
    if (p->error == YAML_READER_ERROR) {
        offset_position(ld->buf, ld->len, p->problem_offset, &line, &col);
        if (p->problem_value != -1)
            return err_set(ld->e, ERR_INVALID, "%s:%zu:%zu: %s (#%X)", ld->path, line, col, problem,
                           (unsigned)p->problem_value);
        return err_set(ld->e, ERR_INVALID, "%s:%zu:%zu: %s", ld->path, line, col, problem);
    }
    line = p->problem_mark.line + 1;
    col = p->problem_mark.column + 1;
    if (p->context != NULL)
        return err_set(ld->e, ERR_INVALID, "%s:%zu:%zu: %s (%s at line %zu, column %zu)", ld->path, line, col, problem,
                       p->context, (size_t)p->context_mark.line + 1, (size_t)p->context_mark.column + 1);
    return err_set(ld->e, ERR_INVALID, "%s:%zu:%zu: %s", ld->path, line, col, problem);
}

static int next_event(struct loader *ld, yaml_event_t *ev)
{
    if (!yaml_parser_parse(&ld->parser, ev))
        return yaml_fail(ld);
    return 0;
}

/* Build the node that starts with `ev` (consumed) and everything inside it. */
static int load_node(struct loader *ld, yaml_event_t *ev, int depth, struct bnode **out)
{
    struct bnode *n = NULL;
    int line = (int)ev->start_mark.line + 1, col = (int)ev->start_mark.column + 1;
    int rc = 0;

    *out = NULL;
    if (++ld->nodes > ld->lim->max_nodes) {
        rc = err_set(ld->e, ERR_TOO_LARGE, "%s:%d:%d: more than %zu yaml nodes", ld->path, line, col,
                     ld->lim->max_nodes);
        goto out;
    }
    if (depth > ld->lim->max_depth) {
        rc = err_set(ld->e, ERR_TOO_LARGE, "%s:%d:%d: yaml nested deeper than %d levels", ld->path, line, col,
                     ld->lim->max_depth);
        goto out;
    }
    if (ev->type == YAML_ALIAS_EVENT) {
        rc = err_set(ld->e, ERR_INVALID, "%s:%d:%d: yaml aliases (*%.60s) are not supported", ld->path, line, col,
                     (const char *)ev->data.alias.anchor);
        goto out;
    }
    if (ev->type != YAML_SCALAR_EVENT && ev->type != YAML_SEQUENCE_START_EVENT &&
        ev->type != YAML_MAPPING_START_EVENT) {
        rc = err_set(ld->e, ERR_INVALID, "%s:%d:%d: unexpected yaml event %d", ld->path, line, col, (int)ev->type);
        goto out;
    }

    n = xcalloc(1, sizeof(*n));
    n->pub.line = line;
    n->pub.col = col;
    if (ev->type == YAML_SCALAR_EVENT) {
        char *text = xmalloc(ev->data.scalar.length + 1);
        memcpy(text, ev->data.scalar.value, ev->data.scalar.length);
        text[ev->data.scalar.length] = '\0';
        n->pub.kind = YDOC_SCALAR;
        n->pub.text = text;
        n->pub.len = ev->data.scalar.length;
        n->pub.plain = ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
        goto out;
    }

    yaml_event_type_t end = YAML_SEQUENCE_END_EVENT;
    n->pub.kind = YDOC_SEQ;
    if (ev->type == YAML_MAPPING_START_EVENT) {
        end = YAML_MAPPING_END_EVENT;
        n->pub.kind = YDOC_MAP;
    }
    for (;;) {
        yaml_event_t child;
        struct bnode *kid;
        rc = next_event(ld, &child);
        if (rc != 0)
            goto out;
        if (child.type == end) {
            yaml_event_delete(&child);
            break;
        }
        rc = load_node(ld, &child, depth + 1, &kid);
        if (rc != 0)
            goto out;
        node_push(n, kid);
    }

out:
    yaml_event_delete(ev);
    if (rc != 0) {
        node_free(n);
        return rc;
    }
    *out = n;
    return 0;
}

int ydoc_parse(const char *path, const char *text, size_t len, const struct ydoc_limits *lim, struct ydoc **out,
               struct err *e)
{
    struct loader ld = {
        .path = path, .buf = (const unsigned char *)(text != NULL ? text : ""), .len = len, .lim = lim, .e = e};
    struct bnode *root = NULL;
    yaml_event_t ev;
    int rc;

    *out = NULL;
    if (text == NULL)
        ld.len = 0;
    if (!yaml_parser_initialize(&ld.parser))
        return err_set(e, ERR_GENERIC, "%s: cannot initialise the yaml parser", path);
    yaml_parser_set_input_string(&ld.parser, ld.buf, ld.len);

    rc = next_event(&ld, &ev); /* stream start */
    if (rc != 0)
        goto out;
    yaml_event_delete(&ev);
    rc = next_event(&ld, &ev);
    if (rc != 0)
        goto out;
    if (ev.type == YAML_STREAM_END_EVENT) {
        yaml_event_delete(&ev);
        goto out;
    }
    yaml_event_delete(&ev); /* document start */
    rc = next_event(&ld, &ev);
    if (rc != 0)
        goto out;
    rc = load_node(&ld, &ev, 1, &root);
    if (rc != 0)
        goto out;
    rc = next_event(&ld, &ev); /* document end */
    if (rc != 0)
        goto out;
    yaml_event_delete(&ev);
    rc = next_event(&ld, &ev);
    if (rc != 0)
        goto out;
    if (ev.type != YAML_STREAM_END_EVENT)
        rc = err_set(e, ERR_INVALID, "%s:%d:%d: %s holds one yaml document, found another", path,
                     (int)ev.start_mark.line + 1, (int)ev.start_mark.column + 1, lim->holder);
    yaml_event_delete(&ev);

out:
    yaml_parser_delete(&ld.parser);
    if (rc != 0) {
        node_free(root);
        return rc;
    }
    *out = xcalloc(1, sizeof(**out));
    (*out)->root = root;
    return 0;
}

const struct ydoc_node *ydoc_root(const struct ydoc *doc)
{
    return doc != NULL && doc->root != NULL ? &doc->root->pub : NULL;
}

const struct ydoc_node *ydoc_get(const struct ydoc_node *map, const char *key)
{
    if (map == NULL || map->kind != YDOC_MAP)
        return NULL;
    for (size_t i = 0; i + 1 < map->nkids; i += 2)
        if (map->kids[i]->kind == YDOC_SCALAR && strcmp(map->kids[i]->text, key) == 0)
            return map->kids[i + 1];
    return NULL;
}

const char *ydoc_kind_name(const struct ydoc_node *n)
{
    return n->kind == YDOC_MAP ? "a mapping" : n->kind == YDOC_SEQ ? "a list" : "a scalar";
}

void ydoc_free(struct ydoc *doc)
{
    if (doc == NULL)
        return;
    node_free(doc->root);
    free(doc);
}
