/*
 * admin.c — kura_http_mount_admin: the admin's routes and the one
 * dispatcher every admin request goes through. The dispatcher is where the
 * rules hold for every page at once: the admin is off without a password,
 * nothing but the log-in page and the style sheet answers before logging in,
 * every POST carries the session's CSRF token, and every answer (also a 404
 * or 405 inside the admin) is an HTML page with the security headers.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "http/admin.h"

#define PASSWORD_MIN 8 /* bytes: shorter is refused at start-up */

static enum MHD_Result not_found(http_req *r, const admin_session *s, const admin_form *form)
{
    (void)form;
    return admin_message(r, s, 404, "Not found", "There is no admin page at this address.");
}

/* Where the log-in page sends the browser back to: this page, when it is a
 * plain path of the admin (nothing that could lead off the site). */
static enum MHD_Result login_redirect(http_req *r, const admin *a)
{
    char stack[512];
    kura_buf b;
    kura_buf_init(&b, stack, sizeof stack);
    kura_buf_add(&b, a->path);
    kura_buf_add(&b, "/login");
    if (r->method == HTTP_GET && strcmp(r->url, a->path) != 0) {
        kura_buf_add(&b, "?next=");
        html_url_part(&b, r->url);
    }
    enum MHD_Result ret = admin_redirect(r, b.oom ? a->path : b.data);
    kura_buf_free(&b);
    return ret;
}

static enum MHD_Result dispatch(http_req *r)
{
    const admin_route *route = r->ctx;
    const admin *a = route->a;
    if (!a->enabled)
        return admin_message(r, NULL, 403, "The admin is off",
                             "Set the admin_password setting (KURA_ADMIN_PASSWORD in the "
                             "environment, or admin_password in the config file), at least 8 "
                             "characters, and restart to turn the admin on.");
    admin_handler fn = r->method == HTTP_GET    ? route->get
                       : r->method == HTTP_POST ? route->post
                                                : NULL;
    admin_session s;
    bool in = admin_session_load(r, &s);
    if (!route->open && !in) {
        if (r->method == HTTP_GET)
            return login_redirect(r, a);
        return admin_message(r, NULL, 403, "Log in first",
                             "This page needs an admin session: log in, then try again.");
    }
    if (!fn) {
        http_add_header(r, MHD_HTTP_HEADER_ALLOW,
                        route->get && route->post ? "GET, POST"
                        : route->get              ? "GET"
                                                  : "POST");
        return admin_message(r, in ? &s : NULL, 405, "Method not allowed",
                             "This page does not take that method.");
    }
    admin_form form = {0};
    if (r->method == HTTP_POST) {
        if (!admin_form_parse(r->body, r->body_len, &form))
            return admin_message(r, in ? &s : NULL, 500, "Out of memory",
                                 "The form could not be read.");
        /* The log-in form has its own token (no session yet): admin_login_post. */
        if (!route->open && !admin_csrf_ok(&s, admin_form_get(&form, "csrf"))) {
            admin_form_free(&form);
            http_log(r->srv, KURA_LOG_WARN, "admin: %s %s refused: missing or wrong CSRF token",
                     r->method_name, r->url);
            return admin_message(r, &s, 403, "Form refused",
                                 "The form did not carry this session's security token. Go back, "
                                 "reload the page and send it again.");
        }
    }
    enum MHD_Result ret = fn(r, in ? &s : NULL, &form);
    admin_form_free(&form);
    return ret;
}

/* Adds one admin route at path + suffix (copied). */
static bool add(kura_http *srv, const admin *a, const char *suffix, admin_handler get,
                admin_handler post, bool open, kura_error *err)
{
    admin_route *route = malloc(sizeof *route);
    if (!http_own(srv, route, err))
        return false;
    *route = (admin_route){.a = a, .get = get, .post = post, .open = open};
    const char *pattern = http_own_path(srv, a->path, suffix, err);
    if (!pattern)
        return false;
    /* Every method comes to the dispatcher, so that even a 405 is the admin's
     * page with its headers; forms are not JSON, and the API token is not the
     * admin's password: the admin checks its own session instead. */
    http_route rt = {.pattern = pattern,
                     .ctx = route,
                     .open_query = ~0u,
                     .hidden = true,
                     .summary = "The admin (HTML)"};
    for (int m = 0; m < HTTP_NMETHODS; m++)
        rt.methods[m] = dispatch;
    return http_route_add(srv, &rt, err);
}

/* The key that signs the admin's sessions and log-in tokens: the app's secret
 * hashed under a name of its own, so no cookie of /session is worth anything here. */
