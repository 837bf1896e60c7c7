/*
 * test_pg_replicas.c — read replicas and lost writes on a real PostgreSQL
 * primary + streaming standby (scripts/services.sh starts the pair:
 * KURA_TEST_PG_PRIMARY_URL, KURA_TEST_PG_STANDBY_URL, KURA_TEST_PG_STANDBY_CTL).
 *
 * Where a read went is seen from the server that answered it: a raw SELECT of
 * pg_is_in_recovery() is true on the standby only. Checked: reads outside a
 * transaction go to the replica, a thread reads its own writes at once,
 * transactions and dry-run migrations stay on the primary, a stopped replica
 * is skipped and used again once back, both lag bounds are respected, and a
 * connection lost during an INSERT or a COMMIT is KURA_OUTCOME_UNKNOWN and
 * is not run twice.
 *
 * The tests stop, pause and reconfigure the pair's standby, so they run in
 * order in one program; nothing else uses the pair.
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
#include <libpq-fe.h>
#include <pthread.h>

#include <kura/kura.h>

#include "servers.h"

typedef struct rp_item {
    kura_base base;
    char name[KURA_STRING_BYTES(32)];
    int32_t n;
} rp_item;

static const kura_model rp_item_model = KURA_MODEL(
    rp_item, "rp_item", KURA_STRING(rp_item, name, 32), KURA_INT32(rp_item, n, .unique = true));

/* One row of "SELECT pg_is_in_recovery() AS standby". */
typedef struct rp_probe {
    kura_base base;
    bool standby;
} rp_probe;

static const kura_model rp_probe_model =
    KURA_MODEL(rp_probe, "rp_probe", KURA_BOOL(rp_probe, standby));

static const char *primary_url, *standby_url, *standby_ctl;
static const char *ryw_mode = "app"; /* database_replica_read_your_writes of open_app */
static const char *check_ms = "50";  /* database_replica_check_ms of open_app */
static char kv_path[] = "/tmp/kura-replicas-kv-XXXXXX";

static void sleep_ms(long ms)
{
    struct timespec t = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&t, NULL);
}

static PGconn *raw(const char *url)
{
    PGconn *c = PQconnectdb(url);
    if (PQstatus(c) != CONNECTION_OK)
        fail_msg("connect %s: %s", url, PQerrorMessage(c));
    return c;
}

/* Runs sql on a raw connection and returns the first value as a number (-1: none). */
static long long raw_value(PGconn *c, const char *sql)
{
    PGresult *r = PQexec(c, sql);
    ExecStatusType st = PQresultStatus(r);
    if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK)
        fail_msg("%s: %s", sql, PQerrorMessage(c));
    long long v = -1;
    if (st == PGRES_TUPLES_OK && PQntuples(r) > 0 && !PQgetisnull(r, 0, 0)) {
        const char *t = PQgetvalue(r, 0, 0);
        v = t[0] == 't' ? 1 : t[0] == 'f' ? 0 : strtoll(t, NULL, 10);
    }
    PQclear(r);
    return v;
}

static void raw_once(const char *url, const char *sql)
{
    PGconn *c = raw(url);
    raw_value(c, sql);
    PQfinish(c);
}

/* An app on the pair: the primary, `replicas` (NULL: the standby), checks every 50 ms. */
static kura_app *open_app_with(const char *replicas, const char *max_lag_ms,
                               const char *max_lag_bytes)
{
    kura_config *cfg = kura_config_new();
    kura_error err = {0};
    char kv[64];
    snprintf(kv, sizeof kv, "embedded:///%s", kv_path); /* four slashes: an absolute path */
    assert_true(kura_config_set(cfg, "database_url", primary_url, &err));
    assert_true(
        kura_config_set(cfg, "database_replica_urls", replicas ? replicas : standby_url, &err));
    assert_true(kura_config_set(cfg, "database_replica_check_ms", check_ms, &err));
    assert_true(kura_config_set(cfg, "database_replica_max_lag_ms", max_lag_ms, &err));
    assert_true(kura_config_set(cfg, "database_replica_max_lag_bytes", max_lag_bytes, &err));
    assert_true(kura_config_set(cfg, "redis_url", kv, &err));
    assert_true(kura_config_set(cfg, "database_replica_read_your_writes", ryw_mode, &err));
    kura_app *app = kura_app_open(cfg, &err);
    kura_config_free(cfg);
    if (!app)
        fail_msg("open: %s", err.message);
    return app;
}

static kura_app *open_app(const char *max_lag_ms, const char *max_lag_bytes)
{
    return open_app_with(NULL, max_lag_ms, max_lag_bytes);
}

