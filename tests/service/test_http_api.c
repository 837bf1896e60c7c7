/*
 * test_http_api.c — the public HTTP library (kura/http.h) over real HTTP: two
 * models of the tests' own mounted at paths of the test's choosing, every
 * registered model mounted in one call, a program's own handlers (path
 * parameters, query parameters, JSON bodies, headers, problems, the token
 * rules), and the errors of building a server. libcurl is the client.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <cmocka.h>
#include <curl/curl.h>
#include <jansson.h>

#include <kura/http.h>
#include <kura/kura.h>

#include "unit/t_user.h"

static kura_model t_doc_model; /* t_user's fields, as documents */

typedef struct server {
    kura_app *app;
    kura_http *srv;
    char base[64];
} server;

typedef struct response {
    long status;
    char body[65536];
    size_t len;
    char headers[8192];
    size_t hlen;
} response;

typedef struct sink {
    char buf[65536];
    size_t len;
} sink;

static size_t on_data(char *p, size_t size, size_t n, void *ud)
{
    sink *s = ud;
    size_t k = size * n;
    if (s->len + k < sizeof s->buf) {
        memcpy(s->buf + s->len, p, k);
        s->len += k;
        s->buf[s->len] = '\0';
    }
    return k;
}

/* One request; body NULL for none, auth an Authorization value or NULL. */
static response call(const server *s, const char *method, const char *path, const char *type,
                     const char *body, const char *auth)
{
    response r = {0};
    sink out = {{0}, 0}, head = {{0}, 0};
    CURL *c = curl_easy_init();
    assert_non_null(c);
    char url[512], line[256];
    snprintf(url, sizeof url, "%s%s", s->base, path);
    struct curl_slist *h = curl_slist_append(NULL, "Expect:");
    if (type) {
        snprintf(line, sizeof line, "Content-Type: %s", type);
        h = curl_slist_append(h, line);
    }
    if (auth) {
        snprintf(line, sizeof line, "Authorization: %s", auth);
        h = curl_slist_append(h, line);
    }
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    if (body)
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &out);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_data);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, &head);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 30L);
    CURLcode rc = curl_easy_perform(c);
    if (rc != CURLE_OK)
        fail_msg("%s %s: %s", method, path, curl_easy_strerror(rc));
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r.status);
    memcpy(r.body, out.buf, sizeof r.body);
    r.len = out.len;
    memcpy(r.headers, head.buf, sizeof r.headers - 1);
    r.hlen = head.len;
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    return r;
}

#define GET(s, path)        call((s), "GET", (path), NULL, NULL, NULL)
#define POST(s, path, body) call((s), "POST", (path), "application/json", (body), NULL)

/* Whether /metrics comes to hold `needle`: a request is counted when its
 * connection reports completion, which may come just after the client has
 * read the answer. */
static bool metrics_show(const server *s, const char *needle)
{
    for (int i = 0; i < 100; i++) {
        response r = call(s, "GET", "/metrics", NULL, NULL, NULL);
        if (r.status == 200 && strstr(r.body, needle))
            return true;
        usleep(10 * 1000);
    }
    return false;
}

static json_t *json_of(const response *r)
{
    json_t *j = json_loads(r->body, 0, NULL);
    if (!j)
        fail_msg("not JSON: %s", r->body);
    return j;
}

static void expect(const response *r, long status)
{
    if (r->status != status)
        fail_msg("expected %ld, got %ld: %s", status, r->status, r->body);
}

/* A fresh in-memory app with t_user (SQL) and t_doc (documents), migrated. */
static kura_app *open_app(void)
{
    kura_config *cfg = kura_config_new();
    kura_config_set(cfg, "database_url", "sqlite://:memory:", NULL);
    kura_error err = {0};
    kura_app *app = kura_app_open(cfg, &err);
    kura_config_free(cfg);
    assert_non_null(app);
    assert_true(kura_app_register(app, &t_user_model, KURA_IN_SQL, &err));
    assert_true(kura_app_register(app, &t_doc_model, KURA_IN_DOCUMENTS, &err));
    assert_true(kura_app_migrate(app, 0, NULL, NULL, NULL, NULL, &err));
    return app;
}

