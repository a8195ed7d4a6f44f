/*
 * tests/unit/test_dice.c - dice expressions (rules/dice.c): every form of the
 * grammar, every error code with its position, each bound exactly at and just
 * past its limit, keep/drop and signs with a scripted rng whose totals are
 * worked out by hand, the seeded and libsodium generators, ability scores.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "common/err.h"
#include "rules/dice.h"

/* ---- helpers ------------------------------------------------------------ */

static struct dice_expr ex;
static struct dice_error er;

static int parse(const char *s)
{
    return dice_parse(s, strlen(s), &ex, &er);
}

/* Parses and formats back to `canonical`. */
static void assert_parses_as(const char *s, const char *canonical)
{
    char buf[DICE_FORMAT_MAX];
    if (parse(s) != 0)
        fail_msg("\"%s\" refused: %s %s", s, er.code, er.message);
    dice_format(&ex, buf, sizeof(buf));
    assert_string_equal(buf, canonical);
}

static void assert_refused(const char *s, size_t len, const char *code, size_t pos)
{
    int rc = dice_parse(s, len, &ex, &er);
    if (rc != ERR_INVALID)
        fail_msg("\"%.*s\" accepted", (int)len, s);
    if (strcmp(er.code, code) != 0 || er.pos != pos)
        fail_msg("\"%.*s\": got %s at %zu (%s), want %s at %zu", (int)len, s, er.code, er.pos, er.message, code, pos);
    assert_int_equal(ex.nterms, 0);
    assert_true(er.message[0] != '\0');
    /* messages are lower-case with no full stop */
    assert_false(er.message[0] >= 'A' && er.message[0] <= 'Z');
    assert_true(er.message[strlen(er.message) - 1] != '.');
}

#define REFUSED(s, code, pos) assert_refused((s), strlen(s), (code), (pos))

/* An rng that plays back fixed faces (1-based) and records the bounds it was asked for. */
struct script {
    const int *faces;
    size_t n, next;
    uint32_t bounds[DICE_MAX_DICE + 8];
};

static uint32_t script_uniform(void *ctx, uint32_t upper_bound)
{
    struct script *s = ctx;
    assert_true(s->next < s->n);
    if (s->next < sizeof(s->bounds) / sizeof(s->bounds[0]))
        s->bounds[s->next] = upper_bound;
    return (uint32_t)s->faces[s->next++] - 1;
}

static struct dice_result res;

/* Parse `s` and roll it with the scripted faces; all faces must be used. */
static struct script roll_scripted(const char *s, const int *faces, size_t n)
{
    struct script sc = {faces, n, 0, {0}};
    struct dice_rng rng = {script_uniform, &sc};
    if (parse(s) != 0)
        fail_msg("\"%s\" refused: %s", s, er.message);
    assert_int_equal(dice_roll(&ex, &rng, &res), 0);
    assert_int_equal(sc.next, n);
    return sc;
}

#define ROLL(s, ...) roll_scripted((s), (const int[]){__VA_ARGS__}, sizeof((const int[]){__VA_ARGS__}) / sizeof(int))

static void assert_ints(const int *got, int n, const int *want, int wn)
{
    assert_int_equal(n, wn);
    for (int i = 0; i < n; i++)
        assert_int_equal(got[i], want[i]);
}

#define KEPT(...)                                                                                                      \
    assert_ints(res.kept, res.nkept, (const int[]){__VA_ARGS__}, sizeof((const int[]){__VA_ARGS__}) / sizeof(int))

/* res.is_kept as a string of '0' and '1', one per die */
static void assert_kept_mask(const char *mask)
{
    assert_int_equal(res.nrolls, (int)strlen(mask));
    for (int i = 0; i < res.nrolls; i++)
        assert_int_equal(res.is_kept[i], mask[i] - '0');
}

/* ---- parsing ------------------------------------------------------------ */

