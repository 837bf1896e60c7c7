/*
 * cmd_inspect.c — `inspect [--c] [DATABASE_URL]`: prints the schema of an
 * existing SQL database as a schema file (JSON, docs/schema-file.md), or with
 * --c as C declarations (a struct and a KURA_MODEL per table). What inspect
 * could not map is in the output: "warnings" in the JSON, comments in the C.
 * It reads the database only: no app is opened, no model needs registering.
 */
#include "cli/cli.h"

#include <stdlib.h>

static void usage(FILE *out)
{
    fputs("Usage: inspect [--c] [DATABASE_URL]\n\n"
          "Reads the tables of an existing SQLite or PostgreSQL database and prints\n"
          "them as a kura schema file (JSON), one model per table kura can serve;\n"
          "kura's document collections become models inferred from their documents.\n"
          "What cannot be mapped is listed under \"warnings\". The output is a file\n"
          "for --models. DATABASE_URL defaults to --database-url, then\n"
          "KURA_DATABASE_URL.\n\n"
          "  --c    print C declarations (struct + KURA_MODEL) instead\n",
          out);
}

enum { OPT_C = 0x200 };

static int run(kura_cli *c, int argc, char **argv)
{
    static const struct option options[] = {{"c", no_argument, NULL, OPT_C}, {0}};
    bool as_c = false;
    int opt;
    while ((opt = getopt_long(argc, argv, ":", options, NULL)) != -1) {
        if (opt != OPT_C)
            return cli_bad_option(c, argv, opt);
        as_c = true;
    }
    if (argc - optind > 1)
        return kura_cli_usage_error(c, argv[0], "unexpected argument '%s'", argv[optind + 1]);
    const char *url = optind < argc ? argv[optind] : c->settings[CLI_DATABASE_URL];
    if (!url)
        url = getenv("KURA_DATABASE_URL");
    if (!url || !*url)
        return kura_cli_usage_error(c, argv[0], "which database? give DATABASE_URL");

    kura_error err = {0};
    kura_schema *schema = kura_inspect(url, &err);
    if (!schema)
        return kura_cli_fail(c, &err);
    char *text = as_c ? kura_schema_to_c(schema, &err) : kura_schema_to_string(schema, &err);
    kura_schema_free(schema);
    if (!text)
        return kura_cli_fail(c, &err);
    fputs(text, stdout);
    free(text);
    return CLI_OK;
}

const cli_command cli_cmd_inspect = {"inspect", "print the schema of an existing database", usage,
                                     run};
