/*
 * test_http_newuser.c — what a new user met first, serving a schema file of
 * their own (a ticket tracker: projects keyed by strings, tickets that
 * reference them, comments as documents) through kura_http_mount_all, as
 * `kura --models FILE serve` does. Each test is a defect found that way.
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

#include <cmocka.h>
#include <curl/curl.h>
#include <jansson.h>

#include <kura/http.h>
#include <kura/kura.h>

#include "http_client.h"

static const char tracker[] =
    "{\"models\":["
    "{\"name\":\"project\",\"key\":\"string\",\"fields\":["
    " {\"name\":\"title\",\"type\":\"string\",\"max_chars\":80,\"required\":true}]},"
    "{\"name\":\"ticket\",\"path\":\"/tickets\",\"fields\":["
    " {\"name\":\"project_id\",\"type\":\"string\",\"max_chars\":63,\"references\":\"project\"},"
    " {\"name\":\"parent\",\"type\":\"int64\",\"references\":\"ticket\"},"
    " {\"name\":\"summary\",\"type\":\"string\",\"max_chars\":200,\"required\":true},"
    " {\"name\":\"cost\",\"type\":\"decimal\",\"precision\":8,\"scale\":2},"
    " {\"name\":\"effort\",\"type\":\"double\"}]},"
    "{\"name\":\"comment\",\"store\":\"documents\",\"key\":\"objectid\",\"fields\":["
    " {\"name\":\"ticket_id\",\"type\":\"int64\",\"references\":\"ticket\"},"
    " {\"name\":\"text\",\"type\":\"text\"}]}]}";

typedef struct server {
    kura_schema *schema;
    kura_app *app;
    kura_http *srv;
    char base[64];
} server;

typedef http_response response;

/* One request; body NULL for none (then no Content-Type either). */
static response call(const server *s, const char *method, const char *path, const char *body)
{
    return http_call(s->base, method, path, body ? "application/json" : NULL, body, NULL);
}

static void expect(const response *r, long status)
{
    if (r->status != status)
        fail_msg("expected %ld, got %ld: %s", status, r->status, r->body);
}

/* The tracker's models in a fresh in-memory app, migrated, and a server
 * with no routes yet. */
static void open_tracker(server *s)
{
    kura_error err = {0};
    s->schema = kura_schema_load_string(tracker, &err);
    if (!s->schema)
        fail_msg("schema: %s", err.message);
    kura_config *cfg = kura_config_new();
    kura_config_set(cfg, "database_url", "sqlite://:memory:", NULL);
    s->app = kura_app_open(cfg, &err);
    kura_config_free(cfg);
    assert_non_null(s->app);
    for (size_t i = 0; i < kura_schema_count(s->schema); i++) {
        const kura_model *m = kura_schema_model(s->schema, i);
        kura_model_home home = strcmp(m->name, "comment") == 0 ? KURA_IN_DOCUMENTS : KURA_IN_SQL;
        assert_true(kura_app_register(s->app, m, home, &err));
    }
    assert_true(kura_app_set_model_path(s->app, "ticket", "/tickets", &err));
    assert_true(kura_app_migrate(s->app, 0, NULL, NULL, NULL, NULL, &err));
    kura_http_opts o;
    kura_http_opts_default(&o);
    o.port = 0;
    o.threads = 2;
    o.log_level = KURA_LOG_ERROR;
    s->srv = kura_http_new(s->app, &o, &err);
    assert_non_null(s->srv);
}

/* open_tracker, every model mounted at its path, listening on a free port. */
static void start(server *s)
{
    kura_error err = {0};
    open_tracker(s);
    if (!kura_http_mount_all(s->srv, &err) || !kura_http_listen(s->srv, &err))
        fail_msg("serve: %s", err.message);
    snprintf(s->base, sizeof s->base, "http://127.0.0.1:%u", (unsigned)kura_http_port(s->srv));
}

static void stop(server *s)
{
    kura_http_stop(s->srv);
    kura_app_close(s->app);
    kura_schema_free(s->schema);
}

/* GET /tickets?order=cost on SQLite, which cannot sort decimals (README):
 * the store says KURA_UNSUPPORTED, and the client's query is what must
 * change, so 400 naming the field, as for any order it cannot have; it was
 * a 500. */
