/* hot.c — the service's in-process cache of rows answered by key (hot.h). */
#include "http/hot.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define SHARDS 16

/* Answers longer than this are not kept: a hot row is a few hundred bytes,
 * and the cache's memory stays under cache_entries times this whatever the
 * rows hold (a text field has no length limit). */
#define MAX_ANSWER (16 * 1024)

typedef struct hot_entry {
    const kura_model *model; /* NULL: empty slot */
    int64_t id;
    char key[KURA_KEY_BYTES];
    char *body;
    size_t len;
    int64_t expires_us;
} hot_entry;

typedef struct hot_shard {
    pthread_mutex_t lock;
    uint64_t gen; /* bumped by every write the shard hears of */
    hot_entry *slots;
} hot_shard;

/* One per store watched, to take the hook off again. */
typedef struct hot_watch {
    kura_store *store;
    struct hot_watch *next;
} hot_watch;

struct http_hot {
    int64_t ttl_us;
    size_t nshards; /* SHARDS, or fewer when fewer entries are kept in all */
    size_t per_shard;
    hot_shard shards[SHARDS];
    hot_watch *watches;
    atomic_uint_fast64_t hits, misses;
};

static void on_write(void *ctx, const kura_model *model, int64_t id, const char *key);

static int64_t now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* FNV-1a over the model's address and the key: the shard and the slot. */
static uint64_t hash(const kura_model *model, int64_t id, const char *key)
{
    uint64_t x = 1469598103934665603u;
    uintptr_t m = (uintptr_t)model;
    for (size_t i = 0; i < sizeof m; i++, m >>= 8)
        x = (x ^ (m & 0xff)) * 1099511628211u;
    if (key)
        for (const char *p = key; *p; p++)
            x = (x ^ (unsigned char)*p) * 1099511628211u;
    else
        for (size_t i = 0; i < 8; i++, id = (int64_t)((uint64_t)id >> 8))
            x = (x ^ ((uint64_t)id & 0xff)) * 1099511628211u;
    return x;
}

static bool same(const hot_entry *e, const kura_model *model, int64_t id, const char *key)
{
    return e->model == model && (key ? strcmp(e->key, key) == 0 : e->id == id);
}

static void empty(hot_entry *e)
{
    free(e->body);
    memset(e, 0, sizeof *e);
}

http_hot *http_hot_new(int64_t ttl_ms, size_t entries)
{
    http_hot *h = calloc(1, sizeof *h);
    if (!h)
        return NULL;
    h->ttl_us = ttl_ms * 1000;
    h->nshards = entries < SHARDS ? (entries ? entries : 1) : SHARDS;
    h->per_shard = entries / h->nshards ? entries / h->nshards : 1;
    for (size_t i = 0; i < h->nshards; i++) /* all first: http_hot_free destroys them all */
        pthread_mutex_init(&h->shards[i].lock, NULL);
    for (size_t i = 0; i < h->nshards; i++) {
        h->shards[i].slots = calloc(h->per_shard, sizeof(hot_entry));
        if (!h->shards[i].slots) {
            http_hot_free(h);
            return NULL;
        }
    }
    return h;
}

void http_hot_free(http_hot *h)
{
    if (!h)
        return;
    while (h->watches) {
        hot_watch *w = h->watches;
        h->watches = w->next;
        kura_store_remove_write_hook(w->store, on_write, h);
        free(w);
    }
    for (size_t i = 0; i < h->nshards; i++) {
        for (size_t k = 0; h->shards[i].slots && k < h->per_shard; k++)
            empty(&h->shards[i].slots[k]);
        free(h->shards[i].slots);
        pthread_mutex_destroy(&h->shards[i].lock);
    }
    free(h);
}

static hot_shard *shard_of(http_hot *h, uint64_t x)
{
    return &h->shards[x % h->nshards];
}

static hot_entry *slot_of(http_hot *h, hot_shard *s, uint64_t x)
{
    return &s->slots[(x / h->nshards) % h->per_shard];
}

