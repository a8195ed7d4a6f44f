/*
 * rules/charsheet.c - see charsheet.h. Every number of the sheet from the
 * resolved build: scores and modifiers, proficiency bonus by total level, hit
 * points and hit dice, unarmored armor class, saves, the 18 skills, and the
 * reference lists (languages, proficiencies, traits, features). Strings point
 * into the ruleset or the build. No allocation.
 */
#include "rules/charsheet.h"

#include <stdio.h>
#include <string.h>

static int pos_of(const struct ruleset *rs, const char *ability)
{
    int p = ruleset_ability_pos(rs, ability);
    return p >= 0 && p < RULESET_ABILITIES ? p : -1;
}

static int mod_of(const struct sheet *out, const struct ruleset *rs, const char *ability)
{
    int p = pos_of(rs, ability);
    return p >= 0 ? out->abilities[p].modifier : 0;
}

/* Append a reference unless the list already holds `index` or is full. */
static void add_ref(struct sheet_refs *l, const char *index, const char *name, const char *resource, int level,
                    const char *class_index)
{
    if (index == NULL)
        return;
    for (size_t i = 0; i < l->n; i++)
        if (strcmp(l->v[i].index, index) == 0)
            return;
    if (l->n >= SHEET_REFS_MAX)
        return;
    l->v[l->n++] = (struct sheet_ref){index, name ? name : index, resource, level, class_index};
}

static void add_prof(const struct ruleset *rs, struct sheet *out, const char *index)
{
    const struct rs_proficiency *p = ruleset_proficiency(rs, index);
    add_ref(&out->proficiencies, index, p ? p->name : index, "proficiencies", 0, NULL);
}

static void add_profs(const struct ruleset *rs, struct sheet *out, const struct rs_strs *s)
{
    for (size_t i = 0; i < s->n; i++)
        add_prof(rs, out, s->v[i]);
}

static void add_resistance(struct sheet *out, const char *type)
{
    if (type == NULL)
        return;
    for (size_t i = 0; i < out->nresistances; i++)
        if (strcmp(out->resistances[i], type) == 0)
            return;
    if (out->nresistances < sizeof(out->resistances) / sizeof(out->resistances[0]))
        out->resistances[out->nresistances++] = type;
}

static void scores(const struct charstate *st, struct sheet *out)
{
    for (int i = 0; i < RULESET_ABILITIES; i++) {
        struct sheet_ability *a = &out->abilities[i];
        a->base = st->base[i];
        a->bonus = st->bonus[i];
        a->score = charcheck_score(st, i);
        a->modifier = charcheck_modifier(a->score);
    }
}

/* Hit points: max die + CON at level 1, the average (or the roll of a level-up) + CON later, at least 1 a level. */
static void hit_points(const struct charstate *st, struct sheet *out)
{
    int con = mod_of(out, st->rs, "con"), hp = 0;
    int count[21] = {0};

    if (st->cls != NULL) {
        for (int lv = 1; lv <= st->level; lv++) {
            int part = (lv == 1 ? st->cls->hit_die : charcheck_average(st->cls->hit_die)) + con;
            hp += part < 1 ? 1 : part;
        }
        if (st->cls->hit_die >= 1 && st->cls->hit_die <= 20)
            count[st->cls->hit_die] += st->level;
    }
    for (size_t j = 0; j < st->nsteps; j++) {
        const struct rs_class *c = st->steps[j].cls;
        int part = (st->steps[j].hit_points ? st->steps[j].hit_points : charcheck_average(c->hit_die)) + con;
        hp += part < 1 ? 1 : part;
        if (c->hit_die >= 1 && c->hit_die <= 20)
            count[c->hit_die]++;
    }
    const struct rs_trait *t;
    for (size_t i = 0; st->race != NULL && i < st->race->ntraits; i++)
        if ((t = &st->race->traits[i])->effects.hp_per_level)
            hp += t->effects.hp_per_level * out->level;
    for (size_t i = 0; st->subrace != NULL && i < st->subrace->ntraits; i++)
        if ((t = &st->subrace->traits[i])->effects.hp_per_level)
            hp += t->effects.hp_per_level * out->level;
    for (size_t i = 0; i < st->nclasses; i++)
        if (st->classes[i].subclass != NULL)
            hp += st->classes[i].cls->subclass_effects.hp_per_level * st->classes[i].level;
    out->hp_max = hp;

    size_t len = 0;
    for (int d = 20; d >= 1; d--)
        if (count[d] > 0 && len < sizeof(out->hit_dice))
            len += (size_t)snprintf(out->hit_dice + len, sizeof(out->hit_dice) - len, "%s%dd%d", len ? " + " : "",
                                    count[d], d);
}

