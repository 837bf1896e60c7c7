/*
 * test_kv_cluster.c — the Redis driver on a moving topology: a cluster whose slot
 * moves under it (ASK while it migrates, MOVED after), a cluster failover, and a
 * sentinel failover. Against the servers scripts/services.sh starts
 * (KURA_TEST_REDIS_CLUSTER_URL, KURA_TEST_REDIS_SENTINEL_URL); each group skips
 * with a printed reason without its server. What every topology must answer alike
 * is tests/conformance/kv_suite.c's; this is what only a moving one can get wrong.
 */
#include <hiredis/hiredis.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "kv/redis_private.h"
#include "servers.h"

#include <kura/kv.h>

static const char *cluster_url, *sentinel_url;

/* ---- talking to the servers directly ----------------------------------------------------------
 */

static redisReply *admin(int port, const char *fmt, ...)
{
    redisContext *c = redisConnect("127.0.0.1", port);
    assert_non_null(c);
    assert_int_equal(c->err, 0);
    va_list ap;
    va_start(ap, fmt);
    redisReply *r = redisvCommand(c, fmt, ap);
    va_end(ap);
    redisFree(c);
    assert_non_null(r);
    return r;
}

static void admin_ok(int port, const char *fmt, const char *a, const char *b)
{
    redisReply *r = admin(port, fmt, a, b);
    if (r->type == REDIS_REPLY_ERROR)
        fail_msg("%d: %s: %s", port, fmt, r->str);
    freeReplyObject(r);
}

static int url_port(const char *url)
{
    const char *colon = strrchr(url, ':');
    return atoi(colon + 1);
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000};
    nanosleep(&ts, NULL);
}

/* A master as CLUSTER SLOTS shows it. */
typedef struct master {
    int port, replica_port;
    char id[48];
} master;

/* The master serving slot, and up to 3 masters in all (for a target). */
static size_t masters(int port, int slot, master *owner, master all[3])
{
    redisReply *r = admin(port, "CLUSTER SLOTS");
    assert_int_equal(r->type, REDIS_REPLY_ARRAY);
    size_t n = 0;
    for (size_t i = 0; i < r->elements; i++) {
        redisReply *range = r->element[i];
        master m = {.port = (int)range->element[2]->element[1]->integer};
        snprintf(m.id, sizeof m.id, "%s", range->element[2]->element[2]->str);
        if (range->elements > 3)
            m.replica_port = (int)range->element[3]->element[1]->integer;
        if (slot >= range->element[0]->integer && slot <= range->element[1]->integer)
            *owner = m;
        bool seen = false;
        for (size_t j = 0; j < n; j++)
            seen = seen || all[j].port == m.port;
        if (!seen && n < 3)
            all[n++] = m;
    }
    freeReplyObject(r);
    return n;
}

/* Starts moving slot from one master to another as redis-cli --cluster reshard does. */
static void start_move(const master *from, const master *to, int slot)
{
    char s[16];
    snprintf(s, sizeof s, "%d", slot);
    admin_ok(to->port, "CLUSTER SETSLOT %s IMPORTING %s", s, from->id);
    admin_ok(from->port, "CLUSTER SETSLOT %s MIGRATING %s", s, to->id);
}

/* Carries every key the source still holds in slot to the target. Other tests share
 * the cluster and may have keys in the same slot: the source refuses to give the slot
 * away while it holds any. During the move it takes no new key (-ASK), so this ends. */
static void drain_slot(const master *from, const master *to, int slot)
{
    for (;;) {
        redisReply *keys = admin(from->port, "CLUSTER GETKEYSINSLOT %d 100", slot);
        assert_int_equal(keys->type, REDIS_REPLY_ARRAY);
        size_t n = keys->elements;
        for (size_t i = 0; i < n; i++) {
            redisReply *k = keys->element[i];
            redisReply *r = admin(from->port, "MIGRATE 127.0.0.1 %d %b 0 5000 REPLACE", to->port,
                                  k->str, k->len);
            if (r->type == REDIS_REPLY_ERROR)
                fail_msg("MIGRATE %s to %d: %s", k->str, to->port, r->str);
            freeReplyObject(r);
        }
        freeReplyObject(keys);
        if (n == 0)
            return;
    }
}

