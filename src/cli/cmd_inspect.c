/*
 * cmd_inspect.c — `kura inspect [--c] DATABASE_URL`: prints the schema of an
 * existing SQL database as a schema file (JSON, docs/schema-file.md), or with
 * --c as C declarations (a struct and a KURA_MODEL per table). What inspect
 * could not map is in the output: "warnings" in the JSON, comments in the C.
 */
#include "cli/cli.h"

#include <stdlib.h>

static void usage(FILE *out)
{
    fputs("Usage: kura inspect [--c] [DATABASE_URL]\n\n"
          "Reads the tables of an existing SQLite or PostgreSQL database and prints\n"
          "them as a kura schema file (JSON), one model per table kura can serve.\n"
          "Tables and columns it cannot map are listed under \"warnings\".\n"
          "DATABASE_URL defaults to --database-url, then KURA_DATABASE_URL.\n\n"
          "  --c         print C declarations (struct + KURA_MODEL) instead\n\n" CLI_GLOBAL_USAGE,
          out);
}

enum { OPT_C = 1 };

static int inspect(cli *c, int argc, char **argv)
{
    static const struct option options[] = {
        {"c", no_argument, NULL, OPT_C},
        CLI_GLOBAL_OPTIONS,
        {0},
    };
    int rc = CLI_OK, opt;
    bool as_c = false;
    cli_getopt_reset();
    while ((opt = cli_getopt(c, argc, argv, ":", options, usage, &rc)) != -1) {
        if (opt == CLI_STOP)
            return rc;
        as_c = true;
    }
    if (argc - optind > 1)
        return cli_usage_error(argv[0], "unexpected argument '%s'", argv[optind + 1]);
    const char *url = optind < argc ? argv[optind] : c->database_url;
    if (!url)
        url = getenv("KURA_DATABASE_URL");
    if (!url || !*url)
        return cli_usage_error(argv[0], "which database? give DATABASE_URL");

    kura_error err = {0};
    kura_schema *schema = kura_inspect(url, &err);
    if (!schema)
        return cli_fail(&err);
    char *text = as_c ? kura_schema_to_c(schema, &err) : kura_schema_to_string(schema, &err);
    kura_schema_free(schema);
    if (!text)
        return cli_fail(&err);
    fputs(text, stdout);
    free(text);
    return CLI_OK;
}

int cli_inspect(int argc, char **argv)
{
    cli c = {0};
    return inspect(&c, argc, argv);
}

const cli_command cli_cmd_inspect = {"inspect", "print the schema of an existing database",
                                     inspect};
