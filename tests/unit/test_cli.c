/*
 * test_cli.c — runs the guide's program (guide_service: kura_main over the
 * guide's models, with its own seed and users commands; KURA_BIN, set by
 * CMake) against temporary SQLite files and checks its output and exit codes.
 * No shell is involved: posix_spawn with stdout and stderr redirected to files.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <dirent.h>
#include <fcntl.h>
#include <jansson.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <kura/kura.h>

#include "unit/t_user.h"

extern char **environ;

#ifndef KURA_TEST_PROGRAM
#define KURA_TEST_PROGRAM ""
#define KURA_GENERIC_BIN  ""
#endif
#ifndef KURA_BIN
#define KURA_BIN "" /* tests/CMakeLists.txt passes $<TARGET_FILE:guide_service> when built */
#endif

typedef struct run_result {
    int status; /* exit code, or -1 when the process did not exit normally */
    char *out;
    char *err;
} run_result;

static char tmpdir[] = "/tmp/kura-cli-test-XXXXXX";

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *s = malloc((size_t)n + 1);
    assert_non_null(s);
    assert_int_equal(fread(s, 1, (size_t)n, f), (size_t)n);
    s[n] = '\0';
    fclose(f);
    return s;
}

/* The environment without KURA_* (so the developer's settings cannot leak in),
 * plus `extra` (may be NULL). */
static char **test_env(const char *extra, char **buf, size_t cap)
{
    size_t n = 0;
    for (char **e = environ; *e && n + 2 < cap; e++)
        if (strncmp(*e, "KURA_", 5) != 0)
            buf[n++] = *e;
    if (extra)
        buf[n++] = (char *)extra;
    buf[n] = NULL;
    return buf;
}

