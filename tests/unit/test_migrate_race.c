/*
 * test_migrate_race.c — two migrations of one database at once, on SQLite
 * (always) and PostgreSQL (with KURA_TEST_PG_URL).
 *
 * Two threads, each with a store of its own (as two `kura migrate` processes
 * would have), migrate the same new table at the same moment. Exactly one of
 * them applies the changes; the other waits for it, finds nothing left to do
 * and reports 0 changes, and neither fails. The plan callback sleeps, so that
 * without the schema lock both would surely plan before either applied.
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

#include <kura/migrate.h>
#include <kura/store.h>

#include "pg_env.h"

#define ROUNDS 4

typedef struct race_row {
    kura_base base;
    char name[KURA_STRING_BYTES(32)];
    int32_t age;
    int32_t level;
} race_row;

/* A table and two indexes: three changes for whoever migrates first. */
static const kura_model race_model = KURA_MODEL(
    race_row, "mig_race", KURA_STRING(race_row, name, 32), KURA_INT32(race_row, age, .index = true),
    KURA_INT32(race_row, level, .index = true));

typedef struct racer {
    const char *url;
    pthread_barrier_t *start;
    bool ok;
    size_t changes;
    char failure[300];
} racer;

/* Holds the planner a while after each planned change. */
static void dawdle(const kura_change *c, void *ctx)
{
    (void)c;
    (void)ctx;
    usleep(30000);
}

static void *race(void *arg)
{
    racer *r = arg;
    kura_error err = {0};
    kura_store *db = kura_store_open(r->url, &err);
    pthread_barrier_wait(r->start);
    if (!db) {
        snprintf(r->failure, sizeof r->failure, "open: %s", err.message);
        return NULL;
    }
    const kura_model *models[] = {&race_model};
    r->ok = kura_migrate(db, models, 1, 0, dawdle, NULL, NULL, &r->changes, &err);
    if (!r->ok)
        snprintf(r->failure, sizeof r->failure, "migrate: %s", err.message);
    kura_store_close(db);
    return NULL;
}

static void races(const char *url)
{
    kura_error err = {0};
    kura_store *db = kura_store_open(url, &err);
    if (!db)
        fail_msg("open %s: %s", url, err.message);
    for (int round = 0; round < ROUNDS; round++) {
        assert_true(kura_drop(db, &race_model, &err));
        pthread_barrier_t start;
        pthread_barrier_init(&start, NULL, 2);
        racer r[2];
        pthread_t t[2];
        for (int i = 0; i < 2; i++) {
            memset(&r[i], 0, sizeof r[i]);
            r[i].url = url;
            r[i].start = &start;
            assert_int_equal(pthread_create(&t[i], NULL, race, &r[i]), 0);
        }
        for (int i = 0; i < 2; i++)
            pthread_join(t[i], NULL);
        pthread_barrier_destroy(&start);
        for (int i = 0; i < 2; i++)
            if (!r[i].ok)
                fail_msg("round %d, migration %d failed: %s", round, i, r[i].failure);
        /* One applied all three changes, the other none. */
        size_t most = r[0].changes > r[1].changes ? r[0].changes : r[1].changes;
        size_t least = r[0].changes > r[1].changes ? r[1].changes : r[0].changes;
        if (most != 3 || least != 0)
            fail_msg("round %d: the migrations reported %zu and %zu changes (want 3 and 0)", round,
                     r[0].changes, r[1].changes);
        /* And the table is the one the model asks for: nothing left to migrate. */
        const kura_model *models[] = {&race_model};
        size_t left = 9;
        assert_true(
            kura_migrate(db, models, 1, KURA_MIGRATE_DRY_RUN, NULL, NULL, NULL, &left, &err));
        assert_int_equal(left, 0);
    }
    assert_true(kura_drop(db, &race_model, &err));
    kura_store_close(db);
}

static void test_race_sqlite(void **state)
{
    (void)state;
    char path[] = "/tmp/kura_migrate_race_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    char url[128];
    snprintf(url, sizeof url, "sqlite:///%s", path);
    races(url);
    unlink(path);
    char side[160];
    snprintf(side, sizeof side, "%s-wal", path);
    unlink(side);
    snprintf(side, sizeof side, "%s-shm", path);
    unlink(side);
}

static void test_race_postgresql(void **state)
{
    (void)state;
    const char *url = pg_test_url();
    if (!url)
        KURA_SKIP_NO_SERVER("KURA_TEST_PG_URL not set or the test database unreachable");
    races(url);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_race_sqlite),
        cmocka_unit_test(test_race_postgresql),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
