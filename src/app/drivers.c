/*
 * drivers.c — the one table of store drivers: a URL's scheme picks the driver, for
 * every store kind (kura_store_open, kura_document_store_open, kura_kv_open). A new
 * driver is one entry here and its own file below.
 */
#include <kura/document.h>
#include <kura/kv.h>
#include <kura/store.h>

#include <string.h>

#include "app/app_private.h"
#include "base/buf.h"
#include "document/document_private.h"
#include "kv/kv_private.h"
#include "sql/sql_private.h"

typedef enum driver_kind { DRIVER_SQL, DRIVER_DOCUMENTS, DRIVER_KV } driver_kind;

typedef struct driver_entry {
    driver_kind kind;
    const char *scheme;                                          /* matched with its ':' */
    kura_store *(*open_store)(const char *url, kura_error *err); /* SQL and documents */
    kura_kv *(*open_kv)(const char *url, kura_error *err);       /* key-value */
    /* SQL with read replicas; NULL: the database has none. */
    kura_store *(*open_replicated)(const char *url, const char *replicas,
                                   const kura_sql_replica_opts *opts, kura_error *err);
    const char *refusal; /* a scheme kura knows but this build cannot open */
    bool listed;         /* named in "known: ..." (aliases are not) */
} driver_entry;

static const driver_entry drivers[] = {
    {DRIVER_SQL, "sqlite", kura_sqlite_store_open, NULL, NULL, NULL, true},
    {DRIVER_SQL, "postgresql", kura_pg_store_open, NULL, kura_pg_store_open_replicated, NULL, true},
    {DRIVER_SQL, "postgres", kura_pg_store_open, NULL, kura_pg_store_open_replicated, NULL, false},
    {DRIVER_DOCUMENTS, "sqlite", kura_sqljson_sqlite_open, NULL, NULL, NULL, true},
    {DRIVER_DOCUMENTS, "postgresql", kura_sqljson_pg_open, NULL, NULL, NULL, true},
    {DRIVER_DOCUMENTS, "postgres", kura_sqljson_pg_open, NULL, NULL, NULL, false},
    {DRIVER_DOCUMENTS, "mongodb", kura_mongo_store_open, NULL, NULL, NULL, true},
    {DRIVER_DOCUMENTS, "mongodb+srv", kura_mongo_store_open, NULL, NULL, NULL, false},
    {DRIVER_KV, "embedded", NULL, kura_embedded_kv_open, NULL, NULL, true},
    {DRIVER_KV, "redis", NULL, kura_redis_kv_open, NULL, NULL, true},
    {DRIVER_KV, "unix", NULL, kura_redis_kv_open, NULL, NULL, true},
    {DRIVER_KV, "redis+sentinel", NULL, kura_redis_kv_open, NULL, NULL, true},
    {DRIVER_KV, "rediss", NULL, NULL, NULL, "rediss:// (TLS) is not supported by this build",
     false},
};

static const char *const kind_names[] = {"store", "document store", "key-value"};

/* The entry for url's scheme, or NULL with err filled (no URL, no scheme, unknown). */
static const driver_entry *find(driver_kind kind, const char *url, kura_error *err)
{
    if (!url || !*url) {
        kura_fail(err, KURA_CONFIG, NULL, "no %s URL given", kind_names[kind]);
        return NULL;
    }
    const char *colon = strchr(url, ':');
    if (!colon) {
        kura_fail(err, KURA_CONFIG, NULL, "malformed %s URL '%.64s': no scheme", kind_names[kind],
                  url);
        return NULL;
    }
    size_t n = (size_t)(colon - url);
    for (size_t i = 0; i < sizeof drivers / sizeof drivers[0]; i++) {
        const driver_entry *d = &drivers[i];
        if (d->kind != kind || strlen(d->scheme) != n || strncmp(url, d->scheme, n) != 0)
            continue;
        if (d->refusal) {
            kura_fail(err, KURA_CONFIG, NULL, "%s", d->refusal);
            return NULL;
        }
        return d;
    }
    char stack[128];
    kura_buf known;
    kura_buf_init(&known, stack, sizeof stack);
    for (size_t i = 0; i < sizeof drivers / sizeof drivers[0]; i++)
        if (drivers[i].kind == kind && drivers[i].listed)
            kura_buf_addf(&known, "%s%s", known.len ? ", " : "", drivers[i].scheme);
    kura_fail(err, KURA_CONFIG, NULL, "unknown %s URL scheme '%.*s' (known: %s)", kind_names[kind],
              (int)(n > 32 ? 32 : n), url, known.oom ? "?" : known.data);
    kura_buf_free(&known);
    return NULL;
}

kura_store *kura_store_open(const char *url, kura_error *err)
{
    const driver_entry *d = find(DRIVER_SQL, url, err);
    return d ? d->open_store(url, err) : NULL;
}

kura_store *kura_store_open_replicated(const char *url, const char *replicas,
                                       const kura_sql_replica_opts *opts, kura_error *err)
{
    const driver_entry *d = find(DRIVER_SQL, url, err);
    if (d && !d->open_replicated)
        kura_fail(err, KURA_CONFIG, NULL, "%s databases have no read replicas", d->scheme);
    return d && d->open_replicated ? d->open_replicated(url, replicas, opts, err) : NULL;
}

kura_store *kura_document_store_open(const char *url, kura_error *err)
{
    const driver_entry *d = find(DRIVER_DOCUMENTS, url, err);
    return d ? d->open_store(url, err) : NULL;
}

kura_kv *kura_kv_open(const char *url, kura_error *err)
{
    const driver_entry *d = find(DRIVER_KV, url, err);
    return d ? d->open_kv(url, err) : NULL;
}
