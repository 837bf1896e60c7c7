/*
 * test_service.c — the reference service over real HTTP: every route and
 * every error class, on the embedded defaults (an SQLite file), and the users
 * routes again on PostgreSQL when KURA_TEST_PG_URL is set (otherwise one
 * "skipped: ..." line says why). The server runs in this process on a free
 * port; libcurl is the client.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cmocka.h>
#include <curl/curl.h>
#include <jansson.h>
#include <mongoc/mongoc.h>
#include <pthread.h>

#include <kura/http.h>

#include "guide_app.h"
#include "wait_until.h"
#include "servers.h"
#include "me_user.h"
#include "sa_user.h"

/* One running service: the app, the server and its base URL. */
typedef struct fixture {
    kura_app *app;
    kura_http *srv;
    char base[64];
    char dir[64]; /* temp directory of the SQLite file, or "" */
} fixture;

static fixture *F; /* the group's service, for tests that take no state */

typedef struct response {
    long status;
    char *body;
    size_t len;
    char headers[4096];
    size_t hlen;
} response;

static size_t on_body(char *p, size_t size, size_t n, void *ud)
{
    response *r = ud;
    char *b = realloc(r->body, r->len + size * n + 1);
    if (!b)
        return 0;
    memcpy(b + r->len, p, size * n);
    r->body = b;
    r->len += size * n;
    r->body[r->len] = '\0';
    return size * n;
}

static size_t on_header(char *p, size_t size, size_t n, void *ud)
{
    response *r = ud;
    size_t k = size * n;
    if (r->hlen + k < sizeof r->headers) {
        memcpy(r->headers + r->hlen, p, k);
        r->hlen += k;
        r->headers[r->hlen] = '\0';
    }
    return k;
}

/* The value of response header `name` (case-insensitive), copied into out. */
static const char *header(const response *r, const char *name, char *out, size_t size)
{
    size_t nl = strlen(name);
    for (const char *line = r->headers; line && *line;) {
        if (strncasecmp(line, name, nl) == 0 && line[nl] == ':') {
            const char *v = line + nl + 1;
            while (*v == ' ')
                v++;
            size_t len = strcspn(v, "\r\n");
            snprintf(out, size, "%.*s", (int)len, v);
            return out;
        }
        line = strchr(line, '\n');
        if (line)
            line++;
    }
    return NULL;
}

typedef struct request {
    const char *method;
    const char *path;
    const char *type;  /* Content-Type, or NULL */
    const char *body;  /* or NULL */
    size_t body_len;   /* 0: strlen(body) */
    const char *auth;  /* the Authorization header value, or NULL */
    const char *extra; /* one more header line, or NULL */
    bool chunked;
} request;

static response do_request(const fixture *f, request q)
{
    response r = {0};
    CURL *c = curl_easy_init();
    assert_non_null(c);
    char url[2048];
    snprintf(url, sizeof url, "%s%s", f->base, q.path);
    struct curl_slist *h = NULL;
    char line[1024];
    if (q.type) {
        snprintf(line, sizeof line, "Content-Type: %s", q.type);
        h = curl_slist_append(h, line);
    } else if (q.body) {
        h = curl_slist_append(h, "Content-Type:"); /* none at all */
    }
    if (q.auth) {
        snprintf(line, sizeof line, "Authorization: %s", q.auth);
        h = curl_slist_append(h, line);
    }
    if (q.extra)
        h = curl_slist_append(h, q.extra);
    if (q.chunked)
        h = curl_slist_append(h, "Transfer-Encoding: chunked");
    h = curl_slist_append(h, "Expect:");
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, q.method);
    if (strcmp(q.method, "GET") != 0 && !q.body)
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, 0L), curl_easy_setopt(c, CURLOPT_POSTFIELDS, "");
    if (q.body) {
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, q.body);
        if (!q.chunked)
            curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE,
                             (long)(q.body_len ? q.body_len : strlen(q.body)));
    }
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &r);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, &r);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 30L);
    CURLcode rc = curl_easy_perform(c);
    if (rc != CURLE_OK)
        fail_msg("%s %s: %s", q.method, q.path, curl_easy_strerror(rc));
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r.status);
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    return r;
}

#define REQ(...) do_request(F, (request){__VA_ARGS__})

static json_t *body_json(const response *r)
{
    json_error_t e;
    json_t *j = json_loadb(r->body ? r->body : "", r->len, 0, &e);
    if (!j)
        fail_msg("not JSON (%s): %s", e.text, r->body ? r->body : "");
    return j;
}

static void response_free(response *r)
{
    free(r->body);
    r->body = NULL;
}

/* Asserts status and a problem+json body with that status; returns the body. */
static json_t *expect_problem(response *r, long status)
{
    if (r->status != status)
        fail_msg("expected %ld, got %ld: %s", status, r->status, r->body ? r->body : "");
    char ct[128];
    assert_non_null(header(r, "Content-Type", ct, sizeof ct));
    assert_string_equal(ct, "application/problem+json");
    json_t *j = body_json(r);
    assert_int_equal(json_integer_value(json_object_get(j, "status")), status);
    assert_non_null(json_string_value(json_object_get(j, "title")));
    assert_non_null(json_string_value(json_object_get(j, "detail")));
    return j;
}

static void expect_status(response *r, long status)
{
    if (r->status != status)
        fail_msg("expected %ld, got %ld: %s", status, r->status, r->body ? r->body : "");
}

/* --- the service under test ------------------------------------------------- */

/* A uuid-keyed model served as a collection: /notes/{id} reads a UUID. */
typedef struct s_note {
    kura_base base;
    char title[KURA_STRING_BYTES(32)];
} s_note;
static const kura_model note_model =
    KURA_MODEL_KEYED(s_note, "s_note", KURA_KEY_UUID, KURA_STRING(s_note, title, 32));

static const char *redis_url; /* the key-value store of the next start(), or NULL: embedded */
static const char *doc_url;   /* the document store of the next start(), or NULL: the default */

static bool start(fixture *f, const char *url, const kura_http_opts *extra, kura_error *err)
{
    kura_config *cfg = kura_config_new();
    kura_config_set(cfg, "database_url", url, NULL);
    if (redis_url)
        kura_config_set(cfg, "redis_url", redis_url, NULL);
    if (doc_url)
        kura_config_set(cfg, "document_url", doc_url, NULL);
    f->app = kura_app_open(cfg, err);
    kura_config_free(cfg);
    if (!f->app)
        return false;
    if (!guide_setup(f->app, NULL, err) ||
        !kura_app_register(f->app, &note_model, KURA_IN_SQL, err)) {
        kura_app_close(f->app);
        return false;
    }
    kura_store *db = kura_app_db(f->app);
    /* A fresh table every run (PostgreSQL keeps the last run's). */
    if (!kura_drop(db, &sa_user_model, err) || !kura_create(db, &sa_user_model, err)) {
        kura_app_close(f->app);
        return false;
    }
    kura_http_opts o;
    if (extra) {
        o = *extra;
    } else {
        kura_http_opts_default(&o);
        o.max_limit = 20;
        o.default_limit = 10;
    }
    o.port = 0;
    o.log_level = KURA_LOG_WARN; /* the access log would drown cmocka's output */
    /* The guide's service exactly as guide_service serves it. */
    f->srv = kura_http_new(f->app, &o, err);
    /* and /notes, a uuid-keyed collection of the test's own (uuid_things) */
    if (!f->srv || !guide_mount(f->srv, f->app, NULL, err) ||
        !kura_http_mount(f->srv, "/notes", note_model.name, err) ||
        !kura_http_listen(f->srv, err)) {
        kura_http_stop(f->srv);
        kura_app_close(f->app);
        return false;
    }
    snprintf(f->base, sizeof f->base, "http://127.0.0.1:%u", (unsigned)kura_http_port(f->srv));
    return true;
}

