/*
 * sql_store.c — the model store for every SQL database, over a kura_sql_driver.
 *
 * Connections live in a bounded pool. An operation borrows one and gives it
 * back; a transaction pins one to its thread (a pthread key per store) until
 * the outermost commit or rollback. Each connection caches its prepared
 * statements by SQL text, and the SQL text of each model's fixed statements
 * (insert, get, update, delete) is built once per store.
 */
#include "sql/sql_private.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/buf.h"
#include "model/model_private.h"
#include "base/time_private.h"
#include "query/to_sql.h"

#define MAX_DEPTH 32
#define CACHE_MAX 512

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
} sql_store;

typedef struct sql_cursor {
    kura_cursor base;
    sql_store *s;
    pconn *pc;
    cached_stmt *cs;
    bool borrowed;          /* the cursor returns pc to the pool when closed */
    bool own_cs;            /* cs is a malloc'd, uncached statement */
    kura_sql_params params; /* bound values: drivers borrow strings until reset */
    kura_time_memo memo;    /* the rows' last datetime second, for decode_row */
} sql_cursor;

/* ---- statement cache ---------------------------------------------------- */

static uint64_t hash_sql(const char *s)
{
    uint64_t h = 1469598103934665603ull;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h;
}

static void cache_clear(const kura_sql_driver *drv, pconn *pc, bool all)
{
    for (size_t i = 0; i < pc->cache_cap; i++) {
        cached_stmt *c = &pc->cache[i];
        if (!c->sql || (c->in_use && !all))
            continue;
        drv->finalize(c->stmt);
        free(c->sql);
        c->sql = NULL;
        c->in_use = false;
        pc->cache_count--;
    }
}

static bool cache_grow(pconn *pc)
{
    size_t cap = pc->cache_cap ? pc->cache_cap * 2 : 64;
    cached_stmt *n = calloc(cap, sizeof *n);
    if (!n)
        return false;
    for (size_t i = 0; i < pc->cache_cap; i++) {
        cached_stmt *c = &pc->cache[i];
        if (!c->sql)
            continue;
        size_t j = c->hash & (cap - 1);
        while (n[j].sql)
            j = (j + 1) & (cap - 1);
        n[j] = *c;
    }
    free(pc->cache);
    pc->cache = n;
    pc->cache_cap = cap;
    return true;
}

/*
 * The cached statement for sql on pc, prepared on first use. A statement
 * already in use (a cursor over the same query on the same connection) gets a
 * fresh, uncached one: the caller finalises it when cs->sql is NULL.
 */
static cached_stmt *stmt_get_hashed(sql_store *s, pconn *pc, const char *sql, uint64_t h,
                                    cached_stmt *scratch, kura_error *err)
{
    if (pc->cache_cap) {
        for (size_t j = h & (pc->cache_cap - 1);; j = (j + 1) & (pc->cache_cap - 1)) {
            cached_stmt *c = &pc->cache[j];
            if (!c->sql)
                break;
            if (c->hash == h && strcmp(c->sql, sql) == 0) {
                if (!c->in_use) {
                    c->in_use = true;
                    pc->cache_busy++;
                    return c;
                }
                scratch->sql = NULL;
                scratch->stmt = s->drv->prepare(pc->conn, sql, err);
                if (!scratch->stmt)
                    return NULL;
                scratch->in_use = true;
                return scratch;
            }
        }
    }
    kura_sql_stmt *st = s->drv->prepare(pc->conn, sql, err);
    if (!st)
        return NULL;
    if (pc->cache_count >= CACHE_MAX)
        cache_clear(s->drv, pc, false); /* in-use entries stay where they are */
    if ((pc->cache_count + 1) * 2 > pc->cache_cap && pc->cache_busy > 0) {
        /* Growing moves the array, and a cursor holds a pointer into it: this
         * statement goes uncached instead. */
        scratch->sql = NULL;
        scratch->stmt = st;
        scratch->in_use = true;
        return scratch;
    }
    if ((pc->cache_count + 1) * 2 > pc->cache_cap && !cache_grow(pc)) {
        s->drv->finalize(st);
        kura_fail(err, KURA_NOMEM, NULL, "out of memory caching a statement");
        return NULL;
    }
    char *copy = strdup(sql);
    if (!copy) {
        s->drv->finalize(st);
        kura_fail(err, KURA_NOMEM, NULL, "out of memory caching a statement");
        return NULL;
    }
    size_t j = h & (pc->cache_cap - 1);
    while (pc->cache[j].sql)
        j = (j + 1) & (pc->cache_cap - 1);
    pc->cache[j] = (cached_stmt){copy, h, st, true};
    pc->cache_count++;
    pc->cache_busy++;
    return &pc->cache[j];
}

static cached_stmt *stmt_get(sql_store *s, pconn *pc, const char *sql, cached_stmt *scratch,
                             kura_error *err)
{
    return stmt_get_hashed(s, pc, sql, hash_sql(sql), scratch, err);
}

static void stmt_put(sql_store *s, pconn *pc, cached_stmt *c)
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

/* ---- pool ----------------------------------------------------------------- */

