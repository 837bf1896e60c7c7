/* schema.c — the schema object: building, laying out, reading and freeing runtime models. */
#include "model/schema_private.h"
#include "model/types.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *vstrdupf(const char *fmt, va_list ap)
{
    va_list again;
    va_copy(again, ap);
    int n = vsnprintf(NULL, 0, fmt, ap);
    char *s = n >= 0 ? malloc((size_t)n + 1) : NULL;
    if (s)
        vsnprintf(s, (size_t)n + 1, fmt, again);
    va_end(again);
    return s;
}

char *kura__strdupf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *s = vstrdupf(fmt, ap);
    va_end(ap);
    return s;
}

bool kura__strs_addf(kura__strs *l, const char *fmt, ...)
{
    if (l->count == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 4;
        char **n = realloc(l->items, cap * sizeof *n);
        if (!n)
            return false;
        l->items = n;
        l->cap = cap;
    }
    va_list ap;
    va_start(ap, fmt);
    char *s = vstrdupf(fmt, ap);
    va_end(ap);
    if (!s)
        return false;
    l->items[l->count++] = s;
    return true;
}

void kura__strs_free(kura__strs *l)
{
    for (size_t i = 0; i < l->count; i++)
        free(l->items[i]);
    free(l->items);
    memset(l, 0, sizeof *l);
}

kura_schema *kura__schema_new(void)
{
    return calloc(1, sizeof(kura_schema));
}

kura__smodel *kura__schema_add_model(kura_schema *s, const char *name)
{
    if (s->count == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 8;
        kura__smodel **n = realloc(s->models, cap * sizeof *n);
        if (!n)
            return NULL;
        s->models = n;
        s->cap = cap;
    }
    kura__smodel *m = calloc(1, sizeof *m);
    if (!m)
        return NULL;
    m->name = strdup(name);
    m->default_path = kura__strdupf("/%s", name);
    if (!m->name || !m->default_path) {
        free(m->name);
        free(m->default_path);
        free(m);
        return NULL;
    }
    m->model.name = m->name;
    m->model.size = sizeof(kura_base);
    s->models[s->count++] = m;
    return m;
}

kura_field *kura__smodel_add_field(kura__smodel *m, const char *name, kura_type type)
{
    if (m->model.nfields == m->cap) {
        size_t cap = m->cap ? m->cap * 2 : 8;
        kura_field *n = realloc(m->fields, cap * sizeof *n);
        if (!n)
            return NULL;
        m->fields = n;
        m->cap = cap;
        m->model.fields = n;
    }
    char *copy = strdup(name);
    if (!copy)
        return NULL;
    kura_field *f = &m->fields[m->model.nfields++];
    memset(f, 0, sizeof *f);
    f->name = copy;
    f->type = type;
    return f;
}

static size_t round_up(size_t n, size_t align)
{
    return (n + align - 1) / align * align;
}

bool kura__smodel_layout(kura__smodel *m, kura_error *err)
{
    /* The C rule on every ABI kura builds for: each member at the next offset
     * aligned for its type, the struct padded to its strictest member. */
    size_t offset = sizeof(kura_base), align = _Alignof(kura_base);
    for (size_t i = 0; i < m->model.nfields; i++) {
        kura_field *f = &m->fields[i];
        if ((unsigned)f->type >= KURA_TYPE_COUNT)
            return kura_fail(err, KURA_CONFIG, f->name, "model %s, field %s: unknown type", m->name,
                             f->name);
        size_t a = kura__type(f->type)->align;
        size_t size = kura__member_bytes(f);
        offset = round_up(offset, a);
        f->offset = offset;
        f->size = size;
        offset += size;
        if (a > align)
            align = a;
    }
    m->model.size = round_up(offset, align);
    m->model.fields = m->fields;
    return true;
}

bool kura__schema_ident(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 63 || (s[0] >= '0' && s[0] <= '9'))
        return false;
    for (const char *c = s; *c; c++)
        if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') ||
              *c == '_'))
            return false;
    return true;
}

static void free_field(kura_field *f)
{
    free((char *)f->name);
    free((char *)f->default_string);
    const char *const *lists[] = {f->choices, f->unique_with};
    for (size_t i = 0; i < 2; i++) {
        for (const char *const *c = lists[i]; c && *c; c++)
            free((char *)*c);
        free((void *)lists[i]);
    }
}

void kura_schema_free(kura_schema *schema)
{
    if (!schema)
        return;
    for (size_t i = 0; i < schema->count; i++) {
        kura__smodel *m = schema->models[i];
        for (size_t j = 0; j < m->model.nfields; j++)
            free_field(&m->fields[j]);
        free(m->fields);
        free(m->name);
        free(m->path);
        free(m->default_path);
        kura__strs_free(&m->warnings);
        free(m);
    }
    free(schema->models);
    kura__strs_free(&schema->warnings);
    free(schema);
}

size_t kura_schema_count(const kura_schema *schema)
{
    return schema ? schema->count : 0;
}

const kura_model *kura_schema_model(const kura_schema *schema, size_t i)
{
    return schema && i < schema->count ? &schema->models[i]->model : NULL;
}

const kura_model *kura_schema_find(const kura_schema *schema, const char *name)
{
    for (size_t i = 0; schema && i < schema->count; i++)
        if (strcmp(schema->models[i]->name, name) == 0)
            return &schema->models[i]->model;
    return NULL;
}

kura_schema_store kura_schema_store_of(const kura_schema *schema, size_t i)
{
    return schema && i < schema->count ? schema->models[i]->store : KURA_SCHEMA_SQL;
}

const char *kura_schema_path(const kura_schema *schema, size_t i)
{
    if (!schema || i >= schema->count)
        return NULL;
    const kura__smodel *m = schema->models[i];
    return m->path ? m->path : m->default_path;
}

static const kura__strs *warnings_of(const kura_schema *schema, size_t model_index)
{
    if (!schema)
        return NULL;
    if (model_index == (size_t)-1)
        return &schema->warnings;
    return model_index < schema->count ? &schema->models[model_index]->warnings : NULL;
}

size_t kura_schema_warning_count(const kura_schema *schema, size_t model_index)
{
    const kura__strs *l = warnings_of(schema, model_index);
    return l ? l->count : 0;
}

const char *kura_schema_warning(const kura_schema *schema, size_t model_index, size_t i)
{
    const kura__strs *l = warnings_of(schema, model_index);
    return l && i < l->count ? l->items[i] : NULL;
}
