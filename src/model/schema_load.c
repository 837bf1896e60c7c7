/*
 * schema_load.c — a schema file (JSON, docs/schema-file.md) into runtime models.
 *
 * The file is checked whole before anything is used: unknown keys are errors
 * (a misspelt option must not be silently ignored), and every message names
 * the model and the field at fault.
 */
#include "model/schema_private.h"
#include "model/model_private.h"
#include "model/types.h"

#include <errno.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Where an error is: the model's name (or its position) and the field's. */
typedef struct where {
    char model[80];
    const char *field; /* NULL at model level */
} where;

static bool bad(kura_error *err, const where *w, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static bool bad(kura_error *err, const where *w, const char *fmt, ...)
{
    char what[200];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    if (!w)
        return kura_fail(err, KURA_CONFIG, NULL, "schema: %s", what);
    if (w->field)
        return kura_fail(err, KURA_CONFIG, w->field, "model %s, field %s: %s", w->model, w->field,
                         what);
    return kura_fail(err, KURA_CONFIG, NULL, "model %s: %s", w->model, what);
}

static bool oom(kura_error *err)
{
    return kura_fail(err, KURA_NOMEM, NULL, "out of memory loading a schema");
}

/* Every key of obj is one of the NULL-terminated `allowed`. */
static bool known_keys(const json_t *obj, const char *const *allowed, const where *w,
                       kura_error *err)
{
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)obj, key, v)
    {
        const char *const *a = allowed;
        while (*a && strcmp(*a, key) != 0)
            a++;
        if (!*a)
            return bad(err, w, "unknown key '%s'", key);
    }
    return true;
}

static bool get_bool(const json_t *obj, const char *key, bool *out, const where *w, kura_error *err)
{
    const json_t *v = json_object_get(obj, key);
    if (!v)
        return true;
    if (!json_is_boolean(v))
        return bad(err, w, "%s must be true or false", key);
    *out = json_is_true(v);
    return true;
}

static bool get_int(const json_t *obj, const char *key, bool *present, int64_t *out, const where *w,
                    kura_error *err)
{
    const json_t *v = json_object_get(obj, key);
    if (!v)
        return true;
    if (!json_is_integer(v))
        return bad(err, w, "%s must be a whole number", key);
    *present = true;
    *out = json_integer_value(v);
    return true;
}

static bool warnings(const json_t *arr, kura__strs *out, const where *w, kura_error *err)
{
    if (!arr)
        return true;
    if (!json_is_array(arr))
        return bad(err, w, "warnings must be an array of strings");
    size_t i;
    json_t *v;
    json_array_foreach(arr, i, v)
    {
        if (!json_is_string(v))
            return bad(err, w, "warnings must be an array of strings");
        if (!kura__strs_addf(out, "%s", json_string_value(v)))
            return oom(err);
    }
    return true;
}

/* The names of the types whose entry `has` a property, as a list for messages:
 * "string, email and tags". */
static void types_with(bool (*has)(const kura_type_info *), char *out, size_t cap)
{
    const char *names[KURA_TYPE_COUNT];
    size_t n = 0;
    for (unsigned t = 0; t < KURA_TYPE_COUNT; t++)
        if (has(kura__types[t]))
            names[n++] = kura__types[t]->name;
    size_t len = 0;
    out[0] = '\0';
    for (size_t i = 0; i < n && len < cap; i++)
        len += (size_t)snprintf(out + len, cap - len, "%s%s",
                                i == 0       ? ""
                                : i + 1 == n ? " and "
                                             : ", ",
                                names[i]);
}

static bool has_chars(const kura_type_info *ti)
{
    return ti->chars_limit > 0;
}
static bool has_decimal(const kura_type_info *ti)
{
    return ti->args == KURA_ARGS_DECIMAL;
}
static bool has_range(const kura_type_info *ti)
{
    return ti->range;
}
static bool has_choices(const kura_type_info *ti)
{
    return ti->choices;
}

/* "<option> applies to <the types that take it> fields only". */
static bool not_for(kura_error *err, const where *w, const char *option,
                    bool (*has)(const kura_type_info *))
{
    char list[160];
    types_with(has, list, sizeof list);
    return bad(err, w, "%s to %s fields only", option, list);
}

