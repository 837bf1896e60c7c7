/*
 * sql_replica.c — read replicas: which server a read goes to, and how far
 * behind each replica is.
 *
 * A store with replicas is the primary's own store (writes, transactions,
 * DDL and migrations never leave it) with these operations in front: a read
 * made outside a transaction (get, find, cursor, count, a raw SELECT) goes,
 * round-robin, to a replica that answered its last check within the lag
 * bounds, else to the primary. A read that fails on a replica (unreachable,
 * timed out, refused) is run once more on the primary and the replica is left
 * out until a check finds it well again.
 *
 * Read-your-writes: after a write, the primary's WAL position is noted; a
 * read goes to a replica only once a check has seen that replica replay past
 * the position, and to the primary until then. This was chosen over "stick to
 * the primary for N ms after a write" because it is exact: no window is too
 * short for a lag spike. It costs one round trip after each write outside a
 * transaction (after the commit of one), made only when replicas are
 * configured. The context is the whole store by default (the app: a request
 * sees every write whose answer was sent before it began, whichever thread
 * made it), so under a steady stream of writes most reads stay on the primary
 * until a check catches a replica up; opts.per_thread narrows it to the
 * writing thread (as transactions are), which keeps replicas in use under
 * writes but lets another thread read a replica that lacks the write, within
 * the lag bound.
 *
 * kura runs no thread of its own: a check (a round trip to the primary and to
 * each replica) is made by the read that finds one due, one at a time; the
 * others go on with the state of the last one.
 */
#include "sql/sql_store_private.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

typedef struct sql_node {
    sql_store *store; /* the replica's own store and pool; NULL for the primary */
    kura_store_node info;
    int64_t pos; /* WAL position (bytes) at its last check */
} sql_node;

/* When the primary was first seen at a WAL position: a replica that has not
 * replayed `pos` is at least `now - t` behind. */
typedef struct sql_mark {
    int64_t t_ms, pos;
} sql_mark;

#define MARKS 64 /* positions kept: enough for any lag bound up to MARKS checks */

typedef struct sql_replicas {
    pthread_mutex_t lock;
    sql_mark marks[MARKS]; /* a ring, oldest at marks[(head + MARKS - nmarks) % MARKS] */
    size_t head, nmarks;
    kura_sql_replica_opts opts;
    sql_node primary;
    sql_node *nodes;
    size_t n;
    size_t next;           /* round-robin start */
    bool checking;         /* a thread is checking: the others do not wait for it */
    int64_t next_check_ms; /* monotonic */
    pthread_key_t wrote;   /* per thread: int64_t *, the WAL position after its last write */
    int64_t app_wrote;     /* the same for the whole store (opts.per_thread false) */
} sql_replicas;

static int64_t now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/* Runs sql (no parameters) on s and reads n integers from its first row. */
static bool read_ints(sql_store *s, const char *sql, int64_t *out, int n, kura_error *err)
{
    bool borrowed;
    pconn *pc = kura__sql_borrow(s, &borrowed, err);
    if (!pc)
        return false;
    cached_stmt scratch;
    cached_stmt *cs = kura__sql_stmt_get(s, pc, sql, &scratch, err);
    bool ok = cs != NULL;
    if (ok) {
        int rc = s->drv->step(cs->stmt, err);
        for (int i = 0; rc == 1 && i < n; i++)
            out[i] = s->drv->column_int(cs->stmt, i);
        ok = rc == 1 || (rc == 0 && kura_fail(err, KURA_STORE, NULL, "no row from '%.40s'", sql));
    }
    if (!ok)
        kura__sql_note_failure(pc);
    kura__sql_stmt_put(s, pc, cs);
    kura__sql_give_back(s, pc, borrowed);
    return ok;
}

/* nd's why: prefix then msg, cut to fit. */
static void set_why(sql_node *nd, const char *prefix, const char *msg)
{
    char *w = nd->info.why;
    size_t cap = sizeof nd->info.why, n = strlen(prefix), m = strlen(msg);
    n = n < cap - 1 ? n : cap - 1;
    memcpy(w, prefix, n);
    m = m < cap - 1 - n ? m : cap - 1 - n;
    memcpy(w + n, msg, m);
    w[n + m] = '\0';
}

