/*
 * type_json.c — the json type: any JSON value, held as its text in a malloc'd
 * char * the struct owns. JSON null (and a NULL member) is the field's NULL.
 */
#include <stdlib.h>
#include <string.h>

#include "model/types.h"

/* Nesting deeper than this is refused when converting to and from BSON (the C
 * stack is the limit; jansson's own parser stops at 2048). */
#define MAX_DEPTH 200

static const char *text_of(const void *m)
{
    const char *s;
    memcpy(&s, m, sizeof s);
    return s;
}

/* Whether text is JSON null (or nothing): the field's NULL. */
static bool is_null_text(const char *s)
{
    if (!s)
        return true;
    s += strspn(s, " \t\r\n");
    if (strncmp(s, "null", 4) != 0)
        return false;
    s += 4;
    return s[strspn(s, " \t\r\n")] == '\0';
}

static json_t *parse(const char *s, size_t len, json_error_t *jerr)
{
    return json_loadb(s, len, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, jerr);
}

static bool json_fit(const kura_field *f, kura_value *v)
{
    (void)f, (void)v;
    return false; /* a JSON value has no order or text equality to query */
}

static bool json_parse_param(const kura_field *f, const char *text, kura_value *out, char *s,
                             size_t n)
{
    (void)f, (void)text, (void)out, (void)s, (void)n;
    return false;
}

static void json_init(const kura_field *f, void *m)
{
    /* kura_init cannot fail; out of memory leaves NULL, the field's NULL. */
    char *s = f->default_string ? strdup(f->default_string) : NULL;
    memcpy(m, &s, sizeof s);
}

static bool json_check(const kura_field *f, const void *m, kura_reason r)
{
    const char *s = text_of(m);
    if (is_null_text(s))
        return f->required ? kura__reason(r, "is required") : true;
    json_error_t jerr;
    json_t *v = parse(s, strlen(s), &jerr);
    if (!v)
        return kura__reason(r, "is not valid JSON: %s at column %d", jerr.text, jerr.column);
    json_decref(v);
    return true;
}

static kura_value json_value(const kura_field *f, const void *m)
{
    (void)f;
    const char *s = text_of(m);
    return is_null_text(s) ? KURA_VNULL : KURA_VSTR(s);
}

static bool json_from_value(const kura_field *f, const kura_value *v, void *m, kura_error *err)
{
    (void)f, (void)err;
    if (v->kind != KURA_VALUE_STRING || !v->as.s)
        return false;
    memcpy(m, &v->as.s, sizeof v->as.s); /* borrowed: see types.h */
    return true;
}

static json_t *json_to_json(const kura_field *f, const void *m)
{
    (void)f;
    const char *s = text_of(m);
    if (is_null_text(s))
        return json_null();
    return parse(s, strlen(s), NULL); /* NULL for text validation would have refused */
}

static bool json_from_json(const kura_field *f, const json_t *v, void *m, kura_error *err)
{
    char *text = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
    if (!text)
        return kura_fail(err, KURA_NOMEM, f->name, "out of memory reading %s", f->name);
    char *old;
    memcpy(&old, m, sizeof old);
    free(old);
    memcpy(m, &text, sizeof text);
    return true;
}

static json_t *json_value_json(const kura_value *v)
{
    if (v->kind != KURA_VALUE_STRING || !v->as.s)
        return json_null();
    return parse(v->as.s, strlen(v->as.s), NULL);
}

static void json_default(kura_buf *b, const kura_field *f)
{
    if (!f->default_string)
        return;
    kura_buf_add(b, " DEFAULT '");
    for (const char *c = f->default_string; *c; c++) {
        if (*c == '\'')
            kura_buf_addn(b, c, 1); /* a quote is doubled inside a literal */
        kura_buf_addn(b, c, 1);
    }
    kura_buf_add(b, "'");
}

static bool json_from_sql(const kura_field *f, const char *txt, size_t len, void *m,
                          kura_time_memo *memo, kura_error *err)
{
    if (txt && len == 4 && memcmp(txt, "null", 4) == 0)
        txt = NULL; /* JSON null is the field's NULL */
    return kura__text_from_sql(f, txt, len, m, memo, err);
}

/* ---- BSON ------------------------------------------------------------------------ */

