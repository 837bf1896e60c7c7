/*
 * sql_codec.c — binding a struct's fields to a statement's parameters, and
 * decoding a result row into a struct, as the field-type table says
 * (model/types.h: which of the driver's readers, and how a value is kept).
 */
#include "sql/sql_store_private.h"

#include <stdlib.h>
#include <string.h>

#include "model/model_private.h"

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

/* Binds the user fields of obj to parameters first, first + 1, ... Field i's
 * NULL mark is bit i (kura_value_of, without finding i again): every row written
 * comes through here. */
bool kura__sql_bind_fields(sql_store *s, kura_sql_stmt *st, const kura_model *m, const void *obj,
                           int first, bound_texts *kept, kura_error *err)
{
    uint64_t nulls = ((const kura_base *)obj)->nulls;
    bool (*bind)(kura_sql_stmt *, int, const kura_value *, kura_error *) = s->drv->bind;
    for (size_t i = 0; i < m->nfields; i++) {
        const kura_field *f = &m->fields[i];
        const kura_type_info *ti = kura__type(f->type);
        const char *member = (const char *)obj + f->offset;
        kura_value v;
        if (i < KURA_MAX_FIELDS && ((nulls >> i) & 1u)) {
            v = KURA_VNULL;
        } else if (ti->sql_text) {
            /* A member no kura_value carries (a tag list: its JSON text). */
            char *text = ti->sql_text(f, member, err);
            if (!text)
                return false;
            if (!bound_texts_keep(kept, text)) {
                free(text);
                return kura_fail(err, KURA_NOMEM, f->name, "out of memory binding %s", f->name);
            }
            v = KURA_VSTR(text);
        } else {
            v = ti->value(f, member);
        }
        if (!bind(st, first + (int)i, &v, err))
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

/* A number field whose column holds something else (SQLite keeps text in an
 * INTEGER column): a misfit, never the 0 the number readers would give. */
static bool not_a_number(const kura_sql_driver *d, kura_sql_stmt *st, int col, const kura_field *f,
                         const char *what, kura_error *err)
{
    const char *txt = d->column_text(st, col, NULL);
    return kura_fail(err, KURA_MISFIT, f->name, "%s: stored value '%.40s' is not %s", f->name,
                     txt ? txt : "", what);
}

/*
 * Decodes result column `col` into model column `column` of *obj. The member
 * must own nothing (a TEXT member is overwritten, not freed). Text-typed
 * columns learn NULL from column_text; only numbers ask column_kind.
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
        int kind = d->column_kind(st, col);
        if (kind != KURA_SQL_KIND_NULL && kind != KURA_SQL_KIND_INT)
            return not_a_number(d, st, col, f, "an integer", err);
        if (!(null = kind == KURA_SQL_KIND_NULL))
            v = d->column_int(st, col);
        if (!ti->from_sql_int(f, v, p, err))
            return false;
        break;
    }
    case KURA_SQL_READ_DOUBLE: {
        double v = 0;
        int kind = d->column_kind(st, col);
        if (kind == KURA_SQL_KIND_OTHER)
            return not_a_number(d, st, col, f, "a number", err);
        if (!(null = kind == KURA_SQL_KIND_NULL))
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
    base->key[0] = '\0'; /* an int64 key has no text; decode_key sets the others' */
    if (kura__stamp_count(m) == 0)
        base->created_at = base->updated_at = 0;
    for (size_t i = 0; i < m->nfields; i++)
        if (kura__type(m->fields[i].type)->owns) {
            char *none = NULL;
            memcpy((char *)obj + m->fields[i].offset, &none, sizeof none);
        }
}

/* Decodes a row selected with select_cols (positional). */
bool kura__sql_decode_row(sql_store *s, kura_sql_stmt *st, const kura_model *m, void *obj,
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

/* decode_column for rows read by column name (sql_raw.c); decode_row has it inline. */
bool kura__sql_decode_column(sql_store *s, kura_sql_stmt *st, int col, const kura_model *m,
                             int column, void *obj, kura_time_memo *memo, kura_error *err)
{
    return decode_column(s, st, col, m, column, obj, memo, err);
}
