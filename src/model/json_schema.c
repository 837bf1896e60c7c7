/*
 * json_schema.c — a field's JSON value described as JSON Schema (2020-12, the
 * dialect of OpenAPI 3.1), and a valid example of it, from the table of field
 * types and the field's own options.
 */
#include <stdio.h>
#include <string.h>

#include <kura/json.h>

#include "model/types.h"

json_t *kura_field_json_schema(const kura_field *f)
{
    if (!f)
        return NULL;
    const kura_type_info *ti = kura__type(f->type);
    json_t *s = json_object();
    if (!s)
        return NULL;
    if (ti->js_type) {
        /* A field that may be NULL reads back as JSON null. */
        json_object_set_new(s, "type",
                            f->required ? json_string(ti->js_type)
                                        : json_pack("[s, s]", ti->js_type, "null"));
    }
    if (ti->js_format)
        json_object_set_new(s, "format", json_string(ti->js_format));
    if (ti->js_pattern)
        json_object_set_new(s, "pattern", json_string(ti->js_pattern));
    if (ti->args == KURA_ARGS_CHARS && f->max_chars > 0)
        json_object_set_new(s, "maxLength", json_integer(f->max_chars));
    if (f->type == KURA_TYPE_TAGS) {
        json_t *item = json_pack("{s:s, s:i}", "type", "string", "maxLength", KURA_TAG_CHARS);
        json_object_set_new(s, "items", item);
        json_object_set_new(s, "maxItems", json_integer(KURA_TAGS_MAX));
    }
    if (f->choices) {
        json_t *list = json_array();
        for (const char *const *c = f->choices; *c; c++)
            json_array_append_new(list, json_string(*c));
        if (!f->required)
            json_array_append_new(list, json_null());
        if (f->type == KURA_TYPE_TAGS)
            json_object_set_new(json_object_get(s, "items"), "enum", list);
        else
            json_object_set_new(s, "enum", list);
    }
    if (f->has_range && ti->js_type &&
        (!strcmp(ti->js_type, "integer") || !strcmp(ti->js_type, "number"))) {
        json_object_set_new(s, "minimum", json_integer(f->min));
        json_object_set_new(s, "maximum", json_integer(f->max));
    }
    if (f->has_default && ti->js_example) {
        json_t *d = NULL;
        if (f->default_string)
            d = json_string(f->default_string);
        else if (f->type == KURA_TYPE_BOOL)
            d = json_boolean(f->default_int);
        else if (f->type == KURA_TYPE_DOUBLE)
            d = json_real(f->default_double);
        else if (f->type == KURA_TYPE_INT32 || f->type == KURA_TYPE_INT64)
            d = json_integer(f->default_int);
        if (d)
            json_object_set_new(s, "default", d);
    }
    if (f->references && f->references->name) {
        char text[160];
        snprintf(text, sizeof text, "references %s (its %s)", f->references->name,
                 kura_key_name(f->references));
        json_object_set_new(s, "description", json_string(text));
    }
    return s;
}

json_t *kura_field_example(const kura_field *f)
{
    if (!f)
        return NULL;
    const kura_type_info *ti = kura__type(f->type);
    if (f->choices && f->choices[0])
        return f->type == KURA_TYPE_TAGS ? json_pack("[s]", f->choices[0])
                                         : json_string(f->choices[0]);
    json_t *v = json_loads(ti->js_example ? ti->js_example : "null", JSON_DECODE_ANY, NULL);
    if (json_is_integer(v) && f->has_range &&
        (json_integer_value(v) < f->min || json_integer_value(v) > f->max))
        json_integer_set(v, f->min);
    if (json_is_real(v) && f->has_range &&
        (json_real_value(v) < (double)f->min || json_real_value(v) > (double)f->max))
        json_real_set(v, (double)f->min);
    if (json_is_string(v) && ti->args == KURA_ARGS_CHARS && f->max_chars > 0 &&
        json_string_length(v) > (size_t)f->max_chars) {
        /* Too long for the field: as many of the example's characters as fit (ASCII). */
        char cut[KURA_TAG_CHARS + 32];
        snprintf(cut, sizeof cut, "%.*s", f->max_chars, json_string_value(v));
        json_string_set(v, cut);
    }
    if (f->type == KURA_TYPE_DECIMAL && f->scale == 0)
        json_string_set(v, "1");
    return v;
}
