/*
 * sqljson.c — documents in SQL tables: SQLite (embedded) and PostgreSQL.
 *
 * A collection made by kura is the model's table with one column per declared
 * field (and the stamps), as the relational store lays it out, plus "_extra":
 * a JSON object of the keys no field declares, NULL when there are none. So a
 * declared field costs what a column costs: inserts, reads, queries, indexes
 * and updates are the SQL store's own, run on its pool and statement cache,
 * and an update writes only the declared columns, keeping every other key.
 *
 * What makes it a collection rather than a table: no migrations. A model used
 * on a collection gets the columns it lacks added on its first use (nullable:
 * documents written before may not have them; those that do, in "_extra",
 * have them moved into the new column), and columns no field of the
 * model declares stay, so two models can read one collection (a narrower one
 * keeps what a wider one wrote). Required, bounds and choices are kura's
 * checks, not constraints: a collection accepts what any of its models says.
 *
 * Collections made before this layout ("_id", "doc": the whole document in one
 * JSON column) keep working in that layout (sqljson_json.c).
 */
#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <kura/json.h>

#include "base/buf.h"
#include "base/log_private.h"
#include "document/sqljson_private.h"
#include "model/model_private.h"

static const kura_store_ops sqljson_ops;

bool kura_sqljson_is(const kura_store *store)
{
    return store && store->ops == &sqljson_ops;
}

bool kura_doc_plain_name(const char *name)
{
    if (!name || !*name || (*name >= '0' && *name <= '9'))
        return false;
    for (const char *c = name; *c; c++)
        if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') ||
              *c == '_'))
            return false;
    return true;
}

/* ---- models ------------------------------------------------------------------------ */

static bool check_names(const kura_model *m, kura_error *err)
{
    if (!kura_doc_plain_name(m->name))
        return kura_fail(err, KURA_INVALID, NULL,
                         "collection name '%.64s' is not a plain identifier", m->name);
    for (size_t i = 0; i < m->nfields; i++) {
        if (!kura_doc_plain_name(m->fields[i].name))
            return kura_fail(err, KURA_INVALID, m->fields[i].name,
                             "field name '%.64s' is not a plain identifier", m->fields[i].name);
        if (strcmp(m->fields[i].name, KURA_DOC_EXTRA) == 0)
            return kura_fail(err, KURA_INVALID, m->fields[i].name,
                             "a document field cannot be named %s: the collection keeps the "
                             "keys no field declares in a column of that name",
                             KURA_DOC_EXTRA);
    }
    return true;
}

doc_model *kura__doc_model(doc_store *s, const kura_model *m, kura_error *err)
{
    pthread_mutex_lock(&s->lock);
    doc_model *dm = s->models;
    while (dm && dm->model != m)
        dm = dm->next;
    if (!dm && check_names(m, err)) {
        dm = calloc(1, sizeof *dm);
        if (dm) {
            dm->model = m;
            dm->next = s->models;
            s->models = dm;
        } else {
            kura_fail(err, KURA_NOMEM, NULL, "out of memory");
        }
    }
    pthread_mutex_unlock(&s->lock);
    return dm;
}

/* The collection `name` was created or dropped: every model of it looks again. */
void kura__doc_forget(doc_store *s, const char *name)
{
    pthread_mutex_lock(&s->lock);
    for (doc_model *dm = s->models; dm; dm = dm->next)
        if (strcmp(dm->model->name, name) == 0)
            __atomic_store_n(&dm->layout, DOC_LAYOUT_UNKNOWN, __ATOMIC_RELEASE);
    pthread_mutex_unlock(&s->lock);
}

/* ---- the collection's columns ---------------------------------------------------- */

typedef struct live_column {
    kura_base base;
    char *name;
    char *type; /* as the dialect's catalogue spells it */
} live_column;
static const kura_model live_column_model = KURA_MODEL(
    live_column, "kura_doc_column", KURA_TEXT(live_column, name), KURA_TEXT(live_column, type));

bool kura__doc_columns(doc_store *s, const char *table, kura_rows *out, kura_error *err)
{
    kura_value t = KURA_VSTR(table);
    return kura_sql_query(s->sql, &live_column_model, s->d->columns_sql, &t, 1, out, err);
}

