/*
 * kv_suite.c — the key-value contract (kura/kv.h), one suite for every driver.
 *
 *   kv_suite embedded     an embedded store in a fresh SQLite file
 *   kv_suite redis        the Redis at $KURA_TEST_REDIS_URL (skipped, exit 77,
 *                         with a printed reason when it is not set)
 *   kv_suite redis-cluster   the cluster at $KURA_TEST_REDIS_CLUSTER_URL (likewise)
 *   kv_suite redis-sentinel  the master behind $KURA_TEST_REDIS_SENTINEL_URL (likewise)
 *
 * The tests do not know which driver they run on: the embedded driver is
 * correct when it answers exactly as Redis does. Every key starts with a
 * per-run prefix, so runs sharing one Redis do not meet.
 */
#include <math.h>
#include <pthread.h>
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

#include "wait_until.h"
#include "servers.h"

#include <kura/kv.h>

static kura_kv *kv;
static char prefix[64];

/* prefix + name, in one of a few rotating buffers (several per expression). */
static const char *K(const char *name)
{
    static char bufs[8][256];
    static int next;
    char *b = bufs[next++ % 8];
    snprintf(b, sizeof bufs[0], "%s%s", prefix, name);
    return b;
}

#define OK(call)                                                                                   \
    do {                                                                                           \
        kura_error e_ = {0};                                                                       \
        bool ok_ = (call);                                                                         \
        if (!ok_)                                                                                  \
            fail_msg("%s failed: %s %s", #call, kura_code_name(e_.code), e_.message);              \
    } while (0)

/* Calls that take `&e_` as their error argument use E. */
#define E (&e_)

static void expect_fail(bool ok, const kura_error *err, kura_code code)
{
    assert_false(ok);
    if (err->code != code)
        fail_msg("expected %s, got %s: %s", kura_code_name(code), kura_code_name(err->code),
                 err->message);
}

static void assert_value(const char *key, const void *want, size_t len)
{
    kura_bytes v = {0};
    OK(kura_kv_get(kv, key, &v, E));
    assert_non_null(v.data);
    assert_int_equal(v.len, len);
    assert_memory_equal(v.data, want, len);
    assert_int_equal(v.data[len], '\0');
    kura_bytes_free(&v);
}

/* Whether `key` exists (a failed call counts as present, so a wait goes on). */
static bool present(const char *key)
{
    bool exists = true;
    kura_error e_ = {0};
    return !kura_kv_exists(kv, key, &exists, E) || exists;
}

static void assert_missing(const char *key)
{
    kura_bytes v = {0};
    OK(kura_kv_get(kv, key, &v, E));
    assert_null(v.data);
    bool exists = true;
    OK(kura_kv_exists(kv, key, &exists, E));
    assert_false(exists);
}

/* ---- strings ---------------------------------------------------------------------- */

static void test_binary_values(void **state)
{
    (void)state;
    unsigned char all[256];
    for (int i = 0; i < 256; i++)
        all[i] = (unsigned char)i;
    OK(kura_kv_set(kv, K("bin"), all, sizeof all, 0, E));
    assert_value(K("bin"), all, sizeof all);

    OK(kura_kv_set(kv, K("empty"), "", 0, 0, E));
    assert_value(K("empty"), "", 0);
    bool exists = false;
    OK(kura_kv_exists(kv, K("empty"), &exists, E));
    assert_true(exists);
    OK(kura_kv_set(kv, K("null-empty"), NULL, 0, 0, E));
    assert_value(K("null-empty"), "", 0);

    OK(kura_kv_set(kv, K("bin"), "over", 4, 0, E));
    assert_value(K("bin"), "over", 4);
    assert_missing(K("never-set"));

    /* UTF-8 keys are bytes too. */
    OK(kura_kv_set(kv, K("蔵:キー"), "値", strlen("値"), 0, E));
    assert_value(K("蔵:キー"), "値", strlen("値"));

    size_t big = 1 << 20;
    char *mb = malloc(big);
    assert_non_null(mb);
    for (size_t i = 0; i < big; i++)
        mb[i] = (char)(i * 31 + 7);
    OK(kura_kv_set(kv, K("big"), mb, big, 0, E));
    assert_value(K("big"), mb, big);
    free(mb);
}

static void test_set_conditions(void **state)
{
    (void)state;
    bool stored = true;
    OK(kura_kv_set_if(kv, K("c"), "a", 1, 0, KURA_KV_IF_PRESENT, &stored, E));
    assert_false(stored);
    assert_missing(K("c"));
    OK(kura_kv_set_if(kv, K("c"), "b", 1, 0, KURA_KV_IF_ABSENT, &stored, E));
    assert_true(stored);
    OK(kura_kv_set_if(kv, K("c"), "c", 1, 0, KURA_KV_IF_ABSENT, &stored, E));
    assert_false(stored);
    assert_value(K("c"), "b", 1);
    OK(kura_kv_set_if(kv, K("c"), "d", 1, 0, KURA_KV_IF_PRESENT, &stored, E));
    assert_true(stored);
    assert_value(K("c"), "d", 1);
    OK(kura_kv_set_if(kv, K("c"), "e", 1, 0, KURA_KV_ALWAYS, &stored, E));
    assert_true(stored);
    assert_value(K("c"), "e", 1);
}

static void test_delete_exists(void **state)
{
    (void)state;
    bool deleted = true, exists = true;
    OK(kura_kv_del(kv, K("d"), &deleted, E));
    assert_false(deleted);
    OK(kura_kv_set(kv, K("d"), "x", 1, 0, E));
    OK(kura_kv_exists(kv, K("d"), &exists, E));
    assert_true(exists);
    OK(kura_kv_del(kv, K("d"), &deleted, E));
    assert_true(deleted);
    assert_missing(K("d"));
}

static void test_ttl(void **state)
{
    (void)state;
    int64_t ttl = 0;
    OK(kura_kv_ttl(kv, K("t"), &ttl, E));
    assert_int_equal(ttl, -2);
    OK(kura_kv_set(kv, K("t"), "v", 1, 150, E));
    OK(kura_kv_ttl(kv, K("t"), &ttl, E));
    assert_true(ttl > 0 && ttl <= 150);
    assert_value(K("t"), "v", 1);

    /* A plain SET clears the TTL. */
    OK(kura_kv_set(kv, K("t2"), "v", 1, 100000, E));
    OK(kura_kv_set(kv, K("t2"), "w", 1, 0, E));
    OK(kura_kv_ttl(kv, K("t2"), &ttl, E));
    assert_int_equal(ttl, -1);

    bool set = true;
    OK(kura_kv_expire(kv, K("nope"), 1000, &set, E));
    assert_false(set);
    OK(kura_kv_expire(kv, K("t2"), 150, &set, E));
    assert_true(set);

    KURA_POLL(!present(K("t")) && !present(K("t2")), 5000);
    assert_missing(K("t"));
    assert_missing(K("t2"));
    OK(kura_kv_ttl(kv, K("t"), &ttl, E));
    assert_int_equal(ttl, -2);
    bool deleted = true;
    OK(kura_kv_del(kv, K("t"), &deleted, E));
    assert_false(deleted);

    /* An expired key is absent for conditional sets, counters and sets. */
    OK(kura_kv_set(kv, K("t3"), "old", 3, 50, E));
    OK(kura_kv_incr(kv, K("t4"), 5, NULL, E));
    OK(kura_kv_expire(kv, K("t4"), 50, NULL, E));
    OK(kura_kv_zadd(kv, K("t5"), "m", 1, NULL, E));
    OK(kura_kv_expire(kv, K("t5"), 50, NULL, E));
    KURA_POLL(!present(K("t3")) && !present(K("t4")) && !present(K("t5")), 5000);
    bool stored = false;
    OK(kura_kv_set_if(kv, K("t3"), "new", 3, 0, KURA_KV_IF_ABSENT, &stored, E));
    assert_true(stored);
    OK(kura_kv_set_if(kv, K("t4"), "x", 1, 0, KURA_KV_IF_PRESENT, &stored, E));
    assert_false(stored);
    int64_t n = 0;
    OK(kura_kv_incr(kv, K("t4"), 1, &n, E));
    assert_int_equal(n, 1);
    OK(kura_kv_zcard(kv, K("t5"), &n, E));
    assert_int_equal(n, 0);
    bool added = false;
    OK(kura_kv_zadd(kv, K("t5"), "other", 2, &added, E));
    assert_true(added);
    OK(kura_kv_zcard(kv, K("t5"), &n, E));
    assert_int_equal(n, 1);
    OK(kura_kv_ttl(kv, K("t5"), &ttl, E));
    assert_int_equal(ttl, -1);
}

static void test_incr(void **state)
{
    (void)state;
    int64_t n = 0;
    OK(kura_kv_incr(kv, K("n"), 1, &n, E));
    assert_int_equal(n, 1);
    OK(kura_kv_incr(kv, K("n"), 41, &n, E));
    assert_int_equal(n, 42);
    OK(kura_kv_incr(kv, K("n"), -50, &n, E));
    assert_int_equal(n, -8);
    assert_value(K("n"), "-8", 2);

    OK(kura_kv_set(kv, K("n2"), "10", 2, 100000, E));
    OK(kura_kv_incr(kv, K("n2"), 5, &n, E));
    assert_int_equal(n, 15);
    int64_t ttl = 0;
    OK(kura_kv_ttl(kv, K("n2"), &ttl, E));
    assert_true(ttl > 0); /* INCR keeps the TTL */

    static const char *const not_ints[] = {
        "abc", "007", " 1", "1 ", "+1", "", "1.5", "99999999999999999999", "-0"};
    for (size_t i = 0; i < sizeof not_ints / sizeof not_ints[0]; i++) {
        kura_error err = {0};
        OK(kura_kv_set(kv, K("bad"), not_ints[i], strlen(not_ints[i]), 0, E));
        expect_fail(kura_kv_incr(kv, K("bad"), 1, &n, &err), &err, KURA_STORE);
    }
    OK(kura_kv_set(kv, K("max"), "9223372036854775807", 19, 0, E));
    kura_error err = {0};
    expect_fail(kura_kv_incr(kv, K("max"), 1, &n, &err), &err, KURA_STORE);
    assert_value(K("max"), "9223372036854775807", 19);
    OK(kura_kv_set(kv, K("min"), "-9223372036854775808", 20, 0, E));
    OK(kura_kv_incr(kv, K("min"), 0, &n, E));
    assert_true(n == INT64_MIN);
    expect_fail(kura_kv_incr(kv, K("min"), -1, &n, &err), &err, KURA_STORE);
    OK(kura_kv_set(kv, K("zero"), "0", 1, 0, E));
    OK(kura_kv_incr(kv, K("zero"), 3, &n, E));
    assert_int_equal(n, 3);
}

static void test_mget_mset(void **state)
{
    (void)state;
    kura_kv_pair pairs[] = {{K("m1"), "one", 3}, {K("m2"), "", 0}, {K("m3"), "th\0ree", 6}};
    OK(kura_kv_set(kv, K("m1"), "old", 3, 100000, E));
    OK(kura_kv_mset(kv, pairs, 3, E));
    int64_t ttl = 0;
    OK(kura_kv_ttl(kv, K("m1"), &ttl, E));
    assert_int_equal(ttl, -1);
    OK(kura_kv_zadd(kv, K("mz"), "x", 1, NULL, E));
    const char *keys[] = {K("m1"), K("missing"), K("m2"), K("m3"), K("mz")};
    kura_kv_entries got = {0};
    OK(kura_kv_mget(kv, keys, 5, &got, E));
    assert_int_equal(got.count, 5);
    assert_string_equal(got.items[0].value.data, "one");
    assert_null(got.items[1].value.data);
    assert_non_null(got.items[2].value.data);
    assert_int_equal(got.items[2].value.len, 0);
    assert_int_equal(got.items[3].value.len, 6);
    assert_memory_equal(got.items[3].value.data, "th\0ree", 6);
    assert_null(got.items[4].value.data); /* not a string: nil, as Redis */
    assert_null(got.items[0].name);
    kura_kv_entries_free(&got);
    OK(kura_kv_mget(kv, keys, 0, &got, E));
    assert_int_equal(got.count, 0);
}

static void test_wrong_type(void **state)
{
    (void)state;
    OK(kura_kv_zadd(kv, K("z"), "a", 1, NULL, E));
    OK(kura_kv_hset(kv, K("h"), "f", "v", 1, NULL, E));
    OK(kura_kv_set(kv, K("s"), "v", 1, 0, E));
    kura_error err = {0};
    kura_bytes v = {0};
    expect_fail(kura_kv_get(kv, K("z"), &v, &err), &err, KURA_STORE);
    assert_non_null(strstr(err.message, "WRONGTYPE"));
    expect_fail(kura_kv_get(kv, K("h"), &v, &err), &err, KURA_STORE);
    expect_fail(kura_kv_incr(kv, K("z"), 1, NULL, &err), &err, KURA_STORE);
    expect_fail(kura_kv_zadd(kv, K("s"), "a", 1, NULL, &err), &err, KURA_STORE);
    expect_fail(kura_kv_zadd(kv, K("h"), "a", 1, NULL, &err), &err, KURA_STORE);
    expect_fail(kura_kv_zincr(kv, K("s"), "a", 1, NULL, &err), &err, KURA_STORE);
    double score;
    bool found;
    expect_fail(kura_kv_zscore(kv, K("s"), "a", &score, &found, &err), &err, KURA_STORE);
    int64_t n;
    expect_fail(kura_kv_zrank(kv, K("h"), "a", false, &n, &err), &err, KURA_STORE);
    expect_fail(kura_kv_zcard(kv, K("s"), &n, &err), &err, KURA_STORE);
    kura_kv_entries list = {0};
    expect_fail(kura_kv_zrange(kv, K("s"), 0, -1, false, &list, &err), &err, KURA_STORE);
    expect_fail(kura_kv_hset(kv, K("z"), "f", "v", 1, NULL, &err), &err, KURA_STORE);
    expect_fail(kura_kv_hget(kv, K("s"), "f", &v, &err), &err, KURA_STORE);
    expect_fail(kura_kv_hgetall(kv, K("z"), &list, &err), &err, KURA_STORE);
    expect_fail(kura_kv_hdel(kv, K("s"), "f", NULL, &err), &err, KURA_STORE);
    /* The refused commands changed nothing. */
    assert_value(K("s"), "v", 1);
    OK(kura_kv_zcard(kv, K("z"), &n, E));
    assert_int_equal(n, 1);

    /* SET, DEL, EXISTS, EXPIRE, TTL take any type; SET replaces a set entirely. */
    bool exists = false;
    OK(kura_kv_exists(kv, K("z"), &exists, E));
    assert_true(exists);
    OK(kura_kv_expire(kv, K("h"), 100000, NULL, E));
    OK(kura_kv_set(kv, K("z"), "now a string", 12, 0, E));
    assert_value(K("z"), "now a string", 12);
    OK(kura_kv_del(kv, K("z"), NULL, E));
    OK(kura_kv_zcard(kv, K("z"), &n, E));
    assert_int_equal(n, 0);
    OK(kura_kv_set(kv, K("h"), "x", 1, 0, E));
    OK(kura_kv_del(kv, K("h"), NULL, E));
    OK(kura_kv_hgetall(kv, K("h"), &list, E));
    assert_int_equal(list.count, 0);
}

/* ---- sorted sets -------------------------------------------------------------------- */

static void assert_entries(const kura_kv_entries *e, const char *const *names, const double *scores,
                           size_t n)
{
    assert_int_equal(e->count, n);
    for (size_t i = 0; i < n; i++) {
        assert_string_equal(e->items[i].name, names[i]);
        assert_true(e->items[i].score == scores[i]);
    }
}

static void test_zset_basics(void **state)
{
    (void)state;
    bool added = false, found = true;
    double score = 0;
    OK(kura_kv_zscore(kv, K("zs"), "a", &score, &found, E));
    assert_false(found);
    OK(kura_kv_zadd(kv, K("zs"), "a", 1.5, &added, E));
    assert_true(added);
    OK(kura_kv_zadd(kv, K("zs"), "a", 2.5, &added, E));
    assert_false(added);
    OK(kura_kv_zscore(kv, K("zs"), "a", &score, &found, E));
    assert_true(found);
    assert_true(score == 2.5);
    OK(kura_kv_zincr(kv, K("zs"), "a", -0.5, &score, E));
    assert_true(score == 2.0);
    OK(kura_kv_zincr(kv, K("zs"), "new", 7, &score, E));
    assert_true(score == 7.0);
    OK(kura_kv_zscore(kv, K("zs"), "missing", &score, &found, E));
    assert_false(found);

    /* Exact doubles, infinities. */
    OK(kura_kv_zadd(kv, K("zs"), "tenth", 0.1 + 0.2, NULL, E));
    OK(kura_kv_zscore(kv, K("zs"), "tenth", &score, &found, E));
    assert_true(score == 0.1 + 0.2);
    OK(kura_kv_zadd(kv, K("zs"), "hi", INFINITY, NULL, E));
    OK(kura_kv_zadd(kv, K("zs"), "lo", -INFINITY, NULL, E));
    OK(kura_kv_zadd(kv, K("zs"), "tiny", 5e-324, NULL, E));
    OK(kura_kv_zscore(kv, K("zs"), "hi", &score, &found, E));
    assert_true(isinf(score) && score > 0);
    OK(kura_kv_zscore(kv, K("zs"), "tiny", &score, &found, E));
    assert_true(score == 5e-324);
    kura_error err = {0};
    expect_fail(kura_kv_zincr(kv, K("zs"), "hi", -INFINITY, &score, &err), &err, KURA_STORE);
    expect_fail(kura_kv_zadd(kv, K("zs"), "nan", NAN, NULL, &err), &err, KURA_INVALID);

    int64_t n = 0;
    OK(kura_kv_zcard(kv, K("zs"), &n, E));
    assert_int_equal(n, 6);
    OK(kura_kv_zcard(kv, K("zs-none"), &n, E));
    assert_int_equal(n, 0);
    OK(kura_kv_zcount(kv, K("zs"), 0, 7, &n, E));
    assert_int_equal(n, 4); /* a=2, new=7 (inclusive), tenth, tiny */
    OK(kura_kv_zcount(kv, K("zs"), -INFINITY, INFINITY, &n, E));
    assert_int_equal(n, 6);
    OK(kura_kv_zcount(kv, K("zs"), 5, 1, &n, E));
    assert_int_equal(n, 0);

    bool removed = false;
    OK(kura_kv_zrem(kv, K("zs"), "a", &removed, E));
    assert_true(removed);
    OK(kura_kv_zrem(kv, K("zs"), "a", &removed, E));
    assert_false(removed);
    OK(kura_kv_zrem(kv, K("zs-none"), "a", &removed, E));
    assert_false(removed);

    /* The last member gone, the key is gone. */
    OK(kura_kv_zadd(kv, K("zs1"), "only", 1, NULL, E));
    OK(kura_kv_zrem(kv, K("zs1"), "only", NULL, E));
    bool exists = true;
    OK(kura_kv_exists(kv, K("zs1"), &exists, E));
    assert_false(exists);
}

static void test_zset_order_and_ties(void **state)
{
    (void)state;
    /* Equal scores order by member bytes: "a" < "ab" < "b" < "b\xc3\xa9" < "c". */
    const char *members[] = {"c", "b", "ab", "a", "b\xc3\xa9", "top", "low"};
    double scores[] = {5, 5, 5, 5, 5, 9, -1};
    for (size_t i = 0; i < 7; i++)
        OK(kura_kv_zadd(kv, K("zo"), members[i], scores[i], NULL, E));
    kura_kv_entries e = {0};
    OK(kura_kv_zrange(kv, K("zo"), 0, -1, false, &e, E));
    const char *asc[] = {"low", "a", "ab", "b", "b\xc3\xa9", "c", "top"};
    const double asc_s[] = {-1, 5, 5, 5, 5, 5, 9};
    assert_entries(&e, asc, asc_s, 7);
    kura_kv_entries_free(&e);

    OK(kura_kv_zrange(kv, K("zo"), 0, -1, true, &e, E));
    const char *desc[] = {"top", "c", "b\xc3\xa9", "b", "ab", "a", "low"};
    const double desc_s[] = {9, 5, 5, 5, 5, 5, -1};
    assert_entries(&e, desc, desc_s, 7);
    kura_kv_entries_free(&e);

    for (int64_t i = 0; i < 7; i++) {
        int64_t rank = -5;
        OK(kura_kv_zrank(kv, K("zo"), asc[i], false, &rank, E));
        assert_int_equal(rank, i);
        OK(kura_kv_zrank(kv, K("zo"), desc[i], true, &rank, E));
        assert_int_equal(rank, i);
    }
    int64_t rank = 0;
    OK(kura_kv_zrank(kv, K("zo"), "nobody", false, &rank, E));
    assert_int_equal(rank, -1);
    OK(kura_kv_zrank(kv, K("zo-none"), "nobody", true, &rank, E));
    assert_int_equal(rank, -1);

    /* Redis's index rules. */
    OK(kura_kv_zrange(kv, K("zo"), 1, 2, false, &e, E));
    assert_entries(&e, asc + 1, asc_s + 1, 2);
    kura_kv_entries_free(&e);
    OK(kura_kv_zrange(kv, K("zo"), -2, -1, false, &e, E));
    assert_entries(&e, asc + 5, asc_s + 5, 2);
    kura_kv_entries_free(&e);
    OK(kura_kv_zrange(kv, K("zo"), -100, 1, true, &e, E));
    assert_entries(&e, desc, desc_s, 2);
    kura_kv_entries_free(&e);
    OK(kura_kv_zrange(kv, K("zo"), 5, 100, false, &e, E));
    assert_entries(&e, asc + 5, asc_s + 5, 2);
    kura_kv_entries_free(&e);
    OK(kura_kv_zrange(kv, K("zo"), 3, 2, false, &e, E));
    assert_int_equal(e.count, 0);
    OK(kura_kv_zrange(kv, K("zo"), 7, 10, false, &e, E));
    assert_int_equal(e.count, 0);
    OK(kura_kv_zrange(kv, K("zo"), -1, -2, false, &e, E));
    assert_int_equal(e.count, 0);
    OK(kura_kv_zrange(kv, K("zo-none"), 0, -1, false, &e, E));
    assert_int_equal(e.count, 0);

    /* -0 and 0 are one score: the member decides. */
    OK(kura_kv_zadd(kv, K("zz"), "b", -0.0, NULL, E));
    OK(kura_kv_zadd(kv, K("zz"), "a", 0.0, NULL, E));
    OK(kura_kv_zrank(kv, K("zz"), "a", false, &rank, E));
    assert_int_equal(rank, 0);
}

/* ---- hashes ------------------------------------------------------------------------------ */

static void test_hashes(void **state)
{
    (void)state;
    bool created = false, deleted = false;
    kura_bytes v = {0};
    OK(kura_kv_hget(kv, K("h"), "f", &v, E));
    assert_null(v.data);
    OK(kura_kv_hset(kv, K("h"), "name", "kura", 4, &created, E));
    assert_true(created);
    OK(kura_kv_hset(kv, K("h"), "name", "蔵", strlen("蔵"), &created, E));
    assert_false(created);
    OK(kura_kv_hset(kv, K("h"), "bin", "a\0b", 3, &created, E));
    OK(kura_kv_hset(kv, K("h"), "empty", "", 0, &created, E));
    OK(kura_kv_hset(kv, K("h"), "age", "30", 2, &created, E));
    OK(kura_kv_hget(kv, K("h"), "name", &v, E));
    assert_string_equal(v.data, "蔵");
    kura_bytes_free(&v);
    OK(kura_kv_hget(kv, K("h"), "empty", &v, E));
    assert_non_null(v.data);
    assert_int_equal(v.len, 0);
    kura_bytes_free(&v);
    OK(kura_kv_hget(kv, K("h"), "nope", &v, E));
    assert_null(v.data);

    kura_kv_entries all = {0};
    OK(kura_kv_hgetall(kv, K("h"), &all, E));
    assert_int_equal(all.count, 4);
    const char *fields[] = {"age", "bin", "empty", "name"};
    for (size_t i = 0; i < 4; i++)
        assert_string_equal(all.items[i].name, fields[i]);
    assert_int_equal(all.items[1].value.len, 3);
    assert_memory_equal(all.items[1].value.data, "a\0b", 3);
    kura_kv_entries_free(&all);

    OK(kura_kv_hdel(kv, K("h"), "bin", &deleted, E));
    assert_true(deleted);
    OK(kura_kv_hdel(kv, K("h"), "bin", &deleted, E));
    assert_false(deleted);
    OK(kura_kv_hdel(kv, K("h"), "age", NULL, E));
    OK(kura_kv_hdel(kv, K("h"), "empty", NULL, E));
    OK(kura_kv_hdel(kv, K("h"), "name", NULL, E));
    bool exists = true;
    OK(kura_kv_exists(kv, K("h"), &exists, E));
    assert_false(exists);
    OK(kura_kv_hgetall(kv, K("h"), &all, E));
    assert_int_equal(all.count, 0);

    /* A hash expires as a whole. */
    OK(kura_kv_hset(kv, K("hx"), "f", "v", 1, NULL, E));
    OK(kura_kv_expire(kv, K("hx"), 50, NULL, E));
    KURA_POLL(!present(K("hx")), 5000);
    OK(kura_kv_hget(kv, K("hx"), "f", &v, E));
    assert_null(v.data);
    OK(kura_kv_hset(kv, K("hx"), "g", "w", 1, &created, E));
    assert_true(created);
    OK(kura_kv_hgetall(kv, K("hx"), &all, E));
    assert_int_equal(all.count, 1);
    kura_kv_entries_free(&all);
}

/* ---- batches -------------------------------------------------------------------------------- */

static void test_batch(void **state)
{
    (void)state;
    kura_error err = {0};
    kura_kv_batch *b = kura_kv_batch_new(kv, &err);
    assert_non_null(b);
    assert_true(kura_kv_batch_set(b, K("b1"), "one", 3, 0));
    assert_true(kura_kv_batch_get(b, K("b1")));
    assert_true(kura_kv_batch_get(b, K("b-missing")));
    assert_true(kura_kv_batch_incr(b, K("b2"), 5));
    assert_true(kura_kv_batch_zadd(b, K("bz"), "m", 3));
    assert_true(kura_kv_batch_incr(b, K("bz"), 1)); /* refused alone */
    assert_true(kura_kv_batch_zincr(b, K("bz"), "m", 2));
    assert_true(kura_kv_batch_hset(b, K("bh"), "f", "v", 1));
    assert_true(kura_kv_batch_expire(b, K("b1"), 100000));
    assert_true(kura_kv_batch_del(b, K("b2")));
    assert_true(kura_kv_batch_set(b, K("b3"), "x", 1, 100000));
    assert_int_equal(kura_kv_batch_count(b), 11);
    if (!kura_kv_batch_run(b, &err))
        fail_msg("batch: %s", err.message);
    assert_int_equal(kura_kv_batch_count(b), 0);
    const kura_kv_reply *r = kura_kv_batch_reply(b, 0);
    assert_int_equal(r->code, KURA_OK);
    assert_true(r->found);
    r = kura_kv_batch_reply(b, 1);
    assert_true(r->found);
    assert_string_equal(r->value.data, "one");
    assert_null(kura_kv_batch_reply(b, 2)->value.data);
    assert_int_equal(kura_kv_batch_reply(b, 3)->integer, 5);
    assert_true(kura_kv_batch_reply(b, 4)->found);
    r = kura_kv_batch_reply(b, 5);
    assert_int_equal(r->code, KURA_STORE);
    assert_non_null(r->error);
    assert_non_null(strstr(r->error, "WRONGTYPE"));
    assert_true(kura_kv_batch_reply(b, 6)->score == 5.0);
    assert_true(kura_kv_batch_reply(b, 7)->found);
    assert_true(kura_kv_batch_reply(b, 8)->found);
    assert_true(kura_kv_batch_reply(b, 9)->found);
    assert_null(kura_kv_batch_reply(b, 11));
    int64_t ttl = 0;
    OK(kura_kv_ttl(kv, K("b1"), &ttl, E));
    assert_true(ttl > 0);

    /* Many commands, one run; the batch is reusable. */
    char key[128];
    for (int i = 0; i < 2000; i++) {
        snprintf(key, sizeof key, "%sbulk:%d", prefix, i);
        assert_true(kura_kv_batch_set(b, key, key, strlen(key), 60000));
    }
    assert_true(kura_kv_batch_run(b, &err));
    for (int i = 0; i < 2000; i++) {
        snprintf(key, sizeof key, "%sbulk:%d", prefix, i);
        assert_true(kura_kv_batch_get(b, key));
    }
    assert_true(kura_kv_batch_run(b, &err));
    for (int i = 0; i < 2000; i++) {
        snprintf(key, sizeof key, "%sbulk:%d", prefix, i);
        assert_string_equal(kura_kv_batch_reply(b, (size_t)i)->value.data, key);
    }

    /* A queueing error is reported by run, and nothing is sent. */
    assert_true(kura_kv_batch_set(b, K("b4"), "x", 1, 0));
    assert_false(kura_kv_batch_set(b, NULL, "x", 1, 0));
    assert_false(kura_kv_batch_run(b, &err));
    assert_int_equal(err.code, KURA_INVALID);
    assert_missing(K("b4"));
    assert_true(kura_kv_batch_run(b, &err)); /* empty now */
    kura_kv_batch_free(b);
}

/* Values of every size the drivers treat apart (empty, under and over a short
 * reply's buffer, over a batch's copy block), with NULs inside, come back
 * byte for byte from a batch reused across runs; refusals short and long keep
 * their text. */
static void test_batch_values(void **state)
{
    (void)state;
    static const size_t sizes[] = {0, 1, 62, 63, 64, 65, 1000, 70000, 300000};
    enum { NSIZES = sizeof sizes / sizeof sizes[0], ROUNDS = 3, FILL = 400 };
    char *data = malloc(300000);
    assert_non_null(data);
    kura_error err = {0};
    kura_kv_batch *b = kura_kv_batch_new(kv, &err);
    assert_non_null(b);
    char key[160];
    for (int round = 0; round < ROUNDS; round++) {
        for (size_t i = 0; i < 300000; i++)
            data[i] = (char)((i * 31 + (size_t)round * 7) % 251); /* NULs included */
        for (size_t s = 0; s < NSIZES; s++) {
            snprintf(key, sizeof key, "%sbv:%zu", prefix, s);
            assert_true(kura_kv_batch_set(b, key, data, sizes[s], 0));
            for (int f = 0; f < FILL; f++) { /* fills copy blocks between the big ones */
                snprintf(key, sizeof key, "%sbv-fill:%zu:%d", prefix, s, f);
                assert_true(kura_kv_batch_set(b, key, key, strlen(key), 60000));
            }
        }
        if (!kura_kv_batch_run(b, &err))
            fail_msg("batch: %s", err.message);
        for (size_t s = 0; s < NSIZES; s++) {
            snprintf(key, sizeof key, "%sbv:%zu", prefix, s);
            assert_true(kura_kv_batch_get(b, key));
        }
        assert_true(kura_kv_batch_set(b, K("bv-text"), "abc", 3, 0));
        assert_true(kura_kv_batch_incr(b, K("bv-text"), 1));      /* a short refusal */
        assert_true(kura_kv_batch_zadd(b, K("bv-text"), "m", 1)); /* a long one */
        assert_true(kura_kv_batch_get(b, K("bv-missing")));
        if (!kura_kv_batch_run(b, &err))
            fail_msg("batch: %s", err.message);
        /* Queueing the next commands leaves the replies as they were. */
        for (size_t s = 0; s < NSIZES; s++) {
            snprintf(key, sizeof key, "%sbv-later:%zu", prefix, s);
            assert_true(kura_kv_batch_set(b, key, "~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~", 32, 60000));
        }
        for (size_t s = 0; s < NSIZES; s++) {
            const kura_kv_reply *r = kura_kv_batch_reply(b, s);
            assert_int_equal(r->code, KURA_OK);
            assert_true(r->found);
            assert_non_null(r->value.data);
            assert_int_equal(r->value.len, sizes[s]);
            assert_memory_equal(r->value.data, data, sizes[s]);
            assert_int_equal(r->value.data[sizes[s]], '\0');
        }
        const kura_kv_reply *r = kura_kv_batch_reply(b, NSIZES + 1);
        assert_int_equal(r->code, KURA_STORE);
        assert_string_equal(r->error, "ERR value is not an integer or out of range");
        r = kura_kv_batch_reply(b, NSIZES + 2);
        assert_int_equal(r->code, KURA_STORE);
        assert_string_equal(r->error,
                            "WRONGTYPE Operation against a key holding the wrong kind of value");
        r = kura_kv_batch_reply(b, NSIZES + 3);
        assert_int_equal(r->code, KURA_OK);
        assert_false(r->found);
        assert_null(r->value.data);
    }
    /* The same values through single calls. */
    for (size_t s = 0; s < NSIZES; s++) {
        snprintf(key, sizeof key, "%sbv:%zu", prefix, s);
        assert_value(key, data, sizes[s]);
    }
    kura_kv_batch_free(b);
    free(data);
}

/* ---- arguments, URLs ------------------------------------------------------------------------- */

static void test_bad_arguments(void **state)
{
    (void)state;
    kura_error err = {0};
    kura_bytes v = {0};
    expect_fail(kura_kv_get(kv, NULL, &v, &err), &err, KURA_INVALID);
    expect_fail(kura_kv_set(kv, K("x"), NULL, 3, 0, &err), &err, KURA_INVALID);
    expect_fail(kura_kv_set(kv, K("x"), "abc", 3, -1, &err), &err, KURA_INVALID);
    expect_fail(kura_kv_expire(kv, K("x"), 0, NULL, &err), &err, KURA_INVALID);
    /* A TTL whose expiry would pass INT64_MAX: Redis refused it while the
     * embedded driver wrapped it into the past and lost the key it said it set. */
    expect_fail(kura_kv_set(kv, K("x"), "abc", 3, INT64_MAX, &err), &err, KURA_INVALID);
    expect_fail(kura_kv_expire(kv, K("x"), INT64_MAX, NULL, &err), &err, KURA_INVALID);
    OK(kura_kv_set(kv, K("long"), "abc", 3, INT64_C(1) << 62, E));
    int64_t ttl = 0;
    OK(kura_kv_ttl(kv, K("long"), &ttl, E));
    assert_true(ttl > (INT64_C(1) << 61));
    OK(kura_kv_del(kv, K("long"), NULL, E));
    kura_kv_batch *b = kura_kv_batch_new(kv, &err);
    assert_non_null(b);
    assert_false(kura_kv_batch_set(b, K("x"), "a", 1, INT64_MAX));
    expect_fail(kura_kv_batch_run(b, &err), &err, KURA_INVALID);
    kura_kv_batch_free(b);
    expect_fail(kura_kv_zadd(kv, K("x"), NULL, 1, NULL, &err), &err, KURA_INVALID);
    expect_fail(kura_kv_zcount(kv, K("x"), NAN, 1, NULL, &err), &err, KURA_INVALID);
    expect_fail(kura_kv_set(NULL, K("x"), "a", 1, 0, &err), &err, KURA_INVALID);
    assert_missing(K("x"));

    static const char *const bad_urls[] = {"",
                                           "nonsense",
                                           "ftp://x",
                                           "redis://",
                                           "redis://host:notaport/0",
                                           "redis://host/abc",
                                           "redis://host:6379/0?pool=0",
                                           "redis://host/0?colour=blue",
                                           "redis://host/0?pool=2&pool=3",
                                           "unix://",
                                           "rediss://h",
                                           "embedded://host/x.db",
                                           "embedded:///x.db?journal=1",
                                           "embedded:///x.db?synchronous=x"};
    for (size_t i = 0; i < sizeof bad_urls / sizeof bad_urls[0]; i++) {
        kura_kv *other = kura_kv_open(bad_urls[i], &err);
        if (other)
            fail_msg("'%s' was accepted", bad_urls[i]);
        if (err.code != KURA_CONFIG)
            fail_msg("'%s': %s %s", bad_urls[i], kura_code_name(err.code), err.message);
    }
}

/* ---- threads ------------------------------------------------------------------------------------
 */

#define THREADS 8
#define ROUNDS  300

static void *hammer(void *arg)
{
    intptr_t id = (intptr_t)arg;
    char mine[96], shared[96], board[96]; /* K() is not for threads */
    snprintf(mine, sizeof mine, "%sown:%ld", prefix, (long)id);
    snprintf(shared, sizeof shared, "%sshared", prefix);
    snprintf(board, sizeof board, "%sboard", prefix);
    for (int i = 0; i < ROUNDS; i++) {
        kura_error err = {0};
        if (!kura_kv_incr(kv, shared, 1, NULL, &err) ||
            !kura_kv_zincr(kv, board, mine, 1, NULL, &err) ||
            !kura_kv_set(kv, mine, &i, sizeof i, 0, &err))
            return (void *)1;
        kura_bytes v = {0};
        if (!kura_kv_get(kv, mine, &v, &err) || v.len != sizeof i || memcmp(v.data, &i, sizeof i))
            return (void *)1;
        kura_bytes_free(&v);
    }
    return NULL;
}

static void test_threads(void **state)
{
    (void)state;
    pthread_t t[THREADS];
    for (intptr_t i = 0; i < THREADS; i++)
        assert_int_equal(pthread_create(&t[i], NULL, hammer, (void *)i), 0);
    for (int i = 0; i < THREADS; i++) {
        void *rc;
        pthread_join(t[i], &rc);
        assert_null(rc);
    }
    assert_value(K("shared"), "2400", 4);
    int64_t n = 0;
    OK(kura_kv_zcard(kv, K("board"), &n, E));
    assert_int_equal(n, THREADS);
    OK(kura_kv_zcount(kv, K("board"), ROUNDS, ROUNDS, &n, E));
    assert_int_equal(n, THREADS);
}

/* ---- running ------------------------------------------------------------------------------------
 */

int main(int argc, char **argv)
{
    const char *driver = argc > 1 ? argv[1] : "embedded";
    char url[512];
    char file[256] = "";
    /* Every Redis topology, each from the variable scripts/services.sh exports. */
    static const struct {
        const char *driver, *env, *what;
    } redis_targets[] = {
        {"redis", "KURA_TEST_REDIS_URL", "a redis-server"},
        {"redis-cluster", "KURA_TEST_REDIS_CLUSTER_URL", "a 3+3 Redis Cluster"},
        {"redis-sentinel", "KURA_TEST_REDIS_SENTINEL_URL", "a master, a replica and sentinels"},
    };
    size_t t = 0;
    while (t < 3 && strcmp(driver, redis_targets[t].driver) != 0)
        t++;
    if (t < 3) {
        const char *u = getenv(redis_targets[t].env);
        if (!u || !*u) {
            printf("skipped: %s not set (scripts/test starts %s and sets it)\n",
                   redis_targets[t].env, redis_targets[t].what);
            return kura_test_servers_required() ? 1 : 77;
        }
        snprintf(url, sizeof url, "%s", u);
    } else if (strcmp(driver, "embedded") == 0) {
        snprintf(file, sizeof file, "kv_suite_%ld.db", (long)getpid());
        snprintf(url, sizeof url, "embedded:///%s", file);
    } else {
        fprintf(stderr, "usage: kv_suite embedded|redis|redis-cluster|redis-sentinel\n");
        return 2;
    }
    snprintf(prefix, sizeof prefix, "kura-test:%ld:%ld:", (long)getpid(), (long)time(NULL));
    kura_error err = {0};
    kv = kura_kv_open(url, &err);
    if (!kv || !kura_kv_ping(kv, &err)) {
        fprintf(stderr, "kv_suite: cannot open %s: %s\n", url, err.message);
        return 1;
    }
    printf("kv_suite: driver %s (%s)\n", kura_kv_driver(kv), url);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_binary_values),
        cmocka_unit_test(test_set_conditions),
        cmocka_unit_test(test_delete_exists),
        cmocka_unit_test(test_ttl),
        cmocka_unit_test(test_incr),
        cmocka_unit_test(test_mget_mset),
        cmocka_unit_test(test_wrong_type),
        cmocka_unit_test(test_zset_basics),
        cmocka_unit_test(test_zset_order_and_ties),
        cmocka_unit_test(test_hashes),
        cmocka_unit_test(test_batch),
        cmocka_unit_test(test_batch_values),
        cmocka_unit_test(test_bad_arguments),
        cmocka_unit_test(test_threads),
    };
    int failed = cmocka_run_group_tests_name(driver, tests, NULL, NULL);
    kura_kv_close(kv);
    if (*file) {
        char side[300];
        unlink(file);
        snprintf(side, sizeof side, "%s-wal", file);
        unlink(side);
        snprintf(side, sizeof side, "%s-shm", file);
        unlink(side);
    }
    return failed ? 1 : 0;
}
