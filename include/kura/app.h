/*
 * kura/app.h — the application object and its configuration.
 *
 * A kura_app owns one connection to every configured store (the guide's
 * Flask `app` with `sa`, `mongo` and `app.redis`). It is built from a
 * kura_config, which gathers settings from defaults, a config file, the
 * environment and command-line flags; later sources win.
 *
 * Settings (config file key / environment variable / flag):
 *   database_url   KURA_DATABASE_URL   --database-url   default sqlite:///kura.db
 *   document_url   KURA_DOCUMENT_URL   --document-url   default: the database file
 *   redis_url      KURA_REDIS_URL      --redis-url      default embedded:
 *   secret         KURA_SECRET         --secret         signs session cookies (below)
 *   admin_password KURA_ADMIN_PASSWORD                  turns the HTTP admin on
 *                                                       (kura_http_mount_admin); unset: off
 *
 * Many threads may share one kura_app. Code running "inside" an app reaches
 * it as the guide reaches Flask's current_app: kura_current_app().
 *
 * The app also keeps the registry of its models: each model is registered
 * with the store it lives in (SQL or documents), and everything that works
 * "on every model" — kura_app_migrate, the kura command (cli.h), the HTTP
 * library's kura_http_mount_all and /health (http.h) — reads the registry.
 */
#ifndef KURA_APP_H
#define KURA_APP_H

#include <stdbool.h>

#include "error.h"
#include "kv.h"
#include "migrate.h"
#include "model.h"
#include "store.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct kura_config kura_config;
typedef struct kura_app kura_app;

/* An empty configuration (every setting at its default). Owned by the caller:
 * kura_config_free. NULL on out of memory. */
kura_config *kura_config_new(void);
void kura_config_free(kura_config *cfg);

/* Sets `key` to a copy of `value` (NULL unsets it). Unknown keys are KURA_CONFIG,
 * a NULL cfg KURA_INVALID (so in the loaders below). */
bool kura_config_set(kura_config *cfg, const char *key, const char *value, kura_error *err);

/* The value of `key`, or NULL when unset (or cfg is NULL). Owned by cfg, valid until it
 * changes. */
const char *kura_config_get(const kura_config *cfg, const char *key);

/* Reads KURA_* environment variables for every known key. */
bool kura_config_load_env(kura_config *cfg, kura_error *err);

/*
 * Reads a config file: one `key = value` per line; blank lines and lines
 * starting with '#' are ignored; values may be quoted with "". An unknown key
 * or a malformed line (no '=', a quote not closed) is KURA_CONFIG naming the
 * line; a file that cannot be opened or read (a directory) KURA_IO.
 */
bool kura_config_load_file(kura_config *cfg, const char *path, kura_error *err);

/*
 * Opens every configured store. A malformed URL, an unknown scheme or an
 * unwritable path fails here, at start-up, with KURA_CONFIG or KURA_IO.
 * cfg is copied: the caller may free it afterwards. The caller owns the app.
 */
kura_app *kura_app_open(const kura_config *cfg, kura_error *err);

/* kura_app_open over defaults and the environment. */
kura_app *kura_app_open_env(kura_error *err);

/* Closes the stores and frees the app. If it is the calling thread's current
 * app, the thread's current app becomes NULL. NULL is a no-op. */
void kura_app_close(kura_app *app);

/* The app's SQL model store (KURA_DATABASE_URL). Owned by the app. */
kura_store *kura_app_db(kura_app *app);

/* The app's document store (KURA_DOCUMENT_URL; by default the database's own
 * file or server, see document.h). Owned by the app. */
kura_store *kura_app_documents(kura_app *app);

/*
 * The app's key-value store (the guide's app.redis), from redis_url:
 * "embedded:" (the default) keeps it in the SQLite database file of
 * database_url (in memory for a :memory: database; with a database that is
 * not SQLite, in its own file "kura-kv.db" in the working directory, or name
 * one: embedded:///path), "redis://..." is a Redis.
 * Owned by the app.
 */
kura_kv *kura_app_kv(kura_app *app);

/*
 * The secret that signs session cookies, *len bytes. It is the `secret`
 * setting (at least 16 bytes, checked by kura_app_open) when given;
 * otherwise 32 random bytes made the first time this is called (the HTTP
 * library calls it at the first request that signs or checks a session or
 * admin cookie, never at start) and kept beside the key-value store's data in
 * `<file>.secret`: `kura.db.secret` by default, `kura-kv.db.secret` with
 * PostgreSQL, `<path>.secret` for `embedded:///path` (with Redis, beside the
 * SQLite database). Mode 0600; a file others can read, or one that is not 32
 * bytes, is refused. So the file moves with the key-value file
 * (KURA_REDIS_URL), and an app that never signs a cookie never makes one. An
 * app with no data file (a :memory: database, or PostgreSQL with Redis) gets
 * fresh random bytes at its first call, so its sessions end with it.
 * Safe to call from many threads; every call returns the same bytes. Owned by
 * the app, valid until kura_app_close; never log it. NULL (with *len 0) when
 * the file cannot be read or made: err says why (KURA_IO, KURA_CONFIG).
 */
