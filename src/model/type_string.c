/* type_string.c — the string types: string and email (char arrays), text (char *). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/model_private.h"
#include "model/types.h"

/* ---- validation ------------------------------------------------------------------ */

bool kura__check_choices(const kura_field *f, const char *s, kura_reason r)
{
    /* The first byte first: most choices differ there, and it costs no call. */
    for (const char *const *c = f->choices; *c != NULL; c++)
        if ((*c)[0] == s[0] && strcmp(*c, s) == 0)
            return true;
    /* Lists the choices as far as they fit; snprintf stops at the buffer's end. */
    size_t used = (size_t)snprintf(r.buf, r.cap, "must be one of: ");
    for (const char *const *c = f->choices; *c != NULL && used < r.cap; c++)
        used +=
            (size_t)snprintf(r.buf + used, r.cap - used, "%s%s", c == f->choices ? "" : ", ", *c);
    return false;
}

/* s is NUL-terminated at s[len] and has `chars` characters (negative: not
 * valid UTF-8). */
static bool check_text(const kura_field *f, const char *s, size_t len, long chars, kura_reason r)
{
    if (chars < 0)
        return kura__reason(r, "is not valid UTF-8");
    if (f->max_chars > 0 && chars > f->max_chars)
        return kura__reason(r, "is longer than %d character%s", f->max_chars,
                            kura__plural(f->max_chars));
    if (len == 0) {
        /* An optional string may be left empty whatever its other constraints. */
        return f->required ? kura__reason(r, "is required") : true;
    }
    if (f->type == KURA_TYPE_EMAIL && !kura_email_valid(s))
        return kura__reason(r, "is not a valid e-mail address");
    if (f->choices != NULL && !kura__check_choices(f, s, r))
        return false;
    return true;
}

/*
 * The string in v, checked for what a member can hold: no embedded NUL (C
 * strings would silently cut it), valid UTF-8 (a json_t built with
 * json_stringn_nocheck is not checked by jansson), at most max_chars characters.
 */
static const char *json_text(const kura_field *f, const json_t *v, size_t *len, kura_error *err)
{
    if (!json_is_string(v)) {
        kura__json_type_error(err, f->name, "a string");
        return NULL;
    }
    const char *s = json_string_value(v);
    *len = json_string_length(v);
    if (memchr(s, '\0', *len) != NULL) {
        kura_fail(err, KURA_VALIDATION, f->name, "%s contains a NUL character", f->name);
        return NULL;
    }
    long chars = kura_utf8_chars(s, *len);
    if (chars < 0) {
        kura_fail(err, KURA_VALIDATION, f->name, "%s is not valid UTF-8", f->name);
        return NULL;
    }
    if (f->max_chars > 0 && chars > f->max_chars) {
        kura_fail(err, KURA_VALIDATION, f->name, "%s is longer than %d character%s", f->name,
                  f->max_chars, kura__plural(f->max_chars));
        return NULL;
    }
    return s;
}

static bool str_fit(const kura_field *f, kura_value *v)
{
    (void)f;
    return v->kind == KURA_VALUE_STRING && v->as.s != NULL;
}

static bool str_parse(const kura_field *f, const char *text, kura_value *out, char *s, size_t n)
{
    (void)f, (void)s, (void)n;
    *out = KURA_VSTR(text); /* borrowed: the caller keeps text for the query's life */
    return true;
}

/* A default as a quoted literal: a quote is doubled inside it. */
static void str_default(kura_buf *b, const kura_field *f)
{
    if (!f->default_string)
        return;
    kura_buf_add(b, " DEFAULT '");
    for (const char *c = f->default_string; *c; c++) {
        if (*c == '\'')
            kura_buf_addn(b, c, 1);
        kura_buf_addn(b, c, 1);
    }
    kura_buf_add(b, "'");
}

static bool bson_utf8(bson_t *b, const char *key, const kura_field *f, const char *s, size_t len,
                      kura_error *err)
{
    if (!bson_utf8_validate(s, len, false))
        return kura_fail(err, KURA_VALIDATION, f->name, "%s is not valid UTF-8", f->name);
    return bson_append_utf8(b, key, -1, s, (int)len);
}

static const char *bson_text(const kura_field *f, const bson_iter_t *it, uint32_t *len,
                             kura_error *err)
{
    if (!BSON_ITER_HOLDS_UTF8(it)) {
        kura__bson_wrong_type(err, f->name, it);
        return NULL;
    }
    const char *s = bson_iter_utf8(it, len);
    if (memchr(s, '\0', *len)) {
        kura_fail(err, KURA_MISFIT, f->name, "%s: stored value contains NUL", f->name);
        return NULL;
    }
    return s;
}