/* 1 when the read went to the standby, 0 the primary, -1 it failed. */
static int read_on_standby(kura_store *db)
{
    kura_rows rows = {0};
    kura_error err = {0};
    if (!kura_sql_query(db, &rp_probe_model, "SELECT pg_is_in_recovery() AS standby", NULL, 0,
                        &rows, &err)) {
        print_message("probe: %s\n", err.message);
        return -1;
    }
    assert_int_equal(rows.count, 1);
    int on = ((rp_probe *)rows.items)[0].standby;
    kura_rows_free(&rows);
    return on;
}

/* The store's replica as kura_store_nodes reports it now. */
static kura_store_node replica_node(kura_store *db)
{
    kura_store_node nodes[4];
    assert_int_equal(kura_store_nodes(db, nodes, 4), 2);
    assert_true(nodes[0].primary);
    assert_false(nodes[1].primary);
    return nodes[1];
}

/* Waits up to 10 s until the replica is in use (want) or not; fails otherwise. */
static void wait_replica(kura_store *db, bool want)
{
    kura_store_node n;
    for (int i = 0; i < 200; i++) {
        n = replica_node(db);
        if (n.in_use == want)
            return;
        sleep_ms(50);
    }
    fail_msg("replica still %s after 10 s (up %d, lag %lld bytes %lld ms: %s)",
             want ? "unused" : "in use", n.up, (long long)n.lag_bytes, (long long)n.lag_ms, n.why);
}

static int setup(void **state)
{
    (void)state;
    int fd = mkstemp(kv_path);
    if (fd >= 0)
        close(fd);
    kura_app *app = open_app("1000", "0");
    kura_error err = {0};
    kura_store *db = kura_app_db(app);
    assert_true(kura_drop(db, &rp_item_model, &err));
    assert_true(kura_create(db, &rp_item_model, &err));
    kura_app_close(app);
    /* The tests start once the standby has the table (a read of a table it lacks
     * would leave it out until the next check). */
    PGconn *c = raw(standby_url);
    long long there = 0;
    for (int i = 0; i < 200 && there != 1; i++) {
        there = raw_value(c, "SELECT count(*) FROM pg_class WHERE relname = 'rp_item'");
        if (there != 1)
            sleep_ms(25);
    }
    PQfinish(c);
    assert_int_equal(there, 1);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    unlink(kv_path);
    return 0;
}

static void test_reads_go_to_the_replica(void **state)
{
    (void)state;
    kura_app *app = open_app("1000", "0");
    kura_store *db = kura_app_db(app);
    wait_replica(db, true);
    assert_int_equal(read_on_standby(db), 1);

    /* A row written behind the app's back (this thread wrote nothing) is read from the
     * standby once it has it; a count and a find go there too. */
    raw_once(primary_url, "INSERT INTO rp_item (name, n, created_at, updated_at) "
                          "VALUES ('raw', 1, now(), now())");
    kura_query q = kura_query_for(&rp_item_model);
    kura_where_int(&q, "n", KURA_EQ, 1);
    int64_t count = 0;
    kura_error err = {0};
    for (int i = 0; i < 100 && count == 0; i++) {
        assert_true(kura_count(db, &q, &count, &err));
        if (!count)
            sleep_ms(20);
    }
    assert_int_equal(count, 1);
    kura_rows rows = {0};
    assert_true(kura_find(db, &q, &rows, &err));
    assert_int_equal(rows.count, 1);
    int64_t id = ((rp_item *)rows.items)[0].base.id;
    kura_rows_free(&rows);
    kura_store_node before = replica_node(db);
    rp_item it;
    assert_true(kura_get(db, &rp_item_model, id, &it, &err));
    assert_string_equal(it.name, "raw");
    kura_store_node after = replica_node(db);
    if (after.reads <= before.reads)
        fail_msg("the get went to the primary: replica in use %d, lag %lld bytes %lld ms: %s",
                 after.in_use, (long long)after.lag_bytes, (long long)after.lag_ms, after.why);
    assert_int_equal(after.failures, 0);
    kura_app_close(app);
}

