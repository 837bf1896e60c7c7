/*
 * redis.c — the Redis driver, on hiredis.
 *
 * Threads: a redisContext is not thread-safe, so the driver keeps a bounded
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
#include <hiredis/hiredis.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>

#include "base/url.h"
#include "kv/kv_private.h"

#define DEFAULT_PORT       6379
#define DEFAULT_TIMEOUT_MS 2000
#define DEFAULT_POOL       8
/* A call waiting this long with no other call finishing means the server has
 * stopped answering (guard.c): callers after it fail at once. Far above any
 * healthy round trip, below the timeout so few threads wait the timeout out. */
#define DEFAULT_STALL_MS 1000
/* An idle connection older than this is probed before use. A restart takes
 * far longer than this, so a younger one cannot have missed one. */
#define PROBE_AFTER_MS 20
/* Commands up to this size go out in one write() (see SIGPIPE above). */
#define SMALL_WRITE 8192

typedef struct idle_conn {
    redisContext *c;
    int64_t since_ms;
} idle_conn;

typedef struct redis_kv {
    kura_kv base;
    char *host;      /* TCP */
    int port;        /* TCP */
    char *socket;    /* unix socket path, or NULL */
    char *user;      /* ACL user, or NULL */
    char *password;  /* or NULL */
    long db;         /* SELECTed when not 0 */
    long timeout_ms; /* connect and command timeout */
    char where[160]; /* "127.0.0.1:6379" or the socket path, for messages */

    pthread_mutex_t mu;
    pthread_cond_t freed; /* a connection came back or closed */
    idle_conn *idle;      /* stack of pool_size slots */
    int nidle;
    int open; /* connections in existence, idle or busy */
    int pool_size;
} redis_kv;

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- errors ----------------------------------------------------------------------- */

/* The error of a context that failed: the connection is unusable. */
static bool fail_conn(redis_kv *r, redisContext *c, kura_error *err)
{
    if (c->err == REDIS_ERR_IO && (errno == EAGAIN || errno == EWOULDBLOCK))
        return kura_fail(err, KURA_TIMEOUT, NULL, "redis: %s did not answer within %ld ms",
                         r->where, r->timeout_ms);
    if (c->err == REDIS_ERR_OOM)
        return kura_fail(err, KURA_NOMEM, NULL, "redis: out of memory");
    if (c->err == REDIS_ERR_PROTOCOL)
        return kura_fail(err, KURA_STORE, NULL, "redis: protocol error from %s: %s", r->where,
                         c->errstr);
    return kura_fail(err, KURA_UNAVAILABLE, NULL, "redis: connection to %s lost: %s", r->where,
                     c->errstr[0] ? c->errstr : "unknown error");
}

/* The code for an error reply (the connection itself is fine). */
static kura_code error_code(const redisReply *rep)
{
    if (strncmp(rep->str, "NOAUTH", 6) == 0 || strncmp(rep->str, "WRONGPASS", 9) == 0 ||
        strncmp(rep->str, "NOPERM", 6) == 0)
        return KURA_AUTH;
    if (strncmp(rep->str, "LOADING", 7) == 0 || strncmp(rep->str, "MASTERDOWN", 10) == 0)
        return KURA_UNAVAILABLE;
    return KURA_STORE;
}

/* ---- connections --------------------------------------------------------------------- */

/* Runs one command on a fresh connection during the handshake. */
static bool handshake(redis_kv *r, redisContext *c, int argc, const char **argv, kura_code refused,
                      kura_error *err)
{
    redisReply *rep = redisCommandArgv(c, argc, argv, NULL);
    if (!rep)
        return fail_conn(r, c, err);
    bool ok = rep->type != REDIS_REPLY_ERROR;
    if (!ok) {
        /* "ERR invalid password", "ERR DB index is out of range": the caller's code. */
        kura_code code = error_code(rep);
        kura_fail(err, code == KURA_STORE ? refused : code, NULL, "redis: %s refused %s: %.160s",
                  r->where, argv[0], rep->str);
    }
    freeReplyObject(rep);
    return ok;
}

