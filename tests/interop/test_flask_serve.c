/*
 * test_flask_serve.c — a Flask-SQLAlchemy app's own table, without
 * created_at/updated_at, served by the `kura` command end to end:
 *
 *   1. post_app.py (Debian's python3-flask-sqlalchemy) makes its table and
 *      three rows;
 *   2. `kura inspect sqlite:///PATH` writes the schema file ("timestamps": false);
 *   3. `kura --models FILE serve --port 0` serves it (the port read from its
 *      "listening on" log line);
 *   4. over HTTP (libcurl): the Python rows are listed and read with their
 *      values, a row is POSTed and one PATCHed through kura;
 *   5. the server is stopped with SIGTERM and must exit 0;
 *   6. the Python app reads kura's row and the change back with the right
 *      values, and its table is as it made it (no column added).
 * Without /usr/bin/python3 and Flask-SQLAlchemy it prints a skip.
 */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <fcntl.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <curl/curl.h>
#include <jansson.h>

#define PYTHON "/usr/bin/python3"

static char dir[64], db_path[128], db_url[160], models_path[128], log_path[128], kv_url[160];
static bool have_flask;
static pid_t running; /* a kura serve to stop in teardown should a test fail while it runs */

/* Runs the Python app with `cmd`; its stdout (at most cap - 1 bytes) into out. */
static int python(const char *cmd, char *out, size_t cap)
{
    char line[512];
    snprintf(line, sizeof line, "'%s' '%s' '%s' %s", PYTHON, KURA_POST_SCRIPT, db_path, cmd);
    FILE *p = popen(line, "r");
    if (!p)
        return -1;
    size_t n = out ? fread(out, 1, cap - 1, p) : 0;
    if (out)
        out[n] = '\0';
    int st = pclose(p);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/kura-flask-serve-XXXXXX");
    if (!mkdtemp(dir))
        return -1;
    snprintf(db_path, sizeof db_path, "%s/blog.db", dir);
    snprintf(db_url, sizeof db_url, "sqlite:///%s", db_path);
    snprintf(models_path, sizeof models_path, "%s/models.json", dir);
    snprintf(log_path, sizeof log_path, "%s/serve.log", dir);
    /* kura's key-value store in a file of its own: the Flask file keeps only Flask's table. */
    snprintf(kv_url, sizeof kv_url, "embedded:///%s/kv.db", dir);
    have_flask = access(PYTHON, X_OK) == 0 && python("create", NULL, 0) == 0;
    if (!have_flask)
        printf("skipped: %s cannot run the Flask-SQLAlchemy app (python3-flask-sqlalchemy)\n",
               PYTHON);
    curl_global_init(CURL_GLOBAL_DEFAULT);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    if (running > 0) {
        kill(running, SIGKILL);
        waitpid(running, NULL, 0);
    }
    curl_global_cleanup();
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

/* ---- the kura command ------------------------------------------------------------ */

/* Runs `kura ARGS` (KURA_* settings from the environment unset), stdout to out_path. */
static int kura_to_file(const char *args, const char *out_path)
{
    char cmd[1024];
    snprintf(cmd, sizeof cmd,
             "env -u KURA_DATABASE_URL -u KURA_DOCUMENT_URL -u KURA_REDIS_URL -u KURA_API_TOKEN "
             "'%s' %s > '%s'",
             KURA_BIN, args, out_path);
    int st = system(cmd);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static char *read_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    static char buf[1 << 16];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    return strdup(buf);
}

typedef struct serving {
    pid_t pid;
    char base[64];
} serving;

/* Starts `kura --models FILE serve --port 0` with its log in log_path and
 * waits (polling the log, up to a minute: the sanitizer build is slow) for the
 * line that says where it listens. */
static serving serve(void)
{
    serving s = {0};
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        int fd = open(log_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        if (fd < 0 || dup2(fd, 2) < 0)
            _exit(126);
        close(fd);
        unsetenv("KURA_DATABASE_URL");
        unsetenv("KURA_DOCUMENT_URL");
        unsetenv("KURA_REDIS_URL");
        unsetenv("KURA_API_TOKEN");
        execl(KURA_BIN, KURA_BIN, "--database-url", db_url, "--redis-url", kv_url, "--models",
              models_path, "serve", "--port", "0", "--threads", "2", (char *)NULL);
        _exit(127);
    }
    s.pid = running = pid;
    for (int i = 0; i < 1200; i++) {
        char *log = read_file(log_path);
        const char *at = log ? strstr(log, "listening on http://127.0.0.1:") : NULL;
        if (at) {
            long port = strtol(at + strlen("listening on http://127.0.0.1:"), NULL, 10);
            free(log);
            assert_true(port > 0 && port < 65536);
            snprintf(s.base, sizeof s.base, "http://127.0.0.1:%ld", port);
            return s;
        }
        int st;
        if (waitpid(pid, &st, WNOHANG) == pid && !(running = 0))
            fail_msg("kura serve exited before listening (status %d): %s", st,
                     log ? log : "(no log)");
        free(log);
        struct timespec ts = {0, 50 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    fail_msg("kura serve did not listen within a minute"); /* teardown kills it */
    return s;
}

/* SIGTERM: a graceful stop, which must end with status 0. */
static void stop(serving *s)
{
    assert_int_equal(kill(s->pid, SIGTERM), 0);
    int st = 0;
    assert_int_equal(waitpid(s->pid, &st, 0), s->pid);
    running = 0;
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
        char *log = read_file(log_path);
        fail_msg("kura serve ended with status %d: %s", st, log ? log : "(no log)");
    }
    s->pid = 0;
}

/* ---- HTTP -------------------------------------------------------------------------- */

typedef struct response {
    long status;
    char body[16384];
    size_t len;
    char headers[4096];
    size_t hlen;
} response;

typedef struct sink {
    char *buf;
    size_t cap, *len;
} sink;

static size_t on_data(char *p, size_t size, size_t n, void *ud)
{
    sink *s = ud;
    size_t k = size * n;
    if (*s->len + k < s->cap) {
        memcpy(s->buf + *s->len, p, k);
        *s->len += k;
        s->buf[*s->len] = '\0';
    }
    return k;
}

static response *call(const serving *s, const char *method, const char *path, const char *body)
{
    static response r;
    memset(&r, 0, sizeof r);
    sink out = {r.body, sizeof r.body, &r.len}, head = {r.headers, sizeof r.headers, &r.hlen};
    CURL *c = curl_easy_init();
    assert_non_null(c);
    char url[256];
    snprintf(url, sizeof url, "%s%s", s->base, path);
    struct curl_slist *h = curl_slist_append(NULL, "Expect:");
    if (body)
        h = curl_slist_append(h, "Content-Type: application/json");
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    if (body)
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &out);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_data);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, &head);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 60L);
    CURLcode rc = curl_easy_perform(c);
    if (rc != CURLE_OK)
        fail_msg("%s %s: %s", method, path, curl_easy_strerror(rc));
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r.status);
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    return &r;
}

