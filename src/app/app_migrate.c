/* app_migrate.c — kura_app_migrate: the registry's models brought into their stores. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <kura/document.h>

#include "app/app_private.h"
#include "base/log_private.h"

/* Without KURA_MIGRATE_UPGRADE_DOCUMENTS, a collection of the JSON layout is
 * only said (once per migration): it works, slower than columns. */
static bool warn_old_layout(kura_app *app, const kura_model *m)
{
    char *text = NULL;
    kura_error ignored;
    if (kura_document_upgrade(kura_app_documents(app), m, true, &text, &ignored) && *text) {
        char msg[256];
        snprintf(msg, sizeof msg,
                 "collection %s is of the layout kura used before (the whole document in one "
                 "JSON column): it works; `kura migrate` rewrites it into columns, which are "
                 "as fast as a table's",
                 m->name);
        kura__log(KURA_LOG_WARN, "documents", msg);
    }
    free(text);
    return true;
}

/* A document collection of the JSON layout, rewritten into columns: one
 * change, its statements appended to the script. */
static bool upgrade(kura_app *app, const kura_model *m, unsigned flags, kura_migrate_plan_fn plan,
                    void *ctx, char **script, size_t *changes, kura_error *err)
{
    char *text = NULL;
    if (!kura_document_upgrade(kura_app_documents(app), m, flags & KURA_MIGRATE_DRY_RUN, &text,
                               err))
        return false;
    if (!*text) {
        free(text);
        return true;
    }
    if (plan) {
        kura_change c = {.kind = KURA_CHANGE_UPGRADE_COLLECTION,
                         .table = m->name,
                         .column = NULL,
                         .detail = "(documents: whole JSON -> a column per field)",
                         .sql = text};
        plan(&c, ctx);
    }
    size_t n = 0;
    for (const char *p = text; *p; p++)
        n += *p == '\n';
    if (changes)
        *changes += n;
    if (script) {
        size_t had = *script ? strlen(*script) : 0;
        char *grown = realloc(*script, had + strlen(text) + 1);
        if (!grown) {
            free(text);
            return kura_fail(err, KURA_NOMEM, NULL, "out of memory");
        }
        strcpy(grown + had, text);
        *script = grown;
    }
    free(text);
    return true;
}

/* A SQL model's references name models the app keeps in its SQL store: the
 * foreign key needs their table in the same database. */
static bool references_registered(kura_app *app, const kura_model *const *sql, size_t n,
                                  kura_error *err)
{
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < sql[i]->nfields; j++) {
            const kura_field *f = &sql[i]->fields[j];
            if (!f->references || !f->references->name)
                continue;
            kura_model_home home;
            const kura_model *r = NULL;
            for (size_t k = 0; (r = kura_app_model_at(app, k, &home)) != NULL; k++)
                if (strcmp(r->name, f->references->name) == 0)
                    break;
            if (!r || home != KURA_IN_SQL)
                return kura_fail(err, KURA_INVALID, f->name,
                                 "%.64s.%.64s references %.64s, which the app %s: register it "
                                 "KURA_IN_SQL as well",
                                 sql[i]->name, f->name, f->references->name,
                                 r ? "keeps in its document store" : "has not registered");
        }
    return true;
}

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
    if (!references_registered(app, sql, nsql, err)) {
        free(sql);
        return false;
    }
    bool ok = kura_migrate(kura_app_db(app), sql, nsql, flags, plan, ctx, script, changes, err);
    free(sql);
    for (size_t i = 0; ok && i < reg->count; i++)
        if (reg->items[i].home == KURA_IN_DOCUMENTS)
            ok = (flags & KURA_MIGRATE_UPGRADE_DOCUMENTS)
                     ? upgrade(app, reg->items[i].model, flags, plan, ctx, script, changes, err)
                     : warn_old_layout(app, reg->items[i].model);
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
