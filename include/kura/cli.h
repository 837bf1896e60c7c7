/*
 * kura/cli.h — the kura command line, for any program: kura_main gives a
 * program every kura command over the models it registers, as Django's
 * manage.py gives a project the django-admin commands over its own settings.
 *
 *     static bool setup(kura_app *app, void *ctx, kura_error *err)
 *     {
 *         return kura_app_register(app, &sa_user_model, KURA_IN_SQL, err);
 *     }
 *     int main(int argc, char **argv)
 *     {
 *         return kura_main(argc, argv, &(kura_program){.name = "myapp", .setup = setup});
 *     }
 *
 * Link with `pkg-config --libs kura-http` (kura_main lives beside the HTTP
 * library, which `serve` runs). The commands every program gets:
 *
 *   migrate [--dry-run] [--force]   kura_app_migrate over the registered models
 *   serve [--bind ADDR] [--port N] [--threads N] [--log-level L] [--max-body B]
 *         [--timeout S] [--no-migrate]
 *                                   migrates (additive only), then serves what the
 *                                   program's `mount` mounts (default: every
 *                                   registered model at /<name>, /session,
 *                                   /rankings, /health, /metrics) until SIGINT/SIGTERM
 *   rows MODEL [--where FIELD=VALUE ...] [--order [-]FIELD] [--limit N] [--offset N] [--json]
 *                                   rows as an aligned table or JSON lines
 *   get MODEL ID [--json]           one row, a field per line or one JSON object
 *   count MODEL [--where FIELD=VALUE ...]
 *
 * and the program's own commands (kura_program.commands). Global options,
 * accepted before or after the command (they are taken out of argv before a
 * command sees it): --database-url URL, --document-url URL, --redis-url URL,
 * --config FILE, --models FILE (models from a schema file, registered beside
 * the program's own), --help. Settings layer as for the app: defaults <
 * --config file < environment (KURA_*) < flags.
 *
 * Exit codes: 0 success; 1 the library or a store refused (a line
 * "<name>: <message>" on stderr); 2 the command line was wrong (a usage
 * message on stderr). kura_main prints and may take a while (serve), but
 * never calls exit(): it returns the code for main to return.
 */
#ifndef KURA_CLI_H
#define KURA_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "app.h"
#include "error.h"
#include "http.h"

#ifdef __cplusplus
extern "C" {
#endif

enum { KURA_EXIT_OK = 0, KURA_EXIT_ERROR = 1, KURA_EXIT_USAGE = 2 };

/* The command line being run: settings, the app once opened. Owned by kura_main. */
typedef struct kura_cli kura_cli;

/* Registers the program's models on a freshly opened app (kura_app_register).
 * False with err filled stops the command (exit 1). */
typedef bool (*kura_setup_fn)(kura_app *app, void *ctx, kura_error *err);

/* Mounts what `serve` serves on srv (kura_http_mount, kura_http_handle, ...). */
typedef bool (*kura_mount_fn)(kura_http *srv, kura_app *app, void *ctx, kura_error *err);

/* A program's own command. */
typedef struct kura_command {
    const char *name;    /* the word that selects it; a built-in's name is refused */
    const char *summary; /* one line in the command list */
    const char *usage;   /* printed for `NAME --help`, before the global options */
    /*
     * Runs the command and returns its exit code. argv[0] is the name; the
     * global options have been taken out, and getopt's state is reset
     * (optind = 0, opterr = 0): parse the rest with getopt_long. Open the app
     * only once the arguments are known good, with kura_cli_app.
     */
    int (*run)(kura_cli *cli, int argc, char **argv);
} kura_command;

/* What a program adds to the built-in commands. Every member may be zero. */
typedef struct kura_program {
    const char *name;    /* in usage and error lines; NULL: "kura" */
    kura_setup_fn setup; /* called once the app is open */
    kura_mount_fn mount; /* what serve mounts; NULL: kura_http_mount_defaults */
    const kura_command *commands;
    size_t ncommands;
    void *ctx; /* handed to setup, mount and kura_cli_ctx */
} kura_program;

/*
 * Runs the command named on the command line and returns its exit code.
 * program may be NULL: the bare `kura` command, whose models come from
 * --models only. argv is not modified.
 */
int kura_main(int argc, char **argv, const kura_program *program);

/*
 * The app of this command line: opened on the first call from the layered
 * settings, with the --models file's models and then program->setup's
 * registered, and made the thread's current app. kura_main closes it after
 * the command returns. NULL after printing why (return KURA_EXIT_ERROR).
 */
kura_app *kura_cli_app(kura_cli *cli);

/* The program's ctx. */
void *kura_cli_ctx(const kura_cli *cli);

/* Prints "<name>: <err->message>" to stderr; returns KURA_EXIT_ERROR. */
int kura_cli_fail(const kura_cli *cli, const kura_error *err);

/* Prints "<name>: <message>" and a pointer to `<name> <cmd> --help` to stderr;
 * returns KURA_EXIT_USAGE. */
int kura_cli_usage_error(const kura_cli *cli, const char *cmd, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Parses a whole decimal number in [min, max] (no sign, no blanks). On false
 * a usage error naming `what` was printed. */
bool kura_cli_parse_int(const kura_cli *cli, const char *cmd, const char *what, const char *text,
                        int64_t min, int64_t max, int64_t *out);

#ifdef __cplusplus
}
#endif
#endif
