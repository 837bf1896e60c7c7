/*
 * pg_wait.h — bounded waits for a PostgreSQL server's answer (pg_wait.c).
 *
 * A server that stops answering (stopped, hung, cut off behind a firewall that
 * drops packets) never closes its sockets, so libpq's own waits last forever.
 * Every wait of postgres.c goes through here instead: it ends at the store's
 * answer timeout, and a wait that is not the first of a stalled spell ends
 * when the server has answered nothing for the stall limit, so one caller
 * finds out and the others fail at once instead of each holding a thread.
 */
#ifndef KURA_SQL_PG_WAIT_H
#define KURA_SQL_PG_WAIT_H

#include <libpq-fe.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kura/error.h"

/* What every connection of one store shares: how long to wait, and what the
 * waits in flight have seen. */
typedef struct pg_watch {
    long answer_ms; /* a wait ends after this; 0: never */
    long stall_ms;  /* a follower's wait ends after this without any answer; 0: never */
    atomic_int waiting;
    atomic_llong progress_ms; /* the last answer, or when the current busy spell began */
    atomic_bool lead_taken;   /* one wait of a spell may last the whole answer timeout */
    atomic_bool silent;       /* a wait gave up and nothing was heard since */
} pg_watch;

void kura__pg_watch_init(pg_watch *w, long answer_ms, long stall_ms);

/* Fails (KURA_UNAVAILABLE, ending with `what`: what the caller did not do) when
 * a wait gave up on the server and another call is trying it now: nothing
 * should be sent. A server that is only slow admits every call. */
bool kura__pg_admit(pg_watch *w, const char *what, kura_error *err);

/* Waits until pg has a whole result to read (!PQisBusy). On giving up it shuts the
 * socket down, so libpq sees the connection lost, and writes why into why[cap]:
 * the caller's PQgetResult then returns at once with the connection bad. */
void kura__pg_await(pg_watch *w, PGconn *pg, char *why, size_t cap);

/* The same for a connection being opened: waits until fd is ready for events
 * (POLLIN or POLLOUT) or until deadline_ms (monotonic, 0: none). Returns 1 when
 * ready, 0 when it gave up (why filled), -1 on a poll error (errno). */
int kura__pg_wait_fd(pg_watch *w, int fd, short events, int64_t deadline_ms, char *why, size_t cap);

int64_t kura__pg_now_ms(void);

#endif
