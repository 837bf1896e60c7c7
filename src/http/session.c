/*
 * session.c — /session: the guide's Session over the key-value store, held by
 * the browser as a signed cookie (HttpOnly, SameSite=Lax, Secure when
 * configured). Open to browsers: the API token does not apply here.
 *
 *   POST   /session   starts a session holding the JSON body (any JSON value);
 *                     a session the request already had is ended first, so a
 *                     cookie planted before log-in is worth nothing after it
 *   GET    /session   the session's data (its TTL slides)
 *   PUT    /session   replaces the data
 *   DELETE /session   ends it and clears the cookie
 *
 * No cookie, or one whose session expired or ended: 404. A forged or
 * tampered cookie: 401 (decided before the store is asked anything).
 */
#include <stdio.h>
#include <string.h>

#include <kura/session.h>

#include "http/internal.h"

#define SESSION_DATA_MAX 4096 /* bytes of JSON a session may hold */

#define COOKIE_NAME "kura_session"

static const char *cookie_of(http_req *r)
{
    return MHD_lookup_connection_value(r->conn, MHD_COOKIE_KIND, COOKIE_NAME);
}

static void set_cookie(http_req *r, const char *value)
{
    char h[256];
    /* No Max-Age: a browser-session cookie; the server-side TTL ends it anyway. */
    snprintf(h, sizeof h, COOKIE_NAME "=%s; Path=/; HttpOnly; SameSite=Lax%s%s", value,
             r->srv->opts.secure_cookies ? "; Secure" : "", *value ? "" : "; Max-Age=0");
    http_add_header(r, MHD_HTTP_HEADER_SET_COOKIE, h);
}

/*
 * The server's sessions, made at the first request that needs them: only then
 * is the app's secret made, so a service whose /session nobody uses leaves no
 * secret file. Two first requests may both make one; one is kept. NULL when
 * the secret cannot be read or made: a 503 went out into *ret (the reason,
 * which names a file, goes to the log, not to the client).
 */
static kura_sessions *sessions_of(http_req *r, enum MHD_Result *ret)
{
    kura_http *srv = r->srv;
    kura_sessions *s = atomic_load_explicit(&srv->sessions, memory_order_acquire);
    if (s)
        return s;
    kura_error err = {0};
    size_t len = 0;
    const unsigned char *secret = kura_app_secret(srv->app, &len, &err);
    if (secret)
        s = kura_sessions_new(kura_app_kv(srv->app), secret, len,
                              (int64_t)srv->opts.session_ttl_s * 1000, &err);
    if (!s) {
        http_log(srv, KURA_LOG_ERROR, "sessions: %s", err.message);
        *ret = http_problem(r, 503,
                            "sessions are unavailable: the secret that signs their cookies "
                            "could not be read or made (the service's log says why)");
        return NULL;
    }
    kura_sessions *had = NULL;
    if (!atomic_compare_exchange_strong_explicit(&srv->sessions, &had, s, memory_order_acq_rel,
                                                 memory_order_acquire)) {
        kura_sessions_free(s);
        s = had;
    }
    return s;
}

static enum MHD_Result session_error(http_req *r, const kura_error *err)
{
    if (err->code == KURA_AUTH) {
        set_cookie(r, ""); /* a bad cookie is dropped, not kept to be sent again */
        return http_problem(r, 401, "the session cookie is not valid");
    }
    if (err->code == KURA_NOT_FOUND) {
        set_cookie(r, "");
        return http_problem(r, 404, "no session (it ended or expired)");
    }
    return http_problem_error(r, err);
}

/* The body as JSON (any value); false answered 400. */
static json_t *body_value(http_req *r, enum MHD_Result *ret)
{
    if (!r->body || r->body_len == 0) {
        *ret = http_problem(r, 400, "the body is empty; expected JSON");
        return NULL;
    }
    json_error_t jerr;
    /* Anyone may start a session, so what one may hold is small: a session is
     * an id and a little state, not a store for arbitrary documents. */
    if (r->body_len > SESSION_DATA_MAX) {
        *ret = http_problem(r, 413, "session data is limited to %d bytes", SESSION_DATA_MAX);
        return NULL;
    }
    json_t *j = json_loadb(r->body, r->body_len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &jerr);
    if (!j)
        *ret = http_problem(r, 400, "malformed JSON at line %d, column %d: %s", jerr.line,
                            jerr.column, jerr.text);
    return j;
}

