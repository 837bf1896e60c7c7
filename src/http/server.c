/*
 * server.c — libmicrohttpd set-up and the life of one request: route, method,
 * token, content type and size are checked as soon as the headers are in (so
 * a request that will fail never has its body read), the body is gathered up
 * to the limit, then the route's handler runs with the app made current.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <stdio.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "http/internal.h"

/* --- checks made when the headers are in ---------------------------------- */

/* Whether the request carries the API token. Both sides are hashed first so
 * that the constant-time compare sees equal lengths whatever was sent. */
static bool authorised(http_req *r)
{
    const char *h =
        MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
    if (!h || strncasecmp(h, "Bearer ", 7) != 0)
        return false;
    const char *tok = h + 7;
    while (*tok == ' ')
        tok++;
    unsigned char hash[sizeof r->srv->token_hash];
    crypto_generichash(hash, sizeof hash, (const unsigned char *)tok, strlen(tok), NULL, 0);
    return sodium_memcmp(hash, r->srv->token_hash, sizeof hash) == 0;
}

/* application/json, optionally with parameters ("; charset=utf-8"). */
static bool json_content_type(http_req *r)
{
    const char *ct =
        MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE);
    if (!ct)
        return false;
    while (*ct == ' ')
        ct++;
    static const char json[] = "application/json";
    if (strncasecmp(ct, json, sizeof json - 1) != 0)
        return false;
    char next = ct[sizeof json - 1];
    return next == '\0' || next == ';' || next == ' ';
}

static bool has_body(http_req *r)
{
    return MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH) ||
           MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_TRANSFER_ENCODING);
}

static enum MHD_Result dispatch(http_req *r)
{
    const http_route *route = &r->srv->routes[r->route];
    char unknown[64];
    if (http_query_unknown(r, unknown, sizeof unknown))
        return http_problem(r, 400, "unknown query parameter '%s'", unknown);
    kura_app *previous = kura_app_enter(r->srv->app);
    enum MHD_Result ret = route->methods[r->method](r);
    kura_app_leave(previous);
    if (!r->answered) /* a handler bug must still answer: never leave the client hanging */
        ret = http_problem(r, 500, "the request could not be completed");
    return ret;
}

/* Decides everything the headers can decide. Returns MHD_YES to go on (read
 * the body, or dispatch), or the result of an answer queued here. */
static enum MHD_Result check(http_req *r)
{
    kura_http *srv = r->srv;
    if (!http_route_match(srv, r))
        return http_problem(r, 404, "no resource at this path");
    const http_route *route = &srv->routes[r->route];
    if (r->method == HTTP_OTHER || !route->methods[r->method]) {
        char allow[64];
        http_route_allow(route, allow, sizeof allow);
        http_add_header(r, MHD_HTTP_HEADER_ALLOW, allow);
        return http_problem(r, 405, "%s is not allowed here", r->method_name);
    }
    bool mutating = r->method != HTTP_GET;
    if (mutating && route->protect && srv->api_token && !authorised(r)) {
        http_add_header(r, MHD_HTTP_HEADER_WWW_AUTHENTICATE, "Bearer");
        return http_problem(r, 401, "this request needs Authorization: Bearer <token>");
    }
    bool wants_body =
        route->body && (r->method == HTTP_POST || r->method == HTTP_PUT || r->method == HTTP_PATCH);
    if (wants_body && !json_content_type(r))
        return http_problem(r, 415, "the body must be application/json");
    const char *cl =
        MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
    if (cl) {
        char *end;
        errno = 0;
        unsigned long long n = strtoull(cl, &end, 10);
        if (errno || *end || n > srv->opts.max_body)
            return http_problem(r, 413, "the body is larger than %zu bytes", srv->opts.max_body);
    }
    r->checked = true;
    return MHD_YES;
}