static void test_parse_forms(void **state)
{
    (void)state;
    assert_parses_as("4d6kh3+2", "4d6kh3+2");
    assert_parses_as("d20", "1d20");
    assert_parses_as("D20", "1d20");
    assert_parses_as("1d20", "1d20");
    assert_parses_as("2d20KH", "2d20kh1");
    assert_parses_as("2d20kl", "2d20kl1");
    assert_parses_as("2D20Kl1", "2d20kl1");
    assert_parses_as("4d6dl", "4d6dl1");
    assert_parses_as("4d6DH2", "4d6dh2");
    assert_parses_as("3", "3");
    assert_parses_as("0", "0");
    assert_parses_as("-3", "-3");
    assert_parses_as("+d4", "1d4");
    assert_parses_as("- d4", "-1d4");
    assert_parses_as(" 1d8 + 2 ", "1d8+2");
    assert_parses_as("\t1d6\t-\t1\t", "1d6-1");
    assert_parses_as("1d4-1d6+3", "1d4-1d6+3");
    assert_parses_as("04d06", "4d6");
    assert_parses_as("2+3-1", "2+3-1");
    assert_parses_as("1d1", "1d1");

    /* the structure behind one of them */
    assert_int_equal(parse("4d6kh3 - 1d4 + 2"), 0);
    assert_int_equal(ex.nterms, 3);
    assert_int_equal(ex.ndice, 5);
    assert_int_equal(ex.terms[0].sign, 1);
    assert_int_equal(ex.terms[0].count, 4);
    assert_int_equal(ex.terms[0].sides, 6);
    assert_int_equal(ex.terms[0].keep, DICE_KEEP_HIGHEST);
    assert_int_equal(ex.terms[0].keep_n, 3);
    assert_int_equal(ex.terms[0].pos, 1);
    assert_int_equal(ex.terms[1].sign, -1);
    assert_int_equal(ex.terms[1].count, 1);
    assert_int_equal(ex.terms[1].sides, 4);
    assert_int_equal(ex.terms[1].keep, DICE_KEEP_ALL);
    assert_int_equal(ex.terms[1].pos, 10);
    assert_int_equal(ex.terms[2].sign, 1);
    assert_int_equal(ex.terms[2].count, 0);
    assert_int_equal(ex.terms[2].constant, 2);
    assert_int_equal(ex.terms[2].pos, 16);

    /* the length is the caller's: text past it is not read */
    assert_int_equal(dice_parse("1d6+garbage", 3, &ex, &er), 0);
    assert_int_equal(ex.terms[0].sides, 6);
}

static void test_parse_syntax_errors(void **state)
{
    (void)state;
    REFUSED("4d", "invalid", 3);
    REFUSED("d", "invalid", 2);
    REFUSED("4x6", "invalid", 2);
    REFUSED("abc", "invalid", 1);
    REFUSED("4d6+", "invalid", 5);
    REFUSED("4d6 +  ", "invalid", 8);
    REFUSED("4d6 kh3", "invalid", 5); /* no space inside a term */
    REFUSED("4 d6", "invalid", 3);
    REFUSED("4d6k3", "invalid", 5);
    REFUSED("4d6d6", "invalid", 5);
    REFUSED("4d6kx", "invalid", 5);
    REFUSED("4d6kh3kl1", "invalid", 7);
    REFUSED("1d6 2", "invalid", 5);
    REFUSED("1++2", "invalid", 3);
    REFUSED("--1", "invalid", 2);
    REFUSED("1d-6", "invalid", 3);
    REFUSED("1d6*2", "invalid", 4);
    REFUSED("dh1", "invalid", 2);
    REFUSED("1.5", "invalid", 2);
    REFUSED("1d6\n", "invalid", 4);
    REFUSED("+", "invalid", 2);
    REFUSED("１d6", "invalid", 1); /* a full-width digit is not a digit */
    assert_refused("1d6\0+1", 6, "invalid", 4);
    assert_string_equal(er.message, "expected \"+\", \"-\" or the end at character 4, found byte 0x00");

    REFUSED("4d", "invalid", 3);
    assert_string_equal(er.message, "expected the number of sides at character 3, found the end");
    REFUSED("4d6 kh3", "invalid", 5);
    assert_string_equal(er.message, "expected \"+\", \"-\" or the end at character 5, found \"k\"");
    REFUSED("1 + x", "invalid", 5);
    assert_string_equal(er.message, "expected a number or a dice group at character 5, found \"x\"");
    REFUSED("4d6k", "invalid", 5);
    assert_string_equal(er.message, "expected \"h\" or \"l\" after \"k\" or \"d\" at character 5, found the end");
    REFUSED("1 +  ", "invalid", 6);
    assert_string_equal(er.message, "expected a number or a dice group at character 6, found the end");
}

