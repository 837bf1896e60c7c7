/*
 * wait_until.h — waiting in tests: poll a condition until it holds or a deadline passes,
 * instead of sleeping a guessed time. A loaded machine (ASan, two cores, parallel
 * ctest) only makes the wait longer, never the test wrong; the assertion after the
 * wait says what was expected.
 *
 *     KURA_POLL(!key_exists("t"), 5000);
 *     assert_false(key_exists("t"));
 */
#ifndef KURA_TEST_WAIT_UNTIL_H
#define KURA_TEST_WAIT_UNTIL_H

#include <time.h>

static inline long long kura_test_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static inline void kura_test_nap(void)
{
    struct timespec ts = {0, 5 * 1000 * 1000};
    nanosleep(&ts, NULL);
}

/* Re-evaluates `cond` every 5 ms until it is true or `ms` milliseconds have passed. */
#define KURA_POLL(cond, ms)                                                                        \
    for (long long kura__end = kura_test_now_ms() + (ms);                                          \
         !(cond) && kura_test_now_ms() < kura__end;)                                               \
    kura_test_nap()

#endif
