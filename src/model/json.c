/* json.c — model values to and from JSON objects (jansson). */
#include "kura/json.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "model/model_private.h"

/* --- encoding ------------------------------------------------------------ */

static bool type_error(kura_error *err, const char *name, const char *expected);

static json_t *time_to_json(kura_time t)
{
    if (t == 0)
        return json_null();
    char text[28];
    kura_time_format_iso(t, text);
    return json_string(text);
}

/* NULL only for invalid UTF-8 or out of memory. */
static json_t *field_to_json(const kura_model *model, const void *obj, const kura_field *f)
{
    if (kura_is_null(model, obj, f))
        return json_null();
    const void *m = kura__cmember(obj, f);
    switch (f->type) {
    case KURA_TYPE_INT32:
        return json_integer(*(const int32_t *)m);
    case KURA_TYPE_INT64:
        return json_integer(*(const int64_t *)m);
    case KURA_TYPE_DOUBLE: {
        double v = *(const double *)m;
        /* JSON has no NaN or infinity; null is what JSON.stringify writes too. */
        return isfinite(v) ? json_real(v) : json_null();
    }
    case KURA_TYPE_BOOL:
        return json_boolean(*(const bool *)m);
    case KURA_TYPE_STRING:
    case KURA_TYPE_EMAIL:
        /* strnlen: an unterminated member is cut at its size, not read past. */
        return json_stringn(m, strnlen(m, f->size));
    case KURA_TYPE_TEXT: {
        const char *s = *(char *const *)m;
        return json_string(s ? s : "");
    }
    case KURA_TYPE_DATETIME:
        return time_to_json(*(const kura_time *)m);
    case KURA_TYPE_TAGS:
        return kura__tags_to_json(m);
    }
    return NULL;
}

json_t *kura__tags_to_json(const kura_tags *tags)
{
    json_t *a = json_array();
    for (uint32_t i = 0; a && i < tags->count && i < KURA_TAGS_MAX; i++) {
        const char *s = tags->items[i];
        if (json_array_append_new(a, json_stringn(s, strnlen(s, sizeof tags->items[i]))) != 0) {
            json_decref(a); /* invalid UTF-8 (json_stringn refuses it) or no memory */
            return NULL;
        }
    }
    return a;
}

bool kura__tags_from_json(const kura_field *f, const json_t *v, kura_tags *out, kura_error *err)
{
    if (!json_is_array(v))
        return type_error(err, f->name, "an array of strings");
    if (json_array_size(v) > KURA_TAGS_MAX)
        return kura_fail(err, KURA_VALIDATION, f->name, "%s has more than %d tags", f->name,
                         KURA_TAGS_MAX);
    kura_tags t;
    memset(&t, 0, sizeof t);
    size_t i;
    json_t *item;
    json_array_foreach(v, i, item)
    {
        if (!json_is_string(item))
            return type_error(err, f->name, "an array of strings");
        size_t len = json_string_length(item);
        if (len >= sizeof t.items[0] || memchr(json_string_value(item), '\0', len))
            return kura_fail(err, KURA_VALIDATION, f->name, "%s: tag %zu is too long", f->name, i);
        memcpy(t.items[i], json_string_value(item), len);
        t.count++;
    }
    *out = t;
    return true;
}

/* Takes the reference to value (json_object_set_new), also on failure. */
static bool put(json_t *o, const char *key, json_t *value)
{
    return value != NULL && json_object_set_new(o, key, value) == 0;
}

/* The key: an integer for int64 keys, a string for the others ("" and 0 are
 * null: not stored yet). */
static json_t *key_to_json(const kura_model *model, const kura_base *base)
{
    if (model->key == KURA_KEY_INT64)
        return json_integer(base->id);
    if (base->key[0] == '\0')
        return json_null();
    return json_stringn(base->key, strnlen(base->key, sizeof base->key));
}

static bool key_from_json(const kura_model *model, const char *name, json_t *v, kura_base *base,
                          kura_error *err)
{
    if (model->key == KURA_KEY_INT64) {
        if (json_is_null(v))
            base->id = 0;
        else if (json_is_integer(v))
            base->id = json_integer_value(v);
        else
            return type_error(err, name, "an integer");
        return true;
    }
    if (json_is_null(v)) {
        base->key[0] = '\0';
        return true;
    }
    if (!json_is_string(v))
        return type_error(err, name, "a string");
    if (json_string_length(v) >= sizeof base->key)
        return kura_fail(err, KURA_VALIDATION, name, "%s is longer than %d bytes", name,
                         KURA_KEY_BYTES - 1);
    memcpy(base->key, json_string_value(v), json_string_length(v) + 1);
    return true;
}

json_t *kura_to_json(const kura_model *model, const void *obj)
{
    const kura_base *base = obj;
    json_t *o = json_object();
    if (o == NULL)
        return NULL;
    if (!put(o, kura_key_name(model), key_to_json(model, base)))
        goto fail;
    for (size_t i = 0; i < model->nfields; i++) {
        const kura_field *f = &model->fields[i];
        if (!put(o, f->name, field_to_json(model, obj, f)))
            goto fail;
    }
    if (!put(o, "created_at", time_to_json(base->created_at)) ||
        !put(o, "updated_at", time_to_json(base->updated_at)))
        goto fail;
    return o;
fail:
    json_decref(o);
    return NULL;
}

char *kura_to_json_string(const kura_model *model, const void *obj)
{
    json_t *o = kura_to_json(model, obj);
    if (o == NULL)
        return NULL;
    char *text = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    return text;
}

/* --- decoding ------------------------------------------------------------ */

