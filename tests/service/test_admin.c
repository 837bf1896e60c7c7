/*
 * test_admin.c — the admin's rules that need no browser: escaping, the
 * form decoder, the admin off without a password, log-in required, the
 * log-in form's own token, CSRF refusal, the security headers on every
 * answer (a 404 or 405 inside the admin too), a /session cookie that opens
 * nothing here, the admin kept out of /openapi.json, the log-in guard (429
 * after wrong passwords, per client address), and the secret made at the
 * first request that signs a cookie. A server in this process over a
 * :memory: SQLite app (a file one for the secret); libcurl is the client.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <curl/curl.h>

#include <kura/http.h>
#include <kura/kura.h>

#include "http/admin.h"
#include "unit/t_user.h"

#define PASSWORD "s3cret-admin-pass"

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
    char *buf;
    size_t cap, len;
} sink;

static size_t on_data(char *p, size_t size, size_t n, void *ud)
{
    sink *s = ud;
    size_t k = size * n;
    if (s->len + k < s->cap) {
        memcpy(s->buf + s->len, p, k);
        s->len += k;
        s->buf[s->len] = '\0';
    }
    return k;
}

/* The local address requests come from (CURLOPT_INTERFACE), NULL: any. Only
 * the guard's test sets it, to be a second client. */
static const char *source_addr;

/* One request, redirects not followed; cookie a Cookie header value or NULL;
 * form an application/x-www-form-urlencoded body (POST) or NULL. */
static response *call(const server *s, const char *method, const char *path, const char *cookie,
                      const char *type, const char *body)
{
    response *r = calloc(1, sizeof *r);
    assert_non_null(r);
    sink out = {r->body, sizeof r->body, 0}, head = {r->headers, sizeof r->headers, 0};
    CURL *c = curl_easy_init();
    assert_non_null(c);
    char url[512], line[512];
    snprintf(url, sizeof url, "%s%s", s->base, path);
    struct curl_slist *h = curl_slist_append(NULL, "Expect:");
    if (type) {
        snprintf(line, sizeof line, "Content-Type: %s", type);
        h = curl_slist_append(h, line);
    }
    if (cookie) {
        snprintf(line, sizeof line, "Cookie: %s", cookie);
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
    if (source_addr)
        curl_easy_setopt(c, CURLOPT_INTERFACE, source_addr);
    CURLcode rc = curl_easy_perform(c);
    if (rc != CURLE_OK)
        fail_msg("%s %s: %s", method, path, curl_easy_strerror(rc));
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->status);
    r->len = out.len;
    r->hlen = head.len;
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    return r;
}

#define FORM "application/x-www-form-urlencoded"

/* The value of header `name` (first one), copied into out; false when absent. */
static bool header(const response *r, const char *name, char *out, size_t size)
{
    size_t n = strlen(name);
    for (const char *p = r->headers; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL) {
        if (strncasecmp(p, name, n) == 0 && p[n] == ':') {
            const char *v = p + n + 1;
            while (*v == ' ')
                v++;
            size_t len = strcspn(v, "\r\n");
            snprintf(out, size, "%.*s", (int)len, v);
            return true;
        }
    }
    return false;
}

/* "name=value" of the Set-Cookie for `name`, into out. */
static bool set_cookie(const response *r, const char *name, char *out, size_t size)
{
    char want[64];
    snprintf(want, sizeof want, "Set-Cookie: %s=", name);
    const char *p = strstr(r->headers, want);
    if (!p)
        return false;
    p += strlen("Set-Cookie: ");
    snprintf(out, size, "%.*s", (int)strcspn(p, ";\r\n"), p);
    return true;
}

/* The value of the first hidden input named csrf in the page. */
static void csrf_of(const response *r, char *out, size_t size)
{
    const char *p = strstr(r->body, "name=\"csrf\" value=\"");
    assert_non_null(p);
    p += strlen("name=\"csrf\" value=\"");
    snprintf(out, size, "%.*s", (int)strcspn(p, "\""), p);
}

static void expect_security_headers(const response *r)
{
    char v[512];
    assert_true(header(r, "Content-Security-Policy", v, sizeof v));
    assert_memory_equal(v, "default-src 'self'", 18);
    assert_true(header(r, "X-Frame-Options", v, sizeof v));
    assert_string_equal(v, "DENY");
    assert_true(header(r, "X-Content-Type-Options", v, sizeof v));
    assert_string_equal(v, "nosniff");
}