static kura_http_opts quiet_opts(void)
{
    kura_http_opts o;
    kura_http_opts_default(&o);
    o.port = 0;
    o.threads = 2;
    o.log_level = KURA_LOG_WARN;
    return o;
}

static void listen_on(server *s)
{
    kura_error err = {0};
    if (!kura_http_listen(s->srv, &err))
        fail_msg("listen: %s", err.message);
    snprintf(s->base, sizeof s->base, "http://127.0.0.1:%u", (unsigned)kura_http_port(s->srv));
}

static void close_server(server *s)
{
    kura_http_stop(s->srv);
    kura_app_close(s->app);
}

/* --- handlers of the test's own ------------------------------------------------ */

/* GET /hello/{name}?greeting=...: path and query parameters, a JSON answer. */
static void hello(kura_http_req *req, void *ctx)
{
    const char *greeting = kura_http_query(req, "greeting");
    assert_non_null(kura_http_app(req));
    assert_ptr_equal(kura_current_app(), kura_http_app(req)); /* the app is current */
    assert_null(kura_http_param(req, 1));
    kura_http_add_header(req, "X-Ctx", ctx);
    kura_http_respond_json(req, 200,
                           json_pack("{s:s, s:s, s:s}", "greeting", greeting ? greeting : "hello",
                                     "name", kura_http_param(req, 0), "path", kura_http_path(req)));
}

/* POST /echo: the JSON body back, with what the request said of itself. */
static void echo(kura_http_req *req, void *ctx)
{
    (void)ctx;
    json_t *body = kura_http_body_json(req);
    if (!body)
        return; /* a 400 went out */
    json_object_set_new(body, "method", json_string(kura_http_method(req)));
    const char *ua = kura_http_header(req, "x-client");
    json_object_set_new(body, "client", ua ? json_string(ua) : json_null());
    assert_true(kura_http_respond_json(req, 201, body));
    /* A second answer is refused, not sent. */
    assert_false(kura_http_problem(req, 500, "twice"));
}

/* PUT /raw: any body, as text; answers with its length. */
static void raw(kura_http_req *req, void *ctx)
{
    (void)ctx;
    size_t len = 0;
    const char *body = kura_http_body(req, &len);
    char text[64];
    int n = snprintf(text, sizeof text, "%zu:%s", len, body ? body : "");
    kura_http_respond(req, 200, "text/plain", text, (size_t)n);
}

/* GET /silent: answers nothing; the library must. */
static void silent(kura_http_req *req, void *ctx)
{
    (void)req, (void)ctx;
}

/* GET /fail: a library error mapped as the collections map it. */
static void fail_not_found(kura_http_req *req, void *ctx)
{
    (void)ctx;
    kura_error err = {0};
    kura_fail(&err, KURA_NOT_FOUND, NULL, "nothing here");
    kura_http_problem_error(req, &err);
}

/* --- tests ------------------------------------------------------------------------ */

/* mount_all serves a model at the path the app was given (a schema file's "path"). */
static void mount_all_uses_model_paths(void **state)
{
    (void)state;
    server s = {.app = open_app()};
    kura_error err = {0};
    assert_false(kura_app_set_model_path(s.app, "t_user", "api/people", &err));
    assert_int_equal(err.code, KURA_INVALID);
    assert_false(kura_app_set_model_path(s.app, "nobody", "/x", &err));
    assert_int_equal(err.code, KURA_NOT_FOUND);
    assert_null(kura_app_model_path(s.app, "t_user"));
    assert_true(kura_app_set_model_path(s.app, "t_user", "/api/people", &err));
    assert_string_equal(kura_app_model_path(s.app, "t_user"), "/api/people");
    kura_http_opts o = quiet_opts();
    s.srv = kura_http_new(s.app, &o, &err);
    assert_non_null(s.srv);
    assert_true(kura_http_mount_all(s.srv, &err));
    listen_on(&s);
    response r = POST(&s, "/api/people", "{\"name\":\"al\",\"email\":\"al@example.com\"}");
    expect(&r, 201);
    r = GET(&s, "/api/people");
    expect(&r, 200);
    r = GET(&s, "/t_user");
    expect(&r, 404);
    r = GET(&s, "/t_doc"); /* no path set: its name */
    expect(&r, 200);
    close_server(&s);
}

