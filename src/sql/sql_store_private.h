/*
 * sql_store_private.h — what the files of the SQL model store share.
 *
 * The store (sql_store.c) is one object over a kura_sql_driver; its concerns
 * live in one file each:
 *
 *   sql_pool.c    connections: a bounded pool, borrowed and given back
 *   sql_stmt.c    each connection's prepared statements, cached by SQL text,
 *                 and running a statement to completion
 *   sql_tx.c      transactions and savepoints, pinned to a thread
 *   sql_text.c    the SQL text of each model's fixed statements, built once
 *   sql_ddl.c     schema text (CREATE TABLE / INDEX) and kura_create / kura_drop
 *   sql_codec.c   binding a struct's fields, decoding a row into a struct
 *   sql_crud.c    insert, get, update, remove
 *   sql_find.c    cursors, finds, counts and scalars
 *   sql_bulk.c    update and delete by query
 *   sql_raw.c     the caller's own SQL (kura_sql_query, kura_sql_exec)
 *   sql_replica.c read replicas: which node a read goes to, their lag
 *
 * Nothing outside src/sql/sql_*.c includes this header.
 */
#ifndef KURA_SQL_STORE_PRIVATE_H
#define KURA_SQL_STORE_PRIVATE_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>

#include "base/time_private.h"
#include "query/to_sql.h"
#include "sql/sql_private.h"

#define MAX_DEPTH 32 /* nested transactions (savepoints) per connection */

typedef struct cached_stmt {
    char *sql; /* NULL: empty slot */
    uint64_t hash;
    kura_sql_stmt *stmt;
    bool in_use;
} cached_stmt;

typedef struct pconn {
    kura_sql_conn *conn;
    cached_stmt *cache;
    size_t cache_cap, cache_count;
    size_t cache_busy; /* cached entries in use: the array must not move meanwhile */
    int cursors;       /* cursors open on this connection while it is pinned */
    int depth;
    bool doomed[MAX_DEPTH + 1]; /* doomed[d]: a statement failed at depth d */
    bool suspect;               /* an error happened: check before reuse */
    /* Run when the outermost transaction ends, before the connection goes back
     * to the pool (kura__sql_tx_begin_with); NULL: nothing. */
    const char *on_release;
    unsigned schema_gen; /* the store's schema_gen its cached statements are of */
    struct pconn *next_idle;
} pconn;

typedef struct model_sql {
    const kura_model *model;
    char *select_cols; /* "id", "f1", ..., then "created_at", "updated_at" if the model has them */
    char *insert;
    char *get;
    char *update;
    char *remove;
    uint64_t insert_hash, get_hash, update_hash; /* their cache keys, hashed once */
    /* A server's multi-row INSERT of a full batch (sql_crud.c), built once: NULL
     * where inserts are not batched. Shorter last batches build their own. */
    char *insert_batch;
    size_t batch_rows; /* rows per batch; 0: not batched */
    uint64_t insert_batch_hash;
    struct model_sql *next;
} model_sql;

typedef struct sql_store {
    kura_store base;
    const kura_sql_driver *drv;
    const kura_sql_dialect *dia;
    void *config;
    kura_sql_pool_opts opts;
    char *init_sql;

    pthread_mutex_t lock;
    pthread_cond_t freed;
    pconn *idle;
    int open; /* connections existing (idle + borrowed + being opened) */
    pthread_key_t pinned;

    pthread_mutex_t models_lock;
    model_sql *models;

    struct sql_replicas *rep; /* read replicas (sql_replica.c); NULL: none */
    /* Bumped by every DROP, ALTER or CREATE this store runs: a connection whose
     * statements are older drops them before use (kura__sql_schema_changed). */
    _Atomic unsigned schema_gen;
} sql_store;

/* ---- sql_store.c */

/* The operations of a store without replicas, and of one with (sql_replica.c). */
extern const kura_store_ops kura__sql_ops;
extern const kura_store_ops kura__sql_replicated_ops;
bool kura__sql_ping(kura_store *store, kura_error *err);
void kura__sql_close(kura_store *store);
/* Frees the replicas of s (sql_replica.c). */
void kura__sql_replicas_free(sql_store *s);

/* ---- sql_pool.c */

