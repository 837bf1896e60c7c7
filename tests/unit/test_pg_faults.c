/*
 * test_pg_faults.c — PostgreSQL when things go wrong: no server at start-up,
 * bad URLs, a wrong password, an unknown database, a statement timeout, the
 * server restarting under a running store, a connection lost inside a
 * transaction.
 *
 * The restart test stops the cluster named by KURA_TEST_PG_DATA, so this
 * program runs serially (tests/CMakeLists.txt).
 */
#include <pthread.h>
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

#include <kura/migrate.h>
#include <kura/store.h>

#include "pg_env.h"

typedef struct pgf_item {
    kura_base base;
    char name[KURA_STRING_BYTES(32)];
    int32_t n;
} pgf_item;

static const kura_model pgf_item_model =
    KURA_MODEL(pgf_item, "pgf_item", KURA_STRING(pgf_item, name, 32, .required = true),
               KURA_INT32(pgf_item, n, .unique = true));

static kura_store *slow_store; /* test_slow_statement_turns_nobody_away's */
static atomic_bool lock_held;  /* test_migration_outwaits_the_answer_timeout's */

static kura_store *open_test_store(const char *extra)
{
    char *url = pg_url_with(NULL, NULL, NULL, extra);
    kura_error err = {0};
    kura_store *s = kura_store_open(url, &err);
    if (!s)
        fail_msg("open %s: %s", url, err.message);
    free(url);
    return s;
}

static void fresh_table(kura_store *s)
{
    kura_error err = {0};
    assert_true(kura_drop(s, &pgf_item_model, &err));
    assert_true(kura_create(s, &pgf_item_model, &err));
}

static bool add_item(kura_store *s, const char *name, int n, kura_error *err)
{
    pgf_item it;
    kura_init(&pgf_item_model, &it);
    kura_copy_string(it.name, sizeof it.name, name);
    it.n = n;
    return kura_insert(s, &pgf_item_model, &it, err);
}

static int64_t count_items(kura_store *s)
{
    kura_query q = kura_query_for(&pgf_item_model);
    int64_t n = -1;
    kura_error err = {0};
    if (!kura_count(s, &q, &n, &err))
        fail_msg("count: %s", err.message);
    return n;
}

/* --- no server needed ------------------------------------------------------- */

static void test_server_down_at_startup(void **state)
{
    (void)state;
    char dir[] = "/tmp/kura_nosrv_XXXXXX";
    assert_non_null(mkdtemp(dir));
    char url[256];
    snprintf(url, sizeof url, "postgresql:///kura_test?host=%s&connect_timeout=2", dir);
    kura_error err = {0};
    kura_store *s = kura_store_open(url, &err);
    rmdir(dir);
    assert_null(s);
    assert_int_equal(err.code, KURA_UNAVAILABLE);
    assert_non_null(strstr(err.message, "postgresql: server unreachable"));
}

static void test_malformed_urls(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "postgresql://host:99999/db",          /* kura: port out of range */
        "postgresql://h/db?pool=0",            /* kura: pool below 1 */
        "postgresql://h/db?pool_timeout=soon", /* kura: not a number */
        "postgresql://h/db?statement_timeout=-1",
        "postgresql://h/db?no_such_option=1",  /* libpq: unknown keyword */
        "postgresql://h/db?sslmode=sometimes", /* libpq: bad value */
        "postgresql://h/db%zz",                /* bad escape */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        kura_error err = {0};
        kura_store *s = kura_store_open(bad[i], &err);
        if (s || err.code != KURA_CONFIG)
            fail_msg("%s: expected KURA_CONFIG, got %s (%s)", bad[i], kura_code_name(err.code),
                     err.message);
    }
}

/* --- a server ------------------------------------------------------------------ */

static void test_unknown_database(void **state)
{
    (void)state;
    if (!pg_test_url())
        KURA_SKIP_NO_SERVER("KURA_TEST_PG_URL not set or the test database unreachable");
    char *url = pg_url_with("kura_no_such_database_here", NULL, NULL, NULL);
    kura_error err = {0};
    kura_store *s = kura_store_open(url, &err);
    free(url);
    assert_null(s);
    assert_int_equal(err.code, KURA_CONFIG);
    assert_non_null(strstr(err.message, "kura_no_such_database_here"));
}