static server *start_on(const char *database_url, const char *password, bool secure)
{
    server *s = calloc(1, sizeof *s);
    kura_error err = {0};
    kura_config *cfg = kura_config_new();
    assert_true(kura_config_set(cfg, "database_url", database_url, &err));
    if (password)
        assert_true(kura_config_set(cfg, "admin_password", password, &err));
    s->app = kura_app_open(cfg, &err);
    kura_config_free(cfg);
    if (!s->app)
        fail_msg("%s", err.message);
    assert_true(kura_app_register(s->app, &t_user_model, KURA_IN_SQL, &err));
    assert_true(kura_app_migrate(s->app, 0, NULL, NULL, NULL, NULL, &err));
    kura_http_opts o;
    kura_http_opts_default(&o);
    o.port = 0;
    o.threads = 2;
    o.log_level = KURA_LOG_OFF;
    o.secure_cookies = secure;
    s->srv = kura_http_new(s->app, &o, &err);
    assert_non_null(s->srv);
    if (!kura_http_mount_defaults(s->srv, &err) || !kura_http_listen(s->srv, &err))
        fail_msg("%s", err.message);
    snprintf(s->base, sizeof s->base, "http://127.0.0.1:%u", kura_http_port(s->srv));
    return s;
}

static server *start(const char *password, bool secure)
{
    return start_on("sqlite://:memory:", password, secure);
}

static void stop(server *s)
{
    kura_http_stop(s->srv);
    kura_app_close(s->app);
    free(s);
}

/* Logs in as a browser would; the session cookie ("kura_admin=...") into out. */
static void log_in(const server *s, char *out, size_t size)
{
    response *page = call(s, "GET", "/admin/login", NULL, NULL, NULL);
    char nonce[128], token[64], body[256];
    assert_true(set_cookie(page, "kura_admin_login", nonce, sizeof nonce));
    csrf_of(page, token, sizeof token);
    snprintf(body, sizeof body, "csrf=%s&next=%%2Fadmin&password=" PASSWORD, token);
    response *r = call(s, "POST", "/admin/login", nonce, FORM, body);
    assert_int_equal(r->status, 303);
    assert_true(set_cookie(r, "kura_admin", out, size));
    char line[512];
    assert_true(header(r, "Set-Cookie", line, sizeof line));
    assert_non_null(strstr(line, "HttpOnly"));
    assert_non_null(strstr(line, "SameSite=Strict"));
    assert_non_null(strstr(line, "Path=/admin"));
    free(page);
    free(r);
}

/* --- without a server ------------------------------------------------------- */

static void test_escaping(void **state)
{
    (void)state;
    char stack[16]; /* small: escaping must grow the buffer */
    kura_buf b;
    kura_buf_init(&b, stack, sizeof stack);
    html_text(&b, "<script>alert(\"x\" & 'y')</script>");
    assert_string_equal(b.data, "&lt;script&gt;alert(&quot;x&quot; &amp; &#39;y&#39;)&lt;/script"
                                "&gt;");
    kura_buf_free(&b);
    kura_buf_init(&b, stack, sizeof stack);
    html_url_part(&b, "a b/\"c\"?&=é");
    assert_string_equal(b.data, "a%20b%2F%22c%22%3F%26%3D%C3%A9");
    kura_buf_free(&b);
    kura_buf_init(&b, stack, sizeof stack);
    html_text_cut(&b, "日本語テキスト<b>", 3); /* cut on characters, never inside one */
    assert_string_equal(b.data, "日本語…");
    kura_buf_free(&b);
}

static void test_form_decoding(void **state)
{
    (void)state;
    admin_form f;
    const char body[] = "name=Ada+Lovelace&email=a%40b.c&empty=&bare&json=%7B%22k%22%3A1%7D";
    assert_true(admin_form_parse(body, strlen(body), &f));
    assert_string_equal(admin_form_get(&f, "name"), "Ada Lovelace");
    assert_string_equal(admin_form_get(&f, "email"), "a@b.c");
    assert_string_equal(admin_form_get(&f, "empty"), "");
    assert_string_equal(admin_form_get(&f, "bare"), "");
    assert_string_equal(admin_form_get(&f, "json"), "{\"k\":1}");
    assert_null(admin_form_get(&f, "absent"));
    admin_form_free(&f);
    assert_true(admin_form_parse(NULL, 0, &f));
    assert_null(admin_form_get(&f, "name"));
    admin_form_free(&f);
}

