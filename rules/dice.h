/*
 * rules/dice.h - dice expressions ("4d6kh3+2"): parsing, rolling, and the
 * 4d6-drop-lowest ability score roll. Owns the grammar, its bounds and the
 * error codes API.md lists for `POST /v1/rolls`; owns nothing on the heap
 * (every structure is fixed-size and caller-allocated). Pure: no I/O, no
 * allocation, no global state. Randomness comes only through a `struct
 * dice_rng` the caller passes: libsodium's generator for real rolls, a seeded
 * ChaCha20 stream for tests and seeded random characters.
 *
 * Grammar (ASCII, case-insensitive letters, at most DICE_EXPR_MAX_LEN bytes):
 *
 *   expr  := ws [sign ws] term (ws sign ws term)* ws
 *   sign  := "+" | "-"
 *   term  := group | number
 *   group := [number] "d" number [("kh" | "kl" | "dh" | "dl") [number]]
 *   ws    := (" " | "\t")*
 *
 * A term is one token: no spaces inside "4d6kh3". "d20" means "1d20"; a keep
 * or drop suffix without a count means a count of 1 ("2d20kh" is advantage).
 * Bounds: count 1..100 per group and 100 dice in the whole expression, sides
 * 1..1000 (d1 is allowed: it always rolls 1), at most 20 terms, constants
 * 0..1,000,000; kh/kl count 1..N, dh/dl count 0..N-1 (something is always
 * kept). With these bounds every sum fits comfortably in an int.
 */
#ifndef RULES_DICE_H
#define RULES_DICE_H

#include <stddef.h>
#include <stdint.h>

#define DICE_EXPR_MAX_LEN 256 /* bytes of expression text */
#define DICE_MAX_TERMS 20     /* dice groups plus constants */
#define DICE_MAX_DICE 100     /* dice in the whole expression */
#define DICE_MAX_SIDES 1000   /* sides of one die; the minimum is 1 */
#define DICE_MAX_CONSTANT 1000000
#define DICE_FORMAT_MAX 512 /* buffer size that always fits dice_format() output */

/* How a group picks which of its dice count towards the total. */
enum dice_keep {
    DICE_KEEP_ALL = 0,
    DICE_KEEP_HIGHEST, /* khK: the K highest */
    DICE_KEEP_LOWEST,  /* klK: the K lowest */
    DICE_DROP_HIGHEST, /* dhK: all but the K highest */
    DICE_DROP_LOWEST,  /* dlK: all but the K lowest */
};

/* One term of an expression: a dice group (count > 0) or a constant (count == 0). */
struct dice_term {
    int sign;  /* +1 or -1 */
    int count; /* number of dice, 1..DICE_MAX_DICE; 0 for a constant */
    int sides; /* 1..DICE_MAX_SIDES; 0 for a constant */
    enum dice_keep keep;
    int keep_n;   /* the K of the suffix; 0 when keep == DICE_KEEP_ALL */
    int constant; /* 0..DICE_MAX_CONSTANT; 0 for a dice group */
    size_t pos;   /* 1-based byte position of the term in the text */
};

/* A parsed expression. Plain data: copy it, compare it, keep it. */
struct dice_expr {
    struct dice_term terms[DICE_MAX_TERMS];
    int nterms; /* 1..DICE_MAX_TERMS after a successful parse */
    int ndice;  /* sum of the groups' counts, 0..DICE_MAX_DICE */
};

/*
 * Why an expression was refused. `code` is one of API.md's validation codes,
 * a static string: "required" (empty or blank), "invalid" (syntax), "too_long"
 * (over DICE_EXPR_MAX_LEN bytes), "too_many" (over 100 dice or 20 terms),
 * "out_of_range" (count, sides, keep/drop count or constant). The server
 * reports it under the field "expression".
 */
struct dice_error {
    const char *code;
    size_t pos;        /* 1-based byte position of the problem; 0 when it is the whole text */
    char message[160]; /* lower-case, no full stop, e.g. "expected ... at character 5, found \"x\"" */
};

/* The outcome of one roll, shaped for the `POST /v1/rolls` response. */
struct dice_result {
    int rolls[DICE_MAX_DICE];             /* every die in expression order, 1..sides */
    unsigned char term[DICE_MAX_DICE];    /* index into dice_expr.terms of rolls[i] */
    unsigned char is_kept[DICE_MAX_DICE]; /* 1 when rolls[i] counts towards the total */
    int nrolls;
    int kept[DICE_MAX_DICE]; /* the kept dice's faces, in roll order (unsigned: see term sign) */
    int nkept;
    int modifier; /* signed sum of the constant terms */
    int total;    /* signed sum of the kept dice per group, plus modifier */
};

/*
 * A source of uniform random integers: uniform(ctx, n) returns a value in
 * 0..n-1, each equally likely (n >= 1). The caller owns ctx.
 */
struct dice_rng {
    uint32_t (*uniform)(void *ctx, uint32_t upper_bound);
    void *ctx;
};

/* State of a seeded generator: caller-allocated, used by one thread at a time. */
struct dice_seeded {
    unsigned char key[32];
    uint64_t block;        /* index of the next ChaCha20 block */
    unsigned char buf[64]; /* the current block's keystream */
    unsigned pos;          /* bytes of buf already used */
};

/*
 * A generator backed by libsodium's randombytes_uniform(): unpredictable and
 * safe to share between threads. sodium_init() must have run first.
 */
struct dice_rng dice_rng_sodium(void);

/*
 * Initialise `state` from `seed` and return a generator reading it. The
 * sequence is a function of the seed alone, identical on every machine and
 * libsodium version: the ChaCha20 keystream (original 64-bit nonce, all zero)
 * under the key BLAKE2b-256(seed as 8 little-endian bytes), read as
 * little-endian 32-bit words, with rejection sampling for uniformity. The
 * returned rng borrows `state`, which must outlive it.
 */
struct dice_rng dice_rng_seeded(struct dice_seeded *state, uint64_t seed);

/*
 * Parse expr[0..len) (not NUL-terminated; NUL bytes are syntax errors) into
 * `out`. Returns 0, or ERR_INVALID (common/err.h) for any refused expression,
 * with the reason in `err` (may be NULL) and `out` zeroed. Only the first
 * problem is reported: syntax errors make the rest of the text meaningless.
 */
int dice_parse(const char *expr, size_t len, struct dice_expr *out, struct dice_error *err);

/*
 * Roll `e` with `rng` into `out`. Dice are rolled term by term, left to right;
 * within a keep/drop group ties are broken by position (of equal dice, the
 * earlier counts as the lower). Returns 0; ERR_INVALID when `e` breaks the
 * bounds dice_parse() guarantees; ERR_GENERIC when the rng returns a value
 * outside 0..n-1. On error `out` is zeroed.
 */
int dice_roll(const struct dice_expr *e, const struct dice_rng *rng, struct dice_result *out);

/*
 * Write the canonical text of `e` ("4d6kh3+2", "-1d4+3"; explicit counts,
 * lower-case) into buf[0..size), NUL-terminated. Returns the length it needs
 * (as snprintf does); with size >= DICE_FORMAT_MAX it always fits. Parsing the
 * output gives back `e` (term positions aside).
 */
size_t dice_format(const struct dice_expr *e, char *buf, size_t size);

/*
 * Roll six ability scores, 4d6 drop the lowest each: dice[i] gets the four
 * faces in roll order, scores[i] the sum of the highest three (3..18). Cannot
 * fail: a misbehaving rng's values are reduced modulo 6.
 */
void dice_ability_scores(const struct dice_rng *rng, int dice[6][4], int scores[6]);

#endif