static void stop(fixture *f)
{
    kura_http_stop(f->srv);
    kura_app_close(f->app);
    if (f->dir[0]) {
        char path[128];
        const char *suffixes[] = {"", "-wal", "-shm"};
        for (size_t i = 0; i < 3; i++) {
            snprintf(path, sizeof path, "%s/service.db%s", f->dir, suffixes[i]);
            unlink(path);
        }
        rmdir(f->dir);
    }
    free(f);
}

static int setup_sqlite(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    if (!f)
        return -1;
    snprintf(f->dir, sizeof f->dir, "/tmp/kura-service-XXXXXX");
    if (!mkdtemp(f->dir)) {
        free(f);
        return -1;
    }
    char url[128];
    snprintf(url, sizeof url, "sqlite:///%s/service.db", f->dir);
    kura_error err = {0};
    if (!start(f, url, NULL, &err)) {
        fprintf(stderr, "cannot start the service: %s\n", err.message);
        free(f);
        return -1;
    }
    *state = F = f;
    return 0;
}

static int setup_pg(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    kura_error err = {0};
    if (!start(f, getenv("KURA_TEST_PG_URL"), NULL, &err)) {
        fprintf(stderr, "cannot start the service on PostgreSQL: %s\n", err.message);
        free(f);
        return -1;
    }
    *state = F = f;
    return 0;
}

static int teardown(void **state)
{
    if (*state) /* NULL when the group's setup failed */
        stop(*state);
    F = NULL;
    return 0;
}

/* Deletes every user between tests so counts are exact. */
static int clean(void **state)
{
    fixture *f = *state;
    kura_query q = kura_query_for(&sa_user_model);
    return kura_delete_where(kura_app_db(f->app), &q, NULL, NULL) ? 0 : -1;
}

/* Creates a user over HTTP; returns its id. */
static int64_t create_user(const char *name, int age, const char *sex)
{
    char body[512];
    snprintf(body, sizeof body,
             "{\"name\":\"%s\",\"email\":\"%s@example.com\",\"age\":%d,\"sex\":\"%s\"}", name, name,
             age, sex);
    response r = REQ("POST", "/users", "application/json", body);
    expect_status(&r, 201);
    json_t *j = body_json(&r);
    int64_t id = json_integer_value(json_object_get(j, "id"));
    assert_true(id > 0);
    json_decref(j);
    response_free(&r);
    return id;
}

static int64_t count_users(void)
{
    int64_t n = -1;
    kura_query q = kura_query_for(&sa_user_model);
    assert_true(kura_count(kura_app_db(F->app), &q, &n, NULL));
    return n;
}

/* --- routes ------------------------------------------------------------------ */

static void health(void **state)
{
    (void)state;
    response r = REQ("GET", "/health");
    expect_status(&r, 200);
    json_t *j = body_json(&r);
    assert_string_equal(json_string_value(json_object_get(j, "status")), "ok");
    json_t *sql = json_object_get(json_object_get(j, "stores"), "sql");
    assert_string_equal(json_string_value(json_object_get(sql, "status")), "ok");
    json_decref(j);
    response_free(&r);
}

static void crud(void **state)
{
    (void)state;
    response r =
        REQ("POST", "/users", "application/json; charset=utf-8",
            "{\"name\":\"alice\",\"email\":\"alice@example.com\",\"age\":30,\"sex\":\"F\"}");
    expect_status(&r, 201);
    char loc[128], ct[128];
    assert_non_null(header(&r, "Location", loc, sizeof loc));
    assert_non_null(header(&r, "Content-Type", ct, sizeof ct));
    assert_string_equal(ct, "application/json");
    json_t *j = body_json(&r);
    int64_t id = json_integer_value(json_object_get(j, "id"));
    char want[64];
    snprintf(want, sizeof want, "/users/%lld", (long long)id);
    assert_string_equal(loc, want);
    const char *created = json_string_value(json_object_get(j, "created_at"));
    assert_non_null(created);
    char created_at[40];
    snprintf(created_at, sizeof created_at, "%s", created);
    json_decref(j);
    response_free(&r);

    r = REQ("GET", want);
    expect_status(&r, 200);
    j = body_json(&r);
    assert_string_equal(json_string_value(json_object_get(j, "name")), "alice");
    assert_string_equal(json_string_value(json_object_get(j, "email")), "alice@example.com");
    assert_int_equal(json_integer_value(json_object_get(j, "age")), 30);
    assert_string_equal(json_string_value(json_object_get(j, "sex")), "F");
    json_decref(j);
    response_free(&r);

    /* {"sex":"M"} is the guide's change_sex: saved, validated, updated_at stamped. */
    r = REQ("PATCH", want, "application/json", "{\"sex\":\"M\"}");
    expect_status(&r, 200);
    j = body_json(&r);
    assert_string_equal(json_string_value(json_object_get(j, "sex")), "M");
    assert_string_equal(json_string_value(json_object_get(j, "name")), "alice");
    assert_string_equal(json_string_value(json_object_get(j, "created_at")), created_at);
    assert_string_not_equal(json_string_value(json_object_get(j, "updated_at")), created_at);
    json_decref(j);
    response_free(&r);

    sa_user u = {0};
    assert_true(kura_get(kura_app_db(F->app), &sa_user_model, id, &u, NULL));
    assert_string_equal(u.sex, "M");

    r = REQ("DELETE", want);
    expect_status(&r, 204);
    assert_int_equal(r.len, 0);
    response_free(&r);
    r = REQ("GET", want);
    json_decref(expect_problem(&r, 404));
    response_free(&r);
    r = REQ("DELETE", want);
    json_decref(expect_problem(&r, 404));
    response_free(&r);
    r = REQ("PATCH", want, "application/json", "{\"sex\":\"F\"}");
    json_decref(expect_problem(&r, 404));
    response_free(&r);
}

static json_t *list(const char *query, int64_t *total, size_t *n)
{
    char path[512];
    snprintf(path, sizeof path, "/users%s", query);
    response r = REQ("GET", path);
    expect_status(&r, 200);
    json_t *j = body_json(&r);
    response_free(&r);
    *total = json_integer_value(json_object_get(j, "total"));
    *n = json_array_size(json_object_get(j, "items"));
    return j;
}

