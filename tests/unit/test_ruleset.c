/*
 * tests/unit/test_ruleset.c - the SRD data files and their loader
 * (rules/ruleset.c): the shipped rules/data/ loads with the SRD's counts and a
 * handful of facts checked by hand against the SRD; broken copies written to a
 * temporary folder (an unknown key, a dangling reference, a wrong count, a
 * string over the bound) fail with FILE:LINE:COL; and a cross-check of races,
 * subraces, classes, levels and skills against the public 5e-database JSON in
 * $top_srcdir/../shared/reference/5e-database-2014 (skipped when absent), which
 * lists every disagreement.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "common/err.h"
#include "rules/ruleset.h"

static const char *const data_files[] = {"abilities.yaml", "alignments.yaml", "backgrounds.yaml", "classes.yaml",
                                         "languages.yaml", "races.yaml",      "skills.yaml",      "xp.yaml"};
#define NFILES (sizeof(data_files) / sizeof(data_files[0]))

static const char *top_srcdir(void)
{
    const char *s = getenv("top_srcdir");
    return s != NULL && *s ? s : ".";
}

static struct ruleset *load_shipped(void)
{
    char dir[4096];
    struct ruleset *rs = NULL;
    struct err e = {0};
    snprintf(dir, sizeof(dir), "%s/rules/data", top_srcdir());
    int rc = ruleset_load(dir, &rs, &e);
    if (rc != 0)
        fail_msg("loading %s: %s", dir, e.msg);
    return rs;
}

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    char *buf;
    long n;
    if (f == NULL)
        return NULL;
    fseek(f, 0, SEEK_END);
    n = ftell(f);
    rewind(f);
    buf = malloc((size_t)n + 1);
    assert_non_null(buf);
    assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

static void spit(const char *path, const char *text)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(text, 1, strlen(text), f), strlen(text));
    fclose(f);
}

/* A temporary copy of rules/data in `dir` (size 64). */
static void copy_data(char *dir)
{
    char src[4096], dst[4096];
    strcpy(dir, "/tmp/test_ruleset.XXXXXX");
    assert_non_null(mkdtemp(dir));
    for (size_t i = 0; i < NFILES; i++) {
        snprintf(src, sizeof(src), "%s/rules/data/%s", top_srcdir(), data_files[i]);
        snprintf(dst, sizeof(dst), "%s/%s", dir, data_files[i]);
        char *text = slurp(src);
        assert_non_null(text);
        spit(dst, text);
        free(text);
    }
}

static void remove_data(const char *dir)
{
    char p[4096];
    for (size_t i = 0; i < NFILES; i++) {
        snprintf(p, sizeof(p), "%s/%s", dir, data_files[i]);
        unlink(p);
    }
    rmdir(dir);
}

/* Replace the first `old` in dir/file by `new`; returns the 1-based line where it was. */
static int patch(const char *dir, const char *file, const char *old, const char *new)
{
    char p[4096];
    snprintf(p, sizeof(p), "%s/%s", dir, file);
    char *text = slurp(p);
    assert_non_null(text);
    char *at = strstr(text, old);
    assert_non_null(at);
    int line = 1;
    for (const char *q = text; q < at; q++)
        line += *q == '\n';
    size_t head = (size_t)(at - text), ol = strlen(old), nl = strlen(new), tl = strlen(text);
    char *out = malloc(tl - ol + nl + 1);
    assert_non_null(out);
    memcpy(out, text, head);
    memcpy(out + head, new, nl);
    memcpy(out + head + nl, at + ol, tl - head - ol + 1);
    spit(p, out);
    free(out);
    free(text);
    return line;
}

/* Load the patched copy; it must fail with `code` and a message holding `want`. */
static void expect_failure(const char *dir, int code, const char *want)
{
    struct ruleset *rs = (struct ruleset *)1;
    struct err e = {0};
    int rc = ruleset_load(dir, &rs, &e);
    assert_null(rs);
    if (rc != code || strstr(e.msg, want) == NULL)
        fail_msg("expected %d with \"%s\", got %d: %s", code, want, rc, e.msg);
}

/* ---- the shipped data --------------------------------------------------- */

static void test_counts(void **state)
{
    (void)state;
    struct ruleset *rs = load_shipped();
    assert_int_equal(rs->nabilities, 6);
    assert_int_equal(rs->nskills, 18);
    assert_int_equal(rs->nalignments, 9);
    assert_int_equal(rs->nlanguages, 16);
    assert_int_equal(rs->nraces, 9);
    assert_int_equal(rs->nsubraces, 4);
    assert_int_equal(rs->nancestries, 10);
    assert_int_equal(rs->nclasses, 12);
    assert_int_equal(rs->nbackgrounds, 1);
    size_t exotic = 0;
    for (size_t i = 0; i < rs->nlanguages; i++)
        exotic += (size_t)rs->languages[i].exotic;
    assert_int_equal(exotic, 8);
    ruleset_free(rs);
}

