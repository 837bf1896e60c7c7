/* query.c — building queries: names checked against the descriptor, values typed. */
#include <kura/query.h>

#include <math.h>
#include <string.h>

#include "base/time_private.h"
#include "model/model_private.h"
#include "model/types.h"

static const char *const base_names[] = {"id", "created_at", "updated_at"};

const char *kura_column_name(const kura_model *model, int column)
{
    if (column == KURA_COL_ID)
        return kura_key_name(model);
    if (column < 0)
        return base_names[-column - 1];
    return model->fields[column].name;
}

kura_type kura_column_type(const kura_model *model, int column)
{
    if (column == KURA_COL_ID) /* text keys compare as strings */
        return model->key == KURA_KEY_INT64 ? KURA_TYPE_INT64 : KURA_TYPE_STRING;
    if (column < 0)
        return KURA_TYPE_DATETIME;
    return model->fields[column].type;
}

kura_query kura_query_for(const kura_model *model)
{
    kura_query q;
    memset(&q, 0, sizeof q);
    q.model = model;
    q.limit = -1;
    if (!model)
        kura_fail(&q.error, KURA_INVALID, NULL, "query without a model");
    return q;
}

static bool failed(const kura_query *q)
{
    return q->error.code != KURA_OK;
}

int kura_column_named(const kura_model *model, const char *name)
{
    if (!model || !name)
        return KURA_COL_NONE;
    if (strcmp(name, kura_key_name(model)) == 0)
        return KURA_COL_ID;
    /* "id" is the key's name only when no field is named so; the stamps are
     * columns only of models that have them. */
    for (int i = 0; i < kura__stamp_count(model); i++)
        if (strcmp(name, kura_column_name(model, kura__stamp_column(i))) == 0)
            return kura__stamp_column(i);
    for (size_t i = 0; i < model->nfields; i++)
        if (strcmp(name, model->fields[i].name) == 0)
            return (int)i;
    return KURA_COL_NONE;
}

/* Resolves a field name to a column number; records the error in q. */
static bool resolve(kura_query *q, const char *field, int *column)
{
    if (failed(q))
        return false;
    if (!q->model) { /* a zeroed kura_query, not one from kura_query_for */
        kura_fail(&q->error, KURA_INVALID, NULL, "query without a model (use kura_query_for)");
        return false;
    }
    if (!field) {
        kura_fail(&q->error, KURA_INVALID, NULL, "query names no field");
        return false;
    }
    *column = kura_column_named(q->model, field);
    if (*column != KURA_COL_NONE)
        return true;
    /* field names the name at fault, so a caller can point at it as for a
     * validation error (kura_fail cuts a name too long for err.field). */
    kura_fail(&q->error, KURA_INVALID, field, "%s has no field '%.64s'", q->model->name, field);
    return false;
}

/* The field behind a column; NULL for the base columns. */
static const kura_field *column_field(const kura_query *q, int column)
{
    return column >= 0 ? &q->model->fields[column] : NULL;
}

/* Whether a value of this kind may be compared with the column; the type
 * converts ints to doubles and to bools where the column wants them. */
static bool fit_value(kura_query *q, int column, kura_value *v)
{
    const kura_type_info *ti = kura__type(kura_column_type(q->model, column));
    const char *name = kura_column_name(q->model, column);
    /* No stored value is other than UTF-8 (validation sees to it), so such a
     * string matches nothing; refused here, since PostgreSQL refused the
     * statement (KURA_STORE) while SQLite answered no rows. */
    if (v->kind == KURA_VALUE_STRING && v->as.s && kura_utf8_chars(v->as.s, strlen(v->as.s)) < 0) {
        kura_fail(&q->error, KURA_INVALID, name, "%s: the value is not valid UTF-8", name);
        return false;
    }
    /* A datetime field holds years 0001..9999 (validation): beyond, SQLite
     * compared clamped text, PostgreSQL refused the statement and MongoDB's
     * milliseconds overflowed, for one call. */
    /* No stored double is NaN (validation): SQLite bound it as NULL and
     * matched nothing, PostgreSQL sorts it above every number. */
    if (v->kind == KURA_VALUE_DOUBLE && isnan(v->as.d)) {
        kura_fail(&q->error, KURA_INVALID, name, "%s: the value is NaN", name);
        return false;
    }
    if (v->kind == KURA_VALUE_TIME && !kura__time_in_range(v->as.t)) {
        kura_fail(&q->error, KURA_INVALID, name, "%s: the instant is outside years 0001..9999",
                  name);
        return false;
    }
    if (v->kind != KURA_VALUE_NULL && ti->fit(column_field(q, column), v))
        return true;
    if (ti->canon && v->kind == KURA_VALUE_STRING && v->as.s)
        kura_fail(&q->error, KURA_INVALID, name, "%s: '%.64s' is not %s in canonical form", name,
                  v->as.s, ti->form);
    else
        kura_fail(&q->error, KURA_INVALID, name, "%s: value of the wrong type for this field",
                  name);
    return false;
}

