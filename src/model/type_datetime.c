/* type_datetime.c — the datetime type: kura_time, UTC microseconds, 0 = unset. */
#include <string.h>

#include "model/types.h"

int64_t kura__time_ms_floor(kura_time t)
{
    int64_t ms = t / 1000;
    if (t % 1000 < 0)
        ms--; /* C division truncates toward zero; dates before 1970 need floor */
    return ms;
}

static bool dt_fit(const kura_field *f, kura_value *v)
{
    (void)f;
    return v->kind == KURA_VALUE_TIME;
}

static bool dt_parse(const kura_field *f, const char *text, kura_value *out, char *s, size_t n)
{
    (void)f, (void)s, (void)n;
    kura_time t;
    if (!kura_time_parse(text, &t))
        return false;
    *out = KURA_VTIME(t);
    return true;
}

static bool dt_check(const kura_field *f, const void *m, kura_reason r)
{
    kura_time t;
    memcpy(&t, m, sizeof t);
    if (f->required && t == 0)
        return kura__reason(r, "is required");
    if (!kura__time_in_range(t))
        return kura__reason(r, "is outside years 0001..9999");
    return true;
}

static kura_value dt_value(const kura_field *f, const void *m)
{
    (void)f;
    kura_time t;
    memcpy(&t, m, sizeof t);
    return KURA_VTIME(t);
}

static bool dt_from_value(const kura_field *f, const kura_value *v, void *m, kura_error *err)
{
    (void)f, (void)err;
    if (v->kind != KURA_VALUE_TIME)
        return false;
    memcpy(m, &v->as.t, sizeof v->as.t);
    return true;
}

static json_t *dt_to_json(const kura_field *f, const void *m)
{
    (void)f;
    kura_time t;
    memcpy(&t, m, sizeof t);
    if (t == 0)
        return json_null();
    char text[28];
    kura_time_format_iso(t, text);
    return json_string(text);
}

static bool dt_from_json(const kura_field *f, const json_t *v, void *m, kura_error *err)
{
    kura_time t;
    if (!json_is_string(v) || !kura_time_parse(json_string_value(v), &t))
        return kura__json_type_error(err, f->name,
                                     "a date-time string (YYYY-MM-DDTHH:MM:SS[.ffffff][Z])");
    memcpy(m, &t, sizeof t);
    return true;
}

static bool dt_from_sql(const kura_field *f, const char *txt, size_t len, void *m,
                        kura_time_memo *memo, kura_error *err)
{
    kura_time t = 0;
    if (txt && !kura_time_parse_memo(txt, len, memo, &t))
        return kura_fail(err, KURA_MISFIT, f->name, "%s: stored value '%.40s' is not a datetime",
                         f->name, txt);
    memcpy(m, &t, sizeof t);
    return true;
}

static bool dt_to_bson(bson_t *b, const char *key, const kura_field *f, const void *m,
                       kura_error *err)
{
    (void)f, (void)err;
    kura_time t;
    memcpy(&t, m, sizeof t);
    if (t == 0) /* 0 is "unset", as JSON null */
        return bson_append_null(b, key, -1);
    return bson_append_date_time(b, key, -1, kura__time_ms_floor(t));
}

/* The milliseconds of 0000-01-01T00:00:00Z and 9999-12-31T23:59:59.999Z: kura's
 * instants span those years (see kura_time_format). */
#define MIN_MS INT64_C(-62167219200000)
#define MAX_MS INT64_C(253402300799999)

static bool dt_from_bson(const kura_field *f, const bson_iter_t *it, void *m, kura_error *err)
{
    if (!BSON_ITER_HOLDS_DATE_TIME(it))
        return kura__bson_wrong_type(err, f->name, it);
    /* Another program's date may lie anywhere in ±292 million years, and times
     * 1000 would overflow. */
    int64_t ms = bson_iter_date_time(it);
    if (ms < MIN_MS || ms > MAX_MS)
        return kura_fail(err, KURA_MISFIT, f->name,
                         "%s: stored date %lld ms is outside years 0000..9999", f->name,
                         (long long)ms);
    kura_time t = ms * 1000;
    memcpy(m, &t, sizeof t);
    return true;
}

const kura_type_info kura__type_datetime = {
    .js_type = "string",
    .js_format = "date-time",
    .js_example = "\"2026-12-03T09:30:00Z\"",
    .name = "datetime",
    .size = sizeof(kura_time),
    .align = _Alignof(kura_time),
    .c_type = "kura_time",
    .c_macro = "KURA_DATETIME",
    .ops = KURA_OPS_ORDER,
    .orders = KURA_FORM_ALL,
    .fit = dt_fit,
    .parse = dt_parse,
    .check = dt_check,
    .value = dt_value,
    .from_value = dt_from_value,
    .to_json = dt_to_json,
    .json_text = kura__json_time_text,
    .from_json = dt_from_json,
    .sql = {"DATETIME", "TIMESTAMP WITHOUT TIME ZONE"},
    .catalog = {NULL, "timestamp without time zone"},
    .zero_default = " DEFAULT '1970-01-01 00:00:00'",
    .sql_read = KURA_SQL_READ_TEXT,
    .sql_text_len = false, /* for SQLite one more library call, dearer than the parser's look */
    .from_sql_text = dt_from_sql,
    .bson_alias = "date",
    .to_bson = dt_to_bson,
    .from_bson = dt_from_bson,
};
