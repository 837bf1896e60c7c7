/* document.c — kura_document_store_open: the URL's scheme picks the driver. */
#include <kura/document.h>

#include <string.h>

#include "document/document_private.h"

static bool has_prefix(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

kura_store *kura_document_store_open(const char *url, kura_error *err)
{
    if (!url || !*url) {
        kura_fail(err, KURA_CONFIG, NULL, "no document store URL given");
        return NULL;
    }
    if (has_prefix(url, "sqlite:"))
        return kura_sqljson_store_new(kura_sqlite_store_open(url, err), err);
    if (has_prefix(url, "postgresql:") || has_prefix(url, "postgres:")) {
#ifdef KURA_HAVE_POSTGRES
        return kura_sqljson_store_new(kura_pg_store_open(url, err), err);
#else
        kura_fail(err, KURA_CONFIG, NULL, "this kura is built without the PostgreSQL driver");
        return NULL;
#endif
    }
    if (has_prefix(url, "mongodb:") || has_prefix(url, "mongodb+srv:"))
        return kura_mongo_store_open(url, err);
    const char *colon = strchr(url, ':');
    if (!colon)
        kura_fail(err, KURA_CONFIG, NULL, "malformed document store URL '%.64s': no scheme", url);
    else
        kura_fail(err, KURA_CONFIG, NULL,
                  "unknown document store URL scheme '%.*s' (known: sqlite, postgresql, mongodb)",
                  (int)(colon - url > 32 ? 32 : colon - url), url);
    return NULL;
}

bool kura_store_is_document(const kura_store *store)
{
    return kura_sqljson_is(store) || kura_mongo_is(store);
}
