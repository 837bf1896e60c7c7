/*
 * cmd_serve.c — `serve`: the registered models (or what the program's mount
 * function mounts) as a JSON web service on the app's stores.
 *
 * Settings layer as everywhere: defaults < --config file < environment
 * (KURA_*) < flags. The tables are created first when missing (the embedded
 * database needs no separate migrate step). SIGINT or SIGTERM stops the
 * service gracefully: no new connections, requests in flight finish, then the
 * stores close.
 */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <time.h>

#include "cli/cli.h"

static void usage(FILE *out)
{
    fputs("Usage: serve [OPTIONS]\n"
          "Serves the app as a JSON web service: by default every registered model at\n"
          "/<model name>, /session, /rankings/{board}, /health and /metrics.\n\n"
          "  --bind ADDR          address to listen on (default 127.0.0.1; KURA_BIND)\n"
          "  --port N             port (default 8080; 0 picks a free one; KURA_PORT)\n"
          "  --threads N          worker threads (default: one per CPU)\n"
          "  --log-level LEVEL    debug, info (one line per request), warn, error, off\n"
          "                       (default info; KURA_LOG_LEVEL)\n"
          "  --max-body BYTES     request body limit (default 65536)\n"
          "  --timeout SECONDS    idle connections are closed after this (default 15)\n"
          "  --request-timeout SECONDS\n"
          "                       a request must all arrive within this (default 30;\n"
          "                       0: no limit; KURA_REQUEST_TIMEOUT)\n"
          "  --max-conns-per-ip N connections one client address may hold (default 64;\n"
          "                       0: no limit, e.g. behind a proxy; KURA_MAX_CONNS_PER_IP)\n"
          "  --cache-ttl-ms MS    answer GET /<model>/{id} from memory for up to MS after\n"
          "                       reading the store; this process's writes drop entries at\n"
          "                       once, others show within MS (default 0: off;\n"
          "                       KURA_CACHE_TTL_MS)\n"
          "  --no-migrate         do not create missing tables at start-up\n"
          "KURA_API_TOKEN, when set, is required as `Authorization: Bearer` on writes.\n"
          "KURA_ADMIN_PASSWORD, when set, turns on the admin pages at /admin.\n",
          out);
}

enum {
    OPT_BIND = 0x100,
    OPT_PORT,
    OPT_THREADS,
    OPT_LOG_LEVEL,
    OPT_MAX_BODY,
    OPT_TIMEOUT,
    OPT_REQUEST_TIMEOUT,
    OPT_MAX_CONNS_PER_IP,
    OPT_CACHE_TTL_MS,
    OPT_NO_MIGRATE,
};

typedef struct serve_args {
    int64_t threads, max_body, timeout;
    bool migrate;
} serve_args;

/* Sets a flag's setting once it reads as a setting: a wrong value on the
 * command line is exit 2 with the usage hint, as for --threads, where the
 * same value from KURA_* or a config file is the settings' error (1). */
static bool flag_setting(kura_cli *c, const char *cmd, const char *flag, const char *key,
                         const char *value)
{
    kura_config *cfg = kura_config_new();
    kura_http_opts o;
    kura_http_opts_default(&o);
    kura_error err = {0};
    bool ok =
        cfg && kura_config_set(cfg, key, value, &err) && kura_http_opts_from_config(&o, cfg, &err);
    kura_config_free(cfg);
    if (!ok) {
        kura_cli_usage_error(c, cmd, "%s %s: %s", flag, value, cfg ? err.message : "out of memory");
        return false;
    }
    cli_set(c, key, value);
    return true;
}