/*
 * How far behind a replica at position pos is, in ms: the age of the oldest
 * primary position it has not replayed. Measured from the primary's side
 * because the replica's own clock (now() - pg_last_xact_replay_timestamp())
 * counts the idle time before a write as lag: after a quiet minute, the first
 * write would make every replica look a minute behind.
 */
static int64_t lag_ms_at(const sql_replicas *r, int64_t pos, int64_t now)
{
    for (size_t k = r->nmarks; k > 0; k--) {
        const sql_mark *m = &r->marks[(r->head + MARKS - k) % MARKS];
        if (m->pos > pos)
            return now - m->t_ms;
    }
    return 0;
}

static void mark(sql_replicas *r, int64_t pos, int64_t now)
{
    const sql_mark *last = r->nmarks ? &r->marks[(r->head + MARKS - 1) % MARKS] : NULL;
    if (last && last->pos == pos)
        return; /* the first time a position was seen is what counts */
    r->marks[r->head] = (sql_mark){now, pos};
    r->head = (r->head + 1) % MARKS;
    if (r->nmarks < MARKS)
        r->nmarks++;
}

/* Reads the primary's position, then each replica's; one thread at a time. */
static void check(sql_store *s, bool force)
{
    sql_replicas *r = s->rep;
    int64_t now = now_ms();
    pthread_mutex_lock(&r->lock);
    if (r->checking || (!force && now < r->next_check_ms)) {
        pthread_mutex_unlock(&r->lock);
        return;
    }
    r->checking = true;
    pthread_mutex_unlock(&r->lock);

    kura_error e;
    kura_error_clear(&e);
    int64_t ppos = 0;
    bool pok = read_ints(s, s->dia->wal_position_sql, &ppos, 1, &e);
    pthread_mutex_lock(&r->lock);
    r->primary.info.up = pok;
    if (pok) {
        r->primary.pos = ppos;
        mark(r, ppos, now_ms());
    }
    set_why(&r->primary, "", pok ? "" : e.message);
    pthread_mutex_unlock(&r->lock);

    for (size_t i = 0; i < r->n; i++) {
        sql_node *nd = &r->nodes[i];
        int64_t v = 0;
        kura_error_clear(&e);
        bool ok = read_ints(nd->store, s->dia->replica_state_sql, &v, 1, &e);
        pthread_mutex_lock(&r->lock);
        kura_store_node *in = &nd->info;
        in->up = ok;
        in->in_use = false;
        if (!ok) {
            in->lag_bytes = in->lag_ms = -1;
            set_why(nd, "unavailable: ", e.message);
        } else {
            nd->pos = v;
            /* Read after the primary's: a replica may have passed that position. */
            in->lag_bytes = pok ? (ppos > v ? ppos - v : 0) : -1;
            in->lag_ms = lag_ms_at(r, v, now_ms());
            /* With the primary unreachable its position is unknown: only the time bound
             * holds, and the replica, as current as anything reachable, keeps serving
             * reads (a write's own reads wait for the primary, as they must). */
            if (r->opts.max_lag_bytes > 0 && in->lag_bytes > r->opts.max_lag_bytes)
                snprintf(in->why, sizeof in->why, "lagging: %lld bytes behind (bound %lld)",
                         (long long)in->lag_bytes, (long long)r->opts.max_lag_bytes);
            else if (r->opts.max_lag_ms > 0 && in->lag_ms > r->opts.max_lag_ms)
                snprintf(in->why, sizeof in->why, "lagging: %lld ms behind (bound %ld)",
                         (long long)in->lag_ms, r->opts.max_lag_ms);
            else
                in->in_use = true, in->why[0] = '\0';
        }
        pthread_mutex_unlock(&r->lock);
    }

    pthread_mutex_lock(&r->lock);
    r->checking = false;
    r->next_check_ms = now_ms() + r->opts.check_ms;
    pthread_mutex_unlock(&r->lock);
}

/* The replica a read goes to, or NULL for the primary (in a transaction, or
 * none is in use and has this thread's last write). */