static void test_short_password_refused(void **state)
{
    (void)state;
    kura_error err = {0};
    kura_config *cfg = kura_config_new();
    assert_true(kura_config_set(cfg, "database_url", "sqlite://:memory:", &err));
    assert_true(kura_config_set(cfg, "admin_password", "short", &err));
    kura_app *app = kura_app_open(cfg, &err);
    kura_config_free(cfg);
    assert_non_null(app);
    kura_http *srv = kura_http_new(app, NULL, &err);
    assert_false(kura_http_mount_admin(srv, NULL, &err));
    assert_int_equal(err.code, KURA_CONFIG);
    assert_non_null(strstr(err.message, "admin_password"));
    assert_false(kura_http_mount_admin(srv, "no-slash", &err));
    assert_int_equal(err.code, KURA_INVALID);
    kura_http_stop(srv);
    kura_app_close(app);
}

/* --- over HTTP ------------------------------------------------------------------ */

static void test_off_without_password(void **state)
{
    (void)state;
    server *s = start(NULL, false);
    const char *paths[] = {"/admin", "/admin/login", "/admin/models/t_user", "/admin/x/y/z"};
    for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++) {
        response *r = call(s, "GET", paths[i], NULL, NULL, NULL);
        assert_int_equal(r->status, 403);
        assert_non_null(strstr(r->body, "KURA_ADMIN_PASSWORD"));
        assert_null(strstr(r->body, "Log in")); /* nothing to log in to */
        expect_security_headers(r);
        free(r);
    }
    response *r = call(s, "POST", "/admin/login", NULL, FORM, "password=anything");
    assert_int_equal(r->status, 403);
    free(r);
    stop(s);
}

static void test_login_required(void **state)
{
    (void)state;
    server *s = start(PASSWORD, false);
    char v[512];
    response *r = call(s, "GET", "/admin/models/t_user", NULL, NULL, NULL);
    assert_int_equal(r->status, 303);
    assert_true(header(r, "Location", v, sizeof v));
    assert_string_equal(v, "/admin/login?next=%2Fadmin%2Fmodels%2Ft_user");
    expect_security_headers(r);
    free(r);
    const char *pages[] = {"/admin",
                           "/admin/status",
                           "/admin/rankings",
                           "/admin/models/t_user/new",
                           "/admin/models/t_user/rows/1",
                           "/admin/models/t_user/rows/1/edit",
                           "/admin/models/t_user/rows/1/delete",
                           "/admin/what/ever"};
    for (size_t i = 0; i < sizeof pages / sizeof pages[0]; i++) {
        r = call(s, "GET", pages[i], NULL, NULL, NULL);
        assert_int_equal(r->status, 303);
        free(r);
    }
    /* Anything else without a session is refused outright. */
    r = call(s, "POST", "/admin/models/t_user/rows/1/delete", NULL, FORM, "csrf=x");
    assert_int_equal(r->status, 403);
    free(r);
    /* A forged session cookie opens nothing either. */
    r = call(s, "GET", "/admin", "kura_admin=forged.cookie", NULL, NULL);
    assert_int_equal(r->status, 303);
    free(r);
    /* The log-in page and the style sheet are open. */
    r = call(s, "GET", "/admin/login", NULL, NULL, NULL);
    assert_int_equal(r->status, 200);
    expect_security_headers(r);
    free(r);
    r = call(s, "GET", "/admin/static/admin.css", NULL, NULL, NULL);
    assert_int_equal(r->status, 200);
    assert_true(header(r, "Content-Type", v, sizeof v));
    assert_memory_equal(v, "text/css", 8);
    free(r);
    stop(s);
}

