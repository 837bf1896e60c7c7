/*
 * rankings.c — /rankings/{board}: sorted-set leaderboards on the key-value
 * store, highest score first (ties in member order, as the store defines).
 *
 *   POST /rankings/{board}            {"member":"alice","score":12.5} sets a score;
 *                                     {"member":"alice","increment":3} adds to it
 *   GET  /rankings/{board}?limit=N    the top N (default 10, capped like lists)
 *   GET  /rankings/{board}/{member}   {"member","rank" (1 = top),"score"}
 */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include <kura/kv.h>

#include "http/internal.h"

#define SCORE_MAX  1e15 /* largest score or increment a request may give */
#define MEMBER_MAX 256

/* Board names become part of a key: a short, plain alphabet keeps them from
 * reaching into other keys. */
bool http_board_key(const char *b, char *key, size_t size)
{
    size_t n = strlen(b);
    if (n == 0 || n > 64)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!isalnum((unsigned char)b[i]) && !strchr("_-.", b[i]))
            return false;
    snprintf(key, size, "kura:rank:%s", b);
    return true;
}

static bool board_key(http_req *r, char *key, size_t size)
{
    return http_board_key(r->params[0], key, size);
}

static enum MHD_Result bad_board(http_req *r)
{
    return http_problem(r, 400, "a board name is 1 to 64 letters, digits, '_', '-' or '.'");
}

static enum MHD_Result post_score(http_req *r)
{
    char key[96];
    if (!board_key(r, key, sizeof key))
        return bad_board(r);
    if (!r->body || r->body_len == 0)
        return http_problem(r, 400, "the body is empty; expected a JSON object");
    json_error_t jerr;
    json_t *j = json_loadb(r->body, r->body_len, JSON_REJECT_DUPLICATES, &jerr);
    if (!j)
        return http_problem(r, 400, "malformed JSON at line %d, column %d: %s", jerr.line,
                            jerr.column, jerr.text);
    if (!json_is_object(j)) {
        json_decref(j);
        return http_problem(r, 400, "the body must be a JSON object");
    }
    kura_field_error errs[8];
    size_t n = 0;
    json_t *member = json_object_get(j, "member");
    json_t *score = json_object_get(j, "score");
    json_t *incr = json_object_get(j, "increment");
    const char *m = json_string_value(member);
    if (!m || !*m || strlen(m) > MEMBER_MAX || strlen(m) != json_string_length(member)) {
        errs[n].field = "member";
        snprintf(errs[n++].reason, sizeof errs[0].reason,
                 "must be a non-empty string of at most %d bytes", MEMBER_MAX);
    }
    if (!score == !incr) {
        errs[n].field = score ? "increment" : "score";
        snprintf(errs[n++].reason, sizeof errs[0].reason,
                 "give exactly one of score and increment");
    }
    json_t *num = score ? score : incr;
    /* Bounded, so no run of increments can reach infinity (which JSON cannot
     * carry back): 1e15 per request would need ~1e293 requests. */
    if (num && (!json_is_number(num) || !isfinite(json_number_value(num)) ||
                fabs(json_number_value(num)) > SCORE_MAX)) {
        errs[n].field = score ? "score" : "increment";
        snprintf(errs[n++].reason, sizeof errs[0].reason, "must be a number from -%g to %g",
                 SCORE_MAX, SCORE_MAX);
    }
    const char *key_name;
    json_t *v;
    json_object_foreach(j, key_name, v)
    {
        if (n < sizeof errs / sizeof errs[0] && strcmp(key_name, "member") != 0 &&
            strcmp(key_name, "score") != 0 && strcmp(key_name, "increment") != 0) {
            errs[n].field = key_name;
            snprintf(errs[n++].reason, sizeof errs[0].reason, "is not a field");
        }
    }
    if (n) {
        enum MHD_Result ret = http_problem_fields(r, errs, n);
        json_decref(j);
        return ret;
    }
    kura_kv *kv = r->ctx;
    kura_error err = {0};
    double result = json_number_value(num);
    bool ok = score ? kura_kv_zadd(kv, key, m, result, NULL, &err)
                    : kura_kv_zincr(kv, key, m, result, &result, &err);
    http_metrics_store(&r->srv->metrics, HTTP_STORE_KV, HTTP_OP_UPDATE, ok ? NULL : &err);
    enum MHD_Result ret =
        ok ? http_respond_json(r, 200, json_pack("{s:s, s:f}", "member", m, "score", result))
           : http_problem_error(r, &err);
    json_decref(j);
    return ret;
}

