/*
 * server/sync.c - see sync.h.
 */
#include "server/sync.h"

#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <time.h>

struct sync_status *sync_status_new(void)
{
    void *p = mmap(NULL, sizeof(struct sync_status), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        return NULL;
    memset(p, 0, sizeof(struct sync_status));
    return p;
}

size_t sync_address(pid_t master, void *out)
{
    struct sockaddr_un *sa = out;
    memset(sa, 0, sizeof(*sa));
    sa->sun_family = AF_UNIX;
    int n = snprintf(sa->sun_path + 1, sizeof(sa->sun_path) - 1, "character-api-sync-%d", (int)master);
    return offsetof(struct sockaddr_un, sun_path) + 1 + (size_t)n;
}

int64_t sync_now_ms(void)
{
    struct timeval tv;
    gettimeofday(&tv, NULL);
    return (int64_t)tv.tv_sec * 1000 + tv.tv_usec / 1000;
}

int64_t sync_parse_time_ms(const char *text)
{
    struct tm tm;
    memset(&tm, 0, sizeof(tm));
    int ms = 0;
    if (text == NULL)
        return 0;
    const char *rest = strptime(text, "%Y-%m-%dT%H:%M:%S", &tm);
    if (rest == NULL)
        return 0;
    if (*rest == '.') {
        int digits = 0;
        for (rest++; *rest >= '0' && *rest <= '9'; rest++, digits++)
            if (digits < 3)
                ms = ms * 10 + (*rest - '0');
        while (digits > 0 && digits < 3) {
            ms *= 10;
            digits++;
        }
    }
    return (int64_t)timegm(&tm) * 1000 + ms;
}
