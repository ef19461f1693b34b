/* What the floor servers share: finding an HTTP/1.1 request's Content-Length. */
#ifndef FNHOST_BENCH_FLOOR_HTTP_H
#define FNHOST_BENCH_FLOOR_HTTP_H

#include <stdlib.h>
#include <strings.h>

/* Content-Length of the header block [start, end), 0 when absent. */
static inline long content_length(const char *start, const char *end)
{
    static const char name[] = "\r\ncontent-length:";
    for (const char *p = start; p + sizeof name - 1 < end; p++) {
        if (strncasecmp(p, name, sizeof name - 1) == 0)
            return strtol(p + sizeof name - 1, NULL, 10);
    }
    return 0;
}

#endif
