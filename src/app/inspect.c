/*
 * inspect.c — kura_inspect by URL: opening a store from a URL is this layer's
 * (drivers.c); reading its catalogue is the SQL layer's (src/sql/inspect.c).
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include <kura/schema.h>

#include "base/url.h"

/* Opening a SQLite file makes it when it is missing: inspecting a mistyped
 * path then printed an empty schema, exit 0, and left an empty database
 * behind. A database to inspect must exist. */
static bool sqlite_file_exists(const char *database_url, kura_error *err)
{
    kura_url u;
    kura_error ignored;
    if (!database_url || !kura_url_parse(database_url, &u, &ignored))
        return true; /* the store's open says what is wrong with it */
    bool ok = true;
    if (u.scheme && strcmp(u.scheme, "sqlite") == 0 && u.path && *u.path &&
        strcmp(u.path, ":memory:") != 0 && access(u.path, F_OK) != 0)
        ok = kura_fail(err, errno == ENOENT ? KURA_NOT_FOUND : KURA_IO, NULL,
                       "no database to inspect at '%.128s': %s", u.path, strerror(errno));
    kura_url_free(&u);
    return ok;
}

kura_schema *kura_inspect(const char *database_url, kura_error *err)
{
    if (!sqlite_file_exists(database_url, err))
        return NULL;
    kura_store *store = kura_store_open(database_url, err);
    if (!store)
        return NULL;
    kura_schema *s = kura_inspect_store(store, err);
    kura_store_close(store);
    return s;
}
