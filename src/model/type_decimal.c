/*
 * type_decimal.c — the decimal type: exact decimal text with a declared
 * precision and scale. Never through a double: every conversion works on the
 * digits.
 */
#include <stdio.h>
#include <string.h>

#include "model/types.h"

/* Longest input read: no decimal kura can store needs more. */
#define DECIMAL_MAX_INPUT 160

/*
 * Any decimal notation ("-1.5", "+.50", "2.5E+3", "1250E-2"), value
 * digits x 10^exp, rewritten with exactly `scale` digits after the point when
 * that loses nothing and leaves at most precision - scale before it.
 */
static bool decimal_canon(const char *text, size_t len, int precision, int scale, char *out,
                          size_t cap)
{
    if (len == 0 || len > DECIMAL_MAX_INPUT || precision < 1 || scale < 0 || scale > precision)
        return false;
    char d[DECIMAL_MAX_INPUT + 80]; /* the significant digits, then zeros appended for the scale */
    size_t nd = 0, i = 0;
    bool neg = false, any = false, point = false;
    long exp = 0;
    if (text[i] == '+' || text[i] == '-')
        neg = text[i++] == '-';
    for (; i < len; i++) {
        char c = text[i];
        if (c >= '0' && c <= '9') {
            any = true;
            if (point)
                exp--;
            if (nd == 0 && c == '0')
                continue; /* a leading zero adds nothing */
            d[nd++] = c;
        } else if (c == '.' && !point) {
            point = true;
        } else {
            break;
        }
    }
    if (!any)
        return false;
    if (i < len && (text[i] == 'e' || text[i] == 'E')) {
        i++;
        bool eneg = false;
        if (i < len && (text[i] == '+' || text[i] == '-'))
            eneg = text[i++] == '-';
        long e = 0;
        size_t start = i;
        for (; i < len && text[i] >= '0' && text[i] <= '9'; i++)
            if ((e = e * 10 + (text[i] - '0')) > 10000)
                return false;
        if (i == start)
            return false;
        exp += eneg ? -e : e;
    }
    if (i != len)
        return false;
    /* Now value = d x 10^exp. Drop digits below the scale: they must be zeros. */
    while (exp < -scale && nd > 0) {
        if (d[nd - 1] != '0')
            return false; /* more digits after the point than the scale allows */
        nd--;
        exp++;
    }
    if (nd == 0)
        exp = -scale; /* zero */
    /* Fill up to the scale. */
    while (exp > -scale) {
        if (nd >= sizeof d)
            return false;
        d[nd++] = '0';
        exp--;
    }
    size_t sc = (size_t)scale;
    size_t int_digits = nd > sc ? nd - sc : 0;
    if (int_digits > (size_t)(precision - scale))
        return false;
    bool zero = true;
    for (size_t k = 0; k < nd; k++)
        zero = zero && d[k] == '0';
    /* sign, integer digits (or "0"), point, scale digits, NUL */
    if (cap < 1 + (int_digits ? int_digits : 1) + 1 + sc + 1)
        return false;
    char *o = out;
    if (neg && !zero)
        *o++ = '-';
    if (int_digits) {
        memcpy(o, d, int_digits);
        o += int_digits;
    } else {
        *o++ = '0';
    }
    if (sc) {
        *o++ = '.';
        /* nd - int_digits digits are there; the rest (leading ones) are zeros */
        size_t have = nd - int_digits;
        for (size_t k = have; k < sc; k++)
            *o++ = '0';
        memcpy(o, d + int_digits, have);
        o += have;
    }
    *o = '\0';
    return true;
}

bool kura_decimal_canonical(const char *text, int precision, int scale, char *out, size_t out_size)
{
    if (!text || !decimal_canon(text, strlen(text), precision, scale, out, out_size)) {
        if (out && out_size)
            out[0] = '\0';
        return false;
    }
    return true;
}

static bool dec_canon(const kura_field *f, const char *text, size_t len, char *out, size_t cap)
{
    return decimal_canon(text, len, f->precision, f->scale, out, cap);
}

/* A JSON integer is exact (jansson keeps it as an integer); any other number
 * has been through a double already, so only strings carry fractions. */