/* Whether the column's type takes op (bit 1 << op); records the error in q. */
static bool takes_op(kura_query *q, int column, unsigned op, const char *field)
{
    kura_type type = kura_column_type(q->model, column);
    const kura_type_info *ti = kura__type(type);
    if (ti->ops & (1u << op))
        return true;
    if (ti->ops == 0)
        kura_fail(&q->error, KURA_INVALID, field, "%s: %s fields cannot be filtered", field,
                  ti->name);
    else if (op == KURA_PREFIX || op == KURA_LIKE)
        kura_fail(&q->error, KURA_INVALID, field, "%s: prefix and LIKE compare strings only",
                  field);
    else
        kura_fail(&q->error, KURA_INVALID, field, "%s: %s fields do not take this operator", field,
                  ti->name);
    return false;
}

static kura_term *push_term(kura_query *q, kura_term_kind kind, int column)
{
    if (q->nterms == KURA_QUERY_MAX_TERMS) {
        kura_fail(&q->error, KURA_INVALID, NULL, "query has more than %d terms",
                  KURA_QUERY_MAX_TERMS);
        return NULL;
    }
    kura_term *t = &q->terms[q->nterms++];
    memset(t, 0, sizeof *t);
    t->kind = (uint8_t)kind;
    t->column = (int16_t)column;
    t->first = q->nvalues;
    return t;
}

static bool push_value(kura_query *q, kura_value v)
{
    if (q->nvalues == KURA_QUERY_MAX_VALUES) {
        kura_fail(&q->error, KURA_INVALID, NULL, "query has more than %d values",
                  KURA_QUERY_MAX_VALUES);
        return false;
    }
    q->values[q->nvalues++] = v;
    return true;
}

void kura_where(kura_query *q, const char *field, kura_op op, kura_value value)
{
    int column;
    if (!resolve(q, field, &column))
        return;
    if ((unsigned)op > KURA_LIKE) {
        kura_fail(&q->error, KURA_INVALID, field, "unknown comparison operator");
        return;
    }
    if (!takes_op(q, column, op, field))
        return;
    if ((op == KURA_PREFIX || op == KURA_LIKE) &&
        (value.kind != KURA_VALUE_STRING || column == KURA_COL_ID)) {
        kura_fail(&q->error, KURA_INVALID, field, "%s: prefix and LIKE compare strings only",
                  field);
        return;
    }
    if (!fit_value(q, column, &value))
        return;
    kura_term *t = push_term(q, KURA_TERM_CMP, column);
    if (!t || !push_value(q, value))
        return;
    t->op = (uint8_t)op;
    t->count = 1;
}

void kura_where_int(kura_query *q, const char *field, kura_op op, int64_t value)
{
    kura_where(q, field, op, KURA_VINT(value));
}

void kura_where_double(kura_query *q, const char *field, kura_op op, double value)
{
    kura_where(q, field, op, KURA_VDOUBLE(value));
}

void kura_where_bool(kura_query *q, const char *field, kura_op op, bool value)
{
    kura_where(q, field, op, KURA_VBOOL(value));
}

void kura_where_str(kura_query *q, const char *field, kura_op op, const char *value)
{
    kura_where(q, field, op, KURA_VSTR(value));
}

void kura_where_time(kura_query *q, const char *field, kura_op op, kura_time value)
{
    kura_where(q, field, op, KURA_VTIME(value));
}

void kura_where_in(kura_query *q, const char *field, const kura_value *values, size_t n)
{
    int column;
    if (!resolve(q, field, &column))
        return;
    if (n > 0 && !values) {
        kura_fail(&q->error, KURA_INVALID, field, "%s: IN list is NULL", field);
        return;
    }
    if (!takes_op(q, column, KURA_EQ, field))
        return;
    kura_term *t = push_term(q, KURA_TERM_IN, column);
    if (!t)
        return;
    for (size_t i = 0; i < n; i++) {
        kura_value v = values[i];
        if (!fit_value(q, column, &v) || !push_value(q, v))
            return;
    }
    t->count = (uint16_t)n;
}

void kura_where_in_int(kura_query *q, const char *field, const int64_t *values, size_t n)
{
    int column;
    if (!resolve(q, field, &column))
        return;
    if (n > 0 && !values) {
        kura_fail(&q->error, KURA_INVALID, field, "%s: IN list is NULL", field);
        return;
    }
    if (!takes_op(q, column, KURA_EQ, field))
        return;
    kura_term *t = push_term(q, KURA_TERM_IN, column);
    if (!t)
        return;
    for (size_t i = 0; i < n; i++) {
        kura_value v = KURA_VINT(values[i]);
        if (!fit_value(q, column, &v) || !push_value(q, v))
            return;
    }
    t->count = (uint16_t)n;
}

