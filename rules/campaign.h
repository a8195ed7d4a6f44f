/*
 * rules/campaign.h - a character in play: what equipment, hit points and
 * experience do to it under the SRD rules. Armor class from worn armor and a
 * shield (DEX capped by the armor's category, unarmored defense when no armor
 * is worn), carried weight against carrying capacity (15 x STR) and the
 * variant encumbrance bands (over 5x, 10x, 15x STR), the penalties of armor
 * worn without proficiency or without the strength it needs (reported as
 * warnings, never refused), hit points clamped to 0..max, and the level the
 * experience points reach on the XP table.
 *
 * Pure functions over plain structs and the loaded ruleset: no I/O, no JSON,
 * no allocation. The HTTP side (server/campaigns.c) maps documents to these
 * structs and back.
 */
#ifndef RULES_CAMPAIGN_H
#define RULES_CAMPAIGN_H

#include <stddef.h>

#include "rules/ruleset.h"

#define CAMPAIGN_XP_MAX 1000000000LL    /* most experience points a campaign holds */
#define CAMPAIGN_AMOUNT_MAX 1000000LL   /* largest single damage, heal or XP award */
#define CAMPAIGN_WARNINGS_MAX 8
#define CAMPAIGN_WARNING_TEXT 200

/* Where an item can be equipped. */
enum campaign_slot { CAMPAIGN_ARMOR, CAMPAIGN_SHIELD, CAMPAIGN_MAIN_HAND, CAMPAIGN_OFF_HAND, CAMPAIGN_SLOTS };

/* What kind of protection an item is. */
enum campaign_armor_kind { CAMPAIGN_NOT_ARMOR, CAMPAIGN_LIGHT, CAMPAIGN_MEDIUM, CAMPAIGN_HEAVY, CAMPAIGN_SHIELD_ITEM };

/* The facts of one item the rules need (an SRD item or a custom one, mapped by the caller). */
struct campaign_item {
    const char *ref;                 /* SRD equipment index or custom item id (borrowed) */
    const char *name;                /* borrowed */
    const char *equip_type;          /* one of the 16 original types (borrowed) */
    double weight;                   /* pounds, each */
    enum campaign_armor_kind armor;  /* CAMPAIGN_NOT_ARMOR for everything but armor and shields */
    int ac_base;                     /* armor: base AC; a shield: the bonus it adds */
    int dex_cap;                     /* armor: -1 full DEX modifier, 0 none, n: at most n */
    int str_minimum;                 /* 0: none */
};

/* The character as the campaign rules see it (from its stored sheet). */
struct campaign_character {
    int score[6];                  /* str, dex, con, int, wis, cha */
    int max_hp;
    int level;                     /* total character level */
    int speed;                     /* walking speed, feet */
    int proficient[4];             /* by armor kind - 1: light, medium, heavy, shields */
    int unarmored_ac;              /* best AC wearing no armor and no shield */
    int unarmored_ac_with_shield;  /* best AC wearing no armor, before a shield's bonus (monk loses his) */
    int heavy_armor_no_speed_penalty; /* dwarves: heavy armor without the strength costs no speed */
};

struct campaign_warning {
    const char *code;   /* armor_not_proficient, shield_not_proficient, strength_requirement, encumbered, ... */
    const char *field;  /* equipped.armor, equipped.shield, carried_weight */
    char message[CAMPAIGN_WARNING_TEXT];
};

/* What a campaign response carries beside its stored state. */
struct campaign_derived {
    int armor_class;
    double carried_weight;     /* pounds: the equipped items and the pack */
    int carrying_capacity;     /* 15 x STR */
    int push_drag_lift;        /* 30 x STR */
    const char *encumbrance;   /* "none", "encumbered", "heavily-encumbered", "over-capacity" */
    int speed;                 /* after the strength and encumbrance penalties; 5 when over capacity */
    struct campaign_warning warnings[CAMPAIGN_WARNINGS_MAX];
    size_t nwarnings;
};

/* "armor", "shield", "main_hand", "off_hand"; NULL for an out-of-range slot. */
const char *campaign_slot_name(enum campaign_slot slot);

/* The slot named `name`, or -1. */
int campaign_slot_parse(const char *name);

/* The ability modifier of a score: floor((score - 10) / 2). */
int campaign_modifier(int score);

/*
 * Whether `item` may go in `slot`: armor only in the armor slot, a shield
 * only in the shield slot, anything else (weapons, tools, gear) only in a
 * hand. 1 or 0.
 */
int campaign_slot_accepts(enum campaign_slot slot, const struct campaign_item *item);

/*
 * The armor facts of SRD item `eq` into it->armor, ac_base, dex_cap and
 * str_minimum (CAMPAIGN_NOT_ARMOR when it is none); name, ref, equip_type and
 * weight from the item as well.
 */
void campaign_item_from_srd(const struct rs_equipment *eq, struct campaign_item *it);

/*
 * The best armor class wearing no armor: 10 + DEX, a class's unarmored
 * defense (10 + DEX + its ability) or a subclass's base + DEX, whichever is
 * highest, for a character with class indexes classes[0..n) (unknown ones
 * are skipped) and ability scores `score`. with_shield: only the defenses a
 * shield does not end (the monk's does; the barbarian's and Draconic
 * Resilience's do not), before the shield's own bonus.
 */
int campaign_unarmored_ac(const struct ruleset *rs, const char *const *classes, size_t n, const int score[6],
                          int with_shield);

/*
 * Everything derived from the character, the equipped items (slots may be
 * NULL) and the weight of the pack: armor class, carried weight, capacity,
 * encumbrance, speed and the warnings (missing armor or shield proficiency,
 * armor heavier than the character's strength, encumbrance). An item in a
 * slot that does not accept it (campaign_slot_accepts) adds its weight only.
 */
void campaign_derive(const struct campaign_character *c, const struct campaign_item *const equipped[CAMPAIGN_SLOTS],
                     double pack_weight, struct campaign_derived *out);

/* The encumbrance band of `weight` pounds for strength `str` (see campaign_derived). */
const char *campaign_encumbrance(double weight, int str);

/*
 * Hit points after `damage` or `heal` (each 0..CAMPAIGN_AMOUNT_MAX; both may
 * be given: damage first), clamped to 0..max_hp.
 */
int campaign_hp_apply(int current, int max_hp, long long damage, long long heal);

/* The character level `xp` experience points reach on the XP table (1..20). */
int campaign_level_for_xp(const struct ruleset *rs, long long xp);

/* Experience points needed for the level after `level`, or -1 at the top of the table. */
long long campaign_next_level_xp(const struct ruleset *rs, int level);

#endif