/* Unarmored: 10 + DEX, or a class's unarmored defense, or a subclass's base + DEX; the best. */
static void armor_class(const struct charstate *st, struct sheet *out)
{
    int dex = mod_of(out, st->rs, "dex");
    int ac = 10 + dex;
    for (size_t i = 0; i < st->nclasses; i++) {
        const struct rs_class *c = st->classes[i].cls;
        if (c->unarmored_defense != NULL && pos_of(st->rs, c->unarmored_defense) >= 0) {
            int x = 10 + dex + mod_of(out, st->rs, c->unarmored_defense);
            ac = x > ac ? x : ac;
        }
        if (st->classes[i].subclass != NULL && c->subclass_effects.unarmored_ac_base > 0) {
            int x = c->subclass_effects.unarmored_ac_base + dex;
            ac = x > ac ? x : ac;
        }
    }
    out->armor_class = ac;
}

static void saves_and_skills(const struct charstate *st, struct sheet *out)
{
    const struct ruleset *rs = st->rs;
    for (int i = 0; i < RULESET_ABILITIES && (size_t)i < rs->nabilities; i++) {
        int prof = st->cls != NULL && charcheck_in(&st->cls->saving_throws, rs->abilities[i].index);
        out->saves[i].proficient = prof;
        out->saves[i].modifier = out->abilities[i].modifier + (prof ? out->proficiency_bonus : 0);
    }
    out->passive_perception = 10 + mod_of(out, rs, "wis");
    for (size_t i = 0; i < rs->nskills && i < BUILD_LIST_MAX && i < CHAR_SKILLS_MAX; i++) {
        struct sheet_skill *s = &out->skills[out->nskills++];
        s->skill = &rs->skills[i];
        s->proficient = st->skill[i];
        s->modifier = mod_of(out, rs, s->skill->ability) + (s->proficient ? out->proficiency_bonus : 0);
        if (strcmp(s->skill->index, "perception") == 0)
            out->passive_perception = 10 + s->modifier;
    }
}

static void proficiencies(const struct charstate *st, struct sheet *out)
{
    const struct ruleset *rs = st->rs;
    const struct build *b = st->b;

    if (st->cls != NULL) {
        add_profs(rs, out, &st->cls->armor);
        add_profs(rs, out, &st->cls->weapons);
        add_profs(rs, out, &st->cls->tools);
        const struct rs_choice *tc = &st->cls->tool_choices;
        for (size_t i = 0; tc->count > 0 && i < b->choices.instruments.n; i++)
            if (charcheck_tool_allowed(rs, &tc->from, b->choices.instruments.v[i]))
                add_prof(rs, out, b->choices.instruments.v[i]);
        if (tc->count > 0 && charcheck_tool_allowed(rs, &tc->from, b->choices.artisan_or_instrument))
            add_prof(rs, out, b->choices.artisan_or_instrument);
    }
    for (size_t j = 0; j < st->nsteps; j++) {
        const struct charstep *s = &st->steps[j];
        if (!s->new_class)
            continue;
        add_profs(rs, out, &s->cls->multiclass.proficiencies);
        for (size_t i = 0; s->entry != NULL && i < s->entry->tools.n; i++)
            if (charcheck_tool_allowed(rs, &s->cls->multiclass.tool_choices.from, s->entry->tools.v[i]))
                add_prof(rs, out, s->entry->tools.v[i]);
    }
    for (int k = 0; k < 2; k++) {
        const struct rs_trait *t =
            k == 0 ? (st->race ? st->race->traits : NULL) : (st->subrace ? st->subrace->traits : NULL);
        size_t n = k == 0 ? (st->race ? st->race->ntraits : 0) : (st->subrace ? st->subrace->ntraits : 0);
        for (size_t i = 0; i < n; i++) {
            add_profs(rs, out, &t[i].effects.armor_proficiencies);
            add_profs(rs, out, &t[i].effects.weapon_proficiencies);
            add_profs(rs, out, &t[i].effects.tool_proficiencies);
            if (t[i].effects.tool_choices.count > 0 &&
                charcheck_tool_allowed(rs, &t[i].effects.tool_choices.from, b->choices.tool))
                add_prof(rs, out, b->choices.tool);
        }
    }
    for (size_t i = 0; i < st->nclasses; i++)
        if (st->classes[i].subclass != NULL)
            add_profs(rs, out, &st->classes[i].cls->subclass_effects.proficiencies);
    for (size_t i = 0; b->custom_background && i < b->custom.tools.n; i++)
        add_prof(rs, out, b->custom.tools.v[i]);
}