static void test_hand_checked_facts(void **state)
{
    (void)state;
    struct ruleset *rs = load_shipped();
    int wis = ruleset_ability_pos(rs, "wis"), con = ruleset_ability_pos(rs, "con");
    assert_true(wis >= 0 && con >= 0);

    const struct rs_subrace *hill = ruleset_subrace(rs, "hill-dwarf");
    assert_non_null(hill);
    assert_string_equal(hill->race, "dwarf");
    assert_int_equal(hill->ability_bonuses[wis], 1);
    int hp = 0;
    for (size_t i = 0; i < hill->ntraits; i++)
        hp += hill->traits[i].effects.hp_per_level;
    assert_int_equal(hp, 1);

    const struct rs_race *dwarf = ruleset_race(rs, "dwarf");
    assert_non_null(dwarf);
    assert_int_equal(dwarf->speed, 25);
    assert_int_equal(dwarf->small, 0);
    assert_int_equal(dwarf->ability_bonuses[con], 2);
    int dv = 0;
    for (size_t i = 0; i < dwarf->ntraits; i++)
        if (dwarf->traits[i].effects.darkvision > dv)
            dv = dwarf->traits[i].effects.darkvision;
    assert_int_equal(dv, 60);

    const struct rs_class *cleric = ruleset_class(rs, "cleric");
    assert_non_null(cleric);
    assert_int_equal(cleric->hit_die, 8);
    assert_int_equal(cleric->saving_throws.n, 2);
    assert_string_equal(cleric->saving_throws.v[0], "wis");
    assert_string_equal(cleric->saving_throws.v[1], "cha");
    assert_int_equal(cleric->subclass_level, 1);
    assert_string_equal(cleric->subclass_index, "life");
    assert_int_equal(cleric->skill_choices.count, 2);

    const struct rs_class *fighter = ruleset_class(rs, "fighter");
    assert_non_null(fighter);
    assert_true(ruleset_class_level(fighter, 6)->asi);
    assert_true(ruleset_class_level(fighter, 14)->asi);
    assert_false(ruleset_class_level(fighter, 10)->asi);
    assert_true(fighter->multiclass.any_of);
    assert_int_equal(fighter->multiclass.nprereqs, 2);
    const struct rs_class *rogue = ruleset_class(rs, "rogue");
    assert_true(ruleset_class_level(rogue, 10)->asi);
    assert_false(ruleset_class_level(rogue, 6)->asi);
    const struct rs_class *wizard = ruleset_class(rs, "wizard");
    assert_false(ruleset_class_level(wizard, 6)->asi);
    assert_true(ruleset_class_level(wizard, 19)->asi);

    for (size_t c = 0; c < rs->nclasses; c++)
        for (int l = 1; l <= 20; l++) {
            int want = l <= 4 ? 2 : l >= 17 ? 6 : 0;
            if (want != 0)
                assert_int_equal(ruleset_class_level(&rs->classes[c], l)->proficiency_bonus, want);
        }
    assert_int_equal(rs->xp[1].level, 2);
    assert_int_equal(rs->xp[1].xp, 300);
    assert_int_equal(rs->xp[19].xp, 355000);

    const struct rs_skill *ah = ruleset_skill(rs, "animal-handling");
    assert_non_null(ah);
    assert_string_equal(ah->ability, "wis");
    assert_non_null(ruleset_alignment(rs, "lawful-good"));
    assert_true(ruleset_language(rs, "deep-speech")->exotic);
    assert_false(ruleset_language(rs, "dwarvish")->exotic);
    const struct rs_background *aco = ruleset_background(rs, "acolyte");
    assert_non_null(aco);
    assert_int_equal(aco->language_choices, 2);
    assert_int_equal(aco->skill_proficiencies.n, 2);
    assert_true(ruleset_ancestry(rs, "green")->cone);
    assert_string_equal(ruleset_ancestry(rs, "green")->save, "con");
    ruleset_free(rs);
}

