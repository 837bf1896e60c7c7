/*
 * admin.h — what the admin's files share (kura_http_mount_admin): its state,
 * the logged-in session, HTML pages and forms. Nothing here is installed.
 *
 *   admin.c         mounting: the routes and the state
 *   admin_auth.c    log-in, log-out, the session cookie, CSRF tokens
 *   admin_html.c    escaping, links and the page around every view
 *   admin_form.c    form bodies read, and model fields as inputs
 *   admin_list.c    a model's rows: search, filters, order, pages
 *   admin_row.c     one row: detail, create, edit, delete
 *   admin_kv.c      rankings and the status page
 *   admin_assets.c  the style sheet
 */
#ifndef KURA_HTTP_ADMIN_H
#define KURA_HTTP_ADMIN_H

#include "base/buf.h"
#include "http/internal.h"

/* Bytes of a CSRF token or a log-in nonce: 32 random bytes in base64url. */
#define ADMIN_TOKEN_SIZE 48

/* The log-in guard: after ADMIN_GUARD_TRIES wrong passwords from one client
 * address within ADMIN_GUARD_WINDOW_S seconds, that address gets 429 for
 * ADMIN_GUARD_BLOCK_S seconds, whatever it sends. ADMIN_GUARD_SLOTS addresses
 * are remembered; a new one takes the slot of the one seen longest ago. */
#define ADMIN_GUARD_SLOTS    64
#define ADMIN_GUARD_TRIES    5
#define ADMIN_GUARD_WINDOW_S 300
#define ADMIN_GUARD_BLOCK_S  300

typedef struct admin_guard_slot {
    unsigned char addr[16]; /* IPv6, or IPv4 mapped into it */
    bool used;
    unsigned fails;  /* wrong passwords since first_s */
    int64_t first_s; /* the first of them (monotonic seconds) */
    int64_t last_s;  /* when the address last tried */
    int64_t blocked_until_s;
} admin_guard_slot;

/* One mounted admin; the routes' ctx, owned by the server. */
typedef struct admin {
    kura_http *srv;
    const char *path;           /* "/admin" (owned by srv) */
    bool enabled;               /* an admin_password is set */
    unsigned char password[32]; /* BLAKE2b of the password, compared in constant time */
    /* What follows changes while serving, under lock (the handlers see a const
     * admin: admin_keyed and the guard cast it away for these fields only). */
    pthread_mutex_t lock;    /* made at mount; lives as long as the server */
    atomic_bool keyed;       /* key and sessions are made (admin_keyed) */
    unsigned char key[32];   /* from the app's secret: signs sessions and log-in tokens */
    kura_sessions *sessions; /* srv->admin_sessions */
    admin_guard_slot guard[ADMIN_GUARD_SLOTS];
} admin;

/* The logged-in session of a request. */
typedef struct admin_session {
    char cookie[KURA_SESSION_COOKIE_SIZE];
    char csrf[ADMIN_TOKEN_SIZE];
} admin_session;

/* A decoded application/x-www-form-urlencoded body. */
typedef struct admin_form {
    char *text; /* the decoded copy the pairs point into */
    struct {
        const char *name, *value;
    } * pairs;
    size_t n;
} admin_form;

/*
 * A page's handler. The dispatcher (admin.c) has already checked, for every
 * route but the log-in page and the style sheet, that the request is logged
 * in (s is its session) and, for a POST, that the form (decoded in *form)
 * carries the session's CSRF token.
 */
typedef enum MHD_Result (*admin_handler)(http_req *r, const admin_session *s,
                                         const admin_form *form);

/* What one admin route does: its context. */
typedef struct admin_route {
    const admin *a;
    admin_handler get, post;
    bool open; /* reachable without logging in (the log-in page, the style sheet) */
} admin_route;

/* The admin a request came to. */
static inline const admin *admin_of(const http_req *r)
{
    return ((const admin_route *)r->ctx)->a;
}

/* A page being written (admin_html.c). */
typedef struct admin_page {
    http_req *r;
    const admin *a;
    const admin_session *s; /* NULL when nobody is logged in */
    kura_buf b;
    char stack[1024];
} admin_page;

/* --- admin.c --- */

/*
 * Makes a->key and a->sessions at the first request that needs them, since
 * they come from the app's secret, which kura_app_secret makes at its first
 * use. False when the secret cannot be read or made (err says why; a path may
 * be in it: log it, do not show it).
 */
bool admin_keyed(const admin *a, kura_error *err);

/* --- admin_auth.c --- */

/* Whether the request carries a logged-in admin session; fills *s. */
bool admin_session_load(http_req *r, admin_session *s);

/* Whether `token` (a form's "csrf") is the session's, compared in constant time. */
bool admin_csrf_ok(const admin_session *s, const char *token);

enum MHD_Result admin_login_get(http_req *r, const admin_session *s, const admin_form *form);
enum MHD_Result admin_login_post(http_req *r, const admin_session *s, const admin_form *form);
enum MHD_Result admin_logout(http_req *r, const admin_session *s, const admin_form *form);

/* --- admin_html.c --- */

/* Appends s with & < > " ' as character references: safe in text and in
 * quoted attribute values. n bytes of s (html_textn) or up to its NUL. */