static bool derive_key(kura_app *app, unsigned char key[32], kura_error *err)
{
    size_t len = 0;
    const unsigned char *secret = kura_app_secret(app, &len, err);
    if (!secret)
        return false;
    unsigned char k[32];
    crypto_generichash(k, sizeof k, secret, len, NULL, 0);
    static const char label[] = "kura admin sessions v1";
    crypto_generichash(key, 32, (const unsigned char *)label, sizeof label - 1, k, sizeof k);
    sodium_memzero(k, sizeof k);
    return true;
}

bool admin_keyed(const admin *ca, kura_error *err)
{
    if (atomic_load_explicit(&ca->keyed, memory_order_acquire))
        return true;
    admin *a = (admin *)ca; /* only the fields under a->lock change */
    kura_http *srv = a->srv;
    pthread_mutex_lock(&a->lock);
    bool ok = atomic_load_explicit(&a->keyed, memory_order_relaxed);
    if (!ok && derive_key(srv->app, a->key, err)) {
        /* Every admin of the server derives the same key: one sessions object. */
        kura_sessions *s = atomic_load_explicit(&srv->admin_sessions, memory_order_acquire);
        if (!s) {
            s = kura_sessions_new(kura_app_kv(srv->app), a->key, sizeof a->key,
                                  (int64_t)srv->opts.session_ttl_s * 1000, err);
            kura_sessions *had = NULL;
            if (s && !atomic_compare_exchange_strong(&srv->admin_sessions, &had, s)) {
                kura_sessions_free(s);
                s = had;
            }
        }
        if (s) {
            a->sessions = s;
            atomic_store_explicit(&a->keyed, true, memory_order_release);
            ok = true;
        }
    }
    pthread_mutex_unlock(&a->lock);
    return ok;
}

bool kura_http_mount_admin(kura_http *srv, const char *path, kura_error *err)
{
    if (!srv)
        return kura_fail(err, KURA_INVALID, NULL, "no server");
    if (!path)
        path = "/admin";
    if (!http_path_ok(path))
        return kura_fail(err, KURA_INVALID, NULL, "'%.64s' is not a path for the admin", path);
    admin *a = calloc(1, sizeof *a);
    if (!http_own(srv, a, err))
        return false;
    /* Never destroyed: the admin is freed with the server's other contexts, and
     * a mutex that nothing holds needs nothing more on Linux. */
    if (pthread_mutex_init(&a->lock, NULL) != 0)
        return kura_fail(err, KURA_NOMEM, NULL, "cannot make a lock");
    a->srv = srv;
    if (!(a->path = http_own_path(srv, path, "", err)))
        return false;
    const char *pw = kura_config_get(kura_app_config(srv->app), "admin_password");
    if (pw && *pw) {
        if (strlen(pw) < PASSWORD_MIN)
            return kura_fail(err, KURA_CONFIG, NULL,
                             "admin_password: at least %d characters, or unset to turn the "
                             "admin off",
                             PASSWORD_MIN);
        kura_kv *kv = kura_app_kv(srv->app);
        if (!kv)
            return kura_fail(err, KURA_CONFIG, NULL,
                             "the admin's sessions need the app's key-value store");
        crypto_generichash(a->password, sizeof a->password, (const unsigned char *)pw, strlen(pw),
                           NULL, 0);
        a->enabled = true;
    }
    /* Literal routes first: the first pattern that fits answers. */
    static const char *const catch_all[] = {"/{a}",
                                            "/{a}/{b}",
                                            "/{a}/{b}/{c}",
                                            "/{a}/{b}/{c}/{d}",
                                            "/{a}/{b}/{c}/{d}/{e}",
                                            "/{a}/{b}/{c}/{d}/{e}/{f}"};
    bool ok = add(srv, a, "", admin_index, NULL, false, err) &&
              add(srv, a, "/login", admin_login_get, admin_login_post, true, err) &&
              add(srv, a, "/logout", NULL, admin_logout, false, err) &&
              add(srv, a, "/static/admin.css", admin_css, NULL, true, err) &&
              add(srv, a, "/status", admin_status, NULL, false, err) &&
              add(srv, a, "/rankings", admin_rankings, NULL, false, err) &&
              add(srv, a, "/models/{model}", admin_list, NULL, false, err) &&
              add(srv, a, "/models/{model}/new", admin_new_get, admin_new_post, false, err) &&
              add(srv, a, "/models/{model}/rows/{id}", admin_detail, NULL, false, err) &&
              add(srv, a, "/models/{model}/rows/{id}/edit", admin_edit_get, admin_edit_post, false,
                  err) &&
              add(srv, a, "/models/{model}/rows/{id}/delete", admin_delete_get, admin_delete_post,
                  false, err);
    for (size_t i = 0; ok && i < sizeof catch_all / sizeof catch_all[0]; i++)
        ok = add(srv, a, catch_all[i], not_found, not_found, false, err);
    return ok;
}
