/*
 * server/charjson.c - see charjson.h. The field tables below say which JSON
 * members each object of a build may hold; the readers fill `struct build`
 * and report shape problems, never rules problems.
 */
#include "server/charjson.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The ability keys, in the order of build.h's ability-indexed arrays (rs->abilities). */
static const char *const abilities[BUILD_ABILITIES] = {"str", "dex", "con", "int", "wis", "cha"};

#define INT_CLAMP 1000     /* integers are clamped into -1..1000 before the engine judges them */
#define KEY_SHOWN 48       /* bytes of an unknown key kept in a field path */
#define PATH_MAX_BYTES 128 /* struct violation's field */

/* Length of the longest prefix of s[0..len) that is whole UTF-8 characters, at most max bytes. */
static size_t utf8_cut(const char *s, size_t len, size_t max)
{
    if (len <= max)
        return len;
    size_t n = max;
    while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
        n--;
    return n;
}

/* Writes u's decimal digits so that they end at `end`; returns where they start. (No snprintf: see path_put, jb_int.) */
static char *digits_before(char *end, unsigned long long u)
{
    do {
        *--end = (char)('0' + u % 10);
        u /= 10;
    } while (u != 0);
    return end;
}

/*
 * Field paths are built for every member read, found wrong or not, so they are
 * put together with memcpy rather than snprintf. Each piece is cut to what fits
 * in PATH_MAX_BYTES with its terminator; *at is the length so far.
 */
static void path_put(char *out, size_t *at, const char *s, size_t n)
{
    if (n > PATH_MAX_BYTES - 1 - *at)
        n = utf8_cut(s, n, PATH_MAX_BYTES - 1 - *at);
    memcpy(out + *at, s, n);
    *at += n;
    out[*at] = '\0';
}

/* prefix + "." + key (or key alone at the top), the key cut to KEY_SHOWN bytes on a character boundary. */
static void path_key(char *out, const char *prefix, const char *key)
{
    size_t at = 0;
    out[0] = '\0';
    path_put(out, &at, prefix, strlen(prefix));
    if (prefix[0] != '\0')
        path_put(out, &at, ".", 1);
    path_put(out, &at, key, utf8_cut(key, strlen(key), KEY_SHOWN));
}

static void path_index(char *out, const char *prefix, size_t i)
{
    char t[24];
    t[sizeof(t) - 1] = ']';
    char *o = digits_before(t + sizeof(t) - 1, i);
    *--o = '[';
    size_t at = 0;
    out[0] = '\0';
    path_put(out, &at, prefix, strlen(prefix));
    path_put(out, &at, o, (size_t)(t + sizeof(t) - o));
}

static const char *json_type_name(const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT: return "an object";
    case JSON_ARRAY: return "an array";
    case JSON_STRING: return "a string";
    case JSON_INTEGER: return "an integer";
    case JSON_REAL: return "a number with a fraction or exponent";
    case JSON_TRUE:
    case JSON_FALSE: return "a boolean";
    default: return "null";
    }
}

static void wrong_type(struct violations *v, const char *path, const char *want, const json_t *got)
{
    violations_add(v, path, "wrong_type", "%s must be %s, not %s", path, want, json_type_name(got));
}

static void unknown_field(struct violations *v, const char *path)
{
    violations_add(v, path, "unknown_field", "unknown field \"%s\"", path);
}

/*
 * A string member: NULL for null/absent. Returns 0, or -1 after reporting
 * wrong_type or too_long (over `max` bytes).
 */
static int read_string(const json_t *val, const char *path, size_t max, const char **out, size_t *len,
                       struct violations *v)
{
    *out = NULL;
    if (len != NULL)
        *len = 0;
    if (val == NULL || json_is_null(val))
        return 0;
    if (!json_is_string(val)) {
        wrong_type(v, path, "a string", val);
        return -1;
    }
    size_t n = json_string_length(val);
    if (n > max) {
        violations_add(v, path, "too_long", "%s is %zu bytes long; at most %zu allowed", path, n, max);
        return -1;
    }
    const char *s = json_string_value(val);
    if (strlen(s) != n) { /* an embedded NUL */
        violations_add(v, path, "not_allowed", "%s must not contain NUL characters", path);
        return -1;
    }
    *out = s;
    if (len != NULL)
        *len = n;
    return 0;
}

/* An integer member clamped into -1..INT_CLAMP. Returns 0, 1 when absent, -1 after reporting. */
static int read_int(const json_t *val, const char *path, int *out, struct violations *v)
{
    if (val == NULL || json_is_null(val))
        return 1;
    if (json_is_real(val)) {
        violations_add(v, path, "out_of_range", "%s must be a whole number", path);
        return -1;
    }
    if (!json_is_integer(val)) {
        wrong_type(v, path, "an integer", val);
        return -1;
    }
    json_int_t i = json_integer_value(val);
    *out = i < -1 ? -1 : i > INT_CLAMP ? INT_CLAMP : (int)i;
    return 0;
}

