/*
 * models.c — the blog's models, declared once: the descriptors drive the
 * tables, the documents, JSON, validation and the HTTP collections.
 */
#include "blog.h"

const kura_model post_model =
    KURA_MODEL_KEYED(post, "post", KURA_KEY_UUID, KURA_STRING(post, title, 200, .required = true),
                     KURA_STRING(post, slug, 100, .required = true, .unique = true),
                     KURA_TEXT(post, body), KURA_TAGS(post, tags), KURA_JSON(post, meta),
                     KURA_BOOL(post, published, .index = true), KURA_DATE(post, published_on));

const kura_model comment_model = KURA_MODEL_KEYED(
    comment, "comment", KURA_KEY_OBJECTID,
    /* The post's key. Documents enforce no reference, so the route checks the
     * post exists (routes.c); it still names the post in /openapi.json and
     * links to it in the admin. */
    KURA_UUID(comment, post, .required = true, .index = true, .references = &post_model),
    KURA_STRING(comment, author, 64, .required = true), KURA_TEXT(comment, body, .required = true));

bool blog_setup(kura_app *app, void *ctx, kura_error *err)
{
    (void)ctx;
    return kura_app_register(app, &post_model, KURA_IN_SQL, err) &&
           kura_app_register(app, &comment_model, KURA_IN_DOCUMENTS, err);
}