static void test_parse_required_and_too_long(void **state)
{
    (void)state;
    REFUSED("", "required", 0);
    REFUSED("   \t ", "required", 0);
    assert_int_equal(dice_parse(NULL, 0, &ex, &er), ERR_INVALID);
    assert_string_equal(er.code, "required");

    char buf[DICE_EXPR_MAX_LEN + 2];
    memset(buf, ' ', sizeof(buf));
    memcpy(buf, "1d6", 3);
    assert_int_equal(dice_parse(buf, DICE_EXPR_MAX_LEN, &ex, &er), 0); /* 256 bytes */
    assert_refused(buf, DICE_EXPR_MAX_LEN + 1, "too_long", 0);         /* 257 bytes */
    assert_string_equal(er.message, "expression has 257 bytes; at most 256 allowed");
    /* the length is checked before anything else */
    memset(buf, 'x', sizeof(buf));
    assert_refused(buf, DICE_EXPR_MAX_LEN + 1, "too_long", 0);
    /* and an error is never NULL-dereferenced when err is NULL */
    assert_int_equal(dice_parse("x", 1, &ex, NULL), ERR_INVALID);
}

static void test_bounds_terms(void **state)
{
    (void)state;
    char buf[128] = "1";
    for (int i = 1; i < DICE_MAX_TERMS; i++)
        strcat(buf, "+1");
    assert_int_equal(parse(buf), 0); /* 20 terms */
    assert_int_equal(ex.nterms, 20);
    strcat(buf, "+1");
    REFUSED(buf, "too_many", 41); /* the 21st term */
    assert_string_equal(er.message, "term at character 41 is one too many; at most 20 allowed");
    /* a leading sign is not a term */
    strcpy(buf, "-1");
    for (int i = 1; i < DICE_MAX_TERMS; i++)
        strcat(buf, " - d4");
    assert_int_equal(parse(buf), 0);
    assert_int_equal(ex.nterms, 20);
}

static void test_bounds_dice(void **state)
{
    (void)state;
    assert_int_equal(parse("100d6"), 0);
    REFUSED("101d6", "too_many", 1);
    assert_string_equal(er.message, "dice group at character 1 brings the expression over 100 dice");
    assert_int_equal(parse("50d6+50d6"), 0);
    assert_int_equal(ex.ndice, 100);
    REFUSED("50d6+51d6", "too_many", 6);
    assert_int_equal(parse("99d6+d4"), 0);
    REFUSED("100d6+d4", "too_many", 7);
    REFUSED("100d6 - d4", "too_many", 9);
    /* dice count, dropped dice included */
    assert_int_equal(parse("100d6kh1"), 0);
    REFUSED("99999999999999999999999999d6", "too_many", 1);
    /* constants do not count as dice */
    assert_int_equal(parse("100d6+5"), 0);
    REFUSED("0d6", "out_of_range", 1);
    REFUSED("1+0d6", "out_of_range", 3);
}

static void test_bounds_sides(void **state)
{
    (void)state;
    assert_int_equal(parse("1d1"), 0); /* d1 is allowed */
    assert_int_equal(parse("1d1000"), 0);
    REFUSED("1d1001", "out_of_range", 3);
    assert_string_equal(er.message, "sides at character 3 must be 1..1000");
    REFUSED("d0", "out_of_range", 2);
    REFUSED("2+d99999999999999999999999", "out_of_range", 4);
}

static void test_bounds_constants(void **state)
{
    (void)state;
    assert_int_equal(parse("1000000"), 0);
    assert_int_equal(parse("-1000000"), 0);
    REFUSED("1000001", "out_of_range", 1);
    REFUSED("1d6-1000001", "out_of_range", 5);
    assert_string_equal(er.message, "constant at character 5 must be at most 1000000");
    REFUSED("18446744073709551617", "out_of_range", 1);
}

