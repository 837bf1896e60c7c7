/* app_private.h — what the app's parts share inside the library. */
#ifndef KURA_APP_PRIVATE_H
#define KURA_APP_PRIVATE_H

#include <kura/app.h>
#include <kura/kv.h>

struct kura_sql_replica_opts;

/* The SQL store at url with read replicas at the URLs in `replicas` (drivers.c);
 * KURA_CONFIG for a database that has none. */
kura_store *kura_store_open_replicated(const char *url, const char *replicas,
                                       const struct kura_sql_replica_opts *opts, kura_error *err);

/* Copies every setting of src into dst. */
bool kura_config_copy(kura_config *dst, const kura_config *src, kura_error *err);

/*
 * Opens the app's key-value store (setting redis_url; a bare "embedded:" is the
 * database file of database_url) and checks the `secret` setting, without
 * making any secret (app_kv.c). *secret_path is where the secret is kept when
 * it is not configured ("<data file>.secret"), or NULL: configured, or no data
 * file (ephemeral). On success the caller owns *kv (kura_kv_close) and
 * *secret_path (free).
 */
bool kura_app_kv_open(const kura_config *cfg, const char *database_url, kura_kv **kv,
                      char **secret_path, kura_error *err);

/*
 * The secret: the `secret` setting, else the file at path (read, or made with
 * fresh random bytes, whole or not at all, also when processes race), else
 * (path NULL) fresh random bytes. The caller owns *secret: kura_app_secret_free.
 */
bool kura_app_secret_load(const kura_config *cfg, const char *path, unsigned char **secret,
                          size_t *secret_len, kura_error *err);
void kura_app_secret_free(unsigned char *secret, size_t secret_len);

/* The app's models (registry.c): borrowed descriptors in registration order. */
typedef struct app_model {
    const kura_model *model;
    kura_model_home home;
    char *path; /* where kura_http_mount_all serves it; NULL: "/<name>" */
} app_model;
typedef struct app_registry {
    app_model *items;
    size_t count, cap;
} app_registry;

/* The app's registry (app.c); never NULL for an app. */
app_registry *kura_app_registry(kura_app *app);
const app_registry *kura_app_registry_const(const kura_app *app);

/* Frees what the registry allocated (the models are borrowed). */
void kura_registry_free(app_registry *reg);

#endif
