/*
 * test_rank.c — leaderboards: scores, top N with ranks, one member, the
 * window around a member, and the documented tie order. Runs on the embedded
 * store, and on $KURA_TEST_REDIS_URL too when it is set (the same order).
 */
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

#include <kura/kura.h>

#include "servers.h"

static const char *url = "embedded:";
static char board[96];

static int setup(void **state)
{
    kura_error err = {0};
    kura_kv *kv = kura_kv_open(url, &err);
    if (!kv)
        return -1;
    snprintf(board, sizeof board, "kura-test:rank:%ld:%ld", (long)getpid(), (long)time(NULL));
    kura_kv_del(kv, board, NULL, NULL);
    *state = kv;
    return 0;
}

static int teardown(void **state)
{
    kura_kv_del(*state, board, NULL, NULL);
    kura_kv_close(*state);
    return 0;
}

static void check(const kura_rank_list *l, const char *const *members, const double *scores,
                  int64_t first_rank, size_t n)
{
    assert_int_equal(l->count, n);
    for (size_t i = 0; i < n; i++) {
        assert_string_equal(l->items[i].member, members[i]);
        assert_true(l->items[i].score == scores[i]);
        assert_int_equal(l->items[i].rank, first_rank + (int64_t)i);
    }
}

static void test_leaderboard(void **state)
{
    kura_kv *kv = *state;
    kura_error err = {0};
    /* Ties on 10: "dave" > "carol" > "bob" (later bytes first, as ZREVRANGE). */
    assert_true(kura_rank_set(kv, board, "alice", 30, &err));
    assert_true(kura_rank_set(kv, board, "bob", 10, &err));
    assert_true(kura_rank_set(kv, board, "carol", 10, &err));
    assert_true(kura_rank_set(kv, board, "dave", 10, &err));
    assert_true(kura_rank_set(kv, board, "erin", 5, &err));
    double score = 0;
    assert_true(kura_rank_add(kv, board, "frank", 20, &score, &err));
    assert_true(score == 20);
    assert_true(kura_rank_add(kv, board, "erin", 2.5, &score, &err));
    assert_true(score == 7.5);

    kura_rank_list top = {0};
    assert_true(kura_rank_top(kv, board, 4, &top, &err));
    const char *order[] = {"alice", "frank", "dave", "carol", "bob", "erin"};
    const double scores[] = {30, 20, 10, 10, 10, 7.5};
    check(&top, order, scores, 1, 4);
    kura_rank_list_free(&top);
    assert_true(kura_rank_top(kv, board, 100, &top, &err));
    check(&top, order, scores, 1, 6);
    kura_rank_list_free(&top);
    assert_true(kura_rank_top(kv, board, 0, &top, &err));
    assert_int_equal(top.count, 0);

    int64_t rank = 0;
    bool found = false;
    for (size_t i = 0; i < 6; i++) {
        assert_true(kura_rank_get(kv, board, order[i], &rank, &score, &found, &err));
        assert_true(found);
        assert_int_equal(rank, (int64_t)i + 1);
        assert_true(score == scores[i]);
    }
    assert_true(kura_rank_get(kv, board, "nobody", &rank, &score, &found, &err));
    assert_false(found);

    kura_rank_list around = {0};
    assert_true(kura_rank_around(kv, board, "carol", 1, &around, &err));
    check(&around, order + 2, scores + 2, 3, 3);
    kura_rank_list_free(&around);
    assert_true(kura_rank_around(kv, board, "alice", 2, &around, &err));
    check(&around, order, scores, 1, 3); /* clipped at the top */
    kura_rank_list_free(&around);
    assert_true(kura_rank_around(kv, board, "erin", 2, &around, &err));
    check(&around, order + 3, scores + 3, 4, 3); /* clipped at the bottom */
    kura_rank_list_free(&around);
    assert_true(kura_rank_around(kv, board, "nobody", 2, &around, &err));
    assert_int_equal(around.count, 0);

    int64_t count = 0;
    assert_true(kura_rank_count(kv, board, &count, &err));
    assert_int_equal(count, 6);
    bool removed = false;
    assert_true(kura_rank_remove(kv, board, "alice", &removed, &err));
    assert_true(removed);
    assert_true(kura_rank_get(kv, board, "frank", &rank, &score, &found, &err));
    assert_int_equal(rank, 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_leaderboard)};
    int failed = cmocka_run_group_tests_name("rank (embedded)", tests, setup, teardown);
    const char *redis = getenv("KURA_TEST_REDIS_URL");
    if (redis && *redis) {
        url = redis;
        failed += cmocka_run_group_tests_name("rank (redis)", tests, setup, teardown);
    } else {
        failed += kura_test_run_no_redis("rank (redis)");
    }
    return failed ? 1 : 0;
}
