/*
 * kura/http.h — the HTTP library: an app's models, sessions and rankings as a
 * JSON web service, and your own handlers beside them (on libmicrohttpd,
 * which no type here shows).
 *
 * Link with `pkg-config --cflags --libs kura-http` (libkura-http; it requires
 * kura). A program serves in four steps:
 *
 *     kura_http_opts o;
 *     kura_http_opts_default(&o);
 *     kura_http *srv = kura_http_new(app, &o, &err);      // nothing listens yet
 *     kura_http_mount(srv, "/users", "sa_user", &err);    // a registered model
 *     kura_http_mount_health(srv, NULL, &err);            // /health
 *     kura_http_handle(srv, "GET", "/hello/{name}", hello, NULL, 0, &err);
 *     kura_http_listen(srv, &err);                        // serving now
 *     ... wait for SIGINT/SIGTERM ...
 *     kura_http_stop(srv);                                // drains, then frees
 *
 * Routes are matched in the order they were added; the first whose pattern
 * fits the path answers. A pattern is a path whose segments are literal or
 * "{name}", which matches one non-empty segment (kura_http_param gives it).
 * HEAD is answered wherever GET is, by the GET handler, with GET's headers
 * and no body (RFC 9110). A known path with a method it does not have is 405
 * (with Allow, which names HEAD beside GET); an unknown path 404. Every error is
 * application/problem+json (RFC 9457):
 * {"type","title","status","detail"}, and for 422 "errors":[{"field","reason"}].
 *
 * Rules every route shares (set by kura_http_opts): bodies larger than
 * max_body are 413 before they are read; a request whose framing is in doubt
 * (two Content-Lengths, one that is not digits, Content-Length beside
 * Transfer-Encoding, a coding other than chunked, a field name with a space,
 * two Hosts) is 400 (501 for an unknown transfer coding) and its connection
 * closed; a percent-encoded NUL in the path or a query parameter is 400; a
 * request over max_header, max_params or max_fields is 431 or 414; all of
 * these before the body is read and before any handler runs. A route taking
 * JSON refuses another Content-Type with 415; with api_token set, mutating
 * methods (anything but GET and HEAD) on protected routes need
 * "Authorization: Bearer <token>" (else 401).
 *
 * Threads: build the server (new, mount, handle) on one thread; once
 * kura_http_listen has returned, handlers run on a pool of worker threads,
 * each with the app current (kura_current_app). The route table is fixed from
 * then on: adding a route to a listening server is KURA_CONFLICT. So is a
 * route that matches exactly the paths of one routed already ("/health", or
 * "/items/{id}" beside "/items/{name}", whoever added either): the first would
 * answer them all and the second never run. Another method on a pattern of
 * the program's own (kura_http_handle) is the same route, not a second.
 *
 * The server borrows the app (it must outlive the server) and never opens or
 * closes its stores. The library prints nothing but its log lines: one JSON
 * object per line to opts.log_fd (stderr by default) — an access line per
 * request at KURA_LOG_INFO, and warnings and errors, its own and, while it
 * listens, those of the libraries under kura (libmongoc: see kura/log.h).
 */
#ifndef KURA_HTTP_H
#define KURA_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "app.h"
#include "error.h"
#include "log.h" /* kura_log_level */