static void test_bounds_keep_drop(void **state)
{
    (void)state;
    assert_int_equal(parse("4d6kh4"), 0);
    assert_int_equal(parse("4d6kl4"), 0);
    assert_int_equal(parse("4d6kh1"), 0);
    REFUSED("4d6kh5", "out_of_range", 6);
    assert_string_equal(er.message, "keep count at character 6 must be 1..4 (the group's dice)");
    REFUSED("4d6kh0", "out_of_range", 6); /* nothing kept */
    REFUSED("4d6kl0", "out_of_range", 6);
    assert_int_equal(parse("4d6dl3"), 0);
    assert_int_equal(parse("4d6dh3"), 0);
    assert_int_equal(parse("4d6dl0"), 0); /* drops nothing */
    REFUSED("4d6dl4", "out_of_range", 6); /* nothing kept */
    assert_string_equal(er.message, "drop count at character 6 must be 0..3 (fewer than the group's dice)");
    REFUSED("4d6dh4", "out_of_range", 6);
    REFUSED("1d20kh2", "out_of_range", 7);
    REFUSED("1d20dl", "out_of_range", 7); /* the implied 1 drops the only die */
    REFUSED("4d6kh99999999999999999999", "out_of_range", 6);
}

/* ---- rolling ------------------------------------------------------------ */

static void test_roll_plain_and_modifier(void **state)
{
    (void)state;
    struct script sc = ROLL("4d6kh3+2", 3, 1, 6, 4);
    assert_ints(res.rolls, res.nrolls, (const int[]){3, 1, 6, 4}, 4);
    KEPT(3, 6, 4);
    assert_int_equal(res.modifier, 2);
    assert_int_equal(res.total, 15);
    for (int i = 0; i < 4; i++)
        assert_int_equal(sc.bounds[i], 6);

    ROLL("2d8+1d4", 8, 2, 4);
    KEPT(8, 2, 4);
    assert_int_equal(res.total, 14);
    assert_int_equal(res.modifier, 0);
    assert_int_equal(res.term[0], 0);
    assert_int_equal(res.term[1], 0);
    assert_int_equal(res.term[2], 1);

    roll_scripted("7", NULL, 0);
    assert_int_equal(res.nrolls, 0);
    assert_int_equal(res.nkept, 0);
    assert_int_equal(res.modifier, 7);
    assert_int_equal(res.total, 7);
}

static void test_roll_keep_drop(void **state)
{
    (void)state;
    ROLL("4d6kl1", 3, 1, 6, 4);
    KEPT(1);
    assert_int_equal(res.total, 1);
    ROLL("4d6kl2", 3, 1, 6, 4);
    KEPT(3, 1);
    assert_int_equal(res.total, 4);
    ROLL("4d6dh1", 3, 1, 6, 4);
    KEPT(3, 1, 4);
    assert_int_equal(res.total, 8);
    ROLL("4d6dl1", 3, 1, 6, 4);
    KEPT(3, 6, 4);
    assert_int_equal(res.total, 13);
    ROLL("4d6dl0", 3, 1, 6, 4);
    KEPT(3, 1, 6, 4);
    assert_int_equal(res.total, 14);
    ROLL("4d6kh4", 3, 1, 6, 4);
    assert_int_equal(res.nkept, 4);
    ROLL("2d20kh", 7, 15); /* advantage */
    KEPT(15);
    assert_int_equal(res.total, 15);
    ROLL("2d20kl", 7, 15); /* disadvantage */
    KEPT(7);
    assert_int_equal(res.total, 7);

    /* ties: of equal dice the earlier ranks lower */
    ROLL("4d6kh2", 5, 5, 5, 2);
    KEPT(5, 5);
    assert_kept_mask("0110");
    ROLL("4d6dl1", 2, 2, 2, 2);
    assert_kept_mask("0111");
    assert_int_equal(res.total, 6);

    /* each group keeps on its own */
    ROLL("2d6kh1+2d6kl1", 1, 6, 2, 5);
    KEPT(6, 2);
    assert_int_equal(res.total, 8);
    assert_kept_mask("0110");
}

