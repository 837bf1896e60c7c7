/*
 * test_pg_concurrency.c — eight threads share one PostgreSQL store with a pool
 * of four: inserts, batches, transactions committed and rolled back, reads,
 * updates, counts and cursors, all at once. Afterwards every committed row is
 * there with the values its thread wrote, nothing rolled back is, the counts
 * add up, and the server never saw more than four connections from the store
 * (pg_stat_activity, sampled by a watcher thread, by application_name).
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include <kura/store.h>

#include "pg_env.h"

#define THREADS 8
#define POOL    4
#define ROUNDS  150

typedef struct pgc_item {
    kura_base base;
    char owner[KURA_STRING_BYTES(16)];
    int32_t seq;
    int32_t hits;
} pgc_item;

static const kura_model pgc_item_model =
    KURA_MODEL(pgc_item, "pgc_item", KURA_STRING(pgc_item, owner, 16, .required = true),
               KURA_INT32(pgc_item, seq, .index = true), KURA_INT32(pgc_item, hits));

typedef struct worker {
    kura_store *store;
    int no;
    int64_t ids[ROUNDS * 4];
    int nids;
    char failure[300];
} worker;

static volatile int watching;
static int max_seen;

static void *watch(void *arg)
{
    (void)arg;
    PGconn *c = pg_admin();
    if (!c)
        return NULL;
    while (watching) {
        long long n = pg_admin_value(c, "SELECT count(*) FROM pg_stat_activity WHERE "
                                        "application_name = 'kura_conc_test'");
        if (n > max_seen)
            max_seen = (int)n;
        usleep(2000);
    }
    PQfinish(c);
    return NULL;
}

static void item(pgc_item *it, int owner, int seq)
{
    kura_init(&pgc_item_model, it);
    snprintf(it->owner, sizeof it->owner, "w%d", owner);
    it->seq = seq;
}

#define CHECK(cond, ...)                                                                           \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            snprintf(w->failure, sizeof w->failure, __VA_ARGS__);                                  \
            return NULL;                                                                           \
        }                                                                                          \
    } while (0)

static void *work(void *arg)
{
    worker *w = arg;
    kura_store *s = w->store;
    kura_error err = {0};
    for (int r = 0; r < ROUNDS; r++) {
        int seq = w->no * 10000 + r * 10;
        pgc_item it, got;
        switch (r % 5) {
        case 0: /* one insert, read back */
            item(&it, w->no, seq);
            CHECK(kura_insert(s, &pgc_item_model, &it, &err), "insert: %s", err.message);
            w->ids[w->nids++] = it.base.id;
            CHECK(kura_get(s, &pgc_item_model, it.base.id, &got, &err), "get: %s", err.message);
            CHECK(got.seq == seq, "get: seq %d, wanted %d", got.seq, seq);
            break;
        case 1: { /* a batch of three, atomically */
            pgc_item batch[3];
            for (int i = 0; i < 3; i++)
                item(&batch[i], w->no, seq + i);
            CHECK(kura_insert_many(s, &pgc_item_model, batch, 3, &err), "insert_many: %s",
                  err.message);
            for (int i = 0; i < 3; i++)
                w->ids[w->nids++] = batch[i].base.id;
            break;
        }
        case 2: /* a transaction that is rolled back leaves nothing */
            CHECK(kura_begin(s, &err), "begin: %s", err.message);
            item(&it, w->no, -1);
            CHECK(kura_insert(s, &pgc_item_model, &it, &err), "insert in tx: %s", err.message);
            CHECK(kura_rollback(s, &err), "rollback: %s", err.message);
            break;
        case 3: /* update own rows inside a committed transaction */
            CHECK(kura_begin(s, &err), "begin: %s", err.message);
            for (int i = 0; i < w->nids; i += 3) {
                CHECK(kura_get(s, &pgc_item_model, w->ids[i], &got, &err), "get: %s", err.message);
                got.hits++;
                CHECK(kura_update(s, &pgc_item_model, &got, &err), "update: %s", err.message);
            }
            CHECK(kura_commit(s, &err), "commit: %s", err.message);
            break;
        case 4: { /* count and stream own rows */
            kura_query q = kura_query_for(&pgc_item_model);
            char owner[8];
            snprintf(owner, sizeof owner, "w%d", w->no);
            kura_where_str(&q, "owner", KURA_EQ, owner);
            int64_t n = -1;
            CHECK(kura_count(s, &q, &n, &err), "count: %s", err.message);
            CHECK(n == w->nids, "count %lld, wanted %d", (long long)n, w->nids);
            kura_cursor *c = kura_cursor_open(s, &q, &err);
            CHECK(c, "cursor: %s", err.message);
            int rows = 0, rc;
            while ((rc = kura_cursor_next(c, &got, &err)) == 1)
                rows++;
            kura_cursor_close(c);
            CHECK(rc == 0 && rows == w->nids, "cursor: %d rows, wanted %d (%s)", rows, w->nids,
                  err.message);
            break;
        }
        }
    }
    return NULL;
}

