/*
 * rules/ruleset.h - the SRD tables the rules engine reads: abilities, skills,
 * alignments, languages, races (with subraces, traits and draconic ancestries),
 * classes (with their 1..20 level tables), backgrounds, the XP table, the
 * equipment (with its categories, damage types and weapon properties), the
 * proficiencies and the class and subclass features.
 *
 * ruleset_load() reads the YAML files of rules/data/ once, validates all of
 * them (unknown keys, types, ranges, cross-references, expected counts) and
 * returns an immutable struct ruleset; nothing changes it afterwards, so any
 * number of threads may read it. It owns every string and array it points to;
 * lookups return const pointers into it that live until ruleset_free(). This
 * module does no rules arithmetic: callers compute characters from the tables.
 *
 * Every slug ("index") is the one the public 5e SRD API uses (dwarf, hill-dwarf,
 * cleric, animal-handling, lawful-good, str, ...). A list of slugs is a
 * `struct rs_strs`. An ability bonus array is indexed like rs->abilities.
 */
#ifndef RULES_RULESET_H
#define RULES_RULESET_H

#include <stddef.h>

#include "common/err.h"

#define RULESET_MAX_FILE (1024 * 1024) /* bytes in one data file */
#define RULESET_MAX_STR 200            /* bytes in one string */
#define RULESET_LEVELS 20              /* class and character levels */
#define RULESET_ABILITIES 6

struct rs_strs {
    const char *const *v;
    size_t n;
};

/* "choose `count` from `from`"; `any` set means from any entry of the domain. */
struct rs_choice {
    int count; /* 0 when there is no choice */
    int any;
    struct rs_strs from;
};

struct rs_ability {
    const char *index, *name;
};

struct rs_skill {
    const char *index, *name;
    const char *ability; /* an ability index */
};

struct rs_alignment {
    const char *index, *name, *abbreviation;
};

struct rs_language {
    const char *index, *name;
    int exotic; /* 0 standard, 1 exotic */
};

/* Machine-usable effects of a racial trait; zero / empty when absent. */
struct rs_effects {
    int darkvision;   /* feet */
    int hp_per_level; /* extra max HP per character level */
    struct rs_strs skill_proficiencies, weapon_proficiencies, armor_proficiencies, tool_proficiencies;
    struct rs_choice tool_choices;
    struct rs_strs resistances;       /* damage types; "ancestry" = the chosen draconic ancestry's */
    int skill_choices;                /* skills of choice, from any skill */
    int language_choices;             /* extra languages of choice */
    struct rs_choice cantrip_choices; /* from.v[0] is the class whose list is used */
    const char *cantrip_ability;      /* ability index or NULL */
    int heavy_armor_no_speed_penalty;
    int ancestry_choice; /* the player picks one of rs->ancestries */
};

struct rs_trait {
    const char *index, *name;
    struct rs_effects effects;
};

struct rs_race {
    const char *index, *name;
    int small;                              /* size: 1 small, 0 medium */
    int speed;                              /* feet */
    int ability_bonuses[RULESET_ABILITIES]; /* by rs->abilities position */
    struct rs_choice bonus_choices;         /* abilities to pick; from = excluded ones */
    int bonus_choice_amount;                /* added to each picked ability */
    struct rs_strs languages;               /* language indexes */
    int language_choices;
    const struct rs_trait *traits;
    size_t ntraits;
};

struct rs_subrace {
    const char *index, *name;
    const char *race; /* race index */
    int ability_bonuses[RULESET_ABILITIES];
    const struct rs_trait *traits;
    size_t ntraits;
};

struct rs_ancestry {
    const char *index, *name, *damage_type;
    int cone;          /* 1 cone, 0 line */
    int length, width; /* feet; width 0 for a cone */
    const char *save;  /* ability index */
};