static redisContext *connect_one(redis_kv *r, kura_error *err)
{
    struct timeval tv = {.tv_sec = r->timeout_ms / 1000, .tv_usec = (r->timeout_ms % 1000) * 1000};
    redisContext *c = r->socket ? redisConnectUnixWithTimeout(r->socket, tv)
                                : redisConnectWithTimeout(r->host, r->port, tv);
    if (!c) {
        kura_fail(err, KURA_NOMEM, NULL, "redis: out of memory");
        return NULL;
    }
    if (c->err) {
        kura_fail(err, KURA_UNAVAILABLE, NULL, "redis: cannot connect to %s: %s", r->where,
                  c->errstr);
        redisFree(c);
        return NULL;
    }
    if (redisSetTimeout(c, tv) != REDIS_OK || (!r->socket && redisEnableKeepAlive(c) != REDIS_OK)) {
        fail_conn(r, c, err);
        redisFree(c);
        return NULL;
    }
    if (r->password) {
        const char *argv[3] = {"AUTH", r->user ? r->user : r->password, r->password};
        if (!handshake(r, c, r->user ? 3 : 2, argv, KURA_AUTH, err)) {
            redisFree(c);
            return NULL;
        }
    }
    if (r->db) {
        char db[24];
        snprintf(db, sizeof db, "%ld", r->db);
        const char *argv[2] = {"SELECT", db};
        if (!handshake(r, c, 2, argv, KURA_CONFIG, err)) {
            redisFree(c);
            return NULL;
        }
    }
    return c;
}

/* Whether an idle connection's server went away (EOF or an error is waiting). */
static bool looks_dead(redisContext *c)
{
    char byte;
    ssize_t n = recv(c->fd, &byte, 1, MSG_PEEK | MSG_DONTWAIT);
    if (n == 0)
        return true;
    if (n < 0)
        return errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR;
    return true; /* nothing unsolicited is ever due on an idle RESP2 connection */
}

static redisContext *checkout(redis_kv *r, kura_error *err)
{
    pthread_mutex_lock(&r->mu);
    struct timespec deadline;
    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_sec += r->timeout_ms / 1000;
    deadline.tv_nsec += (r->timeout_ms % 1000) * 1000000;
    if (deadline.tv_nsec >= 1000000000) {
        deadline.tv_sec++;
        deadline.tv_nsec -= 1000000000;
    }
    while (r->nidle == 0 && r->open >= r->pool_size) {
        if (pthread_cond_timedwait(&r->freed, &r->mu, &deadline) == ETIMEDOUT && r->nidle == 0 &&
            r->open >= r->pool_size) {
            pthread_mutex_unlock(&r->mu);
            kura_fail(err, KURA_TIMEOUT, NULL,
                      "redis: no connection to %s came free within %ld ms (pool of %d)", r->where,
                      r->timeout_ms, r->pool_size);
            return NULL;
        }
    }
    redisContext *c = NULL;
    int64_t since = 0;
    if (r->nidle > 0) {
        r->nidle--;
        c = r->idle[r->nidle].c;
        since = r->idle[r->nidle].since_ms;
    } else {
        r->open++;
    }
    pthread_mutex_unlock(&r->mu);

    if (c && mono_ms() - since > PROBE_AFTER_MS && looks_dead(c)) {
        redisFree(c);
        c = NULL;
    }
    if (!c && !(c = connect_one(r, err))) {
        pthread_mutex_lock(&r->mu);
        r->open--;
        pthread_cond_signal(&r->freed);
        pthread_mutex_unlock(&r->mu);
    }
    return c;
}

/* Returns c to the pool, or frees it when it failed (the next call reconnects). */
static void checkin(redis_kv *r, redisContext *c)
{
    bool broken = c->err != 0;
    if (broken)
        redisFree(c);
    pthread_mutex_lock(&r->mu);
    if (broken) {
        r->open--;
    } else {
        r->idle[r->nidle].c = c;
        r->idle[r->nidle].since_ms = mono_ms();
        r->nidle++;
    }
    pthread_cond_signal(&r->freed);
    pthread_mutex_unlock(&r->mu);
}

/* ---- commands ------------------------------------------------------------------------ */

