/*
 * kura/cache.h — caching on the key-value store.
 *
 * Two kinds:
 *
 *  - get-or-compute: a value under a key, computed by the caller's function
 *    on a miss and kept for a TTL.
 *
 *  - model cache-aside: kura_cache_get reads a model by id through the
 *    cache; every kura_update, kura_save, kura_delete, kura_update_where and
 *    kura_delete_where on the store invalidates what it may have changed
 *    (through the store's write hook), so a read that starts after a write
 *    returned never sees the data from before it, on any thread.
 *
 * How the model cache stays correct: an update or delete of one row
 * overwrites its entry with a tombstone that lives for the TTL, and readers
 * only ever fill an absent entry (SET if absent), so a reader that loaded
 * the old row before the write cannot put it back. A write to many rows
 * bumps a generation number that every entry carries and holds off filling
 * for the TTL. Entries are model JSON (kura_to_json). Limits, all documented
 * trade-offs: a reader stalled longer than the TTL between its database read
 * and its fill, or a transaction open longer than the TTL, can leave a stale
 * entry for one TTL; raw SQL writes (kura_sql_exec) are not seen; a write
 * through another process is only seen if that process uses a model cache on
 * the same key-value store too. If an invalidation cannot reach the store
 * (Redis down), this cache stops serving entries until it has invalidated
 * everything (a generation bump) once the store is back.
 *
 * When the store is unavailable, reads fall through to the computation or
 * the database: a cache outage is not an app outage.
 */
#ifndef KURA_CACHE_H
#define KURA_CACHE_H

#include <stdbool.h>
#include <stdint.h>

#include "error.h"
#include "kv.h"
#include "model.h"
#include "store.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Computes the value for a missing key into *out (malloc'd data, as
 * kura_bytes; the cache takes it). Returns false with err to fail the get. */
typedef bool (*kura_cache_compute)(void *ctx, kura_bytes *out, kura_error *err);

/* The value of key, computed by compute(ctx, ...) and stored for ttl_ms (> 0)
 * when missing, into *out (must own nothing; the caller frees it). */
bool kura_cache_get_or_compute(kura_kv *kv, const char *key, int64_t ttl_ms,
                               kura_cache_compute compute, void *ctx, kura_bytes *out,
                               kura_error *err);

/* Drops key from the cache. */
bool kura_cache_forget(kura_kv *kv, const char *key, kura_error *err);

typedef struct kura_model_cache kura_model_cache;

/*
 * A cache of store's rows in kv, entries kept ttl_ms (> 0) under keys
 * "<prefix><model>:<id>" (prefix NULL: "kura:cache:"; give each database its
 * own prefix when several share one Redis, or their ids collide). Adds a
 * write hook to the store (kura_store_add_write_hook), beside those of other
 * caches and the HTTP service; NULL with KURA_INVALID when the store holds
 * KURA_WRITE_HOOKS already. Both must outlive the cache. The caller owns it:
 * kura_model_cache_free, which takes its hook off (caches go in any order).
 */
kura_model_cache *kura_model_cache_new(kura_store *store, kura_kv *kv, const char *prefix,
                                       int64_t ttl_ms, kura_error *err);
void kura_model_cache_free(kura_model_cache *cache);

/* kura_get through the cache: the row `id` of model into *out (which must
 * own nothing). KURA_NOT_FOUND when there is none (misses are not cached). */
bool kura_cache_get(kura_model_cache *cache, const kura_model *model, int64_t id, void *out,
                    kura_error *err);

/* kura_cache_get by the key as text, for every key kind (kura_get_key's
 * rules: a malformed key is KURA_INVALID). The entry is
 * "<prefix><model>:<key>" with the key in canonical text. */
bool kura_cache_get_key(kura_model_cache *cache, const kura_model *model, const char *key,
                        void *out, kura_error *err);

#ifdef __cplusplus
}
#endif
#endif