/* Two models at the test's paths: one in SQL, one in documents. */
static void two_models_at_paths(void **state)
{
    (void)state;
    server s = {.app = open_app()};
    kura_http_opts o = quiet_opts();
    kura_error err = {0};
    s.srv = kura_http_new(s.app, &o, &err);
    assert_non_null(s.srv);
    assert_true(kura_http_mount(s.srv, "/api/people", "t_user", &err));
    assert_true(kura_http_mount(s.srv, "/notes", "t_doc", &err));
    assert_true(kura_http_mount_health(s.srv, "/up", &err));
    listen_on(&s);

    const char *alice = "{\"name\":\"alice\",\"email\":\"alice@example.com\",\"age\":30}";
    response r = POST(&s, "/api/people", alice);
    expect(&r, 201);
    assert_non_null(strstr(r.headers, "/api/people/1"));
    r = POST(&s, "/notes", alice);
    expect(&r, 201);
    r = POST(&s, "/notes", "{\"name\":\"bob\",\"email\":\"bob@example.com\",\"age\":40}");
    expect(&r, 201);

    /* Each collection is its own store's. */
    r = GET(&s, "/api/people?age=30");
    expect(&r, 200);
    json_t *j = json_of(&r);
    assert_int_equal(json_integer_value(json_object_get(j, "total")), 1);
    json_decref(j);
    r = GET(&s, "/notes?order=-age");
    j = json_of(&r);
    assert_int_equal(json_integer_value(json_object_get(j, "total")), 2);
    json_t *first = json_array_get(json_object_get(j, "items"), 0);
    assert_string_equal(json_string_value(json_object_get(first, "name")), "bob");
    json_decref(j);
    r = call(&s, "PATCH", "/notes/2", "application/json", "{\"age\":41}", NULL);
    expect(&r, 200);
    r = call(&s, "DELETE", "/api/people/1", NULL, NULL, NULL);
    expect(&r, 204);
    r = GET(&s, "/api/people/1");
    expect(&r, 404);
    /* The model's own name is not a route unless mounted there. */
    r = GET(&s, "/t_user");
    expect(&r, 404);
    /* Validation is the model's: a bad e-mail is a 422 naming it. */
    r = POST(&s, "/api/people", "{\"name\":\"x\",\"email\":\"nope\"}");
    expect(&r, 422);
    assert_non_null(strstr(r.body, "\"field\":\"email\""));

    /* Health checks the stores the registered models live in. */
    r = GET(&s, "/up");
    expect(&r, 200);
    j = json_of(&r);
    json_t *stores = json_object_get(j, "stores");
    assert_non_null(json_object_get(stores, "sql"));
    assert_non_null(json_object_get(stores, "documents"));
    assert_non_null(json_object_get(stores, "kv"));
    json_decref(j);
    close_server(&s);
}