static sql_node *pick(sql_store *s)
{
    sql_replicas *r = s->rep;
    if (pthread_getspecific(s->pinned)) {
        pthread_mutex_lock(&r->lock);
        r->primary.info.reads++;
        pthread_mutex_unlock(&r->lock);
        return NULL;
    }
    check(s, false);
    const int64_t *w = pthread_getspecific(r->wrote);
    int64_t wrote = w ? *w : INT64_MIN;
    sql_node *chosen = NULL;
    pthread_mutex_lock(&r->lock);
    if (!r->opts.per_thread && r->app_wrote > wrote)
        wrote = r->app_wrote;
    for (size_t i = 0; i < r->n && !chosen; i++) {
        sql_node *nd = &r->nodes[(r->next + i) % r->n];
        if (nd->info.in_use && nd->pos >= wrote) {
            chosen = nd;
            r->next = (r->next + i + 1) % r->n;
        }
    }
    (chosen ? chosen : &r->primary)->info.reads++;
    pthread_mutex_unlock(&r->lock);
    return chosen;
}

/*
 * After a read failed on replica nd with e: true when it should run on the
 * primary instead (the replica could not answer; it is left out until a check
 * finds it well), false when e is the answer (not found, a bad value ...).
 */
static bool replica_failed(sql_store *s, sql_node *nd, const kura_error *e)
{
    if (e->code != KURA_UNAVAILABLE && e->code != KURA_TIMEOUT && e->code != KURA_STORE)
        return false;
    sql_replicas *r = s->rep;
    pthread_mutex_lock(&r->lock);
    nd->info.in_use = false;
    nd->info.up = e->code != KURA_UNAVAILABLE;
    nd->info.failures++;
    r->primary.info.reads++;
    set_why(nd, "failed a read: ", e->message);
    pthread_mutex_unlock(&r->lock);
    return true;
}

static bool answer(kura_error *err, const kura_error *e)
{
    if (err)
        *err = *e;
    return false;
}

/* After a successful write outside a transaction: this thread's reads wait
 * for a replica that has replayed the primary's position now. */
static void note_write(sql_store *s)
{
    sql_replicas *r = s->rep;
    int64_t pos;
    kura_error e;
    if (!read_ints(s, s->dia->wal_position_sql, &pos, 1, &e))
        pos = INT64_MAX; /* unknown: the primary, until the next write */
    pthread_mutex_lock(&r->lock);
    if (pos > r->app_wrote)
        r->app_wrote = pos;
    pthread_mutex_unlock(&r->lock);
    int64_t *w = pthread_getspecific(r->wrote);
    if (!w) {
        w = malloc(sizeof *w);
        if (!w || pthread_setspecific(r->wrote, w) != 0) {
            free(w);
            return;
        }
    }
    *w = pos;
}

static bool wrote(kura_store *store, bool ok)
{
    if (ok && kura__sql_tx_depth(store) == 0)
        note_write((sql_store *)store);
    return ok;
}

/* ---- reads ------------------------------------------------------------------- */

static bool rep_get(kura_store *store, const kura_model *m, const kura_keyref *key, void *out,
                    kura_error *err)
{
    sql_store *s = (sql_store *)store;
    sql_node *nd = pick(s);
    if (nd) {
        kura_error e;
        kura_error_clear(&e);
        if (kura__sql_get(&nd->store->base, m, key, out, &e))
            return true;
        if (!replica_failed(s, nd, &e))
            return answer(err, &e);
    }
    return kura__sql_get(store, m, key, out, err);
}

typedef kura_cursor *(*open_fn)(kura_store *, const kura_query *, kura_error *);

static kura_cursor *routed_open(kura_store *store, const kura_query *q, open_fn open,
                                kura_error *err)
{
    sql_store *s = (sql_store *)store;
    sql_node *nd = pick(s);
    if (nd) {
        kura_error e;
        kura_error_clear(&e);
        kura_cursor *c = open(&nd->store->base, q, &e);
        /* The cursor keeps no pointer to e (cppcheck cannot see into open). */
        if (c)
            return c; // cppcheck-suppress returnDanglingLifetime
        if (!replica_failed(s, nd, &e)) {
            answer(err, &e);
            return NULL;
        }
    }
    return open(store, q, err);
}

static kura_cursor *rep_cursor_open(kura_store *store, const kura_query *q, kura_error *err)
{
    return routed_open(store, q, kura__sql_cursor_open, err);
}

