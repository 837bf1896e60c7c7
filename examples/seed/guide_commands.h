/* guide_commands.h — the guide's own commands, run by kura_main (guide_app.c lists them). */
#ifndef GUIDE_COMMANDS_H
#define GUIDE_COMMANDS_H

#include <kura/cli.h>

/* `seed N`: users 1..N of the benchmark workload, in transactions of 1000. */
int guide_seed(kura_cli *cli, int argc, char **argv);

/* `users [--age N] [--sex M|F] [--name-prefix P] [--limit N] [--offset N] [--json]`. */
int guide_users(kura_cli *cli, int argc, char **argv);

#endif
