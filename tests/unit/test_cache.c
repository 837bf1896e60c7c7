/*
 * test_cache.c — get-or-compute, and model cache-aside that never serves a
 * row from before a write: single-threaded through every write path, and
 * with a writer and a reader thread racing. Runs through a kura_app on a
 * SQLite file with the embedded store, and with $KURA_TEST_REDIS_URL as the
 * key-value store too when it is set.
 */
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include <kura/kura.h>

#include "wait_until.h"
#include "servers.h"

#include "unit/t_user.h"

static const char *redis_url;
static char db_file[128];

typedef struct fixture {
    kura_app *app;
    kura_store *db;
    kura_kv *kv;
    kura_model_cache *cache;
} fixture;

static int setup(void **state)
{
    static fixture f;
    kura_error err = {0};
    char url[200];
    snprintf(db_file, sizeof db_file, "test_cache_%ld.db", (long)getpid());
    snprintf(url, sizeof url, "sqlite:///%s", db_file);
    kura_config *cfg = kura_config_new();
    kura_config_set(cfg, "database_url", url, &err);
    kura_config_set(cfg, "secret", "a test secret of enough bytes", &err);
    if (redis_url)
        kura_config_set(cfg, "redis_url", redis_url, &err);
    f.app = kura_app_open(cfg, &err);
    kura_config_free(cfg);
    if (!f.app) {
        fprintf(stderr, "app: %s\n", err.message);
        return -1;
    }
    f.db = kura_app_db(f.app);
    f.kv = kura_app_kv(f.app);
    if (!kura_drop(f.db, &t_user_model, &err) || !kura_create(f.db, &t_user_model, &err))
        return -1;
    char prefix[64];
    snprintf(prefix, sizeof prefix, "kura-test:%ld:%ld:", (long)getpid(), (long)time(NULL));
    f.cache = kura_model_cache_new(f.db, f.kv, prefix, 60000, &err);
    if (!f.cache)
        return -1;
    *state = &f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    kura_model_cache_free(f->cache);
    kura_app_close(f->app);
    char side[160];
    unlink(db_file);
    snprintf(side, sizeof side, "%s-wal", db_file);
    unlink(side);
    snprintf(side, sizeof side, "%s-shm", db_file);
    unlink(side);
    snprintf(side, sizeof side, "%s.secret", db_file);
    unlink(side);
    return 0;
}

static int64_t new_user(fixture *f, const char *name, int age)
{
    t_user u;
    kura_init(&t_user_model, &u);
    kura_copy_string(u.name, sizeof u.name, name);
    kura_copy_string(u.email, sizeof u.email, "u@example.com");
    u.age = age;
    kura_error err = {0};
    if (!kura_insert(f->db, &t_user_model, &u, &err))
        fail_msg("insert: %s", err.message);
    kura_clear(&t_user_model, &u);
    return u.base.id;
}

static int cached_age(fixture *f, int64_t id)
{
    t_user u;
    kura_error err = {0};
    if (!kura_cache_get(f->cache, &t_user_model, id, &u, &err))
        fail_msg("cache_get %lld: %s", (long long)id, err.message);
    int age = u.age;
    kura_clear(&t_user_model, &u);
    return age;
}

