/*
 * handle.c — a program's own handlers (kura_http_handle): a route whose
 * methods call the program's functions through one trampoline, so that they
 * pass the same checks (route, method, token, content type, size) as the
 * built-in routes before they run.
 */
#include <ctype.h>
#include <string.h>

#include "http/internal.h"

static enum MHD_Result call_user(http_req *r)
{
    const http_route *route = &r->srv->routes[r->route];
    route->user[r->method](r, r->ctx);
    return r->answered ? r->result : MHD_YES; /* dispatch answers 500 for a silent handler */
}

/* "/a/{x}/b": literal segments of URL path characters, or "{name}" captures.
 * Quotes and backslashes are refused: the pattern is a label in /metrics. */
static bool pattern_ok(const char *pattern, size_t *ncaptures)
{
    *ncaptures = 0;
    if (!pattern || pattern[0] != '/' || strlen(pattern) > 200)
        return false;
    if (!pattern[1])
        return true; /* "/" */
    for (const char *p = pattern; *p;) {
        if (*p != '/')
            return false;
        p++;
        size_t len = strcspn(p, "/");
        if (len == 0)
            return false;
        bool capture = p[0] == '{' && p[len - 1] == '}' && len >= 2;
        for (size_t i = 0; i < len; i++) {
            unsigned char c = (unsigned char)p[i];
            bool brace = (c == '{' && i == 0) || (c == '}' && i == len - 1);
            if (brace && capture)
                continue;
            if (!isalnum(c) && !strchr("-._~%!$&'()*+,;=:@", c))
                return false;
        }
        *ncaptures += capture;
        p += len;
    }
    return *ncaptures <= HTTP_MAX_PARAMS;
}

bool kura_http_handle(kura_http *srv, const char *method, const char *pattern, kura_http_handler fn,
                      void *ctx, unsigned flags, kura_error *err)
{
    if (!srv || !fn || !method)
        return kura_fail(err, KURA_INVALID, NULL, "kura_http_handle needs a server and a handler");
    http_method m = http_method_parse(method);
    if (m == HTTP_OTHER)
        return kura_fail(err, KURA_INVALID, NULL,
                         "'%.16s' is not one of GET, POST, PUT, PATCH, DELETE", method);
    size_t ncaptures;
    if (!pattern_ok(pattern, &ncaptures))
        return kura_fail(err, KURA_INVALID, NULL,
                         "'%.64s' is not a route pattern (\"/literal/{name}\", at most %d "
                         "{name} segments)",
                         pattern ? pattern : "(null)", HTTP_MAX_PARAMS);
    if (srv->daemon)
        return kura_fail(err, KURA_CONFLICT, NULL, "routes are added before kura_http_listen");
    /* Another method on a pattern this program already has: the same route. */
    for (size_t i = 0; i < srv->nroutes; i++) {
        http_route *r = &srv->routes[i];
        if (strcmp(r->pattern, pattern) != 0)
            continue;
        if (r->methods[m])
            return kura_fail(err, KURA_CONFLICT, NULL, "%s %.64s has a handler already", method,
                             pattern);
        bool same_kind = r->ctx == ctx && r->protect == !(flags & KURA_HTTP_OPEN) &&
                         r->body == !(flags & KURA_HTTP_ANY_BODY);
        for (int k = 0; k < HTTP_NMETHODS && same_kind; k++)
            same_kind = !r->methods[k] || r->user[k];
        if (!same_kind)
            return kura_fail(err, KURA_CONFLICT, NULL,
                             "%.64s is routed already with another context or flags", pattern);
        r->methods[m] = call_user;
        r->user[m] = fn;
        return true;
    }
    const char *own = http_own_path(srv, pattern, "", err);
    if (!own)
        return false;
    http_route route = {.pattern = own,
                        .ctx = ctx,
                        .protect = !(flags & KURA_HTTP_OPEN),
                        .body = !(flags & KURA_HTTP_ANY_BODY)};
    route.methods[m] = call_user;
    route.user[m] = fn;
    route.open_query = ~0u; /* a program's handler reads the parameters it takes */
    return http_route_add(srv, &route, err);
}
