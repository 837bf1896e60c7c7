/* router.c — a fixed table of path patterns; "{}" captures one segment. */
#include <stdio.h>
#include <string.h>

#include "http/internal.h"

static const char *const method_names[HTTP_NMETHODS] = {"GET", "POST", "PUT", "PATCH", "DELETE"};

http_method http_method_parse(const char *m)
{
    for (int i = 0; i < HTTP_NMETHODS; i++)
        if (strcmp(m, method_names[i]) == 0)
            return (http_method)i;
    return HTTP_OTHER;
}

const char *http_method_name(http_method m)
{
    return m < HTTP_NMETHODS ? method_names[m] : "OTHER";
}

bool http_route_add(kura_http *srv, const http_route *route)
{
    if (srv->nroutes >= HTTP_MAX_ROUTES)
        return false;
    srv->routes[srv->nroutes++] = *route;
    return true;
}

/* Matches one pattern against path segment by segment. Captured segments are
 * copied; one longer than HTTP_PARAM_BYTES does not match (a 404, not a
 * truncated key). */
static bool match(const char *pattern, const char *path, http_req *r)
{
    size_t n = 0;
    while (*pattern && *path) {
        if (*pattern != '/' || *path != '/')
            return false;
        pattern++, path++;
        size_t seg = strcspn(path, "/");
        if (strncmp(pattern, "{}", 2) == 0 && (pattern[2] == '/' || pattern[2] == '\0')) {
            if (seg == 0 || seg >= HTTP_PARAM_BYTES || n >= HTTP_MAX_PARAMS)
                return false;
            memcpy(r->params[n], path, seg);
            r->params[n][seg] = '\0';
            n++;
            pattern += 2;
        } else {
            size_t pseg = strcspn(pattern, "/");
            if (pseg != seg || strncmp(pattern, path, seg) != 0)
                return false;
            pattern += pseg;
        }
        path += seg;
    }
    if (*pattern || *path)
        return false;
    r->nparams = n;
    return true;
}

bool http_route_match(kura_http *srv, http_req *r)
{
    for (size_t i = 0; i < srv->nroutes; i++)
        if (match(srv->routes[i].pattern, r->url, r)) {
            r->route = (int)i;
            r->ctx = srv->routes[i].ctx;
            return true;
        }
    r->route = HTTP_ROUTE_NONE;
    return false;
}

void http_route_allow(const http_route *route, char *out, size_t size)
{
    size_t len = 0;
    out[0] = '\0';
    for (int i = 0; i < HTTP_NMETHODS; i++)
        if (route->methods[i] && len < size) {
            int w = snprintf(out + len, size - len, "%s%s", len ? ", " : "", method_names[i]);
            if (w < 0)
                break;
            len += (size_t)w;
        }
}