/* The list's separators: white space and commas, and a comma between two URLs. */
static void test_a_list_of_replicas(void **state)
{
    (void)state;
    char list[2048];
    snprintf(list, sizeof list, " %s,\n%s , %s,%s ", standby_url, standby_url, standby_url,
             standby_url);
    kura_app *app = open_app_with(list, "1000", "0");
    kura_store *db = kura_app_db(app);
    kura_store_node nodes[8];
    assert_int_equal(kura_store_nodes(db, nodes, 8), 5);
    for (int i = 1; i < 5; i++) {
        if (!nodes[i].in_use)
            fail_msg("replica %d: %s", i, nodes[i].why);
        assert_null(strstr(nodes[i].name, ","));
    }
    /* Round-robin: four reads, one on each. */
    for (int i = 0; i < 4; i++)
        assert_int_equal(read_on_standby(db), 1);
    assert_int_equal(kura_store_nodes(db, nodes, 8), 5);
    for (int i = 1; i < 5; i++)
        assert_int_equal(nodes[i].reads, 1);
    kura_app_close(app);
}

static void test_a_thread_reads_its_own_writes(void **state)
{
    (void)state;
    kura_app *app = open_app("1000", "0");
    kura_store *db = kura_app_db(app);
    wait_replica(db, true);
    kura_error err = {0};
    for (int i = 0; i < 30; i++) {
        rp_item it, back;
        kura_init(&rp_item_model, &it);
        snprintf(it.name, sizeof it.name, "ryw%d", i);
        it.n = 100 + i;
        assert_true(kura_insert(db, &rp_item_model, &it, &err));
        /* At once: the replica has not been seen to replay it, so the primary answers. */
        if (!kura_get(db, &rp_item_model, it.base.id, &back, &err))
            fail_msg("write %d not read back: %s", i, err.message);
        assert_string_equal(back.name, it.name);
        back.n = 1000 + i;
        assert_true(kura_update(db, &rp_item_model, &back, &err));
        kura_query q = kura_query_for(&rp_item_model);
        kura_where_int(&q, "n", KURA_EQ, 1000 + i);
        int64_t count = 0;
        assert_true(kura_count(db, &q, &count, &err));
        assert_int_equal(count, 1);
    }
    /* Once a check sees the replica past the write, reads go back to it (the primary
     * answered until then: test_whose_writes_a_read_sees pins that down without timing). */
    int on = 0;
    for (int i = 0; i < 100 && on != 1; i++) {
        sleep_ms(20);
        on = read_on_standby(db);
    }
    assert_int_equal(on, 1);
    kura_app_close(app);
}

typedef struct probe_arg {
    kura_store *db;
    int on;
} probe_arg;

static void *probe_thread(void *arg)
{
    probe_arg *p = arg;
    p->on = read_on_standby(p->db);
    return NULL;
}

/* Right after a write, before a check can have seen the replica replay it: another
 * thread reads from the primary when the context is the app (the default), from the
 * replica when it is the thread. */
static void whose_writes(const char *mode, int other_thread_on)
{
    /* One check, at opening: none runs between the write and the reads. */
    ryw_mode = mode;
    check_ms = "600000";
    kura_app *app = open_app("1000", "0");
    ryw_mode = "app";
    check_ms = "50";
    kura_store *db = kura_app_db(app);
    assert_true(replica_node(db).in_use);
    kura_error err = {0};
    rp_item it;
    kura_init(&rp_item_model, &it);
    kura_copy_string(it.name, sizeof it.name, mode);
    it.n = 40000 + (int)strlen(mode);
    assert_true(kura_insert(db, &rp_item_model, &it, &err));
    probe_arg p = {db, -1};
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, probe_thread, &p), 0);
    pthread_join(t, NULL);
    assert_int_equal(read_on_standby(db), 0); /* the writer itself: the primary */
    print_message("%s: another thread read from the %s\n", mode, p.on ? "replica" : "primary");
    assert_int_equal(p.on, other_thread_on);
    kura_app_close(app);
}

static void test_whose_writes_a_read_sees(void **state)
{
    (void)state;
    whose_writes("app", 0);
    whose_writes("thread", 1);
}

static void test_transactions_and_migrations_stay_on_the_primary(void **state)
{
    (void)state;
    kura_app *app = open_app("1000", "0");
    kura_store *db = kura_app_db(app);
    wait_replica(db, true);
    kura_error err = {0};
    assert_true(kura_begin(db, &err));
    assert_int_equal(read_on_standby(db), 0);
    rp_item it;
    kura_init(&rp_item_model, &it);
    kura_copy_string(it.name, sizeof it.name, "tx");
    it.n = 5000;
    assert_true(kura_insert(db, &rp_item_model, &it, &err));
    rp_item back;
    assert_true(kura_get(db, &rp_item_model, it.base.id, &back, &err)); /* uncommitted: primary */
    assert_int_equal(read_on_standby(db), 0);
    assert_true(kura_commit(db, &err));

    /* A dry-run migration reads the catalogue, from the primary. */
    uint64_t reads = replica_node(db).reads;
    const kura_model *models[] = {&rp_item_model};
    assert_true(kura_migrate(db, models, 1, KURA_MIGRATE_DRY_RUN, NULL, NULL, NULL, NULL, &err));
    assert_true(kura_migrate(db, models, 1, 0, NULL, NULL, NULL, NULL, &err));
    assert_int_equal(replica_node(db).reads, reads);
    kura_app_close(app);
}

