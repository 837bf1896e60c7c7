/* test_kv_slot.c — the cluster key slot (redis_slot.c) against the specification's values. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "kv/redis_private.h"

static int slot(const char *key)
{
    return redis_key_slot(key, strlen(key));
}

static void test_crc16(void **state)
{
    (void)state;
    /* The reference value in the Redis Cluster specification's crc16.c. */
    assert_int_equal(redis_crc16("123456789", 9), 0x31C3);
    assert_int_equal(redis_crc16("", 0), 0);
}

static void test_slots(void **state)
{
    (void)state;
    /* As CLUSTER KEYSLOT answers them (Redis 7). */
    assert_int_equal(slot("123456789"), 0x31C3 % 16384);
    assert_int_equal(slot("foo"), 12182);
    assert_int_equal(slot("hello"), 866);
    assert_int_equal(slot("somekey"), 11058);
}

static void test_hash_tags(void **state)
{
    (void)state;
    /* The specification's examples. */
    assert_int_equal(slot("{user1000}.following"), slot("user1000"));
    assert_int_equal(slot("{user1000}.followers"), slot("user1000"));
    assert_int_equal(slot("foo{}{bar}"), redis_crc16("foo{}{bar}", 10) % 16384);
    assert_int_equal(slot("foo{{bar}}zap"), slot("{bar"));
    assert_int_equal(slot("foo{bar}{zap}"), slot("bar"));
    assert_int_equal(slot("{}"), redis_crc16("{}", 2) % 16384);
    assert_int_equal(slot("no{close"), redis_crc16("no{close", 8) % 16384);
    /* Binary-safe: the length counts, not a NUL. */
    assert_int_equal(redis_key_slot("a\0b", 3), redis_crc16("a\0b", 3) % 16384);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_crc16),
        cmocka_unit_test(test_slots),
        cmocka_unit_test(test_hash_tags),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