static json_t *json_body(const response *r, long status)
{
    if (r->status != status)
        fail_msg("expected %ld, got %ld: %s", status, r->status, r->body);
    json_error_t e;
    json_t *j = json_loads(r->body, 0, &e);
    if (!j)
        fail_msg("not JSON (%s): %s", e.text, r->body);
    return j;
}

/* Whether JSON text `got` is the JSON `want` (key order aside). */
static void assert_json(const json_t *got, const char *want)
{
    json_t *w = json_loads(want, 0, NULL);
    assert_non_null(w);
    if (!json_equal(got, w)) {
        char *g = json_dumps(got, JSON_COMPACT | JSON_SORT_KEYS);
        fail_msg("got %s, want %s", g, want);
    }
    json_decref(w);
}

/* ---- the test ----------------------------------------------------------------------- */

#define HELLO                                                                                      \
    "{\"id\": 1, \"title\": \"Hello\", \"body\": \"First post\\nfrom Python\", "                   \
    "\"published\": true, \"score\": 1.5}"
#define DRAFT                                                                                      \
    "{\"id\": 2, \"title\": \"Draft\", \"body\": null, \"published\": false, \"score\": null}"
#define UNICODE                                                                                    \
    "{\"id\": 3, \"title\": \"\xc3\x9c"                                                            \
    "n\xc3\xaf"                                                                                    \
    "code \xe2\x9c\x93\", \"body\": \"'quotes' and "                                               \
    "\\\"more\\\"\", \"published\": true, \"score\": -0.25}"
