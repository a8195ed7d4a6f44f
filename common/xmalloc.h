/*
 * common/xmalloc.h - allocation that never returns NULL. Out of memory aborts the
 * process (a worker is then respawned by the master); callers never check.
 */
#ifndef COMMON_XMALLOC_H
#define COMMON_XMALLOC_H

#include <stddef.h>

void *xmalloc(size_t n);
void *xcalloc(size_t count, size_t size);
void *xrealloc(void *p, size_t n);
/* Copy of a NUL-terminated string; xstrdup(NULL) returns NULL. */
char *xstrdup(const char *s);
/* Copy of the first n bytes of s, NUL-terminated. */
char *xstrndup(const char *s, size_t n);

#endif