/* A list of strings (slugs). Returns 0, or -1 after reporting every bad item. */
static int read_list(const json_t *val, const char *path, struct build_list *out, struct violations *v)
{
    memset(out, 0, sizeof(*out));
    if (val == NULL || json_is_null(val))
        return 0;
    if (!json_is_array(val)) {
        wrong_type(v, path, "an array of strings", val);
        return -1;
    }
    size_t n = json_array_size(val);
    if (n > BUILD_LIST_MAX) {
        violations_add(v, path, "too_many", "%s has %zu items; at most %d allowed", path, n, BUILD_LIST_MAX);
        return -1;
    }
    int bad = 0;
    for (size_t i = 0; i < n; i++) {
        char p[PATH_MAX_BYTES];
        path_index(p, path, i);
        const char *s;
        if (read_string(json_array_get(val, i), p, CHARJSON_SLUG_MAX, &s, NULL, v) != 0) {
            bad = 1;
        } else if (s == NULL) {
            violations_add(v, p, "wrong_type", "%s must be a string, not null", p);
            bad = 1;
        } else {
            out->v[out->n++] = s;
        }
    }
    out->present = 1;
    if (bad) {
        out->n = 0;
        return -1;
    }
    return 0;
}

/* {"str": 13, ...}: known ability keys to integers. Returns 0, or -1 after reporting. */
static int read_scores(const json_t *val, const char *path, struct build_scores *out, struct violations *v)
{
    memset(out, 0, sizeof(*out));
    if (val == NULL || json_is_null(val))
        return 0;
    if (!json_is_object(val)) {
        wrong_type(v, path, "an object of ability scores", val);
        return -1;
    }
    int bad = 0;
    const char *key;
    json_t *x;
    json_object_foreach((json_t *)val, key, x) {
        char p[PATH_MAX_BYTES];
        path_key(p, path, key);
        int k = 0;
        while (k < BUILD_ABILITIES && strcmp(abilities[k], key) != 0)
            k++;
        if (k == BUILD_ABILITIES) {
            unknown_field(v, p);
            bad = 1;
            continue;
        }
        int n = 0;
        int rc = read_int(x, p, &n, v);
        if (rc < 0) {
            bad = 1;
        } else if (rc == 0) {
            out->v[k] = n;
            out->present[k] = 1;
        }
    }
    return bad ? -1 : 0;
}

/* 1 when `key` is in the NULL-terminated `known`; else reports unknown_field and returns 0. */
static int known_key(const char *const *known, const char *prefix, const char *key, struct violations *v)
{
    for (size_t i = 0; known[i] != NULL; i++)
        if (strcmp(known[i], key) == 0)
            return 1;
    char p[PATH_MAX_BYTES];
    path_key(p, prefix, key);
    unknown_field(v, p);
    return 0;
}

/* Report members of `obj` not in `known`; returns how many. */
static int unknown_members(const json_t *obj, const char *const *known, const char *prefix, struct violations *v)
{
    int n = 0;
    const char *key;
    json_t *x;
    json_object_foreach((json_t *)obj, key, x) {
        if (!known_key(known, prefix, key, v))
            n++;
    }
    return n;
}

static void mark(struct build *b, enum build_field f)
{
    b->bad |= 1u << f;
}

/* A slug member of the top-level build. */
static void top_slug(const json_t *body, const char *key, const char **out, struct build *b, enum build_field f,
                     struct violations *v)
{
    if (read_string(json_object_get(body, key), key, CHARJSON_SLUG_MAX, out, NULL, v) != 0)
        mark(b, f);
}

static void read_background(const json_t *val, struct build *b, struct violations *v)
{
    static const char *const known[] = {"name", "skills", "languages", "tools", NULL};
    if (val == NULL || json_is_null(val))
        return;
    if (json_is_string(val)) {
        if (read_string(val, "background", CHARJSON_SLUG_MAX, &b->background, NULL, v) != 0)
            mark(b, BF_BACKGROUND);
        return;
    }
    if (!json_is_object(val)) {
        wrong_type(v, "background", "a background index or a custom background object", val);
        mark(b, BF_BACKGROUND);
        return;
    }
    b->custom_background = 1;
    int bad = unknown_members(val, known, "background", v) > 0;
    bad |= read_string(json_object_get(val, "name"), "background.name", CHARJSON_NAME_MAX_BYTES, &b->custom.name,
                       &b->custom.name_len, v) != 0;
    bad |= read_list(json_object_get(val, "skills"), "background.skills", &b->custom.skills, v) != 0;
    bad |= read_list(json_object_get(val, "languages"), "background.languages", &b->custom.languages, v) != 0;
    bad |= read_list(json_object_get(val, "tools"), "background.tools", &b->custom.tools, v) != 0;
    if (bad)
        mark(b, BF_BACKGROUND);
}