/* A connection from the pool, waiting up to opts.wait_ms (kura__sql_borrow). */
pconn *kura__sql_borrow_pooled(sql_store *s, kura_error *err);
/* Records a failed statement: the connection is checked before reuse and, in
 * a transaction, the current level is doomed. */
void kura__sql_note_failure(pconn *pc);
void kura__sql_pconn_destroy(sql_store *s, pconn *pc);
/* The store's tables changed since pc cached its statements: PostgreSQL fixed
 * their parameter types when it prepared them (a table made again with another
 * key kind reads "invalid input syntax"), so pc drops the ones not in use. */
void kura__sql_schema_changed(sql_store *s, pconn *pc);
/* After sql ran on s: a DROP, ALTER or CREATE makes every connection's cached
 * statements stale. */
void kura__sql_note_ddl(sql_store *s, const char *sql);

/*
 * Every operation borrows a connection and gives it back, so both are inline
 * here, as they were when the store was one file (a call each way costs a
 * get_by_id about 1% more instructions).
 */

/* A connection for one operation: the thread's pinned one (*borrowed false),
 * or one from the pool (*borrowed true). */
static inline pconn *kura__sql_borrow(sql_store *s, bool *borrowed, kura_error *err)
{
    pconn *pc = pthread_getspecific(s->pinned);
    *borrowed = pc == NULL;
    if (!pc)
        pc = kura__sql_borrow_pooled(s, err);
    if (pc && pc->schema_gen != atomic_load_explicit(&s->schema_gen, memory_order_acquire))
        kura__sql_schema_changed(s, pc);
    return pc;
}

/* Returns a borrowed connection to the pool (nothing for a pinned one or NULL). */
static inline void kura__sql_give_back(sql_store *s, pconn *pc, bool borrowed)
{
    if (!borrowed || !pc)
        return;
    if (pc->suspect && !s->drv->alive(pc->conn)) {
        kura__sql_pconn_destroy(s, pc);
        pthread_mutex_lock(&s->lock);
        s->open--;
    } else {
        pthread_mutex_lock(&s->lock);
        pc->next_idle = s->idle;
        s->idle = pc;
    }
    pthread_cond_signal(&s->freed);
    pthread_mutex_unlock(&s->lock);
}

/* ---- sql_stmt.c */

uint64_t kura__sql_hash(const char *sql);
/* Finalises the cached statements of pc (all: also those in use). */
void kura__sql_cache_clear(const kura_sql_driver *drv, pconn *pc, bool all);
/*
 * The cached statement for sql (hash h) on pc, prepared on first use. A
 * statement already in use (a cursor over the same query on the same
 * connection) gets a fresh, uncached one in *scratch: the caller finalises it
 * (kura__sql_stmt_put does) when cs->sql is NULL.
 */
cached_stmt *kura__sql_stmt_get_hashed(sql_store *s, pconn *pc, const char *sql, uint64_t h,
                                       cached_stmt *scratch, kura_error *err);
cached_stmt *kura__sql_stmt_get(sql_store *s, pconn *pc, const char *sql, cached_stmt *scratch,
                                kura_error *err);
/* kura__sql_stmt_get, then params[0..n) bound in order. *cs is what to put
 * back (NULL when it could not be prepared); false when either step failed. */
bool kura__sql_stmt_bound(sql_store *s, pconn *pc, const char *sql, const kura_value *params,
                          size_t n, cached_stmt *scratch, cached_stmt **cs, kura_error *err);
/* Resets c and makes it free for the next use (c may be NULL). Inline: every
 * operation puts its statement back. */
static inline void kura__sql_stmt_put(sql_store *s, pconn *pc, cached_stmt *c)
{
    if (!c)
        return;
    s->drv->reset(c->stmt);
    if (!c->sql) {
        s->drv->finalize(c->stmt);
        c->stmt = NULL;
    } else if (c->in_use) {
        pc->cache_busy--;
    }
    c->in_use = false;
}
/* Runs a statement with no parameters on a borrowed connection. */
bool kura__sql_exec_plain(sql_store *s, const char *sql, kura_error *err);
/* Prepares sql with params bound, runs it to completion; *changes (may be
 * NULL) gets the count of changed rows. */
bool kura__sql_run_params(sql_store *s, pconn *pc, const char *sql, const kura_value *params,
                          size_t n, int64_t *changes, kura_error *err);

/* ---- sql_tx.c */

