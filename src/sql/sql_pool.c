/*
 * sql_pool.c — the store's connections: a bounded pool.
 *
 * An operation borrows a connection and gives it back; a thread inside a
 * transaction gets its pinned one (sql_tx.c). When every connection is out,
 * a borrower waits for one to come free, up to the pool's wait; a connection
 * that saw an error is checked (driver->alive) before it is handed out again.
 */
#include "sql/sql_store_private.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

void kura__sql_pconn_destroy(sql_store *s, pconn *pc)
{
    kura__sql_cache_clear(s->drv, pc, true);
    free(pc->cache);
    s->drv->disconnect(pc->conn);
    free(pc);
}

static pconn *pconn_open(sql_store *s, kura_error *err)
{
    pconn *pc = calloc(1, sizeof *pc);
    if (!pc) {
        kura_fail(err, KURA_NOMEM, NULL, "out of memory opening a connection");
        return NULL;
    }
    pc->conn = s->drv->connect(s->config, err);
    if (!pc->conn) {
        free(pc);
        return NULL;
    }
    if (s->init_sql && !s->drv->exec(pc->conn, s->init_sql, err)) {
        s->drv->disconnect(pc->conn);
        free(pc);
        return NULL;
    }
    return pc;
}

static void deadline_after(struct timespec *ts, long ms)
{
    clock_gettime(CLOCK_REALTIME, ts);
    ts->tv_sec += ms / 1000;
    ts->tv_nsec += (ms % 1000) * 1000000L;
    if (ts->tv_nsec >= 1000000000L) {
        ts->tv_sec++;
        ts->tv_nsec -= 1000000000L;
    }
}

/* A connection from the pool for a thread that has none pinned. */
pconn *kura__sql_borrow_pooled(sql_store *s, kura_error *err)
{
    pconn *pc;
    struct timespec deadline;
    bool have_deadline = false;
    pthread_mutex_lock(&s->lock);
    for (;;) {
        if (s->idle) {
            pc = s->idle;
            s->idle = pc->next_idle;
            pthread_mutex_unlock(&s->lock);
            if (pc->suspect && !s->drv->alive(pc->conn)) {
                /* The server went away or the connection broke: replace it. */
                kura__sql_pconn_destroy(s, pc);
                pc = pconn_open(s, err);
                if (!pc) {
                    pthread_mutex_lock(&s->lock);
                    s->open--;
                    pthread_cond_signal(&s->freed);
                    pthread_mutex_unlock(&s->lock);
                    return NULL;
                }
            }
            pc->suspect = false;
            return pc;
        }
        if (s->open < s->opts.size) {
            s->open++;
            pthread_mutex_unlock(&s->lock);
            pc = pconn_open(s, err);
            if (!pc) {
                pthread_mutex_lock(&s->lock);
                s->open--;
                pthread_cond_signal(&s->freed);
                pthread_mutex_unlock(&s->lock);
            }
            return pc;
        }
        if (!have_deadline) {
            deadline_after(&deadline, s->opts.wait_ms);
            have_deadline = true;
        }
        if (pthread_cond_timedwait(&s->freed, &s->lock, &deadline) == ETIMEDOUT && !s->idle &&
            s->open >= s->opts.size) {
            pthread_mutex_unlock(&s->lock);
            kura_fail(err, KURA_TIMEOUT, NULL,
                      "no %s connection came free within %ld ms (pool of %d)", s->drv->name,
                      s->opts.wait_ms, s->opts.size);
            return NULL;
        }
    }
}

void kura__sql_schema_changed(sql_store *s, pconn *pc)
{
    kura__sql_cache_clear(s->drv, pc, false);
    pc->schema_gen = atomic_load_explicit(&s->schema_gen, memory_order_acquire);
}

void kura__sql_note_ddl(sql_store *s, const char *sql)
{
    static const char *const ddl[] = {"DROP", "ALTER", "CREATE"};
    while (*sql == ' ' || *sql == '\t' || *sql == '\n' || *sql == '\r')
        sql++;
    for (size_t i = 0; i < sizeof ddl / sizeof ddl[0]; i++)
        if (strncasecmp(sql, ddl[i], strlen(ddl[i])) == 0) {
            atomic_fetch_add_explicit(&s->schema_gen, 1, memory_order_acq_rel);
            return;
        }
}

/* Records a failed statement: the connection is checked before reuse and, in
 * a transaction, the current level is doomed. */
void kura__sql_note_failure(pconn *pc)
{
    pc->suspect = true;
    if (pc->depth > 0)
        pc->doomed[pc->depth] = true;
}
