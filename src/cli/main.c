/*
 * main.c — `kura [global options] COMMAND [options]`: finds the command and
 * hands it the rest of the line. Global flags may also follow the command;
 * each command's parser accepts them too (CLI_GLOBAL_OPTIONS).
 */
#include <string.h>

#include "cli/cli.h"

static const cli_command *const commands[] = {&cli_cmd_migrate, &cli_cmd_seed, &cli_cmd_users,
                                              &cli_cmd_serve, &cli_cmd_inspect};
#define NCOMMANDS (sizeof commands / sizeof commands[0])

static void usage(FILE *out)
{
    fputs("Usage: kura [OPTIONS] COMMAND [ARGS]\n\nCommands:\n", out);
    for (size_t i = 0; i < NCOMMANDS; i++)
        fprintf(out, "  %-8s %s\n", commands[i]->name, commands[i]->summary);
    fputs("\n" CLI_GLOBAL_USAGE "\nRun 'kura COMMAND --help' for a command's options.\n", out);
}

int main(int argc, char **argv)
{
    static const struct option options[] = {CLI_GLOBAL_OPTIONS, {0}};
    cli c = {0};
    int rc = CLI_OK;
    cli_getopt_reset();
    /* "+": stop at the command name, whose own parser takes what follows. */
    if (cli_getopt(&c, argc, argv, "+:", options, usage, &rc) == CLI_STOP)
        return rc;
    if (optind >= argc) {
        fputs("kura: no command given\n", stderr);
        usage(stderr);
        return CLI_USAGE;
    }
    const char *name = argv[optind];
    for (size_t i = 0; i < NCOMMANDS; i++)
        if (strcmp(name, commands[i]->name) == 0)
            return commands[i]->run(&c, argc - optind, argv + optind);
    return cli_usage_error(NULL, "unknown command '%s'", name);
}