static void test_a_stopped_replica_is_skipped(void **state)
{
    (void)state;
    kura_app *app = open_app("1000", "0");
    kura_store *db = kura_app_db(app);
    wait_replica(db, true);
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "'%s' stop -m fast >/dev/null 2>&1", standby_ctl);
    assert_int_equal(system(cmd), 0);
    /* The first read may find it gone (and go to the primary); none fails. */
    kura_error err = {0};
    for (int i = 0; i < 20; i++) {
        assert_int_equal(read_on_standby(db), 0);
        kura_query q = kura_query_for(&rp_item_model);
        int64_t count = -1;
        if (!kura_count(db, &q, &count, &err))
            fail_msg("count with the replica down: %s", err.message);
        sleep_ms(10);
    }
    kura_store_node n = replica_node(db);
    assert_false(n.in_use);
    assert_false(n.up);
    print_message("replica down: %s\n", n.why);
    snprintf(cmd, sizeof cmd, "'%s' start >/dev/null 2>&1", standby_ctl);
    assert_int_equal(system(cmd), 0);
    wait_replica(db, true);
    assert_int_equal(read_on_standby(db), 1);
    kura_app_close(app);
}

/* Pauses the standby's replay, writes on the primary, and waits for the bound. */
static void lag_case(const char *max_ms, const char *max_bytes, const char *expect)
{
    kura_app *app = open_app(max_ms, max_bytes);
    kura_store *db = kura_app_db(app);
    wait_replica(db, true);
    raw_once(standby_url, "SELECT pg_wal_replay_pause()");
    sleep_ms(300);
    raw_once(primary_url, "INSERT INTO rp_item (name, n, created_at, updated_at) "
                          "SELECT 'lag', 20000 + g, now(), now() FROM generate_series(1, 100) g");
    wait_replica(db, false);
    kura_store_node n = replica_node(db);
    print_message("paused replica: %s\n", n.why);
    assert_non_null(strstr(n.why, expect));
    assert_int_equal(read_on_standby(db), 0);
    raw_once(standby_url, "SELECT pg_wal_replay_resume()");
    wait_replica(db, true);
    assert_int_equal(read_on_standby(db), 1);
    raw_once(primary_url, "DELETE FROM rp_item WHERE name = 'lag'");
    kura_app_close(app);
}

static void test_a_lagging_replica_is_skipped(void **state)
{
    (void)state;
    lag_case("200", "0", "ms behind (bound 200)");
    lag_case("0", "1024", "bytes behind (bound 1024)");
}

/* ---- writes whose outcome is unknown ---------------------------------------- */

typedef struct blocked_write {
    kura_store *db;
    bool in_tx;
    bool ok;
    kura_error err;
} blocked_write;

static void *write_thread(void *arg)
{
    blocked_write *w = arg;
    rp_item it;
    kura_init(&rp_item_model, &it);
    kura_copy_string(it.name, sizeof it.name, w->in_tx ? "unknown-tx" : "unknown");
    it.n = w->in_tx ? 30001 : 30000;
    if (w->in_tx) {
        w->ok = kura_begin(w->db, &w->err) && kura_insert(w->db, &rp_item_model, &it, &w->err) &&
                kura_commit(w->db, &w->err);
        if (!w->ok && kura_transaction_depth(w->db) > 0) {
            kura_error ignored;
            kura_rollback(w->db, &ignored);
        }
    } else {
        w->ok = kura_insert(w->db, &rp_item_model, &it, &w->err);
    }
    return NULL;
}

/*
 * With synchronous_standby_names set and the standby stopped, a commit waits
 * for the standby; terminating its backend then loses the connection after the
 * primary committed locally: the write happened, and kura must say it cannot
 * know, never "failed", and never run it again.
 */
