/*
 * conns.c — the connections libmicrohttpd holds, as kura keeps track of them:
 * a record per connection (MHD_OPTION_NOTIFY_CONNECTION), and a watchdog
 * thread that ends the connection of a request that has not all arrived
 * within opts.request_timeout_s.
 *
 * libmicrohttpd's own timeout is an idle one: a client sending one byte a
 * second keeps it from ever firing, and enough such clients hold every
 * connection slot. The deadline counts from the moment a request could start
 * (the accept, or the end of the previous answer on a kept-alive connection)
 * to the moment it is all in (head and body), whatever trickles in between.
 *
 * Per-address limits keep a few addresses from taking every slot, but not many
 * addresses (max_conns / max_conns_per_ip of them, 16 by default). So while the
 * table is three quarters full, a request gets PRESSURE_DEADLINE_MS instead:
 * a client that means it sends its request within milliseconds of connecting,
 * and one kept alive between requests can connect again. (nginx likewise drains
 * its idle kept-alive connections when it runs out of them.)
 *
 * The watchdog ends a connection with shutdown(2) on its socket, under the
 * table's lock; libmicrohttpd then reads the end of the stream and closes it
 * as any other. libmicrohttpd tells a connection's close (which removes its
 * record under that lock) before it closes the socket, so the watchdog never
 * touches a descriptor that could have been reused.
 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <time.h>

#include "http/internal.h"

#define WATCHDOG_TICK_MS     200
#define PRESSURE_DEADLINE_MS 2000

bool http_conns_init(kura_http *srv, kura_error *err)
{
    pthread_condattr_t ca;
    if (pthread_condattr_init(&ca) != 0)
        return kura_fail(err, KURA_IO, NULL, "cannot make the connection table");
    bool ok = pthread_condattr_setclock(&ca, CLOCK_MONOTONIC) == 0 &&
              pthread_cond_init(&srv->conns_wake, &ca) == 0;
    pthread_condattr_destroy(&ca);
    if (!ok)
        return kura_fail(err, KURA_IO, NULL, "cannot make the connection table");
    if (pthread_mutex_init(&srv->conns_lock, NULL) != 0) {
        pthread_cond_destroy(&srv->conns_wake);
        return kura_fail(err, KURA_IO, NULL, "cannot make the connection table");
    }
    srv->conns = NULL;
    srv->conns_ready = true;
    return true;
}

/* Ends, under the lock, every connection whose request is overdue; how many.
 * *pressed is set when the table was full enough for the short deadline. */
static unsigned expire(kura_http *srv, uint64_t now_us, bool *pressed)
{
    unsigned open = 0;
    for (http_conn *c = srv->conns; c; c = c->next)
        open++;
    uint64_t limit_us =
        srv->opts.request_timeout_s ? (uint64_t)srv->opts.request_timeout_s * 1000000u : UINT64_MAX;
    *pressed = srv->opts.max_conns >= 8 && open >= srv->opts.max_conns / 4 * 3;
    if (*pressed && limit_us > PRESSURE_DEADLINE_MS * 1000u)
        limit_us = PRESSURE_DEADLINE_MS * 1000u;
    if (limit_us == UINT64_MAX)
        return 0;
    unsigned n = 0;
    for (http_conn *c = srv->conns; c; c = c->next) {
        if (c->expired || atomic_load(&c->arrived))
            continue;
        uint64_t ready = atomic_load(&c->ready_us);
        if (now_us > ready && now_us - ready > limit_us) {
            shutdown(c->fd, SHUT_RDWR);
            c->expired = true;
            n++;
        }
    }
    return n;
}

/* Logs what was closed or refused since the last report: a line a second at
 * most, so that an attack does not become a flood of log lines. */
static void report(kura_http *srv, uint64_t *closed_reported, uint64_t *refused_reported,
                   uint64_t *pressed_reported)
{
    uint64_t pressed = atomic_load_explicit(&srv->metrics.pressure_closed, memory_order_relaxed);
    if (pressed != *pressed_reported)
        http_log(srv, KURA_LOG_WARN,
                 "closed %llu connections whose request was not in after %u ms while over 3/4 "
                 "of max_conns (%u) were open",
                 (unsigned long long)(pressed - *pressed_reported), PRESSURE_DEADLINE_MS,
                 srv->opts.max_conns);
    *pressed_reported = pressed;
    uint64_t closed = atomic_load_explicit(&srv->metrics.deadline_closed, memory_order_relaxed);
    if (closed != *closed_reported)
        http_log(srv, KURA_LOG_WARN,
                 "closed %llu connections whose request was not in after %us (request_timeout)",
                 (unsigned long long)(closed - *closed_reported), srv->opts.request_timeout_s);
    *closed_reported = closed;
    uint64_t refused = atomic_load_explicit(&srv->metrics.refused, memory_order_relaxed);
    if (refused != *refused_reported)
        http_log(srv, KURA_LOG_WARN,
                 "refused %llu connections over max_conns_per_ip (%u) or max_conns (%u)",
                 (unsigned long long)(refused - *refused_reported), srv->opts.max_conns_per_ip,
                 srv->opts.max_conns);
    *refused_reported = refused;
}

