/*
 * rules/dice.c - see dice.h. A hand-written scanner over a bounded byte range:
 * every number saturates before it can overflow, every array index is checked
 * against the DICE_* bounds, and nothing is allocated. Must not do I/O or keep
 * state between calls; the only outside dependency is libsodium's RNG and
 * ChaCha20.
 */
#include "rules/dice.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "common/err.h"

/* Numbers saturate here: above every bound, far below INT_MAX. */
#define NUMBER_CAP 10000000L

/* ---- random sources ---------------------------------------------------- */

static uint32_t sodium_uniform(void *ctx, uint32_t upper_bound)
{
    (void)ctx;
    if (upper_bound <= 1)
        return 0;
    return randombytes_uniform(upper_bound);
}

struct dice_rng dice_rng_sodium(void)
{
    struct dice_rng r = {sodium_uniform, NULL};
    return r;
}

/* The next 32 bits of the state's keystream, little-endian. */
static uint32_t seeded_next32(struct dice_seeded *st)
{
    static const unsigned char zero[64];
    static const unsigned char nonce[crypto_stream_chacha20_NONCEBYTES];

    if (st->pos + 4 > sizeof(st->buf)) {
        crypto_stream_chacha20_xor_ic(st->buf, zero, sizeof(st->buf), nonce, st->block, st->key);
        st->block++;
        st->pos = 0;
    }
    const unsigned char *b = st->buf + st->pos;
    st->pos += 4;
    return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
}

/* Uniform in 0..upper_bound-1: reject the low words that would bias the modulo. */
static uint32_t seeded_uniform(void *ctx, uint32_t upper_bound)
{
    struct dice_seeded *st = ctx;
    if (upper_bound <= 1)
        return 0;
    uint32_t min = (uint32_t)(-upper_bound) % upper_bound; /* 2^32 mod upper_bound */
    uint32_t r;
    do
        r = seeded_next32(st);
    while (r < min);
    return r % upper_bound;
}

struct dice_rng dice_rng_seeded(struct dice_seeded *state, uint64_t seed)
{
    unsigned char le[8];
    for (int i = 0; i < 8; i++)
        le[i] = (unsigned char)(seed >> (8 * i));
    memset(state, 0, sizeof(*state));
    crypto_generichash(state->key, sizeof(state->key), le, sizeof(le), NULL, 0);
    state->pos = sizeof(state->buf); /* empty: the first draw computes block 0 */
    struct dice_rng r = {seeded_uniform, state};
    return r;
}

/* ---- parsing ------------------------------------------------------------ */

struct parser {
    const char *s;
    size_t len;
    size_t i; /* 0-based index of the next byte */
    struct dice_error *err;
};

static int at_end(const struct parser *p)
{
    return p->i >= p->len;
}

/* The next byte, lower-cased; 0 at the end (a NUL byte in the text also reads as 0, and is never valid). */
static int peek(const struct parser *p)
{
    if (at_end(p))
        return 0;
    unsigned char c = (unsigned char)p->s[p->i];
    return c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c;
}

static void skip_ws(struct parser *p)
{
    while (!at_end(p) && (p->s[p->i] == ' ' || p->s[p->i] == '\t'))
        p->i++;
}

