/*
 * sqljson_json.c — the JSON layout: a collection ("_id", "doc") holding each
 * document whole in one JSON column (SQLite JSON1, PostgreSQL JSONB), the
 * layout of the collections kura made before declared fields had columns.
 *
 * Statements run through the SQL store (the pool, the statement cache, pinned
 * transactions are its). Queries go through the same translator as tables
 * (query/to_sql.c) with a column writer that renders a field as a JSON path
 * expression; indexes are expression indexes on exactly those expressions,
 * so the planner can use them.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <kura/json.h>

#include "base/buf.h"
#include "document/sqljson_private.h"
#include "model/model_private.h"
#include "query/to_sql.h"

/* ---- expressions -------------------------------------------------------------- */

/* Column `column` of m (not the key) read from the JSON in column `doc`. */
static void key_expr(kura_buf *out, const doc_store *s, const kura_model *m, int column,
                     const char *doc)
{
    const char *name = kura_column_name(m, column);
    const kura_type_info *ti = kura__type(kura_column_type(m, column));
    /* A JSON field reads as the JSON text it is (a value of its own); the
     * others as SQL values that compare and sort as their types do. */
    if (ti->json_raw)
        s->d->json.as_json(out, doc, name);
    else
        s->d->json.as_value(out, doc, name, ti);
}

/*
 * The expression for a column. The field name goes into the SQL literally
 * (checked by kura_doc_plain_name when the model is first used): an index is
 * only used when the query's expression is the index's expression, and a
 * bound path parameter would never match one.
 */
static void column_expr(kura_buf *out, const kura_model *m, int column, void *ctx)
{
    if (column == KURA_COL_ID)
        kura_buf_add(out, "\"_id\"");
    else
        key_expr(out, ctx, m, column, "doc");
}

void kura__docj_value(kura_buf *value, kura_buf *type, const doc_store *s, const kura_model *m,
                      int column, const char *doc)
{
    char estack[256];
    kura_buf expr;
    kura_buf_init(&expr, estack, sizeof estack);
    key_expr(&expr, s, m, column, doc);
    const kura_type_info *ti = kura__type(kura_column_type(m, column));
    if (column >= 0)
        kura__sql_type(type, s->d->id, &m->fields[column]);
    else
        kura_buf_add(type, ti->sql[s->d->id]);
    if (expr.oom || type->oom)
        value->oom = true;
    else
        s->d->json.to_column(value, expr.data, ti, type->data);
    kura_buf_free(&expr);
}

void kura__docj_free(doc_model *dm)
{
    free(dm->select);
    free(dm->get);
    free(dm->insert);
    free(dm->remove);
    dm->select = dm->get = dm->insert = dm->remove = NULL;
}

bool kura__docj_prepare(doc_store *s, doc_model *dm)
{
    if (dm->select)
        return true;
    const kura_model *m = dm->model;
    char stack[2048];
    kura_buf b;

    kura_buf_init(&b, stack, sizeof stack);
    kura_buf_add(&b, "SELECT \"_id\"");
    for (size_t i = 0; i < m->nfields; i++) {
        kura_buf_add(&b, ", ");
        column_expr(&b, m, (int)i, s);
    }
    for (int i = 0; i < kura__stamp_count(m); i++) { /* the model's stamps, if it has them */
        kura_buf_add(&b, ", ");
        column_expr(&b, m, kura__stamp_column(i), s);
    }
    kura_buf_add(&b, " FROM ");
    kura_buf_ident(&b, m->name);
    dm->select = kura_buf_take(&b);

    kura_buf_init(&b, stack, sizeof stack);
    kura_buf_addf(&b, "%s WHERE \"_id\" = ", dm->select ? dm->select : "");
    kura_sql_placeholder(&b, s->d, 1);
    dm->get = kura_buf_take(&b);

    kura_buf_init(&b, stack, sizeof stack);
    kura_buf_add(&b, "INSERT INTO ");
    kura_buf_ident(&b, m->name);
    /* An int64 key is the database's to give; the others are made before the
     * insert: bound, not returned. */
    bool int_key = m->key == KURA_KEY_INT64;
    kura_buf_add(&b, int_key ? " (\"doc\") VALUES (" : " (\"_id\", \"doc\") VALUES (");
    if (!int_key) {
        kura_sql_placeholder(&b, s->d, 1);
        kura_buf_add(&b, ", ");
    }
    kura_buf_add(&b, s->d->json.doc_open);
    kura_sql_placeholder(&b, s->d, int_key ? 1 : 2);
    kura_buf_add(&b, s->d->json.doc_close);
    kura_buf_add(&b, ")");
    if (int_key && s->d->returning_id) /* else the connection's last id (kura_sql_insert_id) */
        kura_buf_add(&b, " RETURNING \"_id\"");
    dm->insert = kura_buf_take(&b);

    kura_buf_init(&b, stack, sizeof stack);
    kura_buf_add(&b, "DELETE FROM ");
    kura_buf_ident(&b, m->name);
    kura_buf_add(&b, " WHERE \"_id\" = ");
    kura_sql_placeholder(&b, s->d, 1);
    dm->remove = kura_buf_take(&b);

    if (!dm->select || !dm->get || !dm->insert || !dm->remove) {
        kura__docj_free(dm);
        return false;
    }
    return true;
}

