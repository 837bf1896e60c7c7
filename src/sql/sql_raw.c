/*
 * sql_raw.c — the caller's own SQL: rows read into a model by column name
 * (kura_sql_query), statements run for their count (kura_sql_exec).
 */
#include "sql/sql_store_private.h"

#include "model/model_private.h"

bool kura__sql_raw_query(kura_store *store, const kura_model *m, const char *sql,
                         const kura_value *params, size_t nparams, kura_rows *out, kura_error *err)
{
    sql_store *s = (sql_store *)store;
    bool borrowed;
    pconn *pc = kura__sql_borrow(s, &borrowed, err);
    if (!pc)
        return false;
    cached_stmt scratch, *cs;
    bool ok = kura__sql_stmt_bound(s, pc, sql, params, nparams, &scratch, &cs, err);
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
                ok = kura__sql_decode_column(s, cs->stmt, i, m, map[i], row, &memo, err);
    }
    ok = ok && rc == 0;
    if (!ok) {
        if (cs)
            kura__sql_note_failure(pc);
        while (out->count > before)
            kura_rows_pop(out);
    }
    kura__sql_stmt_put(s, pc, cs);
    kura__sql_give_back(s, pc, borrowed);
    return ok;
}

bool kura__sql_raw_exec(kura_store *store, const char *sql, const kura_value *params,
                        size_t nparams, int64_t *affected, kura_error *err)
{
    sql_store *s = (sql_store *)store;
    bool borrowed;
    pconn *pc = kura__sql_borrow(s, &borrowed, err);
    if (!pc)
        return false;
    bool ok = kura__sql_run_params(s, pc, sql, params, nparams, affected, err);
    if (ok)
        kura__sql_note_ddl(s, sql);
    kura__sql_give_back(s, pc, borrowed);
    return ok;
}

bool kura_sql_insert_id(kura_store *store, const char *sql, const kura_value *params,
                        size_t nparams, int64_t *id, kura_error *err)
{
    sql_store *s = (sql_store *)store;
    bool borrowed;
    pconn *pc = kura__sql_borrow(s, &borrowed, err);
    if (!pc)
        return false;
    cached_stmt scratch, *cs;
    bool ok = kura__sql_stmt_bound(s, pc, sql, params, nparams, &scratch, &cs, err);
    if (ok) {
        /* The key as a table's insert reads it (sql_crud.c): the RETURNING
         * row where the dialect has one, else the connection's last id. */
        int rc = s->drv->step(cs->stmt, err);
        if (rc == 1 && s->dia->returning_id) {
            *id = s->drv->column_int(cs->stmt, 0);
            while ((rc = s->drv->step(cs->stmt, err)) == 1)
                ;
        } else if (rc == 0 && !s->dia->returning_id) {
            *id = s->drv->last_insert_id(pc->conn);
        } else if (rc >= 0) {
            rc = -1;
            kura_fail(err, KURA_STORE, NULL, "%s: the insert returned no id", s->drv->name);
        }
        ok = rc == 0;
    }
    if (!ok)
        kura__sql_note_failure(pc);
    kura__sql_stmt_put(s, pc, cs);
    kura__sql_give_back(s, pc, borrowed);
    return ok;
}