static void traits_and_resistances(const struct charstate *st, struct sheet *out)
{
    for (int k = 0; k < 2; k++) {
        const struct rs_trait *t =
            k == 0 ? (st->race ? st->race->traits : NULL) : (st->subrace ? st->subrace->traits : NULL);
        size_t n = k == 0 ? (st->race ? st->race->ntraits : 0) : (st->subrace ? st->subrace->ntraits : 0);
        for (size_t i = 0; i < n; i++) {
            add_ref(&out->traits, t[i].index, t[i].name, "traits", 0, NULL);
            if (t[i].effects.darkvision > out->darkvision)
                out->darkvision = t[i].effects.darkvision;
            for (size_t j = 0; j < t[i].effects.resistances.n; j++) {
                const char *r = t[i].effects.resistances.v[j];
                if (strcmp(r, "ancestry") == 0)
                    add_resistance(out, st->ancestry ? st->ancestry->damage_type : NULL);
                else
                    add_resistance(out, r);
            }
        }
    }
}

static void features(const struct charstate *st, struct sheet *out)
{
    for (size_t i = 0; i < st->nclasses; i++) {
        const struct sheet_class *c = &st->classes[i];
        for (int lv = 1; lv <= c->level; lv++) {
            const struct rs_class_level *row = ruleset_class_level(c->cls, lv);
            for (int k = 0; row != NULL && k < 2; k++) {
                const struct rs_strs *s = k == 0 ? &row->features : &row->subclass_features;
                if (k == 1 && c->subclass == NULL)
                    break;
                for (size_t j = 0; j < s->n; j++) {
                    const struct rs_feature *f = ruleset_feature(st->rs, s->v[j]);
                    add_ref(&out->features, s->v[j], f ? f->name : s->v[j], "features", lv, c->cls->index);
                }
            }
        }
    }
}

void charsheet_derive(const struct charstate *st, struct sheet *out)
{
    const struct ruleset *rs = st->rs;

    memset(out, 0, sizeof(*out));
    out->complete = st->race != NULL && st->cls != NULL && st->scores_ok;
    out->race = st->race;
    out->subrace = st->subrace;
    out->background = st->background;
    out->custom_background_name = st->b->custom_background ? st->b->custom.name : NULL;
    out->alignment = st->alignment;
    out->ancestry = st->ancestry;
    out->level = st->total < 1 ? 1 : st->total > RULESET_LEVELS ? RULESET_LEVELS : st->total;
    out->experience_points = rs->xp[out->level - 1].xp;
    out->proficiency_bonus = rs->xp[out->level - 1].proficiency_bonus;
    if (out->proficiency_bonus == 0)
        out->proficiency_bonus = 2 + (out->level - 1) / 4;
    scores(st, out);
    memcpy(out->classes, st->classes, st->nclasses * sizeof(st->classes[0]));
    out->nclasses = st->nclasses;
    hit_points(st, out);
    armor_class(st, out);
    out->initiative = mod_of(out, rs, "dex");
    out->speed = st->race ? st->race->speed : 0;
    out->size = st->race ? (st->race->small ? "Small" : "Medium") : NULL;
    saves_and_skills(st, out);
    for (size_t i = 0; i < rs->nlanguages && i < CHAR_LANGUAGES_MAX; i++)
        if (st->language[i])
            add_ref(&out->languages, rs->languages[i].index, rs->languages[i].name, "languages", 0, NULL);
    proficiencies(st, out);
    traits_and_resistances(st, out);
    features(st, out);
    memcpy(out->roll_nonce, st->roll_nonce, sizeof(out->roll_nonce));
}
