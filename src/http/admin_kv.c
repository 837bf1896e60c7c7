/*
 * admin_kv.c — the key-value side of the admin, read-only:
 *
 *   /rankings  the top N of a board and a member's rank, asked with two small
 *              GET forms (board names as /rankings/{board} takes them: the
 *              store keeps no list of boards to offer);
 *   /status    what /health says (a round trip to every store) and the
 *              service's counters: requests by route, store operations.
 *
 * Sessions are not counted: the key-value API has no cheap count of keys by
 * prefix (it would take a scan of the whole store), so the page says so.
 */
#include <stdio.h>
#include <string.h>

#include <kura/rank.h>

#include "http/admin.h"

#define TOP_DEFAULT 10
#define TOP_MAX     100

static void text_input(kura_buf *b, const char *id, const char *name, const char *label,
                       const char *value, const char *type)
{
    kura_buf_add(b, "<div class=\"field\"><label for=\"");
    html_text(b, id);
    kura_buf_add(b, "\">");
    html_text(b, label);
    kura_buf_add(b, "</label><input type=\"");
    kura_buf_add(b, type);
    kura_buf_add(b, "\" id=\"");
    html_text(b, id);
    kura_buf_add(b, "\" name=\"");
    html_text(b, name);
    kura_buf_add(b, "\" value=\"");
    html_text(b, value ? value : "");
    kura_buf_add(b, "\"></div>");
}

static void banner(kura_buf *b, const char *kind, const char *text)
{
    kura_buf_add(b, "<p class=\"banner ");
    kura_buf_add(b, kind);
    kura_buf_add(b, "\">");
    html_text(b, text);
    kura_buf_add(b, "</p>");
}

static void kv_failed(http_req *r, kura_buf *b, const kura_error *err)
{
    http_log(r->srv, KURA_LOG_WARN, "admin: rankings: %s", err->message);
    banner(b, "error", "The key-value store did not answer; try again.");
}

/* The top of a board as a table. */
static void top_table(http_req *r, kura_buf *b, kura_kv *kv, const char *board, const char *key,
                      int64_t n)
{
    kura_rank_list list = {0};
    int64_t count = 0;
    kura_error err = {0};
    bool ok =
        kura_rank_count(kv, key, &count, &err) && kura_rank_top(kv, key, (size_t)n, &list, &err);
    http_metrics_store(&r->srv->metrics, HTTP_STORE_KV, HTTP_OP_OTHER, ok ? NULL : &err);
    if (!ok) {
        kv_failed(r, b, &err);
        return;
    }
    kura_buf_add(b, "<h2>Top of <code>");
    html_text(b, board);
    kura_buf_addf(b, "</code></h2><p class=\"summary\"><strong>%lld</strong> member%s</p>",
                  (long long)count, count == 1 ? "" : "s");
    if (list.count) {
        kura_buf_add(b, "<div class=\"table-wrap narrow\"><table class=\"rows ranks\"><thead><tr>"
                        "<th class=\"num\">rank</th><th>member</th><th "
                        "class=\"num\">score</th></tr></thead><tbody>");
        for (size_t i = 0; i < list.count; i++) {
            kura_buf_addf(b, "<tr><td class=\"num\">%lld</td><td>", (long long)list.items[i].rank);
            html_text(b, list.items[i].member);
            kura_buf_addf(b, "</td><td class=\"num\">%.15g</td></tr>", list.items[i].score);
        }
        kura_buf_add(b, "</tbody></table></div>");
    }
    kura_rank_list_free(&list);
}

static void member_rank(http_req *r, kura_buf *b, kura_kv *kv, const char *board, const char *key,
                        const char *member)
{
    int64_t rank = 0, count = 0;
    double score = 0;
    bool found = false;
    kura_error err = {0};
    bool ok = kura_rank_get(kv, key, member, &rank, &score, &found, &err) &&
              kura_rank_count(kv, key, &count, &err);
    http_metrics_store(&r->srv->metrics, HTTP_STORE_KV, HTTP_OP_OTHER, ok ? NULL : &err);
    if (!ok) {
        kv_failed(r, b, &err);
        return;
    }
    kura_buf_add(b, "<div class=\"rank-card\"><span class=\"member\">");
    html_text(b, member);
    if (found) {
        kura_buf_addf(b,
                      "</span><span class=\"rank\">#%lld</span><span class=\"muted\">of %lld "
                      "on ",
                      (long long)rank, (long long)count);
        html_text(b, board);
        kura_buf_addf(b, " · score %.15g</span></div>", score);
    } else {
        kura_buf_add(b, "</span><span class=\"muted\">is not on ");
        html_text(b, board);
        kura_buf_add(b, "</span></div>");
    }
}

