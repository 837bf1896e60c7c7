/*
 * kura/query.h — the query builder.
 *
 * A kura_query is a value on the caller's stack with fixed capacity: building
 * one never allocates. Field names are checked against the model descriptor
 * as they are added; a bad name, a value of the wrong type or an overflow is
 * remembered in the query (the first such error) and returned by the call that
 * runs it, so a builder reads as a list of statements with one check at the end:
 *
 *     kura_query q = kura_query_for(&sa_user_model);
 *     kura_where_int(&q, "age", KURA_GE, 30);
 *     kura_any_begin(&q);                       // ( ... OR ... )
 *         kura_where_str(&q, "sex", KURA_EQ, "F");
 *         kura_where_str(&q, "name", KURA_PREFIX, "user0");
 *     kura_group_end(&q);
 *     kura_order_by(&q, "age", true);           // age DESC
 *     kura_limit(&q, 20);
 *     if (!kura_find(db, &q, &rows, &err)) ...
 *
 * Terms at the same level are joined with AND. Every value reaches the store
 * as a bound parameter; field names only ever come from the descriptor.
 * Strings are BORROWED: they must stay valid until the query has run.
 *
 * Besides the user fields, the key and "created_at" and "updated_at" can be
 * named (not in a KURA_MODEL_NO_TIMESTAMPS model, whose rows have neither:
 * there they are unknown fields, KURA_INVALID). The key is "id" (or "_id" when a user field is
 * named id: kura_key_name): an integer for int64 keys, a string for the other kinds
 * (kura_where_str; EQ, NE, IN and order compare it, PREFIX and LIKE refuse it).
 */
#ifndef KURA_QUERY_H
#define KURA_QUERY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "model.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum kura_op {
    KURA_EQ,
    KURA_NE,
    KURA_LT,
    KURA_LE,
    KURA_GT,
    KURA_GE,
    KURA_PREFIX, /* strings: starts with the value (matched literally, not a pattern) */
    KURA_LIKE,   /* strings: SQL LIKE pattern, % and _ wildcards, \ escapes; case-sensitive */
} kura_op;

typedef enum kura_value_kind {
    KURA_VALUE_NULL,
    KURA_VALUE_INT,    /* int32, int64 and bool fields; also ids */
    KURA_VALUE_DOUBLE, /* double fields */
    KURA_VALUE_BOOL,   /* bool fields */
    KURA_VALUE_STRING, /* string, email, text fields (borrowed pointer) */
    KURA_VALUE_TIME,   /* datetime fields */
} kura_value_kind;

typedef struct kura_value {
    kura_value_kind kind;
    union {
        int64_t i;
        double d;
        bool b;
        const char *s;
        kura_time t;
    } as;
} kura_value;

#define KURA_VNULL      ((kura_value){.kind = KURA_VALUE_NULL})
#define KURA_VINT(x)    ((kura_value){.kind = KURA_VALUE_INT, .as.i = (x)})
#define KURA_VDOUBLE(x) ((kura_value){.kind = KURA_VALUE_DOUBLE, .as.d = (x)})
#define KURA_VBOOL(x)   ((kura_value){.kind = KURA_VALUE_BOOL, .as.b = (x)})
#define KURA_VSTR(x)    ((kura_value){.kind = KURA_VALUE_STRING, .as.s = (x)})
#define KURA_VTIME(x)   ((kura_value){.kind = KURA_VALUE_TIME, .as.t = (x)})

/* Capacities of one query. */
#define KURA_QUERY_MAX_TERMS  48
#define KURA_QUERY_MAX_VALUES 96
#define KURA_QUERY_MAX_ORDER  4
#define KURA_QUERY_MAX_DEPTH  8

/* Column numbers used inside a query: the base columns, then user field i as i. */
#define KURA_COL_ID         (-1)
#define KURA_COL_CREATED_AT (-2)
#define KURA_COL_UPDATED_AT (-3)
#define KURA_COL_NONE       (-100) /* kura_column_named: no such column */

typedef enum kura_term_kind {
    KURA_TERM_CMP,     /* column op value */
    KURA_TERM_IN,      /* column IN (values...) */
    KURA_TERM_NULL,    /* column IS NULL */
    KURA_TERM_NOTNULL, /* column IS NOT NULL */
    KURA_TERM_ALL,     /* begin an AND group */
    KURA_TERM_ANY,     /* begin an OR group */
    KURA_TERM_NOT,     /* begin a NOT (AND group) */
    KURA_TERM_END,     /* end the innermost group */
} kura_term_kind;

/* Private: read through the functions below. */
typedef struct kura_term {
    uint8_t kind;   /* kura_term_kind */
    uint8_t op;     /* kura_op, for CMP */
    int16_t column; /* KURA_COL_* or a user field index */
    uint16_t first; /* index into values */
    uint16_t count; /* number of values */
} kura_term;

