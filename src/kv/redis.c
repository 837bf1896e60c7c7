/*
 * redis.c — the Redis driver, on hiredis: URLs, opening, and which topology
 * a store talks to.
 *
 *   redis://host:port/db             one server; a cluster node when that server
 *                                    says it is one (CLUSTER SLOTS answers with a
 *                                    map rather than "cluster support disabled"),
 *                                    asked on the first connection that succeeds
 *   unix:///path.sock                one server
 *   redis+sentinel://h1:p1,h2:p2/name[/db]   the master the sentinels name
 *
 * A single server gets one pipelined round trip per batch and no retries (an
 * outage is the caller's to see, at once). A cluster or a sentinel-managed
 * master can move, so their batches go through redis_route.c, which follows
 * the move within the timeout.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/url.h"
#include "kv/redis_private.h"

#define DEFAULT_PORT          6379
#define DEFAULT_SENTINEL_PORT 26379
#define DEFAULT_TIMEOUT_MS    2000
#define DEFAULT_POOL          8
#define MAX_SENTINELS         16
/* A call waiting this long with no other call finishing means the server has
 * stopped answering (guard.c): callers after it fail at once. Far above any
 * healthy round trip, below the timeout so few threads wait the timeout out. */
#define DEFAULT_STALL_MS 1000

typedef enum redis_mode {
    MODE_UNKNOWN, /* not reached yet: asked again on the next call */
    MODE_SINGLE,
    MODE_TOPO, /* cluster or sentinel: r->topo */
} redis_mode;

typedef struct redis_kv {
    kura_kv base;
    redis_conf conf;
    redis_node *seed; /* the URL's server (not for sentinel URLs) */
    char *host;       /* the URL's host (TCP), for the cluster's first map */
    int port;
    bool unix_socket;

    pthread_mutex_t mode_mu; /* held while finding out the mode */
    atomic_int mode;         /* redis_mode; topo is set before MODE_TOPO */
    redis_topo *topo;
} redis_kv;

/* ---- finding out what the URL points at -------------------------------------------- */

/* Asks the seed whether it is a cluster node. False (err filled) when it could
 * not be asked; the mode stays unknown. */
static bool detect(redis_kv *r, kura_error *err)
{
    pthread_mutex_lock(&r->mode_mu);
    bool ok = true;
    if (atomic_load(&r->mode) != MODE_UNKNOWN)
        goto out;
    if (r->unix_socket) {
        atomic_store(&r->mode, MODE_SINGLE);
        goto out;
    }
    static const char *const argv[2] = {"CLUSTER", "SLOTS"};
    redisReply *rep = redis_node_command(r->seed, 2, (const char **)argv, err);
    if (!rep) {
        ok = false;
        goto out;
    }
    if (rep->type == REDIS_REPLY_ARRAY) {
        r->topo = redis_cluster_new(&r->conf, r->host, r->port, rep, err);
        ok = r->topo != NULL;
        if (ok)
            atomic_store(&r->mode, MODE_TOPO);
    } else {
        /* "ERR This instance has cluster support disabled". */
        atomic_store(&r->mode, MODE_SINGLE);
    }
    freeReplyObject(rep);
out:
    pthread_mutex_unlock(&r->mode_mu);
    return ok;
}

static bool rd_run(kura_kv *kv, const kura_kv_cmd *cmds, size_t n, kura_kv_reply *replies,
                   kura_kv_blocks *values, kura_error *err)
{
    redis_kv *r = (redis_kv *)kv;
    if (atomic_load(&r->mode) == MODE_UNKNOWN && !detect(r, err))
        return false;
    /* A routed run moves replies between its parts and frees the ones it drops:
     * its values are malloc'd. */
    if (atomic_load(&r->mode) == MODE_TOPO)
        return redis_route_run(r->topo, cmds, n, replies, err);
    bool sent;
    return redis_node_run(r->seed, cmds, NULL, n, replies, NULL, values, &sent, err);
}

/* ---- lifecycle ---------------------------------------------------------------------- */

static void rd_close(kura_kv *kv)
{
    redis_kv *r = (redis_kv *)kv;
    if (r->topo)
        r->topo->ops->free(r->topo);
    redis_node_free(r->seed);
    pthread_mutex_destroy(&r->mode_mu);
    free(r->host);
    free(r->conf.user);
    if (r->conf.password)
        memset(r->conf.password, 0, strlen(r->conf.password));
    free(r->conf.password);
    free(r);
}

static const kura_kv_ops redis_ops = {
    .name = "redis",
    .close = rd_close,
    .run = rd_run,
    .purge = NULL,
};

static const char *const redis_options[] = {"timeout", "pool", "stall", "db", "password", NULL};