static void test_login(void **state)
{
    (void)state;
    server *s = start(PASSWORD, true);
    response *page = call(s, "GET", "/admin/login", NULL, NULL, NULL);
    char nonce[128], token[64], body[256];
    assert_true(set_cookie(page, "kura_admin_login", nonce, sizeof nonce));
    csrf_of(page, token, sizeof token);

    /* Without the log-in form's own cookie, the token is worth nothing. */
    snprintf(body, sizeof body, "csrf=%s&password=" PASSWORD, token);
    response *r = call(s, "POST", "/admin/login", NULL, FORM, body);
    assert_int_equal(r->status, 403);
    assert_null(strstr(r->headers, "kura_admin="));
    free(r);
    /* ... nor the cookie without the token. */
    r = call(s, "POST", "/admin/login", nonce, FORM, "password=" PASSWORD);
    assert_int_equal(r->status, 403);
    free(r);
    /* A wrong password. */
    snprintf(body, sizeof body, "csrf=%s&password=wrong-password", token);
    r = call(s, "POST", "/admin/login", nonce, FORM, body);
    assert_int_equal(r->status, 403);
    assert_non_null(strstr(r->body, "Wrong password."));
    assert_null(strstr(r->headers, "kura_admin="));
    free(r);
    /* The right one: a session cookie, Secure under secure_cookies; an outside
     * `next` is not followed. */
    snprintf(body, sizeof body, "csrf=%s&password=" PASSWORD "&next=https%%3A%%2F%%2Fevil.example",
             token);
    r = call(s, "POST", "/admin/login", nonce, FORM, body);
    assert_int_equal(r->status, 303);
    char v[512];
    assert_true(header(r, "Location", v, sizeof v));
    assert_string_equal(v, "/admin");
    const char *line = strstr(r->headers, "Set-Cookie: kura_admin=");
    assert_non_null(line);
    assert_non_null(strstr(line, "; Secure"));
    char cookie[160];
    assert_true(set_cookie(r, "kura_admin", cookie, sizeof cookie));
    free(r);
    r = call(s, "GET", "/admin", cookie, NULL, NULL);
    assert_int_equal(r->status, 200);
    assert_non_null(strstr(r->body, "t_user"));
    free(r);
    /* Log-out ends it (with its token). */
    r = call(s, "GET", "/admin", cookie, NULL, NULL);
    csrf_of(r, token, sizeof token);
    free(r);
    snprintf(body, sizeof body, "csrf=%s", token);
    r = call(s, "POST", "/admin/logout", cookie, FORM, body);
    assert_int_equal(r->status, 303);
    free(r);
    r = call(s, "GET", "/admin", cookie, NULL, NULL);
    assert_int_equal(r->status, 303);
    free(r);
    free(page);
    stop(s);
}

static void test_csrf(void **state)
{
    (void)state;
    server *s = start(PASSWORD, false);
    char cookie[160], token[64], body[512];
    log_in(s, cookie, sizeof cookie);
    const char *fields = "name=Mallory&email=m%40example.com&age=40";
    response *r = call(s, "POST", "/admin/models/t_user/new", cookie, FORM, fields);
    assert_int_equal(r->status, 403);
    assert_non_null(strstr(r->body, "security token"));
    expect_security_headers(r);
    free(r);
    snprintf(body, sizeof body, "csrf=%s&%s", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
             fields);
    r = call(s, "POST", "/admin/models/t_user/new", cookie, FORM, body);
    assert_int_equal(r->status, 403);
    free(r);
    /* Another session's token is no better. */
    char other[160], other_token[64];
    log_in(s, other, sizeof other);
    r = call(s, "GET", "/admin", other, NULL, NULL);
    csrf_of(r, other_token, sizeof other_token);
    free(r);
    snprintf(body, sizeof body, "csrf=%s&%s", other_token, fields);
    r = call(s, "POST", "/admin/models/t_user/new", cookie, FORM, body);
    assert_int_equal(r->status, 403);
    free(r);
    kura_query q = kura_query_for(&t_user_model);
    int64_t n = -1;
    kura_error err = {0};
    assert_true(kura_count(kura_app_db(s->app), &q, &n, &err));
    assert_int_equal(n, 0);
    /* Its own token: taken. */
    r = call(s, "GET", "/admin/models/t_user/new", cookie, NULL, NULL);
    csrf_of(r, token, sizeof token);
    free(r);
    snprintf(body, sizeof body, "csrf=%s&%s", token, fields);
    r = call(s, "POST", "/admin/models/t_user/new", cookie, FORM, body);
    assert_int_equal(r->status, 303);
    free(r);
    assert_true(kura_count(kura_app_db(s->app), &q, &n, &err));
    assert_int_equal(n, 1);
    stop(s);
}

