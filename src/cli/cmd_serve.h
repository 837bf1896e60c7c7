/* cmd_serve.h — the `kura serve` subcommand, for the CLI's dispatcher. */
#ifndef KURA_CMD_SERVE_H
#define KURA_CMD_SERVE_H

/* Runs `kura serve`; argv[0] is "serve". Returns the exit code: 0 after a
 * clean stop, 1 when the app or the server could not start, 2 on a bad flag. */
int kura_cmd_serve(int argc, char **argv);

#endif
