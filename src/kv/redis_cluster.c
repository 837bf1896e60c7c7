/*
 * redis_cluster.c — Redis Cluster: which master serves each of the 16384 slots.
 *
 * The map comes from CLUSTER SLOTS (start, end, then the master's address
 * first), asked of the seed node and, when that fails, of every node met so
 * far. It is asked again when a reply says the map is old (-MOVED) or a
 * failover is going on (redis_route.c); refreshes are one at a time, and a
 * thread whose trouble someone else already refreshed for does not ask again.
 * Replicas are not used: reads go to masters, so a write is seen by the next
 * read (replication to replicas is asynchronous).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kv/redis_private.h"

#define MAX_ASKED 64 /* nodes asked for the map in one refresh */

typedef struct cluster {
    redis_topo base;
    char *seed_host;
    int seed_port;
    pthread_rwlock_t map_lock;
    redis_node *map[REDIS_SLOTS]; /* NULL: no master known for the slot */
    pthread_mutex_t refresh_mu;
} cluster;

/* Fills map from a CLUSTER SLOTS reply given by asked (host:port). False when
 * the reply is not a slot map. */
static bool read_map(cluster *c, const redisReply *rep, const char *asked_host, redis_node **map)
{
    if (rep->type != REDIS_REPLY_ARRAY)
        return false;
    for (size_t i = 0; i < rep->elements; i++) {
        const redisReply *range = rep->element[i];
        if (range->type != REDIS_REPLY_ARRAY || range->elements < 3 ||
            range->element[0]->type != REDIS_REPLY_INTEGER ||
            range->element[1]->type != REDIS_REPLY_INTEGER ||
            range->element[2]->type != REDIS_REPLY_ARRAY || range->element[2]->elements < 2)
            return false;
        long long first = range->element[0]->integer, last = range->element[1]->integer;
        const redisReply *ip = range->element[2]->element[0];
        const redisReply *port = range->element[2]->element[1];
        if (first < 0 || last >= REDIS_SLOTS || first > last || ip->type != REDIS_REPLY_STRING ||
            port->type != REDIS_REPLY_INTEGER)
            return false;
        /* An empty address means "the node you asked" (CLUSTER SLOTS, Redis 7). */
        const char *host = ip->len ? ip->str : asked_host;
        redis_node *node = redis_nodes_get(&c->base.nodes, host, (int)port->integer);
        if (!node)
            return false;
        for (long long s = first; s <= last; s++)
            map[s] = node;
    }
    return true;
}

static bool install(cluster *c, const redisReply *rep, const char *asked_host)
{
    redis_node **map = calloc(REDIS_SLOTS, sizeof *map);
    bool ok = map && read_map(c, rep, asked_host, map);
    if (ok) {
        pthread_rwlock_wrlock(&c->map_lock);
        memcpy(c->map, map, sizeof c->map);
        pthread_rwlock_unlock(&c->map_lock);
        atomic_fetch_add(&c->base.version, 1);
    }
    free(map);
    return ok;
}

static redis_node *cl_route(redis_topo *t, int slot)
{
    cluster *c = (cluster *)t;
    pthread_rwlock_rdlock(&c->map_lock);
    redis_node *n = c->map[slot];
    pthread_rwlock_unlock(&c->map_lock);
    return n;
}

static void cl_moved(redis_topo *t, int slot, redis_node *node)
{
    cluster *c = (cluster *)t;
    pthread_rwlock_wrlock(&c->map_lock);
    c->map[slot] = node;
    pthread_rwlock_unlock(&c->map_lock);
}

static bool cl_refresh(redis_topo *t, unsigned seen, kura_error *err)
{
    cluster *c = (cluster *)t;
    pthread_mutex_lock(&c->refresh_mu);
    bool ok = atomic_load(&t->version) != seen; /* someone refreshed meanwhile */
    if (ok) {
        pthread_mutex_unlock(&c->refresh_mu);
        return true;
    }
    static const char *const argv[2] = {"CLUSTER", "SLOTS"};
    redis_node *asked[MAX_ASKED];
    size_t n = 0;
    redis_node *seed = redis_nodes_get(&t->nodes, c->seed_host, c->seed_port);
    if (seed)
        asked[n++] = seed;
    n += redis_nodes_list(&t->nodes, asked + n, MAX_ASKED - n);
    for (size_t i = 0; i < n && !ok; i++) {
        if (i > 0 && asked[i] == seed)
            continue;
        redisReply *rep = redis_node_command(asked[i], 2, (const char **)argv, err);
        if (!rep)
            continue;
        ok = install(c, rep, redis_node_host(asked[i]));
        if (!ok)
            kura_fail(err, KURA_STORE, NULL, "redis: %s gave no slot map%s%.80s",
                      redis_node_where(asked[i]), rep->type == REDIS_REPLY_ERROR ? ": " : "",
                      rep->type == REDIS_REPLY_ERROR ? rep->str : "");
        freeReplyObject(rep);
    }
    pthread_mutex_unlock(&c->refresh_mu);
    return ok;
}

static void cl_free(redis_topo *t)
{
    cluster *c = (cluster *)t;
    redis_nodes_free(&t->nodes);
    pthread_rwlock_destroy(&c->map_lock);
    pthread_mutex_destroy(&c->refresh_mu);
    free(c->seed_host);
    free(c);
}

static const redis_topo_ops cluster_ops = {
    .route = cl_route,
    .refresh = cl_refresh,
    .moved = cl_moved,
    .free = cl_free,
};

redis_topo *redis_cluster_new(const redis_conf *conf, const char *seed_host, int seed_port,
                              const redisReply *slots, kura_error *err)
{
    cluster *c = calloc(1, sizeof *c);
    if (!c || !(c->seed_host = strdup(seed_host))) {
        free(c);
        kura_fail(err, KURA_NOMEM, NULL, "out of memory");
        return NULL;
    }
    c->base.ops = &cluster_ops;
    c->base.conf = conf;
    c->base.slotted = true;
    atomic_init(&c->base.version, 0);
    redis_nodes_init(&c->base.nodes, conf);
    c->seed_port = seed_port;
    pthread_rwlock_init(&c->map_lock, NULL);
    pthread_mutex_init(&c->refresh_mu, NULL);
    /* A map that cannot be read is learnt again on the first call. */
    install(c, slots, seed_host);
    return &c->base;
}