/* A non-empty JSON array of strings into *out, a NULL-terminated list the
 * field owns from the first allocation on (kura_schema_free frees it even
 * when this fails half-way); `what` names the option in the error. */
static bool load_strings(const json_t *v, const char *const **out, const char *what, const where *w,
                         kura_error *err)
{
    if (!json_is_array(v) || json_array_size(v) == 0)
        return bad(err, w, "%s must be a non-empty array of strings", what);
    size_t n = json_array_size(v);
    char **list = calloc(n + 1, sizeof *list);
    if (!list)
        return oom(err);
    *out = (const char *const *)list;
    for (size_t i = 0; i < n; i++) {
        const json_t *c = json_array_get(v, i);
        if (!json_is_string(c))
            return bad(err, w, "%s must be a non-empty array of strings", what);
        if (!(list[i] = strdup(json_string_value(c))))
            return oom(err);
    }
    return true;
}

static bool load_choices(kura_field *f, const json_t *v, const where *w, kura_error *err)
{
    if (!v)
        return true;
    if (!kura__type(f->type)->choices)
        return not_for(err, w, "choices apply", has_choices);
    if (!load_strings(v, &f->choices, "choices", w, err))
        return false;
    /* A choice no value can be (validation would refuse it): a slip in the file. */
    for (const char *const *c = f->choices; f->max_chars > 0 && *c; c++) {
        long chars = kura_utf8_chars(*c, strlen(*c));
        if (chars < 0 || chars > f->max_chars)
            return bad(err, w, "choice '%.40s' is %s max_chars (%d)", *c,
                       chars < 0 ? "not UTF-8, nor within" : "longer than", f->max_chars);
    }
    return true;
}

/* "unique_with": a field name or an array of them; checked against the
 * model's fields once all are loaded (load_model). */
static bool load_unique_with(kura_field *f, const json_t *v, const where *w, kura_error *err)
{
    if (!v)
        return true;
    if (!json_is_string(v))
        return load_strings(v, &f->unique_with, "unique_with", w, err);
    json_t *one = json_pack("[O]", v);
    bool ok = one ? load_strings(one, &f->unique_with, "unique_with", w, err) : oom(err);
    json_decref(one);
    return ok;
}

static bool load_default(kura_field *f, const json_t *v, const where *w, kura_error *err)
{
    if (!v)
        return true;
    kura_error e;
    kura_error_clear(&e);
    if (kura__default_from_json(f, v, &e))
        return true;
    return e.code == KURA_NOMEM ? oom(err) : bad(err, w, "%s", e.message);
}

/* max_chars, or precision and scale: the numbers the type's declaration carries. */
static bool load_args(const kura_type_info *ti, kura_field *f, const json_t *jf, const where *w,
                      kura_error *err)
{
    bool has_n = false, has_p = false, has_s = false;
    int64_t chars = 0, precision = 0, scale = 0;
    if (!get_int(jf, "max_chars", &has_n, &chars, w, err) ||
        !get_int(jf, "precision", &has_p, &precision, w, err) ||
        !get_int(jf, "scale", &has_s, &scale, w, err))
        return false;
    if (ti->args == KURA_ARGS_CHARS && !has_n)
        return bad(err, w, "a %s field needs max_chars", ti->name);
    if (has_n && !ti->chars_limit)
        return not_for(err, w, "max_chars applies", has_chars);
    if (has_n && (chars < 1 || chars > ti->chars_limit))
        return bad(err, w, "max_chars must be from 1 to %d", ti->chars_limit);
    if (ti->args == KURA_ARGS_DECIMAL && !has_p)
        return bad(err, w, "a %s field needs precision (and scale, 0 when left out)", ti->name);
    if ((has_p || has_s) && ti->args != KURA_ARGS_DECIMAL)
        return not_for(err, w, "precision and scale apply", has_decimal);
    /* What KURA_DECIMAL checks at compile time. */
    if (has_p && (precision < 1 || precision > KURA_DECIMAL_MAX_PRECISION))
        return bad(err, w, "precision must be from 1 to %d", KURA_DECIMAL_MAX_PRECISION);
    if (has_s && (scale < 0 || scale > precision))
        return bad(err, w, "scale must be from 0 to precision (%lld)", (long long)precision);
    f->max_chars = (int)chars;
    f->precision = (int)precision;
    f->scale = (int)scale;
    return true;
}