static bool append_body(http_req *r, const char *data, size_t n)
{
    if (r->body_too_big)
        return true;
    if (r->body_len + n > r->srv->opts.max_body) {
        /* Keep reading (and dropping) so the 413 goes out on a clean request. */
        r->body_too_big = true;
        free(r->body);
        r->body = NULL;
        r->body_len = r->body_cap = 0;
        return true;
    }
    if (r->body_len + n + 1 > r->body_cap) {
        size_t cap = r->body_cap ? r->body_cap * 2 : 1024;
        while (cap < r->body_len + n + 1)
            cap *= 2;
        char *b = realloc(r->body, cap);
        if (!b)
            return false;
        r->body = b;
        r->body_cap = cap;
    }
    memcpy(r->body + r->body_len, data, n);
    r->body_len += n;
    r->body[r->body_len] = '\0';
    return true;
}

/* MHD_OPTION_URI_LOG_CALLBACK: the request line is in; its target is not yet
 * decoded nor split into path and parameters. */
static void *on_target(void *cls, const char *uri, struct MHD_Connection *conn)
{
    kura_http *srv = cls;
    http_conn *c = http_conn_of(conn);
    if (c) {
        http_head_target(&c->target, uri);
        if (c->target.params > srv->opts.max_params)
            http_quirk_drop_query(uri); /* refused (414): none is needed */
    }
    return NULL;
}

/* Refuses, before any body is read, a request whose head may not be served
 * (head.c); MHD_YES and nothing queued when it may. */
static enum MHD_Result check_head(http_req *r, const char *version)
{
    http_head_problem p;
    if (http_head_check(r->srv, r->conn, r->link ? &r->link->target : NULL, version, &p))
        return MHD_YES;
    if (p.close) /* what follows on the connection cannot be trusted to be a request */
        http_add_header(r, MHD_HTTP_HEADER_CONNECTION, "close");
    http_conn_arrived(r->link);
    return http_problem(r, p.status, "%s", p.detail);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **con_cls)
{
    kura_http *srv = cls;
    http_req *r = *con_cls;
    if (!r) {
        /* One allocation holds the request and copies of its path and method,
         * which the completion log needs after MHD's own buffers have moved on. */
        size_t ul = strlen(url) + 1, ml = strlen(method) + 1;
        r = malloc(sizeof *r + ul + ml);
        if (!r)
            return MHD_NO;
        memset(r, 0, offsetof(http_req, params)); /* the tables after it are read by count */
        char *u = (char *)(r + 1);
        memcpy(u, url, ul);
        memcpy(u + ul, method, ml);
        r->url = u;
        r->method_name = u + ul;
        r->srv = srv;
        r->conn = conn;
        r->method = http_method_parse(method);
        if (r->method == HTTP_OTHER && strcmp(method, MHD_HTTP_METHOD_HEAD) == 0) {
            /* RFC 9110 9.3.2: HEAD is GET without the body, which MHD leaves out. */
            r->method = HTTP_GET;
            r->head = true;
        }
        r->route = HTTP_ROUTE_NONE;
        r->start_us = http_now_us();
        r->link = http_conn_of(conn);
        if (r->link)
            r->link->seen = true;
        *con_cls = r;
        atomic_fetch_add_explicit(&srv->metrics.in_flight, 1, memory_order_relaxed);
        enum MHD_Result head = check_head(r, version);
        if (r->answered)
            return head;
        /* An answer queued in this first callback makes MHD close the connection
         * (it cannot know the body was consumed), so requests without a body are
         * checked and answered in the next one and keep their connection. Those
         * with a body are refused here, before it is read. */
        if (!has_body(r))
            return MHD_YES;
        enum MHD_Result ret = check(r);
        if (r->answered) /* nothing more will be read: the deadline is met */
            http_conn_arrived(r->link);
        return ret;
    }
    if (r->answered) { /* answered early: what is left of the body is dropped */
        *upload_data_size = 0;
        return MHD_YES;
    }
    if (*upload_data_size) {
        size_t n = *upload_data_size;
        if (!append_body(r, upload_data, n))
            return http_problem(r, 500, "out of memory");
        *upload_data_size = 0;
        /* A chunked body has no length to refuse up front, and MHD 0.9 takes no
         * answer mid-upload: the excess is read and dropped so the 413 can go out
         * at the end, but only up to a bound; past it the connection is cut. */
        if (r->body_too_big && (r->dropped += n) > 16 * srv->opts.max_body)
            return MHD_NO;
        return MHD_YES;
    }
    http_conn_arrived(r->link); /* the final call: the request is all in */
    if (r->body_too_big)
        return http_problem(r, 413, "the body is larger than %zu bytes", srv->opts.max_body);
    if (!r->checked) {
        enum MHD_Result ret = check(r);
        if (r->answered || ret != MHD_YES)
            return ret;
    }
    return dispatch(r);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    kura_http *srv = cls;
    http_req *r = *con_cls;
    http_conn_request_done(http_conn_of(conn));
    if (!r)
        return;
    uint64_t micros = http_now_us() - r->start_us;
    if (r->answered) {
        http_metrics_request(&srv->metrics, srv->nroutes, r->route, r->status, micros);
        http_log_access(srv, r, micros);
    } else {
        http_log(srv, KURA_LOG_DEBUG, "%s %s: connection ended before an answer (%d)",
                 r->method_name, r->url, (int)toe);
    }
    atomic_fetch_sub_explicit(&srv->metrics.in_flight, 1, memory_order_relaxed);
    free(r->body);
    free(r);
    *con_cls = NULL;
}