/* kura_http_start: every registered model at /<name>, and the default parts. */
static void mount_all_in_one_call(void **state)
{
    (void)state;
    server s = {.app = open_app()};
    kura_http_opts o = quiet_opts();
    kura_error err = {0};
    s.srv = kura_http_start(s.app, &o, &err);
    assert_non_null(s.srv);
    snprintf(s.base, sizeof s.base, "http://127.0.0.1:%u", (unsigned)kura_http_port(s.srv));
    response r = POST(&s, "/t_user", "{\"name\":\"a\",\"email\":\"a@example.com\"}");
    expect(&r, 201);
    r = POST(&s, "/t_doc", "{\"name\":\"a\",\"email\":\"a@example.com\"}");
    expect(&r, 201);
    r = GET(&s, "/t_doc/1");
    expect(&r, 200);
    r = GET(&s, "/health");
    expect(&r, 200);
    r = POST(&s, "/session", "{\"user\":1}");
    expect(&r, 201);
    r = POST(&s, "/rankings/b", "{\"member\":\"a\",\"score\":2}");
    expect(&r, 200);
    assert_true(metrics_show(&s, "route=\"/t_doc/{id}\",status=\"200\""));
    close_server(&s);
}

static void custom_handlers(void **state)
{
    (void)state;
    server s = {.app = open_app()};
    kura_http_opts o = quiet_opts();
    o.api_token = "tok";
    kura_error err = {0};
    s.srv = kura_http_new(s.app, &o, &err);
    assert_non_null(s.srv);
    assert_true(kura_http_handle(s.srv, "GET", "/hello/{name}", hello, "c1", 0, &err));
    assert_true(kura_http_handle(s.srv, "POST", "/echo", echo, NULL, 0, &err));
    assert_true(kura_http_handle(s.srv, "POST", "/open", echo, NULL, KURA_HTTP_OPEN, &err));
    assert_true(kura_http_handle(s.srv, "PUT", "/raw", raw, NULL, KURA_HTTP_ANY_BODY, &err));
    assert_true(kura_http_handle(s.srv, "GET", "/raw", raw, NULL, KURA_HTTP_ANY_BODY, &err));
    assert_true(kura_http_handle(s.srv, "GET", "/silent", silent, NULL, 0, &err));
    assert_true(kura_http_handle(s.srv, "GET", "/fail", fail_not_found, NULL, 0, &err));
    assert_true(kura_http_mount_metrics(s.srv, NULL, &err));
    listen_on(&s);

    response r = GET(&s, "/hello/mei?greeting=hi%20there");
    expect(&r, 200);
    json_t *j = json_of(&r);
    assert_string_equal(json_string_value(json_object_get(j, "greeting")), "hi there");
    assert_string_equal(json_string_value(json_object_get(j, "name")), "mei");
    assert_string_equal(json_string_value(json_object_get(j, "path")), "/hello/mei");
    json_decref(j);
    assert_non_null(strstr(r.headers, "X-Ctx: c1"));

    /* The token rule: a mutation on a protected route needs it; OPEN does not. */
    r = POST(&s, "/echo", "{\"a\":1}");
    expect(&r, 401);
    r = call(&s, "POST", "/echo", "application/json", "{\"a\":1}", "Bearer tok");
    expect(&r, 201);
    j = json_of(&r);
    assert_int_equal(json_integer_value(json_object_get(j, "a")), 1);
    assert_string_equal(json_string_value(json_object_get(j, "method")), "POST");
    json_decref(j);
    r = POST(&s, "/open", "{\"b\":2}");
    expect(&r, 201);
    /* JSON helpers: a malformed body and a non-object are 400 problems; another
     * content type is 415 before the handler runs. */
    r = POST(&s, "/open", "{\"b\":");
    expect(&r, 400);
    assert_non_null(strstr(r.headers, "application/problem+json"));
    r = POST(&s, "/open", "[1]");
    expect(&r, 400);
    r = call(&s, "POST", "/open", "text/plain", "x", NULL);
    expect(&r, 415);
    /* ANY_BODY: text is taken as it is (with the token: PUT mutates). */
    r = call(&s, "PUT", "/raw", "text/plain", "abc", "Bearer tok");
    expect(&r, 200);
    assert_string_equal(r.body, "3:abc");
    /* A method the pattern lacks: 405 with the ones it has. */
    r = call(&s, "DELETE", "/raw", NULL, NULL, "Bearer tok");
    expect(&r, 405);
    assert_non_null(strstr(r.headers, "Allow: GET, HEAD, PUT"));
    r = GET(&s, "/hello");
    expect(&r, 404);
    /* A handler that answers nothing still gets an answer; errors map as documented. */
    r = GET(&s, "/silent");
    expect(&r, 500);
    r = GET(&s, "/fail");
    expect(&r, 404);
    assert_non_null(strstr(r.body, "nothing here"));
    /* The route's pattern is its metrics label. */
    assert_true(metrics_show(&s, "route=\"/hello/{name}\",status=\"200\""));
    close_server(&s);
}

