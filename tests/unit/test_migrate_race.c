/*
 * test_migrate_race.c — two migrations of one database at once, on SQLite
 * (always) and PostgreSQL (with KURA_TEST_PG_URL).
 *
 * Two threads, each with a store of its own (as two `kura migrate` processes
 * would have), migrate the same new table at the same moment. Exactly one of
 * them applies the changes; the other waits for it, finds nothing left to do
 * and reports 0 changes, and neither fails. The plan callback sleeps, so that
 * without the schema lock both would surely plan before either applied.
 * The same for two upgrades of one JSON-layout document collection.
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

#include <kura/document.h>
#include <kura/migrate.h>
#include <kura/query.h>
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

/* Runs fn in two threads released together at a barrier, r[0] and r[1] theirs. */
static void run_pair(const char *url, void *(*fn)(void *), racer r[2])
{
    pthread_barrier_t start;
    pthread_barrier_init(&start, NULL, 2);
    pthread_t t[2];
    for (int i = 0; i < 2; i++) {
        memset(&r[i], 0, sizeof r[i]);
        r[i].url = url;
        r[i].start = &start;
        assert_int_equal(pthread_create(&t[i], NULL, fn, &r[i]), 0);
    }
    for (int i = 0; i < 2; i++)
        pthread_join(t[i], NULL);
    pthread_barrier_destroy(&start);
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
        racer r[2];
        run_pair(url, race, r);
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

/* ---- two upgrades of one JSON-layout document collection at once ---------------- */

typedef struct old_doc {
    kura_base base;
    char name[KURA_STRING_BYTES(16)];
    int32_t age;
} old_doc;
static const kura_model old_doc_model =
    KURA_MODEL(old_doc, "mig_race_doc", KURA_STRING(old_doc, name, 16),
               KURA_INT32(old_doc, age, .index = true));
#define OLD_DOCS 2000

static void *upgrade_race(void *arg)
{
    racer *r = arg;
    kura_error err = {0};
    kura_store *docs = kura_document_store_open(r->url, &err);
    pthread_barrier_wait(r->start);
    if (!docs) {
        snprintf(r->failure, sizeof r->failure, "open: %s", err.message);
        return NULL;
    }
    char *script = NULL;
    r->ok = kura_document_upgrade(docs, &old_doc_model, false, &script, &err);
    if (!r->ok)
        snprintf(r->failure, sizeof r->failure, "upgrade: %s", err.message);
    r->changes = script && *script ? 1 : 0;
    free(script);
    kura_store_close(docs);
    return NULL;
}

/* Exactly one rewrites the collection; the other waits for it (the
 * migrations' lock), finds it rewritten and has nothing to do: neither fails
 * (it read "_id" and "doc" from a table that no longer had them). */
static void upgrade_races(const char *url)
{
    kura_error err = {0};
    kura_store *sql = kura_store_open(url, &err);
    if (!sql)
        fail_msg("open %s: %s", url, err.message);
    bool pg = strncmp(url, "postgres", 8) == 0;
    for (int round = 0; round < ROUNDS; round++) {
        assert_true(kura_sql_exec(sql, "DROP TABLE IF EXISTS mig_race_doc", NULL, 0, NULL, &err));
        assert_true(kura_sql_exec(
            sql,
            pg ? "CREATE TABLE mig_race_doc (_id BIGSERIAL PRIMARY KEY, doc JSONB NOT NULL)"
               : "CREATE TABLE mig_race_doc (_id INTEGER PRIMARY KEY, doc TEXT NOT NULL)",
            NULL, 0, NULL, &err));
        if (!kura_sql_exec(sql,
                           pg ? "INSERT INTO mig_race_doc (doc) SELECT jsonb_build_object('name', "
                                "'n' || g, 'age', g) FROM generate_series(1, 2000) g"
                              : "WITH RECURSIVE g(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM g "
                                "WHERE x < 2000) INSERT INTO mig_race_doc (doc) SELECT "
                                "json_object('name', 'n' || x, 'age', x) FROM g",
                           NULL, 0, NULL, &err))
            fail_msg("%s", err.message);
        racer r[2];
        run_pair(url, upgrade_race, r);
        for (int i = 0; i < 2; i++)
            if (!r[i].ok)
                fail_msg("round %d, upgrade %d failed: %s", round, i, r[i].failure);
        if (r[0].changes + r[1].changes != 1)
            fail_msg("round %d: %zu upgrades say they rewrote the collection (want 1)", round,
                     r[0].changes + r[1].changes);
        kura_store *docs = kura_document_store_open(url, &err);
        assert_non_null(docs);
        kura_query q = kura_query_for(&old_doc_model);
        int64_t n = 0;
        assert_true(kura_count(docs, &q, &n, &err));
        assert_int_equal(n, OLD_DOCS);
        old_doc d;
        assert_true(kura_get(docs, &old_doc_model, OLD_DOCS, &d, &err));
        assert_int_equal(d.age, OLD_DOCS);
        kura_store_close(docs);
    }
    assert_true(kura_sql_exec(sql, "DROP TABLE mig_race_doc", NULL, 0, NULL, &err));
    kura_store_close(sql);
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
    upgrade_races(url);
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
    upgrade_races(url);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_race_sqlite),
        cmocka_unit_test(test_race_postgresql),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