static const char *const field_keys[] = {"name",       "type",      "max_chars",   "precision",
                                         "scale",      "index",     "unique",      "required",
                                         "choices",    "min",       "max",         "default",
                                         "references", "on_delete", "unique_with", NULL};

/* "references" is resolved once every model is loaded (resolve_references);
 * here its shape, and "on_delete". */
static bool load_reference(kura_field *f, const json_t *jf, const where *w, kura_error *err)
{
    const json_t *r = json_object_get(jf, "references");
    if (r && !(json_is_string(r) && kura__schema_ident(json_string_value(r))))
        return bad(err, w, "references must be the name of a model of this schema");
    const json_t *od = json_object_get(jf, "on_delete");
    if (!od)
        return true;
    if (!r)
        return bad(err, w, "on_delete applies to a field with \"references\"");
    if (!json_is_string(od) || !kura__on_delete_from_name(json_string_value(od), &f->on_delete))
        return bad(err, w, "on_delete must be \"restrict\", \"cascade\" or \"set_null\"");
    return true;
}

static bool load_field(kura__smodel *m, const json_t *jf, size_t pos, where *w, kura_error *err)
{
    char where_field[48];
    snprintf(where_field, sizeof where_field, "#%zu", pos + 1);
    w->field = where_field;
    if (!json_is_object(jf))
        return bad(err, w, "a field must be an object");
    const json_t *jname = json_object_get(jf, "name");
    if (!json_is_string(jname))
        return bad(err, w, "a field needs a \"name\" (a string)");
    const char *name = json_string_value(jname);
    if (!kura__schema_ident(name))
        return bad(err, w, "'%.40s' is not a field name (letters, digits and _, 1 to 63)", name);
    w->field = name;
    static const char *const reserved[] = {"id", "base", "_id", NULL};
    for (const char *const *r = reserved; *r; r++)
        if (strcmp(name, *r) == 0)
            return bad(err, w, "'%s' is reserved (every model has an id in kura_base)", name);
    /* The stamps are kura_base's in a model that has them, and free names otherwise. */
    int column = kura_column_named(&m->model, name);
    if (column == KURA_COL_CREATED_AT || column == KURA_COL_UPDATED_AT)
        return bad(err, w,
                   "'%s' is reserved: the model has created_at and updated_at (\"timestamps\": "
                   "false declares a model without them)",
                   name);
    for (size_t i = 0; i < m->model.nfields; i++)
        if (strcmp(m->fields[i].name, name) == 0)
            return bad(err, w, "duplicate field");
    if (m->model.nfields >= KURA_MAX_FIELDS)
        return bad(err, w, "too many fields (at most %d per model)", KURA_MAX_FIELDS);
    if (!known_keys(jf, field_keys, w, err))
        return false;

    const json_t *jtype = json_object_get(jf, "type");
    if (!json_is_string(jtype))
        return bad(err, w, "a field needs a \"type\" (a string)");
    kura_type type;
    if (!kura_type_from_name(json_string_value(jtype), &type))
        return bad(err, w, "unknown type '%.40s'", json_string_value(jtype));
    const kura_type_info *ti = kura__type(type);

    bool has_min = false, has_max = false;
    int64_t min = INT64_MIN, max = INT64_MAX;
    if (!get_int(jf, "min", &has_min, &min, w, err) || !get_int(jf, "max", &has_max, &max, w, err))
        return false;
    if ((has_min || has_max) && !ti->range)
        return not_for(err, w, "min and max apply", has_range);
    if (min > max)
        return bad(err, w, "min (%lld) is greater than max (%lld)", (long long)min, (long long)max);
    kura_field args = {.type = type};
    if (!load_args(ti, &args, jf, w, err))
        return false;

    kura_field *f = kura__smodel_add_field(m, name, type);
    if (!f)
        return oom(err);
    w->field = f->name; /* `name` belongs to the JSON, which outlives this call anyway */
    f->max_chars = args.max_chars;
    f->precision = args.precision;
    f->scale = args.scale;
    f->has_range = has_min || has_max;
    f->min = min;
    f->max = max;
    return get_bool(jf, "index", &f->index, w, err) && get_bool(jf, "unique", &f->unique, w, err) &&
           get_bool(jf, "required", &f->required, w, err) &&
           load_choices(f, json_object_get(jf, "choices"), w, err) &&
           load_default(f, json_object_get(jf, "default"), w, err) &&
           load_reference(f, jf, w, err) &&
           load_unique_with(f, json_object_get(jf, "unique_with"), w, err);
}

