/*
 * guard.c — failing fast while a remote key-value store is down or stalled.
 *
 * Every call to a store blocks the caller's thread until the store answers or
 * the driver's timeout passes. A service has few worker threads, so callers
 * stuck on a dead or stopped Redis would soon hold them all and take routes
 * that never touch Redis down with them. The guard keeps that to one caller:
 *
 * - stalled: while a call has been waiting longer than stall_ms with no call
 *   finishing meanwhile, new calls fail at once (KURA_UNAVAILABLE) instead of
 *   queueing behind it;
 * - down: a call that failed for want of the store (KURA_UNAVAILABLE,
 *   KURA_TIMEOUT, or KURA_OUTCOME_UNKNOWN: a write sent and never answered)
 *   opens the circuit: calls fail at once for a backoff that
 *   starts at GUARD_BACKOFF_MIN_MS and doubles up to GUARD_BACKOFF_MAX_MS while
 *   the store stays away. When the backoff has passed one call goes through as
 *   a probe (the others still fail at once); its success closes the circuit.
 *
 * Lock-free: the fields are atomics read on every call, and a stale read only
 * lets one more call through or fails one call that a moment later would have
 * been let through, the same outcome a slightly different timing gives.
 */
#include <stdatomic.h>
#include <time.h>

#include "kv/kv_private.h"

#define GUARD_BACKOFF_MIN_MS 250
#define GUARD_BACKOFF_MAX_MS 2000

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void kura__kv_guard_init(kura_kv_guard *g, long stall_ms)
{
    g->enabled = true;
    g->stall_ms = stall_ms;
    atomic_init(&g->inflight, 0);
    atomic_init(&g->progress_ms, 0);
    atomic_init(&g->open_until_ms, 0);
    atomic_init(&g->backoff_ms, 0);
    atomic_init(&g->probing, false);
}

/* Whether the caller may go to the store; false with err filled when it must
 * not. *probe is set when this call is the one probe of a half-open circuit. */
static bool guard_enter(kura_kv_guard *g, const char *driver, bool *probe, kura_error *err)
{
    int64_t now = mono_ms();
    int64_t until = atomic_load(&g->open_until_ms);
    *probe = false;
    if (until) {
        if (now < until)
            return kura_fail(err, KURA_UNAVAILABLE, NULL,
                             "%s: the store did not answer the last call; calls fail at once "
                             "for %lld ms more before one tries again",
                             driver, (long long)(until - now));
        bool expected = false;
        if (!atomic_compare_exchange_strong(&g->probing, &expected, true))
            return kura_fail(err, KURA_UNAVAILABLE, NULL,
                             "%s: the store did not answer the last call; another call is "
                             "trying it now",
                             driver);
        *probe = true;
    } else if (g->stall_ms > 0 && atomic_load(&g->inflight) > 0) {
        int64_t quiet = now - atomic_load(&g->progress_ms);
        if (quiet > g->stall_ms)
            return kura_fail(err, KURA_UNAVAILABLE, NULL,
                             "%s: the store has answered nothing for %lld ms (stall limit %ld "
                             "ms); this call was not queued behind the waiting ones",
                             driver, (long long)quiet, g->stall_ms);
    }
    /* Progress is stamped before the count rises, so a caller that sees this
     * call in flight also sees when the busy spell began. */
    if (atomic_load(&g->inflight) == 0)
        atomic_store(&g->progress_ms, now);
    atomic_fetch_add(&g->inflight, 1);
    return true;
}

static void guard_leave(kura_kv_guard *g, bool probe, bool store_away)
{
    int64_t now = mono_ms();
    atomic_store(&g->progress_ms, now);
    atomic_fetch_sub(&g->inflight, 1);
    if (store_away) {
        int64_t b = atomic_load(&g->backoff_ms);
        b = probe && b ? b * 2 : GUARD_BACKOFF_MIN_MS;
        if (b > GUARD_BACKOFF_MAX_MS)
            b = GUARD_BACKOFF_MAX_MS;
        atomic_store(&g->backoff_ms, b);
        atomic_store(&g->open_until_ms, now + b);
    } else if (probe) {
        atomic_store(&g->backoff_ms, 0);
        atomic_store(&g->open_until_ms, 0);
    }
    if (probe)
        atomic_store(&g->probing, false);
}

bool kura__kv_run(kura_kv *kv, const kura_kv_cmd *cmds, size_t n, kura_kv_reply *replies,
                  kura_error *err)
{
    return kura__kv_run_into(kv, cmds, n, replies, NULL, err);
}

bool kura__kv_run_into(kura_kv *kv, const kura_kv_cmd *cmds, size_t n, kura_kv_reply *replies,
                       kura_kv_blocks *values, kura_error *err)
{
    kura_kv_guard *g = &kv->guard;
    if (!g->enabled)
        return kv->ops->run(kv, cmds, n, replies, values, err);
    bool probe;
    if (!guard_enter(g, kv->ops->name, &probe, err))
        return false;
    kura_error e = {0};
    bool ok = kv->ops->run(kv, cmds, n, replies, values, &e);
    guard_leave(g, probe,
                !ok && (e.code == KURA_UNAVAILABLE || e.code == KURA_TIMEOUT ||
                        e.code == KURA_OUTCOME_UNKNOWN));
    if (!ok && err)
        *err = e;
    return ok;
}
