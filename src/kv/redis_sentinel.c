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

#include "kv/redis_private.h"

typedef struct sentinel {
    redis_topo base;
    redis_conf sconf; /* for the sentinels themselves */
    redis_node **sentinels;
    size_t count;
    char *name;
    pthread_mutex_t refresh_mu;
    _Atomic(redis_node *) master; /* NULL until found */
} sentinel;

static redis_node *se_route(redis_topo *t, int slot)
{
    (void)slot;
    return atomic_load(&((sentinel *)t)->master);
}

static void se_moved(redis_topo *t, int slot, redis_node *node)
{
    (void)t, (void)slot, (void)node; /* no slots: a master without cluster mode never says MOVED */
}

/* Whether node answers ROLE with "master". */
static bool is_master(redis_node *node, kura_error *err)
{
    static const char *const argv[1] = {"ROLE"};
    redisReply *rep = redis_node_command(node, 1, (const char **)argv, err);
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

static bool se_refresh(redis_topo *t, unsigned seen, kura_error *err)
{
    sentinel *s = (sentinel *)t;
    pthread_mutex_lock(&s->refresh_mu);
    bool ok = atomic_load(&t->version) != seen; /* someone refreshed meanwhile */
    for (size_t i = 0; i < s->count && !ok; i++) {
        redis_node *node = ask(s, s->sentinels[i], err);
        if (node && is_master(node, err)) {
            atomic_store(&s->master, node);
            atomic_fetch_add(&t->version, 1);
            ok = true;
        }
    }
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
    s->base.conf = conf;
    s->base.slotted = false;
    atomic_init(&s->base.version, 0);
    atomic_init(&s->master, NULL);
    redis_nodes_init(&s->base.nodes, conf);
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
