/*
 * redis_sentinel.c — a master found through Redis Sentinel.
 *
 * Following the sentinel client guidelines: ask each sentinel in turn
 * SENTINEL get-master-addr-by-name, connect to the address given and check
 * with ROLE that it really is a master (a sentinel can name the old master
 * for a moment during a failover). The master is asked for again when a
 * command fails on a lost connection, or is refused with READONLY (the old
 * master came back as a replica), LOADING or MASTERDOWN (redis_route.c does
 * the retrying, bounded). Sentinels get no password and no SELECT: those are
 * the master's (the URL's credentials and db).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kv/redis_private.h"

/* How often the sentinels are asked again even when nothing failed. A forced or
 * partitioned failover can leave the old master up and taking writes (which the
 * failover then discards) until the sentinels demote it, about ten seconds; asking
 * every second bounds how long this store keeps writing there. */
#define RECHECK_MS 1000

typedef struct sentinel {
    redis_topo base;
    redis_conf mconf; /* the URL's, for masters, with require_master */
    redis_conf sconf; /* for the sentinels themselves */
    redis_node **sentinels;
    size_t count;
    char *name;
    pthread_mutex_t refresh_mu;
    _Atomic(redis_node *) master; /* NULL until found */
    _Atomic int64_t checked_ms;   /* when the sentinels were last asked */
} sentinel;

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static bool find_master(sentinel *s, kura_error *err);

static redis_node *se_route(redis_topo *t, int slot)
{
    (void)slot;
    sentinel *s = (sentinel *)t;
    redis_node *master = atomic_load(&s->master);
    /* One thread re-asks when it is due; the others go on with what is known. */
    if (master && mono_ms() - atomic_load(&s->checked_ms) > RECHECK_MS &&
        pthread_mutex_trylock(&s->refresh_mu) == 0) {
        kura_error ignored = {0};
        find_master(s, &ignored); /* unreachable sentinels: keep the master we have */
        pthread_mutex_unlock(&s->refresh_mu);
        master = atomic_load(&s->master);
    }
    return master;
}

static void se_moved(redis_topo *t, int slot, redis_node *node)
{
    (void)t, (void)slot, (void)node; /* no slots: a master without cluster mode never says MOVED */
}

/* Whether node answers ROLE with "master" now (a pooled connection may predate a demotion). */
static bool is_master(redis_node *node, kura_error *err)
{
    const char *argv[1] = {"ROLE"};
    redisReply *rep = redis_node_command(node, 1, argv, err);
    if (!rep)
        return false;
    bool master = rep->type == REDIS_REPLY_ARRAY && rep->elements > 0 &&
                  rep->element[0]->type == REDIS_REPLY_STRING &&
                  strcmp(rep->element[0]->str, "master") == 0;
    if (!master)
        kura_fail(err, KURA_UNAVAILABLE, NULL, "redis: %s is not a master (yet)",
                  redis_node_where(node));
    freeReplyObject(rep);
    return master;
}

/* The master one sentinel names, or NULL (err filled). */
static redis_node *ask(sentinel *s, redis_node *sn, kura_error *err)
{
    const char *argv[3] = {"SENTINEL", "get-master-addr-by-name", s->name};
    redisReply *rep = redis_node_command(sn, 3, argv, err);
    if (!rep)
        return NULL;
    redis_node *node = NULL;
    if (rep->type == REDIS_REPLY_ARRAY && rep->elements == 2 &&
        rep->element[0]->type == REDIS_REPLY_STRING &&
        rep->element[1]->type == REDIS_REPLY_STRING) {
        int port = atoi(rep->element[1]->str);
        if (!(node = redis_nodes_get(&s->base.nodes, rep->element[0]->str, port)))
            kura_fail(err, KURA_NOMEM, NULL, "out of memory");
    } else {
        kura_fail(err, rep->type == REDIS_REPLY_NIL ? KURA_CONFIG : KURA_UNAVAILABLE, NULL,
                  "redis: sentinel %s knows no master named '%.64s'%s%.80s", redis_node_where(sn),
                  s->name, rep->type == REDIS_REPLY_ERROR ? ": " : "",
                  rep->type == REDIS_REPLY_ERROR ? rep->str : "");
    }
    freeReplyObject(rep);
    return node;
}

/* Asks the sentinels in turn for a master that says it is one. Call with refresh_mu. */
static bool find_master(sentinel *s, kura_error *err)
{
    atomic_store(&s->checked_ms, mono_ms());
    for (size_t i = 0; i < s->count; i++) {
        redis_node *node = ask(s, s->sentinels[i], err);
        if (node && is_master(node, err)) {
            if (atomic_exchange(&s->master, node) != node)
                atomic_fetch_add(&s->base.version, 1);
            return true;
        }
    }
    return false;
}

static bool se_refresh(redis_topo *t, unsigned seen, kura_error *err)
{
    sentinel *s = (sentinel *)t;
    pthread_mutex_lock(&s->refresh_mu);
    /* Someone refreshed meanwhile; else ask, and count even an unchanged answer as a
     * refresh, so threads that failed on the same master do not all ask again. */
    bool ok = atomic_load(&t->version) != seen || find_master(s, err);
    if (ok && atomic_load(&t->version) == seen)
        atomic_fetch_add(&t->version, 1);
    pthread_mutex_unlock(&s->refresh_mu);
    return ok;
}

static void se_free(redis_topo *t)
{
    sentinel *s = (sentinel *)t;
    for (size_t i = 0; i < s->count; i++)
        redis_node_free(s->sentinels[i]);
    free(s->sentinels);
    redis_nodes_free(&t->nodes);
    pthread_mutex_destroy(&s->refresh_mu);
    free(s->name);
    free(s);
}

static const redis_topo_ops sentinel_ops = {
    .route = se_route,
    .refresh = se_refresh,
    .moved = se_moved,
    .free = se_free,
};

redis_topo *redis_sentinel_new(const redis_conf *conf, const char *name, char **hosts,
                               const int *ports, size_t count, kura_error *err)
{
    sentinel *s = calloc(1, sizeof *s);
    if (!s) {
        kura_fail(err, KURA_NOMEM, NULL, "out of memory");
        return NULL;
    }
    s->base.ops = &sentinel_ops;
    s->mconf = *conf; /* borrows the strings, as every node does */
    s->mconf.require_master = true;
    s->base.conf = &s->mconf;
    s->base.slotted = false;
    atomic_init(&s->base.version, 0);
    atomic_init(&s->master, NULL);
    atomic_init(&s->checked_ms, 0);
    redis_nodes_init(&s->base.nodes, &s->mconf);
    pthread_mutex_init(&s->refresh_mu, NULL);
    s->sconf.timeout_ms = conf->timeout_ms;
    s->sconf.pool_size = 2;
    if (!(s->name = strdup(name)) || !(s->sentinels = calloc(count, sizeof *s->sentinels)))
        goto oom;
    for (; s->count < count; s->count++)
        if (!(s->sentinels[s->count] =
                  redis_node_new(&s->sconf, hosts[s->count], ports[s->count], NULL)))
            goto oom;
    return &s->base;
oom:
    se_free(&s->base);
    kura_fail(err, KURA_NOMEM, NULL, "out of memory");
    return NULL;
}
