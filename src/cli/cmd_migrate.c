/*
 * cmd_migrate.c — `kura migrate`: creates the reference app's tables and
 * indexes where they are missing (the guide's sa.create_all()).
 */
#include "cli/cli.h"

static void usage(FILE *out)
{
    fputs("Usage: kura migrate [OPTIONS]\n\n"
          "Creates every model's table and indexes where they do not exist yet.\n"
          "Existing tables are left as they are (no columns are altered or "
          "dropped).\n\n" CLI_GLOBAL_USAGE,
          out);
}

/* Whether the model's table already answers a query: only to say what migrate
 * did, so any failure simply reads as "not there yet". */
static bool table_exists(kura_store *db, const kura_model *m, int64_t *rows)
{
    kura_query q = kura_query_for(m);
    return kura_count(db, &q, rows, NULL);
}

static int run(cli *c, int argc, char **argv)
{
    static const struct option options[] = {CLI_GLOBAL_OPTIONS, {0}};
    int rc = CLI_OK;
    cli_getopt_reset();
    if (cli_getopt(c, argc, argv, ":", options, usage, &rc) == CLI_STOP)
        return rc;
    if (optind < argc)
        return cli_usage_error(argv[0], "unexpected argument '%s'", argv[optind]);

    kura_app *app = cli_open_app(c);
    if (!app)
        return CLI_ERROR;
    kura_store *db = kura_app_db(app);
    kura_error err = {0};
    for (size_t i = 0; rc == CLI_OK && i < cli_nmodels; i++) {
        const kura_model *m = cli_models[i];
        int64_t rows = 0;
        bool existed = table_exists(db, m, &rows);
        if (!kura_create(db, m, &err))
            rc = cli_fail(&err);
        else if (existed)
            printf("%s: table exists (%lld rows); indexes ensured\n", m->name, (long long)rows);
        else
            printf("%s: created table and indexes\n", m->name);
    }
    cli_close_app(app);
    return rc;
}

const cli_command cli_cmd_migrate = {"migrate", "create the tables and indexes", run};