static void test_roll_negative_terms(void **state)
{
    (void)state;
    struct script sc = ROLL("1d4-1d6+3", 2, 5);
    assert_int_equal(sc.bounds[0], 4);
    assert_int_equal(sc.bounds[1], 6);
    assert_ints(res.rolls, res.nrolls, (const int[]){2, 5}, 2);
    KEPT(2, 5);
    assert_int_equal(res.modifier, 3);
    assert_int_equal(res.total, 0); /* 2 - 5 + 3 */

    ROLL("-2d6kh1-3", 4, 6);
    KEPT(6);
    assert_int_equal(res.modifier, -3);
    assert_int_equal(res.total, -9);

    ROLL("5-10+1d8", 8);
    assert_int_equal(res.modifier, -5);
    assert_int_equal(res.total, 3);
}

/* An rng that always returns upper_bound - 1 (the maximum face). */
static uint32_t max_uniform(void *ctx, uint32_t upper_bound)
{
    (void)ctx;
    return upper_bound - 1;
}

static void test_roll_extremes(void **state)
{
    (void)state;
    struct dice_rng max = {max_uniform, NULL};
    assert_int_equal(parse("100d1000"), 0);
    assert_int_equal(dice_roll(&ex, &max, &res), 0);
    assert_int_equal(res.nrolls, 100);
    assert_int_equal(res.total, 100000);

    char buf[DICE_EXPR_MAX_LEN + 1] = "-100d1000";
    for (int i = 1; i < DICE_MAX_TERMS; i++)
        strcat(buf, "-1000000");
    assert_int_equal(parse(buf), 0);
    assert_int_equal(dice_roll(&ex, &max, &res), 0);
    assert_int_equal(res.modifier, -19000000);
    assert_int_equal(res.total, -19100000);
}

/* An rng that returns upper_bound itself: out of its contract. */
static uint32_t bad_uniform(void *ctx, uint32_t upper_bound)
{
    (void)ctx;
    return upper_bound;
}

static void test_roll_rejects_bad_input(void **state)
{
    (void)state;
    struct dice_rng bad = {bad_uniform, NULL};
    assert_int_equal(parse("1d6+1"), 0);
    assert_int_equal(dice_roll(&ex, &bad, &res), ERR_GENERIC);
    assert_int_equal(res.nrolls, 0);
    assert_int_equal(res.total, 0);

    struct dice_rng max = {max_uniform, NULL};
    struct dice_expr e;
    memset(&e, 0, sizeof(e));
    assert_int_equal(dice_roll(&e, &max, &res), ERR_INVALID); /* no terms */
    e.nterms = 1;
    e.terms[0] = (struct dice_term){.sign = 1, .count = 101, .sides = 6};
    assert_int_equal(dice_roll(&e, &max, &res), ERR_INVALID);
    e.terms[0] = (struct dice_term){.sign = 1, .count = 1, .sides = 0};
    assert_int_equal(dice_roll(&e, &max, &res), ERR_INVALID);
    e.terms[0] = (struct dice_term){.sign = 1, .count = 4, .sides = 6, .keep = DICE_DROP_LOWEST, .keep_n = 4};
    assert_int_equal(dice_roll(&e, &max, &res), ERR_INVALID);
    e.terms[0] = (struct dice_term){.sign = 0, .constant = 3};
    assert_int_equal(dice_roll(&e, &max, &res), ERR_INVALID);
    e.nterms = 2;
    e.terms[0] = (struct dice_term){.sign = 1, .count = 60, .sides = 6};
    e.terms[1] = (struct dice_term){.sign = 1, .count = 41, .sides = 6};
    assert_int_equal(dice_roll(&e, &max, &res), ERR_INVALID);
    e.terms[1].count = 40;
    assert_int_equal(dice_roll(&e, &max, &res), 0);
    assert_int_equal(res.total, 600);
}

