/*
 * cli.h — what the `kura` subcommands share: the command table, global
 * options, settings layering, number parsing and the exit-code convention.
 *
 * Exit codes: 0 success, 1 the library (or the database) refused,
 * 2 the command line was wrong (unknown command or flag, bad value).
 */
#ifndef KURA_CLI_H
#define KURA_CLI_H

#include <getopt.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <kura/kura.h>

#define CLI_OK    0
#define CLI_ERROR 1 /* "kura: <library message>" was printed */
#define CLI_USAGE 2 /* a usage message was printed */

/* What the global flags collected; settings are layered only once parsing ends. */
typedef struct cli {
    const char *database_url; /* --database-url, or NULL */
    const char *config_file;  /* --config, or NULL */
} cli;

/* Long-option values for the global flags (outside the char range). */
enum { CLI_OPT_DATABASE_URL = 0x100, CLI_OPT_CONFIG, CLI_OPT_HELP };

/* The global flags, appended to every command's getopt_long table so that they
 * are accepted before or after the subcommand. */
#define CLI_GLOBAL_OPTIONS                                                                         \
    {"database-url", required_argument, NULL, CLI_OPT_DATABASE_URL},                               \
        {"config", required_argument, NULL, CLI_OPT_CONFIG},                                       \
    {                                                                                              \
        "help", no_argument, NULL, CLI_OPT_HELP                                                    \
    }

#define CLI_GLOBAL_USAGE                                                                           \
    "Global options (before or after the command):\n"                                              \
    "  --database-url URL  the SQL store (default: KURA_DATABASE_URL, then sqlite:///kura.db)\n"   \
    "  --config FILE       a settings file of `key = value` lines\n"                               \
    "  --help              print this help\n"                                                      \
    "Settings: defaults < config file < environment (KURA_*) < flags.\n"

/* One subcommand. run gets argv with argv[0] the command's name. */
typedef struct cli_command {
    const char *name;
    const char *summary;
    int (*run)(cli *c, int argc, char **argv);
} cli_command;

extern const cli_command cli_cmd_migrate;
extern const cli_command cli_cmd_seed;
extern const cli_command cli_cmd_users;
extern const cli_command cli_cmd_serve;
extern const cli_command cli_cmd_inspect;
int cli_inspect(int argc, char **argv); /* `kura inspect` (argv[0] "inspect") on its own */

/* The models the CLI manages (the reference app's), for migrate and friends. */
extern const kura_model *const cli_models[];
extern const size_t cli_nmodels;

/*
 * getopt_long over argv with the global flags and option errors handled here.
 * `shortopts` must start with ':' ("+:" to stop at the first operand), and
 * `longopts` end with CLI_GLOBAL_OPTIONS and a zero entry. Returns the next
 * command-specific option, -1 after the last option (operands start at
 * optind), or CLI_STOP with *rc the exit code (--help printed `usage` to
 * stdout: CLI_OK; an unknown flag or a missing value: CLI_USAGE).
 * Call cli_getopt_reset() before the first call on a new argv.
 */
#define CLI_STOP (-2)
int cli_getopt(cli *c, int argc, char **argv, const char *shortopts, const struct option *longopts,
               void (*usage)(FILE *out), int *rc);
void cli_getopt_reset(void);

/* Prints "kura: <message>" for a usage error and a pointer to --help; returns CLI_USAGE. */
int cli_usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Prints "kura: <err->message>"; returns CLI_ERROR. */
int cli_fail(const kura_error *err);

/*
 * Parses a whole decimal integer in [min, max]. On failure prints a usage
 * error naming `what` and returns false.
 */
bool cli_parse_int(const char *cmd, const char *what, const char *text, int64_t min, int64_t max,
                   int64_t *out);

/* Layers the settings (defaults < --config file < environment < flags) and opens
 * the app, made current on this thread. On failure prints and returns NULL. */
kura_app *cli_open_app(const cli *c);

/* Leaves and closes what cli_open_app opened. */
void cli_close_app(kura_app *app);

#endif