/* Points each field's "references" at the model it names, now that every
 * model of the schema exists (a model may reference one declared after it,
 * or itself), and checks the field can hold that model's key. Field j of the
 * JSON is field j of the model: load_field appends them in order. */
static bool resolve_references(kura_schema *s, const json_t *models, kura_error *err)
{
    for (size_t i = 0; i < s->count; i++) {
        kura__smodel *m = s->models[i];
        const json_t *fields = json_object_get(json_array_get(models, i), "fields");
        where w = {.field = NULL};
        snprintf(w.model, sizeof w.model, "%s", m->name);
        for (size_t j = 0; j < m->model.nfields; j++) {
            const json_t *r = json_object_get(json_array_get(fields, j), "references");
            if (!r)
                continue;
            kura_field *f = &m->fields[j];
            w.field = f->name;
            const char *name = json_string_value(r);
            size_t k = 0;
            while (k < s->count && strcmp(s->models[k]->name, name) != 0)
                k++;
            if (k == s->count)
                return bad(err, &w, "references '%s', which is no model of this schema", name);
            if (m->store == KURA_SCHEMA_SQL && s->models[k]->store != KURA_SCHEMA_SQL)
                return bad(err, &w,
                           "references '%s', a documents model: a sql model's reference is a "
                           "foreign key, to a sql model",
                           name);
            f->references = &s->models[k]->model;
            kura_error why;
            if (!kura__reference_check(&m->model, f, &why))
                return bad(err, &w, "%s", why.message);
        }
    }
    return true;
}

static const char *const model_keys[] = {"name",       "store",  "path",     "key",
                                         "timestamps", "fields", "warnings", NULL};

static bool load_model(kura_schema *s, const json_t *jm, size_t pos, kura_error *err)
{
    where w = {.field = NULL};
    snprintf(w.model, sizeof w.model, "#%zu", pos + 1);
    if (!json_is_object(jm))
        return bad(err, &w, "a model must be an object");
    const json_t *jname = json_object_get(jm, "name");
    if (!json_is_string(jname))
        return bad(err, &w, "a model needs a \"name\" (a string)");
    const char *name = json_string_value(jname);
    if (!kura__schema_ident(name))
        return bad(err, &w, "'%.40s' is not a model name (letters, digits and _, 1 to 63)", name);
    snprintf(w.model, sizeof w.model, "%s", name);
    if (kura_schema_find(s, name))
        return bad(err, &w, "duplicate model");
    if (!known_keys(jm, model_keys, &w, err))
        return false;

    kura__smodel *m = kura__schema_add_model(s, name);
    if (!m)
        return oom(err);
    const json_t *v = json_object_get(jm, "store");
    if (v) {
        const char *kind = json_is_string(v) ? json_string_value(v) : "";
        if (strcmp(kind, "sql") == 0)
            m->store = KURA_SCHEMA_SQL;
        else if (strcmp(kind, "documents") == 0)
            m->store = KURA_SCHEMA_DOCUMENTS;
        else
            return bad(err, &w, "store must be \"sql\" or \"documents\"");
    }
    v = json_object_get(jm, "path");
    if (v) {
        if (!json_is_string(v) || json_string_value(v)[0] != '/')
            return bad(err, &w, "path must be a string starting with '/'");
        if (!(m->path = strdup(json_string_value(v))))
            return oom(err);
    }
    v = json_object_get(jm, "key");
    if (v && !(json_is_string(v) && kura__key_kind_from_name(json_string_value(v), &m->model.key)))
        return bad(err, &w, "key must be \"int64\", \"uuid\", \"objectid\" or \"string\"");
    bool timestamps = true;
    if (!get_bool(jm, "timestamps", &timestamps, &w, err))
        return false;
    if (!timestamps)
        m->model.flags |= KURA_MODEL_NO_TIMESTAMPS;
    if (!warnings(json_object_get(jm, "warnings"), &m->warnings, &w, err))
        return false;
    const json_t *fields = json_object_get(jm, "fields");
    if (!json_is_array(fields))
        return bad(err, &w, "a model needs \"fields\" (an array)");
    size_t i;
    json_t *jf;
    json_array_foreach(fields, i, jf)
    {
        if (!load_field(m, jf, i, &w, err))
            return false;
    }
    for (i = 0; i < m->model.nfields; i++) { /* unique_with names fields of the whole model */
        kura_error why;
        w.field = m->fields[i].name;
        if (!kura__unique_with_check(&m->model, &m->fields[i], &why))
            return bad(err, &w, "%s", why.message);
    }
    w.field = NULL;
    return kura__smodel_layout(m, err);
}

