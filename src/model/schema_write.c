/*
 * schema_write.c — models into a schema file (the inverse of schema_load.c).
 *
 * The layout of the text is fixed by hand (one field per line) so that a
 * written schema reads well and diffs well; each value is encoded by jansson.
 */
#include "model/model_private.h"
#include "model/schema_private.h"
#include "model/types.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"

/* Appends v as compact-but-spaced JSON and drops the reference. */
static void add_json_flags(kura_buf *b, json_t *v, size_t flags)
{
    char *s = v ? json_dumps(v, JSON_ENCODE_ANY | JSON_PRESERVE_ORDER | flags) : NULL;
    json_decref(v);
    if (!s) {
        b->oom = true;
        return;
    }
    kura_buf_add(b, s);
    free(s);
}

static void add_json(kura_buf *b, json_t *v)
{
    add_json_flags(b, v, 0);
}

/* The fewest significant digits that read back as d (0.1, not 0.10000000000000001). */
static int shortest_digits(double d)
{
    char text[40];
    for (int p = 1; p < 17; p++) {
        snprintf(text, sizeof text, "%.*g", p, d);
        if (strtod(text, NULL) == d)
            return p;
    }
    return 17;
}

/* A NULL-terminated list of strings (choices, unique_with) as a JSON array. */
static json_t *string_array(const char *const *list)
{
    json_t *a = json_array();
    for (const char *const *c = list; *c; c++)
        json_array_append_new(a, json_string(*c));
    return a;
}

static json_t *field_json(const kura_field *f)
{
    const kura_type_info *ti = kura__type(f->type);
    json_t *o = json_object();
    if (!o)
        return NULL;
    json_object_set_new(o, "name", json_string(f->name));
    json_object_set_new(o, "type", json_string(ti->name));
    if (ti->args == KURA_ARGS_CHARS || (ti->chars_limit && f->max_chars > 0))
        json_object_set_new(o, "max_chars", json_integer(f->max_chars));
    if (ti->args == KURA_ARGS_DECIMAL) {
        json_object_set_new(o, "precision", json_integer(f->precision));
        json_object_set_new(o, "scale", json_integer(f->scale));
    }
    if (f->index)
        json_object_set_new(o, "index", json_true());
    if (f->unique)
        json_object_set_new(o, "unique", json_true());
    if (f->required)
        json_object_set_new(o, "required", json_true());
    if (f->choices && ti->choices)
        json_object_set_new(o, "choices", string_array(f->choices));
    if (f->unique_with)
        json_object_set_new(o, "unique_with", string_array(f->unique_with));
    if (f->has_range && ti->range && f->min != INT64_MIN)
        json_object_set_new(o, "min", json_integer(f->min));
    if (f->has_range && ti->range && f->max != INT64_MAX)
        json_object_set_new(o, "max", json_integer(f->max));
    json_t *d = kura__default_to_json(f);
    if (d)
        json_object_set_new(o, "default", d);
    if (f->references && f->references->name) {
        json_object_set_new(o, "references", json_string(f->references->name));
        if (f->on_delete != KURA_ON_DELETE_RESTRICT && kura__on_delete_name(f->on_delete))
            json_object_set_new(o, "on_delete", json_string(kura__on_delete_name(f->on_delete)));
    }
    return o;
}

static void add_warnings(kura_buf *b, const kura__strs *w, const char *indent)
{
    if (!w || w->count == 0)
        return;
    kura_buf_addf(b, ",\n%s\"warnings\": [", indent);
    for (size_t i = 0; i < w->count; i++) {
        kura_buf_addf(b, "%s\n%s  ", i ? "," : "", indent);
        add_json(b, json_string(w->items[i]));
    }
    kura_buf_addf(b, "\n%s]", indent);
}