static void read_ability_scores(const json_t *val, struct build *b, struct violations *v)
{
    static const char *const known[] = {"method", "assign", "roll_id", NULL};
    if (val == NULL || json_is_null(val))
        return;
    if (!json_is_object(val)) {
        wrong_type(v, "ability_scores", "an object", val);
        mark(b, BF_ABILITY_SCORES);
        return;
    }
    if (unknown_members(val, known, "ability_scores", v) > 0)
        mark(b, BF_ABILITY_SCORES);
    const char *method;
    if (read_string(json_object_get(val, "method"), "ability_scores.method", CHARJSON_SLUG_MAX, &method, NULL, v) !=
        0) {
        b->ability_scores.method = BUILD_METHOD_INVALID;
        mark(b, BF_METHOD);
    } else if (method != NULL) {
        b->ability_scores.method = build_method_parse(method);
        if (b->ability_scores.method == BUILD_METHOD_INVALID) {
            violations_add(v, "ability_scores.method", "out_of_range",
                           "ability_scores.method must be standard_array, point_buy, rolled or manual");
            mark(b, BF_METHOD);
        }
    }
    if (read_scores(json_object_get(val, "assign"), "ability_scores.assign", &b->ability_scores.assign, v) != 0)
        mark(b, BF_ASSIGN);
    if (read_string(json_object_get(val, "roll_id"), "ability_scores.roll_id", CHARJSON_ROLL_ID_MAX,
                    &b->ability_scores.roll_id, NULL, v) != 0)
        mark(b, BF_ROLL_ID);
}

static void read_choices(const json_t *val, struct build *b, struct violations *v)
{
    static const char *const known[] = {"ability_bonuses",       "race_skills", "instruments",
                                        "draconic_ancestry",     "tool",        "cantrip",
                                        "artisan_or_instrument", NULL};
    if (val == NULL || json_is_null(val))
        return;
    if (!json_is_object(val)) {
        wrong_type(v, "choices", "an object", val);
        mark(b, BF_CHOICES);
        return;
    }
    int bad = unknown_members(val, known, "choices", v) > 0;
    bad |= read_list(json_object_get(val, "ability_bonuses"), "choices.ability_bonuses", &b->choices.ability_bonuses,
                     v) != 0;
    bad |= read_list(json_object_get(val, "race_skills"), "choices.race_skills", &b->choices.race_skills, v) != 0;
    bad |= read_list(json_object_get(val, "instruments"), "choices.instruments", &b->choices.instruments, v) != 0;
    bad |= read_string(json_object_get(val, "draconic_ancestry"), "choices.draconic_ancestry", CHARJSON_SLUG_MAX,
                       &b->choices.draconic_ancestry, NULL, v) != 0;
    bad |= read_string(json_object_get(val, "tool"), "choices.tool", CHARJSON_SLUG_MAX, &b->choices.tool, NULL, v) != 0;
    bad |= read_string(json_object_get(val, "cantrip"), "choices.cantrip", CHARJSON_SLUG_MAX, &b->choices.cantrip, NULL,
                       v) != 0;
    bad |= read_string(json_object_get(val, "artisan_or_instrument"), "choices.artisan_or_instrument",
                       CHARJSON_SLUG_MAX, &b->choices.artisan_or_instrument, NULL, v) != 0;
    if (bad)
        mark(b, BF_CHOICES);
}

/* The members of one object entry of an array, at path p, into the build; nonzero when one has a problem. */
typedef int (*entry_fn)(const json_t *x, const char *p, struct build *b, struct violations *v);

/*
 * An array member (path `top`) of at most `max` objects whose members are
 * `known`, each entry read by fn; a problem anywhere marks build field f.
 * `unit` names the entries in the too_many message.
 */
static void read_entries(const json_t *val, const char *top, const char *unit, int max, enum build_field f,
                         const char *const *known, entry_fn fn, struct build *b, struct violations *v)
{
    if (val == NULL || json_is_null(val))
        return;
    if (!json_is_array(val)) {
        wrong_type(v, top, "an array", val);
        mark(b, f);
        return;
    }
    size_t n = json_array_size(val);
    if (n > (size_t)max) {
        violations_add(v, top, "too_many", "%s has %zu %s; at most %d allowed", top, n, unit, max);
        mark(b, f);
        return;
    }
    int bad = 0;
    for (size_t i = 0; i < n; i++) {
        const json_t *x = json_array_get(val, i);
        char p[PATH_MAX_BYTES];
        path_index(p, top, i);
        if (!json_is_object(x)) {
            wrong_type(v, p, "an object", x);
            bad = 1;
            continue;
        }
        bad |= unknown_members(x, known, p, v) > 0;
        bad |= fn(x, p, b, v) != 0;
    }
    if (bad)
        mark(b, f);
}

