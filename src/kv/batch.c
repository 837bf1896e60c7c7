/*
 * batch.c — kura_kv_batch: commands queued, then run in one call to the
 * driver (Redis: one pipeline; embedded: one transaction).
 *
 * A queued command is kept as the kura_kv_cmd the driver will run, its key,
 * member and value copied into blocks that never move (blocks.c), so a run
 * hands the queue to the driver as it is. The replies' values go into blocks
 * of their own where the driver can (Redis on one server), since they live
 * exactly until the next run. Blocks and arrays are kept from one run to the
 * next: a batch reused for runs of the same size allocates next to nothing.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <kura/kv.h>

#include "kv/kv_private.h"

struct kura_kv_batch {
    kura_kv *kv;
    kura_kv_cmd *cmds; /* the queue, pointing into strings */
    size_t count, cap;
    kura_kv_blocks strings; /* the queued commands' keys, members and values */
    kura_kv_blocks values;  /* the last run's replies' values, where the driver put them */
    kura_kv_reply *replies;
    size_t nreplies, replies_cap;
    kura_error queue_err; /* the first queueing failure, reported by run */
};

kura_kv_batch *kura_kv_batch_new(kura_kv *kv, kura_error *err)
{
    if (!kv) {
        kura_fail(err, KURA_INVALID, NULL, "NULL key-value store");
        return NULL;
    }
    kura_kv_batch *b = calloc(1, sizeof *b);
    if (!b) {
        kura_fail(err, KURA_NOMEM, NULL, "out of memory");
        return NULL;
    }
    b->kv = kv;
    return b;
}

/* Frees the last run's replies and zeroes them (every reply past nreplies is
 * zeroed, as a driver's run wants them); their values in b->values go back
 * with the blocks. */
static void clear_replies(kura_kv_batch *b)
{
    for (size_t i = 0; i < b->nreplies; i++) {
        kura_kv_reply *r = &b->replies[i];
        if (kura__kv_blocks_own(&b->values, r->value.data))
            r->value.data = NULL;
        if (r->error || r->entries.items)
            kura_kv_reply_clear(r);
        else
            free(r->value.data); /* all a plain reply can own */
        *r = (kura_kv_reply){.code = KURA_OK};
    }
    b->nreplies = 0;
    kura__kv_blocks_reset(&b->values);
}

/* Empties the queue, keeping its memory for the next one. */
static void reset_queue(kura_kv_batch *b)
{
    kura__kv_blocks_reset(&b->strings);
    b->count = 0;
}

void kura_kv_batch_free(kura_kv_batch *b)
{
    if (!b)
        return;
    clear_replies(b);
    free(b->replies);
    free(b->cmds);
    kura__kv_blocks_free(&b->strings);
    kura__kv_blocks_free(&b->values);
    free(b);
}

size_t kura_kv_batch_count(const kura_kv_batch *b)
{
    return b ? b->count : 0;
}

static bool queue_fail(kura_kv_batch *b, kura_code code, const char *msg)
{
    if (b->queue_err.code == KURA_OK)
        kura_fail(&b->queue_err, code, NULL, "batch command %zu: %s", b->count, msg);
    return false;
}

/* A copy of n bytes of data and a NUL in the queue's blocks; NULL on out of memory. */
static const char *copy(kura_kv_batch *b, const void *data, size_t n)
{
    char *p = kura__kv_blocks_alloc(&b->strings, n + 1);
    if (!p)
        return NULL;
    if (n)
        memcpy(p, data, n);
    p[n] = '\0';
    return p;
}

/* The slot the next command is built in; NULL (the failure noted) when the
 * batch already failed or memory ran out. */
static kura_kv_cmd *slot(kura_kv_batch *b)
{
    if (!b || b->queue_err.code != KURA_OK)
        return NULL;
    if (b->count == b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 64;
        kura_kv_cmd *p = realloc(b->cmds, cap * sizeof *p);
        if (!p) {
            queue_fail(b, KURA_NOMEM, "out of memory");
            return NULL;
        }
        b->cmds = p;
        b->cap = cap;
    }
    return &b->cmds[b->count];
}

/* Checks the command built in its slot, copies its key, name and value into
 * the blocks and queues it. */
