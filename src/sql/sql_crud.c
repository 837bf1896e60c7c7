/*
 * sql_crud.c — one object at a time by key: insert (also many at once), get,
 * update, remove.
 */
#include "sql/sql_store_private.h"

#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "model/model_private.h"

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
              kura__sql_bind_fields(s, cs->stmt, m, obj, k, &kept, err) &&
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
    kura__sql_bound_texts_free(&kept);
    return ok;
}

/*
 * Inserts rows [0, k) of objs with one statement and one round trip:
 * INSERT ... VALUES (...), (...) RETURNING id, ordered by id. The server
 * numbers the rows of one statement in VALUES order, so the ordered ids map
 * back to the rows in turn.
 */
static bool insert_rows(sql_store *s, pconn *pc, const model_sql *ms, const kura_model *m,
                        void *objs, size_t k, kura_error *err)
{
    size_t per_row = m->nfields + (size_t)kura__stamp_count(m);
    cached_stmt scratch;
    cached_stmt *cs;
    if (k == ms->batch_rows && ms->insert_batch) {
        cs = kura__sql_stmt_get_hashed(s, pc, ms->insert_batch, ms->insert_batch_hash, &scratch,
                                       err);
    } else {
        char *text = kura__sql_insert_rows_text(s->dia, ms->insert, per_row, k);
        if (!text)
            return kura_fail(err, KURA_NOMEM, NULL, "%s: cannot build a multi-row insert", m->name);
        cs = kura__sql_stmt_get(s, pc, text, &scratch, err);
        free(text);
    }
    if (!cs)
        return false;
    bound_texts kept = {NULL, 0, 0};
    bool ok = true;
    for (size_t r = 0; ok && r < k; r++) {
        kura_base *base = (kura_base *)((char *)objs + r * m->size);
        int first = (int)(r * per_row);
        ok = kura__sql_bind_fields(s, cs->stmt, m, base, first, &kept, err) &&
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
    kura__sql_stmt_put(s, pc, cs);
    kura__sql_bound_texts_free(&kept);
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
    const model_sql *ms = kura__sql_model_sql_for(s, m, err);
    if (!ms)
        return false;
    if (n > 1 && !kura__sql_tx_begin(store, err))
        return false;
    bool borrowed;
    pconn *pc = kura__sql_borrow(s, &borrowed, err);
    bool ok = pc != NULL, invalid = false;
    if (ok && n > 1 && ms->batch_rows > 0) {
        /* A server: batches of rows per round trip, not one trip per row. */
        size_t batch = ms->batch_rows;
        for (size_t done = 0; ok && done < n; done += batch) {
            size_t k = n - done < batch ? n - done : batch;
            invalid = !check_rows(m, objs, done, done + k, check, now, err);
            ok = !invalid && insert_rows(s, pc, ms, m, (char *)objs + done * m->size, k, err);
        }
    } else if (ok) {
        /* One statement lookup for the batch, not one per row: hashing and
         * comparing the INSERT text for every row cost ~5% of a bulk insert. */
        cached_stmt scratch;
        cached_stmt *cs =
            kura__sql_stmt_get_hashed(s, pc, ms->insert, ms->insert_hash, &scratch, err);
        ok = cs != NULL;
        for (size_t done = 0; ok && done < n; done++) {
            /* The next row's header (NULL marks, id, stamps) is read and written
             * like this one's: ask for its cache line for writing now. */
            if (done + 1 < n)
                __builtin_prefetch((char *)objs + (done + 1) * m->size, 1);
            invalid = !check_rows(m, objs, done, done + 1, check, now, err);
            ok = !invalid && insert_one(s, pc, cs, m, (char *)objs + done * m->size, err);
        }
        kura__sql_stmt_put(s, pc, cs);
    }
    if (!ok && pc && !invalid) /* a bad value is not the database's failure */
        kura__sql_note_failure(pc);
    kura__sql_give_back(s, pc, borrowed);
    if (n > 1) {
        if (ok)
            ok = kura__sql_tx_commit(store, err);
        else {
            kura_error ignored;
            kura__sql_tx_rollback(store, &ignored);
        }
        if (!ok) /* nothing was written: no object keeps an id it does not have */
            for (size_t i = 0; i < n; i++)
                ((kura_base *)((char *)objs + i * m->size))->id = 0;
    }
    return ok;
}

bool kura__sql_insert(kura_store *store, const kura_model *m, void *objs, size_t n, kura_error *err)
{
    return insert_many(store, m, objs, n, false, 0, err);
}

bool kura__sql_insert_checked(kura_store *store, const kura_model *m, void *objs, size_t n,
                              kura_time now, kura_error *err)
{
    return insert_many(store, m, objs, n, true, now, err);
}

bool kura__sql_get(kura_store *store, const kura_model *m, const kura_keyref *key, void *out,
                   kura_error *err)
{
    sql_store *s = (sql_store *)store;
    const model_sql *ms = kura__sql_model_sql_for(s, m, err);
    if (!ms)
        return false;
    bool borrowed;
    pconn *pc = kura__sql_borrow(s, &borrowed, err);
    if (!pc)
        return false;
    cached_stmt scratch;
    cached_stmt *cs = kura__sql_stmt_get_hashed(s, pc, ms->get, ms->get_hash, &scratch, err);
    bool ok = cs != NULL;
    if (ok) {
        kura_value v = kura_keyref_value(key);
        ok = s->drv->bind(cs->stmt, 0, &v, err);
        int rc = ok ? s->drv->step(cs->stmt, err) : -1;
        if (rc == 1) {
            kura_time_memo memo = {{0}, 0};
            ok = kura__sql_decode_row(s, cs->stmt, m, out, &memo, err);
            if (!ok)
                kura_clear(m, out);
        } else if (rc == 0) {
            ok = kura_key_not_found(err, m, key);
        } else {
            ok = false;
            kura__sql_note_failure(pc);
        }
        kura__sql_stmt_put(s, pc, cs);
    } else {
        kura__sql_note_failure(pc);
    }
    kura__sql_give_back(s, pc, borrowed);
    return ok;
}

bool kura__sql_update(kura_store *store, const kura_model *m, const void *obj, kura_error *err)
{
    sql_store *s = (sql_store *)store;
    const model_sql *ms = kura__sql_model_sql_for(s, m, err);
    if (!ms)
        return false;
    bool borrowed;
    pconn *pc = kura__sql_borrow(s, &borrowed, err);
    if (!pc)
        return false;
    const kura_base *base = obj;
    cached_stmt scratch;
    cached_stmt *cs = kura__sql_stmt_get_hashed(s, pc, ms->update, ms->update_hash, &scratch, err);
    bool ok = cs != NULL;
    if (ok) {
        kura_keyref key = kura_keyref_of(m, obj);
        kura_value v = kura_keyref_value(&key);
        int n = (int)m->nfields; /* the fields, then updated_at when the model has it */
        bound_texts kept = {NULL, 0, 0};
        ok = kura__sql_bind_fields(s, cs->stmt, m, obj, 0, &kept, err);
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
            kura__sql_note_failure(pc);
        kura__sql_stmt_put(s, pc, cs);
        kura__sql_bound_texts_free(&kept);
    } else {
        kura__sql_note_failure(pc);
    }
    kura__sql_give_back(s, pc, borrowed);
    return ok;
}

bool kura__sql_remove(kura_store *store, const kura_model *m, const kura_keyref *key,
                      kura_error *err)
{
    sql_store *s = (sql_store *)store;
    const model_sql *ms = kura__sql_model_sql_for(s, m, err);
    if (!ms)
        return false;
    bool borrowed;
    pconn *pc = kura__sql_borrow(s, &borrowed, err);
    if (!pc)
        return false;
    kura_value v = kura_keyref_value(key);
    int64_t changes = 0;
    bool ok = kura__sql_run_params(s, pc, ms->remove, &v, 1, &changes, err);
    kura__sql_give_back(s, pc, borrowed);
    if (ok && changes == 0)
        return kura_key_not_found(err, m, key);
    return ok;
}
