/*
 * internal.h — what the service's parts share: the request, the route table,
 * responses, metrics and logging. Nothing here is installed.
 */
#ifndef KURA_HTTP_INTERNAL_H
#define KURA_HTTP_INTERNAL_H

#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>

#include <jansson.h>
#include <microhttpd.h>

#include <kura/http.h>
#include <kura/kura.h>
#include <kura/kv.h>
#include <kura/session.h>

#include "base/buf.h"
#include "http/hot.h"

/* Methods the routes know; anything else is 405 on a known path. */
typedef enum http_method {
    HTTP_GET,
    HTTP_POST,
    HTTP_PUT,
    HTTP_PATCH,
    HTTP_DELETE,
    HTTP_NMETHODS,
    HTTP_OTHER = HTTP_NMETHODS,
} http_method;

/* The table grows as routes are added; the bound only stops a runaway loop. */
#define HTTP_MAX_ROUTES  4096
#define HTTP_MAX_PARAMS  8
#define HTTP_PARAM_BYTES 256
#define HTTP_ROUTE_NONE  (-1) /* r->route of a request no route matched */
#define HTTP_MAX_HEADERS 8    /* extra headers one response may carry (http_add_header) */

typedef struct kura_http_req http_req;

/* A handler queues exactly one response (through the http_respond_* helpers)
 * and returns what MHD_queue_response returned. */
typedef enum MHD_Result (*http_handler)(http_req *r);

typedef struct http_route {
    const char *pattern; /* "/users/{id}": "{...}" matches one non-empty segment;
                            also the route's label in metrics and logs */
    http_handler methods[HTTP_NMETHODS];
    kura_http_handler user[HTTP_NMETHODS]; /* a program's own handlers (kura_http_handle) */
    void *ctx;                             /* handed to the handler as r->ctx */
    bool protect;                          /* mutating methods need the API token */
    bool body;                             /* POST/PUT/PATCH bodies are JSON */
    /* The one rule for query parameters: a method takes the names in query[m]
     * (space-separated, NULL: none) and any other is a 400 before its handler
     * runs; a method in open_query (bit 1 << m) reads its own and refuses the
     * unknown ones itself (a collection's list: any field filters). */
    const char *query[HTTP_NMETHODS];
    unsigned open_query;
    /* What /openapi.json says of it (openapi.c): a collection's model (`item`:
     * its /{id} route), or a one-line summary of a built-in part; a program's
     * own routes have neither. */
    const kura_model *model;
    bool item;
    const char *summary;
    bool hidden; /* not an API route (the admin's HTML pages): left out of /openapi.json */
} http_route;

/* Stores named in metrics (store operations and errors). */
typedef enum http_store_kind {
    HTTP_STORE_SQL,
    HTTP_STORE_DOCUMENT,
    HTTP_STORE_KV,
    HTTP_NSTORES
} http_store_kind;
typedef enum http_store_op {
    HTTP_OP_GET,
    HTTP_OP_INSERT,
    HTTP_OP_UPDATE,
    HTTP_OP_DELETE,
    HTTP_OP_FIND,
    HTTP_OP_COUNT,
    HTTP_OP_PING,
    HTTP_OP_OTHER,
    HTTP_NOPS
} http_store_op;

/* Status codes counted one by one; others land in the last slot by class. */
#define HTTP_NSTATUS  20
#define HTTP_NBUCKETS 14

/* One route's counters (the last slot of http_metrics.routes: unmatched requests). */
typedef struct http_route_stats {
    _Atomic uint64_t requests[HTTP_NSTATUS];
    _Atomic uint64_t latency[HTTP_NBUCKETS]; /* per bucket, not cumulative */
    _Atomic uint64_t latency_sum_us;
} http_route_stats;

typedef struct http_metrics {
    http_route_stats *routes; /* nroutes + 1, allocated at listen (the table is fixed then) */
    _Atomic uint64_t store_ops[HTTP_NSTORES][HTTP_NOPS];
    _Atomic uint64_t store_errors[HTTP_NSTORES][HTTP_NOPS];
    _Atomic int64_t in_flight;
    _Atomic uint64_t deadline_closed; /* connections closed by request_timeout_s */
    _Atomic uint64_t pressure_closed; /* ... by the short deadline of a full table (conns.c) */
    _Atomic uint64_t refused;         /* connections refused over a connection limit */
} http_metrics;