static void test_lookup_misses(void **state)
{
    (void)state;
    struct ruleset *rs = load_shipped();
    assert_null(ruleset_race(rs, "hill-dwarf")); /* a subrace, not a race */
    assert_null(ruleset_class(rs, "artificer"));
    assert_null(ruleset_skill(rs, NULL));
    assert_null(ruleset_ability(rs, "STR"));
    assert_int_equal(ruleset_ability_pos(rs, "luck"), -1);
    assert_null(ruleset_class_level(ruleset_class(rs, "bard"), 0));
    assert_null(ruleset_class_level(ruleset_class(rs, "bard"), 21));
    assert_null(ruleset_class_level(NULL, 1));
    assert_int_equal(ruleset_class_level(ruleset_class(rs, "bard"), 20)->level, 20);
    ruleset_free(rs);
    ruleset_free(NULL);
}

/* ---- broken copies ------------------------------------------------------ */

static void test_unknown_key(void **state)
{
    (void)state;
    char dir[64], want[128];
    copy_data(dir);
    int line = patch(dir, "races.yaml", "    speed: 25\n", "    speed: 25\n    colour: red\n");
    snprintf(want, sizeof(want), "races.yaml:%d:5: unknown key \"colour\" in a race", line + 1);
    expect_failure(dir, ERR_INVALID, want);
    remove_data(dir);
}

static void test_dangling_subrace(void **state)
{
    (void)state;
    char dir[64], want[128];
    copy_data(dir);
    int line = patch(dir, "races.yaml", "    race: dwarf\n", "    race: dwarff\n");
    snprintf(want, sizeof(want), "races.yaml:%d:11: race \"dwarff\" is not a known race", line);
    expect_failure(dir, ERR_INVALID, want);
    remove_data(dir);
}

static void test_dangling_skill_references(void **state)
{
    (void)state;
    char dir[64];
    copy_data(dir);
    patch(dir, "skills.yaml", "ability: wis}", "ability: wit}");
    patch(dir, "classes.yaml", "from: [history, insight,", "from: [cooking, insight,");
    expect_failure(dir, ERR_INVALID, "ability \"wit\" is not a known ability");
    expect_failure(dir, ERR_INVALID, "from \"cooking\" is not a known skill");
    remove_data(dir);
}

static void test_wrong_counts(void **state)
{
    (void)state;
    char dir[64];
    copy_data(dir);
    patch(dir, "skills.yaml", "  - {index: stealth, name: Stealth, ability: dex}\n", "");
    patch(dir, "classes.yaml", "      - {level: 20, proficiency_bonus: 6, asi: false, features: []}\n", "");
    expect_failure(dir, ERR_INVALID, "expected 18 skills, found 17");
    expect_failure(dir, ERR_INVALID, "expected 20 levels, found 19");
    remove_data(dir);
}

static void test_bounds_and_types(void **state)
{
    (void)state;
    char dir[64], big[300], repl[400];
    copy_data(dir);
    memset(big, 'x', 250);
    big[250] = '\0';
    snprintf(repl, sizeof(repl), "name: %s}", big);
    patch(dir, "abilities.yaml", "name: Strength}", repl);
    expect_failure(dir, ERR_TOO_LARGE, "abilities.yaml:5:24: name must be 1 to 200 bytes");
    remove_data(dir);

    copy_data(dir);
    patch(dir, "xp.yaml", "xp: 300,", "xp: lots,");
    patch(dir, "races.yaml", "size: small", "size: tiny");
    expect_failure(dir, ERR_INVALID, "xp must be an integer");
    expect_failure(dir, ERR_INVALID, "size must be small or medium, not \"tiny\"");
    remove_data(dir);

    copy_data(dir);
    patch(dir, "xp.yaml", "levels:", "levels: [\n");
    expect_failure(dir, ERR_INVALID, "xp.yaml:");
    remove_data(dir);

    copy_data(dir);
    char p[128];
    snprintf(p, sizeof(p), "%s/backgrounds.yaml", dir);
    unlink(p);
    expect_failure(dir, ERR_IO, "backgrounds.yaml");
    remove_data(dir);
}

/* ---- cross-check against 5e-database ------------------------------------ */

struct problems {
    char buf[16384];
    size_t len, n;
};

static void note(struct problems *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void note(struct problems *p, const char *fmt, ...)
{
    va_list ap;
    p->n++;
    if (p->len >= sizeof(p->buf) - 2)
        return;
    p->buf[p->len++] = '\n';
    va_start(ap, fmt);
    int k = vsnprintf(p->buf + p->len, sizeof(p->buf) - p->len, fmt, ap);
    va_end(ap);
    if (k > 0)
        p->len += (size_t)k < sizeof(p->buf) - p->len ? (size_t)k : sizeof(p->buf) - p->len - 1;
}

static json_t *load_json(const char *refdir, const char *name, struct problems *p)
{
    char path[4096];
    json_error_t je;
    snprintf(path, sizeof(path), "%s/%s", refdir, name);
    json_t *j = json_load_file(path, 0, &je);
    if (j == NULL || !json_is_array(j))
        note(p, "%s: cannot read a json array: %s", name, je.text);
    return j;
}

static const char *jidx(json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);
    if (json_is_object(v))
        v = json_object_get(v, "index");
    return json_string_value(v);
}