/* One ability_score_improvements entry {"level", "increase"}. */
static int read_asi(const json_t *x, const char *p, struct build *b, struct violations *v)
{
    struct build_asi *a = &b->asis[b->nasis++];
    memset(a, 0, sizeof(*a));
    char q[PATH_MAX_BYTES];
    int bad = 0;
    path_key(q, p, "level");
    if (read_int(json_object_get(x, "level"), q, &a->level, v) < 0)
        bad = 1;
    path_key(q, p, "increase");
    bad |= read_scores(json_object_get(x, "increase"), q, &a->increase, v) != 0;
    return bad;
}

static void read_asis(const json_t *val, struct build *b, struct violations *v)
{
    static const char *const known[] = {"level", "increase", NULL};
    read_entries(val, "ability_score_improvements", "items", BUILD_LIST_MAX, BF_ASIS, known, read_asi, b, v);
}

/* "hit_points" of an advancement entry: an integer roll, or "average" (0). */
static int read_advance_hp(const json_t *val, const char *path, int *out, struct violations *v)
{
    *out = 0;
    if (val == NULL || json_is_null(val))
        return 0;
    if (json_is_string(val)) {
        if (strcmp(json_string_value(val), "average") == 0)
            return 0;
        violations_add(v, path, "out_of_range", "%s must be \"average\" or the rolled hit-die result", path);
        return -1;
    }
    int n = 0;
    if (read_int(val, path, &n, v) < 0)
        return -1;
    *out = n;
    return 0;
}

/* One advancement entry {"class", "subclass", "hit_points", "asi", "skills", "tools"}. */
static int read_advance(const json_t *x, const char *p, struct build *b, struct violations *v)
{
    struct build_advance *a = &b->advancement[b->nadvancement++];
    memset(a, 0, sizeof(*a));
    char q[PATH_MAX_BYTES];
    int bad = 0;
    path_key(q, p, "class");
    bad |= read_string(json_object_get(x, "class"), q, CHARJSON_SLUG_MAX, &a->class_, NULL, v) != 0;
    path_key(q, p, "subclass");
    bad |= read_string(json_object_get(x, "subclass"), q, CHARJSON_SLUG_MAX, &a->subclass, NULL, v) != 0;
    path_key(q, p, "hit_points");
    bad |= read_advance_hp(json_object_get(x, "hit_points"), q, &a->hit_points, v) != 0;
    path_key(q, p, "asi");
    bad |= read_scores(json_object_get(x, "asi"), q, &a->asi, v) != 0;
    path_key(q, p, "skills");
    bad |= read_list(json_object_get(x, "skills"), q, &a->skills, v) != 0;
    path_key(q, p, "tools");
    bad |= read_list(json_object_get(x, "tools"), q, &a->tools, v) != 0;
    return bad;
}

static void read_advancement(const json_t *val, struct build *b, struct violations *v)
{
    static const char *const known[] = {"class", "subclass", "hit_points", "asi", "skills", "tools", NULL};
    read_entries(val, "advancement", "levels", BUILD_ADVANCE_MAX, BF_ADVANCEMENT, known, read_advance, b, v);
}