/* What a request's target says, read raw before libmicrohttpd decodes and
 * splits it (head.c). */
typedef struct http_target {
    size_t len;      /* bytes, as sent */
    unsigned params; /* query parameters: the parts between '&' */
    bool nul_path;   /* "%00" in the path */
    bool nul_query;  /* "%00" in the query */
} http_target;

/* One connection libmicrohttpd holds (conns.c), from its accept to its close. */
typedef struct http_conn http_conn;
struct http_conn {
    struct MHD_Connection *mc;
    int fd;
    pthread_t owner;           /* the MHD thread that serves it: the only one to touch the
                                  fields below marked "owner" */
    _Atomic uint64_t ready_us; /* when its current request could start: the accept, or the
                                  end of the previous answer on a kept-alive connection */
    atomic_bool arrived;       /* the current request is all in, or answered early */
    bool expired;              /* closed by the deadline (under conns_lock) */
    bool seen;                 /* owner: kura's handler has the current request */
    http_target target;        /* owner: the current request's target */
    http_conn *prev, *next;    /* srv->conns, under conns_lock */
};

struct kura_http {
    kura_app *app;
    struct MHD_Daemon *daemon; /* NULL until listen */
    kura_http_opts opts;
    char *bind;                   /* copy of opts.bind, read at listen */
    char *api_token;              /* copy; NULL when auth is off */
    unsigned char token_hash[32]; /* BLAKE2b of the token, compared in constant time */
    uint16_t port;
    atomic_bool draining; /* stop() started: answer with Connection: close */
    http_route *routes;   /* grown by http_route_add until listen */
    size_t nroutes, routes_cap;
    void **owned; /* freed at stop: route patterns, collections, contexts */
    size_t nowned, owned_cap;
    /* Both owned, and made at the first request that needs them (session.c,
     * admin.c), since making them makes the app's secret (kura_app_secret). */
    _Atomic(kura_sessions *) sessions;       /* /session's */
    _Atomic(kura_sessions *) admin_sessions; /* the admin's, under a key of its own */
    http_metrics metrics;
    http_hot *hot;        /* GET by key from memory (hot.c); NULL: cache_ttl_ms is 0 */
    kura_log_fn prev_log; /* the libraries' log handler before listen (log.c) */
    void *prev_log_ctx;
    /* connections (conns.c): set up by listen, torn down by stop */
    pthread_mutex_t conns_lock;
    pthread_cond_t conns_wake; /* wakes the watchdog to stop */
    http_conn *conns;          /* every open connection */
    bool conns_ready;          /* the lock and condition exist */
    bool quirks;               /* work around libmicrohttpd 0.9's defects (mhd_quirks.c) */
    bool watchdog_running, watchdog_stop;
    pthread_t watchdog;
};

/* One request, from its first callback to MHD's completion notice. */
struct kura_http_req {
    kura_http *srv;
    struct MHD_Connection *conn;
    http_conn *link; /* its connection's record (conns.c), or NULL */
    const char *url; /* path, decoded by MHD, without the query */
    const char *method_name;
    http_method method; /* HEAD is HTTP_GET, with `head` set */
    bool head;          /* a HEAD request: answered as GET, without the body */
    int route;          /* index into srv->routes, or HTTP_ROUTE_NONE */
    void *ctx;
    size_t nparams; /* params[0..nparams) */
    char *body;     /* NUL-terminated once complete */
    size_t body_len, body_cap;
    bool body_too_big;
    size_t dropped;         /* body bytes read past the limit */
    bool checked;           /* route, method, token and content type passed */
    bool answered;          /* a response was queued */
    enum MHD_Result result; /* what queuing it returned */
    size_t nheaders;        /* headers[0..nheaders) */
    unsigned status;
    size_t resp_bytes;
    uint64_t start_us;
    /* Last, and not zeroed when a request starts (7 KiB a request): only the
     * first nparams and nheaders entries are ever read. */
    char params[HTTP_MAX_PARAMS][HTTP_PARAM_BYTES];
    struct {
        char name[64];
        char value[512];
    } headers[HTTP_MAX_HEADERS];
};

