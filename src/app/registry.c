/*
 * registry.c — the app's models: which models the app serves and in which
 * store each lives. A short array searched by name: apps have tens of models,
 * and lookups happen once per command or per mounted route, not per row.
 */
#include <stdlib.h>
#include <string.h>

#include "app/app_private.h"
#include "document/mongo_private.h"
#include "kv/kv_private.h"

/* Tables and collections kura keeps beside the models, in the same database
 * or file: a model of one of these names would read, migrate or delete_where
 * kura's own data (the sessions of the embedded key-value store). */
static bool reserved(const char *name)
{
    static const char *const names[] = KURA_EMBEDDED_KV_TABLES;
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (strcmp(name, names[i]) == 0)
            return true;
    return strcmp(name, KURA_MONGO_COUNTERS) == 0;
}

static const app_model *find(const app_registry *reg, const char *name)
{
    for (size_t i = 0; i < reg->count; i++)
        if (strcmp(reg->items[i].model->name, name) == 0)
            return &reg->items[i];
    return NULL;
}

bool kura_app_register(kura_app *app, const kura_model *model, kura_model_home home,
                       kura_error *err)
{
    if (!app || !model || !model->name || !*model->name)
        return kura_fail(err, KURA_INVALID, NULL, "a model to register needs a name");
    if (home != KURA_IN_SQL && home != KURA_IN_DOCUMENTS)
        return kura_fail(err, KURA_INVALID, NULL,
                         "model '%.64s': register it KURA_IN_SQL or KURA_IN_DOCUMENTS (to keep it "
                         "in both, register a copy under another name)",
                         model->name);
    if (model->nfields == 0 || !model->fields)
        return kura_fail(err, KURA_INVALID, NULL, "model '%.64s' has no fields", model->name);
    if (reserved(model->name))
        return kura_fail(err, KURA_CONFLICT, NULL,
                         "model '%.64s' has the name of a table kura keeps its own data in",
                         model->name);
    app_registry *reg = kura_app_registry(app);
    if (find(reg, model->name))
        return kura_fail(err, KURA_CONFLICT, NULL, "a model named '%.64s' is already registered",
                         model->name);
    if (reg->count == reg->cap) {
        size_t cap = reg->cap ? reg->cap * 2 : 8;
        app_model *items = realloc(reg->items, cap * sizeof *items);
        if (!items)
            return kura_fail(err, KURA_NOMEM, NULL, "out of memory");
        reg->items = items;
        reg->cap = cap;
    }
    reg->items[reg->count++] = (app_model){model, home, NULL};
    return true;
}

const kura_model *kura_app_model(const kura_app *app, const char *name)
{
    if (!app || !name)
        return NULL;
    const app_model *m = find(kura_app_registry_const(app), name);
    return m ? m->model : NULL;
}

size_t kura_app_model_count(const kura_app *app)
{
    return app ? kura_app_registry_const(app)->count : 0;
}

const kura_model *kura_app_model_at(const kura_app *app, size_t i, kura_model_home *home)
{
    if (i >= kura_app_model_count(app))
        return NULL;
    const app_model *m = &kura_app_registry_const(app)->items[i];
    if (home)
        *home = m->home;
    return m->model;
}

kura_store *kura_app_model_store(kura_app *app, const kura_model *model)
{
    if (!app || !model || !model->name)
        return NULL;
    const app_model *m = find(kura_app_registry(app), model->name);
    if (!m)
        return NULL;
    return m->home == KURA_IN_SQL ? kura_app_db(app) : kura_app_documents(app);
}

bool kura_app_set_model_path(kura_app *app, const char *name, const char *path, kura_error *err)
{
    if (!app || !name)
        return kura_fail(err, KURA_INVALID, NULL, "no app or model name");
    app_model *m = (app_model *)find(kura_app_registry(app), name);
    if (!m)
        return kura_fail(err, KURA_NOT_FOUND, NULL, "no model named '%.64s' is registered", name);
    /* The same rule as a schema file's "path": the HTTP library checks the rest when it mounts. */
    if (!path || path[0] != '/' || strlen(path) > KURA_APP_PATH_MAX)
        return kura_fail(err, KURA_INVALID, NULL,
                         "model '%.64s': a path starts with '/' and has at most %d bytes", name,
                         KURA_APP_PATH_MAX);
    char *copy = strdup(path);
    if (!copy)
        return kura_fail(err, KURA_NOMEM, NULL, "out of memory");
    free(m->path);
    m->path = copy;
    return true;
}

const char *kura_app_model_path(const kura_app *app, const char *name)
{
    if (!app || !name)
        return NULL;
    const app_model *m = find(kura_app_registry_const(app), name);
    return m ? m->path : NULL;
}

void kura_registry_free(app_registry *reg)
{
    for (size_t i = 0; i < reg->count; i++)
        free(reg->items[i].path);
    free(reg->items);
    *reg = (app_registry){0};
}
