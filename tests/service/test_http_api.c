/*
 * test_http_api.c — the public HTTP library (kura/http.h) over real HTTP: two
 * models of the tests' own mounted at paths of the test's choosing, every
 * registered model mounted in one call, a program's own handlers (path
 * parameters, query parameters, JSON bodies, headers, problems, the token
 * rules), the errors of building a server, and a model without timestamps.
 * libcurl is the client.
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

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <cmocka.h>
#include <curl/curl.h>
#include <jansson.h>
#include <mongoc/mongoc.h>

#include <kura/http.h>
#include <kura/kura.h>

#include "http_client.h"
#include "wait_until.h"
#include "unit/t_user.h"

static kura_model t_doc_model; /* t_user's fields, as documents */
/* t_user's name under a key of the caller's choosing. */
static const kura_model t_named_model =
    KURA_MODEL_KEYED(t_user, "t_named", KURA_KEY_STRING, KURA_STRING(t_user, name, 128));

typedef struct server {
    kura_app *app;
    kura_http *srv;
    char base[64];
} server;

typedef http_response response;

/* One request to the test's server (http_client.h). */
static response call(const server *s, const char *method, const char *path, const char *type,
                     const char *body, const char *auth)
{
    return http_call(s->base, method, path, type, body, auth);
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

/* A fresh app on the database at url with t_user (SQL) and t_doc (documents), migrated. */
static kura_app *open_app_at(const char *url)
{
    kura_config *cfg = kura_config_new();
    kura_config_set(cfg, "database_url", url, NULL);
    kura_error err = {0};
    kura_app *app = kura_app_open(cfg, &err);
    kura_config_free(cfg);
    assert_non_null(app);
    assert_true(kura_app_register(app, &t_user_model, KURA_IN_SQL, &err));
    assert_true(kura_app_register(app, &t_doc_model, KURA_IN_DOCUMENTS, &err));
    assert_true(kura_app_migrate(app, 0, NULL, NULL, NULL, NULL, &err));
    return app;
}

/* A fresh in-memory app (open_app_at). */
static kura_app *open_app(void)
{
    return open_app_at("sqlite://:memory:");
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

/* A JSON body {"<key>": "xxx..."} of about `bytes` bytes, malloc'd. */
static char *padded(const char *before, size_t bytes, const char *after)
{
    char *b = malloc(bytes + 64);
    assert_non_null(b);
    size_t n = (size_t)snprintf(b, 64, "%s\"", before);
    memset(b + n, 'x', bytes);
    snprintf(b + n + bytes, 64, "\"%s", after);
    return b;
}

/* The limits the README documents, at their defaults: list size (default and
 * cap), session data, ranking scores. */
static void documented_limits(void **state)
{
    (void)state;
    kura_http_opts d;
    kura_http_opts_default(&d);
    assert_int_equal(d.default_limit, 100);
    assert_int_equal(d.max_limit, 1000);
    assert_int_equal(d.max_body, 64 * 1024);
    assert_int_equal(d.max_header, 16 * 1024);
    assert_int_equal(d.timeout_s, 15);
    assert_int_equal(d.max_conns, 1024);
    assert_int_equal(d.session_ttl_s, 86400);

    server s = {.app = open_app()};
    kura_error err = {0};
    for (int i = 0; i < 150; i++) {
        t_user u;
        kura_init(&t_user_model, &u);
        snprintf(u.name, sizeof u.name, "u%d", i);
        snprintf(u.email, sizeof u.email, "u%d@example.com", i);
        assert_true(kura_insert(kura_app_db(s.app), &t_user_model, &u, &err));
        kura_clear(&t_user_model, &u);
    }
    kura_http_opts o = quiet_opts();
    o.default_limit = d.default_limit;
    o.max_limit = d.max_limit;
    s.srv = kura_http_new(s.app, &o, &err);
    assert_non_null(s.srv);
    assert_true(kura_http_mount_all(s.srv, &err) && kura_http_mount_sessions(s.srv, NULL, &err) &&
                kura_http_mount_rankings(s.srv, NULL, &err));
    listen_on(&s);

    response r = GET(&s, "/t_user");
    json_t *j = json_of(&r);
    assert_int_equal(json_array_size(json_object_get(j, "items")), 100);
    assert_int_equal(json_integer_value(json_object_get(j, "total")), 150);
    json_decref(j);
    r = GET(&s, "/t_user?limit=100000");
    j = json_of(&r);
    assert_int_equal(json_array_size(json_object_get(j, "items")), 150);
    assert_int_equal(json_integer_value(json_object_get(j, "limit")), 1000);
    json_decref(j);

    /* Session data: 4 KiB of JSON. */
    char *body = padded("{\"d\":", 4000, "}");
    r = POST(&s, "/session", body);
    expect(&r, 201);
    free(body);
    body = padded("{\"d\":", 4200, "}");
    r = POST(&s, "/session", body);
    expect(&r, 413);
    free(body);

    /* Scores and increments within +-1e15. */
    r = POST(&s, "/rankings/b", "{\"member\":\"a\",\"score\":1e15}");
    expect(&r, 200);
    r = POST(&s, "/rankings/b", "{\"member\":\"a\",\"score\":1.5e15}");
    expect(&r, 422);
    assert_non_null(strstr(r.body, "\"field\":\"score\""));
    r = POST(&s, "/rankings/b", "{\"member\":\"a\",\"increment\":-2e15}");
    expect(&r, 422);
    close_server(&s);
}

/* An idle connection is closed once timeout_s has passed. */
static void idle_connections_close(void **state)
{
    (void)state;
    server s = {.app = open_app()};
    kura_http_opts o = quiet_opts();
    o.timeout_s = 1;
    kura_error err = {0};
    s.srv = kura_http_new(s.app, &o, &err);
    assert_non_null(s.srv);
    assert_true(kura_http_mount_health(s.srv, NULL, &err));
    listen_on(&s);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(kura_http_port(s.srv))};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof a), 0);
    long long start = kura_test_now_ms();
    struct timeval tv = {10, 0}; /* a bound on the wait: the close must come well before */
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    char c;
    ssize_t n = recv(fd, &c, 1, 0);
    long long waited = kura_test_now_ms() - start;
    close(fd);
    assert_int_equal(n, 0); /* closed by the server, not timed out here */
    assert_true(waited >= 900 && waited < 9000);
    close_server(&s);
}