/* --- options (opts.c) --- */

/* Whether the options are in the ranges kura_http_new accepts; KURA_CONFIG naming none. */
bool http_opts_check(const kura_http_opts *o, kura_error *err);

/* --- connections (conns.c) --- */

/* Makes the connection table; before MHD starts. KURA_IO on failure. */
bool http_conns_init(kura_http *srv, kura_error *err);

/* Starts the watchdog that closes connections whose request is not in after
 * opts.request_timeout_s (none when it is 0); once MHD runs. KURA_IO on failure. */
bool http_conns_start(kura_http *srv, kura_error *err);

/* Stops the watchdog and frees the table; after MHD has stopped (its
 * connections are closed then). Safe on a server that never listened. */
void http_conns_stop(kura_http *srv);

/* MHD_OPTION_NOTIFY_CONNECTION: a record per connection, in *socket_context. */
void http_conns_notify(void *cls, struct MHD_Connection *mc, void **socket_context,
                       enum MHD_ConnectionNotificationCode code);

/* The record of a connection, or NULL (none could be made). */
http_conn *http_conn_of(struct MHD_Connection *mc);

/* The current request has all arrived (or was answered before its body):
 * the deadline no longer applies to it. */
void http_conn_arrived(http_conn *c);

/* The current request is over: the next one's time starts now. */
void http_conn_request_done(http_conn *c);

/* The connection, served by the calling thread, whose request head
 * libmicrohttpd has all parsed, with no answer queued and kura's handler not
 * called yet: the one it is working on when it logs an error from there.
 * NULL when there is none (or, which cannot be, more than one). */
http_conn *http_conns_parsing(kura_http *srv);

/* --- libmicrohttpd 0.9.75's defects (mhd_quirks.c) --- */

/* Whether the running libmicrohttpd has them (before 1.0). */
bool http_quirks_needed(void);

/* Cuts the query off a raw target that libmicrohttpd is about to split (the
 * URI log callback's), so that it allocates nothing for its parameters. */
void http_quirk_drop_query(const char *uri);

/* Given each libmicrohttpd log line before it is printed: answers, in kura's
 * own words, an error libmicrohttpd would answer with its header block twice.
 * True when it did (the line need not be logged). */
bool http_quirk_error_log(kura_http *srv, const char *fmt, va_list ap);

/* --- the head of a request (head.c) --- */

/* Why a request's head is refused: the status, the detail, and whether the
 * connection must close (the framing is in doubt: what follows is not read). */
typedef struct http_head_problem {
    unsigned status;
    bool close;
    char detail[160];
} http_head_problem;

/* Reads a raw request target ("/users?age=3") into *t. */
void http_head_target(http_target *t, const char *uri);

/* Whether the head of the request on mc may be served: framing, field names,
 * Host, NUL bytes in the target t (NULL: not known) and the limits. version is
 * the request's ("HTTP/1.1"), or NULL when not known. False fills *p. */
bool http_head_check(const kura_http *srv, struct MHD_Connection *mc, const http_target *t,
                     const char *version, http_head_problem *p);

/* --- routes (router.c) --- */

/* Adds a route (pattern borrowed: static, or owned by srv). KURA_CONFLICT once
 * listening, KURA_CONFIG when the table is full, KURA_NOMEM. */
bool http_route_add(kura_http *srv, const http_route *route, kura_error *err);

/* Gives srv a malloc'd block to free at stop; on false (no memory) p was freed. */
bool http_own(kura_http *srv, void *p, kura_error *err);

/* A copy of prefix + suffix owned by srv, or NULL (KURA_NOMEM). */
const char *http_own_path(kura_http *srv, const char *prefix, const char *suffix, kura_error *err);

/* Whether `path` may prefix routes: "/x[/y...]", no empty, "{" or trailing segment. */
bool http_path_ok(const char *path);

/* Finds the route for path; fills r->route, r->ctx and r->params. False: none. */
bool http_route_match(kura_http *srv, http_req *r);