static kura_cursor *rep_find_open(kura_store *store, const kura_query *q, kura_error *err)
{
    return routed_open(store, q, kura__sql_find_open, err);
}

static bool rep_count(kura_store *store, const kura_query *q, int64_t *count, kura_error *err)
{
    sql_store *s = (sql_store *)store;
    sql_node *nd = pick(s);
    if (nd) {
        kura_error e;
        kura_error_clear(&e);
        if (kura__sql_count(&nd->store->base, q, count, &e))
            return true;
        if (!replica_failed(s, nd, &e))
            return answer(err, &e);
    }
    return kura__sql_count(store, q, count, err);
}

/* Only a statement that starts with SELECT is a read; anything else (WITH may
 * hold an INSERT) runs on the primary, as does a SELECT inside a transaction. */
static bool is_select(const char *sql)
{
    while (isspace((unsigned char)*sql) || *sql == '(')
        sql++;
    return strncasecmp(sql, "select", 6) == 0 && !isalnum((unsigned char)sql[6]) && sql[6] != '_';
}

static bool rep_sql_query(kura_store *store, const kura_model *m, const char *sql,
                          const kura_value *params, size_t nparams, kura_rows *out, kura_error *err)
{
    sql_store *s = (sql_store *)store;
    sql_node *nd = is_select(sql) ? pick(s) : NULL;
    if (nd) {
        kura_error e;
        kura_error_clear(&e);
        if (kura__sql_raw_query(&nd->store->base, m, sql, params, nparams, out, &e))
            return true;
        if (!replica_failed(s, nd, &e))
            return answer(err, &e);
    }
    bool ok = kura__sql_raw_query(store, m, sql, params, nparams, out, err);
    /* A raw statement that is not a plain SELECT may have written. */
    return nd || is_select(sql) ? ok : wrote(store, ok);
}

static bool rep_ping(kura_store *store, kura_error *err)
{
    check((sql_store *)store, false);
    return kura__sql_ping(store, err);
}

/* ---- writes: on the primary, then noted for read-your-writes ------------------ */

static bool rep_create(kura_store *store, const kura_model *m, kura_error *err)
{
    return wrote(store, kura__sql_create(store, m, err));
}

static bool rep_drop(kura_store *store, const kura_model *m, kura_error *err)
{
    return wrote(store, kura__sql_drop(store, m, err));
}

static bool rep_insert(kura_store *store, const kura_model *m, void *objs, size_t n,
                       kura_error *err)
{
    return wrote(store, kura__sql_insert(store, m, objs, n, err));
}

static bool rep_insert_checked(kura_store *store, const kura_model *m, void *objs, size_t n,
                               kura_time now, kura_error *err)
{
    return wrote(store, kura__sql_insert_checked(store, m, objs, n, now, err));
}

static bool rep_update(kura_store *store, const kura_model *m, const void *obj, kura_error *err)
{
    return wrote(store, kura__sql_update(store, m, obj, err));
}

static bool rep_remove(kura_store *store, const kura_model *m, const kura_keyref *key,
                       kura_error *err)
{
    return wrote(store, kura__sql_remove(store, m, key, err));
}

static bool rep_update_where(kura_store *store, const kura_query *q, const kura_assign *set,
                             size_t n, kura_time now, int64_t *affected, kura_error *err)
{
    return wrote(store, kura__sql_update_where(store, q, set, n, now, affected, err));
}

static bool rep_delete_where(kura_store *store, const kura_query *q, int64_t *affected,
                             kura_error *err)
{
    return wrote(store, kura__sql_delete_where(store, q, affected, err));
}

static bool rep_sql_exec(kura_store *store, const char *sql, const kura_value *params,
                         size_t nparams, int64_t *affected, kura_error *err)
{
    return wrote(store, kura__sql_raw_exec(store, sql, params, nparams, affected, err));
}

static bool rep_commit(kura_store *store, kura_error *err)
{
    return wrote(store, kura__sql_tx_commit(store, err));
}