/* ---- string and email: char[size] ------------------------------------------------ */

static size_t str_bytes(const kura_field *f, kura_buf *bound)
{
    if (bound)
        kura_buf_addf(bound, "KURA_STRING_BYTES(%d)", f->max_chars);
    return KURA_STRING_BYTES((size_t)f->max_chars);
}

static void arr_init(const kura_field *f, void *m)
{
    if (f->default_string)
        kura_copy_string(m, f->size, f->default_string);
}

static bool arr_check(const kura_field *f, const void *m, kura_reason r)
{
    /* A member filled with memcpy may lack its NUL; never read past it. */
    size_t len;
    long chars = kura__utf8_array_chars(m, f->size, &len);
    if (chars == -2)
        return kura__reason(r, "is not NUL-terminated");
    return check_text(f, m, len, chars, r);
}

static kura_value arr_value(const kura_field *f, const void *m)
{
    (void)f;
    return KURA_VSTR(m);
}

static bool arr_from_value(const kura_field *f, const kura_value *v, void *m, kura_error *err)
{
    if (v->kind != KURA_VALUE_STRING || !v->as.s)
        return false;
    size_t len = strlen(v->as.s);
    if (len >= f->size)
        return kura_fail(err, KURA_VALIDATION, f->name, "%s is longer than %d character%s", f->name,
                         f->max_chars, kura__plural(f->max_chars));
    memcpy(m, v->as.s, len + 1);
    return true;
}

static bool arr_json_text(kura_buf *b, const kura_field *f, const void *m)
{
    return kura__json_string(b, m, strnlen(m, f->size));
}

static json_t *arr_to_json(const kura_field *f, const void *m)
{
    /* strnlen: an unterminated member is cut at its size, not read past. */
    return json_stringn(m, strnlen(m, f->size));
}

static bool arr_from_json(const kura_field *f, const json_t *v, void *m, kura_error *err)
{
    size_t len;
    const char *s = json_text(f, v, &len, err);
    if (s == NULL)
        return false;
    /* max_chars fits the member by construction (KURA_STRING checks it), but a
     * hand-written descriptor may not: the byte bound is checked on its own. */
    if (len >= f->size)
        return kura_fail(err, KURA_VALIDATION, f->name, "%s is too long (%zu bytes)", f->name, len);
    memset(m, 0, f->size);
    memcpy(m, s, len);
    return true;
}

static bool arr_from_sql(const kura_field *f, const char *txt, size_t len, void *m,
                         kura_time_memo *memo, kura_error *err)
{
    (void)memo;
    char *p = m;
    if (!txt)
        len = 0;
    else if (len >= f->size)
        return kura_fail(err, KURA_MISFIT, f->name,
                         "%s: stored value of %zu bytes does not fit the field", f->name, len);
    if (len)
        memcpy(p, txt, len);
    p[len] = '\0';
    return true;
}

static bool arr_to_bson(bson_t *b, const char *key, const kura_field *f, const void *m,
                        kura_error *err)
{
    return bson_utf8(b, key, f, m, strnlen(m, f->size), err);
}

static bool arr_from_bson(const kura_field *f, const bson_iter_t *it, void *m, kura_error *err)
{
    uint32_t len;
    const char *s = bson_text(f, it, &len, err);
    if (!s)
        return false;
    if ((size_t)len >= f->size)
        return kura_fail(err, KURA_MISFIT, f->name,
                         "%s: stored value of %u bytes does not fit the field", f->name, len);
    memcpy(m, s, len);
    ((char *)m)[len] = '\0';
    return true;
}

#define KURA__STRING_ENTRY(type_name, macro)                                                       \
    .name = (type_name), .size = 0, .align = 1, .c_type = "char", .c_macro = (macro),              \
    .array_bytes = str_bytes, .chars_limit = KURA__MAX_CHARS, .choices = true,                     \
    .dflt = KURA_DEFAULT_STRING, .ops = KURA_OPS_TEXT, .orders = KURA_FORM_ALL, .fit = str_fit,    \
    .parse = str_parse, .init = arr_init, .check = arr_check, .value = arr_value,                  \
    .from_value = arr_from_value, .to_json = arr_to_json, .json_text = arr_json_text,              \
    .from_json = arr_from_json, .sql = {"VARCHAR", "VARCHAR"},                                     \
    .catalog = {NULL, "character varying"}, .args = KURA_ARGS_CHARS,                               \
    .zero_default = " DEFAULT ''", .ddl_default = str_default, .sql_read = KURA_SQL_READ_TEXT,     \
    .sql_text_len = true, .from_sql_text = arr_from_sql, .bson_alias = "string",                   \
    .to_bson = arr_to_bson, .from_bson = arr_from_bson, .js_type = "string"