const unsigned char *kura_app_secret(kura_app *app, size_t *len, kura_error *err);

/*
 * A default the app chose by itself that its user should hear of once, at
 * start-up (the library prints nothing: a program prints it), or NULL. Today:
 * where the embedded key-value store went when the database is not SQLite.
 * Owned by the app.
 */
const char *kura_app_notice(const kura_app *app);

/* The app's configuration (read-only, owned by the app); NULL for a NULL app. */
const kura_config *kura_app_config(const kura_app *app);

/* --- the model registry ---------------------------------------------------- */

/* Where a registered model's rows live. */
typedef enum kura_model_home {
    KURA_IN_SQL = 1,       /* the SQL store, kura_app_db: tables, kura_app_migrate */
    KURA_IN_DOCUMENTS = 2, /* the document store, kura_app_documents: collections */
} kura_model_home;

/*
 * Registers `model` as living in `home` (KURA_IN_SQL or KURA_IN_DOCUMENTS).
 * The model is borrowed: it must outlive the app. Names are the registry's
 * keys: a second model of the same name is refused with KURA_CONFLICT (to
 * keep one struct in both stores, register a copy under another name, as the
 * guide's MEUser does). So is a model named like a table kura keeps its
 * own data in beside the models (kura_kv, kura_kv_hash, kura_kv_zset: the
 * embedded key-value store, in the database file by default; kura_counters
 * on MongoDB). Any other `home` value is KURA_INVALID, a model
 * without a name or fields KURA_INVALID, no memory KURA_NOMEM.
 *
 * Not thread-safe: register every model before the app is shared with other
 * threads (before kura_http_listen, for instance). Lookups below are
 * read-only and may then run on any number of threads.
 */
bool kura_app_register(kura_app *app, const kura_model *model, kura_model_home home,
                       kura_error *err);

/* The registered model named `name`, or NULL (also for a NULL app or name). */
const kura_model *kura_app_model(const kura_app *app, const char *name);

/* How many models are registered. */
size_t kura_app_model_count(const kura_app *app);

/* The i-th registered model, in registration order, and where it lives (home
 * may be NULL); NULL when i >= kura_app_model_count. */
const kura_model *kura_app_model_at(const kura_app *app, size_t i, kura_model_home *home);

/* The longest path kura_app_set_model_path takes, in bytes. */
#define KURA_APP_PATH_MAX 128

/*
 * Sets the HTTP path kura_http_mount_all (and so `kura serve`) serves the
 * registered model `name` under, instead of "/<name>"; a schema file's
 * "path" arrives here. `path` starts with '/' and has at most
 * KURA_APP_PATH_MAX bytes (else KURA_INVALID); it is copied. An unknown model
 * is KURA_NOT_FOUND. Not thread-safe, like kura_app_register.
 */
bool kura_app_set_model_path(kura_app *app, const char *name, const char *path, kura_error *err);

/* The path set by kura_app_set_model_path for model `name`, or NULL when none
 * was set or no such model is registered (the HTTP library then uses
 * "/<name>"). Owned by the app. */
const char *kura_app_model_path(const kura_app *app, const char *name);

/* The store a registered model lives in (owned by the app); NULL when the
 * model (compared by name) is not registered. */
kura_store *kura_app_model_store(kura_app *app, const kura_model *model);

/*
 * Brings the stores up to the registered models: kura_migrate over every
 * KURA_IN_SQL model (flags, plan, ctx, script, changes and errors as there),
 * then, unless KURA_MIGRATE_DRY_RUN, kura_create for every KURA_IN_DOCUMENTS
 * model (its collection and indexes; a no-op when they exist). With no model
 * registered it succeeds with nothing to do. A KURA_IN_SQL model whose field
 * references a model the app does not keep KURA_IN_SQL is KURA_INVALID, before
 * anything is planned (the foreign key needs that table in the same database).
 */
bool kura_app_migrate(kura_app *app, unsigned flags, kura_migrate_plan_fn plan, void *ctx,
                      char **script, size_t *changes, kura_error *err);

/*
 * The calling thread's current app (the guide's current_app), or NULL.
 * kura_app_enter makes `app` current on this thread and returns the previous
 * one, which kura_app_leave restores: enter/leave nest like a request context.
 */
kura_app *kura_current_app(void);
kura_app *kura_app_enter(kura_app *app);
void kura_app_leave(kura_app *previous);

#ifdef __cplusplus
}
#endif
#endif
