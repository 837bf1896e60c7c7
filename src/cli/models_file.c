/*
 * models_file.c — `--models FILE`: the models of a JSON schema file,
 * registered on the app beside the program's own. The schema loader (models
 * described at run time) is its own piece of work; this file is the one place
 * the command line calls it.
 */
#include "cli/cli.h"

bool cli_models_file_load(kura_app *app, const char *path, void **keep, kura_error *err)
{
    (void)app;
    *keep = NULL;
    return kura_fail(err, KURA_UNSUPPORTED, NULL,
                     "--models needs the schema loader (not built into this kura): cannot read "
                     "'%.128s'",
                     path);
}

void cli_models_file_free(void *keep)
{
    (void)keep;
}
