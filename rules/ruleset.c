/*
 * rules/ruleset.c - loads the YAML files of rules/data/ into an immutable struct ruleset.
 *
 * It owns the reading of the data files (bounded to RULESET_MAX_FILE bytes),
 * their parsing (common/ydoc: a small tree that keeps the 1-based line and
 * column of every node), and the strict validation of that tree: every
 * key must be known, every value of the right type and range, every slug
 * unique in its domain and every reference resolved against a file loaded
 * before it (the load order below makes that possible), and each domain must
 * hold the number of entries the SRD has. All problems are collected and the
 * first few spelled out as "FILE:LINE:COL: ...". Everything the ruleset points
 * to lives in one arena freed by ruleset_free(). It must not know any rule: the
 * numbers come from the files, never from code.
 */
#include "rules/ruleset.h"

#include <errno.h>
#include <stdarg.h>
#include <stdalign.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/file.h"
#include "common/xmalloc.h"
#include "common/ydoc.h"

#define MAX_DEPTH 32     /* yaml nesting */
#define MAX_NODES 200000 /* yaml nodes per file */
#define MAX_REPORTED 6   /* problems spelled out in the error */
#define MAX_PATH 4096

/* ------------------------------------------------------------------------- */
/* The arena: every allocation of a ruleset, freed at once.                  */

struct arena {
    struct arena *next;
    alignas(max_align_t) unsigned char data[];
};

static void *arena_alloc(struct arena **a, size_t n)
{
    struct arena *b = xcalloc(1, sizeof(*b) + (n ? n : 1));
    b->next = *a;
    *a = b;
    return b->data;
}

static void arena_free(struct arena *a)
{
    while (a != NULL) {
        struct arena *next = a->next;
        free(a);
        a = next;
    }
}

/* ------------------------------------------------------------------------- */
/* Lookup by slug. Once a ruleset has loaded, one open-addressed hash table   */
/* answers for every table (the sheet resolves dozens of slugs per request);  */
/* while it loads, the loader's own reference checks scan the arrays.        */

#define SLUG_TABLES(X)                                                                                                 \
    X(abilities) X(skills) X(alignments) X(languages) X(races) X(subraces) X(ancestries) X(classes) X(backgrounds)    \
        X(proficiencies) X(features) X(equipment) X(equipment_categories) X(damage_types) X(weapon_properties)

enum slug_table {
#define SLUG_ENUM(t) SLUG_##t,
    SLUG_TABLES(SLUG_ENUM)
#undef SLUG_ENUM
};

struct slug_slot {
    const char *key; /* NULL: an empty slot */
    const void *item;
    enum slug_table table;
};

struct slug_index {
    size_t mask; /* slots - 1, slots a power of two at least twice the items */
    struct slug_slot slots[];
};

static size_t slug_hash(enum slug_table table, const char *s)
{
    uint64_t h = UINT64_C(1469598103934665603) ^ (uint64_t)table; /* FNV-1a */
    for (; *s != '\0'; s++) {
        h ^= (unsigned char)*s;
        h *= UINT64_C(1099511628211);
    }
    return (size_t)h;
}

static const void *slug_get(const struct slug_index *x, enum slug_table table, const char *key)
{
    for (size_t i = slug_hash(table, key) & x->mask;; i = (i + 1) & x->mask) {
        const struct slug_slot *s = &x->slots[i];
        if (s->key == NULL)
            return NULL;
        if (s->table == table && strcmp(s->key, key) == 0)
            return s->item;
    }
}

/* Adds key -> item unless the table has the key already (the first one wins, as in a scan). */
static void slug_put(struct slug_index *x, enum slug_table table, const char *key, const void *item)
{
    if (key == NULL)
        return;
    size_t i = slug_hash(table, key) & x->mask;
    for (; x->slots[i].key != NULL; i = (i + 1) & x->mask)
        if (x->slots[i].table == table && strcmp(x->slots[i].key, key) == 0)
            return;
    x->slots[i] = (struct slug_slot){.key = key, .item = item, .table = table};
}

