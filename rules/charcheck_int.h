/*
 * rules/charcheck_int.h - how the parts of the validating half of the rules
 * engine call one another; internal to charcheck.c, charcheck_choices.c,
 * charcheck_scores.c and charcheck_advance.c (everyone else uses charcheck.h).
 *
 * charcheck_run() (charcheck.c) resolves the references and fixed grants, then
 * calls, in this order, charcheck_scores_bonuses(), charcheck_choices(),
 * charcheck_scores() and charcheck_advancement(). Each part appends problems
 * to st->v and records what it accepted in *st; none allocates or does I/O.
 * Field paths (`field`, `path`) are the build's JSON paths, NUL-terminated.
 */
#ifndef RULES_CHARCHECK_INT_H
#define RULES_CHARCHECK_INT_H

#include <stddef.h>
#include <string.h>

#include "rules/charcheck.h"

/* Text for a message: "" for NULL. */
static inline const char *txt(const char *s)
{
    return s != NULL ? s : "";
}

/* strcmp() == 0 that tolerates NULL. */
static inline int same(const char *a, const char *b)
{
    return a != NULL && b != NULL && strcmp(a, b) == 0;
}

/* ---- charcheck.c: shared helpers ---- */

/* 1 when the JSON mapper already reported field `f` of the build as malformed (judge it no further). */
int charcheck_bad(const struct charstate *st, enum build_field f);

/* The violation code for something absent ("required") / a list too short ("too_few"): "incomplete" in a draft. */
const char *charcheck_missing(const struct charstate *st);
const char *charcheck_few(const struct charstate *st);

/* The index ("str", ...) of ability position i, or "?" out of range. */
const char *charcheck_ability_index(const struct charstate *st, int i);

/* 1 when s is a non-empty slug (a-z, 0-9, '-') of at most `max` bytes. */
int charcheck_is_slug(const char *s, size_t max);

/* Mark skill / language `s` as granted; unknown slugs are ignored. */
void charcheck_grant_skill(struct charstate *st, const char *s);
void charcheck_grant_language(struct charstate *st, const char *s);

/* Over the race's then the subrace's traits: the sum of the int effect at offset `off` of struct rs_effects;
 * the first choice effect at `off` with a count, or NULL. */
int charcheck_trait_sum(const struct charstate *st, size_t off);
const struct rs_choice *charcheck_trait_choice(const struct charstate *st, size_t off);

/* Subclass `s` chosen for `cls` at `field`: 1 when it is cls's; else 0 and a problem (not_allowed / unknown). */
int charcheck_subclass_value(struct charstate *st, const struct rs_class *cls, const char *s, const char *field);

/* A list of `n` items at `field` against `want`: too_many, or missing/too_few (`what` names the items). */
void charcheck_count(struct charstate *st, const char *field, size_t n, int want, const char *what);

/* Skills chosen at field[i]: each known, in `from` (NULL: any skill), not yet proficient (then marked); then the
 * count against `want`. */
void charcheck_skill_list(struct charstate *st, const struct build_list *l, const char *field, int want,
                          const struct rs_strs *from, const char *what);

/* A language chosen at `field`: known and not yet known (then marked). */
void charcheck_language_pick(struct charstate *st, const char *s, const char *field);

/* ---- charcheck_choices.c ---- */

/* A custom background, the race's and the class's choices, the class skills and the languages of choice. */
void charcheck_choices(struct charstate *st);

/* ---- charcheck_scores.c ---- */

/* Set st->bonus[] to the race's plus the subrace's ability bonuses (half-elf choices are added later). */
void charcheck_scores_bonuses(struct charstate *st);

/* The six scores under the build's method and the policy, then a creation's ability score improvements. */
void charcheck_scores(struct charstate *st);

/*
 * An increase at `path` ("ability_score_improvements[0].increase", "asi"): +2
 * to one score or +1 to two, no score above rs->methods.score_max. Applied to
 * st->base when valid (and the scores are known); returns 1 when valid.
 */
int charcheck_increase(struct charstate *st, const struct build_scores *inc, const char *path);

/* ---- charcheck_advance.c ---- */

/* Every entry of the build's advancement, through charcheck_advance() (charcheck.h). */
void charcheck_advancement(struct charstate *st);

#endif
