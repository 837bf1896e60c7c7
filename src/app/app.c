/* app.c — the application object: configuration in, stores out. */
#include <kura/app.h>
#include <kura/document.h>

#include <errno.h>
#include <stdint.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/app_private.h"
#include "kv/kv_private.h"
#include "sql/sql_private.h"

#define DEFAULT_DATABASE_URL "sqlite:///kura.db"

struct kura_app {
    kura_config *config;
    kura_store *db;
    kura_store *docs; /* the document store (KURA_DOCUMENT_URL) */
    kura_kv *kv;      /* redis_url (app_kv.c) */
    /* The secret that signs cookies, made at its first use (kura_app_secret):
     * an app that never signs a cookie leaves no secret file behind. */
    pthread_mutex_t secret_lock;
    char *secret_path;     /* where it is kept, or NULL (configured, or ephemeral) */
    unsigned char *secret; /* NULL until first asked for; under secret_lock */
    size_t secret_len;
    char notice[192];    /* a default kura chose that the user should hear of, or "" */
    app_registry models; /* registry.c */
};

/* The guide's current_app: per thread, set by enter/leave. The one piece of
 * state outside an app, and it only points at one. */
static _Thread_local kura_app *current;

kura_app *kura_current_app(void)
{
    return current;
}

kura_app *kura_app_enter(kura_app *app)
{
    kura_app *previous = current;
    current = app;
    return previous;
}

void kura_app_leave(kura_app *previous)
{
    current = previous;
}

/* Setting key as a whole number in [0, max]; def when it is not set. */
static bool setting_int(const kura_config *cfg, const char *key, long long def, long long max,
                        long long *out, kura_error *err)
{
    const char *v = kura_config_get(cfg, key);
    *out = def;
    if (!v || !*v)
        return true;
    char *end;
    errno = 0;
    long long n = strtoll(v, &end, 10);
    if (errno || *end || n < 0 || n > max || end == v)
        return kura_fail(err, KURA_CONFIG, NULL, "%s: '%.32s' is not a whole number from 0 to %lld",
                         key, v, max);
    *out = n;
    return true;
}

/*
 * The database, with read replicas when database_replica_urls names any: a
 * replica more than max_lag_ms (default 1000) behind in time or whose WAL is
 * more than max_lag_bytes (default 16 MiB) behind is left out; each is checked
 * every check_ms (default 1000).
 */
static kura_store *open_database(const kura_config *cfg, const char *url, kura_error *err)
{
    const char *replicas = kura_config_get(cfg, "database_replica_urls");
    if (!replicas || !replicas[strspn(replicas, " \t\n,")])
        return kura_store_open(url, err);
    long long lag_ms, lag_bytes, check_ms;
    if (!setting_int(cfg, "database_replica_max_lag_ms", 1000, 86400000, &lag_ms, err) ||
        !setting_int(cfg, "database_replica_max_lag_bytes", 16 << 20, INT64_MAX, &lag_bytes, err) ||
        !setting_int(cfg, "database_replica_check_ms", 1000, 3600000, &check_ms, err))
        return NULL;
    /* Whose writes a read must see: every write the app made ("app"), or only the
     * reading thread's own ("thread"; more reads stay on replicas under writes). */
    const char *ryw = kura_config_get(cfg, "database_replica_read_your_writes");
    if (ryw && *ryw && strcmp(ryw, "app") != 0 && strcmp(ryw, "thread") != 0) {
        kura_fail(err, KURA_CONFIG, NULL,
                  "database_replica_read_your_writes: '%.32s' is neither app nor thread", ryw);
        return NULL;
    }
    kura_sql_replica_opts o = {.max_lag_ms = (long)lag_ms,
                               .max_lag_bytes = lag_bytes,
                               .check_ms = (long)check_ms,
                               .per_thread = ryw && strcmp(ryw, "thread") == 0};
    return kura_store_open_replicated(url, replicas, &o, err);
}

