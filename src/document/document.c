/* document.c — the JSON document stores over a SQL driver, and what every document store is. */
#include <kura/document.h>

#include <stdlib.h>
#include <string.h>

#include "document/document_private.h"
#include "document/sqljson_private.h"

kura_store *kura_sqljson_sqlite_open(const char *url, kura_error *err)
{
    return kura_sqljson_store_new(kura_sqlite_store_open(url, err), err);
}

kura_store *kura_sqljson_pg_open(const char *url, kura_error *err)
{
    return kura_sqljson_store_new(kura_pg_store_open(url, err), err);
}

bool kura_store_is_document(const kura_store *store)
{
    return kura_sqljson_is(store) || kura_mongo_is(store);
}

bool kura_document_get_json(kura_store *store, const kura_model *model, const char *key,
                            json_t **out, kura_error *err)
{
    if (!store || !model || !key || !out)
        return kura_fail(err, KURA_INVALID, NULL,
                         "kura_document_get_json needs a store, a "
                         "model, a key and somewhere to put the document");
    *out = NULL;
    if (!store->ops->get_json)
        return kura_fail(err, KURA_UNSUPPORTED, NULL, "%s is not a document store",
                         kura_store_driver(store));
    int64_t id = 0;
    char text[KURA_KEY_BYTES];
    if (!kura_key_parse(model, key, &id, text, err))
        return false;
    kura_keyref k = {id, model->key == KURA_KEY_INT64 ? NULL : text};
    return store->ops->get_json(store, model, &k, out, err);
}

bool kura_document_upgrade(kura_store *store, const kura_model *model, bool dry_run, char **sql,
                           kura_error *err)
{
    if (!sql)
        return kura_fail(err, KURA_INVALID, NULL,
                         "kura_document_upgrade needs somewhere to put "
                         "the statements");
    *sql = NULL;
    if (!store || !model)
        return kura_fail(err, KURA_INVALID, NULL,
                         "kura_document_upgrade needs a store and a model");
    if (kura_sqljson_is(store)) {
        bool was_patient = kura__sql_patient(true); /* it reads and writes every document */
        bool ok = kura__sqljson_upgrade(store, model, dry_run, sql, err);
        kura__sql_patient(was_patient);
        return ok;
    }
    if (!kura_store_is_document(store))
        return kura_fail(err, KURA_UNSUPPORTED, NULL, "%s is not a document store",
                         kura_store_driver(store));
    *sql = strdup(""); /* MongoDB: documents have no layout to change */
    return *sql ? true : kura_fail(err, KURA_NOMEM, NULL, "out of memory");
}
