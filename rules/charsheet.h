/*
 * rules/charsheet.h - the deriving half of the rules engine (internal to
 * rules/): turns what charcheck_run() resolved into a `struct sheet`. Pure
 * arithmetic over the ruleset; best-effort on an invalid build.
 */
#ifndef RULES_CHARSHEET_H
#define RULES_CHARSHEET_H

#include "rules/charcheck.h"

/* Fill `out` (zeroed first) from `st`; out->complete when race, class and scores were usable. */
void charsheet_derive(const struct charstate *st, struct sheet *out);

#endif