static kura_schema *load_json(const json_t *root, kura_error *err)
{
    static const char *const top_keys[] = {"models", "warnings", NULL};
    if (!json_is_object(root)) {
        bad(err, NULL, "the top level must be an object with \"models\"");
        return NULL;
    }
    if (!known_keys(root, top_keys, NULL, err))
        return NULL;
    const json_t *models = json_object_get(root, "models");
    if (!json_is_array(models)) {
        bad(err, NULL, "\"models\" (an array) is missing");
        return NULL;
    }
    kura_schema *s = kura__schema_new();
    if (!s) {
        oom(err);
        return NULL;
    }
    bool ok = warnings(json_object_get(root, "warnings"), &s->warnings, NULL, err);
    for (size_t i = 0; ok && i < json_array_size(models); i++)
        ok = load_model(s, json_array_get(models, i), i, err);
    ok = ok && resolve_references(s, models, err);
    if (!ok) {
        kura_schema_free(s);
        return NULL;
    }
    return s;
}

static kura_schema *load_text(const char *text, size_t len, const char *source, kura_error *err)
{
    json_error_t jerr;
    /* Duplicate keys would otherwise be resolved silently, last one winning. */
    json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!root) {
        kura_fail(err, KURA_CONFIG, NULL, "%s: line %d, column %d: %s", source, jerr.line,
                  jerr.column, jerr.text);
        return NULL;
    }
    kura_schema *s = load_json(root, err);
    json_decref(root);
    return s;
}

kura_schema *kura_schema_load_string(const char *text, kura_error *err)
{
    if (!text) {
        kura_fail(err, KURA_INVALID, NULL, "no schema text");
        return NULL;
    }
    return load_text(text, strlen(text), "schema", err);
}

kura_schema *kura_schema_load_file(const char *path, kura_error *err)
{
    FILE *f = path ? fopen(path, "rb") : NULL;
    if (!f) {
        kura_fail(err, path ? KURA_IO : KURA_INVALID, NULL, "cannot open schema file %s: %s",
                  path ? path : "(null)", path ? strerror(errno) : "no path");
        return NULL;
    }
    char *text = NULL;
    size_t len = 0, cap = 0;
    bool ok = true;
    for (;;) {
        if (len + 4096 > cap) {
            cap = cap ? cap * 2 : 8192;
            char *n = realloc(text, cap);
            if (!n) {
                ok = false;
                break;
            }
            text = n;
        }
        size_t got = fread(text + len, 1, cap - len, f);
        len += got;
        if (got == 0)
            break;
    }
    bool read_error = ferror(f);
    fclose(f);
    kura_schema *s = NULL;
    if (!ok)
        oom(err);
    else if (read_error)
        kura_fail(err, KURA_IO, NULL, "cannot read schema file %s", path);
    else
        s = load_text(text, len, path, err);
    free(text);
    return s;
}