/* One GET route at `path` (NULL: `fallback`), described by `summary`. */
bool http_add_get(kura_http *srv, const char *path, const char *fallback, http_handler fn,
                  const char *summary, kura_error *err);

/* `limit`, as every route reads it: a whole number (digits only) >= min; one
 * above cap, however long, is cap. Returns 0, 1 when capped, -1 when it is no
 * such number (answer 400). */
int http_limit_param(const char *text, int64_t min, int64_t cap, int64_t *out);

/* Whether the request names a query parameter its route and method do not
 * take; the first such name is copied into name (size bytes). */
bool http_query_unknown(http_req *r, char *name, size_t size);

http_method http_method_parse(const char *m);
const char *http_method_name(http_method m);

/* "GET, HEAD, POST" for the route's methods (HEAD wherever GET is), into out. */
void http_route_allow(const http_route *route, char *out, size_t size);

/* --- responses (problem.c) --- */

/* Queues a response owning `body` (malloc'd, freed by MHD; NULL means empty).
 * `allow` and `location` are extra headers, or NULL. */
enum MHD_Result http_respond(http_req *r, unsigned status, const char *content_type, char *body,
                             size_t len);

/* Queues `json` (stolen: decref'd here) as application/json. */
enum MHD_Result http_respond_json(http_req *r, unsigned status, json_t *json);

/* Adds a header to the next response of r (at most a few; copied). False: no room. */
bool http_add_header(http_req *r, const char *name, const char *value);

