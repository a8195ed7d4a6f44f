/*
 * rules/campaign.c - see campaign.h. The SRD numbers used here: armor class
 * (light armor: base + DEX; medium: base + DEX up to +2; heavy: base; a
 * shield adds its bonus), carrying capacity 15 x STR and push/drag/lift
 * 30 x STR, the variant encumbrance bands (over 5 x STR: speed -10; over
 * 10 x STR: speed -20), heavy armor whose strength minimum is unmet (speed
 * -10), and armor worn without proficiency. Pure: no I/O.
 */
#include "rules/campaign.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static const char *const slot_names[CAMPAIGN_SLOTS] = {"armor", "shield", "main_hand", "off_hand"};

/*
 * The unarmored defenses a shield ends, by class index. The SRD's Monk
 * Unarmored Defense needs "no armor and no shield"; the Barbarian's allows a
 * shield, and so does the Draconic Bloodline's Draconic Resilience.
 */
static const char *const shield_ends_unarmored_defense[] = {"monk", NULL};

const char *campaign_slot_name(enum campaign_slot slot)
{
    return (unsigned)slot < CAMPAIGN_SLOTS ? slot_names[slot] : NULL;
}

int campaign_slot_parse(const char *name)
{
    for (int i = 0; name != NULL && i < CAMPAIGN_SLOTS; i++)
        if (strcmp(name, slot_names[i]) == 0)
            return i;
    return -1;
}

int campaign_modifier(int score)
{
    int d = score - 10;
    return d >= 0 ? d / 2 : -((-d + 1) / 2);
}

int campaign_slot_accepts(enum campaign_slot slot, const struct campaign_item *item)
{
    switch (slot) {
    case CAMPAIGN_ARMOR:
        return item->armor == CAMPAIGN_LIGHT || item->armor == CAMPAIGN_MEDIUM || item->armor == CAMPAIGN_HEAVY;
    case CAMPAIGN_SHIELD:
        return item->armor == CAMPAIGN_SHIELD_ITEM;
    case CAMPAIGN_MAIN_HAND:
    case CAMPAIGN_OFF_HAND:
        return item->armor == CAMPAIGN_NOT_ARMOR;
    default:
        return 0;
    }
}

void campaign_item_from_srd(const struct rs_equipment *eq, struct campaign_item *it)
{
    memset(it, 0, sizeof(*it));
    it->ref = eq->index;
    it->name = eq->name;
    it->equip_type = eq->equip_type;
    it->weight = eq->has_weight ? eq->weight : 0;
    const struct rs_armor *a = eq->armor;
    if (a == NULL)
        return;
    static const struct {
        const char *category;
        enum campaign_armor_kind kind;
    } kinds[] = {{"light", CAMPAIGN_LIGHT}, {"medium", CAMPAIGN_MEDIUM}, {"heavy", CAMPAIGN_HEAVY},
                 {"shield", CAMPAIGN_SHIELD_ITEM}};
    for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
        if (a->category != NULL && strcmp(a->category, kinds[i].category) == 0)
            it->armor = kinds[i].kind;
    it->ac_base = a->base;
    it->dex_cap = !a->dex_bonus ? 0 : a->max_bonus > 0 ? a->max_bonus : -1;
    it->str_minimum = a->str_minimum;
}

static int shield_ends(const char *class_index)
{
    for (size_t i = 0; shield_ends_unarmored_defense[i] != NULL; i++)
        if (strcmp(class_index, shield_ends_unarmored_defense[i]) == 0)
            return 1;
    return 0;
}

int campaign_unarmored_ac(const struct ruleset *rs, const char *const *classes, size_t n, const int score[6],
                          int with_shield)
{
    int dex = campaign_modifier(score[1]);
    int best = 10 + dex;
    for (size_t i = 0; i < n; i++) {
        const struct rs_class *c = ruleset_class(rs, classes[i]);
        if (c == NULL)
            continue;
        int pos = c->unarmored_defense != NULL ? ruleset_ability_pos(rs, c->unarmored_defense) : -1;
        if (pos >= 0 && pos < 6 && !(with_shield && shield_ends(c->index))) {
            int x = 10 + dex + campaign_modifier(score[pos]);
            if (x > best)
                best = x;
        }
        if (c->subclass_effects.unarmored_ac_base > 0 && c->subclass_effects.unarmored_ac_base + dex > best)
            best = c->subclass_effects.unarmored_ac_base + dex;
    }
    return best;
}

const char *campaign_encumbrance(double weight, int str)
{
    if (weight > 15.0 * str)
        return "over-capacity";
    if (weight > 10.0 * str)
        return "heavily-encumbered";
    if (weight > 5.0 * str)
        return "encumbered";
    return "none";
}

