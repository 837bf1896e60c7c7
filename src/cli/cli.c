/* cli.c — the command line's app, settings layering and messages (kura/cli.h). */
#include "cli/cli.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

static const char *const setting_keys[CLI_NSETTINGS] = {"database_url", "document_url",
                                                        "redis_url"};

bool cli_set(kura_cli *c, const char *key, const char *value)
{
    if (c->nextra >= sizeof c->extra_keys / sizeof c->extra_keys[0])
        return false;
    c->extra_keys[c->nextra] = key;
    c->extra_values[c->nextra++] = value;
    return true;
}

void *kura_cli_ctx(const kura_cli *cli)
{
    return cli->program ? cli->program->ctx : NULL;
}

int kura_cli_fail(const kura_cli *cli, const kura_error *err)
{
    fprintf(stderr, "%s: %s\n", cli->name,
            err->message[0] ? err->message : kura_code_text(err->code));
    return CLI_ERROR;
}

int kura_cli_usage_error(const kura_cli *cli, const char *cmd, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "%s: ", cli->name);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    if (cmd)
        fprintf(stderr, "\nTry '%s %s --help'.\n", cli->name, cmd);
    else
        fprintf(stderr, "\nTry '%s --help'.\n", cli->name);
    return CLI_USAGE;
}

bool kura_cli_parse_int(const kura_cli *cli, const char *cmd, const char *what, const char *text,
                        int64_t min, int64_t max, int64_t *out)
{
    char *end = NULL;
    errno = 0;
    long long v = strtoll(text, &end, 10);
    /* strtoll skips leading blanks and accepts a sign; a count on a command line should not. */
    bool digits = text[0] >= '0' && text[0] <= '9';
    if (!digits || *end != '\0' || errno == ERANGE || v < min || v > max) {
        kura_cli_usage_error(cli, cmd, "%s must be a whole number from %lld to %lld, not '%s'",
                             what, (long long)min, (long long)max, text);
        return false;
    }
    *out = v;
    return true;
}

void kura_cli_log(kura_log_level level, const char *message)
{
    kura_log_fn fn = NULL;
    void *ctx = NULL;
    kura_log_get_handler(&fn, &ctx);
    if (fn)
        fn(level, "app", message, ctx);
    else
        fprintf(stderr, "kura: %s\n", message);
}

/* Adds lazy=1 to the PostgreSQL URLs of cfg (the database, and the documents
 * when they name one or follow the database). False when none is PostgreSQL
 * or one has its own lazy setting: nothing to retry then. */
static bool lazy_postgres(kura_config *cfg, kura_error *err)
{
    static const char *const keys[] = {"database_url", "document_url"};
    bool any = false;
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        const char *url = kura_config_get(cfg, keys[i]);
        if (!url || strncmp(url, "postgres", 8) != 0 || strstr(url, "lazy="))
            continue;
        char with[2048];
        int n = snprintf(with, sizeof with, "%s%clazy=1", url, strchr(url, '?') ? '&' : '?');
        if (n < 0 || (size_t)n >= sizeof with || !kura_config_set(cfg, keys[i], with, err))
            return false;
        any = true;
    }
    return any;
}

kura_app *kura_cli_app(kura_cli *c)
{
    if (c->app)
        return c->app;
    kura_error err = {0};
    kura_config *cfg = kura_config_new();
    if (!cfg) {
        kura_fail(&err, KURA_NOMEM, NULL, "out of memory");
        kura_cli_fail(c, &err);
        return NULL;
    }
    /* Later sources win: a file, then the environment, then the flags. */
    bool ok = (!c->config_file || kura_config_load_file(cfg, c->config_file, &err)) &&
              kura_config_load_env(cfg, &err);
    for (size_t i = 0; ok && i < CLI_NSETTINGS; i++)
        if (c->settings[i])
            ok = kura_config_set(cfg, setting_keys[i], c->settings[i], &err);
    for (size_t i = 0; ok && i < c->nextra; i++)
        ok = kura_config_set(cfg, c->extra_keys[i], c->extra_values[i], &err);
    kura_app *app = ok ? kura_app_open(cfg, &err) : NULL;
    if (!app && ok && err.code == KURA_UNAVAILABLE && c->start_unavailable &&
        lazy_postgres(cfg, &err)) {
        /* The server is away, not misconfigured (a wrong password or database
         * failed above with another code): open without connecting. */
        kura_error first = err;
        app = kura_app_open(cfg, &err);
        if (app) {
            c->started_unavailable = true;
            char msg[400];
            snprintf(msg, sizeof msg,
                     "%s; serving anyway: the routes that need the database answer 503 "
                     "until it is back",
                     first.message);
            kura_cli_log(KURA_LOG_WARN, msg);
        }
    }
    kura_config_free(cfg);
    const kura_program *p = c->program;
    if (app && c->models_file)
        ok = cli_models_file_load(app, c->models_file, &c->models_keep, &err);
    if (app && ok && p && p->setup)
        ok = p->setup(app, p->ctx, &err);
    if (!app || !ok) {
        kura_app_close(app);
        cli_models_file_free(c->models_keep);
        c->models_keep = NULL;
        kura_cli_fail(c, &err);
        return NULL;
    }
    /* A default the app chose for itself (kura_app_notice): said once, at start-up. */
    if (kura_app_notice(app))
        fprintf(stderr, "%s: note: %s\n", c->name, kura_app_notice(app));
    kura_app_enter(app);
    return c->app = app;
}

void cli_close(kura_cli *c)
{
    if (!c->app)
        return;
    kura_app_leave(NULL);
    kura_app_close(c->app);
    c->app = NULL;
    cli_models_file_free(c->models_keep); /* after the app: it borrowed the models */
    c->models_keep = NULL;
}

bool cli_models_possible(const kura_cli *c, const char *name)
{
    if (c->models_file || (c->program && c->program->setup))
        return true;
    /* Said before any store is opened: a command that cannot run creates no files. */
    fprintf(stderr,
            "%s: no model named '%s': no models are registered (give --models FILE, or run "
            "a program built on kura_main)\n",
            c->name, name);
    return false;
}

const kura_model *cli_model(kura_cli *c, kura_app *app, const char *name)
{
    const kura_model *m = kura_app_model(app, name);
    if (m)
        return m;
    size_t n = kura_app_model_count(app);
    if (n == 0) {
        fprintf(stderr,
                "%s: no model named '%s': no models are registered (give --models FILE, or run "
                "a program built on kura_main)\n",
                c->name, name);
        return NULL;
    }
    fprintf(stderr, "%s: no model named '%s'; the registered models are:", c->name, name);
    for (size_t i = 0; i < n; i++)
        fprintf(stderr, " %s", kura_app_model_at(app, i, NULL)->name);
    fputc('\n', stderr);
    return NULL;
}

int cli_bad_option(kura_cli *c, char **argv, int opt)
{
    /* argv[optind - 1] is the word at fault, except inside a cluster of short flags. */
    const char *word = argv[optind - 1];
    const char *what = opt == ':' ? "a value is needed after" : "unknown option";
    if (strncmp(word, "--", 2) == 0 || !optopt)
        return kura_cli_usage_error(c, argv[0], "%s '%s'", what, word);
    return kura_cli_usage_error(c, argv[0], "%s '-%c'", what, optopt);
}
