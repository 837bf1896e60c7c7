/*
 * redis_route.c — runs a batch on a topology whose servers can move (a
 * cluster's slots, a sentinel-managed master), following the Redis Cluster
 * client protocol.
 *
 * A batch is cut into parts: one per command, except that on a cluster an
 * MGET or MSET whose keys live in several slots becomes one part per slot
 * (so it is atomic per slot only, as in every cluster client). Each round
 * sends every unanswered part to the node that serves its slot, one pipeline
 * per node, and looks at what came back:
 *   -MOVED        the map was old: the slot is moved, the map asked again;
 *   -ASK          this once, the part goes to the named node after ASKING;
 *   TRYAGAIN, CLUSTERDOWN, LOADING, READONLY, MASTERDOWN, or a connection that
 *                 failed: the topology is asked again and the part resent after
 *                 a short back-off, during a failover until the new master
 *                 answers.
 * A part whose connection failed after it was sent may have run: it is sent
 * again only when running it twice changes nothing (redis_cmd_idempotent);
 * otherwise it is answered KURA_UNAVAILABLE "may or may not have run".
 * Everything is bounded: the conf timeout in total and MAX_ROUNDS rounds, after
 * which the batch fails with KURA_UNAVAILABLE (a 503 for the HTTP service).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kv/redis_private.h"

#define MAX_ROUNDS    24
#define FIRST_BACKOFF 10  /* ms, doubled each busy round */
#define MAX_BACKOFF   200 /* ms */

typedef struct part {
    kura_kv_cmd cmd; /* the command, or its slice of an MGET/MSET */
    size_t origin;   /* index of the command in the batch */
    size_t *pos;     /* a slice: where each of its keys sits in the command; else NULL */
    int slot;
    redis_node *ask; /* the node an -ASK named, for the next round only */
    bool done;
    kura_kv_reply reply;
} part;

typedef struct parts {
    part *items;
    size_t count, cap;
} parts;

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static part *add_part(parts *p, const kura_kv_cmd *cmd, size_t origin, int slot)
{
    if (p->count == p->cap) {
        size_t cap = p->cap ? p->cap * 2 : 16;
        part *items = realloc(p->items, cap * sizeof *items);
        if (!items)
            return NULL;
        p->items = items;
        p->cap = cap;
    }
    part *it = &p->items[p->count++];
    memset(it, 0, sizeof *it);
    it->cmd = *cmd;
    it->origin = origin;
    it->slot = slot;
    return it;
}

static void free_parts(parts *p)
{
    for (size_t i = 0; i < p->count; i++) {
        part *it = &p->items[i];
        if (it->pos) {
            free((void *)it->cmd.keys);
            free((void *)it->cmd.pairs);
            free(it->pos);
        }
        kura_kv_reply_clear(&it->reply);
    }
    free(p->items);
}

static const char *key_at(const kura_kv_cmd *k, size_t i)
{
    return k->op == KV_MSET ? k->pairs[i].key : k->keys[i];
}

/* An MGET/MSET cut into one part per slot, keys in their order. */
static bool split(parts *p, const kura_kv_cmd *k, size_t origin)
{
    int *slots = malloc(k->n * sizeof *slots);
    bool *taken = calloc(k->n, sizeof *taken);
    bool ok = slots && taken;
    for (size_t i = 0; ok && i < k->n; i++)
        slots[i] = redis_key_slot(key_at(k, i), strlen(key_at(k, i)));
    for (size_t i = 0; ok && i < k->n; i++) {
        if (taken[i])
            continue;
        size_t m = 0;
        for (size_t j = i; j < k->n; j++)
            m += slots[j] == slots[i];
        if (m == k->n) { /* one slot: the command as it is */
            ok = add_part(p, k, origin, slots[i]) != NULL;
            break;
        }
        part *it = add_part(p, k, origin, slots[i]);
        if (!it || !(it->pos = malloc(m * sizeof *it->pos))) {
            ok = false;
            break;
        }
        const char **keys = k->op == KV_MGET ? malloc(m * sizeof *keys) : NULL;
        kura_kv_pair *pairs = k->op == KV_MSET ? malloc(m * sizeof *pairs) : NULL;
        it->cmd.keys = keys;
        it->cmd.pairs = pairs;
        it->cmd.n = m;
        if (!keys && !pairs) {
            ok = false;
            break;
        }
        for (size_t j = i, e = 0; j < k->n; j++) {
            if (slots[j] != slots[i])
                continue;
            taken[j] = true;
            it->pos[e] = j;
            if (keys)
                keys[e] = k->keys[j];
            else
                pairs[e] = k->pairs[j];
            e++;
        }
    }
    free(slots);
    free(taken);
    return ok;
}

