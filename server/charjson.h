/*
 * server/charjson.h - the JSON side of a character: a request body mapped onto
 * `struct build` (rules/build.h), a build written back as JSON, a sheet
 * (rules/character.h) rendered in API.md's response shape, and the body of
 * POST /v1/characters/{id}/level-up mapped onto `struct level_up`.
 *
 * The mapper judges shape only: unknown fields (named), wrong JSON types,
 * non-integers and wild integers, over-long lists and strings. Each problem
 * goes to a `struct violations` with its field path ("ability_scores.assign.str",
 * "skills[2]", "advancement[0].asi.wis") and the build's `bad` bit for that
 * field is set, so the rules engine says nothing more of it. Whether a value
 * means anything (an existing race, a legal score) is the engine's business.
 *
 * Strings in a mapped build are borrowed from the JSON value, which must
 * outlive the build. Every function here is pure: no I/O, no globals.
 */
#ifndef SERVER_CHARJSON_H
#define SERVER_CHARJSON_H

#include <jansson.h>

#include "rules/build.h"
#include "rules/character.h"
#include "rules/ruleset.h"
#include "rules/violations.h"

#define CHARJSON_SLUG_MAX 64        /* bytes in an index ("hill-dwarf") */
#define CHARJSON_NAME_MAX_BYTES 400 /* a name's bytes before its 1..100 character check */
#define CHARJSON_ROLL_ID_MAX 95     /* bytes in a roll id (rules/rollid.h: ROLLID_TEXT_MAX - 1) */

/*
 * Map `body` (a JSON object; anything else is reported as wrong_type at field
 * "") onto `b`, which is reset first (level 1 when absent). Every shape
 * problem is appended to `v`. A JSON null counts as an absent field.
 */
void charjson_read_build(const json_t *body, struct build *b, struct violations *v);

/*
 * The build as a new JSON object: every given field, the level always (the
 * default filled in), custom backgrounds as objects, advancement entries with
 * "hit_points" an integer roll or "average". charjson_read_build() of the
 * result gives back an equal build (with `bad` clear).
 */
json_t *charjson_write_build(const struct build *b);

/*
 * Append the members of a sheet to `out` (an object): name, level,
 * experience_points, race, subrace, class, background, alignment (each
 * {"index", "name", "url"} or null), draconic_ancestry, ability_scores,
 * proficiency_bonus, classes, hit_points, armor_class, initiative, speed,
 * darkvision, size, saving_throws, skills, passive_perception, languages,
 * proficiencies, traits, features (with "level" and "class"), resistances.
 * `b` gives the name and the creation class; `rs` the names of references the
 * sheet holds only as indexes.
 */
void charjson_write_sheet(const struct ruleset *rs, const struct build *b, const struct sheet *s, json_t *out);

/*
 * The same members as text: `"name":...,"level":...,...,"resistances":[...]`
 * (no braces), for callers that assemble a document around them without
 * building jansson objects. Returns a malloc'd NUL-terminated string (the
 * caller frees it) and its length in *len. Never fails (out of memory aborts).
 */
char *charjson_sheet_text(const struct ruleset *rs, const struct build *b, const struct sheet *s, size_t *len);

/*
 * Map a level-up body {"class", "subclass", "hit_points": "average" | "roll",
 * "asi": {...}, "skills": [...], "tools": [...]} onto `req` (reset first: no
 * class means the creation class, hit points average). Shape problems go to
 * `v` with the request's field paths. Strings are borrowed from `body`.
 */
void charjson_read_level_up(const json_t *body, struct level_up *req, struct violations *v);

#endif
