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