/* Parses the flags; the address, port, log level and connection limits become settings. */
static int parse(kura_cli *c, int argc, char **argv, serve_args *a)
{
    static const struct option options[] = {
        {"bind", required_argument, NULL, OPT_BIND},
        {"port", required_argument, NULL, OPT_PORT},
        {"threads", required_argument, NULL, OPT_THREADS},
        {"log-level", required_argument, NULL, OPT_LOG_LEVEL},
        {"max-body", required_argument, NULL, OPT_MAX_BODY},
        {"timeout", required_argument, NULL, OPT_TIMEOUT},
        {"request-timeout", required_argument, NULL, OPT_REQUEST_TIMEOUT},
        {"max-conns-per-ip", required_argument, NULL, OPT_MAX_CONNS_PER_IP},
        {"cache-ttl-ms", required_argument, NULL, OPT_CACHE_TTL_MS},
        {"no-migrate", no_argument, NULL, OPT_NO_MIGRATE},
        {0},
    };
    int opt;
    while ((opt = getopt_long(argc, argv, ":", options, NULL)) != -1) {
        switch (opt) {
        case OPT_BIND:
            cli_set(c, "bind", optarg);
            break;
        case OPT_PORT:
            if (!flag_setting(c, argv[0], "--port", "port", optarg))
                return CLI_USAGE;
            break;
        case OPT_LOG_LEVEL:
            if (!flag_setting(c, argv[0], "--log-level", "log_level", optarg))
                return CLI_USAGE;
            break;
        case OPT_REQUEST_TIMEOUT:
            if (!flag_setting(c, argv[0], "--request-timeout", "request_timeout", optarg))
                return CLI_USAGE;
            break;
        case OPT_MAX_CONNS_PER_IP:
            if (!flag_setting(c, argv[0], "--max-conns-per-ip", "max_conns_per_ip", optarg))
                return CLI_USAGE;
            break;
        case OPT_CACHE_TTL_MS:
            if (!flag_setting(c, argv[0], "--cache-ttl-ms", "cache_ttl_ms", optarg))
                return CLI_USAGE;
            break;
        case OPT_NO_MIGRATE:
            a->migrate = false;
            break;
        case OPT_THREADS:
            if (!kura_cli_parse_int(c, argv[0], "--threads", optarg, 1, 1024, &a->threads))
                return CLI_USAGE;
            break;
        case OPT_MAX_BODY:
            if (!kura_cli_parse_int(c, argv[0], "--max-body", optarg, 1, 64 << 20, &a->max_body))
                return CLI_USAGE;
            break;
        case OPT_TIMEOUT:
            if (!kura_cli_parse_int(c, argv[0], "--timeout", optarg, 1, 3600, &a->timeout))
                return CLI_USAGE;
            break;
        default:
            return cli_bad_option(c, argv, opt);
        }
    }
    if (optind < argc)
        return kura_cli_usage_error(c, argv[0], "unexpected argument '%s'", argv[optind]);
    return CLI_OK;
}

/* Builds the server: the program's routes, or the whole registry. */
static kura_http *build(kura_cli *c, kura_app *app, const serve_args *a, kura_error *err)
{
    kura_http_opts opts;
    kura_http_opts_default(&opts);
    /* The options borrow strings from the app's copy of the settings. */
    if (!kura_http_opts_from_config(&opts, kura_app_config(app), err))
        return NULL;
    if (a->threads)
        opts.threads = (unsigned)a->threads;
    if (a->max_body)
        opts.max_body = (size_t)a->max_body;
    if (a->timeout)
        opts.timeout_s = (unsigned)a->timeout;
    kura_http *srv = kura_http_new(app, &opts, err);
    if (!srv)
        return NULL;
    const kura_program *p = c->program;
    bool ok = p && p->mount ? p->mount(srv, app, p->ctx, err) : kura_http_mount_defaults(srv, err);
    if (!ok) {
        kura_http_stop(srv);
        return NULL;
    }
    return srv;
}

/* Every connection is a descriptor, and the usual soft limit (1024) is what
 * max_conns allows by default before the stores' own: the 1,024th client would
 * make accept() fail. The soft limit is raised as far as the hard limit allows
 * (up to NOFILE_WANT), as Go's runtime does for every program; the hard limit
 * stays the administrator's. A program, not the library, may change this. */
#define NOFILE_WANT 65536

static void raise_nofile(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur >= NOFILE_WANT)
        return;
    rl.rlim_cur = rl.rlim_max < NOFILE_WANT ? rl.rlim_max : NOFILE_WANT;
    (void)setrlimit(RLIMIT_NOFILE, &rl);
}

/* The start-up migration, tried again every second while the database is
 * away at start (kura_cli's start_unavailable), until it runs or fails for
 * another reason; stopped with the service. */