static bool dec_from_json(const kura_field *f, const json_t *v, void *m, kura_error *err)
{
    if (json_is_integer(v)) {
        char text[32], tmp[64];
        snprintf(text, sizeof text, "%lld", (long long)json_integer_value(v));
        if (!decimal_canon(text, strlen(text), f->precision, f->scale, tmp, sizeof tmp) ||
            strlen(tmp) >= f->size)
            return kura_fail(err, KURA_VALIDATION, f->name, "%s does not fit DECIMAL(%d,%d)",
                             f->name, f->precision, f->scale);
        memset(m, 0, f->size);
        memcpy(m, tmp, strlen(tmp));
        return true;
    }
    if (json_is_real(v))
        return kura_fail(err, KURA_VALIDATION, f->name,
                         /* short enough for kura_field_error's reason (96 bytes), where
                          * the HTTP service's 422 cut it before its point */
                         "%s must be a string such as \"12.50\" (a double is inexact)", f->name);
    if (!kura__canon_from_json(f, v, m, err))
        return kura_fail(err, KURA_VALIDATION, f->name,
                         "%s must be a decimal string with at most %d digit%s, %d after the point",
                         f->name, f->precision, kura__plural(f->precision), f->scale);
    return true;
}

static bool dec_bson(bson_t *b, const char *key, const char *s)
{
    bson_decimal128_t d;
    return bson_decimal128_from_string(s, &d) && bson_append_decimal128(b, key, -1, &d);
}

static bool dec_to_bson(bson_t *b, const char *key, const kura_field *f, const void *m,
                        kura_error *err)
{
    const char *s = m;
    if (!s[0])
        return bson_append_null(b, key, -1);
    if (!dec_bson(b, key, s))
        return kura_fail(err, KURA_VALIDATION, f->name, "%s is not a decimal", f->name);
    return true;
}

static bool dec_value_bson(bson_t *b, const char *key, const kura_value *v)
{
    return v->kind == KURA_VALUE_STRING && dec_bson(b, key, v->as.s);
}

static bool dec_from_bson(const kura_field *f, const bson_iter_t *it, void *m, kura_error *err)
{
    char text[BSON_DECIMAL128_STRING];
    if (BSON_ITER_HOLDS_UTF8(it))
        return kura__canon_from_bson_utf8(f, it, m, err);
    if (BSON_ITER_HOLDS_INT32(it) || BSON_ITER_HOLDS_INT64(it))
        snprintf(text, sizeof text, "%lld", (long long)bson_iter_as_int64(it));
    else if (BSON_ITER_HOLDS_DECIMAL128(it)) {
        bson_decimal128_t d;
        bson_iter_decimal128(it, &d);
        bson_decimal128_to_string(&d, text); /* may use an exponent: canon reads it */
    } else
        return kura__bson_wrong_type(err, f->name, it);
    return kura__canon_from_sql(f, text, strlen(text), m, NULL, err);
}

static size_t dec_bytes(const kura_field *f, kura_buf *bound)
{
    if (bound)
        kura_buf_addf(bound, "KURA_DECIMAL_BYTES(%d)", f->precision);
    return KURA_DECIMAL_BYTES((size_t)f->precision);
}

const kura_type_info kura__type_decimal = {
    .js_type = "string",
    .js_pattern = "^-?[0-9]+(\\.[0-9]+)?$",
    .js_example = "\"1.5\"",
    KURA__CANON_ENTRY,
    .name = "decimal",
    .c_macro = "KURA_DECIMAL",
    .array_bytes = dec_bytes,
    .canon = dec_canon,
    .form = "a decimal that fits the field's precision and scale",
    .ops = KURA_OPS_ORDER,
    /* As text (SQLite, SQLite JSON) "10.00" sorts before "9.00". */
    .orders = KURA_FORM_POSTGRES | KURA_FORM_PG_JSON | KURA_FORM_BSON,
    .from_json = dec_from_json,
    .sql = {"TEXT", "NUMERIC"},
    .catalog = {NULL, "numeric"},
    .args = KURA_ARGS_DECIMAL,
    .zero_default = " DEFAULT '0'",
    .pg_json_cast = "numeric",
    .bson_alias = "decimal",
    .to_bson = dec_to_bson,
    .from_bson = dec_from_bson,
    .value_bson = dec_value_bson,
};
