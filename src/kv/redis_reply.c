/*
 * redis_reply.c — replies decoded in place during a pipelined run.
 *
 * hiredis's reader builds every reply as a tree of malloc'd redisReply
 * objects: a "+OK" costs a calloc for the object, a malloc for "OK" and two
 * frees, which for a batch of SETs is more than kura's whole work per command.
 * The reader lets its object constructors be replaced (redisReplyObjectFunctions,
 * the hook hiredis offers for this), so while a run reads its replies a
 * top-level status, error, integer, nil or bulk string is built in one
 * redisReply owned by the run, its text in a small buffer beside it (a long
 * string in one malloc'd buffer that a GET's reply takes over as its value).
 * Arrays and their elements stay hiredis's own objects.
 *
 * A reply built in place is marked by its element pointer pointing at
 * itself, which no hiredis object does (scalars have none, arrays point at a
 * separate array), so one free function can tell the two kinds apart.
 */
#include <stdlib.h>
#include <string.h>

#include "kv/redis_private.h"

static bool in_place(const redisReply *rep)
{
    return rep->element == (redisReply **)rep;
}

static void release(redis_replies *r)
{
    if (r->rep.str != r->text && !r->in_values)
        free(r->rep.str);
    r->rep.str = NULL;
    r->in_values = false;
    r->out = false;
}

static void *hand_out(redis_replies *r, int type, char *str, size_t len, long long integer)
{
    redisReply *rep = &r->rep;
    memset(rep, 0, sizeof *rep);
    rep->type = type;
    rep->str = str;
    rep->len = len;
    rep->integer = integer;
    rep->element = (redisReply **)rep;
    r->out = true;
    return rep;
}

/* Elements of an array go to hiredis's constructors, which link them into
 * their parent; so does a reply that comes while the last is still out (a
 * caller that holds two: never in redis_node_run, but then nothing breaks). */
static void *make_string(const redisReadTask *task, char *str, size_t len)
{
    redis_replies *r = task->privdata;
    if (task->parent || r->out)
        return r->saved_fn->createString(task, str, len);
    /* A bulk string may be a value, kept in values when the caller has them. */
    r->in_values = r->values && task->type == REDIS_REPLY_STRING;
    char *buf = r->in_values           ? kura__kv_blocks_alloc(r->values, len + 1)
                : len < sizeof r->text ? r->text
                                       : malloc(len + 1);
    if (!buf)
        return NULL; /* the reader reports out of memory */
    memcpy(buf, str, len);
    buf[len] = '\0';
    return hand_out(r, task->type, buf, len, 0);
}

static void *make_integer(const redisReadTask *task, long long value)
{
    redis_replies *r = task->privdata;
    if (task->parent || r->out)
        return r->saved_fn->createInteger(task, value);
    return hand_out(r, REDIS_REPLY_INTEGER, NULL, 0, value);
}

static void *make_nil(const redisReadTask *task)
{
    redis_replies *r = task->privdata;
    if (task->parent || r->out)
        return r->saved_fn->createNil(task);
    return hand_out(r, REDIS_REPLY_NIL, NULL, 0, 0);
}

void redis_reply_free(void *reply)
{
    if (!reply)
        return;
    if (in_place(reply))
        release((redis_replies *)reply); /* rep is redis_replies's first member */
    else
        freeReplyObject(reply);
}

void redis_replies_install(redis_replies *r, redisContext *c, kura_kv_blocks *values)
{
    redisReader *reader = c->reader;
    r->values = values;
    r->in_values = false;
    r->reader = reader;
    r->saved_fn = reader->fn;
    r->saved_privdata = reader->privdata;
    r->out = false;
    r->rep.str = NULL;
    r->fns = *reader->fn;
    r->fns.createString = make_string;
    r->fns.createInteger = make_integer;
    r->fns.createNil = make_nil;
    r->fns.freeObject = redis_reply_free;
    reader->fn = &r->fns;
    reader->privdata = r;
}

void redis_replies_remove(redis_replies *r)
{
    redisReader *reader = r->reader;
    if (reader->reply == &r->rep)
        reader->reply = NULL;
    if (r->out)
        release(r);
    reader->fn = r->saved_fn;
    reader->privdata = r->saved_privdata;
}

bool redis_reply_take_string(redisReply *rep, kura_bytes *b)
{
    /* hiredis before 1.0 has no allocator hooks: its str is a plain malloc'd,
     * NUL-terminated buffer too. */
    const redis_replies *r = in_place(rep) ? (const redis_replies *)rep : NULL;
    bool owned = r ? r->in_values || rep->str != r->text : HIREDIS_MAJOR == 0;
    if (!owned)
        return kura_bytes_set(b, rep->str, rep->len);
    b->data = rep->str;
    b->len = rep->len;
    rep->str = NULL;
    return true;
}
