/*
 * sql_bulk.c — update and delete by query: one statement for every matching
 * row, updated_at written with the assignments.
 */
#include "sql/sql_store_private.h"

#include "base/buf.h"
#include "model/model_private.h"

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
    pconn *pc = ok ? kura__sql_borrow(s, &borrowed, err) : NULL;
    ok = ok && pc && kura__sql_run_params(s, pc, b.data, p.values, p.count, affected, err);
    kura__sql_give_back(s, pc, borrowed);
    kura_sql_params_free(&p);
    kura_buf_free(&b);
    return ok;
}

bool kura__sql_update_where(kura_store *store, const kura_query *q, const kura_assign *set,
                            size_t n, kura_time now, int64_t *affected, kura_error *err)
{
    return write_where(store, q, set, n, now, affected, err);
}

bool kura__sql_delete_where(kura_store *store, const kura_query *q, int64_t *affected,
                            kura_error *err)
{
    return write_where(store, q, NULL, 0, 0, affected, err);
}