static void warn(struct campaign_derived *d, const char *code, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void warn(struct campaign_derived *d, const char *code, const char *field, const char *fmt, ...)
{
    if (d->nwarnings >= CAMPAIGN_WARNINGS_MAX)
        return;
    struct campaign_warning *w = &d->warnings[d->nwarnings++];
    w->code = code;
    w->field = field;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(w->message, sizeof(w->message), fmt, ap);
    va_end(ap);
}

void campaign_derive(const struct campaign_character *c, const struct campaign_item *const equipped[CAMPAIGN_SLOTS],
                     double pack_weight, struct campaign_derived *out)
{
    memset(out, 0, sizeof(*out));
    const struct campaign_item *armor = equipped[CAMPAIGN_ARMOR], *shield = equipped[CAMPAIGN_SHIELD];
    /* Only armor protects from the armor slot and only a shield from the shield slot (a stored document
     * may say otherwise); anything else there still weighs. */
    if (armor != NULL && !campaign_slot_accepts(CAMPAIGN_ARMOR, armor))
        armor = NULL;
    if (shield != NULL && !campaign_slot_accepts(CAMPAIGN_SHIELD, shield))
        shield = NULL;
    int dex = campaign_modifier(c->score[1]);
    int str = c->score[0];
    int speed = c->speed;
    if (armor != NULL) {
        /* dex_cap 0 (heavy armor): DEX neither adds nor, when negative, takes away. */
        int bonus = armor->dex_cap < 0 ? dex : armor->dex_cap == 0 ? 0 : dex < armor->dex_cap ? dex : armor->dex_cap;
        out->armor_class = armor->ac_base + bonus;
        if (!c->proficient[armor->armor - 1])
            warn(out, "armor_not_proficient", "equipped.armor",
                 "not proficient with %s: disadvantage on ability checks, saving throws and attack rolls that use "
                 "STR or DEX, and no spellcasting",
                 armor->name);
        if (armor->str_minimum > 0 && str < armor->str_minimum) {
            if (!c->heavy_armor_no_speed_penalty)
                speed -= 10;
            warn(out, "strength_requirement", "equipped.armor",
                 c->heavy_armor_no_speed_penalty ? "%s needs STR %d; this character's race ignores the speed penalty"
                                                 : "%s needs STR %d: speed is reduced by 10 feet",
                 armor->name, armor->str_minimum);
        }
    } else {
        out->armor_class = shield != NULL ? c->unarmored_ac_with_shield : c->unarmored_ac;
    }
    if (shield != NULL) {
        out->armor_class += shield->ac_base;
        if (!c->proficient[CAMPAIGN_SHIELD_ITEM - 1])
            warn(out, "shield_not_proficient", "equipped.shield",
                 "not proficient with %s: disadvantage on ability checks, saving throws and attack rolls that use STR "
                 "or DEX, and no spellcasting",
                 shield->name);
    }
    double carried = pack_weight;
    for (int i = 0; i < CAMPAIGN_SLOTS; i++)
        if (equipped[i] != NULL)
            carried += equipped[i]->weight;
    out->carried_weight = carried;
    out->carrying_capacity = 15 * str;
    out->push_drag_lift = 30 * str;
    out->encumbrance = campaign_encumbrance(carried, str);
    if (strcmp(out->encumbrance, "encumbered") == 0) {
        speed -= 10;
        warn(out, "encumbered", "carried_weight", "carrying more than %d lb (5 x STR): speed is reduced by 10 feet", 5 * str);
    } else if (strcmp(out->encumbrance, "heavily-encumbered") == 0) {
        speed -= 20;
        warn(out, "heavily_encumbered", "carried_weight",
             "carrying more than %d lb (10 x STR): speed -20 feet, disadvantage on ability checks, attack rolls "
             "and saving throws that use STR, DEX or CON",
             10 * str);
    } else if (strcmp(out->encumbrance, "over-capacity") == 0) {
        speed = 5;
        warn(out, "over_capacity", "carried_weight",
             "carrying more than the capacity of %d lb (15 x STR): the character can only push, drag or lift, up to "
             "%d lb, at 5 feet of speed",
             15 * str, 30 * str);
    }
    out->speed = speed < 0 ? 0 : speed;
}

int campaign_hp_apply(int current, int max_hp, long long damage, long long heal)
{
    long long hp = current;
    if (damage > 0)
        hp -= damage > CAMPAIGN_AMOUNT_MAX ? CAMPAIGN_AMOUNT_MAX : damage;
    if (hp < 0)
        hp = 0;
    if (heal > 0)
        hp += heal > CAMPAIGN_AMOUNT_MAX ? CAMPAIGN_AMOUNT_MAX : heal;
    if (hp > max_hp)
        hp = max_hp;
    return hp < 0 ? 0 : (int)hp;
}

int campaign_level_for_xp(const struct ruleset *rs, long long xp)
{
    int level = 1;
    for (int i = 0; i < RULESET_LEVELS; i++)
        if (rs->xp[i].level > level && xp >= rs->xp[i].xp)
            level = rs->xp[i].level;
    return level;
}

long long campaign_next_level_xp(const struct ruleset *rs, int level)
{
    for (int i = 0; i < RULESET_LEVELS; i++)
        if (rs->xp[i].level == level + 1)
            return rs->xp[i].xp;
    return -1;
}