static bool dup_into(char **dst, const char *src, kura_error *err)
{
    if (!src)
        return true;
    if (!(*dst = strdup(src)))
        return kura_fail(err, KURA_NOMEM, NULL, "out of memory");
    return true;
}

/* A database number in text; false when it is not one. */
static bool parse_db(const char *text, long *db)
{
    char *end;
    errno = 0;
    *db = strtol(text, &end, 10);
    return !errno && !*end && *db >= 0 && end != text;
}

/* The sentinel list of a redis+sentinel URL. */
typedef struct sentinel_list {
    char *hosts[MAX_SENTINELS];
    int ports[MAX_SENTINELS];
    size_t count;
    char *name; /* the master's name */
} sentinel_list;

static void sentinel_list_free(sentinel_list *s)
{
    for (size_t i = 0; i < s->count; i++)
        free(s->hosts[i]);
    free(s->name);
}

/*
 * "redis+sentinel://[cred@]h1:p1,h2:p2/name[/db][?opts]": the host list goes
 * into s and *rest receives "redis://[cred@]sentinel/name[/db][?opts]", which
 * the common parser reads (credentials, options, path).
 */
static bool split_sentinels(const char *url, sentinel_list *s, char **rest, kura_error *err)
{
    const char *auth = url + strlen("redis+sentinel://");
    size_t alen = strcspn(auth, "/?#");
    const char *at = NULL;
    for (const char *p = auth; p < auth + alen; p++)
        if (*p == '@')
            at = p;
    const char *list = at ? at + 1 : auth, *end = auth + alen;
    while (list < end) {
        size_t len = strcspn(list, ",/?#");
        const char *colon = memchr(list, ':', len);
        size_t hlen = colon ? (size_t)(colon - list) : len;
        char *stop = NULL;
        long port = colon ? strtol(colon + 1, &stop, 10) : DEFAULT_SENTINEL_PORT;
        if (s->count == MAX_SENTINELS || hlen == 0 ||
            (colon && (stop != list + len || port < 1 || port > 65535)))
            return kura_fail(err, KURA_CONFIG, NULL,
                             "malformed sentinel URL '%.64s': expected "
                             "redis+sentinel://host:port[,host:port...]/mastername[/db]",
                             url);
        if (!(s->hosts[s->count] = strndup(list, hlen)))
            return kura_fail(err, KURA_NOMEM, NULL, "out of memory");
        s->ports[s->count++] = (int)port;
        list += len + (list[len] == ',');
    }
    if (s->count == 0)
        return kura_fail(err, KURA_CONFIG, NULL, "sentinel URL '%.64s' names no sentinel", url);
    size_t clen = at ? (size_t)(at - auth + 1) : 0,
           n = strlen("redis://sentinel") + clen + strlen(end) + 1;
    if (!(*rest = malloc(n)))
        return kura_fail(err, KURA_NOMEM, NULL, "out of memory");
    snprintf(*rest, n, "redis://%.*ssentinel%s", (int)clen, auth, end);
    return true;
}

/* The sentinel URL's path "name[/db]". */
static bool sentinel_path(const char *url, const char *path, sentinel_list *s, long *db,
                          kura_error *err)
{
    const char *slash = path ? strchr(path, '/') : NULL;
    size_t nlen = path ? (slash ? (size_t)(slash - path) : strlen(path)) : 0;
    if (nlen == 0 || (slash && !parse_db(slash + 1, db)))
        return kura_fail(err, KURA_CONFIG, NULL,
                         "sentinel URL '%.64s': the path must be the master's name, then "
                         "optionally /db",
                         url);
    if (!(s->name = strndup(path, nlen)))
        return kura_fail(err, KURA_NOMEM, NULL, "out of memory");
    return true;
}

