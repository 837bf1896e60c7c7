/*
 * pg_wait.c — bounded waits for a PostgreSQL server's answer (see pg_wait.h).
 *
 * A wait is silent time: it ends answer_ms after the last byte came from the
 * server, so a long result that keeps arriving is never cut. The first wait of
 * a busy spell (the lead) may last that long; every other one also ends once
 * no wait of the store has heard from the server for stall_ms, so a stopped
 * server holds up one caller, not every thread of a service. A statement that
 * is slow on a healthy server is not cut by the stall rule as long as others
 * are answered meanwhile; one alone is the lead.
 *
 * Once a wait has given up, the server is on probation until it is heard from
 * again: one call at a time may try it (the others fail at once), and that
 * call too gives up after stall_ms, so a server that stays stopped costs each
 * later request at most the stall limit, and one that comes back is used again
 * by the next call.
 *
 * Lock-free: a stale read lets one more caller wait or fails one a moment
 * early, the same outcome a slightly different timing gives.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "sql/pg_wait.h"
#include "sql/sql_private.h"

/* How often a waiting caller looks at what the other waits have seen. */
#define PG_WAIT_SLICE_MS 50

int64_t kura__pg_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void kura__pg_watch_init(pg_watch *w, long answer_ms, long stall_ms)
{
    w->answer_ms = answer_ms;
    w->stall_ms = stall_ms;
    atomic_init(&w->waiting, 0);
    atomic_init(&w->progress_ms, 0);
    atomic_init(&w->lead_taken, false);
    atomic_init(&w->silent, false);
}

static void heard_from(pg_watch *w, int64_t now)
{
    atomic_store(&w->progress_ms, now);
    if (atomic_load(&w->silent)) /* a shared line: written only when it changes */
        atomic_store(&w->silent, false);
}

static int64_t quiet_ms(pg_watch *w, int64_t now)
{
    return now - atomic_load(&w->progress_ms);
}

/* A call is refused only once a wait has given up: a statement that is merely
 * slow (a report, a lock held elsewhere) must not turn the calls that come
 * while it runs away. They are sent, and their own waits find out (wait_once). */
bool kura__pg_admit(pg_watch *w, const char *what, kura_error *err)
{
    if (w->stall_ms <= 0 || atomic_load(&w->waiting) == 0 || !atomic_load(&w->silent))
        return true;
    return kura_fail(err, KURA_UNAVAILABLE, NULL,
                     "postgresql: the server did not answer the last call and another call "
                     "is trying it now; %s",
                     what);
}

/* Whether this thread is in a long operation (kura__sql_patient). */
static _Thread_local bool patient_thread;

bool kura__sql_patient(bool on)
{
    bool was = patient_thread;
    patient_thread = on;
    return was;
}

/* Returns whether this wait is the lead of its spell. Progress is stamped
 * before the count rises, so a caller that sees a wait also sees when the
 * spell began. */
static bool spell_enter(pg_watch *w)
{
    if (atomic_load(&w->waiting) == 0)
        atomic_store(&w->progress_ms, kura__pg_now_ms());
    atomic_fetch_add(&w->waiting, 1);
    bool expected = false;
    return atomic_compare_exchange_strong(&w->lead_taken, &expected, true);
}

static void spell_leave(pg_watch *w, bool lead)
{
    atomic_fetch_sub(&w->waiting, 1);
    if (lead)
        atomic_store(&w->lead_taken, false);
}

/* One wait for fd: 1 ready, 0 gave up (why filled), -1 poll failed. *heard is
 * when the server was last heard from, moved by the caller. */
static int wait_once(pg_watch *w, int fd, short events, int64_t heard, int64_t deadline, bool lead,
                     char *why, size_t cap)
{
    bool patient = patient_thread || (lead && !(w->stall_ms > 0 && atomic_load(&w->silent)));
    for (;;) {
        int64_t now = kura__pg_now_ms();
        int slice = patient ? -1 : PG_WAIT_SLICE_MS;
        int64_t end = deadline;
        if (w->answer_ms > 0 && !patient_thread && (!end || heard + w->answer_ms < end))
            end = heard + w->answer_ms;
        if (end) {
            if (now >= end) {
                snprintf(why, cap, "no answer within %lld ms", (long long)(now - heard));
                return 0;
            }
            if (slice < 0 || end - now < slice)
                slice = (int)(end - now);
        }
        if (!patient && w->stall_ms > 0) {
            /* Quiet since this wait began too: a call sent while a slow one
             * runs waits the stall limit for its own answer. */
            int64_t quiet = quiet_ms(w, now);
            if (now - heard < quiet)
                quiet = now - heard;
            if (quiet > w->stall_ms) {
                snprintf(why, cap,
                         "the server has answered nothing for %lld ms (stall limit %ld ms)",
                         (long long)quiet, w->stall_ms);
                return 0;
            }
        }
        struct pollfd p = {.fd = fd, .events = events};
        int rc = poll(&p, 1, slice);
        if (rc > 0)
            return 1;
        if (rc < 0 && errno != EINTR) {
            snprintf(why, cap, "poll: %s", strerror(errno));
            return -1;
        }
    }
}

void kura__pg_await(pg_watch *w, PGconn *pg, char *why, size_t cap)
{
    if (!PQisBusy(pg))
        return;
    bool lead = spell_enter(w);
    int64_t heard = kura__pg_now_ms();
    for (;;) {
        int rc = wait_once(w, PQsocket(pg), POLLIN, heard, 0, lead, why, cap);
        if (rc <= 0) {
            /* libpq reads the end of the stream and marks the connection bad. */
            shutdown(PQsocket(pg), SHUT_RDWR);
            /* Probation only when the lead's own timeout ran out: a follower that
             * gave up beside another slow statement proves nothing about the
             * server, and a poll error is no silence. */
            if (rc == 0 && lead)
                atomic_store(&w->silent, true);
            break;
        }
        if (!PQconsumeInput(pg)) /* broken: libpq says so to the caller */
            break;
        heard = kura__pg_now_ms();
        heard_from(w, heard);
        if (!PQisBusy(pg))
            break;
    }
    spell_leave(w, lead);
}

int kura__pg_wait_fd(pg_watch *w, int fd, short events, int64_t deadline_ms, char *why, size_t cap)
{
    bool lead = spell_enter(w);
    int64_t heard = kura__pg_now_ms();
    int rc = wait_once(w, fd, events, heard, deadline_ms, lead, why, cap);
    if (rc > 0 && (events & POLLIN))
        heard_from(w, kura__pg_now_ms());
    else if (rc == 0)
        atomic_store(&w->silent, true);
    spell_leave(w, lead);
    return rc;
}