static void test_eight_threads_one_store(void **state)
{
    (void)state;
    if (!pg_test_url())
        KURA_SKIP_NO_SERVER("KURA_TEST_PG_URL not set or the test database unreachable");
    char extra[96];
    snprintf(extra, sizeof extra, "pool=%d&pool_timeout=20000&application_name=kura_conc_test",
             POOL);
    char *url = pg_url_with(NULL, NULL, NULL, extra);
    kura_error err = {0};
    kura_store *s = kura_store_open(url, &err);
    free(url);
    if (!s)
        fail_msg("open: %s", err.message);
    assert_true(kura_drop(s, &pgc_item_model, &err));
    assert_true(kura_create(s, &pgc_item_model, &err));

    watching = 1;
    pthread_t watcher;
    assert_int_equal(pthread_create(&watcher, NULL, watch, NULL), 0);
    static worker ws[THREADS];
    pthread_t th[THREADS];
    for (int i = 0; i < THREADS; i++) {
        memset(&ws[i], 0, sizeof ws[i]);
        ws[i].store = s;
        ws[i].no = i;
        assert_int_equal(pthread_create(&th[i], NULL, work, &ws[i]), 0);
    }
    for (int i = 0; i < THREADS; i++)
        pthread_join(th[i], NULL);
    watching = 0;
    pthread_join(watcher, NULL);

    int64_t total = 0;
    for (int i = 0; i < THREADS; i++) {
        if (ws[i].failure[0])
            fail_msg("thread %d: %s", i, ws[i].failure);
        total += ws[i].nids;
    }
    kura_query q = kura_query_for(&pgc_item_model);
    int64_t n = -1;
    assert_true(kura_count(s, &q, &n, &err));
    assert_int_equal(n, total);
    kura_where_int(&q, "seq", KURA_LT, 0);
    assert_true(kura_count(s, &q, &n, &err));
    assert_int_equal(n, 0); /* nothing rolled back survived */
    /* Every row is there with its owner; ids are distinct. */
    for (int i = 0; i < THREADS; i++)
        for (int j = 0; j < ws[i].nids; j++) {
            pgc_item got;
            assert_true(kura_get(s, &pgc_item_model, ws[i].ids[j], &got, &err));
            char owner[8];
            snprintf(owner, sizeof owner, "w%d", i);
            assert_string_equal(got.owner, owner);
        }
    /* Updates add up: each of every third id was bumped once per update round. */
    int64_t hits = 0;
    kura_rows rows = {0};
    kura_query all = kura_query_for(&pgc_item_model);
    assert_true(kura_find(s, &all, &rows, &err));
    for (size_t i = 0; i < rows.count; i++)
        hits += ((pgc_item *)kura_row(&rows, i))->hits;
    kura_rows_free(&rows);
    int64_t want = 0;
    for (int r = 0, nids = 0; r < ROUNDS; r++) {
        nids += r % 5 == 0 ? 1 : r % 5 == 1 ? 3 : 0;
        if (r % 5 == 3)
            want += (nids + 2) / 3;
    }
    assert_int_equal(hits, want * THREADS);

    printf("# %lld rows from %d threads; at most %d server connections seen (pool %d)\n",
           (long long)total, THREADS, max_seen, POOL);
    assert_true(max_seen >= 1);
    assert_true(max_seen <= POOL);
    assert_true(kura_drop(s, &pgc_item_model, &err));
    kura_store_close(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_eight_threads_one_store),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