typedef struct migrator {
    kura_app *app;
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t wake;
    bool stop;
} migrator;

static bool still_away(const kura_error *e)
{
    return e->code == KURA_UNAVAILABLE || e->code == KURA_TIMEOUT ||
           e->code == KURA_OUTCOME_UNKNOWN;
}

static void *migrate_later(void *arg)
{
    migrator *m = arg;
    pthread_mutex_lock(&m->lock);
    while (!m->stop) {
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_sec += 1;
        pthread_cond_timedwait(&m->wake, &m->lock, &until);
        if (m->stop)
            break;
        pthread_mutex_unlock(&m->lock);
        kura_error err = {0};
        /* A ping first: it is bounded by the store's timeouts, where a
         * migration waits as long as its statements take. */
        bool ok = kura_store_ping(kura_app_db(m->app), &err) &&
                  kura_app_migrate(m->app, 0, NULL, NULL, NULL, NULL, &err);
        pthread_mutex_lock(&m->lock);
        if (ok) {
            kura_cli_log(KURA_LOG_INFO, "the database answers: the start-up migration ran");
            break;
        }
        if (!still_away(&err)) {
            char msg[400];
            snprintf(msg, sizeof msg, "the start-up migration failed: %s (run migrate)",
                     err.message);
            kura_cli_log(KURA_LOG_ERROR, msg);
            break;
        }
    }
    pthread_mutex_unlock(&m->lock);
    return NULL;
}

static void migrator_stop(migrator *m)
{
    pthread_mutex_lock(&m->lock);
    m->stop = true;
    pthread_cond_signal(&m->wake);
    pthread_mutex_unlock(&m->lock);
    pthread_join(m->thread, NULL);
    pthread_cond_destroy(&m->wake);
    pthread_mutex_destroy(&m->lock);
}

static int run(kura_cli *c, int argc, char **argv)
{
    serve_args a = {.migrate = true};
    int rc = parse(c, argc, argv, &a);
    if (rc != CLI_OK)
        return rc;
    c->start_unavailable = true; /* a database away at start degrades its routes only */
    kura_app *app = kura_cli_app(c);
    if (!app)
        return CLI_ERROR;
    kura_error err = {0};
    /* Additive only: a destructive difference stops the start (KURA_CONFLICT)
     * and is left to `migrate`, where a person decides. A database that is away
     * is migrated once it answers (migrate_later). */
    bool later = false;
    if (a.migrate && !kura_app_migrate(app, 0, NULL, NULL, NULL, NULL, &err)) {
        if (!still_away(&err))
            return kura_cli_fail(c, &err);
        char msg[400];
        snprintf(msg, sizeof msg,
                 "the start-up migration waits for the database: %s; it is tried every second",
                 err.message);
        kura_cli_log(KURA_LOG_WARN, msg);
        later = true;
    }
    kura_http *srv = build(c, app, &a, &err);
    if (!srv)
        return kura_cli_fail(c, &err);

    /* Block the stop signals before any thread exists: the workers inherit the
     * mask, so only sigwait below ever sees them. */
    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGINT);
    sigaddset(&stop, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &stop, NULL);
    signal(SIGPIPE, SIG_IGN); /* a client gone mid-response is the server's error, not a crash */
    raise_nofile();
    if (!kura_http_listen(srv, &err)) {
        kura_http_stop(srv);
        return kura_cli_fail(c, &err);
    }
    migrator m = {.app = app};
    later = later && pthread_mutex_init(&m.lock, NULL) == 0;
    if (later && (pthread_cond_init(&m.wake, NULL) != 0 ||
                  pthread_create(&m.thread, NULL, migrate_later, &m) != 0)) {
        kura_cli_log(KURA_LOG_ERROR, "cannot start the migration retry: run migrate");
        later = false;
    }
    int sig = 0;
    while (sigwait(&stop, &sig) != 0)
        ;
    if (later) /* first: its log lines go to the server's log, which stop frees */
        migrator_stop(&m);
    kura_http_stop(srv);
    return CLI_OK;
}

const cli_command cli_cmd_serve = {"serve", "serve the models as a JSON web service", usage, run};