bool kura__sql_tx_begin(kura_store *store, kura_error *err);
bool kura__sql_tx_commit(kura_store *store, kura_error *err);
bool kura__sql_tx_rollback(kura_store *store, kura_error *err);
int kura__sql_tx_depth(kura_store *store);
/* Ends the thread's pin of pc, runs its on_release and gives it back to the
 * pool (or closes it, when on_release failed). */
void kura__sql_unpin(sql_store *s, pconn *pc);

/* ---- sql_text.c */

/* The model's statement text, built on first use (NULL: out of memory). */
const model_sql *kura__sql_model_sql_for(sql_store *s, const kura_model *m, kura_error *err);
/* WITH ins AS (<insert's columns> VALUES (...) x k RETURNING "id") SELECT "id" FROM
 * ins ORDER BY "id" (malloc'd; NULL when out of memory or the insert takes no
 * values). */
char *kura__sql_insert_rows_text(const kura_sql_dialect *d, const char *insert, size_t per_row,
                                 size_t k);
void kura__sql_model_sql_free(model_sql *m);

/* ---- sql_ddl.c */

bool kura__sql_create(kura_store *store, const kura_model *m, kura_error *err);
bool kura__sql_drop(kura_store *store, const kura_model *m, kura_error *err);

/* ---- sql_codec.c */

/* Texts made for binding (tag lists as JSON): drivers borrow bound strings
 * until reset, so they live here until the statement has run. */
typedef struct bound_texts {
    char **text;
    size_t n, cap;
} bound_texts;

/* Inline: every insert and update frees its (mostly empty) list; an empty one
 * costs no call. */
static inline void kura__sql_bound_texts_free(bound_texts *t)
{
    if (!t->text)
        return;
    for (size_t i = 0; i < t->n; i++)
        free(t->text[i]);
    free(t->text);
    t->text = NULL;
    t->n = t->cap = 0;
}
/* Binds the user fields of obj to parameters first, first + 1, ... */
bool kura__sql_bind_fields(sql_store *s, kura_sql_stmt *st, const kura_model *m, const void *obj,
                           int first, bound_texts *kept, kura_error *err);
/* Decodes result column `col` into model column `column` of *obj (which must
 * own nothing there). */
bool kura__sql_decode_column(sql_store *s, kura_sql_stmt *st, int col, const kura_model *m,
                             int column, void *obj, kura_time_memo *memo, kura_error *err);
/* Decodes a row selected with select_cols (positional) into *obj, whatever it held. */
bool kura__sql_decode_row(sql_store *s, kura_sql_stmt *st, const kura_model *m, void *obj,
                          kura_time_memo *memo, kura_error *err);

/* ---- sql_crud.c */

bool kura__sql_insert(kura_store *store, const kura_model *m, void *objs, size_t n,
                      kura_error *err);
bool kura__sql_insert_checked(kura_store *store, const kura_model *m, void *objs, size_t n,
                              kura_time now, kura_error *err);
bool kura__sql_get(kura_store *store, const kura_model *m, const kura_keyref *key, void *out,
                   kura_error *err);
bool kura__sql_update(kura_store *store, const kura_model *m, const void *obj, kura_error *err);
bool kura__sql_remove(kura_store *store, const kura_model *m, const kura_keyref *key,
                      kura_error *err);

/* ---- sql_find.c */

kura_cursor *kura__sql_cursor_open(kura_store *store, const kura_query *q, kura_error *err);
kura_cursor *kura__sql_find_open(kura_store *store, const kura_query *q, kura_error *err);
bool kura__sql_count(kura_store *store, const kura_query *q, int64_t *count, kura_error *err);

/* ---- sql_bulk.c */

bool kura__sql_update_where(kura_store *store, const kura_query *q, const kura_assign *set,
                            size_t n, kura_time now, int64_t *affected, kura_error *err);
bool kura__sql_delete_where(kura_store *store, const kura_query *q, int64_t *affected,
                            kura_error *err);

/* ---- sql_raw.c */

bool kura__sql_raw_query(kura_store *store, const kura_model *m, const char *sql,
                         const kura_value *params, size_t nparams, kura_rows *out, kura_error *err);
bool kura__sql_raw_exec(kura_store *store, const char *sql, const kura_value *params,
                        size_t nparams, int64_t *affected, kura_error *err);

#endif
