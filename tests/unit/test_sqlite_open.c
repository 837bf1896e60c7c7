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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_new_file_opened_at_once),
        cmocka_unit_test(test_new_kv_file_opened_at_once),
    };
    return cmocka_run_group_tests_name("sqlite open", tests, NULL, NULL);
}
