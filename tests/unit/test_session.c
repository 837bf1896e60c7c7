/*
 * test_session.c — signed-cookie sessions: create, load (sliding TTL), save,
 * destroy, rotation, and every kind of bad cookie refused before the store
 * is asked. Runs on the embedded store, and on $KURA_TEST_REDIS_URL too when
 * it is set.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include <kura/kura.h>

#include "wait_until.h"
#include "servers.h"

#include "kv/kv_private.h"

static const unsigned char secret[] = "0123456789abcdef0123456789abcdef";

/* A store that counts the commands it is sent, around the real one. */
typedef struct counting_kv {
    kura_kv base;
    kura_kv *real;
    size_t commands;
} counting_kv;

static counting_kv counter;

static bool count_run(kura_kv *kv, const kura_kv_cmd *cmds, size_t n, kura_kv_reply *replies,
                      kura_kv_blocks *values, kura_error *err)
{
    counting_kv *c = (counting_kv *)kv;
    c->commands += n;
    return c->real->ops->run(c->real, cmds, n, replies, values, err);
}

static void count_close(kura_kv *kv)
{
    (void)kv;
}

static const kura_kv_ops counting_ops = {
    .name = "counting", .close = count_close, .run = count_run};

static const char *url = "embedded:";

static int setup(void **state)
{
    kura_error err = {0};
    counter.real = kura_kv_open(url, &err);
    if (!counter.real) {
        fprintf(stderr, "open %s: %s\n", url, err.message);
        return -1;
    }
    counter.base.ops = &counting_ops;
    counter.commands = 0;
    kura_sessions *s = kura_sessions_new(&counter.base, secret, 32, 1500, &err);
    if (!s)
        return -1;
    *state = s;
    return 0;
}

static int teardown(void **state)
{
    kura_sessions_free(*state);
    kura_kv_close(counter.real);
    return 0;
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000};
    while (nanosleep(&ts, &ts) != 0)
        ;
}

