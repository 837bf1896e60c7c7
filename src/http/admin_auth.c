/*
 * admin_auth.c — logging in and out of the admin, and the tokens that keep
 * its forms its own.
 *
 * The session is kura's (kura/session.h) under a key derived for the admin
 * alone: a cookie "kura_admin" (HttpOnly, SameSite=Strict, Path=the admin's,
 * Secure when secure_cookies), its data {"admin":true,"csrf":"<token>"}. The
 * CSRF token is 32 random bytes made at log-in; every form carries it and
 * every POST is compared with it in constant time (admin.c).
 *
 * The log-in form comes before any session, so it is kept by a signed
 * double-submit token instead: the page sets a random nonce in a cookie
 * "kura_admin_login" (Path=<admin>/login) and puts a MAC of it under the
 * admin's key in the form; a log-in whose form does not match its cookie is
 * refused before the password is looked at. Nothing is written to the store
 * for a visitor who has not logged in. A successful log-in always starts a
 * fresh session (ending the one the browser had), so no id chosen before the
 * log-in survives it.
 *
 * Guessing is slowed per client address (admin.h, ADMIN_GUARD_*): after a few
 * wrong passwords the address gets 429 with Retry-After for a while, even for
 * the right password, so a guesser learns nothing in that time. The table is
 * small and fixed: a guesser with many addresses fills it and evicts the
 * oldest, so it bounds memory, not a botnet; a long password does that.
 * Behind a reverse proxy every client has the proxy's address, and one
 * guesser locks everyone out for a while: limit at the proxy there.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "http/admin.h"

#define SESSION_COOKIE "kura_admin"
#define LOGIN_COOKIE   "kura_admin_login"

/* 32 random bytes as base64url (43 characters). */
static void token_new(char out[ADMIN_TOKEN_SIZE])
{
    unsigned char raw[32];
    randombytes_buf(raw, sizeof raw);
    sodium_bin2base64(out, ADMIN_TOKEN_SIZE, raw, sizeof raw,
                      sodium_base64_VARIANT_URLSAFE_NO_PADDING);
}

/* The log-in form's token for `nonce`: a MAC under the admin's key. */
static void login_token(const admin *a, const char *nonce, char out[ADMIN_TOKEN_SIZE])
{
    unsigned char mac[32];
    crypto_generichash_state st;
    crypto_generichash_init(&st, a->key, sizeof a->key, sizeof mac);
    crypto_generichash_update(&st, (const unsigned char *)"login:", 6);
    crypto_generichash_update(&st, (const unsigned char *)nonce, strlen(nonce));
    crypto_generichash_final(&st, mac, sizeof mac);
    sodium_bin2base64(out, ADMIN_TOKEN_SIZE, mac, sizeof mac,
                      sodium_base64_VARIANT_URLSAFE_NO_PADDING);
}

/* Two tokens equal, in time that does not depend on where they differ. */
static bool same_token(const char *want, const char *got)
{
    size_t n = strlen(want);
    return got && n > 0 && strlen(got) == n && sodium_memcmp(want, got, n) == 0;
}

/* A nonce as token_new makes them: 43 base64url characters. */
static bool nonce_ok(const char *s)
{
    return s && strlen(s) == 43 &&
           strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") == 43;
}

/* Set-Cookie: name=value for the admin's path (suffix after it), max_age < 0
 * for a browser-session cookie, 0 to delete it. */
static void set_cookie(http_req *r, const char *name, const char *value, const char *suffix,
                       int max_age)
{
    const admin *a = admin_of(r);
    char h[400];
    char age[32] = "";
    if (max_age >= 0)
        snprintf(age, sizeof age, "; Max-Age=%d", max_age);
    snprintf(h, sizeof h, "%s=%s; Path=%s%s; HttpOnly; SameSite=Strict%s%s", name, value, a->path,
             suffix, r->srv->opts.secure_cookies ? "; Secure" : "", age);
    http_add_header(r, MHD_HTTP_HEADER_SET_COOKIE, h);
}

