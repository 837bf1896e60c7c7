/*
 * redis_node.c — one Redis server: a bounded pool of hiredis connections.
 *
 * Threads: a redisContext is not thread-safe, so each node keeps a bounded
 * pool of them. A call checks one out (opening it when none is idle), sends
 * its commands pipelined, reads every reply and checks it back in.
 *
 * Reconnection: a context that saw an I/O or protocol error is freed, never
 * reused; the next call opens a fresh one. A context that sat idle for a
 * while is probed first (a non-blocking peek sees the EOF a restarted server
 * left behind), so a restart is not reported to the first caller after it.
 *
 * SIGPIPE: hiredis writes with write(), and writing twice to a socket the
 * server reset raises SIGPIPE, whose default action kills the process. A
 * library must not change the process's signal handling, so writes that can
 * take more than one write() (batches, large values) run with SIGPIPE blocked
 * in the calling thread and any SIGPIPE they caused is consumed.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "kv/redis_private.h"

/* An idle connection older than this is probed before use. A restart takes
 * far longer than this, so a younger one cannot have missed one. */
#define PROBE_AFTER_MS 20
/* Commands up to this size go out in one write() (see SIGPIPE above). */
#define SMALL_WRITE 8192

typedef struct idle_conn {
    redisContext *c;
    int64_t since_ms;
} idle_conn;

struct redis_node {
    const redis_conf *conf;
    char *host;      /* TCP */
    int port;        /* TCP */
    char *socket;    /* unix socket path, or NULL */
    char where[160]; /* "127.0.0.1:6379" or the socket path, for messages */

    pthread_mutex_t mu;
    pthread_cond_t freed; /* a connection came back or closed */
    idle_conn *idle;      /* stack of pool_size slots */
    int nidle;
    int open; /* connections in existence, idle or busy */
};

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

redis_node *redis_node_new(const redis_conf *conf, const char *host, int port, const char *socket)
{
    redis_node *n = calloc(1, sizeof *n);
    if (!n)
        return NULL;
    n->conf = conf;
    n->port = port;
    n->idle = calloc((size_t)conf->pool_size, sizeof *n->idle);
    if (!n->idle || (host && !(n->host = strdup(host))) ||
        (socket && !(n->socket = strdup(socket)))) {
        free(n->idle);
        free(n->host);
        free(n);
        return NULL;
    }
    pthread_mutex_init(&n->mu, NULL);
    pthread_cond_init(&n->freed, NULL);
    if (socket)
        snprintf(n->where, sizeof n->where, "%.150s", socket);
    else
        snprintf(n->where, sizeof n->where, "%.140s:%d", host, port);
    return n;
}

void redis_node_free(redis_node *n)
{
    if (!n)
        return;
    for (int i = 0; i < n->nidle; i++)
        redisFree(n->idle[i].c);
    free(n->idle);
    pthread_mutex_destroy(&n->mu);
    pthread_cond_destroy(&n->freed);
    free(n->host);
    free(n->socket);
    free(n);
}

const char *redis_node_where(const redis_node *n)
{
    return n->where;
}

const char *redis_node_host(const redis_node *n)
{
    return n->host;
}

int redis_node_port(const redis_node *n)
{
    return n->port;
}

/* ---- errors ----------------------------------------------------------------------- */

/*
 * The connection failed while the replies of cmds[from..n) were awaited: the
 * commands were handed to the socket, and a server that is only stopped (or
 * whose reply was lost) runs them later. A batch with a write among them has
 * an unknown outcome, which the caller must not be told to simply retry.
 */
static void note_lost_writes(const kura_kv_cmd *cmds, size_t from, size_t n, kura_error *err)
{
    for (size_t i = from; i < n; i++)
        if (!(kura__kv_op_traits[cmds[i].op] & KV_READS)) {
            if (err) {
                char was[sizeof err->message];
                snprintf(was, sizeof was, "%s", err->message);
                kura_fail(err, KURA_OUTCOME_UNKNOWN, NULL,
                          "%s: the write was sent and may or may not have been applied", was);
            }
            return;
        }
}

