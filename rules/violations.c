/*
 * rules/violations.c - see violations.h.
 */
#include "rules/violations.h"

#include <stdarg.h>
#include <stdio.h>

void violations_init(struct violations *v)
{
    v->n = 0;
    v->truncated = 0;
}

void violations_add(struct violations *v, const char *field, const char *code, const char *fmt, ...)
{
    if (v->n >= VIOLATIONS_MAX) {
        v->truncated = 1;
        return;
    }
    struct violation *x = &v->items[v->n++];
    snprintf(x->field, sizeof(x->field), "%s", field);
    x->code = code;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(x->message, sizeof(x->message), fmt, ap);
    va_end(ap);
}
