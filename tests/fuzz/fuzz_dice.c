/*
 * tests/fuzz/fuzz_dice.c - libFuzzer target for rules/dice.c. Any bytes must
 * parse or be refused with one of the five codes, never crash or read out of
 * bounds. A refused expression leaves the output zeroed and the error well
 * formed; an accepted one keeps every bound dice.h promises, formats to text
 * that parses back to the same expression, parses the same when lower-cased,
 * and rolls (seeded rng) to a result whose rolls, kept dice, modifier and total
 * agree with a recomputation here. Any violation abort()s.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "rules/dice.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int ok)
{
    if (!ok)
        abort();
}

static void check_error(const struct dice_error *err, size_t size)
{
    static const char *const codes[] = {"required", "invalid", "too_many", "out_of_range", "too_long"};
    int known = 0;
    for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++)
        known |= err->code != NULL && strcmp(err->code, codes[i]) == 0;
    check(known);
    check(memchr(err->message, '\0', sizeof(err->message)) != NULL && err->message[0] != '\0');
    check(err->pos <= size + 1);
    if (strcmp(err->code, "invalid") == 0 || strcmp(err->code, "out_of_range") == 0)
        check(err->pos >= 1);
    if (strcmp(err->code, "too_long") == 0)
        check(size > DICE_EXPR_MAX_LEN);
}

/* Equal apart from the terms' text positions. */
static int same_expr(const struct dice_expr *a, const struct dice_expr *b)
{
    if (a->nterms != b->nterms || a->ndice != b->ndice)
        return 0;
    for (int i = 0; i < a->nterms; i++) {
        const struct dice_term *x = &a->terms[i], *y = &b->terms[i];
        if (x->sign != y->sign || x->count != y->count || x->sides != y->sides || x->keep != y->keep ||
            x->keep_n != y->keep_n || x->constant != y->constant)
            return 0;
    }
    return 1;
}

static void check_expr(const struct dice_expr *e, size_t size)
{
    int ndice = 0;
    check(e->nterms >= 1 && e->nterms <= DICE_MAX_TERMS);
    for (int i = 0; i < e->nterms; i++) {
        const struct dice_term *t = &e->terms[i];
        check(t->sign == 1 || t->sign == -1);
        check(t->pos >= 1 && t->pos <= size);
        check(i == 0 || t->pos > e->terms[i - 1].pos);
        if (t->count == 0) {
            check(t->constant >= 0 && t->constant <= DICE_MAX_CONSTANT && t->sides == 0);
            check(t->keep == DICE_KEEP_ALL && t->keep_n == 0);
            continue;
        }
        check(t->count >= 1 && t->sides >= 1 && t->sides <= DICE_MAX_SIDES && t->constant == 0);
        ndice += t->count;
    }
    check(ndice == e->ndice && ndice <= DICE_MAX_DICE);
}

/* How many of a group of n dice the term keeps. */
static int kept_count(const struct dice_term *t)
{
    switch (t->keep) {
    case DICE_KEEP_ALL: return t->count;
    case DICE_KEEP_HIGHEST:
    case DICE_KEEP_LOWEST: return t->keep_n;
    case DICE_DROP_HIGHEST:
    case DICE_DROP_LOWEST: return t->count - t->keep_n;
    }
    abort();
}

static void check_result(const struct dice_expr *e, const struct dice_result *r)
{
    int d = 0, nkept = 0, modifier = 0, total = 0;

    check(r->nrolls == e->ndice && r->nkept >= 0 && r->nkept <= r->nrolls);
    for (int ti = 0; ti < e->nterms; ti++) {
        const struct dice_term *t = &e->terms[ti];
        if (t->count == 0) {
            modifier += t->sign * t->constant;
            continue;
        }
        int first = d, kept = 0, sum = 0;
        int min_kept = DICE_MAX_SIDES + 1, max_kept = 0, min_dropped = DICE_MAX_SIDES + 1, max_dropped = 0;
        for (; d < first + t->count; d++) {
            int v = r->rolls[d];
            check(r->term[d] == ti && v >= 1 && v <= t->sides && r->is_kept[d] <= 1);
            if (r->is_kept[d]) {
                check(nkept < r->nkept && r->kept[nkept] == v);
                nkept++;
                kept++;
                sum += v;
                min_kept = v < min_kept ? v : min_kept;
                max_kept = v > max_kept ? v : max_kept;
            } else {
                min_dropped = v < min_dropped ? v : min_dropped;
                max_dropped = v > max_dropped ? v : max_dropped;
            }
        }
        check(kept == kept_count(t) && kept >= 1);
        if (kept < t->count) {
            if (t->keep == DICE_KEEP_HIGHEST || t->keep == DICE_DROP_LOWEST)
                check(min_kept >= max_dropped);
            else
                check(max_kept <= min_dropped);
        }
        total += t->sign * sum;
    }
    check(d == r->nrolls && nkept == r->nkept);
    check(modifier == r->modifier && total + modifier == r->total);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct dice_expr e, again;
    struct dice_error err;
    static const struct dice_expr zero;
    char lower[DICE_EXPR_MAX_LEN];

    if (dice_parse((const char *)data, size, &e, &err) != 0) {
        check(memcmp(&e, &zero, sizeof(e)) == 0);
        check_error(&err, size);
        /* case does not matter: lower-cased text is refused the same way */
        if (size <= sizeof(lower)) {
            for (size_t i = 0; i < size; i++)
                lower[i] = (char)(data[i] >= 'A' && data[i] <= 'Z' ? data[i] - 'A' + 'a' : data[i]);
            struct dice_error err2;
            check(dice_parse(lower, size, &again, &err2) == ERR_INVALID);
            check(strcmp(err.code, err2.code) == 0 && err.pos == err2.pos);
        }
        return 0;
    }
    check(size <= DICE_EXPR_MAX_LEN);
    check_expr(&e, size);

    for (size_t i = 0; i < size; i++)
        lower[i] = (char)(data[i] >= 'A' && data[i] <= 'Z' ? data[i] - 'A' + 'a' : data[i]);
    check(dice_parse(lower, size, &again, NULL) == 0 && memcmp(&e, &again, sizeof(e)) == 0);

    char text[DICE_FORMAT_MAX];
    size_t n = dice_format(&e, text, sizeof(text));
    check(n < sizeof(text) && n == strlen(text) && n <= DICE_EXPR_MAX_LEN);
    check(dice_parse(text, n, &again, NULL) == 0 && same_expr(&e, &again));

    /* the seed comes from the input, so the fuzzer explores rolls too */
    uint64_t seed = size;
    for (size_t i = 0; i < size; i++)
        seed = seed * 1099511628211u + data[i];
    struct dice_seeded s1, s2;
    struct dice_rng rng = dice_rng_seeded(&s1, seed);
    struct dice_result r1, r2;
    check(dice_roll(&e, &rng, &r1) == 0);
    check_result(&e, &r1);
    rng = dice_rng_seeded(&s2, seed);
    check(dice_roll(&e, &rng, &r2) == 0 && memcmp(&r1, &r2, sizeof(r1)) == 0);
    return 0;
}