/* The error of a context that failed: the connection is unusable. */
static bool fail_conn(const redis_node *n, const redisContext *c, kura_error *err)
{
    if (c->err == REDIS_ERR_IO && (errno == EAGAIN || errno == EWOULDBLOCK))
        return kura_fail(err, KURA_TIMEOUT, NULL, "redis: %s did not answer within %ld ms",
                         n->where, n->conf->timeout_ms);
    if (c->err == REDIS_ERR_OOM)
        return kura_fail(err, KURA_NOMEM, NULL, "redis: out of memory");
    if (c->err == REDIS_ERR_PROTOCOL)
        return kura_fail(err, KURA_STORE, NULL, "redis: protocol error from %s: %s", n->where,
                         c->errstr);
    return kura_fail(err, KURA_UNAVAILABLE, NULL, "redis: connection to %s lost: %s", n->where,
                     c->errstr[0] ? c->errstr : "unknown error");
}

/* ---- connections --------------------------------------------------------------------- */

/* Runs one command on a fresh connection during the handshake. */
static bool handshake(const redis_node *n, redisContext *c, int argc, const char **argv,
                      kura_code refused, kura_error *err)
{
    redisReply *rep = redisCommandArgv(c, argc, argv, NULL);
    if (!rep)
        return fail_conn(n, c, err);
    bool ok = rep->type != REDIS_REPLY_ERROR;
    if (!ok) {
        /* "ERR invalid password", "ERR DB index is out of range": the caller's code. */
        kura_code code = redis_error_code(rep);
        kura_fail(err, code == KURA_STORE ? refused : code, NULL, "redis: %s refused %s: %.160s",
                  n->where, argv[0], rep->str);
    }
    freeReplyObject(rep);
    return ok;
}

/* Whether c's server is a master; a replica is an unavailable master. */
static bool check_master(const redis_node *n, redisContext *c, kura_error *err)
{
    const char *argv[1] = {"ROLE"};
    redisReply *rep = redisCommandArgv(c, 1, argv, NULL);
    if (!rep)
        return fail_conn(n, c, err);
    bool master = rep->type == REDIS_REPLY_ARRAY && rep->elements > 0 &&
                  rep->element[0]->type == REDIS_REPLY_STRING &&
                  strcmp(rep->element[0]->str, "master") == 0;
    if (!master)
        kura_fail(err, KURA_UNAVAILABLE, NULL, "redis: %s is not a master (now)", n->where);
    freeReplyObject(rep);
    return master;
}

static redisContext *connect_one(const redis_node *n, kura_error *err)
{
    const redis_conf *conf = n->conf;
    struct timeval tv = {.tv_sec = conf->timeout_ms / 1000,
                         .tv_usec = (conf->timeout_ms % 1000) * 1000};
    redisContext *c = n->socket ? redisConnectUnixWithTimeout(n->socket, tv)
                                : redisConnectWithTimeout(n->host, n->port, tv);
    if (!c) {
        kura_fail(err, KURA_NOMEM, NULL, "redis: out of memory");
        return NULL;
    }
    if (c->err) {
        kura_fail(err, KURA_UNAVAILABLE, NULL, "redis: cannot connect to %s: %s", n->where,
                  c->errstr);
        redisFree(c);
        return NULL;
    }
    if (redisSetTimeout(c, tv) != REDIS_OK || (!n->socket && redisEnableKeepAlive(c) != REDIS_OK)) {
        fail_conn(n, c, err);
        redisFree(c);
        return NULL;
    }
    if (conf->password) {
        const char *argv[3] = {"AUTH", conf->user ? conf->user : conf->password, conf->password};
        if (!handshake(n, c, conf->user ? 3 : 2, argv, KURA_AUTH, err)) {
            redisFree(c);
            return NULL;
        }
    }
    if (conf->require_master && !check_master(n, c, err)) {
        redisFree(c);
        return NULL;
    }
    if (conf->db) {
        char db[24];
        snprintf(db, sizeof db, "%ld", conf->db);
        const char *argv[2] = {"SELECT", db};
        if (!handshake(n, c, 2, argv, KURA_CONFIG, err)) {
            redisFree(c);
            return NULL;
        }
    }
    return c;
}

/* Whether an idle connection's server went away (EOF or an error is waiting). */
static bool looks_dead(const redisContext *c)
{
    char byte;
    ssize_t got = recv(c->fd, &byte, 1, MSG_PEEK | MSG_DONTWAIT);
    if (got == 0)
        return true;
    if (got < 0)
        return errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR;
    return true; /* nothing unsolicited is ever due on an idle RESP2 connection */
}