static bool exec0(doc_store *s, const char *sql, kura_error *err)
{
    return kura_sql_exec(s->sql, sql, NULL, 0, NULL, err);
}

/* The "_id" column's type: the dialect's document integer for int64 keys, its
 * key column type for the others (as a table's key). */
static const char *key_type(const doc_store *s, kura_key_kind kind)
{
    return kind == KURA_KEY_INT64 ? s->d->json.id_type : s->d->key_types[kind];
}

bool kura__docj_create(doc_store *s, const kura_model *m, kura_error *err)
{
    char stack[1024];
    kura_buf b;
    kura_buf_init(&b, stack, sizeof stack);
    kura_buf_add(&b, "CREATE TABLE IF NOT EXISTS ");
    kura_buf_ident(&b, m->name);
    kura_buf_add(&b, " (\"_id\" ");
    kura_buf_add(&b, key_type(s, m->key));
    kura_buf_add(&b, " PRIMARY KEY, \"doc\" ");
    kura_buf_add(&b, s->d->json.doc_type);
    kura_buf_add(&b, ")");
    bool ok = !b.oom && exec0(s, b.data, err);
    /* Flask-SQLAlchemy's index names, on the expressions queries use. */
    for (size_t i = 0; ok && i < m->nfields; i++) {
        const kura_field *f = &m->fields[i];
        if (!f->index && !f->unique)
            continue;
        char name[64];
        kura__index_name(m->name, f->name, name);
        b.len = 0;
        kura_buf_addf(&b, "CREATE %sINDEX IF NOT EXISTS ", f->unique ? "UNIQUE " : "");
        kura_buf_ident(&b, name);
        kura_buf_add(&b, " ON ");
        kura_buf_ident(&b, m->name);
        kura_buf_add(&b, " ((");
        column_expr(&b, m, (int)i, s);
        kura_buf_add(&b, "))");
        ok = !b.oom && exec0(s, b.data, err);
    }
    for (size_t i = 0; ok && i < m->nfields; i++) { /* fields unique together */
        const kura_field *f = &m->fields[i];
        if (!f->unique_with)
            continue;
        char name[64];
        kura__unique_with_name(m, f, name);
        b.len = 0;
        kura_buf_add(&b, "CREATE UNIQUE INDEX IF NOT EXISTS ");
        kura_buf_ident(&b, name);
        kura_buf_add(&b, " ON ");
        kura_buf_ident(&b, m->name);
        kura_buf_add(&b, " ((");
        column_expr(&b, m, (int)i, s);
        for (size_t j = 0; f->unique_with[j]; j++) {
            kura_buf_add(&b, "), (");
            column_expr(&b, m, kura_column_named(m, f->unique_with[j]), s);
        }
        kura_buf_add(&b, "))");
        ok = !b.oom && (exec0(s, b.data, err) || kura_sql_unique_with_failed(m, f, err));
    }
    if (b.oom)
        ok = kura_fail(err, KURA_NOMEM, NULL, "out of memory");
    kura_buf_free(&b);
    return ok;
}

/* ---- documents ---------------------------------------------------------------- */