/* Ends the move: the slot is the target's on every master. */
static void finish_move(const master *from, const master *to, const master all[3], size_t n,
                        int slot)
{
    char s[16];
    snprintf(s, sizeof s, "%d", slot);
    drain_slot(from, to, slot);
    admin_ok(to->port, "CLUSTER SETSLOT %s NODE %s", s, to->id);
    admin_ok(from->port, "CLUSTER SETSLOT %s NODE %s", s, to->id);
    for (size_t i = 0; i < n; i++)
        if (all[i].port != from->port && all[i].port != to->port)
            admin_ok(all[i].port, "CLUSTER SETSLOT %s NODE %s", s, to->id);
}

static bool role_is(int port, const char *role)
{
    redisReply *r = admin(port, "ROLE");
    bool is = r->type == REDIS_REPLY_ARRAY && strcmp(r->element[0]->str, role) == 0;
    freeReplyObject(r);
    return is;
}

/* A replica whose link to its master is up. */
static bool synced(int port)
{
    redisReply *r = admin(port, "INFO replication");
    bool up = r->type == REDIS_REPLY_STRING && strstr(r->str, "master_link_status:up");
    freeReplyObject(r);
    return up;
}

#define OK(call)                                                                                   \
    do {                                                                                           \
        kura_error e_ = {0};                                                                       \
        if (!(call))                                                                               \
            fail_msg("%s failed: %s %s", #call, kura_code_name(e_.code), e_.message);              \
    } while (0)
#define E (&e_)

static void assert_value(kura_kv *kv, const char *key, const char *want)
{
    kura_bytes v = {0};
    OK(kura_kv_get(kv, key, &v, E));
    assert_non_null(v.data);
    assert_string_equal(v.data, want);
    kura_bytes_free(&v);
}

/* ---- cluster -----------------------------------------------------------------------------------
 */

/* A slot moving from one master to another: -ASK during the move, -MOVED after it. */
static void test_ask_then_moved(void **state)
{
    (void)state;
    if (!cluster_url)
        KURA_SKIP_NO_SERVER("KURA_TEST_REDIS_CLUSTER_URL not set (scripts/services.sh starts a "
                            "Redis Cluster)");
    kura_kv *kv = NULL;
    OK((kv = kura_kv_open(cluster_url, E)) != NULL);
    /* A key in a slot no other test has keys in, so that moving it disturbs nobody. */
    char key[64];
    int slot = 0, seed = url_port(cluster_url);
    master owner = {0}, all[3];
    size_t n = 0;
    for (int attempt = 0;; attempt++) {
        snprintf(key, sizeof key, "kura-test:%ld:ask:%d", (long)getpid(), attempt);
        slot = redis_key_slot(key, strlen(key));
        n = masters(seed, slot, &owner, all);
        redisReply *count = admin(owner.port, "CLUSTER COUNTKEYSINSLOT %d", slot);
        bool empty = count->type == REDIS_REPLY_INTEGER && count->integer == 0;
        freeReplyObject(count);
        if (empty || attempt == 63)
            break;
    }
    assert_int_equal(n, 3);
    const master *to = all[0].port == owner.port ? &all[1] : &all[0];

    start_move(&owner, to, slot);
    OK(kura_kv_set(kv, key, "asked", 5, 0, E)); /* absent on the source: -ASK to the target */
    assert_value(kv, key, "asked");
    redisReply *r = admin(owner.port, "EXISTS %s", key);
    assert_int_equal(r->integer, 0); /* it went to the target */
    freeReplyObject(r);

    finish_move(&owner, to, all, n, slot);
    assert_value(kv, key, "asked"); /* the source says -MOVED now */
    int64_t by = 0;
    OK(kura_kv_del(kv, key, NULL, E));
    OK(kura_kv_incr(kv, key, 5, &by, E));
    assert_int_equal(by, 5);
    OK(kura_kv_del(kv, key, NULL, E));

    start_move(to, &owner, slot); /* back where it was */
    finish_move(to, &owner, all, n, slot);
    bool exists = true;
    OK(kura_kv_exists(kv, key, &exists, E));
    assert_false(exists);
    kura_kv_close(kv);
}

/* A replica taking over its master (CLUSTER FAILOVER): the old master says -MOVED. */
static void test_cluster_failover(void **state)
{
    (void)state;
    if (!cluster_url)
        KURA_SKIP_NO_SERVER("KURA_TEST_REDIS_CLUSTER_URL not set (scripts/services.sh starts a "
                            "Redis Cluster)");
    kura_kv *kv = NULL;
    OK((kv = kura_kv_open(cluster_url, E)) != NULL);
    char key[64];
    snprintf(key, sizeof key, "kura-test:%ld:failover", (long)getpid());
    int seed = url_port(cluster_url);
    master owner = {0}, all[3];
    for (int i = 0; i < 100; i++) { /* a replica shows once the master has seen it sync */
        masters(seed, redis_key_slot(key, strlen(key)), &owner, all);
        if (owner.replica_port > 0)
            break;
        sleep_ms(50);
    }
    assert_true(owner.replica_port > 0);
    OK(kura_kv_set(kv, key, "before", 6, 0, E));
    redisReply *r = admin(owner.port, "WAIT 1 2000");
    assert_int_equal(r->integer, 1);
    freeReplyObject(r);

    admin_ok(owner.replica_port, "CLUSTER FAILOVER", NULL, NULL);
    for (int i = 0; i < 100 && !role_is(owner.replica_port, "master"); i++)
        sleep_ms(50);
    assert_true(role_is(owner.replica_port, "master"));
    assert_value(kv, key, "before");
    OK(kura_kv_set(kv, key, "after", 5, 0, E));
    assert_value(kv, key, "after");
    OK(kura_kv_del(kv, key, NULL, E));

    /* And back, so the cluster is as the other tests found it. TAKEOVER: a manual
     * failover asked this soon after the last can time out while the new master
     * does not yet count the old one as its replica. */
    for (int i = 0; i < 200 && !synced(owner.port); i++)
        sleep_ms(50);
    admin_ok(owner.port, "CLUSTER FAILOVER TAKEOVER", NULL, NULL);
    for (int i = 0; i < 200 && !role_is(owner.port, "master"); i++)
        sleep_ms(50);
    assert_true(role_is(owner.port, "master"));
    kura_kv_close(kv);
}

/* A batch over many slots comes back in its order, per node pipelines reassembled. */
static void test_batch_order(void **state)
{
    (void)state;
    if (!cluster_url)
        KURA_SKIP_NO_SERVER("KURA_TEST_REDIS_CLUSTER_URL not set (scripts/services.sh starts a "
                            "Redis Cluster)");
    kura_kv *kv = NULL;
    OK((kv = kura_kv_open(cluster_url, E)) != NULL);
    enum { N = 64 };
    char keys[N][48];
    kura_kv_batch *b = kura_kv_batch_new(kv, NULL);
    assert_non_null(b);
    for (int i = 0; i < N; i++) {
        snprintf(keys[i], sizeof keys[i], "kura-test:%ld:b%d", (long)getpid(), i);
        kura_kv_batch_incr(b, keys[i], i + 1);
        kura_kv_batch_get(b, keys[i]);
    }
    kura_error err = {0};
    if (!kura_kv_batch_run(b, &err))
        fail_msg("batch: %s", err.message);
    for (int i = 0; i < N; i++) {
        const kura_kv_reply *inc = kura_kv_batch_reply(b, (size_t)(2 * i));
        const kura_kv_reply *get = kura_kv_batch_reply(b, (size_t)(2 * i + 1));
        assert_int_equal(inc->integer, i + 1);
        char want[16];
        snprintf(want, sizeof want, "%d", i + 1);
        assert_string_equal(get->value.data, want);
    }
    kura_kv_batch_free(b);
    for (int i = 0; i < N; i++)
        OK(kura_kv_del(kv, keys[i], NULL, E));
    kura_kv_close(kv);
}

/* ---- sentinel ----------------------------------------------------------------------------------
 */

static void test_sentinel_urls(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "redis+sentinel://",           "redis+sentinel:///kura",
        "redis+sentinel://h:0/kura",   "redis+sentinel://h:1x/kura",
        "redis+sentinel://h:1",        "redis+sentinel://h:1/",
        "redis+sentinel://h:1/kura/x", "redis+sentinel://h:1/kura?colour=red",
        "redis+sentinel://u@h:1/kura",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        kura_error err = {0};
        kura_kv *kv = kura_kv_open(bad[i], &err);
        if (kv)
            fail_msg("'%s' was accepted", bad[i]);
        if (err.code != KURA_CONFIG)
            fail_msg("'%s': %s %s", bad[i], kura_code_name(err.code), err.message);
    }
    if (!sentinel_url)
        return;
    /* A master the sentinels do not know: a configuration error, at open. */
    char url[512];
    snprintf(url, sizeof url, "%.*s/nosuchmaster?timeout=300",
             (int)(strstr(sentinel_url, "/kura") - sentinel_url), sentinel_url);
    kura_error err = {0};
    kura_kv *kv = kura_kv_open(url, &err);
    assert_null(kv);
    if (err.code != KURA_CONFIG)
        fail_msg("%s: %s %s", url, kura_code_name(err.code), err.message);
}

