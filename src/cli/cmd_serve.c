/*
 * cmd_serve.c — `kura serve`: the reference service on the app's stores.
 *
 *   kura serve [--bind ADDR] [--port N] [--threads N] [--log-level LEVEL]
 *              [--database-url URL] [--document-url URL] [--redis-url URL]
 *              [--config FILE] [--no-migrate]
 *
 * Settings layer as everywhere: defaults < --config file < environment
 * (KURA_*) < flags. The tables are created first when missing (the embedded
 * database needs no separate migrate step). SIGINT or SIGTERM stops the
 * service gracefully: no new connections, requests in flight finish, then the
 * stores close.
 */
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <kura/migrate.h>

#include "cli/cli.h"
#include "cli/cmd_serve.h"
#include "http/http.h"
#include "sa_user.h"

static void usage(FILE *out)
{
    fputs("Usage: kura serve [OPTIONS]\n"
          "Serves the guide's application as a JSON web service.\n\n"
          "  --bind ADDR          address to listen on (default 127.0.0.1; KURA_BIND)\n"
          "  --port N             port (default 8080; 0 picks a free one; KURA_PORT)\n"
          "  --threads N          worker threads (default: one per CPU)\n"
          "  --log-level LEVEL    debug, info (one line per request), warn, error, off\n"
          "                       (default info; KURA_LOG_LEVEL)\n"
          "  --max-body BYTES     request body limit (default 65536)\n"
          "  --timeout SECONDS    idle or slow connections are closed after this (default 15)\n"
          "  --database-url URL   the SQL store (KURA_DATABASE_URL; default sqlite:///kura.db)\n"
          "  --document-url URL   the document store (KURA_DOCUMENT_URL)\n"
          "  --redis-url URL      the key-value store (KURA_REDIS_URL)\n"
          "  --config FILE        a settings file of `key = value` lines\n"
          "  --no-migrate         do not create missing tables at start-up\n"
          "  --help               print this help\n"
          "KURA_API_TOKEN, when set, is required as `Authorization: Bearer` on writes.\n",
          out);
}

static bool parse_num(const char *what, const char *s, long long min, long long max, long long *out)
{
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || !*s || *end || v < min || v > max) {
        fprintf(stderr, "kura serve: %s must be a number from %lld to %lld, not '%s'\n", what, min,
                max, s);
        return false;
    }
    *out = v;
    return true;
}

enum {
    OPT_BIND = 0x100,
    OPT_PORT,
    OPT_THREADS,
    OPT_LOG_LEVEL,
    OPT_MAX_BODY,
    OPT_TIMEOUT,
    OPT_DATABASE_URL,
    OPT_DOCUMENT_URL,
    OPT_REDIS_URL,
    OPT_CONFIG,
    OPT_NO_MIGRATE,
    OPT_HELP,
};

/* global_db_url and global_config come from flags given before the command
 * (the dispatcher's); the command's own flags win over them. */