static void test_values_escaped(void **state)
{
    (void)state;
    server *s = start(PASSWORD, false);
    t_user u;
    kura_init(&t_user_model, &u);
    kura_copy_string(u.name, sizeof u.name, "<script>alert(1)</script>");
    kura_copy_string(u.email, sizeof u.email, "x@example.com");
    kura_set_text(&u.bio, "\"><img src=x onerror=alert(2)>");
    kura_error err = {0};
    assert_true(kura_insert(kura_app_db(s->app), &t_user_model, &u, &err));
    kura_clear(&t_user_model, &u);
    char cookie[160];
    log_in(s, cookie, sizeof cookie);
    const char *pages[] = {"/admin/models/t_user", "/admin/models/t_user/rows/1",
                           "/admin/models/t_user/rows/1/edit", "/admin/models/t_user/rows/1/delete",
                           "/admin/models/t_user?q=%3Cscript%3E"};
    for (size_t i = 0; i < sizeof pages / sizeof pages[0]; i++) {
        response *r = call(s, "GET", pages[i], cookie, NULL, NULL);
        assert_int_equal(r->status, 200);
        assert_null(strstr(r->body, "<script"));
        assert_null(strstr(r->body, "<img"));
        assert_non_null(strstr(r->body, "&lt;script&gt;alert(1)&lt;/script&gt;"));
        free(r);
    }
    /* A search for markup is shown back escaped. */
    response *r = call(s, "GET", "/admin/models/t_user?q=%22%3E%3Cb%3E", cookie, NULL, NULL);
    assert_null(strstr(r->body, "\"><b>"));
    assert_non_null(strstr(r->body, "&quot;&gt;&lt;b&gt;"));
    free(r);
    stop(s);
}

/* A field that references a model the app has links to the row it names. */
typedef struct t_memo {
    kura_base base;
    int64_t user_id;
} t_memo;
static const kura_model t_memo_model =
    KURA_MODEL(t_memo, "t_memo", KURA_INT64(t_memo, user_id, .references = &t_user_model));

static void test_references_link(void **state)
{
    (void)state;
    server *s = start(PASSWORD, false);
    kura_error err = {0};
    assert_true(kura_app_register(s->app, &t_memo_model, KURA_IN_SQL, &err));
    assert_true(kura_app_migrate(s->app, 0, NULL, NULL, NULL, NULL, &err));
    t_user u;
    kura_init(&t_user_model, &u);
    kura_copy_string(u.name, sizeof u.name, "ann");
    kura_copy_string(u.email, sizeof u.email, "ann@example.com");
    assert_true(kura_insert(kura_app_db(s->app), &t_user_model, &u, &err));
    kura_clear(&t_user_model, &u);
    t_memo m = {.user_id = u.base.id};
    assert_true(kura_insert(kura_app_db(s->app), &t_memo_model, &m, &err));
    char cookie[160], want[128];
    log_in(s, cookie, sizeof cookie);
    snprintf(want, sizeof want, "<a class=\"ref\" href=\"/admin/models/t_user/rows/%lld\">%lld</a>",
             (long long)u.base.id, (long long)u.base.id);
    const char *pages[] = {"/admin/models/t_memo", "/admin/models/t_memo/rows/1"};
    for (size_t i = 0; i < sizeof pages / sizeof pages[0]; i++) {
        response *r = call(s, "GET", pages[i], cookie, NULL, NULL);
        assert_int_equal(r->status, 200);
        if (!strstr(r->body, want))
            fail_msg("%s lacks %s", pages[i], want);
        free(r);
    }
    stop(s);
}