/* Makes role kura_pw_test need its password, editing pg_hba.conf when the
 * cluster trusts everyone (initdb -A trust). False when that cannot be done. */
/* Whether the wrong password is refused now. */
static bool wrong_password_refused(void)
{
    char *url = pg_url_with(NULL, "kura_pw_test", "wrong", NULL);
    kura_error err = {0};
    kura_store *s = kura_store_open(url, &err);
    free(url);
    kura_store_close(s);
    return s == NULL;
}

static bool require_password(PGconn *admin)
{
    if (wrong_password_refused())
        return true;
    const char *data = getenv("KURA_TEST_PG_DATA");
    if (!data)
        return false;
    char path[1024];
    snprintf(path, sizeof path, "%s/pg_hba.conf", data);
    FILE *f = fopen(path, "r");
    if (!f)
        return false;
    char *old = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&old, &len);
    char buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0)
        fwrite(buf, 1, n, m);
    fclose(f);
    fclose(m);
    f = fopen(path, "w");
    if (!f) {
        free(old);
        return false;
    }
    fprintf(f,
            "local all kura_pw_test scram-sha-256\nhost all kura_pw_test all "
            "scram-sha-256\n%s",
            old);
    fclose(f);
    free(old);
    PQclear(PQexec(admin, "SELECT pg_reload_conf()"));
    /* The reload is asynchronous: wait (at most 10 s) until it shows. */
    for (int i = 0; i < 200; i++) {
        if (wrong_password_refused())
            return true;
        usleep(50 * 1000);
    }
    return false;
}

static void test_wrong_password(void **state)
{
    (void)state;
    PGconn *admin = pg_admin();
    if (!admin)
        KURA_SKIP_NO_SERVER("KURA_TEST_PG_URL not set or the test database unreachable");
    PQclear(PQexec(admin, "DROP ROLE IF EXISTS kura_pw_test"));
    PGresult *r = PQexec(admin, "CREATE ROLE kura_pw_test LOGIN PASSWORD 'right'");
    assert_int_equal(PQresultStatus(r), PGRES_COMMAND_OK);
    PQclear(r);
    if (!require_password(admin)) {
        PQfinish(admin);
        KURA_SKIP_NO_SERVER("the test cluster lets kura_pw_test in without a password and "
                            "KURA_TEST_PG_DATA is not set to change that");
    }
    char *url = pg_url_with(NULL, "kura_pw_test", "wrong", NULL);
    kura_error err = {0};
    kura_store *s = kura_store_open(url, &err);
    free(url);
    assert_null(s);
    if (err.code != KURA_AUTH)
        fail_msg("expected KURA_AUTH, got %s: %s", kura_code_name(err.code), err.message);
    assert_non_null(strstr(err.message, "authentication failed"));

    url = pg_url_with(NULL, "kura_pw_test", "right", NULL);
    s = kura_store_open(url, &err);
    free(url);
    if (!s)
        fail_msg("the right password: %s", err.message);
    kura_store_close(s);
    PQclear(PQexec(admin, "DROP ROLE IF EXISTS kura_pw_test"));
    PQfinish(admin);
}

static void test_constraint_and_timeout(void **state)
{
    (void)state;
    if (!pg_test_url())
        KURA_SKIP_NO_SERVER("KURA_TEST_PG_URL not set or the test database unreachable");
    kura_store *s = open_test_store("statement_timeout=200&pool=2");
    fresh_table(s);
    kura_error err = {0};
    assert_true(add_item(s, "a", 1, &err));
    assert_false(add_item(s, "b", 1, &err));
    assert_int_equal(err.code, KURA_CONSTRAINT);
    assert_false(kura_sql_exec(s, "SELECT pg_sleep(2)", NULL, 0, NULL, &err));
    assert_int_equal(err.code, KURA_TIMEOUT);
    /* The store carries on after both. */
    assert_true(add_item(s, "c", 3, &err));
    assert_int_equal(count_items(s), 2);
    assert_true(kura_drop(s, &pgf_item_model, &err));
    kura_store_close(s);
}

/* A statement that is only slow (a report, a lock held elsewhere) turns away
 * none of the calls made while it runs: the stall rule is for a server that
 * answers nothing, and this one answers them. */
static void *slow_statement(void *arg)
{
    kura_error err = {0};
    bool *ok = arg;
    *ok = kura_sql_exec(slow_store, "SELECT pg_sleep(1.2)", NULL, 0, NULL, &err);
    return NULL;
}