static void pconn_destroy(sql_store *s, pconn *pc)
{
    cache_clear(s->drv, pc, true);
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

/* A connection for one operation: the thread's pinned one, or one from the pool. */
static pconn *borrow(sql_store *s, bool *borrowed, kura_error *err)
{
    pconn *pc = pthread_getspecific(s->pinned);
    if (pc) {
        *borrowed = false;
        return pc;
    }
    *borrowed = true;
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
                pconn_destroy(s, pc);
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

static void give_back(sql_store *s, pconn *pc, bool borrowed)
{
    if (!borrowed || !pc)
        return;
    if (pc->suspect && !s->drv->alive(pc->conn)) {
        pconn_destroy(s, pc);
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

/* Records a failed statement: the connection is checked before reuse and, in
 * a transaction, the current level is doomed. */
static void note_failure(pconn *pc)
{
    pc->suspect = true;
    if (pc->depth > 0)
        pc->doomed[pc->depth] = true;
}

/* ---- per-model statement text ------------------------------------------ */

static void free_model_sql(model_sql *m)
{
    free(m->select_cols);
    free(m->insert);
    free(m->get);
    free(m->update);
    free(m->remove);
    free(m);
}

static char *buf_take(kura_buf *b)
{
    char *r = b->oom ? NULL : strdup(b->data);
    kura_buf_free(b);
    return r;
}

static void placeholder(kura_buf *b, const kura_sql_dialect *d, int n)
{
    if (d->dollar_params)
        kura_buf_addf(b, "$%d", n);
    else
        kura_buf_addn(b, "?", 1);
}

static model_sql *build_model_sql(const kura_sql_dialect *d, const kura_model *m)
{
    model_sql *ms = calloc(1, sizeof *ms);
    if (!ms)
        return NULL;
    ms->model = m;
    char stack[1024];
    kura_buf b;

    /* The key's column is "id", or "_id" beside a user field named id. */
    const char *key = kura_key_name(m);
    bool text_key = m->key != KURA_KEY_INT64;

    int nstamps = kura__stamp_count(m);
    kura_buf_init(&b, stack, sizeof stack);
    kura_buf_ident(&b, key);
    for (size_t i = 0; i < m->nfields; i++) {
        kura_buf_add(&b, ", ");
        kura_buf_ident(&b, m->fields[i].name);
    }
    for (int i = 0; i < nstamps; i++) {
        kura_buf_add(&b, ", ");
        kura_buf_ident(&b, kura_column_name(m, kura__stamp_column(i)));
    }
    ms->select_cols = buf_take(&b);

    /* An int64 key is the database's to give: a model of no fields and no
     * stamps inserts DEFAULT VALUES. */
    kura_buf_init(&b, stack, sizeof stack);
    kura_buf_add(&b, "INSERT INTO ");
    kura_buf_ident(&b, m->name);
    size_t ncols = (size_t)text_key + m->nfields + (size_t)nstamps;
    if (text_key) { /* kura made the key (or the caller did): it is bound, not returned */
        kura_buf_add(&b, " (");
        kura_buf_ident(&b, key);
    }
    for (size_t i = 0; i < m->nfields; i++) {
        kura_buf_add(&b, i || text_key ? ", " : " (");
        kura_buf_ident(&b, m->fields[i].name);
    }
    for (int i = 0; i < nstamps; i++) {
        kura_buf_add(&b, i || text_key || m->nfields ? ", " : " (");
        kura_buf_ident(&b, kura_column_name(m, kura__stamp_column(i)));
    }
    kura_buf_add(&b, ncols ? ") VALUES (" : " DEFAULT VALUES");
    for (size_t i = 0; i < ncols; i++) {
        if (i)
            kura_buf_add(&b, ", ");
        placeholder(&b, d, (int)i + 1);
    }
    if (ncols)
        kura_buf_add(&b, ")");
    if (d->returning_id && !text_key)
        kura_buf_add(&b, " RETURNING \"id\"");
    ms->insert = buf_take(&b);

    kura_buf_init(&b, stack, sizeof stack);
    kura_buf_addf(&b, "SELECT %s FROM ", ms->select_cols ? ms->select_cols : "");
    kura_buf_ident(&b, m->name);
    kura_buf_add(&b, " WHERE ");
    kura_buf_ident(&b, key);
    kura_buf_add(&b, " = ");
    placeholder(&b, d, 1);
    ms->get = buf_take(&b);

    kura_buf_init(&b, stack, sizeof stack);
    kura_buf_add(&b, "UPDATE ");
    kura_buf_ident(&b, m->name);
    kura_buf_add(&b, " SET ");
    /* Every field, then the stamps an update writes (updated_at: the ones after
     * created_at). A model with neither sets its key to itself, so that a
     * missing row is still told by the count of changed rows. */
    int n = 0;
    for (size_t i = 0; i < m->nfields; i++, n++) {
        kura_buf_add(&b, n ? ", " : "");
        kura_buf_ident(&b, m->fields[i].name);
        kura_buf_add(&b, " = ");
        placeholder(&b, d, n + 1);
    }
    for (int i = 1; i < nstamps; i++, n++) {
        kura_buf_add(&b, n ? ", " : "");
        kura_buf_ident(&b, kura_column_name(m, kura__stamp_column(i)));
        kura_buf_add(&b, " = ");
        placeholder(&b, d, n + 1);
    }
    if (n == 0) {
        kura_buf_ident(&b, key);
        kura_buf_add(&b, " = ");
        kura_buf_ident(&b, key);
    }
    kura_buf_add(&b, " WHERE ");
    kura_buf_ident(&b, key);
    kura_buf_add(&b, " = ");
    placeholder(&b, d, n + 1);
    ms->update = buf_take(&b);

    kura_buf_init(&b, stack, sizeof stack);
    kura_buf_add(&b, "DELETE FROM ");
    kura_buf_ident(&b, m->name);
    kura_buf_add(&b, " WHERE ");
    kura_buf_ident(&b, key);
    kura_buf_add(&b, " = ");
    placeholder(&b, d, 1);
    ms->remove = buf_take(&b);

    if (!ms->select_cols || !ms->insert || !ms->get || !ms->update || !ms->remove) {
        free_model_sql(ms);
        return NULL;
    }
    ms->insert_hash = hash_sql(ms->insert);
    ms->get_hash = hash_sql(ms->get);
    ms->update_hash = hash_sql(ms->update);
    return ms;
}

static model_sql *find_model_sql(model_sql *ms, const kura_model *m)
{
    while (ms && ms->model != m)
        ms = ms->next;
    return ms;
}

/*
 * Entries are immutable once published and only ever prepended, so readers
 * walk the list without the lock (an acquire load pairs with the release
 * store that published the head); only building a new entry takes it.
 */
static const model_sql *model_sql_for(sql_store *s, const kura_model *m, kura_error *err)
{
    model_sql *ms = find_model_sql(__atomic_load_n(&s->models, __ATOMIC_ACQUIRE), m);
    if (ms)
        return ms;
    pthread_mutex_lock(&s->models_lock);
    ms = find_model_sql(s->models, m);
    if (!ms) {
        ms = build_model_sql(s->dia, m);
        if (ms) {
            ms->next = s->models;
            __atomic_store_n(&s->models, ms, __ATOMIC_RELEASE);
        }
    }
    pthread_mutex_unlock(&s->models_lock);
    if (!ms)
        kura_fail(err, KURA_NOMEM, NULL, "out of memory building statements for %s", m->name);
    return ms;
}

/* ---- binding and decoding -------------------------------------------------- */

/* Texts made for binding (tag lists as JSON): drivers borrow bound strings
 * until reset, so they live here until the statement has run. */
typedef struct bound_texts {
    char **text;
    size_t n, cap;
} bound_texts;

static void bound_texts_free(bound_texts *t)
{
    for (size_t i = 0; i < t->n; i++)
        free(t->text[i]);
    free(t->text);
    t->text = NULL;
    t->n = t->cap = 0;
}

static bool bound_texts_keep(bound_texts *t, char *text)
{
    if (t->n == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 8;
        char **grown = realloc(t->text, cap * sizeof *grown);
        if (!grown)
            return false;
        t->text = grown;
        t->cap = cap;
    }
    t->text[t->n++] = text;
    return true;
}

/* Binds the user fields of obj to parameters first, first + 1, ... */
static bool bind_fields(sql_store *s, kura_sql_stmt *st, const kura_model *m, const void *obj,
                        int first, bound_texts *kept, kura_error *err)
{
    for (size_t i = 0; i < m->nfields; i++) {
        const kura_field *f = &m->fields[i];
        const kura_type_info *ti = kura__type(f->type);
        if (ti->sql_text && !kura_is_null(m, obj, f)) {
            /* A member no kura_value carries (a tag list: its JSON text). */
            char *text = ti->sql_text(f, (const char *)obj + f->offset, err);
            if (!text)
                return false;
            if (!bound_texts_keep(kept, text)) {
                free(text);
                return kura_fail(err, KURA_NOMEM, f->name, "out of memory binding %s", f->name);
            }
            kura_value v = KURA_VSTR(text);
            if (!s->drv->bind(st, first + (int)i, &v, err))
                return false;
            continue;
        }
        kura_value v = kura_value_of(m, obj, f);
        if (!s->drv->bind(st, first + (int)i, &v, err))
            return false;
    }
    return true;
}

/* Reads datetime column `column`; NULL text is SQL NULL (*t = 0, *null = true). */
static bool decode_time(sql_store *s, kura_sql_stmt *st, int col, const kura_model *m, int column,
                        kura_time_memo *memo, kura_time *t, bool *null, kura_error *err)
{
    /* No length from the driver: for SQLite that is one more library call,
     * dearer than the parser's own bounded look. */
    const char *txt = s->drv->column_text(st, col, NULL);
    *null = txt == NULL;
    *t = 0;
    if (!txt || kura_time_parse_memo(txt, SIZE_MAX, memo, t))
        return true;
    const char *name = kura_column_name(m, column); /* only on the error path */
    return kura_fail(err, KURA_MISFIT, name, "%s: stored value '%.40s' is not a datetime", name,
                     txt);
}

/* A text key into base->key (an integer key another program stored in a
 * document table reads as its decimal text). */
static bool decode_key(const kura_sql_driver *d, kura_sql_stmt *st, int col, const kura_model *m,
                       kura_base *base, kura_error *err)
{
    size_t len;
    const char *txt = d->column_text(st, col, &len);
    base->id = 0;
    if (!txt || len == 0 || len >= sizeof base->key) {
        base->key[0] = '\0';
        return kura_fail(err, KURA_MISFIT, "id", "%s: stored key %s", m->name,
                         txt && len ? "is longer than 63 bytes" : "is empty");
    }
    memcpy(base->key, txt, len);
    base->key[len] = '\0';
    return true;
}

/*
 * Decodes result column `col` into model column `column` of *obj. The member
 * must own nothing (a TEXT member is overwritten, not freed). Text-typed
 * columns learn NULL from column_text; only numbers ask column_null.
 */
static inline __attribute__((always_inline)) bool
decode_column(sql_store *s, kura_sql_stmt *st, int col, const kura_model *m, int column, void *obj,
              kura_time_memo *memo, kura_error *err)
{
    kura_base *base = obj;
    const kura_sql_driver *d = s->drv;
    bool null = false;
    if (column == KURA_COL_ID) {
        if (m->key == KURA_KEY_INT64) {
            base->id = d->column_int(st, col); /* the primary key is never NULL */
            return true;
        }
        return decode_key(d, st, col, m, base, err);
    }
    if (column < 0)
        return decode_time(s, st, col, m, column, memo, kura__stamp_member(base, column), &null,
                           err);
    const kura_field *f = &m->fields[column];
    const kura_type_info *ti = kura__type(f->type);
    char *p = (char *)obj + f->offset;
    /* The type says which of the driver's three readers fits its column. */
    switch (ti->sql_read) {
    case KURA_SQL_READ_INT: {
        int64_t v = 0;
        if (!(null = d->column_null(st, col)))
            v = d->column_int(st, col);
        if (!ti->from_sql_int(f, v, p, err))
            return false;
        break;
    }
    case KURA_SQL_READ_DOUBLE: {
        double v = 0;
        if (!(null = d->column_null(st, col)))
            v = d->column_double(st, col);
        if (!ti->from_sql_double(f, v, p, err))
            return false;
        break;
    }
    case KURA_SQL_READ_TEXT: {
        size_t len = SIZE_MAX;
        const char *txt = d->column_text(st, col, ti->sql_text_len ? &len : NULL);
        null = txt == NULL;
        if (!ti->from_sql_text(f, txt, len, p, memo, err))
            return false;
        break;
    }
    }
    if (null)
        base->nulls |= (uint64_t)1 << column;
    return true;
}

/* Prepares *obj (whatever it held) for decode_row: no nulls, no owned pointers,
 * and no stamps when the model has none to read. */
static void decode_start(const kura_model *m, void *obj)
{
    kura_base *base = obj;
    base->nulls = 0;
    if (kura__stamp_count(m) == 0)
        base->created_at = base->updated_at = 0;
    for (size_t i = 0; i < m->nfields; i++)
        if (kura__type(m->fields[i].type)->owns) {
            char *none = NULL;
            memcpy((char *)obj + m->fields[i].offset, &none, sizeof none);
        }
}

/* Decodes a row selected with select_cols (positional). */
static bool decode_row(sql_store *s, kura_sql_stmt *st, const kura_model *m, void *obj,
                       kura_time_memo *memo, kura_error *err)
{
    decode_start(m, obj);
    if (!decode_column(s, st, 0, m, KURA_COL_ID, obj, memo, err))
        return false;
    for (size_t i = 0; i < m->nfields; i++)
        if (!decode_column(s, st, (int)i + 1, m, (int)i, obj, memo, err))
            return false;
    for (int i = 0, n = kura__stamp_count(m); i < n; i++)
        if (!decode_column(s, st, (int)m->nfields + 1 + i, m, kura__stamp_column(i), obj, memo,
                           err))
            return false;
    return true;
}

/* ---- running statements ---------------------------------------------------- */

/* Runs a statement with no parameters on a borrowed connection. */
static bool exec_sql(sql_store *s, const char *sql, kura_error *err)
{
    bool borrowed;
    pconn *pc = borrow(s, &borrowed, err);
    if (!pc)
        return false;
    bool ok = s->drv->exec(pc->conn, sql, err);
    if (!ok)
        note_failure(pc);
    give_back(s, pc, borrowed);
    return ok;
}

/* Prepares sql with params bound, runs it to completion; *changes gets the count. */
static bool run_params(sql_store *s, pconn *pc, const char *sql, const kura_value *params, size_t n,
                       int64_t *changes, kura_error *err)
{
    cached_stmt scratch;
    cached_stmt *cs = stmt_get(s, pc, sql, &scratch, err);
    if (!cs) {
        note_failure(pc);
        return false;
    }
    bool ok = true;
    for (size_t i = 0; ok && i < n; i++)
        ok = s->drv->bind(cs->stmt, (int)i, &params[i], err);
    int rc = 0;
    if (ok) {
        while ((rc = s->drv->step(cs->stmt, err)) == 1)
            ;
        ok = rc == 0;
    }
    if (ok && changes)
        *changes = s->drv->changes(cs->stmt);
    if (!ok)
        note_failure(pc);
    stmt_put(s, pc, cs);
    return ok;
}

/* ---- transactions ------------------------------------------------------------ */

static bool tx_begin(kura_store *store, kura_error *err)
{
    sql_store *s = (sql_store *)store;
    pconn *pc = pthread_getspecific(s->pinned);
    if (!pc) {
        bool borrowed;
        pc = borrow(s, &borrowed, err);
        if (!pc)
            return false;
        if (!s->drv->exec(pc->conn, s->dia->dollar_params ? "BEGIN" : "BEGIN IMMEDIATE", err)) {
            note_failure(pc);
            give_back(s, pc, true);
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
        note_failure(pc);
        return false;
    }
    pc->depth++;
    pc->doomed[pc->depth] = false;
    return true;
}

static void unpin(sql_store *s, pconn *pc)
{
    pc->depth = 0;
    pthread_setspecific(s->pinned, NULL);
    give_back(s, pc, true);
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
            unpin(s, pc);
            return true;
        }
        pc->suspect = true;
        kura_error ignored;
        s->drv->exec(pc->conn, "ROLLBACK", &ignored);
        unpin(s, pc);
        return false;
    }
    kura_error rb;
    kura_error_clear(&rb);
    bool ok = s->drv->exec(pc->conn, "ROLLBACK", &rb);
    if (!ok)
        pc->suspect = true;
    unpin(s, pc);
    if (commit)
        return kura_fail(err, KURA_STORE, NULL,
                         "transaction rolled back: a statement in it had failed");
    if (!ok && err)
        *err = rb;
    return ok;
}

static bool tx_commit(kura_store *store, kura_error *err)
{
    return tx_end(store, true, err);
}

static bool tx_rollback(kura_store *store, kura_error *err)
{
    return tx_end(store, false, err);
}

static int tx_depth(kura_store *store)
{
    sql_store *s = (sql_store *)store;
    pconn *pc = pthread_getspecific(s->pinned);
    return pc ? pc->depth : 0;
}

/* ---- schema --------------------------------------------------------------- */

void kura_sql_column_def(kura_buf *b, const kura_sql_dialect *d, const kura_field *f)
{
    const kura_type_info *ti = kura__type(f->type);
    kura_buf_ident(b, f->name);
    kura_buf_add(b, " ");
    kura__sql_type(b, d->id, f);
    if (f->required)
        kura_buf_add(b, " NOT NULL");
    if (f->has_default && ti->ddl_default)
        ti->ddl_default(b, f);
}

void kura_sql_table_ddl(kura_buf *b, const kura_sql_dialect *d, const kura_model *m)
{
    kura_buf_add(b, "CREATE TABLE IF NOT EXISTS ");
    kura_buf_ident(b, m->name);
    kura_buf_add(b, " (\n\t");
    kura_buf_ident(b, kura_key_name(m));
    kura_buf_addf(b, " %s NOT NULL", m->key == KURA_KEY_INT64 ? d->id_type : d->key_types[m->key]);
    for (size_t i = 0; i < m->nfields; i++) {
        kura_buf_add(b, ",\n\t");
        kura_sql_column_def(b, d, &m->fields[i]);
    }
    for (int i = 0; i < kura__stamp_count(m); i++) {
        kura_buf_add(b, ",\n\t");
        kura_buf_ident(b, kura_column_name(m, kura__stamp_column(i)));
        kura_buf_addf(b, " %s", kura__type(KURA_TYPE_DATETIME)->sql[d->id]);
    }
    kura_buf_add(b, ",\n\tPRIMARY KEY (");
    kura_buf_ident(b, kura_key_name(m));
    kura_buf_add(b, ")");
    for (size_t i = 0; i < m->nfields; i++)
        if (m->fields[i].unique && !m->fields[i].index) {
            kura_buf_add(b, ",\n\tUNIQUE (");
            kura_buf_ident(b, m->fields[i].name);
            kura_buf_add(b, ")");
        }
    kura_buf_add(b, "\n)");
}

/* Flask-SQLAlchemy's names: ix_<table>_<column>, unique when the column is. */
void kura_sql_index_ddl(kura_buf *b, const kura_model *m, const kura_field *f)
{
    kura_buf_addf(b, "CREATE %sINDEX IF NOT EXISTS \"ix_%s_%s\" ON ", f->unique ? "UNIQUE " : "",
                  m->name, f->name);
    kura_buf_ident(b, m->name);
    kura_buf_add(b, " (");
    kura_buf_ident(b, f->name);
    kura_buf_add(b, ")");
}

static bool create_model(kura_store *store, const kura_model *m, kura_error *err)
{
    sql_store *s = (sql_store *)store;
    char stack[2048];
    kura_buf b;
    kura_buf_init(&b, stack, sizeof stack);
    kura_sql_table_ddl(&b, s->dia, m);
    bool ok = !b.oom && exec_sql(s, b.data, err);
    for (size_t i = 0; ok && i < m->nfields; i++) {
        const kura_field *f = &m->fields[i];
        if (!f->index)
            continue;
        b.len = 0;
        kura_sql_index_ddl(&b, m, f);
        ok = !b.oom && exec_sql(s, b.data, err);
    }
    if (b.oom)
        ok = kura_fail(err, KURA_NOMEM, NULL, "out of memory");
    kura_buf_free(&b);
    return ok;
}

static bool drop_model(kura_store *store, const kura_model *m, kura_error *err)
{
    sql_store *s = (sql_store *)store;
    char stack[256];
    kura_buf b;
    kura_buf_init(&b, stack, sizeof stack);
    kura_buf_add(&b, "DROP TABLE IF EXISTS ");
    kura_buf_ident(&b, m->name);
    bool ok = !b.oom && exec_sql(s, b.data, err);
    kura_buf_free(&b);
    return ok;
}

/* ---- rows ------------------------------------------------------------------ */

/* Binds the stamps a row is inserted with (created_at, updated_at, or none) to
 * parameters first, first + 1. */
static bool bind_stamps(sql_store *s, kura_sql_stmt *st, const kura_model *m, const kura_base *base,
                        int first, kura_error *err)
{
    for (int i = 0; i < kura__stamp_count(m); i++) {
        kura_value v = KURA_VTIME(kura__stamp_value(base, kura__stamp_column(i)));
        if (!s->drv->bind(st, first + i, &v, err))
            return false;
    }
    return true;
}

/* Binds and runs the insert statement cs for one object; leaves cs reset for the next. */
static bool insert_one(sql_store *s, pconn *pc, cached_stmt *cs, const kura_model *m, void *obj,
                       kura_error *err)
{
    kura_base *base = obj;
    bound_texts kept = {NULL, 0, 0};
    int k = m->key != KURA_KEY_INT64; /* a text key is parameter 0 */
    kura_value key = KURA_VSTR(base->key);
    bool ok = (!k || s->drv->bind(cs->stmt, 0, &key, err)) &&
              bind_fields(s, cs->stmt, m, obj, k, &kept, err) &&
              bind_stamps(s, cs->stmt, m, base, (int)m->nfields + k, err);
    if (ok) {
        int rc = s->drv->step(cs->stmt, err);
        if (rc == 1 && s->dia->returning_id && !k) {
            base->id = s->drv->column_int(cs->stmt, 0);
            while ((rc = s->drv->step(cs->stmt, err)) == 1)
                ;
        } else if (rc == 0 && !k) {
            base->id = s->drv->last_insert_id(pc->conn);
        }
        ok = rc == 0;
    }
    s->drv->reset(cs->stmt);
    bound_texts_free(&kept);
    return ok;
}

/* Rows per multi-row INSERT on a server: one round trip carries them all. */
#define BATCH_ROWS 100

/*
 * Inserts rows [0, k) of objs with one statement and one round trip:
 * INSERT ... VALUES (...), (...) RETURNING id, ordered by id. The server
 * numbers the rows of one statement in VALUES order, so the ordered ids map
 * back to the rows in turn.
 */
static bool insert_rows(sql_store *s, pconn *pc, const model_sql *ms, const kura_model *m,
                        void *objs, size_t k, kura_error *err)
{
    char stack[2048];
    kura_buf b;
    kura_buf_init(&b, stack, sizeof stack);
    const char *values = strstr(ms->insert, " VALUES (");
    size_t per_row = m->nfields + (size_t)kura__stamp_count(m);
    if (!values || per_row == 0) /* DEFAULT VALUES takes no rows of values */
        return kura_fail(err, KURA_INVALID, NULL, "%s: no columns to insert in a batch", m->name);
    kura_buf_add(&b, "WITH ins AS (");
    kura_buf_addn(&b, ms->insert, (size_t)(values - ms->insert));
    kura_buf_add(&b, " VALUES ");
    for (size_t r = 0; r < k; r++) {
        kura_buf_add(&b, r ? ", (" : "(");
        for (size_t c = 0; c < per_row; c++)
            kura_buf_addf(&b, c ? ", $%zu" : "$%zu", r * per_row + c + 1);
        kura_buf_add(&b, ")");
    }
    kura_buf_add(&b, " RETURNING \"id\") SELECT \"id\" FROM ins ORDER BY \"id\"");
    if (b.oom) {
        kura_buf_free(&b);
        return kura_fail(err, KURA_NOMEM, NULL, "out of memory building an insert");
    }
    cached_stmt scratch;
    cached_stmt *cs = stmt_get(s, pc, b.data, &scratch, err);
    kura_buf_free(&b);
    if (!cs)
        return false;
    bound_texts kept = {NULL, 0, 0};
    bool ok = true;
    for (size_t r = 0; ok && r < k; r++) {
        kura_base *base = (kura_base *)((char *)objs + r * m->size);
        int first = (int)(r * per_row);
        ok = bind_fields(s, cs->stmt, m, base, first, &kept, err) &&
             bind_stamps(s, cs->stmt, m, base, first + (int)m->nfields, err);
    }
    size_t got = 0;
    int rc = ok ? s->drv->step(cs->stmt, err) : -1;
    while (rc == 1) {
        if (got < k)
            ((kura_base *)((char *)objs + got * m->size))->id = s->drv->column_int(cs->stmt, 0);
        got++;
        rc = s->drv->step(cs->stmt, err);
    }
    ok = rc == 0;
    if (ok && got != k)
        ok = kura_fail(err, KURA_STORE, NULL, "insert returned %zu ids for %zu rows", got, k);
    stmt_put(s, pc, cs);
    bound_texts_free(&kept);
    return ok;
}

/*
 * Validates and stamps rows [from, to) when `check` (kura_insert_many's rows
 * arrive unchecked, so that each row is read from memory once: checked, then
 * bound while still in cache).
 */
static bool check_rows(const kura_model *m, void *objs, size_t from, size_t to, bool check,
                       kura_time now, kura_error *err)
{
    for (size_t i = from; check && i < to; i++) {
        kura_base *b = (kura_base *)((char *)objs + i * m->size);
        if (!kura_validate(m, b, err)) {
            if (err) {
                char msg[sizeof err->message];
                memcpy(msg, err->message, sizeof msg);
                kura_fail(err, KURA_VALIDATION, err->field, "row %zu: %s", i, msg);
            }
            return false;
        }
        if (kura__stamp_count(m))
            b->created_at = b->updated_at = now;
    }
    return true;
}

static bool insert_many(kura_store *store, const kura_model *m, void *objs, size_t n, bool check,
                        kura_time now, kura_error *err)
{
    sql_store *s = (sql_store *)store;
    const model_sql *ms = model_sql_for(s, m, err);
    if (!ms)
        return false;
    if (n > 1 && !tx_begin(store, err))
        return false;
    bool borrowed;
    pconn *pc = borrow(s, &borrowed, err);
    bool ok = pc != NULL, invalid = false;
    size_t per_row = m->nfields + (size_t)kura__stamp_count(m);
    if (ok && n > 1 && s->dia->returning_id && m->key == KURA_KEY_INT64 && per_row > 0) {
        /* A server: batches of rows per round trip, not one trip per row. */
        size_t batch = BATCH_ROWS;
        while (batch > 1 && batch * per_row > 32767)
            batch /= 2; /* the protocol's parameter limit */
        for (size_t done = 0; ok && done < n; done += batch) {
            size_t k = n - done < batch ? n - done : batch;
            invalid = !check_rows(m, objs, done, done + k, check, now, err);
            ok = !invalid && insert_rows(s, pc, ms, m, (char *)objs + done * m->size, k, err);
        }
    } else if (ok) {
        /* One statement lookup for the batch, not one per row: hashing and
         * comparing the INSERT text for every row cost ~5% of a bulk insert. */
        cached_stmt scratch;
        cached_stmt *cs = stmt_get_hashed(s, pc, ms->insert, ms->insert_hash, &scratch, err);
        ok = cs != NULL;
        for (size_t done = 0; ok && done < n; done++) {
            invalid = !check_rows(m, objs, done, done + 1, check, now, err);
            ok = !invalid && insert_one(s, pc, cs, m, (char *)objs + done * m->size, err);
        }
        stmt_put(s, pc, cs);
    }
    if (!ok && pc && !invalid) /* a bad value is not the database's failure */
        note_failure(pc);
    give_back(s, pc, borrowed);
    if (n > 1) {
        if (ok)
            ok = tx_commit(store, err);
        else {
            kura_error ignored;
            tx_rollback(store, &ignored);
        }
        if (!ok) /* nothing was written: no object keeps an id it does not have */
            for (size_t i = 0; i < n; i++)
                ((kura_base *)((char *)objs + i * m->size))->id = 0;
    }
    return ok;
}

static bool do_insert(kura_store *store, const kura_model *m, void *objs, size_t n, kura_error *err)
{
    return insert_many(store, m, objs, n, false, 0, err);
}

static bool do_insert_checked(kura_store *store, const kura_model *m, void *objs, size_t n,
                              kura_time now, kura_error *err)
{
    return insert_many(store, m, objs, n, true, now, err);
}

static bool do_get(kura_store *store, const kura_model *m, const kura_keyref *key, void *out,
                   kura_error *err)
{
    sql_store *s = (sql_store *)store;
    const model_sql *ms = model_sql_for(s, m, err);
    if (!ms)
        return false;
    bool borrowed;
    pconn *pc = borrow(s, &borrowed, err);
    if (!pc)
        return false;
    cached_stmt scratch;
    cached_stmt *cs = stmt_get_hashed(s, pc, ms->get, ms->get_hash, &scratch, err);
    bool ok = cs != NULL;
    if (ok) {
        kura_value v = kura_keyref_value(key);
        ok = s->drv->bind(cs->stmt, 0, &v, err);
        int rc = ok ? s->drv->step(cs->stmt, err) : -1;
        if (rc == 1) {
            kura_time_memo memo = {{0}, 0};
            ok = decode_row(s, cs->stmt, m, out, &memo, err);
            if (!ok)
                kura_clear(m, out);
        } else if (rc == 0) {
            ok = kura_key_not_found(err, m, key);
        } else {
            ok = false;
            note_failure(pc);
        }
        stmt_put(s, pc, cs);
    } else {
        note_failure(pc);
    }
    give_back(s, pc, borrowed);
    return ok;
}

static bool do_update(kura_store *store, const kura_model *m, const void *obj, kura_error *err)
{
    sql_store *s = (sql_store *)store;
    const model_sql *ms = model_sql_for(s, m, err);
    if (!ms)
        return false;
    bool borrowed;
    pconn *pc = borrow(s, &borrowed, err);
    if (!pc)
        return false;
    const kura_base *base = obj;
    cached_stmt scratch;
    cached_stmt *cs = stmt_get_hashed(s, pc, ms->update, ms->update_hash, &scratch, err);
    bool ok = cs != NULL;
    if (ok) {
        kura_keyref key = kura_keyref_of(m, obj);
        kura_value v = kura_keyref_value(&key);
        int n = (int)m->nfields; /* the fields, then updated_at when the model has it */
        bound_texts kept = {NULL, 0, 0};
        ok = bind_fields(s, cs->stmt, m, obj, 0, &kept, err);
        for (int i = 1; ok && i < kura__stamp_count(m); i++, n++) {
            kura_value t = KURA_VTIME(kura__stamp_value(base, kura__stamp_column(i)));
            ok = s->drv->bind(cs->stmt, n, &t, err);
        }
        ok = ok && s->drv->bind(cs->stmt, n, &v, err);
        int rc = ok ? s->drv->step(cs->stmt, err) : -1;
        ok = rc == 0;
        if (ok && s->drv->changes(cs->stmt) == 0)
            ok = kura_key_not_found(err, m, &key);
        else if (!ok)
            note_failure(pc);
        stmt_put(s, pc, cs);
        bound_texts_free(&kept);
    } else {
        note_failure(pc);
    }
    give_back(s, pc, borrowed);
    return ok;
}

static bool do_remove(kura_store *store, const kura_model *m, const kura_keyref *key,
                      kura_error *err)
{
    sql_store *s = (sql_store *)store;
    const model_sql *ms = model_sql_for(s, m, err);
    if (!ms)
        return false;
    bool borrowed;
    pconn *pc = borrow(s, &borrowed, err);
    if (!pc)
        return false;
    kura_value v = kura_keyref_value(key);
    int64_t changes = 0;
    bool ok = run_params(s, pc, ms->remove, &v, 1, &changes, err);
    give_back(s, pc, borrowed);
    if (ok && changes == 0)
        return kura_key_not_found(err, m, key);
    return ok;
}

/* ---- queries ---------------------------------------------------------------- */

static void cursor_release(sql_cursor *sc)
{
    stmt_put(sc->s, sc->pc, sc->cs);
    if (sc->own_cs)
        free(sc->cs);
    sc->cs = NULL;
    sc->own_cs = false;
}

static int cursor_next(kura_cursor *c, void *out, kura_error *err)
{
    sql_cursor *sc = (sql_cursor *)c;
    if (!sc->cs)
        return 0;
    int rc = sc->s->drv->step(sc->cs->stmt, err);
    if (rc == 1) {
        if (!decode_row(sc->s, sc->cs->stmt, c->model, out, &sc->memo, err)) {
            kura_clear(c->model, out);
            return -1;
        }
        return 1;
    }
    if (rc < 0)
        note_failure(sc->pc);
    cursor_release(sc);
    return rc;
}

static void cursor_close(kura_cursor *c)
{
    sql_cursor *sc = (sql_cursor *)c;
    cursor_release(sc);
    if (sc->pc && !sc->borrowed)
        sc->pc->cursors--;
    give_back(sc->s, sc->pc, sc->borrowed);
    kura_sql_params_free(&sc->params);
    free(sc);
}

/* decode_row writes every column, nulls and TEXT pointers: rows need no zeroing. */
static const kura_cursor_ops sql_cursor_ops = {cursor_next, cursor_close, true};

/* A cursor outlives the call that opened it, and so may outlive the caller's
 * strings (query values, PREFIX patterns): drivers borrow bound strings until
 * reset, so the cursor binds copies it owns. */
static bool own_strings(kura_sql_params *p, kura_error *err)
{
    for (size_t i = 0; i < p->count; i++) {
        if (p->values[i].kind != KURA_VALUE_STRING)
            continue;
        char *copy = p->nowned < KURA_SQL_MAX_PARAMS ? strdup(p->values[i].as.s) : NULL;
        if (!copy)
            return kura_fail(err, KURA_NOMEM, NULL, "out of memory opening a cursor");
        p->owned[p->nowned++] = copy;
        p->values[i].as.s = copy;
    }
    return true;
}

/* A cursor over `sql` with params bound, decoding rows positionally as
 * select_cols lists them (id, the fields, then the model's stamps). */
static kura_cursor *cursor_for_sql(sql_store *s, const kura_model *m, const char *sql,
                                   const kura_value *params, size_t nparams, bool stream,
                                   kura_error *err)
{
    if (nparams > KURA_SQL_MAX_PARAMS) {
        kura_fail(err, KURA_INVALID, NULL, "more than %d parameters", KURA_SQL_MAX_PARAMS);
        return NULL;
    }
    sql_cursor *sc = calloc(1, sizeof *sc);
    if (!sc) {
        kura_fail(err, KURA_NOMEM, NULL, "out of memory opening a cursor");
        return NULL;
    }
    sc->base.ops = &sql_cursor_ops;
    sc->base.model = m;
    sc->s = s;
    kura_sql_params *p = &sc->params;
    kura_sql_params_init(p, s->dia->dollar_params);
    memcpy(p->values, params, nparams * sizeof *params);
    p->count = nparams;
    if (!own_strings(p, err))
        goto fail;
    sc->pc = borrow(s, &sc->borrowed, err);
    if (!sc->pc)
        goto fail;
    if (!sc->borrowed) /* the transaction's connection: it must outlive the cursor */
        sc->pc->cursors++;
    cached_stmt scratch;
    sc->cs = stmt_get(s, sc->pc, sql, &scratch, err);
    if (!sc->cs) {
        note_failure(sc->pc);
        goto fail;
    }
    if (sc->cs == &scratch) { /* keep the uncached statement beyond this frame */
        cached_stmt *own = malloc(sizeof *own);
        if (!own) {
            stmt_put(s, sc->pc, sc->cs);
            sc->cs = NULL;
            kura_fail(err, KURA_NOMEM, NULL, "out of memory opening a cursor");
            goto fail;
        }
        *own = scratch;
        sc->cs = own;
        sc->own_cs = true;
    }
    for (size_t i = 0; i < p->count; i++)
        if (!s->drv->bind(sc->cs->stmt, (int)i, &p->values[i], err))
            goto fail;
    if (stream && s->drv->stream)
        s->drv->stream(sc->cs->stmt);
    return &sc->base;
fail:
    cursor_close(&sc->base);
    return NULL;
}

static kura_cursor *open_query(kura_store *store, const kura_query *q, bool stream, kura_error *err)
{
    sql_store *s = (sql_store *)store;
    const model_sql *ms = model_sql_for(s, q->model, err);
    if (!ms)
        return NULL;
    char stack[1024];
    kura_buf b;
    kura_buf_init(&b, stack, sizeof stack);
    kura_sql_params p;
    kura_sql_params_init(&p, s->dia->dollar_params);
    p.form = kura__sql_form(s->dia->id);
    kura_buf_addf(&b, "SELECT %s FROM ", ms->select_cols);
    kura_buf_ident(&b, q->model->name);
    kura_cursor *c = NULL;
    if (!kura_sql_where(&b, q, &p, NULL, NULL, err))
        goto out;
    kura_sql_order_limit(&b, q, NULL, NULL);
    if (b.oom) {
        kura_fail(err, KURA_NOMEM, NULL, "out of memory building a query");
        goto out;
    }
    /* The cursor binds its own copies, so the PREFIX patterns can go right after. */
    c = cursor_for_sql(s, q->model, b.data, p.values, p.count, stream, err);
out:
    kura_sql_params_free(&p);
    kura_buf_free(&b);
    return c;
}

/* Runs a one-row, one-column query (COUNT) with params bound. */
static bool scalar(sql_store *s, const char *sql, const kura_sql_params *p, int64_t *out,
                   kura_error *err)
{
    bool borrowed;
    pconn *pc = borrow(s, &borrowed, err);
    if (!pc)
        return false;
    cached_stmt scratch;
    cached_stmt *cs = stmt_get(s, pc, sql, &scratch, err);
    bool ok = cs != NULL;
    for (size_t i = 0; ok && i < p->count; i++)
        ok = s->drv->bind(cs->stmt, (int)i, &p->values[i], err);
    if (ok) {
        int rc = s->drv->step(cs->stmt, err);
        if (rc == 1)
            *out = s->drv->column_int(cs->stmt, 0);
        else if (rc == 0)
            kura_fail(err, KURA_STORE, NULL, "%s: the query returned no row", s->drv->name);
        ok = rc == 1;
    }
    if (!ok)
        note_failure(pc);
    stmt_put(s, pc, cs);
    give_back(s, pc, borrowed);
    return ok;
}

/* A cursor streams (it may be over more rows than fit in memory); kura_find
 * reads every row anyway, and streaming one row per result costs PostgreSQL
 * about 15% on a 160-row query. */
static kura_cursor *open_cursor(kura_store *store, const kura_query *q, kura_error *err)
{
    return open_query(store, q, true, err);
}

static kura_cursor *open_find(kura_store *store, const kura_query *q, kura_error *err)
{
    return open_query(store, q, false, err);
}

static bool count_rows(kura_store *store, const kura_query *q, int64_t *count, kura_error *err)
{
    sql_store *s = (sql_store *)store;
    char stack[1024];
    kura_buf b;
    kura_buf_init(&b, stack, sizeof stack);
    kura_sql_params p;
    kura_sql_params_init(&p, s->dia->dollar_params);
    p.form = kura__sql_form(s->dia->id);
    kura_buf_add(&b, "SELECT COUNT(*) FROM ");
    kura_buf_ident(&b, q->model->name);
    bool ok = kura_sql_where(&b, q, &p, NULL, NULL, err) && scalar(s, b.data, &p, count, err);
    kura_sql_params_free(&p);
    kura_buf_free(&b);
    return ok;
}

static bool write_where(kura_store *store, const kura_query *q, const kura_assign *set, size_t n,
                        kura_time now, int64_t *affected, kura_error *err)
{
    sql_store *s = (sql_store *)store;
    char stack[1024];
    kura_buf b;
    kura_buf_init(&b, stack, sizeof stack);
    kura_sql_params p;
    kura_sql_params_init(&p, s->dia->dollar_params);
    p.form = kura__sql_form(s->dia->id);
    if (set) {
        kura_buf_add(&b, "UPDATE ");
        kura_buf_ident(&b, q->model->name);
        kura_buf_add(&b, " SET ");
        for (size_t i = 0; i < n; i++) {
            kura_buf_add(&b, i ? ", " : "");
            kura_buf_ident(&b, set[i].field);
            kura_buf_add(&b, " = ");
            kura_sql_param(&b, &p, set[i].value);
        }
        for (int i = 1; i < kura__stamp_count(q->model); i++) { /* updated_at, if it has one */
            kura_buf_add(&b, ", ");
            kura_buf_ident(&b, kura_column_name(q->model, kura__stamp_column(i)));
            kura_buf_add(&b, " = ");
            kura_sql_param(&b, &p, KURA_VTIME(now));
        }
    } else {
        kura_buf_add(&b, "DELETE FROM ");
        kura_buf_ident(&b, q->model->name);
    }
    bool ok = kura_sql_where(&b, q, &p, NULL, NULL, err);
    bool borrowed = false;
    pconn *pc = ok ? borrow(s, &borrowed, err) : NULL;
    ok = ok && pc && run_params(s, pc, b.data, p.values, p.count, affected, err);
    give_back(s, pc, borrowed);
    kura_sql_params_free(&p);
    kura_buf_free(&b);
    return ok;
}

static bool update_where(kura_store *store, const kura_query *q, const kura_assign *set, size_t n,
                         kura_time now, int64_t *affected, kura_error *err)
{
    return write_where(store, q, set, n, now, affected, err);
}

static bool delete_where(kura_store *store, const kura_query *q, int64_t *affected, kura_error *err)
{
    return write_where(store, q, NULL, 0, 0, affected, err);
}

/* ---- raw SQL ---------------------------------------------------------------- */

static bool sql_query(kura_store *store, const kura_model *m, const char *sql,
                      const kura_value *params, size_t nparams, kura_rows *out, kura_error *err)
{
    sql_store *s = (sql_store *)store;
    bool borrowed;
    pconn *pc = borrow(s, &borrowed, err);
    if (!pc)
        return false;
    cached_stmt scratch;
    cached_stmt *cs = stmt_get(s, pc, sql, &scratch, err);
    bool ok = cs != NULL;
    for (size_t i = 0; ok && i < nparams; i++)
        ok = s->drv->bind(cs->stmt, (int)i, &params[i], err);
    size_t before = out->count;
    int map[KURA_MAX_FIELDS + 8];
    kura_time_memo memo = {{0}, 0};
    int ncols = -1;
    int rc = 0;
    while (ok && (rc = s->drv->step(cs->stmt, err)) == 1) {
        if (ncols < 0) {
            ncols = s->drv->column_count(cs->stmt);
            if (ncols > KURA_MAX_FIELDS + 8)
                ncols = KURA_MAX_FIELDS + 8;
            for (int i = 0; i < ncols; i++) {
                map[i] = kura_column_named(m, s->drv->column_name(cs->stmt, i));
                for (int j = 0; j < i && map[i] != KURA_COL_NONE; j++)
                    if (map[j] == map[i])
                        map[i] = KURA_COL_NONE; /* a field read twice: the first one counts */
            }
        }
        void *row = kura_rows_push(out, m);
        if (!row) {
            ok = kura_fail(err, KURA_NOMEM, NULL, "out of memory reading rows");
            break;
        }
        for (int i = 0; ok && i < ncols; i++)
            if (map[i] != KURA_COL_NONE)
                ok = decode_column(s, cs->stmt, i, m, map[i], row, &memo, err);
    }
    ok = ok && rc == 0;
    if (!ok) {
        if (cs)
            note_failure(pc);
        while (out->count > before)
            kura_rows_pop(out);
    }
    stmt_put(s, pc, cs);
    give_back(s, pc, borrowed);
    return ok;
}

static bool sql_exec(kura_store *store, const char *sql, const kura_value *params, size_t nparams,
                     int64_t *affected, kura_error *err)
{
    sql_store *s = (sql_store *)store;
    bool borrowed;
    pconn *pc = borrow(s, &borrowed, err);
    if (!pc)
        return false;
    bool ok = run_params(s, pc, sql, params, nparams, affected, err);
    give_back(s, pc, borrowed);
    return ok;
}

/* ---- the store ---------------------------------------------------------------- */

static bool ping(kura_store *store, kura_error *err)
{
    return exec_sql((sql_store *)store, "SELECT 1", err);
}

static void close_store(kura_store *store)
{
    sql_store *s = (sql_store *)store;
    pconn *pinned = pthread_getspecific(s->pinned);
    if (pinned) {
        kura_error ignored;
        s->drv->exec(pinned->conn, "ROLLBACK", &ignored);
        unpin(s, pinned);
    }
    while (s->idle) {
        pconn *pc = s->idle;
        s->idle = pc->next_idle;
        pconn_destroy(s, pc);
    }
    while (s->models) {
        model_sql *m = s->models;
        s->models = m->next;
        free_model_sql(m);
    }
    pthread_key_delete(s->pinned);
    pthread_mutex_destroy(&s->lock);
    pthread_cond_destroy(&s->freed);
    pthread_mutex_destroy(&s->models_lock);
    s->drv->free_config(s->config);
    free(s->init_sql);
    free(s);
}

static const kura_store_ops sql_ops = {
    .name = "sql",
    .close = close_store,
    .ping = ping,
    .create = create_model,
    .drop = drop_model,
    .insert = do_insert,
    .insert_checked = do_insert_checked,
    .get = do_get,
    .update = do_update,
    .remove = do_remove,
    .cursor_open = open_cursor,
    .find_open = open_find,
    .count = count_rows,
    .update_where = update_where,
    .delete_where = delete_where,
    .begin = tx_begin,
    .commit = tx_commit,
    .rollback = tx_rollback,
    .depth = tx_depth,
    .sql_query = sql_query,
    .sql_exec = sql_exec,
};

const kura_sql_dialect *kura_sql_store_dialect(const kura_store *store)
{
    return store && store->ops == &sql_ops ? ((const sql_store *)store)->dia : NULL;
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
    s->base.ops = &sql_ops;
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
    bool borrowed;
    pconn *pc = borrow(s, &borrowed, err);
    if (!pc) {
        close_store(&s->base);
        return NULL;
    }
    give_back(s, pc, borrowed);
    return &s->base;
}

/* ---- for stores built on this one (src/document/sqljson.c) ---------------------- */

kura_cursor *kura_sql_cursor_sql(kura_store *store, const kura_model *model, const char *sql,
                                 const kura_value *params, size_t nparams, bool stream,
                                 kura_error *err)
{
    return cursor_for_sql((sql_store *)store, model, sql, params, nparams, stream, err);
}

bool kura_sql_scalar(kura_store *store, const char *sql, const kura_value *params, size_t nparams,
                     int64_t *out, kura_error *err)
{
    kura_sql_params p;
    kura_sql_params_init(&p, false);
    if (nparams > KURA_SQL_MAX_PARAMS)
        return kura_fail(err, KURA_INVALID, NULL, "too many parameters");
    if (nparams) /* memcpy must not see NULL, even for 0 bytes */
        memcpy(p.values, params, nparams * sizeof *params);
    p.count = nparams;
    return scalar((sql_store *)store, sql, &p, out, err);
}