static void test_round_trip(void **state)
{
    kura_sessions *s = *state;
    kura_error err = {0};
    char cookie[KURA_SESSION_COOKIE_SIZE];
    json_t *data = json_pack("{s:i, s:s}", "user_id", 42, "name", "蔵");
    assert_true(kura_session_create(s, data, cookie, &err));
    json_decref(data);
    assert_int_equal(strlen(cookie), KURA_SESSION_COOKIE_LEN);
    assert_int_equal(cookie[43], '.');
    for (size_t i = 0; i < KURA_SESSION_COOKIE_LEN; i++)
        assert_non_null(
            strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.", cookie[i]));

    json_t *got = NULL;
    assert_true(kura_session_load(s, cookie, &got, &err));
    assert_int_equal(json_integer_value(json_object_get(got, "user_id")), 42);
    assert_string_equal(json_string_value(json_object_get(got, "name")), "蔵");
    json_decref(got);

    json_t *more = json_pack("{s:i, s:b}", "user_id", 42, "admin", 0);
    assert_true(kura_session_save(s, cookie, more, &err));
    json_decref(more);
    assert_true(kura_session_load(s, cookie, &got, &err));
    assert_true(json_is_false(json_object_get(got, "admin")));
    json_decref(got);

    /* Two sessions never share an id. */
    char other[KURA_SESSION_COOKIE_SIZE];
    json_t *empty = json_object();
    assert_true(kura_session_create(s, empty, other, &err));
    json_decref(empty);
    assert_string_not_equal(cookie, other);
}

static void test_sliding_ttl_and_destroy(void **state)
{
    kura_sessions *s = *state; /* TTL 1500 ms: wide enough for a loaded 2-core machine */
    kura_error err = {0};
    char cookie[KURA_SESSION_COOKIE_SIZE];
    json_t *data = json_pack("{s:i}", "n", 1);
    assert_true(kura_session_create(s, data, cookie, &err));
    /* Used every 300 ms, it outlives its TTL several times over. */
    for (int i = 0; i < 5; i++) {
        sleep_ms(300);
        json_t *got = NULL;
        if (!kura_session_load(s, cookie, &got, &err))
            fail_msg("load %d: %s", i, err.message);
        json_decref(got);
    }
    /* Left alone, it lapses. Polled on the store's key ("kura:session:<id>", the
     * cookie's first 43 characters): loading the session would slide its TTL. */
    char key[64];
    snprintf(key, sizeof key, "kura:session:%.43s", cookie);
    bool exists = true;
    KURA_POLL(kura_kv_exists(counter.real, key, &exists, &err) && !exists, 10000);
    assert_false(exists);
    json_t *got = NULL;
    assert_false(kura_session_load(s, cookie, &got, &err));
    assert_int_equal(err.code, KURA_NOT_FOUND);
    assert_null(got);
    /* A stale cookie cannot bring it back. */
    assert_false(kura_session_save(s, cookie, data, &err));
    assert_int_equal(err.code, KURA_NOT_FOUND);

    assert_true(kura_session_create(s, data, cookie, &err));
    assert_true(kura_session_destroy(s, cookie, &err));
    assert_false(kura_session_load(s, cookie, &got, &err));
    assert_int_equal(err.code, KURA_NOT_FOUND);
    assert_true(kura_session_destroy(s, cookie, &err)); /* already gone: fine */
    json_decref(data);
}

static void test_rotation(void **state)
{
    kura_sessions *s = *state;
    kura_error err = {0};
    char before[KURA_SESSION_COOKIE_SIZE], after[KURA_SESSION_COOKIE_SIZE];
    json_t *data = json_pack("{s:s}", "cart", "apples");
    assert_true(kura_session_create(s, data, before, &err));
    json_decref(data);
    assert_true(kura_session_rotate(s, before, after, &err)); /* logging in */
    assert_string_not_equal(before, after);
    json_t *got = NULL;
    assert_true(kura_session_load(s, after, &got, &err));
    assert_string_equal(json_string_value(json_object_get(got, "cart")), "apples");
    json_decref(got);
    /* The id an attacker may have planted is worthless now. */
    assert_false(kura_session_load(s, before, &got, &err));
    assert_int_equal(err.code, KURA_NOT_FOUND);
    assert_false(kura_session_rotate(s, before, after, &err));
    assert_int_equal(err.code, KURA_NOT_FOUND);
}

/* Every bad cookie: KURA_AUTH, the same message, and not one store command. */
static void test_bad_cookies(void **state)
{
    kura_sessions *s = *state;
    kura_error err = {0};
    char cookie[KURA_SESSION_COOKIE_SIZE];
    json_t *data = json_pack("{s:i}", "user_id", 7);
    assert_true(kura_session_create(s, data, cookie, &err));

    char bad[64][200];
    int n = 0;
    snprintf(bad[n++], 200, "%s", "");
    snprintf(bad[n++], 200, "%s", "not a cookie");
    snprintf(bad[n++], 200, "%.86s", cookie);               /* truncated */
    snprintf(bad[n++], 200, "%.43s", cookie);               /* id only */
    snprintf(bad[n++], 200, "%s=", cookie);                 /* too long */
    snprintf(bad[n++], 200, "%s%s", cookie, cookie);        /* doubled */
    snprintf(bad[n++], 200, "%.43s.%.43s", cookie, cookie); /* id as its own MAC */
    for (int pos = 0; pos < KURA_SESSION_COOKIE_LEN; pos += 5) {
        if (pos == 43)
            continue;
        snprintf(bad[n], 200, "%s", cookie);
        bad[n][pos] = bad[n][pos] == 'A' ? 'B' : 'A'; /* one character tampered */
        n++;
    }
    snprintf(bad[n], 200, "%s", cookie);
    bad[n++][43] = ':';
    snprintf(bad[n], 200, "%s", cookie);
    bad[n++][10] = '+'; /* standard base64, not base64url */
    snprintf(bad[n], 200, "%s", cookie);
    bad[n++][0] = '\x80';
    /* Every non-ASCII byte in place of the first character, and the padding
     * bits of each part's last character set: other spellings of the same bytes. */
    for (int c = 0x80; c <= 0xff && n < 60; c += 9) {
        snprintf(bad[n], 200, "%s", cookie);
        bad[n++][0] = (char)c;
    }
    snprintf(bad[n], 200, "%s", cookie);
    bad[n][42] = bad[n][42] == 'A' ? 'B' : (char)(bad[n][42] + 1);
    n++;
    assert_true(n <= 62);

    /* A cookie signed with another secret. */
    kura_sessions *other = kura_sessions_new(
        counter.real, (const unsigned char *)"another secret, 32 bytes long!!", 31, 1000, &err);
    assert_non_null(other);
    char foreign[KURA_SESSION_COOKIE_SIZE];
    assert_true(kura_session_create(other, data, foreign, &err));
    snprintf(bad[n++], 200, "%s", foreign);
    /* The real id with the foreign MAC. */
    snprintf(bad[n++], 200, "%.44s%s", cookie, foreign + 44);
    kura_sessions_free(other);

    size_t before = counter.commands;
    for (int i = 0; i < n; i++) {
        json_t *got = NULL;
        kura_error e = {0};
        if (kura_session_load(s, bad[i], &got, &e))
            fail_msg("cookie %d '%s' (the real one '%s') was accepted", i, bad[i], cookie);
        if (e.code != KURA_AUTH)
            fail_msg("cookie %d '%s': %s", i, bad[i], e.message);
        assert_string_equal(e.message, "invalid session cookie");
        assert_null(got);
        assert_false(kura_session_save(s, bad[i], data, &e));
        assert_int_equal(e.code, KURA_AUTH);
        assert_false(kura_session_destroy(s, bad[i], &e));
        assert_int_equal(e.code, KURA_AUTH);
        char out[KURA_SESSION_COOKIE_SIZE];
        assert_false(kura_session_rotate(s, bad[i], out, &e));
        assert_int_equal(e.code, KURA_AUTH);
    }
    json_t *got = NULL;
    assert_false(kura_session_load(s, NULL, &got, &err));
    assert_int_equal(err.code, KURA_AUTH);
    assert_int_equal(counter.commands, before); /* refused before any lookup */

    /* The real cookie still works. */
    assert_true(kura_session_load(s, cookie, &got, &err));
    json_decref(got);
    json_decref(data);
}

static void test_arguments(void **state)
{
    (void)state;
    kura_error err = {0};
    assert_null(kura_sessions_new(counter.real, secret, 8, 1000, &err));
    assert_int_equal(err.code, KURA_INVALID);
    assert_null(kura_sessions_new(counter.real, secret, 32, 0, &err));
    assert_null(kura_sessions_new(NULL, secret, 32, 1000, &err));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip), cmocka_unit_test(test_sliding_ttl_and_destroy),
        cmocka_unit_test(test_rotation),   cmocka_unit_test(test_bad_cookies),
        cmocka_unit_test(test_arguments),
    };
    int failed = cmocka_run_group_tests_name("session (embedded)", tests, setup, teardown);
    const char *redis = getenv("KURA_TEST_REDIS_URL");
    if (redis && *redis) {
        url = redis;
        failed += cmocka_run_group_tests_name("session (redis)", tests, setup, teardown);
    } else {
        failed += kura_test_run_no_redis("session (redis)");
    }
    return failed ? 1 : 0;
}
