/*
 * common/file.c - see file.h.
 */
#include "common/file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/xmalloc.h"

int file_read_bounded(const char *path, size_t limit, const char *what, char **buf, size_t *len, struct err *e)
{
    struct stat st;
    char *p = NULL;
    size_t n = 0, cap;
    int fd, rc = 0;

    *buf = NULL;
    *len = 0;
    fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
    if (fd < 0)
        return err_set(e, ERR_IO, "cannot open \"%s\": %s", path, strerror(errno));
    if (fstat(fd, &st) != 0) {
        rc = err_set(e, ERR_IO, "cannot stat \"%s\": %s", path, strerror(errno));
        goto out;
    }
    if (!S_ISREG(st.st_mode)) {
        rc = err_set(e, ERR_IO, "\"%s\" is not a regular file", path);
        goto out;
    }
    if ((unsigned long long)st.st_size > limit) {
        rc = err_set(e, ERR_TOO_LARGE, "%s: %lld bytes is over the limit of %zu bytes for %s", path,
                     (long long)st.st_size, limit, what);
        goto out;
    }
    cap = (size_t)st.st_size + 1; /* one more to notice a file that grew */
    p = xmalloc(cap + 1);
    for (;;) {
        ssize_t got = read(fd, p + n, cap - n);
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0) {
            rc = err_set(e, ERR_IO, "cannot read \"%s\": %s", path, strerror(errno));
            goto out;
        }
        if (got == 0)
            break;
        n += (size_t)got;
        if (n == cap) {
            if (cap > limit) {
                rc = err_set(e, ERR_TOO_LARGE, "%s: over the limit of %zu bytes for %s", path, limit, what);
                goto out;
            }
            cap = cap * 2 < limit + 1 ? cap * 2 : limit + 1;
            p = xrealloc(p, cap + 1);
        }
    }
    p[n] = '\0';
    *buf = p;
    *len = n;
    p = NULL;
out:
    free(p);
    close(fd);
    return rc;
}