void charjson_read_build(const json_t *body, struct build *b, struct violations *v)
{
    static const char *const known[] = {"name",
                                        "race",
                                        "subrace",
                                        "class",
                                        "subclass",
                                        "background",
                                        "alignment",
                                        "level",
                                        "ability_scores",
                                        "skills",
                                        "languages",
                                        "choices",
                                        "ability_score_improvements",
                                        "advancement",
                                        NULL};
    memset(b, 0, sizeof(*b));
    b->level = 1;
    if (!json_is_object(body)) {
        violations_add(v, "", "wrong_type", "the build must be a JSON object, not %s", json_type_name(body));
        b->bad = ~0u;
        return;
    }
    unknown_members(body, known, "", v);

    const json_t *name = json_object_get(body, "name");
    if (read_string(name, "name", CHARJSON_NAME_MAX_BYTES, &b->name, &b->name_len, v) != 0)
        mark(b, BF_NAME);
    top_slug(body, "race", &b->race, b, BF_RACE, v);
    top_slug(body, "subrace", &b->subrace, b, BF_SUBRACE, v);
    top_slug(body, "class", &b->class_, b, BF_CLASS, v);
    top_slug(body, "subclass", &b->subclass, b, BF_SUBCLASS, v);
    top_slug(body, "alignment", &b->alignment, b, BF_ALIGNMENT, v);
    read_background(json_object_get(body, "background"), b, v);
    int level = 1;
    int rc = read_int(json_object_get(body, "level"), "level", &level, v);
    if (rc < 0)
        mark(b, BF_LEVEL);
    else if (rc == 0)
        b->level = level;
    read_ability_scores(json_object_get(body, "ability_scores"), b, v);
    if (read_list(json_object_get(body, "skills"), "skills", &b->skills, v) != 0)
        mark(b, BF_SKILLS);
    if (read_list(json_object_get(body, "languages"), "languages", &b->languages, v) != 0)
        mark(b, BF_LANGUAGES);
    read_choices(json_object_get(body, "choices"), b, v);
    read_asis(json_object_get(body, "ability_score_improvements"), b, v);
    read_advancement(json_object_get(body, "advancement"), b, v);
}

/* ---- build -> JSON ---------------------------------------------------------------- */

static json_t *list_json(const struct build_list *l)
{
    json_t *a = json_array();
    for (size_t i = 0; i < l->n; i++)
        json_array_append_new(a, json_string(l->v[i]));
    return a;
}

static json_t *scores_json(const struct build_scores *s)
{
    json_t *o = json_object();
    for (int k = 0; k < BUILD_ABILITIES; k++)
        if (s->present[k])
            json_object_set_new(o, abilities[k], json_integer(s->v[k]));
    return o;
}

static void set_str(json_t *o, const char *key, const char *s)
{
    if (s != NULL)
        json_object_set_new(o, key, json_string(s));
}

static void set_list(json_t *o, const char *key, const struct build_list *l)
{
    if (l->present || l->n > 0)
        json_object_set_new(o, key, list_json(l));
}

json_t *charjson_write_build(const struct build *b)
{
    json_t *o = json_object();
    if (b->name != NULL)
        json_object_set_new(o, "name", json_stringn(b->name, b->name_len));
    set_str(o, "race", b->race);
    set_str(o, "subrace", b->subrace);
    set_str(o, "class", b->class_);
    set_str(o, "subclass", b->subclass);
    if (b->custom_background) {
        json_t *bg = json_object();
        if (b->custom.name != NULL)
            json_object_set_new(bg, "name", json_stringn(b->custom.name, b->custom.name_len));
        set_list(bg, "skills", &b->custom.skills);
        set_list(bg, "languages", &b->custom.languages);
        set_list(bg, "tools", &b->custom.tools);
        json_object_set_new(o, "background", bg);
    } else {
        set_str(o, "background", b->background);
    }
    set_str(o, "alignment", b->alignment);
    json_object_set_new(o, "level", json_integer(b->level));
    const char *method = build_method_name(b->ability_scores.method);
    int any_assign = 0;
    for (int k = 0; k < BUILD_ABILITIES; k++)
        any_assign |= b->ability_scores.assign.present[k];
    if (method != NULL || any_assign || b->ability_scores.roll_id != NULL) {
        json_t *as = json_object();
        set_str(as, "method", method);
        if (any_assign)
            json_object_set_new(as, "assign", scores_json(&b->ability_scores.assign));
        set_str(as, "roll_id", b->ability_scores.roll_id);
        json_object_set_new(o, "ability_scores", as);
    }
    set_list(o, "skills", &b->skills);
    set_list(o, "languages", &b->languages);
    json_t *ch = json_object();
    set_list(ch, "ability_bonuses", &b->choices.ability_bonuses);
    set_list(ch, "race_skills", &b->choices.race_skills);
    set_list(ch, "instruments", &b->choices.instruments);
    set_str(ch, "draconic_ancestry", b->choices.draconic_ancestry);
    set_str(ch, "tool", b->choices.tool);
    set_str(ch, "cantrip", b->choices.cantrip);
    set_str(ch, "artisan_or_instrument", b->choices.artisan_or_instrument);
    if (json_object_size(ch) > 0)
        json_object_set_new(o, "choices", ch);
    else
        json_decref(ch);
    if (b->nasis > 0) {
        json_t *a = json_array();
        for (size_t i = 0; i < b->nasis && i < BUILD_LIST_MAX; i++)
            json_array_append_new(
                a, json_pack("{s:i, s:o}", "level", b->asis[i].level, "increase", scores_json(&b->asis[i].increase)));
        json_object_set_new(o, "ability_score_improvements", a);
    }
    if (b->nadvancement > 0) {
        json_t *a = json_array();
        for (size_t i = 0; i < b->nadvancement && i < BUILD_ADVANCE_MAX; i++) {
            const struct build_advance *x = &b->advancement[i];
            json_t *e = json_object();
            set_str(e, "class", x->class_);
            set_str(e, "subclass", x->subclass);
            json_object_set_new(e, "hit_points",
                                x->hit_points > 0 ? json_integer(x->hit_points) : json_string("average"));
            int any = 0;
            for (int k = 0; k < BUILD_ABILITIES; k++)
                any |= x->asi.present[k];
            if (any)
                json_object_set_new(e, "asi", scores_json(&x->asi));
            set_list(e, "skills", &x->skills);
            set_list(e, "tools", &x->tools);
            json_array_append_new(a, e);
        }
        json_object_set_new(o, "advancement", a);
    }
    return o;
}

