/* cache.c — get-or-compute and model cache-aside (see kura/cache.h for why it is correct). */
#include <kura/cache.h>

#include <inttypes.h>
#include <kura/json.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kv/kv_private.h"

#define DEFAULT_PREFIX "kura:cache:"
#define MAX_PREFIX     64
#define TOMBSTONE      "-"

/* Errors that mean "the cache is not there right now", not "you did it wrong". */
static bool outage(const kura_error *e)
{
    return e->code == KURA_UNAVAILABLE || e->code == KURA_TIMEOUT;
}

bool kura_cache_get_or_compute(kura_kv *kv, const char *key, int64_t ttl_ms,
                               kura_cache_compute compute, void *ctx, kura_bytes *out,
                               kura_error *err)
{
    if (!kv || !key || !compute || !out)
        return kura_fail(err, KURA_INVALID, NULL, "NULL argument");
    if (ttl_ms <= 0)
        return kura_fail(err, KURA_INVALID, NULL, "cache entries need a positive TTL");
    out->data = NULL;
    out->len = 0;
    kura_error e = {0};
    bool reachable = kura_kv_get(kv, key, out, &e);
    if (!reachable && !outage(&e)) {
        if (err)
            *err = e;
        return false;
    }
    if (out->data)
        return true;
    if (!compute(ctx, out, err))
        return false;
    if (!out->data)
        return kura_fail(err, KURA_INVALID, NULL, "the cache's compute function gave no value");
    if (reachable)
        kura_kv_set(kv, key, out->data, out->len, ttl_ms, NULL); /* best effort */
    return true;
}

bool kura_cache_forget(kura_kv *kv, const char *key, kura_error *err)
{
    return kura_kv_del(kv, key, NULL, err);
}

/* ---- model cache-aside ------------------------------------------------------------- */

struct kura_model_cache {
    kura_store *store;
    kura_kv *kv;
    int64_t ttl_ms;
    char prefix[MAX_PREFIX + 1];
    char gen_key[MAX_PREFIX + 8];  /* <prefix>gen: the generation */
    char hold_key[MAX_PREFIX + 8]; /* <prefix>hold: no filling while present */
    /* An invalidation failed: serve nothing until a generation bump succeeds. */
    atomic_bool dirty;
};

typedef struct entry_key {
    char text[MAX_PREFIX + 100 + 1 + KURA_KEY_BYTES];
} entry_key;

/* "<prefix><model>:<key>", the key as text (kura_key_text) for every kind. */
static void key_of(const kura_model_cache *c, const kura_model *model, const char *key,
                   entry_key *k)
{
    snprintf(k->text, sizeof k->text, "%s%.100s:%s", c->prefix, model->name, key);
}

/* Invalidates every entry: a new generation, and no filling for a TTL. */
static bool invalidate_all(kura_model_cache *c)
{
    kura_kv_cmd cmds[2] = {
        {.op = KV_INCR, .key = c->gen_key, .by = 1},
        {.op = KV_SET, .key = c->hold_key, .value = "1", .len = 1, .ttl_ms = c->ttl_ms}};
    kura_kv_reply r[2];
    memset(r, 0, sizeof r);
    kura_error e;
    bool ok = kura__kv_run(c->kv, cmds, 2, r, &e) && r[0].code == KURA_OK && r[1].code == KURA_OK;
    kura_kv_reply_clear(&r[0]);
    kura_kv_reply_clear(&r[1]);
    return ok;
}

static void on_write(void *ctx, const kura_model *model, int64_t id, const char *key)
{
    kura_model_cache *c = ctx;
    bool ok;
    if (model && (id > 0 || key)) {
        char text[32];
        if (!key) {
            snprintf(text, sizeof text, "%" PRId64, id);
            key = text;
        }
        entry_key k = {{0}}; /* cppcheck cannot see key_of writes it */
        key_of(c, model, key, &k);
        ok = kura_kv_set(c->kv, k.text, TOMBSTONE, 1, c->ttl_ms, NULL);
    } else {
        ok = invalidate_all(c);
    }
    if (!ok)
        atomic_store(&c->dirty, true);
}

kura_model_cache *kura_model_cache_new(kura_store *store, kura_kv *kv, const char *prefix,
                                       int64_t ttl_ms, kura_error *err)
{
    if (!prefix)
        prefix = DEFAULT_PREFIX;
    if (strlen(prefix) > MAX_PREFIX) {
        kura_fail(err, KURA_INVALID, NULL, "a cache prefix longer than %d bytes", MAX_PREFIX);
        return NULL;
    }
    if (!store || !kv) {
        kura_fail(err, KURA_INVALID, NULL, "NULL store or key-value store");
        return NULL;
    }
    if (ttl_ms <= 0) {
        kura_fail(err, KURA_INVALID, NULL, "cache entries need a positive TTL");
        return NULL;
    }
    kura_model_cache *c = calloc(1, sizeof *c);
    if (!c) {
        kura_fail(err, KURA_NOMEM, NULL, "out of memory");
        return NULL;
    }
    c->store = store;
    c->kv = kv;
    c->ttl_ms = ttl_ms;
    snprintf(c->prefix, sizeof c->prefix, "%s", prefix);
    snprintf(c->gen_key, sizeof c->gen_key, "%sgen", prefix);
    snprintf(c->hold_key, sizeof c->hold_key, "%shold", prefix);
    atomic_init(&c->dirty, false);
    if (!kura_store_add_write_hook(store, on_write, c, err)) {
        free(c);
        return NULL;
    }
    return c;
}