static void test_slow_statement_turns_nobody_away(void **state)
{
    (void)state;
    if (!pg_test_url())
        KURA_SKIP_NO_SERVER("KURA_TEST_PG_URL not set or the test database unreachable");
    slow_store = open_test_store("timeout=5000&stall=200&pool=3");
    bool slow_ok = false;
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, slow_statement, &slow_ok), 0);
    struct timespec pause = {0, 600 * 1000 * 1000}; /* well past the stall limit */
    nanosleep(&pause, NULL);
    kura_error err = {0};
    for (int i = 0; i < 3; i++)
        if (!kura_sql_exec(slow_store, "SELECT 1", NULL, 0, NULL, &err))
            fail_msg("a quick statement beside a slow one: %s", err.message);
    pthread_join(t, NULL);
    assert_true(slow_ok);
    kura_store_close(slow_store);
    slow_store = NULL;
}

/* A migration waits as long as its statements take: here for a lock another
 * transaction holds past the store's answer timeout. */
static void *hold_lock(void *arg)
{
    kura_store *other = arg;
    kura_error err = {0};
    if (!kura_begin(other, &err) ||
        !kura_sql_exec(other, "LOCK TABLE pgf_item IN ACCESS EXCLUSIVE MODE", NULL, 0, NULL, &err))
        return NULL;
    lock_held = true;
    struct timespec hold = {1, 0};
    nanosleep(&hold, NULL);
    kura_commit(other, &err);
    return NULL;
}

typedef struct pgf_item2 {
    kura_base base;
    char name[KURA_STRING_BYTES(32)];
    int32_t n;
    int32_t extra;
} pgf_item2;
static const kura_model pgf_item2_model =
    KURA_MODEL(pgf_item2, "pgf_item", KURA_STRING(pgf_item2, name, 32, .required = true),
               KURA_INT32(pgf_item2, n, .unique = true), KURA_INT32(pgf_item2, extra));

static void test_migration_outwaits_the_answer_timeout(void **state)
{
    (void)state;
    if (!pg_test_url())
        KURA_SKIP_NO_SERVER("KURA_TEST_PG_URL not set or the test database unreachable");
    kura_store *s = open_test_store("timeout=300&stall=100");
    kura_store *other = open_test_store(NULL);
    fresh_table(s);
    lock_held = false;
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, hold_lock, other), 0);
    for (int i = 0; i < 500 && !lock_held; i++) { /* 5 s at most */
        struct timespec tick = {0, 10 * 1000 * 1000};
        nanosleep(&tick, NULL);
    }
    assert_true(lock_held);
    const kura_model *m = &pgf_item2_model;
    size_t changes = 0;
    kura_error err = {0};
    if (!kura_migrate(s, &m, 1, 0, NULL, NULL, NULL, &changes, &err))
        fail_msg("migrate behind a lock held 1 s: %s", err.message);
    assert_int_equal(changes, 1);
    pthread_join(t, NULL);
    /* The patience was the migration's: a plain statement is still held to the
     * timeout, after which the store answers again. */
    assert_false(kura_sql_exec(s, "SELECT pg_sleep(1)", NULL, 0, NULL, &err));
    assert_true(kura_sql_exec(s, "SELECT 1", NULL, 0, NULL, &err));
    assert_true(kura_drop(s, &pgf_item_model, &err));
    kura_store_close(other);
    kura_store_close(s);
}