/* The model's keys as a JSON object (new reference): without the key (the
 * table's "_id" column), and without created_at when `for_update` (it never
 * changes; a model without stamps has none, and a field of that name is a
 * field). */
static json_t *doc_object(const kura_model *m, const void *obj, bool for_update, kura_error *err)
{
    json_t *o = kura_to_json(m, obj);
    if (!o) {
        kura_fail(err, KURA_NOMEM, NULL, "cannot encode %s as JSON", m->name);
        return NULL;
    }
    json_object_del(o, kura_key_name(m));
    if (for_update && kura__stamp_count(m))
        json_object_del(o, kura_column_name(m, KURA_COL_CREATED_AT));
    return o;
}

/* doc_object as a compact JSON text (malloc'd). */
static char *doc_text(const kura_model *m, const void *obj, bool for_update, kura_error *err)
{
    json_t *o = doc_object(m, obj, for_update, err);
    if (!o)
        return NULL;
    char *text = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    if (!text)
        kura_fail(err, KURA_NOMEM, NULL, "out of memory encoding %s", m->name);
    return text;
}

static bool insert_one(doc_store *s, const doc_model *dm, void *obj, kura_error *err)
{
    char *text = doc_text(dm->model, obj, false, err);
    if (!text)
        return false;
    bool ok;
    if (dm->model->key == KURA_KEY_INT64) {
        kura_value v = KURA_VSTR(text);
        int64_t id = 0;
        ok = kura_sql_insert_id(s->sql, dm->insert, &v, 1, &id, err);
        if (ok)
            ((kura_base *)obj)->id = id;
    } else {
        kura_value v[2] = {KURA_VSTR(((kura_base *)obj)->key), KURA_VSTR(text)};
        ok = kura_sql_exec(s->sql, dm->insert, v, 2, NULL, err);
    }
    free(text);
    return ok;
}

/* Rows per multi-row INSERT on a server, as a table's batches (sql_crud.c):
 * one round trip carries them all. */
#define BATCH_ROWS 100

/* A row of a key-only model: what a batch's RETURNING "_id" decodes into. */
static const kura_field no_fields[1];

/*
 * Inserts rows [0, k) of objs with one statement and one round trip:
 * INSERT ... VALUES (...), (...) [RETURNING "_id", ordered]. The server
 * numbers the rows of one statement in VALUES order, so the ordered ids map
 * back to the rows in turn.
 */
static bool insert_rows(doc_store *s, const kura_model *m, void *objs, size_t k, kura_error *err)
{
    bool int_key = m->key == KURA_KEY_INT64;
    int per_row = int_key ? 1 : 2;
    char *texts[BATCH_ROWS] = {NULL};
    kura_value v[2 * BATCH_ROWS];
    bool ok = true;
    for (size_t r = 0; ok && r < k; r++) {
        kura_base *base = (kura_base *)((char *)objs + r * m->size);
        ok = (texts[r] = doc_text(m, base, false, err)) != NULL;
        if (!int_key)
            v[r * 2] = KURA_VSTR(base->key);
        v[r * (size_t)per_row + (size_t)per_row - 1] = KURA_VSTR(texts[r]);
    }
    char stack[4096];
    kura_buf b;
    kura_buf_init(&b, stack, sizeof stack);
    kura_buf_add(&b, int_key ? "WITH ins AS (INSERT INTO " : "INSERT INTO ");
    kura_buf_ident(&b, m->name);
    kura_buf_add(&b, int_key ? " (\"doc\") VALUES " : " (\"_id\", \"doc\") VALUES ");
    for (size_t r = 0; r < k; r++) {
        kura_buf_add(&b, r ? ", (" : "(");
        if (!int_key) {
            kura_sql_placeholder(&b, s->d, (int)r * 2 + 1);
            kura_buf_add(&b, ", ");
        }
        kura_buf_add(&b, s->d->json.doc_open);
        kura_sql_placeholder(&b, s->d, (int)r * per_row + per_row);
        kura_buf_add(&b, s->d->json.doc_close);
        kura_buf_add(&b, ")");
    }
    if (int_key)
        kura_buf_add(&b, " RETURNING \"_id\") SELECT \"_id\" FROM ins ORDER BY \"_id\"");
    if (ok && b.oom)
        ok = kura_fail(err, KURA_NOMEM, NULL, "out of memory building an insert");
    size_t nparams = k * (size_t)per_row;
    if (ok && !int_key) {
        ok = kura_sql_exec(s->sql, b.data, v, nparams, NULL, err);
    } else if (ok) {
        kura_model ids = {.name = m->name,
                          .size = sizeof(kura_base),
                          .fields = no_fields,
                          .nfields = 0,
                          .key = m->key,
                          .flags = KURA_MODEL_NO_TIMESTAMPS};
        kura_cursor *c = kura_sql_cursor_sql(s->sql, &ids, b.data, v, nparams, false, err);
        ok = c != NULL;
        size_t got = 0;
        int rc = 0;
        kura_base row = {0};
        while (ok && (rc = kura_cursor_next(c, &row, err)) == 1) {
            if (got < k)
                ((kura_base *)((char *)objs + got * m->size))->id = row.id;
            got++;
        }
        kura_cursor_close(c);
        ok = ok && rc == 0;
        if (ok && got != k)
            ok = kura_fail(err, KURA_STORE, NULL, "insert returned %zu ids for %zu rows", got, k);
    }
    kura_buf_free(&b);
    for (size_t r = 0; r < k; r++)
        free(texts[r]);
    return ok;
}