static void test_pages_and_headers(void **state)
{
    (void)state;
    server *s = start(PASSWORD, false);
    char cookie[160];
    log_in(s, cookie, sizeof cookie);
    /* 404 and 405 inside the admin are its own pages, with its headers. */
    response *r = call(s, "GET", "/admin/no/such/page", cookie, NULL, NULL);
    assert_int_equal(r->status, 404);
    expect_security_headers(r);
    free(r);
    r = call(s, "GET", "/admin/models/nothing", cookie, NULL, NULL);
    assert_int_equal(r->status, 404);
    free(r);
    r = call(s, "PUT", "/admin/models/t_user", cookie, NULL, NULL);
    assert_int_equal(r->status, 405);
    expect_security_headers(r);
    free(r);
    r = call(s, "GET", "/admin/models/t_user/rows/99", cookie, NULL, NULL);
    assert_int_equal(r->status, 404);
    free(r);
    /* A bad filter is a page saying so, not a crash nor a problem+json. */
    r = call(s, "GET", "/admin/models/t_user?age=old", cookie, NULL, NULL);
    assert_int_equal(r->status, 400);
    assert_non_null(strstr(r->body, "wrong type"));
    free(r);
    /* A /session cookie (data of the client's choosing) is no admin session. */
    r = call(s, "POST", "/session", NULL, "application/json", "{\"admin\":true,\"csrf\":\"x\"}");
    assert_int_equal(r->status, 201);
    char session[160], forged[200];
    assert_true(set_cookie(r, "kura_session", session, sizeof session));
    free(r);
    snprintf(forged, sizeof forged, "kura_admin=%s", strchr(session, '=') + 1);
    r = call(s, "GET", "/admin", forged, NULL, NULL);
    assert_int_equal(r->status, 303);
    free(r);
    /* The admin is no part of the API's description. */
    r = call(s, "GET", "/openapi.json", NULL, NULL, NULL);
    assert_int_equal(r->status, 200);
    assert_null(strstr(r->body, "/admin"));
    free(r);
    stop(s);
}

/* The edit form by the collections' rules: an untouched datetime keeps its
 * microseconds, a changed one is read in UTC, and a refused value gets the
 * JSON API's own message beside its field. */
static void test_form_rules(void **state)
{
    (void)state;
    server *s = start(PASSWORD, false);
    t_user u;
    kura_init(&t_user_model, &u);
    kura_copy_string(u.name, sizeof u.name, "Ann");
    kura_copy_string(u.email, sizeof u.email, "ann@example.com");
    assert_true(kura_time_parse("2026-01-02 03:04:05.123456", &u.born));
    kura_error err = {0};
    assert_true(kura_insert(kura_app_db(s->app), &t_user_model, &u, &err));
    kura_time born = u.born;
    kura_clear(&t_user_model, &u);
    char cookie[160], token[64], body[512];
    log_in(s, cookie, sizeof cookie);
    response *r = call(s, "GET", "/admin/models/t_user/rows/1/edit", cookie, NULL, NULL);
    assert_non_null(strstr(r->body, "value=\"2026-01-02T03:04:05\""));
    csrf_of(r, token, sizeof token);
    free(r);
    snprintf(body, sizeof body,
             "csrf=%s&name=Ann&email=ann%%40example.com&born=2026-01-02T03%%3A04%%3A05&age=7",
             token);
    r = call(s, "POST", "/admin/models/t_user/rows/1/edit", cookie, FORM, body);
    assert_int_equal(r->status, 303);
    free(r);
    assert_true(kura_get(kura_app_db(s->app), &t_user_model, 1, &u, &err));
    assert_int_equal(u.born, born); /* untouched: the microseconds stay */
    assert_int_equal(u.age, 7);
    kura_clear(&t_user_model, &u);
    snprintf(body, sizeof body,
             "csrf=%s&name=Ann&email=ann%%40example.com&born=2026-01-02T03%%3A05", token);
    r = call(s, "POST", "/admin/models/t_user/rows/1/edit", cookie, FORM, body);
    assert_int_equal(r->status, 303);
    free(r);
    assert_true(kura_get(kura_app_db(s->app), &t_user_model, 1, &u, &err));
    kura_time want;
    assert_true(kura_time_parse("2026-01-02 03:05:00", &want));
    assert_int_equal(u.born, want);
    kura_clear(&t_user_model, &u);
    /* The JSON API's message for a value of the wrong type, beside the field. */
    response *api = call(s, "POST", "/t_user", NULL, "application/json",
                         "{\"name\":\"x\",\"email\":\"x@example.com\",\"age\":\"old\"}");
    assert_int_equal(api->status, 422);
    const char *reason = strstr(api->body, "\"reason\":\"");
    assert_non_null(reason);
    reason += strlen("\"reason\":\"");
    char want_reason[128];
    snprintf(want_reason, sizeof want_reason, "%.*s", (int)strcspn(reason, "\""), reason);
    snprintf(body, sizeof body, "csrf=%s&name=Ann&email=ann%%40example.com&age=old&ratio=2", token);
    r = call(s, "POST", "/admin/models/t_user/rows/1/edit", cookie, FORM, body);
    assert_int_equal(r->status, 422);
    char beside[256];
    snprintf(beside, sizeof beside, "id=\"e-age\">%s</p>", want_reason);
    assert_non_null(strstr(r->body, beside));
    assert_non_null(strstr(r->body, "id=\"e-ratio\"")); /* out of its range: beside it too */
    assert_non_null(strstr(r->body, "name=\"age\" value=\"old\"")); /* what was typed stays */
    free(api);
    free(r);
    stop(s);
}

