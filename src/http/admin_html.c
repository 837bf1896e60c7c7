/*
 * admin_html.c — writing the admin's HTML: every value that did not come from
 * this file goes through html_text (escaped) or html_url_part (percent-
 * encoded, then escaped), and every answer carries the same security headers.
 * The pages have no script at all, and no inline style: the policy
 * "default-src 'self'" would refuse both.
 */
#include <stdlib.h>
#include <string.h>

#include "http/admin.h"

void html_textn(kura_buf *b, const char *s, size_t n)
{
    size_t start = 0;
    for (size_t i = 0; i < n; i++) {
        const char *ref;
        switch (s[i]) {
        case '&':
            ref = "&amp;";
            break;
        case '<':
            ref = "&lt;";
            break;
        case '>':
            ref = "&gt;";
            break;
        case '"':
            ref = "&quot;";
            break;
        case '\'':
            ref = "&#39;";
            break;
        default:
            continue;
        }
        kura_buf_addn(b, s + start, i - start);
        kura_buf_add(b, ref);
        start = i + 1;
    }
    kura_buf_addn(b, s + start, n - start);
}

void html_text(kura_buf *b, const char *s)
{
    if (s)
        html_textn(b, s, strlen(s));
}

void html_url_part(kura_buf *b, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    for (const unsigned char *p = (const unsigned char *)s; p && *p; p++) {
        if ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
            strchr("-._~", *p)) {
            kura_buf_addn(b, (const char *)p, 1);
        } else {
            char esc[3] = {'%', hex[*p >> 4], hex[*p & 15]};
            kura_buf_addn(b, esc, 3);
        }
    }
}

void html_text_cut(kura_buf *b, const char *s, size_t chars)
{
    if (!s)
        return;
    size_t i = 0, count = 0;
    while (s[i] && count < chars) {
        i++;
        while ((s[i] & 0xC0) == 0x80) /* the rest of a UTF-8 character */
            i++;
        count++;
    }
    html_textn(b, s, i);
    if (s[i])
        kura_buf_add(b, "…");
}

void admin_headers(http_req *r, bool cacheable)
{
    /* No script, no inline style, no frames, forms only to this site. */
    http_add_header(r, "Content-Security-Policy",
                    "default-src 'self'; form-action 'self'; frame-ancestors 'none'; "
                    "base-uri 'none'");
    http_add_header(r, "X-Frame-Options", "DENY");
    http_add_header(r, "X-Content-Type-Options", "nosniff");
    http_add_header(r, "Referrer-Policy", "same-origin");
    http_add_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, cacheable ? "max-age=3600" : "no-store");
}

enum MHD_Result admin_redirect(http_req *r, const char *location)
{
    admin_headers(r, false);
    http_add_header(r, MHD_HTTP_HEADER_LOCATION, location);
    return http_respond(r, 303, NULL, NULL, 0);
}

void html_csrf_input(admin_page *p)
{
    kura_buf_add(&p->b, "<input type=\"hidden\" name=\"csrf\" value=\"");
    html_text(&p->b, p->s ? p->s->csrf : "");
    kura_buf_add(&p->b, "\">");
}

/* The side bar: every registered model by where it lives, then the
 * key-value pages and the log-out button. */
