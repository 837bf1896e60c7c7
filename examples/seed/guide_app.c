/* guide_app.c — the guide's models, registered, and its routes, mounted. */
#include "guide_app.h"

#include "me_user.h"
#include "sa_user.h"

bool guide_setup(kura_app *app, void *ctx, kura_error *err)
{
    (void)ctx;
    return kura_app_register(app, &sa_user_model, KURA_IN_SQL, err) &&
           kura_app_register(app, me_user_model(), KURA_IN_DOCUMENTS, err);
}

bool guide_mount(kura_http *srv, kura_app *app, void *ctx, kura_error *err)
{
    (void)app, (void)ctx;
    return kura_http_mount(srv, "/users", "sa_user", err) &&
           kura_http_mount(srv, "/me_users", "m_e_user", err) &&
           kura_http_mount_sessions(srv, NULL, err) && kura_http_mount_rankings(srv, NULL, err) &&
           kura_http_mount_health(srv, NULL, err) && kura_http_mount_metrics(srv, NULL, err) &&
           kura_http_mount_openapi(srv, NULL, err) && kura_http_mount_admin(srv, NULL, err);
}