/* The index of every table of a loaded ruleset, in its arena. */
static const struct slug_index *slug_index_build(const struct ruleset *rs, struct arena **arena)
{
    size_t items = 0, slots = 16;
#define SLUG_COUNT(t) items += rs->n##t;
    SLUG_TABLES(SLUG_COUNT)
#undef SLUG_COUNT
    while (slots < 2 * items)
        slots *= 2;
    struct slug_index *x = arena_alloc(arena, sizeof(*x) + slots * sizeof(x->slots[0]));
    x->mask = slots - 1;
#define SLUG_PUT(t)                                                                                                    \
    for (size_t i_ = 0; i_ < rs->n##t; i_++)                                                                           \
        slug_put(x, SLUG_##t, rs->t[i_].index, &rs->t[i_]);
    SLUG_TABLES(SLUG_PUT)
#undef SLUG_PUT
    return x;
}

/* ------------------------------------------------------------------------- */
/* Validation context: problems are collected, not returned one by one.      */

enum ref {
    REF_NONE,
    REF_ABILITY,
    REF_SKILL,
    REF_LANGUAGE,
    REF_CLASS,
    REF_RACE,
    REF_EQUIPMENT,
    REF_CATEGORY,
    REF_DAMAGE_TYPE,
    REF_WEAPON_PROPERTY,
    REF_PROFICIENCY,
    REF_PROF_ARMOR,  /* a proficiency of type Armor */
    REF_PROF_WEAPON, /* ... of type Weapons */
    REF_PROF_TOOL,   /* ... of a tool type */
    REF_TOOL_OPTION, /* a tool category (choose from its items) or a tool proficiency */
    REF_FEATURE,
};

/* Where features.yaml put each feature, for the checks made once classes.yaml is read. */
struct feature_pos {
    int line, col;
};

struct ctx {
    struct ruleset *rs;
    struct arena **arena;
    const char *path; /* the file being validated */
    int code;         /* the first problem's code */
    size_t nerrs;
    char msgs[MAX_REPORTED][320];
    char features_path[MAX_PATH];   /* features.yaml, once read */
    struct feature_pos *feature_at; /* by rs->features position; freed with the ctx */
};

static void vbad(struct ctx *c, const char *path, int line, int col, int code, const char *fmt, va_list ap)
{
    if (c->nerrs == 0)
        c->code = code;
    if (c->nerrs < MAX_REPORTED) {
        char m[256];
        vsnprintf(m, sizeof(m), fmt, ap);
        if (line > 0)
            snprintf(c->msgs[c->nerrs], sizeof(c->msgs[0]), "%s:%d:%d: %s", path, line, col, m);
        else
            snprintf(c->msgs[c->nerrs], sizeof(c->msgs[0]), "%s: %s", path, m);
    }
    c->nerrs++;
}

static void bad(struct ctx *c, const struct ydoc_node *n, int code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void bad(struct ctx *c, const struct ydoc_node *n, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vbad(c, c->path, n != NULL ? n->line : 0, n != NULL ? n->col : 0, code, fmt, ap);
    va_end(ap);
}

/* A problem at a position of another file than the one being read. */
static void bad_at(struct ctx *c, const char *path, int line, int col, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

static void bad_at(struct ctx *c, const char *path, int line, int col, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vbad(c, path, line, col, ERR_INVALID, fmt, ap);
    va_end(ap);
}

/*
 * Check that `n` is a mapping whose keys are distinct scalars among `keys`
 * (NULL-terminated) and that each of `required` (NULL-terminated, or NULL) is
 * present. Returns 1 when `n` is a mapping (even with bad keys), else 0.
 */
static int check_map(struct ctx *c, const struct ydoc_node *n, const char *what, const char *const *keys,
                     const char *const *required)
{
    if (n->kind != YDOC_MAP) {
        bad(c, n, ERR_INVALID, "%s must be a mapping, not %s", what, ydoc_kind_name(n));
        return 0;
    }
    for (size_t i = 0; i + 1 < n->nkids; i += 2) {
        const struct ydoc_node *k = n->kids[i];
        int known = 0;
        if (k->kind != YDOC_SCALAR) {
            bad(c, k, ERR_INVALID, "a key of %s must be a scalar", what);
            continue;
        }
        for (size_t j = 0; keys[j] != NULL; j++)
            if (strcmp(keys[j], k->text) == 0)
                known = 1;
        if (!known)
            bad(c, k, ERR_INVALID, "unknown key \"%.60s\" in %s", k->text, what);
        for (size_t j = 0; j < i; j += 2)
            if (n->kids[j]->kind == YDOC_SCALAR && strcmp(n->kids[j]->text, k->text) == 0)
                bad(c, k, ERR_INVALID, "duplicate key \"%.60s\" in %s", k->text, what);
    }
    for (size_t j = 0; required != NULL && required[j] != NULL; j++) {
        int found = 0;
        for (size_t i = 0; i + 1 < n->nkids; i += 2)
            if (n->kids[i]->kind == YDOC_SCALAR && strcmp(n->kids[i]->text, required[j]) == 0)
                found = 1;
        if (!found)
            bad(c, n, ERR_INVALID, "%s lacks \"%s\"", what, required[j]);
    }
    return 1;
}

/* The proficiency types that are tools (a `tools` list or a tool choice may name them). */
static const char *const tool_types[] = {"Artisan's Tools", "Musical Instruments", "Gaming Sets", "Other", NULL};

static int one_of(const char *s, const char *const *set)
{
    for (size_t i = 0; s != NULL && set[i] != NULL; i++)
        if (strcmp(s, set[i]) == 0)
            return 1;
    return 0;
}

static int prof_of_type(const struct ruleset *rs, const char *s, const char *type)
{
    const struct rs_proficiency *p = ruleset_proficiency(rs, s);
    return p != NULL && p->type != NULL && strcmp(p->type, type) == 0;
}

static int ref_exists(const struct ruleset *rs, enum ref ref, const char *s)
{
    const struct rs_equipment_category *cat;
    const struct rs_proficiency *p;
    switch (ref) {
    case REF_ABILITY: return ruleset_ability(rs, s) != NULL;
    case REF_SKILL: return ruleset_skill(rs, s) != NULL;
    case REF_LANGUAGE: return ruleset_language(rs, s) != NULL;
    case REF_CLASS: return ruleset_class(rs, s) != NULL;
    case REF_RACE: return ruleset_race(rs, s) != NULL;
    case REF_EQUIPMENT: return ruleset_equipment(rs, s) != NULL;
    case REF_CATEGORY: return ruleset_equipment_category(rs, s) != NULL;
    case REF_DAMAGE_TYPE: return ruleset_damage_type(rs, s) != NULL;
    case REF_WEAPON_PROPERTY: return ruleset_weapon_property(rs, s) != NULL;
    case REF_PROFICIENCY: return ruleset_proficiency(rs, s) != NULL;
    case REF_PROF_ARMOR: return prof_of_type(rs, s, "Armor");
    case REF_PROF_WEAPON: return prof_of_type(rs, s, "Weapons");
    case REF_PROF_TOOL: return (p = ruleset_proficiency(rs, s)) != NULL && one_of(p->type, tool_types);
    case REF_TOOL_OPTION:
        return ((cat = ruleset_equipment_category(rs, s)) != NULL && cat->tools) ||
               ((p = ruleset_proficiency(rs, s)) != NULL && one_of(p->type, tool_types));
    case REF_FEATURE: return ruleset_feature(rs, s) != NULL;
    default: return 1;
    }
}

static const char *ref_name(enum ref ref)
{
    switch (ref) {
    case REF_ABILITY: return "ability";
    case REF_SKILL: return "skill";
    case REF_LANGUAGE: return "language";
    case REF_CLASS: return "class";
    case REF_RACE: return "race";
    case REF_EQUIPMENT: return "equipment";
    case REF_CATEGORY: return "equipment category";
    case REF_DAMAGE_TYPE: return "damage type";
    case REF_WEAPON_PROPERTY: return "weapon property";
    case REF_PROFICIENCY: return "proficiency";
    case REF_PROF_ARMOR: return "armor proficiency";
    case REF_PROF_WEAPON: return "weapon proficiency";
    case REF_PROF_TOOL: return "tool proficiency";
    case REF_TOOL_OPTION: return "equipment category or tool proficiency";
    case REF_FEATURE: return "feature";
    default: return "thing";
    }
}

/* A slug: [a-z0-9] words joined by single '-'. */
static int is_slug(const char *s)
{
    if (!(*s >= 'a' && *s <= 'z') && !(*s >= '0' && *s <= '9'))
        return 0;
    for (const char *p = s; *p; p++) {
        int ok = (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || (*p == '-' && p[1] != '-' && p[1] != '\0');
        if (!ok)
            return 0;
    }
    return 1;
}

/* Scalar `n` as an arena string; NULL (and a problem) unless a non-empty scalar of at most RULESET_MAX_STR bytes. */
static const char *scalar_str(struct ctx *c, const struct ydoc_node *n, const char *what, int slug, enum ref ref)
{
    if (n->kind != YDOC_SCALAR) {
        bad(c, n, ERR_INVALID, "%s must be a string, not %s", what, ydoc_kind_name(n));
        return NULL;
    }
    if (n->len == 0 || n->len > RULESET_MAX_STR || strlen(n->text) != n->len) {
        bad(c, n, n->len > RULESET_MAX_STR ? ERR_TOO_LARGE : ERR_INVALID, "%s must be 1 to %d bytes without NUL", what,
            RULESET_MAX_STR);
        return NULL;
    }
    if (slug && !is_slug(n->text)) {
        bad(c, n, ERR_INVALID, "%s \"%.60s\" is not a slug (a-z, 0-9, '-')", what, n->text);
        return NULL;
    }
    if (ref != REF_NONE && !ref_exists(c->rs, ref, n->text)) {
        bad(c, n, ERR_INVALID, "%s \"%.60s\" is not a known %s", what, n->text, ref_name(ref));
        return NULL;
    }
    char *s = arena_alloc(c->arena, n->len + 1);
    memcpy(s, n->text, n->len + 1);
    return s;
}

/* String `key` of mapping `m` (required: checked by check_map), or NULL. */
static const char *str_at(struct ctx *c, const struct ydoc_node *m, const char *key, int slug, enum ref ref)
{
    const struct ydoc_node *v = ydoc_get(m, key);
    return v != NULL ? scalar_str(c, v, key, slug, ref) : NULL;
}

/* Integer `key` of mapping `m` in [min, max]; `def` when absent or bad. */
static int int_at(struct ctx *c, const struct ydoc_node *m, const char *key, int min, int max, int def)
{
    const struct ydoc_node *v = ydoc_get(m, key);
    char *end;
    long x;

    if (v == NULL)
        return def;
    if (v->kind != YDOC_SCALAR || !v->plain || v->len == 0 || v->len > 12) {
        bad(c, v, ERR_INVALID, "%s must be an integer", key);
        return def;
    }
    errno = 0;
    x = strtol(v->text, &end, 10);
    if (*end != '\0' || errno != 0) {
        bad(c, v, ERR_INVALID, "%s must be an integer, not \"%.30s\"", key, v->text);
        return def;
    }
    if (x < min || x > max) {
        bad(c, v, ERR_INVALID, "%s must be between %d and %d, not %ld", key, min, max, x);
        return def;
    }
    return (int)x;
}

/* Boolean `key` of mapping `m` (true/false); `def` when absent or bad. */
static int bool_at(struct ctx *c, const struct ydoc_node *m, const char *key, int def)
{
    const struct ydoc_node *v = ydoc_get(m, key);
    if (v == NULL)
        return def;
    if (v->kind == YDOC_SCALAR && v->plain && strcmp(v->text, "true") == 0)
        return 1;
    if (v->kind == YDOC_SCALAR && v->plain && strcmp(v->text, "false") == 0)
        return 0;
    bad(c, v, ERR_INVALID, "%s must be true or false", key);
    return def;
}

/* Decimal `key` of mapping `m` in [min, max] (at most 3 decimals, no exponent); `def` when absent or bad. */
static double decimal_at(struct ctx *c, const struct ydoc_node *m, const char *key, double min, double max, double def)
{
    const struct ydoc_node *v = ydoc_get(m, key);
    const char *dot;
    char *end;
    double x;

    if (v == NULL)
        return def;
    if (v->kind != YDOC_SCALAR || !v->plain || v->len == 0 || v->len > 12 || strspn(v->text, "0123456789.") != v->len ||
        v->text[0] == '.' ||
        ((dot = strchr(v->text, '.')) != NULL &&
         (strchr(dot + 1, '.') != NULL || strlen(dot + 1) > 3 || dot[1] == '\0'))) {
        bad(c, v, ERR_INVALID, "%s must be a decimal number like 2 or 0.25", key);
        return def;
    }
    errno = 0;
    x = strtod(v->text, &end);
    if (*end != '\0' || errno != 0 || x < min || x > max) {
        bad(c, v, ERR_INVALID, "%s must be between %g and %g, not \"%.30s\"", key, min, max, v->text);
        return def;
    }
    return x;
}

/* The string `key` of `m`, which must be one of `set` (NULL-terminated); NULL when absent or bad. */
static const char *enum_at(struct ctx *c, const struct ydoc_node *m, const char *key, const char *const *set)
{
    const char *s = str_at(c, m, key, 0, REF_NONE);
    if (s != NULL && !one_of(s, set)) {
        char allowed[200];
        size_t off = 0;
        allowed[0] = '\0';
        for (size_t i = 0; set[i] != NULL && off < sizeof(allowed); i++) {
            int k = snprintf(allowed + off, sizeof(allowed) - off, "%s%s", i ? ", " : "", set[i]);
            off += k > 0 ? (size_t)k : 0;
        }
        bad(c, ydoc_get(m, key), ERR_INVALID, "%s must be one of %s, not \"%.60s\"", key, allowed, s);
        return NULL;
    }
    return s;
}

/* List of slugs `key` of mapping `m`, each resolving under `ref`, without duplicates. */
static struct rs_strs strs_of(struct ctx *c, const struct ydoc_node *v, const char *key, enum ref ref)
{
    struct rs_strs out = {NULL, 0};
    const char **a;

    if (v == NULL)
        return out;
    if (v->kind != YDOC_SEQ) {
        bad(c, v, ERR_INVALID, "%s must be a list, not %s", key, ydoc_kind_name(v));
        return out;
    }
    a = arena_alloc(c->arena, (v->nkids + 1) * sizeof(*a));
    for (size_t i = 0; i < v->nkids; i++) {
        const char *s = scalar_str(c, v->kids[i], key, 1, ref);
        if (s == NULL)
            continue;
        for (size_t j = 0; j < out.n; j++)
            if (strcmp(a[j], s) == 0) {
                bad(c, v->kids[i], ERR_INVALID, "\"%s\" is listed twice in %s", s, key);
                break; /* once: a list of one slug repeated must not cost n^2 reports */
            }
        a[out.n++] = s;
    }
    out.v = a;
    return out;
}

static struct rs_strs strs_at(struct ctx *c, const struct ydoc_node *m, const char *key, enum ref ref)
{
    return strs_of(c, ydoc_get(m, key), key, ref);
}

/* `key: {count: N, from: any | [slugs]}` of mapping `m`; all zero when absent. */
static struct rs_choice choice_at(struct ctx *c, const struct ydoc_node *m, const char *key, enum ref ref,
                                  int allow_any)
{
    static const char *const keys[] = {"count", "from", NULL};
    struct rs_choice ch = {0, 0, {NULL, 0}};
    const struct ydoc_node *v = ydoc_get(m, key), *from;

    if (v == NULL || !check_map(c, v, key, keys, keys))
        return ch;
    ch.count = int_at(c, v, "count", 1, 20, 0);
    from = ydoc_get(v, "from");
    if (from == NULL)
        return ch;
    if (from->kind == YDOC_SCALAR && strcmp(from->text, "any") == 0 && allow_any) {
        ch.any = 1;
        return ch;
    }
    if (from->kind == YDOC_SCALAR && strcmp(from->text, "class") == 0 && allow_any == 2)
        return ch; /* multiclass: from the class's own list (from.n == 0) */
    ch.from = strs_of(c, from, "from", ref);
    if (ref != REF_NONE && ref != REF_TOOL_OPTION && ch.from.n > 0 && (size_t)ch.count > ch.from.n)
        bad(c, v, ERR_INVALID, "%s chooses %d from only %zu", key, ch.count, ch.from.n);
    return ch;
}

/* The sequence `key` of the file's top-level mapping, or NULL (with a problem) when missing or not a list. */
static const struct ydoc_node *top_list(struct ctx *c, const struct ydoc_node *root, const char *key)
{
    const struct ydoc_node *v = ydoc_get(root, key);
    if (v == NULL) {
        bad(c, root, ERR_INVALID, "missing \"%s\"", key);
        return NULL;
    }
    if (v->kind != YDOC_SEQ) {
        bad(c, v, ERR_INVALID, "%s must be a list, not %s", key, ydoc_kind_name(v));
        return NULL;
    }
    return v;
}

static void expect_count(struct ctx *c, const struct ydoc_node *list, const char *what, size_t want)
{
    if (list != NULL && list->nkids != want)
        bad(c, list, ERR_INVALID, "expected %zu %s, found %zu", want, what, list->nkids);
}

/*
 * The list of a file that holds just one top-level key, `key`: NULL (with a
 * problem) when the file has other keys or `key` is not a list. With want > 0
 * the list must hold exactly `want` entries (reported, not fatal).
 */
static const struct ydoc_node *file_list(struct ctx *c, const struct ydoc_node *root, const char *key, size_t want)
{
    const char *const top[] = {key, NULL};
    const struct ydoc_node *l;
    if (!check_map(c, root, "the file", top, top) || (l = top_list(c, root, key)) == NULL)
        return NULL;
    if (want > 0)
        expect_count(c, l, key, want);
    return l;
}

/* Report an index already used by an earlier entry (index at offset `off` of each of `n` structs of `size`). */
static void unique_index(struct ctx *c, const struct ydoc_node *entry, const void *arr, size_t n, size_t size,
                         const char *index)
{
    if (index == NULL)
        return;
    for (size_t i = 0; i < n; i++) {
        const char *other = *(const char *const *)((const char *)arr + i * size);
        if (other != NULL && strcmp(other, index) == 0)
            bad(c, ydoc_get(entry, "index"), ERR_INVALID, "duplicate index \"%s\"", index);
    }
}

/* ------------------------------------------------------------------------- */
/* The domains, in load order: each may refer to those before it.           */

static void load_abilities(struct ctx *c, const struct ydoc_node *root)
{
    static const char *const keys[] = {"index", "name", NULL};
    const struct ydoc_node *l;
    struct rs_ability *a;

    if ((l = file_list(c, root, "abilities", RULESET_ABILITIES)) == NULL)
        return;
    a = arena_alloc(c->arena, l->nkids * sizeof(*a));
    for (size_t i = 0; i < l->nkids; i++) {
        const struct ydoc_node *m = l->kids[i];
        if (!check_map(c, m, "an ability", keys, keys))
            continue;
        a[i].index = str_at(c, m, "index", 1, REF_NONE);
        a[i].name = str_at(c, m, "name", 0, REF_NONE);
        unique_index(c, m, a, i, sizeof(*a), a[i].index);
    }
    c->rs->abilities = a;
    c->rs->nabilities = l->nkids;
}

static void load_skills(struct ctx *c, const struct ydoc_node *root)
{
    static const char *const keys[] = {"index", "name", "ability", NULL};
    const struct ydoc_node *l;
    struct rs_skill *a;

    if ((l = file_list(c, root, "skills", 18)) == NULL)
        return;
    a = arena_alloc(c->arena, l->nkids * sizeof(*a));
    for (size_t i = 0; i < l->nkids; i++) {
        const struct ydoc_node *m = l->kids[i];
        if (!check_map(c, m, "a skill", keys, keys))
            continue;
        a[i].index = str_at(c, m, "index", 1, REF_NONE);
        a[i].name = str_at(c, m, "name", 0, REF_NONE);
        a[i].ability = str_at(c, m, "ability", 1, REF_ABILITY);
        unique_index(c, m, a, i, sizeof(*a), a[i].index);
    }
    c->rs->skills = a;
    c->rs->nskills = l->nkids;
}

static void load_alignments(struct ctx *c, const struct ydoc_node *root)
{
    static const char *const keys[] = {"index", "name", "abbreviation", NULL};
    const struct ydoc_node *l;
    struct rs_alignment *a;

    if ((l = file_list(c, root, "alignments", 9)) == NULL)
        return;
    a = arena_alloc(c->arena, l->nkids * sizeof(*a));
    for (size_t i = 0; i < l->nkids; i++) {
        const struct ydoc_node *m = l->kids[i];
        if (!check_map(c, m, "an alignment", keys, keys))
            continue;
        a[i].index = str_at(c, m, "index", 1, REF_NONE);
        a[i].name = str_at(c, m, "name", 0, REF_NONE);
        a[i].abbreviation = str_at(c, m, "abbreviation", 0, REF_NONE);
        unique_index(c, m, a, i, sizeof(*a), a[i].index);
    }
    c->rs->alignments = a;
    c->rs->nalignments = l->nkids;
}

static void load_languages(struct ctx *c, const struct ydoc_node *root)
{
    static const char *const keys[] = {"index", "name", "type", NULL};
    const struct ydoc_node *l;
    struct rs_language *a;

    if ((l = file_list(c, root, "languages", 16)) == NULL)
        return;
    a = arena_alloc(c->arena, l->nkids * sizeof(*a));
    for (size_t i = 0; i < l->nkids; i++) {
        const struct ydoc_node *m = l->kids[i];
        if (!check_map(c, m, "a language", keys, keys))
            continue;
        a[i].index = str_at(c, m, "index", 1, REF_NONE);
        a[i].name = str_at(c, m, "name", 0, REF_NONE);
        const char *type = str_at(c, m, "type", 1, REF_NONE);
        if (type != NULL && strcmp(type, "standard") != 0 && strcmp(type, "exotic") != 0)
            bad(c, ydoc_get(m, "type"), ERR_INVALID, "type must be standard or exotic, not \"%s\"", type);
        a[i].exotic = type != NULL && strcmp(type, "exotic") == 0;
        unique_index(c, m, a, i, sizeof(*a), a[i].index);
    }
    c->rs->languages = a;
    c->rs->nlanguages = l->nkids;
}

static void load_xp(struct ctx *c, const struct ydoc_node *root)
{
    static const char *const keys[] = {"level", "xp", "proficiency_bonus", NULL};
    const struct ydoc_node *l;

    if ((l = file_list(c, root, "levels", RULESET_LEVELS)) == NULL)
        return;
    for (size_t i = 0; i < l->nkids && i < RULESET_LEVELS; i++) {
        const struct ydoc_node *m = l->kids[i];
        struct rs_xp_level *x = &c->rs->xp[i];
        if (!check_map(c, m, "a level", keys, keys))
            continue;
        x->level = int_at(c, m, "level", 1, RULESET_LEVELS, 0);
        x->xp = int_at(c, m, "xp", 0, 100000000, 0);
        x->proficiency_bonus = int_at(c, m, "proficiency_bonus", 1, 10, 0);
        if (x->level != (int)i + 1)
            bad(c, m, ERR_INVALID, "level %d is out of order (expected %zu)", x->level, i + 1);
        if (i > 0 && x->xp <= c->rs->xp[i - 1].xp)
            bad(c, ydoc_get(m, "xp"), ERR_INVALID, "xp must grow with the level");
    }
}

/* The list `key` of mapping `m`: exactly `want` integers in [min, max] into out[]; the count read (0 on a problem). */
static size_t ints_at(struct ctx *c, const struct ydoc_node *m, const char *key, int min, int max, size_t want,
                      int *out)
{
    const struct ydoc_node *v = ydoc_get(m, key);
    size_t n = 0;

    if (v == NULL)
        return 0;
    if (v->kind != YDOC_SEQ) {
        bad(c, v, ERR_INVALID, "%s must be a list, not %s", key, ydoc_kind_name(v));
        return 0;
    }
    if (v->nkids != want) {
        bad(c, v, ERR_INVALID, "%s holds %zu numbers, not %zu", key, want, v->nkids);
        return 0;
    }
    for (size_t i = 0; i < v->nkids; i++) {
        const struct ydoc_node *item = v->kids[i];
        char *end;
        long x;
        if (item->kind != YDOC_SCALAR || !item->plain || item->len == 0 || item->len > 12) {
            bad(c, item, ERR_INVALID, "%s must hold integers", key);
            return 0;
        }
        errno = 0;
        x = strtol(item->text, &end, 10);
        if (*end != '\0' || errno != 0 || x < min || x > max) {
            bad(c, item, ERR_INVALID, "%s holds integers between %d and %d, not \"%.30s\"", key, min, max, item->text);
            return 0;
        }
        out[n++] = (int)x;
    }
    return n;
}

/*
 * ability-methods.yaml: the standard array, point buy, rolled dice, the manual
 * range and the score cap, each checked against the others (costs that never
 * fall, a budget that buys something, ranges inside the cap).
 */
static void load_ability_methods(struct ctx *c, const struct ydoc_node *root)
{
    static const char *const top[] = {"standard_array", "point_buy", "rolled", "manual", "score_max", NULL};
    static const char *const pkeys[] = {"min", "max", "budget", "costs", NULL};
    static const char *const rkeys[] = {"dice", "sides", "keep", NULL};
    static const char *const mkeys[] = {"min", "max", NULL};
    struct rs_ability_methods *m = &c->rs->methods;
    const struct ydoc_node *v;

    if (!check_map(c, root, "the file", top, top))
        return;
    m->score_max = int_at(c, root, "score_max", 1, 30, 0);
    ints_at(c, root, "standard_array", 1, 30, RULESET_ABILITIES, m->standard_array);
    for (int i = 0; i < RULESET_ABILITIES && m->score_max > 0; i++)
        if (m->standard_array[i] > m->score_max) {
            bad(c, ydoc_get(root, "standard_array"), ERR_INVALID, "standard_array holds %d, over score_max %d",
                m->standard_array[i], m->score_max);
            break;
        }

    if ((v = ydoc_get(root, "point_buy")) != NULL && check_map(c, v, "point_buy", pkeys, pkeys)) {
        m->point_buy_min = int_at(c, v, "min", 1, 30, 0);
        m->point_buy_max = int_at(c, v, "max", 1, 30, 0);
        m->point_buy_budget = int_at(c, v, "budget", 0, 1000, 0);
        size_t span = (size_t)(m->point_buy_max - m->point_buy_min + 1);
        if (m->point_buy_min > 0 && m->point_buy_max > 0 &&
            (m->point_buy_max < m->point_buy_min || span > RULESET_POINT_BUY_MAX_SCORES)) {
            bad(c, v, ERR_INVALID, "point_buy spans %d..%d; at most %d scores, min not above max", m->point_buy_min,
                m->point_buy_max, RULESET_POINT_BUY_MAX_SCORES);
        } else if (m->point_buy_min > 0 && m->point_buy_max > 0) {
            if (m->score_max > 0 && m->point_buy_max > m->score_max)
                bad(c, ydoc_get(v, "max"), ERR_INVALID, "point_buy max %d is over score_max %d", m->point_buy_max,
                    m->score_max);
            if (ints_at(c, v, "costs", 0, 1000, span, m->point_buy_cost) == span) {
                if (m->point_buy_cost[0] != 0)
                    bad(c, ydoc_get(v, "costs"), ERR_INVALID, "costs start at 0 (a score left at min costs nothing)");
                for (size_t i = 1; i < span; i++)
                    if (m->point_buy_cost[i] < m->point_buy_cost[i - 1]) {
                        bad(c, ydoc_get(v, "costs")->kids[i], ERR_INVALID, "costs must not fall: %d after %d",
                            m->point_buy_cost[i], m->point_buy_cost[i - 1]);
                        break;
                    }
            }
        }
    }

    if ((v = ydoc_get(root, "rolled")) != NULL && check_map(c, v, "rolled", rkeys, rkeys)) {
        m->rolled_dice = int_at(c, v, "dice", 1, 10, 0);
        m->rolled_sides = int_at(c, v, "sides", 2, 100, 0);
        m->rolled_keep = int_at(c, v, "keep", 1, 10, 0);
        if (m->rolled_keep > m->rolled_dice && m->rolled_dice > 0)
            bad(c, ydoc_get(v, "keep"), ERR_INVALID, "rolled keeps %d of only %d dice", m->rolled_keep, m->rolled_dice);
    }

    if ((v = ydoc_get(root, "manual")) != NULL && check_map(c, v, "manual", mkeys, mkeys)) {
        m->manual_min = int_at(c, v, "min", 1, 30, 0);
        m->manual_max = int_at(c, v, "max", 1, 30, 0);
        if (m->manual_min > m->manual_max && m->manual_max > 0)
            bad(c, v, ERR_INVALID, "manual min %d is above max %d", m->manual_min, m->manual_max);
        else if (m->score_max > 0 && m->manual_max > m->score_max)
            bad(c, ydoc_get(v, "max"), ERR_INVALID, "manual max %d is over score_max %d", m->manual_max, m->score_max);
    }
}

/* A dice expression as the SRD writes damage: "1d8", "2d6", or a flat "1". */
static int is_dice(const char *s)
{
    size_t a = strspn(s, "0123456789");
    if (a == 0 || a > 2 || s[0] == '0')
        return 0;
    if (s[a] == '\0')
        return 1;
    if (s[a] != 'd')
        return 0;
    size_t b = strspn(s + a + 1, "0123456789");
    return b > 0 && b <= 3 && s[a + 1] != '0' && s[a + 1 + b] == '\0';
}

static const char *dice_at(struct ctx *c, const struct ydoc_node *m, const char *key)
{
    const char *s = str_at(c, m, key, 0, REF_NONE);
    if (s != NULL && !is_dice(s)) {
        bad(c, ydoc_get(m, key), ERR_INVALID, "%s \"%.30s\" is not dice like 1d8 or a number", key, s);
        return NULL;
    }
    return s;
}

/* A file's list of {index, name} entries into an array of `size`-byte structs that start with index and name. */
static void *named_list(struct ctx *c, const struct ydoc_node *root, const char *key, const char *what, size_t want,
                        size_t size, size_t *n)
{
    static const char *const keys[] = {"index", "name", NULL};
    const struct ydoc_node *l;
    char *a;

    *n = 0;
    if ((l = top_list(c, root, key)) == NULL)
        return NULL;
    expect_count(c, l, key, want);
    a = arena_alloc(c->arena, l->nkids * size);
    for (size_t i = 0; i < l->nkids; i++) {
        const struct ydoc_node *m = l->kids[i];
        const char **e = (const char **)(a + i * size);
        if (!check_map(c, m, what, keys, keys))
            continue;
        e[0] = str_at(c, m, "index", 1, REF_NONE);
        e[1] = str_at(c, m, "name", 0, REF_NONE);
        unique_index(c, m, a, i, size, e[0]);
    }
    *n = l->nkids;
    return a;
}

static const struct rs_armor *armor_at(struct ctx *c, const struct ydoc_node *m, const char *equip_type)
{
    static const char *const keys[] = {
        "category", "base", "dex_bonus", "max_bonus", "str_minimum", "stealth_disadvantage", NULL};
    static const char *const req[] = {"category", "base", "dex_bonus", "str_minimum", "stealth_disadvantage", NULL};
    static const char *const cats[] = {"light", "medium", "heavy", "shield", NULL};
    const struct ydoc_node *v = ydoc_get(m, "armor");
    struct rs_armor *a;

    if (v == NULL || !check_map(c, v, "armor", keys, req))
        return NULL;
    a = arena_alloc(c->arena, sizeof(*a));
    a->category = enum_at(c, v, "category", cats);
    a->base = int_at(c, v, "base", 1, 30, 0);
    a->dex_bonus = bool_at(c, v, "dex_bonus", 0);
    a->max_bonus = int_at(c, v, "max_bonus", 1, 10, 0);
    a->str_minimum = int_at(c, v, "str_minimum", 0, 30, 0);
    a->stealth_disadvantage = bool_at(c, v, "stealth_disadvantage", 0);
    if (a->max_bonus > 0 && !a->dex_bonus)
        bad(c, ydoc_get(v, "max_bonus"), ERR_INVALID, "max_bonus needs dex_bonus: true");
    /* equip_type and the armor category say the same thing: light <-> light-armor, shield <-> shield */
    if (a->category != NULL && equip_type != NULL && strncmp(equip_type, a->category, strlen(a->category)) != 0)
        bad(c, ydoc_get(v, "category"), ERR_INVALID, "armor category %s does not match equip_type %s", a->category,
            equip_type);
    return a;
}

static const struct rs_weapon *weapon_at(struct ctx *c, const struct ydoc_node *m, const char *equip_type)
{
    static const char *const keys[] = {"category",          "range",      "damage", "damage_type",
                                       "two_handed_damage", "normal",     "long",   "throw_normal",
                                       "throw_long",        "properties", NULL};
    static const char *const req[] = {"category", "range", "normal", "properties", NULL};
    static const char *const cats[] = {"simple", "martial", NULL};
    static const char *const ranges[] = {"melee", "ranged", NULL};
    const struct ydoc_node *v = ydoc_get(m, "weapon");
    struct rs_weapon *w;

    if (v == NULL || !check_map(c, v, "weapon", keys, req))
        return NULL;
    w = arena_alloc(c->arena, sizeof(*w));
    const char *cat = enum_at(c, v, "category", cats), *range = enum_at(c, v, "range", ranges);
    w->martial = cat != NULL && strcmp(cat, "martial") == 0;
    w->ranged = range != NULL && strcmp(range, "ranged") == 0;
    w->damage = dice_at(c, v, "damage");
    w->damage_type = str_at(c, v, "damage_type", 1, REF_DAMAGE_TYPE);
    if ((ydoc_get(v, "damage") == NULL) != (ydoc_get(v, "damage_type") == NULL))
        bad(c, v, ERR_INVALID, "a weapon has both damage and damage_type, or neither");
    w->two_handed_damage = dice_at(c, v, "two_handed_damage");
    w->normal = int_at(c, v, "normal", 5, 1000, 0);
    w->long_range = int_at(c, v, "long", 5, 2000, 0);
    w->throw_normal = int_at(c, v, "throw_normal", 5, 1000, 0);
    w->throw_long = int_at(c, v, "throw_long", 5, 2000, 0);
    if (w->long_range != 0 && w->long_range < w->normal)
        bad(c, ydoc_get(v, "long"), ERR_INVALID, "long range %d is shorter than the normal range %d", w->long_range,
            w->normal);
    if ((w->throw_normal == 0) != (w->throw_long == 0) || w->throw_long < w->throw_normal)
        bad(c, v, ERR_INVALID, "throw_normal and throw_long go together, long not shorter");
    w->properties = strs_at(c, v, "properties", REF_WEAPON_PROPERTY);
    int versatile = 0, thrown = 0;
    for (size_t i = 0; i < w->properties.n; i++) {
        versatile |= strcmp(w->properties.v[i], "versatile") == 0;
        thrown |= strcmp(w->properties.v[i], "thrown") == 0;
    }
    if (versatile != (ydoc_get(v, "two_handed_damage") != NULL))
        bad(c, v, ERR_INVALID, "a versatile weapon, and only one, has two_handed_damage");
    if (thrown != (w->throw_normal != 0))
        bad(c, v, ERR_INVALID, "a thrown weapon, and only one, has throw_normal and throw_long");
    if (cat != NULL && range != NULL && equip_type != NULL) {
        char want[32];
        snprintf(want, sizeof(want), "%s-%s", cat, range);
        if (strcmp(want, equip_type) != 0)
            bad(c, ydoc_get(v, "category"), ERR_INVALID, "a %s %s weapon has equip_type %s, not %s", cat, range, want,
                equip_type);
    }
    return w;
}

static int strs_has(struct rs_strs list, const char *s);

static void load_equipment(struct ctx *c, const struct ydoc_node *root)
{
    static const char *const top[] = {"damage_types", "weapon_properties", "categories", "equipment", NULL};
    static const char *const keys[] = {"index",    "name",     "categories", "equip_type", "cost", "weight",
                                       "quantity", "contents", "armor",      "weapon",     NULL};
    static const char *const req[] = {"index", "name", "categories", "equip_type", "cost", NULL};
    static const char *const ckeys[] = {"quantity", "unit", NULL};
    static const char *const pkeys[] = {"item", "quantity", NULL};
    static const char *const units[] = {"cp", "sp", "ep", "gp", "pp", NULL};
    static const char *const types[] = {
        "currency",      "light-armor",   "medium-armor",   "heavy-armor", "shield", "simple-melee",
        "simple-ranged", "martial-melee", "martial-ranged", "ammunition",  "arcane", "holy",
        "druidic",       "container",     "tools",          "other",       NULL};
    const struct ydoc_node *l;
    struct rs_equipment *a;

    if (!check_map(c, root, "the file", top, top))
        return;
    c->rs->damage_types =
        named_list(c, root, "damage_types", "a damage type", 13, sizeof(struct rs_damage_type), &c->rs->ndamage_types);
    c->rs->weapon_properties = named_list(c, root, "weapon_properties", "a weapon property", 11,
                                          sizeof(struct rs_weapon_property), &c->rs->nweapon_properties);
    c->rs->equipment_categories = named_list(c, root, "categories", "an equipment category", 27,
                                             sizeof(struct rs_equipment_category), &c->rs->nequipment_categories);
    if ((l = top_list(c, root, "equipment")) == NULL)
        return;
    expect_count(c, l, "equipment", 197);
    a = arena_alloc(c->arena, l->nkids * sizeof(*a));
    for (size_t i = 0; i < l->nkids; i++) {
        const struct ydoc_node *m = l->kids[i], *v;
        if (!check_map(c, m, "an item of equipment", keys, req))
            continue;
        a[i].index = str_at(c, m, "index", 1, REF_NONE);
        a[i].name = str_at(c, m, "name", 0, REF_NONE);
        unique_index(c, m, a, i, sizeof(*a), a[i].index);
        a[i].categories = strs_at(c, m, "categories", REF_CATEGORY);
        if ((v = ydoc_get(m, "categories")) != NULL && v->kind == YDOC_SEQ && v->nkids == 0)
            bad(c, v, ERR_INVALID, "an item belongs to at least one category");
        a[i].equip_type = enum_at(c, m, "equip_type", types);
        if ((v = ydoc_get(m, "cost")) != NULL && check_map(c, v, "cost", ckeys, ckeys)) {
            a[i].cost = int_at(c, v, "quantity", 0, 1000000, 0);
            a[i].cost_unit = enum_at(c, v, "unit", units);
        }
        a[i].has_weight = ydoc_get(m, "weight") != NULL;
        a[i].weight = decimal_at(c, m, "weight", 0, 10000, 0);
        a[i].quantity = int_at(c, m, "quantity", 1, 1000, 1);
        a[i].armor = armor_at(c, m, a[i].equip_type);
        a[i].weapon = weapon_at(c, m, a[i].equip_type);
        int armor_type = a[i].equip_type != NULL &&
                         (strstr(a[i].equip_type, "-armor") != NULL || strcmp(a[i].equip_type, "shield") == 0);
        int weapon_type = a[i].equip_type != NULL &&
                          (strstr(a[i].equip_type, "-melee") != NULL || strstr(a[i].equip_type, "-ranged") != NULL);
        if (a[i].equip_type != NULL && armor_type != (ydoc_get(m, "armor") != NULL))
            bad(c, m, ERR_INVALID, "armor and shields, and nothing else, have `armor`");
        if (a[i].equip_type != NULL && weapon_type != (ydoc_get(m, "weapon") != NULL))
            bad(c, m, ERR_INVALID, "weapons, and nothing else, have `weapon`");
    }
    c->rs->equipment = a;
    c->rs->nequipment = l->nkids;
    /* contents refer to items anywhere in the list: read them once every item is known */
    for (size_t i = 0; i < l->nkids; i++) {
        const struct ydoc_node *v = ydoc_get(l->kids[i], "contents");
        struct rs_pack_item *p;
        if (v == NULL)
            continue;
        if (v->kind != YDOC_SEQ || v->nkids == 0) {
            bad(c, v, ERR_INVALID, "contents must be a non-empty list");
            continue;
        }
        p = arena_alloc(c->arena, v->nkids * sizeof(*p));
        for (size_t k = 0; k < v->nkids; k++) {
            if (!check_map(c, v->kids[k], "a content", pkeys, pkeys))
                continue;
            p[k].item = str_at(c, v->kids[k], "item", 1, REF_EQUIPMENT);
            p[k].quantity = int_at(c, v->kids[k], "quantity", 1, 1000, 0);
            if (p[k].item != NULL && a[i].index != NULL && strcmp(p[k].item, a[i].index) == 0)
                bad(c, v->kids[k], ERR_INVALID, "\"%s\" contains itself", p[k].item);
        }
        a[i].contents = p;
        a[i].ncontents = v->nkids;
    }
    /* a category nothing belongs to is a typo somewhere; one whose every item is a tool is a tool category */
    for (size_t k = 0; k < c->rs->nequipment_categories; k++) {
        struct rs_equipment_category *ec = (struct rs_equipment_category *)&c->rs->equipment_categories[k];
        size_t members = 0, tools = 0;
        for (size_t i = 0; ec->index != NULL && i < l->nkids; i++)
            if (strs_has(a[i].categories, ec->index)) { /* not a lookup by index: cubic */
                members++;
                tools += a[i].equip_type != NULL && strcmp(a[i].equip_type, "tools") == 0;
            }
        if (ec->index != NULL && members == 0)
            bad(c, ydoc_get(root, "categories")->kids[k], ERR_INVALID, "no equipment is in category \"%s\"", ec->index);
        ec->tools = members > 0 && tools == members;
    }
}

static void load_proficiencies(struct ctx *c, const struct ydoc_node *root)
{
    static const char *const keys[] = {"index", "name", "type", "category", "item", "skill", "ability", NULL};
    static const char *const req[] = {"index", "name", "type", NULL};
    static const char *const types[] = {"Armor", "Weapons",  "Artisan's Tools", "Musical Instruments", "Gaming Sets",
                                        "Other", "Vehicles", "Skills",          "Saving Throws",       NULL};
    const struct ydoc_node *l;
    struct rs_proficiency *a;

    if ((l = file_list(c, root, "proficiencies", 117)) == NULL)
        return;
    a = arena_alloc(c->arena, l->nkids * sizeof(*a));
    for (size_t i = 0; i < l->nkids; i++) {
        const struct ydoc_node *m = l->kids[i];
        if (!check_map(c, m, "a proficiency", keys, req))
            continue;
        a[i].index = str_at(c, m, "index", 1, REF_NONE);
        a[i].name = str_at(c, m, "name", 0, REF_NONE);
        unique_index(c, m, a, i, sizeof(*a), a[i].index);
        a[i].type = enum_at(c, m, "type", types);
        a[i].category = str_at(c, m, "category", 1, REF_CATEGORY);
        a[i].item = str_at(c, m, "item", 1, REF_EQUIPMENT);
        a[i].skill = str_at(c, m, "skill", 1, REF_SKILL);
        a[i].ability = str_at(c, m, "ability", 1, REF_ABILITY);
        int covers = (ydoc_get(m, "category") != NULL) + (ydoc_get(m, "item") != NULL) +
                     (ydoc_get(m, "skill") != NULL) + (ydoc_get(m, "ability") != NULL);
        if (covers > 1)
            bad(c, m, ERR_INVALID, "a proficiency covers one category, item, skill or ability, not %d", covers);
        if (a[i].type != NULL && (strcmp(a[i].type, "Skills") == 0) != (ydoc_get(m, "skill") != NULL))
            bad(c, m, ERR_INVALID, "a skill proficiency, and only one, names a skill");
        if (a[i].type != NULL && (strcmp(a[i].type, "Saving Throws") == 0) != (ydoc_get(m, "ability") != NULL))
            bad(c, m, ERR_INVALID, "a saving throw proficiency, and only one, names an ability");
    }
    c->rs->proficiencies = a;
    c->rs->nproficiencies = l->nkids;
}

/* Features name their class; the class is checked, with the level rows, once classes.yaml is read. */
static void load_features(struct ctx *c, const struct ydoc_node *root)
{
    static const char *const keys[] = {"index", "name", "class", "subclass", "level", NULL};
    static const char *const req[] = {"index", "name", "class", "level", NULL};
    const struct ydoc_node *l;
    struct rs_feature *a;

    if ((l = file_list(c, root, "features", 322)) == NULL)
        return;
    snprintf(c->features_path, sizeof(c->features_path), "%s", c->path);
    a = arena_alloc(c->arena, l->nkids * sizeof(*a));
    c->feature_at = xcalloc(l->nkids ? l->nkids : 1, sizeof(*c->feature_at));
    for (size_t i = 0; i < l->nkids; i++) {
        const struct ydoc_node *m = l->kids[i];
        c->feature_at[i].line = m->line;
        c->feature_at[i].col = m->col;
        if (!check_map(c, m, "a feature", keys, req))
            continue;
        a[i].index = str_at(c, m, "index", 1, REF_NONE);
        a[i].name = str_at(c, m, "name", 0, REF_NONE);
        unique_index(c, m, a, i, sizeof(*a), a[i].index);
        a[i].class_index = str_at(c, m, "class", 1, REF_NONE);
        a[i].subclass_index = str_at(c, m, "subclass", 1, REF_NONE);
        a[i].level = int_at(c, m, "level", 1, RULESET_LEVELS, 0);
    }
    c->rs->features = a;
    c->rs->nfeatures = l->nkids;
}

/* 1 when `list` holds `s`. */
static int strs_has(struct rs_strs list, const char *s)
{
    for (size_t i = 0; s != NULL && i < list.n; i++)
        if (strcmp(list.v[i], s) == 0)
            return 1;
    return 0;
}

/* After classes.yaml: each feature's class exists and lists it at its level, in the right list. */
static void check_features_listed(struct ctx *c)
{
    for (size_t i = 0; i < c->rs->nfeatures && c->feature_at != NULL; i++) {
        const struct rs_feature *f = &c->rs->features[i];
        const struct rs_class *cls = ruleset_class(c->rs, f->class_index);
        const struct rs_class_level *lv;
        int line = c->feature_at[i].line, col = c->feature_at[i].col;
        if (f->index == NULL || f->class_index == NULL)
            continue;
        if (cls == NULL) {
            bad_at(c, c->features_path, line, col, "class \"%s\" of feature \"%s\" is not a known class",
                   f->class_index, f->index);
            continue;
        }
        if (f->subclass_index != NULL &&
            (cls->subclass_index == NULL || strcmp(f->subclass_index, cls->subclass_index)))
            bad_at(c, c->features_path, line, col, "subclass \"%s\" of feature \"%s\" is not the %s subclass",
                   f->subclass_index, f->index, f->class_index);
        lv = ruleset_class_level(cls, f->level);
        if (lv != NULL && !strs_has(f->subclass_index != NULL ? lv->subclass_features : lv->features, f->index))
            bad_at(c, c->features_path, line, col, "feature \"%s\" is not listed at %s level %d in classes.yaml",
                   f->index, f->class_index, f->level);
    }
}

/* Ability bonuses `{ability: bonus, ...}` into b[] by ability position. */
static void bonuses_at(struct ctx *c, const struct ydoc_node *m, const char *key, int *b)
{
    const struct ydoc_node *v = ydoc_get(m, key);
    if (v == NULL)
        return;
    if (v->kind != YDOC_MAP) {
        bad(c, v, ERR_INVALID, "%s must be a mapping, not %s", key, ydoc_kind_name(v));
        return;
    }
    for (size_t i = 0; i + 1 < v->nkids; i += 2) {
        const struct ydoc_node *k = v->kids[i];
        const char *ab = scalar_str(c, k, "an ability bonus", 1, REF_ABILITY);
        int pos = ab != NULL ? ruleset_ability_pos(c->rs, ab) : -1;
        if (pos < 0)
            continue;
        if (b[pos] != 0)
            bad(c, k, ERR_INVALID, "duplicate bonus for \"%s\"", ab);
        b[pos] = int_at(c, v, ab, -5, 5, 0);
    }
}

static void effects_at(struct ctx *c, const struct ydoc_node *m, struct rs_effects *fx)
{
    static const char *const keys[] = {"darkvision",          "hp_per_level",
                                       "skill_proficiencies", "weapon_proficiencies",
                                       "armor_proficiencies", "tool_proficiencies",
                                       "tool_choices",        "resistances",
                                       "skill_choices",       "language_choices",
                                       "cantrip_choices",     "heavy_armor_no_speed_penalty",
                                       "ancestry_choice",     NULL};
    static const char *const ckeys[] = {"count", "class", "ability", NULL};
    const struct ydoc_node *v = ydoc_get(m, "effects"), *cc;

    if (v == NULL || !check_map(c, v, "effects", keys, NULL))
        return;
    fx->darkvision = int_at(c, v, "darkvision", 0, 1000, 0);
    fx->hp_per_level = int_at(c, v, "hp_per_level", 0, 10, 0);
    fx->skill_proficiencies = strs_at(c, v, "skill_proficiencies", REF_SKILL);
    fx->weapon_proficiencies = strs_at(c, v, "weapon_proficiencies", REF_PROF_WEAPON);
    fx->armor_proficiencies = strs_at(c, v, "armor_proficiencies", REF_PROF_ARMOR);
    fx->tool_proficiencies = strs_at(c, v, "tool_proficiencies", REF_PROF_TOOL);
    fx->tool_choices = choice_at(c, v, "tool_choices", REF_TOOL_OPTION, 0);
    fx->resistances = strs_at(c, v, "resistances", REF_NONE);
    for (size_t i = 0; i < fx->resistances.n; i++)
        if (strcmp(fx->resistances.v[i], "ancestry") != 0 && ruleset_damage_type(c->rs, fx->resistances.v[i]) == NULL)
            bad(c, ydoc_get(v, "resistances"), ERR_INVALID, "resistance \"%s\" is not a known damage type",
                fx->resistances.v[i]);
    fx->skill_choices = int_at(c, v, "skill_choices", 0, 18, 0);
    fx->language_choices = int_at(c, v, "language_choices", 0, 16, 0);
    fx->heavy_armor_no_speed_penalty = bool_at(c, v, "heavy_armor_no_speed_penalty", 0);
    fx->ancestry_choice = bool_at(c, v, "ancestry_choice", 0);
    cc = ydoc_get(v, "cantrip_choices");
    if (cc != NULL && check_map(c, cc, "cantrip_choices", ckeys, ckeys)) {
        const char **cls = arena_alloc(c->arena, sizeof(*cls));
        fx->cantrip_choices.count = int_at(c, cc, "count", 1, 10, 0);
        cls[0] = str_at(c, cc, "class", 1, REF_CLASS);
        fx->cantrip_choices.from.v = cls;
        fx->cantrip_choices.from.n = cls[0] != NULL;
        fx->cantrip_ability = str_at(c, cc, "ability", 1, REF_ABILITY);
    }
}

static void traits_at(struct ctx *c, const struct ydoc_node *m, const struct rs_trait **out, size_t *n)
{
    static const char *const keys[] = {"index", "name", "effects", NULL};
    static const char *const req[] = {"index", "name", NULL};
    const struct ydoc_node *l = ydoc_get(m, "traits");
    struct rs_trait *t;

    *out = NULL;
    *n = 0;
    if (l == NULL)
        return;
    if (l->kind != YDOC_SEQ) {
        bad(c, l, ERR_INVALID, "traits must be a list, not %s", ydoc_kind_name(l));
        return;
    }
    t = arena_alloc(c->arena, l->nkids * sizeof(*t));
    for (size_t i = 0; i < l->nkids; i++) {
        const struct ydoc_node *tm = l->kids[i];
        if (!check_map(c, tm, "a trait", keys, req))
            continue;
        t[i].index = str_at(c, tm, "index", 1, REF_NONE);
        t[i].name = str_at(c, tm, "name", 0, REF_NONE);
        unique_index(c, tm, t, i, sizeof(*t), t[i].index);
        effects_at(c, tm, &t[i].effects);
    }
    *out = t;
    *n = l->nkids;
}

static void load_races(struct ctx *c, const struct ydoc_node *root)
{
    static const char *const top[] = {"races", "subraces", "draconic_ancestries", NULL};
    static const char *const rkeys[] = {
        "index",  "name", "size", "speed", "ability_bonuses", "ability_bonus_choices", "languages", "language_choices",
        "traits", NULL};
    static const char *const rreq[] = {"index",           "name",      "size",   "speed",
                                       "ability_bonuses", "languages", "traits", NULL};
    static const char *const bkeys[] = {"count", "bonus", "exclude", NULL};
    static const char *const skeys[] = {"index", "name", "race", "ability_bonuses", "traits", NULL};
    static const char *const akeys[] = {"index", "name", "damage_type", "shape", "length", "width", "save", NULL};
    const struct ydoc_node *l;

    if (!check_map(c, root, "the file", top, top))
        return;
    if ((l = top_list(c, root, "races")) != NULL) {
        struct rs_race *a = arena_alloc(c->arena, l->nkids * sizeof(*a));
        expect_count(c, l, "races", 9);
        for (size_t i = 0; i < l->nkids; i++) {
            const struct ydoc_node *m = l->kids[i], *bc;
            if (!check_map(c, m, "a race", rkeys, rreq))
                continue;
            a[i].index = str_at(c, m, "index", 1, REF_NONE);
            a[i].name = str_at(c, m, "name", 0, REF_NONE);
            unique_index(c, m, a, i, sizeof(*a), a[i].index);
            const char *size = str_at(c, m, "size", 1, REF_NONE);
            if (size != NULL && strcmp(size, "small") != 0 && strcmp(size, "medium") != 0)
                bad(c, ydoc_get(m, "size"), ERR_INVALID, "size must be small or medium, not \"%s\"", size);
            a[i].small = size != NULL && strcmp(size, "small") == 0;
            a[i].speed = int_at(c, m, "speed", 5, 120, 0);
            bonuses_at(c, m, "ability_bonuses", a[i].ability_bonuses);
            if ((bc = ydoc_get(m, "ability_bonus_choices")) != NULL &&
                check_map(c, bc, "ability_bonus_choices", bkeys, bkeys)) {
                a[i].bonus_choices.count = int_at(c, bc, "count", 1, RULESET_ABILITIES, 0);
                a[i].bonus_choice_amount = int_at(c, bc, "bonus", 1, 2, 0);
                a[i].bonus_choices.from = strs_at(c, bc, "exclude", REF_ABILITY);
            }
            a[i].languages = strs_at(c, m, "languages", REF_LANGUAGE);
            a[i].language_choices = int_at(c, m, "language_choices", 0, 16, 0);
            traits_at(c, m, &a[i].traits, &a[i].ntraits);
        }
        c->rs->races = a;
        c->rs->nraces = l->nkids;
    }
    if ((l = top_list(c, root, "subraces")) != NULL) {
        struct rs_subrace *a = arena_alloc(c->arena, l->nkids * sizeof(*a));
        expect_count(c, l, "subraces", 4);
        for (size_t i = 0; i < l->nkids; i++) {
            const struct ydoc_node *m = l->kids[i];
            if (!check_map(c, m, "a subrace", skeys, skeys))
                continue;
            a[i].index = str_at(c, m, "index", 1, REF_NONE);
            a[i].name = str_at(c, m, "name", 0, REF_NONE);
            a[i].race = str_at(c, m, "race", 1, REF_RACE);
            unique_index(c, m, a, i, sizeof(*a), a[i].index);
            if (a[i].index != NULL && ruleset_race(c->rs, a[i].index) != NULL)
                bad(c, ydoc_get(m, "index"), ERR_INVALID, "subrace \"%s\" has the index of a race", a[i].index);
            bonuses_at(c, m, "ability_bonuses", a[i].ability_bonuses);
            traits_at(c, m, &a[i].traits, &a[i].ntraits);
        }
        c->rs->subraces = a;
        c->rs->nsubraces = l->nkids;
    }
    if ((l = top_list(c, root, "draconic_ancestries")) != NULL) {
        struct rs_ancestry *a = arena_alloc(c->arena, l->nkids * sizeof(*a));
        expect_count(c, l, "draconic ancestries", 10);
        for (size_t i = 0; i < l->nkids; i++) {
            const struct ydoc_node *m = l->kids[i];
            if (!check_map(c, m, "a draconic ancestry", akeys, akeys))
                continue;
            a[i].index = str_at(c, m, "index", 1, REF_NONE);
            a[i].name = str_at(c, m, "name", 0, REF_NONE);
            a[i].damage_type = str_at(c, m, "damage_type", 1, REF_DAMAGE_TYPE);
            unique_index(c, m, a, i, sizeof(*a), a[i].index);
            const char *shape = str_at(c, m, "shape", 1, REF_NONE);
            if (shape != NULL && strcmp(shape, "line") != 0 && strcmp(shape, "cone") != 0)
                bad(c, ydoc_get(m, "shape"), ERR_INVALID, "shape must be line or cone, not \"%s\"", shape);
            a[i].cone = shape != NULL && strcmp(shape, "cone") == 0;
            a[i].length = int_at(c, m, "length", 5, 300, 0);
            a[i].width = int_at(c, m, "width", 0, 300, 0);
            a[i].save = str_at(c, m, "save", 1, REF_ABILITY);
        }
        c->rs->ancestries = a;
        c->rs->nancestries = l->nkids;
    }
}

/* The features of one level row: each must be a feature of `cls` at this level, of its subclass when `sub`. */
static struct rs_strs level_features(struct ctx *c, const struct ydoc_node *lm, const char *key,
                                     const struct rs_class *cls, int level, int sub)
{
    struct rs_strs out = strs_at(c, lm, key, REF_FEATURE);
    const struct ydoc_node *v = ydoc_get(lm, key);
    for (size_t i = 0; i < out.n && v != NULL; i++) {
        const struct rs_feature *f = ruleset_feature(c->rs, out.v[i]);
        const struct ydoc_node *at = i < v->nkids ? v->kids[i] : v;
        if (f == NULL || cls->index == NULL)
            continue;
        if (f->class_index == NULL || strcmp(f->class_index, cls->index) != 0)
            bad(c, at, ERR_INVALID, "feature \"%s\" belongs to class %s, not %s", f->index,
                f->class_index ? f->class_index : "?", cls->index);
        else if (f->level != level)
            bad(c, at, ERR_INVALID, "feature \"%s\" is gained at level %d, not %d", f->index, f->level, level);
        else if (sub && (f->subclass_index == NULL || cls->subclass_index == NULL ||
                         strcmp(f->subclass_index, cls->subclass_index) != 0))
            bad(c, at, ERR_INVALID, "feature \"%s\" is not a feature of subclass %s", f->index,
                cls->subclass_index ? cls->subclass_index : "?");
        else if (!sub && f->subclass_index != NULL)
            bad(c, at, ERR_INVALID, "feature \"%s\" is a subclass feature: list it in subclass_features", f->index);
    }
    return out;
}

static void class_levels(struct ctx *c, const struct ydoc_node *m, struct rs_class *cls)
{
    static const char *const keys[] = {"level", "proficiency_bonus", "asi", "features", "subclass_features", NULL};
    static const char *const req[] = {"level", "proficiency_bonus", "asi", NULL};
    const struct ydoc_node *l = ydoc_get(m, "levels");

    if (l == NULL)
        return;
    if (l->kind != YDOC_SEQ) {
        bad(c, l, ERR_INVALID, "levels must be a list, not %s", ydoc_kind_name(l));
        return;
    }
    expect_count(c, l, "levels", RULESET_LEVELS);
    for (size_t i = 0; i < l->nkids && i < RULESET_LEVELS; i++) {
        const struct ydoc_node *lm = l->kids[i];
        struct rs_class_level *lv = &cls->levels[i];
        if (!check_map(c, lm, "a level", keys, req))
            continue;
        lv->level = int_at(c, lm, "level", 1, RULESET_LEVELS, 0);
        lv->proficiency_bonus = int_at(c, lm, "proficiency_bonus", 1, 10, 0);
        lv->asi = bool_at(c, lm, "asi", 0);
        lv->features = level_features(c, lm, "features", cls, (int)i + 1, 0);
        lv->subclass_features = level_features(c, lm, "subclass_features", cls, (int)i + 1, 1);
        if (lv->subclass_features.n > 0 && cls->subclass_level > (int)i + 1)
            bad(c, ydoc_get(lm, "subclass_features"), ERR_INVALID, "subclass features before the subclass level %d",
                cls->subclass_level);
        if (lv->level != (int)i + 1)
            bad(c, lm, ERR_INVALID, "level %d is out of order (expected %zu)", lv->level, i + 1);
        else if (c->rs->xp[i].level == lv->level && c->rs->xp[i].proficiency_bonus != lv->proficiency_bonus)
            bad(c, ydoc_get(lm, "proficiency_bonus"), ERR_INVALID,
                "proficiency bonus %d at level %d differs from xp.yaml's %d", lv->proficiency_bonus, lv->level,
                c->rs->xp[i].proficiency_bonus);
    }
}

static void load_classes(struct ctx *c, const struct ydoc_node *root)
{
    static const char *const keys[] = {"index",    "name",         "hit_die", "saving_throws",     "skill_choices",
                                       "armor",    "weapons",      "tools",   "tool_choices",      "multiclass",
                                       "subclass", "spellcasting", "levels",  "unarmored_defense", NULL};
    static const char *const req[] = {"index",    "name",   "hit_die", "saving_throws", "skill_choices", "multiclass",
                                      "subclass", "levels", NULL};
    static const char *const mkeys[] = {"prerequisites", "proficiencies", "skill_choices", "tool_choices", NULL};
    static const char *const mreq[] = {"prerequisites", NULL};
    static const char *const pkeys[] = {"all_of", "any_of", NULL};
    static const char *const qkeys[] = {"ability", "minimum", NULL};
    static const char *const subkeys[] = {"index", "name", "level", "effects", NULL};
    static const char *const subreq[] = {"index", "name", "level", NULL};
    static const char *const fxkeys[] = {"hp_per_level", "unarmored_ac_base", "proficiencies", "languages", NULL};
    static const char *const spkeys[] = {"level", "ability", NULL};
    const struct ydoc_node *l;
    struct rs_class *a;

    if ((l = file_list(c, root, "classes", 12)) == NULL)
        return;
    a = arena_alloc(c->arena, l->nkids * sizeof(*a));
    for (size_t i = 0; i < l->nkids; i++) {
        const struct ydoc_node *m = l->kids[i], *mc, *v;
        if (!check_map(c, m, "a class", keys, req))
            continue;
        a[i].index = str_at(c, m, "index", 1, REF_NONE);
        a[i].name = str_at(c, m, "name", 0, REF_NONE);
        unique_index(c, m, a, i, sizeof(*a), a[i].index);
        a[i].hit_die = int_at(c, m, "hit_die", 4, 20, 0);
        if ((v = ydoc_get(m, "hit_die")) != NULL && a[i].hit_die % 2 != 0)
            bad(c, v, ERR_INVALID, "hit_die must be an even number of sides");
        a[i].saving_throws = strs_at(c, m, "saving_throws", REF_ABILITY);
        if ((v = ydoc_get(m, "saving_throws")) != NULL && a[i].saving_throws.n != 2)
            bad(c, v, ERR_INVALID, "a class has 2 saving throws, not %zu", a[i].saving_throws.n);
        a[i].skill_choices = choice_at(c, m, "skill_choices", REF_SKILL, 1);
        a[i].armor = strs_at(c, m, "armor", REF_PROF_ARMOR);
        a[i].weapons = strs_at(c, m, "weapons", REF_PROF_WEAPON);
        a[i].tools = strs_at(c, m, "tools", REF_PROF_TOOL);
        a[i].tool_choices = choice_at(c, m, "tool_choices", REF_TOOL_OPTION, 0);
        a[i].unarmored_defense = str_at(c, m, "unarmored_defense", 1, REF_ABILITY);
        if ((mc = ydoc_get(m, "multiclass")) != NULL && check_map(c, mc, "multiclass", mkeys, mreq)) {
            const struct ydoc_node *p = ydoc_get(mc, "prerequisites"), *pl = NULL;
            if (p != NULL && check_map(c, p, "prerequisites", pkeys, NULL)) {
                pl = ydoc_get(p, "all_of");
                if (ydoc_get(p, "any_of") != NULL) {
                    if (pl != NULL)
                        bad(c, p, ERR_INVALID, "prerequisites has all_of or any_of, not both");
                    pl = ydoc_get(p, "any_of");
                    a[i].multiclass.any_of = 1;
                }
                if (pl == NULL)
                    bad(c, p, ERR_INVALID, "prerequisites needs all_of or any_of");
                else if (pl->kind != YDOC_SEQ || pl->nkids == 0)
                    bad(c, pl, ERR_INVALID, "prerequisites must be a non-empty list");
                else {
                    struct rs_prereq *q = arena_alloc(c->arena, pl->nkids * sizeof(*q));
                    for (size_t j = 0; j < pl->nkids; j++) {
                        if (!check_map(c, pl->kids[j], "a prerequisite", qkeys, qkeys))
                            continue;
                        q[j].ability = str_at(c, pl->kids[j], "ability", 1, REF_ABILITY);
                        q[j].minimum = int_at(c, pl->kids[j], "minimum", 1, 30, 0);
                    }
                    a[i].multiclass.prereqs = q;
                    a[i].multiclass.nprereqs = pl->nkids;
                }
            }
            a[i].multiclass.proficiencies = strs_at(c, mc, "proficiencies", REF_PROFICIENCY);
            a[i].multiclass.skill_choices = choice_at(c, mc, "skill_choices", REF_SKILL, 2);
            a[i].multiclass.tool_choices = choice_at(c, mc, "tool_choices", REF_TOOL_OPTION, 0);
        }
        if ((v = ydoc_get(m, "subclass")) != NULL && check_map(c, v, "subclass", subkeys, subreq)) {
            const struct ydoc_node *fx = ydoc_get(v, "effects");
            a[i].subclass_index = str_at(c, v, "index", 1, REF_NONE);
            a[i].subclass_name = str_at(c, v, "name", 0, REF_NONE);
            a[i].subclass_level = int_at(c, v, "level", 1, RULESET_LEVELS, 0);
            if (fx != NULL && check_map(c, fx, "effects", fxkeys, NULL)) {
                struct rs_subclass_effects *se = &a[i].subclass_effects;
                se->hp_per_level = int_at(c, fx, "hp_per_level", 0, 10, 0);
                se->unarmored_ac_base = int_at(c, fx, "unarmored_ac_base", 10, 20, 0);
                se->proficiencies = strs_at(c, fx, "proficiencies", REF_PROFICIENCY);
                se->languages = strs_at(c, fx, "languages", REF_LANGUAGE);
            }
        }
        if ((v = ydoc_get(m, "spellcasting")) != NULL && check_map(c, v, "spellcasting", spkeys, spkeys)) {
            a[i].spellcasting_level = int_at(c, v, "level", 1, RULESET_LEVELS, 0);
            a[i].spellcasting_ability = str_at(c, v, "ability", 1, REF_ABILITY);
        }
        class_levels(c, m, &a[i]);
    }
    c->rs->classes = a;
    c->rs->nclasses = l->nkids;
    check_features_listed(c);
}

static void load_backgrounds(struct ctx *c, const struct ydoc_node *root)
{
    static const char *const keys[] = {
        "index",           "name", "skill_proficiencies", "language_choices", "equipment", "starting_gold", "feature",
        "characteristics", NULL};
    static const char *const req[] = {"index", "name", "skill_proficiencies", "feature", NULL};
    static const char *const fkeys[] = {"index", "name", NULL};
    static const char *const chkeys[] = {"personality_traits", "personality_picks", "ideals", "bonds", "flaws", NULL};
    const struct ydoc_node *l, *v;
    struct rs_background *a;

    if ((l = file_list(c, root, "backgrounds", 0)) == NULL)
        return;
    if (l->nkids == 0)
        bad(c, l, ERR_INVALID, "expected at least 1 background, found 0");
    a = arena_alloc(c->arena, l->nkids * sizeof(*a));
    for (size_t i = 0; i < l->nkids; i++) {
        const struct ydoc_node *m = l->kids[i];
        if (!check_map(c, m, "a background", keys, req))
            continue;
        a[i].index = str_at(c, m, "index", 1, REF_NONE);
        a[i].name = str_at(c, m, "name", 0, REF_NONE);
        unique_index(c, m, a, i, sizeof(*a), a[i].index);
        a[i].skill_proficiencies = strs_at(c, m, "skill_proficiencies", REF_SKILL);
        a[i].language_choices = int_at(c, m, "language_choices", 0, 16, 0);
        a[i].equipment = strs_at(c, m, "equipment", REF_NONE);
        a[i].starting_gold = int_at(c, m, "starting_gold", 0, 100000, 0);
        if ((v = ydoc_get(m, "feature")) != NULL && check_map(c, v, "feature", fkeys, fkeys)) {
            a[i].feature_index = str_at(c, v, "index", 1, REF_NONE);
            a[i].feature_name = str_at(c, v, "name", 0, REF_NONE);
        }
        if ((v = ydoc_get(m, "characteristics")) != NULL && check_map(c, v, "characteristics", chkeys, chkeys)) {
            a[i].personality_die = int_at(c, v, "personality_traits", 2, 100, 0);
            a[i].personality_picks = int_at(c, v, "personality_picks", 1, 10, 0);
            a[i].ideal_die = int_at(c, v, "ideals", 2, 100, 0);
            a[i].bond_die = int_at(c, v, "bonds", 2, 100, 0);
            a[i].flaw_die = int_at(c, v, "flaws", 2, 100, 0);
        }
    }
    c->rs->backgrounds = a;
    c->rs->nbackgrounds = l->nkids;
}

/* ------------------------------------------------------------------------- */
/* Loading.                                                                  */

static const struct {
    const char *file;
    void (*load)(struct ctx *, const struct ydoc_node *);
} files[] = {
    {"abilities.yaml", load_abilities}, {"ability-methods.yaml", load_ability_methods},
    {"skills.yaml", load_skills},       {"alignments.yaml", load_alignments},
    {"languages.yaml", load_languages}, {"xp.yaml", load_xp},
    {"equipment.yaml", load_equipment}, {"proficiencies.yaml", load_proficiencies},
    {"features.yaml", load_features},   {"classes.yaml", load_classes},
    {"races.yaml", load_races},         {"backgrounds.yaml", load_backgrounds},
};

static const struct ydoc_limits limits = {MAX_DEPTH, MAX_NODES, "a data file"};

/* ruleset_load(), with the file named `file` (when not NULL) taken from text[0..len). */
static int load_all(const char *dir, const char *file, const char *text, size_t len_text, struct ruleset **out,
                    struct err *e)
{
    struct arena *arena = NULL;
    struct ctx *c;
    struct ruleset *rs;
    int rc = 0;

    *out = NULL;
    if (file != NULL) {
        size_t i = 0;
        while (i < sizeof(files) / sizeof(files[0]) && strcmp(files[i].file, file) != 0)
            i++;
        if (i == sizeof(files) / sizeof(files[0]))
            return err_set(e, ERR_INVALID, "\"%s\" is not a data file", file);
        if (len_text > RULESET_MAX_FILE)
            return err_set(e, ERR_TOO_LARGE, "%s: %zu bytes is over the limit of %d bytes", file, len_text,
                           RULESET_MAX_FILE);
    }
    c = xcalloc(1, sizeof(*c));
    rs = arena_alloc(&arena, sizeof(*rs));
    c->rs = rs;
    c->arena = &arena;
    for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
        char path[MAX_PATH];
        char *buf = NULL;
        size_t len;
        struct ydoc *doc = NULL;

        if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, files[i].file) >= sizeof(path)) {
            rc = err_set(e, ERR_TOO_LARGE, "data folder path is too long");
            goto out;
        }
        if (file != NULL && strcmp(file, files[i].file) == 0)
            rc = ydoc_parse(path, text, len_text, &limits, &doc, e);
        else if ((rc = file_read_bounded(path, RULESET_MAX_FILE, "a data file", &buf, &len, e)) == 0)
            rc = ydoc_parse(path, buf, len, &limits, &doc, e);
        free(buf);
        if (rc != 0)
            goto out;
        c->path = path;
        if (ydoc_root(doc) == NULL)
            bad(c, NULL, ERR_INVALID, "the file is empty");
        else
            files[i].load(c, ydoc_root(doc));
        ydoc_free(doc);
        if (c->nerrs > 0 && (c->rs->nabilities != RULESET_ABILITIES || i < 1)) {
            /* without the abilities every later reference fails: stop here */
            break;
        }
    }
    if (c->nerrs > 0) {
        char msg[sizeof(e->msg)];
        size_t off = 0;
        for (size_t i = 0; i < c->nerrs && i < MAX_REPORTED; i++) {
            int n = snprintf(msg + off, sizeof(msg) - off, "%s%s", i ? "; " : "", c->msgs[i]);
            if (n < 0 || (size_t)n >= sizeof(msg) - off) {
                off = sizeof(msg) - 1;
                break;
            }
            off += (size_t)n;
        }
        if (c->nerrs > MAX_REPORTED && off < sizeof(msg) - 1)
            snprintf(msg + off, sizeof(msg) - off, " (%zu problems in all)", c->nerrs);
        rc = err_set(e, c->code, "%s", msg);
        goto out;
    }
    rs->slugs = slug_index_build(rs, &arena);
    rs->arena = arena;
    *out = rs;
    arena = NULL;
out:
    free(c->feature_at);
    free(c);
    arena_free(arena);
    return rc;
}

int ruleset_load(const char *dir, struct ruleset **out, struct err *e)
{
    return load_all(dir, NULL, NULL, 0, out, e);
}

int ruleset_load_override(const char *dir, const char *file, const char *text, size_t len, struct ruleset **out,
                          struct err *e)
{
    if (file == NULL || (text == NULL && len > 0)) {
        *out = NULL;
        return err_set(e, ERR_INVALID, "no data file or text given");
    }
    return load_all(dir, file, text != NULL ? text : "", len, out, e); /* libyaml wants an input */
}

void ruleset_free(struct ruleset *rs)
{
    if (rs != NULL)
        arena_free(rs->arena); /* rs itself lives in the arena */
}

/* ------------------------------------------------------------------------- */
/* Lookups: linear scans; the tables are small.                              */

#define FIND(arr, n, index)                                                                                            \
    do {                                                                                                               \
        if (rs == NULL || (index) == NULL)                                                                             \
            return NULL;                                                                                               \
        if (rs->slugs != NULL)                                                                                         \
            return slug_get(rs->slugs, SLUG_##arr, (index));                                                           \
        for (size_t i_ = 0; i_ < rs->n; i_++)                                                                          \
            if (rs->arr[i_].index != NULL && strcmp(rs->arr[i_].index, (index)) == 0)                                  \
                return &rs->arr[i_];                                                                                   \
        return NULL;                                                                                                   \
    } while (0)

const struct rs_ability *ruleset_ability(const struct ruleset *rs, const char *index)
{
    FIND(abilities, nabilities, index);
}
const struct rs_skill *ruleset_skill(const struct ruleset *rs, const char *index)
{
    FIND(skills, nskills, index);
}
const struct rs_alignment *ruleset_alignment(const struct ruleset *rs, const char *index)
{
    FIND(alignments, nalignments, index);
}
const struct rs_language *ruleset_language(const struct ruleset *rs, const char *index)
{
    FIND(languages, nlanguages, index);
}
const struct rs_race *ruleset_race(const struct ruleset *rs, const char *index)
{
    FIND(races, nraces, index);
}
const struct rs_subrace *ruleset_subrace(const struct ruleset *rs, const char *index)
{
    FIND(subraces, nsubraces, index);
}
const struct rs_ancestry *ruleset_ancestry(const struct ruleset *rs, const char *index)
{
    FIND(ancestries, nancestries, index);
}
const struct rs_class *ruleset_class(const struct ruleset *rs, const char *index)
{
    FIND(classes, nclasses, index);
}
const struct rs_background *ruleset_background(const struct ruleset *rs, const char *index)
{
    FIND(backgrounds, nbackgrounds, index);
}

int ruleset_ability_pos(const struct ruleset *rs, const char *index)
{
    const struct rs_ability *a = ruleset_ability(rs, index);
    return a != NULL ? (int)(a - rs->abilities) : -1;
}

const struct rs_class_level *ruleset_class_level(const struct rs_class *cls, int level)
{
    if (cls == NULL || level < 1 || level > RULESET_LEVELS)
        return NULL;
    return &cls->levels[level - 1];
}

const struct rs_proficiency *ruleset_proficiency(const struct ruleset *rs, const char *index)
{
    FIND(proficiencies, nproficiencies, index);
}
const struct rs_feature *ruleset_feature(const struct ruleset *rs, const char *index)
{
    FIND(features, nfeatures, index);
}
const struct rs_equipment *ruleset_equipment(const struct ruleset *rs, const char *index)
{
    FIND(equipment, nequipment, index);
}
const struct rs_equipment_category *ruleset_equipment_category(const struct ruleset *rs, const char *index)
{
    FIND(equipment_categories, nequipment_categories, index);
}
const struct rs_damage_type *ruleset_damage_type(const struct ruleset *rs, const char *index)
{
    FIND(damage_types, ndamage_types, index);
}
const struct rs_weapon_property *ruleset_weapon_property(const struct ruleset *rs, const char *index)
{
    FIND(weapon_properties, nweapon_properties, index);
}

int ruleset_item_in_category(const struct ruleset *rs, const char *item, const char *category)
{
    const struct rs_equipment *e = ruleset_equipment(rs, item);
    return e != NULL && category != NULL && strs_has(e->categories, category);
}
