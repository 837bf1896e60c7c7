/*
 * routes.c — what the blog serves: the two collections as kura mounts them,
 * and one route of its own that joins them, /posts/{id}/comments.
 */
#include <stdio.h>
#include <string.h>

#include "blog.h"

/* Finds the post of the route's {id}; on false an answer (404, 400, 503) went out. */
static bool post_exists(kura_http_req *req, const char *id)
{
    kura_app *app = kura_http_app(req);
    kura_error err = {0};
    post p;
    kura_init(&post_model, &p);
    bool ok = kura_get_key(kura_app_model_store(app, &post_model), &post_model, id, &p, &err);
    kura_clear(&post_model, &p);
    if (!ok)
        kura_http_problem_error(req, &err);
    return ok;
}

/* GET /posts/{id}/comments: the post's comments, oldest first. */
static void list_comments(kura_http_req *req, void *ctx)
{
    (void)ctx;
    const char *id = kura_http_param(req, 0);
    if (!post_exists(req, id))
        return;
    kura_query q = kura_query_for(&comment_model);
    kura_where_str(&q, "post", KURA_EQ, id);
    kura_order_by(&q, "created_at", false);
    kura_limit(&q, 200);
    kura_rows rows = {0};
    kura_error err = {0};
    kura_store *docs = kura_app_model_store(kura_http_app(req), &comment_model);
    if (!kura_find(docs, &q, &rows, &err)) {
        kura_http_problem_error(req, &err);
        return;
    }
    json_t *items = json_array();
    for (size_t i = 0; items && i < rows.count; i++)
        json_array_append_new(items, kura_to_json(&comment_model, kura_row(&rows, i)));
    kura_rows_free(&rows);
    kura_http_respond_json(req, 200, json_pack("{s:o}", "items", items));
}

/* POST /posts/{id}/comments {"author": ..., "body": ...}: adds a comment to the post. */
static void add_comment(kura_http_req *req, void *ctx)
{
    (void)ctx;
    const char *id = kura_http_param(req, 0);
    json_t *body = kura_http_body_json(req);
    if (!body)
        return;
    if (!post_exists(req, id)) {
        json_decref(body);
        return;
    }
    comment c;
    kura_init(&comment_model, &c);
    kura_error err = {0};
    /* Only author and body come from the client: the post is the route's. */
    bool ok = kura_from_json(&comment_model, body, &c, false, &err);
    json_decref(body);
    if (ok && (c.base.key[0] || c.post[0]))
        ok = kura_fail(&err, KURA_INVALID, NULL, "send author and body only");
    if (ok) {
        snprintf(c.post, sizeof c.post, "%s", id);
        ok = kura_insert(kura_app_model_store(kura_http_app(req), &comment_model), &comment_model,
                         &c, &err);
    }
    if (ok) {
        char where[KURA_KEY_BYTES + 16];
        snprintf(where, sizeof where, "/comments/%s", c.base.key);
        kura_http_add_header(req, "Location", where);
        kura_http_respond_json(req, 201, kura_to_json(&comment_model, &c));
    } else {
        kura_http_problem_error(req, &err);
    }
    kura_clear(&comment_model, &c);
}

bool blog_mount(kura_http *srv, kura_app *app, void *ctx, kura_error *err)
{
    (void)app;
    (void)ctx;
    return kura_http_mount(srv, "/posts", "post", err) &&
           kura_http_mount(srv, "/comments", "comment", err) &&
           kura_http_handle(srv, "GET", "/posts/{id}/comments", list_comments, NULL, 0, err) &&
           kura_http_handle(srv, "POST", "/posts/{id}/comments", add_comment, NULL, 0, err) &&
           kura_http_mount_health(srv, NULL, err) && kura_http_mount_openapi(srv, NULL, err);
}