/* Room for one command's fixed arguments and its formatted numbers. */
typedef struct argbuf {
    const char *argv[8];
    size_t len[8];
    int argc;
    char num[3][32];
} argbuf;

static void arg(argbuf *a, const char *s, size_t n)
{
    a->argv[a->argc] = s;
    a->len[a->argc] = n;
    a->argc++;
}

static void arg_str(argbuf *a, const char *s)
{
    arg(a, s, strlen(s));
}

static void arg_int(argbuf *a, int slot, int64_t v)
{
    int n = snprintf(a->num[slot], sizeof a->num[slot], "%lld", (long long)v);
    arg(a, a->num[slot], (size_t)n);
}

/* %.17g round-trips every double; Redis reads "inf" and "-inf". */
static void arg_double(argbuf *a, int slot, double v)
{
    int n = snprintf(a->num[slot], sizeof a->num[slot], "%.17g", v);
    arg(a, a->num[slot], (size_t)n);
}

/* Appends one command to c's output buffer. */
static bool append(redisContext *c, const kura_kv_cmd *k, kura_error *err)
{
    argbuf a = {.argc = 0};
    switch (k->op) {
    case KV_PING:
        arg_str(&a, "PING");
        break;
    case KV_GET:
        arg_str(&a, "GET");
        arg_str(&a, k->key);
        break;
    case KV_SET:
        arg_str(&a, "SET");
        arg_str(&a, k->key);
        arg(&a, k->value ? k->value : "", k->len);
        if (k->ttl_ms > 0) {
            arg_str(&a, "PX");
            arg_int(&a, 0, k->ttl_ms);
        }
        if (k->cond == KURA_KV_IF_ABSENT)
            arg_str(&a, "NX");
        else if (k->cond == KURA_KV_IF_PRESENT)
            arg_str(&a, "XX");
        break;
    case KV_DEL:
    case KV_EXISTS:
    case KV_TTL:
    case KV_ZCARD:
    case KV_HGETALL:
        arg_str(&a, k->op == KV_DEL      ? "DEL"
                    : k->op == KV_EXISTS ? "EXISTS"
                    : k->op == KV_TTL    ? "PTTL"
                    : k->op == KV_ZCARD  ? "ZCARD"
                                         : "HGETALL");
        arg_str(&a, k->key);
        break;
    case KV_EXPIRE:
        arg_str(&a, "PEXPIRE");
        arg_str(&a, k->key);
        arg_int(&a, 0, k->ttl_ms);
        break;
    case KV_INCR:
        arg_str(&a, "INCRBY");
        arg_str(&a, k->key);
        arg_int(&a, 0, k->by);
        break;
    case KV_MGET:
    case KV_MSET: {
        /* Variable length: its own argument arrays. */
        size_t argc = 1 + k->n * (k->op == KV_MSET ? 2 : 1);
        const char **argv = malloc(argc * sizeof *argv);
        size_t *len = malloc(argc * sizeof *len);
        if (!argv || !len) {
            free(argv);
            free(len);
            return kura_fail(err, KURA_NOMEM, NULL, "out of memory");
        }
        argv[0] = k->op == KV_MSET ? "MSET" : "MGET";
        len[0] = 4;
        size_t j = 1;
        for (size_t i = 0; i < k->n; i++) {
            const char *key = k->op == KV_MSET ? k->pairs[i].key : k->keys[i];
            argv[j] = key;
            len[j++] = strlen(key);
            if (k->op == KV_MSET) {
                argv[j] = k->pairs[i].value ? k->pairs[i].value : "";
                len[j++] = k->pairs[i].len;
            }
        }
        int rc = redisAppendCommandArgv(c, (int)argc, argv, len);
        free(argv);
        free(len);
        return rc == REDIS_OK ? true : kura_fail(err, KURA_NOMEM, NULL, "out of memory");
    }
    case KV_ZADD:
        arg_str(&a, "ZADD");
        arg_str(&a, k->key);
        arg_double(&a, 0, k->score);
        arg_str(&a, k->name);
        break;
    case KV_ZINCR:
        arg_str(&a, "ZINCRBY");
        arg_str(&a, k->key);
        arg_double(&a, 0, k->score);
        arg_str(&a, k->name);
        break;
    case KV_ZSCORE:
    case KV_ZREM:
    case KV_HGET:
    case KV_HDEL:
        arg_str(&a, k->op == KV_ZSCORE ? "ZSCORE"
                    : k->op == KV_ZREM ? "ZREM"
                    : k->op == KV_HGET ? "HGET"
                                       : "HDEL");
        arg_str(&a, k->key);
        arg_str(&a, k->name);
        break;
    case KV_ZRANK:
        arg_str(&a, k->reverse ? "ZREVRANK" : "ZRANK");
        arg_str(&a, k->key);
        arg_str(&a, k->name);
        break;
    case KV_ZRANGE:
        arg_str(&a, k->reverse ? "ZREVRANGE" : "ZRANGE");
        arg_str(&a, k->key);
        arg_int(&a, 0, k->start);
        arg_int(&a, 1, k->stop);
        arg_str(&a, "WITHSCORES");
        break;
    case KV_ZCOUNT:
        arg_str(&a, "ZCOUNT");
        arg_str(&a, k->key);
        arg_double(&a, 0, k->score);
        arg_double(&a, 1, k->max);
        break;
    case KV_HSET:
        arg_str(&a, "HSET");
        arg_str(&a, k->key);
        arg_str(&a, k->name);
        arg(&a, k->value ? k->value : "", k->len);
        break;
    }
    if (redisAppendCommandArgv(c, a.argc, a.argv, a.len) != REDIS_OK)
        return kura_fail(err, KURA_NOMEM, NULL, "out of memory");
    return true;
}

