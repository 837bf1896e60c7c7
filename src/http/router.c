/*
 * router.c — the route table: path patterns matched in order, "{name}"
 * capturing one segment. The table grows while the server is built and is
 * fixed once it listens, so worker threads read it without locks.
 */
#include <stdio.h>
#include <stdlib.h>
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

bool http_own(kura_http *srv, void *p, kura_error *err)
{
    if (!p)
        return kura_fail(err, KURA_NOMEM, NULL, "out of memory");
    if (srv->nowned == srv->owned_cap) {
        size_t cap = srv->owned_cap ? srv->owned_cap * 2 : 16;
        void **owned = realloc(srv->owned, cap * sizeof *owned);
        if (!owned) {
            free(p);
            return kura_fail(err, KURA_NOMEM, NULL, "out of memory");
        }
        srv->owned = owned;
        srv->owned_cap = cap;
    }
    srv->owned[srv->nowned++] = p;
    return true;
}

const char *http_own_path(kura_http *srv, const char *prefix, const char *suffix, kura_error *err)
{
    size_t n = strlen(prefix) + strlen(suffix) + 1;
    char *p = malloc(n);
    if (p)
        snprintf(p, n, "%s%s", prefix, suffix);
    return http_own(srv, p, err) ? p : NULL;
}

bool http_path_ok(const char *path)
{
    if (!path || path[0] != '/' || !path[1] || strlen(path) > 200)
        return false;
    for (const char *p = path; *p; p++) {
        if (*p == '/' && (p[1] == '/' || p[1] == '\0'))
            return false; /* an empty segment, or a trailing slash */
        if ((unsigned char)*p <= ' ' || strchr("{}?#\"\\", *p))
            return false;
    }
    return true;
}

/* Whether the pattern segment at p (up to '/' or the end, `len` bytes) is "{...}". */
static bool is_capture(const char *p, size_t len)
{
    return len >= 2 && p[0] == '{' && p[len - 1] == '}';
}

/* Whether two patterns match the same paths: the same segments, any {name}
 * matching any other. */
static bool same_shape(const char *a, const char *b)
{
    while (*a && *b) {
        size_t na = strcspn(a + 1, "/") + 1, nb = strcspn(b + 1, "/") + 1;
        bool ca = is_capture(a + 1, na - 1), cb = is_capture(b + 1, nb - 1);
        if (ca != cb || (!ca && (na != nb || strncmp(a, b, na) != 0)))
            return false;
        a += na;
        b += nb;
    }
    return !*a && !*b;
}

bool http_route_add(kura_http *srv, const http_route *route, kura_error *err)
{
    if (srv->daemon)
        return kura_fail(err, KURA_CONFLICT, NULL,
                         "routes are added before kura_http_listen (adding %.64s)", route->pattern);
    /* The first route that matches a path answers it: a second of the same
     * shape would never be reached (a model at /health hid the health check). */
    for (size_t i = 0; i < srv->nroutes; i++)
        if (same_shape(srv->routes[i].pattern, route->pattern))
            return kura_fail(err, KURA_CONFLICT, NULL,
                             "%.64s is routed already (as %.64s): another path is needed, e.g. "
                             "a model's \"path\" in its schema file",
                             route->pattern, srv->routes[i].pattern);
    if (srv->nroutes >= HTTP_MAX_ROUTES)
        return kura_fail(err, KURA_CONFIG, NULL,
                         "the route table is full (%d routes): %.64s was not added",
                         HTTP_MAX_ROUTES, route->pattern);
    if (srv->nroutes == srv->routes_cap) {
        size_t cap = srv->routes_cap ? srv->routes_cap * 2 : 16;
        http_route *routes = realloc(srv->routes, cap * sizeof *routes);
        if (!routes)
            return kura_fail(err, KURA_NOMEM, NULL, "out of memory");
        srv->routes = routes;
        srv->routes_cap = cap;
    }
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
        size_t pseg = strcspn(pattern, "/");
        if (is_capture(pattern, pseg)) {
            if (seg == 0 || seg >= HTTP_PARAM_BYTES || n >= HTTP_MAX_PARAMS)
                return false;
            memcpy(r->params[n], path, seg);
            r->params[n][seg] = '\0';
            n++;
        } else if (pseg != seg || strncmp(pattern, path, seg) != 0) {
            return false;
        }
        pattern += pseg;
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

typedef struct query_scan {
    const char *allowed; /* space-separated names, or NULL */
    char *name;
    size_t size;
    bool unknown;
} query_scan;

static bool takes(const char *allowed, const char *key)
{
    size_t n = strlen(key);
    for (const char *p = allowed; p && *p;) {
        size_t len = strcspn(p, " ");
        if (len == n && strncmp(p, key, n) == 0)
            return true;
        p += len;
        p += *p == ' ';
    }
    return false;
}

static enum MHD_Result scan_arg(void *cls, enum MHD_ValueKind kind, const char *key,
                                const char *value)
{
    (void)kind;
    (void)value;
    query_scan *s = cls;
    if (takes(s->allowed, key))
        return MHD_YES;
    snprintf(s->name, s->size, "%s", key);
    for (char *c = s->name; *c; c++) /* quoted in a JSON answer: printable ASCII only */
        if ((unsigned char)*c < ' ' || (unsigned char)*c > '~')
            *c = '?';
    s->unknown = true;
    return MHD_NO; /* the first one is enough to answer */
}

bool http_query_unknown(http_req *r, char *name, size_t size)
{
    const http_route *route = &r->srv->routes[r->route];
    if (route->open_query & (1u << r->method))
        return false;
    query_scan s = {.allowed = route->query[r->method], .name = name, .size = size};
    MHD_get_connection_values(r->conn, MHD_GET_ARGUMENT_KIND, scan_arg, &s);
    return s.unknown;
}

bool http_add_get(kura_http *srv, const char *path, const char *fallback, http_handler fn,
                  const char *summary, kura_error *err)
{
    if (!srv)
        return kura_fail(err, KURA_INVALID, NULL, "no server");
    if (!path)
        path = fallback;
    if (!http_path_ok(path))
        return kura_fail(err, KURA_INVALID, NULL, "'%.64s' is not a path", path);
    const char *own = http_own_path(srv, path, "", err);
    return own &&
           http_route_add(
               srv, &(http_route){.pattern = own, .methods = {[HTTP_GET] = fn}, .summary = summary},
               err);
}

void http_route_allow(const http_route *route, char *out, size_t size)
{
    size_t len = 0;
    out[0] = '\0';
    for (int i = 0; i < HTTP_NMETHODS; i++)
        if ((route->methods[i] || route->user[i]) && len < size) {
            int w = snprintf(out + len, size - len, "%s%s%s", len ? ", " : "", method_names[i],
                             i == HTTP_GET ? ", HEAD" : "");
            if (w < 0)
                break;
            len += (size_t)w;
        }
}