static void list_query(void **state)
{
    (void)state;
    for (int i = 0; i < 30; i++) {
        char name[32];
        snprintf(name, sizeof name, "%s%02d", i % 3 == 0 ? "bob" : "user", i);
        create_user(name, 20 + i % 5, i % 2 ? "M" : "F");
    }
    int64_t total;
    size_t n;
    json_t *j = list("?age=22", &total, &n);
    assert_int_equal(total, 6);
    assert_int_equal(n, 6);
    json_t *item;
    size_t i;
    for (i = 0; (item = json_array_get(json_object_get(j, "items"), i)) != NULL; i++)
        assert_int_equal(json_integer_value(json_object_get(item, "age")), 22);
    json_decref(j);

    j = list("?age=22&sex=F", &total, &n);
    assert_int_equal(total, 3);
    json_decref(j);

    j = list("?name_prefix=bob", &total, &n);
    assert_int_equal(total, 10);
    for (i = 0; (item = json_array_get(json_object_get(j, "items"), i)) != NULL; i++)
        assert_memory_equal(json_string_value(json_object_get(item, "name")), "bob", 3);
    json_decref(j);

    /* order=-age: descending, ties in id order. */
    j = list("?order=-age,id&limit=10", &total, &n);
    assert_int_equal(total, 30);
    assert_int_equal(n, 10);
    int64_t last_age = 1000, last_id = 0;
    for (i = 0; (item = json_array_get(json_object_get(j, "items"), i)) != NULL; i++) {
        int64_t age = json_integer_value(json_object_get(item, "age"));
        int64_t id = json_integer_value(json_object_get(item, "id"));
        assert_true(age < last_age || (age == last_age && id > last_id));
        last_age = age, last_id = id;
    }
    json_decref(j);

    /* Paging: pages of 7 cover every row once, in id order. */
    int64_t seen = 0, prev = 0;
    for (int off = 0; off < 35; off += 7) {
        char q[64];
        snprintf(q, sizeof q, "?limit=7&offset=%d", off);
        j = list(q, &total, &n);
        assert_int_equal(total, 30);
        assert_int_equal(json_integer_value(json_object_get(j, "limit")), 7);
        assert_int_equal(json_integer_value(json_object_get(j, "offset")), off);
        for (i = 0; (item = json_array_get(json_object_get(j, "items"), i)) != NULL; i++) {
            int64_t id = json_integer_value(json_object_get(item, "id"));
            assert_true(id > prev);
            prev = id;
            seen++;
        }
        json_decref(j);
    }
    assert_int_equal(seen, 30);

    /* Past the end: an empty page, the total still told. */
    j = list("?offset=100", &total, &n);
    assert_int_equal(total, 30);
    assert_int_equal(n, 0);
    json_decref(j);
}

static void limit_cap(void **state)
{
    (void)state;
    for (int i = 0; i < 25; i++)
        create_user("capped", 40, "M");
    int64_t total;
    size_t n;
    /* The fixture caps limit at 20: asking for more is served, capped, and says so. */
    json_t *j = list("?limit=100000", &total, &n);
    assert_int_equal(total, 25);
    assert_int_equal(n, 20);
    assert_int_equal(json_integer_value(json_object_get(j, "limit")), 20);
    json_decref(j);
    /* A limit past what 64 bits hold is still just "more than the cap". */
    j = list("?limit=99999999999999999999999", &total, &n);
    assert_int_equal(n, 20);
    json_decref(j);
    j = list("", &total, &n); /* the default limit is within the cap too */
    assert_true(n <= 20);
    json_decref(j);

    /* The stamps filter like datetime fields. */
    j = list("?created_at=2000-01-01T00:00:00Z", &total, &n);
    assert_int_equal(total, 0);
    json_decref(j);
    response r = REQ("GET", "/users?created_at=yesterday");
    json_t *p = expect_problem(&r, 400);
    assert_non_null(strstr(json_string_value(json_object_get(p, "detail")), "created_at"));
    json_decref(p);
    response_free(&r);

    /* Too many conditions: the answer names the limit, not a type. */
    char many[1024] = "/users?";
    for (int i = 0; i < 60; i++)
        strcat(many, i ? "&age=1" : "age=1");
    r = REQ("GET", many);
    p = expect_problem(&r, 400);
    const char *detail = json_string_value(json_object_get(p, "detail"));
    if (strstr(detail, "wrong type"))
        fail_msg("60 filters: %s", detail);
    json_decref(p);
    response_free(&r);
}

static void metrics(void **state)
{
    (void)state;
    response r = REQ("GET", "/users/424242");
    response_free(&r);
    r = REQ("GET", "/health");
    response_free(&r);
    r = REQ("GET", "/metrics");
    expect_status(&r, 200);
    char ct[128];
    assert_non_null(header(&r, "Content-Type", ct, sizeof ct));
    assert_non_null(strstr(ct, "text/plain"));
    assert_non_null(
        strstr(r.body, "kura_http_requests_total{route=\"/users/{id}\",status=\"404\"}"));
    assert_non_null(strstr(r.body, "kura_http_requests_total{route=\"/health\",status=\"200\"}"));
    assert_non_null(
        strstr(r.body, "kura_http_request_duration_seconds_bucket{route=\"/health\",le=\"+Inf\"}"));
    assert_non_null(strstr(r.body, "kura_store_operations_total{store=\"sql\",op=\"get\"}"));
    assert_non_null(strstr(r.body, "kura_store_errors_total{store=\"sql\",op=\"get\"} 0"));
    response_free(&r);
}

/* --- error classes --------------------------------------------------------------- */

static void bad_json(void **state)
{
    (void)state;
    const char *bodies[] = {"{\"name\": ", "not json",          "[1,2]",
                            "\"text\"",    "{\"a\":1,\"a\":2}", "{\"name\":\"\xff\"}"};
    for (size_t i = 0; i < sizeof bodies / sizeof bodies[0]; i++) {
        response r = REQ("POST", "/users", "application/json", bodies[i]);
        json_decref(expect_problem(&r, 400));
        response_free(&r);
    }
    response r = REQ("POST", "/users", "application/json");
    json_decref(expect_problem(&r, 400)); /* empty body */
    response_free(&r);
    int64_t id = create_user("pat", 33, "F");
    char path[64];
    snprintf(path, sizeof path, "/users/%lld", (long long)id);
    r = REQ("PATCH", path, "application/json", "{\"sex\":");
    json_decref(expect_problem(&r, 400));
    response_free(&r);
    assert_int_equal(count_users(), 1);
}

static void bad_params(void **state)
{
    (void)state;
    const char *paths[] = {
        "/users?bogus=1", "/users?age=abc", "/users?age=", "/users?age=99999999999",
        "/users?limit=-1", "/users?limit=x", "/users?offset=-5", "/users?order=nope",
        "/users?order=-", "/users?order=age,,", "/users?age_prefix=3", "/users?id=x", "/users/abc",
        "/users/0", "/users/-1", "/users/99999999999999999999",
        /* one rule on every route: a parameter it does not take */
        "/users/1?bogus=1", "/rankings/game?top=3", "/rankings/game/ann?limit=1",
        "/health?verbose=1", "/session?x=1"};
    for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++) {
        response r = REQ("GET", paths[i]);
        if (r.status != 400)
            fail_msg("%s: expected 400, got %ld", paths[i], r.status);
        json_decref(expect_problem(&r, 400));
        response_free(&r);
    }
}

static void not_found(void **state)
{
    (void)state;
    const char *paths[] = {"/",       "/nope",     "/users/",         "/users/1/x",
                           "/userss", "/health/x", "/users/123456789"};
    for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++) {
        response r = REQ("GET", paths[i]);
        if (r.status != 404)
            fail_msg("%s: expected 404, got %ld", paths[i], r.status);
        json_decref(expect_problem(&r, 404));
        response_free(&r);
    }
}

static void method_not_allowed(void **state)
{
    (void)state;
    struct {
        const char *method, *path, *allow;
    } cases[] = {{"PUT", "/users/1", "GET, HEAD, PATCH, DELETE"},
                 {"DELETE", "/users", "GET, HEAD, POST"},
                 {"POST", "/users/1", "GET, HEAD, PATCH, DELETE"},
                 {"POST", "/health", "GET, HEAD"},
                 {"BREW", "/users", "GET, HEAD, POST"}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        response r = REQ(cases[i].method, cases[i].path);
        json_decref(expect_problem(&r, 405));
        char allow[64];
        assert_non_null(header(&r, "Allow", allow, sizeof allow));
        assert_string_equal(allow, cases[i].allow);
        response_free(&r);
    }
}

