/*
 * rules/character.h - the rules engine proper: judge a build against the SRD
 * ruleset and the table policy, collecting every problem with a field path and
 * an API.md error code, and derive the character sheet. Pure: no I/O, no
 * JSON; strings in a sheet point into the ruleset or the build.
 *
 * Field paths are those of the JSON build: "race", "ability_scores.assign.str",
 * "skills[2]", "choices.ability_bonuses[0]", "ability_score_improvements[1].increase.wis",
 * "advancement[0].class", "background.skills[1]".
 */
#ifndef RULES_CHARACTER_H
#define RULES_CHARACTER_H

#include <stddef.h>

#include "rules/build.h"
#include "rules/rollid.h"
#include "rules/ruleset.h"
#include "rules/violations.h"

#define SHEET_REFS_MAX 160

/* A cross-reference rendered as {"index", "name", "url": "/api/2014/<resource>/<index>"}. */
struct sheet_ref {
    const char *index, *name;
    const char *resource;    /* "languages", "proficiencies", "traits", "features", ... */
    int level;               /* features: the class level it is gained at; else 0 */
    const char *class_index; /* features: its class; else NULL */
};

struct sheet_refs {
    struct sheet_ref v[SHEET_REFS_MAX];
    size_t n;
};

struct sheet_ability {
    int base;     /* from the ability method, plus ASIs */
    int bonus;    /* racial (and half-elf chosen) bonuses */
    int score;    /* base + bonus, at most 20 */
    int modifier; /* floor((score - 10) / 2) */
};

struct sheet_class {
    const struct rs_class *cls;
    int level;
    const char *subclass; /* subclass index or NULL */
};

struct sheet_skill {
    const struct rs_skill *skill;
    int proficient;
    int modifier;
};

struct sheet_save {
    int proficient;
    int modifier;
};

struct sheet {
    int complete; /* 1 when race, class and ability scores were usable and every number below is meaningful */
    const struct rs_race *race;
    const struct rs_subrace *subrace;
    const struct rs_background *background; /* NULL for a custom background */
    const char *custom_background_name;     /* set for a custom background */
    const struct rs_alignment *alignment;
    const struct rs_ancestry *ancestry;     /* dragonborn */
    int level;                              /* total character level */
    int experience_points;                  /* the XP threshold of that level */
    struct sheet_ability abilities[RULESET_ABILITIES];
    int proficiency_bonus;
    struct sheet_class classes[BUILD_ADVANCE_MAX + 1]; /* the first is the creation class */
    size_t nclasses;
    int hp_max;
    char hit_dice[64]; /* "5d8" or "3d8 + 2d6" */
    int armor_class;   /* unarmored */
    int initiative;
    int speed;
    int darkvision;
    const char *size;  /* "Medium" or "Small" */
    struct sheet_save saves[RULESET_ABILITIES];
    struct sheet_skill skills[BUILD_LIST_MAX]; /* every skill of the ruleset, in its order */
    size_t nskills;
    int passive_perception;
    struct sheet_refs languages, proficiencies, traits, features;
    const char *resistances[8]; /* damage types */
    size_t nresistances;
    char roll_nonce[2 * ROLLID_NONCE_BYTES + 1]; /* rolled builds: the roll id's nonce in hex; else "" */
};

enum character_mode {
    CHARACTER_CREATE,  /* missing fields are "required", short lists "too_few" */
    CHARACTER_DRAFT    /* /validate: what is only unfinished is "incomplete" */
};

/*
 * Judge `b` under `rs` and `p`, appending every problem to `v`, and fill `out`
 * with the best sheet that can be derived (out->complete says whether it is
 * whole). The build is valid when v->n == 0 afterwards. Never fails otherwise.
 */
void character_evaluate(const struct ruleset *rs, const struct build_policy *p, const struct build *b,
                        enum character_mode mode, struct violations *v, struct sheet *out);

/* A level-up request: POST /v1/characters/{id}/level-up. */
struct level_up {
    const char *class_;   /* NULL: the creation class */
    const char *subclass; /* needed when the class reaches its subclass level */
    int roll;             /* 1: roll the hit die with `rng`; 0: the average */
    struct build_scores asi;
    struct build_list skills, tools; /* multiclass choices when entering a new class */
};

struct dice_rng;

/*
 * Check `req` against a valid build `b` (max level 20, multiclass
 * prerequisites of the current classes and the new one, ASI only at a level
 * that grants one and then required, scores capped at 20, subclass when due,
 * hp method allowed by `p`) and, when `v` gained no problems, fill `out` with
 * the advancement entry to append (the hit-die roll drawn from `rng` when
 * req->roll). Field paths are the request's ("class", "asi.wis").
 */
void character_level_up(const struct ruleset *rs, const struct build_policy *p, const struct build *b,
                        const struct level_up *req, const struct dice_rng *rng, struct violations *v,
                        struct build_advance *out);

/*
 * Fill `out` with a valid random level-1 build (standard array or point buy,
 * never rolled) drawn from `rng`: the same generator state gives the same
 * build. Strings point into `rs` or static storage.
 */
void character_random(const struct ruleset *rs, const struct dice_rng *rng, struct build *out);

#endif
