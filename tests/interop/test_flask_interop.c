/*
 * test_flask_interop.c — kura and the guide's Flask-SQLAlchemy app share one
 * SQLite file: each reads what the other wrote, and the schemas match.
 * Needs Debian's python3-flask-sqlalchemy (the bootstrap installs it); without
 * it the test prints why and skips.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include <kura/kura.h>

#include "sa_user.h"

#define PYTHON "/usr/bin/python3"

static char dir[64];
static char path_py[128], path_kura[128];

/* Runs the Flask app with args; returns its stdout (static buffer) or NULL. */
static const char *flask(const char *db, const char *args)
{
    static char out[8192];
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "%s '%s' '%s' %s", PYTHON, KURA_INTEROP_SCRIPT, db, args);
    FILE *p = popen(cmd, "r");
    if (!p)
        return NULL;
    size_t n = fread(out, 1, sizeof out - 1, p);
    out[n] = '\0';
    return pclose(p) == 0 ? out : NULL;
}

static kura_store *open_db(const char *path)
{
    char url[256];
    snprintf(url, sizeof url, "sqlite:///%s", path);
    kura_error err = {0};
    kura_store *db = kura_store_open(url, &err);
    if (!db)
        fail_msg("open %s: %s", url, err.message);
    return db;
}

static void test_kura_reads_and_writes_a_flask_database(void **state)
{
    (void)state;
    assert_non_null(flask(path_py, "create"));
    assert_non_null(flask(path_py, "add py py@example.com 30 F"));

    kura_store *db = open_db(path_py);
    kura_error err = {0};
    assert_true(kura_create(db, &sa_user_model, &err)); /* idempotent on Flask's table */
    sa_user u;
    assert_true(kura_get(db, &sa_user_model, 1, &u, &err));
    assert_string_equal(u.name, "py");
    assert_string_equal(u.email, "py@example.com");
    assert_int_equal(u.age, 30);
    assert_true(u.base.created_at > 0);
    char when[KURA_TIME_TEXT];
    kura_time_format(u.base.created_at, when);

    sa_user k;
    kura_init(&sa_user_model, &k);
    kura_copy_string(k.name, sizeof k.name, "kura");
    kura_copy_string(k.email, sizeof k.email, "kura@example.com");
    k.age = 30;
    sa_user_change_sex(&k, "M");
    assert_true(kura_save(db, &sa_user_model, &k, &err));
    char kura_when[KURA_TIME_TEXT];
    kura_time_format(k.base.created_at, kura_when);
    kura_store_close(db);

    const char *dump = flask(path_py, "dump");
    assert_non_null(dump);
    char expect[256];
    snprintf(expect, sizeof expect, "\"created_at\": \"%s\"", when);
    assert_non_null(strstr(dump, expect)); /* the microseconds Python wrote, read back */
    assert_non_null(strstr(dump, "\"name\": \"kura\""));
    snprintf(expect, sizeof expect, "\"created_at\": \"%s\"", kura_when);
    assert_non_null(strstr(dump, expect)); /* Python reads kura's stamp exactly */
    /* fetch_30_age on the Python side finds kura's row. */
    const char *kline = strstr(dump, "\"name\": \"kura\"");
    assert_non_null(strstr(kline, "\"thirty\": true"));
}

static void test_schemas_match(void **state)
{
    (void)state;
    kura_store *db = open_db(path_kura);
    kura_error err = {0};
    assert_true(kura_create(db, &sa_user_model, &err));
    kura_store_close(db);
    /* flask() answers in one static buffer: keep a copy of the first answer. */
    const char *s = flask(path_kura, "schema");
    assert_non_null(s);
    char *a = strdup(s);
    assert_non_null(a);
    s = flask(path_py, "schema");
    assert_non_null(s);
    assert_string_equal(a, s); /* same columns, types, NOT NULL and index names */
    free(a);
    /* And Flask can use the table kura made. */
    assert_non_null(flask(path_kura, "add fromflask f@example.com 41 F"));
}

static void skipped(void **state)
{
    (void)state;
    skip();
}

static void cleanup(void)
{
    const char *files[] = {path_py, path_kura};
    for (int i = 0; i < 2; i++) {
        char p[160];
        const char *sfx[] = {"", "-wal", "-shm", "-journal"};
        for (int j = 0; j < 4; j++) {
            snprintf(p, sizeof p, "%s%s", files[i], sfx[j]);
            unlink(p);
        }
    }
    rmdir(dir);
}

int main(void)
{
    if (system(PYTHON " -c 'import flask_sqlalchemy' 2>/dev/null") != 0) {
        printf("skipped: Flask-SQLAlchemy interop: %s cannot import flask_sqlalchemy "
               "(Debian package python3-flask-sqlalchemy)\n",
               PYTHON);
        const struct CMUnitTest t[] = {cmocka_unit_test(skipped)};
        return cmocka_run_group_tests(t, NULL, NULL);
    }
    snprintf(dir, sizeof dir, "/tmp/kura-interop-XXXXXX");
    if (!mkdtemp(dir))
        return 1;
    snprintf(path_py, sizeof path_py, "%s/flask.db", dir);
    snprintf(path_kura, sizeof path_kura, "%s/kura.db", dir);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_kura_reads_and_writes_a_flask_database),
        cmocka_unit_test(test_schemas_match),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    cleanup();
    return rc;
}