bool kura__docj_insert(doc_store *s, const doc_model *dm, void *objs, size_t n, kura_error *err)
{
    const kura_model *m = dm->model;
    if (n > 1 && !kura_begin(s->sql, err))
        return false;
    bool ok = true;
    if (n > 1 && s->d->batch_params > 0) {
        /* A server: batches of rows per round trip, not one trip per row. The
         * statement's parameters also bound what the SQL store binds at once. */
        size_t per_row = m->key == KURA_KEY_INT64 ? 1 : 2;
        size_t batch = KURA_SQL_MAX_PARAMS / per_row;
        if (batch > BATCH_ROWS)
            batch = BATCH_ROWS;
        for (size_t done = 0; ok && done < n; done += batch)
            ok = insert_rows(s, m, (char *)objs + done * m->size,
                             n - done < batch ? n - done : batch, err);
    } else {
        for (size_t i = 0; ok && i < n; i++)
            ok = insert_one(s, dm, (char *)objs + i * m->size, err);
    }
    if (n > 1) {
        if (ok)
            ok = kura_commit(s->sql, err);
        else {
            kura_error ignored;
            kura_rollback(s->sql, &ignored);
        }
        if (!ok) /* nothing was written: no object keeps an id it does not have */
            for (size_t i = 0; i < n; i++)
                ((kura_base *)((char *)objs + i * m->size))->id = 0;
    }
    return ok;
}

bool kura__docj_get(doc_store *s, const doc_model *dm, const kura_keyref *key, void *out,
                    kura_error *err)
{
    const kura_model *m = dm->model;
    kura_value v = kura_keyref_value(key);
    int rc = kura_sql_row(s->sql, m, dm->get, &v, 1, out, err);
    if (rc == 0)
        return kura_key_not_found(err, m, key);
    return rc == 1;
}

/* The document as stored: "doc" read as text through a one-field model with
 * the same key kind (kura_sql_cursor_sql decodes rows positionally). */
typedef struct raw_doc {
    kura_base base;
    char *doc;
} raw_doc;
static const kura_field raw_doc_field = KURA_TEXT(raw_doc, doc);

bool kura__docj_get_json(doc_store *s, const kura_model *m, const kura_keyref *key, json_t **out,
                         kura_error *err)
{
    kura_model raw = {.name = m->name,
                      .size = sizeof(raw_doc),
                      .fields = &raw_doc_field,
                      .nfields = 1,
                      .key = m->key,
                      .flags = KURA_MODEL_NO_TIMESTAMPS};
    char stack[256];
    kura_buf b;
    kura_buf_init(&b, stack, sizeof stack);
    kura_buf_addf(&b, "SELECT \"_id\", %s FROM ", s->d->json.doc_text);
    kura_buf_ident(&b, m->name);
    kura_buf_add(&b, " WHERE \"_id\" = ");
    kura_sql_placeholder(&b, s->d, 1);
    if (b.oom) {
        kura_buf_free(&b);
        return kura_fail(err, KURA_NOMEM, NULL, "out of memory");
    }
    kura_value v = kura_keyref_value(key);
    raw_doc row = {0};
    int rc = kura_sql_row(s->sql, &raw, b.data, &v, 1, &row, err);
    kura_buf_free(&b);
    if (rc == 0)
        return kura_key_not_found(err, m, key);
    if (rc < 0)
        return false;
    *out = row.doc ? kura__json_load_object(row.doc) : NULL;
    free(row.doc);
    if (!*out) {
        return kura_fail(err, KURA_MISFIT, NULL, "the stored document is not a JSON object");
    }
    return true;
}

