/*
 * test_kv_app.c — the app's key-value store and secret: "embedded:" lives in
 * the database file and survives a restart, expired keys are purged from its
 * tables, the secret file is made once (0600) and reused, never seen half
 * written by apps starting at the same moment, a secret others can read is
 * refused, and bad settings fail at start-up.
 */
#include <dirent.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include <kura/kura.h>

#include "servers.h"

static char db[128], db_url[160], secret_file[160];

static void cleanup(void)
{
    const char *suffix[] = {"", "-wal", "-shm", ".secret"};
    char p[200];
    for (int i = 0; i < 4; i++) {
        snprintf(p, sizeof p, "%s%s", db, suffix[i]);
        unlink(p);
    }
}

static kura_app *open_app(const char *database_url, const char *redis_url, const char *secret,
                          kura_error *err)
{
    kura_config *cfg = kura_config_new();
    kura_config_set(cfg, "database_url", database_url, err);
    if (redis_url)
        kura_config_set(cfg, "redis_url", redis_url, err);
    if (secret)
        kura_config_set(cfg, "secret", secret, err);
    kura_app *app = kura_app_open(cfg, err);
    kura_config_free(cfg);
    return app;
}

static int64_t count_rows(const char *table)
{
    sqlite3 *h;
    sqlite3_stmt *st;
    char sql[96];
    snprintf(sql, sizeof sql, "SELECT count(*) FROM %s", table);
    assert_int_equal(sqlite3_open(db, &h), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(h, sql, -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    int64_t n = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(h);
    return n;
}

/* Whether the database file has a table named `name`. */
static bool has_table(const char *name)
{
    sqlite3 *h;
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_open(db, &h), SQLITE_OK);
    assert_int_equal(
        sqlite3_prepare_v2(h, "SELECT count(*) FROM sqlite_master WHERE name = ?", -1, &st, NULL),
        SQLITE_OK);
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    bool found = sqlite3_column_int64(st, 0) > 0;
    sqlite3_finalize(st);
    sqlite3_close(h);
    return found;
}

/* An app that never uses its key-value store leaves no kura_kv tables in the
 * user's database; the first use makes them. */
static void test_tables_on_first_use(void **state)
{
    (void)state;
    cleanup();
    kura_error err = {0};
    kura_app *app = open_app(db_url, NULL, NULL, &err);
    assert_non_null(app);
    assert_true(
        kura_sql_exec(kura_app_db(app), "CREATE TABLE mine (x INTEGER)", NULL, 0, NULL, &err));
    kura_app_close(app);
    assert_true(has_table("mine"));
    assert_false(has_table("kura_kv"));

    app = open_app(db_url, NULL, NULL, &err);
    assert_non_null(app);
    bool exists = true;
    assert_true(kura_kv_exists(kura_app_kv(app), "k", &exists, &err));
    assert_false(exists);
    kura_app_close(app);
    assert_true(has_table("kura_kv"));
    cleanup();
}

static void test_embedded_in_the_database_file(void **state)
{
    (void)state;
    kura_error err = {0};
    kura_app *app = open_app(db_url, NULL, NULL, &err);
    assert_non_null(app);
    kura_kv *kv = kura_app_kv(app);
    assert_string_equal(kura_kv_driver(kv), "embedded");
    assert_true(kura_kv_set(kv, "kept", "across restarts", 15, 0, &err));
    assert_true(kura_kv_zadd(kv, "board", "alice", 3, NULL, &err));
    assert_true(kura_kv_set(kv, "short", "lived", 5, 60, &err));
    assert_true(kura_kv_zadd(kv, "short-board", "x", 1, NULL, &err));
    assert_true(kura_kv_expire(kv, "short-board", 60, NULL, &err));
    kura_app_close(app);
    /* The same file holds the key-value tables. */
    assert_int_equal(count_rows("kura_kv"), 4);

    struct timespec ts = {0, 150000000};
    nanosleep(&ts, NULL);
    app = open_app(db_url, "embedded:", NULL, &err);
    assert_non_null(app);
    kv = kura_app_kv(app);
    kura_bytes v = {0};
    assert_true(kura_kv_get(kv, "kept", &v, &err));
    assert_string_equal(v.data, "across restarts");
    kura_bytes_free(&v);
    assert_true(kura_kv_get(kv, "short", &v, &err));
    assert_null(v.data); /* expired while the app was down */
    double score;
    bool found;
    assert_true(kura_kv_zscore(kv, "board", "alice", &score, &found, &err));
    assert_true(found && score == 3);
    int64_t purged = 0;
    assert_true(kura_kv_purge(kv, &purged, &err));
    assert_int_equal(purged, 2);
    assert_int_equal(count_rows("kura_kv"), 2);
    assert_int_equal(count_rows("kura_kv_zset"), 1); /* the expired set's members went too */
    kura_app_close(app);
}

static void test_secret_file(void **state)
{
    (void)state;
    kura_error err = {0};
    kura_app *app = open_app(db_url, NULL, NULL, &err);
    assert_non_null(app);
    /* Made at its first use, not when the app opens: an app that never signs a
     * cookie leaves no secret file behind. */
    struct stat st;
    assert_int_not_equal(stat(secret_file, &st), 0);
    size_t len = 0;
    const unsigned char *s1 = kura_app_secret(app, &len, &err);
    assert_non_null(s1);
    assert_ptr_equal(kura_app_secret(app, &len, &err), s1); /* made once */
    assert_int_equal(len, 32);
    unsigned char first[32];
    memcpy(first, s1, 32);
    assert_int_equal(stat(secret_file, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    assert_int_equal(st.st_size, 32);
    kura_app_close(app);

    app = open_app(db_url, NULL, NULL, &err);
    assert_non_null(app);
    assert_memory_equal(kura_app_secret(app, &len, &err), first, 32); /* kept */
    kura_app_close(app);

    /* A configured secret wins; a short one is refused. */
    app = open_app(db_url, NULL, "configured secret, long enough", &err);
    assert_non_null(app);
    const unsigned char *configured = kura_app_secret(app, &len, &err); /* before len is read */
    assert_int_equal(len, strlen("configured secret, long enough"));
    assert_memory_equal(configured, "configured secret, long enough", len);
    kura_app_close(app);
    assert_null(open_app(db_url, NULL, "short", &err));
    assert_int_equal(err.code, KURA_CONFIG);

    /* A secret file others can read is refused, not used: at its first use,
     * as an error (the app itself opens). */
    chmod(secret_file, 0644);
    app = open_app(db_url, NULL, NULL, &err);
    assert_non_null(app);
    assert_null(kura_app_secret(app, &len, &err));
    assert_int_equal(len, 0);
    assert_int_equal(err.code, KURA_CONFIG);
    assert_non_null(strstr(err.message, "chmod 600"));
    kura_app_close(app);
    chmod(secret_file, 0600);
    assert_int_equal(truncate(secret_file, 5), 0);
    app = open_app(db_url, NULL, NULL, &err);
    assert_non_null(app);
    assert_null(kura_app_secret(app, &len, &err));
    assert_int_equal(err.code, KURA_CONFIG);
    kura_app_close(app);
    unlink(secret_file);

    /* In memory: an ephemeral secret per app, no file. */
    kura_app *a = open_app("sqlite://:memory:", NULL, NULL, &err);
    kura_app *b = open_app("sqlite://:memory:", NULL, NULL, &err);
    assert_non_null(a);
    assert_non_null(b);
    assert_memory_not_equal(kura_app_secret(a, &len, &err), kura_app_secret(b, &len, &err), 32);
    assert_string_equal(kura_kv_driver(kura_app_kv(a)), "embedded");
    assert_true(kura_kv_set(kura_app_kv(a), "only-in-a", "1", 1, 0, &err));
    kura_bytes v = {0};
    assert_true(kura_kv_get(kura_app_kv(b), "only-in-a", &v, &err));
    assert_null(v.data);
    kura_app_close(a);
    kura_app_close(b);
}

/* Apps opening one fresh database at the same moment (a service and a command,
 * workers): each must get the one secret, whole. The secret file is only ever
 * seen complete: it is written under a temporary name and linked into place, so
 * neither a racing start nor a start killed half way (kill -9, a crash) can leave
 * a short file that every later start refuses. */
enum { RACERS = 8, RACE_ROUNDS = 40 };

typedef struct racer {
    pthread_barrier_t *go;
    const char *url;
    unsigned char secret[32];
    bool ok;
    char message[256];
} racer;

static void *race_open(void *arg)
{
    racer *r = arg;
    kura_error err = {0};
    pthread_barrier_wait(r->go);
    kura_app *app = open_app(r->url, NULL, NULL, &err);
    r->ok = app != NULL;
    if (app) {
        size_t len = 0;
        const unsigned char *s = kura_app_secret(app, &len, &err);
        r->ok = s && len == sizeof r->secret;
        if (r->ok)
            memcpy(r->secret, s, sizeof r->secret);
        else
            snprintf(r->message, sizeof r->message, "%s", err.message);
        kura_app_close(app);
    } else {
        snprintf(r->message, sizeof r->message, "%s", err.message);
    }
    return NULL;
}

static void test_secret_file_race(void **state)
{
    (void)state;
    char dir[] = "/tmp/kura-secret-race.XXXXXX";
    assert_non_null(mkdtemp(dir));
    for (int round = 0; round < RACE_ROUNDS; round++) {
        char file[96], url[128];
        snprintf(file, sizeof file, "%s/r%d.db", dir, round);
        snprintf(url, sizeof url, "sqlite:///%s", file);
        /* The database exists (in WAL mode), its secret does not yet: the race is the
         * secret's alone. */
        sqlite3 *h;
        assert_int_equal(sqlite3_open(file, &h), SQLITE_OK);
        assert_int_equal(sqlite3_exec(h, "PRAGMA journal_mode=WAL", NULL, NULL, NULL), SQLITE_OK);
        sqlite3_close(h);
        pthread_barrier_t go;
        pthread_barrier_init(&go, NULL, RACERS);
        racer rs[RACERS];
        pthread_t th[RACERS];
        for (int i = 0; i < RACERS; i++) {
            rs[i] = (racer){.go = &go, .url = url};
            assert_int_equal(pthread_create(&th[i], NULL, race_open, &rs[i]), 0);
        }
        for (int i = 0; i < RACERS; i++)
            pthread_join(th[i], NULL);
        pthread_barrier_destroy(&go);
        for (int i = 0; i < RACERS; i++) {
            if (!rs[i].ok)
                fail_msg("round %d, app %d: %s", round, i, rs[i].message);
            assert_memory_equal(rs[i].secret, rs[0].secret, 32); /* one secret for all */
        }
    }
    /* Nothing is left behind but the databases and their secrets. */
    DIR *d = opendir(dir);
    assert_non_null(d);
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        const char *dot = strchr(e->d_name, '.');
        if (!dot || (strcmp(dot, ".db") != 0 && strcmp(dot, ".db-wal") != 0 &&
                     strcmp(dot, ".db-shm") != 0 && strcmp(dot, ".db.secret") != 0))
            fail_msg("left behind: %s", e->d_name);
        char p[sizeof dir + sizeof e->d_name + 1];
        snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
        unlink(p);
    }
    closedir(d);
    assert_int_equal(rmdir(dir), 0);
}

/* KURA_DATABASE_URL=postgresql://... and nothing else: the app starts, its key-value
 * store lives in ./kura-kv.db and its secret, once made, in ./kura-kv.db.secret, and it
 * says so once through kura_app_notice. */
static void test_postgresql_alone(void **state)
{
    (void)state;
    const char *pg = getenv("KURA_TEST_PG_URL");
    if (!pg || !*pg) {
        KURA_SKIP_NO_SERVER("KURA_TEST_PG_URL not set");
    }
    char cwd[512], dir[] = "/tmp/kura-kv-app.XXXXXX";
    assert_non_null(getcwd(cwd, sizeof cwd));
    assert_non_null(mkdtemp(dir));
    assert_int_equal(chdir(dir), 0);
    kura_error err = {0};
    kura_app *app = open_app(pg, NULL, NULL, &err);
    assert_non_null(app);
    assert_non_null(kura_app_notice(app));
    assert_non_null(strstr(kura_app_notice(app), "kura-kv.db"));
    kura_kv *kv = kura_app_kv(app);
    assert_string_equal(kura_kv_driver(kv), "embedded");
    assert_true(kura_kv_set(kv, "k", "v", 1, 0, &err));
    struct stat st;
    assert_int_not_equal(stat("kura-kv.db.secret", &st), 0); /* made at first use */
    size_t len = 0;
    assert_non_null(kura_app_secret(app, &len, &err));
    kura_app_close(app);
    assert_int_equal(stat("kura-kv.db", &st), 0);
    assert_int_equal(stat("kura-kv.db.secret", &st), 0);
    assert_int_equal(st.st_mode & 077, 0);
    /* Reopened, the data is there; a SQLite app has nothing to say. */
    app = open_app(pg, "embedded:", NULL, &err);
    assert_non_null(app);
    kura_bytes v = {0};
    assert_true(kura_kv_get(kura_app_kv(app), "k", &v, &err));
    assert_non_null(v.data);
    assert_memory_equal(v.data, "v", 1);
    kura_bytes_free(&v);
    kura_app_close(app);
    app = open_app("sqlite://:memory:", NULL, NULL, &err);
    assert_non_null(app);
    assert_null(kura_app_notice(app));
    kura_app_close(app);
    const char *files[] = {"kura-kv.db", "kura-kv.db-wal", "kura-kv.db-shm", "kura-kv.db.secret"};
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++)
        unlink(files[i]);
    assert_int_equal(chdir(cwd), 0);
    assert_int_equal(rmdir(dir), 0);
}

static void test_bad_settings(void **state)
{
    (void)state;
    kura_error err = {0};
    assert_null(open_app(db_url, "redis://localhost:notaport", NULL, &err));
    assert_int_equal(err.code, KURA_CONFIG);
    assert_null(open_app(db_url, "memcached://x", NULL, &err));
    assert_int_equal(err.code, KURA_CONFIG);
    /* A Redis that is not up yet does not stop the app; calls fail until it is. */
    kura_app *app = open_app(db_url, "redis://127.0.0.1:1/0?timeout=200", NULL, &err);
    assert_non_null(app);
    assert_false(kura_kv_ping(kura_app_kv(app), &err));
    assert_int_equal(err.code, KURA_UNAVAILABLE);
    kura_app_close(app);
}

int main(void)
{
    snprintf(db, sizeof db, "test_kv_app_%ld.db", (long)getpid());
    snprintf(db_url, sizeof db_url, "sqlite:///%s", db);
    snprintf(secret_file, sizeof secret_file, "%s.secret", db);
    cleanup();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tables_on_first_use),
        cmocka_unit_test(test_embedded_in_the_database_file),
        cmocka_unit_test(test_secret_file),
        cmocka_unit_test(test_secret_file_race),
        cmocka_unit_test(test_bad_settings),
        cmocka_unit_test(test_postgresql_alone),
    };
    int failed = cmocka_run_group_tests_name("kv app", tests, NULL, NULL);
    cleanup();
    return failed ? 1 : 0;
}
