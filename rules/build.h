/*
 * rules/build.h - character build checks (first cut: the name and the level).
 * Pure: no I/O. The server maps JSON to `struct build`; this module judges it
 * and appends every problem to a violation list. The full SRD rules engine
 * (races, classes, ability methods, computed sheet) extends this module.
 */
#ifndef RULES_BUILD_H
#define RULES_BUILD_H

#include <stddef.h>

#include "rules/violations.h"

#define BUILD_NAME_MAX_CHARS 100
#define BUILD_LEVEL_MIN 1
#define BUILD_LEVEL_MAX 20

struct build {
    const char *name;   /* UTF-8, not NUL-terminated; NULL when absent */
    size_t name_len;
    int name_wrong_type; /* the name was given but was not a string (reported by the caller) */
    int level;          /* BUILD_LEVEL_MIN..BUILD_LEVEL_MAX */
};

/*
 * Append to `v` every problem with `b`: name required, 1..100 characters
 * (Unicode code points), not blank, no control characters; level 1..20.
 * The JSON text is known to be valid UTF-8 (the parser checked it).
 */
void build_validate(const struct build *b, struct violations *v);

/* Number of code points in valid UTF-8 text s[0..len). */
size_t build_utf8_chars(const char *s, size_t len);

#endif
