/*
 * rules/charcheck.h - the validating half of the rules engine (internal to
 * rules/: character.c, charsheet.c and charrandom.c use it). charcheck_run()
 * walks a build once, appends every problem to the violations list, and leaves
 * in a `struct charstate` what it resolved (race, class, scores after ASIs,
 * class levels, skill and language grants) for charsheet_derive() to turn into
 * a sheet. No allocation: everything is fixed-size and caller-owned.
 */
#ifndef RULES_CHARCHECK_H
#define RULES_CHARCHECK_H

#include "rules/character.h"

#define CHAR_SKILLS_MAX 64    /* skills a ruleset may have that the engine tracks */
#define CHAR_LANGUAGES_MAX 64 /* languages likewise */

/* One level gained after creation, as resolved. */
struct charstep {
    const struct rs_class *cls;        /* NULL when the entry's class was unusable */
    int hit_points;                    /* 0: the average */
    int class_level;                   /* the level in `cls` this entry reaches */
    int new_class;                     /* 1: the entry entered a new class */
    const struct build_advance *entry; /* the build's entry (its skill and tool choices) */
};

struct charstate {
    const struct ruleset *rs;
    const struct build_policy *p;
    const struct build *b;
    enum character_mode mode;
    struct violations *v;

    const struct rs_race *race;
    const struct rs_subrace *subrace;
    const struct rs_class *cls; /* the creation class */
    const struct rs_background *background;
    const struct rs_alignment *alignment;
    const struct rs_ancestry *ancestry;
    int level; /* creation level, 1..20 */
    int total; /* total character level, 1..20 */

    int scores_ok;                /* all six base scores are known */
    int base[RULESET_ABILITIES];  /* method scores plus ASIs */
    int bonus[RULESET_ABILITIES]; /* racial bonuses incl. subrace and half-elf choices */

    struct sheet_class classes[BUILD_ADVANCE_MAX + 1];
    size_t nclasses;
    struct charstep steps[BUILD_ADVANCE_MAX];
    size_t nsteps;

    unsigned char skill[CHAR_SKILLS_MAX];       /* by rs->skills position: 1 proficient */
    unsigned char language[CHAR_LANGUAGES_MAX]; /* by rs->languages position: 1 known */
    char roll_nonce[2 * ROLLID_NONCE_BYTES + 1];
};

/* Validate `st->b` (fields rs, p, b, mode, v set; the rest zeroed by the caller) and fill the rest of `st`. */
void charcheck_run(struct charstate *st);

/*
 * Validate one level gained after what `st` holds, with field paths under
 * `prefix` ("advancement[2]." or "" for a level-up request), and on success
 * apply it to `st` (class level, ASI, skills): the level is applied whenever
 * its class is known, so later entries are judged against it. Returns 1 when
 * the entry had no problems, else 0.
 */
int charcheck_advance(struct charstate *st, const struct build_advance *a, const char *prefix);

/* Helpers shared by the engine's modules. */
int charcheck_in(const struct rs_strs *s, const char *x);
int charcheck_modifier(int score);
int charcheck_score(const struct charstate *st, int i); /* base + bonus, capped at rs->methods.score_max */
int charcheck_average(int die);                         /* fixed average of a hit die: die / 2 + 1 */
int charcheck_class_level(const struct charstate *st, const struct rs_class *cls);
/* 1 when `s` names an equipment category of tools ("musical-instruments", "artisans-tools", ...), not an item. */
int charcheck_is_tool_category(const struct ruleset *rs, const char *s);
/* 1 when `item` is listed in `from` or belongs to one of the tool categories listed there. */
int charcheck_tool_allowed(const struct ruleset *rs, const struct rs_strs *from, const char *item);

#endif