struct rs_class_level {
    int level;
    int proficiency_bonus;
    int asi;                          /* an Ability Score Improvement at this class level */
    struct rs_strs features;          /* feature indexes (see ruleset_feature) gained at this class level */
    struct rs_strs subclass_features; /* the SRD subclass's features gained at this class level */
};

/* What the class's SRD subclass changes on the sheet (zero / empty when nothing). */
struct rs_subclass_effects {
    int hp_per_level;             /* extra max HP per level of this class (Draconic Bloodline: 1) */
    int unarmored_ac_base;        /* 0, or AC = this + DEX modifier when unarmored (Draconic: 13) */
    struct rs_strs proficiencies; /* proficiency indexes gained (Life Domain: heavy-armor) */
    struct rs_strs languages;     /* language indexes gained (Draconic: draconic) */
};

struct rs_prereq {
    const char *ability;
    int minimum;
};

struct rs_class {
    const char *index, *name;
    int hit_die;                  /* sides: 6, 8, 10 or 12 */
    struct rs_strs saving_throws; /* ability indexes */
    struct rs_choice skill_choices;
    struct rs_strs armor, weapons, tools;
    struct rs_choice tool_choices;
    struct {
        int any_of; /* 1: one prerequisite suffices; 0: all are needed */
        const struct rs_prereq *prereqs;
        size_t nprereqs;
        struct rs_strs proficiencies;
        struct rs_choice skill_choices; /* `any` or, with from empty and count > 0, the class's list */
        struct rs_choice tool_choices;
    } multiclass;
    const char *subclass_index, *subclass_name;
    int subclass_level;
    struct rs_subclass_effects subclass_effects;
    const char *unarmored_defense; /* NULL, or the ability whose modifier adds to 10 + DEX when
                                      unarmored (barbarian: con, monk: wis) */
    int spellcasting_level;        /* 0 for a class without spellcasting */
    const char *spellcasting_ability;
    struct rs_class_level levels[RULESET_LEVELS];
};

struct rs_background {
    const char *index, *name;
    struct rs_strs skill_proficiencies;
    int language_choices;
    struct rs_strs equipment;
    int starting_gold;
    const char *feature_index, *feature_name;
    int personality_die, personality_picks, ideal_die, bond_die, flaw_die;
};

/* A proficiency as dnd5eapi names it: light-armor, simple-weapons, battleaxes, smiths-tools. */
struct rs_proficiency {
    const char *index, *name;
    const char *type; /* as dnd5eapi: "Armor", "Weapons", "Artisan's Tools", "Musical Instruments", "Gaming Sets",
                         "Other" (other tools), "Vehicles", "Skills", "Saving Throws" */
    /* What it covers: at most one is set (none for the vehicle proficiencies). */
    const char *category; /* an equipment category index (light-armor, simple-weapons, armor) */
    const char *item;     /* an equipment index (longsword, lute, smiths-tools, shield) */
    const char *skill;    /* a skill index (type "Skills") */
    const char *ability;  /* an ability index (type "Saving Throws") */
};

/* Named things equipment refers to. */
struct rs_equipment_category {
    const char *index, *name; /* weapon, simple-weapons, artisans-tools, equipment-packs, ... */
    int tools; /* 1 when every item in it is a tool (equip_type tools): tools, musical-instruments, ... */
};
struct rs_damage_type {
    const char *index, *name; /* slashing, fire, ... */
};
struct rs_weapon_property {
    const char *index, *name; /* finesse, light, heavy, thrown, versatile, two-handed, reach, ... */
};

struct rs_armor {
    const char *category;     /* "light", "medium", "heavy" or "shield" */
    int base;                 /* AC (a shield: the bonus it adds) */
    int dex_bonus;            /* 1 when the DEX modifier adds */
    int max_bonus;            /* cap on that modifier; 0 = no cap */
    int str_minimum;          /* 0 = none */
    int stealth_disadvantage; /* 1 or 0 */
};

