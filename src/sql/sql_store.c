/*
 * sql_store.c — the model store for every SQL database, over a kura_sql_driver:
 * the store object, its table of operations, opening and closing.
 *
 * Connections live in a bounded pool (sql_pool.c). An operation borrows one
 * and gives it back; a transaction pins one to its thread until the outermost
 * commit or rollback (sql_tx.c). Each connection caches its prepared
 * statements by SQL text (sql_stmt.c), and the SQL text of each model's fixed
 * statements is built once per store (sql_text.c). sql_store_private.h lists
 * the rest.
 */
#include "sql/sql_store_private.h"

#include <stdlib.h>
#include <string.h>

bool kura__sql_ping(kura_store *store, kura_error *err)
{
    return kura__sql_exec_plain((sql_store *)store, "SELECT 1", err);
}

void kura__sql_close(kura_store *store)
{
    sql_store *s = (sql_store *)store;
    kura__sql_replicas_free(s);
    pconn *pinned = pthread_getspecific(s->pinned);
    if (pinned) {
        kura_error ignored;
        s->drv->exec(pinned->conn, "ROLLBACK", &ignored);
        kura__sql_unpin(s, pinned);
    }
    while (s->idle) {
        pconn *pc = s->idle;
        s->idle = pc->next_idle;
        kura__sql_pconn_destroy(s, pc);
    }
    while (s->models) {
        model_sql *m = s->models;
        s->models = m->next;
        kura__sql_model_sql_free(m);
    }
    pthread_key_delete(s->pinned);
    pthread_mutex_destroy(&s->lock);
    pthread_cond_destroy(&s->freed);
    pthread_mutex_destroy(&s->models_lock);
    s->drv->free_config(s->config);
    free(s->init_sql);
    free(s);
}

const kura_store_ops kura__sql_ops = {
    .name = "sql",
    .close = kura__sql_close,
    .ping = kura__sql_ping,
    .create = kura__sql_create,
    .drop = kura__sql_drop,
    .insert = kura__sql_insert,
    .insert_checked = kura__sql_insert_checked,
    .get = kura__sql_get,
    .update = kura__sql_update,
    .remove = kura__sql_remove,
    .cursor_open = kura__sql_cursor_open,
    .find_open = kura__sql_find_open,
    .count = kura__sql_count,
    .update_where = kura__sql_update_where,
    .delete_where = kura__sql_delete_where,
    .begin = kura__sql_tx_begin,
    .commit = kura__sql_tx_commit,
    .rollback = kura__sql_tx_rollback,
    .depth = kura__sql_tx_depth,
    .sql_query = kura__sql_raw_query,
    .sql_exec = kura__sql_raw_exec,
};

const kura_sql_dialect *kura_sql_store_dialect(const kura_store *store)
{
    return store && (store->ops == &kura__sql_ops || store->ops == &kura__sql_replicated_ops)
               ? ((const sql_store *)store)->dia
               : NULL;
}

kura_store *kura_sql_store_new(const kura_sql_driver *driver, void *config,
                               const kura_sql_pool_opts *opts, kura_error *err)
{
    sql_store *s = calloc(1, sizeof *s);
    if (!s) {
        driver->free_config(config);
        kura_fail(err, KURA_NOMEM, NULL, "out of memory opening a store");
        return NULL;
    }
    s->base.ops = &kura__sql_ops;
    s->base.driver = driver->name;
    s->drv = driver;
    s->dia = driver->dialect;
    s->config = config;
    s->opts = *opts;
    if (s->opts.size < 1)
        s->opts.size = 1;
    if (opts->init_sql)
        s->init_sql = strdup(opts->init_sql);
    s->opts.init_sql = NULL;
    pthread_mutex_init(&s->lock, NULL);
    pthread_cond_init(&s->freed, NULL);
    pthread_mutex_init(&s->models_lock, NULL);
    if (pthread_key_create(&s->pinned, NULL) != 0 || (opts->init_sql && !s->init_sql)) {
        pthread_mutex_destroy(&s->lock);
        pthread_cond_destroy(&s->freed);
        pthread_mutex_destroy(&s->models_lock);
        driver->free_config(config);
        free(s->init_sql);
        free(s);
        kura_fail(err, KURA_NOMEM, NULL, "out of resources opening a store");
        return NULL;
    }
    /* Connect once now: a bad path, a missing server or a wrong password
     * should fail at start-up, not at the first request. */
    if (opts->lazy)
        return &s->base;
    bool borrowed;
    pconn *pc = kura__sql_borrow(s, &borrowed, err);
    if (!pc) {
        kura__sql_close(&s->base);
        return NULL;
    }
    kura__sql_give_back(s, pc, borrowed);
    return &s->base;
}