/* The client's address as 16 bytes (IPv4 mapped into IPv6); false when unknown. */
static bool client_addr(http_req *r, unsigned char out[16])
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(r->conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    if (!ci || !ci->client_addr)
        return false;
    const struct sockaddr *sa = ci->client_addr;
    if (sa->sa_family == AF_INET6) {
        memcpy(out, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr, 16);
        return true;
    }
    if (sa->sa_family == AF_INET) {
        static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
        memcpy(out, mapped, 12);
        memcpy(out + 12, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, 4);
        return true;
    }
    return false;
}

static int64_t now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec;
}

/* The slot of addr, taken (from the address seen longest ago) when it has
 * none. Under a->lock. */
static admin_guard_slot *guard_slot(admin *a, const unsigned char addr[16], int64_t now)
{
    admin_guard_slot *oldest = &a->guard[0];
    for (size_t i = 0; i < ADMIN_GUARD_SLOTS; i++) {
        admin_guard_slot *g = &a->guard[i];
        if (g->used && memcmp(g->addr, addr, 16) == 0)
            return g;
        if (!g->used || (oldest->used && g->last_s < oldest->last_s))
            oldest = g;
    }
    *oldest = (admin_guard_slot){.used = true, .first_s = now, .last_s = now};
    memcpy(oldest->addr, addr, 16);
    return oldest;
}

/* Seconds the address must still wait before trying again, 0 when it may. */
static int64_t guard_wait(const admin *ca, const unsigned char addr[16])
{
    admin *a = (admin *)ca; /* the guard's fields are under a->lock */
    int64_t now = now_s(), wait = 0;
    pthread_mutex_lock(&a->lock);
    for (size_t i = 0; i < ADMIN_GUARD_SLOTS; i++) {
        admin_guard_slot *g = &a->guard[i];
        if (g->used && memcmp(g->addr, addr, 16) == 0) {
            g->last_s = now;
            wait = g->blocked_until_s > now ? g->blocked_until_s - now : 0;
            break;
        }
    }
    pthread_mutex_unlock(&a->lock);
    return wait;
}

/* Counts a wrong password (wrong true) or forgets the address (a log-in). */
static void guard_note(const admin *ca, const unsigned char addr[16], bool wrong)
{
    admin *a = (admin *)ca;
    int64_t now = now_s();
    pthread_mutex_lock(&a->lock);
    admin_guard_slot *g = guard_slot(a, addr, now);
    if (!wrong) {
        *g = (admin_guard_slot){0};
    } else {
        if (now - g->first_s >= ADMIN_GUARD_WINDOW_S) {
            g->first_s = now;
            g->fails = 0;
        }
        g->last_s = now;
        if (++g->fails >= ADMIN_GUARD_TRIES) {
            g->blocked_until_s = now + ADMIN_GUARD_BLOCK_S;
            g->fails = 0;
            g->first_s = now;
        }
    }
    pthread_mutex_unlock(&a->lock);
}

/* The page of an admin whose secret could not be read or made. */
static enum MHD_Result no_key(http_req *r, const kura_error *err)
{
    http_log(r->srv, KURA_LOG_ERROR, "admin: %s", err->message);
    return admin_message(r, NULL, 503, "Try again",
                         "The admin cannot sign its cookies: the app's secret could not be "
                         "read or made. The service's log says why.");
}

