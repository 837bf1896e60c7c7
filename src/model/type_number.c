/* type_number.c — the number types: int32, int64, double and bool. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "model/types.h"

/* ---- shared ---------------------------------------------------------------------- */

static bool parse_int(const char *text, int64_t min, int64_t max, int64_t *out)
{
    if (!*text)
        return false;
    char *end;
    errno = 0;
    long long v = strtoll(text, &end, 10);
    if (*end || errno || v < min || v > max)
        return false;
    *out = v;
    return true;
}

/* An integer from int32, int64 or an integral double (other programs write any). */
bool kura__bson_int(const bson_iter_t *it, int64_t *out)
{
    switch (bson_iter_type(it)) {
    case BSON_TYPE_INT32:
        *out = bson_iter_int32(it);
        return true;
    case BSON_TYPE_INT64:
        *out = bson_iter_int64(it);
        return true;
    case BSON_TYPE_DOUBLE: {
        double d = bson_iter_double(it);
        if (d != floor(d) || d < -9.2e18 || d > 9.2e18)
            return false;
        *out = (int64_t)d;
        return true;
    }
    default:
        return false;
    }
}

static bool check_range(const kura_field *f, int64_t v, kura_reason r)
{
    if (f->has_range && (v < f->min || v > f->max))
        return kura__reason(r, "must be between %lld and %lld", (long long)f->min,
                            (long long)f->max);
    return true;
}

static void default_int(kura_buf *b, const kura_field *f)
{
    kura_buf_addf(b, " DEFAULT %lld", (long long)f->default_int);
}

static bool fit_int(const kura_field *f, kura_value *v)
{
    (void)f;
    return v->kind == KURA_VALUE_INT;
}

/* ---- int32 ----------------------------------------------------------------------- */

static bool i32_parse(const kura_field *f, const char *text, kura_value *out, char *s, size_t n)
{
    (void)f, (void)s, (void)n;
    int64_t i;
    if (!parse_int(text, INT32_MIN, INT32_MAX, &i))
        return false;
    *out = KURA_VINT(i);
    return true;
}

static void i32_init(const kura_field *f, void *m)
{
    int32_t v = (int32_t)f->default_int;
    memcpy(m, &v, sizeof v);
}

static bool i32_check(const kura_field *f, const void *m, kura_reason r)
{
    int32_t v;
    memcpy(&v, m, sizeof v);
    return check_range(f, v, r);
}

static kura_value i32_value(const kura_field *f, const void *m)
{
    (void)f;
    int32_t v;
    memcpy(&v, m, sizeof v);
    return KURA_VINT(v);
}

static bool i32_set(const kura_field *f, int64_t v, void *m, kura_code code, kura_error *err)
{
    if (v < INT32_MIN || v > INT32_MAX)
        return kura_fail(err, code, f->name,
                         code == KURA_MISFIT ? "%s: stored value %lld overflows int32"
                                             : "%s is out of range for a 32-bit integer",
                         f->name, (long long)v);
    int32_t v32 = (int32_t)v;
    memcpy(m, &v32, sizeof v32);
    return true;
}

static bool i32_from_value(const kura_field *f, const kura_value *v, void *m, kura_error *err)
{
    if (v->kind != KURA_VALUE_INT)
        return false;
    return i32_set(f, v->as.i, m, KURA_VALIDATION, err);
}

static bool i32_json_text(kura_buf *b, const kura_field *f, const void *m)
{
    (void)f;
    int32_t v;
    memcpy(&v, m, sizeof v);
    kura_buf_add_i64(b, v);
    return true;
}

static json_t *i32_to_json(const kura_field *f, const void *m)
{
    (void)f;
    int32_t v;
    memcpy(&v, m, sizeof v);
    return json_integer(v);
}

static bool i32_from_json(const kura_field *f, const json_t *v, void *m, kura_error *err)
{
    if (!json_is_integer(v))
        return kura__json_type_error(err, f->name, "an integer");
    return i32_set(f, json_integer_value(v), m, KURA_VALIDATION, err);
}

static bool i32_from_sql(const kura_field *f, int64_t v, void *m, kura_error *err)
{
    return i32_set(f, v, m, KURA_MISFIT, err);
}

static bool i32_to_bson(bson_t *b, const char *key, const kura_field *f, const void *m,
                        kura_error *err)
{
    (void)f, (void)err;
    int32_t v;
    memcpy(&v, m, sizeof v);
    return bson_append_int32(b, key, -1, v);
}

/* An int32 field's query value is stored as int32 when it fits (MongoDB
 * compares numbers across types anyway; this keeps bulk updates int32). */
