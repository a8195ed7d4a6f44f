/*
 * rules/character.c - see character.h. (Skeleton: being written.)
 */
#include "rules/character.h"

#include <string.h>

void character_evaluate(const struct ruleset *rs, const struct build_policy *p, const struct build *b,
                        enum character_mode mode, struct violations *v, struct sheet *out)
{
    (void)rs;
    (void)p;
    (void)mode;
    memset(out, 0, sizeof(*out));
    build_validate_name_level(b, BF_NAME, v);
}

void character_level_up(const struct ruleset *rs, const struct build_policy *p, const struct build *b,
                        const struct level_up *req, const struct dice_rng *rng, struct violations *v,
                        struct build_advance *out)
{
    (void)rs;
    (void)p;
    (void)b;
    (void)req;
    (void)rng;
    (void)v;
    memset(out, 0, sizeof(*out));
}

void character_random(const struct ruleset *rs, const struct dice_rng *rng, struct build *out)
{
    (void)rs;
    (void)rng;
    memset(out, 0, sizeof(*out));
}