/* libmicrohttpd's messages about a client that went away mid-request: the
 * client's doing, not the server's, so debug lines (an attack would otherwise
 * write a warning per connection). Its messages are not translated. */
static const char *const client_gone[] = {
    "Connection socket is closed when reading request",
    "Socket has been disconnected when reading request",
    "Connection was closed by remote side with incomplete request",
    "Failed to send the response headers", /* also after kura's own answer (mhd_quirks.c) */
};

/* Its messages about a malformed request it answers itself: the client's error. */
static const char *const client_error[] = {
    "Failed to parse `Content-Length' header",
    "Too large value of 'Content-Length' header",
};

static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
    kura_http *srv = cls;
    /* One per refused connection: counted, and reported a tick at a time by
     * the watchdog rather than line by line. */
    static const char refused[] = "Server reached connection limit";
    if (strncmp(fmt, refused, sizeof refused - 1) == 0) {
        atomic_fetch_add_explicit(&srv->metrics.refused, 1, memory_order_relaxed);
        return;
    }
    if (http_quirk_error_log(srv, fmt, ap))
        return; /* answered by kura, which logged it */
    kura_log_level level = KURA_LOG_WARN;
    for (size_t i = 0; i < sizeof client_gone / sizeof client_gone[0]; i++)
        if (strncmp(fmt, client_gone[i], strlen(client_gone[i])) == 0)
            level = KURA_LOG_DEBUG;
    for (size_t i = 0; i < sizeof client_error / sizeof client_error[0]; i++)
        if (strncmp(fmt, client_error[i], strlen(client_error[i])) == 0)
            level = KURA_LOG_INFO;
    static const char answered[] = "Error processing request (HTTP response code is %u";
    if (strncmp(fmt, answered, sizeof answered - 1) == 0) {
        va_list copy;
        va_copy(copy, ap);
        unsigned status = va_arg(copy, unsigned);
        va_end(copy);
        if (status >= 400 && status < 500)
            level = KURA_LOG_INFO; /* libmicrohttpd's own 4xx: a bad request, not a fault */
    }
    if (level < srv->opts.log_level)
        return;
    char msg[512];
    vsnprintf(msg, sizeof msg, fmt, ap);
    size_t n = strlen(msg);
    while (n && (msg[n - 1] == '\n' || msg[n - 1] == '\r'))
        msg[--n] = '\0';
    http_log(srv, level, "libmicrohttpd: %s", msg);
}

/* --- build, listen and stop ------------------------------------------------ */