static int cmd_slot(const kura_kv_cmd *k)
{
    return k->key ? redis_key_slot(k->key, strlen(k->key)) : 0;
}

/* Moves the parts' replies into the batch's replies, in the batch's order. */
static void merge(parts *p, const kura_kv_cmd *cmds, kura_kv_reply *replies)
{
    for (size_t i = 0; i < p->count; i++) {
        part *it = &p->items[i];
        kura_kv_reply *out = &replies[it->origin];
        if (!it->pos) {
            *out = it->reply;
            memset(&it->reply, 0, sizeof it->reply);
            continue;
        }
        const kura_kv_cmd *k = &cmds[it->origin];
        if (it->reply.code != KURA_OK) {
            if (out->code == KURA_OK)
                kura_kv_reply_fail(out, it->reply.code, it->reply.error ? it->reply.error : "", -1);
            continue;
        }
        if (k->op != KV_MGET)
            continue;
        if (!out->entries.items) {
            out->entries.items = calloc(k->n, sizeof *out->entries.items);
            out->entries.count = out->entries.items ? k->n : 0;
            if (!out->entries.items) {
                kura_kv_reply_fail(out, KURA_NOMEM, "out of memory", -1);
                continue;
            }
        }
        for (size_t j = 0; j < it->reply.entries.count && j < it->cmd.n; j++) {
            out->entries.items[it->pos[j]].value = it->reply.entries.items[j].value;
            memset(&it->reply.entries.items[j].value, 0, sizeof(kura_bytes));
        }
    }
}

/* What one round learnt. */
typedef struct round_state {
    bool refresh, backoff;
    kura_error last; /* the latest trouble, for the error if the rounds run out */
} round_state;

/* Sends the pending parts routed to node (where[i] == node) in one pipeline. */
static bool send_group(redis_topo *t, parts *p, redis_node **where, redis_node *node,
                       round_state *st)
{
    size_t m = 0;
    for (size_t i = 0; i < p->count; i++)
        m += where[i] == node;
    kura_kv_cmd *cmds = malloc(m * sizeof *cmds);
    bool *asking = calloc(m, sizeof *asking);
    kura_kv_reply *replies = calloc(m, sizeof *replies);
    redis_result *res = calloc(m, sizeof *res);
    size_t *idx = malloc(m * sizeof *idx);
    bool ok = cmds && asking && replies && res && idx;
    if (ok) {
        for (size_t i = 0, e = 0; i < p->count; i++) {
            if (where[i] != node)
                continue;
            idx[e] = i;
            cmds[e] = p->items[i].cmd;
            asking[e] = p->items[i].ask != NULL;
            p->items[i].ask = NULL;
            where[i] = NULL;
            e++;
        }
        bool sent;
        kura_error e = {0};
        if (!redis_node_run(node, cmds, asking, m, replies, res, NULL, &sent, &e))
            st->last = e;
        for (size_t j = 0; j < m; j++) {
            part *it = &p->items[idx[j]];
            switch (res[j].outcome) {
            case REDIS_DONE:
                it->reply = replies[j];
                memset(&replies[j], 0, sizeof replies[j]);
                it->done = true;
                break;
            case REDIS_MOVED:
            case REDIS_ASK: {
                redis_node *to = redis_nodes_get(&t->nodes, res[j].host, res[j].port);
                if (to && res[j].outcome == REDIS_ASK)
                    it->ask = to;
                else if (to)
                    t->ops->moved(t, it->slot, to);
                st->refresh = st->refresh || res[j].outcome == REDIS_MOVED || !to;
                break;
            }
            case REDIS_BUSY:
                kura_fail(&st->last, KURA_UNAVAILABLE, NULL, "redis: %s: %s",
                          redis_node_where(node), res[j].error);
                st->refresh = st->backoff = true;
                break;
            case REDIS_LOST:
                st->refresh = st->backoff = true;
                if (sent && !redis_cmd_idempotent(&it->cmd)) {
                    kura_kv_reply_fail(&it->reply, KURA_OUTCOME_UNKNOWN,
                                       "the connection failed before the reply: the command "
                                       "may or may not have run",
                                       -1);
                    it->done = true;
                }
                break;
            }
        }
        for (size_t j = 0; j < m; j++)
            kura_kv_reply_clear(&replies[j]);
    }
    free(cmds);
    free(asking);
    free(replies);
    free(res);
    free(idx);
    return ok;
}

