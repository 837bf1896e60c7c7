/* types.c — the table of field types, and what is read from it for every type. */
#include "model/types.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* Indexed by kura_type: the order of include/kura/model.h's enum. */
const kura_type_info *const kura__types[KURA_TYPE_COUNT] = {
    [KURA_TYPE_INT32] = &kura__type_int32,       [KURA_TYPE_INT64] = &kura__type_int64,
    [KURA_TYPE_DOUBLE] = &kura__type_double,     [KURA_TYPE_BOOL] = &kura__type_bool,
    [KURA_TYPE_STRING] = &kura__type_string,     [KURA_TYPE_TEXT] = &kura__type_text,
    [KURA_TYPE_EMAIL] = &kura__type_email,       [KURA_TYPE_DATETIME] = &kura__type_datetime,
    [KURA_TYPE_TAGS] = &kura__type_tags,         [KURA_TYPE_UUID] = &kura__type_uuid,
    [KURA_TYPE_OBJECTID] = &kura__type_objectid, [KURA_TYPE_DATE] = &kura__type_date,
    [KURA_TYPE_DECIMAL] = &kura__type_decimal,   [KURA_TYPE_JSON] = &kura__type_json,
};

const char *kura_type_name(kura_type type)
{
    if ((unsigned)type >= KURA_TYPE_COUNT)
        return NULL;
    return kura__types[type]->name;
}

bool kura_type_from_name(const char *name, kura_type *out)
{
    if (!name)
        return false;
    for (unsigned t = 0; t < KURA_TYPE_COUNT; t++)
        if (strcmp(kura__types[t]->name, name) == 0) {
            *out = (kura_type)t;
            return true;
        }
    return false;
}

size_t kura__member_bytes(const kura_field *f)
{
    const kura_type_info *ti = kura__type(f->type);
    return ti->size ? ti->size : ti->array_bytes(f, NULL);
}

/* ---- SQL column types ---------------------------------------------------------- */

static void type_args(char *out, size_t cap, const kura_type_info *ti, const kura_field *f)
{
    if (ti->args == KURA_ARGS_CHARS)
        snprintf(out, cap, "(%d)", f->max_chars);
    else if (ti->args == KURA_ARGS_DECIMAL)
        snprintf(out, cap, "(%d,%d)", f->precision, f->scale);
    else
        out[0] = '\0';
}

void kura__sql_type(kura_buf *b, kura_sql_id dialect, const kura_field *f)
{
    const kura_type_info *ti = kura__type(f->type);
    char args[32];
    type_args(args, sizeof args, ti, f);
    kura_buf_addf(b, "%s%s", ti->sql[dialect], args);
}

void kura__sql_catalog_type(kura_sql_id dialect, const kura_field *f, char *out, size_t cap)
{
    const kura_type_info *ti = kura__type(f->type);
    char args[32];
    type_args(args, sizeof args, ti, f);
    const char *name = ti->catalog[dialect] ? ti->catalog[dialect] : ti->sql[dialect];
    snprintf(out, cap, "%s%s", name, args);
    for (char *p = out; *p; p++)
        if (*p >= 'A' && *p <= 'Z')
            *p = (char)(*p - 'A' + 'a');
}

/* ---- queries ------------------------------------------------------------------- */

static bool sorts_in(const kura_query *q, int column, unsigned form, const char *what,
                     kura_error *err)
{
    if (kura__type(kura_column_type(q->model, column))->orders & form)
        return true;
    const char *name = kura_column_name(q->model, column);
    return kura_fail(err, KURA_UNSUPPORTED, name,
                     "%s: this store keeps %s values in a form that does not sort as they do, "
                     "so it cannot %s them",
                     name, kura_type_name(kura_column_type(q->model, column)), what);
}

bool kura__query_fits_form(const kura_query *q, unsigned form, kura_error *err)
{
    for (unsigned i = 0; i < q->nterms; i++) {
        const kura_term *t = &q->terms[i];
        if (t->kind == KURA_TERM_CMP && t->op >= KURA_LT && t->op <= KURA_GE &&
            !sorts_in(q, t->column, form, "compare", err))
            return false;
    }
    for (unsigned i = 0; i < q->norder; i++)
        if (!sorts_in(q, q->order[i].column, form, "sort", err))
            return false;
    return true;
}

/* ---- helpers shared by the entries --------------------------------------------- */

bool kura__reason(kura_reason r, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r.buf, r.cap, fmt, ap);
    va_end(ap);
    return false;
}

bool kura__json_type_error(kura_error *err, const char *name, const char *expected)
{
    return kura_fail(err, KURA_VALIDATION, name, "%s must be %s", name, expected);
}

bool kura__bson_wrong_type(kura_error *err, const char *name, const bson_iter_t *it)
{
    return kura_fail(err, KURA_MISFIT, name,
                     "%s: stored value has BSON type 0x%02x, not the field's", name,
                     (unsigned)bson_iter_type(it));
}
