/* test_app.c — configuration, URLs, the app object and its current-app context. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <unistd.h>

#include <cmocka.h>

#include <kura/kura.h>

#include "base/url.h"
#include "unit/t_user.h"

static void test_url_parse(void **state)
{
    (void)state;
    kura_url u;
    kura_error err = {0};
    assert_true(
        kura_url_parse("postgresql://bob:p%40ss@db.example:5433/app?pool=4&x=a+b", &u, &err));
    assert_string_equal(u.scheme, "postgresql");
    assert_string_equal(u.user, "bob");
    assert_string_equal(u.password, "p@ss");
    assert_string_equal(u.host, "db.example");
    assert_int_equal(u.port, 5433);
    assert_string_equal(u.path, "app");
    assert_string_equal(kura_url_param(&u, "pool"), "4");
    assert_string_equal(kura_url_param(&u, "x"), "a b");
    assert_null(kura_url_param(&u, "nope"));
    kura_url_free(&u);

    assert_true(kura_url_parse("sqlite:////abs/app.db", &u, &err));
    assert_null(u.host);
    assert_string_equal(u.path, "/abs/app.db");
    kura_url_free(&u);
    assert_true(kura_url_parse("redis://[::1]:6379/0", &u, &err));
    assert_string_equal(u.host, "::1");
    assert_int_equal(u.port, 6379);
    kura_url_free(&u);

    const char *bad[] = {
        "",           "nocolon",      "://x",        "pg://h:99999/db", "pg://h:x/db",
        "pg://h/%zz", "pg://h/a%00b", "pg://h/\x01", "pg://[::1/db",    "pg://h/db?=v"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        kura_error e = {0};
        assert_false(kura_url_parse(bad[i], &u, &e));
        assert_int_equal(e.code, KURA_CONFIG);
        assert_true(strlen(e.message) > 0);
    }
}

static void test_bad_store_urls_fail_at_start(void **state)
{
    (void)state;
    const struct {
        const char *url;
        kura_code code;
    } cases[] = {
        {"mysql://localhost/db", KURA_CONFIG},
        {"sqlite:", KURA_CONFIG},
        {"sqlite://host/db", KURA_CONFIG},
        {"sqlite:///x.db?journal_mode=sideways", KURA_CONFIG},
        {"sqlite:///x.db?pool=0", KURA_CONFIG},
        {"sqlite:///x.db?bogus=1", KURA_CONFIG},
        {"sqlite:///x.db?pool=2&pool=3", KURA_CONFIG}, /* which one? */
        {"sqlite:////nonexistent-dir/sub/app.db", KURA_IO},
        {"not a url", KURA_CONFIG},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        kura_config *cfg = kura_config_new();
        kura_error err = {0};
        assert_true(kura_config_set(cfg, "database_url", cases[i].url, &err));
        kura_app *app = kura_app_open(cfg, &err);
        kura_config_free(cfg);
        if (app)
            fail_msg("%s opened", cases[i].url);
        if (err.code != cases[i].code)
            fail_msg("%s: %s (%s)", cases[i].url, kura_code_name(err.code), err.message);
    }
}