bool redis_route_run(redis_topo *t, const kura_kv_cmd *cmds, size_t n, kura_kv_reply *replies,
                     kura_error *err)
{
    parts p = {0};
    bool ok = true;
    for (size_t i = 0; ok && i < n; i++) {
        if (t->slotted && (cmds[i].op == KV_MGET || cmds[i].op == KV_MSET))
            ok = split(&p, &cmds[i], i);
        else
            ok = add_part(&p, &cmds[i], i, t->slotted ? cmd_slot(&cmds[i]) : 0) != NULL;
    }
    redis_node **where = ok ? calloc(p.count ? p.count : 1, sizeof *where) : NULL;
    if (!where) {
        free_parts(&p);
        return kura_fail(err, KURA_NOMEM, NULL, "out of memory");
    }
    int64_t start = now_ms(), deadline = start + t->conf->timeout_ms;
    int backoff = FIRST_BACKOFF;
    round_state st = {.refresh = false};
    for (int round = 0;; round++) {
        unsigned seen = atomic_load(&t->version);
        st.refresh = st.backoff = false;
        size_t pending = 0;
        for (size_t i = 0; i < p.count; i++) {
            part *it = &p.items[i];
            where[i] = it->done ? NULL : it->ask ? it->ask : t->ops->route(t, it->slot);
            pending += !it->done;
            if (!it->done && !where[i]) {
                st.refresh = st.backoff = true;
                if (!st.last.code)
                    kura_fail(&st.last, KURA_UNAVAILABLE, NULL,
                              "redis: no server is known for slot %d", it->slot);
            }
        }
        if (pending == 0)
            break;
        for (size_t i = 0; ok && i < p.count; i++)
            if (where[i])
                ok = send_group(t, &p, where, where[i], &st);
        if (!ok) {
            kura_fail(err, KURA_NOMEM, NULL, "out of memory");
            break;
        }
        bool left = false;
        for (size_t i = 0; i < p.count && !left; i++)
            left = !p.items[i].done;
        if (!left)
            break;
        int64_t now = now_ms();
        if (round + 1 >= MAX_ROUNDS || now >= deadline) {
            ok = kura_fail(err, st.last.code ? st.last.code : KURA_UNAVAILABLE, NULL,
                           "%s (still failing after %lld ms and %d tries)",
                           st.last.code ? st.last.message : "redis: no answer",
                           (long long)(now - start), round + 1);
            break;
        }
        if (st.refresh) {
            kura_error e = {0};
            if (!t->ops->refresh(t, seen, &e))
                st.last = e;
        }
        if (st.backoff) {
            int64_t wait = backoff < deadline - now_ms() ? backoff : deadline - now_ms();
            if (wait > 0) {
                struct timespec ts = {.tv_sec = wait / 1000, .tv_nsec = (wait % 1000) * 1000000};
                nanosleep(&ts, NULL);
            }
            backoff = backoff * 2 < MAX_BACKOFF ? backoff * 2 : MAX_BACKOFF;
        }
    }
    if (ok)
        merge(&p, cmds, replies);
    free(where);
    free_parts(&p);
    return ok;
}
