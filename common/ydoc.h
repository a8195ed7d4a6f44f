/*
 * common/ydoc.h - a YAML document as a small immutable tree: mappings, lists
 * and scalars, each with the 1-based line and column where it starts.
 *
 * ydoc_parse() reads one YAML document with libyaml's event API, bounded in
 * nesting depth and node count, and refuses aliases (an alias would let a tiny
 * file stand for a huge tree). Tags and anchors are ignored; a scalar keeps
 * its text and whether it was written plain (unquoted), so callers tell the
 * number 1 from the string "1". It does not interpret anything: callers
 * validate the tree themselves (rules/ruleset.c, storage/migrate.c). Problems
 * are reported as "PATH:LINE:COL: ..." in the caller's struct err.
 */
#ifndef COMMON_YDOC_H
#define COMMON_YDOC_H

#include <stddef.h>

#include "common/err.h"

enum ydoc_kind { YDOC_SCALAR, YDOC_SEQ, YDOC_MAP };

struct ydoc_node {
    enum ydoc_kind kind;
    int line, col;    /* 1-based, where the node starts */
    int plain;        /* a scalar written without quotes */
    const char *text; /* a scalar's value, NUL-terminated (it may hold other NULs: see len); NULL otherwise */
    size_t len;
    const struct ydoc_node *const *kids; /* list items, or mapping keys and values alternating */
    size_t nkids;
};

/* What a caller accepts. */
struct ydoc_limits {
    int max_depth;      /* nesting: the root is at depth 1 */
    size_t max_nodes;   /* nodes in the document, keys included */
    const char *holder; /* names the file in "... holds one yaml document": "a data file" */
};

struct ydoc; /* opaque: owns every node */

/*
 * Parse text[0..len) (not necessarily NUL-terminated; text may be NULL when
 * len is 0), naming it `path` in messages. Returns 0 and sets *out (free with
 * ydoc_free) or, with *out NULL: ERR_INVALID for bad YAML ("PATH:L:C: problem
 * (context at line L, column C)"), an alias, or a second document;
 * ERR_TOO_LARGE past a limit ("more than N yaml nodes", "yaml nested deeper
 * than N levels"); ERR_GENERIC when libyaml runs out of memory.
 */
int ydoc_parse(const char *path, const char *text, size_t len, const struct ydoc_limits *lim, struct ydoc **out,
               struct err *e);

/* The document's root node, or NULL for an empty stream (no document, or only comments). */
const struct ydoc_node *ydoc_root(const struct ydoc *doc);

/* The value of `key` in mapping `map` (the first, if repeated), or NULL (also when map is NULL or not a mapping). */
const struct ydoc_node *ydoc_get(const struct ydoc_node *map, const char *key);

/* "a mapping", "a list" or "a scalar": for messages. */
const char *ydoc_kind_name(const struct ydoc_node *n);

/* Release a document and every node of it; NULL is fine. */
void ydoc_free(struct ydoc *doc);

#endif