static void too_large(void **state)
{
    (void)state;
    size_t n = 200 * 1024;
    char *big = malloc(n + 1);
    memset(big, ' ', n);
    memcpy(big, "{\"name\":\"", 9);
    big[n] = '\0';
    response r = REQ("POST", "/users", "application/json", big);
    json_decref(expect_problem(&r, 413));
    response_free(&r);
    /* Chunked: no length up front, refused once the limit is passed. */
    r = REQ("POST", "/users", "application/json", big, .chunked = true);
    json_decref(expect_problem(&r, 413));
    response_free(&r);
    free(big);
    assert_int_equal(count_users(), 0);

    /* Headers beyond the connection's memory limit: 431 from libmicrohttpd. */
    size_t hn = 64 * 1024;
    char *hdr = malloc(hn + 16);
    memcpy(hdr, "X-Big: ", 7);
    memset(hdr + 7, 'a', hn);
    hdr[7 + hn] = '\0';
    r = REQ("GET", "/users", .extra = hdr);
    assert_true(r.status == 431 || r.status == 413);
    response_free(&r);
    free(hdr);
}

static void wrong_type(void **state)
{
    (void)state;
    const char *types[] = {"text/plain", "application/x-www-form-urlencoded", "application/jsonx",
                           NULL};
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++) {
        response r = REQ("POST", "/users", types[i], "{\"name\":\"x\"}");
        json_decref(expect_problem(&r, 415));
        response_free(&r);
    }
    assert_int_equal(count_users(), 0);
}

static bool has_field_error(json_t *problem, const char *field)
{
    json_t *e;
    size_t i;
    for (i = 0; (e = json_array_get(json_object_get(problem, "errors"), i)) != NULL; i++) {
        const char *f = json_string_value(json_object_get(e, "field"));
        if (f && strcmp(f, field) == 0 && json_string_value(json_object_get(e, "reason")))
            return true;
    }
    return false;
}

static void validation(void **state)
{
    (void)state;
    char name[300];
    memset(name, 'n', 200);
    name[200] = '\0';
    char body[600];
    snprintf(body, sizeof body,
             "{\"name\":\"%s\",\"email\":\"not-an-address\",\"age\":\"old\",\"sex\":\"Q\","
             "\"bogus\":1,\"id\":7}",
             name);
    response r = REQ("POST", "/users", "application/json", body);
    json_t *p = expect_problem(&r, 422);
    assert_int_equal(json_array_size(json_object_get(p, "errors")), 6);
    const char *fields[] = {"name", "email", "age", "sex", "bogus", "id"};
    for (size_t i = 0; i < 6; i++)
        if (!has_field_error(p, fields[i]))
            fail_msg("no error for %s in %s", fields[i], r.body);
    json_decref(p);
    response_free(&r);
    assert_int_equal(count_users(), 0); /* nothing written */

    /* A PATCH that fails leaves the row exactly as it was. */
    int64_t id = create_user("val", 50, "F");
    sa_user before = {0}, after = {0};
    assert_true(kura_get(kura_app_db(F->app), &sa_user_model, id, &before, NULL));
    char path[64];
    snprintf(path, sizeof path, "/users/%lld", (long long)id);
    r = REQ("PATCH", path, "application/json", "{\"sex\":\"X\",\"email\":\"@\",\"age\":1.5}");
    p = expect_problem(&r, 422);
    assert_true(has_field_error(p, "sex"));
    assert_true(has_field_error(p, "email"));
    assert_true(has_field_error(p, "age"));
    json_decref(p);
    response_free(&r);
    assert_true(kura_get(kura_app_db(F->app), &sa_user_model, id, &after, NULL));
    assert_memory_equal(&before, &after, sizeof before);
    assert_int_equal(count_users(), 1);
}

/* --- authorisation: a second service with KURA_API_TOKEN set --------------------- */

static void api_token(void **state)
{
    (void)state;
    fixture *f = calloc(1, sizeof *f);
    kura_http_opts o;
    kura_http_opts_default(&o);
    o.api_token = "s3cret-token";
    kura_error err = {0};
    assert_true(start(f, "sqlite://:memory:", &o, &err));
    fixture *saved = F;
    F = f;
    const char *body = "{\"name\":\"tok\",\"email\":\"tok@example.com\",\"age\":20,\"sex\":\"M\"}";
    const char *bad[] = {NULL,
                         "Bearer wrong",
                         "Bearer s3cret-toke",
                         "Bearer s3cret-token2",
                         "Basic s3cret-token",
                         "s3cret-token"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        response r = REQ("POST", "/users", "application/json", body, .auth = bad[i]);
        json_decref(expect_problem(&r, 401));
        char www[64];
        assert_non_null(header(&r, "WWW-Authenticate", www, sizeof www));
        response_free(&r);
    }
    assert_int_equal(count_users(), 0);
    response r = REQ("POST", "/users", "application/json", body, .auth = "Bearer s3cret-token");
    expect_status(&r, 201);
    response_free(&r);
    r = REQ("PATCH", "/users/1", "application/json", "{\"sex\":\"F\"}");
    json_decref(expect_problem(&r, 401));
    response_free(&r);
    r = REQ("DELETE", "/users/1");
    json_decref(expect_problem(&r, 401));
    response_free(&r);
    /* Reads stay open. */
    r = REQ("GET", "/users/1");
    expect_status(&r, 200);
    response_free(&r);
    r = REQ("GET", "/health");
    expect_status(&r, 200);
    response_free(&r);
    r = REQ("DELETE", "/users/1", .auth = "Bearer s3cret-token");
    expect_status(&r, 204);
    response_free(&r);
    F = saved;
    stop(f);
}

/* --- concurrency ------------------------------------------------------------------ */

#define THREADS    8
#define PER_THREAD 25

static void *client(void *arg)
{
    intptr_t t = (intptr_t)arg;
    long failures = 0;
    for (int i = 0; i < PER_THREAD; i++) {
        char body[256], name[64];
        snprintf(name, sizeof name, "\"t%ldu%d\"", (long)t, i);
        snprintf(body, sizeof body,
                 "{\"name\":%s,\"email\":\"t%ldu%d@example.com\",\"age\":%d,\"sex\":\"M\"}", name,
                 (long)t, i, (int)(t * 10 + i % 3));
        response r = REQ("POST", "/users", "application/json", body);
        if (r.status != 201) {
            failures++;
            response_free(&r);
            continue;
        }
        char loc[64];
        header(&r, "Location", loc, sizeof loc);
        response_free(&r);
        r = REQ("GET", loc);
        failures += r.status != 200 || !strstr(r.body, name);
        response_free(&r);
        /* An invalid write in between must not disturb the others. */
        r = REQ("POST", "/users", "application/json", "{\"sex\":\"?\"}");
        failures += r.status != 422;
        response_free(&r);
    }
    return (void *)failures;
}

static void concurrent(void **state)
{
    (void)state;
    pthread_t th[THREADS];
    for (intptr_t t = 0; t < THREADS; t++)
        assert_int_equal(pthread_create(&th[t], NULL, client, (void *)t), 0);
    long failures = 0;
    for (int t = 0; t < THREADS; t++) {
        void *ret;
        pthread_join(th[t], &ret);
        failures += (long)(intptr_t)ret;
    }
    assert_int_equal(failures, 0);
    assert_int_equal(count_users(), THREADS * PER_THREAD);
}

/* Two clients PATCH different fields of one row at once: neither undoes the other. */
static char patch_path[64];

static void *patch_field(void *arg)
{
    bool age = arg != NULL;
    intptr_t bad = 0;
    for (int i = 0; i < 40; i++) {
        char body[64];
        if (age)
            snprintf(body, sizeof body, "{\"age\":%d}", 100 + i);
        else
            snprintf(body, sizeof body, "{\"sex\":\"%s\"}", i % 2 ? "M" : "F");
        response r = REQ("PATCH", patch_path, "application/json", body);
        bad += r.status != 200;
        response_free(&r);
    }
    return (void *)bad;
}