#ifdef __cplusplus
extern "C" {
#endif

typedef struct kura_http_opts {
    const char
        *bind;     /* IPv4 or IPv6 literal; default "127.0.0.1" (borrowed until listen returns) */
    uint16_t port; /* default 8080; 0 picks a free port (kura_http_port) */
    unsigned threads; /* worker threads; default: the number of online CPUs */
    size_t max_body;  /* request body bytes; larger is 413. Default 64 KiB */
    /*
     * Bytes of the request line and header fields together, as sent (line
     * ends included); more is 431, or 414 when the request target alone is
     * longer. Default 16 KiB (Node.js's default), at least 4 KiB. The
     * connection's memory is sized from it and the two counts below: 2 x
     * max_header + 64 x (max_params + max_fields) + 32 KiB (80 KiB by
     * default), reserved per connection and written over by libmicrohttpd
     * between its requests (a larger limit costs memory and time on every
     * request: 32 KiB cost 9% more CPU per request for GET /users/1234).
     */
    size_t max_header;
    unsigned timeout_s;    /* idle: no byte in or out this long closes a connection; default 15 */
    unsigned max_conns;    /* concurrent connections; more wait to be accepted; default 1024 */
    unsigned drain_s;      /* on stop, how long requests in flight may take; default 10 */
    int64_t default_limit; /* list queries without `limit`; default 100 */
    int64_t max_limit;     /* `limit` is capped at this; default 1000 */
    const char
        *api_token; /* when non-empty, mutations need "Authorization: Bearer <token>" (copied) */
    bool secure_cookies;      /* session cookies carry Secure */
    unsigned session_ttl_s;   /* sessions end this long after their last use; default 86400 */
    kura_log_level log_level; /* default KURA_LOG_INFO */
    int log_fd;               /* where log lines go; default 2 (stderr); borrowed */
    /*
     * Seconds a request may take to arrive whole (request line, header fields
     * and body), counted from the connection's accept, or on a kept-alive
     * connection from the end of the previous answer; past it the connection
     * is closed without an answer, however steadily bytes trickle in (the
     * idle timeout_s cannot see that). Default 30; 0: no deadline.
     */
    unsigned request_timeout_s;
    /*
     * Connections one client address may hold at once; the next are closed as
     * soon as they are accepted. Kept well below max_conns, it leaves the rest
     * to other addresses whatever one address does. Default 64; 0: no limit
     * (behind a reverse proxy, whose one address carries every client).
     */
    unsigned max_conns_per_ip;
    unsigned max_params; /* query parameters (the parts between '&'); more is 414. Default 128 */
    unsigned max_fields; /* header fields and cookies together; more is 431. Default 128 */
    /*
     * GET /<collection>/{id} answered from this process's memory for up to
     * cache_ttl_ms after the store was read (0, the default: off). Every write
     * through the collections' stores in this process (HTTP, the admin, the
     * program's own kura_update, kura_delete, kura_update_where, ...) drops
     * what it may have changed at once, through the stores' write hooks
     * (beside a kura_model_cache's); a write the hooks cannot see
     * (another process, raw SQL) shows when the entry expires: cache_ttl_ms
     * is the staleness a client may see. Metrics: kura_http_cache_hits_total,
     * kura_http_cache_misses_total.
     */
    int64_t cache_ttl_ms;
    /* Answers kept at most, each a copy of its JSON; an answer over 16 KiB is
     * not kept, so the cache holds at most cache_entries * 16 KiB. Default 4096. */
    size_t cache_entries;
} kura_http_opts;

typedef struct kura_http kura_http;

/* One request, valid only inside the handler it is given to. */
typedef struct kura_http_req kura_http_req;

/* Fills *o with the defaults above. */
void kura_http_opts_default(kura_http_opts *o);

/*
 * Applies the app settings bind, port, api_token, log_level, secure_cookies,
 * request_timeout, max_conns_per_ip and cache_ttl_ms (config keys of app.h; KURA_BIND,
 * KURA_PORT, ..., KURA_REQUEST_TIMEOUT, KURA_MAX_CONNS_PER_IP, KURA_CACHE_TTL_MS) from cfg over
 * *o. Strings are borrowed from cfg. A malformed value is KURA_CONFIG naming
 * the setting.
 */
bool kura_http_opts_from_config(kura_http_opts *o, const kura_config *cfg, kura_error *err);

/* "debug", "info", "warn", "error", "off" to a level; false when unknown. */
bool kura_log_level_parse(const char *s, kura_log_level *out);

/* --- building a server ------------------------------------------------------ */

/*
 * A server for `app` (borrowed) with no routes and no socket yet. opts NULL
 * means the defaults; it is copied (api_token too; bind is read at listen).
 * NULL with KURA_CONFIG when an option is out of range, KURA_INVALID without
 * an app. The caller owns the server: kura_http_stop.
 */
kura_http *kura_http_new(kura_app *app, const kura_http_opts *opts, kura_error *err);

/*
 * Mounts the registered model `model` (kura_app_register) as a collection at
 * `path` ("/users"), in the store it was registered in:
 *
 *   GET    /users        list: field=value filters (the value read as the
 *                        field's type), field_prefix=text on text fields,
 *                        order=[-]field[,...], limit (capped at max_limit),
 *                        offset; {"items":[...],"total":N,"limit":L,"offset":O},
 *                        plus "misfits":[{"id","field","reason"}] for stored
 *                        rows the model cannot read or JSON cannot carry
 *                        (text that is not UTF-8), left out of items;
 *                        include=field[,...] (fields that reference a model
 *                        this server serves, at most 8) adds "included":
 *                        {"field":[rows]}, the rows the page's values name,
 *                        in key order, read a query per 64 keys
 *                        (kura_find_referenced); another field is a 400
 *   POST   /users        create from a JSON object: 201 with Location
 *   GET    /users/{id}   read; 409 naming the field for such a row
 *   PATCH  /users/{id}   change the named fields only, validated as a save
 *   DELETE /users/{id}   delete: 204
 *
 * Mutations are protected by the API token. `path` starts with '/', does not
 * end with one and has no "{" segment. Errors: KURA_NOT_FOUND when no model
 * of that name is registered, KURA_INVALID for a bad path, KURA_CONFLICT when
 * the server listens already, KURA_NOMEM.
 */
bool kura_http_mount(kura_http *srv, const char *path, const char *model, kura_error *err);

/* kura_http_mount of every registered model, in registration order, at the
 * path kura_app_set_model_path gave it (a schema file's "path"), else at
 * "/<model name>". */
bool kura_http_mount_all(kura_http *srv, kura_error *err);

/*
 * The guide's Session over the app's key-value store, at `path` (NULL:
 * "/session"), held by the browser as a signed cookie (HttpOnly,
 * SameSite=Lax, Secure when opts.secure_cookies; the app's secret signs it):
 * POST starts one holding the JSON body (ending the one the request had),
 * GET reads it (its TTL slides), PUT replaces it, DELETE ends it. Open to
 * browsers: the API token does not apply. KURA_CONFIG without a key-value store.
 */
bool kura_http_mount_sessions(kura_http *srv, const char *path, kura_error *err);

/*
 * Leaderboards over the app's key-value store at `path` (NULL: "/rankings"):
 * POST {path}/{board} {"member","score"} or {"member","increment"};
 * GET {path}/{board}?limit=N the top N, highest first; GET {path}/{board}/{member}
 * its rank (1 = top) and score. Writes are protected by the API token.
 */
bool kura_http_mount_rankings(kura_http *srv, const char *path, kura_error *err);

/* GET `path` (NULL: "/health"): each store a registered model lives in, and the
 * key-value store, answers a round trip; 200 {"status":"ok","stores":{...}}, or
 * 503 when one does not (its message goes to the log, not to the client). */
bool kura_http_mount_health(kura_http *srv, const char *path, kura_error *err);

/* GET `path` (NULL: "/metrics"): requests by route and status, latency
 * histograms and store operations, in the Prometheus text format. */
bool kura_http_mount_metrics(kura_http *srv, const char *path, kura_error *err);

/* GET `path` (NULL: "/openapi.json"): the service described in OpenAPI 3.1,
 * made from the routes mounted when it is asked for: each collection with its
 * model's JSON Schema (kura_field_json_schema), filters and an example body
 * (kura_field_example), the built-in parts, and a program's own routes (their
 * methods and path parameters only). */
bool kura_http_mount_openapi(kura_http *srv, const char *path, kura_error *err);

/*
 * An admin web page at `path` (NULL: "/admin") for every registered model, as
 * Flask-Admin or Django's admin give a Python app. HTML made by the server,
 * its own small style sheet, no script; nothing is fetched from elsewhere.
 *
 *   {path}                     every model with its row count
 *   {path}/models/{model}      its rows: a search (rows where a string field
 *                              contains the text), filters on the indexed
 *                              fields and those with choices, order by any
 *                              column, pages with the total; the list takes
 *                              the collections' query parameters (mount)
 *   .../models/{model}/new     a form made from the descriptor: create
 *   .../rows/{id}              one row; .../edit its form, .../delete a
 *                              confirmation page, then the delete
 *   {path}/rankings            the top N of a board, a member's rank
 *   {path}/status              what /health says, requests and store operations
 *
 * Forms are read by the collections' own rules (the same values accepted,
 * the same messages, each shown beside its field with what was typed kept)
 * and written through kura_insert, kura_update and kura_delete_key.
 *
 * Security. The admin is off unless the app setting admin_password
 * (KURA_ADMIN_PASSWORD; app.h) is set, at least 8 characters (shorter is
 * KURA_CONFIG here): off, every page under `path` answers 403 saying how to
 * turn it on. On, every page but the log-in form and the style sheet needs a
 * log-in (a GET is sent to the log-in page, anything else is 403). The
 * session is kura's own (session.h) under a key derived from the app's
 * secret for the admin alone: a cookie "kura_admin" (HttpOnly,
 * SameSite=Strict, Path=`path`, Secure with opts.secure_cookies), a fresh id
 * at every log-in, ended by the log-out button. Every form carries a token of
 * its session, and a POST without it is 403 (the log-in form carries a token
 * tied to a cookie of its own instead). Every value is HTML-escaped. Every
 * answer carries Content-Security-Policy "default-src 'self'; form-action
 * 'self'; frame-ancestors 'none'; base-uri 'none'", X-Frame-Options DENY,
 * X-Content-Type-Options nosniff and Cache-Control no-store. The API token
 * does not apply: the admin's password does. Log-ins are not rate-limited:
 * choose a long password, and do not expose the admin on a public address
 * without TLS (secure_cookies). The admin's pages are not in /openapi.json.
 *
 * Errors: KURA_INVALID for a bad path, KURA_CONFIG for a password too short
 * or no key-value store, KURA_CONFLICT when the server listens already,
 * KURA_NOMEM.
 */
bool kura_http_mount_admin(kura_http *srv, const char *path, kura_error *err);

/* What `kura serve` mounts: kura_http_mount_all, then sessions, rankings,
 * health, metrics, openapi and the admin at their default paths. */
bool kura_http_mount_defaults(kura_http *srv, kura_error *err);

/*
 * A handler answers by calling exactly one of the kura_http_respond* or
 * kura_http_problem* functions below; one that answers nothing gets a 500
 * sent for it. It runs on a worker thread with the app current.
 */
typedef void (*kura_http_handler)(kura_http_req *req, void *ctx);

enum {
    KURA_HTTP_OPEN = 1 << 0,     /* no API token needed, even for mutations */
    KURA_HTTP_ANY_BODY = 1 << 1, /* do not require application/json bodies */
};

/*
 * Adds your own handler for `method` ("GET", "POST", "PUT", "PATCH",
 * "DELETE") on `pattern` ("/hello/{name}"; copied). ctx is handed to the
 * handler as is. flags: 0 (mutations need the API token; POST, PUT and PATCH
 * bodies must be application/json) or KURA_HTTP_OPEN | KURA_HTTP_ANY_BODY.
 * Several methods may share one pattern (call once per method, same flags).
 * Errors: KURA_INVALID (unknown method, bad pattern, more than 8 "{}"
 * segments), KURA_CONFLICT (that method on that pattern is taken, or the
 * server listens already), KURA_NOMEM.
 */
bool kura_http_handle(kura_http *srv, const char *method, const char *pattern, kura_http_handler fn,
                      void *ctx, unsigned flags, kura_error *err);

/* --- running ---------------------------------------------------------------- */

/*
 * Starts serving: binds opts.bind:opts.port and starts the worker threads.
 * Returns once the socket listens. KURA_IO when the address cannot be bound,
 * KURA_CONFIG for a bind that is not an IP literal, KURA_CONFLICT when it
 * already listens. After a failure the server may be stopped (freed) only.
 */
bool kura_http_listen(kura_http *srv, kura_error *err);

/* kura_http_new + kura_http_mount_defaults + kura_http_listen: the whole
 * registry served. NULL and err filled on any failure. */
kura_http *kura_http_start(kura_app *app, const kura_http_opts *opts, kura_error *err);

/* The port the server listens on (useful after asking for port 0); 0 before listen. */
uint16_t kura_http_port(const kura_http *srv);

/*
 * Graceful stop: stops accepting, lets requests in flight finish (up to
 * opts.drain_s), closes the connections and frees the server (also one that
 * never listened). The app's stores are left open. NULL is a no-op. With
 * cache_ttl_ms, the server's write hooks come off the stores here
 * (kura_store_remove_write_hook): no other thread may be writing through
 * them then. Servers and model caches on one store go in any order.
 */
void kura_http_stop(kura_http *srv);

/* --- inside a handler: the request ------------------------------------------- */

/* "GET", "POST", ... as received ("HEAD" in a GET handler answering a HEAD). */
const char *kura_http_method(const kura_http_req *req);

/* The path, percent-decoded, without the query string. */
const char *kura_http_path(const kura_http_req *req);

/* The i-th "{name}" segment of the route's pattern (from 0), or NULL past the last. */
const char *kura_http_param(const kura_http_req *req, size_t i);

/* The query parameter `name` (decoded), "" for a bare `?name`, NULL when absent. */
const char *kura_http_query(const kura_http_req *req, const char *name);

/* The request header `name` (case-insensitive), or NULL. */
const char *kura_http_header(const kura_http_req *req, const char *name);

/* The body, NUL-terminated, and its length in *len (may be NULL); NULL when
 * there is none. Owned by the request. */
const char *kura_http_body(const kura_http_req *req, size_t *len);

/*
 * The body parsed as a JSON object (duplicate keys refused), owned by the
 * caller (json_decref). On NULL a 400 problem naming what is wrong (empty,
 * malformed at line/column, not an object) has been sent: just return.
 */
json_t *kura_http_body_json(kura_http_req *req);

/* The app the server serves. */
kura_app *kura_http_app(const kura_http_req *req);

/* --- inside a handler: answering ---------------------------------------------- */

/* Adds a header to the response about to be sent (name and value copied; at
 * most 8 per response, values up to 511 bytes). False when there is no room. */
bool kura_http_add_header(kura_http_req *req, const char *name, const char *value);

/* Sends `len` bytes of `body` (copied; NULL for none) with `content_type` (NULL
 * for none). False when the request was answered already or memory ran out. */
bool kura_http_respond(kura_http_req *req, unsigned status, const char *content_type,
                       const void *body, size_t len);

/* Sends `json` (stolen: released here, also on failure) as application/json. */
bool kura_http_respond_json(kura_http_req *req, unsigned status, json_t *json);

/* Sends an application/problem+json answer with the status's title and a
 * printf-style detail (shown to the client: no secrets). */
bool kura_http_problem(kura_http_req *req, unsigned status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Sends the problem for a library error as the collections do: NOT_FOUND 404,
 * CONSTRAINT 409, VALIDATION 422 naming the field, INVALID 400, UNAVAILABLE
 * and TIMEOUT 503, anything else 500 (its message logged, not sent). */
bool kura_http_problem_error(kura_http_req *req, const kura_error *err);

#ifdef __cplusplus
}
#endif
#endif