static void test_config_file_and_layers(void **state)
{
    (void)state;
    char path[] = "/tmp/kura-config-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    const char *text = "# kura settings\n\n  database_url = \"sqlite://:memory:\"  \n"
                       "redis_url=embedded:\n";
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    kura_config *cfg = kura_config_new();
    kura_error err = {0};
    assert_true(kura_config_load_file(cfg, path, &err));
    assert_string_equal(kura_config_get(cfg, "database_url"), "sqlite://:memory:");
    setenv("KURA_DATABASE_URL", "sqlite:///from-env.db", 1);
    assert_true(kura_config_load_env(cfg, &err)); /* the environment wins over the file */
    assert_string_equal(kura_config_get(cfg, "database_url"), "sqlite:///from-env.db");
    unsetenv("KURA_DATABASE_URL");
    assert_true(kura_config_set(cfg, "database_url", "sqlite://:memory:", &err)); /* a flag */
    kura_app *app = kura_app_open(cfg, &err);
    assert_non_null(app);
    assert_string_equal(kura_store_driver(kura_app_db(app)), "sqlite");
    kura_app_close(app);
    kura_config_free(cfg);

    /* A typo is an error with the line, not a silently ignored setting. */
    fd = open(path, O_WRONLY | O_TRUNC);
    const char *typo = "database_url = sqlite://:memory:\ndatabse_url = x\n";
    assert_int_equal(write(fd, typo, strlen(typo)), (ssize_t)strlen(typo));
    close(fd);
    cfg = kura_config_new();
    assert_false(kura_config_load_file(cfg, path, &err));
    assert_int_equal(err.code, KURA_CONFIG);
    assert_non_null(strstr(err.message, ":2:"));
    fd = open(path, O_WRONLY | O_TRUNC);
    assert_int_equal(write(fd, "no equals sign\n", 15), 15);
    close(fd);
    assert_false(kura_config_load_file(cfg, path, &err));
    assert_int_equal(err.code, KURA_CONFIG);
    /* An opening quote without its closing one is an error, not part of the value. */
    const char *quotes[] = {"secret = \"0123456789abcdef0123\n", "secret = \"\n"};
    for (size_t i = 0; i < 2; i++) {
        fd = open(path, O_WRONLY | O_TRUNC);
        assert_int_equal(write(fd, quotes[i], strlen(quotes[i])), (ssize_t)strlen(quotes[i]));
        close(fd);
        assert_false(kura_config_load_file(cfg, path, &err));
        assert_int_equal(err.code, KURA_CONFIG);
        assert_non_null(strstr(err.message, ":1:"));
        assert_null(kura_config_get(cfg, "secret"));
    }
    unlink(path);
    assert_false(kura_config_load_file(cfg, path, &err));
    assert_int_equal(err.code, KURA_IO);
    assert_false(kura_config_load_file(cfg, "/tmp", &err)); /* a directory reads as nothing */
    assert_int_equal(err.code, KURA_IO);
    assert_false(kura_config_load_file(cfg, NULL, &err));
    assert_int_equal(err.code, KURA_INVALID);
    /* A NULL configuration or app is refused, not read through. */
    assert_false(kura_config_set(NULL, "secret", "x", &err));
    assert_int_equal(err.code, KURA_INVALID);
    assert_false(kura_config_load_env(NULL, &err));
    assert_null(kura_config_get(NULL, "secret"));
    assert_null(kura_app_config(NULL));
    assert_false(kura_config_set(cfg, "nope", "x", &err));
    kura_config_free(cfg);
}

static void *other_thread(void *arg)
{
    (void)arg;
    return kura_current_app(); /* not inherited: each thread enters its own */
}

static void test_current_app(void **state)
{
    (void)state;
    kura_config *cfg = kura_config_new();
    kura_error err = {0};
    assert_true(kura_config_set(cfg, "database_url", "sqlite://:memory:", &err));
    kura_app *a = kura_app_open(cfg, &err);
    kura_app *b = kura_app_open(cfg, &err);
    kura_config_free(cfg);
    assert_non_null(a);
    assert_non_null(b);
    assert_null(kura_current_app());
    kura_app *prev_a = kura_app_enter(a);
    assert_null(prev_a);
    assert_ptr_equal(kura_current_app(), a);
    kura_app *prev_b = kura_app_enter(b);
    assert_ptr_equal(prev_b, a);
    assert_ptr_equal(kura_current_app(), b);
    pthread_t t;
    void *seen = (void *)1;
    pthread_create(&t, NULL, other_thread, NULL);
    pthread_join(t, &seen);
    assert_null(seen);
    kura_app_leave(prev_b);
    assert_ptr_equal(kura_current_app(), a);
    kura_app_close(a); /* closing the current app clears it */
    assert_null(kura_current_app());
    kura_app_close(b);
}

/* An app over an in-memory SQLite database. */
static kura_app *memory_app(void)
{
    kura_config *cfg = kura_config_new();
    kura_config_set(cfg, "database_url", "sqlite://:memory:", NULL);
    kura_error err = {0};
    kura_app *app = kura_app_open(cfg, &err);
    kura_config_free(cfg);
    assert_non_null(app);
    return app;
}

