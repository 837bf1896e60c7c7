/*
 * guide_app.h — the guide's application as a service: which models it has and
 * where they are served. Used by guide_service.c (through kura_main) and by
 * the service tests, so both serve exactly the same routes.
 */
#ifndef GUIDE_APP_H
#define GUIDE_APP_H

#include <kura/cli.h>
#include <kura/http.h>
#include <kura/kura.h>

/* Registers SAUser (SQL, table sa_user) and MEUser (documents, collection
 * m_e_user, MongoEngine's name for it) on app. A kura_setup_fn: ctx is unused. */
bool guide_setup(kura_app *app, void *ctx, kura_error *err);

/* Mounts /users (SAUser), /me_users (MEUser), /session, /rankings, /health
 * and /metrics. A kura_mount_fn: ctx is unused. */
bool guide_mount(kura_http *srv, kura_app *app, void *ctx, kura_error *err);

/* The guide's own commands beside kura's: `seed N` and `users`. */
extern const kura_command guide_commands[];
extern const size_t guide_ncommands;

#endif