const kura_store_ops kura__sql_replicated_ops = {
    .name = "sql",
    .close = kura__sql_close,
    .ping = rep_ping,
    .create = rep_create,
    .drop = rep_drop,
    .insert = rep_insert,
    .insert_checked = rep_insert_checked,
    .get = rep_get,
    .update = rep_update,
    .remove = rep_remove,
    .cursor_open = rep_cursor_open,
    .find_open = rep_find_open,
    .count = rep_count,
    .update_where = rep_update_where,
    .delete_where = rep_delete_where,
    .begin = kura__sql_tx_begin,
    .commit = rep_commit,
    .rollback = kura__sql_tx_rollback,
    .depth = kura__sql_tx_depth,
    .sql_query = rep_sql_query,
    .sql_exec = rep_sql_exec,
};

/* ---- opening, closing, reporting --------------------------------------------- */

void kura__sql_replicas_free(sql_store *s)
{
    sql_replicas *r = s->rep;
    if (!r)
        return;
    s->rep = NULL;
    for (size_t i = 0; i < r->n; i++)
        kura__sql_close(&r->nodes[i].store->base);
    free(r->nodes);
    free(pthread_getspecific(r->wrote));
    pthread_setspecific(r->wrote, NULL);
    pthread_key_delete(r->wrote);
    pthread_mutex_destroy(&r->lock);
    free(r);
}

bool kura_sql_store_add_replicas(kura_store *primary, kura_store **replicas,
                                 const char *const *names, size_t n,
                                 const kura_sql_replica_opts *opts, kura_error *err)
{
    sql_store *s = (sql_store *)primary;
    sql_replicas *r = NULL;
    bool ok = false;
    if (!s->dia->replica_state_sql || !s->dia->wal_position_sql) {
        kura_fail(err, KURA_CONFIG, NULL, "%s databases have no read replicas", s->drv->name);
        goto out;
    }
    for (size_t i = 0; i < n; i++)
        if (kura_sql_store_dialect(replicas[i]) != s->dia) {
            kura_fail(err, KURA_CONFIG, NULL, "replica %zu is not a %s database", i + 1,
                      s->drv->name);
            goto out;
        }
    r = calloc(1, sizeof *r);
    if (!r || !(r->nodes = calloc(n ? n : 1, sizeof *r->nodes)) ||
        pthread_key_create(&r->wrote, free) != 0) {
        if (r)
            free(r->nodes);
        free(r);
        r = NULL;
        kura_fail(err, KURA_NOMEM, NULL, "out of memory adding replicas");
        goto out;
    }
    pthread_mutex_init(&r->lock, NULL);
    r->opts = *opts;
    if (r->opts.check_ms < 1)
        r->opts.check_ms = 1;
    kura_copy_string(r->primary.info.name, sizeof r->primary.info.name, "primary");
    r->primary.info.primary = r->primary.info.up = r->primary.info.in_use = true;
    for (size_t i = 0; i < n; i++) {
        sql_node *nd = &r->nodes[i];
        nd->store = (sql_store *)replicas[i];
        replicas[i] = NULL;
        kura_copy_string(nd->info.name, sizeof nd->info.name, names[i]);
        nd->info.lag_bytes = nd->info.lag_ms = -1;
        kura_copy_string(nd->info.why, sizeof nd->info.why, "not checked yet");
    }
    r->n = n;
    s->rep = r;
    s->base.ops = &kura__sql_replicated_ops;
    check(s, true); /* reads use the replicas from the start; a down one is only noted */
    ok = true;
out:
    for (size_t i = 0; i < n; i++)
        if (replicas[i])
            kura__sql_close(replicas[i]);
    return ok;
}

size_t kura_store_nodes(kura_store *store, kura_store_node *out, size_t cap)
{
    if (!store || store->ops != &kura__sql_replicated_ops)
        return 0;
    sql_store *s = (sql_store *)store;
    sql_replicas *r = s->rep;
    check(s, false);
    pthread_mutex_lock(&r->lock);
    if (cap > 0 && out) {
        out[0] = r->primary.info;
        out[0].lag_bytes = out[0].lag_ms = 0;
    }
    for (size_t i = 0; i < r->n && i + 1 < cap && out; i++)
        out[i + 1] = r->nodes[i].info;
    size_t total = r->n + 1;
    pthread_mutex_unlock(&r->lock);
    return total;
}