/* The registry: models with their store, refused twice, found, iterated, migrated. */
static void test_registry(void **state)
{
    (void)state;
    kura_error err = {0};
    kura_app *app = memory_app();
    assert_int_equal(kura_app_model_count(app), 0);
    assert_null(kura_app_model_at(app, 0, NULL));

    kura_model doc = t_user_model;
    doc.name = "t_doc";
    assert_true(kura_app_register(app, &t_user_model, KURA_IN_SQL, &err));
    assert_true(kura_app_register(app, &doc, KURA_IN_DOCUMENTS, &err));
    /* The same name again, in either store: refused, naming it. */
    assert_false(kura_app_register(app, &t_user_model, KURA_IN_DOCUMENTS, &err));
    assert_int_equal(err.code, KURA_CONFLICT);
    assert_non_null(strstr(err.message, "'t_user' is already registered"));
    assert_false(kura_app_register(app, &doc, (kura_model_home)3, &err));
    assert_int_equal(err.code, KURA_INVALID);
    assert_false(kura_app_register(app, NULL, KURA_IN_SQL, &err));
    assert_int_equal(err.code, KURA_INVALID);
    /* kura's own tables: the embedded key-value store lives in the database
     * file, and a model of that name deleted the sessions with its rows. */
    const char *own[] = {"kura_kv", "kura_kv_hash", "kura_kv_zset", "kura_counters"};
    for (size_t i = 0; i < 4; i++) {
        kura_model clash = t_user_model;
        clash.name = own[i];
        assert_false(kura_app_register(app, &clash, i % 2 ? KURA_IN_DOCUMENTS : KURA_IN_SQL, &err));
        assert_int_equal(err.code, KURA_CONFLICT);
    }

    assert_int_equal(kura_app_model_count(app), 2);
    assert_ptr_equal(kura_app_model(app, "t_doc"), &doc);
    assert_null(kura_app_model(app, "nope"));
    kura_model_home home;
    assert_ptr_equal(kura_app_model_at(app, 0, &home), &t_user_model);
    assert_int_equal(home, KURA_IN_SQL);
    assert_ptr_equal(kura_app_model_at(app, 1, &home), &doc);
    assert_int_equal(home, KURA_IN_DOCUMENTS);
    assert_ptr_equal(kura_app_model_store(app, &t_user_model), kura_app_db(app));
    assert_ptr_equal(kura_app_model_store(app, &doc), kura_app_documents(app));
    kura_model stranger = t_user_model;
    stranger.name = "stranger";
    assert_null(kura_app_model_store(app, &stranger));

    /* Migrate: a dry run plans the table only; the real run makes both. */
    char *script = NULL;
    size_t changes = 0;
    assert_true(kura_app_migrate(app, KURA_MIGRATE_DRY_RUN, NULL, NULL, &script, &changes, &err));
    assert_non_null(strstr(script, "CREATE TABLE"));
    free(script);
    assert_true(kura_app_migrate(app, 0, NULL, NULL, NULL, &changes, &err));
    assert_true(changes > 0);
    assert_true(kura_app_migrate(app, 0, NULL, NULL, NULL, &changes, &err));
    assert_int_equal(changes, 0);
    t_user u;
    kura_init(&doc, &u);
    kura_copy_string(u.name, sizeof u.name, "d");
    kura_copy_string(u.email, sizeof u.email, "d@example.com");
    assert_true(kura_insert(kura_app_documents(app), &doc, &u, &err));
    kura_clear(&doc, &u);
    kura_app_close(app);
}

/* A SQL model's reference must name a model the app keeps in SQL. */
typedef struct t_note {
    kura_base base;
    int64_t user_id;
} t_note;
static const kura_model t_note_model =
    KURA_MODEL(t_note, "t_note", KURA_INT64(t_note, user_id, .references = &t_user_model));

static void test_references_need_sql_models(void **state)
{
    (void)state;
    kura_error err = {0};
    kura_app *app = memory_app();
    assert_true(kura_app_register(app, &t_note_model, KURA_IN_SQL, &err));
    assert_false(kura_app_migrate(app, 0, NULL, NULL, NULL, NULL, &err));
    assert_int_equal(err.code, KURA_INVALID);
    assert_non_null(strstr(err.message, "t_note.user_id references t_user, which the app has "
                                        "not registered"));
    assert_true(kura_app_register(app, &t_user_model, KURA_IN_DOCUMENTS, &err));
    assert_false(kura_app_migrate(app, 0, NULL, NULL, NULL, NULL, &err));
    assert_non_null(strstr(err.message, "keeps in its document store"));
    kura_app_close(app);

    /* Registered in SQL, after the model that references it: made first. */
    app = memory_app();
    assert_true(kura_app_register(app, &t_note_model, KURA_IN_SQL, &err));
    assert_true(kura_app_register(app, &t_user_model, KURA_IN_SQL, &err));
    if (!kura_app_migrate(app, 0, NULL, NULL, NULL, NULL, &err))
        fail_msg("%s", err.message);
    t_note n = {.user_id = 5};
    assert_false(kura_insert(kura_app_db(app), &t_note_model, &n, &err));
    assert_int_equal(err.code, KURA_CONSTRAINT);
    kura_app_close(app);
}