static bool append_json(bson_t *b, const char *key, const json_t *v, int depth)
{
    if (depth > MAX_DEPTH)
        return false;
    switch (json_typeof(v)) {
    case JSON_OBJECT: {
        bson_t child;
        const char *k;
        json_t *item;
        bool ok = bson_append_document_begin(b, key, -1, &child);
        json_object_foreach((json_t *)v, k, item)
        {
            if (!ok)
                break;
            ok = append_json(&child, k, item, depth + 1);
        }
        return bson_append_document_end(b, &child) && ok;
    }
    case JSON_ARRAY: {
        bson_t child;
        bool ok = bson_append_array_begin(b, key, -1, &child);
        for (size_t i = 0; ok && i < json_array_size(v); i++) {
            char idx[16];
            const char *ikey;
            bson_uint32_to_string((uint32_t)i, &ikey, idx, sizeof idx);
            ok = append_json(&child, ikey, json_array_get(v, i), depth + 1);
        }
        return bson_append_array_end(b, &child) && ok;
    }
    case JSON_STRING:
        return bson_append_utf8(b, key, -1, json_string_value(v), (int)json_string_length(v));
    case JSON_INTEGER: {
        json_int_t i = json_integer_value(v);
        if (i >= INT32_MIN && i <= INT32_MAX)
            return bson_append_int32(b, key, -1, (int32_t)i);
        return bson_append_int64(b, key, -1, i);
    }
    case JSON_REAL:
        return bson_append_double(b, key, -1, json_real_value(v));
    case JSON_TRUE:
    case JSON_FALSE:
        return bson_append_bool(b, key, -1, json_is_true(v));
    case JSON_NULL:
        return bson_append_null(b, key, -1);
    }
    return false;
}

static json_t *iter_json(const bson_iter_t *it, int depth);

/* The members of a document or array element as a JSON object or array. */
static json_t *container_json(const bson_iter_t *it, bool array, int depth)
{
    bson_iter_t child;
    json_t *out = array ? json_array() : json_object();
    if (!out || !bson_iter_recurse(it, &child)) {
        json_decref(out);
        return NULL;
    }
    while (bson_iter_next(&child)) {
        json_t *v = iter_json(&child, depth + 1);
        int rc = !v      ? -1
                 : array ? json_array_append_new(out, v)
                         : json_object_set_new(out, bson_iter_key(&child), v);
        if (rc != 0) {
            json_decref(out);
            return NULL;
        }
    }
    return out;
}

/* NULL for a BSON type JSON has no word for (dates, ObjectIds, binary ...). */
static json_t *iter_json(const bson_iter_t *it, int depth)
{
    if (depth > MAX_DEPTH)
        return NULL;
    switch (bson_iter_type(it)) {
    case BSON_TYPE_DOCUMENT:
        return container_json(it, false, depth);
    case BSON_TYPE_ARRAY:
        return container_json(it, true, depth);
    case BSON_TYPE_UTF8: {
        uint32_t len;
        const char *s = bson_iter_utf8(it, &len);
        return json_stringn(s, len);
    }
    case BSON_TYPE_INT32:
        return json_integer(bson_iter_int32(it));
    case BSON_TYPE_INT64:
        return json_integer(bson_iter_int64(it));
    case BSON_TYPE_DOUBLE:
        return json_real(bson_iter_double(it));
    case BSON_TYPE_BOOL:
        return json_boolean(bson_iter_bool(it));
    case BSON_TYPE_NULL:
        return json_null();
    default:
        return NULL;
    }
}

static bool json_to_bson(bson_t *b, const char *key, const kura_field *f, const void *m,
                         kura_error *err)
{
    const char *s = text_of(m);
    if (is_null_text(s))
        return bson_append_null(b, key, -1);
    json_t *v = parse(s, strlen(s), NULL);
    bool ok = v && append_json(b, key, v, 0);
    json_decref(v);
    if (!ok)
        return kura_fail(err, KURA_VALIDATION, f->name, "%s: cannot encode the JSON as BSON",
                         f->name);
    return true;
}

static bool json_value_bson(bson_t *b, const char *key, const kura_value *v)
{
    if (v->kind != KURA_VALUE_STRING || !v->as.s)
        return false;
    json_t *j = parse(v->as.s, strlen(v->as.s), NULL);
    bool ok = j && append_json(b, key, j, 0);
    json_decref(j);
    return ok;
}

static bool json_from_bson(const kura_field *f, const bson_iter_t *it, void *m, kura_error *err)
{
    json_t *v = iter_json(it, 0);
    if (!v)
        return kura_fail(err, KURA_MISFIT, f->name,
                         "%s: stored value has a BSON type JSON cannot hold", f->name);
    bool ok = json_from_json(f, v, m, err);
    json_decref(v);
    return ok;
}

const kura_type_info kura__type_json = {
    .js_example = "{\"any\": [\"JSON\", 1, true]}",
    .name = "json",
    .size = sizeof(char *),
    .align = _Alignof(char *),
    .c_type = "char *",
    .c_macro = "KURA_JSON",
    .dflt = KURA_DEFAULT_STRING,
    .owns = true,
    .ops = 0,
    .orders = 0,
    .fit = json_fit,
    .parse = json_parse_param,
    .init = json_init,
    .check = json_check,
    .value = json_value,
    .from_value = json_from_value,
    .to_json = json_to_json,
    .from_json = json_from_json,
    .value_json = json_value_json,
    .sql = {"TEXT", "JSONB"},
    .catalog = {NULL, "jsonb"},
    .zero_default = " DEFAULT '{}'",
    .ddl_default = json_default,
    .sql_read = KURA_SQL_READ_TEXT,
    .sql_text_len = true,
    .from_sql_text = json_from_sql,
    .json_raw = true,
    .bson_alias = "object",
    .to_bson = json_to_bson,
    .from_bson = json_from_bson,
    .value_bson = json_value_bson,
};