enum MHD_Result admin_rankings(http_req *r, const admin_session *s, const admin_form *form)
{
    (void)form;
    kura_kv *kv = kura_app_kv(r->srv->app);
    const char *board = kura_http_query(r, "board");
    const char *limit = kura_http_query(r, "limit");
    const char *member = kura_http_query(r, "member");
    admin_page p;
    admin_page_begin(&p, r, s, "Rankings");
    kura_buf *b = &p.b;
    kura_buf_add(b, "<h1>Rankings</h1><p class=\"muted\">Leaderboards in the key-value store "
                    "(what <code>/rankings/{board}</code> serves), highest score first.</p>"
                    "<div class=\"forms\"><form class=\"filters\" method=\"get\" action=\"");
    html_text(b, p.a->path);
    kura_buf_add(b, "/rankings\"><h2>Top of a board</h2>");
    text_input(b, "top-board", "board", "board", board, "text");
    text_input(b, "top-limit", "limit", "how many", limit && *limit ? limit : "10", "number");
    kura_buf_add(b, "<div class=\"actions\"><button type=\"submit\">Show</button></div></form>"
                    "<form class=\"filters\" method=\"get\" action=\"");
    html_text(b, p.a->path);
    kura_buf_add(b, "/rankings\"><h2>A member's rank</h2>");
    text_input(b, "rank-board", "board", "board", board, "text");
    text_input(b, "rank-member", "member", "member", member, "text");
    kura_buf_add(b, "<div class=\"actions\"><button type=\"submit\">Find</button></div></form>"
                    "</div>");
    unsigned status = 200;
    char key[96];
    int64_t n = TOP_DEFAULT;
    if (!kv) {
        banner(b, "error", "This app has no key-value store.");
    } else if (board && *board) {
        if (!http_board_key(board, key, sizeof key)) {
            banner(b, "error", "A board name is 1 to 64 letters, digits, '_', '-' or '.'.");
            status = 400;
        } else if (limit && *limit && http_limit_param(limit, 1, TOP_MAX, &n) < 0) {
            banner(b, "error", "How many: a whole number from 1 to 100.");
            status = 400;
        } else if (member && *member) {
            member_rank(r, b, kv, board, key, member);
        } else {
            top_table(r, b, kv, board, key, n);
        }
    }
    return admin_page_send(&p, status);
}

/* --- status --------------------------------------------------------------------- */

static const char *const store_labels[HTTP_NSTORES] = {"SQL", "documents", "key-value"};
static const char *const op_labels[HTTP_NOPS] = {"get",  "insert", "update", "delete",
                                                 "find", "count",  "ping",   "other"};

static uint64_t load(const _Atomic uint64_t *v)
{
    return atomic_load_explicit(v, memory_order_relaxed);
}

static void health_table(kura_buf *b, kura_http *srv, bool *ok)
{
    json_t *h = http_health(srv, ok);
    json_t *stores = json_object_get(h, "stores");
    kura_buf_add(b, "<div class=\"cards\">");
    const char *name;
    json_t *one;
    json_object_foreach(stores, name, one)
    {
        const char *st = json_string_value(json_object_get(one, "status"));
        bool up = st && strcmp(st, "ok") == 0;
        kura_buf_add(b,
                     up ? "<div class=\"card up\"><strong>" : "<div class=\"card down\"><strong>");
        html_text(b, name);
        kura_buf_add(b, "</strong><span class=\"muted\">");
        html_text(b, json_string_value(json_object_get(one, "driver")));
        kura_buf_addf(b, "</span><span class=\"count\">%s · %lld µs</span></div>",
                      up ? "answers" : "does not answer",
                      (long long)json_integer_value(json_object_get(one, "latency_us")));
    }
    kura_buf_add(b, "</div>");
    json_decref(h);
}

enum MHD_Result admin_status(http_req *r, const admin_session *s, const admin_form *form)
{
    (void)form;
    kura_http *srv = r->srv;
    http_metrics *m = &srv->metrics;
    admin_page p;
    admin_page_begin(&p, r, s, "Status");
    kura_buf *b = &p.b;
    bool ok;
    kura_buf_add(b, "<h1>Status</h1>");
    kura_buf pending;
    char stack[2048];
    kura_buf_init(&pending, stack, sizeof stack);
    health_table(&pending, srv, &ok);
    banner(b, ok ? "ok" : "error",
           ok ? "Every store answers." : "A store does not answer: see the log.");
    kura_buf_addn(b, pending.data, pending.len);
    kura_buf_free(&pending);
    kura_buf_addf(b,
                  "<h2>Requests</h2><p class=\"summary\"><strong>%lld</strong> in flight · "
                  "sessions are not counted: the key-value store cannot count them without "
                  "scanning every key</p>",
                  (long long)atomic_load_explicit(&m->in_flight, memory_order_relaxed));
    kura_buf_add(
        b,
        "<div class=\"table-wrap\"><table class=\"rows\"><thead><tr><th>route</th>"
        "<th class=\"num\">requests</th><th class=\"num\">mean latency</th></tr></thead><tbody>");
    for (size_t i = 0; m->routes && i <= srv->nroutes; i++) {
        uint64_t n = 0;
        for (size_t k = 0; k < HTTP_NSTATUS; k++)
            n += load(&m->routes[i].requests[k]);
        if (!n)
            continue;
        kura_buf_add(b, "<tr><td><code>");
        html_text(b, i < srv->nroutes ? srv->routes[i].pattern : "(no route)");
        kura_buf_addf(b,
                      "</code></td><td class=\"num\">%llu</td><td class=\"num\">%.2f ms</td>"
                      "</tr>",
                      (unsigned long long)n,
                      (double)load(&m->routes[i].latency_sum_us) / (double)n / 1000.0);
    }
    kura_buf_add(b,
                 "</tbody></table></div><h2>Store operations</h2><div class=\"table-wrap\">"
                 "<table class=\"rows\"><thead><tr><th>store</th><th>operation</th>"
                 "<th class=\"num\">count</th><th class=\"num\">errors</th></tr></thead><tbody>");
    for (size_t st = 0; st < HTTP_NSTORES; st++)
        for (size_t op = 0; op < HTTP_NOPS; op++) {
            uint64_t n = load(&m->store_ops[st][op]);
            if (!n)
                continue;
            uint64_t errors = load(&m->store_errors[st][op]);
            kura_buf_addf(b,
                          "<tr><td>%s</td><td>%s</td><td class=\"num\">%llu</td>"
                          "<td class=\"num%s\">%llu</td></tr>",
                          store_labels[st], op_labels[op], (unsigned long long)n,
                          errors ? " bad" : "", (unsigned long long)errors);
        }
    kura_buf_add(b, "</tbody></table></div>");
    return admin_page_send(&p, 200);
}