bool kura__doc_has_column(const kura_rows *cols, const char *name)
{
    for (size_t i = 0; i < cols->count; i++) {
        const live_column *c = kura_row(cols, i);
        if (c->name && strcmp(c->name, name) == 0)
            return true;
    }
    return false;
}

static void column_type(kura_buf *b, const doc_store *s, const kura_model *m, int column)
{
    if (column >= 0)
        kura__sql_type(b, s->d->id, &m->fields[column]);
    else
        kura_buf_add(b, kura__type(KURA_TYPE_DATETIME)->sql[s->d->id]);
}

/* The table of the columns layout: the relational store's columns without its
 * constraints (see the top of the file), and "_extra". */
bool kura__doc_json_layout(const kura_rows *cols)
{
    return cols->count == 2 && kura__doc_has_column(cols, "_id") &&
           kura__doc_has_column(cols, "doc");
}

void kura__doc_table_ddl(kura_buf *b, const doc_store *s, const kura_model *m, const char *table)
{
    kura_buf_add(b, "CREATE TABLE IF NOT EXISTS ");
    kura_buf_ident(b, table);
    kura_buf_add(b, " (");
    kura_buf_ident(b, kura_key_name(m));
    kura_buf_addf(b, " %s NOT NULL",
                  m->key == KURA_KEY_INT64 ? s->d->json.id_type : s->d->key_types[m->key]);
    for (size_t i = 0; i < m->nfields; i++) {
        kura_buf_add(b, ", ");
        kura_buf_ident(b, m->fields[i].name);
        kura_buf_add(b, " ");
        column_type(b, s, m, (int)i);
    }
    for (int i = 0; i < kura__stamp_count(m); i++) {
        kura_buf_add(b, ", ");
        kura_buf_ident(b, kura_column_name(m, kura__stamp_column(i)));
        kura_buf_add(b, " ");
        column_type(b, s, m, kura__stamp_column(i));
    }
    kura_buf_addf(b, ", \"%s\" %s, PRIMARY KEY (", KURA_DOC_EXTRA, s->d->json.extra_type);
    kura_buf_ident(b, kura_key_name(m));
    kura_buf_add(b, "))");
}

/*
 * A field's column was just added: documents written before may hold the
 * key in "_extra" (another program's, or kept there by an upgrade through a
 * narrower model), and the field must read it, as it would from a JSON
 * document. One UPDATE moves those values into the column. When the column
 * refuses one of them (PostgreSQL: text in an integer field) nothing moves,
 * the values stay in "_extra" and the field reads NULL there: said as a
 * warning, since the model still works.
 */
static void take_from_extra(doc_store *s, const kura_model *m, int field)
{
    const char *name = m->fields[field].name;
    char stack[512], tstack[64];
    kura_buf b, type;
    kura_buf_init(&b, stack, sizeof stack);
    kura_buf_init(&type, tstack, sizeof tstack);
    kura_buf_add(&b, "UPDATE ");
    kura_buf_ident(&b, m->name);
    kura_buf_add(&b, " SET ");
    kura_buf_ident(&b, name);
    kura_buf_add(&b, " = ");
    kura__docj_value(&b, &type, s, m, field, KURA_DOC_EXTRA);
    kura_buf_add(&b, ", \"" KURA_DOC_EXTRA "\" = ");
    s->d->json.strip(&b, KURA_DOC_EXTRA, &name, 1);
    kura_buf_add(&b, " WHERE ");
    s->d->json.as_json(&b, KURA_DOC_EXTRA, name);
    kura_buf_add(&b, " IS NOT NULL");
    kura_error e;
    kura_error_clear(&e);
    if (!b.oom && !kura_sql_exec(s->sql, b.data, NULL, 0, NULL, &e)) {
        char msg[sizeof e.message + 256];
        snprintf(msg, sizeof msg,
                 "collection %s: the documents' values of key %s stay in %s, where field "
                 "%s does not read them: %s",
                 m->name, name, KURA_DOC_EXTRA, name, e.message);
        kura__log(KURA_LOG_WARN, "documents", msg);
    }
    kura_buf_free(&type);
    kura_buf_free(&b);
}