static void test_format_round_trip(void **state)
{
    (void)state;
    static const char *const exprs[] = {"4d6kh3+2", "-d4 + 3 - 2d8dl1", "d20kl", "1000000-1000000", "100d1000dh99"};
    for (size_t i = 0; i < sizeof(exprs) / sizeof(exprs[0]); i++) {
        char buf[DICE_FORMAT_MAX];
        struct dice_expr a, b;
        assert_int_equal(dice_parse(exprs[i], strlen(exprs[i]), &a, &er), 0);
        size_t n = dice_format(&a, buf, sizeof(buf));
        assert_int_equal(n, strlen(buf));
        assert_int_equal(dice_parse(buf, n, &b, &er), 0);
        for (int t = 0; t < a.nterms; t++)
            b.terms[t].pos = a.terms[t].pos;
        assert_memory_equal(&a, &b, sizeof(a));
    }
    /* a short buffer is truncated and terminated; the needed length is returned */
    char small[4];
    assert_int_equal(parse("4d6kh3+2"), 0);
    assert_int_equal(dice_format(&ex, small, sizeof(small)), 8);
    assert_string_equal(small, "4d6");
}

/* ---- random sources ----------------------------------------------------- */

static void test_seeded_rng_repeats(void **state)
{
    (void)state;
    struct dice_seeded s1, s2, s3;
    struct dice_rng a = dice_rng_seeded(&s1, 42);
    struct dice_rng b = dice_rng_seeded(&s2, 42);
    struct dice_rng c = dice_rng_seeded(&s3, 43);
    int differ = 0;
    for (int i = 0; i < 1000; i++) {
        uint32_t bound = (uint32_t)(i % 1000) + 1;
        uint32_t x = a.uniform(a.ctx, bound), y = b.uniform(b.ctx, bound), z = c.uniform(c.ctx, bound);
        assert_int_equal(x, y);
        assert_true(x < bound && z < bound);
        differ += x != z;
    }
    assert_true(differ > 900);

    /* the same seed rolls the same expression the same way */
    struct dice_result r1, r2;
    assert_int_equal(parse("10d20kh5-3d4+7"), 0);
    a = dice_rng_seeded(&s1, 7);
    b = dice_rng_seeded(&s2, 7);
    assert_int_equal(dice_roll(&ex, &a, &r1), 0);
    assert_int_equal(dice_roll(&ex, &b, &r2), 0);
    assert_memory_equal(&r1, &r2, sizeof(r1));
}

/*
 * The sequence is part of the contract (seeded random characters must come
 * out the same everywhere): these values pin the algorithm. If this fails,
 * every stored seed now means a different character. Computed independently
 * with Python (hashlib.blake2b + cryptography's ChaCha20), not copied from C.
 */
static void test_seeded_rng_known_answer(void **state)
{
    (void)state;
    static const uint32_t want42[12] = {184, 749, 983, 511, 837, 985, 293, 715, 970, 305, 340, 692};
    static const uint32_t want0[12] = {4, 4, 2, 0, 3, 2, 2, 0, 0, 0, 3, 0};
    struct dice_seeded st;
    struct dice_rng r = dice_rng_seeded(&st, 42);
    for (int i = 0; i < 12; i++)
        assert_int_equal(r.uniform(r.ctx, 1000), want42[i]);
    r = dice_rng_seeded(&st, 0);
    for (int i = 0; i < 12; i++)
        assert_int_equal(r.uniform(r.ctx, 6), want0[i]);
    /* a bound just over 2^31 rejects about half the words (9 of the 17 read here,
     * across the first ChaCha20 block boundary): pins the rejection rule */
    static const uint32_t want1[8] = {473346064,  882523303, 1450878092, 1160617617,
                                      1994565105, 176612399, 2055250896, 329216770};
    r = dice_rng_seeded(&st, 1);
    for (int i = 0; i < 8; i++)
        assert_int_equal(r.uniform(r.ctx, 0x80000001u), want1[i]);
}

static void test_seeded_rng_uniform(void **state)
{
    (void)state;
    struct dice_seeded st;
    struct dice_rng r = dice_rng_seeded(&st, 2024);
    int faces[6] = {0};
    for (int i = 0; i < 60000; i++) {
        uint32_t v = r.uniform(r.ctx, 6);
        assert_true(v < 6);
        faces[v]++;
    }
    for (int f = 0; f < 6; f++)
        assert_in_range(faces[f], 9000, 11000);
    assert_int_equal(r.uniform(r.ctx, 1), 0);
    assert_int_equal(r.uniform(r.ctx, 0), 0);
}

