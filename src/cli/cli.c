/* cli.c — option handling, settings layering and error printing shared by every command. */
#include "cli/cli.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "sa_user.h"

const kura_model *const cli_models[] = {&sa_user_model};
const size_t cli_nmodels = sizeof cli_models / sizeof cli_models[0];

void cli_getopt_reset(void)
{
    optind = 0; /* glibc: 0 re-initialises getopt's state for a new argv */
    opterr = 0; /* our own messages: getopt's would be prefixed with the command name */
}

int cli_getopt(cli *c, int argc, char **argv, const char *shortopts, const struct option *longopts,
               void (*usage)(FILE *out), int *rc)
{
    for (;;) {
        int opt = getopt_long(argc, argv, shortopts, longopts, NULL);
        switch (opt) {
        case CLI_OPT_DATABASE_URL:
            c->database_url = optarg;
            continue;
        case CLI_OPT_CONFIG:
            c->config_file = optarg;
            continue;
        case CLI_OPT_HELP:
            usage(stdout);
            *rc = CLI_OK;
            return CLI_STOP;
        case '?':
        case ':': {
            /* argv[optind - 1] is the word at fault, except inside a cluster of short flags. */
            const char *word = argv[optind - 1];
            bool long_form = strncmp(word, "--", 2) == 0;
            const char *what = opt == '?' ? "unknown option" : "a value is needed after";
            if (long_form || !optopt)
                *rc = cli_usage_error(argv[0], "%s '%s'", what, word);
            else
                *rc = cli_usage_error(argv[0], "%s '-%c'", what, optopt);
            return CLI_STOP;
        }
        default:
            return opt;
        }
    }
}

int cli_usage_error(const char *cmd, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("kura: ", stderr);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    /* The top-level parser passes its argv[0] (a path): only a subcommand name helps. */
    if (cmd && !strchr(cmd, '/') && strcmp(cmd, "kura") != 0)
        fprintf(stderr, "\nTry 'kura %s --help'.\n", cmd);
    else
        fputs("\nTry 'kura --help'.\n", stderr);
    return CLI_USAGE;
}

int cli_fail(const kura_error *err)
{
    fprintf(stderr, "kura: %s\n", err->message[0] ? err->message : kura_code_text(err->code));
    return CLI_ERROR;
}

bool cli_parse_int(const char *cmd, const char *what, const char *text, int64_t min, int64_t max,
                   int64_t *out)
{
    char *end = NULL;
    errno = 0;
    long long v = strtoll(text, &end, 10);
    /* strtoll skips leading blanks and accepts a sign; a count on a command line should not. */
    bool digits = text[0] >= '0' && text[0] <= '9';
    if (!digits || *end != '\0' || errno == ERANGE || v < min || v > max) {
        cli_usage_error(cmd, "%s must be a whole number from %lld to %lld, not '%s'", what,
                        (long long)min, (long long)max, text);
        return false;
    }
    *out = v;
    return true;
}

kura_app *cli_open_app(const cli *c)
{
    kura_error err = {0};
    kura_config *cfg = kura_config_new();
    if (!cfg) {
        kura_fail(&err, KURA_NOMEM, NULL, "out of memory");
        cli_fail(&err);
        return NULL;
    }
    /* Later sources win: a file, then the environment, then the flags. */
    bool ok = (!c->config_file || kura_config_load_file(cfg, c->config_file, &err)) &&
              kura_config_load_env(cfg, &err) &&
              (!c->database_url || kura_config_set(cfg, "database_url", c->database_url, &err));
    kura_app *app = ok ? kura_app_open(cfg, &err) : NULL;
    kura_config_free(cfg);
    if (!app) {
        cli_fail(&err);
        return NULL;
    }
    kura_app_enter(app);
    return app;
}

void cli_close_app(kura_app *app)
{
    kura_app_leave(NULL);
    kura_app_close(app);
}