redisContext *redis_node_checkout(redis_node *n, kura_error *err)
{
    long timeout_ms = n->conf->timeout_ms;
    int pool_size = n->conf->pool_size;
    pthread_mutex_lock(&n->mu);
    if (n->nidle == 0 && n->open >= pool_size) { /* the clock is read only when waiting */
        struct timespec deadline;
        clock_gettime(CLOCK_REALTIME, &deadline);
        deadline.tv_sec += timeout_ms / 1000;
        deadline.tv_nsec += (timeout_ms % 1000) * 1000000;
        if (deadline.tv_nsec >= 1000000000) {
            deadline.tv_sec++;
            deadline.tv_nsec -= 1000000000;
        }
        while (n->nidle == 0 && n->open >= pool_size) {
            if (pthread_cond_timedwait(&n->freed, &n->mu, &deadline) == ETIMEDOUT &&
                n->nidle == 0 && n->open >= pool_size) {
                pthread_mutex_unlock(&n->mu);
                kura_fail(err, KURA_TIMEOUT, NULL,
                          "redis: no connection to %s came free within %ld ms (pool of %d)",
                          n->where, timeout_ms, pool_size);
                return NULL;
            }
        }
    }
    redisContext *c = NULL;
    int64_t since = 0;
    if (n->nidle > 0) {
        n->nidle--;
        c = n->idle[n->nidle].c;
        since = n->idle[n->nidle].since_ms;
    } else {
        n->open++;
    }
    pthread_mutex_unlock(&n->mu);

    if (c && mono_ms() - since > PROBE_AFTER_MS && looks_dead(c)) {
        redisFree(c);
        c = NULL;
    }
    if (!c && !(c = connect_one(n, err))) {
        pthread_mutex_lock(&n->mu);
        n->open--;
        pthread_cond_signal(&n->freed);
        pthread_mutex_unlock(&n->mu);
    }
    return c;
}

void redis_node_checkin(redis_node *n, redisContext *c)
{
    bool broken = c->err != 0;
    if (broken)
        redisFree(c);
    pthread_mutex_lock(&n->mu);
    if (broken) {
        n->open--;
    } else {
        n->idle[n->nidle].c = c;
        n->idle[n->nidle].since_ms = mono_ms();
        n->nidle++;
    }
    pthread_cond_signal(&n->freed);
    pthread_mutex_unlock(&n->mu);
}

redisReply *redis_node_command(redis_node *n, int argc, const char **argv, kura_error *err)
{
    redisContext *c = redis_node_checkout(n, err);
    if (!c)
        return NULL;
    redisReply *rep = redisCommandArgv(c, argc, argv, NULL);
    if (!rep)
        fail_conn(n, c, err);
    redis_node_checkin(n, c);
    return rep;
}

/* ---- pipelined runs ------------------------------------------------------------------ */

/* The reply prefixes a router acts on instead of reporting them. */
static const struct {
    const char *prefix;
    redis_outcome outcome;
} redirects[] = {
    {"MOVED ", REDIS_MOVED},     {"ASK ", REDIS_ASK},     {"TRYAGAIN", REDIS_BUSY},
    {"CLUSTERDOWN", REDIS_BUSY}, {"LOADING", REDIS_BUSY}, {"READONLY", REDIS_BUSY},
    {"MASTERDOWN", REDIS_BUSY},
};

/* Fills res from an error reply; false when the reply is the store's answer. */
static bool classify(const redisReply *rep, redis_result *res)
{
    if (rep->type != REDIS_REPLY_ERROR)
        return false;
    for (size_t i = 0; i < sizeof redirects / sizeof redirects[0]; i++) {
        size_t plen = strlen(redirects[i].prefix);
        if (strncmp(rep->str, redirects[i].prefix, plen) != 0)
            continue;
        res->outcome = redirects[i].outcome;
        snprintf(res->error, sizeof res->error, "%.90s", rep->str);
        if (res->outcome == REDIS_BUSY)
            return true;
        /* "MOVED 3999 127.0.0.1:6381": the address after the slot, port after the last ':'. */
        const char *addr = strchr(rep->str + plen, ' ');
        const char *colon = addr ? strrchr(addr, ':') : NULL;
        if (!colon || colon - addr - 1 <= 0 || (size_t)(colon - addr - 1) >= sizeof res->host) {
            res->outcome = REDIS_BUSY; /* unreadable: ask the topology instead */
            return true;
        }
        memcpy(res->host, addr + 1, (size_t)(colon - addr - 1));
        res->host[colon - addr - 1] = '\0';
        res->port = atoi(colon + 1);
        return true;
    }
    return false;
}

static bool is_small(const kura_kv_cmd *cmds, const bool *asking, size_t n)
{
    return n == 1 && !(asking && asking[0]) && cmds[0].op != KV_MSET && cmds[0].len < SMALL_WRITE;
}

