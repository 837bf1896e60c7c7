/* document.c — the JSON document stores over a SQL driver, and what every document store is. */
#include <kura/document.h>

#include "document/document_private.h"
#include "sql/sql_private.h"

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