bool kura__docj_update(doc_store *s, const kura_model *m, const void *obj, kura_error *err)
{
    json_t *o = doc_object(m, obj, true, err);
    if (!o)
        return false;
    kura_keyref key = kura_keyref_of(m, obj);
    char stack[512];
    kura_buf b;
    kura_buf_init(&b, stack, sizeof stack);
    kura_sql_params p;
    kura_sql_params_init(&p, s->d->dollar_params);
    kura_buf_add(&b, "UPDATE ");
    kura_buf_ident(&b, m->name);
    kura_buf_add(&b, " SET \"doc\" = ");
    int64_t changed = 0;
    bool ok = s->d->json.patch(&b, &p, m, o, err);
    if (ok) {
        kura_buf_add(&b, " WHERE \"_id\" = ");
        kura_sql_param(&b, &p, kura_keyref_value(&key));
        ok = b.oom ? kura_fail(err, KURA_NOMEM, NULL, "out of memory")
                   : kura_sql_exec(s->sql, b.data, p.values, p.count, &changed, err);
    }
    kura_sql_params_free(&p);
    kura_buf_free(&b);
    if (ok && changed == 0)
        return kura_key_not_found(err, m, &key);
    return ok;
}

bool kura__docj_remove(doc_store *s, const doc_model *dm, const kura_keyref *key, kura_error *err)
{
    kura_value v = kura_keyref_value(key);
    int64_t changed = 0;
    if (!kura_sql_exec(s->sql, dm->remove, &v, 1, &changed, err))
        return false;
    if (changed == 0)
        return kura_key_not_found(err, dm->model, key);
    return true;
}

/* ---- queries ---------------------------------------------------------------------- */

/* A translated query: SQL text and parameters, datetimes as ISO 8601 text
 * (the form they have inside the documents, which sorts as time does). */
typedef struct doc_sql {
    char stack[1024];
    kura_buf b;
    kura_sql_params p;
    char (*iso)[28]; /* storage for the datetime parameters' text */
} doc_sql;

static void doc_sql_init(doc_sql *d, const doc_store *s)
{
    kura_buf_init(&d->b, d->stack, sizeof d->stack);
    kura_sql_params_init(&d->p, s->d->dollar_params);
    d->p.form = s->d->json.form;
    d->iso = NULL;
}

static void doc_sql_free(doc_sql *d)
{
    kura_sql_params_free(&d->p);
    kura_buf_free(&d->b);
    free(d->iso);
}

static bool where(doc_sql *d, doc_store *s, const kura_query *q, kura_error *err)
{
    if (!kura_sql_where(&d->b, q, &d->p, column_expr, s, err))
        return false;
    size_t ntime = 0;
    for (size_t i = 0; i < d->p.count; i++)
        ntime += d->p.values[i].kind == KURA_VALUE_TIME;
    if (ntime) {
        d->iso = malloc(ntime * sizeof *d->iso);
        if (!d->iso)
            return kura_fail(err, KURA_NOMEM, NULL, "out of memory");
        size_t k = 0;
        for (size_t i = 0; i < d->p.count; i++)
            if (d->p.values[i].kind == KURA_VALUE_TIME) {
                kura_time_format_iso(d->p.values[i].as.t, d->iso[k]);
                d->p.values[i] = KURA_VSTR(d->iso[k]);
                k++;
            }
    }
    if (d->b.oom)
        return kura_fail(err, KURA_NOMEM, NULL, "out of memory building a query");
    return true;
}