const kura_type_info kura__type_string = {KURA__STRING_ENTRY("string", "KURA_STRING"),
                                          .js_example = "\"text\""};
const kura_type_info kura__type_email = {KURA__STRING_ENTRY("email", "KURA_EMAIL"),
                                         .js_format = "email", .js_example = "\"ann@example.com\""};

/* ---- text: char *, owned --------------------------------------------------------- */

static const char *text_of(const void *m)
{
    const char *s;
    memcpy(&s, m, sizeof s);
    return s ? s : "";
}

static void text_init(const kura_field *f, void *m)
{
    /* kura_init cannot fail; out of memory leaves NULL, which reads as "". */
    char *s = f->default_string ? strdup(f->default_string) : NULL;
    memcpy(m, &s, sizeof s);
}

static bool text_check(const kura_field *f, const void *m, kura_reason r)
{
    const char *s = text_of(m);
    size_t len = strlen(s);
    return check_text(f, s, len, kura_utf8_chars(s, len), r);
}

static kura_value text_value(const kura_field *f, const void *m)
{
    (void)f;
    return KURA_VSTR(text_of(m));
}

static bool text_from_value(const kura_field *f, const kura_value *v, void *m, kura_error *err)
{
    (void)f, (void)err;
    if (v->kind != KURA_VALUE_STRING || !v->as.s)
        return false;
    memcpy(m, &v->as.s, sizeof v->as.s); /* borrowed: see types.h */
    return true;
}

static bool text_json_text(kura_buf *b, const kura_field *f, const void *m)
{
    (void)f;
    const char *s = text_of(m);
    return kura__json_string(b, s, strlen(s));
}

static json_t *text_to_json(const kura_field *f, const void *m)
{
    (void)f;
    return json_string(text_of(m));
}

static bool text_from_json(const kura_field *f, const json_t *v, void *m, kura_error *err)
{
    size_t len;
    const char *s = json_text(f, v, &len, err);
    if (s == NULL)
        return false;
    if (!kura_set_text(m, s))
        return kura_fail(err, KURA_NOMEM, f->name, "out of memory reading %s", f->name);
    return true;
}

/* Shared with the JSON type: a malloc'd copy of txt (NULL stays NULL). */
bool kura__text_from_sql(const kura_field *f, const char *txt, size_t len, void *m,
                         kura_time_memo *memo, kura_error *err)
{
    (void)memo;
    char *copy = NULL;
    if (txt) {
        copy = malloc(len + 1);
        if (!copy)
            return kura_fail(err, KURA_NOMEM, f->name, "out of memory reading %s", f->name);
        memcpy(copy, txt, len);
        copy[len] = '\0';
    }
    memcpy(m, &copy, sizeof copy);
    return true;
}

static bool text_to_bson(bson_t *b, const char *key, const kura_field *f, const void *m,
                         kura_error *err)
{
    const char *s = text_of(m);
    return bson_utf8(b, key, f, s, strlen(s), err);
}

static bool text_from_bson(const kura_field *f, const bson_iter_t *it, void *m, kura_error *err)
{
    uint32_t len;
    const char *s = bson_text(f, it, &len, err);
    if (!s)
        return false;
    char *old;
    memcpy(&old, m, sizeof old);
    if (!kura__text_from_sql(f, s, len, m, NULL, err))
        return false;
    free(old);
    return true;
}

const kura_type_info kura__type_text = {
    .js_type = "string",
    .js_example = "\"Any length of text.\"",
    .name = "text",
    .size = sizeof(char *),
    .align = _Alignof(char *),
    .c_type = "char *",
    .c_macro = "KURA_TEXT",
    .choices = true,
    .dflt = KURA_DEFAULT_STRING,
    .owns = true,
    .ops = KURA_OPS_TEXT,
    .orders = KURA_FORM_ALL,
    .fit = str_fit,
    .parse = str_parse,
    .init = text_init,
    .check = text_check,
    .value = text_value,
    .from_value = text_from_value,
    .to_json = text_to_json,
    .json_text = text_json_text,
    .from_json = text_from_json,
    .sql = {"TEXT", "TEXT"},
    .zero_default = " DEFAULT ''",
    .ddl_default = str_default,
    .sql_read = KURA_SQL_READ_TEXT,
    .sql_text_len = true,
    .from_sql_text = kura__text_from_sql,
    .bson_alias = "string",
    .to_bson = text_to_bson,
    .from_bson = text_from_bson,
};