/* Adds the columns of m that cols lacks. Another process adding the same
 * column at the same moment is not an error: the columns are read again. */
static bool add_columns(doc_store *s, const kura_model *m, const kura_rows *cols, kura_error *err)
{
    int wanted[KURA_MAX_FIELDS + 2];
    size_t n = 0;
    for (size_t i = 0; i < m->nfields; i++)
        if (!kura__doc_has_column(cols, m->fields[i].name))
            wanted[n++] = (int)i;
    for (int i = 0; i < kura__stamp_count(m); i++)
        if (!kura__doc_has_column(cols, kura_column_name(m, kura__stamp_column(i))))
            wanted[n++] = kura__stamp_column(i);
    bool ok = true;
    char stack[256];
    kura_buf b;
    kura_buf_init(&b, stack, sizeof stack);
    for (size_t i = 0; ok && i < n; i++) {
        b.len = 0;
        kura_buf_add(&b, "ALTER TABLE ");
        kura_buf_ident(&b, m->name);
        kura_buf_add(&b, " ADD COLUMN ");
        kura_buf_ident(&b, kura_column_name(m, wanted[i]));
        kura_buf_add(&b, " ");
        column_type(&b, s, m, wanted[i]);
        if (b.oom) {
            ok = kura_fail(err, KURA_NOMEM, NULL, "out of memory");
            break;
        }
        kura_error e;
        kura_error_clear(&e);
        if (kura_sql_exec(s->sql, b.data, NULL, 0, NULL, &e)) {
            if (wanted[i] >= 0) /* not the stamps: kura's own, never another's key */
                take_from_extra(s, m, wanted[i]);
            continue;
        }
        kura_rows again = {0};
        ok = kura__doc_columns(s, m->name, &again, err);
        if (ok && !kura__doc_has_column(&again, kura_column_name(m, wanted[i]))) {
            if (err)
                *err = e;
            ok = false;
        }
        kura_rows_free(&again);
    }
    kura_buf_free(&b);
    return ok;
}

/* Flask-SQLAlchemy's index names, as the relational store makes them; a
 * unique field gets a unique index (a collection has no table constraints),
 * and so do fields unique together. */
bool kura__doc_indexes(doc_store *s, const kura_model *m, kura_error *err)
{
    bool ok = true;
    char stack[256];
    kura_buf b;
    kura_buf_init(&b, stack, sizeof stack);
    for (size_t i = 0; ok && i < m->nfields; i++) {
        const kura_field *f = &m->fields[i];
        if (!f->index && !f->unique)
            continue;
        b.len = 0;
        kura_sql_index_ddl(&b, s->d, m, f);
        ok = b.oom ? kura_fail(err, KURA_NOMEM, NULL, "out of memory")
                   : kura_sql_exec(s->sql, b.data, NULL, 0, NULL, err);
    }
    for (size_t i = 0; ok && i < m->nfields; i++) {
        b.len = 0;
        if (kura_sql_unique_with_ddl(&b, m, &m->fields[i]))
            ok = b.oom ? kura_fail(err, KURA_NOMEM, NULL, "out of memory")
                       : kura_sql_exec(s->sql, b.data, NULL, 0, NULL, err) ||
                             kura_sql_unique_with_failed(m, &m->fields[i], err);
    }
    kura_buf_free(&b);
    return ok;
}

/*
 * Looks at the collection m is stored in, making it (columns layout) when it
 * does not exist, giving it m's missing columns and indexes when it is of the
 * columns layout; a JSON-layout collection gets its expression indexes. A
 * table of that name that is neither (a relational model's) is KURA_CONFIG.
 */
