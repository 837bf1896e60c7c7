/*
 * kura_main.c — `NAME [global options] COMMAND [options]`: takes the global
 * options out of the line wherever they are, finds the command (built-in or
 * the program's own) and hands it the rest.
 */
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"

static const cli_command *const builtins[] = {&cli_cmd_migrate, &cli_cmd_serve, &cli_cmd_rows,
                                              &cli_cmd_get,     &cli_cmd_count, &cli_cmd_inspect};
#define NBUILTINS (sizeof builtins / sizeof builtins[0])

static void usage(const kura_cli *c, FILE *out)
{
    fprintf(out, "Usage: %s [OPTIONS] COMMAND [ARGS]\n\nCommands:\n", c->name);
    for (size_t i = 0; i < NBUILTINS; i++)
        fprintf(out, "  %-8s %s\n", builtins[i]->name, builtins[i]->summary);
    const kura_program *p = c->program;
    for (size_t i = 0; p && i < p->ncommands; i++)
        fprintf(out, "  %-8s %s\n", p->commands[i].name,
                p->commands[i].summary ? p->commands[i].summary : "");
    fprintf(out, "\n" CLI_GLOBAL_USAGE "\nRun '%s COMMAND --help' for a command's options.\n",
            c->name);
}

/* The global option at argv[i], if it is one: its value goes to *slot. Returns
 * how many words it takes (1 or 2), 0 when it is not a global option, -1 when
 * its value is missing (a usage error was printed). */
static int global_option(kura_cli *c, int argc, char **argv, int i, const char *cmd)
{
    static const char *const names[] = {"--database-url", "--document-url", "--redis-url",
                                        "--config", "--models"};
    const char **slots[] = {&c->settings[CLI_DATABASE_URL], &c->settings[CLI_DOCUMENT_URL],
                            &c->settings[CLI_REDIS_URL], &c->config_file, &c->models_file};
    const char *word = argv[i];
    for (size_t k = 0; k < sizeof names / sizeof names[0]; k++) {
        size_t n = strlen(names[k]);
        if (strncmp(word, names[k], n) != 0)
            continue;
        if (word[n] == '=') {
            *slots[k] = word + n + 1;
            return 1;
        }
        if (word[n] != '\0')
            continue;
        if (i + 1 >= argc) {
            kura_cli_usage_error(c, cmd, "a value is needed after '%s'", word);
            return -1;
        }
        *slots[k] = argv[i + 1];
        return 2;
    }
    return 0;
}

/* Runs one command over its own argv (argv[0] its name, globals removed). */
static int run_command(kura_cli *c, int argc, char **argv, bool help)
{
    const char *name = argv[0];
    optind = 0; /* glibc: 0 re-initialises getopt's state for a new argv */
    opterr = 0; /* the commands print their own messages */
    for (size_t i = 0; i < NBUILTINS; i++)
        if (strcmp(name, builtins[i]->name) == 0) {
            if (help) {
                builtins[i]->usage(stdout);
                fputs("\n" CLI_GLOBAL_USAGE, stdout);
                return CLI_OK;
            }
            return builtins[i]->run(c, argc, argv);
        }
    const kura_program *p = c->program;
    for (size_t i = 0; p && i < p->ncommands; i++)
        if (strcmp(name, p->commands[i].name) == 0) {
            if (help) {
                fprintf(stdout, "%s\n" CLI_GLOBAL_USAGE,
                        p->commands[i].usage ? p->commands[i].usage : "");
                return CLI_OK;
            }
            return p->commands[i].run(c, argc, argv);
        }
    return kura_cli_usage_error(c, NULL, "unknown command '%s'", name);
}

static void library_line(kura_log_level level, const char *source, const char *message, void *ctx)
{
    if (level >= KURA_LOG_WARN)
        fprintf(stderr, "%s: %s: %s\n", ((const kura_cli *)ctx)->name, source, message);
}

int kura_main(int argc, char **argv, const kura_program *program)
{
    kura_cli c = {.program = program, .name = program && program->name ? program->name : "kura"};
    for (size_t i = 0; program && i < program->ncommands; i++)
        for (size_t k = 0; k < NBUILTINS; k++)
            if (!program->commands[i].name || !program->commands[i].run ||
                strcmp(program->commands[i].name, builtins[k]->name) == 0) {
                fprintf(stderr, "%s: the command '%s' is built in or incomplete\n", c.name,
                        program->commands[i].name ? program->commands[i].name : "(null)");
                return CLI_USAGE;
            }
    /* The command's words, in order, without the global options. */
    char **words = calloc((size_t)argc + 1, sizeof *words);
    if (!words) {
        fprintf(stderr, "%s: out of memory\n", c.name);
        return CLI_ERROR;
    }
    int nwords = 0, rc = CLI_OK;
    bool help = false, operands = false;
    for (int i = 1; i < argc; i++) {
        const char *cmd = nwords ? words[0] : NULL;
        if (operands) { /* after "--": everything is the command's */
            words[nwords++] = argv[i];
            continue;
        }
        int took = global_option(&c, argc, argv, i, cmd);
        if (took < 0) {
            rc = CLI_USAGE;
            goto out;
        }
        if (took > 0) {
            i += took - 1;
            continue;
        }
        if (strcmp(argv[i], "--help") == 0) {
            help = true;
        } else if (nwords == 0 && argv[i][0] == '-') {
            rc = kura_cli_usage_error(&c, NULL, "unknown option '%s'", argv[i]);
            goto out;
        } else {
            operands = nwords > 0 && strcmp(argv[i], "--") == 0;
            words[nwords++] = argv[i];
        }
    }
    if (nwords == 0) {
        if (help) {
            usage(&c, stdout);
        } else {
            fprintf(stderr, "%s: no command given\n", c.name);
            usage(&c, stderr);
            rc = CLI_USAGE;
        }
        goto out;
    }
    /* The libraries' warnings (libmongoc's) as the command's own lines; `serve`
     * makes them its JSON log lines while it listens. */
    kura_log_fn prev_log;
    void *prev_ctx;
    kura_log_get_handler(&prev_log, &prev_ctx);
    kura_log_set_handler(library_line, &c);
    rc = run_command(&c, nwords, words, help);
    kura_log_set_handler(prev_log, prev_ctx);
    cli_close(&c);
out:
    free(words);
    return rc;
}