kura_cursor *kura__docj_query(doc_store *s, const doc_model *dm, const kura_query *q, bool stream,
                              kura_error *err)
{
    doc_sql d;
    doc_sql_init(&d, s);
    kura_buf_add(&d.b, dm->select);
    kura_cursor *c = NULL;
    if (where(&d, s, q, err)) {
        kura_sql_order_limit(&d.b, q, s->d->nulls_high, column_expr, s);
        if (d.b.oom)
            kura_fail(err, KURA_NOMEM, NULL, "out of memory building a query");
        else
            c = kura_sql_cursor_sql(s->sql, q->model, d.b.data, d.p.values, d.p.count, stream, err);
    }
    doc_sql_free(&d);
    return c;
}

bool kura__docj_count(doc_store *s, const kura_query *q, int64_t *count, kura_error *err)
{
    doc_sql d;
    doc_sql_init(&d, s);
    kura_buf_add(&d.b, "SELECT COUNT(*) FROM ");
    kura_buf_ident(&d.b, q->model->name);
    bool ok = where(&d, s, q, err) &&
              kura_sql_scalar(s->sql, d.b.data, d.p.values, d.p.count, count, err);
    doc_sql_free(&d);
    return ok;
}

/* The JSON value an assignment writes: the type's own when it has one, else
 * by the value's kind. */
static json_t *assign_json(const kura_model *m, const kura_assign *a)
{
    const kura_field *f = kura_field_named(m, a->field);
    const kura_value *v = &a->value;
    const kura_type_info *ti = f ? kura__type(f->type) : NULL;
    if (ti && ti->value_json && v->kind != KURA_VALUE_NULL)
        return ti->value_json(v); /* e.g. a JSON field's text, embedded as a value */
    /* An int for a double or bool field becomes one, as the query builder does. */
    kura_value fitted = *v;
    if (ti && fitted.kind == KURA_VALUE_INT)
        ti->fit(f, &fitted);
    v = &fitted;
    switch (v->kind) {
    case KURA_VALUE_NULL:
        return json_null();
    case KURA_VALUE_INT:
        return json_integer(v->as.i);
    case KURA_VALUE_DOUBLE:
        return json_real(v->as.d);
    case KURA_VALUE_BOOL:
        return json_boolean(v->as.b);
    case KURA_VALUE_STRING:
        return json_string(v->as.s);
    case KURA_VALUE_TIME: {
        if (v->as.t == 0)
            return json_null();
        char iso[28];
        kura_time_format_iso(v->as.t, iso);
        return json_string(iso);
    }
    }
    return NULL;
}

bool kura__docj_write_where(doc_store *s, const kura_query *q, const kura_assign *set, size_t n,
                            kura_time now, int64_t *affected, kura_error *err)
{
    json_t *patch = NULL;
    if (set) {
        patch = json_object();
        bool ok = patch != NULL;
        for (size_t i = 0; ok && i < n; i++) {
            json_t *v = assign_json(q->model, &set[i]);
            ok = v && json_object_set_new(patch, set[i].field, v) == 0;
        }
        for (int i = 1; ok && i < kura__stamp_count(q->model); i++) { /* updated_at, if any */
            char iso[28];
            kura_time_format_iso(now, iso);
            ok = json_object_set_new(patch, kura_column_name(q->model, kura__stamp_column(i)),
                                     json_string(iso)) == 0;
        }
        if (!ok) {
            json_decref(patch);
            return kura_fail(err, KURA_NOMEM, NULL, "out of memory encoding a bulk update");
        }
    }
    doc_sql d;
    doc_sql_init(&d, s);
    if (patch) {
        kura_buf_add(&d.b, "UPDATE ");
        kura_buf_ident(&d.b, q->model->name);
        kura_buf_add(&d.b, " SET \"doc\" = ");
        /* The patch comes first, so its parameters are numbered before the WHERE's. */
        if (!s->d->json.patch(&d.b, &d.p, q->model, patch, err)) {
            doc_sql_free(&d);
            return false;
        }
    } else {
        kura_buf_add(&d.b, "DELETE FROM ");
        kura_buf_ident(&d.b, q->model->name);
    }
    bool ok = where(&d, s, q, err) &&
              kura_sql_exec(s->sql, d.b.data, d.p.values, d.p.count, affected, err);
    doc_sql_free(&d);
    return ok;
}