bool admin_session_load(http_req *r, admin_session *s)
{
    const admin *a = admin_of(r);
    memset(s, 0, sizeof *s);
    if (!a->enabled)
        return false;
    const char *cookie = MHD_lookup_connection_value(r->conn, MHD_COOKIE_KIND, SESSION_COOKIE);
    if (!cookie || strlen(cookie) != KURA_SESSION_COOKIE_LEN)
        return false;
    json_t *data = NULL;
    kura_error err = {0};
    if (!admin_keyed(a, &err)) { /* not logged in; the log-in page will say why */
        http_log(r->srv, KURA_LOG_ERROR, "admin: %s", err.message);
        return false;
    }
    bool ok = kura_session_load(a->sessions, cookie, &data, &err);
    http_metrics_store(&r->srv->metrics, HTTP_STORE_KV, HTTP_OP_GET, ok ? NULL : &err);
    if (!ok) {
        if (err.code != KURA_AUTH && err.code != KURA_NOT_FOUND)
            http_log(r->srv, KURA_LOG_WARN, "admin: a session could not be read: %s", err.message);
        return false;
    }
    const char *csrf = json_string_value(json_object_get(data, "csrf"));
    ok = json_is_true(json_object_get(data, "admin")) && csrf && *csrf &&
         strlen(csrf) < sizeof s->csrf;
    if (ok) {
        memcpy(s->csrf, csrf, strlen(csrf) + 1);
        memcpy(s->cookie, cookie, KURA_SESSION_COOKIE_SIZE);
    }
    json_decref(data);
    return ok;
}

bool admin_csrf_ok(const admin_session *s, const char *token)
{
    return s && same_token(s->csrf, token);
}

/* `next` when it is a path inside the admin made of plain URL characters (so
 * a link cannot send the browser elsewhere after logging in), else the
 * admin's front page. */