static void patch_no_lost_update(void **state)
{
    (void)state;
    int64_t id = create_user("racer", 30, "F");
    snprintf(patch_path, sizeof patch_path, "/users/%lld", (long long)id);
    pthread_t a, b;
    assert_int_equal(pthread_create(&a, NULL, patch_field, (void *)1), 0);
    assert_int_equal(pthread_create(&b, NULL, patch_field, NULL), 0);
    void *ra, *rb;
    pthread_join(a, &ra);
    pthread_join(b, &rb);
    assert_null(ra);
    assert_null(rb);
    sa_user u = {0};
    assert_true(kura_get(kura_app_db(F->app), &sa_user_model, id, &u, NULL));
    assert_int_equal(u.age, 139);    /* the age client's last value */
    assert_string_equal(u.sex, "M"); /* the sex client's last value */
}

/* --- stopping ---------------------------------------------------------------------- */

static void graceful_stop(void **state)
{
    (void)state;
    fixture *f = calloc(1, sizeof *f);
    kura_error err = {0};
    assert_true(start(f, "sqlite://:memory:", NULL, &err));
    fixture *saved = F;
    F = f;
    response r = REQ("GET", "/health");
    expect_status(&r, 200);
    response_free(&r);
    char base[64];
    snprintf(base, sizeof base, "%s", f->base);
    F = saved;
    stop(f); /* returns: nothing in flight */
    /* Nothing listens any more. */
    CURL *c = curl_easy_init();
    char url[128];
    snprintf(url, sizeof url, "%s/health", base);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 5L);
    assert_int_not_equal(curl_easy_perform(c), CURLE_OK);
    curl_easy_cleanup(c);
}

/* A request in flight when the stop begins still gets its answer; new
 * connections are refused meanwhile. The client is a raw socket so that it
 * can pause half-way through its body. */
static void *stop_thread(void *arg)
{
    stop(arg);
    return NULL;
}

static int connect_to(uint16_t port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

static void drain_in_flight(void **state)
{
    (void)state;
    fixture *f = calloc(1, sizeof *f);
    kura_error err = {0};
    assert_true(start(f, "sqlite://:memory:", NULL, &err));
    uint16_t port = kura_http_port(f->srv);
    const char *body = "{\"name\":\"late\",\"email\":\"late@example.com\",\"age\":1,\"sex\":\"F\"}";
    char head[256];
    snprintf(head, sizeof head,
             "POST /users HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
             "Content-Length: %zu\r\n\r\n",
             strlen(body));
    int fd = connect_to(port);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, head, strlen(head)), (ssize_t)strlen(head));
    assert_int_equal(write(fd, body, 10), 10);
    usleep(100 * 1000); /* the server has the headers: the request is in flight */

    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, stop_thread, f), 0);
    /* The stop begins on its thread: soon no new connection is accepted. */
    int other = 0;
    KURA_POLL((other = connect_to(port)) < 0 || (close(other), false), 10000);
    assert_true(other < 0); /* no longer accepting */

    size_t rest = strlen(body) - 10;
    assert_int_equal(write(fd, body + 10, rest), (ssize_t)rest);
    char reply[2048];
    size_t got = 0;
    ssize_t n;
    while (got < sizeof reply - 1 && (n = read(fd, reply + got, sizeof reply - 1 - got)) > 0)
        got += (size_t)n;
    reply[got] = '\0';
    close(fd);
    pthread_join(th, NULL);
    assert_memory_equal(reply, "HTTP/1.1 201", 12);
    assert_non_null(strstr(reply, "Connection: close"));
}

/* --- sessions and rankings (key-value store) ---------------------------------------- */

/* The kura_session cookie value from a response's Set-Cookie, into out. */
static const char *set_cookie(const response *r, char *out, size_t size)
{
    char h[512];
    if (!header(r, "Set-Cookie", h, sizeof h) || strncmp(h, "kura_session=", 13) != 0)
        return NULL;
    snprintf(out, size, "%.*s", (int)strcspn(h + 13, ";"), h + 13);
    return out;
}

static void session_flow(void **state)
{
    (void)state;
    response r = REQ("POST", "/session", "application/json", "{\"user\":\"alice\",\"n\":1}");
    expect_status(&r, 201);
    char h[512], cookie[128], send[200];
    assert_non_null(header(&r, "Set-Cookie", h, sizeof h));
    assert_non_null(strstr(h, "HttpOnly"));
    assert_non_null(strstr(h, "SameSite=Lax"));
    assert_null(strstr(h, "Secure"));
    assert_non_null(set_cookie(&r, cookie, sizeof cookie));
    response_free(&r);
    snprintf(send, sizeof send, "Cookie: kura_session=%s", cookie);

    r = REQ("GET", "/session", .extra = send);
    expect_status(&r, 200);
    json_t *j = body_json(&r);
    assert_string_equal(json_string_value(json_object_get(json_object_get(j, "data"), "user")),
                        "alice");
    json_decref(j);
    response_free(&r);

    r = REQ("PUT", "/session", "application/json", "[1,2,3]", .extra = send);
    expect_status(&r, 200);
    response_free(&r);
    r = REQ("GET", "/session", .extra = send);
    expect_status(&r, 200);
    j = body_json(&r);
    assert_int_equal(json_array_size(json_object_get(j, "data")), 3);
    json_decref(j);
    response_free(&r);

    /* Errors: malformed JSON, wrong type, no cookie, a forged cookie. */
    r = REQ("PUT", "/session", "application/json", "{oops", .extra = send);
    json_decref(expect_problem(&r, 400));
    response_free(&r);
    r = REQ("PUT", "/session", "text/plain", "x", .extra = send);
    json_decref(expect_problem(&r, 415));
    response_free(&r);
    r = REQ("PATCH", "/session", "application/json", "{}", .extra = send);
    json_decref(expect_problem(&r, 405));
    response_free(&r);
    r = REQ("GET", "/session");
    json_decref(expect_problem(&r, 404));
    response_free(&r);
    char forged[200];
    snprintf(forged, sizeof forged, "Cookie: kura_session=%.40sAAAA%s", cookie, cookie + 44);
    r = REQ("GET", "/session", .extra = forged);
    json_decref(expect_problem(&r, 401));
    response_free(&r);

    /* A new session started over an old one ends the old one (fixation). */
    r = REQ("POST", "/session", "application/json", "{\"user\":\"bob\"}", .extra = send);
    expect_status(&r, 201);
    char cookie2[128], send2[200];
    assert_non_null(set_cookie(&r, cookie2, sizeof cookie2));
    assert_string_not_equal(cookie, cookie2);
    response_free(&r);
    snprintf(send2, sizeof send2, "Cookie: kura_session=%s", cookie2);
    r = REQ("GET", "/session", .extra = send);
    json_decref(expect_problem(&r, 404));
    response_free(&r);

    r = REQ("DELETE", "/session", .extra = send2);
    expect_status(&r, 204);
    assert_non_null(header(&r, "Set-Cookie", h, sizeof h));
    assert_non_null(strstr(h, "Max-Age=0"));
    response_free(&r);
    r = REQ("GET", "/session", .extra = send2);
    json_decref(expect_problem(&r, 404));
    response_free(&r);
}

static json_t *post_score(const char *board, const char *body, long status)
{
    char path[128];
    snprintf(path, sizeof path, "/rankings/%s", board);
    response r = REQ("POST", path, "application/json", body);
    expect_status(&r, status);
    json_t *j = body_json(&r);
    response_free(&r);
    return j;
}

