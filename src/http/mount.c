/*
 * mount.c — registered models as collections (kura_http_mount), and the
 * one-call set of routes `kura serve` gives (kura_http_mount_defaults).
 */
#include <stdio.h>
#include <string.h>

#include "http/internal.h"

bool kura_http_mount(kura_http *srv, const char *path, const char *name, kura_error *err)
{
    if (!srv || !name)
        return kura_fail(err, KURA_INVALID, NULL, "kura_http_mount needs a server and a model");
    if (!http_path_ok(path))
        return kura_fail(err, KURA_INVALID, NULL,
                         "'%.64s' cannot prefix a collection (\"/name[/more]\": no trailing '/', "
                         "no {name} segment)",
                         path ? path : "(null)");
    kura_model_home home;
    const kura_model *model = NULL;
    for (size_t i = 0; i < kura_app_model_count(srv->app); i++) {
        const kura_model *m = kura_app_model_at(srv->app, i, &home);
        if (strcmp(m->name, name) == 0) {
            model = m;
            break;
        }
    }
    if (!model)
        return kura_fail(err, KURA_NOT_FOUND, NULL,
                         "no model named '%.64s' is registered on the app (kura_app_register)",
                         name);
    kura_store *store = kura_app_model_store(srv->app, model);
    if (!store)
        return kura_fail(err, KURA_CONFIG, NULL, "the store of model '%.64s' is not open", name);
    http_collection c = {.store = store,
                         .model = model,
                         .kind = home == KURA_IN_SQL ? HTTP_STORE_SQL : HTTP_STORE_DOCUMENT};
    return http_add_collection(srv, path, &c, err);
}

bool kura_http_mount_all(kura_http *srv, kura_error *err)
{
    if (!srv)
        return kura_fail(err, KURA_INVALID, NULL, "no server");
    for (size_t i = 0; i < kura_app_model_count(srv->app); i++) {
        const kura_model *m = kura_app_model_at(srv->app, i, NULL);
        const char *set = kura_app_model_path(srv->app, m->name);
        if (set) {
            if (!kura_http_mount(srv, set, m->name, err)) {
                /* The path is the program's or a schema file's: say whose. */
                char was[sizeof err->message];
                memcpy(was, err->message, sizeof was);
                kura_fail(err, err->code, NULL, "model %.64s: %.180s", m->name, was);
                return false;
            }
            continue;
        }
        char path[160];
        if (snprintf(path, sizeof path, "/%s", m->name) >= (int)sizeof path)
            return kura_fail(err, KURA_INVALID, NULL, "the model name '%.64s...' is too long",
                             m->name);
        if (!kura_http_mount(srv, path, m->name, err))
            return false;
    }
    return true;
}

bool kura_http_mount_defaults(kura_http *srv, kura_error *err)
{
    return kura_http_mount_all(srv, err) && kura_http_mount_sessions(srv, NULL, err) &&
           kura_http_mount_rankings(srv, NULL, err) && kura_http_mount_health(srv, NULL, err) &&
           kura_http_mount_metrics(srv, NULL, err) && kura_http_mount_openapi(srv, NULL, err) &&
           kura_http_mount_admin(srv, NULL, err);
}