/* The value of the hidden input `name` on a page, into out. */
static void hidden_of(const response *r, const char *name, char *out, size_t size)
{
    char at[64];
    snprintf(at, sizeof at, "name=\"%s\" value=\"", name);
    const char *v = strstr(r->body, at);
    assert_non_null(v);
    v += strlen(at);
    snprintf(out, size, "%.*s", (int)strcspn(v, "\""), v);
}

/* Two people edit one row: the second Save, from a form opened before the
 * first one's change, is refused with both values kept; saving again then
 * overwrites by choice. */
static void test_edit_conflict(void **state)
{
    (void)state;
    server *s = start(PASSWORD, false);
    t_user u;
    kura_init(&t_user_model, &u);
    kura_copy_string(u.name, sizeof u.name, "Ann");
    kura_copy_string(u.email, sizeof u.email, "ann@example.com");
    kura_error err = {0};
    assert_true(kura_insert(kura_app_db(s->app), &t_user_model, &u, &err));
    kura_clear(&t_user_model, &u);
    char cookie[160], token[64], mine[64], theirs[64], body[512];
    log_in(s, cookie, sizeof cookie);
    response *r = call(s, "GET", "/admin/models/t_user/rows/1/edit", cookie, NULL, NULL);
    csrf_of(r, token, sizeof token);
    hidden_of(r, "kura_version", mine, sizeof mine);
    free(r);
    r = call(s, "GET", "/admin/models/t_user/rows/1/edit", cookie, NULL, NULL);
    hidden_of(r, "kura_version", theirs, sizeof theirs);
    free(r);
    assert_string_equal(mine, theirs); /* the same row, the same version */

    snprintf(body, sizeof body, "csrf=%s&kura_version=%s&name=Bea&email=ann%%40example.com", token,
             theirs);
    r = call(s, "POST", "/admin/models/t_user/rows/1/edit", cookie, FORM, body);
    assert_int_equal(r->status, 303);
    free(r);
    snprintf(body, sizeof body, "csrf=%s&kura_version=%s&name=Cid&email=ann%%40example.com", token,
             mine);
    r = call(s, "POST", "/admin/models/t_user/rows/1/edit", cookie, FORM, body);
    assert_int_equal(r->status, 409);
    assert_non_null(strstr(r->body, "Someone changed this row"));
    assert_non_null(strstr(r->body, "name=\"name\" value=\"Cid\"")); /* what was typed */
    char now[64];
    hidden_of(r, "kura_version", now, sizeof now);
    assert_string_not_equal(now, mine);
    free(r);
    assert_true(kura_get(kura_app_db(s->app), &t_user_model, 1, &u, &err));
    assert_string_equal(u.name, "Bea"); /* nothing was saved over it */
    kura_clear(&t_user_model, &u);

    snprintf(body, sizeof body, "csrf=%s&kura_version=%s&name=Cid&email=ann%%40example.com", token,
             now);
    r = call(s, "POST", "/admin/models/t_user/rows/1/edit", cookie, FORM, body);
    assert_int_equal(r->status, 303);
    free(r);
    assert_true(kura_get(kura_app_db(s->app), &t_user_model, 1, &u, &err));
    assert_string_equal(u.name, "Cid");
    kura_clear(&t_user_model, &u);
    stop(s);
}

/* A wrong password from one address, with the log-in form's token. */
static long try_password(const server *s, const char *password, char *retry, size_t size)
{
    response *page = call(s, "GET", "/admin/login", NULL, NULL, NULL);
    char nonce[128], token[64], body[256];
    assert_true(set_cookie(page, "kura_admin_login", nonce, sizeof nonce));
    csrf_of(page, token, sizeof token);
    snprintf(body, sizeof body, "csrf=%s&password=%s", token, password);
    response *r = call(s, "POST", "/admin/login", nonce, FORM, body);
    long status = r->status;
    if (retry && !header(r, "Retry-After", retry, size))
        retry[0] = '\0';
    if (status == 429)
        expect_security_headers(r);
    free(page);
    free(r);
    return status;
}