static void test_model_cache(void **state)
{
    fixture *f = *state;
    kura_error err = {0};
    int64_t id = new_user(f, "alice", 30);
    assert_int_equal(cached_age(f, id), 30); /* miss: filled */
    t_user u;
    assert_true(kura_cache_get(f->cache, &t_user_model, id, &u, &err)); /* hit */
    assert_string_equal(u.name, "alice");
    assert_string_equal(u.bio, "hello");

    /* Proof that reads come from the cache: a write kura cannot see (raw
     * SQL) is not visible through it... */
    kura_value p[] = {KURA_VINT(id)};
    assert_true(kura_sql_exec(f->db, "UPDATE t_user SET age = 99 WHERE id = ?", p, 1, NULL, &err));
    assert_int_equal(cached_age(f, id), 30);

    /* ...while every write through kura is. */
    u.age = 31;
    assert_true(kura_update(f->db, &t_user_model, &u, &err));
    assert_int_equal(cached_age(f, id), 31);
    assert_int_equal(cached_age(f, id), 31);
    u.age = 32;
    assert_true(kura_save(f->db, &t_user_model, &u, &err));
    assert_int_equal(cached_age(f, id), 32);
    kura_clear(&t_user_model, &u);

    kura_query q = kura_query_for(&t_user_model);
    kura_where_int(&q, "id", KURA_EQ, id);
    kura_assign set[] = {{"age", KURA_VINT(40)}};
    assert_true(kura_update_where(f->db, &q, set, 1, NULL, &err));
    assert_int_equal(cached_age(f, id), 40);

    int64_t other = new_user(f, "bob", 50);
    assert_int_equal(cached_age(f, other), 50);
    assert_true(kura_delete(f->db, &t_user_model, other, &err));
    assert_false(kura_cache_get(f->cache, &t_user_model, other, &u, &err));
    assert_int_equal(err.code, KURA_NOT_FOUND);

    assert_int_equal(cached_age(f, id), 40);
    assert_true(kura_delete_where(f->db, &q, NULL, &err));
    assert_false(kura_cache_get(f->cache, &t_user_model, id, &u, &err));
    assert_int_equal(err.code, KURA_NOT_FOUND);

    /* A write inside a transaction: the cache never shows the old row after commit. */
    int64_t third = new_user(f, "carol", 20);
    assert_int_equal(cached_age(f, third), 20);
    assert_true(kura_begin(f->db, &err));
    assert_true(kura_get(f->db, &t_user_model, third, &u, &err));
    u.age = 21;
    assert_true(kura_update(f->db, &t_user_model, &u, &err));
    assert_true(kura_commit(f->db, &err));
    kura_clear(&t_user_model, &u);
    assert_int_equal(cached_age(f, third), 21);
}

/* ---- two threads ---------------------------------------------------------------- */

#define WRITES 150 /* t_user.age is 0..150 */

typedef struct race {
    fixture *f;
    int64_t id;
    atomic_int committed; /* the last age whose update returned */
    atomic_bool done;
    atomic_bool reading; /* the reader has read once: the writes overlap its reads */
    int stale;
    int reads;
} race;

static void *writer(void *arg)
{
    race *r = arg;
    t_user u;
    kura_error err = {0};
    void *rc = NULL;
    if (!kura_get(r->f->db, &t_user_model, r->id, &u, &err)) {
        atomic_store(&r->done, true);
        return (void *)1;
    }
    while (!atomic_load(&r->reading))
        sched_yield();
    for (int age = 1; age <= WRITES; age++) {
        u.age = age;
        if (!kura_update(r->f->db, &t_user_model, &u, &err)) {
            fprintf(stderr, "writer: %s\n", err.message);
            rc = (void *)1;
            break;
        }
        atomic_store(&r->committed, age);
    }
    kura_clear(&t_user_model, &u);
    atomic_store(&r->done, true);
    return rc;
}

static void *reader(void *arg)
{
    race *r = arg;
    while (!atomic_load(&r->done)) {
        int before = atomic_load(&r->committed);
        t_user u;
        kura_error err = {0};
        if (!kura_cache_get(r->f->cache, &t_user_model, r->id, &u, &err)) {
            fprintf(stderr, "reader: %s\n", err.message);
            atomic_store(&r->reading, true); /* let the writer finish */
            return (void *)1;
        }
        if (u.age < before)
            r->stale++;
        r->reads++;
        atomic_store(&r->reading, true);
        kura_clear(&t_user_model, &u);
    }
    return NULL;
}

/* A model without created_at/updated_at goes through the cache as it is stored:
 * the cached entry (the model's JSON) has no stamps, and reads back. */
typedef struct c_note {
    kura_base base;
    char text[KURA_STRING_BYTES(20)];
    int32_t n;
} c_note;
static const kura_model c_note_model =
    KURA_MODEL_EX(c_note, "c_note", KURA_KEY_INT64, KURA_MODEL_NO_TIMESTAMPS,
                  KURA_STRING(c_note, text, 20), KURA_INT32(c_note, n));

static void test_model_without_timestamps(void **state)
{
    fixture *f = *state;
    kura_error err = {0};
    assert_true(kura_drop(f->db, &c_note_model, &err));
    assert_true(kura_create(f->db, &c_note_model, &err));
    c_note in, out;
    kura_init(&c_note_model, &in);
    kura_copy_string(in.text, sizeof in.text, "cached");
    in.n = 1;
    assert_true(kura_insert(f->db, &c_note_model, &in, &err));
    assert_true(kura_cache_get(f->cache, &c_note_model, in.base.id, &out, &err)); /* miss */
    kura_value p[] = {KURA_VINT(in.base.id)};
    assert_true(kura_sql_exec(f->db, "UPDATE c_note SET n = 99 WHERE id = ?", p, 1, NULL, &err));
    memset(&out, 0x5a, sizeof out);
    assert_true(kura_cache_get(f->cache, &c_note_model, in.base.id, &out, &err)); /* hit */
    assert_int_equal(out.n, 1);
    assert_string_equal(out.text, "cached");
    assert_int_equal(out.base.created_at, 0);
    assert_int_equal(out.base.updated_at, 0);
    in.n = 2;
    assert_true(kura_update(f->db, &c_note_model, &in, &err));
    assert_true(kura_cache_get(f->cache, &c_note_model, in.base.id, &out, &err));
    assert_int_equal(out.n, 2);
    assert_int_equal(out.base.updated_at, 0);
    assert_true(kura_drop(f->db, &c_note_model, &err));
}