/* A dead key-value store: its routes answer 503 problem+json, /health says 503,
 * and the routes that do not need it keep answering. */
static void dead_store_degrades_its_routes_only(void **state)
{
    (void)state;
    int probe = socket(AF_INET, SOCK_STREAM, 0); /* a port nobody listens on */
    struct sockaddr_in a = {.sin_family = AF_INET};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    assert_int_equal(bind(probe, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(getsockname(probe, (struct sockaddr *)&a, &len), 0);
    char url[96];
    snprintf(url, sizeof url, "redis://127.0.0.1:%u/0?timeout=500", (unsigned)ntohs(a.sin_port));
    close(probe);

    kura_config *cfg = kura_config_new();
    kura_config_set(cfg, "database_url", "sqlite://:memory:", NULL);
    kura_config_set(cfg, "redis_url", url, NULL);
    kura_error err = {0};
    server s = {.app = kura_app_open(cfg, &err)};
    kura_config_free(cfg);
    if (!s.app)
        fail_msg("an app whose Redis is down must still open: %s", err.message);
    assert_true(kura_app_register(s.app, &t_user_model, KURA_IN_SQL, &err));
    assert_true(kura_app_migrate(s.app, 0, NULL, NULL, NULL, NULL, &err));
    kura_http_opts o = quiet_opts();
    s.srv = kura_http_start(s.app, &o, &err);
    assert_non_null(s.srv);
    snprintf(s.base, sizeof s.base, "http://127.0.0.1:%u", (unsigned)kura_http_port(s.srv));

    response r = POST(&s, "/rankings/b", "{\"member\":\"a\",\"score\":1}");
    expect(&r, 503);
    assert_non_null(strstr(r.headers, "application/problem+json"));
    r = GET(&s, "/rankings/b");
    expect(&r, 503);
    r = POST(&s, "/session", "{\"a\":1}");
    expect(&r, 503);
    r = GET(&s, "/health");
    expect(&r, 503);
    r = POST(&s, "/t_user", "{\"name\":\"a\",\"email\":\"a@example.com\"}");
    expect(&r, 201);
    r = GET(&s, "/t_user/1");
    expect(&r, 200);
    kura_http_stop(s.srv);
    kura_app_close(s.app);
}

/* While a server listens, the libraries' log lines are its JSON log lines; on
 * stop the program's own handler is back. */
static void library_logs_are_the_servers(void **state)
{
    (void)state;
    kura_log_set_handler(NULL, NULL);
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    server s = {.app = open_app()};
    kura_http_opts o = quiet_opts();
    o.log_fd = fds[1];
    kura_error err = {0};
    s.srv = kura_http_new(s.app, &o, &err);
    assert_non_null(s.srv);
    listen_on(&s);
    kura_store *docs =
        kura_document_store_open("mongodb://127.0.0.1:1/x?serverSelectionTimeoutMS=50", &err);
    mongoc_log(MONGOC_LOG_LEVEL_WARNING, "stream", "Failed to buffer 4 bytes");
    close_server(&s);
    kura_store_close(docs);
    close(fds[1]);
    char text[4096] = "";
    ssize_t n = read(fds[0], text, sizeof text - 1);
    close(fds[0]);
    assert_true(n > 0);
    text[n] = '\0';
    const char *line = strstr(text, "mongoc stream: Failed to buffer 4 bytes");
    assert_non_null(line);
    while (line > text && line[-1] != '\n')
        line--;
    json_t *j = json_loadb(line, strcspn(line, "\n"), 0, NULL);
    assert_non_null(j); /* a JSON line like the server's own */
    assert_string_equal(json_string_value(json_object_get(j, "level")), "warn");
    json_decref(j);
    kura_log_fn fn = NULL;
    kura_log_get_handler(&fn, NULL);
    assert_null(fn);
}

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
/* ?include= on a list: the rows a page references, beside it; only of a
 * model the server serves, so include never shows a row its path would not. */
typedef struct t_note {
    kura_base base;
    int64_t user_id;
    char text[KURA_STRING_BYTES(64)];
} t_note;
static const kura_model t_note_model =
    KURA_MODEL(t_note, "t_note", KURA_INT64(t_note, user_id, .references = &t_user_model),
               KURA_STRING(t_note, text, 64));

static void include_serves_only_served_models(void **state)
{
    (void)state;
    for (int serve_users = 0; serve_users < 2; serve_users++) {
        server s = {.app = open_app()};
        kura_error err = {0};
        assert_true(kura_app_register(s.app, &t_note_model, KURA_IN_SQL, &err));
        assert_true(kura_app_migrate(s.app, 0, NULL, NULL, NULL, NULL, &err));
        kura_http_opts o = quiet_opts();
        s.srv = kura_http_new(s.app, &o, &err);
        assert_non_null(s.srv);
        assert_true(kura_http_mount(s.srv, "/notes", "t_note", &err));
        if (serve_users)
            assert_true(kura_http_mount(s.srv, "/people", "t_user", &err));
        listen_on(&s);
        kura_store *db = kura_app_db(s.app);
        t_user ann = {0};
        snprintf(ann.name, sizeof ann.name, "ann");
        snprintf(ann.email, sizeof ann.email, "ann@example.com");
        assert_true(kura_insert(db, &t_user_model, &ann, &err));
        for (int i = 0; i < 3; i++) {
            t_note n = {.user_id = ann.base.id};
            snprintf(n.text, sizeof n.text, "note %d", i);
            assert_true(kura_insert(db, &t_note_model, &n, &err));
        }
        response r = GET(&s, "/notes?include=user_id");
        if (!serve_users) {
            expect(&r, 400);
            assert_non_null(strstr(r.body, "references a model served here"));
            assert_null(strstr(r.body, "ann@example.com"));
        } else {
            expect(&r, 200);
            json_t *j = json_of(&r);
            json_t *users = json_object_get(json_object_get(j, "included"), "user_id");
            assert_int_equal(json_array_size(users), 1); /* three notes, one user */
            assert_string_equal(
                json_string_value(json_object_get(json_array_get(users, 0), "name")), "ann");
            json_decref(j);
            r = GET(&s, "/notes?include=text");
            expect(&r, 400);
            r = GET(&s, "/notes?include=user_id,user_id");
            expect(&r, 400);
            r = GET(&s, "/notes?include=user_id&include=user_id");
            expect(&r, 400);
            assert_non_null(strstr(r.body, "include is given 2 times"));
        }
        close_server(&s);
    }
}

/* A page of SQL rows includes rows of a documents model: the included rows'
 * reads are counted in the metrics of the store they were read from (an
 * operator looking for the store that fails must find its errors there). */
typedef struct t_dauthor {
    kura_base base;
    char name[KURA_STRING_BYTES(32)];
} t_dauthor;
static const kura_model t_dauthor_model =
    KURA_MODEL(t_dauthor, "t_dauthor", KURA_STRING(t_dauthor, name, 32));
typedef struct t_snote {
    kura_base base;
    int64_t author_id;
    char text[KURA_STRING_BYTES(64)];
} t_snote;
static const kura_model t_snote_model =
    KURA_MODEL(t_snote, "t_snote", KURA_INT64(t_snote, author_id, .references = &t_dauthor_model),
               KURA_STRING(t_snote, text, 64));

static void include_counts_the_store_it_reads(void **state)
{
    (void)state;
    kura_config *cfg = kura_config_new();
    kura_config_set(cfg, "database_url", "sqlite://:memory:", NULL);
    kura_error err = {0};
    server s = {.app = kura_app_open(cfg, &err)};
    kura_config_free(cfg);
    assert_non_null(s.app);
    assert_true(kura_app_register(s.app, &t_dauthor_model, KURA_IN_DOCUMENTS, &err));
    assert_true(kura_app_register(s.app, &t_snote_model, KURA_IN_SQL, &err));
    kura_store *db = kura_app_db(s.app);
    /* The SQL foreign key needs a table of that name beside the collection. */
    assert_true(kura_create(db, &t_dauthor_model, &err));
    assert_true(kura_create(db, &t_snote_model, &err));
    t_dauthor ann = {0};
    snprintf(ann.name, sizeof ann.name, "ann");
    assert_true(kura_insert(db, &t_dauthor_model, &ann, &err));
    t_snote n = {.author_id = ann.base.id};
    snprintf(n.text, sizeof n.text, "hello");
    assert_true(kura_insert(db, &t_snote_model, &n, &err));
    kura_http_opts o = quiet_opts();
    o.log_level = KURA_LOG_ERROR;
    s.srv = kura_http_new(s.app, &o, &err);
    assert_non_null(s.srv);
    assert_true(kura_http_mount(s.srv, "/authors", "t_dauthor", &err));
    assert_true(kura_http_mount(s.srv, "/notes", "t_snote", &err));
    assert_true(kura_http_mount_metrics(s.srv, "/metrics", &err));
    listen_on(&s);

    t_dauthor doc = {0};
    snprintf(doc.name, sizeof doc.name, "ann");
    assert_true(kura_insert(kura_app_documents(s.app), &t_dauthor_model, &doc, &err));
    assert_int_equal(doc.base.id, ann.base.id);

    response r = GET(&s, "/notes?include=author_id");
    expect(&r, 200);
    assert_non_null(strstr(r.body, "\"included\":{\"author_id\":[{"));
    assert_true(metrics_show(&s, "kura_store_operations_total{store=\"sql\",op=\"find\"} 1\n"));
    assert_true(
        metrics_show(&s, "kura_store_operations_total{store=\"document\",op=\"find\"} 1\n"));
    close_server(&s);
}

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

static long age_in(const response *r)
{
    json_t *j = json_of(r);
    long age = (long)json_integer_value(json_object_get(j, "age"));
    json_decref(j);
    return age;
}

/* cache_ttl_ms: GET by key from memory; every write this process makes
 * through the store drops the entry at once, others show within the TTL. */
static void hot_rows_from_memory(void **state)
{
    (void)state;
    server s = {.app = open_app()};
    kura_http_opts o = quiet_opts();
    o.cache_ttl_ms = 1500; /* long enough that a slow (sanitized) run sees the stale answer */
    kura_error err = {0};
    s.srv = kura_http_new(s.app, &o, &err);
    assert_non_null(s.srv);
    assert_true(kura_http_mount(s.srv, "/people", "t_user", &err));
    assert_true(kura_http_mount(s.srv, "/notes", "t_doc", &err));
    assert_true(kura_http_mount_metrics(s.srv, "/metrics", &err));
    listen_on(&s);
    kura_store *db = kura_app_db(s.app);
    response r = POST(&s, "/people", "{\"name\":\"ann\",\"email\":\"ann@example.com\",\"age\":30}");
    expect(&r, 201);
    r = GET(&s, "/people/1");
    expect(&r, 200);
    assert_int_equal(age_in(&r), 30);
    response again = GET(&s, "/people/1"); /* from memory: the same bytes */
    expect(&again, 200);
    assert_int_equal(again.len, r.len);
    assert_memory_equal(again.body, r.body, r.len);
    assert_true(metrics_show(&s, "kura_http_cache_hits_total 1"));

    /* Writes through the store, by every door, are seen at once. */
    r = call(&s, "PATCH", "/people/1", "application/json", "{\"age\":31}", NULL);
    expect(&r, 200);
    assert_int_equal(age_in(&r), 31);
    r = GET(&s, "/people/1");
    assert_int_equal(age_in(&r), 31);
    t_user u;
    assert_true(kura_get(db, &t_user_model, 1, &u, &err));
    u.age = 32;
    assert_true(kura_update(db, &t_user_model, &u, &err)); /* the program's own write */
    kura_clear(&t_user_model, &u);
    r = GET(&s, "/people/1");
    assert_int_equal(age_in(&r), 32);
    kura_query q = kura_query_for(&t_user_model);
    kura_where_int(&q, "age", KURA_EQ, 32);
    kura_assign set = {"age", KURA_VINT(33)};
    int64_t n = 0;
    assert_true(kura_update_where(db, &q, &set, 1, &n, &err)); /* many rows at once */
    r = GET(&s, "/people/1");
    assert_int_equal(age_in(&r), 33);
    assert_true(kura_begin(db, &err));
    assert_true(kura_update_where(db, &q, &set, 1, &n, &err)); /* nothing: age is 33 */
    kura_query q33 = kura_query_for(&t_user_model);
    kura_where_int(&q33, "age", KURA_EQ, 33);
    kura_assign set34 = {"age", KURA_VINT(34)};
    assert_true(kura_update_where(db, &q33, &set34, 1, &n, &err));
    assert_true(kura_commit(db, &err)); /* a transaction's writes, at its commit */
    r = GET(&s, "/people/1");
    assert_int_equal(age_in(&r), 34);

    /* Raw SQL is not seen by the hooks: the answer is stale until it expires. */
    assert_true(kura_sql_exec(db, "UPDATE t_user SET age = 35 WHERE id = 1", NULL, 0, NULL, &err));
    r = GET(&s, "/people/1");
    assert_int_equal(age_in(&r), 34);
    usleep(1600 * 1000);
    r = GET(&s, "/people/1");
    assert_int_equal(age_in(&r), 35);

    /* Documents too; a deleted row is gone, and a miss is not kept. */
    r = POST(&s, "/notes", "{\"name\":\"bo\",\"email\":\"bo@example.com\",\"age\":40}");
    expect(&r, 201);
    r = GET(&s, "/notes/1");
    assert_int_equal(age_in(&r), 40);
    r = call(&s, "PATCH", "/notes/1", "application/json", "{\"age\":41}", NULL);
    expect(&r, 200);
    r = GET(&s, "/notes/1");
    assert_int_equal(age_in(&r), 41);
    r = call(&s, "DELETE", "/people/1", NULL, NULL, NULL);
    expect(&r, 204);
    r = GET(&s, "/people/1");
    expect(&r, 404);
    /* SQLite gives the new row the freed id 1 again: not the deleted row's answer. */
    r = POST(&s, "/people", "{\"name\":\"cy\",\"email\":\"cy@example.com\",\"age\":50}");
    expect(&r, 201);
    r = GET(&s, "/people/1");
    assert_int_equal(age_in(&r), 50);
    close_server(&s);
}

/* A server with the hot-row cache on, /people and /metrics mounted, listening. */
static kura_http *cached_server(kura_app *app, char base[64])
{
    kura_http_opts o = quiet_opts();
    o.cache_ttl_ms = 60000;
    kura_error err = {0};
    kura_http *srv = kura_http_new(app, &o, &err);
    assert_non_null(srv);
    assert_true(kura_http_mount(srv, "/people", "t_user", &err));
    assert_true(kura_http_mount_metrics(srv, "/metrics", &err));
    assert_true(kura_http_listen(srv, &err));
    snprintf(base, 64, "http://127.0.0.1:%u", (unsigned)kura_http_port(srv));
    return srv;
}

static void set_age(kura_store *db, long age)
{
    kura_error err = {0};
    t_user u;
    assert_true(kura_get(db, &t_user_model, 1, &u, &err));
    u.age = (int32_t)age;
    assert_true(kura_update(db, &t_user_model, &u, &err));
    kura_clear(&t_user_model, &u);
}

/* Two servers and a model cache on one store, each stopped or freed in an
 * order other than the reverse of their making: the others go on hearing the
 * writes, and a write after all are gone reaches none of them (no freed
 * hook is called). */
static void write_hooks_leave_in_any_order(void **state)
{
    (void)state;
    kura_app *app = open_app();
    kura_store *db = kura_app_db(app);
    kura_error err = {0};
    t_user u;
    kura_init(&t_user_model, &u);
    snprintf(u.name, sizeof u.name, "ann");
    snprintf(u.email, sizeof u.email, "ann@example.com");
    u.age = 30;
    assert_true(kura_insert(db, &t_user_model, &u, &err));
    kura_clear(&t_user_model, &u);
    server one = {.app = app}, two = {.app = app};
    one.srv = cached_server(app, one.base);
    two.srv = cached_server(app, two.base);
    kura_model_cache *mc = kura_model_cache_new(db, kura_app_kv(app), "hooks:", 60000, &err);
    assert_non_null(mc);
    response r = GET(&two, "/people/1");
    assert_int_equal(age_in(&r), 30);
    assert_true(kura_cache_get(mc, &t_user_model, 1, &u, &err));
    kura_clear(&t_user_model, &u);

    kura_http_stop(one.srv); /* the first made goes first */
    set_age(db, 31);
    r = GET(&two, "/people/1");
    assert_int_equal(age_in(&r), 31);
    assert_true(kura_cache_get(mc, &t_user_model, 1, &u, &err));
    assert_int_equal(u.age, 31);
    kura_clear(&t_user_model, &u);

    kura_http_stop(two.srv);
    set_age(db, 32);
    assert_true(kura_cache_get(mc, &t_user_model, 1, &u, &err));
    assert_int_equal(u.age, 32);
    kura_clear(&t_user_model, &u);
    kura_model_cache_free(mc);
    set_age(db, 33); /* no hook is left to call */
    kura_app_close(app);
}

/* A PATCH (an update by key alone) drops its own row's answer, not every
 * answer of the model: under a steady trickle of PATCHes the other hot rows
 * stay in memory, and a PATCH costs no walk over the whole cache. */
static void patch_drops_only_its_row(void **state)
{
    (void)state;
    server s = {.app = open_app()};
    s.srv = cached_server(s.app, s.base);
    kura_error err = {0};
    response r = POST(&s, "/people", "{\"name\":\"ann\",\"email\":\"ann@example.com\",\"age\":30}");
    expect(&r, 201);
    r = POST(&s, "/people", "{\"name\":\"bo\",\"email\":\"bo@example.com\",\"age\":40}");
    expect(&r, 201);
    r = GET(&s, "/people/1"); /* two misses: both kept */
    r = GET(&s, "/people/2");
    r = call(&s, "PATCH", "/people/2", "application/json", "{\"age\":41}", NULL);
    expect(&r, 200);
    r = GET(&s, "/people/2"); /* its own answer went: a miss */
    assert_int_equal(age_in(&r), 41);
    r = GET(&s, "/people/1"); /* the other stayed: a hit */
    assert_int_equal(age_in(&r), 30);
    assert_true(metrics_show(&s, "kura_http_cache_hits_total 1\n"));
    /* The program's own update of one row by key drops only that row too,
     * and one naming many rows drops them all. */
    kura_query q = kura_query_for(&t_user_model);
    kura_where_int(&q, "id", KURA_EQ, 1);
    kura_assign set = {"age", KURA_VINT(31)};
    assert_true(kura_update_where(kura_app_db(s.app), &q, &set, 1, NULL, &err));
    r = GET(&s, "/people/1");
    assert_int_equal(age_in(&r), 31);
    r = GET(&s, "/people/2");
    assert_int_equal(age_in(&r), 41);
    assert_true(metrics_show(&s, "kura_http_cache_hits_total 2\n"));
    q = kura_query_for(&t_user_model);
    kura_where_int(&q, "age", KURA_GT, 0);
    set = (kura_assign){"age", KURA_VINT(50)};
    assert_true(kura_update_where(kura_app_db(s.app), &q, &set, 1, NULL, &err));
    r = GET(&s, "/people/1");
    assert_int_equal(age_in(&r), 50);
    r = GET(&s, "/people/2");
    assert_int_equal(age_in(&r), 50);
    close_server(&s);
}

/* cache_entries is a bound: with 1, one answer is kept, the last read. */
static void cache_entries_bound_the_answers_kept(void **state)
{
    (void)state;
    server s = {.app = open_app()};
    kura_http_opts o = quiet_opts();
    o.cache_ttl_ms = 60000;
    o.cache_entries = 1;
    kura_error err = {0};
    s.srv = kura_http_new(s.app, &o, &err);
    assert_non_null(s.srv);
    assert_true(kura_http_mount(s.srv, "/people", "t_user", &err));
    assert_true(kura_http_mount_metrics(s.srv, "/metrics", &err));
    listen_on(&s);
    for (int i = 0; i < 8; i++) {
        char body[128];
        snprintf(body, sizeof body, "{\"name\":\"p%d\",\"email\":\"p%d@example.com\"}", i, i);
        response r = POST(&s, "/people", body);
        expect(&r, 201);
    }
    for (int round = 0; round < 2; round++)
        for (int i = 1; i <= 8; i++) {
            char path[32];
            snprintf(path, sizeof path, "/people/%d", i);
            response r = GET(&s, path);
            expect(&r, 200);
        }
    response r = GET(&s, "/people/8"); /* the one kept */
    expect(&r, 200);
    assert_true(metrics_show(&s, "kura_http_cache_hits_total 1\n"));
    close_server(&s);
}

/* An answer bigger than the cache keeps (16 KiB) is read from the store each
 * time: the cache's memory is bounded by cache_entries times that, whatever
 * the rows hold. */
static void big_answers_are_not_kept(void **state)
{
    (void)state;
    server s = {.app = open_app()};
    s.srv = cached_server(s.app, s.base);
    char *body = padded("{\"name\":\"big\",\"email\":\"big@example.com\",\"bio\":", 20000, "}");
    response r = POST(&s, "/people", body);
    free(body);
    expect(&r, 201);
    r = GET(&s, "/people/1");
    expect(&r, 200);
    r = GET(&s, "/people/1");
    expect(&r, 200);
    assert_true(r.len > 20000);
    assert_true(metrics_show(&s, "kura_http_cache_misses_total 2\n"));
    assert_true(metrics_show(&s, "kura_http_cache_hits_total 0\n"));
    close_server(&s);
}

/* A stored row JSON cannot carry (text that is not UTF-8, written by another
 * program) is a misfit, as a document that does not fit the model is: 409
 * naming the field for the row, and in a list it is left out of the items and
 * named under "misfits" instead of failing the whole page with a 500. Such an
 * answer is not kept: the row mended shows at once. */
static void unwritable_rows_are_misfits(void **state)
{
    (void)state;
    server s = {.app = open_app()};
    s.srv = cached_server(s.app, s.base);
    kura_store *db = kura_app_db(s.app);
    kura_error err = {0};
    response r = POST(&s, "/people", "{\"name\":\"ann\",\"email\":\"ann@example.com\"}");
    expect(&r, 201);
    r = POST(&s, "/people", "{\"name\":\"bo\",\"email\":\"bo@example.com\"}");
    expect(&r, 201);
    assert_true(kura_sql_exec(db, "UPDATE t_user SET bio = CAST(X'41FF42' AS TEXT) WHERE id = 1",
                              NULL, 0, NULL, &err));
    r = GET(&s, "/people/1");
    expect(&r, 409);
    assert_non_null(strstr(r.body, "bio"));
    r = GET(&s, "/people");
    expect(&r, 200);
    json_t *j = json_of(&r);
    json_t *items = json_object_get(j, "items");
    assert_int_equal(json_array_size(items), 1);
    assert_int_equal(json_integer_value(json_object_get(json_array_get(items, 0), "id")), 2);
    assert_int_equal(json_integer_value(json_object_get(j, "total")), 2);
    json_t *misfit = json_array_get(json_object_get(j, "misfits"), 0);
    assert_non_null(misfit);
    assert_string_equal(json_string_value(json_object_get(misfit, "id")), "1");
    assert_string_equal(json_string_value(json_object_get(misfit, "field")), "bio");
    json_decref(j);
    assert_true(
        kura_sql_exec(db, "UPDATE t_user SET bio = 'mended' WHERE id = 1", NULL, 0, NULL, &err));
    r = GET(&s, "/people/1");
    expect(&r, 200);
    close_server(&s);

    /* A key that is not UTF-8 is the row's misfit too (field "id"). */
    s.app = open_app();
    db = kura_app_db(s.app);
    assert_true(kura_app_register(s.app, &t_named_model, KURA_IN_SQL, &err));
    assert_true(kura_app_migrate(s.app, 0, NULL, NULL, NULL, NULL, &err));
    kura_http_opts o = quiet_opts();
    s.srv = kura_http_new(s.app, &o, &err);
    assert_non_null(s.srv);
    assert_true(kura_http_mount(s.srv, "/named", "t_named", &err));
    listen_on(&s);
    r = POST(&s, "/named", "{\"id\":\"ann\",\"name\":\"Ann\"}");
    expect(&r, 201);
    assert_true(kura_sql_exec(db,
                              "INSERT INTO t_named (id, name) VALUES (CAST(X'41FF' AS TEXT), 'x')",
                              NULL, 0, NULL, &err));
    r = GET(&s, "/named");
    expect(&r, 200);
    j = json_of(&r);
    items = json_object_get(j, "items");
    assert_int_equal(json_array_size(items), 1);
    misfit = json_array_get(json_object_get(j, "misfits"), 0);
    assert_non_null(misfit);
    assert_string_equal(json_string_value(json_object_get(misfit, "field")), "id");
    json_decref(j);
    close_server(&s);
}

/* A transaction's writes reach the hot-row cache at its end: a GET made
 * between a write and the commit (another connection: the row as it was)
 * keeps that answer, and the commit drops it; a rollback leaves the row as it
 * was, and so its answer. */
static void transaction_window(void **state)
{
    (void)state;
    char dir[] = "/tmp/kura-http-tx-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char url[128], file[96];
    snprintf(file, sizeof file, "%s/tx.db", dir);
    snprintf(url, sizeof url, "sqlite:///%s", file);
    server s = {.app = open_app_at(url)};
    s.srv = cached_server(s.app, s.base);
    kura_store *db = kura_app_db(s.app);
    kura_error err = {0};
    response r = POST(&s, "/people", "{\"name\":\"ann\",\"email\":\"ann@example.com\",\"age\":30}");
    expect(&r, 201);
    assert_true(kura_begin(db, &err));
    set_age(db, 31); /* this thread's connection, not yet committed */
    r = GET(&s, "/people/1");
    assert_int_equal(age_in(&r), 30);
    r = GET(&s, "/people/1"); /* kept */
    assert_int_equal(age_in(&r), 30);
    assert_true(kura_commit(db, &err));
    r = GET(&s, "/people/1");
    assert_int_equal(age_in(&r), 31);

    assert_true(kura_begin(db, &err));
    set_age(db, 32);
    r = GET(&s, "/people/1");
    assert_int_equal(age_in(&r), 31);
    assert_true(kura_rollback(db, &err));
    r = GET(&s, "/people/1");
    assert_int_equal(age_in(&r), 31);
    close_server(&s);
    unlink(file);
    char side[112];
    snprintf(side, sizeof side, "%s-wal", file);
    unlink(side);
    snprintf(side, sizeof side, "%s-shm", file);
    unlink(side);
    rmdir(dir);
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
    assert_non_null(strstr(err.message, "default_limit"));
    /* An option out of range is named, with the range it must be in. */
    o = quiet_opts();
    o.cache_ttl_ms = -1;
    assert_null(kura_http_new(app, &o, &err));
    assert_int_equal(err.code, KURA_CONFIG);
    assert_non_null(strstr(err.message, "cache_ttl_ms"));
    assert_non_null(strstr(err.message, "86400000"));
    o.cache_ttl_ms = 1000;
    o.cache_entries = 0;
    assert_null(kura_http_new(app, &o, &err));
    assert_non_null(strstr(err.message, "cache_entries"));
    o.cache_entries = SIZE_MAX;
    assert_null(kura_http_new(app, &o, &err));
    assert_non_null(strstr(err.message, "cache_entries"));
    o = quiet_opts();
    o.threads = 0;
    assert_null(kura_http_new(app, &o, &err));
    assert_non_null(strstr(err.message, "threads"));
    kura_app_close(app);
}

/* A model without created_at/updated_at, in SQL and as documents. */
typedef struct h_post {
    kura_base base;
    char title[KURA_STRING_BYTES(40)];
    int32_t score;
} h_post;
static const kura_model h_post_model =
    KURA_MODEL_EX(h_post, "h_post", KURA_KEY_INT64, KURA_MODEL_NO_TIMESTAMPS,
                  KURA_STRING(h_post, title, 40, .required = true), KURA_INT32(h_post, score));
static kura_model h_post_docs; /* the same, as the collection "h_post_doc" */

static void no_stamps_at(const server *s, const char *path)
{
    char item[128], url[160];
    response r = POST(s, path, "{\"title\":\"first\",\"score\":1}");
    expect(&r, 201);
    assert_string_equal(r.body, "{\"id\":1,\"title\":\"first\",\"score\":1}");
    r = POST(s, path, "{\"title\":\"second\",\"score\":2}");
    expect(&r, 201);
    snprintf(item, sizeof item, "%s/1", path);

    /* PATCH writes the field and no updated_at. */
    r = call(s, "PATCH", item, "application/json", "{\"score\":10}", NULL);
    expect(&r, 200);
    assert_string_equal(r.body, "{\"id\":1,\"title\":\"first\",\"score\":10}");
    r = GET(s, item);
    expect(&r, 200);
    assert_string_equal(r.body, "{\"id\":1,\"title\":\"first\",\"score\":10}");

    /* The stamps are no fields: a body naming one, and an order by one, are refused. */
    r = POST(s, path, "{\"title\":\"x\",\"created_at\":\"2020-01-01T00:00:00Z\"}");
    expect(&r, 422);
    assert_non_null(strstr(r.body, "created_at is not a field"));
    snprintf(url, sizeof url, "%s?order=-updated_at", path);
    r = GET(s, url);
    expect(&r, 400);
    snprintf(url, sizeof url, "%s?order=-score", path);
    r = GET(s, url);
    expect(&r, 200);
    json_t *j = json_of(&r);
    json_t *first = json_array_get(json_object_get(j, "items"), 0);
    assert_int_equal(json_integer_value(json_object_get(first, "score")), 10);
    assert_null(json_object_get(first, "created_at"));
    assert_null(json_object_get(first, "updated_at"));
    assert_int_equal(json_integer_value(json_object_get(j, "total")), 2);
    json_decref(j);
    r = call(s, "DELETE", item, NULL, NULL, NULL);
    expect(&r, 204);
}

static void no_timestamps_model(void **state)
{
    (void)state;
    server s = {.app = open_app()};
    kura_error err = {0};
    assert_true(kura_app_register(s.app, &h_post_model, KURA_IN_SQL, &err));
    assert_true(kura_app_register(s.app, &h_post_docs, KURA_IN_DOCUMENTS, &err));
    assert_true(kura_app_migrate(s.app, 0, NULL, NULL, NULL, NULL, &err));
    kura_http_opts o = quiet_opts();
    s.srv = kura_http_new(s.app, &o, &err);
    assert_non_null(s.srv);
    assert_true(kura_http_mount(s.srv, "/posts", "h_post", &err));
    assert_true(kura_http_mount(s.srv, "/post_docs", "h_post_doc", &err));
    listen_on(&s);
    no_stamps_at(&s, "/posts");
    no_stamps_at(&s, "/post_docs");
    close_server(&s);
}

int main(void)
{
    h_post_docs = h_post_model;
    h_post_docs.name = "h_post_doc";
    t_doc_model = t_user_model;
    t_doc_model.name = "t_doc";
    curl_global_init(CURL_GLOBAL_DEFAULT);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(two_models_at_paths),
        cmocka_unit_test(include_serves_only_served_models),
        cmocka_unit_test(include_counts_the_store_it_reads),
        cmocka_unit_test(hot_rows_from_memory),
        cmocka_unit_test(write_hooks_leave_in_any_order),
        cmocka_unit_test(patch_drops_only_its_row),
        cmocka_unit_test(cache_entries_bound_the_answers_kept),
        cmocka_unit_test(big_answers_are_not_kept),
        cmocka_unit_test(unwritable_rows_are_misfits),
        cmocka_unit_test(transaction_window),
        cmocka_unit_test(mount_all_uses_model_paths),
        cmocka_unit_test(mount_all_in_one_call),
        cmocka_unit_test(custom_handlers),
        cmocka_unit_test(build_errors),
        cmocka_unit_test(documented_limits),
        cmocka_unit_test(idle_connections_close),
        cmocka_unit_test(dead_store_degrades_its_routes_only),
        cmocka_unit_test(library_logs_are_the_servers),
        cmocka_unit_test(no_timestamps_model),
    };
    int failed = cmocka_run_group_tests_name("http library", tests, NULL, NULL);
    curl_global_cleanup();
    return failed;
}