bool redis_node_run(redis_node *n, const kura_kv_cmd *cmds, const bool *asking, size_t count,
                    kura_kv_reply *replies, redis_result *res, kura_kv_blocks *values, bool *sent,
                    kura_error *err)
{
    *sent = false;
    for (size_t i = 0; res && i < count; i++)
        res[i].outcome = REDIS_LOST;
    redisContext *c = redis_node_checkout(n, err);
    if (!c)
        return false;
    *sent = true;

    bool guard = !is_small(cmds, asking, count);
    sigset_t pipe_set, old_mask, pending;
    bool pipe_was_pending = false;
    if (guard) {
        sigemptyset(&pipe_set);
        sigaddset(&pipe_set, SIGPIPE);
        sigpending(&pending);
        pipe_was_pending = sigismember(&pending, SIGPIPE);
        pthread_sigmask(SIG_BLOCK, &pipe_set, &old_mask);
    }

    redis_replies direct;
    redis_replies_install(&direct, c, values);
    const char *asking_argv[1] = {"ASKING"};
    bool ok = true;
    size_t i = 0;
    for (; i < count && ok; i++) {
        if (asking && asking[i] && redisAppendCommandArgv(c, 1, asking_argv, NULL) != REDIS_OK)
            ok = kura_fail(err, KURA_NOMEM, NULL, "out of memory");
        ok = ok && redis_cmd_append(c, &cmds[i], err);
    }
    size_t appended = ok ? count : i - 1;
    if (!ok && appended > 0) {
        /* Read the replies of what was sent, or the connection falls out of step. */
        c->err = REDIS_ERR_OTHER;
    }
    for (i = 0; ok && i < appended; i++) {
        void *rep = NULL;
        if (asking && asking[i]) {
            if (redisGetReply(c, &rep) != REDIS_OK || !rep) {
                ok = fail_conn(n, c, err);
                break;
            }
            redis_reply_free(rep);
            rep = NULL;
        }
        if (redisGetReply(c, &rep) != REDIS_OK || !rep) {
            ok = fail_conn(n, c, err);
            if (!res) /* a routed run decides per command (redis_route.c) */
                note_lost_writes(cmds, i, appended, err);
            break;
        }
        if (!res || !classify(rep, &res[i])) {
            if (res)
                res[i].outcome = REDIS_DONE;
            redis_cmd_convert(&cmds[i], rep, &replies[i]);
        }
        redis_reply_free(rep);
    }
    redis_replies_remove(&direct);

    if (guard) {
        sigpending(&pending);
        if (!pipe_was_pending && sigismember(&pending, SIGPIPE)) {
            struct timespec zero = {0, 0};
            while (sigtimedwait(&pipe_set, NULL, &zero) < 0 && errno == EINTR)
                ;
        }
        pthread_sigmask(SIG_SETMASK, &old_mask, NULL);
    }
    redis_node_checkin(n, c);
    return ok;
}

/* ---- the nodes a store has met ------------------------------------------------------- */

void redis_nodes_init(redis_nodes *r, const redis_conf *conf)
{
    memset(r, 0, sizeof *r);
    r->conf = conf;
    pthread_mutex_init(&r->mu, NULL);
}

void redis_nodes_free(redis_nodes *r)
{
    for (size_t i = 0; i < r->count; i++)
        redis_node_free(r->items[i]);
    free(r->items);
    pthread_mutex_destroy(&r->mu);
    r->items = NULL;
    r->count = r->cap = 0;
}

redis_node *redis_nodes_get(redis_nodes *r, const char *host, int port)
{
    redis_node *found = NULL;
    pthread_mutex_lock(&r->mu);
    for (size_t i = 0; i < r->count && !found; i++)
        if (r->items[i]->port == port && strcmp(r->items[i]->host, host) == 0)
            found = r->items[i];
    if (!found && r->count == r->cap) {
        size_t cap = r->cap ? r->cap * 2 : 8;
        redis_node **items = realloc(r->items, cap * sizeof *items);
        if (items) {
            r->items = items;
            r->cap = cap;
        }
    }
    if (!found && r->count < r->cap && (found = redis_node_new(r->conf, host, port, NULL)))
        r->items[r->count++] = found;
    pthread_mutex_unlock(&r->mu);
    return found;
}

size_t redis_nodes_list(redis_nodes *r, redis_node **out, size_t max)
{
    pthread_mutex_lock(&r->mu);
    size_t n = r->count < max ? r->count : max;
    memcpy(out, r->items, n * sizeof *out);
    pthread_mutex_unlock(&r->mu);
    return n;
}