/* A column of a table, for counting them. */
typedef struct col_name {
    kura_base base;
    char *name;
} col_name;
static const kura_model col_name_model =
    KURA_MODEL(col_name, "col_name", KURA_TEXT(col_name, name));

static size_t columns_of(kura_store *db, const char *table)
{
    kura_value t = KURA_VSTR(table);
    kura_rows rows = {0};
    kura_error err = {0};
    assert_true(kura_sql_query(db, &col_name_model, "SELECT name FROM pragma_table_info(?)", &t, 1,
                               &rows, &err));
    size_t n = rows.count;
    kura_rows_free(&rows);
    return n;
}

/* A document collection of the JSON layout kura made before: the start-up
 * migration (flags 0, as serve runs it) uses it as it is; with
 * KURA_MIGRATE_UPGRADE_DOCUMENTS (kura migrate) it is rewritten into columns. */
static void test_old_collections_upgraded_on_request(void **state)
{
    (void)state;
    char dir[] = "/tmp/kura-upgrade-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char url[128], file[96];
    snprintf(file, sizeof file, "%s/app.db", dir);
    snprintf(url, sizeof url, "sqlite:///%s", file);
    kura_config *cfg = kura_config_new();
    kura_config_set(cfg, "database_url", url, NULL);
    kura_error err = {0};
    kura_app *app = kura_app_open(cfg, &err);
    kura_config_free(cfg);
    assert_non_null(app);
    kura_model doc = t_user_model;
    doc.name = "t_old";
    assert_true(kura_app_register(app, &doc, KURA_IN_DOCUMENTS, &err));
    kura_store *db = kura_app_db(app);
    assert_true(kura_sql_exec(db, "CREATE TABLE t_old (_id INTEGER PRIMARY KEY, doc TEXT NOT NULL)",
                              NULL, 0, NULL, &err));
    assert_true(kura_sql_exec(db,
                              "INSERT INTO t_old VALUES (1, '{\"name\": \"a\", \"email\": "
                              "\"a@example.com\", \"age\": 7}')",
                              NULL, 0, NULL, &err));
    size_t changes = 9;
    assert_true(kura_app_migrate(app, 0, NULL, NULL, NULL, &changes, &err));
    assert_int_equal(changes, 0);
    assert_int_equal(columns_of(db, "t_old"), 2);
    t_user u;
    assert_true(kura_get(kura_app_documents(app), &doc, 1, &u, &err));
    assert_int_equal(u.age, 7);
    kura_clear(&doc, &u);
    assert_true(
        kura_app_migrate(app, KURA_MIGRATE_UPGRADE_DOCUMENTS, NULL, NULL, NULL, &changes, &err));
    assert_true(changes > 0);
    assert_true(columns_of(db, "t_old") > 2);
    assert_true(kura_get(kura_app_documents(app), &doc, 1, &u, &err));
    assert_int_equal(u.age, 7);
    assert_string_equal(u.email, "a@example.com");
    kura_clear(&doc, &u);
    kura_app_close(app);
    const char *suffixes[] = {"", "-wal", "-shm", ".secret"};
    for (int k = 0; k < 4; k++) {
        char path[160];
        snprintf(path, sizeof path, "%s%s", file, suffixes[k]);
        unlink(path);
    }
    rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_url_parse),
        cmocka_unit_test(test_bad_store_urls_fail_at_start),
        cmocka_unit_test(test_config_file_and_layers),
        cmocka_unit_test(test_current_app),
        cmocka_unit_test(test_registry),
        cmocka_unit_test(test_references_need_sql_models),
        cmocka_unit_test(test_old_collections_upgraded_on_request),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
