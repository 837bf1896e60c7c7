/*
 * cli.h — what the built-in commands share (kura/cli.h is the public side):
 * the command line's state, settings layering and the command table.
 */
#ifndef KURA_CLI_PRIVATE_H
#define KURA_CLI_PRIVATE_H

#include <getopt.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <kura/cli.h>
#include <kura/kura.h>

#define CLI_OK    KURA_EXIT_OK
#define CLI_ERROR KURA_EXIT_ERROR
#define CLI_USAGE KURA_EXIT_USAGE

/* The settings a flag may give, in the order they are applied. */
enum { CLI_DATABASE_URL, CLI_DOCUMENT_URL, CLI_REDIS_URL, CLI_NSETTINGS };

struct kura_cli {
    const kura_program *program;
    const char *name;                    /* program->name or "kura" */
    const char *settings[CLI_NSETTINGS]; /* from flags, or NULL */
    const char *config_file;             /* --config, or NULL */
    const char *models_file;             /* --models, or NULL */
    const char *extra_keys[8];           /* more settings a command adds (serve's bind, ...) */
    const char *extra_values[8];
    size_t nextra;
    kura_app *app; /* opened by kura_cli_app */
    /* serve: a PostgreSQL server that cannot be reached at start is opened
     * lazily instead (kura_cli_app), so the routes on other stores serve. */
    bool start_unavailable;
    bool started_unavailable; /* ... and it was */
    void *models_keep;        /* what the --models loader allocated (models_file.c) */
};

/* A log line through the library's log handler (kura/log.h: the service's
 * own log while it listens), or on stderr when none is set. The library's
 * internal logger is not exported to this library's code. */
void kura_cli_log(kura_log_level level, const char *message);

/* One built-in command. run gets argv with argv[0] the command's name and the
 * global options taken out. */
typedef struct cli_command {
    const char *name;
    const char *summary;
    void (*usage)(FILE *out);
    int (*run)(kura_cli *c, int argc, char **argv);
} cli_command;

extern const cli_command cli_cmd_migrate;
extern const cli_command cli_cmd_serve;
extern const cli_command cli_cmd_rows;
extern const cli_command cli_cmd_get;
extern const cli_command cli_cmd_count;
extern const cli_command cli_cmd_inspect;

#define CLI_GLOBAL_USAGE                                                                           \
    "Global options (before or after the command):\n"                                              \
    "  --database-url URL  the SQL store (KURA_DATABASE_URL; default sqlite:///kura.db)\n"         \
    "  --document-url URL  the document store (KURA_DOCUMENT_URL; default: the database)\n"        \
    "  --redis-url URL     the key-value store (KURA_REDIS_URL; default embedded:)\n"              \
    "  --config FILE       a settings file of `key = value` lines\n"                               \
    "  --models FILE       register the models of a JSON schema file\n"                            \
    "  --help              print this help\n"                                                      \
    "Settings: defaults < config file < environment (KURA_*) < flags.\n"

/* Adds a setting (key of app.h) that kura_cli_app applies over the flags'. */
bool cli_set(kura_cli *c, const char *key, const char *value);

/* The registered model named `name`, or NULL after printing an error (exit 1,
 * with the list of registered models). */
const kura_model *cli_model(kura_cli *c, kura_app *app, const char *name);

/* The usage error for getopt_long's '?' (unknown option) or ':' (missing
 * value; optstring must start with ':'); returns CLI_USAGE. */
int cli_bad_option(kura_cli *c, char **argv, int opt);

/* --- queries from the command line (cli_query.c) --- */

/* Objects the parsed --where values live in, until the query has run. */
typedef struct cli_kept {
    void *objs[32];
    size_t n;
} cli_kept;

/* Adds FIELD=VALUE (equality; the value read as the field reads JSON) to q.
 * KURA_INVALID naming the field or the problem. */
bool cli_query_where(kura_query *q, const char *arg, cli_kept *kept, kura_error *err);

/* Adds FIELD or -FIELD (descending) to q's order. */
bool cli_query_order(kura_query *q, const char *arg, kura_error *err);

void cli_kept_free(const kura_model *m, cli_kept *kept);

/* --- output (cli_print.c) --- */

/* Rows as an aligned table: the key, the fields, created_at, updated_at (if any). */
void cli_print_table(const kura_rows *rows);

/* Rows as JSON lines; false with err when one cannot be encoded. */
bool cli_print_json(const kura_rows *rows, kura_error *err);

/* One object as "field  value" lines. */
void cli_print_object(const kura_model *m, const void *obj);

/* Closes what kura_cli_app opened. */
void cli_close(kura_cli *c);

/*
 * The --models loader: registers the models of the schema file `path` on app.
 * What it allocates for them is kept in *keep and freed by
 * cli_models_file_free after the app closes (models must outlive the app).
 * (models_file.c: the one place the schema loader is wired in.)
 */
/* Whether any model can be registered (a --models file, or the program's setup);
 * when not, says so for model `name` and returns false, before any store is opened. */
bool cli_models_possible(const kura_cli *c, const char *name);

bool cli_models_file_load(kura_app *app, const char *path, void **keep, kura_error *err);
void cli_models_file_free(void *keep);

#endif