#define FROM_KURA                                                                                  \
    "{\"id\": 4, \"title\": \"From kura\", \"body\": \"written by kura\\nover HTTP\", "            \
    "\"published\": false, \"score\": 4.5}"

static void test_flask_table_served_by_kura(void **state)
{
    (void)state;
    if (!have_flask)
        skip();

    /* kura inspect writes the schema file: a model without timestamps. */
    char args[512];
    snprintf(args, sizeof args, "inspect '%s'", db_url);
    assert_int_equal(kura_to_file(args, models_path), 0);
    char *schema = read_file(models_path);
    assert_non_null(schema);
    if (!strstr(schema, "\"name\": \"post\",\n      \"store\": \"sql\",\n      \"path\": "
                        "\"/post\",\n      \"timestamps\": false,\n"))
        fail_msg("inspect wrote:\n%s", schema);
    assert_non_null(strstr(schema, "{\"name\": \"title\", \"type\": \"string\", \"max_chars\": "
                                   "80, \"required\": true}"));
    free(schema);

    serving s = serve();

    /* The Python rows, listed and read one by one, without stamps. */
    json_t *j = json_body(call(&s, "GET", "/post", NULL), 200);
    assert_int_equal(json_integer_value(json_object_get(j, "total")), 3);
    json_t *items = json_object_get(j, "items");
    assert_int_equal(json_array_size(items), 3);
    assert_json(json_array_get(items, 0), HELLO);
    assert_json(json_array_get(items, 1), DRAFT);
    assert_json(json_array_get(items, 2), UNICODE);
    json_decref(j);
    j = json_body(call(&s, "GET", "/post/3", NULL), 200);
    assert_json(j, UNICODE);
    json_decref(j);
    j = json_body(call(&s, "GET", "/post?published=true&order=-score", NULL), 200);
    assert_int_equal(json_integer_value(json_object_get(j, "total")), 2);
    assert_json(json_array_get(json_object_get(j, "items"), 0), HELLO);
    json_decref(j);
    assert_int_equal(call(&s, "GET", "/post?order=created_at", NULL)->status, 400);

    /* A new row, and a change of one of Python's, through kura. */
    response *r = call(&s, "POST", "/post",
                       "{\"title\": \"From kura\", \"body\": \"written by kura\\nover HTTP\", "
                       "\"published\": false, \"score\": 4.5}");
    j = json_body(r, 201);
    assert_json(j, FROM_KURA);
    json_decref(j);
    assert_non_null(strstr(r->headers, "/post/4\r\n"));
    j = json_body(call(&s, "PATCH", "/post/2", "{\"score\": 9.25, \"body\": \"now written\"}"),
                  200);
    assert_json(j, "{\"id\": 2, \"title\": \"Draft\", \"body\": \"now written\", \"published\": "
                   "false, \"score\": 9.25}");
    json_decref(j);
    /* Validation is the model's: the title is required (NOT NULL in Flask's table). */
    assert_int_equal(call(&s, "POST", "/post", "{\"body\": \"no title\"}")->status, 422);
    stop(&s);

    /* The Flask app reads kura's row and change back, as written. */
    static char out[1 << 14];
    assert_int_equal(python("dump", out, sizeof out), 0);
    const char *want[] = {
        HELLO,
        "{\"id\": 2, \"title\": \"Draft\", \"body\": \"now written\", \"published\": false, "
        "\"score\": 9.25}",
        UNICODE,
        FROM_KURA,
    };
    char *line = out;
    for (size_t i = 0; i < 4; i++) {
        char *nl = strchr(line, '\n');
        if (!nl)
            fail_msg("Python read %zu rows: %s", i, out);
        *nl = '\0';
        json_t *row = json_loads(line, 0, NULL);
        assert_non_null(row);
        assert_json(row, want[i]);
        json_decref(row);
        line = nl + 1;
    }
    assert_string_equal(line, "");

    /* kura changed no part of the table, and put nothing else in the file. */
    assert_int_equal(python("schema", out, sizeof out), 0);
    j = json_loads(out, 0, NULL);
    assert_non_null(j);
    assert_json(j, "{\"columns\": [\"id\", \"title\", \"body\", \"published\", \"score\"], "
                   "\"tables\": [\"post\"]}");
    json_decref(j);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_flask_table_served_by_kura),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
