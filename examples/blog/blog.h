/*
 * blog.h — a small blog on kura: posts in SQL (a UUID key, tags, a JSON
 * field, a date) and their comments in the document store (ObjectId keys).
 * An example of an app that is not the guide's, built against the installed
 * library with `pkg-config kura-http`.
 */
#ifndef BLOG_H
#define BLOG_H

#include <kura/cli.h>
#include <kura/kura.h>

typedef struct post {
    kura_base base; /* base.key: the post's UUID */
    char title[KURA_STRING_BYTES(200)];
    char slug[KURA_STRING_BYTES(100)];
    char *body;     /* owned (kura_clear) */
    kura_tags tags; /* "c", "databases", ... */
    char *meta;     /* any JSON: {"cover": "...", "reading_minutes": 4} */
    bool published;
    char published_on[KURA_DATE_BYTES]; /* "YYYY-MM-DD", "" until published */
} post;

typedef struct comment {
    kura_base base;             /* base.key: an ObjectId */
    char post[KURA_UUID_BYTES]; /* the post's key */
    char author[KURA_STRING_BYTES(64)];
    char *body; /* owned (kura_clear) */
} comment;

extern const kura_model post_model;
extern const kura_model comment_model;

/* kura_program.setup: posts in SQL, comments in the documents. */
bool blog_setup(kura_app *app, void *ctx, kura_error *err);

/* kura_program.mount: /posts and /comments as collections,
 * /posts/{id}/comments (GET lists a post's comments, POST adds one), /health. */
bool blog_mount(kura_http *srv, kura_app *app, void *ctx, kura_error *err);

#endif