struct rs_weapon {
    int martial;                   /* 0 simple, 1 martial */
    int ranged;                    /* 0 melee, 1 ranged */
    const char *damage;            /* dice ("1d8") or a flat number ("1"); NULL when it deals none (net) */
    const char *damage_type;       /* damage type index; NULL with damage */
    const char *two_handed_damage; /* dice when versatile, else NULL */
    int normal, long_range;        /* range in feet; long_range 0 when none */
    int throw_normal, throw_long;  /* thrown range in feet; 0 when not thrown */
    struct rs_strs properties;     /* weapon property indexes */
};

struct rs_pack_item {
    const char *item; /* equipment index */
    int quantity;
};

struct rs_equipment {
    const char *index, *name;
    struct rs_strs categories;      /* equipment category indexes; v[0] is the main one (dnd5eapi equipment_category) */
    const char *equip_type;         /* the original API's type: light-armor, simple-melee, ammunition, arcane, holy,
                                       druidic, container, tools, other, ... */
    int cost;                       /* cost_unit coins */
    const char *cost_unit;          /* "cp", "sp", "ep", "gp" or "pp" */
    double weight;                  /* pounds; 0 when has_weight is 0 */
    int has_weight;                 /* 0 when the SRD lists no weight (equipment packs) */
    int quantity;                   /* items sold together for the cost (20 arrows); 1 by default */
    const struct rs_armor *armor;   /* NULL unless armor or a shield */
    const struct rs_weapon *weapon; /* NULL unless a weapon */
    const struct rs_pack_item *contents; /* an equipment pack's contents */
    size_t ncontents;
};

/* A class or subclass feature. */
struct rs_feature {
    const char *index, *name;
    const char *class_index;    /* the class it belongs to */
    const char *subclass_index; /* NULL for a class feature */
    int level;                  /* class level it is gained at */
};

struct rs_xp_level {
    int level, xp, proficiency_bonus;
};

/* How ability scores are generated (rules/data/ability-methods.yaml). */
#define RULESET_POINT_BUY_MAX_SCORES 16
struct rs_ability_methods {
    int standard_array[RULESET_ABILITIES];            /* 15, 14, 13, 12, 10, 8 */
    int point_buy_min, point_buy_max;                 /* 8..15 before racial bonuses */
    int point_buy_budget;                             /* the SRD's 27 (the table policy may change it) */
    int point_buy_cost[RULESET_POINT_BUY_MAX_SCORES]; /* cost of each score from point_buy_min */
    int rolled_dice, rolled_sides, rolled_keep;       /* 4d6, keep the highest 3 */
    int manual_min, manual_max;                       /* 3..18 */
    int score_max;                                    /* 20: no score exceeds it (racial bonuses, ASIs) */
};

struct ruleset {
    struct rs_ability_methods methods;
    const struct rs_ability *abilities;
    size_t nabilities;
    const struct rs_skill *skills;
    size_t nskills;
    const struct rs_alignment *alignments;
    size_t nalignments;
    const struct rs_language *languages;
    size_t nlanguages;
    const struct rs_race *races;
    size_t nraces;
    const struct rs_subrace *subraces;
    size_t nsubraces;
    const struct rs_ancestry *ancestries;
    size_t nancestries;
    const struct rs_class *classes;
    size_t nclasses;
    const struct rs_background *backgrounds;
    size_t nbackgrounds;
    const struct rs_proficiency *proficiencies;
    size_t nproficiencies;
    const struct rs_feature *features;
    size_t nfeatures;
    const struct rs_equipment *equipment;
    size_t nequipment;
    const struct rs_equipment_category *equipment_categories;
    size_t nequipment_categories;
    const struct rs_damage_type *damage_types;
    size_t ndamage_types;
    const struct rs_weapon_property *weapon_properties;
    size_t nweapon_properties;
    struct rs_xp_level xp[RULESET_LEVELS];
    const void *slugs; /* private: every table's items by slug, built once loading succeeded */
    void *arena;       /* private: every allocation above */
};