/* Building a server: every mistake is an error naming it, never a crash. */
static void build_errors(void **state)
{
    (void)state;
    kura_app *app = open_app();
    kura_http_opts o = quiet_opts();
    kura_error err = {0};
    kura_http *srv = kura_http_new(app, &o, &err);
    assert_non_null(srv);
    assert_false(kura_http_mount(srv, "/x", "nope", &err));
    assert_int_equal(err.code, KURA_NOT_FOUND);
    assert_non_null(strstr(err.message, "'nope'"));
    const char *bad_paths[] = {"x", "/", "/a/", "/a//b", "/a/{id}", "/a b", "/\"q\""};
    for (size_t i = 0; i < sizeof bad_paths / sizeof bad_paths[0]; i++) {
        assert_false(kura_http_mount(srv, bad_paths[i], "t_user", &err));
        assert_int_equal(err.code, KURA_INVALID);
    }
    assert_false(kura_http_handle(srv, "BREW", "/pot", silent, NULL, 0, &err));
    assert_int_equal(err.code, KURA_INVALID);
    assert_false(kura_http_handle(srv, "GET", "/a\"b", silent, NULL, 0, &err));
    assert_int_equal(err.code, KURA_INVALID);
    assert_true(kura_http_handle(srv, "GET", "/pot", silent, NULL, 0, &err));
    assert_false(kura_http_handle(srv, "GET", "/pot", silent, NULL, 0, &err));
    assert_int_equal(err.code, KURA_CONFLICT);
    /* The table grows: many models' worth of routes. */
    for (int i = 0; i < 300; i++) {
        char path[32];
        snprintf(path, sizeof path, "/m%d", i);
        assert_true(kura_http_mount(srv, path, i % 2 ? "t_user" : "t_doc", &err));
    }
    server s = {.app = app, .srv = srv};
    listen_on(&s);
    response r = GET(&s, "/m299/1");
    expect(&r, 404); /* the last route answers: no such row */
    assert_non_null(strstr(r.body, "not found"));
    assert_false(kura_http_handle(srv, "GET", "/late", silent, NULL, 0, &err));
    assert_int_equal(err.code, KURA_CONFLICT);
    assert_false(kura_http_listen(srv, &err));
    assert_int_equal(err.code, KURA_CONFLICT);
    close_server(&s);

    /* A server that never listened is freed by stop. */
    app = open_app();
    srv = kura_http_new(app, &o, &err);
    assert_true(kura_http_mount_all(srv, &err));
    kura_http_stop(srv);
    o.default_limit = 0;
    assert_null(kura_http_new(app, &o, &err));
    assert_int_equal(err.code, KURA_CONFIG);
    kura_app_close(app);
}

int main(void)
{
    t_doc_model = t_user_model;
    t_doc_model.name = "t_doc";
    curl_global_init(CURL_GLOBAL_DEFAULT);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(two_models_at_paths),   cmocka_unit_test(mount_all_uses_model_paths),
        cmocka_unit_test(mount_all_in_one_call), cmocka_unit_test(custom_handlers),
        cmocka_unit_test(build_errors),
    };
    int failed = cmocka_run_group_tests_name("http library", tests, NULL, NULL);
    curl_global_cleanup();
    return failed;
}
