/* mongo.c — placeholder until the MongoDB driver lands. */
#include "document/document_private.h"

kura_store *kura_mongo_store_open(const char *url, kura_error *err)
{
    (void)url;
    kura_fail(err, KURA_CONFIG, NULL, "MongoDB driver not built yet");
    return NULL;
}

bool kura_mongo_is(const kura_store *store)
{
    (void)store;
    return false;
}
