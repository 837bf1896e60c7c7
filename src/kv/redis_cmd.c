/*
 * redis_cmd.c — a kura_kv_cmd as Redis arguments, and a Redis reply as the
 * kura_kv_reply its op promises (kv_private.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kv/redis_private.h"

/* The code for an error reply (the connection itself is fine). */
kura_code redis_error_code(const redisReply *rep)
{
    if (strncmp(rep->str, "NOAUTH", 6) == 0 || strncmp(rep->str, "WRONGPASS", 9) == 0 ||
        strncmp(rep->str, "NOPERM", 6) == 0)
        return KURA_AUTH;
    if (strncmp(rep->str, "LOADING", 7) == 0 || strncmp(rep->str, "MASTERDOWN", 10) == 0)
        return KURA_UNAVAILABLE;
    return KURA_STORE;
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
bool redis_cmd_append(redisContext *c, const kura_kv_cmd *k, kura_error *err)
{
    argbuf a;
    a.argc = 0;
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

/* Turns one reply into the kura_kv_reply the op promises (kv_private.h). */
void redis_cmd_convert(const kura_kv_cmd *k, redisReply *rep, kura_kv_reply *out)
{
    if (rep->type == REDIS_REPLY_ERROR) {
        kura_kv_reply_fail(out, redis_error_code(rep), rep->str, (int)rep->len);
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
        else if (!redis_reply_take_string(rep, &out->value))
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

bool redis_cmd_idempotent(const kura_kv_cmd *k)
{
    /* An unconditional SET is repeatable; a conditional one answers
     * differently the second time. */
    if (k->op == KV_SET)
        return k->cond == KURA_KV_ALWAYS;
    return (unsigned)k->op <= KV_HDEL && kura__kv_op_traits[k->op] != 0;
}