static bool settle(doc_store *s, doc_model *dm, kura_error *err)
{
    const kura_model *m = dm->model;
    kura_rows cols = {0};
    if (!kura__declaration_check(m, err) || !kura__doc_columns(s, m->name, &cols, err))
        return false;
    int layout = DOC_LAYOUT_COLUMNS;
    bool ok = true;
    if (cols.count == 0) {
        char stack[1024];
        kura_buf b;
        kura_buf_init(&b, stack, sizeof stack);
        kura__doc_table_ddl(&b, s, m, m->name);
        ok = b.oom ? kura_fail(err, KURA_NOMEM, NULL, "out of memory")
                   : kura_sql_exec(s->sql, b.data, NULL, 0, NULL, err);
        kura_buf_free(&b);
        kura_rows_free(&cols);
        /* Made meanwhile by another model of the collection: its columns count. */
        ok = ok && kura__doc_columns(s, m->name, &cols, err);
    } else if (kura__doc_json_layout(&cols)) {
        layout = DOC_LAYOUT_JSON;
    } else if (!kura__doc_has_column(&cols, KURA_DOC_EXTRA)) {
        ok = kura_fail(err, KURA_CONFIG, NULL,
                       "table %s exists and is not a document collection (it has no %s column)",
                       m->name, KURA_DOC_EXTRA);
    }
    if (ok && layout == DOC_LAYOUT_COLUMNS)
        ok = add_columns(s, m, &cols, err) && kura__doc_indexes(s, m, err);
    else if (ok)
        ok = kura__docj_prepare(s, dm)
                 ? kura__docj_create(s, m, err)
                 : kura_fail(err, KURA_NOMEM, NULL, "out of memory building statements");
    kura_rows_free(&cols);
    if (ok)
        __atomic_store_n(&dm->layout, layout, __ATOMIC_RELEASE);
    return ok;
}

/* m's collection and its layout, settled on the model's first use (later uses
 * only read it). NULL with err filled when the collection cannot be used. */
static doc_model *ready(doc_store *s, const kura_model *m, kura_error *err)
{
    doc_model *dm = kura__doc_model(s, m, err);
    if (!dm)
        return NULL;
    if (__atomic_load_n(&dm->layout, __ATOMIC_ACQUIRE) == DOC_LAYOUT_UNKNOWN && !settle(s, dm, err))
        return NULL;
    return dm;
}

static bool columns(const doc_model *dm)
{
    return __atomic_load_n(&dm->layout, __ATOMIC_ACQUIRE) == DOC_LAYOUT_COLUMNS;
}

/* ---- schema ---------------------------------------------------------------------- */

static bool create_model(kura_store *store, const kura_model *m, kura_error *err)
{
    doc_store *s = (doc_store *)store;
    if (!kura__doc_model(s, m, err))
        return false;
    kura__doc_forget(s, m->name);
    return ready(s, m, err) != NULL;
}

static bool drop_model(kura_store *store, const kura_model *m, kura_error *err)
{
    doc_store *s = (doc_store *)store;
    if (!kura__doc_model(s, m, err))
        return false;
    char stack[256];
    kura_buf b;
    kura_buf_init(&b, stack, sizeof stack);
    kura_buf_add(&b, "DROP TABLE IF EXISTS ");
    kura_buf_ident(&b, m->name);
    bool ok = b.oom ? kura_fail(err, KURA_NOMEM, NULL, "out of memory")
                    : kura_sql_exec(s->sql, b.data, NULL, 0, NULL, err);
    kura_buf_free(&b);
    kura__doc_forget(s, m->name);
    return ok;
}

/* ---- documents ---------------------------------------------------------------- */

static bool do_insert(kura_store *store, const kura_model *m, void *objs, size_t n, kura_error *err)
{
    doc_store *s = (doc_store *)store;
    doc_model *dm = ready(s, m, err);
    if (!dm)
        return false;
    return columns(dm) ? s->sql->ops->insert(s->sql, m, objs, n, err)
                       : kura__docj_insert(s, dm, objs, n, err);
}

static bool do_insert_checked(kura_store *store, const kura_model *m, void *objs, size_t n,
                              kura_time now, kura_error *err)
{
    doc_store *s = (doc_store *)store;
    doc_model *dm = ready(s, m, err);
    if (!dm)
        return false;
    if (columns(dm) && s->sql->ops->insert_checked)
        return s->sql->ops->insert_checked(s->sql, m, objs, n, now, err);
    return kura__check_and_stamp(m, objs, n, now, err) &&
           (columns(dm) ? s->sql->ops->insert(s->sql, m, objs, n, err)
                        : kura__docj_insert(s, dm, objs, n, err));
}