static int fail(struct parser *p, const char *code, size_t pos, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Record a problem at 1-based `pos` (0: the whole text); returns ERR_INVALID. */
static int fail(struct parser *p, const char *code, size_t pos, const char *fmt, ...)
{
    if (p->err != NULL) {
        p->err->code = code;
        p->err->pos = pos;
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(p->err->message, sizeof(p->err->message), fmt, ap);
        va_end(ap);
    }
    return ERR_INVALID;
}

/* A syntax error at the next byte: says what was expected, where, and what was there. */
static int expected(struct parser *p, const char *what)
{
    char found[24];
    if (at_end(p)) {
        snprintf(found, sizeof(found), "the end");
    } else {
        unsigned char c = (unsigned char)p->s[p->i];
        if (c > 0x20 && c < 0x7f && c != '"' && c != '\\')
            snprintf(found, sizeof(found), "\"%c\"", c);
        else if (c == ' ')
            snprintf(found, sizeof(found), "a space");
        else
            snprintf(found, sizeof(found), "byte 0x%02x", c);
    }
    return fail(p, "invalid", p->i + 1, "expected %s at character %zu, found %s", what, p->i + 1, found);
}

/* Read decimal digits at the cursor into *v (saturating at NUMBER_CAP); returns how many were read. */
static size_t number(struct parser *p, long *v)
{
    size_t n = 0;
    *v = 0;
    while (!at_end(p) && p->s[p->i] >= '0' && p->s[p->i] <= '9') {
        *v = *v * 10 + (p->s[p->i] - '0');
        if (*v > NUMBER_CAP)
            *v = NUMBER_CAP;
        p->i++;
        n++;
    }
    return n;
}

/* The suffix's count: explicit, or 1 when omitted. Checks it against the group's count. */
static int keep_suffix(struct parser *p, struct dice_term *t)
{
    int first = peek(p); /* 'k' or 'd' */
    p->i++;
    int second = peek(p);
    if (second != 'h' && second != 'l')
        return expected(p, "\"h\" or \"l\" after \"k\" or \"d\"");
    p->i++;
    if (first == 'k')
        t->keep = second == 'h' ? DICE_KEEP_HIGHEST : DICE_KEEP_LOWEST;
    else
        t->keep = second == 'h' ? DICE_DROP_HIGHEST : DICE_DROP_LOWEST;

    size_t kpos = p->i + 1;
    long k;
    if (number(p, &k) == 0)
        k = 1;
    if (first == 'k' && (k < 1 || k > t->count))
        return fail(p, "out_of_range", kpos, "keep count at character %zu must be 1..%d (the group's dice)", kpos,
                    t->count);
    if (first == 'd' && k >= t->count)
        return fail(p, "out_of_range", kpos, "drop count at character %zu must be 0..%d (fewer than the group's dice)",
                    kpos, t->count - 1);
    t->keep_n = (int)k;
    return 0;
}

/* One term at the cursor: a dice group or a constant. `total_dice` is the count before this term. */
static int term(struct parser *p, int sign, int total_dice, struct dice_term *t)
{
    memset(t, 0, sizeof(*t));
    t->sign = sign;
    t->pos = p->i + 1;

    long n;
    size_t digits = number(p, &n);
    if (peek(p) != 'd') {
        if (digits == 0)
            return expected(p, "a number or a dice group");
        if (n > DICE_MAX_CONSTANT)
            return fail(p, "out_of_range", t->pos, "constant at character %zu must be at most %d", t->pos,
                        DICE_MAX_CONSTANT);
        t->constant = (int)n;
        return 0;
    }

    if (digits == 0)
        n = 1;
    if (n < 1)
        return fail(p, "out_of_range", t->pos, "dice count at character %zu must be at least 1", t->pos);
    if (n > DICE_MAX_DICE - total_dice)
        return fail(p, "too_many", t->pos, "dice group at character %zu brings the expression over %d dice", t->pos,
                    DICE_MAX_DICE);
    t->count = (int)n;
    p->i++; /* the 'd' */

    size_t spos = p->i + 1;
    if (number(p, &n) == 0)
        return expected(p, "the number of sides");
    if (n < 1 || n > DICE_MAX_SIDES)
        return fail(p, "out_of_range", spos, "sides at character %zu must be 1..%d", spos, DICE_MAX_SIDES);
    t->sides = (int)n;

    if (peek(p) == 'k' || peek(p) == 'd')
        return keep_suffix(p, t);
    return 0;
}

int dice_parse(const char *expr, size_t len, struct dice_expr *out, struct dice_error *err)
{
    struct parser p = {expr, len, 0, err};
    int rc;

    memset(out, 0, sizeof(*out));
    if (err != NULL)
        memset(err, 0, sizeof(*err));
    if (expr == NULL)
        len = p.len = 0;
    if (len > DICE_EXPR_MAX_LEN)
        return fail(&p, "too_long", 0, "expression has %zu bytes; at most %d allowed", len, DICE_EXPR_MAX_LEN);
    skip_ws(&p);
    if (at_end(&p))
        return fail(&p, "required", 0, "expression must not be empty");

    int sign = 1;
    if (peek(&p) == '+' || peek(&p) == '-') {
        sign = peek(&p) == '-' ? -1 : 1;
        p.i++;
        skip_ws(&p);
    }
    for (;;) {
        if (out->nterms == DICE_MAX_TERMS) {
            rc = fail(&p, "too_many", p.i + 1, "term at character %zu is one too many; at most %d allowed", p.i + 1,
                      DICE_MAX_TERMS);
            goto out;
        }
        struct dice_term *t = &out->terms[out->nterms];
        if ((rc = term(&p, sign, out->ndice, t)) != 0)
            goto out;
        out->nterms++;
        out->ndice += t->count;

        skip_ws(&p);
        if (at_end(&p))
            return 0;
        if (peek(&p) != '+' && peek(&p) != '-') {
            rc = expected(&p, "\"+\", \"-\" or the end");
            goto out;
        }
        sign = peek(&p) == '-' ? -1 : 1;
        p.i++;
        skip_ws(&p);
    }
out:
    memset(out, 0, sizeof(*out));
    return rc;
}

/* ---- rolling ------------------------------------------------------------ */

/* 1 when `t` is within the bounds dice_parse() guarantees. */
static int term_ok(const struct dice_term *t)
{
    if (t->sign != 1 && t->sign != -1)
        return 0;
    if (t->count == 0)
        return t->constant >= 0 && t->constant <= DICE_MAX_CONSTANT;
    if (t->count < 0 || t->count > DICE_MAX_DICE || t->sides < 1 || t->sides > DICE_MAX_SIDES)
        return 0;
    switch (t->keep) {
    case DICE_KEEP_ALL: return 1;
    case DICE_KEEP_HIGHEST:
    case DICE_KEEP_LOWEST: return t->keep_n >= 1 && t->keep_n <= t->count;
    case DICE_DROP_HIGHEST:
    case DICE_DROP_LOWEST: return t->keep_n >= 0 && t->keep_n < t->count;
    }
    return 0;
}

/*
 * Mark which of the group's dice v[0..n) are kept. Dice are ranked by value,
 * ties by position (earlier is lower); a suffix keeps a contiguous run of ranks.
 */
static void select_kept(const int *v, int n, enum dice_keep keep, int k, unsigned char *is_kept)
{
    int order[DICE_MAX_DICE];
    for (int i = 0; i < n; i++) {
        int j = i;
        while (j > 0 && v[order[j - 1]] > v[i]) {
            order[j] = order[j - 1];
            j--;
        }
        order[j] = i;
    }
    int lo = 0, hi = n; /* ranks lo..hi-1 are kept */
    switch (keep) {
    case DICE_KEEP_ALL: break;
    case DICE_KEEP_HIGHEST: lo = n - k; break;
    case DICE_KEEP_LOWEST: hi = k; break;
    case DICE_DROP_HIGHEST: hi = n - k; break;
    case DICE_DROP_LOWEST: lo = k; break;
    }
    for (int r = 0; r < n; r++)
        is_kept[order[r]] = r >= lo && r < hi;
}

int dice_roll(const struct dice_expr *e, const struct dice_rng *rng, struct dice_result *out)
{
    int ndice = 0;

    memset(out, 0, sizeof(*out));
    if (e->nterms < 1 || e->nterms > DICE_MAX_TERMS)
        return ERR_INVALID;
    for (int i = 0; i < e->nterms; i++) {
        if (!term_ok(&e->terms[i]))
            return ERR_INVALID;
        ndice += e->terms[i].count;
    }
    if (ndice > DICE_MAX_DICE)
        return ERR_INVALID;

    for (int ti = 0; ti < e->nterms; ti++) {
        const struct dice_term *t = &e->terms[ti];
        if (t->count == 0) {
            out->modifier += t->sign * t->constant;
            continue;
        }
        int first = out->nrolls, sum = 0;
        for (int d = 0; d < t->count; d++) {
            uint32_t r = rng->uniform(rng->ctx, (uint32_t)t->sides);
            if (r >= (uint32_t)t->sides) {
                memset(out, 0, sizeof(*out));
                return ERR_GENERIC;
            }
            out->rolls[out->nrolls] = (int)r + 1;
            out->term[out->nrolls] = (unsigned char)ti;
            out->nrolls++;
        }
        select_kept(out->rolls + first, t->count, t->keep, t->keep_n, out->is_kept + first);
        for (int d = first; d < out->nrolls; d++) {
            if (out->is_kept[d]) {
                out->kept[out->nkept++] = out->rolls[d];
                sum += out->rolls[d];
            }
        }
        out->total += t->sign * sum;
    }
    out->total += out->modifier;
    return 0;
}

/* ---- formatting and ability scores -------------------------------------- */

size_t dice_format(const struct dice_expr *e, char *buf, size_t size)
{
    static const char *const suffix[] = {"", "kh", "kl", "dh", "dl"};
    size_t n = 0;

    if (size > 0)
        buf[0] = '\0';
    for (int i = 0; i < e->nterms && i < DICE_MAX_TERMS; i++) {
        const struct dice_term *t = &e->terms[i];
        const char *sign = t->sign < 0 ? "-" : i > 0 ? "+" : "";
        char piece[64];
        int k = (unsigned)t->keep < sizeof(suffix) / sizeof(suffix[0]) ? (int)t->keep : 0;
        int w;
        if (t->count == 0)
            w = snprintf(piece, sizeof(piece), "%s%d", sign, t->constant);
        else if (t->keep == DICE_KEEP_ALL)
            w = snprintf(piece, sizeof(piece), "%s%dd%d", sign, t->count, t->sides);
        else
            w = snprintf(piece, sizeof(piece), "%s%dd%d%s%d", sign, t->count, t->sides, suffix[k], t->keep_n);
        if (w < 0)
            continue;
        if (n < size)
            snprintf(buf + n, size - n, "%s", piece);
        n += (size_t)w;
    }
    return n;
}

/* One die of `sides` from `rng`; a misbehaving rng's value is reduced modulo `sides`. */
static int die(const struct dice_rng *rng, int sides)
{
    return (int)(rng->uniform(rng->ctx, (uint32_t)sides) % (uint32_t)sides) + 1;
}

void dice_ability_scores(const struct dice_rng *rng, int dice[6][4], int scores[6])
{
    for (int i = 0; i < 6; i++) {
        int sum = 0, lowest = 7;
        for (int j = 0; j < 4; j++) {
            dice[i][j] = die(rng, 6);
            sum += dice[i][j];
            if (dice[i][j] < lowest)
                lowest = dice[i][j];
        }
        scores[i] = sum - lowest;
    }
}
