/* app_migrate.c — kura_app_migrate: the registry's models brought into their stores. */
#include <stdlib.h>

#include "app/app_private.h"

bool kura_app_migrate(kura_app *app, unsigned flags, kura_migrate_plan_fn plan, void *ctx,
                      char **script, size_t *changes, kura_error *err)
{
    if (script)
        *script = NULL;
    if (changes)
        *changes = 0;
    if (!app)
        return kura_fail(err, KURA_INVALID, NULL, "no app to migrate");
    const app_registry *reg = kura_app_registry_const(app);
    const kura_model **sql = malloc((reg->count ? reg->count : 1) * sizeof *sql);
    if (!sql)
        return kura_fail(err, KURA_NOMEM, NULL, "out of memory");
    size_t nsql = 0;
    for (size_t i = 0; i < reg->count; i++)
        if (reg->items[i].home == KURA_IN_SQL)
            sql[nsql++] = reg->items[i].model;
    bool ok = kura_migrate(kura_app_db(app), sql, nsql, flags, plan, ctx, script, changes, err);
    free(sql);
    if (!ok || (flags & KURA_MIGRATE_DRY_RUN))
        return ok;
    /* Collections and their indexes before any traffic (documents would make
     * them on first use too, but an index built under load is slow to come). */
    for (size_t i = 0; i < reg->count; i++)
        if (reg->items[i].home == KURA_IN_DOCUMENTS &&
            !kura_create(kura_app_documents(app), reg->items[i].model, err))
            return false;
    return true;
}