/* ---- sheet -> JSON ---------------------------------------------------------------- */

/*
 * The sheet is the bulk of every character response (about 5 KB), so it is
 * written as text directly instead of through jansson objects (which cost ten
 * times more to build and dump). Every string goes through jb_str, which
 * escapes what JSON requires; the texts are valid UTF-8 already (the ruleset's
 * and the parsed request's).
 */
struct jbuf {
    char *p;
    size_t len, cap;
};

static void jb_need(struct jbuf *j, size_t n)
{
    if (j->len + n + 1 <= j->cap)
        return;
    size_t cap = j->cap ? j->cap : 8192;
    while (cap < j->len + n + 1)
        cap *= 2;
    char *np = realloc(j->p, cap);
    if (np == NULL)
        abort();
    j->p = np;
    j->cap = cap;
}

static void jb_raw(struct jbuf *j, const char *s, size_t n)
{
    jb_need(j, n);
    memcpy(j->p + j->len, s, n);
    j->len += n;
    j->p[j->len] = '\0';
}

static void jb_lit(struct jbuf *j, const char *s)
{
    jb_raw(j, s, strlen(s));
}

/* s[0..n) escaped for inside a JSON string, without quotes. */
static void jb_esc(struct jbuf *j, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    jb_need(j, n * 6);
    char *o = j->p + j->len;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == '\\') {
            *o++ = '\\';
            *o++ = (char)c;
        } else if (c < 0x20) {
            memcpy(o, "\\u00", 4);
            o[4] = hex[c >> 4];
            o[5] = hex[c & 15];
            o += 6;
        } else {
            *o++ = (char)c;
        }
    }
    j->len = (size_t)(o - j->p);
    j->p[j->len] = '\0';
}

static void jb_strn(struct jbuf *j, const char *s, size_t n)
{
    jb_raw(j, "\"", 1);
    jb_esc(j, s, n);
    jb_raw(j, "\"", 1);
}

/* A string, or null for NULL. */
static void jb_str(struct jbuf *j, const char *s)
{
    if (s == NULL)
        jb_lit(j, "null");
    else
        jb_strn(j, s, strlen(s));
}

/* Decimal digits by hand: a sheet has about a hundred numbers, and snprintf was a tenth of a validate request's CPU. */
static void jb_int(struct jbuf *j, long long v)
{
    char t[24];
    char *o = digits_before(t + sizeof(t), v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v);
    if (v < 0)
        *--o = '-';
    jb_raw(j, o, (size_t)(t + sizeof(t) - o));
}

/* ,"key": (the comma unless first) */
static void jb_key(struct jbuf *j, const char *key, int first)
{
    if (!first)
        jb_raw(j, ",", 1);
    jb_strn(j, key, strlen(key));
    jb_raw(j, ":", 1);
}

/* {"index", "name", "url": "/api/2014/<resource>/<index>"} or null. */
static void jb_ref(struct jbuf *j, const char *resource, const char *index, const char *name)
{
    if (index == NULL) {
        jb_lit(j, "null");
        return;
    }
    jb_lit(j, "{\"index\":");
    jb_str(j, index);
    jb_lit(j, ",\"name\":");
    jb_str(j, name != NULL ? name : index);
    jb_lit(j, ",\"url\":\"/api/2014/");
    jb_lit(j, resource); /* a fixed resource name */
    jb_raw(j, "/", 1);
    jb_esc(j, index, strlen(index));
    jb_lit(j, "\"}");
}

