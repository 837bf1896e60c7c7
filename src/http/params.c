/*
 * params.c — query parameter values the built-in routes share, so that one
 * parameter means one thing on every route.
 */
#include <string.h>

#include "http/internal.h"

int http_limit_param(const char *text, int64_t min, int64_t cap, int64_t *out)
{
    if (!text || !*text || strspn(text, "0123456789") != strlen(text))
        return -1;
    /* Digits only: a number past the cap, however long, is the cap. */
    int64_t v = 0;
    for (const char *p = text; *p; p++) {
        v = v * 10 + (*p - '0');
        if (v > cap) {
            *out = cap;
            return 1;
        }
    }
    if (v < min)
        return -1;
    *out = v;
    return 0;
}