static void unexpected(kura_kv_reply *out, const redisReply *rep)
{
    char msg[96];
    int n = snprintf(msg, sizeof msg, "unexpected reply of type %d", rep->type);
    kura_kv_reply_fail(out, KURA_STORE, msg, n);
}

static bool parse_double(const redisReply *rep, double *out)
{
    if (rep->type != REDIS_REPLY_STRING)
        return false;
    char *end;
    *out = strtod(rep->str, &end);
    return end != rep->str && *end == '\0';
}

/* Copies a RESP array into entries: pairs (member/field, score/value) or, for
 * MGET, one value per element. */
static bool take_list(const redisReply *rep, kura_kv_op op, kura_kv_entries *e)
{
    size_t step = op == KV_MGET ? 1 : 2;
    size_t n = rep->elements / step;
    if (n == 0)
        return true;
    e->items = calloc(n, sizeof *e->items);
    if (!e->items)
        return false;
    e->count = n;
    for (size_t i = 0; i < n; i++) {
        kura_kv_entry *it = &e->items[i];
        const redisReply *a = rep->element[i * step];
        if (op == KV_MGET) {
            if (a->type == REDIS_REPLY_STRING && !kura_bytes_set(&it->value, a->str, a->len))
                return false;
            continue;
        }
        const redisReply *b = rep->element[i * step + 1];
        if (a->type != REDIS_REPLY_STRING || b->type != REDIS_REPLY_STRING ||
            !(it->name = strndup(a->str, a->len)))
            return false;
        if (op == KV_ZRANGE ? !parse_double(b, &it->score)
                            : !kura_bytes_set(&it->value, b->str, b->len))
            return false;
    }
    return true;
}

/* Moves (or copies) a string reply's bytes into b. hiredis before 1.0 has no
 * allocator hooks: a reply's str is its own malloc'd, NUL-terminated buffer,
 * which kura_bytes_free can free, so it is taken rather than copied. */
static bool take_string(redisReply *rep, kura_bytes *b)
{
#if HIREDIS_MAJOR == 0
    b->data = rep->str;
    b->len = rep->len;
    rep->str = NULL;
    return true;
#else
    return kura_bytes_set(b, rep->str, rep->len);
#endif
}