static void test_sodium_rng(void **state)
{
    (void)state;
    struct dice_rng r = dice_rng_sodium();
    int faces[6] = {0};
    for (int i = 0; i < 60000; i++) {
        uint32_t v = r.uniform(r.ctx, 6);
        assert_true(v < 6);
        faces[v]++;
    }
    /* expectation 10000, sd ~91: 8000..12000 fails only on a broken generator */
    for (int f = 0; f < 6; f++)
        assert_in_range(faces[f], 8000, 12000);

    int lo = 1000, hi = -1;
    for (int i = 0; i < 20000; i++) {
        uint32_t v = r.uniform(r.ctx, 1000);
        assert_true(v < 1000);
        lo = (int)v < lo ? (int)v : lo;
        hi = (int)v > hi ? (int)v : hi;
    }
    assert_int_equal(lo, 0);
    assert_int_equal(hi, 999);
    assert_int_equal(r.uniform(r.ctx, 1), 0);
}

/* ---- ability scores ----------------------------------------------------- */

static void test_ability_scores_scripted(void **state)
{
    (void)state;
    static const int faces[24] = {1, 2, 3, 4, 6, 6, 6, 6, 1, 1, 1, 1, 5, 1, 5, 2, 3, 3, 1, 3, 6, 5, 4, 1};
    struct script sc = {faces, 24, 0, {0}};
    struct dice_rng rng = {script_uniform, &sc};
    int dice[6][4], scores[6];
    dice_ability_scores(&rng, dice, scores);
    assert_int_equal(sc.next, 24);
    assert_ints(scores, 6, (const int[]){9, 18, 3, 12, 9, 15}, 6);
    assert_ints(dice[3], 4, (const int[]){5, 1, 5, 2}, 4);
    for (int i = 0; i < 24; i++)
        assert_int_equal(sc.bounds[i], 6);
}

static void test_ability_scores_random(void **state)
{
    (void)state;
    struct dice_rng r = dice_rng_sodium();
    int seen[19] = {0};
    for (int n = 0; n < 2000; n++) {
        int dice[6][4], scores[6];
        dice_ability_scores(&r, dice, scores);
        for (int i = 0; i < 6; i++) {
            int sum = 0, lowest = 6;
            for (int j = 0; j < 4; j++) {
                assert_in_range(dice[i][j], 1, 6);
                sum += dice[i][j];
                lowest = dice[i][j] < lowest ? dice[i][j] : lowest;
            }
            assert_in_range(scores[i], 3, 18);
            assert_int_equal(scores[i], sum - lowest);
            seen[scores[i]]++;
        }
    }
    /* 12,000 scores: every common total shows up (P(13) ~ 13%) */
    for (int s = 8; s <= 16; s++)
        assert_true(seen[s] > 0);
}

int main(void)
{
    if (sodium_init() < 0) {
        fprintf(stderr, "sodium_init failed\n");
        return 1;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_forms),
        cmocka_unit_test(test_parse_syntax_errors),
        cmocka_unit_test(test_parse_required_and_too_long),
        cmocka_unit_test(test_bounds_terms),
        cmocka_unit_test(test_bounds_dice),
        cmocka_unit_test(test_bounds_sides),
        cmocka_unit_test(test_bounds_constants),
        cmocka_unit_test(test_bounds_keep_drop),
        cmocka_unit_test(test_roll_plain_and_modifier),
        cmocka_unit_test(test_roll_keep_drop),
        cmocka_unit_test(test_roll_negative_terms),
        cmocka_unit_test(test_roll_extremes),
        cmocka_unit_test(test_roll_rejects_bad_input),
        cmocka_unit_test(test_format_round_trip),
        cmocka_unit_test(test_seeded_rng_repeats),
        cmocka_unit_test(test_seeded_rng_known_answer),
        cmocka_unit_test(test_seeded_rng_uniform),
        cmocka_unit_test(test_sodium_rng),
        cmocka_unit_test(test_ability_scores_scripted),
        cmocka_unit_test(test_ability_scores_random),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
