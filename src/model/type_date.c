/* type_date.c — the date type: "YYYY-MM-DD", a calendar day without time. */
#include <stdio.h>
#include <string.h>

#include "model/types.h"

static bool digits(const char *s, size_t n, int *out)
{
    int v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return true;
}

static int days_in_month(int y, int m)
{
    static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return m == 2 && leap ? 29 : days[m - 1];
}

/* Only the canonical spelling is a date: it is also what PostgreSQL writes
 * (DateStyle ISO) and what SQLAlchemy stores in SQLite. */
static bool date_canon(const kura_field *f, const char *text, size_t len, char *out, size_t cap)
{
    (void)f;
    int y, m, d;
    if (cap < KURA_DATE_BYTES || len != 10 || text[4] != '-' || text[7] != '-' ||
        !digits(text, 4, &y) || !digits(text + 5, 2, &m) || !digits(text + 8, 2, &d))
        return false;
    if (y < 1 || m < 1 || m > 12 || d < 1 || d > days_in_month(y, m))
        return false;
    memcpy(out, text, 10);
    out[10] = '\0';
    return true;
}

/* Days from civil (the proleptic Gregorian calendar), after Howard Hinnant's
 * public-domain date algorithms. */
int64_t kura__date_days(const char *date)
{
    int y = 1970, m = 1, d = 1; /* date is canonical: every read succeeds */
    digits(date, 4, &y);
    digits(date + 5, 2, &m);
    digits(date + 8, 2, &d);
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

void kura__date_from_days(int64_t z, char out[KURA_DATE_BYTES])
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t y = yoe + era * 400;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    int64_t d = doy - (153 * mp + 2) / 5 + 1;
    int64_t m = mp < 10 ? mp + 3 : mp - 9;
    y += m <= 2;
    /* Callers keep days within years 1..9999; the bounds only quiet the compiler. */
    int yy = (int)(y < 0      ? 0
                   : y > 9999 ? 9999
                              : y),
        mm = (int)(m < 1    ? 1
                   : m > 12 ? 12
                            : m),
        dd = (int)(d < 1    ? 1
                   : d > 31 ? 31
                            : d);
    snprintf(out, KURA_DATE_BYTES, "%04d-%02d-%02d", yy, mm, dd);
}

/* MongoDB has no date-only type: the BSON date at 00:00:00 UTC of the day. */
static const int64_t ms_per_day = 86400000;

static bool date_bson(bson_t *b, const char *key, const char *s)
{
    return bson_append_date_time(b, key, -1, kura__date_days(s) * ms_per_day);
}

static bool date_to_bson(bson_t *b, const char *key, const kura_field *f, const void *m,
                         kura_error *err)
{
    char tmp[KURA_DATE_BYTES];
    const char *s = m;
    if (!s[0])
        return bson_append_null(b, key, -1);
    if (!date_canon(f, s, strnlen(s, f->size), tmp, sizeof tmp))
        return kura_fail(err, KURA_VALIDATION, f->name, "%s is not a date", f->name);
    return date_bson(b, key, tmp);
}

static bool date_value_bson(bson_t *b, const char *key, const kura_value *v)
{
    char tmp[KURA_DATE_BYTES];
    if (v->kind != KURA_VALUE_STRING ||
        !date_canon(NULL, v->as.s, strlen(v->as.s), tmp, sizeof tmp))
        return false;
    return date_bson(b, key, tmp);
}

static bool date_from_bson(const kura_field *f, const bson_iter_t *it, void *m, kura_error *err)
{
    if (BSON_ITER_HOLDS_UTF8(it))
        return kura__canon_from_bson_utf8(f, it, m, err);
    if (!BSON_ITER_HOLDS_DATE_TIME(it))
        return kura__bson_wrong_type(err, f->name, it);
    int64_t ms = bson_iter_date_time(it);
    /* 0001-01-01 .. 9999-12-31, at midnight: anything else is not a date kura wrote. */
    if (ms % ms_per_day != 0 || ms < -62135596800000LL || ms > 253402214400000LL)
        return kura_fail(err, KURA_MISFIT, f->name,
                         "%s: stored date-time is not midnight UTC of a day in 0001..9999",
                         f->name);
    kura__date_from_days(ms / ms_per_day, m);
    return true;
}

static size_t date_bytes(const kura_field *f, kura_buf *bound)
{
    (void)f;
    if (bound)
        kura_buf_add(bound, "KURA_DATE_BYTES");
    return KURA_DATE_BYTES;
}

const kura_type_info kura__type_date = {
    .js_type = "string",
    .js_format = "date",
    .js_example = "\"2026-12-03\"",
    KURA__CANON_ENTRY,
    .name = "date",
    .c_macro = "KURA_DATE",
    .array_bytes = date_bytes,
    .canon = date_canon,
    .form = "a date (YYYY-MM-DD)",
    .ops = KURA_OPS_ORDER,
    .orders = KURA_FORM_ALL,
    .from_json = kura__canon_from_json,
    .sql = {"DATE", "DATE"},
    .catalog = {NULL, "date"},
    .zero_default = " DEFAULT '1970-01-01'",
    .bson_alias = "date",
    .to_bson = date_to_bson,
    .from_bson = date_from_bson,
    .value_bson = date_value_bson,
};
