/*
 * models_file.c — `--models FILE`: the models of a JSON schema file
 * (docs/schema-file.md), registered on the app beside the program's own, each
 * in the store its "store" names. This file is the one place the command line
 * calls the schema loader.
 */
#include "cli/cli.h"

bool cli_models_file_load(kura_app *app, const char *path, void **keep, kura_error *err)
{
    kura_schema *schema = kura_schema_load_file(path, err);
    *keep = schema; /* freed by cli_models_file_free, after the app that borrows the models */
    if (!schema)
        return false;
    for (size_t i = 0; i < kura_schema_count(schema); i++) {
        kura_model_home home = kura_schema_store_of(schema, i) == KURA_SCHEMA_DOCUMENTS
                                   ? KURA_IN_DOCUMENTS
                                   : KURA_IN_SQL;
        const kura_model *m = kura_schema_model(schema, i);
        if (!kura_app_register(app, m, home, err) ||
            !kura_app_set_model_path(app, m->name, kura_schema_path(schema, i), err))
            return false;
    }
    return true;
}

void cli_models_file_free(void *keep)
{
    kura_schema_free(keep);
}