static void rankings(void **state)
{
    (void)state;
    char board[32];
    snprintf(board, sizeof board, "b%ld", (long)getpid());
    json_decref(post_score(board, "{\"member\":\"ann\",\"score\":5}", 200));
    json_decref(post_score(board, "{\"member\":\"ben\",\"score\":7.5}", 200));
    json_decref(post_score(board, "{\"member\":\"cy\",\"score\":1}", 200));
    json_t *j = post_score(board, "{\"member\":\"cy\",\"increment\":10}", 200);
    assert_true(json_number_value(json_object_get(j, "score")) == 11.0);
    json_decref(j);

    char path[128];
    snprintf(path, sizeof path, "/rankings/%s?limit=2", board);
    response r = REQ("GET", path);
    expect_status(&r, 200);
    j = body_json(&r);
    json_t *items = json_object_get(j, "items");
    assert_int_equal(json_array_size(items), 2);
    assert_string_equal(json_string_value(json_object_get(json_array_get(items, 0), "member")),
                        "cy");
    assert_string_equal(json_string_value(json_object_get(json_array_get(items, 1), "member")),
                        "ben");
    json_decref(j);
    response_free(&r);

    snprintf(path, sizeof path, "/rankings/%s/ann", board);
    r = REQ("GET", path);
    expect_status(&r, 200);
    j = body_json(&r);
    assert_int_equal(json_integer_value(json_object_get(j, "rank")), 3);
    assert_true(json_number_value(json_object_get(j, "score")) == 5.0);
    json_decref(j);
    response_free(&r);

    snprintf(path, sizeof path, "/rankings/%s/nobody", board);
    r = REQ("GET", path);
    json_decref(expect_problem(&r, 404));
    response_free(&r);

    /* 422 names every bad field; nothing is written. */
    snprintf(path, sizeof path, "/rankings/%s", board);
    r = REQ("POST", path, "application/json", "{\"member\":\"\",\"score\":\"x\",\"extra\":1}");
    json_t *p = expect_problem(&r, 422);
    assert_true(has_field_error(p, "member"));
    assert_true(has_field_error(p, "score"));
    assert_true(has_field_error(p, "extra"));
    json_decref(p);
    response_free(&r);
    r = REQ("POST", path, "application/json", "{\"member\":\"dee\",\"score\":1,\"increment\":2}");
    json_decref(expect_problem(&r, 422));
    response_free(&r);
    r = REQ("POST", path, "application/json", "{\"member\":");
    json_decref(expect_problem(&r, 400));
    response_free(&r);
    r = REQ("GET", "/rankings/bad%20board");
    json_decref(expect_problem(&r, 400));
    response_free(&r);
    snprintf(path, sizeof path, "/rankings/%s?limit=0", board);
    r = REQ("GET", path);
    json_decref(expect_problem(&r, 400));
    response_free(&r);
    snprintf(path, sizeof path, "/rankings/%s?limit=99999999999999999999999", board);
    r = REQ("GET", path); /* capped, as lists are */
    expect_status(&r, 200);
    response_free(&r);
    snprintf(path, sizeof path, "/rankings/%s/dee", board);
    r = REQ("GET", path);
    json_decref(expect_problem(&r, 404)); /* the refused writes left no member */
    response_free(&r);
}

/* With a token, rankings writes need it; /session stays open to browsers; cookies
 * carry Secure when configured. */
static void kv_token_and_secure(void **state)
{
    (void)state;
    fixture *f = calloc(1, sizeof *f);
    kura_http_opts o;
    kura_http_opts_default(&o);
    o.api_token = "tok";
    o.secure_cookies = true;
    kura_error err = {0};
    assert_true(start(f, "sqlite://:memory:", &o, &err));
    fixture *saved = F;
    F = f;
    response r = REQ("POST", "/rankings/t", "application/json", "{\"member\":\"a\",\"score\":1}");
    json_decref(expect_problem(&r, 401));
    response_free(&r);
    r = REQ("POST", "/rankings/t", "application/json", "{\"member\":\"a\",\"score\":1}",
            .auth = "Bearer tok");
    expect_status(&r, 200);
    response_free(&r);
    r = REQ("GET", "/rankings/t");
    expect_status(&r, 200);
    response_free(&r);
    r = REQ("POST", "/session", "application/json", "{}");
    expect_status(&r, 201);
    char h[512];
    assert_non_null(header(&r, "Set-Cookie", h, sizeof h));
    assert_non_null(strstr(h, "; Secure"));
    response_free(&r);
    F = saved;
    stop(f);
}

/* ------------------------------------------------------------------------------------ */

#define USERS_TESTS                                                                                \
    cmocka_unit_test_setup(crud, clean), cmocka_unit_test_setup(list_query, clean),                \
        cmocka_unit_test_setup(limit_cap, clean), cmocka_unit_test_setup(bad_json, clean),         \
        cmocka_unit_test_setup(bad_params, clean), cmocka_unit_test_setup(not_found, clean),       \
        cmocka_unit_test_setup(method_not_allowed, clean),                                         \
        cmocka_unit_test_setup(too_large, clean), cmocka_unit_test_setup(wrong_type, clean),       \
        cmocka_unit_test_setup(validation, clean), cmocka_unit_test_setup(concurrent, clean),      \
        cmocka_unit_test_setup(patch_no_lost_update, clean)

static int64_t count_me_users(void)
{
    int64_t n = -1;
    kura_query q = kura_query_for(me_user_model());
    assert_true(kura_count(kura_app_documents(F->app), &q, &n, NULL));
    return n;
}

/* /me_users: the guide's MEUser in the document store, keyed by an ObjectId
 * "_id" beside its declared field "id". */
static void me_users(void **state)
{
    (void)state;
    int64_t before = count_me_users();
    response r = REQ("POST", "/me_users", "application/json",
                     "{\"name\":\"mei\",\"email\":\"mei@example.com\",\"age\":30,\"sex\":\"F\","
                     "\"id\":\"legacy-1\"}");
    expect_status(&r, 201);
    json_t *j = body_json(&r);
    const char *oid = json_string_value(json_object_get(j, "_id"));
    assert_non_null(oid);
    assert_int_equal(strlen(oid), 24);
    assert_string_equal(json_string_value(json_object_get(j, "id")), "legacy-1");
    char path[64], location[128];
    snprintf(path, sizeof path, "/me_users/%s", oid);
    json_decref(j);
    assert_non_null(header(&r, "Location", location, sizeof location));
    assert_string_equal(location, path);
    response_free(&r);
    r = REQ("PATCH", path, "application/json", "{\"sex\":\"M\"}");
    expect_status(&r, 200);
    j = body_json(&r);
    assert_string_equal(json_string_value(json_object_get(j, "sex")), "M");
    json_decref(j);
    response_free(&r);
    r = REQ("GET", "/me_users?age=30");
    expect_status(&r, 200);
    j = body_json(&r);
    assert_true(json_integer_value(json_object_get(j, "total")) >= 1);
    json_decref(j);
    response_free(&r);

    /* The EmailField: a bad address is a 422 naming the field, and nothing is written. */
    r = REQ("POST", "/me_users", "application/json",
            "{\"name\":\"bad\",\"email\":\"bad@example.\",\"age\":30,\"sex\":\"F\"}");
    j = expect_problem(&r, 422);
    assert_non_null(strstr(r.body, "email"));
    json_decref(j);
    response_free(&r);
    assert_int_equal(count_me_users(), before + 1);

    r = REQ("DELETE", path);
    expect_status(&r, 204);
    response_free(&r);
    assert_int_equal(count_me_users(), before);
}

