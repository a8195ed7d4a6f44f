/*
 * rules/violations.h - a bounded list of validation problems, each with a field
 * path ("ability_scores.assign.str"), a code from API.md ("out_of_range") and a
 * message. Validators append every problem they find; the server turns the
 * list into a 422 problem+json. Owns its memory.
 */
#ifndef RULES_VIOLATIONS_H
#define RULES_VIOLATIONS_H

#include <stddef.h>

#define VIOLATIONS_MAX 100

struct violation {
    char field[128];
    const char *code;   /* static string, e.g. "required" */
    char message[200];
};

struct violations {
    struct violation items[VIOLATIONS_MAX];
    size_t n;
    int truncated;      /* more problems were found than fit */
};

void violations_init(struct violations *v);

/* Append one problem; past VIOLATIONS_MAX it only sets `truncated`. */
void violations_add(struct violations *v, const char *field, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

#endif