void html_text(kura_buf *b, const char *s);
void html_textn(kura_buf *b, const char *s, size_t n);

/* Appends s cut to at most `chars` characters (UTF-8), escaped, with "…" when cut. */
void html_text_cut(kura_buf *b, const char *s, size_t chars);

/* Starts a page titled `title` (escaped): the head, the navigation (models,
 * rankings, status, log-out) when p->s is set. */
void admin_page_begin(admin_page *p, http_req *r, const admin_session *s, const char *title);

/* Ends the page and sends it with `status` and the admin's security headers
 * (admin_headers). Frees the page's buffer. */
enum MHD_Result admin_page_send(admin_page *p, unsigned status);

/* Frees a page never sent. */
void admin_page_drop(admin_page *p);

/* Adds the headers every admin answer carries: Content-Security-Policy,
 * X-Frame-Options, X-Content-Type-Options, Referrer-Policy, and Cache-Control
 * (no-store, but an hour for what is `cacheable`: the style sheet). */
void admin_headers(http_req *r, bool cacheable);

/* A 303 to `location` (a path the admin made), with the security headers. */
enum MHD_Result admin_redirect(http_req *r, const char *location);

/* A page with a heading and one message (escaped), sent with `status`. */
enum MHD_Result admin_message(http_req *r, const admin_session *s, unsigned status,
                              const char *title, const char *message);

/* Appends the hidden CSRF input of the session's forms. */
void html_csrf_input(admin_page *p);

/* --- admin_form.c --- */

/* Decodes body (len bytes; NULL is an empty form) into *f ('+' is a space,
 * %XX a byte). False on out of memory. Free with admin_form_free. */
bool admin_form_parse(const char *body, size_t len, admin_form *f);
void admin_form_free(admin_form *f);

/* The first value named `name`, or NULL. */
const char *admin_form_get(const admin_form *f, const char *name);

/*
 * The form's values for the model's fields as the JSON object the collection
 * would have been sent (numbers as numbers when they read as numbers, a
 * checkbox as true/false, an empty box as null, tags split on commas, a JSON
 * field's text parsed), and the key when key_allowed and it was filled in.
 * A datetime box still showing `stored`'s value is left out, so its
 * microseconds are kept. JSON text that does not parse is an error in e.
 * NULL on out of memory.
 */
json_t *admin_form_json(const kura_model *m, const admin_form *f, const void *stored,
                        bool key_allowed, http_field_errors *e);

/* The text of field f of *obj as an input shows it ("" for NULL): numbers,
 * "true"/"false", datetimes as "YYYY-MM-DDTHH:MM:SS" (UTC), tags joined with
 * ", ", JSON indented. Appended to b unescaped. */
void admin_field_text(kura_buf *b, const kura_model *m, const void *obj, const kura_field *f,
                      bool for_input);

/* Appends the labelled input of field f: its value from the form when
 * `typed` (a failed submit: what was typed stays), else from obj (NULL: the
 * field's default); its error from e beside it. */
void admin_field_input(admin_page *p, const kura_model *m, const kura_field *f, const void *obj,
                       const admin_form *typed, const http_field_errors *e);

/* --- admin_list.c, admin_row.c --- */

/* The registered model named by the route's first parameter, or NULL (a 404
 * page went out into *ret). */
const kura_model *admin_model(http_req *r, const admin_session *s, kura_store **store,
                              enum MHD_Result *ret);

/* The path of a model's pages: "/admin/models/<name>" + suffix, into b. */
void admin_model_path(kura_buf *b, const admin *a, const kura_model *m, const char *suffix);

/* The path of one row's page: ".../rows/<key>" + suffix. */
void admin_row_path(kura_buf *b, const admin *a, const kura_model *m, const char *key,
                    const char *suffix);

/* The value `text` of field f, at most `cut` characters, as HTML: a link to the
 * row it names when f references a model the app has (kura/model.h,
 * "References"), else the escaped text. */
void admin_value_html(admin_page *p, const kura_field *f, const char *text, size_t cut);

enum MHD_Result admin_index(http_req *r, const admin_session *s, const admin_form *form);
enum MHD_Result admin_list(http_req *r, const admin_session *s, const admin_form *form);
enum MHD_Result admin_detail(http_req *r, const admin_session *s, const admin_form *form);
enum MHD_Result admin_new_get(http_req *r, const admin_session *s, const admin_form *form);
enum MHD_Result admin_new_post(http_req *r, const admin_session *s, const admin_form *form);
enum MHD_Result admin_edit_get(http_req *r, const admin_session *s, const admin_form *form);
enum MHD_Result admin_edit_post(http_req *r, const admin_session *s, const admin_form *form);
enum MHD_Result admin_delete_get(http_req *r, const admin_session *s, const admin_form *form);
enum MHD_Result admin_delete_post(http_req *r, const admin_session *s, const admin_form *form);

/* --- admin_kv.c --- */

enum MHD_Result admin_rankings(http_req *r, const admin_session *s, const admin_form *form);
enum MHD_Result admin_status(http_req *r, const admin_session *s, const admin_form *form);

/* --- admin_assets.c --- */

enum MHD_Result admin_css(http_req *r, const admin_session *s, const admin_form *form);

#endif