static void uuid_things(void **state)
{
    (void)state;
    kura_store *db = kura_app_db(F->app);
    assert_true(kura_drop(db, &note_model, NULL) && kura_create(db, &note_model, NULL));
    /* /notes is mounted by start() */
    response r = REQ("POST", "/notes", "application/json", "{\"title\":\"first\"}");
    expect_status(&r, 201);
    json_t *j = body_json(&r);
    const char *id = json_string_value(json_object_get(j, "id"));
    assert_non_null(id);
    assert_int_equal(strlen(id), 36);
    assert_int_equal(id[14], '7'); /* UUIDv7 */
    char path[128], location[128], uid[64];
    snprintf(uid, sizeof uid, "%s", id);
    snprintf(path, sizeof path, "/notes/%s", uid);
    assert_non_null(header(&r, "Location", location, sizeof location));
    assert_string_equal(location, path);
    json_decref(j);
    response_free(&r);

    r = REQ("GET", path);
    expect_status(&r, 200);
    j = body_json(&r);
    assert_string_equal(json_string_value(json_object_get(j, "id")), uid);
    assert_string_equal(json_string_value(json_object_get(j, "title")), "first");
    json_decref(j);
    response_free(&r);

    /* The key's case does not matter: it is read as a UUID. */
    char upper[128];
    snprintf(upper, sizeof upper, "/notes/");
    for (size_t i = 0; uid[i]; i++)
        upper[7 + i] = (char)(uid[i] >= 'a' && uid[i] <= 'f' ? uid[i] - 32 : uid[i]);
    upper[7 + strlen(uid)] = '\0';
    r = REQ("GET", upper);
    expect_status(&r, 200);
    response_free(&r);

    r = REQ("PATCH", path, "application/json", "{\"title\":\"second\"}");
    expect_status(&r, 200);
    j = body_json(&r);
    assert_string_equal(json_string_value(json_object_get(j, "title")), "second");
    json_decref(j);
    response_free(&r);
    /* The key is not a field: PATCH cannot change it. */
    r = REQ("PATCH", path, "application/json", "{\"id\":\"018f0000-0000-7000-8000-000000000000\"}");
    json_decref(expect_problem(&r, 422));
    response_free(&r);

    /* A malformed id is 400 (the route exists), a well-formed missing one 404. */
    const char *bad[] = {"/notes/42", "/notes/not-a-uuid",
                         "/notes/018f0000-0000-7000-8000-00000000000g"};
    const char *methods[] = {"GET", "PATCH", "DELETE"};
    for (size_t i = 0; i < 3; i++) {
        r = REQ(methods[i], bad[i], "application/json", "{\"title\":\"x\"}");
        j = expect_problem(&r, 400);
        assert_non_null(strstr(json_string_value(json_object_get(j, "detail")), "UUID"));
        json_decref(j);
        response_free(&r);
        char missing[128];
        snprintf(missing, sizeof missing, "/notes/018f0000-0000-7000-8000-00000000000%zu", i);
        r = REQ(methods[i], missing, "application/json", "{\"title\":\"x\"}");
        json_decref(expect_problem(&r, 404));
        response_free(&r);
    }

    /* A client may choose the UUID; its form is checked. */
    r = REQ("POST", "/notes", "application/json",
            "{\"id\":\"018F0000-0000-7000-8000-0000000000AA\",\"title\":\"mine\"}");
    expect_status(&r, 201);
    assert_non_null(header(&r, "Location", location, sizeof location));
    assert_string_equal(location, "/notes/018f0000-0000-7000-8000-0000000000aa");
    response_free(&r);
    r = REQ("POST", "/notes", "application/json", "{\"id\":\"nope\",\"title\":\"bad\"}");
    j = expect_problem(&r, 422);
    assert_non_null(strstr(r.body, "UUID"));
    json_decref(j);
    response_free(&r);
    r = REQ("POST", "/notes", "application/json", "{\"id\":7,\"title\":\"bad\"}");
    json_decref(expect_problem(&r, 422));
    response_free(&r);

    /* Lists in key order, filter by key. */
    r = REQ("GET", "/notes");
    expect_status(&r, 200);
    j = body_json(&r);
    json_t *items = json_object_get(j, "items");
    assert_int_equal(json_array_size(items), 2);
    assert_string_equal(json_string_value(json_object_get(json_array_get(items, 0), "id")),
                        "018f0000-0000-7000-8000-0000000000aa");
    assert_null(json_object_get(j, "misfits")); /* only when there are some */
    json_decref(j);
    response_free(&r);
    char filter[128];
    snprintf(filter, sizeof filter, "/notes?id=%s", uid);
    r = REQ("GET", filter);
    expect_status(&r, 200);
    j = body_json(&r);
    assert_int_equal(json_integer_value(json_object_get(j, "total")), 1);
    json_decref(j);
    response_free(&r);
    r = REQ("GET", "/notes?id=12");
    json_decref(expect_problem(&r, 400));
    response_free(&r);

    r = REQ("DELETE", path);
    expect_status(&r, 204);
    response_free(&r);
    r = REQ("DELETE", path);
    json_decref(expect_problem(&r, 404));
    response_free(&r);
}

/* A document another program wrote that does not fit MEUser: the list still
 * answers 200, names it in "misfits", and the document can be deleted. */
static void list_reports_misfits(void **state)
{
    (void)state;
    kura_store *docs = kura_app_documents(F->app);
    assert_true(kura_create(docs, me_user_model(), NULL));
    kura_store *db = kura_app_db(F->app); /* the same SQLite file: its SQL door */
    char name[600];
    memset(name, '9', sizeof name - 1); /* a name longer than the field holds */
    name[sizeof name - 1] = '\0';
    kura_value v[2] = {KURA_VSTR("5f1d7a3b9c0e4a2b8d6f0a99"), KURA_VSTR(name)};
    kura_error err = {0};
    if (!kura_sql_exec(db,
                       "INSERT INTO \"m_e_user\" (\"_id\", \"name\", \"age\") VALUES (?, ?, 30)", v,
                       2, NULL, &err))
        fail_msg("cannot write the foreign document: %s", err.message);
    response r = REQ("GET", "/me_users");
    expect_status(&r, 200);
    json_t *j = body_json(&r);
    json_t *misfits = json_object_get(j, "misfits");
    assert_int_equal(json_array_size(misfits), 1);
    json_t *one = json_array_get(misfits, 0);
    assert_string_equal(json_string_value(json_object_get(one, "id")), "5f1d7a3b9c0e4a2b8d6f0a99");
    assert_string_equal(json_string_value(json_object_get(one, "field")), "name");
    assert_non_null(json_string_value(json_object_get(one, "reason")));
    json_decref(j);
    response_free(&r);
    r = REQ("GET", "/me_users/5f1d7a3b9c0e4a2b8d6f0a99");
    json_decref(expect_problem(&r, 409));
    response_free(&r);
    r = REQ("DELETE", "/me_users/5f1d7a3b9c0e4a2b8d6f0a99");
    expect_status(&r, 204);
    response_free(&r);
}

/* The report that started keys: one MEUser a Python program wrote (pymongo's
 * ObjectId _id, MongoEngine's fields) made GET /me_users a 500 for the whole
 * list. On the MongoDB peer: written as pymongo writes it, it is listed, read,
 * patched and deleted by its ObjectId; a document that does not fit is a
 * "misfits" entry, not a failed list. */
