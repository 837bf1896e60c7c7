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
 *
 * Many threads may share one kura_app. Code running "inside" an app reaches
 * it as the guide reaches Flask's current_app: kura_current_app().
 */
#ifndef KURA_APP_H
#define KURA_APP_H

#include <stdbool.h>

#include "error.h"
#include "kv.h"
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

/* Sets `key` to a copy of `value` (NULL unsets it). Unknown keys are KURA_CONFIG. */
bool kura_config_set(kura_config *cfg, const char *key, const char *value, kura_error *err);

/* The value of `key`, or NULL when unset. Owned by cfg, valid until it changes. */
const char *kura_config_get(const kura_config *cfg, const char *key);

/* Reads KURA_* environment variables for every known key. */
bool kura_config_load_env(kura_config *cfg, kura_error *err);

/*
 * Reads a config file: one `key = value` per line; blank lines and lines
 * starting with '#' are ignored; values may be quoted with "". An unknown key
 * or a malformed line is KURA_CONFIG naming the line; an unreadable file KURA_IO.
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
 * setting (at least 16 bytes) when given; otherwise 32 random bytes made at
 * the first start and kept beside the data in `<database file>.secret`
 * (mode 0600; a file others can read is refused). An app with no data file
 * (a :memory: database, or PostgreSQL with Redis and no secret set) gets a
 * fresh secret at each start, so its sessions end with it. Owned by the app;
 * never log it.
 */
const unsigned char *kura_app_secret(const kura_app *app, size_t *len);

/*
 * A default the app chose by itself that its user should hear of once, at
 * start-up (the library prints nothing: a program prints it), or NULL. Today:
 * where the embedded key-value store went when the database is not SQLite.
 * Owned by the app.
 */
const char *kura_app_notice(const kura_app *app);

/* The app's configuration (read-only, owned by the app). */
const kura_config *kura_app_config(const kura_app *app);

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