void kura_where_in_str(kura_query *q, const char *field, const char *const *values, size_t n)
{
    int column;
    if (!resolve(q, field, &column))
        return;
    if (n > 0 && !values) {
        kura_fail(&q->error, KURA_INVALID, field, "%s: IN list is NULL", field);
        return;
    }
    if (!takes_op(q, column, KURA_EQ, field))
        return;
    kura_term *t = push_term(q, KURA_TERM_IN, column);
    if (!t)
        return;
    for (size_t i = 0; i < n; i++) {
        kura_value v = KURA_VSTR(values[i]);
        if (!fit_value(q, column, &v) || !push_value(q, v))
            return;
    }
    t->count = (uint16_t)n;
}

void kura_where_null(kura_query *q, const char *field, bool is_null)
{
    int column;
    if (resolve(q, field, &column))
        push_term(q, is_null ? KURA_TERM_NULL : KURA_TERM_NOTNULL, column);
}

static void begin_group(kura_query *q, kura_term_kind kind)
{
    if (failed(q))
        return;
    if (q->depth == KURA_QUERY_MAX_DEPTH) {
        kura_fail(&q->error, KURA_INVALID, NULL, "query groups nest deeper than %d",
                  KURA_QUERY_MAX_DEPTH);
        return;
    }
    if (push_term(q, kind, 0))
        q->depth++;
}

void kura_all_begin(kura_query *q)
{
    begin_group(q, KURA_TERM_ALL);
}

void kura_any_begin(kura_query *q)
{
    begin_group(q, KURA_TERM_ANY);
}

void kura_not_begin(kura_query *q)
{
    begin_group(q, KURA_TERM_NOT);
}

void kura_group_end(kura_query *q)
{
    if (failed(q))
        return;
    if (q->depth == 0) {
        kura_fail(&q->error, KURA_INVALID, NULL, "kura_group_end without a group");
        return;
    }
    if (push_term(q, KURA_TERM_END, 0))
        q->depth--;
}

void kura_order_by(kura_query *q, const char *field, bool descending)
{
    int column;
    if (!resolve(q, field, &column))
        return;
    if (kura__type(kura_column_type(q->model, column))->orders == 0) {
        kura_fail(&q->error, KURA_INVALID, field, "%s: %s fields cannot be sorted on", field,
                  kura_type_name(kura_column_type(q->model, column)));
        return;
    }
    if (q->norder == KURA_QUERY_MAX_ORDER) {
        kura_fail(&q->error, KURA_INVALID, field, "more than %d sort keys", KURA_QUERY_MAX_ORDER);
        return;
    }
    q->order[q->norder].column = (int16_t)column;
    q->order[q->norder].desc = descending;
    q->norder++;
}

void kura_limit(kura_query *q, int64_t n)
{
    if (failed(q))
        return;
    if (n < 0)
        kura_fail(&q->error, KURA_INVALID, NULL, "negative limit");
    else
        q->limit = n;
}

void kura_offset(kura_query *q, int64_t offset)
{
    if (failed(q))
        return;
    if (offset < 0)
        kura_fail(&q->error, KURA_INVALID, NULL, "negative offset");
    else
        q->offset = offset;
}

const kura_error *kura_query_error(const kura_query *q)
{
    static const kura_error unclosed = {KURA_INVALID, "", "query has an unclosed group"};
    static const kura_error modelless = {KURA_INVALID, "",
                                         "query without a model (use kura_query_for)"};
    if (failed(q))
        return &q->error;
    if (q->depth != 0)
        return &unclosed;
    if (!q->model) /* a zeroed kura_query: every store reads the model */
        return &modelless;
    return NULL;
}

bool kura_value_parse(const kura_field *f, const char *text, kura_value *out, char *scratch,
                      size_t scratch_size)
{
    if (!text || !out)
        return false;
    kura_value v;
    if (!kura__type(f ? f->type : KURA_TYPE_INT64)->parse(f, text, &v, scratch, scratch_size))
        return false;
    *out = v;
    return true;
}

bool kura_type_takes(kura_type type, kura_op op)
{
    return (unsigned)type < KURA_TYPE_COUNT && (unsigned)op <= KURA_LIKE &&
           (kura__type(type)->ops & (1u << op));
}

kura_value kura_value_of(const kura_model *m, const void *obj, const kura_field *f)
{
    if (kura_is_null(m, obj, f))
        return KURA_VNULL;
    return kura__type(f->type)->value(f, (const char *)obj + f->offset);
}
