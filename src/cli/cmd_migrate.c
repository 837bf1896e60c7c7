/*
 * cmd_migrate.c — `kura migrate`: brings the database's schema up to the
 * reference app's models (kura_migrate: additive changes run, destructive ones
 * are listed and refused unless --force), and makes the document collections.
 */
#include "cli/cli.h"

#include <stdlib.h>

#include "me_user.h"

static void usage(FILE *out)
{
    fputs("Usage: kura migrate [--dry-run] [--force] [OPTIONS]\n\n"
          "Compares the models with the live schema and adds what is missing:\n"
          "tables, columns and indexes. Running it again finds nothing to do.\n"
          "A column the models no longer have, or one whose type changed, is\n"
          "listed and refused unless --force (SQLite cannot retype a column).\n\n"
          "  --dry-run   print the SQL that would run; change nothing\n"
          "  --force     also drop and retype columns\n\n" CLI_GLOBAL_USAGE,
          out);
}

enum { OPT_DRY_RUN = 1, OPT_FORCE };

static void report(const kura_change *ch, void *ctx)
{
    (void)ctx;
    static const char *const kinds[] = {"create table", "add column", "add index", "drop column",
                                        "change type"};
    printf("%s %s %s%s%s%s%s\n", ch->refused ? "refused:" : "-", kinds[ch->kind], ch->table,
           ch->column ? "." : "", ch->column ? ch->column : "", ch->detail[0] ? " " : "",
           ch->detail);
}

static int run(cli *c, int argc, char **argv)
{
    static const struct option options[] = {
        {"dry-run", no_argument, NULL, OPT_DRY_RUN},
        {"force", no_argument, NULL, OPT_FORCE},
        CLI_GLOBAL_OPTIONS,
        {0},
    };
    int rc = CLI_OK, opt;
    unsigned flags = 0;
    cli_getopt_reset();
    while ((opt = cli_getopt(c, argc, argv, ":", options, usage, &rc)) != -1) {
        if (opt == CLI_STOP)
            return rc;
        flags |= opt == OPT_DRY_RUN ? KURA_MIGRATE_DRY_RUN : KURA_MIGRATE_FORCE;
    }
    if (optind < argc)
        return cli_usage_error(argv[0], "unexpected argument '%s'", argv[optind]);

    kura_app *app = cli_open_app(c);
    if (!app)
        return CLI_ERROR;
    kura_error err = {0};
    char *script = NULL;
    size_t changes = 0;
    bool ok = kura_migrate(kura_app_db(app), cli_models, cli_nmodels, flags, report, NULL, &script,
                           &changes, &err);
    if (flags & KURA_MIGRATE_DRY_RUN) {
        fputs(script && *script ? script : "-- nothing to do\n", stdout);
    } else if (ok) {
        printf("%zu change%s applied\n", changes, changes == 1 ? "" : "s");
    }
    free(script);
    if (!ok) {
        rc = cli_fail(&err);
        if (err.code == KURA_CONFLICT)
            fputs("kura: nothing was changed; run with --dry-run to see the plan, --force to "
                  "apply it\n",
                  stderr);
    } else if (!(flags & KURA_MIGRATE_DRY_RUN)) {
        /* The guide's MEUser collection, with its indexes (documents make
         * theirs on first use too; migrate makes them before any traffic). */
        kura_store *docs = kura_app_documents(app);
        if (docs && !kura_create(docs, me_user_model(), &err))
            rc = cli_fail(&err);
    }
    cli_close_app(app);
    return rc;
}

const cli_command cli_cmd_migrate = {"migrate", "bring the schema up to the models", run};