static void lost_write(bool in_tx)
{
    kura_app *app = open_app("1000", "0");
    kura_store *db = kura_app_db(app);
    PGconn *admin = raw(primary_url);
    raw_value(admin, "ALTER SYSTEM SET synchronous_standby_names = '*'");
    raw_value(admin, "SELECT pg_reload_conf()");
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "'%s' stop -m fast >/dev/null 2>&1", standby_ctl);
    assert_int_equal(system(cmd), 0);

    blocked_write w = {.db = db, .in_tx = in_tx};
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, write_thread, &w), 0);
    long long pid = -1;
    for (int i = 0; i < 200 && pid <= 0; i++) {
        sleep_ms(25);
        pid = raw_value(admin, "SELECT coalesce(max(pid), 0) FROM pg_stat_activity "
                               "WHERE wait_event = 'SyncRep'");
    }
    assert_true(pid > 0);
    char sql[128];
    snprintf(sql, sizeof sql, "SELECT pg_terminate_backend(%lld)", pid);
    raw_value(admin, sql);
    pthread_join(t, NULL);
    assert_false(w.ok);
    print_message("%s: %s: %s\n", in_tx ? "COMMIT" : "INSERT", kura_code_name(w.err.code),
                  w.err.message);
    assert_int_equal(w.err.code, KURA_OUTCOME_UNKNOWN);
    assert_non_null(strstr(w.err.message, "outcome unknown"));

    raw_value(admin, "ALTER SYSTEM RESET synchronous_standby_names");
    raw_value(admin, "SELECT pg_reload_conf()");
    /* Committed locally, once: not retried. */
    snprintf(sql, sizeof sql, "SELECT count(*) FROM rp_item WHERE n = %d", in_tx ? 30001 : 30000);
    assert_int_equal(raw_value(admin, sql), 1);
    PQfinish(admin);
    snprintf(cmd, sizeof cmd, "'%s' start >/dev/null 2>&1", standby_ctl);
    assert_int_equal(system(cmd), 0);
    kura_app_close(app);
}

static void test_a_lost_insert_is_outcome_unknown(void **state)
{
    (void)state;
    lost_write(false);
}

static void test_a_lost_commit_is_outcome_unknown(void **state)
{
    (void)state;
    lost_write(true);
}

static void test_sqlite_has_no_replicas(void **state)
{
    (void)state;
    kura_config *cfg = kura_config_new();
    kura_error err = {0};
    assert_true(kura_config_set(cfg, "database_url", "sqlite://:memory:", &err));
    assert_true(kura_config_set(cfg, "database_replica_urls", "sqlite://:memory:", &err));
    assert_null(kura_app_open(cfg, &err));
    assert_int_equal(err.code, KURA_CONFIG);
    assert_true(kura_config_set(cfg, "database_url", "postgresql:///x", &err));
    assert_true(kura_config_set(cfg, "database_replica_max_lag_ms", "soon", &err));
    assert_null(kura_app_open(cfg, &err));
    assert_int_equal(err.code, KURA_CONFIG);
    kura_config_free(cfg);
}

static void no_pair(void **state)
{
    (void)state;
    KURA_SKIP_NO_SERVER("KURA_TEST_PG_PRIMARY_URL / KURA_TEST_PG_STANDBY_URL not set (the "
                        "replica tests need the test command's primary + standby pair)");
}

int main(void)
{
    primary_url = getenv("KURA_TEST_PG_PRIMARY_URL");
    standby_url = getenv("KURA_TEST_PG_STANDBY_URL");
    standby_ctl = getenv("KURA_TEST_PG_STANDBY_CTL");
    const struct CMUnitTest always[] = {cmocka_unit_test(test_sqlite_has_no_replicas)};
    int rc = cmocka_run_group_tests_name("replica config", always, NULL, NULL);
    if (!primary_url || !standby_url || !standby_ctl || !*primary_url) {
        const struct CMUnitTest t[] = {cmocka_unit_test(no_pair)};
        return rc | cmocka_run_group_tests_name("pg replicas", t, NULL, NULL);
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reads_go_to_the_replica),
        cmocka_unit_test(test_a_list_of_replicas),
        cmocka_unit_test(test_a_thread_reads_its_own_writes),
        cmocka_unit_test(test_whose_writes_a_read_sees),
        cmocka_unit_test(test_transactions_and_migrations_stay_on_the_primary),
        cmocka_unit_test(test_a_stopped_replica_is_skipped),
        cmocka_unit_test(test_a_lagging_replica_is_skipped),
        cmocka_unit_test(test_a_lost_insert_is_outcome_unknown),
        cmocka_unit_test(test_a_lost_commit_is_outcome_unknown),
    };
    return rc | cmocka_run_group_tests_name("pg replicas", tests, setup, teardown);
}