static void me_users_written_by_python(void **state)
{
    (void)state;
    mongoc_client_t *c = mongoc_client_new(doc_url);
    assert_non_null(c);
    mongoc_collection_t *coll = mongoc_client_get_collection(c, "kura_service", "m_e_user");
    const char *docs[] = {
        "{\"_id\": {\"$oid\": \"6b1068293c4d5e6f70819203\"}, \"name\": \"py\", "
        "\"email\": \"py@example.com\", \"sex\": \"F\", \"age\": 30, "
        "\"created_at\": {\"$date\": \"2026-12-02T18:00:00.123Z\"}, "
        "\"updated_at\": {\"$date\": \"2026-12-02T18:00:00.123Z\"}}",
        "{\"_id\": {\"$oid\": \"6b1068293c4d5e6f70819204\"}, \"name\": 12, \"age\": 30}",
    };
    for (size_t i = 0; i < 2; i++) {
        bson_error_t e;
        bson_t *b = bson_new_from_json((const uint8_t *)docs[i], -1, &e);
        assert_non_null(b);
        if (!mongoc_collection_insert_one(coll, b, NULL, NULL, &e))
            fail_msg("insert: %s", e.message);
        bson_destroy(b);
    }
    mongoc_collection_destroy(coll);
    mongoc_client_destroy(c);

    response r = REQ("GET", "/me_users");
    expect_status(&r, 200);
    json_t *j = body_json(&r);
    json_t *items = json_object_get(j, "items");
    assert_int_equal(json_array_size(items), 1);
    assert_string_equal(json_string_value(json_object_get(json_array_get(items, 0), "_id")),
                        "6b1068293c4d5e6f70819203");
    json_t *misfits = json_object_get(j, "misfits");
    assert_int_equal(json_array_size(misfits), 1);
    assert_string_equal(json_string_value(json_object_get(json_array_get(misfits, 0), "id")),
                        "6b1068293c4d5e6f70819204");
    assert_string_equal(json_string_value(json_object_get(json_array_get(misfits, 0), "field")),
                        "name");
    json_decref(j);
    response_free(&r);

    r = REQ("GET", "/me_users/6b1068293c4d5e6f70819203");
    expect_status(&r, 200);
    j = body_json(&r);
    assert_string_equal(json_string_value(json_object_get(j, "email")), "py@example.com");
    assert_string_equal(json_string_value(json_object_get(j, "created_at")),
                        "2026-12-02T18:00:00.123000Z");
    json_decref(j);
    response_free(&r);
    r = REQ("PATCH", "/me_users/6b1068293c4d5e6f70819203", "application/json", "{\"sex\":\"M\"}");
    expect_status(&r, 200);
    j = body_json(&r);
    assert_string_equal(json_string_value(json_object_get(j, "sex")), "M");
    json_decref(j);
    response_free(&r);
    for (int i = 3; i <= 4; i++) {
        char path[64];
        snprintf(path, sizeof path, "/me_users/6b1068293c4d5e6f7081920%d", i);
        r = REQ("DELETE", path);
        expect_status(&r, 204);
        response_free(&r);
    }
    r = REQ("GET", "/me_users/6b1068293c4d5e6f70819203");
    json_decref(expect_problem(&r, 404));
    response_free(&r);
}

static int setup_mongo(void **state)
{
    if (setup_sqlite(state) != 0)
        return -1;
    kura_error err = {0};
    return kura_drop(kura_app_documents(F->app), me_user_model(), &err) ? 0 : -1;
}

static void skipped(void **state)
{
    (void)state;
    skip();
}

/* A server the test command provides is missing: a skip by hand, a failure under it. */
static const char *missing_server;
static void server_missing(void **state)
{
    (void)state;
    KURA_SKIP_NO_SERVER("%s", missing_server);
}

int main(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
    const struct CMUnitTest embedded[] = {
        cmocka_unit_test(health),
        USERS_TESTS,
        cmocka_unit_test_setup(metrics, clean),
        cmocka_unit_test_setup(api_token, clean),
        cmocka_unit_test(graceful_stop),
        cmocka_unit_test(drain_in_flight),
        cmocka_unit_test(session_flow),
        cmocka_unit_test(rankings),
        cmocka_unit_test(kv_token_and_secure),
        cmocka_unit_test(me_users),
        cmocka_unit_test(uuid_things),
        cmocka_unit_test(list_reports_misfits),
    };
    int failed = cmocka_run_group_tests_name("service on sqlite", embedded, setup_sqlite, teardown);

    const char *pg = getenv("KURA_TEST_PG_URL");
    const char *why = NULL;
    if (!pg || !*pg) {
        why = "KURA_TEST_PG_URL not set (the test command starts a throwaway PostgreSQL)";
    } else {
        kura_error err = {0};
        kura_store *s = kura_store_open(pg, &err);
        if (!s)
            why = err.message[0] ? err.message : "the PostgreSQL store cannot be opened";
        kura_store_close(s);
        static char reason[300];
        if (why) {
            snprintf(reason, sizeof reason, "%s", why);
            why = reason;
        }
    }
    if (why) {
        static char reason[400];
        snprintf(reason, sizeof reason, "service users routes on postgresql: %s", why);
        missing_server = reason;
        const struct CMUnitTest skip_tests[] = {cmocka_unit_test(server_missing)};
        failed += cmocka_run_group_tests_name("service on postgresql", skip_tests, NULL, NULL);
    } else {
        const struct CMUnitTest users[] = {cmocka_unit_test(health), USERS_TESTS};
        /* The embedded key-value store lives in a SQLite file: beside PostgreSQL it
         * needs one of its own (or the test Redis). */
        const char *r = getenv("KURA_TEST_REDIS_URL");
        redis_url = r && *r ? r : "embedded://:memory:";
        failed += cmocka_run_group_tests_name("service on postgresql", users, setup_pg, teardown);
        redis_url = NULL;
    }
    /* The guide's MEUser in MongoDB (the wire-protocol test peer: NOT MongoDB). */
    const char *peer = getenv("KURA_TEST_MONGO_PEER_URL");
    static char peer_url[512];
    if (!peer || !*peer) {
        printf("skipped: service /me_users on the MongoDB wire-protocol test peer: "
               "KURA_TEST_MONGO_PEER_URL not set (with_mongo_peer.sh starts the peer)\n");
        const struct CMUnitTest skip_tests[] = {cmocka_unit_test(skipped)};
        failed += cmocka_run_group_tests_name("service on mongodb", skip_tests, NULL, NULL);
    } else {
        snprintf(peer_url, sizeof peer_url, "%s/kura_service", peer);
        doc_url = peer_url;
        const struct CMUnitTest docs[] = {cmocka_unit_test(me_users),
                                          cmocka_unit_test(me_users_written_by_python)};
        failed += cmocka_run_group_tests_name("service on mongodb", docs, setup_mongo, teardown);
        doc_url = NULL;
    }
    /* The key-value routes on Redis. */
    const char *redis = getenv("KURA_TEST_REDIS_URL");
    if (!redis || !*redis) {
        missing_server = "service session and rankings routes on redis: KURA_TEST_REDIS_URL "
                         "not set (the test command starts a throwaway Redis)";
        const struct CMUnitTest skip_tests[] = {cmocka_unit_test(server_missing)};
        failed += cmocka_run_group_tests_name("service on redis", skip_tests, NULL, NULL);
    } else {
        redis_url = redis;
        const struct CMUnitTest kv[] = {cmocka_unit_test(health), cmocka_unit_test(session_flow),
                                        cmocka_unit_test(rankings)};
        failed += cmocka_run_group_tests_name("service on redis", kv, setup_sqlite, teardown);
        redis_url = NULL;
    }
    curl_global_cleanup();
    return failed;
}