static void sentinel_master(int sentinel, int *port)
{
    redisReply *r = admin(sentinel, "SENTINEL get-master-addr-by-name kura");
    assert_int_equal(r->type, REDIS_REPLY_ARRAY);
    *port = atoi(r->element[1]->str);
    freeReplyObject(r);
}

/* SENTINEL FAILOVER: the replica is promoted, the old master demoted; the store follows. */
static void test_sentinel_failover(void **state)
{
    (void)state;
    if (!sentinel_url)
        KURA_SKIP_NO_SERVER("KURA_TEST_REDIS_SENTINEL_URL not set (scripts/services.sh starts a "
                            "sentinel-managed master)");
    kura_kv *kv = NULL;
    OK((kv = kura_kv_open(sentinel_url, E)) != NULL);
    char key[64];
    snprintf(key, sizeof key, "kura-test:%ld:sentinel", (long)getpid());
    OK(kura_kv_set(kv, key, "before", 6, 0, E));
    /* The first sentinel: "redis+sentinel://127.0.0.1:PORT,...". */
    int sentinel = atoi(strstr(sentinel_url, "127.0.0.1:") + strlen("127.0.0.1:")), old = 0;
    sentinel_master(sentinel, &old);
    /* The replica must hold the key before the failover. After an earlier failover (a
     * repeated run) the demoted master resyncs first: give it time under load. */
    redisReply *r = NULL;
    long long acked = 0;
    for (int i = 0; i < 30 && acked < 1; i++) {
        r = admin(old, "WAIT 1 500");
        acked = r->integer;
        freeReplyObject(r);
    }
    assert_int_equal(acked, 1);

    /* Until a sentinel has the replica's INFO (a few moments after it starts) it answers
     * NOGOODSLAVE: ask again. */
    for (int i = 0; i < 200; i++) {
        r = admin(sentinel, "SENTINEL FAILOVER kura");
        bool refused = r->type == REDIS_REPLY_ERROR && strncmp(r->str, "NOGOODSLAVE", 11) == 0;
        if (!refused && r->type == REDIS_REPLY_ERROR)
            fail_msg("SENTINEL FAILOVER: %s", r->str);
        freeReplyObject(r);
        if (!refused)
            break;
        sleep_ms(100);
    }
    int now = old;
    for (int i = 0; i < 200 && now == old; i++) {
        sleep_ms(50);
        sentinel_master(sentinel, &now);
    }
    assert_int_not_equal(now, old);
    for (int i = 0; i < 200 && !role_is(now, "master"); i++)
        sleep_ms(50);
    /* The old master is still up and still a master: the sentinels demote it only
     * some seconds later, and writes it takes meanwhile are lost. The store asks the
     * sentinels again every second (RECHECK_MS), so after that it writes to the new one. */
    sleep_ms(1100);
    assert_value(kv, key, "before");
    OK(kura_kv_set(kv, key, "after", 5, 0, E));
    assert_value(kv, key, "after");
    r = admin(now, "GET %s", key);
    assert_string_equal(r->str, "after");
    freeReplyObject(r);
    OK(kura_kv_del(kv, key, NULL, E));
    kura_kv_close(kv);
}

int main(void)
{
    cluster_url = getenv("KURA_TEST_REDIS_CLUSTER_URL");
    sentinel_url = getenv("KURA_TEST_REDIS_SENTINEL_URL");
    if (cluster_url && !*cluster_url)
        cluster_url = NULL;
    if (sentinel_url && !*sentinel_url)
        sentinel_url = NULL;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_batch_order),       cmocka_unit_test(test_ask_then_moved),
        cmocka_unit_test(test_cluster_failover),  cmocka_unit_test(test_sentinel_urls),
        cmocka_unit_test(test_sentinel_failover),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
