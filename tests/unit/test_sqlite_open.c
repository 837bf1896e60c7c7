/*
 * test_sqlite_open.c — programs opening one new SQLite database at the same moment
 * (a service and a command, several workers) all open it, in WAL mode: a SQL store
 * (sqlite:) and an embedded key-value store on a file of its own (embedded:).
 *
 * Switching a new file to WAL needs an exclusive lock, and SQLite does not call the
 * busy handler where waiting could deadlock: two connections switching at once got
 * "database is locked" at once, whatever busy_timeout said. Both drivers retry the
 * switch within busy_timeout (base/sqlite_busy.c).
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
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include <kura/kura.h>

enum { OPENERS = 8, ROUNDS = 40 };

typedef struct opener {
    pthread_barrier_t *go;
    const char *url;
    bool kv; /* kura_kv_open, else kura_store_open */
    bool ok;
    char message[320];
} opener;

static void *open_store(void *arg)
{
    opener *o = arg;
    kura_error err = {0};
    pthread_barrier_wait(o->go);
    if (o->kv) {
        kura_kv *kv = kura_kv_open(o->url, &err);
        /* A first write creates the tables: the file is opened in earnest. */
        o->ok = kv && kura_kv_set(kv, "k", "v", 1, 0, &err);
        kura_kv_close(kv);
    } else {
        kura_store *s = kura_store_open(o->url, &err);
        o->ok = s != NULL;
        kura_store_close(s);
    }
    if (!o->ok)
        snprintf(o->message, sizeof o->message, "%s: %s", kura_code_name(err.code), err.message);
    return NULL;
}

static void open_new_files_at_once(const char *scheme, bool kv)
{
    char dir[] = "/tmp/kura-sqlite-open.XXXXXX";
    assert_non_null(mkdtemp(dir));
    for (int round = 0; round < ROUNDS; round++) {
        char file[96], url[128];
        snprintf(file, sizeof file, "%s/r%d.db", dir, round);
        snprintf(url, sizeof url, "%s:///%s", scheme, file);
        pthread_barrier_t go;
        pthread_barrier_init(&go, NULL, OPENERS);
        opener os[OPENERS];
        pthread_t th[OPENERS];
        for (int i = 0; i < OPENERS; i++) {
            os[i] = (opener){.go = &go, .url = url, .kv = kv};
            assert_int_equal(pthread_create(&th[i], NULL, open_store, &os[i]), 0);
        }
        for (int i = 0; i < OPENERS; i++)
            pthread_join(th[i], NULL);
        pthread_barrier_destroy(&go);
        for (int i = 0; i < OPENERS; i++)
            if (!os[i].ok)
                fail_msg("%s, round %d, store %d: %s", scheme, round, i, os[i].message);
        /* ... and the file is in WAL mode, as every store opened it. */
        sqlite3 *h;
        sqlite3_stmt *st;
        assert_int_equal(sqlite3_open(file, &h), SQLITE_OK);
        assert_int_equal(sqlite3_prepare_v2(h, "PRAGMA journal_mode", -1, &st, NULL), SQLITE_OK);
        assert_int_equal(sqlite3_step(st), SQLITE_ROW);
        assert_string_equal((const char *)sqlite3_column_text(st, 0), "wal");
        sqlite3_finalize(st);
        sqlite3_close(h);
    }
    DIR *d = opendir(dir);
    assert_non_null(d);
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        char p[sizeof dir + sizeof e->d_name + 1];
        snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
        unlink(p);
    }
    closedir(d);
    assert_int_equal(rmdir(dir), 0);
}

static void test_new_file_opened_at_once(void **state)
{
    (void)state;
    open_new_files_at_once("sqlite", false);
}

static void test_new_kv_file_opened_at_once(void **state)
{
    (void)state;
    open_new_files_at_once("embedded", true);
}

/* ---- memory defaults and their URL options --------------------------------------- */

typedef struct pragma_row {
    kura_base base;
    int32_t mmap_size;
    int32_t cache_size;
} pragma_row;

static const kura_model pragma_model =
    KURA_MODEL(pragma_row, "pragma_row", KURA_INT32(pragma_row, mmap_size),
               KURA_INT32(pragma_row, cache_size));

/* What "PRAGMA mmap_size" and "PRAGMA cache_size" say on a connection of `s`
 * (each result column maps onto the field of its name). */
static pragma_row pragmas(kura_store *s)
{
    pragma_row out = {0};
    static const char *const sql[] = {"PRAGMA mmap_size", "PRAGMA cache_size"};
    for (int i = 0; i < 2; i++) {
        kura_rows rows = {0};
        kura_error err = {0};
        if (!kura_sql_query(s, &pragma_model, sql[i], NULL, 0, &rows, &err))
            fail_msg("%s: %s", sql[i], err.message);
        assert_int_equal(rows.count, 1);
        const pragma_row *r = rows.items;
        if (i == 0)
            out.mmap_size = r->mmap_size;
        else
            out.cache_size = r->cache_size;
        kura_rows_free(&rows);
    }
    return out;
}

