/*
 * head.c — what the head of a request (its target and header fields) may
 * hold, decided when kura first sees the request, before any of its body is
 * read:
 *
 *   - no percent-encoded NUL in the path or a query parameter: C strings end
 *     there, so "/users/1%00" would read as "/users/1".
 *
 * The target is looked at raw (http_head_target, from libmicrohttpd's URI log
 * callback, before it is decoded and split).
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "http/internal.h"

void http_head_target(http_target *t, const char *uri)
{
    memset(t, 0, sizeof *t);
    t->len = strlen(uri);
    const char *query = strchr(uri, '?');
    size_t path_len = query ? (size_t)(query - uri) : t->len;
    /* %00 is the only way to a decoded NUL (libmicrohttpd decodes %XX with two
     * hex digits; '+' becomes a space). */
    for (const char *p = uri; (p = strstr(p, "%00")) != NULL; p += 3) {
        if ((size_t)(p - uri) < path_len)
            t->nul_path = true;
        else
            t->nul_query = true;
    }
}

static void problem(http_head_problem *p, unsigned status, bool close, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void problem(http_head_problem *p, unsigned status, bool close, const char *fmt, ...)
{
    p->status = status;
    p->close = close;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(p->detail, sizeof p->detail, fmt, ap);
    va_end(ap);
}

bool http_head_check(const kura_http *srv, struct MHD_Connection *mc, const http_target *t,
                     const char *version, http_head_problem *p)
{
    (void)srv, (void)mc, (void)version;
    if (t && t->nul_path) {
        problem(p, 400, false, "NUL byte in the path");
        return false;
    }
    if (t && t->nul_query) {
        problem(p, 400, false, "NUL byte in a query parameter");
        return false;
    }
    return true;
}