/* Reads the URL into r's settings (and, for sentinel URLs, s). */
static bool configure(redis_kv *r, const char *url, sentinel_list *s, kura_error *err)
{
    char *rest = NULL;
    bool sentinel = strncmp(url, "redis+sentinel://", 17) == 0;
    if (sentinel && !split_sentinels(url, s, &rest, err))
        return false;
    kura_url u;
    if (!kura_url_parse(rest ? rest : url, &u, err)) {
        free(rest);
        return false;
    }
    bool ok = false;
    r->unix_socket = strcmp(u.scheme, "unix") == 0;
    char *socket = NULL;
    long timeout, pool, stall, db = 0;
    if (!kura_url_check_params(&u, redis_options, err) ||
        !kura_url_param_int(&u, "timeout", 1, 3600000, DEFAULT_TIMEOUT_MS, &timeout, err) ||
        !kura_url_param_int(&u, "pool", 1, 1024, DEFAULT_POOL, &pool, err) ||
        !kura_url_param_int(&u, "stall", 0, 3600000, DEFAULT_STALL_MS, &stall, err))
        goto out;
    kura__kv_guard_init(&r->base.guard, stall);
    r->conf.timeout_ms = timeout;
    r->conf.pool_size = (int)pool;
    if (r->unix_socket) {
        if (u.host || !u.path || !*u.path) {
            kura_fail(err, KURA_CONFIG, NULL,
                      "malformed Redis socket URL '%.64s': expected unix:///path/to.sock", url);
            goto out;
        }
        size_t n = strlen(u.path) + 2;
        if (!(socket = malloc(n))) {
            kura_fail(err, KURA_NOMEM, NULL, "out of memory");
            goto out;
        }
        snprintf(socket, n, "%s%s", u.path[0] == '/' ? "" : "/", u.path);
        if (!kura_url_param_int(&u, "db", 0, 1000000, 0, &db, err) ||
            !dup_into(&r->conf.password, kura_url_param(&u, "password"), err))
            goto out;
    } else {
        if (strcmp(u.scheme, "redis") != 0 || !u.host || !*u.host) {
            kura_fail(err, KURA_CONFIG, NULL,
                      "malformed Redis URL '%.64s': expected redis://[:password@]host:port/db",
                      url);
            goto out;
        }
        if (kura_url_param(&u, "db") || kura_url_param(&u, "password")) {
            kura_fail(err, KURA_CONFIG, NULL,
                      "Redis URL '%.64s': give the db as the path and the password before '@'",
                      url);
            goto out;
        }
        if (sentinel) {
            if (!sentinel_path(url, u.path, s, &db, err))
                goto out;
        } else if (u.path && *u.path && !parse_db(u.path, &db)) {
            kura_fail(err, KURA_CONFIG, NULL,
                      "Redis URL '%.64s': the path must be a database number", url);
            goto out;
        }
        r->port = u.port ? u.port : DEFAULT_PORT;
        if (!dup_into(&r->host, u.host, err) || !dup_into(&r->conf.password, u.password, err) ||
            !dup_into(&r->conf.user, u.user, err))
            goto out;
    }
    if (r->conf.user && !r->conf.password) {
        kura_fail(err, KURA_CONFIG, NULL, "Redis URL '%.64s' names a user but no password", url);
        goto out;
    }
    r->conf.db = db;
    if (!sentinel &&
        !(r->seed = redis_node_new(&r->conf, r->unix_socket ? NULL : r->host, r->port, socket))) {
        kura_fail(err, KURA_NOMEM, NULL, "out of memory");
        goto out;
    }
    ok = true;
out:
    free(socket);
    free(rest);
    if (u.password)
        memset(u.password, 0, strlen(u.password));
    kura_url_free(&u);
    return ok;
}

kura_kv *kura_redis_kv_open(const char *url, kura_error *err)
{
    redis_kv *r = calloc(1, sizeof *r);
    if (!r) {
        kura_fail(err, KURA_NOMEM, NULL, "out of memory");
        return NULL;
    }
    r->base.ops = &redis_ops;
    pthread_mutex_init(&r->mode_mu, NULL);
    atomic_init(&r->mode, MODE_UNKNOWN);
    sentinel_list s = {.count = 0};
    if (!configure(r, url, &s, err))
        goto fail;
    if (!r->seed) {
        if (!(r->topo = redis_sentinel_new(&r->conf, s.name, s.hosts, s.ports, s.count, err)))
            goto fail;
        atomic_store(&r->mode, MODE_TOPO);
    }
    /* Check credentials and db now, so a typo fails at start-up; a server that
     * is not up yet is not an error (see kv.h). */
    kura_error first;
    kura_error_clear(&first);
    bool reached = r->seed ? detect(r, &first) : true;
    if (reached && r->seed && atomic_load(&r->mode) == MODE_SINGLE) {
        redisContext *c = redis_node_checkout(r->seed, &first);
        if (c)
            redis_node_checkin(r->seed, c);
        reached = c != NULL;
    } else if (reached && !r->seed) {
        const kura_kv_cmd ping = {.op = KV_PING};
        kura_kv_reply rep = {0};
        reached = redis_route_run(r->topo, &ping, 1, &rep, &first);
        kura_kv_reply_clear(&rep);
    }
    if (!reached && first.code != KURA_UNAVAILABLE && first.code != KURA_TIMEOUT) {
        if (err)
            *err = first;
        goto fail;
    }
    sentinel_list_free(&s);
    return &r->base;
fail:
    sentinel_list_free(&s);
    rd_close(&r->base);
    return NULL;
}