static void *watchdog(void *arg)
{
    kura_http *srv = arg;
    uint64_t closed_reported = 0, refused_reported = 0, pressed_reported = 0, reported_at = 0;
    pthread_mutex_lock(&srv->conns_lock);
    while (!srv->watchdog_stop) {
        struct timespec until;
        clock_gettime(CLOCK_MONOTONIC, &until);
        until.tv_nsec += WATCHDOG_TICK_MS * 1000000L;
        if (until.tv_nsec >= 1000000000L) {
            until.tv_sec++;
            until.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&srv->conns_wake, &srv->conns_lock, &until);
        if (srv->watchdog_stop)
            break;
        uint64_t now = http_now_us();
        bool pressed;
        unsigned closed = expire(srv, now, &pressed);
        pthread_mutex_unlock(&srv->conns_lock);
        if (closed)
            atomic_fetch_add_explicit(pressed ? &srv->metrics.pressure_closed
                                              : &srv->metrics.deadline_closed,
                                      closed, memory_order_relaxed);
        if (now - reported_at >= 1000000u) {
            report(srv, &closed_reported, &refused_reported, &pressed_reported);
            reported_at = now;
        }
        pthread_mutex_lock(&srv->conns_lock);
    }
    pthread_mutex_unlock(&srv->conns_lock);
    report(srv, &closed_reported, &refused_reported, &pressed_reported);
    return NULL;
}

bool http_conns_start(kura_http *srv, kura_error *err)
{
    srv->watchdog_stop = false;
    if (pthread_create(&srv->watchdog, NULL, watchdog, srv) != 0)
        return kura_fail(err, KURA_IO, NULL, "cannot start the connection watchdog");
    srv->watchdog_running = true;
    return true;
}

void http_conns_stop(kura_http *srv)
{
    if (!srv->conns_ready)
        return;
    if (srv->watchdog_running) {
        pthread_mutex_lock(&srv->conns_lock);
        srv->watchdog_stop = true;
        pthread_cond_signal(&srv->conns_wake);
        pthread_mutex_unlock(&srv->conns_lock);
        pthread_join(srv->watchdog, NULL);
        srv->watchdog_running = false;
    }
    /* MHD has stopped: it told every close, so the table is empty. */
    pthread_mutex_destroy(&srv->conns_lock);
    pthread_cond_destroy(&srv->conns_wake);
    srv->conns_ready = false;
}

void http_conns_notify(void *cls, struct MHD_Connection *mc, void **socket_context,
                       enum MHD_ConnectionNotificationCode code)
{
    kura_http *srv = cls;
    if (code == MHD_CONNECTION_NOTIFY_STARTED) {
        const union MHD_ConnectionInfo *fd =
            MHD_get_connection_info(mc, MHD_CONNECTION_INFO_CONNECTION_FD);
        http_conn *c = calloc(1, sizeof *c);
        if (!c || !fd) {
            /* Untracked, it would escape the deadline: end it at once. */
            free(c);
            if (fd)
                shutdown(fd->connect_fd, SHUT_RDWR);
            return;
        }
        c->mc = mc;
        c->fd = fd->connect_fd;
        c->owner = pthread_self();
        atomic_init(&c->ready_us, http_now_us());
        atomic_init(&c->arrived, false);
        pthread_mutex_lock(&srv->conns_lock);
        c->next = srv->conns;
        if (srv->conns)
            srv->conns->prev = c;
        srv->conns = c;
        pthread_mutex_unlock(&srv->conns_lock);
        *socket_context = c;
        return;
    }
    http_conn *c = *socket_context;
    if (code != MHD_CONNECTION_NOTIFY_CLOSED || !c)
        return;
    pthread_mutex_lock(&srv->conns_lock);
    if (c->prev)
        c->prev->next = c->next;
    else
        srv->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    pthread_mutex_unlock(&srv->conns_lock);
    *socket_context = NULL;
    free(c);
}

http_conn *http_conn_of(struct MHD_Connection *mc)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(mc, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    return ci ? ci->socket_context : NULL;
}

void http_conn_arrived(http_conn *c)
{
    if (c)
        atomic_store(&c->arrived, true);
}

void http_conn_request_done(http_conn *c)
{
    if (!c)
        return;
    c->seen = false;
    atomic_store(&c->ready_us, http_now_us());
    atomic_store(&c->arrived, false);
}

http_conn *http_conns_parsing(kura_http *srv)
{
    pthread_t self = pthread_self();
    http_conn *found = NULL;
    unsigned n = 0;
    pthread_mutex_lock(&srv->conns_lock);
    for (http_conn *c = srv->conns; c; c = c->next) {
        /* Only this thread's connections: libmicrohttpd's calls below read
         * fields that their own thread writes, and that is this one. */
        if (!pthread_equal(c->owner, self) || c->seen)
            continue;
        if (MHD_get_connection_info(c->mc, MHD_CONNECTION_INFO_REQUEST_HEADER_SIZE) &&
            !MHD_get_connection_info(c->mc, MHD_CONNECTION_INFO_HTTP_STATUS)) {
            found = c;
            n++;
        }
    }
    pthread_mutex_unlock(&srv->conns_lock);
    return n == 1 ? found : NULL;
}