/* The 6 bonuses of a json ability_bonuses array, by ruleset position. */
static void json_bonuses(const struct ruleset *rs, json_t *arr, int *b, const char *who, struct problems *p)
{
    size_t i;
    json_t *x;
    memset(b, 0, RULESET_ABILITIES * sizeof(*b));
    json_array_foreach(arr, i, x)
    {
        int pos = ruleset_ability_pos(rs, jidx(x, "ability_score"));
        if (pos < 0)
            note(p, "%s: reference ability \"%s\" unknown", who, jidx(x, "ability_score"));
        else
            b[pos] = (int)json_integer_value(json_object_get(x, "bonus"));
    }
}

static void compare_bonuses(const struct ruleset *rs, const int *ours, const int *theirs, const char *who,
                            struct problems *p)
{
    for (size_t k = 0; k < RULESET_ABILITIES; k++)
        if (ours[k] != theirs[k])
            note(p, "%s: %s bonus %d, reference %d", who, rs->abilities[k].index, ours[k], theirs[k]);
}

/*
 * Known errors of the reference: its rogue ability_score_bonuses are not
 * cumulative after level 10 (3 at level 10, 2 at 11, 4 at 12, 3 at 13...), one
 * short at each non-ASI level past 10. The SRD's rogue gains ASIs at 4, 8, 10,
 * 12, 16 and 19, so the reference may be one short at these levels (and may
 * also be right, should it be fixed).
 */
static int reference_one_short(const char *cls, int level)
{
    static const int rogue[] = {11, 13, 14, 15, 17, 18, 20};
    if (cls == NULL || strcmp(cls, "rogue") != 0)
        return 0;
    for (size_t i = 0; i < sizeof(rogue) / sizeof(rogue[0]); i++)
        if (rogue[i] == level)
            return 1;
    return 0;
}

