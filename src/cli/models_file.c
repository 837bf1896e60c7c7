/*
 * models_file.c — `--models FILE`: the models of a JSON schema file
 * (docs/schema-file.md), registered on the app beside the program's own, each
 * in the store its "store" names. This file is the one place the command line
 * calls the schema loader.
 */
#include "cli/cli.h"
#include "base/buf.h"

#include <ctype.h>
#include <string.h>

/* Whether text names `name` as a word (not inside another identifier). */
static bool names(const char *text, const char *name)
{
    size_t n = strlen(name);
    for (const char *p = text; (p = strstr(p, name)) != NULL; p++) {
        bool before = p == text || !(isalnum((unsigned char)p[-1]) || p[-1] == '_');
        bool after = !(isalnum((unsigned char)p[n]) || p[n] == '_');
        if (before && after)
            return true;
    }
    return false;
}

/* Puts the file, and the model when given, before err's message: the
 * loader names the model and the field, the registry the model at most, and
 * neither the file, which a user with several must be told. A message that
 * names the file already (broken JSON, a file that cannot be read) is kept. */
static bool in_file(const char *path, const char *model, kura_error *err)
{
    if (strstr(err->message, path))
        return false;
    char was[sizeof err->message];
    memcpy(was, err->message, sizeof was);
    char stack[2 * sizeof err->message];
    kura_buf b;
    kura_buf_init(&b, stack, sizeof stack);
    kura_buf_add(&b, path);
    kura_buf_add(&b, ": ");
    if (model && !names(was, model))
        kura_buf_addf(&b, "model %s: ", model);
    kura_buf_add(&b, was);
    if (!b.oom) /* cut at its end when longer than kura_error holds, as any message is */
        kura_copy_string(err->message, sizeof err->message, b.data);
    kura_buf_free(&b);
    return false;
}

bool cli_models_file_load(kura_app *app, const char *path, void **keep, kura_error *err)
{
    kura_schema *schema = kura_schema_load_file(path, err);
    *keep = schema; /* freed by cli_models_file_free, after the app that borrows the models */
    if (!schema)
        return in_file(path, NULL, err);
    for (size_t i = 0; i < kura_schema_count(schema); i++) {
        kura_model_home home = kura_schema_store_of(schema, i) == KURA_SCHEMA_DOCUMENTS
                                   ? KURA_IN_DOCUMENTS
                                   : KURA_IN_SQL;
        const kura_model *m = kura_schema_model(schema, i);
        if (!kura_app_register(app, m, home, err) ||
            !kura_app_set_model_path(app, m->name, kura_schema_path(schema, i), err))
            return in_file(path, m->name, err);
    }
    return true;
}

void cli_models_file_free(void *keep)
{
    kura_schema_free(keep);
}