static bool i32_value_bson(bson_t *b, const char *key, const kura_value *v)
{
    if (v->kind != KURA_VALUE_INT)
        return false;
    if (v->as.i >= INT32_MIN && v->as.i <= INT32_MAX)
        return bson_append_int32(b, key, -1, (int32_t)v->as.i);
    return bson_append_int64(b, key, -1, v->as.i);
}

static bool i32_from_bson(const kura_field *f, const bson_iter_t *it, void *m, kura_error *err)
{
    int64_t v;
    if (!kura__bson_int(it, &v) || v < INT32_MIN || v > INT32_MAX)
        return kura__bson_wrong_type(err, f->name, it);
    return i32_set(f, v, m, KURA_MISFIT, err);
}

const kura_type_info kura__type_int32 = {
    .js_type = "integer",
    .js_format = "int32",
    .js_example = "30",
    .name = "int32",
    .size = sizeof(int32_t),
    .align = _Alignof(int32_t),
    .c_type = "int32_t",
    .c_macro = "KURA_INT32",
    .range = true,
    .dflt = KURA_DEFAULT_INT,
    .ops = KURA_OPS_ORDER,
    .orders = KURA_FORM_ALL,
    .fit = fit_int,
    .parse = i32_parse,
    .init = i32_init,
    .check = i32_check,
    .value = i32_value,
    .from_value = i32_from_value,
    .to_json = i32_to_json,
    .json_text = i32_json_text,
    .from_json = i32_from_json,
    .sql = {"INTEGER", "INTEGER"},
    .catalog = {NULL, "integer"},
    .zero_default = " DEFAULT 0",
    .ddl_default = default_int,
    .sql_read = KURA_SQL_READ_INT,
    .from_sql_int = i32_from_sql,
    .pg_json_cast = "integer",
    .bson_alias = "number",
    .to_bson = i32_to_bson,
    .from_bson = i32_from_bson,
    .value_bson = i32_value_bson,
};

/* ---- int64 ----------------------------------------------------------------------- */

static bool i64_parse(const kura_field *f, const char *text, kura_value *out, char *s, size_t n)
{
    (void)f, (void)s, (void)n;
    int64_t i;
    if (!parse_int(text, INT64_MIN, INT64_MAX, &i))
        return false;
    *out = KURA_VINT(i);
    return true;
}

static void i64_init(const kura_field *f, void *m)
{
    memcpy(m, &f->default_int, sizeof f->default_int);
}

static bool i64_check(const kura_field *f, const void *m, kura_reason r)
{
    int64_t v;
    memcpy(&v, m, sizeof v);
    return check_range(f, v, r);
}

static kura_value i64_value(const kura_field *f, const void *m)
{
    (void)f;
    int64_t v;
    memcpy(&v, m, sizeof v);
    return KURA_VINT(v);
}

static bool i64_from_value(const kura_field *f, const kura_value *v, void *m, kura_error *err)
{
    (void)f, (void)err;
    if (v->kind != KURA_VALUE_INT)
        return false;
    memcpy(m, &v->as.i, sizeof v->as.i);
    return true;
}

static bool i64_json_text(kura_buf *b, const kura_field *f, const void *m)
{
    (void)f;
    int64_t v;
    memcpy(&v, m, sizeof v);
    kura_buf_add_i64(b, v);
    return true;
}

static json_t *i64_to_json(const kura_field *f, const void *m)
{
    (void)f;
    int64_t v;
    memcpy(&v, m, sizeof v);
    return json_integer(v);
}

static bool i64_from_json(const kura_field *f, const json_t *v, void *m, kura_error *err)
{
    if (!json_is_integer(v))
        return kura__json_type_error(err, f->name, "an integer");
    int64_t i = json_integer_value(v);
    memcpy(m, &i, sizeof i);
    return true;
}

static bool i64_from_sql(const kura_field *f, int64_t v, void *m, kura_error *err)
{
    (void)f, (void)err;
    memcpy(m, &v, sizeof v);
    return true;
}

static bool i64_to_bson(bson_t *b, const char *key, const kura_field *f, const void *m,
                        kura_error *err)
{
    (void)f, (void)err;
    int64_t v;
    memcpy(&v, m, sizeof v);
    return bson_append_int64(b, key, -1, v);
}

static bool i64_from_bson(const kura_field *f, const bson_iter_t *it, void *m, kura_error *err)
{
    int64_t v;
    if (!kura__bson_int(it, &v))
        return kura__bson_wrong_type(err, f->name, it);
    memcpy(m, &v, sizeof v);
    return true;
}