static void test_cross_check(void **state)
{
    (void)state;
    char refdir[4096];
    snprintf(refdir, sizeof(refdir), "%s/../shared/reference/5e-database-2014", top_srcdir());
    if (access(refdir, R_OK) != 0) {
        print_message("../shared absent: skipping the cross-check against 5e-database\n");
        skip();
    }
    struct ruleset *rs = load_shipped();
    struct problems *p = calloc(1, sizeof(*p));
    assert_non_null(p);
    json_t *races = load_json(refdir, "Races.json", p), *subraces = load_json(refdir, "Subraces.json", p);
    json_t *classes = load_json(refdir, "Classes.json", p), *levels = load_json(refdir, "Levels.json", p);
    json_t *skills = load_json(refdir, "Skills.json", p);
    size_t i;
    json_t *x;
    int theirs[RULESET_ABILITIES];

    if (json_array_size(races) != rs->nraces)
        note(p, "races: %zu, reference %zu", rs->nraces, json_array_size(races));
    json_array_foreach(races, i, x)
    {
        const char *idx = jidx(x, "index");
        const struct rs_race *r = ruleset_race(rs, idx);
        if (r == NULL) {
            note(p, "race %s: missing", idx);
            continue;
        }
        int speed = (int)json_integer_value(json_object_get(x, "speed"));
        if (r->speed != speed)
            note(p, "race %s: speed %d, reference %d", idx, r->speed, speed);
        const char *size = json_string_value(json_object_get(x, "size"));
        if (size == NULL || strcmp(size, r->small ? "Small" : "Medium") != 0)
            note(p, "race %s: size %s, reference %s", idx, r->small ? "Small" : "Medium", size ? size : "(none)");
        char who[128];
        snprintf(who, sizeof(who), "race %s", idx);
        json_bonuses(rs, json_object_get(x, "ability_bonuses"), theirs, who, p);
        compare_bonuses(rs, r->ability_bonuses, theirs, who, p);
    }

    if (json_array_size(subraces) != rs->nsubraces)
        note(p, "subraces: %zu, reference %zu", rs->nsubraces, json_array_size(subraces));
    json_array_foreach(subraces, i, x)
    {
        const char *idx = jidx(x, "index");
        const struct rs_subrace *s = ruleset_subrace(rs, idx);
        if (s == NULL) {
            note(p, "subrace %s: missing", idx);
            continue;
        }
        if (jidx(x, "race") == NULL || strcmp(jidx(x, "race"), s->race) != 0)
            note(p, "subrace %s: race %s, reference %s", idx, s->race, jidx(x, "race"));
        char who[128];
        snprintf(who, sizeof(who), "subrace %s", idx);
        json_bonuses(rs, json_object_get(x, "ability_bonuses"), theirs, who, p);
        compare_bonuses(rs, s->ability_bonuses, theirs, who, p);
    }

    if (json_array_size(classes) != rs->nclasses)
        note(p, "classes: %zu, reference %zu", rs->nclasses, json_array_size(classes));
    json_array_foreach(classes, i, x)
    {
        const char *idx = jidx(x, "index");
        const struct rs_class *c = ruleset_class(rs, idx);
        if (c == NULL) {
            note(p, "class %s: missing", idx);
            continue;
        }
        int hd = (int)json_integer_value(json_object_get(x, "hit_die"));
        if (c->hit_die != hd)
            note(p, "class %s: hit die %d, reference %d", idx, c->hit_die, hd);
        json_t *saves = json_object_get(x, "saving_throws"), *sv;
        size_t j;
        if (json_array_size(saves) != c->saving_throws.n)
            note(p, "class %s: %zu saving throws, reference %zu", idx, c->saving_throws.n, json_array_size(saves));
        json_array_foreach(saves, j, sv)
        {
            int found = 0;
            for (size_t k = 0; k < c->saving_throws.n; k++)
                found |= jidx(sv, "index") != NULL && strcmp(c->saving_throws.v[k], jidx(sv, "index")) == 0;
            if (!found)
                note(p, "class %s: lacks the %s saving throw", idx, jidx(sv, "index"));
        }
    }

    size_t nlevels = 0;
    json_array_foreach(levels, i, x)
    {
        if (json_object_get(x, "subclass") != NULL)
            continue;
        const char *cidx = jidx(x, "class");
        int level = (int)json_integer_value(json_object_get(x, "level"));
        const struct rs_class_level *lv = ruleset_class_level(ruleset_class(rs, cidx), level);
        nlevels++;
        if (lv == NULL) {
            note(p, "level %s %d: missing", cidx, level);
            continue;
        }
        int prof = (int)json_integer_value(json_object_get(x, "prof_bonus"));
        if (lv->proficiency_bonus != prof)
            note(p, "level %s %d: proficiency bonus %d, reference %d", cidx, level, lv->proficiency_bonus, prof);
        int asis = 0;
        for (int l = 1; l <= level; l++)
            asis += ruleset_class_level(ruleset_class(rs, cidx), l)->asi;
        int ref = (int)json_integer_value(json_object_get(x, "ability_score_bonuses"));
        if (asis != ref && !(asis == ref + 1 && reference_one_short(cidx, level)))
            note(p, "level %s %d: %d ability score improvements so far, reference %d", cidx, level, asis, ref);
    }
    if (nlevels != rs->nclasses * RULESET_LEVELS)
        note(p, "levels: reference has %zu class levels, expected %zu", nlevels, rs->nclasses * RULESET_LEVELS);

    if (json_array_size(skills) != rs->nskills)
        note(p, "skills: %zu, reference %zu", rs->nskills, json_array_size(skills));
    json_array_foreach(skills, i, x)
    {
        const char *idx = jidx(x, "index");
        const struct rs_skill *s = ruleset_skill(rs, idx);
        if (s == NULL)
            note(p, "skill %s: missing", idx);
        else if (jidx(x, "ability_score") == NULL || strcmp(s->ability, jidx(x, "ability_score")) != 0)
            note(p, "skill %s: ability %s, reference %s", idx, s->ability, jidx(x, "ability_score"));
    }

    json_decref(races);
    json_decref(subraces);
    json_decref(classes);
    json_decref(levels);
    json_decref(skills);
    ruleset_free(rs);
    if (p->n > 0) {
        char msg[sizeof(p->buf) + 64];
        snprintf(msg, sizeof(msg), "%zu disagreements with 5e-database:%s", p->n, p->buf);
        free(p);
        fail_msg("%s", msg);
    }
    free(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_counts),           cmocka_unit_test(test_hand_checked_facts),
        cmocka_unit_test(test_lookup_misses),    cmocka_unit_test(test_unknown_key),
        cmocka_unit_test(test_dangling_subrace), cmocka_unit_test(test_dangling_skill_references),
        cmocka_unit_test(test_wrong_counts),     cmocka_unit_test(test_bounds_and_types),
        cmocka_unit_test(test_cross_check),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