static enum MHD_Result get_top(http_req *r)
{
    char key[96];
    if (!board_key(r, key, sizeof key))
        return bad_board(r);
    int64_t limit = 10;
    const char *l = MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, "limit");
    if (l && http_limit_param(l, 1, r->srv->opts.max_limit, &limit) < 0)
        return http_problem(r, 400, "limit must be a whole number >= 1");
    kura_kv_entries top = {0};
    kura_error err = {0};
    bool ok = kura_kv_zrange(r->ctx, key, 0, limit - 1, true, &top, &err);
    http_metrics_store(&r->srv->metrics, HTTP_STORE_KV, HTTP_OP_FIND, ok ? NULL : &err);
    if (!ok)
        return http_problem_error(r, &err);
    json_t *items = json_array();
    for (size_t i = 0; items && i < top.count; i++) {
        json_t *item = json_pack("{s:I, s:s, s:f}", "rank", (json_int_t)(i + 1), "member",
                                 top.items[i].name, "score", top.items[i].score);
        if (!item || json_array_append_new(items, item) != 0) {
            /* A member that cannot be shown is an error, never a silent gap. */
            json_decref(items);
            items = NULL;
        }
    }
    kura_kv_entries_free(&top);
    if (!items)
        return http_problem(r, 500, "the ranking cannot be written as JSON");
    return http_respond_json(r, 200,
                             json_pack("{s:s, s:o, s:I}", "board", r->params[0], "items", items,
                                       "limit", (json_int_t)limit));
}

static enum MHD_Result get_member(http_req *r)
{
    char key[96];
    if (!board_key(r, key, sizeof key))
        return bad_board(r);
    const char *m = r->params[1];
    int64_t rank = -1;
    double score = 0;
    bool found = false;
    kura_error err = {0};
    bool ok = kura_kv_zrank(r->ctx, key, m, true, &rank, &err) &&
              (rank < 0 || kura_kv_zscore(r->ctx, key, m, &score, &found, &err));
    http_metrics_store(&r->srv->metrics, HTTP_STORE_KV, HTTP_OP_GET, ok ? NULL : &err);
    if (!ok)
        return http_problem_error(r, &err);
    if (rank < 0 || !found)
        return http_problem(r, 404, "no such member on this board");
    return http_respond_json(r, 200,
                             json_pack("{s:s, s:s, s:I, s:f}", "board", r->params[0], "member", m,
                                       "rank", (json_int_t)(rank + 1), "score", score));
}

bool kura_http_mount_rankings(kura_http *srv, const char *path, kura_error *err)
{
    if (!srv)
        return kura_fail(err, KURA_INVALID, NULL, "no server");
    if (!path)
        path = "/rankings";
    if (!http_path_ok(path))
        return kura_fail(err, KURA_INVALID, NULL, "'%.64s' is not a path for rankings", path);
    kura_kv *kv = kura_app_kv(srv->app);
    if (!kv)
        return kura_fail(err, KURA_CONFIG, NULL, "rankings need the app's key-value store");
    const char *board = http_own_path(srv, path, "/{board}", err);
    const char *member = board ? http_own_path(srv, path, "/{board}/{member}", err) : NULL;
    return member &&
           http_route_add(srv,
                          &(http_route){.pattern = board,
                                        .methods = {[HTTP_GET] = get_top, [HTTP_POST] = post_score},
                                        .query = {[HTTP_GET] = "limit"},
                                        .summary = "A ranking: POST {member, score} sets a score "
                                                   "or {member, increment} adds to it; GET the "
                                                   "top `limit` (default 10) with their ranks",
                                        .ctx = kv,
                                        .protect = true,
                                        .body = true},
                          err) &&
           http_route_add(srv,
                          &(http_route){.pattern = member,
                                        .methods = {[HTTP_GET] = get_member},
                                        .summary = "One member's rank and score",
                                        .ctx = kv},
                          err);
}
