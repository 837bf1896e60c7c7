/*
 * kura/log.h — log levels, and where the libraries under kura send their own
 * log lines.
 *
 * kura itself prints nothing. libmongoc does: by default it writes lines such
 * as "WARNING: stream: Failed to buffer 4 bytes" to stderr. When kura first
 * opens a MongoDB store it takes libmongoc's log over and hands each line to
 * the handler set here, or drops it while none is set (libmongoc's trace
 * lines are turned off). libpq's notices are dropped per connection; SQLite
 * and hiredis log nothing.
 *
 * libmongoc has one log per process, so this setting is one per process too
 * (the only one kura has): set it before opening stores or starting servers.
 * A listening kura_http server sets it to its own log (JSON lines, with the
 * library named) and puts the previous handler back when it stops.
 */
#ifndef KURA_LOG_H
#define KURA_LOG_H

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

/*
 * Receives one line of a library's log: its level (libmongoc's critical and
 * error are KURA_LOG_ERROR, warning KURA_LOG_WARN, message and info
 * KURA_LOG_INFO, debug KURA_LOG_DEBUG), the library and its part ("mongoc
 * stream"), and the line without a newline. Both strings are valid during the
 * call only. It may be called from any thread, one call at a time, and must
 * not call kura_log_set_handler.
 */
typedef void (*kura_log_fn)(kura_log_level level, const char *source, const char *message,
                            void *ctx);

/* Sets the handler (NULL: drop the lines); thread-safe. */
void kura_log_set_handler(kura_log_fn fn, void *ctx);

/* The handler and ctx set now (NULL when none), to put back later. */
void kura_log_get_handler(kura_log_fn *fn, void **ctx);

#ifdef __cplusplus
}
#endif
#endif