static bool add_model(kura_buf *b, const kura_schema_entry *e, const kura__strs *warnings,
                      kura_error *err)
{
    const kura_model *m = e->model;
    for (size_t i = 0; i < m->nfields; i++)
        if (!kura_type_name(m->fields[i].type))
            return kura_fail(err, KURA_INVALID, m->fields[i].name,
                             "model %s, field %s: a type the schema format does not know", m->name,
                             m->fields[i].name);
    kura_buf_add(b, "    {\n      \"name\": ");
    add_json(b, json_string(m->name));
    kura_buf_addf(b, ",\n      \"store\": \"%s\",\n      \"path\": ",
                  e->store == KURA_SCHEMA_DOCUMENTS ? "documents" : "sql");
    if (e->path) {
        add_json(b, json_string(e->path));
    } else {
        char *path = kura__strdupf("/%s", m->name);
        add_json(b, path ? json_string(path) : NULL);
        free(path);
    }
    if (m->key != KURA_KEY_INT64) /* written only when not the default */
        kura_buf_addf(b, ",\n      \"key\": \"%s\"", kura_key_kind_name(m->key));
    if (!kura_model_has_timestamps(m)) /* written only when not the default */
        kura_buf_add(b, ",\n      \"timestamps\": false");
    kura_buf_add(b, ",\n      \"fields\": [");
    for (size_t i = 0; i < m->nfields; i++) {
        kura_buf_add(b, i ? ",\n        " : "\n        ");
        const kura_field *f = &m->fields[i];
        int digits = kura__type(f->type)->dflt == KURA_DEFAULT_DOUBLE && f->has_default
                         ? shortest_digits(f->default_double)
                         : 17;
        add_json_flags(b, field_json(f), JSON_REAL_PRECISION(digits));
    }
    kura_buf_add(b, m->nfields ? "\n      ]" : "]");
    add_warnings(b, warnings, "      ");
    kura_buf_add(b, "\n    }");
    return true;
}

static char *write_all(const kura_schema_entry *entries, size_t n, const kura__strs *const *mw,
                       const kura__strs *top, kura_error *err)
{
    char stack[4096];
    kura_buf b;
    kura_buf_init(&b, stack, sizeof stack);
    kura_buf_add(&b, "{\n  \"models\": [");
    bool ok = true;
    for (size_t i = 0; ok && i < n; i++) {
        kura_buf_add(&b, i ? ",\n" : "\n");
        ok = add_model(&b, &entries[i], mw ? mw[i] : NULL, err);
    }
    kura_buf_add(&b, n ? "\n  ]" : "]");
    add_warnings(&b, top, "  ");
    kura_buf_add(&b, "\n}\n");
    char *out = ok && !b.oom ? strdup(b.data) : NULL;
    if (ok && !out)
        kura_fail(err, KURA_NOMEM, NULL, "out of memory writing a schema");
    kura_buf_free(&b);
    return out;
}

char *kura_schema_write(const kura_schema_entry *entries, size_t n, kura_error *err)
{
    if (n && !entries) {
        kura_fail(err, KURA_INVALID, NULL, "no models to write");
        return NULL;
    }
    return write_all(entries, n, NULL, NULL, err);
}

char *kura_schema_to_string(const kura_schema *schema, kura_error *err)
{
    if (!schema) {
        kura_fail(err, KURA_INVALID, NULL, "no schema");
        return NULL;
    }
    size_t n = schema->count;
    kura_schema_entry *entries = calloc(n ? n : 1, sizeof *entries);
    const kura__strs **mw = calloc(n ? n : 1, sizeof *mw);
    char *out = NULL;
    if (!entries || !mw) {
        kura_fail(err, KURA_NOMEM, NULL, "out of memory writing a schema");
    } else {
        for (size_t i = 0; i < n; i++) {
            const kura__smodel *m = schema->models[i];
            entries[i] = (kura_schema_entry){&m->model, m->store, m->path};
            mw[i] = &m->warnings;
        }
        out = write_all(entries, n, mw, &schema->warnings, err);
    }
    free(entries);
    free(mw);
    return out;
}