static void jb_refs(struct jbuf *j, const struct sheet_refs *r, int features)
{
    jb_raw(j, "[", 1);
    int first = 1;
    for (size_t i = 0; i < r->n && i < SHEET_REFS_MAX; i++) {
        const struct sheet_ref *x = &r->v[i];
        if (x->index == NULL)
            continue;
        if (!first)
            jb_raw(j, ",", 1);
        first = 0;
        jb_ref(j, x->resource != NULL ? x->resource : "features", x->index, x->name);
        if (features) {
            j->len--; /* reopen the object */
            jb_lit(j, ",\"level\":");
            jb_int(j, x->level);
            jb_lit(j, ",\"class\":");
            jb_str(j, x->class_index);
            jb_raw(j, "}", 1);
        }
    }
    jb_raw(j, "]", 1);
}

static void sheet_members(const struct ruleset *rs, const struct build *b, const struct sheet *s, struct jbuf *j)
{
    jb_key(j, "name", 1);
    if (b->name != NULL)
        jb_strn(j, b->name, b->name_len);
    else
        jb_lit(j, "null");
    jb_key(j, "level", 0);
    jb_int(j, s->level > 0 ? s->level : b->level);
    jb_key(j, "experience_points", 0);
    jb_int(j, s->experience_points);
    jb_key(j, "race", 0);
    jb_ref(j, "races", s->race ? s->race->index : NULL, s->race ? s->race->name : NULL);
    jb_key(j, "subrace", 0);
    jb_ref(j, "subraces", s->subrace ? s->subrace->index : NULL, s->subrace ? s->subrace->name : NULL);
    const struct rs_class *cls = s->nclasses > 0 ? s->classes[0].cls : NULL;
    if (cls == NULL && rs != NULL)
        cls = ruleset_class(rs, b->class_);
    jb_key(j, "class", 0);
    jb_ref(j, "classes", cls ? cls->index : NULL, cls ? cls->name : NULL);
    jb_key(j, "background", 0);
    if (s->background != NULL) {
        jb_ref(j, "backgrounds", s->background->index, s->background->name);
    } else if (s->custom_background_name != NULL) {
        jb_lit(j, "{\"index\":null,\"name\":");
        jb_str(j, s->custom_background_name);
        jb_lit(j, ",\"url\":null}");
    } else {
        jb_lit(j, "null");
    }
    jb_key(j, "alignment", 0);
    jb_ref(j, "alignments", s->alignment ? s->alignment->index : NULL, s->alignment ? s->alignment->name : NULL);
    if (s->ancestry != NULL) {
        jb_key(j, "draconic_ancestry", 0);
        jb_lit(j, "{\"index\":");
        jb_str(j, s->ancestry->index);
        jb_lit(j, ",\"name\":");
        jb_str(j, s->ancestry->name);
        jb_lit(j, ",\"damage_type\":");
        jb_str(j, s->ancestry->damage_type);
        jb_raw(j, "}", 1);
    }
    jb_key(j, "ability_scores", 0);
    jb_raw(j, "{", 1);
    for (int k = 0; k < BUILD_ABILITIES; k++) {
        const struct sheet_ability *a = &s->abilities[k];
        jb_key(j, abilities[k], k == 0);
        jb_lit(j, "{\"base\":");
        jb_int(j, a->base);
        jb_lit(j, ",\"bonus\":");
        jb_int(j, a->bonus);
        jb_lit(j, ",\"score\":");
        jb_int(j, a->score);
        jb_lit(j, ",\"modifier\":");
        jb_int(j, a->modifier);
        jb_raw(j, "}", 1);
    }
    jb_raw(j, "}", 1);
    jb_key(j, "proficiency_bonus", 0);
    jb_int(j, s->proficiency_bonus);
    jb_key(j, "classes", 0);
    jb_raw(j, "[", 1);
    int first = 1;
    for (size_t i = 0; i < s->nclasses && i < BUILD_ADVANCE_MAX + 1; i++) {
        const struct sheet_class *c = &s->classes[i];
        if (c->cls == NULL)
            continue;
        jb_lit(j, first ? "{\"index\":" : ",{\"index\":");
        first = 0;
        jb_str(j, c->cls->index);
        jb_lit(j, ",\"name\":");
        jb_str(j, c->cls->name);
        jb_lit(j, ",\"level\":");
        jb_int(j, c->level);
        jb_lit(j, ",\"subclass\":");
        jb_str(j, c->subclass);
        jb_raw(j, "}", 1);
    }
    jb_raw(j, "]", 1);
    jb_key(j, "hit_points", 0);
    jb_lit(j, "{\"max\":");
    jb_int(j, s->hp_max);
    jb_lit(j, ",\"hit_dice\":");
    jb_strn(j, s->hit_dice, strnlen(s->hit_dice, sizeof(s->hit_dice)));
    jb_raw(j, "}", 1);
    jb_key(j, "armor_class", 0);
    jb_int(j, s->armor_class);
    jb_key(j, "initiative", 0);
    jb_int(j, s->initiative);
    jb_key(j, "speed", 0);
    jb_int(j, s->speed);
    jb_key(j, "darkvision", 0);
    jb_int(j, s->darkvision);
    jb_key(j, "size", 0);
    jb_str(j, s->size);
    jb_key(j, "saving_throws", 0);
    jb_raw(j, "{", 1);
    for (int k = 0; k < BUILD_ABILITIES; k++) {
        jb_key(j, abilities[k], k == 0);
        jb_lit(j,
               s->saves[k].proficient ? "{\"proficient\":true,\"modifier\":" : "{\"proficient\":false,\"modifier\":");
        jb_int(j, s->saves[k].modifier);
        jb_raw(j, "}", 1);
    }
    jb_raw(j, "}", 1);
    jb_key(j, "skills", 0);
    jb_raw(j, "{", 1);
    first = 1;
    for (size_t i = 0; i < s->nskills && i < BUILD_LIST_MAX; i++) {
        const struct sheet_skill *k = &s->skills[i];
        if (k->skill == NULL || k->skill->index == NULL)
            continue;
        jb_key(j, k->skill->index, first);
        first = 0;
        jb_lit(j, "{\"ability\":");
        jb_str(j, k->skill->ability);
        jb_lit(j, k->proficient ? ",\"proficient\":true,\"modifier\":" : ",\"proficient\":false,\"modifier\":");
        jb_int(j, k->modifier);
        jb_raw(j, "}", 1);
    }
    jb_raw(j, "}", 1);
    jb_key(j, "passive_perception", 0);
    jb_int(j, s->passive_perception);
    jb_key(j, "languages", 0);
    jb_refs(j, &s->languages, 0);
    jb_key(j, "proficiencies", 0);
    jb_refs(j, &s->proficiencies, 0);
    jb_key(j, "traits", 0);
    jb_refs(j, &s->traits, 0);
    jb_key(j, "features", 0);
    jb_refs(j, &s->features, 1);
    jb_key(j, "resistances", 0);
    jb_raw(j, "[", 1);
    first = 1;
    for (size_t i = 0; i < s->nresistances && i < 8; i++) {
        if (s->resistances[i] == NULL)
            continue;
        if (!first)
            jb_raw(j, ",", 1);
        first = 0;
        jb_str(j, s->resistances[i]);
    }
    jb_raw(j, "]", 1);
}