typedef struct kura_query {
    const kura_model *model;
    kura_term terms[KURA_QUERY_MAX_TERMS];
    kura_value values[KURA_QUERY_MAX_VALUES];
    struct {
        int16_t column;
        bool desc;
    } order[KURA_QUERY_MAX_ORDER];
    uint16_t nterms, nvalues, norder, depth;
    int64_t limit;    /* < 0: no limit */
    int64_t offset;   /* 0: none */
    kura_error error; /* the first building error; KURA_OK when none */
} kura_query;

/* An empty query (every row) over `model`, no order, no limit. */
kura_query kura_query_for(const kura_model *model);

/* column op value. The value's kind must fit the field: INT for integers, bool
 * (INT or BOOL) for bools, DOUBLE (not NaN) or INT for doubles, STRING (valid UTF-8) for
 * strings, TIME for datetimes (years 0001..9999, what a datetime field holds).
 * PREFIX and LIKE take strings only. NULL is rejected: use kura_where_null. */
void kura_where(kura_query *q, const char *field, kura_op op, kura_value value);
void kura_where_int(kura_query *q, const char *field, kura_op op, int64_t value);
void kura_where_double(kura_query *q, const char *field, kura_op op, double value);
void kura_where_bool(kura_query *q, const char *field, kura_op op, bool value);
void kura_where_str(kura_query *q, const char *field, kura_op op, const char *value);
void kura_where_time(kura_query *q, const char *field, kura_op op, kura_time value);

/* column IN (values); an empty list matches nothing. */
void kura_where_in(kura_query *q, const char *field, const kura_value *values, size_t n);
void kura_where_in_int(kura_query *q, const char *field, const int64_t *values, size_t n);
void kura_where_in_str(kura_query *q, const char *field, const char *const *values, size_t n);

/* column IS NULL (is_null) or IS NOT NULL. */
void kura_where_null(kura_query *q, const char *field, bool is_null);

/* Groups: terms up to the matching kura_group_end are ANDed (all), ORed (any),
 * or ANDed and negated (not). An empty ALL group is true, an empty ANY false.
 * A NOT group matches every row its terms do not, rows where a term's field
 * is NULL included (MongoDB's $nor, Django's exclude), on every store; a
 * single NE comparison matches no NULL (SQL's <>). */
void kura_all_begin(kura_query *q);
void kura_any_begin(kura_query *q);
void kura_not_begin(kura_query *q);
void kura_group_end(kura_query *q);

/* Sort by field, ascending or descending; call again for further keys. Rows
 * equal on every key come in id order. NULL sorts below every value, on
 * every store: first ascending, last descending. */
void kura_order_by(kura_query *q, const char *field, bool descending);

/* At most n rows (n >= 0), skipping the first `offset`. */
void kura_limit(kura_query *q, int64_t n);
void kura_offset(kura_query *q, int64_t offset);

/* The query's building error, or NULL when it is well formed (groups closed). */
const kura_error *kura_query_error(const kura_query *q);

/* The value of field f of *obj (a model struct) as a kura_value: KURA_VNULL
 * when the field is NULL, and for a tag list, which no kura_value carries.
 * Strings are borrowed from obj. */
kura_value kura_value_of(const kura_model *model, const void *obj, const kura_field *f);

/*
 * Reads `text` (a URL query parameter, a command-line value) as a query value
 * for field f, or for the id column when f is NULL: integers and doubles in C
 * notation, "true"/"false", datetimes as kura_time_parse reads them, strings as
 * they are (out borrows text). The text-valued types (uuid, objectid, date,
 * decimal) accept what kura_from_json accepts and write the canonical text into
 * scratch (scratch_size bytes; 64 are always enough), which out then borrows:
 * keep scratch alive until the query has run. Returns false (out untouched)
 * when the text is no value of the type, or the type cannot be filtered (tags,
 * json).
 */
bool kura_value_parse(const kura_field *f, const char *text, kura_value *out, char *scratch,
                      size_t scratch_size);

/* Whether a field of `type` can be compared with `op` (kura_where refuses the others). */
bool kura_type_takes(kura_type type, kura_op op);

/* Helpers for drivers: the column's name and type for a KURA_COL_* or field index. */
const char *kura_column_name(const kura_model *model, int column);
kura_type kura_column_type(const kura_model *model, int column);

/*
 * The column `name` names in `model`: KURA_COL_ID for the key's name
 * (kura_key_name), KURA_COL_CREATED_AT or KURA_COL_UPDATED_AT when the model
 * has timestamps (kura_model_has_timestamps), else a user field's index; a
 * name that is none of these, or NULL, is KURA_COL_NONE. The builder resolves
 * names with it; drivers and services use it for names from outside (result
 * columns of raw SQL, HTTP parameters).
 */
int kura_column_named(const kura_model *model, const char *name);

#ifdef __cplusplus
}
#endif
#endif