static void order_the_store_cannot_sort_is_400(void **state)
{
    (void)state;
    server s = {0};
    start(&s);
    response r = call(&s, "GET", "/tickets?order=cost", NULL);
    expect(&r, 400);
    assert_non_null(strstr(r.body, "cost"));
    r = call(&s, "GET", "/tickets?order=-summary", NULL);
    expect(&r, 200);
    stop(&s);
}

/* A header field's value out of r->headers ("Location"), or "". */
static const char *header(const response *r, const char *name, char *out, size_t size)
{
    out[0] = '\0';
    size_t n = strlen(name);
    for (const char *p = r->headers; (p = strchr(p, '\n')) != NULL;) {
        p++;
        if (strncasecmp(p, name, n) == 0 && p[n] == ':') {
            p += n + 1;
            p += strspn(p, " ");
            snprintf(out, size, "%.*s", (int)strcspn(p, "\r\n"), p);
            break;
        }
    }
    return out;
}

/* POST of a string key the path cannot carry as it is: the Location is
 * percent-encoded, so it names this row ("x?y#z" was sent raw and named
 * /project/x), and a key with '/' is refused, since no path reaches it
 * (libmicrohttpd decodes %2F before routing): it was stored, unreachable. */
static void string_keys_in_paths(void **state)
{
    (void)state;
    server s = {0};
    start(&s);
    char loc[256];
    response r = call(&s, "POST", "/project", "{\"id\":\"x?y#z %41\",\"title\":\"odd\"}");
    expect(&r, 201);
    assert_string_equal(header(&r, "Location", loc, sizeof loc), "/project/x%3Fy%23z%20%2541");
    r = call(&s, "GET", loc, NULL);
    expect(&r, 200);
    assert_non_null(strstr(r.body, "\"title\":\"odd\""));
    r = call(&s, "DELETE", loc, NULL);
    expect(&r, 204);

    r = call(&s, "POST", "/project", "{\"id\":\"a/b\",\"title\":\"slash\"}");
    expect(&r, 422);
    assert_non_null(strstr(r.body, "\"field\":\"id\""));
    r = call(&s, "GET", "/project?title=slash", NULL);
    expect(&r, 200);
    assert_non_null(strstr(r.body, "\"total\":0"));
    stop(&s);
}

/* POST of a row that leaves out a reference that is not required: NULL, no
 * reference, so the row is made; "" or 0 named no row and the foreign key
 * refused it (409) unless the client sent an explicit null. */
static void left_out_reference_is_null(void **state)
{
    (void)state;
    server s = {0};
    start(&s);
    response r = call(&s, "POST", "/tickets", "{\"summary\":\"no project yet\"}");
    expect(&r, 201);
    assert_non_null(strstr(r.body, "\"project_id\":null"));
    assert_non_null(strstr(r.body, "\"parent\":null"));
    r = call(&s, "POST", "/project", "{\"id\":\"core\",\"title\":\"Core\"}");
    expect(&r, 201);
    r = call(&s, "POST", "/tickets",
             "{\"summary\":\"in core\",\"project_id\":\"core\",\"parent\":1}");
    expect(&r, 201);
    assert_non_null(strstr(r.body, "\"project_id\":\"core\""));
    r = call(&s, "POST", "/tickets", "{\"summary\":\"nowhere\",\"project_id\":\"nope\"}");
    expect(&r, 409);
    /* Documents enforce nothing, but the value left out is the same NULL. */
    r = call(&s, "POST", "/comment", "{\"text\":\"loose\"}");
    expect(&r, 201);
    assert_non_null(strstr(r.body, "\"ticket_id\":null"));
    stop(&s);
}

/* A model whose path is another route's (a schema file's "path":"/health",
 * a model named "session", two models at one path): serve refuses to start,
 * naming the path. It served, and whichever was routed second (the health
 * check, the sessions, the second model) was never reached. */