static void side_bar(admin_page *p)
{
    kura_buf *b = &p->b;
    const admin *a = p->a;
    kura_app *app = p->r->srv->app;
    kura_buf_add(b, "<aside class=\"side\"><a class=\"brand\" href=\"");
    html_text(b, a->path);
    kura_buf_add(b, "\">kura <span>admin</span></a><nav>");
    static const struct {
        kura_model_home home;
        const char *title;
    } homes[] = {{KURA_IN_SQL, "SQL tables"}, {KURA_IN_DOCUMENTS, "Documents"}};
    for (size_t h = 0; h < sizeof homes / sizeof homes[0]; h++) {
        bool any = false;
        for (size_t i = 0; i < kura_app_model_count(app); i++) {
            kura_model_home home;
            const kura_model *m = kura_app_model_at(app, i, &home);
            if (home != homes[h].home)
                continue;
            if (!any) {
                kura_buf_add(b, "<h2>");
                kura_buf_add(b, homes[h].title);
                kura_buf_add(b, "</h2><ul>");
                any = true;
            }
            char path[512];
            kura_buf pb;
            kura_buf_init(&pb, path, sizeof path);
            admin_model_path(&pb, a, m, "");
            size_t n = strlen(pb.data);
            bool here = strncmp(p->r->url, pb.data, n) == 0 &&
                        (p->r->url[n] == '\0' || p->r->url[n] == '/');
            kura_buf_add(b, here ? "<li><a class=\"here\" href=\"" : "<li><a href=\"");
            html_text(b, pb.data);
            kura_buf_add(b, "\">");
            html_text(b, m->name);
            kura_buf_add(b, "</a></li>");
            kura_buf_free(&pb);
        }
        if (any)
            kura_buf_add(b, "</ul>");
    }
    kura_buf_add(b, "<h2>Key-value</h2><ul><li><a href=\"");
    html_text(b, a->path);
    kura_buf_add(b, "/rankings\">Rankings</a></li><li><a href=\"");
    html_text(b, a->path);
    kura_buf_add(b, "/status\">Status</a></li></ul></nav><form class=\"logout\" method=\"post\" "
                    "action=\"");
    html_text(b, a->path);
    kura_buf_add(b, "/logout\">");
    html_csrf_input(p);
    kura_buf_add(b, "<button type=\"submit\">Log out</button></form></aside>");
}

void admin_page_begin(admin_page *p, http_req *r, const admin_session *s, const char *title)
{
    p->r = r;
    p->a = admin_of(r);
    p->s = s;
    kura_buf_init(&p->b, p->stack, sizeof p->stack);
    kura_buf *b = &p->b;
    kura_buf_add(b, "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
                    "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
                    "<title>");
    html_text(b, title);
    kura_buf_add(b, " · kura admin</title><link rel=\"stylesheet\" href=\"");
    html_text(b, p->a->path);
    kura_buf_add(b, "/static/admin.css\"></head>");
    if (s) {
        kura_buf_add(b, "<body><div class=\"shell\">");
        side_bar(p);
        kura_buf_add(b, "<main>");
    } else {
        kura_buf_add(b, "<body class=\"bare\"><main>");
    }
}

void admin_page_drop(admin_page *p)
{
    kura_buf_free(&p->b);
}

enum MHD_Result admin_page_send(admin_page *p, unsigned status)
{
    kura_buf_add(&p->b, p->s ? "</main></div></body></html>\n" : "</main></body></html>\n");
    if (p->b.oom) {
        admin_page_drop(p);
        return http_respond(p->r, 500, NULL, NULL, 0);
    }
    char *body = p->b.data;
    size_t len = p->b.len;
    if (!p->b.heap) { /* the page fitted the stack: the response needs its own copy */
        body = malloc(len + 1);
        if (!body)
            return http_respond(p->r, 500, NULL, NULL, 0);
        memcpy(body, p->b.data, len + 1);
    }
    p->b.heap = false; /* handed to the response, which frees it */
    admin_headers(p->r, false);
    return http_respond(p->r, status, "text/html; charset=utf-8", body, len);
}

enum MHD_Result admin_message(http_req *r, const admin_session *s, unsigned status,
                              const char *title, const char *message)
{
    admin_page p;
    admin_page_begin(&p, r, s, title);
    kura_buf_add(&p.b, "<h1>");
    html_text(&p.b, title);
    kura_buf_add(&p.b, "</h1><p class=\"message\">");
    html_text(&p.b, message);
    kura_buf_add(&p.b, "</p>");
    if (!s && p.a->enabled) {
        kura_buf_add(&p.b, "<p><a href=\"");
        html_text(&p.b, p.a->path);
        kura_buf_add(&p.b, "/login\">Log in</a></p>");
    }
    return admin_page_send(&p, status);
}
