/*
 * inspect.c — kura_inspect by URL: opening a store from a URL is this layer's
 * (drivers.c); reading its catalogue is the SQL layer's (src/sql/inspect.c).
 */
#include <kura/schema.h>

kura_schema *kura_inspect(const char *database_url, kura_error *err)
{
    kura_store *store = kura_store_open(database_url, err);
    if (!store)
        return NULL;
    kura_schema *s = kura_inspect_store(store, err);
    kura_store_close(store);
    return s;
}