static kura_store *open_url(const char *dir, const char *options, kura_error *err)
{
    char url[512];
    snprintf(url, sizeof url, "sqlite:///%s/mem.db%s", dir, options);
    return kura_store_open(url, err);
}

/* Removes open_url's database files and their directory. */
static void remove_dir(const char *dir)
{
    char path[300];
    static const char *const files[] = {"mem.db", "mem.db-wal", "mem.db-shm"};
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, files[i]);
        unlink(path);
    }
    assert_int_equal(rmdir(dir), 0);
}

/* Every connection maps the file and has a page cache sized from the machine's memory
 * (within documented bounds); the URL options set either, and bad values are refused. */
static void test_memory_defaults_and_options(void **state)
{
    (void)state;
    char dir[] = "/tmp/kura-sqlite-mem-XXXXXX";
    assert_non_null(mkdtemp(dir));
    kura_error err = {0};
    kura_store *s = open_url(dir, "", &err);
    assert_non_null(s);
    pragma_row p = pragmas(s);
    assert_true(p.mmap_size > 0 && p.mmap_size <= 256 * 1024 * 1024);
    assert_true(p.cache_size <= -2 * 1024 && p.cache_size >= -1024 * 1024); /* KiB */
    kura_store_close(s);

    s = open_url(dir, "?mmap_size_mb=0&cache_size_mb=3", &err);
    assert_non_null(s);
    p = pragmas(s);
    assert_int_equal(p.mmap_size, 0);
    assert_int_equal(p.cache_size, -3 * 1024);
    kura_store_close(s);

    static const char *const bad[] = {"?mmap_size_mb=-1", "?cache_size_mb=0", "?cache_size_mb=lots",
                                      "?mmap_size=1"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_null(open_url(dir, bad[i], &err));
        assert_int_equal(err.code, KURA_CONFIG);
    }
    remove_dir(dir);
}

/* ---- datetime parameters ---------------------------------------------------------- */

/* The driver keeps a datetime parameter's text between runs and does not hand it to
 * SQLite again while the parameter still holds it (every row of a batch insert binds
 * the same stamps): a parameter bound to another value in between must get the
 * datetime again, and a new datetime its own text. */
static void test_datetime_parameter_rebound(void **state)
{
    (void)state;
    char dir[] = "/tmp/kura-sqlite-param-XXXXXX";
    assert_non_null(mkdtemp(dir));
    kura_error err = {0};
    kura_store *s = open_url(dir, "", &err);
    assert_non_null(s);
    assert_true(kura_sql_exec(s, "CREATE TABLE p (x TEXT)", NULL, 0, NULL, &err));
    kura_time t0 = INT64_C(1700000000123456), t1 = t0 + 1;
    const kura_value runs[] = {KURA_VTIME(t0), KURA_VSTR("abc"), KURA_VTIME(t0), KURA_VTIME(t0),
                               KURA_VNULL,     KURA_VTIME(t1),   KURA_VTIME(t0)};
    for (size_t i = 0; i < sizeof runs / sizeof runs[0]; i++)
        if (!kura_sql_exec(s, "INSERT INTO p (x) VALUES (?)", &runs[i], 1, NULL, &err))
            fail_msg("run %zu: %s", i, err.message);
    char text0[KURA_TIME_TEXT], text1[KURA_TIME_TEXT];
    kura_time_format(t0, text0);
    kura_time_format(t1, text1);
    const struct {
        kura_value v;
        int64_t rows;
    } want[] = {{KURA_VSTR(text0), 4}, {KURA_VSTR("abc"), 1}, {KURA_VSTR(text1), 1}};
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        int64_t deleted = -1;
        assert_true(kura_sql_exec(s, "DELETE FROM p WHERE x = ?", &want[i].v, 1, &deleted, &err));
        assert_int_equal(deleted, want[i].rows);
    }
    int64_t rest = -1;
    assert_true(kura_sql_exec(s, "DELETE FROM p WHERE x IS NULL", NULL, 0, &rest, &err));
    assert_int_equal(rest, 1);
    kura_store_close(s);
    remove_dir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_new_file_opened_at_once),
        cmocka_unit_test(test_new_kv_file_opened_at_once),
        cmocka_unit_test(test_memory_defaults_and_options),
        cmocka_unit_test(test_datetime_parameter_rebound),
    };
    return cmocka_run_group_tests_name("sqlite open", tests, NULL, NULL);
}