static bool type_error(kura_error *err, const char *name, const char *expected)
{
    return kura_fail(err, KURA_VALIDATION, name, "%s must be %s", name, expected);
}

/*
 * The string in v, checked for what a member can hold: no embedded NUL (C
 * strings would silently cut it), valid UTF-8 (a json_t built with
 * json_stringn_nocheck is not checked by jansson), at most max_chars characters.
 */
static const char *string_value(const kura_field *f, const json_t *v, size_t *len, kura_error *err)
{
    if (!json_is_string(v)) {
        type_error(err, f->name, "a string");
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
        kura_fail(err, KURA_VALIDATION, f->name, "%s is longer than %d characters", f->name,
                  f->max_chars);
        return NULL;
    }
    return s;
}

static bool time_value(const char *name, const json_t *v, kura_time *out, kura_error *err)
{
    if (json_is_null(v)) {
        *out = 0;
        return true;
    }
    if (!json_is_string(v) || !kura_time_parse(json_string_value(v), out))
        return type_error(err, name, "a date-time string (YYYY-MM-DDTHH:MM:SS[.ffffff][Z])");
    return true;
}

/* A JSON null: the NULL marker, and a zero member so nothing stale is left behind. */
static void set_field_null(const kura_model *model, void *obj, const kura_field *f)
{
    void *m = kura__member(obj, f);
    if (f->type == KURA_TYPE_TEXT) {
        free(*(char **)m);
        *(char **)m = NULL;
    } else {
        memset(m, 0, f->size);
    }
    kura_set_null(model, obj, f, true);
}

static bool field_from_json(const kura_model *model, void *obj, const kura_field *f,
                            const json_t *v, kura_error *err)
{
    if (json_is_null(v)) {
        set_field_null(model, obj, f);
        return true;
    }
    void *m = kura__member(obj, f);
    switch (f->type) {
    case KURA_TYPE_INT32: {
        if (!json_is_integer(v))
            return type_error(err, f->name, "an integer");
        json_int_t n = json_integer_value(v);
        if (n < INT32_MIN || n > INT32_MAX)
            return kura_fail(err, KURA_VALIDATION, f->name,
                             "%s is out of range for a 32-bit integer", f->name);
        *(int32_t *)m = (int32_t)n;
        break;
    }
    case KURA_TYPE_INT64:
        if (!json_is_integer(v))
            return type_error(err, f->name, "an integer");
        *(int64_t *)m = json_integer_value(v);
        break;
    case KURA_TYPE_DOUBLE:
        if (!json_is_number(v))
            return type_error(err, f->name, "a number");
        *(double *)m = json_number_value(v);
        break;
    case KURA_TYPE_BOOL:
        if (!json_is_boolean(v))
            return type_error(err, f->name, "true or false");
        *(bool *)m = json_is_true(v);
        break;
    case KURA_TYPE_STRING:
    case KURA_TYPE_EMAIL: {
        size_t len;
        const char *s = string_value(f, v, &len, err);
        if (s == NULL)
            return false;
        /* max_chars fits the member by construction (KURA_STRING checks it), but a
         * hand-written descriptor may not: the byte bound is checked on its own. */
        if (len >= f->size)
            return kura_fail(err, KURA_VALIDATION, f->name, "%s is too long (%zu bytes)", f->name,
                             len);
        memset(m, 0, f->size);
        memcpy(m, s, len);
        break;
    }
    case KURA_TYPE_TEXT: {
        size_t len;
        const char *s = string_value(f, v, &len, err);
        if (s == NULL)
            return false;
        if (!kura_set_text(m, s))
            return kura_fail(err, KURA_NOMEM, f->name, "out of memory reading %s", f->name);
        break;
    }
    case KURA_TYPE_DATETIME:
        if (!time_value(f->name, v, m, err))
            return false;
        break;
    case KURA_TYPE_TAGS:
        if (!kura__tags_from_json(f, v, m, err))
            return false;
        break;
    }
    kura_set_null(model, obj, f, false);
    return true;
}

bool kura_from_json(const kura_model *model, const json_t *json, void *obj, bool ignore_unknown,
                    kura_error *err)
{
    if (!json_is_object(json))
        return kura_fail(err, KURA_INVALID, NULL, "expected a JSON object");
    kura_base *base = obj;
    const char *key;
    json_t *v;
    /* json_object_foreach wants a non-const object; it does not modify it. */
    json_object_foreach((json_t *)json, key, v)
    {
        const kura_field *f = kura_field_named(model, key);
        if (f != NULL) {
            if (!field_from_json(model, obj, f, v, err))
                return false;
        } else if (strcmp(key, kura_key_name(model)) == 0) {
            if (!key_from_json(model, key, v, base, err))
                return false;
        } else if (strcmp(key, "created_at") == 0) {
            if (!time_value(key, v, &base->created_at, err))
                return false;
        } else if (strcmp(key, "updated_at") == 0) {
            if (!time_value(key, v, &base->updated_at, err))
                return false;
        } else if (!ignore_unknown) {
            return kura_fail(err, KURA_INVALID, key, "unknown key \"%s\"", key);
        }
    }
    return true;
}

bool kura_from_json_string(const kura_model *model, const char *text, size_t len, void *obj,
                           bool ignore_unknown, kura_error *err)
{
    json_error_t jerr;
    /* Duplicate keys are rejected: which one wins would be the parser's accident. */
    json_t *json = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
    if (json == NULL)
        return kura_fail(err, KURA_INVALID, NULL, "invalid JSON at line %d, column %d: %s",
                         jerr.line, jerr.column, jerr.text);
    bool ok = kura_from_json(model, json, obj, ignore_unknown, err);
    json_decref(json);
    return ok;
}
