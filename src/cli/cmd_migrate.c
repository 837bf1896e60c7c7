/*
 * cmd_migrate.c — `migrate`: brings the schema up to the registered models
 * (kura_app_migrate: additive changes run, destructive ones are listed and
 * refused unless --force), and makes the document collections.
 */
#include "cli/cli.h"

#include <stdlib.h>

static void usage(FILE *out)
{
    fputs("Usage: migrate [--dry-run] [--force] [OPTIONS]\n\n"
          "Compares the registered models with the live schema and adds what is\n"
          "missing: tables, columns and indexes, and the document collections\n"
          "(a collection of the JSON layout kura made before is rewritten into\n"
          "columns: kura_document_upgrade).\n"
          "Running it again finds nothing to do. A column the models no longer\n"
          "have, or one whose type changed, is listed and refused unless --force\n"
          "(SQLite cannot retype a column). A missing document collection is made\n"
          "after the tables and is not listed, nor counted in the changes.\n\n"
          "  --dry-run   print the SQL that would run; change nothing\n"
          "  --force     also drop and retype columns\n",
          out);
}

enum { OPT_DRY_RUN = 1, OPT_FORCE };

static void report(const kura_change *ch, void *ctx)
{
    (void)ctx;
    /* By kura_change_kind, every one of them: a kind missing here was read past the end. */
    static const char *const kinds[] = {"create table", "add column",  "add index",
                                        "drop column",  "change type", "upgrade collection",
                                        "add reference"};
    printf("%s %s %s%s%s%s%s\n", ch->refused ? "refused:" : "-", kinds[ch->kind], ch->table,
           ch->column ? "." : "", ch->column ? ch->column : "", ch->detail[0] ? " " : "",
           ch->detail);
}

static int run(kura_cli *c, int argc, char **argv)
{
    static const struct option options[] = {
        {"dry-run", no_argument, NULL, OPT_DRY_RUN},
        {"force", no_argument, NULL, OPT_FORCE},
        {0},
    };
    unsigned flags = KURA_MIGRATE_UPGRADE_DOCUMENTS; /* what serve's start-up leaves out */
    int opt;
    while ((opt = getopt_long(argc, argv, ":", options, NULL)) != -1) {
        if (opt == OPT_DRY_RUN || opt == OPT_FORCE)
            flags |= opt == OPT_DRY_RUN ? KURA_MIGRATE_DRY_RUN : KURA_MIGRATE_FORCE;
        else
            return cli_bad_option(c, argv, opt);
    }
    if (optind < argc)
        return kura_cli_usage_error(c, argv[0], "unexpected argument '%s'", argv[optind]);

    kura_app *app = kura_cli_app(c);
    if (!app)
        return CLI_ERROR;
    if (kura_app_model_count(app) == 0)
        fprintf(stderr, "%s: no models are registered: nothing to migrate\n", c->name);
    kura_error err = {0};
    char *script = NULL;
    size_t changes = 0;
    int rc = CLI_OK;
    bool ok = kura_app_migrate(app, flags, report, NULL, &script, &changes, &err);
    if (flags & KURA_MIGRATE_DRY_RUN) {
        fputs(script && *script ? script : "-- nothing to do\n", stdout);
    } else if (ok) {
        printf("%zu change%s applied\n", changes, changes == 1 ? "" : "s");
    }
    free(script);
    if (!ok) {
        rc = kura_cli_fail(c, &err);
        if (err.code == KURA_CONFLICT)
            fprintf(stderr,
                    "%s: nothing was changed; run with --dry-run to see the plan, --force to "
                    "apply it\n",
                    c->name);
    }
    return rc;
}

const cli_command cli_cmd_migrate = {"migrate", "bring the schema up to the models", usage, run};