static bool do_get(kura_store *store, const kura_model *m, const kura_keyref *key, void *out,
                   kura_error *err)
{
    doc_store *s = (doc_store *)store;
    doc_model *dm = ready(s, m, err);
    if (!dm)
        return false;
    return columns(dm) ? s->sql->ops->get(s->sql, m, key, out, err)
                       : kura__docj_get(s, dm, key, out, err);
}

/* The columns no field of m declares (nor its key or stamps), and "_extra",
 * of one document: what get_json adds to the model's own keys. */
typedef struct other_keys {
    kura_base base;
    char *extra;  /* "_extra" as JSON text */
    char *others; /* the other columns as a JSON object's text */
} other_keys;
static const kura_field other_keys_fields[] = {KURA_TEXT(other_keys, extra),
                                               KURA_TEXT(other_keys, others)};

/* Columns per JSON object built in SQL: PostgreSQL's functions take at most
 * 100 arguments, SQLite's 127 (two per column). */
#define OBJECT_COLUMNS 40

/* The row's "_extra" (when extra is not NULL) and columns cols[0..n) as
 * JSON objects (new references, NULL for none). */
static bool read_columns(doc_store *s, const kura_model *m, const kura_keyref *key,
                         const live_column *const *cols, size_t n, json_t **extra, json_t **others,
                         kura_error *err)
{
    char stack[1024];
    kura_buf b;
    kura_buf_init(&b, stack, sizeof stack);
    kura_buf_addf(&b, "SELECT %s AS extra, ", extra ? s->d->json.extra_text : "NULL");
    kura_buf_add(&b, s->d->json.object_open);
    for (size_t i = 0; i < n; i++) { /* plain identifiers: literally */
        kura_buf_addf(&b, "%s'%s', ", i ? ", " : "", cols[i]->name);
        s->d->json.key_value(&b, cols[i]->name, cols[i]->type ? cols[i]->type : "");
    }
    kura_buf_add(&b, s->d->json.object_close);
    kura_buf_add(&b, " AS others FROM ");
    kura_buf_ident(&b, m->name);
    kura_buf_add(&b, " WHERE ");
    kura_buf_ident(&b, kura_key_name(m));
    kura_buf_add(&b, " = ");
    kura_sql_placeholder(&b, s->d, 1);
    kura_model model = {.name = m->name,
                        .size = sizeof(other_keys),
                        .fields = other_keys_fields,
                        .nfields = 2,
                        .key = m->key,
                        .flags = KURA_MODEL_NO_TIMESTAMPS};
    kura_rows rows = {0};
    kura_value v = kura_keyref_value(key);
    bool ok = b.oom ? kura_fail(err, KURA_NOMEM, NULL, "out of memory")
                    : kura_sql_query(s->sql, &model, b.data, &v, 1, &rows, err);
    kura_buf_free(&b);
    if (ok && rows.count == 1) {
        const other_keys *row = kura_row(&rows, 0);
        *others = row->others ? kura__json_load_object(row->others) : NULL;
        if (extra)
            *extra = row->extra ? kura__json_load_object(row->extra) : NULL;
        if ((row->others && !*others) || (extra && row->extra && !*extra))
            ok = kura_fail(err, KURA_MISFIT, KURA_DOC_EXTRA,
                           "the keys no field of %s declares are not a JSON object "
                           "jansson can read",
                           m->name);
    }
    kura_rows_free(&rows);
    return ok;
}

/* Adds to doc the columns m does not declare and the keys of "_extra"; all:
 * every column but the key (a document the model cannot decode). */