/* Turns one reply into the kura_kv_reply the op promises (kv_private.h). */
static void convert(const kura_kv_cmd *k, redisReply *rep, kura_kv_reply *out)
{
    if (rep->type == REDIS_REPLY_ERROR) {
        kura_kv_reply_fail(out, error_code(rep), rep->str, (int)rep->len);
        return;
    }
    bool nil = rep->type == REDIS_REPLY_NIL;
    bool is_int = rep->type == REDIS_REPLY_INTEGER;
    switch (k->op) {
    case KV_PING:
    case KV_MSET:
        if (rep->type != REDIS_REPLY_STATUS)
            unexpected(out, rep);
        return;
    case KV_GET:
    case KV_HGET:
        if (nil)
            return;
        if (rep->type != REDIS_REPLY_STRING)
            unexpected(out, rep);
        else if (!take_string(rep, &out->value))
            kura_kv_reply_fail(out, KURA_NOMEM, "out of memory", -1);
        out->found = out->value.data != NULL;
        return;
    case KV_SET:
        out->found = rep->type == REDIS_REPLY_STATUS;
        if (!nil && !out->found)
            unexpected(out, rep);
        return;
    case KV_DEL:
    case KV_EXISTS:
    case KV_EXPIRE:
    case KV_ZADD:
    case KV_ZREM:
    case KV_HSET:
    case KV_HDEL:
        if (!is_int)
            unexpected(out, rep);
        out->found = is_int && rep->integer > 0;
        return;
    case KV_TTL:
    case KV_INCR:
    case KV_ZCARD:
    case KV_ZCOUNT:
        if (!is_int)
            unexpected(out, rep);
        out->integer = rep->integer;
        return;
    case KV_ZRANK:
        out->found = is_int;
        out->integer = is_int ? rep->integer : -1;
        if (!is_int && !nil)
            unexpected(out, rep);
        return;
    case KV_ZINCR:
    case KV_ZSCORE:
        if (nil)
            return;
        out->found = parse_double(rep, &out->score);
        if (!out->found)
            unexpected(out, rep);
        return;
    case KV_MGET:
    case KV_ZRANGE:
    case KV_HGETALL:
        if (rep->type != REDIS_REPLY_ARRAY)
            unexpected(out, rep);
        else if (!take_list(rep, k->op, &out->entries))
            kura_kv_reply_fail(out, KURA_STORE, "malformed or oversized list reply", -1);
        return;
    }
}

static bool is_small(const kura_kv_cmd *cmds, size_t n)
{
    return n == 1 && cmds[0].op != KV_MSET && cmds[0].len < SMALL_WRITE;
}

static bool rd_run(kura_kv *kv, const kura_kv_cmd *cmds, size_t n, kura_kv_reply *replies,
                   kura_error *err)
{
    redis_kv *r = (redis_kv *)kv;
    redisContext *c = checkout(r, err);
    if (!c)
        return false;

    bool guard = !is_small(cmds, n);
    sigset_t pipe_set, old_mask, pending;
    bool pipe_was_pending = false;
    if (guard) {
        sigemptyset(&pipe_set);
        sigaddset(&pipe_set, SIGPIPE);
        sigpending(&pending);
        pipe_was_pending = sigismember(&pending, SIGPIPE);
        pthread_sigmask(SIG_BLOCK, &pipe_set, &old_mask);
    }

    bool ok = true;
    size_t i = 0;
    for (; i < n && ok; i++)
        ok = append(c, &cmds[i], err);
    size_t appended = ok ? n : i - 1;
    if (!ok && appended > 0) {
        /* Read the replies of what was sent, or the connection falls out of step. */
        c->err = REDIS_ERR_OTHER;
    }
    for (i = 0; ok && i < appended; i++) {
        void *rep = NULL;
        if (redisGetReply(c, &rep) != REDIS_OK || !rep) {
            ok = fail_conn(r, c, err);
            break;
        }
        convert(&cmds[i], rep, &replies[i]);
        freeReplyObject(rep);
    }

    if (guard) {
        sigpending(&pending);
        if (!pipe_was_pending && sigismember(&pending, SIGPIPE)) {
            struct timespec zero = {0, 0};
            while (sigtimedwait(&pipe_set, NULL, &zero) < 0 && errno == EINTR)
                ;
        }
        pthread_sigmask(SIG_SETMASK, &old_mask, NULL);
    }
    checkin(r, c);
    return ok;
}