static void test_restart_while_running(void **state)
{
    (void)state;
    if (!pg_test_url())
        KURA_SKIP_NO_SERVER("KURA_TEST_PG_URL not set or the test database unreachable");
    char opts[1536];
    if (pg_ctl("status") != 0 || pg_saved_opts(opts, sizeof opts) != 0) {
        KURA_SKIP_NO_SERVER("KURA_TEST_PG_BIN/KURA_TEST_PG_DATA do not name a running cluster "
                            "this test can restart");
    }
    kura_store *s = open_test_store("pool=4&pool_timeout=2000&connect_timeout=2");
    fresh_table(s);
    kura_error err = {0};
    for (int i = 0; i < 4; i++)
        assert_true(add_item(s, "before", i, &err));

    assert_int_equal(pg_ctl("-w -m fast stop"), 0);
    /* Down: every operation fails as unavailable, none hangs. */
    for (int i = 0; i < 6; i++) {
        kura_error e = {0};
        assert_false(add_item(s, "down", 100 + i, &e));
        if (e.code != KURA_UNAVAILABLE)
            fail_msg("while down: %s: %s", kura_code_name(e.code), e.message);
    }
    kura_error e = {0};
    assert_false(kura_store_ping(s, &e));
    assert_int_equal(e.code, KURA_UNAVAILABLE);
    pgf_item got;
    assert_false(kura_get(s, &pgf_item_model, 1, &got, &e));
    assert_int_equal(e.code, KURA_UNAVAILABLE);

    int rc = pg_ctl_start_again(opts);
    if (rc != 0)
        fail_msg("could not start the cluster again (%d); options: %s", rc, opts);
    /* Up again: the same store works at once, on every pooled connection. */
    for (int i = 0; i < 8; i++)
        if (!add_item(s, "after", 200 + i, &err))
            fail_msg("after restart, insert %d: %s: %s", i, kura_code_name(err.code), err.message);
    assert_true(kura_get(s, &pgf_item_model, 1, &got, &err));
    assert_string_equal(got.name, "before");
    assert_int_equal(count_items(s), 12);
    assert_true(kura_drop(s, &pgf_item_model, &err));
    kura_store_close(s);
}

static void test_lost_inside_transaction(void **state)
{
    (void)state;
    PGconn *admin = pg_admin();
    if (!admin)
        KURA_SKIP_NO_SERVER("KURA_TEST_PG_URL not set or the test database unreachable");
    kura_store *s = open_test_store("pool=2");
    fresh_table(s);
    kura_error err = {0};
    assert_true(kura_begin(s, &err));
    assert_true(add_item(s, "half", 1, &err));
    /* The pinned connection's backend: "id" maps onto the model's id column. */
    kura_rows rows = {0};
    assert_true(
        kura_sql_query(s, &pgf_item_model, "SELECT pg_backend_pid() AS id", NULL, 0, &rows, &err));
    assert_int_equal(rows.count, 1);
    int64_t pid = ((pgf_item *)kura_row(&rows, 0))->base.id;
    kura_rows_free(&rows);
    char sql[96];
    snprintf(sql, sizeof sql, "SELECT pg_terminate_backend(%lld)::int", (long long)pid);
    assert_int_equal(pg_admin_value(admin, sql), 1);
    /* Terminating is asynchronous: wait (at most 10 s) until the backend has gone. */
    snprintf(sql, sizeof sql, "SELECT count(*) FROM pg_stat_activity WHERE pid = %lld",
             (long long)pid);
    for (int i = 0; i < 1000 && pg_admin_value(admin, sql) != 0; i++)
        usleep(10 * 1000);
    assert_int_equal(pg_admin_value(admin, sql), 0);

    assert_false(add_item(s, "written", 2, &err));
    assert_int_equal(err.code, KURA_UNAVAILABLE);
    assert_false(kura_commit(s, &err));
    assert_int_equal(kura_transaction_depth(s), 0);

    /* Nothing of the transaction is there, and the store carries on. */
    assert_int_equal(pg_admin_value(admin, "SELECT count(*) FROM pgf_item"), 0);
    assert_true(add_item(s, "next", 3, &err));
    assert_int_equal(count_items(s), 1);
    assert_true(kura_drop(s, &pgf_item_model, &err));
    kura_store_close(s);
    PQfinish(admin);
}

static int hook_calls;

static void count_write(void *ctx, const kura_model *model, int64_t id, const char *key)
{
    (void)ctx, (void)model, (void)id, (void)key;
    hook_calls++;
}

/* A write whose connection is lost before the server answered may have been
 * applied (KURA_OUTCOME_UNKNOWN): the write hooks hear of it as of one that
 * was, or a cache would go on answering with the row as it was. The table's
 * trigger ends its own backend in the middle of each update and delete. */