static void paths_taken_twice_are_refused(void **state)
{
    (void)state;
    static const struct {
        const char *model, *path, *taken;
    } cases[] = {
        {"project", "/health", "/health"},
        {"project", "/session", "/session"},
        {"ticket", "/rankings", "/rankings/{board}"},
        {"comment", "/project", "/project"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        server s = {0};
        kura_error err = {0};
        open_tracker(&s);
        assert_true(kura_app_set_model_path(s.app, cases[i].model, cases[i].path, &err));
        assert_false(kura_http_mount_defaults(s.srv, &err));
        assert_int_equal(err.code, KURA_CONFLICT);
        if (!strstr(err.message, cases[i].taken))
            fail_msg("%s at %s: %s", cases[i].model, cases[i].path, err.message);
        kura_http_stop(s.srv);
        kura_app_close(s.app);
        kura_schema_free(s.schema);
    }
    /* A set path that cannot be mounted: the error names the model. */
    {
        server s = {0};
        kura_error err = {0};
        open_tracker(&s);
        assert_true(kura_app_set_model_path(s.app, "project", "/projects/", &err));
        assert_false(kura_http_mount_all(s.srv, &err));
        assert_non_null(strstr(err.message, "model project: '/projects/'"));
        kura_http_stop(s.srv);
        kura_app_close(s.app);
        kura_schema_free(s.schema);
    }
    /* Paths that only share a beginning are two routes. */
    server s = {0};
    kura_error err = {0};
    open_tracker(&s);
    assert_true(kura_app_set_model_path(s.app, "project", "/health/projects", &err));
    assert_true(kura_http_mount_defaults(s.srv, &err));
    assert_true(kura_http_listen(s.srv, &err));
    snprintf(s.base, sizeof s.base, "http://127.0.0.1:%u", (unsigned)kura_http_port(s.srv));
    response r = call(&s, "GET", "/health", NULL);
    expect(&r, 200);
    assert_non_null(strstr(r.body, "\"status\":\"ok\""));
    r = call(&s, "GET", "/health/projects", NULL);
    expect(&r, 200);
    assert_non_null(strstr(r.body, "\"items\":[]"));
    stop(&s);
}

/* A double filter reads its value as a body does: 5e-324 (a subnormal, which
 * strtod flags as an underflow) was a 400 though the row holding it was
 * stored and listed; "nan" and "inf", which no JSON number is, were taken
 * and matched nothing. */
static void double_filters_read_as_bodies(void **state)
{
    (void)state;
    server s = {0};
    start(&s);
    response r = call(&s, "POST", "/tickets", "{\"summary\":\"tiny\",\"effort\":5e-324}");
    expect(&r, 201);
    r = call(&s, "GET", "/tickets?effort=5e-324", NULL);
    expect(&r, 200);
    assert_non_null(strstr(r.body, "\"total\":1"));
    static const char *const refused[] = {"nan", "inf", "-infinity", "1e400", "1.5x", ""};
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
        char path[64];
        snprintf(path, sizeof path, "/tickets?effort=%s", refused[i]);
        r = call(&s, "GET", path, NULL);
        if (r.status != 400)
            fail_msg("%s: %ld %s", path, r.status, r.body);
    }
    stop(&s);
}

/* A 422's reasons are whole sentences: the decimal's was longer than a
 * kura_field_error holds and came cut ("...would be read as a double "). */
static void reasons_are_whole(void **state)
{
    (void)state;
    server s = {0};
    start(&s);
    response r = call(&s, "POST", "/tickets", "{\"summary\":\"x\",\"cost\":12.5}");
    expect(&r, 422);
    assert_non_null(strstr(r.body, "\"reason\":\"cost must be a string such as \\\"12.50\\\" (a "
                                   "double is inexact)\""));
    stop(&s);
}

int main(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(order_the_store_cannot_sort_is_400),
        cmocka_unit_test(string_keys_in_paths),
        cmocka_unit_test(left_out_reference_is_null),
        cmocka_unit_test(paths_taken_twice_are_refused),
        cmocka_unit_test(double_filters_read_as_bodies),
        cmocka_unit_test(reasons_are_whole),
    };
    int failed = cmocka_run_group_tests_name("http, a new user's schema", tests, NULL, NULL);
    curl_global_cleanup();
    return failed;
}