/*
 * Load and validate every data file of `dir` (abilities.yaml, ability-methods.yaml, skills.yaml,
 * alignments.yaml, languages.yaml, xp.yaml, equipment.yaml, proficiencies.yaml,
 * features.yaml, classes.yaml, races.yaml, backgrounds.yaml). Returns 0 and sets *out (free with ruleset_free), or
 * ERR_IO (a file missing or unreadable), ERR_TOO_LARGE (a file over 1 MiB, a string over 200 bytes) or ERR_INVALID (bad
 * YAML, an unknown key, a wrong type or range, a dangling reference, a wrong count); *out is then NULL and `e` holds
 * the problems, the first ones spelled out as "FILE:LINE:COL: ...", with a total.
 */
int ruleset_load(const char *dir, struct ruleset **out, struct err *e);

/*
 * ruleset_load(), except that the data file named `file` (one of the names
 * above, e.g. "races.yaml") is not read from `dir`: its contents are
 * text[0..len) (not necessarily NUL-terminated). For tests and the fuzz target.
 * Also ERR_INVALID when `file` names no data file, ERR_TOO_LARGE when len is
 * over RULESET_MAX_FILE; problems in the text are reported as "DIR/FILE:LINE:COL".
 */
int ruleset_load_override(const char *dir, const char *file, const char *text, size_t len, struct ruleset **out,
                          struct err *e);

/* Release a ruleset and everything it owns; NULL is fine. */
void ruleset_free(struct ruleset *rs);

/* Lookups by slug: a const pointer into rs, or NULL when there is none (or index is NULL). */
const struct rs_ability *ruleset_ability(const struct ruleset *rs, const char *index);
const struct rs_skill *ruleset_skill(const struct ruleset *rs, const char *index);
const struct rs_alignment *ruleset_alignment(const struct ruleset *rs, const char *index);
const struct rs_language *ruleset_language(const struct ruleset *rs, const char *index);
const struct rs_race *ruleset_race(const struct ruleset *rs, const char *index);
const struct rs_subrace *ruleset_subrace(const struct ruleset *rs, const char *index);
const struct rs_ancestry *ruleset_ancestry(const struct ruleset *rs, const char *index);
const struct rs_class *ruleset_class(const struct ruleset *rs, const char *index);
const struct rs_background *ruleset_background(const struct ruleset *rs, const char *index);

/* Proficiency by index. Every proficiency slug in the class and race data
 * (armor, weapons, tools, multiclass proficiencies, trait effects, subclass
 * effects) resolves here. NULL when unknown. */
const struct rs_proficiency *ruleset_proficiency(const struct ruleset *rs, const char *index);

/* Feature by index (every slug in a level's features / subclass_features resolves). NULL when unknown. */
const struct rs_feature *ruleset_feature(const struct ruleset *rs, const char *index);

/* Equipment, equipment category, damage type and weapon property by index; NULL when unknown. */
const struct rs_equipment *ruleset_equipment(const struct ruleset *rs, const char *index);
const struct rs_equipment_category *ruleset_equipment_category(const struct ruleset *rs, const char *index);
const struct rs_damage_type *ruleset_damage_type(const struct ruleset *rs, const char *index);
const struct rs_weapon_property *ruleset_weapon_property(const struct ruleset *rs, const char *index);

/* 1 when equipment `item` exists and belongs to equipment category `category`
 * (e.g. "lute" in "musical-instruments", "smiths-tools" in "artisans-tools"), else 0. */
int ruleset_item_in_category(const struct ruleset *rs, const char *item, const char *category);

/* Position of an ability in rs->abilities (and in ability_bonuses), or -1. */
int ruleset_ability_pos(const struct ruleset *rs, const char *index);

/* The row for class level `level` (1..20) of `cls`, or NULL when out of range or cls is NULL. */
const struct rs_class_level *ruleset_class_level(const struct rs_class *cls, int level);

#endif