static void test_lost_write_reaches_the_hooks(void **state)
{
    (void)state;
    PGconn *admin = pg_admin();
    if (!admin)
        KURA_SKIP_NO_SERVER("KURA_TEST_PG_URL not set or the test database unreachable");
    kura_store *s = open_test_store("pool=1");
    fresh_table(s);
    kura_error err = {0};
    assert_true(add_item(s, "a", 1, &err));
    assert_int_equal(pg_admin_value(admin, "CREATE OR REPLACE FUNCTION pgf_die() RETURNS trigger "
                                           "LANGUAGE plpgsql AS $$ BEGIN "
                                           "PERFORM pg_terminate_backend(pg_backend_pid()); "
                                           "PERFORM pg_sleep(5); RETURN NEW; END $$"),
                     -1);
    assert_int_equal(pg_admin_value(admin, "CREATE TRIGGER pgf_die BEFORE UPDATE OR DELETE ON "
                                           "pgf_item FOR EACH ROW EXECUTE FUNCTION pgf_die()"),
                     -1);
    assert_true(kura_store_add_write_hook(s, count_write, NULL, &err));
    hook_calls = 0;
    pgf_item it;
    assert_true(kura_get(s, &pgf_item_model, 1, &it, &err));
    it.n = 2;
    assert_false(kura_update(s, &pgf_item_model, &it, &err));
    assert_int_equal(err.code, KURA_OUTCOME_UNKNOWN);
    assert_int_equal(hook_calls, 1);
    kura_query q = kura_query_for(&pgf_item_model);
    kura_where_int(&q, "n", KURA_EQ, 1);
    kura_assign set = {"n", KURA_VINT(3)};
    assert_false(kura_update_where(s, &q, &set, 1, NULL, &err));
    assert_int_equal(err.code, KURA_OUTCOME_UNKNOWN);
    assert_int_equal(hook_calls, 2);
    assert_false(kura_delete(s, &pgf_item_model, 1, &err));
    assert_int_equal(err.code, KURA_OUTCOME_UNKNOWN);
    assert_int_equal(hook_calls, 3);
    kura_store_remove_write_hook(s, count_write, NULL);
    assert_true(kura_drop(s, &pgf_item_model, &err));
    pg_admin_value(admin, "DROP FUNCTION pgf_die()");
    kura_store_close(s);
    PQfinish(admin);
}

/* A streaming cursor and other statements share the pinned connection of a
 * transaction: the driver reads the cursor's rest ahead, nothing is lost. */
static void test_cursor_inside_transaction(void **state)
{
    (void)state;
    if (!pg_test_url())
        KURA_SKIP_NO_SERVER("KURA_TEST_PG_URL not set or the test database unreachable");
    kura_store *s = open_test_store("pool=1");
    fresh_table(s);
    kura_error err = {0};
    for (int i = 0; i < 50; i++)
        assert_true(add_item(s, "row", i, &err));
    assert_true(kura_begin(s, &err));
    kura_query q = kura_query_for(&pgf_item_model);
    kura_cursor *c = kura_cursor_open(s, &q, &err);
    assert_non_null(c);
    pgf_item it;
    int seen = 0, rc;
    for (int i = 0; i < 5; i++, seen++)
        assert_int_equal(kura_cursor_next(c, &it, &err), 1);
    assert_true(add_item(s, "inside", 1000, &err)); /* the same connection, mid-stream */
    assert_int_equal(count_items(s), 51);
    while ((rc = kura_cursor_next(c, &it, &err)) == 1)
        seen++;
    assert_int_equal(rc, 0);
    assert_int_equal(seen, 50); /* the snapshot the query started with */
    kura_cursor_close(c);
    /* Closed early, mid-stream: the connection is usable afterwards. */
    c = kura_cursor_open(s, &q, &err);
    assert_non_null(c);
    assert_int_equal(kura_cursor_next(c, &it, &err), 1);
    kura_cursor_close(c);
    assert_true(kura_commit(s, &err));
    assert_int_equal(count_items(s), 51);
    assert_true(kura_drop(s, &pgf_item_model, &err));
    kura_store_close(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_server_down_at_startup),
        cmocka_unit_test(test_malformed_urls),
        cmocka_unit_test(test_unknown_database),
        cmocka_unit_test(test_wrong_password),
        cmocka_unit_test(test_constraint_and_timeout),
        cmocka_unit_test(test_slow_statement_turns_nobody_away),
        cmocka_unit_test(test_migration_outwaits_the_answer_timeout),
        cmocka_unit_test(test_lost_inside_transaction),
        cmocka_unit_test(test_cursor_inside_transaction),
        cmocka_unit_test(test_lost_write_reaches_the_hooks),
        cmocka_unit_test(test_restart_while_running),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
