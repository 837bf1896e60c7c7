/*
 * log.c — the handler the libraries' log lines go to (kura/log.h). The one
 * piece of process-wide state kura keeps, because libmongoc's log is one per
 * process: a handler and its ctx behind a mutex, which is also held while the
 * handler runs, so that a handler put back by kura_log_set_handler is never
 * called after it returns.
 */
#include <pthread.h>

#include "base/log_private.h"

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static kura_log_fn handler;
static void *handler_ctx;

void kura_log_set_handler(kura_log_fn fn, void *ctx)
{
    pthread_mutex_lock(&mu);
    handler = fn;
    handler_ctx = ctx;
    pthread_mutex_unlock(&mu);
}

void kura_log_get_handler(kura_log_fn *fn, void **ctx)
{
    pthread_mutex_lock(&mu);
    if (fn)
        *fn = handler;
    if (ctx)
        *ctx = handler_ctx;
    pthread_mutex_unlock(&mu);
}

void kura__log(kura_log_level level, const char *source, const char *message)
{
    pthread_mutex_lock(&mu);
    if (handler)
        handler(level, source, message, handler_ctx);
    pthread_mutex_unlock(&mu);
}
