/* json.c — model values to and from JSON objects (jansson). */
#include "kura/json.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "model/model_private.h"
#include "model/types.h"

/* --- encoding ------------------------------------------------------------ */

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
    return kura__type(f->type)->to_json(f, kura__cmember(obj, f));
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
            return kura__json_type_error(err, name, "an integer");
        return true;
    }
    if (json_is_null(v)) {
        base->key[0] = '\0';
        return true;
    }
    if (!json_is_string(v))
        return kura__json_type_error(err, name, "a string");
    if (json_string_length(v) >= sizeof base->key)
        return kura_fail(err, KURA_VALIDATION, name, "%s is longer than %d bytes", name,
                         KURA_KEY_BYTES - 1);
    memcpy(base->key, json_string_value(v), json_string_length(v) + 1);
    return true;
}

json_t *kura_to_json(const kura_model *model, const void *obj)
{
    if (!model || !obj)
        return NULL;
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
    for (int i = 0; i < kura__stamp_count(model); i++) {
        int column = kura__stamp_column(i);
        if (!put(o, kura_column_name(model, column), time_to_json(kura__stamp_value(base, column))))
            goto fail;
    }
    return o;
fail:
    json_decref(o);
    return NULL;
}

char *kura_to_json_string(const kura_model *model, const void *obj)
{
    if (!model || !obj)
        return NULL;
    char stack[1024];
    kura_buf b;
    kura_buf_init(&b, stack, sizeof stack);
    if (!kura__to_json_text(&b, model, obj)) {
        kura_buf_free(&b);
        return NULL;
    }
    return kura_buf_take(&b);
}

/* --- decoding ------------------------------------------------------------ */

static bool type_error(kura_error *err, const char *name, const char *expected)
{
    return kura__json_type_error(err, name, expected);
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
    if (kura__type(f->type)->owns) {
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
    if (!kura__type(f->type)->from_json(f, v, kura__member(obj, f), err))
        return false;
    kura_set_null(model, obj, f, false);
    return true;
}

/* Whether key names one of the model's timestamps; *stamp is then its member. */
static bool stamp_named(const kura_model *model, const char *key, kura_base *base,
                        kura_time **stamp)
{
    for (int i = 0; i < kura__stamp_count(model); i++) {
        int column = kura__stamp_column(i);
        if (strcmp(key, kura_column_name(model, column)) == 0) {
            *stamp = kura__stamp_member(base, column);
            return true;
        }
    }
    return false;
}

bool kura_from_json(const kura_model *model, const json_t *json, void *obj, bool ignore_unknown,
                    kura_error *err)
{
    if (!json_is_object(json))
        return kura_fail(err, KURA_INVALID, NULL, "expected a JSON object");
    kura_base *base = obj;
    kura_time *stamp;
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
        } else if (stamp_named(model, key, base, &stamp)) {
            if (!time_value(key, v, stamp, err))
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
    if (!text)
        return kura_fail(err, KURA_INVALID, NULL, "NULL JSON text");
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

/* --- stored JSON text --------------------------------------------------- */

/* Integers from -2^53 to 2^53: exactly a double, and exactly an int64. */
#define EXACT_INT 9007199254740992.0

/* A real that is a whole number jansson holds exactly as an integer. */
static bool whole(const json_t *v)
{
    return json_is_real(v) && fabs(json_real_value(v)) <= EXACT_INT &&
           json_real_value(v) == trunc(json_real_value(v));
}

/* Reals read in place of integers back into integers (see kura__json_load_object);
 * replacing a value keeps jansson's iteration valid. */
static void reals_to_ints(json_t *v)
{
    const char *k;
    json_t *item;
    size_t i;
    json_object_foreach(v, k, item)
    {
        if (whole(item))
            json_object_set_new(v, k, json_integer((json_int_t)json_real_value(item)));
        else
            reals_to_ints(item);
    }
    json_array_foreach(v, i, item)
    {
        if (whole(item))
            json_array_set_new(v, i, json_integer((json_int_t)json_real_value(item)));
        else
            reals_to_ints(item);
    }
}

/*
 * A stored JSON object's text as jansson holds it. jansson refuses a whole
 * text holding an integer beyond int64, which JSON allows and databases
 * write (another program's 123456789012345678901234567890; PostgreSQL writes
 * a double such as 1e20 as its digits): such a text is read with its numbers
 * as reals, the nearest doubles, then those of them that are whole numbers
 * jansson holds exactly go back to integers, so the document's other keys
 * read as they are.
 */
json_t *kura__json_load_object(const char *text)
{
    json_t *o = json_loads(text, 0, NULL);
    if (!o) {
        o = json_loads(text, JSON_DECODE_INT_AS_REAL, NULL);
        reals_to_ints(o);
    }
    if (!json_is_object(o)) {
        json_decref(o);
        return NULL;
    }
    return o;
}