/* ---- lifecycle ---------------------------------------------------------------------- */

static void rd_close(kura_kv *kv)
{
    redis_kv *r = (redis_kv *)kv;
    for (int i = 0; i < r->nidle; i++)
        redisFree(r->idle[i].c);
    free(r->idle);
    pthread_mutex_destroy(&r->mu);
    pthread_cond_destroy(&r->freed);
    free(r->host);
    free(r->socket);
    free(r->user);
    if (r->password)
        memset(r->password, 0, strlen(r->password));
    free(r->password);
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

/* Reads the URL into r's settings. */
static bool configure(redis_kv *r, const char *url, kura_error *err)
{
    kura_url u;
    if (!kura_url_parse(url, &u, err))
        return false;
    bool ok = false;
    bool unix_socket = strcmp(u.scheme, "unix") == 0;
    long timeout, pool, stall, db = 0;
    if (!kura_url_check_params(&u, redis_options, err) ||
        !kura_url_param_int(&u, "timeout", 1, 3600000, DEFAULT_TIMEOUT_MS, &timeout, err) ||
        !kura_url_param_int(&u, "pool", 1, 1024, DEFAULT_POOL, &pool, err) ||
        !kura_url_param_int(&u, "stall", 0, 3600000, DEFAULT_STALL_MS, &stall, err))
        goto out;
    kura__kv_guard_init(&r->base.guard, stall);
    r->timeout_ms = timeout;
    r->pool_size = (int)pool;
    if (unix_socket) {
        if (u.host || !u.path || !*u.path) {
            kura_fail(err, KURA_CONFIG, NULL,
                      "malformed Redis socket URL '%.64s': expected unix:///path/to.sock", url);
            goto out;
        }
        size_t n = strlen(u.path) + 2;
        if (!(r->socket = malloc(n))) {
            kura_fail(err, KURA_NOMEM, NULL, "out of memory");
            goto out;
        }
        snprintf(r->socket, n, "%s%s", u.path[0] == '/' ? "" : "/", u.path);
        if (!kura_url_param_int(&u, "db", 0, 1000000, 0, &db, err) ||
            !dup_into(&r->password, kura_url_param(&u, "password"), err))
            goto out;
        snprintf(r->where, sizeof r->where, "%.150s", r->socket);
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
        if (u.path && *u.path) {
            char *end;
            errno = 0;
            db = strtol(u.path, &end, 10);
            if (errno || *end || db < 0 || end == u.path) {
                kura_fail(err, KURA_CONFIG, NULL,
                          "Redis URL '%.64s': the path must be a database number", url);
                goto out;
            }
        }
        r->port = u.port ? u.port : DEFAULT_PORT;
        if (!dup_into(&r->host, u.host, err) || !dup_into(&r->password, u.password, err) ||
            !dup_into(&r->user, u.user, err))
            goto out;
        snprintf(r->where, sizeof r->where, "%.140s:%d", r->host, r->port);
    }
    if (r->user && !r->password) {
        kura_fail(err, KURA_CONFIG, NULL, "Redis URL '%.64s' names a user but no password", url);
        goto out;
    }
    r->db = db;
    ok = true;
out:
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
    pthread_mutex_init(&r->mu, NULL);
    pthread_cond_init(&r->freed, NULL);
    if (!configure(r, url, err))
        goto fail;
    if (!(r->idle = calloc((size_t)r->pool_size, sizeof *r->idle))) {
        kura_fail(err, KURA_NOMEM, NULL, "out of memory");
        goto fail;
    }
    /* Check credentials and db now, so a typo fails at start-up; a server that
     * is not up yet is not an error (see kv.h). */
    kura_error first;
    kura_error_clear(&first);
    redisContext *c = checkout(r, &first);
    if (c) {
        checkin(r, c);
    } else if (first.code != KURA_UNAVAILABLE && first.code != KURA_TIMEOUT) {
        if (err)
            *err = first;
        goto fail;
    }
    return &r->base;
fail:
    rd_close(&r->base);
    return NULL;
}
