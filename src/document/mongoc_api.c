/* mongoc_api.c — loading libmongoc on first use (mongoc_api.h says why). */
#include "document/mongoc_api.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

/* Written once, under the pthread_once below, then only read: the binding of
 * a process-wide library, as libmongoc's own initialisation is process-wide. */
static kura_mongoc_api api;
static const kura_mongoc_api *loaded;
static char why[256];
static pthread_once_t once = PTHREAD_ONCE_INIT;

static void load(void)
{
    /* RTLD_GLOBAL: a program that links libmongoc itself shares this copy. */
    void *lib = dlopen(KURA_MONGOC_SONAME, RTLD_NOW | RTLD_GLOBAL);
    if (!lib) {
        const char *e = dlerror();
        snprintf(why, sizeof why, "%s", e ? e : KURA_MONGOC_SONAME " not found");
        return;
    }
#define KURA_MONGOC_BIND(name)                                                                     \
    *(void **)&api.name = dlsym(lib, "mongoc_" #name);                                             \
    if (!api.name) {                                                                               \
        snprintf(why, sizeof why, "%s has no mongoc_%s", KURA_MONGOC_SONAME, #name);               \
        return;                                                                                    \
    }
    KURA_MONGOC_FUNCTIONS(KURA_MONGOC_BIND)
#undef KURA_MONGOC_BIND
    loaded = &api;
}

const kura_mongoc_api *kura__mongoc_load(kura_error *err)
{
    pthread_once(&once, load);
    if (!loaded)
        kura_fail(err, KURA_UNSUPPORTED, NULL,
                  "the MongoDB driver needs libmongoc (Debian: libmongoc-1.0-0): %s", why);
    return loaded;
}

const kura_mongoc_api *kura__mongoc(void)
{
    return loaded;
}