kura_app *kura_app_open(const kura_config *cfg, kura_error *err)
{
    kura_app *app = calloc(1, sizeof *app);
    if (!app || !(app->config = kura_config_new())) {
        free(app);
        kura_fail(err, KURA_NOMEM, NULL, "out of memory");
        return NULL;
    }
    if (pthread_mutex_init(&app->secret_lock, NULL) != 0) {
        kura_config_free(app->config);
        free(app);
        kura_fail(err, KURA_NOMEM, NULL, "cannot make a lock");
        return NULL;
    }
    if (cfg && !kura_config_copy(app->config, cfg, err))
        goto fail;
    const char *db_url = kura_config_get(app->config, "database_url");
    if (!db_url || !*db_url)
        db_url = DEFAULT_DATABASE_URL;
    app->db = open_database(app->config, db_url, err);
    if (!app->db)
        goto fail;
    /* Documents default to the database's own file (or server): one place to
     * back up, and collections are tables beside the relational ones. */
    const char *doc_url = kura_config_get(app->config, "document_url");
    app->docs = kura_document_store_open(doc_url && *doc_url ? doc_url : db_url, err);
    if (!app->docs)
        goto fail;
    if (!kura_app_kv_open(app->config, db_url, &app->kv, &app->secret_path, err))
        goto fail;
    const char *kv_url = kura_config_get(app->config, "redis_url");
    if ((!kv_url || !*kv_url || strcmp(kv_url, "embedded:") == 0) &&
        strncmp(db_url, "sqlite:", 7) != 0)
        snprintf(app->notice, sizeof app->notice,
                 "the key-value store is embedded in ./%s: the database is not SQLite (set "
                 "KURA_REDIS_URL to choose)",
                 KURA_EMBEDDED_KV_DEFAULT_FILE);
    return app;
fail:
    kura_app_close(app);
    return NULL;
}

kura_app *kura_app_open_env(kura_error *err)
{
    kura_config *cfg = kura_config_new();
    if (!cfg) {
        kura_fail(err, KURA_NOMEM, NULL, "out of memory");
        return NULL;
    }
    kura_app *app = kura_config_load_env(cfg, err) ? kura_app_open(cfg, err) : NULL;
    kura_config_free(cfg);
    return app;
}

void kura_app_close(kura_app *app)
{
    if (!app)
        return;
    if (current == app)
        current = NULL;
    kura_kv_close(app->kv);
    kura_app_secret_free(app->secret, app->secret_len);
    free(app->secret_path);
    pthread_mutex_destroy(&app->secret_lock);
    kura_store_close(app->docs);
    kura_store_close(app->db);
    kura_config_free(app->config);
    kura_registry_free(&app->models);
    free(app);
}

kura_store *kura_app_db(kura_app *app)
{
    return app ? app->db : NULL;
}

kura_store *kura_app_documents(kura_app *app)
{
    return app ? app->docs : NULL;
}

kura_kv *kura_app_kv(kura_app *app)
{
    return app ? app->kv : NULL;
}

const unsigned char *kura_app_secret(kura_app *app, size_t *len, kura_error *err)
{
    if (len)
        *len = 0;
    if (!app) {
        kura_fail(err, KURA_INVALID, NULL, "no app");
        return NULL;
    }
    /* Once made, the secret never changes until the app closes: the lock only
     * keeps two first users from making it twice. */
    pthread_mutex_lock(&app->secret_lock);
    if (!app->secret)
        kura_app_secret_load(app->config, app->secret_path, &app->secret, &app->secret_len, err);
    const unsigned char *s = app->secret;
    if (s && len)
        *len = app->secret_len;
    pthread_mutex_unlock(&app->secret_lock);
    return s;
}

const char *kura_app_notice(const kura_app *app)
{
    return app && app->notice[0] ? app->notice : NULL;
}

const kura_config *kura_app_config(const kura_app *app)
{
    return app ? app->config : NULL;
}

app_registry *kura_app_registry(kura_app *app)
{
    return &app->models;
}

const app_registry *kura_app_registry_const(const kura_app *app)
{
    return &app->models;
}
