/*
 * mongoc_api.h — libmongoc, loaded when a MongoDB store is first opened.
 *
 * libmongoc brings in some twenty libraries (ICU, libmongocrypt, SASL and its
 * plugins, snappy, zstd, libstdc++) and initialises OpenSSL and SASL from a
 * constructor as soon as it is loaded: 5.5 MiB resident and its start-up in
 * every kura program, MongoDB or not. So kura does not link it; the MongoDB
 * driver (mongo.c) calls it through this table, filled with dlsym once.
 * libbson, which the field types use, stays linked.
 */
#ifndef KURA_MONGOC_API_H
#define KURA_MONGOC_API_H

#include <mongoc/mongoc.h>

#include <kura/error.h>

/* The libmongoc functions kura calls (X(name) for mongoc_<name>). */
#define KURA_MONGOC_FUNCTIONS(X)                                                                   \
    X(client_command_simple)                                                                       \
    X(client_get_collection)                                                                       \
    X(client_get_database)                                                                         \
    X(client_pool_destroy)                                                                         \
    X(client_pool_new_with_error)                                                                  \
    X(client_pool_pop)                                                                             \
    X(client_pool_push)                                                                            \
    X(client_pool_set_appname)                                                                     \
    X(client_pool_set_error_api)                                                                   \
    X(collection_count_documents)                                                                  \
    X(collection_delete_many)                                                                      \
    X(collection_delete_one)                                                                       \
    X(collection_destroy)                                                                          \
    X(collection_drop_with_opts)                                                                   \
    X(collection_find_and_modify_with_opts)                                                        \
    X(collection_find_with_opts)                                                                   \
    X(collection_insert_many)                                                                      \
    X(collection_insert_one)                                                                       \
    X(collection_update_many)                                                                      \
    X(collection_update_one)                                                                       \
    X(cursor_destroy)                                                                              \
    X(cursor_error)                                                                                \
    X(cursor_next)                                                                                 \
    X(database_destroy)                                                                            \
    X(database_write_command_with_opts)                                                            \
    X(find_and_modify_opts_destroy)                                                                \
    X(find_and_modify_opts_new)                                                                    \
    X(find_and_modify_opts_set_flags)                                                              \
    X(find_and_modify_opts_set_update)                                                             \
    X(init)                                                                                        \
    X(log_set_handler)                                                                             \
    X(log_trace_disable)                                                                           \
    X(uri_destroy)                                                                                 \
    X(uri_get_appname)                                                                             \
    X(uri_get_database)                                                                            \
    X(uri_new_with_error)

typedef struct kura_mongoc_api {
#define KURA_MONGOC_MEMBER(name) __typeof__(mongoc_##name) *name;
    KURA_MONGOC_FUNCTIONS(KURA_MONGOC_MEMBER)
#undef KURA_MONGOC_MEMBER
} kura_mongoc_api;

/* The table, loading libmongoc on the first call (any thread; once per
 * process, as libmongoc's own initialisation is). NULL with KURA_UNSUPPORTED
 * in err when the library or one of its functions cannot be found. */
const kura_mongoc_api *kura__mongoc_load(kura_error *err);

/* The table once kura__mongoc_load has succeeded (a MongoDB store exists). */
const kura_mongoc_api *kura__mongoc(void);

#endif