/* Guessing is slowed per address: after ADMIN_GUARD_TRIES wrong passwords
 * the address gets 429 with Retry-After, even with the right password; another
 * address still logs in, and a log-in forgets the address's earlier tries. */
static void test_login_guard(void **state)
{
    (void)state;
    server *s = start(PASSWORD, false);
    char retry[32];
    /* A right password in between resets the count. */
    for (int i = 0; i < ADMIN_GUARD_TRIES - 1; i++)
        assert_int_equal(try_password(s, "wrong-password", NULL, 0), 403);
    assert_int_equal(try_password(s, PASSWORD, NULL, 0), 303);
    for (int i = 0; i < ADMIN_GUARD_TRIES - 1; i++)
        assert_int_equal(try_password(s, "wrong-password", NULL, 0), 403);
    /* The last allowed wrong one is still answered as wrong ... */
    assert_int_equal(try_password(s, "wrong-password", retry, sizeof retry), 403);
    assert_string_equal(retry, "");
    /* ... then the address waits, whatever it sends. */
    assert_int_equal(try_password(s, PASSWORD, retry, sizeof retry), 429);
    long wait = strtol(retry, NULL, 10);
    assert_true(wait > 0 && wait <= ADMIN_GUARD_BLOCK_S);
    assert_int_equal(try_password(s, "wrong-password", NULL, 0), 429);
    /* Another address is not held up by it. */
    source_addr = "127.0.0.2";
    assert_int_equal(try_password(s, PASSWORD, NULL, 0), 303);
    source_addr = NULL;
    stop(s);
}

/* The secret is made by the first request that signs or checks a cookie, not
 * at start; when it cannot be read, the routes that need it answer 503 and
 * the rest of the service works. */
static void test_secret_made_when_needed(void **state)
{
    (void)state;
    char dir[] = "/tmp/kura-admin-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char url[128], db[96], secret[128];
    snprintf(db, sizeof db, "%s/app.db", dir);
    snprintf(url, sizeof url, "sqlite:///%s", db);
    snprintf(secret, sizeof secret, "%s.secret", db);
    struct stat st;

    server *s = start_on(url, PASSWORD, false);
    response *r = call(s, "GET", "/t_user", NULL, NULL, NULL);
    assert_int_equal(r->status, 200);
    free(r);
    assert_int_not_equal(stat(secret, &st), 0); /* nothing signed yet */
    r = call(s, "GET", "/admin/login", NULL, NULL, NULL);
    assert_int_equal(r->status, 200);
    free(r);
    assert_int_equal(stat(secret, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    stop(s);

    /* A secret file others may read is refused: 503 where a cookie is signed. */
    assert_int_equal(chmod(secret, 0644), 0);
    s = start_on(url, PASSWORD, false);
    r = call(s, "GET", "/admin/login", NULL, NULL, NULL);
    assert_int_equal(r->status, 503);
    assert_non_null(strstr(r->body, "secret"));
    expect_security_headers(r);
    free(r);
    r = call(s, "POST", "/session", NULL, "application/json", "{\"cart\":[]}");
    assert_int_equal(r->status, 503);
    assert_non_null(strstr(r->body, "secret"));
    assert_null(strstr(r->body, dir)); /* the path is for the log, not the client */
    free(r);
    r = call(s, "GET", "/t_user", NULL, NULL, NULL);
    assert_int_equal(r->status, 200);
    free(r);
    stop(s);
    unlink(secret);
    unlink(db);
    char side[128];
    snprintf(side, sizeof side, "%s-wal", db);
    unlink(side);
    snprintf(side, sizeof side, "%s-shm", db);
    unlink(side);
    assert_int_equal(rmdir(dir), 0);
}

int main(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_escaping),
        cmocka_unit_test(test_form_decoding),
        cmocka_unit_test(test_short_password_refused),
        cmocka_unit_test(test_off_without_password),
        cmocka_unit_test(test_login_required),
        cmocka_unit_test(test_login),
        cmocka_unit_test(test_csrf),
        cmocka_unit_test(test_values_escaped),
        cmocka_unit_test(test_pages_and_headers),
        cmocka_unit_test(test_references_link),
        cmocka_unit_test(test_form_rules),
        cmocka_unit_test(test_edit_conflict),
        cmocka_unit_test(test_login_guard),
        cmocka_unit_test(test_secret_made_when_needed),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    curl_global_cleanup();
    return rc;
}