bool http_hot_get(http_hot *h, const kura_model *model, int64_t id, const char *key, char **body,
                  size_t *len)
{
    uint64_t x = hash(model, id, key);
    hot_shard *s = shard_of(h, x);
    bool hit = false;
    pthread_mutex_lock(&s->lock);
    hot_entry *e = slot_of(h, s, x);
    if (e->model && same(e, model, id, key)) {
        if (e->expires_us <= now_us()) {
            empty(e);
        } else if ((*body = malloc(e->len + 1)) != NULL) {
            memcpy(*body, e->body, e->len + 1);
            *len = e->len;
            hit = true;
        }
    }
    pthread_mutex_unlock(&s->lock);
    atomic_fetch_add_explicit(hit ? &h->hits : &h->misses, 1, memory_order_relaxed);
    return hit;
}

uint64_t http_hot_gen(http_hot *h, const kura_model *model, int64_t id, const char *key)
{
    hot_shard *s = shard_of(h, hash(model, id, key));
    pthread_mutex_lock(&s->lock);
    uint64_t gen = s->gen;
    pthread_mutex_unlock(&s->lock);
    return gen;
}

void http_hot_put(http_hot *h, const kura_model *model, int64_t id, const char *key, uint64_t gen,
                  const char *body, size_t len)
{
    if ((key && strlen(key) >= KURA_KEY_BYTES) || len > MAX_ANSWER)
        return;
    char *copy = malloc(len + 1);
    if (!copy)
        return; /* a cache that cannot keep an answer only misses */
    memcpy(copy, body, len);
    copy[len] = '\0';
    uint64_t x = hash(model, id, key);
    hot_shard *s = shard_of(h, x);
    pthread_mutex_lock(&s->lock);
    if (s->gen == gen) {
        hot_entry *e = slot_of(h, s, x);
        empty(e);
        e->model = model;
        e->id = id;
        if (key)
            strcpy(e->key, key);
        e->body = copy;
        e->len = len;
        e->expires_us = now_us() + h->ttl_us;
        copy = NULL;
    }
    pthread_mutex_unlock(&s->lock);
    free(copy);
}

void http_hot_counts(http_hot *h, uint64_t *hits, uint64_t *misses)
{
    *hits = atomic_load_explicit(&h->hits, memory_order_relaxed);
    *misses = atomic_load_explicit(&h->misses, memory_order_relaxed);
}

/* One row: its entry goes and its shard's generation moves on. Many rows (or
 * a transaction: model NULL): every entry of the model (of every model) goes,
 * and every shard's generation moves on. */
static void forget(http_hot *h, const kura_model *model, int64_t id, const char *key)
{
    if (model && (id != 0 || key)) {
        uint64_t x = hash(model, id, key);
        hot_shard *s = shard_of(h, x);
        pthread_mutex_lock(&s->lock);
        s->gen++;
        hot_entry *e = slot_of(h, s, x);
        if (e->model && same(e, model, id, key))
            empty(e);
        pthread_mutex_unlock(&s->lock);
        return;
    }
    for (size_t i = 0; i < h->nshards; i++) {
        hot_shard *s = &h->shards[i];
        pthread_mutex_lock(&s->lock);
        s->gen++;
        for (size_t k = 0; k < h->per_shard; k++)
            if (s->slots[k].model && (!model || s->slots[k].model == model))
                empty(&s->slots[k]);
        pthread_mutex_unlock(&s->lock);
    }
}

static void on_write(void *ctx, const kura_model *model, int64_t id, const char *key)
{
    forget(ctx, model, id, key);
}

bool http_hot_watch(http_hot *h, kura_store *store, kura_error *err)
{
    for (hot_watch *w = h->watches; w; w = w->next)
        if (w->store == store)
            return true;
    hot_watch *w = calloc(1, sizeof *w);
    if (!w)
        return kura_fail(err, KURA_NOMEM, NULL, "out of memory");
    if (!kura_store_add_write_hook(store, on_write, h, err)) {
        free(w);
        return false;
    }
    w->store = store;
    w->next = h->watches;
    h->watches = w;
    return true;
}