static int serve(const char *global_db_url, const char *global_config, int argc, char **argv)
{
    static const struct option options[] = {
        {"bind", required_argument, NULL, OPT_BIND},
        {"port", required_argument, NULL, OPT_PORT},
        {"threads", required_argument, NULL, OPT_THREADS},
        {"log-level", required_argument, NULL, OPT_LOG_LEVEL},
        {"max-body", required_argument, NULL, OPT_MAX_BODY},
        {"timeout", required_argument, NULL, OPT_TIMEOUT},
        {"database-url", required_argument, NULL, OPT_DATABASE_URL},
        {"document-url", required_argument, NULL, OPT_DOCUMENT_URL},
        {"redis-url", required_argument, NULL, OPT_REDIS_URL},
        {"config", required_argument, NULL, OPT_CONFIG},
        {"no-migrate", no_argument, NULL, OPT_NO_MIGRATE},
        {"help", no_argument, NULL, OPT_HELP},
        {0},
    };
    /* Flags are collected first and applied over file and environment after. */
    const char *flag_keys[] = {"bind",         "port",         "log_level",
                               "database_url", "document_url", "redis_url"};
    const char *flag_values[6] = {[3] = global_db_url};
    const char *config_file = global_config;
    long long threads = 0, max_body = 0, timeout = 0;
    bool migrate = true;
    cli_getopt_reset();
    int opt;
    while ((opt = getopt_long(argc, argv, ":", options, NULL)) != -1) {
        switch (opt) {
        case OPT_BIND:
            flag_values[0] = optarg;
            break;
        case OPT_PORT:
            flag_values[1] = optarg;
            break;
        case OPT_LOG_LEVEL:
            flag_values[2] = optarg;
            break;
        case OPT_DATABASE_URL:
            flag_values[3] = optarg;
            break;
        case OPT_DOCUMENT_URL:
            flag_values[4] = optarg;
            break;
        case OPT_REDIS_URL:
            flag_values[5] = optarg;
            break;
        case OPT_CONFIG:
            config_file = optarg;
            break;
        case OPT_NO_MIGRATE:
            migrate = false;
            break;
        case OPT_THREADS:
            if (!parse_num("--threads", optarg, 1, 1024, &threads))
                return 2;
            break;
        case OPT_MAX_BODY:
            if (!parse_num("--max-body", optarg, 1, 64 << 20, &max_body))
                return 2;
            break;
        case OPT_TIMEOUT:
            if (!parse_num("--timeout", optarg, 1, 3600, &timeout))
                return 2;
            break;
        case OPT_HELP:
            usage(stdout);
            return 0;
        case ':':
            fprintf(stderr, "kura serve: %s needs a value\n", argv[optind - 1]);
            return 2;
        default:
            fprintf(stderr, "kura serve: unknown option '%s' (see --help)\n", argv[optind - 1]);
            return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "kura serve: unexpected argument '%s'\n", argv[optind]);
        return 2;
    }

    kura_error err = {0};
    kura_config *cfg = kura_config_new();
    if (!cfg) {
        fputs("kura serve: out of memory\n", stderr);
        return 1;
    }
    bool ok = (!config_file || kura_config_load_file(cfg, config_file, &err)) &&
              kura_config_load_env(cfg, &err);
    for (size_t i = 0; ok && i < sizeof flag_keys / sizeof flag_keys[0]; i++)
        if (flag_values[i])
            ok = kura_config_set(cfg, flag_keys[i], flag_values[i], &err);
    kura_http_opts opts;
    kura_http_opts_default(&opts);
    kura_app *app = NULL;
    /* The options borrow strings from the app's copy of the settings. */
    if (ok && (app = kura_app_open(cfg, &err)) != NULL)
        ok = kura_http_opts_from_config(&opts, kura_app_config(app), &err);
    else
        ok = false;
    kura_config_free(cfg);
    if (ok && migrate) {
        /* Additive only: a destructive difference stops the start (KURA_CONFLICT)
         * and is left to `kura migrate`, where a person decides. */
        static const kura_model *const models[] = {&sa_user_model};
        ok = kura_migrate(kura_app_db(app), models, sizeof models / sizeof models[0], 0, NULL, NULL,
                          NULL, NULL, &err);
    }
    if (!ok) {
        fprintf(stderr, "kura serve: %s\n", err.message);
        kura_app_close(app);
        return 1;
    }
    if (threads)
        opts.threads = (unsigned)threads;
    if (max_body)
        opts.max_body = (size_t)max_body;
    if (timeout)
        opts.timeout_s = (unsigned)timeout;

    /* Block the stop signals before any thread exists: MHD's workers inherit the
     * mask, so only sigwait below ever sees them. */
    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGINT);
    sigaddset(&stop, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &stop, NULL);
    signal(SIGPIPE, SIG_IGN); /* a client gone mid-response is MHD's error, not a crash */

    kura_http *srv = kura_http_start(app, &opts, &err);
    if (!srv) {
        fprintf(stderr, "kura serve: %s\n", err.message);
        kura_app_close(app);
        return 1;
    }
    int sig = 0;
    while (sigwait(&stop, &sig) != 0)
        ;
    kura_http_stop(srv);
    kura_app_close(app);
    return 0;
}

int kura_cmd_serve(int argc, char **argv)
{
    return serve(NULL, NULL, argc, argv);
}

static int run(cli *c, int argc, char **argv)
{
    return serve(c->database_url, c->config_file, argc, argv);
}

const cli_command cli_cmd_serve = {"serve", "serve the app as a JSON web service", run};
