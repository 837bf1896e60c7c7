/*
 * sql_tx.c — transactions: BEGIN pins a connection to the thread (a pthread
 * key per store) until the outermost COMMIT or ROLLBACK; nested levels are
 * savepoints. A statement that fails inside a level dooms it: its commit
 * rolls back instead.
 */
#include "sql/sql_store_private.h"

#include <stdio.h>

bool kura__sql_tx_begin(kura_store *store, kura_error *err)
{
    sql_store *s = (sql_store *)store;
    pconn *pc = pthread_getspecific(s->pinned);
    if (!pc) {
        bool borrowed;
        pc = kura__sql_borrow(s, &borrowed, err);
        if (!pc)
            return false;
        if (!s->drv->exec(pc->conn, s->dia->begin, err)) {
            kura__sql_note_failure(pc);
            kura__sql_give_back(s, pc, true);
            return false;
        }
        pc->depth = 1;
        pc->doomed[1] = false;
        pthread_setspecific(s->pinned, pc);
        return true;
    }
    if (pc->depth >= MAX_DEPTH)
        return kura_fail(err, KURA_INVALID, NULL, "transactions nest deeper than %d", MAX_DEPTH);
    char sql[48];
    snprintf(sql, sizeof sql, "SAVEPOINT kura_sp_%d", pc->depth);
    if (!s->drv->exec(pc->conn, sql, err)) {
        kura__sql_note_failure(pc);
        return false;
    }
    pc->depth++;
    pc->doomed[pc->depth] = false;
    return true;
}

bool kura__sql_tx_begin_with(kura_store *store, const char *before, const char *on_release,
                             kura_error *err)
{
    sql_store *s = (sql_store *)store;
    if (pthread_getspecific(s->pinned))
        return kura_fail(err, KURA_INVALID, NULL,
                         "a connection setting cannot change inside a transaction");
    bool borrowed;
    pconn *pc = kura__sql_borrow(s, &borrowed, err);
    if (!pc)
        return false;
    /* Set before pinning, so that every way out below restores it. */
    pc->on_release = on_release;
    pthread_setspecific(s->pinned, pc);
    pc->depth = 1;
    if (!s->drv->exec(pc->conn, before, err) || !s->drv->exec(pc->conn, s->dia->begin, err)) {
        kura__sql_note_failure(pc);
        kura__sql_unpin(s, pc);
        return false;
    }
    pc->doomed[1] = false;
    return true;
}

void kura__sql_unpin(sql_store *s, pconn *pc)
{
    pc->depth = 0;
    pthread_setspecific(s->pinned, NULL);
    const char *restore = pc->on_release;
    pc->on_release = NULL;
    kura_error ignored;
    if (restore && !s->drv->exec(pc->conn, restore, &ignored)) {
        /* Never pooled with the setting changed: the next borrower would
         * silently work without it. */
        kura__sql_pconn_destroy(s, pc);
        pthread_mutex_lock(&s->lock);
        s->open--;
        pthread_cond_signal(&s->freed);
        pthread_mutex_unlock(&s->lock);
        return;
    }
    kura__sql_give_back(s, pc, true);
}

static bool tx_end(kura_store *store, bool commit, kura_error *err)
{
    sql_store *s = (sql_store *)store;
    pconn *pc = pthread_getspecific(s->pinned);
    if (!pc)
        return kura_fail(err, KURA_INVALID, NULL, "%s without a transaction",
                         commit ? "commit" : "rollback");
    if (pc->depth == 1 && pc->cursors > 0)
        return kura_fail(err, KURA_INVALID, NULL,
                         "%s with %d cursor%s still open: close them first (the transaction's "
                         "connection goes back to the pool)",
                         commit ? "commit" : "rollback", pc->cursors, pc->cursors == 1 ? "" : "s");
    char sql[80];
    if (pc->depth > 1) {
        int sp = pc->depth - 1;
        bool ok;
        if (commit) {
            snprintf(sql, sizeof sql, "RELEASE SAVEPOINT kura_sp_%d", sp);
            if (pc->doomed[pc->depth])
                pc->doomed[pc->depth - 1] = true;
            ok = s->drv->exec(pc->conn, sql, err);
        } else {
            snprintf(sql, sizeof sql, "ROLLBACK TO SAVEPOINT kura_sp_%d", sp);
            ok = s->drv->exec(pc->conn, sql, err);
            snprintf(sql, sizeof sql, "RELEASE SAVEPOINT kura_sp_%d", sp);
            ok = ok && s->drv->exec(pc->conn, sql, err);
        }
        if (!ok)
            pc->doomed[pc->depth - 1] = true, pc->suspect = true;
        pc->depth--;
        return ok;
    }
    if (commit && !pc->doomed[1]) {
        if (s->drv->exec(pc->conn, "COMMIT", err)) {
            kura__sql_unpin(s, pc);
            return true;
        }
        pc->suspect = true;
        kura_error ignored;
        s->drv->exec(pc->conn, "ROLLBACK", &ignored);
        kura__sql_unpin(s, pc);
        return false;
    }
    kura_error rb;
    kura_error_clear(&rb);
    bool ok = s->drv->exec(pc->conn, "ROLLBACK", &rb);
    if (!ok)
        pc->suspect = true;
    kura__sql_unpin(s, pc);
    if (commit)
        return kura_fail(err, KURA_STORE, NULL,
                         "transaction rolled back: a statement in it had failed");
    if (!ok && err)
        *err = rb;
    return ok;
}

bool kura__sql_tx_commit(kura_store *store, kura_error *err)
{
    return tx_end(store, true, err);
}

bool kura__sql_tx_rollback(kura_store *store, kura_error *err)
{
    return tx_end(store, false, err);
}

int kura__sql_tx_depth(kura_store *store)
{
    sql_store *s = (sql_store *)store;
    pconn *pc = pthread_getspecific(s->pinned);
    return pc ? pc->depth : 0;
}
