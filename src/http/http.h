/*
 * http.h — the reference service: the guide's application as a JSON web
 * service on libmicrohttpd (`kura serve`).
 *
 * The service sits above the library (it may print: its access log and its
 * error lines go to the log stream, stderr by default). It serves the app's
 * stores; it never opens or closes them.
 *
 *     kura_http_opts o;
 *     kura_http_opts_default(&o);
 *     kura_http *srv = kura_http_start(app, &o, &err);   // listening now
 *     ... wait for SIGINT/SIGTERM ...
 *     kura_http_stop(srv);                               // drains, then frees
 *
 * Routes: /health, /metrics, /users[/{id}] over the app's SQL store, served
 * generically by model (see resource.c: a model store and a model descriptor
 * make a collection, so the document store plugs in at /me_users the same way),
 * /session and /rankings/{board}[/{member}] over the app's key-value store.
 */
#ifndef KURA_HTTP_H
#define KURA_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <kura/kura.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum kura_log_level {
    KURA_LOG_DEBUG,
    KURA_LOG_INFO, /* one access-log line per request */
    KURA_LOG_WARN,
    KURA_LOG_ERROR,
    KURA_LOG_OFF,
} kura_log_level;

typedef struct kura_http_opts {
    const char *bind; /* IPv4 or IPv6 literal; default "127.0.0.1" (borrowed until start returns) */
    uint16_t port;    /* default 8080; 0 picks a free port (kura_http_port) */
    unsigned threads; /* worker threads; default: the number of online CPUs */
    size_t max_body;  /* request body bytes; larger is 413. Default 64 KiB */
    size_t max_header;  /* per-connection memory for the request line and headers; default 16 KiB */
    unsigned timeout_s; /* idle or slow connections are closed after this; default 15 */
    unsigned max_conns; /* concurrent connections; default 1024 */
    unsigned drain_s;   /* on stop, how long requests in flight may take; default 10 */
    int64_t default_limit; /* list queries without `limit`; default 100 */
    int64_t max_limit;     /* `limit` is capped at this; default 1000 */
    const char
        *api_token; /* when non-empty, mutations need "Authorization: Bearer <token>" (copied) */
    bool secure_cookies;      /* session cookies carry Secure */
    unsigned session_ttl_s;   /* sessions end this long after their last use; default 86400 */
    kura_log_level log_level; /* default KURA_LOG_INFO */
    int log_fd;               /* where log lines go; default 2 (stderr) */
} kura_http_opts;

typedef struct kura_http kura_http;

/* Fills *o with the defaults above. */
void kura_http_opts_default(kura_http_opts *o);

/*
 * Applies the app settings bind, port, api_token, log_level and secure_cookies
 * from cfg over *o. Strings are borrowed from cfg. A malformed value is
 * KURA_CONFIG naming the setting.
 */
bool kura_http_opts_from_config(kura_http_opts *o, const kura_config *cfg, kura_error *err);

/* "debug", "info", "warn", "error", "off" to a level; false when unknown. */
bool kura_log_level_parse(const char *s, kura_log_level *out);

/*
 * Starts serving `app` (borrowed: it must outlive the server) on a pool of
 * threads. Returns when the socket is listening. NULL and err filled when the
 * address cannot be bound (KURA_IO) or an option is out of range (KURA_CONFIG).
 * The caller owns the server: kura_http_stop.
 */
kura_http *kura_http_start(kura_app *app, const kura_http_opts *opts, kura_error *err);

/* The port the server listens on (useful after asking for port 0). */
uint16_t kura_http_port(const kura_http *srv);

/*
 * Graceful stop: stops accepting, lets requests in flight finish (up to
 * opts.drain_s), closes the connections and frees the server. The app's stores
 * are left open for the caller to close. NULL is a no-op.
 */
void kura_http_stop(kura_http *srv);

#ifdef __cplusplus
}
#endif
#endif