/* application/problem+json with title from the status and `detail` (printf). */
enum MHD_Result http_problem(http_req *r, unsigned status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* The problem document for status and detail, as compact JSON text
 * (malloc'd), or NULL without memory. */
char *http_problem_body(unsigned status, const char *detail);

/* 422 with every failing field: errors[i] = {field, reason}. */
enum MHD_Result http_problem_fields(http_req *r, const kura_field_error *errors, size_t n);

/* Appends s percent-encoded (all but A-Z a-z 0-9 - . _ ~): a path segment or
 * a query value (admin_html.c; the collections' Location too). */
void html_url_part(kura_buf *b, const char *s);

/* Maps a library error to a status and queues it (404, 409, 422, 503, 500). */
enum MHD_Result http_problem_error(http_req *r, const kura_error *err);

const char *http_status_title(unsigned status);

/* --- metrics (metrics.c) --- */

/* Allocates the per-route counters for srv's final route table. */
bool http_metrics_init(kura_http *srv, kura_error *err);
void http_metrics_free(http_metrics *m);
/* Counts a request of route (HTTP_ROUTE_NONE: unmatched); nroutes is the table's size. */
void http_metrics_request(http_metrics *m, size_t nroutes, int route, unsigned status,
                          uint64_t micros);
/* Records one store operation; `err` is the result's error or NULL on success. */
void http_metrics_store(http_metrics *m, http_store_kind store, http_store_op op,
                        const kura_error *err);
/* The Prometheus text exposition, malloc'd. */
char *http_metrics_text(const kura_http *srv, size_t *len);

/* --- log (log.c) --- */

uint64_t http_now_us(void);
/* While the server listens, the libraries' log lines (kura/log.h) are its own. */
void http_log_take_libraries(kura_http *srv);
void http_log_release_libraries(kura_http *srv);

void http_log(const kura_http *srv, kura_log_level level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void http_log_access(const kura_http *srv, const http_req *r, uint64_t micros);

/* --- handlers --- */

/* A collection of `model` in `store` at `prefix` ("/users"): list, create,
 * read, patch, delete (resource.c). */
typedef struct http_collection {
    kura_store *store;
    const kura_model *model;
    http_store_kind kind;
} http_collection;
bool http_add_collection(kura_http *srv, const char *prefix, const http_collection *c,
                         kura_error *err);

/* The collection srv serves `model` as (matched by name), or NULL (resource.c). */
const http_collection *http_collection_of(const kura_http *srv, const kura_model *model);

/* --- a list's ?include= (include.c) --- */

#define HTTP_MAX_INCLUDES 8

struct kura_buf;

/* The references a list request asks to include, and where each model is served. */
typedef struct http_includes {
    const kura_field *fields[HTTP_MAX_INCLUDES];
    const http_collection *targets[HTTP_MAX_INCLUDES];
    size_t n;
} http_includes;

/* Reads r's "include" parameter (absent: none) for a list of model: field
 * names, ','-separated, each a field of model that references a model srv
 * serves, each once. False with problem (cap bytes) saying what is wrong. */
bool http_includes_read(http_req *r, const kura_model *model, http_includes *inc, char *problem,
                        size_t cap);

/* Appends ,"included":{"<field>":[rows]...} for rows (nothing when inc has
 * none): each field's referenced rows, in key order, from its model's store,
 * each read counted in m against that store. False with err when a store fails. */
bool http_includes_write(http_metrics *m, const http_includes *inc, const kura_rows *rows,
                         struct kura_buf *b, kura_error *err);

/* --- the collections' rules, shared with the admin ----------------------------- */

#define HTTP_MAX_FIELD_ERRORS (KURA_MAX_FIELDS + 16)

/* The fields a request got wrong, each with its reason. Zero it before use. */
typedef struct http_field_errors {
    kura_field_error list[HTTP_MAX_FIELD_ERRORS];
    size_t n;
    bool seen[KURA_MAX_FIELDS]; /* field i has its error already (validation skips it) */
} http_field_errors;

/* Appends field's error: the reason is fmt with arg, cut to fit on a UTF-8
 * boundary. `field` is borrowed. Past HTTP_MAX_FIELD_ERRORS it is dropped. */
void http_field_error_add(http_field_errors *e, const char *field, const char *fmt,
                          const char *arg);

/* The reason given for `field`, or NULL (body_fields.c). */
const char *http_field_error_of(const http_field_errors *e, const char *field);

/*
 * Applies the JSON object `json` to *obj field by field with kura_from_json
 * (so one wrong type does not hide the next), then validates the whole
 * (kura_validate_all); every failure goes into e. A name that is no field is
 * refused ("is set by the store" for the key and the stamps), but for the
 * key's own name when key_allowed. Fields already in e->seen are not
 * reported again. e borrows json's keys: keep json until e is read
 * (body_fields.c).
 */
void http_decode_fields(const kura_model *model, json_t *json, void *obj, bool key_allowed,
                        http_field_errors *e);

/* A list's query parameters made into a query (list_query.c). */
typedef struct http_list_query {
    kura_query q;
    int64_t limit;      /* -1 when not given */
    int64_t offset;     /* 0 when not given */
    char problem[300];  /* the first bad parameter, or "" */
    char scratch[1024]; /* canonical text of filter values, borrowed by q */
    size_t scratch_used;
} http_list_query;

enum { HTTP_LIST_SKIP_EMPTY = 1 }; /* an empty value means "no filter" (an HTML form's box) */

/*
 * Reads r's query parameters as a collection's list does: field=value
 * (equality, read as the field's type, the key and the stamps too),
 * field_prefix=text on text fields, order=[-]field[,...], limit (capped at
 * max_limit) and offset, into *lq (initialised here; q borrows MHD's strings,
 * valid for the request). Names listed in `skip` (space-separated, NULL: none)
 * are left to the caller. False when one is unknown or ill-typed: lq->problem
 * says which.
 */
bool http_list_query_read(http_req *r, const kura_model *model, const char *skip, unsigned flags,
                          http_list_query *lq);

/* Most database nodes (primary and read replicas) /health and /metrics show. */
#define HTTP_MAX_NODES 17
/* A node's name in /health and /metrics ("primary", "replica1", ...; health.c). */
void http_node_label(const kura_store_node *n, size_t i, char *out, size_t cap);

/* What /health answers: {"status":"ok"|"unavailable","stores":{name:{"status",
 * "driver","latency_us"}}} after a round trip to every store the app uses;
 * *ok says whether all answered. Caller owns the result (health.c). */
json_t *http_health(kura_http *srv, bool *ok);

/* A leaderboard's name as a key-value key ("kura:rank:<board>") into key
 * (size bytes); false when the name is not 1..64 of [A-Za-z0-9_.-] (rankings.c). */
bool http_board_key(const char *board, char *key, size_t size);

#endif
