/*
 * common/err.c - see err.h. No allocation; safe to call anywhere.
 */
#include "common/err.h"

#include <stdarg.h>
#include <stdio.h>

int err_set(struct err *e, int code, const char *fmt, ...)
{
    if (e == NULL)
        return code;
    e->code = code;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
    va_end(ap);
    return code;
}

const char *err_name(int code)
{
    switch (code) {
    case ERR_OK: return "ok";
    case ERR_INVALID: return "invalid";
    case ERR_NOT_FOUND: return "not found";
    case ERR_CONFLICT: return "conflict";
    case ERR_IO: return "i/o error";
    case ERR_PENDING: return "pending migrations";
    case ERR_TOO_LARGE: return "too large";
    case ERR_UNAVAILABLE: return "unavailable";
    case ERR_DUPLICATE: return "duplicate";
    default: return "internal error";
    }
}
