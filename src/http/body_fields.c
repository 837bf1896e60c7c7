/*
 * body_fields.c — the one rule for the fields a client sends: a JSON object
 * applied to a model struct field by field, then validated as a whole, every
 * failing name gathered with its reason. The JSON collections (resource.c)
 * read request bodies with it and the admin (admin_form.c) its forms, so both
 * accept and refuse the same values with the same messages.
 */
#include <stdio.h>
#include <string.h>

#include "http/internal.h"

/* The key and the stamps of a model that has them: columns the store sets. */
static bool is_base_column(const kura_model *m, const char *name)
{
    int column = kura_column_named(m, name);
    return column != KURA_COL_NONE && column < 0;
}

void http_field_error_add(http_field_errors *e, const char *field, const char *fmt, const char *arg)
{
    if (e->n >= HTTP_MAX_FIELD_ERRORS)
        return;
    char reason[512];
    snprintf(reason, sizeof reason, fmt, arg);
    e->list[e->n].field = field;
    /* Cut on a character boundary: the reason quotes request keys, and JSON needs UTF-8. */
    kura_copy_string(e->list[e->n].reason, sizeof e->list[0].reason, reason);
    e->n++;
}

const char *http_field_error_of(const http_field_errors *e, const char *field)
{
    for (size_t i = 0; i < e->n; i++)
        if (strcmp(e->list[i].field, field) == 0)
            return e->list[i].reason;
    return NULL;
}

void http_decode_fields(const kura_model *model, json_t *json, void *obj, bool key_allowed,
                        http_field_errors *e)
{
    const char *key;
    json_t *v;
    json_object_foreach(json, key, v)
    {
        const kura_field *f = kura_field_named(model, key);
        if (!f && key_allowed && strcmp(key, kura_key_name(model)) == 0) {
            /* A key chosen by the client: its form is checked by kura_insert. */
            json_t *one = json_pack("{s:O}", key, v);
            kura_error err = {0};
            if (!one || !kura_from_json(model, one, obj, false, &err))
                http_field_error_add(e, key, "%s", one ? err.message : "the key could not be read");
            json_decref(one);
            continue;
        }
        if (!f) {
            http_field_error_add(
                e, key, is_base_column(model, key) ? "%s is set by the store" : "%s is not a field",
                key);
            continue;
        }
        /* Field by field, so that one wrong type does not hide the next. */
        json_t *one = json_pack("{s:O}", key, v);
        kura_error err = {0};
        if (!one) {
            http_field_error_add(e, f->name, "%s could not be read", key);
        } else if (!kura_from_json(model, one, obj, false, &err)) {
            http_field_error_add(e, f->name, "%s", err.message);
            e->seen[kura_field_index(model, f)] = true;
        }
        json_decref(one);
    }
    kura_field_error found[KURA_MAX_FIELDS];
    size_t nfound = kura_validate_all(model, obj, found, KURA_MAX_FIELDS);
    for (size_t i = 0; i < nfound && i < KURA_MAX_FIELDS; i++) {
        const kura_field *f = kura_field_named(model, found[i].field);
        if (f && e->seen[kura_field_index(model, f)])
            continue;
        http_field_error_add(e, found[i].field, "%s", found[i].reason);
    }
}
