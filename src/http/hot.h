/*
 * hot.h — the service's in-process cache of rows it answers by key.
 *
 * GET /<collection>/{id} is the route a hot row is read through again and
 * again. With cache_ttl_ms set (kura_http_opts; off by default), its answer
 * is kept in this process's memory for that long, and the next GET of the
 * same key is answered from memory without touching the store.
 *
 * Staying correct: every write through a store the collections use (the
 * HTTP routes, the admin, the program's own kura_update / kura_delete /
 * kura_update_where ... in this process) reaches the store's write hook,
 * which drops the row's entry, or every entry of the model for a write to
 * many rows or a transaction. A GET notes its shard's generation before it
 * reads the store and keeps its answer only if no write came in between, so
 * a reader that loaded a row before a write cannot put the old row back.
 * What the hook cannot see — another process, raw SQL — is seen when the
 * entry expires: the documented bound is cache_ttl_ms.
 *
 * Memory: at most cache_entries answers (direct-mapped slots in up to 16
 * shards: a new entry replaces the one in its slot), each a copy of its JSON
 * text of at most 16 KiB (a longer answer is not kept).
 */
#ifndef KURA_HTTP_HOT_H
#define KURA_HTTP_HOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <kura/kura.h>

typedef struct http_hot http_hot;

/* A cache of at most `entries` answers kept ttl_ms each; NULL on out of memory. */
http_hot *http_hot_new(int64_t ttl_ms, size_t entries);
/* Frees the cache after taking its hooks off the stores (http_hot_watch). */
void http_hot_free(http_hot *h);

/* Hears of the writes to `store` through a write hook of its own (beside a
 * kura_model_cache's, say), taken off by http_hot_free; once per store.
 * False when it cannot be added (err says why). */
bool http_hot_watch(http_hot *h, kura_store *store, kura_error *err);

/* The answer kept for (model, key): a malloc'd copy of its text into *body and
 * *len (the caller frees it), true; false on a miss or out of memory. */
bool http_hot_get(http_hot *h, const kura_model *model, int64_t id, const char *key, char **body,
                  size_t *len);
/* The generation to give http_hot_put, taken before the store is read. */
uint64_t http_hot_gen(http_hot *h, const kura_model *model, int64_t id, const char *key);
/* Keeps a copy of body[0..len) as (model, key)'s answer, unless a write came
 * since `gen` was taken. */
void http_hot_put(http_hot *h, const kura_model *model, int64_t id, const char *key, uint64_t gen,
                  const char *body, size_t len);
/* Hits and misses so far (the metrics). */
void http_hot_counts(http_hot *h, uint64_t *hits, uint64_t *misses);

#endif
