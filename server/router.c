/*
 * server/router.c - see router.h. Linear over a small table: a handful of
 * segment comparisons per route is cheaper than building a tree for ~20 routes.
 */
#include "server/router.h"

#include <string.h>

/* Match one pattern; on success append placeholders to m->params. */
static int match_path(const char *pat, const char *path, size_t plen, struct route_match *m)
{
    /* Most patterns are told apart by their literal head: compare it in one go. */
    size_t head = strcspn(pat, "{");
    if (plen < head || memcmp(pat, path, head) != 0)
        return 0;
    if (pat[head] == '\0')
        return plen == head ? (m->nparams = 0, 1) : 0;
    size_t i = head, np = 0;
    pat += head;
    while (*pat != '\0') {
        if (*pat == '{') {
            const char *close = strchr(pat, '}');
            size_t start = i;
            while (i < plen && path[i] != '/')
                i++;
            if (i == start || np >= ROUTER_MAX_PARAMS)
                return 0;
            m->params[np].base = path + start;
            m->params[np].len = i - start;
            np++;
            pat = close + 1;
        } else {
            if (i >= plen || path[i] != *pat)
                return 0;
            i++;
            pat++;
        }
    }
    if (i != plen)
        return 0;
    m->nparams = np;
    return 1;
}

enum router_result router_match(const struct route *routes, size_t n, const char *method, size_t mlen, const char *path,
                                size_t plen, struct route_match *m)
{
    /* HEAD is GET without the body (RFC 9110 9.3.2); h2o leaves the body out. */
    if (mlen == 4 && memcmp(method, "HEAD", 4) == 0) {
        method = "GET";
        mlen = 3;
    }
    int path_seen = 0;
    m->route = NULL;
    m->nparams = 0;
    m->allow[0] = '\0';
    m->path_flags = ~0u;
    for (size_t k = 0; k < n; k++) {
        if (!match_path(routes[k].pattern, path, plen, m))
            continue;
        if (strlen(routes[k].method) == mlen && memcmp(routes[k].method, method, mlen) == 0) {
            m->route = &routes[k];
            return ROUTER_FOUND;
        }
        size_t used = strlen(m->allow), add = strlen(routes[k].method);
        if (strstr(m->allow, routes[k].method) == NULL && used + add + 3 < sizeof(m->allow)) {
            if (used > 0)
                strcat(m->allow, ", ");
            strcat(m->allow, routes[k].method);
            if (strcmp(routes[k].method, "GET") == 0 && used + add + 9 < sizeof(m->allow))
                strcat(m->allow, ", HEAD");
        }
        m->path_flags &= routes[k].flags;
        path_seen = 1;
    }
    m->nparams = 0;
    if (!path_seen)
        m->path_flags = 0;
    return path_seen ? ROUTER_NO_METHOD : ROUTER_NO_PATH;
}