void kura_model_cache_free(kura_model_cache *c)
{
    if (!c)
        return;
    kura_store_remove_write_hook(c->store, on_write, c);
    free(c);
}

/* Decodes an entry "<gen>\n<json>" of generation gen into *out. */
static bool decode(const kura_model *model, const kura_bytes *entry, const kura_bytes *gen,
                   void *out)
{
    const char *g = gen->data ? gen->data : "0";
    size_t glen = gen->data ? gen->len : 1;
    if (entry->len <= glen || memcmp(entry->data, g, glen) != 0 || entry->data[glen] != '\n')
        return false; /* a tombstone, or an older generation */
    memset(out, 0, model->size);
    kura_error e;
    if (kura_from_json_string(model, entry->data + glen + 1, entry->len - glen - 1, out, false, &e))
        return true;
    kura_clear(model, out);
    memset(out, 0, model->size);
    return false;
}

bool kura_cache_get(kura_model_cache *c, const kura_model *model, int64_t id, void *out,
                    kura_error *err)
{
    if (!c || !model || !out)
        return kura_fail(err, KURA_INVALID, NULL, "NULL argument");
    if (model->key != KURA_KEY_INT64)
        return kura_fail(err, KURA_INVALID, "id", "%s has %s keys: use kura_cache_get_key",
                         model->name, kura_key_kind_name(model->key));
    char text[32];
    snprintf(text, sizeof text, "%" PRId64, id);
    return kura_cache_get_key(c, model, text, out, err);
}

bool kura_cache_get_key(kura_model_cache *c, const kura_model *model, const char *key, void *out,
                        kura_error *err)
{
    if (!c || !model || !out)
        return kura_fail(err, KURA_INVALID, NULL, "NULL argument");
    /* The canonical text: "0042" and "42", or a UUID in capitals, are one entry. */
    char canon[KURA_KEY_BYTES];
    int64_t id = 0;
    if (!kura_key_parse(model, key, &id, canon, err))
        return false;
    if (model->key == KURA_KEY_INT64)
        snprintf(canon, sizeof canon, "%" PRId64, id);
    if (atomic_load(&c->dirty)) {
        if (!invalidate_all(c))
            return kura_get_key(c->store, model, canon, out, err);
        atomic_store(&c->dirty, false);
    }
    entry_key k = {{0}};
    key_of(c, model, canon, &k);
    /* On a Redis Cluster these three keys live in different slots and the MGET is
     * split (redis_route.c): three reads, not one. That is still correct: every
     * invalidation marker only ever moves one way for a TTL (the generation grows,
     * a hold or a tombstone stays), and all three are read before the database
     * is, so a write that returned before this call began is seen whatever the
     * order. A shared hash tag would put the whole cache on one node instead. */
    const char *keys[3] = {c->gen_key, c->hold_key, k.text};
    kura_kv_entries got = {0};
    kura_error e;
    if (!kura_kv_mget(c->kv, keys, 3, &got, &e))
        return kura_get_key(c->store, model, canon, out, err); /* the cache is optional */
    const kura_bytes *gen = &got.items[0].value, *hold = &got.items[1].value,
                     *entry = &got.items[2].value;
    if (!hold->data && entry->data && decode(model, entry, gen, out)) {
        kura_kv_entries_free(&got);
        return true;
    }
    bool fill = !hold->data && !entry->data;
    bool ok = kura_get_key(c->store, model, canon, out, err);
    if (ok && fill) {
        char *json = kura_to_json_string(model, out);
        if (json) {
            const char *g = gen->data ? gen->data : "0";
            size_t glen = gen->data ? gen->len : 1, jlen = strlen(json);
            char *value = malloc(glen + 1 + jlen);
            if (value) {
                memcpy(value, g, glen);
                value[glen] = '\n';
                memcpy(value + glen + 1, json, jlen);
                /* Only into an absent entry: a write's tombstone must win. */
                kura_kv_set_if(c->kv, k.text, value, glen + 1 + jlen, c->ttl_ms, KURA_KV_IF_ABSENT,
                               NULL, NULL);
                free(value);
            }
            free(json);
        }
    }
    kura_kv_entries_free(&got);
    return ok;
}