const kura_type_info kura__type_int64 = {
    .js_type = "integer",
    .js_format = "int64",
    .js_example = "1234",
    .name = "int64",
    .size = sizeof(int64_t),
    .align = _Alignof(int64_t),
    .c_type = "int64_t",
    .c_macro = "KURA_INT64",
    .range = true,
    .dflt = KURA_DEFAULT_INT,
    .ops = KURA_OPS_ORDER,
    .orders = KURA_FORM_ALL,
    .fit = fit_int,
    .parse = i64_parse,
    .init = i64_init,
    .check = i64_check,
    .value = i64_value,
    .from_value = i64_from_value,
    .to_json = i64_to_json,
    .json_text = i64_json_text,
    .from_json = i64_from_json,
    .sql = {"BIGINT", "BIGINT"},
    .catalog = {NULL, "bigint"},
    .zero_default = " DEFAULT 0",
    .ddl_default = default_int,
    .sql_read = KURA_SQL_READ_INT,
    .from_sql_int = i64_from_sql,
    .pg_json_cast = "bigint",
    .bson_alias = "number",
    .to_bson = i64_to_bson,
    .from_bson = i64_from_bson,
};

/* ---- double ---------------------------------------------------------------------- */

static bool dbl_fit(const kura_field *f, kura_value *v)
{
    (void)f;
    if (v->kind == KURA_VALUE_INT)
        *v = KURA_VDOUBLE((double)v->as.i);
    return v->kind == KURA_VALUE_DOUBLE;
}

static bool dbl_parse(const kura_field *f, const char *text, kura_value *out, char *s, size_t n)
{
    (void)f, (void)s, (void)n;
    char *end;
    double d = strtod(text, &end);
    /* As a JSON body reads numbers: an overflow is refused, an underflow
     * (5e-324, which strtod flags with ERANGE) is the value it rounds to, and
     * "nan" or "inf", which no JSON number is, are no value. */
    if (!*text || *end || !isfinite(d))
        return false;
    *out = KURA_VDOUBLE(d);
    return true;
}

static void dbl_init(const kura_field *f, void *m)
{
    memcpy(m, &f->default_double, sizeof f->default_double);
}

static bool dbl_check(const kura_field *f, const void *m, kura_reason r)
{
    double v;
    memcpy(&v, m, sizeof v);
    if (!isfinite(v))
        return kura__reason(r, "is not a finite number");
    if (f->has_range && (v < (double)f->min || v > (double)f->max))
        return kura__reason(r, "must be between %lld and %lld", (long long)f->min,
                            (long long)f->max);
    return true;
}

static kura_value dbl_value(const kura_field *f, const void *m)
{
    (void)f;
    double v;
    memcpy(&v, m, sizeof v);
    return KURA_VDOUBLE(v);
}

static bool dbl_from_value(const kura_field *f, const kura_value *v, void *m, kura_error *err)
{
    (void)f, (void)err;
    if (v->kind != KURA_VALUE_DOUBLE)
        return false;
    memcpy(m, &v->as.d, sizeof v->as.d);
    return true;
}

static json_t *dbl_to_json(const kura_field *f, const void *m)
{
    (void)f;
    double v;
    memcpy(&v, m, sizeof v);
    /* JSON has no NaN or infinity; null is what JSON.stringify writes too. */
    return isfinite(v) ? json_real(v) : json_null();
}

static bool dbl_from_json(const kura_field *f, const json_t *v, void *m, kura_error *err)
{
    if (!json_is_number(v))
        return kura__json_type_error(err, f->name, "a number");
    double d = json_number_value(v);
    memcpy(m, &d, sizeof d);
    return true;
}

static void dbl_default(kura_buf *b, const kura_field *f)
{
    kura_buf_addf(b, " DEFAULT %.17g", f->default_double);
}

static bool dbl_from_sql(const kura_field *f, double v, void *m, kura_error *err)
{
    (void)f, (void)err;
    memcpy(m, &v, sizeof v);
    return true;
}

static bool dbl_to_bson(bson_t *b, const char *key, const kura_field *f, const void *m,
                        kura_error *err)
{
    (void)f, (void)err;
    double v;
    memcpy(&v, m, sizeof v);
    return bson_append_double(b, key, -1, v);
}

static bool dbl_from_bson(const kura_field *f, const bson_iter_t *it, void *m, kura_error *err)
{
    if (!BSON_ITER_HOLDS_NUMBER(it))
        return kura__bson_wrong_type(err, f->name, it);
    double v = bson_iter_as_double(it);
    memcpy(m, &v, sizeof v);
    return true;
}

const kura_type_info kura__type_double = {
    .js_type = "number",
    .js_format = "double",
    .js_example = "0.5",
    .name = "double",
    .size = sizeof(double),
    .align = _Alignof(double),
    .c_type = "double",
    .c_macro = "KURA_DOUBLE",
    .range = true,
    .dflt = KURA_DEFAULT_DOUBLE,
    .ops = KURA_OPS_ORDER,
    .orders = KURA_FORM_ALL,
    .fit = dbl_fit,
    .parse = dbl_parse,
    .init = dbl_init,
    .check = dbl_check,
    .value = dbl_value,
    .from_value = dbl_from_value,
    .to_json = dbl_to_json,
    .from_json = dbl_from_json,
    .sql = {"FLOAT", "FLOAT"},
    .catalog = {NULL, "double precision"},
    .zero_default = " DEFAULT 0",
    .ddl_default = dbl_default,
    .sql_read = KURA_SQL_READ_DOUBLE,
    .from_sql_double = dbl_from_sql,
    .pg_json_cast = "double precision",
    .bson_alias = "number",
    .to_bson = dbl_to_bson,
    .from_bson = dbl_from_bson,
};