static bool queue(kura_kv_batch *b, kura_kv_cmd *q)
{
    bool scored = q->op == KV_ZADD || q->op == KV_ZINCR;
    bool timed = q->op == KV_SET || q->op == KV_EXPIRE; /* the union holds a TTL */
    if (!q->key)
        return queue_fail(b, KURA_INVALID, "NULL key");
    if (!q->value && q->len)
        return queue_fail(b, KURA_INVALID, "NULL value");
    if (scored && isnan(q->score))
        return queue_fail(b, KURA_INVALID, "a score is NaN");
    if (timed && (q->ttl_ms < 0 || (q->op == KV_EXPIRE && q->ttl_ms == 0)))
        return queue_fail(b, KURA_INVALID, "a TTL is not positive");
    if (timed && q->ttl_ms > KURA_KV_TTL_MAX)
        return queue_fail(b, KURA_INVALID, "a TTL is longer than 2^62 ms");
    if ((scored || q->op == KV_HSET) && !q->name)
        return queue_fail(b, KURA_INVALID, "NULL member or field");
    if (!(q->key = copy(b, q->key, strlen(q->key))) ||
        (q->name && !(q->name = copy(b, q->name, strlen(q->name)))) ||
        (q->len && !(q->value = copy(b, q->value, q->len))))
        return queue_fail(b, KURA_NOMEM, "out of memory");
    if (!q->len)
        q->value = NULL; /* never a pointer to the caller's memory, even unread */
    b->count++;
    return true;
}

bool kura_kv_batch_get(kura_kv_batch *b, const char *key)
{
    kura_kv_cmd *q = slot(b);
    if (!q)
        return false;
    *q = (kura_kv_cmd){.op = KV_GET, .key = key};
    return queue(b, q);
}

bool kura_kv_batch_set(kura_kv_batch *b, const char *key, const void *value, size_t len,
                       int64_t ttl_ms)
{
    kura_kv_cmd *q = slot(b);
    if (!q)
        return false;
    *q = (kura_kv_cmd){.op = KV_SET, .key = key, .value = value, .len = len, .ttl_ms = ttl_ms};
    return queue(b, q);
}

bool kura_kv_batch_del(kura_kv_batch *b, const char *key)
{
    kura_kv_cmd *q = slot(b);
    if (!q)
        return false;
    *q = (kura_kv_cmd){.op = KV_DEL, .key = key};
    return queue(b, q);
}

bool kura_kv_batch_expire(kura_kv_batch *b, const char *key, int64_t ttl_ms)
{
    kura_kv_cmd *q = slot(b);
    if (!q)
        return false;
    *q = (kura_kv_cmd){.op = KV_EXPIRE, .key = key, .ttl_ms = ttl_ms};
    return queue(b, q);
}

bool kura_kv_batch_incr(kura_kv_batch *b, const char *key, int64_t by)
{
    kura_kv_cmd *q = slot(b);
    if (!q)
        return false;
    *q = (kura_kv_cmd){.op = KV_INCR, .key = key, .by = by};
    return queue(b, q);
}

bool kura_kv_batch_zadd(kura_kv_batch *b, const char *key, const char *member, double score)
{
    kura_kv_cmd *q = slot(b);
    if (!q)
        return false;
    *q = (kura_kv_cmd){.op = KV_ZADD, .key = key, .name = member, .score = score};
    return queue(b, q);
}

bool kura_kv_batch_zincr(kura_kv_batch *b, const char *key, const char *member, double by)
{
    kura_kv_cmd *q = slot(b);
    if (!q)
        return false;
    *q = (kura_kv_cmd){.op = KV_ZINCR, .key = key, .name = member, .score = by};
    return queue(b, q);
}

bool kura_kv_batch_hset(kura_kv_batch *b, const char *key, const char *field, const void *value,
                        size_t len)
{
    kura_kv_cmd *q = slot(b);
    if (!q)
        return false;
    *q = (kura_kv_cmd){.op = KV_HSET, .key = key, .name = field, .value = value, .len = len};
    return queue(b, q);
}

bool kura_kv_batch_run(kura_kv_batch *b, kura_error *err)
{
    if (!b)
        return kura_fail(err, KURA_INVALID, NULL, "NULL batch");
    clear_replies(b);
    if (b->queue_err.code != KURA_OK) {
        if (err)
            *err = b->queue_err;
        kura_error_clear(&b->queue_err);
        reset_queue(b);
        return false;
    }
    size_t n = b->count;
    if (n == 0)
        return true;
    if (n > b->replies_cap) {
        kura_kv_reply *r = realloc(b->replies, n * sizeof *r);
        if (!r)
            return kura_fail(err, KURA_NOMEM, NULL, "out of memory");
        memset(r + b->replies_cap, 0, (n - b->replies_cap) * sizeof *r);
        b->replies = r;
        b->replies_cap = n;
    }
    b->nreplies = n;
    bool ok = kura__kv_run_into(b->kv, b->cmds, n, b->replies, &b->values, err);
    reset_queue(b);
    if (!ok)
        clear_replies(b);
    return ok;
}

const kura_kv_reply *kura_kv_batch_reply(const kura_kv_batch *b, size_t i)
{
    return b && i < b->nreplies ? &b->replies[i] : NULL;
}
