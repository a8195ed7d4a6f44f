/*
 * server/listen.c - see listen.h.
 */
#include "server/listen.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

int listen_is_unix(const char *spec)
{
    return strncmp(spec, "unix:", 5) == 0 || strchr(spec, '/') != NULL;
}

static int open_unix(const char *spec, struct err *e)
{
    const char *path = strncmp(spec, "unix:", 5) == 0 ? spec + 5 : spec;
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    if (strlen(path) == 0 || strlen(path) >= sizeof(sa.sun_path))
        return err_set(e, ERR_INVALID, "bind \"%s\": unix socket path must be 1..%zu bytes", spec,
                       sizeof(sa.sun_path) - 1);
    strcpy(sa.sun_path, path);
    struct stat st;
    if (lstat(path, &st) == 0) {
        if (!S_ISSOCK(st.st_mode))
            return err_set(e, ERR_IO, "bind \"%s\": file exists and is not a socket", spec);
        unlink(path);
    }
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return err_set(e, ERR_IO, "bind \"%s\": socket: %s", spec, strerror(errno));
    if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 || listen(fd, 1024) != 0) {
        int saved = errno;
        close(fd);
        return err_set(e, ERR_IO, "bind \"%s\": %s", spec, strerror(saved));
    }
    return fd;
}

int listen_open(const char *spec, int reuseport, struct err *e)
{
    if (listen_is_unix(spec))
        return open_unix(spec, e);
    char host[256];
    const char *colon = strrchr(spec, ':');
    if (colon == NULL || colon == spec + strlen(spec) - 1)
        return err_set(e, ERR_INVALID, "bind \"%s\": expected HOST:PORT", spec);
    size_t hlen = (size_t)(colon - spec);
    if (hlen >= sizeof(host))
        return err_set(e, ERR_INVALID, "bind \"%s\": host too long", spec);
    memcpy(host, spec, hlen);
    host[hlen] = '\0';
    char *h = host;
    if (hlen >= 2 && host[0] == '[' && host[hlen - 1] == ']') {
        host[hlen - 1] = '\0';
        h = host + 1;
    }
    int any = h[0] == '\0' || strcmp(h, "*") == 0;
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE}, *res;
    int g = getaddrinfo(any ? NULL : h, colon + 1, &hints, &res);
    if (g != 0)
        return err_set(e, ERR_INVALID, "bind \"%s\": %s", spec, gai_strerror(g));
    int fd = -1;
    char why[128] = "no address";
    for (struct addrinfo *ai = res; ai != NULL && fd < 0; ai = ai->ai_next) {
        fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
        if (fd < 0)
            continue;
        int one = 1;
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
        if (reuseport)
            setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one));
        if (bind(fd, ai->ai_addr, ai->ai_addrlen) != 0 || listen(fd, 1024) != 0) {
            snprintf(why, sizeof(why), "%s", strerror(errno));
            close(fd);
            fd = -1;
        }
    }
    freeaddrinfo(res);
    if (fd < 0)
        return err_set(e, ERR_IO, "bind \"%s\": %s", spec, why);
    return fd;
}

void listen_describe(int fd, char *out, size_t outlen)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof(ss);
    if (getsockname(fd, (struct sockaddr *)&ss, &len) != 0) {
        snprintf(out, outlen, "fd %d", fd);
        return;
    }
    if (ss.ss_family == AF_UNIX) {
        snprintf(out, outlen, "unix:%s", ((struct sockaddr_un *)&ss)->sun_path);
        return;
    }
    char host[INET6_ADDRSTRLEN] = "?";
    int port = 0;
    if (ss.ss_family == AF_INET) {
        inet_ntop(AF_INET, &((struct sockaddr_in *)&ss)->sin_addr, host, sizeof(host));
        port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
        snprintf(out, outlen, "%s:%d", host, port);
    } else {
        inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&ss)->sin6_addr, host, sizeof(host));
        port = ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
        snprintf(out, outlen, "[%s]:%d", host, port);
    }
}
