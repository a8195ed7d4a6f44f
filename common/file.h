/*
 * common/file.h - reading a whole, bounded regular file: what the YAML and
 * CSV loaders share. A FIFO or device is refused without blocking; a file
 * over its limit is refused before it is read (or when it grows meanwhile).
 */
#ifndef COMMON_FILE_H
#define COMMON_FILE_H

#include <stddef.h>

#include "common/err.h"

/*
 * Read the regular file `path` into *buf (allocated, caller frees; NUL-terminated
 * for convenience) and *len. ERR_IO when it cannot be opened or read or is not a
 * regular file (a FIFO does not block: it is opened non-blocking and refused),
 * ERR_TOO_LARGE over `limit` bytes ("PATH: N bytes is over the limit of L bytes
 * for WHAT"). *buf is NULL on failure.
 */
int file_read_bounded(const char *path, size_t limit, const char *what, char **buf, size_t *len, struct err *e);

#endif
