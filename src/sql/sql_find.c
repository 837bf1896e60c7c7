/*
 * sql_find.c — queries: cursors and finds (rows decoded as they are read),
 * counts, and the same for stores built on this one (the JSON documents).
 */
#include "sql/sql_store_private.h"

#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "model/model_private.h"

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

static void cursor_release(sql_cursor *sc)
{
    kura__sql_stmt_put(sc->s, sc->pc, sc->cs);
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
        if (!kura__sql_decode_row(sc->s, sc->cs->stmt, c->model, out, &sc->memo, err)) {
            kura_clear(c->model, out);
            return -1;
        }
        return 1;
    }
    if (rc < 0)
        kura__sql_note_failure(sc->pc);
    cursor_release(sc);
    return rc;
}

static void cursor_close(kura_cursor *c)
{
    sql_cursor *sc = (sql_cursor *)c;
    cursor_release(sc);
    if (sc->pc && !sc->borrowed)
        sc->pc->cursors--;
    kura__sql_give_back(sc->s, sc->pc, sc->borrowed);
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
    sc->pc = kura__sql_borrow(s, &sc->borrowed, err);
    if (!sc->pc)
        goto fail;
    if (!sc->borrowed) /* the transaction's connection: it must outlive the cursor */
        sc->pc->cursors++;
    cached_stmt scratch;
    sc->cs = kura__sql_stmt_get(s, sc->pc, sql, &scratch, err);
    if (!sc->cs) {
        kura__sql_note_failure(sc->pc);
        goto fail;
    }
    if (sc->cs == &scratch) { /* keep the uncached statement beyond this frame */
        cached_stmt *own = malloc(sizeof *own);
        if (!own) {
            kura__sql_stmt_put(s, sc->pc, sc->cs);
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
    const model_sql *ms = kura__sql_model_sql_for(s, q->model, err);
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
    kura_sql_order_limit(&b, q, s->dia->nulls_high, NULL, NULL);
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
    pconn *pc = kura__sql_borrow(s, &borrowed, err);
    if (!pc)
        return false;
    cached_stmt scratch, *cs;
    bool ok = kura__sql_stmt_bound(s, pc, sql, p->values, p->count, &scratch, &cs, err);
    if (ok) {
        int rc = s->drv->step(cs->stmt, err);
        if (rc == 1)
            *out = s->drv->column_int(cs->stmt, 0);
        else if (rc == 0)
            kura_fail(err, KURA_STORE, NULL, "%s: the query returned no row", s->drv->name);
        ok = rc == 1;
    }
    if (!ok)
        kura__sql_note_failure(pc);
    kura__sql_stmt_put(s, pc, cs);
    kura__sql_give_back(s, pc, borrowed);
    return ok;
}

/* A cursor streams (it may be over more rows than fit in memory); kura_find
 * reads every row anyway, and streaming one row per result costs PostgreSQL
 * about 15% on a 160-row query. */
kura_cursor *kura__sql_cursor_open(kura_store *store, const kura_query *q, kura_error *err)
{
    return open_query(store, q, true, err);
}

kura_cursor *kura__sql_find_open(kura_store *store, const kura_query *q, kura_error *err)
{
    return open_query(store, q, false, err);
}

bool kura__sql_count(kura_store *store, const kura_query *q, int64_t *count, kura_error *err)
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

int kura_sql_row(kura_store *store, const kura_model *model, const char *sql,
                 const kura_value *params, size_t nparams, void *out, kura_error *err)
{
    sql_store *s = (sql_store *)store;
    bool borrowed;
    pconn *pc = kura__sql_borrow(s, &borrowed, err);
    if (!pc)
        return -1;
    cached_stmt scratch, *cs;
    bool ok = kura__sql_stmt_bound(s, pc, sql, params, nparams, &scratch, &cs, err);
    int rc = ok ? s->drv->step(cs->stmt, err) : -1;
    if (rc == 1) {
        kura_time_memo memo = {{0}, 0};
        if (!kura__sql_decode_row(s, cs->stmt, model, out, &memo, err)) {
            kura_clear(model, out);
            rc = -2; /* a value that does not fit: not the database's failure */
        }
    }
    if (rc == -1)
        kura__sql_note_failure(pc);
    kura__sql_stmt_put(s, pc, cs);
    kura__sql_give_back(s, pc, borrowed);
    return rc < 0 ? -1 : rc;
}