/* Runs the program `bin` with args (NULL-terminated) and `extra` in the environment. */
static run_result run_bin(const char *bin, const char *extra, const char *const *args)
{
    char out_path[128], err_path[128];
    snprintf(out_path, sizeof out_path, "%s/stdout", tmpdir);
    snprintf(err_path, sizeof err_path, "%s/stderr", tmpdir);
    const char *argv[32] = {bin};
    size_t argc = 1;
    for (; args[argc - 1]; argc++)
        argv[argc] = args[argc - 1];
    argv[argc] = NULL;

    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, out_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    posix_spawn_file_actions_addopen(&fa, 2, err_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    char *env[512];
    pid_t pid;
    int rc = posix_spawn(&pid, bin, &fa, NULL, (char *const *)argv,
                         test_env(extra, env, sizeof env / sizeof env[0]));
    posix_spawn_file_actions_destroy(&fa);
    assert_int_equal(rc, 0);
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    run_result r = {WIFEXITED(status) ? WEXITSTATUS(status) : -1, slurp(out_path), slurp(err_path)};
    return r;
}

static run_result run_env(const char *extra, const char *const *args)
{
    return run_bin(KURA_BIN, extra, args);
}

#define RUN(...) run_env(NULL, (const char *const[]){__VA_ARGS__, NULL})
/* The tests' own program over kura_main (tests/cli/program.c), and the bare kura. */
#define RUNP(...) run_bin(KURA_TEST_PROGRAM, NULL, (const char *const[]){__VA_ARGS__, NULL})
#define RUNK(...) run_bin(KURA_GENERIC_BIN, NULL, (const char *const[]){__VA_ARGS__, NULL})

static void done(run_result *r)
{
    free(r->out);
    free(r->err);
}

/* A database URL for a fresh file in the temporary directory. */
static const char *db_url(const char *name)
{
    static char url[256];
    snprintf(url, sizeof url, "sqlite:///%s/%s", tmpdir, name);
    return url;
}

static size_t count_lines(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        n += *s == '\n';
    return n;
}

static void expect_usage_error(run_result r, const char *needle)
{
    assert_int_equal(r.status, 2);
    assert_string_equal(r.out, "");
    assert_non_null(strstr(r.err, needle));
    done(&r);
}

static void test_help(void **state)
{
    (void)state;
    run_result r = RUN("--help");
    assert_int_equal(r.status, 0);
    assert_non_null(strstr(r.out, "Usage: guide_service"));
    assert_non_null(strstr(r.out, "migrate"));
    assert_string_equal(r.err, "");
    done(&r);
    const char *cmds[] = {"migrate", "seed", "users"};
    for (size_t i = 0; i < 3; i++) {
        r = RUN(cmds[i], "--help");
        assert_int_equal(r.status, 0);
        assert_non_null(strstr(r.out, cmds[i]));
        assert_non_null(strstr(r.out, "--database-url"));
        done(&r);
    }
}

static void test_usage_errors(void **state)
{
    (void)state;
    const char *url = db_url("usage.db");
    expect_usage_error(RUN("frobnicate"), "unknown command 'frobnicate'");
    expect_usage_error(RUN("--frob", "migrate"), "unknown option '--frob'");
    expect_usage_error(RUN("migrate", "--frob"), "unknown option '--frob'");
    expect_usage_error(RUN("migrate", "--database-url"), "a value is needed");
    expect_usage_error(RUN("seed"), "how many");
    expect_usage_error(RUN("seed", "abc", "--database-url", url), "whole number");
    expect_usage_error(RUN("seed", "0", "--database-url", url), "whole number");
    expect_usage_error(RUN("seed", "12x"), "whole number");
    expect_usage_error(RUN("seed", "99999999999"), "whole number");
    expect_usage_error(RUN("users", "--age", "old"), "--age");
    expect_usage_error(RUN("users", "--age", "-1"), "--age");
    expect_usage_error(RUN("users", "--sex", "X"), "--sex must be M or F");
    expect_usage_error(RUN("users", "--limit", "-3"), "--limit");
    expect_usage_error(RUN("users", "--offset", "a"), "--offset");
    expect_usage_error(RUN("users", "extra"), "unexpected argument 'extra'");
    /* serve's flags that become settings are read before anything opens: a
     * wrong one is the command line's (2), as --threads 0 is; they were
     * the settings' error (1). The same value from the environment stays 1. */
    expect_usage_error(RUN("serve", "--port", "99999"), "--port 99999: port:");
    expect_usage_error(RUN("serve", "--log-level", "loud"), "--log-level loud");
    expect_usage_error(RUN("serve", "--request-timeout", "x"), "--request-timeout x");
    expect_usage_error(RUN("serve", "--max-conns-per-ip", "-2"), "--max-conns-per-ip -2");
    expect_usage_error(RUN("serve", "--cache-ttl-ms", "-1"), "--cache-ttl-ms -1");
    run_result r = run_env(NULL, (const char *const[]){NULL});
    assert_int_equal(r.status, 2);
    done(&r);
    /* Nothing was opened for any of these: the usage error comes first. */
    struct stat st;
    char path[256];
    snprintf(path, sizeof path, "%s/usage.db", tmpdir);
    assert_int_not_equal(stat(path, &st), 0);
}

static void test_library_errors_exit_1(void **state)
{
    (void)state;
    run_result r = RUN("seed", "10", "--database-url", db_url("unmigrated.db"));
    assert_int_equal(r.status, 1);
    assert_memory_equal(r.err, "guide_service: ", 15);
    done(&r);
    r = RUN("--database-url", "nosuch://x", "users");
    assert_int_equal(r.status, 1);
    assert_non_null(strstr(r.err, "guide_service: unknown store URL scheme"));
    done(&r);
    r = RUN("--config", "/nonexistent/kura.conf", "migrate");
    assert_int_equal(r.status, 1);
    assert_non_null(strstr(r.err, "guide_service: cannot read config file"));
    done(&r);
    r = run_env("KURA_PORT=abc",
                (const char *const[]){"serve", "--database-url", db_url("env_port.db"), NULL});
    assert_int_equal(r.status, 1);
    assert_non_null(strstr(r.err, "port: 'abc' is not a port number"));
    done(&r);
}

/* Ages of the workload's users 1..n, as WORKLOAD.md defines them. */
static int workload_age(int i)
{
    return 18 + (i * 7919 % 63);
}

static void test_migrate_seed_users(void **state)
{
    (void)state;
    const char *url = db_url("app.db");
    run_result r = RUN("migrate", "--database-url", url);
    assert_int_equal(r.status, 0);
    assert_non_null(strstr(r.out, "- create table sa_user"));
    done(&r);
    r = RUN("--database-url", url, "migrate"); /* idempotent; flag before the command */
    assert_int_equal(r.status, 0);
    assert_non_null(strstr(r.out, "0 changes applied"));
    done(&r);
    r = RUN("migrate", "--dry-run", "--database-url", url);
    assert_int_equal(r.status, 0);
    assert_non_null(strstr(r.out, "-- nothing to do"));
    done(&r);

    r = RUN("seed", "100", "--database-url", url);
    assert_int_equal(r.status, 0);
    assert_memory_equal(r.out, "seeded 100 users in ", 20);
    assert_string_equal(r.err, ""); /* no progress bar: stderr is not a terminal */
    done(&r);

    /* --json: every line one JSON object; exactly the workload's 30-year-olds. */
    int expected = 0;
    for (int i = 1; i <= 100; i++)
        expected += workload_age(i) == 30;
    assert_true(expected > 0);
    r = RUN("users", "--age", "30", "--json", "--database-url", url);
    assert_int_equal(r.status, 0);
    assert_int_equal(count_lines(r.out), (size_t)expected);
    int64_t last_id = 0;
    for (char *line = strtok(r.out, "\n"); line; line = strtok(NULL, "\n")) {
        json_error_t je;
        json_t *j = json_loads(line, 0, &je);
        assert_non_null(j);
        assert_true(json_is_object(j));
        int64_t id = json_integer_value(json_object_get(j, "id"));
        assert_true(id > last_id); /* id order */
        last_id = id;
        assert_int_equal(json_integer_value(json_object_get(j, "age")), 30);
        assert_int_equal(workload_age((int)id), 30);
        char name[16];
        snprintf(name, sizeof name, "user%05d", (int)id);
        assert_string_equal(json_string_value(json_object_get(j, "name")), name);
        assert_string_equal(json_string_value(json_object_get(j, "sex")), id % 2 ? "M" : "F");
        assert_non_null(json_string_value(json_object_get(j, "created_at")));
        json_decref(j);
    }
    done(&r);

    /* The table: a header, then one line per row; filters combine. */
    r = RUN("users", "--limit", "5", "--offset", "10", "--database-url", url);
    assert_int_equal(r.status, 0);
    assert_int_equal(count_lines(r.out), 6);
    assert_non_null(strstr(r.out, "created_at"));
    assert_non_null(strstr(r.out, "user00011"));
    assert_null(strstr(r.out, "user00010"));
    done(&r);
    r = RUN("users", "--database-url", url); /* default limit 100: all of them */
    assert_int_equal(r.status, 0);
    assert_int_equal(count_lines(r.out), 101);
    done(&r);
    r = RUN("users", "--sex", "F", "--name-prefix", "user0009", "--json", "--database-url", url);
    assert_int_equal(r.status, 0);
    assert_int_equal(count_lines(r.out), 5); /* 90, 92, 94, 96, 98 */
    assert_non_null(strstr(r.out, "\"name\":\"user00090\""));
    done(&r);
}

/* defaults < config file < environment < flags: each layer picks another file. */
static void test_settings_layering(void **state)
{
    (void)state;
    char conf[256], line[300], env[300];
    snprintf(conf, sizeof conf, "%s/kura.conf", tmpdir);
    FILE *f = fopen(conf, "w");
    assert_non_null(f);
    snprintf(line, sizeof line, "# test\ndatabase_url = \"%s\"\n", db_url("from-file.db"));
    fputs(line, f);
    fclose(f);
    snprintf(env, sizeof env, "KURA_DATABASE_URL=%s", db_url("from-env.db"));

    /* "created" each time: each run reached a file no earlier run had migrated. */
    run_result r = run_env(NULL, (const char *const[]){"--config", conf, "migrate", NULL});
    assert_int_equal(r.status, 0);
    assert_non_null(strstr(r.out, "- create table sa_user"));
    done(&r);
    r = run_env(env, (const char *const[]){"migrate", "--config", conf, NULL});
    assert_int_equal(r.status, 0);
    assert_non_null(strstr(r.out, "- create table sa_user"));
    done(&r);
    char flag_url[256];
    snprintf(flag_url, sizeof flag_url, "%s", db_url("from-flag.db"));
    r = run_env(
        env, (const char *const[]){"--config", conf, "migrate", "--database-url", flag_url, NULL});
    assert_int_equal(r.status, 0);
    assert_non_null(strstr(r.out, "- create table sa_user"));
    done(&r);

    const char *names[] = {"from-file.db", "from-env.db", "from-flag.db"};
    for (size_t i = 0; i < 3; i++) {
        char path[256];
        snprintf(path, sizeof path, "%s/%s", tmpdir, names[i]);
        struct stat st;
        assert_int_equal(stat(path, &st), 0);
    }
}

/* --- the generic commands, on a program of the tests' own ------------------------ */

/* Inserts t_user rows i = 1..n through the library, straight into the file. */
static void insert_t_users(const char *url, int n)
{
    kura_error err = {0};
    kura_store *db = kura_store_open(url, &err);
    assert_non_null(db);
    for (int i = 1; i <= n; i++) {
        t_user u;
        kura_init(&t_user_model, &u);
        snprintf(u.name, sizeof u.name, "n%02d", i);
        snprintf(u.email, sizeof u.email, "n%02d@example.com", i);
        u.age = 20 + i % 3;
        kura_copy_string(u.sex, sizeof u.sex, i % 2 ? "M" : "F");
        u.ratio = i / 100.0;
        u.active = i % 4 != 0;
        assert_true(kura_insert(db, &t_user_model, &u, &err));
        kura_clear(&t_user_model, &u);
    }
    kura_store_close(db);
}

typedef struct extra_row {
    kura_base base;
    char *extra;
} extra_row;
static const kura_model extra_model =
    KURA_MODEL(extra_row, "extra_row", KURA_TEXT(extra_row, extra));

/* migrate rewrites a document collection of the JSON layout kura made before
 * into columns: listed by --dry-run, done once, nothing left after. */
static void test_migrate_upgrades_json_collections(void **state)
{
    (void)state;
    const char *url = db_url("upgrade.db");
    char flag[300];
    snprintf(flag, sizeof flag, "--database-url=%s", url);
    kura_error err = {0};
    kura_store *db = kura_store_open(url, &err);
    assert_non_null(db);
    assert_true(kura_sql_exec(db,
                              "CREATE TABLE \"t_doc\" (\"_id\" INTEGER PRIMARY KEY, \"doc\" TEXT "
                              "NOT NULL)",
                              NULL, 0, NULL, &err));
    assert_true(kura_sql_exec(db,
                              "INSERT INTO \"t_doc\" VALUES (7, '{\"name\": \"old\", \"age\": 40, "
                              "\"kept\": [1]}')",
                              NULL, 0, NULL, &err));
    kura_store_close(db);
    run_result r = RUNP("migrate", "--dry-run", flag);
    assert_int_equal(r.status, 0);
    assert_non_null(strstr(r.out, "- upgrade collection t_doc"));
    assert_non_null(strstr(r.out, "INSERT INTO \"t_doc__kura_upgrade\""));
    done(&r);
    r = RUNP("migrate", flag);
    assert_int_equal(r.status, 0);
    assert_non_null(strstr(r.out, "- upgrade collection t_doc"));
    done(&r);
    r = RUNP("count", "t_doc", "--where", "age=40", flag);
    assert_int_equal(r.status, 0);
    assert_string_equal(r.out, "1\n");
    done(&r);
    r = RUNP("migrate", flag);
    assert_int_equal(r.status, 0);
    assert_non_null(strstr(r.out, "0 changes applied"));
    done(&r);
    db = kura_store_open(url, &err);
    assert_non_null(db);
    kura_rows rows = {0};
    assert_true(kura_sql_query(db, &extra_model,
                               "SELECT \"_extra\" AS extra FROM \"t_doc\" WHERE \"id\" = 7", NULL,
                               0, &rows, &err));
    assert_int_equal(rows.count, 1);
    assert_string_equal(((const extra_row *)kura_row(&rows, 0))->extra, "{\"kept\":[1]}");
    kura_rows_free(&rows);
    kura_store_close(db);
}

static void test_generic_commands(void **state)
{
    (void)state;
    char flag[300];
    snprintf(flag, sizeof flag, "--database-url=%s", db_url("generic.db"));
    run_result r = RUNP("--help");
    assert_int_equal(r.status, 0);
    assert_non_null(strstr(r.out, "Usage: tprog"));
    assert_non_null(strstr(r.out, "rows"));
    assert_non_null(strstr(r.out, "hello"));
    done(&r);
    r = RUNP("migrate", flag);
    assert_int_equal(r.status, 0);
    assert_non_null(strstr(r.out, "- create table t_user"));
    done(&r);
    insert_t_users(db_url("generic.db"), 12);

    r = RUNP("count", "t_user", flag);
    assert_int_equal(r.status, 0);
    assert_string_equal(r.out, "12\n");
    done(&r);
    /* Values read as the field's type: an int, a string, a bool, a double. */
    r = RUNP("count", "t_user", "--where", "age=21", "--where", "sex=M", flag);
    assert_int_equal(r.status, 0);
    assert_string_equal(r.out, "2\n"); /* i = 1, 7 */
    done(&r);
    r = RUNP("count", "t_user", "--where", "active=false", flag);
    assert_string_equal(r.out, "3\n"); /* 4, 8, 12 */
    done(&r);
    r = RUNP("count", "t_user", "--where", "ratio=0.05", flag);
    assert_string_equal(r.out, "1\n");
    done(&r);

    /* JSON lines in the order asked, limited and offset. */
    r = RUNP("rows", "t_user", "--order", "-id", "--limit", "3", "--offset", "1", "--json", flag);
    assert_int_equal(r.status, 0);
    assert_int_equal(count_lines(r.out), 3);
    int64_t expect = 11;
    for (char *line = strtok(r.out, "\n"); line; line = strtok(NULL, "\n"), expect--) {
        json_t *j = json_loads(line, 0, NULL);
        assert_non_null(j);
        assert_int_equal(json_integer_value(json_object_get(j, "id")), expect);
        json_decref(j);
    }
    done(&r);
    /* The table: a header naming every column, then one line per row. */
    r = RUNP("rows", "t_user", "--where", "name=n05", flag);
    assert_int_equal(r.status, 0);
    assert_int_equal(count_lines(r.out), 2);
    assert_non_null(strstr(r.out, "updated_at"));
    assert_non_null(strstr(r.out, "n05@example.com"));
    done(&r);

    r = RUNP("get", "t_user", "5", "--json", flag);
    assert_int_equal(r.status, 0);
    json_t *j = json_loads(r.out, 0, NULL);
    assert_non_null(j);
    assert_string_equal(json_string_value(json_object_get(j, "name")), "n05");
    json_decref(j);
    done(&r);
    r = RUNP("get", "t_user", "5", flag);
    assert_int_equal(r.status, 0);
    assert_non_null(strstr(r.out, "email"));
    assert_non_null(strstr(r.out, "n05@example.com"));
    done(&r);

    /* The document twin lives in the same file, in its own collection. */
    r = RUNP("count", "t_doc", flag);
    assert_int_equal(r.status, 0);
    assert_string_equal(r.out, "0\n");
    done(&r);

    /* The project's own command runs with the app and the program's ctx. */
    r = RUNP("hello", "you", flag);
    assert_int_equal(r.status, 0);
    assert_string_equal(r.out, "hello you: 2 models, ctx here\n");
    done(&r);

    /* Errors: a missing row and an unknown model are the store's (1); a bad
     * field or value is the command line's (2). */
    r = RUNP("get", "t_user", "99", flag);
    assert_int_equal(r.status, 1);
    assert_non_null(strstr(r.err, "not found"));
    done(&r);
    r = RUNP("rows", "nope", flag);
    assert_int_equal(r.status, 1);
    assert_non_null(strstr(r.err, "registered models are: t_user t_doc"));
    done(&r);
    expect_usage_error(RUNP("rows", "t_user", "--where", "age=old", flag), "age");
    expect_usage_error(RUNP("rows", "t_user", "--where", "nope=1", flag), "no field 'nope'");
    expect_usage_error(RUNP("rows", "t_user", "--where", "age", flag), "FIELD=VALUE");
    expect_usage_error(RUNP("rows", "t_user", "--order", "-nope", flag), "nope");
    expect_usage_error(RUNP("rows", flag), "which model");
    expect_usage_error(RUNP("get", "t_user", "x", flag), "ID");
    expect_usage_error(RUNP("count", "t_user", "--json", flag), "unknown option '--json'");
}

/* The installed kura knows no model but those of --models. */
static void test_bare_kura(void **state)
{
    (void)state;
    char flag[300];
    snprintf(flag, sizeof flag, "--database-url=%s", db_url("bare.db"));
    run_result r = RUNK("rows", "t_user", flag);
    assert_int_equal(r.status, 1);
    assert_non_null(strstr(r.err, "kura: no model named 't_user': no models are registered"));
    done(&r);
    r = RUNK("--models", "schema.json", "count", "t_user", flag);
    assert_int_equal(r.status, 1);
    assert_non_null(strstr(r.err, "kura: cannot open schema file schema.json"));
    done(&r);

    /* A schema file's models: migrated, written and read by the generic commands. */
    char models[300], models_flag[320];
    snprintf(models, sizeof models, "%s/models.json", tmpdir);
    FILE *f = fopen(models, "w");
    assert_non_null(f);
    fputs("{\"models\": [{\"name\": \"note\", \"fields\": [\n"
          "  {\"name\": \"title\", \"type\": \"string\", \"max_chars\": 40, \"required\": true},\n"
          "  {\"name\": \"stars\", \"type\": \"int32\", \"index\": true}]}]}\n",
          f);
    fclose(f);
    snprintf(models_flag, sizeof models_flag, "--models=%s", models);
    r = RUNK(models_flag, "migrate", flag);
    assert_int_equal(r.status, 0);
    assert_non_null(strstr(r.out, "changes applied"));
    done(&r);
    r = RUNK(models_flag, "count", "note", flag);
    assert_int_equal(r.status, 0);
    assert_string_equal(r.out, "0\n");
    done(&r);
    r = RUNK("inspect", db_url("bare.db"));
    assert_int_equal(r.status, 0);
    assert_non_null(strstr(r.out, "{\"name\": \"stars\", \"type\": \"int32\", \"index\": true}"));
    done(&r);
    r = RUNK("migrate", flag);
    assert_int_equal(r.status, 0);
    assert_non_null(strstr(r.out, "0 changes applied"));
    done(&r);
    /* A mistyped database path: an error, and no empty database made there
     * (inspect printed an empty schema and exit 0). */
    r = RUNK("inspect", db_url("typo.db"));
    assert_int_equal(r.status, 1);
    assert_string_equal(r.out, "");
    assert_non_null(strstr(r.err, "kura: no database to inspect at "));
    done(&r);
    char typo[256];
    snprintf(typo, sizeof typo, "%s/typo.db", tmpdir);
    assert_int_not_equal(access(typo, F_OK), 0);
    expect_usage_error(RUNK("rows", "--models"), "a value is needed after '--models'");

    /* A wrong schema file: one line naming the file, the model and the field
     * (it named the model and the field only, and a model the registry
     * refused not even the file), exit 1, nothing on stdout. */
    static const struct {
        const char *json, *says;
    } wrong[] = {
        {"{\"models\": [{\"name\": \"note\", \"fields\": [{\"name\": \"stars\", \"type\": "
         "\"int\"}]}]}",
         "bad.json: model note, field stars: unknown type 'int'\n"},
        {"{\"models\": [{\"name\": \"note\", \"fields\": []}]}",
         "bad.json: model 'note' has no fields\n"},
    };
    for (size_t i = 0; i < sizeof wrong / sizeof wrong[0]; i++) {
        snprintf(models, sizeof models, "%s/bad.json", tmpdir);
        f = fopen(models, "w");
        assert_non_null(f);
        fputs(wrong[i].json, f);
        fclose(f);
        snprintf(models_flag, sizeof models_flag, "--models=%s", models);
        r = RUNK(models_flag, "migrate", flag);
        assert_int_equal(r.status, 1);
        assert_string_equal(r.out, "");
        if (!strstr(r.err, wrong[i].says) || strchr(r.err, '\n') != r.err + strlen(r.err) - 1)
            fail_msg("%s: %s", wrong[i].json, r.err);
        done(&r);
    }

    /* get with an id no string key can be ("", a control character) is a
     * wrong command line (2), as "abc" for a number is; it was 1. */
    snprintf(models, sizeof models, "%s/tags.json", tmpdir);
    f = fopen(models, "w");
    assert_non_null(f);
    fputs("{\"models\": [{\"name\": \"tag\", \"key\": \"string\", \"fields\": "
          "[{\"name\": \"uses\", \"type\": \"int32\"}]}]}",
          f);
    fclose(f);
    snprintf(models_flag, sizeof models_flag, "--models=%s", models);
    expect_usage_error(RUNK(models_flag, "get", "tag", "", flag), "the id of tag must be");
    expect_usage_error(RUNK(models_flag, "get", "tag", "a\tb", flag), "the id of tag must be");
}

/* The temporary directory holds only files: unlink them, then the directory. */
static void remove_tmpdir(void)
{
    DIR *d = opendir(tmpdir);
    if (!d)
        return;
    for (struct dirent *e; (e = readdir(d));) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        char path[512];
        snprintf(path, sizeof path, "%s/%s", tmpdir, e->d_name);
        unlink(path);
    }
    closedir(d);
    rmdir(tmpdir);
}

int main(void)
{
    if (!KURA_BIN[0]) {
        puts("skipped: guide_service is not built (examples/seed is missing)");
        return 0;
    }
    if (!mkdtemp(tmpdir)) {
        perror("mkdtemp");
        return 1;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_help),
        cmocka_unit_test(test_usage_errors),
        cmocka_unit_test(test_library_errors_exit_1),
        cmocka_unit_test(test_migrate_seed_users),
        cmocka_unit_test(test_migrate_upgrades_json_collections),
        cmocka_unit_test(test_settings_layering),
        cmocka_unit_test(test_generic_commands),
        cmocka_unit_test(test_bare_kura),
    };
    int failed = cmocka_run_group_tests(tests, NULL, NULL);
    remove_tmpdir();
    return failed;
}