/* ---- bool ------------------------------------------------------------------------ */

static bool bool_fit(const kura_field *f, kura_value *v)
{
    (void)f;
    if (v->kind == KURA_VALUE_INT)
        *v = KURA_VBOOL(v->as.i != 0);
    return v->kind == KURA_VALUE_BOOL;
}

static bool bool_parse(const kura_field *f, const char *text, kura_value *out, char *s, size_t n)
{
    (void)f, (void)s, (void)n;
    if (strcmp(text, "true") != 0 && strcmp(text, "false") != 0)
        return false;
    *out = KURA_VBOOL(text[0] == 't');
    return true;
}

static void bool_init(const kura_field *f, void *m)
{
    bool v = f->default_int != 0;
    memcpy(m, &v, sizeof v);
}

static bool bool_check(const kura_field *f, const void *m, kura_reason r)
{
    (void)f, (void)m, (void)r;
    return true;
}

static kura_value bool_value(const kura_field *f, const void *m)
{
    (void)f;
    bool v;
    memcpy(&v, m, sizeof v);
    return KURA_VBOOL(v);
}

static bool bool_from_value(const kura_field *f, const kura_value *v, void *m, kura_error *err)
{
    (void)f, (void)err;
    if (v->kind != KURA_VALUE_BOOL)
        return false;
    memcpy(m, &v->as.b, sizeof v->as.b);
    return true;
}

static bool bool_json_text(kura_buf *b, const kura_field *f, const void *m)
{
    (void)f;
    bool v;
    memcpy(&v, m, sizeof v);
    kura_buf_add(b, v ? "true" : "false");
    return true;
}

static json_t *bool_to_json(const kura_field *f, const void *m)
{
    (void)f;
    bool v;
    memcpy(&v, m, sizeof v);
    return json_boolean(v);
}

static bool bool_from_json(const kura_field *f, const json_t *v, void *m, kura_error *err)
{
    if (!json_is_boolean(v))
        return kura__json_type_error(err, f->name, "true or false");
    bool b = json_is_true(v);
    memcpy(m, &b, sizeof b);
    return true;
}

static void bool_default(kura_buf *b, const kura_field *f)
{
    kura_buf_add(b, f->default_int ? " DEFAULT true" : " DEFAULT false");
}

static bool bool_from_sql(const kura_field *f, int64_t v, void *m, kura_error *err)
{
    (void)f, (void)err;
    bool b = v != 0;
    memcpy(m, &b, sizeof b);
    return true;
}

static bool bool_to_bson(bson_t *b, const char *key, const kura_field *f, const void *m,
                         kura_error *err)
{
    (void)f, (void)err;
    bool v;
    memcpy(&v, m, sizeof v);
    return bson_append_bool(b, key, -1, v);
}

static bool bool_from_bson(const kura_field *f, const bson_iter_t *it, void *m, kura_error *err)
{
    if (!BSON_ITER_HOLDS_BOOL(it))
        return kura__bson_wrong_type(err, f->name, it);
    bool v = bson_iter_bool(it);
    memcpy(m, &v, sizeof v);
    return true;
}

const kura_type_info kura__type_bool = {
    .js_type = "boolean",
    .js_example = "true",
    .name = "bool",
    .size = sizeof(bool),
    .align = _Alignof(bool),
    .c_type = "bool",
    .c_macro = "KURA_BOOL",
    .dflt = KURA_DEFAULT_INT,
    .ops = KURA_OPS_ORDER,
    .orders = KURA_FORM_ALL,
    .fit = bool_fit,
    .parse = bool_parse,
    .init = bool_init,
    .check = bool_check,
    .value = bool_value,
    .from_value = bool_from_value,
    .to_json = bool_to_json,
    .json_text = bool_json_text,
    .from_json = bool_from_json,
    .sql = {"BOOLEAN", "BOOLEAN"},
    .catalog = {NULL, "boolean"},
    .zero_default = " DEFAULT false",
    .ddl_default = bool_default,
    .sql_read = KURA_SQL_READ_INT,
    .from_sql_int = bool_from_sql,
    .pg_json_cast = "boolean",
    .bson_alias = "bool",
    .to_bson = bool_to_bson,
    .from_bson = bool_from_bson,
};
