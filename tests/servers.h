/*
 * servers.h — tests that need a server the test command starts (PostgreSQL, Redis).
 *
 * Run by hand without that server, such a test skips with a printed reason. Under the
 * test command (scripts/test sets KURA_TEST_REQUIRE_SERVERS=1 once it has started them
 * all) a missing or unreachable server fails the test instead: there a skip would turn a
 * broken set-up into a pass. Include after <cmocka.h>.
 */
#ifndef KURA_TEST_SERVERS_H
#define KURA_TEST_SERVERS_H

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static inline bool kura_test_servers_required(void)
{
    const char *v = getenv("KURA_TEST_REQUIRE_SERVERS");
    return v && *v && strcmp(v, "0") != 0;
}

/* Ends the current cmocka test as skipped, or as failed when servers are required,
 * after printing "skipped: <why>". */
#define KURA_SKIP_NO_SERVER(...)                                                                   \
    do {                                                                                           \
        printf("skipped: ");                                                                       \
        printf(__VA_ARGS__);                                                                       \
        printf("\n");                                                                              \
        fflush(stdout);                                                                            \
        if (kura_test_servers_required())                                                          \
            fail_msg("the test command provides this server: a skip here is a failure");           \
        skip();                                                                                    \
    } while (0)

/* A group whose server is absent: one test that says so (and skips or fails as above). */
static inline void kura_test_no_redis(void **state)
{
    (void)state;
    KURA_SKIP_NO_SERVER("KURA_TEST_REDIS_URL not set (Redis tests need the test command's "
                        "throwaway redis-server)");
}

static inline int kura_test_run_no_redis(const char *group)
{
    const struct CMUnitTest t[] = {cmocka_unit_test(kura_test_no_redis)};
    return cmocka_run_group_tests_name(group, t, NULL, NULL);
}

#endif