static const char *next_page(const admin *a, const char *next)
{
    size_t n = strlen(a->path);
    if (!next || strncmp(next, a->path, n) != 0 || (next[n] != '/' && next[n] != '\0') ||
        strlen(next) > 300 || strstr(next, "//") || strstr(next, "/.") ||
        strspn(next, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~/%") !=
            strlen(next))
        return a->path;
    return next;
}

static enum MHD_Result login_page(http_req *r, const char *problem, unsigned status,
                                  const char *next)
{
    const admin *a = admin_of(r);
    kura_error err = {0};
    if (!admin_keyed(a, &err))
        return no_key(r, &err);
    char nonce[ADMIN_TOKEN_SIZE], token[ADMIN_TOKEN_SIZE];
    const char *had = MHD_lookup_connection_value(r->conn, MHD_COOKIE_KIND, LOGIN_COOKIE);
    if (nonce_ok(had)) {
        memcpy(nonce, had, 44);
    } else {
        token_new(nonce);
        set_cookie(r, LOGIN_COOKIE, nonce, "/login", 3600);
    }
    login_token(a, nonce, token);
    admin_page p;
    admin_page_begin(&p, r, NULL, "Log in");
    kura_buf *b = &p.b;
    kura_buf_add(b, "<div class=\"login-box\"><p class=\"brand\">kura admin</p><h1>Log in</h1>");
    if (problem) {
        kura_buf_add(b, "<p class=\"banner error\" role=\"alert\">");
        html_text(b, problem);
        kura_buf_add(b, "</p>");
    }
    kura_buf_add(b, "<form method=\"post\" action=\"");
    html_text(b, a->path);
    kura_buf_add(b, "/login\"><input type=\"hidden\" name=\"csrf\" value=\"");
    html_text(b, token);
    kura_buf_add(b, "\"><input type=\"hidden\" name=\"next\" value=\"");
    html_text(b, next_page(a, next));
    kura_buf_add(b, "\"><div class=\"field\"><label for=\"password\">Password</label>"
                    "<input type=\"password\" id=\"password\" name=\"password\" "
                    "autocomplete=\"current-password\" autofocus required></div>"
                    "<div class=\"actions\"><button type=\"submit\" class=\"primary\">Log in"
                    "</button></div></form><p class=\"hint\">The password is the "
                    "<code>admin_password</code> setting (KURA_ADMIN_PASSWORD).</p></div>");
    return admin_page_send(&p, status);
}

enum MHD_Result admin_login_get(http_req *r, const admin_session *s, const admin_form *form)
{
    (void)form;
    if (s)
        return admin_redirect(r, next_page(admin_of(r), kura_http_query(r, "next")));
    return login_page(r, NULL, 200, kura_http_query(r, "next"));
}

enum MHD_Result admin_login_post(http_req *r, const admin_session *s, const admin_form *form)
{
    const admin *a = admin_of(r);
    const char *next = admin_form_get(form, "next");
    unsigned char addr[16];
    bool known = client_addr(r, addr);
    int64_t wait = known ? guard_wait(a, addr) : 0;
    if (wait > 0) {
        char secs[24];
        snprintf(secs, sizeof secs, "%lld", (long long)wait);
        http_add_header(r, MHD_HTTP_HEADER_RETRY_AFTER, secs);
        http_log(r->srv, KURA_LOG_WARN, "admin: a log-in refused: too many wrong passwords");
        return admin_message(r, NULL, 429, "Too many tries",
                             "Too many wrong passwords came from this address. Wait a few "
                             "minutes, then log in again.");
    }
    kura_error err = {0};
    if (!admin_keyed(a, &err))
        return no_key(r, &err);
    const char *nonce = MHD_lookup_connection_value(r->conn, MHD_COOKIE_KIND, LOGIN_COOKIE);
    char want[ADMIN_TOKEN_SIZE] = "";
    if (nonce_ok(nonce))
        login_token(a, nonce, want);
    if (!nonce_ok(nonce) || !same_token(want, admin_form_get(form, "csrf"))) {
        http_log(r->srv, KURA_LOG_WARN, "admin: a log-in without its form's token was refused");
        return login_page(r,
                          "The log-in form was out of date or came from another page; enter "
                          "the password again.",
                          403, next);
    }
    const char *pw = admin_form_get(form, "password");
    unsigned char hash[32];
    crypto_generichash(hash, sizeof hash, (const unsigned char *)(pw ? pw : ""),
                       pw ? strlen(pw) : 0, NULL, 0);
    if (!pw || sodium_memcmp(hash, a->password, sizeof hash) != 0) {
        http_log(r->srv, KURA_LOG_WARN, "admin: a log-in with a wrong password was refused");
        if (known)
            guard_note(a, addr, true);
        return login_page(r, "Wrong password.", 403, next);
    }
    if (known)
        guard_note(a, addr, false);
    if (s) /* best effort: the old session ends, the new one has a fresh id */
        kura_session_destroy(a->sessions, s->cookie, NULL);
    char csrf[ADMIN_TOKEN_SIZE], cookie[KURA_SESSION_COOKIE_SIZE];
    token_new(csrf);
    json_t *data = json_pack("{s:b, s:s}", "admin", 1, "csrf", csrf);
    bool ok = data && kura_session_create(a->sessions, data, cookie, &err);
    json_decref(data);
    http_metrics_store(&r->srv->metrics, HTTP_STORE_KV, HTTP_OP_INSERT, ok ? NULL : &err);
    if (!ok) {
        http_log(r->srv, KURA_LOG_ERROR, "admin: a session could not be started: %s",
                 data ? err.message : "out of memory");
        return admin_message(r, NULL, 503, "Try again",
                             "The session could not be started: the key-value store did not "
                             "answer.");
    }
    http_log(r->srv, KURA_LOG_INFO, "admin: logged in");
    set_cookie(r, SESSION_COOKIE, cookie, "", -1);
    set_cookie(r, LOGIN_COOKIE, "", "/login", 0);
    return admin_redirect(r, next_page(a, next));
}

enum MHD_Result admin_logout(http_req *r, const admin_session *s, const admin_form *form)
{
    (void)form;
    const admin *a = admin_of(r);
    kura_error err = {0};
    bool ok = kura_session_destroy(a->sessions, s->cookie, &err);
    http_metrics_store(&r->srv->metrics, HTTP_STORE_KV, HTTP_OP_DELETE, ok ? NULL : &err);
    set_cookie(r, SESSION_COOKIE, "", "", 0);
    char to[256];
    snprintf(to, sizeof to, "%s/login", a->path);
    return admin_redirect(r, to);
}