char *charjson_sheet_text(const struct ruleset *rs, const struct build *b, const struct sheet *s, size_t *len)
{
    struct jbuf j = {0};
    sheet_members(rs, b, s, &j);
    *len = j.len;
    return j.p;
}

void charjson_write_sheet(const struct ruleset *rs, const struct build *b, const struct sheet *s, json_t *out)
{
    struct jbuf j = {0};
    jb_raw(&j, "{", 1);
    sheet_members(rs, b, s, &j);
    jb_raw(&j, "}", 1);
    json_error_t jerr;
    json_t *o = json_loadb(j.p, j.len, JSON_REJECT_DUPLICATES, &jerr);
    free(j.p);
    if (o == NULL)
        abort(); /* the writer above produced broken JSON: a bug, caught by the tests and the fuzzer */
    json_object_update(out, o);
    json_decref(o);
}

/* ---- level-up request ----------------------------------------------------------- */

void charjson_read_level_up(const json_t *body, struct level_up *req, struct violations *v)
{
    static const char *const known[] = {"class", "subclass", "hit_points", "asi", "skills", "tools", NULL};
    memset(req, 0, sizeof(*req));
    if (body == NULL || json_is_null(body))
        return;
    if (!json_is_object(body)) {
        violations_add(v, "", "wrong_type", "the request body must be a JSON object, not %s", json_type_name(body));
        return;
    }
    unknown_members(body, known, "", v);
    read_string(json_object_get(body, "class"), "class", CHARJSON_SLUG_MAX, &req->class_, NULL, v);
    read_string(json_object_get(body, "subclass"), "subclass", CHARJSON_SLUG_MAX, &req->subclass, NULL, v);
    const char *hp;
    if (read_string(json_object_get(body, "hit_points"), "hit_points", CHARJSON_SLUG_MAX, &hp, NULL, v) == 0 &&
        hp != NULL) {
        if (strcmp(hp, "roll") == 0)
            req->roll = 1;
        else if (strcmp(hp, "average") != 0)
            violations_add(v, "hit_points", "out_of_range", "hit_points must be \"average\" or \"roll\"");
    }
    read_scores(json_object_get(body, "asi"), "asi", &req->asi, v);
    read_list(json_object_get(body, "skills"), "skills", &req->skills, v);
    read_list(json_object_get(body, "tools"), "tools", &req->tools, v);
}