static bool read_other_keys(doc_store *s, const kura_model *m, const kura_keyref *key, bool all,
                            json_t *doc, kura_error *err)
{
    kura_rows cols = {0};
    if (!kura__doc_columns(s, m->name, &cols, err))
        return false;
    const live_column **other = malloc((cols.count ? cols.count : 1) * sizeof *other);
    size_t n = 0;
    for (size_t i = 0; other && i < cols.count; i++) {
        const live_column *lc = kura_row(&cols, i);
        const char *c = lc->name;
        int column = c ? kura_column_named(m, c) : KURA_COL_NONE;
        if (c && kura_doc_plain_name(c) && strcmp(c, KURA_DOC_EXTRA) != 0 &&
            (column == KURA_COL_NONE || (all && column != KURA_COL_ID)))
            other[n++] = lc;
    }
    bool ok = other ? true : kura_fail(err, KURA_NOMEM, NULL, "out of memory");
    json_t *extra = NULL;
    for (size_t at = 0; ok && (at < n || at == 0); at += OBJECT_COLUMNS) {
        json_t *others = NULL;
        ok = read_columns(s, m, key, other + at, n - at < OBJECT_COLUMNS ? n - at : OBJECT_COLUMNS,
                          at == 0 ? &extra : NULL, &others, err);
        /* Another column's null is a key the document does not have. */
        const char *k;
        json_t *val;
        json_object_foreach(others, k, val)
        {
            if (!json_is_null(val) && !json_object_get(doc, k))
                json_object_set(doc, k, val);
        }
        json_decref(others);
    }
    const char *k;
    json_t *val;
    json_object_foreach(ok ? extra : NULL, k, val)
    {
        if (!json_object_get(doc, k))
            json_object_set(doc, k, val);
    }
    json_decref(extra);
    free(other);
    kura_rows_free(&cols);
    return ok;
}

static bool do_get_json(kura_store *store, const kura_model *m, const kura_keyref *key,
                        json_t **out, kura_error *err)
{
    doc_store *s = (doc_store *)store;
    doc_model *dm = ready(s, m, err);
    if (!dm)
        return false;
    if (!columns(dm))
        return kura__docj_get_json(s, m, key, out, err);
    /* The declared fields as the model types them (a bool is true, a tag
     * list an array); a document the model cannot read, every column as SQL
     * values, so that it is shown too. */
    void *obj = calloc(1, m->size);
    if (!obj)
        return kura_fail(err, KURA_NOMEM, NULL, "out of memory");
    kura_error e;
    kura_error_clear(&e);
    bool ok = s->sql->ops->get(s->sql, m, key, obj, &e);
    bool misfit = !ok && e.code == KURA_MISFIT;
    json_t *doc = ok ? kura_to_json(m, obj) : misfit ? json_object() : NULL;
    kura_clear(m, obj);
    free(obj);
    if (!ok && !misfit && err)
        *err = e;
    ok = ok || misfit;
    if (ok && !doc)
        ok = kura_fail(err, KURA_NOMEM, NULL, "cannot encode %s as JSON", m->name);
    if (ok)
        json_object_del(doc, kura_key_name(m));
    if (ok && !read_other_keys(s, m, key, misfit, doc, err))
        ok = false;
    if (!ok) {
        json_decref(doc);
        doc = NULL;
    }
    *out = doc;
    return ok;
}

static bool do_update(kura_store *store, const kura_model *m, const void *obj, kura_error *err)
{
    doc_store *s = (doc_store *)store;
    doc_model *dm = ready(s, m, err);
    if (!dm)
        return false;
    return columns(dm) ? s->sql->ops->update(s->sql, m, obj, err)
                       : kura__docj_update(s, m, obj, err);
}

static bool do_remove(kura_store *store, const kura_model *m, const kura_keyref *key,
                      kura_error *err)
{
    doc_store *s = (doc_store *)store;
    doc_model *dm = ready(s, m, err);
    if (!dm)
        return false;
    return columns(dm) ? s->sql->ops->remove(s->sql, m, key, err)
                       : kura__docj_remove(s, dm, key, err);
}

/* ---- queries ---------------------------------------------------------------------- */

static kura_cursor *open_cursor(kura_store *store, const kura_query *q, kura_error *err)
{
    doc_store *s = (doc_store *)store;
    doc_model *dm = ready(s, q->model, err);
    if (!dm)
        return NULL;
    return columns(dm) ? s->sql->ops->cursor_open(s->sql, q, err)
                       : kura__docj_query(s, dm, q, true, err);
}