/*
 * libmicrohttpd keeps a connection's request in one memory pool of a fixed
 * size: the bytes read (the head, and whatever of the body came with it), a
 * 64-byte record for each header field, cookie and query parameter, the
 * Cookie value copied to be split, a folded field copied to be joined, and
 * the answer's head. When they do not fit it refuses the request, and with
 * too many parameters it cannot even answer (mhd_quirks.c). So the pool holds
 * the head as read, one copy of it, the records and the answer's head: the
 * worst request within the limits (service_http_hostile, header_limits: the
 * most parameters, fields and cookie bytes, and the largest body, in one
 * write) needs records + 2 x max_header + 16 KiB with libmicrohttpd 0.9.75,
 * 16 KiB less fails; another 16 KiB is the margin. No more than that:
 * libmicrohttpd zeroes the whole pool between two requests on a kept-alive
 * connection, so every byte of it is written on every request (it was 15% of
 * the service's CPU at 176 KiB) and is resident for every open connection.
 */
#define MHD_RECORD_BYTES 64 /* sizeof (struct MHD_HTTP_Header), 16-byte aligned */
static size_t connection_memory(const kura_http_opts *o)
{
    size_t records = ((size_t)o->max_params + o->max_fields) * MHD_RECORD_BYTES;
    return records + 2 * o->max_header + 32 * 1024;
}

static void free_server(kura_http *srv)
{
    http_conns_stop(srv);
    for (size_t i = 0; i < srv->nowned; i++)
        free(srv->owned[i]);
    free(srv->owned);
    free(srv->routes);
    http_metrics_free(&srv->metrics);
    http_hot_free(srv->hot);
    kura_sessions_free(srv->sessions);
    kura_sessions_free(srv->admin_sessions);
    if (srv->api_token)
        sodium_memzero(srv->api_token, strlen(srv->api_token));
    free(srv->api_token);
    free(srv->bind);
    free(srv);
}

kura_http *kura_http_new(kura_app *app, const kura_http_opts *opts, kura_error *err)
{
    kura_http_opts o;
    if (opts)
        o = *opts;
    else
        kura_http_opts_default(&o);
    if (!app) {
        kura_fail(err, KURA_INVALID, NULL, "no app to serve");
        return NULL;
    }
    if (!http_opts_check(&o, err))
        return NULL;
    if (sodium_init() < 0) {
        kura_fail(err, KURA_CONFIG, NULL, "libsodium could not be initialised");
        return NULL;
    }
    kura_http *srv = calloc(1, sizeof *srv);
    if (!srv) {
        kura_fail(err, KURA_NOMEM, NULL, "out of memory");
        return NULL;
    }
    srv->app = app;
    srv->opts = o;
    srv->opts.bind = NULL; /* copied below: the caller's string may go before listen */
    srv->opts.api_token = NULL;
    srv->bind = strdup(o.bind && *o.bind ? o.bind : "127.0.0.1");
    bool ok = srv->bind != NULL;
    if (ok && o.api_token && *o.api_token) {
        ok = (srv->api_token = strdup(o.api_token)) != NULL;
        if (ok)
            crypto_generichash(srv->token_hash, sizeof srv->token_hash,
                               (const unsigned char *)srv->api_token, strlen(srv->api_token), NULL,
                               0);
    }
    if (ok && o.cache_ttl_ms > 0)
        ok = (srv->hot = http_hot_new(o.cache_ttl_ms, o.cache_entries)) != NULL;
    if (!ok) {
        free_server(srv);
        kura_fail(err, KURA_NOMEM, NULL, "out of memory");
        return NULL;
    }
    return srv;
}

