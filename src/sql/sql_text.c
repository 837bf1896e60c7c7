/*
 * sql_text.c — the SQL text of each model's fixed statements (insert, get,
 * update, delete and the select list), built once per store and model.
 */
#include "sql/sql_store_private.h"

#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "model/model_private.h"

void kura__sql_model_sql_free(model_sql *m)
{
    free(m->select_cols);
    free(m->insert);
    free(m->get);
    free(m->update);
    free(m->remove);
    free(m->insert_batch);
    free(m);
}

/* Rows per multi-row INSERT on a server: one round trip carries them all, within
 * the dialect's limit on parameters. */
#define BATCH_ROWS 100

char *kura__sql_insert_rows_text(const kura_sql_dialect *d, const char *insert, size_t per_row,
                                 size_t k)
{
    const char *values = strstr(insert, " VALUES (");
    if (!values || per_row == 0) /* DEFAULT VALUES takes no rows of values */
        return NULL;
    char stack[2048];
    kura_buf b;
    kura_buf_init(&b, stack, sizeof stack);
    kura_buf_add(&b, "WITH ins AS (");
    kura_buf_addn(&b, insert, (size_t)(values - insert));
    kura_buf_add(&b, " VALUES ");
    for (size_t r = 0; r < k; r++) {
        kura_buf_add(&b, r ? ", (" : "(");
        for (size_t c = 0; c < per_row; c++) {
            kura_buf_add(&b, c ? ", " : "");
            kura_sql_placeholder(&b, d, (int)(r * per_row + c + 1));
        }
        kura_buf_add(&b, ")");
    }
    kura_buf_add(&b, " RETURNING \"id\") SELECT \"id\" FROM ins ORDER BY \"id\"");
    return kura_buf_take(&b);
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
    ms->select_cols = kura_buf_take(&b);

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
        kura_sql_placeholder(&b, d, (int)i + 1);
    }
    if (ncols)
        kura_buf_add(&b, ")");
    if (d->returning_id && !text_key)
        kura_buf_add(&b, " RETURNING \"id\"");
    ms->insert = kura_buf_take(&b);

    kura_buf_init(&b, stack, sizeof stack);
    kura_buf_addf(&b, "SELECT %s FROM ", ms->select_cols ? ms->select_cols : "");
    kura_buf_ident(&b, m->name);
    kura_buf_add(&b, " WHERE ");
    kura_buf_ident(&b, key);
    kura_buf_add(&b, " = ");
    kura_sql_placeholder(&b, d, 1);
    ms->get = kura_buf_take(&b);

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
        kura_sql_placeholder(&b, d, n + 1);
    }
    for (int i = 1; i < nstamps; i++, n++) {
        kura_buf_add(&b, n ? ", " : "");
        kura_buf_ident(&b, kura_column_name(m, kura__stamp_column(i)));
        kura_buf_add(&b, " = ");
        kura_sql_placeholder(&b, d, n + 1);
    }
    if (n == 0) {
        kura_buf_ident(&b, key);
        kura_buf_add(&b, " = ");
        kura_buf_ident(&b, key);
    }
    kura_buf_add(&b, " WHERE ");
    kura_buf_ident(&b, key);
    kura_buf_add(&b, " = ");
    kura_sql_placeholder(&b, d, n + 1);
    ms->update = kura_buf_take(&b);

    kura_buf_init(&b, stack, sizeof stack);
    kura_buf_add(&b, "DELETE FROM ");
    kura_buf_ident(&b, m->name);
    kura_buf_add(&b, " WHERE ");
    kura_buf_ident(&b, key);
    kura_buf_add(&b, " = ");
    kura_sql_placeholder(&b, d, 1);
    ms->remove = kura_buf_take(&b);

    if (!ms->select_cols || !ms->insert || !ms->get || !ms->update || !ms->remove) {
        kura__sql_model_sql_free(ms);
        return NULL;
    }
    ms->insert_hash = kura__sql_hash(ms->insert);
    ms->get_hash = kura__sql_hash(ms->get);
    ms->update_hash = kura__sql_hash(ms->update);
    size_t per_row = m->nfields + (size_t)kura__stamp_count(m);
    if (d->batch_params > 0 && m->key == KURA_KEY_INT64 && per_row > 0) {
        size_t batch = BATCH_ROWS;
        while (batch > 1 && batch * per_row > (size_t)d->batch_params)
            batch /= 2;
        ms->batch_rows = batch;
        /* Built here, not per batch: rebuilding and hashing it each time was
         * most of what a PostgreSQL bulk insert spent beyond libpq's own. */
        ms->insert_batch = kura__sql_insert_rows_text(d, ms->insert, per_row, batch);
        if (ms->insert_batch)
            ms->insert_batch_hash = kura__sql_hash(ms->insert_batch);
    }
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
const model_sql *kura__sql_model_sql_for(sql_store *s, const kura_model *m, kura_error *err)
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