/* kura_find reads every row anyway (as sql_find.c does). */
static kura_cursor *open_find(kura_store *store, const kura_query *q, kura_error *err)
{
    doc_store *s = (doc_store *)store;
    doc_model *dm = ready(s, q->model, err);
    if (!dm)
        return NULL;
    if (!columns(dm))
        return kura__docj_query(s, dm, q, false, err);
    return s->sql->ops->find_open ? s->sql->ops->find_open(s->sql, q, err)
                                  : s->sql->ops->cursor_open(s->sql, q, err);
}

static bool count_docs(kura_store *store, const kura_query *q, int64_t *count, kura_error *err)
{
    doc_store *s = (doc_store *)store;
    doc_model *dm = ready(s, q->model, err);
    if (!dm)
        return false;
    return columns(dm) ? s->sql->ops->count(s->sql, q, count, err)
                       : kura__docj_count(s, q, count, err);
}

static bool update_where(kura_store *store, const kura_query *q, const kura_assign *set, size_t n,
                         kura_time now, int64_t *affected, kura_error *err)
{
    doc_store *s = (doc_store *)store;
    doc_model *dm = ready(s, q->model, err);
    if (!dm)
        return false;
    return columns(dm) ? s->sql->ops->update_where(s->sql, q, set, n, now, affected, err)
                       : kura__docj_write_where(s, q, set, n, now, affected, err);
}

static bool delete_where(kura_store *store, const kura_query *q, int64_t *affected, kura_error *err)
{
    doc_store *s = (doc_store *)store;
    doc_model *dm = ready(s, q->model, err);
    if (!dm)
        return false;
    return columns(dm) ? s->sql->ops->delete_where(s->sql, q, affected, err)
                       : kura__docj_write_where(s, q, NULL, 0, 0, affected, err);
}

/* ---- transactions: the SQL store's, unchanged ---------------------------------- */

static bool tx_begin(kura_store *store, kura_error *err)
{
    return kura_begin(((doc_store *)store)->sql, err);
}

static bool tx_commit(kura_store *store, kura_error *err)
{
    return kura_commit(((doc_store *)store)->sql, err);
}

static bool tx_rollback(kura_store *store, kura_error *err)
{
    return kura_rollback(((doc_store *)store)->sql, err);
}

static int tx_depth(kura_store *store)
{
    return kura_transaction_depth(((doc_store *)store)->sql);
}

static bool ping(kura_store *store, kura_error *err)
{
    return kura_store_ping(((doc_store *)store)->sql, err);
}

static void close_store(kura_store *store)
{
    doc_store *s = (doc_store *)store;
    kura_store_close(s->sql);
    while (s->models) {
        doc_model *dm = s->models;
        s->models = dm->next;
        kura__docj_free(dm);
        free(dm);
    }
    pthread_mutex_destroy(&s->lock);
    free(s);
}

static const kura_store_ops sqljson_ops = {
    .name = "docs",
    .close = close_store,
    .ping = ping,
    .create = create_model,
    .drop = drop_model,
    .insert = do_insert,
    .insert_checked = do_insert_checked,
    .get = do_get,
    .get_json = do_get_json,
    .update = do_update,
    .remove = do_remove,
    .cursor_open = open_cursor,
    .find_open = open_find,
    .count = count_docs,
    .update_where = update_where,
    .delete_where = delete_where,
    .begin = tx_begin,
    .commit = tx_commit,
    .rollback = tx_rollback,
    .depth = tx_depth,
    .sql_query = NULL, /* a document store runs no raw SQL: KURA_UNSUPPORTED */
    .sql_exec = NULL,
};

kura_store *kura_sqljson_store_new(kura_store *sql, kura_error *err)
{
    if (!sql)
        return NULL;
    doc_store *s = calloc(1, sizeof *s);
    if (!s) {
        kura_store_close(sql);
        kura_fail(err, KURA_NOMEM, NULL, "out of memory opening a store");
        return NULL;
    }
    s->base.ops = &sqljson_ops;
    s->sql = sql;
    s->d = kura_sql_store_dialect(sql);
    s->base.driver = s->d->json.driver;
    pthread_mutex_init(&s->lock, NULL);
    return &s->base;
}