bool kura_http_listen(kura_http *srv, kura_error *err)
{
    if (!srv)
        return kura_fail(err, KURA_INVALID, NULL, "no server");
    if (srv->daemon || srv->metrics.routes)
        return kura_fail(err, KURA_CONFLICT, NULL, "the server was started already");
    union {
        struct sockaddr sa;
        struct sockaddr_in in4;
        struct sockaddr_in6 in6;
    } addr;
    memset(&addr, 0, sizeof addr);
    const kura_http_opts *o = &srv->opts;
    bool v6 = false;
    if (inet_pton(AF_INET, srv->bind, &addr.in4.sin_addr) == 1) {
        addr.in4.sin_family = AF_INET;
        addr.in4.sin_port = htons(o->port);
    } else if (inet_pton(AF_INET6, srv->bind, &addr.in6.sin6_addr) == 1) {
        addr.in6.sin6_family = AF_INET6;
        addr.in6.sin6_port = htons(o->port);
        v6 = true;
    } else {
        return kura_fail(err, KURA_CONFIG, NULL, "bind: '%.64s' is not an IPv4 or IPv6 address",
                         srv->bind);
    }
    /* The table is final from here on: the counters can be sized to it. */
    if (!http_metrics_init(srv, err) || !http_conns_init(srv, err))
        return false;

    srv->quirks = http_quirks_needed();
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO | MHD_USE_ITC |
                     MHD_USE_ERROR_LOG | (v6 ? MHD_USE_IPv6 : 0);
    srv->daemon = MHD_start_daemon(
        flags, o->port, NULL, NULL, on_request, srv, MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, srv,
        MHD_OPTION_SOCK_ADDR, &addr.sa, MHD_OPTION_THREAD_POOL_SIZE, o->threads,
        MHD_OPTION_CONNECTION_TIMEOUT, o->timeout_s, MHD_OPTION_CONNECTION_MEMORY_LIMIT,
        connection_memory(o), MHD_OPTION_URI_LOG_CALLBACK, on_target, srv,
        MHD_OPTION_CONNECTION_LIMIT, o->max_conns, MHD_OPTION_PER_IP_CONNECTION_LIMIT,
        o->max_conns_per_ip, MHD_OPTION_NOTIFY_CONNECTION, http_conns_notify, srv,
        MHD_OPTION_NOTIFY_COMPLETED, on_completed, srv, MHD_OPTION_END);
    if (!srv->daemon)
        return kura_fail(err, KURA_IO, NULL, "cannot listen on %.64s port %u: %s", srv->bind,
                         (unsigned)o->port, strerror(errno));
    if (!http_conns_start(srv, err)) {
        MHD_stop_daemon(srv->daemon);
        srv->daemon = NULL;
        return false;
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(srv->daemon, MHD_DAEMON_INFO_BIND_PORT);
    srv->port = info ? info->port : o->port;
    http_log_take_libraries(srv);
    http_log(srv, KURA_LOG_INFO, "listening on http://%s%s%s:%u (%u threads, %zu routes)",
             v6 ? "[" : "", srv->bind, v6 ? "]" : "", (unsigned)srv->port, o->threads,
             srv->nroutes);
    return true;
}

kura_http *kura_http_start(kura_app *app, const kura_http_opts *opts, kura_error *err)
{
    kura_http *srv = kura_http_new(app, opts, err);
    if (srv && !(kura_http_mount_defaults(srv, err) && kura_http_listen(srv, err))) {
        free_server(srv);
        return NULL;
    }
    return srv;
}

uint16_t kura_http_port(const kura_http *srv)
{
    return srv->port;
}

void kura_http_stop(kura_http *srv)
{
    if (!srv)
        return;
    if (!srv->daemon) { /* never listened: nothing in flight */
        free_server(srv);
        return;
    }
    atomic_store(&srv->draining, true);
    /* Stop accepting first; MHD_stop_daemon alone would cut requests in flight. */
    MHD_socket listener = MHD_quiesce_daemon(srv->daemon);
    /* Quiescing only stops MHD from accepting: the kernel would still complete
     * handshakes into the backlog. Shutting the socket down refuses them now,
     * while the descriptor stays valid (it is closed after MHD has stopped). */
    if (listener != MHD_INVALID_SOCKET)
        shutdown(listener, SHUT_RDWR);
    uint64_t deadline = http_now_us() + (uint64_t)srv->opts.drain_s * 1000000u;
    while (atomic_load(&srv->metrics.in_flight) > 0 && http_now_us() < deadline) {
        struct timespec ts = {0, 5 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    int64_t left = atomic_load(&srv->metrics.in_flight);
    MHD_stop_daemon(srv->daemon);
    http_conns_stop(srv); /* its last report before "stopped" */
    http_log_release_libraries(srv);
    if (listener != MHD_INVALID_SOCKET)
        close(listener);
    if (left > 0)
        http_log(srv, KURA_LOG_WARN, "stopped with %lld requests unfinished after %us",
                 (long long)left, srv->opts.drain_s);
    else
        http_log(srv, KURA_LOG_INFO, "stopped");
    free_server(srv);
}