static enum MHD_Result respond_data(http_req *r, unsigned status, json_t *data)
{
    return http_respond_json(r, status, json_pack("{s:o}", "data", data));
}

static enum MHD_Result start(http_req *r)
{
    enum MHD_Result ret;
    kura_sessions *s = sessions_of(r, &ret);
    if (!s)
        return ret;
    json_t *data = body_value(r, &ret);
    if (!data)
        return ret;
    kura_error err = {0};
    const char *old = cookie_of(r);
    if (old) /* best effort: a bad or stale old cookie changes nothing */
        kura_session_destroy(s, old, NULL);
    char cookie[KURA_SESSION_COOKIE_SIZE];
    bool ok = kura_session_create(s, data, cookie, &err);
    http_metrics_store(&r->srv->metrics, HTTP_STORE_KV, HTTP_OP_INSERT, ok ? NULL : &err);
    if (!ok) {
        json_decref(data);
        return http_problem_error(r, &err);
    }
    set_cookie(r, cookie);
    return respond_data(r, 201, data);
}

static enum MHD_Result get(http_req *r)
{
    const char *cookie = cookie_of(r);
    if (!cookie)
        return http_problem(r, 404, "no session cookie");
    enum MHD_Result ret;
    kura_sessions *s = sessions_of(r, &ret);
    if (!s)
        return ret;
    json_t *data = NULL;
    kura_error err = {0};
    bool ok = kura_session_load(s, cookie, &data, &err);
    http_metrics_store(&r->srv->metrics, HTTP_STORE_KV, HTTP_OP_GET, ok ? NULL : &err);
    if (!ok)
        return session_error(r, &err);
    return respond_data(r, 200, data);
}

static enum MHD_Result replace(http_req *r)
{
    const char *cookie = cookie_of(r);
    if (!cookie)
        return http_problem(r, 404, "no session cookie");
    enum MHD_Result ret;
    kura_sessions *s = sessions_of(r, &ret);
    if (!s)
        return ret;
    json_t *data = body_value(r, &ret);
    if (!data)
        return ret;
    kura_error err = {0};
    bool ok = kura_session_save(s, cookie, data, &err);
    http_metrics_store(&r->srv->metrics, HTTP_STORE_KV, HTTP_OP_UPDATE, ok ? NULL : &err);
    if (!ok) {
        json_decref(data);
        return session_error(r, &err);
    }
    return respond_data(r, 200, data);
}

static enum MHD_Result end(http_req *r)
{
    const char *cookie = cookie_of(r);
    if (!cookie)
        return http_problem(r, 404, "no session cookie");
    enum MHD_Result ret;
    kura_sessions *s = sessions_of(r, &ret);
    if (!s)
        return ret;
    kura_error err = {0};
    bool ok = kura_session_destroy(s, cookie, &err);
    http_metrics_store(&r->srv->metrics, HTTP_STORE_KV, HTTP_OP_DELETE, ok ? NULL : &err);
    if (!ok)
        return session_error(r, &err);
    set_cookie(r, "");
    return http_respond(r, 204, NULL, NULL, 0);
}

bool kura_http_mount_sessions(kura_http *srv, const char *path, kura_error *err)
{
    if (!srv)
        return kura_fail(err, KURA_INVALID, NULL, "no server");
    if (!path)
        path = "/session";
    if (!http_path_ok(path))
        return kura_fail(err, KURA_INVALID, NULL, "'%.64s' is not a path for sessions", path);
    kura_kv *kv = kura_app_kv(srv->app);
    if (!kv)
        return kura_fail(err, KURA_CONFIG, NULL, "sessions need the app's key-value store");
    if (srv->opts.session_ttl_s == 0)
        return kura_fail(err, KURA_INVALID, NULL, "sessions need a positive TTL");
    const char *own = http_own_path(srv, path, "", err);
    return own &&
           http_route_add(srv,
                          &(http_route){.pattern = own,
                                        .methods = {[HTTP_GET] = get,
                                                    [HTTP_POST] = start,
                                                    [HTTP_PUT] = replace,
                                                    [HTTP_DELETE] = end},
                                        .summary = "The session of the signed cookie: "
                                                   "POST starts one with a JSON object, GET "
                                                   "reads it, PUT replaces it, DELETE ends it",
                                        .ctx = NULL, /* sessions_of */
                                        .protect = false,
                                        .body = true},
                          err);
}