static void test_no_stale_read_across_threads(void **state)
{
    fixture *f = *state;
    race r = {.f = f, .id = new_user(f, "racer", 0)};
    atomic_init(&r.committed, 0);
    atomic_init(&r.done, false);
    atomic_init(&r.reading, false);
    assert_int_equal(cached_age(f, r.id), 0);
    pthread_t w, rd;
    assert_int_equal(pthread_create(&rd, NULL, reader, &r), 0);
    assert_int_equal(pthread_create(&w, NULL, writer, &r), 0);
    void *wrc, *rrc;
    pthread_join(w, &wrc);
    pthread_join(rd, &rrc);
    assert_null(wrc);
    assert_null(rrc);
    printf("  %d reads during %d writes, %d stale\n", r.reads, WRITES, r.stale);
    assert_true(r.reads > 0); /* a race with no reader proves nothing */
    assert_int_equal(r.stale, 0);
    assert_int_equal(cached_age(f, r.id), WRITES);
}

/* ---- get-or-compute -------------------------------------------------------------- */

static bool compute(void *ctx, kura_bytes *out, kura_error *err)
{
    int *calls = ctx;
    (*calls)++;
    char text[32];
    int n = snprintf(text, sizeof text, "computed %d", *calls);
    out->data = malloc((size_t)n + 1);
    if (!out->data)
        return kura_fail(err, KURA_NOMEM, NULL, "out of memory");
    memcpy(out->data, text, (size_t)n + 1);
    out->len = (size_t)n;
    return true;
}

static void test_get_or_compute(void **state)
{
    fixture *f = *state;
    kura_error err = {0};
    int calls = 0;
    char key[64];
    snprintf(key, sizeof key, "kura-test:goc:%ld", (long)getpid());
    kura_cache_forget(f->kv, key, &err);
    kura_bytes v = {0};
    assert_true(kura_cache_get_or_compute(f->kv, key, 150, compute, &calls, &v, &err));
    assert_string_equal(v.data, "computed 1");
    kura_bytes_free(&v);
    assert_true(kura_cache_get_or_compute(f->kv, key, 150, compute, &calls, &v, &err));
    assert_string_equal(v.data, "computed 1");
    assert_int_equal(calls, 1);
    kura_bytes_free(&v);
    /* Once the value's 150 ms are up it is computed again. */
    bool exists = true;
    KURA_POLL(kura_kv_exists(f->kv, key, &exists, &err) && !exists, 5000);
    assert_false(exists);
    assert_true(kura_cache_get_or_compute(f->kv, key, 150, compute, &calls, &v, &err));
    assert_string_equal(v.data, "computed 2");
    kura_bytes_free(&v);
    assert_true(kura_cache_forget(f->kv, key, &err));
    assert_true(kura_cache_get_or_compute(f->kv, key, 150, compute, &calls, &v, &err));
    assert_string_equal(v.data, "computed 3");
    kura_bytes_free(&v);
    assert_false(kura_cache_get_or_compute(f->kv, key, 0, compute, &calls, &v, &err));
    assert_int_equal(err.code, KURA_INVALID);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        /* First: test_model_cache ends with a commit, whose invalidation holds
         * off filling for the cache's TTL. */
        cmocka_unit_test(test_model_without_timestamps),
        cmocka_unit_test(test_model_cache),
        cmocka_unit_test(test_no_stale_read_across_threads),
        cmocka_unit_test(test_get_or_compute),
    };
    int failed = cmocka_run_group_tests_name("cache (embedded)", tests, setup, teardown);
    const char *redis = getenv("KURA_TEST_REDIS_URL");
    if (redis && *redis) {
        redis_url = redis;
        failed += cmocka_run_group_tests_name("cache (redis)", tests, setup, teardown);
    } else {
        failed += kura_test_run_no_redis("cache (redis)");
    }
    return failed ? 1 : 0;
}
