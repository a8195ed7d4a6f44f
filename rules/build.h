/*
 * rules/build.h - a character build (what a client asks for) and the table
 * policy it is judged under. Pure: no I/O, no JSON. The server maps a JSON
 * body onto `struct build` (server/charjson.c: it reports wrong types,
 * unknown fields and over-long lists itself), then rules/character.h judges
 * the build against the ruleset and derives the sheet.
 *
 * Strings are borrowed, NUL-terminated, and live as long as whatever the
 * caller mapped them from (a JSON document, the ruleset, static text). A NULL
 * string or an empty list means "absent". Ability-indexed arrays follow the
 * order of rs->abilities (str, dex, con, int, wis, cha).
 *
 * The build is the whole recipe of a character: the creation choices plus
 * `advancement`, one entry per level gained through level-up after creation
 * (possibly in another class: multiclassing). The sheet is a pure function
 * of (ruleset, build), so any instance re-derives the same sheet.
 */
#ifndef RULES_BUILD_H
#define RULES_BUILD_H

#include <stddef.h>
#include <stdint.h>

#include "rules/violations.h"

#define BUILD_NAME_MAX_CHARS 100
#define BUILD_LEVEL_MIN 1
#define BUILD_LEVEL_MAX 20
#define BUILD_LIST_MAX 32    /* items in any list of a build */
#define BUILD_ADVANCE_MAX 19 /* level-ups after a level-1 creation */
#define BUILD_ABILITIES 6

/* The fields of a build, for `bad` below and for field paths. */
enum build_field {
    BF_NAME, BF_RACE, BF_SUBRACE, BF_CLASS, BF_SUBCLASS, BF_BACKGROUND, BF_ALIGNMENT, BF_LEVEL,
    BF_ABILITY_SCORES, BF_METHOD, BF_ASSIGN, BF_ROLL_ID, BF_SKILLS, BF_LANGUAGES, BF_CHOICES,
    BF_ASIS, BF_ADVANCEMENT, BF_COUNT
};

enum build_method {
    BUILD_METHOD_NONE = 0,     /* absent */
    BUILD_METHOD_STANDARD_ARRAY,
    BUILD_METHOD_POINT_BUY,
    BUILD_METHOD_ROLLED,
    BUILD_METHOD_MANUAL,
    BUILD_METHOD_INVALID       /* given but not one of the above (already reported by the mapper) */
};

struct build_list {
    const char *v[BUILD_LIST_MAX];
    size_t n;
    int present; /* the field was given (possibly empty) */
};

/* An ability -> integer map as given; present[i] marks the abilities named. */
struct build_scores {
    int v[BUILD_ABILITIES];
    unsigned char present[BUILD_ABILITIES];
};

/* One ability score improvement of a level-N creation: {"level": 4, "increase": {"wis": 2}}. */
struct build_asi {
    int level;
    struct build_scores increase;
};

/* One level gained after creation (POST .../level-up appends one). */
struct build_advance {
    const char *class_;     /* class index of the level gained */
    const char *subclass;   /* set when this level reaches that class's subclass level */
    int hit_points;         /* rolled hit-die result 1..die; 0 = the fixed average */
    struct build_scores asi;/* the increase when this class level grants an ASI (none present otherwise) */
    struct build_list skills; /* multiclass skill choices when entering a new class (bard, ranger, rogue) */
    struct build_list tools;  /* multiclass tool choices when entering a new class (bard) */
};

struct build {
    uint32_t bad; /* 1u << BF_x: fields the mapper already reported; the validator says nothing more of them */

    const char *name; /* UTF-8, valid (the JSON parser checked) */
    size_t name_len;
    const char *race, *subrace, *class_, *subclass, *alignment;
    const char *background; /* an index; NULL with custom_background set, or absent */
    int custom_background;  /* background was an object */
    struct {
        const char *name;
        size_t name_len;
        struct build_list skills, languages, tools;
    } custom;
    int level; /* creation level, 1 when absent; the mapper clamps wild integers into -1..1000 */

    struct {
        enum build_method method;
        struct build_scores assign;
        const char *roll_id; /* rolled: the text from POST /v1/rolls/ability-scores */
    } ability_scores;

    struct build_list skills;    /* the class's skill choices */
    struct build_list languages; /* every language of choice: race, subrace and background together */

    struct {
        struct build_list ability_bonuses; /* half-elf: two ability indexes other than cha, +1 each */
        struct build_list race_skills;     /* half-elf Skill Versatility: two skills */
        struct build_list instruments;     /* bard: three musical instruments (equipment indexes) */
        const char *draconic_ancestry;     /* dragonborn: black .. white */
        const char *tool;                  /* dwarf: one of the race's tool choices */
        const char *cantrip;               /* high elf: a wizard cantrip index */
        const char *artisan_or_instrument; /* monk: an artisan's tool or a musical instrument */
    } choices;

    struct build_asi asis[BUILD_LIST_MAX]; /* ability_score_improvements of a level > 1 creation */
    size_t nasis;

    struct build_advance advancement[BUILD_ADVANCE_MAX];
    size_t nadvancement;
};

/*
 * The table's policy (config rules.*): which ability methods are allowed, the
 * point-buy budget, how later hit points may be found, and what a roll id is
 * checked against.
 */
enum build_hp_method { BUILD_HP_EITHER = 0, BUILD_HP_AVERAGE, BUILD_HP_ROLL };

struct build_policy {
    unsigned methods;       /* bit (1u << BUILD_METHOD_x) per allowed method; manual only when set here */
    int point_buy_budget;   /* default 27; spending less is allowed */
    enum build_hp_method hp_method; /* what level-up may use (creation above level 1 always averages) */
    const unsigned char *rolls_key; /* ROLLID_KEY_BYTES; NULL: rolled builds cannot be verified */
    int64_t now;            /* seconds since the epoch, for roll-id expiry */
    int64_t roll_ttl_s;     /* roll-id lifetime */
};

/* The default policy: standard array, point buy and rolled; budget 27; either HP method. */
void build_policy_default(struct build_policy *p);

/* Append the problems of the name and the level alone (required, 1..100
 * characters, not blank, no control characters; level 1..20). character_evaluate()
 * calls this; it is exported for routes that judge only these two. */
void build_validate_name_level(const struct build *b, enum build_field field_name, struct violations *v);

/* Number of code points in valid UTF-8 text s[0..len). */
size_t build_utf8_chars(const char *s, size_t len);

/* The JSON name of a method ("standard_array", ...), or NULL for NONE/INVALID; and back (INVALID when unknown). */
const char *build_method_name(enum build_method m);
enum build_method build_method_parse(const char *s);

#endif
